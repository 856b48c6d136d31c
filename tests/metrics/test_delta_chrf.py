import pytest

from nextedit.metrics.delta_chrf import changed_region, delta_chr_f, normalize_whitespace

# zeta.md §5.8: (original, expected, actual, score β=0.5/collapse, score β=2/ignore)
VECTORS = [
    ("one two three", "one three", "one two four", 24.03, 38.66),
    ("let x = 42;", "let x = 100;", "let x = 99;", 48.26, 43.71),
    ("prefix old suffix", "prefix new suffix", "prefix old suffix", 0.0, 0.0),
    ("helloworld", "helloworld", "helloextraworld", 0.0, 0.0),
    (
        'fn main() {    println!("Hello");}',
        'fn main() {    println!("Hello, World!");}',
        'fn main() {    println!("Hello, World!");}',
        100.0,
        100.0,
    ),
]


@pytest.mark.parametrize("original,expected,actual,current,legacy", VECTORS)
def test_spec_vectors(original, expected, actual, current, legacy):
    cur = delta_chr_f(original, expected, actual)
    assert round(cur.score, 2) == current
    assert cur.beta == 0.5
    old = delta_chr_f(original, expected, actual, beta=2.0, whitespace="ignore")
    assert round(old.score, 2) == legacy
    assert old.beta == 2.0


def test_rust_assert_ranges():
    assert 20 < delta_chr_f("one two three", "one three", "one two four").score < 40
    assert 40 < delta_chr_f("let x = 42;", "let x = 100;", "let x = 99;").score < 60


@pytest.mark.parametrize("text", ["", "a", "fn f() {}\n", "héllo wörld\n\n  x"])
def test_identical_is_100(text):
    r = delta_chr_f(text, text, text)
    assert r.score == 100.0 and r.precision == 1.0 and r.recall == 1.0


@pytest.mark.parametrize(
    "original,expected",
    [("a = 1\n", "a = 2\n"), ("def f(x):\n    return x\n", "def f(x, y):\n    return x + y\n"), ("", "new")],
)
def test_actual_equal_expected_is_100(original, expected):
    r = delta_chr_f(original, expected, expected)
    assert r.score == pytest.approx(100.0)
    assert r.false_positives == 0 and r.false_negatives == 0 and r.true_positives > 0


def test_no_prediction_scores_zero_with_counts():
    r = delta_chr_f("a = 1\n", "a = 2\n", "a = 1\n")
    assert r.score == 0.0
    assert r.true_positives == 0 and r.false_negatives > 0 and r.false_positives == 0


def test_score_bounded_and_partial_better_than_wrong():
    o, e = "total = price * qty\n", "total = price * quantity\n"
    partial = delta_chr_f(o, e, "total = price * quant\n").score
    wrong = delta_chr_f(o, e, "total = cost * qty\n").score
    assert 0 <= wrong < partial < 100


def test_whitespace_modes():
    assert normalize_whitespace("a  \t b\n\n\nc", "collapse") == "a b\nc"
    assert normalize_whitespace(" \n ", "collapse") == " \n "
    assert normalize_whitespace(" \n \n", "collapse") == " \n \n"
    assert normalize_whitespace("a b\n\tc", "ignore") == "abc"
    with pytest.raises(ValueError):
        normalize_whitespace("x", "strip")  # type: ignore[arg-type]
    # collapse: an indentation-only change is invisible
    assert delta_chr_f("x\n  y\n", "x\n    y\n", "x\n  y\n").score == 100.0
    assert delta_chr_f("a b", "a  b", "a b").score == 100.0


def test_changed_region_context():
    assert changed_region("abc", "abc") == ("", "")
    o, e = changed_region("0123456789", "01234X6789")
    assert o == "0123456789" and e == "01234X6789"
    o, e = changed_region("aaaaaaaaaaXbbbbbbbbbb", "aaaaaaaaaaYbbbbbbbbbb")
    assert o == "aaaaaXbbbbb" and e == "aaaaaYbbbbb"
    # prefix and suffix never overlap: "aa" -> "aaa"
    o, e = changed_region("aa", "aaa")
    assert (o, e) == ("aa", "aaa")
