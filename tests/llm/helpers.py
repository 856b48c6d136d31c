"""Helpers of the LLM client tests: clients of each backend kind pointed at a replay server, and a
retry policy that records its delays instead of sleeping them (no test waits out a backoff or races
a clock)."""

from __future__ import annotations

from pathlib import Path

from nextedit.llm import LLMClient, RetryPolicy
from nextedit.llm.replay import ReplayServer

KEYS = {
    "ANTHROPIC_API_KEY": "sk-ant-api03-TESTSECRET-anthropic-0123456789",
    "OPENAI_API_KEY": "sk-proj-TESTSECRET-openai-0123456789",
    "NEXTEDIT_LLM_API_KEY": "local-TESTSECRET-compatible-0123456789",
}
KINDS = ("openai-compatible", "openai", "anthropic")


class RecordingRetry(RetryPolicy):
    """A RetryPolicy whose sleeps are recorded, not slept."""

    def __init__(self, **kw) -> None:
        self.slept: list[float] = []
        super().__init__(sleep=self.slept.append, **kw)


def make_client(kind: str, server: ReplayServer, tmp_path: Path | None = None, **kw) -> LLMClient:
    """A client of backend ``kind`` talking to ``server`` (cache in ``tmp_path`` unless ``cache=`` given)."""
    kw.setdefault("retry", RecordingRetry())
    kw.setdefault("timeout", 30.0)
    if tmp_path is not None:
        kw.setdefault("cache", tmp_path / "llm_cache.sqlite")
    if kind == "openai-compatible":
        return LLMClient(f"openai-compatible:{server.openai_base}#replay-model", **kw)
    if kind == "openai":
        return LLMClient("openai:gpt-5", base_url=server.openai_base, **kw)
    return LLMClient("anthropic:claude-sonnet-4-5", base_url=server.url, **kw)


def model_route(kind: str) -> str:
    return "messages" if kind == "anthropic" else "chat"
