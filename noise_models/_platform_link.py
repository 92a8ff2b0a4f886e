"""A generic free-space link between two platforms, given their geometry.

Where :class:`~qproto.noise_models.Link` fixes both ends' altitudes and derives the range
from an elevation, a :class:`PlatformLink` holds only the terminals (transmitter beam,
receiver aperture, optics, detector, background) and is evaluated on any geometry: the
network layer hands it, for many edges and time steps at once, the range, the altitudes
of the two ends and the elevation seen from the lower end. The physics is the same
docs/conventions.md §C product the presets use (reusing the same functions):

    eta = eta_tx_optics * eta_geo(range) * eta_point(range) * eta_atm * eta_rx_optics    (channel)
          * eta_det                                                                       (detector)

* geometric (§C.2): Gaussian beam from the waist of the stored 1/e^2 half-angle
  divergence, collected by the receiver aperture;
* pointing (§C.3): mean factor of per-axis jitter;
* atmosphere (§C.4): exponential-profile extinction between the two altitudes with the
  lower end's zenith angle (Kasten-Young airmass by default). A path that dips below its
  lower end (two high platforms far apart, over the curved Earth) is taken as two
  horizontal legs from the ray's lowest altitude up to each end (an approximation; exactly
  1 when the lowest point is at or above 20 km);
* noise (§C.6, §C.7): background photons from the receiver's sky radiance, field of
  view, aperture, filter and gate; ``Y0 = 1 - (1 - p_n)^n_det``.

Not modelled here (unlike :class:`Link`): uplink turbulence broadening and beam wander, and
scintillation fading (means only). The transmitting end is always the *upper* end (a
downlink, or the higher of two aerial platforms); the receiver's sky radiance is a field.

:func:`platform_geometry` computes, vectorised over any leading shape, the range, each
end's elevation towards the other, the lowest altitude of the straight ray between them
(Earth blockage when negative) and the fraction of the path below the 20 km
extinction-free altitude, on the spherical Earth of docs/conventions.md §C.1.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from qproto._channel import Channel
from qproto._errors import InvalidParameter, InvalidType
from qproto._validation import (
    check_array_in_range,
    check_bool,
    check_int,
    check_non_negative,
    check_one_of,
    check_positive,
    check_probability,
    check_in_range,
)

from ._atmosphere import EXTINCTION_FREE_ALTITUDE_M, transmittance_between_altitudes, zenith_transmittance
from ._background import background_photons_per_window
from ._detectors import Detector, get_detector, noise_click_probability, vacuum_yield
from ._geometry import EARTH_RADIUS_M
from ._optics import beam_radius_m, collection_efficiency, waist_radius_from_divergence_m
from ._pointing import mean_pointing_factor

__all__ = ["PlatformLink", "PlatformGeometry", "platform_geometry"]


@dataclasses.dataclass(frozen=True, eq=False)
class PlatformGeometry:
    """Geometry of straight links between pairs of points (arrays of one common shape).

    Attributes:
        range_m: distance between the ends [m].
        elevation_a_deg: elevation of end b seen from end a [deg], in [-90, 90] (local
            horizontal of the spherical Earth).
        elevation_b_deg: elevation of end a seen from end b [deg].
        min_ray_altitude_m: lowest altitude of the straight segment [m]; negative when the
            Earth blocks the line of sight.
        atmospheric_fraction: fraction of the path length below 20 km altitude, in [0, 1].
    """

    range_m: np.ndarray
    elevation_a_deg: np.ndarray
    elevation_b_deg: np.ndarray
    min_ray_altitude_m: np.ndarray
    atmospheric_fraction: np.ndarray


def platform_geometry(pos_a_m: Any, pos_b_m: Any, *,
                      atmosphere_top_m: float = EXTINCTION_FREE_ALTITUDE_M) -> PlatformGeometry:
    """Range, elevations, lowest ray altitude and atmospheric path fraction, vectorised.

    Positions are Earth-centred Cartesian coordinates on the spherical Earth of radius
    :data:`~qproto.noise_models.EARTH_RADIUS_M` (altitude = norm - radius).

    Args:
        pos_a_m: positions of end a [m], shape ``(..., 3)``.
        pos_b_m: positions of end b [m], broadcastable to the shape of ``pos_a_m``.
        atmosphere_top_m: altitude below which the path counts as atmospheric [m], >= 0.

    Returns:
        A :class:`PlatformGeometry` of arrays of the broadcast leading shape.

    Raises:
        InvalidParameter: positions not finite, last axis not of length 3, more than 1 km
            below the surface, or coincident ends.
    """
    a = check_array_in_range("pos_a_m", pos_a_m)
    b = check_array_in_range("pos_b_m", pos_b_m)
    if a.shape[-1:] != (3,) or b.shape[-1:] != (3,):
        raise InvalidParameter("pos_a_m", a.shape, "arrays of shape (..., 3)",
                               f"positions must have a last axis of length 3 (got {a.shape} and {b.shape})")
    top = check_non_negative("atmosphere_top_m", atmosphere_top_m)
    d = b - a
    rng = np.sqrt(np.einsum("...i,...i->...", d, d))
    if np.any(rng == 0.0):
        raise InvalidParameter("pos_b_m", "coincident", "positions distinct from pos_a_m",
                               "two link ends coincide (range 0)")
    ra = np.sqrt(np.einsum("...i,...i->...", a, a))
    rb = np.sqrt(np.einsum("...i,...i->...", b, b))
    for name, r in (("pos_a_m", ra), ("pos_b_m", rb)):
        if np.any(r < EARTH_RADIUS_M - 1e3):
            raise InvalidParameter(name, float(np.min(r)), f"positions at radius >= {EARTH_RADIUS_M - 1e3:g} m",
                                   f"{name} has a point {EARTH_RADIUS_M - float(np.min(r)):.4g} m below the surface "
                                   "of the spherical Earth")
    sin_a = np.einsum("...i,...i->...", d, a) / (rng * ra)
    sin_b = -np.einsum("...i,...i->...", d, b) / (rng * rb)
    elev_a = np.degrees(np.arcsin(np.clip(sin_a, -1.0, 1.0)))
    elev_b = np.degrees(np.arcsin(np.clip(sin_b, -1.0, 1.0)))
    # Closest approach of the segment a + t d (t in [0, 1]) to the Earth's centre.
    dd = rng * rng
    t = np.clip(-np.einsum("...i,...i->...", a, d) / dd, 0.0, 1.0)
    closest = a + t[..., None] * d
    min_alt = np.sqrt(np.einsum("...i,...i->...", closest, closest)) - EARTH_RADIUS_M
    # Fraction of t in [0, 1] with |a + t d| < R + top: roots of a quadratic in t.
    r_top = EARTH_RADIUS_M + top
    bq = 2.0 * np.einsum("...i,...i->...", a, d)
    cq = ra * ra - r_top * r_top
    disc = bq * bq - 4.0 * dd * cq
    sq = np.sqrt(np.maximum(disc, 0.0))
    t1 = np.clip((-bq - sq) / (2.0 * dd), 0.0, 1.0)
    t2 = np.clip((-bq + sq) / (2.0 * dd), 0.0, 1.0)
    frac = np.where(disc > 0.0, t2 - t1, 0.0)
    return PlatformGeometry(range_m=rng, elevation_a_deg=elev_a, elevation_b_deg=elev_b,
                            min_ray_altitude_m=min_alt, atmospheric_fraction=frac)


@dataclasses.dataclass(frozen=True, kw_only=True)
class PlatformLink:
    """The terminals of a free-space link between two platforms; evaluated on any geometry.

    The upper end transmits; every field has the meaning and units of the same field of
    :class:`~qproto.noise_models.Link` (see the module docstring for the model).

    Attributes:
        name: a label.
        wavelength_m: wavelength [m], > 0 (a row of the zenith-transmittance table when
            ``atmosphere`` is on).
        divergence_half_angle_rad: 1/e^2 half-angle divergence of the transmitted beam [rad], > 0.
        rx_aperture_m: receiver aperture diameter [m], > 0.
        tx_optics_efficiency: transmitter optics transmittance, in [0, 1].
        rx_optics_efficiency: receiver optics transmittance, in [0, 1].
        pointing_jitter_rad: per-axis pointing jitter [rad], >= 0.
        atmosphere: include atmospheric extinction.
        airmass_model: ``"kasten_young"`` or ``"plane_parallel"``.
        scale_height_m: extinction scale height [m], > 0.
        sky_radiance_w_m2_sr_nm: radiance seen by the receiver [W m^-2 sr^-1 nm^-1], >= 0.
        fov_full_angle_rad: receiver field of view, full angle [rad], > 0.
        filter_width_nm: filter width [nm], > 0.
        gate_s: detection window [s], > 0.
        detector: a :class:`~qproto.noise_models.Detector` or preset name.
        n_detectors: detectors sharing the background, >= 1.
        misalignment: polarisation misalignment e_d, in [0, 1/2].

    Raises:
        InvalidParameter, InvalidType: a field outside its range (the message names it).

    Examples:
        >>> from qproto.noise_models import get_link
        >>> pl = PlatformLink.from_link(get_link("leo-ground-down"))
        >>> ch = pl.channel(range_m=535e3, lower_altitude_m=0.0, upper_altitude_m=535e3,
        ...                 lower_elevation_deg=90.0)
        >>> abs(ch.transmittance - get_link("leo-ground-down").channel(elevation_deg=90.0).transmittance) < 0.02
        True
    """

    name: str = "custom"
    wavelength_m: float = 810e-9
    divergence_half_angle_rad: float
    rx_aperture_m: float
    tx_optics_efficiency: float = 1.0
    rx_optics_efficiency: float = 1.0
    pointing_jitter_rad: float = 0.0
    atmosphere: bool = True
    airmass_model: str = "kasten_young"
    scale_height_m: float = 1_500.0
    sky_radiance_w_m2_sr_nm: float = 1e-6
    fov_full_angle_rad: float = 100e-6
    filter_width_nm: float = 1.0
    gate_s: float = 1e-9
    detector: Detector = dataclasses.field(default_factory=lambda: get_detector("si_spad"))
    n_detectors: int = 2
    misalignment: float = 0.0

    def __post_init__(self) -> None:
        def put(name: str, value: Any) -> None:
            object.__setattr__(self, name, value)

        if not isinstance(self.name, str):
            raise InvalidType("name", self.name, "a str")
        put("wavelength_m", check_positive("wavelength_m", self.wavelength_m))
        put("divergence_half_angle_rad", check_positive("divergence_half_angle_rad", self.divergence_half_angle_rad))
        put("rx_aperture_m", check_positive("rx_aperture_m", self.rx_aperture_m))
        put("tx_optics_efficiency", check_probability("tx_optics_efficiency", self.tx_optics_efficiency))
        put("rx_optics_efficiency", check_probability("rx_optics_efficiency", self.rx_optics_efficiency))
        put("pointing_jitter_rad", check_non_negative("pointing_jitter_rad", self.pointing_jitter_rad))
        put("atmosphere", check_bool("atmosphere", self.atmosphere))
        check_one_of("airmass_model", self.airmass_model, ("kasten_young", "plane_parallel"))
        put("scale_height_m", check_positive("scale_height_m", self.scale_height_m))
        if self.atmosphere:
            zenith_transmittance(self.wavelength_m)  # raises naming wavelength_m
        put("sky_radiance_w_m2_sr_nm", check_non_negative("sky_radiance_w_m2_sr_nm", self.sky_radiance_w_m2_sr_nm))
        put("fov_full_angle_rad", check_positive("fov_full_angle_rad", self.fov_full_angle_rad))
        put("filter_width_nm", check_positive("filter_width_nm", self.filter_width_nm))
        put("gate_s", check_positive("gate_s", self.gate_s))
        det = get_detector(self.detector) if isinstance(self.detector, str) else self.detector
        if not isinstance(det, Detector):
            raise InvalidType("detector", self.detector, "a qproto.noise_models.Detector or a preset name")
        put("detector", det)
        put("n_detectors", check_int("n_detectors", self.n_detectors, minimum=1))
        put("misalignment", check_in_range("misalignment", self.misalignment, 0.0, 0.5))

    @classmethod
    def from_link(cls, link: Any, **overrides: Any) -> PlatformLink:
        """The terminals of a :class:`~qproto.noise_models.Link` (e.g. a preset), some fields changed.

        Args:
            link: a Link (anything with the Link's terminal fields).
            **overrides: PlatformLink fields to change (e.g. ``rx_aperture_m=0.6``).

        Raises:
            InvalidParameter: an unknown override name or a value out of range.
        """
        names = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(overrides) - set(names))
        if unknown:
            raise InvalidParameter("overrides", unknown, f"PlatformLink fields {names}")
        values = {n: getattr(link, n) for n in names if n != "name"}
        values["name"] = getattr(link, "name", "custom")
        values.update(overrides)
        return cls(**values)

    def replace(self, **changes: Any) -> PlatformLink:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    @property
    def noise_click(self) -> float:
        """Noise-click probability Y0 per detection window (all detectors)."""
        n_b = background_photons_per_window(
            sky_radiance_w_m2_sr_nm=self.sky_radiance_w_m2_sr_nm, fov_full_angle_rad=self.fov_full_angle_rad,
            aperture_diameter_m=self.rx_aperture_m, filter_width_nm=self.filter_width_nm, gate_s=self.gate_s,
            wavelength_m=self.wavelength_m, rx_efficiency=self.rx_optics_efficiency)
        p_n = noise_click_probability(detector=self.detector, background_photons=n_b, gate_s=self.gate_s,
                                      n_detectors=self.n_detectors)
        return float(vacuum_yield(noise_click_probability=p_n, n_detectors=self.n_detectors))

    def transmittance(self, *, range_m: Any, lower_altitude_m: Any, upper_altitude_m: Any,
                      lower_elevation_deg: Any, min_ray_altitude_m: Any | None = None) -> dict[str, np.ndarray]:
        """Channel transmittance (detector excluded) and its factors, vectorised.

        Args:
            range_m: link range [m], > 0.
            lower_altitude_m: altitude of the lower (receiving) end [m], >= 0.
            upper_altitude_m: altitude of the upper (transmitting) end [m], >= lower.
            lower_elevation_deg: elevation of the upper end seen from the lower end [deg],
                in [-90, 90] (values below 0 are taken as 0 for the airmass).
            min_ray_altitude_m: lowest altitude of the path [m] (default: the lower end's).

        Returns:
            ``{"transmittance", "geometric", "pointing", "atmosphere"}``: arrays of the
            broadcast shape, each in [0, 1].

        Raises:
            InvalidParameter: an argument out of range.
        """
        rng = check_array_in_range("range_m", range_m, 0.0, math.inf, lo_open=True, hi_open=True)
        h1 = check_array_in_range("lower_altitude_m", lower_altitude_m, 0.0, math.inf, hi_open=True)
        h2 = check_array_in_range("upper_altitude_m", upper_altitude_m, 0.0, math.inf, hi_open=True)
        if np.any(h2 < h1):
            raise InvalidParameter("upper_altitude_m", upper_altitude_m, ">= lower_altitude_m",
                                   "the upper (transmitting) end must not be below the lower end")
        elev = check_array_in_range("lower_elevation_deg", lower_elevation_deg, -90.0, 90.0)
        rng, h1, h2, elev = np.broadcast_arrays(rng, h1, h2, elev)
        w0 = float(waist_radius_from_divergence_m(divergence_half_angle_rad=self.divergence_half_angle_rad,
                                                  wavelength_m=self.wavelength_m))
        w = np.asarray(beam_radius_m(range_m=rng, waist_radius_m=w0, wavelength_m=self.wavelength_m))
        geometric = np.asarray(collection_efficiency(aperture_diameter_m=self.rx_aperture_m, beam_radius_m=w))
        pointing = np.asarray(mean_pointing_factor(aperture_diameter_m=self.rx_aperture_m, beam_radius_m=w,
                                                   jitter_rad=self.pointing_jitter_rad, range_m=rng))
        atm = np.ones(rng.shape)
        if self.atmosphere:
            low = h1 if min_ray_altitude_m is None else np.broadcast_to(
                check_array_in_range("min_ray_altitude_m", min_ray_altitude_m), rng.shape)
            dips = low < h1 - 1.0  # the ray goes below its lower end (curved Earth)
            zen = 90.0 - np.clip(elev, 0.0, 90.0)
            kw = dict(wavelength_m=self.wavelength_m, scale_height_m=self.scale_height_m,
                      airmass_model=self.airmass_model)
            normal = np.asarray(transmittance_between_altitudes(zenith_deg=zen, lower_altitude_m=h1,
                                                                upper_altitude_m=h2, **kw))
            atm = normal
            if np.any(dips):
                h0 = np.clip(low[dips], 0.0, None)
                leg1 = np.asarray(transmittance_between_altitudes(zenith_deg=90.0, lower_altitude_m=h0,
                                                                  upper_altitude_m=h1[dips], **kw))
                leg2 = np.asarray(transmittance_between_altitudes(zenith_deg=90.0, lower_altitude_m=h0,
                                                                  upper_altitude_m=h2[dips], **kw))
                atm = normal.copy()
                atm[dips] = leg1 * leg2
        eta = self.tx_optics_efficiency * geometric * pointing * atm * self.rx_optics_efficiency
        return {"transmittance": np.clip(eta, 0.0, 1.0), "geometric": geometric, "pointing": pointing,
                "atmosphere": atm}

    def channel(self, *, range_m: float, lower_altitude_m: float, upper_altitude_m: float,
                lower_elevation_deg: float, min_ray_altitude_m: float | None = None) -> Channel:
        """The :class:`qproto.Channel` of one geometry (scalars; see :meth:`transmittance`)."""
        eta = self.transmittance(range_m=range_m, lower_altitude_m=lower_altitude_m,
                                 upper_altitude_m=upper_altitude_m, lower_elevation_deg=lower_elevation_deg,
                                 min_ray_altitude_m=min_ray_altitude_m)["transmittance"]
        return Channel(transmittance=float(eta), misalignment=self.misalignment, noise_click=self.noise_click,
                       detector_efficiency=self.detector.efficiency)
