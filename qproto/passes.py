"""Decoy-state BB84 over a whole satellite pass: the public pass API.

A pass is a sequence of time slots (for example 1 s each), each with its own
:class:`~qproto.Channel` and centre time (0 at culmination). Any sequence of Channels
with times will do; :func:`link_pass` builds one from a link preset or a
:class:`qproto.noise_models.Link` (circular orbit), and :meth:`LinkPass.from_pass_channels`
from any :class:`qproto.noise_models.PassChannels` (for example a TLE pass).

* :func:`simulate_pass` sends ``source_rate_hz x slot_s`` pulses per slot with
  :meth:`DecoyBB84.sample_counts <qproto.protocols.DecoyBB84.sample_counts>`: counts
  first (multinomial over the 24 intensity/basis/bit cells, binomial signal and noise
  clicks per cell, the 1s of a cell's signal clicks from the compiled Aer circuits'
  exact outcome distribution). That is exactly the distribution of per-pulse sampling
  (pulses are i.i.d.) at a cost independent of the number of pulses. The circuits are
  compiled once per distinct qubit noise (depolarisation, misalignment, rotation).
* :func:`pass_key_curve` computes the finite key against the half-window of the pass
  (slots with ``|t| <= half_window``), as seed 001's Fig. 2 does: for each half-window
  the protocol parameters are optimised for that window on expected counts
  (:func:`qproto.security.optimise_decoy_parameters`, warm-started from the previous
  window), the window is simulated with them, and the simulated and the expected finite
  key are reported. A window whose optimum has no key says so (:attr:`PassKeyRow.has_key`)
  instead of reporting meaningless parameters.
* The finite key uses :attr:`DecoyBB84.tails <qproto.protocols.DecoyBB84>`; the pass
  functions' default protocol is ``DecoyBB84(tails="chernoff")`` (per-class Chernoff
  bounds, as seed 001's reference [8] computes its Fig. 2).

Afterpulsing is a detector property: a :class:`LinkPass` carries its link's
``Detector.afterpulse_probability``, which :func:`pass_key_curve` and
:func:`simulate_pass` give to the protocol.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np

from qproto._channel import Channel
from qproto._engine import Engine
from qproto._errors import InvalidParameter, InvalidType
from qproto._results import DEFAULT_CONFIDENCE, Estimate, ProtocolResult, merged_seeds
from qproto._seeding import SeedLike, chunk_aer_seed, chunk_generator, root_seed
from qproto._validation import check_in_range, check_int, check_positive
from qproto.protocols._decoy_bb84 import DecoyBB84, DecoyBB84Result, DecoyTallies
from qproto.security import (
    DecoyCounts,
    DecoyParameters,
    OptimisedDecoy,
    afterpulse_noise_yield,
    expected_decoy_counts,
    optimise_decoy_parameters,
    pass_finite_key,
)

__all__ = ["DecoyPassResult", "LinkPass", "PassKeyRow", "PassKeyCurve", "simulate_pass", "expected_pass_counts",
           "pass_key_curve", "link_pass", "link_pass_channels", "slot_arrays"]

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

    def __add__(self, other: DecoyPassResult) -> DecoyPassResult:
        """Merge two passes.

        The same pass again (same channels, slot times, slot length, rate and parameters; a
        different seed) adds slot by slot: more data on the same slots. A different pass (for
        example the next TLE pass over the site) is appended: its slots, with their own
        channels and times (each pass's times are relative to its own culmination), follow
        this one's, so :meth:`window` takes the slots within the half-window of every pass.
        Seeds must differ either way (the same seed is the same sample).
        """
        if type(other) is not type(self):
            return NotImplemented
        if (self.channels, self.time_s) == (other.channels, other.time_s):
            return super().__add__(other)
        for name in ("protocol", "parameters", "slot_s", "source_rate_hz", "confidence", "eavesdropper"):
            a, b = getattr(self, name), getattr(other, name)
            if a != b:
                raise InvalidParameter(name, b, f"equal to {a!r}", f"cannot append a pass with different {name}")
        return dataclasses.replace(self, channels=self.channels + other.channels, time_s=self.time_s + other.time_s,
                                   slot_counts=self.slot_counts + other.slot_counts,
                                   rounds=self.rounds + other.rounds, seeds=merged_seeds(self.seeds, other.seeds))

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


#: Most pulses in one slot (source rate x slot length); also the CLI's limit.
MAX_PULSES_PER_SLOT = 1e13


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
    if rate * slot_s > MAX_PULSES_PER_SLOT:
        raise InvalidParameter("source_rate_hz", source_rate_hz,
                               f"source_rate_hz x slot_s <= {MAX_PULSES_PER_SLOT:g} pulses per slot",
                               f"source_rate_hz={source_rate_hz!r} with slot_s={slot_s!r} sends {rate * slot_s:.3g} "
                               f"pulses per slot; at most {MAX_PULSES_PER_SLOT:g} are allowed (the multinomial "
                               f"draws of a slot count in 64-bit integers)")
    pulses = int(round(rate * slot_s))
    if pulses < 1:
        raise InvalidParameter("source_rate_hz", source_rate_hz, f"at least one pulse per slot of {slot_s} s")
    return chans, times, pulses



def _noise_key(ch: Channel) -> tuple:
    """What the circuits' noise model depends on (qubit noise and rotation, not loss or noise clicks)."""
    return (ch.qubit_depolarisation, ch.rotation_rad, tuple(float(a) for a in ch.rotation_axis))


def _compiled(protocol: DecoyBB84, chans: Sequence[Channel], engine: Engine, cache: dict) -> list:
    """The compiled circuits of each channel, compiled once per distinct qubit noise (``cache``)."""
    out = []
    for ch in chans:
        key = _noise_key(ch)
        if key not in cache:
            cache[key] = engine.compile(protocol.build_circuits(), protocol.noise_model((ch,)))
        out.append(cache[key])
    return out


def _simulate_cells(protocol: DecoyBB84, chans: Sequence[Channel], pulses: int, root: int, engine: Engine,
                    cache: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-slot cell counts (slots, 24) of ``chans``, all drawn from chunk generator 0 of ``root``."""
    return protocol.sample_slot_cells(_compiled(protocol, chans, engine, cache), chans, pulses,
                                      chunk_generator(root, 0), block=engine.chunk_size,
                                      aer_seed=chunk_aer_seed(root, 0))


def _window_result(protocol: DecoyBB84, chans: Sequence[Channel], cells: tuple, rows: np.ndarray, pulses: int,
                   seed: int) -> DecoyBB84Result:
    counts = DecoyTallies.from_cells(*(c[rows].sum(axis=0) for c in cells))
    return DecoyBB84Result(protocol=protocol.name, parameters=protocol.parameters(),
                           channels=tuple(chans[i] for i in rows), rounds=pulses * len(rows), seed=seed,
                           counts=counts)


def _resolve(protocol: DecoyBB84 | None, channels: Any, time_s: Any, *, required: bool = False
             ) -> tuple[DecoyBB84, Any, Any]:
    """The protocol (default ``DecoyBB84(tails="chernoff")``) and, for a LinkPass, its slots, times and
    detector afterpulsing."""
    if protocol is None:
        if required:
            raise InvalidType("protocol", protocol, "a qproto.protocols.DecoyBB84")
        protocol = DecoyBB84(tails="chernoff")
    if not isinstance(protocol, DecoyBB84):
        raise InvalidType("protocol", protocol, "a qproto.protocols.DecoyBB84")
    if isinstance(channels, LinkPass):
        if time_s is not None:
            raise InvalidParameter("time_s", time_s, "None with a LinkPass (it has its own slot times)")
        ap = channels.afterpulse_probability
        if ap != protocol.afterpulse_probability:
            if protocol.afterpulse_probability != 0.0:
                raise InvalidParameter("protocol.afterpulse_probability", protocol.afterpulse_probability,
                                       f"0 or the link detector's {ap!r}",
                                       f"the protocol's afterpulse_probability={protocol.afterpulse_probability!r} "
                                       f"contradicts the link detector's {ap!r}; change one of them")
            protocol = protocol.replace(afterpulse_probability=ap)
        return protocol, channels.channels, channels.time_s
    return protocol, channels, time_s


def simulate_pass(protocol: DecoyBB84, channels: Sequence[Channel] | LinkPass, *, source_rate_hz: float,
                  slot_s: float = 1.0, time_s: Sequence[float] | None = None, seed: SeedLike = None,
                  engine: Engine | None = None, progress: PassProgress | None = None) -> DecoyPassResult:
    """Simulate a pass slot by slot (module docs).

    Args:
        protocol: the :class:`~qproto.protocols.DecoyBB84` instance (its parameters).
        channels: one :class:`~qproto.Channel` per slot, or a :class:`LinkPass` (its slot
            times and its detector's afterpulse probability are then used, see :func:`pass_key_curve`).
        source_rate_hz: pulse rate [Hz], > 0; each slot sends ``round(source_rate_hz * slot_s)`` pulses.
        slot_s: slot duration [s], > 0.
        time_s: centre time of each slot [s] with 0 at culmination (default: centred on the
            middle slot, ``slot_s`` apart).
        seed: root seed; the slots are drawn in order from chunk generator 0 of it
            (:meth:`DecoyBB84.sample_slot_cells <qproto.protocols.DecoyBB84.sample_slot_cells>`).
        engine: execution settings (``chunk_size`` bounds the clicks sampled at once off the
            distribution path).
        progress: ``progress(slots_done, slots_total)`` when the slots are drawn.

    Returns:
        :class:`DecoyPassResult`.

    Raises:
        InvalidParameter: a non-positive rate or slot, mismatched ``time_s``.
        InvalidType: ``protocol`` is not a DecoyBB84, or a channel is not a Channel.
    """
    protocol, channels, time_s = _resolve(protocol, channels, time_s, required=True)
    chans, times, pulses = _slots(channels, time_s, slot_s, source_rate_hz)
    root = root_seed(seed)
    engine = Engine() if engine is None else engine
    if not isinstance(engine, Engine):
        raise InvalidType("engine", engine, "a qproto.Engine")
    cells = _simulate_cells(protocol, chans, pulses, root, engine, {})
    counts = [DecoyTallies.from_cells(*(c[i] for c in cells)) for i in range(len(chans))]
    if progress is not None:
        progress(len(chans), len(chans))
    return DecoyPassResult(protocol=protocol.name, parameters=protocol.parameters(), channels=chans,
                           rounds=pulses * len(chans), seed=root, time_s=times, slot_s=float(slot_s),
                           source_rate_hz=float(source_rate_hz), slot_counts=tuple(counts))


def slot_arrays(channels: Sequence[Channel]) -> dict[str, np.ndarray]:
    """Per-slot inputs of the expected-count model (docs/conventions.md A2), one value per channel.

    Returns:
        ``eta`` (end-to-end transmittance), ``y0`` (noise-click probability without
        afterpulsing), ``e_d_z`` and ``e_d_x``: the error probability of a signal click in
        the Z and X basis, e_m = (1 - (1 - p_q) R_mm)/2 with p_q the qubit depolarisation and
        R the channel's rotation (so a coherent rotation makes E_X != E_Z, as the sampler does).
    """
    chans = tuple(channels)
    for i, c in enumerate(chans):
        if not isinstance(c, Channel):
            raise InvalidType(f"channels[{i}]", c, "a qproto.Channel")
    keep = np.array([1.0 - c.qubit_depolarisation for c in chans])
    rot = np.array([np.diag(c.rotation_matrix) for c in chans]).reshape(len(chans), 3)
    return {"eta": np.array([c.total_transmittance for c in chans], dtype=float),
            "y0": np.array([c.noise_click for c in chans], dtype=float),
            "e_d_z": np.clip((1.0 - keep * rot[:, 2]) / 2.0, 0.0, 0.5),
            "e_d_x": np.clip((1.0 - keep * rot[:, 0]) / 2.0, 0.0, 0.5)}


def expected_pass_counts(protocol: DecoyBB84, channels: Sequence[Channel] | LinkPass, *, source_rate_hz: float,
                         slot_s: float = 1.0) -> DecoyCounts:
    """Expected sifted counts and errors per intensity, summed over the slots.

    :func:`qproto.security.expected_decoy_counts` per slot (gain Q_k = Y0 + 1 - exp(-eta mu_k),
    which differs from the simulated 1 - (1 - Y0) exp(-eta mu_k) by at most Y0 eta mu_k), with the
    protocol's afterpulsing and each basis's misalignment (:func:`slot_arrays`).
    """
    protocol, channels, _ = _resolve(protocol, channels, None, required=True)
    chans, _, pulses = _slots(channels, None, slot_s, source_rate_hz)
    a = slot_arrays(chans)
    y0 = afterpulse_noise_yield(y0=a["y0"], eta=a["eta"], intensities=protocol.intensities,
                                probabilities=protocol.probabilities,
                                afterpulse_probability=protocol.afterpulse_probability)
    c = expected_decoy_counts(n_pulses=float(pulses), eta=a["eta"], y0=y0, e_d=a["e_d_z"], e_d_x=a["e_d_x"],
                              p_z=protocol.p_z, intensities=protocol.intensities,
                              probabilities=protocol.probabilities)
    return DecoyCounts(n_z=c.n_z.sum(axis=1), n_x=c.n_x.sum(axis=1), m_z=c.m_z.sum(axis=1), m_x=c.m_x.sum(axis=1))


# ---- the key against the half-window --------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class PassKeyRow:
    """One half-window of :class:`PassKeyCurve`.

    Attributes:
        half_window_s: the half-window [s] (slots with |t| <= it).
        pulses: pulses sent in the window.
        result: the simulated window (:class:`~qproto.protocols.DecoyBB84Result`; its
            ``parameters`` are those it was simulated with).
        expected_key_length: the finite key of the expected counts with those parameters, bits.
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

    @property
    def has_key(self) -> bool:
        """Whether the expected key of the window is positive. When False the window has "no key":
        no parameters give one, and those it was simulated with (the least bad point) mean nothing."""
        return self.expected_key_length > 0.0

    @property
    def parameters(self) -> DecoyParameters | None:
        """The window's protocol parameters, or ``None`` when it has no key."""
        if not self.has_key:
            return None
        p = self.result.parameters
        return DecoyParameters(tuple(p["intensities"]), tuple(p["probabilities"]), float(p["p_z"]))

    def to_dict(self) -> dict[str, Any]:
        r = self.result
        par = self.parameters
        return {"half_window_s": self.half_window_s, "pulses": self.pulses,
                "sifted_z": r.sifted_z, "qber_z": r.qber_z.best if r.sifted_z else None,
                "key_length": self.key_length, "expected_key_length": self.expected_key_length,
                "has_key": self.has_key,
                "parameters": None if par is None else {"intensities": list(par.intensities),
                                                        "probabilities": list(par.probabilities),
                                                        "p_z": par.p_z}}


@dataclasses.dataclass(frozen=True)
class PassKeyCurve:
    """Finite key against the half-window of one pass (seed 001 Fig. 2 style).

    Attributes:
        rows: one :class:`PassKeyRow` per half-window, in increasing order.
        source_rate_hz: pulses per second.
        slot_s: slot duration [s].
        seed: the root seed.
        protocol: the protocol's fixed settings (eps_sec, eps_cor, f_EC, EC leakage, tails,
            afterpulsing; and the parameters when not optimised), as ``DecoyBB84.parameters()``.
    """

    rows: tuple[PassKeyRow, ...]
    source_rate_hz: float
    slot_s: float
    seed: int
    protocol: dict[str, Any] = dataclasses.field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"source_rate_hz": self.source_rate_hz, "slot_s": self.slot_s, "seed": self.seed,
                "protocol": {k: list(v) if isinstance(v, tuple) else v for k, v in self.protocol.items()},
                "rows": [r.to_dict() for r in self.rows]}


def _window_seed(root: int, w: int) -> int:
    return int(np.random.SeedSequence(root, spawn_key=(w,)).generate_state(2, dtype=np.uint64)[0] >> 1)


def pass_key_curve(channels: Sequence[Channel] | LinkPass, *, half_windows_s: Sequence[float],
                   source_rate_hz: float, slot_s: float = 1.0, time_s: Sequence[float] | None = None,
                   protocol: DecoyBB84 | None = None, optimise: bool = True, n_starts: int = 2,
                   seed: SeedLike = None, engine: Engine | None = None,
                   progress: PassProgress | None = None) -> PassKeyCurve:
    """Finite key against the half-window, parameters optimised per window (as seed 001 does).

    For each half-window (in increasing order): the slots with ``|t| <= half-window``; with
    ``optimise``, the parameters maximising the expected finite key of exactly those slots
    (:func:`qproto.security.optimise_decoy_parameters` with the protocol's eps, f_EC, EC
    leakage, tails and afterpulsing; warm-started from the previous window's optimum when it
    had a key, plus ``n_starts - 1`` cold starts), then the window is simulated with them and
    the finite key computed from the simulated counts.

    Without ``optimise`` the parameters are the same for every window, so each slot is
    simulated once (seed ``seed``) and the nested windows are sums of the slots' tallies. With ``optimise`` each window's parameters differ
    (other intensities give other click statistics), so each window is drawn with its own
    parameters (seed derived from ``(seed, window index)``); drawing a slot costs O(1)
    (:meth:`DecoyBB84.sample_slot_cells <qproto.protocols.DecoyBB84.sample_slot_cells>`).

    Args:
        channels: one Channel per slot, or a :class:`LinkPass` (slot times and detector
            afterpulsing included).
        half_windows_s: half-windows [s], each >= 0 and holding at least one slot.
        source_rate_hz: pulse rate [Hz], > 0.
        slot_s: slot duration [s], > 0.
        time_s: slot centre times [s] (default centred, ``slot_s`` apart; not with a LinkPass).
        protocol: a DecoyBB84 with the fixed settings (``eps_sec``, ``eps_cor``, ``f_ec``,
            ``ec_leakage``, ``tails``, ``afterpulse_probability``) and, without ``optimise``, the
            parameters too. Default ``DecoyBB84(tails="chernoff")``. With a LinkPass, a protocol
            afterpulse probability of 0 takes the link detector's.
        optimise: optimise intensities, probabilities and p_Z per window.
        n_starts: starts of each optimisation (>= 1): the previous window's optimum (when it
            had a key) and the best points of a screening batch.
        seed: root seed.
        engine: execution settings.
        progress: ``progress(slots_done, slots_total)`` over all windows.

    Returns:
        :class:`PassKeyCurve`.

    Raises:
        InvalidParameter: a bad rate, slot, half-window or start count; contradicting
            afterpulse probabilities.
        InvalidType: a channel that is not a Channel, a protocol that is not a DecoyBB84.
    """
    protocol, channels, time_s = _resolve(protocol, channels, time_s)
    chans, times, pulses = _slots(channels, time_s, slot_s, source_rate_hz)
    if isinstance(half_windows_s, (int, float, np.integer, np.floating)):
        half_windows_s = (half_windows_s,)  # one half-window given as a number
    elif isinstance(half_windows_s, (str, bytes)) or not hasattr(half_windows_s, "__iter__"):
        raise InvalidType("half_windows_s", half_windows_s, "a number or a sequence of half-windows in seconds")
    hws = sorted(check_in_range(f"half_windows_s[{i}]", h, 0.0, math.inf) for i, h in enumerate(half_windows_s))
    if not hws:
        raise InvalidParameter("half_windows_s", half_windows_s, "at least one half-window")
    n_starts = check_int("n_starts", n_starts, minimum=1)
    engine = Engine() if engine is None else engine
    if not isinstance(engine, Engine):
        raise InvalidType("engine", engine, "a qproto.Engine")
    root = root_seed(seed)
    t = np.asarray(times)
    selections = [np.flatnonzero(np.abs(t) <= h + 1e-9) for h in hws]
    for w, (h, sel) in enumerate(zip(hws, selections)):
        if sel.size == 0:
            raise InvalidParameter(f"half_windows_s[{w}]", h, f"a half-window holding at least one slot "
                                   f"(slot times {t.min():g} .. {t.max():g} s)")
    arrays = slot_arrays(chans)  # validated once, for every window
    fixed = dict(eps_sec=protocol.eps_sec, eps_cor=protocol.eps_cor, f_ec=protocol.f_ec,
                 ec_leakage=protocol.ec_leakage, tails=protocol.tails,
                 afterpulse_probability=protocol.afterpulse_probability)
    cache: dict = {}
    rows = []
    if not optimise:  # one parameter set: every slot once, nested windows are sums of its slots
        union = np.unique(np.concatenate(selections))
        cells = _simulate_cells(protocol, [chans[i] for i in union], pulses, root, engine, cache)
        if progress is not None:
            progress(len(union), len(union))
        where = {int(i): j for j, i in enumerate(union)}
        par = DecoyParameters(protocol.intensities, protocol.probabilities, protocol.p_z)
        for h, sel in zip(hws, selections):
            a = {k: v[sel] for k, v in arrays.items()}
            expected = float(pass_finite_key(par, n_pulses=float(pulses), eta=a["eta"], y0=a["y0"], e_d=a["e_d_z"],
                                             e_d_x=a["e_d_x"], **fixed).ell)
            res = _window_result(protocol, [chans[i] for i in union], cells,
                                 np.array([where[int(i)] for i in sel]), pulses, root)
            rows.append(PassKeyRow(half_window_s=float(h), pulses=res.rounds, result=res,
                                   expected_key_length=expected, optimum=None))
        return PassKeyCurve(rows=tuple(rows), source_rate_hz=float(source_rate_hz), slot_s=float(slot_s),
                            seed=root, protocol=protocol.parameters())

    total = sum(len(s) for s in selections)
    done = 0
    previous: DecoyParameters | None = None
    for w, (h, sel) in enumerate(zip(hws, selections)):
        a = {k: v[sel] for k, v in arrays.items()}
        opt = optimise_decoy_parameters(
            n_pulses=float(pulses), eta=a["eta"], y0=a["y0"], e_d=a["e_d_z"], e_d_x=a["e_d_x"],
            mu3=protocol.intensities[2], n_starts=n_starts, initial=() if previous is None else (previous,),
            seed=w, **fixed)
        if opt.has_key:
            previous = opt.parameters
        proto = protocol.replace(**opt.parameters.as_kwargs())
        wroot = _window_seed(root, w)
        sub = [chans[i] for i in sel]
        cells = _simulate_cells(proto, sub, pulses, wroot, engine, cache)
        done += len(sel)
        if progress is not None:
            progress(done, total)
        res = _window_result(proto, sub, cells, np.arange(len(sub)), pulses, wroot)
        rows.append(PassKeyRow(half_window_s=float(h), pulses=res.rounds, result=res,
                               expected_key_length=float(opt.key_length), optimum=opt))
    return PassKeyCurve(rows=tuple(rows), source_rate_hz=float(source_rate_hz), slot_s=float(slot_s), seed=root,
                        protocol=protocol.parameters())


# ---- passes of a link -----------------------------------------------------------------------
@dataclasses.dataclass(frozen=True, eq=False)
class LinkPass:
    """The slots of a link's pass, ready for :func:`pass_key_curve` and :func:`simulate_pass`.

    Attributes:
        channels: the Channel of each slot.
        time_s: slot centre times [s], 0 at culmination.
        afterpulse_probability: the link detector's afterpulse probability (a Channel has no
            detector, so it travels here to the protocol).
        elevation_deg: elevation of each slot [deg] (None if unknown).
        range_m: slant range of each slot [m] (None if unknown).
        link_name: the link's name ("" if unknown).
    """

    channels: tuple[Channel, ...]
    time_s: np.ndarray
    afterpulse_probability: float = 0.0
    elevation_deg: np.ndarray | None = None
    range_m: np.ndarray | None = None
    link_name: str = ""

    def __post_init__(self) -> None:
        chans = tuple(self.channels)
        for i, c in enumerate(chans):
            if not isinstance(c, Channel):
                raise InvalidType(f"channels[{i}]", c, "a qproto.Channel")
        t = np.asarray(self.time_s, dtype=float).ravel()
        if len(t) != len(chans) or not np.all(np.isfinite(t)):
            raise InvalidParameter("time_s", self.time_s, f"{len(chans)} finite times, one per channel")
        object.__setattr__(self, "channels", chans)
        object.__setattr__(self, "time_s", t)
        object.__setattr__(self, "afterpulse_probability",
                           check_in_range("afterpulse_probability", self.afterpulse_probability, 0.0, 1.0,
                                          hi_open=True))

    def __len__(self) -> int:
        return len(self.channels)

    @classmethod
    def from_pass_channels(cls, pass_channels: Any, *, afterpulse_probability: float = 0.0) -> LinkPass:
        """From a :class:`qproto.noise_models.PassChannels` (circular orbit or TLE pass).

        Args:
            pass_channels: the PassChannels.
            afterpulse_probability: the receiver detector's afterpulse probability, in [0, 1).
        """
        return cls(channels=tuple(pass_channels.channels), time_s=np.asarray(pass_channels.time_s, float),
                   afterpulse_probability=afterpulse_probability,
                   elevation_deg=np.asarray(pass_channels.elevation_deg, float),
                   range_m=np.asarray(pass_channels.range_m, float), link_name=str(pass_channels.link_name))


def _link(link: Any, pointing: str | float | None) -> Any:
    from qproto import noise_models

    if isinstance(link, str):
        if not hasattr(noise_models, "get_link"):
            raise InvalidParameter("link", link, "a link preset",
                                   "link presets are not available (qproto.noise_models.get_link is missing)")
        link = noise_models.get_link(link)
    if not isinstance(link, noise_models.Link):
        raise InvalidType("link", link, "a link preset name or a qproto.noise_models.Link")
    if isinstance(pointing, str):
        link = link.replace(pointing_jitter_rad=noise_models.pointing_jitter_rad(pointing))
    elif pointing is not None:
        link = link.replace(pointing_jitter_rad=check_in_range("pointing", pointing, 0.0, math.inf))
    return link


def link_pass(link: Any, *, pointing: str | float | None = None, slot_s: float = 1.0,
              max_half_window_s: float | None = None) -> LinkPass:
    """The slots of a link's (circular-orbit) pass, with the link detector's afterpulsing.

    Args:
        link: a preset name (``"leo-haps"``) or a :class:`qproto.noise_models.Link`.
        pointing: ``"weak"``, ``"moderate"`` or ``"strong"`` (:func:`qproto.noise_models.pointing_jitter_rad`),
            a jitter in radians per axis (>= 0), or ``None`` to keep the link's.
        slot_s: slot duration [s] (the pass's time step), > 0.
        max_half_window_s: keep only |t| <= this [s] (default: the whole pass above the mask).

    Returns:
        :class:`LinkPass`.

    Raises:
        InvalidParameter: unknown preset or pointing level, bad slot or half-window.
    """
    link = _link(link, pointing)
    kw = {} if max_half_window_s is None else {"max_half_window_s": check_positive("max_half_window_s",
                                                                                   max_half_window_s)}
    pc = link.pass_channels(time_step_s=check_positive("slot_s", slot_s), **kw)
    return LinkPass.from_pass_channels(pc, afterpulse_probability=link.detector.afterpulse_probability)


def link_pass_channels(link: Any, *, pointing: str | float | None = None, slot_s: float = 1.0,
                       max_half_window_s: float | None = None) -> tuple[tuple[Channel, ...], np.ndarray]:
    """``(channels, time_s)`` of :func:`link_pass` (without the detector's afterpulsing: prefer
    :func:`link_pass`, whose result :func:`pass_key_curve` accepts directly)."""
    lp = link_pass(link, pointing=pointing, slot_s=slot_s, max_half_window_s=max_half_window_s)
    return lp.channels, lp.time_s
