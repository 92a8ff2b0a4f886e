"""The built-in protocols, registered by name on import (see :func:`qproto.get_protocol`)."""

from qproto.protocols._bb84 import BB84
from qproto.protocols._bbm92 import BBM92

__all__ = ["BB84", "BBM92"]
