"""Decoy-state BB84: circuits, the two samplers, the pass streamer, results and bad inputs."""

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from qiskit import QuantumCircuit
from qiskit.quantum_info import Operator, Pauli, Statevector

from qproto import Channel, InvalidParameter, InvalidType, get_protocol, result_from_dict
from qproto.passes import DecoyPassResult, expected_pass_counts, pass_key_curve, simulate_pass
from qproto.protocols._decoy_bb84 import DecoyTallies
from qproto.protocols import DecoyBB84
from qproto.testing import assert_proportion, assert_same_proportion

CH = Channel(transmittance=0.05, depolarisation=0.04, misalignment=0.01, noise_click=1e-3)


def test_registered():
    assert isinstance(get_protocol("decoy-bb84"), DecoyBB84)


# ---- multi-photon pulses: n copies through one Pauli per pulse, squashed = the one-qubit circuit
def _squashed_p1(n: int, a_basis: int, a_bit: int, b_basis: int, p: float) -> float:
    """P(squashed bit = 1) of n identical copies through depolarising p acting on the mode."""
    qc = QuantumCircuit(n)
    for q in range(n):
        if a_bit:
            qc.x(q)
        if a_basis:
            qc.h(q)
    total = 0.0
    for label, w in (("I", 1 - 3 * p / 4), ("X", p / 4), ("Y", p / 4), ("Z", p / 4)):
        c = qc.copy()
        for q in range(n):
            c.append(Operator(Pauli(label)), [q])
        if b_basis:
            for q in range(n):
                c.h(q)
        probs = Statevector(c).probabilities()
        for outcome, pr in enumerate(probs):
            ones = bin(outcome).count("1")
            total += w * pr * (1.0 if ones == n else 0.0 if ones == 0 else 0.5)  # double click: random bit
    return total


@pytest.mark.parametrize("n", [1, 2, 3])
def test_multiphoton_copies_match_single_qubit_circuit(n):
    ch = Channel(depolarisation=0.1, misalignment=0.02)
    proto = DecoyBB84()
    compiled = proto.prepare(ch)[2]
    probs = compiled.probabilities
    for cfg in range(8):
        a_basis, a_bit, b_basis = (cfg >> 2) & 1, (cfg >> 1) & 1, cfg & 1
        want = _squashed_p1(n, a_basis, a_bit, b_basis, ch.qubit_depolarisation)
        assert probs[cfg, 1] == pytest.approx(want, abs=1e-9)


# ---- samplers ------------------------------------------------------------------------------
def test_counts_first_agrees_with_per_pulse_sampler():
    proto = DecoyBB84(intensities=(0.6, 0.2, 0.0), probabilities=(0.5, 0.3, 0.2), p_z=0.7)
    n = 1_500_000
    a = proto.run(CH, rounds=n, seed=1, sampler="pulses").counts
    b = proto.run(CH, rounds=n, seed=2, sampler="counts").counts
    for k in range(3):
        assert_same_proportion(a.sent[k], n, b.sent[k], n, what=f"sent[{k}]")
        assert_same_proportion(a.detected[k], a.sent[k], b.detected[k], b.sent[k], what=f"gain[{k}]")
        assert_same_proportion(a.n_z[k], a.detected[k], b.n_z[k], b.detected[k], what=f"n_z[{k}]")
        assert_same_proportion(a.n_x[k], a.detected[k], b.n_x[k], b.detected[k], what=f"n_x[{k}]")
        assert_same_proportion(a.m_z[k], a.n_z[k], b.m_z[k], b.n_z[k], what=f"qber_z[{k}]")
        assert_same_proportion(a.m_x[k], a.n_x[k], b.m_x[k], b.n_x[k], what=f"qber_x[{k}]")
        assert_same_proportion(a.mismatched_agree[k], a.mismatched[k], b.mismatched_agree[k], b.mismatched[k],
                               what=f"mismatched agreement[{k}]")


def test_per_pulse_record_photon_numbers_are_poisson():
    proto = DecoyBB84()
    rec = proto.sample(CH, rounds=400_000, seed=3)
    for k, mu in enumerate(proto.intensities):
        sel = rec.intensity == k
        assert rec.photons[sel].mean() == pytest.approx(mu, abs=5 * math.sqrt(mu / sel.sum()) + 1e-12)
    assert rec.tallies() == proto.analyse(rec)


@pytest.mark.parametrize("sampler", ["counts", "pulses"])
def test_matches_closed_form(sampler):
    proto = DecoyBB84(intensities=(0.5, 0.1, 0.0), probabilities=(0.6, 0.3, 0.1), p_z=0.8)
    r = proto.run(CH, rounds=1_000_000, seed=4, sampler=sampler)
    exp = proto.expected(CH)
    c = r.counts
    for k in range(3):
        assert_proportion(c.detected[k], c.sent[k], float(exp["gain"][k]), what=f"gain[{k}]")
        assert_proportion(c.m_z[k] + c.m_x[k], c.n_z[k] + c.n_x[k], float(exp["qber"][k]), what=f"qber[{k}]")
        assert_proportion(c.mismatched_agree[k], c.mismatched[k], 0.5, what="mismatched")
    assert_proportion(sum(c.sent[:1]), r.rounds, 0.6, what="p1")


@settings(max_examples=8, deadline=None)
@given(eta=st.floats(1e-4, 1.0), p=st.floats(0.0, 0.3), y0=st.floats(0.0, 1e-2), seed=st.integers(0, 2**31))
def test_counts_sampler_matches_closed_form_property(eta, p, y0, seed):
    ch = Channel(transmittance=eta, depolarisation=p, noise_click=y0)
    proto = DecoyBB84()
    r = proto.run(ch, rounds=10**8, seed=seed)
    exp = proto.expected(ch)
    for k in range(3):
        assert_proportion(r.counts.detected[k], r.counts.sent[k], float(exp["gain"][k]), what=f"gain[{k}]")
        n = r.counts.n_z[k] + r.counts.n_x[k]
        if n:
            assert_proportion(r.counts.m_z[k] + r.counts.m_x[k], n, float(exp["qber"][k]), what=f"qber[{k}]")


def test_noiseless_lossless_has_no_errors():
    r = DecoyBB84().run(Channel(), rounds=100_000, seed=5)
    assert sum(r.counts.m_z) == sum(r.counts.m_x) == 0
    assert r.counts.detected[2] == 0  # the vacuum never clicks without noise


def test_afterpulsing_adds_noise_clicks():
    base, ap = DecoyBB84(), DecoyBB84(afterpulse_probability=0.05)
    ch = Channel(transmittance=0.01, noise_click=1e-5)
    assert ap.expected(ch)["gain"][2] > base.expected(ch)["gain"][2]
    r = ap.run(ch, rounds=10**9, seed=6)
    assert_proportion(r.counts.detected[2], r.counts.sent[2], float(ap.expected(ch)["gain"][2]), what="vac")


def test_same_seed_same_result_and_round_trip():
    proto = DecoyBB84()
    for sampler in ("counts", "pulses"):
        a = proto.run(CH, rounds=200_000, seed=7, sampler=sampler)
        assert a == proto.run(CH, rounds=200_000, seed=7, sampler=sampler)
        assert result_from_dict(json.loads(json.dumps(a.to_dict()))) == a
    b = proto.run(CH, rounds=100_000, seed=8)
    merged = a + b
    assert merged.rounds == 300_000 and merged.counts == a.counts + b.counts


def test_key_from_simulation_vs_references():
    ch = Channel(transmittance=10**-2.5, misalignment=0.01, noise_click=1e-6)
    r = DecoyBB84().run(ch, rounds=10**11, seed=9)
    est = r.estimates()
    assert est["finite_key_length"] > 0
    # finite key below the asymptotic (infinite-decoy) rate times N; vac+weak close to and below the reference
    assert est["finite_key_length"] <= est["key_rate_infinite_decoy"] * r.rounds
    assert est["key_rate_vacuum_weak"] == pytest.approx(est["key_rate_infinite_decoy"], rel=0.1)
    assert est["plob_slot_average"] > est["key_rate_infinite_decoy"]


def test_cost_grows_with_clicks_not_pulses():
    import time
    t = time.perf_counter()
    r = DecoyBB84().run(Channel(transmittance=1e-7), rounds=10**13, seed=10)  # ~4e5 clicks
    assert time.perf_counter() - t < 5.0 and r.rounds == 10**13


# ---- the pass --------------------------------------------------------------------------------
PASS = tuple(Channel(transmittance=eta, misalignment=0.01, noise_click=1e-6, detector_efficiency=0.5)
             for eta in np.r_[np.logspace(-3.6, -3.0, 10), np.logspace(-3.0, -3.6, 10)])


def test_pass_counts_match_expectation():
    proto = DecoyBB84()
    res = simulate_pass(proto, PASS, source_rate_hz=1e9, seed=11)
    assert isinstance(res, DecoyPassResult) and res.rounds == 2 * 10**10
    exp = expected_pass_counts(proto, PASS, source_rate_hz=1e9)
    w = res.window()
    for k in range(3):
        for name in ("n_z", "n_x"):
            got = getattr(w.counts, name)[k]
            want = float(getattr(exp, name)[k])
            # n_{.,k} is Binomial(sent_k, f_basis Q_k) up to the O(Y0 eta mu) model difference
            assert_proportion(got, w.counts.sent[k], want / (w.counts.sent[k] or 1), what=f"{name}[{k}]")
        assert_proportion(w.counts.m_z[k], w.counts.n_z[k], float(exp.m_z[k] / exp.n_z[k]), what=f"qber_z[{k}]")


def test_pass_windows_and_reproducibility():
    proto = DecoyBB84()
    a = simulate_pass(proto, PASS, source_rate_hz=1e8, seed=12)
    assert a == simulate_pass(proto, PASS, source_rate_hz=1e8, seed=12)
    assert result_from_dict(json.loads(json.dumps(a.to_dict()))) == a
    inner = a.window(2.0)
    assert len(inner.channels) == 4 and inner.rounds == 4 * 10**8
    assert a.window().counts.sent == tuple(sum(c.sent[k] for c in a.slot_counts) for k in range(3))
    assert a.key_length(2.0) <= a.key_length()


def test_pass_key_curve_increases_with_window():
    curve = pass_key_curve(PASS, half_windows_s=[3, 10], source_rate_hz=1e9, n_starts=2, seed=13)
    k = [r.key_length for r in curve.rows]
    assert 0 < k[0] < k[1]
    for r in curve.rows:
        assert r.key_length == pytest.approx(r.expected_key_length, rel=0.2)


# ---- bad inputs --------------------------------------------------------------------------------
BAD = [
    (dict(intensities=(0.1, 0.5, 0.0)), "intensities"),
    (dict(intensities=(0.3, 0.2, 0.1)), "intensities"),
    (dict(intensities=(0.5, 0.1, 0.1)), "intensities"),
    (dict(intensities=(0.5, 0.1)), "intensities"),
    (dict(probabilities=(0.5, 0.3, 0.3)), "probabilities"),
    (dict(probabilities=(0.5, 0.5, 0.0)), "probabilities"),
    (dict(eps_sec=0.0), "eps_sec"),
    (dict(eps_sec=1.0), "eps_sec"),
    (dict(eps_cor=1.5), "eps_cor"),
    (dict(eps_cor=-1e-9), "eps_cor"),
    (dict(p_z=1.0), "p_z"),
    (dict(f_ec=0.9), "f_ec"),
    (dict(ec_leakage="magic"), "ec_leakage"),
    (dict(afterpulse_probability=1.0), "afterpulse_probability"),
]


@pytest.mark.parametrize("kwargs,name", BAD, ids=[n + str(i) for i, (_, n) in enumerate(BAD)])
def test_rejects_bad_parameters(kwargs, name):
    with pytest.raises(InvalidParameter) as e:
        DecoyBB84(**kwargs)
    assert name in str(e.value)


@pytest.mark.parametrize("kwargs,name", [
    (dict(source_rate_hz=-1.0), "source_rate_hz"), (dict(source_rate_hz=0.0), "source_rate_hz"),
    (dict(source_rate_hz=1e8, slot_s=-1.0), "slot_s"), (dict(source_rate_hz=1e8, time_s=[0.0]), "time_s"),
])
def test_pass_rejects_bad_inputs(kwargs, name):
    with pytest.raises(InvalidParameter) as e:
        simulate_pass(DecoyBB84(), PASS, **kwargs)
    assert name in str(e.value)


def test_rejects_unsupported_modes():
    with pytest.raises(InvalidParameter, match="eavesdropper"):
        DecoyBB84().run(CH, rounds=10, eavesdropper="intercept-resend")
    with pytest.raises(InvalidParameter, match="form"):
        DecoyBB84().run(CH, rounds=10, form="erasure")
    with pytest.raises(InvalidParameter, match="sampler"):
        DecoyBB84().run(CH, rounds=10, sampler="magic")
    with pytest.raises(InvalidType, match="protocol"):
        simulate_pass(get_protocol("bb84"), PASS, source_rate_hz=1.0)


# ---- many slots at once (qproto.passes) ------------------------------------------------------
class _PerClick:
    """Compiled circuits seen as off the distribution path: one outcome drawn per click."""

    mode = "shots"

    def __init__(self, compiled):
        self.compiled = compiled

    def sample_trusted(self, config_ids, rng, *, aer_seed=0):
        return self.compiled.sample_trusted(config_ids, rng, aer_seed=aer_seed)


@pytest.mark.parametrize("per_click", [False, True])
def test_slot_cells_follow_each_slots_closed_form(per_click):
    """sample_slot_cells draws every slot with its own channel: per slot, the gains and the Z and X
    error rates of a coherent rotation about Z (E_Z = q/2, E_X = (1 - (1 - q) cos theta)/2, written
    here) and the noise clicks with afterpulsing. Vectorised path (distribution) and slot-by-slot
    fallback (one outcome per click, as off the distribution path). catches: slots' channels mixed up, one slot's noise used for all, the
    rotation lost, the afterpulse term missing in the vectorised path."""
    from qproto import Engine

    theta, q, y0, p_ap = 0.5, 0.04, 2e-3, 0.05
    chans = [Channel(transmittance=eta, depolarisation=q, noise_click=y0, rotation_rad=theta,
                     rotation_axis=(0.0, 0.0, 1.0)) for eta in (0.02, 0.2, 0.6)]
    proto = DecoyBB84(intensities=(0.6, 0.2, 0.0), probabilities=(0.5, 0.3, 0.2), p_z=0.6,
                      afterpulse_probability=p_ap)
    compiled = [Engine().compile(proto.build_circuits(), proto.noise_model((c,))) for c in chans]
    assert all(c.mode == "distribution" for c in compiled)
    if per_click:
        compiled = [_PerClick(c) for c in compiled]
    pulses = 4_000_000
    sent, clicked, ones = proto.sample_slot_cells(compiled, chans, pulses, np.random.default_rng(3))
    assert sent.shape == (3, 24) and np.all(sent.sum(axis=1) == pulses)
    mu, p = np.array(proto.intensities), np.array(proto.probabilities)
    e_z, e_x = q / 2, (1 - (1 - q) * math.cos(theta)) / 2
    for s, ch in enumerate(chans):
        eta = ch.transmittance
        p_click = float(np.sum(p * (1 - (1 - y0) * np.exp(-eta * mu))))
        y_eff = 1 - (1 - y0) * (1 - p_ap * p_click)
        t = DecoyTallies.from_cells(sent[s], clicked[s], ones[s])
        for k in range(3):
            sig = 1 - math.exp(-eta * mu[k])
            gain = sig + (1 - sig) * y_eff
            assert_proportion(t.detected[k], t.sent[k], gain, what=f"slot {s} gain[{k}]")
            for basis, e in (("z", e_z), ("x", e_x)):
                n, m = getattr(t, f"n_{basis}")[k], getattr(t, f"m_{basis}")[k]
                assert_proportion(m, n, (sig * e + (1 - sig) * y_eff / 2) / gain, what=f"slot {s} E_{basis}[{k}]")


def test_run_submits_a_bounded_window_of_jobs_to_an_executor():
    """Issue 10: 1e18 pulses are ~9e5 chunk jobs; an executor gets them lazily, a window at a time.

    A recording executor stops the run after a few results and checks how many jobs were ever
    submitted: at most the window (2 per worker) plus the ones already collected.
    """
    from _doubles import CountingExecutor

    class Stop(Exception):
        pass

    calls = []

    def progress(done, total):
        calls.append(done)
        if len(calls) == 3:
            raise Stop

    with CountingExecutor() as ex, pytest.raises(Stop):
        DecoyBB84().run(Channel(transmittance=1e-3), rounds=10**18, seed=1, executor=ex, progress=progress)
    assert ex.submitted <= 3 + 2
    assert calls == [1 << 40, 2 << 40, 3 << 40]


def test_tallies_refuse_more_agreeing_than_mismatched_rounds():
    """mismatched_agree counts a subset of the mismatched rounds: more is refused, naming the field
    and its value; equal is accepted.  catches: impossible tallies accepted (no check)."""
    from qproto._errors import InvalidParameter
    from qproto.protocols._decoy_bb84 import DecoyTallies
    ok = dict(sent=(10, 10, 10), detected=(5, 5, 5), mismatched=(2, 2, 2))
    DecoyTallies(**ok, mismatched_agree=(2, 0, 1))
    with pytest.raises(InvalidParameter) as err:
        DecoyTallies(**ok, mismatched_agree=(0, 3, 0))
    assert err.value.name == "mismatched_agree" and err.value.value == (0, 3, 0)
