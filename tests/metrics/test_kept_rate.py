import random

import pytest

from nextedit.metrics.kept_rate import compute_kept_rate
from nextedit.metrics.lcs import lcs_length, lcs_masks


def test_vector_partial_typing_then_extra_line():
    r = compute_kept_rate(
        "fn example() {\n    epr\n",
        'fn example() {\n    epr\neprintln!("");\n',
        'fn example() {\neprintln!("");\n',
    )
    assert (r.kept_chars, r.discarded_chars, r.candidate_new_chars) == (14, 1, 15)
    assert round(r.kept_rate, 4) == 0.9333
    assert round(r.recall_rate, 4) == 0.6667


def test_vector_longer_string():
    r = compute_kept_rate(
        "fn example() {\n    epr\n",
        'fn example() {\n    eprintln!("hello world!");\n',
        'fn example() {\n    eprintln!("");\n',
    )
    assert r.kept_chars == 14
    assert r.discarded_chars == 12
    assert r.candidate_new_chars == 26
    assert r.correctly_deleted_chars == 3
    assert round(r.kept_rate, 4) == round(17 / 29, 4) == 0.5862
    assert r.recall_rate == 1.0


def test_vector_typo_fix():
    r = compute_kept_rate("a=fomr\nb=old\n", "a=formula;\nb=old\n", "a=formula;\nb=new\n")
    assert r.candidate_new_chars == 8 and r.kept_chars == 8
    assert r.candidate_deleted_chars == r.correctly_deleted_chars == 4
    assert r.kept_rate == 1.0
    assert round(r.recall_rate, 4) == round(2 / 3, 4)


def test_vector_rename_both():
    r = compute_kept_rate("    foo(old_name)\n", "    foo(new_name)\n", "    foo(new_name)\n")
    assert r.candidate_new_chars == r.reference_new_chars == 8
    assert r.candidate_deleted_chars == r.reference_deleted_chars == 8
    assert r.kept_rate == r.recall_rate == 1.0


@pytest.mark.parametrize(
    "base,cand,ref,kept,recall",
    [("old", "new", "new", 1.0, 1.0), ("old", "old", "new", 0.0, 0.0), ("foo bar", "foo bar", "foo bar", 1.0, 1.0)],
)
def test_small_vectors(base, cand, ref, kept, recall):
    r = compute_kept_rate(base, cand, ref)
    assert (r.kept_rate, r.recall_rate) == (kept, recall)


def test_identical_counts_context():
    r = compute_kept_rate("héllo", "héllo", "héllo")
    assert r.context_chars == len("héllo".encode()) == 6


def test_dirty_final_bailout():
    base = "x\n"
    cand = base + "y" * 600
    r = compute_kept_rate(base, cand, base + "z")
    assert r.candidate_new_chars == 600 and r.reference_new_chars == 1 and r.discarded_chars == 600
    assert r.kept_rate == 0 and r.recall_rate == 0
    # exactly 512 apart does not bail out
    r = compute_kept_rate(base, base + "y " * 256 + "z", base + "z")
    assert r.kept_chars == 1


def test_bytes_not_chars():
    r = compute_kept_rate("a = 1\n", "a = «é»\n", "a = «é»\n")
    assert r.candidate_new_chars == len("«é»".encode())  # 6 bytes, 3 chars
    assert r.kept_rate == 1.0


def test_edit_bytes_names():
    d = compute_kept_rate("a", "b", "b").to_edit_bytes()
    assert set(d) == {
        "edit_bytes_candidate_new", "edit_bytes_reference_new", "edit_bytes_candidate_deleted",
        "edit_bytes_reference_deleted", "edit_bytes_kept", "edit_bytes_correctly_deleted",
        "edit_bytes_discarded", "edit_bytes_context", "edit_bytes_kept_rate", "edit_bytes_recall_rate",
    }


def _naive_lcs_table(a, b):
    dp = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            dp[i][j] = dp[i - 1][j - 1] + 1 if a[i - 1] == b[j - 1] else max(dp[i - 1][j], dp[i][j - 1])
    return dp


def _naive_masks(a, b):
    """§5.3 step 5 with a plain DP table (reference implementation for the bit-parallel one)."""
    n, m = len(a), len(b)
    ma, mb = [False] * n, [False] * m
    p = 0
    while p < n and p < m and a[p] == b[p]:
        ma[p] = mb[p] = True
        p += 1
    s = 0
    while s < n - p and s < m - p and a[n - 1 - s] == b[m - 1 - s]:
        ma[n - 1 - s] = mb[m - 1 - s] = True
        s += 1
    xa, xb = a[p : n - s], b[p : m - s]
    dp = _naive_lcs_table(xa, xb)
    i, j = len(xa), len(xb)
    while i and j:
        if xa[i - 1] == xb[j - 1]:
            ma[p + i - 1] = True
            i, j = i - 1, j - 1
        elif dp[i - 1][j] >= dp[i][j - 1]:
            i -= 1
        else:
            j -= 1
    i, j = len(xa), len(xb)
    while i and j:
        if xa[i - 1] == xb[j - 1]:
            mb[p + j - 1] = True
            i, j = i - 1, j - 1
        elif dp[i][j - 1] >= dp[i - 1][j]:
            j -= 1
        else:
            i -= 1
    return ma, mb


def test_bit_parallel_lcs_matches_naive_dp():
    rng = random.Random(0)
    for _ in range(300):
        a = [rng.choice("abcd") for _ in range(rng.randint(0, 14))]
        b = [rng.choice("abcd") for _ in range(rng.randint(0, 14))]
        assert lcs_length(a, b) == _naive_lcs_table(a, b)[len(a)][len(b)]
        assert lcs_masks(a, b) == _naive_masks(a, b)
        ma, mb = lcs_masks(a, b)
        assert sum(ma) == sum(mb) == lcs_length(a, b)


def test_kept_rate_bounds_random():
    rng = random.Random(1)
    words = ["foo", "bar", "(", ")", " ", "\n", "x_y", "=", "1"]
    for _ in range(100):
        base = "".join(rng.choice(words) for _ in range(rng.randint(0, 12)))
        cand = "".join(rng.choice(words) for _ in range(rng.randint(0, 12)))
        ref = "".join(rng.choice(words) for _ in range(rng.randint(0, 12)))
        r = compute_kept_rate(base, cand, ref)
        assert 0.0 <= r.kept_rate <= 1.0 and 0.0 <= r.recall_rate <= 1.0
        assert r.kept_chars + r.discarded_chars == r.candidate_new_chars
        assert r.candidate_new_chars + r.context_chars == len(cand.encode())
        assert r.correctly_deleted_chars <= min(r.candidate_deleted_chars, r.reference_deleted_chars)
