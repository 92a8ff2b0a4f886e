"""Link scenarios: every :class:`Link` field settable from text, and scenario files in TOML.

A *scenario* is a whole :class:`Link` written out field by field. ``qproto link show NAME --save
FILE.toml`` writes one; ``qproto pass --scenario FILE.toml`` and ``qproto link show --scenario
FILE.toml`` read it back; ``--set FIELD=VALUE`` changes one field of a preset or a scenario. The same
is available from Python:

* :func:`link_to_dict` / :func:`link_from_dict`: a Link as plain data (``None`` kept) and back;
* :func:`save_link_scenario` / :func:`load_link_scenario`: the same as a TOML file (``None`` is
  written as the string ``"none"``, since TOML has no null);
* :func:`apply_link_overrides`: ``FIELD=VALUE`` strings (or a mapping) applied to a Link, every value
  parsed for its field's type and validated by the Link; ``detector.FIELD=VALUE`` changes one field
  of the detector (``detector=NAME`` picks a preset detector);
* :data:`LINK_FIELDS`: the settable names.

Errors name the field, the value and what is allowed (an unknown field lists the allowed ones).
"""

from __future__ import annotations

import dataclasses
import math
import os
import tomllib
from collections.abc import Mapping, Sequence
from typing import Any

from qproto._errors import InvalidParameter, InvalidType, QprotoError

from ._detectors import Detector, get_detector
from ._link import Link

__all__ = ["LINK_FIELDS", "DETECTOR_FIELDS", "link_to_dict", "link_from_dict", "apply_link_overrides",
           "save_link_scenario", "load_link_scenario", "parse_link_value"]

_STR = ("name", "description", "direction", "geometry", "airmass_model", "frame_tracking")
_BOOL = ("atmosphere", "turbulence", "scintillation_fading", "uplink_tip_tilt_tracking", "hwp_compensation")
_INT = ("n_detectors",)
_OPTIONAL = ("nominal_elevation_deg", "fixed_range_m", "divergence_half_angle_rad", "noise_click")
_STORED = tuple(f.name for f in dataclasses.fields(Link) if f.name != "sources")
#: Every field ``--set`` accepts: the Link's stored fields, the init-only full-angle divergence,
#: and the detector's own fields as ``detector.FIELD``.
DETECTOR_FIELDS = ("name", "efficiency", "dark_count_rate_hz", "dead_time_s", "afterpulse_probability")
LINK_FIELDS = _STORED + ("divergence_full_angle_rad",) + tuple(f"detector.{f}" for f in DETECTOR_FIELDS)
_NONE_WORDS = ("none", "null", "")
_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")


def _kind(field: str) -> str:
    if field in _STR or field == "detector" or field == "detector.name":
        return "str"
    if field in _BOOL:
        return "bool"
    if field in _INT:
        return "int"
    if field in _OPTIONAL:
        return "optional float"
    return "float"


def parse_link_value(field: str, text: str, *, flag: str = "--set") -> Any:
    """Parse ``text`` for the Link field ``field`` (a name of :data:`LINK_FIELDS` or ``detector``).

    Numbers accept Python float syntax (``1e-6``); integers accept ``2`` or ``2.0``/``2e0``;
    booleans ``true/false/yes/no/on/off/1/0``; optional numbers also ``none``;
    ``pointing_jitter_rad`` also a level name (``weak``, ``moderate``, ``strong``).

    Raises:
        InvalidParameter: an unknown field, or text that is not of the field's type (the message
            names ``flag``, the field and the value).
    """
    if field not in LINK_FIELDS and field != "detector":
        raise InvalidParameter(flag, field, f"one of {', '.join(LINK_FIELDS)}",
                               f"{flag} {field}=...: unknown link field {field!r}; allowed: {', '.join(LINK_FIELDS)}")
    if not isinstance(text, str):
        return text
    kind = _kind(field)
    raw = text.strip()
    if kind == "str":
        return raw
    low = raw.lower()
    if kind == "bool":
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise InvalidParameter(field, text, "true or false", f"{flag} {field}={text!r}: not a boolean; "
                               "allowed: true/false (yes/no, on/off, 1/0)")
    if kind == "optional float" and low in _NONE_WORDS:
        return None
    if field == "pointing_jitter_rad" and low in ("weak", "moderate", "strong"):
        return low
    try:
        value = float(raw)
    except ValueError:
        what = "an integer" if kind == "int" else "a number" + (" or none" if kind == "optional float" else "")
        raise InvalidParameter(field, text, what, f"{flag} {field}={text!r}: not {what}") from None
    if not math.isfinite(value):
        raise InvalidParameter(field, text, "a finite number", f"{flag} {field}={text!r}: not finite")
    if kind == "int":
        if value != int(value):
            raise InvalidParameter(field, text, "an integer", f"{flag} {field}={text!r}: not an integer")
        return int(value)
    return value


def _detector_dict(det: Detector) -> dict[str, Any]:
    return {f: getattr(det, f) for f in DETECTOR_FIELDS}


def link_to_dict(link: Link) -> dict[str, Any]:
    """Every stored field of ``link`` as plain data: the detector as a dict, ``sources`` as a dict.

    ``link_from_dict(link_to_dict(link)) == link``.
    """
    if not isinstance(link, Link):
        raise InvalidType("link", link, "a qproto.noise_models.Link")
    out: dict[str, Any] = {}
    for f in _STORED:
        v = getattr(link, f)
        out[f] = _detector_dict(v) if f == "detector" else v
    out["sources"] = dict(link.sources)
    return out


def link_from_dict(data: Mapping[str, Any], *, where: str = "link") -> Link:
    """A :class:`Link` from :func:`link_to_dict`'s data (missing fields take the Link's defaults).

    Args:
        data: ``{field: value}``; ``detector`` a preset name or a dict of the Detector's fields;
            ``"none"`` (any case) stands for None in the optional numeric fields.
        where: how errors name the source (for example the scenario file).

    Raises:
        InvalidParameter: an unknown field (the allowed ones listed), a missing required field,
            or a value the Link refuses.
        InvalidType: ``data`` is not a mapping.
    """
    if not isinstance(data, Mapping):
        raise InvalidType(where, data, "a table of link fields")
    allowed = _STORED + ("divergence_full_angle_rad", "sources")
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        if key not in allowed:
            raise InvalidParameter(f"{where}.{key}", value, f"one of {', '.join(allowed)}",
                                   f"{where}: unknown link field {key!r}; allowed: {', '.join(allowed)}")
        if key == "detector":
            if isinstance(value, Mapping):
                unknown = [k for k in value if k not in DETECTOR_FIELDS]
                if unknown:
                    raise InvalidParameter(f"{where}.detector.{unknown[0]}", value[unknown[0]],
                                           f"one of {', '.join(DETECTOR_FIELDS)}",
                                           f"{where}: unknown detector field {unknown[0]!r}; allowed: "
                                           f"{', '.join(DETECTOR_FIELDS)}")
                try:
                    value = Detector(**{k: value[k] for k in value})
                except TypeError as exc:
                    raise InvalidParameter(f"{where}.detector", dict(value),
                                           f"the fields {', '.join(DETECTOR_FIELDS[:3])} (at least)",
                                           f"{where}: detector: {exc}") from None
            kwargs[key] = value
        elif key == "sources":
            kwargs[key] = tuple((str(k), str(v)) for k, v in dict(value).items())
        elif isinstance(value, str) and _kind(key) != "str":
            kwargs[key] = parse_link_value(key, value, flag=where)
        else:
            kwargs[key] = value
    try:
        return Link(**kwargs)
    except TypeError as exc:  # a missing required field
        missing = [f for f in ("upper_altitude_m", "tx_aperture_m", "rx_aperture_m") if f not in kwargs]
        raise InvalidParameter(f"{where}.{missing[0] if missing else '?'}", None,
                               "a value (required field)", f"{where}: {exc}") from None


def apply_link_overrides(link: Link, overrides: Sequence[str] | Mapping[str, Any], *,
                         flag: str = "--set") -> Link:
    """``link`` with fields changed by ``FIELD=VALUE`` strings (or a ``{field: value}`` mapping).

    Every field of :data:`LINK_FIELDS` can be set; ``detector=NAME`` picks a preset detector and
    ``detector.FIELD=VALUE`` changes one field of the current detector (in the order given). The
    result is validated as a new Link, and the name gains a ``*`` (it is no longer the preset).

    Raises:
        InvalidParameter: a string without ``=``, an unknown field (allowed ones listed), a value of
            the wrong type or outside its range; the message starts with ``flag FIELD=VALUE``.
    """
    if not isinstance(link, Link):
        raise InvalidType("link", link, "a qproto.noise_models.Link")
    if isinstance(overrides, Mapping):
        pairs = [(str(k), v) for k, v in overrides.items()]
    else:
        pairs = []
        for item in overrides:
            if not isinstance(item, str) or "=" not in item:
                raise InvalidParameter(flag, item, "FIELD=VALUE", f"{flag} {item!r}: expected FIELD=VALUE "
                                       f"(fields: {', '.join(LINK_FIELDS)})")
            k, v = item.split("=", 1)
            pairs.append((k.strip(), v))
    if not pairs:
        return link
    changes: dict[str, Any] = {}
    det = link.detector
    for key, text in pairs:
        value = parse_link_value(key, text, flag=flag)
        try:
            if key == "detector":
                det = get_detector(value) if isinstance(value, str) else value
            elif key.startswith("detector."):
                det = dataclasses.replace(det, **{key.split(".", 1)[1]: value})
            else:
                changes[key] = value
        except QprotoError as exc:
            raise InvalidParameter(key, text, getattr(exc, "allowed", "a valid value"),
                                   f"{flag} {key}={text}: {exc}") from None
    if det is not link.detector:
        changes["detector"] = det
    if "name" not in changes and not link.name.endswith("*"):
        changes["name"] = link.name + "*"
    try:
        return link.replace(**changes)
    except QprotoError as exc:
        name = getattr(exc, "name", None)
        text = dict(pairs).get(name, getattr(exc, "value", "?"))
        raise InvalidParameter(name or flag, text, getattr(exc, "allowed", "a valid value"),
                               f"{flag} {name}={text}: {exc}") from None


def _toml_value(v: Any) -> Any:
    return "none" if v is None else v


def save_link_scenario(link: Link, path: str | os.PathLike) -> str:
    """Write ``link`` as a TOML scenario file (a ``[link]`` table, ``[link.detector]``, ``[link.sources]``).

    Returns:
        The path written.

    Raises:
        InvalidParameter: the path cannot be written (names ``path``).
    """
    import tomli_w

    data = link_to_dict(link)
    table = {k: _toml_value(v) for k, v in data.items() if k not in ("detector", "sources")}
    table["detector"] = data["detector"]
    table["sources"] = data["sources"]
    text = ("# qproto link scenario: every field of a qproto.noise_models.Link (units in the field names).\n"
            "# Read back with `qproto pass --scenario FILE` or `qproto link show --scenario FILE`;\n"
            "# 'none' stands for an unset optional value.\n" + tomli_w.dumps({"link": table}))
    try:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as exc:
        raise InvalidParameter("path", str(path), "a writable file path",
                               f"cannot write the scenario to {str(path)!r}: {exc.strerror or exc}") from None
    return str(path)


def load_link_scenario(path: str | os.PathLike) -> Link:
    """Read a TOML scenario file written by :func:`save_link_scenario` (or by hand).

    The file holds a ``[link]`` table of Link fields (missing ones take the Link's defaults).

    Raises:
        InvalidParameter: unreadable file, invalid TOML, no ``[link]`` table, unknown fields or
            invalid values (the message names the file and the field).
    """
    where = str(path)
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise InvalidParameter("scenario", where, "a readable TOML file",
                               f"cannot read the scenario {where!r}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise InvalidParameter("scenario", where, "a TOML file", f"scenario {where!r} is not valid TOML: {exc}") \
            from None
    if "link" not in data or not isinstance(data["link"], dict):
        raise InvalidParameter("scenario", where, "a file with a [link] table",
                               f"scenario {where!r} has no [link] table (found: {sorted(data)})")
    return link_from_dict(data["link"], where=f"{where}: link")
