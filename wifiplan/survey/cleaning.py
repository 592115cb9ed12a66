"""Cleaning with a record: every dropped row is reported with its line and reason.

:func:`clean_survey` checks, in this order, and keeps the first reason of each row:

1. an empty line;
2. x_m / y_m missing or not finite (NaN, inf);
3. bssid missing or not a MAC address (wide files may identify the AP by ``ap_id`` instead);
4. channel missing (and not derivable from freq_mhz) or not a Wi-Fi channel (1..233);
5. rssi_dbm missing, not finite, or outside -100..-10 dBm (a receiver reports nothing weaker
   than its sensitivity, about -100 dBm, and nothing stronger than -10 dBm next to an AP;
   values outside are unit errors, percentages or placeholders);
6. width_mhz present but not 20, 40, 80, 160 or 320;
7. the point outside the site outline (when a site is given);
8. an exact duplicate of an earlier row (every column equal, timestamp included):
   a repeated export, not a new measurement.

:func:`aggregate_samples` then combines repeated samples of one BSSID at one point.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

RSSI_MIN_DBM = -100.0
RSSI_MAX_DBM = -10.0
WIDTHS_MHZ = (20, 40, 80, 160, 320)


def _normalise_bssids(col: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Normalised MAC strings (object array, '' when invalid) and a validity mask.

    Works on the categories, so a million rows cost as much as their distinct BSSIDs."""
    from ..plan import normalise_bssid
    if not isinstance(col.dtype, pd.CategoricalDtype):
        col = col.astype(object).where(col.notna(), "").astype(str).astype("category")
    cats = col.cat.categories
    norm = np.array([normalise_bssid(str(c)) or "" for c in cats] + [""], dtype=object)
    codes = col.cat.codes.to_numpy()
    values = norm[np.where(codes < 0, len(cats), codes)]
    return values, values != ""


def clean_survey(frame: pd.DataFrame, site=None) -> tuple[pd.DataFrame, list[dict]]:
    """Drop unusable rows; return ``(clean frame, [{"line", "reason"}, ...])``."""
    n = len(frame)
    if n == 0:
        return frame, []
    reason = np.full(n, None, dtype=object)

    def flag(mask, text):
        new = np.asarray(mask, bool) & (reason == None)  # noqa: E711 (object array)
        if new.any():
            if callable(text):
                idx = np.flatnonzero(new)
                reason[idx] = [text(i) for i in idx]
            else:
                reason[new] = text
        return new

    x = frame["x_m"].to_numpy(float)
    y = frame["y_m"].to_numpy(float)
    rssi = frame["rssi_dbm"].to_numpy(float)
    ap_id = frame["ap_id"].astype(str).to_numpy() if "ap_id" in frame else None
    bssid, bssid_ok = _normalise_bssids(frame["bssid"])
    bssid_raw = frame["bssid"].astype(object).to_numpy()
    has_id = (ap_id != "") & (ap_id != "nan") if ap_id is not None else np.zeros(n, bool)

    empty = np.isnan(x) & np.isnan(y) & np.isnan(rssi) & ~bssid_ok & ~has_id
    flag(empty, "empty line")
    for name, v in (("x_m", x), ("y_m", y)):
        flag(np.isnan(v), f"missing {name}")
        flag(~np.isfinite(v), lambda i, v=v, name=name: f"{name} is not finite ({v[i]})")
    raw_s = pd.Series(bssid_raw).astype(str)
    blank_bssid = (raw_s.str.strip().isin(["", "nan"])).to_numpy() & ~has_id
    flag(blank_bssid, "missing bssid")
    flag(~bssid_ok & ~has_id, lambda i: f"bssid {str(bssid_raw[i])!r} is not a MAC address")

    ch = frame["channel"].to_numpy(float)
    if "freq_mhz" in frame:
        from .readers import channel_from_freq
        ch = np.where(np.isnan(ch), channel_from_freq(frame["freq_mhz"].to_numpy(float)), ch)
    flag(np.isnan(ch) & ~has_id, "missing channel")
    bad_ch = np.isfinite(ch) & ((ch != np.round(ch)) | (ch < 1) | (ch > 233))
    bad_ch |= np.isinf(ch)
    flag(bad_ch, lambda i: f"channel {ch[i]:g} is not a Wi-Fi channel (1..233)")

    flag(np.isnan(rssi), "missing rssi_dbm")
    flag(~np.isfinite(rssi), lambda i: f"rssi_dbm is not finite ({rssi[i]})")
    flag((rssi < RSSI_MIN_DBM) | (rssi > RSSI_MAX_DBM),
         lambda i: f"rssi_dbm {rssi[i]:g} outside {RSSI_MIN_DBM:g}..{RSSI_MAX_DBM:g} dBm")
    if "width_mhz" in frame:
        w = frame["width_mhz"].to_numpy(float)
        flag(np.isfinite(w) & ~np.isin(w, WIDTHS_MHZ) | np.isinf(w),
             lambda i: f"width_mhz {w[i]:g} is not 20, 40, 80, 160 or 320")
    if site is not None:
        ok_xy = np.isfinite(x) & np.isfinite(y)
        inside = np.zeros(n, bool)
        if ok_xy.any():
            # unique points only: a survey repeats each point for every BSSID heard there
            pts, inv = np.unique(np.column_stack([x[ok_xy], y[ok_xy]]), axis=0,
                                 return_inverse=True)
            inside[ok_xy] = site.inside_outline(pts[:, 0], pts[:, 1], 0.05)[inv.ravel()]
        flag(ok_xy & ~inside,
             lambda i: f"point ({x[i]:g}, {y[i]:g}) is outside the site outline")

    out = frame.copy()
    out["bssid"] = pd.Categorical(bssid)
    out["channel"] = ch
    keep = reason == None  # noqa: E711
    cols = [c for c in out.columns if c != "line"]
    kept = out[keep]
    dup = kept.duplicated(subset=cols, keep="first").to_numpy()
    if dup.any():
        first_line = kept.groupby(cols, observed=True, sort=False, dropna=False)["line"] \
            .transform("first").to_numpy()
        idx = np.flatnonzero(keep)[dup]
        reason[idx] = [f"duplicate of line {int(fl)}" for fl in first_line[dup]]
        keep = reason == None  # noqa: E711
    lines = frame["line"].to_numpy()
    bad = np.flatnonzero(~keep)
    rejected = [{"line": int(lines[i]), "reason": str(reason[i])} for i in bad]
    return out[keep].reset_index(drop=True), rejected


AGGREGATION_NOTE = (
    "samples within {tol:g} m of each other are one point (at their mean position); "
    "repeated samples of one BSSID at one point are combined "
    "into their power mean, 10 log10(mean(10^(rssi/10))) [dBm]: the propagation model "
    "predicts the local mean received power, and averaging in milliwatts (not in dB) "
    "estimates it without the downward bias that small-scale fading puts on a mean of dB "
    "values; n_samples and rssi_std_db keep the count and the spread.")


def aggregate_samples(frame: pd.DataFrame, point_tolerance_m: float = 0.05
                      ) -> tuple[pd.DataFrame, str]:
    """Combine repeated samples of one BSSID (on one channel) at one point.

    Returns the aggregated frame, with ``n_samples``, ``rssi_std_db`` and the first source
    ``line`` of each group, and a sentence saying how and why.
    """
    if "n_samples" in frame:
        return frame, "already aggregated"
    tol = float(point_tolerance_m)
    f = frame.copy()
    f["_xk"] = np.round(f["x_m"].to_numpy(float) / tol).astype(np.int64)
    f["_yk"] = np.round(f["y_m"].to_numpy(float) / tol).astype(np.int64)
    # one position per point for every BSSID heard there: the mean of its samples
    pt = f.groupby(["_xk", "_yk"], sort=False)
    f["x_m"] = np.round(pt["x_m"].transform("mean").to_numpy(float), 6)
    f["y_m"] = np.round(pt["y_m"].transform("mean").to_numpy(float), 6)
    f["_mw"] = 10.0 ** (f["rssi_dbm"].to_numpy(float) / 10.0)
    f["_ch"] = f["channel"].fillna(-1.0)
    ident = "bssid"
    if "ap_id" in f:
        f["_id"] = f["ap_id"].astype(str) + "|" + f["bssid"].astype(str)
        ident = "_id"
    keys = ["_xk", "_yk", ident, "_ch"]
    g = f.groupby(keys, observed=True, sort=False)
    agg = {"x_m": ("x_m", "first"), "y_m": ("y_m", "first"), "_mw": ("_mw", "mean"),
           "n_samples": ("rssi_dbm", "size"), "rssi_std_db": ("rssi_dbm", "std"),
           "line": ("line", "min")}
    for c in frame.columns:
        if c not in agg and c not in ("rssi_dbm",):
            agg[c] = (c, "first")
    out = g.agg(**agg).reset_index(drop=True)
    out["rssi_dbm"] = 10.0 * np.log10(out.pop("_mw"))
    out["rssi_std_db"] = out["rssi_std_db"].fillna(0.0)
    out["channel"] = out["channel"].astype(float)
    order = [c for c in frame.columns if c in out] + ["n_samples", "rssi_std_db"]
    out = out[order].sort_values("line", kind="stable").reset_index(drop=True)
    for c in ("bssid", "ssid"):
        if c in out and not isinstance(out[c].dtype, pd.CategoricalDtype):
            out[c] = out[c].astype("category")
    return out, AGGREGATION_NOTE.format(tol=tol)
