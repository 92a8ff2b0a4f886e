"""The distillation chain: sifted bits in, identical secret keys out (or an abort).

1. **Parameter estimation.** A uniformly random subset of the sifted key-basis (Z) bits,
   ``test_fraction`` of them, is disclosed and compared: its error rate Q_test tunes error
   correction. Those bits are discarded; the key is the complement (disjoint by
   construction). The test-basis (X) bits give the phase-error estimate.
2. **Abort test.** Q_test above ``qber_abort`` aborts before anything else is disclosed.
3. **Error correction** (:func:`qproto.distill.reconcile`): Cascade or LDPC; every
   disclosed bit is counted (``leaked_bits``).
4. **Verification.** Both compute a Toeplitz tag of ceil(log2(1/eps_cor)) bits of their
   corrected key with a fresh public seed; different tags abort the block.
5. **Privacy amplification** to the finite-key length computed with the *measured*
   leakage: decoy-state BB84 by Lim et al. 2014 (:func:`qproto.security.finite_key_length`
   with ``lambda_ec`` = measured leakage, counts per intensity class of the key and test
   bits), single photons / pairs by Tomamichel et al. 2012
   (:func:`qproto.distill.bb84_finite_key_length`). The Toeplitz hash is computed by FFT;
   its seed is recorded (``pa_seed``). A length <= 0 aborts: no key.

Public randomness of a run derives from ``seed``: test subset ``SeedSequence(seed,
spawn_key=(0,))``, error correction ``(1,)``, verification tag ``(2,)``, privacy
amplification ``(3,)``.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Iterable
from typing import Any, ClassVar

import numpy as np

from qproto._errors import InvalidParameter, InvalidType
from qproto._results import Estimate
from qproto._seeding import SeedLike, root_seed
from qproto._validation import check_in_range, check_one_of
from qproto.distill._bits import pack, unpack
from qproto.distill._finite import bb84_finite_key_length
from qproto.distill._hashing import (
    seed_bits,
    toeplitz_hash,
    toeplitz_seed_length,
    verification_tag,
    verification_tag_bits,
)
from qproto.distill._material import KeyChunk, SiftedKey, collect
from qproto.distill._reconcile import EC_METHODS, reconcile, shannon_limit

__all__ = ["DistillResult", "DecoySettings", "distill", "seed_bits"]


def _sub_seed(root: int, label: int) -> int:
    return int(np.random.SeedSequence(root, spawn_key=(label,)).generate_state(2, dtype=np.uint64)[0] >> 1)


@dataclasses.dataclass(frozen=True)
class DecoySettings:
    """Parameters of decoy-state BB84 that the Lim et al. finite key needs.

    Attributes:
        intensities: (mu1, mu2, mu3).
        probabilities: (p1, p2, p3).
        tails: ``"hoeffding"`` or ``"chernoff"``.
    """

    intensities: tuple[float, float, float]
    probabilities: tuple[float, float, float]
    tails: str = "hoeffding"

    @classmethod
    def of(cls, protocol: Any) -> DecoySettings:
        """From a :class:`~qproto.protocols.DecoyBB84` instance."""
        return cls(tuple(protocol.intensities), tuple(protocol.probabilities),
                   getattr(protocol, "tails", "hoeffding"))


@dataclasses.dataclass(frozen=True, eq=False)
class DistillResult:
    """What one distillation run produced (module docs for the steps).

    Counts are bits. ``keys_identical`` and ``residual_errors`` are simulation-side checks
    (they compare both parties' strings, which no party could do); everything else is
    what Alice and Bob know.

    Attributes:
        protocol: the protocol the material came from.
        method: error-correction method.
        seed: root seed of the chain's public randomness.
        rounds: rounds (pulses) simulated.
        sifted_bits: sifted key-basis bits.
        test_bits: of those, disclosed for parameter estimation.
        key_bits: the rest (the block that error correction works on).
        test_errors: errors in the test subset.
        phase_bits, phase_errors: test-basis (X) bits and their errors.
        errors_before_ec: simulation-side count of key-bit errors before error correction.
        leaked_bits: bits disclosed by error correction.
        ec_rounds: its rounds of communication.
        frames, frame_errors: frames the block was decoded in, and how many failed.
        discarded_bits: key bits of frames whose decoding failure was detected (both drop them).
        tag_bits: verification tag length, ceil(log2(1/eps_cor)).
        verified: whether the tags agreed (``None`` if the chain stopped earlier).
        key_length_bound: the finite-key length from the measured leakage (bits, unrounded).
        final_length: length of the final key (floor of the bound, 0 on abort).
        pa_seed: the seed of the Toeplitz matrix (``seed_bits(pa_seed, n + m - 1)``).
        aborted: ``None`` or why the chain stopped ("qber", "verification", "no-key").
        keys_identical: whether Alice's and Bob's final keys are equal.
        eps_sec, eps_cor: security parameters.
        timings_s: wall-clock seconds of each stage (informational, not compared).
        alice_key, bob_key: the final keys, packed (``numpy.packbits``).
        test_positions, key_positions: indices into the sifted key of the test subset and
            of the key block (disjoint, together all of them).
    """

    TYPE: ClassVar[str] = "DistillResult"

    protocol: str
    method: str
    seed: int
    rounds: int
    sifted_bits: int
    test_bits: int
    key_bits: int
    test_errors: int
    phase_bits: int
    phase_errors: int
    errors_before_ec: int
    leaked_bits: int
    ec_rounds: int
    frames: int
    frame_errors: int
    discarded_bits: int
    tag_bits: int
    verified: bool | None
    key_length_bound: float
    final_length: int
    pa_seed: int
    aborted: str | None
    keys_identical: bool
    eps_sec: float
    eps_cor: float
    timings_s: dict[str, float] = dataclasses.field(default_factory=dict)
    alice_key: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, np.uint8), repr=False)
    bob_key: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, np.uint8), repr=False)
    test_positions: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, np.int64), repr=False)
    key_positions: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, np.int64), repr=False)

    # ---- derived --------------------------------------------------------------------------
    @property
    def qber_test(self) -> Estimate:
        """Error rate of the disclosed test subset (Clopper-Pearson interval)."""
        return Estimate.binomial(self.test_errors, self.test_bits)

    @property
    def qber_phase(self) -> Estimate:
        """Error rate of the test-basis bits."""
        return Estimate.binomial(self.phase_errors, self.phase_bits)

    @property
    def qber_key(self) -> float:
        """Error rate of the key block that error correction removed (corrected / key bits)."""
        return self.errors_before_ec / self.key_bits if self.key_bits else math.nan

    @property
    def efficiency(self) -> float | None:
        """f = leaked_bits / (key_bits h(Q)) with Q the key block's error rate; None if undefined."""
        if not self.frames:  # no error correction ran
            return None
        h = shannon_limit(self.key_bits, self.qber_key) if self.key_bits else 0.0
        return None if h == 0.0 else self.leaked_bits / h

    @property
    def frame_error_rate(self) -> float | None:
        """frame_errors / frames (None before error correction)."""
        return self.frame_errors / self.frames if self.frames else None

    def final_keys(self) -> tuple[np.ndarray, np.ndarray]:
        """Alice's and Bob's final keys, unpacked (uint8 0/1)."""
        return unpack(self.alice_key, self.final_length), unpack(self.bob_key, self.final_length)

    LABELS: ClassVar[dict[str, str]] = {
        "qber_test": "QBER, test subset", "qber_phase": "QBER, test basis (X)", "sifted_bits": "sifted bits",
        "key_bits": "key block (bit)", "leaked_bits": "EC leakage (bit)", "efficiency": "EC efficiency f",
        "frame_error_rate": "frame error rate", "key_length_bound": "finite-key bound (bit)",
        "final_length": "final key (bit)", "keys_identical": "final keys identical",
    }

    def estimates(self) -> dict[str, Estimate | float | int | None]:
        """The run's figures: test and phase QBER (proportions), leakage, f, FER, key lengths."""
        return {"qber_test": self.qber_test, "qber_phase": self.qber_phase, "sifted_bits": self.sifted_bits,
                "key_bits": self.key_bits, "leaked_bits": self.leaked_bits, "efficiency": self.efficiency,
                "frame_error_rate": self.frame_error_rate, "key_length_bound": self.key_length_bound,
                "final_length": self.final_length, "keys_identical": int(self.keys_identical)}

    _SCALARS: ClassVar[tuple[str, ...]] = (
        "protocol", "method", "seed", "rounds", "sifted_bits", "test_bits", "key_bits", "test_errors",
        "phase_bits", "phase_errors", "errors_before_ec", "leaked_bits", "ec_rounds", "frames", "frame_errors",
        "discarded_bits", "tag_bits", "verified", "key_length_bound", "final_length", "pa_seed", "aborted", "keys_identical",
        "eps_sec", "eps_cor")

    def to_dict(self, *, keys: bool = False) -> dict[str, Any]:
        """JSON-ready dict of the figures (``type`` = "DistillResult"); with ``keys`` also the final
        keys as hex strings and the test/key positions. :meth:`from_dict` inverts it."""
        d: dict[str, Any] = {"type": self.TYPE}
        for k in self._SCALARS:
            v = getattr(self, k)
            d[k] = None if isinstance(v, float) and not math.isfinite(v) else v
        d["timings_s"] = dict(self.timings_s)
        d["efficiency"] = self.efficiency
        d["frame_error_rate"] = self.frame_error_rate
        if keys:
            d["alice_key_hex"] = self.alice_key.tobytes().hex()
            d["bob_key_hex"] = self.bob_key.tobytes().hex()
            d["test_positions"] = self.test_positions.tolist()
            d["key_positions"] = self.key_positions.tolist()
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DistillResult:
        """Inverse of :meth:`to_dict` (keys and positions only if they were written)."""
        if not isinstance(data, dict) or data.get("type") != cls.TYPE:
            raise InvalidType("data", data, "a dict produced by DistillResult.to_dict()")
        kw = {k: data[k] for k in cls._SCALARS}
        if kw["key_length_bound"] is None:
            kw["key_length_bound"] = -math.inf
        kw["timings_s"] = dict(data.get("timings_s", {}))
        if "alice_key_hex" in data:
            kw["alice_key"] = np.frombuffer(bytes.fromhex(data["alice_key_hex"]), dtype=np.uint8).copy()
            kw["bob_key"] = np.frombuffer(bytes.fromhex(data["bob_key_hex"]), dtype=np.uint8).copy()
            kw["test_positions"] = np.asarray(data["test_positions"], dtype=np.int64)
            kw["key_positions"] = np.asarray(data["key_positions"], dtype=np.int64)
        return cls(**kw)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DistillResult):
            return NotImplemented
        same = all(getattr(self, k) == getattr(other, k) for k in self._SCALARS)
        return same and all(np.array_equal(getattr(self, k), getattr(other, k))
                            for k in ("alice_key", "bob_key", "test_positions", "key_positions"))

    __hash__ = None  # type: ignore[assignment]


def distill(material: SiftedKey | Iterable[KeyChunk], *, protocol: str = "bb84", method: str = "cascade",
            seed: SeedLike = None, test_fraction: float = 0.05, qber_abort: float = 0.11,
            eps_sec: float = 1e-10, eps_cor: float = 1e-15, decoy: DecoySettings | None = None,
            ec_options: dict | None = None) -> DistillResult:
    """Run the chain (module docs) on sifted key material.

    Args:
        material: a :class:`SiftedKey` or an iterable of :class:`KeyChunk` (e.g.
            :func:`qproto.distill.key_material`).
        protocol: name recorded in the result (and ``"decoy-bb84"`` needs ``decoy``).
        method: error correction, one of ``"cascade"``, ``"ldpc"``.
        seed: root of the chain's public randomness (None: fresh entropy, recorded).
        test_fraction: share of the sifted key-basis bits disclosed for parameter estimation, in (0, 1).
        qber_abort: abort when the test subset's error rate exceeds this, in (0, 0.5].
        eps_sec, eps_cor: security parameters in (0, 1).
        decoy: intensity settings for the decoy-state finite key (required when the
            material carries intensity classes, rejected otherwise).
        ec_options: extra keyword options of the error-correction method.

    Returns:
        :class:`DistillResult`.

    Raises:
        InvalidParameter: a parameter out of range, or ``decoy`` missing/extra.
    """
    times: dict[str, float] = {}
    t0 = time.perf_counter()
    sk = material if isinstance(material, SiftedKey) else collect(material)
    times["collect"] = time.perf_counter() - t0
    check_one_of("method", method, tuple(EC_METHODS))
    tf = check_in_range("test_fraction", test_fraction, 0.0, 1.0, lo_open=True, hi_open=True)
    qa = check_in_range("qber_abort", qber_abort, 0.0, 0.5, lo_open=True)
    es = check_in_range("eps_sec", eps_sec, 0.0, 1.0, lo_open=True, hi_open=True)
    ec = check_in_range("eps_cor", eps_cor, 0.0, 1.0, lo_open=True, hi_open=True)
    if (sk.key_class is not None) != (decoy is not None):
        raise InvalidParameter("decoy", decoy, "DecoySettings for decoy-state material (intensity classes), "
                               "None otherwise")
    if decoy is not None and not isinstance(decoy, DecoySettings):
        raise InvalidType("decoy", decoy, "a DecoySettings or None")
    root = root_seed(seed)
    n_sift = sk.n_key

    # 1. parameter estimation on a random subset, disjoint from the key block
    t0 = time.perf_counter()
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(root, spawn_key=(0,))))
    n_test = min(n_sift, max(1, math.ceil(tf * n_sift))) if n_sift else 0
    order = rng.permutation(n_sift)
    test_pos = np.sort(order[:n_test])
    key_pos = np.sort(order[n_test:])
    test_err = int(np.count_nonzero(sk.alice[test_pos] != sk.bob[test_pos]))
    a_key, b_key = sk.alice[key_pos], sk.bob[key_pos]
    n_key = int(key_pos.size)
    phase_err = int(np.count_nonzero(sk.alice_test != sk.bob_test))
    errors_before = int(np.count_nonzero(a_key != b_key))
    times["estimation"] = time.perf_counter() - t0
    tag_bits = verification_tag_bits(ec)
    base = dict(protocol=protocol, method=method, seed=root, rounds=sk.rounds, sifted_bits=n_sift, test_bits=n_test,
                key_bits=n_key, test_errors=test_err, phase_bits=sk.n_test, phase_errors=phase_err,
                errors_before_ec=errors_before, tag_bits=tag_bits, eps_sec=es, eps_cor=ec, timings_s=times,
                test_positions=test_pos, key_positions=key_pos, pa_seed=_sub_seed(root, 3))
    q_test = test_err / n_test if n_test else 0.5
    if n_key < 2 or q_test > qa:
        return DistillResult(**base, leaked_bits=0, ec_rounds=0, frames=0, frame_errors=0, discarded_bits=0,
                             verified=None,
                             key_length_bound=-math.inf, final_length=0, aborted="qber", keys_identical=False)

    # 3. error correction (the estimate is kept off 0 so that a clean test subset still tunes it)
    t0 = time.perf_counter()
    q_est = min(max(q_test, 1.0 / max(n_test, 1), 1e-4), 0.499)
    if method == "ldpc":  # a one-shot code must not be tuned below the true QBER: the 95 % upper bound
        q_est = min(max(q_est, Estimate.binomial(test_err, n_test).high), 0.499)
    rec = reconcile(a_key, b_key, method=method, qber=q_est, seed=_sub_seed(root, 1), **(ec_options or {}))
    times["error_correction"] = time.perf_counter() - t0
    corrected = rec.corrected
    discarded = 0
    if rec.kept is not None and not rec.kept.all():  # frames both parties drop
        discarded = int(np.count_nonzero(~rec.kept))
        a_key, corrected, key_pos_kept = a_key[rec.kept], corrected[rec.kept], key_pos[rec.kept]
    else:
        key_pos_kept = key_pos
    n_used = int(a_key.size)

    # 4. verification
    t0 = time.perf_counter()
    n_tag_in = max(n_used, tag_bits)
    tag_seed = seed_bits(_sub_seed(root, 2), toeplitz_seed_length(n_tag_in, tag_bits))
    verified = bool(np.array_equal(verification_tag(a_key, tag_seed, tag_bits),
                                   verification_tag(corrected, tag_seed, tag_bits)))
    times["verification"] = time.perf_counter() - t0
    common = dict(**base, leaked_bits=rec.leaked_bits, ec_rounds=rec.rounds, frames=rec.frames,
                  frame_errors=rec.frame_errors, discarded_bits=discarded, verified=verified)
    if not verified:
        return DistillResult(**common, key_length_bound=-math.inf, final_length=0, aborted="verification",
                             keys_identical=False)

    # 5. finite key from the measured leakage, then privacy amplification
    if decoy is None:
        bound = bb84_finite_key_length(n=n_used, k=sk.n_test, e_x=phase_err / sk.n_test if sk.n_test else 0.5,
                                       leak_ec=rec.leaked_bits, eps_sec=es, eps_cor=ec)
    else:
        bound = _decoy_bound(sk, key_pos_kept, decoy, q_test, rec.leaked_bits, es, ec)
    length = max(0, int(math.floor(bound)))
    length = min(length, n_used)
    if length == 0:
        return DistillResult(**common, key_length_bound=float(bound), final_length=0, aborted="no-key",
                             keys_identical=False)
    t0 = time.perf_counter()
    pa_bits = seed_bits(base["pa_seed"], toeplitz_seed_length(n_used, length))
    ka = toeplitz_hash(a_key, pa_bits, length)
    kb = toeplitz_hash(corrected, pa_bits, length)
    times["privacy_amplification"] = time.perf_counter() - t0
    return DistillResult(**common, key_length_bound=float(bound), final_length=length, aborted=None,
                         keys_identical=bool(np.array_equal(ka, kb)), alice_key=pack(ka), bob_key=pack(kb))


def _decoy_bound(sk: SiftedKey, key_pos: np.ndarray, decoy: DecoySettings, q_test: float, leak: int,
                 eps_sec: float, eps_cor: float) -> float:
    """Lim et al. 2014 length with the key block's and the X bits' counts per class, lambda_EC = leak."""
    from qproto.security import finite_key_length

    n_z = np.bincount(sk.key_class[key_pos], minlength=3)[:3].astype(float)
    n_x = np.bincount(sk.test_class, minlength=3)[:3].astype(float)
    m_x = np.bincount(sk.test_class[sk.alice_test != sk.bob_test], minlength=3)[:3].astype(float)
    kwargs = dict(intensities=decoy.intensities, probabilities=decoy.probabilities, n_z=n_z, n_x=n_x, m_x=m_x,
                  qber_z=q_test, eps_sec=eps_sec, eps_cor=eps_cor, lambda_ec=float(leak))
    try:
        r = finite_key_length(**kwargs, tails=decoy.tails)
    except TypeError:  # a finite_key_length without tail options
        r = finite_key_length(**kwargs)
    return float(r.ell_unclipped)
