"""Commands: `format-prompt` and `parse-output` (thin wrappers over `nextedit.prompts.stages`)."""

from __future__ import annotations

from typing import Annotated

import typer

from nextedit.cli.app import app
from nextedit.cli.options import (
    ExecutorKind,
    ExecutorOpt,
    Failed,
    FailedHandling,
    Failfast,
    InPlace,
    Inputs,
    Limit,
    MaxParallelism,
    NameFilter,
    NoResume,
    Offset,
    Output,
    RunOptions,
    run_stage_command,
)
from nextedit.prompts.registry import DEFAULT_FORMAT

FORMAT_HELP = "Prompt format: zeta (zeta1), zeta2 (V0211SeedCoder), zeta2_1 (V0318SeedMultiRegions), teacher."


@app.command("format-prompt")
def format_prompt_cmd(
    inputs: Inputs,
    format: Annotated[str, typer.Option("--format", "-f", help=FORMAT_HELP)] = DEFAULT_FORMAT,
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
    failed: Failed = FailedHandling.keep,
    executor: ExecutorOpt = ExecutorKind.local,
    max_parallelism: MaxParallelism = 1,
) -> None:
    """Build `prompt` (input, expected/rejected output, prefill, provider) from `prompt_inputs`."""
    from nextedit.prompts.stages import FormatPromptStage

    try:
        stage = FormatPromptStage(format, keep_failed=keep_failed)
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="--format") from e
    run_stage_command(
        stage,
        inputs,
        RunOptions(output, in_place, limit, offset, name, no_resume, failfast, failed, executor, max_parallelism),
    )


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
    failed: Failed = FailedHandling.keep,
    executor: ExecutorOpt = ExecutorKind.local,
    max_parallelism: MaxParallelism = 1,
) -> None:
    """Turn `predictions[].actual_output` into `actual_patch` and `actual_cursor`."""
    from nextedit.prompts.stages import ParseOutputStage

    try:
        stage = ParseOutputStage(format)
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="--format") from e
    run_stage_command(
        stage,
        inputs,
        RunOptions(output, in_place, limit, offset, name, no_resume, failfast, failed, executor, max_parallelism),
    )


@app.command("print-zeta-formats")
def print_formats_cmd() -> None:
    """List the prompt formats: name, Zed format, aliases, token limits, stop tokens, special tokens."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from nextedit.prompts.registry import ALIASES, FORMATS, get_format

    table = Table(title="prompt formats")
    for col in (
        "name",
        "zeta format",
        "aliases",
        "(editable, context)",
        "max prompt",
        "stop",
        "special tokens",
    ):
        table.add_column(col)
    for name in FORMATS:
        fmt = get_format(name)
        aliases = sorted(a for a, n in ALIASES.items() if n == name and a != name)
        table.add_row(
            name,
            fmt.zeta_format,
            ", ".join(aliases),
            str(fmt.token_limits),
            str(fmt.max_prompt_tokens) if fmt.max_prompt_tokens < 1 << 20 else "-",
            escape(" ".join(repr(s) for s in fmt.stop_tokens) or "(EOS)"),
            str(len(fmt.special_tokens)),
        )
    Console().print(table)
