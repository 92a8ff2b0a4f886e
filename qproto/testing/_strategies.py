"""Hypothesis strategies for qproto's values (requires the ``testing`` extra).

Import them from :mod:`qproto.testing`; they are plain hypothesis strategies,
usable in any user's ``@given``. Several deliberately avoid the symmetric
special cases (equal error rates in both bases, identical legs, basis
probability exactly 1/2), because a test that only ever sees symmetric values
cannot notice a swapped bit/phase error, two swapped legs or a basis bias
applied the wrong way round:

* :func:`rotated_channels`: channels with a coherent polarisation rotation, so
  that ``qber_z != qber_x``;
* :func:`channel_tuples` and :func:`asymmetric_channels`: n channels that differ
  pairwise (per-leg and per-party tests);
* :func:`biased_bases`, and the default :func:`intercept_resend`,
  :func:`bb84_params` and :func:`bbm92_params`: basis probabilities away from 1/2.

Parameters are validated when the strategy is built (not when it is drawn), with
errors naming the parameter, its value and the allowed range.
"""

from __future__ import annotations

import math
from typing import Any

from hypothesis import strategies as st

from qproto._attacks import InterceptResend
from qproto._channel import Channel
from qproto._errors import InvalidParameter, InvalidType
from qproto._validation import check_bool, check_in_range, check_int

__all__ = ["probabilities", "channels", "noisy_channels", "rotation_axes", "rotated_channels",
           "channel_tuples", "asymmetric_channels", "seeds", "biased_bases", "bb84_params", "bbm92_params",
           "intercept_resend", "protocol_params"]


def probabilities(*, min_value: float = 0.0, max_value: float = 1.0) -> st.SearchStrategy[float]:
    """Floats in [min_value, max_value] (no NaN, no infinity). Dimensionless.

    Examples:
        >>> from hypothesis import find
        >>> find(probabilities(min_value=0.2), lambda p: p > 0.5) > 0.5
        True
    """
    return st.floats(min_value=min_value, max_value=max_value, allow_nan=False, allow_infinity=False)


def rotation_axes() -> st.SearchStrategy[tuple[float, float, float]]:
    """Bloch-sphere rotation axes (x, y, z), as unit vectors.

    Draws, in shrinking order: the z axis (a retardance between H and V, which
    gives qber_z != qber_x), the x axis, the y axis (a rotated linear-polarisation
    frame: qber_z == qber_x != qber_y), a z axis tilted by up to about 35 degrees,
    and an arbitrary direction. Signs are drawn too.

    Examples:
        >>> from hypothesis import find
        >>> n = find(rotation_axes(), lambda n: n[0] > 0.5)
        >>> round(sum(c * c for c in n), 12)
        1.0
    """
    def unit(v: tuple[float, float, float]) -> tuple[float, float, float]:
        norm = math.hypot(*v)
        return (v[0] / norm, v[1] / norm, v[2] / norm)

    signs = st.sampled_from((1.0, -1.0))
    coord = st.sampled_from(((0.0, 0.0, 1.0), (1.0, 0.0, 0.0), (0.0, 1.0, 0.0)))
    along = st.builds(lambda v, s: (s * v[0], s * v[1], s * v[2]), coord, signs)
    tilted = st.builds(lambda a, b, s: unit((a, b, s)), probabilities(min_value=-0.5, max_value=0.5),
                       probabilities(min_value=-0.5, max_value=0.5), signs)
    component = probabilities(min_value=-1.0, max_value=1.0)
    anywhere = st.tuples(component, component, component).filter(lambda v: math.hypot(*v) > 0.1).map(unit)
    return st.one_of(along, tilted, anywhere)


def channels(*, max_depolarisation: float = 4.0 / 3.0, max_misalignment: float = 0.5,
             max_noise_click: float = 1.0, min_transmittance: float = 0.0,
             lossless: bool = False, max_rotation_rad: float = 0.0) -> st.SearchStrategy[Channel]:
    """Valid :class:`Channel` values.

    Args:
        max_depolarisation: upper bound of the depolarising parameter, in [0, 4/3].
        max_misalignment: upper bound of the misalignment error, in [0, 1/2].
        max_noise_click: upper bound of the noise-click probability per window, in [0, 1].
        min_transmittance: lower bound of the transmittance and of the detector
            efficiency, in [0, 1].
        lossless: draw only transmittance 1, detector efficiency 1, no noise clicks.
        max_rotation_rad: upper bound, in [0, pi] radians, of the coherent rotation
            angle; 0 (default) draws no rotation, so the channels are exactly those
            drawn before rotations existed. Above 0 the axis comes from
            :func:`rotation_axes`.

    Raises:
        InvalidParameter: a bound outside its range.

    Examples:
        >>> from hypothesis import find
        >>> ch = find(channels(max_rotation_rad=1.0), lambda c: c.rotation_rad > 0.5)
        >>> 0.5 < ch.rotation_rad <= 1.0
        True
    """
    bounds = _channel_bounds(max_depolarisation=max_depolarisation, max_misalignment=max_misalignment,
                             max_noise_click=max_noise_click, min_transmittance=min_transmittance,
                             lossless=lossless)
    rot = check_in_range("max_rotation_rad", max_rotation_rad, 0.0, math.pi)
    return _channels(**bounds, min_rotation_rad=0.0, max_rotation_rad=rot)


def noisy_channels() -> st.SearchStrategy[Channel]:
    """Channels a protocol test can sample well: transmittance and detector
    efficiency >= 0.2, depolarisation <= 0.3, misalignment <= 0.05, noise clicks
    <= 0.01 per window, no rotation."""
    return channels(max_depolarisation=0.3, max_misalignment=0.05, max_noise_click=0.01, min_transmittance=0.2)


def rotated_channels(*, min_rotation_rad: float = 0.4, max_rotation_rad: float = 1.0,
                     max_depolarisation: float = 0.2, max_misalignment: float = 0.03,
                     max_noise_click: float = 0.01, min_transmittance: float = 0.2,
                     lossless: bool = False) -> st.SearchStrategy[Channel]:
    """Channels with a coherent polarisation rotation, so the error rate depends on the basis.

    The angle is drawn in [min_rotation_rad, max_rotation_rad] radians, the axis
    from :func:`rotation_axes` (the pure z axis first: E_Z < E_X), the rest with
    modest noise so that protocol tests sample well. With the defaults the
    signal fraction times (1 - qubit depolarisation) is at least about 0.6, so a
    z-axis rotation of 0.4 rad already gives ``qber_x - qber_z > 0.02``; most
    draws have ``|qber_x - qber_z| > 0.02`` (``tests/test_strategies.py`` checks it).

    Args:
        min_rotation_rad: lower bound of the rotation angle, in [0, pi] radians.
        max_rotation_rad: upper bound of the rotation angle, in [min_rotation_rad, pi] radians.
        max_depolarisation: upper bound of the depolarising parameter, in [0, 4/3].
        max_misalignment: upper bound of the misalignment error, in [0, 1/2].
        max_noise_click: upper bound of the noise-click probability per window, in [0, 1].
        min_transmittance: lower bound of the transmittance and detector efficiency, in [0, 1].
        lossless: draw only transmittance 1, detector efficiency 1, no noise clicks.

    Raises:
        InvalidParameter: a bound outside its range, or min_rotation_rad > max_rotation_rad.

    Examples:
        >>> from hypothesis import find
        >>> ch = find(rotated_channels(), lambda c: abs(c.qber_x - c.qber_z) > 0.02)
        >>> 0.4 <= ch.rotation_rad <= 1.0
        True
    """
    bounds = _channel_bounds(max_depolarisation=max_depolarisation, max_misalignment=max_misalignment,
                             max_noise_click=max_noise_click, min_transmittance=min_transmittance,
                             lossless=lossless)
    lo = check_in_range("min_rotation_rad", min_rotation_rad, 0.0, math.pi)
    hi = check_in_range("max_rotation_rad", max_rotation_rad, lo, math.pi)
    return _channels(**bounds, min_rotation_rad=lo, max_rotation_rad=hi)


def channel_tuples(n: int, *, min_gap: float = 0.01, max_depolarisation: float = 4.0 / 3.0,
                   max_misalignment: float = 0.5, max_noise_click: float = 1.0,
                   min_transmittance: float = 0.0, lossless: bool = False,
                   max_rotation_rad: float = 0.0) -> st.SearchStrategy[tuple[Channel, ...]]:
    """Tuples of ``n`` channels that differ pairwise, for per-leg and per-party tests.

    By construction (no rejection), any two channels' error given arrival
    (:attr:`Channel.qubit_depolarisation`, which combines depolarisation and
    misalignment) differ by at least ``min_gap``, and so do their end-to-end
    transmittances (:attr:`Channel.total_transmittance`) unless ``lossless``.
    Every field stays within the bounds below; misalignment, noise clicks and
    rotation are drawn for each channel independently. The order is shuffled,
    so no leg is systematically the noisier one.

    Args:
        n: number of channels, >= 1.
        min_gap: smallest difference, > 0, between any two qubit depolarisations
            and between any two total transmittances. Dimensionless.
        max_depolarisation: upper bound of the depolarising parameter (and so of the
            qubit depolarisation), in [0, 4/3].
        max_misalignment: upper bound of the misalignment error, in [0, 1/2].
        max_noise_click: upper bound of the noise-click probability per window, in [0, 1].
        min_transmittance: lower bound of the transmittance and of the detector
            efficiency, in [0, 1] (so total transmittances lie in [min_transmittance^2, 1]).
        lossless: transmittance 1, detector efficiency 1 and no noise clicks for every channel.
        max_rotation_rad: upper bound in [0, pi] radians of each channel's own rotation angle.

    Raises:
        InvalidParameter: a bound outside its range, or ``n`` values ``min_gap``
            apart do not fit in the depolarisation (or total transmittance) range.

    Examples:
        >>> from hypothesis import find
        >>> legs = find(channel_tuples(3, min_gap=0.1), lambda t: True)
        >>> ps = sorted(ch.qubit_depolarisation for ch in legs)
        >>> all(b - a >= 0.1 - 1e-12 for a, b in zip(ps, ps[1:]))
        True
    """
    bounds = _channel_bounds(max_depolarisation=max_depolarisation, max_misalignment=max_misalignment,
                             max_noise_click=max_noise_click, min_transmittance=min_transmittance,
                             lossless=lossless)
    n = check_int("n", n, minimum=1)
    gap = check_in_range("min_gap", min_gap, 0.0, math.inf, lo_open=True, hi_open=True)
    rot = check_in_range("max_rotation_rad", max_rotation_rad, 0.0, math.pi)
    spans = {"max_depolarisation": bounds["max_depolarisation"]}
    if not lossless:
        spans["min_transmittance"] = 1.0 - bounds["min_transmittance"] ** 2
    for name, span in spans.items():
        if (n - 1) * gap > span:
            raise InvalidParameter(
                "min_gap", min_gap, f"<= {span / (n - 1):g} for n={n} and {name}={bounds[name]!r}",
                f"min_gap={min_gap!r}: {n} values {min_gap!r} apart do not fit in a range of width {span:g} "
                f"(set by {name}={bounds[name]!r})")
    return _channel_tuples(n, gap, bounds, rot)


def asymmetric_channels(n: int, *, min_gap: float = 0.03,
                        max_rotation_rad: float = 0.0) -> st.SearchStrategy[tuple[Channel, ...]]:
    """``n`` pairwise-different channels a protocol test can sample well.

    :func:`channel_tuples` with the bounds of :func:`noisy_channels`
    (depolarisation <= 0.3, misalignment <= 0.05, noise clicks <= 0.01,
    transmittance and detector efficiency >= 0.2): depolarisations and
    transmittances differ pairwise by at least ``min_gap``, enough for a test
    to see two legs or parties swapped.

    Args:
        n: number of channels, >= 1 (at most 11 with the default ``min_gap``).
        min_gap: smallest difference, > 0, between any two depolarisations (and transmittances).
        max_rotation_rad: upper bound in [0, pi] radians of each channel's rotation angle.

    Raises:
        InvalidParameter: ``n`` or ``min_gap`` invalid, or too many channels for the gap.

    Examples:
        >>> from hypothesis import find
        >>> a, b = find(asymmetric_channels(2), lambda t: True)
        >>> abs(a.depolarisation - b.depolarisation) >= 0.03 - 1e-12
        True
    """
    return channel_tuples(n, min_gap=min_gap, max_depolarisation=0.3, max_misalignment=0.05,
                          max_noise_click=0.01, min_transmittance=0.2, max_rotation_rad=max_rotation_rad)


def seeds() -> st.SearchStrategy[int]:
    """Root seeds (non-negative 63-bit ints); hypothesis shrinks them toward 0."""
    return st.integers(min_value=0, max_value=2**63 - 1)


def biased_bases(*, min_value: float = 0.1, max_value: float = 0.9,
                 min_bias: float = 0.05) -> st.SearchStrategy[float]:
    """Probabilities p_z of choosing the Z basis that stay away from 1/2.

    Draws p_z in [min_value, 1/2 - min_bias] or [1/2 + min_bias, max_value], so
    ``|p_z - 1/2| >= min_bias`` always: a test using them can see code that
    confuses p_z with 1 - p_z or silently assumes symmetric bases.

    Args:
        min_value: lower bound of p_z, in [0, 1].
        max_value: upper bound of p_z, in [min_value, 1].
        min_bias: smallest distance from 1/2, in (0, 1/2].

    Raises:
        InvalidParameter: a bound outside its range, or no value of [min_value,
            max_value] is at least ``min_bias`` away from 1/2.

    Examples:
        >>> from hypothesis import find
        >>> p = find(biased_bases(), lambda p: p > 0.5)
        >>> 0.55 <= p <= 0.9
        True
    """
    lo = check_in_range("min_value", min_value, 0.0, 1.0)
    hi = check_in_range("max_value", max_value, lo, 1.0)
    bias = check_in_range("min_bias", min_bias, 0.0, 0.5, lo_open=True)
    # Round the inner ends outward so that abs(p - 0.5) >= min_bias holds in floating point too.
    below, above = 0.5 - bias, 0.5 + bias
    while 0.5 - below < bias:
        below = math.nextafter(below, -math.inf)
    while above - 0.5 < bias:
        above = math.nextafter(above, math.inf)
    parts = []
    if lo <= below:
        parts.append(probabilities(min_value=lo, max_value=min(hi, below)))
    if hi >= above:
        parts.append(probabilities(min_value=max(lo, above), max_value=hi))
    if not parts:
        raise InvalidParameter("min_bias", min_bias, f"<= max(0.5 - {lo:g}, {hi:g} - 0.5)",
                               f"min_bias={min_bias!r}: no p_z in [{lo:g}, {hi:g}] is {min_bias!r} away from 0.5")
    return st.one_of(*parts)


def _mostly_biased(biased: st.SearchStrategy[float]) -> st.SearchStrategy[float]:
    """A basis probability: from ``biased`` about 3 times in 4, else exactly 1/2."""
    return st.sampled_from((True, True, True, False)).flatmap(lambda b: biased if b else st.just(0.5))


def bb84_params(*, p_z: st.SearchStrategy[float] | None = None) -> st.SearchStrategy[dict[str, Any]]:
    """Keyword arguments of :class:`qproto.protocols.BB84`.

    Args:
        p_z: strategy for the Z-basis probability (both parties). Default: mostly
            :func:`biased_bases` in [0.05, 0.95] (|p_z - 1/2| >= 0.05), sometimes
            exactly 1/2.

    ``f_ec`` (error-correction efficiency) is drawn in [1, 1.5].

    Examples:
        >>> from hypothesis import find
        >>> sorted(find(bb84_params(), lambda d: True))
        ['f_ec', 'p_z']
    """
    p = _mostly_biased(biased_bases(min_value=0.05, max_value=0.95)) if p_z is None else _check_strategy("p_z", p_z)
    return st.fixed_dictionaries({"p_z": p, "f_ec": probabilities(min_value=1.0, max_value=1.5)})


def bbm92_params(*, p_z: st.SearchStrategy[float] | None = None) -> st.SearchStrategy[dict[str, Any]]:
    """Keyword arguments of :class:`qproto.protocols.BBM92`.

    Args:
        p_z: strategy for the Z-basis probability. Default: mostly
            :func:`biased_bases` in [0.1, 0.9], sometimes exactly 1/2.

    ``chsh_fraction`` is drawn in [0, 0.5] and ``f_ec`` in [1, 1.5].
    """
    p = _mostly_biased(biased_bases()) if p_z is None else _check_strategy("p_z", p_z)
    return st.fixed_dictionaries({"p_z": p,
                                  "chsh_fraction": probabilities(min_value=0.0, max_value=0.5),
                                  "f_ec": probabilities(min_value=1.0, max_value=1.5)})


def protocol_params(name: str) -> st.SearchStrategy[dict[str, Any]]:
    """Parameter strategy of a built-in protocol by registry name (``"bb84"`` or ``"bbm92"``).

    Raises:
        InvalidParameter: another name.
    """
    table = {"bb84": bb84_params, "bbm92": bbm92_params}
    if name not in table:
        raise InvalidParameter("name", name, f"one of {sorted(table)}")
    return table[name]()


def intercept_resend(*, min_fraction: float = 0.0, max_fraction: float = 1.0,
                     p_z: st.SearchStrategy[float] | None = None) -> st.SearchStrategy[InterceptResend]:
    """Intercept-resend eavesdroppers, by default with a biased choice of basis.

    Args:
        min_fraction: lower bound of the attacked fraction of rounds, in [0, 1].
        max_fraction: upper bound of the attacked fraction, in [min_fraction, 1].
        p_z: strategy for the probability that Eve measures in Z. Default:
            :func:`biased_bases` in [0, 1] (so ``|p_z - 1/2| >= 0.05``, including
            the all-Z and all-X attacks), which makes a QBER that should differ
            between bases (``fraction * (1 - p_z) / 2`` in Z, ``fraction * p_z / 2``
            in X) actually differ.

    Raises:
        InvalidParameter: a bound outside its range.

    Examples:
        >>> from hypothesis import find
        >>> eve = find(intercept_resend(min_fraction=0.5), lambda e: True)
        >>> eve.fraction >= 0.5, abs(eve.p_z - 0.5) >= 0.05
        (True, True)
    """
    lo = check_in_range("min_fraction", min_fraction, 0.0, 1.0)
    hi = check_in_range("max_fraction", max_fraction, lo, 1.0)
    p = biased_bases(min_value=0.0, max_value=1.0) if p_z is None else _check_strategy("p_z", p_z)
    return st.builds(InterceptResend, fraction=probabilities(min_value=lo, max_value=hi), p_z=p)


# ---- internals ---------------------------------------------------------------------------
def _check_strategy(name: str, value: Any) -> st.SearchStrategy[Any]:
    if not isinstance(value, st.SearchStrategy):
        raise InvalidType(name, value, "a hypothesis SearchStrategy")
    return value


def _channel_bounds(*, max_depolarisation: float, max_misalignment: float, max_noise_click: float,
                    min_transmittance: float, lossless: bool) -> dict[str, Any]:
    return {
        "max_depolarisation": check_in_range("max_depolarisation", max_depolarisation, 0.0, 4.0 / 3.0),
        "max_misalignment": check_in_range("max_misalignment", max_misalignment, 0.0, 0.5),
        "max_noise_click": check_in_range("max_noise_click", max_noise_click, 0.0, 1.0),
        "min_transmittance": check_in_range("min_transmittance", min_transmittance, 0.0, 1.0),
        "lossless": check_bool("lossless", lossless),
    }


@st.composite
def _channels(draw: st.DrawFn, *, max_depolarisation: float, max_misalignment: float, max_noise_click: float,
              min_transmittance: float, lossless: bool, min_rotation_rad: float,
              max_rotation_rad: float) -> Channel:
    # Draw order kept from the original strategy (p, e, transmittance, Y0, efficiency),
    # the rotation last and only when allowed, so unrotated draws are unchanged.
    p = draw(probabilities(max_value=max_depolarisation))
    e = draw(probabilities(max_value=max_misalignment))
    rest: dict[str, Any] = {}
    if not lossless:
        rest = {
            "transmittance": draw(probabilities(min_value=min_transmittance)),
            "noise_click": draw(probabilities(max_value=max_noise_click)),
            "detector_efficiency": draw(probabilities(min_value=min_transmittance)),
        }
    rest.update(draw(_rotation(min_rotation_rad, max_rotation_rad)))
    return Channel(depolarisation=p, misalignment=e, **rest)


@st.composite
def _rotation(draw: st.DrawFn, lo: float, hi: float) -> dict[str, Any]:
    """Rotation fields of a Channel: none when ``hi == 0``."""
    if hi == 0.0:
        return {}
    return {"rotation_rad": draw(probabilities(min_value=lo, max_value=hi)), "rotation_axis": draw(rotation_axes())}


@st.composite
def _spread(draw: st.DrawFn, n: int, lo: float, hi: float, gap: float) -> list[float]:
    """n values in [lo, hi], pairwise at least ``gap`` apart (to rounding), in shuffled order."""
    top = max(lo, hi - (n - 1) * gap)
    base = sorted(draw(st.lists(probabilities(min_value=lo, max_value=top), min_size=n, max_size=n)))
    values = [min(b + i * gap, hi) for i, b in enumerate(base)]
    return draw(st.permutations(values))


@st.composite
def _channel_tuples(draw: st.DrawFn, n: int, gap: float, bounds: dict[str, Any],
                    max_rotation_rad: float) -> tuple[Channel, ...]:
    max_p, max_e, t_min = bounds["max_depolarisation"], bounds["max_misalignment"], bounds["min_transmittance"]
    # Spread the derived quantities themselves, then split each into its fields.
    qs = draw(_spread(n, 0.0, max_p, gap))
    etas = None if bounds["lossless"] else draw(_spread(n, t_min * t_min, 1.0, gap))
    out = []
    for i, q in enumerate(qs):
        # q = 1 - (1 - p)(1 - 2e), so p = 1 - (1 - q)/(1 - 2e): p >= 0 iff e <= q/2; for q <= 1, p <= q;
        # for q > 1, p <= max_p iff 1 - 2e >= (q - 1)/(max_p - 1).
        e_cap = min(max_e, q / 2.0)
        if q > 1.0:
            e_cap = min(e_cap, (1.0 - (q - 1.0) / (max_p - 1.0)) / 2.0)
        e = draw(probabilities(max_value=max(0.0, e_cap)))
        p = q if e == 0.5 else 1.0 - (1.0 - q) / (1.0 - 2.0 * e)
        fields: dict[str, Any] = {"depolarisation": min(max(p, 0.0), max_p), "misalignment": e}
        if etas is not None:
            eta = etas[i]
            # eta = t * eff with t, eff in [t_min, 1]: eff in [max(t_min, eta), min(1, eta / t_min)].
            eff_hi = 1.0 if t_min == 0.0 else min(1.0, eta / t_min)
            eff = draw(probabilities(min_value=min(max(t_min, eta), eff_hi), max_value=eff_hi))
            t = 0.0 if eta == 0.0 else min(max(eta / eff, t_min), 1.0)
            fields.update(transmittance=t, detector_efficiency=eff,
                          noise_click=draw(probabilities(max_value=bounds["max_noise_click"])))
        fields.update(draw(_rotation(0.0, max_rotation_rad)))
        out.append(Channel(**fields))
    return tuple(out)
