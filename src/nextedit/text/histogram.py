"""Histogram diff over sequences of hashable items (lines, tokens, characters).

The algorithm (as in git's ``xhistogram.c`` and imara-diff's ``Histogram``): strip the common prefix
and suffix once, then in each region pick as anchor the common run whose rarest item occurs least often
in the old side of the region (ties → the longer run, then the first found scanning the new side), and
recurse on both sides of it. Items that occur more than
``MAX_CHAIN_LEN`` times in the region are never anchors; a region that has common items but no usable
anchor falls back to Myers' O(ND) diff; a region with no common item at all is one replacement.

Output: the changed regions ``(old_start, old_end, new_start, new_end)`` (half-open indices), sorted,
non-overlapping and never touching each other (adjacent changes are merged).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

MAX_CHAIN_LEN = 63

Region = tuple[int, int, int, int]


def _intern(a: Sequence[Hashable], b: Sequence[Hashable]) -> tuple[list[int], list[int]]:
    ids: dict[Hashable, int] = {}
    ia = [ids.setdefault(x, len(ids)) for x in a]
    ib = [ids.setdefault(x, len(ids)) for x in b]
    return ia, ib


def _find_anchor(a: list[int], a_lo: int, a_hi: int, b: list[int], b_lo: int, b_hi: int):
    """Return ``(anchor, has_common)``; anchor = (a_start, a_end, b_start, b_end) or None."""
    occ: dict[int, list[int]] = {}
    for i in range(a_lo, a_hi):
        lst = occ.get(a[i])
        if lst is None:
            occ[a[i]] = [i]
        else:
            lst.append(i)
    best: Region | None = None
    best_cnt = MAX_CHAIN_LEN + 1
    has_common = False
    bi = b_lo
    while bi < b_hi:
        b_next = bi + 1
        lst = occ.get(b[bi])
        if lst is None:
            bi = b_next
            continue
        has_common = True
        cnt = len(lst)
        if cnt > best_cnt:
            bi = b_next
            continue
        k, n_occ = 0, len(lst)
        while k < n_occ:
            ai = lst[k]
            a_s, b_s, rc = ai, bi, cnt
            while a_s > a_lo and b_s > b_lo and a[a_s - 1] == b[b_s - 1]:
                a_s -= 1
                b_s -= 1
                if rc > 1:
                    rc = min(rc, len(occ[a[a_s]]))
            a_e, b_e = ai + 1, bi + 1
            while a_e < a_hi and b_e < b_hi and a[a_e] == b[b_e]:
                if rc > 1:
                    rc = min(rc, len(occ[a[a_e]]))
                a_e += 1
                b_e += 1
            if b_next < b_e:
                b_next = b_e
            if best is None or best[1] - best[0] < a_e - a_s or rc < best_cnt:
                best, best_cnt = (a_s, a_e, b_s, b_e), rc
            k += 1
            while k < n_occ and lst[k] < a_e:  # occurrences inside this run give the same run
                k += 1
        bi = b_next
    return best, has_common


def _myers_equal_pairs(a: list[int], b: list[int]) -> list[tuple[int, int]]:
    """Myers' greedy O(ND) diff; returns the matched index pairs ``(i, j)`` of a shortest edit script."""
    n, m = len(a), len(b)
    off = n + m + 1
    v = [0] * (2 * off + 1)
    trace: list[list[int]] = []
    for d in range(n + m + 1):
        trace.append(v[off - d - 1 : off + d + 2])  # v[k] for k in -d-1..d+1 before step d
        done = False
        for k in range(-d, d + 1, 2):
            if k == -d or (k != d and v[off + k - 1] < v[off + k + 1]):
                x = v[off + k + 1]
            else:
                x = v[off + k - 1] + 1
            y = x - k
            while x < n and y < m and a[x] == b[y]:
                x += 1
                y += 1
            v[off + k] = x
            if x >= n and y >= m:
                done = True
                break
        if done:
            break
    # Backtrack from the end; trace[d][k + d + 1] = v[k] before step d.
    equal: list[tuple[int, int]] = []
    x, y = n, m
    for d in range(len(trace) - 1, -1, -1):
        vd = trace[d]
        k = x - y
        if d == 0:
            mid_x, prev_x, prev_y = 0, 0, 0
        else:
            down = k == -d or (k != d and vd[k - 1 + d + 1] < vd[k + 1 + d + 1])
            prev_k = k + 1 if down else k - 1
            prev_x = vd[prev_k + d + 1]
            prev_y = prev_x - prev_k
            mid_x = prev_x if down else prev_x + 1
        while x > mid_x:
            x -= 1
            y -= 1
            equal.append((x, y))
        x, y = prev_x, prev_y
    equal.reverse()
    return equal


def _myers(a: list[int], a_lo: int, a_hi: int, b: list[int], b_lo: int, b_hi: int) -> list[Region]:
    """Myers diff of one region → changed regions (absolute indices).

    Items that occur on one side only can never match, so they are removed before the O(ND) search
    (this keeps D small for repetitive inputs) and the matches are mapped back; the result stays minimal.
    """
    in_b = set(b[b_lo:b_hi])
    in_a = set(a[a_lo:a_hi])
    ka = [i for i in range(a_lo, a_hi) if a[i] in in_b]
    kb = [j for j in range(b_lo, b_hi) if b[j] in in_a]
    pairs = _myers_equal_pairs([a[i] for i in ka], [b[j] for j in kb])
    regions: list[Region] = []
    pa, pb = a_lo, b_lo
    for fi, fj in pairs:
        ea, eb = ka[fi], kb[fj]
        if ea != pa or eb != pb:
            regions.append((pa, ea, pb, eb))
        pa, pb = ea + 1, eb + 1
    if pa != a_hi or pb != b_hi:
        regions.append((pa, a_hi, pb, b_hi))
    return regions


def diff_sequences(a: Sequence[Hashable], b: Sequence[Hashable]) -> list[Region]:
    """Histogram diff of two sequences → sorted changed regions ``(a0, a1, b0, b1)``, half-open."""
    ia, ib = _intern(a, b)
    out: list[Region] = []
    # Like git (xdl_trim_ends), the common prefix/suffix is stripped once; inside, anchors decide.
    a_lo, b_lo, a_hi, b_hi = 0, 0, len(ia), len(ib)
    while a_lo < a_hi and b_lo < b_hi and ia[a_lo] == ib[b_lo]:
        a_lo += 1
        b_lo += 1
    while a_lo < a_hi and b_lo < b_hi and ia[a_hi - 1] == ib[b_hi - 1]:
        a_hi -= 1
        b_hi -= 1
    stack: list[Region] = [(a_lo, a_hi, b_lo, b_hi)]
    while stack:
        a_lo, a_hi, b_lo, b_hi = stack.pop()
        if a_lo == a_hi and b_lo == b_hi:
            continue
        if a_lo == a_hi or b_lo == b_hi:
            out.append((a_lo, a_hi, b_lo, b_hi))
            continue
        anchor, has_common = _find_anchor(ia, a_lo, a_hi, ib, b_lo, b_hi)
        if anchor is None:
            if has_common:
                out.extend(_myers(ia, a_lo, a_hi, ib, b_lo, b_hi))
            else:
                out.append((a_lo, a_hi, b_lo, b_hi))
            continue
        a_s, a_e, b_s, b_e = anchor
        # Pushed right first so the left part is processed (and emitted) first.
        stack.append((a_e, a_hi, b_e, b_hi))
        stack.append((a_lo, a_s, b_lo, b_s))
    merged: list[Region] = []
    for r in out:
        if merged and merged[-1][1] == r[0] and merged[-1][3] == r[2]:
            p = merged[-1]
            merged[-1] = (p[0], r[1], p[2], r[3])
        else:
            merged.append(r)
    return merged
