"""Tests for the mutation survivors of ``qproto/security/_optimise.py`` and ``_lim2014.py`` (issue 9).

Each test names the mutmut mutants it kills (function and mutmut number of the run of
2026-11-30) and checks an answer that does not come from the code under test: the
validation contract (``InvalidParameter`` with the given ``name``, ``value`` and
``allowed``; scalar in, Python float out), closed forms written here, or round trips
between two separately coded maps (``_Box.params``/``decode`` and its inverse ``_Box.point``).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from qproto._errors import InvalidParameter
from qproto.security._optimise import DecoyParameters, _Box, afterpulse_noise_yield

MU = (0.6, 0.2, 0.0)
P = (0.5, 0.3, 0.2)


def _ap(**kw):
    args = dict(y0=1e-3, eta=0.1, intensities=MU, probabilities=P, afterpulse_probability=0.05)
    args.update(kw)
    return afterpulse_noise_yield(**args)


# --- afterpulse_noise_yield: validation contract ---------------------------------------

@pytest.mark.parametrize("name, bad", [("y0", 1.5), ("eta", 1.5), ("y0", [0.2, 1.0 + 1e-9]), ("eta", [0.5, 1.01])])
def test_afterpulse_noise_yield_rejects_y0_and_eta_above_one(name, bad):
    """Kills ``afterpulse_noise_yield`` mutmut_9, 13 (y0's upper bound dropped or 2.0) and
    mutmut_22, 26 (the same for eta): a probability / transmittance above 1 raises
    InvalidParameter naming the parameter, carrying the value given and the range "[0, 1]".
    """
    with pytest.raises(InvalidParameter) as exc:
        _ap(**{name: bad})
    assert exc.value.name == name
    assert exc.value.value is bad
    assert exc.value.allowed == "[0, 1]"


@pytest.mark.parametrize("bad", [1.0, 1.5])
def test_afterpulse_noise_yield_afterpulse_probability_is_below_one(bad):
    """Kills ``afterpulse_noise_yield`` mutmut_41, 46, 51 (``hi_open`` None, dropped, False: 1.0
    would pass) and mutmut_50 (upper bound 2.0): p_ap = 1 and 1.5 raise with the range "[0, 1)".
    """
    with pytest.raises(InvalidParameter) as exc:
        _ap(afterpulse_probability=bad)
    assert exc.value.name == "afterpulse_probability"
    assert exc.value.value == bad
    assert exc.value.allowed == "[0, 1)"


def test_afterpulse_noise_yield_unbroadcastable_eta_names_eta_and_its_value():
    """Kills ``afterpulse_noise_yield`` mutmut_58 (value None), mutmut_60 and 61 (an argument
    dropped: a TypeError instead of InvalidParameter): y0 of 2 slots with eta of 3 raises
    InvalidParameter("eta", <the eta given>, "an array broadcastable with y0").
    """
    eta = [0.1, 0.2, 0.3]
    with pytest.raises(InvalidParameter) as exc:
        _ap(y0=[1e-3, 2e-3], eta=eta)
    assert exc.value.name == "eta"
    assert exc.value.value is eta
    assert exc.value.allowed == "an array broadcastable with y0"


def test_afterpulse_noise_yield_scalar_in_python_float_out_with_the_closed_form():
    """Kills ``afterpulse_noise_yield`` mutmut_81 (the scalar case returned as a 0-d array):
    scalar y0 and eta give a Python float equal to the closed form
    1 - (1 - Y0)(1 - p_ap sum_k p_k (1 - (1 - Y0) exp(-eta mu_k))), and arrays stay arrays.
    """
    y0, eta, p_ap = 2e-3, 0.3, 0.07
    p_click = sum(pk * (1.0 - (1.0 - y0) * math.exp(-eta * mk)) for pk, mk in zip(P, MU))
    want = 1.0 - (1.0 - y0) * (1.0 - p_ap * p_click)
    got = _ap(y0=y0, eta=eta, afterpulse_probability=p_ap)
    assert type(got) is float
    assert got == pytest.approx(want, rel=1e-13)
    arr = _ap(y0=[y0, y0], eta=eta, afterpulse_probability=p_ap)
    assert isinstance(arr, np.ndarray) and arr.shape == (2,)
    np.testing.assert_allclose(arr, want, rtol=1e-13)


# --- _Box.point: the inverse of _Box.params / decode -----------------------------------

# mu3 > 0, mu1_lo > 0, mu1 - 2 mu3 < 1, p_min > 0 and pz_lo > 0, so that every sign,
# operator and constant of the inverse map shows in the result.
_BOX = _Box(mu3=0.02, mu1_bounds=(0.3, 0.9), pz_bounds=(0.55, 0.95), p_min=0.05)


@pytest.mark.parametrize("u", [
    (0.37, 0.61, 0.23, 0.71, 0.42),
    (0.9, 0.15, 0.8, 0.35, 0.05),
    (0.05, 0.95, 0.5, 0.1, 0.97),
])
def test_box_point_inverts_decode_inside_the_box(u):
    """Kills ``_Box.point`` mutmut_6-8 (mu1 coordinate), 9-12, 17, 19-24 (mu2 coordinate:
    signs, ``max(., 1e-300) -> max(., 1.0)``, the _MU2_EDGE constants), 25-30 (p1), 31, 32,
    37-39, 41, 42 (p2), 43-45 (p_Z) and 52 (``clip(u, 1.0, 1.0)``): for u strictly inside
    the box, ``point(decode(u)) == u`` to 1e-12 (the smallest of these mutants moves a
    coordinate by ~6e-5).
    """
    u = np.array(u)
    back = _BOX.point(_BOX.decode(u))
    np.testing.assert_allclose(back, u, rtol=0, atol=1e-12)


def test_box_point_clips_guesses_outside_the_box_to_its_faces():
    """Kills ``_Box.point`` mutmut_47 (no lower clip), 48 (no upper clip) and 53 (upper clip at
    2.0): a guess with mu1 and p_Z below their ranges maps to coordinate 0 and one with mu1
    and p_Z above them (by half the range: coordinate 1.5 unclipped) to exactly 1; the
    other coordinates are those of the guess inside the box.
    """
    inside = (0.37, 0.61, 0.23, 0.71, 0.42)
    g = _BOX.decode(np.array(inside))
    # mu2 coordinate: keep (mu2 - mu3)/(mu1 - 2 mu3) fixed while moving mu1 out of the box.
    ratio = (g.intensities[1] - 0.02) / (g.intensities[0] - 0.04)
    # (mu1, p_Z) below the box: coordinates -1/12 and -1/8 unclipped; above it: 1.5 and 1.1.
    for mu1, pz, face in [(0.25, 0.5, 0.0), (1.2, 0.99, 1.0)]:
        mu2 = 0.02 + ratio * (mu1 - 0.04)
        guess = DecoyParameters((mu1, mu2, 0.02), g.probabilities, pz)
        got = _BOX.point(guess)
        assert got[0] == face and got[4] == face
        np.testing.assert_allclose(got[1:4], inside[1:4], rtol=0, atol=1e-12)
