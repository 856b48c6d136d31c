"""Text utilities: the §5.3 tokenizer, histogram diffs, unified-diff writer, tolerant patch parse/apply.

Public API (see each module for contracts and units):
  tokenize.tokenize, tokenize.comparison_units
  diff.line_diff, diff.unified_diff, diff.region_patch, diff.granular_edits, diff.apply_edits,
  diff.DiffHunk, diff.TextEdit, diff.split_lines
  histogram.diff_sequences
  lines.line_starts
  patch.parse_patch, patch.apply_patch, patch.apply_patch_with_cursor, patch.strip_cursor,
  patch.is_empty_patch, patch.patch_files, patch.paths_match, patch.PatchError, patch.Patch
Speed check: ``nextedit bench text``.
"""

from nextedit.text.diff import (
    CURSOR_MARKER,
    DiffHunk,
    TextEdit,
    apply_edits,
    granular_edits,
    line_diff,
    region_patch,
    split_lines,
    unified_diff,
)
from nextedit.text.histogram import diff_sequences
from nextedit.text.patch import (
    FilePatch,
    Hunk,
    HunkLine,
    Patch,
    PatchCursor,
    PatchError,
    apply_patch,
    apply_patch_with_cursor,
    is_empty_patch,
    parse_patch,
    patch_files,
    paths_match,
    strip_cursor,
)
from nextedit.text.tokenize import comparison_units, tokenize

__all__ = [
    "CURSOR_MARKER",
    "DiffHunk",
    "FilePatch",
    "Hunk",
    "HunkLine",
    "Patch",
    "PatchCursor",
    "PatchError",
    "TextEdit",
    "apply_edits",
    "apply_patch",
    "apply_patch_with_cursor",
    "comparison_units",
    "diff_sequences",
    "granular_edits",
    "is_empty_patch",
    "line_diff",
    "parse_patch",
    "patch_files",
    "paths_match",
    "region_patch",
    "split_lines",
    "strip_cursor",
    "tokenize",
    "unified_diff",
]
