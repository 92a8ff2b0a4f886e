"""protocols/_decoy_bb84.py's own machinery, written against its mutmut survivors (issue 9).

Expected values are written here, never taken from the module: the per-pulse sampler's thresholds
from the documented contract of ``qproto._random`` (``uniform31 < threshold31(p)`` has probability p
exactly, so a uniform equal to a threshold belongs to the upper side and probability 0 never fires),
driven by scripted uniforms; the lossless click rule (an n-photon pulse over eta = 1 clicks iff
n >= 1); deterministic per-cell 1s on a noiseless channel; closed forms of expected() at its edges
(no clicks: QBER and mismatched agreement 1/2; vacuum gain Y0 to full precision; cell
probabilities p_k p_basis 1/2 p_basis); Clopper-Pearson intervals from scipy's beta quantiles;
the documented plumbing (the caller's engine, executor, block, progress and Aer seeds reach the
draws; an interrupted run cancels queued chunks) seen through recording stand-ins; the repr and
circuit names spelled out by hand; and the refusals' exact (name, value, allowed).
"""

from __future__ import annotations

import concurrent.futures
import warnings

import numpy as np
import pytest

from _doubles import CountingExecutor
from qproto import Channel, Engine
from qproto._engine import CompiledConfigurations
from qproto._errors import InvalidParameter, InvalidType
from qproto._seeding import chunk_aer_seed
from qproto.protocols import DecoyBB84
from qproto.protocols._decoy_bb84 import DecoyBB84Result, DecoyRounds, DecoyTallies


# ---- helpers -------------------------------------------------------------------------------------
class _ScriptedRaw:
    """A numpy Generator whose first raw 64-bit words are given (then a real generator's).

    ``qproto._random.uniform31`` reads ``rng.bit_generator.random_raw`` and takes the two
    32-bit halves of each word (low half first), shifted right by one bit; everything else
    (``bytes``, ``poisson``, ...) is delegated to the real generator.
    """

    def __init__(self, uniforms31, seed: int):
        u = np.asarray(uniforms31, dtype=np.uint64)
        assert u.size % 2 == 0 and np.all(u < 2**31)
        self._words = list((u[1::2] << np.uint64(33)) | (u[0::2] << np.uint64(1)))
        self._rng = np.random.default_rng(seed)
        self.bit_generator = self

    def random_raw(self, size):
        out = np.empty(size, dtype=np.uint64)
        take = min(size, len(self._words))
        out[:take] = self._words[:take]
        del self._words[:take]
        out[take:] = self._rng.bit_generator.random_raw(size - take)
        return out

    def __getattr__(self, name):
        return getattr(self._rng, name)


class _NoSignal:
    """Compiled circuits that are never asked for an outcome (bit 0 if they are)."""

    mode = "shots"

    def sample_trusted(self, config_ids, rng, *, aer_seed=0):
        return np.zeros(np.shape(config_ids), dtype=np.uint8)


class _SeedRecorder:
    """Compiled circuits off the distribution path that record each outcome draw's size and Aer seed."""

    mode = "shots"

    def __init__(self, compiled):
        self.compiled = compiled
        self.seeds, self.sizes = [], []

    def sample_trusted(self, config_ids, rng, *, aer_seed=0):
        self.seeds.append(aer_seed)
        self.sizes.append(len(config_ids))
        return self.compiled.sample_trusted(config_ids, rng, aer_seed=aer_seed)


# ---- the per-pulse sampler ----------------------------------------------------------------------
def test_intensity_classes_split_the_uniforms_at_the_cumulative_thresholds():
    """Intensity of pulse i: class 0 iff u < t1, class 1 iff t1 <= u < t2, class 2 iff u >= t2, with
    t_j = round(2^31 (p1 + ... + pj)) (the threshold31 contract: P(u < t) = t / 2^31 exactly).
    Uniforms scripted to t - 1 and t exactly at both thresholds.

    catches: u > t1 or u > t2 (a uniform equal to a threshold given to the lower class: each class
    probability off by 2^-31)."""
    probs = (0.55, 0.3, 0.15)
    t1, t2 = round(2**31 * probs[0]), round(2**31 * (probs[0] + probs[1]))
    u = [t1 - 1, t1, t2 - 1, t2, 0, 2**31 - 1]
    proto = DecoyBB84(probabilities=probs)
    ch = Channel(transmittance=0.0)
    rec = proto.sample_chunk(_NoSignal(), (ch,), len(u), _ScriptedRaw(u, seed=1), eavesdropper=None,
                             form="fast", aer_seed=0)
    assert rec.intensity.tolist() == [0, 1, 1, 2, 0, 2]


def test_lossless_per_pulse_clicks_iff_a_photon_is_sent_without_numeric_warnings():
    """eta = 1, no noise clicks: a pulse clicks exactly when it carries n >= 1 photons (1 - (1 - eta)^n
    is 0 for n = 0 and 1 otherwise), the vacuum class never clicks, and no invalid-value/divide
    warning is raised (log(1 - eta) = -inf must not be evaluated, 0 x -inf is NaN).

    catches: the eta < 1 guard widened (eta = 1 sent through log1p(-1): NaN thresholds)."""
    proto = DecoyBB84(intensities=(0.8, 0.3, 0.0), probabilities=(0.5, 0.3, 0.2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rec = proto.sample(Channel(), rounds=20_000, seed=5)
    assert np.array_equal(rec.detected.astype(bool), rec.photons > 0)
    assert not rec.detected[rec.intensity == 2].any()
    assert not rec.noise_only.any()


def test_record_length_and_bob_bits_are_zero_without_a_click():
    """DecoyRounds documents bob_bit as 0 where no click; len() is the number of pulses. Lossy noisy
    channel, so most pulses do not click while signal clicks carry circuit outcomes (both bits).

    catches: len() broken; the circuit outcomes written to every pulse instead of the signal clicks
    only (undetected pulses with bit 1)."""
    ch = Channel(transmittance=0.3, depolarisation=0.5, noise_click=0.01)
    rec = DecoyBB84().sample(ch, rounds=6_000, seed=6)
    assert isinstance(rec, DecoyRounds) and len(rec) == 6_000 and rec.cell.size == 6_000
    none = rec.detected == 0
    assert none.sum() > 3_000 and not rec.bob_bit[none].any()
    clicked = rec.bob_bit[rec.detected == 1]
    assert 0 < clicked.sum() < clicked.size


# ---- many slots -------------------------------------------------------------------------------------
def test_slot_cells_off_the_distribution_path_pass_the_aer_seed_on():
    """sample_slot_cells' documented aer_seed reaches every slot's outcome draws on the slot-by-slot path
    (shots/stabilizer compiled circuits), so a pass is reproducible from its own seed.

    catches: aer_seed dropped on the slot-by-slot path (every slot drawn with seed 0)."""
    proto = DecoyBB84()
    chans = [Channel(transmittance=0.5, depolarisation=0.1), Channel(transmittance=0.2, depolarisation=0.2)]
    recs = [_SeedRecorder(Engine().compile(proto.build_circuits(), proto.noise_model((c,)))) for c in chans]
    sent, clicked, ones = proto.sample_slot_cells(recs, chans, 2_000, np.random.default_rng(7), aer_seed=4321)
    assert sent.shape == (2, 24) and sent.dtype == np.int64
    assert all(r.seeds and set(r.seeds) == {4321} for r in recs)


# ---- expected(), repr ------------------------------------------------------------------------------
def test_expected_refuses_an_eavesdropper_with_its_name_and_value():
    """expected() has no eavesdropper model, like run(): it refuses one (name, value, allowed).

    catches: the eavesdropper check dropped from expected() (a model returned for an attack it ignores)."""
    with pytest.raises(InvalidParameter) as err:
        DecoyBB84().expected(Channel(transmittance=0.1), eavesdropper="intercept-resend")
    assert (err.value.name, err.value.value, err.value.allowed) == ("eavesdropper", "intercept-resend", "None")


def test_repr_lists_every_parameter():
    """repr spells out the class and every parameter (written here by hand).

    catches: an empty or garbled parameter list, a wrong closing bracket."""
    proto = DecoyBB84(intensities=(0.6, 0.2, 0.0), probabilities=(0.5, 0.3, 0.2), p_z=0.75, f_ec=1.2,
                      eps_sec=1e-9, eps_cor=1e-12, ec_leakage="finite_size", afterpulse_probability=0.01,
                      tails="chernoff")
    assert repr(proto) == ("DecoyBB84(intensities=(0.6, 0.2, 0.0), probabilities=(0.5, 0.3, 0.2), p_z=0.75, "
                           "f_ec=1.2, eps_sec=1e-09, eps_cor=1e-12, ec_leakage='finite_size', "
                           "afterpulse_probability=0.01, tails='chernoff')")


def test_counts_samplers_pass_the_aer_seed_on_and_default_it_to_zero():
    """sample_counts / sample_cell_counts: the documented ``aer_seed`` (public default 0) is the seed
    every off-distribution outcome draw gets, and sample_counts' ``block`` bounds each draw.

    catches: aer_seed not passed (or None) from sample_counts to sample_cell_counts or from there to
    the circuits' draws; a changed public default; sample_counts' block dropped or None."""
    proto = DecoyBB84(p_z=0.5)
    ch = Channel(transmittance=0.5, depolarisation=0.1)
    compiled = Engine().compile(proto.build_circuits(), proto.noise_model((ch,)))
    for call, kwargs, want in ((proto.sample_counts, {}, 0), (proto.sample_counts, {"aer_seed": 99}, 99),
                               (proto.sample_cell_counts, {}, 0), (proto.sample_cell_counts, {"aer_seed": 7}, 7)):
        rec = _SeedRecorder(compiled)
        call(rec, ch, 2_000, np.random.default_rng(8), **kwargs)
        assert rec.seeds and set(rec.seeds) == {want}, (call.__name__, kwargs)
    rec = _SeedRecorder(compiled)
    proto.sample_counts(rec, ch, 2_000, np.random.default_rng(8), block=16)
    assert max(rec.sizes) == 16  # the caller's block reaches the outcome draws


def test_counts_run_off_the_distribution_path_uses_the_engine_block_and_the_chunk_aer_seed(monkeypatch):
    """run(sampler="counts") with a shots engine: outcomes of a cell's clicks are drawn in blocks of at
    most the engine's chunk_size (documented: "the click block of the counts-first one"), each draw
    with the Aer seed of chunk 0 of the run's seed (qproto._seeding.chunk_aer_seed), the same for the
    same seed and a different one for another seed.

    catches: the chunk job dropping the engine's block (default 2^20 used), or its Aer seed (0, None,
    or one not derived from the run's seed: not reproducible)."""
    calls = []
    original = CompiledConfigurations.sample_trusted

    def recording(self, config_ids, rng, *, aer_seed=0):
        calls.append((len(config_ids), aer_seed))
        return original(self, config_ids, rng, aer_seed=aer_seed)

    monkeypatch.setattr(CompiledConfigurations, "sample_trusted", recording)
    proto = DecoyBB84(p_z=0.5)
    ch = Channel(depolarisation=0.05)
    engine = Engine(mode="shots", chunk_size=16)
    seeds = {}
    for seed in (11, 11, 12):
        calls.clear()
        r = proto.run(ch, rounds=1_000, seed=seed, engine=engine)
        sizes = [n for n, _ in calls]
        assert sum(sizes) == sum(r.counts.detected) and max(sizes) == 16  # blocks of the chunk size
        assert {a for _, a in calls} == {chunk_aer_seed(seed, 0)}
        seeds.setdefault(seed, set()).update(a for _, a in calls)
    assert seeds[11] != seeds[12]


def test_per_pulse_run_uses_the_callers_engine_and_executor():
    """run(sampler="pulses") hands the caller's engine (its chunk_size sets the chunks: progress after
    each) and executor (the chunks are submitted to it) to the per-pulse machinery.

    catches: engine or executor dropped on the per-pulse path."""

    done = []
    with CountingExecutor() as ex:
        r = DecoyBB84().run(Channel(transmittance=0.1), rounds=2_500, seed=3, sampler="pulses",
                            engine=Engine(chunk_size=1_000), executor=ex, progress=lambda d, t: done.append((d, t)))
    assert done == [(1_000, 2_500), (2_000, 2_500), (2_500, 2_500)]
    assert ex.submitted == 3 and sum(r.counts.sent) == 2_500


def test_zero_round_result_has_zero_finite_key_rate():
    """A result of no pulses (constructible, e.g. from a dict) reports finite_key_rate 0 (no key, and
    no division by zero); with pulses it is ell / rounds.

    catches: the rounds == 0 guard dropped (ZeroDivisionError) or returning 1 bit per pulse."""
    proto = DecoyBB84()
    empty = DecoyBB84Result(protocol=proto.name, parameters=proto.parameters(), channels=(Channel(),), rounds=0,
                            seed=1, counts=DecoyTallies())
    est = empty.estimates()
    assert est["finite_key_length"] == 0.0 and est["finite_key_rate"] == 0.0


# ---- tallies validation -------------------------------------------------------------------------
def test_tallies_refuse_wrong_shapes_and_negative_counts_with_name_and_value():
    """Each field is 3 counts >= 0: a 2-tuple is an InvalidType naming the field; a negative count an
    InvalidParameter naming field[index] (mismatched_agree: no other check would see it).

    catches: the field name or value missing from the InvalidType; the minimum 0 dropped."""
    with pytest.raises(InvalidType) as err:
        DecoyTallies(sent=(1, 2))
    assert (err.value.name, err.value.value, err.value.expected) == \
        ("sent", (1, 2), "a sequence of 3 ints (one per intensity)")
    with pytest.raises(InvalidParameter) as err:
        DecoyTallies(sent=(5, 5, 5), detected=(2, 2, 2), mismatched=(1, 0, 0), mismatched_agree=(0, 0, -1))
    assert (err.value.name, err.value.value) == ("mismatched_agree[2]", -1)


@pytest.mark.parametrize("field", ["m_z", "m_x"])
def test_tallies_refuse_more_errors_than_sifted_rounds_in_either_basis(field):
    """m_z <= n_z and m_x <= n_x per class, each on its own (the other basis consistent).

    catches: the two conditions joined with `and` (one basis' excess errors accepted); the refusal's
    name or value dropped."""
    ok = dict(sent=(10, 10, 10), detected=(6, 6, 6), n_z=(3, 3, 3), n_x=(2, 2, 2), m_z=(1, 1, 1), m_x=(1, 1, 1))
    DecoyTallies(**ok)
    bad = dict(ok, **{field: (1, 4 if field == "m_z" else 3, 1)})
    with pytest.raises(InvalidParameter) as err:
        DecoyTallies(**bad)
    assert (err.value.name, err.value.value, err.value.allowed) == \
        ("m_z/m_x", (bad["m_z"], bad["m_x"]), "at most n_z/n_x per intensity")


def test_tallies_refuse_more_sifted_and_mismatched_rounds_than_detections():
    """n_z + n_x + mismatched <= detected <= sent per class (every click is sifted in Z, in X, or discarded);
    the refusal names detected with its value and the rule.

    catches: mismatched subtracted (or n_x subtracted) instead of added; detected > sent only refused
    together with an inconsistent sifting (`and`); the error's name or value dropped."""
    DecoyTallies(sent=(9, 9, 9), detected=(3, 0, 0), n_z=(1, 0, 0), n_x=(1, 0, 0), mismatched=(1, 0, 0))
    with pytest.raises(InvalidParameter) as err:
        DecoyTallies(sent=(9, 9, 9), detected=(2, 0, 0), n_z=(1, 0, 0), n_x=(1, 0, 0), mismatched=(1, 0, 0))
    assert (err.value.name, err.value.value, err.value.allowed) == \
        ("detected", (2, 0, 0), "between the sifted counts and sent")
    # more detections than pulses sent, the sifted counts being consistent
    with pytest.raises(InvalidParameter) as err:
        DecoyTallies(sent=(1, 9, 9), detected=(2, 0, 0), n_z=(1, 0, 0))
    assert (err.value.name, err.value.value) == ("detected", (2, 0, 0))


# ---- constructor bounds, circuits --------------------------------------------------------------------
def test_f_ec_and_eps_cor_bounds_are_the_documented_intervals():
    """f_EC in [1, inf) (f_EC = 1 accepted), eps_cor in (0, 1) with both ends refused; the refusals name
    the parameter, its value and the interval.

    catches: f_EC's interval reported closed at infinity; eps_cor accepting 0 or 1."""
    assert DecoyBB84(f_ec=1.0).f_ec == 1.0
    with pytest.raises(InvalidParameter) as err:
        DecoyBB84(f_ec=0.9)
    assert (err.value.name, err.value.value, err.value.allowed) == ("f_ec", 0.9, "[1, inf)")
    for bad in (0.0, 1.0):
        with pytest.raises(InvalidParameter) as err:
            DecoyBB84(eps_cor=bad)
        assert (err.value.name, err.value.value, err.value.allowed) == ("eps_cor", bad, "(0, 1)")
    assert DecoyBB84(ec_leakage="finite_size").ec_leakage == "finite_size"


def test_circuits_named_by_configuration_and_refuse_an_eavesdropper():
    """Eight circuits in configuration order a_basis << 2 | a_bit << 1 | b_basis, named
    decoy_bb84_a<basis><bit>_b<basis> (names written here); an eavesdropper is refused.

    catches: wrong basis letters in the names, names missing; an idle second qubit; the eavesdropper
    check dropped from build_circuits."""
    circuits = DecoyBB84().build_circuits()
    assert all((c.num_qubits, c.num_clbits) == (1, 1) for c in circuits)  # "eight one-qubit circuits"
    names = [c.name for c in circuits]
    assert names == ["decoy_bb84_aZ0_bZ", "decoy_bb84_aZ0_bX", "decoy_bb84_aZ1_bZ", "decoy_bb84_aZ1_bX",
                     "decoy_bb84_aX0_bZ", "decoy_bb84_aX0_bX", "decoy_bb84_aX1_bZ", "decoy_bb84_aX1_bX"]
    with pytest.raises(InvalidParameter) as err:
        DecoyBB84().build_circuits(eavesdropper="intercept-resend")
    assert (err.value.name, err.value.value) == ("eavesdropper", "intercept-resend")


def test_result_parameters_without_afterpulsing_read_as_zero_afterpulsing():
    """A result whose parameters predate afterpulsing (no "afterpulse_probability" key) uses Y0 itself:
    its infinite-decoy rate equals the one with p_ap = 0 recorded.

    catches: the missing key not defaulting to 0 (float(None))."""
    proto = DecoyBB84()
    ch = Channel(transmittance=0.01, misalignment=0.01, noise_click=1e-5)
    params = {k: v for k, v in proto.parameters().items() if k != "afterpulse_probability"}
    old = DecoyBB84Result(protocol=proto.name, parameters=params, channels=(ch,), rounds=10, seed=1,
                          counts=DecoyTallies())
    new = DecoyBB84Result(protocol=proto.name, parameters=proto.parameters(), channels=(ch,), rounds=10, seed=1,
                          counts=DecoyTallies())
    assert old.key_rate_infinite_decoy == new.key_rate_infinite_decoy > 0


# ---- many slots: defaults, refusals, vectorisation -------------------------------------------------
def test_slot_cells_defaults_block_and_refusal():
    """sample_slot_cells: public default aer_seed 0 and the caller's block reach the slot-by-slot draws
    (at most ``block`` clicks per outcome draw); one compiled set per channel, else (compiled, its
    length, the rule).

    catches: a changed aer_seed default, the block not passed on, the refusal's name/value dropped."""
    proto = DecoyBB84(p_z=0.5)
    chans = [Channel(depolarisation=0.1), Channel(depolarisation=0.2)]
    recs = [_SeedRecorder(Engine().compile(proto.build_circuits(), proto.noise_model((c,)))) for c in chans]
    proto.sample_slot_cells(recs, chans, 1_000, np.random.default_rng(9), block=16)
    assert all(set(r.seeds) == {0} for r in recs)
    assert max(max(r.sizes) for r in recs) == 16
    with pytest.raises(InvalidParameter) as err:
        proto.sample_slot_cells(recs[:1], chans, 10, np.random.default_rng(9))
    assert (err.value.name, err.value.value, err.value.allowed) == ("compiled", 1, "one per channel (2)")


class _CountingRng:
    """A Generator that counts its multinomial calls."""

    def __init__(self, seed):
        self._rng = np.random.default_rng(seed)
        self.multinomial_calls = 0

    def multinomial(self, *args, **kwargs):
        self.multinomial_calls += 1
        return self._rng.multinomial(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._rng, name)


def test_slot_cells_on_the_distribution_path_draw_the_whole_pass_at_once():
    """Documented: when every slot is compiled to its exact distribution, the pass is drawn vectorised
    (one multinomial call for all slots), not slot by slot.

    catches: the distribution-path test never true (every pass drawn slot by slot)."""
    proto = DecoyBB84()
    chans = [Channel(transmittance=t, depolarisation=0.05) for t in (0.1, 0.2, 0.3, 0.4)]
    compiled = [Engine().compile(proto.build_circuits(), proto.noise_model((c,))) for c in chans]
    assert all(c.mode == "distribution" for c in compiled)
    rng = _CountingRng(10)
    sent, _, _ = proto.sample_slot_cells(compiled, chans, 1_000, rng)
    assert rng.multinomial_calls == 1 and sent.shape == (4, 24)


# ---- run(): rounds, chunks, progress, cancelling ---------------------------------------------------
def test_counts_run_refuses_fewer_than_one_pulse():
    """rounds >= 1 on the counts path too: 0 and -3 refused with the name and value.

    catches: the minimum dropped (an empty result of 0 pulses returned)."""
    for bad in (0, -3):
        with pytest.raises(InvalidParameter) as err:
            DecoyBB84().run(Channel(transmittance=0.1), rounds=bad, seed=1)
        assert (err.value.name, err.value.value) == ("rounds", bad)


def test_counts_run_over_two_chunks_sends_exactly_the_rounds():
    """2^40 + 1000 pulses are two chunks (2^40 and 1000): the tallies count exactly rounds pulses and
    progress reports 2^40, then 2^40 + 1000.

    catches: the second chunk's size computed as rounds + i chunk (2^40 pulses), progress adding
    rounds - i / chunk."""
    rounds = (1 << 40) + 1000
    done = []
    r = DecoyBB84().run(Channel(transmittance=1e-9), rounds=rounds, seed=2, progress=lambda d, t: done.append((d, t)))
    assert sum(r.counts.sent) == rounds and r.rounds == rounds
    assert done == [(1 << 40, rounds), (rounds, rounds)]


class _FirstJobOnly(concurrent.futures.Executor):
    """Runs the first submitted job at once; the later ones stay pending (never started)."""

    _max_workers = 1  # bounded_map's window: 2 jobs in flight

    def __init__(self):
        self.futures = []

    def submit(self, fn, *args, **kwargs):
        f = concurrent.futures.Future()
        if not self.futures:
            f.set_result(fn(*args, **kwargs))
        self.futures.append(f)
        return f


def test_interrupted_counts_run_cancels_the_chunks_not_started():
    """A progress callback that raises stops the run, and the chunk jobs submitted but not started are
    cancelled at once (run closes its result stream), not left queued in the caller's executor.

    catches: the stream never closed (a misspelt or wrong object's close); the caller's executor
    ignored on the counts path (no job submitted to it)."""

    class Stop(Exception):
        pass

    def progress(done, total):
        raise Stop

    ex = _FirstJobOnly()
    with pytest.raises(Stop) as info:
        DecoyBB84().run(Channel(transmittance=1e-9), rounds=3 << 40, seed=3, executor=ex, progress=progress)
    assert len(ex.futures) == 2 and ex.futures[0].done()
    assert ex.futures[1].cancelled()
    assert info.value is not None  # the traceback (and the run's frame) is still alive here


# ---- per-pulse thresholds at probabilities 0 and at the basis threshold --------------------------------
def test_per_pulse_bases_and_impossible_clicks_follow_the_strict_threshold_rule():
    """Scripted uniforms: the basis is X iff u < t_X = round(2^31 (1 - p_z)) (u = t_X gives Z); a vacuum
    pulse (0 photons: signal probability 0) and a noiseless channel (Y0 = 0) never click, even for
    u = 0 (threshold 0: probability 0 stays exact).

    catches: u <= t in Alice's or Bob's basis draw, in the signal click or in the noise click."""
    p_z = 0.7
    t_x = round(2**31 * (1 - p_z))
    top = 2**31 - 1  # intensity uniform above both cumulative thresholds: the vacuum class
    u = ([top] * 4                          # intensities: all vacuum
         + [t_x - 1, t_x, t_x - 1, t_x]     # Alice's bases: X, Z, X, Z
         + [t_x, t_x - 1, t_x, t_x - 1]     # Bob's bases: Z, X, Z, X
         + [0, 0, 0, 0]                     # signal uniforms (probability 0 for 0 photons)
         + [0, 0, 0, 0])                    # noise uniforms (Y0 = 0)
    proto = DecoyBB84(p_z=p_z)
    rec = proto.sample_chunk(_NoSignal(), (Channel(transmittance=0.5),), 4, _ScriptedRaw(u, seed=2),
                             eavesdropper=None, form="fast", aer_seed=0)
    assert rec.intensity.tolist() == [2, 2, 2, 2] and rec.photons.tolist() == [0, 0, 0, 0]
    assert ((rec.cell >> 2) & 1).tolist() == [1, 0, 1, 0]
    assert (rec.cell & 1).tolist() == [0, 1, 0, 1]
    assert not rec.detected.any() and not rec.noise_only.any()


# ---- sample_cell_counts internals seen from outside ---------------------------------------------------
class _DistributionOnly:
    """Exact-distribution compiled circuits that must not be asked for per-click outcomes."""

    mode = "distribution"

    def __init__(self, compiled):
        self.probabilities = compiled.probabilities

    def sample_trusted(self, config_ids, rng, *, aer_seed=0):
        raise AssertionError("per-click outcomes drawn on the distribution path")


def test_distribution_path_draws_no_per_click_outcomes():
    """Documented: with the exact distribution, a cell's 1s are one binomial draw (time O(1) in the
    pulses), never one outcome per click.

    catches: the distribution-path test never true (every click drawn through sample_trusted)."""
    proto = DecoyBB84()
    ch = Channel(transmittance=0.5, depolarisation=0.1)
    compiled = Engine().compile(proto.build_circuits(), proto.noise_model((ch,)))
    sent, clicked, ones = proto.sample_cell_counts(_DistributionOnly(compiled), ch, 10_000, np.random.default_rng(4))
    assert sent.sum() == 10_000 and 0 < ones.sum() < clicked.sum()


def test_per_click_ones_add_up_over_blocks():
    """Noiseless channel, per-click path, blocks of 16 clicks: Bob's outcome equals Alice's bit when the
    bases agree, so in each such cell the 1s are exactly the clicks (a_bit = 1) or 0 (a_bit = 0).

    catches: a block's 1s assigned instead of added (earlier blocks and the noise clicks' 1s lost)."""
    proto = DecoyBB84(p_z=0.5)
    ch = Channel(transmittance=0.5)
    rec = _SeedRecorder(Engine().compile(proto.build_circuits(), proto.noise_model((ch,))))
    sent, clicked, ones = proto.sample_cell_counts(rec, ch, 4_000, np.random.default_rng(5), block=16)
    assert max(rec.sizes) == 16
    for cell in range(24):
        a_basis, a_bit, b_basis = (cell >> 2) & 1, (cell >> 1) & 1, cell & 1
        if a_basis == b_basis:
            assert ones[cell] == (clicked[cell] if a_bit else 0), cell
    assert clicked[0:8].min() > 32  # several blocks in the signal cells


# ---- result estimates -------------------------------------------------------------------------------------
def test_estimates_map_each_name_to_its_tallies_with_the_result_confidence():
    """Hand-made asymmetric tallies: every estimate's successes/trials are the documented counts (signal
    Z QBER from class 0, decoy X QBER from class 1, ...) and its interval is Clopper-Pearson at the
    result's confidence (scipy beta quantiles here).

    catches: the result confidence not passed to the intervals; qber_z_signal read from class 1."""
    from scipy import stats

    proto = DecoyBB84()
    t = DecoyTallies(sent=(1000, 800, 600), detected=(500, 300, 100), n_z=(200, 120, 40), m_z=(10, 20, 5),
                     n_x=(150, 90, 30), m_x=(12, 9, 6), mismatched=(100, 60, 20), mismatched_agree=(50, 30, 10))
    r = DecoyBB84Result(protocol=proto.name, parameters=proto.parameters(), channels=(Channel(transmittance=0.1),),
                        rounds=2400, seed=1, counts=t, confidence=0.8)
    est = r.estimates()
    want = {"gain_signal": (500, 1000), "gain_decoy": (300, 800), "gain_vacuum": (100, 600),
            "qber_z": (35, 360), "qber_x": (27, 270), "qber_z_signal": (10, 200), "qber_x_decoy": (9, 90)}
    for name, (k, n) in want.items():
        e = est[name]
        assert (e.successes, e.trials, e.confidence) == (k, n, 0.8), name
        assert e.low == pytest.approx(stats.beta.ppf(0.1, k, n - k + 1), rel=1e-9)
        assert e.high == pytest.approx(stats.beta.ppf(0.9, k + 1, n - k), rel=1e-9)
    assert est["sifted_z"] == 360


def test_finite_key_rate_is_the_key_length_per_pulse():
    """finite_key_rate = finite_key_length / rounds (bits per pulse) when a key exists.

    catches: the rate multiplied by the rounds, or always 0."""
    ch = Channel(transmittance=10**-2.5, misalignment=0.01, noise_click=1e-6)
    r = DecoyBB84().run(ch, rounds=10**11, seed=9)
    est = r.estimates()
    assert est["finite_key_length"] > 0
    assert est["finite_key_rate"] == pytest.approx(est["finite_key_length"] / 10**11, rel=1e-12, abs=0.0)


# ---- run(): what the per-pulse path receives, small runs, refusals ---------------------------------------
def test_per_pulse_run_refuses_an_eavesdropper_and_other_forms():
    """The per-pulse path refuses what the protocol cannot model, naming the parameter and its value.

    catches: the eavesdropper or the form not passed to the per-pulse machinery (a run with no attack
    or with the fast form returned instead); the form refusal's name, value or allowed value lost."""
    proto = DecoyBB84()
    with pytest.raises(InvalidParameter) as err:
        proto.run(Channel(transmittance=0.1), rounds=100, seed=1, sampler="pulses", eavesdropper="intercept-resend")
    assert err.value.name == "eavesdropper"
    with pytest.raises(InvalidParameter) as err:
        proto.run(Channel(transmittance=0.1), rounds=100, seed=1, sampler="pulses", form="erasure")
    assert (err.value.name, err.value.value, err.value.allowed) == ("form", "erasure", "'fast'")
    with pytest.raises(InvalidParameter) as err:
        proto.run(Channel(transmittance=0.1), rounds=100, seed=1, form="erasure")
    assert (err.value.name, err.value.value, err.value.allowed) == ("form", "erasure", "'fast'")


def test_counts_run_of_one_pulse_and_executor_type_refusal():
    """One pulse is a valid run; a non-executor is refused as InvalidType (executor, its value).

    catches: the rounds minimum raised to 2; the refused value replaced by None."""
    r = DecoyBB84().run(Channel(transmittance=0.1), rounds=1, seed=1)
    assert sum(r.counts.sent) == 1 and r.rounds == 1
    with pytest.raises(InvalidType) as err:
        DecoyBB84().run(Channel(transmittance=0.1), rounds=10, seed=1, executor="pool")
    assert (err.value.name, err.value.value) == ("executor", "pool")


# ---- expected(): zero gain, tiny Y0, cell probabilities ------------------------------------------------------
def test_expected_without_clicks_uses_the_no_click_conventions_without_warnings():
    """A class that never clicks (the vacuum with Y0 = 0) has QBER 1/2 and mismatched agreement 1/2
    (no signal click to correlate the bases), and a channel with no clicks at all gives the all-class
    QBERs 1/2; no 0/0 is evaluated (no RuntimeWarning). The tilted rotation makes the clicking
    classes' agreement differ from 1/2.

    catches: 0/0 evaluated in the discarded branches, the no-click signal share 1, the no-click
    all-class QBER guard dropped (NaN)."""
    ch = Channel(transmittance=0.3, noise_click=0.0, rotation_rad=1.1, rotation_axis=(1.0, 0.0, 1.0))
    proto = DecoyBB84(intensities=(0.6, 0.2, 0.0), probabilities=(0.5, 0.3, 0.2), p_z=0.65)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = proto.expected(ch)
        dark = proto.expected(Channel(transmittance=0.0, noise_click=0.0))
    assert got["gain"][2] == 0.0
    assert got["qber_z_by_class"][2] == got["qber_x_by_class"][2] == 0.5
    assert got["mismatched_agreement_by_class"][2] == 0.5
    assert abs(got["mismatched_agreement_by_class"][0] - 0.5) > 0.05
    assert dark["qber_z"] == dark["qber_x"] == 0.5


def test_expected_vacuum_gain_is_y0_to_full_precision_without_afterpulsing():
    """Without afterpulsing the vacuum gain is Y0 itself; a tiny Y0 (1e-15) must not go through
    1 - (1 - Y0), which loses it to rounding (1.11e-15, 11 % off).

    catches: the afterpulse branch taken at p_ap = 0."""
    ch = Channel(transmittance=0.1, noise_click=1e-15)
    got = DecoyBB84().expected(ch)
    assert got["gain_vacuum"] == pytest.approx(1e-15, rel=1e-12, abs=0.0)


def test_expected_lists_the_cell_probabilities():
    """cell_probabilities: p_k x P(Alice basis) x 1/2 x P(Bob basis), cell k*8 + (a_basis<<2 | a_bit<<1 |
    b_basis), written here for biased bases and asymmetric p_k.

    catches: the cell probabilities missing from expected()."""
    probs, p_z = (0.5, 0.3, 0.2), 0.8
    want = [probs[k] * (p_z if ab == 0 else 1 - p_z) * 0.5 * (p_z if bb == 0 else 1 - p_z)
            for k in range(3) for ab in range(2) for bit in range(2) for bb in range(2)]
    got = DecoyBB84(intensities=(0.6, 0.2, 0.0), probabilities=probs, p_z=p_z).expected(Channel(transmittance=0.1))
    np.testing.assert_allclose(got["cell_probabilities"], want, rtol=1e-12, atol=0)


def test_tallies_refuse_fractional_counts_and_accept_numpy_integers():
    """Counts are integers: 2.5 is refused (InvalidType naming sent[0]), not truncated; numpy integers
    (and from_cells' float arrays of whole numbers, e.g. built with np.zeros/np.full) become Python ints,
    so the tallies serialise to JSON.

    catches: every count passed through int() (2.5 silently becomes 2); from_cells not casting its
    inputs to integers (float counts refused)."""
    import json

    with pytest.raises(InvalidType) as err:
        DecoyTallies(sent=(2.5, 0, 0))
    assert (err.value.name, err.value.value) == ("sent[0]", 2.5)
    t = DecoyTallies(sent=np.array([5, 6, 7]), detected=np.array([1, 2, 3], dtype=np.int32))
    assert all(type(x) is int for x in t.sent + t.detected)
    cells = DecoyTallies.from_cells(np.full(24, 10.0), np.full(24, 4.0), np.full(24, 1.0))
    # per class: 8 cells; Z-sifted cells (aZ, bZ): 2, errors: a_bit 0 -> ones (1), a_bit 1 -> 4 - 1 = 3
    assert cells.sent == (80, 80, 80) and cells.detected == (32, 32, 32)
    assert cells.n_z == (8, 8, 8) and cells.m_z == (4, 4, 4) and cells.mismatched == (16, 16, 16)
    assert json.loads(json.dumps(cells.to_dict()))["sent"] == [80, 80, 80]


def test_noise_model_refuses_an_eavesdropper():
    """noise_model() has no eavesdropper model: it refuses one by name and value.

    catches: the eavesdropper check dropped from noise_model."""
    with pytest.raises(InvalidParameter) as err:
        DecoyBB84().noise_model((Channel(transmittance=0.1),), eavesdropper="intercept-resend")
    assert (err.value.name, err.value.value) == ("eavesdropper", "intercept-resend")
