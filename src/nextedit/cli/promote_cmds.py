"""Command: ``nextedit promote`` (route every request to the winning arm of an A/B test).

``--arm ARM`` names the winner (an ``[[experiments]]`` entry of ``--config``), or ``--from-report``
takes it from ``nextedit ab report --json`` (only when its decision is ``ship``). The config is
edited atomically (:mod:`nextedit.monitoring.promote`); ``--url`` then asks the running server to
reload it (``POST /admin/reload``, no request dropped); a server started with
``--watch-config`` would pick the file up by itself.
"""

from __future__ import annotations

from typing import Annotated

import typer

from nextedit.cli import checks
from nextedit.cli.app import app


@app.command("promote")
def promote_cmd(
    config: Annotated[str, typer.Option("--config", "-c", help="The server config (TOML) to edit.")],
    arm: Annotated[
        str | None, typer.Option(help="The \\[\\[experiments]] entry that gets 100 % of the traffic.")
    ] = None,
    from_report: Annotated[
        str | None,
        typer.Option(help="`nextedit ab report --json` output: promote its decision's arm if it says ship."),
    ] = None,
    url: Annotated[
        str | None, typer.Option(help="The running server (e.g. http://127.0.0.1:8000): reload it.")
    ] = None,
    token: Annotated[
        str | None, typer.Option(envvar="NEXTEDIT_TOKEN", help="Bearer token for --url (env NEXTEDIT_TOKEN).")
    ] = None,
) -> None:
    """Set the winning arm's weight to 1 and the others' to 0 in the server config, atomically,
    keeping its comments; with --url, reload the running server."""
    from nextedit.monitoring.promote import arm_from_report, promote_config, trigger_reload

    checks.existing_inputs([config], "--config")
    if (arm is None) == (from_report is None):
        raise typer.BadParameter("give exactly one of --arm and --from-report", param_hint="--arm")
    if from_report is not None:
        checks.existing_inputs([from_report], "--from-report")
        arm, line = arm_from_report(from_report)
        if arm is None:
            typer.echo(f"nothing to promote: the report's decision is {line}")
            return
    done = promote_config(config, arm)
    weights = ", ".join(f"{n} {done.before[n]:g} → {done.after[n]:g}" for n in done.after)
    typer.echo(f"{config}: {'promoted' if done.changed else 'already routes 100 % to'} {arm} ({weights})")
    if url:
        answer = trigger_reload(url, token)
        typer.echo(f"{url}: {answer.get('status', 'reloaded')}")
