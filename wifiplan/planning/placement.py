"""AP count and placement: candidate mount points, required points, set cover, local search.

The placement problem (DESIGN.md section 2, seed 8.1.3.2 and 8.1.3.5): choose ``n`` mount
points among candidates so that every required point (a zone point) has a best server that
reaches the zone's ``min_rssi_dbm`` with the lowest transmit power.

- **Required points** are the cells of a coarse grid (1-2 m) that lie inside a zone (or
  the outline when the site has none) and outside every obstacle footprint: a terminal
  cannot stand inside a machine or a rack.
- **Candidates** lie on a ceiling grid inside the outline, at least
  :data:`CANDIDATE_EDGE_CLEARANCE_M` from its edge, away from walls, outside obstacle
  footprints and outside ``no_mount`` areas.
- The gain of every candidate at every required point comes from the radio-map machinery
  (:func:`wifiplan.radio.radiomap.compute_radiomap`: received power at 0 dBm transmit power), so
  the power needed at a point by candidate ``c`` is ``req - gain[c]`` [dBm].
- **Count by coverage**: greedy set cover (Chvatal's rule: repeatedly take the candidate
  that covers most uncovered points) at the design power, then redundant sets removed, then
  local search tries to do with one AP fewer.
- **Placement for a count**: bisection on a common power gives a greedy cover of at most
  ``n`` sets; APs are added greedily up to ``n``; then a vertex-substitution local search
  (Teitz and Bart, 1968) moves each AP to a nearby candidate while the objective improves.
  The objective is the sum over APs of the power each needs to cover the points it serves
  best (the lowest power that does), with a penalty for points beyond the maximum power.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry import LineString, MultiLineString, Polygon
from shapely.ops import unary_union

from ..site import Site
from ..evaluation import RequiredPoints, required_points  # noqa: F401 (re-exported)

#: Small-cell design power [dBm] (conducted): the AP count by coverage is the number of
#: cells needed when every AP transmits at most this much. 12 dBm keeps >= 8 dB of headroom
#: below a small AP's 20 dBm for later tuning (phase 4) and for covering a failed neighbour,
#: and keeps cells small as the house rule asks (seed 8.1.3.5: low power, small cells).
DESIGN_TX_POWER_DBM = 12.0
CANDIDATE_EDGE_CLEARANCE_M = 1.5   # from the outline (less on very narrow sites)
WALL_CLEARANCE_M = 0.8
OBSTACLE_CLEARANCE_M = 0.3
INFEASIBLE_PENALTY = 1000.0     # objective weight [mW] per dB*point beyond the maximum power
REDUCE_MAX_APS = 40           # try one AP fewer only up to this count (time)
COVERAGE_ALLOWANCE = 0.005      # share of a zone's points that may stay uncovered when counting


# ---- the scale rule (seed 8.1.3.2) -----------------------------------------------------------

def scale_rule(terminals: int) -> tuple[int, str]:
    """Minimum cell count of the seed's scale rule (8.1.3.2) and its wording.

    - no terminals given: 1 (coverage decides);
    - 1 terminal: one cell;
    - 2-4 terminals: 2-3 cells on fixed channels: 2 for 2-3 terminals, 3 for 4;
    - 5 or more: many small cells: at least 3, then as many as coverage and capacity need
      (both grow linearly with area and terminals).
    """
    t = int(terminals)
    if t <= 0:
        return 1, "no terminals in the planned zones: coverage decides"
    if t == 1:
        return 1, "1 terminal: one cell (seed 8.1.3.2)"
    if t <= 4:
        n = 2 if t <= 3 else 3
        return n, f"{t} terminals: 2-3 cells on fixed channels (seed 8.1.3.2)"
    return 3, (f"{t} terminals: many small cells, as many as coverage and capacity need "
               f"(seed 8.1.3.2)")


# ---- candidates ---------------------------------------------------------------------------

def edge_clearance(site: Site) -> float:
    """Clearance [m] of mount points from the outline: 1.5 m, or a quarter of the narrower
    side of a small site."""
    minx, miny, maxx, maxy = site.bounds
    return float(min(CANDIDATE_EDGE_CLEARANCE_M, 0.25 * min(maxx - minx, maxy - miny)))


def mount_region(site: Site):
    """The admissible mount area: the outline shrunk by the edge clearance, minus walls
    (0.8 m either side), obstacle footprints (plus 0.3 m) and ``no_mount`` areas."""
    region = site.outline_polygon.buffer(-edge_clearance(site))
    blocked = []
    if site.walls:
        blocked.append(MultiLineString([LineString(w.points) for w in site.walls])
                       .buffer(WALL_CLEARANCE_M))
    blocked += [Polygon(np.asarray(o.polygon)[:, :2]).buffer(OBSTACLE_CLEARANCE_M)
                for o in site.obstacles]
    blocked += [Polygon(a.polygon) for a in site.no_mount]
    if blocked:
        region = region.difference(unary_union(blocked))
    return region


def candidate_points(site: Site, spacing_m: float, near_xy: np.ndarray | None = None,
                     reach_m: float | None = None) -> np.ndarray:
    """Admissible ceiling mount points on a grid of ``spacing_m`` [m], shape (n, 2).

    Inside the outline (at least 1.5 m from its edge), at least 0.8 m from every wall,
    outside obstacle footprints (plus 0.3 m) and outside ``no_mount`` areas. A grid point
    that falls in a blocked place (over a rack, on a wall) moves to the nearest admissible
    place within half a step, preferring 1 m inside it (so an aisle between racks gets its
    mount points down its middle). With ``near_xy`` and ``reach_m``, only candidates
    within ``reach_m`` of one of those points.
    """
    from scipy.spatial import cKDTree
    minx, miny, maxx, maxy = site.bounds
    # a grid on round figures (0.5 m), as an installer would measure it out
    spacing_m = max(0.5, round(spacing_m * 2) / 2)
    xs = np.arange(np.round((minx + spacing_m / 2) * 2) / 2, maxx, spacing_m)
    ys = np.arange(np.round((miny + spacing_m / 2) * 2) / 2, maxy, spacing_m)
    X, Y = np.meshgrid(xs, ys)
    x, y = X.ravel(), Y.ravel()
    region = mount_region(site)
    if region.is_empty:
        return np.zeros((0, 2))
    ok = shapely.contains_xy(region, x, y)
    pts = np.column_stack([x[ok], y[ok]])
    # move blocked grid points into the admissible area nearby
    bx, by = x[~ok], y[~ok]
    inside = site.inside_outline(bx, by)
    bx, by = bx[inside], by[inside]
    if len(bx):
        core = region.buffer(-1.0)
        moved = []
        for target in ([core] if not core.is_empty else []) + [region]:
            if len(bx) == 0:
                break
            lines = shapely.shortest_line(shapely.points(bx, by), target)
            ends = shapely.get_coordinates(lines).reshape(-1, 2, 2)[:, 1]
            ends = np.round(ends * 10) / 10                  # 0.1 m
            dist = np.hypot(ends[:, 0] - bx, ends[:, 1] - by)
            good = (dist <= spacing_m / 2) & shapely.contains_xy(region, ends[:, 0],
                                                                  ends[:, 1])
            moved.append(ends[good])
            bx, by = bx[~good], by[~good]
        moved = np.vstack(moved) if moved else np.zeros((0, 2))
        if len(pts) and len(moved):           # no two candidates closer than 0.4 step
            moved = moved[cKDTree(pts).query(moved)[0] >= 0.4 * spacing_m]
        keep = []
        for q in moved:
            if not keep or np.min(np.hypot(*(np.array(keep) - q).T)) >= 0.4 * spacing_m:
                keep.append(q)
        if keep:
            pts = np.vstack([pts, np.array(keep)])
    if near_xy is not None and reach_m is not None and len(pts) and len(near_xy):
        d, _ = cKDTree(near_xy).query(pts, k=1)
        pts = pts[d <= reach_m]
    return pts


def mount_ok(site: Site, x: float, y: float) -> bool:
    """True when (x, y) would be an admissible candidate (used to check hand moves)."""
    return len(candidate_points_at(site, np.array([[x, y]]))) == 1


def candidate_points_at(site: Site, xy: np.ndarray) -> np.ndarray:
    outline = site.outline_polygon
    x, y = xy[:, 0], xy[:, 1]
    ok = shapely.contains_xy(outline.buffer(-edge_clearance(site)), x, y)
    for o in site.obstacles:
        ok &= ~shapely.contains_xy(Polygon(np.asarray(o.polygon)[:, :2])
                                   .buffer(OBSTACLE_CLEARANCE_M), x, y)
    for a in site.no_mount:
        ok &= ~shapely.contains_xy(Polygon(a.polygon), x, y)
    return xy[ok]


# ---- set cover and local search -----------------------------------------------------------

@dataclass
class CoverProblem:
    """Gains of every candidate (and every fixed AP) at the required points.

    ``gain`` (n_cand, n_pts) [dB] received power at 0 dBm; rows ``fixed`` are locked APs.
    ``p_min``/``p_max`` [dBm] transmit power limits. ``zone`` (n_pts) groups the points
    for the allowance: in each zone up to ``allow_share`` of the points (the ones the
    greedy cover leaves for last: shadows behind machines) may stay uncovered when
    counting cells, so that a few square metres behind a press do not cost an AP; they are
    measured and reported like every other point. ``active`` marks the points the
    objective requires: reachable from some candidate at ``p_max`` and not dropped.
    """
    gain: np.ndarray
    req: np.ndarray
    xy: np.ndarray
    fixed: np.ndarray
    p_min: float
    p_max: float
    neighbours: list = field(default_factory=list)
    zone: np.ndarray | None = None
    allow_share: float = 0.0

    def __post_init__(self):
        self.need = (self.req[None, :] - self.gain).astype(np.float32)   # power needed [dBm]
        self.best_need = self.need.min(0) if len(self.need) else np.full(len(self.req), np.inf)
        self.reachable = self.best_need <= self.p_max + 1e-6
        self.active = self.reachable.copy()
        self.dropped = np.zeros(len(self.req), bool)
        z = self.zone if self.zone is not None else np.zeros(len(self.req), int)
        self._zone = z - z.min() if len(z) else z
        nz = int(self._zone.max()) + 1 if len(z) else 0
        self._allow = np.floor(self.allow_share * np.bincount(self._zone, minlength=nz)
                               ).astype(int)

    def drop(self, mask: np.ndarray) -> None:
        """Leave the points in ``mask`` out of the objective (the allowance)."""
        self.dropped = mask & self.reachable
        self.active = self.reachable & ~self.dropped

    # -- objective --
    def powers(self, sel: list[int]) -> tuple[np.ndarray, np.ndarray, float]:
        """Per-AP power [dBm] needed for the active points each serves best, the
        assignment, and the shortfall of points beyond ``p_max`` [dB*points]."""
        need = self.need[sel][:, self.active]
        assign = need.argmin(0)
        d = need[assign, np.arange(need.shape[1])]
        p = np.full(len(sel), -np.inf)
        np.maximum.at(p, assign, d)
        excess = float(np.maximum(d - self.p_max, 0).sum())
        return p, assign, excess

    def objective(self, sel: list[int]) -> float:
        """Total transmit power [mW] of the APs, each at the power its cell needs (at least
        ``p_min``), plus a penalty for points beyond ``p_max``. Summing milliwatts rather
        than dB favours cells of even size, as a designer would."""
        m1, o1, _, _ = self._state(list(sel))
        return self._score(m1, o1, len(sel))

    # -- greedy cover --
    def greedy_cover(self, power_dbm: float, per_point_power: np.ndarray | None = None,
                     start: list[int] | None = None, allowance: bool = False) -> list[int]:
        """Greedy set cover of the active points when each AP transmits ``power_dbm``
        (or ``per_point_power`` per active point): Chvatal's rule, then redundant sets
        removed. With ``allowance``, stop once every zone's uncovered points are within its
        allowance; the points left are in ``self.last_uncovered`` (over all points)."""
        thr = per_point_power if per_point_power is not None else power_dbm
        cov = self.need[:, self.active] <= np.float32(thr) + np.float32(1e-6)
        zone = self._zone[self.active]
        sel = list(start if start is not None else self.fixed.tolist())
        uncovered = ~cov[sel].any(0) if sel else np.ones(cov.shape[1], bool)
        uncovered &= cov.any(0)
        covf = cov.astype(np.float32)
        counts = covf @ uncovered.astype(np.float32)      # updated as points get covered

        def done():
            if not uncovered.any():
                return True
            if not allowance:
                return False
            cnt = np.bincount(zone[uncovered], minlength=len(self._allow))
            return bool(np.all(cnt <= self._allow))
        while not done():
            counts[sel] = -1
            c = int(np.argmax(counts))
            if counts[c] <= 0:
                break
            sel.append(c)
            newly = uncovered & cov[c]
            uncovered &= ~cov[c]
            counts -= covf[:, newly].sum(1)
        fixed = set(self.fixed.tolist())
        cnt = cov[sel].sum(0)
        for i in sorted((i for i in sel if i not in fixed), key=lambda i: cov[i].sum()):
            if np.all(cnt[cov[i]] >= 2):          # every point of i is covered twice
                sel.remove(i)
                cnt -= cov[i]
        full = np.zeros(len(self.req), bool)
        full[np.nonzero(self.active)[0][uncovered]] = True
        self.last_uncovered = full
        return sel

    # -- incremental evaluation: best and second-best need per point over a selection --
    def _state(self, sel, cols=None):
        need = self.need[sel][:, self.active]
        if cols is not None:
            need = need[:, cols]
        if len(sel) >= 2:
            part = np.argpartition(need, 1, axis=0)[:2]
            v = np.take_along_axis(need, part, 0)
            swap = v[0] > v[1]
            o1 = np.where(swap, part[1], part[0])
            o2 = np.where(swap, part[0], part[1])
            m1 = np.minimum(v[0], v[1])
            m2 = np.maximum(v[0], v[1])
        else:
            o1 = np.zeros(need.shape[1], int)
            m1 = need[0] if len(sel) else np.full(need.shape[1], np.inf, np.float32)
            o2 = np.full(need.shape[1], -1)
            m2 = np.full(need.shape[1], np.inf, np.float32)
        return m1, o1, m2, o2

    def _score(self, d, owner, n_sel) -> float:
        p = np.full(n_sel, -np.inf)
        np.maximum.at(p, owner, d)
        excess = float(np.maximum(d - self.p_max, 0).sum())
        return float((10.0 ** (np.maximum(p, self.p_min) / 10.0)).sum()
                     + INFEASIBLE_PENALTY * excess)

    def add_greedily(self, sel: list[int], n: int) -> list[int]:
        """Add APs, each time the one that lowers the objective most, until ``n``."""
        sel = list(sel)
        free = np.setdiff1d(np.arange(len(self.gain)), np.r_[sel, self.fixed]).astype(int)
        act = self.active
        while len(sel) < n and len(free):
            if not act.any():
                # nothing to cover (no reachable point): spread the APs out
                if not sel:
                    mid = self.xy[free].mean(0)
                    c = int(free[np.argmin(np.hypot(*(self.xy[free] - mid).T))])
                else:
                    d = np.min(np.hypot(self.xy[free][:, None, 0] - self.xy[sel][None, :, 0],
                                        self.xy[free][:, None, 1] - self.xy[sel][None, :, 1]),
                               axis=1)
                    c = int(free[np.argmax(d)])
            elif not sel:
                c = int(free[np.argmin(self.need[free][:, act].max(1))])
            else:
                m1, o1, _, _ = self._state(sel)
                trial = free if len(free) <= 400 else free[:: math.ceil(len(free) / 400)]
                scores = []
                for c in trial:
                    nc = self.need[c, act]
                    take = nc < m1
                    scores.append(self._score(np.where(take, nc, m1),
                                              np.where(take, len(sel), o1), len(sel) + 1))
                c = int(trial[int(np.argmin(scores))])
            sel.append(c)
            free = free[free != c]
        return sel

    def local_search(self, sel: list[int], max_passes: int = 8) -> list[int]:
        """Vertex substitution: move each non-fixed AP to a neighbouring candidate while
        the objective improves (first improvement), until a pass changes nothing.

        A trial only re-evaluates the APs it touches: the moved AP, the APs that take over
        its points and the APs whose points the new position takes; the others keep their
        power, so a trial costs one vector pass over the points plus the touched cells."""
        from scipy import ndimage
        sel = list(sel)
        if not sel:
            return sel
        fixed = set(self.fixed.tolist())
        act = self.active
        n_sel = len(sel)

        state = [None]

        def setup(changed=None):
            if state[0] is None or changed is None:
                state[0] = self._state(sel)
            else:
                # only points where the moved AP was or becomes one of the two best change
                m1, o1, m2, o2 = state[0]
                k, nc = changed
                cols = np.nonzero((o1 == k) | (o2 == k) | (nc < m2))[0]
                if len(cols):
                    a1, b1, a2, b2 = self._state(sel, cols)
                    m1 = m1.copy()
                    o1 = o1.copy()
                    m2 = m2.copy()
                    o2 = o2.copy()
                    m1[cols], o1[cols], m2[cols], o2[cols] = a1, b1, a2, b2
                state[0] = (m1, o1, m2, o2)
            m1, o1, m2, o2 = state[0]
            p = ndimage.maximum(m1, o1, np.arange(n_sel)) if len(m1) else np.zeros(n_sel)
            p = np.where(np.isfinite(p), p, -np.inf)
            term = 10.0 ** (np.maximum(p, self.p_min) / 10.0)
            exc = np.maximum(m1 - self.p_max, 0)
            return m1, o1, m2, o2, term, exc
        m1, o1, m2, o2, term, exc = setup()
        total = float(term.sum() + INFEASIBLE_PENALTY * exc.sum())
        idx_all = np.arange(n_sel)
        for _ in range(max_passes):
            improved = False
            for k in range(n_sel):
                if sel[k] in fixed:
                    continue
                ex = o1 == k
                excl = np.where(ex, m2, m1)
                excl_o = np.where(ex, o2, o1)
                chosen = set(sel)
                for c in self.neighbours[sel[k]]:
                    if c in chosen or c in fixed:
                        continue
                    nc = self.need[c, act]
                    take = nc < excl
                    touched = np.zeros(n_sel, bool)
                    touched[k] = True
                    touched[o1[take]] = True
                    touched[excl_o[ex & ~take]] = True
                    r = touched[o1]
                    d = np.where(take[r], nc[r], excl[r])
                    own = np.where(take[r], k, excl_o[r])
                    t_idx = idx_all[touched]
                    pn = ndimage.maximum(d, own, t_idx) if len(d) else np.full(len(t_idx),
                                                                                 -np.inf)
                    pn = np.where(np.isfinite(pn), np.asarray(pn, float), -np.inf)
                    new_terms = 10.0 ** (np.maximum(pn, self.p_min) / 10.0)
                    v = (total - term[touched].sum() + new_terms.sum()
                         + INFEASIBLE_PENALTY * (np.maximum(d - self.p_max, 0).sum()
                                                 - exc[r].sum()))
                    if v < total - 1e-9:
                        sel[k] = int(c)
                        improved = True
                        m1, o1, m2, o2, term, exc = setup((k, nc))
                        total = float(term.sum() + INFEASIBLE_PENALTY * exc.sum())
                        break
            if not improved:
                break
        return sel

    def place(self, n: int) -> list[int]:
        """Place ``n`` APs (fixed ones included): the smallest common power whose greedy
        cover fits in ``n`` sets, filled up to ``n``, then local search."""
        lo, hi = int(math.floor(self.p_min)), int(math.ceil(self.p_max))
        best_sel = None
        while lo <= hi:
            mid = (lo + hi) // 2
            s = self.greedy_cover(float(mid))
            if len(s) <= n:
                best_sel, hi = s, mid - 1
            else:
                lo = mid + 1
        if best_sel is None:
            best_sel = list(dict.fromkeys(list(self.fixed.tolist())
                                          + self.greedy_cover(self.p_max)))[:n]
        sel = self.add_greedily(best_sel, n)
        return self.local_search(sel)

    def coverage_count(self, design_power_dbm: float) -> tuple[int, list[int]]:
        """APs needed to cover the points at ``design_power_dbm`` (points only reachable
        with more power are covered at ``p_max``), within the allowance: greedy cover, the
        points it leaves are dropped from the objective, then local search, then tries with
        one AP fewer while every AP still needs at most the design power."""
        thr_full = np.where(self.best_need <= design_power_dbm, design_power_dbm, self.p_max)
        sel = self.greedy_cover(design_power_dbm, per_point_power=thr_full[self.active],
                                allowance=True)
        self.drop(self.last_uncovered)
        sel = self.local_search(sel, max_passes=4)
        for _ in range(1 if len(sel) <= REDUCE_MAX_APS else 0):
            if len(sel) <= max(1, len(self.fixed)):
                break
            trial = self.place(len(sel) - 1)
            if self._fits(trial, thr_full):
                sel = trial
            else:
                break
        return len(sel), sel

    def _fits(self, sel, thr_full) -> bool:
        need = self.need[sel][:, self.active].min(0)
        return bool(np.all(need <= thr_full[self.active] + 1e-6))


def build_neighbours(xy: np.ndarray, radius_m: float) -> list[np.ndarray]:
    """For each candidate, the other candidates within ``radius_m``, nearest first."""
    from scipy.spatial import cKDTree
    if len(xy) == 0:
        return []
    tree = cKDTree(xy)
    out = []
    for i, nb in enumerate(tree.query_ball_point(xy, radius_m)):
        nb = np.array([j for j in nb if j != i], int)
        d = np.hypot(*(xy[nb] - xy[i]).T) if len(nb) else np.zeros(0)
        out.append(nb[np.argsort(d, kind="stable")])
    return out
