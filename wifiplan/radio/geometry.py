"""The walls and obstacles a path crosses: the penetration rule of every kernel.

- **Walls.** The straight 2-D path from the AP to the point, parameter ``t`` in (0, 1], and
  the wall segment, parameter ``s`` in [0, 1]: the wall is crossed when they meet at one
  point with ``0 < t <= 1`` and ``0 <= s <= 1``. So a point *on* a wall is behind it, an AP
  on a wall does not see that wall, a path that runs along a wall (collinear) does not
  cross it, and a path through a wall's end point crosses it. Inside a polyline the shared
  corner belongs to the later segment only (``s < 1`` on every segment but the last), so a
  path through a polyline's corner is counted once.
- **Obstacles.** The 3-D path descends linearly from the AP height to the client height.
  An obstacle adds its loss once when the path is inside its footprint (closed polygon) at
  some place where the path is lower than the obstacle's top. The lowest place inside the
  footprint is where the path leaves it (or the point itself when the point is inside), so
  a ceiling AP sees over a 2 m machine next to it while a 6 m rack blocks.

:class:`Geometry` holds a site's walls and obstacles in arrays; :func:`penetration_reference`
is the plain brute force that the fast kernels (:mod:`wifiplan.radio.kernel`) are tested against.
This module knows nothing of the site model beyond the attributes ``Geometry.from_site``
reads.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Geometry:
    """Walls as segments and obstacles as polygons, in arrays for the kernels.

    seg: (N, 4) x1, y1, x2, y2 [m]; seg_loss_db: (N,); seg_mat: (N,) index into
    ``materials``; seg_end_closed: (N,) False for a polyline segment whose end point belongs
    to the next segment. obs_poly: list of (k, 2) arrays; obs_top_m, obs_loss_db, obs_mat: (M,).
    """
    seg: np.ndarray
    seg_loss_db: np.ndarray
    seg_mat: np.ndarray
    seg_end_closed: np.ndarray
    obs_poly: list
    obs_top_m: np.ndarray
    obs_loss_db: np.ndarray
    obs_mat: np.ndarray
    materials: list[str]

    @classmethod
    def from_site(cls, site, material_losses: dict[str, float] | None = None) -> "Geometry":
        losses = material_losses if material_losses is not None else site.material_losses()
        names = sorted(set([w.material for w in site.walls] + [o.material for o in site.obstacles]))
        idx = {n: i for i, n in enumerate(names)}
        seg, mat, closed = [], [], []
        for w in site.walls:
            p = np.asarray(w.points, float)
            for j in range(len(p) - 1):
                seg.append([p[j, 0], p[j, 1], p[j + 1, 0], p[j + 1, 1]])
                mat.append(idx[w.material])
                closed.append(j == len(p) - 2)
        seg_a = np.array(seg, float).reshape(-1, 4)
        mat_a = np.array(mat, dtype=np.int64)
        loss_tab = np.array([losses[n] for n in names], float)
        return cls(seg=seg_a, seg_loss_db=loss_tab[mat_a] if len(mat_a) else np.zeros(0),
                   seg_mat=mat_a, seg_end_closed=np.array(closed, bool),
                   obs_poly=[np.asarray(o.polygon, float)[:, :2] for o in site.obstacles],
                   obs_top_m=np.array([o.height_m for o in site.obstacles], float),
                   obs_loss_db=np.array([losses[o.material] for o in site.obstacles], float),
                   obs_mat=np.array([idx[o.material] for o in site.obstacles], dtype=np.int64),
                   materials=names)

    def with_losses(self, material_losses: dict[str, float]) -> "Geometry":
        tab = np.array([material_losses[n] for n in self.materials], float)
        return Geometry(self.seg, tab[self.seg_mat] if len(self.seg_mat) else self.seg_loss_db,
                        self.seg_mat, self.seg_end_closed, self.obs_poly, self.obs_top_m,
                        tab[self.obs_mat] if len(self.obs_mat) else self.obs_loss_db,
                        self.obs_mat, self.materials)


def wall_hits(ax: float, ay: float, px, py, x1, y1, x2, y2, end_closed=True):
    """Boolean: does the path A->P cross the wall segment (x1,y1)-(x2,y2)? (rule above)

    ``px``, ``py`` are arrays of points; the wall is a scalar segment (or broadcastable).
    Every kernel calls this same predicate so that results agree to the last bit.
    """
    dx = px - ax
    dy = py - ay
    ex = x2 - x1
    ey = y2 - y1
    wx = x1 - ax
    wy = y1 - ay
    denom = dx * ey - dy * ex
    tn = wx * ey - wy * ex
    sn = wx * dy - wy * dx
    nz = denom != 0
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(nz, tn / np.where(nz, denom, 1.0), -1.0)
        s = np.where(nz, sn / np.where(nz, denom, 1.0), -1.0)
    s_ok = (s >= 0) & np.where(end_closed, s <= 1, s < 1)
    return nz & (t > 0) & (t <= 1) & s_ok


def inside_polygon(poly: np.ndarray, px, py):
    """Even-odd point-in-polygon (points on the boundary may fall either way)."""
    inside = np.zeros(np.shape(px), bool)
    n = len(poly)
    for j in range(n):
        x1, y1 = poly[j]
        x2, y2 = poly[(j + 1) % n]
        cond = (y1 > py) != (y2 > py)
        with np.errstate(divide="ignore", invalid="ignore"):
            xc = (x2 - x1) * (py - y1) / (y2 - y1) + x1
        inside ^= cond & (px < xc)
    return inside


def obstacle_blocks(ax: float, ay: float, ah: float, px, py, ch: float,
                    poly: np.ndarray, top_m: float):
    """Boolean: does the 3-D path from the AP (ax, ay, height ah) to the points (px, py,
    height ch) pass through the obstacle footprint ``poly`` below its top ``top_m``?"""
    px = np.asarray(px, float)
    py = np.asarray(py, float)
    n = len(poly)
    t_max = np.full(px.shape, -np.inf)
    t_min = np.full(px.shape, np.inf)
    dx = px - ax
    dy = py - ay
    for j in range(n):
        x1, y1 = poly[j]
        x2, y2 = poly[(j + 1) % n]
        ex = x2 - x1
        ey = y2 - y1
        wx = x1 - ax
        wy = y1 - ay
        denom = dx * ey - dy * ex
        nz = denom != 0
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(nz, (wx * ey - wy * ex) / np.where(nz, denom, 1.0), np.nan)
            s = np.where(nz, (wx * dy - wy * dx) / np.where(nz, denom, 1.0), np.nan)
        ok = nz & (t >= 0) & (t <= 1) & (s >= 0) & (s <= 1)
        t_max = np.where(ok, np.maximum(t_max, t), t_max)
        t_min = np.where(ok, np.minimum(t_min, t), t_min)
    in_p = inside_polygon(poly, px, py)
    in_a = bool(inside_polygon(poly, np.array([ax]), np.array([ay]))[0])
    t_hi = np.where(in_p, 1.0, t_max)
    t_lo = 0.0 if in_a else t_min
    any_in = in_p | in_a | np.isfinite(t_max)
    t_lo = np.where(np.isfinite(t_lo), t_lo, 0.0)
    t_hi = np.where(np.isfinite(t_hi), t_hi, 0.0)
    h_lo = ah + (ch - ah) * t_lo
    h_hi = ah + (ch - ah) * t_hi
    return any_in & (np.minimum(h_lo, h_hi) < top_m)


def penetration_reference(geom: Geometry, ap_xyh, px, py, client_height_m: float,
                          by_material: bool = False):
    """Plain brute force: every wall and obstacle tested against every point.

    Returns the total penetration loss [dB] per point, or with ``by_material`` the number of
    crossings per material, shape (n_materials, n_points). This is the oracle of the fast
    kernels.
    """
    ax, ay, ah = (float(v) for v in ap_xyh)
    px = np.asarray(px, float)
    py = np.asarray(py, float)
    if by_material:
        out = np.zeros((len(geom.materials),) + px.shape)
    else:
        out = np.zeros(px.shape)
    for k in range(len(geom.seg)):
        x1, y1, x2, y2 = geom.seg[k]
        hit = wall_hits(ax, ay, px, py, x1, y1, x2, y2, bool(geom.seg_end_closed[k]))
        if by_material:
            out[geom.seg_mat[k]] += hit
        else:
            out += np.where(hit, geom.seg_loss_db[k], 0.0)
    for k, poly in enumerate(geom.obs_poly):
        hit = obstacle_blocks(ax, ay, ah, px, py, client_height_m, poly, geom.obs_top_m[k])
        if by_material:
            out[geom.obs_mat[k]] += hit
        else:
            out += np.where(hit, geom.obs_loss_db[k], 0.0)
    return out

