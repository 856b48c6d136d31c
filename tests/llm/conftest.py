"""Fixtures of the LLM client tests: API keys in the environment, a replay server on loopback."""

from __future__ import annotations

import pytest

pytest.importorskip("openai")
pytest.importorskip("anthropic")

from nextedit.llm.replay import ReplayServer  # noqa: E402
from tests.llm.helpers import KEYS  # noqa: E402


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for name, value in KEYS.items():
        monkeypatch.setenv(name, value)
    for name in ("OPENAI_BASE_URL", "ANTHROPIC_BASE_URL", "NEXTEDIT_LLM_PRICES"):
        monkeypatch.delenv(name, raising=False)
    return KEYS


@pytest.fixture
def server():
    with ReplayServer() as s:
        yield s
