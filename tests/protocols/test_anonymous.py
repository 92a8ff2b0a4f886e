"""Anonymous transmission, quantum anonymous bit and Broadbent-Tapp (docs/conventions.md A9, invariants 36-39)."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy import stats

from qproto import Channel, Engine, InvalidParameter, get_protocol
from qproto.protocols._anonymous import PAIR_TESTS, anonymous_pair_fidelity, coalition_view_distribution
from qproto.testing import assert_matches_expected, assert_proportion, assert_round_trip, seeds


def _probs(proto, channel=Channel()):
    channels = tuple(channel) if isinstance(channel, (list, tuple)) else (channel,) * proto.parties
    return Engine().compile(proto.build_circuits(), proto.noise_model(channels)).probabilities


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


#: Four all-different parties for the noisy exact checks: depolarisation, misalignment, loss and
#: noise clicks all differ (p_eff = 0.1, ~0.2176, ~0.0595, ~0.3392).
NOISY4 = (Channel(depolarisation=0.1), Channel(depolarisation=0.2, transmittance=0.5, noise_click=0.02),
          Channel(depolarisation=0.05, misalignment=0.005), Channel(depolarisation=0.3, transmittance=0.8,
                                                                    noise_click=0.01))


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


def test_37_broadcasts_uniform_exactly_with_asymmetric_noise():
    """Invariant 37 with every party's channel different (noise clicks included): the others' X
    outcomes are exactly uniform for every (S, R) and every configuration (any depolarising noise
    keeps the N-2 party marginal of GHZ diagonal in Z).

    catches: a party's correction or basis change leaking into its broadcast, a noise-only click
    handled in a way that biases the broadcast bit."""
    for s, r in itertools.permutations(range(4), 2):
        probs = _probs(get_protocol("anonymous-transmission", parties=4, sender=s, receiver=r), NOISY4)
        bits = _bits(probs.shape[1], 4)
        others = [j for j in range(4) if j not in (s, r)]
        code = (bits[:, others] << np.arange(2)).sum(axis=1)
        for row in probs:
            np.testing.assert_allclose(np.bincount(code, weights=row, minlength=4), 0.25, atol=1e-9)


@pytest.mark.parametrize("sender, receiver", [(0, 3), (2, 1)])
def test_37_sampled_broadcasts_uniform_on_all_n_bits(sender, receiver):
    """The whole broadcast vector of a sampled run (x_j of the others, r_S, r_R) is uniform on
    {0,1}^N (G-test, fail at p < 1e-6), with noisy asymmetric channels.

    catches: r_S or r_R made constant or equal to a measured bit, S or R broadcasting a test outcome."""
    rec = get_protocol("anonymous-transmission", parties=4, sender=sender, receiver=receiver).sample(
        NOISY4, rounds=16_000, seed=5 + sender)
    codes = (rec.broadcasts.astype(np.int64) << np.arange(4)).sum(axis=1)
    counts = np.bincount(codes, minlength=16)
    assert stats.power_divergence(counts, lambda_="log-likelihood").pvalue > 1e-6


def test_a9_pair_fidelity_every_sender_receiver_hand_formula_exact():
    """docs/conventions.md A9 with four all-different parties, every ordered (S, R): the engine's exact
    agreement probabilities are (1 + V)/2 in XX, (1 - V)/2 in YY and (1 + v_S v_R)/2 in ZZ
    (V = prod_j v_j, v_j = 1 - p_eff,j), and expected() gives F = [1 + 2V + v_S v_R]/4 (formula
    written here; docs/conventions.md's noisy-pair fidelity).

    catches: the sender's or receiver's own noise entering like the others' (v_S^2, v_R^2, or a
    third party's v in the ZZ term), a noise-only click that randomises only the broadcast bit
    (then the pair is not dephased), a correction missing for one party."""
    v = [1 - c.effective_depolarisation for c in NOISY4]
    big_v = float(np.prod(v))
    fids = set()
    for s, r in itertools.permutations(range(4), 2):
        proto = get_protocol("anonymous-transmission", parties=4, sender=s, receiver=r)
        probs = _probs(proto, NOISY4)
        bits = _bits(probs.shape[1], 4)
        same = bits[:, s] == bits[:, r]
        want = {"XX": (1 + big_v) / 2, "YY": (1 - big_v) / 2, "ZZ": (1 + v[s] * v[r]) / 2}
        for cfg, row in enumerate(probs):
            test = PAIR_TESTS[cfg % len(PAIR_TESTS)]
            assert row[same].sum() == pytest.approx(want[test], abs=1e-9), (s, r, test)
        f = (1 + 2 * big_v + v[s] * v[r]) / 4
        assert proto.expected(NOISY4)["pair_fidelity"] == pytest.approx(f, abs=1e-12)
        fids.add(round(f, 12))
    assert len(fids) == 6  # every unordered pair {S, R} gives its own fidelity


def test_noise_only_click_of_a_third_party_dephases_the_pair():
    """A party whose clicks are all noise (transmittance 0) broadcasts a random bit, so R's correction
    Z^Q is random and the pair loses its X/Y correlations: P(agree) = 1/2 in XX and YY, 1 in ZZ
    (sampled; F = 1/2). The qubit itself must be the maximally mixed one, not only the broadcast.

    catches: randomising the broadcast bit after the circuit used the qubit's true value for the
    correction (which would keep F = 1)."""
    chans = [Channel(), Channel(), Channel(transmittance=0.0, noise_click=0.5), Channel()]
    proto = get_protocol("anonymous-transmission", parties=4, sender=0, receiver=3)
    r = proto.run(chans, rounds=6000, seed=4)
    for test, a, t in zip(PAIR_TESTS, r.counts["agree"], r.counts["tests"]):
        assert_proportion(a, t, 1.0 if test == "ZZ" else 0.5, what=f"agreement {test}")
    assert proto.expected(chans)["pair_fidelity"] == pytest.approx(0.5)


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
    """Invariant 38 with asymmetric noise, sampled: error [1 - prod_j (1-p_j)]/2 with each party's own
    p_eff (formula written here), the sender noisy too, noise clicks on; the message is uniform.

    catches: the sender's noise left out, the message bit made constant (the error would still
    match, but P(d = 1) would not be 1/2), noise-only clicks not randomising the broadcast."""
    chans = [Channel(depolarisation=0.03 + 0.05 * j, transmittance=0.9 - 0.1 * j, noise_click=0.01) for j in range(4)]
    v = np.prod([1 - c.effective_depolarisation for c in chans])
    proto = get_protocol("anonymous-bit", parties=4, sender=2)
    assert proto.expected(chans)["error_rate"] == pytest.approx((1 - v) / 2, abs=1e-12)
    r = proto.run(chans, rounds=20_000, seed=3)
    assert_matches_expected(r, proto.expected(chans), keys=["error_rate", "detection_rate"])
    rec = proto.sample(chans, rounds=20_000, seed=3)
    assert_proportion(int(rec.message.sum()), len(rec.message), 0.5, what="P(d = 1)")


# ---- Broadbent-Tapp: enumerate every random choice of the library's own sample_chunk ---------------
class _EnumeratedCoins:
    """Stands in for the compiled coin circuit: hands sample_chunk the given share bits."""

    def __init__(self, bits):
        self.bits = np.asarray(bits, dtype=np.uint8).ravel()

    def sample_trusted(self, config_ids, rng, *, aer_seed=0):
        assert len(config_ids) == self.bits.size, "sample_chunk asked for a different number of coins"
        return self.bits


class _GivenMessages:
    """Stands in for the generator: its bytes are the messages (random_bits keeps the low bit)."""

    def __init__(self, messages):
        self.messages = np.asarray(messages, dtype=np.uint8)

    def bytes(self, n):
        assert n == self.messages.size
        return self.messages.tobytes()


def _enumerated_run(n, sender):
    """The library's BroadbentTapp.sample_chunk over all 2^{N(N-1)} share choices, for message 0 and 1."""
    free = n * (n - 1)
    patterns = ((np.arange(1 << free)[:, None] >> np.arange(free)) & 1).astype(np.uint8)
    coins = np.concatenate([patterns, patterns])
    messages = np.repeat(np.array([0, 1], dtype=np.uint8), 1 << free)
    proto = get_protocol("broadbent-tapp", parties=n, sender=sender)
    rec = proto.sample_chunk(_EnumeratedCoins(coins), (Channel(),), 2 << free, _GivenMessages(messages),
                             eavesdropper=None, form="fast", aer_seed=0)
    assert np.array_equal(rec.inputs[:, sender], messages)  # the enumeration drove what we meant
    assert not np.any(np.delete(rec.inputs, sender, axis=1))
    return rec, messages


def _view_distribution(rec, messages, coalition, m):
    """{view row: count} over the enumerated runs with message m."""
    views = rec.view(coalition)[messages == m].astype(np.int64)
    width = views.shape[1]
    codes, counts = np.unique(views @ (np.int64(1) << np.arange(width, dtype=np.int64)), return_counts=True)
    rows = (codes[:, None] >> np.arange(width, dtype=np.int64)) & 1
    return dict(zip(map(tuple, rows.tolist()), counts.tolist()))


@pytest.mark.parametrize("n", [3, 4])
def test_39_broadbent_tapp_enumerated_library_runs(n):
    """Invariant 39, exactly, on the library's implementation: every random choice of
    BroadbentTapp.sample_chunk (all share bits, both messages) for N = 3, 4. The output is the XOR
    of the inputs in every run, and the view of every coalition without the sender (>= 2 honest
    players) has the same distribution whichever honest player sends; coalition_view_distribution
    agrees with these enumerations.

    catches: a player's last share not completing its input (output wrong), a broadcast that is
    a player's own XOR of shares it sends (reveals the input), a share sent to the wrong player,
    a sender that reuses a share (views then depend on the sender)."""
    runs = {s: _enumerated_run(n, s) for s in range(n)}
    for rec, _ in runs.values():
        assert np.array_equal(rec.output, np.bitwise_xor.reduce(rec.inputs, axis=1))
    for size in range(1, n - 1):
        for coalition in itertools.combinations(range(n), size):
            honest = [i for i in range(n) if i not in coalition]
            for m in (0, 1):
                dists = [_view_distribution(*runs[s], coalition, m) for s in honest]
                assert all(d == dists[0] for d in dists[1:]), (n, coalition, m)
                total = sum(dists[0].values())
                lib = coalition_view_distribution(n, honest[0], coalition, m)
                assert lib == {k: c / total for k, c in dists[0].items()}


def test_39_enumeration_sees_a_sender_in_the_coalition():
    """The enumerated views do depend on the sender when the coalition contains it (the check is not vacuous)."""
    runs = {s: _enumerated_run(3, s) for s in (0, 1)}
    assert _view_distribution(*runs[0], [0], 1) != _view_distribution(*runs[1], [0], 1)


def test_39_sampled_parity_equals_xor_of_inputs():
    rec = get_protocol("broadbent-tapp", parties=5, sender=2).sample(Channel(), rounds=20_000, seed=1)
    assert np.array_equal(rec.output, np.bitwise_xor.reduce(rec.inputs, axis=1))
    assert_proportion(int(rec.inputs[:, 2].sum()), 20_000, 0.5, what="message bit")


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


def test_anonymous_bit_refuses_rotation_on_the_readout_path():
    with pytest.raises(InvalidParameter) as info:
        get_protocol("anonymous-bit", parties=11).run([Channel(rotation_rad=0.2)] * 11, rounds=10, seed=1)
    assert info.value.name == "channel"


def test_broadbent_tapp_share_blocks_do_not_change_the_draws(monkeypatch):
    """Issue 10: the rounds x N x N shares are drawn in row blocks when large (bounded memory);
    the coins are consumed in the same order, so any block size gives the same broadcasts.

    catches: blocks drawing coins out of order, dropping or repeating rows."""
    import qproto.protocols._anonymous as anon
    from qproto import Channel

    protocol = anon.BroadbentTapp(parties=5, sender=2)
    whole = protocol.sample(Channel(), rounds=50, seed=4)
    assert whole.shares is not None  # small: one block, shares kept for inspection
    monkeypatch.setattr(anon, "_SHARE_BLOCK_BITS", 25 * 7)  # 7 rows per block: an uneven last block
    blocked = protocol.sample(Channel(), rounds=50, seed=4)
    assert blocked.shares is None
    assert np.array_equal(blocked.inputs, whole.inputs)
    assert np.array_equal(blocked.broadcasts, whole.broadcasts)
    assert len({tuple(row) for row in whole.broadcasts}) > 10  # the broadcasts are random, not constant
    assert np.array_equal(blocked.output, blocked.inputs[:, 2])  # the parity is the sender's bit
