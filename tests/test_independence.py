"""The independence checkers of qproto.testing, on the anonymous and secret-sharing protocols
and on deliberately leaky designs (docs/conventions.md section B: fail at p < 1e-6)."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from qproto import Channel, InvalidParameter, get_protocol
from qproto.protocols._anonymous import AnonymousTransmission
from qproto.testing import (
    INDEPENDENCE_ALPHA, InvariantViolation, assert_independent, assert_independent_of_sender,
    assert_same_distribution, assert_subsets_learn_nothing, independence_test, seeds,
)
from qproto.testing import asymmetric_channels


@settings(max_examples=4)
@given(n=st.integers(3, 5), seed=seeds(), data=st.data())
def test_cw_broadcasts_independent_of_sender(n, seed, data):
    """Invariant 37 sampled: every party's channel different (noise clicks included), the broadcasts
    of several (S, R) come from one distribution. catches: S or R broadcasting a measured bit."""
    channels = data.draw(asymmetric_channels(n))
    pairs = data.draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1))
                               .filter(lambda p: p[0] != p[1]), min_size=2, max_size=3, unique=True))
    records = {sr: get_protocol("anonymous-transmission", parties=n, sender=sr[0], receiver=sr[1])
               .sample(channels, rounds=8000, seed=seed + i).broadcasts for i, sr in enumerate(pairs)}
    assert_independent_of_sender(records)


@settings(max_examples=4)
@given(n=st.integers(3, 5), seed=seeds(), data=st.data())
def test_quantum_anonymous_bit_broadcasts_independent_of_sender(n, seed, data):
    """Invariant 38 sampled with every party's channel different: the broadcasts given the message
    do not depend on who sent. catches: a sender whose broadcast carries d itself instead of its X outcome."""
    channels = data.draw(asymmetric_channels(n))
    records = {}
    for s in range(n):
        rec = get_protocol("anonymous-bit", parties=n, sender=s).sample(channels, rounds=6000, seed=seed + s)
        records[s] = np.concatenate([rec.broadcasts, rec.message[:, None]], axis=1)  # given the message
    assert_independent_of_sender(records)


@settings(max_examples=3)
@given(n=st.integers(3, 4), seed=seeds(), data=st.data())
def test_broadbent_tapp_coalition_view_independent_of_honest_sender(n, seed, data):
    coalition = [data.draw(st.integers(0, n - 1))]
    honest = [i for i in range(n) if i not in coalition]
    views = {s: get_protocol("broadbent-tapp", parties=n, sender=s).sample(Channel(), rounds=20_000, seed=seed + s)
             .view(coalition) for s in honest}
    assert_independent_of_sender(views)


@settings(max_examples=4)
@given(n=st.integers(3, 5), seed=seeds(), data=st.data())
def test_hbb_strict_subsets_learn_nothing_about_dealer_bit(n, seed, data):
    """Invariant 33 sampled, every party's channel different (the dealer's too)."""
    rec = get_protocol("hbb-secret-sharing", parties=n).sample(data.draw(asymmetric_channels(n)), rounds=20_000,
                                                               seed=seed)
    valid = rec.valid
    # Each strict subset of players sees its own bits plus every announced basis.
    assert_subsets_learn_nothing(rec.dealer_bit[valid], rec.bits[valid, 1:], rec.bases[valid])


def test_hbb_all_players_together_do_learn_the_bit():
    rec = get_protocol("hbb-secret-sharing", parties=3).sample(Channel(), rounds=5000, seed=1)
    v = rec.valid
    with pytest.raises(InvariantViolation):
        assert_subsets_learn_nothing(rec.dealer_bit[v], rec.bits[v, 1:], rec.bases[v], subsets=[(0, 1)])


class LeakyAnonymousTransmission(AnonymousTransmission):
    """A deliberately broken design: the sender announces 0 instead of a random bit."""

    name = "leaky-anonymous-transmission-test-only"

    def sample_chunk(self, *args, **kwargs):
        rec = super().sample_chunk(*args, **kwargs)
        rec.broadcasts[:, self.sender] = 0
        return rec


def test_checker_catches_a_leaky_anonymous_design():
    records = {s: LeakyAnonymousTransmission(parties=4, sender=s, receiver=(s + 1) % 4)
               .sample(Channel(), rounds=4000, seed=s).broadcasts for s in range(2)}
    with pytest.raises(InvariantViolation, match="broadcasts"):
        assert_independent_of_sender(records)


def test_checker_catches_a_slight_bias():
    rng = np.random.default_rng(0)
    a = (rng.random(200_000) < 0.5).astype(int)
    b = (rng.random(200_000) < 0.51).astype(int)
    with pytest.raises(InvariantViolation):
        assert_same_distribution(a, b)


def test_independent_data_passes_and_reports():
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 3, 50_000)
    obs = rng.integers(0, 2, (50_000, 4))
    t = assert_independent(labels, obs)
    assert t.p_value >= INDEPENDENCE_ALPHA and t.n_labels == 3 and t.n_categories == 16
    chi = independence_test(labels, obs, method="chi-square")
    assert chi.method == "chi-square" and chi.dof == 30


def test_rare_categories_are_pooled():
    labels = np.array([0, 1] * 50)
    obs = np.arange(100)  # every category seen once
    t = independence_test(labels, obs)
    assert t.p_value == 1.0 and t.n_categories == 1


@pytest.mark.parametrize("call, name", [
    (lambda: independence_test([0, 1, 0], [1, 0]), "observations"),
    (lambda: independence_test([0, 1], [0, 1], method="exact"), "method"),
    (lambda: assert_independent([0, 1], [0, 1], alpha=0.0), "alpha"),
    (lambda: assert_same_distribution([0, 1]), "samples"),
    (lambda: assert_independent_of_sender({0: [0, 1]}), "broadcasts_by_sender"),
    (lambda: assert_subsets_learn_nothing([0, 1], [0, 1]), "private"),
])
def test_checker_bad_inputs(call, name):
    with pytest.raises(InvalidParameter) as info:
        call()
    assert info.value.name == name
