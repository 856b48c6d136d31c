"""Typed server errors and their HTTP mapping, in one place.

Every failure a handler can meet is one of these classes; :func:`error_response` turns it into a
JSON body ``{"error": {"type", "message"}}`` (OpenAI's error shape) with the right status code and
headers (``Retry-After`` for 408/429). Malformed input is always a 4xx that says what is wrong.
"""

from __future__ import annotations

from typing import Any


class ServerError(Exception):
    """Base class: ``status`` is the HTTP status, ``kind`` a stable machine-readable name."""

    status: int = 500
    kind: str = "internal_error"

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


class BadRequest(ServerError):
    """Malformed body: bad JSON, invalid UTF-8, bad zstd, wrong types, offsets outside the excerpt."""

    status, kind = 400, "invalid_request"


class Unauthorized(ServerError):
    status, kind = 401, "unauthorized"

    def __init__(self, message: str = "missing or invalid bearer token"):
        super().__init__(message, headers={"WWW-Authenticate": "Bearer"})


class NotFound(ServerError):
    status, kind = 404, "not_found"


class PayloadTooLarge(ServerError):
    status, kind = 413, "payload_too_large"


class UnsupportedMediaType(ServerError):
    status, kind = 415, "unsupported_media_type"


class UnprocessableEntity(ServerError):
    """Well-formed JSON that does not describe a valid request (schema or offsets)."""

    status, kind = 422, "invalid_request"


class Canceled(ServerError):
    """A newer request from the same client superseded this one (Zed's ``Canceled``)."""

    status, kind = 409, "canceled"


class DeadlineExceeded(ServerError):
    """The request's deadline passed while queued or running (Zed backs off on 408)."""

    status, kind = 408, "deadline_exceeded"


class Overloaded(ServerError):
    """The model's queue is full."""

    status, kind = 429, "overloaded"


class ModelError(ServerError):
    """The model backend failed (crashed, unreachable remote)."""

    status, kind = 502, "model_error"


class Unavailable(ServerError):
    status, kind = 503, "unavailable"


def error_response(err: ServerError, *, model_version: str | None = None):  # noqa: ANN201
    """A Starlette JSONResponse for ``err`` (imported lazily: this module stays dependency-free)."""
    from starlette.responses import JSONResponse

    body = err.body()
    headers = err.response_headers()
    if model_version:
        body["model_version"] = model_version
        headers["x-nextedit-model-version"] = model_version
    return JSONResponse(body, status_code=err.status, headers=headers)
