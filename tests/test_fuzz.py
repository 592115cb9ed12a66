"""Property-based fuzzing of every reader through the CLI in-process (the short campaign;
``benchmarks/fuzz_campaign.py`` is the long one), and the reproducers it found."""
from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fuzzing
from wifiplan.cli import main


@settings(max_examples=66, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(kind=st.sampled_from(sorted(fuzzing.KINDS)), seed=st.integers(0, 2 ** 32 - 1))
def test_no_input_crashes_hangs_or_is_accepted_as_garbage(tmp_path_factory, kind, seed):
    case = fuzzing.make_case(kind, random.Random(seed))
    r = fuzzing.run_case(case, tmp_path_factory.mktemp("fz") / "case", timeout_s=60)
    assert r["outcome"] in ("refused", "accepted"), r


def _dxf(tmp_path, build):
    import ezdxf
    doc = ezdxf.new()
    build(doc.modelspace())
    p = tmp_path / "d.dxf"
    doc.saveas(p)
    return p


def test_dxf_circle_and_arc_of_radius_zero(tmp_path, capsys):
    p = _dxf(tmp_path, lambda m: (m.add_circle((5, 5), 0.0, dxfattribs={"layer": "WALL"}),
                                  m.add_arc((9, 9), 0.0, 0, 90, dxfattribs={"layer": "WALL"}),
                                  m.add_line((0, 0), (10, 0), dxfattribs={"layer": "WALL"})))
    code = main(["import-dxf", str(p), "--layer", "WALL=concrete", "-o", str(tmp_path / "s.yaml")])
    assert code in (0, 1, 2) and "internal error" not in capsys.readouterr().err


def test_a_400_digit_number_is_out_of_range(tmp_path, capsys):
    from conftest import FLOORPLANS
    text = (FLOORPLANS / "small-workshop.yaml").read_text(encoding="utf-8")
    p = tmp_path / "s.yaml"
    p.write_text(text.replace("height_m: 1.6", "height_m: " + "9" * 400, 1))
    assert "9" * 400 in p.read_text()
    assert main(["plan", str(p), "-o", str(tmp_path / "o.yaml")]) == 2
    err = capsys.readouterr().err
    assert "finite number" in err and len(err) < 400          # not the whole number echoed


def test_nan_in_the_cluster_description_is_refused(tmp_path, capsys):
    from conftest import FLOORPLANS, ROOT
    c = tmp_path / "cluster.yaml"
    c.write_text((ROOT / "deploy" / "cluster.yaml").read_text(encoding="utf-8")
                 .replace("memory_gib: 16", "memory_gib: .nan", 1))
    assert ".nan" in c.read_text()
    code = main(["deploy", str(FLOORPLANS / "small-workshop.yaml"),
                 str(FLOORPLANS / "small-workshop.plan.yaml"), "--cluster", str(c), "-o",
                 str(tmp_path / "d")])
    err = capsys.readouterr().err
    assert code == 2 and "memory_gib" in err and "finite" in err
    assert not (tmp_path / "d").exists()


@pytest.mark.parametrize("drop", ["x_m", "y_m"])
def test_logs_without_a_position_column_write_no_nan(tmp_path, drop):
    import json

    from conftest import FLOORPLANS, SURVEYS
    src = (SURVEYS / "production-line-terminal-log.csv").read_text(encoding="utf-8")
    p = tmp_path / "log.csv"
    p.write_text(src.replace(drop, "", 1))
    code = main(["logs", "analyze", str(p), "--plan", str(FLOORPLANS / "production-line.plan.yaml"),
                 "-o", str(tmp_path / "o.json")])
    assert code in (0, 1)
    assert not fuzzing._walk_non_finite(json.loads((tmp_path / "o.json").read_text()))


def test_a_400_digit_integer_in_the_cluster_description(tmp_path, capsys):
    from conftest import FLOORPLANS, ROOT
    c = tmp_path / "cluster.yaml"
    c.write_text((ROOT / "deploy" / "cluster.yaml").read_text(encoding="utf-8")
                 .replace("memory_gib: 16", "memory_gib: " + "9" * 400, 1))
    code = main(["deploy", str(FLOORPLANS / "small-workshop.yaml"),
                 str(FLOORPLANS / "small-workshop.plan.yaml"), "--cluster", str(c), "-o",
                 str(tmp_path / "d")])
    err = capsys.readouterr().err
    assert code == 2 and "memory_gib" in err and len(err.splitlines()) == 1


def test_a_georeference_point_at_1e308_m(tmp_path, capsys):
    from conftest import FLOORPLANS, SURVEYS
    g = tmp_path / "g.yaml"
    g.write_text((SURVEYS / "large-hall-georef.yaml").read_text(encoding="utf-8")
                 .replace("x_m: 240.0", "x_m: 1e308", 1))
    assert "1e308" in g.read_text()
    code = main(["survey", "check", str(FLOORPLANS / "large-hall.yaml"),
                 str(FLOORPLANS / "large-hall.plan.yaml"), str(SURVEYS / "large-hall-wigle.csv"),
                 "--georef", str(g), "-o", str(tmp_path / "f.json")])
    err = capsys.readouterr().err
    assert code == 2 and "x_m" in err and len(err.splitlines()) == 1


def test_nested_block_bomb_is_refused(tmp_path, capsys):
    import time

    import ezdxf
    doc = ezdxf.new()
    b0 = doc.blocks.new("B0")
    for i in range(10):
        b0.add_line((i, 0), (i, 1), dxfattribs={"layer": "WALL"})
    for k in range(1, 8):                     # 10^8 lines from 25 kB
        b = doc.blocks.new(f"B{k}")
        for i in range(10):
            b.add_blockref(f"B{k - 1}", (i * 2, 0))
    doc.modelspace().add_blockref("B7", (0, 0))
    p = tmp_path / "bomb.dxf"
    doc.saveas(p)
    t0 = time.perf_counter()
    code = main(["import-dxf", str(p), "--layer", "WALL=concrete", "-o", str(tmp_path / "s.yaml")])
    assert code == 2 and "nested block references" in capsys.readouterr().err
    assert time.perf_counter() - t0 < 60      # it ran past 120 s


def test_a_dxf_the_reader_rejects_with_a_type_error(tmp_path, capsys):
    """A damaged drawing from the campaign (seed 23, case 2947): ezdxf raises DXFTypeError."""
    from pathlib import Path
    p = Path(__file__).parent / "data" / "fuzz-dxf-type-error.dxf"
    code = main(["import-dxf", str(p), "--guess-layers", "-o", str(tmp_path / "s.yaml")])
    err = capsys.readouterr().err
    assert code == 2 and "not a readable DXF drawing" in err and len(err.splitlines()) == 1


def _esx_with(tmp_path, member: str, text: bytes):
    """The fuzzer's valid project with one member's bytes replaced."""
    import io
    import zipfile
    z = zipfile.ZipFile(io.BytesIO(fuzzing._esx_base()))
    members = [(i.filename, text if i.filename == member else z.read(i)) for i in z.infolist()]
    p = tmp_path / "p.esx"
    p.write_bytes(fuzzing._zip(members))
    return p


def _import_esx(tmp_path, p):
    return main(["import-esx", str(p), "-o", str(tmp_path / "s.yaml"), "--plan-out",
                 str(tmp_path / "s.plan.yaml")])


def test_the_fuzzers_esx_project_imports(tmp_path, capsys):
    assert _import_esx(tmp_path, _esx_with(tmp_path, "", b"")) == 0
    assert "Production Line" in capsys.readouterr().out


def test_an_esx_json_key_given_twice_is_refused(tmp_path, capsys):
    """json.loads keeps the last of two equal keys: a later "accessPoints": [] emptied the
    plan, and the import said nothing (as a YAML key given twice does, it is refused)."""
    import io
    import zipfile
    z = zipfile.ZipFile(io.BytesIO(fuzzing._esx_base()))
    text = z.read("accessPoints.json").decode()
    p = _esx_with(tmp_path, "accessPoints.json",
                  text.replace("{", '{"accessPoints": [], ', 1).encode())
    assert _import_esx(tmp_path, p) == 2
    err = capsys.readouterr().err
    assert "accessPoints.json" in err and "key 'accessPoints' given twice" in err
    assert len(err.splitlines()) == 1
    assert not (tmp_path / "s.yaml").exists()


@pytest.mark.parametrize("text, needle", [
    (b"[" * 100_000 + b"]" * 100_000, "not valid JSON (nested too deep)"),
    (b'{"floorPlans": [{"width": NaN}]}', "NaN is not a number JSON allows")])
def test_esx_json_nested_too_deep_or_with_nan(tmp_path, capsys, text, needle):
    assert _import_esx(tmp_path, _esx_with(tmp_path, "floorPlans.json", text)) == 2
    err = capsys.readouterr().err
    assert needle in err and len(err.splitlines()) == 1


def test_routes_file_with_hostile_values(tmp_path, capsys):
    from conftest import FLOORPLANS
    site, plan = FLOORPLANS / "production-line.yaml", FLOORPLANS / "production-line.plan.yaml"
    for old, new, needle in (("speed_m_s: 1.2", "speed_m_s: .nan", "finite number"),
                             ("speed_m_s: 2.5", "speed_m_s: 1e308", "speed_m_s"),
                             ("[66, 15]", "[66, 1e400]", "finite number"),
                             ("terminal: thinklet", "terminal: [thinklet]", "terminal")):
        p = tmp_path / "ROUTES.yaml"
        p.write_text(fuzzing.ROUTES_TEXT.replace(old, new))
        assert new in p.read_text()
        assert main(["roam", str(site), str(plan), "--routes", str(p), "-o",
                     str(tmp_path / "r.json")]) == 2
        err = capsys.readouterr().err
        assert needle in err and "ROUTES.yaml" in err and len(err.splitlines()) == 1, err
    assert not (tmp_path / "r.json").exists()


def test_a_dxf_whose_audit_fails_inside_the_reader(tmp_path, capsys):
    """A damaged drawing from the campaign (seed 11, case 430): ezdxf's audit raised
    AttributeError on a layout without attributes (an exit-3 'internal error')."""
    from pathlib import Path
    p = Path(__file__).parent / "data" / "fuzz-dxf-layout-error.dxf"
    code = main(["import-dxf", str(p), "--guess-layers", "-o", str(tmp_path / "s.yaml")])
    err = capsys.readouterr().err
    assert code == 2 and "not a readable DXF drawing" in err and len(err.splitlines()) == 1


def test_an_esx_image_size_of_400_digits_is_not_reported(tmp_path, capsys):
    """The campaign (seed 11, case 1733): images.json's resolutionWidth of 10^400 raised
    OverflowError in the size check; a size that is no number of pixels is left out."""
    import io
    import json
    import zipfile
    z = zipfile.ZipFile(io.BytesIO(fuzzing._esx_base()))
    doc = json.loads(z.read("images.json"))
    doc["images"][0]["resolutionWidth"] = 10 ** 400
    p = _esx_with(tmp_path, "images.json", json.dumps(doc).encode())
    assert _import_esx(tmp_path, p) == 0
    out = capsys.readouterr().out
    assert "(PNG, 50.0 mm per pixel)" in out


def test_an_esx_with_a_damaged_zip_version_field(tmp_path, capsys):
    """The campaign (seed 12, case 522 of esx/routes/site-routes): flipped bytes made
    zipfile raise NotImplementedError ("zip file version 11.7"), an internal error."""
    from pathlib import Path
    p = Path(__file__).parent / "data" / "fuzz-esx-zip-version.esx"
    assert _import_esx(tmp_path, p) == 2
    err = capsys.readouterr().err
    assert "not a zip archive" in err and len(err.splitlines()) == 1


@pytest.mark.parametrize("key", ["ap_height_m", "ap_gain_dbi"])
def test_an_esx_propagation_value_that_is_no_number(tmp_path, capsys, key):
    """The campaign (seed 12, case 771): a list as the project's ap_height_m reached
    float() before the site's own check (TypeError, an internal error). The AP gain is the
    antennas' (the project's own value is replaced), so only the height is refused."""
    import io
    import json
    import zipfile
    z = zipfile.ZipFile(io.BytesIO(fuzzing._esx_base()))
    doc = json.loads(z.read("project.json"))
    doc["project"]["wifiplan"]["propagation"][key] = [1, 2]
    p = _esx_with(tmp_path, "project.json", json.dumps(doc).encode())
    if key == "ap_gain_dbi":
        assert _import_esx(tmp_path, p) == 0
        from wifiplan import load_site
        assert load_site(tmp_path / "s.yaml").propagation["ap_gain_dbi"] == 3.0
        return
    assert _import_esx(tmp_path, p) == 2
    err = capsys.readouterr().err
    assert f"propagation.{key}" in err and len(err.splitlines()) == 1
