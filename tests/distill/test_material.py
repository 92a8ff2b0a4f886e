"""Streamed key material replays the run's rounds: its counts are the run's tallies."""

import math

import numpy as np
import pytest

from qproto import Channel, Engine, InvalidParameter, get_protocol
from qproto.distill import KeyChunk, collect, key_material, pass_key_material
from qproto.protocols import DecoyBB84

# Asymmetric: lossy, noisy, noise clicks, a rotation so that E_X != E_Z.
CH = Channel(transmittance=0.3, depolarisation=0.05, noise_click=1e-3, rotation_rad=0.3,
             rotation_axis=(0.0, 1.0, 0.0))
SMALL = Engine(chunk_size=7_919)  # several chunks, an uneven last one


@pytest.mark.parametrize("name", ["bb84", "bbm92", "mdi-qkd"])
def test_material_counts_are_the_runs_tallies(name):
    rounds = 40_000
    proto = get_protocol(name)
    r = proto.run(CH, rounds=rounds, seed=11, engine=SMALL)
    chunks = list(key_material(proto, CH, rounds=rounds, seed=11, engine=SMALL))
    assert [c.index for c in chunks] == list(range(math.ceil(rounds / SMALL.chunk_size)))
    assert sum(c.rounds for c in chunks) == rounds
    s = collect(chunks)
    e = r.estimates()
    assert (s.n_key, int(np.count_nonzero(s.alice != s.bob))) == (e["qber_z"].trials, e["qber_z"].successes)
    assert (s.n_test, int(np.count_nonzero(s.alice_test != s.bob_test))) == (e["qber_x"].trials,
                                                                             e["qber_x"].successes)
    assert e["qber_z"].successes != e["qber_x"].successes  # the bases are told apart


def test_ghz_material_counts_each_bob_and_the_x_parity():
    proto = get_protocol("ghz-cka", parties=3)
    r = proto.run(CH, rounds=30_000, seed=5, engine=SMALL)
    e = r.estimates()
    for party in (1, 2):
        s = collect(key_material(proto, CH, rounds=30_000, seed=5, engine=SMALL, party=party))
        assert int(np.count_nonzero(s.alice != s.bob)) == e[f"qber_ab_{party}"].successes
        assert s.n_key == e[f"qber_ab_{party}"].trials
    assert (s.n_test, int(np.count_nonzero(s.alice_test != s.bob_test))) == (e["qber_x"].trials,
                                                                             e["qber_x"].successes)
    with pytest.raises(InvalidParameter, match="party"):
        list(key_material(proto, CH, rounds=100, seed=5, party=3))


def test_decoy_material_per_intensity_equals_the_run():
    ch = Channel(transmittance=0.02, depolarisation=0.03, noise_click=1e-4)
    proto = DecoyBB84()
    r = proto.run(ch, rounds=10**8, seed=8)
    s = collect(key_material(proto, ch, rounds=10**8, seed=8))
    err_z = s.alice != s.bob
    err_x = s.alice_test != s.bob_test
    assert tuple(np.bincount(s.key_class, minlength=3)) == r.counts.n_z
    assert tuple(np.bincount(s.key_class[err_z], minlength=3)) == r.counts.m_z
    assert tuple(np.bincount(s.test_class, minlength=3)) == r.counts.n_x
    assert tuple(np.bincount(s.test_class[err_x], minlength=3)) == r.counts.m_x


def test_pass_material_equals_simulate_pass_slot_by_slot():
    try:
        from qproto.passes import simulate_pass
    except ImportError:
        from qproto._pass import simulate_pass
    chans = (Channel(transmittance=1e-3, noise_click=1e-6, misalignment=0.01),
             Channel(transmittance=3e-3, noise_click=1e-6, misalignment=0.02),
             Channel(transmittance=1e-3, noise_click=1e-6, misalignment=0.01))
    proto = DecoyBB84()
    res = simulate_pass(proto, list(chans), source_rate_hz=1e8, seed=4)
    chunks = list(pass_key_material(proto, chans, source_rate_hz=1e8, seed=4))
    assert len(chunks) == 3
    for c, t in zip(chunks, res.slot_counts):
        a, b = c.key_bits()
        assert tuple(np.bincount(c.key_class, minlength=3)) == t.n_z
        assert tuple(np.bincount(c.key_class[a != b], minlength=3)) == t.m_z
        ta, tb = c.test_bits()
        assert tuple(np.bincount(c.test_class[ta != tb], minlength=3)) == t.m_x


def test_chunks_are_packed_and_reproducible():
    a = list(key_material("bb84", CH, rounds=20_000, seed=3, engine=SMALL))
    b = list(key_material("bb84", CH, rounds=20_000, seed=3, engine=SMALL))
    c = list(key_material("bb84", CH, rounds=20_000, seed=4, engine=SMALL))
    for x, y in zip(a, b):
        assert np.array_equal(x.alice_key, y.alice_key) and np.array_equal(x.bob_test, y.bob_test)
    assert not all(np.array_equal(x.alice_key, y.alice_key) for x, y in zip(a, c))
    for x in a:
        assert x.alice_key.dtype == np.uint8 and x.alice_key.size == math.ceil(x.n_key / 8)
        assert x.nbytes <= 4 * math.ceil(max(x.n_key, x.n_test) / 8)
        ka, kb = x.key_bits()
        assert np.array_equal(np.packbits(ka), x.alice_key) and x.key_errors == int(np.count_nonzero(ka != kb))


def test_decoy_positions_are_shuffled_not_grouped_by_cell():
    ch = Channel(transmittance=0.05, noise_click=1e-4)
    s = collect(key_material(DecoyBB84(), ch, rounds=2 * 10**6, seed=2))
    # Alice's bits in cell order would be runs of 0s then 1s; shuffled, runs average about 2.
    runs = 1 + int(np.count_nonzero(np.diff(s.alice.astype(np.int8))))
    assert runs > 0.4 * s.n_key


def test_unsupported_protocol_and_bad_rounds():
    with pytest.raises(InvalidParameter, match="teleportation"):
        list(key_material("teleportation", CH, rounds=10))
    with pytest.raises(InvalidParameter, match="rounds"):
        list(key_material("bb84", CH, rounds=0))
    assert KeyChunk.from_bits(0, 1, (np.zeros(0, np.uint8),) * 2, (np.zeros(0, np.uint8),) * 2).n_key == 0


def test_trusted_relay_material_is_each_links_bb84_record():
    proto = get_protocol("trusted-relay", n_links=2)
    chans = (CH, Channel(transmittance=0.6, depolarisation=0.12))
    r = proto.run(chans, rounds=20_000, seed=6, engine=SMALL)
    for i in (0, 1):
        s = collect(key_material(proto, chans, rounds=20_000, seed=6, engine=SMALL, link=i))
        e = r.link_result(i).estimates()
        assert (s.n_key, int(np.count_nonzero(s.alice != s.bob))) == (e["qber_z"].trials, e["qber_z"].successes)
        assert (s.n_test, int(np.count_nonzero(s.alice_test != s.bob_test))) == (e["qber_x"].trials,
                                                                                 e["qber_x"].successes)
    with pytest.raises(InvalidParameter, match="link"):
        list(key_material(proto, chans, rounds=100, seed=6, link=2))
