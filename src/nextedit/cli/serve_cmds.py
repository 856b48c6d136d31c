"""Commands: ``nextedit serve`` (the prediction server) and ``nextedit bench serve`` (load test)."""

from __future__ import annotations

from typing import Annotated

import typer

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
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    provider: Annotated[
        str | None,
        typer.Option(
            help="Serve one provider instead of a config (heuristic, local[:PATH], hybrid[:PATH], openai-compatible:URL)."
        ),
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

    from nextedit.server.app import create_app
    from nextedit.server.config import ConfigError, default_config, load_config
    from nextedit.server.launch import configure_logging, serve_forever

    configure_logging(log_level)
    # the event loop and the model worker threads hand the GIL back and forth on every request:
    # a 1 ms switch interval (default 5 ms) keeps that hand-off off the latency tail
    sys.setswitchinterval(0.001)
    try:
        cfg = load_config(config) if config else default_config(provider)
    except ConfigError as e:
        raise typer.BadParameter(str(e), param_hint="--config") from None
    cfg = cfg.with_overrides(
        store=store,
        deadline_ms=deadline_ms,
        auth_tokens=tuple([*cfg.auth_tokens, *api_key]) if api_key else None,
    )
    application = create_app(
        cfg, watch_config_s=watch_config if config and watch_config > 0 else None, sighup_reload=True
    )
    serve_forever(application, host, port, log_level=log_level)


@bench_app.command("serve")
def bench_serve(
    url: Annotated[
        str | None, typer.Option(help="Base URL of a running server, e.g. http://127.0.0.1:8000.")
    ] = None,
    spawn: Annotated[
        bool, typer.Option(help="Start `nextedit serve` in a child process on a free port.")
    ] = False,
    provider: Annotated[
        str, typer.Option(help="Provider for --spawn (`default` = the shipped model, else heuristic).")
    ] = "heuristic",
    config: Annotated[str | None, typer.Option(help="Config file for --spawn.")] = None,
    typists: Annotated[int, typer.Option(help="Simulated typists (one client id each).")] = 20,
    duration: Annotated[float, typer.Option(help="Seconds of load.")] = 30.0,
    sessions: Annotated[
        list[str] | None,
        typer.Option("--sessions", help="Examples to replay (.md/.jsonl/dirs; default: examples/)."),
    ] = None,
    api: Annotated[str, typer.Option(help="v3 (native JSON) or openai (zeta2_1 raw prompts).")] = "v3",
    api_key: Annotated[str | None, typer.Option(help="Bearer token.")] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    json_out: Annotated[
        str | None, typer.Option("--json", help="Also write the summary as JSON here.")
    ] = None,
) -> None:
    """Replay editing sessions with N simulated typists against a server; print latency percentiles."""
    from nextedit.bench.serve import run_bench_cli

    code = run_bench_cli(
        url=url,
        spawn=spawn,
        provider=provider,
        config=config,
        typists=typists,
        duration=duration,
        sessions=sessions,
        api=api,
        api_key=api_key,
        seed=seed,
        json_out=json_out,
    )
    raise typer.Exit(code)
