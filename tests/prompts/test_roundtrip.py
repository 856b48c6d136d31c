"""encode → parse round trips on generated edits, and malformed outputs → Unparseable."""

import random

import pytest

from nextedit.prompts import ParsedOutput, Unparseable, get_format
from nextedit.schema.request import ByteRange, ExcerptRanges, Zeta2PromptInput
from nextedit.text.diff import unified_diff

FORMATS = ["zeta2", "zeta2_1", "zeta1", "teacher"]
WORDS = ["x", "foo", "bar_baz", "é", "日本", "return", "}", "{", "(", ")", ";", "let", "=", "1", "  ", "\t"]


def rand_line(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.12:
        return ""
    if kind < 0.18:
        return rng.choice(["}", "  }", "return x;", "end", ")"])
    return " " * rng.choice([0, 2, 4, 8]) + " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 6)))


def rand_text(rng: random.Random, n_min: int, n_max: int) -> str:
    return "\n".join(rand_line(rng) for _ in range(rng.randint(n_min, n_max)))


def rand_edit(rng: random.Random, text: str) -> str:
    lines = text.split("\n")
    for _ in range(rng.randint(1, 3)):
        op = rng.random()
        i = rng.randint(0, len(lines))
        if op < 0.3:
            lines[i:i] = [rand_line(rng) for _ in range(rng.randint(1, 4))]
        elif op < 0.5 and lines:
            j = min(len(lines), i + rng.randint(1, 3))
            del lines[min(i, len(lines) - 1) : j]
        elif op < 0.85 and lines:
            k = min(i, len(lines) - 1)
            line = lines[k]
            p = rng.randint(0, len(line))
            lines[k] = line[:p] + rng.choice(WORDS) + line[p + rng.randint(0, 2) :]
        else:
            lines[i:i] = [""]
    if rng.random() < 0.05:
        return text  # no edit
    return "\n".join(lines)


def make_case(rng: random.Random):
    prefix = rand_text(rng, 0, 5)
    editable = rand_text(rng, 1, 45)
    suffix = rand_text(rng, 0, 5)
    pre = prefix + "\n" if prefix else ""
    excerpt = pre + editable + ("\n" + suffix if suffix else "")
    start = len(pre.encode())
    end = start + len(editable.encode())
    cursor = start + rng.randint(0, len(editable.encode()))
    while not _boundary(excerpt.encode(), cursor):
        cursor -= 1
    req = Zeta2PromptInput(
        cursor_path="src/ü.rs",
        cursor_excerpt=excerpt,
        cursor_offset_in_excerpt=cursor,
        excerpt_start_row=rng.choice([0, 7]),
        excerpt_ranges=ExcerptRanges(
            editable_350=ByteRange(start=start, end=end),
            editable_350_context_150=ByteRange(start=0, end=len(excerpt.encode())),
        ),
    )
    new = rand_edit(rng, editable)
    new_b = new.encode()
    new_cursor = rng.choice([None, rng.randint(0, len(new_b))])
    while new_cursor is not None and not _boundary(new_b, new_cursor):
        new_cursor -= 1
    return req, editable, new, new_cursor


def _boundary(data: bytes, i: int) -> bool:
    return i == len(data) or (data[i] & 0xC0) != 0x80


def _nl(s: str) -> str:
    return s if s.endswith("\n") else s + "\n"


@pytest.mark.parametrize("name", FORMATS)
def test_region_round_trip(name):
    fmt = get_format(name)
    rng = random.Random(1234)
    for _ in range(250):
        req, old, new, cursor = make_case(rng)
        target = fmt.encode_output(old, new, cursor)
        parsed = fmt.parse_output(req, target)
        assert isinstance(parsed, ParsedOutput), (target, parsed)
        got = parsed.new_editable_region
        if name == "zeta2":
            # the format cannot tell "x" from "x\n" (the client pads both with \n)
            assert _nl(got) == _nl(new) and (got == new or old != new)
        elif name == "teacher" and old.startswith("\n") and not new.startswith("\n"):
            assert got == "\n" + new  # Zed's re-added leading newline
            continue
        else:
            assert got == new, (old, new, target)
        if old == new:
            continue
        if name in ("zeta2", "zeta1", "teacher"):
            assert parsed.cursor_offset_in_new_region == (
                None if cursor is not None and cursor > len(got.encode()) else cursor
            )
        elif parsed.cursor_offset_in_new_region is not None:
            assert parsed.cursor_offset_in_new_region == cursor


@pytest.mark.parametrize("name", FORMATS)
def test_patch_round_trip(name):
    fmt = get_format(name)
    rng = random.Random(99)
    for _ in range(60):
        req, old, new, cursor = make_case(rng)
        excerpt = req.cursor_excerpt
        r = req.excerpt_ranges.editable_350
        data = excerpt.encode()
        new_excerpt = (data[: r.start] + new.encode() + data[r.end :]).decode()
        patch = unified_diff(excerpt, new_excerpt, req.cursor_path, old_start_row=7, new_start_row=7)
        req.excerpt_start_row = 7
        abs_cursor = None if cursor is None else r.start + cursor
        target = fmt.encode_target(req, patch, abs_cursor)
        parsed = fmt.parse_output(req, target)
        assert isinstance(parsed, ParsedOutput)
        if name == "teacher" and old.startswith("\n") and not new.startswith("\n") and old != new:
            continue
        got = parsed.new_editable_region
        assert got == new or (name == "zeta2" and _nl(got) == _nl(new)), (old, new, patch, target)


def test_empty_patch_targets():
    from tests.prompts.test_layouts import spec_request

    req = spec_request()
    assert get_format("zeta2").encode_target(req, "") == "editable\n>>>>>>> UPDATED\n"
    assert (
        get_format("zeta2_1").encode_target(req, "--- a/x\n+++ b/x\n")
        == "<|marker_1|><|marker_1|><[end▁of▁sentence]>"
    )
    # the no-edit marker pair is the one nearest to the request cursor
    near_end = spec_request(cursor_offset_in_excerpt=14)
    assert get_format("zeta2_1").encode_target(near_end, "") == "<|marker_2|><|marker_2|><[end▁of▁sentence]>"
    assert "NO_EDITS" in get_format("teacher").encode_target(req, "")
    patch = "--- a/test.rs\n+++ b/test.rs\n@@ -2,1 +2,1 @@\n-editable\n+edit<|user_cursor|>ed\n"
    assert get_format("zeta2").encode_target(req, patch) == "edit<|user_cursor|>ed\n>>>>>>> UPDATED\n"
    assert get_format("zeta1").encode_target(req, patch) == (
        "<|editable_region_start|>\nedit<|user_cursor_is_here|>ed\n<|editable_region_end|>"
    )
    outside = "--- a/test.rs\n+++ b/test.rs\n@@ -1,1 +1,1 @@\n-prefix\n+PREFIX\n"
    with pytest.raises(ValueError, match="outside the editable region"):
        get_format("zeta2").encode_target(req, outside)


MALFORMED = {
    "zeta2": ["", "garbage", "edi<|user_cursor|>table\n", "<<<<<<< CURRENT\nx\n>>>>>>> UPDATED\n"],
    "zeta2_1": ["", "garbage", "<|marker_1|>no end", "<|marker_1|>x<|marker_7|>", "<|marker_2|>x<|marker_1|>"],
    "zeta1": ["", "garbage", "<|editable_region_start|>\na<|editable_region_start|>\n",
              "<|editable_region_start|>\na\n<|editable_region_end|><|editable_region_end|>"],
    "teacher": ["", "I think the user wants to rename.", "`````\n<|editable_region_start|>\nabc\n`````"],
}  # fmt: skip


@pytest.mark.parametrize("name", FORMATS)
def test_malformed_outputs_unparseable(name):
    from tests.prompts.test_layouts import spec_request

    fmt = get_format(name)
    for raw in MALFORMED[name]:
        out = fmt.parse_output(spec_request(), raw)
        assert isinstance(out, Unparseable), (raw, out)
        assert out.reason and not out.ok


def test_parse_real_outputs():
    from tests.prompts.test_layouts import spec_request

    req = spec_request()
    p = get_format("zeta2").parse_output(
        req, "editab<|user_cursor|>le_x\n>>>>>>> UPDATED\n<[end▁of▁sentence]>"
    )
    assert (p.new_editable_region, p.cursor_offset_in_new_region) == ("editable_x", 6)
    p = get_format("zeta2_1").parse_output(req, "<|marker_1|>editable();<|marker_2|>")
    assert p.new_editable_region == "editable();" and p.range_in_excerpt == ByteRange(start=7, end=15)
    p = get_format("zeta1").parse_output(req, "<|editable_region_start|>\nedit<|user_cursor_is_here|>able2\n")
    assert (p.new_editable_region, p.cursor_offset_in_new_region) == ("editable2", 4)
    p = get_format("teacher").parse_output(req, "Nothing to do.\n\n`````\nNO_EDITS\n`````")
    assert p.is_no_edit(req)
    p = get_format("teacher").parse_output(
        req,
        "Rename.\n`````\n<|editable_region_start|>\nedited<|user_cursor|>\n<|editable_region_end|>\n`````",
    )
    assert (p.new_editable_region, p.cursor_offset_in_new_region) == ("edited", 6)
    assert p.new_excerpt(req) == "prefix\nedited\nsuffix"


@pytest.mark.parametrize("name", FORMATS)
def test_random_garbage_never_raises(name):
    """parse_output returns a typed result for any text, never an exception."""
    fmt = get_format(name)
    rng = random.Random(3)
    pieces = [
        "<|marker_1|>", "<|marker_2|>", "<|marker_3|>", "<|marker_99|>", "<|marker_|>", "<|user_cursor|>",
        ">>>>>>> UPDATED\n", "<<<<<<< CURRENT\n", "=======\n", "NO_EDITS", "<[end▁of▁sentence]>",
        "<|editable_region_start|>", "<|editable_region_end|>", "\n", "`````", "é", "x", " ",
        "<|user_cursor_is_here|>", "<|start_of_file|>",
    ]  # fmt: skip
    for _ in range(300):
        req, *_ = make_case(rng)
        raw = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
        out = fmt.parse_output(req, raw)
        assert isinstance(out, ParsedOutput | Unparseable)
        if isinstance(out, ParsedOutput):
            out.new_excerpt(req)  # the result is valid UTF-8 at valid offsets
            c = out.cursor_offset_in_new_region
            assert c is None or 0 <= c <= len(out.new_editable_region.encode())
