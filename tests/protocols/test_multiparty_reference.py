"""The multipartite protocols against the independent numpy reference (tests/_reference.py).

Every expected value here is rebuilt from docs/conventions.md with numpy density matrices: GHZ_N,
each party's click-conditioned channel (``click_kraus``: the coherent rotation, then
depolarising p_eff, noise-only clicks included), an intercept-resend as a literal
measure-and-resend with Eve's record kept on an ancilla, and the measurement bases of
each protocol. Nothing here comes from the library's circuits, noise models or
``expected()``; both the engine's exact outcome distributions (``compiled.probabilities``)
and each protocol's ``expected()`` are checked against it, with asymmetric channels (all
different per party), rotations about arbitrary axes and biased attacks.

docs/conventions.md A7 (GHZ CKA), A8 (HBB, ((3,5))), A9 (Christandl-Wehner, anonymous bit) and
invariants 30, 32-38.
"""

import dataclasses
import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from _reference import (
    I2, KETS, X, Z, apply, basis_kets, bell, click_kraus, click_probability, dm, ghz, kron,
    outcome_probabilities,
)
from qproto import Channel, InterceptResend, get_protocol
from qproto.protocols._anonymous import PAIR_TESTS
from qproto.protocols._secret_sharing import PAULI_STATES, XYInterceptResend
from qproto.testing import asymmetric_channels, intercept_resend, rotation_axes

ATOL = 1e-9

#: Per-party channels of a fixed worked example: every field different, rotations about z, a
#: tilted axis and y, noise clicks on two parties (so p_eff differs from the qubit depolarisation).
WORKED = (
    Channel(depolarisation=0.05, transmittance=0.9, rotation_rad=0.4),
    Channel(depolarisation=0.12, misalignment=0.01, transmittance=0.6, noise_click=0.02, rotation_rad=0.9,
            rotation_axis=(1.0, 0.5, 0.2)),
    Channel(depolarisation=0.2, transmittance=0.8, rotation_rad=1.3, rotation_axis=(0.0, 1.0, 0.0)),
    Channel(depolarisation=0.02, transmittance=0.5, noise_click=0.1),
    Channel(depolarisation=0.3, transmittance=0.7, rotation_rad=2.2, rotation_axis=(1.0, 0.0, 0.0)),
)


@st.composite
def rotated_parties(draw, n):
    """n pairwise-different channels (depolarisation, transmittance, noise clicks), each with its own
    rotation: none, or 0.05 to pi rad about a drawn axis.

    Angles below ~1e-5 rad are left out on purpose: Aer's QuantumError treats such a unitary as the
    identity (rtol 1e-5), a noise-model rounding of at most ~1e-6 in a probability that belongs to
    the noise-model tests, not to the protocols'."""
    out = []
    for ch in draw(asymmetric_channels(n)):
        theta = draw(st.sampled_from([0.0, None, None, None]))
        theta = draw(st.floats(0.05, math.pi)) if theta is None else theta
        out.append(dataclasses.replace(ch, rotation_rad=theta, rotation_axis=draw(rotation_axes())))
    return tuple(out)


def click_free(channels):
    """The same channels without noise clicks: the circuits of GHZ CKA, HBB and the anonymous bit
    carry the qubit error only (a noise-only click is randomised after sampling), so their exact
    distributions are compared on channels whose clicks are all signal."""
    return tuple(dataclasses.replace(ch, noise_click=0.0) for ch in channels)


# ---- reference building blocks (numpy only, qubit 0 leftmost) ---------------------------------
def op_on(n, ops):
    """Kronecker product with ``ops[q]`` on qubit q (a dict) and I elsewhere."""
    return kron(*[ops.get(q, I2) for q in range(n)])


def intercept_resend_on(rho, n_total, qubit, basis, ancilla):
    """Eve measures ``qubit`` in ``basis``, resends the eigenstate found and writes her result on
    ``ancilla`` (which starts in |0>): sum_e (P_e (x) |e><0|) rho (P_e (x) |0><e|)."""
    out = np.zeros_like(rho)
    for e in (0, 1):
        k = op_on(n_total, {qubit: dm(basis_kets(basis)[e]),
                            ancilla: np.outer(KETS[str(e)], KETS["0"].conj())})
        out += k @ rho @ k.conj().T
    return out


def apply_local(rho, kraus, qubit):
    """``_reference.apply`` by tensor contraction (no full-size Kronecker products, which are slow
    for 6 qubits); checked against it in test_fast_helpers_equal_reference_helpers."""
    n = int(round(math.log2(rho.shape[0])))
    t = rho.reshape([2] * (2 * n))
    out = np.zeros_like(t)
    for k in kraus:
        u = np.moveaxis(np.tensordot(k, t, axes=([1], [qubit])), 0, qubit)
        out += np.moveaxis(np.tensordot(u, k.conj(), axes=([n + qubit], [1])), -1, n + qubit)
    return out.reshape(rho.shape)


def through_channels(rho, channels):
    """Each party qubit j crosses channels[j] (click-conditioned: ``click_kraus``)."""
    for j, ch in enumerate(channels):
        rho = apply_local(rho, click_kraus(ch), j)
    return rho


def distribution_vector(rho, bases):
    """Outcome probabilities (qubit j measured in bases[j]) as a vector over library codes
    (bit j of the code = qubit j): the diagonal of rho in the product measurement basis."""
    n = len(bases)
    change = kron(*[np.array([k.conj() for k in basis_kets(b)]) for b in bases])  # rows <b_0|, <b_1|
    diag = np.real(np.einsum("ij,jk,ik->i", change, rho, change.conj()))
    bits = (np.arange(2**n)[:, None] >> np.arange(n)[::-1]) & 1  # big-endian index -> bits, qubit 0 first
    vec = np.zeros(2**n)
    vec[(bits << np.arange(n)).sum(axis=1)] = diag
    return vec


def probabilities(rho, bases):
    """{bits (qubit 0 first): probability}, like ``_reference.outcome_probabilities``."""
    n = len(bases)
    vec = distribution_vector(rho, bases)
    return {bits: vec[sum(b << j for j, b in enumerate(bits))] for bits in itertools.product((0, 1), repeat=n)}


def test_fast_helpers_equal_reference_helpers():
    """The two fast helpers above agree with tests/_reference.py's apply and outcome_probabilities."""
    rng = np.random.default_rng(3)
    a = rng.normal(size=(16, 16)) + 1j * rng.normal(size=(16, 16))
    rho = a @ a.conj().T
    rho /= np.trace(rho)
    for q, ch in enumerate(WORKED[:4]):
        np.testing.assert_allclose(apply_local(rho, click_kraus(ch), q), apply(rho, click_kraus(ch), q), atol=1e-12)
    for bases in (["X", "Y", "Z", "X"], ["Z", "Z", "Y", "Y"]):
        ref = outcome_probabilities(rho, bases)
        fast = probabilities(rho, bases)
        assert all(abs(fast[b] - ref[b]) < 1e-12 for b in ref)


def ghz_after(channels, *, eve=None, attacked=None, extra_qubit=False):
    """GHZ_N through the channels, optionally with a measure-resend on ``attacked`` in basis ``eve``
    (Eve's record on one extra qubit, N)."""
    n = len(channels)
    rho = ghz(n)
    if extra_qubit or eve is not None:
        rho = kron(rho, dm(KETS["0"]))
    if eve is not None:
        rho = intercept_resend_on(rho, n + 1, attacked, eve, n)
    return through_channels(rho, channels)


def bits_of(vec_len, n):
    return (np.arange(vec_len)[:, None] >> np.arange(n)) & 1


def partial_trace_keep(rho, keep):
    """Reduced state on the qubits ``keep`` (in that order)."""
    n = int(round(math.log2(rho.shape[0])))
    t = rho.reshape([2] * (2 * n))
    drop = [q for q in range(n) if q not in keep]
    for i, q in enumerate(sorted(drop, reverse=True)):
        m = n - i
        t = np.trace(t, axis1=q, axis2=q + m)
    order = sorted(keep)
    k = len(keep)
    t = t.reshape([2] * (2 * k))
    perm = [order.index(q) for q in keep]
    t = t.transpose(perm + [p + k for p in perm])
    return t.reshape(2**k, 2**k)


# ---- GHZ conference key (A7, invariant 30) ----------------------------------------------------
GHZ_BRANCH_BASIS = {0: None, 1: "Z", 2: "X"}  # InterceptResend branches


@settings(max_examples=8)
@given(n=st.integers(2, 4), data=st.data())
def test_ghz_exact_distributions_equal_reference(n, data):
    """Every configuration's exact outcome distribution (all N parties and Eve's record) equals the
    reference, with all-different rotated party channels and a biased attack on a drawn party.

    catches: a channel marker on the wrong qubit or missing for one party, Eve acting after the
    channel or on the wrong party, a wrong basis change for the X test rounds, Eve's branch bases
    swapped (Z <-> X) — invariants 28-30 with asymmetric, rotated channels."""
    channels = click_free(data.draw(rotated_parties(n)))
    k = data.draw(st.integers(0, n - 1))
    eve = data.draw(intercept_resend(min_fraction=0.2))
    proto = get_protocol("ghz-cka", parties=n, attacked_party=k, noise_form="depolarising")
    probs = proto.prepare(channels, eavesdropper=eve)[2].probabilities
    for cfg, row in enumerate(probs):
        branch, basis = cfg >> 1, "ZX"[cfg & 1]
        rho = ghz_after(channels, eve=GHZ_BRANCH_BASIS[branch], attacked=k, extra_qubit=True)
        np.testing.assert_allclose(row, distribution_vector(rho, [basis] * n + ["Z"]), atol=ATOL)


def ghz_reference_errors(channels, eve=None, k=0):
    """(Q_AB_i, Q_X, Eve's agreement with Alice on attacked key rounds) from reference density matrices."""
    n = len(channels)
    branches = [(1.0, None)] if eve is None else [
        (1 - eve.fraction, None), (eve.fraction * eve.p_z, "Z"), (eve.fraction * (1 - eve.p_z), "X")]
    q_ab, q_x, agree = np.zeros(n - 1), 0.0, 0.0
    for w, basis in branches:
        rho = ghz_after(channels, eve=basis, attacked=k, extra_qubit=True)
        pz = probabilities(rho, ["Z"] * (n + 1))
        px = probabilities(rho, ["X"] * n + ["Z"])
        for i in range(1, n):
            q_ab[i - 1] += w * sum(p for b, p in pz.items() if b[0] != b[i])
        q_x += w * sum(p for b, p in px.items() if sum(b[:n]) % 2)
        if basis is not None:
            agree += w / eve.fraction * sum(p for b, p in pz.items() if b[n] == b[0])
    return q_ab, q_x, agree


@settings(max_examples=8)
@given(n=st.integers(2, 5), data=st.data())
def test_ghz_expected_equals_reference(n, data):
    """expected() (Q_AB_i per Bob, Q_X, Eve's agreement, P_all) equals the reference with noise clicks,
    rotations (whose phases add coherently in Q_X) and a biased attack on a drawn party.

    catches: Q_X from per-qubit flip probabilities instead of the coherent sum of rotations, noise
    clicks left out of p_eff, the attack's Z/X weights swapped (p_z <-> 1 - p_z), Alice's own noise
    left out of Q_AB_i or of Eve's agreement, an attack on Alice (party 0) treated like one on a Bob."""
    channels = data.draw(rotated_parties(n))
    k = data.draw(st.integers(0, n - 1))
    eve = data.draw(st.none() | intercept_resend(min_fraction=0.2))
    x = get_protocol("ghz-cka", parties=n, attacked_party=k).expected(channels, eavesdropper=eve)
    q_ab, q_x, agree = ghz_reference_errors(channels, eve, k)
    np.testing.assert_allclose(x["qber_ab"], q_ab, atol=ATOL)
    np.testing.assert_allclose([x[f"qber_ab_{i}"] for i in range(1, n)], q_ab, atol=ATOL)
    assert x["qber_ab_max"] == pytest.approx(q_ab.max(), abs=ATOL)
    assert x["qber_x"] == pytest.approx(q_x, abs=ATOL)
    assert x["detection_rate"] == pytest.approx(np.prod([click_probability(c) for c in channels]), abs=ATOL)
    if eve is not None:
        assert x["eve_agreement"] == pytest.approx(agree, abs=ATOL)


# ---- HBB secret sharing (A8, invariants 32-34) ------------------------------------------------
@settings(max_examples=6)
@given(n=st.integers(3, 4), data=st.data())
def test_hbb_exact_distributions_equal_reference(n, data):
    """All 2^N X/Y basis combinations (and the attacker's branches) give the reference distribution,
    with the dealer's channel noisy and every party's different and rotated (X/Y measurements).

    catches: the dealer's channel marker missing or misplaced, s instead of sdg for a Y measurement
    (visible once rotations tilt X and Y), the attack on the wrong party or after the channel,
    the X/Y attack branches swapped."""
    channels = click_free(data.draw(rotated_parties(n)))
    k = data.draw(st.integers(1, n - 1))
    eve = data.draw(st.sampled_from([XYInterceptResend(fraction=0.7, p_x=0.8), InterceptResend(fraction=0.6, p_z=0.3)]))
    first, second = ("X", "Y") if isinstance(eve, XYInterceptResend) else ("Z", "X")
    proto = get_protocol("hbb-secret-sharing", parties=n, attacked_party=k)
    probs = proto.prepare(channels, eavesdropper=eve)[2].probabilities
    refs = {branch: ghz_after(channels, eve=basis, attacked=k, extra_qubit=True)
            for branch, basis in ((0, None), (1, first), (2, second))}
    for cfg, row in enumerate(probs):
        branch, ymask = cfg >> n, cfg & ((1 << n) - 1)
        bases = ["Y" if (ymask >> j) & 1 else "X" for j in range(n)]
        np.testing.assert_allclose(row, distribution_vector(refs[branch], bases + ["Z"]), atol=ATOL)


def hbb_reference(channels, eve=None, k=1):
    """(error on valid rounds, P(a = XOR others) on invalid rounds, P(b_i = a) per player)."""
    n = len(channels)
    if eve is None:
        branches = [(1.0, None)]
    else:
        first, second, q = ("X", "Y", eve.p_x) if isinstance(eve, XYInterceptResend) else ("Z", "X", eve.p_z)
        branches = [(1 - eve.fraction, None), (eve.fraction * q, first), (eve.fraction * (1 - q), second)]
    err = inv = 0.0
    single = np.zeros(n - 1)
    for w, basis in branches:
        rho = ghz_after(channels, eve=basis, attacked=k, extra_qubit=True)
        for ymask in range(1 << n):
            bases = ["Y" if (ymask >> j) & 1 else "X" for j in range(n)]
            n_y = bases.count("Y")
            for bits, p in probabilities(rho, bases + ["Z"]).items():
                others = sum(bits[1:n]) % 2
                if n_y % 2 == 0:
                    err += w * p * ((others ^ ((n_y // 2) & 1)) != bits[0]) / 2 ** (n - 1)
                else:
                    inv += w * p * (others == bits[0]) / 2 ** (n - 1)
                for i in range(1, n):
                    single[i - 1] += w * p * (bits[i] == bits[0]) / 2**n
    return err, inv, single


@settings(max_examples=5)
@given(n=st.integers(3, 4), data=st.data())
def test_hbb_expected_equals_reference(n, data):
    """expected() error (valid rounds), invalid-round agreement and single-player agreement equal the
    reference with noise clicks, rotations and an attack.

    catches: the dealer's noise left out of the error ([1 - prod_{j>=1}(1-p_j)]/2), a per-party
    product that ignores coherent X/Y rotations (which also move invalid rounds off 1/2), the sign
    (-1)^{#Y/2} dropped, an attack's closed form applied with the wrong basis weights."""
    channels = data.draw(rotated_parties(n))
    k = data.draw(st.integers(1, n - 1))
    eve = data.draw(st.sampled_from([None, XYInterceptResend(fraction=0.5, p_x=0.2),
                                     InterceptResend(fraction=0.8, p_z=0.7)]))
    x = get_protocol("hbb-secret-sharing", parties=n, attacked_party=k).expected(channels, eavesdropper=eve)
    err, inv, single = hbb_reference(channels, eve, k)
    assert x["error_rate"] == pytest.approx(err, abs=ATOL)
    assert x["invalid_agreement"] == pytest.approx(inv, abs=ATOL)
    assert x["single_player_agreement"] == pytest.approx(single.max(), abs=ATOL)
    np.testing.assert_allclose([x[f"single_player_agreement_{i}"] for i in range(1, n)], single, atol=ATOL)
    assert x["detection_rate"] == pytest.approx(np.prod([click_probability(c) for c in channels]), abs=ATOL)


# ---- ((3,5)) threshold sharing (A8, invariant 35) -----------------------------------------------
PAULI = {"I": I2, "X": X, "Y": np.array([[0, -1j], [1j, 0]]), "Z": Z}


def pauli_string(label):
    """Pauli string, character j on qubit j (leftmost = qubit 0)."""
    return kron(*[PAULI[c] for c in label])


def five_qubit_code():
    """|0_L>, |1_L> from the stabilisers XZZXI and cyclic shifts (projector onto +1 of all, applied to
    |00000>), X_L = XXXXX (docs/conventions.md A8)."""
    proj = np.eye(32, dtype=complex)
    for g in ("XZZXI", "IXZZX", "XIXZZ", "ZXIXZ"):
        proj = proj @ (np.eye(32) + pauli_string(g)) / 2
    zero = proj[:, 0] / np.linalg.norm(proj[:, 0])
    return zero, pauli_string("XXXXX") @ zero


def secret_ket(basis, bit):
    return basis_kets("ZXY"[basis])[bit]


def recovered_state(rho5, shares):
    """The secret recovered from the pooled ``shares``: an isometry built from the Schmidt form of the
    code words over (shares | rest), so |s_L> = sum_k |chi_{s,k}>_shares |k>_rest / 2 and the decoder
    |chi_{s,k}> -> |s>|k>; applied to the 3-share state and traced over the junk k."""
    zero, one = five_qubit_code()
    rest = [q for q in range(5) if q not in shares]
    order = list(shares) + rest

    def as_matrix(v):
        return v.reshape([2] * 5).transpose(order).reshape(8, 4)

    m0, m1 = as_matrix(zero), as_matrix(one)
    u, s, vh = np.linalg.svd(m0)
    rest_basis = vh.conj().T  # |k>_rest columns
    chi = {0: 2 * m0 @ rest_basis, 1: 2 * m1 @ rest_basis}  # columns chi_{s,k}
    rho_t = partial_trace_keep(rho5, list(shares))
    out = np.zeros((2, 2), dtype=complex)
    for a in (0, 1):
        for b in (0, 1):
            out[a, b] = sum(chi[a][:, kk].conj() @ rho_t @ chi[b][:, kk] for kk in range(4))
    return out


def threshold_reference(channels):
    """Success probability per (secret, pooled subset), in the library's configuration order."""
    zero, one = five_qubit_code()
    subsets = list(itertools.combinations(range(5), 3))
    out = np.zeros((len(PAULI_STATES), len(subsets)))
    for i, (basis, bit) in enumerate(PAULI_STATES):
        psi = secret_ket(basis, bit)
        rho = through_channels(dm(psi[0] * zero + psi[1] * one), channels)
        for j, sub in enumerate(subsets):
            out[i, j] = float(np.real(psi.conj() @ recovered_state(rho, sub) @ psi))
    return out


def test_threshold_reference_is_sound_when_noiseless():
    """Sanity of the reference itself: every secret is recovered from every 3 shares."""
    np.testing.assert_allclose(threshold_reference([Channel()] * 5), 1.0, atol=ATOL)


@settings(max_examples=4)
@given(channels=rotated_parties(5))
def test_threshold_success_per_secret_and_subset_equals_reference(channels):
    """The success probability of every (secret, pooled subset) configuration equals the reference,
    noise-only clicks included (a maximally mixed share, not a coin for the whole round), and
    ``expected()['fidelity']`` is their mean weighted by each subset's click probability.

    catches: noise on the wrong share or missing on one, a noise-only click modelled as a coin
    flip of the recovered bit (wrong per secret), uniform instead of detection-weighted subsets,
    an expected() derived from the circuits sharing a bug with them."""
    proto = get_protocol("threshold-sharing")
    compiled = proto.prepare(channels)[2]
    ref = threshold_reference(channels)
    np.testing.assert_allclose(compiled.probabilities[:, 0].reshape(ref.shape), ref, atol=ATOL)
    click = np.array([click_probability(c) for c in channels])
    det = np.array([np.prod(click[list(s)]) for s in itertools.combinations(range(5), 3)])
    x = proto.expected(channels)
    assert x["fidelity"] == pytest.approx(float(ref.mean(axis=0) @ det / det.sum()), abs=ATOL)
    assert x["detection_rate"] == pytest.approx(float(det.mean()), abs=ATOL)


def test_threshold_worked_example_equals_reference():
    """The fixed worked example (rotations about z, a tilted axis, y and x; noise clicks on two shares)."""
    proto = get_protocol("threshold-sharing")
    ref = threshold_reference(WORKED)
    np.testing.assert_allclose(proto.prepare(WORKED)[2].probabilities[:, 0].reshape(ref.shape), ref, atol=ATOL)
    click = np.array([click_probability(c) for c in WORKED])
    det = np.array([np.prod(click[list(s)]) for s in itertools.combinations(range(5), 3)])
    assert proto.expected(WORKED)["fidelity"] == pytest.approx(float(ref.mean(axis=0) @ det / det.sum()), abs=ATOL)


# ---- anonymous transmission (A9, invariants 36-38) ---------------------------------------------
def cw_reference(channels, sender, receiver):
    """The Christandl-Wehner protocol literally: GHZ_N through the channels; every party j not S, R
    measures X (outcome x_j); S broadcasts r_S and applies Z^{r_S}; R applies Z^Q, Q = XOR x_j XOR r_S.
    Returns the pattern-averaged corrected (S, R) state."""
    n = len(channels)
    rho = through_channels(ghz(n), channels)
    others = [j for j in range(n) if j not in (sender, receiver)]
    pair = np.zeros((4, 4), dtype=complex)
    for xs in itertools.product((0, 1), repeat=len(others)):
        proj = op_on(n, {j: dm(basis_kets("X")[b]) for j, b in zip(others, xs)})
        sub = partial_trace_keep(proj @ rho @ proj, [sender, receiver])
        for r_s in (0, 1):
            q = (sum(xs) + r_s) % 2
            corr = kron(np.linalg.matrix_power(Z, r_s), np.linalg.matrix_power(Z, q))
            pair += corr @ sub @ corr.conj().T / 2
    return pair


def teleport_reference(pair):
    """Mean fidelity of teleporting the six Pauli eigenstates over ``pair`` (qubits S, R): Bell
    measurement cx(psi, S); h(psi) with outcomes (m0 on psi, m1 on S), then X^{m1} and Z^{m0} on R."""
    h = np.array([[1, 1], [1, -1]]) / math.sqrt(2)
    cx = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]])
    u = kron(h, I2, I2) @ kron(cx, I2)
    total = 0.0
    for basis, bit in PAULI_STATES:
        psi = secret_ket(basis, bit)
        rho = u @ kron(dm(psi), pair) @ u.conj().T
        out = np.zeros((2, 2), dtype=complex)
        for m0, m1 in itertools.product((0, 1), repeat=2):
            proj = kron(dm(KETS[str(m0)]), dm(KETS[str(m1)]), I2)
            r_state = partial_trace_keep(proj @ rho @ proj, [2])
            c = np.linalg.matrix_power(Z, m0) @ np.linalg.matrix_power(X, m1)
            out += c @ r_state @ c.conj().T
        total += float(np.real(psi.conj() @ out @ psi))
    return total / len(PAULI_STATES)


@settings(max_examples=6)
@given(n=st.integers(3, 4), data=st.data())
def test_cw_pair_and_teleportation_equal_reference(n, data):
    """The corrected anonymous pair's fidelity and the teleported-state fidelity equal the literal
    protocol in the reference, for a drawn (S, R) and all-different rotated channels with noise clicks;
    both the engine's exact distributions and expected() are checked.

    catches: the receiver's correction missing a party's broadcast, the sender's Z^{r_S} or its
    share in Q dropped, a noise-only click that randomises only the broadcast bit while the
    correction still uses the qubit's true value, (1-p_S)(1-p_R) replaced by another pair,
    teleportation corrections in the wrong order or on the wrong qubit."""
    channels = data.draw(rotated_parties(n))
    s, r = data.draw(st.permutations(range(n)))[:2]
    pair = cw_reference(channels, s, r)
    f_ref = float(np.real(np.trace(bell("phi+") @ pair)))
    ent = get_protocol("anonymous-transmission", parties=n, sender=s, receiver=r)
    assert ent.expected(channels)["pair_fidelity"] == pytest.approx(f_ref, abs=ATOL)
    probs = ent.prepare(channels)[2].probabilities
    bits = bits_of(probs.shape[1], n)
    agree = [np.mean([probs[r_s * 3 + t][bits[:, s] == bits[:, r]].sum() for r_s in (0, 1)]) for t in range(3)]
    for t, test in enumerate(PAIR_TESTS):
        a, b = test
        ops = {"X": X, "Y": PAULI["Y"], "Z": Z}
        corr = float(np.real(np.trace(kron(ops[a], ops[b]) @ pair)))
        assert agree[t] == pytest.approx((1 + corr) / 2, abs=ATOL), test
    tel = get_protocol("anonymous-transmission", parties=n, sender=s, receiver=r, mode="qubit")
    f_tel = teleport_reference(pair)
    assert tel.expected(channels)["teleport_fidelity"] == pytest.approx(f_tel, abs=ATOL)
    probs = tel.prepare(channels)[2].probabilities
    bits = bits_of(probs.shape[1], n + 1)
    success = np.mean([probs[r_s * 6 + t][bits[:, r] == PAULI_STATES[t][1]].sum()
                       for r_s in (0, 1) for t in range(6)])
    assert success == pytest.approx(f_tel, abs=ATOL)


@pytest.mark.parametrize("sender, receiver", [(0, 1), (1, 0), (3, 2), (4, 0), (2, 4)])
def test_cw_worked_example_equals_reference(sender, receiver):
    """The fixed worked example over five parties, several (S, R): expected() equals the literal protocol."""
    proto = get_protocol("anonymous-transmission", parties=5, sender=sender, receiver=receiver)
    f_ref = float(np.real(np.trace(bell("phi+") @ cw_reference(WORKED, sender, receiver))))
    assert proto.expected(WORKED)["pair_fidelity"] == pytest.approx(f_ref, abs=ATOL)


@settings(max_examples=6)
@given(n=st.integers(3, 5), data=st.data())
def test_38_anonymous_bit_distribution_equals_reference_for_every_sender(n, data):
    """Invariant 38 with asymmetric, rotated channels: for every sender and message d the broadcast
    distribution is the reference's (Z^d on the sender's qubit before the channels), hence the same
    for every sender, and expected()'s error equals the reference's P(parity != d).

    catches: Z^d applied after the channel (differs once a rotation tilts the sender's X), the
    message applied to a fixed party, the sender's noise or any party's left out of the error."""
    channels = data.draw(rotated_parties(n))
    free = click_free(channels)
    first = None
    for s in range(n):
        proto = get_protocol("anonymous-bit", parties=n, sender=s)
        probs = proto.prepare(free)[2].probabilities
        err = 0.0
        for d in (0, 1):
            z_d = op_on(n, {s: np.linalg.matrix_power(Z, d)})
            start = z_d @ ghz(n) @ z_d.conj().T
            np.testing.assert_allclose(probs[d], distribution_vector(through_channels(start, free), ["X"] * n),
                                       atol=ATOL)
            noisy = probabilities(through_channels(start, channels), ["X"] * n)
            err += sum(p for b, p in noisy.items() if sum(b) % 2 != d) / 2
        assert proto.expected(channels)["error_rate"] == pytest.approx(err, abs=ATOL)
        first = probs if first is None else first
        np.testing.assert_allclose(probs, first, atol=ATOL)  # the same whoever sends
