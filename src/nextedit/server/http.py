"""HTTP plumbing shared by the protocol adapters: bounded body reading (plain, zstd or gzip),
strict UTF-8 and JSON decoding with messages that say what is wrong, pydantic validation into
4xx errors, the client key, and the bearer-token check (a pure ASGI middleware)."""

from __future__ import annotations

import gzip
import hmac
import io
import json
import zlib
from typing import Any, TypeVar

import zstandard
from pydantic import BaseModel, ValidationError
from starlette.requests import ClientDisconnect, Request

from nextedit.server.errors import (
    BadRequest,
    Canceled,
    PayloadTooLarge,
    ServerError,
    Unauthorized,
    UnprocessableEntity,
    UnsupportedMediaType,
    error_response,
)

M = TypeVar("M", bound=BaseModel)

CLIENT_HEADERS = ("x-nextedit-client-id", "x-client-id", "x-zed-device-id", "x-device-id")


async def read_body(
    request: Request, *, max_bytes: int, max_decompressed: int, allow_compressed: bool = True
) -> bytes:
    """The request body, decompressed; 413 past the limits, 415/400 for bad encodings."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > max_bytes:
                raise PayloadTooLarge(
                    f"request body of {int(declared)} bytes exceeds the limit of {max_bytes} bytes"
                )
        except ValueError:
            raise BadRequest(f"invalid Content-Length header {declared!r}") from None
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > max_bytes:
                raise PayloadTooLarge(f"request body exceeds the limit of {max_bytes} bytes")
            chunks.append(chunk)
    except ClientDisconnect:
        raise Canceled("client disconnected before sending the whole body") from None
    body = b"".join(chunks)
    encoding = request.headers.get("content-encoding", "").strip().lower()
    if encoding in ("", "identity"):
        return body
    if not allow_compressed:
        raise UnsupportedMediaType(f"Content-Encoding {encoding!r} is not accepted on this endpoint")
    if encoding == "zstd":
        try:
            reader = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(body))
            out = reader.read(max_decompressed + 1)
        except zstandard.ZstdError as e:
            raise BadRequest(f"body is not valid zstd data: {e}") from None
    elif encoding in ("gzip", "deflate"):
        try:
            d = zlib.decompressobj(16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS)
            out = d.decompress(body, max_decompressed + 1)
        except (zlib.error, gzip.BadGzipFile) as e:
            raise BadRequest(f"body is not valid {encoding} data: {e}") from None
    else:
        raise UnsupportedMediaType(f"unsupported Content-Encoding {encoding!r} (use zstd, gzip or none)")
    if len(out) > max_decompressed:
        raise PayloadTooLarge(f"decompressed body exceeds the limit of {max_decompressed} bytes")
    return out


def decode_json(body: bytes) -> dict[str, Any]:
    """Strict UTF-8 + JSON object; 400 naming the byte/line/column of the problem."""
    if not body:
        raise BadRequest("empty request body (expected a JSON object)")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as e:
        raise BadRequest(f"body is not valid UTF-8 (byte {e.start}: {e.reason})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise BadRequest(f"body is not valid JSON: {e.msg} at line {e.lineno} column {e.colno}") from None
    except RecursionError:
        raise BadRequest("body is not valid JSON: nested too deeply") from None
    if not isinstance(data, dict):
        raise BadRequest(f"body must be a JSON object, got {type(data).__name__}")
    if (b"\\ud" in body or b"\\uD" in body) and _has_lone_surrogate(data):
        raise BadRequest("body contains an unpaired UTF-16 surrogate escape (not valid UTF-8 text)")
    return data


def _has_lone_surrogate(value: Any, depth: int = 0) -> bool:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if depth > 64:
        return False
    if isinstance(value, dict):
        return any(
            _has_lone_surrogate(k, depth + 1) or _has_lone_surrogate(v, depth + 1) for k, v in value.items()
        )
    if isinstance(value, list):
        return any(_has_lone_surrogate(v, depth + 1) for v in value)
    return False


def validate(model: type[M], data: dict[str, Any], what: str) -> M:
    """Pydantic validation → 422 listing the first problems as ``field.path: message``."""
    try:
        return model.model_validate(data)
    except ValidationError as e:
        problems = []
        for err in e.errors()[:5]:
            loc = ".".join(str(p) for p in err["loc"]) or "(body)"
            problems.append(f"{loc}: {err['msg']}")
        more = f" (+{e.error_count() - 5} more)" if e.error_count() > 5 else ""
        raise UnprocessableEntity(f"invalid {what}: " + "; ".join(problems) + more) from None


def client_key(request: Request) -> str:
    """Who is asking: an explicit client/device header, else the bearer token, else the IP."""
    for h in CLIENT_HEADERS:
        v = request.headers.get(h)
        if v:
            return f"id:{v}"
    auth = request.headers.get("authorization")
    if auth:
        return f"token:{auth}"
    host = request.client.host if request.client else "unknown"
    return f"ip:{host}"


class BearerAuth:
    """ASGI middleware: require ``Authorization: Bearer <token>`` (except on open paths)."""

    def __init__(self, app: Any, tokens: Any, open_paths: tuple[str, ...] = ("/healthz",)) -> None:
        self.app = app
        self.tokens = tokens  # a callable returning the current tuple of tokens (reloadable)
        self.open_paths = open_paths

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] in self.open_paths:
            return await self.app(scope, receive, send)
        tokens = self.tokens()
        if tokens:
            header = dict(scope.get("headers") or []).get(b"authorization", b"").decode("latin-1")
            scheme, _, value = header.partition(" ")
            ok = scheme.lower() == "bearer" and any(
                hmac.compare_digest(value.strip().encode(), t.encode()) for t in tokens
            )
            if not ok:
                err: ServerError = Unauthorized()
                return await error_response(err)(scope, receive, send)
        return await self.app(scope, receive, send)
