"""Command: ``nextedit dashboard --store URL [--host --port]`` (the monitoring page on its own).

The same page ``nextedit serve`` mounts at ``/dashboard`` (:mod:`nextedit.monitoring.dashboard_app`),
served over an existing telemetry store without the prediction server. It has no auth: it binds to
loopback unless told otherwise.
"""

from __future__ import annotations

from typing import Annotated

import typer

from nextedit.cli.app import app


@app.command("dashboard")
def dashboard_cmd(
    store: Annotated[str, typer.Option(help="The telemetry store (e.g. sqlite:///telemetry.db).")],
    host: Annotated[str, typer.Option(help="Address to bind (no auth: keep it on loopback).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to bind (0 = any free port).")] = 8100,
    log_level: Annotated[str, typer.Option(help="Log level.")] = "warning",
) -> None:
    """Serve the monitoring dashboard (charts per model version and experiment, latency, the A/B
    panel, recent requests) over a telemetry store, at http://HOST:PORT/dashboard."""
    from nextedit.monitoring.dashboard_app import dashboard_app
    from nextedit.server.launch import base_url, configure_logging, listen, serve_forever

    configure_logging(log_level)
    application = dashboard_app(store)  # StoreError: one line naming the URL
    sock = listen(host, port)
    typer.echo(f"nextedit dashboard: {base_url(sock)}/dashboard   store: {store}", err=True)
    serve_forever(application, sock, log_level=log_level)
