"""protocols/_secret_sharing.py against its mutmut survivors (issue 9, sixth run, the mutants after
the first sample of 400; the first sample's tests are in test_secret_sharing_survivors.py).

Expected values are written here: the one-qubit Pauli matrices and their products (numpy), and the
logical Bloch vector of a|0_L> + b|1_L> of the [[5,1,3]] code (X_L = XXXXX, Y_L = YYYYY = i X_L Z_L,
Z_L = ZZZZZ), which is the secret's own Bloch vector (2 Re(a* b), 2 Im(a* b), |a|^2 - |b|^2).
"""

import itertools

import numpy as np
import pytest
from qiskit.quantum_info import Pauli

from qproto import Channel, get_protocol
from qproto._results import Estimate
from qproto.protocols._secret_sharing import HBBResult, _pauli_product, threshold_recovery_bloch
from qproto.testing import assert_proportion

_P1 = [np.eye(2), np.array([[0, 1], [1, 0]]), np.array([[0, -1j], [1j, 0]]), np.diag([1.0, -1.0])]
_PHASES = (1.0 + 0j, -1.0 + 0j, 1j, -1j)


def _string_matrix(codes):
    """The Pauli string with codes[j] (0 I, 1 X, 2 Y, 3 Z) on qubit j (qubit 0 the least significant)."""
    out = np.eye(1)
    for c in reversed(codes):
        out = np.kron(out, _P1[c])
    return out


def test_pauli_product_multiplies_both_input_phases():
    """(pa S_a)(pb S_b) = phase S_c with phase = pa pb i^(...): every phase of the Pauli group on
    either side, on one-qubit and two-qubit strings, against the matrix product.

    catches: the input phases divided (a[0] / b[0]: equal to the product only when pb = +-1, so a test
    with real phases cannot see it)."""
    strings = [(x,) for x in range(4)] + list(itertools.product(range(4), repeat=2))
    for a, b in itertools.product(strings, repeat=2):
        if len(a) != len(b):
            continue
        for pa, pb in itertools.product(_PHASES, repeat=2):
            phase, c = _pauli_product((pa, a), (pb, b))
            np.testing.assert_allclose(phase * _string_matrix(c), pa * pb * _string_matrix(a) @ _string_matrix(b),
                                       atol=1e-12, err_msg=f"{pa} {a} x {pb} {b}")


@pytest.mark.parametrize("secret", [
    np.array([1, 1]) / np.sqrt(2),            # |+>: X_L = +1
    np.array([1, 1j]) / np.sqrt(2),           # |+i>: Y_L = +1
    np.array([0.6, 0.8 * np.exp(0.7j)]),      # a generic secret
])
def test_share_state_of_all_five_shares_carries_the_secret_bloch_vector(secret):
    """share_state over all five shares is the encoded state a|0_L> + b|1_L> itself: its logical Pauli
    expectations <X_L>, <Y_L>, <Z_L> are the secret's Bloch vector (2 Re(a* b), 2 Im(a* b), |a|^2 - |b|^2).

    catches: the relative sign (or phase) of the two code words changed (a|0_L> - b|1_L> flips the
    X_L and Y_L components; two- and three-share tests that compare |0> with |1> cannot see it)."""
    t = get_protocol("threshold-sharing")
    a, b = secret
    want = (2 * (np.conj(a) * b).real, 2 * (np.conj(a) * b).imag, abs(a) ** 2 - abs(b) ** 2)
    rho = t.share_state(secret, [0, 1, 2, 3, 4])
    assert rho.dim == 32
    got = [rho.expectation_value(Pauli(p * 5)).real for p in "XYZ"]
    np.testing.assert_allclose(got, want, atol=1e-9)
    # the shares in another order are the same parties: the same state
    np.testing.assert_allclose(t.share_state(secret, [4, 2, 0, 3, 1]).data, rho.data, atol=1e-12)


# ---- HBB: noise-only clicks and a record without per-player tallies -------------------------------
@pytest.mark.parametrize("noisy", [0, 2])
def test_hbb_noise_only_clicks_randomise_that_partys_bit(noisy):
    """Party ``noisy`` (the dealer, or player 2) has transmittance 1/2 and noise clicks Y0 = 1/2:
    it clicks with probability 1/2 + 1/2 x 1/2 = 3/4, and on a third of its clicks (noise alone) it
    reads a uniformly random bit, so its GHZ correlator is scaled by the signal fraction s = 2/3;
    player 1 is depolarising p = 0.2 (x 0.8), the third party is perfect. Valid-round error:
    [1 - (2/3)(0.8)]/2 = 7/30 (docs/conventions.md A8, C.8), detection 3/4; per player, P(b_i = a) = 1/2.

    catches: noise-only clicks left unrandomised (error (1 - 0.8)/2 = 0.1), randomised on another
    party's column."""
    chans = [Channel(), Channel(depolarisation=0.2), Channel()]
    chans[noisy] = Channel(transmittance=0.5, noise_click=0.5)
    r = get_protocol("hbb-secret-sharing", parties=3).run(chans, rounds=20_000, seed=12)
    assert_proportion(r.c("detected"), r.rounds, 0.75, what="P_all")
    assert_proportion(r.c("valid_errors"), r.c("valid"), 7 / 30, what="valid-round error")
    for i, agree in enumerate(r.counts["single_agree"], start=1):
        assert_proportion(agree, r.c("detected"), 0.5, what=f"P(b_{i} = a)")


def test_hbb_result_without_player_tallies_displays_a_zero_max():
    """A record with no per-player agreements (no ``parties`` recorded, an empty ``single_agree``) is
    accepted; its displayed max over players is 0 of the detected rounds (best 0, the interval of
    0/1000), with no counts, and there is no per-player estimate.

    catches: the empty-tally guard dropped (max of an empty array raises) or 1 shown instead of 0."""
    counts = {"detected": (1000,), "valid": (500,), "valid_errors": (40,), "invalid": (500,),
              "invalid_agree": (260,), "single_agree": (), "eve_valid": (300,), "eve_correct": (200,)}
    r = HBBResult(protocol="hbb-secret-sharing", parameters={}, channels=(Channel(),) * 3, rounds=2000, seed=1,
                  eavesdropper=None, counts=counts)
    est = r.estimates()
    ref = Estimate.binomial(0, 1000, confidence=0.95)
    m = est["single_player_agreement"]
    assert (m.low, m.best, m.high, m.confidence) == (0.0, 0.0, ref.high, 0.95)
    assert m.successes is None and m.trials is None
    assert not [k for k in est if k.startswith("single_player_agreement_")]


# ---- ((3,5)): the closed form with an exact Pauli error on one share ------------------------------
@pytest.mark.parametrize("share, axis", [(0, (0, 0, 1)), (3, (1, 0, 0)), (4, (0, 1, 0))])
def test_threshold_expected_with_a_pi_rotation_on_one_share(share, axis):
    """A rotation by pi is a Pauli (Z, X or Y up to a phase) on that share; the other shares are
    perfect. A subset without that share recovers the secret exactly (F = 1); from a subset with it the
    recovered qubit is the secret under a Pauli sigma != I: r = T n with T = diag(+1, -1, -1) up to
    the order of the axes (sigma's own axis kept, the other two flipped), and the six-state average of
    (1 + n.r)/2 is 1/2 + tr(T)/6 = 1/3. Six of the ten subsets contain the share and every share
    clicks: F = (6 x 1/3 + 4 x 1)/10 = 0.6 (hand number).

    catches: the closed form skipping terms whose coefficient is exactly 1 (here the flipped share's
    row entry is exactly -1 and every representative's coefficient -1, so the kept terms are exactly 1:
    skipping them gives 0.8)."""
    chans = [Channel()] * 5
    chans[share] = Channel(rotation_rad=np.pi, rotation_axis=axis)
    x = get_protocol("threshold-sharing").expected(chans)
    assert x["detection_rate"] == pytest.approx(1.0, abs=1e-12)
    assert x["fidelity"] == pytest.approx(0.6, abs=1e-9)


@pytest.mark.parametrize("share, axis", [(0, (0, 1, 0)), (1, (0, 0, 1))])
def test_threshold_expected_with_only_shares_012_arriving_and_a_pauli_error(share, axis):
    """Shares 3 and 4 never click, so only the subset (0, 1, 2) counts (detection 1/10); a pi
    rotation on pooled share 0 (about y) or 1 (about z) is a Pauli error there, which the decoder
    turns into a Pauli sigma != I on the recovered qubit: F = 1/2 + tr(T)/6 = 1/2 - 1/6 = 1/3.
    Here sigma is Z_L (the logical representatives on (0, 1, 2) are Z X Z, X Y X, Y Z Y; Y on share 0
    and Z on share 1 commute with Y Z Y only), so the Z eigenstates keep fidelity 1 and the X and Y
    eigenstates 0.

    catches: the Y-basis secrets given the Z Bloch axis in the closed form (2/3 here; averaged over
    all ten subsets with one Pauli error the axes balance out and it gives 0.6 unchanged)."""
    chans = [Channel(), Channel(), Channel(), Channel(transmittance=0.0), Channel(transmittance=0.0)]
    chans[share] = Channel(rotation_rad=np.pi, rotation_axis=axis)
    x = get_protocol("threshold-sharing").expected(chans)
    assert x["detection_rate"] == pytest.approx(0.1, abs=1e-12)
    assert x["fidelity"] == pytest.approx(1 / 3, abs=1e-9)
    t_mat, t_vec = threshold_recovery_bloch(chans, (0, 1, 2))
    np.testing.assert_allclose(t_mat, np.diag([-1.0, -1.0, 1.0]), atol=1e-9)
    np.testing.assert_allclose(t_vec, 0.0, atol=1e-12)
