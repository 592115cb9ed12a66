"""The planner: AP count, placement, channels, power and backhaul, run in order.

:func:`plan_site` is the orchestrator (in the manner of pvlib's ModelChain): each step is a
module of its own with functions over arrays, usable alone.

1. **Count** (:mod:`.placement`): the seed's scale rule (8.1.3.2), the cells coverage needs
   at the small-cell design power, and the cells the terminals' demand needs (a capacity
   estimate); the plan takes the largest and says which one decided.
2. **Placement** (:mod:`.placement`): candidate ceiling mount points, greedy set cover and
   local search on a coarse grid (1-2 m) of required points, so that every zone point's best
   server reaches the zone's requirement with the lowest power.
3. **Power** (:mod:`.power`): per-AP transmit power in 1 dB steps within the domain's
   limits, tuned like a controller's TPC so that cell boundaries lie in -70..-65 dBm
   without any zone point falling below its requirement; then **placement and power
   together** (:mod:`.joint`): the coverage placement and centroidal ones (k-means of the
   required points), each tuned and refined by moving APs to neighbouring mount points while
   the tuned objective improves; the one with most boundaries in the band wins.
4. **Capacity** (:mod:`.repair`, :mod:`wifiplan.capacity`): when the plan's cells exceed
   their airtime budget, the planner plans again adding cells where a cell's airtime
   exceeds it, until every cell is within it; where a cell still exceeds it, the powers
   share its terminals out to its neighbours at the end (cell breathing,
   :func:`.fine.capacity_balance`).
5. **Channels** (:mod:`.channels`): non-DFS channels of the site's domain, 20 MHz,
   minimising co-channel overlap on the interference graph of the radio map.
6. Steps 3 and 5 are repeated on the evaluation grid (1 m) with the assigned channels
   (:mod:`.fine`); cells are added where a zone stays below its coverage or below the
   secondary signal its profile asks (:mod:`.repair`).
7. **The band** (:func:`.fine.band_stage`): the planner aims at 99.3 % of each zone's
   points (:data:`REPAIR_TARGET`), the reports ask 99 %; the powers are tuned once more
   with each zone allowed to leave 0.7 % of its points below its requirement, from the tuned
   powers and from 1, 2 and 3 dB below them (:data:`BAND_STARTS_DB`), and the setting with
   most boundaries in the band is kept if it misses no requirement the plan met; where
   fewer than half are in the band, APs are moved to neighbouring mount points for it
   (:func:`.fine.band_moves`), and a few cells all at their lowest power are spread over
   the mount points (:func:`.fine.spread_at_lowest_power`).
8. **Backhaul** (:mod:`wifiplan.backhaul`): an AP no switch can cable within the 90 m
   permanent link moves to the nearest mount point one can, where the radio plan loses
   nothing it met (:func:`.fine.cable_moves`; otherwise the plan names the switch to add);
   switch port, cable length, PoE; BSSIDs.
9. **Metrics** (:func:`wifiplan.evaluation.evaluate_plan`) go into the plan.
"""
from __future__ import annotations

import math
import time
from dataclasses import replace

import numpy as np
from scipy.spatial import cKDTree

from ..site import Site
from ..backhaul import assign_backhaul, assign_bssids, backhaul_summary, cable_in_reach
from ..capacity import (DEFAULT_MAC_EFFICIENCY, phy_rate_mbps, point_airtime,
                        terminal_demand_mbps, terminal_profiles)
from ..errors import InputError
from ..evaluation import evaluate_plan, required_points, unmet, zone_indices
from ..plan import AP, Plan
from ..radio.propagation import Geometry, PropagationModel
from ..radio.radiomap import RadioMap, compute_radiomap
from ..regulatory import is_dfs
from ..requirements import band_judged
from ..rules import (BOUNDARY_BAND_TARGET, CO_CHANNEL_MIN_SEPARATION_DB, COVERAGE_TARGET,
                     DEFAULT_MIN_RSSI_DBM, MIN_RSSI_RANGE_DBM)
from .channels import assign_channels, channel_targets, planning_weights
from .directional import (aisle_mountings, better_than_omni, mounting_ap, power_offset_db,
                          power_range_dbm)
from .fine import (band_moves, band_polish, band_stage, cable_moves, capacity_balance,
                   fine_stage, spread_at_lowest_power)
from .joint import joint_placement, refine_positions, secondary_at
from .placement import (COVERAGE_ALLOWANCE, DESIGN_TX_POWER_DBM, CoverProblem, build_neighbours,
                        candidate_points, scale_rule)
from .power import limits_at, limits_for_channels, tune_powers
from .repair import add_cells_for_capacity, new_ids, repair_cells

__all__ = ["plan_site", "scale_rule", "DESIGN_TX_POWER_DBM"]

MAX_CANDIDATE_SPACING_M = 5.0
MIN_CANDIDATE_SPACING_M = 1.5
CANDIDATES_PER_M2 = 1 / 400.0      # target: about 400 candidates before clamping the spacing
MEDIAN_ABOVE_EDGE_DB = 6.0         # a cell's median point is about 6 dB above its edge
REPAIR_TARGET = 0.993              # zone coverage the final check on the 1 m grid aims at
MAX_REPAIR_CELLS = 8
#: The band stage starts from the tuned powers moved by each of these [dB] (its steps are
#: one AP, one dB at a time: from a lower start it finds the plans where several APs come
#: down together).
BAND_STARTS_DB = (0.0, -1.0, -2.0, -3.0)
#: share of a zone's points the planner gives the secondary signal its profile asks (the
#: reports ask 95 %; the planner aims a little higher, as it does for coverage)
SECONDARY_REPAIR_TARGET = 0.97


def planning_resolution(area_m2: float) -> float:
    """Planning grid step [m] for the required area: 1 m up to 3000 m2, 1.5 m up to
    10000 m2, 2 m beyond."""
    return 1.0 if area_m2 <= 3000 else (1.5 if area_m2 <= 10000 else 2.0)


def candidate_spacing(area_m2: float) -> float:
    """Ceiling-grid step [m] for candidate mount points: about 400 candidates over
    ``area_m2``, the step clamped to 1.5-5 m."""
    s = float(np.clip(math.sqrt(area_m2 * CANDIDATES_PER_M2), MIN_CANDIDATE_SPACING_M,
                      MAX_CANDIDATE_SPACING_M))
    return round(s * 2) / 2


def capacity_count(site: Site, zone_idx, airtime_budget=None, mac_efficiency=None,
                   min_rssi_dbm=None) -> int:
    """Cells the terminals' demand needs, estimated before placement: the total demand of
    the zones over what one cell carries within the airtime budget at the PHY rate of a
    point 6 dB above the zone's requirement (a cell's median point), each zone at its own
    airtime budget unless ``airtime_budget`` is given."""
    eff = mac_efficiency or DEFAULT_MAC_EFFICIENCY
    prof = terminal_profiles(site)
    cells = 0.0
    for k in zone_idx:
        z = site.zones[k]
        req = min_rssi_dbm if min_rssi_dbm is not None else z.min_rssi_dbm
        rate = float(phy_rate_mbps(req + MEDIAN_ABOVE_EDGE_DB))
        demand = sum(n * terminal_demand_mbps(prof[t]) for t, n in z.terminals.items())
        budget = airtime_budget or z.airtime_budget      # the zone's own budget by default
        if demand > 0 and rate > 0:
            cells += demand / (budget * rate * eff)
    return int(math.ceil(cells - 1e-9)) if cells > 0 else 0


def _reach_m(model, p_max, req_min, ap_height_m) -> float:
    """Largest horizontal distance [m] at which an AP at ``p_max`` could reach ``req_min``
    with no wall in between (to limit the candidates to those that matter)."""
    d = np.geomspace(1, 2000, 400)
    rssi = p_max + model.ap_gain_dbi + model.client_gain_dbi - model.path_loss_db(d, 5180.0)
    ok = d[rssi >= req_min]
    d3 = float(ok.max()) if len(ok) else 1.0
    return math.sqrt(max(d3 ** 2 - (ap_height_m - model.client_height_m) ** 2, 1.0))


def _misses(m) -> set:
    """(zone, requirement) pairs a plan's metrics ``m`` miss, and ("capacity", "airtime")
    when a cell is over its airtime budget."""
    out = {(zone, key) for zone, key, _ in unmet(m)}
    if m.get("capacity") and not m["capacity"]["ok"]:
        out.add(("capacity", "airtime"))
    return out


#: The plan-wide figures a plan is judged by beside its zones' requirements (the phase
#: reports' SINR and co-channel criteria): (metrics key, target).
FIGURE_TARGETS = (("sinr_ok_share", COVERAGE_TARGET),
                  ("co_channel_separation_p5_db", CO_CHANNEL_MIN_SEPARATION_DB))


def _no_loss(after, before) -> bool:
    """Whether the plan metrics ``after`` keep what ``before`` met: no zone requirement or
    airtime budget newly missed, the SINR share and the co-channel separation's 5th
    percentile not below their targets where they were at or above them (nor below what
    they were, where not)."""
    if not _misses(after) <= _misses(before):
        return False
    for key, target in FIGURE_TARGETS:
        b, a = before.get(key), after.get(key)
        if b is not None and (a if a is not None else np.inf) < min(b, target) - 1e-9:
            return False
    return True


def _capacity_ok(plan: Plan) -> bool:
    cap = plan.metrics.get("capacity")
    return cap is None or bool(cap["ok"])


def _plan_rank(plan: Plan) -> tuple:
    """Of plans within their airtime budgets, the better first: fewer requirements missed
    (the zones' requirements, and the SINR share and co-channel separation's 5th percentile
    against their targets); then of those with half their boundaries in the band the one
    with fewest APs (cells cost), of the others the one with most boundaries in the band."""
    m = plan.metrics
    short = len(_misses(m))
    for key, target in FIGURE_TARGETS:
        v = m.get(key)
        short += v is not None and v < target - 1e-9
    band = m.get("boundary_band_share") or 0.0
    met = band >= BOUNDARY_BAND_TARGET
    return (short, not met, len(plan.aps) if met else -band, -band)


def _backhaul_flags(site: Site, aps, keep) -> int:
    """How many backhaul flags (cables over the link, ports, PoE) a fresh assignment of
    ``aps`` to the site's switches raises."""
    return len(backhaul_summary(site, assign_backhaul(site, aps, keep=keep))["flags"])


def _own_power(site: Site, ap: AP, chans, gain_dbi: float, p_dbm: float) -> float:
    """A planned power [dBm] within the AP's own limits (its antenna's and model's)."""
    lo, hi = power_range_dbm(site, ap, chans, gain_dbi)
    return float(np.clip(round(float(p_dbm)), lo, hi))


def _check_channels(site: Site, channels) -> list[int]:
    allowed = site.allowed_channels()
    if channels is None:
        return list(allowed)
    out = []
    for c in channels:
        try:
            c = int(c)
        except (TypeError, ValueError):
            raise InputError(f"channel {c!r} is not a channel number", key="channels") from None
        if c not in allowed:
            why = "is a DFS channel" if is_dfs(c) else "is not allowed"
            w58_note = (" (W58 needs enable_w58: true)"
                        if site.regulatory_domain == "JP" and 149 <= c <= 165
                        and not site.enable_w58 else "")
            raise InputError(f"channel {c} {why} in regulatory domain {site.regulatory_domain}"
                             f"{w58_note}"
                             f"; the non-DFS channels are {', '.join(map(str, allowed))}",
                             key="channels")
        if c not in out:
            out.append(c)
    if not out:
        raise InputError("no channel given", key="channels")
    return out


def plan_site(site: Site, *, aps: int | None = None, min_rssi_dbm: float | None = None,
              channels=None, model=None, existing: Plan | None = None, zones=None,
              respect_capacity: bool = True, resolution_m: float | None = None,
              seed: int = 0, eval_resolution_m: float = 1.0) -> Plan:
    """Plan the APs of ``site`` (module docstring) and return a :class:`~wifiplan.plan.Plan`
    with its metrics.

    Parameters
    ----------
    aps : fix the AP count (locked APs included).
    min_rssi_dbm : requirement [dBm] for every planned zone, replacing the zones' values.
    channels : restrict the channel set; each must be a non-DFS channel of the site's domain.
    model : :class:`~wifiplan.radio.propagation.PropagationModel` (default: the site's).
    existing : a plan whose APs marked ``locked`` stay where they are (position, height, id,
        BSSID, switch port); their channel and power are planned with the others.
    zones : names of the zones to plan for (default: all).
    respect_capacity : when the plan's cells exceed their airtime budget, plan again adding
        cells until every cell is within it (placed jointly for the band, on the coverage
        placement, and jointly with the cells' airtime in the power objective; the best
        within budget is kept; where none is, the same runs with the powers balancing the
        cells' loads at the end); False: plan for coverage and the band only. Not with a
        fixed ``aps`` count.
    resolution_m : planning grid step [m] (default from the area, 1-2 m).
    seed : seed of the randomised restarts (results are deterministic for a seed).
    eval_resolution_m : grid step [m] of the final tuning and of the metrics.
    """
    kw = dict(aps=aps, min_rssi_dbm=min_rssi_dbm, channels=channels, model=model,
              existing=existing, zones=zones, resolution_m=resolution_m, seed=seed,
              eval_resolution_m=eval_resolution_m)
    plan = _plan_once(site, add_for_capacity=False, joint=True, capacity=False, **kw)
    t = plan.timings["elapsed_s"]
    if respect_capacity and aps is None and not _capacity_ok(plan):
        # cells for capacity: placed jointly for the band, on the coverage placement (which
        # the capacity step was built on), and jointly with the cells' airtime in the power
        # objective. Of those within budget the best by _plan_rank is kept
        tries = [_plan_once(site, add_for_capacity=True, joint=joint, capacity=air, **kw)
                 for joint, air in ((True, False), (False, False), (True, True))]
        if not any(_capacity_ok(p) for p in tries):
            # none within budget: the same runs ending with cell breathing
            tries += [_plan_once(site, add_for_capacity=True, joint=joint, capacity=air,
                                 balance=True, **kw)
                      for joint, air in ((True, False), (False, False), (True, True))]
        t += sum(p.timings["elapsed_s"] for p in tries)
        ok = [p for p in tries if _capacity_ok(p)]
        plan = min(ok, key=_plan_rank) if ok else tries[-1]
    plan.timings["elapsed_s"] = round(t, 2)
    return plan


def _plan_once(site: Site, *, aps, min_rssi_dbm, channels, model, existing, zones,
               add_for_capacity: bool, joint: bool, resolution_m, seed,
               eval_resolution_m, capacity: bool = False, balance: bool = False) -> Plan:
    """One run of the planner (:func:`plan_site`), with or without cells for capacity and
    the joint placement; ``capacity``: the cells' airtime in the power objective
    (:func:`wifiplan.capacity.point_airtime`); with ``balance``, it ends by sharing out the
    terminals of a cell still over its airtime budget by power
    (:func:`.fine.capacity_balance`)."""
    t0 = time.perf_counter()
    model = model or PropagationModel.for_site(site)
    geom = Geometry.from_site(site, model.material_losses)
    chans = _check_channels(site, channels)
    if aps is not None and (int(aps) != aps or aps < 1):
        raise InputError(f"the AP count must be a whole number >= 1, got {aps!r}", key="aps")
    lo, hi = MIN_RSSI_RANGE_DBM
    if min_rssi_dbm is not None and not (lo <= float(min_rssi_dbm) <= hi):
        raise InputError(f"minimum RSSI {min_rssi_dbm} dBm is out of range, expected "
                         f"{lo:g}..{hi:g}", key="min_rssi_dbm")
    zsel = zone_indices(site, zones)
    locked = [a for a in (existing.aps if existing is not None else []) if a.locked]
    if locked:
        inside = site.inside_outline([a.x_m for a in locked], [a.y_m for a in locked], 0.5)
        for a, ok in zip(locked, inside):
            if not ok:
                raise InputError(f"locked AP {a.id} at ({a.x_m:g}, {a.y_m:g}) is outside the "
                                 "site outline", source=getattr(existing, "source", None))
    if aps is not None and aps < len(locked):
        raise InputError(f"--aps {aps} is fewer than the {len(locked)} locked APs", key="aps")
    height = float(site.propagation.get("ap_height_m", 4.0))
    gain_dbi = float(model.ap_gain_dbi)
    p_min, p_max = limits_for_channels(site, chans, gain_dbi)
    # the small-cell design power sets the cell count of "many small cells" (5 or more
    # terminals); below that the scale rule's 1-3 cells are the design, and coverage is
    # counted at the AP's full power (still a small AP: at most 20 dBm)
    n_terminals = sum(site.zones[k].terminal_count for k in zsel)
    p_design = min(DESIGN_TX_POWER_DBM, p_max) if n_terminals >= 5 or n_terminals == 0 else p_max

    # -- required points and candidates (coarse) --
    req_area = required_points(site, 2.0, zones, min_rssi_dbm).n * 4.0
    res = float(resolution_m) if resolution_m else planning_resolution(req_area)
    rp = required_points(site, res, zones, min_rssi_dbm)
    sec = secondary_at(site, rp.zone)
    air = point_airtime(site, rp.zone, zones) if capacity else None
    spacing = max(candidate_spacing(site.area_m2), res)
    reach = _reach_m(model, p_max,
                     float(rp.req_dbm.min()) if rp.n else DEFAULT_MIN_RSSI_DBM, height)
    cand = candidate_points(site, spacing, near_xy=np.column_stack([rp.x, rp.y]), reach_m=reach)
    if len(cand) == 0 and not locked:
        raise InputError("no admissible mount point: every ceiling grid point lies in an "
                         "obstacle, on a wall or in a no_mount area", source=site.source)
    ref_ch = max(chans)          # highest frequency: the worst case for coverage
    cand_aps = [AP(f"_C{i}", float(x), float(y), height, channel=ref_ch, tx_power_dbm=0.0)
                for i, (x, y) in enumerate(cand)]
    # directional candidates down the aisles (:mod:`.directional`)
    mounts = aisle_mountings(site, height, model.client_height_m, zones) if len(cand) else []
    dir_aps = [mounting_ap(m, f"_D{i}", height, ref_ch, 0.0) for i, m in enumerate(mounts)]
    lock_aps = [replace(a, channel=ref_ch, tx_power_dbm=0.0) for a in locked]
    rows = cand_aps + dir_aps + lock_aps
    rm_c = compute_radiomap(site, rows, resolution_m=res, model=model, geom=geom)
    # every row on the omni's power scale: p stands for a transmit power p - offset
    offset = np.array([0.0] * len(cand_aps)
                      + [power_offset_db(site, a, chans, gain_dbi, p_max) for a in dir_aps]
                      + [power_offset_db(site, a, chans, gain_dbi, p_max) if a.mount else 0.0
                         for a in locked])
    # the rows' own power ranges on that scale (a sector's lowest power is a higher EIRP)
    row_min = np.array([p_min] * len(cand_aps)
                       + [max(p_min, power_range_dbm(site, a, chans, gain_dbi)[0] + o)
                          for a, o in zip(dir_aps + locked, offset[len(cand_aps):])])
    row_max = np.full(len(rows), float(p_max))
    if offset.any():
        rm_c = RadioMap(site, rows, rm_c.model, rm_c.geom, rm_c.resolution_m, rm_c.xs, rm_c.ys,
                        rm_c.gain_db - offset[:, None, None].astype(np.float32))
    layers = rm_c.gain_db
    G = layers[:, rp.iy, rp.ix]
    if dir_aps:                  # keep the mountings that light their aisle best
        keep = better_than_omni(mounts, G[len(cand):len(cand) + len(dir_aps)], G[:len(cand)],
                                rp.req_dbm, rp.x, rp.y)
        rows_kept = np.r_[np.arange(len(cand)), len(cand) + np.flatnonzero(keep),
                          np.arange(len(cand) + len(dir_aps), len(rows))].astype(int)
        mounts = [m for m, k in zip(mounts, keep) if k]
        dir_aps = [a for a, k in zip(dir_aps, keep) if k]
        rows = [rows[i] for i in rows_kept]
        offset, row_min, row_max = offset[rows_kept], row_min[rows_kept], row_max[rows_kept]
        rm_c = RadioMap(site, rows, rm_c.model, rm_c.geom, rm_c.resolution_m, rm_c.xs, rm_c.ys,
                        rm_c.gain_db[rows_kept])
        layers = rm_c.gain_db
        G = G[rows_kept]
    n_dir = len(dir_aps)
    all_xy = np.vstack([cand.reshape(-1, 2),
                        np.array([[m.x_m, m.y_m] for m in mounts], float).reshape(-1, 2),
                        np.array([[a.x_m, a.y_m] for a in locked], float).reshape(-1, 2)])
    fixed = np.arange(len(cand) + n_dir, len(cand) + n_dir + len(locked))
    prob = CoverProblem(G, rp.req_dbm, all_xy, fixed, p_min, p_max,
                        build_neighbours(all_xy, 2.2 * spacing), zone=rp.zone,
                        allow_share=COVERAGE_ALLOWANCE)
    t_layers = time.perf_counter() - t0

    # -- count --
    n_scale, scale_text = scale_rule(n_terminals)
    n_cov, cov_sel = prob.coverage_count(p_design) if rp.n else (1, [])
    n_cap = capacity_count(site, zsel, min_rssi_dbm=min_rssi_dbm) if site.zones else 0
    detail = {"scale_rule": n_scale, "coverage": n_cov, "capacity_estimate": n_cap,
              "locked": len(locked)}
    if aps is not None:
        n = int(aps)
        reason = f"fixed at {n} by the user"
        detail["fixed"] = n
    else:
        n_sec = 2 if sec is not None else 1     # a second AP everywhere asks two at least
        n = max(n_scale, n_cov, n_cap, len(locked), n_sec)
        why = []
        if n == n_scale:
            why.append(f"scale rule ({scale_text})")
        if n == n_cov:
            why.append(f"coverage ({n_cov} cells reach every zone point at <= "
                       f"{p_design:g} dBm)")
        if n == n_cap:
            why.append(f"capacity (the terminals' demand needs {n_cap} cells within a 50 % "
                       "airtime budget)")
        if n == n_sec and sec is not None and not why:
            why.append("the secondary signal some zones ask (a second AP everywhere)")
        if n == len(locked) and not why:
            why.append("locked APs")
        reason = " and ".join(why)
    # -- placement --
    sel = cov_sel if (n == n_cov and len(cov_sel) == n) else prob.place(n)
    if n == n_cov and len(cov_sel) == n and n <= 40:
        alt = prob.place(n)
        if prob.objective(alt) < prob.objective(sel):
            sel = alt
    need, _, _ = prob.powers(sel)
    lo, hi = limits_at(row_min, row_max, sel)
    p = np.clip(np.ceil(np.where(np.isfinite(need), need, lo)), lo, hi)
    req_eff = np.where(prob.dropped, -np.inf, rp.req_dbm)
    band = band_judged(site, rp.zone)
    p = tune_powers(G[sel], req_eff, p, lo, hi, band_mask=band, secondary_dbm=sec, air=air)
    if len(sel) >= 2 and band.any() and joint:
        sel, p = joint_placement(prob, G, req_eff, sel, p, row_min, row_max, fixed, band,
                                 np.column_stack([rp.x, rp.y]), seed, sec, air)

    # -- capacity --
    added_for_capacity = 0
    if add_for_capacity and site.terminal_count > 0:
        sel, p, added_for_capacity = add_cells_for_capacity(
            site, prob, rm_c, rp, sel, p, row_min, row_max, spacing, model, geom, zones=zones,
            air=air)
        if added_for_capacity and joint and band.any():
            sel, p, _ = refine_positions(G, req_eff, sel, p, row_min, row_max, prob.neighbours,
                                         fixed, band_mask=band, secondary_dbm=sec, air=air)

    # -- channels (coarse) --
    area = res ** 2
    w = planning_weights(G[sel] + p[:, None], area, channel_targets(site, rp.zone))
    ch = assign_channels(w, chans, seed=seed)

    # -- APs --
    positions = all_xy[sel]
    lock_ids = {a.id for a in locked}
    new_idx = [k for k, c in enumerate(sel) if c not in set(fixed.tolist())]
    order = sorted(new_idx, key=lambda k: (round(positions[k, 1] / max(3 * spacing, 6.0)),
                                           positions[k, 0]))
    ids = new_ids(len(order), lock_ids)
    ap_list = []
    by_sel = {}
    for k, c in enumerate(sel):
        if c in set(fixed.tolist()):
            la = locked[int(c) - len(cand) - n_dir]
            by_sel[k] = replace(la, channel=int(ch[k]), width_mhz=20,
                                tx_power_dbm=_own_power(site, la, chans, gain_dbi,
                                                        p[k] - offset[c]))
    for j, k in enumerate(order):
        c = int(sel[k])
        if c >= len(cand):                      # a directional candidate
            a = mounting_ap(mounts[c - len(cand)], ids[j], height, int(ch[k]), 0.0)
            by_sel[k] = replace(a, tx_power_dbm=_own_power(site, a, chans, gain_dbi,
                                                            p[k] - offset[c]))
        else:
            by_sel[k] = AP(ids[j], round(float(positions[k, 0]), 2),
                           round(float(positions[k, 1]), 2), height, channel=int(ch[k]),
                           width_mhz=20, tx_power_dbm=float(p[k]))
    seq = [k for k, c in enumerate(sel) if c in set(fixed.tolist())] + order
    ap_list = [by_sel[k] for k in seq]

    # -- fine stage: tune power and channels on the evaluation grid --
    dropped_grid = np.zeros((len(rp.ys), len(rp.xs)), bool)
    dropped_grid[rp.iy[prob.dropped], rp.ix[prob.dropped]] = True
    rm, ap_list = fine_stage(site, ap_list, model, geom, eval_resolution_m, zones,
                             min_rssi_dbm, chans, gain_dbi, seed, (rp, dropped_grid),
                             capacity=capacity)

    # -- repair: a zone below target on the evaluation grid gets more cells, placed where
    #    they reach most of the zone's uncovered points at the design power; then the same
    #    for zones whose profile asks a secondary signal (a second AP at that level) --
    added_for_coverage = added_for_secondary = 0
    rpf = required_points(site, eval_resolution_m, zones, min_rssi_dbm)
    air_f = point_airtime(site, rpf.zone, zones) if capacity else None
    kw = dict(zones=zones, min_rssi_dbm=min_rssi_dbm)          # of evaluate_plan
    if aps is None and len(cand):
        tree = cKDTree(np.column_stack([rp.x, rp.y]))

        def stage(aps_now, rm_now):
            return fine_stage(site, aps_now, model, geom, eval_resolution_m, zones,
                              min_rssi_dbm, chans, gain_dbi, seed, (rp, dropped_grid),
                              rm_prev=rm_now, capacity=capacity)
        repair = dict(cand=cand, gain=G[:len(cand)], tree=tree, p_design=p_design,
                      p_max=p_max, height=height, channel=chans[0], stage=stage)
        rm, ap_list, added_for_coverage = repair_cells(
            rm, ap_list, rpf, np.ones(rpf.n, bool), rpf.req_dbm,
            lambda r: r.best_rssi_dbm[rpf.iy, rpf.ix], REPAIR_TARGET, MAX_REPAIR_CELLS,
            **repair)
        secf = secondary_at(site, rpf.zone)
        if secf is not None:
            rm, ap_list, added_for_secondary = repair_cells(
                rm, ap_list, rpf, np.isfinite(secf), secf,
                lambda r: np.nan_to_num(r.second_rssi_dbm[rpf.iy, rpf.ix], nan=-np.inf),
                SECONDARY_REPAIR_TARGET, MAX_REPAIR_CELLS, **repair)

    # -- APs a switch cannot cable within the permanent link: to the nearest mount points
    #    it can, where the radio plan loses nothing it met --
    if aps is None and len(cand) and not cable_in_reach(
            site, [[a.x_m, a.y_m] for a in ap_list], height).all():
        now = evaluate_plan(site, ap_list, radiomap=rm, **kw)
        flags = _backhaul_flags(site, ap_list, lock_ids)

        def no_loss(aps_m, rm_m):
            return _no_loss(evaluate_plan(site, aps_m, radiomap=rm_m, **kw), now) \
                and _backhaul_flags(site, aps_m, lock_ids) < flags
        rm, ap_list = cable_moves(site, rm, ap_list, rpf, REPAIR_TARGET, gain_dbi, cand,
                                  spacing, no_loss, air_f)

    # -- the band: the coverage the planner aims at above what the zones need, spent on the
    #    boundaries where that brings them into the band and misses no other requirement --
    if len(ap_list) >= 2:
        before = evaluate_plan(site, ap_list, radiomap=rm, **kw)
        best = (before["boundary_band_share"] or 0.0, rm, ap_list)
        for start_db in BAND_STARTS_DB:
            rm_b, aps_b = band_stage(site, rm, ap_list, rpf, REPAIR_TARGET, gain_dbi, start_db,
                                     air_f)
            if aps_b is ap_list:
                continue
            after = evaluate_plan(site, aps_b, radiomap=rm_b, **kw)
            share = after["boundary_band_share"] or 0.0
            if share > best[0] and _misses(after) <= _misses(before):
                best = (share, rm_b, aps_b)
        share, rm, ap_list = best
        if share < BOUNDARY_BAND_TARGET and aps is None:
            # still short: move APs to neighbouring mount points for the band
            flags = _backhaul_flags(site, ap_list, lock_ids)

            def accept(aps_m, rm_m):
                return (_misses(evaluate_plan(site, aps_m, radiomap=rm_m, **kw))
                        <= _misses(before)
                        and _backhaul_flags(site, aps_m, lock_ids) <= flags)
            rm, ap_list = band_moves(site, rm, ap_list, rpf, REPAIR_TARGET, gain_dbi, cand,
                                     spacing, accept, air_f)

            def keeps_all(aps_m, rm_m):
                return (_no_loss(evaluate_plan(site, aps_m, radiomap=rm_m, **kw), before)
                        and _backhaul_flags(site, aps_m, lock_ids) <= flags)
            # a few cells at their lowest power, still too close: spread them out
            rm, ap_list = spread_at_lowest_power(site, rm, ap_list, rpf, REPAIR_TARGET,
                                                 gain_dbi, cand, keeps_all, seed)
        # the share itself, one dB on one AP at a time, where nothing the plan met is lost
        rm_p, aps_p = band_polish(site, rm, ap_list, rpf, REPAIR_TARGET, gain_dbi)
        if aps_p is not ap_list and _no_loss(evaluate_plan(site, aps_p, radiomap=rm_p, **kw),
                                             evaluate_plan(site, ap_list, radiomap=rm, **kw)):
            rm, ap_list = rm_p, aps_p

    # -- capacity on the evaluation grid: where the cells added on the planning grid still
    #    leave one over its budget, the cells' powers share the terminals out (cell
    #    breathing) --
    if balance and aps is None and site.terminal_count > 0:
        rm, ap_list = capacity_balance(site, rm, ap_list, rpf, REPAIR_TARGET, gain_dbi,
                                       zones=zones)

    # -- backhaul and BSSIDs --
    ap_list = assign_backhaul(site, ap_list, keep=lock_ids)
    ap_list = assign_bssids(site.name, ap_list, keep=lock_ids)
    rm = RadioMap(site, ap_list, rm.model, rm.geom, rm.resolution_m, rm.xs, rm.ys, rm.gain_db)

    metrics = evaluate_plan(site, ap_list, radiomap=rm, **kw)
    metrics["ap_count_reason"] = reason
    metrics["ap_count_detail"] = detail
    if added_for_coverage:
        metrics["ap_count_reason"] += (f"; {added_for_coverage} cell(s) added where the "
                                       f"{eval_resolution_m:g} m check found a zone below "
                                       f"{REPAIR_TARGET:.1%}")
        detail["added_for_coverage"] = added_for_coverage
    if added_for_secondary:
        metrics["ap_count_reason"] += (f"; {added_for_secondary} cell(s) added where a zone's "
                                       f"secondary signal reached less than "
                                       f"{SECONDARY_REPAIR_TARGET:.0%} of its points")
        detail["added_for_secondary"] = added_for_secondary
    if added_for_capacity:
        metrics["ap_count_reason"] += f"; {added_for_capacity} cell(s) added for capacity"
        detail["added_for_capacity"] = added_for_capacity
    unreachable = ~prob.reachable
    if unreachable.any():
        for k in sorted(set(rp.zone[unreachable].tolist())):
            nm = site.zones[k].name if k >= 0 else "outline"
            a = float((rp.zone[unreachable] == k).sum() * area)
            metrics["warnings"].append(
                f"zone {nm}: {a:g} m2 cannot be reached from any admissible mount point even "
                f"at {p_max:g} dBm (enclosed by walls or obstacles that block the signal, e.g. "
                "a closed metal enclosure): mount an AP inside it or revise the zone")
    if metrics["co_channel_conflicts"]:
        metrics["co_channel_note"] = (
            f"with {len(chans)} channels ({', '.join(map(str, chans))}), "
            f"{len(metrics['co_channel_conflicts'])} same-channel pair(s) cannot be kept 19 dB "
            "below the serving AP everywhere; the channel count cannot give that here (walls "
            "between the pairs, more channels or fewer cells would)")
    metrics["planner"] = {
        "design_tx_power_dbm": p_design, "tx_power_limits_dbm": [p_min, p_max],
        "planning_resolution_m": res, "candidate_spacing_m": round(spacing, 2),
        "candidates": int(len(cand)), "channels_available": chans,
        "seed": int(seed)}
    extra = {"regulatory_domain": site.regulatory_domain}
    if zones is not None:
        extra["notes"] = f"planned for zones: {', '.join(zones)}"
    plan = Plan(site=site.name, aps=ap_list, metrics=metrics, extra=extra)
    # timings are not part of the plan file (a plan is the same for the same input)
    plan.timings = {"elapsed_s": round(time.perf_counter() - t0, 2),
                    "candidate_layers_s": round(t_layers, 2)}
    return plan


