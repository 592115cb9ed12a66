"""A terminal-log simulator for samples and tests (:func:`simulate_log`, :func:`log_to_csv`).

Sample logs in ``surveys/*-terminal-log.csv`` are made by :func:`simulate_log`
(``wifiplan logs simulate SITE PLAN -o LOG.csv``) with a planted ping-pong terminal and a
planted sticky terminal::

    wifiplan logs simulate floorplans/production-line.yaml floorplans/production-line.plan.yaml \\
        --period-s 2 -o surveys/production-line-terminal-log.csv
    wifiplan logs simulate floorplans/large-hall.yaml floorplans/large-hall.plan.yaml \\
        --devices 10 --duration-s 900 --period-s 2 -o surveys/large-hall-terminal-log.csv
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from ..site import Site
from ..errors import InputError
from ..radio.propagation import PropagationModel, rssi_points_dbm
from ..radio.radiomap import compute_radiomap
from ..rules import ROAM_THRESHOLD_DBM
from .reader import iso_time
from .thresholds import STICKY_RSSI_DBM


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


def simulate_log(site: Site, plan, *, model=None, duration_s: float = 1200.0, period_s: float = 1.0,
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
                                           "away": iso_time(t0.timestamp() + tp * period_s),
                                           "back": iso_time(t0.timestamp() + back * period_s)})
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
                                    "start": iso_time(t0.timestamp() + s0 * period_s),
                                    "end": iso_time(t0.timestamp() + s1 * period_s),
                                    "median_serving_rssi_dbm": float(np.median(r[ia, s0:s1])),
                                    "better_ap": ids[int(np.argmax(np.median(base[:, s0:s1], 1)))]})
    frame = pd.DataFrame(rows, columns=["t", "device", "kind", "bssid", "rssi_dbm", "x_m", "y_m"])
    frame = frame.sort_values(["t", "device", "kind"], kind="stable").reset_index(drop=True)
    frame.insert(0, "timestamp", [iso_time(v) for v in frame.pop("t")])
    frame["x_m"] = frame["x_m"].round(1)
    frame["y_m"] = frame["y_m"].round(1)
    return frame, truth


def log_to_csv(frame: pd.DataFrame) -> str:
    return frame.to_csv(index=False, float_format="%.1f", lineterminator="\n")
