"""Every registered protocol rebuilds from its own ``parameters()`` (issue 9: mutation testing
found the keys of ``parameters()`` free to be renamed in teleportation, the trusted relay and
MDI-QKD without a test noticing; a renamed key would break ``qproto bench`` task ids, JSON
results and ``get_protocol(name, **params)``)."""

from __future__ import annotations

import pytest

from qproto import available_protocols, get_protocol

# QSDC's parameters() holds the message as hex text (its JSON form); the constructor takes bytes
HEX_MESSAGE = {"qsdc-dl04", "qsdc-two-step"}


@pytest.mark.parametrize("name", available_protocols())
def test_a_protocol_rebuilt_from_its_parameters_has_the_same_parameters(name):
    protocol = get_protocol(name)
    params = protocol.parameters()
    given = {**params, "message": bytes.fromhex(params["message"])} if name in HEX_MESSAGE else params
    again = get_protocol(name, **given)
    assert again.parameters() == params
    assert type(again) is type(protocol)
