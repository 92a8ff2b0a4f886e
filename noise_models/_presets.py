"""The registered link presets, every value with its source.

Tags: **[seed]** seed 001 (Trinh & Sugiura, "Quantum Internet in the Sky", IEEE Commun. Mag. 62(10)
2024), section given; **[PHYSICS x]** docs/conventions.md section x; **[SatQuMA]** the public SatQuMA code of
Sidhu et al. 2022 (npj Quantum Inf. 8 18; seed 001's reference [8]), default input file
``inputfiles/input-opt-calcloss.txt`` (read here); **[T22]** Trinh et al. 2022 (Commun. Phys. 5 225;
seed 001's reference [9], whose Table 2 seed 001 says its LEO-HAPS case follows): the values quoted
from that table in issue 11 (receiver efficiency ~50 %, background/dark yield ~6e-7 per pulse,
misalignment 1 %, afterpulsing 1e-3); the table itself was **not** retrieved here, so these carry
[T22, quoted, not re-read]; **[U]** assumed / typical, unverified.

Every stored field of every preset appears in its ``sources`` (a test checks this), so
``qproto link show NAME --sources`` lists where each number comes from.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from ._detectors import Detector
from ._link import Link, register_link

__all__ = ["PRESET_SOURCES", "PRESETS"]


def _src(*groups: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    """Merge source groups; a later entry for the same field replaces an earlier one."""
    merged: dict[str, str] = {}
    for group in groups:
        merged.update(group)
    return tuple(merged.items())


# Fields whose value is the Link's default everywhere, with where that default comes from.
_DEFAULTS = (
    ("name", "registry name"),
    ("description", "one-line description"),
    ("airmass_model", "kasten_young: valid to the horizon [PHYSICS C.4] (unused without atmosphere)"),
    ("scale_height_m", "1500 m aerosol scale height [U] [PHYSICS C.4, F.4] (unused without atmosphere)"),
    ("hv_rms_wind_m_s", "21 m/s: HV 5/7 [PHYSICS C.5] (unused without turbulence)"),
    ("hv_ground_cn2", "1.7e-14 m^-2/3: HV 5/7 [PHYSICS C.5] (unused without turbulence)"),
    ("scintillation_fading", "off: mean budget only; sample_transmittance can fade [U]"),
    ("uplink_tip_tilt_tracking", "on (used by uplinks only) [seed III-A2, III-D2]"),
    ("fixed_range_m", "none: range from elevation and altitudes [PHYSICS C.1]"),
    ("pass_max_elevation_deg", "90 deg: overhead pass, as the seed's Fig. 2 inset [seed III-B2] [U]"),
    ("noise_click", "none: Y0 from dark counts and sky background [PHYSICS C.6, C.7]"),
    ("frame_rotation_rad", "0: reference frames aligned (ATP compensates) [U]; set it to study seed Table I's "
                           "reference-frame challenge"),
    ("retardance_rad", "0: no receiver birefringence [U]"),
    ("frame_tracking", "none: no geometric frame rotation over passes [U] (see _frame docs)"),
    ("hwp_compensation", "off [U]"),
    ("hwp_residual_rad", "0 [U] (used with hwp_compensation)"),
    ("nominal_elevation_deg", "90 deg: zenith, for budgets at one instant [U]"),
    ("direction", "down: the upper end transmits"),
    ("geometry", "orbit: circular-orbit passes [PHYSICS C.1]"),
)
_COMMON = (
    ("tx_optics_efficiency", "0.8 [U] assumed typical terminal optics"),
    ("rx_optics_efficiency", "0.8 [U] assumed typical terminal optics"),
    ("misalignment", "0.01 [U] polarisation misalignment e_d, as PHYSICS A2's test vector"),
    ("fov_full_angle_rad", "100 urad [U] PHYSICS C.6 example"),
    ("filter_width_nm", "1 nm [U] PHYSICS C.6 example"),
    ("gate_s", "1 ns [U] PHYSICS C.6 example (200 MHz source in seed: 5 ns period)"),
    ("detector", "si_spad: eta 0.5, 100 dark counts/s, no afterpulsing [U] PHYSICS C.7, Si SPAD at 810 nm"),
    ("n_detectors", "2: two-detector receiver, PHYSICS section 0"),
    ("pointing_jitter_rad", "3.3 urad 'weak' PE level [seed III-B2]"),
    ("sky_radiance_w_m2_sr_nm", "1e-6: full-moon night [U] PHYSICS C.6 (sweep with replace)"),
    ("min_elevation_deg", "10 deg [U] pass mask (SatQuMA's minElev is also 10 deg [SatQuMA])"),
)
_CUBESAT_TX = (
    ("upper_altitude_m", "535 km CubeSat, Sun-synchronous orbit as a circular orbit [seed III-B2]"),
    ("tx_aperture_m", "9 cm CubeSat Cassegrain telescope [seed III-B2]"),
    ("divergence_half_angle_rad", "16.5 urad = half of the seed's 33 urad full-angle divergence "
                                  "[seed III-B2; PHYSICS F.1]"),
    ("wavelength_m", "810 nm [seed III-B2]"),
)
_ATM_TURB = (
    ("atmosphere", "on: SatQuMA/MODTRAN 810 nm zenith transmittance 0.814, Kasten-Young airmass, "
                   "1.5 km scale height [U] [PHYSICS C.4]"),
    ("turbulence", "on: HV 5/7 [PHYSICS C.5]"),
)
_FIXED = (
    ("geometry", "fixed: quasi-stationary platforms [seed II]"),
    ("pass_max_elevation_deg", "unused (no pass for a fixed link)"),
    ("min_elevation_deg", "unused (no pass for a fixed link)"),
)

_SI = dict(tx_optics_efficiency=0.8, rx_optics_efficiency=0.8, misalignment=0.01, fov_full_angle_rad=100e-6,
           filter_width_nm=1.0, gate_s=1e-9, n_detectors=2, pointing_jitter_rad=3.3e-6,
           sky_radiance_w_m2_sr_nm=1e-6)

#: The LEO-to-HAPS receiver of seed 001 Fig. 2, with the values quoted from [T22] where they exist.
_LEO_HAPS_RX = dict(
    rx_optics_efficiency=0.5, misalignment=0.01, noise_click=6e-7,
    detector=Detector("si_spad_ap1e-3", efficiency=0.5, dark_count_rate_hz=100.0, dead_time_s=22e-9,
                      afterpulse_probability=1e-3),
)
_LEO_HAPS_RX_SOURCES = (
    ("rx_optics_efficiency", "0.5: receiver efficiency ~50 % [T22, quoted, not re-read]; read as the optics "
                             "before the detector (if [T22]'s 50 % includes the detector, set "
                             "detector.efficiency=1 or rx_optics_efficiency=1)"),
    ("noise_click", "6e-7 per pulse: background/dark yield Y0 [T22, quoted, not re-read]; stated directly, "
                    "so the sky radiance, field of view, filter, gate and dark counts do not enter"),
    ("misalignment", "0.01 [T22, quoted, not re-read]; SatQuMA's intrinsic QBER runs 0.001-0.005 [SatQuMA]"),
    ("detector", "Si SPAD at 810 nm: efficiency 0.5 [U] PHYSICS C.7; 100 dark counts/s [U] (unused: Y0 is "
                 "given); afterpulse probability 1e-3 [T22, quoted; SatQuMA Pap = 0.001, read]"),
    ("sky_radiance_w_m2_sr_nm", "1e-6 [U] (unused: Y0 is given)"),
    ("fov_full_angle_rad", "100 urad [U] (unused: Y0 is given)"),
    ("filter_width_nm", "1 nm [U] (unused: Y0 is given)"),
    ("gate_s", "1 ns [U] (unused: Y0 is given)"),
)

PRESETS: tuple[Link, ...] = (
    Link(name="leo-ground-down",
         description="LEO CubeSat (535 km) to a 40 cm ground telescope, 810 nm, night",
         direction="down", geometry="orbit", upper_altitude_m=535e3, lower_altitude_m=0.0,
         nominal_elevation_deg=90.0, wavelength_m=810e-9, tx_aperture_m=0.09, rx_aperture_m=0.40,
         divergence_full_angle_rad=33e-6, **_SI, min_elevation_deg=10.0,
         sources=_src(_DEFAULTS, _CUBESAT_TX, _ATM_TURB, _COMMON, (
             ("rx_aperture_m", "0.40 m: lower end of the seed's 0.4-1.5 m ground telescopes [seed III-D2]"),
             ("lower_altitude_m", "0 m ground station (Tokyo in the seed) [seed III-D]")))),
    Link(name="leo-ground-up",
         description="40 cm ground telescope to a LEO CubeSat (535 km) with a 9 cm receiver, 810 nm, night",
         direction="up", geometry="orbit", upper_altitude_m=535e3, lower_altitude_m=0.0,
         nominal_elevation_deg=90.0, wavelength_m=810e-9, tx_aperture_m=0.40, rx_aperture_m=0.09,
         divergence_half_angle_rad=10e-6, **_SI, min_elevation_deg=10.0,
         sources=_src(_DEFAULTS, _ATM_TURB, _COMMON, (
             ("direction", "up: the ground transmits"),
             ("upper_altitude_m", "535 km [seed III-B2]"),
             ("lower_altitude_m", "0 m ground station [seed III-D]"),
             ("wavelength_m", "810 nm [seed III-B2]"),
             ("rx_aperture_m", "9 cm CubeSat telescope [seed III-B2]"),
             ("tx_aperture_m", "0.40 m ground telescope [seed III-D2]"),
             ("divergence_half_angle_rad", "10 urad [U]: wider than diffraction to cope with beam wander "
                                           "[seed III-A2 qualitatively]"),
             ("uplink_tip_tilt_tracking", "on: fine-pointing/tracking with tip/tilt pre-compensation "
                                          "[seed III-A2, III-D2]"),
             ("sky_radiance_w_m2_sr_nm", "1e-6: moonlit Earth seen from orbit [U] PHYSICS C.6")))),
    Link(name="leo-haps",
         description="Seed 001 III-B2: LEO CubeSat (535 km) to a HAPS (20 km) with a 35 cm receiver, "
                     "810 nm, no atmosphere",
         direction="down", geometry="orbit", upper_altitude_m=535e3, lower_altitude_m=20e3,
         nominal_elevation_deg=90.0, wavelength_m=810e-9, tx_aperture_m=0.09, rx_aperture_m=0.35,
         divergence_full_angle_rad=33e-6, atmosphere=False, turbulence=False,
         **{**_SI, **_LEO_HAPS_RX}, min_elevation_deg=10.0,
         sources=_src(_DEFAULTS, _CUBESAT_TX, _COMMON, _LEO_HAPS_RX_SOURCES, (
             ("lower_altitude_m", "20 km HAPS over Tokyo [seed III-B2]"),
             ("rx_aperture_m", "35 cm HAPS telescope [seed III-B1, III-B2]"),
             ("atmosphere", "off: 'no atmospheric loss' [seed III-B2]; 20 km is extinction-free [PHYSICS C.4]"),
             ("turbulence", "off: stratosphere, turbulence avoided [seed III-B1, Table I]"),
             ("min_elevation_deg", "10 deg [U]; the seed's 100 s half-window is "
                                   "pass_channels(max_half_window_s=100) (elevation >~ 33 deg) "
                                   "[PHYSICS C.1]"),
             ("source_rate", "200 MHz [seed III-B2]: a protocol parameter, not a link field")))),
    Link(name="leo-laps",
         description="LEO CubeSat (535 km) to a drone (LAPS, 1 km) with a 15 cm receiver, 810 nm, night",
         direction="down", geometry="orbit", upper_altitude_m=535e3, lower_altitude_m=1e3,
         nominal_elevation_deg=90.0, wavelength_m=810e-9, tx_aperture_m=0.09, rx_aperture_m=0.15,
         divergence_full_angle_rad=33e-6, **_SI, min_elevation_deg=10.0,
         sources=_src(_DEFAULTS, _CUBESAT_TX, _ATM_TURB, _COMMON, (
             ("lower_altitude_m", "1 km LAPS, as in the seed's HAPS-LAPS case [seed III-C2]"),
             ("rx_aperture_m", "15 cm: upper end of the seed's 10-15 cm LAPS apertures [seed III-A2]"),
             ("detector", "free-space SPAD, no fibre coupling [seed III-A2]; si_spad [U]")))),
    Link(name="haps-laps",
         description="Seed 001 III-C2: HAPS (20 km) to a LAPS (1 km) at zenith 40 deg, 24.8 km, 810 nm, "
                     "33 urad full-angle divergence",
         direction="down", geometry="fixed", upper_altitude_m=20e3, lower_altitude_m=1e3,
         nominal_elevation_deg=50.0, wavelength_m=810e-9, tx_aperture_m=0.10, rx_aperture_m=0.10,
         divergence_full_angle_rad=33e-6, **_SI,
         sources=_src(_DEFAULTS, _ATM_TURB, _COMMON, _FIXED, (
             ("upper_altitude_m", "20 km HAPS [seed III-C2]"),
             ("lower_altitude_m", "1 km LAPS [seed III-C2]; 24.78 km range at zenith 40 deg [PHYSICS C.1]"),
             ("nominal_elevation_deg", "50 deg = zenith 40 deg [seed III-C2]"),
             ("divergence_half_angle_rad", "16.5 urad = half of the seed's 33 urad full-angle divergence "
                                           "[seed III-C2]"),
             ("wavelength_m", "810 nm [seed Fig. 3]"),
             ("rx_aperture_m", "10 cm: lower end of the seed's 10-15 cm LAPS apertures [seed III-A2]; "
                               "PHYSICS C.2 first example column"),
             ("tx_aperture_m", "10 cm [U] (unused: the divergence is given)"),
             ("turbulence", "on, spherical wave (both ends in the atmosphere); SI << 1 [seed Fig. 3 inset; "
                            "PHYSICS C.5]"),
             ("sky_radiance_w_m2_sr_nm", "1e-6 full-moon night [U]; the seed's Fig. 3 sweeps irradiance, "
                                         "daytime ~1e-2 [PHYSICS C.6]")))),
    Link(name="haps-ground",
         description="HAPS (20 km) to a 40 cm ground telescope at zenith 40 deg, 810 nm, "
                     "33 urad full-angle divergence",
         direction="down", geometry="fixed", upper_altitude_m=20e3, lower_altitude_m=0.0,
         nominal_elevation_deg=50.0, wavelength_m=810e-9, tx_aperture_m=0.10, rx_aperture_m=0.40,
         divergence_full_angle_rad=33e-6, **_SI,
         sources=_src(_DEFAULTS, _ATM_TURB, _COMMON, _FIXED, (
             ("upper_altitude_m", "20 km HAPS [seed II]"),
             ("lower_altitude_m", "0 m ground station [U]"),
             ("nominal_elevation_deg", "50 deg [U]: same zenith angle as the seed's HAPS-LAPS case"),
             ("wavelength_m", "810 nm [seed Fig. 3]"),
             ("divergence_half_angle_rad", "16.5 urad [U]: the seed's HAPS beam (33 urad full angle)"),
             ("rx_aperture_m", "0.40 m ground telescope [seed III-D2]"),
             ("tx_aperture_m", "10 cm [U] (unused: the divergence is given)")))),
    Link(name="inter-satellite",
         description="Two 535 km CubeSats 1000 km apart, 9 cm terminals, 810 nm, no atmosphere",
         direction="down", geometry="fixed", upper_altitude_m=535e3, lower_altitude_m=535e3,
         nominal_elevation_deg=None, fixed_range_m=1000e3, wavelength_m=810e-9, tx_aperture_m=0.09,
         rx_aperture_m=0.09, divergence_full_angle_rad=33e-6, atmosphere=False, turbulence=False,
         **{**_SI, "sky_radiance_w_m2_sr_nm": 1e-8},
         sources=_src(_DEFAULTS, _CUBESAT_TX, _COMMON, _FIXED, (
             ("lower_altitude_m", "535 km: both CubeSats on the seed's orbit [seed III-B2]"),
             ("nominal_elevation_deg", "none: elevation is undefined between two satellites"),
             ("fixed_range_m", "1000 km [U] inter-satellite separation"),
             ("rx_aperture_m", "9 cm CubeSat telescope [seed III-B1]"),
             ("atmosphere", "off: both ends above the atmosphere"),
             ("turbulence", "off: both ends above the atmosphere"),
             ("direction", "'down' is a label only: both ends at 535 km"),
             ("sky_radiance_w_m2_sr_nm", "1e-8 [U]: dark sky, Sun and Earth outside the field of view")))),
)

for _link in PRESETS:
    register_link(_link)

#: ``{preset name: ((field, source), ...)}`` for every preset.
PRESET_SOURCES: Mapping[str, tuple[tuple[str, str], ...]] = MappingProxyType(
    {link.name: link.sources for link in PRESETS})

del _link
