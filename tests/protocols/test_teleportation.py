"""Teleportation invariants (PHYSICS.md section B: 40, 41)."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from qproto import Channel, Engine
from qproto._errors import InvalidParameter, InvalidType
from qproto.protocols import Teleportation
from qproto.security import teleportation_fidelity
from qproto.testing import assert_proportion, assert_reproducible, assert_round_trip, probabilities

DIST = Engine(mode="distribution")
angles = st.tuples(st.floats(0, np.pi), st.floats(-np.pi, np.pi))


def _probs(tp, ch_a=Channel(), ch_b=Channel()):
    return DIST.compile(tp.build_circuits(), tp.noise_model((ch_a, ch_b))).probabilities


@settings(max_examples=10)
@given(states=st.lists(angles, min_size=1, max_size=4))
def test_invariant40_noiseless_fidelity_one_in_every_branch_and_uniform_outcomes(states):
    """Invariant 40 [EXACT]: noiseless, fidelity 1 for random inputs and all 4 Bell outcomes,
    each outcome with probability exactly 1/4."""
    probs = _probs(Teleportation(states=states))
    for p in probs:
        branch = p.reshape(2, 4)  # [test bit, (m1, m0)]
        np.testing.assert_allclose(branch[0], 0.25, atol=1e-9)
        np.testing.assert_allclose(branch[1], 0.0, atol=1e-9)


@settings(max_examples=10)
@given(p_a=probabilities(max_value=1.0), p_b=probabilities(max_value=1.0), states=st.lists(angles, min_size=1,
                                                                                          max_size=3))
def test_invariant41_werner_resource_fidelity_exact(p_a, p_b, states):
    """Invariant 41 [EXACT]: a Werner resource V = (1-p_A)(1-p_B) teleports every state with
    fidelity (1 + V)/2 (hence also on average)."""
    probs = _probs(Teleportation(states=states), Channel(depolarisation=p_a), Channel(depolarisation=p_b))
    v = (1 - p_a) * (1 - p_b)
    np.testing.assert_allclose(probs[:, :4].sum(axis=1), teleportation_fidelity(v), atol=1e-9)


def test_invariant41_sampled_average_fidelity_with_loss_and_noise_clicks():
    """Invariant 41 [STAT]: sampled average fidelity -> (1 + V)/2 with click-conditioned V."""
    chans = (Channel(depolarisation=0.2), Channel(depolarisation=0.1, transmittance=0.3, noise_click=0.02))
    tp = Teleportation()
    result = tp.run(chans, rounds=60_000, seed=3)
    exp = tp.expected(chans)
    assert_proportion(tp_ok(result), tp_n(result), exp["fidelity"], what="teleportation fidelity")
    assert_proportion(result.tallies["detected"], result.tallies["rounds"], exp["detection_rate"])
    assert_round_trip(result)
    assert_reproducible(lambda seed: tp.run(chans, rounds=2000, seed=seed))


def tp_ok(r):
    return sum(v for k, v in r.tallies.items() if k.startswith("ok_"))


def tp_n(r):
    return sum(v for k, v in r.tallies.items() if k.startswith("n_"))


@pytest.mark.parametrize("states,exc,name", [("haar", InvalidParameter, "states"), ([], InvalidType, "states"),
                                             ([(0.1,)], InvalidType, "states[0]"),
                                             ([(0.1, float("nan"))], InvalidParameter, "states[0][1]")])
def test_bad_states_name_the_parameter(states, exc, name):
    with pytest.raises(exc) as err:
        Teleportation(states=states)
    assert err.value.name == name
