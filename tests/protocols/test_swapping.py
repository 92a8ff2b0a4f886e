"""Swapping, repeater chains and purification (docs/conventions.md section B: 42, 43; A11 closed forms).

Expected values come from closed forms written here (A11 maps, (1 + 3 prod V_i)/4) or from an
explicit Bell-measurement simulation with the numpy reference (tests/_reference.py).
"""

import math

import numpy as np
import pytest
from _reference import PAULI, apply, bell, click_kraus, fidelity_phi_plus, kron
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
    """[STAT]: sampled DEJMPS success and kept-pair QBER Z match the A11 map (computed here) on a
    non-Werner input; a one-link chain keeps the exact engine fast."""
    sw = Swapping(n_links=1, purification="dejmps", chsh_fraction=0.0, p_z=0.8, p_y=0.1)
    chans = [Channel(depolarisation=0.15, transmittance=0.7, rotation_rad=math.pi, rotation_axis=(0, 1, 0))]
    (a, b, c, d), p_s = _map("dejmps", _bell_diagonal(0.85, math.pi, "y"))
    result = sw.run(chans, rounds=20_000, seed=1)
    t = result.tallies
    assert_proportion(t["heralded"], t["rounds"], 0.7 ** 2, what="both copies heralded")
    assert_proportion(t["kept"], t["heralded"], p_s, what="purification success")
    assert_proportion(t["n_0_0"] - t["agree_0_0"], t["n_0_0"], (1 - (a + d - b - c)) / 2, what="kept QBER Z")
    assert sw.expected(chans)["purification_success"] == pytest.approx(p_s)


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


# ---- asymmetric, rotated and non-Werner inputs -------------------------------------------------
def _v_click(ch):
    """Click-conditioned visibility s (1 - p)(1 - 2 e_d) of one link, from its fields (docs/conventions.md C.8)."""
    eta = ch.transmittance * ch.detector_efficiency
    s = eta / (eta + (1 - eta) * ch.noise_click)
    return s * (1 - ch.depolarisation) * (1 - 2 * ch.misalignment)


def test_invariant42_asymmetric_chain_with_noise_clicks_closed_form():
    """Invariant 42 [EXACT]: four different links (loss, noise clicks, misalignment) give
    F = (1 + 3 prod V_i)/4 with each V_i click-conditioned, from the circuits and from expected();
    QBERs (1 - prod V_i)/2; herald rate prod P_i.

    catches: one link's channel used for all, noise clicks or misalignment dropped from a link,
    a link's error missing from the chain (e.g. the first or last marker without noise)."""
    chans = [Channel(depolarisation=0.02, transmittance=0.5, noise_click=0.01),
             Channel(depolarisation=0.08, misalignment=0.02),
             Channel(depolarisation=0.15, transmittance=0.3, noise_click=0.002),
             Channel(depolarisation=0.05, misalignment=0.01, noise_click=0.03, transmittance=0.8)]
    v = math.prod(_v_click(ch) for ch in chans)
    sw = Swapping(n_links=4)
    f, e = _exact_fidelity(_probs(sw, chans))
    assert f == pytest.approx((1 + 3 * v) / 4, abs=1e-9)
    exp = sw.expected(chans)
    assert exp["fidelity"] == pytest.approx((1 + 3 * v) / 4, abs=1e-12)
    assert exp["qber_z"] == pytest.approx((1 - v) / 2, abs=1e-12) and exp["qber_x"] == pytest.approx((1 - v) / 2)
    assert exp["chsh"] == pytest.approx(2 * math.sqrt(2) * v, abs=1e-12)
    assert exp["herald_rate"] == pytest.approx(math.prod(ch.transmittance + (1 - ch.transmittance) * ch.noise_click
                                                         for ch in chans))


def _ref_chain(chans):
    """Reference end pair of a chain by explicit Bell measurements: link i = Phi+ with the far half
    through click_kraus(ch_i); each swap projects (end, next near half) on the four Bell states and
    applies X^m1 then Z^m0 on the next far half (docs/conventions.md section 0), summing the branches."""
    rho = apply(bell("phi+"), click_kraus(chans[0]), 1)
    outcome = {"phi+": (0, 0), "phi-": (0, 1), "psi+": (1, 0), "psi-": (1, 1)}  # (m1, m0)
    i2 = np.eye(2)
    for ch in chans[1:]:
        pair = apply(bell("phi+"), click_kraus(ch), 1)
        full = kron(rho, pair)  # qubits (A, E, P, Q)
        out = np.zeros((4, 4), dtype=complex)
        for name, (m1, m0) in outcome.items():
            ket = np.linalg.eigh(bell(name))[1][:, -1]  # the Bell ket
            k = np.kron(np.kron(i2, ket.conj().reshape(1, 4)), i2)  # <beta|_{EP}
            corr = np.kron(i2, np.linalg.matrix_power(PAULI["Z"], m0) @ np.linalg.matrix_power(PAULI["X"], m1))
            branch = k @ full @ k.conj().T
            out += corr @ branch @ corr.conj().T
        rho = out
    return rho


def _corr(rho, a, b):
    """<A (x) B> for observables in the x-z plane at angles a, b (cos Z + sin X)."""
    def obs(t):
        return math.cos(t) * PAULI["Z"] + math.sin(t) * PAULI["X"]
    return float(np.real(np.trace(rho @ np.kron(obs(a), obs(b)))))


ROTATED = [Channel(depolarisation=0.05, rotation_rad=0.7, rotation_axis=(0.3, 0.5, 0.8)),
           Channel(depolarisation=0.1, transmittance=0.6, noise_click=0.01, rotation_rad=0.5,
                   rotation_axis=(1.0, 0.2, 0.0)),
           Channel(depolarisation=0.02, rotation_rad=1.1, rotation_axis=(0.0, 1.0, 0.3))]


@pytest.mark.parametrize("n", [1, 2, 3])
def test_invariant42_rotated_asymmetric_chain_against_explicit_bell_measurements(n):
    """Invariant 42 [EXACT] with rotated links (different axes) of different noise: fidelity, QBERs
    and CHSH from the circuits and from expected() equal an explicit Bell-measurement simulation.

    catches: the links' rotations dropped from the noise model, a correction order that matters
    once rotations are present, an expected() that keeps only prod V_i."""
    chans = ROTATED[:n]
    sw = Swapping(n_links=n)
    ref = _ref_chain(chans)
    q = math.pi / 4
    ref_chsh = _corr(ref, 0, q) - _corr(ref, 0, 3 * q) + _corr(ref, 2 * q, q) + _corr(ref, 2 * q, 3 * q)
    f, e = _exact_fidelity(_probs(sw, chans))
    assert f == pytest.approx(fidelity_phi_plus(ref), abs=1e-9)
    assert e(Z, 3) - e(Z, 4) + e(X, 3) + e(X, 4) == pytest.approx(ref_chsh, abs=1e-9)
    exp = sw.expected(chans)
    assert exp["fidelity"] == pytest.approx(fidelity_phi_plus(ref), abs=1e-9)
    assert exp["chsh"] == pytest.approx(ref_chsh, abs=1e-9)
    assert exp["qber_z"] == pytest.approx((1 - _corr(ref, 0, 0)) / 2, abs=1e-9)
    assert exp["qber_x"] == pytest.approx((1 - _corr(ref, 2 * q, 2 * q)) / 2, abs=1e-9)
    werner = (1 + 3 * math.prod(_v_click(ch) for ch in chans)) / 4
    assert abs(exp["fidelity"] - werner) > 0.01  # the rotations matter


AXES = {"x": (1, 0, 0), "y": (0, 1, 0), "z": (0, 0, 1)}


def _bell_diagonal(v, theta, axis):
    """Weights (Phi+, Psi-, Psi+, Phi-) of Phi+ whose Bob half suffers, with probability
    sin^2(theta/2), the Pauli of a coordinate axis (on Bob's half X -> Psi+, Y -> Psi-, Z -> Phi-),
    then depolarising to visibility v. A rotation by pi is that Pauli exactly; a swap twirls a
    rotation by theta into exactly this mixture."""
    s2 = math.sin(theta / 2) ** 2
    flips = {"x": (0, 0, s2, 0), "y": (0, s2, 0, 0), "z": (0, 0, 0, s2)}[axis]
    base = (1 - s2, 0, 0, 0)
    return tuple(v * (b + fl) + (1 - v) / 4 for b, fl in zip(base, flips))


def _map(method, c):
    """A11 purification maps written here: DEJMPS and the bilateral CNOT (BBPSSW without re-twirl)."""
    a, b, cc, d = c
    if method == "dejmps":
        n = (a + b) ** 2 + (cc + d) ** 2
        return ((a * a + b * b) / n, 2 * cc * d / n, (cc * cc + d * d) / n, 2 * a * b / n), n
    n = (a + d) ** 2 + (b + cc) ** 2
    return ((a * a + d * d) / n, 2 * b * cc / n, (b * b + cc * cc) / n, 2 * a * d / n), n


def _kept_correlators(sw, chans, settings):
    """From the compiled distributions of the given (Alice, Bob) settings only: for each setting,
    (P(kept), <AB | kept>); kept = the purification targets' Z outcomes agree."""
    circuits = sw.build_circuits()
    probs = DIST.compile([circuits[a * 5 + b] for a, b in settings], sw.noise_model(tuple(chans))).probabilities
    codes = np.arange(probs.shape[1])
    keep = ((codes >> 2) & 1) == ((codes >> 3) & 1)
    agree = (codes & 1) == ((codes >> 1) & 1)
    out = {}
    for (a, b), p in zip(settings, probs):
        kept = p[keep].sum()
        out[a, b] = (kept, (p[keep & agree].sum() - p[keep & ~agree].sum()) / kept)
    return out


@pytest.mark.parametrize("method", ["dejmps", "bbpssw"])
@pytest.mark.parametrize("axis", ["x", "y", "z"])
def test_invariant43_purification_of_pauli_framed_werner_pairs(method, axis):
    """Invariant 43 [EXACT] on non-Werner Bell-diagonal inputs: a link rotated by pi about a
    coordinate axis delivers a Werner state in another Bell frame (weight F on Psi+, Psi- or Phi-).
    Fidelity, success probability, <ZZ>, <XX> of the kept pair, from the circuits and from
    expected(), equal the A11 maps computed here.

    catches: DEJMPS without its Rx(+-pi/2) rotations (then it acts as the bilateral-CNOT map:
    different on the y and z inputs), the kept condition inverted, a map that assumes Werner inputs."""
    chans = [Channel(depolarisation=0.1, rotation_rad=math.pi, rotation_axis=AXES[axis])]
    coeffs = _bell_diagonal(0.9, math.pi, axis)
    (a, b, c, d), p_s = _map(method, coeffs)
    sw = Swapping(n_links=1, purification=method)
    corr = _kept_correlators(sw, chans, [(X, X), (Y, Y), (Z, Z)])
    for setting in corr:
        assert corr[setting][0] == pytest.approx(p_s, abs=1e-9)
    assert (1 + corr[X, X][1] - corr[Y, Y][1] + corr[Z, Z][1]) / 4 == pytest.approx(a, abs=1e-9)
    assert corr[Z, Z][1] == pytest.approx(a + d - b - c, abs=1e-9)
    assert corr[X, X][1] == pytest.approx(a - d + c - b, abs=1e-9)
    exp = sw.expected(chans)
    assert exp["fidelity"] == pytest.approx(a, abs=1e-9)
    assert exp["purification_success"] == pytest.approx(p_s, abs=1e-9)
    if axis != "x":  # Psi+ weight alone: B = D and the two maps coincide
        other = _map("bbpssw" if method == "dejmps" else "dejmps", coeffs)
        assert abs(other[0][0] - a) > 0.01


def test_invariant43_dejmps_on_a_twirled_chain_pair():
    """Invariant 43 [EXACT] on a genuinely non-Werner Bell-diagonal pair: a 2-link chain whose second
    link is rotated by 1.2 rad about y (the swap twirls it into a Y flip with probability
    sin^2(0.6)), so A, B and C = D all differ; one DEJMPS round gives the A11 map computed here.

    catches: DEJMPS rotations removed or given to the wrong parties, the twirl not happening (a
    swap that skipped the corrections), the second link's rotation dropped."""
    chans = [Channel(depolarisation=0.06), Channel(depolarisation=0.04, rotation_rad=1.2, rotation_axis=(0, 1, 0))]
    coeffs = _bell_diagonal((1 - 0.06) * (1 - 0.04), 1.2, "y")
    (a, b, c, d), p_s = _map("dejmps", coeffs)
    sw = Swapping(n_links=2, purification="dejmps")
    corr = _kept_correlators(sw, chans, [(X, X), (Y, Y), (Z, Z)])
    assert corr[Z, Z][0] == pytest.approx(p_s, abs=1e-9)
    assert (1 + corr[X, X][1] - corr[Y, Y][1] + corr[Z, Z][1]) / 4 == pytest.approx(a, abs=1e-9)
    assert corr[Z, Z][1] == pytest.approx(a + d - b - c, abs=1e-9)
    exp = sw.expected(chans)
    assert exp["fidelity"] == pytest.approx(a, abs=1e-9) and exp["purification_success"] == pytest.approx(p_s)
    assert abs(_map("bbpssw", coeffs)[0][0] - a) > 0.01
