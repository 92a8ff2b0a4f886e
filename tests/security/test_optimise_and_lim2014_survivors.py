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
from qproto.security._optimise import DecoyParameters, _Box, afterpulse_noise_yield, optimise_decoy_parameters

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


# --- DecoyParameters, _Box.params / decode: the closed form of the module docs ---------------

def test_decoy_parameters_store_python_floats_and_p_z_is_open_at_both_ends():
    """Guards ``DecoyParameters.__post_init__`` (mutmut 1-53: each field stored as a tuple of
    Python floats, p_z checked in the open interval (0, 1)): numpy inputs come back as tuples
    of ``float`` (hashable, equal to the plain-float spelling), p_z = 0 and 1 raise with
    allowed "(0, 1)".
    """
    d = DecoyParameters(np.array([0.5, 0.1, 0.0]), np.array([0.7, 0.2, 0.1]), np.float64(0.9))
    assert d.intensities == (0.5, 0.1, 0.0) and d.probabilities == (0.7, 0.2, 0.1) and d.p_z == 0.9
    assert all(type(x) is float for x in d.intensities + d.probabilities) and type(d.p_z) is float
    assert type(d.intensities) is tuple and type(d.probabilities) is tuple
    assert hash(d) == hash(DecoyParameters((0.5, 0.1, 0.0), (0.7, 0.2, 0.1), 0.9))
    for bad in (0.0, 1.0, 1.5):
        with pytest.raises(InvalidParameter) as exc:
            DecoyParameters((0.5, 0.1, 0.0), (0.7, 0.2, 0.1), bad)
        assert (exc.value.name, exc.value.value, exc.value.allowed) == ("p_z", bad, "(0, 1)")


def test_box_decode_is_the_closed_form_of_the_module_docs():
    """Kills ``_Box.params`` arithmetic mutants (mutmut 10-54: signs, ``*``/``/``, constants, the
    column of u used) and ``_Box.decode``'s (mutmut 7-20): mu1 = lo + (hi - lo) u0,
    mu2 = mu3 + (mu1 - 2 mu3)(e + (1 - 2e) u1) with e = 1e-4, p1 = p_min + (1 - 3 p_min) u2,
    p2 = p_min + (1 - p1 - 2 p_min) u3, p3 = 1 - p1 - p2, p_Z = lo_Z + (hi_Z - lo_Z) u4,
    written out here, at a u with five different coordinates.
    """
    u = np.array([0.37, 0.61, 0.23, 0.71, 0.42])
    mu1 = 0.3 + 0.6 * u[0]
    mu2 = 0.02 + (mu1 - 0.04) * (1e-4 + (1 - 2e-4) * u[1])
    p1 = 0.05 + 0.85 * u[2]
    p2 = 0.05 + (1 - p1 - 0.1) * u[3]
    d = _BOX.decode(u)
    np.testing.assert_allclose(d.intensities, (mu1, mu2, 0.02), rtol=1e-14)
    np.testing.assert_allclose(d.probabilities, (p1, p2, 1 - p1 - p2), rtol=1e-13)
    assert d.p_z == pytest.approx(0.55 + 0.4 * u[4], rel=1e-14)
    mu, p, pz = _BOX.params(np.vstack([u, np.zeros(5), np.ones(5)]))
    assert mu.shape == (3, 3) and p.shape == (3, 3) and pz.shape == (3,)
    np.testing.assert_allclose(mu[:, 1], (0.3, 0.02 + 0.26 * 1e-4, 0.02), rtol=1e-14)
    np.testing.assert_allclose(p[:, 2], (0.9, 0.05, 0.05), rtol=1e-13)


def test_box_params_clips_coordinates_outside_the_unit_box():
    """Kills ``_Box.params`` mutmut 3, 4, 6-9 (the clip of u into [0, 1]^5 changed or dropped):
    u = -0.5 and 1.5 in every coordinate give exactly the parameters of u = 0 and u = 1.
    """
    out = _BOX.params(np.array([[-0.5] * 5, [1.5] * 5]))
    want = _BOX.params(np.array([[0.0] * 5, [1.0] * 5]))
    for a, b in zip(out, want):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(out[0][0], (0.3, 0.9), rtol=1e-15)
    np.testing.assert_allclose(out[2], (0.55, 0.95), rtol=1e-15)


# --- _PassKernel.evaluate, _surrogate, _value_and_gradient against the validated pass key ---

# Four slots, two of them the same channel (merged by the kernel), E_X != E_Z.
_SLOTS = dict(n_pulses=np.array([1e9, 2e9, 1e9, 3e9]), eta=np.array([1e-3, 2e-3, 1e-3, 5e-4]),
              y0=np.array([1e-6, 3e-6, 1e-6, 2e-6]), e_d=np.array([0.01, 0.02, 0.01, 0.015]),
              e_d_x=np.array([0.03, 0.02, 0.03, 0.04]))
_SEC = dict(eps_sec=1e-10, eps_cor=1e-15, f_ec=1.2, ec_leakage="efficiency")
_POINTS = [DecoyParameters((0.5, 0.1, 0.0), (0.7, 0.2, 0.1), 0.9),
           DecoyParameters((0.35, 0.15, 0.01), (0.5, 0.3, 0.2), 0.6),
           DecoyParameters((0.8, 0.2, 0.0), (0.6, 0.25, 0.15), 0.75)]


def _kernel(p_ap, tails):
    from qproto.security._optimise import _PassKernel
    s = _SLOTS
    return _PassKernel(s["n_pulses"], s["eta"], s["y0"], s["e_d"], s["e_d_x"], p_ap, **_SEC, tails=tails)


def _batch(points):
    mu = np.array([g.intensities for g in points]).T
    p = np.array([g.probabilities for g in points]).T
    return mu, p, np.array([g.p_z for g in points])


@pytest.mark.parametrize("p_ap, tails, factor", [(0.0, "hoeffding", 1.0), (0.03, "chernoff", 1.0),
                                                  (0.03, "hoeffding", 10.0)])
def test_pass_kernel_batch_equals_pass_finite_key_point_by_point(p_ap, tails, factor):
    """Kills ``_PassKernel.evaluate`` mutmut 1-72 and ``_PassKernel.counts`` arithmetic mutants:
    for a batch of three different parameter points, the kernel's n_Z, n_X, m_X, QBER_Z and
    unclipped key equal those of :func:`pass_finite_key` (expected_decoy_counts summed over the
    slots, then finite_key_length: separately coded counts) of each point, for a pass with
    merged slots, E_X != E_Z, with and without afterpulsing, and ``factor`` = 10 equal to a pass
    with 10x the pulses.
    """
    from qproto.security._optimise import pass_finite_key
    r = _kernel(p_ap, tails).evaluate(*_batch(_POINTS), factor)
    pulses = dict(_SLOTS, n_pulses=_SLOTS["n_pulses"] * factor)
    for b, g in enumerate(_POINTS):
        want = pass_finite_key(g, **pulses, **_SEC, tails=tails, afterpulse_probability=p_ap)
        for key in ("n_z", "n_x", "m_x"):
            np.testing.assert_allclose(r[key][..., b], np.asarray(getattr(want, key)), rtol=1e-11, err_msg=key)
        assert r["qber_z"][b] == pytest.approx(float(want.qber_z), rel=1e-11)
        assert r["ell_unclipped"][b] == pytest.approx(float(want.ell_unclipped), rel=1e-9)


def test_pass_kernel_with_no_clicks_has_zero_qber():
    """Kills ``_PassKernel.evaluate`` mutmut 39-47 (the guard of the QBER division where no Z
    count is expected): a pass with eta = 0 and y0 = 0 has n_Z = 0 and QBER_Z exactly 0 (not
    NaN), and no key.
    """
    from qproto.security._optimise import _PassKernel
    z = np.zeros(2)
    k = _PassKernel(np.array([1e9, 1e9]), z, z, np.array([0.01, 0.02]), np.array([0.01, 0.02]), 0.0,
                    **_SEC, tails="hoeffding")
    with np.errstate(all="ignore"):
        r = k.evaluate(*_batch(_POINTS[:2]))
    np.testing.assert_array_equal(r["n_z"], 0.0)
    np.testing.assert_array_equal(r["qber_z"], 0.0)
    np.testing.assert_array_equal(r["ell"], 0.0)


def test_surrogate_is_minus_the_key_over_scale_where_the_bounds_are_positive():
    """Kills ``_surrogate`` mutmut 6-33 and 41-43 (the parameters passed, the keys read, the
    negative parts of the single-photon bounds, the scaling): at box points where both
    single-photon bounds are positive the surrogate is -ell_unclipped / (scale factor), with
    ell_unclipped from :func:`pass_finite_key` of the decoded parameters and of a pass
    ``factor`` times longer (one of the points has no key in the short pass: ell_unclipped < 0).
    """
    from qproto.security._optimise import _surrogate, pass_finite_key
    k = _kernel(0.03, "chernoff")
    us = np.array([[0.3, 0.2, 0.6, 0.7, 0.5], [0.4, 0.3, 0.5, 0.6, 0.6], [0.5, 0.3, 0.7, 0.6, 0.7]])
    for factor, scale in ((1.0, 7.0), (10.0, 3.0)):
        vals = _surrogate(k, _BOX, us, factor, scale)
        pulses = dict(_SLOTS, n_pulses=_SLOTS["n_pulses"] * factor)
        for u, v in zip(us, vals):
            fk = pass_finite_key(_BOX.decode(u), **pulses, **_SEC, tails="chernoff", afterpulse_probability=0.03)
            assert fk.s_z1 > 0 and fk.s_x1 > 0
            assert v == pytest.approx(-float(fk.ell_unclipped) / (scale * factor), rel=1e-9)
        assert np.sum(vals > 0) == (1 if factor == 1.0 else 0)  # the third point has no key in the short pass


def test_gradient_is_forward_inside_and_backward_on_the_upper_face():
    """Kills ``_value_and_gradient`` mutmut 8, 10, 11 (a forward step out of the box at u = 1,
    clipped back: a zero derivative) and 14, 27-32 (step sign, value or difference wrong):
    the value is the surrogate at u, and each derivative equals the one-sided difference
    quotient of the surrogate, taken here point by point (backward for the coordinate at 1).
    """
    from qproto.security._optimise import _FD_STEP, _surrogate, _value_and_gradient
    k = _kernel(0.0, "hoeffding")
    u = _BOX.point(_POINTS[1]).copy()
    u[4] = 1.0
    f0, g = _value_and_gradient(u, k, _BOX, 1.0, 5.0)
    assert f0 == _surrogate(k, _BOX, u[None, :], 1.0, 5.0)[0]
    for i in range(5):
        h = _FD_STEP if i < 4 else -_FD_STEP
        v = u.copy()
        v[i] += h
        want = (_surrogate(k, _BOX, v[None, :], 1.0, 5.0)[0] - f0) / h
        assert want != 0.0
        assert g[i] == pytest.approx(want, rel=1e-6, abs=1e-9 * abs(want))


# --- optimise_decoy_parameters and pass_finite_key: the validation contract ----------------

_CHEAP = dict(n_pulses=1e10, eta=1e-3, y0=1e-6, e_d=0.01, n_starts=1, screen=0, max_evaluations=20)
_NOT_DP = ("not", "parameters")


@pytest.mark.parametrize("kwargs, name, value, allowed", [
    (dict(n_pulses=0.0), "n_pulses", 0.0, "(0, inf]"),
    (dict(eta=1.5), "eta", 1.5, "[0, 1]"), (dict(eta=-0.1), "eta", -0.1, "[0, 1]"),
    (dict(y0=1.5), "y0", 1.5, "[0, 1]"), (dict(y0=-0.1), "y0", -0.1, "[0, 1]"),
    (dict(e_d=0.6), "e_d", 0.6, "[0, 0.5]"), (dict(e_d=-0.1), "e_d", -0.1, "[0, 0.5]"),
    (dict(e_d_x=0.6), "e_d_x", 0.6, "[0, 0.5]"), (dict(e_d_x=-0.1), "e_d_x", -0.1, "[0, 0.5]"),
    (dict(eps_sec=0.0), "eps_sec", 0.0, "(0, 1)"), (dict(eps_sec=1.0), "eps_sec", 1.0, "(0, 1)"),
    (dict(eps_cor=0.0), "eps_cor", 0.0, "(0, 1)"), (dict(eps_cor=1.0), "eps_cor", 1.0, "(0, 1)"),
    (dict(f_ec=0.99), "f_ec", 0.99, "[1, inf)"),
    (dict(mu3=-0.1), "mu3", -0.1, "[0, inf)"),
    (dict(mu1_bounds=(0.0, 1.0)), "mu1_bounds[0]", 0.0, "(0, inf)"),
    (dict(mu1_bounds=(0.5, 0.0)), "mu1_bounds[1]", 0.0, "(0, inf)"),
    (dict(mu1_bounds=(0.5, 0.5)), "mu1_bounds", (0.5, 0.5), "2 mu3 = 0 < lo < hi"),
    (dict(mu3=0.1, mu1_bounds=(0.2, 1.0)), "mu1_bounds", (0.2, 1.0), "2 mu3 = 0.2 < lo < hi"),
    (dict(p_z_bounds=(0.0, 0.9)), "p_z_bounds[0]", 0.0, "(0, 1)"),
    (dict(p_z_bounds=(0.5, 1.0)), "p_z_bounds[1]", 1.0, "(0, 1)"),
    (dict(p_z_bounds=(0.7, 0.7)), "p_z_bounds", (0.7, 0.7), "lo < hi"),
    (dict(min_probability=0.0), "min_probability", 0.0, "(0, 0.333333)"),
    (dict(min_probability=1.0 / 3.0), "min_probability", 1.0 / 3.0, "(0, 0.333333)"),
    (dict(n_starts=0), "n_starts", 0, "integers in [1, inf]"),
    (dict(max_evaluations=19), "max_evaluations", 19, "integers in [20, inf]"),
    (dict(continuation=0.99), "continuation", 0.99, "[1, inf)"),
    (dict(seed=-1), "seed", -1, "integers in [0, inf]"),
    (dict(screen=-1), "screen", -1, "integers in [0, inf]"),
    (dict(ec_leakage="x"), "ec_leakage", "x", "one of ['efficiency', 'finite_size']"),
    (dict(tails="x"), "tails", "x", "one of ['chernoff', 'hoeffding']"),
    (dict(method="x"), "method", "x", "one of ['sqp', 'nelder-mead']"),
    (dict(afterpulse_probability=1.0), "afterpulse_probability", 1.0, "[0, 1)"),
    (dict(afterpulse_probability=-0.1), "afterpulse_probability", -0.1, "[0, 1)"),
    (dict(initial=[_NOT_DP]), "initial[0]", _NOT_DP, "a DecoyParameters"),
])
def test_optimise_rejects_each_bad_argument_with_its_name_value_and_range(kwargs, name, value, allowed):
    """Kills the validation mutants of ``optimise_decoy_parameters`` (mutmut 19-361: a bound
    changed or dropped, open/closed swapped, the error's value, ``not`` dropped from the
    mu1/p_Z order checks, ``2 mu3 <= lo``, the ``initial`` type check): each bad argument
    raises InvalidParameter with exactly the name, value and allowed range written here.
    """
    with pytest.raises(InvalidParameter) as exc:
        optimise_decoy_parameters(**{**_CHEAP, **kwargs})
    assert exc.value.name == name
    assert exc.value.value == value
    assert exc.value.allowed == allowed


def test_optimise_unbroadcastable_slots_name_eta_and_carry_its_value():
    """Kills ``optimise_decoy_parameters`` mutmut 99, 101, 102 (the broadcast error's value or
    arguments): eta of 3 slots against n_pulses of 2 raises InvalidParameter("eta", <eta>, ...).
    """
    eta = [1e-3, 2e-3, 3e-3]
    with pytest.raises(InvalidParameter) as exc:
        optimise_decoy_parameters(**{**_CHEAP, "n_pulses": [1e9, 1e9], "eta": eta})
    assert exc.value.name == "eta" and exc.value.value is eta
    assert exc.value.allowed == "an array broadcastable with n_pulses, y0, e_d and e_d_x"


def test_optimise_accepts_the_boundary_values():
    """Kills the mutants that shrink an allowed range of ``optimise_decoy_parameters`` (a lower
    bound 0 -> 1, 1 -> 2, minimum n + 1, 2 mu3 -> 3 mu3, 1/3 -> 1/4): every boundary value
    allowed by the documented ranges is accepted, and the optimum lies in the boxes given.
    """
    o = optimise_decoy_parameters(n_pulses=1e10, eta=np.array([1.0, 1e-3]), y0=np.array([0.0, 1e-6]),
                                  e_d=np.array([0.0, 0.5]), e_d_x=np.array([0.5, 0.0]), eps_sec=1e-10,
                                  eps_cor=1e-15, f_ec=1.0, mu3=0.1, mu1_bounds=(0.25, 0.4),
                                  p_z_bounds=(1e-3, 0.999), min_probability=0.3, n_starts=1,
                                  max_evaluations=20, continuation=1.0, seed=0, screen=0,
                                  afterpulse_probability=0.0)
    mu1, mu2, mu3 = o.parameters.intensities
    assert mu3 == 0.1 and 0.25 <= mu1 <= 0.4
    assert min(o.parameters.probabilities) >= 0.3 - 1e-12
    assert 1e-3 <= o.parameters.p_z <= 0.999


# --- pass_finite_key ------------------------------------------------------------------------

_PAR = DecoyParameters((0.5, 0.1, 0.0), (0.7, 0.2, 0.1), 0.9)


@pytest.mark.parametrize("bad", [1.0, 1.5, -0.1])
def test_pass_finite_key_afterpulse_probability_in_zero_one_half_open(bad):
    """Kills ``pass_finite_key`` mutmut 6-21 (the afterpulse_probability check: bounds, open end,
    value): p_ap = 1, 1.5 and -0.1 raise InvalidParameter("afterpulse_probability", p_ap, "[0, 1)").
    """
    from qproto.security._optimise import pass_finite_key
    with pytest.raises(InvalidParameter) as exc:
        pass_finite_key(_PAR, n_pulses=1e9, eta=1e-3, y0=1e-6, e_d=0.01, eps_sec=1e-10, eps_cor=1e-15,
                        afterpulse_probability=bad)
    assert (exc.value.name, exc.value.value, exc.value.allowed) == ("afterpulse_probability", bad, "[0, 1)")


def test_pass_finite_key_qber_is_the_closed_form_even_below_one_count():
    """Kills ``pass_finite_key`` mutmut 91-98 (the QBER guard ``n_Z > 0``: ``> 1``, ``>= 0``, the
    fallback 1.0, ``*`` for ``/``): one slot with n_Z ~ 0.01 expected counts has
    QBER_Z = sum_k p_k (Y0/2 + e_d (1 - e^{-eta mu_k})) / sum_k p_k (Y0 + 1 - e^{-eta mu_k})
    (docs/conventions.md A2, written here); a pass without clicks (eta = y0 = 0) has QBER_Z = 0.
    """
    from qproto.security._optimise import pass_finite_key
    eta, y0, e_d = 1e-3, 1e-6, 0.03
    num = sum(p * (y0 / 2 + e_d * (1 - math.exp(-eta * m))) for p, m in zip(_PAR.probabilities, _PAR.intensities))
    den = sum(p * (y0 + 1 - math.exp(-eta * m)) for p, m in zip(_PAR.probabilities, _PAR.intensities))
    fk = pass_finite_key(_PAR, n_pulses=30.0, eta=eta, y0=y0, e_d=e_d, eps_sec=1e-10, eps_cor=1e-15)
    assert 0 < float(np.sum(fk.n_z)) < 1
    assert float(fk.qber_z) == pytest.approx(num / den, rel=1e-12)
    with np.errstate(all="ignore"):
        zero = pass_finite_key(_PAR, n_pulses=1e9, eta=0.0, y0=0.0, e_d=e_d, eps_sec=1e-10, eps_cor=1e-15)
    assert float(zero.qber_z) == 0.0 and float(zero.ell) == 0.0


def test_pass_finite_key_sums_slots_of_any_shape():
    """Kills ``pass_finite_key`` mutmut 53-65 (the axes the slot counts are summed over): slots
    given as a (2, 3) array give the key and per-class bounds of the same six slots
    flattened, and n_Z is the sum of the six one-slot n_Z's.
    """
    from qproto.security._optimise import pass_finite_key
    eta = np.array([[1e-3, 2e-3, 5e-4], [8e-4, 1.5e-3, 1e-3]])
    n = np.array([[1e9, 2e9, 1e9], [3e9, 1e9, 2e9]])
    kw = dict(y0=2e-6, e_d=0.015, eps_sec=1e-10, eps_cor=1e-15)
    grid = pass_finite_key(_PAR, n_pulses=n, eta=eta, **kw)
    flat = pass_finite_key(_PAR, n_pulses=n.ravel(), eta=eta.ravel(), **kw)
    one = [pass_finite_key(_PAR, n_pulses=a, eta=b, **kw).n_z for a, b in zip(n.ravel(), eta.ravel())]
    assert np.shape(grid.n_z) == () and np.shape(grid.n_z_minus) == (3,)
    assert float(grid.n_z) == pytest.approx(float(np.sum(one)), rel=1e-12)
    np.testing.assert_allclose(grid.n_z_minus, flat.n_z_minus, rtol=1e-12)
    assert float(grid.ell_unclipped) == pytest.approx(float(flat.ell_unclipped), rel=1e-12)


# --- _lim2014: validators and the small closed forms ----------------------------------------

@pytest.mark.parametrize("mu, allowed", [
    ((0.5, 0.1, 0.0, 0.0), "three values (mu1, mu2, mu3)"),
    ((0.75, 0.5, 0.25), "mu1 > mu2 + mu3 and mu2 > mu3 >= 0"),   # mu1 == mu2 + mu3 exactly in floats
    ((0.5, 0.1, 0.1), "mu1 > mu2 + mu3 and mu2 > mu3 >= 0"),     # mu2 == mu3
    ((0.5, 0.05, 0.1), "mu1 > mu2 + mu3 and mu2 > mu3 >= 0"),    # mu2 < mu3
    ((0.5, -0.1, 0.0), "[0, inf]"),
])
def test_check_intensities_rejects_with_the_value_given(mu, allowed):
    """Kills ``check_intensities`` mutants (shape test, ``>`` -> ``>=`` in either order condition,
    ``and`` -> ``or``, the error's value): the boundary cases mu1 = mu2 + mu3 and mu2 = mu3 raise
    InvalidParameter("intensities", <the tuple given>, <allowed>); mu3 = 0 and mu1 just above
    mu2 + mu3 are accepted.
    """
    from qproto.security._lim2014 import check_intensities
    with pytest.raises(InvalidParameter) as exc:
        check_intensities(mu)
    assert (exc.value.name, exc.value.value, exc.value.allowed) == ("intensities", mu, allowed)
    np.testing.assert_array_equal(check_intensities((0.75 + 1e-12, 0.5, 0.25)), (0.75 + 1e-12, 0.5, 0.25))
    np.testing.assert_array_equal(check_intensities([0.5, 0.1, 0.0]), (0.5, 0.1, 0.0))


@pytest.mark.parametrize("p, allowed", [
    ((0.5, 0.5), "three probabilities (p1, p2, p3)"),
    ((0.5, 0.3, 0.2 + 2e-9), "values in (0, 1] summing to 1"),
    ((0.5, 0.3, 0.2 - 2e-9), "values in (0, 1] summing to 1"),
    ((0.6, 0.4, 0.0), "(0, 1]"),
])
def test_check_probabilities_rejects_with_the_name_given(p, allowed):
    """Kills ``check_probabilities`` mutants (shape test, the sum tolerance 1e-9 and its sign,
    the open lower end, the name and value carried): sums off by 2e-9 either way and a zero
    probability raise InvalidParameter(<name given>, <value given>, <allowed>); sums off by
    5e-10 pass, and p = 1 is allowed.
    """
    from qproto.security._lim2014 import check_probabilities
    with pytest.raises(InvalidParameter) as exc:
        check_probabilities("q", p)
    assert (exc.value.name, exc.value.value, exc.value.allowed) == ("q", p, allowed)
    for ok in ((0.5, 0.3, 0.2 + 5e-10), (0.5, 0.3, 0.2 - 5e-10)):
        np.testing.assert_array_equal(check_probabilities("q", ok), ok)


def test_gamma_is_the_lim_formula_and_zero_outside_its_domain():
    """Kills ``gamma`` arithmetic and mask mutants: gamma(a, b, c, d) =
    sqrt((c + d)(1 - b) b / (c d ln 2) log2((c + d) 21^2 / (c d (1 - b) b a^2))), written here,
    at three points, with the log clipped at 0 (``max(arg, 1)``) where the argument is below 1
    (a = 0.9 and large counts: arg = 0.005 and 1.5 below); 0 where b = 0, b = 1, c = 0 or d = 0.
    """
    from qproto.security._lim2014 import gamma
    a = 1e-10
    b = np.array([0.02, 0.3, 0.49])
    c = np.array([1e5, 3e4, 7e6])
    d = np.array([2e4, 9e5, 1e3])
    want = np.sqrt((c + d) * (1 - b) * b / (c * d * math.log(2))
                   * np.log2((c + d) * 441.0 / (c * d * (1 - b) * b * a * a)))
    np.testing.assert_allclose(gamma(a, b, c, d), want, rtol=1e-13)
    b, c = np.array([0.4, 0.4]), np.array([1e6, 3000.0])
    arg = 2.0 / c * 441.0 / (0.24 * 0.81)
    assert arg[0] < 1.0 < arg[1] < 2.0
    want = np.sqrt(2.0 / c * 0.24 / math.log(2) * np.log2(np.maximum(arg, 1.0)))
    assert want[0] == 0.0
    np.testing.assert_allclose(gamma(0.9, b, c, c), want, rtol=1e-12, atol=0)
    np.testing.assert_array_equal(gamma(a, np.array([0.0, 1.0, 0.2, 0.2]), np.array([1e4, 1e4, 0.0, 1e4]),
                                        np.array([1e4, 1e4, 1e4, 0.0])), 0.0)


def test_finite_size_leakage_closed_form_and_its_edges():
    """Kills ``finite_size_leakage`` mutants: n h(Q) + (n(1-Q) - F^-1(eps; n, 1-Q) - 1) log2((1-Q)/Q)
    - log2(n)/2 - log2(1/eps) with scipy's binomial quantile, written here, at n = 10^5 (and
    n = 10^5 + 0.7 rounded down) and at n = 1 (the formula, not 0); 0 for n < 1 or Q = 0; n for
    Q >= 1/2.
    """
    from scipy.stats import binom

    from qproto.security._lim2014 import finite_size_leakage
    n, q, eps = 1e5, 0.03, 1e-15
    h = -q * math.log2(q) - (1 - q) * math.log2(1 - q)
    want = (n * h + (n * (1 - q) - binom.ppf(eps, n, 1 - q) - 1) * math.log2((1 - q) / q)
            - 0.5 * math.log2(n) - math.log2(1 / eps))
    got = finite_size_leakage(np.array([n, n + 0.7, 0.9, 1e5, 1e5, 1e5]),
                              np.array([q, q, q, 0.0, 0.5, 0.6]), eps)
    np.testing.assert_allclose(got[:2], want, rtol=1e-12)
    np.testing.assert_array_equal(got[2:], (0.0, 0.0, 1e5, 1e5))
    at_one = h + (1 - q - binom.ppf(eps, 1, 1 - q) - 1) * math.log2((1 - q) / q) - math.log2(1 / eps)
    assert finite_size_leakage(np.array([1.0]), np.array([q]), eps)[0] == pytest.approx(at_one, rel=1e-12)


def test_binary_entropy_helper_values():
    """Kills ``_h`` mutants: h(0.5) = 1, h(0.11) = -0.11 log2 0.11 - 0.89 log2 0.89 (written here),
    and h = 0 at 0, at 1 and outside [0, 1] (-0.2, 1.3).
    """
    from qproto.security._lim2014 import _h
    x = np.array([0.5, 0.11, 0.0, 1.0, -0.2, 1.3])
    want = [1.0, -0.11 * math.log2(0.11) - 0.89 * math.log2(0.89), 0.0, 0.0, 0.0, 0.0]
    np.testing.assert_allclose(_h(x), want, rtol=1e-14, atol=0)


def test_model_qber_and_gain_closed_forms_and_e0_without_clicks():
    """Kills ``model_gain``/``model_qber`` mutants: Q = Y0 + 1 - e^{-eta mu} and
    E = (e0 Y0 + e_d (1 - e^{-eta mu})) / Q (written here), and E = e0 where Q = 0.
    """
    from qproto.security._lim2014 import model_gain, model_qber
    mu, eta, y0, ed, e0 = np.array([0.5, 0.1, 0.3]), np.array([1e-3, 0.2, 0.0]), np.array([1e-6, 1e-5, 0.0]), 0.02, 0.5
    q = y0 + 1 - np.exp(-eta * mu)
    np.testing.assert_allclose(model_gain(mu, eta, y0), q, rtol=1e-9)
    got = model_qber(mu, eta, y0, ed, e0)
    np.testing.assert_allclose(got[:2], ((e0 * y0 + ed * (1 - np.exp(-eta * mu)))[:2] / q[:2]), rtol=1e-9)
    assert got[2] == e0


def test_no_afterpulsing_leaves_the_noise_yield_exactly_unchanged():
    """Kills ``afterpulse_yield``'s ``p_ap == 0`` shortcut mutants (rounding of 1 - (1 - Y0) would
    change Y0) and checks the p_ap > 0 closed form at y0 = 1 (every window clicks: Y0_eff = 1).
    """
    y0 = np.array([1e-7, 3e-9])
    np.testing.assert_array_equal(_ap(y0=y0, eta=0.2, afterpulse_probability=0.0), y0)
    assert _ap(y0=1.0, eta=0.2, afterpulse_probability=0.3) == 1.0


# --- optimise_decoy_parameters: the bookkeeping of starts, stages and evaluations ------------

def test_optimiser_starts_stages_and_evaluation_count(monkeypatch):
    """Kills the bookkeeping mutants of ``optimise_decoy_parameters`` (mutmut ~364-535: the box
    and kernel it builds, ``scale``, the Sobol batch, screening and its ordering, the number of
    cold starts, the continuation stages, the evaluation count, the choice of the best start,
    ``start_values``), with the local optimiser replaced by a recorder that returns its start,
    7 evaluations and a value that makes the last call best. Expected, written here: scale =
    10^-2 sum n (Y0 + 1 - e^{-eta/2}); the guess first (its box point, one stage at factor 1);
    then the two best of scipy's scrambled Sobol batch of 2^5 points (seed 1) by the surrogate
    of the real pass (factor 1: on this pass the top two differ at factor 2),
    each through stages 1000, 100, 10, 1; n_evaluations = 32 + 7 (1 + 2 x 4); the best start is
    the last call; start_values = (9, 5, 1) x scale.
    """
    import qproto.security._optimise as m
    from scipy.stats import qmc

    calls = []

    def recorder(kernel, box, u, factor, scale, method, max_evaluations):
        calls.append(dict(u=np.array(u, float), factor=factor, scale=scale, method=method, max_ev=max_evaluations,
                          box=box, kernel=kernel))
        return np.array(u, float), -float(len(calls)), 7

    monkeypatch.setattr(m, "_local", recorder)
    g = DecoyParameters((0.5, 0.1, 0.0), (0.7, 0.2, 0.1), 0.9)
    o = m.optimise_decoy_parameters(n_pulses=1e9, eta=1e-3, y0=1e-6, e_d=0.01, n_starts=3, initial=[g],
                                    screen=20, seed=1, continuation=1000.0, max_evaluations=33,
                                    method="nelder-mead")
    scale = 1e9 * (1e-6 + 1 - math.exp(-0.5e-3)) * 1e-2
    assert [c["factor"] for c in calls] == pytest.approx([1.0, 1000.0, 100.0, 10.0, 1.0, 1000.0, 100.0, 10.0, 1.0])
    assert all(c["scale"] == pytest.approx(scale, rel=1e-12) for c in calls)
    assert all(c["method"] == "nelder-mead" and c["max_ev"] == 33 for c in calls)
    box = calls[0]["box"]
    assert (box.mu3, box.mu1_lo, box.mu1_hi, box.pz_lo, box.pz_hi, box.p_min) == (0.0, 0.05, 1.0, 0.5, 0.999, 1e-3)
    np.testing.assert_allclose(calls[0]["u"], box.point(g), rtol=0, atol=0)
    batch = qmc.Sobol(d=5, scramble=True, seed=1).random_base2(5)
    vals = m._surrogate(calls[0]["kernel"], box, batch, 1.0, scale)
    best_two = batch[np.argsort(vals, kind="stable")[:2]]
    np.testing.assert_array_equal(calls[1]["u"], best_two[0])
    np.testing.assert_array_equal(calls[5]["u"], best_two[1])
    assert o.n_starts == 3 and o.n_evaluations == 32 + 7 * 9
    assert o.parameters == box.decode(calls[-1]["u"])
    assert o.start_values == pytest.approx((9 * scale, 5 * scale, 1 * scale), rel=1e-12)


@pytest.mark.parametrize("screen, n_starts, continuation, want_batch, want_factors", [
    (0, 2, 5.0, 0, [5.0, 1.0, 5.0, 1.0]),
    (1, 1, 1.0, 2, [1.0]),
])
def test_optimiser_small_batches(monkeypatch, screen, n_starts, continuation, want_batch, want_factors):
    """Kills ``optimise_decoy_parameters`` mutmut 443 (a batch of at least 2^2), 450/451 (screening
    with ``screen >= 0`` / ``screen > 1``) and 499 (at least 2 continuation steps): with
    ``screen=0`` the cold starts are the first Sobol points in order, unscreened (no batch
    evaluations), and continuation 5 is one step (5, 1); with ``screen=1`` and one start a batch
    of 2^1 points is screened and its better point starts. n_evaluations = batch + 7 per stage.
    """
    import qproto.security._optimise as m
    from scipy.stats import qmc

    calls = []

    def recorder(kernel, box, u, factor, scale, method, max_evaluations):
        calls.append(dict(u=np.array(u, float), factor=factor, kernel=kernel, box=box, scale=scale))
        return np.array(u, float), 0.0, 7

    monkeypatch.setattr(m, "_local", recorder)
    o = m.optimise_decoy_parameters(n_pulses=1e9, eta=1e-3, y0=1e-6, e_d=0.01, n_starts=n_starts, screen=screen,
                                    seed=2, continuation=continuation)
    assert [c["factor"] for c in calls] == pytest.approx(want_factors)
    assert o.n_evaluations == want_batch + 7 * len(want_factors)
    sob = qmc.Sobol(d=5, scramble=True, seed=2).random_base2(1)
    if screen == 0:
        np.testing.assert_array_equal([calls[0]["u"], calls[2]["u"]], sob)
    else:
        v = m._surrogate(calls[0]["kernel"], calls[0]["box"], sob, 1.0, calls[0]["scale"])
        assert v[0] != v[1]
        np.testing.assert_array_equal(calls[0]["u"], sob[int(np.argmin(v))])


# --- _local: the two local searches -----------------------------------------------------------

def _recording_local(monkeypatch, method, u0, factor, max_ev):
    import qproto.security._optimise as m
    rows, real = [], m._surrogate

    def spy(kernel, box, u, f, scale):
        rows.extend((np.array(r, float), f, scale) for r in np.atleast_2d(u))
        return real(kernel, box, u, f, scale)

    monkeypatch.setattr(m, "_surrogate", spy)
    k = _kernel(0.0, "hoeffding")
    # scale as optimise_decoy_parameters sets it for this pass (~1e4 bits: objective values of order 1)
    out = m._local(k, _BOX, np.array(u0, float), factor, 1e4, method, max_ev)
    monkeypatch.setattr(m, "_surrogate", real)
    return out, rows, (lambda u: float(real(k, _BOX, np.asarray(u, float)[None, :], factor, 1e4)[0]))


@pytest.mark.parametrize("factor, budget", [(1.0, 60), (10.0, 30)])
def test_nelder_mead_local_search_start_budget_and_returned_point(monkeypatch, factor, budget):
    """Kills ``_local`` Nelder-Mead mutants: the start (mutmut 63-72, 82-85: u clipped into
    [3.4e-4, 1 - 3.4e-4] and mapped by the logit, so the first point evaluated is that clipped
    u), the budget (mutmut 91-96: ``maxfev`` = max_evaluations at factor 1, half of it
    otherwise; 60 evaluations do not converge here, so exactly that many are made), the map back
    (mutmut 54-61, 106-113: the returned value is the surrogate at the returned point, in the
    box) and the count returned (mutmut 114: the number of points evaluated).
    """
    u0 = [0.0, 1.0, 0.3, 0.6, 0.5]
    (u, fun, nfev), rows, f = _recording_local(monkeypatch, "nelder-mead", u0, factor, 60)
    np.testing.assert_allclose(rows[0][0], [3.4e-4, 1 - 3.4e-4, 0.3, 0.6, 0.5], rtol=1e-12)
    assert all(r[1] == factor and r[2] == 1e4 for r in rows)
    assert nfev == len(rows) == budget
    assert np.all((u >= 0) & (u <= 1))
    assert fun == pytest.approx(f(u), rel=1e-12) and fun <= f(rows[0][0])


def test_sqp_local_search_counts_points_and_returns_a_point_in_the_box(monkeypatch):
    """Kills ``_local`` SLSQP mutants: the start (the first point evaluated is u0), the count
    (mutmut 40, 41: 6 points per objective call, i.e. the number of points evaluated), the
    bounds and the clip of the result (mutmut 23, 24, 31-38: the result lies in [0, 1]^5, is
    not pinned to a face, and improves on the start); the value returned is the surrogate at
    the returned point.
    """
    u0 = np.array([0.3, 0.2, 0.6, 0.7, 0.5])
    (u, fun, nev), rows, f = _recording_local(monkeypatch, "sqp", u0, 1.0, 50)
    np.testing.assert_array_equal(rows[0][0], u0)
    assert nev == len(rows) and nev % 6 == 0 and nev > 6
    assert np.all((u >= 0) & (u <= 1)) and not np.all(u == 1.0)
    assert fun == pytest.approx(f(u), rel=1e-9)
    assert fun < f(u0)
