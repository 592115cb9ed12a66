"""Phase 4 and the seed's operations (8.1.3.6): the thresholds monitoring watches, what to
log, the recommended power changes per AP and the operations checklist."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..site import Site
from ..evaluation import ap_power_range_dbm
from ..plan import Plan
from ..radio.radiomap import RadioMap
from ..rules import (AIRTIME_BUDGET, BOUNDARY_BAND_DBM, BOUNDARY_BAND_TEXT, BOUNDARY_WITHIN_DB,
                     CO_CHANNEL_MIN_SEPARATION_DB, DEFAULT_MIN_RSSI_DBM, MIN_SNR_DB,
                     MIN_TX_POWER_DBM, NOISE_FLOOR_DBM, ROAM_THRESHOLD_DBM,
                     combine_power_changes)
from ..radio.propagation import PROPAGATION_DEFAULTS
from .bom import SSID_POLICY
from .criteria import BOUNDARY_BAND_TARGET


#: Seed 8.1.3.6 (運用手順（接続・ローミング）): the operations checklist.
OPERATIONS_STEPS = [
    ("ssid", "SSID/セキュリティ統一",
     "One SSID and one security setting on all APs (WPA2/WPA3, Enterprise if possible)"),
    ("channels", "非DFSチャネル固定",
     "Fixed non-DFS channels (5 GHz, 20 MHz wide)"),
    ("power", "低出力設定で小セル化",
     f"Low power for small cells ({BOUNDARY_BAND_DBM[1]:g} to {BOUNDARY_BAND_DBM[0]:g} dBm "
     "at the cell boundaries)"),
    ("min_rssi", "最低RSSI閾値で再探索",
     "Terminals join the one SSID and re-scan when below the minimum RSSI threshold"),
    ("backhaul", "有線バックホール",
     "Wired backhaul (PoE/GbE) to the server and desktops"),
]
ROAMING_HANDLING = [
    ("session", "セッション維持",
     "Session retention: one SSID plus application-level resend and queueing keep the user "
     "experience"),
    ("handover", "切替時間の最小化",
     "Minimal handover time: enable 802.11k/v/r where terminals and APs support it"),
    ("buffering", "データ保護", "Data protection: temporary buffering and a retry policy"),
    ("recovery", "自動復旧",
     "Automatic recovery: unsent data goes out when RSSI recovers and the terminal "
     "reconnects"),
]


def thresholds_table(site: Site) -> pd.DataFrame:
    """Phase 4: the thresholds that monitoring watches, with their source."""
    lo, hi = BOUNDARY_BAND_DBM
    zmins = sorted({z.min_rssi_dbm for z in site.zones}) or [DEFAULT_MIN_RSSI_DBM]
    rows = [
        ("Minimum RSSI (roaming trigger)", f"{ROAM_THRESHOLD_DBM:g} dBm",
         "terminals re-scan and roam below it; alert when a terminal stays below it",
         "seed 8.1.3.5"),
        ("Primary coverage", ", ".join(f"{v:g}" for v in zmins) + " dBm",
         "the zones' requirement for the best server", "DESIGN 6, site zones"),
        ("Cell boundary band", f"{hi:g} .. {lo:g} dBm",
         "where best and second server are within "
         f"{BOUNDARY_WITHIN_DB:g} dB of each other", "seed 8.1.3.5"),
        ("SNR", f">= {MIN_SNR_DB:g} dB", f"over the {NOISE_FLOOR_DBM:g} dBm noise floor",
         "DESIGN 6"),
        ("Co-channel separation", f">= {CO_CHANNEL_MIN_SEPARATION_DB:g} dB",
         "same-channel APs below the serving AP", "DESIGN 6"),
        ("Airtime per cell", f"< {AIRTIME_BUDGET:.0%}", "channel utilisation",
         "DESIGN 6"),
        ("Ping-pong roams", "0", "A -> B -> A within 10 s", "operations"),
        ("Channel and width", "planned channel, 20 MHz, non-DFS",
         "any AP off plan is an alert", "seed 8.1.3.5"),
    ]
    return pd.DataFrame(rows, columns=["threshold", "value", "meaning", "source"])


def logging_table() -> pd.DataFrame:
    """Phase 4: what to log, where, how often, and what it is for."""
    rows = [
        ("terminal", "timestamp, device, bssid, rssi_dbm (x_m, y_m where known)", "every 5 s",
         f"time below {ROAM_THRESHOLD_DBM:g} dBm, roams, ping-pong, sticky clients (input of "
         "'wifiplan logs "
         "analyze')"),
        ("terminal", "roam events: from/to BSSID, reason, handover time", "per event",
         f"802.11k/v/r working, roam points in the {BOUNDARY_BAND_TEXT} band"),
        ("terminal app", "send queue depth, resends, unsent data age", "every 10 s",
         "data kept during bad signal (seed 8.1.3.5)"),
        ("AP", "channel, width, tx power, client count, channel utilisation, retries",
         "every 60 s", "channel plan kept, airtime < 50 %, power changes traced"),
        ("AP", "neighbour table: BSSID, channel, RSSI of other APs", "every 15 min",
         "co-channel and foreign APs"),
        ("PoE switch", "link state, errors, PoE draw per port, uplink utilisation",
         "every 60 s", "wired backhaul healthy, PoE budget"),
        ("survey", "re-survey after any layout change (racks, machines)", "on change",
         "calibrate the model, re-tune power"),
    ]
    return pd.DataFrame(rows, columns=["source", "what", "interval", "used for"])


def power_adjustments(site: Site, plan: Plan, survey: dict | None = None, model=None,
                      logs: dict | None = None, rm: RadioMap | None = None,
                      base_rm: RadioMap | None = None) -> pd.DataFrame:
    """Phase 4: recommended power changes per AP, each with its reason and source.

    - Survey findings: ``ap_bias`` (the AP's measurements differ from the prediction by the
      mean residual r: the cell is larger or smaller than planned; change by -r to restore
      the planned cell, within the domain's limits), ``co_channel`` (lower the interfering
      AP by the missing separation), ``coverage_hole`` (raise the serving AP by the missing
      level).
    - A calibrated model (``model`` differs from the site's own): with the calibrated map
      ``rm`` against the uncalibrated ``base_rm``, the median change of each AP's best-server
      RSSI over its own cell is compensated.
    - Logs: the per-AP recommendations of the log analysis.
    Changes are in whole dB, one per AP, merged by :func:`wifiplan.rules.combine_power_changes`
    (reductions win over raises; a raise at most 3 dB, a reduction at most 6 dB per round); the
    new power is held in :func:`wifiplan.rules.tx_power_range_dbm`.
    """
    dom = site.domain
    gain = model.ap_gain_dbi if model is not None else site.propagation.get(
        "ap_gain_dbi", PROPAGATION_DEFAULTS["ap_gain_dbi"])
    by_id = {a.id: a for a in plan.aps}
    recs: dict[str, list[tuple[float, str, str]]] = {}

    def add(ap_id, delta, reason, source):
        if ap_id in by_id and delta is not None and math.isfinite(delta):
            recs.setdefault(ap_id, []).append((float(delta), reason, source))

    if survey:
        for f in survey.get("findings", []):
            kind, ap_id = f.get("kind"), f.get("ap_id")
            where = f"({f.get('x_m', 0):g}, {f.get('y_m', 0):g})"
            if kind == "ap_bias" and f.get("mean_residual_db") is not None:
                r = float(f["mean_residual_db"])
                add(ap_id, -round(r), f"survey: measured {r:+.1f} dB against the prediction "
                    f"on average (cell {'larger' if r > 0 else 'smaller'} than planned)",
                    "survey")
            elif kind == "co_channel" and f.get("other") and f.get("separation_db") is not None:
                miss = CO_CHANNEL_MIN_SEPARATION_DB - float(f["separation_db"])
                add(f["other"], -math.ceil(max(miss, 1.0)),
                    f"survey: only {float(f['separation_db']):.0f} dB below the serving "
                    f"{ap_id} on channel {f.get('channel')} near {where} (need "
                    f"{CO_CHANNEL_MIN_SEPARATION_DB:g})", "survey")
            elif kind == "coverage_hole" and ap_id and f.get("rssi_dbm") is not None:
                need = float(f.get("required_dbm", ROAM_THRESHOLD_DBM))
                gap = need - float(f["rssi_dbm"])
                add(ap_id, math.ceil(max(gap, 1.0)),
                    f"survey: {f.get('n_points', 1)} point(s) below {need:g} dBm near {where}, "
                    f"worst {float(f['rssi_dbm']):.0f} dBm", "survey")
    if rm is not None and base_rm is not None and len(rm.aps) == len(base_rm.aps):
        for i, a in enumerate(plan.aps):
            cell = (base_rm.best_server == i) & base_rm.mask
            if not cell.any():
                continue
            d = float(np.median(rm.rssi_dbm[i][cell] - base_rm.rssi_dbm[i][cell]))
            if abs(d) >= 1.0:
                add(a.id, -round(d), f"calibration: the calibrated model predicts "
                    f"{d:+.1f} dB in the AP's cell", "calibration")
    if logs:
        for r in logs.get("recommendations", []) or []:
            if r.get("change_db"):
                add(r.get("ap"), float(r["change_db"]),
                    "logs: " + "; ".join(str(x) for x in r.get("reasons", [])), "logs")
    rows = []
    for a in plan.aps:
        if a.id not in recs:
            continue
        items = recs[a.id]
        # one change per AP: the reductions win over raises (interference first), and
        # among several, the largest magnitude in that direction
        delta = combine_power_changes(d for d, _, _ in items)
        lo, hi = ap_power_range_dbm(site, a, gain) if dom.channel(a.channel) else (0.0, 0.0)
        new = (float(min(max(a.tx_power_dbm + delta, lo), hi))
               if dom.channel(a.channel)
               else max(MIN_TX_POWER_DBM, min(a.tx_power_dbm + delta, a.tx_power_dbm)))
        rows.append({"ap_id": a.id, "current_dbm": a.tx_power_dbm, "change_db": new -
                     a.tx_power_dbm, "new_dbm": new,
                     "reason": "; ".join(r for _, r, _ in items),
                     "source": ", ".join(sorted({s for _, _, s in items}))})
    return pd.DataFrame(rows, columns=["ap_id", "current_dbm", "change_db", "new_dbm",
                                       "reason", "source"])


def operations_checklist(site: Site, plan: Plan, metrics: dict) -> pd.DataFrame:
    """Seed 8.1.3.6 as a checklist, each step with what the plan shows."""
    allowed = set(site.allowed_channels())
    ch_ok = all(a.channel in allowed and a.width_mhz == 20 for a in plan.aps)
    wired = all(a.switch and a.port is not None for a in plan.aps)
    band = metrics.get("boundary_band_share")
    status = {
        "ssid": ("configure", SSID_POLICY),
        "channels": ("ok" if ch_ok else "FAIL",
                     "channels " + ", ".join(str(c) for c in sorted({a.channel for a in
                                                                      plan.aps}))
                     + f" of {site.regulatory_domain} non-DFS set, 20 MHz"),
        "power": ("ok" if band is not None and band >= BOUNDARY_BAND_TARGET else
                  "check" if band is None else "FAIL",
                  "powers " + ", ".join(f"{p:g}" for p in sorted({a.tx_power_dbm for a in
                                                                  plan.aps})) + " dBm; "
                  + (f"{100 * band:.0f} % of boundary points in {BOUNDARY_BAND_TEXT}"
                     if band is not None else "no cell boundary")),
        "min_rssi": ("configure", f"minimum RSSI {ROAM_THRESHOLD_DBM:g} dBm on every AP and "
                                  f"terminal"),
        "backhaul": ("ok" if wired else "FAIL",
                     "every AP on a switch port" if wired else "APs without switch port: "
                     + ", ".join(a.id for a in plan.aps if not (a.switch and a.port))),
    }
    rows = [{"step": i + 1, "item_ja": ja, "item": en, "status": status[k][0],
             "from the plan": status[k][1]} for i, (k, ja, en) in enumerate(OPERATIONS_STEPS)]
    rows += [{"step": "roaming", "item_ja": ja, "item": en, "status": "verify",
              "from the plan": "802.11k/v/r on in the AP sheet" if k == "handover"
              else "terminal application"} for k, ja, en in ROAMING_HANDLING]
    return pd.DataFrame(rows, columns=["step", "item_ja", "item", "status", "from the plan"])
