"""qproto's own exception types.

Every invalid argument raised by qproto is an instance of one of these, so a caller
can catch qproto's validation errors without catching unrelated ``ValueError``s.
"""

from __future__ import annotations

__all__ = ["QprotoError", "InvalidParameter", "InvalidType"]


class QprotoError(Exception):
    """Base class of every exception qproto raises on purpose."""


class InvalidParameter(QprotoError, ValueError):
    """A parameter has a value outside its allowed range or set.

    Attributes:
        name: the parameter's name, as the caller spelled it.
        value: the offending value.
        allowed: a human-readable description of what is allowed.
    """

    def __init__(self, name: str, value: object, allowed: str, message: str | None = None):
        self.name = name
        self.value = value
        self.allowed = allowed
        super().__init__(message or f"{name}={value!r} is invalid; allowed: {allowed}")


class InvalidType(QprotoError, TypeError):
    """A parameter has the wrong type.

    Attributes:
        name: the parameter's name.
        value: the offending value.
        expected: a description of the accepted types.
    """

    def __init__(self, name: str, value: object, expected: str):
        self.name = name
        self.value = value
        self.expected = expected
        super().__init__(
            f"{name}={value!r} has type {type(value).__name__}; expected {expected}"
        )
