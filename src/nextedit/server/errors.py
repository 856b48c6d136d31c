"""Typed server errors and their HTTP mapping, in one place.

Every failure a handler can meet is one of these classes; :func:`error_response` turns it into a
JSON body ``{"error": {"type", "message"}}`` (OpenAI's error shape) with the right status code and
headers (``Retry-After`` for 408/429). Malformed input is always a 4xx that says what is wrong.
"""

from __future__ import annotations

from typing import Any


class ServerError(Exception):
    """Base class: ``status`` is the HTTP status, ``kind`` a stable machine-readable name. Each
    subclass names both in its class line: ``class NotFound(ServerError, status=404, kind="not_found")``."""

    status: int = 500
    kind: str = "internal_error"

    def __init_subclass__(cls, *, status: int, kind: str, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        cls.status, cls.kind = status, kind

    def __init__(
        self, message: str, *, retry_after: float | None = None, headers: dict[str, str] | None = None
    ):
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after
        self.headers = dict(headers or {})

    def response_headers(self) -> dict[str, str]:
        out = dict(self.headers)
        if self.retry_after is not None:
            out["Retry-After"] = str(max(1, int(round(self.retry_after + 0.499))))
        return out

    def body(self) -> dict[str, Any]:
        return {"error": {"type": self.kind, "message": self.message}}


class BadRequest(ServerError, status=400, kind="invalid_request"):
    """Malformed body: bad JSON, invalid UTF-8, bad zstd, wrong types, offsets outside the excerpt."""


class Unauthorized(ServerError, status=401, kind="unauthorized"):
    """No bearer token, or one the server does not know (``WWW-Authenticate: Bearer``)."""

    def __init__(self, message: str = "missing or invalid bearer token"):
        super().__init__(message, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(ServerError, status=403, kind="forbidden"):
    """A browser page of another origin, or a ``Host`` the server does not answer to (DNS rebinding)."""


class NotFound(ServerError, status=404, kind="not_found"):
    """The request names a model the server does not serve."""


class PayloadTooLarge(ServerError, status=413, kind="payload_too_large"):
    """The body, compressed or decompressed, is over the configured limit."""


class UnsupportedMediaType(ServerError, status=415, kind="unsupported_media_type"):
    """A ``Content-Encoding`` the endpoint does not accept, or a POST body that is not JSON."""


class UnprocessableEntity(ServerError, status=422, kind="invalid_request"):
    """Well-formed JSON that does not describe a valid request (schema or offsets)."""


class Canceled(ServerError, status=409, kind="canceled"):
    """A newer request from the same client superseded this one (Zed's ``Canceled``)."""


class DeadlineExceeded(ServerError, status=408, kind="deadline_exceeded"):
    """The request's deadline passed while queued or running (Zed backs off on 408)."""


class Overloaded(ServerError, status=429, kind="overloaded"):
    """The model's queue is full."""


class ModelError(ServerError, status=502, kind="model_error"):
    """The model backend failed (crashed, unreachable remote)."""


class Unavailable(ServerError, status=503, kind="unavailable"):
    """The server cannot answer now (shutting down, a model being unloaded); retry later."""


def error_response(err: ServerError, *, model_version: str | None = None):  # noqa: ANN201
    """A Starlette JSONResponse for ``err`` (imported lazily: this module stays dependency-free)."""
    from starlette.responses import JSONResponse

    body = err.body()
    headers = err.response_headers()
    if model_version:
        body["model_version"] = model_version
        headers["x-nextedit-model-version"] = model_version
    return JSONResponse(body, status_code=err.status, headers=headers)
