"""Survey readers: formats, encodings, cleaning with a record, bad input."""
from __future__ import annotations

import hashlib
import math

import numpy as np
import pandas as pd
import pytest

from conftest import FLOORPLANS, SURVEYS
from wifiplan.cli import main
from wifiplan.errors import InputError
from wifiplan.site import load_site
from wifiplan.survey import (aggregate_samples, fit_georeference, read_georef, read_survey)

HEADER = "x_m,y_m,bssid,ssid,channel,rssi_dbm,timestamp\n"


def sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def workshop():
    return load_site(FLOORPLANS / "small-workshop.yaml")


def write(tmp_path, name, data):
    p = tmp_path / name
    p.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return p


# ---- formats -------------------------------------------------------------------------


def test_native_sample_every_row_accounted(workshop):
    frame, meta = read_survey(SURVEYS / "small-workshop.csv", site=workshop, aggregate=False)
    assert meta.format == "native" and meta.encoding == "utf-8"
    assert meta.n_rows == len(frame) + len(meta.rejected)       # nothing dropped silently
    reasons = {r["line"]: r["reason"] for r in meta.rejected}
    raw = pd.read_csv(SURVEYS / "small-workshop.csv", dtype=str)
    zero = int(np.flatnonzero(raw["rssi_dbm"] == "0")[0]) + 2
    assert "outside -100..-10 dBm" in reasons[zero]
    dups = [ln for ln, r in reasons.items() if r.startswith("duplicate of line")]
    assert len(dups) == 1
    first = int(reasons[dups[0]].split()[-1])
    assert raw.iloc[first - 2].equals(raw.iloc[dups[0] - 2])
    assert set(frame.columns) >= {"x_m", "y_m", "bssid", "ssid", "channel", "rssi_dbm", "line"}
    assert frame["line"].is_unique and frame["line"].min() == 2


def test_aggregation_is_the_power_mean():
    f = pd.DataFrame({"x_m": [1.0, 1.0, 1.01, 5.0], "y_m": [2.0, 2.0, 2.0, 2.0],
                      "bssid": pd.Categorical(["02:1a:00:00:00:01"] * 4),
                      "ssid": "S", "channel": 36.0, "rssi_dbm": [-50.0, -60.0, -70.0, -40.0],
                      "line": [2, 3, 4, 5]})
    out, note = aggregate_samples(f, point_tolerance_m=0.05)
    assert len(out) == 2 and "power mean" in note
    want = 10 * math.log10((10 ** -5 + 10 ** -6 + 10 ** -7) / 3)
    assert out["rssi_dbm"].iloc[0] == pytest.approx(want, abs=1e-9)
    assert out["n_samples"].tolist() == [3, 1] and out["line"].tolist() == [2, 5]
    assert out["rssi_std_db"].iloc[0] == pytest.approx(10.0)


def test_shift_jis_japanese_ssids_survive():
    frame, meta = read_survey(SURVEYS / "production-line-sjis.csv")
    assert meta.encoding == "cp932"
    assert {"工場無線LAN", "事務所ネットワーク"} <= set(frame["ssid"].astype(str))
    raw = (SURVEYS / "production-line-sjis.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")


def test_utf8_bom_and_cp932_written_here(tmp_path):
    rows = "1,2,02:1a:00:00:00:01,倉庫ネット,36,-55,t1\n"
    p = write(tmp_path, "bom.csv", b"\xef\xbb\xbf" + (HEADER + rows).encode("utf-8"))
    f, m = read_survey(p)
    assert m.encoding == "utf-8-sig" and f["ssid"].iloc[0] == "倉庫ネット"
    q = write(tmp_path, "sj.csv", (HEADER + rows).encode("shift_jis"))
    f, m = read_survey(q)
    assert m.encoding == "cp932" and f["ssid"].iloc[0] == "倉庫ネット"


def test_wigle_sample_placed_through_the_georeference():
    frame, meta = read_survey(SURVEYS / "large-hall-wigle.csv",
                              georef=SURVEYS / "large-hall-georef.yaml")
    assert meta.format == "wigle"
    assert meta.georef["max_residual_m"] < 0.05
    assert all("not a Wi-Fi record (type BLE)" == r["reason"] for r in meta.rejected)
    assert len(meta.rejected) > 0
    site = load_site(FLOORPLANS / "large-hall.yaml")
    assert site.inside_outline(frame["x_m"], frame["y_m"], 1.0).all()
    # the surveyor walked aisles at y = 3, 12, 24, 35, 50, 60 m (0.3 m position noise)
    aisles = np.array([3, 12, 24, 35, 50, 60])
    dist = np.abs(frame["y_m"].to_numpy()[:, None] - aisles[None]).min(1)
    assert np.percentile(dist, 95) < 1.0


def test_georeference_similarity_exact_and_mirrored():
    rng = np.random.default_rng(5)
    xy = rng.uniform(0, 200, (4, 2))
    # build lat/lon of a frame turned 40 degrees, then fit and invert
    g0 = fit_georeference([35.0, 35.001], [139.0, 139.0], [0, 0], [0, 111])
    lat, lon = g0.to_latlon(xy[:, 0], xy[:, 1])
    g = fit_georeference(lat, lon, xy[:, 0], xy[:, 1])
    x, y = g.to_floor(lat, lon)
    assert np.allclose(x, xy[:, 0], atol=1e-3) and np.allclose(y, xy[:, 1], atol=1e-3)
    gm = fit_georeference(lat, lon, xy[:, 0], -xy[:, 1])
    assert gm.describe()["mirrored"] and gm.max_residual_m < 1e-3
    with pytest.raises(InputError, match="disagree"):
        fit_georeference(lat, lon, xy[:, 0], xy[:, 1] + np.array([0, 0, 0, 30]))
    with pytest.raises(InputError, match="at least 2"):
        fit_georeference([35.0], [139.0], [0], [0])


def test_georef_csv(tmp_path):
    p = write(tmp_path, "ref.csv", "lat,lon,x_m,y_m\n35.0,139.0,0,0\n35.001,139.0,0,110.9\n")
    g = read_georef(p)
    assert g.n_points == 2 and abs(g.describe()["scale"] - 1.0) < 0.01


def test_wide_sample_with_ap_mapping():
    frame, meta = read_survey(SURVEYS / "production-line-wide.csv",
                              mapping=SURVEYS / "production-line-wide.apmap.yaml")
    assert meta.format == "wide"
    assert set(frame["ap_id"]) == {"AP1", "AP2", "AP3"}
    assert (frame["rssi_dbm"] > -200).all()
    raw = pd.read_csv(SURVEYS / "production-line-wide.csv")
    heard = int((raw[["AP1 RSS(dBm)", "AP2 RSS(dBm)", "AP3 RSS(dBm)"]] != -200).sum().sum())
    assert len(frame) == heard


def test_wide_needs_a_mapping_and_refuses_unknown_columns(tmp_path):
    p = write(tmp_path, "w.csv", "X,Y,AP1 RSS(dBm)\n1,2,-50\n")
    with pytest.raises(InputError, match="unrecognised columns"):
        read_survey(p)
    f, m = read_survey(p, ap_columns={"AP1 RSS(dBm)": "AP1"})
    assert f["ap_id"].tolist() == ["AP1"]


def test_mapped_csv_with_semicolons_decimal_commas_and_percent(tmp_path):
    p = write(tmp_path, "nm.csv", "X;Y;BSSID;SSID;CHAN;SIGNAL\n"
                                  "1,5;2,25;02:1A:00:00:00:01;FAC;36;70\n"
                                  "3,0;4,0;02:1A:00:00:00:02;FAC;40;100\n")
    mapping = {"delimiter": ";", "decimal": ",",
               "columns": {"x_m": "X", "y_m": "Y", "bssid": "BSSID", "ssid": "SSID",
                           "channel": "CHAN", "rssi_dbm": "SIGNAL"},
               "signal_unit": "percent", "percent_to_dbm": "networkmanager"}
    f, m = read_survey(p, mapping=mapping)
    assert f["x_m"].tolist() == [1.5, 3.0] and f["y_m"].tolist() == [2.25, 4.0]
    assert f["rssi_dbm"].tolist() == [-50.0, -20.0]
    assert f["bssid"].astype(str).tolist() == ["02:1a:00:00:00:01", "02:1a:00:00:00:02"]
    # without the conversion the percent column is refused
    bad = dict(mapping)
    del bad["signal_unit"], bad["percent_to_dbm"]
    with pytest.raises(InputError, match="percent"):
        read_survey(p, mapping=bad)
    bad["signal_unit"] = "percent"
    with pytest.raises(InputError, match="percent_to_dbm"):
        read_survey(p, mapping=bad)


def test_nmcli_style_percent_column_refused(tmp_path):
    p = write(tmp_path, "nmcli.csv",
              "x_m,y_m,bssid,ssid,channel,signal\n1,2,02:1a:00:00:00:01,F,36,70\n")
    with pytest.raises(InputError, match="percent") as e:
        read_survey(p)
    assert e.value.line == 1


# ---- bad input -------------------------------------------------------------------------


@pytest.mark.parametrize("name,data,expect", [
    ("empty.csv", b"", "empty"),
    ("header.csv", HEADER.encode(), "no data rows"),
    ("semicolon.csv", b"x_m;y_m;bssid;ssid;channel;rssi_dbm\n1;2;02:1a:00:00:00:01;F;36;-50\n",
     "semicolon"),
    ("decimal-comma.csv", (HEADER + "1,5,2,02:1a:00:00:00:01,F,36,-50,t\n"
                           "3,5,2,02:1a:00:00:00:01,F,36,-51,t\n").encode(), "line 2"),
    ("garbage.bin", np.random.default_rng(7).integers(0, 256, 3000, dtype=np.uint8).tobytes(),
     "binary"),
    ("nan.csv", (HEADER + "NaN,2,02:1a:00:00:00:01,F,36,-50,t\n"
                          "inf,2,02:1a:00:00:00:01,F,36,-50,t\n"
                          "1,2,02:1a:00:00:00:01,F,36,nan,t\n").encode(), "no usable survey rows"),
])
def test_bad_files_exit_2_with_a_line_and_stay_untouched(tmp_path, capsys, name, data, expect):
    p = write(tmp_path, name, data)
    before = sha(p)
    code = main(["survey", "check", str(FLOORPLANS / "small-workshop.yaml"),
                 str(FLOORPLANS / "small-workshop.plan.yaml"), str(p),
                 "-o", str(tmp_path / "f.json")])
    err = capsys.readouterr().err
    assert code == 2, err
    assert expect in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert str(p) in err
    if name != "empty.csv":
        assert f"{p}:" in err or "line" in err     # names the line
    assert sha(p) == before
    assert not (tmp_path / "f.json").exists()


def test_nan_inf_rows_rejected_with_line_and_the_rest_kept(tmp_path, workshop):
    p = write(tmp_path, "mixed.csv", HEADER
              + "NaN,2,02:1a:00:00:00:01,F,36,-50,t1\n"
              + "inf,2,02:1a:00:00:00:01,F,36,-50,t2\n"
              + "1,2,02:1a:00:00:00:01,F,36,-inf,t3\n"
              + "1,2,02:1a:00:00:00:01,F,36,-55,t4\n"
              + "1,2,02:1a:00:00:00:01,F,36\n"
              + "99,2,02:1a:00:00:00:01,F,36,-55,t5\n")
    f, m = read_survey(p, site=workshop, aggregate=False)
    assert f["line"].tolist() == [5]
    r = {x["line"]: x["reason"] for x in m.rejected}
    assert r == {2: "missing x_m", 3: "x_m is not finite (inf)",
                 4: "rssi_dbm is not finite (-inf)", 6: "missing rssi_dbm",
                 7: "point (99, 2) is outside the site outline"}


def test_decimal_commas_reported_per_line(tmp_path):
    p = write(tmp_path, "dc.csv", HEADER + "1,2,02:1a:00:00:00:01,F,36,-50,t\n"
                                           "1,5,2,02:1a:00:00:00:01,F,36,-50,t\n")
    f, m = read_survey(p)
    assert len(f) == 1
    assert m.rejected == [{"line": 3, "reason": "expected 7 fields, found 8 (a decimal comma "
                                                "or an unquoted comma in a name?)"}]


def test_size_limit_refused_unread(tmp_path):
    p = write(tmp_path, "big.csv", HEADER + "1,2,02:1a:00:00:00:01,F,36,-50,t\n" * 50)
    with pytest.raises(InputError, match="larger than the limit"):
        read_survey(p, max_bytes=1000)


def test_wigle_without_georef_is_refused():
    with pytest.raises(InputError, match="georeference"):
        read_survey(SURVEYS / "large-hall-wigle.csv")


def test_sample_inputs_never_modified(tmp_path):
    files = sorted(SURVEYS.glob("*.csv")) + sorted(SURVEYS.glob("*.yaml"))
    before = {p: sha(p) for p in files}
    for p in files:
        if p.name.endswith(".csv"):
            try:
                read_survey(p, georef=SURVEYS / "large-hall-georef.yaml",
                            mapping=(SURVEYS / "production-line-wide.apmap.yaml"
                                     if "wide" in p.name else None))
            except InputError:
                pass
    assert {p: sha(p) for p in files} == before


def test_percent_values_in_a_dbm_column_refused(tmp_path):
    p = write(tmp_path, "pct.csv", HEADER + "1,2,02:1a:00:00:00:01,F,36,70,t\n"
                                            "1,3,02:1a:00:00:00:01,F,36,64,t\n")
    with pytest.raises(InputError, match="percent") as e:
        read_survey(p)
    assert e.value.line == 2


def test_readers_take_bytes_and_uploads_as_well_as_paths():
    import io
    path = SURVEYS / "large-hall-wigle.csv"
    gpath = SURVEYS / "large-hall-georef.yaml"
    ref, ref_meta = read_survey(path, georef=gpath)

    class Upload(io.BytesIO):                     # what a browser upload looks like
        def __init__(self, p):
            super().__init__(p.read_bytes())
            self.name = p.name

    up, up_meta = read_survey(Upload(path), georef=Upload(gpath), name=path.name)
    pd.testing.assert_frame_equal(ref, up)
    assert up_meta.source == path.name and up_meta.format == ref_meta.format
    raw, _ = read_survey(path.read_bytes(), georef=gpath.read_bytes())
    pd.testing.assert_frame_equal(ref, raw)
    # messages name the upload, and a file too large is refused before it is read
    with pytest.raises(InputError, match=r"^broken\.csv:1: file is empty"):
        read_survey(b"", name="broken.csv")
    with pytest.raises(InputError, match="larger than the limit"):
        read_survey(Upload(path), max_bytes=100)


def test_the_cli_offers_the_readers_formats():
    from wifiplan.cli.survey import SURVEY_FORMATS
    from wifiplan.survey.readers import FORMATS
    assert tuple(SURVEY_FORMATS) == tuple(FORMATS)
