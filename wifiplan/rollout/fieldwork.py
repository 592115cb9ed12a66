"""The fieldwork of a phase: where and what to measure (phases 1-2), the concurrent-
connection test (phase 2), the roaming walk routes and their pass criterion (phase 3)."""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from shapely.geometry import LineString, Polygon
from shapely.ops import unary_union

from ..site import Site
from ..capacity import (cell_load, mcs_index, phy_rate_mbps, terminal_demand_mbps,
                        terminal_profiles)
from ..radio.radiomap import RadioMap
from ..rules import BOUNDARY_BAND_DBM, DEFAULT_MIN_RSSI_DBM, ROAM_THRESHOLD_DBM
from .criteria import MODEL_TOLERANCE_DB
from .metrics import zone_min_rssi
from .phases import on_site, trial_site


#: The levels a fieldwork plan measures at, from near the AP to beyond its edge [dBm]: three
#: inside the cell, then the top of the boundary band, the design coverage and the roaming
#: threshold (:mod:`wifiplan.rules`).
_RSSI_STEPS_DBM = (-45.0, -55.0, -60.0, BOUNDARY_BAND_DBM[1], DEFAULT_MIN_RSSI_DBM,
                   ROAM_THRESHOLD_DBM)


def _grid_points(rm: RadioMap, sel: np.ndarray):
    iy, ix = np.nonzero(sel)
    return rm.xs[ix], rm.ys[iy], iy, ix


def measurement_plan(site: Site, rm: RadioMap, target: np.ndarray, phase: int) -> pd.DataFrame:
    """Where to measure, what, and the pass criterion of each point (phases 1-2).

    For each phase AP, the points of the target area it serves whose predicted RSSI is
    nearest to -45, -55, -60, -65, -67 and -70 dBm (near the AP to the cell edge); in
    phase 2 also the boundary point of each pair of neighbouring cells nearest to -67.5 dBm
    (the middle of the -65..-70 band). Points are ordered by AP, then by decreasing RSSI.
    """
    best = rm.best_rssi_dbm
    srv = rm.best_server
    req = zone_min_rssi(site, rm)
    picks: list[tuple[int, int, str]] = []
    seen = set()
    for a_i, a in enumerate(rm.aps):
        mine = target & (srv == a_i)
        if not mine.any():
            continue
        x, y, iy, ix = _grid_points(rm, mine)
        vals = best[iy, ix]
        for step in _RSSI_STEPS_DBM:
            j = int(np.argmin(np.abs(vals - step) + 1e-6 * np.hypot(x - a.x_m, y - a.y_m)))
            if abs(vals[j] - step) > 3.0 or (iy[j], ix[j]) in seen:
                continue
            seen.add((iy[j], ix[j]))
            kind = ("cell edge" if DEFAULT_MIN_RSSI_DBM <= step <= BOUNDARY_BAND_DBM[1] else
                    "beyond the edge" if step < DEFAULT_MIN_RSSI_DBM else "in cell")
            picks.append((int(iy[j]), int(ix[j]), kind))
    if phase >= 2 and len(rm.aps) >= 2:
        bnd = rm.boundary_mask() & target
        pairs = {}
        for iy, ix in zip(*np.nonzero(bnd)):
            key = tuple(sorted((int(srv[iy, ix]), int(rm.second_server[iy, ix]))))
            d = abs(float(best[iy, ix]) + 67.5)
            if key not in pairs or d < pairs[key][0]:
                pairs[key] = (d, iy, ix)
        for key in sorted(pairs):
            _, iy, ix = pairs[key]
            if (iy, ix) not in seen:
                seen.add((iy, ix))
                picks.append((int(iy), int(ix), "cell boundary"))
            else:       # an in-cell point that is also where two cells meet: say so
                picks = [(a, b, "cell boundary" if (a, b) == (iy, ix) else k)
                         for a, b, k in picks]
    rows = []
    zone_names = [z.name for z in site.zones]
    for iy, ix, kind in picks:
        s = int(srv[iy, ix])
        r = float(best[iy, ix])
        zi = int(rm.zone_index[iy, ix])
        need = float(req[iy, ix])
        rows.append({"ap_id": rm.aps[s].id if s >= 0 else "", "x_m": float(rm.xs[ix]),
                     "y_m": float(rm.ys[iy]), "zone": zone_names[zi] if zi >= 0 else "",
                     "kind": kind, "predicted_rssi_dbm": round(r, 1),
                     "predicted_sinr_db": round(float(rm.sinr_db[iy, ix]), 1),
                     "expected_mcs": int(mcs_index(r)),
                     "expected_phy_mbps": float(phy_rate_mbps(r)),
                     "required_rssi_dbm": need, "expect_covered": bool(r >= need)})
    df = pd.DataFrame(rows, columns=["ap_id", "x_m", "y_m", "zone", "kind",
                                     "predicted_rssi_dbm", "predicted_sinr_db", "expected_mcs",
                                     "expected_phy_mbps", "required_rssi_dbm",
                                     "expect_covered"])
    df = df.sort_values(["ap_id", "predicted_rssi_dbm"], ascending=[True, False],
                        kind="stable").reset_index(drop=True)
    df.insert(0, "point", [f"M{i + 1}" for i in range(len(df))])
    return df


def measurement_instructions(site: Site) -> list[dict]:
    """What to measure at each point and the pass criterion (phases 1-2)."""
    prof = terminal_profiles(site)
    need_up = max([p["uplink_mbps"] for t, p in prof.items()
                   if any(t in z.terminals for z in site.zones)] or [0.0])
    return [
        {"what": "RSSI and SNR of the serving AP (survey app, 30 s average)",
         "pass": f"points marked covered: RSSI >= the zone minimum; every point within "
                 f"+-{MODEL_TOLERANCE_DB:g} dB of the prediction (else calibrate the model)"},
        {"what": "TCP throughput up and down (iperf3, 30 s, 1 stream) from a terminal",
         "pass": f"uplink >= {need_up:g} Mb/s (the most demanding terminal profile of the "
                 f"site) at every covered point"},
        {"what": "Latency and loss (ping to the site server, 100 packets)",
         "pass": "loss < 1 %, round trip < 20 ms median, < 50 ms 95th percentile"},
        {"what": "Application test: the terminal's real upload (image or stream) for 5 min",
         "pass": "nothing lost: queued data is resent after a drop (seed 8.1.3.5)"},
    ]


def concurrent_test(site: Site, rm: RadioMap, target: np.ndarray, pilot,
                    points: pd.DataFrame) -> pd.DataFrame:
    """Phase 2: the concurrent-connection test, one row per cell.

    Per cell: the pilot zone's terminals that the cell serves (at least two, so every cell
    is loaded), placed at the cell's measurement points; all of them stream at their
    profile's uplink rate at the same time for 10 minutes.
    """
    prof = terminal_profiles(site)
    tsite = trial_site(site, pilot, rm.aps)
    load = cell_load(tsite, on_site(rm, tsite))
    rows = []
    for r in load.itertuples():
        a = next(x for x in rm.aps if x.id == r.ap_id)
        pts = points[points["ap_id"] == r.ap_id]
        inside = pts[pts["kind"].isin(["in cell", "cell edge"])]["point"].tolist()
        n = max(int(math.ceil(r.terminals - 1e-9)), 2)
        types = sorted(r.terminals_by_type, key=lambda t: -r.terminals_by_type[t]) or \
            sorted(prof, key=lambda t: -prof[t]["uplink_mbps"])[:1]
        mix = []
        left = n
        for t in types:
            k = min(left, max(int(round(r.terminals_by_type.get(t, 0))), 1))
            mix.append((t, k))
            left -= k
        if left > 0:
            mix[0] = (mix[0][0], mix[0][1] + left)
        demand = sum(k * terminal_demand_mbps(prof[t]) for t, k in mix)
        rows.append({"ap_id": r.ap_id, "channel": int(a.channel),
                     "terminals": ", ".join(f"{k} x {t}" for t, k in mix),
                     "points": ", ".join(inside[:max(n, 1)]) or "-",
                     "offered_mbps": round(demand, 1),
                     "predicted_phy_mbps": r.phy_rate_mbps,
                     "predicted_airtime": round(float(r.airtime), 3)
                     if math.isfinite(r.airtime) else None,
                     "pass": "every stream sustains its rate for 10 min; loss < 1 %; no "
                             "disconnect; 95th-pct latency < 50 ms; other cells unaffected "
                             "(fixed, distinct channels)"})
    return pd.DataFrame(rows, columns=["ap_id", "channel", "terminals", "points",
                                       "offered_mbps", "predicted_phy_mbps",
                                       "predicted_airtime", "pass"])


def walk_routes(site: Site, rm: RadioMap, min_free_share: float = 0.6, lane_step_m: float = 0.5,
                max_per_zone: int = 3, lane_spacing_m: float = 15.0, edge_m: float = 1.0
                ) -> pd.DataFrame:
    """Phase 3: roaming walk tests along the aisles of every zone.

    An aisle is a straight lane along the zone's long axis that is clear of obstacles
    (obstacles are widened by 0.5 m, a walking clearance) and at least ``edge_m`` from the
    zone's edge. Lanes are tried every ``lane_step_m`` across the zone; a lane whose longest
    clear stretch covers at least ``min_free_share`` of the zone's length is a candidate.
    One walk per ``lane_spacing_m`` of zone width (at most ``max_per_zone``) is kept: for
    evenly spaced goal positions across the zone, the candidate nearest the goal among those
    at least 90 % as long as the longest. Along each route the radio map's best server is
    sampled at each grid step: the sequence of APs (stays shorter than 3 m dropped) is the
    expected roams, and the lowest best-server RSSI on the way should stay above the
    -70 dBm roaming threshold.
    """
    obst = unary_union([Polygon(o.polygon[:, :2]).buffer(0.5) for o in site.obstacles]) \
        if site.obstacles else None
    rows = []
    for z in site.zones:
        zp = Polygon(z.polygon)
        minx, miny, maxx, maxy = zp.bounds
        along_x = (maxx - minx) >= (maxy - miny)
        lo, hi = (miny, maxy) if along_x else (minx, maxx)
        width = hi - lo
        span = (maxx - minx) if along_x else (maxy - miny)
        cands = []
        for off in np.arange(lo + edge_m, hi - edge_m + 1e-9, lane_step_m):
            line = LineString([(minx - 1, off), (maxx + 1, off)]) if along_x else \
                LineString([(off, miny - 1), (off, maxy + 1)])
            free = line.intersection(zp)
            if obst is not None:
                free = free.difference(obst)
            parts = [g for g in getattr(free, "geoms", [free]) if g.length > 0]
            if parts:
                seg = max(parts, key=lambda g: g.length)
                if seg.length >= min_free_share * span:
                    cands.append((float(off), seg))
        if not cands:
            continue
        k_lanes = int(min(max_per_zone, max(1, round(width / lane_spacing_m))))
        chosen: list[tuple[float, Any]] = []
        for i in range(k_lanes):
            goal = lo + (i + 0.5) * width / k_lanes
            free_c = [c for c in cands if all(abs(c[0] - o) >= lane_spacing_m / 2
                                              for o, _ in chosen)]
            if not free_c:
                break
            longest = max(c[1].length for c in free_c)
            good = [c for c in free_c if c[1].length >= 0.9 * longest]
            chosen.append(min(good, key=lambda c: (abs(c[0] - goal), c[0])))
        for off, seg in sorted(chosen, key=lambda c: c[0]):
            n = max(int(math.ceil(seg.length / rm.resolution_m)), 2)
            pts = np.array([seg.interpolate(t, normalized=True).coords[0]
                            for t in np.linspace(0, 1, n + 1)])
            ix = np.clip(np.round((pts[:, 0] - rm.xs[0]) / rm.resolution_m), 0,
                         len(rm.xs) - 1).astype(int)
            iy = np.clip(np.round((pts[:, 1] - rm.ys[0]) / rm.resolution_m), 0,
                         len(rm.ys) - 1).astype(int)
            srv = rm.best_server[iy, ix]
            best = rm.best_rssi_dbm[iy, ix].astype(float)
            seq = _server_sequence(srv, min_run=max(int(round(3.0 / rm.resolution_m)), 1))
            (x0, y0), (x1, y1) = pts[0], pts[-1]
            rows.append({"walk": f"W{len(rows) + 1}", "zone": z.name,
                         "x0_m": round(float(x0), 1), "y0_m": round(float(y0), 1),
                         "x1_m": round(float(x1), 1), "y1_m": round(float(y1), 1),
                         "length_m": round(float(seg.length), 1),
                         "expected_aps": " > ".join(rm.aps[i].id for i in seq),
                         "expected_roams": max(len(seq) - 1, 0),
                         "min_rssi_dbm": round(float(best.min()), 1),
                         "below_roam_threshold_m": round(float((best < ROAM_THRESHOLD_DBM).sum()
                                                               * seg.length / (n + 1)), 1)})
    return pd.DataFrame(rows, columns=["walk", "zone", "x0_m", "y0_m", "x1_m", "y1_m",
                                       "length_m", "expected_aps", "expected_roams",
                                       "min_rssi_dbm", "below_roam_threshold_m"])


def _server_sequence(srv: np.ndarray, min_run: int) -> list[int]:
    """The APs met in order along a route, ignoring stays shorter than ``min_run`` samples
    (except at the ends)."""
    runs: list[list[int]] = []
    for s in srv.tolist():
        if runs and runs[-1][0] == s:
            runs[-1][1] += 1
        else:
            runs.append([s, 1])
    keep = [r for i, r in enumerate(runs) if r[1] >= min_run or i in (0, len(runs) - 1)]
    seq: list[int] = []
    for s, _ in keep:
        if s >= 0 and (not seq or seq[-1] != s):
            seq.append(s)
    return seq


WALK_TEST_PASS = ("walk at normal pace (about 1 m/s) with a terminal streaming its profile's "
                  "uplink and a continuous ping: it roams to each expected AP in turn, each "
                  f"roam where the old AP is between {BOUNDARY_BAND_DBM[1]:g} and "
                  f"{BOUNDARY_BAND_DBM[0]:g} dBm, handover < 50 ms with "
                  "802.11r, no A-B-A ping-pong within 10 s, never below "
                  f"{ROAM_THRESHOLD_DBM:g} dBm for more than 2 s, no application data lost")
