"""Power changes and settings per AP of the plan from a log analysis (:func:`recommend`).

- weak cell: at least :data:`WEAK_FRACTION` of the time associated with it below -70 dBm
  -> raise by enough to lift its 10th-percentile RSSI to -70 dBm (1-3 dB);
- ping-pong between A and B (at least :data:`PING_PONG_MIN` times): where they meet below
  -70 dBm raise the weaker by 2 dB, above -65 dBm lower the stronger by 2 dB, inside
  the -65..-70 dBm boundary band of the seed no power change but roaming settings;
- sticky clients on an AP: no power change, enable minimum-RSSI enforcement / 802.11v.

Changes are capped at 3 dB and kept within 1 dBm and the domain's EIRP limit.
"""
from __future__ import annotations

import math

import numpy as np

from ..apmodels import model_of
from ..regulatory import DOMAINS
from ..rules import (BOUNDARY_BAND_DBM, MAX_POWER_RAISE_DB, MAX_TX_POWER_DBM, MIN_TX_POWER_DBM,
                     ROAM_THRESHOLD_DBM, combine_power_changes, tx_power_range_dbm)
from ..radio.antenna import peak_gain_dbi
from ..radio.propagation import PROPAGATION_DEFAULTS
from .thresholds import STICKY_RSSI_DBM

PING_PONG_MIN = 2
WEAK_FRACTION = 0.10
MIN_AP_TIME_S = 60.0            # an AP needs this much associated time to judge its power


def _allowed_tx_dbm(plan, ap, tx_dbm: float) -> float:
    """``tx_dbm`` within the allowed range (:func:`wifiplan.rules.tx_power_range_dbm`) of
    the plan's domain, for the AP's own antenna and model, else the default AP gain (the
    log analysis has no site)."""
    dom = DOMAINS.get(str((plan.extra or {}).get("regulatory_domain", "seed")), DOMAINS["seed"])
    if dom.channel(int(ap.channel)) is None:
        return float(min(max(tx_dbm, MIN_TX_POWER_DBM), MAX_TX_POWER_DBM))
    lo, hi = tx_power_range_dbm(dom, ap.channel,
                                peak_gain_dbi(ap, PROPAGATION_DEFAULTS["ap_gain_dbi"]),
                                model_of(ap).max_tx_power_dbm)
    return float(min(max(tx_dbm, lo), hi))


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
