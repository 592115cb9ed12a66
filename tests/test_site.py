"""Site model: load, validate, save; every bad file gives one line naming file, key and line."""
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from conftest import FLOORPLANS, SAMPLE_SITES, plan_path_of
from wifiplan import InputError, load_plan, load_site, save_site
from wifiplan.cli import main

GOOD = textwrap.dedent("""\
    name: Test Hall
    regulatory_domain: seed
    outline: [[0, 0], [50, 0], [50, 30], [0, 30]]
    propagation: {model: 3gpp-inf-sl, ap_height_m: 5.0, client_height_m: 1.2}
    materials:
      steel-shelving: {loss_db: 18}
    walls:
      - {from: [20, 0], to: [20, 12], material: concrete}
      - {points: [[0, 20], [10, 20], [10, 30]], material: plasterboard}
    obstacles:
      - {name: press-1, polygon: [[30, 5], [34, 5], [34, 9], [30, 9]], material: metal,\
 height_m: 3.0}
      - {name: shelf, polygon: [[40, 20], [48, 20], [48, 21], [40, 21]], material: steel-shelving,\
 height_m: 5}
    zones:
      - name: line-1
        polygon: [[0, 0], [20, 0], [20, 20], [0, 20]]
        min_rssi_dbm: -65
        terminals: {handheld: 3, thinklet: 1}
      - name: store
        polygon: [[20, 0], [50, 0], [50, 30], [20, 30]]
    infrastructure:
      server: {name: SVR, position: [1, 1]}
      switches: [{name: SW1, position: [2, 1], ports: 24, poe_budget_w: 370}]
    """)


def write(tmp_path, text, name="site.yaml"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_good_site_loads_with_all_parts(tmp_path):
    s = load_site(write(tmp_path, GOOD))
    assert s.name == "Test Hall" and s.area_m2 == pytest.approx(1500.0)
    assert len(s.walls) == 2 and s.walls[1].is_polyline
    assert [o.name for o in s.obstacles] == ["press-1", "shelf"]
    assert s.zones[0].min_rssi_dbm == -65 and s.zones[1].min_rssi_dbm == -67
    assert s.terminal_count == 4
    assert s.material_losses()["steel-shelving"] == 18
    assert s.switches[0].ports == 24 and s.server["name"] == "SVR"
    assert s.allowed_channels() == [36, 40, 44, 48, 149, 153, 157, 161]


def test_round_trip_gives_the_same_site(tmp_path):
    s1 = load_site(write(tmp_path, GOOD))
    save_site(s1, tmp_path / "again.yaml")
    s2 = load_site(tmp_path / "again.yaml")
    save_site(s2, tmp_path / "again2.yaml")
    assert (tmp_path / "again.yaml").read_text() == (tmp_path / "again2.yaml").read_text()
    assert s2.to_dict() == s1.to_dict()


def test_a_zone_requirement_stays_in_its_zone(tmp_path):
    # the last zone's own requirements are the zone's, not keys of the site
    text = GOOD.replace("  - name: store\n", "  - name: store\n    min_sinr_db: 20\n")
    text += "cable_trays: [{points: [[0, 1], [5, 1]]}]\n"
    s = load_site(write(tmp_path, text))
    assert s.zones[1].min_sinr_db == 20.0
    assert s.extra == {"cable_trays": [{"points": [[0, 1], [5, 1]]}]}
    assert "min_sinr_db" not in s.to_dict()


@pytest.mark.parametrize("site_path", SAMPLE_SITES, ids=lambda p: p.stem)
def test_samples_round_trip_and_plans_fit(site_path, tmp_path):
    s1 = load_site(site_path)
    save_site(s1, tmp_path / "s.yaml")
    s2 = load_site(tmp_path / "s.yaml")
    assert s2.to_dict() == s1.to_dict()
    assert np.allclose(s2.outline, s1.outline)
    plan = load_plan(plan_path_of(site_path), site=s1)
    assert len(plan.aps) >= 1


BAD_CASES = {
    "unknown material": (GOOD.replace("material: concrete}", "material: concret}"),
                         "walls[0].material: unknown material 'concret' "
                         "(did you mean 'concrete'?)", 8),
    "self-intersecting polygon": (
        GOOD.replace("[[30, 5], [34, 5], [34, 9], [30, 9]]",
                     "[[30, 5], [34, 9], [34, 5], [30, 9]]"),
        "obstacles[0].polygon: polygon intersects itself", 11),
    "wall outside the outline": (GOOD.replace("to: [20, 12]", "to: [20, 42]"),
                                 "walls[0]: wall lies outside the outline", 8),
    "negative height": (GOOD.replace("height_m: 3.0", "height_m: -3.0"),
                        "obstacles[0].height_m: -3 is out of range", 11),
    "non-numeric coordinate": (GOOD.replace("[50, 30], [0, 30]]", "[50, thirty], [0, 30]]"),
                               "outline[2][1]: expected a coordinate in metres, got 'thirty'", 3),
    "missing outline": (GOOD.replace("outline: [[0, 0], [50, 0], [50, 30], [0, 30]]\n", ""),
                        "missing required key 'outline'", 1),
    "typo key": (GOOD.replace("zones:", "zonse:"),
                 "unknown key 'zonse' (did you mean 'zones'?)", 13),
    "yaml syntax": (GOOD.replace("  - name: store", "  - name: store: x"), "YAML syntax error", 18),
    "unknown domain": (GOOD.replace("regulatory_domain: seed", "regulatory_domain: UK"),
                       "regulatory_domain: unknown regulatory domain 'UK'", 2),
    "zone outside": (GOOD.replace("[[0, 0], [20, 0], [20, 20], [0, 20]]",
                                  "[[0, 0], [70, 0], [20, 20], [0, 20]]"), "zone lies outside", 14),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_site_names_key_and_line(case, tmp_path):
    text, message, line = BAD_CASES[case]
    p = write(tmp_path, text)
    with pytest.raises(InputError) as exc:
        load_site(p)
    msg = str(exc.value)
    assert message in msg
    assert msg.startswith(f"{p}:{line}: "), msg
    assert "\n" not in msg


def test_empty_file(tmp_path):
    with pytest.raises(InputError, match="file is empty"):
        load_site(write(tmp_path, ""))


def test_file_over_the_size_limit_is_refused_before_parsing(tmp_path, monkeypatch):
    p = tmp_path / "huge.yaml"
    with open(p, "wb") as fh:       # 21 MB of invalid YAML: parsing it would fail differently
        fh.write(b"name: [\n" + b"x" * (21 * 1024 * 1024))
    with pytest.raises(InputError, match="larger than the limit of 21 MB|larger than the limit"):
        load_site(p)


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "wifiplan", *map(str, args)],
                          capture_output=True, text=True)


def test_cli_bad_site_exit_2_one_line_no_traceback(tmp_path):
    p = write(tmp_path, BAD_CASES["unknown material"][0])
    plan = write(tmp_path, "site: Test Hall\naps: [{id: AP1, x_m: 5, y_m: 5}]\n", "p.yaml")
    r = run_cli("heatmap", p, plan, "-o", tmp_path / "m.png")
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "walls[0].material: unknown material 'concret'" in lines[0]
    assert not (tmp_path / "m.png").exists()


def test_plan_ap_outside_outline_is_named(tmp_path):
    s = load_site(write(tmp_path, GOOD))
    p = write(tmp_path, "site: Test Hall\naps:\n  - {id: AP1, x_m: 5, y_m: 5}\n"
                        "  - {id: AP2, x_m: 80, y_m: 5}\n", "p.yaml")
    with pytest.raises(InputError, match=r"p.yaml:4: aps\[1\]: AP AP2 at \(80, 5\) is outside"):
        load_plan(p, site=s)


def test_sample_sites_are_package_data_and_copy_out(tmp_path, capsys):
    from wifiplan.site import sample_plan_path, sample_sites
    samples = sample_sites()
    assert sorted(samples) == sorted(p.stem for p in FLOORPLANS.glob("*.yaml")
                                     if not p.name.endswith(".plan.yaml"))
    for name, path in samples.items():
        assert path.read_bytes() == (FLOORPLANS / f"{name}.yaml").read_bytes()
        assert load_site(path).name and sample_plan_path(path).exists()
    assert main(["samples", "-o", str(tmp_path / "s")]) == 0
    copied = sorted(p.name for p in (tmp_path / "s").iterdir())
    assert copied == sorted(p.name for p in FLOORPLANS.glob("*.yaml"))
    (tmp_path / "s" / copied[0]).write_text("mine")
    assert main(["samples", "-o", str(tmp_path / "s")]) == 2         # never over a file
    assert "refusing to overwrite" in capsys.readouterr().err
    assert (tmp_path / "s" / copied[0]).read_text() == "mine"
