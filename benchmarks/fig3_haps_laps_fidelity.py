"""Seed 001 Fig. 3: delivered-pair fidelity at two LAPS fed by a HAPS, against sky radiance.

A HAPS at 20 km emits Phi+ pairs; each half crosses its own HAPS->LAPS link (the ``haps-laps``
preset: LAPS at 1 km, zenith 40 deg, 24.8 km, 810 nm). The pair's fidelity is computed by running
circuits: Phi+ measured in ZZ, XX and YY on the engine's exact-distribution path, each half carrying
its link's click-conditioned error (depolarisation ``p_eff``: signal fraction, misalignment and
background; plus any coherent rotation) on its channel marker; ``F = (1 + E_XX - E_YY + E_ZZ)/4``.
The closed form, from the Bloch maps without circuits, is ``F = (1 + T_xx - T_yy + T_zz)/4`` with
``T = M_A T0 M_B^T`` (T0 = Phi+'s correlations diag(1, -1, 1), ``M = (1 - p_eff) R``), i.e.
``(1 + 3V)/4``, ``V = (1 - p_eff,A)(1 - p_eff,B)`` without rotation (docs/conventions.md A3, C.8).

Usage::

    .venv/bin/python benchmarks/fig3_haps_laps_fidelity.py [--plot FILE] [--points N]

Prints a markdown table (circuit fidelity per divergence, pointing level and radiance, and the
largest |circuit - closed form|) and with ``--plot`` draws the figure: enough radiance points to see
the knee, day/night markers, and curves that coincide labelled as such. Uses only public API
(``qproto.Engine``, ``qproto.Channel``, ``qproto.noise_models``).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

import numpy as np

from qproto import Channel, Engine
from qproto.noise_models import channel_marker, channel_noise_model, get_link

#: The seed's two beams, as 1/e^2 full-angle divergences.
DIVERGENCES_FULL_ANGLE_RAD = (33e-6, 1e-3)
POINTING_LEVELS = ("weak", "moderate", "strong")
#: Indicative sky radiances at 810 nm [W m^-2 sr^-1 nm^-1] (docs/conventions.md C.6, [U]).
MARKERS = {"moonless night": 1e-8, "full-moon night": 1e-6, "clear day": 1e-2}
T0 = np.diag([1.0, -1.0, 1.0])  # Phi+ correlations <XX>, <YY>, <ZZ>


def _click_channel(ch: Channel) -> Channel:
    """The lossless channel a qubit sees given its receiver clicked (docs/conventions.md C.8(b))."""
    return Channel(depolarisation=min(ch.effective_depolarisation, 4.0 / 3.0), rotation_rad=ch.rotation_rad,
                   rotation_axis=ch.rotation_axis)


def _circuits():
    from qiskit import QuantumCircuit

    out = []
    for s in "ZXY":
        qc = QuantumCircuit(2, 2, name=f"pair_{s}")
        qc.h(0)
        qc.cx(0, 1)
        qc.append(channel_marker(), [0])
        qc.append(channel_marker(), [1])
        for q in (0, 1):
            if s == "X":
                qc.h(q)
            elif s == "Y":
                qc.sdg(q)
                qc.h(q)
        qc.measure([0, 1], [0, 1])
        out.append(qc)
    return out


def pair_fidelity(channel_a: Channel, channel_b: Channel) -> dict[str, float]:
    """Fidelity with Phi+ given a coincidence: from the circuits and in closed form."""
    noise = channel_noise_model({0: _click_channel(channel_a), 1: _click_channel(channel_b)})
    probs = Engine(mode="distribution").compile(_circuits(), noise).probabilities
    e = probs[:, 0] + probs[:, 3] - probs[:, 1] - probs[:, 2]  # ZZ, XX, YY correlators
    m_a = (1 - channel_a.effective_depolarisation) * channel_a.rotation_matrix
    m_b = (1 - channel_b.effective_depolarisation) * channel_b.rotation_matrix
    t = m_a @ T0 @ m_b.T
    return {"fidelity": float((1 + e[1] - e[2] + e[0]) / 4),
            "closed_form": float((1 + t[0, 0] - t[1, 1] + t[2, 2]) / 4),
            "coincidence": channel_a.detection_probability * channel_b.detection_probability}


def fidelity_curves(radiances: Sequence[float], link_name: str = "haps-laps") -> list[dict]:
    """One row per divergence, pointing level and radiance (both LAPS links are the same preset)."""
    base = get_link(link_name)
    rows = []
    for div in DIVERGENCES_FULL_ANGLE_RAD:
        for level in POINTING_LEVELS:
            for rad in radiances:
                ch = base.replace(divergence_half_angle_rad=div / 2, pointing_jitter_rad=level,
                                  sky_radiance_w_m2_sr_nm=float(rad)).channel()
                rows.append({"divergence": div, "pointing": level, "radiance": float(rad),
                             **pair_fidelity(ch, ch), "loss_db": ch.loss_db, "noise_click": ch.noise_click})
    return rows


def _groups(rows: list[dict]) -> list[tuple[list[tuple[float, str]], list[dict]]]:
    """Curves whose fidelities agree to 1e-3 everywhere, grouped (they are drawn once, labelled together)."""
    curves: dict[tuple[float, str], list[dict]] = {}
    for r in rows:
        curves.setdefault((r["divergence"], r["pointing"]), []).append(r)
    groups: list[tuple[list[tuple[float, str]], list[dict]]] = []
    for key, sel in curves.items():
        f = np.array([r["fidelity"] for r in sel])
        for members, ref in groups:
            if np.max(np.abs(f - np.array([r["fidelity"] for r in ref]))) < 1e-3:
                members.append(key)
                break
        else:
            groups.append(([key], sel))
    return groups


def plot(rows: list[dict], radiances: np.ndarray, path: str) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.5, 5.2), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    for i, (members, sel) in enumerate(_groups(rows)):
        div = members[0][0]
        levels = [lv for _d, lv in members]
        label = f"{div * 1e6:.0f} urad beam, {', '.join(levels)} PE" + (" (coincide)" if len(levels) > 1 else "")
        loss = ", ".join(f"{r['loss_db']:.1f}" for r in sel[:1])
        ax.semilogx(radiances, [r["fidelity"] for r in sel], "-" if div < 1e-4 else "--", marker="o", ms=3,
                    color=f"C{i}", label=f"{label}; loss {loss} dB")
    for name, x in MARKERS.items():
        ax.axvline(x, color="grey", lw=0.8, ls=":")
        ax.annotate(name, (x, 0.3 if x > 1e-4 else 0.55), rotation=90, fontsize=7, color="dimgrey",
                    xytext=(3, 0), textcoords="offset points")
    ax.axhline(0.8, color="k", lw=0.6)
    ax.annotate("F = 0.8", (radiances[0], 0.8), fontsize=7, xytext=(2, 2), textcoords="offset points")
    ax.axhline(0.5, color="k", lw=0.6, ls="--")
    ax.annotate("F = 1/2: no entanglement left", (radiances[0], 0.5), fontsize=7, xytext=(2, 2),
                textcoords="offset points")
    ax.set_ylim(0.25, 1.0)
    ax.set_xlabel("sky spectral radiance at 810 nm [W m$^{-2}$ sr$^{-1}$ nm$^{-1}$]")
    ax.set_ylabel("fidelity of the delivered pair with $\\Phi^+$")
    ax.set_title("HAPS (20 km) to two LAPS (1 km), zenith 40 deg, 24.8 km each: seed 001 Fig. 3")
    ax.legend(fontsize=7, loc="lower left")
    ax.grid(alpha=0.3, which="both")
    fig.text(0.01, 0.0, "haps-laps preset: 10 cm receivers, 100 urad FOV, 1 nm filter, 1 ns gate, Si SPAD 0.5 / "
             "100 cps, misalignment 1 % [U: PHYSICS C.6-C.7];\nmarkers: indicative radiances [U]; each curve: "
             "circuits on Aer (markers) = closed form to < 1e-12", fontsize=6.5)
    fig.get_layout_engine().set(rect=(0, 0.05, 1, 0.95))
    fig.savefig(path, dpi=120)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--plot", metavar="FILE", default=None, help="save the figure here")
    ap.add_argument("--points", type=int, default=25, help="radiance points from 1e-9 to 1 (default 25)")
    args = ap.parse_args(argv)
    if not 2 <= args.points <= 200:
        ap.error(f"--points={args.points} is outside the allowed range [2, 200]")
    if args.plot is not None and (not args.plot.strip() or os.path.isdir(args.plot)
                                  or not os.path.isdir(os.path.dirname(os.path.abspath(args.plot)))):
        ap.error(f"--plot={args.plot!r}: not a file path in an existing directory")  # before computing
    radiances = np.logspace(-9, 0, args.points)
    rows = fidelity_curves(radiances)
    worst = max(abs(r["fidelity"] - r["closed_form"]) for r in rows)
    show = [i for i, x in enumerate(radiances) if i % max(1, len(radiances) // 8) == 0]
    print("| divergence (full) | pointing | " + " | ".join(f"{radiances[i]:.0e}" for i in show) + " |")
    print("|---|---|" + "---|" * len(show))
    for div in DIVERGENCES_FULL_ANGLE_RAD:
        for level in POINTING_LEVELS:
            sel = [r for r in rows if r["divergence"] == div and r["pointing"] == level]
            print(f"| {div * 1e6:.0f} urad | {level} ({sel[0]['loss_db']:.1f} dB) | "
                  + " | ".join(f"{sel[i]['fidelity']:.3f}" for i in show) + " |")
    for members, _sel in _groups(rows):
        if len(members) > 1:
            print("coincide (|dF| < 1e-3): " + "; ".join(f"{d * 1e6:.0f} urad {lv}" for d, lv in members))
    print(f"\nradiance in W m^-2 sr^-1 nm^-1; max |circuit - closed form| = {worst:.1e}")
    if args.plot:
        plot(rows, radiances, args.plot)
        print(f"figure written to {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
