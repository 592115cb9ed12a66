"""What a phase installs: cable runs, switch usage, the bill of materials and the AP
configuration sheet (with the SSID policy of seed 8.1.3.6 step 1)."""
from __future__ import annotations

import pandas as pd

from ..site import Site
from ..apmodels import model_of, poe_w
from ..backhaul import AP_POE_W, backhaul_summary, cable_length_m
from ..plan import Plan
from ..rules import MAX_PERMANENT_LINK_M as MAX_CABLE_M
from ..rules import ROAM_THRESHOLD_DBM

#: One SSID and one security setting on every AP (seed 8.1.3.6 step 1).
SSID_POLICY = "one SSID on every AP; WPA3-Enterprise (802.1X), WPA2-Enterprise fallback"


def cable_runs(site: Site, plan: Plan, evaluation: dict | None = None) -> pd.DataFrame:
    """One row per AP: switch, port, cable length and whether it is within 90 m.

    Lengths come from the plan (``cable_m``, set by the planner), else from the evaluation's
    backhaul figures, else the planner's cable rule
    (:func:`wifiplan.backhaul.cable_length_m`) from the AP's switch.
    """
    sw = {s.name: s for s in site.switches}
    bh = {}
    if evaluation and isinstance(evaluation.get("backhaul"), dict):
        bh = {k: v for k, v in (evaluation["backhaul"].get("aps") or {}).items()
              if isinstance(v, dict)}
    rows = []
    for a in plan.aps:
        s = sw.get(a.switch) if a.switch else None
        length, how = a.cable_m, "plan"
        if length is None and a.id in bh and bh[a.id].get("cable_m") is not None:
            length, how = float(bh[a.id]["cable_m"]), "evaluation"
        if length is None and s is not None:
            length = cable_length_m(a.x_m, a.y_m, a.height_m, s.position[0], s.position[1])
            how = "estimate"
        rows.append({"ap_id": a.id, "switch": a.switch or "", "port": a.port,
                     "cable_m": None if length is None else round(float(length), 1),
                     "length_from": how if length is not None else "",
                     "within_90m": None if length is None else bool(length <= MAX_CABLE_M)})
    return pd.DataFrame(rows, columns=["ap_id", "switch", "port", "cable_m", "length_from",
                                       "within_90m"])


def switch_usage(site: Site, plan: Plan) -> pd.DataFrame:
    """Per switch: ports and PoE budget used by the plan's APs (the planner's backhaul
    summary, :func:`wifiplan.backhaul.backhaul_summary`)."""
    use = backhaul_summary(site, plan.aps)["switches"]
    pos = {s.name: s.position for s in site.switches}
    rows = []
    for name, u in use.items():
        aps = [a.id for a in plan.aps if a.switch == name]
        known = name in pos
        rows.append({"switch": name, "x_m": pos[name][0] if known else None,
                     "y_m": pos[name][1] if known else None, "ports": int(u.get("ports", 0)),
                     "ports_used": int(u["ports_used"]),
                     "poe_budget_w": float(u.get("poe_budget_w", 0.0)),
                     "poe_used_w": float(u["poe_w"]),
                     "ports_ok": known and not u.get("ports_over", False),
                     "poe_ok": known and not u.get("poe_over_budget", False),
                     "aps": ", ".join(aps) + ("" if known else " (switch not in the site)")})
    for name in sorted({a.switch for a in plan.aps if a.switch} - set(use)):
        aps = [a.id for a in plan.aps if a.switch == name]
        rows.append({"switch": name, "x_m": None, "y_m": None, "ports": 0,
                     "ports_used": len(aps), "poe_budget_w": 0.0,
                     "poe_used_w": sum(poe_w(a) for a in plan.aps if a.switch == name),
                     "ports_ok": False, "poe_ok": False,
                     "aps": ", ".join(aps) + " (switch not in the site)"})
    return pd.DataFrame(rows, columns=["switch", "x_m", "y_m", "ports", "ports_used",
                                       "poe_budget_w", "poe_used_w", "ports_ok", "poe_ok",
                                       "aps"])


def bill_of_materials(site: Site, plan: Plan, runs: pd.DataFrame, switches: pd.DataFrame
                      ) -> pd.DataFrame:
    """Items to order and install for the plan: APs, PoE switches and ports, cable runs."""
    rows = []
    n = len(plan.aps)
    heights = sorted({round(a.height_m, 1) for a in plan.aps})
    hardware = any(_names_hardware(a) for a in plan.aps)
    if not hardware:
        rows.append({"category": "access point", "item": "Small AP, 5 GHz 802.11ax, 20 MHz, "
                     "802.11k/v/r, PoE powered", "quantity": n, "unit": "pcs",
                     "detail": f"{', '.join(plan.ids)}; mount heights "
                               f"{', '.join(f'{h:g}' for h in heights)} m"})
    else:
        rows += ap_hardware_rows(plan)
    rows.append({"category": "access point", "item": "Ceiling / beam mounting kit",
                 "quantity": n, "unit": "pcs", "detail": "one per AP"})
    for s in switches.itertuples():
        if s.ports_used == 0:
            continue
        rows.append({"category": "PoE switch", "item": f"PoE switch {s.switch} "
                     f"({s.ports} ports, {s.poe_budget_w:g} W PoE budget)", "quantity": 1,
                     "unit": "pcs", "detail": f"existing or new; at ({s.x_m:g}, {s.y_m:g}) m"
                     if s.x_m is not None else "not in the site's infrastructure"})
        rows.append({"category": "PoE switch", "item": f"PoE+ ports on {s.switch}",
                     "quantity": int(s.ports_used), "unit": "ports",
                     "detail": f"{s.ports_used}/{s.ports} ports, {s.poe_used_w:g}/"
                               f"{s.poe_budget_w:g} W PoE "
                               + ("(each AP at its model's PoE class)" if hardware else
                                  f"({AP_POE_W:g} W per AP, 802.3at)")
                               + ("" if s.ports_ok and s.poe_ok else " - OVER CAPACITY")})
    for r in runs.itertuples():
        rows.append({"category": "cable run", "item": f"Cat 6A run {r.switch or '?'}"
                     f"{'' if r.port is None or pd.isna(r.port) else ' port ' + str(int(r.port))}"
                     f" -> {r.ap_id}", "quantity": r.cable_m if r.cable_m is not None else "",
                     "unit": "m", "detail": ("" if r.within_90m is None else
                                             "within 90 m" if r.within_90m else "OVER 90 m")
                     + (f" ({r.length_from})" if r.length_from else "")})
    total = float(pd.to_numeric(runs["cable_m"], errors="coerce").fillna(0).sum())
    rows.append({"category": "cable run", "item": "Total cable (Cat 6A)",
                 "quantity": round(total, 1), "unit": "m",
                 "detail": f"{len(runs)} runs plus patch cords"})
    return pd.DataFrame(rows, columns=["category", "item", "quantity", "unit", "detail"],
                        dtype=object)


def _names_hardware(ap) -> bool:
    return bool(getattr(ap, "model", None) or getattr(ap, "antenna", None))


def ap_hardware_rows(plan: Plan) -> list[dict]:
    """Bill-of-materials rows of a plan whose APs name models or antennas: one row per AP
    model (its PoE class), one per external antenna."""
    rows = []
    groups: dict[str, list] = {}
    for a in plan.aps:
        groups.setdefault(model_of(a).name, []).append(a)
    for name, aps in groups.items():
        m = model_of(aps[0])
        hs = sorted({round(a.height_m, 1) for a in aps})
        rows.append({"category": "access point", "item": f"AP {m.name}: {m.description}; "
                     f"5 GHz 802.11ax, 20 MHz, 802.11k/v/r", "quantity": len(aps),
                     "unit": "pcs", "detail": f"{', '.join(a.id for a in aps)}; mount heights "
                     f"{', '.join(f'{h:g}' for h in hs)} m; PoE {m.poe_label} "
                     f"({m.poe_w:g} W at the port); up to {m.max_tx_power_dbm:g} dBm"})
    ants: dict[str, list] = {}
    for a in plan.aps:
        if getattr(a, "antenna", None) and model_of(a).external_antenna:
            ants.setdefault(a.antenna, []).append(a)
    for name, aps in ants.items():
        mt = aps[0].mount
        rows.append({"category": "antenna", "item": f"External antenna {name} "
                     f"({mt.pattern.name}, {mt.peak_gain_dbi:g} dBi peak)", "quantity": len(aps),
                     "unit": "pcs", "detail": "; ".join(
                         f"{a.id} azimuth {mt_az(a):g} deg, down-tilt {a.mount.tilt_deg:g} deg"
                         for a in aps)})
    return rows


def mt_az(ap) -> float:
    """The boresight azimuth [deg] of an AP's antenna, 0..360 (0 = +x, counter-clockwise)."""
    return round(float(ap.mount.azimuth_deg) % 360.0, 1)


def ap_config_sheet(site: Site, plan: Plan) -> pd.DataFrame:
    """The AP configuration sheet: what the installer sets on each AP."""
    rows = []
    for a in plan.aps:
        rows.append({"id": a.id, "x_m": round(a.x_m, 2), "y_m": round(a.y_m, 2),
                     "height_m": round(a.height_m, 2), "channel": int(a.channel),
                     "width_mhz": int(a.width_mhz), "tx_power_dbm": round(a.tx_power_dbm, 1),
                     "ssid_policy": SSID_POLICY, "min_rssi_dbm": ROAM_THRESHOLD_DBM,
                     "802.11k": "on", "802.11v": "on", "802.11r": "on (FT over the air)",
                     "switch": a.switch or "", "port": "" if a.port is None else int(a.port),
                     "cable_m": "" if a.cable_m is None else a.cable_m,
                     "bssid": a.bssid or ""})
        if a.mount is not None:
            rows[-1].update(model=model_of(a).name, antenna=a.antenna or model_of(a).antenna,
                            azimuth_deg=mt_az(a), tilt_deg=round(float(a.mount.tilt_deg), 1))
        else:                          # the site's omni
            rows[-1].update(model=model_of(a).name, antenna="omni (site gain)",
                            azimuth_deg="", tilt_deg="")
    cols = ["id", "x_m", "y_m", "height_m", "channel", "width_mhz", "tx_power_dbm",
            "ssid_policy", "min_rssi_dbm", "802.11k", "802.11v", "802.11r", "switch", "port",
            "cable_m", "bssid"]
    if any(a.mount is not None for a in plan.aps):
        cols[4:4] = ["model", "antenna", "azimuth_deg", "tilt_deg"]
    return pd.DataFrame(rows, columns=cols)
