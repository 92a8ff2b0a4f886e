"""Tests for the survivors of the sixth mutation run of ``qproto/security/_optimise.py`` (issue 9).

Each test names the mutmut mutants it kills (function and number of the run in /tmp/mhB). It
checks an answer that does not come from the line under test:
* the documented defaults of :func:`optimise_decoy_parameters` (a call without an argument
  behaves as one with the documented value);
* which points a local search evaluates (forward steps, the unit box), and its documented
  algorithm and budget;
* the SLSQP optimum as an independent reference for the Nelder-Mead search;
* closed forms written here: Lim et al.'s unclipped single-photon bound from the public tail
  bounds, and the A2 QBER below one count;
* the separately coded finite_key_length_from_channel;
* the validation contract (the argument that does not fit is named).
Verdicts for every survivor: /work/helpers/verdicts-optimise6.md.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import qproto.security._optimise as m
from qproto._errors import InvalidParameter
from qproto.security._optimise import DecoyParameters, _Box

# mu3 > 0, mu1_lo > 0, p_min > 0 and pz_lo > 0: every term of the box map shows.
_BOX = _Box(mu3=0.02, mu1_bounds=(0.3, 0.9), pz_bounds=(0.55, 0.95), p_min=0.05)
_SLOTS = dict(n_pulses=np.array([1e9, 2e9, 3e9]), eta=np.array([1e-3, 2e-3, 5e-4]),
              y0=np.array([1e-6, 3e-6, 2e-6]), e_d=np.array([0.01, 0.02, 0.015]),
              e_d_x=np.array([0.03, 0.02, 0.04]))
_SEC = dict(eps_sec=1e-10, eps_cor=1e-15, f_ec=1.2, ec_leakage="efficiency")


def _kernel():
    s = _SLOTS
    return m._PassKernel(s["n_pulses"], s["eta"], s["y0"], s["e_d"], s["e_d_x"], 0.0, **_SEC, tails="hoeffding")


# --- _value_and_gradient: forward step whenever it stays in the closed box ----------------------

def test_gradient_steps_forward_onto_the_upper_face(monkeypatch):
    """Kills ``_value_and_gradient`` mutmut_9 (``u + h <= 1`` -> ``<``). The docstring promises
    a forward difference, backward only *at* the upper face. A coordinate at 1 - h, whose
    forward point 1.0 is still in the box [0, 1], must be stepped forward onto the face. The
    mutant steps it backward. We check the six points evaluated (u, then u + h e_i with h = +1e-6
    for every coordinate) and the derivative: it equals the forward quotient of the surrogate
    and differs from the backward one by far more than the tolerance.
    """
    k = _kernel()
    u = np.array([1.0 - m._FD_STEP, 0.3, 0.6, 0.7, 0.5])
    assert u[0] + m._FD_STEP == 1.0  # the forward point lies exactly on the face
    rows, real = [], m._surrogate

    def spy(kernel, box, pts, factor, scale):
        rows.extend(np.array(r, float) for r in np.atleast_2d(pts))
        return real(kernel, box, pts, factor, scale)

    monkeypatch.setattr(m, "_surrogate", spy)
    f0, g = m._value_and_gradient(u, k, _BOX, 1.0, 3.0)
    monkeypatch.setattr(m, "_surrogate", real)
    assert len(rows) == 6
    np.testing.assert_array_equal(rows[0], u)
    for i in range(5):
        want = u.copy()
        want[i] += m._FD_STEP
        np.testing.assert_array_equal(rows[1 + i], want)
    assert rows[1][0] == 1.0

    def f(v):
        return float(real(k, _BOX, v[None, :], 1.0, 3.0)[0])

    e0 = np.eye(5)[0] * m._FD_STEP
    forward = (f(u + e0) - f(u)) / m._FD_STEP
    backward = (f(u) - f(u - e0)) / m._FD_STEP
    assert abs(forward - backward) > 1e-6 * abs(forward)
    assert g[0] == pytest.approx(forward, rel=1e-8)


# --- _Box.decode: the probabilities are normalised by their float sum --------------------------

def test_decode_normalises_probabilities_whose_float_sum_is_below_one():
    """Kills ``_Box.decode`` mutmut_16 (``p / p.sum()`` -> ``p * p.sum()``). p3 = 1 - p1 - p2
    is formed in floats, so on a few per cent of box points the float sum of (p1, p2, p3) is
    1 - 2^-53, not 1. There decode normalises: dividing by a sum below 1 can only raise each
    probability, and the ulp it adds raises at least one of them. Multiplying lowers them.
    The points are the first five of a seeded batch whose params sum below 1. The box map
    itself is checked against the closed form in test_optimise_and_lim2014_survivors.py.
    """
    u_all = np.random.default_rng(0).random((400, 5))
    _, p_all, _ = _BOX.params(u_all)
    below = np.flatnonzero(p_all.sum(axis=0) < 1.0)
    assert below.size >= 5  # 18 of these 400 points
    for b in below[:5]:
        p = p_all[:, b]
        got = np.array(_BOX.decode(u_all[b]).probabilities)
        assert np.all(got >= p) and np.any(got > p)
        assert abs(math.fsum(got) - 1.0) <= 2.0 ** -52


# --- optimise_decoy_parameters: the defaults of a call ---------------------------------------

def _record(monkeypatch, **kw):
    """Run the optimiser with its local search replaced by a recorder that returns its start,
    7 evaluations and a value that makes later calls better."""
    calls = []

    def recorder(kernel, box, u, factor, scale, method, max_evaluations):
        calls.append(dict(u=np.array(u, float), factor=factor, method=method, max_ev=max_evaluations))
        return np.array(u, float), -float(len(calls)), 7

    monkeypatch.setattr(m, "_local", recorder)
    o = m.optimise_decoy_parameters(n_pulses=1e9, eta=1e-3, y0=1e-6, e_d=0.01, **kw)
    return o, calls


def test_defaults_of_optimise_decoy_parameters(monkeypatch):
    """Kills ``optimise_decoy_parameters`` mutmut_7 (n_starts 3 -> 4), 8 (max_evaluations
    600 -> 601), 9 (continuation 1 -> 2), 10 (seed 0 -> 1) and 16 (screen 256 -> 257).
    These are the public signature's defaults. The docstring states continuation's ("default 1:
    off"). docs/passes.md states the 256-point screening batch. The others are given by the
    signature that help() shows. A call without any of them makes the same calls as one with
    n_starts=3, max_evaluations=600, continuation=1, seed=0 and screen=256:
    three local searches, each one stage at factor 1 with 600 iterations, from the three best
    points of a 2^8 = 256-point Sobol batch of seed 0. So n_evaluations = 256 + 3 x 7.
    A different seed moves the starts, so the seed is seen.
    """
    o, calls = _record(monkeypatch)
    assert o.n_starts == 3 and len(calls) == 3
    assert [c["factor"] for c in calls] == [1.0, 1.0, 1.0]
    assert all(c["max_ev"] == 600 and c["method"] == "sqp" for c in calls)
    assert o.n_evaluations == 256 + 3 * 7
    _, explicit = _record(monkeypatch, n_starts=3, max_evaluations=600, continuation=1.0, seed=0, screen=256)
    for a, b in zip(calls, explicit):
        np.testing.assert_array_equal(a["u"], b["u"])
    _, other_seed = _record(monkeypatch, seed=1)
    assert not np.array_equal(calls[0]["u"], other_seed[0]["u"])


# --- _local: bounded SLSQP, capped by max_evaluations ------------------------------------------

def test_sqp_local_search_is_bounded_slsqp_capped_by_max_evaluations(monkeypatch):
    """Kills ``_local`` mutmut_10, 16, 17, 24 (SLSQP's bounds None, dropped or (0, 2)), 9 (method
    None: scipy then picks L-BFGS-B), 11, 18 (options None or dropped: maxiter falls back to
    100) and 26-29 (an option key misspelt: scipy warns "Unknown solver options").
    The module docs say the default method is bounded SLSQP in the box [0, 1]^5. The
    docstring of optimise_decoy_parameters says max_evaluations caps its iterations.
    On a box whose optimum lies on two faces (p3 at p_min = 0.2 and p_Z at its upper bound
    0.7), every point the search evaluates lies in [0, 1]^5. Without bounds, SLSQP steps to
    u ~ 30 here, and params clips those points back. scipy's minimize is called with SLSQP,
    the unit-box bounds and maxiter = max_evaluations, and no warning is emitted.
    """
    k = _kernel()
    box = _Box(mu3=0.0, mu1_bounds=(0.05, 1.0), pz_bounds=(0.5, 0.7), p_min=0.2)
    rows, calls = [], []
    real_surrogate, real_minimize = m._surrogate, m.optimize.minimize

    def spy(kernel, b, pts, factor, scale):
        rows.extend(np.array(r, float) for r in np.atleast_2d(pts))
        return real_surrogate(kernel, b, pts, factor, scale)

    def minimize(*args, **kwargs):
        calls.append(kwargs)
        return real_minimize(*args, **kwargs)

    monkeypatch.setattr(m, "_surrogate", spy)
    monkeypatch.setattr(m.optimize, "minimize", minimize)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. scipy's "Unknown solver options"
        u, fun, nev = m._local(k, box, np.array([0.3, 0.2, 0.6, 0.7, 0.5]), 1.0, 1e4, "sqp", 37)
    monkeypatch.undo()
    pts = np.array(rows)
    assert len(pts) == nev > 6
    assert np.all((pts >= 0.0) & (pts <= 1.0))
    assert u[3] > 1.0 - 1e-9 and u[4] > 1.0 - 1e-9  # on the two faces
    assert len(calls) == 1
    kw = calls[0]
    assert str(kw["method"]).lower() == "slsqp"
    assert [tuple(b) for b in kw["bounds"]] == [(0.0, 1.0)] * 5
    assert kw["options"]["maxiter"] == 37 and kw["jac"] is True


# --- _local: the Nelder-Mead reference --------------------------------------------------------

_U0 = np.array([0.3, 0.2, 0.6, 0.7, 0.5])
_WIDE = _Box(mu3=0.0, mu1_bounds=(0.05, 1.0), pz_bounds=(0.5, 0.999), p_min=1e-3)


@pytest.mark.parametrize("scale", [1e4, 1e7])
def test_nelder_mead_reference_reaches_the_slsqp_optimum_without_warnings(scale):
    """Kills ``_local`` mutmut_97, 98, 100, 101, 103, 104 (an option key misspelt: scipy warns
    "Unknown solver options" and falls back to its own default), 105 (``adaptive`` False) and
    99 (``xatol`` 1e-3 -> 1.001). From an interior start, within the default budget of 600
    evaluations, the derivative-free reference reaches the optimum found independently by
    scipy's SLSQP with a much tighter tolerance. The key must agree to 1e-6 relative and the
    point to 2e-3 in every box coordinate (reached: 3e-8 and 5e-5). It must also emit no
    warning. ``scale`` 1e4 gives objective values ~20. Non-adaptive NM then stops at the budget
    0.6 % short. ``scale`` 1e7 gives values ~0.02, a small key against many detections. The
    f-spread test is then met early, and only ``xatol`` keeps the simplex shrinking
    (xatol 1.001 stops 4 % short, 0.1 away in u).
    """
    from scipy import optimize

    k = _kernel()
    ref = optimize.minimize(m._value_and_gradient, _U0, args=(k, _WIDE, 1.0, scale), jac=True, method="SLSQP",
                            bounds=[(0.0, 1.0)] * 5, options={"maxiter": 600, "ftol": 1e-16})
    assert ref.success and np.all((ref.x > 0.01) & (ref.x < 0.99))  # an interior optimum
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        u, fun, nfev = m._local(k, _WIDE, _U0, 1.0, scale, "nelder-mead", 600)
    assert nfev <= 600
    assert (fun - ref.fun) / abs(ref.fun) <= 1e-6
    np.testing.assert_allclose(u, ref.x, rtol=0, atol=2e-3)


def test_nelder_mead_continuation_budget_is_half_rounded_down(monkeypatch):
    """Kills ``_local`` mutmut_95 (``max_evaluations // 2`` -> ``/ 2``). At a continuation stage
    (factor != 1) the Nelder-Mead budget is half of max_evaluations. Evaluations are counted
    in whole numbers, so an odd budget of 33 allows 16 evaluations. With the mutant, scipy
    compares its count with 16.5 and makes 17. At factor 1 all 33 are used. Neither search
    converges that fast.
    """
    k = _kernel()
    for factor, want in ((10.0, 16), (1.0, 33)):
        rows, real = [], m._surrogate

        def spy(kernel, box, pts, f, scale):
            rows.extend(np.atleast_2d(pts))
            return real(kernel, box, pts, f, scale)

        monkeypatch.setattr(m, "_surrogate", spy)
        _, _, nfev = m._local(k, _WIDE, _U0, factor, 1e4, "nelder-mead", 33)
        monkeypatch.undo()
        assert nfev == len(rows) == want


# --- optimise_decoy_parameters: bookkeeping at the edges -----------------------------------

def _recorder(calls):
    def recorder(kernel, box, u, factor, scale, method, max_evaluations):
        calls.append(dict(u=np.array(u, float), factor=factor, scale=scale, box=box))
        return np.array(u, float), -float(len(calls)), 7
    return recorder


_GUESS = DecoyParameters((0.5, 0.1, 0.0), (0.7, 0.2, 0.1), 0.9)


@pytest.mark.parametrize("screen", [0, 256])
def test_guesses_filling_every_start_need_no_sobol_batch(monkeypatch, screen):
    """Kills ``optimise_decoy_parameters`` mutmut_453 (``len(starts) < n_starts`` -> ``<=``).
    When the ``initial`` guesses fill all ``n_starts``, no cold start is needed. So no Sobol
    batch is drawn or screened. n_evaluations is the local search's alone (7 here), and the
    one search starts at the guess. The mutant screens 256 points for nothing, or with
    screen=0 fails on log2(0).
    """
    calls = []
    monkeypatch.setattr(m, "_local", _recorder(calls))
    o = m.optimise_decoy_parameters(n_pulses=1e9, eta=1e-3, y0=1e-6, e_d=0.01, n_starts=1, initial=[_GUESS],
                                    screen=screen)
    assert o.n_evaluations == 7 and o.n_starts == 1 and len(calls) == 1
    np.testing.assert_array_equal(calls[0]["u"], calls[0]["box"].point(_GUESS))


def test_continuation_below_two_is_one_step(monkeypatch):
    """Kills ``optimise_decoy_parameters`` mutmut_520 (``continuation > 1`` -> ``> 2``). The
    docstring says any continuation above 1 first optimises a pass that many times longer:
    1.5 gives the stages 1.5 then 1 (one step, at most x10). The mutant skips it below 2.
    """
    calls = []
    monkeypatch.setattr(m, "_local", _recorder(calls))
    m.optimise_decoy_parameters(n_pulses=1e9, eta=1e-3, y0=1e-6, e_d=0.01, n_starts=1, screen=0, continuation=1.5)
    assert [c["factor"] for c in calls] == [1.5, 1.0]


def test_objective_unit_is_at_least_one_bit(monkeypatch):
    """Kills ``optimise_decoy_parameters`` mutmut_448 (the floor of ``scale`` 1 -> 2). The
    objective is measured in units of 1 % of the expected detections,
    10^-2 sum n (Y0 + 1 - e^{-eta/2}), but never less than one bit. A pass of 1e4 pulses at
    eta = 1e-3 expects ~5 detections (0.05 bit units), so its unit is 1 bit. A pass of
    3e5 pulses expects ~150, so its unit is 1.5 bits, above the floor.
    """
    for n, want in ((1e4, 1.0), (3e5, 3e5 * (1e-6 + 1 - math.exp(-0.5e-3)) * 1e-2)):
        calls = []
        monkeypatch.setattr(m, "_local", _recorder(calls))
        m.optimise_decoy_parameters(n_pulses=n, eta=1e-3, y0=1e-6, e_d=0.01, n_starts=1, screen=0)
        monkeypatch.undo()
        assert calls[0]["scale"] == pytest.approx(want, rel=1e-12)


def test_screened_starts_break_ties_in_sobol_order(monkeypatch):
    """Kills ``optimise_decoy_parameters`` mutmut_496, 498 (``argsort(kind="stable")`` -> the
    default quicksort). Cold starts are the best points of the Sobol batch. Among equally
    good points they keep the Sobol order, so the choice does not depend on numpy's sort
    algorithm (one seed in, same result out, on any machine). Here the screening values are
    made to take only five levels, v_i = (7919 i) mod 5. The best level holds i = 0, 5, 10, ...,
    so the three cold starts are Sobol points 0, 5 and 10 (seed 0, 256 points).
    Quicksort gives 0, 5, 15.
    """
    from scipy.stats import qmc

    calls = []
    monkeypatch.setattr(m, "_local", _recorder(calls))
    monkeypatch.setattr(m, "_surrogate", lambda kernel, box, u, factor, scale: (np.arange(len(u)) * 7919 % 5) * 1.0)
    m.optimise_decoy_parameters(n_pulses=1e9, eta=1e-3, y0=1e-6, e_d=0.01, n_starts=3, screen=256, seed=0)
    sob = qmc.Sobol(d=5, scramble=True, seed=0).random_base2(8)
    np.testing.assert_array_equal(np.array([c["u"] for c in calls]), sob[[0, 5, 10]])


# --- _surrogate: the negative parts of the single-photon bounds ---------------------------------

_SHORT = dict(n_pulses=np.array([1e6, 2e6, 3e6]), eta=_SLOTS["eta"], y0=_SLOTS["y0"], e_d=_SLOTS["e_d"],
              e_d_x=_SLOTS["e_d_x"])


def _s1_closed_form(fk, mu, basis):
    """Lim et al. 2014's single-photon lower bound before clipping (docs/conventions.md A2),
    from the tail bounds, tau0, tau1 and s_0 that FiniteKeyResult reports:
    s_1 = tau1 mu1 [n-_2 - n+_3 - (mu2^2 - mu3^2)/mu1^2 (n+_1 - s_0/tau0)] / (mu1 (mu2 - mu3) - mu2^2 + mu3^2).
    """
    nm, npl, s0 = ((fk.n_z_minus, fk.n_z_plus, fk.s_z0) if basis == "z" else (fk.n_x_minus, fk.n_x_plus, fk.s_x0))
    m1, m2, m3 = mu
    return (fk.tau1 * m1 * (nm[1] - npl[2] - (m2**2 - m3**2) / m1**2 * (npl[0] - s0 / fk.tau0))
            / (m1 * (m2 - m3) - m2**2 + m3**2))


@pytest.mark.parametrize("u4, factor, signs", [(0.9, 1.0, (-1, -1)), (1.0, 10.0, (1, -1))])
def test_surrogate_adds_the_negative_parts_of_both_single_photon_bounds(u4, factor, signs):
    """Kills ``_surrogate`` mutmut_16 and 17 (a negative part subtracted instead of added). Where
    the single-photon bounds are negative (a short pass, no key), the surrogate is
    -(ell_unclipped + min(s_Z1, 0) + min(s_X1, 0)) / (scale factor). Its docstring: the sum
    keeps a slope to climb. ell_unclipped comes from pass_finite_key of the decoded point for a
    pass ``factor`` times longer. The unclipped bounds are written out above from the public
    tail bounds. Cases: both bounds negative (p_Z = 0.95), and only s_X1 negative (p_Z = 0.999,
    ten times the pulses).
    """
    from qproto.security._optimise import pass_finite_key

    k = m._PassKernel(_SHORT["n_pulses"], _SHORT["eta"], _SHORT["y0"], _SHORT["e_d"], _SHORT["e_d_x"], 0.0,
                      **_SEC, tails="hoeffding")
    u = np.array([0.5, 0.3, 0.6, 0.6, u4])
    g = _WIDE.decode(u)
    fk = pass_finite_key(g, **dict(_SHORT, n_pulses=_SHORT["n_pulses"] * factor), **_SEC)
    sz, sx = _s1_closed_form(fk, g.intensities, "z"), _s1_closed_form(fk, g.intensities, "x")
    assert (np.sign(sz), np.sign(sx)) == signs and float(fk.ell_unclipped) < 0
    want = -(float(fk.ell_unclipped) + min(sz, 0.0) + min(sx, 0.0)) / (3.0 * factor)
    got = m._surrogate(k, _WIDE, u[None, :], factor, 3.0)[0]
    assert got == pytest.approx(want, rel=1e-9)


def test_surrogate_is_finite_and_silent_where_the_key_overflows():
    """Kills ``_surrogate`` mutmut_3 (``np.errstate(all="ignore")`` -> ``all=None``: the caller's
    floating-point settings). At n_pulses = 1.7e308 and eta = 1 the count bounds overflow.
    The surrogate then still returns a finite number for every point (the non-finite key is
    replaced by a large penalty) and emits no RuntimeWarning, even when the caller has numpy
    set to warn and warnings turned into errors.
    """
    k = m._PassKernel(np.array([1.7e308]), np.array([1.0]), np.array([0.0]), np.array([0.01]), np.array([0.01]),
                      0.0, **_SEC, tails="hoeffding")
    u = np.array([[0.5, 0.3, 0.6, 0.6, 0.5], [1.0] * 5, [0.0] * 5])
    with np.errstate(all="warn"), warnings.catch_warnings():
        warnings.simplefilter("error")
        v = m._surrogate(k, _WIDE, u, 1.0, 1.0)
    assert v.shape == (3,) and np.all(np.isfinite(v))


# --- ec_leakage="finite_size" reaches both key computations ------------------------------------

def test_finite_size_leakage_reaches_pass_finite_key_and_the_kernel():
    """Kills ``pass_finite_key`` mutmut_89 (``ec_leakage`` not passed on: the default
    "efficiency" is used) and ``_PassKernel.__init__`` mutmut_43 (the kernel's ec_leakage
    None). A single-slot pass gives the same leakage and unclipped key as
    finite_key_length_from_channel (a separately coded path) with ec_leakage="finite_size".
    At f_EC = 1 that leakage is 11 % above the efficiency one here. The optimiser's kernel,
    built with "finite_size", gives the leakage and key of pass_finite_key for three points
    of a three-slot pass.
    """
    from qproto.security import finite_key_length_from_channel
    from qproto.security._optimise import pass_finite_key

    par = DecoyParameters((0.5, 0.1, 0.0), (0.7, 0.2, 0.1), 0.9)
    one = dict(n_pulses=1e9, eta=1e-3, y0=1e-6, e_d=0.01, e_d_x=0.02, eps_sec=1e-10, eps_cor=1e-15, f_ec=1.0)
    fs = pass_finite_key(par, **one, ec_leakage="finite_size")
    ref = finite_key_length_from_channel(**one, **par.as_kwargs(), ec_leakage="finite_size")
    eff = pass_finite_key(par, **one, ec_leakage="efficiency")
    assert float(fs.lambda_ec) == pytest.approx(float(ref.lambda_ec), rel=1e-12)
    assert float(fs.ell_unclipped) == pytest.approx(float(ref.ell_unclipped), rel=1e-12)
    assert float(fs.lambda_ec) > 1.05 * float(eff.lambda_ec)

    sec = dict(_SEC, f_ec=1.0, ec_leakage="finite_size")
    s = _SLOTS
    k = m._PassKernel(s["n_pulses"], s["eta"], s["y0"], s["e_d"], s["e_d_x"], 0.0, **sec, tails="hoeffding")
    points = [par, DecoyParameters((0.35, 0.15, 0.0), (0.5, 0.3, 0.2), 0.6),
              DecoyParameters((0.8, 0.2, 0.0), (0.6, 0.25, 0.15), 0.75)]
    mu = np.array([g.intensities for g in points]).T
    p = np.array([g.probabilities for g in points]).T
    r = k.evaluate(mu, p, np.array([g.p_z for g in points]), 1.0)
    for b, g in enumerate(points):
        want = pass_finite_key(g, **s, **sec)
        assert r["lambda_ec"][b] == pytest.approx(float(want.lambda_ec), rel=1e-11)
        assert r["ell_unclipped"][b] == pytest.approx(float(want.ell_unclipped), rel=1e-9)


def test_kernel_qber_is_the_closed_form_below_one_expected_count():
    """Kills ``_PassKernel.evaluate`` mutmut_46 (the guard of the QBER division ``n_Z > 0`` ->
    ``n_Z > 1``: below one expected count the error sum is no longer divided). For a tiny
    two-slot pass (n_Z ~ 0.02 expected counts) the kernel's QBER_Z is
    sum_k p_k sum_s n_s (Y0_s/2 + e_d,s (1 - e^{-eta_s mu_k})) / sum_k p_k sum_s n_s (Y0_s + 1 - e^{-eta_s mu_k})
    (docs/conventions.md A2, written here; the p_Z^2 factors cancel).
    """
    n, eta, y0, e_d = np.array([20.0, 40.0]), np.array([1e-3, 2e-3]), np.array([1e-6, 3e-6]), np.array([0.03, 0.01])
    k = m._PassKernel(n, eta, y0, e_d, e_d, 0.0, **_SEC, tails="hoeffding")
    mu, p, pz = (0.5, 0.1, 0.0), (0.7, 0.2, 0.1), 0.9
    num = sum(pk * ns * (y / 2 + e * (1 - math.exp(-h * mk)))
              for pk, mk in zip(p, mu) for ns, h, y, e in zip(n, eta, y0, e_d))
    den = sum(pk * ns * (y + 1 - math.exp(-h * mk)) for pk, mk in zip(p, mu) for ns, h, y in zip(n, eta, y0))
    with np.errstate(all="ignore"):
        r = k.evaluate(np.array(mu)[:, None], np.array(p)[:, None], np.array([pz]), 1.0)
    assert 0 < float(np.sum(r["n_z"])) < 1
    assert float(r["qber_z"][0]) == pytest.approx(num / den, rel=1e-12)


def test_pass_finite_key_without_afterpulsing_names_the_slot_argument_that_does_not_fit():
    """Kills ``pass_finite_key`` mutmut_23 (``p_ap > 0`` -> ``>= 0``: the afterpulse helper also
    runs at p_ap = 0, and its broadcast check fires first and names eta). Three slots of eta
    against two values of y0: y0 is the argument that does not fit. The error is
    InvalidParameter naming y0, carrying its values and the slot shape expected, as
    optimise_decoy_parameters names it. (With afterpulse_probability > 0, pass_finite_key
    names eta instead. That inconsistency is reported, not tested here.)
    """
    from qproto.security._optimise import pass_finite_key

    y0 = [1e-6, 2e-6]
    with pytest.raises(InvalidParameter) as exc:
        pass_finite_key(_GUESS, n_pulses=1e9, eta=[1e-3, 2e-3, 5e-4], y0=y0, e_d=0.01, eps_sec=1e-10, eps_cor=1e-15)
    assert exc.value.name == "y0"
    np.testing.assert_array_equal(exc.value.value, y0)
    assert "(3,)" in exc.value.allowed


def test_nelder_mead_converges_to_the_value_tolerance_when_the_budget_allows():
    """Kills ``_local`` mutmut_102 (``fatol`` 1e-6 -> 1.000001). The objective is in units of
    ``scale`` bits (1 here, so ~2e5 bits), and the reference search stops only when the simplex
    values agree to 1e-6 of a unit. With a budget it does not exhaust (1200), it converges
    (nfev < 1200). Its key is then within 1e-4 bit of the SLSQP optimum (reached: ~2e-7 bit).
    With fatol ~1 the search stops once the values agree to one bit, 6e-3 bit short.
    """
    from scipy import optimize

    k = _kernel()
    ref = optimize.minimize(m._value_and_gradient, _U0, args=(k, _WIDE, 1.0, 1e4), jac=True, method="SLSQP",
                            bounds=[(0.0, 1.0)] * 5, options={"maxiter": 600, "ftol": 1e-16})
    best = ref.fun * 1e4  # minus the key in bits
    _, fun, nfev = m._local(k, _WIDE, _U0, 1.0, 1.0, "nelder-mead", 1200)
    assert nfev < 1200
    assert fun - best <= 1e-4
