"""``openai-compatible:URL`` against real loopback sockets: a closed port is "unreachable" in one
line and a failing exit status (before any work), a live completions server answers every example."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nextedit.cli import app
from nextedit.predict.openai_compatible import OpenAICompatibleModel
from nextedit.schema.completion import GenerationParams
from nextedit.schema.provider import ProviderUnavailable

runner = CliRunner()


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on (bound, then closed: connecting is refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def completions_server(tmp_path: Path) -> Iterator[str]:
    """A real nextedit server (heuristic provider) answering ``/v1/completions`` on loopback."""
    from nextedit.server.app import create_app
    from nextedit.server.config import parse_config
    from nextedit.server.launch import ServerThread

    cfg = parse_config({"models": {"h": {"provider": "heuristic"}}, "server": {"store": "none"}})
    srv = ServerThread(create_app(cfg)).start()
    yield srv.url
    srv.stop()


def test_unreachable_backend_is_one_line_and_a_failure(examples_dir: Path, closed_port: int) -> None:
    spec = f"openai-compatible:http://127.0.0.1:{closed_port}"
    for command in (["eval", str(examples_dir), "-p", spec], ["predict", str(examples_dir), "-p", spec]):
        res = runner.invoke(app, command)
        assert res.exit_code == 1, (res.exit_code, res.stdout, res.stderr)
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and "unreachable" in lines[0], res.stderr
        assert f"127.0.0.1:{closed_port}" in lines[0] and "Traceback" not in res.stderr
        assert "Delta chrF" not in res.stdout  # no score for predictions that never happened


def test_the_model_says_unreachable_on_each_call(closed_port: int) -> None:
    model = OpenAICompatibleModel(f"http://127.0.0.1:{closed_port}/v1", timeout_s=5)
    with pytest.raises(ProviderUnavailable, match="unreachable"):
        model.check()
    with pytest.raises(ProviderUnavailable, match="unreachable"):
        model.complete("x", GenerationParams(4))
    model.close()


def test_a_live_backend_answers_every_example(examples_dir: Path, completions_server: str, tmp_path: Path) -> None:
    spec = f"openai-compatible:{completions_server}/v1"
    out = tmp_path / "preds.jsonl"
    res = runner.invoke(app, ["predict", str(examples_dir), "-p", spec, "-o", str(out)])
    assert res.exit_code == 0, (res.stdout, res.stderr)
    preds = [json.loads(line)["predictions"][0] for line in out.read_text().splitlines()]
    assert preds and all(p["error"] is None for p in preds)
    assert any(p["actual_patch"] for p in preds)  # the remote heuristic propagated a rename
    assert all(p["provider"] == spec for p in preds)
    res = runner.invoke(app, ["eval", str(examples_dir), "-p", spec])
    assert res.exit_code == 0, (res.stdout, res.stderr)
    assert "Delta chrF" in res.stdout
