"""Plan metrics on hand-made plans, checked against the radio map by hand."""
from dataclasses import replace

import numpy as np
import pytest

from wifiplan.evaluation import (co_channel_conflicts, evaluate_plan, format_metrics,
                                 required_points)
from wifiplan.plan import AP, load_plan
from wifiplan.backhaul import (AP_POE_W, assign_backhaul, assign_bssids,
                                        backhaul_summary, cable_length_m)
from wifiplan.radio.radiomap import compute_radiomap
from wifiplan.rules import MIN_TX_POWER_DBM
from wifiplan.site import load_site, parse_site

from conftest import FLOORPLANS, SAMPLE_SITES, plan_path_of

SITE = """
name: Eval
outline: [[0, 0], [40, 0], [40, 12], [0, 12]]
obstacles:
  - {name: box, polygon: [[18, 5], [22, 5], [22, 7], [18, 7]], material: metal, height_m: 2}
zones:
  - name: west
    polygon: [[0, 0], [20, 0], [20, 12], [0, 12]]
    min_rssi_dbm: -67
    terminals: {handheld: 2}
  - name: east
    polygon: [[20, 0], [40, 0], [40, 12], [20, 12]]
    min_rssi_dbm: -60
infrastructure:
  switches:
    - {name: SW1, position: [0, 0], ports: 2, poe_budget_w: 40}
    - {name: SW2, position: [40, 12], ports: 8, poe_budget_w: 370}
"""


@pytest.fixture(scope="module")
def site():
    return parse_site(SITE, source="eval.yaml")


def two_aps(ch1=36, ch2=44, p=6.0):
    return [AP("A", 10, 6, channel=ch1, tx_power_dbm=p),
            AP("B", 30, 6, channel=ch2, tx_power_dbm=p)]


def test_required_points_exclude_obstacles_and_carry_requirements(site):
    rp = required_points(site, 1.0)
    assert rp.n == 40 * 12 - 4 * 2 - 0      # box footprint (and its edge points) left out
    assert set(np.unique(rp.req_dbm)) == {-67.0, -60.0}
    assert np.all(rp.req_dbm[rp.zone == 1] == -60.0)
    rp2 = required_points(site, 1.0, zones=["east"], min_rssi_dbm=-70)
    assert set(rp2.zone.tolist()) == {1} and np.all(rp2.req_dbm == -70)


def test_metrics_by_hand(site):
    aps = two_aps()
    rm = compute_radiomap(site, aps, resolution_m=1.0)
    m = evaluate_plan(site, aps, radiomap=rm)
    rp = required_points(site, 1.0)
    best = rm.best_rssi_dbm[rp.iy, rp.ix]
    second = rm.second_rssi_dbm[rp.iy, rp.ix]
    assert m["ap_count"] == 2
    assert m["primary_coverage"] == pytest.approx(np.mean(best >= rp.req_dbm), abs=1e-4)
    assert m["secondary_coverage"] == pytest.approx(np.mean(second >= -70), abs=1e-4)
    bnd = best - second <= 3
    band = bnd & (best >= -70) & (best <= -65)
    assert m["boundary_band_share"] == pytest.approx(band.sum() / bnd.sum(), abs=1e-4)
    # different channels: no co-channel AP anywhere
    assert m["co_channel_separation_min_db"] is None and m["co_channel_conflicts"] == []
    assert sum(m["cell_area_m2"].values()) == pytest.approx(480.0)
    east = best[rp.zone == 1]
    assert m["zones"]["east"]["worst_rssi_dbm"] == pytest.approx(float(east.min()), abs=0.05)
    assert m["zones"]["east"]["min_rssi_dbm"] == -60.0
    cov_e = float(np.mean(east >= -60))
    assert m["zones"]["east"]["coverage"] == pytest.approx(cov_e, abs=1e-4)
    assert ("east" in m["uncovered_zones"]) == (cov_e < 0.99)
    assert m["violations"] == [] and m["regulatory_domain"] == "seed"
    assert "primary coverage" in format_metrics(m)


def test_same_channel_gives_separation_and_conflicts(site):
    aps = two_aps(36, 36)
    m = evaluate_plan(site, aps, resolution_m=1.0)
    assert m["co_channel_separation_min_db"] is not None
    assert m["co_channel_separation_min_db"] < 19
    assert m["co_channel_separation_p5_db"] >= m["co_channel_separation_min_db"]
    c = m["co_channel_conflicts"]
    assert len(c) == 1 and c[0]["aps"] == ["A", "B"] and c[0]["channel"] == 36
    assert c[0]["min_separation_db"] == pytest.approx(m["co_channel_separation_min_db"], abs=0.1)


def test_co_channel_conflicts_small_case():
    r = np.array([[-50.0, -50.0, -80.0], [-60.0, -75.0, -55.0], [-90.0, -90.0, -90.0]])
    c = co_channel_conflicts(r, [36, 36, 36], ["A", "B", "C"], area_m2=4.0)
    # A serves points 0 and 1: B is 10 and 25 dB down -> one point below 19 dB;
    # B serves point 2: A is 25 dB down; C is far below everywhere
    assert c == [{"aps": ["A", "B"], "channel": 36, "min_separation_db": 10.0, "area_m2": 4.0}]


def test_violations_of_hand_plans(site):
    aps = [AP("A", 10, 6, channel=52, tx_power_dbm=6), AP("B", 30, 6, channel=165,
                                                        width_mhz=40, tx_power_dbm=22)]
    m = evaluate_plan(site, aps, resolution_m=2.0)
    v = " | ".join(m["violations"])
    assert "A: channel 52 is a DFS channel" in v
    assert "B: channel 165 is not allowed" in v and "width 40 MHz" in v


def test_no_zones_falls_back_to_outline():
    s = parse_site("name: n\noutline: [[0, 0], [10, 0], [10, 8], [0, 8]]\n", source="n.yaml")
    m = evaluate_plan(s, [AP("A", 5, 4, tx_power_dbm=5)], resolution_m=1.0)
    assert m["coverage_basis"] == "outline" and m["primary_coverage"] == 1.0
    assert m["zones"] == {} and any("no zones" in w for w in m["warnings"])


def test_cable_rule_and_backhaul(site):
    assert cable_length_m(10, 6, 4, 0, 0) == pytest.approx((10 + 6 + 2.5) * 1.1 + 3.0)
    aps = [AP(f"A{i}", x, 6) for i, x in enumerate([2, 4, 6, 38])]
    out = assign_backhaul(site, aps)
    by = {a.id: a for a in out}
    # SW1 (40 W, 2 ports) takes one AP within budget; the others go to SW2
    assert by["A0"].switch == "SW1" and by["A0"].port == 1
    assert by["A3"].switch == "SW2"
    assert sum(a.switch == "SW1" for a in out) == 1
    assert all(a.cable_m == pytest.approx(round(cable_length_m(a.x_m, a.y_m, a.height_m,
               *(0, 0) if a.switch == "SW1" else (40, 12)), 1)) for a in out)
    s = backhaul_summary(site, out)
    assert s["switches"]["SW1"]["poe_w"] == AP_POE_W and not s["switches"]["SW1"]["poe_over_budget"]
    # a long run and a PoE overrun are flagged
    far = parse_site(SITE.replace("poe_budget_w: 370", "poe_budget_w: 50"), source="x")
    out = assign_backhaul(far, [AP(f"B{i}", 39, 11) for i in range(3)] + [AP("F", 1, 1)])
    s = backhaul_summary(far, out + [AP("L", 39, 11, switch="SW1", port=2)])
    assert any("PoE" in f for f in s["flags"])
    assert s["aps"]["L"]["cable_m"] > 40
    long_site = parse_site("name: l\noutline: [[0, 0], [120, 0], [120, 10], [0, 10]]\n"
                           "infrastructure: {switches: [{name: S, position: [0, 0]}]}\n",
                           source="l")
    s = backhaul_summary(long_site, assign_backhaul(long_site, [AP("X", 110, 8)]))
    assert s["aps"]["X"]["cable_m"] > 90
    assert any("exceeds the 90 m" in f for f in s["aps"]["X"]["flags"])


def test_bssids_unique_and_locally_administered():
    aps = assign_bssids("Hall", [AP(f"A{i}", 0, 0) for i in range(300)]
                        + [AP("K", 0, 0, bssid="02:00:00:00:00:05")], keep={"K"})
    b = [a.bssid for a in aps]
    assert len(set(b)) == len(b)
    assert all(int(x.split(":")[0], 16) & 0x02 for x in b)
    assert aps[-1].bssid == "02:00:00:00:00:05"


@pytest.mark.parametrize("site_path", [p for p in SAMPLE_SITES if "large" not in p.name],
                         ids=lambda p: p.stem)
def test_hand_plans_of_samples_evaluate(site_path):
    s = load_site(site_path)
    plan = load_plan(plan_path_of(site_path), site=s)
    m = evaluate_plan(s, plan, resolution_m=2.0)
    assert m["ap_count"] == len(plan.aps)
    assert 0 <= m["primary_coverage"] <= 1
    assert set(m["zones"]) == {z.name for z in s.zones}
    assert "backhaul" in m and set(m["backhaul"]["aps"]) == set(plan.ids)


def test_a_phase_over_the_whole_site_shows_the_evaluations_figures():
    # one evaluation: the rollout's figures over all required points are evaluate_plan's
    from wifiplan.rollout import plan_metrics
    from wifiplan.rollout.metrics import required_mask
    site = load_site(FLOORPLANS / "production-line.yaml")
    plan = load_plan(FLOORPLANS / "production-line.plan.yaml")
    rm = compute_radiomap(site, plan.aps, resolution_m=1.0)
    ev = evaluate_plan(site, plan, radiomap=rm)
    pm = plan_metrics(site, rm, required_mask(site, rm))
    for k in ("primary_coverage", "boundary_band_share", "sinr_ok_share",
              "secondary_coverage", "co_channel_separation_p5_db", "boundary_points",
              "boundary_points_not_judged"):
        a, b = ev[k], pm[k]
        assert (a is None and b is None) or a == pytest.approx(b, abs=1e-4), k
    for z in pm["zones"]:
        assert ev["zones"][z["zone"]]["coverage"] == pytest.approx(z["coverage"], abs=1e-4)


def test_band_by_power_is_the_exact_what_if_of_a_common_power_change():
    # five boundary points (second 1 dB under best), zone minimum -67 dBm: the median
    # -63 dBm lies 2 dB above the band; 2 dB lower: -62 -64 -65 -68 -66 dBm, so 3 of 5 in
    # -70..-65 and 4 of 5 still at >= -67
    from types import SimpleNamespace

    from wifiplan.evaluation import figures_at
    s = parse_site("name: n\noutline: [[0, 0], [10, 0], [10, 8], [0, 8]]\nzones:\n"
                   "  - {name: z, polygon: [[0, 0], [10, 0], [10, 8], [0, 8]]}\n", source="n")
    from wifiplan.evaluation.figures import band_tradeoff
    best = np.array([[-60.0, -62.0, -63.0, -66.0, -64.0]], np.float32)
    aps = [AP("AP1", 2.0, 4.0, 4.0, channel=36, tx_power_dbm=10.0),
           AP("AP2", 8.0, 4.0, 4.0, channel=44, tx_power_dbm=10.0)]
    rm = SimpleNamespace(best_rssi_dbm=best, second_rssi_dbm=best - 1,
                         co_channel_separation_db=np.full_like(best, np.inf),
                         sinr_db=np.full_like(best, 30.0), snr_db=best + 95,
                         rssi_dbm=np.stack([best, best - 1]), aps=aps,
                         model=SimpleNamespace(ap_gain_dbi=3.0),
                         best_server=np.zeros((1, 5), int))
    f = figures_at(s, rm, np.zeros(5, int), np.arange(5), np.full(5, -67.0), np.zeros(5, int))
    assert f.boundary_points == 5 and f.boundary_band_share == pytest.approx(0.2)
    assert f.band_by_power == {"boundary_median_dbm": -63.0, "above_band_db": 2.0,
                               "band_share": pytest.approx(0.6), "coverage": pytest.approx(0.8),
                               "held_share": 0.0, "lowest_power_dbm": MIN_TX_POWER_DBM}
    # the serving AP at its lowest power: it stays, the second comes down 2 dB (3 dB under
    # the best: all five stay boundaries, 1 of 5 in the band and all covered, as now); the
    # advice is about spacing, not power
    rm.aps = [replace(aps[0], tx_power_dbm=MIN_TX_POWER_DBM), aps[1]]
    f = figures_at(s, rm, np.zeros(5, int), np.arange(5), np.full(5, -67.0), np.zeros(5, int))
    bp = f.band_by_power
    assert bp["held_share"] == 1.0 and bp["band_share"] == pytest.approx(0.2)
    assert bp["coverage"] == 1.0
    trade, action = band_tradeoff(bp, 0.95)
    assert "cannot come down the 2 dB" in trade and f"({MIN_TX_POWER_DBM:g} dBm)" in trade
    assert action.startswith("the cells are closer together than the APs' lowest power")
    # in the band already: nothing to trade
    rm.best_rssi_dbm = best - 4
    rm.second_rssi_dbm = best - 5
    assert figures_at(s, rm, np.zeros(5, int), np.arange(5), np.full(5, -75.0),
                      np.zeros(5, int)).band_by_power is None
