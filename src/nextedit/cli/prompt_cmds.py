"""Commands: `format-prompt` and `parse-output` (thin wrappers over `nextedit.prompts.stages`)."""

from __future__ import annotations

from typing import Annotated

import typer

from nextedit.cli.app import app
from nextedit.cli.options import (
    Failfast,
    InPlace,
    Inputs,
    Limit,
    NameFilter,
    NoResume,
    Offset,
    Output,
    stage_kwargs,
)

FORMAT_HELP = "Prompt format: zeta (zeta1), zeta2 (V0211SeedCoder), zeta2_1 (V0318SeedMultiRegions), teacher."


@app.command("format-prompt")
def format_prompt_cmd(
    inputs: Inputs,
    format: Annotated[str, typer.Option("--format", "-f", help=FORMAT_HELP)] = "zeta2",
    keep_failed: Annotated[
        bool, typer.Option("--keep-failed", help="Keep examples whose prompt could not be built (no prompt).")
    ] = False,
    output: Output = None,
    in_place: InPlace = False,
    limit: Limit = None,
    offset: Offset = 0,
    name: NameFilter = None,
    no_resume: NoResume = False,
    failfast: Failfast = False,
) -> None:
    """Build `prompt` (input, expected/rejected output, prefill, provider) from `prompt_inputs`."""
    from nextedit.pipeline import run_stage
    from nextedit.prompts.stages import FormatPromptStage

    try:
        stage = FormatPromptStage(format, keep_failed=keep_failed)
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="--format") from e
    run_stage(stage, inputs, **stage_kwargs(output, in_place, limit, offset, name, no_resume, failfast))


@app.command("parse-output")
def parse_output_cmd(
    inputs: Inputs,
    format: Annotated[
        str | None,
        typer.Option("--format", "-f", help=FORMAT_HELP + " Default: from each prediction's provider."),
    ] = None,
    output: Output = None,
    in_place: InPlace = False,
    limit: Limit = None,
    offset: Offset = 0,
    name: NameFilter = None,
    no_resume: NoResume = False,
    failfast: Failfast = False,
) -> None:
    """Turn `predictions[].actual_output` into `actual_patch` and `actual_cursor`."""
    from nextedit.pipeline import run_stage
    from nextedit.prompts.stages import ParseOutputStage

    try:
        stage = ParseOutputStage(format)
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="--format") from e
    run_stage(stage, inputs, **stage_kwargs(output, in_place, limit, offset, name, no_resume, failfast))
