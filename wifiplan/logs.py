"""Phase-4 log analysis (seed 8.1.3.7): roams, ping-pong, weak signal, sticky clients, power.

Terminal log (CSV, one row per sample; UTF-8, UTF-8 with BOM or Shift_JIS/cp932)
--------------------------------------------------------------------------------
Required columns:

``timestamp``
    ISO 8601 (``2025-08-11T09:00:00Z``; no zone means UTC) or Unix seconds.
``device``
    Terminal id.
``bssid``
    The BSS of the row (any MAC spelling: ``02:1A:..``, ``02-1a-..``, ``021a.0000.0001``).
``rssi_dbm``
    Received power of that BSS at the terminal [dBm], -120..0.

Optional columns:

``kind``
    ``assoc`` (default): the terminal is associated with ``bssid``;
    ``scan``: the terminal heard ``bssid`` in a scan (or a 802.11k neighbour report) while
    associated elsewhere. All ``scan`` rows of one device with one timestamp are one scan.
``neighbor_bssid``, ``neighbor_rssi_dbm``
    The strongest other BSS heard at the time of an ``assoc`` row, for terminals that log
    one line per sample; read as a one-entry scan at the row's time.
``x_m``, ``y_m``
    Where the terminal was [m]; weak-signal samples are located by them in the report.

Other columns are ignored (listed in the report). The line of a row is its line in the
file (the header is line 1). Rows that cannot be used are reported with their line and
reason and left out; a file without a usable association row is bad input.

Definitions (the figures are module constants, the analysis takes them as parameters)
-------------------------------------------------------------------------------------
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
- **Power changes** per AP of the plan (:func:`recommend`):
  weak cell: at least :data:`WEAK_FRACTION` of the time associated with it below -70 dBm
  -> raise by enough to lift its 10th-percentile RSSI to -70 dBm (1-3 dB);
  ping-pong between A and B (at least :data:`PING_PONG_MIN` times): where they meet below
  -70 dBm raise the weaker by 2 dB, above -65 dBm lower the stronger by 2 dB, inside
  the -65..-70 dBm boundary band of the seed no power change but roaming settings;
  sticky clients on an AP: no power change, enable minimum-RSSI enforcement / 802.11v.
  Changes are capped at 3 dB and kept within 1 dBm and the domain's EIRP limit.

Sample logs in ``surveys/*-terminal-log.csv`` are made by :func:`simulate_log`
(``wifiplan logs simulate SITE PLAN -o LOG.csv``) with a planted ping-pong terminal and a
planted sticky terminal::

    wifiplan logs simulate floorplans/production-line.yaml floorplans/production-line.plan.yaml \\
        --period-s 2 -o surveys/production-line-terminal-log.csv
    wifiplan logs simulate floorplans/large-hall.yaml floorplans/large-hall.plan.yaml \\
        --devices 10 --duration-s 900 --period-s 2 -o surveys/large-hall-terminal-log.csv
"""
from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import InputError
from .fileio import check_size
from .plan import load_plan, normalise_bssid
from .propagation import PropagationModel, rssi_points_dbm
from .radiomap import compute_radiomap
from .regulatory import DOMAINS
from .rules import (BOUNDARY_BAND_DBM, MAX_POWER_RAISE_DB, MAX_TX_POWER_DBM, MIN_TX_POWER_DBM,
                    ROAM_THRESHOLD_DBM, clip_tx_power_dbm, combine_power_changes)
from .site import PROPAGATION_DEFAULTS

STICKY_RSSI_DBM = -75.0
STICKY_MARGIN_DB = 6.0
STICKY_MIN_S = 10.0
SCAN_MAX_AGE_S = 5.0
PING_PONG_WINDOW_S = 10.0
PING_PONG_MIN = 2
MAX_SAMPLE_GAP_S = 30.0
WEAK_FRACTION = 0.10
MIN_AP_TIME_S = 60.0            # an AP needs this much associated time to judge its power
MAX_LOG_BYTES = 500 * 1024 * 1024
MAX_LISTED_BAD_ROWS = 200

REQUIRED = ("timestamp", "device", "bssid", "rssi_dbm")
OPTIONAL = ("kind", "neighbor_bssid", "neighbor_rssi_dbm", "x_m", "y_m")


# ---- reading ------------------------------------------------------------------------------

def _decode(raw: bytes, source: str) -> str:
    for enc in ("utf-8-sig", "cp932"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    raise InputError("not UTF-8 or Shift_JIS text, expected a CSV terminal log", source=source)


def read_log(logs, source: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Read and check a terminal log.

    Returns ``(assoc, scans, meta)``: association samples (``line, t, device, bssid,
    rssi_dbm, x_m, y_m``, ``t`` in Unix seconds), scan observations (``line, t, device,
    bssid, rssi_dbm``) and ``meta`` with ``bad_rows`` (line, reason), ``bad_row_count``,
    ``rows``, ``ignored_columns`` and ``source``. Raises :class:`InputError` when nothing
    is usable."""
    if isinstance(logs, pd.DataFrame):
        df = logs.copy()
        source = source or "<logs>"
        df.columns = [str(c).strip() for c in df.columns]
        df = df.astype(str).replace({"nan": "", "None": "", "NaN": ""})
    else:
        p = check_size(logs, MAX_LOG_BYTES)
        source = source or str(p)
        text = _decode(p.read_bytes(), source)
        if not text.strip():
            raise InputError("file is empty, expected a CSV with columns "
                             + ",".join(REQUIRED), source=source)
        try:
            df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False,
                             skip_blank_lines=False)
        except pd.errors.EmptyDataError:
            raise InputError("file is empty, expected a CSV with columns "
                             + ",".join(REQUIRED), source=source) from None
        except pd.errors.ParserError as exc:
            raise InputError(f"not a readable CSV ({str(exc).splitlines()[0]})",
                             source=source) from None
        df.columns = [c.strip() for c in df.columns]
    lower = {c.lower(): c for c in df.columns}
    df = df.rename(columns={orig: low for low, orig in lower.items()})
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise InputError(f"missing column '{missing[0]}', expected columns "
                         f"{','.join(REQUIRED)} (found {','.join(df.columns) or 'none'})",
                         source=source, line=1)
    ignored = [c for c in df.columns if c not in REQUIRED + OPTIONAL]
    n = len(df)
    line = np.arange(n) + 2
    blank = (df.apply(lambda c: c.str.strip()) == "").all(axis=1).to_numpy()
    reasons = np.full(n, "", dtype=object)

    def bad(mask, reason):
        m = np.asarray(mask) & (reasons == "") & ~blank
        reasons[m] = reason

    ts = df["timestamp"].str.strip()
    t = np.array(pd.to_numeric(ts, errors="coerce"), dtype=float)
    iso = ~np.isfinite(t) & (ts != "").to_numpy()
    if iso.any():
        parsed = pd.to_datetime(ts[iso], format="ISO8601", utc=True, errors="coerce")
        secs = (parsed - pd.Timestamp("1970-01-01", tz="UTC")).dt.total_seconds()
        t[iso] = secs.to_numpy(float)
    bad(~np.isfinite(t), "timestamp: expected ISO 8601 or Unix seconds")
    dev = df["device"].str.strip()
    bad((dev == "").to_numpy(), "device: empty")
    bssid = df["bssid"].map(normalise_bssid)
    bad(bssid.isna().to_numpy(), "bssid: expected a MAC address like 02:1a:00:00:00:01")
    rssi = pd.to_numeric(df["rssi_dbm"].str.strip(), errors="coerce").to_numpy(float)
    bad(~((rssi >= -120) & (rssi <= 0)), "rssi_dbm: expected a number from -120 to 0 dBm")
    kind = (df["kind"].str.strip().str.lower().replace("", "assoc") if "kind" in df.columns
            else pd.Series(["assoc"] * n, index=df.index))
    bad(~kind.isin(["assoc", "scan"]).to_numpy(), "kind: expected assoc or scan")
    xy = {}
    for c in ("x_m", "y_m"):
        if c in df.columns:
            s = df[c].str.strip()
            v = pd.to_numeric(s, errors="coerce").to_numpy(float)
            bad((s != "").to_numpy() & ~np.isfinite(v), f"{c}: expected a number in metres")
            xy[c] = v
        else:
            xy[c] = np.full(n, np.nan)
    nb_b = nb_r = None
    if "neighbor_bssid" in df.columns:
        s = df["neighbor_bssid"].str.strip()
        has = (s != "").to_numpy()
        nb_b = s.map(lambda v: normalise_bssid(v) if v else None)
        bad(has & nb_b.isna().to_numpy(), "neighbor_bssid: expected a MAC address")
        r = (pd.to_numeric(df["neighbor_rssi_dbm"].str.strip(), errors="coerce").to_numpy(float)
             if "neighbor_rssi_dbm" in df.columns else np.full(n, np.nan))
        bad(has & ~((r >= -120) & (r <= 0)),
            "neighbor_rssi_dbm: expected a number from -120 to 0 dBm with neighbor_bssid")
        nb_r = r

    ok = (reasons == "") & ~blank
    rows = pd.DataFrame({"line": line, "t": t, "device": dev.to_numpy(), "bssid": bssid.to_numpy(),
                         "rssi_dbm": rssi, "x_m": xy["x_m"], "y_m": xy["y_m"],
                         "kind": kind.to_numpy()})[ok]
    assoc = rows[rows["kind"] == "assoc"].drop(columns="kind")
    scans = rows[rows["kind"] == "scan"][["line", "t", "device", "bssid", "rssi_dbm"]]
    if nb_b is not None:
        sel = ok & (kind == "assoc").to_numpy() & nb_b.notna().to_numpy()
        scans = pd.concat([scans, pd.DataFrame({
            "line": line[sel], "t": t[sel], "device": dev.to_numpy()[sel],
            "bssid": nb_b.to_numpy()[sel], "rssi_dbm": nb_r[sel]})], ignore_index=True)
    bad_idx = np.flatnonzero(reasons != "")
    meta = {"source": source, "rows": int(n - blank.sum()),
            "bad_row_count": int(len(bad_idx)),
            "bad_rows": [{"line": int(line[i]), "reason": str(reasons[i])}
                         for i in bad_idx[:MAX_LISTED_BAD_ROWS]],
            "ignored_columns": ignored}
    if assoc.empty:
        first = f"; first bad row: line {meta['bad_rows'][0]['line']}: " \
                f"{meta['bad_rows'][0]['reason']}" if meta["bad_rows"] else ""
        raise InputError(f"no usable association rows ({meta['bad_row_count']} bad rows of "
                         f"{meta['rows']}){first}", source=source)
    assoc = assoc.sort_values(["device", "t", "line"], kind="stable").reset_index(drop=True)
    scans = scans.sort_values(["device", "t", "line"], kind="stable").reset_index(drop=True)
    return assoc, scans, meta


# ---- analysis -----------------------------------------------------------------------------

def _iso(t: float) -> str:
    return pd.Timestamp(t, unit="s", tz="UTC").strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


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
                            "away": _iso(a["t"]), "back": _iso(b["t"]),
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
                        "start": _iso(ep["t"].iloc[0]),
                        "end": _iso(ep["t"].iloc[-1] + ep["dt"].iloc[-1]),
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
    roams["hour"] = (roams["t"] // 3600 * 3600).map(_iso)
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
        if ap_id in weak_xy.index:
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
            "start": _iso(assoc["t"].min()), "end": _iso(assoc["t"].max()),
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


def _allowed_tx_dbm(plan, ap, tx_dbm: float) -> float:
    """``tx_dbm`` within the allowed range (:func:`wifiplan.rules.tx_power_range_dbm`) of
    the plan's domain, for the site's default AP gain (the log analysis has no site)."""
    dom = DOMAINS.get(str((plan.extra or {}).get("regulatory_domain", "seed")), DOMAINS["seed"])
    if dom.channel(int(ap.channel)) is None:
        return float(min(max(tx_dbm, MIN_TX_POWER_DBM), MAX_TX_POWER_DBM))
    return clip_tx_power_dbm(dom, ap.channel, PROPAGATION_DEFAULTS["ap_gain_dbi"], tx_dbm)


def recommend(report: dict, plan, *, min_rssi_dbm: float = ROAM_THRESHOLD_DBM) -> list[dict]:
    """Power changes (and settings) per AP of the plan, each with its reasons."""
    if plan is None:
        return []
    lo, hi = BOUNDARY_BAND_DBM
    deltas: dict[str, list[tuple[float, str]]] = {a.id: [] for a in plan.aps}
    settings: dict[str, list[str]] = {a.id: [] for a in plan.aps}
    for row in report["below_min_rssi"]["per_ap"]:
        r = row["without_sticky"]
        if row["ap"] not in deltas or r["time_s"] < MIN_AP_TIME_S or r["fraction"] < WEAK_FRACTION:
            continue
        up = float(np.clip(math.ceil(min_rssi_dbm - r["p10_rssi_dbm"]), 1, MAX_POWER_RAISE_DB))
        note = (f", not counting {row['time_s'] - r['time_s']:.0f} s of sticky clients"
                if row["time_s"] > r["time_s"] else "")
        deltas[row["ap"]].append((up, (
            f"{r['fraction']:.0%} of the associated time ({r['below_s']:.0f} of "
            f"{r['time_s']:.0f} s{note}) below {min_rssi_dbm:g} dBm, 10th percentile "
            f"{r['p10_rssi_dbm']:g} dBm: raise {up:g} dB")))
    pairs: dict[tuple, list[dict]] = {}
    for p in report["ping_pong"]:
        pairs.setdefault(tuple(sorted((p["ap_a"], p["ap_b"]))), []).append(p)
    for (a, b), evs in pairs.items():
        if len(evs) < PING_PONG_MIN:
            continue
        # signal of each AP at the roam moments: away (a->b): a before, b after; back: b, a
        lev = {a: [], b: []}
        for p in evs:
            r_from1, r_to1, r_from2, r_to2 = p["rssi_dbm"]
            lev[p["ap_a"]] += [r_from1, r_to2]
            lev[p["ap_b"]] += [r_to1, r_from2]
        med = {k: float(np.median(v)) for k, v in lev.items()}
        meet = float(np.median(lev[a] + lev[b]))
        devices = sorted({p["device"] for p in evs})
        what = (f"{len(evs)} ping-pong roams {a} <-> {b} ({', '.join(devices)}), the cells meet "
                f"at {meet:.1f} dBm ({a} {med[a]:.1f}, {b} {med[b]:.1f} dBm)")
        if meet < min_rssi_dbm:
            weaker = min((a, b), key=lambda k: med[k])
            if weaker in deltas:
                deltas[weaker].append((2.0, f"{what}: below {min_rssi_dbm:g} dBm, raise the "
                                            f"weaker {weaker} 2 dB so one cell holds there"))
        elif meet > hi:
            ap_pw = {x.id: x.tx_power_dbm for x in plan.aps}
            stronger = max((a, b), key=lambda k: (med[k], ap_pw.get(k, 0)))
            if stronger in deltas:
                deltas[stronger].append((-2.0, f"{what}: above {hi:g} dBm, cells overlap too "
                                               f"much; lower the stronger {stronger} 2 dB"))
        else:
            for k in (a, b):
                if k in settings:
                    settings[k].append(f"{what}: inside the {lo:g}..{hi:g} dBm boundary band, "
                                       f"so no power change; enable 802.11k/v and a roaming "
                                       f"hysteresis on the terminals")
    for s in report["sticky"]:
        if s["ap"] in settings:
            settings[s["ap"]].append(
                f"{s['device']} held {s['ap']} at {s['serving_rssi_dbm']:g} dBm for "
                f"{s['duration_s']:.0f} s while {s['better_ap']} was {s['margin_db']:g} dB "
                f"stronger: enable minimum-RSSI enforcement ({STICKY_RSSI_DBM:g} dBm) and "
                f"802.11v BSS transition on {s['ap']}")
    out = []
    for ap in plan.aps:
        ds, st = deltas[ap.id], settings[ap.id]
        if not ds and not st:
            continue
        reasons = [r for _, r in ds]
        if len({np.sign(d) for d, _ in ds}) > 1:
            reasons.append("the findings pull the power both ways: the reduction wins "
                           "(interference first); survey this cell's boundary")
        change = combine_power_changes(d for d, _ in ds)
        new = _allowed_tx_dbm(plan, ap, ap.tx_power_dbm + change)
        if change and abs(new - (ap.tx_power_dbm + change)) > 1e-9:
            reasons.append(f"limited to {new:g} dBm by the allowed power range")
        out.append({"ap": ap.id, "bssid": ap.bssid, "tx_power_dbm": float(ap.tx_power_dbm),
                    "recommended_tx_power_dbm": round(new, 1),
                    "change_db": round(new - float(ap.tx_power_dbm), 1),
                    "reasons": reasons, "settings": st})
    return out


def findings(report: dict) -> int:
    """Number of findings that make ``wifiplan logs analyze`` exit 1."""
    return (len(report["ping_pong"]) + len(report["sticky"])
            + sum(1 for r in report["recommendations"] if r["change_db"] != 0))


# ---- a terminal-log simulator for samples and tests -----------------------------------------

def _random_point(poly, rng, avoid=None, start=None):
    """A random point of ``poly`` outside ``avoid`` (a geometry), reachable from ``start``
    on a straight line that does not cross ``avoid`` (people walk around machines)."""
    from shapely.geometry import LineString, Point
    minx, miny, maxx, maxy = poly.bounds
    fallback = None
    for _ in range(500):
        p = Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
        if not poly.contains(p) or (avoid is not None and avoid.contains(p)):
            continue
        fallback = fallback or (p.x, p.y)
        if start is None or avoid is None or not LineString([start, (p.x, p.y)]).intersects(avoid):
            return p.x, p.y
    if fallback:
        return fallback
    c = poly.representative_point()
    return c.x, c.y


def _walk(start, waypoints_fn, n, period_s, speed_mps, rng):
    """Positions (n, 2) of a random-waypoint walk with pauses; ``waypoints_fn(from_xy)``."""
    pos = np.empty((n, 2))
    x, y = start
    target, pause = waypoints_fn((x, y)), 0
    for k in range(n):
        pos[k] = (x, y)
        if pause > 0:
            pause -= 1
            continue
        dx, dy = target[0] - x, target[1] - y
        d = math.hypot(dx, dy)
        step = speed_mps * period_s
        if d <= step:
            x, y = target
            target = waypoints_fn((x, y))
            pause = int(rng.integers(0, max(1, int(30 / period_s))))
        else:
            x, y = x + dx / d * step, y + dy / d * step
    return pos


def simulate_log(site, plan, *, model=None, duration_s: float = 1200.0, period_s: float = 1.0,
                 scan_every_s: float = 3.0, seed: int = 8, max_devices: int | None = None,
                 start: str = "2025-08-11T09:50:00Z", noise_db: float = 2.0,
                 scan_floor_dbm: float = -85.0, hysteresis_db: float = 5.0,
                 ) -> tuple[pd.DataFrame, dict]:
    """A deterministic terminal log of ``site``'s terminals walking under ``plan``.

    The zones' terminals (up to ``max_devices``) walk between random points of their zone at
    1 m/s with pauses; received power is the site's model plus AR(1) shadowing of
    ``noise_db``. They roam when below -70 dBm to an AP ``hysteresis_db`` stronger, and scan
    every ``scan_every_s`` (the three strongest other BSSIDs above ``scan_floor_dbm``),
    deciding on roams at their scans only.
    Two planted terminals:

    - ``pingpong-1`` stands where two cells meet and flips A -> B -> A within 3-8 s, six
      times, spread over the log;
    - ``sticky-1`` walks from under AP A to a point where another AP B is at least 12 dB
      stronger and A 5 dB below :data:`STICKY_RSSI_DBM`, waits 90 s there, and walks back,
      never roaming (none where no such point exists: in a small reverberant hall no AP
      falls that low).

    Returns ``(frame, truth)``: the log (columns ``timestamp, device, kind, bssid, rssi_dbm,
    x_m, y_m``) and the planted events."""
    from shapely.geometry import Polygon
    aps = [a for a in plan.aps if a.bssid]
    if len(aps) < 2:
        raise InputError("the plan needs at least two APs with a BSSID to simulate roaming",
                         source=plan.source)
    rng = np.random.default_rng(seed)
    model = model or PropagationModel.for_site(site)
    n = int(round(duration_s / period_s))
    t0 = pd.Timestamp(start).tz_convert("UTC") if pd.Timestamp(start).tzinfo else \
        pd.Timestamp(start, tz="UTC")
    from shapely.ops import unary_union
    obstacles = (unary_union([Polygon(o.polygon).buffer(0.3) for o in site.obstacles])
                 if site.obstacles else None)
    devices = []   # (name, positions (n, 2), policy)
    for z in site.zones:
        poly = Polygon(z.polygon)
        for ttype in sorted(z.terminals):
            for _ in range(z.terminals[ttype]):
                devices.append((f"{ttype}-{len(devices) + 1}", poly))
    if max_devices is not None:
        keep = sorted(rng.choice(len(devices), size=min(max_devices, len(devices)),
                                 replace=False)) if devices else []
        devices = [devices[i] for i in keep]
    tracks = []
    for name, poly in devices:
        def wp(start=None, poly=poly):
            return _random_point(poly, rng, obstacles, start)
        tracks.append((name, _walk(wp(), wp, n, period_s, 1.0, rng), "normal"))

    rm = compute_radiomap(site, aps, resolution_m=1.0, model=model)
    X, Y = np.meshgrid(rm.xs, rm.ys)
    inzone = rm.zone_index >= 0
    # ping-pong spot: two cells within 1.5 dB, both between -72 and -62 dBm
    gap = rm.best_rssi_dbm - np.nan_to_num(rm.second_rssi_dbm, nan=-999)
    cand = inzone & (gap < 1.5) & (rm.second_rssi_dbm > -72) & (rm.best_rssi_dbm < -62)
    if not cand.any():
        cand = inzone & (gap < 3) & (rm.second_rssi_dbm > -80)
    k = int(rng.choice(np.flatnonzero(cand.ravel())))
    pp_xy = (float(X.ravel()[k]), float(Y.ravel()[k]))
    pp_a, pp_b = int(rm.best_server.ravel()[k]), int(rm.second_server.ravel()[k])
    tracks.append(("pingpong-1", np.tile(pp_xy, (n, 1)), "pingpong"))
    # sticky route: from under AP A to a spot where B >= A + 12 dB and A is 5 dB below the
    # sticky threshold
    best = None
    for ia, a in enumerate(aps):
        ra = rm.rssi_dbm[ia]
        ok = inzone & (rm.best_server != ia) & (ra <= STICKY_RSSI_DBM - 5) \
            & (rm.best_rssi_dbm >= ra + 12) \
            & (rm.best_rssi_dbm >= ROAM_THRESHOLD_DBM)
        if ok.any():
            d = np.hypot(X - a.x_m, Y - a.y_m)
            j = int(np.argmin(np.where(ok, d, np.inf).ravel()))
            if best is None or d.ravel()[j] < best[0]:
                best = (float(d.ravel()[j]), ia, (float(X.ravel()[j]), float(Y.ravel()[j])))
    truth: dict[str, Any] = {"ping_pong": [], "sticky": [], "pingpong_device": "pingpong-1",
                             "sticky_device": None}
    sticky_plan = None
    if best is not None:
        _, ia, far = best
        near = (aps[ia].x_m, aps[ia].y_m)
        leg = int(math.ceil(math.hypot(far[0] - near[0], far[1] - near[1]) / period_s))
        wait = int(round(90 / period_s))
        t_start = int(n * 0.3)
        pos = np.tile(near, (n, 1)).astype(float)
        for s in range(leg + 1):
            f = s / max(leg, 1)
            pos[min(n - 1, t_start + s)] = (near[0] + f * (far[0] - near[0]),
                                           near[1] + f * (far[1] - near[1]))
        pos[t_start + leg: t_start + leg + wait] = far
        for s in range(leg + 1):
            f = s / max(leg, 1)
            idx = t_start + leg + wait + s
            if idx < n:
                pos[idx] = (far[0] + f * (near[0] - far[0]), far[1] + f * (near[1] - far[1]))
        tracks.append(("sticky-1", pos, "sticky"))
        sticky_plan = (ia, t_start + leg, t_start + leg + wait)
        truth["sticky_device"] = "sticky-1"

    all_xy = np.concatenate([p for _, p, _ in tracks])
    rssi_all = rssi_points_dbm(site, aps, all_xy[:, 0], all_xy[:, 1], model)
    ids = [a.id for a in aps]
    bssids = [a.bssid for a in aps]
    rows = []
    pp_times = np.linspace(n * 0.1, n * 0.9, 6).astype(int)
    scan_step = max(1, int(round(scan_every_s / period_s)))
    for d, (name, pos, policy) in enumerate(tracks):
        base = rssi_all[:, d * n:(d + 1) * n]
        shadow = np.zeros_like(base)
        rho = 0.9
        e = rng.normal(0.0, noise_db * math.sqrt(1 - rho ** 2), base.shape)
        shadow[:, 0] = rng.normal(0.0, noise_db, len(aps))
        for s in range(1, n):
            shadow[:, s] = rho * shadow[:, s - 1] + e[:, s]
        r = np.round(np.maximum(base + shadow, -99.0), 1)   # terminals report down to -99
        serving = np.empty(n, int)
        if policy == "pingpong":
            serving[:] = pp_a
            for tp in pp_times:
                back = tp + max(1, int(round(rng.uniform(3, 8) / period_s)))
                serving[tp:back] = pp_b
                truth["ping_pong"].append({"device": name, "ap_a": ids[pp_a], "ap_b": ids[pp_b],
                                           "away": _iso(t0.timestamp() + tp * period_s),
                                           "back": _iso(t0.timestamp() + back * period_s)})
        elif policy == "sticky":
            serving[:] = sticky_plan[0]
        else:
            cur = int(np.argmax(r[:, 0]))
            for s in range(n):
                if s % scan_step == 0 and r[cur, s] < ROAM_THRESHOLD_DBM:
                    other = int(np.argmax(r[:, s]))
                    if r[other, s] >= r[cur, s] + hysteresis_db:
                        cur = other
                serving[s] = cur
        for s in range(n):
            ts = t0.timestamp() + s * period_s
            rows.append((ts, name, "assoc", bssids[serving[s]], r[serving[s], s],
                         pos[s, 0], pos[s, 1]))
            if s % scan_step == 0:
                heard = [i for i in np.argsort(-r[:, s]) if i != serving[s]
                         and r[i, s] >= scan_floor_dbm][:3]
                for i in heard:
                    rows.append((ts, name, "scan", bssids[i], r[i, s], pos[s, 0], pos[s, 1]))
        if policy == "sticky":
            ia, s0, s1 = sticky_plan
            truth["sticky"].append({"device": name, "ap": ids[ia],
                                    "start": _iso(t0.timestamp() + s0 * period_s),
                                    "end": _iso(t0.timestamp() + s1 * period_s),
                                    "median_serving_rssi_dbm": float(np.median(r[ia, s0:s1])),
                                    "better_ap": ids[int(np.argmax(np.median(base[:, s0:s1], 1)))]})
    frame = pd.DataFrame(rows, columns=["t", "device", "kind", "bssid", "rssi_dbm", "x_m", "y_m"])
    frame = frame.sort_values(["t", "device", "kind"], kind="stable").reset_index(drop=True)
    frame.insert(0, "timestamp", [_iso(v) for v in frame.pop("t")])
    frame["x_m"] = frame["x_m"].round(1)
    frame["y_m"] = frame["y_m"].round(1)
    return frame, truth


def log_to_csv(frame: pd.DataFrame) -> str:
    return frame.to_csv(index=False, float_format="%.1f", lineterminator="\n")
