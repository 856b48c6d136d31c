"""``create_app(config)``: the FastAPI application (protocol routers + health, metrics, reload,
and ``GET /``: an index of the server's name, version, models, endpoints and docs).

app = create_app(load_config("serve.toml"))      # or create_app() for the embedded default
uvicorn.run(app, host="127.0.0.1", port=8000)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from nextedit.prompts.registry import DEFAULT_FORMAT
from nextedit.server.config import ConfigError, ServerConfig, default_config, load_config
from nextedit.server.errors import BadRequest, ServerError, error_response
from nextedit.server.http import BearerAuth, RequestGuard, bearer_ok
from nextedit.server.protocols import chat, native, ollama, openai, outcomes
from nextedit.server.service import PredictionService
from nextedit.server.telemetry import TelemetryStore

log = logging.getLogger("nextedit.server")

DOCS = "docs/zed.md"  # in the source tree: how to point Zed at the server, options, figures
#: what each endpoint is for, shown by ``GET /`` and ``nextedit serve`` (paths come from the routes)
ENDPOINT_PURPOSES = {
    "/": "this index",
    "/v1/completions": "OpenAI-compatible completions: Zed's open_ai_compatible_api provider",
    "/v1/models": "OpenAI model list",
    "/v1/chat/completions": "OpenAI chat completions: teacher, judge and repairer for nextedit teacher/qa/repair",
    "/api/generate": "Ollama generate: Zed's ollama provider",
    "/api/tags": "Ollama model list",
    "/predict_edits/v3": "Zed's native edit-prediction API (JSON, optionally zstd)",
    "/predict_edits/accept": "outcome report: a prediction was accepted",
    "/predict_edits/reject": "outcome report: predictions were rejected (batched)",
    "/predict_edits/settled": "outcome report: how much of an accepted edit was kept",
    "/edit_prediction_experiments": "experiment names",
    "/healthz": "status, models and queue depths",
    "/metrics": "Prometheus metrics (text format); docs/grafana-nextedit.json is a Grafana dashboard",
    "/dashboard": "monitoring dashboard (mounted by nextedit serve when telemetry is kept; JSON under /dashboard/api)",
    "/admin/reload": "reload the config file",
}


async def reload_from_file(service: PredictionService, path: Path | None = None) -> list[str]:
    """Re-read the config file and swap models/experiments without dropping requests."""
    path = path or service.config.path
    if path is None:
        raise BadRequest("the server was started without a config file; nothing to reload")
    config = await asyncio.to_thread(load_config, path)
    return await asyncio.to_thread(service.reload, config)


async def _watch_config(service: PredictionService, interval_s: float) -> None:
    """Reload when the config file's mtime changes."""
    path = service.config.path
    if path is None:
        return
    last = path.stat().st_mtime if path.exists() else 0.0
    while True:
        await asyncio.sleep(interval_s)
        try:
            mtime = path.stat().st_mtime
        except OSError:
            continue
        if mtime != last:
            last = mtime
            try:
                await reload_from_file(service, path)
            except Exception as e:  # noqa: BLE001 - keep serving the old config
                log.error("config reload from %s failed, keeping the old config: %s", path, e)


def create_app(
    config: ServerConfig | None = None,
    *,
    providers: dict[str, Any] | None = None,
    store: TelemetryStore | None = None,
    watch_config_s: float | None = None,
    sighup_reload: bool = False,
) -> FastAPI:
    """Build the app. ``providers`` maps model names to ready
    :class:`~nextedit.predict.registry.Backend` objects, served for models whose provider is
    ``test`` (embedding/tests)."""
    config = config or default_config()
    service = PredictionService(config, providers=providers, store=store)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):  # noqa: ANN202
        watcher = asyncio.create_task(_watch_config(service, watch_config_s)) if watch_config_s else None
        if sighup_reload:
            install_sighup_reload(app)
        yield
        if watcher:
            watcher.cancel()
        await asyncio.to_thread(service.close)

    app = FastAPI(title="nextedit prediction server", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.service = service
    for module in (openai, ollama, native, outcomes, chat):
        app.include_router(module.router)

    @app.exception_handler(ServerError)
    async def _server_error(request: Request, exc: ServerError) -> Response:
        return error_response(exc)

    @app.exception_handler(StarletteHTTPException)
    async def _routing_error(request: Request, exc: StarletteHTTPException) -> Response:  # 404, 405
        kind = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "invalid_request")
        message = f"{exc.detail}: {request.method} {request.url.path[:200]}"
        return JSONResponse(
            {"error": {"type": kind, "message": message}}, exc.status_code, headers=exc.headers
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:  # last resort; should not happen
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(
            {"error": {"type": "internal_error", "message": f"{type(exc).__name__}"}}, status_code=500
        )

    @app.get("/")
    async def index(request: Request) -> JSONResponse:
        return JSONResponse(
            server_index(app, str(request.base_url).rstrip("/"), full=_authenticated(request))
        )

    @app.get("/healthz")
    async def healthz(request: Request) -> JSONResponse:
        full = _authenticated(request)
        models = {
            name: {
                "model_version": m.predictor.model_version,
                "provider": provider_shown(m.predictor.spec.provider, full=full),
                "queue": m.worker.queue_depth,
            }
            for name, m in service.models.items()
        }
        return JSONResponse(
            {"status": "ok", "models": models, "experiments": [e.name for e in service.config.experiments]}
        )

    @app.get("/metrics")
    async def metrics() -> Response:
        return Response(service.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")

    @app.post("/admin/reload")
    async def admin_reload() -> JSONResponse:
        try:
            models = await reload_from_file(service)
        except ConfigError as e:
            raise BadRequest(str(e)) from None
        return JSONResponse({"status": "reloaded", "models": models})

    @app.get("/edit_prediction_experiments")
    async def experiments() -> JSONResponse:
        return JSONResponse([e.name for e in service.config.experiments])

    # /dashboard (mounted by the CLI when telemetry is kept) is a static page with no data, open so
    # that a browser can load it and ask for the token; its data under /dashboard/api needs the token
    open_paths = ("/healthz", "/", "/dashboard")
    app.add_middleware(BearerAuth, tokens=lambda: service.config.auth_tokens, open_paths=open_paths)
    app.add_middleware(RequestGuard, config=lambda: service.config)  # outermost: runs first
    return app


def _authenticated(request: Request) -> bool:
    """A valid bearer token came with this request (never true on a server without tokens)."""
    tokens = request.app.state.service.config.auth_tokens
    return bool(tokens) and bearer_ok(request.headers.get("authorization", ""), tokens)


def provider_shown(spec: str, *, full: bool) -> str:
    """What the open endpoints (``/``, ``/healthz``) say about a provider: its name only
    (``local``, ``openai-compatible``), the whole spec with its path or URL only to a client that
    sent a valid token."""
    return spec if full else spec.split(":", 1)[0]


def endpoints(app: FastAPI) -> list[dict[str, str]]:
    """``{"method", "path", "what"}`` for every route of ``app`` (from its OpenAPI paths, so that
    the protocol routers' routes are listed too)."""
    out = []
    for path, operations in app.openapi()["paths"].items():
        for method in operations:
            out.append({"method": method.upper(), "path": path, "what": ENDPOINT_PURPOSES.get(path, "")})
    return out


def zed_settings(base_url: str, prompt_format: str = DEFAULT_FORMAT) -> dict[str, Any]:
    """The Zed ``settings.json`` fragment that points Zed's OpenAI-compatible provider at the server
    at ``base_url`` (docs/zed.md explains it and the Ollama alternative)."""
    return {
        "edit_predictions": {
            "provider": "open_ai_compatible_api",
            "open_ai_compatible_api": {
                "api_url": f"{base_url}/v1/completions",
                "model": "nextedit",
                "prompt_format": prompt_format,
                "max_output_tokens": 128,
            },
        }
    }


def server_index(app: FastAPI, base_url: str, *, full: bool = False) -> dict[str, Any]:
    """What ``GET /`` answers: name, version, models, endpoints, the Zed settings and the docs
    (``full``: providers with their paths, see :func:`provider_shown`)."""
    from nextedit import __version__

    service: PredictionService = app.state.service
    return {
        "name": "nextedit",
        "version": __version__,
        "models": {
            name: {
                "provider": provider_shown(m.predictor.spec.provider, full=full),
                "model_version": m.predictor.model_version,
            }
            for name, m in service.models.items()
        },
        "endpoints": endpoints(app),
        "metrics": f"{base_url}/metrics",
        "zed_settings": zed_settings(base_url),
        "docs": DOCS,
    }


def install_sighup_reload(app: FastAPI) -> None:
    """Reload the config on SIGHUP (POSIX; call from inside the running loop)."""
    import signal

    if os.name != "posix":
        return
    loop = asyncio.get_running_loop()
    service: PredictionService = app.state.service

    def _on_hup() -> None:
        async def _do() -> None:
            try:
                await reload_from_file(service)
            except Exception as e:  # noqa: BLE001
                log.error("SIGHUP reload failed, keeping the old config: %s", e)

        loop.create_task(_do())

    loop.add_signal_handler(signal.SIGHUP, _on_hup)
