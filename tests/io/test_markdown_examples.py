"""Every bundled eval case in examples/ parses, is internally consistent, and round-trips."""

from __future__ import annotations

from pathlib import Path

import pytest

from nextedit.io.inputs import read_examples
from nextedit.io.markdown import cursor_excerpt, example_to_markdown, parse_markdown
from nextedit.text.patch import apply_patch, apply_patch_with_cursor

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
FILES = sorted(EXAMPLES.glob("*.md"))
SPEC_FIELDS = (
    "name",
    "repository_url",
    "revision",
    "tags",
    "reasoning",
    "uncommitted_diff",
    "recently_opened_files",
    "recently_viewed_files",
    "uncommitted_diff_contains_edit_history",
    "cursor_path",
    "cursor_position",
    "edit_history",
    "expected_patches",
    "rejected_patch",
)


def _load(name: str):
    path = EXAMPLES / name
    return parse_markdown(path.read_text(encoding="utf-8"), path=str(path))


def test_there_are_enough_examples_in_enough_languages():
    assert 10 <= len(FILES) <= 14
    exts = {Path(parse_markdown(f.read_text(), str(f)).cursor_path).suffix for f in FILES}
    assert len(exts) >= 5, exts


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_example_is_consistent(path: Path):
    ex = parse_markdown(path.read_text(encoding="utf-8"), path=str(path))
    assert ex.repository_url.startswith("https://github.com/example/")
    assert len(ex.revision) == 40
    assert ex.cursor_path and "." in ex.cursor_path
    excerpt, offset = cursor_excerpt(ex.cursor_position, ex.cursor_path)
    assert "[CURSOR_POSITION]" not in excerpt and "<|user_cursor|>" not in excerpt
    assert 0 <= offset <= len(excerpt.encode())
    assert 10 <= excerpt.count("\n") + 1 <= 40
    # every alternative (and the rejected patch) applies to the excerpt and changes it
    for patch in ex.expected_patches + ([ex.rejected_patch] if ex.rejected_patch else []):
        new = apply_patch(excerpt, patch, ex.cursor_path)
        assert new != excerpt
    if not ex.expected_patches:
        assert "no-edit" in ex.tags


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_writer_parser_round_trip(path: Path):
    ex = parse_markdown(path.read_text(encoding="utf-8"), path=str(path))
    ex.name = ex.name or path.stem
    text = example_to_markdown(ex)
    back = parse_markdown(text, path="written.md")
    for field in SPEC_FIELDS:
        assert getattr(back, field) == getattr(ex, field), field
    # writing again is a fixed point
    assert example_to_markdown(back) == text


def test_read_examples_names_from_file_stem_or_h1():
    exs = list(read_examples([EXAMPLES]))
    assert [e.name for e in exs] == [f.stem for f in FILES]


def test_accepted_prediction_history():
    ex = _load("tasktrack--accepted-prediction-then-serialise.md")
    parts = ex.edit_history.split("// User accepted prediction:\n")
    assert len(parts) == 2
    assert parts[0].startswith("--- a/tasktrack/models.py\n") and "+    priority: int = 0\n" in parts[0]
    assert (
        parts[1].startswith("--- a/tasktrack/models.py\n")
        and "+    due: datetime | None = None\n" in parts[1]
    )


def test_alternatives_rejected_and_no_edit():
    assert len(_load("blobcache--complete-error-check.md").expected_patches) == 2
    shop = _load("shopcart--quantity-parameter-with-rejected.md")
    assert len(shop.expected_patches) == 1 and shop.rejected_patch.startswith("--- a/src/cart.js\n")
    ring = _load("ringbuf--no-edit-complete-function.md")
    assert ring.expected_patches == [] and ring.edit_history == ""
    assert ring.name == "ringbuf--no-edit-complete-function"  # from the H1


def test_context_sections():
    ex = _load("weatherapi--replace-deprecated-utcnow.md")
    assert ex.uncommitted_diff.startswith("--- a/weather/client.py\n")
    assert ex.recently_opened_files == [
        {"path": "weather/client.py", "cursor_position": 1184},
        {"path": "weather/cache.py", "cursor_position": 702},
        {"path": "tests/test_cache.py", "cursor_position": None},
    ]
    assert ex.recently_viewed_files[1] == {"path": "README.md", "cursor_position": None}
    assert ex.uncommitted_diff_contains_edit_history is False
    assert ex.reasoning.startswith("The user is replacing the deprecated")
    assert "Notes" not in ex.edit_history


def test_cursor_forms_in_examples():
    lexer = _load("lexer--column-zero-cursor.md")
    assert "// <[CURSOR_POSITION]" in lexer.cursor_position
    excerpt, offset = cursor_excerpt(lexer.cursor_position, lexer.cursor_path)
    data = excerpt.encode()
    assert data[offset - 2 : offset + 1] == b"}\n\n"  # column 0 of the blank line below the enum

    dash = _load("dashboard--add-parameter-update-call-site.md")
    excerpt, offset = cursor_excerpt(dash.cursor_position, dash.cursor_path)
    assert excerpt.encode()[:offset].endswith(b"signal: AbortSignal")

    i18n = _load("i18n--complete-translation-utf8.md")
    excerpt, offset = cursor_excerpt(i18n.cursor_position, i18n.cursor_path)
    assert excerpt.encode()[:offset].endswith(b"    not_fo")
    chars = excerpt.rindex("not_fo") + 6
    assert (
        offset == len(excerpt[:chars].encode()) == chars + 2
    )  # bytes, not characters: À and ô take 2 bytes each

    legacy = _load("invoicer--legacy-cursor-in-expected-patch.md")
    excerpt, _ = cursor_excerpt(legacy.cursor_position, legacy.cursor_path)
    new, cursor = apply_patch_with_cursor(excerpt, legacy.expected_patches[0], legacy.cursor_path)
    assert new.encode()[:cursor].endswith(b"      subtotal_cents + tax_cents(rate)")
