"""Key distillation: the classical half of QKD on the simulated bits.

Streamed key material (:func:`key_material`, :func:`pass_key_material`), error
correction (:func:`cascade`, :func:`ldpc_reconcile`, one interface :func:`reconcile`),
verification and privacy amplification by Toeplitz hashing computed with FFT
(:func:`toeplitz_hash`), and the end-to-end chain (:func:`distill`,
:func:`distill_pass`) whose final key length is the finite-key bound evaluated with the
leakage error correction actually disclosed. See ``docs/distill.md``.

    >>> from qproto import Channel
    >>> from qproto.distill import key_material, distill
    >>> r = distill(key_material("bb84", Channel(transmittance=0.5, depolarisation=0.04),
    ...                          rounds=400_000, seed=1), seed=2)
    >>> r.keys_identical and r.final_length > 0 and r.leaked_bits > 0
    True
"""

from qproto.distill._bits import pack, unpack
from qproto.distill._cascade import CascadeResult, cascade, cascade_block_sizes
from qproto.distill._chain import DecoySettings, DistillResult, distill
from qproto.distill._finite import bb84_finite_key_length, phase_error_deviation
from qproto.distill._hashing import (
    seed_bits,
    FFTPrecisionError,
    toeplitz_hash,
    toeplitz_hash_quadratic,
    toeplitz_seed_length,
    verification_tag,
    verification_tag_bits,
)
from qproto.distill._ldpc import MOTHER_RATES, choose_mother_rate, ldpc_reconcile, qc_ldpc_matrix
from qproto.distill._material import (
    SUPPORTED_PROTOCOLS,
    KeyChunk,
    SiftedKey,
    MAX_BLOCK_BITS,
    collect,
    key_material,
    pass_key_material,
)
from qproto.distill._pass import distill_pass, optimise_for_pass, pass_channels
from qproto.distill._reconcile import EC_METHODS, Reconciliation, reconcile, shannon_limit

__all__ = [
    "CascadeResult", "DecoySettings", "MAX_BLOCK_BITS", "DistillResult", "EC_METHODS", "FFTPrecisionError", "KeyChunk", "MOTHER_RATES",
    "Reconciliation", "SUPPORTED_PROTOCOLS", "SiftedKey", "bb84_finite_key_length", "cascade",
    "cascade_block_sizes", "choose_mother_rate", "collect", "distill", "distill_pass", "key_material", "ldpc_reconcile", "optimise_for_pass", "pack",
    "qc_ldpc_matrix",
    "pass_channels", "pass_key_material", "phase_error_deviation", "reconcile", "seed_bits", "shannon_limit",
    "toeplitz_hash", "toeplitz_hash_quadratic", "toeplitz_seed_length", "unpack", "verification_tag",
    "verification_tag_bits",
]
