"""Channel value object: validation, derived quantities, invariant 5 (docs/conventions.md C.8(b)),
and the coherent rotation that makes the error rate depend on the basis."""

import json
import math

import numpy as np
import pytest
from hypothesis import given

from qproto import Channel, InvalidParameter, InvalidType
from qproto._entanglement import click_channel
from qproto.testing import channels, probabilities, rotated_channels


def test_defaults_are_ideal():
    ch = Channel()
    assert ch == Channel.ideal()
    assert ch.total_transmittance == 1.0
    assert ch.detection_probability == 1.0
    assert ch.qber == 0.0
    assert ch.loss_db == 0.0


def test_derived_quantities_by_hand():
    ch = Channel(transmittance=0.5, detector_efficiency=0.2, noise_click=0.01, depolarisation=0.1,
                 misalignment=0.02)
    eta = 0.1
    p_click = eta + (1 - eta) * 0.01
    assert ch.total_transmittance == pytest.approx(eta)
    assert ch.loss_db == pytest.approx(10.0)
    assert ch.detection_probability == pytest.approx(p_click)
    p_q = 1 - 0.9 * 0.96
    assert ch.qubit_depolarisation == pytest.approx(p_q)
    s = eta / p_click
    assert ch.qber == pytest.approx((s * p_q + (1 - s)) / 2)


def test_nothing_clicks():
    ch = Channel(transmittance=0.0)
    assert ch.detection_probability == 0.0
    assert ch.signal_fraction == 0.0
    assert ch.effective_depolarisation == 1.0
    assert math.isinf(ch.loss_db)


def test_from_qber_and_replace():
    ch = Channel.from_qber(0.05, transmittance=0.3)
    assert ch.qber == pytest.approx(0.05)
    assert ch.replace(transmittance=0.1).transmittance == 0.1
    with pytest.raises(InvalidParameter, match="transmittance"):
        ch.replace(transmittance=2.0)


@given(channels())
def test_repr_and_dict_round_trip(ch):
    assert eval(repr(ch), {"Channel": Channel}) == ch
    assert Channel.from_dict(ch.to_dict()) == ch


@given(ch=channels(), y0=probabilities(), eta=probabilities())
def test_invariant5_effective_depolarisation_bounds_and_monotonicity(ch, y0, eta):
    """Invariant 5: p_eff in [0, 1]; non-decreasing in Y0; non-increasing in eta."""
    ch = ch.replace(depolarisation=min(ch.depolarisation, 1.0))
    p = ch.effective_depolarisation
    assert -1e-12 <= p <= 1.0 + 1e-12
    lo, hi = sorted([ch.noise_click, y0])
    assert ch.replace(noise_click=lo).effective_depolarisation <= ch.replace(noise_click=hi).effective_depolarisation + 1e-12
    lo, hi = sorted([ch.transmittance, eta])
    assert ch.replace(transmittance=hi).effective_depolarisation <= ch.replace(transmittance=lo).effective_depolarisation + 1e-12


@given(e_d=probabilities(max_value=0.5), eta=probabilities(min_value=1e-3))
def test_invariant5_limits(e_d, eta):
    """Invariant 5: p_eff -> 2 e_d as Y0 -> 0; -> 1 as eta -> 0 (Y0 > 0)."""
    assert Channel(misalignment=e_d, transmittance=eta).effective_depolarisation == pytest.approx(2 * e_d)
    assert Channel(misalignment=e_d, transmittance=0.0, noise_click=1e-6).effective_depolarisation == 1.0
    tiny = Channel(misalignment=e_d, transmittance=1e-12, noise_click=1e-3).effective_depolarisation
    assert tiny == pytest.approx(1.0, abs=1e-8)


BAD = [
    (dict(transmittance=-0.1), InvalidParameter, "transmittance"),
    (dict(transmittance=1.01), InvalidParameter, "transmittance"),
    (dict(transmittance=float("nan")), InvalidParameter, "transmittance"),
    (dict(transmittance="0.5"), InvalidType, "transmittance"),
    (dict(transmittance=True), InvalidType, "transmittance"),
    (dict(depolarisation=1.5), InvalidParameter, "depolarisation"),
    (dict(depolarisation=-1e-9), InvalidParameter, "depolarisation"),
    (dict(misalignment=0.6), InvalidParameter, "misalignment"),
    (dict(noise_click=float("inf")), InvalidParameter, "noise_click"),
    (dict(noise_click=None), InvalidType, "noise_click"),
    (dict(detector_efficiency=2), InvalidParameter, "detector_efficiency"),
    (dict(rotation_rad=-0.1), InvalidParameter, "rotation_rad"),
    (dict(rotation_rad=3.2), InvalidParameter, "rotation_rad"),
    (dict(rotation_rad=float("nan")), InvalidParameter, "rotation_rad"),
    (dict(rotation_rad="0.1"), InvalidType, "rotation_rad"),
    (dict(rotation_axis=(0, 0, 0)), InvalidParameter, "rotation_axis"),
    (dict(rotation_axis=[1, 2]), InvalidParameter, "rotation_axis"),
    (dict(rotation_axis=(1, 0, 0, 0)), InvalidParameter, "rotation_axis"),
    (dict(rotation_axis=(1.0, float("nan"), 0.0)), InvalidParameter, "rotation_axis"),
    (dict(rotation_axis=(0.0, float("inf"), 1.0)), InvalidParameter, "rotation_axis"),
    (dict(rotation_axis="xyz"), InvalidType, "rotation_axis"),
    (dict(rotation_axis=None), InvalidType, "rotation_axis"),
    (dict(rotation_axis=(True, 0, 0)), InvalidType, "rotation_axis"),
    (dict(rotation_axis=(1, "0", 0)), InvalidType, "rotation_axis"),
]


@pytest.mark.parametrize("kwargs, exc, name", BAD)
def test_bad_channels_are_rejected(kwargs, exc, name):
    with pytest.raises(exc, match=name) as info:
        Channel(**kwargs)
    assert repr(list(kwargs.values())[0])[:3] in str(info.value) or "nan" in str(info.value)
    assert info.value.name == name


def test_channel_is_frozen():
    with pytest.raises(AttributeError):
        Channel().transmittance = 0.5  # type: ignore[misc]


def test_from_dict_rejects_unknown_keys():
    with pytest.raises(InvalidParameter, match="unknown"):
        Channel.from_dict({"transmittance": 0.5, "loss": 3})
    with pytest.raises(InvalidType):
        Channel.from_dict([("transmittance", 0.5)])


# ---- coherent rotation: basis-dependent error rates ---------------------------------------

def test_no_rotation_by_default_and_equal_error_rates_in_every_basis():
    ch = Channel(transmittance=0.5, noise_click=0.1, depolarisation=0.1)
    assert ch.rotation_rad == 0.0 and ch.rotation_axis == (0.0, 0.0, 1.0)
    assert ch.qber_z == ch.qber_x == ch.qber_y == ch.qber
    assert np.array_equal(ch.unitary, np.eye(2))
    assert np.array_equal(ch.rotation_matrix, np.eye(3))


# Hand-computed vectors from c_m = 1 - 2 sin^2(theta/2) (1 - n_m^2), E_m = (1 - s (1 - p_q) c_m) / 2.
ROTATION_VECTORS = [
    # z axis, theta = pi/3, no noise: sin^2(pi/6) = 1/4, so X and Y flip with 1/4, Z never.
    (dict(rotation_rad=math.pi / 3), 0.0, 0.25, 0.25),
    # z axis, theta = pi: X and Y always flip.
    (dict(rotation_rad=math.pi), 0.0, 1.0, 1.0),
    # y axis, theta = pi/3, p = 0.2: c_z = c_x = 1/2 -> (1 - 0.8/2)/2 = 0.3; c_y = 1 -> 0.1.
    (dict(rotation_rad=math.pi / 3, rotation_axis=(0, 1, 0), depolarisation=0.2), 0.3, 0.3, 0.1),
    # x axis, theta = pi/2, e_d = 0.05 (p_q = 0.1): c_z = c_y = 0 -> 1/2; c_x = 1 -> 0.05.
    (dict(rotation_rad=math.pi / 2, rotation_axis=(2, 0, 0), misalignment=0.05), 0.5, 0.05, 0.5),
    # tilted (1, 0, 1)/sqrt2, theta = pi/2: c_z = c_x = 1/2, c_y = 0; p = 0.1; eta = 0.5, Y0 = 0.1:
    # s = 0.5 / 0.55 = 10/11, so E_z = E_x = (1 - (10/11)(0.9)(1/2))/2 = 13/44, E_y = 1/2.
    (dict(rotation_rad=math.pi / 2, rotation_axis=(1, 0, 1), depolarisation=0.1, transmittance=0.5,
          noise_click=0.1), 13 / 44, 13 / 44, 0.5),
    # axis (1, 2, 2)/3, theta = 2pi/3: sin^2(pi/3) = 3/4; c_x = 1 - (3/2)(8/9) = -1/3,
    # c_y = c_z = 1 - (3/2)(5/9) = 1/6; e_d = 0.05: E_x = (1 + 0.9/3)/2 = 0.65, E_z = E_y = (1 - 0.9/6)/2 = 0.425.
    (dict(rotation_rad=2 * math.pi / 3, rotation_axis=(1, 2, 2), misalignment=0.05), 0.425, 0.65, 0.425),
    # same with detector efficiency 0.25 and Y0 = 0.25: eta = 0.25, P = 0.25 + 0.75/4 = 7/16, s = 4/7:
    # E_x = (1 + (4/7)(0.9)/3)/2 = 0.5857142857..., E_z = (1 - (4/7)(0.9)/6)/2 = 0.4571428571...
    (dict(rotation_rad=2 * math.pi / 3, rotation_axis=(1, 2, 2), misalignment=0.05, detector_efficiency=0.25,
          noise_click=0.25), (1 - 0.9 * 4 / 42) / 2, (1 + 0.9 * 4 / 21) / 2, (1 - 0.9 * 4 / 42) / 2),
]


@pytest.mark.parametrize("kwargs, e_z, e_x, e_y", ROTATION_VECTORS)
def test_basis_error_rates_by_hand(kwargs, e_z, e_x, e_y):
    """Catches: swapped bases, 1 - n_m^2 written as n_m^2, theta instead of theta/2, the signal
    fraction or the depolarisation left out of the rotation term."""
    ch = Channel(**kwargs)
    assert ch.qber_z == pytest.approx(e_z, abs=1e-12)
    assert ch.qber_x == pytest.approx(e_x, abs=1e-12)
    assert ch.qber_y == pytest.approx(e_y, abs=1e-12)
    assert (ch.basis_error("Z"), ch.basis_error("X"), ch.basis_error("Y")) == (ch.qber_z, ch.qber_x, ch.qber_y)
    assert ch.qber == pytest.approx((e_z + e_x) / 2, abs=1e-12)


def test_rotation_leaves_the_effective_depolarisation_alone():
    base = Channel(transmittance=0.3, depolarisation=0.1, misalignment=0.02, noise_click=0.01)
    rotated = base.replace(rotation_rad=1.0, rotation_axis=(0.3, -0.2, 0.9))
    assert rotated.effective_depolarisation == base.effective_depolarisation
    assert rotated.qubit_depolarisation == base.qubit_depolarisation
    assert rotated.detection_probability == base.detection_probability


def test_basis_error_rejects_unknown_bases():
    with pytest.raises(InvalidParameter, match="basis") as info:
        Channel().basis_error("W")
    assert info.value.name == "basis" and info.value.value == "W"


_PAULI = {"X": np.array([[0, 1], [1, 0]], dtype=complex), "Y": np.array([[0, -1j], [1j, 0]]),
          "Z": np.array([[1, 0], [0, -1]], dtype=complex)}


def _independent_unitary(theta, axis):
    """exp(-i theta/2 n.sigma) by diagonalising n.sigma with numpy (not the closed form)."""
    n = np.asarray(axis, dtype=float) / np.linalg.norm(axis)
    h = n[0] * _PAULI["X"] + n[1] * _PAULI["Y"] + n[2] * _PAULI["Z"]
    w, v = np.linalg.eigh(h)
    return v @ np.diag(np.exp(-0.5j * theta * w)) @ v.conj().T


def _basis_states(basis):
    """The two eigenstates (bit 0, bit 1) of a basis, written out (docs/conventions.md section 0)."""
    r = 1 / math.sqrt(2)
    return {"Z": (np.array([1, 0]), np.array([0, 1])),
            "X": (np.array([r, r]), np.array([r, -r])),
            "Y": (np.array([r, 1j * r]), np.array([r, -1j * r]))}[basis]


def _independent_flip_probability(ch, basis):
    """Flip probability given a click, from density matrices: rotate, depolarise, mix in noise clicks."""
    u = _independent_unitary(ch.rotation_rad, ch.rotation_axis)
    p = 1 - (1 - ch.depolarisation) * (1 - 2 * ch.misalignment)
    eta = ch.transmittance * ch.detector_efficiency
    click = eta + (1 - eta) * ch.noise_click
    s = eta / click
    flips = []
    for bit, psi in enumerate(_basis_states(basis)):
        rho = np.outer(psi, psi.conj())
        rho = u @ rho @ u.conj().T
        rho = (1 - p) * rho + p * np.eye(2) / 2
        rho = s * rho + (1 - s) * np.eye(2) / 2
        other = _basis_states(basis)[1 - bit]
        flips.append(float(np.real(other.conj() @ rho @ other)))
    assert flips[0] == pytest.approx(flips[1], abs=1e-12)  # both bits flip alike
    return flips[0]


@given(ch=rotated_channels() | channels(max_rotation_rad=math.pi, min_transmittance=0.01))
def test_basis_errors_match_an_independent_density_matrix_computation(ch):
    """Catches any error in the closed form E_m (axis, angle, noise clicks) against rho -> U rho U^dagger."""
    assert ch.qber_z == pytest.approx(_independent_flip_probability(ch, "Z"), abs=1e-12)
    assert ch.qber_x == pytest.approx(_independent_flip_probability(ch, "X"), abs=1e-12)
    assert ch.qber_y == pytest.approx(_independent_flip_probability(ch, "Y"), abs=1e-12)


@given(ch=rotated_channels() | channels(max_rotation_rad=math.pi))
def test_unitary_and_rotation_matrix_match_independent_constructions(ch):
    """Catches a sign error (exp(+i...)), theta vs theta/2, a transposed rotation matrix."""
    u = ch.unitary
    assert np.allclose(u, _independent_unitary(ch.rotation_rad, ch.rotation_axis), atol=1e-12, rtol=0)
    assert np.linalg.det(u) == pytest.approx(1.0, abs=1e-12)
    # R_ij = Tr(sigma_i U sigma_j U^dagger) / 2: the Bloch action of U.
    names = ("X", "Y", "Z")
    r = np.array([[np.real(np.trace(_PAULI[a] @ u @ _PAULI[b] @ u.conj().T)) / 2 for b in names] for a in names])
    assert np.allclose(ch.rotation_matrix, r, atol=1e-12, rtol=0)
    assert np.allclose(ch.rotation_matrix @ ch.rotation_matrix.T, np.eye(3), atol=1e-12, rtol=0)


def test_rotation_is_right_handed_about_its_axis():
    """About z by theta, the Bloch vector x goes to (cos theta, sin theta, 0): |+> -> (|0> + e^{i theta}|1>)/sqrt2."""
    theta = 0.3
    ch = Channel(rotation_rad=theta)
    assert np.allclose(ch.rotation_matrix @ [1, 0, 0], [math.cos(theta), math.sin(theta), 0], atol=1e-15)
    plus = ch.unitary @ np.array([1, 1]) / math.sqrt(2)
    assert plus[1] / plus[0] == pytest.approx(complex(math.cos(theta), math.sin(theta)), abs=1e-15)


def test_axis_is_normalised_once_and_stored_as_a_tuple():
    ch = Channel(rotation_rad=0.5, rotation_axis=[3, 0, 4])
    assert ch.rotation_axis == (0.6, 0.0, 0.8)
    assert isinstance(ch.rotation_axis, tuple)
    assert Channel(rotation_rad=0.5, rotation_axis=np.array([3.0, 0.0, 4.0])) == ch
    assert Channel(rotation_rad=0.5, rotation_axis=ch.rotation_axis) == ch  # idempotent


@given(ch=channels(max_rotation_rad=math.pi) | rotated_channels())
def test_rotated_channels_round_trip_through_repr_dict_json_and_kwargs(ch):
    assert eval(repr(ch), {"Channel": Channel}) == ch
    d = ch.to_dict()
    assert isinstance(d["rotation_axis"], list)
    assert Channel.from_dict(d) == ch
    assert Channel(**d) == ch
    back = Channel.from_dict(json.loads(json.dumps(d)))
    assert back == ch and hash(back) == hash(ch)
    assert isinstance(back.rotation_axis, tuple)


def test_equality_and_hash_see_the_rotation():
    a = Channel(rotation_rad=0.2)
    assert a != Channel() and a != Channel(rotation_rad=0.2, rotation_axis=(0, 1, 0))
    assert len({a, Channel(rotation_rad=0.2), Channel()}) == 2


@given(ch=rotated_channels() | channels(max_rotation_rad=math.pi, max_depolarisation=1.0, min_transmittance=0.01))
def test_click_channel_keeps_the_rotation_and_every_basis_error(ch):
    """Catches a click-conditioned channel that drops the rotation (then E_X = E_Z)."""
    clicked = click_channel(ch)
    assert clicked.total_transmittance == 1.0 and clicked.noise_click == 0.0
    assert (clicked.rotation_rad, clicked.rotation_axis) == (ch.rotation_rad, ch.rotation_axis)
    for basis in "ZXY":
        assert clicked.basis_error(basis) == pytest.approx(_independent_flip_probability(ch, basis), abs=1e-12)


def test_given_click_is_the_one_click_model():
    """Channel.given_click (C.8(b)): lossless, depolarising 1 - s (1 - p_q) with s the signal fraction,
    the rotation kept; the protocols' helpers return exactly it, and its per-basis errors equal the
    reference's click-conditioned Kraus map (tests/_reference.py, written from the equations)."""
    from _reference import click_kraus, flip_probability

    from qproto._declarative import given_click
    from qproto.security._purification import arrival_bloch_map, click_bloch_map

    ch = Channel(transmittance=0.3, depolarisation=0.1, misalignment=0.02, noise_click=0.05,
                 rotation_rad=0.4, rotation_axis=(1.0, 0.0, 1.0))
    eta = ch.total_transmittance
    s = eta / (eta + (1 - eta) * ch.noise_click)
    p_q = 1 - (1 - 0.1) * (1 - 2 * 0.02)
    g = ch.given_click()
    assert g.transmittance == 1.0 and g.noise_click == 0.0 and g.misalignment == 0.0
    assert g.depolarisation == pytest.approx(1 - s * (1 - p_q), abs=1e-15)
    assert (g.rotation_rad, g.rotation_axis) == (ch.rotation_rad, ch.rotation_axis)
    assert click_channel(ch) == g and given_click(ch) == g
    np.testing.assert_allclose(click_bloch_map(ch), arrival_bloch_map(g), atol=1e-15)
    for basis, err in (("Z", g.qber_z), ("X", g.qber_x), ("Y", g.qber_y)):
        assert err == pytest.approx(flip_probability(click_kraus(ch), basis), abs=1e-12)
    assert Channel(transmittance=0.0, noise_click=0.1).given_click().depolarisation == 1.0
