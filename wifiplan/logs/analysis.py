"""The phase-4 analysis of a terminal log (:func:`analyze_logs`) and its findings.

Definitions (the figures are in :mod:`wifiplan.logs.thresholds`, parameters of the analysis)
--------------------------------------------------------------------------------------------
- A sample stands for the time until the device's next sample, at most
  :data:`MAX_SAMPLE_GAP_S`; a device's last sample for its median sampling interval.
- **Roam**: two consecutive association samples of a device on different BSSIDs; it
  happens at the time of the second. Counted per device and clock hour (UTC).
- **Ping-pong**: a roam A -> B followed by the device's next roam B -> A at most
  :data:`PING_PONG_WINDOW_S` (10 s) later.
- **Time below -70 dBm**: the time of association samples below the roaming threshold
  (seed 8.1.3.5), per device and per AP.
- **Sticky client**: a device that held an AP below :data:`STICKY_RSSI_DBM` (-75 dBm)
  while its latest scan (at most :data:`SCAN_MAX_AGE_S` old) heard another BSS at least
  :data:`STICKY_MARGIN_DB` (6 dB) stronger, for at least :data:`STICKY_MIN_S` in a row.

The report ends with the power changes per AP of the plan
(:func:`wifiplan.logs.recommendations.recommend`).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..plan import load_plan
from ..rules import ROAM_THRESHOLD_DBM
from .reader import iso_time, read_log
from .recommendations import recommend
from .thresholds import (MAX_SAMPLE_GAP_S, PING_PONG_WINDOW_S, SCAN_MAX_AGE_S, STICKY_MARGIN_DB,
                         STICKY_MIN_S, STICKY_RSSI_DBM)


def _durations(assoc: pd.DataFrame, max_gap_s: float) -> np.ndarray:
    dt = np.empty(len(assoc))
    for _, idx in assoc.groupby("device", sort=False).indices.items():
        t = assoc["t"].to_numpy()[idx]
        d = np.diff(t)
        typical = float(np.median(d)) if len(d) else 1.0
        dt[idx] = np.minimum(np.append(d, typical), max_gap_s)
    return dt


def _roams(assoc: pd.DataFrame) -> pd.DataFrame:
    same_dev = assoc["device"].eq(assoc["device"].shift())
    changed = same_dev & assoc["bssid"].ne(assoc["bssid"].shift())
    r = assoc[changed].copy()
    prev = assoc.shift()[changed]
    r["from_bssid"] = prev["bssid"]
    r["from_rssi_dbm"] = prev["rssi_dbm"]
    r["from_ap"] = prev["ap"]
    return r.rename(columns={"bssid": "to_bssid", "ap": "to_ap", "rssi_dbm": "to_rssi_dbm"})[
        ["line", "t", "device", "from_bssid", "from_ap", "from_rssi_dbm", "to_bssid", "to_ap",
         "to_rssi_dbm"]].reset_index(drop=True)


def _ping_pongs(roams: pd.DataFrame, window_s: float) -> list[dict]:
    out = []
    for dev, g in roams.groupby("device", sort=True):
        g = g.reset_index(drop=True)
        for k in range(len(g) - 1):
            a, b = g.iloc[k], g.iloc[k + 1]
            if (b["from_bssid"] == a["to_bssid"] and b["to_bssid"] == a["from_bssid"]
                    and b["t"] - a["t"] <= window_s):
                out.append({"device": dev, "ap_a": a["from_ap"], "ap_b": a["to_ap"],
                            "away": iso_time(a["t"]), "back": iso_time(b["t"]),
                            "dwell_s": round(float(b["t"] - a["t"]), 3),
                            "line_away": int(a["line"]), "line_back": int(b["line"]),
                            "rssi_dbm": [float(a["from_rssi_dbm"]), float(a["to_rssi_dbm"]),
                                         float(b["from_rssi_dbm"]), float(b["to_rssi_dbm"])]})
    return out


def _sticky(assoc: pd.DataFrame, scans: pd.DataFrame, dt: np.ndarray, *, rssi_dbm: float,
            margin_db: float, min_s: float, scan_age_s: float, ap_of
            ) -> tuple[list[dict], np.ndarray]:
    """Sticky episodes, and a mask of the association samples inside them."""
    inside = np.zeros(len(assoc), bool)
    if scans.empty:
        return [], inside
    # one scan = all scan rows of a device at one time; keep its two strongest BSSIDs
    sc = scans.sort_values(["device", "t", "rssi_dbm"], ascending=[True, True, False])
    top = sc.groupby(["device", "t"], sort=False).head(2)
    first = top.groupby(["device", "t"], sort=False).nth(0)
    second = top.groupby(["device", "t"], sort=False).nth(1)
    ev = first[["device", "t", "bssid", "rssi_dbm"]].rename(
        columns={"bssid": "b1", "rssi_dbm": "r1"}).merge(
        second[["device", "t", "bssid", "rssi_dbm"]].rename(
            columns={"bssid": "b2", "rssi_dbm": "r2"}), on=["device", "t"], how="left")
    ev = ev.rename(columns={"t": "t_scan"}).sort_values("t_scan")
    a = assoc[["line", "t", "device", "bssid", "rssi_dbm"]].copy()
    a["dt"] = dt
    a["order"] = np.arange(len(a))
    m = pd.merge_asof(a.sort_values("t"), ev, left_on="t", right_on="t_scan", by="device",
                      direction="backward", tolerance=scan_age_s).sort_values("order")
    other_b = np.where(m["b1"] == m["bssid"], m["b2"], m["b1"])
    other_r = np.where(m["b1"] == m["bssid"], m["r2"], m["r1"]).astype(float)
    hit = ((m["rssi_dbm"] < rssi_dbm) & (other_r >= m["rssi_dbm"] + margin_db)).to_numpy()
    m = m.assign(other_b=other_b, other_r=other_r, hit=hit)
    out = []
    dev = m["device"].to_numpy()
    bss = m["bssid"].to_numpy()
    i, n = 0, len(m)
    while i < n:
        if not hit[i]:
            i += 1
            continue
        j = i
        while j + 1 < n and hit[j + 1] and dev[j + 1] == dev[i] and bss[j + 1] == bss[i]:
            j += 1
        ep = m.iloc[i:j + 1]
        dur = float(ep["dt"].sum())
        if dur >= min_s:
            inside[ep["order"].to_numpy()] = True
            better = ep["other_b"].mode().iloc[0]
            out.append({"device": dev[i], "ap": ap_of(bss[i]), "bssid": bss[i],
                        "better_ap": ap_of(better), "better_bssid": better,
                        "start": iso_time(ep["t"].iloc[0]),
                        "end": iso_time(ep["t"].iloc[-1] + ep["dt"].iloc[-1]),
                        "duration_s": round(dur, 3),
                        "serving_rssi_dbm": round(float(ep["rssi_dbm"].median()), 1),
                        "worst_rssi_dbm": round(float(ep["rssi_dbm"].min()), 1),
                        "better_rssi_dbm": round(float(np.median(ep["other_r"])), 1),
                        "margin_db": round(float(np.median(ep["other_r"] - ep["rssi_dbm"])), 1),
                        "samples": int(len(ep)), "first_line": int(ep["line"].iloc[0])})
        i = j + 1
    return out, inside


def _plan_of(plan):
    if plan is None:
        return None
    if isinstance(plan, (str, Path)):
        return load_plan(plan)
    return plan


def analyze_logs(logs, plan=None, *, min_rssi_dbm: float = ROAM_THRESHOLD_DBM,
                 ping_pong_window_s: float = PING_PONG_WINDOW_S,
                 sticky_rssi_dbm: float = STICKY_RSSI_DBM,
                 sticky_margin_db: float = STICKY_MARGIN_DB, sticky_min_s: float = STICKY_MIN_S,
                 scan_max_age_s: float = SCAN_MAX_AGE_S,
                 max_sample_gap_s: float = MAX_SAMPLE_GAP_S) -> dict:
    """Analyse a terminal log (path or DataFrame) against a plan (path, Plan or None).

    Returns the report as a JSON-ready dict: ``summary``, ``thresholds``, ``bad_rows``,
    ``unknown_bssids``, ``roams`` (per device and hour), ``ping_pong``,
    ``below_min_rssi`` (per device and per AP), ``sticky`` and ``recommendations``."""
    plan = _plan_of(plan)
    assoc, scans, meta = read_log(logs)
    ap_by_bssid = {a.bssid: a.id for a in plan.aps if a.bssid} if plan else {}

    def ap_of(b):
        return ap_by_bssid.get(b, b)

    assoc["ap"] = assoc["bssid"].map(ap_of)
    dt = _durations(assoc, max_sample_gap_s)
    roams = _roams(assoc)
    roams["hour"] = (roams["t"] // 3600 * 3600).map(iso_time)
    per_hour = (roams.groupby(["device", "hour"]).size().reset_index(name="roams")
                if len(roams) else pd.DataFrame(columns=["device", "hour", "roams"]))
    pp = _ping_pongs(roams, ping_pong_window_s)

    weak = (assoc["rssi_dbm"] < min_rssi_dbm).to_numpy()
    tagged = assoc.assign(dt=dt, weak_dt=np.where(weak, dt, 0.0))
    by_dev = tagged.groupby("device").agg(time_s=("dt", "sum"), below_s=("weak_dt", "sum"),
                                          samples=("dt", "size"))
    by_ap = tagged.groupby("ap").agg(time_s=("dt", "sum"), below_s=("weak_dt", "sum"),
                                     samples=("dt", "size"),
                                     p10_rssi_dbm=("rssi_dbm",
                                                   lambda s: float(np.percentile(s, 10))),
                                     median_rssi_dbm=("rssi_dbm", "median"))
    weak_xy = tagged[weak & tagged["x_m"].notna().to_numpy()].groupby("ap")[["x_m", "y_m"]].mean()

    sticky, in_sticky = _sticky(assoc, scans, dt, rssi_dbm=sticky_rssi_dbm,
                                margin_db=sticky_margin_db, min_s=sticky_min_s,
                                scan_age_s=scan_max_age_s, ap_of=ap_of)
    # the cell's own coverage, without the time sticky clients spent where another AP served
    own = tagged[~in_sticky].groupby("ap").agg(
        time_s=("dt", "sum"), below_s=("weak_dt", "sum"),
        p10_rssi_dbm=("rssi_dbm", lambda s: float(np.percentile(s, 10))))
    known = set(ap_by_bssid)
    unknown = []
    if plan is not None:
        for b, g in pd.concat([assoc[["bssid", "line"]],
                               scans[["bssid", "line"]]]).groupby("bssid"):
            if b not in known:
                unknown.append({"bssid": b, "rows": int(len(g)),
                                "first_line": int(g["line"].min())})

    per_ap_rows = []
    for ap_id, r in by_ap.iterrows():
        row = {"ap": ap_id, "time_s": round(float(r.time_s), 3),
               "below_s": round(float(r.below_s), 3),
               "fraction": round(float(r.below_s / r.time_s), 4) if r.time_s else 0.0,
               "samples": int(r.samples), "p10_rssi_dbm": round(float(r.p10_rssi_dbm), 1),
               "median_rssi_dbm": round(float(r.median_rssi_dbm), 1)}
        if ap_id in weak_xy.index and np.isfinite(weak_xy.loc[ap_id].to_numpy(float)).all():
            row["weak_centroid_xy_m"] = [round(float(v), 1) for v in weak_xy.loc[ap_id]]
        o = own.loc[ap_id] if ap_id in own.index else None
        row["without_sticky"] = {
            "time_s": round(float(o.time_s), 3) if o is not None else 0.0,
            "below_s": round(float(o.below_s), 3) if o is not None else 0.0,
            "fraction": round(float(o.below_s / o.time_s), 4) if o is not None and o.time_s
            else 0.0,
            "p10_rssi_dbm": round(float(o.p10_rssi_dbm), 1) if o is not None else None}
        per_ap_rows.append(row)
    thresholds = {"min_rssi_dbm": min_rssi_dbm, "ping_pong_window_s": ping_pong_window_s,
                  "sticky_rssi_dbm": sticky_rssi_dbm, "sticky_margin_db": sticky_margin_db,
                  "sticky_min_s": sticky_min_s, "scan_max_age_s": scan_max_age_s,
                  "max_sample_gap_s": max_sample_gap_s}
    report = {
        "source": meta["source"], "plan": getattr(plan, "source", None),
        "site": getattr(plan, "site", None),
        "thresholds": thresholds,
        "summary": {
            "rows": meta["rows"], "association_samples": int(len(assoc)),
            "scan_observations": int(len(scans)), "bad_rows": meta["bad_row_count"],
            "devices": int(assoc["device"].nunique()), "aps_seen": int(assoc["ap"].nunique()),
            "start": iso_time(assoc["t"].min()), "end": iso_time(assoc["t"].max()),
            "duration_s": round(float(assoc["t"].max() - assoc["t"].min()), 3),
            "roams": int(len(roams)), "ping_pong_roams": len(pp),
            "ping_pong_devices": sorted({p["device"] for p in pp}),
            "sticky_episodes": len(sticky),
            "sticky_devices": sorted({s["device"] for s in sticky}),
        },
        "bad_rows": meta["bad_rows"],
        "ignored_columns": meta["ignored_columns"],
        "unknown_bssids": unknown,
        "roams": {
            "per_device_hour": [{"device": r.device, "hour": r.hour, "roams": int(r.roams)}
                                for r in per_hour.itertuples()],
            "per_device": {d: int(n) for d, n in roams.groupby("device").size().items()},
        },
        "ping_pong": pp,
        "below_min_rssi": {
            "per_device": [{"device": d, "time_s": round(float(r.time_s), 3),
                            "below_s": round(float(r.below_s), 3),
                            "fraction": round(float(r.below_s / r.time_s), 4) if r.time_s else 0.0,
                            "samples": int(r.samples)} for d, r in by_dev.iterrows()],
            "per_ap": per_ap_rows,
        },
        "sticky": sticky,
    }
    report["recommendations"] = recommend(report, plan, min_rssi_dbm=min_rssi_dbm)
    report["summary"]["power_changes"] = sum(1 for r in report["recommendations"]
                                             if r["change_db"] != 0)
    return report


def findings(report: dict) -> int:
    """Number of findings that make ``wifiplan logs analyze`` exit 1."""
    return (len(report["ping_pong"]) + len(report["sticky"])
            + sum(1 for r in report["recommendations"] if r["change_db"] != 0))
