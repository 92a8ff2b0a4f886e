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

from qproto import get_protocol
from qproto.protocols._secret_sharing import _pauli_product

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
