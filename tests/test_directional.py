"""Directional candidates down aisles: aisle finding, mountings, and the planner's choice."""
import math

import numpy as np
import pytest

import wifiplan.planning as planning
from wifiplan.evaluation.checks import plan_violations
from wifiplan.planning import plan_site
from wifiplan.planning.directional import AISLE_ANTENNA, aisle_mountings
from wifiplan.routes import find_aisles
from wifiplan.site import site_from_dict

#: three rows 2 m deep: aisles 0-3.5, 5.5-7.5, 9.5-11.5 and 13.5-17 m
RACK_ROWS_Y = (3.5, 7.5, 11.5)


def rack_store(length_m: float, domain: str = "US"):
    """A rack store ``length_m`` long and 17 m wide: three metal rack rows 7.5 m high from
    x = 6 m to the far wall, the ceiling above them closed to mounting (only the 5 m in
    front of the rows admits an AP), six handhelds."""
    L, W = float(length_m), 17.0
    racks = [{"name": f"rack-{i + 1}", "material": "metal", "height_m": 7.5,
              "polygon": [[6, y], [L - 0.5, y], [L - 0.5, y + 2], [6, y + 2]]}
             for i, y in enumerate(RACK_ROWS_Y)]
    return site_from_dict({
        "name": "Rack Store", "regulatory_domain": domain,
        "outline": [[0, 0], [L, 0], [L, W], [0, W]],
        "building": {"ceiling_height_m": 8.0, "roof": "metal", "floor": "concrete"},
        "propagation": {"ap_height_m": 7.0, "client_height_m": 1.2},
        "obstacles": racks,
        "no_mount": [{"name": "rack-block", "polygon": [[5, 0], [L, 0], [L, W], [5, W]]}],
        "zones": [{"name": "aisles", "polygon": [[0, 0], [L, 0], [L, W], [0, W]],
                   "min_rssi_dbm": -67, "terminals": {"handheld": 6}}],
        "infrastructure": {"switches": [{"name": "SW1", "position": [1.0, 7.0], "ports": 24,
                                         "poe_budget_w": 370}]}})


def test_aisles_are_the_floor_between_the_rows():
    site = rack_store(120)
    aisles = find_aisles(site)
    # the free floor of each aisle is its width less 0.5 m clearance on both sides, walked
    # in lanes 0.5 m apart; its centre line is the lanes' middle, from 0.5 m off the front
    # wall to 0.5 m off the far one
    got = sorted((a.start[1], a.width_m) for a in aisles)
    assert [round(y, 2) for y, _ in got] == [1.75, 6.5, 10.5, 15.25]
    assert [w for _, w in got] == [3.5, 2.0, 2.0, 3.5]
    for a in aisles:
        assert a.start[0] == pytest.approx(0.5) and a.end[0] == pytest.approx(119.5)
        assert a.start[1] == a.end[1]
    # the open floor in front of the rows (5 m deep) is no aisle, nor is a hall without racks
    assert not find_aisles(site_from_dict({**_plain(site), "obstacles": []}))


def _plain(site):
    return {"name": site.name, "regulatory_domain": site.regulatory_domain,
            "outline": np.asarray(site.outline).tolist(),
            "zones": [{"name": z.name, "polygon": np.asarray(z.polygon).tolist()}
                      for z in site.zones]}


def test_mountings_point_down_the_aisle_from_its_end():
    site = rack_store(120)
    ms = aisle_mountings(site, 7.0, 1.2)
    # the far ends lie under the closed ceiling: one mounting per aisle, at its front end,
    # 2 m in (1 m in is within the outline's 1.5 m mount clearance), boresight +x, tilted
    # to the aisle's middle at terminal height: atan((7 - 1.2) / (119 / 2))
    assert len(ms) == 4
    for m in ms:
        assert (m.x_m, m.azimuth_deg) == (2.5, 0.0)
        assert m.tilt_deg == pytest.approx(math.degrees(math.atan2(5.8, 59.5)), abs=0.01)


def test_the_planner_mounts_sectors_down_aisles_an_omni_cannot_light(monkeypatch):
    site = rack_store(300)
    plan = plan_site(site)
    sectors = [a for a in plan.aps if a.antenna == AISLE_ANTENNA]
    assert len(sectors) >= 2
    assert plan.metrics["primary_coverage"] >= 0.99
    for a in sectors:
        assert a.azimuth_deg == 0.0 and a.x_m == 2.5
        assert a.model == "generic-external-antenna"
        assert a.mount is not None and a.mount.peak_gain_dbi == pytest.approx(14.0)
    assert plan_violations(site, plan.aps, 3.0) == []      # EIRP within US U-NII's 36 dBm
    # the same site with omni candidates alone leaves the aisles' far ends dark
    monkeypatch.setattr(planning, "aisle_mountings", lambda *a, **k: [])
    omni = plan_site(site)
    assert all(a.antenna is None for a in omni.aps)
    assert omni.metrics["primary_coverage"] < 0.9
    assert any("cannot be reached" in w for w in omni.metrics["warnings"])


def test_sectors_stay_within_their_eirp_in_the_seed_domain():
    # the seed's 23 dBm EIRP: a 14 dBi sector transmits at most 9 dBm
    plan = plan_site(rack_store(180, domain="seed"))
    for a in plan.aps:
        if a.antenna == AISLE_ANTENNA:
            assert 1.0 <= a.tx_power_dbm <= 9.0


def test_maps_draw_where_a_directional_antenna_points():
    from wifiplan.plan import plan_from_dict
    from wifiplan.radio.antenna import boresight_xy
    from wifiplan.ui.figures import site_figure
    site = rack_store(120)
    plan = plan_from_dict({"site": site.name, "aps": [
        {"id": "S1", "x_m": 2.5, "y_m": 6.5, "channel": 36, "tx_power_dbm": 5,
         "model": "generic-external-antenna", "antenna": "sector", "azimuth_deg": 30},
        {"id": "P1", "x_m": 3.0, "y_m": 10.5, "channel": 40, "tx_power_dbm": 5,
         "model": "generic-patch-ceiling"},                      # faces the floor
        {"id": "O1", "x_m": 3.0, "y_m": 1.75, "channel": 44, "tx_power_dbm": 5}]})
    s1, p1, o1 = plan.aps
    x, y = boresight_xy(s1, 4.0)
    assert (x, y) == pytest.approx((2.5 + 4 * math.cos(math.radians(30)),
                                    6.5 + 4 * math.sin(math.radians(30))))
    assert boresight_xy(p1, 4.0) is None and boresight_xy(o1, 4.0) is None
    fig = site_figure(site, plan.aps)
    lines = [t for t in fig.data if t.name == "antenna direction"]
    assert len(lines) == 1
    # 3 % of the site's larger side (120 m): 3.6 m long, from the sector only
    assert list(lines[0].x)[:2] == pytest.approx([2.5, 2.5 + 3.6 * math.cos(math.radians(30))])
