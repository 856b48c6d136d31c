"""The response cache: reruns make zero requests, cache-only never calls out, and the SQLite file
survives concurrent writers (threads and processes) and a writer killed with SIGKILL."""

from __future__ import annotations

import itertools
import signal
import subprocess
import sys
import threading

import pytest

from nextedit.errors import NexteditError
from nextedit.llm import ChatParams, ChatRequest, ChatResult, LLMClient, ResponseCache, request_key
from tests.llm.helpers import KINDS, make_client, model_route


def requests(n: int, prefix: str = "q") -> list[ChatRequest]:
    return [ChatRequest.of([{"role": "user", "content": f"{prefix}{i}"}]) for i in range(n)]


@pytest.mark.parametrize("kind", KINDS)
def test_rerun_makes_zero_requests(kind, keys, server, tmp_path):
    first = make_client(kind, server, tmp_path, max_parallelism=4).chat_many(requests(6))
    assert server.model_requests() == 6
    again = make_client(kind, server, tmp_path, max_parallelism=4)
    second = again.chat_many(requests(6))
    assert server.model_requests() == 6  # counted at the server: nothing new
    assert [r.text for r in second] == [r.text for r in first] and all(r.cached for r in second)
    assert again.stats.cache_hits == 6 and again.stats.http_attempts == 0
    assert again.stats.prompt_tokens == 0  # cached answers cost nothing this run


def test_key_covers_model_params_seed_and_messages(keys, server, tmp_path):
    client = make_client("openai-compatible", server, tmp_path)
    base = [{"role": "user", "content": "q"}]
    variants = [
        ChatRequest.of(base),
        ChatRequest.of(base, ChatParams(max_tokens=10)),
        ChatRequest.of(base, ChatParams(temperature=0.5)),
        ChatRequest.of(base, ChatParams(seed=1)),
        ChatRequest.of([{"role": "system", "content": "s"}, *base]),
    ]
    assert len({client.key(r) for r in variants}) == len(variants)
    client.chat_many(variants)
    assert server.counts["chat"] == len(variants)
    other = LLMClient(
        f"openai-compatible:{server.openai_base}#another-model", cache=tmp_path / "llm_cache.sqlite"
    )
    other.chat_many(variants[:1])
    assert server.counts["chat"] == len(variants) + 1  # another model is another key


@pytest.mark.parametrize("kind", KINDS)
def test_cache_only_never_calls_out(kind, keys, server, tmp_path, monkeypatch):
    make_client(kind, server, tmp_path).chat_many(requests(2))
    for name in keys:  # no key needed: the backend is never opened
        monkeypatch.delenv(name)
    client = make_client(kind, server, tmp_path, cache_only=True)
    results = client.chat_many(requests(3))
    assert [r.status for r in results] == ["ok", "ok", "missing"]
    assert "cache-only" in results[2].error and client.stats.cache_misses == 1
    assert server.counts[model_route(kind)] == 2


def test_failures_are_not_cached(keys, server, tmp_path):
    from nextedit.llm.replay import Reply

    server.answer = lambda m: Reply(error="no")
    assert make_client("openai-compatible", server, tmp_path).chat_many(requests(1))[0].status == "error"
    server.answer = lambda m: Reply("yes")
    assert make_client("openai-compatible", server, tmp_path).chat_many(requests(1))[0].text == "yes"
    assert server.counts["chat"] == 2


def test_threads_write_concurrently(tmp_path):
    cache = ResponseCache(tmp_path / "c.sqlite")

    def write(t: int) -> None:
        for i in range(50):
            cache.put(f"{t}-{i}", "b", "m", ChatResult(text=f"{t}/{i}"))

    threads = [threading.Thread(target=write, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(cache) == 400 and cache.get("7-49").text == "7/49"
    assert cache._db().execute("PRAGMA journal_mode").fetchone()[0] == "wal"


WRITER = """
import sys
from nextedit.llm import ChatResult, ResponseCache
cache = ResponseCache(sys.argv[1])
for i in range(int(sys.argv[3])):
    cache.put(f"{sys.argv[2]}-{i}", "b", "m", ChatResult(text="x" * 2000 + str(i)))
    print(i, flush=True)
"""


def test_processes_write_concurrently(tmp_path):
    path = tmp_path / "c.sqlite"
    ResponseCache(path).close()
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(path), f"p{p}", "100"], stdout=subprocess.DEVNULL)
        for p in range(3)
    ]
    assert [w.wait(timeout=120) for w in writers] == [0, 0, 0]
    cache = ResponseCache(path)
    assert len(cache) == 300 and cache.get("p2-99").text.endswith("99")


def test_kill_9_keeps_every_committed_entry(tmp_path):
    path = tmp_path / "c.sqlite"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path), "k", "100000"], stdout=subprocess.PIPE, text=True
    )
    committed = [int(writer.stdout.readline()) for _ in range(200)]  # put() returned: committed
    writer.send_signal(signal.SIGKILL)
    writer.wait(timeout=30)
    assert writer.returncode == -signal.SIGKILL
    cache = ResponseCache(path)
    assert cache._db().execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert all(cache.get(f"k-{i}") is not None for i in committed)
    assert len(cache) >= len(committed)


def test_not_a_database_is_one_line(tmp_path):
    path = tmp_path / "c.sqlite"
    path.write_text("this is not sqlite, " * 100)
    with pytest.raises(NexteditError, match=r"c\.sqlite: cannot open the LLM response cache"):
        ResponseCache(path)


def test_key_is_stable():
    request = ChatRequest.of([{"role": "user", "content": "q"}], ChatParams(max_tokens=1, seed=0))
    assert request_key("openai", "gpt-5", request) == request_key("openai", "gpt-5", request)
    assert len(request_key("openai", "gpt-5", request)) == 64


CLIENT = """
import sys
from nextedit.llm import ChatRequest, LLMClient
client = LLMClient(sys.argv[1], cache=sys.argv[2], max_parallelism=2)
client.chat_many([ChatRequest.of([{"role": "user", "content": f"q{i}"}]) for i in range(int(sys.argv[3]))])
"""


def test_client_killed_mid_run_repeats_no_answered_request(keys, server, tmp_path):
    from nextedit.llm.replay import Reply

    answered, release, order = threading.Semaphore(0), threading.Event(), itertools.count()

    def answer(messages):
        n = next(order)
        answered.release()
        if n >= 10:
            release.wait(60)  # hold the run in flight until it has been killed
        return Reply(f"a {messages[-1]['content']}")

    server.answer = answer
    spec, path = f"openai-compatible:{server.openai_base}#m", tmp_path / "c.sqlite"
    child = subprocess.Popen([sys.executable, "-c", CLIENT, spec, str(path), "30"])
    for _ in range(12):  # 10 answered; 2 held, sent by the 2 workers once they had stored their answers
        assert answered.acquire(timeout=60)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    release.set()
    committed = len(ResponseCache(path))
    assert committed == 10
    before = server.counts["chat"]
    results = LLMClient(spec, cache=path).chat_many(requests(30))
    assert [r.text for r in results] == [f"a q{i}" for i in range(30)]
    assert server.counts["chat"] - before == 30 - committed  # not one committed answer asked again
