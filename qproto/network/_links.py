"""Which layers link to which, with which terminals: the network's link table.

An :class:`EdgeModel` says how two layers connect: the terminals
(:class:`~qproto.noise_models._platform_link.PlatformLink`, upper end transmitting), the
largest range, and the lowest altitude the straight ray may reach (0: only the Earth blocks;
inter-satellite links default to 100 km so that they stay out of the atmosphere).

The default terminals repeat the values of the ``noise_models`` link presets
(``leo-ground-down``, ``leo-haps``, ``leo-laps``, ``haps-laps``, ``haps-ground``,
``inter-satellite``; seed 001 and docs/conventions.md §C, sources listed in those presets), written
out here because the presets are being refactored: 810 nm, 0.8 optics both ends, 3.3 urad
jitter ("weak"), e_d = 0.01, Si SPAD (eta 0.5, 100 /s dark), 1 ns gate, 1 nm filter,
100 urad field of view, full-moon-night sky 1e-6 W m^-2 sr^-1 nm^-1.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

from qproto._errors import InvalidParameter, InvalidType
from qproto._validation import check_in_range, check_positive
from qproto.noise_models import PlatformLink

from ._nodes import LAYERS

__all__ = ["EdgeModel", "default_link_table", "link_kind"]


def link_kind(layer_a: str, layer_b: str) -> str:
    """The table key of a layer pair, upper layer first (e.g. ``"sat-ground"``)."""
    ia, ib = LAYERS.index(layer_a), LAYERS.index(layer_b)
    hi, lo = (layer_a, layer_b) if ia >= ib else (layer_b, layer_a)
    return f"{hi}-{lo}"


@dataclasses.dataclass(frozen=True, kw_only=True)
class EdgeModel:
    """How two layers link.

    Attributes:
        link: the terminals (upper end transmits).
        max_range_m: largest link range [m], > 0.
        min_ray_altitude_m: lowest altitude the straight path may reach [m], >= 0 (below it:
            no line of sight).
        day_sky_radiance_w_m2_sr_nm: radiance seen by the receiver while the Sun is above its
            horizon [W m^-2 sr^-1 nm^-1], >= 0 (docs/conventions.md C.6: clear day ~1e-2 at 810 nm); None:
            the link's own radiance day and night. Needs the network's ``epoch``.
    """

    link: PlatformLink
    max_range_m: float = math.inf
    min_ray_altitude_m: float = 0.0
    day_sky_radiance_w_m2_sr_nm: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.link, PlatformLink):
            raise InvalidType("link", self.link, "a PlatformLink")
        object.__setattr__(self, "max_range_m", check_positive("max_range_m", self.max_range_m)
                           if self.max_range_m != math.inf else math.inf)
        object.__setattr__(self, "min_ray_altitude_m",
                           check_in_range("min_ray_altitude_m", self.min_ray_altitude_m, 0.0, 1e8))
        if self.day_sky_radiance_w_m2_sr_nm is not None:
            object.__setattr__(self, "day_sky_radiance_w_m2_sr_nm", check_in_range(
                "day_sky_radiance_w_m2_sr_nm", self.day_sky_radiance_w_m2_sr_nm, 0.0, 1e3))


_COMMON = dict(wavelength_m=810e-9, tx_optics_efficiency=0.8, rx_optics_efficiency=0.8, pointing_jitter_rad=3.3e-6,
               misalignment=0.01, fov_full_angle_rad=100e-6, filter_width_nm=1.0, gate_s=1e-9, n_detectors=2,
               detector="si_spad", sky_radiance_w_m2_sr_nm=1e-6)
_CUBESAT_BEAM = 33e-6 / 2.0  # 33 urad full angle [seed 001 III-B2]


def default_link_table() -> dict[str, EdgeModel]:
    """The default link table (see the module docstring), keyed by :func:`link_kind`."""
    def pl(name: str, **kw: Any) -> PlatformLink:
        return PlatformLink(name=name, **{**_COMMON, **kw})

    return {
        "sat-ground": EdgeModel(link=pl("sat-ground", divergence_half_angle_rad=_CUBESAT_BEAM, rx_aperture_m=0.40),
                                max_range_m=3000e3),
        "sat-laps": EdgeModel(link=pl("sat-laps", divergence_half_angle_rad=_CUBESAT_BEAM, rx_aperture_m=0.15),
                              max_range_m=3000e3),
        "sat-haps": EdgeModel(link=pl("sat-haps", divergence_half_angle_rad=_CUBESAT_BEAM, rx_aperture_m=0.35,
                                      atmosphere=False), max_range_m=3000e3, min_ray_altitude_m=15e3),
        "sat-sat": EdgeModel(link=pl("sat-sat", divergence_half_angle_rad=_CUBESAT_BEAM, rx_aperture_m=0.09,
                                     atmosphere=False, sky_radiance_w_m2_sr_nm=1e-8),
                             max_range_m=3000e3, min_ray_altitude_m=100e3),
        "haps-ground": EdgeModel(link=pl("haps-ground", divergence_half_angle_rad=_CUBESAT_BEAM, rx_aperture_m=0.40),
                                 max_range_m=300e3),
        "haps-laps": EdgeModel(link=pl("haps-laps", divergence_half_angle_rad=_CUBESAT_BEAM, rx_aperture_m=0.10),
                               max_range_m=300e3),
        "haps-haps": EdgeModel(link=pl("haps-haps", divergence_half_angle_rad=_CUBESAT_BEAM, rx_aperture_m=0.35),
                               max_range_m=600e3, min_ray_altitude_m=15e3),
        "laps-ground": EdgeModel(link=pl("laps-ground", divergence_half_angle_rad=_CUBESAT_BEAM, rx_aperture_m=0.40),
                                 max_range_m=50e3),
    }


def merge_link_table(base: Mapping[str, EdgeModel], changes: Mapping[str, Any]) -> dict[str, EdgeModel]:
    """A link table with some entries changed or removed.

    ``changes[kind]`` is None (remove the kind), an :class:`EdgeModel`, or a dict with
    ``max_range_m``, ``min_ray_altitude_m`` and PlatformLink fields to change.

    Raises:
        InvalidParameter: an unknown kind or field.
    """
    out = dict(base)
    kinds = {link_kind(a, b) for a in LAYERS for b in LAYERS}
    for kind, change in changes.items():
        if kind not in kinds:
            raise InvalidParameter("links", kind, f"one of {sorted(kinds)}")
        if change is None:
            out.pop(kind, None)
        elif isinstance(change, EdgeModel):
            out[kind] = change
        elif isinstance(change, Mapping):
            change = dict(change)
            edge_kw = {k: change.pop(k) for k in ("max_range_m", "min_ray_altitude_m", "day_sky_radiance_w_m2_sr_nm")
                       if k in change}
            base_model = out.get(kind)
            if base_model is None:
                link = PlatformLink(name=kind, **{**_COMMON, **change})
                out[kind] = EdgeModel(link=link, **edge_kw)
            else:
                fields = {f.name for f in dataclasses.fields(PlatformLink)}
                bad = sorted(set(change) - fields)
                if bad:
                    raise InvalidParameter(f"links.{kind}", bad, f"fields among {sorted(fields | set(edge_kw))}")
                out[kind] = dataclasses.replace(base_model, link=base_model.link.replace(**change), **edge_kw)
        else:
            raise InvalidType(f"links.{kind}", change, "None, an EdgeModel or a dict of fields")
    return out
