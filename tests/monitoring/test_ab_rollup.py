"""The A/B rollup (``ab_users`` / ``ab_latency``) gives the same report as the raw rows.

A copy of the planted SQLite store (:mod:`tests.monitoring.conftest`) is rolled up to the middle of
the experiment, so a report reads the rollup, then the raw rows after the watermark and at the
window's unaligned edges; every figure must equal the report read from raw rows only.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select

from nextedit.monitoring import ab_rollup
from nextedit.monitoring.quantile import bootstrap_quantile, bootstrap_quantile_binned
from nextedit.monitoring.report import ArmSpec, ab_report
from nextedit.monitoring.store_reader import open_store_readonly
from nextedit.monitoring.window import Window
from tests.monitoring.conftest import DAY, START, PlantedStore

SPECS = [ArmSpec("control", 0.5), ArmSpec("bigger", 0.5)]
WINDOW = Window(START + 1234.5, START + 4 * DAY - 777.0, START - 3 * DAY + 99.0)


def _copy(planted_store: PlantedStore, tmp_path: Path) -> str:
    if not planted_store.url.startswith("sqlite"):
        pytest.skip("the copy is of a SQLite file")
    dst = tmp_path / "copy.db"
    shutil.copy(planted_store.url.split("///", 1)[1], dst)
    return f"sqlite:///{dst}"


def _same(a: object, b: object, path: str = "") -> None:
    if isinstance(a, dict):
        assert isinstance(b, dict) and set(a) == set(b), path
        for k in a:
            _same(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and isinstance(b, float) and not (math.isnan(a) and math.isnan(b)):
        assert a == pytest.approx(b, rel=1e-9, abs=1e-12), path
    else:
        assert a == b, path


def test_rollup_report_equals_raw_report(planted_store: PlantedStore, tmp_path: Path) -> None:
    url = _copy(planted_store, tmp_path)
    engine = open_store_readonly(url)
    for table in (ab_rollup.users, ab_rollup.latency, ab_rollup.state):  # other tests may have rolled it up
        table.drop(engine, checkfirst=True)
    mark = ab_rollup.refresh(engine, now=START + 2 * DAY + ab_rollup.SETTLE_S + 1800)
    assert mark == START + 2 * DAY
    with engine.connect() as conn:
        rolled = conn.execute(select(func.count()).select_from(ab_rollup.users)).scalar()
        assert rolled > 0
        partly = ab_rollup.period(conn, WINDOW.since, WINDOW.until, ["control", "bigger"])
        raw = ab_rollup.period(conn, WINDOW.since, WINDOW.until, ["control", "bigger"], rollup=False)
    assert partly[1] == raw[1]  # latency cells
    _same(partly[0], raw[0])
    from_raw = ab_report(SPECS, url, WINDOW, rollup=False)
    from_rollup = ab_report(SPECS, url, WINDOW)  # refreshes to now: every hour of the window rolled up
    with engine.connect() as conn:
        assert conn.execute(select(ab_rollup.state.c.watermark)).scalar() > WINDOW.until
    engine.dispose()
    _same(from_rollup, from_raw)
    acceptance = next(c for c in from_raw["comparisons"] if c["metric"] == "acceptance_rate")
    assert acceptance["diff"] > 0 and acceptance["p_value"] < 0.01  # the planted lift, read both ways


def test_binned_bootstrap_is_the_raw_bootstrap_of_binned_values() -> None:
    rng = np.random.default_rng(3)
    users, per = 40, 30
    user = np.repeat(np.arange(users), per)
    bins = rng.integers(0, 12, users * per)
    values = np.linspace(10.0, 120.0, 12)
    counts = np.zeros((users, 12))
    np.add.at(counts, (user, bins), 1)
    a = bootstrap_quantile(values[bins], user, users, replicates=50, rng=np.random.default_rng(0))
    b = bootstrap_quantile_binned(counts, values, replicates=50, rng=np.random.default_rng(0))
    assert a.value == b.value
    np.testing.assert_array_equal(a.replicates, b.replicates)
