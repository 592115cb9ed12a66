"""Phase-4 log analysis: roams, ping-pong, time below -70 dBm, sticky clients, power."""
import json

import pandas as pd
import pytest

from conftest import FLOORPLANS, SURVEYS, plan_path_of
from wifiplan.cli import main
from wifiplan.errors import InputError
from wifiplan.logs import analyze_logs, read_log, recommend, simulate_log
from wifiplan.plan import load_plan, parse_plan
from wifiplan.site import load_site

A, B, C = "02:1a:00:00:00:01", "02:1a:00:00:00:02", "02:1a:00:00:00:03"
PLAN = parse_plan(f"""
site: t
aps:
  - {{id: AP1, x_m: 0, y_m: 0, channel: 36, tx_power_dbm: 10, bssid: "{A}"}}
  - {{id: AP2, x_m: 20, y_m: 0, channel: 44, tx_power_dbm: 12, bssid: "{B}"}}
  - {{id: AP3, x_m: 40, y_m: 0, channel: 40, tx_power_dbm: 19, bssid: "{C}"}}
""", source="t.plan.yaml")
T0 = 1_754_902_800          # 2025-08-11T09:00:00Z


def _log(rows, kind=False):
    """rows: (t offset [s], device, bssid, rssi[, kind])."""
    cols = ["timestamp", "device", "bssid", "rssi_dbm"] + (["kind"] if kind else [])
    return pd.DataFrame([(T0 + r[0],) + tuple(r[1:]) for r in rows], columns=cols)


def _series(device, start, pairs, step=1.0):
    """Association samples every ``step`` s: pairs of (bssid, rssi) per sample."""
    return [(start + i * step, device, b, r) for i, (b, r) in enumerate(pairs)]


# ---- reading -----------------------------------------------------------------------------

def test_bad_rows_are_reported_with_their_lines(tmp_path):
    p = tmp_path / "log.csv"
    p.write_text(
        "timestamp,device,bssid,rssi_dbm,kind,x_m,y_m\n"             # line 1
        "2025-08-11T09:00:00Z,h1,02:1a:00:00:00:01,-60,assoc,1,2\n"  # 2 ok
        "yesterday,h1,02:1a:00:00:00:01,-60,assoc,1,2\n"            # 3 bad timestamp
        "2025-08-11T09:00:01Z,h1,not-a-mac,-60,assoc,1,2\n"          # 4 bad bssid
        "2025-08-11T09:00:02Z,h1,02-1A-00-00-00-02,-160,assoc,,\n"   # 5 rssi out of range
        "2025-08-11T09:00:03Z,h1,02:1a:00:00:00:02,-61,probe,,\n"    # 6 bad kind
        ",,,,,,\n"                                                   # 7 blank: skipped
        "2025-08-11T09:00:04Z,,02:1a:00:00:00:02,-61,assoc,,\n"      # 8 no device
        "2025-08-11T09:00:05Z,h1,021a.0000.0002,-62,,3,x\n"          # 9 bad y_m
        "1754902806,h1,02:1A:00:00:00:02,-63,,5,6\n",                # 10 ok (Unix seconds)
        encoding="utf-8")
    assoc, scans, meta = read_log(p)
    assert [(b["line"], b["reason"].split(":")[0]) for b in meta["bad_rows"]] == [
        (3, "timestamp"), (4, "bssid"), (5, "rssi_dbm"), (6, "kind"), (8, "device"), (9, "y_m")]
    assert meta["bad_row_count"] == 6 and meta["rows"] == 8
    assert assoc["line"].tolist() == [2, 10]
    assert assoc["t"].tolist() == [T0, T0 + 6]
    assert assoc["bssid"].tolist() == [A, B]
    report = analyze_logs(p, PLAN)
    assert report["summary"]["bad_rows"] == 6
    assert report["bad_rows"][0] == {"line": 3, "reason":
                                     "timestamp: expected ISO 8601 or Unix seconds"}


@pytest.mark.parametrize("text, message", [
    ("", "file is empty"),
    ("timestamp,device,rssi_dbm\n2025-08-11T09:00:00Z,h1,-60\n", "missing column 'bssid'"),
    ("timestamp,device,bssid,rssi_dbm\nnow,h1,xx,-60\n", "no usable association rows"),
    ("timestamp,device,bssid,rssi_dbm,kind\n2025-08-11T09:00:00Z,h1,02:1a:00:00:00:01,-60,scan\n",
     "no usable association rows"),
])
def test_unusable_logs_exit_2(tmp_path, capsys, text, message):
    p = tmp_path / "log.csv"
    p.write_text(text)
    with pytest.raises(InputError, match=message):
        read_log(p)
    code = main(["logs", "analyze", str(p), "--plan", str(plan_path_of(
        FLOORPLANS / "small-workshop.yaml")), "-o", str(tmp_path / "r.json")])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err
    assert err.startswith(f"wifiplan: error: {p}")
    assert not (tmp_path / "r.json").exists()


def test_shift_jis_and_time_zones(tmp_path):
    rows = "timestamp,device,bssid,rssi_dbm\n" \
           "2025-08-11T18:00:00+09:00,ハンディ1,02:1a:00:00:00:01,-60\n" \
           "2025-08-11T09:00:03Z,ハンディ1,02:1a:00:00:00:02,-61\n"
    p = tmp_path / "sjis.csv"
    p.write_bytes(rows.encode("cp932"))
    assoc, _, _ = read_log(p)
    assert assoc["device"].tolist() == ["ハンディ1", "ハンディ1"]
    assert assoc["t"].tolist() == [T0, T0 + 3]


# ---- roams, ping-pong, time below -70 dBm ---------------------------------------------------

def test_roams_ping_pong_and_time_below():
    rows = (_series("h1", 0, [(A, -60)] * 10 + [(B, -62)] * 5 + [(A, -71)] * 10)   # A>B>A in 5 s
            + _series("h1", 100, [(B, -65)] * 11 + [(A, -66)] * 5)                 # B..A: 11 s
            + _series("h2", 3598, [(A, -72), (B, -68), (C, -69), (A, -80)]))         # A>B>C>A: no
    rep = analyze_logs(_log(rows), PLAN)
    pp = rep["ping_pong"]
    assert [(p["device"], p["ap_a"], p["ap_b"], p["dwell_s"]) for p in pp] == \
        [("h1", "AP1", "AP2", 5.0)]
    assert (pp[0]["away"] == "2025-08-11T09:00:10.000Z"
            and pp[0]["back"] == "2025-08-11T09:00:15.000Z")
    # h1: A>B, B>A, (A until 24 s) > B at 100 s, B>A at 111 s: 4 roams; h2: 3 roams, the
    # last two in the hour from 10:00
    assert rep["roams"]["per_device"] == {"h1": 4, "h2": 3}
    assert rep["roams"]["per_device_hour"] == [
        {"device": "h1", "hour": "2025-08-11T09:00:00.000Z", "roams": 4},
        {"device": "h2", "hour": "2025-08-11T09:00:00.000Z", "roams": 1},
        {"device": "h2", "hour": "2025-08-11T10:00:00.000Z", "roams": 2}]
    below = {d["device"]: d for d in rep["below_min_rssi"]["per_device"]}
    # h1: 10 samples at -71 dBm, 9 of 1 s and the last before the 76 s gap capped at 30 s;
    # in all 24 + 30 + 15 samples of 1 s + the last sample at the median interval, 1 s
    assert below["h1"]["below_s"] == 39.0
    assert below["h1"]["time_s"] == 70.0
    # h2: the -72 and -80 dBm samples, 1 s each
    assert below["h2"]["below_s"] == 2.0 and below["h2"]["fraction"] == 0.5
    per_ap = {a["ap"]: a for a in rep["below_min_rssi"]["per_ap"]}
    assert per_ap["AP1"]["below_s"] == 41.0 and per_ap["AP2"]["below_s"] == 0.0
    assert per_ap["AP3"]["below_s"] == 0.0 and per_ap["AP3"]["time_s"] == 1.0


def test_sample_durations_are_capped():
    rows = _series("h1", 0, [(A, -75), (A, -75)], step=300)   # 300 s apart: 30 s each
    rep = analyze_logs(_log(rows), PLAN)
    assert rep["below_min_rssi"]["per_device"][0]["below_s"] == 60.0


# ---- sticky clients --------------------------------------------------------------------------

def _sticky_rows(n, other_rssi, serving=-80.0, start=0):
    rows = []
    for i in range(n):
        rows.append((start + i, "s1", A, serving, "assoc"))
        if i % 3 == 0:
            rows.append((start + i, "s1", B, other_rssi, "scan"))
            rows.append((start + i, "s1", C, other_rssi - 20, "scan"))
    return rows


def test_sticky_client_found_with_figures():
    rows = [(i, "s1", A, -60.0, "assoc") for i in range(-10, 0)] + _sticky_rows(15, -72.0)
    rep = analyze_logs(_log(rows, kind=True), PLAN)
    [s] = rep["sticky"]
    assert (s["device"], s["ap"], s["better_ap"]) == ("s1", "AP1", "AP2")
    assert s["duration_s"] == 15.0 and s["margin_db"] == 8.0
    assert s["serving_rssi_dbm"] == -80.0 and s["better_rssi_dbm"] == -72.0
    assert s["start"] == "2025-08-11T09:00:00.000Z"
    assert rep["summary"]["sticky_devices"] == ["s1"]
    rec = {r["ap"]: r for r in rep["recommendations"]}
    assert "minimum-RSSI enforcement" in rec["AP1"]["settings"][0]


@pytest.mark.parametrize("n, other, why", [
    (15, -75.0, "the other AP is only 5 dB stronger"),
    (8, -70.0, "8 s is shorter than the 10 s a client must hold the AP"),
])
def test_not_sticky(n, other, why):
    rep = analyze_logs(_log(_sticky_rows(n, other), kind=True), PLAN)
    assert rep["sticky"] == [], why


def test_not_sticky_above_minus_75():
    rep = analyze_logs(_log(_sticky_rows(20, -60.0, serving=-74.0), kind=True), PLAN)
    assert rep["sticky"] == []


def test_scans_older_than_5_s_do_not_count():
    rows = [(0, "s1", B, -60.0, "scan")] + [(i, "s1", A, -80.0, "assoc") for i in range(6, 30)]
    assert analyze_logs(_log(rows, kind=True), PLAN)["sticky"] == []


def test_neighbour_columns_give_the_same_sticky_result():
    rows = _sticky_rows(15, -72.0)
    by_scan = analyze_logs(_log(rows, kind=True), PLAN)["sticky"]
    wide = pd.DataFrame([(T0 + i, "s1", A, -80.0, B if i % 3 == 0 else "",
                          -72.0 if i % 3 == 0 else "") for i in range(15)],
                        columns=["timestamp", "device", "bssid", "rssi_dbm", "neighbor_bssid",
                                 "neighbor_rssi_dbm"])
    by_column = analyze_logs(wide, PLAN)["sticky"]
    assert [(s["ap"], s["better_ap"], s["duration_s"], s["margin_db"]) for s in by_column] == \
        [(s["ap"], s["better_ap"], s["duration_s"], s["margin_db"]) for s in by_scan] == \
        [("AP1", "AP2", 15.0, 8.0)]


# ---- power recommendations ---------------------------------------------------------------------

def _report(per_ap=(), ping_pong=(), sticky=()):
    return {"below_min_rssi": {"per_ap": list(per_ap)}, "ping_pong": list(ping_pong),
            "sticky": list(sticky)}


def _weak(ap, time_s, below_s, p10):
    own = {"time_s": time_s, "below_s": below_s, "fraction": below_s / time_s,
           "p10_rssi_dbm": p10}
    return {"ap": ap, "time_s": time_s, "below_s": below_s, "fraction": below_s / time_s,
            "p10_rssi_dbm": p10, "without_sticky": own}


def _pp(a, b, levels, n=2):
    return [{"device": "d", "ap_a": a, "ap_b": b, "rssi_dbm": list(levels)} for _ in range(n)]


def test_weak_cell_is_raised_to_lift_its_10th_percentile():
    [r] = recommend(_report([_weak("AP1", 600, 120, -71.4), _weak("AP2", 600, 30, -75)]), PLAN)
    # AP1: 20 % below -70 dBm, p10 -71.4 dBm -> +2 dB; AP2: 5 % is below the 10 % bar
    assert (r["ap"], r["tx_power_dbm"], r["recommended_tx_power_dbm"], r["change_db"]) == \
        ("AP1", 10.0, 12.0, 2.0)
    assert "20% of the associated time" in r["reasons"][0]
    [r] = recommend(_report([_weak("AP1", 600, 300, -90)]), PLAN)
    assert r["change_db"] == 3.0                      # capped at 3 dB
    assert recommend(_report([_weak("AP1", 30, 30, -90)]), PLAN) == []   # too little time


def test_ping_pong_rules():
    # meeting below -70 dBm: raise the weaker (AP1: -76/-74 vs AP2: -72/-70)
    [r] = recommend(_report(ping_pong=_pp("AP1", "AP2", [-76, -72, -70, -74])), PLAN)
    assert (r["ap"], r["change_db"]) == ("AP1", 2.0)
    # meeting above -65 dBm: lower the stronger
    [r] = recommend(_report(ping_pong=_pp("AP1", "AP2", [-62, -58, -60, -63])), PLAN)
    assert (r["ap"], r["change_db"]) == ("AP2", -2.0)
    # inside the -65..-70 dBm band: settings, no power change
    recs = recommend(_report(ping_pong=_pp("AP1", "AP2", [-68, -67, -66, -68])), PLAN)
    assert [(r["ap"], r["change_db"]) for r in recs] == [("AP1", 0.0), ("AP2", 0.0)]
    assert all("802.11k/v" in r["settings"][0] for r in recs)
    # a single ping-pong is not a pattern
    assert recommend(_report(ping_pong=_pp("AP1", "AP2", [-80, -60, -60, -80], n=1)), PLAN) == []


def test_conflicting_findings_and_power_limits():
    rep = _report([_weak("AP2", 600, 300, -80)], _pp("AP1", "AP2", [-62, -58, -60, -63]))
    [r] = recommend(rep, PLAN)
    # weak (raise) and overlapping its neighbour too much (lower 2 dB): the reduction wins,
    # as in every merge of power changes (wifiplan.rules.combine_power_changes)
    assert r["ap"] == "AP2" and r["change_db"] == -2.0
    assert "both ways" in r["reasons"][-1] and "reduction wins" in r["reasons"][-1]
    # AP3 at 19 dBm: the seed domain allows 23 dBm EIRP, 20 dBm at a 3 dBi antenna
    [r] = recommend(_report([_weak("AP3", 600, 300, -80)]), PLAN)
    assert (r["recommended_tx_power_dbm"], r["change_db"]) == (20.0, 1.0)
    assert "limited to 20 dBm" in r["reasons"][-1]


# ---- planted problems in simulated and sample logs ------------------------------------------

def _simulate(name, period_s):
    site = load_site(FLOORPLANS / f"{name}.yaml")
    plan = load_plan(plan_path_of(FLOORPLANS / f"{name}.yaml"))
    frame, truth = simulate_log(site, plan, duration_s=900, period_s=period_s, seed=3)
    return frame, truth, plan


@pytest.fixture(scope="module")
def simulated():
    return _simulate("production-line", 1.0)


def test_simulation_is_deterministic(simulated):
    frame, truth, plan = simulated
    site = load_site(FLOORPLANS / "production-line.yaml")
    again, truth2 = simulate_log(site, plan, duration_s=900, period_s=1.0, seed=3)
    pd.testing.assert_frame_equal(frame, again)
    assert truth == truth2


def test_planted_ping_pong_found(simulated):
    frame, truth, plan = simulated
    rep = analyze_logs(frame, plan)
    found = {(p["device"], p["away"], p["back"]) for p in rep["ping_pong"]}
    assert len(truth["ping_pong"]) == 6
    for t in truth["ping_pong"]:
        assert (t["device"], t["away"], t["back"]) in found
        hit = next(p for p in rep["ping_pong"] if p["away"] == t["away"]
                   and p["device"] == t["device"])
        assert (hit["ap_a"], hit["ap_b"]) == (t["ap_a"], t["ap_b"])
    assert "pingpong-1" in rep["summary"]["ping_pong_devices"]


@pytest.fixture(scope="module")
def simulated_large():
    # a sticky client needs a point where its AP is below -80 dBm: the production line's
    # reverberant hall keeps every AP above -70 dBm in its zones, the large hall does not
    return _simulate("large-hall", 2.0)


def test_no_sticky_client_where_no_ap_falls_below_the_threshold(simulated):
    frame, truth, plan = simulated
    assert truth["sticky"] == [] and truth["sticky_device"] is None


def test_planted_sticky_client_found(simulated_large):
    frame, truth, plan = simulated_large
    rep = analyze_logs(frame, plan)
    [t] = truth["sticky"]
    eps = [s for s in rep["sticky"] if s["device"] == t["device"]]
    assert eps, rep["sticky"]
    # one episode on the planted AP, towards the planted better AP, covering the wait
    s = max(eps, key=lambda e: e["duration_s"])
    assert (s["ap"], s["better_ap"]) == (t["ap"], t["better_ap"])
    assert s["start"] <= t["start"] and s["end"] >= t["end"]
    assert s["margin_db"] >= 6 and s["serving_rssi_dbm"] < -75
    rec = {r["ap"]: r for r in rep["recommendations"]}
    assert any("sticky-1" in x for x in rec[t["ap"]]["settings"])


@pytest.mark.parametrize("name", ["production-line", "large-hall"])
def test_sample_logs(tmp_path, capsys, name):
    log = SURVEYS / f"{name}-terminal-log.csv"
    plan = plan_path_of(FLOORPLANS / f"{name}.yaml")
    out = tmp_path / "report.json"
    code = main(["logs", "analyze", str(log), "--plan", str(plan), "-o", str(out)])
    printed = capsys.readouterr().out
    rep = json.loads(out.read_text())
    assert code == 1                                   # findings: exit 1
    assert rep["summary"]["bad_rows"] == 0 and rep["unknown_bssids"] == []
    pp = [p for p in rep["ping_pong"] if p["device"] == "pingpong-1"]
    assert len(pp) == 6 and len({(p["ap_a"], p["ap_b"]) for p in pp}) == 1
    if name == "large-hall":     # the production line's hall has no spot for a sticky client
        assert "sticky-1" in rep["summary"]["sticky_devices"] and "sticky-1" in printed
    else:
        assert rep["summary"]["sticky_devices"] == []
    assert "pingpong-1" in printed
    assert rep["summary"]["devices"] > 2
    plan_ids = {a.id for a in load_plan(plan).aps}
    assert {r["ap"] for r in rep["recommendations"]} <= plan_ids
    assert any(r["change_db"] != 0 for r in rep["recommendations"])


def test_unknown_bssids_are_listed():
    rows = _series("h1", 0, [(A, -60), ("02:99:00:00:00:01", -61), (A, -60)])
    rep = analyze_logs(_log(rows), PLAN)
    assert rep["unknown_bssids"] == [{"bssid": "02:99:00:00:00:01", "rows": 1, "first_line": 3}]


def test_clean_log_exits_0(tmp_path, capsys):
    p = tmp_path / "clean.csv"
    _log(_series("h1", 0, [(A, -55)] * 30)).to_csv(p, index=False)
    code = main(["logs", "analyze", str(p), "--plan",
                 str(plan_path_of(FLOORPLANS / "small-workshop.yaml")), "-o",
                 str(tmp_path / "r.json")])
    assert code == 0
    rep = json.loads((tmp_path / "r.json").read_text())
    assert rep["summary"]["roams"] == 0 and rep["recommendations"] == []
