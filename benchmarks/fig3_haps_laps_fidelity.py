"""Seed 001 Fig. 3: delivered-pair fidelity at two LAPS fed by a HAPS, against sky radiance.

Usage::

    .venv/bin/python benchmarks/fig3_haps_laps_fidelity.py [--png PATH]

Prints a markdown table (circuit fidelity and closed form per divergence, pointing
level and radiance) and optionally saves the figure (needs matplotlib).
"""

from __future__ import annotations

import argparse


from qproto._entanglement_fig3 import haps_laps_fidelity_curve

RADIANCES = (1e-8, 1e-6, 1e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--png", default=None, help="save the figure here")
    args = ap.parse_args()
    rows = haps_laps_fidelity_curve(RADIANCES)
    worst = max(abs(r["fidelity"] - r["closed_form"]) for r in rows)
    print("| divergence (full) | pointing | " + " | ".join(f"{x:.0e}" for x in RADIANCES) + " |")
    print("|---|---|" + "---|" * len(RADIANCES))
    for div in sorted({r["divergence_full_angle_rad"] for r in rows}):
        for level in ("weak", "moderate", "strong"):
            sel = [r for r in rows if r["divergence_full_angle_rad"] == div and r["pointing"] == level]
            print(f"| {div * 1e6:.0f} urad | {level} ({sel[0]['loss_db']:.1f} dB) | "
                  + " | ".join(f"{r['fidelity']:.3f}" for r in sel) + " |")
    print(f"\nradiance in W m^-2 sr^-1 nm^-1; max |circuit - closed form| = {worst:.1e}")
    if args.png:
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6, 4))
        for div, style in zip(sorted({r["divergence_full_angle_rad"] for r in rows}), ("-", "--")):
            for level in ("weak", "moderate", "strong"):
                sel = [r for r in rows if r["divergence_full_angle_rad"] == div and r["pointing"] == level]
                ax.semilogx(RADIANCES, [r["fidelity"] for r in sel], style, marker="o",
                            label=f"{div * 1e6:.0f} urad, {level}")
        ax.axhline(0.8, color="grey", lw=0.5)
        ax.set_xlabel("sky spectral radiance [W m$^{-2}$ sr$^{-1}$ nm$^{-1}$]")
        ax.set_ylabel("fidelity of the delivered pair")
        ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(args.png, dpi=120)


if __name__ == "__main__":
    main()
