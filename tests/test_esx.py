"""Ekahau .esx import and export: projects built here from the format's JSON import to the
geometry and losses computed by hand; wifiplan -> .esx -> wifiplan keeps the site and the
plan; hostile archives are refused with one line and exit code 2."""
from __future__ import annotations

import io
import json
import struct
import zipfile

import numpy as np
import pytest

from wifiplan import InputError, load_plan, load_site
from wifiplan.cli import main
from wifiplan.esx import esx_floors, export_esx, export_warnings, import_esx
from wifiplan.plan import plan_from_dict
from wifiplan.rules import DEFAULT_MIN_RSSI_DBM
from wifiplan.site import site_from_dict

def _png() -> bytes:
    from PIL import Image
    buf = io.BytesIO()
    Image.new("RGB", (20, 10), "white").save(buf, format="PNG")
    return buf.getvalue()


PNG = _png()


def band(af):
    return [{"band": b, "attenuationFactor": af, "reflectionCoefficient": 0.5,
             "diffractionCoefficient": 11.0} for b in ("SIX", "FIVE", "TWO")]


def pts(*xy):
    return [{"x": float(x), "y": float(y)} for x, y in xy]


def radio(rid, ap, *, freqs=None, channel=None, power=10.0, height=None, antenna="omni",
          **kw):
    r = {"id": rid, "accessPointId": ap, "radioTechnology": "IEEE802_11",
         "transmitPower": power, "antennaTypeId": antenna, "enabled": True, **kw}
    if freqs is not None:
        r["channelByCenterFrequencyDefinedNarrowChannels"] = freqs
    if channel is not None:
        r["channel"] = channel
    if height is not None:
        r["antennaHeight"] = height
    return r


def hall_members():
    """One floor, 1000 x 500 px at 0.05 m/px: a hall of 50 m x 25 m.

    Pixel (px, py) is at (0.05 px, 0.05 (500 - py)) m.
    """
    fl = "floor-1"

    def wp(pid, x, y):
        return {"id": pid, "location": {"floorPlanId": fl, "coord": {"x": x, "y": y}}}

    return {
        "project.json": {"project": {"id": "p", "name": "Hall Project", "title": "Hall B"}},
        "floorPlans.json": {"floorPlans": [{
            "id": fl, "name": "Ground", "width": 1000.0, "height": 500.0, "imageId": "im1",
            "metersPerUnit": 0.05, "cropMinX": 0.0, "cropMinY": 0.0, "cropMaxX": 1000.0,
            "cropMaxY": 500.0}]},
        "images.json": {"images": [{"id": "im1", "imageFormat": "PNG",
                                    "resolutionWidth": 1000.0, "resolutionHeight": 500.0}]},
        "wallTypes.json": {"wallTypes": [
            # 24 dB/m x 0.5 m = 12 dB: not the library's concrete (27 dB)
            {"id": "wt-c", "name": "Wall, Concrete", "thickness": 0.5, "lowerEdge": 0.0,
             "propagationProperties": band(24.0)},
            # 30 dB/m x 0.1 m = 3 dB, and only 3 m high
            {"id": "wt-d", "name": "Wall, Dry", "thickness": 0.1, "lowerEdge": 0.0,
             "upperEdge": 3.0, "propagationProperties": band(30.0)},
            # 135 dB/m x 0.2 m = 27 dB: the library's concrete, reused
            {"id": "wt-l", "name": "concrete", "thickness": 0.2,
             "propagationProperties": band(135.0)}]},
        "wallPoints.json": {"wallPoints": [
            wp("A", 200, 500), wp("B", 200, 260),                  # (10, 0) - (10, 12)
            wp("C", 400, 0), wp("D", 400, 100), wp("E", 600, 100),  # (20, 25) (20, 20) (30, 20)
            wp("F", 800, 500), wp("G", 800, 400)]},                # (40, 0) - (40, 5)
        "wallSegments.json": {"wallSegments": [
            {"id": "s1", "wallPoints": ["A", "B"], "wallTypeId": "wt-c"},
            {"id": "s2", "wallPoints": ["C", "D"], "wallTypeId": "wt-d"},
            {"id": "s3", "wallPoints": ["D", "E"], "wallTypeId": "wt-d"},
            {"id": "s4", "wallPoints": ["F", "G"], "wallTypeId": "wt-l"}]},
        "attenuationAreaTypes.json": {"attenuationAreaTypes": [
            {"id": "at-r", "name": "Warehouse Rack", "lowerEdge": 0.0,
             "propagationProperties": band(18.0)},
            {"id": "at-s", "name": "Shelf", "lowerEdge": 0.5, "upperEdge": 2.0,
             "propagationProperties": band(5.0)}]},
        "attenuationAreas.json": {"attenuationAreas": [
            # x 5..25 m, y 13.5..15 m: 1.5 m deep -> 18 x 1.5 = 27 dB, up to the ceiling
            {"id": "aa1", "floorPlanId": fl, "attenuationAreaTypeId": "at-r",
             "area": pts((100, 200), (500, 200), (500, 230), (100, 230))},
            # x 35..37 m, y 6..10 m: 2 m deep -> 5 x 2 = 10 dB, 2 m high
            {"id": "aa2", "floorPlanId": fl, "attenuationAreaTypeId": "at-s",
             "area": pts((700, 300), (740, 300), (740, 380), (700, 380))}]},
        "exclusionAreas.json": {"exclusionAreas": [
            {"id": "ex1", "floorPlanId": fl,
             "area": pts((900, 0), (1000, 0), (1000, 100), (900, 100))}]},   # x 45..50, y 20..25
        "requirements.json": {"requirements": [
            {"id": "r-voice", "name": "Voice", "criteria": [
                {"frequencyBand": "FIVE", "type": "SIGNAL_STRENGTH", "function": "AT_LEAST",
                 "value": -64.0},
                {"frequencyBand": "FIVE", "type": "SIGNAL_TO_NOISE_RATIO",
                 "function": "AT_LEAST", "value": 28.0},
                {"frequencyBand": "FIVE", "type": "SECONDARY_SIGNAL_STRENGTH",
                 "function": "AT_LEAST", "value": -75.0},
                {"frequencyBand": "FIVE", "type": "DATA_RATE", "function": "AT_LEAST",
                 "value": 24.0},
                {"frequencyBand": "TWO", "type": "SIGNAL_STRENGTH", "function": "AT_LEAST",
                 "value": -60.0}]},
            {"id": "r-def", "name": "Default", "isDefault": True, "criteria": [
                {"frequencyBand": "FIVE", "type": "SIGNAL_STRENGTH", "function": "AT_LEAST",
                 "value": -68.0}]}]},
        "areas.json": {"areas": [
            {"id": "z1", "name": "Line 1", "floorPlanId": fl, "requirementId": "r-voice",
             "area": pts((0, 0), (400, 0), (400, 500), (0, 500))},          # x 0..20
            {"id": "z2", "name": "Store", "floorPlanId": fl,                 # default profile
             "area": pts((400, 0), (1000, 0), (1000, 500), (400, 500))}]},
        "antennaTypes.json": {"antennaTypes": [
            {"id": "omni", "name": "Integrated Omni", "gain": 4.0},
            {"id": "panel", "name": "Sample Panel 6dBi", "gain": 6.0, "directional": True}]},
        "accessPoints.json": {"accessPoints": [
            {"id": "ap1", "name": "AP-1", "location": {"floorPlanId": fl,
                                                      "coord": {"x": 300, "y": 250}}},
            {"id": "ap2", "name": "AP-2", "location": {"floorPlanId": fl,
                                                      "coord": {"x": 700, "y": 100}}},
            {"id": "ap3", "name": "AP-3", "location": {"floorPlanId": fl,
                                                      "coord": {"x": 500, "y": 450}}},
            {"id": "ap5", "name": "AP-5", "location": {"floorPlanId": fl,
                                                      "coord": {"x": 100, "y": 400}}}]},
        "simulatedRadios.json": {"simulatedRadios": [
            radio("r1", "ap1", freqs=[5180.0], power=10.0, height=5.0),
            radio("r1b", "ap1", freqs=[2412.0], power=15.0),
            radio("r2", "ap2", channel=[100], frequencyBand="FIVE", power=12.0, height=4.0,
                  antenna="panel"),
            radio("r3", "ap3", freqs=[2437.0]),
            radio("r5", "ap5", freqs=[5745.0, 5765.0], channelWidth="FORTY", power=8.0,
                  height=4.5)]},
    }


def make_esx(members: dict, extra: dict | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        def put(name, data):
            # a fixed member time: two calls give the same bytes even across a clock second
            z.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data,
                       compress_type=zipfile.ZIP_DEFLATED)
        for name, doc in members.items():
            put(name, doc if isinstance(doc, (str, bytes)) else json.dumps(doc))
        for name, data in (extra or {}).items():
            put(name, data)
    return buf.getvalue()


def hall_esx() -> bytes:
    return make_esx(hall_members(), {"image-im1": PNG})


# ---- import: geometry and losses by hand -------------------------------------------------

def test_walls_become_materials_of_attenuation_times_thickness():
    site, plan, rep = import_esx(hall_esx(), source_name="hall.esx")
    assert site.name == "Hall B"
    assert np.allclose(site.outline, [[0, 0], [50, 0], [50, 25], [0, 25]])
    walls = [(w.points.tolist(), w.material) for w in site.walls]
    assert walls == [([[10, 0], [10, 12]], "wall-concrete"),
                     ([[20, 25], [20, 20], [30, 20]], "wall-dry"),      # two segments, chained
                     ([[40, 0], [40, 5]], "concrete")]
    losses = site.material_losses()
    assert losses["wall-concrete"] == pytest.approx(24.0 * 0.5)        # 12 dB
    assert losses["wall-dry"] == pytest.approx(30.0 * 0.1)             # 3 dB
    assert "concrete" not in site.materials                            # the library's 27 dB
    assert losses["concrete"] == pytest.approx(135.0 * 0.2)
    assert any("imported as walls from floor to ceiling: 'Wall, Dry'" in w
               for w in rep.warnings)


def test_attenuation_areas_become_obstacles_over_their_depth():
    site, _, rep = import_esx(hall_esx())
    rack, shelf = site.obstacles
    assert np.allclose(rack.polygon, [[5, 15], [25, 15], [25, 13.5], [5, 13.5]])
    assert site.material_losses()[rack.material] == pytest.approx(18.0 * 1.5)   # 27 dB
    assert rack.material == "warehouse-rack" and rack.height_m == 8.0          # the ceiling
    assert site.material_losses()[shelf.material] == pytest.approx(5.0 * 2.0)   # 10 dB
    assert shelf.height_m == 2.0
    assert any("lower edge above the floor" in w and "'Shelf'" in w for w in rep.warnings)


def test_exclusions_requirements_and_zones():
    site, _, rep = import_esx(hall_esx())
    assert [a.name for a in site.no_mount] == ["exclusion-1"]
    assert np.allclose(site.no_mount[0].polygon, [[45, 25], [50, 25], [50, 20], [45, 20]])
    line, store = site.zones
    assert (line.name, line.min_rssi_dbm, line.min_sinr_db) == ("Line 1", -64.0, 28.0)
    assert (store.name, store.min_rssi_dbm) == ("Store", -68.0)       # the default profile
    voice = [w for w in rep.warnings if w.startswith("requirement profile 'Voice'")]
    assert len(voice) == 1
    assert "SECONDARY_SIGNAL_STRENGTH at least -75" in voice[0]
    assert "DATA_RATE at least 24" in voice[0]


def test_aps_take_their_5ghz_radio_and_keep_their_eirp():
    site, plan, rep = import_esx(hall_esx())
    assert site.propagation["ap_gain_dbi"] == 4.0             # two of the three APs
    got = {a.id: (a.x_m, a.y_m, a.height_m, a.channel, a.width_mhz, a.tx_power_dbm)
           for a in plan.aps}
    assert got == {"AP-1": (15.0, 12.5, 5.0, 36, 20, 10.0),
                   "AP-2": (35.0, 20.0, 4.0, 100, 20, 14.0),    # 12 dBm + 6 dBi - 4 dBi
                   "AP-5": (5.0, 5.0, 4.5, 149, 40, 8.0)}
    text = "\n".join(rep.warnings)
    assert "2.4 GHz radios not mapped (wifiplan plans 5 GHz Wi-Fi): AP-1, AP-3" in text
    assert "APs without an enabled 5 GHz radio, not imported: AP-3" in text
    assert "APs on DFS channels" in text and "AP-2 (100)" in text
    assert "AP-5 (40 MHz)" in text
    assert "directional antennas, modelled as omnidirectional: AP-2 (Sample Panel 6dBi)" in text
    assert "get the difference on their transmit power (same EIRP): AP-2 (6 dBi)" in text
    assert "floor image image-im1 (PNG, 1000 x 500 px, 50.0 mm per pixel)" in text
    assert rep.image == PNG and rep.image_extent_m == (0.0, 0.0, 50.0, 25.0)


def test_a_requirement_wifiplan_cannot_hold_is_listed():
    m = hall_members()
    m["requirements.json"]["requirements"][0]["criteria"][0]["value"] = -20.0
    site, _, rep = import_esx(make_esx(m))
    assert site.zones[0].min_rssi_dbm == DEFAULT_MIN_RSSI_DBM        # not mapped
    assert site.zones[0].min_sinr_db == 28.0
    assert any("SIGNAL_STRENGTH at least -20 (outside wifiplan's" in w for w in rep.warnings)


def test_cli_import_prints_warnings_and_writes_both_files(tmp_path, capsys):
    esx = tmp_path / "hall.esx"
    esx.write_bytes(hall_esx())
    code = main(["import-esx", str(esx), "-o", str(tmp_path / "s.yaml"),
                 "--plan-out", str(tmp_path / "p.yaml"), "--domain", "US"])
    out = capsys.readouterr().out
    assert code == 0
    assert out.count("warning: ") == len(import_esx(hall_esx())[2].warnings) > 5
    site = load_site(tmp_path / "s.yaml")
    plan = load_plan(tmp_path / "p.yaml", site=site)
    assert site.regulatory_domain == "US" and len(plan.aps) == 3
    assert "3 walls, 2 obstacles, 1 no-mount areas, 2 zones, 3 APs" in out


def test_several_floors_need_a_floor_name(tmp_path, capsys):
    m = hall_members()
    second = dict(m["floorPlans.json"]["floorPlans"][0], id="floor-2", name="Mezzanine")
    m["floorPlans.json"]["floorPlans"].append(second)
    m["accessPoints.json"]["accessPoints"].append(
        {"id": "ap9", "name": "UP-1", "location": {"floorPlanId": "floor-2",
                                                   "coord": {"x": 10, "y": 10}}})
    m["simulatedRadios.json"]["simulatedRadios"].append(radio("r9", "ap9", freqs=[5200.0]))
    esx = tmp_path / "two.esx"
    esx.write_bytes(make_esx(m, {"image-im1": PNG}))
    assert esx_floors(esx) == ["Ground", "Mezzanine"]
    out = [str(tmp_path / "s.yaml"), "--plan-out", str(tmp_path / "p.yaml")]
    assert main(["import-esx", str(esx), "-o", *out]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "2 floors (Ground, Mezzanine)" in err and "--floor" in err
    assert not (tmp_path / "s.yaml").exists() and not (tmp_path / "p.yaml").exists()
    assert main(["import-esx", str(esx), "-o", *out, "--floor", "Attic"]) == 2
    assert "no floor named 'Attic'; the floors are Ground, Mezzanine" in capsys.readouterr().err
    assert main(["import-esx", str(esx), "-o", *out, "--floor", "Mezzanine"]) == 0
    plan = load_plan(tmp_path / "p.yaml")
    assert [a.id for a in plan.aps] == ["UP-1"]                # only that floor's APs
    assert load_site(tmp_path / "s.yaml").name == "Hall B Mezzanine"
    # walls and areas carry their floor: the mezzanine has only what is on it
    assert len(load_site(tmp_path / "s.yaml").walls) == 0


# ---- round trip ----------------------------------------------------------------------------

SITE = {
    "name": "Press Shop", "regulatory_domain": "JP",
    "outline": [[10, 5], [70, 5], [70, 35], [40, 35], [40, 45], [10, 45]],   # an L, off (0, 0)
    "propagation": {"ap_height_m": 5.0, "ap_gain_dbi": 2.5},
    "building": {"ceiling_height_m": 9.0, "roof": "metal", "floor": "concrete"},
    "materials": {"steel-shelving": {"loss_db": 18}, "concrete": {"loss_db": 12}},
    "walls": [{"from": [30, 5], "to": [30, 20], "material": "concrete"},
              {"points": [[10, 30], [25, 30], [25, 45]], "material": "plasterboard"},
              {"from": [50, 20], "to": [60, 20], "material": "glass"}],
    "obstacles": [{"name": "rack-1", "polygon": [[45, 8], [65, 8], [65, 9.2], [45, 9.2]],
                   "material": "steel-shelving", "height_m": 6.0},
                  {"name": "press", "polygon": [[35, 25], [38, 25], [38, 29], [35, 29]],
                   "material": "machinery", "height_m": 3.5}],
    "zones": [{"name": "presses", "polygon": [[10, 5], [40, 5], [40, 35], [10, 35]],
               "min_rssi_dbm": -64, "min_sinr_db": 22, "terminals": {"handheld": 4},
               "airtime_budget": 0.4},
              {"name": "store", "polygon": [[40, 5], [70, 5], [70, 35], [40, 35]],
               "terminals": {"thinklet": 2}, "boundary_band": False}],
    "no_mount": [{"name": "crane", "polygon": [[60, 25], [70, 25], [70, 35], [60, 35]]}],
    "infrastructure": {"switches": [{"name": "SW1", "position": [11, 6], "ports": 16}]},
}
PLAN = {"site": "Press Shop", "aps": [
    {"id": "AP1", "x_m": 20.0, "y_m": 15.0, "height_m": 5.0, "channel": 36, "width_mhz": 20,
     "tx_power_dbm": 9.5, "bssid": "02:1a:00:00:00:01", "switch": "SW1", "port": 3},
    {"id": "AP2", "x_m": 55.5, "y_m": 14.25, "height_m": 6.2, "channel": 44, "width_mhz": 20,
     "tx_power_dbm": 7.0, "locked": True},
    {"id": "AP3", "x_m": 20.0, "y_m": 40.0, "height_m": 4.0, "channel": 40, "width_mhz": 20,
     "tx_power_dbm": 11.0},
    {"id": "AP4", "x_m": 12.5, "y_m": 30.0, "height_m": 6.0, "channel": 48, "width_mhz": 20,
     "tx_power_dbm": 6.0, "model": "generic-external-antenna", "antenna": "sector",
     "azimuth_deg": 90.0, "tilt_deg": 8.0}]}


def _same(d1: dict, d2: dict):
    d1, d2 = dict(d1), dict(d2)
    d1.pop("description", None)
    d2.pop("description", None)
    assert d2 == d1


def test_round_trip_keeps_the_site_and_the_plan(tmp_path):
    site = site_from_dict(SITE)
    plan = plan_from_dict(PLAN)
    data = export_esx(site, plan)
    assert export_esx(site, plan) == data                        # deterministic
    site2, plan2, rep = import_esx(data)
    d1, d2 = site.to_dict(), site2.to_dict()
    # the library's concrete overridden by the site (12 dB) comes back under its own name
    assert d2["materials"].pop("concrete-12db") == {"loss_db": 12}
    d1["materials"].pop("concrete")
    for w in d2["walls"]:
        w["material"] = "concrete" if w["material"] == "concrete-12db" else w["material"]
    _same(d1, d2)
    assert [a.to_dict() for a in plan2.aps] == [a.to_dict() for a in plan.aps]
    assert plan2.ap("AP4").mount.peak_gain_dbi == pytest.approx(14.0)    # the sector, mounted
    # and once more through the files and the commands
    site_path, plan_path = tmp_path / "s.yaml", tmp_path / "p.yaml"
    (tmp_path / "in.esx").write_bytes(data)
    assert main(["import-esx", str(tmp_path / "in.esx"), "-o", str(site_path),
                 "--plan-out", str(plan_path)]) == 0
    assert main(["export-esx", str(site_path), str(plan_path), "-o",
                 str(tmp_path / "again.esx")]) == 0
    site3, plan3, _ = import_esx(tmp_path / "again.esx")
    _same(site2.to_dict(), site3.to_dict())
    assert [a.to_dict() for a in plan3.aps] == [a.to_dict() for a in plan2.aps]


def test_round_trip_of_losses_without_the_wifiplan_fields():
    """What Ekahau itself keeps (it drops the 'wifiplan' fields when it saves) still gives
    the walls' and obstacles' losses, the no-mount areas, the zones' levels and the APs."""
    site = site_from_dict(SITE)
    plan = plan_from_dict(PLAN)
    zin = zipfile.ZipFile(io.BytesIO(export_esx(site, plan)))
    members = {}
    for name in zin.namelist():
        raw = zin.read(name)
        if name.endswith(".json"):
            doc = json.loads(raw)
            for objs in doc.values():
                for o in (objs if isinstance(objs, list) else [objs]):
                    o.pop("wifiplan", None)
            raw = json.dumps(doc)
        members[name] = raw
    site2, plan2, _ = import_esx(make_esx(members))
    x0, y0 = np.asarray(site.outline).min(0)
    shift = np.array([x0, y0])                          # the image's corner is (0, 0) now
    losses, losses2 = site.material_losses(), site2.material_losses()
    for w, w2 in zip(site.walls, site2.walls, strict=True):
        assert np.allclose(w.points - shift, w2.points, atol=1e-3)
        assert losses2[w2.material] == pytest.approx(losses[w.material])
    for o, o2 in zip(site.obstacles, site2.obstacles, strict=True):
        assert np.allclose(np.asarray(o.polygon) - shift, o2.polygon, atol=1e-3)
        assert losses2[o2.material] == pytest.approx(losses[o.material], abs=1e-3)
        assert o2.height_m == o.height_m
    assert np.allclose(site.no_mount[0].polygon - shift, site2.no_mount[0].polygon, atol=1e-3)
    assert [(z.min_rssi_dbm, z.min_sinr_db) for z in site2.zones] == [(-64, 22), (-67, 25)]
    assert site2.propagation["ap_gain_dbi"] == 2.5
    for a, a2 in zip(plan.aps, plan2.aps, strict=True):
        assert (a2.id, a2.channel, a2.tx_power_dbm, a2.height_m) == (
            a.id, a.channel, a.tx_power_dbm, a.height_m)
        assert (a2.x_m, a2.y_m) == pytest.approx((a.x_m - x0, a.y_m - y0), abs=1e-3)


def test_export_names_what_ekahau_has_no_place_for():
    w = export_warnings(site_from_dict(SITE), plan_from_dict(PLAN))
    assert len(w) == 1
    for what in ("the outline (not a rectangle)", "zone terminals", "infrastructure",
                 "AP BSSIDs, switches and ports", "the building block"):
        assert what in w[0]


def test_exported_project_holds_the_format_members():
    z = zipfile.ZipFile(io.BytesIO(export_esx(site_from_dict(SITE), plan_from_dict(PLAN))))
    names = set(z.namelist())
    for m in ("project.json", "floorPlans.json", "images.json", "wallTypes.json",
              "wallPoints.json", "wallSegments.json", "attenuationAreaTypes.json",
              "attenuationAreas.json", "exclusionAreas.json", "areas.json",
              "requirements.json", "accessPoints.json", "simulatedRadios.json",
              "antennaTypes.json"):
        assert m in names
    fp = json.loads(z.read("floorPlans.json"))["floorPlans"][0]
    assert z.read(f"image-{fp['imageId']}")[:8] == b"\x89PNG\r\n\x1a\n"
    types = {t["name"]: t for t in json.loads(z.read("wallTypes.json"))["wallTypes"]}
    five = [p for p in types["plasterboard"]["propagationProperties"] if p["band"] == "FIVE"]
    # plasterboard 3 dB written as 0.1 m at 30 dB/m
    assert types["plasterboard"]["thickness"] * five[0]["attenuationFactor"] == \
        pytest.approx(3.0)
    r = json.loads(z.read("simulatedRadios.json"))["simulatedRadios"][0]
    assert r["channelByCenterFrequencyDefinedNarrowChannels"] == [5180.0]
    assert r["transmitPower"] == 9.5 and r["antennaHeight"] == 5.0


# ---- hostile and broken archives -----------------------------------------------------------

def _patch_size(data: bytes, member: str, size: int) -> bytes:
    """The archive with ``member``'s uncompressed size set to ``size`` in both headers."""
    b = bytearray(data)
    name = member.encode()
    i = b.find(b"PK\x03\x04")
    while i >= 0:
        n = struct.unpack_from("<H", b, i + 26)[0]
        if bytes(b[i + 30:i + 30 + n]) == name:
            struct.pack_into("<I", b, i + 22, size)
        i = b.find(b"PK\x03\x04", i + 4)
    i = b.find(b"PK\x01\x02")
    while i >= 0:
        n = struct.unpack_from("<H", b, i + 28)[0]
        if bytes(b[i + 46:i + 46 + n]) == name:
            struct.pack_into("<I", b, i + 24, size)
        i = b.find(b"PK\x01\x02", i + 4)
    return bytes(b)


def _dupes() -> bytes:
    buf = io.BytesIO()
    with pytest.warns(UserWarning), zipfile.ZipFile(buf, "w") as z:
        for name, doc in hall_members().items():
            z.writestr(name, json.dumps(doc))
        z.writestr("floorPlans.json", "{}")
    return buf.getvalue()


def _with(member, value):
    m = hall_members()
    m[member] = value
    return make_esx(m, {"image-im1": PNG})


def _bomb() -> bytes:
    m = hall_members()
    m["wallPoints.json"] = '{"wallPoints": [' + " " * (3 * 1024 * 1024) + "]}"
    return make_esx(m)


def _bad_type():
    m = hall_members()
    m["wallPoints.json"]["wallPoints"][2]["location"]["coord"]["x"] = "left"
    return make_esx(m)


HOSTILE = {
    "not a zip": (lambda: b"PK\x03\x04 this is not really a zip", "not a zip archive"),
    "text file": (lambda: b"name: hall\n", "not a zip archive"),
    "zip bomb (ratio)": (_bomb, "wallPoints.json: member expands"),
    "200 MB image": (lambda: _patch_size(hall_esx(), "image-im1", 200 * 1024 * 1024),
                     "image-im1: member is 209.7 MB uncompressed, larger than the limit"),
    "header that lies": (lambda: _patch_size(hall_esx(), "areas.json", 10),
                         "areas.json: member"),
    "path traversal": (lambda: make_esx(hall_members(), {"../../etc/cron.d/x": b"x"}),
                       "member name '../../etc/cron.d/x' climbs out of the archive"),
    "absolute name": (lambda: make_esx(hall_members(), {"/tmp/x": b"x"}),
                      "climbs out of the archive"),
    "duplicate member": (_dupes, "member 'floorPlans.json' is in the archive twice"),
    "missing floorPlans": (lambda: make_esx({"project.json": {"project": {}}}),
                           "floorPlans.json: required member missing"),
    "malformed JSON": (lambda: _with("floorPlans.json", '{"floorPlans": [{"id": "f",}'),
                       "floorPlans.json: not valid JSON (line 1 column"),
    "NaN": (lambda: _with("floorPlans.json", '{"floorPlans": [{"metersPerUnit": NaN}]}'),
            "floorPlans.json: not valid JSON (NaN is not a number JSON allows)"),
    "wrong top level": (lambda: _with("floorPlans.json", "[1, 2]"),
                        "floorPlans.json: expected an object with the key 'floorPlans'"),
    "object not a list": (lambda: _with("wallSegments.json", {"wallSegments": 3}),
                          "wallSegments.json: wallSegments: expected a list of objects"),
    "wrong type": (_bad_type, "wallPoints.json: wallPoints[2].location.coord.x: expected a "
                              "coordinate in px, got 'left'"),
    "scale missing": (lambda: _with("floorPlans.json", {"floorPlans": [{"id": "f",
                                                                        "name": "G"}]}),
                      "floorPlans.json: floorPlans[0].metersPerUnit: expected metres per"),
    "dangling wall point": (lambda: _with("wallSegments.json", {"wallSegments": [
        {"id": "s", "wallPoints": ["A", "nowhere"], "wallTypeId": "wt-c"}]}),
        "wallSegments.json: wallSegments[0].wallPoints: names a wall point that is not in"),
    "unknown wall type": (lambda: _with("wallSegments.json", {"wallSegments": [
        {"id": "s", "wallPoints": ["A", "B"], "wallTypeId": "nope"}]}),
        "wallSegments.json: wallSegments[0].wallTypeId: wall type 'nope' is not in"),
    "power out of range": (lambda: _with("simulatedRadios.json", {"simulatedRadios": [
        radio("r", "ap1", freqs=[5180.0], power=90.0)]}),
        "simulatedRadios.json: simulatedRadios[0].transmitPower: 90 is out of range"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_archive_exit_2_one_line(case, tmp_path, capsys):
    make, expected = HOSTILE[case]
    esx = tmp_path / "p.esx"
    esx.write_bytes(make())
    code = main(["import-esx", str(esx), "-o", str(tmp_path / "s.yaml"),
                 "--plan-out", str(tmp_path / "p.yaml")])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"wifiplan: error: {esx}: ")
    assert expected in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.esx"]       # nothing written


def test_a_broken_floor_image_is_an_input_error():
    from wifiplan.floorimage import read_image
    with pytest.raises(InputError, match="floor.png: not a readable image"):
        # a chunk cut short: Pillow raises SyntaxError, not OSError
        read_image(PNG[:33] + b"\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02"
                   b"\xfe\xa75\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82", "floor.png")


def test_bounds_are_checked_on_bytes_and_uploads_too():
    with pytest.raises(InputError, match="upload.esx: member name '../x' climbs out"):
        import_esx(io.BytesIO(make_esx(hall_members(), {"../x": b"x"})),
                   source_name="upload.esx")


def test_export_never_overwrites_an_input(tmp_path, capsys):
    site_path = tmp_path / "s.yaml"
    plan_path = tmp_path / "p.yaml"
    from wifiplan.plan import save_plan
    from wifiplan.site import save_site
    save_site(site_from_dict(SITE), site_path)
    save_plan(plan_from_dict(PLAN), plan_path)
    before = plan_path.read_bytes()
    assert main(["export-esx", str(site_path), str(plan_path), "-o", str(plan_path)]) == 2
    assert "refusing to overwrite an input" in capsys.readouterr().err
    assert plan_path.read_bytes() == before
    esx = tmp_path / "x.esx"
    esx.write_bytes(hall_esx())
    assert main(["import-esx", str(esx), "-o", str(tmp_path / "n.yaml"),
                 "--plan-out", str(esx)]) == 2
    assert "refusing to overwrite an input" in capsys.readouterr().err
    assert esx.read_bytes() == hall_esx() and not (tmp_path / "n.yaml").exists()
