"""Decoy-state BB84 over a whole satellite pass, streamed slot by slot.

A pass is a sequence of time slots (for example 1 s each), each with its own
:class:`~qproto.Channel` (from :meth:`qproto.noise_models.Link.pass_channels` or any
sequence of channels). :func:`simulate_pass` sends ``source_rate_hz x slot_s`` pulses
per slot with :meth:`DecoyBB84.sample_counts
<qproto.protocols.DecoyBB84.sample_counts>`: counts first (multinomial over the 24
intensity/basis/bit cells, binomial signal and noise clicks per cell), then one
outcome per *click* from the compiled Aer circuits. That is exactly the distribution
of per-pulse sampling (pulses are i.i.d.), and costs O(clicks) time and O(1) memory
per slot, so a 200 s pass at 200 MHz (4e10 pulses) takes well under a second per
pointing level. The circuits are compiled once per distinct qubit noise
(depolarisation and misalignment), not once per slot.

The result keeps the tallies of every slot, so the key length against the
half-window of the pass (slots with ``|t| <= half_window``, t = 0 at culmination)
is read off without simulating again: :meth:`DecoyPassResult.window`.
:func:`pass_key_curve` goes further, as seed 001's Fig. 2 does: for each half-window
it optimises the protocol parameters for that window (expected counts,
:func:`qproto.security.optimise_decoy_parameters`), then simulates the window with
them and reports the simulated and the expected finite key.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np

from qproto._channel import Channel
from qproto._engine import CompiledConfigurations, Engine
from qproto._errors import InvalidParameter, InvalidType
from qproto._results import DEFAULT_CONFIDENCE, Estimate, ProtocolResult
from qproto._seeding import SeedLike, chunk_aer_seed, chunk_generator, root_seed
from qproto._validation import check_in_range, check_int, check_positive
from qproto.protocols._decoy_bb84 import DecoyBB84, DecoyBB84Result, DecoyTallies, _noise_yield
from qproto.security._finite_key import DecoyCounts, expected_decoy_counts
from qproto.security._optimise import DecoyParameters, OptimisedDecoy, optimise_decoy_parameters

__all__ = ["DecoyPassResult", "PassKeyRow", "PassKeyCurve", "simulate_pass", "expected_pass_counts",
           "pass_key_curve", "link_pass_channels"]

#: progress(slots_done, slots_total)
PassProgress = Callable[[int, int], None]


@dataclasses.dataclass(frozen=True, kw_only=True)
class DecoyPassResult(ProtocolResult):
    """Tallies of a decoy-state BB84 pass, slot by slot.

    Attributes:
        channels: the channel of each slot.
        time_s: centre time of each slot [s], 0 at culmination.
        slot_s: slot duration [s].
        source_rate_hz: pulses per second.
        slot_counts: the tallies of each slot.
        confidence: confidence level of intervals.

    ``rounds`` is the total number of pulses. :meth:`estimates` are those of the
    whole pass (:meth:`window` with an infinite half-window).
    """

    TYPE: ClassVar[str] = "DecoyPassResult"
    #: Two simulations of the same pass (different seeds) add slot by slot.
    ADDITIVE: ClassVar[tuple[str, ...]] = ("slot_counts",)

    time_s: tuple[float, ...]
    slot_s: float
    source_rate_hz: float
    slot_counts: tuple[DecoyTallies, ...]
    confidence: float = DEFAULT_CONFIDENCE

    def __post_init__(self) -> None:
        super().__post_init__()
        if not (len(self.time_s) == len(self.slot_counts) == len(self.channels)):
            raise InvalidParameter("slot_counts", len(self.slot_counts),
                                   f"one per slot ({len(self.time_s)} times, {len(self.channels)} channels)")

    def window(self, half_window_s: float = math.inf) -> DecoyBB84Result:
        """Merged result of the slots with ``|time_s| <= half_window_s`` (seconds, >= 0)."""
        hw = math.inf if half_window_s == math.inf else check_in_range("half_window_s", half_window_s, 0.0, math.inf)
        idx = [i for i, t in enumerate(self.time_s) if abs(t) <= hw + 1e-9]
        counts = DecoyTallies.from_matrix(sum((self.slot_counts[i].to_matrix() for i in idx),
                                              np.zeros((8, 3), dtype=np.int64)))
        return DecoyBB84Result(protocol=self.protocol, parameters=self.parameters,
                               channels=tuple(self.channels[i] for i in idx), rounds=int(sum(counts.sent)),
                               seed=self.seed, seeds=self.seeds, counts=counts, confidence=self.confidence)

    def key_length(self, half_window_s: float = math.inf) -> float:
        """Finite secret-key length in bits of the slots within the half-window."""
        return self.window(half_window_s).finite_key_length

    LABELS: ClassVar[dict[str, str]] = DecoyBB84Result.LABELS

    def estimates(self) -> dict[str, Estimate | float | int | None]:
        return self.window().estimates()


def _slots(channels: Sequence[Channel], time_s: Sequence[float] | None, slot_s: float, source_rate_hz: float
           ) -> tuple[tuple[Channel, ...], tuple[float, ...], int]:
    if isinstance(channels, Channel) or not isinstance(channels, (list, tuple)):
        raise InvalidType("channels", channels, "a sequence of qproto.Channel (one per slot)")
    chans = tuple(channels)
    if not chans:
        raise InvalidParameter("channels", chans, "at least one slot")
    for i, c in enumerate(chans):
        if not isinstance(c, Channel):
            raise InvalidType(f"channels[{i}]", c, "a qproto.Channel")
    slot_s = check_positive("slot_s", slot_s)
    rate = check_positive("source_rate_hz", source_rate_hz)
    if time_s is None:  # centred on the middle slot
        times = tuple((i - (len(chans) - 1) / 2.0) * slot_s for i in range(len(chans)))
    else:
        times = tuple(float(t) for t in np.asarray(time_s, dtype=float).ravel())
        if len(times) != len(chans) or not all(math.isfinite(t) for t in times):
            raise InvalidParameter("time_s", time_s, f"{len(chans)} finite times, one per channel")
    pulses = int(round(rate * slot_s))
    if pulses < 1:
        raise InvalidParameter("source_rate_hz", source_rate_hz, f"at least one pulse per slot of {slot_s} s")
    return chans, times, pulses


def simulate_pass(protocol: DecoyBB84, channels: Sequence[Channel], *, source_rate_hz: float,
                  slot_s: float = 1.0, time_s: Sequence[float] | None = None, seed: SeedLike = None,
                  engine: Engine | None = None, progress: PassProgress | None = None) -> DecoyPassResult:
    """Simulate a pass slot by slot (module docs).

    Args:
        protocol: the :class:`~qproto.protocols.DecoyBB84` instance (its parameters).
        channels: one :class:`~qproto.Channel` per slot.
        source_rate_hz: pulse rate [Hz], > 0; each slot sends ``round(source_rate_hz * slot_s)`` pulses.
        slot_s: slot duration [s], > 0.
        time_s: centre time of each slot [s] with 0 at culmination (default: centred on the
            middle slot, ``slot_s`` apart).
        seed: root seed; slot ``i`` draws from chunk generator ``i`` of it.
        engine: execution settings (``chunk_size`` bounds the clicks sampled at once).
        progress: ``progress(slots_done, slots_total)`` after each slot.

    Returns:
        :class:`DecoyPassResult`.

    Raises:
        InvalidParameter: a non-positive rate or slot, mismatched ``time_s``.
        InvalidType: ``protocol`` is not a DecoyBB84, or a channel is not a Channel.
    """
    if not isinstance(protocol, DecoyBB84):
        raise InvalidType("protocol", protocol, "a qproto.protocols.DecoyBB84")
    chans, times, pulses = _slots(channels, time_s, slot_s, source_rate_hz)
    root = root_seed(seed)
    engine = Engine() if engine is None else engine
    if not isinstance(engine, Engine):
        raise InvalidType("engine", engine, "a qproto.Engine")
    compiled: dict[float, CompiledConfigurations] = {}
    counts = []
    for i, ch in enumerate(chans):
        key = ch.qubit_depolarisation  # the circuits' noise depends on nothing else
        if key not in compiled:
            compiled[key] = engine.compile(protocol.build_circuits(), protocol.noise_model((ch,)))
        counts.append(protocol.sample_counts(compiled[key], ch, pulses, chunk_generator(root, i),
                                             block=engine.chunk_size, aer_seed=chunk_aer_seed(root, i)))
        if progress is not None:
            progress(i + 1, len(chans))
    return DecoyPassResult(protocol=protocol.name, parameters=protocol.parameters(), channels=chans,
                           rounds=pulses * len(chans), seed=root, time_s=times, slot_s=float(slot_s),
                           source_rate_hz=float(source_rate_hz), slot_counts=tuple(counts))


def _channel_arrays(protocol: DecoyBB84, chans: Sequence[Channel]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(eta, Y0_eff, e_d) per slot in the PHYSICS.md A2 model: e_d = qubit depolarisation / 2."""
    params = protocol.parameters()
    eta = np.array([c.total_transmittance for c in chans])
    y0 = np.array([_noise_yield(c, params) for c in chans])
    e_d = np.minimum(np.array([c.qubit_depolarisation / 2.0 for c in chans]), 0.5)
    return eta, y0, e_d


def expected_pass_counts(protocol: DecoyBB84, channels: Sequence[Channel], *, source_rate_hz: float,
                         slot_s: float = 1.0) -> DecoyCounts:
    """Expected sifted counts and errors per intensity, summed over the slots.

    :func:`qproto.security.expected_decoy_counts` per slot (gain Q_k = Y0 + 1 - exp(-eta mu_k),
    which differs from the simulated 1 - (1 - Y0) exp(-eta mu_k) by at most Y0 eta mu_k).
    """
    if not isinstance(protocol, DecoyBB84):
        raise InvalidType("protocol", protocol, "a qproto.protocols.DecoyBB84")
    chans, _, pulses = _slots(channels, None, slot_s, source_rate_hz)
    eta, y0, e_d = _channel_arrays(protocol, chans)
    c = expected_decoy_counts(n_pulses=float(pulses), eta=eta, y0=y0, e_d=e_d, p_z=protocol.p_z,
                              intensities=protocol.intensities, probabilities=protocol.probabilities)
    return DecoyCounts(n_z=c.n_z.sum(axis=1), n_x=c.n_x.sum(axis=1), m_z=c.m_z.sum(axis=1), m_x=c.m_x.sum(axis=1))


# ---- the key against the half-window --------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class PassKeyRow:
    """One half-window of :class:`PassKeyCurve`.

    Attributes:
        half_window_s: the half-window [s] (slots with |t| <= it).
        pulses: pulses sent in the window.
        result: the simulated window (:class:`~qproto.protocols.DecoyBB84Result`).
        expected_key_length: the finite key of the expected counts, bits.
        optimum: the optimisation (``None`` when parameters were fixed).
    """

    half_window_s: float
    pulses: int
    result: DecoyBB84Result
    expected_key_length: float
    optimum: OptimisedDecoy | None

    @property
    def key_length(self) -> float:
        """Simulated finite key length, bits."""
        return self.result.finite_key_length

    def to_dict(self) -> dict[str, Any]:
        r = self.result
        return {"half_window_s": self.half_window_s, "pulses": self.pulses,
                "sifted_z": r.sifted_z, "qber_z": r.qber_z.best if r.sifted_z else None,
                "key_length": self.key_length, "expected_key_length": self.expected_key_length,
                "parameters": {k: list(v) if isinstance(v, tuple) else v for k, v in r.parameters.items()}}


@dataclasses.dataclass(frozen=True)
class PassKeyCurve:
    """Finite key against the half-window of one pass (seed 001 Fig. 2 style).

    Attributes:
        rows: one :class:`PassKeyRow` per half-window, in increasing order.
        source_rate_hz: pulses per second.
        slot_s: slot duration [s].
        seed: the root seed.
    """

    rows: tuple[PassKeyRow, ...]
    source_rate_hz: float
    slot_s: float
    seed: int

    def to_dict(self) -> dict[str, Any]:
        return {"source_rate_hz": self.source_rate_hz, "slot_s": self.slot_s, "seed": self.seed,
                "rows": [r.to_dict() for r in self.rows]}


def pass_key_curve(channels: Sequence[Channel], *, half_windows_s: Sequence[float], source_rate_hz: float,
                   slot_s: float = 1.0, time_s: Sequence[float] | None = None,
                   protocol: DecoyBB84 | None = None, optimise: bool = True, n_starts: int = 4,
                   seed: SeedLike = None, engine: Engine | None = None,
                   progress: PassProgress | None = None) -> PassKeyCurve:
    """Finite key against the half-window, parameters optimised per window (as seed 001 does).

    For each half-window (in increasing order): the slots with ``|t| <= half-window``; with
    ``optimise``, the parameters maximising the expected finite key of exactly those slots
    (:func:`qproto.security.optimise_decoy_parameters`, warm-started from the previous
    window's optimum, ``n_starts`` starts); then the window is simulated with them
    (:func:`simulate_pass`) and the finite key computed from the simulated counts.

    Args:
        channels: one Channel per slot.
        half_windows_s: half-windows [s], each >= 0.
        source_rate_hz: pulse rate [Hz], > 0.
        slot_s: slot duration [s], > 0.
        time_s: slot centre times (default centred, ``slot_s`` apart).
        protocol: a DecoyBB84 with the fixed parameters (eps, f_EC, ...) and, without
            ``optimise``, the intensities too (default ``DecoyBB84()``).
        optimise: optimise intensities, probabilities and p_Z per window.
        n_starts: starts of each optimisation (>= 1).
        seed: root seed; window ``w`` is simulated with a seed derived from ``(seed, w)``.
        engine: execution settings.
        progress: ``progress(slots_done, slots_total)`` over all windows.

    Returns:
        :class:`PassKeyCurve`.
    """
    protocol = DecoyBB84() if protocol is None else protocol
    if not isinstance(protocol, DecoyBB84):
        raise InvalidType("protocol", protocol, "a qproto.protocols.DecoyBB84")
    chans, times, pulses = _slots(channels, time_s, slot_s, source_rate_hz)
    hws = sorted(check_in_range(f"half_windows_s[{i}]", h, 0.0, math.inf) for i, h in enumerate(half_windows_s))
    if not hws:
        raise InvalidParameter("half_windows_s", half_windows_s, "at least one half-window")
    n_starts = check_int("n_starts", n_starts, minimum=1)
    root = root_seed(seed)
    t = np.asarray(times)
    selections = [np.flatnonzero(np.abs(t) <= h + 1e-9) for h in hws]
    total = sum(len(s) for s in selections)
    done = 0
    rows = []
    previous: DecoyParameters | None = None
    for w, (h, sel) in enumerate(zip(hws, selections)):
        if sel.size == 0:
            raise InvalidParameter(f"half_windows_s[{w}]", h, f"a half-window holding at least one slot "
                                   f"(slot times {t.min():g} .. {t.max():g} s)")
        sub = [chans[i] for i in sel]
        eta, y0, e_d = _channel_arrays(protocol, sub)
        proto, opt = protocol, None
        if optimise:
            opt = optimise_decoy_parameters(
                n_pulses=float(pulses), eta=eta, y0=y0, e_d=e_d, eps_sec=protocol.eps_sec,
                eps_cor=protocol.eps_cor, f_ec=protocol.f_ec, ec_leakage=protocol.ec_leakage,
                mu3=protocol.intensities[2], n_starts=n_starts, initial=() if previous is None else (previous,),
                seed=w)
            previous = opt.parameters
            proto = protocol.replace(**opt.parameters.as_kwargs())
            expected = opt.key_length
        else:
            from qproto.security._optimise import pass_finite_key
            expected = float(pass_finite_key(
                DecoyParameters(protocol.intensities, protocol.probabilities, protocol.p_z),
                n_pulses=float(pulses), eta=eta, y0=y0, e_d=e_d, eps_sec=protocol.eps_sec,
                eps_cor=protocol.eps_cor, f_ec=protocol.f_ec, ec_leakage=protocol.ec_leakage).ell)
        wseed = int(np.random.SeedSequence(root, spawn_key=(w,)).generate_state(2, dtype=np.uint64)[0] >> 1)
        base = done

        def sub_progress(k: int, _n: int, base: int = base) -> None:
            if progress is not None:
                progress(base + k, total)

        res = simulate_pass(proto, sub, source_rate_hz=source_rate_hz, slot_s=slot_s,
                            time_s=[times[i] for i in sel], seed=wseed, engine=engine, progress=sub_progress)
        done += len(sel)
        rows.append(PassKeyRow(half_window_s=float(h), pulses=res.rounds, result=res.window(),
                               expected_key_length=float(expected), optimum=opt))
    return PassKeyCurve(rows=tuple(rows), source_rate_hz=float(source_rate_hz), slot_s=float(slot_s), seed=root)


def link_pass_channels(link: Any, *, pointing: str | None = None, slot_s: float = 1.0,
                       max_half_window_s: float | None = None) -> tuple[tuple[Channel, ...], np.ndarray]:
    """The per-slot channels and slot times [s] of a link preset's pass.

    Args:
        link: a preset name (``"leo-haps"``) or a :class:`qproto.noise_models.Link`.
        pointing: ``"weak"``, ``"moderate"`` or ``"strong"`` to set the link's pointing jitter
            (:func:`qproto.noise_models.pointing_jitter_rad`), or ``None`` to keep it.
        slot_s: slot duration [s] (the pass's time step), > 0.
        max_half_window_s: keep only |t| <= this [s] (default: the whole pass above the mask).

    Returns:
        ``(channels, time_s)``: one Channel per slot and the slot times (0 at culmination).

    Raises:
        InvalidParameter: unknown preset or pointing level (from the link registry).
    """
    from qproto import noise_models

    if isinstance(link, str):
        if not hasattr(noise_models, "get_link"):
            raise InvalidParameter("link", link, "a link preset",
                                   "link presets are not available (qproto.noise_models.get_link is missing)")
        link = noise_models.get_link(link)
    if pointing is not None:
        link = link.replace(pointing_jitter_rad=noise_models.pointing_jitter_rad(pointing))
    kw = {} if max_half_window_s is None else {"max_half_window_s": check_positive("max_half_window_s",
                                                                                   max_half_window_s)}
    pc = link.pass_channels(time_step_s=check_positive("slot_s", slot_s), **kw)
    return tuple(pc.channels), np.asarray(pc.time_s, dtype=float)
