"""Single-photon detectors and per-window noise-click probabilities (docs/conventions.md §C.7).

``p_dark = R_dark * gate``; per detector ``p_n = p_dark + eta_det N_b / n_det`` (the
background ``N_b`` is split evenly over ``n_det`` detectors); vacuum yield of the
receiver ``Y0 = 1 - (1 - p_n)^n_det`` (~ ``n_det p_n``). The linear formulas assume
``p_n << 1``; ``p_n`` is clipped to 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
from numpy.typing import ArrayLike

from qproto._errors import InvalidParameter, InvalidType
from qproto._validation import (
    check_int,
    check_non_negative,
    check_one_of,
    check_probability,
)

from qproto._validation import check_array_in_range as _check_array_in_range, check_array_non_negative as _check_array_non_negative, check_array_positive as _check_array_positive, scalar_or_array as _out

__all__ = [
    "Detector",
    "DETECTOR_PRESETS",
    "get_detector",
    "dark_count_probability",
    "noise_click_probability",
    "vacuum_yield",
]


@dataclass(frozen=True)
class Detector:
    """A single-photon detector, validated on construction.

    Attributes:
        name: a label.
        efficiency: detection efficiency eta_det at the operating wavelength, in [0, 1].
        dark_count_rate_hz: dark-count rate [1/s], >= 0.
        dead_time_s: dead time [s], >= 0 (informational; not used by the noise formulas).
        afterpulse_probability: afterpulsing probability, in [0, 1]; not a Channel field: decoy-state
            BB84 over passes uses it (:func:`qproto.passes.link_pass` carries it to ``DecoyBB84``).

    Raises:
        InvalidParameter: a field outside its range.
        InvalidType: ``name`` not a str.
    """

    name: str
    efficiency: float
    dark_count_rate_hz: float
    dead_time_s: float = 0.0
    afterpulse_probability: float = 0.0

    def __post_init__(self) -> None:
        if not isinstance(self.name, str):
            raise InvalidType("name", self.name, "a str")
        # object.__setattr__: normalise numbers to float on a frozen dataclass.
        object.__setattr__(self, "efficiency", check_probability("efficiency", self.efficiency))
        object.__setattr__(self, "dark_count_rate_hz",
                           check_non_negative("dark_count_rate_hz", self.dark_count_rate_hz))
        object.__setattr__(self, "dead_time_s", check_non_negative("dead_time_s", self.dead_time_s))
        object.__setattr__(self, "afterpulse_probability",
                           check_probability("afterpulse_probability", self.afterpulse_probability))


#: Typical detectors (docs/conventions.md §C.7, all values typical [U]):
#:
#: * ``si_spad``: Si SPAD at 810 nm, eta 0.5 (range 0.4-0.65), 100 dark counts/s
#:   (range 10-500), 22 ns dead time.
#: * ``ingaas_spad``: gated InGaAs/InP SPAD at 1550 nm, eta 0.2 (range 0.1-0.3),
#:   1000 dark counts/s (assumed; docs/conventions.md gives no figure), 10 us dead time.
#: * ``snspd``: SNSPD at 1550 nm, eta 0.9 (range 0.8-0.95), 100 dark counts/s (<~ 100),
#:   50 ns dead time.
DETECTOR_PRESETS = MappingProxyType({
    "si_spad": Detector("si_spad", efficiency=0.5, dark_count_rate_hz=100.0, dead_time_s=22e-9),
    "ingaas_spad": Detector("ingaas_spad", efficiency=0.2, dark_count_rate_hz=1000.0,
                            dead_time_s=10e-6),
    "snspd": Detector("snspd", efficiency=0.9, dark_count_rate_hz=100.0, dead_time_s=50e-9),
})


def get_detector(name: str) -> Detector:
    """A preset detector by name.

    Args:
        name: ``"si_spad"``, ``"ingaas_spad"`` or ``"snspd"``.

    Returns:
        The preset :class:`Detector`.

    Raises:
        InvalidParameter: unknown name (the message lists the presets).
    """
    check_one_of("name", name, sorted(DETECTOR_PRESETS))
    return DETECTOR_PRESETS[name]


def dark_count_probability(*, dark_count_rate_hz: ArrayLike, gate_s: ArrayLike) -> np.ndarray | float:
    """Dark-count probability per detector per window, ``p_dark = R_dark * gate``.

    Args:
        dark_count_rate_hz: dark-count rate [1/s], >= 0.
        gate_s: detection window [s], > 0.

    Returns:
        p_dark in [0, 1].

    Raises:
        InvalidParameter: a parameter out of range, or ``R_dark * gate > 1`` (the linear
            formula is meaningless there).
    """
    r = _check_array_non_negative("dark_count_rate_hz", dark_count_rate_hz)
    dt = _check_array_positive("gate_s", gate_s)
    p = r * dt
    if np.any(p > 1.0):
        raise InvalidParameter(
            "gate_s", gate_s, "dark_count_rate_hz * gate_s <= 1",
            f"dark_count_rate_hz * gate_s = {float(np.max(p))!r} > 1; p_dark = R_dark * gate "
            "is only valid for p_dark << 1")
    return _out(p)


def noise_click_probability(*, detector: Detector, background_photons: ArrayLike,
                            gate_s: float, n_detectors: int = 2) -> np.ndarray | float:
    """Per-detector noise-click probability ``p_n = p_dark + eta_det N_b / n_det``.

    Args:
        detector: the :class:`Detector` (efficiency and dark-count rate).
        background_photons: background photons per window N_b reaching the detectors,
            before detector efficiency (from :func:`background_photons_per_window`), >= 0.
        gate_s: detection window [s], > 0.
        n_detectors: number of detectors sharing the background, >= 1 (2 for a
            two-detector receiver, docs/conventions.md §0).

    Returns:
        p_n in [0, 1] (clipped at 1), shape of ``background_photons``.

    Raises:
        InvalidParameter: a parameter outside its range.
        InvalidType: ``detector`` not a :class:`Detector`.
    """
    if not isinstance(detector, Detector):
        raise InvalidType("detector", detector, "a qproto.noise_models Detector")
    nb = _check_array_non_negative("background_photons", background_photons)
    n = check_int("n_detectors", n_detectors, minimum=1)
    p_dark = dark_count_probability(dark_count_rate_hz=detector.dark_count_rate_hz,
                                    gate_s=gate_s)
    return _out(np.minimum(p_dark + detector.efficiency * nb / n, 1.0))


def vacuum_yield(*, noise_click_probability: ArrayLike, n_detectors: int = 2) -> np.ndarray | float:
    """Receiver vacuum yield ``Y0 = 1 - (1 - p_n)^n_det`` (probability of >= 1 noise click).

    Args:
        noise_click_probability: per-detector p_n, in [0, 1].
        n_detectors: number of detectors, >= 1.

    Returns:
        Y0 in [0, 1].

    Raises:
        InvalidParameter: a parameter outside its range.
    """
    p = _check_array_in_range("noise_click_probability", noise_click_probability, 0.0, 1.0)
    n = check_int("n_detectors", n_detectors, minimum=1)
    with np.errstate(divide="ignore"):  # p = 1 -> log1p(-1) = -inf -> Y0 = 1
        return _out(-np.expm1(n * np.log1p(-p)))
