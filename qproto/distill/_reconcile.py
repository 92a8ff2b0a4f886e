"""One interface over the error-correction methods (``cascade``, ``ldpc``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from qproto._validation import check_in_range, check_int, check_one_of
from qproto.distill._bits import as_bits
from qproto.security import binary_entropy

__all__ = ["Reconciliation", "reconcile", "EC_METHODS"]


@dataclasses.dataclass(frozen=True, eq=False)
class Reconciliation:
    """Outcome of error correction on one block.

    Attributes:
        method: ``"cascade"`` or ``"ldpc"``.
        corrected: Bob's string afterwards (uint8 0/1).
        leaked_bits: bits disclosed on the public channel (parities or syndromes and
            every other message that depends on Alice's string).
        rounds: rounds of communication.
        frames: frames (code words) the block was cut into (1 for Cascade).
        frame_errors: frames that ended with a known or unknown mismatch: for LDPC the frames
            whose decoder did not reproduce Alice's syndrome, plus (simulation-side) frames with
            residual errors; for Cascade 1 if errors remain.
        errors_corrected: bits Bob flipped.
        kept: which bits survive (frames whose failure was detected are discarded by both);
            ``None`` when all do.
        mother_rate, punctured, shortened: LDPC code rate and modulated bits per frame (else None).
    """

    method: str
    corrected: np.ndarray
    leaked_bits: int
    rounds: int
    frames: int
    frame_errors: int
    errors_corrected: int
    kept: np.ndarray | None = None
    mother_rate: float | None = None
    punctured: int | None = None
    shortened: int | None = None

    def efficiency(self, n: int, qber: float) -> float | None:
        """f = leaked_bits / (n h(qber)); ``None`` when n h(qber) = 0."""
        h = float(binary_entropy(check_in_range("qber", qber, 0.0, 1.0)))
        return None if n == 0 or h == 0.0 else self.leaked_bits / (n * h)


def _cascade(alice: np.ndarray, bob: np.ndarray, qber: float, seed: int, options: dict) -> Reconciliation:
    from qproto.distill._cascade import cascade

    r = cascade(alice, bob, qber=qber, seed=seed, **options)
    residual = int(np.count_nonzero(r.corrected != alice))
    return Reconciliation(method="cascade", corrected=r.corrected, leaked_bits=r.leaked_bits, rounds=r.rounds,
                          frames=1, frame_errors=int(residual > 0), errors_corrected=r.flipped)


def _ldpc(alice: np.ndarray, bob: np.ndarray, qber: float, seed: int, options: dict) -> Reconciliation:
    from qproto.distill._ldpc import ldpc_reconcile

    return ldpc_reconcile(alice, bob, qber=qber, seed=seed, **options)


EC_METHODS: dict[str, Callable[..., Reconciliation]] = {"cascade": _cascade, "ldpc": _ldpc}


def reconcile(alice: np.ndarray, bob: np.ndarray, *, method: str = "cascade", qber: float, seed: int,
              **options) -> Reconciliation:
    """Correct Bob's string towards Alice's with ``method`` (one of :data:`EC_METHODS`).

    Args:
        alice, bob: 1-D 0/1 arrays of equal length >= 2.
        method: ``"cascade"`` (Martinez-Mateo et al. 2015 block sizes) or ``"ldpc"``
            (syndrome decoding with rate adaptation, Elkouss et al. 2011).
        qber: the estimated QBER in [0, 0.5) (from the test subset) that tunes the method.
        seed: int >= 0 of the public randomness (permutations, code choice).
        **options: method-specific options (see :func:`qproto.distill.cascade`,
            :func:`qproto.distill.ldpc_reconcile`).
    """
    check_one_of("method", method, tuple(EC_METHODS))
    a = as_bits("alice", alice)
    b = as_bits("bob", bob)
    check_int("seed", seed, minimum=0)
    q = check_in_range("qber", qber, 0.0, 0.5, hi_open=True)
    if a.size != b.size:
        from qproto._errors import InvalidParameter

        raise InvalidParameter("bob", f"{b.size} bits", f"as many bits as alice ({a.size})")
    return EC_METHODS[method](a, b, q, seed, options)


def shannon_limit(n: int, qber: float) -> float:
    """n h(qber) in bits: the least any error correction must disclose on average."""
    return 0.0 if n == 0 else n * float(binary_entropy(min(max(qber, 0.0), 1.0)))


