"""Rollout reports: phase contents, criteria against independent figures, the five files,
the PDF read back, self-contained HTML, reproducibility, survey and logs, bad input."""
from __future__ import annotations

import csv
import json
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from wifiplan.errors import InputError
from wifiplan.cli import main
from wifiplan.plan import load_plan
from wifiplan.radio.radiomap import compute_radiomap
from wifiplan.report import REPORT_FILES, make_report, report_json
from wifiplan.rollout import PHASES, WIRELESS_APPROACHES, assess_phase, pilot_zone
from wifiplan.site import load_site

from conftest import FLOORPLANS, ROOT

pypdf = pytest.importorskip("pypdf")

LINE = FLOORPLANS / "production-line.yaml"
LINE_PLAN = FLOORPLANS / "production-line.plan.yaml"
SHOP = FLOORPLANS / "small-workshop.yaml"
SHOP_PLAN = FLOORPLANS / "small-workshop.plan.yaml"
RES = 2.0


@pytest.fixture(scope="module")
def line():
    site = load_site(LINE)
    return site, load_plan(LINE_PLAN, site=site)


@pytest.fixture(scope="module")
def line_phase3(tmp_path_factory):
    out = tmp_path_factory.mktemp("line3")
    code = main(["report", str(LINE), "--plan", str(LINE_PLAN), "--phase", "3",
                 "--resolution", str(RES), "-o", str(out)])
    return out, code


def pdf_text(path: Path) -> tuple[int, str]:
    r = pypdf.PdfReader(str(path))
    return len(r.pages), "\n".join(p.extract_text() for p in r.pages)


EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?!data:|#)[^"'\s>]+|url\(\s*["']?(?!data:)|"""
                      r"""https?://|<link\b|<script\b[^>]*\bsrc|@import""", re.I)


def external_refs(html: str) -> list[str]:
    return EXTERNAL.findall(html)


# ---- the five files ------------------------------------------------------------------------

def test_report_writes_the_five_files(line_phase3):
    out, code = line_phase3
    for name in REPORT_FILES:
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    doc = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert doc["phase"]["number"] == 3 and doc["ap_count"] == 3
    # exit code 1 exactly when a criterion fails
    assert code == (0 if doc["passed"] else 1)
    assert doc["passed"] == all(c["passed"] is not False for c in doc["criteria"])
    assert doc["regulatory_domain"] == "JP" and doc["channel_set"] == [36, 40, 44, 48]


def test_pdf_reads_back_with_the_key_figures(line_phase3):
    out, _ = line_phase3
    doc = json.loads((out / "report.json").read_text(encoding="utf-8"))
    pages, text = pdf_text(out / "report.pdf")
    assert 3 <= pages <= 12
    for s in ("Production Line", "phase 3", "Acceptance criteria", "Bill of materials",
              "Cable runs", "Roaming walk tests", "Best-server RSSI", "Channel map",
              "Cell boundaries", "SINR", "AP1", "AP2", "AP3", "JP", "36, 40, 44, 48",
              "段階的導入アプローチ", "Record and sign-off"):
        assert s in text, s
    cov = next(c for c in doc["criteria"] if c["id"] == "P3-coverage")
    assert cov["unit"] == "%" and 0 <= cov["value"] <= 100     # percent, as its unit says
    assert f"{cov['value']:.1f} %" in text
    total = next(r for r in doc["bom"] if r["item"].startswith("Total cable"))
    assert f"{total['quantity']:.1f}" in text


def test_design_rationale_once_in_phase_1(tmp_path):
    out = tmp_path / "p1"
    main(["report", str(LINE), "--plan", str(LINE_PLAN), "--phase", "1", "--resolution",
          str(RES), "-o", str(out)])
    _, text = pdf_text(out / "report.pdf")
    for s in ("Design rationale", "Local 5G", "コスト・運用比較", "（推奨）"):
        assert s in text, s
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "小型AP＋有線バックホール（推奨）" in html


def test_html_is_self_contained(line_phase3):
    out, _ = line_phase3
    html = (out / "report.html").read_text(encoding="utf-8")
    assert external_refs(html) == []
    imgs = re.findall(r'<img [^>]*src="([^"]+)"', html)
    # the installation map, the four radio maps, the secondary coverage (from phase 2), the
    # simulated walks and their RSSI timeline
    assert len(imgs) == 8 and all(s.startswith("data:image/png;base64,") for s in imgs)
    for title in ("Secondary coverage", "Simulated walks", "RSSI along the walks"):
        assert title in html
    # the same content as the PDF: every criterion id and verdict
    doc = json.loads((out / "report.json").read_text(encoding="utf-8"))
    for c in doc["criteria"]:
        assert c["id"] in html
    assert "Approved by (rollout lead)" in html


def test_external_reference_detector_catches_urls():
    assert external_refs('<img src="https://x.org/a.png">')
    assert external_refs('<link rel="stylesheet" href="s.css">')
    assert external_refs('<div style="background: url(a.png)">')
    assert external_refs('<script src="a.js"></script>')
    assert not external_refs('<img src="data:image/png;base64,AAAA"><a href="#x">x</a>')


def test_aps_and_bom_csv(line_phase3, line):
    out, _ = line_phase3
    site, plan = line
    rows = list(csv.DictReader((out / "aps.csv").open(encoding="utf-8")))
    assert [r["id"] for r in rows] == plan.ids
    for col in ("x_m", "y_m", "height_m", "channel", "width_mhz", "tx_power_dbm", "ssid_policy",
                "min_rssi_dbm", "802.11k", "802.11v", "802.11r", "switch", "port"):
        assert col in rows[0], col
    for r, a in zip(rows, plan.aps):
        assert int(r["channel"]) == a.channel and float(r["tx_power_dbm"]) == a.tx_power_dbm
        assert r["switch"] == a.switch and int(r["port"]) == a.port
        assert float(r["min_rssi_dbm"]) == -70.0
    bom = list(csv.DictReader((out / "bom.csv").open(encoding="utf-8")))
    ap_row = next(r for r in bom if r["category"] == "access point")
    assert int(ap_row["quantity"]) == len(plan.aps)
    runs = [r for r in bom if r["category"] == "cable run" and "->" in r["item"]]
    assert len(runs) == len(plan.aps)
    total = next(r for r in bom if r["item"].startswith("Total cable"))
    assert float(total["quantity"]) == pytest.approx(sum(float(r["quantity"]) for r in runs),
                                                     abs=0.15)
    ports = next(r for r in bom if r["item"].startswith("PoE+ ports on SW1"))
    assert int(ports["quantity"]) == len(plan.aps)


# ---- criteria against independent figures ---------------------------------------------------

def test_coverage_criterion_matches_the_radio_map(line):
    site, plan = line
    a = assess_phase(site, 3, plan, resolution_m=RES)
    rm = compute_radiomap(site, plan.aps, resolution_m=RES)
    X, Y = np.meshgrid(rm.xs, rm.ys)
    from shapely import contains_xy, intersects_xy
    from shapely.geometry import Polygon
    req = np.full(X.shape, np.nan)
    for z in site.zones:
        inside = contains_xy(Polygon(z.polygon), X, Y) & np.isnan(req)
        req[inside] = z.min_rssi_dbm
    for o in site.obstacles:           # a terminal stands neither in nor on a machine
        req[intersects_xy(Polygon(o.polygon).buffer(1e-6), X, Y)] = np.nan
    sel = ~np.isnan(req) & rm.mask
    expected = float((rm.best_rssi_dbm[sel] >= req[sel]).mean())
    got = next(c for c in a.criteria if c.id == "P3-coverage")
    assert got.value == pytest.approx(expected, abs=1e-9)
    assert got.passed is (expected >= 0.95)
    zone_a = next(c for c in a.criteria if c.id == "P3-zone-line-a")
    za = sel & contains_xy(Polygon(site.zones[0].polygon), X, Y)
    assert zone_a.value == pytest.approx(float((rm.best_rssi_dbm[za] >= -67).mean()), abs=1e-9)


def test_phase3_figures_agree_with_the_evaluation(line):
    from wifiplan.evaluation import evaluate_plan
    site, plan = line
    a = assess_phase(site, 3, plan, resolution_m=RES)
    ev = evaluate_plan(site, plan, resolution_m=RES, radiomap=a.radiomap)
    assert a.metrics["primary_coverage"] == pytest.approx(ev["primary_coverage"], abs=1e-4)
    if ev["boundary_band_share"] is not None:
        assert a.metrics["boundary_band_share"] == pytest.approx(ev["boundary_band_share"],
                                                                 abs=1e-4)


def test_rule_violations_fail_their_criteria(line):
    site, plan = line
    bad = replace(plan, aps=[replace(plan.aps[0], channel=52), replace(plan.aps[1], width_mhz=40),
                             replace(plan.aps[2], cable_m=120.0, tx_power_dbm=22.0)])
    a = assess_phase(site, 3, bad, resolution_m=RES)
    c = {x.id: x for x in a.criteria}
    assert c["P3-channels"].passed is False and c["P3-channels"].detail == "AP1"
    assert c["P3-width"].passed is False and c["P3-width"].detail == "AP2"
    assert c["P3-cable"].passed is False and c["P3-cable"].value == 120.0
    # 22 dBm + 3 dBi > 23 dBm EIRP of JP W52
    assert c["P3-eirp"].passed is False and c["P3-eirp"].detail == "AP3"
    assert a.passed is False
    ok = assess_phase(site, 3, plan, resolution_m=RES)
    oc = {x.id: x for x in ok.criteria}
    assert oc["P3-channels"].passed and oc["P3-width"].passed and oc["P3-eirp"].passed


def test_poe_budget_and_ports(line):
    site, plan = line
    small = replace(site, switches=[replace(site.switches[0], ports=2, poe_budget_w=50.0)])
    a = assess_phase(small, 3, plan, resolution_m=RES)
    c = {x.id: x for x in a.criteria}
    assert c["P3-ports"].passed is False and c["P3-ports"].value == 3
    assert c["P3-poe"].passed is False and c["P3-poe"].value == pytest.approx(90.0)


# ---- phase contents ---------------------------------------------------------------------------

def test_phase1_trial_ap_and_measurement_plan(line):
    site, plan = line
    a = assess_phase(site, 1, plan, resolution_m=RES)
    assert len(a.plan.aps) == 1
    pz = pilot_zone(site)
    assert pz.name == "line-a"                      # the zone with most terminals
    # the trial AP is the plan AP serving most of the pilot zone
    rm = compute_radiomap(site, plan.aps, resolution_m=RES)
    k = site.zones.index(pz)
    counts = np.bincount(rm.best_server[rm.zone_index == k], minlength=len(plan.aps))
    assert a.plan.aps[0].id == plan.aps[int(np.argmax(counts))].id
    mp = a.measurement_points
    assert len(mp) >= 3 and set(mp["ap_id"]) == {a.plan.aps[0].id}
    # predictions in the table are the radio map's values at those points
    for r in mp.itertuples():
        ix = int(np.argmin(np.abs(a.radiomap.xs - r.x_m)))
        iy = int(np.argmin(np.abs(a.radiomap.ys - r.y_m)))
        assert r.predicted_rssi_dbm == pytest.approx(float(a.radiomap.best_rssi_dbm[iy, ix]),
                                                     abs=0.06)
        assert a.target_mask[iy, ix]
        assert r.expect_covered == (r.predicted_rssi_dbm >= r.required_rssi_dbm)
    assert "in cell" in set(mp["kind"])
    # a cell-edge point (-65..-67 dBm) is asked for exactly when the trial area has one
    # within 3 dB (in a reverberant hall a 9 dBm AP may cover its whole area above it)
    vals = a.radiomap.best_rssi_dbm[a.target_mask]
    has_edge = bool((np.abs(vals - (-65)) <= 3).any() or (np.abs(vals - (-67)) <= 3).any())
    assert ("cell edge" in set(mp["kind"])) == has_edge
    assert "P1-cells" in {c.id for c in a.criteria}


def test_phase2_cells_and_concurrent_test(line):
    site, plan = line
    a = assess_phase(site, 2, plan, resolution_m=RES)
    assert 2 <= len(a.plan.aps) <= 3
    chans = [x.channel for x in a.plan.aps]
    assert len(set(chans)) == len(chans)
    ct = a.concurrent_test
    assert list(ct["ap_id"]) == [x.id for x in a.plan.aps]
    # every cell is loaded with at least two terminals at the same time
    assert all(sum(int(t.split(" x ")[0]) for t in s.split(", ")) >= 2 for s in ct["terminals"])
    assert "cell boundary" in set(a.measurement_points["kind"])
    assert next(c for c in a.criteria if c.id == "P2-distinct").passed


def test_phase2_subset_is_contiguous():
    site = load_site(FLOORPLANS / "large-hall.yaml")
    plan = load_plan(FLOORPLANS / "large-hall.plan.yaml", site=site)
    a = assess_phase(site, 2, plan, resolution_m=4.0)
    pos = np.array([[x.x_m, x.y_m] for x in a.plan.aps])
    d = np.hypot(*(pos[:, None, :] - pos[None, :, :]).transpose(2, 0, 1))
    np.fill_diagonal(d, np.inf)
    # every chosen AP has a chosen neighbour within 40 m (about two cell pitches)
    assert (d.min(axis=1) <= 40.0).all()


def test_phase3_walks_along_clear_aisles(line):
    site, plan = line
    a = assess_phase(site, 3, plan, resolution_m=RES)
    w = a.walk_tests
    assert len(w) >= 1
    from shapely.geometry import LineString, Polygon
    for r in w.itertuples():
        seg = LineString([(r.x0_m, r.y0_m), (r.x1_m, r.y1_m)])
        assert seg.length == pytest.approx(r.length_m, abs=0.1)
        for o in site.obstacles:
            assert not seg.intersects(Polygon(o.polygon).buffer(0.45)), (r.walk, o.name)
        assert r.expected_roams == len(r.expected_aps.split(" > ")) - 1


def test_phase4_thresholds_checklist_and_rationale(line):
    site, plan = line
    a = assess_phase(site, 4, plan, resolution_m=RES)
    assert "-70 dBm" in set(a.thresholds["value"])
    steps = a.checklist
    assert list(steps["step"][:5]) == [1, 2, 3, 4, 5]
    assert (steps["step"] == "roaming").sum() == 4
    assert steps.loc[steps["step"] == 2, "status"].item() == "ok"      # W52 channels, 20 MHz
    assert steps.loc[steps["step"] == 5, "status"].item() == "ok"      # every AP on a port
    assert len(a.power_adjustments) == 0                               # nothing measured yet
    assert len(WIRELESS_APPROACHES) == 5 and "（推奨）" in WIRELESS_APPROACHES[0]["approach_ja"]
    assert sorted(PHASES) == [1, 2, 3, 4]


# ---- survey and logs ----------------------------------------------------------------------

SURVEYS = ROOT / "surveys"


def test_survey_findings_become_criteria(tmp_path):
    import wifiplan.survey as survey_mod
    src = SURVEYS / "small-workshop.csv"
    if not src.exists():
        pytest.skip("no sample survey")
    site = load_site(SHOP)
    plan = load_plan(SHOP_PLAN, site=site)
    frame, meta = survey_mod.read_survey(src)
    ref = survey_mod.check_survey(site, plan, frame, meta)
    a = make_report(SHOP, 1, tmp_path, plan_path=SHOP_PLAN, survey_path=src, resolution_m=RES)
    c = {x.id: x for x in a.criteria}
    # the plan's errors fail the phase; warnings of the same kind (a neighbour's AP on a DFS
    # channel, a hole outside every zone) are counted in the detail, not failed
    errs = {}
    for f in ref["findings"]:
        if f["severity"] == "error":
            errs[f["kind"]] = errs.get(f["kind"], 0) + 1
    for kind in ("coverage_hole", "band_2g4", "dfs_channel", "co_channel"):
        assert c[f"P1-survey-{kind}"].value == errs.get(kind, 0)
        assert c[f"P1-survey-{kind}"].passed is (errs.get(kind, 0) == 0)
    warned = [f for f in ref["findings"] if f["severity"] == "warning"
              and f["kind"] in ("coverage_hole", "dfs_channel")]
    assert all("warning" in c[f"P1-survey-{f['kind']}"].detail for f in warned)
    assert "P1-survey-coverage" in c and "P1-survey-model" in c
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "Survey" in html and external_refs(html) == []
    _, text = pdf_text(tmp_path / "report.pdf")
    assert "band_2g4" in text
    doc = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert len(doc["survey"]["findings"]) == len(ref["findings"])


def test_phase4_logs_and_power_adjustments(line, tmp_path):
    import wifiplan.logs as logs_mod
    src = SURVEYS / "production-line-terminal-log.csv"
    if not src.exists():
        pytest.skip("no sample log")
    site, plan = line
    ref = logs_mod.analyze_logs(src, plan)
    a = assess_phase(site, 4, plan, logs=src, resolution_m=RES)
    c = {x.id: x for x in a.criteria}
    assert c["P4-logs-pingpong"].value == ref["summary"]["ping_pong_roams"]
    pa = a.power_adjustments.set_index("ap_id")
    for r in ref["recommendations"]:
        if r["change_db"]:
            got = pa.loc[r["ap"]]
            assert got["change_db"] == min(r["change_db"], 3.0)      # raises in 3 dB steps
            assert got["new_dbm"] == got["current_dbm"] + got["change_db"]
            assert "logs" in got["source"]


def test_calibrated_model_gives_power_adjustments(line, tmp_path):
    site, plan = line
    from wifiplan.radio.propagation import PropagationModel, save_model_file
    m = PropagationModel.for_site(site)
    hot = replace(m, ap_offsets_db={plan.aps[0].id: 5.0})      # AP1 measured 5 dB stronger
    path = save_model_file(hot, tmp_path / "cal.yaml")
    a = assess_phase(site, 4, plan, model=PropagationModel.for_site(site, path),
                     resolution_m=RES)
    pa = a.power_adjustments.set_index("ap_id")
    assert list(pa.index) == [plan.aps[0].id]
    assert pa.loc[plan.aps[0].id, "change_db"] == -5.0
    assert pa.loc[plan.aps[0].id, "source"] == "calibration"


# ---- reproducibility and bad input -----------------------------------------------------------

def test_same_inputs_same_numbers_and_bytes(tmp_path):
    outs = []
    for k in range(2):
        out = tmp_path / f"r{k}"
        main(["report", str(SHOP), "--plan", str(SHOP_PLAN), "--phase", "4",
              "--resolution", "1", "-o", str(out)])
        outs.append(out)
    for name in REPORT_FILES:
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name


def test_report_json_is_plain_json(line):
    site, plan = line
    a = assess_phase(site, 2, plan, resolution_m=RES)
    doc = report_json(a)
    assert json.loads(json.dumps(doc, allow_nan=False)) == doc


@pytest.mark.parametrize("argv, needle", [
    (["--phase", "5"], "invalid choice"),
    (["--phase", "3", "--plan", "no-such.plan.yaml"], "no-such.plan.yaml"),
    (["--phase", "1", "--pilot-zone", "nowhere"], "unknown pilot zone 'nowhere'"),
    (["--phase", "3", "--resolution", "0"], "--resolution"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, argv, needle):
    args = ["report", str(SHOP), "--plan", str(SHOP_PLAN), "-o", str(tmp_path / "o")]
    if "--plan" in argv:
        args = ["report", str(SHOP), "-o", str(tmp_path / "o")]
    try:
        code = main(args + argv)
    except SystemExit as exc:           # argparse rejects a bad choice itself
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2
    assert needle in err and "Traceback" not in err
    assert not (tmp_path / "o" / "report.pdf").exists()


def test_without_a_plan_the_planner_plans_the_trial(tmp_path):
    from wifiplan.planning import plan_site
    site = load_site(SHOP)
    with pytest.raises(InputError, match="phase 1 needs a plan"):
        assess_phase(site, 1, None, resolution_m=RES)      # the rollout plans nothing itself
    a = assess_phase(site, 1, None, resolution_m=RES, planner=plan_site)
    assert len(a.plan.aps) == 1 and "planned by the planner" in a.notes[0]
    assert a.plan.aps[0].channel in site.allowed_channels()
    x, y = a.plan.aps[0].x_m, a.plan.aps[0].y_m
    assert site.inside_outline([x], [y])[0]


def test_cochannel_percentile_is_the_evaluations_rule():
    # two corner APs on channel 36 at -10 dBm and a centre AP on channel 40 (the small
    # workshop): the phase-3 criterion shows what evaluate_plan says, never a sentinel
    from wifiplan.evaluation import co_channel_separation_p5_db, evaluate_plan
    from wifiplan.plan import AP, Plan
    from wifiplan.rollout import plan_metrics
    site = load_site(FLOORPLANS / "small-workshop.yaml")
    aps = [AP("AP1", 1.0, 1.0, 3.5, 36, tx_power_dbm=-10.0, bssid="02:1a:00:00:00:01"),
           AP("AP2", 24.0, 14.0, 3.5, 36, tx_power_dbm=-10.0, bssid="02:1a:00:00:00:02"),
           AP("AP3", 12.5, 7.5, 3.5, 40, tx_power_dbm=-10.0, bssid="02:1a:00:00:00:03")]
    plan = Plan(site.name, aps)
    ev = evaluate_plan(site, plan, resolution_m=1.0, capacity=False)
    rm = compute_radiomap(site, aps, resolution_m=1.0)
    target = rm.zone_index >= 0
    pm = plan_metrics(site, rm, target)
    want = co_channel_separation_p5_db(rm.co_channel_separation_db[target])
    assert pm["co_channel_separation_p5_db"] == want
    assert want is None or want < 1e3
    a = assess_phase(site, 3, plan, resolution_m=1.0)
    crit = next(c for c in a.criteria if c.id.endswith("-cochannel"))
    assert crit.value is None or crit.value < 1e3
    if ev["co_channel_separation_p5_db"] is None:
        assert crit.value is None and "fewer than 5 %" in crit.detail
    # the rule itself: no point hears a same-channel AP, or fewer than 5 % do -> None
    assert co_channel_separation_p5_db([np.nan] * 10) is None
    assert co_channel_separation_p5_db([np.nan] * 99 + [10.0]) is None
    assert co_channel_separation_p5_db([np.nan] * 90 + [10.0] * 10) == pytest.approx(10.0)


def test_report_reads_a_survey_as_survey_check_does(tmp_path, capsys):
    # a wide survey needs its AP-column mapping: the report takes it as survey check does
    out = tmp_path / "p3"
    code = main(["report", str(FLOORPLANS / "production-line.yaml"), "--plan",
                 str(FLOORPLANS / "production-line.plan.yaml"), "--phase", "3",
                 "--survey", str(SURVEYS / "production-line-wide.csv"),
                 "--mapping", str(SURVEYS / "production-line-wide.apmap.yaml"),
                 "--format", "wide", "-o", str(out)])
    assert code in (0, 1)                        # a report, passed or failed, not an error
    doc = json.loads((out / "report.json").read_text())
    assert doc["inputs"]["mapping"]["file"] == "production-line-wide.apmap.yaml"
    assert doc["inputs"]["survey"]["file"] == "production-line-wide.csv"
    assert any(c["id"].startswith("P3-survey-") for c in doc["criteria"])
    # without the mapping the wide file cannot be read: one line, exit 2
    code = main(["report", str(FLOORPLANS / "production-line.yaml"), "--plan",
                 str(FLOORPLANS / "production-line.plan.yaml"), "--phase", "3",
                 "--survey", str(SURVEYS / "production-line-wide.csv"), "--format", "wide",
                 "-o", str(tmp_path / "x")])
    assert code == 2 and not (tmp_path / "x").exists()


def test_no_link_is_said_in_words_not_as_mcs_minus_one():
    from wifiplan.report import document
    assert (document._mcs(-1), document._mcs(4)) == ("below MCS0", "4")
    assert (document._phy(0.0), document._phy(51.6)) == ("no link", "51.6")


def test_phase2_cells_take_different_channels_where_neighbours_allow():
    # a central AP with two neighbours at the same distance, one on its own channel: the
    # trial's second cell is the one on another channel (seed 8.1.3.7: fixed channels)
    from wifiplan.plan import AP
    from wifiplan.radio.radiomap import compute_radiomap
    from wifiplan.rollout import select_phase_aps
    from wifiplan.site import parse_site
    site = parse_site("""
name: row
outline: [[0, 0], [40, 0], [40, 10], [0, 10]]
zones: [{name: floor, polygon: [[0, 0], [40, 0], [40, 10], [0, 10]], terminals: {handheld: 3}}]
""")
    aps = [AP("A", 20.0, 5.0, 4.0, 36, tx_power_dbm=15.0),
           AP("B", 27.0, 5.0, 4.0, 36, tx_power_dbm=1.0),
           AP("C", 13.0, 5.0, 4.0, 44, tx_power_dbm=1.0)]
    rm = compute_radiomap(site, aps, resolution_m=1.0)
    share = rm.cell_area_m2()
    assert share[0] > share[1] == pytest.approx(share[2])     # A first; B and C alike
    chosen = select_phase_aps(site, rm, site.zones[0], 2)
    assert {a.id for a in chosen} == {"A", "C"}
    assert len({a.channel for a in chosen}) == 2
    # C moved 13 m farther out: A's only near neighbour, B, shares its channel; the trial
    # takes the nearest AP on a channel of its own, C, not B
    far = [aps[0], aps[1], AP("C", 2.0, 5.0, 4.0, 44, tx_power_dbm=1.0)]
    chosen = select_phase_aps(site, compute_radiomap(site, far, resolution_m=1.0),
                              site.zones[0], 2)
    assert [a.id for a in chosen] == ["A", "C"]


def test_levels_below_the_noise_floor_are_not_printed_as_numbers():
    from wifiplan.report import document
    assert document._level(-372.8) == "below -95"
    assert document._level(-71.25) == "-71.2" or document._level(-71.25) == "-71.3"
    assert document._level(None) == "-"


def test_every_criterion_carries_its_value_in_the_unit_it_names(line_phase3):
    from wifiplan.rollout import Criterion
    out, _ = line_phase3
    doc = json.loads((out / "report.json").read_text(encoding="utf-8"))
    for c in doc["criteria"]:
        v = c["value"]
        if v is None:
            continue
        if c["unit"] == "%":
            assert 0.0 <= v <= 100.0, c
            assert Criterion.from_dict(c).value_text() == f"{v:.1f} %"
        elif c["unit"] in ("dBm",):
            assert -95.0 <= v <= 36.0, c               # no sentinel, nothing below the noise
        assert v == v and abs(v) < 1e6, c              # no NaN, no 1e6 sentinel


def test_report_matches_the_survey_with_an_inventory(tmp_path):
    plan = load_plan(LINE_PLAN)
    inv = tmp_path / "inventory.csv"
    inv.write_text("ap_id,bssid\n" + "".join(f"{a.id},{a.bssid}\n" for a in plan.aps if a.bssid))
    out = tmp_path / "p3"
    code = main(["report", str(LINE), "--plan", str(LINE_PLAN), "--phase", "3",
                 "--survey", str(SURVEYS / "production-line-sjis.csv"), "--inventory", str(inv),
                 "--resolution", str(RES), "-o", str(out)])
    assert code in (0, 1)
    doc = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert doc["inputs"]["inventory"]["file"] == "inventory.csv"


def test_record_and_sign_off_with_the_inputs_hashes(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1796083200")       # 2026-12-01 UTC
    out = tmp_path / "r"
    assert main(["report", str(SHOP), "--plan", str(SHOP_PLAN), "--phase", "3",
                 "--resolution", str(RES), "-o", str(out)]) in (0, 1)
    doc = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert doc["date"] == "2026-12-01"
    import hashlib
    digest = hashlib.sha256(SHOP_PLAN.read_bytes()).hexdigest()[:16]
    assert doc["inputs"]["plan"] == {"file": SHOP_PLAN.name, "sha256": digest}
    n, text = pdf_text(out / "report.pdf")
    for s in ("Record and sign-off", "2026-12-01", digest,
              "Approved by (rollout lead)", "Signature"):
        assert s in text, s
    # the design rationale is printed once, in the phase-1 report
    assert "Design rationale" not in text
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Approved by (rollout lead)" in html and "Design rationale" not in html


def test_large_site_gets_installation_sheets():
    from wifiplan.report.figures import SHEET_SPAN_M, sheet_windows
    wins = sheet_windows((0.0, 0.0, 240.0, 130.0))
    assert len(wins) == 6
    assert all(x1 - x0 <= SHEET_SPAN_M and y1 - y0 <= SHEET_SPAN_M for x0, y0, x1, y1 in wins)
    # together they cover the bounds exactly
    assert min(w[0] for w in wins) == 0 and max(w[2] for w in wins) == 240
    assert min(w[1] for w in wins) == 0 and max(w[3] for w in wins) == 130
    assert sum((w[2] - w[0]) * (w[3] - w[1]) for w in wins) == pytest.approx(240 * 130)
    assert sheet_windows((0.0, 0.0, 70.0, 30.0)) == []


def test_a_trial_phase_judges_its_own_cells_of_the_full_plan():
    # phase 1 judges the trial AP's cell as the full plan draws it (where it is the best
    # server), not a disc around it nor the whole pilot zone
    site = load_site(FLOORPLANS / "production-line.yaml")
    plan = load_plan(FLOORPLANS / "production-line.plan.yaml", site=site)
    assert len(plan.aps) >= 2
    a = assess_phase(site, 1, plan, resolution_m=RES)
    full = compute_radiomap(site, plan.aps, resolution_m=RES, model=a.model)
    k = site.zones.index(a.pilot_zone)
    mine = [i for i, ap in enumerate(plan.aps) if ap.id == a.plan.aps[0].id]
    from wifiplan.rollout.metrics import required_mask
    expect = required_mask(site, full) & (full.zone_index == k) & \
        np.isin(full.best_server, mine)
    assert (a.target_mask == expect).all() and expect.any()
    assert "best servers of the full plan" in a.target_label
    zone_pts = (required_mask(site, full) & (full.zone_index == k)).sum()
    assert a.target_mask.sum() < zone_pts
