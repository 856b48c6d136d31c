"""Bad input to the real CLI gives one line on stderr naming the bad value, exit 2 (usage) or 1,
no traceback, and (where there is work to do) before the work starts."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nextedit.cli import app

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
runner = CliRunner()


def one_line_error(args: list[str], code: int, *names: str) -> str:
    """Run ``nextedit *args``; assert the exit code and a single ``error:`` line naming ``names``."""
    res = runner.invoke(app, args)
    assert res.exit_code == code, (res.exit_code, res.stdout, res.stderr)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    assert "Traceback" not in res.stderr
    for name in names:
        assert name in lines[0], (name, lines[0])
    return lines[0]


@pytest.fixture
def a_file(tmp_path: Path) -> Path:
    """A regular file: a path under it can never be created (root or not, any filesystem)."""
    f = tmp_path / "a-file"
    f.write_text("x")
    return f


def test_predict_missing_input() -> None:
    res = runner.invoke(app, ["predict", "nope.jsonl"])
    assert res.exit_code in (1, 2), res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "nope.jsonl" in lines[0] and "Traceback" not in res.stderr


def test_serve_misspelled_provider() -> None:
    line = one_line_error(["serve", "--provider", "heurstic"], 2, "heurstic", "--provider")
    assert "hybrid" in line  # says what would have been valid


def test_eval_local_model_that_does_not_exist() -> None:
    one_line_error(["eval", "-p", "local:/nonexistent", str(EXAMPLES)], 2, "/nonexistent")


def test_eval_unwritable_summary_json_fails_before_the_work(a_file: Path) -> None:
    res = runner.invoke(app, ["eval", str(EXAMPLES), "-p", "oracle", "--summary-json", f"{a_file}/s.json"])
    assert res.exit_code == 2 and "--summary-json" in res.stderr and f"{a_file}/s.json" in res.stderr
    assert "TOTAL" not in res.stdout  # no report: it stopped before predicting and scoring


def test_bench_gate_missing_input_and_unwritable_outputs(tmp_path: Path, a_file: Path) -> None:
    one_line_error(["bench", "gate", str(tmp_path / "missing.jsonl")], 2, "missing.jsonl")
    preds = f"{a_file}/preds.jsonl"
    one_line_error(["bench", "gate", str(EXAMPLES), "--predictions", preds], 2, "--predictions", preds)
    one_line_error(["bench", "gate", str(EXAMPLES), "--model", str(tmp_path)], 2, "config.json")


def test_bench_gate_says_which_command_makes_the_dataset(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.chdir(tmp_path)  # like a fresh clone: no data/
    one_line_error(
        ["bench", "gate", "data/default/valid.jsonl"], 2, "data/default/valid.jsonl", "nextedit dataset build"
    )


def test_serve_store_on_a_path_that_cannot_be_written(a_file: Path) -> None:
    url = f"sqlite:///{a_file}/telemetry.db"
    one_line_error(
        ["serve", "--provider", "heuristic", "--store", url, "--port", "0"], 2, "--store", "telemetry.db"
    )


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
def test_serve_store_in_a_read_only_directory(tmp_path: Path) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        one_line_error(
            ["serve", "--provider", "heuristic", "--store", f"sqlite:///{ro}/t.db"], 2, "cannot be written"
        )
    finally:
        ro.chmod(0o755)


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux procfs")
def test_outputs_are_probed_not_judged_by_permission_bits() -> None:
    """Nothing can be created under /proc, though permission bits there say yes to root: the output
    check makes a file for real, before the work."""
    res = runner.invoke(app, ["eval", str(EXAMPLES), "-p", "none", "--summary-json", "/proc/nextedit/s.json"])
    assert res.exit_code == 2, res.output
    assert res.stderr.strip().splitlines() == [res.stderr.strip()] and "/proc/nextedit/s.json" in res.stderr
    assert "TOTAL" not in res.stdout  # refused before scoring anything


def test_serve_store_that_is_not_a_url() -> None:
    one_line_error(
        ["serve", "--provider", "heuristic", "--store", "telemetry.db"], 2, "--store", "not a database URL"
    )


def test_serve_port_in_use_fails_before_the_model_loads() -> None:
    """With the port taken, `serve --provider local` (the shipped model) stops at once: the model
    is never loaded (no "model … ready" log line), and the message names the address."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "nextedit",
                "serve",
                "--provider",
                "local",
                "--port",
                str(port),
                "--store",
                "none",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "OMP_WAIT_POLICY": "PASSIVE"},
        )
    assert proc.returncode == 1, proc.stderr
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith(f"error: cannot listen on 127.0.0.1:{port}: ")
    assert "already in use" in errors[0] and "--port" in errors[0]
    assert " ready (provider" not in proc.stderr and "Traceback" not in proc.stderr  # the model never loaded


def test_usage_errors_are_one_line() -> None:
    one_line_error(["predict"], 2, "Missing argument")
    one_line_error(["bench", "serve"], 2, "--url", "--spawn")
    one_line_error(["no-such-command"], 2, "no-such-command")


def test_bench_serve_spawned_server_that_fails_is_one_line(tmp_path: Path) -> None:
    """A library error (BenchServeError) from deep inside: the spawned server exits at once because
    its config names an unknown provider; bench serve says so in one line with the server's log."""
    cfg = tmp_path / "serve.toml"
    cfg.write_text('[server]\nstore = "none"\n\n[models.a]\nprovider = "heurstic"\n')
    line = one_line_error(["bench", "serve", "--spawn", "--config", str(cfg), "--duration", "1"], 1)
    assert "spawned server exited (2)" in line and "heurstic" in line and "server.log" in line


def test_serve_config_whose_model_directory_is_missing(tmp_path: Path) -> None:
    cfg = tmp_path / "serve.toml"
    cfg.write_text('[server]\nstore = "none"\n\n[models.a]\nprovider = "local:/nonexistent"\n')
    one_line_error(["serve", "--config", str(cfg)], 2, "serve.toml", "[models.a]", "/nonexistent")


def test_serve_config_with_an_unknown_key(tmp_path: Path) -> None:
    cfg = tmp_path / "serve.toml"
    cfg.write_text('[models.a]\nprovider = "heuristic"\nworkerz = 2\n')
    one_line_error(["serve", "--config", str(cfg)], 1, "serve.toml", "workerz")


def test_train_and_export_check_their_output_directories_first(tmp_path: Path, a_file: Path) -> None:
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text('{"text": "x = 1\\n"}\n')
    recipe = tmp_path / "r.toml"
    recipe.write_text(
        f'name = "t"\nout = "{a_file}/ck"\n[model]\ninit = "scratch"\n[tokenizer]\ncorpus = ["{corpus}"]\n'
        '[[phases]]\nname = "lm"\nkind = "lm"\nsteps = 1\n'
    )
    one_line_error(["train", "--recipe", str(recipe)], 2, "--out", f"{a_file}/ck")
    checkpoint = tmp_path / "ck"
    checkpoint.mkdir()
    one_line_error(["export-model", str(checkpoint), str(a_file)], 2, "DEST", "is a file")
