"""Prompt formats (zeta.md §2): build prompts from requests, parse model output, encode SFT targets.

from nextedit.prompts import get_format
fmt = get_format("zeta2_1")
fp = fmt.format_prompt(request)            # FormattedPrompt | None (over budget)
out = fmt.parse_output(request, raw_text)  # ParsedOutput | Unparseable
"""

from nextedit.prompts.base import (
    CURSOR_MARKER,
    FormattedPrompt,
    ParsedOutput,
    PromptFormat,
    PromptParts,
    Unparseable,
)
from nextedit.prompts.registry import FORMATS, format_for_provider, format_names, get_format

__all__ = [
    "CURSOR_MARKER",
    "FORMATS",
    "FormattedPrompt",
    "ParsedOutput",
    "PromptFormat",
    "PromptParts",
    "Unparseable",
    "format_for_provider",
    "format_names",
    "get_format",
]
