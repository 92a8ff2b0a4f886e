"""BBM92 / CHSH invariants (docs/conventions.md section B: 16-20)."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from qiskit.quantum_info import Operator, SparsePauliOp, random_density_matrix

from qproto import Channel, Engine, InterceptResend
from qproto.protocols import BBM92
from qproto.security import CHSH_ALICE_ANGLES, CHSH_BOB_ANGLES, TSIRELSON_BOUND, chsh_value
from qproto.testing import (
    assert_chsh,
    assert_keys_equal,
    assert_matches_expected,
    assert_proportion,
    bbm92_params,
    noisy_channels,
    probabilities,
    seeds,
)

DIST = Engine(mode="distribution")


def _compiled(ch_a, ch_b, eve=None):
    bbm92 = BBM92()
    return DIST.compile(bbm92.build_circuits(eavesdropper=eve),
                        bbm92.noise_model((ch_a, ch_b), eavesdropper=eve)).probabilities


def _exact_correlators(probs, branch_weights=((0, 1.0),)):
    """E_xy for the CHSH settings from exact outcome probabilities (clbits: 0 Alice, 1 Bob)."""
    e = np.zeros((2, 2))
    for branch, w in branch_weights:
        for x in range(2):
            for y in range(2):
                p = probs[(branch * 2 + x) * 4 + 2 + y]
                # codes with a == b: 0 (00), 3 (11) plus any eve bit above them
                agree = sum(p[c] for c in range(p.size) if (c & 1) == ((c >> 1) & 1))
                e[x, y] += w * (2 * agree - 1)
    return e


@given(seed=seeds(), params=bbm92_params())
def test_invariant16_noiseless_keys_equal(seed, params):
    """Invariant 16 [EXACT]: noiseless, keys equal every run."""
    record = BBM92(**params).sample(Channel(), rounds=2000, seed=seed)
    alice, bob = record.sifted_keys()
    assert_keys_equal(alice, bob)


@given(p_a=probabilities(max_value=4 / 3), p_b=probabilities(max_value=4 / 3))
def test_invariant16_raw_bit_marginals_are_exactly_uniform(p_a, p_b):
    """Invariant 16 [EXACT]: each party's raw bit is uniform, also under any local depolarising."""
    probs = _compiled(Channel(depolarisation=p_a), Channel(depolarisation=p_b))
    codes = np.arange(probs.shape[1])
    for row in probs:
        assert row[(codes & 1) == 0].sum() == pytest.approx(0.5, abs=1e-9)
        assert row[((codes >> 1) & 1) == 0].sum() == pytest.approx(0.5, abs=1e-9)


@given(p_a=probabilities(max_value=1.0), p_b=probabilities(max_value=1.0), seed=seeds())
@settings(max_examples=10)
def test_invariant17_qber_from_local_depolarising(p_a, p_b, seed):
    """Invariant 17 [STAT]: QBER -> [1 - (1-p_A)(1-p_B)]/2 in both bases."""
    r = BBM92().run((Channel(depolarisation=p_a), Channel(depolarisation=p_b)), rounds=20_000, seed=seed)
    e = (1 - (1 - p_a) * (1 - p_b)) / 2
    assert_proportion(r.counts.errors_z, r.counts.sifted_z, e, what="QBER Z")
    assert_proportion(r.counts.errors_x, r.counts.sifted_x, e, what="QBER X")


@given(p_a=probabilities(max_value=1.0), p_b=probabilities(max_value=1.0))
def test_invariant18_chsh_of_werner_state_is_2sqrt2_v_exactly(p_a, p_b):
    """Invariant 18 [EXACT]: S = 2 sqrt(2) V for the Werner state of local depolarising arms."""
    e = _exact_correlators(_compiled(Channel(depolarisation=p_a), Channel(depolarisation=p_b)))
    v = (1 - p_a) * (1 - p_b)
    assert chsh_value(e) == pytest.approx(TSIRELSON_BOUND * v, abs=1e-9)


@pytest.mark.parametrize("seed", range(20))
def test_invariant18_tsirelson_bound_holds_for_any_two_qubit_state(seed):
    """Invariant 18 [EXACT]: |S| <= 2 sqrt(2) for random two-qubit states, A4 settings."""
    rho = random_density_matrix(4, seed=seed)

    def obs(theta):
        return math.cos(theta) * SparsePauliOp("Z") + math.sin(theta) * SparsePauliOp("X")

    e = [[float(np.real(rho.expectation_value(Operator(obs(b).to_matrix()).tensor(Operator(obs(a).to_matrix())))))
          for b in CHSH_BOB_ANGLES] for a in CHSH_ALICE_ANGLES]
    assert abs(chsh_value(e)) <= TSIRELSON_BOUND + 1e-12


@given(p_a=probabilities(max_value=0.6), p_b=probabilities(max_value=0.6), seed=seeds())
@settings(max_examples=10)
def test_invariant19_sampled_chsh_within_5_sigma_and_violation_iff_v_above_threshold(p_a, p_b, seed):
    """Invariant 19 [STAT]: S_hat within 5 sigma of 2 sqrt(2) V; S > 2 iff V > 1/sqrt(2)."""
    r = BBM92(chsh_fraction=0.5).run((Channel(depolarisation=p_a), Channel(depolarisation=p_b)),
                                     rounds=40_000, seed=seed)
    v = (1 - p_a) * (1 - p_b)
    assert_chsh(r, TSIRELSON_BOUND * v)
    s, sigma = r.chsh.best, r.chsh_sigma
    if s - 5 * sigma > 2:
        assert v > 1 / math.sqrt(2)
    if s + 5 * sigma < 2:
        assert v < 1 / math.sqrt(2)


def test_invariant19_clear_violation_and_clear_non_violation():
    strong = BBM92(chsh_fraction=0.5).run(Channel(depolarisation=0.05), rounds=100_000, seed=1)
    assert strong.chsh.best - 5 * strong.chsh_sigma > 2
    weak = BBM92(chsh_fraction=0.5).run(Channel(depolarisation=0.3), rounds=100_000, seed=1)
    assert weak.chsh.best + 5 * weak.chsh_sigma < 2  # V = 0.49 < 1/sqrt(2)


def test_invariant20_full_intercept_resend_on_one_arm_gives_sqrt2_exactly():
    """Invariant 20 [EXACT]: random-basis intercept-resend on Bob's arm: S = sqrt(2)."""
    probs = _compiled(Channel(), Channel(), eve=InterceptResend(fraction=1.0))
    e = _exact_correlators(probs, branch_weights=((1, 0.5), (2, 0.5)))
    assert chsh_value(e) == pytest.approx(math.sqrt(2), abs=1e-9)
    r = BBM92(chsh_fraction=0.5).run(Channel(), rounds=40_000, seed=2, eavesdropper="intercept-resend")
    assert_chsh(r, math.sqrt(2))
    assert_proportion(r.counts.errors_z + r.counts.errors_x, r.sifted_bits, 0.25)


@given(params=bbm92_params(), ch_a=noisy_channels(), ch_b=noisy_channels(), seed=seeds())
@settings(max_examples=8)
def test_loss_and_noise_clicks_match_the_coincidence_model(params, ch_a, ch_b, seed):
    """docs/conventions.md A3: P_coinc = prod(eta + (1-eta) Y0); E = (1 - w V)/2 with w the genuine fraction."""
    bbm92 = BBM92(**params)
    r = bbm92.run((ch_a, ch_b), rounds=30_000, seed=seed)
    assert_matches_expected(r, bbm92.expected((ch_a, ch_b)))


def test_channels_must_match_the_number_of_arms():
    from qproto import InvalidParameter, InvalidType
    with pytest.raises(InvalidParameter, match="2 channel"):
        BBM92().run((Channel(),), rounds=10)
    with pytest.raises(InvalidType, match=r"channel\[1\]"):
        BBM92().run((Channel(), 0.5), rounds=10)


@given(f=probabilities(min_value=0.2), ch_a=noisy_channels(), seed=seeds())
@settings(max_examples=6)
def test_eavesdropper_on_bobs_arm_matches_closed_forms(f, ch_a, seed):
    """Intercept-resend on Bob's arm: QBER, CHSH and Eve's agreement with Alice as derived."""
    bbm92 = BBM92(chsh_fraction=0.3)
    eve = InterceptResend(fraction=f)
    r = bbm92.run((ch_a, Channel()), rounds=40_000, seed=seed, eavesdropper=eve)
    assert_matches_expected(r, bbm92.expected((ch_a, Channel()), eavesdropper=eve))


def test_eve_agreement_is_only_stated_when_eve_attacks_some_rounds():
    """With an intercept-resend eavesdropper of fraction 0 no round is attacked: no
    ``eve_agreement`` entry, and the rest is the no-eavesdropper closed form. With fraction 0.3,
    her basis bias p_E = 0.8, p_Z = 0.7 and Alice's arm depolarised (d_A = 0.9, Bob's 0.8):
    P(Eve = Alice) = 1/2 + d_A [w_Z p_E + (1 - w_Z)(1 - p_E)] / 2 with w_Z = 0.49/0.58 (kills the
    condition ``eavesdropper is not None and f > 0`` turned into ``or`` or ``f >= 0``)."""
    chans = (Channel(depolarisation=0.1), Channel(depolarisation=0.2))
    proto = BBM92(p_z=0.7)
    none = proto.expected(chans, eavesdropper=InterceptResend(fraction=0.0, p_z=0.8))
    assert "eve_agreement" not in none
    assert none == proto.expected(chans)
    some = proto.expected(chans, eavesdropper=InterceptResend(fraction=0.3, p_z=0.8))
    w_z = 0.49 / 0.58
    assert math.isclose(some["eve_agreement"], 0.5 + 0.9 * (w_z * 0.8 + (1 - w_z) * 0.2) / 2, rel_tol=1e-12)


def test_chsh_test_rounds_draw_alices_setting_uniformly_whatever_the_key_basis_bias():
    """In a CHSH test round (Bob's setting 2 or 3) Alice's setting is uniform on {0, 1}, not her
    key-basis choice: with p_Z = 0.9 the key basis would give setting 1 only 10 % of the time
    (kills the test-round override of Alice's setting dropped). Bob's key settings stay biased."""
    from qproto.testing import assert_proportion

    d = BBM92(p_z=0.9, chsh_fraction=0.5).draw(np.random.default_rng(3), 20_000)
    test = d["bob_setting"] >= 2
    assert_proportion(int(test.sum()), test.size, 0.5, what="test rounds")
    assert_proportion(int((d["alice_setting"][test] == 1).sum()), int(test.sum()), 0.5, what="Alice X | test")
    assert_proportion(int((d["bob_setting"][~test] == 1).sum()), int((~test).sum()), 0.1, what="Bob X | key")
