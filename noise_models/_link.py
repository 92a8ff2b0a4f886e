"""Links: one direction of a free-space optical link, composed from the physics modules.

A :class:`Link` is a frozen, validated description of a transmitter, a receiver and the
path between them. It composes the physics functions of the other ``noise_models``
modules into the docs/conventions.md §C product

    eta = eta_tx_optics * eta_geo * eta_turb * eta_point * eta_atm * eta_rx_optics   (channel)
          * eta_det                                                                    (detector)

and turns it into a :class:`qproto.Channel` (``link.channel(...)``), a factor-by-factor
:class:`LossBudget` (``link.budget(...)``) or a sequence of Channels over a circular-orbit
pass (``link.pass_channels(...)``). Every protocol takes the Channel as it is; the Channel
turns into an Aer noise model through :func:`qproto.noise_models.channel_noise_model`.

Geometry (docs/conventions.md §C.1). The link joins a lower end (altitude ``lower_altitude_m``,
where elevation and zenith angle are measured) and an upper end (``upper_altitude_m``).
``direction="down"`` means the upper end transmits; ``"up"`` means the lower end does.

* ``geometry="orbit"``: the upper end is on a circular orbit (Earth rotation ignored).
  ``channel``/``budget`` take any elevation in [0, 90] deg (default
  ``nominal_elevation_deg``, zenith for the satellite presets); ``pass_channels`` samples an
  overhead (or ``pass_max_elevation_deg``) pass.
* ``geometry="fixed"``: quasi-stationary platforms (HAPS, LAPS, ground). ``channel``/
  ``budget`` default to the nominal elevation and accept another one (to sweep the
  zenith angle); **``pass_channels`` raises** :class:`~qproto.InvalidParameter` naming
  ``geometry``: a pass is not defined for a fixed link (no constant sequence is returned).
  With ``fixed_range_m`` set (inter-satellite) the range is fixed, elevation is undefined
  (``elevation_deg`` must be None) and atmosphere and turbulence must be off.

Factors:

* **geometric**: Gaussian beam (1/e^2 radius, vacuum diffraction from the waist
  ``w0 = lambda / (pi theta)`` of the stored 1/e^2 half-angle ``theta``) collected by the
  receiver aperture (§C.2).
* **turbulence**: uplinks only (transmitter at the lower end, inside the turbulence):
  long-term broadening ``W_LT = W sqrt(1 + (2 w0/r0)^{5/3})`` with the spherical-wave r0;
  the short-term beam ``W_ST^2 = W_LT^2 - <r_c^2>`` (floor ``W``) sets the collection, and
  the beam wander ``<r_c^2>`` (times the tip/tilt residual when
  ``uplink_tip_tilt_tracking``) moves the beam like pointing jitter (§C.2, §C.5). The
  factor is ``eta_geo(W_ST) eta_point(W_ST, jitter + wander) / (eta_geo(W) eta_point(W,
  jitter))``, so the pointing row holds the mechanical jitter alone. Downlinks: 1 (broadening negligible); the
  scintillation index is reported and, with ``scintillation_fading=True``, fades the
  samples of :meth:`Link.sample_transmittance` (mean 1, so the mean budget is unchanged).
  Turbulence formulas are evaluated at zenith angles up to 89 deg (they diverge at the
  horizon); aperture averaging of scintillation is not modelled (conservative).
* **pointing**: mean factor ``xi^2/(xi^2+1)`` of per-axis jitter ``pointing_jitter_rad``
  on the diffraction-limited beam (§C.3).
* **atmosphere**: Beer-Lambert extinction between the two altitudes with an exponential
  profile and the Kasten-Young airmass (valid to the horizon) (§C.4); exactly 1 when the
  lower end is at or above 20 km.
* **optics** and **detector**: given efficiencies.

Noise (§C.6, §C.7): background photons per window from the sky radiance seen by the
receiver, its field of view, aperture, filter and gate; per-detector noise
``p_n = p_dark + eta_det N_b / n_det``; the Channel's ``noise_click`` is
``Y0 = 1 - (1 - p_n)^n_det``.

Presets (:data:`LINKS`, :func:`get_link`) are documented value by value in
:data:`PRESET_SOURCES` and in each link's ``sources``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Literal

import numpy as np

from qproto._channel import Channel
from qproto._errors import InvalidParameter, InvalidType
from qproto._validation import (
    check_bool,
    check_in_range,
    check_int,
    check_non_negative,
    check_one_of,
    check_positive,
    check_probability,
    check_real,
)

from ._atmosphere import transmittance_between_altitudes, zenith_transmittance
from ._background import background_photons_per_window
from ._detectors import Detector, get_detector, noise_click_probability, vacuum_yield
from ._frame import frame_rotation_circular_rad, frame_rotation_tle_rad, polarisation_rotation, wrap_polarisation_angle
from ._geometry import (
    TlePass,
    circular_pass,
    find_tle_passes,
    pass_duration_s,
    slant_range_m,
    tle_pass_geometry,
)
from ._optics import (
    beam_radius_m,
    collection_efficiency,
    transmittance_to_loss_db,
    waist_radius_from_divergence_m,
)
from ._pointing import (
    POINTING_JITTER_LEVELS_RAD,
    mean_pointing_factor,
    pointing_jitter_rad,
    sample_pointing_transmittance,
)
from ._turbulence import (
    beam_wander_std_per_axis_m,
    fried_parameter_m,
    gamma_gamma_parameters,
    hufnagel_valley_profile,
    long_term_beam_radius_m,
    rytov_variance,
    sample_gamma_gamma_fading,
    sample_lognormal_fading,
    scintillation_index,
    tracked_beam_wander_factor,
    uplink_beam_wander_variance_m2,
)

__all__ = [
    "Direction",
    "LinkGeometry",
    "Link",
    "LossBudget",
    "PassChannels",
    "LINKS",
    "FRAME_TRACKING",
    "register_link",
    "get_link",
    "available_links",
]

Direction = Literal["down", "up"]
LinkGeometry = Literal["orbit", "fixed"]

#: Turbulence formulas diverge as sec(zenith) -> inf; they are evaluated at most here [deg].
_MAX_TURBULENCE_ZENITH_DEG = 89.0
#: Largest number of time steps :meth:`Link.pass_channels` builds.
_MAX_PASS_STEPS = 1_000_000
#: Values of :attr:`Link.frame_tracking`.
FRAME_TRACKING = ("none", "geometric")
#: Factor names of a :class:`LossBudget`, in product order.
FACTOR_NAMES = ("tx_optics", "geometric", "turbulence", "pointing", "atmosphere", "rx_optics",
                "detector")


def _check_str(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidType(name, value, "a str")
    return value


def _readonly(a: Any) -> np.ndarray:
    arr = np.array(a, dtype=float)
    arr.setflags(write=False)
    return arr


# --------------------------------------------------------------------------- budget

@dataclasses.dataclass(frozen=True, kw_only=True)
class LossBudget:
    """A link's loss budget at one instant, factor by factor.

    Every factor is a transmittance in [0, 1]; :attr:`factors_db` gives them as losses in
    dB (positive numbers). Their product without ``detector`` is the Channel's
    ``transmittance``; with it, its ``total_transmittance``.

    Attributes:
        link_name: the link's name.
        direction: ``"down"`` or ``"up"``.
        elevation_deg: elevation at the lower end [deg]; None for a fixed-range link.
        range_m: link range [m].
        beam_radius_m: 1/e^2 beam radius at the receiver [m], including uplink turbulence
            broadening (short-term beam).
        tx_optics: transmitter optics transmittance.
        geometric: diffraction-only collection efficiency eta_geo.
        turbulence: uplink turbulence factor (broadening and beam wander), 1 for downlinks.
        pointing: mean pointing factor of the mechanical jitter alone.
        atmosphere: atmospheric extinction.
        rx_optics: receiver optics transmittance.
        detector: detector efficiency.
        background_photons: mean background photons per detection window reaching the
            detectors (before detector efficiency).
        scintillation_index: sigma_I^2 of a point receiver (0 without turbulence).
        fried_parameter_m: Fried parameter of the path [m] (None without turbulence).
        channel: the :class:`qproto.Channel` at this instant.
    """

    link_name: str
    direction: str
    elevation_deg: float | None
    range_m: float
    beam_radius_m: float
    tx_optics: float
    geometric: float
    turbulence: float
    pointing: float
    atmosphere: float
    rx_optics: float
    detector: float
    background_photons: float
    scintillation_index: float
    fried_parameter_m: float | None
    channel: Channel

    def __post_init__(self) -> None:
        for name in FACTOR_NAMES:
            object.__setattr__(self, name, check_probability(name, getattr(self, name)))
        if not isinstance(self.channel, Channel):
            raise InvalidType("channel", self.channel, "a qproto.Channel")

    @property
    def zenith_deg(self) -> float | None:
        """Zenith angle at the lower end ``90 - elevation`` [deg] (None for fixed range)."""
        return None if self.elevation_deg is None else 90.0 - self.elevation_deg

    @property
    def factors(self) -> dict[str, float]:
        """``{factor name: transmittance}`` in product order."""
        return {name: getattr(self, name) for name in FACTOR_NAMES}

    @property
    def factors_db(self) -> dict[str, float]:
        """``{factor name: loss in dB}`` (``-10 log10`` of each factor; ``inf`` for 0)."""
        # + 0.0 turns -0.0 (a factor of exactly 1) into 0.0.
        return {name: float(transmittance_to_loss_db(v)) + 0.0 for name, v in self.factors.items()}

    @property
    def transmittance(self) -> float:
        """Channel transmittance (every factor but the detector)."""
        return self.channel.transmittance

    @property
    def total_transmittance(self) -> float:
        """End-to-end detection probability of a signal photon (detector included)."""
        return self.channel.total_transmittance

    @property
    def loss_db(self) -> float:
        """End-to-end loss [dB] (detector included)."""
        return self.channel.loss_db

    @property
    def noise_click(self) -> float:
        """Receiver noise-click probability Y0 per detection window (all detectors)."""
        return self.channel.noise_click

    @property
    def effective_depolarisation(self) -> float:
        """Depolarising parameter given a click, noise included (Channel.effective_depolarisation)."""
        return self.channel.effective_depolarisation

    @property
    def qber(self) -> float:
        """Expected BB84 QBER given a click (Channel.qber)."""
        return self.channel.qber

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: geometry, factors (transmittance and dB), noise and QBER."""
        return {
            "link": self.link_name,
            "direction": self.direction,
            "elevation_deg": self.elevation_deg,
            "range_m": self.range_m,
            "beam_radius_m": self.beam_radius_m,
            "factors": self.factors,
            "factors_db": self.factors_db,
            "transmittance": self.transmittance,
            "total_transmittance": self.total_transmittance,
            "loss_db": self.loss_db,
            "background_photons": self.background_photons,
            "noise_click": self.noise_click,
            "scintillation_index": self.scintillation_index,
            "fried_parameter_m": self.fried_parameter_m,
            "effective_depolarisation": self.effective_depolarisation,
            "qber": self.qber,
            "channel": self.channel.to_dict(),
        }


# --------------------------------------------------------------------------- pass

@dataclasses.dataclass(frozen=True, kw_only=True, eq=False)
class PassChannels:
    """The Channels of a link over a circular-orbit pass, one per time step.

    Arrays are read-only, of equal length, in time order (``time_s`` = 0 at culmination).

    Attributes:
        link_name: the link's name.
        time_step_s: time step [s].
        time_s: sample times from culmination [s].
        elevation_deg: elevation at the lower end [deg].
        zenith_deg: zenith angle at the lower end [deg].
        range_m: slant range [m].
        slew_rate_rad_s: line-of-sight slew rate seen from the lower end [rad/s].
        transmittance: Channel transmittance at each step (``channels[i].transmittance``,
            detector excluded).
        total_transmittance: end-to-end detection probability (detector included).
        noise_click: noise-click probability Y0 per window at each step.
        channels: the :class:`qproto.Channel` at each step.
        frame_rotation_rad: the geometric polarisation-frame rotation at each step [rad] (real
            space, before any compensation; zeros unless ``frame_tracking="geometric"``).
        culmination_utc: the culmination time (UTC) of a TLE pass; None for a circular orbit.
    """

    link_name: str
    time_step_s: float
    time_s: np.ndarray
    elevation_deg: np.ndarray
    zenith_deg: np.ndarray
    range_m: np.ndarray
    slew_rate_rad_s: np.ndarray
    transmittance: np.ndarray
    total_transmittance: np.ndarray
    noise_click: np.ndarray
    channels: tuple[Channel, ...]
    frame_rotation_rad: np.ndarray | None = None
    culmination_utc: Any = None

    def __len__(self) -> int:
        return len(self.channels)

    @property
    def duration_s(self) -> float:
        """Time covered by the samples, ``len * time_step_s`` [s]."""
        return len(self) * self.time_step_s

    @property
    def loss_db(self) -> np.ndarray:
        """End-to-end loss at each step [dB] (detector included)."""
        return np.asarray(transmittance_to_loss_db(self.total_transmittance), dtype=float)

    @property
    def effective_depolarisation(self) -> np.ndarray:
        """Effective depolarising parameter given a click at each step."""
        return np.array([c.effective_depolarisation for c in self.channels], dtype=float)

    @property
    def qber(self) -> np.ndarray:
        """Expected BB84 QBER given a click at each step (mean of the two bases, Channel.qber)."""
        return np.array([c.qber for c in self.channels], dtype=float)

    @property
    def qber_z(self) -> np.ndarray:
        """Expected Z-basis error rate given a click at each step."""
        return np.array([c.qber_z for c in self.channels], dtype=float)

    @property
    def qber_x(self) -> np.ndarray:
        """Expected X-basis error rate given a click at each step."""
        return np.array([c.qber_x for c in self.channels], dtype=float)


# --------------------------------------------------------------------------- link

@dataclasses.dataclass(frozen=True, kw_only=True)
class Link:
    """One direction of a free-space optical link (frozen, validated on construction).

    See the module docstring for the model. Change fields with :meth:`replace`.

    Attributes:
        name: registry name / label.
        description: one-line description.
        direction: ``"down"`` (upper end transmits) or ``"up"`` (lower end transmits).
        geometry: ``"orbit"`` (upper end on a circular orbit: passes) or ``"fixed"``.
        upper_altitude_m: altitude of the upper end [m], > ``lower_altitude_m`` (equal
            allowed only with ``fixed_range_m``).
        lower_altitude_m: altitude of the lower end [m], >= 0.
        nominal_elevation_deg: default elevation at the lower end [deg], in [0, 90]; None
            only with ``fixed_range_m``.
        fixed_range_m: fixed link range [m], > 0, for ``geometry="fixed"`` links between
            platforms at similar altitude (inter-satellite); None otherwise.
        wavelength_m: wavelength [m], > 0 (a row of the zenith-transmittance table when
            ``atmosphere`` is on: 785, 800, 810, 850, 1550 nm).
        tx_aperture_m: transmitter aperture diameter [m], > 0.
        rx_aperture_m: receiver aperture diameter [m], > 0.
        divergence_half_angle_rad: 1/e^2 **half-angle** beam divergence [rad], > 0. If
            omitted (and no full angle given), the diffraction limit ``lambda/(pi w0)`` of
            a waist ``w0 = tx_aperture_m / 2``.
        divergence_full_angle_rad: init-only: a 1/e^2 **full**-angle divergence [rad],
            stored as half of it. Give at most one of the two divergence arguments.
        tx_optics_efficiency: transmitter optics transmittance, in [0, 1].
        rx_optics_efficiency: receiver optics transmittance before the detector, in [0, 1].
        pointing_jitter_rad: per-axis pointing-jitter std [rad], >= 0. A level name
            (``"weak"``, ``"moderate"``, ``"strong"``) is accepted and stored as its value
            (:data:`~qproto.noise_models.POINTING_JITTER_LEVELS_RAD`).
        atmosphere: include atmospheric extinction.
        airmass_model: ``"kasten_young"`` (default, valid to the horizon) or
            ``"plane_parallel"``.
        scale_height_m: extinction scale height [m], > 0.
        turbulence: include turbulence (Hufnagel-Valley profile).
        hv_rms_wind_m_s: Hufnagel-Valley rms wind [m/s], >= 0 (21 for HV 5/7).
        hv_ground_cn2: Hufnagel-Valley ground turbulence [m^-2/3], >= 0 (1.7e-14 for HV 5/7).
        scintillation_fading: fade :meth:`sample_transmittance` by scintillation
            (lognormal for sigma_R^2 < 1, gamma-gamma otherwise; mean 1).
        uplink_tip_tilt_tracking: reduce uplink beam wander by the tip/tilt residual factor
            (``C_r = pi``).
        sky_radiance_w_m2_sr_nm: radiance seen by the receiver [W m^-2 sr^-1 nm^-1], >= 0
            (sky for downlinks, lit Earth for uplinks).
        fov_full_angle_rad: receiver field of view, full angle [rad], > 0.
        filter_width_nm: receiver spectral filter width [nm], > 0.
        gate_s: detection window [s], > 0.
        detector: the :class:`~qproto.noise_models.Detector`, or a preset name.
        n_detectors: detectors sharing the background, >= 1 (2: two-detector receiver).
        misalignment: intrinsic polarisation misalignment error e_d, in [0, 1/2] (incoherent:
            a bit flip with this probability in every basis).
        noise_click: the receiver's noise-click probability Y0 per detection window (all
            detectors), in [0, 1], stated directly (for example a published background/dark
            yield); None (default) computes it from the sky radiance, optics and detector (§C.6,
            §C.7).
        frame_rotation_rad: constant rotation of the linear-polarisation reference frame between
            transmitter and receiver, about the beam [rad] (real space), in [-pi/2, pi/2]: a
            coherent Bloch rotation by twice it about y (E_Z = E_X); see
            :mod:`qproto.noise_models` ``_frame`` docs.
        retardance_rad: birefringent phase retardance between H and V in the receiving optics
            [rad], in [-pi, pi]: a coherent Bloch rotation about z (E_X > E_Z).
        frame_tracking: ``"none"`` or ``"geometric"``: over a pass, add the frame rotation that
            the geometry produces (transmitter axes on the orbital velocity, receiver on an alt-az
            mount, aligned at culmination; Bonato et al. 2006) to ``frame_rotation_rad``.
        hwp_compensation: a receiver half-wave plate driven from the predicted geometry undoes the
            frame rotation (constant and geometric), leaving ``hwp_residual_rad``; it cannot undo
            the retardance.
        hwp_residual_rad: frame rotation left after the half-wave-plate compensation [rad] (real
            space), in [-pi/2, pi/2].
        pass_max_elevation_deg: peak elevation of :meth:`pass_channels` passes [deg].
        min_elevation_deg: default elevation mask of :meth:`pass_channels` [deg].
        sources: ``((field, source), ...)`` documentation of the values (not compared).

    Raises:
        InvalidParameter: a field outside its range, or inconsistent fields (message names
            the field).
        InvalidType: a field of the wrong type.

    Examples:
        >>> from qproto.noise_models import get_link
        >>> link = get_link("leo-haps")
        >>> round(link.divergence_half_angle_rad * 1e6, 1)
        16.5
        >>> ch = link.channel(elevation_deg=90.0)
        >>> 0.0 < ch.transmittance < 1e-2
        True
    """

    name: str = "custom"
    description: str = ""
    direction: Direction = "down"
    geometry: LinkGeometry = "orbit"
    upper_altitude_m: float
    lower_altitude_m: float = 0.0
    nominal_elevation_deg: float | None = 90.0
    fixed_range_m: float | None = None
    wavelength_m: float = 810e-9
    tx_aperture_m: float
    rx_aperture_m: float
    divergence_half_angle_rad: float | None = None
    divergence_full_angle_rad: dataclasses.InitVar[float | None] = None
    tx_optics_efficiency: float = 1.0
    rx_optics_efficiency: float = 1.0
    pointing_jitter_rad: float = 0.0
    atmosphere: bool = True
    airmass_model: str = "kasten_young"
    scale_height_m: float = 1_500.0
    turbulence: bool = True
    hv_rms_wind_m_s: float = 21.0
    hv_ground_cn2: float = 1.7e-14
    scintillation_fading: bool = False
    uplink_tip_tilt_tracking: bool = True
    sky_radiance_w_m2_sr_nm: float = 1e-6
    fov_full_angle_rad: float = 100e-6
    filter_width_nm: float = 1.0
    gate_s: float = 1e-9
    detector: Detector = dataclasses.field(default_factory=lambda: get_detector("si_spad"))
    n_detectors: int = 2
    misalignment: float = 0.0
    noise_click: float | None = None
    frame_rotation_rad: float = 0.0
    retardance_rad: float = 0.0
    frame_tracking: str = "none"
    hwp_compensation: bool = False
    hwp_residual_rad: float = 0.0
    pass_max_elevation_deg: float = 90.0
    min_elevation_deg: float = 10.0
    sources: tuple[tuple[str, str], ...] = dataclasses.field(default=(), compare=False, repr=False)

    def __post_init__(self, divergence_full_angle_rad: float | None) -> None:
        def put(name: str, value: Any) -> None:
            object.__setattr__(self, name, value)

        _check_str("name", self.name)
        _check_str("description", self.description)
        check_one_of("direction", self.direction, ("down", "up"))
        check_one_of("geometry", self.geometry, ("orbit", "fixed"))
        lower = check_non_negative("lower_altitude_m", self.lower_altitude_m)
        put("lower_altitude_m", lower)
        if self.fixed_range_m is not None:
            if self.geometry != "fixed":
                raise InvalidParameter("fixed_range_m", self.fixed_range_m, "None for geometry='orbit'",
                                       f"fixed_range_m={self.fixed_range_m!r} needs geometry='fixed' "
                                       f"(got geometry={self.geometry!r})")
            put("fixed_range_m", check_positive("fixed_range_m", self.fixed_range_m))
            put("upper_altitude_m", check_in_range("upper_altitude_m", self.upper_altitude_m, lower,
                                                   math.inf, hi_open=True))
            if self.nominal_elevation_deg is not None:
                raise InvalidParameter("nominal_elevation_deg", self.nominal_elevation_deg,
                                       "None when fixed_range_m is set",
                                       f"nominal_elevation_deg={self.nominal_elevation_deg!r} must be None "
                                       "for a fixed-range link (elevation is undefined)")
            for flag in ("atmosphere", "turbulence"):
                if check_bool(flag, getattr(self, flag)):
                    raise InvalidParameter(flag, True, "False when fixed_range_m is set",
                                           f"{flag}=True needs an elevation; a fixed-range link "
                                           f"(fixed_range_m={self.fixed_range_m!r}) has none")
        else:
            put("upper_altitude_m", check_in_range("upper_altitude_m", self.upper_altitude_m, lower,
                                                   math.inf, lo_open=True, hi_open=True))
            if self.nominal_elevation_deg is None:
                raise InvalidParameter("nominal_elevation_deg", None, "[0, 90]",
                                       "nominal_elevation_deg=None is only allowed with fixed_range_m")
            put("nominal_elevation_deg",
                check_in_range("nominal_elevation_deg", self.nominal_elevation_deg, 0.0, 90.0))
        lam = check_positive("wavelength_m", self.wavelength_m)
        put("wavelength_m", lam)
        put("tx_aperture_m", check_positive("tx_aperture_m", self.tx_aperture_m))
        put("rx_aperture_m", check_positive("rx_aperture_m", self.rx_aperture_m))
        if divergence_full_angle_rad is not None:
            if self.divergence_half_angle_rad is not None:
                raise InvalidParameter(
                    "divergence_full_angle_rad", divergence_full_angle_rad,
                    "None when divergence_half_angle_rad is given",
                    f"give divergence_half_angle_rad={self.divergence_half_angle_rad!r} or "
                    f"divergence_full_angle_rad={divergence_full_angle_rad!r}, not both")
            put("divergence_half_angle_rad",
                check_positive("divergence_full_angle_rad", divergence_full_angle_rad) / 2.0)
        elif self.divergence_half_angle_rad is None:
            put("divergence_half_angle_rad", lam / (math.pi * self.tx_aperture_m / 2.0))
        else:
            put("divergence_half_angle_rad",
                check_positive("divergence_half_angle_rad", self.divergence_half_angle_rad))
        put("tx_optics_efficiency", check_probability("tx_optics_efficiency", self.tx_optics_efficiency))
        put("rx_optics_efficiency", check_probability("rx_optics_efficiency", self.rx_optics_efficiency))
        jitter = self.pointing_jitter_rad
        if isinstance(jitter, str):
            check_one_of("pointing_jitter_rad", jitter, tuple(POINTING_JITTER_LEVELS_RAD))
            jitter = pointing_jitter_rad(jitter)
        put("pointing_jitter_rad", check_non_negative("pointing_jitter_rad", jitter))
        for flag in ("atmosphere", "turbulence", "scintillation_fading", "uplink_tip_tilt_tracking"):
            put(flag, check_bool(flag, getattr(self, flag)))
        check_one_of("airmass_model", self.airmass_model, ("kasten_young", "plane_parallel"))
        put("scale_height_m", check_positive("scale_height_m", self.scale_height_m))
        if self.atmosphere:
            zenith_transmittance(lam)  # raises InvalidParameter naming wavelength_m
        put("hv_rms_wind_m_s", check_non_negative("hv_rms_wind_m_s", self.hv_rms_wind_m_s))
        put("hv_ground_cn2", check_non_negative("hv_ground_cn2", self.hv_ground_cn2))
        put("sky_radiance_w_m2_sr_nm",
            check_non_negative("sky_radiance_w_m2_sr_nm", self.sky_radiance_w_m2_sr_nm))
        put("fov_full_angle_rad", check_positive("fov_full_angle_rad", self.fov_full_angle_rad))
        put("filter_width_nm", check_positive("filter_width_nm", self.filter_width_nm))
        put("gate_s", check_positive("gate_s", self.gate_s))
        det = self.detector
        if isinstance(det, str):
            det = get_detector(det)
        if not isinstance(det, Detector):
            raise InvalidType("detector", det, "a qproto.noise_models.Detector or a preset name")
        if det.dark_count_rate_hz * self.gate_s > 1.0:
            raise InvalidParameter("gate_s", self.gate_s, "dark_count_rate_hz * gate_s <= 1",
                                   f"gate_s={self.gate_s!r} with dark_count_rate_hz="
                                   f"{det.dark_count_rate_hz!r} gives p_dark > 1")
        put("detector", det)
        put("n_detectors", check_int("n_detectors", self.n_detectors, minimum=1))
        put("misalignment", check_in_range("misalignment", self.misalignment, 0.0, 0.5))
        if self.noise_click is not None:
            put("noise_click", check_probability("noise_click", self.noise_click))
        put("frame_rotation_rad", check_in_range("frame_rotation_rad", self.frame_rotation_rad,
                                                 -math.pi / 2, math.pi / 2))
        put("retardance_rad", check_in_range("retardance_rad", self.retardance_rad, -math.pi, math.pi))
        check_one_of("frame_tracking", self.frame_tracking, FRAME_TRACKING)
        put("hwp_compensation", check_bool("hwp_compensation", self.hwp_compensation))
        put("hwp_residual_rad", check_in_range("hwp_residual_rad", self.hwp_residual_rad,
                                               -math.pi / 2, math.pi / 2))
        put("pass_max_elevation_deg",
            check_in_range("pass_max_elevation_deg", self.pass_max_elevation_deg, 0.0, 90.0))
        put("min_elevation_deg", check_in_range("min_elevation_deg", self.min_elevation_deg, 0.0, 90.0))
        src = self.sources
        if isinstance(src, Mapping):
            src = tuple(src.items())
        if not isinstance(src, tuple) or not all(
                isinstance(p, tuple) and len(p) == 2 and all(isinstance(s, str) for s in p) for p in src):
            raise InvalidType("sources", self.sources, "a tuple of (field, source) string pairs")
        put("sources", src)

    # ---- copies ----------------------------------------------------------------------
    def replace(self, **changes: Any) -> Link:
        """A copy with some fields changed (``dataclasses.replace``, validated again).

        ``divergence_full_angle_rad=...`` replaces the stored half-angle by half of it.

        Raises:
            InvalidParameter, InvalidType: as the constructor.
        """
        if changes.get("divergence_full_angle_rad") is not None and "divergence_half_angle_rad" not in changes:
            changes["divergence_half_angle_rad"] = None
        return dataclasses.replace(self, **changes)

    # ---- geometry --------------------------------------------------------------------
    @property
    def transmitter_altitude_m(self) -> float:
        """Altitude of the transmitting end [m]."""
        return self.upper_altitude_m if self.direction == "down" else self.lower_altitude_m

    @property
    def receiver_altitude_m(self) -> float:
        """Altitude of the receiving end [m]."""
        return self.lower_altitude_m if self.direction == "down" else self.upper_altitude_m

    @property
    def waist_radius_m(self) -> float:
        """1/e^2 waist radius of the Gaussian beam with the stored divergence, ``lambda/(pi theta)`` [m]."""
        return float(waist_radius_from_divergence_m(divergence_half_angle_rad=self.divergence_half_angle_rad,
                                                    wavelength_m=self.wavelength_m))

    def _elevation(self, elevation_deg: Any) -> float | None:
        if self.fixed_range_m is not None:
            if elevation_deg is not None:
                raise InvalidParameter("elevation_deg", elevation_deg, "None for a fixed-range link",
                                       f"elevation_deg={elevation_deg!r} is undefined for link {self.name!r}, "
                                       f"which has a fixed range of {self.fixed_range_m:g} m")
            return None
        if elevation_deg is None:
            return self.nominal_elevation_deg
        return check_in_range("elevation_deg", elevation_deg, 0.0, 90.0)

    def range_m(self, *, elevation_deg: float | None = None) -> float:
        """Link range [m] at an elevation (default: nominal; fixed-range links: their range).

        Raises:
            InvalidParameter: elevation outside [0, 90] deg, or given for a fixed-range link.
        """
        elev = self._elevation(elevation_deg)
        return float(self._evaluate(None if elev is None else np.asarray(elev))["range_m"])

    # ---- evaluation -------------------------------------------------------------------
    def _evaluate(self, elevation_deg: np.ndarray | None, range_m: np.ndarray | None = None) -> dict[str, Any]:
        """Every factor at the given elevations (vectorised; None for fixed range).

        ``range_m`` (same shape) replaces the circular-orbit slant range (real passes)."""
        lam = self.wavelength_m
        up = self.direction == "up"
        if elevation_deg is None:
            rng = np.asarray(float(self.fixed_range_m))
            zen = None
        else:
            elev = np.asarray(elevation_deg, dtype=float)
            if range_m is None:
                rng = np.asarray(slant_range_m(elevation_deg=elev, platform_altitude_m=self.upper_altitude_m,
                                               observer_altitude_m=self.lower_altitude_m))
            else:
                rng = np.broadcast_to(np.asarray(range_m, dtype=float), elev.shape).copy()
            zen = 90.0 - elev
        w0 = self.waist_radius_m
        w = np.asarray(beam_radius_m(range_m=rng, waist_radius_m=w0, wavelength_m=lam))
        geometric = np.asarray(collection_efficiency(aperture_diameter_m=self.rx_aperture_m, beam_radius_m=w))
        w_eff, wander_std = w, np.zeros_like(w)
        r0 = None
        si = np.zeros_like(w)
        sigma_r2 = np.zeros_like(w)
        if self.turbulence and zen is not None:
            zt = np.minimum(zen, _MAX_TURBULENCE_ZENITH_DEG)
            profile = hufnagel_valley_profile(rms_wind_m_s=self.hv_rms_wind_m_s, ground_cn2=self.hv_ground_cn2)
            wave = "plane" if (not up and self.geometry == "orbit") else "spherical"
            path = dict(wavelength_m=lam, zenith_deg=zt, lower_altitude_m=self.lower_altitude_m,
                        upper_altitude_m=self.upper_altitude_m, wave=wave, cn2_profile=profile)
            r0 = np.broadcast_to(np.asarray(fried_parameter_m(**path)), w.shape)
            sigma_r2 = np.broadcast_to(np.asarray(rytov_variance(**path)), w.shape)
            si = np.asarray(scintillation_index(sigma_r2))
            if up:
                w_lt = np.asarray(long_term_beam_radius_m(beam_radius_m=w, waist_radius_m=w0,
                                                          fried_parameter_m=r0))
                rc2 = np.asarray(uplink_beam_wander_variance_m2(
                    waist_radius_m=w0, zenith_deg=zt, upper_altitude_m=self.upper_altitude_m,
                    lower_altitude_m=self.lower_altitude_m, cn2_profile=profile))
                w_eff = np.maximum(np.sqrt(np.maximum(w_lt**2 - rc2, 0.0)), w)
                if self.uplink_tip_tilt_tracking:
                    rc2 = rc2 * np.asarray(tracked_beam_wander_factor(waist_radius_m=w0, fried_parameter_m=r0))
                wander_std = np.asarray(beam_wander_std_per_axis_m(rc2))
        # Pointing: mechanical jitter on the diffraction-only beam. Turbulence: everything the
        # uplink turbulence changes (broader short-term beam, beam wander), as a ratio.
        pointing = np.asarray(mean_pointing_factor(aperture_diameter_m=self.rx_aperture_m, beam_radius_m=w,
                                                   jitter_rad=self.pointing_jitter_rad, range_m=rng))
        if np.any(w_eff > w) or np.any(wander_std > 0.0):
            collected = np.asarray(collection_efficiency(aperture_diameter_m=self.rx_aperture_m,
                                                         beam_radius_m=w_eff))
            turb_point = np.asarray(mean_pointing_factor(
                aperture_diameter_m=self.rx_aperture_m, beam_radius_m=w_eff, jitter_rad=self.pointing_jitter_rad,
                range_m=rng, beam_wander_std_m=wander_std))
            with np.errstate(invalid="ignore", divide="ignore"):
                ratio = (collected * turb_point) / (geometric * pointing)
            turbulence = np.where(geometric * pointing > 0.0, np.clip(ratio, 0.0, 1.0), 1.0)
        else:
            turb_point = pointing
            turbulence = np.ones_like(w)
        if self.atmosphere and zen is not None:
            atmosphere = np.asarray(transmittance_between_altitudes(
                wavelength_m=lam, zenith_deg=zen, lower_altitude_m=self.lower_altitude_m,
                upper_altitude_m=self.upper_altitude_m, scale_height_m=self.scale_height_m,
                airmass_model=self.airmass_model))
        else:
            atmosphere = np.ones_like(w)
        n_b = float(background_photons_per_window(
            sky_radiance_w_m2_sr_nm=self.sky_radiance_w_m2_sr_nm, fov_full_angle_rad=self.fov_full_angle_rad,
            aperture_diameter_m=self.rx_aperture_m, filter_width_nm=self.filter_width_nm, gate_s=self.gate_s,
            wavelength_m=lam, rx_efficiency=self.rx_optics_efficiency))
        p_n = noise_click_probability(detector=self.detector, background_photons=n_b, gate_s=self.gate_s,
                                      n_detectors=self.n_detectors)
        y0 = float(vacuum_yield(noise_click_probability=p_n, n_detectors=self.n_detectors))
        if self.noise_click is not None:
            y0 = self.noise_click
        shape = w.shape
        factors = {
            "tx_optics": np.full(shape, self.tx_optics_efficiency),
            "geometric": geometric,
            "turbulence": turbulence,
            "pointing": pointing,
            "atmosphere": np.broadcast_to(atmosphere, shape),
            "rx_optics": np.full(shape, self.rx_optics_efficiency),
            "detector": np.full(shape, self.detector.efficiency),
        }
        channel_eta = np.ones(shape)
        for name in FACTOR_NAMES[:-1]:
            channel_eta = channel_eta * factors[name]
        return {"range_m": rng, "beam_radius_m": w_eff, "factors": factors,
                "transmittance": np.clip(channel_eta, 0.0, 1.0), "background_photons": n_b, "noise_click": y0,
                "scintillation_index": si, "rytov_variance": sigma_r2, "fried_parameter_m": r0,
                "beam_wander_std_m": wander_std, "mean_pointing_with_wander": turb_point}

    def effective_frame_rotation_rad(self, geometric_rad: float = 0.0) -> float:
        """The frame rotation the receiver sees [rad] (real space), given the pass's geometric one.

        ``hwp_residual_rad`` with ``hwp_compensation``; otherwise ``frame_rotation_rad`` plus
        ``geometric_rad`` (counted only with ``frame_tracking="geometric"``), wrapped to (-pi/2, pi/2].
        """
        if self.hwp_compensation:
            return self.hwp_residual_rad
        g = float(geometric_rad) if self.frame_tracking == "geometric" else 0.0
        return float(wrap_polarisation_angle(self.frame_rotation_rad + g))

    def _channel(self, transmittance: float, noise_click: float, geometric_rad: float = 0.0) -> Channel:
        angle, axis = polarisation_rotation(frame_rotation_rad=self.effective_frame_rotation_rad(geometric_rad),
                                            retardance_rad=self.retardance_rad)
        return Channel(transmittance=float(transmittance), misalignment=self.misalignment,
                       noise_click=noise_click, detector_efficiency=self.detector.efficiency,
                       rotation_rad=angle, rotation_axis=axis)

    # ---- public evaluation ----------------------------------------------------------
    def _range(self, range_m: Any) -> np.ndarray | None:
        if range_m is None:
            return None
        if self.fixed_range_m is not None:
            raise InvalidParameter("range_m", range_m, "None for a fixed-range link",
                                   f"range_m={range_m!r}: link {self.name!r} has a fixed range; "
                                   "change it with replace(fixed_range_m=...)")
        return np.asarray(check_positive("range_m", range_m))

    def budget(self, *, elevation_deg: float | None = None, range_m: float | None = None,
               frame_rotation_geometric_rad: float = 0.0) -> LossBudget:
        """The loss budget at one instant.

        Args:
            elevation_deg: elevation at the lower end [deg], in [0, 90]; default
                ``nominal_elevation_deg`` (zenith for satellites). Must be None for a
                fixed-range link.
            range_m: the link range [m], > 0, when it is known from elsewhere (a real orbit,
                :meth:`tle_pass_channels`); default: the slant range of a platform at
                ``upper_altitude_m`` seen at ``elevation_deg``. Must be None for a fixed-range link.
            frame_rotation_geometric_rad: the geometric frame rotation at this instant [rad]
                (counted with ``frame_tracking="geometric"``; see :meth:`effective_frame_rotation_rad`).

        Returns:
            A :class:`LossBudget` (each factor, total transmittance, noise clicks,
            effective depolarisation, BB84 QBER, and the Channel).

        Raises:
            InvalidParameter: elevation outside [0, 90] deg, a non-positive range, or either given
                for a fixed-range link.
        """
        elev = self._elevation(elevation_deg)
        rng = self._range(range_m)
        ev = self._evaluate(None if elev is None else np.asarray(elev), rng)
        r0 = ev["fried_parameter_m"]
        return LossBudget(
            link_name=self.name, direction=self.direction, elevation_deg=elev,
            range_m=float(ev["range_m"]), beam_radius_m=float(ev["beam_radius_m"]),
            **{name: float(v) for name, v in ev["factors"].items()},
            background_photons=ev["background_photons"],
            scintillation_index=float(ev["scintillation_index"]),
            fried_parameter_m=None if r0 is None else float(r0),
            channel=self._channel(float(ev["transmittance"]), ev["noise_click"],
                                  float(check_real("frame_rotation_geometric_rad", frame_rotation_geometric_rad))))

    def channel(self, *, elevation_deg: float | None = None, range_m: float | None = None,
                frame_rotation_geometric_rad: float = 0.0) -> Channel:
        """The :class:`qproto.Channel` at one instant (mean transmittance).

        Args:
            elevation_deg: elevation at the lower end [deg], in [0, 90]; default
                ``nominal_elevation_deg``. Must be None for a fixed-range link.
            range_m: the link range [m], > 0, if known from a real orbit (see :meth:`budget`).
            frame_rotation_geometric_rad: the pass's geometric frame rotation [rad] (see :meth:`budget`).

        Returns:
            The Channel (transmittance without detector, detector efficiency, noise-click
            probability Y0, misalignment); run any protocol over it.

        Raises:
            InvalidParameter: elevation outside [0, 90] deg or given for a fixed-range link.
        """
        return self.budget(elevation_deg=elevation_deg, range_m=range_m,
                           frame_rotation_geometric_rad=frame_rotation_geometric_rad).channel

    def pass_channels(self, *, time_step_s: float = 1.0, max_half_window_s: float | None = None,
                      min_elevation_deg: float | None = None,
                      max_elevation_deg: float | None = None) -> PassChannels:
        """The Channels over a circular-orbit pass, one per time step.

        Samples ``t = k * time_step_s`` (integer k, symmetric about culmination at t = 0)
        while the platform is above ``min_elevation_deg`` and ``|t| <= max_half_window_s``.

        Args:
            time_step_s: time step [s], > 0.
            max_half_window_s: largest ``|t|`` [s], >= 0 (seed 001: 100 s); default: the
                whole pass above the mask.
            min_elevation_deg: elevation mask [deg], in [0, 90]; default the link's
                ``min_elevation_deg``.
            max_elevation_deg: peak elevation [deg], in [0, 90]; default the link's
                ``pass_max_elevation_deg`` (90: overhead).

        Returns:
            A :class:`PassChannels`.

        Raises:
            InvalidParameter: a parameter outside its range; the peak below the mask; more
                than 1e6 steps; or a link with ``geometry="fixed"`` (no pass is defined).
        """
        if self.geometry != "orbit":
            raise InvalidParameter(
                "geometry", self.geometry, "'orbit'",
                f"link {self.name!r} has geometry='fixed' (quasi-stationary ends): a pass is not "
                "defined; use link.channel(elevation_deg=...) instead")
        dt = check_positive("time_step_s", time_step_s)
        e_min = self.min_elevation_deg if min_elevation_deg is None else check_in_range(
            "min_elevation_deg", min_elevation_deg, 0.0, 90.0)
        e_max = self.pass_max_elevation_deg if max_elevation_deg is None else check_in_range(
            "max_elevation_deg", max_elevation_deg, 0.0, 90.0)
        if e_max < e_min:
            raise InvalidParameter("min_elevation_deg", e_min, f"<= the peak elevation {e_max:g}",
                                   f"min_elevation_deg={e_min!r} is above the pass's peak elevation {e_max!r}")
        half = float(pass_duration_s(platform_altitude_m=self.upper_altitude_m, min_elevation_deg=e_min,
                                     max_elevation_deg=e_max, observer_altitude_m=self.lower_altitude_m)) / 2.0
        if max_half_window_s is not None:
            half = min(half, check_non_negative("max_half_window_s", max_half_window_s))
        k = int(math.floor(half / dt * (1.0 + 1e-12)))
        if 2 * k + 1 > _MAX_PASS_STEPS:
            raise InvalidParameter("time_step_s", time_step_s, f"at most {_MAX_PASS_STEPS} steps per pass",
                                   f"time_step_s={time_step_s!r} gives {2 * k + 1} steps over the pass; "
                                   f"at most {_MAX_PASS_STEPS} are allowed")
        t = np.arange(-k, k + 1, dtype=float) * dt
        geo = circular_pass(time_s=t, platform_altitude_m=self.upper_altitude_m, max_elevation_deg=e_max,
                            observer_altitude_m=self.lower_altitude_m)
        elev = np.clip(geo.elevation_deg, 0.0, 90.0)  # rounding at the mask / culmination
        frame = (frame_rotation_circular_rad(time_s=t, platform_altitude_m=self.upper_altitude_m,
                                             max_elevation_deg=e_max, observer_altitude_m=self.lower_altitude_m)
                 if self.frame_tracking == "geometric" else np.zeros_like(t))
        return self._pass_from_geometry(t, dt, elev, None, geo.slew_rate_rad_s, frame)

    def _pass_from_geometry(self, t: np.ndarray, dt: float, elev: np.ndarray, range_m: np.ndarray | None,
                            slew: np.ndarray, frame: np.ndarray, culmination_utc: Any = None) -> PassChannels:
        ev = self._evaluate(elev, range_m)
        eta = np.asarray(ev["transmittance"], dtype=float)
        y0 = ev["noise_click"]
        channels = tuple(self._channel(e, y0, g) for e, g in zip(eta, frame, strict=True))
        return PassChannels(
            link_name=self.name, time_step_s=dt, time_s=_readonly(t), elevation_deg=_readonly(elev),
            zenith_deg=_readonly(90.0 - elev), range_m=_readonly(ev["range_m"]),
            slew_rate_rad_s=_readonly(slew), transmittance=_readonly(eta),
            total_transmittance=_readonly(eta * self.detector.efficiency),
            noise_click=_readonly(np.full(eta.shape, y0)), channels=channels,
            frame_rotation_rad=_readonly(frame), culmination_utc=culmination_utc)

    def find_tle_passes(self, *, tle_line1: str, tle_line2: str, latitude_deg: float, longitude_deg: float,
                        start_utc: Any, duration_s: float = 86_400.0,
                        min_elevation_deg: float | None = None) -> list[TlePass]:
        """The complete passes of a TLE's satellite over a site at this link's lower-end altitude.

        :func:`qproto.noise_models.find_tle_passes` with the observer at ``lower_altitude_m``
        (ground, LAPS or HAPS: change it with ``replace(lower_altitude_m=...)``).

        Args:
            tle_line1, tle_line2: the TLE.
            latitude_deg: site latitude [deg], in [-90, 90].
            longitude_deg: site longitude [deg], east positive, in [-180, 360].
            start_utc: timezone-aware start of the search.
            duration_s: search window [s], > 0 (default one day).
            min_elevation_deg: elevation mask [deg] (default the link's ``min_elevation_deg``).

        Returns:
            The passes (:class:`~qproto.noise_models.TlePass`), in time order.
        """
        e_min = self.min_elevation_deg if min_elevation_deg is None else min_elevation_deg
        return find_tle_passes(tle_line1=tle_line1, tle_line2=tle_line2, latitude_deg=latitude_deg,
                               longitude_deg=longitude_deg, observer_altitude_m=self.lower_altitude_m,
                               start_utc=start_utc, duration_s=duration_s, min_elevation_deg=e_min)

    def tle_pass_channels(self, *, tle_line1: str, tle_line2: str, latitude_deg: float, longitude_deg: float,
                          start_utc: Any, duration_s: float = 86_400.0, pass_index: int = 0,
                          time_step_s: float = 1.0, max_half_window_s: float | None = None,
                          min_elevation_deg: float | None = None) -> PassChannels:
        """The Channels over a real pass found from a TLE, with the orbit's own range and elevation.

        Finds the passes of the TLE's satellite over the site (at this link's
        ``lower_altitude_m``: ground, LAPS or HAPS) in ``[start_utc, start_utc + duration_s]``
        (:meth:`find_tle_passes`), takes pass number ``pass_index`` and samples it at
        ``t = k * time_step_s`` from its culmination while the satellite is above the mask and
        ``|t| <= max_half_window_s``. Each sample's elevation **and range** come from SGP4
        (skyfield) and enter the link as they are (``channel(elevation_deg=..., range_m=...)``);
        ``upper_altitude_m`` is then used only by the turbulence and extinction integrals (which
        hardly change above 20 km). With ``frame_tracking="geometric"`` the frame rotation is
        :func:`~qproto.noise_models.frame_rotation_tle_rad` (aligned at culmination).

        Args:
            tle_line1, tle_line2: the TLE.
            latitude_deg, longitude_deg: the site [deg].
            start_utc: timezone-aware start of the search.
            duration_s: search window [s], > 0 (default one day).
            pass_index: which pass of the window, >= 0.
            time_step_s: time step [s], > 0.
            max_half_window_s: largest ``|t|`` from culmination [s], >= 0 (default: whole pass).
            min_elevation_deg: mask [deg] (default the link's ``min_elevation_deg``).

        Returns:
            A :class:`PassChannels` (``culmination_utc`` set; ``time_s`` from culmination).

        Raises:
            InvalidParameter: ``geometry="fixed"``, no such pass in the window, more than 1e6 steps,
                or a parameter outside its range.
        """
        if self.geometry != "orbit":
            raise InvalidParameter("geometry", self.geometry, "'orbit'",
                                   f"link {self.name!r} has geometry='fixed': it has no satellite pass")
        dt = check_positive("time_step_s", time_step_s)
        index = check_int("pass_index", pass_index, minimum=0)
        passes = self.find_tle_passes(tle_line1=tle_line1, tle_line2=tle_line2, latitude_deg=latitude_deg,
                                      longitude_deg=longitude_deg, start_utc=start_utc, duration_s=duration_s,
                                      min_elevation_deg=min_elevation_deg)
        if index >= len(passes):
            raise InvalidParameter("pass_index", pass_index, f"< {len(passes)} (passes found in the window)",
                                   f"pass_index={pass_index!r}: {len(passes)} complete pass(es) above the mask "
                                   f"in {duration_s:g} s from {start_utc}")
        tp = passes[index]
        culm = tp.culmination_utc
        lo = (tp.rise_utc - culm).total_seconds()
        hi = (tp.set_utc - culm).total_seconds()
        if max_half_window_s is not None:
            h = check_non_negative("max_half_window_s", max_half_window_s)
            lo, hi = max(lo, -h), min(hi, h)
        k_lo, k_hi = int(math.ceil(lo / dt - 1e-9)), int(math.floor(hi / dt + 1e-9))
        if k_hi - k_lo + 1 > _MAX_PASS_STEPS:
            raise InvalidParameter("time_step_s", time_step_s, f"at most {_MAX_PASS_STEPS} steps per pass",
                                   f"time_step_s={time_step_s!r} gives {k_hi - k_lo + 1} steps over the pass; "
                                   f"at most {_MAX_PASS_STEPS} are allowed")
        t = np.arange(k_lo, k_hi + 1, dtype=float) * dt
        site = dict(tle_line1=tle_line1, tle_line2=tle_line2, latitude_deg=latitude_deg,
                    longitude_deg=longitude_deg, observer_altitude_m=self.lower_altitude_m, start_utc=culm)
        geo = tle_pass_geometry(time_s=t, **site)
        e_min = self.min_elevation_deg if min_elevation_deg is None else float(min_elevation_deg)
        keep = geo.elevation_deg >= e_min - 1e-6
        t = t[keep]
        elev = np.clip(geo.elevation_deg[keep], 0.0, 90.0)
        frame = (frame_rotation_tle_rad(time_s=t, **site) if self.frame_tracking == "geometric"
                 else np.zeros_like(t))
        return self._pass_from_geometry(t, dt, elev, geo.range_m[keep], geo.slew_rate_rad_s[keep], frame,
                                        culmination_utc=culm)

    def sample_transmittance(self, *, size: int, rng: np.random.Generator,
                             elevation_deg: float | None = None) -> np.ndarray:
        """Draw instantaneous channel transmittances (fading) at one elevation.

        Pointing fading (Rayleigh beam offset, jitter plus uplink beam wander) always; with
        ``scintillation_fading`` also scintillation (lognormal for sigma_R^2 < 1,
        gamma-gamma otherwise, mean 1). The sample mean tends to :meth:`channel`'s
        transmittance (up to the Farid-Hranilovic approximation of the collection).

        Args:
            size: number of samples, >= 0.
            rng: numpy Generator supplying all randomness.
            elevation_deg: as in :meth:`channel`.

        Returns:
            Array of shape ``(size,)`` of channel transmittances (detector excluded).

        Raises:
            InvalidParameter: a parameter outside its range.
            InvalidType: ``rng`` not a Generator or ``size`` not an int.
        """
        if not isinstance(rng, np.random.Generator):
            raise InvalidType("rng", rng, "a numpy.random.Generator")
        n = check_int("size", size, minimum=0)
        elev = self._elevation(elevation_deg)
        ev = self._evaluate(None if elev is None else np.asarray(elev))
        mean_point = float(ev["mean_pointing_with_wander"])
        base = float(ev["transmittance"]) / mean_point if mean_point > 0.0 else 0.0
        h = sample_pointing_transmittance(
            aperture_diameter_m=self.rx_aperture_m, beam_radius_m=float(ev["beam_radius_m"]),
            jitter_rad=self.pointing_jitter_rad, range_m=float(ev["range_m"]), size=n, rng=rng,
            beam_wander_std_m=float(ev["beam_wander_std_m"]), include_collection=False)
        out = base * h
        s2 = float(ev["rytov_variance"])
        if self.scintillation_fading and s2 > 0.0:
            if s2 < 1.0:
                fade = sample_lognormal_fading(scintillation_index=float(ev["scintillation_index"]), size=n, rng=rng)
            else:
                a, b = gamma_gamma_parameters(s2)
                fade = sample_gamma_gamma_fading(alpha=float(a), beta=float(b), size=n, rng=rng)
            out = out * fade
        return np.clip(out, 0.0, 1.0)


# --------------------------------------------------------------------------- registry

_LINKS: dict[str, Link] = {}
#: Registered links by name (read-only view; add with :func:`register_link`).
LINKS: Mapping[str, Link] = MappingProxyType(_LINKS)


def register_link(link: Link, *, overwrite: bool = False) -> Link:
    """Register a link under ``link.name``.

    Args:
        link: the :class:`Link`.
        overwrite: replace an existing link of the same name.

    Returns:
        The link (so this can wrap a constructor call).

    Raises:
        InvalidType: ``link`` is not a Link.
        InvalidParameter: the name is taken and ``overwrite`` is False.
    """
    if not isinstance(link, Link):
        raise InvalidType("link", link, "a qproto.noise_models.Link")
    if link.name in _LINKS and not check_bool("overwrite", overwrite):
        raise InvalidParameter("link", link.name, "an unused name (or overwrite=True)",
                               f"a link named {link.name!r} is already registered; pass overwrite=True")
    _LINKS[link.name] = link
    return link


def available_links() -> list[str]:
    """Sorted names of the registered links."""
    return sorted(_LINKS)


def get_link(name: str) -> Link:
    """A registered link by name.

    Args:
        name: e.g. ``"leo-haps"``; see :func:`available_links`.

    Returns:
        The :class:`Link` (frozen: change it with ``link.replace(...)``).

    Raises:
        InvalidParameter: unknown name (the message lists the registered names).
        InvalidType: ``name`` is not a str.
    """
    _check_str("name", name)
    if name not in _LINKS:
        raise InvalidParameter("name", name, f"one of {available_links()}",
                               f"unknown link {name!r}; available: {available_links()}")
    return _LINKS[name]
