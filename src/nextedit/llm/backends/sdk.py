"""What the two SDKs share: lazy import, and turning their exceptions into the client's errors.

Both SDKs raise ``APITimeoutError`` ⊂ ``APIConnectionError`` and ``APIStatusError`` (with
``status_code``, ``response.headers`` and ``body``) under the same names; :func:`translate` maps them.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

from nextedit.errors import NexteditError
from nextedit.llm.errors import LLMFatalError, RequestError, TransientError
from nextedit.llm.retry import parse_retry_after
from nextedit.llm.secrets import redact

RETRYABLE_STATUS = {408, 409, 425, 429}  # and every 5xx
FATAL_STATUS = {401, 403, 404}  # a bad key, no permission, an unknown model or a wrong URL


def import_sdk(name: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except ImportError:
        raise NexteditError(
            f"the {name} SDK is not installed: pip install 'nextedit[teacher]' (or pip install {name})"
        ) from None


def body_message(body: object, fallback: str) -> str:
    """The provider's error message from an error body (``{"error": {"message": …}}``), one line."""
    message = fallback
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            message = error["message"]
        elif isinstance(error, str):
            message = error
    return redact(" ".join(message.split()))[:300]


@contextmanager
def translating(sdk: ModuleType, backend: str, key_variable: str) -> Iterator[None]:
    """Run an SDK call, turning its exceptions into Transient/Request/Fatal errors (redacted)."""
    try:
        yield
    except sdk.APITimeoutError:
        raise TransientError("timeout", "the request timed out") from None
    except sdk.APIConnectionError as e:
        cause = e.__cause__ or e.__context__
        detail = f" ({type(cause).__name__}: {cause})" if cause else ""
        raise TransientError("connection", redact(f"connection failed{detail}")) from None
    except sdk.APIStatusError as e:
        status = e.status_code
        message = f"HTTP {status}: {body_message(e.body, e.message)}"
        if status in RETRYABLE_STATUS or status >= 500:
            raise TransientError(str(status), message, parse_retry_after(e.response.headers)) from None
        if status in FATAL_STATUS:
            hint = f" (check ${key_variable})" if status in (401, 403) else " (check the model name and URL)"
            raise LLMFatalError(f"{backend}: {message}{hint}", status) from None
        raise RequestError(message) from None
    except sdk.APIError as e:  # a response the SDK could not read (not JSON, not the expected shape)
        raise RequestError(redact(f"unreadable response: {' '.join(str(e).split())[:300]}")) from None
