"""Fixtures: the small git repository of tests/data, and one local Ray instance per module."""

from __future__ import annotations

import pytest

from tests.data.conftest import small_repo  # noqa: F401  (a real repository made with git)


@pytest.fixture(scope="module")
def local_ray():
    """A small local Ray instance (2 CPUs, no dashboard), shut down after the module."""
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()
