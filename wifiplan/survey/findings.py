"""Findings: every violation of the seed's rules and of the plan that a survey shows.

Kinds and severities
--------------------
error (violates a seed rule, the law of the site's domain, or the plan; fix before use):

- ``coverage_hole``: the best plan AP at a survey point is below the requirement there: the
  zone's ``min_rssi_dbm`` (default -67 dBm) inside a zone, -70 dBm elsewhere (the roaming
  threshold of seed 8.1.3.5); neighbouring hole points are grouped into one finding.
- ``dfs_channel``: one of our APs on a DFS channel (52-144; seed 8.1.3.5: non-DFS only).
- ``band_2g4``: one of our APs, or our SSID, on 2.4 GHz (seed 8.1.3.1/8.1.3.5: 5 GHz only).
- ``forbidden_channel``: one of our APs on a channel the site's domain does not allow.
- ``channel_mismatch``: one of our APs on another channel than the plan's.
- ``width_mismatch``: one of our APs with another channel width than the plan's (needs a
  ``width_mhz`` column).
- ``ap_not_heard``: a plan AP heard nowhere although predicted above -67 dBm at some
  survey point (off, unplugged, or not where the plan says).
- the requirements a zone's profile asks beyond the seed's (:mod:`wifiplan.requirements`,
  :data:`REQUIREMENT_KINDS`), at the survey points of the zones that ask them, grouped like
  the holes: ``secondary_signal`` (the second-strongest plan AP below the zone's
  ``secondary_rssi_dbm``), ``low_snr`` (the best plan AP below ``min_snr_db`` over the
  -95 dBm noise floor, where that is stricter than the zone's primary level),
  ``low_data_rate`` (the PHY rate at the measured SINR, the serving plan AP over every other
  radio heard on its channel and the noise floor, below ``min_data_rate_mbps``; the MCS
  table of :mod:`wifiplan.capacity`) and ``channel_overlap`` (more than
  ``channel_overlap_max_aps`` radios, ours or foreign, heard on one channel at or above
  ``channel_overlap_dbm``).

warning (degrades the network or needs a look):

- ``co_channel``: a second AP (ours or foreign) on the serving AP's channel within 19 dB of it
  (DESIGN.md section 6; a zone's own ``co_channel_separation_db`` at its points), grouped per
  pair of APs.
- ``foreign_ap``: a BSSID that matches no plan AP on one of the plan's channels, heard at
  -82 dBm or stronger (the 20 MHz preamble-detection level of IEEE 802.11-2020 17.3.10.6,
  so it takes airtime from our cells); weaker ones are ``info``.
- ``ap_bias``: a plan AP whose mean residual (measured - predicted) exceeds 6 dB in magnitude:
  misplaced, mis-powered or blocked.
- ``dfs_channel`` of a foreign AP (it may move at a radar event; noted, not ours to fix).

info (for the record): foreign APs on 2.4 GHz, on forbidden channels or weaker than -82 dBm,
and ``proposed_match`` (a BSSID-to-AP mapping inferred from the measurements).
"""
from __future__ import annotations

from typing import TypedDict

import math

import numpy as np
import pandas as pd

from ..site import Site
from ..capacity import phy_rate_at_sinr_mbps
from ..regulatory import is_dfs
from ..requirements import LABELS, asked, per_point
from ..rules import (DEFAULT_MIN_RSSI_DBM, NOISE_FLOOR_DBM,
                     ROAM_THRESHOLD_DBM)
from .matching import mac_to_int, match_survey, most_common, row_keys

FOREIGN_CCA_DBM = -82.0               # IEEE 802.11-2020 17.3.10.6, 20 MHz preamble detection
AP_BIAS_DB = 6.0
AP_BIAS_MIN_POINTS = 5
BIAS_MIN_PREDICTED_DBM = -85.0        # residuals only where the AP should be well heard
HOLE_CLUSTER_M = 3.0

#: The finding kind of each requirement judged only where a zone asks it.
REQUIREMENT_KINDS = {"secondary_rssi_dbm": "secondary_signal", "min_snr_db": "low_snr",
                     "min_data_rate_mbps": "low_data_rate",
                     "channel_overlap_max_aps": "channel_overlap"}

SEVERITIES = {
    "error": "violates a seed rule, the site's regulatory domain or the plan: fix before use",
    "warning": "degrades the network or needs a look",
    "info": "for the record",
}
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


def _r(v, nd=1):
    if v is None:
        return None
    v = float(v)
    return round(v, nd) if math.isfinite(v) else None


def _clusters(xy: np.ndarray, radius: float) -> np.ndarray:
    """Connected components of points closer than ``radius`` [m]; label per point."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree
    n = len(xy)
    if n == 0:
        return np.zeros(0, int)
    pairs = cKDTree(xy).query_pairs(radius, output_type="ndarray")
    g = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n)) \
        if len(pairs) else coo_matrix((n, n))
    return connected_components(g, directed=False)[1]


class SurveyFindings(TypedDict):
    """What :func:`check_survey` returns (plain JSON types; ``wifiplan survey check`` writes
    it, the phase reports and the UI read it)."""
    summary: dict               # site, points, measurements, BSSIDs heard/matched, counts
    findings: list[dict]        # each: kind, severity (error/warning/info), where, what to do
    rejected_rows: list[dict]   # rows the reader dropped, with the reason
    matches: list[dict]         # each BSSID heard: the plan's AP it matched, how, how sure


def check_survey(site: Site, plan, frame: pd.DataFrame, meta=None, *, model=None, inventory=None,
                 min_rssi_dbm: float = ROAM_THRESHOLD_DBM) -> SurveyFindings:
    """Match the survey to the plan and list every finding (see the module docstring).

    ``frame`` is :func:`read_survey`'s frame (aggregated or not) or the survey already
    matched (:func:`~wifiplan.survey.matching.match_survey`, which then decides the model
    and inventory); ``model`` a PropagationModel, a model file or None (the site's own).
    Returns the findings document ``{"summary", "findings", "rejected_rows", "matches"}``
    (plain JSON types).
    """
    ms = match_survey(site, plan, frame, model=model, inventory=inventory)
    model, matches, pts, predicted = ms.model, ms.matches, ms.points, ms.predicted_dbm
    agg_note = ms.aggregation_note
    f = ms.frame.rename(columns={"point": "_pt"})
    ours = f["ap_id"].notna().to_numpy()
    aps = {a.id: a for a in plan.aps}
    pos = {a.id: k for k, a in enumerate(plan.aps)}
    allowed = set(site.domain.allowed_channels(dfs=True, enable_w58=site.enable_w58))
    plan_channels = sorted({a.channel for a in plan.aps})
    confirmed = f[ours & ~f["match"].isin(["proposed", "neighbour-measured"]).to_numpy()]
    ssid_src = confirmed if len(confirmed) else f[ours]
    ssids = ssid_src["ssid"].astype(str)
    ssids = ssids[ssids.str.strip() != ""]
    our_ssids = sorted(set(ssids.value_counts().index[:1])) if len(ssids) else []
    findings: list[dict] = []

    def add(kind, severity, x, y, detail, *, ap_id=None, bssid=None, **extra):
        d = {"kind": kind, "severity": severity}
        if ap_id is not None:
            d["ap_id"] = ap_id
        if bssid is not None:
            d["bssid"] = bssid
        d.update({"x_m": _r(x, 2), "y_m": _r(y, 2), "detail": detail})
        d.update({k: v for k, v in extra.items() if v is not None})
        findings.append(d)

    # ---- per heard BSSID: channel, band, width -----------------------------------------
    rows_of = pd.Series(np.arange(len(f))).groupby(row_keys(f)).indices
    for _, m in matches.iterrows():
        if m["key"] not in rows_of:
            continue
        rows = f.iloc[rows_of[m["key"]]]
        strongest = rows.loc[rows["rssi_dbm"].idxmax()]
        x, y, top = strongest["x_m"], strongest["y_m"], strongest["rssi_dbm"]
        is_ours = isinstance(m["ap_id"], str)
        ap = aps.get(m["ap_id"]) if is_ours else None
        who = (f"{m['ap_id']} ({m['bssid'] or 'mapped column'}"
               + (", proposed match" if m["proposed"] else "") + ")") if is_ours \
            else f"foreign BSSID {m['bssid']}"
        ssid_txt = f" SSID '{m['ssid']}'" if str(m["ssid"]).strip() not in ("", "nan") else ""
        ch = m["channel"]
        if not np.isfinite(ch):
            continue
        ch = int(ch)
        band = most_common(rows["band"])
        kw = {"ap_id": m["ap_id"]} if is_ours else {}
        kw["bssid"] = m["bssid"] or None
        if band == "2.4":
            if is_ours or str(m["ssid"]) in our_ssids:
                add("band_2g4", "error", x, y, f"{who}{ssid_txt} on 2.4 GHz channel {ch}, "
                    f"strongest {top:.0f} dBm: the network is 5 GHz only (seed 8.1.3.5)",
                    channel=ch, rssi_dbm=_r(top), **kw)
            else:
                add("band_2g4", "info", x, y, f"{who}{ssid_txt} on 2.4 GHz channel {ch} "
                    f"(not ours), strongest {top:.0f} dBm", channel=ch, rssi_dbm=_r(top), **kw)
            continue
        if band != "5":
            continue
        if is_dfs(ch):
            add("dfs_channel", "error" if is_ours else "warning", x, y,
                f"{who}{ssid_txt} on DFS channel {ch} (strongest {top:.0f} dBm)"
                + (": the plan uses non-DFS channels only (seed 8.1.3.5); radar detection "
                   "can move or silence the cell" if is_ours else
                   ": not ours; it may change channel at a radar event"),
                channel=ch, rssi_dbm=_r(top), **kw)
        if ch not in allowed:
            add("forbidden_channel", "error" if is_ours else "info", x, y,
                f"{who}{ssid_txt} on channel {ch}, which domain {site.regulatory_domain} "
                f"does not allow (allowed: {', '.join(map(str, sorted(allowed)))})",
                channel=ch, rssi_dbm=_r(top), **kw)
        if is_ours and ap is not None:
            if ch != ap.channel:
                add("channel_mismatch", "error", x, y,
                    f"{who} heard on channel {ch}, planned on {ap.channel}", channel=ch,
                    planned_channel=ap.channel, **kw)
            if "width_mhz" in m and np.isfinite(m["width_mhz"]) and \
                    int(m["width_mhz"]) != ap.width_mhz:
                add("width_mismatch", "error", x, y,
                    f"{who} uses {int(m['width_mhz'])} MHz, planned {ap.width_mhz} MHz "
                    f"(seed 8.1.3.5: 20 MHz channels)", width_mhz=int(m["width_mhz"]),
                    planned_width_mhz=ap.width_mhz, **kw)
            if m["proposed"]:
                add("proposed_match", "info", x, y,
                    f"PROPOSED: {m['bssid']}{ssid_txt} is probably {m['ap_id']} (method "
                    f"{m['method']}, confidence {m['confidence']:.2f}); confirm and record it "
                    f"in the plan or the inventory", confidence=float(m["confidence"]), **kw)
        elif not is_ours and ch in plan_channels:
            sev = "warning" if top >= FOREIGN_CCA_DBM else "info"
            rogue = "; it broadcasts our SSID (unplanned or rogue AP?)" \
                if str(m["ssid"]) in our_ssids else ""
            add("foreign_ap", sev, x, y,
                f"{who}{ssid_txt} on our channel {ch}, strongest {top:.0f} dBm at "
                f"({x:.1f}, {y:.1f}){rogue}", channel=ch, rssi_dbm=_r(top), **kw)

    # ---- coverage --------------------------------------------------------------------
    five = (f["band"] == "5").to_numpy()
    best = np.full(len(pts), -np.inf)
    best_ap = np.full(len(pts), None, dtype=object)
    sel = f[ours & five]
    if len(sel):
        order = sel.sort_values("rssi_dbm", ascending=False).drop_duplicates("_pt")
        best[order["_pt"].to_numpy()] = order["rssi_dbm"].to_numpy(float)
        best_ap[order["_pt"].to_numpy()] = order["ap_id"].to_numpy()
    zi = site.zone_at(pts[:, 0], pts[:, 1])
    zone_req = np.array([z.min_rssi_dbm for z in site.zones] + [min_rssi_dbm], float)[zi]
    need = np.maximum(zone_req, min_rssi_dbm)
    hole = best < need
    if hole.any():
        hidx = np.flatnonzero(hole)
        lab = _clusters(pts[hidx], HOLE_CLUSTER_M)
        for c in np.unique(lab):
            members = hidx[lab == c]
            worst = members[np.argmin(best[members] - need[members])]
            zones = sorted({site.zones[z].name for z in zi[members] if z >= 0})
            b = best[worst]
            btxt = (f"best plan AP {b:.1f} dBm ({best_ap[worst]})" if np.isfinite(b)
                    else "no plan AP heard")
            # inside a zone the plan broke a requirement; outside every zone nobody asked
            # for coverage: the roaming threshold there is for the record
            add("coverage_hole", "error" if zones else "warning", pts[worst, 0], pts[worst, 1],
                f"{len(members)} survey point(s) below the requirement; worst: {btxt}, "
                f"required {need[worst]:.0f} dBm"
                + (f" (zone {', '.join(zones)})" if zones else " (outside zones: roaming "
                   "threshold)"), n_points=int(len(members)), rssi_dbm=_r(b),
                required_dbm=_r(need[worst]), zones=zones or None,
                ap_id=best_ap[worst] if np.isfinite(b) else None)

    # ---- co-channel: a second AP on the serving channel within 19 dB -------------------
    radio = np.where(ours, f["ap_id"].astype(object).to_numpy(),
                     "foreign:" + (mac_to_int(f["bssid"].astype(str).to_numpy()) >> 4)
                     .astype(str))
    f["_radio"] = radio
    serving = f[ours & five].sort_values("rssi_dbm", ascending=False).drop_duplicates("_pt")
    if len(serving):
        s = serving[["_pt", "_radio", "channel", "rssi_dbm"]].rename(
            columns={"_radio": "_srv", "rssi_dbm": "_srv_rssi"})
        others = f[five][["_pt", "_radio", "channel", "rssi_dbm", "x_m", "y_m", "bssid"]]
        j = others.merge(s, on=["_pt", "channel"])
        # each point's zone's separation (the design default outside every zone)
        sep_need = np.asarray(per_point(site, zi, "co_channel_separation_db"), float)
        j["_need"] = sep_need[j["_pt"].to_numpy(int)]
        j = j[(j["_radio"] != j["_srv"]) &
              (j["_srv_rssi"] - j["rssi_dbm"] < j["_need"])]
        j = j.sort_values("rssi_dbm", ascending=False).drop_duplicates(["_pt", "_radio"])
        j["_sep"] = j["_srv_rssi"] - j["rssi_dbm"]
        for (srv, oth), g in j.groupby(["_srv", "_radio"], sort=True):
            w = g.loc[g["_sep"].idxmin()]
            other_txt = oth if not str(oth).startswith("foreign:") else \
                f"foreign BSSID {w['bssid']}"
            rel = (f"only {w['_sep']:.1f} dB below" if w["_sep"] >= 0 else
                   f"{-w['_sep']:.1f} dB stronger than")
            add("co_channel", "warning", w["x_m"], w["y_m"],
                f"{other_txt} on channel {int(w['channel'])} {rel} the serving {srv} at "
                f"{g['_pt'].nunique()} point(s) (need >= {w['_need']:g} dB "
                f"below)", ap_id=srv,
                bssid=None if not str(oth).startswith("foreign:") else str(w["bssid"]),
                other=str(oth) if not str(oth).startswith("foreign:") else None,
                channel=int(w["channel"]), separation_db=_r(w["_sep"]),
                n_points=int(g["_pt"].nunique()))

    # ---- the requirements a zone asks beyond the seed's ----------------------------------
    asked_summary = {}
    if len(pts):
        checks = _requirement_checks(site, f, ours & five, five, zi, best, len(pts))
        for key, (ask, value, need, ok) in checks.items():
            kind = REQUIREMENT_KINDS[key]
            asked_summary[kind] = {"points_asked": int(ask.sum()),
                                   "points_ok": int((ok & ask).sum())}
            bad = np.flatnonzero(ask & ~ok)
            if not len(bad):
                continue
            lab = _clusters(pts[bad], HOLE_CLUSTER_M)
            label, unit = LABELS[key]
            for c in np.unique(lab):
                members = bad[lab == c]
                worst = members[np.argmin(value[members] - need[members])] \
                    if key != "channel_overlap_max_aps" else \
                    members[np.argmax(value[members] - need[members])]
                zones = sorted({site.zones[z].name for z in zi[members] if z >= 0})
                v, nd = value[worst], need[worst]
                if key == "channel_overlap_max_aps":
                    lvl = float(per_point(site, zi[[worst]], "channel_overlap_dbm")[0])
                    what = (f"{int(v)} radios heard on one channel above {lvl:g} dBm, "
                            f"at most {int(nd)} allowed")
                else:
                    what = ((f"{v:.1f} {unit}" if np.isfinite(v) else "none heard")
                            + f", required {nd:g} {unit}")
                add(kind, "error", pts[worst, 0], pts[worst, 1],
                    f"{len(members)} survey point(s) short of the zone's {label}; worst: "
                    f"{what} (zone {', '.join(zones)})", n_points=int(len(members)),
                    value=_r(v), required=_r(nd), unit=unit or None, zones=zones)

    # ---- per plan AP: bias against the prediction, not heard -------------------------
    ap_stats = []
    for a in plan.aps:
        rows = f[(f["ap_id"] == a.id).to_numpy() & five]
        pred_all = predicted[pos[a.id]]
        if not len(rows):
            k = int(np.argmax(pred_all)) if len(pred_all) else 0
            if len(pred_all) and pred_all[k] >= DEFAULT_MIN_RSSI_DBM:
                add("ap_not_heard", "error", pts[k, 0], pts[k, 1],
                    f"{a.id} is not heard anywhere, although predicted {pred_all[k]:.0f} dBm at "
                    f"({pts[k, 0]:.1f}, {pts[k, 1]:.1f}): off, unplugged or elsewhere",
                    ap_id=a.id, predicted_dbm=_r(pred_all[k]))
            ap_stats.append({"ap_id": a.id, "points": 0})
            continue
        # one value per point: the strongest BSSID of the AP there
        per_pt = rows.groupby("_pt")["rssi_dbm"].max()
        pred = pred_all[per_pt.index.to_numpy()]
        use = pred >= BIAS_MIN_PREDICTED_DBM
        res = per_pt.to_numpy(float)[use] - pred[use]
        st = {"ap_id": a.id, "points": int(len(per_pt)),
              "mean_residual_db": _r(res.mean()) if len(res) else None,
              "rms_residual_db": _r(np.sqrt(np.mean(res ** 2))) if len(res) else None}
        ap_stats.append(st)
        if len(res) >= AP_BIAS_MIN_POINTS and abs(res.mean()) > AP_BIAS_DB:
            sign = "weaker" if res.mean() < 0 else "stronger"
            add("ap_bias", "warning", a.x_m, a.y_m,
                f"{a.id} is {abs(res.mean()):.1f} dB {sign} than predicted on average over "
                f"{len(res)} points (rms {np.sqrt(np.mean(res ** 2)):.1f} dB): misplaced, "
                f"mis-powered or blocked", ap_id=a.id, mean_residual_db=_r(res.mean()))

    findings.sort(key=lambda d: (SEVERITY_ORDER[d["severity"]], d["kind"],
                                 str(d.get("ap_id", "")), str(d.get("bssid", ""))))
    counts = {s: sum(1 for d in findings if d["severity"] == s) for s in SEVERITIES}
    by_kind: dict[str, int] = {}
    for d in findings:
        by_kind[d["kind"]] = by_kind.get(d["kind"], 0) + 1
    finite = best[np.isfinite(best)]
    if meta is None:
        rejected = []
    else:
        rejected = list(meta.rejected if hasattr(meta, "rejected") else
                        meta.get("rejected", []))
    summary = {
        "site": site.name, "plan_aps": len(plan.aps),
        "regulatory_domain": site.regulatory_domain,
        "domain_description": site.domain.description,
        "allowed_channels": sorted(allowed),
        "model": model.model if isinstance(model.model, str) else "custom",
        "survey": _meta_summary(meta),
        "points": int(len(pts)), "measurements": int(len(f)),
        "bssids_heard": int(len(matches)),
        "bssids_matched": int(matches["ap_id"].notna().sum()),
        "bssids_proposed": int(matches["proposed"].sum()),
        "bssids_foreign": int(matches["ap_id"].isna().sum()),
        "our_ssids": our_ssids,
        "aggregation": agg_note if agg_note != "already aggregated" else
        (getattr(meta, "aggregation", None) or agg_note),
        "coverage": {
            "rule": f"best plan AP >= zone min_rssi_dbm inside zones, >= {min_rssi_dbm:g} dBm "
                    f"elsewhere",
            "points_ok": int((~hole).sum()), "points_total": int(len(pts)),
            "fraction_ok": _r((~hole).mean() if len(pts) else 0.0, 4),
            "median_best_rssi_dbm": _r(np.median(finite)) if len(finite) else None,
            "p05_best_rssi_dbm": _r(np.percentile(finite, 5)) if len(finite) else None},
        **({"requirements": asked_summary} if asked_summary else {}),
        "ap_residuals": ap_stats,
        "counts": counts, "by_kind": by_kind, "severities": SEVERITIES,
        "rejected_rows": len(rejected),
    }
    return {"summary": summary, "findings": findings, "rejected_rows": rejected,
            "matches": _matches_records(matches)}


def _requirement_checks(site: Site, f: pd.DataFrame, ours5: np.ndarray, five: np.ndarray,
                        zi: np.ndarray, best: np.ndarray, n: int) -> dict:
    """The measured figure of each requirement a zone asks (:data:`REQUIREMENT_KINDS`) at the
    ``n`` survey points (zone index ``zi``, best plan AP ``best`` [dBm]): key -> (asked,
    value, required, met), arrays over the points."""
    out = {}
    for key in REQUIREMENT_KINDS:
        ask = asked(site, zi, key)
        if not ask.any():
            continue
        need = np.asarray(per_point(site, zi, key), float)
        if key == "secondary_rssi_dbm":
            per_ap = f[ours5].groupby(["_pt", "ap_id"])["rssi_dbm"].max().reset_index()
            per_ap = per_ap.sort_values(["_pt", "rssi_dbm"], ascending=[True, False])
            second = per_ap[(per_ap.groupby("_pt").cumcount() == 1).to_numpy()]
            value = np.full(n, -np.inf)
            value[second["_pt"].to_numpy(int)] = second["rssi_dbm"].to_numpy(float)
            ok = value >= need - 1e-6
        elif key == "min_snr_db":
            value = best - NOISE_FLOOR_DBM
            ok = value >= need - 1e-6
        elif key == "min_data_rate_mbps":
            value = _measured_rate_mbps(f, ours5, five, n)
            ok = value >= need - 1e-9
        else:
            level = np.asarray(per_point(site, zi, "channel_overlap_dbm"), float)
            g = f[five][["_pt", "_radio", "channel", "rssi_dbm"]]
            g = g[g["rssi_dbm"].to_numpy(float) >= level[g["_pt"].to_numpy(int)] - 1e-6]
            counts = g.groupby(["_pt", "channel"])["_radio"].nunique()
            value = np.zeros(n)
            if len(counts):
                mx = counts.groupby(level=0).max()
                value[mx.index.to_numpy(int)] = mx.to_numpy(float)
            ok = value <= need
        out[key] = (ask, value, need, np.asarray(ok, bool))
    return out


def _measured_rate_mbps(f: pd.DataFrame, ours5: np.ndarray, five: np.ndarray,
                        n: int) -> np.ndarray:
    """PHY rate [Mb/s] at the measured SINR of each of ``n`` survey points: the strongest
    plan AP over the power sum of every other radio heard on its channel (its strongest
    BSSID each) and the noise floor (:func:`wifiplan.capacity.phy_rate_at_sinr_mbps`); 0
    where no plan AP is heard."""
    srv = f[ours5].sort_values("rssi_dbm", ascending=False).drop_duplicates("_pt")
    rate = np.zeros(n)
    if not len(srv):
        return rate
    s = srv[["_pt", "_radio", "channel", "rssi_dbm"]].rename(
        columns={"_radio": "_srv", "rssi_dbm": "_srv_rssi"})
    o = f[five][["_pt", "_radio", "channel", "rssi_dbm"]]
    o = o.groupby(["_pt", "_radio", "channel"], as_index=False)["rssi_dbm"].max()
    j = o.merge(s, on=["_pt", "channel"])
    j = j[j["_radio"] != j["_srv"]]
    interf_mw = (10.0 ** (j["rssi_dbm"].to_numpy(float) / 10.0))
    i_mw = np.zeros(n)
    np.add.at(i_mw, j["_pt"].to_numpy(int), interf_mw)
    pt = s["_pt"].to_numpy(int)
    sinr = s["_srv_rssi"].to_numpy(float) - 10.0 * np.log10(
        i_mw[pt] + 10.0 ** (NOISE_FLOOR_DBM / 10.0))
    rate[pt] = phy_rate_at_sinr_mbps(sinr)
    return rate


def _meta_summary(meta) -> dict | None:
    if meta is None:
        return None
    d = meta.to_dict() if hasattr(meta, "to_dict") else dict(meta)
    return {k: d.get(k) for k in ("source", "format", "encoding", "n_rows", "n_used",
                                  "n_aggregated", "georef", "notes") if k in d}


def _matches_records(matches: pd.DataFrame) -> list[dict]:
    out = []
    for _, m in matches.iterrows():
        out.append({"bssid": m["bssid"] or None, "ssid": str(m["ssid"]),
                    "channel": int(m["channel"]) if np.isfinite(m["channel"]) else None,
                    "ap_id": m["ap_id"] if isinstance(m["ap_id"], str) else None,
                    "method": m["method"],
                    "confidence": float(m["confidence"]), "proposed": bool(m["proposed"]),
                    "points": int(m["n_points"]), "max_rssi_dbm": _r(m["max_rssi_dbm"])})
    return out


def has_errors(doc: SurveyFindings) -> bool:
    return any(d["severity"] == "error" for d in doc["findings"])


def format_findings_table(doc: SurveyFindings, max_rejected: int = 10) -> str:
    """A plain-text table of the findings document for the terminal."""
    s = doc["summary"]
    lines = [f"Survey of {s['site']} ({s['points']} points, {s['measurements']} measurements; "
             f"domain {s['regulatory_domain']})",
             f"BSSIDs: {s['bssids_heard']} heard, {s['bssids_matched']} matched to the plan "
             f"({s['bssids_proposed']} proposed), {s['bssids_foreign']} foreign; our SSID: "
             f"{', '.join(s['our_ssids']) or '-'}",
             f"Coverage: {s['coverage']['points_ok']}/{s['coverage']['points_total']} points "
             f"meet the requirement; median best {s['coverage']['median_best_rssi_dbm']} dBm",
             ""]
    rows = [("SEVERITY", "KIND", "AP/BSSID", "X_M", "Y_M", "DETAIL")]
    for d in doc["findings"]:
        who = d.get("ap_id") or d.get("bssid") or "-"
        rows.append((d["severity"], d["kind"], str(who),
                     "" if d["x_m"] is None else f"{d['x_m']:.1f}",
                     "" if d["y_m"] is None else f"{d['y_m']:.1f}", d["detail"]))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    for r in rows:
        lines.append("  ".join(r[i].ljust(widths[i]) for i in range(5)) + "  " + r[5])
    if len(rows) == 1:
        lines.append("(no findings)")
    c = s["counts"]
    lines.append("")
    lines.append(f"{c['error']} error(s), {c['warning']} warning(s), {c['info']} info")
    rej = doc["rejected_rows"]
    if rej:
        lines.append(f"{len(rej)} row(s) rejected:")
        for r in rej[:max_rejected]:
            lines.append(f"  line {r['line']}: {r['reason']}")
        if len(rej) > max_rejected:
            lines.append(f"  ... and {len(rej) - max_rejected} more (see the JSON)")
    return "\n".join(lines)
