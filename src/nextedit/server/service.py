"""The prediction service: models, routing, scheduling, and per-request bookkeeping.

A protocol adapter handles one request inside ``with service.recorded(ctx):`` and, in it, calls
:meth:`PredictionService.execute` with a closure that does the model work (run in the model's
worker thread); the service assigns the experiment, enforces the deadline, supersession and queue
limits. When the block exits, the request is finished exactly once (:meth:`finish`): the latency
breakdown (queue, context, prompt, model, parse, total; **ms**), token counts, a telemetry row,
metrics and one JSON log line without code, for an answer and for an error alike.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace

from nextedit.predict.registry import Backend
from nextedit.schema.cancel import CancelToken
from nextedit.server.client_ids import client_id
from nextedit.server.config import ServedModel, ServerConfig
from nextedit.server.errors import NotFound, ServerError, Unavailable
from nextedit.server.experiments import Assignment, ExperimentRouter
from nextedit.server.inferred import OutcomeInference
from nextedit.server.metrics import ServerMetrics
from nextedit.server.predictor import Outcome, Predictor
from nextedit.server.scheduler import FirstPool, Job, ModelWorker, run_job
from nextedit.server.telemetry import TelemetryStore, open_store

log = logging.getLogger("nextedit.server")
request_log = logging.getLogger("nextedit.server.requests")

#: ``time.monotonic()`` when the request reached the server (set by
#: :class:`nextedit.server.admission.AdmissionLimit` before the body is read): the deadline and
#: the ``total`` timing count from there, so time spent before the handler is not invisible.
ARRIVED: ContextVar[float | None] = ContextVar("nextedit_arrived", default=None)


def _arrived() -> float:
    arrived = ARRIVED.get()
    return time.monotonic() if arrived is None else arrived


def _started() -> float:
    """``time.perf_counter()`` at arrival."""
    return time.perf_counter() - max(0.0, time.monotonic() - _arrived())


@dataclass
class LoadedModel:
    spec: ServedModel
    predictor: Predictor
    worker: ModelWorker


@dataclass(frozen=True)
class Snapshot:
    """Config + loaded models + router, swapped as one object on reload (readers never see a mix)."""

    config: ServerConfig
    models: dict[str, LoadedModel]
    router: ExperimentRouter


@dataclass
class RequestContext:
    """What one request carries through the service (no code content)."""

    api: str
    client_key: str
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    created: float = field(default_factory=time.time)
    arrived: float = field(default_factory=_arrived)  # time.monotonic() s, see ARRIVED
    started: float = field(default_factory=_started)  # time.perf_counter() s at arrival
    timings: dict[str, float] = field(default_factory=dict)
    assignment: Assignment | None = None
    model_version: str | None = None
    can_collect_data: bool = False
    input_json: str | None = None
    editable_range: tuple[int, int] | None = None  # v3: the answered range (excerpt bytes)
    private: bool = False  # a privacy-disabled path: nothing but counters is stored
    file_ext: str | None = None  # of the cursor path (telemetry.schema.file_ext), never the path
    # the answer, recorded when the request finishes (see PredictionService.recorded)
    outcome: Outcome | None = None
    no_edit: bool | None = None
    output: str | None = None
    error: str | None = None

    def answered(
        self, outcome: Outcome, *, output: str | None, no_edit: bool | None = None, error: str | None = None
    ) -> None:
        """What the handler answers (recorded when the request finishes)."""
        self.outcome, self.output, self.no_edit, self.error = outcome, output, no_edit, error

    def response_headers(self) -> dict[str, str]:
        """model version, request id and the latency breakdown as a standard Server-Timing header."""
        timing = ", ".join(f"{k};dur={v:.2f}" for k, v in self.timings.items() if v is not None)
        return {
            "x-nextedit-model-version": self.model_version or "",
            "x-nextedit-request-id": self.request_id,
            "server-timing": timing,
        }

    @property
    def client_id(self) -> str:
        return client_id(self.client_key)  # keyed with the install secret (server/client_ids.py)


class PredictionService:
    """Owns the loaded models (one worker pool each), the router, the store and the metrics."""

    def __init__(
        self,
        config: ServerConfig,
        *,
        providers: dict[str, Backend] | None = None,
        store: TelemetryStore | None = None,
    ) -> None:
        # embedding/test hook: model name -> ready Backend, used for specs with provider "test"
        self._providers = dict(providers or {})
        self.metrics = ServerMetrics(self.queue_depths)
        self.store = store if store is not None else open_store(config.store, on_drop=self._on_drop)
        self._reload_lock = threading.Lock()
        self.first_pool = FirstPool(config.first_workers)
        self.started_at = time.time()
        self.inference = OutcomeInference(
            lambda row, outcome: self.store.record_event(row, outcome=outcome),
            may_store_code=lambda: self.config.privacy.may_store(False),
        )  # stock Zed's outcomes, from its successive raw prompts (server/inferred.py)
        self.snapshot = Snapshot(config, self._load_models(config, {}), ExperimentRouter(config))
        self._publish_info()

    @property
    def config(self) -> ServerConfig:
        return self.snapshot.config

    @property
    def models(self) -> dict[str, LoadedModel]:
        return self.snapshot.models

    # ------------------------------------------------------------------ models
    def _on_drop(self, n: int) -> None:
        self.metrics.telemetry_dropped.inc(n)

    def _load_one(self, spec: ServedModel) -> LoadedModel:
        if spec.provider == "test":
            if spec.name not in self._providers:
                raise ValueError(
                    f"model {spec.name}: provider 'test' needs an object passed to create_app(providers=)"
                )
            predictor = Predictor(spec, self._providers[spec.name])
        else:
            try:
                predictor = Predictor(spec)
            except Exception as e:
                if not spec.fallback:
                    raise
                log.warning("model %s: provider %s failed to load (%s); serving %s instead",
                            spec.name, spec.provider, e, spec.fallback)  # fmt: skip
                predictor = Predictor(
                    replace(spec, provider=spec.fallback, first=None, fallback=None, version=spec.fallback)
                )
        log.info(
            "model %s ready (provider %s, %s, %d workers)",
            spec.name,
            spec.provider,
            predictor.kind,
            spec.workers,
        )
        return LoadedModel(
            spec,
            predictor,
            ModelWorker(
                spec.name,
                workers=spec.workers,
                max_queue=spec.max_queue,
                order=spec.queue_order,
                max_wait_ms=spec.max_wait_ms,
            ),
        )

    def _load_models(self, config: ServerConfig, current: dict[str, LoadedModel]) -> dict[str, LoadedModel]:
        models: dict[str, LoadedModel] = {}
        try:
            for name, spec in config.models.items():
                old = current.get(name)
                models[name] = old if old is not None and old.spec == spec else self._load_one(spec)
        except Exception:
            for name, m in models.items():
                if current.get(name) is not m:
                    m.worker.close(drain=False, timeout=1)
            raise
        return models

    def _publish_info(self) -> None:
        self.metrics.publish_models(
            (name, m.predictor.model_version, m.predictor.spec.provider) for name, m in self.models.items()
        )
        self.metrics.publish_experiments(e.name for e in self.config.experiments)

    def queue_depths(self) -> dict[str, tuple[int, int]]:
        snap = getattr(self, "snapshot", None)
        models = snap.models if snap is not None else {}
        return {name: (m.worker.queue_depth, m.worker.running) for name, m in models.items()}

    def reload(self, config: ServerConfig) -> list[str]:
        """Swap to ``config`` without dropping requests: unchanged models keep their workers, new
        ones load before the swap, removed ones finish their queue in the background."""
        with self._reload_lock:
            try:
                models = self._load_models(config, self.models)
            except Exception:
                self.metrics.reloads.labels("error").inc()
                raise
            old = self.models
            self.snapshot = Snapshot(config, models, ExperimentRouter(config))
            self._publish_info()
            retired = [m for name, m in old.items() if models.get(name) is not m]
            for m in retired:
                threading.Thread(target=self._retire, args=(m,), daemon=True).start()
            self.metrics.reloads.labels("ok").inc()
            log.info(
                "config reloaded: models %s, experiments %s",
                sorted(models),
                [e.name for e in config.experiments],
            )
            return sorted(models)

    @staticmethod
    def _retire(m: LoadedModel) -> None:
        m.worker.close(drain=True)
        m.predictor.close()

    def close(self) -> None:
        self.first_pool.close()
        for m in self.models.values():
            m.worker.close(drain=False, timeout=5)
            m.predictor.close()
        self.store.close()

    # ------------------------------------------------------------------ requests
    @contextmanager
    def recorded(self, ctx: RequestContext) -> Iterator[RequestContext]:
        """Handle one request in this block; when it exits the request is finished exactly once:
        ``ok`` with what the handler gave :meth:`RequestContext.answered`, or the
        :class:`ServerError` that left the block (its response then carries the request id, model
        version and timings headers), ``canceled`` (HTTP 499) when the client went away, or
        ``internal_error`` for anything else; exceptions are re-raised."""
        try:
            yield ctx
        except ServerError as e:
            self.finish(ctx, status=e.kind, http_status=e.status, error=e.message)
            e.headers.update(ctx.response_headers())
            raise
        except asyncio.CancelledError:  # the client went away while the handler awaited
            self.finish(ctx, status="canceled", http_status=499, error="client disconnected")
            raise
        except Exception as e:
            self.finish(ctx, status="internal_error", http_status=500, error=type(e).__name__)
            raise
        else:
            self.finish(
                ctx, status="ok", http_status=200, outcome=ctx.outcome, no_edit=ctx.no_edit,
                output=ctx.output, error=ctx.error,
            )  # fmt: skip

    def assign(self, ctx: RequestContext, *, pin: str | None, model_hint: str | None) -> LoadedModel:
        snap = self.snapshot  # one consistent view of router + models
        a = snap.router.assign(ctx.client_key, pin=pin, model_hint=model_hint)
        model = snap.models.get(a.model)
        if model is None:
            raise NotFound(f"model {a.model!r} is not loaded")
        ctx.assignment = a
        ctx.model_version = model.predictor.model_version
        return model

    async def execute(
        self,
        ctx: RequestContext,
        work: Callable[[Predictor, Job], Outcome],
        *,
        pin: str | None = None,
        model_hint: str | None = None,
        is_disconnected: Callable[[], Awaitable[bool]] | None = None,
        deadline_ms: float | None = None,
        first: Callable[[Predictor, CancelToken], Outcome | None] | None = None,
    ) -> Outcome:
        """Run ``work`` on the assigned model's worker and return its outcome (timings kept in
        ``ctx``); errors are re-raised for :meth:`recorded` to finish the request with.
        ``first(predictor, cancel)``: for a model with a first provider, try it before the queue
        (on :attr:`first_pool`, ~1 ms; skipped when the pool is busy); its answer supersedes the
        client's queued or running job. The deadline counts from the request's arrival."""
        budget = self.config.deadline_ms if deadline_ms is None else min(deadline_ms, self.config.deadline_ms)
        deadline = ctx.arrived + budget / 1000.0
        for attempt in range(2):
            model = self.assign(ctx, pin=pin, model_hint=model_hint)
            if first is not None and model.predictor.first is not None:
                try:
                    answered = await self.first_pool.run(
                        ctx.client_key, lambda cancel, p=model.predictor: first(p, cancel), deadline=deadline
                    )
                except ServerError:  # superseded or past the deadline
                    ctx.timings["queue"] = 0.0
                    raise
                except Exception:  # noqa: BLE001 - the model can still answer
                    log.exception("model %s: first provider failed; queueing for the model", model.spec.name)
                    answered = None
                if answered is not None:
                    model.worker.supersede(ctx.client_key)
                    ctx.timings["queue"] = 0.0
                    ctx.timings.update(answered.timings)
                    return answered
            job = Job(
                lambda j, m=model: work(m.predictor, j),
                client_key=ctx.client_key,
                deadline=deadline,
                loop=asyncio.get_running_loop(),
            )
            try:
                outcome: Outcome = await run_job(model.worker, job, is_disconnected=is_disconnected)
            except ServerError as e:
                retired = self.models.get(model.spec.name) is not model
                if isinstance(e, Unavailable) and attempt == 0 and job.state == "new" and retired:
                    continue  # a reload retired this model between assignment and submission: route again
                ctx.timings["queue"] = job.queue_ms
                raise
            ctx.timings["queue"] = job.queue_ms
            ctx.timings.update(outcome.timings)
            return outcome
        raise AssertionError("unreachable")

    def finish(
        self,
        ctx: RequestContext,
        *,
        status: str,
        http_status: int,
        outcome: Outcome | None = None,
        no_edit: bool | None = None,
        output: str | None = None,
        error: str | None = None,
    ) -> None:
        """Metrics, telemetry row and the JSON log line for one finished request (called once per
        request, by :meth:`recorded`)."""
        ctx.timings["total"] = (time.perf_counter() - ctx.started) * 1000
        mv = ctx.model_version or "unassigned"
        self.metrics.requests.labels(ctx.api, mv, status).inc()
        if status == "ok":
            self.metrics.observe_latency(mv, ctx.timings)
        if outcome is not None:
            self.metrics.prompt_tokens.labels(mv).inc(outcome.prompt_tokens)
            self.metrics.completion_tokens.labels(mv).inc(outcome.completion_tokens)
        a = ctx.assignment
        row = {
            "id": ctx.request_id,
            "created_at": ctx.created,
            "client_id": ctx.client_id,
            "model_version": ctx.model_version,
            "experiment": a.experiment if a else None,
            "api": ctx.api,
            "prompt_format": outcome.prompt_format if outcome else None,
            "status": status,
            "http_status": http_status,
            **{
                f"{k}_ms": ctx.timings.get(k)
                for k in ("queue", "context", "prompt", "model", "parse", "total")
            },
            "prompt_tokens": outcome.prompt_tokens if outcome else None,
            "completion_tokens": outcome.completion_tokens if outcome else None,
            "spec_drafted": outcome.spec_drafted if outcome else None,
            "spec_accepted": outcome.spec_accepted if outcome else None,
            "no_edit": no_edit,
            "can_collect_data": ctx.can_collect_data,
            "error": None if ctx.private else error,
            "editable_start": ctx.editable_range[0] if ctx.editable_range else None,
            "editable_end": ctx.editable_range[1] if ctx.editable_range else None,
            "file_ext": None if ctx.private else ctx.file_ext,
        }
        if self.config.privacy.may_store(ctx.can_collect_data) and not ctx.private:
            row["prompt"] = outcome.prompt if outcome else None
            row["input_json"] = ctx.input_json
            row["output"] = output
        self.store.record_request(row)
        self.metrics.remember_request(ctx.request_id, row["experiment"])
        line = {
            "event": "request",
            "request_id": ctx.request_id,
            "api": ctx.api,
            "client_id": ctx.client_id,
            "model_version": ctx.model_version,
            "experiment": row["experiment"],
            "format": row["prompt_format"],
            "status": status,
            "http_status": http_status,
            "latency_ms": {k: round(v, 2) for k, v in ctx.timings.items()},
            "prompt_tokens": row["prompt_tokens"],
            "completion_tokens": row["completion_tokens"],
            "no_edit": no_edit,
        }
        if outcome is not None and outcome.answered_by:
            line["answered_by"] = outcome.answered_by
        if error:
            line["error"] = error[:300]
        request_log.info(json.dumps(line, separators=(",", ":")))
