"""§5.3 kept rate / recall rate: how much of a candidate's edit survives in the reference.

``compute_kept_rate(base, candidate, reference)``; offline ``(original, actual, expected)``,
online ``(region_before_prediction, predicted_region, settled_region)``. All sizes are **UTF-8
bytes**. Texts are split into comparison units (identifier runs whole, other §5.3 tokens alone,
:func:`nextedit.text.tokenize.comparison_units`) and compared with LCS masks
(:func:`nextedit.metrics.lcs.lcs_masks`, the §5.3 tie-breaking) — no line diff is involved.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from nextedit.metrics.lcs import lcs_masks
from nextedit.text.tokenize import comparison_units

DIRTY_FINAL_LIMIT = 512  # bytes, §5.3 step 2


@dataclass(frozen=True)
class KeptRate:
    """All §5.3 counts (bytes) and the two rates (0–1)."""

    candidate_new_chars: int = 0
    reference_new_chars: int = 0
    candidate_deleted_chars: int = 0
    reference_deleted_chars: int = 0
    kept_chars: int = 0
    correctly_deleted_chars: int = 0
    discarded_chars: int = 0
    context_chars: int = 0
    kept_rate: float = 0.0
    recall_rate: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)

    def to_edit_bytes(self) -> dict:
        """The flattened ``edit_bytes_*`` fields of §6.2 ``SettledEditPrediction``."""
        return {
            "edit_bytes_candidate_new": self.candidate_new_chars,
            "edit_bytes_reference_new": self.reference_new_chars,
            "edit_bytes_candidate_deleted": self.candidate_deleted_chars,
            "edit_bytes_reference_deleted": self.reference_deleted_chars,
            "edit_bytes_kept": self.kept_chars,
            "edit_bytes_correctly_deleted": self.correctly_deleted_chars,
            "edit_bytes_discarded": self.discarded_chars,
            "edit_bytes_context": self.context_chars,
            "edit_bytes_kept_rate": self.kept_rate,
            "edit_bytes_recall_rate": self.recall_rate,
        }


def _nbytes(units: list[str], mask: list[bool], want: bool) -> int:
    return sum(len(u.encode()) for u, m in zip(units, mask, strict=True) if m == want)


def compute_kept_rate(base: str, candidate: str, reference: str) -> KeptRate:
    """Kept rate of ``base → candidate`` judged against ``base → reference`` (§5.3)."""
    if base == candidate == reference:
        return KeptRate(context_chars=len(candidate.encode()), kept_rate=1.0, recall_rate=1.0)
    lb, lc, lr = len(base.encode()), len(candidate.encode()), len(reference.encode())
    if abs(abs(lc - lb) - abs(lr - lb)) > DIRTY_FINAL_LIMIT:
        cand_new = abs(lc - lb)
        return KeptRate(candidate_new_chars=cand_new, reference_new_chars=abs(lr - lb), discarded_chars=cand_new)

    base_u, cand_u, ref_u = comparison_units(base), comparison_units(candidate), comparison_units(reference)
    cand_vs_base, base_vs_cand = lcs_masks(cand_u, base_u)
    ref_vs_base, base_vs_ref = lcs_masks(ref_u, base_u)

    candidate_new = _nbytes(cand_u, cand_vs_base, False)
    context = _nbytes(cand_u, cand_vs_base, True)
    reference_new = _nbytes(ref_u, ref_vs_base, False)

    cand_new_units = [u for u, m in zip(cand_u, cand_vs_base, strict=True) if not m]
    ref_new_units = [u for u, m in zip(ref_u, ref_vs_base, strict=True) if not m]
    kept_mask, _ = lcs_masks(cand_new_units, ref_new_units)
    kept = _nbytes(cand_new_units, kept_mask, True)

    candidate_deleted = _nbytes(base_u, base_vs_cand, False)
    reference_deleted = _nbytes(base_u, base_vs_ref, False)
    correctly_deleted = sum(
        len(u.encode()) for u, c, r in zip(base_u, base_vs_cand, base_vs_ref, strict=True) if not c and not r
    )

    cand_total = candidate_new + candidate_deleted
    ref_total = reference_new + reference_deleted
    if cand_total:
        kept_rate = (kept + correctly_deleted) / cand_total
    else:
        kept_rate = 1.0 if ref_total == 0 else 0.0
    if ref_total:
        recall_rate = (kept + correctly_deleted) / ref_total
    else:
        recall_rate = 1.0 if cand_total == 0 else 0.0
    return KeptRate(
        candidate_new_chars=candidate_new,
        reference_new_chars=reference_new,
        candidate_deleted_chars=candidate_deleted,
        reference_deleted_chars=reference_deleted,
        kept_chars=kept,
        correctly_deleted_chars=correctly_deleted,
        discarded_chars=candidate_new - kept,
        context_chars=context,
        kept_rate=kept_rate,
        recall_rate=recall_rate,
    )
