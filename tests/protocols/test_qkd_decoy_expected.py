"""Decoy-state BB84 ``expected()``, runs and rates on asymmetric inputs (docs/conventions.md A2; B 9, 12, 14).

Expected values are written here from docs/conventions.md A2 and the module documentation of
``protocols/_decoy_bb84.py`` (click model, Lo-Ma-Chen e_d per basis, mean-field afterpulsing),
with the per-basis error of an arriving qubit from ``tests/_reference.py``: never from the
protocol's helpers (``_noise_yield``, ``detection_probabilities``) or its circuits. Inputs have
biased bases, coherent rotations (E_X != E_Z) and afterpulsing strong enough to tell the
plausible wrong formulas apart.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from _reference import basis_kets, compose, depolarise, dm, flip_probability, h2, rotation
from hypothesis import given, settings
from hypothesis import strategies as st

from qproto import Channel
from qproto.protocols import DecoyBB84
from qproto.testing import assert_matches_expected, assert_proportion, biased_bases, rotated_channels, seeds

TOL = 1e-12


def _arrival_flip(ch, basis: str) -> float:
    """Bit-flip probability of an arriving qubit of ``basis`` (rotation, then depolarising p_q)."""
    p_q = 1 - (1 - ch.depolarisation) * (1 - 2 * ch.misalignment)
    return flip_probability(compose([rotation(ch.rotation_rad, ch.rotation_axis)], depolarise(p_q)), basis)


def _mismatch_agree(ch) -> float:
    """P(a = b) of an arriving qubit prepared in one basis and measured in the other, both orders averaged."""
    p_q = 1 - (1 - ch.depolarisation) * (1 - 2 * ch.misalignment)
    kraus = compose([rotation(ch.rotation_rad, ch.rotation_axis)], depolarise(p_q))
    total = 0.0
    for prep, meas in (("Z", "X"), ("X", "Z")):
        for a, ket in enumerate(basis_kets(prep)):
            rho = sum(k @ dm(ket) @ k.conj().T for k in kraus)
            same = basis_kets(meas)[a]
            total += float(np.real(same.conj() @ rho @ same)) / 4
    return total


def _model(proto: DecoyBB84, ch: Channel, p_ap: float = 0.0) -> dict[str, np.ndarray]:
    """docs/conventions.md A2 exact click model per class k: S_k = 1 - exp(-eta mu_k); noise Y0_eff (afterpulsing:
    1 - (1 - Y0)(1 - p_ap P_click), P_click = sum_k p_k (1 - (1 - Y0) exp(-eta mu_k)));
    Q_k = S_k + (1 - S_k) Y0_eff; E_{m,k} = (S_k e_m + (1 - S_k) Y0_eff / 2) / Q_k."""
    eta = ch.transmittance * ch.detector_efficiency
    mu, p = np.array(proto.intensities), np.array(proto.probabilities)
    y0 = ch.noise_click
    p_click = float(np.sum(p * (1 - (1 - y0) * np.exp(-eta * mu))))
    y0_eff = 1 - (1 - y0) * (1 - p_ap * p_click)
    sig = 1 - np.exp(-eta * mu)
    gain = sig + (1 - sig) * y0_eff
    safe = np.where(gain > 0, gain, 1.0)  # no clicks at all: error 1/2 by convention (e0)
    out = {"gain": gain, "y0_eff": np.full(3, y0_eff)}
    for m in ("Z", "X"):
        out[f"qber_{m.lower()}"] = np.where(gain > 0, (sig * _arrival_flip(ch, m) + (1 - sig) * y0_eff / 2) / safe,
                                            0.5)
    out["mismatched_agreement"] = np.where(gain > 0, (sig * _mismatch_agree(ch) + (1 - sig) * y0_eff / 2) / safe,
                                           0.5)
    return out


def _check_run(r, model, what=""):
    c = r.counts
    for k in range(3):
        assert_proportion(c.detected[k], c.sent[k], float(model["gain"][k]), what=f"{what}gain[{k}]")
        if model["gain"][k] == 0.0:
            continue  # exactly no clicks (checked above): nothing to sift
        assert_proportion(c.m_z[k], c.n_z[k], float(model["qber_z"][k]), what=f"{what}qber_z[{k}]")
        assert_proportion(c.m_x[k], c.n_x[k], float(model["qber_x"][k]), what=f"{what}qber_x[{k}]")
        assert_proportion(c.mismatched_agree[k], c.mismatched[k], float(model["mismatched_agreement"][k]),
                          what=f"{what}mismatched[{k}]")


@given(ch=rotated_channels(min_transmittance=0.05, max_noise_click=0.05), p_z=biased_bases(),
       probs=st.sampled_from([(0.7, 0.2, 0.1), (0.4, 0.35, 0.25)]), p_ap=st.sampled_from([0.0, 0.2]))
@settings(max_examples=30)
def test_expected_equals_the_model_on_rotated_channels_and_biased_bases(ch, p_z, probs, p_ap):
    """A2 per basis: expected() gains and QBER_Z, QBER_X (E_X != E_Z under rotation), combined QBER and
    mismatched agreement equal the model written here.

    catches: one QBER for both bases (rotation ignored), Z/X swapped, noise-click error != 1/2, an
    afterpulse term computed wrongly (shared helper), p_z^2/p_x^2 weights swapped in the combined QBER.
    """
    proto = DecoyBB84(probabilities=probs, p_z=p_z, afterpulse_probability=p_ap)
    got = proto.expected(ch)
    want = _model(proto, ch, p_ap)
    for key in ("gain", "qber_z", "qber_x", "mismatched_agreement"):
        name = key if key == "gain" else f"{key}_by_class"
        np.testing.assert_allclose(got[name], want[key], rtol=0, atol=1e-10, err_msg=key)
    wz, wx = p_z**2, (1 - p_z) ** 2
    np.testing.assert_allclose(got["qber"], (wz * want["qber_z"] + wx * want["qber_x"]) / (wz + wx), atol=1e-10)
    # The run's estimates: per-class values, and the all-class QBERs weighted by each class's clicks p_k Q_k.
    for k, name in enumerate(("signal", "decoy", "vacuum")):
        assert got[f"gain_{name}"] == pytest.approx(want["gain"][k], abs=1e-10)
    assert got["qber_z_signal"] == pytest.approx(want["qber_z"][0], abs=1e-10)
    assert got["qber_x_decoy"] == pytest.approx(want["qber_x"][1], abs=1e-10)
    w = np.array(probs) * want["gain"]
    if w.sum() > 0:
        for basis in ("z", "x"):
            assert got[f"qber_{basis}"] == pytest.approx(float(np.sum(w * want[f"qber_{basis}"]) / w.sum()),
                                                         abs=1e-10)


@given(ch=rotated_channels(min_transmittance=0.1, max_noise_click=0.02), p_z=biased_bases(min_value=0.2),
       seed=seeds())
@settings(max_examples=5)
def test_counts_sampler_matches_the_model_per_basis_on_rotated_channels(ch, p_z, seed):
    """[STAT] counts-first runs: gain, QBER_Z, QBER_X and mismatched agreement of every intensity class
    against the model (5 sigma + 1/N), biased bases, E_X != E_Z.

    catches: bases drawn with 1 - p_z (n_z/n_x shares), rotation lost in the noise model, X errors
    tallied as Z, noise clicks with a constant bit when Alice's bits are not balanced per cell.
    """
    proto = DecoyBB84(probabilities=(0.5, 0.3, 0.2), p_z=p_z)
    r = proto.run(ch, rounds=2_000_000, seed=seed)
    _check_run(r, _model(proto, ch))
    assert_matches_expected(r, proto.expected(ch))  # every sampled estimate of the result, by name
    c = r.counts
    detected = sum(c.detected)
    assert_proportion(sum(c.n_z), detected, p_z**2, what="Z share of clicks")
    assert_proportion(sum(c.n_x), detected, (1 - p_z) ** 2, what="X share of clicks")


def test_per_pulse_sampler_matches_the_model_on_a_tilted_rotation():
    """[STAT] per-pulse sampler, tilted rotation axis (mixes Z and X: mismatched agreement != 1/2) and
    biased bases: every class's gain, QBER per basis and mismatched agreement against the model.

    catches: the per-pulse sampler's photon-number click probability, basis or noise handling.
    """
    ch = Channel(transmittance=0.3, noise_click=0.01, depolarisation=0.02, rotation_rad=1.1,
                 rotation_axis=(1.0, 0.0, 1.0))
    proto = DecoyBB84(intensities=(0.6, 0.25, 0.0), probabilities=(0.5, 0.3, 0.2), p_z=0.65)
    model = _model(proto, ch)
    assert abs(model["mismatched_agreement"][0] - 0.5) > 0.05
    _check_run(proto.run(ch, rounds=400_000, seed=21, sampler="pulses"), model)


def test_afterpulsing_yield_computed_independently():
    """Afterpulsing (module docs): an extra noise click of probability p_ap P_click, P_click = sum_k p_k Q_k
    with Q_k = 1 - (1 - Y0) exp(-eta mu_k), so Y0_eff = 1 - (1 - Y0)(1 - p_ap P_click), written here.
    Parameters chosen so that plausible wrong forms (additive Y0 + p_ap P, P_click without Y0, unweighted
    mean over classes, the signal class only) are off by >= 3 times the 5-sigma band of the vacuum gain.

    catches: any of those wrong afterpulse formulas, in the sampler or in expected() (shared helper).
    """
    eta, y0, p_ap = 0.5, 0.1, 0.5
    mu, p = (0.8, 0.2, 0.0), (0.5, 0.3, 0.2)
    p_click = sum(pk * (1 - (1 - y0) * math.exp(-eta * m)) for m, pk in zip(mu, p))
    y0_eff = 1 - (1 - y0) * (1 - p_ap * p_click)
    assert y0_eff == pytest.approx(0.22332244438641402, rel=1e-12)  # the number, for the record
    proto = DecoyBB84(intensities=mu, probabilities=p, p_z=0.6, afterpulse_probability=p_ap)
    ch = Channel(transmittance=eta, noise_click=y0)
    got = proto.expected(ch)
    for k, m in enumerate(mu):
        q = 1 - math.exp(-eta * m)
        assert got["gain"][k] == pytest.approx(q + (1 - q) * y0_eff, rel=1e-12)
    assert got["gain"][2] == pytest.approx(y0_eff, rel=1e-12)
    for sampler, rounds in (("counts", 2_000_000), ("pulses", 1_000_000)):
        r = proto.run(ch, rounds=rounds, seed=22, sampler=sampler)
        for k, m in enumerate(mu):
            q = 1 - math.exp(-eta * m)
            assert_proportion(r.counts.detected[k], r.counts.sent[k], q + (1 - q) * y0_eff,
                              what=f"{sampler} gain[{k}]")
        assert_proportion(r.counts.m_z[2] + r.counts.m_x[2], r.counts.n_z[2] + r.counts.n_x[2], 0.5,
                          what=f"{sampler} vacuum QBER")


def test_infinite_decoy_rate_uses_z_for_error_correction_and_x_for_the_phase_error():
    """A2 GLLP by hand on a rotated channel (z axis: E_Z from depolarising only, E_X larger), f_EC = 1.3,
    p_z = 0.8: R = p1 p_z^2 [Y1 mu e^-mu (1 - h(e1)) - f Q_mu h(E_mu)], Y1 = Y0 + eta,
    e1 = (Y0/2 + e_X eta)/Y1 (phase: X basis), Q_mu = Y0 + 1 - e^(-eta mu),
    E_mu = (Y0/2 + e_Z (1 - e^(-eta mu)))/Q_mu (bit: Z basis).

    catches: phase error taken from Z or bit error from X, f_EC on the single-photon term, the
    signal probability p1 or the sifting p_z^2 dropped.
    """
    eta, y0, p, theta, pz, f_ec = 0.02, 1e-4, 0.02, 0.5, 0.8, 1.3
    ch = Channel(transmittance=eta, noise_click=y0, depolarisation=p, rotation_rad=theta)
    e_z, e_x = p / 2, (1 - (1 - p) * math.cos(theta)) / 2
    mu, p1 = 0.5, 0.7
    y1 = y0 + eta
    e1 = (y0 / 2 + e_x * eta) / y1
    q_mu = y0 + 1 - math.exp(-eta * mu)
    e_mu = (y0 / 2 + e_z * (1 - math.exp(-eta * mu))) / q_mu
    want = p1 * pz**2 * (y1 * mu * math.exp(-mu) * (1 - h2(e1)) - f_ec * q_mu * h2(e_mu))
    swapped = p1 * pz**2 * (y1 * mu * math.exp(-mu) * (1 - h2((y0 / 2 + e_z * eta) / y1))
                            - f_ec * q_mu * h2((y0 / 2 + e_x * (1 - math.exp(-eta * mu))) / q_mu))
    assert want > 0 and abs(want - swapped) > 0.05 * want
    proto = DecoyBB84(intensities=(mu, 0.1, 0.0), probabilities=(p1, 0.2, 0.1), p_z=pz, f_ec=f_ec)
    r = proto.run(ch, rounds=1000, seed=23)
    assert r.key_rate_infinite_decoy == pytest.approx(want, rel=1e-9)
