"""The fine stage: powers and channels tuned on the evaluation grid, the radio map's
layers reused (:func:`fine_stage`)."""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..backhaul import cable_in_reach
from ..capacity import cell_load, point_airtime
from ..evaluation import required_points
from ..evaluation.figures import boundary_masks
from ..radio.radiomap import RadioMap, compute_radiomap
from ..requirements import band_judged
from ..site import Site
from .channels import assign_channels, channel_targets, planning_weights
from .joint import secondary_at
from ..evaluation.checks import ap_power_range_dbm
from .power import top3, tune_powers


def fine_stage(site: Site, ap_list, model, geom, res, zones, min_rssi_dbm, chans, gain_dbi, seed,
               dropped=None, rm_prev=None, capacity: bool = False):
    """Power and channels tuned on the evaluation grid (layers of ``rm_prev`` reused);
    ``capacity``: with the cells' airtime in the objective
    (:func:`wifiplan.capacity.point_airtime`)."""
    rp = required_points(site, res, zones, min_rssi_dbm)
    req = rp.req_dbm
    if dropped is not None:
        # points left to the allowance on the coarse grid are not chased here either
        crp, grid = dropped
        cres = crp.resolution_m
        j = np.clip(np.floor((rp.x - (crp.xs[0] - cres / 2)) / cres).astype(int), 0,
                    len(crp.xs) - 1)
        i = np.clip(np.floor((rp.y - (crp.ys[0] - cres / 2)) / cres).astype(int), 0,
                    len(crp.ys) - 1)
        req = np.where(grid[i, j], -np.inf, req)
    band = band_judged(site, rp.zone)
    sec = secondary_at(site, rp.zone)
    air = point_airtime(site, rp.zone, zones) if capacity else None
    targets = channel_targets(site, rp.zone)
    rm = (rm_prev.with_aps(ap_list) if rm_prev is not None else
          compute_radiomap(site, ap_list, resolution_m=res, model=model, geom=geom))
    area = res ** 2
    for _ in range(2):
        lims = np.array([ap_power_range_dbm(site, a, gain_dbi) for a in ap_list]).reshape(-1, 2)
        g = rm.gain_db[:, rp.iy, rp.ix]
        p = tune_powers(g, req, [a.tx_power_dbm for a in ap_list], lims[:, 0],
                        lims[:, 1], band_mask=band, secondary_dbm=sec, air=air)
        ap_list = [replace(a, tx_power_dbm=float(v)) for a, v in zip(ap_list, p)]
        w = planning_weights(g + p[:, None], area, targets)
        ch = assign_channels(w, chans, seed=seed)
        if list(ch) == [a.channel for a in ap_list]:
            rm = rm.with_powers(p)
            break
        ap_list = [replace(a, channel=int(c)) for a, c in zip(ap_list, ch)]
        rm = rechannel(rm, ap_list)
    else:
        # the channels changed on the last round: make the powers fit them
        lims = np.array([ap_power_range_dbm(site, a, gain_dbi) for a in ap_list]).reshape(-1, 2)
        g = rm.gain_db[:, rp.iy, rp.ix]
        p = tune_powers(g, req, [a.tx_power_dbm for a in ap_list], lims[:, 0],
                        lims[:, 1], band_mask=band, secondary_dbm=sec, air=air)
        ap_list = [replace(a, tx_power_dbm=float(v)) for a, v in zip(ap_list, p)]
        rm = rm.with_powers(p)
    rm.aps = ap_list
    return rm, ap_list


def rechannel(rm, aps):
    """The map with the APs' channels changed, without recomputing penetration: penetration
    losses do not depend on the channel, so a layer moves by the change of the path-loss
    law's frequency term, ``PL(d, f_old) - PL(d, f_new)`` [dB]."""
    gain = rm.gain_db.copy()
    h = rm.model.client_height_m
    for i, (old, new) in enumerate(zip(rm.aps, aps)):
        if int(old.channel) == int(new.channel):
            continue
        d3 = np.sqrt((rm.xs[None, :] - new.x_m) ** 2 + (rm.ys[:, None] - new.y_m) ** 2
                     + (new.height_m - h) ** 2)
        gain[i] += (rm.model.path_loss_db(d3, 5000.0 + 5.0 * old.channel)
                    - rm.model.path_loss_db(d3, 5000.0 + 5.0 * new.channel)).astype(np.float32)
    return RadioMap(rm.site, list(aps), rm.model, rm.geom, rm.resolution_m, rm.xs, rm.ys, gain)


def band_stage(site: Site, rm: RadioMap, ap_list, rpf, target_share: float, gain_dbi,
               start_db: float = 0.0, air=None):
    """The band's last chance: the powers, moved by ``start_db`` [dB], tuned again on the
    evaluation grid (points ``rpf``), each zone judged against the band allowed to leave
    ``1 - target_share`` of its points below its requirement (:func:`~.power.tune_powers`
    with a coverage allowance; ``air``: the points' airtime weights, or None), channels
    kept. Returns (rm, ap_list), ``ap_list`` itself where no power moved."""
    band = band_judged(site, rpf.zone)
    if len(ap_list) < 2 or not band.any():
        return rm, ap_list
    zones, counts = np.unique(rpf.zone[band], return_counts=True)
    allowance = {int(z): int(np.floor((1.0 - target_share) * n))
                 for z, n in zip(zones, counts)}
    lims = np.array([ap_power_range_dbm(site, a, gain_dbi) for a in ap_list]).reshape(-1, 2)
    p0 = np.array([a.tx_power_dbm for a in ap_list], float)
    p = tune_powers(rm.gain_db[:, rpf.iy, rpf.ix], rpf.req_dbm, p0 + start_db, lims[:, 0],
                    lims[:, 1],
                    band_mask=band, secondary_dbm=secondary_at(site, rpf.zone),
                    zone_of=rpf.zone, allowance=allowance, air=air)
    if np.array_equal(p, p0):
        return rm, ap_list
    rm = rm.with_powers(p)
    return rm, rm.aps


#: The band moves try each AP at the omni mount candidates within this many candidate
#: spacings of it, ...
MOVE_RADIUS_SPACINGS = 1.5
#: ... at most this many positions in all (a count, not a clock: the same input gives the
#: same plan), ...
MAX_MOVE_TRIALS = 100
#: ... in at most this many rounds over the APs, ...
MOVE_ROUNDS = 4
#: ... each with the band stage from these starts [dB].
MOVE_STARTS_DB = (0.0, -1.0)


def band_and_coverage(site: Site, best, second, rpf) -> tuple[float, np.ndarray]:
    """(share of the judged boundary points in the band, each zone's coverage in the order
    of ``np.unique(rpf.zone)``) with best and second server levels ``best``, ``second``
    [dBm] at the points ``rpf``, as :func:`wifiplan.evaluation.evaluate_plan` counts them."""
    boundary, judged, in_band = boundary_masks(site, best, second, rpf.zone)
    _, zi = np.unique(rpf.zone, return_inverse=True)
    cov = (np.bincount(zi, weights=best >= rpf.req_dbm - 1e-6)
           / np.maximum(np.bincount(zi), 1)) if len(zi) else np.ones(0)
    nb = int((boundary & judged).sum())
    return (float(in_band.sum() / nb) if nb else 0.0), cov


def band_figures(site: Site, rm: RadioMap, rpf) -> tuple[float, float]:
    """(share of the judged boundary points in the band, lowest zone coverage) of ``rm`` at
    the points ``rpf`` (:func:`band_and_coverage`)."""
    share, cov = band_and_coverage(site, rm.best_rssi_dbm[rpf.iy, rpf.ix],
                                   rm.second_rssi_dbm[rpf.iy, rpf.ix], rpf)
    return share, (float(cov.min()) if len(cov) else 1.0)


def band_moves(site: Site, rm: RadioMap, ap_list, rpf, target_share: float, gain_dbi,
               cand: np.ndarray, spacing_m: float, accept, air=None):
    """Placement for the band: each omni AP that is not locked tried at the mount
    candidates ``cand`` within :data:`MOVE_RADIUS_SPACINGS` x ``spacing_m`` [m] (nearest
    first), its powers re-tuned by :func:`band_stage` on the points ``rpf``; an AP's best
    move is kept when it puts more boundaries in the band, every zone stays at
    ``target_share`` and ``accept(aps, rm)`` (the planner's check that no requirement the
    plan met is missed) agrees. At most :data:`MOVE_ROUNDS` rounds over the APs and
    :data:`MAX_MOVE_TRIALS` positions. Returns (rm, ap_list)."""
    if len(ap_list) < 2 or len(cand) == 0:
        return rm, ap_list
    share, _ = band_figures(site, rm, rpf)
    trials = 0
    for _ in range(MOVE_ROUNDS):
        moved = False
        for i in range(len(ap_list)):
            a = ap_list[i]
            if a.locked or a.antenna is not None or a.model is not None:
                continue
            d = np.hypot(cand[:, 0] - a.x_m, cand[:, 1] - a.y_m)
            taken = {(round(b.x_m, 2), round(b.y_m, 2)) for b in ap_list}
            near = [k for k in np.argsort(d, kind="stable")
                    if 0.5 < d[k] <= MOVE_RADIUS_SPACINGS * spacing_m
                    and (round(float(cand[k, 0]), 2), round(float(cand[k, 1]), 2)) not in taken]
            best = None
            for k in near:
                if trials >= MAX_MOVE_TRIALS:
                    break
                trials += 1
                aps = list(ap_list)
                aps[i] = replace(a, x_m=round(float(cand[k, 0]), 2),
                                 y_m=round(float(cand[k, 1]), 2))
                rm_m = rm.with_aps(aps)
                for start in MOVE_STARTS_DB:
                    rm_t, aps_t = band_stage(site, rm_m, aps, rpf, target_share, gain_dbi,
                                             start, air)
                    s, cov = band_figures(site, rm_t, rpf)
                    if cov >= target_share and s > (best[0] if best else share) + 1e-9:
                        best = (s, rm_t, aps_t)
            if best is not None and accept(best[2], best[1]):
                share, rm, ap_list = best
                moved = True
        if not moved or trials >= MAX_MOVE_TRIALS:
            break
    return rm, ap_list


#: An AP no switch can cable within the permanent link is tried at the cabled mount
#: candidates nearest it, within this many candidate spacings, ...
CABLE_MOVE_RADIUS_SPACINGS = 3.0
#: ... at most this many of them.
CABLE_MOVE_TRIALS = 6


def cable_moves(site: Site, rm: RadioMap, ap_list, rpf, target_share: float, gain_dbi,
                cand: np.ndarray, spacing_m: float, accept, air=None):
    """Backhaul after the radio plan: each omni AP that is not locked and that no switch
    can cable within the permanent link (:func:`wifiplan.backhaul.cable_in_reach`) tried at
    the cabled mount candidates ``cand`` nearest it (:data:`CABLE_MOVE_TRIALS` within
    :data:`CABLE_MOVE_RADIUS_SPACINGS` x ``spacing_m`` [m]), its powers re-tuned by
    :func:`band_stage` on the points ``rpf``; of the positions ``accept(aps, rm)`` takes (the
    planner's check that no requirement or figure the plan met is lost), the one with most
    boundaries in the band is kept. An AP with no such position stays (the backhaul check
    then names the switch to add). Returns (rm, ap_list)."""
    if len(cand) == 0 or not site.switches:
        return rm, ap_list
    for i in range(len(ap_list)):
        a = ap_list[i]
        if a.locked or a.antenna is not None or a.model is not None \
                or cable_in_reach(site, [[a.x_m, a.y_m]], a.height_m)[0]:
            continue
        wired = cable_in_reach(site, cand, a.height_m)
        d = np.hypot(cand[:, 0] - a.x_m, cand[:, 1] - a.y_m)
        taken = {(round(b.x_m, 2), round(b.y_m, 2)) for b in ap_list}
        near = [k for k in np.argsort(d, kind="stable")
                if wired[k] and d[k] <= CABLE_MOVE_RADIUS_SPACINGS * spacing_m
                and (round(float(cand[k, 0]), 2), round(float(cand[k, 1]), 2)) not in taken]
        best = None
        for k in near[:CABLE_MOVE_TRIALS]:
            aps = list(ap_list)
            aps[i] = replace(a, x_m=round(float(cand[k, 0]), 2), y_m=round(float(cand[k, 1]), 2))
            rm_t, aps_t = band_stage(site, rm.with_aps(aps), aps, rpf, target_share, gain_dbi,
                                     air=air)
            s, _ = band_figures(site, rm_t, rpf)
            if (best is None or s > best[0] + 1e-9) and accept(aps_t, rm_t):
                best = (s, rm_t, aps_t)
        if best is not None:
            _, rm, ap_list = best
    return rm, ap_list


def band_polish(site: Site, rm: RadioMap, ap_list, rpf, target_share: float, gain_dbi,
                max_passes: int = 40):
    """The band share itself, climbed: steps of 1 dB on one AP at a time, the step that puts
    most boundaries in the band taken while every zone keeps ``target_share`` of its points
    at its requirement (or what it had, if less), until no step helps. The band stage's
    objective weighs each boundary point against each point of coverage spent; this last
    step counts as the reports count (:func:`band_figures`). Returns (rm, ap_list)."""
    if len(ap_list) < 2 or rpf.n == 0 or not band_judged(site, rpf.zone).any():
        return rm, ap_list
    p0, share, moves = _one_db_moves(site, rm, ap_list, rpf, target_share, gain_dbi)
    p = p0
    for _ in range(max_passes):
        best = None
        for q, s in moves(p):
            if s > (best[0] if best else share) + 1e-9:
                best = (s, q)
        if best is None:
            break
        share, p = best
    return _with_powers(rm, ap_list, p0, p)


def _one_db_moves(site: Site, rm: RadioMap, ap_list, rpf, target_share: float, gain_dbi):
    """What the searches over 1 dB steps of one AP share: (the APs' powers [dBm], the band
    share at them, ``moves(p)``), where ``moves(p)`` yields (q, band share at q) for every
    power vector ``q`` one AP 1 dB away from ``p`` within the APs' power ranges at which
    every zone keeps ``target_share`` of its points at its requirement (or what it had at
    the start, if less), counted at the points ``rpf`` as :func:`band_and_coverage` does."""
    g = rm.gain_db[:, rpf.iy, rpf.ix]
    lims = np.array([ap_power_range_dbm(site, a, gain_dbi) for a in ap_list]).reshape(-1, 2)
    p0 = np.array([a.tx_power_dbm for a in ap_list], float)

    def figures(p):
        v, _ = top3(g + p[:, None].astype(np.float32))
        return band_and_coverage(site, v[0], v[1], rpf)

    share0, cov = figures(p0)
    floor = np.minimum(cov, target_share) - 1e-9

    def moves(p):
        for i in range(len(p)):
            for d in (-1.0, 1.0):
                if not lims[i, 0] <= p[i] + d <= lims[i, 1]:
                    continue
                q = p.copy()
                q[i] += d
                s, c = figures(q)
                if (c >= floor).all():
                    yield q, s

    return p0, share0, moves


def _with_powers(rm: RadioMap, ap_list, p0, p):
    """(rm, ap_list) at powers ``p``; the inputs themselves where ``p`` is ``p0``."""
    if np.array_equal(p, p0):
        return rm, ap_list
    rm = rm.with_powers(p)
    return rm, rm.aps


def _excess(frame) -> tuple[float, float]:
    """(airtime beyond the budgets summed over the cells, highest airtime over budget) of a
    :func:`~wifiplan.capacity.cell_load` frame; a cell served below MCS0 counts as 1e9."""
    at = np.nan_to_num(frame["airtime"].to_numpy(float), posinf=1e9)
    over = at - frame["airtime_budget"].to_numpy(float)
    return float(np.maximum(over, 0.0).sum()), float(over.max()) if len(over) else 0.0


def capacity_balance(site: Site, rm: RadioMap, ap_list, rpf, target_share: float, gain_dbi,
                     zones=None, max_steps: int = 40):
    """Cell breathing: where a cell is over its airtime budget, powers moved 1 dB on one AP
    at a time so that the cells share the terminals within their budgets, as a
    controller's load balancing does (an overloaded cell shrinks, its neighbours grow).
    Each step takes the move that lowers the airtime beyond the budgets most (then the
    highest airtime over budget, then keeps most boundaries in the band), while every zone
    keeps ``target_share`` of its points at its requirement (or what it had, if less);
    steps stop when every cell is within its budget or no move lowers the excess. Returns
    (rm, ap_list), ``ap_list`` itself where no power moved."""
    frame = cell_load(site, rm, zones=zones)
    if len(ap_list) < 2 or rpf.n == 0 or bool(frame.attrs["summary"]["ok"]):
        return rm, ap_list
    p0, _, moves = _one_db_moves(site, rm, ap_list, rpf, target_share, gain_dbi)
    key = _excess(frame)
    p = p0
    for _ in range(max_steps):
        best = None
        for q, share in moves(p):
            f = cell_load(site, rm.with_powers(q), zones=zones)
            k = _excess(f) + (-share,)
            if k[:2] < key and (best is None or k < best[0]):
                best = (k, q, bool(f.attrs["summary"]["ok"]))
        if best is None:
            break
        key, p = best[0][:2], best[1]
        if best[2]:
            break
    return _with_powers(rm, ap_list, p0, p)


#: The spread search runs where at most this many APs, all at their lowest power, hold the
#: band (a small hall whose scale rule asks more cells than its size needs) ...
SPREAD_MAX_APS = 4
#: ... from the plan's positions and from this many seeded random ones (a count: the same
#: input gives the same plan), ...
SPREAD_RANDOM_STARTS = 16
#: ... each descent at most this many rounds over the APs.
SPREAD_ROUNDS = 4


def spread_at_lowest_power(site: Site, rm: RadioMap, ap_list, rpf, target_share: float,
                           gain_dbi, cand: np.ndarray, accept, seed: int = 0):
    """Placement for the band where the powers cannot help: every AP is an omni, not locked,
    at its lowest power, and there are at most :data:`SPREAD_MAX_APS` of them, so the cells
    stand closer together than that power lets them meet in the band (boundaries above
    -65 dBm) and the one-step moves of :func:`band_moves` stay near where they are.

    A coordinate descent over the mount candidates ``cand``: each AP in turn goes to the
    candidate that puts most boundaries in the band while every zone keeps ``target_share``
    of its points at its requirement (or what it had, if less), every candidate scored at
    once against the other APs' two strongest signals; rounds repeat until no AP moves (at
    most :data:`SPREAD_ROUNDS`), from the plan's positions and from
    :data:`SPREAD_RANDOM_STARTS` random ones (``seed``). The best result is computed exactly
    (the moved APs' own layers and channels) and kept when it puts more boundaries in the
    band and ``accept(aps, rm)`` agrees. Returns (rm, ap_list)."""
    n = len(ap_list)
    if not 2 <= n <= SPREAD_MAX_APS or rpf.n == 0 or len(cand) <= n:
        return rm, ap_list
    lims = np.array([ap_power_range_dbm(site, a, gain_dbi) for a in ap_list]).reshape(-1, 2)
    p = np.array([a.tx_power_dbm for a in ap_list], float)
    if any(a.locked or a.antenna is not None or a.model is not None for a in ap_list) \
            or not np.all(p <= lims[:, 0] + 1e-9):
        return rm, ap_list
    band = band_judged(site, rpf.zone)
    if not band.any():
        return rm, ap_list
    ref = ap_list[0]
    rows = [replace(ref, id=f"_S{k}", x_m=float(x), y_m=float(y), mount=None)
            for k, (x, y) in enumerate(cand)]
    # the same site and step give the same grid as rm's
    gc = compute_radiomap(site, rows, resolution_m=rm.resolution_m, model=rm.model,
                          geom=rm.geom).gain_db[:, rpf.iy, rpf.ix]
    gc = gc.astype(np.float32)
    pw = p.astype(np.float32)
    req = rpf.req_dbm.astype(np.float32)
    zones, zi = np.unique(rpf.zone, return_inverse=True)
    onehot = np.zeros((rpf.n, len(zones)), np.float32)
    onehot[np.arange(rpf.n), zi] = 1.0
    counts = onehot.sum(0)
    share0, cov0 = band_and_coverage(site, rm.best_rssi_dbm[rpf.iy, rpf.ix],
                                     rm.second_rssi_dbm[rpf.iy, rpf.ix], rpf)
    floor = np.minimum(cov0, target_share) - 1e-9

    def scores(i, sel):
        """Band share of every candidate as AP i (-1 where a zone falls below its floor)."""
        rest = [k for k in range(n) if k != i]
        others = [sel[k] for k in rest]
        r = gc[others] + pw[rest, None]
        o1 = r.max(0)
        o2 = np.partition(r, -2, axis=0)[-2] if len(others) >= 2 else np.full_like(o1, -np.inf)
        mine = gc + pw[i]
        best = np.maximum(mine, o1)
        second = np.where(mine >= o1, o1, np.maximum(mine, o2))
        bnd, judged, inb = boundary_masks(site, best, second, rpf.zone)
        nb = (bnd & judged).sum(1)
        share = np.where(nb > 0, inb.sum(1) / np.maximum(nb, 1), 0.0)
        cov = ((best >= req - 1e-6).astype(np.float32) @ onehot) / counts
        ok = (cov >= floor).all(1)
        ok[others] = False
        return np.where(ok, share, -1.0)

    d = np.hypot(cand[:, None, 0] - np.array([a.x_m for a in ap_list])[None],
                 cand[:, None, 1] - np.array([a.y_m for a in ap_list])[None])
    starts = [list(np.argmin(d, axis=0))]
    rng = np.random.default_rng(seed)
    starts += [list(rng.choice(len(cand), n, replace=False))
               for _ in range(SPREAD_RANDOM_STARTS)]
    found = None
    for sel in starts:
        s_now = -1.0
        for _ in range(SPREAD_ROUNDS):
            moved = False
            for i in range(n):
                sc = scores(i, sel)
                k = int(np.argmax(sc))
                s_now = float(sc[sel[i]])
                if sc[k] > s_now + 1e-9:
                    sel[i], s_now, moved = k, float(sc[k]), True
            if not moved:
                break
        if s_now > (found[0] if found else share0) + 1e-9:
            found = (s_now, list(sel))
    if found is None:
        return rm, ap_list
    aps = [replace(a, x_m=round(float(cand[k, 0]), 2), y_m=round(float(cand[k, 1]), 2))
           for a, k in zip(ap_list, found[1])]
    rm_m = rm.with_aps(aps)
    share, cov = band_figures(site, rm_m, rpf)
    if share > share0 + 1e-9 and cov >= min(float(cov0.min()), target_share) - 1e-9 \
            and accept(aps, rm_m):
        return rm_m, aps
    return rm, ap_list
