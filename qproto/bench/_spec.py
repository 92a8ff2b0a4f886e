"""Declared sweeps: a TOML file (or the same as Python objects) expanded into tasks.

A sweep is a list of *blocks*; each block gives axis values three ways:

* ``fixed``: one value per key, the same for every point of the block;
* ``grid``: a list per key; the block takes the Cartesian product of them;
* ``zip``: one or more groups of equally long lists that vary together (one
  group is a table, several an array of tables); each group is one more factor
  of the product.

Top-level ``defaults`` (the same keys) apply to every block unless the block sets
the key itself. A point is a flat dict of these keys:

========================  =================================================================
key                       meaning
========================  =================================================================
``protocol``              registry name (``qproto list``)
``param.NAME``            a protocol parameter (``param.parties = [3, 4, 5]``)
``rounds``                rounds per run, int >= 1
``seed``                  root seed, int >= 0 (a list of seeds in ``grid`` gives replicates)
``eavesdropper``          e.g. ``"intercept-resend:0.5"``; ``"none"`` for none
``form``                  ``"fast"`` (default) or ``"erasure"``
``channel.FIELD``         a :class:`qproto.Channel` field (transmittance, depolarisation,
                          misalignment, noise_click, detector_efficiency, rotation_rad,
                          rotation_axis); with ``link`` it overrides the link's channel
``loss_db``               derived: channel transmittance ``10^(-loss_db/10)``, loss >= 0 dB
``qber``                  derived: channel depolarisation ``2 qber``, qber in [0, 2/3]
``link``                  a link preset (``qproto link list``) giving the channel
``elevation_deg``         with ``link``: elevation in [0, 90] deg (default: the preset's)
``pass_time_s``           with an orbit ``link``: seconds from culmination of a circular-orbit
                          pass; the channel at the pass's elevation at that time (as
                          ``link.pass_channels``); must be above the link's elevation mask
``pass_max_elevation_deg``  the pass's peak elevation (default: the link's
                          ``pass_max_elevation_deg``, 90 = overhead)
``override.FIELD``        with ``link``: a :class:`~qproto.noise_models.Link` field changed
                          with ``link.replace`` (e.g. ``override.rx_aperture_m``)
``engine.FIELD``          :class:`qproto.Engine` settings (mode, max_distribution_qubits,
                          chunk_size); part of every task id
========================  =================================================================

Dotted keys are TOML tables too: ``param.parties = [3, 4]`` inside ``grid`` is the
nested table ``{param = {parties = [3, 4]}}``; both spellings are read. A protocol with
several channel uses gets the same channel on every use.

The optional ``[report]`` table names what tables and figures show: ``estimates``
(list of estimate names), ``x``, ``y``, ``group`` (axes), ``logx``/``logy`` (bools) and
``where`` (a table of column values selecting the rows of the figure); ``headline`` (estimate
names, the first one a protocol reports is its headline) and ``columns`` (axes) ask for a
compact table, one row per protocol and one column per combination of ``columns``.

Example (``qproto bench plan`` on this file lists 3 x 7 = 21 tasks)::

    name = "qkd-vs-loss"
    [defaults]
    rounds = 20000
    seed = 1
    channel.depolarisation = 0.02
    [[sweep]]
    grid = { protocol = ["bb84", "bbm92", "decoy-bb84"], loss_db = [0, 5, 10, 15, 20, 25, 30] }
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import os
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from qproto._errors import InvalidParameter, InvalidType, QprotoError
from qproto._validation import check_in_range, check_int, check_non_negative, check_one_of

from ._task import Task, canonical_json, engine_versions

__all__ = ["Block", "Sweep", "AXIS_KEYS", "AXIS_PREFIXES"]

#: Keys a point may hold directly.
AXIS_KEYS = ("protocol", "rounds", "seed", "eavesdropper", "form", "link", "elevation_deg", "loss_db", "qber",
             "pass_time_s", "pass_max_elevation_deg")
#: Namespaces of dotted keys (``param.parties``).
AXIS_PREFIXES = ("param", "channel", "override", "engine")
_CHANNEL_FIELDS = ("transmittance", "depolarisation", "misalignment", "noise_click", "detector_efficiency",
                   "rotation_rad", "rotation_axis")
_ENGINE_FIELDS = ("mode", "max_distribution_qubits", "chunk_size")
#: Keys of the optional ``[report]`` table.
REPORT_KEYS = ("estimates", "x", "y", "group", "logx", "logy", "where", "headline", "columns")
#: Points per block above which a sweep is refused (a typo such as a 1e6-long grid).
MAX_POINTS = 10_000_000


def _flatten(table: Mapping[str, Any], where: str) -> dict[str, Any]:
    """``{"param": {"parties": 3}}`` and ``{"param.parties": 3}`` both as ``{"param.parties": 3}``."""
    if not isinstance(table, Mapping):
        raise InvalidType(where, table, "a table (dict) of axis keys")
    out: dict[str, Any] = {}
    for key, value in table.items():
        if not isinstance(key, str):
            raise InvalidType(f"{where} key", key, "a str")
        if key in AXIS_PREFIXES and isinstance(value, Mapping):
            for sub, v in value.items():
                out[f"{key}.{sub}"] = v
        else:
            out[key] = value
    for key in out:
        head, dot, tail = key.partition(".")
        if (dot and (head not in AXIS_PREFIXES or not tail)) or (not dot and key not in AXIS_KEYS):
            raise InvalidParameter(f"{where}.{key}", key, f"one of {list(AXIS_KEYS)} or "
                                   f"{[p + '.NAME' for p in AXIS_PREFIXES]}",
                                   f"unknown sweep key {key!r} in {where}; allowed: {list(AXIS_KEYS)} or "
                                   f"{', '.join(p + '.NAME' for p in AXIS_PREFIXES)}")
    return out


def _axis_values(key: str, values: Any, where: str) -> tuple[Any, ...]:
    if not isinstance(values, (list, tuple)):
        raise InvalidType(f"{where}.{key}", values, "a list of values (an axis)")
    if not values:
        raise InvalidParameter(f"{where}.{key}", values, "a non-empty list",
                               f"{where}.{key} is an empty list; an axis needs at least one value")
    return tuple(values)


@dataclasses.dataclass(frozen=True)
class Block:
    """One block of a sweep: fixed values, a product grid and zipped groups.

    Args:
        fixed: ``key -> value`` for every point of the block.
        grid: ``key -> list of values``; the block is the product over these keys.
        zip: groups (dicts ``key -> list``) whose lists have equal length and vary together.

    Raises:
        InvalidParameter: unknown key, empty axis, zipped lists of different lengths, or a
            key given twice within the block.
        InvalidType: an axis that is not a list.
    """

    fixed: dict[str, Any] = dataclasses.field(default_factory=dict)
    grid: dict[str, tuple[Any, ...]] = dataclasses.field(default_factory=dict)
    zip: tuple[dict[str, tuple[Any, ...]], ...] = ()

    def __post_init__(self) -> None:
        fixed = _flatten(self.fixed, "fixed")
        grid = {k: _axis_values(k, v, "grid") for k, v in _flatten(self.grid, "grid").items()}
        groups = self.zip
        if isinstance(groups, Mapping):
            groups = (groups,)
        if not isinstance(groups, (list, tuple)):
            raise InvalidType("zip", self.zip, "a table or a list of tables of equally long lists")
        zips = []
        for i, g in enumerate(groups):
            flat = {k: _axis_values(k, v, f"zip[{i}]") for k, v in _flatten(g, f"zip[{i}]").items()}
            lengths = {k: len(v) for k, v in flat.items()}
            if len(set(lengths.values())) > 1:
                raise InvalidParameter(f"zip[{i}]", lengths, "lists of equal length",
                                       f"zip[{i}] lists have different lengths {lengths}; zipped axes vary "
                                       "together, so they need the same number of values")
            if flat:
                zips.append(flat)
        seen: dict[str, str] = {}
        for where, keys in [("fixed", fixed), ("grid", grid)] + [(f"zip[{i}]", z) for i, z in enumerate(zips)]:
            for k in keys:
                if k in seen:
                    raise InvalidParameter(k, where, "each key in one place per block",
                                           f"sweep key {k!r} is given in both {seen[k]} and {where}")
                seen[k] = where
        object.__setattr__(self, "fixed", fixed)
        object.__setattr__(self, "grid", grid)
        object.__setattr__(self, "zip", tuple(zips))
        if self.size() > MAX_POINTS:
            raise InvalidParameter("grid", self.size(), f"at most {MAX_POINTS} points per block")

    def keys(self) -> set[str]:
        """Every key the block sets."""
        return set(self.fixed) | set(self.grid) | {k for z in self.zip for k in z}

    def size(self) -> int:
        """Number of points of the block."""
        return math.prod(len(v) for v in self.grid.values()) * math.prod(len(next(iter(z.values())))
                                                                         for z in self.zip)

    def points(self, defaults: Mapping[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """The block's points in order (grid keys vary slowest-first, then zip groups)."""
        base = {k: v for k, v in (defaults or {}).items() if k not in self.keys()}
        base.update(self.fixed)
        factors: list[list[dict[str, Any]]] = [[{k: v} for v in vals] for k, vals in self.grid.items()]
        for z in self.zip:
            keys = list(z)
            factors.append([dict(zip(keys, vals)) for vals in zip(*(z[k] for k in keys))])
        for combo in itertools.product(*factors):
            point = dict(base)
            for part in combo:
                point.update(part)
            yield point

    def to_dict(self) -> dict[str, Any]:
        """The block as TOML-ready data."""
        out: dict[str, Any] = {}
        if self.fixed:
            out["fixed"] = dict(self.fixed)
        if self.grid:
            out["grid"] = {k: list(v) for k, v in self.grid.items()}
        if self.zip:
            out["zip"] = [{k: list(v) for k, v in z.items()} for z in self.zip]
        return out


@dataclasses.dataclass(frozen=True)
class Sweep:
    """A declared sweep: named blocks of points that expand into :class:`Task` s.

    Args:
        name: a label (file names of reports use it).
        blocks: the :class:`Block` s (dicts with ``fixed``/``grid``/``zip`` are accepted).
        defaults: values for every block that does not set the key.
        description: free text.
        report: what tables and figures show (``estimates``, ``x``, ``y``, ``group``,
            ``logx``, ``logy``).

    Examples:
        >>> sweep = Sweep.from_dict({"defaults": {"rounds": 1000, "seed": 1, "protocol": "bb84"},
        ...                          "sweep": [{"grid": {"loss_db": [0, 10, 20]}}]})
        >>> sweep.size()
        3
        >>> [round(t.channels[0]["transmittance"], 3) for t in sweep.tasks()]
        [1.0, 0.1, 0.01]
    """

    name: str = "sweep"
    blocks: tuple[Block, ...] = ()
    defaults: dict[str, Any] = dataclasses.field(default_factory=dict)
    description: str = ""
    report: dict[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise InvalidParameter("name", self.name, "a non-empty str")
        if not isinstance(self.description, str):
            raise InvalidType("description", self.description, "a str")
        blocks = self.blocks
        if isinstance(blocks, (Block, Mapping)):
            blocks = (blocks,)
        if not isinstance(blocks, (list, tuple)) or not blocks:
            raise InvalidParameter("sweep", blocks, "at least one block ([[sweep]] with fixed/grid/zip)")
        out = []
        for i, b in enumerate(blocks):
            if isinstance(b, Mapping):
                unknown = sorted(set(b) - {"fixed", "grid", "zip"})
                if unknown:
                    raise InvalidParameter(f"sweep[{i}]", unknown, "keys fixed, grid, zip",
                                           f"sweep[{i}] has unknown key(s) {unknown}; a block has fixed, grid "
                                           "and zip")
                b = Block(fixed=b.get("fixed", {}), grid=b.get("grid", {}), zip=b.get("zip", ()))
            elif not isinstance(b, Block):
                raise InvalidType(f"sweep[{i}]", b, "a Block or a dict with fixed/grid/zip")
            out.append(b)
        object.__setattr__(self, "blocks", tuple(out))
        object.__setattr__(self, "defaults", _flatten(self.defaults, "defaults"))
        report = dict(self.report)
        unknown = sorted(set(report) - set(REPORT_KEYS))
        if unknown:
            raise InvalidParameter("report", unknown, f"keys {list(REPORT_KEYS)}")
        object.__setattr__(self, "report", report)

    # ---- construction ---------------------------------------------------------------
    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Sweep:
        """Build from TOML-shaped data: ``name``, ``description``, ``defaults``, ``sweep``
        (a list of blocks, or one block), ``report``.

        Raises:
            InvalidParameter: unknown top-level key or a bad block (the message names it).
        """
        if not isinstance(data, Mapping):
            raise InvalidType("sweep file", data, "a TOML table")
        unknown = sorted(set(data) - {"name", "description", "defaults", "sweep", "report"})
        if unknown:
            raise InvalidParameter("sweep file", unknown, "top-level keys name, description, defaults, sweep, report",
                                   f"unknown top-level key(s) {unknown}; allowed: name, description, defaults, "
                                   "sweep, report")
        if "sweep" not in data:
            raise InvalidParameter("sweep", None, "at least one [[sweep]] block",
                                   "the sweep file has no [[sweep]] block")
        return cls(name=data.get("name", "sweep"), description=data.get("description", ""),
                   defaults=data.get("defaults", {}), blocks=data["sweep"], report=data.get("report", {}))

    @classmethod
    def loads(cls, text: str) -> Sweep:
        """Parse TOML text (see the module docs for the format)."""
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise InvalidParameter("sweep file", "TOML", "valid TOML", f"invalid TOML: {exc}") from None
        return cls.from_dict(data)

    @classmethod
    def from_toml(cls, path: str | os.PathLike) -> Sweep:
        """Read a sweep TOML file.

        Raises:
            InvalidParameter: the file is missing, not valid TOML or not a valid sweep.
        """
        try:
            with open(path, "rb") as fh:
                text = fh.read().decode("utf-8")
        except OSError as exc:
            raise InvalidParameter("path", os.fspath(path), "a readable sweep TOML file",
                                   f"cannot read sweep file {os.fspath(path)!r}: {exc.strerror}") from None
        return cls.loads(text)

    def to_dict(self) -> dict[str, Any]:
        """TOML-ready data; ``Sweep.from_dict(s.to_dict()) == s``."""
        out: dict[str, Any] = {"name": self.name}
        if self.description:
            out["description"] = self.description
        if self.defaults:
            out["defaults"] = dict(self.defaults)
        out["sweep"] = [b.to_dict() for b in self.blocks]
        if self.report:
            out["report"] = dict(self.report)
        return out

    def to_toml(self) -> str:
        """The sweep as TOML text (tomli-w)."""
        import tomli_w

        return tomli_w.dumps(self.to_dict())

    def extend(self, *blocks: Block | Mapping[str, Any]) -> Sweep:
        """A copy with more blocks (their points are new tasks; existing ones keep their ids)."""
        return dataclasses.replace(self, blocks=self.blocks + tuple(blocks))

    # ---- expansion ------------------------------------------------------------------
    def size(self) -> int:
        """Number of points (tasks before removing duplicates), without resolving them."""
        return sum(b.size() for b in self.blocks)

    def points(self) -> Iterator[dict[str, Any]]:
        """Every point in order, block after block (lazy)."""
        for b in self.blocks:
            yield from b.points(self.defaults)

    def axes(self) -> list[str]:
        """Keys that take more than one value across the sweep, in first-seen order."""
        values: dict[str, set[str]] = {}
        for p in self.points():
            for k, v in p.items():
                values.setdefault(k, set()).add(canonical_json(v) if v is not None else "null")
        return [k for k, vals in values.items() if len(vals) > 1]

    def tasks(self) -> Iterator[Task]:
        """The resolved tasks, lazily, in point order (duplicates included; the runner
        drops them by id).

        Raises:
            InvalidParameter, InvalidType: a bad value; the message names the block and key.
        """
        resolver = _Resolver()
        index = 0
        for bi, block in enumerate(self.blocks):
            for point in block.points(self.defaults):
                try:
                    yield resolver.task(point)
                except QprotoError as exc:
                    raise type(exc)(*_reraise_args(exc, f"sweep[{bi}] point {index}")) from None
                index += 1


def _reraise_args(exc: QprotoError, where: str) -> tuple:
    if isinstance(exc, InvalidParameter):
        return (exc.name, exc.value, exc.allowed, f"{where}: {exc}")
    if isinstance(exc, InvalidType):
        return (f"{where}: {exc.name}", exc.value, exc.expected)
    return (f"{where}: {exc}",)


class _Resolver:
    """Turns points into tasks, caching protocol instances and link channels."""

    def __init__(self) -> None:
        self._protocols: dict[str, tuple[dict[str, Any], int]] = {}
        self._links: dict[str, dict[str, Any]] = {}
        self._eves: dict[str, Any] = {}
        self._versions = engine_versions()

    def _protocol(self, name: Any, params: dict[str, Any]) -> tuple[dict[str, Any], int]:
        from qproto import get_protocol

        key = canonical_json([name, params])
        if key not in self._protocols:
            p = get_protocol(name, **params)
            self._protocols[key] = (p.parameters(), p.n_channels)
        return self._protocols[key]

    def _link_channel(self, name: Any, elevation: Any, overrides: dict[str, Any]) -> dict[str, Any]:
        key = canonical_json([name, elevation, overrides])
        if key not in self._links:
            from qproto.noise_models import get_link

            link = get_link(name)
            if overrides:
                link = link.replace(**overrides)
            self._links[key] = link.channel(elevation_deg=elevation).to_dict()
        return self._links[key]

    def _pass_elevation(self, name: Any, overrides: dict[str, Any], time_s: Any, peak: Any) -> float:
        """Elevation [deg] at ``time_s`` from culmination of the link's circular-orbit pass."""
        from qproto.noise_models import circular_pass, get_link, pass_duration_s

        link = get_link(name)
        if overrides:
            link = link.replace(**overrides)
        if link.geometry != "orbit":
            raise InvalidParameter("pass_time_s", time_s, "a link with geometry='orbit'",
                                   f"pass_time_s needs an orbiting link; {link.name!r} has geometry="
                                   f"{link.geometry!r}")
        t = check_in_range("pass_time_s", time_s, -math.inf, math.inf, lo_open=True, hi_open=True)
        e_max = link.pass_max_elevation_deg if peak is None else check_in_range(
            "pass_max_elevation_deg", peak, 0.0, 90.0)
        geo = circular_pass(time_s=t, platform_altitude_m=link.upper_altitude_m, max_elevation_deg=e_max,
                            observer_altitude_m=link.lower_altitude_m)
        elevation = float(geo.elevation_deg)
        if elevation < link.min_elevation_deg:
            half = float(pass_duration_s(platform_altitude_m=link.upper_altitude_m,
                                         min_elevation_deg=link.min_elevation_deg, max_elevation_deg=e_max,
                                         observer_altitude_m=link.lower_altitude_m)) / 2.0
            raise InvalidParameter("pass_time_s", time_s, f"[{-half:.1f}, {half:.1f}] s",
                                   f"pass_time_s={time_s!r} puts {link.name!r} at {elevation:.1f} deg, below its "
                                   f"{link.min_elevation_deg:g} deg mask; allowed: |t| <= {half:.1f} s")
        return min(max(elevation, 0.0), 90.0)  # rounding at culmination, as pass_channels

    def _eavesdropper(self, spec: Any) -> tuple[str | None, Any]:
        if spec is None or spec == "none":
            return None, None
        if not isinstance(spec, str):
            raise InvalidType("eavesdropper", spec, "a spec string such as 'intercept-resend:0.5' or 'none'")
        if spec not in self._eves:
            from qproto import parse_eavesdropper

            eve = parse_eavesdropper(spec)
            self._eves[spec] = eve.to_dict() if hasattr(eve, "to_dict") else repr(eve)
        return spec, self._eves[spec]

    def channel(self, point: Mapping[str, Any]) -> dict[str, Any]:
        """The channel of a point as ``Channel.to_dict()``."""
        from qproto import Channel

        fields = {k[8:]: v for k, v in point.items() if k.startswith("channel.")}
        for f in fields:
            check_one_of("channel field", f, _CHANNEL_FIELDS)
        overrides = {k[9:]: v for k, v in point.items() if k.startswith("override.")}
        if "qber" in point:
            if "channel.depolarisation" in point:
                raise InvalidParameter("qber", point["qber"], "not together with channel.depolarisation",
                                       "qber sets channel.depolarisation = 2 qber; give only one of them")
            fields["depolarisation"] = 2.0 * check_in_range("qber", point["qber"], 0.0, 2.0 / 3.0)
        if "link" in point:
            if "loss_db" in point:
                raise InvalidParameter("loss_db", point["loss_db"], "not together with link",
                                       "loss_db sets the transmittance of a direct channel; a link computes its "
                                       "own (use override.FIELD to change the link)")
            if "pass_time_s" in point:
                if "elevation_deg" in point:
                    raise InvalidParameter("elevation_deg", point["elevation_deg"], "not together with pass_time_s",
                                           "pass_time_s sets the elevation along the pass; give only one of them")
                elevation = self._pass_elevation(point["link"], overrides, point["pass_time_s"],
                                                 point.get("pass_max_elevation_deg"))
            else:
                elevation = point.get("elevation_deg")
            base = self._link_channel(point["link"], elevation, overrides)
            return Channel.from_dict(dict(base)).replace(**fields).to_dict() if fields else base
        for key in ("elevation_deg", "pass_time_s", "pass_max_elevation_deg") + tuple(f"override.{k}" for k in overrides):
            if key in point:
                raise InvalidParameter(key, point[key], "only together with link",
                                       f"{key} needs a link preset (key 'link')")
        if "loss_db" in point:
            if "channel.transmittance" in point:
                raise InvalidParameter("loss_db", point["loss_db"], "not together with channel.transmittance",
                                       "loss_db sets channel.transmittance; give only one of them")
            loss = check_non_negative("loss_db", point["loss_db"])
            fields["transmittance"] = 10.0 ** (-loss / 10.0)
        return Channel(**fields).to_dict()

    def task(self, point: dict[str, Any]) -> Task:
        if "protocol" not in point:
            raise InvalidParameter("protocol", None, "a registered protocol name in fixed, grid or zip",
                                   "every point needs 'protocol'")
        for key, rule in (("rounds", "an int >= 1"), ("seed", "an int >= 0")):
            if key not in point:
                raise InvalidParameter(key, None, rule, f"every point needs {key!r} ({rule}) in defaults, "
                                       "fixed, grid or zip")
        rounds = check_int("rounds", point["rounds"], minimum=1)
        seed = check_int("seed", point["seed"], minimum=0)
        construct = {k[6:]: v for k, v in point.items() if k.startswith("param.")}
        parameters, n_channels = self._protocol(point["protocol"], construct)
        form = check_one_of("form", point.get("form", "fast"), ("fast", "erasure"))
        spec, eve_key = self._eavesdropper(point.get("eavesdropper"))
        engine_fields = {k[7:]: v for k, v in point.items() if k.startswith("engine.")}
        for f in engine_fields:
            check_one_of("engine field", f, _ENGINE_FIELDS)
        from qproto import Engine

        engine = dataclasses.asdict(Engine(**engine_fields))
        channel = self.channel(point)
        return Task(protocol=point["protocol"], parameters=parameters, construct=construct,
                    channels=(channel,) * n_channels, rounds=rounds, seed=seed, eavesdropper=spec,
                    eavesdropper_key=eve_key, form=form, engine=engine, versions=self._versions, point=point)


def sweep_from(obj: Sweep | Mapping[str, Any] | str | os.PathLike | Sequence[Task]) -> Sweep:
    """A :class:`Sweep` from a Sweep, TOML-shaped dict or TOML file path."""
    if isinstance(obj, Sweep):
        return obj
    if isinstance(obj, Mapping):
        return Sweep.from_dict(obj)
    if isinstance(obj, (str, os.PathLike)):
        return Sweep.from_toml(obj)
    raise InvalidType("sweep", obj, "a Sweep, a dict or a TOML file path")
