"""The dashboard over HTTP: a static page (``GET /dashboard``) and the JSON it fetches.

:func:`dashboard_router` is mounted by ``nextedit serve`` on the prediction server (after
:func:`nextedit.server.app.create_app`, so the server's auth and request guard apply to it: the
server never imports this package) and by ``nextedit dashboard`` on an app of its own
(:func:`dashboard_app`). Every asset ships in ``monitoring/static`` (uPlot, vendored with its
licence under ``static/vendor``), inlined into the one page; nothing is fetched from elsewhere.

Endpoints (GET; query ``since``/``until`` unix seconds, ``bucket`` hour|day, ``group``
model_version|experiment, ``model_version``, ``experiment``, ``api``, ``file_ext``):
``/dashboard/api/options``, ``/timeseries``, ``/latency``, ``/recent``, ``/ab``.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from importlib import resources
from typing import Any

from fastapi import APIRouter, FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from nextedit.errors import NexteditError
from nextedit.monitoring import dashboard as D
from nextedit.monitoring.store_reader import open_store_readonly

DEFAULT_SPAN_S = 7 * 86400


def _static(name: str) -> str:
    return resources.files("nextedit.monitoring").joinpath("static", *name.split("/")).read_text("utf-8")


_ASSET = re.compile(r'<link rel="stylesheet" href="([^"]+)">|<script src="([^"]+)"></script>')


def page_html() -> str:
    """``static/index.html`` with its stylesheets and scripts inlined: one self-contained page.
    The server leaves only the path ``/dashboard`` open (a static shell, no data); the page asks
    for the bearer token when ``/dashboard/api`` answers 401."""

    def inline(m: re.Match) -> str:
        css, js = m.group(1), m.group(2)
        if css:
            return "<style>\n" + _static(css) + "\n</style>"
        body = _static(js)
        if "</script" in body.lower():
            raise ValueError(f"{js}: cannot be inlined (contains </script)")
        return "<script>\n" + body + "\n</script>"

    return _ASSET.sub(inline, _static("index.html"))


def filters_from(request: Request) -> D.Filters:
    """:class:`Filters` from the query string; a bad value is a :class:`NexteditError` naming it."""
    q = request.query_params
    now = time.time()

    def num(key: str, default: float) -> float:
        try:
            return float(q[key]) if q.get(key) else default
        except ValueError:
            raise NexteditError(f"{key}: {q[key][:40]!r} is not a number (unix seconds)") from None

    until = num("until", now + 1)
    return D.Filters(
        since=num("since", until - DEFAULT_SPAN_S),
        until=until,
        bucket=q.get("bucket") or "hour",
        group=q.get("group") or "model_version",
        model_version=q.get("model_version") or None,
        experiment=q.get("experiment") or None,
        api=q.get("api") or None,
        file_ext=(q.get("file_ext") or "").lower().lstrip(".") or None,
    ).check()


def dashboard_router(store_url: str, arms: Callable[[], list[Any]] | None = None) -> APIRouter:
    """Routes of the dashboard on the store at ``store_url``. ``arms``: the A/B panel's
    :class:`~nextedit.monitoring.report.ArmSpec` list (the server config's experiments); without
    it, the experiments seen in the store with unknown weights (no SRM check)."""
    router = APIRouter()
    state: dict[str, Any] = {}

    def engine():  # noqa: ANN202 - opened on first use: the server may create the store first
        if "engine" not in state:
            state["engine"] = open_store_readonly(store_url)
        return state["engine"]

    def answer(fn: Callable[[], dict]) -> Response:
        try:
            return JSONResponse(fn())
        except NexteditError as e:
            return JSONResponse({"error": {"type": "invalid_request", "message": str(e)}}, 400)

    @router.get("/dashboard")
    def page() -> Response:
        return Response(page_html(), media_type="text/html; charset=utf-8")

    @router.get("/dashboard/api/options", include_in_schema=False)
    def options() -> Response:
        return answer(lambda: D.options(engine()))

    @router.get("/dashboard/api/timeseries", include_in_schema=False)
    def timeseries(request: Request) -> Response:
        return answer(lambda: D.timeseries(engine(), filters_from(request)))

    @router.get("/dashboard/api/latency", include_in_schema=False)
    def latency(request: Request) -> Response:
        return answer(lambda: D.latency(engine(), filters_from(request)))

    @router.get("/dashboard/api/recent", include_in_schema=False)
    def recent(request: Request) -> Response:
        return answer(lambda: D.recent(engine(), filters_from(request)))

    @router.get("/dashboard/api/ab", include_in_schema=False)
    def ab(request: Request) -> Response:
        return answer(lambda: ab_panel(store_url, engine(), filters_from(request), arms))

    return router


AB_CACHE_S = 300.0  # the A/B report reads per-user rows of the window (O(hours × users))
_ab_cache: dict[tuple, tuple[float, dict]] = {}
_ab_lock = threading.Lock()


def ab_panel(
    store_url: str, engine: Any, f: D.Filters, arms: Callable[[], list[Any]] | None, *, cache: bool = True
) -> dict:
    """``monitoring.report.ab_report``'s JSON over the filter's time range, or ``{"unavailable"}``
    saying why (fewer than two experiments, no users yet). It reads per-user rows (the A/B rollup,
    :mod:`~nextedit.monitoring.ab_rollup`, and the open hours' raw rows), so a report is reused for :data:`AB_CACHE_S` seconds for windows that start
    and end in the same 5-minute slots (``computed_at`` says when it was made)."""
    from nextedit.monitoring.report import ArmSpec, ab_report
    from nextedit.monitoring.window import Window

    specs = arms() if arms else [ArmSpec(n, None) for n in D.options(engine)["experiments"]]
    if len(specs) < 2:
        return {"unavailable": f"an A/B report needs two experiments; the store has {len(specs)}"}
    key = (store_url, tuple(specs), f.since // AB_CACHE_S, f.until // AB_CACHE_S)
    now = time.time()
    with _ab_lock:  # one report at a time: concurrent page loads wait for it instead of redoing it
        hit = _ab_cache.get(key)
        if cache and hit and now - hit[0] < AB_CACHE_S:
            return hit[1]
        try:
            report = {**ab_report(specs, store_url, Window(f.since, f.until)), "computed_at": now}
        except NexteditError as e:
            report = {"unavailable": str(e)}
        for k in [k for k, (t, _) in _ab_cache.items() if now - t >= AB_CACHE_S]:
            del _ab_cache[k]
        _ab_cache[key] = (now, report)
        return report


def dashboard_app(store_url: str) -> FastAPI:
    """The standalone dashboard (``nextedit dashboard``): the router alone, no auth (bind it to
    loopback or put it behind your proxy)."""
    open_store_readonly(store_url).dispose()  # fail now, with one line, on a bad URL
    app = FastAPI(title="nextedit dashboard", docs_url=None, redoc_url=None)
    app.include_router(dashboard_router(store_url))
    return app
