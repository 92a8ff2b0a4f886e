"""Edge cases of qproto.security that the mutation run (TESTING.md) found untested.

Each test's docstring names the surviving mutants (file:line, change) it kills. Expected
values come from the formulas of docs/conventions.md (A1, A2, A4, A10, A11, A13) written out here,
or from the numpy density-matrix reference in ``tests/_reference.py``; never from the code
under test. Boundary calls run with warnings turned into errors: a function that is
right at its boundary only because numpy's NaN/inf happened to be masked afterwards
still fails.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from fractions import Fraction

from _reference import I2, X, Y, Z, bell, dm, h2, kron, rotation

from qproto import InvalidParameter, InvalidType
from qproto.security import (
    DecoyParameters,
    bb84_asymptotic_fraction,
    bbpssw,
    bell_diagonal_correlators,
    bilateral_cnot,
    binary_entropy,
    chain_fidelity,
    chsh_value,
    db_from_transmittance,
    decoy_key_rate_infinite,
    decoy_key_rate_vacuum_weak,
    dejmps,
    expected_decoy_counts,
    finite_key_length,
    finite_key_length_from_channel,
    gllp_key_rate,
    n_photon_error,
    n_photon_yield,
    optimise_decoy_parameters,
    pass_finite_key,
    plob_bound,
    swap_fidelity,
    teleportation_fidelity,
    tgw_bound,
    transmittance_from_db,
    vacuum_weak_decoy_bounds,
    wcp_gain,
    wcp_qber,
    werner_coefficients,
    werner_fidelity,
    werner_visibility,
)
from qproto.security._purification import bloch_map, purify_density_matrix, rotation_bloch_matrix


def silently(func, *args, **kwargs):
    """Call ``func`` with every warning (numpy's RuntimeWarning included) raised as an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return func(*args, **kwargs)


# ---- independent density-matrix helpers (numpy only) -----------------------------------

#: docs/conventions.md A11 / the _purification docstring: coefficients (A, B, C, D) on (Phi+, Psi-, Psi+, Phi-).
BELL_ORDER = ("phi+", "psi-", "psi+", "phi-")
P0 = np.diag([1.0, 0.0]).astype(complex)
P1 = np.diag([0.0, 1.0]).astype(complex)


def bell_diagonal(coeffs):
    return sum(c * bell(name) for c, name in zip(coeffs, BELL_ORDER))


def bell_weights(rho):
    return [float(np.real(np.trace(rho @ bell(name)))) for name in BELL_ORDER]


def expect(rho, op):
    return float(np.real(np.trace(rho @ op)))


def axis(theta):
    """cos(t) Z + sin(t) X (docs/conventions.md section 0: measurement axis in the x-z plane)."""
    return math.cos(theta) * Z + math.sin(theta) * X


def purify_reference(rho, *, dejmps_rotations):
    """Two copies (a1 b1)(a2 b2), optional DEJMPS rotations (Alice Rx(pi/2), Bob Rx(-pi/2)),
    bilateral CNOT a1->a2, b1->b2, keep when Z(a2) = Z(b2); returns (kept pair, p_success)."""
    state = kron(rho, rho)  # qubit order a1, b1, a2, b2
    if dejmps_rotations:
        def rx(t):
            return math.cos(t / 2) * I2 - 1j * math.sin(t / 2) * X
        u = kron(rx(math.pi / 2), rx(-math.pi / 2), rx(math.pi / 2), rx(-math.pi / 2))
        state = u @ state @ u.conj().T
    cnot_a = kron(P0, I2, I2, I2) + kron(P1, I2, X, I2)
    cnot_b = kron(I2, P0, I2, I2) + kron(I2, P1, I2, X)
    u = cnot_b @ cnot_a
    state = u @ state @ u.conj().T
    keep = kron(I2, I2, P0, P0) + kron(I2, I2, P1, P1)
    kept = keep @ state @ keep
    p = float(np.real(np.trace(kept)))
    pair = np.trace(kept.reshape(4, 4, 4, 4), axis1=1, axis2=3)
    return pair / p, p


GENERIC = (0.5, 0.25, 0.15, 0.1)  # all four distinct, not Werner


# ---- 1. physics --------------------------------------------------------------------------

@pytest.mark.parametrize(("index", "sign"), [(0, 1.0), (1, -1.0), (2, 1.0), (3, 1.0)])
def test_chsh_value_weighs_each_correlator_once(index, sign):
    """S = E00 - E01 + E10 + E11 (docs/conventions.md A4): each correlator alone gives its sign.

    Kills _chsh.py:30 ``e[2] -> e[3]`` (S = E00 - E01 + E11 + E11), which every Werner test
    (E10 = E11) lets through.
    """
    e = [0.0, 0.0, 0.0, 0.0]
    e[index] = 1.0
    assert chsh_value(e) == sign


def test_chsh_value_with_four_different_correlators():
    """Four different correlators, flat and (2, 2): S = 0.7 + 0.2 + 0.4 + 0.1 = 1.4 (A4).

    Kills _chsh.py:30 ``e[2] -> e[3]`` (that mutant gives 1.1).
    """
    e = [0.7, -0.2, 0.4, 0.1]
    assert chsh_value(e) == pytest.approx(1.4, abs=1e-15)
    assert chsh_value(np.reshape(e, (2, 2))) == pytest.approx(1.4, abs=1e-15)
    assert type(chsh_value(e)) is float


@pytest.mark.parametrize("bad", [[0.1] * 5, np.full((4, 1), 0.1), np.full((1, 4), 0.1), [[0.1, 0.2]] * 2 + [[0.3, 0.4]]])
def test_chsh_value_refuses_anything_but_four_correlators_shaped_4_or_2x2(bad):
    """Shape (4, 1) and (1, 4) hold four numbers but are not (4,) or (2, 2): refused, and the
    error carries the value given.

    Kills _chsh.py ``e.size != 4 or e.shape not in ... -> and`` (size 4 passed any shape) and
    the mutants that drop the value from the error.
    """
    with pytest.raises(InvalidParameter) as info:
        chsh_value(bad)
    assert info.value.name == "correlators"
    assert info.value.value is bad


@pytest.mark.parametrize("value", [-1.5, -1.0000001, 1.0000001, float("nan")])
def test_chsh_value_refuses_a_correlator_outside_minus_one_one(value):
    """A correlator is an expectation of a +-1 product: -1.5 is refused like 1.5 (A4).

    Kills _chsh.py ``e >= -1.0 -> e >= -2.0`` and the mutant that drops the value.
    """
    bad = [0.1, value, 0.2, 0.3]
    with pytest.raises(InvalidParameter) as info:
        chsh_value(bad)
    assert info.value.value is bad
    assert chsh_value([0.1, -1.0, 0.2, 0.3]) == pytest.approx(1.6, abs=1e-15)


def test_chsh_value_type_error_carries_the_value():
    """A non-number is an InvalidType naming correlators and carrying the value given."""
    bad = ["a", "b", "c", "d"]
    with pytest.raises(InvalidType) as info:
        chsh_value(bad)
    assert info.value.name == "correlators"
    assert info.value.value is bad


@pytest.mark.parametrize("p", [0.0, 1.0])
def test_binary_entropy_is_exactly_zero_at_the_ends_without_warnings(p):
    """h(0) = h(1) = 0 exactly (docs/conventions.md section 0), as a Python float, and silently.

    Kills _entropy.py:24 ``x >= 1.0 -> x > 1.0`` / ``x >= 2.0`` (h(1) = nan) and
    _entropy.py:22 every errstate mutant (divide=None, invalid=None, either dropped:
    numpy warns on log2(0) and 0 * -inf).
    """
    out = silently(binary_entropy, p)
    assert out == 0.0 and type(out) is float
    arr = silently(binary_entropy, np.array([p, p]))
    np.testing.assert_array_equal(arr, [0.0, 0.0])


def test_binary_entropy_takes_any_real_number_and_is_zero_outside_zero_one():
    """Fractions and ints are real numbers (converted to float), and values outside [0, 1]
    give the value at the nearer end, 0, silently (docstring).

    Kills _entropy.py ``np.asarray(p, dtype=float) -> dtype=None`` / dtype dropped (an object
    array of Fractions has no log2).
    """
    from fractions import Fraction

    assert binary_entropy(Fraction(1, 4)) == pytest.approx(h2(0.25), rel=1e-14)
    out = silently(binary_entropy, [Fraction(1, 4), 1, 0, Fraction(3, 2), -0.5])
    np.testing.assert_allclose(out, [h2(0.25), 0.0, 0.0, 0.0, 0.0], rtol=1e-14, atol=0.0)


def test_binary_entropy_scalar_is_float_and_arrays_keep_shape():
    """A scalar gives a Python float (as documented), an array keeps its shape.

    Kills _entropy.py:25 ``out.ndim == 0 -> (out.ndim == 0) and False`` (a 0-d array).
    """
    for p in (0.11, np.float64(0.11), 0.5):
        out = binary_entropy(p)
        assert type(out) is float
        assert out == pytest.approx(h2(float(p)), rel=1e-14)
    assert binary_entropy(0.5) == 1.0
    grid = np.array([[0.0, 0.11, 0.25], [0.5, 0.89, 1.0]])
    out = silently(binary_entropy, grid)
    assert isinstance(out, np.ndarray) and out.shape == (2, 3)
    np.testing.assert_allclose(out, [[h2(p) for p in row] for row in grid], rtol=1e-14, atol=0.0)


@pytest.mark.parametrize(("v", "fidelity", "teleport"), [
    (0.5, 0.625, 0.75),
    (0.2, 0.4, 0.6),
    (-0.3, 0.025, 0.35),
    (-1.0 / 3.0, 0.0, 1.0 / 3.0),
    (1.0, 1.0, 1.0),
    (0.0, 0.25, 0.5),
])
def test_werner_and_teleportation_fidelity_over_the_whole_visibility_range(v, fidelity, teleport):
    """F = (1 + 3V)/4 (docs/conventions.md section 0) and F_tel = (1 + V)/2 (A10) for V in [-1/3, 1].

    Kills _purification.py werner_fidelity ``3.0 * v -> 3.0 / v`` (F(0.5) = 1.75) and the
    lower-bound mutants ``-1/3 -> +1/3`` / ``-1/4`` in werner_fidelity and
    teleportation_fidelity (V = -0.3 and V = -1/3 must be accepted).
    """
    assert werner_fidelity(v) == pytest.approx(fidelity, abs=1e-15)
    assert teleportation_fidelity(v) == pytest.approx(teleport, abs=1e-15)
    assert werner_visibility(fidelity) == pytest.approx(v, abs=1e-15)


def test_werner_coefficients_swap_and_chain_vectors():
    """Werner (F, (1-F)/3 x 3); A11's vector F1 = 0.925, F2 = 0.85 -> 0.79 for a swap and a
    two-link chain (V1 V2 = 0.9 x 0.8); a single link is itself.

    Guards werner_coefficients, swap_fidelity and chain_fidelity against arithmetic mutants.
    """
    assert werner_coefficients(0.7) == pytest.approx((0.7, 0.1, 0.1, 0.1), abs=1e-15)
    assert swap_fidelity(0.925, 0.85) == pytest.approx(0.79, abs=1e-12)
    assert swap_fidelity(0.85, 0.925) == pytest.approx(0.79, abs=1e-12)
    assert chain_fidelity([0.925, 0.85]) == pytest.approx(0.79, abs=1e-12)
    assert chain_fidelity((0.925,)) == pytest.approx(0.925, abs=1e-12)
    # three links: V = 0.9 * 0.8 * (-1/3) -> F = (1 - 0.72)/4 = 0.07
    assert chain_fidelity([0.925, 0.85, 0.0]) == pytest.approx(0.07, abs=1e-12)


def test_bell_diagonal_correlators_match_the_density_matrix():
    """<ZZ>, <XX>, <YY>, Phi+ fidelity and the A4 CHSH value of
    A Phi+ + B Psi- + C Psi+ + D Phi-, computed here from the 4x4 density matrix.

    Kills _purification.py bell_diagonal_correlators yy sign mutants (``-a + d + c + b``,
    ``-a + d - c - b``, ``-a - d + c - b``, ``+a + d + c - b``) and the renamed 'yy' key.
    Hand values for (0.5, 0.25, 0.15, 0.1): ZZ = 0.2, XX = 0.3, YY = -0.5, S = 0.5 sqrt 2.
    """
    rho = bell_diagonal(GENERIC)
    zz, xx, yy = expect(rho, kron(Z, Z)), expect(rho, kron(X, X)), expect(rho, kron(Y, Y))
    assert (zz, xx, yy) == pytest.approx((0.2, 0.3, -0.5), abs=1e-12)
    alice, bob = (0.0, math.pi / 2), (math.pi / 4, 3 * math.pi / 4)
    e = [expect(rho, kron(axis(a), axis(b))) for a in alice for b in bob]
    s = e[0] - e[1] + e[2] + e[3]
    assert s == pytest.approx(0.5 * math.sqrt(2.0), abs=1e-12)

    out = bell_diagonal_correlators(GENERIC)
    assert set(out) == {"zz", "xx", "yy", "chsh", "fidelity"}
    assert out["zz"] == pytest.approx(zz, abs=1e-12)
    assert out["xx"] == pytest.approx(xx, abs=1e-12)
    assert out["yy"] == pytest.approx(yy, abs=1e-12)
    assert out["chsh"] == pytest.approx(s, abs=1e-12)
    assert out["fidelity"] == pytest.approx(expect(rho, bell("phi+")), abs=1e-12)


def test_bilateral_cnot_on_a_generic_bell_diagonal_pair():
    """Bilateral CNOT, kept when the targets agree: both pairs of equal parity survive, the
    phase bits add. By hand for (A, B, C, D) = (0.5, 0.25, 0.15, 0.1):
    N = (A + D)^2 + (B + C)^2 = 0.52, A' = (A^2 + D^2)/N = 0.5, B' = 2BC/N, C' = (B^2 + C^2)/N,
    D' = 2AD/N; the same from the density matrix.

    Kills every _purification.py bilateral_cnot mutant (lines 89-91: no test called it).
    """
    a, b, c, d = GENERIC
    n = (a + d) ** 2 + (b + c) ** 2
    hand = ((a * a + d * d) / n, 2 * b * c / n, (b * b + c * c) / n, 2 * a * d / n)
    assert n == pytest.approx(0.52, abs=1e-15)
    assert hand == pytest.approx((0.5, 0.075 / 0.52, 0.085 / 0.52, 0.1 / 0.52), abs=1e-15)
    pair, p = purify_reference(bell_diagonal(GENERIC), dejmps_rotations=False)
    assert bell_weights(pair) == pytest.approx(hand, abs=1e-12)
    assert p == pytest.approx(n, abs=1e-12)

    coeffs, p_s = bilateral_cnot(GENERIC)
    assert coeffs == pytest.approx(hand, abs=1e-12)
    assert p_s == pytest.approx(n, abs=1e-12)


def test_dejmps_on_a_generic_bell_diagonal_pair():
    """DEJMPS (docs/conventions.md A11): A' = (A^2 + B^2)/N, B' = 2CD/N, C' = (C^2 + D^2)/N,
    D' = 2AB/N, N = (A + B)^2 + (C + D)^2; for (0.5, 0.25, 0.15, 0.1):
    (0.5, 0.048, 0.052, 0.4), N = 0.625. Also from the density matrix (Rx(pi/2) x Rx(-pi/2),
    bilateral CNOT), and purify_density_matrix agrees with it on the same input.

    Guards dejmps against coefficient swaps that a Werner input (B = C = D) cannot see.
    """
    pair, p = purify_reference(bell_diagonal(GENERIC), dejmps_rotations=True)
    assert bell_weights(pair) == pytest.approx((0.5, 0.048, 0.052, 0.4), abs=1e-12)
    assert p == pytest.approx(0.625, abs=1e-12)
    coeffs, p_s = dejmps(GENERIC)
    assert coeffs == pytest.approx((0.5, 0.048, 0.052, 0.4), abs=1e-12)
    assert p_s == pytest.approx(0.625, abs=1e-12)
    lib_pair, lib_p = purify_density_matrix(bell_diagonal(GENERIC), "dejmps")
    np.testing.assert_allclose(lib_pair, pair, atol=1e-12)
    assert lib_p == pytest.approx(p, abs=1e-12)
    lib_pair, lib_p = purify_density_matrix(bell_diagonal(GENERIC), "bbpssw")
    ref_pair, ref_p = purify_reference(bell_diagonal(GENERIC), dejmps_rotations=False)
    np.testing.assert_allclose(lib_pair, ref_pair, atol=1e-12)
    assert lib_p == pytest.approx(ref_p, abs=1e-12)


@pytest.mark.parametrize("f", [0.8, 0.6, 0.3])
def test_bbpssw_map(f):
    """BBPSSW (docs/conventions.md A11) on Werner F: F' = [F^2 + r^2]/N, N = F^2 + 2F(1-F)/3 + 5 r^2,
    r = (1-F)/3; and the same from the density matrix of two Werner pairs.
    F = 0.8: N = 0.768889, F' = 0.838150 (F' > F for 1/2 < F < 1; F' < F below 1/2).
    """
    r = (1.0 - f) / 3.0
    n = f * f + 2.0 * f * (1.0 - f) / 3.0 + 5.0 * r * r
    f_new, p_s = bbpssw(f)
    assert p_s == pytest.approx(n, abs=1e-14)
    assert f_new == pytest.approx((f * f + r * r) / n, abs=1e-14)
    pair, p = purify_reference(bell_diagonal((f, r, r, r)), dejmps_rotations=False)
    assert bell_weights(pair)[0] == pytest.approx(f_new, abs=1e-12)
    assert p == pytest.approx(p_s, abs=1e-12)
    assert (f_new > f) == (f > 0.5)


def test_n_photon_yield_and_error_lossless_channel():
    """eta = 1 (no loss): Y_n = Y0 + 1 - (1 - 1)^n, so the vacuum (n = 0) yields Y0 and every
    n >= 1 yields Y0 + 1; e_n = e_d for n >= 1 and e0 for the vacuum when Y0 = 0. Silently.

    Kills _decoy.py:171-173 _one_minus_pow mutants: ``full = None`` / ``eta > 1.0`` /
    ``eta >= 2.0`` (Y_0 = nan), ``np.where(None, 0.0, eta)`` and ``np.where(full, 1.0, eta)``
    (a divide RuntimeWarning from log1p(-1)), ``np.where(None, (n > 0)...)`` (Y_1 = 0),
    ``np.where(full, None, ...)``, ``n >= 0`` (Y_0 = 1) and ``n > 1`` (Y_1 = 0).
    """
    n = np.array([0, 1, 2, 7])
    y = silently(n_photon_yield, n, eta=1.0, y0=0.0)
    np.testing.assert_array_equal(y, [0.0, 1.0, 1.0, 1.0])
    y = silently(n_photon_yield, n, loss_db=0.0, y0=0.25)
    np.testing.assert_array_equal(y, [0.25, 1.25, 1.25, 1.25])
    assert silently(n_photon_yield, 1, eta=1.0, y0=0.0) == 1.0
    assert silently(n_photon_yield, 0, eta=1.0, y0=0.0) == 0.0
    e = silently(n_photon_error, n, eta=1.0, y0=0.0, e_d=0.01, e0=0.3)
    np.testing.assert_allclose(e, [0.3, 0.01, 0.01, 0.01], rtol=0, atol=1e-15)
    # with noise: e_n = (e0 Y0 + e_d) / (Y0 + 1) for n >= 1
    e = silently(n_photon_error, 2, eta=1.0, y0=1e-3, e_d=0.02)
    assert e == pytest.approx((0.5 * 1e-3 + 0.02) / (1e-3 + 1.0), rel=1e-14)


def test_n_photon_yield_and_error_opaque_and_generic_channel():
    """eta = 0: Y_n = Y0 for every n; with Y0 = 0 nothing clicks and e_n is e0 (not nan).
    eta = 0.3, n = 2: Y_2 = Y0 + 1 - 0.7^2 = Y0 + 0.51.

    Kills _decoy.py:165 n_photon_error ``fill -> None`` (e_n = nan where Y_n = 0).
    """
    n = [0, 1, 3]
    np.testing.assert_array_equal(silently(n_photon_yield, n, eta=0.0, y0=1e-4), [1e-4] * 3)
    np.testing.assert_array_equal(silently(n_photon_yield, n, eta=0.0, y0=0.0), [0.0] * 3)
    e = silently(n_photon_error, n, eta=0.0, y0=0.0, e_d=0.01, e0=0.3)
    np.testing.assert_array_equal(e, [0.3, 0.3, 0.3])
    assert silently(n_photon_error, 1, eta=0.0, y0=0.0, e_d=0.01) == 0.5
    assert n_photon_yield(2, eta=0.3, y0=1e-3) == pytest.approx(1e-3 + 0.51, rel=1e-14)
    assert n_photon_error(2, eta=0.3, y0=1e-3, e_d=0.02) == pytest.approx(
        (0.5e-3 + 0.02 * 0.51) / (1e-3 + 0.51), rel=1e-14)


def test_vacuum_weak_bounds_e1_undefined_where_the_yield_bound_is_not_positive():
    """Y_1^L = mu/(mu nu - nu^2) [Q_nu e^nu - Q_mu e^mu nu^2/mu^2 - (mu^2 - nu^2)/mu^2 Y0] (A2);
    e_1^U = (E_nu Q_nu e^nu - e0 Y0)/(Y_1^L nu) only where Y_1^L > 0, NaN elsewhere.

    Kills _decoy.py:317 ``ok = None`` (a finite e_1 where Y_1^L < 0) and ``ok = y1l >= 0``
    (0/0 with a RuntimeWarning at Y_1^L = 0).
    """
    mu, nu, qm, em, en, y0 = 0.5, 0.1, 0.05, 0.02, 0.03, 0.0
    qn = np.array([0.001, 0.05])
    y1l = mu / (mu * nu - nu**2) * (qn * math.exp(nu) - qm * math.exp(mu) * nu**2 / mu**2
                                    - (mu**2 - nu**2) / mu**2 * y0)
    assert y1l[0] < 0 < y1l[1]
    e1u = (en * qn[1] * math.exp(nu) - 0.5 * y0) / (y1l[1] * nu)
    b = silently(vacuum_weak_decoy_bounds, mu=mu, nu=nu, gain_mu=qm, qber_mu=em, gain_nu=qn,
                 qber_nu=en, y0=y0)
    np.testing.assert_allclose(b.y1_lower, y1l, rtol=1e-12)
    assert b.e1_upper.shape == (2,)
    assert math.isnan(b.e1_upper[0])
    assert b.e1_upper[1] == pytest.approx(e1u, rel=1e-12)
    # nothing detected at all: Y_1^L = 0 exactly, e_1 undefined, and no 0/0 warning
    b = silently(vacuum_weak_decoy_bounds, mu=mu, nu=nu, gain_mu=0.0, qber_mu=0.0, gain_nu=0.0,
                 qber_nu=0.0, y0=0.0)
    assert b.y1_lower == 0.0 and math.isnan(b.e1_upper)


def test_vacuum_weak_rate_is_zero_not_nan_when_the_single_photon_bound_fails():
    """No transmission (eta = 0): every click is noise with E = e0 = 1/2. With mu = 5, nu = 4
    the decoy bound is negative, Y_1^L = 5/(20 - 16) Y0 [e^4 - 1 - (16/25)(e^5 - 1)] < 0, so
    e_1 is undefined and no single-photon key exists; the unclipped rate is
    R = q (0 - f_EC Q_mu h(1/2)) = -0.5 x 1.16 x Y0, the clipped one 0 (not NaN).
    With Y0 = 0 as well nothing clicks: R = 0 with or without clipping.

    Kills _decoy.py:409 ``np.where(None, 0.5, e1u)`` and ``np.where(isnan(e1u), None, e1u)``
    (both give R = nan), and checks clip=False of the vacuum+weak rate.
    """
    y0 = 1e-3
    assert 5.0 / 4.0 * y0 * (math.exp(4) - 1 - 16 / 25 * (math.exp(5) - 1)) < 0
    kw = dict(mu=5.0, nu=4.0, eta=0.0, y0=y0, e_d=0.01)
    assert silently(decoy_key_rate_vacuum_weak, **kw) == 0.0
    assert silently(decoy_key_rate_vacuum_weak, **kw, clip=False) == pytest.approx(-0.5 * 1.16 * y0, rel=1e-12)
    assert silently(decoy_key_rate_vacuum_weak, **kw, f_ec=1.0, q=0.8, clip=False) == pytest.approx(
        -0.8 * y0, rel=1e-12)
    kw = dict(mu=0.5, nu=0.1, eta=0.0, y0=0.0, e_d=0.01)
    assert silently(decoy_key_rate_vacuum_weak, **kw) == 0.0
    assert silently(decoy_key_rate_vacuum_weak, **kw, clip=False) == 0.0
    assert silently(decoy_key_rate_infinite, mu=0.5, eta=0.0, y0=0.0, e_d=0.01, clip=False) == 0.0


def test_infinite_decoy_rate_unclipped_is_negative_above_threshold():
    """Infinite decoys (A2), Y0 = 0, eta = 0.1, mu = 0.5, e_d = 0.2, f_EC = 1, q = 1/2:
    Y_1 = eta, e_1 = e_d, Q_1 = eta mu e^-mu, Q_mu = 1 - e^-0.05, E_mu = e_d, so
    R = q [Q_1 (1 - h(0.2)) - Q_mu h(0.2)] < 0; clip=True gives 0.

    Kills _decoy.py:464 ``np.maximum(r, 0.0) if c else r -> ... if c or True else r``.
    """
    h = h2(0.2)
    q1, qmu = 0.1 * 0.5 * math.exp(-0.5), 1.0 - math.exp(-0.05)
    r = 0.5 * (q1 * (1.0 - h) - qmu * h)
    assert r < 0
    kw = dict(mu=0.5, eta=0.1, y0=0.0, e_d=0.2, f_ec=1.0)
    assert decoy_key_rate_infinite(**kw, clip=False) == pytest.approx(r, rel=1e-12)
    assert decoy_key_rate_infinite(**kw) == 0.0
    # a separate X-basis misalignment only changes the phase error e_1 = e_d_x
    r_x = 0.5 * (q1 * (1.0 - h2(0.05)) - qmu * h)
    assert decoy_key_rate_infinite(**kw, e_d_x=0.05, clip=False) == pytest.approx(r_x, rel=1e-12)


def test_asymmetric_errors_and_inefficient_error_correction():
    """Shor-Preskill (A1) r = 1 - h(e_x) - f_EC h(e_z) with e_x != e_z and f_EC = 1.2 (the two
    arguments are not interchangeable), an error rate >= 1/2 in either basis leaves no key; GLLP
    (A2) R = q {Q_1 [1 - h(e_1)] - f_EC Q_mu h(E_mu)} with q = 0.7, f_EC = 1.3.
    """
    assert bb84_asymptotic_fraction(0.02, 0.05, f_ec=1.2) == pytest.approx(
        1.0 - h2(0.02) - 1.2 * h2(0.05), rel=1e-13)
    assert bb84_asymptotic_fraction(0.05, 0.02, f_ec=1.2) == pytest.approx(
        1.0 - h2(0.05) - 1.2 * h2(0.02), rel=1e-13)
    assert bb84_asymptotic_fraction(0.0, 0.7, f_ec=1.0) == 0.0
    assert bb84_asymptotic_fraction(0.7, 0.0, f_ec=1.0) == 0.0
    got = np.asarray(bb84_asymptotic_fraction([0.02, 0.03], [[0.05], [0.01]], f_ec=1.0))
    assert got.shape == (2, 2)
    assert got[1, 0] == pytest.approx(1.0 - h2(0.02) - h2(0.01), rel=1e-13)
    r = 0.7 * (0.02 * (1.0 - h2(0.03)) - 1.3 * 0.05 * h2(0.02))
    assert gllp_key_rate(q1=0.02, e1=0.03, gain_mu=0.05, qber_mu=0.02, q=0.7, f_ec=1.3) == pytest.approx(
        r, rel=1e-13)
    r_nan = 0.7 * (0.0 - 1.3 * 0.05 * h2(0.02))
    assert gllp_key_rate(q1=0.02, e1=float("nan"), gain_mu=0.05, qber_mu=0.02, q=0.7, f_ec=1.3,
                         clip=False) == pytest.approx(r_nan, rel=1e-13)


# ---- 4. losses below 1 dB ------------------------------------------------------------------

def test_losses_below_one_db_are_accepted():
    """0 <= loss_db < 1 is a valid loss: eta = 10^(-0.05) at 0.5 dB (A13: PLOB -log2(1 - eta),
    TGW log2((1 + eta)/(1 - eta))).

    Kills _bounds.py:48 ``_real_array("loss_db", loss_db, 1.0, inf)`` (0.5 dB rejected).
    """
    eta = 10.0 ** -0.05
    assert transmittance_from_db(0.5) == pytest.approx(eta, rel=1e-14)
    assert plob_bound(loss_db=0.5) == pytest.approx(-math.log2(1.0 - eta), rel=1e-12)
    assert tgw_bound(loss_db=0.5) == pytest.approx(math.log2((1.0 + eta) / (1.0 - eta)), rel=1e-12)
    np.testing.assert_allclose(plob_bound(loss_db=[0.0, 0.5, 0.99]),
                               [math.inf, -math.log2(1.0 - eta), -math.log2(1.0 - 10.0 ** -0.099)], rtol=1e-12)
    assert n_photon_yield(1, loss_db=0.5, y0=0.0) == pytest.approx(eta, rel=1e-14)
    assert wcp_gain(mu=0.5, loss_db=0.5, y0=0.0) == pytest.approx(1.0 - math.exp(-0.5 * eta), rel=1e-13)
    assert decoy_key_rate_infinite(mu=0.5, loss_db=0.5, y0=1e-6, e_d=0.01) == pytest.approx(
        decoy_key_rate_infinite(mu=0.5, eta=eta, y0=1e-6, e_d=0.01), rel=1e-12)


# ---- 3. no RuntimeWarning at the boundaries -------------------------------------------------

BOUNDARY = [
    pytest.param(lambda: plob_bound(1.0), math.inf, id="plob(1)"),
    pytest.param(lambda: plob_bound(loss_db=0.0), math.inf, id="plob(0 dB)"),
    pytest.param(lambda: tgw_bound(1.0), math.inf, id="tgw(1)"),
    pytest.param(lambda: plob_bound(0.0), 0.0, id="plob(0)"),
    pytest.param(lambda: tgw_bound(0.0), 0.0, id="tgw(0)"),
    pytest.param(lambda: list(plob_bound([0.0, 1.0])), [0.0, math.inf], id="plob([0, 1])"),
    pytest.param(lambda: list(tgw_bound([1.0, 0.0])), [math.inf, 0.0], id="tgw([1, 0])"),
    pytest.param(lambda: binary_entropy(0.0), 0.0, id="h(0)"),
    pytest.param(lambda: binary_entropy(1.0), 0.0, id="h(1)"),
    pytest.param(lambda: binary_entropy(-0.2), 0.0, id="h(-0.2) clipped"),
    pytest.param(lambda: binary_entropy(1.5), 0.0, id="h(1.5) clipped"),
    pytest.param(lambda: list(binary_entropy([0.0, 0.5, 1.0])), [0.0, 1.0, 0.0], id="h([0, .5, 1])"),
    pytest.param(lambda: db_from_transmittance(1.0), 0.0, id="dB(1)"),
    pytest.param(lambda: db_from_transmittance(1.0 - 1e-12), pytest.approx(1e-11 / math.log(10), rel=1e-3),
                 id="dB(1 - 1e-12)"),
    pytest.param(lambda: transmittance_from_db(0.0), 1.0, id="eta(0 dB)"),
    pytest.param(lambda: n_photon_yield(0, eta=1.0, y0=0.0), 0.0, id="Y0(eta=1)"),
    pytest.param(lambda: n_photon_error(0, eta=1.0, y0=0.0, e_d=0.01), 0.5, id="e0(eta=1)"),
    pytest.param(lambda: wcp_qber(mu=0.5, eta=0.0, y0=0.0, e_d=0.01), 0.5, id="E_mu(nothing clicks)"),
    pytest.param(lambda: wcp_gain(mu=0.5, eta=1.0, y0=0.0), pytest.approx(1.0 - math.exp(-0.5), rel=1e-14),
                 id="Q_mu(eta=1)"),
    pytest.param(lambda: decoy_key_rate_infinite(mu=0.5, eta=0.0, y0=0.0, e_d=0.01), 0.0, id="R_inf(eta=0)"),
    pytest.param(lambda: decoy_key_rate_vacuum_weak(mu=0.5, nu=0.1, eta=0.0, y0=0.0, e_d=0.01), 0.0,
                 id="R_vw(eta=0)"),
    pytest.param(lambda: bb84_asymptotic_fraction(0.0, 0.0), 1.0, id="SP(0, 0)"),
    pytest.param(lambda: bb84_asymptotic_fraction(0.5, 0.5), 0.0, id="SP(1/2, 1/2)"),
    pytest.param(lambda: bb84_asymptotic_fraction(1.0, 1.0), 0.0, id="SP(1, 1)"),
    pytest.param(lambda: gllp_key_rate(q1=0.0, e1=float("nan"), gain_mu=0.0, qber_mu=0.0), 0.0,
                 id="GLLP(nothing)"),
    pytest.param(lambda: finite_key_length_from_channel(
        n_pulses=1e6, eta=0.0, y0=0.0, e_d=0.01, intensities=(0.5, 0.1, 0.0), probabilities=(0.7, 0.2, 0.1),
        p_z=0.9, eps_sec=1e-10, eps_cor=1e-15).ell, 0.0, id="finite key(nothing clicks)"),
]


@pytest.mark.parametrize(("call", "expected"), BOUNDARY)
def test_boundaries_are_exact_and_emit_no_warning(call, expected):
    """Boundary values are exact and come without a RuntimeWarning.

    Kills _bounds.py:112 and :141 ``np.errstate(divide="ignore") -> divide=None`` (plob and
    tgw at eta = 1 warn on log1p(-1)), _entropy.py:22 errstate mutants, and _decoy.py:172
    ``np.where(full, 1.0, eta)`` (log1p(-1) evaluated in the discarded branch).
    """
    assert silently(call) == expected


# ---- 2. bad inputs: one table ------------------------------------------------------------

VW_CH = dict(mu=0.5, nu=0.1, eta=0.01, y0=1e-6, e_d=0.01)
INF_CH = dict(mu=0.5, eta=0.01, y0=1e-6, e_d=0.01)
MEAS = dict(mu=0.5, nu=0.1, gain_mu=5e-3, qber_mu=0.01, gain_nu=1e-3, qber_nu=0.02, y0=1e-6)
GLLP = dict(q1=1e-3, e1=0.01, gain_mu=1e-2, qber_mu=0.01)
COUNTS = dict(n_pulses=1e10, eta=1e-3, y0=1e-6, e_d=0.01, intensities=(0.5, 0.1, 0.0),
              probabilities=(0.7, 0.2, 0.1), p_z=0.9)
FK = dict(intensities=(0.5, 0.1, 0.0), probabilities=(0.7, 0.2, 0.1), n_z=[1e5, 2e4, 1e3],
          n_x=[1e4, 2e3, 1e2], m_x=[100.0, 40.0, 50.0], qber_z=0.01, eps_sec=1e-10, eps_cor=1e-15)
FKC = dict(COUNTS, eps_sec=1e-10, eps_cor=1e-15)
PARAMS = DecoyParameters(intensities=(0.5, 0.1, 0.0), probabilities=(0.7, 0.2, 0.1), p_z=0.9)
PASS = dict(parameters=PARAMS, n_pulses=1e10, eta=1e-3, y0=1e-6, e_d=0.01, eps_sec=1e-10, eps_cor=1e-15)
OPT = dict(n_pulses=1e10, eta=1e-3, y0=1e-6, e_d=0.01, n_starts=1, max_evaluations=20, continuation=1.0)
DP = dict(intensities=(0.5, 0.1, 0.0), probabilities=(0.7, 0.2, 0.1), p_z=0.9)

P01 = "[0, 1]"
P0H = "[0, 0.5]"
POS = "(0, inf]"
NONNEG = "[0, inf]"
VIS = "[-0.333333, 1]"
OPEN01 = "(0, 1)"
ONE_OF = "exactly one of eta (transmittance) or loss_db (dB)"
FOUR = "four probabilities summing to 1"
ORDER = "mu1 > mu2 + mu3 and mu2 > mu3 >= 0"


def bad(func, base, allowed, **kw):
    """One row: ``func(**base, **kw)`` must reject the single keyword argument in ``kw``."""
    (name, value), = kw.items()
    return (func, {**base, **kw}, name, value, allowed)


def bad_value(func, base, name, value, allowed, **kw):
    """A row whose offending value is not simply one keyword (element of a sequence, ...)."""
    return (func, {**base, **kw}, name, value, allowed)


def probability_rows(func, base, names, allowed=P01, values=(1.5, -0.1)):
    return [bad(func, base, allowed, **{n: v}) for n in names for v in values]


SEQ3 = (0.5, 0.3, 0.2)
SUM15 = (0.5, 0.5, 0.25, 0.25)
ROWS = [
    # _bounds
    bad(transmittance_from_db, {}, NONNEG, loss_db=-0.1),
    bad(db_from_transmittance, {}, "(0, 1]", eta=1.5),
    bad(db_from_transmittance, {}, "(0, 1]", eta=-0.1),
    bad(db_from_transmittance, {}, "(0, 1]", eta=0.0),
    *[bad(f, {}, P01, eta=v) for f in (plob_bound, tgw_bound) for v in (1.5, -0.1)],
    *[bad(f, {}, NONNEG, loss_db=-0.1) for f in (plob_bound, tgw_bound)],
    bad_value(plob_bound, {}, "eta", 0.5, ONE_OF, eta=0.5, loss_db=3.0),
    bad_value(tgw_bound, {}, "eta", 0.5, ONE_OF, eta=0.5, loss_db=3.0),
    bad_value(plob_bound, {}, "eta", None, ONE_OF),
    # _decoy: channel model
    *probability_rows(n_photon_yield, dict(n=1, eta=0.1, y0=0.0), ["eta", "y0"]),
    bad(n_photon_yield, dict(n=1, y0=0.0), NONNEG, loss_db=-0.1),
    bad(n_photon_yield, dict(eta=0.1, y0=0.0), NONNEG, n=-1),
    bad(n_photon_yield, dict(eta=0.1, y0=0.0), "integers >= 0", n=1.5),
    bad(n_photon_error, dict(eta=0.1, y0=0.0, e_d=0.01), "integers >= 0", n=2.5),
    *probability_rows(n_photon_error, dict(n=1, eta=0.1, y0=0.0, e_d=0.01), ["eta", "y0", "e0"]),
    *probability_rows(n_photon_error, dict(n=1, eta=0.1, y0=0.0), ["e_d"], P0H, (0.6, -0.1)),
    *probability_rows(wcp_gain, dict(mu=0.5, eta=0.1, y0=0.0), ["eta", "y0"]),
    *[bad(wcp_gain, dict(eta=0.1, y0=0.0), POS, mu=v) for v in (0.0, -0.1)],
    *probability_rows(wcp_qber, dict(mu=0.5, eta=0.1, y0=0.0, e_d=0.01), ["eta", "y0", "e0"]),
    *probability_rows(wcp_qber, dict(mu=0.5, eta=0.1, y0=0.0), ["e_d"], P0H, (0.6, -0.1)),
    bad(wcp_qber, dict(eta=0.1, y0=0.0, e_d=0.01), POS, mu=0.0),
    # _decoy: decoy bounds and rates
    *probability_rows(vacuum_weak_decoy_bounds, MEAS,
                      ["gain_mu", "qber_mu", "gain_nu", "qber_nu", "y0", "e0"]),
    bad(vacuum_weak_decoy_bounds, MEAS, POS, mu=0.0),
    bad(vacuum_weak_decoy_bounds, MEAS, POS, nu=0.0),
    bad(vacuum_weak_decoy_bounds, MEAS, "0 < nu < mu", nu=0.6),
    bad(vacuum_weak_decoy_bounds, MEAS, "0 < nu < mu", nu=0.5),
    *probability_rows(gllp_key_rate, GLLP, ["gain_mu", "qber_mu"]),
    *[bad(gllp_key_rate, GLLP, "(0, 1]", q=v) for v in (0.0, 1.5, -0.1)],
    bad(gllp_key_rate, GLLP, "[1, inf]", f_ec=0.9),
    bad(gllp_key_rate, GLLP, "finite real numbers", q1=math.inf),
    bad(gllp_key_rate, GLLP, "finite real numbers", e1=math.inf),
    *probability_rows(decoy_key_rate_vacuum_weak, VW_CH, ["eta", "y0"]),
    *probability_rows(decoy_key_rate_vacuum_weak, VW_CH, ["e_d"], P0H, (0.6, -0.1)),
    *[bad(decoy_key_rate_vacuum_weak, VW_CH, "(0, 1]", q=v) for v in (0.0, 1.5)],
    bad(decoy_key_rate_vacuum_weak, VW_CH, "[1, inf]", f_ec=0.9),
    bad(decoy_key_rate_vacuum_weak, VW_CH, POS, mu=0.0),
    bad(decoy_key_rate_vacuum_weak, VW_CH, POS, nu=-0.1),
    bad(decoy_key_rate_vacuum_weak, VW_CH, "0 < nu < mu", nu=0.6),
    bad(decoy_key_rate_vacuum_weak, VW_CH, "0 < nu < mu", nu=0.5),
    bad(decoy_key_rate_vacuum_weak, dict(VW_CH, eta=None), NONNEG, loss_db=-0.1),
    bad_value(decoy_key_rate_vacuum_weak, VW_CH, "eta", 0.01, ONE_OF, loss_db=20.0),
    *probability_rows(decoy_key_rate_infinite, INF_CH, ["eta", "y0"]),
    *probability_rows(decoy_key_rate_infinite, INF_CH, ["e_d", "e_d_x"], P0H, (0.6, -0.1)),
    *[bad(decoy_key_rate_infinite, INF_CH, "(0, 1]", q=v) for v in (0.0, 1.5)],
    bad(decoy_key_rate_infinite, INF_CH, "[1, inf]", f_ec=0.9),
    bad(decoy_key_rate_infinite, INF_CH, POS, mu=-0.1),
    *probability_rows(bb84_asymptotic_fraction, dict(e_x=0.01, e_z=0.02), ["e_x", "e_z"]),
    bad(bb84_asymptotic_fraction, dict(e_x=0.01, e_z=0.02), "[1, inf]", f_ec=0.9),
    # _purification
    *[bad(f, {}, VIS, visibility=v) for f in (werner_fidelity, teleportation_fidelity)
      for v in (-0.34, -1.0, 1.5)],
    *probability_rows(werner_visibility, {}, ["fidelity"]),
    *probability_rows(werner_coefficients, {}, ["fidelity"]),
    *probability_rows(bbpssw, {}, ["fidelity"]),
    *probability_rows(swap_fidelity, dict(f1=0.9, f2=0.9), ["f1", "f2"]),
    bad_value(chain_fidelity, {}, "fidelities", [], "at least one link", fidelities=[]),
    bad_value(chain_fidelity, {}, "fidelities[1]", 1.5, P01, fidelities=[0.9, 1.5]),
    bad_value(chain_fidelity, {}, "fidelities[0]", -0.1, P01, fidelities=(-0.1, 0.9)),
    *[row for f in (bilateral_cnot, dejmps, bell_diagonal_correlators) for row in (
        bad_value(f, {}, "coeffs", SEQ3, FOUR, coeffs=SEQ3),
        bad_value(f, {}, "coeffs", (0.2, 0.2, 0.2, 0.2, 0.2), FOUR, coeffs=(0.2, 0.2, 0.2, 0.2, 0.2)),
        bad_value(f, {}, "coeffs", SUM15, FOUR, coeffs=SUM15),
        bad_value(f, {}, "coeffs[0]", 1.5, P01, coeffs=(1.5, 0.0, 0.0, 0.0)),
        bad_value(f, {}, "coeffs[2]", -0.1, P01, coeffs=(0.6, 0.5, -0.1, 0.0)),
    )],
    bad(rotation_bloch_matrix, {}, "[0, 3.14159]", rotation_rad=-0.1),
    bad(rotation_bloch_matrix, {}, "[0, 3.14159]", rotation_rad=4.0),
    bad_value(rotation_bloch_matrix, {}, "rotation_axis", (0.0, 0.0, 0.0), "3 finite reals, not all zero",
              rotation_rad=0.5, rotation_axis=(0.0, 0.0, 0.0)),
    bad(bloch_map, {}, "[0, 1.33333]", depolarisation=1.5),
    bad(bloch_map, {}, "[0, 1.33333]", depolarisation=-0.1),
    bad_value(purify_density_matrix, {}, "method", "bogus", "'dejmps' or 'bbpssw'",
              rho=np.eye(4) / 4, method="bogus"),
    # _finite_key
    bad(expected_decoy_counts, COUNTS, POS, n_pulses=0.0),
    *probability_rows(expected_decoy_counts, COUNTS, ["eta", "y0"]),
    *probability_rows(expected_decoy_counts, COUNTS, ["e_d", "e_d_x"], P0H, (0.6, -0.1)),
    bad(expected_decoy_counts, dict(COUNTS, eta=None), NONNEG, loss_db=-0.1),
    bad(expected_decoy_counts, COUNTS, "three values (mu1, mu2, mu3)", intensities=(0.5, 0.1)),
    bad(expected_decoy_counts, COUNTS, ORDER, intensities=(0.1, 0.5, 0.0)),
    bad(expected_decoy_counts, COUNTS, ORDER, intensities=(0.5, 0.3, 0.3)),
    bad(expected_decoy_counts, COUNTS, NONNEG, intensities=(0.5, 0.1, -0.1)),
    bad(expected_decoy_counts, COUNTS, "values in (0, 1] summing to 1", probabilities=(0.7, 0.2, 0.2)),
    bad(expected_decoy_counts, COUNTS, "(0, 1]", probabilities=(1.5, -0.25, -0.25)),
    bad(expected_decoy_counts, COUNTS, "three probabilities (p1, p2, p3)", probabilities=(0.5, 0.5)),
    *[bad(expected_decoy_counts, COUNTS, OPEN01, **{k: v}) for k in ("p_z", "p_z_bob") for v in (1.0, 0.0, 1.5)],
    bad(finite_key_length, FK, ORDER, intensities=(0.1, 0.5, 0.0)),
    bad(finite_key_length, FK, "values in (0, 1] summing to 1", probabilities=(0.5, 0.5, 0.5)),
    bad(finite_key_length, FK, "counts with a first axis of length 3", n_z=[1e5, 2e4]),
    bad(finite_key_length, FK, NONNEG, n_x=[1e4, -1.0, 1e2]),
    bad(finite_key_length, FK, "0 <= m_x <= n_x", m_x=[100.0, 40.0, 500.0]),
    *probability_rows(finite_key_length, FK, ["qber_z"]),
    *[bad(finite_key_length, FK, OPEN01, **{k: v}) for k in ("eps_sec", "eps_cor") for v in (0.0, 1.0, 1.5)],
    bad(finite_key_length, FK, "[1, inf)", f_ec=0.9),
    bad(finite_key_length, FK, "one of ['efficiency', 'finite_size']", ec_leakage="bogus"),
    bad(finite_key_length, FK, NONNEG, lambda_ec=-1.0),
    *probability_rows(finite_key_length_from_channel, FKC, ["eta", "y0"]),
    *probability_rows(finite_key_length_from_channel, FKC, ["e_d", "e_d_x"], P0H, (0.6, -0.1)),
    bad(finite_key_length_from_channel, FKC, OPEN01, eps_sec=1.5),
    bad(finite_key_length_from_channel, FKC, OPEN01, p_z=1.5),
    # _optimise
    *probability_rows(pass_finite_key, PASS, ["eta", "y0"]),
    *probability_rows(pass_finite_key, PASS, ["e_d", "e_d_x"], P0H, (0.6, -0.1)),
    bad(pass_finite_key, PASS, POS, n_pulses=0.0),
    bad(pass_finite_key, PASS, OPEN01, eps_cor=1.5),
    bad(DecoyParameters, DP, ORDER, intensities=(0.5, 0.5, 0.0)),
    bad(DecoyParameters, DP, "values in (0, 1] summing to 1", probabilities=(0.7, 0.2, 0.2)),
    *[bad(DecoyParameters, DP, OPEN01, p_z=v) for v in (1.0, 1.5, -0.1)],
    bad(optimise_decoy_parameters, OPT, POS, n_pulses=0.0),
    *probability_rows(optimise_decoy_parameters, OPT, ["eta", "y0"]),
    *probability_rows(optimise_decoy_parameters, OPT, ["e_d", "e_d_x"], P0H, (0.6, -0.1)),
    *[bad(optimise_decoy_parameters, OPT, OPEN01, **{k: v}) for k in ("eps_sec", "eps_cor") for v in (0.0, 1.5)],
    bad(optimise_decoy_parameters, OPT, "[1, inf)", f_ec=0.9),
    bad(optimise_decoy_parameters, OPT, "[0, inf)", mu3=-0.1),
    bad_value(optimise_decoy_parameters, OPT, "mu1_bounds[0]", 0.0, "(0, inf)", mu1_bounds=(0.0, 1.0)),
    bad_value(optimise_decoy_parameters, OPT, "mu1_bounds", (0.5, 0.2), "2 mu3 = 0 < lo < hi",
              mu1_bounds=(0.5, 0.2)),
    bad_value(optimise_decoy_parameters, OPT, "p_z_bounds[1]", 1.5, OPEN01, p_z_bounds=(0.5, 1.5)),
    bad_value(optimise_decoy_parameters, OPT, "p_z_bounds", (0.9, 0.6), "lo < hi", p_z_bounds=(0.9, 0.6)),
    bad(optimise_decoy_parameters, OPT, "(0, 0.333333)", min_probability=0.4),
    bad(optimise_decoy_parameters, OPT, "integers in [1, inf]", n_starts=0),
    bad(optimise_decoy_parameters, OPT, "integers in [20, inf]", max_evaluations=10),
    bad(optimise_decoy_parameters, OPT, "[1, inf)", continuation=0.5),
    bad(optimise_decoy_parameters, OPT, "integers in [0, inf]", seed=-1),
    bad_value(optimise_decoy_parameters, OPT, "initial[0]", "x", "a DecoyParameters", initial=("x",)),
    bad(optimise_decoy_parameters, OPT, "one of ['efficiency', 'finite_size']", ec_leakage="bogus"),
]


def _row_id(row):
    func, kwargs, name, value, _ = row
    return f"{func.__name__}-{name}={value!r}"


@pytest.mark.parametrize(("func", "kwargs", "name", "value", "allowed"), ROWS, ids=[_row_id(r) for r in ROWS])
def test_bad_input_names_parameter_value_and_allowed_range(func, kwargs, name, value, allowed):
    """Every public function rejects each out-of-range argument with InvalidParameter whose
    ``.name`` is the parameter, ``.value`` the offending value and ``.allowed`` the range.

    Kills the upper-bound mutants ``1.0 -> 2.0`` / dropped (_bounds.py:83 db_from_transmittance;
    _decoy.py:163 e0, :303-306 gain_nu/qber_nu/e0, :349-350 gain_mu/qber_mu, :457 e_d_x,
    :497 e_z; _purification.py fidelity, f1, f2, fidelities[i], coeffs[i], visibility), the
    visibility lower-bound mutants (-1 * 3, -2/3), _purification.py:78 ``or -> and`` (three
    coefficients: ValueError instead of InvalidParameter) and ``> 1.000000001`` (a sum of 1.5
    accepted), and the error-attribute mutants: value -> None or dropped (_bounds.py:44,
    _decoy.py:90 and :179, _purification.py chain_fidelity and _coeffs), name -> None,
    allowed dropped (the message lands in ``.allowed``), and the ``_check_nu_below_mu(m, n, None)``
    mutants of vacuum_weak_decoy_bounds (:300) and decoy_key_rate_vacuum_weak (:400), which
    make ``.value`` None.
    """
    with pytest.raises(InvalidParameter) as info:
        func(**kwargs)
    err = info.value
    assert err.name == name
    assert type(err.value) is type(value)
    assert err.value == value
    assert isinstance(err.allowed, str) and err.allowed
    assert err.allowed == allowed


@pytest.mark.parametrize("bad", [(0.5, 0.5, 0.5), (1.2, 0.0, 0.0, 0.0), (float("nan"), 0, 0, 0),
                                 [[0.1, 0.2, 0.3]], (0.1, 0.2, 0.3, 0.4, 0.5)])
def test_chsh_value_rejects_anything_but_four_correlators_in_range(bad):
    """catches: S computed from the wrong number of correlators, or from impossible ones (|E| > 1)."""
    with pytest.raises(InvalidParameter) as info:
        chsh_value(bad)
    assert info.value.name == "correlators"
    with pytest.raises(InvalidType):
        chsh_value(["a", 0, 0, 0])


def test_db_of_a_lossless_channel_is_plus_zero():
    assert math.copysign(1.0, db_from_transmittance(1.0)) == 1.0


def test_optimiser_rejects_an_unknown_leakage_model_by_name():
    with pytest.raises(InvalidParameter) as info:
        optimise_decoy_parameters(n_pulses=[1e10], eta=[1e-3], y0=[1e-6], e_d=[0.01], ec_leakage="magic")
    assert info.value.name == "ec_leakage" and info.value.value == "magic"


def _tomamichel_leakage(n: float, q: float, eps_cor: float) -> float:
    """Tomamichel et al. 2017 (QIP 16 280) finite-block-length leakage, written from the paper's
    formula with scipy's binomial quantile (not from qproto):
    n h(Q) + (n(1-Q) - F^-1(eps_cor; n, 1-Q) - 1) log2((1-Q)/Q) - log2(n)/2 - log2(1/eps_cor)."""
    from scipy.stats import binom

    nn = math.floor(n)
    quant = binom.ppf(eps_cor, nn, 1.0 - q)
    return (nn * h2(q) + (nn * (1.0 - q) - quant - 1.0) * math.log2((1.0 - q) / q)
            - 0.5 * math.log2(nn) - math.log2(1.0 / eps_cor))


@pytest.mark.parametrize(("n_z_total", "qber", "eps_cor"), [(20_000, 0.02, 1e-15), (3_500.7, 0.07, 1e-10),
                                                            (150_000, 0.004, 1e-12)])
def test_finite_size_leakage_is_the_tomamichel_formula(n_z_total, qber, eps_cor):
    """catches: any changed term of the finite-block-length leakage (the sign of log2(n)/2 or of
    log2(1/eps_cor), the -1, log2((1-Q)/Q), n not rounded down, h(Q) dropped): mutation testing
    found the whole formula untested. With f_EC = 1 the finite-size leakage is the larger one,
    so lambda_EC must equal it exactly."""
    counts = dict(n_z=[n_z_total * 0.7, n_z_total * 0.2, n_z_total * 0.1], n_x=[4000.0, 1500.0, 600.0],
                  m_x=[60.0, 40.0, 300.0])
    common = dict(intensities=[0.6, 0.2, 0.0], probabilities=[0.7, 0.2, 0.1], qber_z=qber,
                  eps_sec=1e-9, eps_cor=eps_cor, f_ec=1.0, **counts)
    fs = finite_key_length(ec_leakage="finite_size", **common)
    eff = finite_key_length(ec_leakage="efficiency", **common)
    want = _tomamichel_leakage(n_z_total, qber, eps_cor)
    assert want > n_z_total * h2(qber)  # the finite-size term really is the larger one here
    assert fs.lambda_ec == pytest.approx(want, rel=1e-12)
    assert eff.lambda_ec == pytest.approx(n_z_total * h2(qber), rel=1e-12)
    assert fs.ell_unclipped == pytest.approx(eff.ell_unclipped - (want - n_z_total * h2(qber)), rel=1e-9)


@pytest.mark.parametrize(("qber", "want"), [(0.5, 10_000.0), (0.7, 10_000.0), (0.0, 0.0)])
def test_finite_size_leakage_at_the_edges(qber, want):
    """catches: the edge cases of the leakage: at Q >= 1/2 the whole block is revealed (n bits),
    at Q = 0 nothing is (0 bits, with no NaN from log2((1-Q)/Q))."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = finite_key_length(intensities=[0.6, 0.2, 0.0], probabilities=[0.7, 0.2, 0.1],
                              n_z=[7000.0, 2000.0, 1000.0], n_x=[4000.0, 1500.0, 600.0], m_x=[60.0, 40.0, 300.0],
                              qber_z=qber, eps_sec=1e-9, eps_cor=1e-15, f_ec=1.0, ec_leakage="finite_size")
    assert r.lambda_ec == want


# ---- Bloch maps and density-matrix purification (mutation survivors of _purification.py) --------

def _rodrigues(t, n):
    """Rotation of Bloch vectors by angle t about the unit axis n, from Rodrigues' formula."""
    n = np.asarray(n, float) / np.linalg.norm(np.asarray(n, float))
    k = np.array([[0, -n[2], n[1]], [n[2], 0, -n[0]], [-n[1], n[0], 0]])
    return np.eye(3) + math.sin(t) * k + (1 - math.cos(t)) * k @ k


@pytest.mark.parametrize("axis", [(0.0, 0.0, 2.0), (3, 0, 4), np.array([[1.0], [1.0], [0.0]]),
                                  [Fraction(1, 3), Fraction(2, 3), Fraction(2, 3)]])
def test_rotation_bloch_matrix_normalises_any_axis_shape_and_number_type(axis):
    """A non-unit axis is normalised (kills ``n / norm -> n * norm``), a (3, 1) column is flattened
    (kills ``reshape(-1) -> reshape(None)``), ints and Fractions are real numbers (kills the dtype
    mutants). Expected: Rodrigues' formula, and the Bloch rotation of exp(-i t/2 n.sigma)."""
    from qproto.security._purification import rotation_bloch_matrix

    t = 0.7
    n = np.asarray(axis, dtype=float).reshape(-1)
    got = rotation_bloch_matrix(t, axis)
    np.testing.assert_allclose(got, _rodrigues(t, n), atol=1e-12)
    u = rotation(t, n)  # the reference's unitary: R_ij = tr(sigma_i U sigma_j U^dag) / 2
    sig = [X, Y, Z]
    r = np.array([[np.real(np.trace(sig[i] @ u @ sig[j] @ u.conj().T)) / 2 for j in range(3)] for i in range(3)])
    np.testing.assert_allclose(got, r, atol=1e-12)


@pytest.mark.parametrize("axis", [(0.0, 0.0, 1.0, 0.0), (1.0, 0.0), (0.0, 0.0, 0.0), (0.0, float("nan"), 1.0)])
def test_rotation_bloch_matrix_refuses_axes_that_are_not_three_finite_non_zero_numbers(axis):
    """Kills ``n.size != 3 or ... -> and`` (a finite 4-vector slipped through)."""
    from qproto.security._purification import rotation_bloch_matrix

    with pytest.raises(InvalidParameter) as info:
        rotation_bloch_matrix(0.3, axis)
    assert info.value.name == "rotation_axis" and info.value.value is axis


def test_bloch_map_defaults_to_no_rotation_and_full_depolarisation_inverts():
    """bloch_map(p) = (1 - p) I (kills the default angle 0 -> 1); at p = 4/3 a click-conditioned
    map is -I/3 (kills ``min(p_eff, 4/3) -> min(p_eff, 1)``)."""
    from qproto import Channel
    from qproto.security._purification import bloch_map, click_bloch_map

    np.testing.assert_allclose(bloch_map(0.2), 0.8 * np.eye(3), atol=1e-15)
    np.testing.assert_allclose(click_bloch_map(Channel(depolarisation=4 / 3)), -np.eye(3) / 3, atol=1e-15)


def _dejmps_reference(rho):
    """DEJMPS on two copies of ``rho`` written out: Alice Rx(pi/2), Bob Rx(-pi/2) on both pairs
    (Rx(t) = exp(-i t X / 2)), bilateral CNOT copy 1 -> copy 2 as a permutation, copy 2 measured
    in Z and kept when the outcomes agree; returns (kept pair, success probability)."""
    ra, rb = rotation(math.pi / 2, (1, 0, 0)), rotation(-math.pi / 2, (1, 0, 0))
    u = kron(ra, rb, ra, rb)
    state = u @ np.kron(rho, rho) @ u.conj().T  # qubits a1 b1 a2 b2
    perm = np.zeros((16, 16))
    for k in range(16):
        a1, b1, a2, b2 = (k >> 3) & 1, (k >> 2) & 1, (k >> 1) & 1, k & 1
        perm[(a1 << 3) | (b1 << 2) | ((a2 ^ a1) << 1) | (b2 ^ b1), k] = 1
    state = perm @ state @ perm.T
    kept = np.zeros((4, 4), complex)
    for m in (0, 1):  # a2 = b2 = m
        idx = [(p << 2) | (m << 1) | m for p in range(4)]
        kept += state[np.ix_(idx, idx)]
    p = float(np.real(np.trace(kept)))
    return kept / p, p


def test_dejmps_density_matrix_on_a_state_with_cross_correlations():
    """A pair with <XY> != 0 (not Bell-diagonal): the output state, not only its fidelity, equals
    the written-out circuit. Kills ``Rx: cos - i sin X -> cos + i sin X`` (Alice and Bob's rotations
    swapped: same fidelity, output conjugated by X (x) X, which flips <XY>)."""
    from qproto.security._purification import purify_density_matrix

    psi = (np.kron([1, 0], [1, 0]) + np.exp(0.6j) * np.kron([0, 1], [0, 1])) / math.sqrt(2)
    plus_i = np.array([1, 1j]) / math.sqrt(2)  # Alice's marginal along Y: not invariant under X (x) X
    rho = 0.6 * np.outer(psi, psi.conj()) + 0.4 * dm(np.kron(plus_i, [1, 0]))
    out, p = purify_density_matrix(rho, "dejmps")
    ref, p_ref = _dejmps_reference(rho)
    assert p == pytest.approx(p_ref, abs=1e-12)
    np.testing.assert_allclose(out, ref, atol=1e-12)
    xx = np.kron(X, X)
    assert np.abs(ref - xx @ ref @ xx).max() > 0.2  # the input can see the swapped rotations
