"""The one registry of prompt formats: ``get_format(name)`` with Zed's names and aliases."""

from __future__ import annotations

from functools import cache

from nextedit.prompts.base import PromptFormat
from nextedit.prompts.teacher import TeacherFormat
from nextedit.prompts.zeta1 import Zeta1Format
from nextedit.prompts.zeta2 import Zeta2Format
from nextedit.prompts.zeta2_1 import Zeta2_1Format

#: the format every command, provider and server model uses unless told otherwise
DEFAULT_FORMAT = "zeta2_1"

FORMATS: dict[str, type[PromptFormat]] = {
    "zeta1": Zeta1Format,
    "zeta2": Zeta2Format,
    "zeta2_1": Zeta2_1Format,
    "teacher": TeacherFormat,
}
#: alias (compared case-insensitively) → canonical name
ALIASES: dict[str, str] = {
    "zeta": "zeta1",
    "zeta1": "zeta1",
    "zeta2": "zeta2",
    "v0211seedcoder": "zeta2",
    "v0331seedcodermodelpy": "zeta2",
    "zeta2_1": "zeta2_1",
    "zeta2.1": "zeta2_1",
    "v0318seedmultiregions": "zeta2_1",
    "teacher": "teacher",
    "v0131gitmergemarkersprefix": "teacher",
}


def format_names() -> list[str]:
    return list(FORMATS)


@cache
def _instance(name: str) -> PromptFormat:
    return FORMATS[name]()


def get_format(name: str | PromptFormat) -> PromptFormat:
    """The format for a name or alias (``zeta``/``zeta1``, ``zeta2``/``Zeta2``/``V0211SeedCoder``,
    ``zeta2_1``/``Zeta2.1``/``V0318SeedMultiRegions``, ``teacher``), or a provider string such as
    ``zeta2:V0318SeedMultiRegions`` / ``teacher:sonnet45:V0131GitMergeMarkersPrefix``."""
    if isinstance(name, PromptFormat):
        return name
    key = name.strip().lower()
    if key in ALIASES:
        return _instance(ALIASES[key])
    found = format_for_provider(name)
    if found is None:
        raise ValueError(f"unknown prompt format {name!r}; known: {', '.join(sorted(set(ALIASES)))}")
    return found


def format_for_provider(provider: str | None) -> PromptFormat | None:
    """The format a provider string implies (``zeta1``, ``zeta2:<ZetaFormat>``,
    ``teacher[:backend][:fmt]``, ``baseten:<fmt>``, ``local:…``), or None if it names none."""
    if not provider:
        return None
    parts = [p.strip().lower() for p in provider.split(":")]
    if parts[0].startswith("teacher"):
        return _instance("teacher")
    for p in reversed(parts):
        if p in ALIASES:
            return _instance(ALIASES[p])
    return None
