"""The :class:`Channel` value object: one use of a lossy, noisy qubit channel."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from qproto._errors import InvalidParameter, InvalidType
from qproto._validation import check_in_range, check_probability

__all__ = ["Channel"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class Channel:
    """One use of a lossy, noisy channel carrying a polarisation (or time-bin) qubit.

    The channel is summarised by what happens to one photon sent through it and
    detected by a two-detector receiver (PHYSICS.md section 0 and C.8):

    * it arrives and is detected with probability ``total_transmittance``
      (``transmittance * detector_efficiency``);
    * given arrival, the qubit suffers Aer's ``depolarizing_error(p, 1)`` with
      ``p = depolarisation``, then a misalignment error that flips the bit with
      probability ``misalignment`` in either basis (modelled, as PHYSICS.md C.8(c)
      says, as a further ``depolarizing_error(2 * misalignment, 1)``);
    * when no signal photon is detected, a noise click (dark count or background)
      still occurs with probability ``noise_click`` per detection window and carries
      a uniformly random bit (squashing model). A signal detection takes precedence
      over a simultaneous noise click.

    So a click occurs with probability ``eta + (1 - eta) * Y0`` and, given a click,
    the qubit seen by the receiver has suffered the depolarising parameter
    :attr:`effective_depolarisation`.

    Attributes:
        transmittance: channel transmittance in [0, 1] (geometry, pointing,
            atmosphere, optics), excluding the detector efficiency. Dimensionless.
        depolarisation: Aer depolarising parameter p in [0, 4/3] given arrival
            (error probability p/2 in each basis).
        misalignment: intrinsic misalignment error e_d in [0, 1/2] (bit-flip
            probability given arrival, in each basis).
        noise_click: probability Y0 in [0, 1] of a noise click per detection window
            (dark counts plus background, both detectors together).
        detector_efficiency: detector efficiency in [0, 1].

    Examples:
        >>> from qproto import Channel
        >>> ch = Channel(transmittance=0.1, depolarisation=0.02)
        >>> round(ch.qber, 4)
        0.01
        >>> Channel.ideal().qber
        0.0
    """

    transmittance: float = 1.0
    depolarisation: float = 0.0
    misalignment: float = 0.0
    noise_click: float = 0.0
    detector_efficiency: float = 1.0

    def __post_init__(self) -> None:
        fields = {
            "transmittance": check_probability("transmittance", self.transmittance),
            "depolarisation": check_in_range("depolarisation", self.depolarisation, 0.0, 4.0 / 3.0),
            "misalignment": check_in_range("misalignment", self.misalignment, 0.0, 0.5),
            "noise_click": check_probability("noise_click", self.noise_click),
            "detector_efficiency": check_probability("detector_efficiency", self.detector_efficiency),
        }
        for name, value in fields.items():
            object.__setattr__(self, name, value)

    # ---- constructors -------------------------------------------------------------
    @classmethod
    def ideal(cls) -> Channel:
        """A lossless, noiseless channel."""
        return cls()

    @classmethod
    def from_qber(cls, qber: float, *, transmittance: float = 1.0) -> Channel:
        """A channel whose BB84 error rate given arrival is ``qber`` (depolarisation = 2 qber).

        Args:
            qber: target quantum bit error rate in [0, 2/3].
            transmittance: channel transmittance in [0, 1].
        """
        q = check_in_range("qber", qber, 0.0, 2.0 / 3.0)
        return cls(transmittance=transmittance, depolarisation=2.0 * q)

    @classmethod
    def from_loss_db(cls, loss_db: float, **fields: Any) -> Channel:
        """A channel whose transmittance is ``10 ** (-loss_db / 10)``.

        Args:
            loss_db: channel loss in dB, >= 0 (``inf`` for a channel that loses everything).
            **fields: the other fields (depolarisation, misalignment, ...).
        """
        db = check_in_range("loss_db", loss_db, 0.0, math.inf) if loss_db != math.inf else math.inf
        return cls(transmittance=0.0 if db == math.inf else 10.0 ** (-db / 10.0), **fields)

    def replace(self, **changes: Any) -> Channel:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    # ---- derived quantities ---------------------------------------------------------
    @property
    def total_transmittance(self) -> float:
        """End-to-end detection probability of a signal photon, eta = transmittance x detector efficiency."""
        return self.transmittance * self.detector_efficiency

    @property
    def loss_db(self) -> float:
        """End-to-end loss -10 log10(eta) in dB (``inf`` when eta = 0)."""
        eta = self.total_transmittance
        return math.inf if eta == 0.0 else -10.0 * math.log10(eta)

    @property
    def detection_probability(self) -> float:
        """Probability of a click per channel use: eta + (1 - eta) Y0."""
        eta = self.total_transmittance
        return eta + (1.0 - eta) * self.noise_click

    @property
    def signal_fraction(self) -> float:
        """Fraction of clicks caused by the signal photon (0 when nothing ever clicks)."""
        p = self.detection_probability
        return 0.0 if p == 0.0 else self.total_transmittance / p

    @property
    def qubit_depolarisation(self) -> float:
        """Aer depolarising parameter applied to an arriving qubit: 1 - (1 - p)(1 - 2 e_d)."""
        return 1.0 - (1.0 - self.depolarisation) * (1.0 - 2.0 * self.misalignment)

    @property
    def effective_depolarisation(self) -> float:
        """Depolarising parameter given a click, noise clicks included (PHYSICS.md C.8(b)).

        p_eff = 1 - s (1 - p_q) with s the signal fraction and p_q the
        :attr:`qubit_depolarisation`; equals 1 when only noise ever clicks.
        """
        return 1.0 - self.signal_fraction * (1.0 - self.qubit_depolarisation)

    @property
    def qber(self) -> float:
        """Expected BB84 error rate given a click, in either basis: p_eff / 2."""
        return self.effective_depolarisation / 2.0

    # ---- serialisation ----------------------------------------------------------------
    def to_dict(self) -> dict[str, float]:
        """The fields as a JSON-ready dict."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Channel:
        """Rebuild a channel from :meth:`to_dict` output.

        Raises:
            InvalidType: ``data`` is not a dict.
            InvalidParameter: an unknown key is present.
        """
        if not isinstance(data, dict):
            raise InvalidType("data", data, "a dict")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InvalidParameter("data", unknown, f"keys among {sorted(known)}",
                                   f"data has unknown Channel keys {unknown}; allowed: {sorted(known)}")
        return cls(**data)
