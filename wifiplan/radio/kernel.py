"""Fast penetration kernels, equal to the brute-force reference.

The reference (:func:`wifiplan.radio.geometry.penetration_reference`) tests every wall and every
obstacle against every point with the scalar predicates :func:`~wifiplan.radio.geometry.wall_hits`
and :func:`~wifiplan.radio.geometry.obstacle_blocks`. The kernels here give the same answer
(to the rounding of the final sum) at a fraction of the cost.

Grid kernel (:func:`penetration_grid_fast`), per AP:

- For one AP the *shadow region* of a wall (the points whose path from the AP crosses it) is
  convex: the wedge between the rays from the AP through the wall's end points, beyond the
  wall line. The *blocked region* of a convex obstacle footprint ``F`` is convex too: with
  ``t*`` the path parameter where the descending (or ascending) 3-D path meets the obstacle's
  top, it is the union of the homothetic copies ``A + lam (F - A)`` for ``lam`` in
  ``[lam_lo, lam_hi]``, i.e. the tangent wedge from the AP cut by ``F``'s front-facing edges
  scaled by ``lam_lo`` and its back-facing edges scaled by ``lam_hi``.
- A convex region meets a grid row in one interval. The intervals of all (region, row) pairs
  are computed at once with numpy and added to a per-row difference array
  (``np.bincount`` + ``cumsum``): O(regions x rows + points) instead of O(regions x points).
- Exactness. In floating point the predicates only disagree with exact geometry for points
  within a tiny band (``BAND_REL`` times the coordinate scale, plus the rounding of the
  height threshold) around the *critical lines* where one of their comparisons flips: the
  region's boundary lines, the footprint's edges, the rays from the AP through every vertex.
  Every grid point inside such a band is re-evaluated with the SAME predicate (a batched,
  operation-for-operation copy for obstacles) and corrected. Points outside every band are
  classified by the interval, which is then exact.
- Degenerate cases are sent to the predicate itself on the whole grid: an AP within
  ``NEAR_REL`` times the scale of a wall's line (unless exactly on it, when the wall is never
  crossed), an AP on or next to an obstacle footprint, heights that put the obstacle's top
  within rounding of the AP or client height. Non-convex footprints use their convex hull's
  region (a superset) and evaluate the predicate on every point in it.

Point kernel (:func:`penetration_points_fast`), per AP: points sorted by angle around the AP;
a wall (an obstacle) can only be crossed by paths whose direction lies inside the angular
sector it spans, so the predicate is evaluated on the points of that sector only.
"""
from __future__ import annotations

import numpy as np

from .geometry import obstacle_blocks, penetration_reference, wall_hits

EPS = float(np.finfo(float).eps)
BAND_REL = 1e-8          # half-width of the re-evaluation band around critical lines, x scale
NEAR_REL = 1e-6          # an AP this close (x scale) to a wall line / footprint: brute force
HEIGHT_ETA_MAX = 1e-6    # height threshold too ill-conditioned beyond this: brute force
LAMBDA_ETA_MAX = 1e-3
ANGLE_PAD = 1e-8         # [rad] padding of the angular sectors of the point kernel


# --------------------------------------------------------------------------------------
# Geometry preparation (cached on the Geometry object)
# --------------------------------------------------------------------------------------


def _clean_ring(poly: np.ndarray) -> np.ndarray:
    """Vertices without consecutive duplicates or a closing duplicate, counter-clockwise."""
    p = np.asarray(poly, float)[:, :2]
    keep = np.ones(len(p), bool)
    keep[1:] = np.any(p[1:] != p[:-1], axis=1)
    p = p[keep]
    while len(p) > 1 and np.all(p[0] == p[-1]):
        p = p[:-1]
    if len(p) >= 3:
        x, y = p[:, 0], p[:, 1]
        area2 = np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y)
        if area2 < 0:
            p = p[::-1]
    return p


def _convex_hull(p: np.ndarray) -> np.ndarray:
    """Counter-clockwise convex hull (Andrew's monotone chain) of the vertices ``p``."""
    pts = sorted(set(map(tuple, p.tolist())))
    if len(pts) < 3:
        return np.array(pts, float)

    def cross(o, a, b):
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower, upper = [], []
    for q in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], q) <= 0:
            lower.pop()
        lower.append(q)
    for q in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], q) <= 0:
            upper.pop()
        upper.append(q)
    return np.array(lower[:-1] + upper[:-1], float)


def _is_convex_ccw(p: np.ndarray) -> bool:
    if len(p) < 3:
        return False
    e = np.roll(p, -1, axis=0) - p
    ep = np.roll(e, 1, axis=0)
    cr = ep[:, 0] * e[:, 1] - ep[:, 1] * e[:, 0]
    dot = ep[:, 0] * e[:, 0] + ep[:, 1] * e[:, 1]
    # strictly convex or straight-on vertices; a straight vertex that turns back is not convex
    return bool(np.all((cr > 0) | ((cr == 0) & (dot > 0))))


class _Prep:
    """Arrays derived from a Geometry once, reused for every AP."""

    def __init__(self, geom):
        seg = np.asarray(geom.seg, float).reshape(-1, 4)
        self.x1, self.y1, self.x2, self.y2 = (seg[:, i].copy() for i in range(4))
        self.closed = np.asarray(geom.seg_end_closed, bool).reshape(-1)
        self.ex = self.x2 - self.x1
        self.ey = self.y2 - self.y1
        self.elen = np.hypot(self.ex, self.ey)
        polys = [np.asarray(p, float)[:, :2] for p in geom.obs_poly]
        self.n_obs = len(polys)
        coords = [np.abs(seg).max() if len(seg) else 0.0]
        coords += [np.abs(p).max() for p in polys if len(p)]
        self.geo_scale = float(max(coords)) if coords else 0.0
        self.top = np.asarray(geom.obs_top_m, float).reshape(-1)
        n_obs = self.n_obs
        # predicate arrays: the original vertex order, edges j -> (j + 1) % n, padded with
        # zero-length edges (which the predicate ignores: denominator 0, no y crossing)
        kp = max([len(p) for p in polys] + [1])
        self.kp = kp
        PX1 = np.zeros((n_obs, kp))
        PY1 = np.zeros((n_obs, kp))
        PX2 = np.zeros((n_obs, kp))
        PY2 = np.zeros((n_obs, kp))
        for o, p in enumerate(polys):
            n = len(p)
            if n == 0:
                continue
            q = np.vstack([p, np.repeat(p[-1:], kp - n, axis=0)])
            PX1[o], PY1[o] = q[:, 0], q[:, 1]
            nxt = np.roll(q, -1, axis=0)
            PX2[o], PY2[o] = nxt[:, 0], nxt[:, 1]
        self.PX1, self.PY1, self.PX2, self.PY2 = PX1, PY1, PX2, PY2
        self.PEX = PX2 - PX1
        self.PEY = PY2 - PY1
        # region polygons: cleaned, counter-clockwise; the convex hull when not convex
        rings, hulls, convex, bad = [], [], np.zeros(n_obs, bool), np.zeros(n_obs, bool)
        for o, p in enumerate(polys):
            r = _clean_ring(p)
            rings.append(r)
            if len(r) < 3:
                bad[o] = True
                hulls.append(r)
                continue
            convex[o] = _is_convex_ccw(r)
            h = r if convex[o] else _convex_hull(r)
            if len(h) < 3:
                bad[o] = True
            hulls.append(h)
        self.convex = convex
        k = max([len(h) for h in hulls] + [1])
        kf = max([len(r) for r in rings] + [1])
        self.k = k
        VX = np.zeros((n_obs, k))
        VY = np.zeros((n_obs, k))
        VM = np.zeros((n_obs, k), bool)
        NXT = np.zeros((n_obs, k), int)
        for o, h in enumerate(hulls):
            n = len(h)
            if n == 0:
                continue
            VX[o, :n], VY[o, :n] = h[:, 0], h[:, 1]
            VX[o, n:], VY[o, n:] = h[-1, 0], h[-1, 1]
            VM[o, :n] = True
            NXT[o, :n] = (np.arange(n) + 1) % n
            NXT[o, n:] = np.arange(n, k)
        self.VX, self.VY, self.VM = VX, VY, VM
        EX = np.take_along_axis(VX, NXT, 1) - VX
        EY = np.take_along_axis(VY, NXT, 1) - VY
        L = np.hypot(EX, EY)
        small = VM & (L <= 0)
        bad |= small.any(1)
        Ls = np.where(L > 0, L, 1.0)
        self.NX = np.where(VM, EY / Ls, 0.0)       # outward unit normals (CCW ring)
        self.NY = np.where(VM, -EX / Ls, 0.0)
        self.C = self.NX * VX + self.NY * VY        # n . V on the edge
        self.elen_o = np.where(VM, L, np.inf)
        self.PREV = np.zeros((n_obs, k), int)           # index of the edge ending at vertex j
        for o, h in enumerate(hulls):
            n = len(h)
            if n:
                self.PREV[o, :n] = (np.arange(n) - 1) % n
                self.PREV[o, n:] = np.arange(n, k)
        # footprint edges (for the distance of the AP to the footprint)
        FX1 = np.zeros((n_obs, kf))
        FY1 = np.zeros((n_obs, kf))
        FX2 = np.zeros((n_obs, kf))
        FY2 = np.zeros((n_obs, kf))
        FM = np.zeros((n_obs, kf), bool)
        for o, r in enumerate(rings):
            n = len(r)
            if n == 0:
                continue
            FX1[o, :n], FY1[o, :n] = r[:, 0], r[:, 1]
            nx_ = np.roll(r, -1, axis=0)
            FX2[o, :n], FY2[o, :n] = nx_[:, 0], nx_[:, 1]
            FM[o, :n] = True
        self.FX1, self.FY1, self.FX2, self.FY2, self.FM = FX1, FY1, FX2, FY2, FM
        self.min_edge = np.where(VM, L, np.inf).min(1) if n_obs else np.zeros(0)
        self.bad = bad
        self.polys = polys
        self.tiny = (_tiny(self.PEX, self.PEY).any(1) | _tiny(EX, EY).any(1)
                     if n_obs else np.zeros(0, bool))


def _fingerprint(geom):
    """Identity of the geometry arrays the preparation depends on (not the losses)."""
    seg = np.asarray(geom.seg, float)
    top = np.asarray(geom.obs_top_m, float)
    return (id(geom.seg), seg.shape, float(seg.sum()) if seg.size else 0.0,
            id(geom.seg_end_closed), id(geom.obs_poly), tuple(map(id, geom.obs_poly)),
            id(geom.obs_top_m), float(top.sum()) if top.size else 0.0)


def prepare(geom) -> None:
    """Derive (and cache on ``geom``) the arrays every kernel call needs, once: so that
    threads computing chunks of APs share them."""
    _prep(geom)


def _prep(geom) -> _Prep:
    fp = _fingerprint(geom)
    cached = getattr(geom, "_kernel_prep", None)
    if cached is not None and cached[0] == fp:
        return cached[1]
    p = _Prep(geom)
    try:
        object.__setattr__(geom, "_kernel_prep", (fp, p))
    except (AttributeError, TypeError):  # pragma: no cover - slotted or frozen geometry
        pass
    return p


# --------------------------------------------------------------------------------------
# Batched copies of the predicates (operation for operation, so bit for bit)
# --------------------------------------------------------------------------------------


def _inside_batch(prep: _Prep, own, px, py):
    """``_inside_polygon`` of obstacle ``own[i]`` at point i (same arithmetic)."""
    inside = np.zeros(px.shape, bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        for j in range(prep.kp):
            x1 = prep.PX1[own, j]
            y1 = prep.PY1[own, j]
            x2 = prep.PX2[own, j]
            y2 = prep.PY2[own, j]
            cond = (y1 > py) != (y2 > py)
            xc = (x2 - x1) * (py - y1) / (y2 - y1) + x1
            inside ^= cond & (px < xc)
    return inside


def _obstacle_blocks_batch(prep: _Prep, ax, ay, ah, ch, own, px, py, in_a):
    """``obstacle_blocks`` of obstacle ``own[i]`` at point i (same arithmetic)."""
    px = np.asarray(px, float)
    py = np.asarray(py, float)
    t_max = np.full(px.shape, -np.inf)
    t_min = np.full(px.shape, np.inf)
    dx = px - ax
    dy = py - ay
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for j in range(prep.kp):
            ex = prep.PEX[own, j]
            ey = prep.PEY[own, j]
            wx = prep.PX1[own, j] - ax
            wy = prep.PY1[own, j] - ay
            denom = dx * ey - dy * ex
            nz = denom != 0
            dd = np.where(nz, denom, 1.0)
            t = np.where(nz, (wx * ey - wy * ex) / dd, np.nan)
            s = np.where(nz, (wx * dy - wy * dx) / dd, np.nan)
            ok = nz & (t >= 0) & (t <= 1) & (s >= 0) & (s <= 1)
            t_max = np.where(ok, np.maximum(t_max, t), t_max)
            t_min = np.where(ok, np.minimum(t_min, t), t_min)
    in_p = _inside_batch(prep, own, px, py)
    ia = np.asarray(in_a, bool)
    t_hi = np.where(in_p, 1.0, t_max)
    t_lo = np.where(ia, 0.0, t_min)
    any_in = in_p | ia | np.isfinite(t_max)
    t_lo = np.where(np.isfinite(t_lo), t_lo, 0.0)
    t_hi = np.where(np.isfinite(t_hi), t_hi, 0.0)
    h_lo = ah + (ch - ah) * t_lo
    h_hi = ah + (ch - ah) * t_hi
    return any_in & (np.minimum(h_lo, h_hi) < prep.top[own])


def _ap_inside(prep: _Prep, ax, ay):
    """``_inside_polygon(poly, [ax], [ay])`` for every AP (rows) and obstacle (columns)."""
    ax = np.atleast_1d(np.asarray(ax, float))
    ay = np.atleast_1d(np.asarray(ay, float))
    n_obs = prep.n_obs
    own = np.tile(np.arange(n_obs), len(ax))
    res = _inside_batch(prep, own, np.repeat(ax, n_obs), np.repeat(ay, n_obs))
    return res.reshape(len(ax), n_obs)


# --------------------------------------------------------------------------------------
# Per-AP analysis shared by the kernels (arrays: APs x walls, APs x obstacles)
# --------------------------------------------------------------------------------------


def _seg_dist(px, py, x1, y1, x2, y2):
    ex = x2 - x1
    ey = y2 - y1
    ll = ex * ex + ey * ey
    with np.errstate(divide="ignore", invalid="ignore"):
        u = np.clip(((px - x1) * ex + (py - y1) * ey) / np.where(ll > 0, ll, 1.0), 0.0, 1.0)
    return np.hypot(x1 + u * ex - px, y1 + u * ey - py)


def _height_range(ah, ch, top):
    """lam_lo, lam_hi, relative uncertainty of lam_lo / lam_hi, status, for AP heights
    ``ah`` (n,) and obstacle tops ``top`` (O,): arrays (n, O).

    status: 0 never blocks, 1 regular, 2 degenerate (brute force)."""
    ah = np.atleast_1d(np.asarray(ah, float))[:, None]
    top = np.asarray(top, float).reshape(1, -1)
    shape = (ah.shape[0], top.shape[1])
    lo = np.ones(shape)
    hi = np.full(shape, np.inf)
    eta_lo = np.zeros(shape)
    eta_hi = np.zeros(shape)
    c = ch - ah
    mag = np.abs(ah) + abs(ch) + np.abs(top)
    with np.errstate(divide="ignore", invalid="ignore"):
        eta = 64.0 * EPS * mag / np.abs(c)
        ok_eta = eta <= HEIGHT_ETA_MAX
        # equal heights: the path is level, blocked when it is below the top
        eq = np.broadcast_to(c == 0, shape)
        status = np.where(eq, np.where(ah < top, 1, 0), 1)
        # descending: blocked where the path is in F beyond t* (lam <= 1 / t*)
        desc = np.broadcast_to(c < 0, shape)
        tstar = (ah - top) / (ah - ch)
        below = desc & (top < ah)
        status = np.where(below & ~ok_eta, 2, status)
        reg = below & ok_eta
        status = np.where(reg & (tstar >= 1 + eta), 0, status)
        reg &= tstar < 1 + eta
        status = np.where(reg & (tstar > 1 - eta), 2, status)
        reg &= tstar <= 1 - eta
        etl = eta / tstar
        status = np.where(reg & (etl > LAMBDA_ETA_MAX), 2, status)
        reg &= etl <= LAMBDA_ETA_MAX
        hi = np.where(reg, 1.0 / tstar, hi)
        eta_hi = np.where(reg, etl, 0.0)
        # ascending: blocked where the path is in F before t* (lam >= 1 / t*)
        asc = np.broadcast_to(c > 0, shape)
        tstar = (top - ah) / (ch - ah)
        status = np.where(asc & (top <= ah), 0, status)
        above = asc & (top > ah)
        status = np.where(above & ~ok_eta, 2, status)
        reg = above & ok_eta & (tstar < 1 + eta)
        status = np.where(reg & (tstar > 1 - eta), 2, status)
        reg &= tstar <= 1 - eta
        etl = eta / tstar
        status = np.where(reg & (etl > LAMBDA_ETA_MAX), 2, status)
        reg &= etl <= LAMBDA_ETA_MAX
        lo = np.where(reg, 1.0 / tstar, lo)
        eta_lo = np.where(reg, etl, 0.0)
    return lo, hi, eta_lo, eta_hi, status


TINY = 1e-150   # smaller non-zero differences may underflow in the predicates' products


def _tiny(*arrays):
    """True where any of the arrays holds a non-zero magnitude below TINY."""
    out = None
    for a in arrays:
        m = (a != 0) & (np.abs(a) < TINY)
        out = m if out is None else out | m
    return out


class _APWalls:
    """Classification of the walls for each AP: (ap, wall) pairs of the regular case and of
    the brute-force case; a wall whose line holds the AP exactly is never crossed."""

    def __init__(self, prep: _Prep, ax, ay, scale):
        ax = ax[:, None]
        ay = ay[:, None]
        wx = prep.x1 - ax
        wy = prep.y1 - ay
        tn = wx * prep.ey - wy * prep.ex
        near = NEAR_REL * scale
        active = tn != 0
        with np.errstate(divide="ignore", invalid="ignore"):
            dist = np.abs(tn) / np.where(prep.elen > 0, prep.elen, 1.0)
        brute = active & ((prep.elen < near) | (dist < near)
                          | _tiny(prep.ex, prep.ey, wx, wy, prep.x2 - ax, prep.y2 - ay))
        self.brute = np.nonzero(brute)
        self.general = np.nonzero(active & ~brute)
        self.tn = tn[self.general]


class _APObstacles:
    """Classification of the obstacles for each AP (arrays APs x obstacles)."""

    def __init__(self, prep: _Prep, ax, ay, ah, ch, scale):
        n_obs = prep.n_obs
        n = len(ax)
        self.in_a = _ap_inside(prep, ax, ay)
        lo, hi, eta_lo, eta_hi, status = _height_range(ah, ch, prep.top)
        near = NEAR_REL * scale
        X = ax[:, None, None]
        Y = ay[:, None, None]
        d = np.where(prep.FM, _seg_dist(X, Y, prep.FX1, prep.FY1, prep.FX2, prep.FY2),
                     np.inf).min(2) if n_obs else np.zeros((n, 0))
        nxt = _nxt(prep)
        dh = np.where(prep.VM, _seg_dist(X, Y, prep.VX, prep.VY,
                                         np.take_along_axis(prep.VX, nxt, 1),
                                         np.take_along_axis(prep.VY, nxt, 1)),
                      np.inf).min(2) if n_obs else np.zeros((n, 0))
        degenerate = (prep.bad | (np.minimum(d, dh) < near) | (prep.min_edge < near)
                      | prep.tiny)
        if n_obs:
            degenerate |= (_tiny(prep.PX1 - X, prep.PY1 - Y).any(2)
                           | _tiny(prep.VX - X, prep.VY - Y).any(2))
        status = np.where((status != 0) & degenerate, 2, status)
        self.lo, self.hi, self.eta_lo, self.eta_hi = lo, hi, eta_lo, eta_hi
        self.status = status
        self.brute = np.nonzero(status == 2)
        self.general = np.nonzero(status == 1)


def _nxt(prep: _Prep):
    nxt = getattr(prep, "_NXT", None)
    if nxt is None:
        k = prep.k
        n = prep.VM.sum(1)
        j = np.arange(k)[None, :]
        nxt = np.where(j < n[:, None], (j + 1) % np.maximum(n[:, None], 1), j)
        prep._NXT = nxt
    return nxt


# --------------------------------------------------------------------------------------
# Grid kernel
# --------------------------------------------------------------------------------------


class _Grid:
    def __init__(self, xs, ys):
        self.xs = xs
        self.ys = ys
        self.nx = len(xs)
        self.ny = len(ys)
        self.uniform = False
        if self.nx >= 2:
            h = (xs[-1] - xs[0]) / (self.nx - 1)
            if h > 0:
                ideal = xs[0] + h * np.arange(self.nx)
                if np.max(np.abs(ideal - xs)) <= 1e-9 * h:
                    self.uniform = True
                    self.x0 = float(xs[0])
                    self.h = float(h)

    def cols(self, xlo, xhi):
        """Column range [jlo, jhi] of the points with xlo <= x <= xhi (empty: jlo > jhi)."""
        if self.uniform:
            with np.errstate(invalid="ignore", over="ignore"):
                ulo = np.clip((xlo - self.x0) / self.h, -1.0, self.nx + 1.0)
                uhi = np.clip((xhi - self.x0) / self.h, -2.0, self.nx + 1.0)
            jlo = np.maximum(np.ceil(ulo), 0).astype(np.int64)
            jhi = np.minimum(np.floor(uhi), self.nx - 1).astype(np.int64)
            return jlo, jhi
        jlo = np.searchsorted(self.xs, xlo, "left")
        jhi = np.searchsorted(self.xs, xhi, "right") - 1
        return jlo.astype(np.int64), jhi.astype(np.int64)

    def rows(self, ylo, yhi):
        """Row range [i0, i1] of ys (ascending) inside [ylo, yhi]."""
        i0 = np.searchsorted(self.ys, ylo, "left")
        i1 = np.searchsorted(self.ys, yhi, "right") - 1
        return i0.astype(np.int64), i1.astype(np.int64)


def _expand(counts):
    """For ragged groups of sizes ``counts``: group id and index inside the group."""
    counts = np.asarray(counts, np.int64)
    total = int(counts.sum())
    gid = np.repeat(np.arange(len(counts)), counts)
    start = np.cumsum(counts) - counts
    return gid, np.arange(total) - start[gid], start


class _Batch:
    """Convex regions with their constraint and critical lines, and the grid rows they span.

    cons: (R, K) arrays a, b, c of the constraint lines a x + b y + c <= 0 (unit normals;
    a = b = 0, c = -1 for none). crit: ragged critical lines (owner region, a, b, c, band
    half-width, ylo, yhi, xlo, xhi): a grid point within the band of a line and inside the
    box [xlo, xhi] x [ylo, yhi] (the part of the line where a predicate can flip) is
    re-evaluated with the exact predicate. enum: regions whose every point is
    re-evaluated (hulls of non-convex footprints).
    """

    def __init__(self, grid, loss, i0, i1, cons, crit, enumerate_all):
        self.grid = grid
        self.loss = loss
        self.i0 = i0
        self.i1 = i1
        self.cons = cons
        self.crit = crit
        self.enum = enumerate_all

    def _intervals(self):
        """Per (region, row) pair: region, row, pair start per region, first/last column."""
        g = self.grid
        counts = np.maximum(self.i1 - self.i0 + 1, 0)
        total = int(counts.sum())
        start = np.cumsum(counts) - counts
        reg = np.repeat(np.arange(len(counts)), counts)
        rows = np.repeat(self.i0 - start, counts) + np.arange(total)
        y = g.ys[rows]
        ca, cb, cc = self.cons
        R, K = ca.shape
        # constraint k as a bound on x: x >= aL y + bL (a < 0) or x <= aU y + bU (a > 0),
        # in column units on a uniform grid; horizontal ones (a == 0) bound y
        ylo_r = np.full(R, -np.inf)
        yhi_r = np.full(R, np.inf)
        lower = np.full(total, -np.inf)
        upper = np.full(total, np.inf)
        x0, h = (g.x0, g.h) if g.uniform else (0.0, 1.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            for k in range(K):
                a, b, c = ca[:, k], cb[:, k], cc[:, k]
                nz = a != 0
                inv = 1.0 / np.where(nz, a, 1.0)
                al = -b * inv / h
                be = (-c * inv - x0) / h
                isl = nz & (a < 0)
                isu = nz & (a > 0)
                if isl.any():
                    lower = np.maximum(lower, np.repeat(np.where(isl, al, 0.0), counts) * y
                                       + np.repeat(np.where(isl, be, -np.inf), counts))
                if isu.any():
                    upper = np.minimum(upper, np.repeat(np.where(isu, al, 0.0), counts) * y
                                       + np.repeat(np.where(isu, be, np.inf), counts))
                hz = ~nz & (b != 0)
                if hz.any():
                    yb = np.where(hz, -c / np.where(hz, b, 1.0), 0.0)
                    yhi_r = np.where(hz & (b > 0), np.minimum(yhi_r, yb), yhi_r)
                    ylo_r = np.where(hz & (b < 0), np.maximum(ylo_r, yb), ylo_r)
                bad = ~nz & (b == 0) & (c > 0)
                if bad.any():
                    yhi_r = np.where(bad, -np.inf, yhi_r)
        if g.uniform:
            jl = np.maximum(np.ceil(np.clip(lower, -1.0, g.nx + 1.0)), 0).astype(np.int64)
            jr = np.minimum(np.floor(np.clip(upper, -2.0, g.nx + 1.0)), g.nx - 1).astype(np.int64)
        else:
            jl, jr = g.cols(lower, upper)
        out = (y > np.repeat(yhi_r, counts)) | (y < np.repeat(ylo_r, counts))
        jr = np.where(out, -1, jr)
        # safety net: a pair whose bounds are not numbers is evaluated point by point
        bad = np.isnan(lower) | np.isnan(upper)
        if bad.any():
            jl = np.where(bad, 0, jl)
            jr = np.where(bad, g.nx - 1, jr)
        return reg, rows, start, jl, jr, bad

    def _windows(self):
        """(region, row, first col, last col) of the bands that contain grid points."""
        g = self.grid
        oa, la, lb, lc, lband, ylo, yhi, xlo, xhi = self.crit
        li0, li1 = g.rows(ylo, yhi)
        lj0, lj1 = g.cols(xlo, xhi)
        li0 = np.maximum(li0, self.i0[oa])
        li1 = np.minimum(li1, self.i1[oa])
        horiz = la == 0
        out = []
        # horizontal lines: whole rows within the band
        if horiz.any():
            h = np.nonzero(horiz & (lb != 0))[0]
            y0 = -lc[h] / lb[h]
            hw = lband[h] / np.abs(lb[h])
            r0, r1 = g.rows(y0 - hw, y0 + hw)
            r0 = np.maximum(r0, li0[h])
            r1 = np.minimum(r1, li1[h])
            gid, off, _ = _expand(np.maximum(r1 - r0 + 1, 0))
            rr = r0[gid] + off
            out.append((oa[h][gid], rr, lj0[h][gid], lj1[h][gid]))
        s = np.nonzero(~horiz)[0]
        if len(s):
            cnt = np.maximum(li1[s] - li0[s] + 1, 0)
            total = int(cnt.sum())
            start = np.cumsum(cnt) - cnt
            rows = np.repeat(li0[s] - start, cnt) + np.arange(total)
            y = g.ys[rows]
            inv = 1.0 / la[s]
            x0, hx = (g.x0, g.h) if g.uniform else (0.0, 1.0)
            u = np.repeat(-lb[s] * inv / hx, cnt) * y + np.repeat((-lc[s] * inv - x0) / hx, cnt)
            m = np.repeat(lband[s] * np.abs(inv) / hx, cnt)
            nan = np.isnan(u) | np.isnan(m)
            if nan.any():
                u = np.where(nan, 0.5 * (g.nx - 1) if g.uniform else 0.0, u)
                m = np.where(nan, np.inf, m)
            if g.uniform:
                ulo = u - m
                f = np.floor(np.minimum(u + m, g.nx + 1.0))
                ok = (f >= ulo) & (f >= 0) & (ulo <= g.nx - 1)
                idx = np.nonzero(ok)[0]
                wl = np.maximum(np.ceil(ulo[idx]), 0).astype(np.int64)
                wr = np.minimum(f[idx], g.nx - 1).astype(np.int64)
            else:
                wl, wr = g.cols(u - m, u + m)
                idx = np.nonzero(wr >= wl)[0]
                wl, wr = wl[idx], wr[idx]
            line = s[np.searchsorted(start + cnt, idx, "right")]
            out.append((oa[line], rows[idx], np.maximum(wl, lj0[line]),
                        np.minimum(wr, lj1[line])))
        if not out:
            z = np.zeros(0, np.int64)
            return z, z, z, z
        res = tuple(np.concatenate([o[i] for o in out]) for i in range(4))
        ne = res[3] >= res[2]
        return tuple(r[ne] for r in res)

    def run(self):
        """Interval contributions (row, jl, jr, weight) and candidates (region, row, col,
        assigned)."""
        g = self.grid
        reg, rows, start, jl, jr, nanpair = self._intervals()
        wreg, wrow, wl, wr = self._windows()
        enum_pair = self.enum[reg] | nanpair
        pair_enum = enum_pair & (jr >= jl)
        if pair_enum.any():
            wl = np.concatenate([wl, jl[pair_enum]])
            wr = np.concatenate([wr, jr[pair_enum]])
            wreg = np.concatenate([wreg, reg[pair_enum]])
            wrow = np.concatenate([wrow, rows[pair_enum]])
        cid, coff, _ = _expand(wr - wl + 1)
        creg = wreg[cid]
        crow = wrow[cid]
        ccol = wl[cid] + coff
        if len(creg):
            key = np.unique((creg * g.ny + crow) * g.nx + ccol)
            ccol = key % g.nx
            crow = (key // g.nx) % g.ny
            creg = key // (g.nx * g.ny)
        pidx = start[creg] + (crow - self.i0[creg])
        assigned = (~enum_pair[pidx]) & (ccol >= jl[pidx]) & (ccol <= jr[pidx])
        keep = (jr >= jl) & ~enum_pair
        self.reg_of_rows = reg[keep]
        return ((rows[keep], jl[keep], jr[keep], self.loss[reg[keep]]),
                (creg, crow, ccol, assigned))


class _Acc:
    """Accumulates interval contributions, point corrections and dense layers for the
    APs of a chunk: rows are ``ap * ny + row``."""

    def __init__(self, n, ny, nx):
        self.n, self.ny, self.nx = n, ny, nx
        self.iv = []
        self.pts = []
        self.dense = []

    def intervals(self, rows, jl, jr, w):
        self.iv.append((rows, jl, jr, w))

    def points(self, rows, cols, w):
        self.pts.append((rows, cols, w))

    def add_dense(self, ap, arr):
        self.dense.append((ap, arr))

    def result(self):
        n, ny, nx = self.n, self.ny, self.nx
        nr = n * ny
        if self.iv:
            rows = np.concatenate([r for r, _, _, _ in self.iv])
            jl = np.concatenate([a for _, a, _, _ in self.iv])
            jr = np.concatenate([b for _, _, b, _ in self.iv])
            w = np.concatenate([c for _, _, _, c in self.iv])
            base = rows * (nx + 1)
            diff = np.bincount(np.concatenate([base + jl, base + jr + 1]),
                               weights=np.concatenate([w, -w]).astype(float),
                               minlength=nr * (nx + 1)).astype(float, copy=False)
            diff = diff.reshape(nr, nx + 1)
            np.cumsum(diff, axis=1, out=diff)       # in place, contiguous rows
            out = diff[:, :nx]
        else:
            out = np.zeros((nr, nx))
        if self.pts:
            rows = np.concatenate([r for r, _, _ in self.pts])
            cols = np.concatenate([c for _, c, _ in self.pts])
            w = np.concatenate([x for _, _, x in self.pts])
            np.add.at(out, (rows, cols), w)
        out = out.reshape(n, ny, nx)
        for ap, arr in self.dense:
            out[ap] += arr
        return out


def _norm_lines(a, b, c):
    n = np.hypot(a, b)
    ok = n > 0
    ns = np.where(ok, n, 1.0)
    return np.where(ok, a / ns, 0.0), np.where(ok, b / ns, 0.0), np.where(ok, c / ns, -1.0)


def _ray_extent(vy, ay, lam_max):
    """y-range of the ray points A + lam (V - A), lam in [1, lam_max] (lam_max may be inf)."""
    d = vy - ay
    with np.errstate(invalid="ignore"):
        far = np.where(np.isfinite(lam_max), ay + lam_max * d,
                       np.where(d > 0, np.inf, np.where(d < 0, -np.inf, vy)))
    far = np.where(d == 0, vy, far)
    return np.minimum(vy, far), np.maximum(vy, far)


def _wall_batch(prep, W: _APWalls, AX, AY, grid, loss, band):
    api, idx = W.general
    ax, ay = AX[api], AY[api]
    x1, y1, x2, y2 = prep.x1[idx], prep.y1[idx], prep.x2[idx], prep.y2[idx]
    ex, ey = prep.ex[idx], prep.ey[idx]
    sg = np.sign(W.tn)
    wx, wy = x1 - ax, y1 - ay
    ux, uy = x2 - ax, y2 - ay
    # wall line (beyond it), ray through the first end point, ray through the second one
    a1, b1, c1 = _norm_lines(-sg * ey, sg * ex, sg * (ey * x1 - ex * y1))
    a2, b2, c2 = _norm_lines(sg * wy, -sg * wx, -sg * (wy * ax - wx * ay))
    a3, b3, c3 = _norm_lines(-sg * uy, sg * ux, sg * (uy * ax - ux * ay))
    ca = np.stack([a1, a2, a3], 1)
    cb = np.stack([b1, b2, b3], 1)
    cc = np.stack([c1, c2, c3], 1)
    # rows: the shadow's y-extent
    inf = np.full(len(idx), np.inf)
    r1lo, r1hi = _ray_extent(y1, ay, inf)
    r2lo, r2hi = _ray_extent(y2, ay, inf)
    pad = 4 * band
    i0, i1 = grid.rows(np.minimum(r1lo, r2lo) - pad, np.maximum(r1hi, r2hi) + pad)
    R = len(idx)
    # critical lines: the wall line near the wall, the rays beyond the end points
    q1lo, q1hi = _ray_extent(x1, ax, inf)
    q2lo, q2hi = _ray_extent(x2, ax, inf)
    crit = (np.tile(np.arange(R), 3), ca.T.ravel(), cb.T.ravel(), cc.T.ravel(),
            np.full(3 * R, band),
            np.concatenate([np.minimum(y1, y2), r1lo, r2lo]) - pad,
            np.concatenate([np.maximum(y1, y2), r1hi, r2hi]) + pad,
            np.concatenate([np.minimum(x1, x2), q1lo, q2lo]) - pad,
            np.concatenate([np.maximum(x1, x2), q1hi, q2hi]) + pad)
    return _Batch(grid, loss[idx], i0, i1, (ca, cb, cc), crit, np.zeros(R, bool))


def _obstacle_batch(prep, B: _APObstacles, AX, AY, grid, loss, band, scale):
    api, idx = B.general
    R = len(idx)
    ax, ay = AX[api][:, None], AY[api][:, None]
    VX, VY, VM = prep.VX[idx], prep.VY[idx], prep.VM[idx]
    NX, NY, C = prep.NX[idx], prep.NY[idx], prep.C[idx]
    nxt = _nxt(prep)[idx]
    WX, WY = np.take_along_axis(VX, nxt, 1), np.take_along_axis(VY, nxt, 1)
    k = VX.shape[1]
    enum = ~prep.convex[idx]
    lo = np.where(enum, 1.0, B.lo[api, idx])
    hi = B.hi[api, idx]
    eta_lo = np.where(enum, 0.0, B.eta_lo[api, idx])
    eta_hi = B.eta_hi[api, idx]
    hif = np.isfinite(hi)
    hi_ = np.where(hif, hi, 0.0)[:, None]
    hif2 = hif[:, None]
    nA = NX * ax + NY * ay
    g = C - nA
    front = VM & (g < 0)
    back = VM & (g > 0)
    zero = VM & (g == 0)
    lam = np.where(front, lo[:, None], np.where(back, hi_, 0.0))
    eta = np.where(front, eta_lo[:, None], np.where(back, eta_hi[:, None], 0.0))
    ce = -nA - lam * g
    use_e = front | zero | (back & hif2)
    ea = np.where(use_e, NX, 0.0)
    eb = np.where(use_e, NY, 0.0)
    ec = np.where(use_e, ce, -1.0)
    eband = band + lam * 64 * EPS * scale + eta * lam * np.abs(g)
    # extent of the scaled edges A + lam' (E - A), lam' in lam (1 +- eta)
    lmin = lam * (1 - eta)
    lmax = lam * (1 + eta)
    ys4 = np.stack([ay + lmin * (VY - ay), ay + lmax * (VY - ay),
                    ay + lmin * (WY - ay), ay + lmax * (WY - ay)])
    e_lo = np.where(zero, -np.inf, ys4.min(0)) - 4 * eband
    e_hi = np.where(zero, np.inf, ys4.max(0)) + 4 * eband
    xs4 = np.stack([ax + lmin * (VX - ax), ax + lmax * (VX - ax),
                    ax + lmin * (WX - ax), ax + lmax * (WX - ax)])
    ex_lo = np.where(zero, -np.inf, xs4.min(0)) - 4 * eband
    ex_hi = np.where(zero, np.inf, xs4.max(0)) + 4 * eband
    # tangent rays through the vertices where the facing changes
    prev = prep.PREV[idx]
    gp = np.take_along_axis(g, prev, 1)
    s_t = np.where(VM & (gp > 0) & (g < 0), 1.0, np.where(VM & (gp < 0) & (g > 0), -1.0, 0.0))
    vx, vy = VX - ax, VY - ay
    ta, tb, tc = _norm_lines(-s_t * vy, s_t * vx, s_t * (vy * ax - vx * ay))
    tuse = s_t != 0
    ca = np.concatenate([ea, np.where(tuse, ta, 0.0)], 1)
    cb = np.concatenate([eb, np.where(tuse, tb, 0.0)], 1)
    cc = np.concatenate([ec, np.where(tuse, tc, -1.0)], 1)
    # critical lines: the constraints, the footprint edges, the rays through every vertex
    # (beyond the vertex, up to lam_hi), the lines through the AP parallel to edges nearly
    # in line with it
    ra, rb, rc = _norm_lines(-vy, vx, vy * ax - vx * ay)
    lam_far = np.where(hif, hi * (1 + eta_hi), np.inf)[:, None] * np.ones_like(VY)
    ry_lo, ry_hi = _ray_extent(VY, ay, lam_far)
    rx_lo, rx_hi = _ray_extent(VX, ax, lam_far)
    pad = 4 * band
    ry_lo, ry_hi = ry_lo - pad, ry_hi + pad
    rx_lo, rx_hi = rx_lo - pad, rx_hi + pad
    fy_lo = np.minimum(VY, WY) - pad
    fy_hi = np.maximum(VY, WY) + pad
    fx_lo = np.minimum(VX, WX) - pad
    fx_hi = np.maximum(VX, WX) + pad
    par = VM & (np.abs(g) < 4 * band)
    own = np.repeat(np.arange(R)[:, None], k, 1)
    full_lo = np.full_like(VY, -np.inf)
    full_hi = np.full_like(VY, np.inf)
    bnd = np.full_like(VY, band)
    parts = [(use_e, ea, eb, ec, eband, e_lo, e_hi, ex_lo, ex_hi),
             (tuse, ta, tb, tc, bnd, ry_lo, ry_hi, rx_lo, rx_hi),
             (VM, NX, NY, -C, bnd, fy_lo, fy_hi, fx_lo, fx_hi),
             (VM & ~tuse, ra, rb, rc, bnd, ry_lo, ry_hi, rx_lo, rx_hi),
             (par, NX, NY, -nA, 2 * bnd, full_lo, full_hi, full_lo, full_hi)]
    crit = tuple(np.concatenate([p[i][p[0]] if i else own[p[0]] for p in parts])
                 for i in range(9))
    # rows: bounding box of the union of A + lam (F - A), lam in [1, hi]
    inside = B.in_a[api, idx]
    rlo = np.where(VM, ry_lo, np.inf).min(1)
    rhi = np.where(VM, ry_hi, -np.inf).max(1)
    rlo = np.where(inside & ~hif, -np.inf, rlo)
    rhi = np.where(inside & ~hif, np.inf, rhi)
    epad = 4 * np.max(np.where(use_e, eband, band), axis=1)
    i0, i1 = grid.rows(np.minimum(rlo, np.where(use_e, e_lo, np.inf).min(1)) - epad,
                       np.maximum(rhi, np.where(use_e, e_hi, -np.inf).max(1)) + epad)
    return _Batch(grid, loss[idx], i0, i1, (ca, cb, cc), crit, enum)


def _scale_of(prep, xs, ys, AX, AY):
    vals = [prep.geo_scale, float(np.abs(AX).max()), float(np.abs(AY).max())]
    if len(xs):
        vals += [abs(xs[0]), abs(xs[-1])]
    if len(ys):
        vals += [abs(ys[0]), abs(ys[-1])]
    return 1.0 + max(vals)


PAIR_BUDGET = 2_000_000   # (region, row) pairs per chunk of APs: bounds the temporaries


def penetration_grid_fast(geom, ap_xyh, xs, ys, client_height_m):
    """Penetration loss [dB] on the grid ``ys`` x ``xs``, shape (len(ys), len(xs)).

    Equal to ``penetration_reference(geom, ap_xyh, X, Y, client_height_m)`` on the meshgrid
    (up to the rounding of the sum of the losses)."""
    return penetration_grids_fast(geom, [tuple(ap_xyh)], xs, ys, client_height_m)[0]


def penetration_grids_fast(geom, aps_xyh, xs, ys, client_height_m, image_heights=None):
    """Penetration loss [dB] of several APs (rows of ``aps_xyh``: x, y, height) on the grid
    ``ys`` x ``xs``, shape (n_aps, len(ys), len(xs)); each layer equals
    :func:`penetration_grid_fast` (APs are processed together to share the work).

    With ``image_heights`` (one per AP): a pair of such arrays, the second for the APs moved
    to those heights (the hall model's roof image); the walls are computed once."""
    return _grids(geom, aps_xyh, xs, ys, client_height_m, image_heights)


def _grids(geom, aps_xyh, xs, ys, client_height_m, image_heights):
    aps = np.asarray(aps_xyh, float).reshape(-1, 3)
    xs = np.asarray(xs, float).ravel()
    ys = np.asarray(ys, float).ravel()
    ox = oy = None
    if len(xs) > 1 and not np.all(np.diff(xs) > 0):
        ox = np.argsort(xs, kind="stable")
        xs = xs[ox]
    if len(ys) > 1 and not np.all(np.diff(ys) > 0):
        oy = np.argsort(ys, kind="stable")
        ys = ys[oy]
    hi = None if image_heights is None else np.asarray(image_heights, float).reshape(-1)
    n_out = 1 if hi is None else 2
    outs = None
    if len(aps) and len(xs) and len(ys):
        prep = _prep(geom)
        per_ap = max(1, (len(prep.x1) + prep.n_obs) * len(ys))
        step = max(1, int(PAIR_BUDGET // per_ap))
        for s in range(0, len(aps), step):
            r = _grid_sorted(geom, prep, aps[s:s + step], xs, ys, float(client_height_m),
                             None if hi is None else hi[s:s + step])
            r = (r,) if hi is None else r
            if s == 0 and step >= len(aps):
                outs = list(r)               # one chunk: its arrays are the result
                break
            if outs is None:
                outs = [np.zeros((len(aps), len(ys), len(xs))) for _ in range(n_out)]
            for o, v in zip(outs, r):
                o[s:s + step] = v
    if outs is None:
        outs = [np.zeros((len(aps), len(ys), len(xs))) for _ in range(n_out)]
    for i, out in enumerate(outs):
        if ox is not None:
            res = np.empty_like(out)
            res[:, :, ox] = out
            out = res
        if oy is not None:
            res = np.empty_like(out)
            res[:, oy, :] = out
            out = res
        outs[i] = out
    return outs[0] if hi is None else tuple(outs)


def _quiet(fn):
    """Run ``fn`` without overflow warnings: the predicates divide by tiny denominators on
    degenerate geometry, exactly as the reference does (the results are what they are)."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with np.errstate(over="ignore"):
            return fn(*args, **kwargs)
    return wrapper


@_quiet
def _grid_sorted(geom, prep, aps, xs, ys, ch, image_heights=None):
    """Penetration layers of the APs ``aps`` (x, y, height); with ``image_heights`` also the
    layers of the same APs at those heights (the walls, which do not depend on the height,
    are computed once for both)."""
    AX, AY, AH = aps[:, 0].copy(), aps[:, 1].copy(), aps[:, 2].copy()
    n, ny, nx = len(aps), len(ys), len(xs)
    scale = _scale_of(prep, xs, ys, AX, AY)
    if not np.isfinite(scale) or scale > 1e100:     # beyond any site: the reference itself
        X, Y = np.meshgrid(xs, ys)
        out = np.stack([penetration_reference(geom, a, X, Y, ch) for a in aps])
        if image_heights is None:
            return out
        return out, np.stack([penetration_reference(geom, (a[0], a[1], h), X, Y, ch)
                              for a, h in zip(aps, image_heights)])
    accs = [_Acc(n, ny, nx)] + ([] if image_heights is None else [_Acc(n, ny, nx)])
    band = BAND_REL * scale
    grid = _Grid(xs, ys)
    seg_loss = np.asarray(geom.seg_loss_db, float).reshape(-1)
    obs_loss = np.asarray(geom.obs_loss_db, float).reshape(-1)
    dense_xy = None

    def mesh():
        nonlocal dense_xy
        if dense_xy is None:
            dense_xy = np.meshgrid(xs, ys)
        return dense_xy

    # walls (the same for every AP height)
    if len(prep.x1):
        W = _APWalls(prep, AX, AY, scale)
        for a, k in zip(*W.brute):
            X, Y = mesh()
            hit = wall_hits(AX[a], AY[a], X, Y, prep.x1[k], prep.y1[k], prep.x2[k], prep.y2[k],
                            bool(prep.closed[k]))
            layer = np.where(hit, seg_loss[k], 0.0)
            for acc in accs:
                acc.add_dense(a, layer)
        if len(W.general[0]):
            api = W.general[0]
            batch = _wall_batch(prep, W, AX, AY, grid, seg_loss, band)
            (rows, jl, jr, w), (creg, crow, ccol, asg) = batch.run()
            for acc in accs:
                acc.intervals(api[batch.reg_of_rows] * ny + rows, jl, jr, w)
            if len(creg):
                k = W.general[1][creg]
                a = api[creg]
                hit = wall_hits(AX[a], AY[a], xs[ccol], ys[crow], prep.x1[k], prep.y1[k],
                                prep.x2[k], prep.y2[k], prep.closed[k])
                d = hit.astype(float) - asg
                nzm = d != 0
                for acc in accs:
                    acc.points((a * ny + crow)[nzm], ccol[nzm], (seg_loss[k] * d)[nzm])
    # obstacles, at each set of heights
    heights = [AH] + ([] if image_heights is None
                      else [np.asarray(image_heights, float).reshape(-1).copy()])
    for acc, AHk in zip(accs, heights):
        if prep.n_obs:
            _obstacles_into(acc, geom, prep, AX, AY, AHk, ch, xs, ys, grid, obs_loss, band,
                            scale, mesh)
    if image_heights is None:
        return accs[0].result()
    return accs[0].result(), accs[1].result()


def _obstacles_into(acc, geom, prep, AX, AY, AH, ch, xs, ys, grid, obs_loss, band, scale, mesh):
    ny = len(ys)
    B = _APObstacles(prep, AX, AY, AH, ch, scale)
    for a, k in zip(*B.brute):
        X, Y = mesh()
        with np.errstate(over="ignore"):
            hit = obstacle_blocks(AX[a], AY[a], AH[a], X, Y, ch, geom.obs_poly[k],
                                  prep.top[k])
        acc.add_dense(a, np.where(hit, obs_loss[k], 0.0))
    if len(B.general[0]):
        api = B.general[0]
        batch = _obstacle_batch(prep, B, AX, AY, grid, obs_loss, band, scale)
        (rows, jl, jr, w), (creg, crow, ccol, asg) = batch.run()
        acc.intervals(api[batch.reg_of_rows] * ny + rows, jl, jr, w)
        if len(creg):
            k = B.general[1][creg]
            a = api[creg]
            hit = _obstacle_blocks_batch(prep, AX[a], AY[a], AH[a], ch, k, xs[ccol],
                                         ys[crow], B.in_a[a, k])
            d = hit.astype(float) - asg
            nzm = d != 0
            acc.points((a * ny + crow)[nzm], ccol[nzm], (obs_loss[k] * d)[nzm])


# --------------------------------------------------------------------------------------
# Point kernel
# --------------------------------------------------------------------------------------


def _sector_ranges(sorted_ang, lo, hi):
    """Index ranges [s, e) of ``sorted_ang`` inside [lo, hi] (angles in [-pi, pi], may wrap)."""
    lo = np.asarray(lo, float)
    hi = np.asarray(hi, float)
    wrap_lo = lo < -np.pi
    wrap_hi = hi > np.pi
    s1 = np.searchsorted(sorted_ang, np.where(wrap_lo, -np.pi, lo), "left")
    e1 = np.searchsorted(sorted_ang, np.where(wrap_hi, np.pi, hi), "right")
    # the wrapped-around part
    s2 = np.where(wrap_lo, np.searchsorted(sorted_ang, lo + 2 * np.pi, "left"),
                  np.where(wrap_hi, 0, 0))
    e2 = np.where(wrap_lo, len(sorted_ang),
                  np.where(wrap_hi, np.searchsorted(sorted_ang, hi - 2 * np.pi, "right"), 0))
    return s1, e1, s2, e2


def _gather(order, owners, s1, e1, s2, e2, n_all, all_mask):
    """Concatenate the point indices of each owner's ranges (or all points)."""
    c1 = np.maximum(e1 - s1, 0)
    c2 = np.maximum(e2 - s2, 0)
    c1 = np.where(all_mask, n_all, c1)
    c2 = np.where(all_mask, 0, c2)
    g1, o1, _ = _expand(c1)
    g2, o2, _ = _expand(c2)
    p1 = np.where(all_mask[g1], o1, order[np.minimum(s1[g1] + o1, len(order) - 1)]
                  if len(order) else o1)
    p2 = order[s2[g2] + o2] if len(g2) else np.zeros(0, np.int64)
    return np.concatenate([owners[g1], owners[g2]]), np.concatenate([p1, p2])


@_quiet
def penetration_points_fast(geom, ap_xyh, px, py, client_height_m, by_material=False):
    """Penetration loss [dB] at arbitrary points (or, with ``by_material``, the number of
    crossings per material, shape (n_materials,) + px.shape): equal to the reference."""
    ax, ay, ah = (float(v) for v in ap_xyh)
    ch = float(client_height_m)
    px = np.asarray(px, float)
    py = np.asarray(py, float)
    shape = np.broadcast_shapes(px.shape, py.shape)
    x = np.broadcast_to(px, shape).ravel()
    y = np.broadcast_to(py, shape).ravel()
    N = len(x)
    n_mat = len(geom.materials)
    prep = _prep(geom)
    if by_material:
        cnt = np.zeros(n_mat * N)
    else:
        out = np.zeros(N)
    if N == 0:
        return (cnt.reshape((n_mat,) + shape) if by_material else out.reshape(shape))
    scale = 1.0 + max(prep.geo_scale, abs(ax), abs(ay), float(np.abs(x).max()),
                      float(np.abs(y).max()))
    near = NEAR_REL * scale
    dx = x - ax
    dy = y - ay
    ang = np.arctan2(dy, dx)
    r = np.hypot(dx, dy)
    close = r < near                          # directions unreliable: checked against all
    margin = 1e-9 * scale
    order = np.argsort(ang, kind="stable")
    order = order[~close[order]]
    sang = ang[order]
    closeidx = np.nonzero(close)[0]

    def add(own_mat, own_loss, pts, hit):
        if by_material:
            cnt[:] += np.bincount(own_mat[hit] * N + pts[hit], minlength=n_mat * N)
        else:
            out[:] += np.bincount(pts[hit], weights=own_loss[hit], minlength=N)

    # walls
    nw = len(prep.x1)
    if nw:
        wx = prep.x1 - ax
        wy = prep.y1 - ay
        tn = wx * prep.ey - wy * prep.ex
        ux = prep.x2 - ax
        uy = prep.y2 - ay
        active = np.nonzero(tn != 0)[0]
        if len(active):
            th1 = np.arctan2(wy[active], wx[active])
            th2 = np.arctan2(uy[active], ux[active])
            rel = np.angle(np.exp(1j * (th2 - th1)))
            span = np.abs(rel)
            lo = np.where(rel >= 0, th1, th1 + rel) - ANGLE_PAD
            hi = lo + span + 2 * ANGLE_PAD
            endn = np.minimum(np.hypot(wx[active], wy[active]), np.hypot(ux[active], uy[active]))
            all_mask = (span > np.pi - 1e-6) | (endn < near)
            s1, e1, s2, e2 = _sector_ranges(sang, lo, hi)
            own, pts = _gather(order, active, s1, e1, s2, e2, N, all_mask)
            if len(closeidx):
                own = np.concatenate([own, np.repeat(active[~all_mask], len(closeidx))])
                pts = np.concatenate([pts, np.tile(closeidx, int((~all_mask).sum()))])
            # a crossed wall lies between the AP and the point
            rlo = np.zeros(nw)
            rlo[active] = _seg_dist(ax, ay, prep.x1[active], prep.y1[active], prep.x2[active],
                                    prep.y2[active]) * (1 - 1e-9) - margin
            keep = r[pts] >= rlo[own]
            own, pts = own[keep], pts[keep]
            if len(own):
                hit = wall_hits(ax, ay, x[pts], y[pts], prep.x1[own], prep.y1[own],
                                prep.x2[own], prep.y2[own], prep.closed[own])
                add(np.asarray(geom.seg_mat)[own] if by_material else None,
                    np.asarray(geom.seg_loss_db, float)[own], pts, hit)
    # obstacles
    if prep.n_obs:
        in_a = _ap_inside(prep, ax, ay)[0]
        _, hi_all, _, eta_hi_all, status = (v[0] for v in _height_range(ah, ch, prep.top))
        active = np.nonzero(status != 0)[0]
        if len(active):
            VX, VY, VM = prep.VX[active], prep.VY[active], prep.VM[active]
            th = np.arctan2(VY - ay, VX - ax)
            rel = np.angle(np.exp(1j * (th - th[:, :1])))
            rel = np.where(VM, rel, np.nan)
            rmin = np.nanmin(rel, 1)
            rmax = np.nanmax(rel, 1)
            lo = th[:, 0] + rmin - ANGLE_PAD
            hi = th[:, 0] + rmax + ANGLE_PAD
            nxt = _nxt(prep)[active]
            dh = np.where(VM, _seg_dist(ax, ay, VX, VY, np.take_along_axis(VX, nxt, 1),
                                        np.take_along_axis(VY, nxt, 1)), np.inf).min(1)
            # inside the hull or next to it: every point
            hx_in = _inside_hull(VX, VY, VM, ax, ay)
            all_mask = hx_in | (dh < near) | (rmax - rmin > np.pi - 1e-6) | in_a[active]
            s1, e1, s2, e2 = _sector_ranges(sang, lo, hi)
            own, pts = _gather(order, active, s1, e1, s2, e2, N, all_mask)
            if len(closeidx):
                own = np.concatenate([own, np.repeat(active[~all_mask], len(closeidx))])
                pts = np.concatenate([pts, np.tile(closeidx, int((~all_mask).sum()))])
            # a blocked point lies beyond the footprint, and within lam_hi of it
            d_f = np.where(prep.FM[active], _seg_dist(ax, ay, prep.FX1[active], prep.FY1[active],
                                                      prep.FX2[active], prep.FY2[active]),
                           np.inf).min(1)
            d_far = np.where(VM, np.hypot(VX - ax, VY - ay), 0.0).max(1)
            reg = (status[active] == 1) & ~all_mask
            rlo = np.zeros(prep.n_obs)
            rhi = np.full(prep.n_obs, np.inf)
            rlo[active] = np.where(reg, d_f * (1 - 1e-9) - margin, 0.0)
            fin = reg & np.isfinite(hi_all[active])
            rhi[active] = np.where(fin, hi_all[active] * (1 + eta_hi_all[active] + 1e-9)
                                   * d_far + margin, np.inf)
            rp = r[pts]
            keep = (rp >= rlo[own]) & (rp <= rhi[own])
            own, pts = own[keep], pts[keep]
            if len(own):
                hit = _obstacle_blocks_batch(prep, ax, ay, ah, ch, own, x[pts], y[pts],
                                             in_a[own])
                add(np.asarray(geom.obs_mat)[own] if by_material else None,
                    np.asarray(geom.obs_loss_db, float)[own], pts, hit)
    if by_material:
        return cnt.reshape((n_mat,) + shape)
    return out.reshape(shape)


def _inside_hull(VX, VY, VM, ax, ay):
    """AP inside (or on) the convex counter-clockwise ring: no edge has it strictly outside."""
    n = VM.sum(1)
    j = np.arange(VX.shape[1])[None, :]
    nxt = np.where(j < n[:, None], (j + 1) % np.maximum(n[:, None], 1), j)
    ex = np.take_along_axis(VX, nxt, 1) - VX
    ey = np.take_along_axis(VY, nxt, 1) - VY
    cr = ex * (ay - VY) - ey * (ax - VX)
    return ~np.any(VM & (cr < 0), axis=1)
