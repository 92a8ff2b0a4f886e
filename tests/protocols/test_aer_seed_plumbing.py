"""Every protocol hands its chunk's Aer seed to the engine (docs/conventions.md section 0, seeds).

The distribution path draws from the numpy generator only, so a protocol that dropped or
replaced the Aer seed would pass every statistical test run there, and only a shots-mode run
(``Engine(mode="shots")``, or circuits beyond the distribution path's width) would show it: every
chunk would then reuse one Aer seed (chunks correlated) or none (not reproducible). These tests
spy on the engine's sampling calls and check what arrives.
"""

import numpy as np
import pytest

from qproto import Channel, Engine, available_protocols, get_protocol
from qproto._engine import CompiledConfigurations


def _spy(monkeypatch):
    seen = []
    for name in ("sample_trusted", "sample_bits"):
        original = getattr(CompiledConfigurations, name)

        def wrapper(self, config_ids, rng, *, aer_seed=0, _original=original, **kw):
            seen.append(aer_seed)
            return _original(self, config_ids, rng, aer_seed=aer_seed, **kw)

        monkeypatch.setattr(CompiledConfigurations, name, wrapper)
    return seen


@pytest.mark.parametrize("name", available_protocols())
def test_the_chunks_aer_seed_reaches_every_engine_call(name, monkeypatch):
    """For each registered protocol, `sample(seed=s)` passes an Aer seed derived from s (the
    chunk's, offset per link where a protocol compiles several) to every sampling call: never
    None, never the default 0, and another seed gives other Aer seeds.

    catches: `aer_seed` dropped (the default 0 in every chunk) or replaced by None in a
    protocol's sample_chunk."""
    protocol = get_protocol(name)
    chans = [Channel(depolarisation=0.05, transmittance=0.8)] * protocol.n_channels
    seen = _spy(monkeypatch)
    by_seed = {}
    for seed in (1, 2):
        seen.clear()
        protocol.sample(chans, rounds=400, seed=seed)
        assert seen, f"{name}: no engine call recorded"
        assert all(isinstance(s, int) for s in seen), f"{name}: aer_seed values {seen[:4]}"
        assert 0 not in seen, f"{name}: the default Aer seed 0 arrived ({seen[:4]})"
        by_seed[seed] = set(seen)
    assert by_seed[1].isdisjoint(by_seed[2]), name


def test_trusted_relay_links_use_different_aer_seeds_and_the_shots_path_reproduces(monkeypatch):
    """Each link of a trusted-relay chain samples with its own Aer seed (identical links would
    otherwise draw identical shot sequences on the shots path); a shots-mode run is reproducible.

    catches: the per-link offset dropped, a None seed (Aer then seeds itself at random)."""
    from qproto.protocols import TrustedRelay

    relay = TrustedRelay(n_links=3)
    chans = [Channel(depolarisation=0.1)] * 3
    seen = _spy(monkeypatch)
    relay.sample(chans, rounds=300, seed=5)
    assert len(seen) == 3 and len(set(seen)) == 3
    monkeypatch.undo()
    shots = Engine(mode="shots")
    a = relay.run(chans, rounds=300, seed=5, engine=shots)
    b = relay.run(chans, rounds=300, seed=5, engine=shots)
    assert a.tallies == b.tallies
    t = a.tallies
    assert np.isclose((t["link0.errors_z"] + t["link0.errors_x"]) / (t["link0.sifted_z"] + t["link0.sifted_x"]),
                      0.05, atol=0.06)
