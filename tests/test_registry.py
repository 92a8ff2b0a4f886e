"""The protocol registry: built-ins, user registration and entry-point plugins."""

import importlib.metadata
from typing import ClassVar

import pytest

import qproto._protocol as proto_mod
from qproto import PROTOCOLS, InvalidParameter, InvalidType, available_protocols, get_protocol, register_protocol
from qproto.protocols import BB84


def test_builtins_are_registered():
    assert {"bb84", "bbm92"} <= set(available_protocols())
    assert isinstance(get_protocol("bb84"), BB84)


def test_unknown_protocol_lists_the_available_ones():
    with pytest.raises(InvalidParameter, match=r"unknown protocol 'e91'; available: \[") as info:
        get_protocol("e91")
    assert all(repr(name) in str(info.value) for name in available_protocols())
    with pytest.raises(InvalidParameter, match="accepted"):
        get_protocol("bb84", nonsense=1)


def test_user_protocols_register_by_decorator_and_names_are_unique():
    @register_protocol
    class Biased(BB84):
        name: ClassVar[str] = "test-biased-bb84"

    try:
        assert get_protocol("test-biased-bb84").name == "test-biased-bb84"
        with pytest.raises(InvalidParameter, match="already registered"):
            register_protocol(type("Other", (BB84,), {"name": "test-biased-bb84"}))
        with pytest.raises(InvalidType):
            register_protocol(int)
    finally:
        PROTOCOLS.pop("test-biased-bb84", None)


def test_the_same_definition_run_again_replaces_the_registered_class():
    """A notebook cell defining a protocol, run twice: same module and qualified name, a new class
    object. It replaces the old one; a different class under the same name is still refused."""

    def define():
        @register_protocol
        class Rerun(BB84):
            name: ClassVar[str] = "test-rerun-bb84"
        return Rerun

    try:
        first, second = define(), define()
        assert first is not second
        assert PROTOCOLS["test-rerun-bb84"] is second
        with pytest.raises(InvalidParameter, match="already registered"):
            register_protocol(type("Rerun", (BB84,), {"name": "test-rerun-bb84", "__module__": "elsewhere"}))
        assert PROTOCOLS["test-rerun-bb84"] is second
    finally:
        PROTOCOLS.pop("test-rerun-bb84", None)


def test_third_party_protocols_load_from_the_entry_point_group(monkeypatch):
    class Plugin(BB84):
        name: ClassVar[str] = "test-plugin-bb84"

    class FakeEntryPoint:
        name = "test-plugin-bb84"

        def load(self):
            return Plugin

    def fake_entry_points(group):
        assert group == "qproto.protocols"
        return [FakeEntryPoint()]

    monkeypatch.setattr(importlib.metadata, "entry_points", fake_entry_points)
    monkeypatch.setattr(proto_mod, "_entry_points_loaded", False)
    try:
        assert "test-plugin-bb84" in available_protocols()
        assert isinstance(get_protocol("test-plugin-bb84"), Plugin)
    finally:
        PROTOCOLS.pop("test-plugin-bb84", None)
