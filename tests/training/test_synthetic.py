from __future__ import annotations

import random

import pytest

prompts = pytest.importorskip("nextedit.prompts")

from nextedit.model.tokenizer import EOS_TOKEN  # noqa: E402
from nextedit.training.synthetic import (  # noqa: E402
    MAKERS,
    edit_to_request,
    load_sources,
    parse_kinds,
    render_edit,
    synthetic_examples,
)
from tests.conftest import SRC  # noqa: E402

SNIPPET = """def load(path, mode="r"):
    handle = open(path, mode)
    data = handle.read()
    handle.close()
    return parse(data)


def save(path, data):
    handle = open(path, "w")
    handle.write(render(data))
    handle.close()
"""


@pytest.mark.parametrize("kind", sorted(MAKERS))
def test_edit_targets_parse_back_to_the_target(kind):
    fmt = prompts.get_format("zeta2_1")
    rng = random.Random(5)
    done = 0
    for _ in range(30):
        edit = MAKERS[kind](rng, "io.py", SNIPPET)
        if edit is None:
            continue
        pair = render_edit(edit, fmt)
        if pair is None:
            continue
        prompt, expected = pair
        assert prompt.endswith("<[fim-middle]>") and expected.endswith(EOS_TOKEN)
        request = edit_to_request(edit)
        parsed = fmt.parse_output(request, expected)
        assert parsed.ok, parsed
        assert parsed.new_excerpt(request) == edit.target  # snippet fits the editable region
        if kind == "noedit":
            assert parsed.is_no_edit(request)
        else:
            assert edit.current != edit.target
        done += 1
    assert done >= 3


def test_rename_propagates_and_event_shows_first_rename():
    rng = random.Random(0)
    for _ in range(50):
        edit = MAKERS["rename"](rng, "io.py", SNIPPET)
        if edit is not None:
            break
    request = edit_to_request(edit)
    assert len(request.events) == 1 and request.events[0].diff.startswith("@@ ")
    assert edit.before == SNIPPET
    assert request.cursor_excerpt == edit.current


def test_examples_deterministic_and_kinds_weighted():
    files = load_sources([SRC / "model"])
    a = list(synthetic_examples(files, n=12, seed=3, max_lines=12))
    b = list(synthetic_examples(files, n=12, seed=3, max_lines=12))
    assert a == b and len(a) == 12
    assert all(ex["prompt"]["input"] and ex["prompt"]["expected_output"] for ex in a)
    only_copy = list(synthetic_examples(files, n=5, kinds=["copy"], seed=1))
    assert {ex["tags"][1] for ex in only_copy} == {"copy"}
    for ex in only_copy:  # copy: the response is a span of the prompt
        span = ex["prompt"]["expected_output"][: -len(EOS_TOKEN)]
        assert span in ex["prompt"]["input"]
    assert parse_kinds(["copy:0.5", "rename"]) == (["copy", "rename"], [0.5, 0.2])
    with pytest.raises(ValueError, match="unknown kind"):
        parse_kinds(["bogus"])


def test_edit_examples_are_scorable():
    """Edit kinds carry prompt_inputs + expected_patches that reproduce the formatted target."""
    from nextedit.schema.request import Zeta2PromptInput
    from nextedit.text.patch import apply_patch

    fmt = prompts.get_format("zeta2_1")
    files = load_sources([SRC / "model"])
    n = 0
    for ex in synthetic_examples(files, n=15, kinds=["complete", "rename", "noedit"], seed=2, max_lines=20):
        request = Zeta2PromptInput.from_json(ex["prompt_inputs"])
        parsed = fmt.parse_output(request, ex["prompt"]["expected_output"])
        assert parsed.ok
        if ex["expected_patches"]:
            new = apply_patch(request.cursor_excerpt, ex["expected_patches"][0], ex["cursor_path"])
            assert new == parsed.new_excerpt(request)
            n += 1
        else:
            assert ex["tags"][1] == "noedit" and parsed.is_no_edit(request)
    assert n >= 5
