"""The built-in protocols, registered by name on import (see :func:`qproto.get_protocol`).

==========================  ==========================================================
registry name               class
==========================  ==========================================================
``bb84``                    :class:`BB84` (symmetric or biased bases)
``b92``                     :class:`B92` (two non-orthogonal states)
``six-state``               :class:`SixState` (three bases, E_X, E_Y, E_Z)
``bbm92``                   :class:`BBM92` (entanglement-based, CHSH test rounds)
``decoy-bb84``              :class:`DecoyBB84` (weak coherent pulses, finite key)
``mdi-qkd``                 :class:`MDIQKD` (untrusted Bell-measurement relay)
``qsdc-two-step``           :class:`QSDCTwoStep` (entanglement, dense coding)
``qsdc-dl04``               :class:`DL04` (single photons, two crossings)
``teleportation``           :class:`Teleportation`
``swapping``                :class:`Swapping` (repeater chains, purification)
``trusted-relay``           :class:`TrustedRelay`
``ghz-cka``                 :class:`GHZConferenceKey`
``hbb-secret-sharing``      :class:`HBBSecretSharing`
``threshold-sharing``       :class:`ThresholdSharing` (((3,5)) from the [[5,1,3]] code)
``anonymous-transmission``  :class:`AnonymousTransmission` (Christandl-Wehner)
``anonymous-bit``           :class:`QuantumAnonymousBit`
``broadbent-tapp``          :class:`BroadbentTapp` (classical parity, anonymous bit)
==========================  ==========================================================
"""

from qproto.protocols._anonymous import AnonymousTransmission, BroadbentTapp, QuantumAnonymousBit
from qproto.protocols._b92 import B92
from qproto.protocols._bb84 import BB84
from qproto.protocols._bbm92 import BBM92
from qproto.protocols._decoy_bb84 import DecoyBB84
from qproto.protocols._ghz_cka import GHZConferenceKey
from qproto.protocols._mdi_qkd import MDIQKD
from qproto.protocols._qsdc import DL04, QSDCTwoStep
from qproto.protocols._six_state import SixState
from qproto.protocols._secret_sharing import HBBSecretSharing, ThresholdSharing, XYInterceptResend
from qproto.protocols._swapping import Swapping
from qproto.protocols._teleportation import Teleportation
from qproto.protocols._trusted_relay import TrustedRelay

__all__ = [
    "AnonymousTransmission", "B92", "BB84", "BBM92", "BroadbentTapp", "DL04", "DecoyBB84", "GHZConferenceKey",
    "HBBSecretSharing", "MDIQKD", "QSDCTwoStep", "QuantumAnonymousBit", "SixState", "Swapping", "Teleportation",
    "ThresholdSharing", "TrustedRelay", "XYInterceptResend",
]
