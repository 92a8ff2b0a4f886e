"""protocols/_secret_sharing.py against its mutmut survivors (issue 9, sixth run).

Expected values are written here: hand tallies of hand-made HBB records, closed forms of the
attacker's guess (docs/conventions.md A8: GHZ correlators are +-1 on valid X/Y combinations and 0
on invalid ones, each party's depolarising p_j multiplies them by 1 - p_j), stabiliser and logical
expectations of the [[5,1,3]] code (XZZXI and its cyclic shifts, X_L = XXXXX, Z_L = ZZZZZ), the
uniform draws the docstrings promise, and the refusals' exact (name, value, allowed).
"""

import dataclasses
import itertools

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.circuit.library import UnitaryGate
from qiskit.quantum_info import Pauli, Statevector, partial_trace

from qproto import Channel, InterceptResend, get_protocol
from qproto._errors import InvalidParameter
from qproto._results import Estimate
from qproto.protocols._secret_sharing import (
    PAULI_STATES, HBBResult, HBBRounds, ThresholdResult, XYInterceptResend, _axes_matrix, _decoder,
    _normaliser_table, _pauli_product,
)
from qproto.testing import assert_proportion


def _bits(codes, n):
    return ((np.asarray(codes)[:, None] >> np.arange(n)) & 1).astype(np.uint8)


# ---- XYInterceptResend --------------------------------------------------------------------------
def test_xy_attack_defaults_record_and_refusals():
    """Defaults fraction 1 and p_x 1/2 (every round attacked, X or Y equally likely); to_dict
    records exactly those fields; out-of-range values are refused under their own names.

    catches: a changed default, a renamed field in the record, a refusal naming the wrong parameter."""
    eve = XYInterceptResend()
    assert (eve.fraction, eve.p_x, eve.name, eve.n_branches) == (1.0, 0.5, "intercept-resend-xy", 3)
    assert XYInterceptResend(fraction=0.25, p_x=0.75).to_dict() == \
        {"name": "intercept-resend-xy", "fraction": 0.25, "p_x": 0.75}
    for kwargs, name, value in (({"fraction": 1.5}, "fraction", 1.5), ({"p_x": -0.1}, "p_x", -0.1)):
        with pytest.raises(InvalidParameter) as err:
            XYInterceptResend(**kwargs)
        assert (err.value.name, err.value.value, err.value.allowed) == (name, value, "[0, 1]")


def test_xy_attack_stores_python_floats_so_its_record_is_json_ready():
    """fraction and p_x are stored as the validated Python floats (Eavesdropper.to_dict: "JSON-ready"),
    whatever real type the caller passed (numpy float32, int, Fraction).

    catches: the validated value written to another attribute, leaving the caller's object (a
    numpy scalar that json cannot write) in the field."""
    import json
    from fractions import Fraction
    for value in (np.float32(0.25), 1, Fraction(1, 2)):
        eve = XYInterceptResend(fraction=value, p_x=value)
        assert type(eve.fraction) is float and type(eve.p_x) is float
        assert json.loads(json.dumps(eve.to_dict())) == \
            {"name": "intercept-resend-xy", "fraction": float(value), "p_x": float(value)}


def test_xy_attack_branch_frequencies():
    """Branch 0 (not attacked) with probability 1 - f, 1 (X) with f p_x, 2 (Y) with f (1 - p_x);
    the branches are uint8; f = 1, p_x = 1 attacks every round in X; f = 0 never attacks.

    catches: in_y computed from f / p_x or f + p_x, the attacked test inverted, branch 2 never drawn."""
    rng = np.random.default_rng(11)
    n = 60_000
    b = XYInterceptResend(fraction=0.6, p_x=0.3).draw_branches(n, rng)
    assert b.dtype == np.uint8 and b.shape == (n,)
    for branch, p in ((0, 0.4), (1, 0.18), (2, 0.42)):
        assert_proportion(int(np.sum(b == branch)), n, p, what=f"branch {branch}")
    assert np.all(XYInterceptResend(fraction=1.0, p_x=1.0).draw_branches(500, rng) == 1)
    assert np.all(XYInterceptResend(fraction=1.0, p_x=0.0).draw_branches(500, rng) == 2)
    assert np.all(XYInterceptResend(fraction=0.0, p_x=0.5).draw_branches(500, rng) == 0)


@pytest.mark.parametrize("branch, basis", [(1, "X"), (2, "Y")])
def test_xy_attack_copies_the_basis_value_and_leaves_the_eigenstate(branch, basis):
    """Branch 1 copies the qubit's X value, branch 2 its Y value, onto the ancilla; an eigenstate
    of that basis is left as it was; branch 0 adds no gate.

    catches: branches swapped, s/sdg exchanged or dropped, the ancilla written from the wrong basis."""
    eve = XYInterceptResend()
    for bit in (0, 1):
        qc = QuantumCircuit(2)
        if bit:
            qc.x(0)
        qc.h(0)
        if basis == "Y":
            qc.s(0)
        prepared = Statevector(qc)
        eve.apply(qc, 0, 1, branch)
        out = Statevector(qc)
        # ancilla (qubit 1) reads the bit with certainty
        assert out.probabilities([1])[bit] == pytest.approx(1.0, abs=1e-12)
        # qubit 0 still the eigenstate: <P> = (-1)^bit
        assert out.expectation_value(Pauli(basis), [0]).real == pytest.approx((-1) ** bit, abs=1e-12)
        assert prepared.expectation_value(Pauli(basis), [0]).real == pytest.approx((-1) ** bit, abs=1e-12)
    qc = QuantumCircuit(2)
    eve.apply(qc, 0, 1, 0)
    assert len(qc.data) == 0


# ---- HBBSecretSharing: construction, circuits, records -----------------------------------------
def test_hbb_defaults_and_parameters():
    """Defaults: 3 parties, the attacker on the last player (N - 1); parameters() records both.

    catches: another default N or attacked party, a parameter missing from the record."""
    p = get_protocol("hbb-secret-sharing")
    assert (p.parties, p.attacked_party, p.n_channels) == (3, 2, 3)
    assert p.parameters() == {"parties": 3, "attacked_party": 2}
    assert get_protocol("hbb-secret-sharing", parties=6).attacked_party == 5
    assert get_protocol("hbb-secret-sharing", parties=6, attacked_party=2).parameters() == \
        {"parties": 6, "attacked_party": 2}


def test_hbb_refuses_the_erasure_form_by_name():
    """HBB samples loss in closed form only: form="erasure" is refused as ("form", value, "'fast'").

    catches: the refusal naming another parameter or dropping its value or allowed set."""
    proto = get_protocol("hbb-secret-sharing")
    with pytest.raises(InvalidParameter) as err:
        proto.build_circuits(form="erasure")
    assert (err.value.name, err.value.value, err.value.allowed) == ("form", "erasure", "'fast'")


def test_hbb_circuits_layout():
    """2^N configurations (3 x 2^N with a three-branch attacker), named hbb<N>_e<branch>_y<mask>,
    N clbits (N + 1 with the attacker's ancilla), every qubit measured onto its own clbit.

    catches: a wrong configuration count or naming, the attacker's ancilla left unmeasured."""
    proto = get_protocol("hbb-secret-sharing", parties=4)
    plain = proto.build_circuits()
    assert len(plain) == 16
    assert [c.name for c in plain[:3]] == ["hbb4_e0_y0", "hbb4_e0_y1", "hbb4_e0_y2"]
    assert all((c.num_qubits, c.num_clbits) == (4, 4) for c in plain)
    attacked = proto.build_circuits(eavesdropper=XYInterceptResend())
    assert len(attacked) == 48
    assert attacked[16 + 5].name == "hbb4_e1_y5" and attacked[47].name == "hbb4_e2_y15"
    for c in attacked:
        assert (c.num_qubits, c.num_clbits) == (5, 5)
        meas = [(c.find_bit(i.qubits[0]).index, c.find_bit(i.clbits[0]).index)
                for i in c.data if i.operation.name == "measure"]
        assert sorted(meas) == [(q, q) for q in range(5)]


def test_hbb_record_shapes_bases_and_uniform_masks():
    """sample(): one config per round; ``detected`` flags rounds where all clicked; bases are the
    mask's bits on detected rounds; each party picks Y with probability 1/2, the attacker's branch
    is config >> N; bits and bases are uint8 (n_detected, N) and the attacker's record is separate.

    catches: masks drawn over too few or too many bits, the eve branch shifted to the wrong place,
    bases read from all rounds instead of the detected ones, the attacker's column left in the bits."""
    n, rounds = 4, 6000
    chans = [Channel(transmittance=0.9), Channel(), Channel(transmittance=0.8), Channel()]
    proto = get_protocol("hbb-secret-sharing", parties=n, attacked_party=2)
    rec = proto.sample(chans, rounds=rounds, seed=5, eavesdropper=XYInterceptResend(fraction=0.5, p_x=0.5))
    assert isinstance(rec, HBBRounds)
    assert rec.config.shape == (rounds,) and rec.detected.shape == (rounds,) and rec.detected.dtype == bool
    n_det = int(rec.detected.sum())
    assert_proportion(n_det, rounds, 0.72, what="P_all")
    det_cfg = rec.config[rec.detected]
    assert rec.bases.dtype == np.uint8 and rec.bits.dtype == np.uint8
    assert rec.bases.shape == rec.bits.shape == (n_det, n) and rec.eve_bits.shape == (n_det,)
    np.testing.assert_array_equal(rec.bases, _bits(det_cfg & 15, n))
    branch = rec.config >> n
    assert set(np.unique(branch)) == {0, 1, 2}
    assert_proportion(int(np.sum(branch == 0)), rounds, 0.5, what="not attacked")
    for j in range(n):
        assert_proportion(int(rec.bases[:, j].sum()), n_det, 0.5, what=f"party {j} measures Y")
    # noiseless: valid rounds reconstruct the dealer's bit unless attacked
    ok = rec.valid & ((det_cfg >> n) == 0)
    np.testing.assert_array_equal(rec.reconstructed[ok], rec.dealer_bit[ok])
    plain = proto.sample(Channel(), rounds=50, seed=5)
    assert plain.detected is None and plain.eve_bits is None and plain.config.max() < 16


def test_hbb_analyse_tallies_a_hand_made_record():
    """A hand-made 3-party record, tallied by hand (recon = b ^ c ^ (#Y/2 mod 2), guess = recon ^
    b_k ^ e on attacked valid rounds):

    row  bases(a,b,c) bits(a,b,c) e  branch  valid  recon  error  XOR others = a  guess k=1  guess k=2
    0    X X X        0 1 1       1  0       yes    0      no     -               (not attacked)
    1    X Y Y        1 0 1       0  1       yes    0      yes    -               0 no       1 yes
    2    Y Y X        0 1 0       1  2       yes    0      no     -               0 yes      1 no
    3    X X Y        1 1 0       1  1       no     -      -      1 yes           -          -
    4    Y X X        0 1 0       1  0       no     -      -      1 no            -          -
    5    X X X        1 1 0       0  2       yes    1      no     -               0 no       1 yes
    6    Y X Y        1 0 0       0  1       yes    1      no     -               1 yes      1 yes

    Tallies: detected 7, valid 5, errors 1, invalid 2, invalid agreements 1, b = a on rows 3, 5
    (2), c = a on rows 1, 2, 4 (3), attacked valid rows 1, 2, 5, 6 (4), correct guesses 2 (k = 1)
    or 3 (k = 2).

    catches: valid/invalid, errors, invalid agreements or per-player agreements counted on the
    wrong rows or columns; the attacker's tallies on unattacked rounds or with another party's bit."""
    bases = np.array([[0, 0, 0], [0, 1, 1], [1, 1, 0], [0, 0, 1], [1, 0, 0], [0, 0, 0], [1, 0, 1]], dtype=np.uint8)
    bits = np.array([[0, 1, 1], [1, 0, 1], [0, 1, 0], [1, 1, 0], [0, 1, 0], [1, 1, 0], [1, 0, 0]], dtype=np.uint8)
    eve = np.array([1, 0, 1, 1, 1, 0, 0], dtype=np.uint8)
    branch = np.array([0, 1, 2, 1, 0, 2, 1])
    ymask = (bases * (1 << np.arange(3))).sum(axis=1)
    config = (branch << 3 | ymask).astype(np.uint16)
    rec = HBBRounds(config=config, detected=None, bases=bases, bits=bits, eve_bits=eve)
    np.testing.assert_array_equal(rec.valid, [True, True, True, False, False, True, True])
    np.testing.assert_array_equal(rec.reconstructed[rec.valid], [0, 0, 0, 1, 1])
    np.testing.assert_array_equal(rec.dealer_bit, [0, 1, 0, 1, 0, 1, 1])
    for k, correct in ((1, 2), (2, 3)):
        t = get_protocol("hbb-secret-sharing", parties=3, attacked_party=k).analyse(rec)
        assert dict(t) == {"detected": (7,), "valid": (5,), "valid_errors": (1,), "invalid": (2,),
                           "invalid_agree": (1,), "single_agree": (2, 3), "eve_valid": (4,),
                           "eve_correct": (correct,)}, k
    # without an attacker's record the attacker's tallies are 0
    t = get_protocol("hbb-secret-sharing", parties=3).analyse(dataclasses.replace(rec, eve_bits=None))
    assert (t["eve_valid"], t["eve_correct"]) == ((0,), (0,))
    # with a detection mask, config holds every round: the attacked rows are read from the detected ones
    detected = np.array([True, True, True, False, True, True, True, True])
    cfg8 = np.insert(config, 3, np.uint16(0))  # an undetected unattacked round before row 3
    t = get_protocol("hbb-secret-sharing", parties=3, attacked_party=1).analyse(
        dataclasses.replace(rec, config=cfg8, detected=detected))
    assert (t["eve_valid"], t["eve_correct"]) == ((4,), (2,))


def test_hbb_attacker_guess_rate_closed_form():
    """A dishonest player 1 attacking with XYInterceptResend(f = 0.6, p_x = 0.3), unrotated
    depolarising channels p = (0.3, 0.4, 0.1), no noise clicks: attacked valid rounds are a fraction
    f of the valid ones; on them Eve's basis matches player 1's with probability 1/2 and then her
    guess sees the correlator of the dealer and the other player only, V' = (1 - 0.3)(1 - 0.1)
    = 0.63 (her copy is taken before player 1's channel); otherwise the combination is invalid for
    her and she is right half the time: P(correct) = 1/2 (1 + V')/2 + 1/4 = 1/2 + V'/4 = 0.6575.

    catches: the attacked-round test (config >> N > 0) changed, the guess built with another party's
    bit or without the attacker's, rounds not attacked counted."""
    chans = [Channel(depolarisation=p) for p in (0.3, 0.4, 0.1)]
    proto = get_protocol("hbb-secret-sharing", parties=3, attacked_party=1)
    r = proto.run(chans, rounds=20_000, seed=3, eavesdropper=XYInterceptResend(fraction=0.6, p_x=0.3))
    assert_proportion(r.c("eve_valid"), r.c("valid"), 0.6, what="attacked valid rounds")
    assert_proportion(r.c("eve_correct"), r.c("eve_valid"), 0.5 + 0.63 / 4, what="attacker's guess")
    # Z/X intercept-resend: Z never matches an X/Y measurement, X does half the time:
    # P = p_z/2 + (1 - p_z)(1/2 + V'/4), p_z = 0.5
    r = proto.run(chans, rounds=20_000, seed=4, eavesdropper=InterceptResend(fraction=1.0, p_z=0.5))
    assert_proportion(r.c("eve_valid"), r.c("valid"), 1.0, what="attacked valid rounds")
    assert_proportion(r.c("eve_correct"), r.c("eve_valid"), 0.25 + 0.5 * (0.5 + 0.63 / 4), what="Z/X guess")


# ---- HBBResult --------------------------------------------------------------------------------
def _hbb_counts(**over):
    c = {"detected": (1000,), "valid": (500,), "valid_errors": (40,), "invalid": (500,), "invalid_agree": (260,),
         "single_agree": (510, 480), "eve_valid": (300,), "eve_correct": (200,)}
    c.update(over)
    return c


def _hbb_result(counts, parameters=None, confidence=0.95):
    return HBBResult(protocol="hbb-secret-sharing", parameters={"parties": 3, "attacked_party": 2}
                     if parameters is None else parameters, channels=(Channel(),) * 3, rounds=2000, seed=1,
                     eavesdropper=None, counts=counts, confidence=confidence)


def test_hbb_result_estimates_from_hand_counts():
    """Each estimate is its tally ratio: detection 1000/2000, valid 500/1000, error 40/500, invalid
    agreement 260/500, shared bits 500/2000, per player 510/1000 and 480/1000, the max 0.51 with no
    counts (not a proportion) but the interval and confidence level of 510/1000.

    catches: a ratio over the wrong denominator, the per-player keys numbered from 0 or 2, the max
    replaced by the min or reported as a proportion."""
    est = _hbb_result(_hbb_counts()).estimates()
    want = {"detection_rate": (1000, 2000), "valid_fraction": (500, 1000), "error_rate": (40, 500),
            "invalid_agreement": (260, 500), "shared_bit_rate": (500, 2000),
            "single_player_agreement_1": (510, 1000), "single_player_agreement_2": (480, 1000)}
    assert set(est) == set(want) | {"single_player_agreement"}
    for k, (s, t) in want.items():
        assert (est[k].successes, est[k].trials, est[k].best) == (s, t, s / t), k
    m = est["single_player_agreement"]
    ref = Estimate.binomial(510, 1000, confidence=0.9)
    m = _hbb_result(_hbb_counts(), confidence=0.9).estimates()["single_player_agreement"]
    assert (m.low, m.best, m.high, m.confidence) == (ref.low, 0.51, ref.high, 0.9)
    assert m.successes is None and m.trials is None
    assert _hbb_result(_hbb_counts()).error_rate.best == 40 / 500


def test_hbb_result_without_parties_reads_them_from_the_tallies():
    """A record without ``parties`` (an older file) takes N = len(single_agree) + 1; a record with
    it must carry N - 1 per-player agreements.

    catches: the fallback changed (None, or + 2), so such a record is refused; ``parties`` read
    under another key (the fallback always used, so a truncated tally passes)."""
    r = _hbb_result(_hbb_counts(), parameters={})
    assert r.count_shapes()["single_agree"] == 2
    r4 = _hbb_result(_hbb_counts(single_agree=(1, 2, 3)), parameters={})
    assert r4.count_shapes()["single_agree"] == 3
    # with ``parties`` recorded, the tallies must match it: 4 parties need 3 per-player agreements
    with pytest.raises(InvalidParameter) as err:
        _hbb_result(_hbb_counts(), parameters={"parties": 4, "attacked_party": 3})
    assert (err.value.name, err.value.value, err.value.allowed) == ("counts['single_agree']", (510, 480), "3 value(s)")


@pytest.mark.parametrize("over, name, value", [
    ({"single_agree": (1001, 480)}, "counts['single_agree'][0]", 1001),
    ({"single_agree": (510, 1001)}, "counts['single_agree'][1]", 1001),
    ({"valid": (1001,), "invalid": (0,), "invalid_agree": (0,)}, "counts['valid'][0]", 1001),
    ({"invalid": (1001,)}, "counts['invalid'][0]", 1001),
    ({"valid_errors": (501,)}, "counts['valid_errors'][0]", 501),
    ({"invalid_agree": (501,)}, "counts['invalid_agree'][0]", 501),
    ({"eve_valid": (501,), "eve_correct": (0,)}, "counts['eve_valid'][0]", 501),
    ({"eve_correct": (301,)}, "counts['eve_correct'][0]", 301),
])
def test_hbb_result_refuses_each_impossible_tally(over, name, value):
    """Each part <= whole bound: per-player agreements and valid/invalid rounds <= detected,
    errors <= valid, invalid agreements <= invalid, attacked <= valid, correct guesses <= attacked.

    catches: a bound dropped or checked against the wrong whole."""
    with pytest.raises(InvalidParameter) as err:
        _hbb_result(_hbb_counts(**over))
    assert (err.value.name, err.value.value) == (name, value)


def test_result_labels():
    """The CLI's readable names of every estimate (shown in its table) and the result type tags
    (read by from_dict).

    catches: a label or type tag changed or dropped."""
    assert HBBResult.LABELS == {
        "detection_rate": "P_all (per round)",
        "valid_fraction": "valid basis combinations",
        "error_rate": "reconstruction error (valid rounds)",
        "invalid_agreement": "P(a = XOR others), invalid rounds",
        "single_player_agreement": "max_i P(b_i = a)",
        "shared_bit_rate": "shared bits per round",
    }
    assert ThresholdResult.LABELS == {"detection_rate": "k shares arrive (per round)",
                                      "fidelity": "recovered-secret fidelity (6-state average)"}
    assert HBBResult.TYPE == "HBBResult" and ThresholdResult.TYPE == "ThresholdResult"


# ---- ((3,5)) threshold sharing -------------------------------------------------------------------
def _threshold_result(counts):
    return ThresholdResult(protocol="threshold-sharing", parameters={"k": 3, "n": 5}, channels=(Channel(),) * 5,
                           rounds=100, seed=1, eavesdropper=None, counts=counts)


def test_threshold_defaults_and_parameters():
    """Defaults ((3, 5)); ``parties=5`` is the same; the ten 3-subsets in lexicographic order.

    catches: a changed default k or n, parties not taken as n, a parameter missing from the record."""
    t = get_protocol("threshold-sharing")
    assert (t.k, t.n, t.parties, t.n_channels) == (3, 5, 5, 5)
    assert t.parameters() == {"k": 3, "n": 5}
    assert t.subsets == tuple(itertools.combinations(range(5), 3))
    assert get_protocol("threshold-sharing", parties=5).parameters() == {"k": 3, "n": 5}
    assert get_protocol("threshold-sharing", n=5, parties=5).n == 5


@pytest.mark.parametrize("kwargs, name, value, allowed", [
    ({"parties": 4}, "parties", 4, "integers in [5, 5]"),
    ({"parties": 6}, "parties", 6, "integers in [5, 5]"),
    ({"n": 5, "parties": 4}, "parties", 4, "equal to n=5"),
    ({"k": 1, "n": 1}, "k", (1, 1), "(k, n) = (3, 5)"),
    ({"k": 1, "n": 0}, "n", 0, "integers in [1, inf]"),
    ({"k": 0, "n": 1}, "k", 0, "integers in [1, inf]"),
    ({"k": 4, "n": 3}, "k", 4, "k <= n = 3"),
    ({"k": 3, "n": 3}, "k", (3, 3), "(k, n) = (3, 5)"),
    ({"k": 2, "n": 4}, "n", 4, "n < 2k = 4"),
    ({"k": 1}, "n", 5, "n < 2k = 2"),
    ({"k": 3, "n": 4}, "k", (3, 4), "(k, n) = (3, 5)"),
])
def test_threshold_refusals_name_value_allowed(kwargs, name, value, allowed):
    """k <= n < 2k (no-cloning), then only ((3, 5)) is implemented; k, n >= 1; parties is n.

    catches: a bound moved by one, k > n as k >= n, n >= 2k as n > 2k or n >= 3k, an error naming
    the wrong parameter or value."""
    with pytest.raises(InvalidParameter) as err:
        get_protocol("threshold-sharing", **kwargs)
    assert (err.value.name, err.value.value, err.value.allowed) == (name, value, allowed)


_GENERATORS = ("XZZXI", "IXZZX", "XIXZZ", "ZXIXZ")


@pytest.mark.parametrize("basis, bit", PAULI_STATES)
def test_encoding_is_in_the_code_with_the_secret_as_logical_value(basis, bit):
    """encoding_circuit(b, v) is a +1 eigenstate of the four stabiliser generators and has
    <L> = (-1)^v for the logical operator of its basis: Z_L = ZZZZZ (basis 0), X_L = XXXXX (1),
    Y_L = i X_L Z_L = YYYYY (2). The default is |0_L>.

    catches: a preparation gate dropped or swapped (H, S, X), the secret on the wrong qubit, the
    default basis or bit changed."""
    t = get_protocol("threshold-sharing")
    sv = Statevector(t.encoding_circuit(basis, bit))
    for g in _GENERATORS:
        assert sv.expectation_value(Pauli(g)).real == pytest.approx(1.0, abs=1e-9)
    x_l, z_l = Pauli("XXXXX").to_matrix(), Pauli("ZZZZZ").to_matrix()
    logical = {0: z_l, 1: x_l, 2: Pauli("YYYYY").to_matrix()}[basis]
    np.testing.assert_allclose(1j * x_l @ z_l, logical if basis == 2 else 1j * x_l @ z_l)
    assert np.vdot(sv.data, logical @ sv.data).real == pytest.approx((-1) ** bit, abs=1e-9)
    default = Statevector(t.encoding_circuit())
    assert np.vdot(default.data, z_l @ default.data).real == pytest.approx(1.0, abs=1e-9)


def test_share_state_and_recovery_refusals():
    """share_state: each index in [0, 4] and distinct; recovery_fidelity: the shares must be one of
    the ten 3-subsets (in any order), reported sorted; a valid call still works.

    catches: the lower bound dropped (a negative index silently read), the refusal without its value."""
    t = get_protocol("threshold-sharing")
    with pytest.raises(InvalidParameter) as err:
        t.share_state(np.array([1, 0]), [0, 5])
    assert (err.value.name, err.value.value, err.value.allowed) == ("shares", 5, "integers in [0, 4]")
    with pytest.raises(InvalidParameter) as err:
        t.share_state(np.array([1, 0]), [-1, 2])
    assert (err.value.name, err.value.value) == ("shares", -1)
    with pytest.raises(InvalidParameter) as err:
        t.share_state(np.array([1, 0]), [1, 1])
    assert (err.value.name, err.value.value, err.value.allowed) == ("shares", [1, 1], "distinct party indices")
    assert t.share_state(np.array([1, 0]), [4]).dim == 2
    with pytest.raises(InvalidParameter) as err:
        t.recovery_fidelity(np.array([1, 0]), [3, 1])
    assert (err.value.name, err.value.value, err.value.allowed) == \
        ("shares", (1, 3), "3 distinct indices in [0, 4]")
    assert t.recovery_fidelity(np.array([0, 1]), [4, 0, 2]) == pytest.approx(1.0, abs=1e-9)


def test_threshold_circuits_and_refusals():
    """60 circuits (6 secrets x 10 subsets, secret-major), named share_b<basis><bit>_<subset>, one
    clbit; the default form is "fast"; an eavesdropper or the erasure form is refused by name, value
    and allowed, in build_circuits and in expected().

    catches: the circuit names dropped, a changed default form, a refusal missing its name, value
    or allowed set."""
    t = get_protocol("threshold-sharing")
    qcs = t.build_circuits()
    assert len(qcs) == 60
    assert qcs[0].name == "share_b00_012" and qcs[13].name == "share_b01_023" and qcs[59].name == "share_b21_234"
    assert all((c.num_qubits, c.num_clbits) == (5, 1) for c in qcs)
    eve = InterceptResend()
    with pytest.raises(InvalidParameter) as err:
        t.build_circuits(eavesdropper=eve)
    assert (err.value.name, err.value.value, err.value.allowed) == ("eavesdropper", eve, "None")
    with pytest.raises(InvalidParameter) as err:
        t.build_circuits(form="erasure")
    assert (err.value.name, err.value.value, err.value.allowed) == ("form", "erasure", "'fast'")
    with pytest.raises(InvalidParameter) as err:
        t.expected(Channel(), eavesdropper="intercept-resend")
    assert (err.value.name, err.value.value, err.value.allowed) == ("eavesdropper", "intercept-resend", "None")


def test_threshold_gates_carry_their_labels():
    """The encoder and decoder gates are labelled for a person drawing the circuits: encode_5_1_3 on
    all five qubits, decode on the three pooled shares.

    catches: a label dropped or changed."""
    t = get_protocol("threshold-sharing")
    enc = [i for i in t.encoding_circuit(1, 1).data if i.operation.name == "unitary"]
    assert [i.operation.label for i in enc] == ["encode_5_1_3"]
    qc = t.build_circuits()[13]  # secret (0, 1), subset (0, 2, 3)
    labels = [(i.operation.label, [qc.find_bit(q).index for q in i.qubits]) for i in qc.data
              if i.operation.name == "unitary"]
    assert labels == [("encode_5_1_3", [0, 1, 2, 3, 4]), ("decode", [0, 2, 3])]


def test_threshold_draws_secrets_and_subsets_uniformly():
    """sample(): config = secret * 10 + subset with secret uniform over the 6 Pauli states and the
    subset uniform over the 10; a round counts when the 3 pooled shares click (here only shares 0-2
    arrive, so only subset (0, 1, 2) ever counts).

    catches: a secret or subset never drawn (integers from 1), the click test on the wrong shares."""
    t = get_protocol("threshold-sharing")
    rounds = 12_000
    cfg, arrived, outcome = t.sample(Channel(), rounds=rounds, seed=9)
    assert cfg.shape == arrived.shape == outcome.shape == (rounds,)
    for s in range(6):
        assert_proportion(int(np.sum(cfg // 10 == s)), rounds, 1 / 6, what=f"secret {s}")
    for sub in range(10):
        assert_proportion(int(np.sum(cfg % 10 == sub)), rounds, 0.1, what=f"subset {sub}")
    lossy = [Channel()] * 3 + [Channel(transmittance=0.0)] * 2
    cfg, arrived, outcome = t.sample(lossy, rounds=2000, seed=9)
    np.testing.assert_array_equal(arrived, cfg % 10 == 0)
    assert outcome.shape == (int(arrived.sum()),) and np.all(outcome == 0)
    r = t.run(lossy, rounds=2000, seed=9)
    assert_proportion(sum(r.counts["recovered"]), 2000, 0.1, what="only subset (0, 1, 2) counts")


def test_threshold_analyse_hand_record_and_tiny_runs():
    """Tallies per secret from a hand record: configs 3, 7, 30, 55, 59 are secrets 0, 0, 3, 5, 5 (55
    not arrived), outcomes 0, 1, 0, 1 on the arrived ones, a success where the outcome is 0:
    recovered (2, 0, 0, 1, 0, 1), successes (1, 0, 0, 1, 0, 0); a 2-round run still has six
    entries per tally.

    catches: secrets read as cfg % 10, a missing minlength (shorter tallies when a secret never
    arrives), successes counted on outcome 1."""
    t = get_protocol("threshold-sharing")
    cfg = np.array([3, 7, 30, 55, 59])
    arrived = np.array([True, True, True, False, True])
    outcome = np.array([0, 1, 0, 1], dtype=np.uint8)
    tal = t.analyse((cfg, arrived, outcome))
    assert tal["recovered"] == (2, 0, 0, 1, 0, 1)
    assert tal["success"] == (1, 0, 0, 1, 0, 0)
    r = t.run(Channel(), rounds=2, seed=1)
    assert len(r.counts["recovered"]) == len(r.counts["success"]) == 6 and sum(r.counts["recovered"]) == 2


def test_threshold_result_shapes_bounds_and_estimates():
    """Six tallies each; success <= recovered per secret; fidelity = total successes / total
    recovered, detection = recovered / rounds.

    catches: a bound on the wrong index, estimates over the wrong totals, a wrong tally length."""
    r = _threshold_result({"recovered": (10, 10, 10, 10, 10, 5), "success": (9, 8, 10, 7, 10, 5)})
    est = r.estimates()
    assert (est["detection_rate"].successes, est["detection_rate"].trials) == (55, 100)
    assert (est["fidelity"].successes, est["fidelity"].trials) == (49, 55)
    for i in range(6):
        bad = [1] * 6
        good = [1] * 6
        bad[i] = 2
        with pytest.raises(InvalidParameter) as err:
            _threshold_result({"recovered": tuple(good), "success": tuple(bad)})
        assert (err.value.name, err.value.value) == (f"counts['success'][{i}]", 2)
    with pytest.raises(InvalidParameter):
        _threshold_result({"recovered": (1,) * 7, "success": (1,) * 7})


def test_threshold_expected_without_any_click_has_no_fidelity():
    """No share can click: the detection rate is 0 and the fidelity is undefined (absent, not NaN).
    With one pooled subset possible the fidelity is that subset's.

    catches: the no-click guard loosened (a NaN fidelity), subsets weighted uniformly."""
    t = get_protocol("threshold-sharing")
    x = t.expected(Channel(transmittance=0.0))
    assert x == {"detection_rate": 0.0}
    lossy = [Channel()] * 3 + [Channel(transmittance=0.0)] * 2
    x = t.expected(lossy)
    assert x["detection_rate"] == pytest.approx(0.1) and x["fidelity"] == pytest.approx(1.0, abs=1e-12)


# ---- the closed form's Pauli algebra and the decoder's layout ----------------------------------
# _normaliser_table and _decoder are cached (functools.lru_cache); they are called here through
# ``__wrapped__`` so that each test recomputes them from their helpers (in a mutation run the cache
# filled by an earlier test would otherwise hide a mutant of the helper).
_P1 = [np.eye(2), np.array([[0, 1], [1, 0]]), np.array([[0, -1j], [1j, 0]]), np.diag([1.0, -1.0])]


def _string_matrix(codes):
    """The Pauli string with codes[j] (0 I, 1 X, 2 Y, 3 Z) on qubit j, as a Qiskit-ordered matrix
    (qubit 0 the least significant bit)."""
    out = np.eye(1)
    for c in reversed(codes):
        out = np.kron(out, _P1[c])
    return out


def _code_states():
    """|0_L>, |1_L> from the stabilisers (projector onto their +1 space applied to |00000>),
    |1_L> = X_L |0_L>; qubit 0 the least significant bit."""
    proj = np.eye(32, dtype=complex)
    for g in _GENERATORS:
        proj = proj @ (np.eye(32) + _string_matrix(["IXYZ".index(c) for c in g])) / 2
    zero = proj[:, 0] / np.linalg.norm(proj[:, 0])
    return zero, _string_matrix([1] * 5) @ zero


def test_pauli_product_equals_the_matrix_product():
    """(phase, string) with phase * string = a * b as matrices, for every pair of one-qubit Paulis
    and for 5-qubit strings with phased inputs.

    catches: a wrong sign or factor of i for any pair, identity factors given a phase, the input
    phases dropped."""
    for x, y in itertools.product(range(4), repeat=2):
        phase, (z,) = _pauli_product((1.0 + 0j, (x,)), (1.0 + 0j, (y,)))
        np.testing.assert_allclose(phase * _P1[z], _P1[x] @ _P1[y], atol=1e-12, err_msg=f"{x} {y}")
    rng = np.random.default_rng(2)
    for _ in range(20):
        a, b = tuple(rng.integers(0, 4, 5)), tuple(rng.integers(0, 4, 5))
        pa, pb = (1j, -1.0)
        phase, string = _pauli_product((pa, a), (pb, b))
        np.testing.assert_allclose(phase * _string_matrix(string),
                                   pa * pb * _string_matrix(a) @ _string_matrix(b), atol=1e-12)


def test_normaliser_table_gives_the_code_matrix_elements():
    """Every 5-qubit Pauli string S: the table's entry (P, lam) means <a_L| S |b_L> = lam <a|P|b> on the
    code space; a string absent from the table has zero code-space block. 4 x 16 = 64 entries.

    catches: any phase of the Pauli algebra wrong (the closed form's coefficients), strings coded
    in another order."""
    table = _normaliser_table.__wrapped__()
    assert len(table) == 64
    zero, one = _code_states()
    basis = np.stack([zero, one], axis=1)
    for codes in itertools.product(range(4), repeat=5):
        block = basis.conj().T @ _string_matrix(codes) @ basis
        if codes in table:
            p, lam = table[codes]
            np.testing.assert_allclose(block, lam * _P1[p], atol=1e-9, err_msg=str(codes))
        else:
            np.testing.assert_allclose(block, 0.0, atol=1e-9, err_msg=str(codes))


@pytest.mark.parametrize("keep", [(0, 1, 2), (3, 0, 4), (4, 2)])
def test_axes_matrix_layout(keep):
    """Basis state |i> (qubit q = bit q of i) lands at row sum_j bit(keep[j]) 2^j and column
    sum_j bit(rest[j]) 2^j (rest ascending): little-endian in each, keep in the given order.

    catches: the axes left in numpy's (big-endian, unsplit) order."""
    rest = [q for q in range(5) if q not in keep]
    for i in range(32):
        e = np.zeros(32)
        e[i] = 1.0
        m = _axes_matrix(e, keep)
        want = np.zeros((2 ** len(keep), 2 ** len(rest)))
        bit = [(i >> q) & 1 for q in range(5)]
        want[sum(bit[q] << j for j, q in enumerate(keep)), sum(bit[q] << j for j, q in enumerate(rest))] = 1.0
        np.testing.assert_array_equal(m, want)


def test_decoder_moves_the_secret_onto_the_first_pooled_share():
    """For every 3-subset, the decoding unitary (recomputed) applied to the pooled shares of
    a|0_L> + b|1_L> leaves the secret on the first of them, for the Z, X and Y eigenstates.

    catches: the code words' (pooled | rest) split in the wrong qubit order."""
    zero, one = _code_states()
    secrets = [np.array([1, 0]), np.array([0, 1]), np.array([1, 1]) / np.sqrt(2), np.array([1, 1j]) / np.sqrt(2)]
    for sub in itertools.combinations(range(5), 3):
        u = _decoder.__wrapped__(sub)
        for psi in secrets:
            sv = Statevector(psi[0] * zero + psi[1] * one).evolve(UnitaryGate(u), list(sub))
            red = partial_trace(sv, [q for q in range(5) if q != sub[0]]).data
            assert np.real(np.vdot(psi, red @ psi)) == pytest.approx(1.0, abs=1e-9), (sub, psi)
