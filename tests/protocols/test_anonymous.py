"""Anonymous transmission, quantum anonymous bit and Broadbent-Tapp (PHYSICS.md A9, invariants 36-39)."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from qproto import Channel, Engine, InvalidParameter, get_protocol
from qproto.protocols._anonymous import PAIR_TESTS, anonymous_pair_fidelity, coalition_view_distribution
from qproto.testing import assert_proportion, assert_round_trip, seeds


def _probs(proto, channel=Channel()):
    return Engine().compile(proto.build_circuits(), proto.noise_model((channel,) * proto.parties)).probabilities


def _bits(n_codes, n):
    return (np.arange(n_codes)[:, None] >> np.arange(n)) & 1


@pytest.mark.parametrize("n", [3, 4])
def test_36_pair_is_phi_plus_for_every_pattern_and_pair(n):
    for s, r in itertools.permutations(range(n), 2):
        proto = get_protocol("anonymous-transmission", parties=n, sender=s, receiver=r)
        probs = _probs(proto)
        bits = _bits(probs.shape[1], n)
        for cfg, row in enumerate(probs):
            test = cfg % len(PAIR_TESTS)
            want_equal = PAIR_TESTS[test] != "YY"
            wrong = (bits[:, s] == bits[:, r]) != want_equal
            assert row[wrong].sum() == pytest.approx(0.0, abs=1e-9)  # every broadcast pattern


@pytest.mark.parametrize("n", [3, 4, 5])
def test_37_broadcasts_uniform_for_every_sender_receiver(n):
    for s, r in itertools.permutations(range(n), 2):
        proto = get_protocol("anonymous-transmission", parties=n, sender=s, receiver=r)
        probs = _probs(proto)
        bits = _bits(probs.shape[1], n)
        others = [j for j in range(n) if j not in (s, r)]
        code = (bits[:, others] << np.arange(len(others))).sum(axis=1)
        for row in probs:
            marg = np.bincount(code, weights=row, minlength=2 ** len(others))
            np.testing.assert_allclose(marg, 1 / 2 ** len(others), atol=1e-9)
        # r_S and r_R are uniform and independent of these, so all N broadcasts are uniform on {0,1}^N.


def test_36_sampled_noiseless_fidelity_one_both_modes():
    for mode, key in (("entanglement", "pair_fidelity"), ("qubit", "teleport_fidelity")):
        r = get_protocol("anonymous-transmission", parties=5, sender=3, receiver=1, mode=mode).run(
            Channel(), rounds=5000, seed=2)
        assert r.estimates()[key].best == 1.0
        assert_round_trip(r)


@settings(max_examples=5)
@given(n=st.integers(3, 5), p=st.floats(0.0, 0.3), seed=seeds(), data=st.data())
def test_noisy_pair_and_teleport_fidelity_match_formula(n, p, seed, data):
    s, r = data.draw(st.permutations(range(n)))[:2]
    chans = [Channel(depolarisation=p * (j + 1) / n, transmittance=0.8) for j in range(n)]
    for mode, key in (("entanglement", "pair_fidelity"), ("qubit", "teleport_fidelity")):
        proto = get_protocol("anonymous-transmission", parties=n, sender=s, receiver=r, mode=mode)
        res = proto.run(chans, rounds=20_000, seed=seed)
        x = proto.expected(chans)
        if mode == "entanglement":
            # each correlator E_b = sign_b (2F-1+... ) -> check per test basis
            f = x[key]
            v_all = np.prod([1 - c.qubit_depolarisation for c in chans])
            v_sr = (1 - chans[s].qubit_depolarisation) * (1 - chans[r].qubit_depolarisation)
            p_agree = [(1 + v_all) / 2, (1 + v_all) / 2, (1 + v_sr) / 2]  # XX; YY (disagree); ZZ
            assert (1 + 2 * v_all + v_sr) / 4 == pytest.approx(f)
            for k, (a, t) in enumerate(zip(res.counts["agree"], res.counts["tests"])):
                pa = p_agree[k] if PAIR_TESTS[k] != "YY" else 1 - p_agree[k]
                assert_proportion(a, t, pa, what=f"agreement {PAIR_TESTS[k]}")
        else:
            assert_proportion(sum(res.counts["success"]), sum(res.counts["states"]), x[key], what=key)
        assert_proportion(res.c("detected"), res.rounds, x["detection_rate"], what="P_all")


def test_pair_fidelity_formula_ends():
    assert anonymous_pair_fidelity([0, 0, 0], 0, 1) == 1.0
    assert anonymous_pair_fidelity([1, 1, 1], 0, 1) == 0.25


@pytest.mark.parametrize("n", [3, 4, 6])
def test_38_quantum_anonymous_bit_exact(n):
    dists = []
    for s in range(n):
        probs = _probs(get_protocol("anonymous-bit", parties=n, sender=s))
        parity = _bits(probs.shape[1], n).sum(axis=1) % 2
        for d in (0, 1):
            assert probs[d][parity != d].sum() == pytest.approx(0.0, abs=1e-9)
        dists.append(probs)
    for other in dists[1:]:
        np.testing.assert_allclose(other, dists[0], atol=1e-9)


def test_38_sampled_parity_equals_message():
    rec = get_protocol("anonymous-bit", parties=20, sender=7).sample(Channel(), rounds=2000, seed=1)
    assert np.array_equal(rec.output, rec.message)


def test_anonymous_bit_noise_formula():
    chans = [Channel(depolarisation=0.05 * j) for j in range(4)]
    proto = get_protocol("anonymous-bit", parties=4, sender=2)
    r = proto.run(chans, rounds=20_000, seed=3)
    assert_proportion(r.c("errors"), r.c("detected"), proto.expected(chans)["error_rate"], what="bit error")


def test_39_broadbent_tapp_parity_and_coalition_views():
    rec = get_protocol("broadbent-tapp", parties=5, sender=2).sample(Channel(), rounds=20_000, seed=1)
    assert np.array_equal(rec.output, np.bitwise_xor.reduce(rec.inputs, axis=1))
    for n in (3, 4):
        for size in range(1, n - 1):
            for coalition in itertools.combinations(range(n), size):
                honest = [i for i in range(n) if i not in coalition]
                for m in (0, 1):
                    views = [coalition_view_distribution(n, s, coalition, m) for s in honest]
                    assert all(v == views[0] for v in views[1:]), (n, coalition, m)


def test_39_coalition_distribution_detects_the_sender_when_it_is_in_the_coalition():
    a = coalition_view_distribution(3, 0, [0], 1)
    b = coalition_view_distribution(3, 1, [0], 1)
    assert a != b


@pytest.mark.parametrize("name, kwargs, param", [
    ("anonymous-transmission", {"parties": 4, "sender": 4}, "sender"),
    ("anonymous-transmission", {"parties": 4, "sender": -1}, "sender"),
    ("anonymous-transmission", {"parties": 4, "receiver": 0, "sender": 0}, "receiver"),
    ("anonymous-transmission", {"parties": 2}, "parties"),
    ("anonymous-transmission", {"mode": "teleport"}, "mode"),
    ("anonymous-bit", {"parties": 3, "sender": 3}, "sender"),
    ("anonymous-bit", {"parties": 2}, "parties"),
    ("broadbent-tapp", {"parties": 1}, "parties"),
    ("broadbent-tapp", {"parties": 3, "sender": 5}, "sender"),
])
def test_bad_inputs_name_the_parameter(name, kwargs, param):
    with pytest.raises(InvalidParameter) as info:
        get_protocol(name, **kwargs)
    assert info.value.name == param and param in str(info.value)
