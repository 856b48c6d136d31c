"""The model path: /predict_edits/v3 builds the prompt, generates with the format's stop tokens
(per-client cache key), parses; raw prompts go to the engine untouched. A fake engine stands in for
the network (it edits through the real zeta2_1 prompt parser/encoder)."""

from __future__ import annotations

import httpx

from nextedit.model.engine import GenerationResult
from nextedit.predict.local import LocalModel
from nextedit.predict.registry import Backend
from nextedit.prompts import get_format
from nextedit.schema.cancel import Canceled, CancelToken
from tests.server.test_endpoints import v3_body

EXCERPT = "def f(x):\n    # TODO: handle None\n    return x\n"


class FakeEngine:
    def __init__(self) -> None:
        self.calls: list[dict] = []

    def generate(self, prompt, max_tokens=256, stop=None, *, cancel=None, cache_key=None, **_):  # noqa: ANN001, ANN201
        self.calls.append({"prompt": prompt, "stop": stop, "cache_key": cache_key, "max_tokens": max_tokens})
        fmt = get_format("zeta2_1")
        try:
            parts = fmt.parse_prompt(prompt)
        except ValueError:
            return GenerationResult("plain completion<STOP>ignored", "stop", 7, 3, {})
        old = parts.editable_text
        text = fmt.encode_output(old, old.replace("TODO", "DONE"), None)
        return GenerationResult(text, "stop", 100, 20, {"drafted_tokens": 12, "accepted_tokens": 9})


def fake_model() -> LocalModel:
    """The real local text model around the fake engine."""
    return LocalModel("fake-model", "zeta2_1", engine=FakeEngine(), constrained=False)


def test_v3_through_prompt_engine_parse(start_server) -> None:  # noqa: ANN001
    prov = fake_model()
    srv = start_server(
        {"models": {"m": {"provider": "test", "prompt_format": "zeta2_1", "version": "m-1"}}},
        providers={"m": Backend.of_model(prov)},
    )
    r = httpx.post(srv.url + "/predict_edits/v3", json=v3_body(EXCERPT, 10), headers={"x-client-id": "dev-7"})
    assert r.status_code == 200, r.text
    d = r.json()
    s, e = d["editable_range"]["start"], d["editable_range"]["end"]
    new = EXCERPT.encode()[:s] + d["output"].encode() + EXCERPT.encode()[e:]
    assert new.decode() == EXCERPT.replace("TODO", "DONE")
    call = prov.engine.calls[-1]
    assert call["stop"] == ["<[end▁of▁sentence]>"] and call["cache_key"] == "id:dev-7"
    assert "<|marker_1|>" in call["prompt"] and call["prompt"].endswith("<[fim-middle]>")
    store = srv.app.state.service.store
    store.flush()
    row = store.fetch()[0]
    assert (
        row["prompt_format"] == "zeta2_1" and row["prompt_tokens"] == 100 and row["completion_tokens"] == 20
    )
    assert row["spec_drafted"] == 12 and row["spec_accepted"] == 9
    assert row["prompt_ms"] is not None and row["parse_ms"] is not None and row["model_ms"] is not None


def test_raw_prompt_goes_to_engine_with_stop(start_server) -> None:  # noqa: ANN001
    prov = fake_model()
    srv = start_server({"models": {"m": {"provider": "test"}}}, providers={"m": Backend.of_model(prov)})
    body = {"model": "m", "prompt": "anything at all", "max_tokens": 9, "stop": ["<STOP>"]}
    d = httpx.post(srv.url + "/v1/completions", json=body).json()
    assert d["choices"][0]["text"] == "plain completion" and d["choices"][0]["finish_reason"] == "stop"
    assert d["usage"] == {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}
    assert prov.engine.calls[-1]["max_tokens"] == 9 and prov.engine.calls[-1]["prompt"] == "anything at all"


def test_v3_heuristic_rename(start_server) -> None:  # noqa: ANN001
    srv = start_server({"models": {"h": {"provider": "heuristic"}}})
    excerpt = (
        "def restock(item, quantity):\n    if qty <= 0:\n        raise ValueError('bad')\n    return qty\n"
    )
    event = {
        "event": "BufferChange", "path": "a.py", "old_path": "a.py",
        "diff": "@@ -1,2 +1,2 @@\n-def restock(item, qty):\n+def restock(item, quantity):\n     if qty <= 0:\n",
        "old_range": {"start": 18, "end": 21}, "new_range": {"start": 18, "end": 26}, "predicted": False,
        "in_open_source_repo": True,
    }  # fmt: skip
    body = v3_body(excerpt, len("def restock(item, quantity"), events=[event], cursor_path="a.py")
    d = httpx.post(srv.url + "/predict_edits/v3", json=body).json()
    s, e = d["editable_range"]["start"], d["editable_range"]["end"]
    assert (excerpt.encode()[:s] + d["output"].encode() + excerpt.encode()[e:]).decode() == excerpt.replace(
        "qty", "quantity"
    )


def test_remote_backend_is_another_server(start_server) -> None:  # noqa: ANN001
    """A model behind `openai-compatible:URL` (here: a second nextedit serving the heuristic, standing
    in for vLLM): v3 requests are formatted here, completed there, parsed here."""
    backend = start_server({"models": {"h": {"provider": "heuristic"}}, "server": {"store": "none"}})
    front = start_server(
        {"models": {"big": {"provider": f"openai-compatible:{backend.url}/v1/completions", "remote_model": "h",
                            "prompt_format": "zeta2_1", "version": "big-1", "workers": 4}}}
    )  # fmt: skip
    excerpt = (
        "def restock(item, quantity):\n    if qty <= 0:\n        raise ValueError('bad')\n    return qty\n"
    )
    event = {
        "event": "BufferChange", "path": "a.py", "old_path": "a.py",
        "diff": "@@ -1,2 +1,2 @@\n-def restock(item, qty):\n+def restock(item, quantity):\n     if qty <= 0:\n",
        "predicted": False, "in_open_source_repo": True,
    }  # fmt: skip
    body = v3_body(excerpt, len("def restock(item, quantity"), events=[event], cursor_path="a.py")
    r = httpx.post(front.url + "/predict_edits/v3", json=body)
    assert r.status_code == 200, r.text
    d = r.json()
    s, e = d["editable_range"]["start"], d["editable_range"]["end"]
    assert (excerpt.encode()[:s] + d["output"].encode() + excerpt.encode()[e:]).decode() == excerpt.replace(
        "qty", "quantity"
    )
    assert d["model_version"] == "big-1"
    # a dead backend is a 502 naming it, not a hang
    backend.stop()
    r = httpx.post(front.url + "/predict_edits/v3", json=body)
    assert r.status_code == 502 and "/v1/completions" in r.json()["error"]["message"]


def test_zero_completion_tokens_are_stored_as_zero(start_server) -> None:  # noqa: ANN001
    """A model that answered at once (no tokens) must not be charged Zed's estimate of the output."""
    prov = fake_model()
    unchanged = GenerationResult("<|marker_1|>" + EXCERPT + "<|marker_2|>", "stop", 40, 0, {})
    prov.engine.generate = lambda *a, **k: unchanged
    srv = start_server({"models": {"m": {"provider": "test"}}}, providers={"m": Backend.of_model(prov)})
    r = httpx.post(srv.url + "/predict_edits/v3", json=v3_body(EXCERPT, 10))
    assert r.status_code == 200, r.text
    store = srv.app.state.service.store
    store.flush()
    row = store.fetch()[0]
    assert row["completion_tokens"] == 0 and row["prompt_tokens"] == 40


RENAME_EXCERPT = "def restock(item, quantity):\n    if qty <= 0:\n        raise ValueError('bad')\n    return qty\n"
RENAME_EVENT = {
    "event": "BufferChange", "path": "a.py", "old_path": "a.py",
    "diff": "@@ -1,2 +1,2 @@\n-def restock(item, qty):\n+def restock(item, quantity):\n     if qty <= 0:\n",
    "predicted": False, "in_open_source_repo": True,
}  # fmt: skip


def test_hybrid_answers_with_the_heuristic_first_on_both_apis(start_server) -> None:  # noqa: ANN001
    """``first = "heuristic"``: a rename the heuristic propagates is answered without the model,
    natively and through a raw zeta2_1 prompt (request recovered from the prompt, answer encoded
    back); without such a signal the model answers, with the client's cache key."""
    from nextedit.schema.request import Zeta2PromptInput

    model = fake_model()
    srv = start_server({"models": {"m": {"provider": "test", "first": "heuristic"}}},
                       providers={"m": Backend.of_model(model)})  # fmt: skip
    fmt = get_format("zeta2_1")
    body = v3_body(RENAME_EXCERPT, len("def restock(item, quantity"), events=[RENAME_EVENT], cursor_path="a.py")
    d = httpx.post(srv.url + "/predict_edits/v3", json=body).json()
    s, e = d["editable_range"]["start"], d["editable_range"]["end"]
    renamed = RENAME_EXCERPT.replace("qty", "quantity")
    assert (RENAME_EXCERPT.encode()[:s] + d["output"].encode() + RENAME_EXCERPT.encode()[e:]).decode() == renamed
    request = Zeta2PromptInput.from_json(body)
    prompt = fmt.format_prompt(request).text
    raw = {"model": "m", "prompt": prompt, "max_tokens": 256, "stop": list(fmt.stop_tokens)}
    text = httpx.post(srv.url + "/v1/completions", json=raw).json()["choices"][0]["text"]
    parsed = fmt.parse_output(request, text)
    assert parsed.ok and not parsed.is_no_edit(request)
    assert model.engine.calls == []  # the heuristic answered both
    # no edit history: nothing to propagate, the model answers (TODO → DONE), keyed per client
    d = httpx.post(srv.url + "/predict_edits/v3", json=v3_body(EXCERPT, 10), headers={"x-client-id": "c9"}).json()
    assert "DONE" in d["output"] and model.engine.calls[-1]["cache_key"] == "id:c9"


def test_hybrid_predictor_asks_the_first_provider_before_the_model() -> None:
    """The predictor is configured with a first provider: ``*_first`` is the heuristic's edit or
    None (then the queued model answers); outcomes name who answered (the log's ``answered_by``)."""
    from nextedit.schema.request import Zeta2PromptInput
    from nextedit.server.config import ServedModel
    from nextedit.server.predictor import Predictor

    model = fake_model()
    predictor = Predictor(ServedModel(name="m", provider="test", first="heuristic"), Backend.of_model(model))
    assert predictor.kind == "model" and predictor.model is model
    fmt = get_format("zeta2_1")
    rename = Zeta2PromptInput.from_json(
        v3_body(RENAME_EXCERPT, len("def restock(item, quantity"), events=[RENAME_EVENT], cursor_path="a.py")
    )
    plain = Zeta2PromptInput.from_json(v3_body(EXCERPT, 10))
    assert predictor.predict_first(rename).answered_by == "heuristic"
    assert predictor.predict_first(plain) is None
    raw_rename, raw_plain = fmt.format_prompt(rename).text, fmt.format_prompt(plain).text
    assert predictor.complete_first(raw_rename, max_tokens=256, stop=[]).answered_by == "heuristic"
    assert predictor.complete_first(raw_plain, max_tokens=256, stop=[]) is None
    assert predictor.complete_first("no markers at all", max_tokens=256, stop=[]) is None
    assert model.engine.calls == []
    assert predictor.predict(plain, cancel=CancelToken()).answered_by == "local:fake-model"
    raw = predictor.complete(raw_plain, max_tokens=256, stop=[], cancel=CancelToken())
    assert raw.answered_by == "local:fake-model" and "DONE" in raw.text


def test_a_first_provider_answer_supersedes_the_clients_queued_model_job(start_server) -> None:  # noqa: ANN001
    """The client's model request is still running (held) when its next request is answered by
    the heuristic before the queue: the older one is then stale (409), like any superseded request."""
    import asyncio
    import threading

    model = fake_model()
    started, release = threading.Event(), threading.Event()
    fake = model.engine
    real_generate = fake.generate

    def generate(*a, cancel=None, **k):  # noqa: ANN001, ANN002, ANN003, ANN202 - a generation held by the test
        started.set()
        while not release.wait(0.005):
            if cancel is not None and cancel.canceled:
                raise Canceled()
        return real_generate(*a, cancel=cancel, **k)

    fake.generate = generate
    srv = start_server({"models": {"m": {"provider": "test", "first": "heuristic"}}, "server": {"deadline_ms": 20000}},
                       providers={"m": Backend.of_model(model)})  # fmt: skip
    url = srv.url + "/predict_edits/v3"
    rename = v3_body(RENAME_EXCERPT, len("def restock(item, quantity"), events=[RENAME_EVENT], cursor_path="a.py")

    async def race():  # noqa: ANN202
        async with httpx.AsyncClient(timeout=30) as c:
            h = {"x-client-id": "typist"}
            slow = asyncio.create_task(c.post(url, json=v3_body(EXCERPT, 10), headers=h))
            assert await asyncio.to_thread(started.wait, 10)  # the model job is running
            fast = await c.post(url, json=rename, headers=h)
            done = await slow  # stale as soon as the heuristic answered: canceled while held
            release.set()
            return done, fast

    slow, fast = asyncio.run(race())
    assert fast.status_code == 200 and "quantity" in fast.json()["output"]
    assert slow.status_code == 409, slow.text
    store = srv.app.state.service.store
    store.flush()
    statuses = sorted(r["status"] for r in store.fetch())
    assert statuses == ["canceled", "ok"]
