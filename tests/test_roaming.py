"""Terminals walking the floor: routes, the terminal model, the roaming report and its CLI."""
import json
import math

import numpy as np
import pytest
from shapely.geometry import LineString, Polygon

from conftest import FLOORPLANS
from wifiplan.capacity import terminal_profiles
from wifiplan.cli import main
from wifiplan.errors import InputError
from wifiplan.logs import PING_PONG_WINDOW_S as LOG_PING_PONG_WINDOW_S
from wifiplan.plan import AP
from wifiplan.roaming import TerminalModel, simulate_roaming, walk
from wifiplan.roaming.model import PACKET_BYTES, PING_PONG_WINDOW_S
from wifiplan.routes import (CLEARANCE_M, Route, generate_routes, load_routes, sample_route,
                             site_routes)
from wifiplan.rules import ROAM_THRESHOLD_DBM
from wifiplan.site import load_site, site_from_dict, site_to_yaml, parse_site


def corridor(length_m=30.0, routes=None):
    d = {"name": "corridor", "outline": [[0, 0], [length_m, 0], [length_m, 4], [0, 4]],
         "propagation": {"model": "free-space", "ap_height_m": 4.0, "client_height_m": 1.2}}
    if routes is not None:
        d["routes"] = routes
    return site_from_dict(d, source="corridor.yaml")


def two_aps(length_m):
    return [AP("AP1", 0.0, 2.0, 4.0, 36, tx_power_dbm=0.0),
            AP("AP2", length_m, 2.0, 4.0, 36, tx_power_dbm=0.0)]


def walk_corridor(length_m, terminal=None):
    site = corridor(length_m)
    route = Route("c", np.array([[0.0, 2.0], [length_m, 2.0]]), speed_m_s=1.0)
    return simulate_roaming(site, two_aps(length_m), [route], terminal=terminal)["routes"][0]


# ---- the roam point, by hand ------------------------------------------------------------------

# Free space (ITU-R P.525-4): L = 20 log10(4 pi d f / c); channel 36 is 5180 MHz, so
# L = 46.734 + 20 log10(d3) [dB]. Both APs at 0 dBm with 3 dBi gain (the site default), 4.0 m
# high, the terminal at 1.2 m: d3 = sqrt(x^2 + 2.8^2). The terminal walks at 1 m/s from AP1.
# AP1 falls below -70 dBm where 3 - 46.734 - 20 log10(d3) = -70: d3 = 10^(26.266/20)
# = 20.572 m, x = sqrt(20.572^2 - 2.8^2) = 20.381 m.

def test_the_roam_point_where_the_threshold_binds():
    # AP2 at x = 30: at x = 20.381 AP2 is at d3 = sqrt(9.619^2 + 2.8^2) = 10.018 m, i.e.
    # 20 log10(20.572 / 10.018) = 6.25 dB stronger, above the 5 dB hysteresis. The terminal
    # scans (802.11k: 3 channels x 40 ms = 0.12 s = 0.12 m of walking) and roams at
    # x = 20.381 + 0.120 = 20.501 m.
    r = walk_corridor(30.0)
    assert r["roams"] == 1
    ev = r["roam_events"][0]
    assert (ev["from_ap"], ev["to_ap"]) == ("AP1", "AP2")
    assert ev["distance_m"] == pytest.approx(20.501, abs=0.5)
    assert ev["distance_m"] == pytest.approx(20.501, abs=0.05)     # interpolated, not sampled
    assert ev["from_rssi_dbm"] == pytest.approx(ROAM_THRESHOLD_DBM, abs=0.1)
    # below -70 dBm exactly for the scan, then one 802.11r hand-over of 50 ms
    assert r["seconds_below_70_dbm"] == pytest.approx(0.12, abs=0.01)
    assert r["longest_outage_s"] == pytest.approx(0.05)
    assert [s["ap"] for s in r["serving"]] == ["AP1", "AP2"]


def test_the_roam_point_where_the_hysteresis_binds():
    # AP2 at x = 40: at x = 20.381 AP2 is only 0.3 dB stronger. AP2 is 5 dB stronger where
    # d1 / d2 = 10^(5/20) = 1.7783, i.e. x^2 + 7.84 = 3.1623 ((40 - x)^2 + 7.84):
    # 2.1623 x^2 - 252.98 x + 5052.7 = 0 (the root between the APs) x = 25.722 m. Re-scanning
    # every 0.1 s, each scan 0.12 s, the first scan that ends past x = 25.722 m ends within
    # 0.22 m after it.
    r = walk_corridor(40.0, TerminalModel(rescan_interval_s=0.1))
    assert r["roams"] == 1
    ev = r["roam_events"][0]
    assert 25.722 - 0.01 <= ev["distance_m"] <= 25.722 + 0.23
    assert ev["to_rssi_dbm"] - ev["from_rssi_dbm"] >= 5.0
    # sticky: on AP1 while AP2 was more than 5 dB stronger is at most one scan cycle
    assert r["sticky_s"] <= 0.5
    # with the default re-scan period (10 s) the terminal stays longer on the weak AP
    slow = walk_corridor(40.0)
    assert slow["roam_events"][0]["distance_m"] > 29.0
    assert slow["sticky_s"] > 2.0


def test_resend_queue_is_rate_times_longest_outage():
    # without 802.11r a roam is a full authentication of 0.5 s: a handheld (2 Mb/s uplink)
    # must queue 2e6 / 8 x 0.5 = 125000 bytes = 84 packets of 1500 bytes
    r = walk_corridor(30.0, TerminalModel(fast_transition=False))
    assert r["longest_outage_s"] == pytest.approx(0.5)
    rate = terminal_profiles(corridor())["handheld"]["uplink_mbps"]
    assert r["resend_queue"] == {"terminal": "handheld", "uplink_mbps": rate,
                                 "bytes": 125_000, "packets": math.ceil(125_000 / PACKET_BYTES)}
    # a terminal out of reach of every AP: the outage is the time without a usable link
    site = corridor(200.0)
    route = Route("far", np.array([[0.0, 2.0], [200.0, 2.0]]), speed_m_s=2.0, terminal="thinklet")
    rep = simulate_roaming(site, [AP("AP1", 0.0, 2.0, 4.0, 36, tx_power_dbm=0.0)], [route])
    far = rep["routes"][0]
    # AP1 falls below -82 dBm (MCS0) at d3 = 10^(38.266/20) = 81.88 m, x = 81.83 m: no link
    # for the rest of the walk, (200 - 81.83) / 2 = 59.08 s
    assert far["longest_outage_s"] == pytest.approx(59.08, abs=0.05)
    assert far["resend_queue"]["bytes"] == math.ceil(5.0e6 / 8 * far["longest_outage_s"])
    assert rep["summary"]["resend_queue"]["thinklet"]["bytes"] == far["resend_queue"]["bytes"]


# ---- the terminal model on synthetic walks ---------------------------------------------------

def test_ping_pong_needs_a_small_hysteresis():
    # two APs trading places around -71 dBm every 2 s: with no hysteresis the terminal goes
    # A -> B -> A within the 10 s window; with 5 dB it never roams
    t = np.arange(0, 20.0, 0.5)
    a = -71.0 + 1.5 * np.sin(2 * np.pi * t / 4.0)
    rssi = np.vstack([a, -71.0 - (a + 71.0)])
    fast = TerminalModel(hysteresis_db=0.0, rescan_interval_s=0.5)
    roams = [r for r in walk(t, rssi, fast)["roams"] if r["kind"] == "roam"]
    assert len(roams) >= 3
    assert roams[1]["to"] == roams[0]["from"] and roams[1]["t_s"] - roams[0]["t_s"] <= 10
    assert walk(t, rssi, TerminalModel(rescan_interval_s=0.5))["roams"] == []


def test_the_ping_pong_window_is_the_log_analysis_window():
    assert PING_PONG_WINDOW_S == LOG_PING_PONG_WINDOW_S == TerminalModel().ping_pong_window_s


def test_a_lost_link_reconnects_to_the_strongest_without_hysteresis():
    t = np.arange(0, 10.0, 0.5)
    ap1 = np.linspace(-60.0, -95.0, len(t))
    ap2 = np.full(len(t), -75.0)
    w = walk(t, np.vstack([ap1, ap2]), TerminalModel(rescan_interval_s=0.1))
    # -75 is 5 dB above AP1 once AP1 is at -80 dBm, still above the -82 dBm of MCS0: a roam
    assert [r["kind"] for r in w["roams"]] == ["roam"]
    assert -82.0 <= w["roams"][0]["from_rssi_dbm"] <= -80.0
    # with an AP2 that is never 5 dB better, the link is lost below -82 dBm and AP2 taken
    w = walk(t, np.vstack([ap1, np.minimum(ap1 + 3.0, -80.0)]), TerminalModel())
    assert [r["kind"] for r in w["roams"]][-1] == "reconnect"
    assert w["outages"] and w["outages"][0][1] > w["outages"][0][0]


def test_shadowing_is_off_by_default_and_reproducible():
    a = walk_corridor(40.0)
    assert walk_corridor(40.0) == a
    s1 = walk_corridor(40.0, TerminalModel(shadowing_db=4.0, seed=3))
    s2 = walk_corridor(40.0, TerminalModel(shadowing_db=4.0, seed=3))
    assert s1 == s2 and s1["timeline"]["serving_rssi_dbm"] != a["timeline"]["serving_rssi_dbm"]


# ---- sample sites ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def hall_report():
    from wifiplan.inputs import load_inputs
    inp = load_inputs(FLOORPLANS / "large-hall.yaml", FLOORPLANS / "large-hall.plan.yaml")
    return inp, simulate_roaming(inp.site, inp.plan.aps, model=inp.model)


def test_no_ping_pong_on_the_rack_aisles_with_the_default_hysteresis(hall_report):
    inp, rep = hall_report
    racks = [o for o in inp.site.obstacles if o.name.startswith("rack-")]
    aisles = [r for r in rep["routes"] if r["zone"] == "warehouse"]
    assert aisles
    for r in aisles:
        line = LineString(r["points"])
        # it runs between the rack rows (along them, through them nowhere)
        assert not any(line.intersects(Polygon(o.polygon).buffer(CLEARANCE_M - 0.01))
                       for o in racks)
        assert any(line.distance(Polygon(o.polygon)) < 2.0 for o in racks)
        assert r["ping_pong_roams"] == 0
    assert sum(r["roams"] for r in aisles) >= 1          # the walks do roam
    assert rep["summary"]["ping_pong_roams"] == 0


def test_generated_routes_keep_clear_of_obstacles_and_walls():
    for name in ("large-hall", "production-line", "small-workshop"):
        site = load_site(FLOORPLANS / f"{name}.yaml")
        routes = generate_routes(site)
        assert routes and [r.to_dict() for r in site_routes(site)] == \
            [r.to_dict() for r in routes]
        zones = {z.name: Polygon(z.polygon) for z in site.zones}
        for r in routes:
            line = LineString(r.points)
            assert r.length_m >= 2.0 and r.generated
            assert zones[r.zone].buffer(1e-6).covers(line), r.name
            for o in site.obstacles:
                assert line.distance(Polygon(o.polygon)) >= CLEARANCE_M - 0.01, (r.name, o.name)
            for w in site.walls:
                assert line.distance(LineString(w.points)) >= CLEARANCE_M - 0.01, r.name
        assert len({tuple(map(tuple, r.points)) for r in routes}) == len(routes)


def test_a_rotated_zone_gets_lanes_along_its_own_axis():
    c, s = math.cos(math.radians(30)), math.sin(math.radians(30))
    rect = [[0, 0], [60 * c, 60 * s], [60 * c - 8 * s, 60 * s + 8 * c], [-8 * s, 8 * c]]
    site = site_from_dict({"name": "r", "outline": [[-10, -1], [60, -1], [60, 40], [-10, 40]],
                           "zones": [{"name": "z", "polygon": rect,
                                      "terminals": {"thinklet": 2}}]})
    (r,) = generate_routes(site)
    d = r.points[-1] - r.points[0]
    assert math.degrees(math.atan2(d[1], d[0])) == pytest.approx(30.0, abs=0.5)
    assert r.length_m == pytest.approx(60.0 - 2 * CLEARANCE_M, abs=0.6)
    assert r.terminal == "thinklet"


def test_sampling_a_route_every_half_metre():
    xy, d = sample_route([[0, 0], [3, 0], [3, 1.2]], 0.5)
    assert d[-1] == pytest.approx(4.2) and np.all(np.diff(d) <= 0.5 + 1e-9)
    assert [3.0, 0.0] in xy.tolist()                      # the corner is a sample


# ---- routes in the site file and in ROUTES.yaml -----------------------------------------------

def test_site_routes_round_trip():
    site = corridor(30.0, routes=[{"name": "walk", "points": [[1, 2], [29, 2]],
                                   "speed_m_s": 1.5, "terminal": "thinklet"}])
    assert site.routes[0].speed_m_s == 1.5 and site.routes[0].terminal == "thinklet"
    again = parse_site(site_to_yaml(site))
    assert again.routes[0].to_dict() == site.routes[0].to_dict()
    assert site_routes(site) == site.routes and site_routes(site)[0].generated is False


@pytest.mark.parametrize("route, key, says", [
    ({"points": [[1, 2], [29, 2]], "speed_m_s": 50}, "routes[0].speed_m_s", "m/s"),
    ({"points": [[1, 2], [29, 2]], "speed_m_s": "fast"}, "routes[0].speed_m_s", "speed"),
    ({"points": [[1, 2], [40, 2]]}, "routes[0].points[1]", "outside the outline"),
    ({"points": [[1, 2]]}, "routes[0].points", "2 to"),
    ({"points": [[1, 2], [1, 2]]}, "routes[0].points", "no length"),
    ({"points": [[1, 2], [29, 2]], "terminal": "forklift"}, "routes[0].terminal",
     "handheld, thinklet"),
    ({"points": [[1, 2], [29, 2]], "sped_m_s": 1}, "routes[0].sped_m_s", "speed_m_s"),
])
def test_bad_site_routes_name_the_key(route, key, says):
    with pytest.raises(InputError) as e:
        corridor(30.0, routes=[route])
    assert e.value.key == key and says in str(e.value)


def test_a_leg_that_leaves_an_l_shaped_outline_is_refused():
    site = load_site(FLOORPLANS / "large-hall.yaml")       # L-shaped: no floor at x < 170, y > 100
    d = {"name": "l", "outline": site.outline.tolist(),
         "routes": [{"points": [[100, 90], [200, 120]]}]}
    with pytest.raises(InputError, match=r"routes\[0\]\.points: the leg from point 0 to point 1"):
        site_from_dict(d)


def test_routes_file_as_a_list_or_a_mapping(tmp_path):
    site = corridor(30.0)
    terms = terminal_profiles(site)
    p = tmp_path / "ROUTES.yaml"
    p.write_text("- {name: a, points: [[1, 2], [29, 2]]}\n")
    (r,) = load_routes(p, site.outline_polygon, terms)
    assert (r.name, r.speed_m_s, r.terminal) == ("a", 1.2, "handheld")
    p.write_text("routes:\n  - {name: a, points: [[1, 2], [29, 2]], speed_m_s: 2}\n")
    assert load_routes(p, site.outline_polygon, terms)[0].speed_m_s == 2.0
    p.write_text("- {name: a, points: [[1, 2], [29, 2]]}\n- {name: a, points: [[1, 2], [9, 2]]}\n")
    with pytest.raises(InputError, match=r"ROUTES.yaml:2: routes\[1\]\.name: duplicate"):
        load_routes(p, site.outline_polygon, terms)


# ---- the command -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def corridor_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("corridor")
    (d / "site.yaml").write_text(site_to_yaml(corridor(30.0)))
    (d / "plan.yaml").write_text(
        "site: corridor\naps:\n"
        "  - {id: AP1, x_m: 0, y_m: 2, height_m: 4, channel: 36, tx_power_dbm: 0}\n"
        "  - {id: AP2, x_m: 30, y_m: 2, height_m: 4, channel: 36, tx_power_dbm: 0}\n")
    return d


def test_roam_command_writes_the_report(corridor_files, capsys):
    d = corridor_files
    (d / "routes.yaml").write_text("- {name: there, points: [[0, 2], [30, 2]], speed_m_s: 1}\n"
                                   "- {name: back, points: [[30, 2], [0, 2]], speed_m_s: 1,"
                                   " terminal: thinklet}\n")
    out = d / "roam.json"
    assert main(["roam", str(d / "site.yaml"), str(d / "plan.yaml"), "--routes",
                 str(d / "routes.yaml"), "-o", str(out)]) == 0
    rep = json.loads(out.read_text())
    assert set(rep) >= {"site", "plan", "routes_source", "terminal_model", "summary", "routes"}
    tm = rep["terminal_model"]
    assert tm["roam_threshold_dbm"] == ROAM_THRESHOLD_DBM and tm["hysteresis_db"] == 5.0
    assert tm["handover_s"] == 0.05 and tm["scan_s"] == 0.12 and "sources" in tm
    assert [r["name"] for r in rep["routes"]] == ["there", "back"]
    for r in rep["routes"]:
        assert isinstance(r["roams"], int) and isinstance(r["ping_pong_roams"], int)
        for k in ("seconds_below_70_dbm", "longest_outage_s", "roams_per_hour", "sticky_s",
                  "length_m", "duration_s"):
            assert isinstance(r[k], (int, float)), k
        assert set(r["resend_queue"]) == {"terminal", "uplink_mbps", "bytes", "packets"}
        assert all(set(s) == {"ap", "from_s", "to_s", "from_m", "to_m", "min_rssi_dbm"}
                   for s in r["serving"])
        tl = r["timeline"]
        assert len(tl["t_s"]) == len(tl["serving_ap"]) == len(tl["best_rssi_dbm"]) == r["samples"]
    there, back = rep["routes"]
    assert [s["ap"] for s in there["serving"]] == ["AP1", "AP2"]
    assert [s["ap"] for s in back["serving"]] == ["AP2", "AP1"]
    assert back["roam_events"][0]["distance_m"] == pytest.approx(20.501, abs=0.05)   # mirrored
    assert back["resend_queue"]["terminal"] == "thinklet"
    assert rep["summary"]["roams"] == 2
    assert "there: roams 1" in capsys.readouterr().out


def test_roam_command_generates_routes_without_any(corridor_files):
    d = corridor_files
    out = d / "gen.json"
    assert main(["roam", str(d / "site.yaml"), str(d / "plan.yaml"), "-o", str(out)]) == 0
    rep = json.loads(out.read_text())
    assert rep["routes_source"] == "generated" and rep["routes"] == []  # no zones, no aisles


@pytest.mark.parametrize("text, says", [
    ("- {name: a, points: [[0, 2], [30, 2]]}\n- {name: b, points: [[0, 2], [30, 2]]}\n"
     "- {name: c, points: [[0, 2], [30, 2]], speed_m_s: 50}\n",
     "routes.yaml:3: routes[2].speed_m_s: 50 is out of range, expected a speed in m/s"),
    ("- {name: a, points: [[0, 2], [31, 2]]}\n", "routes[0].points[1]: point (31, 2) lies "
                                                 "outside the outline"),
    ("- {name: a, points: [[0, 2], [3, 2]], terminal: robot}\n",
     "routes[0].terminal: unknown terminal type 'robot'"),
    ("name: x\n", "missing required key 'routes'"),
])
def test_bad_routes_exit_2_with_one_line(corridor_files, capsys, text, says):
    d = corridor_files
    (d / "routes.yaml").write_text(text)
    code = main(["roam", str(d / "site.yaml"), str(d / "plan.yaml"), "--routes",
                 str(d / "routes.yaml"), "-o", str(d / "bad.json")])
    err = capsys.readouterr().err
    errs = [line for line in err.splitlines() if line.startswith("wifiplan:")]
    assert code == 2 and len(errs) == 1 and says in errs[0]
    assert not (d / "bad.json").exists()


# ---- figures ------------------------------------------------------------------------------------

def test_route_figures_colour_the_serving_ap():
    from matplotlib.collections import LineCollection

    from wifiplan.roaming.figures import ap_colours, route_overlay_figure, timeline_figure
    site = corridor(30.0)
    aps = two_aps(30.0)
    route = Route("c", np.array([[0.0, 2.0], [30.0, 2.0]]), speed_m_s=1.0)
    rep = simulate_roaming(site, aps, [route])
    fig = route_overlay_figure(site, aps, rep)
    (lc,) = [c for c in fig.axes[0].collections if isinstance(c, LineCollection)]
    col = ap_colours(aps)
    got = {tuple(np.round(c, 3)) for c in lc.get_colors()}
    import matplotlib.colors as mc
    assert got == {tuple(np.round(mc.to_rgba(col[a]), 3)) for a in ("AP1", "AP2")}
    assert "1 roams" in fig.axes[0].get_title()
    tl = timeline_figure(rep, aps=aps)
    assert tl.axes[0].get_title(loc="left").startswith("c (handheld, 30 m at 1 m/s): 1 roams")
    # the roam is a vertical line at its time
    xs = [ln.get_xdata()[0] for ln in tl.axes[0].lines if len(set(ln.get_xdata())) == 1]
    assert any(abs(x - rep["routes"][0]["roam_events"][0]["t_s"]) < 1e-6 for x in xs)


def test_secondary_and_overlap_map_kinds():
    from wifiplan.radio.radiomap import compute_radiomap
    site = corridor(30.0)
    rm = compute_radiomap(site, two_aps(30.0), resolution_m=0.5)
    for kind in ("secondary", "overlap"):
        fig = rm.plot(kind)
        assert kind.split()[0] in fig.axes[0].get_title().lower()
    assert "%" in rm.plot("secondary").axes[0].get_title()


# ---- phase reports -------------------------------------------------------------------------------

def test_phase_reports_carry_the_walks_beside_the_measured_log(tmp_path):
    from wifiplan.logs import log_to_csv, simulate_log
    from wifiplan.report.document import roaming_blocks
    from wifiplan.rollout.assessment import assess_phase
    from wifiplan.plan import load_plan
    site = load_site(FLOORPLANS / "production-line.yaml")
    plan = load_plan(FLOORPLANS / "production-line.plan.yaml", site=site)
    frame, _ = simulate_log(site, plan, duration_s=300.0, seed=8)
    log = tmp_path / "log.csv"
    log.write_text(log_to_csv(frame))
    assert assess_phase(site, 1, plan, resolution_m=1.0).roaming is None
    a = assess_phase(site, 4, plan, logs=str(log), resolution_m=1.0)
    rep = a.roaming["report"]
    assert [r["name"] for r in rep["routes"]] == [r.name for r in generate_routes(site)]
    cmp_ = a.roaming["compare"].set_index("key")
    assert cmp_.loc["roams", "measured"] == a.logs["summary"]["roams"]
    assert cmp_.loc["ping_pong_roams", "measured"] == a.logs["summary"]["ping_pong_roams"]
    assert cmp_.loc["roams", "simulated"] == rep["summary"]["roams"]
    assert cmp_.loc["seconds_below_70_dbm", "simulated"] == \
        rep["summary"]["seconds_below_70_dbm"]
    texts = [b.text for b in roaming_blocks(a, {})]
    assert "Simulated walks (roaming)" in texts and \
        "Simulated walks beside the measured log" in texts
    # phase 2: the walks are cut to the trial area
    a2 = assess_phase(site, 2, plan, resolution_m=1.0)
    rm = a2.radiomap
    assert a2.roaming["report"]["routes"]
    for r in a2.roaming["report"]["routes"]:
        x, y = np.array(r["timeline"]["x_m"]), np.array(r["timeline"]["y_m"])
        ix = np.clip(np.floor((x - rm.xs[0]) / rm.resolution_m + 0.5), 0, len(rm.xs) - 1)
        iy = np.clip(np.floor((y - rm.ys[0]) / rm.resolution_m + 0.5), 0, len(rm.ys) - 1)
        assert a2.target_mask[iy.astype(int), ix.astype(int)].mean() > 0.95
    # a route that leaves the target keeps its longest stretch inside
    from wifiplan.rollout.roaming import routes_in_target
    long = Route("long", np.array([[0.5, 8.75], [57.5, 8.75]]))
    cut = a2.target_mask.copy()
    cut[:, rm.xs > 30.0] = False
    (r,) = routes_in_target(site, rm, cut, [long])
    assert r.name == "long (in the target)" and 25.0 <= r.length_m <= 30.5
