"""Longest-common-subsequence helpers shared by kept rate (§5.3) and reversal (§5.4).

``lcs_masks`` follows §5.3 step 5 exactly: common prefix/suffix are matched first, the middle is
solved by LCS dynamic programming with deterministic backtracking (side A prefers moving ``i-1``
on ties, side B prefers moving ``j-1``). The DP table is held as bit vectors (Hyyrö's bit-parallel
LCS: one Python int per row), so a 2000×2000 middle costs ~4 ms instead of seconds;
``dp[i][j] = i - popcount(row_j & ((1 << i) - 1))``.
"""

from __future__ import annotations

from collections.abc import Sequence


def _char_masks(a: Sequence) -> dict:
    masks: dict = {}
    for i, x in enumerate(a):
        masks[x] = masks.get(x, 0) | (1 << i)
    return masks


def lcs_length(a: Sequence, b: Sequence) -> int:
    """Length of the LCS of two sequences of hashable items (e.g. two strings → characters)."""
    if not a or not b:
        return 0
    masks = _char_masks(a)
    full = (1 << len(a)) - 1
    v = full
    for x in b:
        u = v & masks.get(x, 0)
        v = ((v + u) | (v - u)) & full
    return len(a) - v.bit_count()


def _dp_rows(a: Sequence, b: Sequence) -> list[int]:
    """Bit rows ``rows[j]`` (after ``b[:j]``) over positions of ``a``; see module docstring."""
    masks = _char_masks(a)
    full = (1 << len(a)) - 1
    v = full
    rows = [v]
    for x in b:
        u = v & masks.get(x, 0)
        v = ((v + u) | (v - u)) & full
        rows.append(v)
    return rows


def lcs_masks(a: Sequence, b: Sequence) -> tuple[list[bool], list[bool]]:
    """Per-item flags "part of the LCS" for ``a`` and for ``b`` (§5.3 step 5 tie-breaking)."""
    n, m = len(a), len(b)
    mask_a, mask_b = [False] * n, [False] * m
    p = 0
    while p < n and p < m and a[p] == b[p]:
        mask_a[p] = mask_b[p] = True
        p += 1
    s = 0
    while s < n - p and s < m - p and a[n - 1 - s] == b[m - 1 - s]:
        mask_a[n - 1 - s] = mask_b[m - 1 - s] = True
        s += 1
    mid_a, mid_b = a[p : n - s], b[p : m - s]
    if not mid_a or not mid_b:
        return mask_a, mask_b
    rows = _dp_rows(mid_a, mid_b)

    def dp(i: int, j: int) -> int:
        return i - (rows[j] & ((1 << i) - 1)).bit_count()

    # side A: on a mismatch go up (i-1) when dp[i-1][j] >= dp[i][j-1]
    i, j = len(mid_a), len(mid_b)
    while i > 0 and j > 0:
        if mid_a[i - 1] == mid_b[j - 1]:
            mask_a[p + i - 1] = True
            i, j = i - 1, j - 1
        elif dp(i - 1, j) >= dp(i, j - 1):
            i -= 1
        else:
            j -= 1
    # side B: on a mismatch go left (j-1) when dp[i][j-1] >= dp[i-1][j]
    i, j = len(mid_a), len(mid_b)
    while i > 0 and j > 0:
        if mid_a[i - 1] == mid_b[j - 1]:
            mask_b[p + j - 1] = True
            i, j = i - 1, j - 1
        elif dp(i, j - 1) >= dp(i - 1, j):
            j -= 1
        else:
            i -= 1
    return mask_a, mask_b
