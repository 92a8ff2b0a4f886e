"""The relay and entanglement protocols' expected() against the numpy reference, over hypothesis-drawn
asymmetric, rotated channels (docs/conventions.md A5, A6, A10, A11, A12; invariants 23, 26, 41, 42).

Every expected() of these protocols is a Bloch-sphere closed form (qproto.security._purification);
here it is checked, without any circuit, against density matrices built from the Channel fields by
tests/_reference.py (Kraus maps, Bell projectors, explicit Bell measurements). The per-protocol test
files check the circuits against the same reference on fixed inputs.
"""

import math

import numpy as np
import pytest
from _reference import PAULI, apply, intercept_resend_map, basis_kets, bell, click_kraus, dm, fidelity_phi_plus, flip_probability, kron
from hypothesis import given, settings, strategies as st

from qproto._entanglement import pair_fidelity
from qproto.protocols import DL04, MDIQKD, QSDCTwoStep, Swapping, Teleportation, TrustedRelay
from qproto.security._purification import purify_density_matrix
from qproto.testing import asymmetric_channels, intercept_resend

LEGS = asymmetric_channels(2, max_rotation_rad=1.2)
BELL_OF = {(0, 0): "phi+", (0, 1): "phi-", (1, 0): "psi+", (1, 1): "psi-"}  # (m1, m0)




@settings(max_examples=15)
@given(legs=LEGS, eve=st.none() | intercept_resend(), bsm=st.sampled_from(["full", "linear"]))
def test_mdi_expected_equals_reference(legs, eve, bsm):
    """A5 / invariant 23: E_Z and E_X of expected() equal Bell projections of the reference product
    state, for any two different (rotated) legs and any intercept-resend on Alice's photon.

    catches: legs swapped in expected(), Eve's basis bias inverted, a rotation ignored."""
    ch_a, ch_b = legs
    exp = MDIQKD(bsm=bsm).expected(legs, eavesdropper=eve)
    for basis, key in ((0, "qber_z"), (1, "qber_x")):
        err = tot = 0.0
        for a in (0, 1):
            for b in (0, 1):
                rho_a = apply(intercept_resend_map(dm(basis_kets("ZX"[basis])[a]), 0, eve), click_kraus(ch_a), 0)
                rho_b = apply(dm(basis_kets("ZX"[basis])[b]), click_kraus(ch_b), 0)
                rho = kron(rho_a, rho_b)
                for (m1, m0), name in BELL_OF.items():
                    if bsm == "linear" and m1 == 0:
                        continue
                    p = float(np.real(np.trace(bell(name) @ rho)))
                    tot += p
                    err += p * ((b ^ (m1 if basis == 0 else m0)) != a)
        assert exp[key] == pytest.approx(err / tot, abs=1e-9)


@settings(max_examples=15)
@given(legs=LEGS, eve=st.none() | intercept_resend())
def test_two_step_expected_check_qber_equals_reference(legs, eve):
    """Invariant 26: the first-leg check QBER of expected() depends on the first leg only and equals
    the reference (Phi+, Eve and leg 1 on C, both measured in Z or X with equal probability).

    catches: the check charged with the second leg, legs swapped."""
    pair = apply(intercept_resend_map(bell("phi+"), 0, eve), click_kraus(legs[0]), 0)
    ref = 0.0
    for basis in ("Z", "X"):
        for bc in (0, 1):
            proj = np.kron(dm(basis_kets(basis)[bc]), dm(basis_kets(basis)[1 - bc]))
            ref += float(np.real(np.trace(proj @ pair))) / 2
    assert QSDCTwoStep().expected(legs, eavesdropper=eve)["check_qber"] == pytest.approx(ref, abs=1e-9)
    assert DL04().expected(legs, eavesdropper=eve)["check_qber"] == pytest.approx(ref, abs=1e-9)


@settings(max_examples=15)
@given(legs=LEGS)
def test_teleportation_and_pair_fidelity_equal_reference(legs):
    """Invariant 41 / Fig. 3: the Haar-average teleportation fidelity (six Pauli eigenstates) is
    (2F + 1)/3 and the Fig. 3 closed form is F, with F the reference resource's fidelity with Phi+.

    catches: a closed form (1 + 3V)/4 that ignores the rotations, halves swapped."""
    resource = apply(apply(bell("phi+"), click_kraus(legs[0]), 0), click_kraus(legs[1]), 1)
    f = fidelity_phi_plus(resource)
    assert Teleportation().expected(legs)["fidelity"] == pytest.approx((2 * f + 1) / 3, abs=1e-9)
    assert pair_fidelity(*legs)["closed_form"] == pytest.approx(f, abs=1e-9)


def _ref_chain(chans):
    """End pair of a swapping chain by explicit Bell measurements and X^m1 Z^m0 corrections."""
    rho = apply(bell("phi+"), click_kraus(chans[0]), 1)
    for ch in chans[1:]:
        full = kron(rho, apply(bell("phi+"), click_kraus(ch), 1))
        out = np.zeros((4, 4), dtype=complex)
        for (m1, m0), name in BELL_OF.items():
            ket = np.linalg.eigh(bell(name))[1][:, -1]
            k = np.kron(np.kron(np.eye(2), ket.conj().reshape(1, 4)), np.eye(2))
            corr = np.kron(np.eye(2), np.linalg.matrix_power(PAULI["Z"], m0) @ np.linalg.matrix_power(PAULI["X"], m1))
            out += corr @ (k @ full @ k.conj().T) @ corr.conj().T
        rho = out
    return rho


@settings(max_examples=10)
@given(chans=asymmetric_channels(3, max_rotation_rad=1.2), method=st.sampled_from([None, "dejmps", "bbpssw"]))
def test_swapping_expected_equals_explicit_chain(chans, method):
    """Invariants 42-43: expected() fidelity, QBERs and purification success of a 3-link chain of
    different rotated links equal an explicit Bell-measurement chain (and, with purification, the
    purification of two copies of it).

    catches: a twirl applied to the first link too, a purification formula that assumes Bell-diagonal
    inputs, herald rate not squared with two copies."""
    sw = Swapping(n_links=3, purification=method)
    rho = _ref_chain(chans)
    p_s = 1.0
    if method is not None:
        rho, p_s = purify_density_matrix(rho, method)
    exp = sw.expected(chans)
    assert exp["fidelity"] == pytest.approx(fidelity_phi_plus(rho), abs=1e-9)
    zz = float(np.real(np.trace(rho @ np.kron(PAULI["Z"], PAULI["Z"]))))
    xx = float(np.real(np.trace(rho @ np.kron(PAULI["X"], PAULI["X"]))))
    assert exp["qber_z"] == pytest.approx((1 - zz) / 2, abs=1e-9)
    assert exp["qber_x"] == pytest.approx((1 - xx) / 2, abs=1e-9)
    assert exp.get("purification_success", 1.0) == pytest.approx(p_s, abs=1e-9)
    heralds = math.prod(ch.detection_probability for ch in chans)
    assert exp["herald_rate"] == pytest.approx(heralds ** (1 if method is None else 2))


@settings(max_examples=10)
@given(chans=asymmetric_channels(3, max_rotation_rad=1.2))
def test_trusted_relay_expected_equals_reference(chans):
    """A12: the raw relayed error rate compounds the reference links' sifted error rates."""
    qs = [(flip_probability(click_kraus(ch), "Z") + flip_probability(click_kraus(ch), "X")) / 2 for ch in chans]
    exp = TrustedRelay(n_links=3).expected(chans)
    assert exp["relayed_raw_error_rate"] == pytest.approx((1 - math.prod(1 - 2 * q for q in qs)) / 2, abs=1e-9)
    assert exp["worst_link_qber"] == pytest.approx(max(qs), abs=1e-9)


def test_purify_density_matrix_matches_the_a11_maps_on_bell_diagonal_input():
    """A11 [FORMULA]: the density-matrix purification used by Swapping.expected() reproduces the
    DEJMPS map (A' = (A^2 + B^2)/N, N = (A + B)^2 + (C + D)^2) written here, on a non-Werner input."""
    a, b, c, d = 0.7, 0.15, 0.1, 0.05
    rho = a * bell("phi+") + b * bell("psi-") + c * bell("psi+") + d * bell("phi-")
    out, p_s = purify_density_matrix(rho, "dejmps")
    n = (a + b) ** 2 + (c + d) ** 2
    assert p_s == pytest.approx(n) and fidelity_phi_plus(out) == pytest.approx((a * a + b * b) / n)
    out, p_s = purify_density_matrix(rho, "bbpssw")
    n = (a + d) ** 2 + (b + c) ** 2
    assert p_s == pytest.approx(n) and fidelity_phi_plus(out) == pytest.approx((a * a + d * d) / n)
