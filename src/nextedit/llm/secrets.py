"""API keys: read only from the environment, and kept out of every message we write.

``ANTHROPIC_API_KEY`` (``anthropic:``), ``OPENAI_API_KEY`` (``openai:``), ``NEXTEDIT_LLM_API_KEY``
(``openai-compatible:``, optional: local servers rarely want one). Keys are never arguments, never
logged, never stored in the cache; :func:`redact` removes the known keys from any text we are about
to show (a provider's error body may quote the key it rejected).
"""

from __future__ import annotations

import os
import re

KEY_VARIABLES = ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "NEXTEDIT_LLM_API_KEY")
# Key-shaped tokens (sk-…, sk-ant-…) quoted by a provider, even when the key is not one of ours.
_KEY_SHAPED = re.compile(r"\bsk-[A-Za-z0-9_\-*]{8,}")


def api_key(variable: str) -> str | None:
    """The key in ``$variable``, or None when it is unset or empty."""
    value = os.environ.get(variable, "").strip()
    return value or None


def redact(text: str) -> str:
    """``text`` with every key from :data:`KEY_VARIABLES` (and anything shaped like a key) replaced by
    ``***``."""
    for variable in KEY_VARIABLES:
        key = api_key(variable)
        if key and len(key) >= 4:
            text = text.replace(key, "***")
    return _KEY_SHAPED.sub("***", text)
