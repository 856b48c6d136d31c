"""HTTP plumbing shared by the protocol adapters: bounded body reading (plain, zstd or gzip),
strict UTF-8 and JSON decoding with messages that say what is wrong, pydantic validation into
4xx errors, the client key, and two pure ASGI middlewares: the bearer-token check and the guard
against cross-site requests and DNS rebinding (Host, Origin, JSON-only bodies)."""

from __future__ import annotations

import gzip
import hmac
import io
import ipaddress
import json
import math
import socket
import zlib
from typing import Any, TypeVar

import zstandard
from pydantic import BaseModel, ValidationError
from starlette.requests import ClientDisconnect, Request

from nextedit.server.errors import (
    BadRequest,
    Canceled,
    Forbidden,
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


#: deepest JSON nesting accepted (Zed's bodies are under 10 levels; deeper input is an attack)
MAX_JSON_DEPTH = 64


class _LongInt:
    """Stand-in for an integer literal longer than Python converts (``sys.get_int_max_str_digits``),
    so that the field holding it can be named instead of failing the whole parse."""

    def __init__(self, digits: int) -> None:
        self.digits = digits


class _IntParser:
    """``json.loads``'s ``parse_int``: integers longer than 4,000 digits (below Python's 4,300-digit
    conversion limit) become :class:`_LongInt` and ``seen_long`` records that one was met."""

    def __init__(self) -> None:
        self.seen_long = False

    def __call__(self, literal: str) -> int | _LongInt:
        if len(literal) > 4000:
            self.seen_long = True
            return _LongInt(len(literal.lstrip("-")))
        return int(literal)


class _NonFinite(ValueError):
    """A number JSON cannot carry (NaN, ±Infinity, or a literal that overflows a float)."""


def _parse_float(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):  # 1e999 overflows to inf
        raise _NonFinite(literal)
    return value


def _parse_constant(literal: str) -> float:
    raise _NonFinite(literal)  # NaN, Infinity, -Infinity: not JSON (RFC 8259)


def decode_json(body: bytes) -> dict[str, Any]:
    """Strict UTF-8 + JSON object; 400 naming the byte/line/column or the field of the problem.

    Beyond :func:`json.loads`: NaN/Infinity and numbers that overflow a float are rejected (they are
    not JSON), as are integer literals of more than 4,000 digits, nesting deeper than
    :data:`MAX_JSON_DEPTH` and unpaired UTF-16 surrogate escapes (not UTF-8 text) at any depth."""
    if not body:
        raise BadRequest("empty request body (expected a JSON object)")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as e:
        raise BadRequest(f"body is not valid UTF-8 (byte {e.start}: {e.reason})") from None
    ints = _IntParser()
    try:
        data = json.loads(text, parse_int=ints, parse_float=_parse_float, parse_constant=_parse_constant)
    except json.JSONDecodeError as e:
        raise BadRequest(f"body is not valid JSON: {e.msg} at line {e.lineno} column {e.colno}") from None
    except _NonFinite as e:
        raise BadRequest(f"body is not valid JSON: {e} is not a finite number") from None
    except RecursionError:
        raise BadRequest("body is not valid JSON: nested too deeply") from None
    except ValueError as e:  # any other conversion limit of the json module
        raise BadRequest(f"body is not valid JSON: {e}") from None
    if not isinstance(data, dict):
        raise BadRequest(f"body must be a JSON object, got {type(data).__name__}")
    # the walk is skipped (C-speed checks on the raw body) when nothing can be wrong
    surrogates = b"\\ud" in body or b"\\uD" in body
    if surrogates or ints.seen_long or body.count(b"[") + body.count(b"{") > MAX_JSON_DEPTH:
        _check_values(data, strings=surrogates)
    return data


def _check_values(data: dict[str, Any], *, strings: bool) -> None:
    """Walk the decoded body iteratively (no depth limit of its own) for what JSON let through:
    nesting deeper than :data:`MAX_JSON_DEPTH`, too-long integers and (``strings``) surrogates."""
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(data, ())]
    while stack:
        container, path = stack.pop()
        if len(path) >= MAX_JSON_DEPTH:
            raise BadRequest(f"{_field(path)}: nested deeper than {MAX_JSON_DEPTH} levels")
        items = container.items() if isinstance(container, dict) else enumerate(container)
        for k, v in items:
            if strings and isinstance(k, str) and not _is_utf8(k):
                raise BadRequest(f"{_field(path)}: key with an unpaired UTF-16 surrogate escape")
            if isinstance(v, dict | list):
                stack.append((v, (*path, k)))
            elif isinstance(v, _LongInt):
                raise BadRequest(f"{_field((*path, k))}: integer literal of {v.digits} digits is too long")
            elif strings and isinstance(v, str) and not _is_utf8(v):
                raise BadRequest(
                    f"{_field((*path, k))}: unpaired UTF-16 surrogate escape (not valid UTF-8 text)"
                )


def _is_utf8(s: str) -> bool:
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _field(path: tuple[str | int, ...]) -> str:
    """``events.0.diff`` (pydantic's spelling of a location), ``(body)`` for the top level; a key
    longer than 40 characters is cut (the message stays one short line)."""
    return ".".join(p if len(p := str(k)) <= 40 else p[:37] + "..." for k in path) or "(body)"


def validate(model: type[M], data: dict[str, Any], what: str) -> M:
    """Pydantic validation → 422 listing the first problems as ``field.path: message``."""
    try:
        return model.model_validate(data)
    except ValidationError as e:
        problems = []
        for err in e.errors()[:5]:
            problems.append(f"{_field(err['loc'])}: {err['msg']}")
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


def bearer_ok(header: str, tokens: tuple[str, ...]) -> bool:
    """True when the ``Authorization`` header value is ``Bearer <one of tokens>`` (compared in
    constant time); False without tokens."""
    scheme, _, value = header.partition(" ")
    return scheme.lower() == "bearer" and any(
        hmac.compare_digest(value.strip().encode(), t.encode()) for t in tokens
    )


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
        header = dict(scope.get("headers") or []).get(b"authorization", b"").decode("latin-1")
        if tokens and not bearer_ok(header, tokens):
            err: ServerError = Unauthorized()
            return await error_response(err)(scope, receive, send)
        return await self.app(scope, receive, send)


#: request bodies a cross-site page can send without a CORS preflight are never JSON-typed
JSON_TYPES = ("application/json",)
#: request headers an allowed browser origin may send (the answer to its CORS preflight)
CORS_HEADERS = ", ".join(
    ["authorization", "content-type", "content-encoding", "x-nextedit-deadline-ms", "x-zed-preferred-experiment",
     "x-client-id"]
)  # fmt: skip
LOCAL_NAMES = ("localhost",)


class RequestGuard:
    """ASGI middleware against cross-site request forgery and DNS rebinding, for a server that
    is often run on loopback without a token. ``config`` is a callable returning the current
    :class:`~nextedit.server.config.ServerConfig` (reloadable); every refusal is one JSON error.

    * ``Host`` (403): an IP literal, ``localhost`` (or ``*.localhost``), this machine's host name
      (or ``<name>.local``), or a name in ``[server] allowed_hosts`` (``"*"`` = any). A rebinding
      page reaches the server under its own domain name, so it is refused. With bearer tokens
      configured and no ``allowed_hosts``, any Host is answered (a page cannot get past the token).
    * ``Origin`` (403): a request a browser marks with an Origin is refused unless the origin is in
      ``[server] allowed_origins`` (``"*"`` = any); editors, curl and SDKs send none. An allowed
      origin gets CORS: its preflight (``OPTIONS``) is answered 204 and every answer carries
      ``Access-Control-Allow-Origin``, so its page can POST JSON and read the answer.
    * POST, PUT, PATCH, DELETE with a body or a ``Content-Type`` (415): the type must be
      ``application/json`` (or ``*+json``), or the body compressed (``Content-Encoding: zstd`` or
      ``gzip``, with the type absent or JSON). The ``text/plain``, form and untyped bodies that a
      page can POST without a preflight are refused before the handler reads them.
    """

    def __init__(self, app: Any, config: Any) -> None:
        self.app = app
        self.config = config
        host = socket.gethostname().lower()
        self.hostnames = {host, f"{host}.local"}  # and its mDNS name: both resolved on the LAN only

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        err = self.refusal(scope)
        if err is not None:
            return await error_response(err)(scope, receive, send)
        origin = next((v for k, v in scope.get("headers") or [] if k == b"origin"), None)
        if origin is None:
            return await self.app(scope, receive, send)
        # an allowed browser origin: CORS, so that its page may send JSON and read the answer
        cors = [(b"access-control-allow-origin", origin), (b"vary", b"Origin")]
        if scope["method"] == "OPTIONS":  # the preflight of a JSON POST
            cors += [
                (b"access-control-allow-methods", b"GET, POST"),
                (b"access-control-allow-headers", CORS_HEADERS.encode()),
                (b"access-control-max-age", b"600"),
            ]
            await send({"type": "http.response.start", "status": 204, "headers": cors})
            return await send({"type": "http.response.body", "body": b""})

        async def send_with_cors(message: dict) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *cors]}
            await send(message)

        return await self.app(scope, receive, send_with_cors)

    def refusal(self, scope: dict) -> ServerError | None:
        """The error to answer ``scope`` with, or None to let it through."""
        cfg = self.config()
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers") or []}
        host = headers.get("host")
        if host is not None and not self.host_allowed(host, cfg):
            return Forbidden(
                f"Host {host[:80]!r} is not allowed (serving under that name needs [server] allowed_hosts)"
            )
        origin = headers.get("origin")
        if origin is not None and not _origin_allowed(origin, cfg.allowed_origins):
            return Forbidden(
                f"Origin {origin[:80]!r} is not allowed (browser pages need [server] allowed_origins)"
            )
        if scope["method"] in ("POST", "PUT", "PATCH", "DELETE"):
            ctype = headers.get("content-type", "").partition(";")[0].strip().lower()
            has_body = headers.get("content-length", "0").strip() != "0" or "transfer-encoding" in headers
            if (has_body or ctype) and not _json_body(ctype, headers.get("content-encoding", "")):
                shown = repr(ctype) if ctype else "none"
                return UnsupportedMediaType(
                    f"request body must be JSON: Content-Type {shown} (send Content-Type: application/json)"
                )
        return None

    def host_allowed(self, host: str, cfg: Any) -> bool:
        allowed = {h.lower().rstrip(".") for h in cfg.allowed_hosts}
        if "*" in allowed or (cfg.auth_tokens and not allowed):
            return True
        name = _host_name(host)
        if name in allowed or name in LOCAL_NAMES or name.endswith(".localhost") or name in self.hostnames:
            return True
        try:
            ipaddress.ip_address(name)
        except ValueError:
            return False
        return True


def _host_name(host: str) -> str:
    """``[::1]:8000`` → ``::1``, ``Example.COM.:80`` → ``example.com``."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    name, _, _port = host.partition(":")
    return name.rstrip(".")


def _origin_allowed(origin: str, allowed: tuple[str, ...]) -> bool:
    return "*" in allowed or origin.rstrip("/").lower() in {o.rstrip("/").lower() for o in allowed}


def _json_body(ctype: str, encoding: str) -> bool:
    if ctype in JSON_TYPES or (ctype.startswith("application/") and ctype.endswith("+json")):
        return True
    return not ctype and encoding.strip().lower() in ("zstd", "gzip", "deflate")
