"""NTN channel physics and the mapping of channels to qiskit-aer noise models.

Installed as :mod:`qproto.noise_models`. Pure, vectorised functions with units in
their names (``_m``, ``_rad``, ``_deg``, ``_hz``), one concept per private module:

* geometry: slant ranges, circular-orbit passes, TLE passes (skyfield, offline);
* optics: Gaussian beams and collection into an aperture (1/e^2 half-angle divergence);
* pointing: jitter as a mean factor and as a sampled fading distribution;
* atmosphere: extinction by airmass, altitude-dependent extinction;
* turbulence: Hufnagel-Valley 5/7, Fried parameter, isoplanatic angle, Greenwood
  frequency, Rytov variance, scintillation, beam wander, fading samplers;
* background: sky photons per detection window; detectors: presets and noise clicks;
* aer: a :class:`qproto.Channel` as an Aer ``NoiseModel`` (fast and erasure forms);
* link: :class:`Link` composing all of the above into loss budgets, Channels, circular-orbit
  passes and real TLE passes; the registry (:data:`LINKS`, :func:`get_link`);
* frame: coherent polarisation rotations (reference-frame misalignment, retardance, the
  geometric frame rotation over a pass);
* presets: the registered links, every value with its source (:data:`PRESET_SOURCES`);
* scenario: every Link field settable from text, scenario files in TOML;
* zenith_sweep: the data of seed 001 Fig. 4, Greenwood frequency and Fried parameter against zenith angle.
"""

from qproto.noise_models import (
    _aer,
    _atmosphere,
    _background,
    _detectors,
    _zenith_sweep,
    _frame,
    _geometry,
    _link,
    _optics,
    _platform_link,
    _pointing,
    _presets,
    _scenario,
    _turbulence,
)
from qproto.noise_models._aer import *  # noqa: F403
from qproto.noise_models._atmosphere import *  # noqa: F403
from qproto.noise_models._background import *  # noqa: F403
from qproto.noise_models._detectors import *  # noqa: F403
from qproto.noise_models._zenith_sweep import *  # noqa: F403
from qproto.noise_models._frame import *  # noqa: F403
from qproto.noise_models._geometry import *  # noqa: F403
from qproto.noise_models._link import *  # noqa: F403
from qproto.noise_models._optics import *  # noqa: F403
from qproto.noise_models._platform_link import *  # noqa: F403
from qproto.noise_models._pointing import *  # noqa: F403
from qproto.noise_models._presets import *  # noqa: F403
from qproto.noise_models._scenario import *  # noqa: F403
from qproto.noise_models._turbulence import *  # noqa: F403

__all__ = [name for module in (_aer, _geometry, _optics, _pointing, _atmosphere, _turbulence, _background,
                               _detectors, _frame, _link, _presets, _scenario, _zenith_sweep,
                               _platform_link) for name in module.__all__]
