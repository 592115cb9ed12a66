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

from ..plan import normalise_bssid
from ..regulatory import channel_from_freq

RSSI_MIN_DBM = -100.0
RSSI_MAX_DBM = -10.0
WIDTHS_MHZ = (20, 40, 80, 160, 320)


def _normalise_bssids(col: pd.Series) -> tuple[pd.Categorical, np.ndarray]:
    """Normalised MACs as a categorical ('' when invalid) and a validity mask.

    Works on the categories, so a million rows cost as much as their distinct BSSIDs."""
    if not isinstance(col.dtype, pd.CategoricalDtype):
        col = col.astype(object).where(col.notna(), "").astype(str).astype("category")
    cats = col.cat.categories
    norm = [normalise_bssid(str(c)) or "" for c in cats] + [""]
    new_codes, uniques = pd.factorize(np.array(norm, dtype=object))
    codes = col.cat.codes.to_numpy()
    codes = new_codes[np.where(codes < 0, len(cats), codes)]
    values = pd.Categorical.from_codes(codes, categories=pd.Index(uniques, dtype=object))
    valid = np.array([u != "" for u in uniques], bool)[codes]
    return values, valid


def _blank_codes(col: pd.Series) -> np.ndarray:
    cats = col.cat.categories
    blank = np.array([str(c).strip() in ("", "nan") for c in cats] + [True], bool)
    codes = col.cat.codes.to_numpy()
    return blank[np.where(codes < 0, len(cats), codes)]


def clean_survey(frame: pd.DataFrame, site=None) -> tuple[pd.DataFrame, list[dict]]:
    """Drop unusable rows; return ``(clean frame, [{"line", "reason"}, ...])``."""
    n = len(frame)
    if n == 0:
        return frame, []
    reason = np.full(n, None, dtype=object)
    done = np.zeros(n, bool)

    def flag(mask, text):
        new = np.asarray(mask, bool) & ~done
        if new.any():
            done[new] = True
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
    has_id = (ap_id != "") & (ap_id != "nan") if ap_id is not None else np.zeros(n, bool)

    empty = np.isnan(x) & np.isnan(y) & np.isnan(rssi) & ~bssid_ok & ~has_id
    flag(empty, "empty line")
    for name, v in (("x_m", x), ("y_m", y)):
        flag(np.isnan(v), f"missing {name}")
        flag(~np.isfinite(v), lambda i, v=v, name=name: f"{name} is not finite ({v[i]})")
    blank_bssid = _blank_codes(frame["bssid"].astype("category"))
    blank_bssid &= ~has_id
    flag(blank_bssid, "missing bssid")
    flag(~bssid_ok & ~has_id,
         lambda i: f"bssid {str(frame['bssid'].iat[i])!r} is not a MAC address")

    ch = frame["channel"].to_numpy(float)
    if "freq_mhz" in frame:
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
            inside[ok_xy] = site.inside_outline(x[ok_xy], y[ok_xy], 0.05)
        flag(ok_xy & ~inside,
             lambda i: f"point ({x[i]:g}, {y[i]:g}) is outside the site outline")

    out = frame.copy()
    out["bssid"] = bssid
    out["channel"] = ch
    keep = ~done
    cols = [c for c in out.columns if c != "line"]
    kept = out[keep]
    # rows hashed first, so that only the few candidates are compared column by column
    h = pd.util.hash_pandas_object(kept[cols], index=False)
    cand = h.duplicated(keep=False).to_numpy()
    if cand.any():
        sub = kept[cand]
        dup = sub.duplicated(subset=cols, keep="first").to_numpy()
        if dup.any():
            first_line = sub.groupby(cols, observed=True, sort=False, dropna=False)["line"] \
                .transform("first").to_numpy()
            idx = np.flatnonzero(keep)[np.flatnonzero(cand)[dup]]
            reason[idx] = [f"duplicate of line {int(fl)}" for fl in first_line[dup]]
            done[idx] = True
            keep = ~done
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


def _codes(col: pd.Series) -> np.ndarray:
    """Integer codes of a column (categorical codes, or factorized values), -1 for NA."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        return col.cat.codes.to_numpy().astype(np.int64)
    return pd.factorize(col, use_na_sentinel=True)[0].astype(np.int64)


def combine_codes(*codes) -> np.ndarray:
    """Dense group ids of several non-negative integer code arrays (in order of appearance)."""
    key = np.zeros(len(codes[0]), np.int64)
    for c in codes:
        c = np.asarray(c, np.int64)
        c = c - c.min() if len(c) else c
        span = int(c.max()) + 1 if len(c) else 1
        if key.max(initial=0) * span > 2 ** 62:
            key = pd.factorize(key)[0].astype(np.int64)
        key = key * span + c
    return pd.factorize(key)[0]


def aggregate_samples(frame: pd.DataFrame, point_tolerance_m: float = 0.05
                      ) -> tuple[pd.DataFrame, str]:
    """Combine repeated samples of one BSSID (on one channel) at one point.

    Samples within ``point_tolerance_m`` (rounded to that grid) are one point, placed at
    their mean position. Returns the aggregated frame, with ``n_samples``, ``rssi_std_db``
    and the first source ``line`` of each group, and a sentence saying how and why.
    Vectorised: group ids from integer codes, sums with ``np.bincount``.
    """
    if "n_samples" in frame:
        return frame, "already aggregated"
    tol = float(point_tolerance_m)
    n = len(frame)
    x = frame["x_m"].to_numpy(float)
    y = frame["y_m"].to_numpy(float)
    pt = combine_codes(np.round(x / tol).astype(np.int64), np.round(y / tol).astype(np.int64))
    n_pt = int(pt.max()) + 1 if n else 0
    cnt_pt = np.bincount(pt, minlength=n_pt)
    px = np.round(np.bincount(pt, x, n_pt) / np.maximum(cnt_pt, 1), 6)
    py = np.round(np.bincount(pt, y, n_pt) / np.maximum(cnt_pt, 1), 6)
    ch = frame["channel"].to_numpy(float)
    parts = [pt, _codes(frame["bssid"]) + 1, np.where(np.isnan(ch), -1, ch).astype(np.int64) + 1]
    if "ap_id" in frame:
        parts.append(_codes(frame["ap_id"]) + 1)
    grp = combine_codes(*parts)
    n_g = int(grp.max()) + 1 if n else 0
    rssi = frame["rssi_dbm"].to_numpy(float)
    cnt = np.bincount(grp, minlength=n_g)
    mw = np.bincount(grp, 10.0 ** (rssi / 10.0), n_g) / cnt
    s1 = np.bincount(grp, rssi, n_g)
    s2 = np.bincount(grp, rssi * rssi, n_g)
    var = np.where(cnt > 1, (s2 - s1 * s1 / cnt) / np.maximum(cnt - 1, 1), 0.0)
    # the first row (lowest source line) of each group carries its other columns
    lines = frame["line"].to_numpy()
    srt = np.lexsort((lines, grp))
    first = srt[np.flatnonzero(np.r_[True, np.diff(grp[srt]) != 0])] if n else srt
    out = frame.iloc[first].reset_index(drop=True)
    g_first = grp[first]
    out["x_m"] = px[pt[first]]
    out["y_m"] = py[pt[first]]
    out["rssi_dbm"] = 10.0 * np.log10(mw[g_first])
    out["n_samples"] = cnt[g_first]
    out["rssi_std_db"] = np.sqrt(np.maximum(var[g_first], 0.0))
    out = out.sort_values("line", kind="stable").reset_index(drop=True)
    return out, AGGREGATION_NOTE.format(tol=tol)


def band_of_rows(frame: pd.DataFrame) -> np.ndarray:
    """'2.4', '5' or '6' per row, from freq_mhz where known, else from the channel."""
    ch = frame["channel"].to_numpy(float)
    band = np.where(ch <= 14, "2.4", "5").astype(object)
    if "freq_mhz" in frame:
        f = frame["freq_mhz"].to_numpy(float)
        known = np.isfinite(f)
        band = np.where(known & (f < 2500), "2.4", band)
        band = np.where(known & (f >= 5925), "6", band)
        band = np.where(known & (f >= 5150) & (f < 5925), "5", band)
    return band
