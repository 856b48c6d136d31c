"""Running the app: uvicorn in the foreground (CLI) or in a background thread (tests, embedding).

The CLI binds its socket with :func:`listen` before it loads any model, so that a port already in
use is reported at once (:class:`ListenError`), then hands the socket to :func:`serve_forever`.
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
            uvicorn.Config(
                app, log_level=log_level, access_log=False, lifespan="on", timeout_graceful_shutdown=5
            )
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

    server = uvicorn.Server(
        uvicorn.Config(app, log_level=log_level, access_log=False, timeout_graceful_shutdown=10)
    )
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
