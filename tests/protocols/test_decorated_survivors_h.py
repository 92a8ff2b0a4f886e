"""Tests for mutation survivors of decorated functions (properties) in the protocol modules (issue 9).

``DecoyBB84Result.key_rate_vacuum_weak`` on hand-made tallies, against the closed forms written out
here: the vacuum + weak decoy bounds of Ma, Qi, Zhao, Lo 2005 (PRA 72 012326)

    Y_1^L = mu/(mu nu - nu^2) [Q_nu e^nu - Q_mu e^mu nu^2/mu^2 - (mu^2 - nu^2)/mu^2 Y_0],
    e_1^U = (E_nu Q_nu e^nu - Y_0/2) / (Y_1^L nu),

and the GLLP rate R = p_mu1 q {Q_1 [1 - h(e_1)] - f_EC Q_mu h(E_mu)}^+ with Q_1 = Y_1^L mu e^-mu,
q = p_Z^2, e_1 clipped to [0, 1/2] (the class docstring: key from Z, e_1 from the X decoy QBER).
Inputs are asymmetric (f_EC = 1.3, E_mu != E_nu, p_Z = 0.8, no vacuum X detection).
"""

from __future__ import annotations

import math

import pytest

from qproto import Channel
from qproto.protocols import DecoyBB84
from qproto.protocols._decoy_bb84 import DecoyBB84Result, DecoyTallies

MU, NU = 0.5, 0.1
P_Z, F_EC, P_SIGNAL = 0.8, 1.3, 0.7


def _h(x: float) -> float:
    return 0.0 if x in (0.0, 1.0) else -x * math.log2(x) - (1 - x) * math.log2(1 - x)


def _expected(sent, detected, n_z0, m_z0, n_x1, m_x1) -> float:
    q_mu, q_nu, y0 = (d / s for d, s in zip(detected, sent))
    e_mu, e_nu = m_z0 / n_z0, m_x1 / n_x1
    y1 = MU / (MU * NU - NU**2) * (q_nu * math.exp(NU) - q_mu * math.exp(MU) * NU**2 / MU**2
                                   - (MU**2 - NU**2) / MU**2 * y0)
    e1 = min(max((e_nu * q_nu * math.exp(NU) - 0.5 * y0) / (y1 * NU), 0.0), 0.5)
    q1 = y1 * MU * math.exp(-MU)
    return P_SIGNAL * max(0.0, P_Z**2 * (q1 * (1 - _h(e1)) - F_EC * q_mu * _h(e_mu)))


def _result(t: DecoyTallies, intensities=(MU, NU, 0.0)) -> DecoyBB84Result:
    proto = DecoyBB84()
    params = dict(proto.parameters(), intensities=intensities, probabilities=(P_SIGNAL, 0.2, 0.1), p_z=P_Z,
                  f_ec=F_EC)
    return DecoyBB84Result(protocol=proto.name, parameters=params, channels=(Channel(transmittance=0.1),),
                           rounds=sum(t.sent), seed=1, counts=t)


SENT = (10000, 10000, 10000)
DETECTED = (490, 100, 10)


def _tallies(n_z=(300, 40, 3), m_z=(3, 2, 1), n_x=(40, 30, 0), m_x=(2, 4, 0)) -> DecoyTallies:
    return DecoyTallies(sent=SENT, detected=DETECTED, n_z=n_z, m_z=m_z, n_x=n_x, m_x=m_x,
                        mismatched=(100, 20, 5), mismatched_agree=(50, 10, 2))


def test_vacuum_weak_rate_closed_form_with_f_ec_and_no_vacuum_x_detection():
    want = _expected(SENT, DETECTED, 300, 3, 30, 4)
    assert want > 1e-4  # a key, so f_EC and e_1 both enter
    # e_1^U strictly inside (0, 1/2): the decoy X QBER (4/30) is what bounds it
    q_nu, y0 = DETECTED[1] / SENT[1], DETECTED[2] / SENT[2]
    assert 4 / 30 * q_nu * math.exp(NU) - 0.5 * y0 > 0
    assert _result(_tallies()).key_rate_vacuum_weak == pytest.approx(want, rel=1e-9)


def test_vacuum_weak_rate_with_one_signal_z_detection():
    t = _tallies(n_z=(1, 40, 3), m_z=(0, 2, 1))
    want = _expected(SENT, DETECTED, 1, 0, 30, 4)
    assert want > 1e-4
    assert _result(t).key_rate_vacuum_weak == pytest.approx(want, rel=1e-9)


def test_vacuum_weak_rate_no_signal_z_detection_is_zero_whatever_the_decoy():
    # Documented: 0.0 when no signal detection in Z (nothing to distil), even with decoy Z detections.
    assert _result(_tallies(n_z=(0, 40, 3), m_z=(0, 2, 1))).key_rate_vacuum_weak == 0.0
    # ... and when the decoy has no X detection (e_1 cannot be bounded), even with vacuum X detections.
    assert _result(_tallies(n_x=(40, 0, 2), m_x=(2, 0, 1))).key_rate_vacuum_weak == 0.0


def test_vacuum_weak_rate_none_when_a_class_was_never_sent():
    t = DecoyTallies(sent=(10000, 10000, 0), detected=(490, 100, 0), n_z=(300, 40, 0), m_z=(6, 2, 0),
                     n_x=(40, 30, 0), m_x=(2, 1, 0), mismatched=(100, 20, 0), mismatched_agree=(50, 10, 0))
    assert _result(t).key_rate_vacuum_weak is None
    # and None with mu3 > 0 (no vacuum state), all classes sent
    assert _result(_tallies(), intensities=(MU, NU, 0.01)).key_rate_vacuum_weak is None


def test_infinite_decoy_rate_phase_error_from_the_x_axis_misalignment():
    # A coherent rotation by theta about the Bloch X axis leaves X-basis states alone and turns Z by
    # theta (Channel docs): e_d,Z = (1 - cos theta)/2 for the key's QBER, e_d,X = 0 for the phase error.
    from qproto.security import decoy_key_rate_infinite

    theta = 0.6
    ch = Channel(transmittance=0.1, rotation_rad=theta, rotation_axis=(1.0, 0.0, 0.0))
    r = DecoyBB84Result(protocol="decoy-bb84", parameters=dict(DecoyBB84().parameters(), p_z=P_Z, f_ec=F_EC,
                                                               probabilities=(P_SIGNAL, 0.2, 0.1)),
                        channels=(ch,), rounds=10, seed=1, counts=_tallies())
    want = P_SIGNAL * float(decoy_key_rate_infinite(mu=0.5, eta=ch.total_transmittance, y0=ch.noise_click,
                                                    e_d=(1 - math.cos(theta)) / 2, e_d_x=0.0, q=P_Z**2,
                                                    f_ec=F_EC))
    wrong = P_SIGNAL * float(decoy_key_rate_infinite(mu=0.5, eta=ch.total_transmittance, y0=ch.noise_click,
                                                     e_d=(1 - math.cos(theta)) / 2,
                                                     e_d_x=(1 - math.cos(theta)) / 2, q=P_Z**2, f_ec=F_EC))
    assert want > 0 and abs(want - wrong) > 1e-3 * want
    assert r.key_rate_infinite_decoy == pytest.approx(want, rel=1e-9)


def test_finite_key_uses_the_results_f_ec_leakage_option_and_default_tails():
    # The property must hand the protocol's own f_EC and EC-leakage option to the Lim et al. analysis:
    # compared with the analysis called directly with those values spelled out, and the leakage
    # lambda_EC = f_EC n_Z h(Q_Z) of the "efficiency" option written here by hand.
    from qproto.security import finite_key_length

    t = _tallies()
    base = dict(intensities=(MU, NU, 0.0), probabilities=(P_SIGNAL, 0.2, 0.1), n_z=[300.0, 40.0, 3.0],
                n_x=[40.0, 30.0, 0.0], m_x=[2.0, 4.0, 0.0], qber_z=6 / 343, eps_sec=1e-10, eps_cor=1e-15)
    r = _result(t)
    assert float(r.finite_key.lambda_ec) == pytest.approx(F_EC * 343 * _h(6 / 343), rel=1e-12)
    for leak in ("efficiency", "finite_size"):
        params = dict(r.parameters, ec_leakage=leak)
        del params["tails"]  # a result recorded before the tails option: Hoeffding, the documented default
        rr = DecoyBB84Result(protocol=r.protocol, parameters=params, channels=r.channels, rounds=r.rounds,
                             seed=1, counts=t)
        want = finite_key_length(**base, f_ec=F_EC, ec_leakage=leak, tails="hoeffding")
        got = rr.finite_key
        for name in ("ell_unclipped", "lambda_ec", "phi_z", "s_z1"):
            assert float(getattr(got, name)) == pytest.approx(float(getattr(want, name)), rel=1e-12), (leak, name)
        assert got.tails == "hoeffding"


def test_finite_key_without_z_detections_records_qber_zero():
    # No Z detection: the QBER is undefined and the analysis gets 0 (the DecoyCounts convention,
    # "0 where n_Z = 0"), and no key.
    t = _tallies(n_z=(0, 0, 0), m_z=(0, 0, 0))
    fk = _result(t).finite_key
    assert float(fk.qber_z) == 0.0 and float(fk.ell) == 0.0


def test_anonymous_correlators_from_hand_counts():
    # E_b = P(agree) - P(disagree) = (2 a - n) / n per test basis; NaN where a basis was never tested.
    from qproto.protocols._anonymous import AnonymousTransmissionResult

    r = AnonymousTransmissionResult(
        protocol="anonymous-transmission", parameters={"parties": 4, "sender": 0, "receiver": 1,
                                                       "mode": "entanglement"},
        channels=(Channel(),) * 4, rounds=200, seed=1,
        counts={"detected": [110], "tests": [40, 20, 50], "agree": [30, 5, 45]})
    e = r.correlators
    assert len(e) == 3
    assert e == pytest.approx((20 / 40, -10 / 20, 40 / 50), rel=1e-12)
    r0 = AnonymousTransmissionResult(
        protocol="anonymous-transmission", parameters=dict(r.parameters), channels=r.channels, rounds=200,
        seed=1, counts={"detected": [30], "tests": [0, 20, 10], "agree": [0, 15, 1]})
    e0 = r0.correlators
    assert math.isnan(e0[0]) and e0[1:] == pytest.approx((10 / 20, -8 / 10), rel=1e-12)


def test_ghz_parties_from_the_per_bob_tallies():
    from qproto.protocols._ghz_cka import GHZConferenceResult

    counts = {"key_rounds": [100], "test_rounds": [80], "errors_ab": [3, 7, 1], "all_equal": [90],
              "alice_ones": [50], "parity_errors": [10], "eve_rounds": [0], "eve_correct": [0]}
    r = GHZConferenceResult(protocol="ghz-cka", parameters={"parties": 4}, channels=(Channel(),) * 4,
                            rounds=200, seed=1, counts=counts)
    assert r.parties == 4  # Alice and three Bobs
