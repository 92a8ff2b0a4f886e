"""Figures of merit of edges and paths, from the protocols' closed forms (vectorised).

Per edge (a Channel: transmittance eta_c, detector efficiency eta_d, noise clicks Y0,
misalignment e_d; eta = eta_c eta_d):

* ``detection_probability`` P = eta + (1 - eta) Y0, ``signal_fraction`` s = eta / P;
* ``visibility`` d = s (1 - 2 e_d): the Werner visibility of a pair whose one half crosses
  the edge (the other half kept at the source), docs/conventions.md §0 / C.8(b); ``fidelity`` =
  (1 + 3 d)/4; ``qber`` = (1 - d)/2, the BB84 error rate given a click in either basis;
* ``key_rate_bps``: decoy-state BB84 (docs/conventions.md A2, GLLP with vacuum + weak decoy bounds, or
  infinitely many decoys) at ``pulse_rate_hz`` (:func:`qproto.security.decoy_key_rate_vacuum_weak`);
* ``bb84_rate_per_pulse``: single-photon BB84 (A1) ``P [p_Z^2 + p_X^2] (1 - h(E) - f_EC h(E))``,
  the figure the trusted-relay circuits measure (``qproto.get_protocol("trusted-relay")``);
* ``pair_rate_hz``: heralded pairs per second, ``pair_rate_hz x P``.

Per path:

* trusted relay (A12): ``min`` of the edges' key rates;
* swapping chain (A11): V = prod V_i, F = (1 + 3 V)/4; with quantum memories the chain
  delivers at the slowest link's rate times ``memory_efficiency^(n-1)`` and each of the
  n - 1 stored halves decoheres for the mean wait 1/r_min: V -> V exp(-(n-1)/(r_min T2));
  without memories (``coherence_time_s = 0``) every link must herald in the same slot:
  rate = ``pair_rate_hz x prod_i P_i``;
* dual downlink from a midpoint source k (A3): pairs/s ``pair_rate_hz P_ka P_kb``,
  V = d_ka d_kb;
* MDI-QKD through an untrusted relay k (A5, single photons, full Bell measurement):
  ``pulse_rate_hz P_ka P_kb (p_Z^2 + p_X^2) (1 - h(E) - f_EC h(E))`` with
  E = (1 - d_ka d_kb)/2.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from qproto._channel import Channel
from qproto._validation import check_in_range, check_non_negative, check_one_of, check_positive
from qproto.security import bb84_asymptotic_fraction, decoy_key_rate_infinite, decoy_key_rate_vacuum_weak

__all__ = ["ServiceModel", "edge_merits", "channel_merits", "swapped_chain", "dual_downlink", "mdi_link",
           "werner_chain_fidelity"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class ServiceModel:
    """Sources, protocol parameters and memories behind the figures of merit.

    Attributes:
        pulse_rate_hz: QKD source pulse rate [1/s], > 0 (200 MHz, seed 001 III-B2).
        pair_rate_hz: entangled-pair source rate [pairs/s], > 0 (1e8 [U]).
        decoy: ``"vacuum-weak"`` (GLLP with vacuum + one weak decoy) or ``"infinite"``.
        mu: signal mean photon number, in (0, 1].
        nu: weak-decoy mean photon number, in (0, mu).
        p_z: Z-basis probability of BB84 / MDI / BBM92 (sifting q = p_Z^2 + p_X^2), in (0, 1).
        f_ec: error-correction inefficiency, in [1, 2].
        memory_efficiency: probability that a stored qubit is retrieved, in [0, 1].
        coherence_time_s: memory coherence time T2 [s], >= 0 (0: no memories).
    """

    pulse_rate_hz: float = 200e6
    pair_rate_hz: float = 1e8
    decoy: str = "vacuum-weak"
    mu: float = 0.5
    nu: float = 0.1
    p_z: float = 0.5
    f_ec: float = 1.16
    memory_efficiency: float = 0.9
    coherence_time_s: float = 1.0

    def __post_init__(self) -> None:
        put = lambda n, v: object.__setattr__(self, n, v)  # noqa: E731
        put("pulse_rate_hz", check_positive("pulse_rate_hz", self.pulse_rate_hz))
        put("pair_rate_hz", check_positive("pair_rate_hz", self.pair_rate_hz))
        check_one_of("decoy", self.decoy, ("vacuum-weak", "infinite"))
        put("mu", check_in_range("mu", self.mu, 0.0, 1.0, lo_open=True))
        put("nu", check_in_range("nu", self.nu, 0.0, self.mu, lo_open=True, hi_open=True))
        put("p_z", check_in_range("p_z", self.p_z, 0.0, 1.0, lo_open=True, hi_open=True))
        put("f_ec", check_in_range("f_ec", self.f_ec, 1.0, 2.0))
        put("memory_efficiency", check_in_range("memory_efficiency", self.memory_efficiency, 0.0, 1.0))
        put("coherence_time_s", check_non_negative("coherence_time_s", self.coherence_time_s))

    @property
    def sifting(self) -> float:
        """q = p_Z^2 + p_X^2."""
        return self.p_z**2 + (1.0 - self.p_z) ** 2

    def to_dict(self) -> dict[str, Any]:
        """The fields as a dict."""
        return dataclasses.asdict(self)


def _core(eta_c, eta_d, y0, e_d):
    eta = np.asarray(eta_c, dtype=float) * np.asarray(eta_d, dtype=float)
    y0 = np.asarray(y0, dtype=float)
    p = eta + (1.0 - eta) * y0
    s = np.divide(eta, p, out=np.zeros_like(p), where=p > 0)
    d = s * (1.0 - 2.0 * np.asarray(e_d, dtype=float))
    return eta, p, d


def _merits(eta_c, eta_d, y0, e_d, services: ServiceModel) -> dict[str, np.ndarray]:
    eta, p, d = _core(eta_c, eta_d, y0, e_d)
    qber = (1.0 - d) / 2.0
    q = services.sifting
    if services.decoy == "vacuum-weak":
        dec = decoy_key_rate_vacuum_weak(mu=services.mu, nu=services.nu, eta=eta, y0=y0, e_d=e_d, q=q,
                                         f_ec=services.f_ec)
    else:
        dec = decoy_key_rate_infinite(mu=services.mu, eta=eta, y0=y0, e_d=e_d, q=q, f_ec=services.f_ec)
    frac = np.asarray(bb84_asymptotic_fraction(qber, qber, f_ec=services.f_ec), dtype=float)
    return {"total_transmittance": eta, "detection_probability": p, "visibility": d,
            "fidelity": (1.0 + 3.0 * d) / 4.0, "qber": qber,
            "key_rate_bps": services.pulse_rate_hz * np.asarray(dec, dtype=float),
            "bb84_rate_per_pulse": p * q * frac, "pair_rate_hz": services.pair_rate_hz * p}


def edge_merits(edges: Any, services: ServiceModel) -> dict[str, np.ndarray]:
    """Figures of merit of every row of an :class:`~qproto.network.EdgeTable` (see module docstring).

    Returns:
        ``{name: array}`` with ``total_transmittance``, ``detection_probability``,
        ``visibility``, ``fidelity``, ``qber``, ``key_rate_bps`` [bit/s],
        ``bb84_rate_per_pulse`` [bit/pulse], ``pair_rate_hz`` [pairs/s].
    """
    if len(edges) == 0:
        return {k: np.empty(0) for k in ("total_transmittance", "detection_probability", "visibility", "fidelity",
                                         "qber", "key_rate_bps", "bb84_rate_per_pulse", "pair_rate_hz")}
    return _merits(edges.transmittance, edges.detector_efficiency, edges.noise_click, edges.misalignment, services)


def channel_merits(channel: Channel, services: ServiceModel) -> dict[str, float]:
    """:func:`edge_merits` of one unrotated, undepolarised Channel (scalars)."""
    m = _merits(channel.transmittance, channel.detector_efficiency, channel.noise_click, channel.misalignment,
                services)
    return {k: float(v) for k, v in m.items()}


def werner_chain_fidelity(visibilities: Sequence[float]) -> float:
    """Fidelity (1 + 3 prod V_i)/4 of a swapped chain of Werner pairs (docs/conventions.md A11)."""
    v = [check_in_range("visibility", x, -1.0 / 3.0, 1.0) for x in visibilities]
    return (1.0 + 3.0 * math.prod(v)) / 4.0


def swapped_chain(rates_hz: Sequence[float], visibilities: Sequence[float], services: ServiceModel,
                  detection_probabilities: Sequence[float] | None = None) -> dict[str, float]:
    """Delivered rate, visibility and fidelity of a chain of elementary pairs (module docstring).

    Args:
        rates_hz: each link's heralded pair rate [pairs/s], >= 0.
        visibilities: each link's Werner visibility.
        services: the memory model (``memory_efficiency``, ``coherence_time_s``) and pair rate.
        detection_probabilities: each link's heralding probability per attempt (needed only
            without memories; default ``rate / pair_rate_hz``).

    Returns:
        ``{"rate_hz", "visibility", "fidelity", "n_links"}``.
    """
    r = [check_non_negative("rate_hz", x) for x in rates_hz]
    v = list(visibilities)
    n = len(r)
    if n == 0 or len(v) != n:
        from qproto._errors import InvalidParameter
        raise InvalidParameter("visibilities", v, f"{n} >= 1 values, one per link")
    if n == 1:
        return {"rate_hz": r[0], "visibility": float(v[0]), "fidelity": werner_chain_fidelity(v), "n_links": 1}
    if services.coherence_time_s == 0.0:
        p = detection_probabilities if detection_probabilities is not None else [x / services.pair_rate_hz for x in r]
        rate = services.pair_rate_hz * math.prod(p)
        vis = math.prod(v)
    else:
        r_min = min(r)
        rate = r_min * services.memory_efficiency ** (n - 1)
        decay = math.exp(-(n - 1) / (r_min * services.coherence_time_s)) if r_min > 0 else 0.0
        vis = math.prod(v) * decay
    return {"rate_hz": rate, "visibility": vis, "fidelity": (1.0 + 3.0 * vis) / 4.0, "n_links": n}


def dual_downlink(ch_a: Channel, ch_b: Channel, services: ServiceModel) -> dict[str, float]:
    """A midpoint source sending one half to each end (docs/conventions.md A3): pairs/s, V, F, and the
    BBM92 figures (``qber``, ``key_rate_bps``) of the coincidences."""
    _, pa, da = _core(ch_a.transmittance, ch_a.detector_efficiency, ch_a.noise_click, ch_a.misalignment)
    _, pb, db = _core(ch_b.transmittance, ch_b.detector_efficiency, ch_b.noise_click, ch_b.misalignment)
    det, vis = float(pa * pb), float(da * db)
    e = (1.0 - vis) / 2.0
    frac = float(bb84_asymptotic_fraction(e, e, f_ec=services.f_ec))
    return {"detection_probability": det, "rate_hz": services.pair_rate_hz * det, "visibility": vis,
            "fidelity": (1.0 + 3.0 * vis) / 4.0, "qber": e,
            "key_rate_bps": services.pair_rate_hz * det * services.sifting * frac}


def mdi_link(ch_a: Channel, ch_b: Channel, services: ServiceModel) -> dict[str, float]:
    """MDI-QKD through a relay between two channels (single photons, full BSM; module docstring)."""
    _, pa, da = _core(ch_a.transmittance, ch_a.detector_efficiency, ch_a.noise_click, ch_a.misalignment)
    _, pb, db = _core(ch_b.transmittance, ch_b.detector_efficiency, ch_b.noise_click, ch_b.misalignment)
    det = float(pa * pb)
    e = (1.0 - float(da * db)) / 2.0
    frac = float(bb84_asymptotic_fraction(e, e, f_ec=services.f_ec))
    per_pulse = det * services.sifting * frac
    return {"detection_probability": det, "qber": e, "key_rate_per_pulse": per_pulse,
            "key_rate_bps": services.pulse_rate_hz * per_pulse}
