"""API keys come from the environment only and never appear in a log line, the cache or an error,
even when the server quotes the key back in its error body."""

from __future__ import annotations

import logging

import pytest

from nextedit.llm import ChatRequest, ErrorBudgetExceeded
from nextedit.llm.replay import Fault
from nextedit.llm.secrets import redact
from tests.llm.helpers import KINDS, RecordingRetry, make_client


@pytest.mark.parametrize("kind", KINDS)
def test_key_is_sent_but_never_shown(kind, keys, server, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)  # every logger, the SDKs' and httpx's included
    key = keys[
        {"anthropic": "ANTHROPIC_API_KEY", "openai": "OPENAI_API_KEY"}.get(kind, "NEXTEDIT_LLM_API_KEY")
    ]
    server.faults += [Fault.echo_key(), Fault.rate_limit(0)]
    client = make_client(
        kind, server, tmp_path, max_parallelism=1, error_budget=3, retry=RecordingRetry(max_attempts=2)
    )
    results = client.chat_many([ChatRequest.of([{"role": "user", "content": f"q{i}"}]) for i in range(3)])
    shown = [r.error or "" for r in results]
    assert shown[0] in ("HTTP 400: bad key: ***", "HTTP 400: bad key: Bearer ***")  # the quoted key, redacted
    with pytest.raises(ErrorBudgetExceeded) as info:  # the one-line stop quotes the last error
        server.faults += [Fault.echo_key() for _ in range(3)]
        client.chat_many([ChatRequest.of([{"role": "user", "content": f"r{i}"}]) for i in range(3)])
    shown.append(str(info.value))
    client.close()
    cache_bytes = b"".join(p.read_bytes() for p in tmp_path.glob("llm_cache.sqlite*"))
    assert results[1].ok and results[2].ok and len(cache_bytes) > 0
    logged = caplog.text + "".join(str(r.args) for r in caplog.records)
    for secret in keys.values():
        assert secret not in logged
        assert secret.encode() not in cache_bytes
        assert all(secret not in s for s in shown)
    assert any("bad key" in s for s in shown)
    assert key  # sent: the server saw it (else echo_key would have quoted nothing)


def test_redact_replaces_known_and_key_shaped_strings(keys):
    text = f"key {keys['OPENAI_API_KEY']} and {keys['NEXTEDIT_LLM_API_KEY']} and sk-abcdefghijklmnop"
    assert redact(text) == "key *** and *** and ***"
