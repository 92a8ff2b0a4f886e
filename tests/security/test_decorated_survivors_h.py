"""Tests for mutation survivors of decorated functions (properties) in the security modules (issue 9).

Expected values are hand-written ratios of hand-made tallies, never computed by the code under test.
"""

from __future__ import annotations

import numpy as np
import pytest

from qproto.security._finite_key import DecoyCounts


def _batched_counts() -> DecoyCounts:
    # Shape (3 intensities, 2 batch entries); the two batch entries have different totals and
    # different error counts, so summing over all axes (instead of the intensity axis) is visible.
    n_z = np.array([[100, 10], [50, 20], [10, 30]])  # totals 160, 60
    m_z = np.array([[4, 1], [2, 2], [2, 3]])  # totals 8, 6
    n_x = np.array([[40, 5], [30, 5], [30, 10]])  # totals 100, 20
    m_x = np.array([[3, 1], [4, 1], [5, 2]])  # totals 12, 4
    return DecoyCounts(n_z=n_z, n_x=n_x, m_z=m_z, m_x=m_x)


def test_qber_x_batched_sums_over_intensity_axis_only():
    q = np.asarray(_batched_counts().qber_x)
    assert q.shape == (2,)
    np.testing.assert_allclose(q, [12 / 100, 4 / 20], rtol=0, atol=1e-15)


def test_qber_z_batched_sums_over_intensity_axis_only():
    q = np.asarray(_batched_counts().qber_z)
    assert q.shape == (2,)
    np.testing.assert_allclose(q, [8 / 160, 6 / 60], rtol=0, atol=1e-15)


def test_qber_batched_zero_detections_gives_zero():
    c = DecoyCounts(n_z=np.array([[0, 4], [0, 4], [0, 2]]), n_x=np.array([[5, 0], [0, 0], [5, 0]]),
                    m_z=np.array([[0, 1], [0, 1], [0, 1]]), m_x=np.array([[1, 0], [0, 0], [2, 0]]))
    np.testing.assert_allclose(np.asarray(c.qber_z), [0.0, 3 / 10], rtol=0, atol=1e-15)
    np.testing.assert_allclose(np.asarray(c.qber_x), [3 / 10, 0.0], rtol=0, atol=1e-15)


def test_qber_single_detection_counts():
    # One detection in total (an error) in the first batch entry: QBER 1, not the "no detection" 0.
    c = DecoyCounts(n_z=np.array([[1, 2], [0, 0], [0, 0]]), n_x=np.array([[0, 0], [1, 0], [0, 3]]),
                    m_z=np.array([[1, 1], [0, 0], [0, 0]]), m_x=np.array([[0, 0], [1, 0], [0, 1]]))
    np.testing.assert_allclose(np.asarray(c.qber_z), [1.0, 1 / 2], rtol=0, atol=1e-15)
    np.testing.assert_allclose(np.asarray(c.qber_x), [1.0, 1 / 3], rtol=0, atol=1e-15)


def test_qber_unbatched_single_detection_and_none():
    c = DecoyCounts(n_z=np.array([0, 1, 0]), n_x=np.array([0, 0, 1]), m_z=np.array([0, 1, 0]),
                    m_x=np.array([0, 0, 1]))
    assert c.qber_z == 1.0 and c.qber_x == 1.0
    c0 = DecoyCounts(n_z=np.zeros(3), n_x=np.zeros(3), m_z=np.zeros(3), m_x=np.zeros(3))
    assert c0.qber_z == 0.0 and c0.qber_x == 0.0


def test_has_key_for_a_fractional_key_length():
    # Documented: has_key is key_length > 0; a key of half a bit is still a (tiny) key.
    from qproto.security._optimise import DecoyParameters, OptimisedDecoy

    params = DecoyParameters(intensities=(0.5, 0.1, 0.0), probabilities=(0.7, 0.2, 0.1), p_z=0.8)
    for ell, expected in ((0.5, True), (1e-9, True), (0.0, False), (2.0, True)):
        o = OptimisedDecoy(parameters=params, key_length=ell, finite_key=None, n_starts=1, n_evaluations=1,
                           start_values=(ell,))
        assert o.has_key is expected, ell
