"""Fidelity of a distributed Bell pair given a coincidence, from circuits and in closed form.

Only the physics stays here; the seed 001 Fig. 3 sweep and its figure live in
``benchmarks/fig3_haps_laps_fidelity.py`` (figure code sits above the library core).

A source emits Phi+; each half crosses its own channel and carries that channel's
click-conditioned error (coherent rotation, then depolarisation ``p_eff``: signal fraction,
misalignment and noise clicks; PHYSICS.md C.8) on its channel marker. The circuits measure ZZ,
XX and YY on the engine's exact-distribution path; ``F = (1 + E_XX - E_YY + E_ZZ)/4``.
"""

from __future__ import annotations

from qproto._channel import Channel

__all__ = ["pair_fidelity"]


def pair_fidelity(channel_a: Channel, channel_b: Channel) -> dict[str, float]:
    """Fidelity with Phi+ of a pair whose halves cross ``channel_a`` and ``channel_b``, given a coincidence.

    Returns ``{"fidelity": from the circuits, "closed_form": ..., "coincidence": P_A P_B}`` (the
    coincidence a probability per pair). The closed form is computed on the Bloch sphere without
    circuits: the pair's correlation matrix is ``T = M_A T0 M_B^T`` (T0 = Phi+'s; M = (1 - p_eff) R,
    each channel's coherent rotation R and click-conditioned depolarisation) and
    ``F = (1 + T_xx - T_yy + T_zz)/4``, which is ``(1 + 3V)/4`` with ``V = (1 - p_eff,A)(1 - p_eff,B)``
    for channels without rotation.
    """
    from qiskit import QuantumCircuit

    from qproto import noise_models  # the Aer marker lives a layer above the core: reached when called
    from qproto._engine import Engine
    from qproto._entanglement import bell_pair, click_noise_model, measure_setting
    from qproto.security._purification import PHI_PLUS_CORRELATIONS, click_bloch_map, correlation_fidelity

    circuits = []
    for s in (0, 1, 2):  # ZZ, XX, YY
        qc = QuantumCircuit(2, 2, name=f"pair_{'ZXY'[s]}")
        bell_pair(qc, 0, 1)
        qc.append(noise_models.channel_marker(), [0])
        qc.append(noise_models.channel_marker(), [1])
        measure_setting(qc, 0, s)
        measure_setting(qc, 1, s)
        qc.measure([0, 1], [0, 1])
        circuits.append(qc)
    probs = Engine(mode="distribution").compile(circuits, click_noise_model({0: channel_a, 1: channel_b})).probabilities
    e = probs[:, 0] + probs[:, 3] - probs[:, 1] - probs[:, 2]
    t = click_bloch_map(channel_a) @ PHI_PLUS_CORRELATIONS @ click_bloch_map(channel_b).T
    return {"fidelity": float((1 + e[1] - e[2] + e[0]) / 4), "closed_form": correlation_fidelity(t),
            "coincidence": channel_a.detection_probability * channel_b.detection_probability}
