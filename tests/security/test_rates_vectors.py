"""Hand-computed key-rate vectors with E_X != E_Z and f_EC != 1 (docs/conventions.md A1, A2, A3).

Each expected number is computed in this file with ``math`` from the formula docs/conventions.md writes,
never by calling the code's helpers. Every vector has a phase error different from the bit
error and an error-correction inefficiency different from 1, so swapping the two errors or
moving f_EC onto the other term changes the number (the tests assert that it does). Rule:
the key comes from Z, so privacy amplification pays h(phase error, from X) and error
correction f_EC h(bit error, Z); a basis used for key pays the reverse of the other.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from qproto import Channel, QKDResult
from qproto._results import QKDCounts, sifted_key_rate
from qproto.security import (
    bb84_asymptotic_fraction,
    decoy_key_rate_infinite,
    decoy_key_rate_vacuum_weak,
    expected_decoy_counts,
    finite_key_length,
    finite_key_length_from_channel,
    gllp_key_rate,
    vacuum_weak_decoy_bounds,
)

REL = 1e-10


def h(p: float) -> float:
    """Binary entropy in bits, h(0) = h(1) = 0."""
    return 0.0 if p <= 0.0 or p >= 1.0 else -p * math.log2(p) - (1 - p) * math.log2(1 - p)


# ---- Shor-Preskill (A1, A3) ---------------------------------------------------------------------
def test_shor_preskill_fraction_phase_from_x_bit_from_z():
    """A1: 1 - h(E_X) - f_EC h(E_Z) with E_X = 0.04, E_Z = 0.015, f_EC = 1.2.

    catches: arguments swapped (1 - h(E_Z) - f h(E_X)), f_EC on the phase term, f_EC dropped.
    """
    e_x, e_z, f = 0.04, 0.015, 1.2
    want = 1 - h(e_x) - f * h(e_z)
    assert bb84_asymptotic_fraction(e_x, e_z, f_ec=f) == pytest.approx(want, rel=REL)
    for wrong in (1 - h(e_z) - f * h(e_x), 1 - f * h(e_x) - h(e_z), 1 - h(e_x) - h(e_z)):
        assert abs(wrong - want) > 1e-3
    # an error rate of 1/2 or more in either basis leaves no key (same convention as QKDResult.key_rate)
    assert bb84_asymptotic_fraction(0.0, 0.9, f_ec=1.0) == 0.0
    assert bb84_asymptotic_fraction(0.9, 0.0, f_ec=1.0) == 0.0


def test_sifted_key_rate_and_qkd_result_key_rate_by_hand():
    """A1/A3 per-basis rate of QKDResult (not my module; checked, not changed): Z bits pay h(E_X) +
    f h(E_Z), X bits h(E_Z) + f h(E_X); R = (n_Z / N) r_Z + (n_X / N) r_X. n_Z = 3000, E_Z = 0.02,
    n_X = 1000, E_X = 0.08, f_EC = 1.3, N = 10^4.

    catches: the phase error of a basis taken from itself, f_EC on the phase term, n_Z and n_X swapped.
    """
    n, nz, nx, ez, ex, f = 10_000, 3000, 1000, 0.02, 0.08, 1.3
    r_z = max(0.0, 1 - h(ex) - f * h(ez))
    r_x = max(0.0, 1 - h(ez) - f * h(ex))
    want = nz / n * r_z + nx / n * r_x
    assert r_z > 0 and r_x > 0
    counts = QKDCounts(rounds=n, detected=8000, sifted_z=nz, sifted_x=nx, errors_z=60, errors_x=80,
                       mismatched=4000, mismatched_agree=2000)
    res = QKDResult(protocol="bb84", parameters={"p_z": 0.7, "f_ec": f}, channels=(Channel(),), rounds=n,
                    seed=0, counts=counts)
    assert res.key_rate.best == pytest.approx(want, rel=REL)
    assert res.key_rate.low <= want <= res.key_rate.high
    direct = sifted_key_rate(sifted_z=nz, sifted_x=nx, rounds=n, qber_z=res.qber_z, qber_x=res.qber_x, f_ec=f)
    assert direct.best == pytest.approx(want, rel=REL)
    swapped = nz / n * max(0.0, 1 - h(ez) - f * h(ex)) + nx / n * max(0.0, 1 - h(ex) - f * h(ez))
    assert abs(swapped - want) > 0.01


# ---- GLLP and decoy bounds (A2) --------------------------------------------------------------------
def test_gllp_rate_single_photon_phase_error_and_signal_bit_error():
    """A2 GLLP: R = q {Q_1 [1 - h(e_1)] - f_EC Q_mu h(E_mu)} with e_1 = 0.03 != E_mu = 0.012, q = 0.64,
    f_EC = 1.2.

    catches: e_1 and E_mu swapped, f_EC on Q_1, q dropped.
    """
    q1, e1, qmu, emu, q, f = 3e-3, 0.03, 5e-3, 0.012, 0.64, 1.2
    want = q * (q1 * (1 - h(e1)) - f * qmu * h(emu))
    got = gllp_key_rate(q1=q1, e1=e1, gain_mu=qmu, qber_mu=emu, q=q, f_ec=f)
    assert got == pytest.approx(want, rel=REL)
    assert abs(q * (q1 * (1 - h(emu)) - f * qmu * h(e1)) - want) > 0.05 * want


def test_infinite_decoy_rate_with_different_misalignment_per_basis():
    """A2 infinite decoys: Y_1 = Y0 + eta, e_1 = (Y0/2 + e_d,X eta)/Y_1, Q_mu = Y0 + 1 - e^(-eta mu),
    E_mu = (Y0/2 + e_d,Z (1 - e^(-eta mu)))/Q_mu, R = q {Y_1 mu e^-mu [1 - h(e_1)] - f Q_mu h(E_mu)}.

    catches: the X misalignment used for E_mu (or Z for e_1), f_EC moved, Y_1 without Y0.
    """
    mu, eta, y0, e_z, e_x, q, f = 0.45, 0.01, 2e-5, 0.015, 0.04, 0.81, 1.1
    y1 = y0 + eta
    e1 = (y0 / 2 + e_x * eta) / y1
    q_mu = y0 + 1 - math.exp(-eta * mu)
    e_mu = (y0 / 2 + e_z * (1 - math.exp(-eta * mu))) / q_mu
    want = q * (y1 * mu * math.exp(-mu) * (1 - h(e1)) - f * q_mu * h(e_mu))
    got = decoy_key_rate_infinite(mu=mu, eta=eta, y0=y0, e_d=e_z, e_d_x=e_x, q=q, f_ec=f)
    assert got == pytest.approx(want, rel=REL)
    e1_sym = (y0 / 2 + e_z * eta) / y1
    same = q * (y1 * mu * math.exp(-mu) * (1 - h(e1_sym)) - f * q_mu * h(e_mu))
    assert decoy_key_rate_infinite(mu=mu, eta=eta, y0=y0, e_d=e_z, q=q, f_ec=f) == pytest.approx(same, rel=REL)
    assert abs(same - want) > 0.05 * want


def test_vacuum_weak_bounds_and_rate_by_hand():
    """A2 vacuum + weak decoy (Ma et al. 2005): Y_1^L = mu/(mu nu - nu^2) [Q_nu e^nu - Q_mu e^mu nu^2/mu^2
    - (mu^2 - nu^2)/mu^2 Y0], e_1^U = (E_nu Q_nu e^nu - Y0/2)/(Y_1^L nu); the rate with q = 0.7, f_EC = 1.05.

    catches: E_mu used in e_1^U (the bounds must not depend on E_mu), mu and nu exchanged, f_EC moved.
    """
    mu, nu, eta, y0, e_d, q, f = 0.6, 0.15, 10 ** -2.3, 3e-6, 0.02, 0.7, 1.05

    def gain(m):
        return y0 + 1 - math.exp(-eta * m)

    def qber(m):
        return (y0 / 2 + e_d * (1 - math.exp(-eta * m))) / gain(m)

    y1l = mu / (mu * nu - nu**2) * (gain(nu) * math.exp(nu) - gain(mu) * math.exp(mu) * nu**2 / mu**2
                                    - (mu**2 - nu**2) / mu**2 * y0)
    e1u = (qber(nu) * gain(nu) * math.exp(nu) - y0 / 2) / (y1l * nu)
    want = q * (y1l * mu * math.exp(-mu) * (1 - h(e1u)) - f * gain(mu) * h(qber(mu)))
    assert want > 0
    got = decoy_key_rate_vacuum_weak(mu=mu, nu=nu, eta=eta, y0=y0, e_d=e_d, q=q, f_ec=f)
    assert got == pytest.approx(want, rel=1e-9)
    # Measured data with E_mu != E_nu: only E_nu enters e_1^U.
    b = vacuum_weak_decoy_bounds(mu=mu, nu=nu, gain_mu=gain(mu), qber_mu=0.3, gain_nu=gain(nu),
                                 qber_nu=0.05, y0=y0)
    assert b.y1_lower == pytest.approx(y1l, rel=1e-9)
    assert b.e1_upper == pytest.approx((0.05 * gain(nu) * math.exp(nu) - y0 / 2) / (y1l * nu), rel=1e-9)


# ---- finite key (A2, Lim et al. 2014) ---------------------------------------------------------------
def _lim_ell(mu, p, nz, nx, mx, qber_z, eps_sec, eps_cor, f_ec):
    """Scalar transcription of docs/conventions.md A2 (Hoeffding): phase error from X counts, leakage from Z."""
    mu1, mu2, mu3 = mu
    tau = [sum(pk * math.exp(-m) * m**n / math.factorial(n) for m, pk in zip(mu, p)) for n in (0, 1)]
    ln = math.log(21 / eps_sec)

    def pm(c):
        d = math.sqrt(sum(c) / 2 * ln)
        return ([math.exp(m) / pk * (ck - d) for m, pk, ck in zip(mu, p, c)],
                [math.exp(m) / pk * (ck + d) for m, pk, ck in zip(mu, p, c)])

    def s01(c):
        lo, hi = pm(c)
        s0 = max(0.0, tau[0] * (mu2 * lo[2] - mu3 * hi[1]) / (mu2 - mu3))
        s1 = tau[1] * mu1 * (lo[1] - hi[2] - (mu2**2 - mu3**2) / mu1**2 * (hi[0] - s0 / tau[0])) / (
            mu1 * (mu2 - mu3) - mu2**2 + mu3**2)
        return s0, max(0.0, s1)

    sz0, sz1 = s01(nz)
    _, sx1 = s01(nx)
    mlo, mhi = pm(mx)
    v = min(max(tau[1] * (mhi[1] - mlo[2]) / (mu2 - mu3), 0.0), sum(mx))
    b = v / sx1
    gamma = math.sqrt((sz1 + sx1) * (1 - b) * b / (sz1 * sx1 * math.log(2))
                      * math.log2((sz1 + sx1) * 21**2 / (sz1 * sx1 * (1 - b) * b * eps_sec**2)))
    phi = min(b + gamma, 0.5)
    lam = f_ec * sum(nz) * h(qber_z)
    return {"ell": sz0 + sz1 * (1 - h(phi)) - lam - 6 * math.log2(21 / eps_sec) - math.log2(2 / eps_cor),
            "phi_z": phi, "lambda_ec": lam, "v_x1": v, "s_z1": sz1, "s_x1": sx1}


FK = dict(intensities=(0.5, 0.15, 0.0), probabilities=(0.6, 0.25, 0.15))
NZ = [4.0e7, 3.5e6, 1.5e4]
NX = [5.0e6, 4.3e5, 1.8e3]
MX = [2.0e5, 2.0e4, 900.0]  # X error ratios 4%, 4.7%, 50% (vacuum)
QZ = 0.012                 # Z QBER about 1.2%: phase and bit errors differ


def test_finite_key_length_phase_error_from_x_counts_and_leakage_from_z():
    """A2 Lim 2014 by hand with asymmetric errors (X about 4%, Z 1.2%), f_EC = 1.3.

    catches: the phase error bounded from Z counts, leakage computed from the X QBER, f_EC on the
    privacy-amplification term or dropped.
    """
    eps = dict(eps_sec=1e-9, eps_cor=1e-15)
    want = _lim_ell(FK["intensities"], FK["probabilities"], NZ, NX, MX, QZ, f_ec=1.3, **eps)
    got = finite_key_length(**FK, n_z=np.array(NZ), n_x=np.array(NX), m_x=np.array(MX), qber_z=QZ, f_ec=1.3, **eps)
    assert want["ell"] > 0
    for key, val in want.items():
        assert getattr(got, key) == pytest.approx(val, rel=1e-9), key
    assert got.lambda_ec == pytest.approx(1.3 * sum(NZ) * h(QZ), rel=1e-12)
    # The phase error is X's: changing the X errors moves phi, not lambda; changing Q_Z the reverse.
    more_x = finite_key_length(**FK, n_z=np.array(NZ), n_x=np.array(NX), m_x=np.array(MX) * 1.5, qber_z=QZ,
                               f_ec=1.3, **eps)
    assert more_x.phi_z > got.phi_z and more_x.lambda_ec == got.lambda_ec
    more_z = finite_key_length(**FK, n_z=np.array(NZ), n_x=np.array(NX), m_x=np.array(MX), qber_z=2 * QZ,
                               f_ec=1.3, **eps)
    assert more_z.phi_z == got.phi_z and more_z.lambda_ec > got.lambda_ec


def test_finite_key_physics_table_hoeffding_vector():
    """docs/conventions.md A2 [V] test vector, Hoeffding tails: N = 1e10, p_Z = 0.8, mu = (0.6, 0.15, 0),
    p = (0.7, 0.2, 0.1), Y0 = 5.89e-7, e_d = 0.01, f_EC = 1.16, eps_sec = 1e-9, eps_cor = 1e-15:
    ell = 647,208 bits at 30 dB and 0 at 35 dB.

    catches: any change of the estimator (tau, Hoeffding deviation, gamma, penalty terms).
    """
    kw = dict(n_pulses=1e10, y0=5.89e-7, e_d=0.01, intensities=(0.6, 0.15, 0.0), probabilities=(0.7, 0.2, 0.1),
              p_z=0.8, eps_sec=1e-9, eps_cor=1e-15, f_ec=1.16)
    assert round(float(finite_key_length_from_channel(loss_db=30.0, **kw).ell)) == 647_208
    assert finite_key_length_from_channel(loss_db=35.0, **kw).ell == 0.0


def test_expected_counts_and_finite_key_with_basis_dependent_misalignment():
    """A2 model with e_d,Z = 0.01 and e_d,X = 0.035: m_{Z,k} = n_{Z,k} (Y0/2 + e_Z (1 - e^(-eta mu_k)))/Q_k and
    m_{X,k} with e_X; the finite key from them equals the hand transcription.

    catches: X errors computed with the Z misalignment (or the reverse).
    """
    n, eta, y0, e_z, e_x, pz = 1e11, 1e-3, 1e-6, 0.01, 0.035, 0.75
    mu, p = FK["intensities"], FK["probabilities"]
    c = expected_decoy_counts(n_pulses=n, eta=eta, y0=y0, e_d=e_z, e_d_x=e_x, intensities=mu, probabilities=p,
                              p_z=pz)
    nz, nx, mx, mz = [], [], [], []
    for m, pk in zip(mu, p):
        q = y0 + 1 - math.exp(-eta * m)
        nz.append(n * pk * pz**2 * q)
        nx.append(n * pk * (1 - pz) ** 2 * q)
        mz.append(nz[-1] * (y0 / 2 + e_z * (1 - math.exp(-eta * m))) / q)
        mx.append(nx[-1] * (y0 / 2 + e_x * (1 - math.exp(-eta * m))) / q)
    np.testing.assert_allclose(c.n_z, nz, rtol=1e-9)  # 1 - e^0 + Y0 in two roundings
    np.testing.assert_allclose(c.m_z, mz, rtol=1e-9)
    np.testing.assert_allclose(c.m_x, mx, rtol=1e-9)
    want = _lim_ell(mu, p, nz, nx, mx, sum(mz) / sum(nz), eps_sec=1e-10, eps_cor=1e-15, f_ec=1.2)
    got = finite_key_length_from_channel(n_pulses=n, eta=eta, y0=y0, e_d=e_z, e_d_x=e_x, intensities=mu,
                                         probabilities=p, p_z=pz, eps_sec=1e-10, eps_cor=1e-15, f_ec=1.2)
    assert want["ell"] > 0
    assert got.ell == pytest.approx(want["ell"], rel=1e-9)


def test_pass_key_and_optimiser_use_the_x_misalignment_for_the_phase_error():
    """A2 over a pass with e_d,X != e_d,Z: pass_finite_key equals the hand transcription on the hand-built
    counts, and the optimiser's internal objective (its start value) is the validated pass key.

    catches: the optimiser's fast objective computing X errors with the Z misalignment (its optimum would
    then be scored with a key the validated evaluation does not give), e_d_x ignored by pass_finite_key.
    """
    from qproto.security import DecoyParameters, optimise_decoy_parameters, pass_finite_key
    n, eta, y0, e_z, e_x = np.array([4e10, 6e10]), np.array([2e-3, 8e-4]), 1e-6, 0.01, 0.04
    params = DecoyParameters(intensities=(0.5, 0.15, 0.0), probabilities=(0.6, 0.25, 0.15), p_z=0.8)
    nz, nx, mx, mz = [0.0] * 3, [0.0] * 3, [0.0] * 3, [0.0] * 3
    for k, (m, pk) in enumerate(zip(params.intensities, params.probabilities)):
        for n_t, eta_t in zip(n, eta):
            q = y0 + 1 - math.exp(-eta_t * m)
            nz[k] += n_t * pk * 0.64 * q
            nx[k] += n_t * pk * 0.04 * q
            mz[k] += n_t * pk * 0.64 * (y0 / 2 + e_z * (1 - math.exp(-eta_t * m)))
            mx[k] += n_t * pk * 0.04 * (y0 / 2 + e_x * (1 - math.exp(-eta_t * m)))
    want = _lim_ell(params.intensities, params.probabilities, nz, nx, mx, sum(mz) / sum(nz), eps_sec=1e-10,
                    eps_cor=1e-15, f_ec=1.16)
    got = pass_finite_key(params, n_pulses=n, eta=eta, y0=y0, e_d=e_z, e_d_x=e_x, eps_sec=1e-10, eps_cor=1e-15)
    assert want["ell"] > 0
    assert got.ell == pytest.approx(want["ell"], rel=1e-9)
    o = optimise_decoy_parameters(n_pulses=n, eta=eta, y0=y0, e_d=e_z, e_d_x=e_x, n_starts=1, max_evaluations=60,
                                  continuation=1.0)
    assert o.key_length > 0
    assert o.start_values[0] == pytest.approx(float(o.finite_key.ell_unclipped), rel=1e-9)
    same = optimise_decoy_parameters(n_pulses=n, eta=eta, y0=y0, e_d=e_z, n_starts=1, max_evaluations=60,
                                     continuation=1.0)
    assert same.key_length > 1.2 * o.key_length  # a larger phase error costs key
