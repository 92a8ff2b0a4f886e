"""Swapping, repeater chains and purification (PHYSICS.md section B: 42, 43; A11 closed forms)."""

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from qproto import Channel, Engine
from qproto._errors import InvalidParameter, InvalidType
from qproto.protocols import Swapping
from qproto.security import (bbpssw, bell_diagonal_correlators, chain_fidelity, dejmps, swap_fidelity,
                             werner_coefficients, werner_fidelity)
from qproto.testing import assert_chsh, assert_proportion, assert_reproducible, assert_round_trip

DIST = Engine(mode="distribution")
X, Y, Z = 1, 2, 0


def _probs(sw, chans):
    return DIST.compile(sw.build_circuits(), sw.noise_model(tuple(chans))).probabilities


def _exact_fidelity(probs, keep=None):
    """(1 + E_XX - E_YY + E_ZZ)/4 from exact distributions (clbit 0 Alice, 1 Bob; optional post-selection)."""
    codes = np.arange(probs.shape[1])
    agree = (codes & 1) == ((codes >> 1) & 1)
    ok = np.ones_like(agree) if keep is None else keep(codes)

    def e(a, b):
        p = probs[a * 5 + b]
        return (p[ok & agree].sum() - p[ok & ~agree].sum()) / p[ok].sum()

    return (1 + e(X, X) - e(Y, Y) + e(Z, Z)) / 4, e


def _werner_channel(f):
    """One-sided depolarising that turns Phi+ into the Werner state of fidelity f."""
    return Channel(depolarisation=1 - (4 * f - 1) / 3)


@settings(max_examples=8)
@given(f1=st.floats(0.3, 1.0), f2=st.floats(0.3, 1.0))
def test_invariant42_two_link_swap_matches_closed_form(f1, f2):
    """Invariant 42 [EXACT]: Werner F1, F2 -> F' = F1 F2 + (1-F1)(1-F2)/3."""
    f, _ = _exact_fidelity(_probs(Swapping(n_links=2), [_werner_channel(f1), _werner_channel(f2)]))
    assert f == pytest.approx(swap_fidelity(f1, f2), abs=1e-9)


def test_invariant42_chain_fidelity_decreases_with_n():
    """Invariant 42 [EXACT]: n-link chain F = (1 + 3 prod V_i)/4, strictly decreasing in n."""
    fs = [0.97, 0.9, 0.95, 0.85, 0.99, 0.92]
    previous = 1.0
    for n in range(1, len(fs) + 1):
        f, _ = _exact_fidelity(_probs(Swapping(n_links=n), [_werner_channel(x) for x in fs[:n]]))
        assert f == pytest.approx(chain_fidelity(fs[:n]), abs=1e-9)
        assert f < previous
        previous = f


def test_invariant42_reuse_layout_equals_full_layout_and_bsm_outcomes_uniform():
    """Invariant 42 [EXACT]: the 4-qubit reuse layout gives the end pair's exact distribution of the
    literal 2n-qubit chain; the intermediate Bell outcomes are uniform and independent of the end pair."""
    chans = [Channel(depolarisation=0.1), Channel(depolarisation=0.3), Channel(depolarisation=0.05)]
    reuse = _probs(Swapping(n_links=3), chans)
    full = _probs(Swapping(n_links=3, layout="full"), chans)
    end = full.reshape(full.shape[0], -1, 4).sum(axis=1)  # marginal of clbits 0, 1
    np.testing.assert_allclose(end, reuse, atol=1e-9)
    noiseless = _probs(Swapping(n_links=3, layout="full"), [Channel()] * 3)
    for p in noiseless[[Z * 5 + Z, X * 5 + X]]:
        joint = p.reshape(-1, 4)  # [Bell outcomes, end pair]
        np.testing.assert_allclose(joint.sum(axis=1), 1 / 16, atol=1e-9)
        np.testing.assert_allclose(joint, np.outer(joint.sum(axis=1), joint.sum(axis=0)), atol=1e-9)


@pytest.mark.parametrize("method", ["bbpssw", "dejmps"])
@pytest.mark.parametrize("f", [0.6, 0.8, 0.95])
def test_invariant43_purification_circuits_equal_the_maps(method, f):
    """Invariant 43 [EXACT]: one purification round on two Werner pairs gives the A11 map's fidelity,
    correlators and success probability."""
    sw = Swapping(n_links=1, purification=method)
    probs = _probs(sw, [_werner_channel(f)])
    keep = lambda c: ((c >> 2) & 1) == ((c >> 3) & 1)  # noqa: E731
    fid, e = _exact_fidelity(probs, keep)
    coeffs, p_s = (dejmps(werner_coefficients(f)) if method == "dejmps"
                   else (None, bbpssw(f)[1]))
    f_map = coeffs[0] if coeffs is not None else bbpssw(f)[0]
    assert fid == pytest.approx(f_map, abs=1e-9)
    codes = np.arange(probs.shape[1])
    np.testing.assert_allclose(probs[:, keep(codes)].sum(axis=1), p_s, atol=1e-9)
    if coeffs is not None:
        c = bell_diagonal_correlators(coeffs)
        assert e(Z, Z) == pytest.approx(c["zz"], abs=1e-9) and e(X, X) == pytest.approx(c["xx"], abs=1e-9)


def test_invariant43_bbpssw_improves_fidelity_above_one_half():
    """Invariant 43 [FORMULA]: BBPSSW F' > F on (1/2, 1), F' = F at 1/2 and 1."""
    for f in np.linspace(0.51, 0.99, 25):
        assert bbpssw(f)[0] > f
    assert bbpssw(0.5)[0] == pytest.approx(0.5) and bbpssw(1.0)[0] == pytest.approx(1.0)
    assert werner_fidelity(1.0) == 1.0


def test_sampled_chain_fidelity_chsh_and_key():
    """[STAT]: a 4-link lossy chain: herald rate prod P_i, fidelity, CHSH, QBER as the closed forms."""
    chans = [Channel(depolarisation=0.02 * (i + 1), transmittance=0.9, noise_click=1e-3) for i in range(4)]
    sw = Swapping(n_links=4, chsh_fraction=0.3)
    result = sw.run(chans, rounds=150_000, seed=5)
    exp = sw.expected(chans)
    t = result.tallies
    assert_proportion(t["heralded"], t["rounds"], exp["herald_rate"], what="herald rate")
    assert_proportion(t["n_0_0"] - t["agree_0_0"], t["n_0_0"], exp["qber_z"], what="QBER Z")
    assert_proportion(t["n_1_1"] - t["agree_1_1"], t["n_1_1"], exp["qber_x"], what="QBER X")
    sigma = (result.fidelity.high - result.fidelity.best) / 1.959964  # normal interval -> 5 sigma band
    assert abs(result.fidelity.best - exp["fidelity"]) <= 5 * sigma
    assert_chsh(result, exp["chsh"])
    assert result.key_rate > 0
    assert_round_trip(result)
    assert_reproducible(lambda seed: sw.run(chans, rounds=3000, seed=seed))


def test_purification_success_sampled():
    sw = Swapping(n_links=2, purification="dejmps", chsh_fraction=0.0)
    chans = [Channel(depolarisation=0.1)] * 2
    result = sw.run(chans, rounds=20_000, seed=1)
    assert_proportion(result.tallies["kept"], result.tallies["heralded"], sw.expected(chans)["purification_success"])


@pytest.mark.parametrize("kwargs,name", [({"n_links": 0}, "n_links"), ({"chsh_fraction": 1.0}, "chsh_fraction"),
                                         ({"p_z": -0.1}, "p_z"), ({"p_z": 0.7, "p_y": 0.5}, "p_y"),
                                         ({"purification": "magic"}, "purification"),
                                         ({"layout": "full", "purification": "bbpssw"}, "purification"),
                                         ({"layout": "full", "n_links": 8}, "chsh_fraction")])
def test_bad_parameters_name_the_parameter(kwargs, name):
    with pytest.raises(InvalidParameter) as err:
        Swapping(**kwargs)
    assert err.value.name == name


def test_empty_chain_and_mismatched_link_count():
    with pytest.raises(InvalidParameter) as err:
        Swapping(n_links=2).run([], rounds=10)
    assert err.value.name == "channel"
    with pytest.raises(InvalidParameter) as err:
        Swapping(n_links=2).run([Channel()] * 3, rounds=10)
    assert err.value.name == "channel"
    with pytest.raises(InvalidType):
        Swapping(n_links=2).run([Channel(), 0.5], rounds=10)
    with pytest.raises(InvalidParameter):
        chain_fidelity([])
    assert math.isclose(chain_fidelity([0.9]), 0.9)
