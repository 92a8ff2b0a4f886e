"""Tests for the Lim et al. 2014 finite-key module's mutation survivors of the fifth run
(TESTING.md). Expected values are written here from the formulas of the paper and of Tomamichel
et al. 2017, never taken from qproto."""

import numpy as np

from qproto.security._lim2014 import finite_size_leakage


def test_finite_size_leakage_reveals_the_whole_block_from_one_bit_at_half_error():
    """At Q >= 1/2 no code helps and the whole block is revealed, from a block of one bit up
    (n = 1 and n = 1.5 give n); below one bit there is nothing to reveal (0).

    catches: the block-size condition of that branch moved (n > 1, n >= 2)."""
    n = np.array([1.0, 1.5, 0.9, 1.0, 3.0])
    q = np.array([0.5, 0.7, 0.5, 1.0, 0.5])
    np.testing.assert_array_equal(finite_size_leakage(n, q, 1e-15), [1.0, 1.5, 0.0, 1.0, 3.0])
