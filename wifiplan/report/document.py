"""The content of a phase report as a list of blocks, laid out by the HTML and PDF writers.

Both writers render the same blocks, so the HTML and the PDF carry the same content.
"""
from __future__ import annotations

import datetime as dt
import math
import os
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import __version__
from .. import rollout as ro
from ..rules import AIRTIME_BUDGET, NOISE_FLOOR_DBM


@dataclass
class Table:
    columns: list[str]
    rows: list[list[str]]
    widths: list[float] | None = None      # relative column widths
    status_col: int | None = None          # column whose PASS/FAIL text is coloured
    small: bool = False


@dataclass
class Block:
    kind: str                  # h1, h2, h3, p, note, table, figure, verdict, kv, signoff
    text: str = ""
    table: Table | None = None
    figure: object | None = None
    items: list = field(default_factory=list)


def _f(v, nd=1, unit=""):
    if v is None:
        return "-"
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, (int, np.integer)):
        return f"{int(v)}{unit}"
    try:
        x = float(v)
    except (TypeError, ValueError):
        return str(v)
    if not math.isfinite(x):
        return "-" if math.isnan(x) else "unbounded"
    s = f"{x:.{nd}f}"
    return s + unit


def _level(v):
    """A received level [dBm]; below the noise floor no receiver tells levels apart, and a
    straight-line model that adds losses without limit prints absurd ones (-370 dBm)."""
    if v is not None and math.isfinite(float(v)) and float(v) < NOISE_FLOOR_DBM:
        return f"below {NOISE_FLOOR_DBM:g}"
    return _f(v, 1)


def _mcs(v):
    """An 802.11ax MCS index; below MCS0 (index -1) the link does not hold."""
    return "below MCS0" if v is None or v < 0 else str(int(v))


def _phy(v):
    """A PHY rate [Mb/s]; 0 is no link (below MCS0)."""
    return "no link" if not v else _f(v, 1)


def _pct(v):
    return "-" if v is None or (isinstance(v, float) and not math.isfinite(v)) else \
        f"{100 * float(v):.1f} %"


def frame_table(df: pd.DataFrame, columns: dict[str, str], fmt: dict | None = None,
                widths=None, status_col=None, small=False) -> Table:
    fmt = fmt or {}
    rows = []
    for _, r in df.iterrows():
        row = []
        for c in columns:
            v = r.get(c)
            if c in fmt:
                row.append(fmt[c](v))
            elif v is None or (isinstance(v, float) and math.isnan(v)):
                row.append("-")
            elif isinstance(v, (float, np.floating)):
                row.append(_f(v))
            else:
                row.append(str(v))
        rows.append(row)
    return Table(list(columns.values()), rows, widths, status_col, small)


def site_summary(a) -> list[Block]:
    site = a.site
    dom = site.domain
    allowed = site.allowed_channels()
    types: dict[str, int] = {}
    for z in site.zones:
        for t, n in z.terminals.items():
            types[t] = types.get(t, 0) + int(n)
    minx, miny, maxx, maxy = site.bounds
    kv = [
        ("Site", site.name),
        ("Floor area", f"{site.area_m2:,.0f} m² (outline {maxx - minx:g} m x {maxy - miny:g} m)"),
        ("Zones", f"{len(site.zones)}: " + ", ".join(z.name for z in site.zones)
         if site.zones else "none (the whole floor is the target)"),
        ("Terminals", f"{site.terminal_count}: " + ", ".join(f"{n} {t}" for t, n in
                                                             sorted(types.items()))
         if types else "none declared"),
        ("Regulatory domain", f"{site.regulatory_domain}: {dom.description}"),
        ("Channel set (non-DFS, 20 MHz)", ", ".join(str(c) for c in allowed)),
        ("Switches", ", ".join(f"{s.name} ({s.ports} ports, {s.poe_budget_w:g} W PoE)"
                               for s in site.switches) or "none in the site file"),
        ("Propagation model", _model_text(a)),
        ("Grid", f"{a.radiomap.resolution_m:g} m"),
    ]
    zt = frame_table(a.zones, {"zone": "Zone", "area_m2": "Area [m²]", "terminals": "Terminals",
                               "min_rssi_dbm": "Min RSSI [dBm]", "coverage": "Coverage",
                               "rssi_p5_dbm": "RSSI 5th pct [dBm]", "in_target": "In target"},
                     fmt={"area_m2": lambda v: _f(v, 0), "coverage": _pct,
                          "min_rssi_dbm": lambda v: _f(v, 0), "rssi_p5_dbm": _level,
                          "in_target": lambda v: "yes" if v else "no"},
                     widths=[3, 1.4, 1.2, 1.4, 1.3, 1.6, 1])
    blocks = [Block("h2", "Site summary"), Block("kv", items=kv)]
    if len(a.zones):
        blocks.append(Block("table", table=zt))
    return blocks


def _model_text(a) -> str:
    m = a.model
    name = m.model if isinstance(m.model, str) else "custom"
    params = ", ".join(f"{k} {v:g}" for k, v in sorted(m.params.items()))
    cal = " (calibrated)" if m.calibration else ""
    return f"{name}{(' (' + params + ')') if params else ''}{cal}, AP gain {m.ap_gain_dbi:g} dBi"


def phases_table(current: int) -> Table:
    rows = []
    for p in ro.PHASES.values():
        mark = " ◀ this report" if p.number == current else ""
        rows.append([str(p.number) + mark, f"{p.title} ({p.title_ja})",
                     f"{p.effect} ({p.effect_ja})"])
    return Table(["Phase", "What is installed (実装内容)", "Effect (効果)"], rows, [1.2, 3, 3])


def criterion_detail(c) -> str:
    """A criterion's detail as the report writes it: why it is impossible for the site,
    and what to do next about a failure."""
    parts = [("Impossible for this site: " if c.impossible else "") + c.detail]
    if c.passed is False and c.action:
        parts.append(f"Next: {c.action}")
    return ". ".join(p for p in parts if p.strip())


def criteria_table(a) -> Table:
    rows = [[c.id, c.name, c.requirement, c.value_text(), c.verdict, c.source,
             criterion_detail(c)] for c in a.criteria]
    return Table(["Id", "Criterion", "Requirement", "Value", "Result", "From", "Detail"], rows,
                 [1.5, 2.2, 3.2, 1.2, 1.1, 0.8, 1.6], status_col=4, small=True)


def ap_table(a) -> Table:
    df = a.ap_sheet
    cols = {"id": "AP", "x_m": "x [m]", "y_m": "y [m]", "height_m": "Height [m]",
            "channel": "Ch", "width_mhz": "MHz", "tx_power_dbm": "Power [dBm]",
            "min_rssi_dbm": "Min RSSI [dBm]", "switch": "Switch", "port": "Port",
            "cable_m": "Cable [m]"}
    runs = a.cable_runs.set_index("ap_id")["cable_m"] if len(a.cable_runs) else {}
    df = df.copy()
    df["cable_m"] = [runs.get(i) if hasattr(runs, "get") else None for i in df["id"]]
    area = a.metrics["cell_area_m2"]
    df["cell_m2"] = [area.get(i) for i in df["id"]]
    cols["cell_m2"] = "Cell [m²]"
    return frame_table(df, cols, fmt={"x_m": lambda v: _f(v, 1), "y_m": lambda v: _f(v, 1),
                                      "height_m": lambda v: _f(v, 1),
                                      "tx_power_dbm": lambda v: _f(v, 1),
                                      "min_rssi_dbm": lambda v: _f(v, 0),
                                      "cable_m": lambda v: _f(v, 1),
                                      "cell_m2": lambda v: _f(v, 0),
                                      "port": lambda v: "-" if v in ("", None) else str(v)},
                       small=True)


def approaches_table() -> Table:
    """Seed 8.1.3.3 transposed: one row per aspect, one column per approach."""
    cols = ["Aspect"] + [f"{r['approach']} ({r['approach_ja']})" for r in ro.WIRELESS_APPROACHES]
    rows = []
    for key, en, ja in ro.APPROACH_COLUMNS[1:]:
        rows.append([f"{en} ({ja})"] + [r[key] for r in ro.WIRELESS_APPROACHES])
    return Table(cols, rows, [1.3, 2, 2, 2, 2, 2], small=True)


RATIONALE = (
    "The site network follows the house rule of seed 8.1.3 (小型AP＋有線バックホール): small "
    "APs on 5 GHz with 20 MHz non-DFS channels at low power, so that cells are small with "
    "clear boundaries, every AP on wired PoE backhaul, and one SSID and security setting "
    "everywhere. Of the approaches compared in seed 8.1.3.3 (below), it is the only one that "
    "is low to medium in cost and lead time while scaling linearly with floor area and "
    "terminals and roaming well; enterprise APs at high power bloat cells in metal halls, "
    "SoftAP and Wi-Fi Direct do not roam, and local 5G costs far more and takes a licence. "
    "The phased rollout (seed 8.1.3.7) proves one cell first, then a few cells on fixed "
    "channels, then the whole floor, and then keeps it tuned.")


def phase_blocks(a) -> list[Block]:
    n = a.phase.number
    b: list[Block] = []
    if n in (1, 2):
        b.append(Block("h2", "Measurement plan" if n == 1 else
                       "Measurement plan and concurrent-connection test"))
        b.append(Block("p", "Measure at each point below (red circles on the installation map) "
                       "with a terminal of the site's type; record the values beside the "
                       "prediction. A point passes when every criterion of the list holds."))
        instr = ro.measurement_instructions(a.site)
        b.append(Block("table", table=Table(["What to measure", "Pass criterion"],
                                            [[i["what"], i["pass"]] for i in instr], [1, 1.3])))
        mp = a.measurement_points
        b.append(Block("table", table=frame_table(
            mp, {"point": "Point", "ap_id": "AP", "x_m": "x [m]", "y_m": "y [m]", "zone": "Zone",
                 "kind": "Where", "predicted_rssi_dbm": "Pred. RSSI [dBm]",
                 "predicted_sinr_db": "Pred. SINR [dB]", "expected_mcs": "MCS",
                 "expected_phy_mbps": "PHY [Mb/s]", "required_rssi_dbm": "Need [dBm]",
                 "expect_covered": "Covered"},
            fmt={"x_m": lambda v: _f(v, 1), "y_m": lambda v: _f(v, 1),
                 "required_rssi_dbm": lambda v: _f(v, 0), "expected_mcs": _mcs,
                 "expected_phy_mbps": _phy,
                 "expect_covered": lambda v: "yes" if v else "no"}, small=True)))
    if n == 2 and a.concurrent_test is not None:
        b.append(Block("h3", "Concurrent-connection test (同時接続試験)"))
        b.append(Block("p", "All terminals below connect at the same time, each cell on its "
                       "own fixed channel, and stream their profile's uplink for 10 minutes "
                       "while a ping runs to the site server."))
        b.append(Block("table", table=frame_table(
            a.concurrent_test, {"ap_id": "Cell", "channel": "Ch", "terminals": "Terminals",
                                "points": "At points", "offered_mbps": "Offered [Mb/s]",
                                "predicted_phy_mbps": "PHY [Mb/s]",
                                "predicted_airtime": "Airtime", "pass": "Pass criterion"},
            fmt={"predicted_airtime": _pct}, widths=[0.8, 0.5, 1.6, 1.1, 1, 0.9, 0.9, 3.2],
            small=True)))
    if n >= 3:
        b.append(Block("h2", "Bill of materials"))
        b.append(Block("table", table=frame_table(
            a.bom, {"category": "Category", "item": "Item", "quantity": "Qty", "unit": "Unit",
                    "detail": "Detail"}, fmt={"quantity": lambda v: "-" if v in ("", None)
                                             else _f(v, 1) if isinstance(v, float) and
                                             not float(v).is_integer() else _f(v, 0)},
            widths=[1.2, 3.2, 0.7, 0.6, 3], small=True)))
        b.append(Block("h3", "PoE switches"))
        b.append(Block("table", table=frame_table(
            a.switches[a.switches["ports_used"] > 0] if len(a.switches) else a.switches,
            {"switch": "Switch", "ports_used": "Ports used", "ports": "Ports",
             "poe_used_w": "PoE used [W]", "poe_budget_w": "PoE budget [W]",
             "ports_ok": "Ports ok", "poe_ok": "PoE ok", "aps": "APs"},
            fmt={"ports_ok": lambda v: "PASS" if v else "FAIL",
                 "poe_ok": lambda v: "PASS" if v else "FAIL",
                 "poe_used_w": lambda v: _f(v, 0), "poe_budget_w": lambda v: _f(v, 0)},
            widths=[0.8, 0.8, 0.6, 1, 1, 0.8, 0.8, 4], small=True)))
        b.append(Block("h3", "Cable runs"))
        b.append(Block("table", table=frame_table(
            a.cable_runs, {"ap_id": "AP", "switch": "Switch", "port": "Port",
                           "cable_m": "Length [m]", "length_from": "Length from",
                           "within_90m": "<= 90 m"},
            fmt={"port": lambda v: "-" if v is None or (isinstance(v, float) and math.isnan(v))
                 else str(int(v)), "within_90m": lambda v: "-" if v is None else
                 ("PASS" if v else "FAIL")}, small=True)))
    if n == 3 and a.walk_tests is not None:
        b.append(Block("h2", "Roaming walk tests along the aisles"))
        b.append(Block("p", "Pass criterion for every walk: " + ro.WALK_TEST_PASS + "."))
        b.append(Block("table", table=frame_table(
            a.walk_tests, {"walk": "Walk", "zone": "Zone", "x0_m": "From x", "y0_m": "From y",
                           "x1_m": "To x", "y1_m": "To y", "length_m": "Length [m]",
                           "expected_aps": "Expected APs in order",
                           "expected_roams": "Roams", "min_rssi_dbm": "Min RSSI [dBm]",
                           "below_roam_threshold_m": "Below -70 [m]"},
            widths=[0.6, 1.3, 0.7, 0.7, 0.7, 0.7, 0.8, 3.6, 0.7, 0.9, 0.9], small=True)))
    if n == 4:
        b.append(Block("h2", "Monitoring thresholds"))
        b.append(Block("table", table=frame_table(
            a.thresholds, {"threshold": "Threshold", "value": "Value", "meaning": "Meaning",
                           "source": "Source"}, widths=[2, 1.6, 3.5, 1.2], small=True)))
        b.append(Block("h2", "What to log"))
        b.append(Block("table", table=frame_table(
            a.logging, {"source": "Source", "what": "What", "interval": "Interval",
                        "used for": "Used for"}, widths=[1, 3, 1, 3], small=True)))
        b.append(Block("h2", "Power adjustments"))
        pa = a.power_adjustments
        srcs = []
        if a.survey:
            srcs.append("the survey findings")
        if a.model.calibration:
            srcs.append("the calibrated model")
        if a.logs:
            srcs.append("the terminal logs")
        if pa is None or not len(pa):
            b.append(Block("p", "No power change recommended" + (
                f" from {', '.join(srcs)}." if srcs else
                ": no survey, calibrated model or logs given. Re-run this report with "
                "--survey, --model or --logs after the next survey.")))
        else:
            b.append(Block("p", f"Recommended from {', '.join(srcs)} (whole dB, within the "
                           f"domain's limits):"))
            b.append(Block("table", table=frame_table(
                pa, {"ap_id": "AP", "current_dbm": "Now [dBm]", "change_db": "Change [dB]",
                     "new_dbm": "New [dBm]", "reason": "Reason", "source": "From"},
                fmt={"change_db": lambda v: f"{float(v):+.0f}"},
                widths=[0.7, 0.8, 0.8, 0.8, 4.5, 1], small=True)))
        b.append(Block("h2", "Operations checklist (seed 8.1.3.6, 運用手順)"))
        b.append(Block("table", table=frame_table(
            a.checklist, {"step": "Step", "item_ja": "項目", "item": "Item",
                          "status": "Status", "from the plan": "From the plan"},
            widths=[0.7, 1.5, 3.6, 0.9, 3], status_col=3, small=True)))
        if a.logs:
            b.append(Block("h3", "Log analysis"))
            b.append(Block("kv", items=_flat_items(a.logs.get("summary", {}))))
    return b


def roaming_blocks(a, figs: dict) -> list[Block]:
    """Phases 2-4: the simulated walks of the phase's area (wifiplan.roaming), beside the
    measured log's figures in phase 4."""
    if a.roaming is None:
        return []
    rep = a.roaming["report"]
    tm, s = rep["terminal_model"], rep["summary"]
    b = [Block("h2", "Simulated walks (roaming)")]
    if not rep["routes"]:
        return b + [Block("p", "No route of the site lies in this phase's area.")]
    src = "the site's routes" if a.site.routes else \
        "walks generated along the longest free aisles of each zone"
    b.append(Block("p", (
        f"A terminal walks {src} ({s['routes']} in this phase's area, {s['walked_m']:g} m): it "
        f"stays on its AP down to {tm['roam_threshold_dbm']:g} dBm (seed 8.1.3.5), scans "
        f"({tm['scan_s']:g} s) and roams to an AP at least {tm['hysteresis_db']:g} dB "
        f"stronger; a roam costs {tm['handover_s']:g} s "
        f"({'802.11r' if tm['fast_transition'] else 'full authentication'}); no link below "
        f"{tm['usable_min_dbm']:g} dBm. The resend queue is what the terminal's application "
        f"must hold to lose nothing over the longest outage (seed 8.1.3.5).")))
    for key in ("roaming", "roaming-timeline"):
        if key in figs:
            b.append(Block("figure", figure=figs[key]))
    b.append(Block("table", table=frame_table(
        a.roaming["table"], {"name": "Route", "terminal": "Terminal", "length_m": "Length [m]",
                             "roams": "Roams", "roams_per_hour": "Roams/h",
                             "ping_pong_roams": "Ping-pong", "sticky_s": "Sticky [s]",
                             "seconds_below_70_dbm": f"< {tm['roam_threshold_dbm']:g} dBm [s]",
                             "longest_outage_s": "Longest outage [s]",
                             "queue_bytes": "Queue [bytes]", "serving_path": "Serving APs"},
        fmt={"length_m": lambda v: _f(v, 0), "sticky_s": lambda v: _f(v, 1),
             "seconds_below_70_dbm": lambda v: _f(v, 1),
             "longest_outage_s": lambda v: _f(v, 2), "queue_bytes": lambda v: f"{int(v):,}"},
        widths=[1.6, 0.8, 0.7, 0.5, 0.6, 0.7, 0.7, 0.8, 0.8, 0.9, 3.0], small=True)))
    q = ", ".join(f"{t} {v['bytes']:,} bytes ({v['packets']} packets)"
                  for t, v in s["resend_queue"].items())
    b.append(Block("p", f"Resend queue per terminal type for the longest outage "
                        f"({s['longest_outage_s']:g} s): {q}."))
    cmp_ = a.roaming["compare"]
    if cmp_ is not None:
        b.append(Block("h3", "Simulated walks beside the measured log"))
        b.append(Block("p", f"Simulated: {cmp_.attrs.get('simulated_hours')} h of walking; "
                            f"measured: {cmp_.attrs.get('measured_hours')} h of associated "
                            "terminal time. The log has no outage figure (it sees "
                            "associations, not gaps)."))
        b.append(Block("table", table=frame_table(
            cmp_, {"figure": "Figure", "simulated": "Simulated", "measured": "Measured log"},
            fmt={"simulated": lambda v: "-" if v is None else _f(v, 2),
                 "measured": lambda v: "-" if v is None or (isinstance(v, float) and
                                                            math.isnan(v)) else _f(v, 2)},
            widths=[3, 1, 1])))
    return b


def _flat_items(d: dict, prefix: str = "") -> list[tuple[str, str]]:
    out = []
    for k, v in d.items():
        if isinstance(v, dict):
            out += _flat_items(v, f"{prefix}{k}.")
        elif isinstance(v, (list, tuple)):
            out.append((prefix + str(k), ", ".join(str(x) for x in v[:20])
                        + (" ..." if len(v) > 20 else "")))
        else:
            out.append((prefix + str(k), _f(v, 2) if isinstance(v, float) else str(v)))
    return out


def survey_blocks(a) -> list[Block]:
    if not a.survey:
        return []
    s = a.survey
    b = [Block("h2", "Survey"), Block("p", f"Survey file {s['path']}: "
                                           f"{len(s['findings'])} findings, "
                                           f"{len(s['rejected_rows'])} rejected rows.")]
    sm = s.get("summary") or {}
    if sm:
        sv, cov, cnt = sm.get("survey") or {}, sm.get("coverage") or {}, sm.get("counts") or {}
        items = [("Format, encoding", f"{sv.get('format', '-')}, {sv.get('encoding', '-')}"),
                 ("Rows read / used", f"{sv.get('n_rows', '-')} / {sv.get('n_used', '-')}"),
                 ("Points, measurements", f"{sm.get('points', '-')}, "
                                          f"{sm.get('measurements', '-')}"),
                 ("BSSIDs heard / matched / foreign",
                  f"{sm.get('bssids_heard', '-')} / {sm.get('bssids_matched', '-')} / "
                  f"{sm.get('bssids_foreign', '-')}"),
                 ("Measured coverage (all points)",
                  f"{_pct(cov.get('fraction_ok'))} ({cov.get('rule', '')})"),
                 ("Best plan AP, median / 5th percentile",
                  f"{_f(cov.get('median_best_rssi_dbm'))} / "
                  f"{_f(cov.get('p05_best_rssi_dbm'))} dBm"),
                 ("Findings", ", ".join(f"{v} {k}" for k, v in cnt.items()) or "none"),
                 ("By kind", ", ".join(f"{k} {v}" for k, v in
                                       sorted((sm.get("by_kind") or {}).items())) or "none")]
        res = sm.get("ap_residuals") or []
        if res:
            items.append(("Measured - predicted per AP (mean / rms)", "; ".join(
                f"{r['ap_id']} {_f(r.get('mean_residual_db'))} / "
                f"{_f(r.get('rms_residual_db'))} dB" for r in res[:40])))
        b.append(Block("kv", items=items))
    if s["findings"]:
        f = pd.DataFrame(s["findings"])
        for c in ("kind", "severity", "ap_id", "bssid", "x_m", "y_m", "detail"):
            if c not in f.columns:
                f[c] = None
        f["who"] = [x if isinstance(x, str) and x else (y or "-")
                    for x, y in zip(f["ap_id"], f["bssid"])]
        limit = 60
        if len(f) > limit:
            b.append(Block("note", f"The first {limit} of {len(f)} findings; report.json "
                                   f"lists them all."))
        b.append(Block("table", table=frame_table(
            f.head(limit), {"kind": "Kind", "severity": "Severity", "who": "AP / BSSID",
                            "x_m": "x [m]", "y_m": "y [m]", "detail": "Detail"},
            widths=[1.3, 0.8, 1.4, 0.6, 0.6, 5], small=True)))
    return b


def build(a, figures) -> list[Block]:
    """The report of one phase, top to bottom."""
    ph = a.phase
    crit = a.criteria
    n_fail = sum(c.passed is False for c in crit)
    n_pass = sum(c.passed is True for c in crit)
    n_nm = sum(c.passed is None for c in crit)
    blocks = [Block("h1", f"{a.site.name}: phase {ph.number}, {ph.title}"),
              Block("p", f"{ph.title_ja} / {ph.effect} ({ph.effect_ja})"),
              Block("verdict", "PASS" if a.passed else "FAIL",
                    items=[f"{n_pass} criteria passed", f"{n_fail} failed",
                           f"{n_nm} not measured", f"{len(a.plan.aps)} APs in this phase",
                           f"target: {a.target_label}"])]
    for note in a.notes:
        blocks.append(Block("note", note))
    blocks += site_summary(a)
    blocks += [Block("h2", "Rollout phases (seed 8.1.3.7, 段階的導入アプローチ)"),
               Block("table", table=phases_table(ph.number))]
    blocks += [Block("h2", "Acceptance criteria"),
               Block("p", f"Judged on the plan's prediction over the target ({a.target_label}, "
                          f"{a.metrics['target_area_m2']:,.0f} m²)"
                          + (" and on the survey's measurements and findings." if a.survey
                             else "; with a survey (--survey) the measurements are judged "
                                  "too.")),
               Block("table", table=criteria_table(a))]
    figs = {f.key: f for f in figures}
    blocks.append(Block("h2", "Maps"))
    sheets = sorted((k for k in figs if k.startswith("installation-")),
                    key=lambda k: int(k.rsplit("-", 1)[1]))
    for key in ("installation", *sheets, "rssi", "channel", "boundary", "sinr", "secondary"):
        if key in figs:
            blocks.append(Block("figure", figure=figs[key]))
    blocks += [Block("h2", "Access points"),
               Block("p", f"SSID policy on every AP: {ro.SSID_POLICY}. 802.11k/v/r on; minimum "
                          f"RSSI {ro.ROAM_THRESHOLD_DBM:g} dBm (seed 8.1.3.5). The full "
                          f"configuration sheet is aps.csv."),
               Block("table", table=ap_table(a))]
    blocks += phase_blocks(a)
    blocks += roaming_blocks(a, figs)
    blocks += survey_blocks(a)
    if a.cell_load is not None and len(a.cell_load):
        blocks.append(Block("h2", "Cell load"))
        blocks.append(Block("table", table=frame_table(
            a.cell_load, {"ap_id": "AP", "channel": "Ch", "zones": "Zones",
                          "terminals": "Terminals", "demand_mbps": "Demand [Mb/s]",
                          "phy_rate_mbps": "PHY [Mb/s]", "mcs": "MCS", "airtime": "Airtime",
                          "ok": f"Within {AIRTIME_BUDGET:.0%}".replace("%", " %")},
            fmt={"airtime": _pct, "terminals": lambda v: _f(v, 1), "mcs": _mcs,
                 "phy_rate_mbps": _phy,
                 "ok": lambda v: "PASS" if v else "FAIL"},
            widths=[0.7, 0.5, 2.6, 0.9, 1, 0.9, 0.6, 0.9, 0.9], status_col=8, small=True)))
    if ph.number == 1:       # the design rationale once, in the first phase's report
        blocks += [Block("h2", "Design rationale (seed 8.1.3.3, コスト・運用比較)"),
                   Block("p", RATIONALE),
                   Block("table", table=approaches_table())]
    blocks += record_blocks(a)
    return blocks


def report_date() -> str:
    """The report's date, YYYY-MM-DD (UTC): today, or the date of ``SOURCE_DATE_EPOCH``
    when it is set (reproducible builds' convention), so that a rerun is byte-identical."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    when = (dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc) if epoch and
            epoch.strip().isdigit() else dt.datetime.now(dt.timezone.utc))
    return when.strftime("%Y-%m-%d")


def record_blocks(a) -> list[Block]:
    """What a lead signs: the date, the plan's revision, the inputs with their hashes, the
    assumptions, and the sign-off block."""
    inputs = {k: v for k, v in a.inputs.items() if v}
    plan_rec = inputs.get("plan")
    revision = (f"{plan_rec['file']} sha256 {plan_rec['sha256']}" if plan_rec else
                f"planned by wifiplan {__version__} for this report ({len(a.full_plan.aps)} "
                f"APs)" if a.full_plan is not None else "-")
    model = a.model
    cal = getattr(model, "calibration", None) or {}
    model_text = (f"{model.model if isinstance(model.model, str) else 'custom'}"
                  + (f", calibrated on {cal.get('observations', '?')} measurements "
                     f"(cross-validated RMSE {cal.get('rmse_after_db', '?')} dB)" if cal
                     else ", not calibrated")
                  + f"; AP gain {model.ap_gain_dbi:g} dBi, client at "
                    f"{model.client_height_m:g} m")
    rows = [["Date", a.report_date or report_date()], ["Tool", f"wifiplan {__version__}"],
            ["Plan revision", revision],
            ["Regulatory domain", f"{a.site.regulatory_domain}: channels "
                                  f"{', '.join(str(c) for c in a.site.allowed_channels())}"],
            ["Propagation model", model_text],
            ["Grid", f"{a.radiomap.resolution_m:g} m, target: {a.target_label}"]]
    rows += [[f"Input: {k}", f"{v['file']} (sha256 {v['sha256']})"] for k, v in inputs.items()]
    roles = ["Designed by (network design)", "Checked by (site survey)",
             "Approved by (rollout lead)"]
    return [Block("h2", "Record and sign-off"),
            Block("kv", items=rows),
            Block("signoff", f"Phase {a.phase.number} is "
                             f"{'accepted' if a.passed else 'not accepted'} on the criteria "
                             "above; a failed criterion marked impossible needs a decision on "
                             "the site (a requirement or its infrastructure) before sign-off.",
                  items=roles)]
