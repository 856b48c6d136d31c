"""Fixtures: a real uvicorn server on loopback with a SQLite (or PostgreSQL) telemetry store."""

from __future__ import annotations

import os
import tempfile
import uuid

import pytest

from nextedit.server.app import create_app
from nextedit.server.config import parse_config
from nextedit.server.launch import ServerThread

# the server's install secret (nextedit/server/client_ids.py) goes to a temp dir, not ~/.config
os.environ.setdefault("NEXTEDIT_CONFIG_DIR", tempfile.mkdtemp(prefix="nextedit-test-config-"))

POSTGRES_URL = os.environ.get("NEXTEDIT_TEST_POSTGRES_URL")
STORES = [
    "sqlite",
    pytest.param(
        "postgres", marks=pytest.mark.skipif(not POSTGRES_URL, reason="NEXTEDIT_TEST_POSTGRES_URL not set")
    ),
]


def _postgres_schema_url(base: str) -> str:
    """A fresh database per test run (tables are shared otherwise)."""
    import sqlalchemy as sa

    name = f"nextedit_test_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(
        base.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
    )
    with engine.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    head, _, _ = base.rpartition("/")
    return f"{head}/{name}"


@pytest.fixture(params=STORES)
def store_url(request, tmp_path):  # noqa: ANN001, ANN201
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'telemetry.db'}"
    return _postgres_schema_url(POSTGRES_URL)


@pytest.fixture
def start_server(tmp_path):  # noqa: ANN001, ANN201
    """start_server(config_dict, providers=...) → running ServerThread (stopped at teardown)."""
    servers: list[ServerThread] = []

    def _start(data: dict, providers: dict | None = None, store: str | None = None, config_path=None):  # noqa: ANN001, ANN202
        data = dict(data)
        server = dict(data.get("server", {}))
        server.setdefault("store", store or f"sqlite:///{tmp_path / 'telemetry.db'}")
        data["server"] = server
        cfg = parse_config(data, path=config_path)
        srv = ServerThread(create_app(cfg, providers=providers)).start()
        servers.append(srv)
        return srv

    yield _start
    for s in servers:
        s.stop()
