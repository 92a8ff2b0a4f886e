"""Finite-key decoy BB84 of Lim et al. 2014 (docs/conventions.md §A2; invariant 15)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qproto._errors import InvalidParameter, InvalidType
from qproto.security._decoy import n_photon_error, n_photon_yield, wcp_gain, wcp_qber
from qproto.security._entropy import binary_entropy
from qproto.security._finite_key import (
    DecoyCounts,
    FiniteKeyResult,
    expected_decoy_counts,
    finite_key_length,
    finite_key_length_from_channel,
)

# A realistic parameter set at 30 dB (eta = 1e-3).
CHANNEL = dict(loss_db=30.0, y0=1e-6, e_d=0.01)
PROTOCOL = dict(intensities=(0.5, 0.1, 0.0), probabilities=(0.5, 0.3, 0.2), p_z=0.8)
EPS = dict(eps_sec=1e-10, eps_cor=1e-15)
KW = dict(CHANNEL, **PROTOCOL, **EPS)


def _h(x):
    return float(binary_entropy(x))


def _reference_ell(mu, p, nz, nx, mx, qber_z, eps_sec, eps_cor, f_ec=1.16):
    """Literal scalar transcription of the docs/conventions.md §A2 finite-key formulas."""
    mu1, mu2, mu3 = mu
    tau0 = sum(pk * math.exp(-m) for m, pk in zip(mu, p))
    tau1 = sum(pk * math.exp(-m) * m for m, pk in zip(mu, p))
    ln = math.log(21 / eps_sec)

    def pm(counts):
        tot = sum(counts)
        d = math.sqrt(tot / 2 * ln)
        return ([math.exp(m) / pk * (c - d) for m, pk, c in zip(mu, p, counts)],
                [math.exp(m) / pk * (c + d) for m, pk, c in zip(mu, p, counts)])

    def s01(counts):
        lo, hi = pm(counts)
        s0 = max(0.0, tau0 * (mu2 * lo[2] - mu3 * hi[1]) / (mu2 - mu3))
        s1 = (tau1 * mu1 * (lo[1] - hi[2] - (mu2**2 - mu3**2) / mu1**2 * (hi[0] - s0 / tau0))
              / (mu1 * (mu2 - mu3) - mu2**2 + mu3**2))
        return s0, max(0.0, s1)

    sz0, sz1 = s01(nz)
    _, sx1 = s01(nx)
    mlo, mhi = pm(mx)
    v = min(max(tau1 * (mhi[1] - mlo[2]) / (mu2 - mu3), 0.0), sum(mx))
    b = v / sx1
    a, c, d = eps_sec, sz1, sx1
    gamma = math.sqrt((c + d) * (1 - b) * b / (c * d * math.log(2))
                      * math.log2((c + d) * 21**2 / (c * d * (1 - b) * b * a**2)))
    phi = min(b + gamma, 0.5)
    lam = f_ec * sum(nz) * _h(qber_z)
    ell = (sz0 + sz1 * (1 - _h(phi)) - lam - 6 * math.log2(21 / eps_sec)
           - math.log2(2 / eps_cor))
    return dict(ell=ell, s_z0=sz0, s_z1=sz1, s_x1=sx1, v_x1=v, gamma=gamma, phi_z=phi,
                lambda_ec=lam, tau0=tau0, tau1=tau1)


def _ideal_rate(*, loss_db, y0, e_d, intensities, probabilities, p_z, f_ec=1.16):
    """Bits per pulse with exact vacuum and single-photon statistics (perfect decoys)."""
    mu, p = np.array(intensities), np.array(probabilities)
    y1 = n_photon_yield(1, loss_db=loss_db, y0=y0)
    e1 = n_photon_error(1, loss_db=loss_db, y0=y0, e_d=e_d)
    tau0 = np.sum(p * np.exp(-mu))
    tau1 = np.sum(p * np.exp(-mu) * mu)
    gains = np.array([wcp_gain(mu=m, loss_db=loss_db, y0=y0) for m in np.maximum(mu, 1e-300)])
    errs = np.array([wcp_qber(mu=m, loss_db=loss_db, y0=y0, e_d=e_d)
                     for m in np.maximum(mu, 1e-300)])
    qz = np.sum(p * gains * errs) / np.sum(p * gains)
    return p_z**2 * (tau0 * y0 + tau1 * y1 * (1 - _h(e1)) - f_ec * np.sum(p * gains) * _h(qz))


# --- expected counts ---------------------------------------------------------------------

def test_expected_counts_model():
    n = 1e10
    c = expected_decoy_counts(n_pulses=n, **CHANNEL, **PROTOCOL)
    assert isinstance(c, DecoyCounts)
    assert c.n_z.shape == (3,)
    for k, (mu, pk) in enumerate(zip(PROTOCOL["intensities"], PROTOCOL["probabilities"])):
        q = 1e-6 - math.expm1(-1e-3 * mu)
        e = (0.5e-6 - 0.01 * math.expm1(-1e-3 * mu)) / q
        assert c.n_z[k] == pytest.approx(n * pk * 0.8**2 * q, rel=1e-12)
        assert c.n_x[k] == pytest.approx(n * pk * 0.2**2 * q, rel=1e-12)
        assert c.m_z[k] == pytest.approx(c.n_z[k] * e, rel=1e-12)
        assert c.m_x[k] == pytest.approx(c.n_x[k] * e, rel=1e-12)
    assert c.n_z[2] == pytest.approx(n * 0.2 * 0.64 * 1e-6)  # vacuum: noise clicks only
    assert c.qber_z == pytest.approx(c.qber_x)
    asym = expected_decoy_counts(n_pulses=n, **CHANNEL, **PROTOCOL, p_z_bob=0.5)
    np.testing.assert_allclose(asym.n_z, c.n_z * 0.5 / 0.8)


def test_expected_counts_broadcast():
    c = expected_decoy_counts(n_pulses=np.array([1e9, 1e10])[:, None],
                              eta=np.array([1e-2, 1e-3, 1e-4]), y0=1e-6, e_d=0.01, **PROTOCOL)
    assert c.n_z.shape == (3, 2, 3)
    assert np.shape(c.qber_z) == (2, 3)


# --- the key-length formula -------------------------------------------------------------

@pytest.mark.parametrize("n_pulses", [3e9, 1e10, 1e12])
@pytest.mark.parametrize("mu3", [0.0, 2e-4])
def test_matches_literal_physics_formulas(n_pulses, mu3):
    proto = dict(PROTOCOL, intensities=(0.5, 0.1, mu3))
    c = expected_decoy_counts(n_pulses=n_pulses, **CHANNEL, **proto)
    r = finite_key_length(intensities=proto["intensities"],
                          probabilities=proto["probabilities"], n_z=c.n_z, n_x=c.n_x,
                          m_x=c.m_x, qber_z=c.qber_z, **EPS)
    ref = _reference_ell(proto["intensities"], proto["probabilities"], list(c.n_z),
                         list(c.n_x), list(c.m_x), c.qber_z, **EPS)
    assert ref["ell"] > 0
    for key, val in ref.items():
        assert getattr(r, key) == pytest.approx(val, rel=1e-10), key
    assert r.ell == r.ell_unclipped
    assert r.n_z == pytest.approx(sum(c.n_z))
    assert r.delta_z == pytest.approx(math.sqrt(r.n_z / 2 * math.log(21 / 1e-10)))


def test_result_is_frozen_and_scalar():
    r = finite_key_length_from_channel(n_pulses=1e11, **KW)
    assert isinstance(r, FiniteKeyResult)
    assert isinstance(r.ell, float) and isinstance(r.phi_z, float)
    assert r.n_z_minus.shape == (3,)
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.ell = 0.0  # type: ignore[misc]


def test_batched_over_pulses_and_loss():
    n = np.logspace(8, 13, 6)[:, None]
    r = finite_key_length_from_channel(n_pulses=n, loss_db=np.array([20.0, 30.0]), y0=1e-6,
                                       e_d=0.01, **PROTOCOL, **EPS)
    assert np.shape(r.ell) == (6, 2)
    single = finite_key_length_from_channel(n_pulses=1e12, loss_db=20.0, y0=1e-6, e_d=0.01,
                                            **PROTOCOL, **EPS)
    assert r.ell[4, 0] == pytest.approx(single.ell, rel=1e-12)


def test_no_detections_gives_zero_key():
    z = np.zeros(3)
    r = finite_key_length(**{k: PROTOCOL[k] for k in ("intensities", "probabilities")},
                          n_z=z, n_x=z, m_x=z, qber_z=0.0, **EPS)
    assert r.ell == 0.0 and r.ell_unclipped < 0 and r.phi_z == 0.5


def test_security_parameters_cost_key():
    base = finite_key_length_from_channel(n_pulses=1e11, **KW)
    tighter = finite_key_length_from_channel(n_pulses=1e11, **dict(KW, eps_sec=1e-15))
    cor = finite_key_length_from_channel(n_pulses=1e11, **dict(KW, eps_cor=1e-20))
    assert tighter.ell < base.ell
    assert cor.ell == pytest.approx(base.ell - math.log2(1e-15 / 1e-20), rel=1e-9)


def test_error_correction_leakage_options():
    n = np.logspace(8, 13, 11)
    eff = finite_key_length_from_channel(n_pulses=n, **KW)
    fin = finite_key_length_from_channel(n_pulses=n, ec_leakage="finite_size", **KW)
    assert np.all(fin.lambda_ec >= eff.lambda_ec)
    assert np.all(fin.ell <= eff.ell)
    # The finite-size estimate exceeds f_EC n h(Q) only for small blocks.
    assert fin.lambda_ec[0] > eff.lambda_ec[0]
    assert fin.lambda_ec[-1] == pytest.approx(eff.lambda_ec[-1])
    c = expected_decoy_counts(n_pulses=1e11, **CHANNEL, **PROTOCOL)
    args = dict(intensities=PROTOCOL["intensities"], probabilities=PROTOCOL["probabilities"],
                n_z=c.n_z, n_x=c.n_x, m_x=c.m_x, qber_z=c.qber_z, **EPS)
    r0 = finite_key_length(**args)
    r1 = finite_key_length(**args, lambda_ec=r0.lambda_ec + 1000.0)
    assert r1.lambda_ec == pytest.approx(r0.lambda_ec + 1000.0)
    assert r1.ell == pytest.approx(r0.ell - 1000.0)
    f1 = finite_key_length(**args, f_ec=1.0)
    assert f1.lambda_ec == pytest.approx(r0.lambda_ec / 1.16)


# --- invariant 15 ------------------------------------------------------------------------

N_GRID = np.logspace(6, 14, 161)


@pytest.mark.parametrize("mu3", [0.0, 2e-4])
@pytest.mark.parametrize("p_z", [0.8, 0.9])
def test_invariant_15_on_a_grid(mu3, p_z):
    kw = dict(KW, intensities=(0.5, 0.1, mu3), p_z=p_z)
    r = finite_key_length_from_channel(n_pulses=N_GRID, **kw)
    asym = finite_key_length_from_channel(n_pulses=N_GRID, fluctuations=False, **kw)
    rate, rate_asym = r.ell / N_GRID, asym.ell / N_GRID
    ideal = _ideal_rate(**{k: kw[k] for k in ("loss_db", "y0", "e_d", "intensities",
                                              "probabilities", "p_z")})
    # ell(N)/N <= asymptotic rate of the same estimator <= perfect-decoy rate
    assert np.all(rate <= rate_asym * (1 + 1e-12))
    np.testing.assert_allclose(rate_asym, rate_asym[0], rtol=1e-12)  # N-independent
    assert rate_asym[0] <= ideal * (1 + 1e-12)
    assert rate[-1] > 0.9 * rate_asym[0]  # and converges towards it
    # ell = 0 below N_min, positive above
    pos = rate > 0
    i_min = int(np.argmax(pos))
    assert 0 < i_min and np.all(pos[i_min:]) and not np.any(pos[:i_min])
    # N_min corresponds to 1e5..2e6 sifted (processed) signals (Scarani 2010; Lim et al.)
    sifted = r.n_z[i_min] + r.n_x[i_min]
    assert 1e5 <= sifted <= 2e6
    # ell(N)/N increasing in N (strictly, once positive)
    assert np.all(np.diff(rate) >= 0)
    assert np.all(np.diff(rate[i_min:]) > 0)


@settings(deadline=None, max_examples=40)
@given(log_n=st.floats(min_value=6.0, max_value=14.0), factor=st.floats(1.01, 100.0),
       loss_db=st.floats(min_value=5.0, max_value=40.0))
def test_invariant_15_property(log_n, factor, loss_db):
    kw = dict(KW, loss_db=loss_db)
    n1 = 10.0**log_n
    n = np.array([n1, n1 * factor])
    r = finite_key_length_from_channel(n_pulses=n, **kw)
    asym = finite_key_length_from_channel(n_pulses=1.0, fluctuations=False, **kw).ell
    rate = r.ell / n
    assert np.all(rate >= 0)
    assert np.all(rate <= asym * (1 + 1e-12))
    assert rate[0] <= rate[1] * (1 + 1e-12)


# --- bad inputs --------------------------------------------------------------------------

_C = np.array([1e5, 3e4, 1e2])
FK = dict(intensities=(0.5, 0.1, 0.0), probabilities=(0.5, 0.3, 0.2), n_z=_C, n_x=_C / 16,
          m_x=_C / 1600, qber_z=0.01, **EPS)

BAD = [
    (finite_key_length, dict(FK, intensities=(0.5, 0.4, 0.2)), InvalidParameter, "intensities"),
    (finite_key_length, dict(FK, intensities=(0.5, 0.1, 0.1)), InvalidParameter, "intensities"),
    (finite_key_length, dict(FK, intensities=(0.5, 0.1, 0.2)), InvalidParameter, "intensities"),
    (finite_key_length, dict(FK, intensities=(0.5, 0.1, -0.01)), InvalidParameter,
     "intensities"),
    (finite_key_length, dict(FK, intensities=(0.5, 0.1)), InvalidParameter, "intensities"),
    (finite_key_length, dict(FK, probabilities=(0.5, 0.3, 0.3)), InvalidParameter,
     "probabilities"),
    (finite_key_length, dict(FK, probabilities=(0.8, 0.2, 0.0)), InvalidParameter,
     "probabilities"),
    (finite_key_length, dict(FK, probabilities=(1.2, -0.1, -0.1)), InvalidParameter,
     "probabilities"),
    (finite_key_length, dict(FK, eps_sec=0.0), InvalidParameter, "eps_sec"),
    (finite_key_length, dict(FK, eps_sec=1.0), InvalidParameter, "eps_sec"),
    (finite_key_length, dict(FK, eps_cor=-1e-9), InvalidParameter, "eps_cor"),
    (finite_key_length, dict(FK, eps_cor=2.0), InvalidParameter, "eps_cor"),
    (finite_key_length, dict(FK, eps_sec="1e-10"), InvalidType, "eps_sec"),
    (finite_key_length, dict(FK, n_z=_C[:2]), InvalidParameter, "n_z"),
    (finite_key_length, dict(FK, n_x=-_C), InvalidParameter, "n_x"),
    (finite_key_length, dict(FK, m_x=_C), InvalidParameter, "m_x"),
    (finite_key_length, dict(FK, m_x=np.array([1.0, np.nan, 1.0])), InvalidParameter, "m_x"),
    (finite_key_length, dict(FK, qber_z=1.5), InvalidParameter, "qber_z"),
    (finite_key_length, dict(FK, n_z=np.stack([_C, _C], axis=1), qber_z=[0.01] * 3),
     InvalidParameter, "qber_z"),
    (finite_key_length, dict(FK, f_ec=0.5), InvalidParameter, "f_ec"),
    (finite_key_length, dict(FK, ec_leakage="tomamichel"), InvalidParameter, "ec_leakage"),
    (finite_key_length, dict(FK, lambda_ec=-1.0), InvalidParameter, "lambda_ec"),
    (finite_key_length, dict(FK, fluctuations=1), InvalidType, "fluctuations"),
    (expected_decoy_counts, dict(n_pulses=0.0, eta=0.1, y0=0.0, e_d=0.01, **PROTOCOL),
     InvalidParameter, "n_pulses"),
    (expected_decoy_counts, dict(n_pulses=1e9, eta=0.1, y0=0.0, e_d=0.01,
                                 **dict(PROTOCOL, p_z=1.0)), InvalidParameter, "p_z"),
    (expected_decoy_counts, dict(n_pulses=1e9, eta=0.1, y0=0.0, e_d=0.01, p_z_bob=0.0,
                                 **PROTOCOL), InvalidParameter, "p_z_bob"),
    (expected_decoy_counts, dict(n_pulses=1e9, y0=0.0, e_d=0.01, **PROTOCOL),
     InvalidParameter, "eta"),
    (expected_decoy_counts, dict(n_pulses=1e9, eta=0.1, y0=2.0, e_d=0.01, **PROTOCOL),
     InvalidParameter, "y0"),
    (expected_decoy_counts, dict(n_pulses=[1e9, 1e10], eta=[0.1, 0.2, 0.3], y0=0.0,
                                 e_d=0.01, **PROTOCOL), InvalidParameter, "eta"),
    (finite_key_length_from_channel, dict(KW, n_pulses=1e9, intensities=(0.1, 0.5, 0.0)),
     InvalidParameter, "intensities"),
    (finite_key_length_from_channel, dict(KW, n_pulses=1e9, eps_cor=0.0),
     InvalidParameter, "eps_cor"),
    (finite_key_length_from_channel, dict(KW, n_pulses=1e9, loss_db=-3.0),
     InvalidParameter, "loss_db"),
]


@pytest.mark.parametrize(("func", "kwargs", "exc", "name"), BAD)
def test_rejects_bad_inputs(func, kwargs, exc, name):
    with pytest.raises(exc) as info:
        func(**kwargs)
    assert info.value.name == name
    assert name in str(info.value)


def test_from_channel_passes_bob_basis_bias_and_x_misalignment_through():
    """``finite_key_length_from_channel`` with Bob's own Z-basis probability (0.6, Alice's 0.85)
    and E_X != E_Z is the §A2 key length of the counts written out here: n_k^Z = N p_k p_A p_B
    Q_k, n_k^X = N p_k (1-p_A)(1-p_B) Q_k, m_k^X = n_k^X E_k^X. Dropping ``p_z_bob`` on the way to
    the counts (Bob then measuring Z with Alice's 0.85) changes the key by far more than the
    tolerance."""
    n, eta, y0, e_d, e_d_x = 1e11, 1e-3, 1e-6, 0.01, 0.03
    proto = dict(intensities=(0.5, 0.1, 0.0), probabilities=(0.5, 0.3, 0.2))
    p_a, p_b = 0.85, 0.6
    nz, nx, mx = [], [], []
    for mu, pk in zip(proto["intensities"], proto["probabilities"]):
        q = y0 + 1 - math.exp(-eta * mu)
        ex = (0.5 * y0 + e_d_x * (1 - math.exp(-eta * mu))) / q
        nz.append(n * pk * p_a * p_b * q)
        nx.append(n * pk * (1 - p_a) * (1 - p_b) * q)
        mx.append(nx[-1] * ex)
    qz = sum(nz[k] * (0.5 * y0 + e_d * (1 - math.exp(-eta * mu))) / (y0 + 1 - math.exp(-eta * mu))
             for k, mu in enumerate(proto["intensities"])) / sum(nz)
    ref = _reference_ell(proto["intensities"], proto["probabilities"], nz, nx, mx, qz, **EPS)
    assert ref["ell"] > 1e4
    got = finite_key_length_from_channel(n_pulses=n, eta=eta, y0=y0, e_d=e_d, e_d_x=e_d_x, p_z=p_a,
                                         p_z_bob=p_b, **proto, **EPS)
    assert float(got.ell) == pytest.approx(ref["ell"], rel=1e-6)
    same_bases = finite_key_length_from_channel(n_pulses=n, eta=eta, y0=y0, e_d=e_d, e_d_x=e_d_x,
                                                p_z=p_a, **proto, **EPS)
    assert abs(float(same_bases.ell) - ref["ell"]) > 0.05 * ref["ell"]


def _counts_for(batch_x=None):
    """Expected counts of the A2 vector channel; with ``batch_x`` the X counts get that batch shape."""
    c = expected_decoy_counts(n_pulses=1e11, **CHANNEL, **PROTOCOL)
    nx, mx = c.n_x, c.m_x
    if batch_x is not None:
        nx = np.broadcast_to(nx[:, None], (3, batch_x)).copy()
        mx = np.broadcast_to(mx[:, None], (3, batch_x)).copy()
    return dict(n_z=c.n_z, n_x=nx, m_x=mx, qber_z=float(c.qber_z))


def test_counts_of_shapes_that_do_not_broadcast_are_refused_with_the_array_and_the_rule():
    """The error names the misfit (n_x of batch 2 against m_x of batch 3), carries the array
    itself as its value and says what is allowed."""
    a, b = _counts_for(batch_x=2), _counts_for(batch_x=3)
    with pytest.raises(InvalidParameter) as info:
        finite_key_length(intensities=PROTOCOL["intensities"], probabilities=PROTOCOL["probabilities"],
                          n_z=a["n_z"], n_x=a["n_x"], m_x=b["m_x"], qber_z=a["qber_z"], **EPS)
    assert info.value.name == "m_x"
    np.testing.assert_array_equal(info.value.value, b["m_x"][0])
    assert info.value.allowed == "an array broadcastable to shape (2,)"


def test_a_given_leakage_of_a_batch_shape_that_does_not_fit_is_refused_by_name():
    """``lambda_ec`` takes part in the batch shape: a leakage of 3 values against counts of
    batch 2 is an InvalidParameter naming lambda_ec (not numpy's broadcasting error), and a
    leakage of 2 values gives one key length per value, each the scalar call's."""
    c = _counts_for(batch_x=2)
    kw = dict(intensities=PROTOCOL["intensities"], probabilities=PROTOCOL["probabilities"], **c, **EPS)
    with pytest.raises(InvalidParameter) as info:
        finite_key_length(**kw, lambda_ec=np.array([1e3, 2e3, 3e3]))
    assert info.value.name == "lambda_ec"
    two = finite_key_length(**kw, lambda_ec=np.array([1e3, 5e4]))
    assert np.shape(two.ell) == (2,)
    one = finite_key_length(**_counts_for(), intensities=PROTOCOL["intensities"],
                            probabilities=PROTOCOL["probabilities"], **EPS, lambda_ec=5e4)
    assert float(two.ell[1]) == pytest.approx(float(one.ell), rel=1e-12)
    assert float(two.ell[0]) - float(two.ell[1]) == pytest.approx(4.9e4, rel=1e-9)


def test_the_result_records_the_epsilons_it_used():
    r = finite_key_length(intensities=PROTOCOL["intensities"], probabilities=PROTOCOL["probabilities"],
                          **_counts_for(), eps_sec=3e-9, eps_cor=2e-12)
    assert (r.eps_sec, r.eps_cor) == (3e-9, 2e-12)
