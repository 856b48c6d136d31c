"""Commands: ``nextedit serve`` (the prediction server) and ``nextedit bench serve`` (load test).

``serve`` checks everything it can before it loads a model: the config, the provider spec, the
telemetry store's file, and the port (bound first and handed to uvicorn). Once the models are
loaded it prints where it listens, the endpoints and the Zed settings, then serves.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated, Any

import typer

from nextedit.cli import checks
from nextedit.cli.app import app, bench_app


@app.command("serve")
def serve(
    config: Annotated[
        str | None,
        typer.Option(
            "--config", "-c", help="TOML/YAML config of models and experiments (default: embedded)."
        ),
    ] = None,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port (0 = any free port).")] = 8000,
    provider: Annotated[
        str | None, typer.Option(help=f"Serve one provider instead of a config: {checks.provider_choices()}.")
    ] = None,
    store: Annotated[
        str | None,
        typer.Option(help="Telemetry store URL: sqlite:///path.db, postgresql+psycopg://..., or none."),
    ] = None,
    api_key: Annotated[
        list[str] | None,
        typer.Option("--api-key", help="Require this bearer token (repeatable; env NEXTEDIT_API_KEYS)."),
    ] = None,
    deadline_ms: Annotated[int | None, typer.Option(help="Per-request deadline in ms.")] = None,
    watch_config: Annotated[
        float, typer.Option(help="Reload the config when its file changes (poll seconds; 0 = off).")
    ] = 2.0,
    log_level: Annotated[str, typer.Option(help="Log level.")] = "info",
) -> None:
    """Serve predictions over HTTP: OpenAI /v1/completions, Ollama /api/generate, Zed /predict_edits/v3.

    Reload the config with SIGHUP, POST /admin/reload, or by editing the file (--watch-config).
    """
    import sys

    from nextedit.server.config import default_config, load_config
    from nextedit.server.launch import base_url, configure_logging, listen, serve_forever

    if config and provider:
        raise typer.BadParameter("give --config or --provider, not both", param_hint="--provider")
    if provider:
        checks.provider_spec(provider)
    if config:
        checks.existing_inputs([config], "--config")
    configure_logging(log_level)
    cfg = load_config(config) if config else default_config(provider)  # ConfigError: one line
    for name, model in cfg.models.items():
        if model.provider != "test" and not model.fallback:  # a fallback is served if it fails
            checks.provider_spec(model.provider, f"{config or '--provider'} [models.{name}] provider")
    cfg = cfg.with_overrides(
        store=store,
        deadline_ms=deadline_ms,
        auth_tokens=tuple([*cfg.auth_tokens, *api_key]) if api_key else None,
    )
    checks.telemetry_store(cfg.store, "--store" if store else "[server] store")
    sock = listen(host, port)  # before the models load: a busy port fails now, not in a minute

    from nextedit.server.app import create_app, server_index

    # the event loop and the model worker threads hand the GIL back and forth on every request:
    # a 1 ms switch interval (default 5 ms) keeps that hand-off off the latency tail
    sys.setswitchinterval(0.001)
    try:
        application = create_app(
            cfg, watch_config_s=watch_config if config and watch_config > 0 else None, sighup_reload=True
        )
    except BaseException:
        sock.close()
        raise
    mount_dashboard(application)
    _print_banner(server_index(application, base_url(sock), full=True), cfg.store, bool(cfg.auth_tokens))
    serve_forever(application, sock, log_level=log_level)


def mount_dashboard(application: Any) -> None:
    """``/dashboard`` on the prediction server (its auth and guard apply) when it keeps telemetry;
    mounted here because ``server`` never imports ``monitoring``."""
    cfg = application.state.service.config
    from nextedit.server.telemetry.store import keeps_nothing

    if keeps_nothing(cfg.store):
        return
    from nextedit.monitoring.dashboard_app import dashboard_router
    from nextedit.monitoring.report import arms_from_config

    application.include_router(
        dashboard_router(cfg.store, arms=lambda: arms_from_config(application.state.service.config))
    )


def _print_banner(index: dict[str, Any], store: str, auth: bool) -> None:
    """Where the server listens, what it serves and the Zed settings that use it, on stderr: the
    ``GET /`` index (:func:`nextedit.server.app.server_index`) as text."""
    say = lambda line="": typer.echo(line, err=True)  # noqa: E731
    url = index["metrics"].removesuffix("/metrics")
    models = ", ".join(f"{name} ({m['provider']})" for name, m in index["models"].items())
    say(f"nextedit serve: listening on {url}   models: {models}")
    for e in index["endpoints"]:
        say(f"  {e['method']:<5} {url}{e['path']:<30} {e['what']}")
    say(f"telemetry: {store}   auth: {'bearer token' if auth else 'none'}")
    say(f"Zed settings (zed: open settings; the Ollama provider and more in {index['docs']}):")
    say(json.dumps(index["zed_settings"], indent=2))
    say()


class BenchApi(StrEnum):
    v3 = "v3"
    openai = "openai"


@bench_app.command("serve")
def bench_serve(
    url: Annotated[
        str | None, typer.Option(help="Base URL of a running server, e.g. http://127.0.0.1:8000.")
    ] = None,
    spawn: Annotated[
        bool, typer.Option(help="Start `nextedit serve` in a child process on a free port.")
    ] = False,
    provider: Annotated[
        str,
        typer.Option(
            help="Provider for --spawn: `default` = what plain `nextedit serve` serves (hybrid: the "
            "heuristic's edit, else the shipped model nextedit/models/nextedit-tiny or $NEXTEDIT_MODEL_DIR; "
            "the heuristic alone when no "
            "model is shipped), or a --provider spec (heuristic, local, hybrid, ...)."
        ),
    ] = "heuristic",
    config: Annotated[
        str | None, typer.Option(help="Config file for --spawn (instead of --provider).")
    ] = None,
    typists: Annotated[int, typer.Option(min=1, help="Simulated typists (one client id each).")] = 20,
    duration: Annotated[float, typer.Option(help="Seconds of load.")] = 30.0,
    sessions: Annotated[
        list[str] | None,
        typer.Option("--sessions", help="Examples to replay (.md/.jsonl/dirs; default: examples/)."),
    ] = None,
    api: Annotated[
        BenchApi,
        typer.Option(
            help="v3 (native JSON) or openai (zeta2_1 raw prompts, as stock Zed; with --spawn the "
            "server's inferred outcomes are scored against what the typists did)."
        ),
    ] = BenchApi.v3,
    api_key: Annotated[str | None, typer.Option(help="Bearer token.")] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    json_out: Annotated[
        str | None, typer.Option("--json", help="Also write the summary as JSON here.")
    ] = None,
) -> None:
    """Replay editing sessions with N simulated typists against a server; print latency percentiles.
    Exit status 1 when any request or outcome report failed."""
    from nextedit.bench.serve import bench_serve as run
    from nextedit.cli.figures import print_figures, write_json

    if bool(url) == spawn:
        raise typer.BadParameter(
            "give --url of a running server or --spawn (one of them)", param_hint="--url"
        )
    if spawn and not config and provider != "default":
        checks.provider_spec(provider)
    if config:
        checks.existing_inputs([config], "--config")
    if sessions:
        checks.existing_inputs(sessions, "--sessions")
    checks.writable_output(json_out, "--json")
    s = run(
        url=url,
        provider=provider,
        config=config,
        typists=typists,
        duration=duration,
        sessions=sessions,
        api=api.value,
        api_key=api_key,
        seed=seed,
        log=lambda line: typer.echo(line, err=True),
    )
    keys = ("requests", "ok", "p50_ms", "p95_ms", "p99_ms", "mean_ms", "server_p50_ms", "server_p95_ms",
            "server_p99_ms", "throughput_rps", "errors", "cancellations", "canceled_by_server",
            "canceled_by_client", "edit_share", "keystrokes")  # fmt: skip
    rows = [{"metric": k, "value": str(s[k])} for k in keys]
    if s["errors_by_status"]:
        rows.append({"metric": "errors_by_status", "value": json.dumps(s["errors_by_status"])})
    if s.get("shed_429"):  # load shed by the server (429 + Retry-After): not errors
        for k in ("shed_429", "shed_p50_ms", "shed_p99_ms", "shed_retry_after_s"):
            rows.append({"metric": k, "value": json.dumps(s[k]) if isinstance(s[k], dict) else str(s[k])})
    rows.append({"metric": "outcome_posts", "value": json.dumps(s["outcome_posts"])})
    if "inferred_predictions" in s:  # openai api, spawned: inferred outcomes against the typists' truth
        from nextedit.bench.serve import INFERRED_FIELDS

        rows += [{"metric": k, "value": str(s[k])} for k in INFERRED_FIELDS]
    print_figures(
        f"bench serve: {typists} typists, {duration:.0f} s, api {api.value}", rows, ("metric", "value")
    )
    write_json(json_out, s)
    raise typer.Exit(1 if s["errors"] or s["outcome_errors"] else 0)
