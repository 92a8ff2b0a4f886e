"""Background (sky) light collected per detection window (docs/conventions.md §C.6).

``N_b = H_b * Omega_FOV * A_rx * d_lambda * d_t * eta_rx / (h c / lambda)``
(Miao et al. 2005 NJP 7 215; Khatri et al. 2021 npj Quantum Inf. 7 4), with
``Omega_FOV = pi theta_FOV^2 / 4`` for a full-angle field of view and ``A_rx = pi D^2/4``.

Units: sky spectral radiance in W m^-2 sr^-1 nm^-1 (``sky_radiance_w_m2_sr_nm``), so the
filter width is in **nanometres** (``filter_width_nm``); the photon energy uses the
wavelength in metres (``wavelength_m``). ``N_b`` is counted before the detector
efficiency (see :mod:`._detectors`).
"""

from __future__ import annotations

import math
from types import MappingProxyType
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from qproto._validation import check_one_of

from qproto._validation import check_array_in_range as _check_array_in_range, check_array_non_negative as _check_array_non_negative, check_array_positive as _check_array_positive, scalar_or_array as _out

__all__ = [
    "PLANCK_J_S",
    "SPEED_OF_LIGHT_M_S",
    "SKY_RADIANCE_PRESETS_W_M2_SR_NM",
    "SkyPreset",
    "sky_radiance_w_m2_sr_nm",
    "photon_energy_j",
    "background_photons_per_window",
    "diffraction_limited_fov_rad",
    "lit_earth_radiance_w_m2_sr_nm",
]

PLANCK_J_S = 6.62607015e-34
SPEED_OF_LIGHT_M_S = 299_792_458.0

SkyPreset = Literal["day_810nm", "day_1550nm", "full_moon_night", "moonless_night"]

#: Indicative sky spectral radiance H_b [W m^-2 sr^-1 nm^-1] (docs/conventions.md §C.6, all [U]):
#:
#: * ``day_810nm``: clear daytime sky at 810 nm, ~1e-2.
#: * ``day_1550nm``: clear daytime sky at 1550 nm, 1e-3 to 3e-3; 2e-3 is used.
#: * ``full_moon_night``: full-moon night, ~1e-6 (wavelength-independent here).
#: * ``moonless_night``: moonless rural night, ~1e-8.
SKY_RADIANCE_PRESETS_W_M2_SR_NM = MappingProxyType({
    "day_810nm": 1e-2,
    "day_1550nm": 2e-3,
    "full_moon_night": 1e-6,
    "moonless_night": 1e-8,
})


def sky_radiance_w_m2_sr_nm(preset: SkyPreset) -> float:
    """Sky spectral radiance of a named preset [W m^-2 sr^-1 nm^-1].

    Args:
        preset: a key of :data:`SKY_RADIANCE_PRESETS_W_M2_SR_NM`.

    Returns:
        H_b [W m^-2 sr^-1 nm^-1].

    Raises:
        InvalidParameter: unknown preset name.
    """
    check_one_of("preset", preset, SKY_RADIANCE_PRESETS_W_M2_SR_NM.keys())
    return SKY_RADIANCE_PRESETS_W_M2_SR_NM[preset]


def photon_energy_j(wavelength_m: ArrayLike) -> np.ndarray | float:
    """Photon energy ``h c / lambda`` [J].

    Args:
        wavelength_m: wavelength [m], > 0.

    Returns:
        Photon energy [J].

    Raises:
        InvalidParameter: a non-positive wavelength.
    """
    lam = _check_array_positive("wavelength_m", wavelength_m)
    return _out(PLANCK_J_S * SPEED_OF_LIGHT_M_S / lam)


def background_photons_per_window(*, sky_radiance_w_m2_sr_nm: ArrayLike,
                                  fov_full_angle_rad: ArrayLike,
                                  aperture_diameter_m: ArrayLike, filter_width_nm: ArrayLike,
                                  gate_s: ArrayLike, wavelength_m: ArrayLike,
                                  rx_efficiency: ArrayLike = 1.0) -> np.ndarray | float:
    """Mean background photons reaching the detectors per detection window.

    Example (docs/conventions.md §C.6): D = 0.3 m, FOV 100 urad, 1 nm, 1 ns, 810 nm,
    H_b = 1e-2 gives 2.3e-2.

    Args:
        sky_radiance_w_m2_sr_nm: sky spectral radiance H_b [W m^-2 sr^-1 nm^-1], >= 0.
        fov_full_angle_rad: receiver field of view, full angle [rad], > 0.
        aperture_diameter_m: receiver aperture diameter [m], >= 0.
        filter_width_nm: spectral filter width [nm], > 0.
        gate_s: detection (gate / coincidence) window [s], > 0.
        wavelength_m: wavelength [m], > 0.
        rx_efficiency: receiver optics transmittance before the detector, in [0, 1].

    Returns:
        N_b (photons per window, before detector efficiency), broadcast shape of the
        inputs.

    Raises:
        InvalidParameter: a parameter outside its range.
    """
    hb = _check_array_non_negative("sky_radiance_w_m2_sr_nm", sky_radiance_w_m2_sr_nm)
    fov = _check_array_positive("fov_full_angle_rad", fov_full_angle_rad)
    D = _check_array_non_negative("aperture_diameter_m", aperture_diameter_m)
    dl = _check_array_positive("filter_width_nm", filter_width_nm)
    dt = _check_array_positive("gate_s", gate_s)
    lam = _check_array_positive("wavelength_m", wavelength_m)
    eta = _check_array_in_range("rx_efficiency", rx_efficiency, 0.0, 1.0)
    omega = math.pi * fov**2 / 4.0
    area = math.pi * D**2 / 4.0
    energy = PLANCK_J_S * SPEED_OF_LIGHT_M_S / lam
    return _out(hb * omega * area * dl * dt * eta / energy)


def diffraction_limited_fov_rad(*, wavelength_m: ArrayLike,
                                aperture_diameter_m: ArrayLike) -> np.ndarray | float:
    """Smallest useful full-angle field of view, ``2.44 lambda / D`` [rad].

    Without adaptive optics the FOV should also be >~ lambda / r0 to avoid clipping the
    signal (Gruneisen et al. 2016, Opt. Eng. 55 026104).

    Args:
        wavelength_m: wavelength [m], > 0.
        aperture_diameter_m: receiver aperture diameter [m], > 0.

    Returns:
        Full-angle FOV [rad].

    Raises:
        InvalidParameter: a non-positive input.
    """
    lam = _check_array_positive("wavelength_m", wavelength_m)
    D = _check_array_positive("aperture_diameter_m", aperture_diameter_m)
    return _out(2.44 * lam / D)


def lit_earth_radiance_w_m2_sr_nm(*, albedo: ArrayLike,
                                  solar_spectral_irradiance_w_m2_nm: ArrayLike,
                                  ) -> np.ndarray | float:
    """Radiance of the sunlit Earth seen by an uplink receiver, ``albedo E_sun / pi``.

    Lambertian approximation (Miao et al. 2005 [R]).

    Args:
        albedo: Earth albedo, in [0, 1].
        solar_spectral_irradiance_w_m2_nm: solar spectral irradiance at the top of the
            atmosphere [W m^-2 nm^-1], >= 0 (about 1.1 at 810 nm, 0.25 at 1550 nm).

    Returns:
        Radiance [W m^-2 sr^-1 nm^-1].

    Raises:
        InvalidParameter: a parameter outside its range.
    """
    a = _check_array_in_range("albedo", albedo, 0.0, 1.0)
    e = _check_array_non_negative("solar_spectral_irradiance_w_m2_nm",
                                  solar_spectral_irradiance_w_m2_nm)
    return _out(a * e / math.pi)
