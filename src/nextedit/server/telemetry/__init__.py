"""Telemetry: request rows and outcome events, written behind a queue (SQLite WAL or PostgreSQL)."""

from nextedit.server.telemetry.store import TelemetryStore, open_store

__all__ = ["TelemetryStore", "open_store"]
