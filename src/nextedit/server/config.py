"""Server configuration: models, experiments and limits, from a TOML (or YAML) file.

    [server]
    store = "sqlite:///nextedit-telemetry.db"   # or postgresql+psycopg://user:pw@host/db, or "none"
    deadline_ms = 1500          # per-request deadline (queue + model)
    max_body_bytes = 2097152    # compressed request body limit
    auth_tokens = []            # bearer tokens; empty = no auth (or env NEXTEDIT_API_KEYS, comma-separated)
    allowed_hosts = []          # Host names answered besides IP literals and localhost ("*" = any)
    allowed_origins = []        # browser Origins allowed to call the API (none by default; "*" = any)
    max_inflight = 64           # prediction requests in the server at once; more: 429 + Retry-After at once
    first_workers = 2           # threads for the cheap first providers (one request per client at a time)
    max_header_bytes = 32768    # request line + headers; more: 400 and the connection closed
    read_timeout_s = 10.0       # to receive a whole request (headers + body); then the connection is closed
    keep_alive_s = 5            # idle keep-alive connections are closed after this

    [models.tiny]               # a local checkpoint through the provider registry
    provider = "local:models/nextedit-tiny"
    first = "heuristic"         # optional: asked before the queue; its edit, if any, is the answer
    prompt_format = "zeta2_1"   # the format /predict_edits/v3 uses for this model
    workers = 1
    max_queue = 32
    max_wait_ms = 500           # the most a request waits queued for the model; longer: 429 + Retry-After

    [models.big]                # a remote OpenAI-compatible backend (vLLM, llama-server)
    provider = "openai-compatible:http://127.0.0.1:8000/v1/completions"
    remote_model = "zeta"
    prompt_format = "zeta2_1"

    [[experiments]]
    name = "control"
    model = "tiny"
    weight = 0.9
    [[experiments]]
    name = "big"
    model = "big"
    weight = 0.1

Without ``[[experiments]]`` every model gets an experiment of its own name with equal weight.
"""

from __future__ import annotations

import logging
import os
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from nextedit.errors import NexteditError
from nextedit.paths import default_model_dir
from nextedit.predict.registry import check_first_spec
from nextedit.server.privacy import PrivacyPolicy, parse_privacy
from nextedit.server.scheduler import QUEUE_ORDERS

log = logging.getLogger("nextedit.server")

DEFAULT_STORE = "sqlite:///nextedit-telemetry.db"
SHIPPED_MODEL = default_model_dir()  # $NEXTEDIT_MODEL_DIR or the packaged model (nextedit.paths)


class ConfigError(NexteditError, ValueError):
    """A config file that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class ServedModel:
    """One servable model. ``provider`` is a :mod:`nextedit.predict.registry` spec (``heuristic``,
    ``local:PATH``, ``openai-compatible:URL`` for a remote completions backend, ...). ``first``
    names a cheap provider (``heuristic``) asked before a request queues for the model: its edit,
    when it has one, is the answer (``hybrid:PATH`` is shorthand for ``local:PATH`` with
    ``first = "heuristic"``)."""

    name: str
    provider: str = "heuristic"
    first: str | None = None
    version: str = ""  # model_version reported everywhere (default: the name)
    prompt_format: str = "zeta2_1"
    workers: int = 1
    max_queue: int = 64
    remote_model: str | None = None
    max_tokens: int = 512  # generation cap for /predict_edits/v3
    timeout_s: float = 10.0  # remote backends only
    fallback: str | None = None  # provider to serve (logged) when `provider` fails to load
    queue_order: str = "adaptive-lifo"  # or "fifo" (see server/scheduler.py)
    max_wait_ms: int = 500  # the most a request waits in the model's queue (more: 429 + Retry-After)

    @property
    def model_version(self) -> str:
        return self.version or self.name


@dataclass(frozen=True)
class Experiment:
    name: str
    model: str
    weight: float = 1.0


@dataclass(frozen=True)
class ServerConfig:
    models: dict[str, ServedModel]
    experiments: tuple[Experiment, ...]
    store: str = DEFAULT_STORE
    deadline_ms: int = 1500
    max_body_bytes: int = 2 << 20
    max_decompressed_bytes: int = 16 << 20
    auth_tokens: tuple[str, ...] = ()
    allowed_hosts: tuple[str, ...] = ()  # see nextedit.server.http.RequestGuard
    allowed_origins: tuple[str, ...] = ()
    assignment_salt: str = "nextedit"
    # admission control and connection limits (see server/admission.py, server/launch.py)
    max_inflight: int = 64  # prediction requests (native and raw-prompt) in the server at once
    first_workers: int = 2  # threads of the first-provider pool (server/scheduler.py FirstPool)
    max_header_bytes: int = 32 << 10
    read_timeout_s: float = 10.0  # seconds to receive one whole request, headers and body
    keep_alive_s: int = 5  # seconds an idle keep-alive connection stays open
    privacy: PrivacyPolicy = field(default_factory=PrivacyPolicy)  # [privacy], see server/privacy.py
    path: Path | None = None  # the file it came from (for reload)
    extra: dict[str, Any] = field(default_factory=dict)

    def with_overrides(self, **kw: Any) -> ServerConfig:
        return replace(self, **{k: v for k, v in kw.items() if v is not None})


def _int(value: Any, where: str, *, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{where}: expected an integer >= {minimum}, got {value!r}")
    return value


def _seconds(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1e6:
        raise ConfigError(f"{where}: expected a number of seconds > 0, got {value!r}")
    return float(value)


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"{where}: expected a list of non-empty strings, got {value!r}")
    return tuple(value)


def _privacy(table: Any, where: str) -> PrivacyPolicy:
    try:
        return parse_privacy(table, where)
    except ValueError as e:
        raise ConfigError(str(e)) from None


def parse_config(data: dict[str, Any], *, path: Path | None = None) -> ServerConfig:
    """Validate a decoded config mapping; raises :class:`ConfigError` naming the bad key."""
    where = str(path) if path else "config"
    server = data.get("server", {}) or {}
    if not isinstance(server, dict):
        raise ConfigError(f"{where}: [server] must be a table")
    raw_models = data.get("models", {}) or {}
    if not isinstance(raw_models, dict) or not raw_models:
        raise ConfigError(f"{where}: at least one [models.NAME] table is required")
    models: dict[str, ServedModel] = {}
    known = {f for f in ServedModel.__dataclass_fields__ if f != "name"}
    for name, m in raw_models.items():
        if not isinstance(m, dict):
            raise ConfigError(f"{where}: models.{name} must be a table")
        unknown = set(m) - known
        if unknown:
            raise ConfigError(f"{where}: models.{name}: unknown keys {sorted(unknown)}")
        spec = ServedModel(name=name, **m)
        _int(spec.workers, f"{where}: models.{name}.workers", minimum=1)
        _int(spec.max_queue, f"{where}: models.{name}.max_queue", minimum=1)
        _int(spec.max_wait_ms, f"{where}: models.{name}.max_wait_ms", minimum=1)
        if spec.queue_order not in QUEUE_ORDERS:
            raise ConfigError(
                f"{where}: models.{name}.queue_order must be one of {', '.join(QUEUE_ORDERS)}, got {spec.queue_order!r}"
            )
        if spec.first is not None:
            try:
                check_first_spec(spec.first)
            except ValueError as e:
                raise ConfigError(f"{where}: models.{name}.first: {e}") from e
        models[name] = spec
    experiments: list[Experiment] = []
    for i, e in enumerate(data.get("experiments", []) or []):
        if not isinstance(e, dict) or "name" not in e or "model" not in e:
            raise ConfigError(f"{where}: experiments[{i}] needs `name` and `model`")
        if e["model"] not in models:
            raise ConfigError(f"{where}: experiments[{i}] ({e['name']}): unknown model {e['model']!r}")
        weight = e.get("weight", 1.0)
        if isinstance(weight, bool) or not isinstance(weight, int | float) or weight < 0:
            raise ConfigError(f"{where}: experiments[{i}].weight must be a number >= 0")
        experiments.append(Experiment(name=str(e["name"]), model=e["model"], weight=float(weight)))
    if not experiments:
        experiments = [Experiment(name=n, model=n, weight=1.0) for n in models]
    if len({e.name for e in experiments}) != len(experiments):
        raise ConfigError(f"{where}: experiment names must be unique")
    if sum(e.weight for e in experiments) <= 0:
        raise ConfigError(f"{where}: experiment weights sum to 0")
    tokens = server.get("auth_tokens", []) or []
    env_tokens = [t.strip() for t in os.environ.get("NEXTEDIT_API_KEYS", "").split(",") if t.strip()]
    return ServerConfig(
        models=models,
        experiments=tuple(experiments),
        store=str(server.get("store", DEFAULT_STORE)),
        deadline_ms=_int(server.get("deadline_ms", 1500), f"{where}: server.deadline_ms", minimum=1),
        max_body_bytes=_int(
            server.get("max_body_bytes", 2 << 20), f"{where}: server.max_body_bytes", minimum=1
        ),
        max_decompressed_bytes=_int(
            server.get("max_decompressed_bytes", 16 << 20),
            f"{where}: server.max_decompressed_bytes",
            minimum=1,
        ),
        auth_tokens=tuple(str(t) for t in [*tokens, *env_tokens]),
        allowed_hosts=_strings(server.get("allowed_hosts", []), f"{where}: server.allowed_hosts"),
        allowed_origins=_strings(server.get("allowed_origins", []), f"{where}: server.allowed_origins"),
        assignment_salt=str(server.get("assignment_salt", "nextedit")),
        max_inflight=_int(server.get("max_inflight", 64), f"{where}: server.max_inflight", minimum=1),
        first_workers=_int(server.get("first_workers", 2), f"{where}: server.first_workers", minimum=1),
        max_header_bytes=_int(
            server.get("max_header_bytes", 32 << 10), f"{where}: server.max_header_bytes", minimum=1024
        ),
        read_timeout_s=_seconds(server.get("read_timeout_s", 10.0), f"{where}: server.read_timeout_s"),
        keep_alive_s=_int(server.get("keep_alive_s", 5), f"{where}: server.keep_alive_s", minimum=1),
        privacy=_privacy(data.get("privacy"), where),
        path=path,
    )


def load_config(path: str | Path) -> ServerConfig:
    """Read a ``.toml`` (or ``.yaml``/``.yml`` when PyYAML is installed) config file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"{p}: cannot read config: {e}") from e
    try:
        if p.suffix in (".yaml", ".yml"):
            import yaml  # optional

            data = yaml.safe_load(text) or {}
        else:
            data = tomllib.loads(text)
    except ImportError as e:
        raise ConfigError(f"{p}: YAML configs need PyYAML (pip install pyyaml) or use TOML") from e
    except Exception as e:  # noqa: BLE001 - parser errors of either library
        raise ConfigError(f"{p}: cannot parse config: {e}") from e
    if not isinstance(data, dict):
        raise ConfigError(f"{p}: top level must be a mapping")
    return parse_config(data, path=p.resolve())


def default_config(provider: str | None = None, *, store: str | None = None) -> ServerConfig:
    """The embedded default: the shipped ``models/nextedit-tiny`` behind the heuristic (``hybrid``:
    the heuristic's edit when it has one, else the model's; native and raw-prompt APIs alike) when
    the model exists and loads, else the ``heuristic`` provider (logged). ``provider`` forces a
    spec."""
    fallback = None
    if provider is None:
        if (SHIPPED_MODEL / "config.json").exists():
            provider, fallback = f"hybrid:{SHIPPED_MODEL}", "heuristic"
        else:
            log.warning("no shipped model at %s; serving the heuristic provider", SHIPPED_MODEL)
            provider = "heuristic"
    local = provider.startswith(("local", "hybrid"))
    name = "nextedit-tiny" if local else provider.split(":", 1)[0]
    log.info("default model %r uses provider %r", name, provider)
    # a local model: one worker per core (each runs single-threaded torch on the shared weights)
    workers = max(1, min(2, os.cpu_count() or 1)) if local else 2
    spec = ServedModel(name=name, provider=provider, workers=workers, fallback=fallback)
    cfg = ServerConfig(models={name: spec}, experiments=(Experiment(name="default", model=name),))
    env_tokens = tuple(t.strip() for t in os.environ.get("NEXTEDIT_API_KEYS", "").split(",") if t.strip())
    return cfg.with_overrides(store=store, auth_tokens=env_tokens or None)
