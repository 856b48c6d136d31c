"""The ``nextedit bench …`` commands through the real CLI, and the rule that the measuring code in
``nextedit.bench`` returns figures: it never prints, never uses rich, never raises SystemExit."""

from __future__ import annotations

import ast
import json
from pathlib import Path

from typer.testing import CliRunner

from nextedit.cli import app
from nextedit.server.app import create_app
from nextedit.server.config import parse_config
from nextedit.server.launch import ServerThread

BENCH = Path(__file__).resolve().parents[2] / "src" / "nextedit" / "bench"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
runner = CliRunner()


def test_bench_package_returns_figures_and_leaves_output_to_the_cli() -> None:
    for path in sorted(BENCH.glob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
                assert not any(n.split(".")[0] == "rich" for n in names), (
                    f"{path.name}:{node.lineno} imports rich"
                )
            if isinstance(node, ast.Name) and node.id == "SystemExit":
                raise AssertionError(f"{path.name}:{node.lineno} uses SystemExit")
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print":
                raise AssertionError(f"{path.name}:{node.lineno} prints")


def test_bench_eval_times_request_providers_and_scoring() -> None:
    from nextedit.bench.eval import bench_eval
    from nextedit.io.inputs import read_examples
    from nextedit.predict.registry import get_provider

    examples = list(read_examples([str(EXAMPLES)]))[:3]
    rows = bench_eval(examples, [(s, get_provider(s)) for s in ("heuristic", "oracle")], repeat=2)
    assert [r.what for r in rows] == ["predict (heuristic)", "score (heuristic), per prediction"]
    assert rows[0].n == 6 and rows[1].n == 3 and 0 <= rows[0].p50_ms <= rows[0].p95_ms <= rows[0].max_ms
    res = runner.invoke(app, ["bench", "eval", str(EXAMPLES), "-p", "none", "--repeat", "1"])
    assert res.exit_code == 0, res.output
    assert "predict (none)" in res.stdout and "score (none), per prediction" in res.stdout


def test_bench_text_prints_a_table() -> None:
    res = runner.invoke(app, ["bench", "text", "--lines", "60", "--repeat", "1"])
    assert res.exit_code == 0, res.output
    assert "apply patch ms" in res.stdout and "line diff ms" in res.stdout


def test_bench_context_prints_and_writes_figures(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "a.py").write_text("def area(w, h):\n    return w * h\n")
    (tree / "b.py").write_text("from a import area\n\nprint(area(2, 3))\n")
    out = tmp_path / "ctx.json"
    res = runner.invoke(app, ["bench", "context", str(tree), "--requests", "4", "--json", str(out)])
    assert res.exit_code == 0, res.output
    figures = json.loads(out.read_text())
    assert figures["files"] == 2 and figures["requests"] == 4 and figures["p50_ms"] >= 0
    bad = runner.invoke(app, ["bench", "context", str(tmp_path / "nope")])
    assert bad.exit_code == 2 and "not a directory" in bad.stderr


def test_bench_serve_against_a_running_server(tmp_path: Path) -> None:
    cfg = parse_config({"models": {"h": {"provider": "heuristic"}}, "server": {"store": "none"}})
    out = tmp_path / "serve.json"
    with ServerThread(create_app(cfg)) as srv:
        args = ["bench", "serve", "--url", srv.url, "--typists", "2", "--duration", "1", "--json", str(out)]
        res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "p95_ms" in res.stdout and "throughput_rps" in res.stdout
    summary = json.loads(out.read_text())
    assert summary["requests"] >= 1 and summary["errors"] == 0 and summary["typists"] == 2


def test_bench_serve_unreachable_url_is_one_line() -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}"
    res = runner.invoke(app, ["bench", "serve", "--url", url, "--duration", "1"])
    assert res.exit_code == 1 and res.stderr.startswith(f"error: {url}/healthz")
    assert len(res.stderr.strip().splitlines()) == 1
