"""Polarisation reference frames: a coherent rotation of the qubit from the link's geometry and optics.

Seed 001 (Table I, first challenge; III-A1) names the reference-frame misalignment between a moving
transmitter and its receiver: "the satellite and LAPS motions make the polarization reference frame
change with time, inducing basis misalignments", and the receiving optics add phase delays between
orthogonal polarisations. Both are *unitary* (coherent) transformations of the polarisation qubit, not
depolarisation, and they hit the two BB84 bases differently. Conventions (docs/conventions.md section 0:
``|0> = H``, ``|+> = D``, so the Bloch z axis is H/V and x is D/A):

* a rotation of the linear-polarisation frame by ``alpha`` about the beam (real space) is a Bloch
  rotation by ``2 alpha`` about the y axis (it mixes H/V and D/A alike: E_Z = E_X);
* a birefringent retardance ``delta`` between H and V (receiver optics) is a Bloch rotation by
  ``delta`` about the z axis (it leaves H/V alone and rotates D/A: E_Z < E_X).

:func:`polarisation_rotation` composes the two into the single ``(angle, axis)`` that a
:class:`qproto.Channel` carries (``rotation_rad``, ``rotation_axis``), which the Aer noise model applies
as a unitary error.

**Frame rotation over a pass** (geometric model, after Bonato et al. 2006, Opt. Express 14 10050, who
showed that the motion of the pointing systems rotates the received polarisation with time and that
it must be compensated from the known orbit; Han et al., arXiv:1912.06318
compensate it with wave plates driven from the orbit, to a fidelity above 0.995). Assumptions here
[U]: the transmitter's polarisation axes are fixed to its body, with H along the orbital velocity
(projected on the plane normal to the line of sight); the receiver's H axis is fixed to an alt-az
telescope, along its horizontal (elevation) axis ``up x k``; mirror-induced retardance is not
modelled (use :attr:`Link.retardance_rad` for a constant one). The frame angle is
``psi = atan2((a x b) . k, a . b)`` between the two projected axes (k the line of sight); the link is
taken to be aligned at culmination, so the rotation is ``psi(t) - psi(t_c)`` wrapped to
(-pi/2, pi/2] (a linear polarisation is unchanged by pi). For an overhead circular pass the two axes
stay perpendicular and the rotation is 0: it grows with the pass's offset from the zenith.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from qproto._validation import check_array_in_range, check_in_range

from ._geometry import EARTH_RADIUS_M, orbital_angular_rate_rad_s

__all__ = ["polarisation_rotation", "frame_rotation_circular_rad", "frame_rotation_tle_rad",
           "wrap_polarisation_angle"]


def wrap_polarisation_angle(angle_rad: ArrayLike) -> np.ndarray:
    """Wrap a real-space polarisation-frame angle into (-pi/2, pi/2] [rad] (a linear polarisation is unchanged by pi)."""
    a = np.asarray(angle_rad, dtype=float)
    w = np.mod(a + math.pi / 2, math.pi) - math.pi / 2
    return np.where(w <= -math.pi / 2 + 1e-15, w + math.pi, w)


def polarisation_rotation(*, frame_rotation_rad: float = 0.0, retardance_rad: float = 0.0
                          ) -> tuple[float, tuple[float, float, float]]:
    """The Bloch rotation of a frame rotation followed by a retardance, as ``(angle, axis)``.

    Args:
        frame_rotation_rad: rotation of the linear-polarisation frame about the beam [rad] (real
            space), any finite value; a Bloch rotation by twice it about y.
        retardance_rad: phase retardance between H and V [rad], any finite value; a Bloch rotation
            by it about z.

    Returns:
        ``(angle in [0, pi], unit axis)`` of the composite rotation ``R_z(delta) R_y(2 alpha)``
        (frame first); ``(0.0, (0, 0, 1))`` when it is the identity.

    Raises:
        InvalidParameter: a non-finite angle.
    """
    from scipy.spatial.transform import Rotation

    alpha = check_in_range("frame_rotation_rad", frame_rotation_rad, -math.inf, math.inf, lo_open=True,
                           hi_open=True)
    delta = check_in_range("retardance_rad", retardance_rad, -math.inf, math.inf, lo_open=True, hi_open=True)
    r = Rotation.from_rotvec([0.0, 0.0, delta]) * Rotation.from_rotvec([0.0, 2.0 * alpha, 0.0])
    v = r.as_rotvec()
    angle = float(np.linalg.norm(v))
    if angle < 1e-15:
        return 0.0, (0.0, 0.0, 1.0)
    axis = v / angle
    return min(angle, math.pi), (float(axis[0]), float(axis[1]), float(axis[2]))


def _frame_angle(k: np.ndarray, v: np.ndarray, up: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """psi between the transmitter axis (v projected normal to k) and the receiver axis up x k; and |up x k|."""
    a = v - np.sum(v * k, axis=-1, keepdims=True) * k
    a /= np.linalg.norm(a, axis=-1, keepdims=True)
    b = np.cross(up, k)
    nb = np.linalg.norm(b, axis=-1)
    b = b / np.maximum(nb, 1e-300)[..., None]
    psi = np.arctan2(np.sum(np.cross(a, b) * k, axis=-1), np.sum(a * b, axis=-1))
    return psi, nb


def _circular_vectors(t: np.ndarray, r_o: float, r_p: float, gamma0: float, omega: float):
    phi = omega * t
    u = np.array([math.sin(gamma0), 0.0, math.cos(gamma0)])
    w = np.array([0.0, 1.0, 0.0])
    r = r_p * (np.cos(phi)[:, None] * u + np.sin(phi)[:, None] * w)
    v = r_p * omega * (-np.sin(phi)[:, None] * u + np.cos(phi)[:, None] * w)
    los = r - np.array([0.0, 0.0, r_o])
    k = los / np.linalg.norm(los, axis=-1, keepdims=True)
    up = np.broadcast_to(np.array([0.0, 0.0, 1.0]), k.shape)
    return k, v, up


def frame_rotation_circular_rad(*, time_s: ArrayLike, platform_altitude_m: float, max_elevation_deg: float = 90.0,
                                observer_altitude_m: float = 0.0) -> np.ndarray:
    """Polarisation-frame rotation over a circular-orbit pass (module docs), relative to culmination.

    Same geometry as :func:`qproto.noise_models.circular_pass` (Earth rotation ignored, culmination
    at t = 0): the platform moves on a great circle whose closest point is at the central angle of
    the peak elevation.

    Args:
        time_s: times from culmination [s], finite.
        platform_altitude_m: orbit altitude [m], > observer altitude.
        max_elevation_deg: peak elevation [deg], in [0, 90].
        observer_altitude_m: observer altitude [m], >= 0.

    Returns:
        The real-space frame rotation [rad] at each time, in (-pi/2, pi/2], 0 at culmination
        (a float for a scalar ``time_s``).

    Raises:
        InvalidParameter: a parameter outside its range.
    """
    t = np.atleast_1d(check_array_in_range("time_s", time_s)).astype(float).ravel()
    h_o = check_in_range("observer_altitude_m", observer_altitude_m, 0.0, math.inf, hi_open=True)
    h_p = check_in_range("platform_altitude_m", platform_altitude_m, h_o, math.inf, lo_open=True, hi_open=True)
    e_max = math.radians(check_in_range("max_elevation_deg", max_elevation_deg, 0.0, 90.0))
    r_o, r_p = EARTH_RADIUS_M + h_o, EARTH_RADIUS_M + h_p
    gamma0 = math.acos(min(1.0, r_o * math.cos(e_max) / r_p)) - e_max
    omega = orbital_angular_rate_rad_s(h_p)
    nudge = 1e-3 / omega * 1e-3  # a micro-radian of orbit: steps off the alt-az singularity at the zenith
    k, v, up = _circular_vectors(t, r_o, r_p, gamma0, omega)
    psi, nb = _frame_angle(k, v, up)
    bad = nb < 1e-9
    if np.any(bad):
        k2, v2, up2 = _circular_vectors(t[bad] + nudge, r_o, r_p, gamma0, omega)
        psi[bad] = _frame_angle(k2, v2, up2)[0]
    k0, v0, up0 = _circular_vectors(np.array([0.0 if gamma0 > 1e-9 else nudge]), r_o, r_p, gamma0, omega)
    psi0 = _frame_angle(k0, v0, up0)[0][0]
    out = wrap_polarisation_angle(psi - psi0)
    return out.reshape(np.shape(time_s)) if np.ndim(time_s) else float(out[0])


def frame_rotation_tle_rad(*, tle_line1: str, tle_line2: str, latitude_deg: float, longitude_deg: float,
                           observer_altitude_m: float, start_utc: Any, time_s: ArrayLike,
                           reference_time_s: float = 0.0) -> np.ndarray:
    """Polarisation-frame rotation over a TLE pass (module docs), relative to ``reference_time_s``.

    SGP4 through skyfield (offline, built-in timescale), in the GCRS: the transmitter axis follows
    the satellite's inertial velocity, the receiver's the local horizontal axis of an alt-az telescope
    at the WGS84 site (geodetic up).

    Args:
        tle_line1, tle_line2: the two TLE lines.
        latitude_deg, longitude_deg: site [deg].
        observer_altitude_m: site height above WGS84 [m].
        start_utc: timezone-aware datetime; ``time_s`` counts from it.
        time_s: sample times [s] after ``start_utc``.
        reference_time_s: the time [s] after ``start_utc`` at which the frames are aligned
            (culmination, when ``start_utc`` is the culmination).

    Returns:
        The real-space frame rotation [rad] at each time, in (-pi/2, pi/2].

    Raises:
        InvalidParameter: as :func:`qproto.noise_models.tle_pass_geometry`.
    """
    from skyfield.api import EarthSatellite, load, wgs84

    from ._geometry import tle_pass_geometry

    # Validates every argument with qproto's messages (and gives nothing we need here otherwise).
    t = np.atleast_1d(check_array_in_range("time_s", time_s)).astype(float).ravel()
    tle_pass_geometry(tle_line1=tle_line1, tle_line2=tle_line2, latitude_deg=latitude_deg,
                      longitude_deg=longitude_deg, observer_altitude_m=observer_altitude_m,
                      start_utc=start_utc, time_s=float(reference_time_s))
    ts = load.timescale(builtin=True)
    sat = EarthSatellite(tle_line1, tle_line2, "qproto", ts)
    site = wgs84.latlon(float(latitude_deg), float(longitude_deg), elevation_m=float(observer_altitude_m))
    above = wgs84.latlon(float(latitude_deg), float(longitude_deg), elevation_m=float(observer_altitude_m) + 1.0)

    def psi_at(tt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        times = ts.from_datetime(start_utc) + tt / 86400.0
        s = sat.at(times)
        o = site.at(times).position.m
        up = above.at(times).position.m - o
        up = (up / np.linalg.norm(up, axis=0)).T
        los = (s.position.m - o).T
        k = los / np.linalg.norm(los, axis=-1, keepdims=True)
        return _frame_angle(k, s.velocity.m_per_s.T, up)

    psi, nb = psi_at(t)
    bad = nb < 1e-9
    if np.any(bad):
        psi[bad] = psi_at(t[bad] + 1e-3)[0]
    psi0, nb0 = psi_at(np.array([float(reference_time_s)]))
    if nb0[0] < 1e-9:
        psi0 = psi_at(np.array([float(reference_time_s) + 1e-3]))[0]
    out = wrap_polarisation_angle(psi - psi0[0])
    return out.reshape(np.shape(time_s)) if np.ndim(time_s) else float(out[0])
