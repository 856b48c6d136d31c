"""Fixtures of the teacher-stage tests: a replay server answering as a scripted frontier model."""

from __future__ import annotations

import pytest

pytest.importorskip("openai")

from nextedit.llm import LLMConfig  # noqa: E402
from nextedit.llm.replay import ReplayServer  # noqa: E402
from tests.teacher.frontier import Frontier  # noqa: E402


@pytest.fixture
def frontier() -> Frontier:
    return Frontier()


@pytest.fixture
def server(frontier: Frontier, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("NEXTEDIT_LLM_API_KEY", "local-TESTSECRET-0123456789")
    with ReplayServer(answer=frontier) as s:
        yield s


@pytest.fixture
def llm(server: ReplayServer, tmp_path) -> LLMConfig:  # noqa: ANN001
    return LLMConfig(
        f"openai-compatible:{server.openai_base}#frontier",
        cache=str(tmp_path / "llm_cache.sqlite"),
        max_parallelism=4,
        timeout=30,
        max_attempts=2,
    )
