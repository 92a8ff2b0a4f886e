"""The declarative protocol API: a user protocol of about forty lines registers, runs, round-trips
and passes ``qproto verify``; the base's draws, analysis and errors."""

from __future__ import annotations

import concurrent.futures
import inspect
import json

import numpy as np
import pytest
from qiskit import QuantumCircuit

from qproto import (Channel, DeclarativeProtocol, Engine, InvalidParameter, Parameter, QprotoError, get_protocol,
                    register_protocol, result_from_dict)
from qproto.cli import main
from qproto.testing import assert_matches_expected, assert_proportion


# ---- a user's protocol: BB84 in the Z and Y bases, written against the public API only ----------
@register_protocol
class ZYKey(DeclarativeProtocol):
    """BB84 with the Z and Y bases (circular polarisation instead of diagonal)."""

    name = "test-zy-key"
    CHOICES = {"alice_basis": 2, "bit": 2, "bob_basis": 2}       # 0 = Z, 1 = Y
    CHANNELS = (0,)                                               # qubit 0 crosses the channel
    PARAMETERS = {"p_z": Parameter(0.5, 0.0, 1.0, lo_open=True, hi_open=True)}

    def probabilities(self):
        return {"alice_basis": (self.p_z, 1 - self.p_z), "bob_basis": (self.p_z, 1 - self.p_z)}

    def circuit(self, qc, c):
        if c.bit:
            qc.x(0)
        if c.alice_basis:
            qc.h(0)
            qc.s(0)                                               # |+i>, |-i>
        c.send(qc)
        if c.bob_basis:
            qc.sdg(0)
            qc.h(0)

    def tally(self, r):
        sifted = r.clicked & (r.alice_basis == r.bob_basis)
        wrong = sifted & (r.measured(0) != r.bit)
        return {"clicked": r.count(r.clicked),
                **{f"sifted_{b}": r.count(sifted & (r.alice_basis == i)) for i, b in enumerate("zy")},
                **{f"errors_{b}": r.count(wrong & (r.alice_basis == i)) for i, b in enumerate("zy")}}

    def estimates(self, res):
        return {"detection_rate": res.binomial("clicked", "rounds"),
                "sifted_fraction": res.binomial(res.tallies["sifted_z"] + res.tallies["sifted_y"], "clicked"),
                "qber_z": res.binomial("errors_z", "sifted_z"), "qber_y": res.binomial("errors_y", "sifted_y")}

    def expected(self, channel, *, eavesdropper=None):
        return {"detection_rate": channel.detection_probability, "sifted_fraction": self.p_z**2 + (1 - self.p_z)**2,
                "qber_z": channel.qber_z, "qber_y": channel.qber_y}
# ------------------------------------------------------------------------------------------------------

CH = Channel(transmittance=0.5, depolarisation=0.03, noise_click=0.01, rotation_rad=0.7, rotation_axis=(0.2, 1, 0))


def test_the_user_protocol_is_about_forty_lines():
    assert len(inspect.getsource(ZYKey).splitlines()) <= 45


def test_registered_with_its_parameters_and_validated():
    proto = get_protocol("test-zy-key", p_z=0.7)
    assert isinstance(proto, ZYKey) and proto.parameters() == {"p_z": 0.7} and repr(proto) == "ZYKey(p_z=0.7)"
    with pytest.raises(InvalidParameter, match="p_z"):
        get_protocol("test-zy-key", p_z=1.0)
    with pytest.raises(InvalidParameter, match="unknown parameter"):
        get_protocol("test-zy-key", p_x=0.3)


def test_runs_match_its_closed_forms_and_round_trip():
    """A rotation about (nearly) y makes E_Y << E_Z = E_X, so a Y preparation mistaken for X would fail."""
    proto = ZYKey(p_z=0.7)
    r = proto.run(CH, rounds=60_000, seed=4)
    assert abs(CH.qber_y - CH.qber_z) > 0.05
    assert_matches_expected(r, proto.expected(CH))
    back = result_from_dict(json.loads(json.dumps(r.to_dict())))
    assert back == r and back.qber_y == r.qber_y and back.estimates() == r.estimates()
    merged = r + proto.run(CH, rounds=10_000, seed=5)
    assert merged.seeds == (4, 5) and merged.rounds == 70_000
    assert merged.tallies["clicked"] == r.tallies["clicked"] + proto.run(CH, rounds=10_000, seed=5).tallies["clicked"]


def test_a_misspelt_tally_name_is_an_error_not_a_zero():
    r = ZYKey().run(CH, rounds=1000, seed=1)
    with pytest.raises(InvalidParameter, match="sifted_q"):
        r.binomial("errors_z", "sifted_q")
    assert r.binomial("clicked", "rounds").trials == 1000 and r.count(7) == 7


def test_seeds_chunks_and_executors():
    proto, engine = ZYKey(), Engine(chunk_size=3000)
    serial = proto.run(CH, rounds=10_000, seed=8, engine=engine)
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        assert proto.run(CH, rounds=10_000, seed=8, engine=engine, executor=pool) == serial
    assert proto.run(CH, rounds=10_000, seed=8, engine=engine) == serial
    assert proto.run(CH, rounds=10_000, seed=9, engine=engine) != serial


def test_erasure_form_matches_the_closed_forms():
    proto = ZYKey(p_z=0.4)
    assert_matches_expected(proto.run(CH, rounds=30_000, seed=6, form="erasure"), proto.expected(CH))


def test_qproto_run_takes_the_declared_parameters(capsys):
    assert main(["run", "test-zy-key", "--param", "p_z=0.7", "--rounds", "5000", "--seed", "1", "--json",
                 "--no-progress"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["parameters"] == {"p_z": 0.7} and out["tallies"]["clicked"] == 5000
    out.pop("expected", None)  # the CLI adds the closed forms next to the result
    assert result_from_dict(out) == ZYKey(p_z=0.7).run(Channel(), rounds=5000, seed=1)


def test_qproto_verify_passes_on_the_user_protocol(capsys):
    assert main(["verify", "test-zy-key", "--examples", "3", "--rounds", "6000", "--no-progress"]) == 0
    assert "all invariants hold" in capsys.readouterr().out


def test_qproto_verify_catches_a_wrong_closed_form():
    """A sifting closed form that is right only for unbiased bases (2 p (1 - p) is the *mismatched*
    share): invisible at p_z = 1/2, caught by verify on a biased instance."""
    class Wrong(ZYKey):
        name = "test-zy-key-wrong"

        def expected(self, channel, *, eavesdropper=None):
            return {**super().expected(channel), "sifted_fraction": 2 * self.p_z * (1 - self.p_z)}  # the bug

    from qproto.testing import verify_protocol
    unbiased = Wrong(p_z=0.5)
    assert_matches_expected(unbiased.run(CH, rounds=20_000, seed=1), unbiased.expected(CH))  # the bug hides
    reports = {r.name: r for r in verify_protocol(Wrong(p_z=0.8), examples=3, rounds=6000).reports}
    assert not reports["closed-form"].passed and "sifted_fraction" in reports["closed-form"].detail
    assert reports["executor"].passed and reports["merge"].passed  # the unregistered variant still runs


# ---- the base ----------------------------------------------------------------------------------------
class _Dice(DeclarativeProtocol):
    """Three correlated-free choices with non-uniform distributions; nothing quantum to see."""

    name = "test-dice"
    CHOICES = {"die": 3, "coin": 2}
    CHANNELS = (0,)

    def probabilities(self):
        return {"die": (0.2, 0.5, 0.3), "coin": (0.9, 0.1)}

    def circuit(self, qc, c):
        if c.coin:
            qc.x(0)
        c.send(qc)

    def tally(self, r):
        return {**{f"die{k}": r.count(r.die == k) for k in range(3)}, "coin": r.count(r.coin == 1),
                "ones": r.count(r.clicked & (r.measured(0) == 1)), "clicked": r.count(r.clicked)}

    def estimates(self, res):
        return {}


def test_choices_follow_their_probabilities_and_the_histogram_equals_a_per_round_tally():
    proto = _Dice()
    rec = proto.sample(Channel(transmittance=0.5), rounds=50_000, seed=2)
    t = proto.analyse(rec)
    assert t == proto.tally(rec.view())  # grouping by configuration changes nothing
    for k, p in enumerate((0.2, 0.5, 0.3)):
        assert_proportion(t[f"die{k}"], 50_000, p, what=f"die = {k}")
    assert_proportion(t["coin"], 50_000, 0.1, what="coin")
    assert t["ones"] == int(((rec.config % 2 == 1) & rec.detected).sum())  # a lossy but noiseless channel
    assert_proportion(t["clicked"], 50_000, 0.5, what="clicks")


def test_definition_errors_name_what_is_wrong():
    with pytest.raises(InvalidParameter, match="CHOICES"):
        type("Bad", (DeclarativeProtocol,), {"name": "bad", "CHOICES": {"x": 0}})
    with pytest.raises(InvalidParameter, match="CHOICES"):
        type("Bad", (DeclarativeProtocol,), {"name": "bad", "CHOICES": {"clicked": 2}})
    with pytest.raises(InvalidParameter, match="CHANNELS"):
        type("Bad", (DeclarativeProtocol,), {"name": "bad", "QUBITS": 1, "CHANNELS": (0, 1)})

    class NoSend(_Dice):
        def circuit(self, qc, c):
            qc.x(0)

    with pytest.raises(QprotoError, match="c.send"):
        NoSend().build_circuits()

    class BadProbabilities(_Dice):
        def probabilities(self):
            return {"die": (0.5, 0.6, 0.1)}

    with pytest.raises(InvalidParameter, match="die"):
        BadProbabilities().run(Channel(), rounds=10, seed=0)


def test_two_channels_and_the_eavesdropper_on_its_channel():
    """A pair source: qubit 0 to Alice, qubit 1 to Bob; intercept-resend on Bob's arm in Z
    leaves Z correlations alone and X correlations at 1/2."""

    class Pair(DeclarativeProtocol):
        name = "test-pair"
        CHOICES = {"basis": 2}
        QUBITS = 2
        CHANNELS = (0, 1)
        EAVESDROPPER_CHANNEL = 1

        def circuit(self, qc: QuantumCircuit, c):
            qc.h(0)
            qc.cx(0, 1)
            c.send(qc)
            if c.basis:
                qc.h(0)
                qc.h(1)

        def tally(self, r):
            same = r.measured(0) == r.measured(1)
            return {f"{b}{k}": r.count(r.clicked & (r.basis == i) & (same if k == "_agree" else True))
                    for i, b in enumerate("zx") for k in ("", "_agree")}

        def estimates(self, res):
            return {}

    from qproto import InterceptResend

    eve = InterceptResend(fraction=1.0, p_z=1.0)  # always measures Z
    rec = Pair().sample(Channel(), rounds=20_000, seed=1, eavesdropper=eve)
    t = Pair().analyse(rec)
    assert t["z_agree"] == t["z"] > 0
    assert_proportion(t["x_agree"], t["x"], 0.5, what="X agreement under a Z attack")
    # Eve's record is Bob's qubit's Z value before his channel: it equals both Z outcomes.
    view = rec.view()
    z = view.basis == 0
    assert np.array_equal(view.eve_bit[z], view.measured(1)[z]) and view.attacked.all()


def test_the_write_your_own_protocol_guide_runs():
    """docs/write-your-own-protocol.md: its class (sections 1-4) runs, matches its closed forms,
    passes verify, and its hypothesis test passes."""
    import pathlib
    import re

    from qproto.testing import verify_protocol

    text = (pathlib.Path(__file__).resolve().parent.parent / "docs" / "write-your-own-protocol.md").read_text()
    blocks = re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)
    namespace: dict = {"__name__": "guide"}
    exec("\n".join(blocks[:4]), namespace)
    exec(blocks[4], namespace)
    assert abs(namespace["result"].qber.best - namespace["b92"].expected(namespace["ch"])["qber"]) < 0.02
    exec(blocks[5], namespace)
    namespace["test_my_b92"]()
    assert verify_protocol(namespace["MyB92"](p_bob_z=0.7), examples=2, rounds=6000).passed


class _BellRelay(DeclarativeProtocol):
    """Two senders, one relay: each sends a Z or X state (the same basis), the relay Bell-measures
    (cx, h) and a xor b is read from the parity bit (Z) or the phase bit (X) (docs/conventions.md A5)."""

    name = "test-bell-relay"
    CHOICES = {"a": 2, "b": 2, "basis": 2}
    QUBITS = 2
    CHANNELS = (0, 1)
    NOISE_CLICKS = "mixed-state"

    def circuit(self, qc, c):
        for q, bit in ((0, c.a), (1, c.b)):
            if bit:
                qc.x(q)
            if c.basis:
                qc.h(q)
        c.send(qc)
        qc.cx(0, 1)
        qc.h(0)

    def tally(self, r):
        read = np.where(r.basis == 0, r.measured(1), r.measured(0))
        wrong = r.clicked & (read != (r.a ^ r.b))
        return {"clicked": r.count(r.clicked), **{f"{b}": r.count(r.clicked & (r.basis == i)) for i, b in enumerate("zx")},
                **{f"errors_{b}": r.count(wrong & (r.basis == i)) for i, b in enumerate("zx")}}

    def estimates(self, res):
        return {"detection_rate": res.binomial("clicked", "rounds"), "qber_z": res.binomial("errors_z", "z"),
                "qber_x": res.binomial("errors_x", "x")}

    def expected(self, channel, *, eavesdropper=None):
        ch_a, ch_b = channel
        e = (1 - (1 - ch_a.effective_depolarisation) * (1 - ch_b.effective_depolarisation)) / 2
        return {"detection_rate": ch_a.detection_probability * ch_b.detection_probability, "qber_z": e, "qber_x": e}


RELAY_LEGS = (Channel(transmittance=0.3, depolarisation=0.02, noise_click=0.05),
              Channel(transmittance=0.6, misalignment=0.03, noise_click=0.01))


def test_noise_clicks_as_mixed_states_for_a_relay():
    """A noise click on Alice's leg must randomise the relay's parity too: the mixed-state model gets
    A5's error rate; the random-bit model (right for direct measurements) would randomise only the
    phase bit of qubit 0, and misses it in Z."""
    from qproto.testing import compare_to_expected

    relay = _BellRelay()
    assert_matches_expected(relay.run(RELAY_LEGS, rounds=60_000, seed=2), relay.expected(RELAY_LEGS))

    class RandomBitRelay(_BellRelay):
        NOISE_CLICKS = "random-bit"

    wrong = RandomBitRelay().run(RELAY_LEGS, rounds=60_000, seed=2)
    failed = {c.name.split()[-1] for c in compare_to_expected(wrong, relay.expected(RELAY_LEGS)) if not c.passed}
    assert any("qber_z" in name for name in failed), failed
    with pytest.raises(InvalidParameter, match="form"):
        relay.run(RELAY_LEGS, rounds=100, seed=0, form="erasure")


def test_importing_qproto_does_not_load_qiskit():
    """qproto's public names load on first use, so `import qproto` (and `qproto --help`) stays light."""
    import subprocess
    import sys

    code = ("import sys, qproto; assert 'qiskit' not in sys.modules, 'qiskit imported'; "
            "from qproto import Channel; Channel(); print(sorted(set(qproto.__all__) - set(dir(qproto))))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
