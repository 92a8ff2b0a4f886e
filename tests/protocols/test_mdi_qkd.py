"""MDI-QKD invariants (docs/conventions.md section B: 21-23) and the A5 rates.

Expected values come from the numpy reference (tests/_reference.py: Kraus maps rebuilt from the
Channel fields, Bell projectors) or from closed forms written here, never from the protocol.
"""

import math

import numpy as np
import pytest
from _reference import apply, basis_kets, bell, click_kraus, dm, h2, kron

from qproto import Channel, Engine, InterceptResend
from qproto._errors import InvalidParameter
from qproto.protocols import MDIQKD
from qproto.protocols._mdi_qkd import mdi_decoy_key_rate
from qproto.testing import (assert_keys_equal, assert_matches_expected, assert_proportion, assert_reproducible,
                            assert_round_trip)

DIST = Engine(mode="distribution")

# Asymmetric legs with different coherent rotations (E_X != E_Z on each), noise clicks and loss.
LEG_A = Channel(depolarisation=0.04, transmittance=0.6, noise_click=0.02, rotation_rad=0.6,
                rotation_axis=(0.2, 0.5, 0.8))
LEG_B = Channel(depolarisation=0.12, misalignment=0.01, transmittance=0.8, rotation_rad=0.9,
                rotation_axis=(1.0, 0.3, 0.0))
BIASED_IR = InterceptResend(fraction=0.6, p_z=0.8)
#: (m1, m0) -> the Bell state the relay projects on (docs/conventions.md section 0).
BELL_OF = {(0, 0): "phi+", (0, 1): "phi-", (1, 0): "psi+", (1, 1): "psi-"}


def _ref_photon(basis, bit, channel, eve=None):
    """Reference: the BB84 state after an averaged intercept-resend (Eve's record traced out)
    and the channel's click-conditioned map."""
    rho = dm(basis_kets("ZX"[basis])[bit])
    if eve is not None:
        def measured(b):
            return sum(dm(k) @ rho @ dm(k) for k in basis_kets(b))
        rho = ((1 - eve.fraction) * rho + eve.fraction * eve.p_z * measured("Z")
               + eve.fraction * (1 - eve.p_z) * measured("X"))
    return apply(rho, click_kraus(channel), 0)


def _ref_relay(a_basis, a, b_basis, b, ch_a=LEG_A, ch_b=LEG_B, eve=None):
    """Reference P(m1, m0 | inputs): Bell projections of the product state (Alice = qubit 0)."""
    rho = kron(_ref_photon(a_basis, a, ch_a, eve), _ref_photon(b_basis, b, ch_b))
    return {m: float(np.real(np.trace(bell(name) @ rho))) for m, name in BELL_OF.items()}


def _ref_qber(basis, linear, **kw):
    """Reference error rate of the A5 flip rule in one basis, over counted announcements."""
    err = tot = 0.0
    for a in (0, 1):
        for b in (0, 1):
            for (m1, m0), p in _ref_relay(basis, a, basis, b, **kw).items():
                if linear and m1 == 0:
                    continue
                tot += p
                err += p * ((b ^ (m1 if basis == 0 else m0)) != a)
    return err / tot


def _exact_relay(probs, a_basis, a, b_basis, b, eve=None):
    """P(m1, m0 | inputs) from the protocol's compiled distributions (Eve's branches weighted)."""
    weights = [1.0] if eve is None else [1 - eve.fraction, eve.fraction * eve.p_z, eve.fraction * (1 - eve.p_z)]
    codes = np.arange(probs.shape[1])
    out = {}
    for m1 in (0, 1):
        for m0 in (0, 1):
            sel = ((codes & 1) == m0) & (((codes >> 1) & 1) == m1)
            out[m1, m0] = sum(w * probs[br * 16 + _cfg(a_basis, a, b_basis, b)][sel].sum()
                              for br, w in enumerate(weights))
    return out


def _probs(protocol, ch_a=Channel(), ch_b=Channel(), eve=None):
    return DIST.compile(protocol.build_circuits(eavesdropper=eve),
                        protocol.noise_model((ch_a, ch_b), eavesdropper=eve)).probabilities


def _cfg(a_basis, a_bit, b_basis, b_bit):
    return a_basis * 8 + a_bit * 4 + b_basis * 2 + b_bit


@pytest.mark.parametrize("bsm", ["full", "linear"])
def test_invariant21_noiseless_flip_rule_gives_equal_keys_exactly(bsm):
    """Invariant 21 [EXACT]: noiseless relay + A5 flip rule: Bob's bit == Alice's, both bases, every outcome."""
    probs = _probs(MDIQKD(bsm=bsm))
    for basis in (0, 1):
        for a in (0, 1):
            for b in (0, 1):
                p = probs[_cfg(basis, a, basis, b)]
                for code in np.flatnonzero(p > 1e-12):
                    m0, m1 = code & 1, (code >> 1) & 1
                    if bsm == "linear" and m1 == 0:
                        continue  # Phi states are failures for linear optics
                    assert b ^ (m1 if basis == 0 else m0) == a
    record = MDIQKD(bsm=bsm).sample(Channel(), rounds=4000, seed=3)
    assert_keys_equal(*record.sifted_keys())


def test_invariant21_linear_optics_success_is_one_half_and_z_needs_different_bits():
    """Invariant 21 [EXACT]: linear-optics success (m1 = 1) has probability exactly 1/2 over the
    inputs; in Z it happens iff a != b."""
    probs = _probs(MDIQKD(bsm="linear"))
    codes = np.arange(probs.shape[1])
    success = probs[:, ((codes >> 1) & 1) == 1].sum(axis=1)
    assert success.mean() == pytest.approx(0.5, abs=1e-12)
    for a in (0, 1):
        for b in (0, 1):
            assert success[_cfg(0, a, 0, b)] == pytest.approx(float(a != b), abs=1e-12)


@pytest.mark.parametrize("p_a,p_b", [(0.0, 0.0), (0.2, 0.1), (0.5, 0.3)])
def test_invariant22_relay_learns_only_the_parity(p_a, p_b):
    """Invariant 22 [EXACT]: P(m | a) does not depend on a (nor P(m | b) on b), and P(m | a, b)
    depends only on a xor b, for every basis pair."""
    probs = _probs(MDIQKD(), Channel(depolarisation=p_a), Channel(depolarisation=p_b))
    for ab in (0, 1):
        for bb in (0, 1):
            p = {(a, b): probs[_cfg(ab, a, bb, b)] for a in (0, 1) for b in (0, 1)}
            np.testing.assert_allclose(p[0, 0] + p[0, 1], p[1, 0] + p[1, 1], atol=1e-9)
            np.testing.assert_allclose(p[0, 0] + p[1, 0], p[0, 1] + p[1, 1], atol=1e-9)
            if ab == bb:
                np.testing.assert_allclose(p[0, 0], p[1, 1], atol=1e-9)
                np.testing.assert_allclose(p[0, 1], p[1, 0], atol=1e-9)


@pytest.mark.parametrize("bsm", ["full", "linear"])
def test_invariant23_depolarising_inputs_qber(bsm):
    """Invariant 23 [STAT]: E_Z = E_X = [1 - (1-p_A)(1-p_B)]/2, with loss and noise clicks."""
    chans = (Channel(depolarisation=0.1, transmittance=0.5, noise_click=0.01), Channel(depolarisation=0.2))
    mdi = MDIQKD(bsm=bsm)
    result = mdi.run(chans, rounds=120_000, seed=11)
    exp = mdi.expected(chans)
    t = result.tallies
    assert_proportion(t["errors_z"], t["sifted_z"], exp["qber_z"], what="E_Z")
    assert_proportion(t["errors_x"], t["sifted_x"], exp["qber_x"], what="E_X")
    assert_proportion(t["detected"], t["rounds"], exp["detection_rate"], what="coincidences")
    assert_proportion(t["success"], t["detected"], exp["success_rate"], what="BSM success")


def test_invariant23_intercept_resend_on_one_input_gives_quarter():
    """Invariant 23 [STAT]: random-basis intercept-resend on Alice's input: QBER 0.25; Eve agrees 3/4."""
    result = MDIQKD().run(Channel(), rounds=40_000, seed=5, eavesdropper=InterceptResend())
    t = result.tallies
    assert_proportion(t["errors_z"] + t["errors_x"], t["sifted_z"] + t["sifted_x"], 0.25, what="QBER under IR")
    assert_proportion(t["eve_correct"], t["eve_sifted"], 0.75, what="Eve's agreement")


@pytest.mark.parametrize("relay,e_z,e_x", [("random", 0.5, 0.5), ("z-parity", 0.0, 0.5)])
def test_invariant23_dishonest_relay_shows_in_the_error_rate(relay, e_z, e_x):
    """Invariant 23 [STAT]: a relay announcing outcomes of its own choosing raises the QBER
    (z-parity: the X basis exposes it; random announcements: both bases)."""
    result = MDIQKD(relay=relay).run(Channel(), rounds=20_000, seed=9)
    t = result.tallies
    assert_proportion(t["errors_z"], t["sifted_z"], e_z, what="E_Z")
    assert_proportion(t["errors_x"], t["sifted_x"], e_x, what="E_X")
    assert result.key_rate.best == 0.0


def test_rates_and_relay_announcements_are_exposed():
    record = MDIQKD().sample(Channel(), rounds=1000, seed=1)
    parity = record.alice_bit ^ record.bob_bit
    z = (record.alice_basis == 0) & (record.bob_basis == 0)
    np.testing.assert_array_equal(record.relay_m1[z], parity[z])  # what the relay learns in Z: a xor b
    result = MDIQKD().run(Channel(transmittance=0.5), rounds=20_000, seed=2)
    assert result.key_rate.best == pytest.approx(result.tallies["sifted_z"] / 20_000 + result.tallies["sifted_x"]
                                                 / 20_000)
    assert 0.0 < result.estimates()["key_rate_infinite_decoy_model"] < result.key_rate.best


def test_decoy_rate_formula():
    assert mdi_decoy_key_rate(q11_z=0.1, e11_x=0.0, q_z=0.2, e_z=0.0) == pytest.approx(0.1)
    assert mdi_decoy_key_rate(q11_z=0.1, e11_x=0.3, q_z=0.2, e_z=0.2) == 0.0
    r = [mdi_decoy_key_rate(q11_z=0.01, e11_x=e, q_z=0.02, e_z=0.01) for e in (0.0, 0.02, 0.05)]
    assert r[0] > r[1] > r[2] >= 0


def test_round_trip_merge_and_reproducible():
    mdi = MDIQKD(bsm="linear")
    r = mdi.run(Channel(depolarisation=0.1), rounds=5000, seed=4)
    assert_round_trip(r)
    r2 = mdi.run(Channel(depolarisation=0.1), rounds=5000, seed=5)
    merged = r + r2
    assert merged.tallies["sifted_z"] == r.tallies["sifted_z"] + r2.tallies["sifted_z"]
    assert merged.seeds == (4, 5) and merged.rounds == 10_000
    assert_reproducible(lambda seed: mdi.run(Channel(depolarisation=0.1), rounds=3000, seed=seed))


@pytest.mark.parametrize("kwargs,name", [({"bsm": "half"}, "bsm"), ({"relay": "evil"}, "relay"),
                                         ({"p_z": 1.0}, "p_z"), ({"mu": 0.0}, "mu"), ({"f_ec": 0.5}, "f_ec")])
def test_bad_parameters_name_the_parameter(kwargs, name):
    with pytest.raises(InvalidParameter) as err:
        MDIQKD(**kwargs)
    assert err.value.name == name


def test_mismatched_channel_count_is_rejected():
    with pytest.raises(InvalidParameter) as err:
        MDIQKD().run([Channel()] * 3, rounds=10)
    assert err.value.name == "channel"


@pytest.mark.parametrize("bsm", ["full", "linear"])
@pytest.mark.parametrize("eve", [None, BIASED_IR], ids=["no-eve", "biased-ir"])
def test_invariant23_per_leg_rotated_qber_exact_against_reference(bsm, eve):
    """Invariant 23 [EXACT], generalised: asymmetric, rotated legs (E_X != E_Z on each) and a
    basis-biased intercept-resend on Alice's photon. The compiled distributions' E_Z and E_X and
    ``expected()`` both equal the density-matrix reference.

    catches: the legs' noise swapped or put on one photon, a rotation dropped, Eve on Bob's photon or
    her basis bias inverted, a wrong flip rule (m0 <-> m1), linear optics counting Phi states,
    an expected() that uses p_eff alone (ignores rotations) or forgets the YY term of linear optics."""
    mdi = MDIQKD(bsm=bsm)
    probs = _probs(mdi, LEG_A, LEG_B, eve)
    exp = mdi.expected((LEG_A, LEG_B), eavesdropper=eve)
    for basis, key in ((0, "qber_z"), (1, "qber_x")):
        ref = _ref_qber(basis, bsm == "linear", eve=eve)
        err = tot = 0.0
        for a in (0, 1):
            for b in (0, 1):
                for (m1, m0), p in _exact_relay(probs, basis, a, basis, b, eve).items():
                    if bsm == "linear" and m1 == 0:
                        continue
                    tot += p
                    err += p * ((b ^ (m1 if basis == 0 else m0)) != a)
        assert err / tot == pytest.approx(ref, abs=1e-9), key
        assert exp[key] == pytest.approx(ref, abs=1e-9), key
    assert _ref_qber(0, False, eve=eve) != pytest.approx(_ref_qber(1, False, eve=eve), abs=0.01)  # E_Z != E_X


@pytest.mark.parametrize("eve", [None, BIASED_IR], ids=["no-eve", "biased-ir"])
def test_invariant22_relay_announcement_exact_with_rotated_asymmetric_legs(eve):
    """Invariant 22 [EXACT]: for every basis pair, P(m | a) = P(m | b) = 1/4 exactly (the other
    input uniform), P(m | a, b) depends only on a xor b, and equals the reference Bell projection.

    catches: a relay whose announcement leaks a (e.g. m0 read off Alice's qubit alone), a
    constant input bit, a BSM circuit with a different basis change."""
    probs = _probs(MDIQKD(), LEG_A, LEG_B, eve)
    for ab in (0, 1):
        for bb in (0, 1):
            p = {(a, b): _exact_relay(probs, ab, a, bb, b, eve) for a in (0, 1) for b in (0, 1)}
            for m in BELL_OF:
                for x in (0, 1):
                    assert (p[x, 0][m] + p[x, 1][m]) / 2 == pytest.approx(0.25, abs=1e-12)
                    assert (p[0, x][m] + p[1, x][m]) / 2 == pytest.approx(0.25, abs=1e-12)
                assert p[0, 0][m] == pytest.approx(p[1, 1][m], abs=1e-12)
                assert p[0, 1][m] == pytest.approx(p[1, 0][m], abs=1e-12)
                for a in (0, 1):
                    for b in (0, 1):
                        assert p[a, b][m] == pytest.approx(_ref_relay(ab, a, bb, b, eve=eve)[m], abs=1e-9)


@pytest.mark.parametrize("bsm", ["full", "linear"])
def test_sampled_run_matches_expected_with_biased_bases_attack_and_asymmetric_legs(bsm):
    """Invariants 21-23 [STAT]: a biased-basis run (p_Z = 0.7, f_EC = 1.3) over asymmetric rotated
    legs with a biased intercept-resend: coincidences, BSM success, E_Z, E_X and Eve's agreement
    all within 5 sigma + 1/N of expected(), which itself equals the reference (test above).

    catches: detection using one leg's click probability twice, success not exactly 1/2 for linear
    optics, Eve's agreement computed with the wrong basis weights (p_Z vs 1 - p_Z)."""
    mdi = MDIQKD(bsm=bsm, p_z=0.7, f_ec=1.3)
    result = mdi.run((LEG_A, LEG_B), rounds=60_000, seed=21, eavesdropper=BIASED_IR)
    exp = mdi.expected((LEG_A, LEG_B), eavesdropper=BIASED_IR)
    assert exp["detection_rate"] == pytest.approx(
        (0.6 + 0.4 * 0.02) * 0.8)  # P_A P_B = (eta_A + (1 - eta_A) Y0_A) eta_B
    p_match = (0.49 * 0.8 + 0.09 * 0.2) / 0.58
    assert exp["eve_agreement"] == pytest.approx(p_match + (1 - p_match) / 2)
    assert_matches_expected(result, exp, keys=["detection_rate", "success_rate", "qber_z", "qber_x",
                                               "eve_agreement"])


def _h(p):
    return 0.0 if p <= 0 or p >= 1 else -p * math.log2(p) - (1 - p) * math.log2(1 - p)


def test_lcq_rate_hand_vectors():
    """A5 [FORMULA]: R = Q11_Z [1 - h(e11_X)] - Q_Z f_EC h(E_Z), with e11_X != E_Z and f_EC != 1,
    against numbers worked out by hand (h(0.03) = 0.194392, h(0.01) = 0.080793).

    catches: swapped error arguments, f_EC applied to the wrong term or dropped, no clipping at 0."""
    assert mdi_decoy_key_rate(q11_z=0.02, e11_x=0.03, q_z=0.05, e_z=0.01, f_ec=1.2) == pytest.approx(
        0.02 * (1 - 0.1943919) - 0.05 * 1.2 * 0.0807931, rel=1e-5)  # = 0.0112646
    assert mdi_decoy_key_rate(q11_z=0.02, e11_x=0.01, q_z=0.05, e_z=0.03, f_ec=1.2) == pytest.approx(
        0.02 * (1 - 0.0807931) - 0.05 * 1.2 * 0.1943919, rel=1e-5)  # = 0.0067206
    assert mdi_decoy_key_rate(q11_z=0.01, e11_x=0.05, q_z=0.04, e_z=0.05, f_ec=1.0) == 0.0


def test_infinite_decoy_model_rate_hand_computed_from_tallies():
    """The modelled WCP rate (key_rate_infinite_decoy_model) recomputed by hand from the run's
    tallies with mu != sigma, eta_A != eta_B, Y0 > 0, p_Z = 0.6, f_EC = 1.3 and a rotated leg (E_X != E_Z):
    R = p_Z^2 [mu sigma e^(-mu-sigma) Y11 (1 - h(E_X)) - Q_A Q_B s f_EC h(E_Z)],
    Y11 = share sifted_Z / (rounds p_Z^2) with share = eta_A eta_B / (P_click,A P_click,B) the coincidences
    in which both photons arrived, Q_A = 1 - (1 - Y0_A) e^(-mu eta_A), Q_B likewise with sigma.

    catches: the Poisson weight mu sigma e^(-mu-sigma) dropped or mu <-> sigma swapped, E_X and E_Z
    swapped, the p_Z^2 basis factor missing, noise clicks left out of the gain."""
    ch_a = Channel(transmittance=0.5, noise_click=1e-3, depolarisation=0.01)
    ch_b = Channel(transmittance=0.9, depolarisation=0.02, rotation_rad=0.3)
    mu, sigma, pz, f_ec = 0.4, 0.25, 0.6, 1.3
    result = MDIQKD(mu=mu, sigma=sigma, p_z=pz, f_ec=f_ec).run((ch_a, ch_b), rounds=40_000, seed=17)
    t = result.tallies
    e_z, e_x = t["errors_z"] / t["sifted_z"], t["errors_x"] / t["sifted_x"]
    assert e_x > e_z + 0.01
    share = (0.5 * 0.9) / ((0.5 + 0.5 * 1e-3) * 0.9)  # noise-only coincidences are not single-photon yield
    y11 = share * t["sifted_z"] / (t["rounds"] * pz * pz)
    q11 = mu * sigma * math.exp(-mu - sigma) * y11
    q_z = (1 - (1 - 1e-3) * math.exp(-mu * 0.5)) * (1 - math.exp(-sigma * 0.9)) * t["sifted_z"] / t["matched_z"]
    by_hand = pz * pz * max(0.0, q11 * (1 - _h(e_x)) - q_z * f_ec * _h(e_z))
    assert by_hand > 0
    assert result.estimates()["key_rate_infinite_decoy_model"] == pytest.approx(by_hand, rel=1e-12)


@pytest.mark.parametrize("eta_a, eta_b", [(0.0, 0.0), (0.0, 0.9), (0.7, 0.0)])
def test_infinite_decoy_model_rate_is_zero_without_transmission(eta_a, eta_b):
    """Issue 10: at transmittance 0 (PLOB = 0) every coincidence is a noise-only click, which is no
    single-photon yield, so the modelled decoy rate is exactly 0 (it was up to 6.7e-7).

    catches: noise-only coincidences counted in Y11."""
    chans = (Channel(transmittance=eta_a, noise_click=0.05), Channel(transmittance=eta_b, noise_click=0.05))
    result = MDIQKD().run(chans, rounds=200_000, seed=1)
    assert result.tallies["sifted_z"] > 0  # there are (noise) coincidences
    est = result.estimates()
    assert est["plob_product_eta"] == 0.0
    assert est["key_rate_infinite_decoy_model"] == 0.0
    assert est["key_rate"].best == 0.0 and est["key_rate"].high == 0.0


def test_decoy_key_rate_default_range_checks_and_error_rates_above_one_half():
    """``mdi_decoy_key_rate``: f_EC defaults to 1.16; gains and error rates above 1 are refused by
    name; an error rate above 1/2 counts as 1/2 (a bit no better than a coin: h = 1), so
    e11_X = 0.8 leaves no key and E_Z = 0.8 costs the whole Z gain (kills the default 2.16, the
    upper bounds 2 and the 1/2 caps raised to 1.5, where h(0.8) < 1 would create key)."""

    assert mdi_decoy_key_rate(q11_z=0.3, e11_x=0.0, q_z=0.1, e_z=0.1) == pytest.approx(0.3 - 0.1 * 1.16 * h2(0.1), abs=1e-15)
    for name in ("q11_z", "q_z", "e11_x", "e_z"):
        kw = dict(q11_z=0.3, e11_x=0.0, q_z=0.1, e_z=0.1)
        kw[name] = 1.5
        with pytest.raises(InvalidParameter) as info:
            mdi_decoy_key_rate(**kw)
        assert info.value.name == name
    assert mdi_decoy_key_rate(q11_z=0.5, e11_x=0.8, q_z=0.01, e_z=0.0) == 0.0
    assert mdi_decoy_key_rate(q11_z=0.5, e11_x=0.0, q_z=0.1, e_z=0.8, f_ec=1.0) == pytest.approx(0.4, abs=1e-15)


def test_expected_key_rate_with_a_linear_bsm_and_inefficient_error_correction():
    """Closed-form key rate with a linear-optics BSM (half the Bell states: success 1/2) and
    f_EC = 1.4, p_Z = 0.7, asymmetric arms (Alice's rotated about Z, so E_X != E_Z): det * 1/2 * [p_Z^2 (1 - h(E_X) - f h(E_Z)) + p_X^2 (1 -
    h(E_Z) - f h(E_X))], each term clipped at 0, written out from the closed-form error rates
    (kills det / s, and f_EC dropped in either term). With an intercept-resend eavesdropper of
    fraction 0 there is no ``eve_agreement`` (kills ``f > 0 -> f >= 0``)."""
    chans = (Channel(transmittance=0.6, depolarisation=0.02, rotation_rad=0.3, rotation_axis=(0, 0, 1)),
             Channel(transmittance=0.3, depolarisation=0.03))
    proto = MDIQKD(bsm="linear", f_ec=1.4, p_z=0.7)
    e = proto.expected(chans)
    ex, ez = e["qber_x"], e["qber_z"]
    assert ex != pytest.approx(ez)
    det = chans[0].detection_probability * chans[1].detection_probability
    want = det * 0.5 * (0.49 * max(0.0, 1 - h2(ex) - 1.4 * h2(ez)) + 0.09 * max(0.0, 1 - h2(ez) - 1.4 * h2(ex)))
    assert want > 0
    assert e["key_rate"] == pytest.approx(want, rel=1e-12)
    none = proto.expected(chans, eavesdropper=InterceptResend(fraction=0.0))
    assert "eve_agreement" not in none and none == e


def test_parameters_rebuild_the_protocol_and_name_it():
    """``parameters()`` gives the constructor's keywords, so a protocol rebuilt from them has the
    same settings, and ``repr`` names them (kills the bsm and relay keys renamed)."""
    p = MDIQKD(bsm="linear", relay="z-parity", p_z=0.7, f_ec=1.3, mu=0.4, sigma=0.2)
    again = MDIQKD(**p.parameters())
    assert again.parameters() == p.parameters()
    assert (again.bsm, again.relay) == ("linear", "z-parity")
    assert repr(p) == "MDIQKD(bsm='linear', relay='z-parity', p_z=0.7, f_ec=1.3, mu=0.4, sigma=0.2)"


@pytest.mark.parametrize("chans", [(Channel(), Channel()), (Channel(transmittance=0.5), Channel(transmittance=0.4))],
                         ids=["all-heralded", "lossy"])
def test_chunks_pass_their_aer_seed_to_the_shots_engine(chans):
    """On the shots path Aer draws the relay's outcomes, seeded per chunk: the same generator
    state with another Aer seed gives other outcomes (kills the chunk's ``aer_seed`` not passed
    to the engine, which would give every chunk Aer seed 0), in both branches (every round
    heralded, and only the heralded rounds sampled). Depolarised arms make the outcomes random."""
    noisy = tuple(Channel(transmittance=c.transmittance, depolarisation=0.3) for c in chans)
    proto = MDIQKD()
    channels, eve, compiled = proto.prepare(noisy, engine=Engine(mode="shots"))
    assert compiled.mode == "shots"

    def chunk(aer_seed):
        rounds = proto.sample_chunk(compiled, channels, 3000, np.random.default_rng(9), eavesdropper=eve,
                                    form="fast", aer_seed=aer_seed)
        return proto.analyse(rounds)

    assert chunk(5) == chunk(5)
    assert chunk(5) != chunk(6)


def test_sifted_bits_count_both_bases():
    """On ideal arms with a full BSM every round is heralded, so the sifted bits are the rounds
    whose bases match: a fraction p_Z^2 + p_X^2 = 0.68 at p_Z = 0.8 (kills Z minus X, 0.60)."""
    r = MDIQKD(p_z=0.8).run((Channel(), Channel()), rounds=8000, seed=4)
    assert_proportion(int(r.estimates()["sifted_bits"]), 8000, 0.68, what="sifted fraction")
