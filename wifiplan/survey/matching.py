"""Matching heard BSSIDs to plan APs.

In order of trust:

1. ``column``: a wide file's AP-column mapping names the plan AP.
2. ``plan`` / ``inventory``: the BSSID is the plan AP's ``bssid`` or is listed for it in an
   inventory CSV (``ap_id,bssid``, as installers record it; several rows per AP allowed).
3. ``neighbour``: one radio announces several SSIDs on neighbouring MACs: the same first five
   octets and a last octet that differs only in its low ``neighbour_bits`` bits (4 by default:
   a block of 16 BSSIDs, as most enterprise APs allocate them). When the block holds the
   BSSIDs of several APs, the measurements decide among them and the match is *proposed*.
4. ``proposed``: plan APs with no known BSSID get one from the measurements: each group of
   neighbouring BSSIDs on one channel (one radio) is compared with the predicted map of each
   such AP (RMS of measured - predicted at the points where it was heard, plus the points
   where the AP should have been heard well and was not), the groups are assigned to APs by
   the Hungarian method (scipy ``linear_sum_assignment``), and each proposal carries a
   confidence (the Gaussian likelihood of its RMS against those of the other candidate APs).
   A proposal is clearly marked (``proposed: true``) and is never taken for a fact.
5. ``foreign``: anything else (neighbours' networks, rogue or unplanned APs).

:func:`match_survey` does this once for a survey and returns a :class:`MatchedSurvey` (the
aggregated rows with their plan AP, the BSSID table, the surveyed points and the model's
prediction there), which the findings, the calibration, the measured maps, the rollout and
the UI all take.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from ..site import Site
from ..errors import InputError
from ..fileio import check_size, write_atomic
from ..plan import normalise_bssid
from ..radio.propagation import PropagationModel, rssi_points_dbm
from .cleaning import aggregate_samples, band_of_rows, combine_codes

NEIGHBOUR_BITS = 4
PROPOSAL_MAX_RMS_DB = 10.0        # a radio further than this from every prediction is foreign
PROPOSAL_SIGMA_DB = 6.0           # spread of measured - predicted for the confidence
UNHEARD_COST_DBM = -90.0          # the level a "not heard" point stands for in the proposal cost
SHOULD_HEAR_DBM = -75.0           # predicted above this and not heard: counts against an AP


def mac_to_int(values) -> np.ndarray:
    """'aa:bb:cc:dd:ee:ff' strings to int64 (-1 when not a MAC)."""
    out = np.full(len(values), -1, dtype=np.int64)
    for i, v in enumerate(values):
        h = str(v).replace(":", "")
        if len(h) == 12:
            try:
                out[i] = int(h, 16)
            except ValueError:
                pass
    return out


def read_inventory(inventory, plan) -> dict[str, str]:
    """``{bssid: ap_id}`` from an inventory CSV (``ap_id,bssid``), a frame or a dict."""
    if inventory is None:
        return {}
    source = "<inventory>"
    if isinstance(inventory, dict):
        df = pd.DataFrame({"bssid": list(inventory), "ap_id": list(inventory.values())})
    elif isinstance(inventory, pd.DataFrame):
        df = inventory
    else:
        p = check_size(inventory)
        source = str(p)
        try:
            df = pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        except pd.errors.EmptyDataError:
            raise InputError("file is empty, expected a CSV with columns ap_id,bssid",
                             source=source, line=1) from None
        except (pd.errors.ParserError, UnicodeDecodeError) as exc:
            raise InputError(f"not a readable CSV ({str(exc).splitlines()[0]})",
                             source=source) from None
    df = df.rename(columns=lambda c: str(c).strip().lower())
    for c in ("ap_id", "bssid"):
        if c not in df.columns:
            raise InputError(f"missing column '{c}', expected columns ap_id,bssid",
                             source=source, line=1)
    ids = set(plan.ids)
    out: dict[str, str] = {}
    for i, (ap, b) in enumerate(zip(df["ap_id"].astype(str), df["bssid"].astype(str))):
        ap = ap.strip()
        nb = normalise_bssid(b.strip())
        if nb is None:
            raise InputError(f"bssid {b!r} is not a MAC address", source=source, line=i + 2)
        if ap not in ids:
            raise InputError(f"ap_id {ap!r} is not an AP of the plan ({', '.join(plan.ids)})",
                             source=source, line=i + 2)
        if nb in out and out[nb] != ap:
            raise InputError(f"bssid {nb} is listed for both {out[nb]} and {ap}",
                             source=source, line=i + 2)
        out[nb] = ap
    return out


def most_common(s: pd.Series):
    """The most frequent value of a series (NaN when it has none)."""
    m = s.dropna().mode()
    return m.iloc[0] if len(m) else np.nan


def bssid_table(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per heard BSSID: ssid and channel (most frequent), points, strongest sample."""
    f = frame.copy()
    f["bssid"] = f["bssid"].astype(str)
    if "ap_id" not in f:
        f["ap_id"] = ""
    f["ap_id"] = f["ap_id"].astype(str).replace("nan", "")
    f["_key"] = np.where(f["bssid"] != "", f["bssid"], "ap:" + f["ap_id"])
    idx = f.groupby("_key", sort=True)["rssi_dbm"].idxmax()
    best = f.loc[idx.to_numpy()]
    g = f.groupby("_key", sort=True)
    out = pd.DataFrame({
        "key": idx.index.to_numpy(),
        "bssid": best["bssid"].to_numpy(),
        "ap_column": best["ap_id"].to_numpy(),
        "ssid": g["ssid"].agg(lambda s: most_common(s.astype(str))).to_numpy(),
        "channel": g["channel"].agg(most_common).to_numpy(float),
        "n_points": g.size().to_numpy(),
        "max_rssi_dbm": best["rssi_dbm"].to_numpy(float),
        "x_m": best["x_m"].to_numpy(float), "y_m": best["y_m"].to_numpy(float)})
    if "width_mhz" in f:
        out["width_mhz"] = g["width_mhz"].agg(most_common).to_numpy(float)
    if "freq_mhz" in f:
        out["freq_mhz"] = g["freq_mhz"].agg(most_common).to_numpy(float)
    return out


def row_keys(frame: pd.DataFrame) -> np.ndarray:
    b = frame["bssid"].astype(str).to_numpy()
    a = frame["ap_id"].astype(str).replace("nan", "").to_numpy() if "ap_id" in frame else \
        np.full(len(frame), "")
    return np.where(b != "", b, np.char.add("ap:", a.astype(str)))


def point_index(frame: pd.DataFrame):
    """(unique points (k, 2) in order of appearance, index of each row's point)."""
    xy = np.round(frame[["x_m", "y_m"]].to_numpy(float), 6)
    if not len(xy):
        return xy.reshape(0, 2), np.zeros(0, np.int64)
    inv = combine_codes(pd.factorize(xy[:, 0])[0], pd.factorize(xy[:, 1])[0])
    first = np.unique(inv, return_index=True)[1]
    return xy[first], inv


def match_bssids(site: Site, plan, frame: pd.DataFrame, *, inventory=None, model=None,
                 predicted: np.ndarray | None = None, neighbour_bits: int = NEIGHBOUR_BITS
                 ) -> pd.DataFrame:
    """Match every heard BSSID to a plan AP (see the module docstring).

    ``predicted`` is the (n_ap, n_points) predicted RSSI [dBm] at :func:`point_index`'s
    points; it is computed when needed and not given. Returns one row per BSSID with
    ``ap_id`` (None for foreign), ``method``, ``confidence`` and ``proposed``.
    """
    table = bssid_table(frame)
    inv = read_inventory(inventory, plan)
    known: dict[int, tuple[str, str]] = {}
    for a in plan.aps:
        if a.bssid:
            known[int(a.bssid.replace(":", ""), 16)] = (a.id, "plan")
    for b, ap in inv.items():
        known.setdefault(int(b.replace(":", ""), 16), (ap, "inventory"))
    ids = set(plan.ids)
    macs = mac_to_int(table["bssid"])
    n = len(table)
    ap_id = np.full(n, None, dtype=object)
    method = np.full(n, "foreign", dtype=object)
    conf = np.zeros(n)
    proposed = np.zeros(n, bool)
    ambiguous: dict[int, list[str]] = {}
    for i in range(n):
        col = table["ap_column"].iat[i]
        if col and col in ids:
            ap_id[i], method[i], conf[i] = col, "column", 1.0
            continue
        if col and col not in ids:
            raise InputError(f"the AP-column mapping names AP {col!r}, which is not in the plan "
                             f"({', '.join(plan.ids)})")
        m = macs[i]
        if m < 0:
            continue
        if m in known:
            ap_id[i], method[i] = known[m]
            conf[i] = 1.0
            continue
        cands = sorted({ap for k, (ap, _) in known.items() if (k >> neighbour_bits)
                        == (m >> neighbour_bits)})
        if len(cands) == 1:
            ap_id[i], method[i], conf[i] = cands[0], "neighbour", 1.0
        elif len(cands) > 1:
            ambiguous[i] = cands
    with_bssid = {ap for ap, _ in known.values()} | {a for a in ap_id if a}
    unknown_aps = [a for a in plan.aps if a.id not in with_bssid]
    rest = [i for i in range(n) if ap_id[i] is None and i not in ambiguous and macs[i] >= 0]
    if ambiguous or (unknown_aps and rest):
        pts, pidx = point_index(frame)
        if predicted is None:
            predicted = rssi_points_dbm(site, plan.aps, pts[:, 0], pts[:, 1], model)
        keys = row_keys(frame)
        rssi = frame["rssi_dbm"].to_numpy(float)
        pos = {a.id: k for k, a in enumerate(plan.aps)}
        five = frame["channel"].to_numpy(float) > 14

        def cost(rows, ap):
            pred = predicted[pos[ap]]
            r = rssi[rows] - pred[pidx[rows]]
            heard_pts = np.zeros(len(pts), bool)
            heard_pts[pidx[rows]] = True
            miss = ~heard_pts & (pred > SHOULD_HEAR_DBM)
            r = np.concatenate([r, UNHEARD_COST_DBM - pred[miss]])
            return float(np.sqrt(np.mean(r ** 2))), len(r)

        def confidence(costs, counts):
            ll = -0.5 * np.minimum(np.asarray(counts), 8) * (np.asarray(costs) /
                                                              PROPOSAL_SIGMA_DB) ** 2
            p = np.exp(ll - ll.max())
            return p / p.sum()

        key_rows = pd.Series(np.arange(len(frame))).groupby(keys).apply(list).to_dict()
        for i, cands in ambiguous.items():
            rows = np.array(key_rows[table["key"].iat[i]])
            cc = [cost(rows, a) for a in cands]
            p = confidence([c[0] for c in cc], [c[1] for c in cc])
            k = int(np.argmax(p))
            ap_id[i], method[i], conf[i], proposed[i] = cands[k], "neighbour-measured", p[k], True
        if unknown_aps and rest:
            # one radio: neighbouring MACs on one channel (consecutive MACs of different
            # APs, as a batch of APs may have, sit on different channels)
            fam = {}
            for i in rest:
                fam.setdefault((int(macs[i]) >> neighbour_bits, table["channel"].iat[i]),
                               []).append(i)
            fams = [v for v in fam.values()
                    if any(table["channel"].iat[i] > 14 for i in v)]
            if fams:
                C = np.zeros((len(fams), len(unknown_aps)))
                N = np.zeros_like(C)
                for fi, members in enumerate(fams):
                    rows = np.concatenate([np.array(key_rows[table["key"].iat[i]])
                                           for i in members])
                    rows = rows[five[rows]]
                    for aj, a in enumerate(unknown_aps):
                        C[fi, aj], N[fi, aj] = cost(rows, a.id)
                r_idx, c_idx = linear_sum_assignment(C)
                for fi, aj in zip(r_idx, c_idx):
                    if C[fi, aj] > PROPOSAL_MAX_RMS_DB:
                        continue
                    p = confidence(C[fi], N[fi])
                    for i in fams[fi]:
                        ap_id[i] = unknown_aps[aj].id
                        method[i] = "proposed"
                        conf[i] = float(p[aj])
                        proposed[i] = True
    out = table.drop(columns=["ap_column"]).copy()
    out["ap_id"] = pd.Series(ap_id, dtype=object)
    out["method"] = method
    out["confidence"] = np.round(conf, 3)
    out["proposed"] = proposed
    return out


def attach_ap_ids(frame: pd.DataFrame, matches: pd.DataFrame) -> pd.DataFrame:
    """The frame with ``ap_id`` (None for foreign) and ``match`` (method) per row."""
    f = frame.copy()
    keys = row_keys(f)
    lut = dict(zip(matches["key"], matches["ap_id"]))
    mlut = dict(zip(matches["key"], matches["method"]))
    ks = pd.Series(keys, index=f.index)
    f["ap_id"] = ks.map(lut).astype(object).where(ks.map(lut).notna(), None)
    f["match"] = ks.map(mlut).fillna("foreign")
    return f


@dataclass
class MatchedSurvey:
    """A survey matched to a plan, once (:func:`match_survey`).

    ``frame``: the aggregated rows (:func:`~wifiplan.survey.cleaning.aggregate_samples`) with
    ``ap_id`` (None for foreign), ``match`` (the method), ``band`` ('2.4', '5', '6') and
    ``point`` (index into ``points``); a wide file's rows, which name the AP but not its
    channel, get the plan AP's channel. ``matches``: one row per heard BSSID
    (:func:`match_bssids`). ``points``: (k, 2) the surveyed points [m]. ``predicted_dbm``:
    (n_ap, k) the model's RSSI of every plan AP there [dBm]. ``model``: that
    :class:`~wifiplan.radio.propagation.PropagationModel`. ``aggregation_note``: how repeated
    samples were combined."""
    frame: pd.DataFrame
    matches: pd.DataFrame
    points: np.ndarray
    predicted_dbm: np.ndarray
    model: Any
    aggregation_note: str

    @property
    def ours(self) -> pd.DataFrame:
        """The rows of the plan's APs."""
        return self.frame[self.frame["ap_id"].notna().to_numpy()]


def match_survey(site: Site, plan, frame: pd.DataFrame, *, model=None,
                 inventory=None) -> MatchedSurvey:
    """Aggregate a survey (:func:`read_survey`'s frame), predict the plan at its points with
    ``model`` (a PropagationModel, a model file or None for the site's own) and match every
    heard BSSID to a plan AP (:func:`match_bssids`, ``inventory`` an ``ap_id,bssid`` CSV)."""
    if isinstance(frame, MatchedSurvey):
        return frame
    if not isinstance(model, PropagationModel):
        model = PropagationModel.for_site(site, model)
    frame, note = aggregate_samples(frame)
    pts, pidx = point_index(frame)
    predicted = rssi_points_dbm(site, plan.aps, pts[:, 0], pts[:, 1], model)   # (n_ap, n_pt)
    matches = match_bssids(site, plan, frame, inventory=inventory, model=model,
                           predicted=predicted)
    f = attach_ap_ids(frame, matches)
    no_ch = f["channel"].isna().to_numpy() & f["ap_id"].notna().to_numpy()
    if no_ch.any():
        plan_ch = f["ap_id"].map({a.id: float(a.channel) for a in plan.aps})
        f.loc[no_ch, "channel"] = plan_ch[no_ch]
    f["band"] = band_of_rows(f)
    f["point"] = pidx
    return MatchedSurvey(frame=f, matches=matches, points=pts, predicted_dbm=predicted,
                         model=model, aggregation_note=note)


def save_inventory(matches: pd.DataFrame, path: str | Path) -> Path:
    """Write matched BSSIDs as an inventory CSV (``ap_id,bssid,method,confidence``)."""
    m = matches[matches["ap_id"].notna() & (matches["bssid"] != "")]
    return write_atomic(path, m[["ap_id", "bssid", "method", "confidence"]]
                        .to_csv(index=False, lineterminator="\n"))
