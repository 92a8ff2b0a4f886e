"""B92 (docs/conventions.md, "B92"): closed forms against an independent density-matrix
reference and against runs on rotated, lossy, noisy channels; qproto verify b92."""

from __future__ import annotations

import pytest
from _reference import apply, basis_kets, click_kraus, click_probability, dm, outcome_probabilities
from hypothesis import given, settings

from qproto import Channel, InvalidParameter, get_protocol
from qproto.cli import main
from qproto.protocols import B92
from qproto.testing import assert_matches_expected, rotated_channels, seeds

ROTATED = Channel(transmittance=0.4, depolarisation=0.05, noise_click=0.02, rotation_rad=0.7,
                  rotation_axis=(0.3, 1.0, 0.4))


def _reference(ch: Channel, p_bob_z: float) -> dict[str, float]:
    """B92 from density matrices: Alice's |0> / |+>, the click-conditioned map, Bob's Z or X."""
    kraus = click_kraus(ch)
    conclusive = {"Z": 0.0, "X": 0.0}
    wrong = {"Z": 0.0, "X": 0.0}
    for bit, ket in ((0, basis_kets("Z")[0]), (1, basis_kets("X")[0])):
        rho = apply(dm(ket), kraus, 0)
        for basis, bob_bit in (("Z", 1), ("X", 0)):
            p1 = outcome_probabilities(rho, [basis])[(1,)]  # outcome 1 is the conclusive one
            conclusive[basis] += p1 / 2
            if bob_bit != bit:
                wrong[basis] += p1 / 2
    q = p_bob_z
    c = q * conclusive["Z"] + (1 - q) * conclusive["X"]
    return {"detection_rate": click_probability(ch), "conclusive_rate": c,
            "sifted_rate": click_probability(ch) * c,
            "qber": (q * wrong["Z"] + (1 - q) * wrong["X"]) / c,
            "conclusive_rate_z": conclusive["Z"], "conclusive_rate_x": conclusive["X"],
            "qber_z": wrong["Z"] / conclusive["Z"], "qber_x": wrong["X"] / conclusive["X"]}


@pytest.mark.parametrize("ch", [Channel(), Channel(depolarisation=0.2), ROTATED,
                                Channel(misalignment=0.03, rotation_rad=1.1, rotation_axis=(1, 0, 0))])
@pytest.mark.parametrize("p_bob_z", [0.5, 0.8])
def test_closed_forms_equal_the_density_matrix_reference(ch, p_bob_z):
    """B45. catches: a wrong conclusive outcome, R_zx vs R_xz swapped, the basis weights swapped."""
    got = B92(p_bob_z=p_bob_z).expected(ch)
    for k, v in _reference(ch, p_bob_z).items():
        assert got[k] == pytest.approx(v, abs=1e-12), k


def test_ideal_channel_a_quarter_conclusive_and_no_error():
    """B46: on an ideal channel a quarter of the clicks are conclusive and none is wrong."""
    r = B92().run(Channel(), rounds=40_000, seed=3)
    assert r.tallies["errors_z"] == r.tallies["errors_x"] == 0
    assert r.conclusive_rate.contains(0.25) and r.detection_rate.best == 1.0


@settings(max_examples=4, deadline=None)
@given(ch=rotated_channels(), seed=seeds())
def test_runs_match_closed_forms_on_rotated_channels(ch, seed):
    """B46. catches: circuits that prepare or measure the wrong states (rotations make E_X != E_Z)."""
    proto = B92(p_bob_z=0.7)
    assert_matches_expected(proto.run(ch, rounds=30_000, seed=seed), proto.expected(ch))


def test_erasure_form_gives_the_same_statistics():
    proto = B92()
    assert_matches_expected(proto.run(ROTATED, rounds=30_000, seed=5, form="erasure"), proto.expected(ROTATED))


def test_bad_parameter_names_itself():
    with pytest.raises(InvalidParameter, match="p_bob_z"):
        get_protocol("b92", p_bob_z=1.0)


class _SwappedB92(B92):
    """A deliberately broken B92: Bob reads his conclusive Z outcome as bit 0."""

    name = "test-b92-swapped"

    def tally(self, r):
        t = super().tally(r)
        t["errors_z"] = t["conclusive_z"] - t["errors_z"]
        return t


def test_qproto_verify_b92_passes_and_catches_a_broken_variant(capsys):
    assert main(["verify", "b92", "--examples", "3", "--rounds", "6000", "--no-progress"]) == 0
    from qproto.testing import verify_protocol
    reports = {r.name: r for r in verify_protocol(_SwappedB92(), examples=2, rounds=6000).reports}
    assert not reports["closed-form"].passed and "qber_z" in reports["closed-form"].detail
    assert reports["reproducible"].passed


def test_a_process_pool_gives_the_serial_result():
    """The declarative base's chunks pickle: processes give exactly the serial run (same seed)."""
    from concurrent.futures import ProcessPoolExecutor

    from qproto import Engine

    proto, engine = B92(p_bob_z=0.6), Engine(chunk_size=7000)
    serial = proto.run(ROTATED, rounds=20_000, seed=8, engine=engine)
    with ProcessPoolExecutor(2) as pool:
        assert proto.run(ROTATED, rounds=20_000, seed=8, engine=engine, executor=pool) == serial


def test_no_closed_form_is_claimed_with_an_eavesdropper():
    """B92's closed forms assume no eavesdropper: asked with one, expected() says so instead of
    returning the clean-channel values (kills the eavesdropper not looked at)."""
    from qproto import InterceptResend

    with pytest.raises(NotImplementedError, match="eavesdropper"):
        B92().expected(Channel(), eavesdropper=InterceptResend(fraction=0.5))
