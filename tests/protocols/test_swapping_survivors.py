"""protocols/_swapping.py's own machinery, written against its mutmut survivors (issue 9).

Everything expected here is written in the test: closed forms of Bell-diagonal weights (a
rotation by theta about the unit axis n on Bob's half sends Phi+ to cos(theta/2) Phi+ - i
sin(theta/2) (n_x Psi+ + i n_y Psi- + n_z Phi-)), the bilateral-CNOT success probability, and
the estimators' formulas computed by hand from small tally tables (docs/conventions.md B:
E = (agree - disagree)/N, F = (1 + E_XX - E_YY + E_ZZ)/4, the Laplace-smoothed variance
4 p (1 - p)/N with p = (agree + 1)/(N + 2)).
"""

import math

import numpy as np
import pytest
from _reference import h2

from qproto import Channel, Engine
from qproto._attacks import parse_eavesdropper
from qproto._errors import InvalidParameter
from qproto.protocols import Swapping
from qproto.protocols._swapping import SwappingResult
from qproto.testing import assert_proportion

X, Y, Z = 1, 2, 0


# ---- end_pair_coefficients: Bell weights in the order (Phi+, Psi-, Psi+, Phi-) ----------------
def _rotated_weights(v, theta, axis):
    """(Phi+, Psi-, Psi+, Phi-) weights of Phi+ whose Bob half is rotated by theta about ``axis``
    (normalised here) and then depolarised to visibility v: the Pauli components of the rotation
    I -> Phi+, Y -> Psi-, X -> Psi+, Z -> Phi- with weights cos^2, sin^2 n_y^2, sin^2 n_x^2, sin^2 n_z^2."""
    norm = math.sqrt(sum(a * a for a in axis))
    nx, ny, nz = (a / norm for a in axis)
    c2, s2 = math.cos(theta / 2) ** 2, math.sin(theta / 2) ** 2
    return tuple(v * w + (1 - v) / 4 for w in (c2, s2 * ny * ny, s2 * nx * nx, s2 * nz * nz))


def test_end_pair_coefficients_of_a_rotated_link_are_its_four_distinct_bell_weights():
    """One link rotated about (1, 2, 3): all four weights differ, so a ket swapped, a sign flipped
    (Psi- <-> Psi+, Phi- <-> Phi+), a wrong normalisation or a wrong entry shows."""
    ch = Channel(depolarisation=0.1, rotation_rad=1.2, rotation_axis=(1.0, 2.0, 3.0))
    coeffs, p_s = Swapping(n_links=1).end_pair_coefficients([ch])
    expected = _rotated_weights(0.9, 1.2, (1.0, 2.0, 3.0))
    assert len(set(round(w, 6) for w in expected)) == 4
    assert coeffs == pytest.approx(expected, abs=1e-12)
    assert sum(coeffs) == pytest.approx(1.0, abs=1e-12)
    assert p_s == 1.0


def test_end_pair_coefficients_of_an_asymmetric_chain_with_a_twirled_rotation():
    """Two links: a plain depolarising one, then a rotated one (the swap twirls it into the same
    Pauli mixture). A single Channel (not a list) is accepted for every link."""
    chans = [Channel(depolarisation=0.2), Channel(depolarisation=0.05, rotation_rad=2.0, rotation_axis=(3.0, 1.0, 2.0))]
    coeffs, p_s = Swapping(n_links=2).end_pair_coefficients(chans)
    assert coeffs == pytest.approx(_rotated_weights(0.8 * 0.95, 2.0, (3.0, 1.0, 2.0)), abs=1e-12)
    assert p_s == 1.0
    coeffs1, _ = Swapping(n_links=3).end_pair_coefficients(Channel(depolarisation=0.1))
    v = 0.9 ** 3
    assert coeffs1 == pytest.approx(((1 + 3 * v) / 4, (1 - v) / 4, (1 - v) / 4, (1 - v) / 4), abs=1e-12)


def test_end_pair_coefficients_after_bbpssw_and_its_success_probability():
    """A Bell-diagonal input (a, b, c, d) = (Phi+, Psi-, Psi+, Phi-) through the bilateral CNOT
    kept on equal target outcomes: success N = (a + d)^2 + (b + c)^2, output
    ((a^2 + d^2), 2bc, (b^2 + c^2), 2ad)/N (docs/conventions.md A11)."""
    chans = [Channel(depolarisation=0.1), Channel(depolarisation=0.05, rotation_rad=1.5, rotation_axis=(1.0, 3.0, 2.0))]
    a, b, c, d = _rotated_weights(0.9 * 0.95, 1.5, (1.0, 3.0, 2.0))
    n = (a + d) ** 2 + (b + c) ** 2
    coeffs, p_s = Swapping(n_links=2, purification="bbpssw").end_pair_coefficients(chans)
    assert p_s == pytest.approx(n, abs=1e-12)
    assert coeffs == pytest.approx(((a * a + d * d) / n, 2 * b * c / n, (b * b + c * c) / n, 2 * a * d / n), abs=1e-12)


# ---- __repr__ -----------------------------------------------------------------------------------
def test_repr_lists_every_parameter_and_evaluates_back():
    sw = Swapping(n_links=3, purification="dejmps", p_z=0.5, p_y=0.25, chsh_fraction=0.1, f_ec=1.2)
    text = ("Swapping(n_links=3, layout='reuse', purification='dejmps', p_z=0.5, p_y=0.25, "
            "chsh_fraction=0.1, f_ec=1.2)")
    assert repr(sw) == text
    assert eval(repr(sw), {"Swapping": Swapping}).parameters() == sw.parameters()


# ---- SwappingResult's estimators, from tally tables written here ------------------------------
def _result(tallies, **swapping_params):
    params = Swapping(**swapping_params).parameters()
    return SwappingResult(protocol="swapping", parameters=params, channels=(Channel(), Channel()),
                          rounds=tallies["rounds"], seed=7, tallies=tallies)


# Phi+-like data: ZZ 90 of 100 agree (E = 0.8), XX 40 of 50 (E = 0.6), YY 0 of 40 (E = -1, the
# zero tally left out as a sparse table would), CHSH settings with 4 different correlators.
SPARSE = {"rounds": 1000, "heralded": 600, "kept": 500,
          "n_0_0": 100, "agree_0_0": 90, "n_1_1": 50, "agree_1_1": 40, "n_2_2": 40,
          "n_0_3": 60, "agree_0_3": 51, "n_0_4": 70, "agree_0_4": 14, "n_1_3": 80, "agree_1_3": 68,
          "n_1_4": 90, "agree_1_4": 72}


def _var(agree, n):
    p = (agree + 1) / (n + 2)
    return 4 * p * (1 - p) / n


def test_fidelity_and_its_sigma_from_a_sparse_tally_table():
    """F = (1 + 0.6 + 1 + 0.8)/4 = 0.85; a missing agree tally counts as 0 (E_YY = -1), and the
    sigma is sqrt(sum of the Laplace-smoothed variances)/4."""
    r = _result(SPARSE)
    f = r.fidelity
    assert f.best == pytest.approx(0.85, abs=1e-12)
    sigma = math.sqrt(_var(90, 100) + _var(40, 50) + _var(0, 40)) / 4
    assert f.sigma == pytest.approx(sigma, rel=1e-12)
    assert f.low == pytest.approx(0.85 - 1.959963984540054 * sigma, rel=1e-9)


def test_chsh_and_its_sigma_from_a_tally_table():
    """E(Z,3) = 0.7, E(Z,4) = -0.6, E(X,3) = 0.7, E(X,4) = 0.6: S = 0.7 + 0.6 + 0.7 + 0.6 = 2.6."""
    r = _result(SPARSE)
    assert r.chsh.best == pytest.approx(2.6, abs=1e-12)
    sigma = math.sqrt(_var(51, 60) + _var(14, 70) + _var(68, 80) + _var(72, 90))
    assert r.chsh_sigma == pytest.approx(sigma, rel=1e-12)
    assert r.chsh.sigma == pytest.approx(sigma, rel=1e-12)


def test_variance_is_never_zero_for_all_agreeing_rounds():
    """Five rounds that all agree: E = 1 but p = 6/7, so each variance is 4 (6/7)(1/7)/5 > 0."""
    t = {"rounds": 15, "heralded": 15, "kept": 15, "n_0_0": 5, "agree_0_0": 5, "n_1_1": 5, "agree_1_1": 5,
         "n_2_2": 5, "agree_2_2": 0}
    f = _result(t).fidelity
    assert f.best == pytest.approx(1.0, abs=1e-12)
    assert f.sigma == pytest.approx(math.sqrt(3 * 4 * (6 / 7) * (1 / 7) / 5) / 4, rel=1e-12)


def test_key_rate_is_the_shor_preskill_fraction_of_each_basis_per_round():
    """BBM92 with key from both bases: (N_ZZ/R)(1 - h(e_x) - f h(e_z)) + (N_XX/R)(1 - h(e_z) - f h(e_x)),
    here e_z = 12/400, e_x = 10/200, R = 1000 and the run's own f_EC = 1.2."""
    t = {"rounds": 1000, "heralded": 800, "kept": 800, "n_0_0": 400, "agree_0_0": 388, "n_1_1": 200,
         "agree_1_1": 190, "n_2_2": 100, "agree_2_2": 3}
    ez, ex, f = 0.03, 0.05, 1.2
    expected = 0.4 * (1 - h2(ex) - f * h2(ez)) + 0.2 * (1 - h2(ez) - f * h2(ex))
    assert _result(t, f_ec=f).key_rate == pytest.approx(expected, rel=1e-12)
    # a basis above the Shor-Preskill threshold contributes nothing (the fraction is clipped at 0)
    t_noisy = dict(t, agree_1_1=150)  # e_x = 0.25: both fractions negative
    assert _result(t_noisy, f_ec=f).key_rate == 0.0


def test_a_table_without_setting_tallies_reports_no_data():
    """Only the required tallies (no kept round of any setting pair): fidelity NaN in [0, 1], no
    CHSH, QBERs NaN, key rate 0."""
    r = _result({"rounds": 100, "heralded": 0, "kept": 0})
    f = r.fidelity
    assert math.isnan(f.best) and (f.low, f.high) == (0.0, 1.0)
    assert r.chsh is None and r.chsh_sigma is None
    assert math.isnan(r.qber_z.best) and math.isnan(r.qber_x.best)
    assert r.key_rate == 0.0


def test_estimates_hold_every_quantity_and_purification_success_only_with_purification():
    r = _result(SPARSE)
    est = r.estimates()
    assert set(est) == {"herald_rate", "fidelity", "chsh", "qber_z", "qber_x", "key_rate"}
    assert (est["herald_rate"].successes, est["herald_rate"].trials) == (600, 1000)
    assert est["fidelity"].best == pytest.approx(0.85, abs=1e-12)
    assert est["chsh"].best == pytest.approx(2.6, abs=1e-12)
    assert (est["qber_z"].successes, est["qber_z"].trials) == (10, 100)
    assert (est["qber_x"].successes, est["qber_x"].trials) == (10, 50)
    assert est["key_rate"] == r.key_rate
    rp = _result(SPARSE, purification="dejmps")
    est = rp.estimates()
    assert (est["purification_success"].successes, est["purification_success"].trials) == (500, 600)
    assert est["purification_success"].best == pytest.approx(500 / 600)


# ---- normalise_channels --------------------------------------------------------------------------
def test_an_empty_chain_is_refused_with_its_value_and_the_link_count():
    with pytest.raises(InvalidParameter) as err:
        Swapping(n_links=3).end_pair_state([])
    assert err.value.name == "channel"
    assert err.value.value == "[]"
    assert err.value.allowed.startswith("3 channel(s)")


# ---- sample_chunk: the per-round record (Protocol.sample) ----------------------------------------
def test_settings_are_independent_with_the_requested_probabilities():
    """[STAT] Alice and Bob each pick Z, X, Y with p_z, 1 - p_z - p_y, p_y independently on the
    non-CHSH rounds; on a chsh_fraction of rounds Alice picks Z or X and Bob pi/4 or 3pi/4, each
    with probability 1/2, so P(a, b) = (1 - f) P(a) P(b) for b < 3 and f/4 for a < 2 <= b, and Alice
    never measures Y on a CHSH round (exactly 0)."""
    p_z, p_y, f = 0.5, 0.2, 0.2
    single = {Z: p_z, X: 1 - p_z - p_y, Y: p_y}
    rec = Swapping(n_links=1, p_z=p_z, p_y=p_y, chsh_fraction=f).sample(Channel(), rounds=40_000, seed=11)
    a, b = rec.alice_setting.astype(int), rec.bob_setting.astype(int)
    n = a.size
    for sa in range(3):
        for sb in range(5):
            p0 = (1 - f) * single[sa] * single[sb] if sb < 3 else (f / 4 if sa < 2 else 0.0)
            assert_proportion(int(np.count_nonzero((a == sa) & (b == sb))), n, p0, what=f"settings ({sa}, {sb})")


def test_record_layout_dtypes_and_unheralded_rounds_carry_no_outcome():
    """Settings and bits are one byte per round (uint8), heralded/kept booleans; a round in which a
    link failed to herald has no end-pair outcome (bits 0) and is not kept; the reuse layout has
    no Bell-outcome record (bsm None)."""
    rec = Swapping(n_links=2, chsh_fraction=0.0).sample([Channel(transmittance=0.5), Channel()], rounds=4000, seed=3)
    for arr in (rec.alice_setting, rec.bob_setting, rec.alice_bit, rec.bob_bit):
        assert arr.dtype == np.uint8 and arr.shape == (4000,)
    assert rec.heralded.dtype == bool and rec.kept.dtype == bool
    assert rec.bsm is None
    lost = ~rec.heralded
    assert_proportion(int(np.count_nonzero(lost)), 4000, 0.5, what="unheralded rounds")
    assert not rec.kept[lost].any()
    assert not rec.alice_bit[lost].any() and not rec.bob_bit[lost].any()
    # the heralded rounds do carry outcomes: both bit values occur among them
    assert set(rec.alice_bit[rec.heralded].tolist()) == {0, 1}


def test_full_layout_records_uniform_bell_outcomes_of_the_intermediate_nodes():
    """Full layout, 3 noiseless links: bsm holds the 2 x 2 intermediate Bell bits as a code in
    [0, 16), each code with probability 1/16, and the end pair still agrees in Z and X (Phi+)."""
    rec = Swapping(n_links=3, layout="full", chsh_fraction=0.0, p_z=0.5, p_y=0.0).sample(
        Channel(), rounds=3200, seed=5)
    assert rec.bsm is not None and rec.bsm.shape == (3200,)
    codes = rec.bsm.astype(int)
    assert codes.min() >= 0 and codes.max() < 16
    for c in range(16):
        assert_proportion(int(np.count_nonzero(codes == c)), 3200, 1 / 16, what=f"Bell outcome code {c}")
    same = rec.alice_setting == rec.bob_setting
    assert (rec.alice_bit[same] == rec.bob_bit[same]).all()


# ---- __init__: every bound, both sides ---------------------------------------------------------
@pytest.mark.parametrize("kwargs", [
    {"n_links": 1}, {"n_links": 64}, {"p_z": 0.0, "p_y": 0.0}, {"p_z": 1.0, "p_y": 0.0}, {"p_z": 0.0, "p_y": 1.0},
    {"p_z": 0.6, "p_y": 0.4}, {"chsh_fraction": 0.0}, {"chsh_fraction": 0.999}, {"f_ec": 1.0}, {"f_ec": 2.0},
    {"layout": "full", "n_links": 6, "chsh_fraction": 0.3}, {"layout": "full", "n_links": 7, "chsh_fraction": 0.0},
    {"purification": "bbpssw"}, {"purification": "dejmps", "layout": "reuse"}])
def test_accepted_parameters_are_stored(kwargs):
    sw = Swapping(**kwargs)
    params = sw.parameters()
    for k, v in kwargs.items():
        assert params[k] == v and getattr(sw, k) == v
    assert sw.n_channels == sw.n_links
    assert sw.copies == (1 if sw.purification is None else 2)


@pytest.mark.parametrize("kwargs,name,value,allowed", [
    ({"n_links": 0}, "n_links", 0, "[1, 64]"), ({"n_links": 65}, "n_links", 65, "[1, 64]"),
    ({"layout": "chain"}, "layout", "chain", "'reuse'"),
    ({"purification": "magic"}, "purification", "magic", "'dejmps'"),
    ({"layout": "full", "purification": "dejmps"}, "purification", "dejmps", "None with layout='full'"),
    ({"p_z": -0.1}, "p_z", -0.1, "[0, 1]"), ({"p_z": 1.1}, "p_z", 1.1, "[0, 1]"),
    ({"p_y": -0.1}, "p_y", -0.1, "[0, 1]"), ({"p_y": 1.1, "p_z": 0.0}, "p_y", 1.1, "[0, 1]"),
    ({"p_z": 0.7, "p_y": 0.35}, "p_y", 0.35, "at most 1 - p_z = 0.3"),
    ({"chsh_fraction": 1.0}, "chsh_fraction", 1.0, "[0, 1)"),
    ({"chsh_fraction": -0.01}, "chsh_fraction", -0.01, "[0, 1)"),
    ({"f_ec": 0.99}, "f_ec", 0.99, "[1, 2]"), ({"f_ec": 2.01}, "f_ec", 2.01, "[1, 2]"),
    ({"layout": "full", "n_links": 7, "chsh_fraction": 0.25}, "chsh_fraction", 0.25,
     "0 with layout='full' and n_links > 6"),
])
def test_refused_parameters_name_themselves_their_value_and_the_allowed_range(kwargs, name, value, allowed):
    with pytest.raises(InvalidParameter) as err:
        Swapping(**kwargs)
    assert (err.value.name, err.value.value) == (name, value)
    assert allowed in err.value.allowed


def test_defaults_are_the_documented_signature():
    assert Swapping().parameters() == {"n_links": 2, "layout": "reuse", "purification": None, "p_z": 0.4,
                                       "p_y": 0.2, "chsh_fraction": 0.2, "f_ec": 1.16}


# ---- build_circuits ------------------------------------------------------------------------------
def test_circuits_refuse_an_eavesdropper_and_the_erasure_form_naming_them():
    eve = parse_eavesdropper("intercept-resend:0.5")
    with pytest.raises(InvalidParameter) as err:
        Swapping(n_links=1).run(Channel(), rounds=10, seed=1, eavesdropper=eve)
    assert err.value.name == "eavesdropper" and err.value.value is eve
    with pytest.raises(InvalidParameter) as err:
        Swapping(n_links=1).build_circuits(form="erasure")
    assert (err.value.name, err.value.value) == ("form", "erasure")
    assert "swapping" in str(err.value)  # the message says which protocol refuses


@pytest.mark.parametrize("kwargs,qubits,clbits", [({"n_links": 3, "layout": "full"}, 6, 6),
                                                  ({"n_links": 5, "layout": "full"}, 10, 10),
                                                  ({"n_links": 5}, 4, 2),
                                                  ({"n_links": 5, "purification": "dejmps"}, 8, 4)])
def test_circuit_sizes_and_names(kwargs, qubits, clbits):
    """Full layout: 2n qubits and 2n clbits (Alice, Bob, the 2(n-1) Bell bits); reuse: 4 qubits and 2
    clbits per chain copy, whatever n. Configuration a * 5 + b is named after its settings."""
    circuits = Swapping(**kwargs).build_circuits()
    assert len(circuits) == 15
    for cfg, qc in enumerate(circuits):
        assert (qc.num_qubits, qc.num_clbits) == (qubits, clbits)
        a, b = divmod(cfg, 5)
        assert qc.name.endswith(f"{kwargs['n_links']}_a{a}_b{b}")
        assert qc.name.startswith("swap_full" if kwargs.get("layout") == "full" else "swap_reuse")


def test_dejmps_on_two_three_link_chains_from_the_circuits():
    """[EXACT] Two copies of an asymmetric 3-link chain (a twirled rotation on link 1), DEJMPS:
    success N = (a + b)^2 + (c + d)^2 and kept <ZZ> = A + D - B - C with (A, B, C, D) =
    ((a^2 + b^2), 2cd, (c^2 + d^2), 2ab)/N, from the compiled distributions (docs/conventions.md A11)."""
    chans = [Channel(depolarisation=0.1), Channel(depolarisation=0.05, rotation_rad=1.5, rotation_axis=(1.0, 3.0, 2.0)),
             Channel(depolarisation=0.02)]
    a, b, c, d = _rotated_weights(0.9 * 0.95 * 0.98, 1.5, (1.0, 3.0, 2.0))
    n = (a + b) ** 2 + (c + d) ** 2
    big_a, big_b, big_c, big_d = (a * a + b * b) / n, 2 * c * d / n, (c * c + d * d) / n, 2 * a * b / n
    sw = Swapping(n_links=3, purification="dejmps")
    zz = sw.build_circuits()[Z * 5 + Z]
    probs = Engine(mode="distribution").compile([zz], sw.noise_model(tuple(chans))).probabilities[0]
    codes = np.arange(probs.size)
    kept = ((codes >> 2) & 1) == ((codes >> 3) & 1)
    agree = (codes & 1) == ((codes >> 1) & 1)
    assert probs[kept].sum() == pytest.approx(n, abs=1e-9)
    e_zz = (probs[kept & agree].sum() - probs[kept & ~agree].sum()) / probs[kept].sum()
    assert e_zz == pytest.approx(big_a + big_d - big_b - big_c, abs=1e-9)
