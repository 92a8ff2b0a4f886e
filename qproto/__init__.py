"""qproto: quantum-communication protocols as Qiskit circuits on qiskit-aer,
over channels modelled on non-terrestrial free-space links.

The public surface is small; everything else lives in private modules::

    from qproto import Channel, get_protocol
    result = get_protocol("bb84").run(Channel(transmittance=0.1, depolarisation=0.02),
                                      rounds=100_000, seed=1)
    result.qber_z, result.key_rate

A protocol of your own in about forty lines: subclass :class:`DeclarativeProtocol`
(docs/write-your-own-protocol.md).

The names below are loaded on first use (PEP 562), so ``import qproto`` (and ``qproto --help``,
``qproto --version``) does not import qiskit until something needs it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: Public name -> the private module that defines it.
_EXPORTS: dict[str, str] = {
    "Channel": "qproto._channel",
    "ChannelMapping": "qproto._declarative",
    "Configuration": "qproto._declarative",
    "DeclarativeProtocol": "qproto._declarative",
    "DeclaredResult": "qproto._declarative",
    "EAVESDROPPERS": "qproto._attacks",
    "Eavesdropper": "qproto._attacks",
    "Engine": "qproto._engine",
    "CombinedResult": "qproto._results",
    "Estimate": "qproto._results",
    "InterceptResend": "qproto._attacks",
    "InvalidParameter": "qproto._errors",
    "InvalidType": "qproto._errors",
    "PROTOCOLS": "qproto._protocol",
    "Parameter": "qproto._declarative",
    "Protocol": "qproto._protocol",
    "ProtocolResult": "qproto._results",
    "QKDCounts": "qproto._results",
    "QKDResult": "qproto._results",
    "QprotoError": "qproto._errors",
    "RoundView": "qproto._declarative",
    "SeedLike": "qproto._seeding",
    "available_protocols": "qproto._protocol",
    "get_channel_mapping": "qproto._declarative",
    "get_eavesdropper": "qproto._attacks",
    "get_protocol": "qproto._protocol",
    "parse_eavesdropper": "qproto._attacks",
    "register_channel_mapping": "qproto._declarative",
    "register_protocol": "qproto._protocol",
    "result_from_dict": "qproto._results",
    "run": "qproto._protocol",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    """Load a public name (or a subpackage such as ``qproto.protocols``) on first access."""
    module = _EXPORTS.get(name)
    if module is not None:
        value = getattr(importlib.import_module(module), name)
        globals()[name] = value  # later lookups skip this function
        return value
    if not name.startswith("_"):
        try:
            return importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
    raise AttributeError(f"module 'qproto' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # for type checkers and IDEs: the same names, imported eagerly
    from qproto._attacks import EAVESDROPPERS, Eavesdropper, InterceptResend, get_eavesdropper, parse_eavesdropper
    from qproto._channel import Channel
    from qproto._declarative import (
        ChannelMapping,
        Configuration,
        DeclarativeProtocol,
        DeclaredResult,
        Parameter,
        RoundView,
        get_channel_mapping,
        register_channel_mapping,
    )
    from qproto._engine import Engine
    from qproto._errors import InvalidParameter, InvalidType, QprotoError
    from qproto._protocol import PROTOCOLS, Protocol, available_protocols, get_protocol, register_protocol, run
    from qproto._results import CombinedResult, Estimate, ProtocolResult, QKDCounts, QKDResult, result_from_dict
    from qproto._seeding import SeedLike
