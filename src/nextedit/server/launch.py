"""Running the app: uvicorn in the foreground (CLI) or in a background thread (tests, embedding).

The CLI binds its socket with :func:`listen` before it loads any model, so that a port already in
use is reported at once (:class:`ListenError`), then hands the socket to :func:`serve_forever`.

Both serve a nextedit app behind :class:`~nextedit.server.admission.AdmissionLimit` and with the
connection limits of its config (:func:`uvicorn_config`): h11 (not httptools, which has no header
limit) with ``max_header_bytes`` for the request line and headers (over it: 400, connection
closed), ``keep_alive_s`` for idle connections, and :class:`GuardedH11Protocol`, which closes a
connection that has not delivered a whole request (headers and body) ``read_timeout_s`` after it
opened or after its previous response (uvicorn has no read timeout: a partial header stays open).
"""

from __future__ import annotations

import errno
import logging
import socket
import sys
import threading
import time
from typing import Any

from nextedit.errors import NexteditError


class ListenError(NexteditError):
    """The server cannot listen on the address asked for (port in use, no such interface, no right)."""


def configure_logging(level: str = "info") -> None:
    """Plain messages on stderr; request lines are already one JSON object each."""
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    req = logging.getLogger("nextedit.server.requests")
    if not req.handlers:
        h = logging.StreamHandler(sys.stdout)
        h.setFormatter(logging.Formatter("%(message)s"))
        req.addHandler(h)
        req.propagate = False


def bind_socket(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A listening TCP socket on ``host:port`` (0 = a free port); raises ``OSError``."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _guarded_h11_class() -> type:
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class GuardedH11Protocol(H11Protocol):
        """uvicorn's h11 protocol plus a read timeout: a request must arrive whole (headers and
        body) within ``read_timeout_s`` of the connection opening or of the previous response."""

        read_timeout_s = 10.0

        def connection_made(self, transport: Any) -> None:  # noqa: ANN401
            super().connection_made(transport)
            self._read_timer = self.loop.call_later(self.read_timeout_s, self._read_timed_out)

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            cycle = self.cycle
            if cycle is not None and not cycle.more_body and not cycle.response_complete:
                self._disarm()  # the whole request is in: the app has it now

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._disarm()
            if not self.transport.is_closing():
                self._read_timer = self.loop.call_later(self.read_timeout_s, self._read_timed_out)

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _disarm(self) -> None:
            timer = getattr(self, "_read_timer", None)
            if timer is not None:
                timer.cancel()
                self._read_timer = None

        def _read_timed_out(self) -> None:
            self._read_timer = None
            cycle = self.cycle
            if cycle is not None and not cycle.more_body and not cycle.response_complete:
                return  # being answered
            if not self.transport.is_closing():
                self.transport.close()

    return GuardedH11Protocol


def guarded_h11(read_timeout_s: float) -> type:
    """The h11 protocol class for uvicorn's ``http=`` with this read timeout (seconds)."""
    base = _guarded_h11_class()
    return type(base.__name__, (base,), {"read_timeout_s": float(read_timeout_s)})


def uvicorn_config(app: Any, **kw: Any) -> Any:
    """``uvicorn.Config`` for ``app``: behind admission control, with the connection limits of the
    app's server config (defaults for an app without one); ``kw`` passes through."""
    import uvicorn

    from nextedit.server.admission import with_admission
    from nextedit.server.config import ServerConfig

    service = getattr(getattr(app, "state", None), "service", None)
    cfg = service.config if service is not None else ServerConfig(models={}, experiments=())
    return uvicorn.Config(
        with_admission(app),
        http=guarded_h11(cfg.read_timeout_s),
        h11_max_incomplete_event_size=cfg.max_header_bytes,
        timeout_keep_alive=cfg.keep_alive_s,
        access_log=False,
        **kw,
    )


class ServerThread:
    """uvicorn serving ``app`` on a loopback port in a daemon thread.

    with ServerThread(create_app(cfg)) as srv:
        httpx.get(srv.url + "/healthz")
    """

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0, log_level: str = "warning") -> None:
        import uvicorn

        self.sock = bind_socket(host, port)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://{host}:{self.port}"
        self.app = app
        self.server = uvicorn.Server(
            uvicorn_config(app, log_level=log_level, lifespan="on", timeout_graceful_shutdown=5)
        )
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def start(self, timeout: float = 20.0) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(15)
        self.sock.close()

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def listen(host: str, port: int) -> socket.socket:
    """:func:`bind_socket`, with the failure as a :class:`ListenError` that names the address and
    what to do (``--port``/``--host``)."""
    try:
        return bind_socket(host, port)
    except OSError as e:
        if e.errno == errno.EADDRINUSE:
            why = "the port is already in use (another server?); choose another with --port"
        elif e.errno == errno.EACCES:
            why = "permission denied (ports below 1024 need privileges); choose another with --port"
        else:
            why = f"{e.strerror or e}; check --host"
        raise ListenError(f"cannot listen on {host}:{port}: {why}") from None
    except (socket.gaierror, UnicodeError, OverflowError) as e:
        raise ListenError(f"cannot listen on {host}:{port}: {e}; check --host and --port") from None


def base_url(sock: socket.socket) -> str:
    """``http://host:port`` of a bound socket (IPv6 hosts in brackets)."""
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def serve_forever(app: Any, sock: socket.socket, log_level: str = "info") -> None:
    """Serve ``app`` on the bound ``sock`` until SIGINT/SIGTERM (graceful: 10 s for open requests)."""
    import uvicorn

    server = uvicorn.Server(uvicorn_config(app, log_level=log_level, timeout_graceful_shutdown=10))
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
