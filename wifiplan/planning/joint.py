"""Placement and power together: move APs to neighbouring mount points while the
power-tuned objective improves.

The greedy cover and its local search (:mod:`.placement`) place the cells for coverage at
the lowest power; the power tuning (:mod:`.power`) then sets each AP so that the cell
boundaries lie in the seed's -70..-65 dBm band (8.1.3.5). Where a boundary cannot reach the
band at any power (two APs too close, or one cell's far edge much farther than its
neighbour's), only moving an AP helps. :func:`refine_positions` is a first-improvement
local search over the same objective as :func:`~wifiplan.planning.power.tune_powers`
(uncovered points, boundary points outside the band, total power; its module docstring):
each free AP in turn tries the candidate mount points next to it, the powers re-tuned for
each trial, and takes the best move that lowers the objective. It stops when a pass moves
nothing, after ``max_passes``, or after ``max_trials`` power-tuned trials (a large site
keeps the placement it has: the search only ever improves it).
"""
from __future__ import annotations

import numpy as np
from scipy.cluster.vq import kmeans2

from ..requirements import per_point, site_asks
from ..rules import BOUNDARY_BAND_DBM, BOUNDARY_WITHIN_DB
from .power import W_POWER, airtime_cost, airtime_load, limits_at, point_cost, tune_powers

#: Budget of the search: power-tuned trials of a moved AP, so that the planner of a
#: 100-AP site stays interactive (about 10 s on the large hall sample). A count, not a
#: clock: the same input gives the same plan on any machine and under any load.
DEFAULT_MAX_TRIALS = 2000


def plan_cost(gain: np.ndarray, req: np.ndarray, p: np.ndarray,
              band_mask: np.ndarray | None = None,
              secondary_dbm: np.ndarray | None = None, air: np.ndarray | None = None) -> float:
    """The tuning objective of APs with gains ``gain`` (n_ap, n_pts) [dB] at powers ``p``
    (n_ap,) [dBm] against the requirement ``req`` (n_pts,) [dBm]; points no AP of the
    selection could reach at all (``req`` = -inf) cost nothing; ``air``: the points'
    airtime weights (item 5 of :func:`~.power.tune_powers`' objective)."""
    r = gain + np.asarray(p, np.float32)[:, None]
    if len(r) >= 2:
        top = -np.partition(-r, 1, axis=0)[:2]
        best, second = top[0], top[1]
    else:
        best, second = r[0], np.full(r.shape[1], -np.inf, np.float32)
    extra = 0.0 if air is None else airtime_cost(
        airtime_load(best, r.argmax(0), np.asarray(air, float), len(r)))
    return float(point_cost(best, second, req, band_mask=band_mask,
                            secondary_dbm=secondary_dbm).sum()
                 + W_POWER * float(np.sum(p)) + extra)


def refine_positions(gain: np.ndarray, req: np.ndarray, sel: list[int], p: np.ndarray,
                     p_min, p_max, neighbours: list, fixed=(), *,
                     band_mask: np.ndarray | None = None, max_passes: int = 8,
                     max_trials: int = DEFAULT_MAX_TRIALS,
                     secondary_dbm: np.ndarray | None = None, air: np.ndarray | None = None):
    """Move APs to neighbouring candidates while the tuned objective improves.

    gain : (n_cand, n_pts) gain of every candidate [dB]; req : (n_pts,) requirement [dBm]
    (-inf: not required); sel : the selected candidates; p : their powers [dBm];
    neighbours : per candidate, the indices of the candidates next to it; fixed : candidates
    that may not move (locked APs); p_min, p_max : power limits [dBm], scalars or one per
    candidate; air : the points' airtime weights (the objective's airtime term, None:
    without); max_trials : the search stops after this many power-tuned trials. Returns
    (sel, p, moves).
    """
    sel = list(sel)
    p = np.asarray(p, float).copy()
    fixed = set(int(c) for c in np.asarray(fixed).ravel())
    cur = plan_cost(gain[sel], req, p, band_mask, secondary_dbm, air)
    trials = 0
    moves = 0
    for _ in range(max_passes):
        moved = False
        for k in range(len(sel)):
            if sel[k] in fixed:
                continue
            best = (cur, None, None)
            taken = set(sel)
            for c2 in neighbours[sel[k]]:
                c2 = int(c2)
                if c2 in taken:
                    continue
                trial = sel.copy()
                trial[k] = c2
                trials += 1
                pt = tune_powers(gain[trial], req, p, *limits_at(p_min, p_max, trial),
                                 band_mask=band_mask, secondary_dbm=secondary_dbm, air=air)
                ct = plan_cost(gain[trial], req, pt, band_mask, secondary_dbm, air)
                if ct < best[0] - 1e-6:
                    best = (ct, c2, pt)
            if best[1] is not None:
                cur, sel[k], p = best[0], best[1], best[2]
                moves += 1
                moved = True
            if trials >= max_trials:
                return sel, p, moves
        if not moved:
            break
    return sel, p, moves



def band_figures(gain: np.ndarray, req: np.ndarray, p: np.ndarray,
                 band_mask: np.ndarray) -> tuple[float, float]:
    """(band share, coverage) of APs with gains ``gain`` at powers ``p``: the share of
    boundary points of ``band_mask`` in -70..-65 dBm (0 without boundary points) and the
    share of required points (finite ``req``) at or above their requirement."""
    r = gain + np.asarray(p, np.float32)[:, None]
    if len(r) >= 2:
        top = -np.partition(-r, 1, axis=0)[:2]
    else:
        top = np.vstack([r[0], np.full(r.shape[1], -np.inf, np.float32)])
    lo, hi = BOUNDARY_BAND_DBM
    bnd = (top[0] - top[1] <= BOUNDARY_WITHIN_DB) & band_mask
    nb = int(bnd.sum())
    share = float((bnd & (top[0] >= lo) & (top[0] <= hi)).sum() / nb) if nb else 0.0
    fin = np.isfinite(req)
    cov = float((top[0] >= req - 1e-6)[fin].mean()) if fin.any() else 1.0
    return share, cov


def _best_and_owner(gain: np.ndarray, p: np.ndarray):
    """(best server level [dBm], best server index) per point of APs with gains ``gain`` at
    powers ``p``."""
    r = gain + np.asarray(p, np.float32)[:, None]
    return r.max(0), r.argmax(0)


def centroidal_starts(points_xy: np.ndarray, cand_xy: np.ndarray, n: int, fixed=(),
                      count: int = 3, seed: int = 0) -> list[list[int]]:
    """``count`` placements of ``n`` APs at the candidates nearest the centroids of a
    centroidal Voronoi tessellation of the required points (Lloyd's algorithm, k-means:
    Du, Faber and Gunzburger, SIAM Review 41 (1999) 637-676): compact cells with the AP at
    the centre, whose far edges lie as far from it as its boundaries, the shape the boundary
    band asks for. Locked APs (``fixed``) keep their place; k-means places the others."""
    fixed = [int(c) for c in np.asarray(fixed).ravel()]
    k = n - len(fixed)
    if k <= 0 or len(points_xy) < max(k, 2):
        return []
    out = []
    for i in range(count):
        rng = np.random.default_rng(seed + i)
        init = points_xy[rng.choice(len(points_xy), k, replace=False)]
        cent, _ = kmeans2(points_xy, init, iter=50, minit="matrix", seed=seed + i)
        sel = list(fixed)
        for c in cent:
            d = np.hypot(cand_xy[:, 0] - c[0], cand_xy[:, 1] - c[1])
            d[sel] = np.inf
            sel.append(int(np.argmin(d)))
        if sorted(sel) not in [sorted(s) for s in out]:
            out.append(sel)
    return out


def secondary_at(site, zone_index) -> np.ndarray | None:
    """The secondary signal [dBm] each point asks (its zone's requirement profile; -inf
    where its zone asks none), or None when no zone of the site asks one (the objective is
    then the seed's, unchanged)."""
    if not site_asks(site, "secondary_rssi_dbm"):
        return None
    v = per_point(site, zone_index, "secondary_rssi_dbm")
    return np.where(np.isfinite(v), v, -np.inf)


def secondary_share(gain: np.ndarray, p: np.ndarray, secondary_dbm) -> float:
    """Share of the points asking a secondary signal whose second-strongest AP reaches it
    (1 without such points)."""
    if secondary_dbm is None:
        return 1.0
    asks = np.isfinite(secondary_dbm)
    if not asks.any() or len(gain) < 2:
        return 0.0 if asks.any() else 1.0
    r = gain[:, asks] + np.asarray(p, np.float32)[:, None]
    second = -np.partition(-r, 1, axis=0)[1]
    return float((second >= secondary_dbm[asks] - 1e-6).mean())


def joint_placement(prob, G, req, sel, p, p_min, p_max, fixed, band, pts_xy, seed,
                    sec=None, air=None):
    """Placement and power together (:mod:`.joint`): the coverage placement and
    centroidal ones, each power-tuned and refined; the one with the most boundary points in
    the band wins among those that cover as much as the coverage placement does (and, where
    zones ask a secondary signal, give as many points a second AP); where the points carry
    airtime weights ``air``, the one that loads the cells least beyond their budgets first."""
    starts = [(list(sel), p)]
    for s2 in centroidal_starts(pts_xy[np.isfinite(req)], prob.xy, len(sel), fixed,
                                seed=seed):
        need, _, _ = prob.powers(s2)
        lo, hi = limits_at(p_min, p_max, s2)
        p2 = np.clip(np.ceil(np.where(np.isfinite(need), need, lo)), lo, hi)
        starts.append((s2, tune_powers(G[s2], req, p2, lo, hi, band_mask=band,
                                       secondary_dbm=sec, air=air)))
    budget = DEFAULT_MAX_TRIALS // len(starts)
    best = None
    for s2, p2 in starts:
        s2, p2, _ = refine_positions(G, req, s2, p2, p_min, p_max, prob.neighbours, fixed,
                                     band_mask=band, max_trials=budget, secondary_dbm=sec,
                                     air=air)
        share, cov = band_figures(G[s2], req, p2, band)
        sec_share = secondary_share(G[s2], p2, sec)
        over = 0.0 if air is None else airtime_cost(
            airtime_load(*_best_and_owner(G[s2], p2), air, len(s2)))
        if best is None:
            best, cov0, sec0, best_over = (share, s2, p2), cov, sec_share, over
        elif (cov >= min(cov0, 0.995) - 1e-9 and sec_share >= min(sec0, 0.99) - 1e-9
              and (over < best_over - 1e-9
                   or (over <= best_over + 1e-9 and share > best[0] + 1e-9))):
            best, best_over = (share, s2, p2), over
    return best[1], best[2]
