"""A real telemetry store (SQLite) filled through the store's own write API, and its server config.

Two arms of 50 % each (``control`` on model ``a``, ``bigger`` on model ``b``); every user has a
pre-period (requests labelled ``default`` in the three days before the start) with the same
personal acceptance propensity as during the experiment. The planted effect: ``bigger`` users accept
shown predictions 1.5 times as often; latency and errors are the same in both arms. Three more
clients (pinned staff) have requests in both arms. The store is SQLite, and PostgreSQL too when
``NEXTEDIT_TEST_POSTGRES_URL`` names a server (as in ``tests/server``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from nextedit.server.experiments import bucket
from nextedit.server.telemetry.store import TelemetryStore
from tests.server.conftest import POSTGRES_URL, _postgres_schema_url

START = 1_764_547_200.0  # 2025-12-01T00:00:00Z
DAY = 86400.0
CONFIG = """
[server]
store = "{store}"

[models.a]
provider = "heuristic"
[models.b]
provider = "heuristic"

[[experiments]]
name = "control"
model = "a"
weight = 0.5
[[experiments]]
name = "bigger"
model = "b"
weight = 0.5
"""


STAFF = 3


@dataclass(frozen=True)
class PlantedStore:
    url: str
    config: Path
    users: dict[str, int]  # arm -> users planted (the staff in both arms not counted)


def fill_store(url: str, *, users: int = 500, lift: float = 0.5, seed: int = 0) -> dict[str, int]:
    """Write requests and outcome events for ``users`` clients: 4 days of experiment after
    :data:`START`, 3 days of pre-period before it."""
    rng = np.random.default_rng(seed)
    store = TelemetryStore(url, max_pending=1_000_000)
    counts = {"control": 0, "bigger": 0}
    rid = 0
    for u in range(users):
        client = f"client-{u:05d}"
        arm = "control" if bucket("nextedit", client) < 0.5 else "bigger"
        counts[arm] += 1
        propensity = rng.beta(3, 9)
        activity = rng.gamma(2.0, 4.0)
        for period, label, t0, days, p in (
            ("pre", "default", START - 3 * DAY, 3, propensity),
            ("during", arm, START, 4, propensity * (1 + lift) if arm == "bigger" else propensity),
        ):
            for _ in range(int(rng.poisson(activity * days / 4)) + (period == "during")):
                rid += 1
                request_id = f"r{rid}"
                error = rng.random() < 0.01
                store.record_request(
                    {
                        "id": request_id,
                        "created_at": t0 + rng.random() * days * DAY,
                        "client_id": client,
                        "model_version": label,
                        "experiment": label,
                        "api": "v3",
                        "status": "deadline_exceeded" if error else "ok",
                        "http_status": 408 if error else 200,
                        "total_ms": float(rng.lognormal(np.log(120), 0.4)),
                    }
                )
                if error:
                    continue
                shown = rng.random() < 0.7
                if shown and rng.random() < p:
                    event = {"request_id": request_id, "created_at": t0, "kind": "accept", "was_shown": True}
                    store.record_event(event, outcome="accepted")
                    settled = {
                        "request_id": request_id,
                        "created_at": t0,
                        "kind": "settled",
                        "edit_bytes_kept_rate": float(rng.beta(6, 3)),
                    }
                    store.record_event(settled)
                else:
                    reason = "Discarded" if shown else "Canceled"
                    event = {
                        "request_id": request_id,
                        "created_at": t0,
                        "kind": "reject",
                        "reason": reason,
                        "was_shown": shown,
                    }
                    store.record_event(event, outcome=f"rejected:{reason}")
    for s in range(STAFF):  # pinned by header to one arm, then the other
        for i, arm in enumerate(("control", "bigger", "control")):
            rid += 1
            store.record_request(
                {"id": f"r{rid}", "created_at": START + i * DAY, "client_id": f"staff-{s}", "experiment": arm}
            )
    assert store.flush(60)
    store.close()
    return counts


STORES = [
    "sqlite",
    pytest.param(
        "postgres", marks=pytest.mark.skipif(not POSTGRES_URL, reason="NEXTEDIT_TEST_POSTGRES_URL not set")
    ),
]


@pytest.fixture(scope="session", params=STORES)
def planted_store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> PlantedStore:
    d = tmp_path_factory.mktemp("ab-store")
    url = (
        f"sqlite:///{d / 'telemetry.db'}" if request.param == "sqlite" else _postgres_schema_url(POSTGRES_URL)
    )
    counts = fill_store(url)
    config = d / "server.toml"
    config.write_text(CONFIG.format(store=url), encoding="utf-8")
    return PlantedStore(url, config, counts)
