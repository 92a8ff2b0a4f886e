"""The :class:`Protocol` base class and the protocol registry.

A protocol builds circuits (one per round configuration), samples rounds with
the shared :class:`~qproto._engine.Engine`, and analyses the per-round arrays
into tallies; :meth:`Protocol.run` streams chunks and merges their tallies, so
memory stays bounded whatever ``rounds`` is.
"""

from __future__ import annotations

import abc
import collections
import concurrent.futures
import importlib.metadata
import inspect
import logging
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, ClassVar, Literal

import numpy as np
from qiskit import QuantumCircuit

from qproto._attacks import Eavesdropper, parse_eavesdropper
from qproto._channel import Channel
from qproto._engine import CompiledConfigurations, Engine
from qproto._errors import InvalidParameter, InvalidType
from qproto._results import ProtocolResult, merge_values
from qproto._seeding import SeedLike, chunk_aer_seed, chunk_generator, root_seed
from qproto._validation import check_int, check_one_of

__all__ = [
    "Protocol", "PROTOCOLS", "register_protocol", "get_protocol", "available_protocols",
    "ProgressCallback", "ChannelForm", "run",
]

LOG = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int], None]
ChannelForm = Literal["fast", "erasure"]
ENTRY_POINT_GROUP = "qproto.protocols"
#: Largest ``rounds`` of a run (tallies are summed in int64).
MAX_ROUNDS = 10**18


class Protocol(abc.ABC):
    """Base class of every protocol.

    Subclasses set ``name`` (the registry key) and ``n_channels`` and implement:

    * :meth:`build_circuits`: pure, one circuit per configuration id;
    * :meth:`noise_model`: the Aer noise model of the channels;
    * :meth:`sample_chunk`: draw a chunk's random choices with numpy, map them to
      configuration ids and sample outcomes from the compiled circuits;
    * :meth:`analyse`: pure, per-round arrays in, tallies out (anything with ``+``, or a
      dict of ints / tuples of ints, which chunks merge key by key);
    * :meth:`make_result`: tallies and run metadata in, a frozen result out.

    Constructor arguments are the protocol's parameters; they are validated on
    construction and reported by :meth:`parameters`.
    """

    name: ClassVar[str]
    n_channels: ClassVar[int] = 1

    #: The invariants ``qproto verify`` checks for this protocol (names of
    #: :data:`qproto.testing.STANDARD_INVARIANTS`, plus those of :meth:`extra_invariants`).
    #: A protocol without closed forms drops ``"closed-form"``.
    INVARIANTS: ClassVar[tuple[str, ...]] = ("closed-form", "reproducible", "executor", "round-trip", "merge")
    #: Rounds per run when ``qproto verify`` checks this protocol.
    VERIFY_ROUNDS: ClassVar[int] = 20_000
    #: Largest coherent rotation (radians) of the channels ``qproto verify`` draws; 0 when
    #: :meth:`expected` does not model rotations.
    VERIFY_MAX_ROTATION_RAD: ClassVar[float] = 0.8

    @abc.abstractmethod
    def parameters(self) -> dict[str, Any]:
        """The protocol's parameters as a JSON-ready dict."""

    @abc.abstractmethod
    def build_circuits(self, *, eavesdropper: Eavesdropper | None = None,
                       form: ChannelForm = "fast") -> tuple[QuantumCircuit, ...]:
        """One circuit per configuration id (pure: no randomness, no backend)."""

    @abc.abstractmethod
    def noise_model(self, channels: tuple[Channel, ...], *, eavesdropper: Eavesdropper | None = None,
                    form: ChannelForm = "fast"):
        """The Aer ``NoiseModel`` of ``channels`` for these circuits."""

    @abc.abstractmethod
    def sample_chunk(self, compiled: CompiledConfigurations, channels: tuple[Channel, ...], rounds: int,
                     rng: np.random.Generator, *, eavesdropper: Eavesdropper | None,
                     form: ChannelForm, aer_seed: int) -> Any:
        """Simulate ``rounds`` rounds and return their per-round record."""

    @abc.abstractmethod
    def analyse(self, record: Any) -> Any:
        """Tallies (with ``+``) of a per-round record (pure)."""

    @abc.abstractmethod
    def make_result(self, tallies: Any, *, channels: tuple[Channel, ...], rounds: int, seed: int,
                    eavesdropper: Eavesdropper | None) -> ProtocolResult:
        """The frozen result of a run."""

    # ---- verification -----------------------------------------------------------
    def expected(self, channel: Channel | Sequence[Channel], *,
                 eavesdropper: Eavesdropper | str | None = None) -> dict[str, Any]:
        """Closed-form values of the run's estimates (keys of the result's ``estimates()``).

        They must come from a path independent of the simulation (docs/conventions.md closed
        forms, or a density-matrix computation built separately from the Aer noise
        model), never from the run's own compiled circuits. Raise ``InvalidParameter``
        for a channel the closed forms do not cover.
        """
        raise NotImplementedError(f"{type(self).__name__} has no closed forms (expected())")

    def verification_channels(self):
        """The hypothesis strategy of channel tuples ``qproto verify`` draws (one Channel per
        channel use, pairwise different, rotated up to ``VERIFY_MAX_ROTATION_RAD``).
        Needs hypothesis (the ``testing`` extra)."""
        from hypothesis import strategies as st

        from qproto.testing._strategies import asymmetric_channels, rotation_axes

        n = self.n_channels
        plain = asymmetric_channels(n, min_gap=min(0.03, 0.25 / max(n - 1, 1)))
        top = self.VERIFY_MAX_ROTATION_RAD
        if top <= 0.0:
            return plain
        # Rotations large enough to show E_X != E_Z, each channel its own; rotated draws come first.
        turns = st.lists(st.tuples(st.floats(min(0.3, top), top), rotation_axes()), min_size=n, max_size=n)
        rotated = st.tuples(plain, turns).map(lambda t: tuple(
            ch.replace(rotation_rad=a, rotation_axis=axis) for ch, (a, axis) in zip(*t)))
        return st.one_of(rotated, plain)

    def extra_invariants(self) -> dict[str, Callable[[int], Any]]:
        """Protocol-specific invariants for ``qproto verify``: name -> ``check(seed)`` that
        raises :class:`qproto.testing.InvariantViolation` when violated (its docstring is the
        description; it may return the number of runs it made)."""
        return {}

    # ---- shared machinery ---------------------------------------------------------
    def normalise_channels(self, channel: Channel | Sequence[Channel]) -> tuple[Channel, ...]:
        """Return one Channel per channel use; a single Channel is used for all of them.

        Raises:
            InvalidType: not a Channel or a sequence of Channels.
            InvalidParameter: wrong number of channels.
        """
        if isinstance(channel, Channel):
            return (channel,) * self.n_channels
        if isinstance(channel, (list, tuple)):
            chans = tuple(channel)
            for i, c in enumerate(chans):
                if not isinstance(c, Channel):
                    raise InvalidType(f"channel[{i}]", c, "a qproto.Channel")
            if len(chans) != self.n_channels:
                raise InvalidParameter("channel", f"{len(chans)} channels", f"{self.n_channels} channel(s)",
                                       f"{self.name} takes {self.n_channels} channel(s); got {len(chans)}")
            return chans
        raise InvalidType("channel", channel, f"a qproto.Channel or a sequence of {self.n_channels}")

    def prepare(self, channel: Channel | Sequence[Channel], *, eavesdropper: Eavesdropper | str | None = None,
                engine: Engine | None = None, form: ChannelForm = "fast"
                ) -> tuple[tuple[Channel, ...], Eavesdropper | None, CompiledConfigurations]:
        """Validate inputs and compile the configuration circuits once (one Aer job)."""
        channels = self.normalise_channels(channel)
        eve = normalise_eavesdropper(eavesdropper)
        check_one_of("form", form, ("fast", "erasure"))
        engine = Engine() if engine is None else engine
        if not isinstance(engine, Engine):
            raise InvalidType("engine", engine, "a qproto.Engine")
        compiled = engine.compile(self.build_circuits(eavesdropper=eve, form=form),
                                  self.noise_model(channels, eavesdropper=eve, form=form))
        return channels, eve, compiled

    def sample(self, channel: Channel | Sequence[Channel], *, rounds: int, seed: SeedLike = None,
               eavesdropper: Eavesdropper | str | None = None, engine: Engine | None = None,
               form: ChannelForm = "fast") -> Any:
        """Simulate ``rounds`` rounds in one chunk and return the per-round record.

        Meant for inspection and tests (memory grows with ``rounds``); the
        record equals chunk 0 of :meth:`run` with the same seed when
        ``rounds`` does not exceed the engine's chunk size.
        """
        rounds = check_int("rounds", rounds, minimum=1)
        root = root_seed(seed)
        channels, eve, compiled = self.prepare(channel, eavesdropper=eavesdropper, engine=engine, form=form)
        return self.sample_chunk(compiled, channels, rounds, chunk_generator(root, 0), eavesdropper=eve,
                                 form=form, aer_seed=chunk_aer_seed(root, 0))

    def run(self, channel: Channel | Sequence[Channel], *, rounds: int, seed: SeedLike = None,
            eavesdropper: Eavesdropper | str | None = None, engine: Engine | None = None,
            form: ChannelForm = "fast", progress: ProgressCallback | None = None,
            executor: concurrent.futures.Executor | None = None) -> ProtocolResult:
        """Run the protocol for ``rounds`` rounds over ``channel``.

        Args:
            channel: a :class:`Channel`, or one per channel use (``n_channels``).
            rounds: number of rounds (channel uses / emitted pairs), in [1, 10^18].
            seed: ``None``, an int >= 0, a ``SeedSequence`` or a ``Generator``.
            eavesdropper: an :class:`Eavesdropper`, a spec such as
                ``"intercept-resend:0.5"``, or ``None``.
            engine: execution settings (default ``Engine()``).
            form: ``"fast"`` (loss sampled in closed form) or ``"erasure"``
                (loss heralded in the circuit by a flag qubit); same statistics.
            progress: called as ``progress(rounds_done, rounds_total)`` after each chunk.
            executor: a ``concurrent.futures.Executor`` (for example a
                ``ProcessPoolExecutor`` to use every core) that simulates the chunks;
                ``None`` runs them one after the other in this process. Chunks are
                generated lazily and at most :data:`CHUNKS_IN_FLIGHT_PER_WORKER` per worker
                are submitted and not yet collected, so memory does not grow with ``rounds``;
                when the run stops (an error, Ctrl-C, a progress callback that raises) the
                chunks not yet started are cancelled.

        Returns:
            A frozen result whose ``seed`` replays the run.

        Reproducibility: the same seed, rounds, engine chunk size and library
        versions give the same result in any executor; chunk ``i`` draws from
        ``SeedSequence(seed, spawn_key=(i,))``. Changing ``rounds`` or the chunk
        size changes the draws, and an upgrade of numpy or qiskit-aer may too.
        """
        rounds = check_int("rounds", rounds, minimum=1, maximum=MAX_ROUNDS)
        if progress is not None and not callable(progress):
            raise InvalidType("progress", progress, "a callable(done, total) or None")
        root = root_seed(seed)
        engine = Engine() if engine is None else engine
        if executor is not None and not isinstance(executor, concurrent.futures.Executor):
            raise InvalidType("executor", executor, "a concurrent.futures.Executor or None")
        channels, eve, compiled = self.prepare(channel, eavesdropper=eavesdropper, engine=engine, form=form)
        chunk = engine.chunk_size
        n_chunks = -(-rounds // chunk)
        # Chunks are generated lazily (never a list of all of them: 1e18 rounds is 1e12 chunks) and at
        # most a window of them is in flight in an executor, so memory stays bounded whatever `rounds` is.
        jobs = ((self, compiled, channels, min(chunk, rounds - i * chunk), root, i, eve, form)
                for i in range(n_chunks))
        parts = map(_tally_chunk, jobs) if executor is None else _in_order(executor, jobs, _window(executor))
        tallies = None
        done = 0
        try:
            for i, t in enumerate(parts):
                tallies = t if tallies is None else merge_values(tallies, t)
                done += min(chunk, rounds - i * chunk)
                if progress is not None:
                    progress(done, rounds)
        finally:
            close = getattr(parts, "close", None)
            if close is not None:  # an interrupted run cancels the chunks not yet started
                close()
        LOG.debug("%s: %d rounds in %d chunk(s)", self.name, rounds, n_chunks)
        return self.make_result(tallies, channels=channels, rounds=rounds, seed=root, eavesdropper=eve)


#: Chunks in flight per worker of an executor: enough to keep every worker busy, few enough that
#: memory does not grow with the number of chunks.
CHUNKS_IN_FLIGHT_PER_WORKER = 2


def _window(executor: concurrent.futures.Executor) -> int:
    """How many chunks may be submitted to ``executor`` and not yet collected."""
    workers = getattr(executor, "_max_workers", None)
    if not isinstance(workers, int) or workers < 1:
        workers = os.cpu_count() or 1
    return CHUNKS_IN_FLIGHT_PER_WORKER * workers


def _in_order(executor: concurrent.futures.Executor, jobs: Iterator[tuple], window: int) -> Iterator[Any]:
    """Results of ``_tally_chunk`` over ``jobs``: :func:`bounded_map` with the base class's chunk job."""
    return bounded_map(executor, _tally_chunk, jobs, window)


def bounded_map(executor: concurrent.futures.Executor, fn: Callable[[Any], Any], jobs: Iterable[Any],
                window: int | None = None) -> Iterator[Any]:
    """``fn(job)`` for each job in ``jobs``, computed by ``executor``, yielded in job order.

    At most ``window`` jobs (default: :data:`CHUNKS_IN_FLIGHT_PER_WORKER` per worker) are
    submitted and not yet yielded, and ``jobs`` is consumed lazily, so memory does not grow with
    the number of jobs. Closing the generator (or an exception while iterating) cancels the
    jobs not yet started. ``fn`` must pickle for a process pool (a module-level function).
    """
    window = _window(executor) if window is None else window
    pending: collections.deque[concurrent.futures.Future] = collections.deque()
    try:
        for job in jobs:
            pending.append(executor.submit(fn, job))
            if len(pending) >= window:
                yield pending.popleft().result()  # in chunk order: the sum does not depend on timing
        while pending:
            yield pending.popleft().result()
    finally:
        for f in pending:
            f.cancel()


def _tally_chunk(job: tuple) -> Any:
    """Simulate and analyse chunk ``i`` of a run (a module-level function, so it pickles)."""
    protocol, compiled, channels, n, root, i, eve, form = job
    record = protocol.sample_chunk(compiled, channels, n, chunk_generator(root, i), eavesdropper=eve,
                                   form=form, aer_seed=chunk_aer_seed(root, i))
    return protocol.analyse(record)


def normalise_eavesdropper(eve: Eavesdropper | str | None) -> Eavesdropper | None:
    """An Eavesdropper, a spec string such as ``"intercept-resend:0.5"`` or None, as an Eavesdropper or None."""
    if eve is None or isinstance(eve, Eavesdropper):
        return eve
    if isinstance(eve, str):
        return parse_eavesdropper(eve)
    raise InvalidType("eavesdropper", eve, "an Eavesdropper, a spec string or None")


# ---- registry ---------------------------------------------------------------------
PROTOCOLS: dict[str, type[Protocol]] = {}
_entry_points_loaded = False


def register_protocol(cls: type[Protocol]) -> type[Protocol]:
    """Class decorator: register a :class:`Protocol` subclass under ``cls.name``.

    Raises:
        InvalidType: ``cls`` is not a Protocol subclass.
        InvalidParameter: the name is missing or already taken by another class. A class
            with the same module and qualified name (the same definition run again, as a
            re-run notebook cell does) replaces the registered one.
    """
    if not (isinstance(cls, type) and issubclass(cls, Protocol)):
        raise InvalidType("cls", cls, "a subclass of qproto.Protocol")
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not name:
        raise InvalidParameter("name", name, "a non-empty str class attribute")
    old = PROTOCOLS.get(name)
    redefined = old is not None and (old.__module__, old.__qualname__) == (cls.__module__, cls.__qualname__)
    if old is not None and old is not cls and not redefined:  # a re-run notebook cell redefines its class
        raise InvalidParameter("name", name, "a name not yet registered",
                               f"protocol name {name!r} is already registered by {PROTOCOLS[name].__qualname__}")
    PROTOCOLS[name] = cls
    return cls


def _load_protocols() -> None:
    """Import the built-in protocols and, once, third-party ones from entry points."""
    global _entry_points_loaded
    import qproto.protocols  # noqa: F401  (registers the built-ins)

    if _entry_points_loaded:
        return
    _entry_points_loaded = True
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        try:
            cls = ep.load()
            if cls.name not in PROTOCOLS:
                register_protocol(cls)
        except Exception:  # a broken plugin must not break qproto
            LOG.warning("could not load qproto protocol plugin %r", ep.name, exc_info=True)


def available_protocols() -> list[str]:
    """Sorted names of every registered protocol (built-in and plugins)."""
    _load_protocols()
    return sorted(PROTOCOLS)


def get_protocol(name: str, **params: Any) -> Protocol:
    """Instantiate a registered protocol by name with its parameters.

    Raises:
        InvalidParameter: unknown name; the message lists the available ones.
    """
    _load_protocols()
    if not isinstance(name, str):
        raise InvalidType("protocol", name, "a str")
    if name not in PROTOCOLS:
        raise InvalidParameter("protocol", name, f"one of {sorted(PROTOCOLS)}",
                               f"unknown protocol {name!r}; available: {sorted(PROTOCOLS)}")
    cls = PROTOCOLS[name]
    accepted = [n for n, prm in inspect.signature(cls.__init__).parameters.items()
                if n != "self" and prm.kind in (prm.KEYWORD_ONLY, prm.POSITIONAL_OR_KEYWORD)]
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        raise InvalidParameter("params", unknown, f"parameters of {name!r}: {accepted}",
                               f"unknown parameter(s) {unknown} for protocol {name!r}; accepted: {accepted}")
    return cls(**params)


def run(protocol: str, channel: Channel | Sequence[Channel], *, rounds: int, seed: SeedLike = None,
        eavesdropper: Eavesdropper | str | None = None, engine: Engine | None = None, form: ChannelForm = "fast",
        progress: ProgressCallback | None = None, executor: concurrent.futures.Executor | None = None,
        **params: Any) -> ProtocolResult:
    """Run a registered protocol by name: ``get_protocol(protocol, **params).run(...)``.

    The keyword arguments other than ``params`` are those of :meth:`Protocol.run`, which every
    protocol accepts.
    """
    return get_protocol(protocol, **params).run(channel, rounds=rounds, seed=seed, eavesdropper=eavesdropper,
                                                engine=engine, form=form, progress=progress, executor=executor)
