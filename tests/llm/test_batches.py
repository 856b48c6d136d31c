"""Batched mode over the real SDKs: OpenAI's Batch API (files + batches) and Anthropic's Message
Batches, as replayed by the loopback server. Batches finish after a set number of status polls, so
nothing here waits on a clock; the client's polling sleeps are recorded, not slept."""

from __future__ import annotations

import pytest

from nextedit.llm import ChatRequest
from nextedit.llm.replay import Fault, Reply
from tests.llm.helpers import RecordingRetry, make_client

BATCH_KINDS = ("openai", "anthropic")
CREATE = {"openai": "batches.create", "anthropic": "messages.batches.create"}
RETRIEVE = {"openai": "batches.retrieve", "anthropic": "messages.batches.retrieve"}


def requests(n: int) -> list[ChatRequest]:
    return [ChatRequest.of([{"role": "user", "content": f"b{i}"}]) for i in range(n)]


@pytest.mark.parametrize("kind", BATCH_KINDS)
def test_submit_then_a_rerun_collects(kind, keys, server, tmp_path):
    server.batch_polls = 2  # running at the first poll, ended at the second
    first = make_client(kind, server, tmp_path, batched=True)
    pending = first.chat_many(requests(4))
    assert [r.status for r in pending] == ["pending"] * 4 and first.stats.pending == 4
    assert server.counts[CREATE[kind]] == 1 and first.stats.batches_submitted == 1
    assert first.cache.batches()[0]["state"] == "submitted"  # the batch id is in the cache DB

    second = make_client(kind, server, tmp_path, batched=True)  # a rerun: status poll 1, still running
    assert [r.status for r in second.chat_many(requests(4))] == ["pending"] * 4
    assert server.counts[CREATE[kind]] == 1  # not submitted twice

    third = make_client(kind, server, tmp_path, batched=True)  # poll 2: ended, results collected
    results = third.chat_many(requests(4))
    assert [r.text for r in results] == [f"echo: b{i}" for i in range(4)]
    assert third.stats.answers == 4 and third.stats.cost_usd > 0
    price = {"openai": 100 * 1.25e-6 + 20 * 10e-6, "anthropic": 100 * 3e-6 + 20 * 15e-6}[kind]
    assert results[0].cost_usd == pytest.approx(price * 0.5)  # batch discount
    assert third.cache.batches()[0]["state"] == "collected"

    counts = dict(server.counts)
    fourth = make_client(kind, server, tmp_path, batched=True)
    assert all(r.cached for r in fourth.chat_many(requests(4)))
    assert dict(server.counts) == counts  # zero requests of any kind
    assert server.counts["batch_answers"] == 4 and server.model_requests() == 0


@pytest.mark.parametrize("kind", BATCH_KINDS)
def test_wait_polls_until_done(kind, keys, server, tmp_path):
    server.batch_polls = 3
    retry = RecordingRetry()
    client = make_client(kind, server, tmp_path, batched=True, wait=True, poll_interval=5.0, retry=retry)
    results = client.chat_many(requests(3))
    assert [r.text for r in results] == [f"echo: b{i}" for i in range(3)]
    assert retry.slept == [5.0, 5.0, 5.0]  # three polls, one poll_interval before each
    assert server.counts[CREATE[kind]] == 1


@pytest.mark.parametrize("kind", BATCH_KINDS)
def test_lost_batch_is_resubmitted(kind, keys, server, tmp_path):
    make_client(kind, server, tmp_path, batched=True).chat_many(requests(2))
    server.lose_batches()  # the provider no longer knows the batch (404)
    client = make_client(kind, server, tmp_path, batched=True, wait=True, poll_interval=0)
    results = client.chat_many(requests(2))
    assert [r.text for r in results] == ["echo: b0", "echo: b1"]
    assert server.counts[CREATE[kind]] == 2 and client.stats.batches_resubmitted == 1
    assert [b["state"] for b in client.cache.batches()] == ["lost", "collected"]


@pytest.mark.parametrize("kind", BATCH_KINDS)
def test_hits_misses_and_errored_entries(kind, keys, server, tmp_path):
    make_client(kind, server, tmp_path).chat_many(requests(1))  # b0 answered online, cached
    server.answer = lambda m: Reply(error="too long") if m[-1]["content"] == "b2" else Reply("fine")
    client = make_client(kind, server, tmp_path, batched=True, wait=True, poll_interval=0)
    results = client.chat_many(requests(3))
    assert [r.status for r in results] == ["ok", "ok", "error"]
    assert results[0].cached and results[1].text == "fine" and "too long" in results[2].error
    assert client.stats.batch_requests == 2  # the hit was not submitted


@pytest.mark.parametrize("kind", BATCH_KINDS)
def test_batch_calls_are_retried(kind, keys, server, tmp_path):
    server.faults += [Fault.rate_limit(3, routes=(CREATE[kind],)), Fault.error(502, routes=(RETRIEVE[kind],))]
    client = make_client(kind, server, tmp_path, batched=True, wait=True, poll_interval=0)
    assert [r.ok for r in client.chat_many(requests(2))] == [True, True]
    assert client.stats.retries == {"429": 1, "502": 1}
    assert server.counts[CREATE[kind]] == 2  # the 429 and the retry; one batch made


def test_large_runs_are_split_into_batches(keys, server, tmp_path):
    client = make_client(
        "anthropic", server, tmp_path, batched=True, wait=True, poll_interval=0, batch_size=3
    )
    assert all(r.ok for r in client.chat_many(requests(7)))
    assert server.counts["messages.batches.create"] == 3 and client.stats.batches_submitted == 3


def test_a_poll_that_keeps_failing_stops_the_run(keys, server, tmp_path):
    from nextedit.llm import ErrorBudgetExceeded

    make_client("anthropic", server, tmp_path, batched=True).chat_many(requests(2))
    server.faults += [Fault.error(500, routes=(RETRIEVE["anthropic"],)) for _ in range(100)]
    client = make_client(
        "anthropic",
        server,
        tmp_path,
        batched=True,
        wait=True,
        poll_interval=0,
        retry=RecordingRetry(max_attempts=2),
        error_budget=3,
    )
    with pytest.raises(ErrorBudgetExceeded, match="batch msgbatch_"):
        client.chat_many(requests(2))
    assert server.counts[RETRIEVE["anthropic"]] == 3 * 2
