"""Request schema: Zed JSON round trip, unknown keys kept, offset validation in UTF-8 bytes."""

import json

import pytest

from nextedit.schema.request import ByteRange, Zeta2PromptInput, byte_to_char, char_to_byte

ZED_REQUEST = {
    "cursor_path": "zed/crates/foo/src/lib.rs",
    "cursor_excerpt": 'fn main() {\n    let é = 1;\n    println!("{é}");\n}',
    "cursor_offset_in_excerpt": 16,
    "excerpt_start_row": 100,
    "events": [
        {
            "event": "BufferChange",
            "path": "zed/crates/foo/src/lib.rs",
            "old_path": "zed/crates/foo/src/lib.rs",
            "diff": "@@ -101,1 +101,1 @@\n-    let e = 1;\n+    let é = 1;\n",
            "old_range": {"start": 5000, "end": 5003},
            "new_range": {"start": 5000, "end": 5010},
            "predicted": False,
            "in_open_source_repo": True,
        }
    ],
    "related_files": [
        {
            "path": "zed/crates/foo/src/types.rs",
            "max_row": 420,
            "in_open_source_repo": True,
            "excerpts": [
                {
                    "row_range": {"start": 10, "end": 24},
                    "text": "pub struct Foo {}",
                    "order": 0,
                    "context_source": "lsp",
                }
            ],
        }
    ],
    "active_buffer_diagnostics": [
        {
            "severity": 1,
            "message": "unused",
            "snippet": "let é = 1;",
            "snippet_buffer_row_range": {"start": 101, "end": 101},
            "diagnostic_range_in_snippet": {"start": 4, "end": 6},
        }
    ],
    "excerpt_ranges": {
        "editable_150": {"start": 0, "end": 47},
        "editable_180": {"start": 0, "end": 47},
        "editable_350": {"start": 0, "end": 47},
        "editable_512": {"start": 0, "end": 47},
        "editable_150_context_350": {"start": 0, "end": 49},
        "editable_180_context_350": {"start": 0, "end": 49},
        "editable_350_context_150": {"start": 0, "end": 49},
        "editable_350_context_512": {"start": 0, "end": 49},
        "editable_350_context_1024": {"start": 0, "end": 49},
        "context_4096": {"start": 0, "end": 49},
        "context_8192": {"start": 0, "end": 49},
    },
    "syntax_ranges": [{"start": 12, "end": 27}, {"start": 0, "end": 49}],
    "in_open_source_repo": True,
    "can_collect_data": True,
    "repo_url": "https://github.com/zed-industries/zed",
    "some_future_field": {"x": [1, 2]},
}


def test_zed_json_round_trip_exact():
    req = Zeta2PromptInput.from_json(json.dumps(ZED_REQUEST, ensure_ascii=False))
    assert req.to_zed_json() == ZED_REQUEST
    # key order is Zed's field order too
    assert list(req.to_zed_json()) == list(ZED_REQUEST)
    req.validate_offsets()


def test_optional_fields_omitted_like_zed():
    data = dict(ZED_REQUEST)
    for k in (
        "excerpt_start_row",
        "repo_url",
        "active_buffer_diagnostics",
        "syntax_ranges",
        "some_future_field",
    ):
        data.pop(k)
    data["related_files"] = None
    out = Zeta2PromptInput.from_json(data).to_zed_json()
    assert out == data
    assert "excerpt_start_row" not in out and "repo_url" not in out
    assert "active_buffer_diagnostics" not in out
    # empty diagnostics list is omitted too
    data2 = dict(data, active_buffer_diagnostics=[])
    assert "active_buffer_diagnostics" not in Zeta2PromptInput.from_json(data2).to_zed_json()


def test_unknown_event_kind_rejected():
    data = dict(ZED_REQUEST, events=[{"event": "Other", "path": "x"}])
    with pytest.raises(ValueError):
        Zeta2PromptInput.from_json(data)


def test_validate_offsets_bytes_and_boundaries():
    excerpt = "aé\nb"  # bytes: a, c3, a9, \n, b
    req = Zeta2PromptInput(cursor_path="x", cursor_excerpt=excerpt, cursor_offset_in_excerpt=3)
    req.validate_offsets()
    assert req.slice_excerpt(1, 3) == "é"
    req.cursor_offset_in_excerpt = 2
    with pytest.raises(ValueError, match="character boundary"):
        req.validate_offsets()
    req.cursor_offset_in_excerpt = 6
    with pytest.raises(ValueError, match="outside"):
        req.validate_offsets()
    req.cursor_offset_in_excerpt = 5
    req.validate_offsets()
    req.excerpt_ranges.editable_350 = ByteRange(start=2, end=5)
    with pytest.raises(ValueError, match="editable_350"):
        req.validate_offsets()
    req.excerpt_ranges.editable_350 = ByteRange(start=4, end=3)
    with pytest.raises(ValueError, match="start 4 > end 3"):
        req.validate_offsets()
    with pytest.raises(ValueError):
        req.slice_excerpt(0, 2)


def test_char_byte_conversion():
    t = "héllo wörld"
    for i in range(len(t) + 1):
        assert byte_to_char(t, char_to_byte(t, i)) == i
