"""Transmit power: limits per channel, and tuning in 1 dB steps (a planner's TPC).

Limits: :func:`wifiplan.rules.tx_power_range_dbm`, from the small AP's hardware minimum to
the smaller of its maximum and the domain's maximum EIRP for its channel minus the antenna
gain (``EIRP = tx_power_dbm + ap_gain_dbi <= max EIRP``, see :mod:`wifiplan.regulatory`).

Tuning works like a controller's transmit-power control (e.g. the TPC of enterprise WLAN
controllers, which lowers an AP until its neighbours hear it at a target level): AP by AP,
one 1 dB step up or down is taken when it lowers the objective; passes repeat until no step
helps. The objective, in order of weight:

1. required points below their zone's requirement (hard: weight 1000 per point);
2. cell-boundary points (best and second-best server within 3 dB) outside the
   -70..-65 dBm band: one per point plus a quarter per dB outside the band, at the points
   whose zone is judged against the band (:func:`wifiplan.requirements.band_judged`: the
   reports judge the same points);
3. where a zone asks a secondary signal (its requirement profile, e.g. ``voice``: a second
   AP heard at -67 dBm for roaming), points whose second-strongest AP is weaker (weight 50 per
   point: below a hole, above the band);
4. total transmit power (0.5 per dB), so that of equal plans the quieter one wins;
5. with the points' airtime weights (``air``, :func:`wifiplan.capacity.point_airtime`),
   each cell's airtime beyond its budget (weight :data:`W_AIRTIME` per budget's worth: 1 %
   over costs as much as a point below its requirement), so that the powers do not grow one
   cell beyond what it can carry while shrinking its neighbours.

Points no AP can reach even at its maximum power are left out (they are reported as
uncovered, not chased).

With a coverage *allowance* (``zone_of`` and ``allowance``: how many of each zone's points may
stay below its requirement), item 1 costs only the points a zone loses beyond its
allowance (and :data:`W_SPARE` for each point spent of it): the reports judge a zone covered
at :data:`wifiplan.rules.ZONE_COVERAGE_TARGET` of its points, so a plan may spend the rest on
the band (the planner's last stage does, within its own, stricter aim).
"""
from __future__ import annotations

import numpy as np

from ..capacity import MCS_RATE_MBPS, phy_rate_mbps
from ..site import Site
from ..rules import BOUNDARY_BAND_DBM, BOUNDARY_WITHIN_DB, tx_power_range_dbm

W_UNCOVERED = 1000.0
W_BAND_POINT = 1.0
W_BAND_DB = 0.25
W_SECONDARY = 50.0
W_POWER = 0.5
W_AIRTIME = 1e5
#: A point below MCS0 counts at MCS0's rate in the airtime term (it is uncovered already).
MIN_AIRTIME_RATE_MBPS = float(MCS_RATE_MBPS[0])
#: Under a coverage allowance, each point a zone spends of it [cost]: a step must bring at
#: least as much band as it gives up coverage (more than the power it saves).
W_SPARE = 1.0


def power_limits(site: Site, channel: int, ap_gain_dbi: float) -> tuple[float, float]:
    """(min, max) transmit power [dBm] in whole dB for ``channel`` on ``site``: the AP's
    hardware range capped so that EIRP = tx + ap_gain_dbi stays within the domain's limit
    (:func:`wifiplan.rules.tx_power_range_dbm`)."""
    return tx_power_range_dbm(site.domain, channel, ap_gain_dbi)


def limits_for_channels(site: Site, channels, ap_gain_dbi: float) -> tuple[float, float]:
    """Limits valid on every channel of ``channels`` (the tightest)."""
    lims = [power_limits(site, c, ap_gain_dbi) for c in channels]
    return max(lim[0] for lim in lims), min(lim[1] for lim in lims)


def limits_at(p_min, p_max, sel):
    """The (lowest, highest) powers [dBm] of the candidates ``sel``: ``p_min`` and
    ``p_max`` are scalars (one range for all) or arrays with one value per candidate."""
    def at(v):
        return np.asarray(v, float)[list(sel)] if np.ndim(v) else v
    return at(p_min), at(p_max)


def top3(r: np.ndarray):
    """Values and indices of the three strongest rows per column, strongest first (padded
    with -inf and -1); of equal values the lower row first."""
    n, m = r.shape
    vals = np.full((3, m), -np.inf, dtype=r.dtype)
    idx = np.full((3, m), -1, dtype=np.intp)
    if n == 0 or m == 0:
        return vals, idx
    cols = np.arange(m)
    work = r.copy()
    for k in range(min(3, n)):
        i = work.argmax(0)
        vals[k] = work[i, cols]
        idx[k] = i
        work[i, cols] = -np.inf
    return vals, idx


def point_cost(best: np.ndarray, second: np.ndarray, req: np.ndarray,
               band=BOUNDARY_BAND_DBM, within_db: float = BOUNDARY_WITHIN_DB,
               band_mask: np.ndarray | None = None,
               secondary_dbm: np.ndarray | None = None, coverage: bool = True) -> np.ndarray:
    """Per-point cost of items 1-3 of the objective (module docstring); ``band_mask``:
    the points judged against the band (default all); ``secondary_dbm``: the secondary
    signal each point asks [dBm] (-inf or NaN: none; default: none anywhere); ``coverage``
    False: without item 1 (counted per zone under an allowance)."""
    lo, hi = band
    cost = np.where(coverage & (best < req - 1e-6), W_UNCOVERED, 0.0)
    boundary = np.isfinite(second) & (best - second <= within_db)
    if band_mask is not None:
        boundary &= band_mask
    out_db = np.maximum(lo - best, 0) + np.maximum(best - hi, 0)
    cost += np.where(boundary & (out_db > 0), W_BAND_POINT + W_BAND_DB * out_db, 0.0)
    if secondary_dbm is not None:
        sec = np.nan_to_num(np.asarray(secondary_dbm, float), nan=-np.inf)
        cost += np.where(second < sec - 1e-6, W_SECONDARY, 0.0)
    return cost


def airtime_load(best: np.ndarray, owner: np.ndarray, air: np.ndarray, n: int) -> np.ndarray:
    """(n,) each cell's airtime as a share of its budget: the sum over the points it serves
    (``owner``: the best server of each point) of ``air`` / PHY rate at ``best`` [dBm]."""
    return np.bincount(owner, weights=air / np.maximum(phy_rate_mbps(best),
                                                        MIN_AIRTIME_RATE_MBPS), minlength=n)


def airtime_cost(load: np.ndarray) -> float:
    """Item 5 of the objective for the cells' loads ``load`` (shares of their budgets)."""
    return float(W_AIRTIME * np.maximum(np.asarray(load) - 1.0, 0.0).sum())


def tune_powers(gain: np.ndarray, req: np.ndarray, p0, p_min, p_max, *,
                max_passes: int = 40, weights: np.ndarray | None = None,
                band_mask: np.ndarray | None = None,
                secondary_dbm: np.ndarray | None = None,
                zone_of: np.ndarray | None = None,
                allowance: dict | None = None,
                air: np.ndarray | None = None) -> np.ndarray:
    """Tune per-AP transmit power [dBm] in 1 dB steps (module docstring).

    gain : (n_ap, n_pts) received power at 0 dBm [dBm]; req : (n_pts,) requirement [dBm];
    p0 : start powers; p_min, p_max : scalars or (n_ap,) limits; weights : optional area
    weight per point; band_mask : (n_pts,) the points judged against the boundary band
    (default all); secondary_dbm : (n_pts,) the secondary signal each point asks [dBm]
    (-inf/NaN: none); zone_of : (n_pts,) zone index of each point and allowance : zone index
    -> points of that zone that may stay below their requirement (the unreachable ones
    included), together: the coverage allowance of the module docstring; air : (n_pts,)
    the points' airtime weights [Mb/s] (item 5; None: no airtime term). Returns the tuned
    powers (n_ap,) as floats in whole dB.
    """
    n = gain.shape[0]
    p_min = np.broadcast_to(np.asarray(p_min, float), (n,)).copy()
    p_max = np.broadcast_to(np.asarray(p_max, float), (n,)).copy()
    p = np.clip(np.round(np.asarray(p0, float)), p_min, p_max)
    if n == 0 or gain.shape[1] == 0:
        return p
    gain = gain.astype(np.float32)
    reach = (gain + p_max[:, None]).max(0)
    keep = reach >= req - 1e-6                        # reachable points only
    gain = gain[:, keep]
    req = np.asarray(req, float)[keep]
    w = np.ones(len(req)) if weights is None else np.asarray(weights, float)[keep]
    bm = None if band_mask is None else np.asarray(band_mask, bool)[keep]
    aw = None if air is None else np.asarray(air, float)[keep]
    sm = None if secondary_dbm is None else np.asarray(secondary_dbm, float)[keep]
    counted = allowance is not None and zone_of is not None
    if counted:                 # zones as 0..k-1; each one's allowance less its unreachable
        zones, zi = np.unique(np.asarray(zone_of), return_inverse=True)
        spare = np.array([allowance.get(int(z), 0) for z in zones], float)
        spare -= np.bincount(zi[~keep], minlength=len(zones))
        zi = zi[keep]
    if len(req) == 0:
        return p
    r = gain + p[:, None].astype(np.float32)
    vals, idx = top3(r)
    if counted:
        short = np.bincount(zi, weights=(vals[0] < req - 1e-6).astype(float),
                            minlength=len(spare))

    def costs(pts, best, second):
        return point_cost(best, second, req[pts], band_mask=None if bm is None else bm[pts],
                          secondary_dbm=None if sm is None else sm[pts],
                          coverage=not counted) * w[pts]

    pc = costs(slice(None), vals[0], vals[1])       # each point's cost now, kept up to date
    load = None if aw is None else airtime_load(vals[0], idx[0], aw, n)

    def beyond(counts):
        over = np.maximum(counts - spare, 0.0)
        return float(W_SPARE * (counts - over).sum() + W_UNCOVERED * over.sum())

    def trial(i, delta):
        pts = infl[i]
        if len(pts) == 0:
            return 0.0, None, 0.0, None
        v = vals[:, pts]
        ix = idx[:, pts]
        old = float(pc[pts].sum())
        # the others' top two at these points: the top three without AP i
        first = ix[0] == i
        o_first = np.where(first, v[1], v[0])
        o_second = np.where(first | (ix[1] == i), v[2], v[1])
        ri = r[i, pts] + delta
        best = np.maximum(ri, o_first)
        second = np.where(ri >= o_first, o_first, np.maximum(ri, o_second))
        new = float(costs(pts, best, second).sum())
        step = 0.0                       # the change of each zone's short points
        if counted:
            moved = (best < req[pts] - 1e-6).astype(float) - (v[0] < req[pts] - 1e-6)
            step = np.bincount(zi[pts], weights=moved, minlength=len(spare))
            new += beyond(short + step) - beyond(short)
        dl = None
        if load is not None:             # the cells' loads with AP i moved
            owner = np.where(ri >= o_first, i, np.where(first, ix[1], ix[0]))
            dl = (airtime_load(best, owner, aw[pts], n)
                  - airtime_load(v[0], ix[0], aw[pts], n))
            new += airtime_cost(load + dl) - airtime_cost(load)
        return new - old + W_POWER * delta, pts, step, dl

    for _ in range(max_passes):
        changed = False
        # points each AP can influence in this pass: within a pass every AP moves at most
        # 1 dB, so only points where it is within 3 dB (boundary) + 1 + 1 dB of the best
        # matter; 8 dB keeps a margin
        near = r >= vals[0] - 8.0
        if sm is not None:               # and where it is (or could become) the second
            near |= r >= vals[1] - 8.0
        infl = [np.flatnonzero(near[i]) for i in range(n)]
        for i in range(n):
            for delta in (-1.0, 1.0):
                if not (p_min[i] <= p[i] + delta <= p_max[i]):
                    continue
                d, pts, step, dl = trial(i, delta)
                if d < -1e-9:
                    p[i] += delta
                    r[i] += np.float32(delta)
                    if counted:
                        short += step
                    if dl is not None:
                        load += dl
                    if pts is not None:
                        vv, ii = top3(r[:, pts])
                        vals[:, pts] = vv
                        idx[:, pts] = ii
                        pc[pts] = costs(pts, vv[0], vv[1])
                    changed = True
                    break
        if not changed:
            break
    return p
