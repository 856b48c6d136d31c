"""The heuristic's work is bounded whatever the request holds (issue 17, defect 1): inputs that
took seconds to minutes (difflib is ~cubic on repeated lines) are declined by a counted work
budget, long word runs and big corpora are capped, and a canceled request stops."""

from __future__ import annotations

import pytest

from nextedit.predict import heuristic
from nextedit.predict.heuristic import HeuristicProvider, complete_identifier, propagate_rename
from nextedit.schema.cancel import Canceled, CancelToken
from nextedit.schema.request import Zeta2PromptInput


def table_diff(n: int, old: str = "0, 0, 0, 0,", new: str = "1, 1, 1, 1,") -> str:
    """One change group of ``n`` identical lines replaced by ``n`` others (the wedge of issue 17:
    384 lines took 217 s, 128 lines 5.9 s, 64 lines 0.7 s before the budget)."""
    return (
        f"@@ -1,{n} +1,{n} @@\n"
        + "".join(f"-{old}\n" for _ in range(n))
        + "".join(f"+{new}\n" for _ in range(n))
    )


def table_request(n: int) -> Zeta2PromptInput:
    excerpt = "\n".join(["1, 1, 1, 1,"] * n) + "\nx = 1\n"
    return Zeta2PromptInput.from_json(
        {
            "cursor_path": "a.py",
            "cursor_excerpt": excerpt,
            "cursor_offset_in_excerpt": 0,
            "excerpt_start_row": 0,
            "events": [{"path": "a.py", "diff": table_diff(n)}],
            "related_files": [],
            "excerpt_ranges": {},
        }
    )


class SpyMatcher(heuristic._CountedMatcher):
    """Counts the longest-match searches the budget let run, and the budget left after each."""

    searches = 0
    lowest = heuristic.MAX_DIFF_WORK

    def find_longest_match(self, *args):  # noqa: ANN002, ANN201
        out = super().find_longest_match(*args)
        SpyMatcher.searches += 1
        SpyMatcher.lowest = min(SpyMatcher.lowest, self._budget[0])
        return out


@pytest.mark.parametrize("n", [64, 128, 384, 1000])
def test_repetitive_diff_over_the_budget_is_declined(n: int, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(heuristic, "_CountedMatcher", SpyMatcher)
    SpyMatcher.searches = 0
    with pytest.raises(heuristic.Declined):
        heuristic._substitutions(table_diff(n))
    # a search runs only when the budget can pay its bound: never overdrawn
    assert SpyMatcher.lowest >= 0 and SpyMatcher.searches < heuristic.MAX_DIFF_WORK // (2 * n)
    assert propagate_rename("0, 0, 0, 0,\n" * 4, table_diff(n)) is None
    assert HeuristicProvider().predict(table_request(n)).output == ""


def test_budget_spent_is_bounded_on_a_diff_under_it() -> None:
    budget = [heuristic.MAX_DIFF_WORK, heuristic.MAX_DIFF_TOKENS]
    a = heuristic._TOKEN.findall("\n".join(["0, 0, 0, 0,"] * 16))
    b = heuristic._TOKEN.findall("\n".join(["1, 1, 1, 1,"] * 16))
    heuristic._token_replacements(a, b, budget)
    assert 0 <= budget[0] < heuristic.MAX_DIFF_WORK


def test_small_renames_still_propagate() -> None:
    diff = "@@ -1,3 +1,3 @@\n-def f(qty):\n+def f(quantity):\n     pass\n"
    region = "def f(quantity):\n    x = qty + 1\n"
    assert propagate_rename(region, diff) == "def f(quantity):\n    x = quantity + 1\n"


def test_size_caps_decline() -> None:
    diff = "@@ -1,1 +1,1 @@\n-qty\n+quantity\n"
    assert propagate_rename("x = qty\n", diff) == "x = quantity\n"
    assert propagate_rename("x = qty\n" * (heuristic.MAX_REGION_CHARS // 8 + 1), diff) is None
    assert propagate_rename("qty\n" * heuristic.MAX_REGION_LINES, diff) is None
    long_name = "q" * (heuristic.MAX_SUBSTITUTION_CHARS + 1)
    assert propagate_rename("x = qty\n", f"@@ -1,1 +1,1 @@\n-qty\n+{long_name}\n") is None
    assert propagate_rename("x = qty\n", diff + " " * heuristic.MAX_DIFF_CHARS) is None


def test_long_word_run_is_not_completed_and_big_corpus_is_capped() -> None:
    long_run = "a" * 200_000  # re.search(r"\w*\Z") over it is quadratic
    assert complete_identifier(long_run, "", [long_run + " ab" + "x" * 10], len(long_run)) is None
    assert complete_identifier("x = ver", "", ["x = ver", "version = 1"], 7) == "sion"
    corpus = ["x = ver", " " * heuristic.MAX_CORPUS_CHARS, "version = 1"]  # past the cap
    assert complete_identifier("x = ver", "", corpus, 7) is None


def test_canceled_request_stops() -> None:
    token = CancelToken()
    token.cancel()
    with pytest.raises(Canceled):
        HeuristicProvider().predict(table_request(8), cancel=token)
