"""Seed 001 Fig. 3: fidelity of HAPS-distributed pairs at two LAPS against sky radiance.

A HAPS at 20 km emits Phi+ pairs; each half crosses its own HAPS->LAPS link (the
``"haps-laps"`` preset: LAPS at 1 km, zenith 40 deg, 24.8 km, 810 nm). The delivered
pair's fidelity is computed by running circuits: the pair's circuit measured in ZZ,
XX and YY on the engine's exact distribution path, each half carrying its link's
click-conditioned depolarisation on its channel marker; F = (1 + E_XX - E_YY + E_ZZ)/4.
The closed form (PHYSICS.md A3, C.8) is F = (1 + 3V)/4 with V = (1 - p_eff,A)(1 - p_eff,B),
p_eff each link's click-conditioned depolarisation (signal fraction, misalignment, background);
for links with a coherent polarisation rotation it is computed from the Bloch maps (see
:func:`pair_fidelity`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from qiskit import QuantumCircuit

from qproto._channel import Channel
from qproto._engine import Engine
from qproto._entanglement import bell_pair, click_noise_model, measure_setting
from qproto.noise_models._aer import channel_marker
from qproto.security._purification import PHI_PLUS_CORRELATIONS, click_bloch_map, correlation_fidelity

__all__ = ["pair_fidelity", "haps_laps_fidelity_curve", "DIVERGENCES_FULL_ANGLE_RAD", "POINTING_LEVELS"]

#: The seed's two beams, as 1/e^2 full-angle divergences (the preset stores 33 urad as a full angle).
DIVERGENCES_FULL_ANGLE_RAD = (33e-6, 1e-3)
POINTING_LEVELS = ("weak", "moderate", "strong")


def pair_fidelity(channel_a: Channel, channel_b: Channel) -> dict[str, float]:
    """Fidelity with Phi+ of a pair whose halves cross ``channel_a`` and ``channel_b``, given a coincidence.

    Returns ``{"fidelity": from the circuits, "closed_form": ..., "coincidence": P_A P_B}``, where
    the closed form is computed on the Bloch sphere without circuits: the pair's correlation
    matrix is ``T = M_A T0 M_B^T`` (T0 = Phi+'s; M = (1 - p_eff) R, each channel's coherent
    rotation R and click-conditioned depolarisation) and F = (1 + T_xx - T_yy + T_zz)/4,
    which is (1 + 3V)/4 with V = (1 - p_eff,A)(1 - p_eff,B) for channels without rotation.
    """
    circuits = []
    for s in (0, 1, 2):  # ZZ, XX, YY
        qc = QuantumCircuit(2, 2, name=f"pair_{'ZXY'[s]}")
        bell_pair(qc, 0, 1)
        qc.append(channel_marker(), [0])
        qc.append(channel_marker(), [1])
        measure_setting(qc, 0, s)
        measure_setting(qc, 1, s)
        qc.measure([0, 1], [0, 1])
        circuits.append(qc)
    probs = Engine(mode="distribution").compile(circuits, click_noise_model({0: channel_a, 1: channel_b})).probabilities
    e = probs[:, 0] + probs[:, 3] - probs[:, 1] - probs[:, 2]
    t = click_bloch_map(channel_a) @ PHI_PLUS_CORRELATIONS @ click_bloch_map(channel_b).T
    return {"fidelity": float((1 + e[1] - e[2] + e[0]) / 4), "closed_form": correlation_fidelity(t),
            "coincidence": channel_a.detection_probability * channel_b.detection_probability}


def haps_laps_fidelity_curve(radiances_w_m2_sr_nm: Sequence[float], *, link_name: str = "haps-laps",
                             pointing_levels: Sequence[str] = POINTING_LEVELS,
                             divergences_full_angle_rad: Sequence[float] = DIVERGENCES_FULL_ANGLE_RAD
                             ) -> list[dict[str, float | str]]:
    """Fig. 3 rows: for each divergence, pointing level and sky radiance, the delivered pair's fidelity.

    Both LAPS links are the same preset (symmetric geometry). Needs
    :func:`qproto.noise_models.get_link`.

    Returns:
        One dict per point: ``divergence_full_angle_rad``, ``pointing``, ``radiance``,
        ``fidelity`` (circuits), ``closed_form``, ``coincidence``, ``loss_db``, ``noise_click``.
    """
    from qproto.noise_models import get_link

    base = get_link(link_name)
    rows: list[dict[str, float | str]] = []
    for div in divergences_full_angle_rad:
        for level in pointing_levels:
            for rad in np.asarray(radiances_w_m2_sr_nm, dtype=float):
                link = base.replace(divergence_half_angle_rad=div / 2, pointing_jitter_rad=level,
                                    sky_radiance_w_m2_sr_nm=float(rad))
                ch = link.channel()
                out = pair_fidelity(ch, ch)
                rows.append({"divergence_full_angle_rad": div, "pointing": level, "radiance": float(rad),
                             **out, "loss_db": ch.loss_db, "noise_click": ch.noise_click})
    return rows
