"""Tail bounds of the finite key: Chernoff per intensity class or Hoeffding on the total (docs/conventions.md A2).

Expected values come from docs/conventions.md's test vector (computed there with an independent
implementation) and from a plain-Python transcription of the A2 formulas written here,
not from qproto.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from _reference import h2
from hypothesis import given, settings
from hypothesis import strategies as st

from qproto import InvalidParameter
from qproto.protocols import DecoyBB84
from qproto.security import finite_key_length, finite_key_length_from_channel

# docs/conventions.md A2 test vector: N = 1e10, p_Z = 0.8 for both, mu = (0.6, 0.15, 0), p = (0.7, 0.2, 0.1),
# Y0 = 5.89e-7, e_d = 0.01, f_EC = 1.16, eps_sec = 1e-9, eps_cor = 1e-15.
MU = (0.6, 0.15, 0.0)
P = (0.7, 0.2, 0.1)
VECTOR = {30: {"chernoff": 940_984, "hoeffding": 647_208}, 35: {"chernoff": 248_284, "hoeffding": 0}}


def vector_counts(loss_db: float, n: float = 1e10, p_z: float = 0.8, y0: float = 5.89e-7, e_d: float = 0.01,
                  e_d_x: float | None = None) -> dict:
    """Expected counts written from A2: Q_k = Y0 + 1 - e^{-eta mu_k}, E_k Q_k = Y0/2 + e_d (1 - e^{-eta mu_k})."""
    eta = 10 ** (-loss_db / 10)
    e_d_x = e_d if e_d_x is None else e_d_x
    n_z, n_x, m_z, m_x = [], [], [], []
    for mu, p in zip(MU, P):
        sig = 1 - math.exp(-eta * mu)
        q = y0 + sig
        n_z.append(n * p * p_z * p_z * q)
        n_x.append(n * p * (1 - p_z) ** 2 * q)
        m_z.append(n * p * p_z * p_z * (y0 / 2 + e_d * sig))
        m_x.append(n * p * (1 - p_z) ** 2 * (y0 / 2 + e_d_x * sig))
    return dict(n_z=np.array(n_z), n_x=np.array(n_x), m_x=np.array(m_x), qber_z=sum(m_z) / sum(n_z))


@pytest.mark.parametrize("loss_db", [30, 35])
@pytest.mark.parametrize("tails", ["chernoff", "hoeffding"])
def test_physics_a2_vector_within_one_bit(loss_db, tails):
    """catches: a wrong Chernoff deviation (L/2 vs L, a missing L^2 term, + and - swapped), the
    Hoeffding total used for Chernoff or the other way round, tails ignored."""
    r = finite_key_length(intensities=MU, probabilities=P, **vector_counts(loss_db), eps_sec=1e-9,
                          eps_cor=1e-15, f_ec=1.16, tails=tails)
    assert abs(float(r.ell) - VECTOR[loss_db][tails]) <= 1.0
    assert r.tails == tails


def lim2014_chernoff(mu, p, n_z, n_x, m_x, qber_z, eps_sec, eps_cor, f_ec):
    """docs/conventions.md A2 transcribed line by line in plain Python (Chernoff tails), with the
    conventions of qproto's module docs: negative s clipped to 0, v_X1 in [0, m_X], phi <= 1/2."""
    L = math.log(21 / eps_sec)
    tau = [sum(pk * math.exp(-mk) * mk**n / math.factorial(n) for mk, pk in zip(mu, p)) for n in (0, 1)]

    def lo(c, k):
        return math.exp(mu[k]) / p[k] * (c - L / 2 - math.sqrt(2 * c * L + L * L / 4))

    def hi(c, k):
        return math.exp(mu[k]) / p[k] * (c + L + math.sqrt(2 * c * L + L * L))

    m1, m2, m3 = mu

    def s01(c):
        s0 = max(tau[0] * (m2 * lo(c[2], 2) - m3 * hi(c[1], 1)) / (m2 - m3), 0.0)
        s1 = tau[1] * m1 * (lo(c[1], 1) - hi(c[2], 2) - (m2**2 - m3**2) / m1**2 * (hi(c[0], 0) - s0 / tau[0])) \
            / (m1 * (m2 - m3) - m2**2 + m3**2)
        return s0, max(s1, 0.0)

    s_z0, s_z1 = s01(n_z)
    _, s_x1 = s01(n_x)
    v = min(max(tau[1] * (hi(m_x[1], 1) - lo(m_x[2], 2)) / (m2 - m3), 0.0), sum(m_x))
    if s_z1 <= 0 or s_x1 <= 0:  # no single-photon bound: phi = 1/2 (the stated convention)
        phi = 0.5
    else:
        b = min(v / s_x1, 0.5)
        c, d = s_z1, s_x1
        gamma = 0.0 if b == 0 else math.sqrt((c + d) * (1 - b) * b / (c * d * math.log(2))
                                             * math.log2((c + d) * 21**2 / (c * d * (1 - b) * b * eps_sec**2)))
        phi = min(b + gamma, 0.5)
    ell = s_z0 + s_z1 * (1 - h2(phi)) - f_ec * sum(n_z) * h2(qber_z) - 6 * math.log2(21 / eps_sec) \
        - math.log2(2 / eps_cor)
    return max(ell, 0.0)


def test_chernoff_key_equals_the_formulas_with_unequal_bases_and_f_ec():
    """E_X != E_Z (phase error from X, leakage from Z) and f_EC = 1.3: every term of the Chernoff
    key checked against the transcription above. catches: the X-basis errors used for the
    leakage or Z errors for the phase error, f_EC ignored, a tail applied to the wrong count."""
    c = vector_counts(28, n=3e9, e_d=0.012, e_d_x=0.035)
    args = dict(intensities=MU, probabilities=P, eps_sec=1e-10, eps_cor=1e-12, f_ec=1.3)
    got = finite_key_length(**c, **args, tails="chernoff")
    want = lim2014_chernoff(MU, P, c["n_z"], c["n_x"], c["m_x"], c["qber_z"], 1e-10, 1e-12, 1.3)
    assert want > 0
    assert float(got.ell) == pytest.approx(want, rel=1e-9)
    # and the per-class bounds themselves
    L = math.log(21 / 1e-10)
    for k in range(3):
        s = math.exp(MU[k]) / P[k]
        assert got.n_z_minus[k] == pytest.approx(s * (c["n_z"][k] - L / 2 - math.sqrt(2 * c["n_z"][k] * L + L * L / 4)))
        assert got.m_x_plus[k] == pytest.approx(s * (c["m_x"][k] + L + math.sqrt(2 * c["m_x"][k] * L + L * L)))


def test_chernoff_is_tighter_on_small_classes_than_hoeffding():
    """The vacuum class's own count is far smaller than the total: its Chernoff interval is
    much narrower (docs/conventions.md A2). catches: Chernoff computed on the total count."""
    c = vector_counts(30)
    ch = finite_key_length(intensities=MU, probabilities=P, **c, eps_sec=1e-9, eps_cor=1e-15, tails="chernoff")
    ho = finite_key_length(intensities=MU, probabilities=P, **c, eps_sec=1e-9, eps_cor=1e-15, tails="hoeffding")
    width = lambda r: r.n_z_plus[2] - r.n_z_minus[2]  # noqa: E731
    assert width(ch) < 0.2 * width(ho)


def test_without_fluctuations_the_tails_do_not_matter():
    c = vector_counts(30)
    kw = dict(intensities=MU, probabilities=P, **c, eps_sec=1e-9, eps_cor=1e-15, fluctuations=False)
    assert float(finite_key_length(**kw, tails="chernoff").ell) == float(finite_key_length(**kw,
                                                                                            tails="hoeffding").ell)


def test_channel_form_and_protocol_pass_the_tails_on():
    kw = dict(n_pulses=1e10, loss_db=30.0, y0=5.89e-7, e_d=0.01, intensities=MU, probabilities=P, p_z=0.8,
              eps_sec=1e-9, eps_cor=1e-15, f_ec=1.16)
    assert finite_key_length_from_channel(**kw, tails="chernoff").tails == "chernoff"
    assert abs(float(finite_key_length_from_channel(**kw, tails="chernoff").ell) - VECTOR[30]["chernoff"]) < 50
    assert DecoyBB84(tails="chernoff").parameters()["tails"] == "chernoff"
    assert DecoyBB84().tails == "hoeffding"


@pytest.mark.parametrize("bad", ["chernof", "", None, 1])
def test_unknown_tails_rejected_by_name(bad):
    with pytest.raises(InvalidParameter) as e:
        finite_key_length(intensities=MU, probabilities=P, **vector_counts(30), eps_sec=1e-9, eps_cor=1e-15,
                          tails=bad)
    assert e.value.name == "tails"
    with pytest.raises(InvalidParameter) as e:
        DecoyBB84(tails=bad)
    assert e.value.name == "tails"


@settings(max_examples=40, deadline=None)
@given(loss_db=st.floats(20.0, 34.0), log_n=st.floats(9.0, 11.5), p_z=st.floats(0.55, 0.95),
       e_d=st.floats(0.0, 0.03), extra_x=st.floats(0.0, 0.03), f_ec=st.floats(1.0, 1.5))
def test_chernoff_key_matches_the_transcription_property(loss_db, log_n, p_z, e_d, extra_x, f_ec):
    """Over channels, block sizes, bases and f_EC: the library's Chernoff key equals the plain-Python
    transcription (key or no key)."""
    c = vector_counts(loss_db, n=10**log_n, p_z=p_z, e_d=e_d, e_d_x=e_d + extra_x)
    want = lim2014_chernoff(MU, P, *([float(x) for x in c[k]] for k in ("n_z", "n_x", "m_x")), float(c["qber_z"]),
                            1e-9, 1e-15, f_ec)
    got = finite_key_length(intensities=MU, probabilities=P, **c, eps_sec=1e-9, eps_cor=1e-15, f_ec=f_ec,
                            tails="chernoff")
    assert float(got.ell) == pytest.approx(want, rel=1e-9, abs=1e-6)
