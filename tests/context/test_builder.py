"""build_request: a valid Zeta2PromptInput with byte offsets, rebased syntax ranges, CLI."""

import json

from typer.testing import CliRunner

from nextedit.cli import app
from nextedit.context.builder import build_request
from nextedit.context.symbols import SymbolIndex
from nextedit.schema.request import Zeta2PromptInput

from .conftest import write_tree


def test_multibyte_offsets(tmp_path):
    text = "# café ☕\nclass Tasse:\n    def füllen(self, menge):\n        return menge * 2  # ü\n"
    root = write_tree(tmp_path / "proj", {"tasse.py": text})
    cursor = text.encode().index(b"menge * 2") + len(b"menge")
    req = build_request(root, "tasse.py", cursor, [], index=SymbolIndex(root).build())
    req.validate_offsets()
    assert req.cursor_path == "proj/tasse.py"
    assert req.cursor_excerpt == text  # whole file (its last row is the empty one after "\n")
    ex = req.cursor_excerpt.encode()
    assert ex[: req.cursor_offset_in_excerpt].endswith(b"return menge")
    first = req.syntax_ranges[0]
    assert ex[first.start : first.end] == b"menge * 2"  # the cursor sits at the end of `menge`
    for r in req.syntax_ranges:
        assert 0 <= r.start <= req.cursor_offset_in_excerpt <= r.end <= len(ex)
        ex[r.start : r.end].decode()  # on character boundaries
    for _key, r in req.excerpt_ranges.items():
        assert r.start <= req.cursor_offset_in_excerpt <= r.end
    # the model-facing JSON round-trips
    again = Zeta2PromptInput.from_json(json.dumps(req.to_zed_json()))
    assert again.to_zed_json() == req.to_zed_json()


def test_large_file_excerpt_is_windowed_and_ranges_rebased(tmp_path):
    lines = [f"def f{i}(x):\n    return x + {i}  # ééé\n\n" for i in range(3000)]
    text = "".join(lines)
    root = write_tree(tmp_path / "big", {"big.py": text})
    target = text.index("def f1500(")
    cursor = len(text[:target].encode()) + len(b"def f1500(")
    req = build_request(root, "big.py", cursor, [], compute_diagnostics=False)
    req.validate_offsets()
    ex = req.cursor_excerpt.encode()
    line_tokens = sum(max(1, len(ln.encode()) // 3) for ln in req.cursor_excerpt.split("\n"))
    assert line_tokens <= 8192 and len(ex) < len(text.encode())
    data = text.encode()
    start = data.index(ex)
    assert req.excerpt_start_row == data[:start].count(b"\n") > 0
    assert start + req.cursor_offset_in_excerpt == cursor
    assert all(0 <= r.start <= r.end <= len(ex) for r in req.syntax_ranges)
    assert ex[req.syntax_ranges[-1].start : req.syntax_ranges[-1].end].startswith(b"def f1500(")


def test_unknown_language_and_no_index(tmp_path):
    root = write_tree(tmp_path / "p", {"notes.txt": "hello\nworld\n"})
    req = build_request(root, "notes.txt", 7, [])
    assert req.syntax_ranges == [] and req.related_files is None and req.active_buffer_diagnostics == []
    req.validate_offsets()


def test_cli_load_project_and_context(tmp_path):
    root = write_tree(tmp_path / "repos" / "proj", {"a.py": "def helper():\n    return 1\n", "b.py": "x = helper()\n"})
    ex = {"name": "e1", "repository_url": str(root), "revision": "", "cursor_path": "b.py",
          "cursor_position": "x = <|user_cursor|>helper()\n"}
    inp = tmp_path / "in.jsonl"
    inp.write_text(json.dumps(ex) + "\n")
    out = tmp_path / "out.jsonl"
    runner = CliRunner()
    repos = ["--repos-dir", str(tmp_path / "repos")]  # a local repository_url must lie inside it
    res = runner.invoke(app, ["context", str(inp), "-o", str(out), "--type", "lsp", *repos])
    assert res.exit_code == 0, res.output
    (line,) = out.read_text().splitlines()
    pi = json.loads(line)["prompt_inputs"]
    assert pi["cursor_path"] == "proj/b.py" and pi["cursor_offset_in_excerpt"] == 4
    assert [f["path"] for f in pi["related_files"]][0] == "proj/a.py"  # then b.py's own `x`
    res = runner.invoke(app, ["load-project", str(inp), "-o", str(tmp_path / "lp.jsonl"), *repos])
    assert res.exit_code == 0, res.output
    assert json.loads((tmp_path / "lp.jsonl").read_text())["prompt_inputs"]["related_files"] is None
    res = runner.invoke(app, ["context", str(inp), "--type", "nope"])
    assert res.exit_code != 0
