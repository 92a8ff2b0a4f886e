"""protocols/_decoy_bb84.py's own machinery, written against its mutmut survivors (issue 9).

Expected values are written here: the per-pulse sampler's intensity rule from the documented
threshold contract of ``qproto._random`` (``uniform31 < threshold31(p)`` has probability p, so a
uniform equal to a cumulative threshold belongs to the next class), the lossless click rule
(an n-photon pulse over eta = 1 clicks iff n >= 1), the record's documented fields, the repr
spelled out by hand, and the refusals' exact (name, value, allowed).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from qproto import Channel, Engine
from qproto._errors import InvalidParameter
from qproto.protocols import DecoyBB84
from qproto.protocols._decoy_bb84 import DecoyRounds


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
    """Compiled circuits off the distribution path that record the Aer seed they were given."""

    mode = "shots"

    def __init__(self, compiled):
        self.compiled = compiled
        self.seeds = []

    def sample_trusted(self, config_ids, rng, *, aer_seed=0):
        self.seeds.append(aer_seed)
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
