"""Zed-produced JSONL lines load into `Example` and serialise back unchanged; compressed JSONL and resume."""

from __future__ import annotations

import gzip
import json

import pytest

from nextedit.io.inputs import read_examples
from nextedit.io.jsonl import JsonlWriter, open_text, read_valid_prefix
from nextedit.schema.example import Example

EXCERPT = (
    'def restock(item, quantity):\n    if qty <= 0:\n        raise ValueError("qty must be positive")\n'
    "    item.count += qty\n    return item\n"
)
PATCH = (
    "--- a/inventory/stock.py\n+++ b/inventory/stock.py\n@@ -12,5 +12,5 @@\n def restock(item, quantity):\n"
    '-    if qty <= 0:\n+    if quantity<|user_cursor|> <= 0:\n         raise ValueError("qty must be positive")\n'
    "     item.count += qty\n     return item\n"
)

# A line as Zed's `ep` CLI writes it after read → load-project → format-prompt → predict → score → qa,
# plus keys a newer Zed might add (top level and nested) which must survive untouched.
ZED_LINE = {
    "name": "inventory--propagate-rename",
    "repository_url": "https://github.com/example/inventory",
    "revision": "0123456789abcdef0123456789abcdef01234567",
    "tags": ["settled", "rated:positive", "experiment:zeta2-0318"],
    "reasoning": "The parameter was renamed; its uses follow.",
    "uncommitted_diff": "",
    "recently_opened_files": [{"path": "inventory/stock.py", "cursor_position": 312}],
    "recently_viewed_files": [{"path": "inventory/models.py", "cursor_position": None}],
    "uncommitted_diff_contains_edit_history": False,
    "cursor_path": "inventory/stock.py",
    "cursor_position": "def restock(item, quantity):\n#                         ^[CURSOR_POSITION]\n    if qty <= 0:\n",
    "edit_history": "--- a/inventory/stock.py\n+++ b/inventory/stock.py\n@@ -12,1 +12,1 @@\n-def restock(item, qty):\n"
    "+def restock(item, quantity):\n// User accepted prediction:\n--- a/inventory/stock.py\n+++ b/inventory/stock.py\n",
    "expected_patches": [PATCH, PATCH.replace("<|user_cursor|>", "")],
    "rejected_patch": "--- a/inventory/stock.py\n+++ b/inventory/stock.py\n@@ -12,1 +12,1 @@\n-def restock(item, quantity):\n"
    "+def restock(item, qty):\n",
    "telemetry": {
        "request_id": "6f1d2c7e-8a90-4b1c-9d2e-3f4a5b6c7d8e",
        "device_id": "d-42",
        "time": "2026-07-14T09:21:33.120Z",
        "rejection_reason": None,
        "was_shown": True,
        "settled_kept_rate": 0.93,
    },
    "human_feedback": [{"message": "good one", "author": "qa-team"}],
    "rating": "Positive",
    "zed_version": "0.230.0",
    "prompt_inputs": {
        "cursor_path": "inventory/stock.py",
        "cursor_excerpt": EXCERPT,
        "cursor_offset_in_excerpt": 26,
        "excerpt_start_row": 11,
        "events": [
            {
                "event": "BufferChange",
                "path": "inventory/stock.py",
                "old_path": "inventory/stock.py",
                "diff": "@@ -12,1 +12,1 @@\n-def restock(item, qty):\n+def restock(item, quantity):\n",
                "old_range": {"start": 310, "end": 313},
                "new_range": {"start": 310, "end": 318},
                "predicted": False,
                "in_open_source_repo": True,
            }
        ],
        "related_files": [
            {
                "path": "inventory/models.py",
                "max_row": 88,
                "in_open_source_repo": True,
                "excerpts": [
                    {
                        "row_range": {"start": 3, "end": 9},
                        "text": "class Item:\n    count: int\n",
                        "order": 0,
                        "context_source": "lsp",
                    }
                ],
            }
        ],
        "active_buffer_diagnostics": [
            {
                "severity": 1,
                "message": "undefined name 'qty'",
                "snippet": "    if qty <= 0:",
                "snippet_buffer_row_range": {"start": 12, "end": 12},
                "diagnostic_range_in_snippet": {"start": 7, "end": 10},
            }
        ],
        "excerpt_ranges": {
            "editable_150": {"start": 0, "end": 139},
            "editable_180": {"start": 0, "end": 139},
            "editable_350": {"start": 0, "end": 139},
            "editable_512": {"start": 0, "end": 139},
            "editable_150_context_350": {"start": 0, "end": 139},
            "context_8192": {"start": 0, "end": 139},
        },
        "syntax_ranges": [{"start": 12, "end": 27}, {"start": 0, "end": 139}],
        "in_open_source_repo": True,
        "can_collect_data": False,
    },
    "prompt": {
        "input": "<|file_sep|>inventory/stock.py\n<|fim_prefix|>...",
        "expected_output": "    if quantity <= 0:\n<|end|>",
        "rejected_output": None,
        "prefill": None,
        "provider": "zeta2:V0318SeedMultiRegions",
        "token_count": 1234,
    },
    "predictions": [
        {
            "actual_patch": PATCH.replace("<|user_cursor|>", ""),
            "actual_output": "def restock(item, quantity):\n    if quantity <= 0:\n",
            "actual_cursor": {
                "path": "inventory/stock.py",
                "row": 12,
                "column": 15,
                "offset": 344,
                "editable_region_offset": 44,
                "precision": "exact",
            },
            "error": None,
            "provider": "teacher:sonnet45:V0131GitMergeMarkersPrefix",
            "cumulative_logprob": -1.25,
            "avg_logprob": -0.0125,
            "latency_ms": 812,
        },
        {
            "actual_patch": "",
            "actual_output": "",
            "error": "unparseable output",
            "provider": "zeta2:V0211SeedCoder",
        },
    ],
    "score": [
        {
            "delta_chr_f": 87.5,
            "delta_chr_f_true_positives": 21,
            "delta_chr_f_false_positives": 3,
            "delta_chr_f_false_negatives": 0,
            "delta_chr_f_precision": 0.875,
            "delta_chr_f_recall": 1.0,
            "delta_chr_f_beta": 0.5,
            "braces_disbalance": 0,
            "exact_lines_tp": 1,
            "exact_lines_fp": 0,
            "exact_lines_fn": 2,
            "reversal_ratio": 0.0,
            "cursor_distance": 0,
            "cursor_exact_match": True,
            "wrong_editable_region": False,
            "has_isolated_whitespace_changes": False,
            "kept_rate": 0.91,
        },
        {"delta_chr_f": 0.0, "cursor_distance": None, "cursor_exact_match": False},
    ],
    "qa": [
        {
            "reasoning": "Propagates the rename.",
            "reverts_edits": False,
            "confidence": 4,
            "response": "{...}",
            "error": None,
            "judge_model": "gpt-5.2",
        },
        None,
    ],
    "future_field": {"nested": [1, 2, {"x": None}]},
    "schema_version": 3,
}


def test_zed_line_loads_and_round_trips_unchanged():
    line = json.dumps(ZED_LINE, ensure_ascii=False)
    ex = Example.from_json(line)
    assert ex.name == "inventory--propagate-rename"
    assert ex.predictions[0].actual_cursor.editable_region_offset == 44
    assert ex.predictions[1].error == "unparseable output"
    assert ex.qa[0].confidence == 4 and ex.qa[1] is None
    assert ex.prompt.provider == "zeta2:V0318SeedMultiRegions"
    assert ex.prompt_inputs["events"][0]["predicted"] is False
    assert json.loads(ex.to_json()) == ZED_LINE
    # nested unknown keys are kept on the typed records too
    assert ex.predictions[0].actual_cursor.to_dict()["precision"] == "exact"


def test_minimal_line_writes_back_only_its_keys():
    obj = {"cursor_path": "a.py", "cursor_position": "x<|user_cursor|>", "expected_patches": []}
    assert json.loads(Example.from_json(json.dumps(obj)).to_json()) == obj


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz", ".jsonl.zst"])
def test_compressed_round_trip(tmp_path, suffix):
    path = tmp_path / f"out{suffix}"
    lines = []
    for i in range(5):
        obj = dict(ZED_LINE, name=f"case-{i}", cursor_path=f"src/ünï-{i}.py")
        lines.append(obj)
    with JsonlWriter(path) as w:
        for obj in lines[:3]:
            w.write(Example.model_validate(obj))
    with JsonlWriter(path, append=True) as w:  # a second session appends (a new zstd frame / gzip member)
        for obj in lines[3:]:
            w.write(Example.model_validate(obj))
    raw = path.read_bytes()
    if suffix.endswith(".gz"):
        assert raw[:2] == b"\x1f\x8b"
    elif suffix.endswith(".zst"):
        assert raw[:4] == b"\x28\xb5\x2f\xfd"
    back = [json.loads(ex.to_json()) for ex in read_examples([path])]
    assert back == lines
    assert len(list(read_valid_prefix(path))) == 5


def test_read_valid_prefix_drops_a_torn_last_line(tmp_path):
    path = tmp_path / "out.jsonl"
    full = [json.dumps({"name": f"n{i}"}) + "\n" for i in range(3)]
    path.write_text("".join(full) + '{"name": "n3", "cursor_pa')
    assert list(read_valid_prefix(path)) == full
    path.write_text("".join(full) + '{"name": broken}\n' + full[0])
    assert list(read_valid_prefix(path)) == full  # stops at the first unparseable line


@pytest.mark.parametrize("suffix", [".jsonl.gz", ".jsonl.zst"])
def test_read_valid_prefix_of_truncated_compressed_file(tmp_path, suffix):
    path = tmp_path / f"out{suffix}"
    with JsonlWriter(path) as w:
        for i in range(400):
            w.write({"name": f"n{i}", "pad": "x" * (i % 50)})
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])
    kept = list(read_valid_prefix(path))
    assert kept == [
        json.dumps({"name": f"n{i}", "pad": "x" * (i % 50)}, separators=(",", ":")) + "\n"
        for i in range(len(kept))
    ]
    assert len(kept) < 400


def test_open_text_gzip_is_standard_gzip(tmp_path):
    path = tmp_path / "a.jsonl.gz"
    with open_text(path, "w") as f:
        f.write('{"name":"é"}\n')
    assert gzip.decompress(path.read_bytes()).decode() == '{"name":"é"}\n'


def test_a_bad_line_is_reported_by_file_and_line_and_the_rest_is_read(tmp_path):
    path = tmp_path / "mixed.jsonl"
    path.write_text('not json\n{"name": "a"}\n[1]\n\n{"name": "b"}\n')
    errors = []
    from nextedit.io.jsonl import iter_json_lines

    assert [(n, obj["name"]) for n, obj in iter_json_lines(path, on_error=errors.append)] == [(2, "a"), (5, "b")]
    assert [str(e) for e in errors] == [
        f"{path}:1: invalid JSON (Expecting value at column 1)",
        f"{path}:3: expected a JSON object, got list",
    ]
    with pytest.raises(ValueError, match=r"mixed.jsonl:1: invalid JSON"):
        list(iter_json_lines(path))  # without a handler the first bad line raises
    messages = []
    line = json.dumps({"cursor_path": "a.py", "cursor_position": "x<|user_cursor|>", "expected_patches": []})
    path.write_text(f"not json\n{line}\n{line}\n")
    assert len(list(read_examples([path], on_error=messages.append))) == 2
    assert messages == [f"{path}:1: invalid JSON (Expecting value at column 1)"]
