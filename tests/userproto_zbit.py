"""A small user protocol, written against qproto's public API only, for the verify tests.

"zbit": Alice sends a random bit in the Z basis over one channel; Bob measures Z. Its
closed forms come from the Channel's documented per-basis error (docs/conventions.md C.8 with the
coherent rotation) and click probability. ``variant`` plants bugs for the tests:
``"flip-expected"`` reports the X-basis error as the expected Z error (wrong closed form),
``"global-rng"`` draws Alice's bits from numpy's global RNG (not reproducible).
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import numpy as np
from qiskit import QuantumCircuit

from qproto import Channel, Estimate, Protocol, ProtocolResult, register_protocol
from qproto.noise_models import channel_marker, channel_noise_model


@dataclasses.dataclass(frozen=True, kw_only=True)
class ZBitResult(ProtocolResult):
    """Tallies ``clicks`` (rounds Bob clicked), ``errors`` (clicked rounds with b != a) and
    ``ones0``..``ones3`` (Alice's 1s at round positions 0..3 mod 4 of each chunk)."""

    ADDITIVE: ClassVar[tuple[str, ...]] = ("tallies",)
    tallies: dict[str, int]

    def estimates(self) -> dict[str, Estimate | float | int | None]:
        t = self.tallies
        return {"click_rate": Estimate.binomial(t["clicks"], self.rounds),
                "qber_z": Estimate.binomial(t["errors"], t["clicks"])}


@register_protocol
class ZBit(Protocol):
    """Random Z-basis bits over one channel (a user's protocol for the verify tests)."""

    name: ClassVar[str] = "test-zbit"
    VERIFY_ROUNDS: ClassVar[int] = 8000

    def __init__(self, *, variant: str = "correct"):
        self.variant = variant

    def parameters(self) -> dict[str, Any]:
        return {"variant": self.variant}

    def build_circuits(self, *, eavesdropper=None, form="fast") -> tuple[QuantumCircuit, ...]:
        out = []
        for bit in (0, 1):
            qc = QuantumCircuit(1, 1)
            if bit:
                qc.x(0)
            qc.append(channel_marker(), [0])
            qc.measure(0, 0)
            out.append(qc)
        return tuple(out)

    def noise_model(self, channels, *, eavesdropper=None, form="fast"):
        return channel_noise_model({0: channels[0]})

    def sample_chunk(self, compiled, channels, rounds, rng, *, eavesdropper, form, aer_seed):
        ch = channels[0]
        if self.variant == "global-rng":
            bits = (np.random.random(rounds) < 0.5).astype(np.uint8)  # the planted bug
        else:
            bits = (rng.random(rounds) < 0.5).astype(np.uint8)
        eta = ch.total_transmittance
        signal = rng.random(rounds) < eta
        noise = ~signal & (rng.random(rounds) < ch.noise_click)
        bob = compiled.sample_trusted(bits, rng, aer_seed=aer_seed).astype(np.uint8)
        bob = np.where(noise, (rng.random(rounds) < 0.5).astype(np.uint8), bob)
        clicked = signal | noise
        # Alice's bit balance by round position mod 4: four counts a hidden RNG cannot keep equal
        # between two runs (each pair of Bin(n/4, 1/2) counts is equal with probability ~1 %, all
        # four ~1e-8), where clicks and errors alone barely depend on the bits' values.
        ones = {f"ones{k}": int(bits[k::4].sum()) for k in range(4)}
        return {"clicks": int(clicked.sum()), "errors": int((clicked & (bob != bits)).sum()), **ones}

    def analyse(self, record):
        return record

    def make_result(self, tallies, *, channels, rounds, seed, eavesdropper) -> ZBitResult:
        return ZBitResult(protocol=self.name, parameters=self.parameters(), channels=channels, rounds=rounds,
                          seed=seed, tallies=dict(tallies))

    def expected(self, channel, *, eavesdropper=None) -> dict[str, float]:
        ch = channel if isinstance(channel, Channel) else channel[0]
        qber = ch.qber_x if self.variant == "flip-expected" else ch.qber_z
        return {"click_rate": ch.detection_probability, "qber_z": qber}


@register_protocol
class ZBitBroken(ZBit):
    """The same protocol whose closed form reports the X-basis error for Z (a planted bug)."""

    name: ClassVar[str] = "test-zbit-broken"

    def __init__(self, *, variant: str = "flip-expected"):
        super().__init__(variant=variant)
