"""Monitoring: the A/B analysis of the server's experiments, read from the telemetry store.

* :mod:`~nextedit.monitoring.report` — ``nextedit ab report``: per-arm figures, comparisons,
  SRM, sequential tests and the decision, as one JSON-ready dict
* :mod:`~nextedit.monitoring.store_reader` — the store (SQLite / PostgreSQL) → per-user totals
* :mod:`~nextedit.monitoring.ab_rollup` — per (hour, experiment, client) totals and latency
  histograms, kept up to date incrementally; :mod:`~nextedit.monitoring.arm_reader` assembles the
  report's arms from it and the open hours' raw rows
* :mod:`~nextedit.monitoring.promote` — ``nextedit promote``: the winner gets 100 % in the server
  config (atomic edit) and the running server reloads it
* :mod:`~nextedit.monitoring.user_table` — per-user totals of an arm and the metric definitions
* :mod:`~nextedit.monitoring.ratio` — ratio metrics over user clusters: delta method, CUPED
* :mod:`~nextedit.monitoring.quantile` — latency p95 with a user-cluster (Poisson) bootstrap
* :mod:`~nextedit.monitoring.srm` — the sample-ratio-mismatch chi-square check
* :mod:`~nextedit.monitoring.sequential` — always-valid mSPRT and alpha-spending boundaries
* :mod:`~nextedit.monitoring.decision` — guardrails and the ship / keep / keep running decision
* :mod:`~nextedit.monitoring.distributions` — normal and chi-square functions (no scipy)
* :mod:`~nextedit.monitoring.simulation` — synthetic users for the tests and ``bench ab``
* :mod:`~nextedit.monitoring.window` — the report's time window and the times users type
* :mod:`~nextedit.monitoring.dashboard` — the dashboard's panels (JSON-ready dicts) per model
  version / experiment, read from :mod:`~nextedit.monitoring.dashboard_rollup` (hourly rollup
  tables kept up to date incrementally) and served by :mod:`~nextedit.monitoring.dashboard_app`
  (``/dashboard``, its JSON API and the static page in ``static/``; see ``docs/dashboard.md``)

Layering: above ``server`` (it reads ``server.config`` and ``server.telemetry``, never writes
their tables; the derived ``dashboard_*`` and ``ab_*`` tables are its own; ``promote`` edits the config file), below ``bench`` and ``cli``; nothing under it imports it. Pure Python + numpy + SQLAlchemy;
it prints nothing and raises :class:`nextedit.errors.NexteditError` for what the user can fix.
The statistics are described, with their parameters, in ``docs/ab.md``.
"""
