"""LLMClient over the real SDKs against the replay server: answers, retries, timeouts, the error
budget, parallelism. Every count is taken at the server."""

from __future__ import annotations

import threading

import pytest

from nextedit.errors import NexteditError
from nextedit.llm import ChatParams, ChatRequest, ErrorBudgetExceeded, LLMFatalError, RetryPolicy
from nextedit.llm.replay import Fault, Reply
from tests.llm.helpers import KINDS, RecordingRetry, make_client, model_route

HELLO = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hello"}]


@pytest.mark.parametrize("kind", KINDS)
def test_answer_tokens_and_cost(kind, keys, server):
    client = make_client(kind, server)
    result = client.chat(HELLO, ChatParams(max_tokens=64, temperature=0.0, seed=3))
    assert result.ok and result.text == "echo: hello" and result.finish_reason == "stop"
    assert (result.prompt_tokens, result.completion_tokens) == (100, 20)
    # prices.toml: gpt-5 $1.25/$10, claude-sonnet-4-5 $3/$15 per 1M tokens; a local server is free
    expected = {
        "openai": 100 * 1.25e-6 + 20 * 10e-6,
        "anthropic": 100 * 3e-6 + 20 * 15e-6,
        "openai-compatible": 0,
    }
    assert result.cost_usd == pytest.approx(expected[kind])
    assert server.counts[model_route(kind)] == 1 == client.stats.http_attempts
    route, body = server.bodies[0]
    if kind == "anthropic":
        assert body["system"] == "Be brief." and body["messages"] == [{"role": "user", "content": "hello"}]
        assert body["max_tokens"] == 64 and "seed" not in body
    else:
        assert body["messages"] == HELLO and body["seed"] == 3 and body["temperature"] == 0.0
        assert body["max_completion_tokens" if kind == "openai" else "max_tokens"] == 64
    assert client.stats.as_dict()["cost_usd"] == pytest.approx(expected[kind], abs=1e-6)


@pytest.mark.parametrize("kind", KINDS)
def test_truncated_answer_is_length(kind, keys, server):
    server.answer = lambda messages: Reply("partial", finish_reason="length")
    result = make_client(kind, server).chat(HELLO)
    assert result.ok and result.truncated and result.text == "partial"


@pytest.mark.parametrize("kind", KINDS)
def test_retries_429_500_reset_then_answer(kind, keys, server):
    server.faults += [Fault.rate_limit(retry_after=7), Fault.error(500), Fault.error(503), Fault.reset()]
    retry = RecordingRetry(base_delay=0.5)
    client = make_client(kind, server, retry=retry)
    result = client.chat(HELLO)
    assert result.ok and result.text == "echo: hello"
    assert server.counts[model_route(kind)] == 5 == client.stats.http_attempts  # the SDK retried nothing
    assert client.stats.retries == {"429": 1, "500": 1, "503": 1, "connection": 1}
    assert client.stats.summary().startswith(
        "1 answers (0 cached), 4 retries (429: 1, 500: 1, 503: 1, connection: 1)"
    )
    assert client.stats.as_dict()["retries"] == 4 and client.stats.as_dict()["http_attempts"] == 5
    assert len(retry.slept) == 4 and retry.slept[0] >= 7  # Retry-After honoured
    assert all(d <= 0.5 * 2**i for i, d in enumerate(retry.slept[1:], start=1))  # backoff with jitter


@pytest.mark.parametrize("kind", ["openai-compatible", "anthropic"])
def test_stall_times_out_and_is_retried(kind, keys, server):
    server.faults.append(Fault.stall(30.0))  # 15x the client's timeout: the stall cannot win
    client = make_client(kind, server, timeout=2.0)
    result = client.chat(HELLO)
    assert result.ok
    assert client.stats.retries == {"timeout": 1}
    assert server.counts[model_route(kind)] == 2


def test_retries_run_out_into_an_error_result(keys, server):
    server.faults += [Fault.error(500) for _ in range(3)]
    client = make_client("openai-compatible", server, retry=RecordingRetry(max_attempts=3))
    result = client.chat(HELLO)
    assert result.status == "error" and "HTTP 500" in result.error and "after 3 attempts" in result.error
    assert server.counts["chat"] == 3 and client.stats.failures == 1


def test_a_refused_request_is_not_retried(keys, server):
    server.answer = lambda messages: Reply(error="prompt is too long")
    client = make_client("openai-compatible", server)
    result = client.chat(HELLO)
    assert result.status == "error" and result.error == "HTTP 400: prompt is too long"
    assert server.counts["chat"] == 1


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
def test_rejected_key_stops_at_once(kind, keys, server):
    server.faults.append(Fault.error(401))
    client = make_client(kind, server, max_parallelism=1)
    with pytest.raises(LLMFatalError, match=r"HTTP 401.*check \$(OPENAI|ANTHROPIC)_API_KEY"):
        client.chat_many([ChatRequest.of([{"role": "user", "content": f"q{i}"}]) for i in range(5)])
    assert server.counts[model_route(kind)] == 1
    with pytest.raises(LLMFatalError):  # and stays stopped
        client.chat(HELLO)


@pytest.mark.parametrize("parallelism", [1, 4])
def test_error_budget_stops_the_run(parallelism, keys, server):
    server.faults += [Fault.error(500) for _ in range(1000)]
    client = make_client(
        "openai-compatible",
        server,
        retry=RecordingRetry(max_attempts=2),
        error_budget=3,
        max_parallelism=parallelism,
    )
    requests = [ChatRequest.of([{"role": "user", "content": f"q{i}"}]) for i in range(40)]
    with pytest.raises(ErrorBudgetExceeded) as info:
        client.chat_many(requests)
    message = str(info.value)
    assert "\n" not in message and "3 consecutive failed requests" in message and "HTTP 500" in message
    if parallelism == 1:
        assert server.counts["chat"] == 3 * 2
    else:  # the workers already in flight finish their attempt, then stop
        assert server.counts["chat"] <= (3 + parallelism) * 2
    with pytest.raises(ErrorBudgetExceeded):  # a spent budget stays spent
        client.chat(HELLO)


def test_a_stopping_run_wakes_a_worker_waiting_out_retry_after(keys, server):
    import time

    server.faults.append(Fault.rate_limit(retry_after=120, match="slow"))
    server.answer = lambda m: Reply(error="refused")
    client = make_client(
        "openai-compatible", server, retry=RetryPolicy(max_attempts=3), error_budget=1, max_parallelism=2
    )
    start = time.monotonic()
    with pytest.raises(ErrorBudgetExceeded, match="refused"):
        client.chat_many([ChatRequest.of([{"role": "user", "content": c}]) for c in ("slow", "bad")])
    assert time.monotonic() - start < 60  # not the 120 s Retry-After: the stop woke the waiting worker
    assert server.counts["chat"] == 2


def test_a_success_resets_the_budget(keys, server):
    failing = {"q0", "q1", "q3", "q4"}  # two failures, a success, two failures, a success
    server.answer = lambda m: Reply(error="refused") if m[-1]["content"] in failing else Reply("fine")
    client = make_client("openai-compatible", server, error_budget=3, max_parallelism=1)
    results = client.chat_many([ChatRequest.of([{"role": "user", "content": f"q{i}"}]) for i in range(6)])
    assert [r.status for r in results] == ["error", "error", "ok", "error", "error", "ok"]


def test_max_parallelism_requests_in_flight_together(keys, server):
    together = threading.Barrier(4, timeout=20)  # breaks unless 4 requests are in flight at once

    def answer(messages):
        together.wait()
        return Reply(f"ok {messages[-1]['content']}")

    server.answer = answer
    client = make_client("openai-compatible", server, max_parallelism=4)
    results = client.chat_many([ChatRequest.of([{"role": "user", "content": f"q{i}"}]) for i in range(8)])
    assert [r.text for r in results] == [f"ok q{i}" for i in range(8)]
    assert server.counts["chat"] == 8


def test_identical_requests_are_sent_once(keys, server):
    client = make_client("openai-compatible", server, max_parallelism=4)
    request = ChatRequest.of(HELLO)
    seen = []
    results = client.chat_many([request, request, request], on_result=lambda i, r: seen.append(i))
    assert [r.text for r in results] == ["echo: hello"] * 3 and sorted(seen) == [0, 1, 2]
    assert server.counts["chat"] == 1


def test_unreachable_server_is_a_connection_failure(keys, tmp_path):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    from nextedit.llm import LLMClient

    client = LLMClient(
        f"openai-compatible:http://127.0.0.1:{port}/v1#m",
        retry=RecordingRetry(max_attempts=2),
        error_budget=1,
    )
    with pytest.raises(ErrorBudgetExceeded, match="connection failed"):
        client.chat(HELLO)


def test_missing_key_is_one_line(monkeypatch, server):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    client = make_client("openai", server)
    with pytest.raises(NexteditError, match=r"^openai:gpt-5: set \$OPENAI_API_KEY"):
        client.chat(HELLO)


def test_bad_messages_are_a_caller_bug():
    with pytest.raises(ValueError, match="last message"):
        ChatRequest.of([{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}])
    with pytest.raises(ValueError, match=r"messages\[0\]"):
        ChatRequest.of([{"role": "robot", "content": "q"}])


def test_config_pickles_and_opens_a_client(keys, server, tmp_path):
    import pickle

    from nextedit.llm import LLMConfig

    config = LLMConfig(
        f"openai-compatible:{server.openai_base}#m", cache=str(tmp_path / "c.sqlite"), max_attempts=2
    )
    server.faults.append(Fault.error(500))
    with pickle.loads(pickle.dumps(config)).open() as client:
        assert client.chat(HELLO).ok and client.retry.max_attempts == 2
        counters = client.stats.counters()
    assert counters["llm.answers"] == 1 and counters["llm.retries.500"] == 1 and counters["llm.retries"] == 1
    with pytest.raises(NexteditError, match="'nope'"):
        LLMConfig("nope")


def test_retry_after_forms():
    from nextedit.llm.retry import parse_retry_after

    assert parse_retry_after({"retry-after": "3"}) == 3.0
    assert parse_retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert parse_retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0  # in the past
    assert parse_retry_after({"retry-after": "soon"}) is None and parse_retry_after({}) is None
    assert RetryPolicy(max_retry_after=10).delay(0, 3600) == 10  # capped


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"max_parallelism": 0}, "max_parallelism must be at least 1"),
        ({"timeout": 0}, "timeout must be"),
        ({"batched": True}, "batched mode needs a response cache"),
    ],
)
def test_bad_client_settings_are_one_line(kw, message):
    from nextedit.llm import LLMClient

    with pytest.raises(NexteditError, match=message):
        LLMClient("openai:gpt-5", **kw)
