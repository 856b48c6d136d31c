"""A stock Zed talking to the server: requests built exactly as zeta.md §1.7 says Zed builds them
(prompt layouts of §2.7/§2.8 written here independently of nextedit.prompts), responses parsed the
way Zed parses them (RawCompletionResponse with every field required; Ollama's created_at +
response; zeta1 cleaning, zeta2 end marker, zeta2_1 marker spans). Served by the heuristic, and the
rename cases also by the default server (`hybrid`: the shipped model behind the heuristic)."""

from __future__ import annotations

import re

import httpx
import pytest

# ---------------------------------------------------------------------- the edit situation
PATH = "inventory/stock.py"
BEFORE = "import math\n\n"
EDITABLE = (
    "def restock(item, quantity):\n"
    "    if qty <= 0:\n"
    "        raise ValueError('bad')\n"
    "    item.count += qty\n"
    "    return item\n"
)
AFTER = "\n\ndef other():\n    pass"
CURSOR = len(b"def restock(item, quantity")  # byte offset inside EDITABLE
DIFF = "@@ -3,3 +3,3 @@\n \n \n-def restock(item, qty):\n+def restock(item, quantity):\n     if qty <= 0:\n"

# ---------------------------------------------------------------------- Zed's prompt builders (§2.7)
ZETA1_INSTRUCTION = (
    "You are a code completion assistant and your task is to analyze user edits and then rewrite an "
    "excerpt that the user provides, suggesting the appropriate edits within the excerpt, taking into "
    "account the cursor location."
)


def insert(text: str, byte_offset: int, marker: str) -> str:
    b = text.encode()
    return (b[:byte_offset] + marker.encode() + b[byte_offset:]).decode()


def zeta1_prompt() -> str:
    events = f"User edited {PATH}:\n```diff\n{DIFF}\n```"
    editable = insert(EDITABLE, CURSOR, "<|user_cursor_is_here|>")
    return (
        f"### Instruction:\n{ZETA1_INSTRUCTION}\n\n### User Edits:\n\n{events}\n\n### User Excerpt:\n\n"
        f"```{PATH}\n<|start_of_file|>\n{BEFORE}<|editable_region_start|>\n{editable}\n<|editable_region_end|>"
        f"{AFTER}\n```\n\n### Response:\n"
    )


def history_section() -> str:
    return f"<filename>edit_history\n--- a/{PATH}\n+++ b/{PATH}\n{DIFF}"


def zeta2_prompt() -> str:
    editable = insert(EDITABLE, CURSOR, "<|user_cursor|>")
    if not editable.endswith("\n"):
        editable += "\n"
    return (
        f"<[fim-suffix]>{AFTER}\n<[fim-prefix]>{history_section()}\n"
        f"<filename>{PATH}\n{BEFORE}<<<<<<< CURRENT\n{editable}=======\n<[fim-middle]>"
    )


def marker_offsets_v0318(text: str, lo: int = 6, hi: int = 16) -> list[int]:
    """§2.8 compute_marker_offsets_with_limits, written from the spec."""
    if not text:
        return [0, 0]
    lines = text.split("\n")
    if text.endswith("\n"):
        lines = lines[:-1]
    starts, pos = [], 0
    for ln in lines:
        starts.append(pos)
        pos += len(ln.encode()) + 1
    blank = [ln.strip() == "" for ln in lines]

    def good(i: int) -> bool:
        t = lines[i].strip()
        tail = t.startswith(("}", "]", ")")) or t.rstrip(";") in (
            "break",
            "continue",
            "return",
            "throw",
            "end",
        )
        return not blank[i] and not tail

    def first_good(i: int) -> int:
        for j in range(i, min(i + 5, len(lines))):
            if good(j):
                return j
        return i

    offsets, last, i, n = [0], 0, 0, len(lines)
    while i < n:
        gap = i - last
        if gap >= lo and not blank[i] and i > 0 and blank[i - 1]:
            target = i if good(i) else first_good(i)
            if n - target >= lo and starts[target] > offsets[-1]:
                offsets.append(starts[target])
                last, i = target, target + 1
                continue
        if gap >= hi:
            target = first_good(i)
            if starts[target] > offsets[-1]:
                offsets.append(starts[target])
                last, i = target, target + 1
                continue
        i += 1
    if offsets[-1] != len(text.encode()):
        offsets.append(len(text.encode()))
    return offsets


def zeta2_1_prompt() -> str:
    offs = marker_offsets_v0318(EDITABLE)
    data = EDITABLE.encode()
    marked = b""
    for k, (a, b) in enumerate(zip(offs, offs[1:], strict=False), start=1):
        block = data[a:b]
        if a <= CURSOR <= b and b"<|user_cursor|>" not in marked:
            block = block[: CURSOR - a] + b"<|user_cursor|>" + block[CURSOR - a :]
        marked += f"<|marker_{k}|>".encode() + block
    marked += f"<|marker_{len(offs)}|>".encode()
    return (
        f"<[fim-suffix]>{AFTER}\n<[fim-prefix]>{history_section()}\n"
        f"<filename>{PATH}\n{BEFORE}{marked.decode()}\n<[fim-middle]>"
    )


ZETA1_STOPS = [
    "<|editable_region_end|>",
    "<|editable_region_end|>\n",
    "<|editable_region_end|>\n\n",
    "<|editable_region_end|>\n\n\n",
]
FORMATS = {
    "zeta": (zeta1_prompt, ZETA1_STOPS),
    "zeta2": (zeta2_prompt, []),
    "zeta2_1": (zeta2_1_prompt, ["<[end▁of▁sentence]>"]),
}


# ---------------------------------------------------------------------- Zed's response parsing
def zed_new_region(fmt: str, text: str) -> str:
    """The new editable region Zed derives from the completion text (raises if Zed would)."""
    if fmt == "zeta":
        text = text.replace("<|user_cursor_is_here|>", "")
        assert text.count("<|editable_region_start|>") <= 1 and text.count("<|editable_region_end|>") <= 1
        if "<|editable_region_start|>" in text:
            text = text.split("<|editable_region_start|>", 1)[1]
            text = text.split("\n", 1)[1] if "\n" in text else ""
        # the server cut the stop sequence <|editable_region_end|> (as vLLM does): the text then ends
        # with the newline that preceded the marker, which is not part of the region
        if "<|editable_region_end|>" not in text and text.endswith("\n"):
            text += "<|editable_region_end|>"
        if "\n<|editable_region_end|>" in text:
            text = text[: text.rindex("\n<|editable_region_end|>")]
        return text
    if fmt == "zeta2":
        assert text.endswith(">>>>>>> UPDATED\n"), text
        return text[: -len(">>>>>>> UPDATED\n")].replace("<|user_cursor|>", "")
    text = text.removesuffix("<[end▁of▁sentence]>")
    tags = list(re.finditer(r"<\|marker_(\d+)\|>", text))
    assert len(tags) >= 2, text
    first, last = int(tags[0].group(1)), int(tags[-1].group(1))
    old = EDITABLE.encode()
    if first == last:
        return EDITABLE
    offs = marker_offsets_v0318(EDITABLE)
    start, end = offs[first - 1], offs[last - 1]
    new = "".join(text[a.end() : b.start()] for a, b in zip(tags, tags[1:], strict=False)).replace(
        "<|user_cursor|>", ""
    )
    return (old[:start] + new.encode() + old[end:]).decode()


def pad(s: str) -> str:
    return s if not s or s.endswith("\n") else s + "\n"


def check_raw_completion_response(d: dict) -> str:
    """Zed's RawCompletionResponse: every field required, with these types."""
    assert isinstance(d["id"], str) and d["id"]
    assert isinstance(d["object"], str)
    assert isinstance(d["created"], int) and d["created"] > 1_600_000_000
    assert isinstance(d["model"], str)
    assert isinstance(d["choices"], list) and d["choices"]
    c = d["choices"][0]
    assert isinstance(c["text"], str) and isinstance(c["finish_reason"], str)
    u = d["usage"]
    assert all(isinstance(u[k], int) for k in ("prompt_tokens", "completion_tokens", "total_tokens"))
    assert u["total_tokens"] == u["prompt_tokens"] + u["completion_tokens"]
    return c["text"]


@pytest.fixture(scope="module")
def heuristic_server():  # noqa: ANN201
    from nextedit.server.app import create_app
    from nextedit.server.config import parse_config
    from nextedit.server.launch import ServerThread

    cfg = parse_config(
        {"models": {"heuristic": {"provider": "heuristic", "workers": 2}}, "server": {"store": "none"}}
    )
    with ServerThread(create_app(cfg)) as srv:
        yield srv


@pytest.fixture(scope="module")
def default_server():  # noqa: ANN201
    """What `nextedit serve` runs with no arguments: the shipped model behind the heuristic."""
    from nextedit.server.app import create_app
    from nextedit.server.config import default_config
    from nextedit.server.launch import ServerThread

    with ServerThread(create_app(default_config(store="none"))) as srv:
        yield srv


SERVERS = ["heuristic_server", "default_server"]


def assert_rename_applied(fmt: str, text: str) -> None:
    new = pad(zed_new_region(fmt, text))
    assert new != pad(EDITABLE), f"{fmt}: expected an edit, got none: {text!r}"
    assert new == pad(EDITABLE.replace("qty", "quantity")), new


@pytest.mark.parametrize("server", SERVERS)
@pytest.mark.parametrize("fmt", FORMATS)
def test_open_ai_compatible_provider(request, server, fmt) -> None:  # noqa: ANN001
    srv = request.getfixturevalue(server)
    build, stop = FORMATS[fmt]
    max_output_tokens = 64
    body = {"model": "nextedit", "prompt": build(), "max_tokens": max_output_tokens * 4, "stop": stop}
    r = httpx.post(
        srv.url + "/v1/completions",
        json=body,
        headers={"Content-Type": "application/json", "Authorization": "Bearer anything"},
    )
    assert r.status_code == 200, r.text
    text = check_raw_completion_response(r.json())
    for s in stop:
        assert s not in text  # stop honoured
    assert_rename_applied(fmt, text)


@pytest.mark.parametrize("server", SERVERS)
@pytest.mark.parametrize("fmt", FORMATS)
def test_ollama_provider(request, server, fmt) -> None:  # noqa: ANN001
    srv = request.getfixturevalue(server)
    build, stop = FORMATS[fmt]
    body = {
        "model": "zeta2:latest",
        "prompt": build(),
        "raw": True,
        "stream": False,
        "options": {"num_predict": 64, "temperature": 0.2, "stop": stop},
    }
    r = httpx.post(srv.url + "/api/generate", json=body)
    assert r.status_code == 200, r.text
    d = r.json()
    assert isinstance(d["created_at"], str) and d["created_at"]
    assert_rename_applied(fmt, d["response"])


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_edit_when_nothing_to_do(heuristic_server, fmt) -> None:  # noqa: ANN001
    build, stop = FORMATS[fmt]
    prompt = build().replace("qty", "quantity")  # nothing left to rename
    body = {"model": "nextedit", "prompt": prompt, "max_tokens": 256, "stop": stop}
    d = httpx.post(heuristic_server.url + "/v1/completions", json=body).json()
    text = check_raw_completion_response(d)
    assert pad(zed_new_region(fmt, text).replace("qty", "quantity")) == pad(
        EDITABLE.replace("qty", "quantity")
    )


def test_format_detection() -> None:
    from nextedit.server.predictor import detect_format

    assert detect_format(zeta1_prompt()) == "zeta"
    assert detect_format(zeta2_prompt()) == "zeta2"
    assert detect_format(zeta2_1_prompt()) == "zeta2_1"
    assert detect_format("<|fim_prefix|>a<|fim_suffix|>b<|fim_middle|>") is None


def test_builders_agree_with_repo_formats() -> None:
    """Our independent builders and nextedit.prompts describe the same prompts (round trip)."""
    from nextedit.prompts import get_format

    for fmt, (build, _) in FORMATS.items():
        parts = get_format(fmt).parse_prompt(build())
        assert parts.cursor_path == PATH
        assert pad(parts.editable_text) == EDITABLE, (fmt, parts.editable_text)  # trailing \n is ambiguous


def test_protocol_variants(heuristic_server) -> None:  # noqa: ANN001
    url = heuristic_server.url
    build, stop = FORMATS["zeta2_1"]
    # Ollama's default stream=true: one final NDJSON line
    r = httpx.post(url + "/api/generate", json={"model": "m", "prompt": build(), "options": {"stop": stop}})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/x-ndjson")
    lines = r.text.strip().split("\n")
    assert len(lines) == 1
    import json as _json

    d = _json.loads(lines[0])
    assert d["done"] is True and d["response"] and d["created_at"]
    # OpenAI prompt as a one-element list; model naming an experiment pins it
    r = httpx.post(
        url + "/v1/completions",
        json={"model": "heuristic", "prompt": [build()], "max_tokens": 256, "stop": stop},
    )
    assert r.status_code == 200 and r.json()["model_version"] == "heuristic"
    assert httpx.post(url + "/v1/completions", json={"prompt": ["a", "b"]}).status_code == 400
    assert httpx.post(url + "/v1/completions", json={"prompt": "x", "stream": True}).status_code == 400
    assert httpx.get(url + "/edit_prediction_experiments").json() == ["heuristic"]
