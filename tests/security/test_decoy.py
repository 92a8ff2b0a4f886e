"""Asymptotic decoy-state BB84 (docs/conventions.md §A1, §A2; invariants 6, 7, 13, 14)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy.optimize import brentq

from qproto._errors import InvalidParameter, InvalidType
from qproto.security._bounds import plob_bound
from qproto.security._decoy import (
    bb84_asymptotic_fraction,
    decoy_key_rate_infinite,
    decoy_key_rate_vacuum_weak,
    gllp_key_rate,
    n_photon_error,
    n_photon_yield,
    vacuum_weak_decoy_bounds,
    wcp_gain,
    wcp_qber,
)
from qproto.security._entropy import binary_entropy

# docs/conventions.md §A2 test vector: q = 1/2, mu = 0.5, nu = 0.1, Y0 = 1e-6, e_d = 0.01, f_EC = 1.16.
MU, NU, Y0, E_D = 0.5, 0.1, 1e-6, 0.01
TABLE = [
    # loss dB, Q_mu, E_mu, Y_1^L, e_1^U, R_vac+weak, R_inf-decoy, PLOB
    (10, 4.877e-2, 1.001e-2, 9.725e-2, 1.131e-2, 1.114e-2, 1.165e-2, 0.152),
    (20, 4.989e-3, 1.010e-2, 9.697e-3, 1.145e-2, 1.102e-3, 1.158e-3, 1.45e-2),
    (30, 5.009e-4, 1.098e-2, 9.703e-4, 1.193e-2, 1.081e-4, 1.137e-4, 1.443e-3),
    (40, 5.100e-5, 1.961e-2, 9.792e-5, 1.666e-2, 8.914e-6, 9.489e-6, 1.443e-4),
]
REL = 5e-4  # 4 significant figures

# Invariant 7 ranges: mu <= 1, nu < mu, Y0 in [1e-8, 1e-3], e_d <= 0.1.
mus = st.floats(min_value=0.01, max_value=1.0)
nu_fracs = st.floats(min_value=0.001, max_value=0.999)
y0s = st.floats(min_value=-8.0, max_value=-3.0).map(lambda x: 10.0**x)
eds = st.floats(min_value=0.0, max_value=0.1)
etas = st.floats(min_value=-9.0, max_value=0.0).map(lambda x: 10.0**x)


def _measured(loss_db, mu=MU, nu=NU):
    kw = dict(loss_db=loss_db, y0=Y0)
    return dict(gain_mu=wcp_gain(mu=mu, **kw), qber_mu=wcp_qber(mu=mu, e_d=E_D, **kw),
                gain_nu=wcp_gain(mu=nu, **kw), qber_nu=wcp_qber(mu=nu, e_d=E_D, **kw))


@pytest.mark.parametrize(("loss_db", "q_mu", "e_mu", "y1l", "e1u", "r_vw", "r_inf", "plob"), TABLE)
def test_physics_a2_table(loss_db, q_mu, e_mu, y1l, e1u, r_vw, r_inf, plob):
    m = _measured(loss_db)
    assert m["gain_mu"] == pytest.approx(q_mu, rel=REL)
    assert m["qber_mu"] == pytest.approx(e_mu, rel=REL)
    b = vacuum_weak_decoy_bounds(mu=MU, nu=NU, y0=Y0, **m)
    assert b.y1_lower == pytest.approx(y1l, rel=REL)
    assert b.e1_upper == pytest.approx(e1u, rel=REL)
    kw = dict(mu=MU, loss_db=loss_db, y0=Y0, e_d=E_D, q=0.5, f_ec=1.16)
    assert decoy_key_rate_vacuum_weak(nu=NU, **kw) == pytest.approx(r_vw, rel=REL)
    assert decoy_key_rate_infinite(**kw) == pytest.approx(r_inf, rel=REL)
    assert plob_bound(loss_db=loss_db) == pytest.approx(plob, rel=REL)
    # gllp_key_rate fed with the bounds reproduces the vac+weak rate.
    q1 = b.y1_lower * MU * math.exp(-MU)
    r = gllp_key_rate(q1=q1, e1=b.e1_upper, gain_mu=m["gain_mu"], qber_mu=m["qber_mu"])
    assert r == pytest.approx(r_vw, rel=REL)


def test_table_vectorised_over_loss():
    loss = np.array([row[0] for row in TABLE], dtype=float)
    r = decoy_key_rate_vacuum_weak(mu=MU, nu=NU, loss_db=loss, y0=Y0, e_d=E_D)
    assert r.shape == (4,)
    np.testing.assert_allclose(r, [row[5] for row in TABLE], rtol=REL)
    eta = 10 ** (-loss / 10)
    np.testing.assert_allclose(decoy_key_rate_infinite(mu=MU, eta=eta, y0=Y0, e_d=E_D),
                               [row[6] for row in TABLE], rtol=REL)
    grid = decoy_key_rate_infinite(mu=np.array([[0.3], [0.5]]), eta=eta, y0=Y0, e_d=E_D)
    assert grid.shape == (2, 4)


def test_wcp_is_poisson_mixture_of_n_photon_model():
    eta, y0, ed, mu = 0.05, 1e-4, 0.02, 0.6
    n = np.arange(80)
    pn = np.exp(-mu) * mu**n / np.array([math.factorial(int(k)) for k in n], dtype=float)
    y_n = n_photon_yield(n, eta=eta, y0=y0)
    e_n = n_photon_error(n, eta=eta, y0=y0, e_d=ed)
    q = wcp_gain(mu=mu, eta=eta, y0=y0)
    assert np.sum(pn * y_n) == pytest.approx(q, rel=1e-12)
    assert np.sum(pn * y_n * e_n) / q == pytest.approx(wcp_qber(mu=mu, eta=eta, y0=y0, e_d=ed),
                                                       rel=1e-12)
    assert y_n[0] == y0 and e_n[0] == 0.5
    assert y_n[1] == pytest.approx(y0 + eta)


def test_precision_at_tiny_transmittance():
    # -expm1 keeps Q_mu - Y0 = eta mu to full precision at 90 dB.
    eta = 1e-9
    assert wcp_gain(mu=0.5, eta=eta, y0=0.0) == pytest.approx(0.5e-9, rel=1e-9)
    assert n_photon_yield(1, eta=eta, y0=0.0) == pytest.approx(eta, rel=1e-9)


def test_no_transmission_no_key():
    assert decoy_key_rate_vacuum_weak(mu=0.5, nu=0.1, eta=0.0, y0=1e-6, e_d=0.01) == 0.0
    assert decoy_key_rate_infinite(mu=0.5, eta=0.0, y0=0.0, e_d=0.01) == 0.0
    assert wcp_qber(mu=0.5, eta=0.0, y0=0.0, e_d=0.01) == 0.5  # no clicks: e0 by convention
    assert decoy_key_rate_infinite(mu=0.5, eta=0.1, y0=1e-6, e_d=0.01, clip=False) > 0
    assert decoy_key_rate_vacuum_weak(mu=0.5, nu=0.1, loss_db=80.0, y0=1e-3, e_d=0.05,
                                      clip=False) < 0


# --- invariants 6 and 7 ----------------------------------------------------------------

@settings(deadline=None, max_examples=150)
@given(mu=mus, nu_frac=nu_fracs, y0=y0s, e_d=eds, eta1=etas, eta2=etas)
def test_rates_nonnegative_below_plob_and_monotone_in_eta(mu, nu_frac, y0, e_d, eta1, eta2):
    lo, hi = sorted((eta1, eta2))
    kw = dict(mu=mu, y0=y0, e_d=e_d)
    for rate in (lambda e: decoy_key_rate_vacuum_weak(nu=nu_frac * mu, eta=e, **kw),
                 lambda e: decoy_key_rate_infinite(eta=e, **kw)):
        r_lo, r_hi = rate(lo), rate(hi)
        assert r_lo >= 0.0 and r_hi >= 0.0
        assert r_lo <= plob_bound(lo) and r_hi <= plob_bound(hi)
        assert r_lo <= r_hi * (1 + 1e-12)


@settings(deadline=None, max_examples=30)
@given(mu=mus, nu_frac=nu_fracs, y0=y0s, e_d=eds)
def test_rates_monotone_on_a_loss_grid(mu, nu_frac, y0, e_d):
    eta = np.logspace(-9, 0, 400)
    for r in (decoy_key_rate_vacuum_weak(mu=mu, nu=nu_frac * mu, eta=eta, y0=y0, e_d=e_d),
              decoy_key_rate_infinite(mu=mu, eta=eta, y0=y0, e_d=e_d)):
        assert np.all(np.diff(r) >= -1e-12 * r[1:])
        assert np.all(r <= plob_bound(eta))


# --- invariant 14 ------------------------------------------------------------------------

@settings(deadline=None, max_examples=150)
@given(mu=mus, nu_frac=nu_fracs, y0=y0s, e_d=eds, eta=etas)
def test_decoy_bounds_are_conservative(mu, nu_frac, y0, e_d, eta):
    nu = nu_frac * mu
    kw = dict(eta=eta, y0=y0)
    b = vacuum_weak_decoy_bounds(
        mu=mu, nu=nu, y0=y0,
        gain_mu=wcp_gain(mu=mu, **kw), qber_mu=wcp_qber(mu=mu, e_d=e_d, **kw),
        gain_nu=wcp_gain(mu=nu, **kw), qber_nu=wcp_qber(mu=nu, e_d=e_d, **kw))
    y1 = y0 + eta
    e1 = (0.5 * y0 + e_d * eta) / y1
    # Tolerances only absorb rounding in the cancellations of Y_1^L.
    assert b.y1_lower <= y1 * (1 + 1e-9)
    if b.y1_lower > 0:
        assert b.e1_upper >= e1 * (1 - 1e-9)
    rk = dict(mu=mu, eta=eta, y0=y0, e_d=e_d, clip=False)
    r_vw = decoy_key_rate_vacuum_weak(nu=nu, **rk)
    r_inf = decoy_key_rate_infinite(**rk)
    assert r_vw <= r_inf + 1e-12 * abs(r_inf) + 1e-300


# --- invariant 13 ------------------------------------------------------------------------

@pytest.mark.parametrize(("f_ec", "threshold"), [(1.0, 0.1100), (1.16, 0.0981)])
def test_single_photon_threshold(f_ec, threshold):
    root = brentq(lambda e: 1 - binary_entropy(e) - f_ec * binary_entropy(e), 0.01, 0.3,
                  xtol=1e-12)
    assert root == pytest.approx(threshold, abs=5e-5)
    assert bb84_asymptotic_fraction(root - 1e-6, root - 1e-6, f_ec=f_ec) > 0
    assert bb84_asymptotic_fraction(root + 1e-6, root + 1e-6, f_ec=f_ec) == 0.0
    assert bb84_asymptotic_fraction(threshold + 1e-4, threshold + 1e-4, f_ec=f_ec) == 0.0
    assert bb84_asymptotic_fraction(threshold - 1e-4, threshold - 1e-4, f_ec=f_ec) > 0


@settings(deadline=None, max_examples=100)
@given(e=st.floats(min_value=0.0, max_value=0.5))
def test_single_photon_rate_positive_iff_below_11_percent(e):
    # The root of 1 - 2 h(e) is 0.1100278644 (0.1100 to 4 figures); compare with the root itself, so that
    # e in [0.1100, 0.110028) (rate still positive) is not mistaken for a violation.
    assume(abs(e - 0.1100278644) > 1e-9)
    r = bb84_asymptotic_fraction(e, e, f_ec=1.0)
    assert r >= 0.0
    assert (r > 0) == (e < 0.1100278644)


def test_asymptotic_fraction_values():
    assert bb84_asymptotic_fraction(0.0, 0.0) == 1.0
    assert bb84_asymptotic_fraction(0.05, 0.02, f_ec=1.0) == pytest.approx(
        1 - binary_entropy(0.05) - binary_entropy(0.02))
    out = bb84_asymptotic_fraction(np.array([0.0, 0.05, 0.3]), 0.02)
    assert out.shape == (3,) and out[-1] == 0.0


def test_gllp_handles_missing_single_photon_bound():
    # NaN e_1 (from Y_1^L <= 0) and negative Q_1 give no single-photon key.
    assert gllp_key_rate(q1=-1e-3, e1=float("nan"), gain_mu=1e-3, qber_mu=0.02) == 0.0
    r = gllp_key_rate(q1=-1e-3, e1=float("nan"), gain_mu=1e-3, qber_mu=0.02, clip=False)
    assert r == pytest.approx(-0.5 * 1.16 * 1e-3 * binary_entropy(0.02))


# --- bad inputs --------------------------------------------------------------------------

CH = dict(mu=0.5, eta=0.01, y0=1e-6, e_d=0.01)
VW = dict(CH, nu=0.1)
MEAS = dict(mu=0.5, nu=0.1, gain_mu=5e-3, qber_mu=0.01, gain_nu=1e-3, qber_nu=0.02, y0=1e-6)

BAD = [
    (decoy_key_rate_vacuum_weak, dict(VW, nu=0.5), InvalidParameter, "nu"),
    (decoy_key_rate_vacuum_weak, dict(VW, nu=0.7), InvalidParameter, "nu"),
    (decoy_key_rate_vacuum_weak, dict(VW, nu=0.0), InvalidParameter, "nu"),
    (decoy_key_rate_vacuum_weak, dict(VW, nu=[0.1, 0.6]), InvalidParameter, "nu"),
    (decoy_key_rate_vacuum_weak, dict(VW, mu=-0.5), InvalidParameter, "mu"),
    (decoy_key_rate_vacuum_weak, dict(VW, y0=1.5), InvalidParameter, "y0"),
    (decoy_key_rate_vacuum_weak, dict(VW, e_d=0.6), InvalidParameter, "e_d"),
    (decoy_key_rate_vacuum_weak, dict(VW, q=0.0), InvalidParameter, "q"),
    (decoy_key_rate_vacuum_weak, dict(VW, q=1.2), InvalidParameter, "q"),
    (decoy_key_rate_vacuum_weak, dict(VW, f_ec=0.9), InvalidParameter, "f_ec"),
    (decoy_key_rate_vacuum_weak, dict(VW, eta=1.1), InvalidParameter, "eta"),
    (decoy_key_rate_vacuum_weak, dict(VW, loss_db=10.0), InvalidParameter, "eta"),
    (decoy_key_rate_vacuum_weak, dict(VW, clip="yes"), InvalidType, "clip"),
    (decoy_key_rate_infinite, dict(CH, eta=None), InvalidParameter, "eta"),
    (decoy_key_rate_infinite, dict(CH, eta=None, loss_db=-5.0), InvalidParameter, "loss_db"),
    (decoy_key_rate_infinite, dict(CH, mu=0.0), InvalidParameter, "mu"),
    (decoy_key_rate_infinite, dict(CH, mu="0.5"), InvalidType, "mu"),
    (decoy_key_rate_infinite, dict(CH, y0=float("nan")), InvalidParameter, "y0"),
    (decoy_key_rate_infinite, dict(CH, e_d=-0.01), InvalidParameter, "e_d"),
    (wcp_gain, dict(mu=0.5, eta=0.1, y0=-1e-6), InvalidParameter, "y0"),
    (wcp_qber, dict(mu=0.5, eta=0.1, y0=1e-6, e_d=0.01, e0=1.5), InvalidParameter, "e0"),
    (n_photon_yield, dict(n=1.5, eta=0.1, y0=0.0), InvalidParameter, "n"),
    (n_photon_yield, dict(n=-1, eta=0.1, y0=0.0), InvalidParameter, "n"),
    (n_photon_error, dict(n=1, eta=0.1, y0=0.0, e_d=0.7), InvalidParameter, "e_d"),
    (vacuum_weak_decoy_bounds, dict(MEAS, nu=0.5), InvalidParameter, "nu"),
    (vacuum_weak_decoy_bounds, dict(MEAS, gain_mu=1.5), InvalidParameter, "gain_mu"),
    (vacuum_weak_decoy_bounds, dict(MEAS, qber_nu=-0.1), InvalidParameter, "qber_nu"),
    (vacuum_weak_decoy_bounds, dict(MEAS, qber_mu=2.0), InvalidParameter, "qber_mu"),
    (gllp_key_rate, dict(q1=1e-3, e1=0.01, gain_mu=1e-2, qber_mu=0.01, q=-1.0),
     InvalidParameter, "q"),
    (gllp_key_rate, dict(q1=1e-3, e1=float("inf"), gain_mu=1e-2, qber_mu=0.01),
     InvalidParameter, "e1"),
    (bb84_asymptotic_fraction, dict(e_x=1.1, e_z=0.0), InvalidParameter, "e_x"),
    (bb84_asymptotic_fraction, dict(e_x=0.1, e_z=-0.1), InvalidParameter, "e_z"),
    (bb84_asymptotic_fraction, dict(e_x=0.1, e_z=0.1, f_ec=0.5), InvalidParameter, "f_ec"),
]


@pytest.mark.parametrize(("func", "kwargs", "exc", "name"), BAD)
def test_rejects_bad_inputs(func, kwargs, exc, name):
    with pytest.raises(exc) as info:
        func(**kwargs)
    assert info.value.name == name
    assert name in str(info.value)


def test_invalid_parameter_is_value_error():
    with pytest.raises(ValueError):
        decoy_key_rate_infinite(mu=0.5, eta=2.0, y0=0.0, e_d=0.0)
