"""§2.7 prompt layouts, byte for byte, and their inverses (parse_prompt)."""

import pytest

from nextedit.prompts import get_format
from nextedit.schema.request import (
    ByteRange,
    Event,
    ExcerptRanges,
    RelatedExcerpt,
    RelatedFile,
    Zeta2PromptInput,
)


def spec_request(**overrides) -> Zeta2PromptInput:
    """The §2.7 input: excerpt "prefix\\neditable\\nsuffix", editable 7..15, cursor 10."""
    fields = dict(
        cursor_path="test.rs",
        cursor_excerpt="prefix\neditable\nsuffix",
        cursor_offset_in_excerpt=10,
        events=[Event(path="a.rs", old_path="a.rs", diff="-old\n+new\n")],
        related_files=[
            RelatedFile(
                path="related.rs",
                max_row=1,
                excerpts=[RelatedExcerpt(row_range=ByteRange(start=0, end=1), text="fn helper() {}\n")],
            )
        ],
        excerpt_ranges=ExcerptRanges(
            editable_350=ByteRange(start=7, end=15), editable_350_context_150=ByteRange(start=0, end=22)
        ),
    )
    fields.update(overrides)
    return Zeta2PromptInput(**fields)


ZETA2 = (
    "<[fim-suffix]>\nsuffix\n"
    "<[fim-prefix]><filename>related.rs\nfn helper() {}\n\n"
    "<filename>edit_history\n--- a/a.rs\n+++ b/a.rs\n-old\n+new\n\n"
    "<filename>test.rs\nprefix\n<<<<<<< CURRENT\nedi<|user_cursor|>table\n=======\n<[fim-middle]>"
)
ZETA2_1 = (
    "<[fim-suffix]>\nsuffix\n"
    "<[fim-prefix]><filename>related.rs\nfn helper() {}\n\n"
    "<filename>edit_history\n--- a/a.rs\n+++ b/a.rs\n-old\n+new\n\n"
    "<filename>test.rs\nprefix\n<|marker_1|>edi<|user_cursor|>table<|marker_2|>\n<[fim-middle]>"
)
ZETA2_1_NO_EVENTS = (
    "<[fim-suffix]>\nsuffix\n"
    "<[fim-prefix]><filename>related.rs\nfn helper() {}\n\n"
    "<filename>test.rs\nprefix\n<|marker_1|>edi<|user_cursor|>table<|marker_2|>\n<[fim-middle]>"
)


def test_zeta2_layout_exact():
    fp = get_format("zeta2").format_prompt(spec_request())
    assert fp.prompt == ZETA2
    assert fp.prefill == ""
    assert (fp.editable_range.start, fp.editable_range.end) == (7, 15)


def test_zeta2_1_layout_exact():
    assert get_format("zeta2_1").format_prompt(spec_request()).prompt == ZETA2_1
    assert get_format("Zeta2.1").format_prompt(spec_request(events=[])).prompt == ZETA2_1_NO_EVENTS


def test_zeta1_layout_exact():
    excerpt = "fn before() {}\nfn foo() {\n    let x = 1;\n}\nfn after() {}\n"
    start = excerpt.index("fn foo")
    end = excerpt.index("}\nfn after")
    req = Zeta2PromptInput(
        cursor_path="src/main.rs",
        cursor_excerpt=excerpt,
        cursor_offset_in_excerpt=excerpt.index("let x"),
        excerpt_start_row=0,
        events=[Event(path="other.rs", old_path="other.rs", diff="-old\n+new\n")],
        excerpt_ranges=ExcerptRanges(
            editable_350=ByteRange(start=start, end=end),
            editable_350_context_150=ByteRange(start=0, end=len(excerpt)),
        ),
    )
    expected = (
        "### Instruction:\nYou are a code completion assistant and your task is to analyze user edits and then "
        "rewrite an excerpt that the user provides, suggesting the appropriate edits within the excerpt, taking "
        "into account the cursor location.\n\n### User Edits:\n\nUser edited other.rs:\n```diff\n-old\n+new\n\n```"
        "\n\n### User Excerpt:\n\n```src/main.rs\n<|start_of_file|>\nfn before() {}\n<|editable_region_start|>\n"
        "fn foo() {\n    <|user_cursor_is_here|>let x = 1;\n\n<|editable_region_end|>}\nfn after() {}\n\n```\n\n"
        "### Response:\n"
    )
    fmt = get_format("zeta")
    assert fmt.format_prompt(req).prompt == expected
    # <|start_of_file|> only when the excerpt starts the file
    assert (
        "<|start_of_file|>" not in fmt.format_prompt(req.model_copy(update={"excerpt_start_row": 3})).prompt
    )
    parts = fmt.parse_prompt(expected)
    assert parts.cursor_path == "src/main.rs" and parts.context == excerpt
    assert parts.editable_range == (start, end) and parts.cursor_offset == excerpt.index("let x")
    assert [(e.path, e.diff) for e in parts.events] == [("other.rs", "-old\n+new\n")]


@pytest.mark.parametrize("name", ["zeta2", "zeta2_1", "zeta1", "teacher"])
def test_parse_prompt_inverse(name):
    fmt = get_format(name)
    for req in (spec_request(), _multibyte_request()):
        fp = fmt.format_prompt(req)
        parts = fmt.parse_prompt(fp.prompt)
        region = fmt.region(req)
        assert parts.cursor_path == req.cursor_path
        assert parts.context == region.context_text
        assert parts.editable_range == region.editable_in_context
        assert parts.cursor_offset == region.cursor_in_context
        assert [(e.path, e.old_path, e.diff) for e in parts.events] == [
            (e.path, e.old_path, e.diff) for e in req.events
        ]
        if name != "zeta1":
            assert [f.path for f in parts.related_files] == [f.path for f in req.related_files or []]
        # a request rebuilt from the parts formats to the same prompt (modulo related-file rows)
        rebuilt = parts.to_request()
        if req.related_files:
            rebuilt.related_files = req.related_files
        if name == "zeta1":
            rebuilt.excerpt_start_row = req.excerpt_start_row
        assert fmt.format_prompt(rebuilt).prompt == fp.prompt
        assert parts.cache_key() == fmt.parse_prompt(fp.prompt).cache_key()


def _multibyte_request() -> Zeta2PromptInput:
    excerpt = '// café\nfn naïve() {\n    let s = "日本語";\n    s.len()\n}\n// fin é'
    data = excerpt.encode()
    start, end = data.index(b"fn na"), data.index(b"\n// fin")
    return Zeta2PromptInput(
        cursor_path="src/ünï.rs",
        cursor_excerpt=excerpt,
        cursor_offset_in_excerpt=data.index("本".encode()),
        excerpt_start_row=10,
        events=[
            Event(path="src/ünï.rs", old_path="src/old.rs", diff="@@ -1,1 +1,1 @@\n-a\n+日\n"),
            Event(path="b.rs", old_path="b.rs", diff="@@ -2 +2 @@\n-x\n+y\n", predicted=True),
        ],
        related_files=[
            RelatedFile(
                path="lib/ü.rs",
                max_row=50,
                excerpts=[
                    RelatedExcerpt(row_range=ByteRange(start=0, end=2), text="struct Ü;\nimpl Ü {}", order=1),
                    RelatedExcerpt(row_range=ByteRange(start=10, end=12), text="fn ü() {}\n", order=0),
                ],
            ),
            RelatedFile(
                path="z.rs",
                max_row=3,
                excerpts=[
                    RelatedExcerpt(row_range=ByteRange(start=0, end=4), text="const Z: u8 = 0;\n", order=2)
                ],
            ),
        ],
        excerpt_ranges=ExcerptRanges(
            editable_350=ByteRange(start=start, end=end),
            editable_350_context_150=ByteRange(start=0, end=len(data)),
        ),
    )


def test_history_and_related_rendering_multibyte():
    prompt = get_format("zeta2").format_prompt(_multibyte_request()).prompt
    assert (
        "<[fim-prefix]><filename>lib/ü.rs\nstruct Ü;\nimpl Ü {}\n...\nfn ü() {}\n...\n<filename>z.rs\n"
        "const Z: u8 = 0;\n\n<filename>edit_history\n--- a/src/old.rs\n+++ b/src/ünï.rs\n@@ -1,1 +1,1 @@\n-a\n+日\n"
        "// User accepted prediction:\n--- a/b.rs\n+++ b/b.rs\n@@ -2 +2 @@\n-x\n+y\n\n<filename>src/ünï.rs\n"
    ) in prompt


def test_over_budget_returns_none():
    huge = "x" * (3 * 5000)
    req = Zeta2PromptInput(
        cursor_path="big.txt",
        cursor_excerpt=huge,
        cursor_offset_in_excerpt=0,
        excerpt_ranges=ExcerptRanges(
            editable_350=ByteRange(start=0, end=len(huge)),
            editable_350_context_150=ByteRange(start=0, end=len(huge)),
        ),
    )
    for name in ("zeta2", "zeta2_1", "zeta1"):
        assert get_format(name).format_prompt(req) is None


def test_budget_drops_related_then_history():
    big_related = RelatedFile(
        path="big.rs",
        max_row=0,
        excerpts=[RelatedExcerpt(row_range=ByteRange(start=0, end=1), text="y" * 12000)],
    )
    req = spec_request(related_files=[big_related])
    prompt = get_format("zeta2").format_prompt(req).prompt
    assert "big.rs" not in prompt and "<filename>edit_history" in prompt
    many = [Event(path="a.rs", old_path="a.rs", diff=f"-{i}\n+{i + 1}\n") for i in range(10)]
    prompt = get_format("zeta2").format_prompt(spec_request(events=many)).prompt
    # only the newest 6 events, oldest first
    assert "-3\n+4\n" not in prompt and prompt.index("-4\n+5\n") < prompt.index("-9\n+10\n")


def test_redundant_cursor_file_excerpts_filtered():
    same_file = RelatedFile(
        path="test.rs",
        max_row=2,
        excerpts=[
            RelatedExcerpt(row_range=ByteRange(start=101, end=102), text="editable\n"),
            RelatedExcerpt(row_range=ByteRange(start=200, end=201), text="far away\n", order=1),
        ],
    )
    prompt = (
        get_format("zeta2")
        .format_prompt(spec_request(related_files=[same_file], excerpt_start_row=100))
        .prompt
    )
    assert "far away" in prompt and "<filename>test.rs\neditable\n" not in prompt


def test_special_tokens_and_stops():
    z21 = get_format("V0318SeedMultiRegions")
    assert "<|marker_1|>" in z21.special_tokens and "<|marker_32|>" in z21.special_tokens
    assert z21.stop_tokens == ("<[end▁of▁sentence]>",)
    z2 = get_format("V0211SeedCoder")
    assert z2.stop_tokens == () and "<<<<<<< CURRENT" in z2.special_tokens
    for tok in (
        "<[fim-suffix]>",
        "<[fim-prefix]>",
        "<[fim-middle]>",
        "<filename>",
        "<|user_cursor|>",
        "NO_EDITS",
    ):
        assert tok in z2.special_tokens
    assert get_format("zeta").stop_tokens[0] == "<|editable_region_end|>"
    assert get_format("zeta2").max_tokens(64) == 256
    assert get_format("zeta2").provider == "zeta2:V0211SeedCoder"
    assert get_format("zeta2:V0318SeedMultiRegions") is z21
    # merge markers only count as whole lines (§2.1 regression)
    assert not z2.contains_special_tokens(
        spec_request(cursor_excerpt="// =======\nx", cursor_offset_in_excerpt=0)
    )
    assert z2.contains_special_tokens(
        spec_request(cursor_excerpt="a\n=======\nb", cursor_offset_in_excerpt=0)
    )
    assert z21.contains_special_tokens(
        spec_request(cursor_excerpt="<|marker_3|>", cursor_offset_in_excerpt=0)
    )


def test_teacher_prompt_structure():
    prompt = get_format("teacher").format_prompt(spec_request()).prompt
    assert prompt.endswith(
        "-----\n\nBased on the edit history and context above, predict the user's next edit within the editable region."
    )
    assert (
        "`````test.rs\nprefix\n<|editable_region_start|>\nedi<|user_cursor|>table\n<|editable_region_end|>\nsuffix\n`````"
        in prompt
    )
    for header in ("# 1. Edit History", "# 2. Related Code", "# 3. Current File"):
        assert header in prompt
    empty = get_format("teacher").format_prompt(spec_request(events=[], related_files=None)).prompt
    assert "(No edit history)" in empty and "(No context)" in empty
