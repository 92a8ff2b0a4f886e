"""Tasks: one protocol run with everything that determines its result, and its content id.

A :class:`Task` is fully resolved: the protocol's parameters as the protocol itself
reports them (defaults filled in), the channels as numbers (a link preset at an
elevation is evaluated when the sweep is planned), rounds, seed, eavesdropper, channel
form, engine settings and the versions of qproto, qiskit-aer and numpy. Its id is the
SHA-256 of the canonical JSON of exactly those values (the idea of sinter's
``Task.strong_id``), so two tasks that would produce the same result are one task,
whatever axes or spellings led to them, and a changed parameter or an upgraded
simulator gives new ids instead of silently mixing old and new results.

The sweep point (the axis values that produced the task) is kept beside the task for
tables and plots but is *not* part of the id.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import importlib.metadata
import json
import math
import numbers
from collections.abc import Mapping
from typing import Any

from qproto._errors import InvalidParameter, InvalidType

__all__ = ["Task", "canonical_json", "task_id", "engine_versions"]


def _canonical(value: Any, path: str) -> Any:
    """``value`` as plain JSON data with one spelling per value (see :func:`canonical_json`)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        v = float(value)
        if not math.isfinite(v):
            raise InvalidParameter(path, value, "finite numbers (task ids are canonical JSON)")
        if v == 0.0:
            return 0.0  # -0.0 and 0.0 are the same value
        return v
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise InvalidType(f"{path} key", k, "a str")
            out[k] = _canonical(v, f"{path}.{k}")
        return out
    if isinstance(value, (list, tuple)):
        return [_canonical(v, f"{path}[{i}]") for i, v in enumerate(value)]
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return _canonical(value.tolist(), path)
    raise InvalidType(path, value, "JSON data (str, number, bool, None, list, dict)")


def canonical_json(value: Any) -> str:
    """The canonical JSON text of ``value``: sorted keys, no spaces, ASCII, tuples as lists,
    numpy values as Python ones, integers as integers, ``-0.0`` as ``0.0`` and floats in
    Python's shortest round-trip form.

    Raises:
        InvalidParameter: a NaN or infinite float (no canonical JSON spelling).
        InvalidType: a value that is not JSON data.

    Examples:
        >>> canonical_json({"b": (1, 2.50), "a": -0.0})
        '{"a":0.0,"b":[1,2.5]}'
    """
    return json.dumps(_canonical(value, "value"), sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                      allow_nan=False)


def task_id(payload: Mapping[str, Any]) -> str:
    """SHA-256 (64 hex digits) of :func:`canonical_json` of ``payload``."""
    return hashlib.sha256(canonical_json(payload).encode("ascii")).hexdigest()


@functools.lru_cache(maxsize=1)
def engine_versions() -> dict[str, str]:
    """Versions of the packages that determine a run's draws: qproto, qiskit-aer and numpy."""
    import qproto

    out = {"qproto": qproto.__version__}
    for dist in ("qiskit-aer", "numpy"):
        try:
            out[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:  # pragma: no cover - both are dependencies
            out[dist] = "unknown"
    return out


@dataclasses.dataclass(frozen=True, kw_only=True)
class Task:
    """One fully resolved protocol run (frozen).

    Attributes:
        protocol: registry name of the protocol.
        parameters: the protocol's parameters as its ``parameters()`` reports them.
        construct: the keyword arguments that build the protocol (the user's spelling;
            they give the same ``parameters``). Not part of the id.
        channels: one channel per channel use, each as ``Channel.to_dict()``.
        rounds: rounds (channel uses), >= 1.
        seed: root seed, an int >= 0.
        eavesdropper: the eavesdropper spec string (``"intercept-resend:0.5"``) or None (what
            the worker passes to ``run``; not hashed).
        eavesdropper_key: the parsed eavesdropper's ``to_dict()`` (hashed, so that
            ``"intercept-resend"`` and ``"intercept-resend:1"`` are one task) or None.
        form: ``"fast"`` or ``"erasure"``.
        engine: the :class:`qproto.Engine` fields (mode, max_distribution_qubits, chunk_size).
        versions: :func:`engine_versions` when the task was planned.
        point: the sweep axis values that produced the task (labels; not part of the id).
    """

    protocol: str
    parameters: dict[str, Any]
    construct: dict[str, Any] = dataclasses.field(default_factory=dict, compare=False)
    channels: tuple[dict[str, Any], ...]
    rounds: int
    seed: int
    eavesdropper: str | None = None
    eavesdropper_key: Any = None
    form: str = "fast"
    engine: dict[str, Any]
    versions: dict[str, str] = dataclasses.field(default_factory=engine_versions)
    point: dict[str, Any] = dataclasses.field(default_factory=dict, compare=False)

    def id_payload(self) -> dict[str, Any]:
        """Everything that determines the result, as JSON data (what :attr:`id` hashes)."""
        return {"protocol": self.protocol, "parameters": self.parameters, "channels": list(self.channels),
                "rounds": self.rounds, "seed": self.seed, "eavesdropper": self.eavesdropper_key,
                "form": self.form, "engine": self.engine, "versions": self.versions}

    @functools.cached_property
    def id(self) -> str:
        """The content id: SHA-256 of the canonical JSON of :meth:`id_payload` (64 hex digits)."""
        return task_id(self.id_payload())

    def payload(self) -> dict[str, Any]:
        """What a worker needs to run the task (plain, picklable data)."""
        return {"id": self.id, "protocol": self.protocol, "construct": self.construct,
                "channels": list(self.channels), "rounds": self.rounds, "seed": self.seed,
                "eavesdropper": self.eavesdropper, "form": self.form, "engine": self.engine}

    def run(self):
        """Run the task in this process and return the protocol's result."""
        return run_payload(self.payload())


def run_payload(payload: Mapping[str, Any]):
    """Run a :meth:`Task.payload` and return the result (raises what the protocol raises)."""
    from qproto import Channel, Engine, get_protocol

    protocol = get_protocol(payload["protocol"], **payload["construct"])
    channels = tuple(Channel.from_dict(dict(c)) for c in payload["channels"])
    return protocol.run(channels, rounds=payload["rounds"], seed=payload["seed"],
                        eavesdropper=payload["eavesdropper"], engine=Engine(**payload["engine"]),
                        form=payload["form"])
