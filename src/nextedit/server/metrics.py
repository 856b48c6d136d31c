"""Prometheus metrics of one server instance (own registry, so tests can run several servers).

Latency histograms are in **seconds**, labelled by ``model_version`` and ``stage`` (queue, context,
prompt, model, parse, total). Token counters count model tokens (or bytes//3 estimates for
non-neural providers).

``model_version`` labels come only from the server's own models (:meth:`ServerMetrics.publish_models`):
a version a client reports that the server never served is counted as ``other``, so clients cannot
grow the label set (each label value is a time series kept for the life of the process).
``experiment`` labels likewise come only from the config's ``[[experiments]]``
(:meth:`ServerMetrics.publish_experiments`); an outcome report carries no experiment, so the
server remembers the experiment of its last :data:`EXPERIMENT_MEMORY` requests
(:meth:`ServerMetrics.remember_request`) and labels a report for an older or unknown request
``none``. The per-experiment families (``nextedit_outcomes``, ``nextedit_rejections``,
``nextedit_outcome_kept_rate``) are what ``docs/grafana-nextedit.json`` charts.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

OTHER_VERSION = "other"
NO_EXPERIMENT = "none"
EXPERIMENT_MEMORY = 100_000  # request id -> experiment entries kept for outcome labels (~10 MB)
KEPT_BUCKETS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
STAGES = ("queue", "context", "prompt", "model", "parse", "total")
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1.0, 2.0, 5.0)


class _QueueDepthCollector:
    def __init__(self, depths: Callable[[], dict[str, tuple[int, int]]]) -> None:
        self.depths = depths

    def collect(self):  # noqa: ANN201 - prometheus collector protocol
        queued = GaugeMetricFamily(
            "nextedit_queue_depth", "Requests waiting for a model worker", labels=["model"]
        )
        running = GaugeMetricFamily(
            "nextedit_running", "Requests being run by a model worker", labels=["model"]
        )
        for model, (q, r) in sorted(self.depths().items()):
            queued.add_metric([model], q)
            running.add_metric([model], r)
        yield queued
        yield running


class ServerMetrics:
    def __init__(self, queue_depths: Callable[[], dict[str, tuple[int, int]]] | None = None) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.latency = Histogram(
            "nextedit_request_latency_seconds",
            "Server-side latency per stage",
            ["model_version", "stage"],
            buckets=BUCKETS,
            registry=r,
        )
        self.requests = Counter(
            "nextedit_requests",
            "Requests by API, model version and status",
            ["api", "model_version", "status"],
            registry=r,
        )
        self.prompt_tokens = Counter("nextedit_prompt_tokens", "Prompt tokens", ["model_version"], registry=r)
        self.completion_tokens = Counter(
            "nextedit_completion_tokens", "Completion tokens", ["model_version"], registry=r
        )
        self.accepted = Counter(
            "nextedit_predictions_accepted", "Accepted predictions", ["model_version"], registry=r
        )
        self.rejected = Counter(
            "nextedit_predictions_rejected",
            "Rejected predictions",
            ["model_version", "reason", "was_shown"],
            registry=r,
        )
        self.settled = Counter(
            "nextedit_predictions_settled", "Settled predictions", ["model_version"], registry=r
        )
        self.kept_rate = Histogram(
            "nextedit_settled_kept_rate",
            "Kept rate of settled predictions",
            ["model_version"],
            buckets=KEPT_BUCKETS,
            registry=r,
        )
        self.outcomes = Counter(
            "nextedit_outcomes",
            "Outcome reports (accepted, rejected, settled) by model version and experiment",
            ["model_version", "experiment", "outcome"],
            registry=r,
        )
        self.rejections = Counter(
            "nextedit_rejections",
            "Rejected predictions by model version, experiment and reason",
            ["model_version", "experiment", "reason"],
            registry=r,
        )
        self.outcome_kept_rate = Histogram(
            "nextedit_outcome_kept_rate",
            "Kept rate of settled predictions by model version and experiment",
            ["model_version", "experiment"],
            buckets=KEPT_BUCKETS,
            registry=r,
        )
        self.settled_remeasured = Counter(
            "nextedit_settled_remeasured",
            "Settled reports by what the server's recomputation found (unlinked, no_region, match, mismatch)",
            ["result"],
            registry=r,
        )
        self.telemetry_dropped = Counter(
            "nextedit_telemetry_dropped",
            "Telemetry records dropped (writer queue full or write failed)",
            registry=r,
        )
        self.reloads = Counter("nextedit_config_reloads", "Config reloads", ["result"], registry=r)
        self.info = Gauge(
            "nextedit_model_info", "Served models", ["model", "model_version", "provider"], registry=r
        )
        if queue_depths is not None:
            r.register(_QueueDepthCollector(queue_depths))
        self._served_versions: frozenset[str] = frozenset()
        self._experiments: frozenset[str] = frozenset()
        self._experiment_of: OrderedDict[str, str] = OrderedDict()

    def publish_models(self, models: Iterable[tuple[str, str, str]]) -> None:
        """The served models as ``(name, model_version, provider)``: the ``nextedit_model_info``
        gauge, and the versions :meth:`version_label` lets through (kept across reloads, so reports
        for a retired version still count under its name; bounded by the configs loaded)."""
        self.info.clear()
        versions = set(self._served_versions)
        for name, version, provider in models:
            self.info.labels(name, version, provider).set(1)
            versions.add(version)
        self._served_versions = frozenset(versions)

    def version_label(self, model_version: str | None) -> str:
        """The ``model_version`` label for a version a client reported: itself if this server served
        it, else ``other`` (missing included)."""
        return model_version if model_version in self._served_versions else OTHER_VERSION

    def publish_experiments(self, names: Iterable[str]) -> None:
        """The config's experiment names: the ``experiment`` label values allowed (kept across
        reloads, like model versions)."""
        self._experiments = self._experiments | frozenset(names)

    def remember_request(self, request_id: str | None, experiment: str | None) -> None:
        """Note the experiment of a request the server answered (the last
        :data:`EXPERIMENT_MEMORY` are kept), so its outcome reports can be labelled with it."""
        if not request_id or not experiment:
            return
        self._experiment_of[request_id] = experiment
        if len(self._experiment_of) > EXPERIMENT_MEMORY:
            self._experiment_of.popitem(last=False)

    def experiment_label(self, request_id: str | None) -> str:
        """The ``experiment`` label of a reported request: its experiment when the server still
        remembers it and the config names it, else ``none``."""
        name = self._experiment_of.get(request_id or "")
        return name if name in self._experiments else NO_EXPERIMENT

    def observe_outcome(
        self,
        outcome: str,
        request_id: str | None,
        model_version: str | None,
        *,
        reason: str | None = None,
        was_shown: bool | None = None,
        kept_rate: float | None = None,
    ) -> None:
        """Count one outcome report (``accepted``, ``rejected`` or ``settled``) in the per-version
        families and the per-(version, experiment) ones."""
        mv, ex = self.version_label(model_version), self.experiment_label(request_id)
        self.outcomes.labels(mv, ex, outcome).inc()
        if outcome == "accepted":
            self.accepted.labels(mv).inc()
        elif outcome == "rejected":
            self.rejected.labels(mv, reason, str(was_shown).lower()).inc()
            self.rejections.labels(mv, ex, reason).inc()
        elif outcome == "settled":
            self.settled.labels(mv).inc()
            if kept_rate is not None:
                self.kept_rate.labels(mv).observe(kept_rate)
                self.outcome_kept_rate.labels(mv, ex).observe(kept_rate)
        else:
            raise ValueError(f"unknown outcome {outcome!r}")

    def observe_latency(self, model_version: str, timings_ms: dict[str, float]) -> None:
        for stage in STAGES:
            if stage in timings_ms and timings_ms[stage] is not None:
                self.latency.labels(model_version, stage).observe(timings_ms[stage] / 1000.0)

    def render(self) -> bytes:
        return generate_latest(self.registry)
