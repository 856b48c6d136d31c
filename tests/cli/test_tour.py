"""The README's "A tour in commands" runs as written on a fresh clone: every command parses, the
quick ones run in order (each reading what an earlier one wrote), and the ones whose input a fresh
clone lacks say in one line which command makes it. Downloads, training and the server are not run."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from nextedit.cli import app

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()

# not run here: they download, train for an hour, serve forever or load for minutes
NOT_RUN = ("ingest pypi", "dataset corpus", "dataset build", "train", "export-model", "bench", "serve")
# run here, and what they say on a fresh clone (no data/, no checkpoints/)
NEEDS_INPUT = {
    "train": "make it with `nextedit dataset corpus`",
    "export-model": "make it with `nextedit train`",
    "bench gate": "make it with `nextedit dataset build`",
}


def tour_commands() -> list[list[str]]:
    """The ``nextedit …`` commands of the tour's code block (``&&`` chains split), as argv lists."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## A tour in commands", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    commands = []
    for line in block.splitlines():
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        for part in line.split("&&"):
            argv = shlex.split(part)
            assert argv[0] == "nextedit", line
            commands.append(argv[1:])
    return commands


def name_of(argv: list[str]) -> str:
    return " ".join(argv[:2]) if argv[0] in ("ingest", "dataset", "bench") else argv[0]


def test_every_tour_command_parses() -> None:
    """Each command names a real command with real options and the arguments it needs."""
    group = typer.main.get_command(app)
    commands = tour_commands()
    assert len(commands) >= 20
    for argv in commands:
        cmd, depth = group, 0
        while hasattr(cmd, "commands"):  # the root group, then ingest / dataset / bench
            assert argv[depth] in cmd.commands, f"no command {' '.join(argv[: depth + 1])!r}"
            cmd, depth = cmd.commands[argv[depth]], depth + 1
        cmd.make_context(argv[depth - 1], argv[depth:])  # raises on an unknown option or a missing argument


@pytest.fixture
def fresh_clone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A directory that looks like the root of a fresh clone: the committed files, no data/."""
    for name in ("examples", "recipes", "src"):
        (tmp_path / name).symlink_to(ROOT / name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_tour_runs_as_written(fresh_clone: Path) -> None:
    ran = []
    for argv in tour_commands():
        name = name_of(argv)
        argv = [
            str(ROOT) if a == "." and prev == "--repo" else a
            for prev, a in zip(["", *argv], argv, strict=False)
        ]
        if name in NEEDS_INPUT:
            res = runner.invoke(app, argv)
            assert res.exit_code == 2, (argv, res.output)
            assert len(res.stderr.strip().splitlines()) == 1 and NEEDS_INPUT[name] in res.stderr, res.stderr
        elif not name.startswith(NOT_RUN):
            res = runner.invoke(app, argv)
            assert res.exit_code == 0, (argv, res.stdout, res.stderr)
            ran.append(name)
    for made in ("summary.json", "scored.jsonl", "sft.jsonl", "parsed.jsonl", "git.jsonl", "focused.jsonl"):
        assert (fresh_clone / made).stat().st_size > 0, made
    assert {"eval", "score", "context", "parse-output", "ingest git", "split", "focus-target"} <= set(ran)
