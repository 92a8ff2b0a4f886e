"""Cascade: corrects, counts every disclosed parity, and never beats the Shannon limit."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qproto import InvalidParameter
from qproto.distill import cascade, cascade_block_sizes


def h(q):
    return 0.0 if q in (0.0, 1.0) else -q * math.log2(q) - (1 - q) * math.log2(1 - q)


def test_leakage_of_one_error_is_block_parities_plus_one_search():
    n, k = 64, 8
    a = np.zeros(n, np.uint8)
    b = a.copy()
    b[37] = 1
    r = cascade(a, b, qber=0.01, seed=0, block_sizes=(k,))
    assert np.array_equal(r.corrected, a) and r.flipped == 1
    assert r.leaked_bits == n // k + 3           # 8 block parities + log2(8) search steps
    r2 = cascade(a, b, qber=0.01, seed=0, block_sizes=(k, 16))
    assert r2.leaked_bits == n // k + 3 + n // 16  # pass 2: its block parities, nothing odd
    r3 = cascade(a, a.copy(), qber=0.01, seed=0, block_sizes=(k, 16, 32))
    assert r3.leaked_bits == 8 + 4 + 2 and r3.flipped == 0
    r4 = cascade(a, b, qber=0.01, seed=0, block_sizes=(6,))  # uneven last block, ceil(log2) steps
    assert r4.leaked_bits <= math.ceil(n / 6) + 3 and np.array_equal(r4.corrected, a)


def test_block_sizes_of_the_modified_cascade():
    # alpha = log2(1/Q) - 1/2; k1 = 2^ceil(alpha), k2 = 2^ceil((alpha + 12)/2), then n/2
    assert cascade_block_sizes(10**6, 0.02) == (64, 512) + (500_000,) * 14
    assert cascade_block_sizes(10**6, 0.08) == (16, 256) + (500_000,) * 14
    assert cascade_block_sizes(100, 0.001, passes=3) == (50, 50, 50)


@settings(max_examples=12)
@given(st.integers(2_000, 30_000), st.floats(0.005, 0.1), st.integers(0, 2**31))
def test_corrects_and_leaks_at_least_the_shannon_limit(n, q, seed):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 2, n, dtype=np.uint8)
    e = (rng.random(n) < q).astype(np.uint8)
    r = cascade(a, a ^ e, qber=max(e.mean(), 1e-3), seed=seed % 1000)
    residual = int(np.count_nonzero(r.corrected != a))
    assert residual <= 2  # Cascade leaves at most a rare even pattern behind
    assert r.leaked_bits >= n * h(e.mean())
    assert r.flipped == int(e.sum()) - residual or residual > 0


def test_efficiency_near_the_paper_at_2_and_5_percent():
    rng = np.random.default_rng(7)
    n = 100_000
    for q in (0.02, 0.05):
        a = rng.integers(0, 2, n, dtype=np.uint8)
        e = (rng.random(n) < q).astype(np.uint8)
        r = cascade(a, a ^ e, qber=q, seed=1)
        assert np.array_equal(r.corrected, a)
        f = r.leaked_bits / (n * h(e.mean()))
        assert 1.0 < f < 1.10


def test_validation():
    a = np.zeros(10, np.uint8)
    with pytest.raises(InvalidParameter, match="bob"):
        cascade(a, np.zeros(9, np.uint8), qber=0.01, seed=0)
    with pytest.raises(InvalidParameter, match="qber"):
        cascade(a, a, qber=0.7, seed=0)
    with pytest.raises(InvalidParameter, match="block_sizes"):
        cascade(a, a, qber=0.1, seed=0, block_sizes=(0,))
    with pytest.raises(InvalidParameter, match="seed"):
        cascade(a, a, qber=0.1, seed=-1)
