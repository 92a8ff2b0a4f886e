"""MDI-QKD invariants (PHYSICS.md section B: 21-23) and the A5 rates."""

import numpy as np
import pytest

from qproto import Channel, Engine, InterceptResend
from qproto._errors import InvalidParameter
from qproto.protocols import MDIQKD
from qproto.protocols._mdi_qkd import mdi_decoy_key_rate
from qproto.testing import assert_keys_equal, assert_proportion, assert_reproducible, assert_round_trip

DIST = Engine(mode="distribution")


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
    assert 0.0 < result.estimates()["decoy_key_rate"] < result.key_rate.best


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
