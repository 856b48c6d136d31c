"""Commands: ``nextedit ab report`` (the A/B analysis of the server's experiments).

Checks its inputs first (the config, the store, the times, the JSON output), calls
:func:`nextedit.monitoring.report.ab_report`, which returns a JSON-ready dict, and renders it here:
a table of arms, a table of comparisons, the SRM line and the decision line.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from nextedit.cli import checks
from nextedit.cli.app import ab_app
from nextedit.cli.figures import write_json


@ab_app.command("report")
def ab_report_cmd(
    config: Annotated[
        str | None,
        typer.Option(
            "--config",
            "-c",
            help="The server config: each \\[\\[experiments]] entry is an arm, its weight the planned share "
            "(default: the experiments found in the store, without an SRM check).",
        ),
    ] = None,
    store: Annotated[
        str | None,
        typer.Option(help="Telemetry store URL (default: the config's \\[server] store)."),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            help="Experiment start: ISO date/time, unix seconds or 7d (default: its first request)."
        ),
    ] = None,
    until: Annotated[str | None, typer.Option(help="End of the period (default: now).")] = None,
    pre_since: Annotated[
        str | None,
        typer.Option(
            help="Start of the CUPED pre-period, which ends at --since (default: as long as the period)."
        ),
    ] = None,
    control: Annotated[
        str | None, typer.Option(help="The control arm (default: the first experiment).")
    ] = None,
    primary: Annotated[str, typer.Option(help="Metric that decides: acceptance_rate or kept_rate.")] = (
        "acceptance_rate"
    ),
    latency_margin: Annotated[
        float, typer.Option(help="Guardrail: largest relative p95 latency increase accepted (0.10 = 10 %).")
    ] = 0.10,
    error_margin: Annotated[
        float, typer.Option(help="Guardrail: largest error-rate increase accepted (0.005 = 0.5 pp).")
    ] = 0.005,
    planned_users: Annotated[
        int | None,
        typer.Option(help="Planned users over all arms: alpha spending over daily looks instead of mSPRT."),
    ] = None,
    tau: Annotated[float, typer.Option(help="mSPRT mixing scale relative to the control's rate.")] = 0.05,
    alpha: Annotated[float, typer.Option(help="Significance level.")] = 0.05,
    cuped: Annotated[bool, typer.Option(help="Use each user's pre-period (CUPED).")] = True,
    seed: Annotated[int, typer.Option(help="Seed of the latency bootstrap.")] = 0,
    json_out: Annotated[
        str | None, typer.Option("--json", help="Also write the report as JSON here.")
    ] = None,
) -> None:
    """Per arm: users, requests, acceptance rate, kept rate, latency p95 and error rate with 95 % intervals;
    each arm against the control (delta method over users, CUPED, always-valid sequential tests),
    the sample-ratio-mismatch check, guardrails and a one-line decision."""
    from nextedit.monitoring.report import AbSettings, ArmSpec, ab_report, arms_from_config
    from nextedit.monitoring.window import Window, parse_time

    checks.writable_output(json_out, "--json")
    if config:
        checks.existing_inputs([config], "--config")
    now = _now()
    window = Window(
        since=parse_time(since, "--since", now=now) if since else None,
        until=parse_time(until, "--until", now=now) if until else now,
        pre_since=parse_time(pre_since, "--pre-since", now=now) if pre_since else None,
    )
    settings = AbSettings(
        alpha=alpha,
        primary=primary,
        tau_relative=tau,
        latency_margin=latency_margin,
        error_margin=error_margin,
        planned_users=planned_users,
        cuped=cuped,
        seed=seed,
    )
    if config:
        from nextedit.server.config import load_config

        cfg = load_config(config)  # ConfigError: one line naming the file and key
        specs = arms_from_config(cfg)
        store_url = store or cfg.store
    else:
        if not store:
            raise typer.BadParameter("give --config (the server config) or --store URL", param_hint="--store")
        store_url = store
        specs = [ArmSpec(name) for name in _experiments_in(store_url, window)]
    report = ab_report(specs, store_url, window, control=control, settings=settings)
    print_report(report)
    write_json(json_out, report)


def _now() -> float:
    import time

    return time.time()


def _experiments_in(store_url: str, window: Any) -> list[str]:
    from nextedit.monitoring.store_reader import experiments_seen, open_store_readonly

    engine = open_store_readonly(store_url)
    try:
        return experiments_seen(engine, window.since, window.until)
    finally:
        engine.dispose()


def _fmt(metric: str, x: float | None, *, diff: bool = False) -> str:
    if x is None:
        return "–"
    if metric.endswith("_ms"):
        return f"{x:+.1f}" if diff else f"{x:.1f}"
    return f"{100 * x:+.2f}" if diff else f"{100 * x:.2f}%"


def _ci(metric: str, ci: list[float | None], *, diff: bool = False) -> str:
    return f"{_fmt(metric, ci[0], diff=diff)} .. {_fmt(metric, ci[1], diff=diff)}"


def _p(p: float | None) -> str:
    return "–" if p is None else f"{p:.3g}"


def print_report(report: dict) -> None:
    """The report for a human: arms, comparisons (differences in percentage points or ms), SRM, decision."""
    from rich.console import Console

    from nextedit.cli.render import table

    console = Console(width=max(150, Console().width))
    metrics = ("acceptance_rate", "kept_rate", "latency_p95_ms", "error_rate")
    rows = []
    for arm in report["arms"]:
        cells = [arm["name"] + (" (control)" if arm["name"] == report["control"] else ""), str(arm["users"])]
        cells.append(str(arm["requests"]))
        for m in metrics:
            fig = arm["metrics"][m]
            cells.append(f"{_fmt(m, fig['value'])} [{_ci(m, fig['ci'])}]")
        rows.append(cells)
    w = report["window"]
    console.print(
        table(
            f"A/B report {w['since']} → {w['until']} (95 % intervals; users are the unit)",
            ["arm", "users", "requests", "acceptance", "kept rate", "latency p95 ms", "error rate"],
            rows,
        )
    )
    seq = report["sequential"]
    crow = []
    for c in report["comparisons"]:
        m = c["metric"]
        unit = "ms" if m.endswith("_ms") else "pp"
        crow.append(
            [
                f"{c['arm']} vs {c['control']}",
                f"{m} ({c['role']})",
                f"{_fmt(m, c['diff'], diff=True)} {unit}",
                _ci(m, c["ci"], diff=True),
                _p(c["p_value"]),
                _ci(m, c["sequential"]["ci"], diff=True),
                _p(c["sequential"]["p_value"]),
                "–"
                if c["cuped_variance_reduction"] is None
                else f"{100 * c['cuped_variance_reduction']:.0f}%",
                c["verdict"],
            ]
        )
    console.print(
        table(
            f"differences (sequential: {seq['method']}, α = {seq['alpha']})",
            ["comparison", "metric", "diff", "95 % CI", "p", "sequential CI", "seq. p", "CUPED", "verdict"],
            crow,
        )
    )
    srm = report["srm"]
    if srm["p_value"] is None:
        console.print(f"SRM check skipped: {srm['skipped']}", highlight=False)
    else:
        observed = ", ".join(f"{k} {v}" for k, v in srm["observed"].items())
        expected = ", ".join(f"{k} {v:.0f}" for k, v in srm["expected"].items())
        flag = "[bold red]MISMATCH[/]" if srm["mismatch"] else "ok"
        console.print(
            f"SRM {flag}: users {observed} (expected {expected}), chi² = {srm['chi2']:.2f}, p = {srm['p_value']:.3g}",
            highlight=False,
        )
    if report["excluded"]["users_in_several_arms"]:
        console.print(f"left out: {report['excluded']['users_in_several_arms']} users seen in several arms")
    console.print(f"[bold]decision[/]: {report['decision']['line']}", highlight=False)
