"""The input and output guards: regular files only, bounded YAML (aliases, depth),
duplicate keys refused, no output over an input, writer errors as one line, and an
unexpected error with its own exit code (hostile inputs, one reproducer each)."""
from __future__ import annotations

import json
import os
import shutil
import time

import pytest

from conftest import FLOORPLANS, SURVEYS
from fuzzing import bomb_png
from wifiplan import cli
from wifiplan.cli import EXIT_INTERNAL, main

SITE = FLOORPLANS / "production-line.yaml"
PLAN = FLOORPLANS / "production-line.plan.yaml"


def _one_line_exit_2(capsys, argv, *needles):
    code = main([str(a) for a in argv])
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    for n in needles:
        assert n in err, err
    return err


def _bomb(levels: int = 9) -> str:
    rows = ["a0: &a0 [" + ", ".join(['"lol"'] * 9) + "]"]
    for i in range(1, levels + 1):
        rows.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(rows) + "\n"


@pytest.mark.parametrize("text, needle", [
    (_bomb(), "expands to more than"),
    ("[" * 1000 + "]" * 1000, "nested deeper than"),
    ("&a [*a]\n", "refers to itself"),
    ("name: x\noutline: [[0, 0], [9, 0], [9, 9]]\nname: y\n", "key 'name' given twice"),
])
def test_hostile_yaml_is_refused_quickly(tmp_path, capsys, text, needle):
    p = tmp_path / "s.yaml"
    p.write_text(text)
    t0 = time.perf_counter()
    _one_line_exit_2(capsys, ["plan", p, "-o", tmp_path / "o.yaml"], needle, "s.yaml")
    assert time.perf_counter() - t0 < 10          # refused, not expanded (it was > 60 s)
    assert not (tmp_path / "o.yaml").exists()


def test_a_later_duplicate_zones_key_does_not_empty_the_site(tmp_path, capsys):
    p = tmp_path / "s.yaml"
    p.write_text(SITE.read_text(encoding="utf-8") + "zones: []\n")
    _one_line_exit_2(capsys, ["plan", p, "-o", tmp_path / "o.yaml"], "'zones' given twice")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_a_fifo_is_not_read(tmp_path, capsys):
    f = tmp_path / "pipe.yaml"
    os.mkfifo(f)
    _one_line_exit_2(capsys, ["plan", f, "-o", tmp_path / "o.yaml"], "not a regular file")


def _copy(tmp_path, *srcs):
    out = []
    for s in srcs:
        d = tmp_path / s.name
        shutil.copy(s, d)
        out.append(d)
    return out


@pytest.mark.parametrize("make", [
    lambda t, s, p, v: (["plan", s, "-o", s], s),
    lambda t, s, p, v: (["heatmap", s, p, "-o", p], p),
    lambda t, s, p, v: (["survey", "check", s, p, v, "-o", v], v),
    lambda t, s, p, v: (["logs", "analyze", v, "-o", v], v),
    lambda t, s, p, v: (["report", s, "--plan", p, "--survey", t / "aps.csv", "--phase", "1",
                         "-o", t], t / "aps.csv"),
])
def test_no_command_writes_over_its_input(tmp_path, capsys, make):
    s, p, v = _copy(tmp_path, SITE, PLAN, SURVEYS / "production-line-sjis.csv")
    shutil.copy(v, tmp_path / "aps.csv")
    argv, victim = make(tmp_path, s, p, v)
    before = victim.read_bytes()
    _one_line_exit_2(capsys, argv, "input")
    assert victim.read_bytes() == before


def test_an_output_that_links_to_the_input_is_refused(tmp_path, capsys):
    (s,) = _copy(tmp_path, SITE)
    (tmp_path / "link.yaml").symlink_to(s)
    before = s.read_bytes()
    _one_line_exit_2(capsys, ["plan", s, "-o", tmp_path / "link.yaml"], "overwrite an input")
    assert s.read_bytes() == before


def test_outputs_that_cannot_be_written_are_one_line(tmp_path, capsys):
    (tmp_path / "dir.yaml").mkdir()
    _one_line_exit_2(capsys, ["plan", SITE, "-o", tmp_path / "dir.yaml"], "is a directory")
    (tmp_path / "file").write_text("x")
    _one_line_exit_2(capsys, ["plan", SITE, "-o", tmp_path / "file" / "o.yaml"],
                     "is a file, not a folder")


def test_an_unexpected_error_has_its_own_exit_code_and_one_line(monkeypatch, capsys):
    def boom(args):
        raise RuntimeError("something\nwent wrong")
    parser = cli.build_parser()
    monkeypatch.setattr(cli, "build_parser", lambda: parser)
    parser._subparsers._group_actions[0].choices["plan"].set_defaults(func=boom)
    code = main(["plan", str(SITE), "-o", "unused.yaml"])
    err = capsys.readouterr().err.strip()
    assert code == EXIT_INTERNAL and code not in (0, 1, 2)
    assert err.splitlines() == ["wifiplan: internal error: RuntimeError: something went wrong "
                                "(this is a bug; run with --debug for the traceback)"]
    with pytest.raises(RuntimeError):
        main(["--debug", "plan", str(SITE), "-o", "unused.yaml"])


@pytest.mark.parametrize("change, needle", [
    ({"channel": 165}, "channel 165 is not allowed in domain JP"),
    ({"channel": 52}, "channel 52 is a DFS channel"),
    ({"channel": 6}, "channel 6 is not allowed"),
    ({"tx_power_dbm": 30}, "exceeds the 23 dBm limit"),
    ({"width_mhz": 40}, "width 40 MHz"),
    ({"bssid": "same"}, "is also AP1's"),
])
def test_deploy_refuses_a_plan_that_breaks_its_domain(tmp_path, capsys, change, needle):
    import yaml
    d = yaml.safe_load(PLAN.read_text(encoding="utf-8"))
    if change.get("bssid") == "same":
        d["aps"][1]["bssid"] = d["aps"][0]["bssid"]
    else:
        d["aps"][0].update(change)
    p = tmp_path / "bad.plan.yaml"
    p.write_text(yaml.safe_dump(d))
    out = tmp_path / "deploy"
    _one_line_exit_2(capsys, ["deploy", SITE, p, "--cluster", FLOORPLANS.parent / "deploy" /
                              "cluster.yaml", "-o", out], needle, "before deploying")
    assert not out.exists()


def test_a_grid_beyond_the_limit_is_refused_before_allocating(tmp_path, capsys):
    p = tmp_path / "km.yaml"
    p.write_text("name: km\noutline: [[0, 0], [1000, 0], [1000, 1000], [0, 1000]]\n"
                 "zones: [{name: all, polygon: [[0, 0], [1000, 0], [1000, 1000], [0, 1000]]}]\n")
    t0 = time.perf_counter()
    _one_line_exit_2(capsys, ["plan", p, "-o", tmp_path / "o.yaml"], "more than this tool "
                     "computes", "or coarser")
    assert time.perf_counter() - t0 < 30          # it allocated until numpy failed before
    from wifiplan.errors import InputError
    from wifiplan.radio.radiomap import MAX_GRID_CELLS, grid_shape
    assert grid_shape((0, 0, 1000, 1000), 0.5) == (2000, 2000)      # 4 million: the limit
    assert 2000 * 2000 == MAX_GRID_CELLS
    with pytest.raises(InputError, match="0.5 m or coarser"):
        grid_shape((0, 0, 1000, 1000), 0.4)


def test_predict_writes_the_points_as_given_and_refuses_shifted_or_far_rows(tmp_path, capsys):
    shop, shop_plan = FLOORPLANS / "small-workshop.yaml", FLOORPLANS / "small-workshop.plan.yaml"
    pts = tmp_path / "p.csv"
    pts.write_text("x_m,y_m\n5.123,5\n10,3.0001\n")
    out = tmp_path / "o.csv"
    assert main(["predict", str(shop), str(shop_plan), "--points", str(pts), "-o", str(out)]) == 0
    rows = [r.split(",")[:2] for r in out.read_text().splitlines()[1:]]
    assert rows == [["5.123", "5"], ["10", "3.0001"]]        # joins back onto the input
    for text, line in (("x_m,y_m\n1,2,3\n", "p.csv:2"), ("x_m,y_m\n1,2\n1,2,3\n", "line 3")):
        pts.write_text(text)           # it was predicted at (2, 3)
        _one_line_exit_2(capsys, ["predict", shop, shop_plan, "--points", pts, "-o", out],
                         line, "fields")
    pts.write_text("x_m,y_m\n1e300,2\n")
    _one_line_exit_2(capsys, ["predict", shop, shop_plan, "--points", pts, "-o", out],
                     "p.csv:2", "within 1e+06")


def test_a_plan_of_another_site_is_refused(tmp_path, capsys):
    p = tmp_path / "other.plan.yaml"
    p.write_text(PLAN.read_text(encoding="utf-8").replace("site: Production Line",
                                                           "site: Another Factory", 1))
    assert "Another Factory" in p.read_text()
    _one_line_exit_2(capsys, ["report", SITE, "--plan", p, "--phase", "1", "-o",
                              tmp_path / "r"], "for site 'Another Factory'", "other.plan.yaml:")


@pytest.mark.parametrize("model, key", [
    ("model: hall\nap_gain_dbi: 1000\n", "ap_gain_dbi"),            # predicted +943 dBm
    ("model: log-distance\npl0_db: 40\nexponent: 0\nfreq_ref_mhz: 5500\n", "exponent"),
    ("model: log-distance\npl0_db: 40\nexponent: -3\nfreq_ref_mhz: 5500\n", "exponent"),
    ("model: hall\nclient_gain_dbi: .inf\n", "client_gain_dbi"),
])
def test_model_numbers_have_physical_ranges(tmp_path, capsys, model, key):
    m = tmp_path / "m.yaml"
    m.write_text(model)
    pts = tmp_path / "p.csv"
    pts.write_text("x_m,y_m\n5,5\n")
    _one_line_exit_2(capsys, ["predict", SITE, PLAN, "--points", pts, "--model", m, "-o",
                              tmp_path / "o.csv"], "m.yaml:", key)


def test_site_keys_of_the_wrong_type_and_long_names(tmp_path, capsys):
    text = SITE.read_text(encoding="utf-8")
    p = tmp_path / "s.yaml"
    p.write_text(text.replace("regulatory_domain: JP", "regulatory_domain: [JP]", 1))
    assert "[JP]" in p.read_text()
    _one_line_exit_2(capsys, ["plan", p, "-o", tmp_path / "o.yaml"], "regulatory_domain")
    p.write_text(text.replace("name: line-a", "name: " + "z" * 500, 1))
    _one_line_exit_2(capsys, ["plan", p, "-o", tmp_path / "o.yaml"], "at most 120")
    plan = tmp_path / "p.yaml"
    plan.write_text(PLAN.read_text(encoding="utf-8").replace("id: AP1", "id: " + "A" * 3000))
    _one_line_exit_2(capsys, ["report", SITE, "--plan", plan, "--phase", "3", "-o",
                              tmp_path / "r"], "aps[0].id", "at most 32")


def test_calibration_of_a_hall_without_walls_or_obstacles(tmp_path):
    import numpy as np
    import pandas as pd

    from wifiplan.plan import AP, Plan
    from wifiplan.radio.propagation import rssi_points_dbm
    from wifiplan.site import parse_site
    from wifiplan.survey import calibrate
    site = parse_site("name: open\noutline: [[0, 0], [40, 0], [40, 30], [0, 30]]\n"
                      "zones: [{name: all, polygon: [[0, 0], [40, 0], [40, 30], [0, 30]]}]\n")
    aps = [AP("A", 10, 15, 5.0, 36, tx_power_dbm=10, bssid="02:00:00:00:00:01"),
           AP("B", 30, 15, 5.0, 44, tx_power_dbm=10, bssid="02:00:00:00:00:02")]
    xs, ys = np.meshgrid(np.arange(1.0, 40, 3), np.arange(1.0, 30, 3))
    x, y = xs.ravel(), ys.ravel()
    r = rssi_points_dbm(site, aps, x, y) + np.random.default_rng(1).normal(0, 2, (2, x.size))
    rows = pd.DataFrame({"x_m": np.tile(x, 2), "y_m": np.tile(y, 2),
                         "bssid": np.repeat([a.bssid for a in aps], x.size), "ssid": "W",
                         "channel": np.repeat([36, 44], x.size), "rssi_dbm": r.ravel(),
                         "line": np.arange(r.size) + 2})
    model, rep = calibrate(site, Plan("open", aps), rows, folds=3)
    assert rep["materials"] == {} and rep["rmse_after_db"] < 3.0


@pytest.mark.parametrize("line, key", [
    ("encoding: 123", "encoding"), ("encoding: klingon", "encoding"),
    ("header_line: '1.5'", "header_line"), ("columns: {x_m: [X]}", "columns.x_m"),
])
def test_mapping_keys_are_type_checked(tmp_path, capsys, line, key):
    m = tmp_path / "map.yaml"
    m.write_text((SURVEYS / "production-line-wide.apmap.yaml").read_text(encoding="utf-8")
                 + line + "\n")
    _one_line_exit_2(capsys, ["survey", "check", SITE, PLAN, SURVEYS / "production-line-wide.csv",
                              "--mapping", m, "-o", tmp_path / "f.json"], "map.yaml:", key)


def test_affine_georeference_from_points_on_one_line_is_refused():
    from wifiplan.errors import InputError
    from wifiplan.survey.georef import fit_georeference
    with pytest.raises(InputError, match="lie on one line"):
        fit_georeference([35.0, 35.001, 35.002], [136.0, 136.001, 136.002], [0, 10, 20],
                         [0, 10, 20], "affine")


@pytest.mark.parametrize("ts, reason", [("1e300", "out of range"),
                                        ("1754905800000", "milliseconds")])
def test_log_timestamps_out_of_range(tmp_path, capsys, ts, reason):
    src = (SURVEYS / "production-line-terminal-log.csv").read_text(encoding="utf-8").splitlines()
    p = tmp_path / "log.csv"
    p.write_text("\n".join([src[0]] + [",".join([ts] + r.split(",")[1:]) for r in src[1:4]])
                 + "\n")
    _one_line_exit_2(capsys, ["logs", "analyze", p, "-o", tmp_path / "l.json"], reason,
                     "line 2")


def test_a_report_set_is_swapped_in_whole(tmp_path, monkeypatch):
    """A run that fails while its files are written leaves the previous report whole; a
    successful one replaces the set; a folder with other files keeps them."""
    import wifiplan.fileio as fio
    out = tmp_path / "r"
    argv = ["report", str(SITE), "--plan", str(PLAN), "--phase", "1", "--resolution", "4",
            "-o", str(out)]
    assert main(argv) in (0, 1)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert len(before) == 5
    real = fio.Path.write_bytes
    calls = []

    def failing(self, data):
        calls.append(self.name)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        return real(self, data)
    monkeypatch.setattr(fio.Path, "write_bytes", failing)
    with pytest.raises(OSError):
        from wifiplan.report import make_report
        make_report(SITE, 2, out, plan_path=PLAN, resolution_m=4)
    monkeypatch.setattr(fio.Path, "write_bytes", real)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before   # the phase-1 set
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    # success replaces the set; another file in the folder stays
    (out / "notes.txt").write_text("mine")
    assert main(argv[:5] + ["2"] + argv[6:]) in (0, 1)
    assert (out / "notes.txt").read_text() == "mine"
    assert json.loads((out / "report.json").read_text(encoding="utf-8"))["phase"]["number"] == 2


def test_an_image_bomb_is_refused_from_its_header():
    """100,000 x 100,000 px in 69 bytes; 8,000 x 8,000 px (64 Mpx) is under Pillow's own
    default limit (89 Mpx) but over ours, and is refused before any pixel is decoded."""
    from wifiplan import InputError
    from wifiplan.floorimage import MAX_IMAGE_PX, read_image
    assert MAX_IMAGE_PX == 50_000_000
    for w, h in ((100_000, 100_000), (8000, 8000), (50_001, 1000)):
        with pytest.raises(InputError) as exc:
            read_image(bomb_png(w, h), "bomb.png")
        assert str(exc.value) == (f"bomb.png: image of {w} x {h} px is larger than the limit "
                                  "of 50,000,000 px")
    with pytest.raises(InputError, match="not a readable image"):   # 50 Mpx: decoded, short
        read_image(bomb_png(50_000, 1000), "bomb.png")


def test_an_esx_floor_image_bomb_is_dropped_with_a_warning():
    from test_esx import hall_members, make_esx

    from wifiplan.esx import import_esx
    site, plan, rep = import_esx(make_esx(hall_members(), {"image-im1": bomb_png(100_000,
                                                                                 100_000)}),
                                 source_name="hall.esx")
    assert rep.image is None and rep.image_extent_m is None
    assert ("image-im1: image of 100000 x 100000 px is larger than the limit of 50,000,000 "
            "px; the image is dropped") in rep.warnings
    assert len(site.walls) == 3                      # the rest of the project is imported


@pytest.mark.parametrize("command", ["plan", "report"])
def test_ctrl_c_is_exit_130_in_a_second_with_nothing_written(tmp_path, command):
    """SIGINT in the middle of the work: one line, exit code 130 within about a second,
    and neither the output nor a temporary of it on disk."""
    import signal
    import subprocess
    import sys
    from conftest import short_walls_site
    site = tmp_path / "walls.yaml"
    site.write_text(short_walls_site(5000), encoding="utf-8")
    out = tmp_path / ("o.yaml" if command == "plan" else "rep")
    argv = ([command, site, "-o", out] if command == "plan" else
            [command, FLOORPLANS / "large-hall.yaml", "--phase", "3", "-o", out])
    proc = subprocess.Popen([sys.executable, "-m", "wifiplan", *map(str, argv)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(2.5)
    assert proc.poll() is None, "the command ended before it was interrupted"
    t0 = time.monotonic()
    os.kill(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert time.monotonic() - t0 < 2.0
    assert (proc.returncode, err) == (130, "wifiplan: interrupted\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["walls.yaml"]
