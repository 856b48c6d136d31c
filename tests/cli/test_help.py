"""Help texts say what the options accept, from the registries that define it."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from nextedit.cli import app
from nextedit.predict.registry import PROVIDER_SPECS
from nextedit.prompts.registry import DEFAULT_FORMAT, get_format

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def help_text(*command: str) -> str:
    """``--help`` of a command with the table borders and line wrapping taken out."""
    res = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "100"})
    assert res.exit_code == 0, res.output
    return " ".join(res.stdout.replace("│", " ").split())


def test_predict_and_eval_help_list_every_registered_provider() -> None:
    assert "hybrid[:PATH]" in PROVIDER_SPECS
    for command in ("predict", "eval", "serve"):
        text = help_text(command).replace(" | ", "|").replace("| ", "|").replace(" |", "|")
        for spec in PROVIDER_SPECS:
            assert spec in text, (command, spec)


def test_bench_serve_help_says_what_default_is() -> None:
    text = help_text("bench", "serve")
    assert "`default` = what plain `nextedit serve` serves" in text
    assert "hybrid" in text and "models/nextedit-tiny" in text


def test_format_prompt_defaults_to_the_default_format(tmp_path: Path) -> None:
    assert f"[default: {DEFAULT_FORMAT}]" in help_text("format-prompt")
    out = tmp_path / "prompts.jsonl"
    res = runner.invoke(app, ["format-prompt", str(ROOT / "examples"), "--limit", "1", "-o", str(out)])
    assert res.exit_code == 0, res.output
    prompt = json.loads(out.read_text().splitlines()[0])["prompt"]
    assert get_format(prompt["provider"]).name == DEFAULT_FORMAT
