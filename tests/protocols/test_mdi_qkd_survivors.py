"""MDI-QKD: tests for the mutants that survived the sixth mutation run (TESTING.md).

Each test says which wrong implementation it catches.  Expected values are the protocol's
documented conventions (the configuration index and circuit layout of ``build_circuits``, the
record's dtypes of :class:`MDIRounds`) and invariant 21 (PHYSICS.md: a linear-optics Bell
measurement counts only the psi states, m1 = 1, so in Z it succeeds iff a != b), checked on the
sampled record, never recomputed by the protocol.
"""

import numpy as np
import pytest

from qproto import Channel, InterceptResend
from qproto._errors import InvalidParameter
from qproto.protocols import MDIQKD

LOSSY = Channel(transmittance=0.7, depolarisation=0.05)


@pytest.mark.parametrize("kwargs,name", [
    ({"p_z": 0.0}, "p_z"), ({"p_z": 1.0}, "p_z"),
    ({"f_ec": 2.5}, "f_ec"), ({"f_ec": 0.99}, "f_ec"),
    ({"mu": 1.5}, "mu"), ({"mu": 0.0}, "mu"),
    ({"sigma": 0.0}, "sigma"), ({"sigma": 1.5}, "sigma"), ({"sigma": -0.1}, "sigma"),
])
def test_parameter_ranges_are_the_documented_ones(kwargs, name):
    """p_z in (0, 1), f_ec in [1, 2], mu and sigma in (0, 1]: the ends outside are refused naming
    the parameter and its value.  catches: p_z's or sigma's open lower end made closed (lo_open
    None/False/dropped), f_ec's upper end 3, mu's or sigma's upper end 2."""
    with pytest.raises(InvalidParameter) as err:
        MDIQKD(**kwargs)
    assert err.value.name == name
    assert err.value.value == pytest.approx(next(iter(kwargs.values())))


@pytest.mark.parametrize("kwargs", [{"p_z": 1e-9}, {"f_ec": 2.0}, {"f_ec": 1.0}, {"mu": 1.0}, {"sigma": 1.0}])
def test_parameter_range_ends_inside_are_accepted(kwargs):
    """The closed ends (f_ec 1 and 2, mu and sigma 1) and a tiny p_z are valid."""
    proto = MDIQKD(**kwargs)
    key, value = next(iter(kwargs.items()))
    assert proto.parameters()[key] == value


def test_the_form_refusal_names_the_protocol():
    """build_circuits refuses a form other than 'fast' naming the form and this protocol.
    catches: check_fast_form called without the protocol's name."""
    with pytest.raises(InvalidParameter) as err:
        MDIQKD().build_circuits(form="exact")
    assert err.value.name == "form" and err.value.value == "exact"
    assert "mdi-qkd" in str(err.value)


def _layout(cfg):
    return cfg >> 4, (cfg >> 3) & 1, (cfg >> 2) & 1, (cfg >> 1) & 1, cfg & 1


@pytest.mark.parametrize("eve", [None, InterceptResend(fraction=0.5, p_z=0.7)])
def test_circuits_layout_width_and_names(eve):
    """16 configurations per Eve branch (one branch without Eve), two qubits and clbits without an
    eavesdropper and three with one (clbit 2 is Eve's record), each named
    ``mdi_e{branch}_a{Z|X}{bit}_b{Z|X}{bit}`` after its configuration index.
    catches: a spare qubit without Eve (nq 3), a fourth qubit with Eve, two branches without Eve,
    unnamed circuits or bases spelt other than Z/X."""
    circuits = MDIQKD().build_circuits(eavesdropper=eve)
    branches = 1 if eve is None else eve.n_branches
    assert len(circuits) == 16 * branches
    width = 2 if eve is None else 3
    for cfg, qc in enumerate(circuits):
        assert qc.num_qubits == width and qc.num_clbits == width
        branch, ab, a, bb, b = _layout(cfg)
        assert qc.name == f"mdi_e{branch}_a{'ZX'[ab]}{a}_b{'ZX'[bb]}{b}"


def test_linear_bsm_counts_only_announced_psi_states_on_the_record():
    """Invariant 21 on the sampled record: with a linear-optics relay a round succeeds iff both
    photons arrived and the relay announced m1 = 1; noiseless, a Z-basis success needs a != b and
    about half the detected rounds succeed.  catches: success on m1 != 1 (the phi states, which
    linear optics cannot identify; QBER and rate alone are blind to it by symmetry)."""
    rec = MDIQKD(bsm="linear").sample((Channel(transmittance=0.8), Channel(transmittance=0.9)), rounds=4000,
                                      seed=11)
    np.testing.assert_array_equal(rec.success, rec.detected & (rec.relay_m1 == 1))
    z = rec.success & (rec.alice_basis == 0) & (rec.bob_basis == 0)
    assert z.sum() > 100
    assert np.all(rec.alice_bit[z] != rec.bob_bit[z])
    n_det = int(rec.detected.sum())
    frac = rec.success.sum() / n_det
    assert abs(frac - 0.5) < 5 * np.sqrt(0.25 / n_det)


@pytest.mark.parametrize("bsm", ["full", "linear"])
def test_random_relay_announcements(bsm):
    """A relay announcing at random (relay='random'): m0 is a fair coin; m1 is a fair coin with a
    full Bell measurement, and always 1 with linear optics (such a relay claims a psi state every
    time, so every detected round counts).  catches: the linear/full choice of m1 inverted or
    dropped, ``np.ones`` without its length, m1 of the wrong dtype."""
    n = 6000
    rec = MDIQKD(bsm=bsm, relay="random").sample((LOSSY, LOSSY), rounds=n, seed=5)
    assert rec.relay_m1.dtype == np.uint8 and rec.relay_m0.dtype == np.uint8
    tol = 5 * np.sqrt(0.25 / n)
    assert abs(rec.relay_m0.mean() - 0.5) < tol
    if bsm == "linear":
        assert np.all(rec.relay_m1 == 1)
        np.testing.assert_array_equal(rec.success, rec.detected)
    else:
        assert abs(rec.relay_m1.mean() - 0.5) < tol
        np.testing.assert_array_equal(rec.success, rec.detected)


@pytest.mark.parametrize("eve", [None, InterceptResend(fraction=0.5, p_z=0.7)])
def test_record_dtypes_are_the_documented_ones(eve):
    """MDIRounds: every array uint8 except success and detected (bool), with or without Eve;
    without Eve the branch and Eve's record are all 0.  catches: eve_bit or eve_branch built as
    float64 (``dtype=None``/``astype(None)``)."""
    rec = MDIQKD().sample((LOSSY, Channel(transmittance=0.9)), rounds=500, seed=3, eavesdropper=eve)
    for field in ("alice_basis", "alice_bit", "bob_basis", "bob_bit", "relay_m1", "relay_m0", "eve_branch",
                  "eve_bit"):
        assert getattr(rec, field).dtype == np.uint8, field
    assert rec.success.dtype == bool and rec.detected.dtype == bool
    if eve is None:
        assert not rec.eve_branch.any() and not rec.eve_bit.any()
    else:
        assert rec.eve_branch.any()
