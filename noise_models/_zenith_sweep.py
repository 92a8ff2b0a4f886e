"""Seed 001, Fig. 4: Greenwood frequency and Fried parameter against zenith angle.

For a LEO downlink the Greenwood frequency (the rate the turbulence changes, which an
adaptive-optics (AO) loop must follow) and the Fried parameter (transverse coherence
length) are computed along an overhead circular-orbit pass with the existing turbulence
functions (docs/conventions.md §C.5): Hufnagel-Valley 5/7, Bufton wind plus the tracking slew
pseudo-wind ``omega_s (h - h0)`` with the slew rate of the pass at each zenith angle.

The seed (Sec. III-D2) concludes that 1550 nm is more resilient than 810 nm (lower
Greenwood frequency, longer Fried parameter) and that a 1.5 kHz AO loop suffices at
1550 nm up to 80 deg zenith but at 810 nm only below 60 deg. Its curves use the profiles
of Trinh et al. 2022 (Commun. Phys. 5 225) and Gruneisen et al. 2021 eqs. (A2)/(B1),
which docs/conventions.md F.2 could not retrieve; with the standard HV 5/7 + Bufton model used here
the Greenwood frequencies are several times lower, so the bandwidth that suffices is
lower too, while the qualitative conclusions hold (see
``benchmarks/fig4_greenwood_fried.py``).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from numpy.typing import ArrayLike

from qproto._validation import check_non_negative, check_positive

from ._geometry import circular_pass, orbital_period_s
from qproto._validation import check_array_in_range as _check_array_in_range, check_array_positive as _check_array_positive
from ._turbulence import fried_parameter_m, greenwood_frequency_hz, hufnagel_valley_profile

__all__ = [
    "AO_BENCHMARK_BANDWIDTH_HZ",
    "GreenwoodFriedCurves",
    "greenwood_fried_vs_zenith",
]

#: The "state-of-the-art" AO closed-loop bandwidth seed 001 compares against [Hz].
AO_BENCHMARK_BANDWIDTH_HZ = 1500.0


@dataclasses.dataclass(frozen=True, kw_only=True, eq=False)
class GreenwoodFriedCurves:
    """Greenwood frequency and Fried parameter on a (wavelength, zenith angle) grid.

    Attributes:
        wavelength_m: wavelengths [m], shape ``(n_lambda,)``.
        zenith_deg: zenith angles [deg], increasing, shape ``(n_zenith,)``.
        slew_rate_rad_s: tracking slew rate of the overhead pass at each zenith angle
            [rad/s], shape ``(n_zenith,)``.
        greenwood_frequency_hz: f_G with the slew pseudo-wind [Hz], shape
            ``(n_lambda, n_zenith)``.
        greenwood_frequency_no_slew_hz: f_G with the Bufton wind alone [Hz], same shape.
        fried_parameter_m: plane-wave r0 [m], same shape.
    """

    wavelength_m: np.ndarray
    zenith_deg: np.ndarray
    slew_rate_rad_s: np.ndarray
    greenwood_frequency_hz: np.ndarray
    greenwood_frequency_no_slew_hz: np.ndarray
    fried_parameter_m: np.ndarray

    def ao_sufficient(self, bandwidth_hz: float) -> np.ndarray:
        """Where an AO loop of this closed-loop bandwidth keeps up: ``f_G <= bandwidth``.

        Args:
            bandwidth_hz: AO closed-loop bandwidth [Hz], > 0.

        Returns:
            Boolean array ``(n_lambda, n_zenith)``.
        """
        b = check_positive("bandwidth_hz", bandwidth_hz)
        return self.greenwood_frequency_hz <= b

    def max_zenith_deg(self, bandwidth_hz: float) -> np.ndarray:
        """Largest zenith angle up to which (from 0) the AO bandwidth suffices, per wavelength.

        Args:
            bandwidth_hz: AO closed-loop bandwidth [Hz], > 0.

        Returns:
            Array ``(n_lambda,)`` [deg]; NaN where the bandwidth is too low already at the
            smallest zenith angle; the grid's last angle where it suffices everywhere.
        """
        ok = self.ao_sufficient(bandwidth_hz)
        out = np.full(ok.shape[0], math.nan)
        for i, row in enumerate(ok):
            bad = np.flatnonzero(~row)
            if bad.size == 0:
                out[i] = self.zenith_deg[-1]
            elif bad[0] > 0:
                out[i] = self.zenith_deg[bad[0] - 1]
        return out


def greenwood_fried_vs_zenith(*, wavelength_m: ArrayLike = (810e-9, 1550e-9),
                              zenith_deg: ArrayLike | None = None,
                              satellite_altitude_m: float = 535e3,
                              ground_altitude_m: float = 0.0, ground_wind_m_s: float = 5.0,
                              hv_rms_wind_m_s: float = 21.0,
                              hv_ground_cn2: float = 1.7e-14) -> GreenwoodFriedCurves:
    """Greenwood frequency and Fried parameter against zenith angle for a LEO downlink.

    The slew rate at each zenith angle is that of an overhead circular-orbit pass of the
    satellite seen from the ground station (Earth rotation ignored); the slew pseudo-wind
    at altitude h is that rate times the distance along the line of sight, (h - h0) sec(zenith).

    Args:
        wavelength_m: wavelengths [m], > 0 (default 810 and 1550 nm, as seed Fig. 4).
        zenith_deg: zenith angles [deg] in [0, 90); default 0 to 80 deg in 1-deg steps.
        satellite_altitude_m: circular-orbit altitude [m], > ``ground_altitude_m``
            (default 535 km, the seed's orbit).
        ground_altitude_m: ground-station altitude [m], >= 0.
        ground_wind_m_s: Bufton ground wind [m/s], >= 0 (default 5).
        hv_rms_wind_m_s: Hufnagel-Valley rms wind [m/s], >= 0 (21: HV 5/7).
        hv_ground_cn2: Hufnagel-Valley ground Cn^2 [m^-2/3], >= 0 (1.7e-14: HV 5/7).

    Returns:
        A :class:`GreenwoodFriedCurves`.

    Raises:
        InvalidParameter: a parameter outside its range.

    Examples:
        >>> c = greenwood_fried_vs_zenith(zenith_deg=[0.0, 60.0])
        >>> bool((c.fried_parameter_m[1] > c.fried_parameter_m[0]).all())
        True
    """
    lam = np.atleast_1d(_check_array_positive("wavelength_m", wavelength_m))
    if lam.ndim != 1:
        lam = lam.ravel()
    z = (np.arange(0.0, 80.5, 1.0) if zenith_deg is None
         else np.atleast_1d(_check_array_in_range("zenith_deg", zenith_deg, 0.0, 90.0, hi_open=True)).ravel())
    h0 = check_non_negative("ground_altitude_m", ground_altitude_m)
    check_positive("satellite_altitude_m", satellite_altitude_m)
    # Slew rate against zenith angle on the descending half of an overhead pass.
    t = np.linspace(0.0, orbital_period_s(satellite_altitude_m) / 4.0, 20001)
    geo = circular_pass(time_s=t, platform_altitude_m=satellite_altitude_m, observer_altitude_m=h0)
    up = geo.elevation_deg >= 0.0
    slew = np.interp(z, geo.zenith_deg[up], geo.slew_rate_rad_s[up])
    profile = hufnagel_valley_profile(rms_wind_m_s=hv_rms_wind_m_s, ground_cn2=hv_ground_cn2)
    common = dict(zenith_deg=z[None, :], lower_altitude_m=h0, cn2_profile=profile)
    wl = lam[:, None]
    # The tracked beam sweeps the air at omega_s times the distance along the line of
    # sight, (h - h0) sec(zenith): greenwood_frequency_hz takes the pseudo-wind as
    # rate x (h - h0) (docs/conventions.md C.5's zenith form), so pass omega_s sec(zenith).
    slant_slew = slew / np.cos(np.radians(z))
    f_g = greenwood_frequency_hz(wavelength_m=wl, slew_rate_rad_s=slant_slew[None, :],
                                 ground_wind_m_s=ground_wind_m_s, **common)
    f_g0 = greenwood_frequency_hz(wavelength_m=wl, ground_wind_m_s=ground_wind_m_s, **common)
    r0 = fried_parameter_m(wavelength_m=wl, **common)

    def ro(a):
        arr = np.array(np.broadcast_to(a, (lam.size, z.size)), dtype=float)
        arr.setflags(write=False)
        return arr

    def ro1(a):
        arr = np.array(a, dtype=float)
        arr.setflags(write=False)
        return arr

    return GreenwoodFriedCurves(wavelength_m=ro1(lam), zenith_deg=ro1(z), slew_rate_rad_s=ro1(slew),
                                greenwood_frequency_hz=ro(f_g), greenwood_frequency_no_slew_hz=ro(f_g0),
                                fried_parameter_m=ro(r0))
