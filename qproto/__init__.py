"""qproto: quantum-communication protocols as Qiskit circuits on qiskit-aer,
over channels modelled on non-terrestrial free-space links.

The public surface is small; everything else lives in private modules::

    from qproto import Channel, get_protocol
    result = get_protocol("bb84").run(Channel(transmittance=0.1, depolarisation=0.02),
                                      rounds=100_000, seed=1)
    result.qber_z, result.key_rate

A protocol of your own in about forty lines: subclass :class:`DeclarativeProtocol`
(docs/write-your-own-protocol.md).
"""

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
from qproto._protocol import (
    PROTOCOLS,
    Protocol,
    available_protocols,
    get_protocol,
    register_protocol,
    run,
)
from qproto._results import Estimate, ProtocolResult, QKDCounts, QKDResult, result_from_dict
from qproto._seeding import SeedLike

__version__ = "0.1.0"

__all__ = [
    "Channel", "ChannelMapping", "Configuration", "DeclarativeProtocol", "DeclaredResult", "EAVESDROPPERS", "Eavesdropper",
    "Engine", "Estimate", "InterceptResend", "InvalidParameter", "InvalidType", "PROTOCOLS", "Parameter",
    "Protocol", "ProtocolResult", "QKDCounts", "QKDResult", "QprotoError", "RoundView", "SeedLike",
    "available_protocols", "get_channel_mapping", "get_eavesdropper", "get_protocol", "parse_eavesdropper", "register_channel_mapping",
    "register_protocol", "result_from_dict", "run",
]
