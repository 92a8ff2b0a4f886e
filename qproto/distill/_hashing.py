"""Toeplitz hashing by FFT: privacy amplification and the verification tag.

A binary Toeplitz matrix T of shape (m, n) is fixed by its first column and first
row, i.e. by ``n + m - 1`` seed bits t_0 .. t_{n+m-2} with T[i, j] = t[i - j + n - 1].
Then (T x)_i = sum_j t[i - j + n - 1] x_j (mod 2) is entry ``i + n - 1`` of the linear
convolution t * x, and a cyclic convolution of length L >= n + m - 1 gives the same
entries (the wrapped-around terms land on indices < n - 1, which are not used). It is
computed with real FFTs (:mod:`scipy.fft`) in O(L log L) instead of the O(n m) matrix
product. The integer convolution values are at most n, far below 2**52, and the FFT's
rounding error is checked: a value further than 0.25 from an integer raises instead of
returning a wrong bit (never observed up to n = 2**24).

The family {x -> T x} over uniformly random seeds is 2-universal: for x != x',
P[T x = T x'] = 2**-m. Hence privacy amplification by the leftover hash lemma and the
verification tag: ``m = ceil(log2(1/eps_cor))`` tag bits make an undetected
mismatch at most eps_cor likely.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.fft

from qproto._errors import QprotoError
from qproto._validation import check_in_range, check_int
from qproto.distill._bits import as_bits

__all__ = ["seed_bits", "toeplitz_hash", "toeplitz_hash_quadratic", "toeplitz_seed_length", "verification_tag_bits",
           "verification_tag", "FFTPrecisionError"]


class FFTPrecisionError(QprotoError, ArithmeticError):
    """The FFT convolution was not close enough to integers to round safely."""


def seed_bits(seed: int, count: int) -> np.ndarray:
    """``count`` public random bits from integer ``seed`` (PCG64 of ``SeedSequence(seed)``)."""
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(int(seed))))
    return np.unpackbits(np.frombuffer(rng.bytes(-(-count // 8)), dtype=np.uint8), count=count)


def toeplitz_seed_length(n: int, m: int) -> int:
    """Seed bits of an (m, n) Toeplitz matrix: n + m - 1."""
    return int(n) + int(m) - 1


def toeplitz_hash(bits: np.ndarray, seed_bits: np.ndarray, m: int) -> np.ndarray:
    """The m-bit Toeplitz hash T x of ``bits`` (module docs), by FFT.

    Args:
        bits: the input x, a 1-D 0/1 array of n bits.
        seed_bits: the n + m - 1 seed bits defining T (T[i, j] = seed_bits[i - j + n - 1]).
        m: output length in bits, 0 <= m <= n.

    Returns:
        uint8 array of m bits.

    Raises:
        InvalidParameter: ``m`` outside [0, n] or ``seed_bits`` of the wrong length.
        FFTPrecisionError: the convolution could not be rounded safely.
    """
    x = as_bits("bits", bits)
    n = x.size
    m = check_int("m", m, minimum=0, maximum=n)
    t = as_bits("seed_bits", seed_bits)
    if t.size != max(n + m - 1, 0):
        from qproto._errors import InvalidParameter

        raise InvalidParameter("seed_bits", f"{t.size} bits", f"exactly n + m - 1 = {n + m - 1} bits")
    if m == 0:
        return np.zeros(0, dtype=np.uint8)
    if m <= _PACKED_MAX_ROWS:
        return _toeplitz_packed(x, t, m)
    length = scipy.fft.next_fast_len(n + m - 1, real=True)
    ft = scipy.fft.rfft(t.astype(np.float64), length)
    fx = scipy.fft.rfft(x.astype(np.float64), length)
    ft *= fx
    conv = scipy.fft.irfft(ft, length)[n - 1:n - 1 + m]
    rounded = np.rint(conv)
    if m and float(np.max(np.abs(conv - rounded))) > 0.25:
        raise FFTPrecisionError(f"FFT convolution of {n} bits is too imprecise to round "
                                f"(max deviation {float(np.max(np.abs(conv - rounded))):.3f})")
    return (rounded.astype(np.int64) & 1).astype(np.uint8)


#: Up to this many output bits (tags), rows are computed on packed bits with popcounts.
_PACKED_MAX_ROWS = 256


def _toeplitz_packed(x: np.ndarray, t: np.ndarray, m: int) -> np.ndarray:
    """Short hashes: row i is parity(popcount(window_i AND x)) on packed bits, O(m n / 8).

    With r = t reversed, row i's coefficients are r[m - 1 - i + j], j = 0..n-1: a window of r
    at bit offset s = m - 1 - i; the 8 sub-byte shifts are packed once, byte offsets are slices.
    """
    n = x.size
    r = t[::-1]
    xp = np.packbits(x)
    nbytes = xp.size
    shifted = []
    for s0 in range(8):
        part = r[s0:]
        pad = (nbytes + m // 8 + 1) * 8 - part.size
        shifted.append(np.packbits(np.concatenate([part, np.zeros(max(pad, 0), dtype=np.uint8)])))
    out = np.empty(m, dtype=np.uint8)
    for i in range(m):
        s = m - 1 - i
        window = shifted[s & 7][s >> 3:(s >> 3) + nbytes]
        out[i] = int(np.bitwise_count(window & xp).sum()) & 1
    del n
    return out


def toeplitz_hash_quadratic(bits: np.ndarray, seed_bits: np.ndarray, m: int) -> np.ndarray:
    """The same hash as :func:`toeplitz_hash` by the explicit O(n m) matrix product.

    Reference for tests and the baseline of the benchmark (it builds T row by row, as
    matrix-based libraries do); memory O(n) per row block.
    """
    x = as_bits("bits", bits)
    n = x.size
    m = check_int("m", m, minimum=0, maximum=n)
    t = as_bits("seed_bits", seed_bits)
    out = np.zeros(m, dtype=np.uint8)
    xr = x[::-1].astype(np.int64)
    rows = max(1, (1 << 22) // max(n, 1))
    for start in range(0, m, rows):
        stop = min(m, start + rows)
        # row i of T is t[i + n - 1 - j] for j = 0..n-1, i.e. t[i : i + n] reversed
        idx = np.arange(start, stop)[:, None] + np.arange(n)[None, :]
        out[start:stop] = (t[idx].astype(np.int64) @ xr) & 1
    return out


def verification_tag_bits(eps_cor: float) -> int:
    """Tag length ceil(log2(1/eps_cor)) in bits for a correctness parameter in (0, 1)."""
    e = check_in_range("eps_cor", eps_cor, 0.0, 1.0, lo_open=True, hi_open=True)
    return max(1, math.ceil(math.log2(1.0 / e) - 1e-12))


def verification_tag(bits: np.ndarray, seed_bits: np.ndarray, tag_bits: int) -> np.ndarray:
    """Toeplitz tag of ``tag_bits`` bits (tag_bits <= len(bits); shorter inputs are zero-padded).

    Alice and Bob compare their tags; keys that differ give equal tags with probability
    2**-tag_bits over the (public, fresh) seed.
    """
    x = as_bits("bits", bits)
    tag_bits = check_int("tag_bits", tag_bits, minimum=1)
    if x.size < tag_bits:
        x = np.concatenate([x, np.zeros(tag_bits - x.size, dtype=np.uint8)])
    return toeplitz_hash(x, seed_bits, tag_bits)
