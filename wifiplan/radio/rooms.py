"""The rooms of a hall and the power they exchange (coupled rooms).

A hall's walls reach the roof, so a store room behind a concrete fire wall, an office block
or a cold room holds a diffuse field of its own, fed through its doors and through its
walls; so does a rack aisle, whose racks reach close to the roof. The floor is divided into
rooms and the diffuse power of each room follows from the steady-state power balance of
coupled rooms (H. Kuttruff, *Room Acoustics*, 6th ed., CRC Press 2016, the energy balance
of coupled rooms, written for any number of rooms; the same power balance as J. B. Andersen
et al., "Room electromagnetics", IEEE Antennas Propag. Mag. 49(2), 2007, whose absorption
term the exchange adds to)::

    P_s delta_is = (c / 4) (A_i w_i + sum_j K_ij (w_i - w_j))

with ``w_i`` the energy density of room ``i`` [J/m^3], ``A_i = sum alpha A`` its absorption
area [m^2] and ``K_ij`` the coupling area between rooms ``i`` and ``j`` [m^2]: the area of
their common boundary, each part weighted by the power it lets through (1 for an opening,
``10^(-L/10)`` for a wall of loss L, the gap to the roof plus ``top 10^(-L/10)`` over a
partition). An isotropic antenna in room ``i`` receives ``c w_i lambda^2 / (4 pi)``; for
one room this is ``P lambda^2 / (pi A)``, the diffuse level of :mod:`wifiplan.radio.hall`.

Segmentation (on a raster of :func:`raster_step_m`): every wall is drawn, every *partition*
(a row-shaped obstacle reaching :data:`PARTITION_FRACTION` of the ceiling: a rack row,
shelving)
and every *doorway*: the gap from a wall's free end or a partition's corner to the nearest
other wall, partition or outline within :data:`DOOR_MAX_M` (a door, a dock door, the end of
an aisle). The connected regions of the rest are the rooms (regions under
:data:`MIN_ROOM_M2` are not rooms); every drawn cell joins the nearest room. Two
neighbouring cells of different rooms share an edge of the raster step times the ceiling
height; its weight is the transmission of the walls between the two cell centres (the
penetration rule of :mod:`wifiplan.radio.propagation`), over and through the partition when the
edge lies in one, and 1 where nothing is crossed (a doorway).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from scipy import ndimage
from shapely import STRtree
from shapely.geometry import LineString, Point, Polygon

from .geometry import wall_hits

DOOR_MAX_M = 6.0        # a gap up to this wide between wall ends is a doorway of two rooms
PARTITION_FRACTION = 0.5  # a row reaching this share of the ceiling divides the floor
PARTITION_ELONGATION = 3.0  # ... when it is this many times as long as wide (a row, not a block)
MIN_ROOM_M2 = 4.0       # smaller enclosed regions (a shaft, a gap between walls) join their
                        # neighbours
MAX_RASTER_CELLS = 250_000


@dataclass(frozen=True, eq=False)
class Rooms:
    """Rooms of a hall on a raster: ``labels`` (ny, nx) room index of each cell (every cell,
    also outside the outline, holds its nearest room), lower-left cell centre ``x0_m``,
    ``y0_m`` and ``step_m``; per room its floor area [m^2], volume [m^3] and absorption area
    [m^2]; ``coupling_m2`` (n, n) the coupling areas K; ``exchange`` (n, n) the inverse of
    the power-balance matrix, so that ``exchange[s, i]`` [1/m^2] is the diffuse level of room
    ``i`` for a unit power radiated in room ``s`` (1 / A for a single room); ``doorways``
    the virtual doors of :func:`doorways` that closed the rooms."""
    labels: np.ndarray
    x0_m: float
    y0_m: float
    step_m: float
    floor_m2: np.ndarray
    volume_m3: np.ndarray
    absorption_m2: np.ndarray
    coupling_m2: np.ndarray
    exchange: np.ndarray
    doorways: tuple = ()        # the virtual door segments ((x, y), (x, y)) that close them

    @property
    def count(self) -> int:
        return len(self.floor_m2)

    def exchange_for(self, coupling_offset_db: float = 0.0) -> np.ndarray:
        """The exchange matrix with every coupling area scaled by 10^(offset/10) (the
        parameter a survey calibrates: doors shut or open, walls that pass more or less)."""
        if coupling_offset_db == 0.0:
            return self.exchange
        return exchange_matrix(self.absorption_m2,
                               self.coupling_m2 * 10.0 ** (coupling_offset_db / 10.0))

    def label_at(self, x, y) -> np.ndarray:
        """Room index of points [m] (the nearest raster cell's)."""
        ny, nx = self.labels.shape
        ix = np.clip(np.rint((np.asarray(x, float) - self.x0_m) / self.step_m), 0, nx - 1)
        iy = np.clip(np.rint((np.asarray(y, float) - self.y0_m) / self.step_m), 0, ny - 1)
        return self.labels[iy.astype(np.int64), ix.astype(np.int64)]

    def label_grid(self, xs, ys) -> np.ndarray:
        """Room index on the grid ``ys`` x ``xs``, shape (len(ys), len(xs))."""
        ny, nx = self.labels.shape
        ix = np.clip(np.rint((np.asarray(xs, float) - self.x0_m) / self.step_m), 0, nx - 1)
        iy = np.clip(np.rint((np.asarray(ys, float) - self.y0_m) / self.step_m), 0, ny - 1)
        return self.labels[np.ix_(iy.astype(np.int64), ix.astype(np.int64))]


def exchange_matrix(absorption_m2, coupling_m2) -> np.ndarray:
    """Inverse of the power-balance matrix ``diag(A_i + sum_j K_ij) - K`` [1/m^2]."""
    K = np.asarray(coupling_m2, float)
    return np.linalg.inv(np.diag(np.asarray(absorption_m2, float) + K.sum(axis=1)) - K)


def raster_step_m(site) -> float:
    """Raster step [m]: 0.5 m, coarser on floors that would need over 250,000 cells."""
    x0, y0, x1, y1 = site.bounds
    return float(max(0.5, np.sqrt((x1 - x0) * (y1 - y0) / MAX_RASTER_CELLS)))


def _wall_lines(site):
    return [np.asarray(w.points, float) for w in site.walls]


def _elongation(poly) -> float:
    """Length over width of a footprint's minimum rotated rectangle."""
    r = Polygon(np.asarray(poly, float)[:, :2]).minimum_rotated_rectangle
    c = np.asarray(r.exterior.coords)[:4] if r.geom_type == "Polygon" else np.zeros((4, 2))
    a, b = np.hypot(*(c[1] - c[0])), np.hypot(*(c[2] - c[1]))
    return float(max(a, b) / max(min(a, b), 1e-9))


def partitions(site, ceiling_m: float) -> list:
    """The obstacles that divide the floor like walls: rows (at least
    :data:`PARTITION_ELONGATION` times as long as wide) reaching at least
    :data:`PARTITION_FRACTION` of the ceiling height: rack rows, shelving, tall machine
    lines. A compact block is an island in its room, not a divider. The rooms they bound
    exchange power over their tops and through them."""
    return [o for o in site.obstacles
            if min(float(o.height_m), ceiling_m) >= PARTITION_FRACTION * ceiling_m
            and len(np.asarray(o.polygon)) >= 3
            and _elongation(o.polygon) >= PARTITION_ELONGATION]


def doorways(site, door_max_m: float = DOOR_MAX_M, ceiling_m: float | None = None
             ) -> list[tuple[tuple, tuple]]:
    """Virtual door segments: from each free wall end, and from each corner of a partition
    (:func:`partitions`), to the nearest wall, partition or outline edge (not its own)
    within ``door_max_m`` [m]."""
    ceiling = float(site.building.ceiling_height_m if ceiling_m is None else ceiling_m)
    geoms, ends = [], []
    for p in _wall_lines(site):
        k = len(geoms)
        geoms.append(LineString(p))
        ends += [(k, p[0]), (k, p[-1])]
    for o in partitions(site, ceiling):
        ring = np.asarray(o.polygon, float)[:, :2]
        k = len(geoms)
        geoms.append(Polygon(ring).exterior)
        ends += [(k, v) for v in ring]
    if not ends:
        return []
    outline = Polygon(site.outline).exterior
    tree = STRtree(geoms)
    out = []
    for k, end in ends:
        e = Point(end)
        if outline.distance(e) < 1e-6:
            continue                           # an end on the outline is closed
        near = [j for j in tree.query(e.buffer(door_max_m)) if j != k]
        dist = {j: geoms[j].distance(e) for j in near}
        if any(d < 1e-6 for d in dist.values()):
            continue                           # a corner or T-junction with another one
        best, best_d = None, door_max_m
        for j, d in sorted(dist.items()):
            if d <= best_d:
                best, best_d = geoms[j], d
        d = outline.distance(e)
        if d <= best_d:
            best, best_d = outline, d
        if best is not None:
            q = best.interpolate(best.project(e))
            out.append(((float(end[0]), float(end[1])), (float(q.x), float(q.y))))
    return out


def cells_near(lines, radius_m: float, X, Y) -> np.ndarray:
    """Cells (X, Y) [m] inside the ``radius_m`` buffer of any of the ``lines``: each line's
    buffer on its own, the cells found through a tree of the buffers, so that the memory
    stays in proportion to the cells drawn (the buffer of the union of 20,000 short walls
    takes gigabytes)."""
    buffers = shapely.buffer(np.array(lines, dtype=object), radius_m)
    pts = shapely.points(X.ravel(), Y.ravel())
    drawn = np.zeros(X.size, bool)
    tree = STRtree(buffers)
    for s in range(0, len(pts), 50_000):
        hit = tree.query(pts[s:s + 50_000], predicate="within")[0]
        drawn[s + hit] = True
    return drawn.reshape(X.shape)


def segment_rooms(site, material_losses: dict[str, float], absorption_of, ceiling_m: float,
                  floor_alpha: float, roof_alpha: float, outer_alpha: float,
                  step_m: float | None = None) -> Rooms:
    """Divide the site into rooms and solve their power balance (module docstring).

    ``absorption_of(material) -> alpha``: random-incidence absorption of a material's
    surface; ``floor_alpha``, ``roof_alpha``, ``outer_alpha``: of the floor, the roof and
    the envelope's walls."""
    step = float(step_m or raster_step_m(site))
    bx0, by0, bx1, by1 = site.bounds
    xs = np.arange(bx0 + step / 2, bx1, step)
    ys = np.arange(by0 + step / 2, by1, step)
    X, Y = np.meshgrid(xs, ys)
    outline = Polygon(site.outline)
    inside = shapely.contains_xy(outline, X, Y)
    lines = [LineString(p) for p in _wall_lines(site)]
    parts = partitions(site, ceiling_m)
    doors = doorways(site, ceiling_m=ceiling_m)
    drawn = np.zeros_like(inside)
    if lines or doors:
        drawn = cells_near(lines + [LineString(d) for d in doors], 0.75 * step, X, Y)
    part_polys = [Polygon(np.asarray(o.polygon, float)[:, :2]) for o in parts]
    for pp in part_polys:
        drawn |= shapely.contains_xy(pp.buffer(0.25 * step), X, Y)
    free = inside & ~drawn
    lab, n = ndimage.label(free)
    if n:
        sizes = np.bincount(lab.ravel(), minlength=n + 1) * step * step
        keep = sizes >= MIN_ROOM_M2
        keep[0] = False
        remap = np.full(n + 1, -1)
        remap[np.flatnonzero(keep)] = np.arange(int(keep.sum()))
        lab = remap[lab]
    else:
        lab = np.full(lab.shape, -1)
    if (lab < 0).all():                       # no room at all (walls everywhere): one room
        lab = np.where(inside, 0, -1)
        if (lab < 0).all():
            lab = np.zeros_like(lab)
    idx = ndimage.distance_transform_edt(lab < 0, return_distances=False, return_indices=True)
    labels = lab[idx[0], idx[1]].astype(np.int32)
    nr = int(labels.max()) + 1
    cell = step * step
    floor = np.bincount(labels[inside], minlength=nr).astype(float) * cell
    volume = floor * ceiling_m
    absorb = floor * (floor_alpha + roof_alpha)

    def room_of(px, py):
        ix = np.clip(np.rint((np.asarray(px, float) - xs[0]) / step), 0, len(xs) - 1)
        iy = np.clip(np.rint((np.asarray(py, float) - ys[0]) / step), 0, len(ys) - 1)
        return labels[iy.astype(int), ix.astype(int)]

    def samples(coords):
        """Midpoints of pieces of about one raster step along a polyline, with the unit
        normal and the length of each piece."""
        pts, nrm, ln = [], [], []
        for a, b in zip(coords[:-1], coords[1:]):
            a, b = np.asarray(a, float), np.asarray(b, float)
            L = float(np.hypot(*(b - a)))
            if L <= 0:
                continue
            k = max(1, int(np.ceil(L / step)))
            t = (np.arange(k) + 0.5) / k
            pts.append(a + t[:, None] * (b - a))
            nrm.append(np.tile([-(b - a)[1] / L, (b - a)[0] / L], (k, 1)))
            ln.append(np.full(k, L / k))
        if not pts:
            return np.zeros((0, 2)), np.zeros((0, 2)), np.zeros(0)
        return np.vstack(pts), np.vstack(nrm), np.concatenate(ln)

    # the envelope: each piece to the room just inside it
    p, nv, ln = samples(list(outline.exterior.coords))
    if len(p):
        off = 1.5 * step
        a = p + off * nv
        b = p - off * nv
        use_a = shapely.contains_xy(outline, a[:, 0], a[:, 1])
        q = np.where(use_a[:, None], a, b)
        np.add.at(absorb, room_of(q[:, 0], q[:, 1]), ln * ceiling_m * outer_alpha)
    # inner walls: each face to the room on its side, the power neither reflected nor
    # passed through it absorbed
    for w in site.walls:
        tau = 10.0 ** (-material_losses[w.material] / 10.0)
        alpha = absorption_of(w.material) * (1.0 - tau)
        p, nv, ln = samples(np.asarray(w.points, float))
        for sgn in (1.0, -1.0):
            q = p + sgn * 1.5 * step * nv
            np.add.at(absorb, room_of(q[:, 0], q[:, 1]), ln * ceiling_m * alpha)
    # obstacles: in the room of their centre; their footprint leaves the floor
    for o in site.obstacles:
        fp = Polygon(np.asarray(o.polygon, float)[:, :2])
        top = min(float(o.height_m), ceiling_m)
        if top <= 0:
            continue
        c = fp.representative_point()
        r = int(room_of(c.x, c.y))
        volume[r] -= float(fp.area) * top
        absorb[r] += (float(fp.area) + float(fp.length) * top) * absorption_of(o.material) \
            - float(fp.area) * floor_alpha
    volume = np.maximum(volume, 0.05 * np.maximum(floor, cell) * ceiling_m)
    absorb = np.maximum(absorb, 1e-6)

    # coupling areas: raster edges between rooms, weighted by the walls' transmission
    K = np.zeros((nr, nr))
    if nr > 1:
        pairs = []
        for dy, dx in ((0, 1), (1, 0)):
            a = labels[:labels.shape[0] - dy, :labels.shape[1] - dx]
            b = labels[dy:, dx:]
            ins = inside[:labels.shape[0] - dy, :labels.shape[1] - dx] & inside[dy:, dx:]
            m = ins & (a != b)
            iy, ix = np.nonzero(m)
            pairs.append((xs[ix], ys[iy], xs[ix + dx], ys[iy + dy], a[m], b[m]))
        px0 = np.concatenate([q[0] for q in pairs])
        py0 = np.concatenate([q[1] for q in pairs])
        px1 = np.concatenate([q[2] for q in pairs])
        py1 = np.concatenate([q[3] for q in pairs])
        la = np.concatenate([q[4] for q in pairs])
        lb = np.concatenate([q[5] for q in pairs])
        loss = np.zeros(len(px0))
        for w in site.walls:
            pw = np.asarray(w.points, float)
            L = material_losses[w.material]
            for j in range(len(pw) - 1):
                (x1, y1), (x2, y2) = pw[j], pw[j + 1]
                near = ((np.minimum(px0, px1) <= max(x1, x2) + step)
                        & (np.maximum(px0, px1) >= min(x1, x2) - step)
                        & (np.minimum(py0, py1) <= max(y1, y2) + step)
                        & (np.maximum(py0, py1) >= min(y1, y2) - step))
                if not near.any():
                    continue
                # the path from one cell centre to the other crosses the wall (one rule)
                sel = np.flatnonzero(near)
                hit = wall_hits(px0[sel], py0[sel], px1[sel], py1[sel], x1, y1, x2, y2,
                                j == len(pw) - 2)
                loss[sel[hit]] += L
        wgt = step * ceiling_m * 10.0 ** (-loss / 10.0)
        # an edge whose midpoint lies in a partition: over its top (the gap to the roof)
        # and through it
        mx, my = (px0 + px1) / 2, (py0 + py1) / 2
        for o, pp in zip(parts, part_polys):
            inside_p = shapely.contains_xy(pp, mx, my)
            if inside_p.any():
                top = min(float(o.height_m), ceiling_m)
                through = 10.0 ** (-material_losses[o.material] / 10.0)
                wgt = np.where(inside_p, step * ((ceiling_m - top) + top * through)
                               * 10.0 ** (-loss / 10.0), wgt)
        np.add.at(K, (la, lb), wgt)
        K = K + K.T
    exchange = exchange_matrix(absorb, K)
    return Rooms(labels=labels, x0_m=float(xs[0]), y0_m=float(ys[0]), step_m=step,
                 floor_m2=floor, volume_m3=volume, absorption_m2=absorb, coupling_m2=K,
                 exchange=exchange, doorways=tuple(doors))
