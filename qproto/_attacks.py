"""Eavesdroppers, inserted into protocols' circuits as circuit fragments.

An eavesdropper acts on the qubit at the entrance of a channel, before the
channel's own loss and noise. Each round she is in one of ``n_branches``
branches drawn with numpy (branch 0 = she leaves the round alone); the branch is
part of the round's configuration, so attacked rounds are batched like any other.
"""

from __future__ import annotations

import abc
import dataclasses
from typing import Any, ClassVar

import numpy as np
from qiskit import QuantumCircuit

from qproto._errors import InvalidParameter, InvalidType
from qproto._validation import check_probability

__all__ = ["Eavesdropper", "InterceptResend", "EAVESDROPPERS", "get_eavesdropper", "parse_eavesdropper"]


class Eavesdropper(abc.ABC):
    """An attack on one channel use, given as a circuit fragment.

    Subclasses set ``name``, ``n_branches`` and ``n_ancillas`` and implement
    :meth:`draw_branches` and :meth:`apply`. Her record (one bit per round) is
    what her ancilla reads when measured at the end of the circuit.
    """

    name: ClassVar[str]
    n_branches: ClassVar[int]
    n_ancillas: ClassVar[int] = 1

    @abc.abstractmethod
    def draw_branches(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Draw the attack branch of ``n`` rounds (uint8, 0 = not attacked)."""

    @abc.abstractmethod
    def apply(self, circuit: QuantumCircuit, qubit: int, ancilla: int, branch: int) -> None:
        """Append the fragment of ``branch`` acting on ``qubit``; her record goes to ``ancilla``."""

    @abc.abstractmethod
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description, including ``"name"``."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class InterceptResend(Eavesdropper):
    """Intercept-resend: on a fraction of rounds Eve measures in a random basis and resends.

    Eve's measurement is written with the deferred-measurement principle: she
    copies the qubit's value in her basis onto her ancilla (``cx`` in Z, ``h; cx; h``
    in X), which decoheres the travelling qubit exactly as measuring and resending
    the eigenstate found would, and her ancilla holds the result she would have
    read. Keeping the measurement at the end lets the engine compute exact
    outcome distributions.

    Attributes:
        fraction: probability in [0, 1] that a round is attacked.
        p_z: probability in [0, 1] that Eve measures an attacked round in Z (else X).

    Expected effect on BB84 (docs/conventions.md A1, invariant 11): QBER fraction/4; her bit
    equals Alice's on 3/4 of the sifted bits she attacked.
    """

    name: ClassVar[str] = "intercept-resend"
    n_branches: ClassVar[int] = 3

    fraction: float = 1.0
    p_z: float = 0.5

    def __post_init__(self) -> None:
        object.__setattr__(self, "fraction", check_probability("fraction", self.fraction))
        object.__setattr__(self, "p_z", check_probability("p_z", self.p_z))

    def draw_branches(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Branch 0: not attacked; 1: measured in Z; 2: measured in X."""
        if self.fraction == 0.0:
            return np.zeros(n, dtype=np.uint8)
        u = rng.random(n)
        attacked = u < self.fraction
        in_x = u >= self.fraction * self.p_z
        return (attacked.view(np.uint8) + (attacked & in_x).view(np.uint8)).astype(np.uint8, copy=False)

    def apply(self, circuit: QuantumCircuit, qubit: int, ancilla: int, branch: int) -> None:
        if branch == 0:
            return
        if branch == 2:
            circuit.h(qubit)
        circuit.cx(qubit, ancilla)
        if branch == 2:
            circuit.h(qubit)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "fraction": self.fraction, "p_z": self.p_z}


EAVESDROPPERS: dict[str, type[Eavesdropper]] = {InterceptResend.name: InterceptResend}


def get_eavesdropper(name: str, **params: Any) -> Eavesdropper:
    """Build a registered eavesdropper by name.

    Raises:
        InvalidParameter: unknown name (the message lists the available ones).
    """
    if not isinstance(name, str):
        raise InvalidType("eavesdropper", name, "a str")
    if name not in EAVESDROPPERS:
        raise InvalidParameter("eavesdropper", name, f"one of {sorted(EAVESDROPPERS)}",
                               f"unknown eavesdropper {name!r}; available: {sorted(EAVESDROPPERS)}")
    return EAVESDROPPERS[name](**params)


def parse_eavesdropper(spec: str) -> Eavesdropper:
    """Parse ``"intercept-resend"`` or ``"intercept-resend:FRACTION"`` (the CLI's syntax)."""
    if not isinstance(spec, str):
        raise InvalidType("eavesdropper", spec, "a str such as 'intercept-resend:0.5'")
    name, _, frac = spec.partition(":")
    if not frac:
        return get_eavesdropper(name)
    try:
        value = float(frac)
    except ValueError:
        raise InvalidParameter("eavesdropper", spec, "NAME or NAME:FRACTION with FRACTION in [0, 1]",
                               f"eavesdropper={spec!r}: fraction {frac!r} is not a number") from None
    return get_eavesdropper(name, fraction=value)
