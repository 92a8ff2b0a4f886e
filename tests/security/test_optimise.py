"""Optimising decoy-state BB84 parameters for a pass (qproto.security._optimise)."""

import itertools

import numpy as np
import pytest

from qproto import InvalidParameter
from qproto.security import finite_key_length_from_channel
from qproto.security._optimise import DecoyParameters, optimise_decoy_parameters, pass_finite_key

ETA = np.r_[np.logspace(-4.0, -3.4, 20), np.logspace(-3.4, -4.0, 20)]
PASS = dict(n_pulses=2e8, eta=ETA, y0=1e-6, e_d=0.01)
SEC = dict(eps_sec=1e-10, eps_cor=1e-15)
POOR = (DecoyParameters((0.06, 0.01, 0.0), (0.1, 0.1, 0.8), 0.5),
        DecoyParameters((0.99, 0.9, 0.0), (0.01, 0.01, 0.98), 0.99))


@pytest.fixture(scope="module")
def best():
    return optimise_decoy_parameters(**PASS, **SEC, n_starts=6, seed=1)


def test_optimum_beats_a_grid(best):
    grid = 0.0
    for mu1, mu2, p1, pz in itertools.product((0.3, 0.5, 0.7), (0.1, 0.2), (0.3, 0.5, 0.7), (0.6, 0.75, 0.9)):
        par = DecoyParameters((mu1, mu2, 0.0), (p1, (1 - p1) * 0.7, (1 - p1) * 0.3), pz)
        grid = max(grid, float(pass_finite_key(par, **PASS, **SEC).ell))
    assert grid > 0
    assert best.key_length >= grid
    assert best.key_length == pytest.approx(float(pass_finite_key(best.parameters, **PASS, **SEC).ell))


def test_robust_to_poor_starting_points(best):
    # each poor point alone stalls or not; with the multi-start it does not matter
    o = optimise_decoy_parameters(**PASS, **SEC, n_starts=4, initial=POOR, seed=5)
    assert o.key_length == pytest.approx(best.key_length, rel=2e-3)
    # every Sobol start (continuation) reaches the optimum on its own
    for seed in (2, 3):
        one = optimise_decoy_parameters(**PASS, **SEC, n_starts=1, seed=seed)
        assert one.key_length == pytest.approx(best.key_length, rel=2e-3)


def test_reproducible_and_valid(best):
    again = optimise_decoy_parameters(**PASS, **SEC, n_starts=6, seed=1)
    assert again.parameters == best.parameters
    mu1, mu2, mu3 = best.parameters.intensities
    assert mu1 > mu2 + mu3 and mu2 > mu3 >= 0 and sum(best.parameters.probabilities) == pytest.approx(1.0)


def test_single_slot_pass_is_the_channel_formula():
    par = DecoyParameters((0.5, 0.1, 0.0), (0.7, 0.2, 0.1), 0.9)
    a = pass_finite_key(par, n_pulses=1e11, eta=10**-3, y0=1e-6, e_d=0.01, **SEC)
    b = finite_key_length_from_channel(n_pulses=1e11, eta=10**-3, y0=1e-6, e_d=0.01, **par.as_kwargs(), **SEC)
    assert a.ell == pytest.approx(b.ell, rel=1e-12)


def test_no_key_anywhere_returns_zero():
    o = optimise_decoy_parameters(n_pulses=1e5, eta=1e-4, y0=1e-6, e_d=0.01, n_starts=2)
    assert o.key_length == 0.0


@pytest.mark.parametrize("kwargs,name", [
    (dict(eps_sec=0.0), "eps_sec"), (dict(eps_cor=1.0), "eps_cor"), (dict(n_pulses=-1.0), "n_pulses"),
    (dict(eta=1.5), "eta"), (dict(mu1_bounds=(0.5, 0.2)), "mu1_bounds"), (dict(p_z_bounds=(0.9, 0.5)), "p_z_bounds"),
    (dict(n_starts=0), "n_starts"), (dict(min_probability=0.5), "min_probability"), (dict(mu3=-0.1), "mu3"),
])
def test_rejects_bad_inputs(kwargs, name):
    with pytest.raises(InvalidParameter) as e:
        optimise_decoy_parameters(**{**PASS, **SEC, **kwargs})
    assert name in str(e.value)


@pytest.mark.parametrize("kwargs,name", [
    (dict(intensities=(0.1, 0.5, 0.0)), "intensities"), (dict(probabilities=(0.5, 0.3, 0.3)), "probabilities"),
    (dict(p_z=0.0), "p_z"),
])
def test_parameters_validated(kwargs, name):
    base = dict(intensities=(0.5, 0.1, 0.0), probabilities=(0.7, 0.2, 0.1), p_z=0.9)
    with pytest.raises(InvalidParameter) as e:
        DecoyParameters(**{**base, **kwargs})
    assert name in str(e.value)


def test_no_key_is_flagged():
    o = optimise_decoy_parameters(n_pulses=1e5, eta=1e-4, y0=1e-6, e_d=0.01, n_starts=2)
    assert not o.has_key and o.key_length == 0.0
    assert optimise_decoy_parameters(**PASS, **SEC, n_starts=2).has_key


def test_pass_key_afterpulse_noise_uses_the_given_parameters():
    """Y0_eff = 1 - (1 - Y0)(1 - p_ap sum_k p_k (1 - (1 - Y0) e^{-eta mu_k})) of *these* parameters
    (written here), then the A2 counts. catches: the afterpulse term ignored, or computed with
    other intensities/probabilities than the ones evaluated (bug 8 of issue 11)."""
    par = DecoyParameters((0.45, 0.12, 0.0), (0.6, 0.3, 0.1), 0.85)
    eta, y0, p_ap, n = np.array([2e-3, 1e-3]), 2e-6, 0.04, 5e10
    mu, p = np.array(par.intensities), np.array(par.probabilities)
    y_eff = 1 - (1 - y0) * (1 - p_ap * (p[None, :] * (1 - (1 - y0) * np.exp(-eta[:, None] * mu))).sum(axis=1))
    assert np.all(y_eff > 1.5 * y0)
    want = pass_finite_key(par, n_pulses=n, eta=eta, y0=y_eff, e_d=0.01, **SEC, tails="chernoff")
    got = pass_finite_key(par, n_pulses=n, eta=eta, y0=y0, e_d=0.01, **SEC, tails="chernoff",
                          afterpulse_probability=p_ap)
    assert float(got.ell) == pytest.approx(float(want.ell), rel=1e-12)
    assert float(got.ell) < float(pass_finite_key(par, n_pulses=n, eta=eta, y0=y0, e_d=0.01, **SEC,
                                                  tails="chernoff").ell)


def test_optimiser_sees_afterpulsing_and_x_errors():
    """The optimum of the fast kernel equals the validated key at its parameters with the same
    afterpulsing, X-basis error and tails (catches a kernel that drops any of them)."""
    kw = dict(n_pulses=1e9, eta=ETA, y0=1e-6, e_d=0.01, e_d_x=0.03, **SEC, f_ec=1.3, tails="chernoff")
    o = optimise_decoy_parameters(**kw, afterpulse_probability=0.02, n_starts=2)
    direct = pass_finite_key(o.parameters, **kw, afterpulse_probability=0.02)
    assert o.has_key and o.key_length == pytest.approx(float(direct.ell), rel=1e-9)
    assert o.start_values[0] == pytest.approx(o.key_length, rel=1e-6)  # surrogate = key where key > 0


def test_nelder_mead_reference_agrees():
    o = optimise_decoy_parameters(**PASS, **SEC, n_starts=2, seed=4)
    ref = optimise_decoy_parameters(**PASS, **SEC, n_starts=3, method="nelder-mead", seed=4)
    assert o.key_length >= 0.995 * ref.key_length


@pytest.mark.parametrize("kwargs,name", [(dict(method="bfgs"), "method"), (dict(screen=-1), "screen"),
                                         (dict(tails="x"), "tails"), (dict(afterpulse_probability=1.0),
                                                                      "afterpulse_probability")])
def test_rejects_bad_new_options(kwargs, name):
    with pytest.raises(InvalidParameter) as e:
        optimise_decoy_parameters(**PASS, **SEC, **kwargs)
    assert e.value.name == name


@pytest.mark.parametrize("name", ["y0", "e_d", "e_d_x"])
def test_slots_that_do_not_broadcast_are_named_by_the_argument_that_does_not_fit(name):
    """Three slots of n_pulses and eta against two values of another argument: the error names
    that argument and carries its value (it used to name eta whatever did not fit)."""
    kw = dict(n_pulses=[1e10] * 3, eta=[1e-3] * 3, y0=1e-6, e_d=0.01, eps_sec=1e-10, eps_cor=1e-15)
    bad = {"y0": [1e-6, 2e-6], "e_d": [0.01, 0.02], "e_d_x": [0.01, 0.02]}[name]
    kw[name] = bad
    with pytest.raises(InvalidParameter) as info:
        optimise_decoy_parameters(**kw)
    assert info.value.name == name and info.value.value is bad
    assert info.value.allowed.startswith("an array broadcastable with n_pulses, eta")
