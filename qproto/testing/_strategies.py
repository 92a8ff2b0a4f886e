"""Hypothesis strategies for qproto's values (requires the ``testing`` extra).

Import them from :mod:`qproto.testing`; they are plain ``@st.composite``
strategies, usable in any user's ``@given``.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from qproto._attacks import InterceptResend
from qproto._channel import Channel

__all__ = ["probabilities", "channels", "noisy_channels", "seeds", "bb84_params", "bbm92_params",
           "intercept_resend", "protocol_params"]


def probabilities(*, min_value: float = 0.0, max_value: float = 1.0) -> st.SearchStrategy[float]:
    """Floats in [min_value, max_value] (no NaN)."""
    return st.floats(min_value=min_value, max_value=max_value, allow_nan=False, allow_infinity=False)


@st.composite
def channels(draw: st.DrawFn, *, max_depolarisation: float = 4.0 / 3.0, max_misalignment: float = 0.5,
             max_noise_click: float = 1.0, min_transmittance: float = 0.0,
             lossless: bool = False) -> Channel:
    """Valid :class:`Channel` values.

    Args:
        max_depolarisation: upper bound of the depolarising parameter.
        max_misalignment: upper bound of the misalignment error.
        max_noise_click: upper bound of the noise-click probability.
        min_transmittance: lower bound of the transmittance.
        lossless: draw only transmittance 1, detector efficiency 1, no noise clicks.
    """
    p = draw(probabilities(max_value=max_depolarisation))
    e = draw(probabilities(max_value=max_misalignment))
    if lossless:
        return Channel(depolarisation=p, misalignment=e)
    return Channel(
        transmittance=draw(probabilities(min_value=min_transmittance)),
        depolarisation=p,
        misalignment=e,
        noise_click=draw(probabilities(max_value=max_noise_click)),
        detector_efficiency=draw(probabilities(min_value=max(min_transmittance, 0.0))),
    )


def noisy_channels() -> st.SearchStrategy[Channel]:
    """Channels a protocol test can sample well: transmittance >= 0.05, modest noise."""
    return channels(max_depolarisation=0.3, max_misalignment=0.05, max_noise_click=0.01, min_transmittance=0.2)


def seeds() -> st.SearchStrategy[int]:
    """Root seeds (non-negative 63-bit ints); hypothesis shrinks them toward 0."""
    return st.integers(min_value=0, max_value=2**63 - 1)


@st.composite
def bb84_params(draw: st.DrawFn) -> dict[str, Any]:
    """Keyword arguments of :class:`qproto.protocols.BB84`."""
    return {"p_z": draw(st.sampled_from([0.5, draw(probabilities(min_value=0.05, max_value=0.95))])),
            "f_ec": draw(probabilities(min_value=1.0, max_value=1.5))}


@st.composite
def bbm92_params(draw: st.DrawFn) -> dict[str, Any]:
    """Keyword arguments of :class:`qproto.protocols.BBM92`."""
    return {"p_z": draw(probabilities(min_value=0.1, max_value=0.9)),
            "chsh_fraction": draw(probabilities(min_value=0.0, max_value=0.5)),
            "f_ec": draw(probabilities(min_value=1.0, max_value=1.5))}


def protocol_params(name: str) -> st.SearchStrategy[dict[str, Any]]:
    """Parameter strategy of a built-in protocol by registry name."""
    table = {"bb84": bb84_params, "bbm92": bbm92_params}
    if name not in table:
        from qproto._errors import InvalidParameter
        raise InvalidParameter("name", name, f"one of {sorted(table)}")
    return table[name]()


@st.composite
def intercept_resend(draw: st.DrawFn) -> InterceptResend:
    """Intercept-resend eavesdroppers with any fraction and basis bias."""
    return InterceptResend(fraction=draw(probabilities()), p_z=draw(probabilities()))
