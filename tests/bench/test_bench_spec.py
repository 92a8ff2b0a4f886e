"""Declared sweeps: expansion of grids, zips and defaults, derived axes, link presets, errors."""

import math

import pytest

from qproto import Channel, InvalidParameter, InvalidType, QprotoError, get_protocol
from qproto.bench import Block, Sweep
from qproto.noise_models import get_link


def test_grid_is_the_product_in_order_and_zip_varies_together():
    s = Sweep(blocks=[Block(fixed={"protocol": "bb84", "rounds": 10},
                            grid={"seed": [1, 2], "loss_db": [0, 1, 2]},
                            zip={"channel.depolarisation": [0.0, 0.1], "channel.misalignment": [0.01, 0.02]})])
    pts = list(s.points())
    assert s.size() == len(pts) == 2 * 3 * 2
    # zipped keys always appear in their pairs, never crossed
    assert {(p["channel.depolarisation"], p["channel.misalignment"]) for p in pts} == {(0.0, 0.01), (0.1, 0.02)}
    # every (seed, loss, zip-pair) combination appears exactly once
    assert len({(p["seed"], p["loss_db"], p["channel.depolarisation"]) for p in pts}) == 12
    # the first grid key varies slowest
    assert [p["seed"] for p in pts] == [1] * 6 + [2] * 6
    assert all(p["protocol"] == "bb84" and p["rounds"] == 10 for p in pts)


def test_several_zip_groups_are_crossed_with_each_other():
    b = Block(fixed={"protocol": "bb84", "rounds": 10, "seed": 0},
              zip=[{"loss_db": [0, 1], "channel.misalignment": [0.0, 0.1]},
                   {"channel.depolarisation": [0.0, 0.2, 0.4]}])
    assert b.size() == 6
    assert len({(p["loss_db"], p["channel.depolarisation"]) for p in b.points()}) == 6


def test_defaults_apply_unless_the_block_sets_the_key():
    s = Sweep.from_dict({"defaults": {"protocol": "bb84", "rounds": 100, "seed": 3},
                         "sweep": [{"fixed": {"rounds": 50}}, {"grid": {"seed": [8, 9]}}]})
    pts = list(s.points())
    assert [(p["rounds"], p["seed"]) for p in pts] == [(50, 3), (100, 8), (100, 9)]


def test_dotted_keys_and_nested_tables_are_the_same_toml():
    a = Sweep.loads('[[sweep]]\nfixed = { protocol = "ghz-cka", rounds = 10, seed = 1 }\n'
                    'grid = { param.parties = [3, 4] }\n')
    b = Sweep.loads('[[sweep]]\nfixed = { protocol = "ghz-cka", rounds = 10, seed = 1 }\n'
                    '[sweep.grid.param]\nparties = [3, 4]\n')
    assert a == b
    assert [t.parameters["parties"] for t in a.tasks()] == [3, 4]


def test_toml_round_trip():
    s = Sweep.from_dict({"name": "rt", "description": "d", "defaults": {"rounds": 10, "seed": 1},
                         "sweep": [{"fixed": {"protocol": "bb84"}, "grid": {"loss_db": [0, 5]},
                                    "zip": [{"channel.misalignment": [0.0, 0.01], "form": ["fast", "erasure"]}]}],
                         "report": {"x": "loss_db", "y": "qber", "logy": True}})
    assert Sweep.loads(s.to_toml()) == s
    assert [t.id for t in Sweep.loads(s.to_toml()).tasks()] == [t.id for t in s.tasks()]


@pytest.mark.parametrize("loss_db", [0.0, 3.0, 10.0, 27.5])
def test_loss_db_is_transmittance_ten_to_minus_loss_over_ten(loss_db):
    s = Sweep.from_dict({"defaults": {"protocol": "bb84", "rounds": 10, "seed": 1},
                         "sweep": [{"fixed": {"loss_db": loss_db, "channel.misalignment": 0.03}}]})
    (task,) = s.tasks()
    ch = task.channels[0]
    assert ch["transmittance"] == pytest.approx(10 ** (-loss_db / 10), rel=1e-12)
    assert ch["misalignment"] == 0.03 and ch["depolarisation"] == 0.0


def test_qber_axis_sets_depolarisation_twice_the_qber():
    s = Sweep.from_dict({"defaults": {"protocol": "bb84", "rounds": 10, "seed": 1},
                         "sweep": [{"grid": {"qber": [0.0, 0.05, 0.11]}}]})
    assert [t.channels[0]["depolarisation"] for t in s.tasks()] == pytest.approx([0.0, 0.1, 0.22])


def test_link_preset_at_elevation_matches_the_link_itself():
    s = Sweep.from_dict({"defaults": {"protocol": "bbm92", "rounds": 10, "seed": 1},
                         "sweep": [{"grid": {"link": ["haps-ground", "leo-haps"], "elevation_deg": [30, 90]}}]})
    tasks = list(s.tasks())
    assert len(tasks) == 4
    for t in tasks:
        want = get_link(t.point["link"]).channel(elevation_deg=t.point["elevation_deg"]).to_dict()
        # bbm92 has two channel uses; both get the link's channel
        assert list(t.channels) == [want, want]


def test_link_overrides_and_channel_overrides():
    s = Sweep.from_dict({"defaults": {"protocol": "bb84", "rounds": 10, "seed": 1},
                         "sweep": [{"fixed": {"link": "haps-ground", "elevation_deg": 60,
                                              "override.rx_aperture_m": 0.05, "channel.depolarisation": 0.04}}]})
    (t,) = s.tasks()
    link = get_link("haps-ground").replace(rx_aperture_m=0.05)
    want = link.channel(elevation_deg=60).replace(depolarisation=0.04).to_dict()
    assert t.channels[0] == want
    # the override matters: a smaller aperture collects less light than the preset's
    assert t.channels[0]["transmittance"] < get_link("haps-ground").channel(elevation_deg=60).transmittance


def test_link_without_elevation_uses_its_nominal_one_and_fixed_range_links_work():
    s = Sweep.from_dict({"defaults": {"protocol": "bb84", "rounds": 10, "seed": 1},
                         "sweep": [{"grid": {"link": ["haps-laps", "inter-satellite"]}}]})
    got = [t.channels[0] for t in s.tasks()]
    assert got == [get_link("haps-laps").channel().to_dict(), get_link("inter-satellite").channel().to_dict()]


def test_parameters_are_the_protocols_own_and_equal_spellings_give_one_task():
    s = Sweep.from_dict({"defaults": {"rounds": 10, "seed": 1},
                         "sweep": [{"fixed": {"protocol": "bb84"}},
                                   {"fixed": {"protocol": "bb84", "param.p_z": 0.5}},
                                   {"fixed": {"protocol": "bb84", "loss_db": 0}},
                                   {"fixed": {"protocol": "bb84", "param.p_z": 0.9}}]})
    tasks = list(s.tasks())
    assert tasks[0].parameters == get_protocol("bb84").parameters()
    # default p_z, explicit p_z = 0.5 and 0 dB of loss are all the same run
    assert tasks[0].id == tasks[1].id == tasks[2].id != tasks[3].id
    assert tasks[3].parameters == get_protocol("bb84", p_z=0.9).parameters()


BAD = [
    ({"sweep": [{"grid": {"loss": [1]}}]}, "grid.loss"),
    ({"sweep": [{"grid": {"loss_db": []}}]}, "grid.loss_db"),
    ({"sweep": [{"zip": {"loss_db": [1, 2], "seed": [1]}}]}, "zip[0]"),
    ({"sweep": [{"fixed": {"seed": 1}, "grid": {"seed": [1, 2]}}]}, "seed"),
    ({"sweep": [{"grids": {}}]}, "sweep[0]"),
    ({"sweeps": []}, "sweep file"),
    ({"name": "x"}, "sweep"),
    ({"sweep": [{}], "report": {"colour": "red"}}, "report"),
]


@pytest.mark.parametrize("data, name", BAD, ids=[b[1] for b in BAD])
def test_bad_sweep_structure_names_the_key(data, name):
    with pytest.raises(InvalidParameter) as info:
        Sweep.from_dict(data)
    assert info.value.name == name


BAD_VALUES = [
    ({"protocol": "bb85"}, "protocol", "bb85"),
    ({"rounds": 0}, "rounds", 0),
    ({"seed": -1}, "seed", -1),
    ({"loss_db": -3}, "loss_db", -3),
    ({"qber": 0.9}, "qber", 0.9),
    ({"channel.depolarisation": 1.5}, "depolarisation", 1.5),
    ({"channel.colour": 1}, "channel field", "colour"),
    ({"engine.chunk_size": 0}, "chunk_size", 0),
    ({"engine.speed": 1}, "engine field", "speed"),
    ({"form": "slow"}, "form", "slow"),
    ({"link": "leo-moon"}, "name", "leo-moon"),
    ({"link": "haps-ground", "elevation_deg": 95}, "elevation_deg", 95),
    ({"link": "haps-ground", "loss_db": 3}, "loss_db", 3),
    ({"elevation_deg": 30}, "elevation_deg", 30),
    ({"override.rx_aperture_m": 0.1}, "override.rx_aperture_m", 0.1),
    ({"loss_db": 3, "channel.transmittance": 0.5}, "loss_db", 3),
    ({"param.p_z": 1.5}, "p_z", 1.5),
    ({"param.colour": 1}, "params", ["colour"]),
]


@pytest.mark.parametrize("extra, name, value", BAD_VALUES, ids=[b[1] + "-" + str(b[2]) for b in BAD_VALUES])
def test_bad_values_name_parameter_value_and_point(extra, name, value):
    s = Sweep.from_dict({"defaults": {"protocol": "bb84", "rounds": 10, "seed": 1}, "sweep": [{"fixed": extra}]})
    with pytest.raises(InvalidParameter) as info:
        list(s.tasks())
    assert info.value.name == name
    assert info.value.value == value
    assert "sweep[0] point 0" in str(info.value)
    assert info.value.allowed


def test_missing_required_keys_and_wrong_types():
    for missing in ("protocol", "rounds", "seed"):
        d = {"protocol": "bb84", "rounds": 10, "seed": 1}
        del d[missing]
        with pytest.raises(InvalidParameter, match=missing) as info:
            list(Sweep.from_dict({"sweep": [{"fixed": d}]}).tasks())
        assert info.value.name == missing
    with pytest.raises(InvalidType):
        Sweep.from_dict({"sweep": [{"grid": {"loss_db": 3}}]})
    with pytest.raises(InvalidType):
        list(Sweep.from_dict({"sweep": [{"fixed": {"protocol": "bb84", "rounds": 1.5, "seed": 1}}]}).tasks())


def test_from_toml_errors_are_qproto_errors(tmp_path):
    with pytest.raises(InvalidParameter, match="cannot read"):
        Sweep.from_toml(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("name = [\n")
    with pytest.raises(QprotoError, match="invalid TOML"):
        Sweep.from_toml(bad)


def test_axes_are_the_keys_that_vary():
    s = Sweep.from_dict({"defaults": {"protocol": "bb84", "rounds": 10, "seed": 1},
                         "sweep": [{"grid": {"loss_db": [0, 1]}}, {"fixed": {"loss_db": 0, "seed": 2}}]})
    assert sorted(s.axes()) == ["loss_db", "seed"]


def test_extend_keeps_existing_ids():
    s = Sweep.from_dict({"defaults": {"protocol": "bb84", "rounds": 10, "seed": 1},
                         "sweep": [{"grid": {"loss_db": [0, 1]}}]})
    more = s.extend({"grid": {"loss_db": [2, 3]}})
    ids = [t.id for t in more.tasks()]
    assert ids[:2] == [t.id for t in s.tasks()] and len(set(ids)) == 4
    assert math.isclose(list(more.tasks())[3].channels[0]["transmittance"], 10 ** -0.3)
    assert Channel.from_dict(list(more.tasks())[3].channels[0]).loss_db == pytest.approx(3.0)


def test_pass_time_gives_the_channel_of_the_links_own_pass():
    link = get_link("leo-ground-down")
    passed = link.pass_channels(time_step_s=30.0)
    times = [float(t) for t in passed.time_s]
    s = Sweep.from_dict({"defaults": {"protocol": "bb84", "rounds": 10, "seed": 1, "link": "leo-ground-down"},
                         "sweep": [{"grid": {"pass_time_s": times}}]})
    got = [t.channels[0] for t in s.tasks()]
    want = [c.to_dict() for c in passed.channels]
    assert len(got) == len(want) >= 5
    for g, w in zip(got, want):
        assert g.keys() == w.keys()
        assert g["transmittance"] == pytest.approx(w["transmittance"], rel=1e-9)
        assert g["noise_click"] == pytest.approx(w["noise_click"], rel=1e-9)
    # culmination is the best point of the pass
    best = max(range(len(got)), key=lambda i: got[i]["transmittance"])
    assert times[best] == 0.0


def test_pass_errors():
    base = {"protocol": "bb84", "rounds": 10, "seed": 1}
    cases = [({"link": "haps-ground", "pass_time_s": 0}, "pass_time_s"),          # not an orbit
             ({"link": "leo-ground-down", "pass_time_s": 5000}, "pass_time_s"),   # below the mask
             ({"link": "leo-ground-down", "pass_time_s": 0, "elevation_deg": 30}, "elevation_deg"),
             ({"link": "leo-ground-down", "pass_time_s": 0, "pass_max_elevation_deg": 95}, "pass_max_elevation_deg"),
             ({"pass_time_s": 0}, "pass_time_s")]
    for extra, name in cases:
        with pytest.raises(InvalidParameter) as info:
            list(Sweep.from_dict({"sweep": [{"fixed": {**base, **extra}}]}).tasks())
        assert info.value.name == name, extra
    with pytest.raises(InvalidParameter, match=r"allowed: \|t\| <= "):
        list(Sweep.from_dict({"sweep": [{"fixed": {**base, "link": "leo-ground-down", "pass_time_s": -5000}}]}).tasks())


def test_a_lower_pass_peaks_at_its_peak_elevation():
    s = Sweep.from_dict({"sweep": [{"fixed": {"protocol": "bb84", "rounds": 10, "seed": 1, "link": "leo-haps",
                                              "pass_time_s": 0.0, "pass_max_elevation_deg": 60}}]})
    (t,) = s.tasks()
    assert t.channels[0]["transmittance"] == pytest.approx(
        get_link("leo-haps").channel(elevation_deg=60).transmittance, rel=1e-9)
