"""The shared multipartite machinery (protocols/_multiparty.py) tested directly: tallies, result
validation, the parties' noise models, closed-form loss sampling and noise-click randomisation.

Expected values are closed forms written here (docs/conventions.md section 0 and C.8: a click with
probability eta + (1 - eta) Y0, a noise-only fraction (1 - eta) Y0 / P_click, a Pauli-basis flip
probability p_q / 2 with p_q = 1 - (1 - p)(1 - 2 e_d)) or scipy's beta quantiles (Clopper-Pearson);
statistical checks use the ~5 sigma rule with fixed seeds. Every channel set is asymmetric so a
party mix-up shows.
"""

import dataclasses
import math
import warnings

import numpy as np
import pytest
from qiskit import QuantumCircuit
from scipy import stats

from qproto import Channel, Engine, InvalidParameter, InvalidType, get_protocol
from qproto.noise_models import CHANNEL_LABEL, channel_marker
from qproto.protocols._multiparty import (
    MultipartyResult, Tally, effective_depolarisations, ghz_prefix, party_noise_model, randomise_noise_clicks,
    sample_arrivals_all, sample_bits, tally,
)


def _within_5_sigma(successes: int, trials: int, p: float) -> bool:
    return abs(successes - trials * p) <= 5.0 * math.sqrt(trials * p * (1.0 - p)) + 1e-9


# ---- Tally ---------------------------------------------------------------------------------
def test_tallies_add_element_wise_and_keep_keys_only_one_side_has():
    """catches: + refusing dicts, subtracting, replacing instead of adding, dropping a key."""
    a = Tally(errors=(3, 7), rounds=(100,))
    b = {"errors": (10, 20), "tests": (5,)}
    s = a + b
    assert isinstance(s, Tally)
    assert s == {"errors": (13, 27), "rounds": (100,), "tests": (5,)}
    assert all(type(x) is int for v in s.values() for x in v)
    assert a == {"errors": (3, 7), "rounds": (100,)}  # the left operand is not modified
    with pytest.raises(TypeError):
        a + 5  # noqa: B018  (not a tally: Python's TypeError, not a silent result)


def test_tally_builds_tuples_of_plain_ints_from_ints_and_arrays():
    t = tally(errors=np.array([[3, 4], [5, 6]], dtype=np.int64), rounds=np.uint16(9), tests=[1])
    assert isinstance(t, Tally) and t == {"errors": (3, 4, 5, 6), "rounds": (9,), "tests": (1,)}
    assert all(type(x) is int for v in t.values() for x in v)


# ---- MultipartyResult validation -----------------------------------------------------------
def _result(counts, **kw):
    return MultipartyResult(protocol="ghz-cka", parameters={}, channels=(Channel(),), rounds=1000, seed=0,
                            counts=counts, **kw)


def test_counts_that_are_not_a_dict_are_refused_naming_counts_and_the_value():
    with pytest.raises(InvalidType) as e:
        _result([3, 4])
    assert e.value.name == "counts" and e.value.value == [3, 4]
    assert "counts=[3, 4]" in str(e.value)


def test_a_tally_that_is_not_a_sequence_is_refused_naming_its_key_and_value():
    with pytest.raises(InvalidType) as e:
        _result({"errors": (1, 2), "rounds": 17})
    assert e.value.name == "counts['rounds']" and e.value.value == 17
    assert "counts['rounds']=17" in str(e.value)


def test_a_negative_count_is_refused_naming_its_key_and_index():
    """A count is a number of events: -1 describes no run."""
    with pytest.raises(InvalidParameter) as e:
        _result({"errors": (5, -1)})
    assert e.value.name == "counts['errors'][1]" and e.value.value == -1


def test_counts_are_stored_as_tuples_of_plain_ints():
    """Lists and numpy integers are normalised (so results compare equal and serialise to JSON)."""
    r = _result({"errors": [3, np.int64(4)], "rounds": (np.uint32(9),)})
    assert r.counts == {"errors": (3, 4), "rounds": (9,)}
    assert all(type(x) is int for v in r.counts.values() for x in v)


def test_estimates_use_the_results_confidence_level():
    """A 90 % result reports 90 % Clopper-Pearson intervals, not the default 95 % ones."""
    proto = get_protocol("ghz-cka", parties=3)
    counts = tally(key_rounds=6000, test_rounds=4000, errors_ab=[120, 300], all_equal=5700, alice_ones=3000,
                   parity_errors=410, eve_rounds=0, eve_correct=0)
    res = proto.make_result(counts, channels=(Channel(),) * 3, rounds=12_000, seed=0, eavesdropper=None)
    res90 = dataclasses.replace(res, confidence=0.9)
    qx = res90.estimates()["qber_x"]
    assert qx.best == pytest.approx(410 / 4000)
    assert qx.low == pytest.approx(stats.beta.ppf(0.05, 410, 4000 - 410 + 1), rel=1e-9)
    assert qx.high == pytest.approx(stats.beta.ppf(0.95, 411, 4000 - 410), rel=1e-9)
    det = res90.estimates()["detection_rate"]
    assert det.low == pytest.approx(stats.beta.ppf(0.05, 10_000, 2001), rel=1e-9)


def _ghz_counts(**changes):
    """Consistent GHZ-CKA tallies for 3 parties (2 Bobs), with ``changes`` applied."""
    c = dict(key_rounds=(600,), test_rounds=(400,), errors_ab=(12, 30), all_equal=(570,), alice_ones=(300,),
             parity_errors=(41,), eve_rounds=(0,), eve_correct=(0,))
    c.update(changes)
    return {k: v for k, v in c.items() if v is not None}


def _ghz_result(counts):
    proto = get_protocol("ghz-cka", parties=3)
    return proto.make_result(Tally(counts), channels=(Channel(),) * 3, rounds=1200, seed=0, eavesdropper=None)


def test_tallies_with_a_missing_or_unknown_key_are_refused_naming_both_key_sets():
    """Truncated data: a result without 'eve_correct' (or with a stray key) describes no run."""
    keys = sorted(_ghz_counts())
    with pytest.raises(InvalidParameter) as e:
        _ghz_result(_ghz_counts(eve_correct=None))
    assert e.value.name == "counts" and e.value.value == [k for k in keys if k != "eve_correct"]
    assert e.value.allowed == f"the keys {keys}"
    assert "a ghz-cka result has" in str(e.value) and "'eve_correct'" in str(e.value)
    with pytest.raises(InvalidParameter) as e:
        _ghz_result(_ghz_counts(stray=(1,)))
    assert e.value.name == "counts" and "stray" in e.value.value


def test_a_tally_of_the_wrong_length_is_refused_naming_the_expected_length():
    """3 parties: one error count per Bob, 2 of them."""
    with pytest.raises(InvalidParameter) as e:
        _ghz_result(_ghz_counts(errors_ab=(12, 30, 7)))
    assert e.value.name == "counts['errors_ab']" and e.value.value == (12, 30, 7)
    assert e.value.allowed == "2 value(s)" and "has 3 value(s)" in str(e.value)


def test_more_detections_than_rounds_are_refused_and_as_many_are_fine():
    with pytest.raises(InvalidParameter) as e:
        _result({"detected": (1001,)})
    assert e.value.name == "counts['detected'][0]" and e.value.value == 1001
    assert e.value.allowed == "at most rounds=1000"
    assert _result({"detected": (1000,)}).c("detected") == 1000
    assert _result({"detected": ()}).counts == {"detected": ()}  # an empty tally has no first entry


def test_a_part_larger_than_its_whole_is_refused_naming_both_entries_and_equal_is_fine():
    """errors_ab[1] <= key_rounds and parity_errors <= test_rounds (a count of a subset of events)."""
    with pytest.raises(InvalidParameter) as e:
        _ghz_result(_ghz_counts(errors_ab=(12, 601)))
    assert e.value.name == "counts['errors_ab'][1]" and e.value.value == 601
    assert e.value.allowed == "at most counts['key_rounds'][0]=600"
    assert "counts['errors_ab'][1]=601 exceeds counts['key_rounds'][0]=600" in str(e.value)
    with pytest.raises(InvalidParameter) as e:
        _ghz_result(_ghz_counts(parity_errors=(401,)))
    assert e.value.name == "counts['parity_errors'][0]" and e.value.value == 401
    r = _ghz_result(_ghz_counts(errors_ab=(600, 30), parity_errors=(400,)))
    assert r.c("errors_ab", 0) == 600 and r.c("errors_ab", 1) == 30 and r.c("parity_errors") == 400


# ---- MultipartyProtocol --------------------------------------------------------------------
def test_repr_names_the_class_and_every_parameter():
    assert repr(get_protocol("ghz-cka", parties=4, p_key=0.6, attacked_party=2)) == (
        "GHZConferenceKey(parties=4, p_key=0.6, attacked_party=2, noise_form='auto')")


def test_the_number_of_parties_is_checked_against_the_protocols_range():
    """HBB secret sharing: 3..8 parties (a dealer and at least two players)."""
    for bad in (2, 9):
        with pytest.raises(InvalidParameter) as e:
            get_protocol("hbb-secret-sharing", parties=bad)
        assert e.value.name == "parties" and e.value.value == bad and "[3, 8]" in e.value.allowed
    for good in (3, 8):
        p = get_protocol("hbb-secret-sharing", parties=good)
        assert p.parties == good and p.n_channels == good


def test_a_party_index_is_checked_against_the_number_of_parties():
    """attacked_party in [1, N-1] for HBB (the dealer, party 0, is not attacked); sender in [0, N-1]."""
    for bad in (0, 5):
        with pytest.raises(InvalidParameter) as e:
            get_protocol("hbb-secret-sharing", parties=5, attacked_party=bad)
        assert e.value.name == "attacked_party" and e.value.value == bad and "[1, 4]" in e.value.allowed
    assert get_protocol("hbb-secret-sharing", parties=5, attacked_party=1).attacked_party == 1
    assert get_protocol("hbb-secret-sharing", parties=5, attacked_party=4).attacked_party == 4
    with pytest.raises(InvalidParameter) as e:
        get_protocol("ghz-cka", parties=4, attacked_party=4)
    assert e.value.name == "attacked_party" and "[0, 3]" in e.value.allowed


def test_make_result_records_the_run():
    from qproto import InterceptResend
    proto = get_protocol("ghz-cka", parties=3)
    chans = (Channel(depolarisation=0.1), Channel(transmittance=0.5), Channel())
    counts = _ghz_counts()
    r = proto.make_result(Tally(counts), channels=chans, rounds=1200, seed=17, eavesdropper=None)
    assert type(r).__name__ == "GHZConferenceResult" and r.protocol == "ghz-cka"
    assert r.parameters == proto.parameters() and r.channels == chans
    assert r.rounds == 1200 and r.seed == 17 and r.eavesdropper is None and r.counts == counts
    eve = InterceptResend()
    assert proto.make_result(Tally(counts), channels=chans, rounds=1200, seed=17,
                             eavesdropper=eve).eavesdropper == eve.to_dict()


# ---- circuits ------------------------------------------------------------------------------
def test_ghz_prefix_prepares_ghz_n_with_a_marker_on_each_party_qubit():
    """(|0...0> + |1...1>) / sqrt 2 on the N party qubits, extra qubits left in |0>."""
    from qiskit.quantum_info import Statevector
    qc = ghz_prefix(3)
    assert qc.name == "ghz" and qc.num_qubits == 3 and qc.num_clbits == 3
    marked = [qc.find_bit(i.qubits[0]).index for i in qc.data if i.operation.label == CHANNEL_LABEL]
    assert marked == [0, 1, 2]
    amp = Statevector(qc.remove_final_measurements(inplace=False)).data
    expected = np.zeros(8, dtype=complex)
    expected[[0, 7]] = 1 / math.sqrt(2)
    np.testing.assert_allclose(amp, expected, atol=1e-12)

    qc = ghz_prefix(3, 5, 2, name="x", markers=False)
    assert qc.name == "x" and qc.num_qubits == 5 and qc.num_clbits == 2
    assert not any(i.operation.label == CHANNEL_LABEL for i in qc.data)
    amp = Statevector(qc).data  # qubit 0 is the least significant bit of the index
    expected = np.zeros(32, dtype=complex)
    expected[[0, 0b00111]] = 1 / math.sqrt(2)
    np.testing.assert_allclose(amp, expected, atol=1e-12)
    assert ghz_prefix(2, n_clbits=0).num_clbits == 0


def test_sample_bits_keeps_the_engines_default_aer_seed():
    """Without aer_seed, the same rows as the engine's own default (a fixed seed: reproducible);
    the Aer seed does matter here (shots path, uniformly random outcomes)."""
    qc = QuantumCircuit(3, 3)
    qc.h([0, 1, 2])
    qc.measure(range(3), range(3))
    compiled = Engine(mode="shots").compile([qc])
    ids = np.zeros(64, dtype=np.int64)
    ours = sample_bits(compiled, ids, np.random.default_rng(5))
    assert ours.shape == (64, 3)
    np.testing.assert_array_equal(ours, compiled.sample_bits(ids, np.random.default_rng(5)))
    assert not np.array_equal(ours, sample_bits(compiled, ids, np.random.default_rng(5), aer_seed=1))


# ---- noise -----------------------------------------------------------------------------------
def test_effective_depolarisation_counts_noise_clicks_as_fully_depolarised():
    """p_eff = 1 - s (1 - p_q), s = eta / (eta + (1 - eta) Y0) (docs/conventions.md C.8(b))."""
    chans = [Channel(transmittance=0.5, noise_click=0.2, depolarisation=0.1),  # s = 5/6: 1 - 5/6 * 0.9
             Channel(transmittance=0.0, noise_click=0.3),  # only noise clicks: 1
             Channel(misalignment=0.1)]  # p_q = 1 - 0.8
    p = effective_depolarisations(chans)
    assert p.dtype == np.float64 and p.shape == (3,)
    np.testing.assert_allclose(p, [0.25, 1.0, 0.2], atol=1e-12)


def _flip_probabilities(form, qubits):
    """Exact P(read != prepared) on each of 5 qubits (qubits 1 and 4 prepared in |1>)."""
    chans = [Channel(depolarisation=0.2), Channel(misalignment=0.15)]  # flip p_q/2 = 0.1 and 0.15
    qc = QuantumCircuit(5, 5)
    qc.x([1, 4])
    for q in range(5):
        qc.append(channel_marker(), [q])
    qc.measure(range(5), range(5))
    probs = Engine(mode="distribution").compile([qc], party_noise_model(chans, form=form, qubits=qubits)
                                                ).probabilities[0]
    codes = np.arange(probs.size)
    prepared = np.array([0, 1, 0, 0, 1])
    return [float(probs[((codes >> k) & 1) != prepared[k]].sum()) for k in range(5)]


@pytest.mark.parametrize("form", ["readout", "depolarising"])
def test_party_noise_acts_on_the_given_qubits(form):
    """Party j's channel acts on qubits[j] (here 4 and 1), in both forms, and nowhere else."""
    np.testing.assert_allclose(_flip_probabilities(form, [4, 1]), [0.0, 0.15, 0.0, 0.0, 0.1], atol=1e-12)
    np.testing.assert_allclose(_flip_probabilities(form, None), [0.1, 0.15, 0.0, 0.0, 0.0], atol=1e-12)


def test_readout_form_refuses_a_rotated_channel_naming_the_party():
    with pytest.raises(InvalidParameter) as e:
        party_noise_model([Channel(depolarisation=0.1), Channel(rotation_rad=0.25)], form="readout")
    assert e.value.name == "channels[1].rotation_rad"
    assert e.value.value == 0.25
    assert e.value.allowed == "0 with form='readout'"
    assert "channels[1].rotation_rad=0.25" in str(e.value) and "form='depolarising'" in str(e.value)


# ---- loss and noise clicks -------------------------------------------------------------------
def test_lossless_noiseless_channels_detect_every_round_without_flags():
    """Documented: detected is None when every round is detected, noise_only None without noise clicks."""
    chans = [Channel(), Channel(depolarisation=0.3, noise_click=0.4)]  # eta = 1: a noise click never counts
    detected, noise_only = sample_arrivals_all(chans, 500, np.random.default_rng(1))
    assert detected is None and noise_only is None
    lossy = [Channel(transmittance=0.7), Channel()]  # loss but no noise clicks
    detected, noise_only = sample_arrivals_all(lossy, 500, np.random.default_rng(1))
    assert detected is not None and detected.shape == (500,) and noise_only is None


def test_all_party_detection_and_noise_only_fractions_follow_the_closed_forms():
    """P_all = prod_j (eta_j + (1 - eta_j) Y0_j); party j's noise-only fraction (1 - eta_j) Y0_j / P_click,j."""
    chans = [Channel(transmittance=0.5, noise_click=0.2),  # P = 0.6, noise-only 0.1 / 0.6 = 1/6
             Channel(),  # P = 1, never noise-only
             Channel(transmittance=0.4, detector_efficiency=0.5, noise_click=0.5)]  # eta 0.2: P = 0.6, 2/3
    n = 20_000
    detected, noise_only = sample_arrivals_all(chans, n, np.random.default_rng(7))
    n_det = int(detected.sum())
    assert _within_5_sigma(n_det, n, 0.36)
    assert noise_only.shape == (n_det, 3) and noise_only.dtype == bool
    assert _within_5_sigma(int(noise_only[:, 0].sum()), n_det, 1 / 6)
    assert not noise_only[:, 1].any()
    assert _within_5_sigma(int(noise_only[:, 2].sum()), n_det, 2 / 3)
    # independent per party: P(both 0 and 2 noise-only) = 1/6 * 2/3
    assert _within_5_sigma(int((noise_only[:, 0] & noise_only[:, 2]).sum()), n_det, 1 / 9)


def test_a_dead_link_gives_no_detections_and_no_warning():
    """A party that can never click (eta = 0, Y0 = 0) next to a noisy one: no round is detected,
    and no 0/0 division is attempted (no RuntimeWarning reaches the user)."""
    chans = [Channel(transmittance=0.0), Channel(transmittance=0.5, noise_click=0.1)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        detected, noise_only = sample_arrivals_all(chans, 300, np.random.default_rng(3))
    assert not detected.any() and noise_only.shape == (0, 2)


def test_noise_clicks_read_uniform_bits_in_the_given_columns_only():
    """Flagged entries of the given columns become fair coin flips; everything else is untouched."""
    n = 4000
    bits = np.tile(np.array([1, 1, 0, 1, 0], dtype=np.uint8), (n, 1))
    noise_only = np.zeros((n, 2), dtype=bool)
    noise_only[:, 0] = True  # column 3 of bits: every row noise-only
    noise_only[: n // 2, 1] = True  # column 1 of bits: the first half only
    before = bits.copy()
    randomise_noise_clicks(bits, noise_only, np.random.default_rng(11), columns=[3, 1])
    np.testing.assert_array_equal(bits[:, [0, 2, 4]], before[:, [0, 2, 4]])
    np.testing.assert_array_equal(bits[n // 2:, 1], 1)
    assert _within_5_sigma(int(bits[:, 3].sum()), n, 0.5)
    assert _within_5_sigma(int(bits[: n // 2, 1].sum()), n // 2, 0.5)
    randomise_noise_clicks(bits, None, np.random.default_rng(11))  # no flags: nothing to do
