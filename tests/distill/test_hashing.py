"""Toeplitz hashing: the FFT path equals the matrix product written here; PA output is uniform."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from qproto import InvalidParameter
from qproto.distill import seed_bits, toeplitz_hash, toeplitz_seed_length, verification_tag, verification_tag_bits


def matrix_product(x, t, m):
    """T x mod 2 with T[i, j] = t[i - j + n - 1], the matrix built explicitly (independent of the library)."""
    n = len(x)
    if m == 0:
        return np.zeros(0, dtype=np.int64)
    T = np.asarray(t, dtype=np.int64)[np.subtract.outer(np.arange(m), np.arange(n)) + n - 1]
    return (T @ np.asarray(x, dtype=np.int64)) % 2


@given(st.integers(1, 300), st.data())
def test_fft_and_packed_paths_equal_the_matrix_product(n, data):
    m = data.draw(st.integers(0, n))
    x = np.array(data.draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)), dtype=np.uint8)
    t = seed_bits(data.draw(st.integers(0, 2**32)), toeplitz_seed_length(n, m))
    assert np.array_equal(toeplitz_hash(x, t, m), matrix_product(x, t, m))


def test_large_fft_hash_is_linear_and_matches_rows():
    rng = np.random.default_rng(1)
    n, m = 300_000, 120_000  # above the packed threshold: the FFT path
    x, y = (rng.integers(0, 2, n, dtype=np.uint8) for _ in range(2))
    t = seed_bits(9, n + m - 1)
    hx, hy, hxy = toeplitz_hash(x, t, m), toeplitz_hash(y, t, m), toeplitz_hash(x ^ y, t, m)
    assert np.array_equal(hx ^ hy, hxy)
    for i in (0, 1, m // 2, m - 1):  # a few rows by hand
        row = t[i:i + n][::-1]
        assert hx[i] == int(np.dot(row.astype(np.int64), x)) % 2


def test_tag_length_and_planted_error_changes_the_tag():
    assert verification_tag_bits(1e-15) == 50 and verification_tag_bits(0.5) == 1
    assert verification_tag_bits(2.0**-20) == 20
    rng = np.random.default_rng(2)
    key = rng.integers(0, 2, 10_000, dtype=np.uint8)
    for trial in range(50):
        bad = key.copy()
        bad[rng.integers(0, key.size)] ^= 1
        t = seed_bits(trial, toeplitz_seed_length(key.size, 50))
        assert not np.array_equal(verification_tag(key, t, 50), verification_tag(bad, t, 50))
        assert np.array_equal(verification_tag(key, t, 50), verification_tag(key.copy(), t, 50))


def test_privacy_amplification_output_is_uniform_while_its_input_is_not():
    rng = np.random.default_rng(3)
    n = 200_000
    x = (rng.random(n) < 0.2).astype(np.uint8)  # h(0.2) = 0.72 bit of entropy per bit
    m = 80_000                                  # well below n h(0.2) = 144 000
    y = toeplitz_hash(x, seed_bits(4, n + m - 1), m)

    def p_values(bits):
        ones = int(bits.sum())
        p_freq = 2 * stats.binom.sf(abs(ones - bits.size / 2) + bits.size / 2 - 1, bits.size, 0.5)
        symbols = np.packbits(bits)
        p_chi = stats.chisquare(np.bincount(symbols, minlength=256)).pvalue
        return p_freq, p_chi

    # 5-sigma rule: a p-value below 5.7e-7 is a failure
    assert min(p_values(y)) > 5.7e-7
    assert max(p_values(x[:m])) < 5.7e-7  # the same test sees the raw input's bias


def test_bad_inputs_name_the_parameter():
    x = np.zeros(10, np.uint8)
    with pytest.raises(InvalidParameter, match="seed_bits"):
        toeplitz_hash(x, np.zeros(3, np.uint8), 4)
    with pytest.raises(InvalidParameter, match="m"):
        toeplitz_hash(x, np.zeros(30, np.uint8), 11)
    with pytest.raises(InvalidParameter, match="bits"):
        toeplitz_hash(np.full(10, 2), np.zeros(13, np.uint8), 4)
    with pytest.raises(InvalidParameter, match="eps_cor"):
        verification_tag_bits(0.0)
    assert math.isclose(len(seed_bits(1, 13)), 13)
