"""The requirement contract: one set of values per zone, its defaults from the rules, the
site file's keys, and every consumer judging by it (planner, evaluation, phase criteria,
report.json, batch)."""
from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from wifiplan.cli import main
from wifiplan.errors import InputError
from wifiplan.evaluation import evaluate_plan
from wifiplan.plan import AP, Plan
from wifiplan.planning.power import point_cost
from wifiplan.requirements import Requirements, band_conflicts, band_judged, per_point
from wifiplan.rollout import assess_phase
from wifiplan.rules import (AIRTIME_BUDGET, CO_CHANNEL_MIN_SEPARATION_DB, DEFAULT_MIN_RSSI_DBM,
                            MIN_SNR_DB)
from wifiplan.site import parse_site

SITE = """
name: Two bays
regulatory_domain: seed
outline: [[0, 0], [60, 0], [60, 20], [0, 20]]
building: {ceiling_height_m: 6}
zones:
  - {name: roam, polygon: [[0, 0], [30, 0], [30, 20], [0, 20]]}
  - {name: strict, polygon: [[30, 0], [60, 0], [60, 20], [30, 20]], min_rssi_dbm: -65,
     min_sinr_db: 30, co_channel_separation_db: 22}
infrastructure:
  switches: [{name: SW1, position: [30, 1]}]
"""


def test_defaults_are_the_rules():
    r = Requirements()
    assert (r.min_rssi_dbm, r.min_sinr_db, r.co_channel_separation_db, r.boundary_band,
            r.airtime_budget) == (DEFAULT_MIN_RSSI_DBM, MIN_SNR_DB,
                                  CO_CHANNEL_MIN_SEPARATION_DB, True, AIRTIME_BUDGET)
    assert r.overrides() == {}


@pytest.mark.parametrize("min_rssi, judged", [(-70, True), (-67, True), (-66, True),
                                              (-65.5, False), (-65, False), (-60, False)])
def test_band_conflict_when_the_minimum_leaves_no_room(min_rssi, judged):
    r = Requirements(min_rssi_dbm=min_rssi)
    assert r.judges_band is judged
    assert (r.boundary_band_conflict() is None) is judged
    # a zone that drops the band has no conflict, and is not judged either
    off = Requirements(min_rssi_dbm=min_rssi, boundary_band=False)
    assert off.boundary_band_conflict() is None and not off.judges_band


def test_zone_values_win_and_round_trip():
    site = parse_site(SITE)
    roam, strict = site.zones
    assert roam.requirements == Requirements()
    assert strict.requirements == Requirements(-65.0, 30.0, 22.0, True, AIRTIME_BUDGET)
    assert list(per_point(site, np.array([0, 1, -1]), "min_sinr_db")) == [25.0, 30.0, 25.0]
    assert list(band_judged(site, np.array([0, 1, -1]))) == [True, False, True]
    assert set(band_conflicts(site)) == {"strict"}
    z = site.to_dict()["zones"][1]
    assert z["min_sinr_db"] == 30 and z["co_channel_separation_db"] == 22
    assert "boundary_band" not in z and "min_sinr_db" not in site.to_dict()["zones"][0]
    assert parse_site(json.dumps(site.to_dict())).zones[1].requirements == strict.requirements


@pytest.mark.parametrize("extra, key", [
    ("min_sinr_db: 100", "zones[0].min_sinr_db"),
    ("co_channel_separation_db: high", "zones[0].co_channel_separation_db"),
    ("boundary_band: 'yes'", "zones[0].boundary_band"),
    ("airtime_budget: 0", "zones[0].airtime_budget"),
])
def test_bad_zone_requirement_is_one_line_exit_2(tmp_path, capsys, extra, key):
    p = tmp_path / "s.yaml"
    p.write_text(f"""
name: bad
outline: [[0, 0], [20, 0], [20, 10], [0, 10]]
zones:
  - name: z
    polygon: [[0, 0], [20, 0], [20, 10], [0, 10]]
    {extra}
""")
    with pytest.raises(InputError):
        parse_site(p.read_text())
    code = main(["plan", str(p), "-o", str(tmp_path / "out.yaml")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and key in err
    assert not (tmp_path / "out.yaml").exists()


def test_point_cost_skips_the_band_where_it_is_not_judged():
    best = np.array([-55.0, -55.0, -68.0])
    second = np.array([-56.0, -56.0, -69.0])
    req = np.array([-67.0, -67.0, -70.0])
    full = point_cost(best, second, req)
    part = point_cost(best, second, req, band_mask=np.array([True, False, True]))
    # 10 dB above the band: one plus a quarter per dB; the third point is in the band
    assert full.tolist() == [3.5, 3.5, 0.0]
    assert part.tolist() == [3.5, 0.0, 0.0]


def _two_ap_plan():
    return Plan("Two bays", [AP("A", 15, 10, 5.0, 36, tx_power_dbm=4.0, switch="SW1", port=1),
                             AP("B", 45, 10, 5.0, 44, tx_power_dbm=4.0, switch="SW1", port=2)])


def test_evaluation_judges_each_zone_by_its_own_values():
    site = parse_site(SITE)
    plan = _two_ap_plan()
    m = evaluate_plan(site, plan, resolution_m=2.0)
    assert set(m["boundary_band_conflicts"]) == {"strict"}
    assert m["boundary_points_not_judged"] > 0
    # the same plan with the strict zone asking the defaults: more points judged, and the
    # SINR share is measured at 25 dB everywhere instead of 30 dB in one zone
    relaxed = replace(site, zones=[site.zones[0], replace(site.zones[1], min_rssi_dbm=-67.0,
                                                           min_sinr_db=25.0)])
    r = evaluate_plan(relaxed, plan, resolution_m=2.0)
    assert r["boundary_points"] == m["boundary_points"] + m["boundary_points_not_judged"]
    assert r["sinr_ok_share"] >= m["sinr_ok_share"]


def test_band_criterion_impossible_when_every_zone_forbids_it(tmp_path):
    site = parse_site(SITE.replace("{name: roam, polygon: [[0, 0], [30, 0], [30, 20], [0, 20]]}",
                                   "{name: roam, polygon: [[0, 0], [30, 0], [30, 20], [0, 20]],"
                                   " min_rssi_dbm: -64}"))
    a = assess_phase(site, 3, _two_ap_plan(), resolution_m=2.0)
    c = {x.id: x for x in a.criteria}["P3-boundary"]
    assert c.passed is False and c.impossible
    assert "roam" in c.detail and "strict" in c.detail and "-65..-70 dBm" in c.detail
    assert c.action and c.to_dict()["impossible"] is True
    # every failed criterion says what to do next
    assert all(x.action for x in a.criteria if x.passed is False)


def test_cable_beyond_the_sites_switches_is_impossible_with_the_switch_to_add():
    site = parse_site(SITE.replace("outline: [[0, 0], [60, 0], [60, 20], [0, 20]]",
                                   "outline: [[0, 0], [160, 0], [160, 20], [0, 20]]"))
    plan = Plan("Two bays", [AP("A", 15, 10, 5.0, 36, switch="SW1", port=1),
                             AP("B", 150, 10, 5.0, 44, switch="SW1", port=2)])
    a = assess_phase(site, 3, plan, resolution_m=2.0)
    c = {x.id: x for x in a.criteria}["P3-cable"]
    assert c.passed is False and c.impossible and "add a switch near" in c.action
    assert "B" in c.action


def test_zones_that_drop_the_band_are_not_judged_and_not_impossible():
    site = parse_site(SITE.replace("min_rssi_dbm: -65,", "min_rssi_dbm: -67, boundary_band: false,")
                      .replace("{name: roam, polygon: [[0, 0], [30, 0], [30, 20], [0, 20]]}",
                               "{name: roam, polygon: [[0, 0], [30, 0], [30, 20], [0, 20]],"
                               " boundary_band: false}"))
    assert not any(z.requirements.judges_band for z in site.zones)
    c = {x.id: x for x in assess_phase(site, 3, _two_ap_plan(), resolution_m=2.0).criteria}
    assert c["P3-boundary"].passed is None and not c["P3-boundary"].impossible


def test_a_zones_airtime_budget_is_its_cells_budget():
    from wifiplan.capacity import cell_load
    from wifiplan.radio.radiomap import compute_radiomap
    text = SITE.replace("{name: roam, polygon: [[0, 0], [30, 0], [30, 20], [0, 20]]}",
                        "{name: roam, polygon: [[0, 0], [30, 0], [30, 20], [0, 20]], "
                        "terminals: {handheld: 6}}")
    site = parse_site(text)
    rm = compute_radiomap(site, _two_ap_plan().aps, resolution_m=2.0)
    base = cell_load(site, rm)
    busy = base.loc[base["airtime"].idxmax()]
    assert busy["airtime_budget"] == AIRTIME_BUDGET and bool(busy["ok"])
    # the same zone asking for a budget below the busiest cell's airtime
    tight = parse_site(text.replace("terminals: {handheld: 6}}",
                                    f"terminals: {{handheld: 6}}, airtime_budget: "
                                    f"{max(0.05, round(busy['airtime'] / 2, 3))}}}"))
    load = cell_load(tight, compute_radiomap(tight, _two_ap_plan().aps, resolution_m=2.0))
    row = load.loc[load["ap_id"] == busy["ap_id"]].iloc[0]
    assert row["airtime_budget"] < AIRTIME_BUDGET and not bool(row["ok"])
    # an explicit budget still overrides the zones'
    assert bool(cell_load(tight, rm, airtime_budget=0.5)["ok"].all())


def test_band_conflict_lines_name_zones_with_one_reason_together():
    from wifiplan.requirements import band_conflict_lines
    why = "the zone asks -65 dBm everywhere, so its cell boundaries cannot lie in the band"
    assert band_conflict_lines({"a": why, "b": why, "c": "other"}) == [
        "zones a, b: each asks -65 dBm everywhere, so its cell boundaries cannot lie in the "
        "band", "zone c: other"]
