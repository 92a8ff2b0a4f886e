"""NTN channel physics and the mapping of channels to qiskit-aer noise models.

Installed as :mod:`qproto.noise_models`.
"""

from qproto.noise_models._aer import (
    CHANNEL_LABEL,
    ERASURE_LABEL,
    channel_marker,
    channel_noise_model,
    erasure_error,
    erasure_marker,
    qubit_error,
)

__all__ = [
    "CHANNEL_LABEL", "ERASURE_LABEL", "channel_marker", "channel_noise_model", "erasure_error",
    "erasure_marker", "qubit_error",
]
