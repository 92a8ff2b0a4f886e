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


import math  # noqa: E402

import pytest  # noqa: E402

from qproto.security import finite_key_length  # noqa: E402

MU = (0.52, 0.13, 0.002)
P = (0.62, 0.27, 0.11)
EPS_SEC, EPS_COR = 1e-9, 1e-15


def _h2(x):
    return 0.0 if x <= 0 or x >= 1 else -x * math.log2(x) - (1 - x) * math.log2(1 - x)


def _reference(nz, nx, mx, qz, tails, f_ec=1.16):
    """Lim et al. 2014 (PRA 89 022307) eqs. (2)-(5) and docs/conventions.md A2, written out
    scalar by scalar, with Hoeffding or Chernoff tails; every field of FiniteKeyResult."""
    ln = math.log(21 / EPS_SEC)
    tau0 = sum(p * math.exp(-m) for m, p in zip(MU, P))
    tau1 = sum(p * math.exp(-m) * m for m, p in zip(MU, P))

    def bounds(c):
        dev = math.sqrt(sum(c) / 2 * ln)
        lo, hi = [], []
        for k in range(3):
            s = math.exp(MU[k]) / P[k]
            if tails == "hoeffding":
                lo.append(s * (c[k] - dev))
                hi.append(s * (c[k] + dev))
            else:
                lo.append(s * (c[k] - ln / 2 - math.sqrt(2 * c[k] * ln + ln * ln / 4)))
                hi.append(s * (c[k] + ln + math.sqrt(2 * c[k] * ln + ln * ln)))
        return lo, hi, dev

    def s0s1(lo, hi):
        s0 = max(tau0 * (MU[1] * lo[2] - MU[2] * hi[1]) / (MU[1] - MU[2]), 0.0)
        s1 = (tau1 * MU[0] * (lo[1] - hi[2] - (MU[1] ** 2 - MU[2] ** 2) / MU[0] ** 2 * (hi[0] - s0 / tau0))
              / (MU[0] * (MU[1] - MU[2]) - MU[1] ** 2 + MU[2] ** 2))
        return s0, max(s1, 0.0)

    nzm, nzp, dz = bounds(nz)
    nxm, nxp, dx = bounds(nx)
    mxm, mxp, dm = bounds(mx)
    sz0, sz1 = s0s1(nzm, nzp)
    sx0, sx1 = s0s1(nxm, nxp)
    v = min(max(tau1 * (mxp[1] - mxm[2]) / (MU[1] - MU[2]), 0.0), sum(mx))
    if sz1 > 0 and sx1 > 0:
        ratio = min(v / sx1, 0.5)
        b, c, d = ratio, sz1, sx1
        gam = 0.0 if b <= 0 else math.sqrt((c + d) * (1 - b) * b / (c * d * math.log(2))
                                           * math.log2(max((c + d) / (c * d * (1 - b) * b) * 21**2 / EPS_SEC**2, 1)))
        phi = min(ratio + gam, 0.5)
    else:
        ratio, gam, phi = 0.5, 0.0, 0.5
    lam = f_ec * sum(nz) * _h2(qz)
    ell = sz0 + sz1 * (1 - _h2(phi)) - lam - 6 * math.log2(21 / EPS_SEC) - math.log2(2 / EPS_COR)
    return dict(ell=max(ell, 0.0), ell_unclipped=ell, n_z=sum(nz), n_x=sum(nx), m_x=sum(mx), qber_z=qz,
                tau0=tau0, tau1=tau1, delta_z=dz, delta_x=dx, delta_m=dm, n_z_minus=nzm, n_z_plus=nzp,
                n_x_minus=nxm, n_x_plus=nxp, m_x_minus=mxm, m_x_plus=mxp, s_z0=sz0, s_z1=sz1, s_x0=sx0,
                s_x1=sx1, v_x1=v, phase_error_ratio=ratio, gamma=gam, phi_z=phi, lambda_ec=lam)


# Counts with every class different (Z and X bases, errors not proportional to detections):
# a healthy block; a block whose X single-photon bound is negative (clipped to 0: no phase-error
# estimate), also with v_X1 = 0; one whose Z bound is; and one whose X errors sit on the weakest intensity (v_X1 < 0
# before clipping) -- and one with a phase-error ratio above 1/2 (capped).
CASES = {
    "healthy": ((4.1e6, 9.0e5, 2.2e4), (3.3e5, 8.1e4, 3.9e3), (6.0e3, 2.3e3, 1.9e3), 0.021),
    "x_single_photon_zero": ((4.1e6, 9.0e5, 2.2e4), (300.0, 10.0, 40.0), (6.0, 2.0, 3.0), 0.021),
    "z_single_photon_zero": ((300.0, 10.0, 40.0), (3.3e5, 8.1e4, 3.9e3), (6.0e3, 2.3e3, 1.9e3), 0.021),
    "x_single_photon_zero_and_v_zero": ((4.1e6, 9.0e5, 2.2e4), (300.0, 10.0, 40.0), (0.0, 0.0, 40.0), 0.021),
    "errors_on_weakest": ((4.1e6, 9.0e5, 2.2e4), (3.3e5, 8.1e4, 3.9e3), (6.0e3, 20.0, 3.0e3), 0.021),
    "ratio_above_half": ((4.1e6, 9.0e5, 2.2e4), (6.0e5, 8.1e4, 3.9e3), (1.6e5, 7.9e4, 1.0e2), 0.021),
}


@pytest.mark.parametrize("tails", ["hoeffding", "chernoff"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_every_field_of_the_finite_key_equals_the_written_out_lim2014_analysis(case, tails):
    """Invariant A2 [FORMULA]: every field of FiniteKeyResult (deviations, the six tail-bound
    triples, s_0 and s_1 in both bases, v_X1, the phase-error ratio, gamma, phi, lambda, ell)
    equals Lim et al.'s analysis written out here, for asymmetric counts, both tail bounds, and
    the edge blocks (a single-photon bound clipped at 0 in either basis, v_X1 clipped at 0, a
    ratio capped at 1/2).

    catches: a field reported from another quantity or missing (delta_X, delta_M, n_X^-,
    n_X^+, m_X^-, s_X0, the ratio), clipping at 1 instead of 0, a usable-block test with `or`
    or `>=`, the ratio's cap moved, v_X1 unclipped below."""
    nz, nx, mx, qz = CASES[case]
    want = _reference(nz, nx, mx, qz, tails)
    got = finite_key_length(intensities=MU, probabilities=P, n_z=nz, n_x=nx, m_x=mx, qber_z=qz,
                            eps_sec=EPS_SEC, eps_cor=EPS_COR, tails=tails)
    for field, value in want.items():
        np.testing.assert_allclose(np.asarray(getattr(got, field), float), value, rtol=1e-9, atol=1e-9,
                                   err_msg=f"{case}/{tails}: {field}")
    if case == "x_single_photon_zero":
        assert want["s_x1"] == 0.0 and want["s_z1"] > 0
    if case == "x_single_photon_zero_and_v_zero":  # 0/0 must not reach the ratio (Hoeffding's v is 0)
        assert want["s_x1"] == 0.0 and (want["v_x1"] == 0.0) == (tails == "hoeffding")
    if case == "z_single_photon_zero":
        assert want["s_z1"] == 0.0 and want["s_x1"] > 0
    if case == "errors_on_weakest":
        assert want["v_x1"] == 0.0
    if case == "ratio_above_half":
        assert want["phase_error_ratio"] == 0.5 and want["s_x1"] > 0 and want["s_z1"] > 0


def test_without_fluctuations_gamma_has_the_batch_shape():
    """With fluctuations off, gamma is 0 with the batch's shape (like every other batched field).
    catches: a scalar 0 for a batch."""
    nz = np.array([[4.1e6, 4.0e6], [9.0e5, 8.8e5], [2.2e4, 2.1e4]])
    nx = np.array([[3.3e5, 3.2e5], [8.1e4, 8.0e4], [3.9e3, 3.8e3]])
    mx = np.array([[6.0e3, 5.0e3], [2.3e3, 2.2e3], [1.9e3, 1.8e3]])
    got = finite_key_length(intensities=MU, probabilities=P, n_z=nz, n_x=nx, m_x=mx, qber_z=[0.02, 0.03],
                            eps_sec=EPS_SEC, eps_cor=EPS_COR, fluctuations=False)
    assert np.shape(got.gamma) == (2,) and np.all(np.asarray(got.gamma) == 0.0)
    assert np.shape(got.phi_z) == (2,)


def test_gamma_below_one_count_and_no_warnings_outside_its_domain():
    """gamma(a, b, c, d) = sqrt((c + d)(1 - b) b / (c d ln 2) log2((c + d) 21^2 / (c d (1 - b) b a^2)))
    (Lim et al. 2014, eq. 5) holds for any positive c and d, fractions of a count included; outside
    its domain (b <= 0 or b >= 1, c or d <= 0) it is 0 without any numpy warning.

    catches: the domain test moved to c > 1 or d > 1, a filler value outside the domain that makes
    numpy warn (an invalid square root)."""
    import warnings

    from qproto.security._lim2014 import gamma

    a = 1e-9
    b, c, d = np.array([0.2, 0.05]), np.array([0.5, 3.0]), np.array([0.7, 0.4])
    want = np.sqrt((c + d) * (1 - b) * b / (c * d * math.log(2))
                   * np.log2((c + d) * 21**2 / (c * d * (1 - b) * b * a**2)))
    np.testing.assert_allclose(gamma(a, b, c, d), want, rtol=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = gamma(a, np.array([0.0, 1.0, 1.5, 0.2, 0.2]), np.array([5.0, 5.0, 5.0, 0.0, 5.0]),
                    np.array([5.0, 5.0, 5.0, 5.0, -1.0]))
    np.testing.assert_array_equal(out, 0.0)
