"""The one result interface (issue: verification): estimates with intervals, proportions for the
checkers, a faithful to_dict/from_dict for every registered result type (a user's subclass
included), ``+`` that records its parts' seeds, and one ``run`` signature with executors."""

from __future__ import annotations

import concurrent.futures
import dataclasses
import inspect
import json
import math
from typing import Any, ClassVar

import pytest

from qproto import Channel, Engine, InvalidParameter, InvalidType, available_protocols, get_protocol
from qproto._entanglement import TallyResult
from qproto._protocol import Protocol
from qproto._results import Estimate, ProtocolResult, QKDResult, result_from_dict
from qproto.testing import (InvariantViolation, assert_matches_expected, assert_round_trip, compare_to_expected)

# One small, valid run per built-in protocol (asymmetric channels where a protocol takes several).
CHANNELS = [Channel(depolarisation=0.05 + 0.03 * i, transmittance=0.9 - 0.1 * i) for i in range(6)]


def small_run(name: str, *, seed: int, executor=None, rounds: int = 3000, chunk: int = 1000) -> ProtocolResult:
    proto = get_protocol(name)
    chans = CHANNELS[0] if proto.n_channels == 1 else tuple(CHANNELS[: proto.n_channels])
    return proto.run(chans, rounds=rounds, seed=seed, engine=Engine(chunk_size=chunk), executor=executor)


@pytest.mark.parametrize("name", available_protocols())
def test_every_protocol_has_one_run_signature(name):
    """Class 6: every protocol's run accepts the base keywords (decoy-bb84 and QSDC dropped executor)."""
    base = set(inspect.signature(Protocol.run).parameters)
    params = set(inspect.signature(type(get_protocol(name)).run).parameters)
    assert base <= params, f"{name}.run lacks {sorted(base - params)}"


@pytest.mark.parametrize("name", available_protocols())
def test_every_result_round_trips_records_its_seed_and_runs_in_any_executor(name):
    """Round trip through JSON, seeds recorded, proportions consistent with the estimates,
    and a thread pool gives the serial result exactly (chunks of 1000 rounds)."""
    serial = small_run(name, seed=11)
    assert serial.seeds == (11,)
    assert_round_trip(serial)
    assert result_from_dict(json.loads(json.dumps(serial.to_dict()))).seeds == (11,)
    est = serial.estimates()
    props = serial.proportions()
    assert props, f"{name} reports no sampled proportion"
    for key, (k, n) in props.items():
        assert 0 <= k <= n
        if n:
            assert est[key].best == pytest.approx(k / n, abs=0, rel=1e-12)
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        assert small_run(name, seed=11, executor=pool) == serial
    with pytest.raises(InvalidType, match="executor"):
        small_run(name, seed=11, executor="four workers")


def test_merge_records_the_parts_seeds_adds_tallies_and_refuses_shared_seeds():
    a, b, c = (get_protocol("bb84").run(Channel(depolarisation=0.1), rounds=2000, seed=s) for s in (1, 2, 3))
    ab = a + b
    assert ab.seeds == (1, 2) and ab.seed == 1 and ab.rounds == 4000
    assert ab.proportions()["qber"] == tuple(x + y for x, y in zip(a.proportions()["qber"], b.proportions()["qber"]))
    assert (a + b) + c == a + (b + c)
    assert ((a + b) + c).seeds == (1, 2, 3)
    assert_round_trip(ab)
    with pytest.raises(InvalidParameter, match="share seeds"):
        a + a
    with pytest.raises(InvalidParameter, match="share seeds"):
        ab + b
    other_channel = get_protocol("bb84").run(Channel(depolarisation=0.2), rounds=2000, seed=4)
    combined = a + other_channel  # different channels: each part kept (tests/test_combined_results.py)
    assert combined.parts == (a, other_channel) and combined.seeds == (a.seed, 4)
    assert a.__add__(3) is NotImplemented


def test_merged_result_replays_from_its_parts_seeds():
    bb84 = get_protocol("bb84", p_z=0.7)
    ch = Channel(depolarisation=0.1)
    merged = bb84.run(ch, rounds=1500, seed=21) + bb84.run(ch, rounds=1500, seed=22)
    replay = [bb84.run(ch, rounds=1500, seed=s) for s in merged.seeds]
    assert replay[0] + replay[1] == merged


# ---- a user's result type -----------------------------------------------------------------
@dataclasses.dataclass(frozen=True, kw_only=True)
class CoinResult(TallyResult):
    """A user's result: heads out of flips, plus a tuple-valued field."""

    TALLIES: ClassVar[tuple[str, ...]] = ("flips", "heads")
    bias_grid: tuple[float, ...] = (0.25, 0.5)

    def estimates(self) -> dict[str, Estimate | float | int | None]:
        return {"heads": self._binom("heads", "flips"), "flips": self.tallies["flips"]}


def _coin(heads: int, flips: int, seed: int) -> CoinResult:
    return CoinResult(protocol="coin", parameters={"bias": 0.5, "grid": [1, 2]}, channels=(Channel(),),
                      rounds=flips, seed=seed, tallies={"flips": flips, "heads": heads})


def test_a_user_subclass_gets_its_own_type_key_and_round_trips():
    assert CoinResult.TYPE.endswith(":CoinResult")
    assert ProtocolResult._TYPES["TallyResult"] is TallyResult  # not taken over by the subclass
    r = _coin(480, 1000, seed=7)
    assert r.parameters["grid"] == (1, 2)  # sequences are stored as tuples, so JSON round trips compare equal
    assert_round_trip(r)
    back = result_from_dict(json.loads(json.dumps(r.to_dict())))
    assert isinstance(back, CoinResult) and back.bias_grid == (0.25, 0.5)
    merged = r + _coin(510, 1000, seed=8)
    assert merged.tallies == {"flips": 2000, "heads": 990} and merged.seeds == (7, 8)


def test_checkers_accept_any_result_and_report_deviations_in_sigmas():
    r = _coin(600, 1000, seed=1)
    assert_matches_expected(r, {"heads": 0.6})
    (cmp,) = compare_to_expected(r, {"heads": 0.5})
    sigma = math.sqrt(0.25 / 1000)
    assert cmp.kind == "proportion" and cmp.trials == 1000
    assert cmp.deviation_sigmas == pytest.approx(0.1 / sigma)
    assert cmp.tolerance == pytest.approx(5 * sigma + 1e-3) and not cmp.passed
    with pytest.raises(InvariantViolation, match="heads"):
        assert_matches_expected(r, {"heads": 0.5})
    # an exact quantity is compared only when named, and exactly
    assert compare_to_expected(r, {"flips": 1000.0}) == []
    (exact,) = compare_to_expected(r, {"flips": 1000.0}, keys=["flips"])
    assert exact.kind == "exact" and exact.passed
    with pytest.raises(InvariantViolation):
        assert_matches_expected(r, {"flips": 999.0}, keys=["flips"])
    with pytest.raises(InvalidParameter, match="keys"):
        compare_to_expected(r, {"nothing": 0.5}, keys=["nothing"])
    with pytest.raises(InvalidType, match="result"):
        compare_to_expected({"heads": 1}, {"heads": 0.5})


def test_normal_estimates_are_checked_with_their_sigma():
    bbm92 = get_protocol("bbm92", chsh_fraction=0.5)
    r = bbm92.run(Channel(depolarisation=0.2), rounds=40_000, seed=3)
    chsh = r.estimates()["chsh"]
    assert chsh.sigma is not None and chsh.sigma > 0
    s0 = 2 * math.sqrt(2) * 0.8 ** 2  # Werner V = (1-p)^2 on both arms
    (cmp,) = compare_to_expected(r, {"chsh": s0}, keys=["chsh"])
    assert cmp.kind == "normal" and cmp.passed
    (bad,) = compare_to_expected(r, {"chsh": s0 + 10 * chsh.sigma}, keys=["chsh"])
    assert not bad.passed
    assert bad.deviation_sigmas == pytest.approx(abs(chsh.best - s0 - 10 * chsh.sigma) / chsh.sigma, rel=1e-12)


def test_estimate_carries_its_counts_and_round_trips():
    e = Estimate.binomial(3, 10)
    assert (e.successes, e.trials) == (3, 10) and e.is_proportion
    assert Estimate.from_dict(e.to_dict()) == e
    n = Estimate.normal(2.5, 0.1, confidence=0.95)
    assert n.sigma == 0.1 and n.low == pytest.approx(2.5 - 1.959964 * 0.1, rel=1e-6)
    assert Estimate.from_dict(json.loads(json.dumps(n.to_dict()))) == n
    for bad in (dict(successes=3), dict(successes=5, trials=4), dict(sigma=-1.0)):
        with pytest.raises(InvalidParameter):
            Estimate(0.0, 0.5, 1.0, **bad)


def test_bounds_are_named_for_their_transmittance():
    """'plob' meant four things; each key now says which transmittance it bounds."""
    eta = [0.5, 0.25]
    chans = tuple(Channel(transmittance=e) for e in eta)
    bb84 = get_protocol("bb84").run(chans[0], rounds=1000, seed=1).estimates()
    assert bb84["plob_min_eta"] == pytest.approx(1.0) and "plob" not in bb84
    bbm92 = get_protocol("bbm92").run(chans, rounds=1000, seed=1).estimates()
    assert bbm92["plob_min_eta"] == pytest.approx(-math.log2(0.75))
    mdi = get_protocol("mdi-qkd").run(chans, rounds=1000, seed=1).estimates()
    assert mdi["plob_product_eta"] == pytest.approx(-math.log2(1 - 0.125))
    relay = get_protocol("trusted-relay").run(chans, rounds=1000, seed=1).estimates()
    assert relay["plob_product_eta"] == pytest.approx(-math.log2(1 - 0.125))
    assert relay["plob_min_eta"] == pytest.approx(-math.log2(0.75))
    decoy = get_protocol("decoy-bb84").run(chans[1], rounds=10_000, seed=1).estimates()
    assert decoy["plob_slot_average"] == pytest.approx(-math.log2(0.75))


def test_qkd_result_is_rebuilt_with_its_counts_type():
    r = get_protocol("bb84").run(Channel(depolarisation=0.1), rounds=1000, seed=2)
    assert isinstance(r, QKDResult)
    d: dict[str, Any] = json.loads(json.dumps(r.to_dict()))
    assert d["type"] == "QKDResult" and d["seeds"] == [2]
    assert result_from_dict(d).counts == r.counts
