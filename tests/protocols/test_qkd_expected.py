"""BB84 and BBM92 ``expected()`` on the inputs that can see a bug (docs/conventions.md A1, A3, A4; B 8-20).

Every expected value here comes from ``tests/_reference.py`` (numpy density matrices
written from docs/conventions.md, no qproto or qiskit), never from the protocol's circuits or
helpers. The inputs are the asymmetric ones: coherent rotations (E_X != E_Z, and
tilted axes that mix Z and X), biased bases, biased intercept-resend (Eve's own p_z),
and per-arm channels that all differ. Three checks per protocol:

* ``expected()`` equals the reference (exactly, 1e-9);
* the exact outcome distribution of the compiled circuits (the engine's distribution
  path, given arrival) equals the reference per configuration;
* sampled runs match ``expected()`` (5 sigma + 1/N, docs/conventions.md B).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from _reference import (
    I2,
    X,
    Z,
    apply,
    basis_kets,
    bell,
    click_kraus,
    click_probability,
    compose,
    depolarise,
    dm,
    h2,
    kron,
    rotation,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from qproto import Channel, Engine, InterceptResend
from qproto.protocols import BB84, BBM92
from qproto.testing import (
    asymmetric_channels,
    assert_matches_expected,
    bb84_params,
    bbm92_params,
    biased_bases,
    channels,
    intercept_resend,
    probabilities,
    rotated_channels,
    seeds,
)

DIST = Engine(mode="distribution")
TOL = 1e-9
BASES = ("Z", "X")


# ---- reference helpers (numpy only) ------------------------------------------------------------
def _arrival_kraus(ch) -> list[np.ndarray]:
    """The map on an arriving qubit from the Channel's fields: rotation, then depolarising p_q."""
    p_q = 1 - (1 - ch.depolarisation) * (1 - 2 * ch.misalignment)
    return compose([rotation(ch.rotation_rad, ch.rotation_axis)], depolarise(p_q))


def _eve_branches(eve) -> list[tuple[float, str | None]]:
    """(probability, Eve's basis) per round: not attacked, attacked in Z, attacked in X."""
    if eve is None:
        return [(1.0, None)]
    return [(1 - eve.fraction, None), (eve.fraction * eve.p_z, "Z"), (eve.fraction * (1 - eve.p_z), "X")]


def _setting_kets(setting) -> tuple[np.ndarray, np.ndarray]:
    """Kets of outcome 0 and 1: "Z"/"X", or an angle t of cos(t) Z + sin(t) X (``ry(-t)`` + measure)."""
    if isinstance(setting, str):
        return basis_kets(setting)
    c, s = math.cos(setting / 2), math.sin(setting / 2)
    return np.array([c, s], dtype=complex), np.array([s, -c], dtype=complex)


def _p(rho: np.ndarray, ket: np.ndarray) -> float:
    return float(np.real(ket.conj() @ rho @ ket))


def bb84_joint(kraus, alpha: str, a: int, beta: str, eve_basis: str | None) -> dict[tuple[int, int], float]:
    """P(bob bit, eve bit) for Alice's state (alpha, a), Eve measure-resend in eve_basis, then the map."""
    rho = dm(basis_kets(alpha)[a])
    if eve_basis is None:
        states = [(1.0, rho, 0)]
    else:
        states = [(_p(rho, ket), dm(ket), k) for k, ket in enumerate(basis_kets(eve_basis))]
    out: dict[tuple[int, int], float] = {}
    for pk, state, k in states:
        after = sum(K @ state @ K.conj().T for K in kraus)
        for b, ket in enumerate(basis_kets(beta)):
            out[(b, k)] = out.get((b, k), 0.0) + pk * _p(after, ket)
    return out


def bb84_reference(ch, p_z: float, eve, f_ec: float = 1.0) -> dict[str, float]:
    """Every quantity of BB84.expected from density matrices and the formulas of docs/conventions.md A1."""
    kraus = click_kraus(ch)
    branches = _eve_branches(eve)

    def prob(alpha, beta, event, branches=branches):
        """P(event(a, b, eve bit, attacked)) for the basis pair, averaged over a and Eve's branches."""
        return sum(0.5 * w * p for a in (0, 1) for w, eb in branches
                   for (b, k), p in bb84_joint(kraus, alpha, a, beta, eb).items() if event(a, b, k, eb))

    ref = {"qber_z": prob("Z", "Z", lambda a, b, k, e: a != b),
           "qber_x": prob("X", "X", lambda a, b, k, e: a != b),
           # (Alice Z, Bob X) and (Alice X, Bob Z) have the same probability p_z (1 - p_z)
           "mismatched_agreement": (prob("Z", "X", lambda a, b, k, e: a == b)
                                    + prob("X", "Z", lambda a, b, k, e: a == b)) / 2,
           "detection_rate": click_probability(ch)}
    wz, wx = p_z**2, (1 - p_z) ** 2
    ref["sifted_fraction"] = wz + wx
    ref["qber"] = (wz * ref["qber_z"] + wx * ref["qber_x"]) / (wz + wx)
    ref["key_rate"] = ref["detection_rate"] * (wz * _sp(ref["qber_x"], ref["qber_z"], f_ec)
                                               + wx * _sp(ref["qber_z"], ref["qber_x"], f_ec))
    if eve is not None and eve.fraction > 0:
        attacked = [(eve.p_z, "Z"), (1 - eve.p_z, "X")]  # Eve's basis given an attacked round
        hit = sum(w * prob(al, al, lambda a, b, k, e: k == a, attacked) for al, w in (("Z", wz), ("X", wx)))
        ref["eve_agreement"] = hit / (wz + wx)
    return ref


def _sp(e_phase: float, e_bit: float, f_ec: float) -> float:
    """Shor-Preskill fraction max(0, 1 - h(e_phase) - f_EC h(e_bit)), errors capped at 1/2 (no key beyond)."""
    return max(0.0, 1 - h2(min(e_phase, 0.5)) - f_ec * h2(min(e_bit, 0.5)))


def bbm92_branch_states(ch_a, ch_b, eve, *, given_arrival: bool = False):
    """[(weight, eve basis, eve bit, unnormalised two-qubit state)] after Eve (on qubit 1) and both arms."""
    ka = _arrival_kraus(ch_a) if given_arrival else click_kraus(ch_a)
    kb = _arrival_kraus(ch_b) if given_arrival else click_kraus(ch_b)
    out = []
    for w, eb in _eve_branches(eve):
        if eb is None:
            parts = [(0, bell("phi+"))]
        else:
            parts = []
            for k, ket in enumerate(basis_kets(eb)):
                proj = kron(I2, dm(ket))
                parts.append((k, proj @ bell("phi+") @ proj))
        for k, rho in parts:
            out.append((w, eb, k, apply(apply(rho, ka, 0), kb, 1)))
    return out


def _joint2(rho, sa, sb) -> dict[tuple[int, int], float]:
    return {(i, j): float(np.real(np.trace(kron(dm(ki), dm(kj)) @ rho)))
            for i, ki in enumerate(_setting_kets(sa)) for j, kj in enumerate(_setting_kets(sb))}


def bbm92_reference(ch_a, ch_b, p_z: float, chsh_fraction: float, eve, f_ec: float = 1.0) -> dict[str, float]:
    """Every quantity of BBM92.expected from density matrices (docs/conventions.md A3, A4)."""
    states = bbm92_branch_states(ch_a, ch_b, eve)

    def prob(sa, sb, event):
        return sum(w * p for w, eb, k, rho in states for (a, b), p in _joint2(rho, sa, sb).items()
                   if event(a, b, k, eb))

    def corr(ta, tb):
        return sum(w * float(np.real(np.trace(rho @ kron(math.cos(ta) * Z + math.sin(ta) * X,
                                                          math.cos(tb) * Z + math.sin(tb) * X))))
                   for w, _, _, rho in states)

    q = math.pi / 4
    ref = {"qber_z": prob("Z", "Z", lambda a, b, k, e: a != b),
           "qber_x": prob("X", "X", lambda a, b, k, e: a != b),
           "mismatched_agreement": (prob("Z", "X", lambda a, b, k, e: a == b)
                                    + prob("X", "Z", lambda a, b, k, e: a == b)) / 2,
           "detection_rate": click_probability(ch_a) * click_probability(ch_b),
           "chsh": corr(0, q) - corr(0, 3 * q) + corr(2 * q, q) + corr(2 * q, 3 * q)}
    wz, wx = p_z**2, (1 - p_z) ** 2
    ref["sifted_fraction"] = wz + wx
    ref["qber"] = (wz * ref["qber_z"] + wx * ref["qber_x"]) / (wz + wx)
    ref["key_rate"] = (1 - chsh_fraction) * ref["detection_rate"] * (
        wz * _sp(ref["qber_x"], ref["qber_z"], f_ec) + wx * _sp(ref["qber_z"], ref["qber_x"], f_ec))
    if eve is not None and eve.fraction > 0:
        attacked = bbm92_branch_states(ch_a, ch_b, InterceptResend(fraction=1.0, p_z=eve.p_z))
        hit = sum(w * sum(wb * p for wb, _, k, rho in attacked for (a, b), p in _joint2(rho, al, al).items() if a == k)
                  for al, w in (("Z", wz), ("X", wx)))
        ref["eve_agreement"] = hit / (wz + wx)
    return ref


def _assert_close(got: dict, ref: dict, keys=None) -> None:
    for key in ref if keys is None else keys:
        assert got[key] == pytest.approx(ref[key], abs=TOL), key


# ---- BB84 ---------------------------------------------------------------------------------------
any_channels = channels(max_rotation_rad=math.pi) | rotated_channels()


@given(ch=any_channels, p_z=biased_bases() | st.just(0.5), eve=st.none() | intercept_resend())
@settings(max_examples=40)
def test_bb84_expected_equals_the_density_matrix_reference(ch, p_z, eve):
    """A1/C.8, invariants 10-12 as closed forms: expected() == numpy reference on rotated channels (tilted
    axes too), biased bases and biased intercept-resend.

    catches: expected() ignoring the rotation (E_X = E_Z), E_Z/E_X swapped, Eve's p_z used as 1 - p_z,
    p_z weights of qber/eve_agreement swapped, mismatched agreement assumed 1/2 for axes mixing Z and X,
    noise clicks given a non-random bit, detection rate not eta + (1 - eta) Y0.
    """
    proto = BB84(p_z=p_z, f_ec=1.0)
    _assert_close(proto.expected(ch, eavesdropper=eve), bb84_reference(ch, p_z, eve))


def test_bb84_rotation_and_eve_bias_vectors_by_hand():
    """A1 by hand: a z-axis rotation theta leaves Z alone: E_Z = p_q/2, E_X = (1 - (1-p_q) cos theta)/2;
    intercept-resend with Eve's bias p_E adds f(1-p_E)/2 in Z, f p_E/2 in X (Eve in the wrong basis:
    Bob's bit uniform); Eve agrees with Alice w.p. (pz^2 p_E + px^2 (1-p_E))/q + rest/2.

    catches: Eve's basis bias applied to the wrong basis, rotation applied to Z instead of X.
    """
    theta, p, f, pe, pz = 0.7, 0.06, 0.6, 0.85, 0.75
    ch = Channel(depolarisation=p, rotation_rad=theta)
    e_z = p / 2
    e_x = (1 - (1 - p) * math.cos(theta)) / 2
    got = BB84(p_z=pz).expected(ch, eavesdropper=InterceptResend(fraction=f, p_z=pe))
    assert got["qber_z"] == pytest.approx((1 - f * (1 - pe)) * e_z + f * (1 - pe) / 2, abs=TOL)
    assert got["qber_x"] == pytest.approx((1 - f * pe) * e_x + f * pe / 2, abs=TOL)
    px = 1 - pz
    match = (pz**2 * pe + px**2 * (1 - pe)) / (pz**2 + px**2)
    assert got["eve_agreement"] == pytest.approx(match + (1 - match) / 2, abs=TOL)
    assert got["mismatched_agreement"] == pytest.approx(0.5, abs=TOL)  # z axis: no Z-X mixing


@pytest.mark.parametrize("form", ["fast", "erasure"])
@given(ch=any_channels, eve=st.none() | intercept_resend())
@settings(max_examples=5)
def test_bb84_compiled_distributions_equal_the_reference(form, ch, eve):
    """Exact outcome distribution of every configuration (engine distribution path) vs the reference.

    fast form: the circuits carry the error given arrival (rotation + depolarising); erasure form:
    the whole channel, and given a click (flag 0) the map is click_kraus (noise clicks: I/2, a random
    bit in every basis), P(flag 0) = eta + (1 - eta) Y0.
    catches: rotation missing or on the wrong side of the basis change, Eve's X branch measuring Z,
    a noise click that is not maximally mixed (e.g. reset to |0>), the loss flag probability.
    """
    proto = BB84()
    probs = proto.prepare(ch, eavesdropper=eve, engine=DIST, form=form)[2].probabilities
    kraus = _arrival_kraus(ch) if form == "fast" else click_kraus(ch)
    flag = None if form == "fast" else (1 if eve is None else 2)
    for cfg in range(probs.shape[0]):
        branch, alpha, a, beta = cfg >> 3, (cfg >> 2) & 1, (cfg >> 1) & 1, cfg & 1
        eb = (None, "Z", "X")[branch]
        joint = bb84_joint(kraus, BASES[alpha], a, BASES[beta], eb)
        scale = 1.0 if flag is None else click_probability(ch)
        for (b, k), pr in joint.items():
            code = b | (k << 1 if eve is not None else 0)
            assert probs[cfg, code] == pytest.approx(scale * pr, abs=TOL), (cfg, b, k)
        if flag is not None:
            lost = sum(probs[cfg, c] for c in range(probs.shape[1]) if (c >> flag) & 1)
            assert lost == pytest.approx(1 - click_probability(ch), abs=TOL)


@given(params=bb84_params(), ch=rotated_channels(), eve=st.none() | intercept_resend(min_fraction=0.2),
       seed=seeds())
@settings(max_examples=8)
def test_bb84_runs_match_expected_on_rotated_channels_and_biased_attacks(params, ch, eve, seed):
    """[STAT] runs vs expected(): detection rate, sifted fraction, QBER per basis (E_X != E_Z), mismatched
    agreement and Eve's agreement, 5 sigma + 1/N (invariants 9-12 under rotation and bias).

    catches: the sampler drawing bases with p_x for p_z, Eve's branches drawn with 1 - p_z, the
    rotation lost in the noise model, noise-click bits not uniform.
    """
    proto = BB84(**params)
    expected = proto.expected(ch, eavesdropper=eve)
    _assert_close(expected, bb84_reference(ch, proto.p_z, eve, proto.f_ec))
    r = proto.run(ch, rounds=30_000, seed=seed, eavesdropper=eve)
    assert_matches_expected(r, expected)


def test_bb84_key_rate_from_both_bases_with_biased_bases_and_f_ec():
    """A1 rate by hand, E_X != E_Z, f_EC != 1, p_z != 1/2: Z bits pay h(E_X) + f h(E_Z), X bits the reverse.

    catches: phase and bit error swapped, f_EC on the privacy-amplification term, p_z^2 and p_x^2
    weights exchanged, detection probability left out.
    """
    theta, p, pz, f_ec = 0.5, 0.03, 0.8, 1.3
    ch = Channel(transmittance=0.4, noise_click=0.02, depolarisation=p, rotation_rad=theta)
    p_click = 0.4 + 0.6 * 0.02
    s = 0.4 / p_click
    e_z = (1 - s * (1 - p)) / 2
    e_x = (1 - s * (1 - p) * math.cos(theta)) / 2
    z_bits = max(0.0, 1 - h2(e_x) - f_ec * h2(e_z))
    x_bits = max(0.0, 1 - h2(e_z) - f_ec * h2(e_x))
    assert z_bits > 0 and x_bits > 0 and abs(z_bits - x_bits) > 0.05
    want = p_click * (pz**2 * z_bits + (1 - pz) ** 2 * x_bits)
    assert BB84(p_z=pz, f_ec=f_ec).expected(ch)["key_rate"] == pytest.approx(want, rel=1e-12)


# ---- BBM92 --------------------------------------------------------------------------------------
@given(arms=asymmetric_channels(2, max_rotation_rad=math.pi) | st.tuples(any_channels, any_channels),
       p_z=biased_bases() | st.just(0.5), chsh_fraction=probabilities(max_value=0.5),
       eve=st.none() | intercept_resend())
@settings(max_examples=25)
def test_bbm92_expected_equals_the_density_matrix_reference(arms, p_z, chsh_fraction, eve):
    """A3/A4, invariants 17-20 as closed forms: expected() == numpy reference with per-arm channels that
    differ (rotations on either arm, tilted axes), biased bases and a biased attack on Bob's arm.

    catches: channel[0] and channel[1] swapped (Eve's agreement depends on Alice's arm only), a rotation
    ignored or applied to the wrong arm, Eve on Alice's arm, Eve's p_z reversed, CHSH for rotated arms,
    noise clicks not random, chsh_fraction left out of the key rate.
    """
    ch_a, ch_b = arms
    proto = BBM92(p_z=p_z, chsh_fraction=chsh_fraction, f_ec=1.0)
    got = proto.expected((ch_a, ch_b), eavesdropper=eve)
    _assert_close(got, bbm92_reference(ch_a, ch_b, p_z, chsh_fraction, eve))


def test_bbm92_swapping_the_arms_changes_what_it_should_and_only_that():
    """A3 per arm: arm A rotated (y axis, theta) and depolarised p_A, arm B depolarised p_B; Eve on Bob's arm.

    By hand: E = (1 - M_mm)/2 with M = d_A d_B R_A T R_B^T is symmetric under swapping the arms (so are
    CHSH and the QBERs), but Eve's agreement with Alice involves Alice's arm only:
    P = sum_(alice m, eve e) w (1 + d_A R_A[m, e]) / 2, and the (Alice Z, Bob X) correlation is
    M_zx = -sin(theta) d_A d_B (y rotation), -M_zx when swapped.
    catches: a protocol or expected() that applies the arms' channels in the wrong order.
    """
    theta, p_a, p_b, f, pe, pz = 0.3, 0.02, 0.4, 0.7, 0.8, 0.7
    rotated = Channel(depolarisation=p_a, rotation_rad=theta, rotation_axis=(0, 1, 0))
    plain = Channel(depolarisation=p_b)
    eve = InterceptResend(fraction=f, p_z=pe)
    proto = BBM92(p_z=pz, chsh_fraction=0.2)
    ab = proto.expected((rotated, plain), eavesdropper=eve)
    ba = proto.expected((plain, rotated), eavesdropper=eve)
    for key in ("qber_z", "qber_x", "chsh", "detection_rate"):
        assert ab[key] == pytest.approx(ba[key], abs=TOL), key
    wz = pz**2 / (pz**2 + (1 - pz) ** 2)
    c = math.cos(theta)
    # R_y(theta) in the x-z plane: R[z,z] = R[x,x] = cos, R[z,x] = -sin, R[x,z] = sin; off-diagonals
    # enter weighted by (alice Z, eve X) and (alice X, eve Z): wz (1 - pe) (-sin) + (1 - wz) pe sin.
    s = math.sin(theta)

    def agreement(d_alice, cos_t, sin_t):
        return (wz * pe * (1 + d_alice * cos_t) + wz * (1 - pe) * (1 - d_alice * sin_t)
                + (1 - wz) * pe * (1 + d_alice * sin_t) + (1 - wz) * (1 - pe) * (1 + d_alice * cos_t)) / 2

    assert ab["eve_agreement"] == pytest.approx(agreement(1 - p_a, c, s), abs=TOL)
    assert ba["eve_agreement"] == pytest.approx(agreement(1 - p_b, 1.0, 0.0), abs=TOL)
    assert abs(ab["eve_agreement"] - ba["eve_agreement"]) > 0.05
    # The exact distributions of the circuits see the order of the arms too (Alice Z, Bob X, no Eve).
    for arms, sign in (((rotated, plain), -1), ((plain, rotated), +1)):
        probs = DIST.compile(proto.build_circuits(), proto.noise_model(arms)).probabilities
        row = probs[(0 << 2) | 1]  # Alice Z (setting 0), Bob X (setting 1)
        e_zx = (row[0] + row[3]) - (row[1] + row[2])
        assert e_zx == pytest.approx(sign * s * (1 - p_a) * (1 - p_b), abs=TOL)


@pytest.mark.parametrize("form", ["fast", "erasure"])
@given(arms=asymmetric_channels(2, max_rotation_rad=math.pi), eve=st.none() | intercept_resend())
@settings(max_examples=4)
def test_bbm92_compiled_distributions_equal_the_reference(form, arms, eve):
    """Exact distribution of every configuration (key and CHSH settings, Eve's branches): given arrival
    (fast form), or with both loss flags 0 (erasure form: each arm clicks with eta + (1 - eta) Y0 and a
    noise click leaves its qubit maximally mixed, so the state is the click-conditioned one).

    catches: the channel of arm A put on qubit 1, Eve acting on Alice's qubit, a CHSH angle with the wrong
    sign (ry(+theta)), Bob's X setting measuring Z, a noise click that is not a random bit.
    """
    proto = BBM92()
    probs = proto.prepare(arms, eavesdropper=eve, engine=DIST, form=form)[2].probabilities
    states = bbm92_branch_states(*arms, eve, given_arrival=form == "fast")
    scale = 1.0 if form == "fast" else click_probability(arms[0]) * click_probability(arms[1])
    n_data = 2 if eve is None else 3  # the loss flags (erasure form) come after Alice, Bob, Eve
    alice_settings = ("Z", "X")
    bob_settings = ("Z", "X", math.pi / 4, 3 * math.pi / 4)
    branch_of = {None: 0, "Z": 1, "X": 2}
    for w, eb, k, rho in states:
        if w == 0.0:
            continue
        norm = float(np.real(np.trace(rho)))  # P(Eve's bit k | branch)
        for a_set in range(2):
            for b_set in range(4):
                cfg = ((branch_of[eb] * 2 + a_set) << 2) | b_set
                for (a, b), p in _joint2(rho, alice_settings[a_set], bob_settings[b_set]).items():
                    code = a | (b << 1) | ((k << 2) if eve is not None else 0)  # flags 0
                    assert probs[cfg, code] == pytest.approx(scale * p, abs=TOL), (cfg, a, b, k)
                assert sum(probs[cfg, c] for c in range(probs.shape[1])
                           if eve is None or ((c >> 2) & 1) == k) == pytest.approx(norm, abs=TOL)
                if form == "erasure":
                    clicked = sum(probs[cfg, c] for c in range(probs.shape[1]) if c >> n_data == 0)
                    assert clicked == pytest.approx(scale, abs=TOL)


@given(params=bbm92_params(), arms=asymmetric_channels(2, max_rotation_rad=1.2),
       eve=st.none() | intercept_resend(min_fraction=0.3), seed=seeds())
@settings(max_examples=6)
def test_bbm92_runs_match_expected_on_asymmetric_rotated_arms(params, arms, eve, seed):
    """[STAT] runs vs expected() (reference-checked first): coincidences, per-basis QBER, mismatched and
    Eve's agreement (5 sigma + 1/N), CHSH S within 5 sigma, for differing rotated arms.

    catches: the sampler's noise clicks on the wrong arm, Bob's basis drawn with Alice's bias reversed,
    CHSH rounds mislabelled.
    """
    proto = BBM92(**dict(params, chsh_fraction=max(params["chsh_fraction"], 0.3)))
    expected = proto.expected(arms, eavesdropper=eve)
    _assert_close(expected, bbm92_reference(*arms, proto.p_z, proto.chsh_fraction, eve, proto.f_ec))
    r = proto.run(arms, rounds=40_000, seed=seed, eavesdropper=eve)
    assert_matches_expected(r, expected)


def test_bbm92_chsh_for_rotated_arms_by_hand():
    """A4 with rotations: a y-axis rotation phi on one arm turns the x-z settings by phi, so
    S = 2 sqrt(2) V cos(phi) (V = (1-p_A)(1-p_B)); a z-axis rotation theta scales only the X parts:
    S = sqrt(2) V (1 + cos theta).

    catches: rotations ignored in the CHSH closed form, rotation angle halved/doubled.
    """
    phi, theta, p_a, p_b = 0.5, 0.9, 0.05, 0.12
    v = (1 - p_a) * (1 - p_b)
    y_rot = Channel(depolarisation=p_a, rotation_rad=phi, rotation_axis=(0, 1, 0))
    z_rot = Channel(depolarisation=p_a, rotation_rad=theta)
    plain = Channel(depolarisation=p_b)
    proto = BBM92()
    assert proto.expected((y_rot, plain))["chsh"] == pytest.approx(2 * math.sqrt(2) * v * math.cos(phi), abs=TOL)
    assert proto.expected((plain, z_rot))["chsh"] == pytest.approx(math.sqrt(2) * v * (1 + math.cos(theta)),
                                                                    abs=TOL)
    ex = proto.expected((plain, z_rot))
    assert ex["qber_z"] == pytest.approx((1 - v) / 2, abs=TOL)
    assert ex["qber_x"] == pytest.approx((1 - v * math.cos(theta)) / 2, abs=TOL)


def test_bbm92_key_rate_by_hand_with_asymmetric_bases_and_f_ec():
    """A3 rate: R = (1 - chsh_fraction) P_coinc [pz^2 (1 - h(E_X) - f h(E_Z)) + px^2 (1 - h(E_Z) - f h(E_X))],
    P_coinc = prod(eta + (1 - eta) Y0), E from V = s_A s_B (1-p_A)(1-p_B) and a z rotation on arm B.

    catches: bit/phase swapped, f_EC on the wrong term, chsh_fraction or a coincidence factor dropped.
    """
    theta, pz, f_ec, cf = 0.6, 0.65, 1.25, 0.15
    ch_a = Channel(transmittance=0.5, noise_click=0.01, depolarisation=0.02)
    ch_b = Channel(transmittance=0.3, noise_click=0.02, misalignment=0.01, rotation_rad=theta)
    pa, pb = 0.5 + 0.5 * 0.01, 0.3 + 0.7 * 0.02
    d = (0.5 / pa) * (1 - 0.02) * (0.3 / pb) * (1 - 0.02)  # misalignment e_d: depolarising 2 e_d
    e_z, e_x = (1 - d) / 2, (1 - d * math.cos(theta)) / 2
    want = (1 - cf) * pa * pb * (pz**2 * max(0.0, 1 - h2(e_x) - f_ec * h2(e_z))
                                 + (1 - pz) ** 2 * max(0.0, 1 - h2(e_z) - f_ec * h2(e_x)))
    assert want > 0
    got = BBM92(p_z=pz, f_ec=f_ec, chsh_fraction=cf).expected((ch_a, ch_b))["key_rate"]
    assert got == pytest.approx(want, rel=1e-12)
