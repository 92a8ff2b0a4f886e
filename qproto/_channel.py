"""The :class:`Channel` value object: one use of a lossy, noisy qubit channel."""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from qproto._errors import InvalidParameter, InvalidType
from qproto._validation import check_in_range, check_one_of, check_probability

__all__ = ["Channel"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class Channel:
    """One use of a lossy, noisy channel carrying a polarisation (or time-bin) qubit.

    The channel is summarised by what happens to one photon sent through it and
    detected by a two-detector receiver (docs/conventions.md section 0 and C.8):

    * it arrives and is detected with probability ``total_transmittance``
      (``transmittance * detector_efficiency``);
    * given arrival, the qubit suffers Aer's ``depolarizing_error(p, 1)`` with
      ``p = depolarisation``, then a misalignment error that flips the bit with
      probability ``misalignment`` in either basis (modelled, as docs/conventions.md C.8(c)
      says, as a further ``depolarizing_error(2 * misalignment, 1)``);
    * given arrival, the qubit's Bloch vector is also rotated coherently by the angle
      ``rotation_rad`` about the Bloch axis ``rotation_axis`` (a unitary
      polarisation transformation: birefringence or a rotated reference frame,
      see below). The rotation commutes with the depolarising error, so their
      order does not matter;
    * when no signal photon is detected, a noise click (dark count or background)
      still occurs with probability ``noise_click`` per detection window and carries
      a uniformly random bit (squashing model). A signal detection takes precedence
      over a simultaneous noise click.

    So a click occurs with probability ``eta + (1 - eta) * Y0`` and, given a click,
    the qubit seen by the receiver has suffered the rotation and then the
    depolarising parameter :attr:`effective_depolarisation`.

    **Basis-dependent errors.** Depolarisation and misalignment flip a BB84 bit
    with the same probability in every basis; a coherent rotation does not. A
    rotation by theta about the unit axis n maps the Bloch vector e_m of a state
    prepared in basis m (m = x, y, z) to a vector whose component along e_m is
    ``c_m = 1 - 2 sin^2(theta/2) (1 - n_m^2)``. Given a click (signal fraction s,
    qubit depolarisation p_q) the error rate in basis m is therefore
    ``E_m = (1 - s (1 - p_q) c_m) / 2`` (:attr:`qber_z`, :attr:`qber_x`,
    :attr:`qber_y`). Physically (docs/conventions.md section 0: |0> = H, |+> = D):

    * axis ``(0, 0, 1)`` (default): a birefringent phase retardance theta between
      H and V. It leaves the Z-basis states H, V alone and rotates the X and Y
      bases, so E_Z < E_X = E_Y;
    * axis ``(0, 1, 0)``: a rotation of the linear-polarisation reference frame by
      theta / 2 in real space (H -> cos(theta/2) H + sin(theta/2) V). It affects
      Z and X alike and leaves circular (Y) states alone;
    * axis ``(1, 0, 0)``: a retardance between D and A; it affects Z and Y and
      leaves the X basis alone.

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
        rotation_rad: angle theta in [0, pi] radians of the coherent rotation of an
            arriving qubit's Bloch vector (0: no rotation).
        rotation_axis: the Bloch-sphere axis (x, y, z) of that rotation; any
            non-zero vector of 3 finite reals, stored normalised to unit length
            as a tuple of floats (lists are accepted and converted).

    Examples:
        >>> from qproto import Channel
        >>> ch = Channel(transmittance=0.1, depolarisation=0.02)
        >>> round(ch.qber, 4)
        0.01
        >>> Channel.ideal().qber
        0.0
        >>> import math
        >>> twisted = Channel(rotation_rad=math.pi / 2)   # retardance between H and V
        >>> twisted.qber_z, round(twisted.qber_x, 12)
        (0.0, 0.5)
        >>> Channel(rotation_rad=0.1, rotation_axis=[0, 0, 2]).rotation_axis
        (0.0, 0.0, 1.0)
    """

    transmittance: float = 1.0
    depolarisation: float = 0.0
    misalignment: float = 0.0
    noise_click: float = 0.0
    detector_efficiency: float = 1.0
    rotation_rad: float = 0.0
    rotation_axis: tuple[float, float, float] = (0.0, 0.0, 1.0)

    def __post_init__(self) -> None:
        fields = {
            "transmittance": check_probability("transmittance", self.transmittance),
            "depolarisation": check_in_range("depolarisation", self.depolarisation, 0.0, 4.0 / 3.0),
            "misalignment": check_in_range("misalignment", self.misalignment, 0.0, 0.5),
            "noise_click": check_probability("noise_click", self.noise_click),
            "detector_efficiency": check_probability("detector_efficiency", self.detector_efficiency),
            "rotation_rad": check_in_range("rotation_rad", self.rotation_rad, 0.0, math.pi),
            "rotation_axis": _check_axis("rotation_axis", self.rotation_axis),
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
        """Aer depolarising parameter applied to an arriving qubit: 1 - (1 - p)(1 - 2 e_d).

        The coherent rotation (:attr:`rotation_rad`) is not included: it acts on
        the arriving qubit separately, as the unitary :attr:`unitary`.
        """
        return 1.0 - (1.0 - self.depolarisation) * (1.0 - 2.0 * self.misalignment)

    @property
    def effective_depolarisation(self) -> float:
        """Depolarising parameter given a click, noise clicks included (docs/conventions.md C.8(b)).

        p_eff = 1 - s (1 - p_q) with s the signal fraction and p_q the
        :attr:`qubit_depolarisation`; equals 1 when only noise ever clicks.
        Depolarisation only: given a click the qubit has suffered the coherent
        rotation (:attr:`unitary`) and then this depolarising parameter (the two
        commute, and the noise-click part is maximally mixed, which the rotation
        leaves unchanged).
        """
        return 1.0 - self.signal_fraction * (1.0 - self.qubit_depolarisation)

    def given_click(self) -> Channel:
        """The lossless channel a qubit sees given that its receiver clicked (docs/conventions.md C.8(b)).

        The one click model every part of qproto uses: a click is the signal (probability
        ``signal_fraction``: the coherent rotation, then depolarising ``qubit_depolarisation``)
        or noise alone (the maximally mixed state, which the rotation leaves alone), so the
        mixture is the rotation followed by depolarising :attr:`effective_depolarisation`
        (at most 4/3). Same ``qber_z``/``qber_x``/``qber_y`` as this channel.
        """
        return Channel(depolarisation=min(self.effective_depolarisation, 4.0 / 3.0),
                       rotation_rad=self.rotation_rad, rotation_axis=self.rotation_axis)

    @property
    def rotation_matrix(self) -> np.ndarray:
        """The 3x3 rotation (SO(3), float64) of the Bloch vector of an arriving qubit.

        Rodrigues' formula ``R = cos(theta) I + sin(theta) [n]_x + (1 - cos(theta)) n n^T``
        for the angle theta = :attr:`rotation_rad` about the unit axis n =
        :attr:`rotation_axis` (right-handed: about z, x goes to
        cos(theta) x + sin(theta) y). It is the action of :attr:`unitary` on Bloch
        vectors: ``U (r . sigma) U^dagger = (R r) . sigma``.
        """
        n = np.asarray(self.rotation_axis, dtype=float)
        n = n / np.linalg.norm(n)
        theta = self.rotation_rad
        cross = np.array([[0.0, -n[2], n[1]], [n[2], 0.0, -n[0]], [-n[1], n[0], 0.0]])
        return math.cos(theta) * np.eye(3) + math.sin(theta) * cross + (1.0 - math.cos(theta)) * np.outer(n, n)

    @property
    def unitary(self) -> np.ndarray:
        """The 2x2 SU(2) matrix (complex128) of the rotation: ``exp(-i theta/2 n . sigma)``.

        Equals ``cos(theta/2) I - i sin(theta/2) (n_x X + n_y Y + n_z Z)``; the
        identity when :attr:`rotation_rad` is 0. This is the matrix Aer's
        ``coherent_unitary_error`` applies to an arriving qubit.
        """
        n = np.asarray(self.rotation_axis, dtype=float)
        n = n / np.linalg.norm(n)
        half = self.rotation_rad / 2.0
        n_sigma = np.array([[n[2], n[0] - 1j * n[1]], [n[0] + 1j * n[1], -n[2]]], dtype=complex)
        return math.cos(half) * np.eye(2, dtype=complex) - 1j * math.sin(half) * n_sigma

    def basis_error(self, basis: Literal["Z", "X", "Y"]) -> float:
        """Expected error rate given a click of a state prepared and measured in ``basis``.

        ``E_m = (1 - s (1 - p_q) c_m) / 2`` with s the :attr:`signal_fraction`,
        p_q the :attr:`qubit_depolarisation` and
        ``c_m = 1 - 2 sin^2(theta/2) (1 - n_m^2)`` the component along e_m of the
        rotated Bloch vector e_m (theta = :attr:`rotation_rad`, n =
        :attr:`rotation_axis`). Noise clicks carry a uniformly random bit. Given
        arrival (s = 1) the flip probability is ``(1 - (1 - p_q) c_m) / 2``.

        Args:
            basis: ``"Z"`` (H/V), ``"X"`` (D/A) or ``"Y"`` (circular).

        Returns:
            The bit-error probability, in [0, 1].

        Raises:
            InvalidParameter: ``basis`` is not one of ``"Z"``, ``"X"``, ``"Y"``.

        Examples:
            >>> import math
            >>> ch = Channel(depolarisation=0.1, rotation_rad=math.pi / 3, rotation_axis=(0, 1, 0))
            >>> round(ch.basis_error("Z"), 6), round(ch.basis_error("X"), 6), round(ch.basis_error("Y"), 6)
            (0.275, 0.275, 0.05)
        """
        check_one_of("basis", basis, ("Z", "X", "Y"))
        n = np.asarray(self.rotation_axis, dtype=float)
        n_m = float(n[{"X": 0, "Y": 1, "Z": 2}[basis]] / np.linalg.norm(n))
        c_m = 1.0 - 2.0 * math.sin(self.rotation_rad / 2.0) ** 2 * (1.0 - n_m * n_m)
        return (1.0 - self.signal_fraction * (1.0 - self.qubit_depolarisation) * c_m) / 2.0

    @property
    def qber_z(self) -> float:
        """Expected BB84 error rate given a click in the Z (H/V) basis (see :meth:`basis_error`)."""
        return self.basis_error("Z")

    @property
    def qber_x(self) -> float:
        """Expected BB84 error rate given a click in the X (D/A) basis (see :meth:`basis_error`)."""
        return self.basis_error("X")

    @property
    def qber_y(self) -> float:
        """Expected error rate given a click in the Y (circular) basis (see :meth:`basis_error`)."""
        return self.basis_error("Y")

    @property
    def qber(self) -> float:
        """Mean BB84 error rate given a click, ``(qber_z + qber_x) / 2``.

        Without rotation both bases have the same error rate p_eff / 2 (p_eff =
        :attr:`effective_depolarisation`) and this is it; with a rotation use
        :attr:`qber_z` and :attr:`qber_x`, which differ.
        """
        return (self.qber_z + self.qber_x) / 2.0

    # ---- serialisation ----------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The fields as a JSON-ready dict (``rotation_axis`` as a list of 3 floats).

        ``Channel(**ch.to_dict()) == ch`` and ``Channel.from_dict(ch.to_dict()) == ch``.
        """
        data = dataclasses.asdict(self)
        data["rotation_axis"] = list(self.rotation_axis)
        return data

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


def _check_axis(name: str, value: Any) -> tuple[float, float, float]:
    """Return the axis ``value`` as a unit-length tuple of 3 floats.

    A vector already of unit length (to within rounding) is kept as given, so
    normalising is idempotent and ``eval(repr(ch)) == ch`` holds exactly.

    Raises:
        InvalidType: not a sequence of 3 real numbers.
        InvalidParameter: a component is NaN or infinite, or all three are zero.
    """
    allowed = "3 finite real numbers (x, y, z), not all zero"
    if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, np.ndarray)):
        raise InvalidType(name, value, "a sequence of 3 real numbers (x, y, z)")
    items = list(value)
    if len(items) != 3:
        raise InvalidParameter(name, value, allowed,
                               f"{name}={value!r} has {len(items)} components; expected {allowed}")
    for v in items:
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Real):
            raise InvalidType(name, value, "a sequence of 3 real numbers (x, y, z)")
    xyz = [float(v) for v in items]
    if not all(math.isfinite(v) for v in xyz):
        raise InvalidParameter(name, value, allowed, f"{name}={value!r} has a non-finite component; expected {allowed}")
    norm = math.hypot(*xyz)  # no under/overflow for tiny or huge components
    if norm == 0.0:
        raise InvalidParameter(name, value, allowed, f"{name}={value!r} is the zero vector; expected {allowed}")
    if abs(norm - 1.0) > 4.0 * np.finfo(float).eps:
        xyz = [v / norm for v in xyz]
    return (xyz[0], xyz[1], xyz[2])
