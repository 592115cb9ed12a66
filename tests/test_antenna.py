"""Antenna patterns (.msi), their 3-D gain and mounting, AP models, and what a directional
AP changes: received power against hand values, EIRP, PoE, the bill of materials; the
omni default unchanged; bad pattern files and mounting keys as one-line errors."""
from __future__ import annotations

import math

import numpy as np
import pytest

from wifiplan.apmodels import MODELS
from wifiplan.backhaul import backhaul_summary
from wifiplan.cli import main
from wifiplan.errors import InputError
from wifiplan.evaluation import plan_violations
from wifiplan.plan import parse_plan, plan_from_dict
from wifiplan.radio.antenna import (DBD_TO_DBI, MountedAntenna, builtin_pattern, parse_msi,
                                    read_pattern)
from wifiplan.radio.propagation import PropagationModel, rssi_points_dbm
from wifiplan.radio.radiomap import compute_radiomap
from wifiplan.rollout.bom import ap_config_sheet, bill_of_materials, cable_runs, switch_usage
from wifiplan.site import site_from_dict

TINY = """NAME tiny test antenna
MAKE nobody
FREQUENCY 5500
GAIN 10 dBd
TILT MECHANICAL
HORIZONTAL 4
0 0
90 10
180 20
270 10
VERTICAL 4
0 0
90 6
180 20
270 6
"""


def test_parse_tiny_msi():
    p = parse_msi(TINY, "tiny.msi")
    assert p.name == "tiny test antenna"
    assert p.gain_dbi == pytest.approx(10 + 2.15, abs=1e-12)      # dBd -> dBi
    assert p.frequency_mhz == 5500.0
    assert p.peak_gain_dbi == pytest.approx(12.15)
    # linear between the samples, periodically: bearing 45 -> 5 dB, 315 -> 5 dB
    assert p.loss_h_db(45.0) == pytest.approx(5.0)
    assert p.loss_h_db(315.0) == pytest.approx(5.0)
    assert p.loss_v_db(45.0) == pytest.approx(3.0)
    assert not p.is_omni and builtin_pattern("omni").is_omni
    assert parse_msi(TINY.replace("GAIN 10 dBd", "GAIN 10 dBi"), "t").gain_dbi == 10.0
    assert DBD_TO_DBI == 2.15


def test_builtin_patterns_match_their_datasheet_figures():
    s = builtin_pattern("sector")
    assert s.peak_gain_dbi == 14.0
    # 3 dB at half the 60 degree beam, 25 dB behind (12 (psi / 60)^2 capped at 25)
    assert s.loss_h_db(30.0) == pytest.approx(3.0) and s.loss_h_db(330.0) == pytest.approx(3.0)
    assert s.loss_h_db(180.0) == 25.0 and s.loss_v_db(8.5) == pytest.approx(3.0, abs=0.01)
    pa = builtin_pattern("patch")
    assert pa.peak_gain_dbi == 8.0 and pa.loss_h_db(35.0) == pytest.approx(3.0)


def _cross_weighted(gh, gv, k=2.0):
    """Vasiliadis et al. 2005 eq. (4)-(6), written out for the hand values."""
    h, v = 10 ** (gh / (20 * k)), 10 ** (gv / (20 * k))
    w1, w2 = v * (1 - h), h * (1 - v)
    return (gh * w1 + gv * w2) / (w1 + w2)


def test_3d_gain_from_the_cuts_by_hand():
    p = parse_msi(TINY, "tiny.msi")
    # on a principal cut the cut's own value
    assert p.relative_db(45.0, 0.0) == pytest.approx(-5.0)          # left: bearing 315
    assert p.relative_db(0.0, 45.0) == pytest.approx(-3.0)
    assert p.relative_db(0.0, 0.0) == pytest.approx(0.0)
    # off both: G_H = -5, G_V = -3 -> the weighted value, by hand -4.278 dB
    assert _cross_weighted(-5.0, -3.0) == pytest.approx(-4.278, abs=1e-3)
    assert p.relative_db(45.0, 45.0) == pytest.approx(_cross_weighted(-5.0, -3.0), abs=1e-9)
    # behind: H 20 dB and the back half of the vertical cut (180 - 0 = 180: 20 dB) -> 20
    assert p.relative_db(180.0, 0.0) == pytest.approx(-20.0)
    # behind and 45 degrees down: V at 135 = 13 dB, H 20 dB
    assert p.relative_db(180.0, 45.0) == pytest.approx(_cross_weighted(-20.0, -13.0), abs=1e-9)
    # the summing method: G_max - (L_H + L_V) with the front half of V
    assert p.relative_db(45.0, 45.0, "summing") == pytest.approx(-8.0)
    assert p.relative_db(180.0, 45.0, "summing") == pytest.approx(-23.0)


def test_mounting_turns_the_pattern():
    p = parse_msi(TINY, "tiny.msi")
    m = MountedAntenna(p, azimuth_deg=90.0)                 # boresight along +y
    assert m.gain_toward_dbi(0, 5, 0) == pytest.approx(12.15)
    assert m.gain_toward_dbi(5, 0, 0) == pytest.approx(12.15 - 10)   # its right side
    assert m.gain_toward_dbi(0, -5, 0) == pytest.approx(12.15 - 20)
    down = MountedAntenna(p, azimuth_deg=0.0, tilt_deg=90.0)
    assert down.gain_toward_dbi(0, 0, -3) == pytest.approx(12.15)     # faces the floor
    assert down.gain_toward_dbi(0, 0, 3) == pytest.approx(12.15 - 20)
    # 45 degrees below boresight in its vertical plane (toward +x and down): 3 dB
    tilted = MountedAntenna(p, tilt_deg=45.0)
    assert tilted.gain_toward_dbi(1, 0, 0) == pytest.approx(12.15 - 3)   # the horizon: 45 up
    assert tilted.gain_toward_dbi(0, 0, -1) == pytest.approx(12.15 - 3)
    assert m.peak_gain_dbi == pytest.approx(12.15)
    g = MountedAntenna(p, gain_dbi=5.0)                     # a model's gain: shape kept
    assert g.gain_toward_dbi(-1, 0, 0) == pytest.approx(5.0 - 20) and g.peak_gain_dbi == 5.0


# ---- a directional AP on a free-space site --------------------------------------------

SITE = {"name": "Open floor", "outline": [[0, 0], [40, 0], [40, 40], [0, 40]],
        "propagation": {"model": "free-space", "ap_height_m": 1.2, "client_height_m": 1.2}}


def _site():
    return site_from_dict(SITE, source="open.yaml")


def _fspl(d, f_mhz=5180.0):
    return 20 * math.log10(4 * math.pi * d * f_mhz * 1e6 / 299_792_458.0)


def _plan(**ap):
    a = {"id": "AP1", "x_m": 20.0, "y_m": 20.0, "height_m": 1.2, "channel": 36,
         "tx_power_dbm": 10.0}
    a.update(ap)
    return plan_from_dict({"site": "Open floor", "aps": [a]}, source="p.plan.yaml")


def test_sector_down_the_aisle_by_hand():
    site = _site()
    plan = _plan(model="generic-external-antenna", antenna="sector", azimuth_deg=0)
    # AP and client at 1.2 m: every ray in the horizontal plane, only the H cut counts
    x = np.array([30.0, 10.0, 20.0 + 10 * math.cos(math.radians(30)), 20.0])
    y = np.array([20.0, 20.0, 20.0 + 10 * math.sin(math.radians(30)), 30.0])
    got = rssi_points_dbm(site, plan.aps, x, y)[0]
    want = [10 + 14 - _fspl(10),            # boresight: 14 dBi
            10 + 14 - 25 - _fspl(10),       # behind: 25 dB front to back
            10 + 14 - 3 - _fspl(10),        # 30 degrees off: the 3 dB edge of the beam
            10 + 14 - 25 - _fspl(10)]       # 90 degrees off: 12 (90/60)^2 = 27 -> 25
    assert got == pytest.approx(want, abs=1e-6)
    omni = rssi_points_dbm(site, _plan().aps, x, y)[0]          # the site's 3 dBi omni
    assert omni == pytest.approx([10 + 3 - _fspl(10)] * 4, abs=1e-6)
    # the radio map's per-AP layer carries the pattern (grid cell centres at 0.5 m steps)
    rm = compute_radiomap(site, plan.aps, 1.0)
    ix, iy = np.searchsorted(rm.xs, 30.5), np.searchsorted(rm.ys, 20.5)
    d = math.hypot(rm.xs[ix] - 20, rm.ys[iy] - 20)
    bearing = math.degrees(math.atan2(rm.ys[iy] - 20, rm.xs[ix] - 20))
    loss = min(12 * (bearing / 60) ** 2, 25)
    assert rm.gain_db[0, iy, ix] == pytest.approx(14 - loss - _fspl(d), abs=0.02)
    back = rm.gain_db[0, iy, np.searchsorted(rm.xs, 9.5)]
    assert float(rm.gain_db[0, iy, ix] - back) > 20


def test_hall_grid_equals_points_for_a_directional_ap():
    d = dict(SITE, propagation={"ap_height_m": 4.0}, name="Hall",
             obstacles=[{"name": "rack", "polygon": [[25, 5], [27, 5], [27, 35], [25, 35]],
                         "material": "metal", "height_m": 3.0}])
    site = site_from_dict(d, source="hall.yaml")
    plan = plan_from_dict({"site": "Hall", "aps": [
        {"id": "AP1", "x_m": 10.0, "y_m": 20.0, "height_m": 4.0, "channel": 44,
         "tx_power_dbm": 8.0, "model": "generic-external-antenna", "antenna": "sector",
         "azimuth_deg": 90, "tilt_deg": 10}]}, source="h.plan.yaml")
    model = PropagationModel.for_site(site)
    rm = compute_radiomap(site, plan.aps, 1.0, model)
    X, Y = np.meshgrid(rm.xs, rm.ys)
    pts = rssi_points_dbm(site, plan.aps, X.ravel(), Y.ravel(), model)[0].reshape(X.shape)
    assert np.abs(rm.rssi_dbm[0] - pts).max() < 0.01
    # the diffuse field takes no antenna gain: far behind, it is what is left, the same
    # level as for the site's omni there less nothing (behind the sector the direct ray
    # is 25+ dB down and the diffuse field dominates both)
    omni = rssi_points_dbm(site, _plan(x_m=10.0, y_m=20.0, height_m=4.0, channel=44,
                                       tx_power_dbm=8.0).aps, [10.0], [2.0], model)[0, 0]
    behind = rssi_points_dbm(site, plan.aps, [10.0], [2.0], model)[0, 0]
    assert omni - 6 < behind < omni


def test_omni_default_unchanged():
    site = _site()
    x, y = np.array([5.0, 33.0, 20.0]), np.array([7.0, 21.0, 39.0])
    base = rssi_points_dbm(site, _plan().aps, x, y)
    # the default model and the built-in omni at the site's 3 dBi give the same values
    for kw in ({"model": "generic-omni-ceiling"}, {"antenna": "omni"}):
        assert np.array_equal(rssi_points_dbm(site, _plan(**kw).aps, x, y), base)
    a = _plan().aps[0]
    assert a.mount is None and "model" not in a.to_dict() and "antenna" not in a.to_dict()
    rm0 = compute_radiomap(site, _plan().aps, 2.0)
    rm1 = compute_radiomap(site, _plan(model="generic-omni-ceiling").aps, 2.0)
    assert np.array_equal(rm0.gain_db, rm1.gain_db)
    # a moved antenna is a new layer of the map (the cache key has the mounting)
    turned = _plan(model="generic-external-antenna", antenna="sector", azimuth_deg=90).aps
    assert not np.array_equal(rm0.with_aps(turned).gain_db, rm0.gain_db)


def test_eirp_poe_and_bom_use_the_model():
    site = site_from_dict(dict(SITE, regulatory_domain="EU", infrastructure={
        "switches": [{"name": "SW1", "position": [1, 1], "ports": 8, "poe_budget_w": 60}]}),
        source="eu.yaml")
    sector = _plan(model="generic-external-antenna", antenna="sector", tx_power_dbm=10.0,
                   switch="SW1", port=1)
    # EU 36-48: 23 dBm EIRP; 10 dBm + 14 dBi = 24 dBm is over, 10 + 3 (site omni) is not
    assert plan_violations(site, _plan().aps, 3.0) == []
    v = plan_violations(site, sector.aps, 3.0)
    assert v == ["AP1: EIRP 24 dBm exceeds the 23 dBm limit of channel 36"]
    hot = _plan(model="generic-omni-compact", tx_power_dbm=19.0)
    assert "AP1: transmit power 19 dBm is above the 18 dBm of model generic-omni-compact" \
        in plan_violations(site, hot.aps, 3.0)
    compact = _plan(model="generic-omni-compact", switch="SW1", port=2)
    aps = sector.aps + [type(compact.aps[0])(**{**compact.aps[0].__dict__, "id": "AP2"})]
    s = backhaul_summary(site, aps)
    assert s["switches"]["SW1"]["poe_w"] == pytest.approx(30.0 + 15.4)
    assert s["aps"]["AP2"]["poe_w"] == 15.4 and s["aps"]["AP2"]["poe_class"] == \
        "802.3af class 3"
    plan = plan_from_dict({"site": "Open floor", "aps": [a.to_dict() for a in aps]},
                          source="p.plan.yaml")
    runs = cable_runs(site, plan)
    bom = bill_of_materials(site, plan, runs, switch_usage(site, plan))
    items = " | ".join(bom["item"])
    assert "AP generic-external-antenna" in items and "AP generic-omni-compact" in items
    assert "External antenna sector (wifiplan generic sector 14 dBi 60/17, 14 dBi peak)" \
        in items
    sheet = ap_config_sheet(site, plan)
    assert list(sheet["antenna"]) == ["sector", "omni"]
    assert MODELS["generic-omni-ceiling"].poe_w == 30.0


def test_pattern_file_relative_to_the_plan(tmp_path):
    (tmp_path / "ants").mkdir()
    (tmp_path / "ants" / "tiny.msi").write_text(TINY, encoding="utf-8")
    text = ("site: Open floor\naps:\n  - {id: AP1, x_m: 20, y_m: 20, height_m: 1.2, "
            "antenna: ants/tiny.msi, azimuth_deg: 180}\n")
    (tmp_path / "p.plan.yaml").write_text(text, encoding="utf-8")
    from wifiplan.plan import load_plan
    p = load_plan(tmp_path / "p.plan.yaml")
    assert p.aps[0].mount.pattern.name == "tiny test antenna"
    assert p.aps[0].to_dict()["antenna"] == "ants/tiny.msi"
    assert read_pattern(tmp_path / "ants" / "tiny.msi").gain_dbi == pytest.approx(12.15)


@pytest.mark.parametrize("text, needle", [
    (TINY.replace("90 10\n", "90 ten\n", 1), "bad.msi:8"),
    (TINY.replace("GAIN 10 dBd\n", ""), "no GAIN line"),
    (TINY.replace("270 6\n", ""), "the file ends after 3 samples"),
    (TINY.replace("180 20\n", "180 -99\n", 1), "bad.msi:9"),
    (TINY.replace("HORIZONTAL 4", "HORIZONTAL 3"), "bad.msi:6"),
])
def test_bad_pattern_file_is_one_line_exit_2(tmp_path, capsys, text, needle):
    (tmp_path / "site.yaml").write_text(
        "name: Open floor\noutline: [[0, 0], [40, 0], [40, 40], [0, 40]]\n", encoding="utf-8")
    (tmp_path / "bad.msi").write_text(text, encoding="utf-8")
    (tmp_path / "p.plan.yaml").write_text(
        "site: Open floor\naps:\n  - {id: AP1, x_m: 20, y_m: 20, antenna: bad.msi}\n",
        encoding="utf-8")
    (tmp_path / "pts.csv").write_text("x_m,y_m\n1,1\n", encoding="utf-8")
    code = main(["predict", str(tmp_path / "site.yaml"), str(tmp_path / "p.plan.yaml"),
                 "--points", str(tmp_path / "pts.csv"), "-o", str(tmp_path / "o.csv")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "Traceback" not in err
    assert needle in err and "bad.msi" in err, err
    assert not (tmp_path / "o.csv").exists()


@pytest.mark.parametrize("ap, needle", [
    ("azimuth_deg: 400", "aps[0].azimuth_deg: 400 is out of range"),
    ("tilt_deg: 120", "aps[0].tilt_deg: 120 is out of range"),
    ("model: AP-9000", "aps[0].model: unknown AP model 'AP-9000'"),
    ("model: generic-patch-ceiling, antenna: sector", "aps[0].antenna: model "
                                                      "generic-patch-ceiling has an integrated"),
    ("antenna: yagi", "aps[0].antenna: unknown antenna 'yagi'"),
    ("antenna: missing.msi", "pattern file 'missing.msi' not found"),
])
def test_bad_mounting_keys_name_the_key(ap, needle, tmp_path):
    text = f"site: Open floor\naps:\n  - {{id: AP1, x_m: 20, y_m: 20, {ap}}}\n"
    with pytest.raises(InputError) as e:
        parse_plan(text, source="p.plan.yaml")
    assert "p.plan.yaml:3" in str(e.value) and needle in str(e.value), str(e.value)
