"""The real engine behind the server (a tiny random-weight model): generation runs in the worker,
a newer request from the same client cancels it between forward passes, the prefix cache is keyed
per client, and the speculative-decoding counters reach the telemetry row. Nothing here depends
on how fast the machine is: a generation that must still be running is held by the test."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import httpx
import pytest

from tests.server.test_endpoints import v3_body

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:  # noqa: ANN001
    torch = pytest.importorskip("torch")
    from transformers import Qwen2Config, Qwen2ForCausalLM

    from nextedit.model.tokenizer import train_tokenizer

    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("tiny-model")
    texts = [(ROOT / "src" / "nextedit" / "server" / n).read_text() for n in ("errors.py", "experiments.py")]
    tok = train_tokenizer(texts, vocab_size=400)
    tok.save_pretrained(out)
    torch.manual_seed(0)
    cfg = Qwen2Config(vocab_size=len(tok), hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                      num_key_value_heads=2, intermediate_size=64, max_position_embeddings=4096,
                      eos_token_id=tok.eos_token_id)  # fmt: skip
    Qwen2ForCausalLM(cfg).save_pretrained(out)
    return out


class HeldForward:
    """Instruments a real engine: the first generation, after its first forward pass, waits until
    the test releases it. The test thus knows that generation is still running (no sleep races the
    model), and what follows the release is the engine's own cancellation check."""

    def __init__(self, engine) -> None:  # noqa: ANN001
        self.forward = engine._forward
        self.generating = threading.Event()
        self.release = threading.Event()
        engine._forward = self

    def __call__(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN204
        out = self.forward(*args, **kwargs)
        if not self.release.is_set():
            self.generating.set()
            assert self.release.wait(30), "the test never released the held generation"
        return out


def test_local_model_serves_and_cancels(start_server, tiny_model) -> None:  # noqa: ANN001
    from nextedit.predict.local import LocalModel
    from nextedit.predict.registry import Backend

    model = LocalModel(tiny_model, "zeta2_1", speculative=True)
    srv = start_server({"models": {"tiny": {"provider": "test", "version": "tiny-rand"}}, "server": {"deadline_ms": 20000}},
                       providers={"tiny": Backend.of_model(model, max_output_tokens=128)})  # fmt: skip
    url = srv.url + "/predict_edits/v3"
    # a plain request completes (random weights: an unparseable answer is "no edit", still 200)
    r = httpx.post(url, json=v3_body(), headers={"x-client-id": "solo"}, timeout=60)
    assert r.status_code == 200 and r.json()["model_version"] == "tiny-rand"
    assert model.engine.prefix_cache.take("id:solo") is not None  # cached under the client key

    held = HeldForward(model.engine)
    worker = srv.app.state.service.models["tiny"].worker

    async def race():  # noqa: ANN202
        async with httpx.AsyncClient(timeout=60) as c:
            h = {"x-client-id": "typist"}
            first = asyncio.create_task(c.post(url, json=v3_body(), headers=h))
            assert await asyncio.to_thread(held.generating.wait, 30)  # mid-generation, held
            second = asyncio.create_task(c.post(url, json=v3_body("x = 1\n", 0), headers=h))
            while worker.queue_depth == 0:  # the second is queued: the first's cancel token is set
                await asyncio.sleep(0.005)
            held.release.set()  # the engine checks the token before its next forward pass
            return await first, await second

    first, second = asyncio.run(race())
    assert first.status_code == 409 and second.status_code == 200, (first.text[:300], first.headers.get("server-timing"))
    store = srv.app.state.service.store
    store.flush()
    rows = store.fetch()
    canceled = [r for r in rows if r["status"] == "canceled"]
    assert len(canceled) == 1 and canceled[0]["model_ms"] is None  # no result: canceled mid-generation
    ok = max((r for r in rows if r["status"] == "ok"), key=lambda r: r["prompt_tokens"])
    assert ok["prompt_format"] == "zeta2_1" and ok["prompt_tokens"] > 20 and ok["spec_drafted"] is not None


def test_gated_local_model_answers_no_edit_on_every_api(start_server, tiny_model) -> None:  # noqa: ANN001
    """A gate no answer can pass (min log-prob ≥ 0): the native API says "no edit" and the raw
    completions API returns the format's no-edit text, which parses back to no change."""
    from nextedit.model.serving import ConfidenceGate
    from nextedit.predict.local import LocalModel
    from nextedit.predict.registry import Backend
    from nextedit.prompts import get_format
    from nextedit.schema.request import Zeta2PromptInput

    model = LocalModel(tiny_model, "zeta2_1", gate=ConfidenceGate("min_logprob", 0.0))
    srv = start_server({"models": {"tiny": {"provider": "test", "version": "gated"}}, "server": {"deadline_ms": 20000}},
                       providers={"tiny": Backend.of_model(model, max_output_tokens=64)})  # fmt: skip
    body = v3_body()
    r = httpx.post(srv.url + "/predict_edits/v3", json=body, timeout=60)
    assert r.status_code == 200
    assert r.json()["output"] == "" and r.json()["editable_range"] == {"start": 0, "end": 0}

    fmt = get_format("zeta2_1")
    request = Zeta2PromptInput.from_json(body)
    prompt = fmt.format_prompt(request).text
    r = httpx.post(srv.url + "/v1/completions", json={"model": "tiny", "prompt": prompt, "max_tokens": 256,
                                                      "stop": list(fmt.stop_tokens)}, timeout=60)  # fmt: skip
    assert r.status_code == 200
    text = r.json()["choices"][0]["text"]
    parsed = fmt.parse_output(request, text)
    assert parsed.ok and parsed.is_no_edit(request)
