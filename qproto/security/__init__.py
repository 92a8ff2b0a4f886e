"""Security maths: entropies, asymptotic and finite-key rates, decoy bounds, capacity bounds, CHSH.

Pure, vectorised functions (docs/conventions.md A1, A2, A4, A13); protocols call them on
their tallies and users can call them directly for analytic curves.
"""

from qproto.security._bounds import db_from_transmittance, plob_bound, tgw_bound, transmittance_from_db
from qproto.security._chsh import CHSH_ALICE_ANGLES, CHSH_BOB_ANGLES, TSIRELSON_BOUND, chsh_value
from qproto.security._decoy import (
    E0_NOISE,
    F_EC_DEFAULT,
    VacuumWeakBounds,
    bb84_asymptotic_fraction,
    decoy_key_rate_infinite,
    decoy_key_rate_vacuum_weak,
    gllp_key_rate,
    n_photon_error,
    n_photon_yield,
    vacuum_weak_decoy_bounds,
    wcp_gain,
    wcp_qber,
)
from qproto.security._entropy import binary_entropy
from qproto.security._optimise import (
    DecoyParameters,
    OptimisedDecoy,
    afterpulse_noise_yield,
    optimise_decoy_parameters,
    pass_finite_key,
)
from qproto.security._purification import (
    bbpssw,
    bell_diagonal_correlators,
    bilateral_cnot,
    chain_fidelity,
    dejmps,
    swap_fidelity,
    teleportation_fidelity,
    werner_coefficients,
    werner_fidelity,
    werner_visibility,
)
from qproto.security._finite_key import (
    DecoyCounts,
    EcLeakage,
    FiniteKeyResult,
    Tails,
    expected_decoy_counts,
    finite_key_length,
    finite_key_length_from_channel,
)

__all__ = [
    "CHSH_ALICE_ANGLES", "CHSH_BOB_ANGLES", "DecoyCounts", "E0_NOISE", "EcLeakage", "F_EC_DEFAULT",
    "FiniteKeyResult", "TSIRELSON_BOUND", "VacuumWeakBounds", "bb84_asymptotic_fraction", "binary_entropy",
    "chsh_value", "db_from_transmittance", "decoy_key_rate_infinite", "decoy_key_rate_vacuum_weak",
    "expected_decoy_counts", "finite_key_length", "finite_key_length_from_channel", "gllp_key_rate",
    "n_photon_error", "n_photon_yield", "plob_bound", "tgw_bound", "transmittance_from_db",
    "vacuum_weak_decoy_bounds", "wcp_gain", "wcp_qber",
    "bbpssw", "bell_diagonal_correlators", "bilateral_cnot", "chain_fidelity", "dejmps", "swap_fidelity",
    "teleportation_fidelity", "werner_coefficients", "werner_fidelity", "werner_visibility",
    "DecoyParameters", "OptimisedDecoy", "optimise_decoy_parameters", "pass_finite_key",
    "Tails", "afterpulse_noise_yield",
]
