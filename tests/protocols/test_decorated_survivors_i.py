"""Decorated functions (``@property``, ``functools.lru_cache``) of the protocol modules, written
against their mutation survivors (issue 9, TESTING.md "Decorated functions").

Every expected value is written here: the LCQ 2012 MDI rate (docs/conventions.md A5, the
docstring of ``MDIQKDResult.key_rate_infinite_decoy_model``) computed by hand on hand-made
tallies with mu != sigma, eta_A != eta_B, Y0_A != Y0_B, E_X != E_Z, f_EC != 1, p_Z != 1/2; the
[[5,1,3]] code built independently with numpy Kronecker products from its stabilisers
(XZZXI and cyclic shifts, X_L = XXXXX, Z_L = ZZZZZ, Y_L = YYYYY).
"""

import functools
import math

import numpy as np
import pytest
from _reference import h2

from qproto import Channel
from qproto.protocols._mdi_qkd import MDIQKDResult
from qproto.protocols import _secret_sharing as ss

# ---- MDIQKDResult.key_rate_infinite_decoy_model on hand-made tallies ---------------------------

_MDI_T = {"rounds": 10_000, "detected": 4_000, "success": 3_000, "matched_z": 2_000, "sifted_z": 1_500,
          "errors_z": 30, "matched_x": 1_000, "sifted_x": 700, "errors_x": 42, "eve_sifted": 0,
          "eve_correct": 0}


def _mdi(params, tallies=None, chans=None):
    t = dict(_MDI_T if tallies is None else tallies)
    chans = chans or (Channel(transmittance=0.5, noise_click=1e-3), Channel(transmittance=0.8, noise_click=2e-3))
    return MDIQKDResult(protocol="mdi-qkd", parameters=params, channels=tuple(chans), rounds=t["rounds"],
                        seed=1, tallies=t)


def _lcq(mu, sigma, pz, f_ec, t, eta_a=0.5, y0_a=1e-3, eta_b=0.8, y0_b=2e-3):
    """R = p_Z^2 [mu sigma e^(-mu-sigma) Y11 (1 - h(E_X)) - Q_A Q_B s f_EC h(E_Z)], clipped at 0."""
    e_z, e_x = t["errors_z"] / t["sifted_z"], t["errors_x"] / t["sifted_x"]
    share = eta_a * eta_b / ((eta_a + (1 - eta_a) * y0_a) * (eta_b + (1 - eta_b) * y0_b))
    y11 = share * t["sifted_z"] / (t["rounds"] * pz * pz)
    q11 = min(mu * sigma * math.exp(-mu - sigma) * y11, 1.0)
    q_a = 1 - (1 - y0_a) * math.exp(-mu * eta_a)
    q_b = 1 - (1 - y0_b) * math.exp(-sigma * eta_b)
    q_z = min(q_a * q_b * t["sifted_z"] / t["matched_z"], 1.0)
    return pz * pz * max(0.0, q11 * (1 - h2(min(e_x, 0.5))) - q_z * f_ec * h2(min(e_z, 0.5)))


def test_infinite_decoy_model_rate_by_hand_on_asymmetric_tallies():
    """mu = 0.4 != sigma = 0.25, p_Z = 0.6, f_EC = 1.3, E_X = 0.06 != E_Z = 0.02, unequal legs
    and noise clicks: any swapped or dropped factor of the LCQ formula moves the rate."""
    mu, sigma, pz, f_ec = 0.4, 0.25, 0.6, 1.3
    r = _mdi({"mu": mu, "sigma": sigma, "p_z": pz, "f_ec": f_ec})
    expected = _lcq(mu, sigma, pz, f_ec, _MDI_T)
    assert expected > 0
    assert r.key_rate_infinite_decoy_model == pytest.approx(expected, rel=1e-12)


def test_infinite_decoy_model_rate_defaults_are_the_protocols():
    """A result whose parameters lack mu, sigma, p_Z, f_EC (e.g. read from a user's JSON) uses
    MDIQKD's defaults mu = sigma = p_Z = 1/2 and f_EC = 1.16."""
    r = _mdi({})
    assert r.key_rate_infinite_decoy_model == pytest.approx(_lcq(0.5, 0.5, 0.5, 1.16, _MDI_T), rel=1e-12)
    # each default alone (the others given, asymmetric)
    full = {"mu": 0.4, "sigma": 0.25, "p_z": 0.6, "f_ec": 1.3}
    for name, default in (("mu", 0.5), ("sigma", 0.5), ("p_z", 0.5), ("f_ec", 1.16)):
        params = {k: v for k, v in full.items() if k != name}
        args = dict(full, **{name: default})
        expected = _lcq(args["mu"], args["sigma"], args["p_z"], args["f_ec"], _MDI_T)
        assert _mdi(params).key_rate_infinite_decoy_model == pytest.approx(expected, rel=1e-12), name


@pytest.mark.parametrize("missing", ["matched_z", "sifted_z", "sifted_x"])
def test_infinite_decoy_model_rate_is_zero_without_data(missing):
    """0 without Z coincidences, sifted Z bits or sifted X bits (the docstring's "0 without data"),
    even when the other tallies would give a positive rate."""
    t = dict(_MDI_T)
    t[missing] = 0
    if missing == "sifted_z":
        t["errors_z"] = 0
    if missing == "sifted_x":
        t["errors_x"] = 0
    assert _mdi({"mu": 0.4, "sigma": 0.25, "p_z": 0.6, "f_ec": 1.3}, t).key_rate_infinite_decoy_model == 0.0


def test_infinite_decoy_model_rate_clips_single_photon_gain_at_one():
    """A short run with p_Z = 0.1 whose 10 rounds all fell in Z-Z and succeeded has
    Y11 = 10 / (10 * 0.01) = 100, so mu sigma e^(-mu-sigma) Y11 > 1: the gain is clipped to 1
    (a probability), the rate is 0.01 * [1 - f h(E_Z)] (E_X = 0), not an error."""
    t = {"rounds": 10, "detected": 10, "success": 10, "matched_z": 10, "sifted_z": 10, "errors_z": 1,
         "matched_x": 0, "sifted_x": 10, "errors_x": 0, "eve_sifted": 0, "eve_correct": 0}
    chans = (Channel(transmittance=1.0), Channel(transmittance=1.0))
    mu, sigma = 0.9, 0.8
    r = _mdi({"mu": mu, "sigma": sigma, "p_z": 0.1, "f_ec": 1.0}, t, chans)
    q_z = (1 - math.exp(-mu)) * (1 - math.exp(-sigma)) * 1.0
    expected = 0.01 * max(0.0, 1.0 - q_z * h2(0.1))
    assert mu * sigma * math.exp(-mu - sigma) * 100 > 1
    assert r.key_rate_infinite_decoy_model == pytest.approx(expected, rel=1e-12)


def _sp(t, f_ec):
    """Shor-Preskill rate per round with both bases used for key (A1, A5): each basis's sifted
    fraction times 1 - h(E_other) - f_EC h(E_basis), each term clipped at 0."""
    e_z, e_x = t["errors_z"] / t["sifted_z"], t["errors_x"] / t["sifted_x"]
    fz, fx = t["sifted_z"] / t["rounds"], t["sifted_x"] / t["rounds"]
    return fz * max(0.0, 1 - h2(e_x) - f_ec * h2(e_z)) + fx * max(0.0, 1 - h2(e_z) - f_ec * h2(e_x))


def test_key_rate_uses_the_results_f_ec_default_and_confidence():
    """MDIQKDResult.key_rate on hand tallies (E_X = 0.06 != E_Z = 0.02, unequal sifted counts):
    f_EC from the parameters (1.3), 1.16 when absent; the interval at the result's confidence 0.9."""
    def res(params):
        return MDIQKDResult(protocol="mdi-qkd", parameters=params, channels=(Channel(), Channel(transmittance=0.7)),
                            rounds=_MDI_T["rounds"], seed=1, tallies=dict(_MDI_T), confidence=0.9)
    r13, r_default = res({"f_ec": 1.3}).key_rate, res({}).key_rate
    assert r13.best == pytest.approx(_sp(_MDI_T, 1.3), rel=1e-12)
    assert r_default.best == pytest.approx(_sp(_MDI_T, 1.16), rel=1e-12)
    assert r13.confidence == 0.9 and r_default.confidence == 0.9
    assert r13.low < r13.best < r13.high


def test_infinite_decoy_model_rate_is_zero_when_the_channels_never_click():
    """Channels with eta = 0 and Y0 = 0 give no coincidence, so a result claiming sifted bits
    over them (tallies edited by hand) carries no single-photon yield: Y11 = 0 and the rate is
    0, not a ZeroDivisionError and not a rate computed as if every coincidence were a photon pair."""
    chans = (Channel(transmittance=0.0), Channel(transmittance=0.0))
    r = _mdi({"mu": 0.4, "sigma": 0.25, "p_z": 0.6, "f_ec": 1.0}, dict(_MDI_T, errors_z=0), chans)
    assert r.key_rate_infinite_decoy_model == 0.0


# ---- the [[5,1,3]] code's cached tables, against an independent numpy construction --------------

_P = {"I": np.eye(2), "X": np.array([[0, 1], [1, 0]]), "Y": np.array([[0, -1j], [1j, 0]]),
      "Z": np.diag([1.0, -1.0])}


def _pauli(label):
    """Little-endian (qubit j = character j = bit j of the index), as qiskit's statevectors."""
    return functools.reduce(np.kron, [_P[c] for c in reversed(label)])


@functools.lru_cache(maxsize=1)
def _code():
    proj = np.eye(32, dtype=complex)
    for g in ("XZZXI", "IXZZX", "XIXZZ", "ZXIXZ"):
        proj = proj @ (np.eye(32) + _pauli(g)) / 2
    assert np.trace(proj).real == pytest.approx(2.0)
    zero = proj[:, 0] / np.linalg.norm(proj[:, 0])
    return proj, zero, _pauli("XXXXX") @ zero


def test_five_qubit_code_states_span_the_code_with_the_logical_operators():
    zero, one = ss.five_qubit_code_states.__wrapped__()
    proj, _, _ = _code()
    for v in (zero, one):
        assert np.linalg.norm(v) == pytest.approx(1.0, abs=1e-12)
        assert np.allclose(proj @ v, v, atol=1e-12)
    assert abs(np.vdot(zero, one)) < 1e-12
    assert np.allclose(_pauli("ZZZZZ") @ zero, zero, atol=1e-12)
    assert np.allclose(_pauli("ZZZZZ") @ one, -one, atol=1e-12)
    assert np.allclose(_pauli("XXXXX") @ zero, one, atol=1e-12)


def test_encoder_is_a_unitary_whose_first_columns_are_the_code_states():
    u = ss._encoder.__wrapped__()
    _, zero, one = _code()
    assert u.shape == (32, 32)
    assert np.allclose(u.conj().T @ u, np.eye(32), atol=1e-10)
    # the code states up to one common global phase
    phase = np.vdot(zero, u[:, 0])
    assert abs(phase) == pytest.approx(1.0, abs=1e-10)
    assert np.allclose(u[:, 0], phase * zero, atol=1e-10)
    assert np.allclose(u[:, 1], phase * one, atol=1e-10)


@pytest.mark.parametrize("shares", [(0, 1, 2), (4, 1, 3), (2, 0, 4)])
def test_decoder_moves_any_secret_onto_the_first_pooled_share(shares):
    """Decoding a|0_L> + b|1_L> on three shares leaves the first share in a|0> + b|1> (a pure
    reduced state), for an asymmetric secret a = 0.6, b = 0.8 e^(0.7 i)."""
    from qiskit.quantum_info import Operator, Statevector, partial_trace

    w = ss._decoder.__wrapped__(shares)
    assert np.allclose(w.conj().T @ w, np.eye(8), atol=1e-10)
    _, zero, one = _code()
    a, b = 0.6, 0.8 * np.exp(0.7j)
    out = Statevector(a * zero + b * one).evolve(Operator(w), qargs=list(shares))
    rho = partial_trace(out, [q for q in range(5) if q != shares[0]]).data
    secret = np.array([a, b])
    assert np.allclose(rho, np.outer(secret, secret.conj()), atol=1e-10)


def test_normaliser_table_gives_each_logical_class_with_its_phase():
    """64 strings (16 stabilisers x {I, X_L, Y_L, Z_L}); for each, string restricted to the code
    equals lam times the logical Pauli P in the basis {|0_L>, |1_L>}."""
    table = ss._normaliser_table.__wrapped__()
    assert len(table) == 64
    _, zero, one = _code()
    basis = np.stack([zero, one], axis=1)
    logical = [np.eye(2), _P["X"], _P["Y"], _P["Z"]]
    counts = [0, 0, 0, 0]
    for string, (p, lam) in table.items():
        restricted = basis.conj().T @ _pauli("".join("IXYZ"[c] for c in string)) @ basis
        assert np.allclose(restricted, lam * logical[p], atol=1e-10), (string, p, lam)
        counts[p] += 1
    assert counts == [16, 16, 16, 16]


# ---- SwappingResult's properties keep the result's confidence -----------------------------------
def test_swapping_fidelity_and_chsh_carry_the_results_confidence():
    """At confidence 0.9 (not the default): the fidelity without YY rounds is the vacuous
    [0, 1] at 0.9; the CHSH estimate S = E(Z,3) - E(Z,4) + E(X,3) + E(X,4) (A4) is normal with
    half-width z_0.95 sigma, sigma^2 = sum 4 p (1 - p)/N, p = (agree + 1)/(N + 2)."""
    from scipy import stats

    from qproto.protocols import Swapping
    from qproto.protocols._swapping import SwappingResult

    chsh_tallies = {(0, 3): (80, 70), (0, 4): (60, 15), (1, 3): (70, 60), (1, 4): (90, 80)}
    t = {"rounds": 1000, "heralded": 600, "kept": 500, "n_0_0": 100, "agree_0_0": 90, "n_1_1": 50, "agree_1_1": 40}
    for (a, b), (n, k) in chsh_tallies.items():
        t[f"n_{a}_{b}"], t[f"agree_{a}_{b}"] = n, k
    r = SwappingResult(protocol="swapping", parameters=Swapping().parameters(), channels=(Channel(), Channel()),
                       rounds=1000, seed=7, tallies=t, confidence=0.9)
    f = r.fidelity
    assert (f.low, f.high, f.confidence) == (0.0, 1.0, 0.9) and math.isnan(f.best)
    e = {ab: (2 * k - n) / n for ab, (n, k) in chsh_tallies.items()}
    s = e[(0, 3)] - e[(0, 4)] + e[(1, 3)] + e[(1, 4)]
    sigma = math.sqrt(sum(4 * ((k + 1) / (n + 2)) * (1 - (k + 1) / (n + 2)) / n for n, k in chsh_tallies.values()))
    z = stats.norm.ppf(0.95)
    c = r.chsh
    assert c.confidence == 0.9
    assert c.best == pytest.approx(s, rel=1e-12)
    assert (c.low, c.high) == pytest.approx((s - z * sigma, s + z * sigma), rel=1e-12)


def _swap_result(t, confidence=0.9):
    from qproto.protocols import Swapping
    from qproto.protocols._swapping import SwappingResult

    return SwappingResult(protocol="swapping", parameters=Swapping(f_ec=1.2).parameters(),
                          channels=(Channel(), Channel()), rounds=t["rounds"], seed=7, tallies=t, confidence=confidence)


def test_swapping_fidelity_with_data_is_normal_at_the_results_confidence():
    """F = (1 + E_XX - E_YY + E_ZZ)/4 (B) on XX 40/50, YY 5/40, ZZ 90/100 agreeing, with half-width
    z_0.95 sigma at confidence 0.9, sigma = sqrt(sum 4 p (1 - p)/N)/4, p = (agree + 1)/(N + 2)."""
    from scipy import stats

    nk = {(1, 1): (50, 40), (2, 2): (40, 5), (0, 0): (100, 90)}
    t = {"rounds": 1000, "heralded": 600, "kept": 500}
    for (a, b), (n, k) in nk.items():
        t[f"n_{a}_{b}"], t[f"agree_{a}_{b}"] = n, k
    e = {ab: (2 * k - n) / n for ab, (n, k) in nk.items()}
    f = (1 + e[(1, 1)] - e[(2, 2)] + e[(0, 0)]) / 4
    sigma = math.sqrt(sum(4 * ((k + 1) / (n + 2)) * (1 - (k + 1) / (n + 2)) / n for n, k in nk.values())) / 4
    z = stats.norm.ppf(0.95)
    est = _swap_result(t).fidelity
    assert est.confidence == 0.9 and est.best == pytest.approx(f, rel=1e-12)
    assert (est.low, est.high) == pytest.approx((f - z * sigma, f + z * sigma), rel=1e-12)


def test_swapping_key_rate_is_zero_without_data_in_one_basis():
    """BBM92 needs both error rates (one basis's errors set the other's privacy amplification):
    with ZZ rounds (E_Z = 0.05) but no XX round the phase error is unknown and the rate is 0, not NaN;
    with both (E_X = 0.1, f_EC = 1.2) it is n_ZZ/r [1 - h(E_X) - f h(E_Z)] + n_XX/r [1 - h(E_Z) - f h(E_X)]."""
    t = {"rounds": 1000, "heralded": 600, "kept": 500, "n_0_0": 200, "agree_0_0": 190}
    assert _swap_result(t).key_rate == 0.0
    t.update(n_1_1=100, agree_1_1=90)
    expected = 0.2 * (1 - h2(0.1) - 1.2 * h2(0.05)) + 0.1 * (1 - h2(0.05) - 1.2 * h2(0.1))
    assert _swap_result(t).key_rate == pytest.approx(expected, rel=1e-12)


def test_swapping_key_rate_f_ec_defaults_to_1_16():
    """A result whose parameters lack f_ec (a user's JSON) uses Swapping's default f_EC = 1.16."""
    from qproto.protocols import Swapping
    from qproto.protocols._swapping import SwappingResult

    t = {"rounds": 1000, "heralded": 600, "kept": 500, "n_0_0": 200, "agree_0_0": 190, "n_1_1": 100, "agree_1_1": 90}
    params = {k: v for k, v in Swapping().parameters().items() if k != "f_ec"}
    r = SwappingResult(protocol="swapping", parameters=params, channels=(Channel(), Channel()), rounds=1000,
                       seed=7, tallies=t)
    expected = 0.2 * (1 - h2(0.1) - 1.16 * h2(0.05)) + 0.1 * (1 - h2(0.05) - 1.16 * h2(0.1))
    assert r.key_rate == pytest.approx(expected, rel=1e-12)


def test_qsdc_does_not_abort_at_exactly_the_threshold():
    """The abort rule is "check QBER exceeds the threshold": 11 errors in 100 check rounds with
    qber_threshold 0.11 continue; 12 abort."""
    import dataclasses

    from qproto.protocols import QSDCTwoStep

    base = QSDCTwoStep(message=b"a").run((Channel(), Channel()), seed=3)
    t = dict(base.tallies, check1_rounds=100, check1_errors=11)
    r = dataclasses.replace(base, tallies=t, qber_threshold=0.11)
    assert r.check_qber.best == 0.11 and r.aborted is False
    assert dataclasses.replace(r, tallies=dict(t, check1_errors=12)).aborted is True


def test_trusted_relay_key_rate_carries_the_results_confidence():
    import dataclasses

    from qproto.protocols import TrustedRelay

    r = TrustedRelay(n_links=2).run((Channel(depolarisation=0.02), Channel(depolarisation=0.05)), rounds=400, seed=5)
    assert dataclasses.replace(r, confidence=0.9).key_rate.confidence == 0.9
