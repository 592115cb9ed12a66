"""Cells added after placement: where a zone stays short of its coverage or of the
secondary signal its profile asks on the evaluation grid (:func:`repair_cells`), and where a
cell's airtime exceeds its budget (:func:`add_cells_for_capacity`); new AP ids."""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
from scipy.spatial import cKDTree

from ..capacity import cell_load
from ..plan import AP
from ..radio.radiomap import RadioMap
from ..requirements import band_judged
from ..site import Site
from .joint import secondary_at
from .power import limits_at, tune_powers


def new_ids(n, taken) -> list[str]:
    out = []
    k = 1
    while len(out) < n:
        nm = f"AP{k}"
        if nm not in taken:
            out.append(nm)
        k += 1
    return out


def repair_cells(rm, ap_list, rpf, applies, need_dbm, level_of, target_share, limit, *,
                 cand, gain, tree, p_design, p_max, height, channel, stage):
    """Cells added (at most ``limit``, three a round) while a zone's points where
    ``applies`` fall short of ``need_dbm`` [dBm] (their level: ``level_of(radio map)``) on
    more than ``1 - target_share`` of them: each at the candidate that reaches most of the
    short points at the design power (the gains taken at the nearest planning-grid point),
    then ``stage`` re-tunes powers and channels. Returns (rm, ap_list, cells added)."""
    added = 0
    for _ in range(4):
        if added >= limit:
            break
        short = applies & (level_of(rm) < need_dbm - 1e-6)
        zone_ids = sorted(set(rpf.zone[applies].tolist()))
        allowed = {k: int((1 - target_share) * (applies & (rpf.zone == k)).sum())
                   for k in zone_ids}
        failing = [k for k in zone_ids if (short & (rpf.zone == k)).sum() > allowed[k]]
        if not failing:
            break
        target = short & np.isin(rpf.zone, failing)
        tz = rpf.zone[target]
        _, near = tree.query(np.column_stack([rpf.x[target], rpf.y[target]]))
        g = gain[:, near]
        req_t = need_dbm[target][None, :]
        reach = g + p_design >= req_t
        if not reach.any():
            reach = g + p_max >= req_t
        taken = {(round(a.x_m, 2), round(a.y_m, 2)) for a in ap_list}
        free = np.array([(round(float(x), 2), round(float(y), 2)) not in taken
                         for x, y in cand])
        # greedy: cells until every failing zone's short points are within target
        left = np.ones(len(tz), bool)
        new_aps = []
        while added + len(new_aps) < limit and len(new_aps) < 3:
            if all((left & (tz == k)).sum() <= allowed[k] for k in failing):
                break
            count = np.where(free, (reach & left[None, :]).sum(1), -1)
            c = int(np.argmax(count))
            if count[c] <= 0:
                break
            free[c] = False
            left &= ~reach[c]
            new_id = new_ids(1, {a.id for a in ap_list + new_aps})[0]
            new_aps.append(AP(new_id, round(float(cand[c, 0]), 2), round(float(cand[c, 1]), 2),
                              height, channel=channel, width_mhz=20,
                              tx_power_dbm=float(p_design)))
        if not new_aps:
            break
        ap_list = ap_list + new_aps
        rm, ap_list = stage(ap_list, rm)
        added += len(new_aps)
    return rm, ap_list, added


def coarse_map(rm_c, sel, p, site):
    """RadioMap of the selected candidate layers at powers ``p`` (zone index shared)."""
    aps = [replace(rm_c.aps[c], tx_power_dbm=float(v), id=f"_S{k}")
           for k, (c, v) in enumerate(zip(sel, p))]
    m = RadioMap(site, aps, rm_c.model, rm_c.geom, rm_c.resolution_m, rm_c.xs, rm_c.ys,
                 rm_c.gain_db[list(sel)])
    m.__dict__["zone_index"] = rm_c.zone_index
    m.__dict__["mask"] = rm_c.mask
    return m


def add_cells_for_capacity(site: Site, prob, rm_c, rp, sel, p, p_min, p_max, spacing, model, geom,
                           max_added: int | None = None, zones=None, air=None):
    """Add cells where a cell's airtime exceeds its budget: each time the candidate, inside
    the most loaded cell, that lowers the highest airtime most; powers re-tuned after each
    (with the points' airtime weights ``air`` in the objective, if given). ``zones``: the
    names of the planned zones, whose terminals alone load the cells (default: every
    zone)."""
    sel = list(sel)
    p = np.asarray(p, float)
    added = 0
    limit = max_added if max_added is not None else max(4, 2 * site.terminal_count)
    while added < limit:
        df = cell_load(site, coarse_map(rm_c, sel, p, site), zones=zones)
        if bool(df.attrs["summary"]["ok"]):
            break
        worst = int(np.argmax(np.nan_to_num(df["airtime"].to_numpy(), posinf=1e9)))
        # candidates inside the worst cell (its required points served best)
        r = prob.gain[sel][:, prob.active] + p[:, None]
        served = r.argmax(0) == worst
        if not served.any():
            break
        pts = np.column_stack([rp.x[prob.active][served], rp.y[prob.active][served]])
        d, _ = cKDTree(pts).query(prob.xy[:len(prob.gain)], k=1)
        cands = [int(c) for c in np.nonzero(d <= spacing)[0] if c not in sel
                 and c not in set(prob.fixed.tolist())]
        if not cands:
            break
        if len(cands) > 40:
            cands = cands[:: math.ceil(len(cands) / 40)]
        best_c, best_key = None, None
        for c in cands:
            s2 = sel + [c]
            p2 = np.r_[p, p[worst]]
            f = cell_load(site, coarse_map(rm_c, s2, p2, site), zones=zones)
            at = np.nan_to_num(f["airtime"].to_numpy(), posinf=1e9)
            key = (float(at.max()), float(at.sum()))
            if best_key is None or key < best_key:
                best_c, best_key = c, key
        sel.append(best_c)
        p = np.r_[p, p[worst]]
        p = tune_powers(prob.gain[sel], np.where(prob.dropped, -np.inf, prob.req), p,
                        *limits_at(p_min, p_max, sel), band_mask=band_judged(site, rp.zone),
                        secondary_dbm=secondary_at(site, rp.zone), air=air)
        added += 1
    return sel, p, added
