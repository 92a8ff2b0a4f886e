"""LDPC syndrome reconciliation: reproducible QC codes, rate adaptation, agreement with Cascade."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qproto import InvalidParameter
from qproto.distill import MOTHER_RATES, cascade, ldpc_reconcile, qc_ldpc_matrix, reconcile
from qproto.distill._ldpc import AUTO_F_START, auto_f_start


def h(q):
    return -q * math.log2(q) - (1 - q) * math.log2(1 - q)


@pytest.mark.parametrize("rate", [0.5, 0.8])
def test_codes_are_reproducible_with_the_stated_shape_and_no_4_cycles(rate):
    z = 64  # the real lifts are ~450; at 64 every 4-cycle can still be avoided
    H = qc_ldpc_matrix(rate, z)
    qc_ldpc_matrix.cache_clear()
    assert (H != qc_ldpc_matrix(rate, z)).nnz == 0  # rebuilt from the seed: the same code
    mb = round(40 * (1 - rate))
    assert H.shape == (mb * z, 40 * z)
    Hi = H.astype(np.int32)
    overlap = (Hi.T @ Hi).tolil()  # columns sharing two or more checks close a 4-cycle
    overlap.setdiag(0)
    assert overlap.tocsr().max() <= 1
    col = np.asarray(Hi.sum(axis=0)).ravel()
    assert set(np.unique(col)) <= {1, 2, 3, min(10, mb)}  # staircase, light and heavy columns


def test_corrects_with_leakage_of_syndrome_minus_punctured_bits():
    rng = np.random.default_rng(4)
    n, q = 48_000, 0.05
    a = rng.integers(0, 2, n, dtype=np.uint8)
    e = (rng.random(n) < q).astype(np.uint8)
    r = ldpc_reconcile(a, a ^ e, qber=q, seed=1, f_target=1.25)
    assert r.frame_errors == 0 and r.kept.all() and np.array_equal(r.corrected, a)
    m = qc_ldpc_matrix(r.mother_rate, math.ceil(16_000 / 36)).shape[0]
    assert r.leaked_bits == r.frames * (m - r.punctured + 32)  # syndrome minus padding, plus the frame hash
    assert r.leaked_bits >= n * h(e.mean())
    assert r.punctured + r.shortened == 40 * math.ceil(16_000 / 36) - 16_000


def test_cascade_and_ldpc_agree_on_what_is_correctable():
    rng = np.random.default_rng(5)
    n = 32_000
    for q in (0.03, 0.08):
        a = rng.integers(0, 2, n, dtype=np.uint8)
        b = a ^ (rng.random(n) < q).astype(np.uint8)
        c = cascade(a, b, qber=q, seed=2)
        ld = reconcile(a, b, method="ldpc", qber=q, seed=2, f_target=1.35)
        keep = ld.kept
        assert keep.mean() > 0.5
        assert np.array_equal(ld.corrected[keep], c.corrected[keep])  # the same string where LDPC decoded
        assert np.array_equal(c.corrected, a)
    # beyond what the mother codes can carry, LDPC drops frames rather than returning wrong bits
    a = rng.integers(0, 2, 16_000, dtype=np.uint8)
    b = a ^ (rng.random(a.size) < 0.2).astype(np.uint8)
    bad = ldpc_reconcile(a, b, qber=0.02, seed=3, blind_steps=2)  # a badly under-estimated QBER
    assert bad.frame_errors == bad.frames and not bad.kept.any()


def test_validation():
    a = np.zeros(100, np.uint8)
    for kw, name in [({"qber": 0.0}, "qber"), ({"f_target": 0.9}, "f_target"), ({"delta": 0.5}, "delta"),
                     ({"frame_bits": 10}, "frame_bits"), ({"bp_method": "x"}, "bp_method"),
                     ({"frame_check_bits": 300}, "frame_check_bits"), ({"blind_steps": -1}, "blind_steps"),
                     ({"blind_step": 1.5}, "blind_step"), ({"range_position": -0.1}, "range_position")]:
        args = {"qber": 0.05, "seed": 0, **kw}
        with pytest.raises(InvalidParameter) as exc:
            ldpc_reconcile(a, a, **args)
        assert exc.value.name == name
    with pytest.raises(InvalidParameter, match="rate"):
        qc_ldpc_matrix(0.42, 64)
    assert 0.5 in MOTHER_RATES


def test_blind_steps_trade_revealed_bits_for_fewer_failed_frames():
    rng = np.random.default_rng(8)
    n, q = 32_000, 0.08
    a = rng.integers(0, 2, n, dtype=np.uint8)
    b = a ^ (rng.random(n) < q).astype(np.uint8)
    plain = ldpc_reconcile(a, b, qber=q, seed=2, f_target=1.08, blind_steps=0, max_iter=30)
    blind = ldpc_reconcile(a, b, qber=q, seed=2, f_target=1.08, blind_steps=4, max_iter=30)
    assert plain.frame_errors > 0  # the tight target fails without help
    assert blind.frame_errors < plain.frame_errors
    m = qc_ldpc_matrix(blind.mother_rate, math.ceil(16_000 / 36)).shape[0]
    base = blind.frames * (m - blind.punctured + 32)
    assert plain.leaked_bits == base < blind.leaked_bits <= base + blind.frames * blind.punctured
    assert blind.rounds > blind.frames  # every revelation is one more message
    assert np.array_equal(blind.corrected[blind.kept], a[blind.kept])


def test_frame_hash_turns_a_wrong_decoding_into_a_dropped_frame():
    rng = np.random.default_rng(9)
    n = 16_000
    a = rng.integers(0, 2, n, dtype=np.uint8)
    b = a ^ (rng.random(n) < 0.2).astype(np.uint8)
    # far beyond the code: whatever BP returns, the frame must be dropped, never returned wrong
    r = ldpc_reconcile(a, b, qber=0.03, seed=4, blind_steps=0, max_iter=20)
    assert not np.any(r.kept & (r.corrected != a))
    assert r.frame_errors == r.frames


@settings(max_examples=8, deadline=None)
@given(n=st.integers(3_000, 6_000), q=st.floats(0.01, 0.1), seed=st.integers(0, 2**31),
       f_target=st.one_of(st.none(), st.floats(1.0, 1.4)))
def test_kept_bits_are_alices_and_a_fully_decoded_block_leaks_at_least_shannon(n, q, seed, f_target):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 2, n, dtype=np.uint8)
    e = (rng.random(n) < q).astype(np.uint8)
    r = ldpc_reconcile(a, a ^ e, qber=q, seed=seed % 1000, f_target=f_target)
    assert np.array_equal(r.corrected[r.kept], a[r.kept])  # a frame is returned only when it equals Alice's
    assert np.array_equal(r.corrected[~r.kept], (a ^ e)[~r.kept])  # dropped frames are left untouched
    if r.kept.all() and e.any():
        assert r.leaked_bits >= n * h(e.mean())  # syndrome + revealed + hash bits: never below Shannon
    assert r.leaked_bits >= r.frames * 32  # every frame's hash is counted


def test_same_seed_same_result_whatever_ran_before():
    # decoders are cached per code: a cached decoder must not carry a previous call's channel into the next
    rng = np.random.default_rng(12)
    n = 8_000
    a = rng.integers(0, 2, n, dtype=np.uint8)
    b = a ^ (rng.random(n) < 0.06).astype(np.uint8)
    first = ldpc_reconcile(a, b, qber=0.06, seed=3)
    ldpc_reconcile(a, a ^ (rng.random(n) < 0.2).astype(np.uint8), qber=0.03, seed=5, f_target=1.0)
    again = ldpc_reconcile(a, b, qber=0.06, seed=3)
    assert np.array_equal(first.corrected, again.corrected) and np.array_equal(first.kept, again.kept)
    assert (first.leaked_bits, first.rounds, first.frame_errors) == (again.leaked_bits, again.rounds,
                                                                    again.frame_errors)


def test_auto_start_interpolates_the_measured_table():
    qs, fs = zip(*AUTO_F_START)
    assert auto_f_start(qs[1]) == pytest.approx(fs[1])
    mid = (qs[1] + qs[2]) / 2
    assert auto_f_start(mid) == pytest.approx((fs[1] + fs[2]) / 2)
    assert auto_f_start(0.001) == fs[0] and auto_f_start(0.3) == fs[-1]
    assert all(f >= 1.0 for f in fs)  # never aims below the Shannon limit
