"""The end-to-end chain: identical keys, lengths from the measured leakage, aborts when it must."""

import json
import math

import numpy as np
import pytest

from qproto import Channel, InvalidParameter
from qproto.distill import DecoySettings, DistillResult, collect, distill, key_material
from qproto.protocols import DecoyBB84
from qproto.security import finite_key_length

CH = Channel(transmittance=0.4, depolarisation=0.05, noise_click=1e-4, rotation_rad=0.25,
             rotation_axis=(0.0, 1.0, 0.0))  # E_X != E_Z


@pytest.fixture(scope="module")
def bb84_key():
    return collect(key_material("bb84", CH, rounds=600_000, seed=21))


def h(q):
    return 0.0 if q <= 0 or q >= 1 else -q * math.log2(q) - (1 - q) * math.log2(1 - q)


def tomamichel_2012(n, k, e_x, leak, eps_sec, eps_cor):
    """Nat. Commun. 3, 634 (2012) Eqs. (2)-(3), written out here."""
    mu = math.sqrt((n + k) / (n * k) * (k + 1) / k * math.log(2 / eps_sec))
    if e_x + mu >= 0.5:
        return -math.inf
    return n * (1 - h(e_x + mu)) - leak - math.log2(2 / (eps_sec**2 * eps_cor))


def test_bb84_final_keys_identical_and_length_from_measured_leakage(bb84_key):
    r = distill(bb84_key, seed=5)
    assert r.aborted is None and r.verified and r.keys_identical and r.final_length > 1000
    ka, kb = r.final_keys()
    assert np.array_equal(ka, kb) and ka.size == r.final_length
    bound = tomamichel_2012(r.key_bits, r.phase_bits, r.phase_errors / r.phase_bits, r.leaked_bits, 1e-10, 1e-15)
    assert r.key_length_bound == pytest.approx(bound, rel=1e-12)
    assert r.final_length == math.floor(bound)
    assert r.leaked_bits >= r.key_bits * h(r.qber_key)  # never below the Shannon limit
    assert r.qber_phase.best != r.qber_test.best


def test_test_and_key_positions_are_disjoint_and_cover_the_sifted_key(bb84_key):
    r = distill(bb84_key, seed=6, test_fraction=0.2)
    assert np.intersect1d(r.test_positions, r.key_positions).size == 0
    assert np.array_equal(np.union1d(r.test_positions, r.key_positions), np.arange(r.sifted_bits))
    assert r.test_bits == math.ceil(0.2 * r.sifted_bits) and r.key_bits == r.sifted_bits - r.test_bits
    other = distill(bb84_key, seed=7, test_fraction=0.2)
    assert not np.array_equal(r.test_positions, other.test_positions)  # random, not the first bits


def test_failed_reconciliation_is_caught_by_verification(bb84_key):
    # One pass with two huge blocks corrects at most a couple of the ~thousand errors.
    r = distill(bb84_key, seed=5, ec_options={"block_sizes": (bb84_key.n_key,)})
    assert r.verified is False and r.aborted == "verification" and r.final_length == 0
    assert not r.keys_identical


def test_intercept_resend_aborts():
    key = collect(key_material("bb84", CH, rounds=200_000, seed=3, eavesdropper="intercept-resend"))
    r = distill(key, seed=1)
    assert r.aborted == "qber" and r.final_length == 0 and r.leaked_bits == 0
    assert r.qber_test.low > 0.2


def test_same_seed_same_result_and_round_trip(bb84_key):
    a, b = distill(bb84_key, seed=9), distill(bb84_key, seed=9)
    assert a == b and a.pa_seed == b.pa_seed
    assert DistillResult.from_dict(json.loads(json.dumps(a.to_dict(keys=True)))) == a
    d = a.to_dict()
    assert d["efficiency"] == pytest.approx(a.efficiency) and "alice_key_hex" not in d
    assert a.estimates()["final_length"] == a.final_length
    assert a.estimates()["qber_test"].successes == a.test_errors


def test_decoy_chain_bound_is_lim_2014_with_the_measured_leakage():
    ch = Channel(transmittance=10**-1.5, misalignment=0.015, noise_click=1e-6)
    proto = DecoyBB84(p_z=0.7, intensities=(0.6, 0.2, 0.0), probabilities=(0.6, 0.3, 0.1), tails="chernoff")
    key = collect(key_material(proto, ch, rounds=4 * 10**7, seed=12))
    r = distill(key, protocol="decoy-bb84", seed=3, decoy=DecoySettings.of(proto))
    assert r.keys_identical and r.final_length > 0
    kc = key.key_class[r.key_positions]
    n_z = np.bincount(kc, minlength=3).astype(float)
    err_x = key.alice_test != key.bob_test
    ref = finite_key_length(intensities=proto.intensities, probabilities=proto.probabilities, n_z=n_z,
                            n_x=np.bincount(key.test_class, minlength=3).astype(float),
                            m_x=np.bincount(key.test_class[err_x], minlength=3).astype(float),
                            qber_z=r.test_errors / r.test_bits, eps_sec=proto.eps_sec, eps_cor=proto.eps_cor,
                            lambda_ec=float(r.leaked_bits), tails="chernoff")
    assert r.key_length_bound == pytest.approx(float(ref.ell_unclipped), rel=1e-12)
    assert r.final_length == math.floor(float(ref.ell)) <= r.key_length_bound
    # more leakage, shorter key: the bound uses what was disclosed, not an assumed f_EC
    worse = finite_key_length(intensities=proto.intensities, probabilities=proto.probabilities, n_z=n_z,
                              n_x=np.bincount(key.test_class, minlength=3).astype(float),
                              m_x=np.bincount(key.test_class[err_x], minlength=3).astype(float),
                              qber_z=0.0, eps_sec=proto.eps_sec, eps_cor=proto.eps_cor,
                              lambda_ec=float(r.leaked_bits + 1000), tails="chernoff")
    assert float(worse.ell) == pytest.approx(r.key_length_bound - 1000, rel=1e-9)


def test_bad_parameters_are_named(bb84_key):
    for kw, name in [({"test_fraction": 0.0}, "test_fraction"), ({"qber_abort": 0.6}, "qber_abort"),
                     ({"eps_sec": 1.0}, "eps_sec"), ({"method": "turbo"}, "method"),
                     ({"decoy": DecoySettings((0.5, 0.1, 0.0), (0.7, 0.2, 0.1))}, "decoy")]:
        with pytest.raises(InvalidParameter) as exc:
            distill(bb84_key, seed=1, **kw)
        assert exc.value.name == name


def test_distill_pass_uses_the_pass_material_and_gives_identical_keys():
    from qproto.distill import distill_pass
    try:
        from qproto.passes import simulate_pass
    except ImportError:
        from qproto._pass import simulate_pass
    chans = [Channel(transmittance=t, misalignment=0.01, noise_click=1e-6) for t in (0.01, 0.03, 0.01)]
    proto = DecoyBB84(p_z=0.7, intensities=(0.6, 0.2, 0.0), probabilities=(0.6, 0.3, 0.1), tails="chernoff")
    r, used = distill_pass(channels=chans, protocol=proto, optimise=False, source_rate_hz=1.5e7, seed=4)
    assert used is proto and r.rounds == 3 * 15_000_000 and r.protocol == "decoy-bb84"
    sim = simulate_pass(proto, chans, source_rate_hz=1.5e7, seed=4)
    assert r.sifted_bits == sum(sim.window().counts.n_z)
    assert r.keys_identical and 0 < r.final_length <= r.key_length_bound
