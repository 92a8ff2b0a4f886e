"""Gaussian-beam optics and geometric (collection) loss (docs/conventions.md §C.2).

Conventions:

* Beam radii are **1/e^2-intensity radii** [m]; ``waist_radius_m`` is ``w0``.
* Divergence is always stored and passed as the **1/e^2 half-angle** [rad]
  (``divergence_half_angle_rad``). Papers quoting a *full* angle or a FWHM must be
  converted explicitly with :func:`divergence_half_angle_from_full_angle` or
  :func:`divergence_half_angle_from_fwhm` (seed 001's "full-angle divergence of 33 urad"
  is a 16.5 urad half-angle).
* Wavelengths are in metres (``wavelength_m``).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from qproto._validation import check_array_in_range as _check_array_in_range, check_array_non_negative as _check_array_non_negative, check_array_positive as _check_array_positive, scalar_or_array as _out

__all__ = [
    "rayleigh_range_m",
    "beam_radius_m",
    "far_field_divergence_half_angle_rad",
    "waist_radius_from_divergence_m",
    "far_field_beam_radius_m",
    "divergence_half_angle_from_full_angle",
    "divergence_half_angle_from_fwhm",
    "collection_efficiency",
    "optics_efficiency",
    "transmittance_to_loss_db",
    "loss_db_to_transmittance",
]


def rayleigh_range_m(*, waist_radius_m: ArrayLike, wavelength_m: ArrayLike) -> np.ndarray | float:
    """Rayleigh range ``z_R = pi w0^2 / lambda`` [m].

    Args:
        waist_radius_m: 1/e^2 waist radius ``w0`` [m], > 0.
        wavelength_m: wavelength [m], > 0.

    Returns:
        Rayleigh range [m] (broadcast shape of the inputs).

    Raises:
        InvalidParameter: a non-positive or non-finite input.
    """
    w0 = _check_array_positive("waist_radius_m", waist_radius_m)
    lam = _check_array_positive("wavelength_m", wavelength_m)
    return _out(math.pi * w0**2 / lam)


def beam_radius_m(*, range_m: ArrayLike, waist_radius_m: ArrayLike,
                  wavelength_m: ArrayLike) -> np.ndarray | float:
    """Gaussian beam radius ``w(L) = w0 sqrt(1 + (L / z_R)^2)`` [m] (vacuum diffraction).

    Args:
        range_m: propagation distance from the waist [m], >= 0.
        waist_radius_m: 1/e^2 waist radius [m], > 0 (diffraction-limited transmitter of
            aperture ``D_T``: ``w0 ~ D_T / 2``, truncation ignored).
        wavelength_m: wavelength [m], > 0.

    Returns:
        1/e^2 beam radius at ``range_m`` [m].

    Raises:
        InvalidParameter: a negative range or non-positive waist/wavelength.
    """
    L = _check_array_non_negative("range_m", range_m)
    w0 = _check_array_positive("waist_radius_m", waist_radius_m)
    lam = _check_array_positive("wavelength_m", wavelength_m)
    z_r = math.pi * w0**2 / lam
    return _out(w0 * np.sqrt(1.0 + (L / z_r) ** 2))


def far_field_divergence_half_angle_rad(*, waist_radius_m: ArrayLike,
                                        wavelength_m: ArrayLike) -> np.ndarray | float:
    """Far-field 1/e^2 half-angle divergence ``theta = lambda / (pi w0)`` [rad].

    Args:
        waist_radius_m: 1/e^2 waist radius [m], > 0.
        wavelength_m: wavelength [m], > 0.

    Returns:
        Divergence half-angle [rad].

    Raises:
        InvalidParameter: a non-positive input.
    """
    w0 = _check_array_positive("waist_radius_m", waist_radius_m)
    lam = _check_array_positive("wavelength_m", wavelength_m)
    return _out(lam / (math.pi * w0))


def waist_radius_from_divergence_m(*, divergence_half_angle_rad: ArrayLike,
                                   wavelength_m: ArrayLike) -> np.ndarray | float:
    """Waist radius of a diffraction-limited beam with a given half-angle, ``lambda/(pi theta)``.

    Args:
        divergence_half_angle_rad: 1/e^2 half-angle [rad], > 0.
        wavelength_m: wavelength [m], > 0.

    Returns:
        1/e^2 waist radius [m].

    Raises:
        InvalidParameter: a non-positive input.
    """
    th = _check_array_positive("divergence_half_angle_rad", divergence_half_angle_rad)
    lam = _check_array_positive("wavelength_m", wavelength_m)
    return _out(lam / (math.pi * th))


def far_field_beam_radius_m(*, range_m: ArrayLike,
                            divergence_half_angle_rad: ArrayLike) -> np.ndarray | float:
    """Far-field beam radius ``w = theta L`` [m].

    Example (docs/conventions.md §C.2): 33 urad half-angle over 24.8 km gives w = 0.82 m.

    Args:
        range_m: link range [m], >= 0.
        divergence_half_angle_rad: 1/e^2 half-angle [rad], > 0.

    Returns:
        1/e^2 beam radius [m].

    Raises:
        InvalidParameter: a negative range or non-positive divergence.
    """
    L = _check_array_non_negative("range_m", range_m)
    th = _check_array_positive("divergence_half_angle_rad", divergence_half_angle_rad)
    return _out(th * L)


def divergence_half_angle_from_full_angle(*, full_angle_rad: ArrayLike) -> np.ndarray | float:
    """Convert a 1/e^2 **full**-angle divergence to the half-angle qproto stores.

    Keyword-only on purpose: the call site must say that its number is a full angle.

    Args:
        full_angle_rad: 1/e^2 full-angle divergence [rad], > 0.

    Returns:
        1/e^2 half-angle [rad] (``full_angle_rad / 2``).

    Raises:
        InvalidParameter: a non-positive input.
    """
    full = _check_array_positive("full_angle_rad", full_angle_rad)
    return _out(full / 2.0)


def divergence_half_angle_from_fwhm(*, fwhm_full_angle_rad: ArrayLike) -> np.ndarray | float:
    """Convert an intensity-FWHM full angle to the 1/e^2 half-angle.

    For ``I ~ exp(-2 r^2 / w^2)`` the FWHM diameter is ``w sqrt(2 ln 2)``, so
    ``theta = FWHM / sqrt(2 ln 2)``.

    Args:
        fwhm_full_angle_rad: full width at half maximum of the far-field intensity [rad], > 0.

    Returns:
        1/e^2 half-angle [rad].

    Raises:
        InvalidParameter: a non-positive input.
    """
    fwhm = _check_array_positive("fwhm_full_angle_rad", fwhm_full_angle_rad)
    return _out(fwhm / math.sqrt(2.0 * math.log(2.0)))


def collection_efficiency(*, aperture_diameter_m: ArrayLike,
                          beam_radius_m: ArrayLike) -> np.ndarray | float:
    """Fraction of a Gaussian beam collected by a centred circular aperture.

    ``eta_geo = 1 - exp(-D^2 / (2 w^2))`` (~ ``D^2/(2 w^2)`` for ``D << w``). Decreases with
    beam radius (range, divergence), increases with aperture (docs/conventions.md invariant 2).

    Args:
        aperture_diameter_m: receiver aperture diameter ``D`` [m], >= 0.
        beam_radius_m: 1/e^2 beam radius at the receiver [m], > 0.

    Returns:
        eta_geo in [0, 1].

    Raises:
        InvalidParameter: a negative aperture or non-positive beam radius.
    """
    D = _check_array_non_negative("aperture_diameter_m", aperture_diameter_m)
    w = _check_array_positive("beam_radius_m", beam_radius_m)
    return _out(-np.expm1(-(D**2) / (2.0 * w**2)))


def optics_efficiency(*, tx_efficiency: ArrayLike = 1.0,
                      rx_efficiency: ArrayLike = 1.0) -> np.ndarray | float:
    """Product of transmitter and receiver optics transmittances (eta_tx * eta_rx).

    These lump mirror/lens/filter/coupling losses inside each terminal; they are inputs
    (typical values 0.5-0.9 each), not computed.

    Args:
        tx_efficiency: transmitter optics transmittance, in [0, 1].
        rx_efficiency: receiver optics transmittance (before the detector), in [0, 1].

    Returns:
        The product, in [0, 1].

    Raises:
        InvalidParameter: a factor outside [0, 1].
    """
    tx = _check_array_in_range("tx_efficiency", tx_efficiency, 0.0, 1.0)
    rx = _check_array_in_range("rx_efficiency", rx_efficiency, 0.0, 1.0)
    return _out(tx * rx)


def transmittance_to_loss_db(transmittance: ArrayLike) -> np.ndarray | float:
    """Loss in dB, ``-10 log10(eta)`` (``inf`` for eta = 0).

    Args:
        transmittance: eta in [0, 1].

    Returns:
        Loss [dB], >= 0.

    Raises:
        InvalidParameter: eta outside [0, 1].
    """
    eta = _check_array_in_range("transmittance", transmittance, 0.0, 1.0)
    with np.errstate(divide="ignore"):
        return _out(-10.0 * np.log10(eta))


def loss_db_to_transmittance(loss_db: ArrayLike) -> np.ndarray | float:
    """Transmittance ``10^(-loss_db / 10)``.

    Args:
        loss_db: loss [dB], >= 0.

    Returns:
        eta in (0, 1].

    Raises:
        InvalidParameter: a negative or non-finite loss.
    """
    loss = _check_array_non_negative("loss_db", loss_db)
    return _out(10.0 ** (-loss / 10.0))
