"""Phases 2-4: the simulated walks of the phase's area (:mod:`wifiplan.roaming`), and in
phase 4 beside the figures of the measured terminal log (:mod:`wifiplan.logs`), under the
same names."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from ..roaming import simulate_roaming
from ..roaming.model import routes_frame
from ..routes import sample_route, site_routes
from ..rules import ROAM_THRESHOLD_DBM

#: The shortest stretch of a route inside the phase's area that is walked [m].
MIN_IN_TARGET_M = 5.0


def routes_in_target(site, rm, target: np.ndarray, routes=None) -> list:
    """The routes (the site's own, else the generated ones) cut to the phase's ``target``
    mask on ``rm``'s grid: a route wholly inside is kept as it is, else its longest stretch
    inside (sampled at the grid step) if that is at least :data:`MIN_IN_TARGET_M` long; the
    trial area of phases 1-2 is a part of a zone, phase 3-4's target the whole site."""
    out = []
    for r in site_routes(site) if routes is None else routes:
        xy, d = sample_route(r.points, rm.resolution_m / 2)
        ix = np.clip(np.floor((xy[:, 0] - rm.xs[0]) / rm.resolution_m + 0.5), 0,
                     len(rm.xs) - 1).astype(int)
        iy = np.clip(np.floor((xy[:, 1] - rm.ys[0]) / rm.resolution_m + 0.5), 0,
                     len(rm.ys) - 1).astype(int)
        inside = np.asarray(target, bool)[iy, ix]
        if inside.all():
            out.append(r)
            continue
        best, i = None, 0
        while i < len(inside):
            if not inside[i]:
                i += 1
                continue
            j = i
            while j + 1 < len(inside) and inside[j + 1]:
                j += 1
            if best is None or d[j] - d[i] > d[best[1]] - d[best[0]]:
                best = (i, j)
            i = j + 1
        if best is not None and d[best[1]] - d[best[0]] >= MIN_IN_TARGET_M:
            out.append(replace(r, name=f"{r.name} (in the target)",
                               points=xy[best[0]:best[1] + 1]))
    return out


def measured_figures(logs: dict) -> dict:
    """The log analysis's figures under the roaming report's names (None where the log has
    none): roams, roams per hour of associated time, ping-pong roams, sticky episodes, time
    below the threshold."""
    s = logs.get("summary", {})
    per_dev = logs.get("below_min_rssi", {}).get("per_device", [])
    time_s = sum(float(d.get("time_s", 0.0)) for d in per_dev)
    below = sum(float(d.get("below_s", 0.0)) for d in per_dev)
    roams = s.get("roams")
    return {"roams": roams,
            "roams_per_hour": round(roams / time_s * 3600.0, 1) if roams is not None and
            time_s else None,
            "ping_pong_roams": s.get("ping_pong_roams"),
            "sticky_episodes": s.get("sticky_episodes"),
            "seconds_below_70_dbm": round(below, 1) if per_dev else None,
            "longest_outage_s": None,
            "hours": round(time_s / 3600.0, 2) if per_dev else None}


def phase_roaming(site, plan, model, rm, target: np.ndarray, logs: dict | None = None) -> dict:
    """The roaming section of a phase report: ``report`` (:func:`simulate_roaming` over
    the routes of the phase's area), ``table`` (one row per route), ``compare`` (simulated
    beside measured, with a log in phase 4; else None) and ``routes`` (how many of the
    site's routes lie in the area)."""
    routes = routes_in_target(site, rm, target)
    report = simulate_roaming(site, plan.aps, routes, model=model)
    compare = None
    if logs:
        sim = report["summary"]
        meas = measured_figures(logs)
        names = [("roams", "Roams"), ("roams_per_hour", "Roams per hour"),
                 ("ping_pong_roams", "Ping-pong roams (A -> B -> A within 10 s)"),
                 ("sticky_episodes", "Sticky episodes"),
                 ("seconds_below_70_dbm", f"Time below {ROAM_THRESHOLD_DBM:g} dBm [s]"),
                 ("longest_outage_s", "Longest outage [s]")]
        compare = pd.DataFrame(
            [{"figure": label, "key": k, "simulated": sim.get(k), "measured": meas.get(k)}
             for k, label in names],
            columns=["figure", "key", "simulated", "measured"])
        compare.attrs["measured_hours"] = meas["hours"]
        compare.attrs["simulated_hours"] = round(sim["walked_s"] / 3600.0, 2)
    return {"report": report, "table": routes_frame(report), "compare": compare,
            "routes": len(routes)}
