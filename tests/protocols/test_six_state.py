"""Six-state protocol (docs/conventions.md, "six-state"): E_X, E_Y, E_Z and the key rate."""

from __future__ import annotations

import math

import pytest
from _reference import apply, basis_kets, click_kraus, dm, h2, outcome_probabilities
from hypothesis import given, settings
from scipy.optimize import brentq, minimize_scalar

from qproto import Channel, result_from_dict
from qproto.cli import main
from qproto.protocols import SixState
from qproto.protocols._six_state import six_state_key_fraction
from qproto.testing import assert_matches_expected, rotated_channels, seeds

ROTATED = Channel(transmittance=0.5, depolarisation=0.04, noise_click=0.01, rotation_rad=0.8,
                  rotation_axis=(1.0, 0.2, 0.5))


def _reference_errors(ch: Channel) -> dict[str, float]:
    """Per-basis error rates and the mismatched-basis agreement from density matrices."""
    kraus = click_kraus(ch)
    err, agree = {}, []
    for m in "ZXY":
        e = 0.0
        for bit, ket in enumerate(basis_kets(m)):
            rho = apply(dm(ket), kraus, 0)
            for n in "ZXY":
                p = outcome_probabilities(rho, [n])
                if n == m:
                    e += p[(1 - bit,)] / 2
                else:
                    agree.append(p[(bit,)])
        err[m.lower()] = e
    return {"qber_z": err["z"], "qber_x": err["x"], "qber_y": err["y"], "mismatched_agreement": sum(agree) / 12}


@pytest.mark.parametrize("ch", [Channel(depolarisation=0.1), ROTATED,
                                Channel(misalignment=0.02, rotation_rad=0.9, rotation_axis=(0, 0, 1))])
def test_closed_forms_equal_the_density_matrix_reference(ch):
    """B45: E_X, E_Y, E_Z and the mismatched agreement equal a density-matrix computation."""
    got = SixState().expected(ch)
    for k, v in _reference_errors(ch).items():
        assert got[k] == pytest.approx(v, abs=1e-12), k
    assert got["qber_z"] != pytest.approx(got["qber_y"], abs=1e-3) or ch.rotation_rad == 0


def test_key_fraction_depolarising_closed_form_and_threshold():
    """B47. Depolarising Q: 1 + (1 - 3Q/2) log2(1 - 3Q/2) + (3Q/2) log2(Q/2) (Scarani et al. 2009),
    zero at Q = 12.62 % (Lo 2001)."""
    for q in (0.01, 0.05, 0.1):
        want = 1 + (1 - 1.5 * q) * math.log2(1 - 1.5 * q) + 1.5 * q * math.log2(q / 2)
        assert six_state_key_fraction(q, q, q, f_ec=1.0) == pytest.approx(want, abs=1e-12)
    root = brentq(lambda q: 1 + (1 - 1.5 * q) * math.log2(1 - 1.5 * q) + 1.5 * q * math.log2(q / 2), 0.05, 0.2)
    assert root == pytest.approx(0.1262, abs=5e-5)
    assert six_state_key_fraction(0.1255, 0.1255, 0.1255, f_ec=1.0) > 0.0
    assert six_state_key_fraction(0.127, 0.127, 0.127, f_ec=1.0) == 0.0


@pytest.mark.parametrize("ex, ez", [(0.03, 0.05), (0.08, 0.02)])
def test_worst_case_e_y_gives_the_bb84_rate(ex, ez):
    """B47. Minimising over the unmeasured E_Y recovers BB84's 1 - h(E_X) - h(E_Z): the Y basis is
    what the six-state protocol adds."""
    lo, hi = abs(ex - ez), min(ex + ez, 2 - ex - ez)
    worst = minimize_scalar(lambda ey: six_state_key_fraction(ex, ey, ez, f_ec=1.0), bounds=(lo, hi),
                            method="bounded", options={"xatol": 1e-10})
    assert worst.fun == pytest.approx(1 - h2(ex) - h2(ez), abs=1e-6)
    assert worst.x == pytest.approx(ex + ez - 2 * ex * ez, abs=1e-6)  # independent X and Z flips
    assert six_state_key_fraction(ex, (ex + ez) / 2, ez, f_ec=1.0) > worst.fun + 1e-3


def test_key_basis_and_f_ec_enter_as_written():
    ex, ey, ez = 0.02, 0.06, 0.04
    for basis, e in (("x", ex), ("y", ey), ("z", ez)):
        d = six_state_key_fraction(ex, ey, ez, key_basis=basis, f_ec=1.0) - \
            six_state_key_fraction(ex, ey, ez, key_basis=basis, f_ec=1.5)
        assert d == pytest.approx(0.5 * h2(e), abs=1e-12)


@settings(max_examples=4, deadline=None)
@given(ch=rotated_channels(), seed=seeds())
def test_runs_match_closed_forms_on_rotated_channels(ch, seed):
    """B48. catches: a wrong Y preparation or measurement (sdg/s swapped gives E_Y of the mirrored rotation)."""
    proto = SixState()
    assert_matches_expected(proto.run(ch, rounds=36_000, seed=seed), proto.expected(ch))


def test_key_rate_interval_contains_the_closed_form_and_round_trips():
    proto = SixState(f_ec=1.1)
    ch = Channel(transmittance=0.6, depolarisation=0.05, rotation_rad=0.3, rotation_axis=(0, 1, 0))
    r = proto.run(ch, rounds=150_000, seed=9)
    assert r.key_rate.contains(proto.expected(ch)["key_rate"])
    assert r.key_rate.low < r.key_rate.best < r.key_rate.high
    assert result_from_dict(r.to_dict()) == r and result_from_dict(r.to_dict()).qber_y == r.qber_y


@pytest.mark.parametrize("fraction, p_eve_z", [(1.0, 0.5), (0.6, 0.9)])
def test_intercept_resend_shows_in_the_y_basis(fraction, p_eve_z):
    """Eve measures Z or X only, so every Y state she touches is randomised: E_Y = f/2 on an ideal
    channel, while E_Z = f (1 - p_E)/2 and E_X = f p_E / 2 (docs/conventions.md A15, A1)."""
    from qproto import InterceptResend

    eve = InterceptResend(fraction=fraction, p_z=p_eve_z)
    e = SixState().expected(Channel(), eavesdropper=eve)
    assert e["qber_y"] == pytest.approx(fraction / 2) and e["qber_z"] == pytest.approx(fraction * (1 - p_eve_z) / 2)
    assert e["qber_x"] == pytest.approx(fraction * p_eve_z / 2)
    proto = SixState()
    assert_matches_expected(proto.run(ROTATED, rounds=60_000, seed=3, eavesdropper=eve),
                            proto.expected(ROTATED, eavesdropper=eve))
    if fraction == 1.0:
        assert e["key_rate"] == 0.0


def test_qproto_verify_six_state():
    assert main(["verify", "six-state", "--examples", "3", "--rounds", "9000", "--no-progress"]) == 0


def test_expected_key_rate_takes_each_basis_key_at_its_own_error_rate():
    """The key rate of expected() sums the three bases' keys, each with its own error rate: with
    f_EC = 1.3 on a rotated channel (E_X, E_Y, E_Z all different) it is
    P_click / 9 * sum_m [1 - H(lambda) + (1 - f_EC) h(E_m)], lambda and H written out here from
    the density-matrix error rates (kills every basis's key computed at E_Z, which f_EC = 1
    cannot see: the h(E_m) terms cancel there)."""
    f = 1.3
    ref = _reference_errors(ROTATED)
    e = {b: ref[f"qber_{b}"] for b in "xyz"}
    lam = [1 - (e["x"] + e["y"] + e["z"]) / 2, (e["z"] + e["y"] - e["x"]) / 2,
           (e["z"] + e["x"] - e["y"]) / 2, (e["x"] + e["y"] - e["z"]) / 2]
    assert min(lam) > 0
    h_lam = -sum(p * math.log2(p) for p in lam)
    want = ROTATED.detection_probability / 9 * sum(max(0.0, 1 - h_lam + (1 - f) * h2(e[b])) for b in "xyz")
    assert want > 0
    assert SixState(f_ec=f).expected(ROTATED)["key_rate"] == pytest.approx(want, rel=1e-12)


def test_measured_key_rate_weighs_each_basis_key_at_its_own_measured_error_rate():
    """The run's key-rate point value is sum_m (sifted_m / rounds) [1 - H(lambda) + (1 - f_EC)
    h(E_m)] at the measured error rates, written out here (f_EC = 1.3, rotated channel: the
    three rates differ; kills every basis's key taken at E_Z, invisible at f_EC = 1)."""
    f = 1.3
    r = SixState(f_ec=f).run(ROTATED, rounds=20_000, seed=5)
    e = {b: r.tallies[f"errors_{b}"] / r.tallies[f"sifted_{b}"] for b in "xyz"}
    assert len({round(v, 3) for v in e.values()}) == 3
    lam = [1 - (e["x"] + e["y"] + e["z"]) / 2, (e["z"] + e["y"] - e["x"]) / 2,
           (e["z"] + e["x"] - e["y"]) / 2, (e["x"] + e["y"] - e["z"]) / 2]
    assert min(lam) > 0
    h_lam = -sum(p * math.log2(p) for p in lam)
    want = sum(r.tallies[f"sifted_{b}"] / r.rounds * max(0.0, 1 - h_lam + (1 - f) * h2(e[b])) for b in "xyz")
    assert want > 0
    assert r.estimates()["key_rate"].best == pytest.approx(want, rel=1e-9)


def test_key_fraction_defaults_validation_and_clipped_pauli_weights():
    """``six_state_key_fraction``: f_EC defaults to 1 (then the key is 1 - H(lambda) in every
    basis); error rates above 1 and f_EC above 2 are refused by name; rates that no Pauli
    channel gives (E_X = 0.04, E_Y = E_Z = 0: lambda = (0.98, -0.02, 0.02, 0.02)) have their
    negative weight clipped and the rest renormalised to (0.98, 0, 0.02, 0.02) / 1.02, written out here (kills the
    default f_EC 2, the upper bounds 2 and 3, the clip dropped and the renormalisation
    multiplied)."""
    from qproto import InvalidParameter

    q = 0.05
    lam = [1 - 1.5 * q, q / 2, q / 2, q / 2]
    assert six_state_key_fraction(q, q, q) == pytest.approx(1 + sum(p * math.log2(p) for p in lam), abs=1e-12)
    for name, kw in (("e_x", dict(e_x=1.5, e_y=0.0, e_z=0.0)), ("e_y", dict(e_x=0.0, e_y=1.5, e_z=0.0)),
                     ("e_z", dict(e_x=0.0, e_y=0.0, e_z=1.5))):
        with pytest.raises(InvalidParameter) as info:
            six_state_key_fraction(**kw)
        assert info.value.name == name
    with pytest.raises(InvalidParameter) as info:
        six_state_key_fraction(0.01, 0.01, 0.01, f_ec=2.5)
    assert info.value.name == "f_ec"
    clipped = [0.98 / 1.02, 0.02 / 1.02, 0.02 / 1.02]
    h_lam = -sum(p * math.log2(p) for p in clipped)
    assert 1 - h_lam > 0.5
    assert six_state_key_fraction(0.04, 0.0, 0.0, key_basis="z") == pytest.approx(1 - h_lam, abs=1e-12)
    assert six_state_key_fraction(0.04, 0.0, 0.0, key_basis="x", f_ec=1.5) == \
        pytest.approx(1 - h_lam - 0.5 * h2(0.04), abs=1e-12)


def test_a_run_without_a_key_reports_zero_at_the_runs_confidence():
    """No transmission: no sifted bit, so the key-rate estimate is exactly 0 and carries the
    run's confidence level like every other estimate; so does a positive key rate (kills the
    confidence dropped on either return)."""
    import dataclasses

    r = dataclasses.replace(SixState().run(Channel(transmittance=0.0), rounds=300, seed=2), confidence=0.9)
    k = r.estimates()["key_rate"]
    assert (k.low, k.best, k.high) == (0.0, 0.0, 0.0)
    assert k.confidence == r.confidence == 0.9
    keyed = dataclasses.replace(SixState().run(Channel(depolarisation=0.02), rounds=3000, seed=2), confidence=0.9)
    assert keyed.estimates()["key_rate"].best > 0
    assert keyed.estimates()["key_rate"].confidence == 0.9
