"""Walking routes of terminals: the ``routes:`` list of a site file (or a ROUTES.yaml), and
the routes generated through the zones' aisles when a site gives none.

A route is a polyline on the floor that one terminal walks at a constant speed::

    routes:
      - {name: aisle-3, points: [[5, 40], [115, 40]], speed_m_s: 1.2, terminal: handheld}

``name`` (default ``route-N``), ``points`` (at least two [x, y] in metres, inside the
outline, every leg too), ``speed_m_s`` (0.1..30 m/s, default :data:`DEFAULT_SPEED_M_S`) and
``terminal`` (one of the site's terminal types, i.e. its capacity profiles; default
``handheld``). A ROUTES.yaml holds the same list, at its top level or under ``routes:``.
Errors name the key: ``routes[2].speed_m_s: 50 is out of range, ...``.

Generated routes (:func:`generate_routes`)
------------------------------------------
For each zone, the free floor is the zone (inside the outline) less a walking clearance of
:data:`CLEARANCE_M` around every obstacle, every wall and the zone's edge. Straight lanes
parallel to the zone's long axis (the long side of its minimum rotated rectangle, so that a
zone drawn at an angle gets lanes at that angle) are laid across it every
:data:`LANE_STEP_M`; on each lane the longest free stretch is its corridor. The zone is cut
across its axis into one band per :data:`LANE_SPACING_M` of width (at most
:data:`MAX_ROUTES_PER_ZONE`), and in each band the longest corridor is walked (on a tie,
the one nearest the band's middle). A zone whose lanes along its long axis are all blocked
is tried along the short axis. This finds the main aisles between rack rows and machine
lines of a hall of any shape, and never walks through an obstacle or a wall; it does not
turn corners (a walk with turns is given in the file).

Aisles (:func:`find_aisles`, where the planner mounts directional antennas) are found on
the same lanes: a narrow run of lanes whose free stretches begin and end together.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry import LineString, Point, Polygon
from shapely.ops import unary_union

from .fileio import read_yaml
from .validation import Ctx, check_keys, check_list, check_mapping, check_name, check_number

#: Walking speed of a route that names none [m/s]: a little below the comfortable gait
#: speed of adults, 1.27-1.46 m/s (Bohannon, "Comfortable and maximum walking speed of
#: adults aged 20-79 years", Age and Ageing 26(1), 1997, Table 2), for a worker in an aisle.
DEFAULT_SPEED_M_S = 1.2
#: Speeds a route may have [m/s]: from a slow inspection walk to a fork-lift or tugger.
SPEED_RANGE_M_S = (0.1, 30.0)
#: The terminal type of a route that names none.
DEFAULT_TERMINAL = "handheld"
#: Walking clearance kept from obstacles, walls and the zone's edge [m].
CLEARANCE_M = 0.5
#: Lanes are tried across a zone at this step [m].
LANE_STEP_M = 0.5
#: One generated walk per this much zone width [m] ...
LANE_SPACING_M = 15.0
#: ... and at most this many per zone.
MAX_ROUTES_PER_ZONE = 3
#: In a band, corridors at least this share of the longest count as long; the one nearest
#: the band's middle is walked.
LONG_SHARE = 0.9
#: A corridor shorter than this is no walk [m].
MIN_ROUTE_M = 2.0
#: The most points a route may have.
MAX_POINTS = 10_000

ROUTE_KEYS = {"name", "points", "speed_m_s", "terminal", "description"}


@dataclass
class Route:
    """A walk: its polyline [m], speed [m/s] and terminal type; ``zone`` names the zone a
    generated route runs through (None for a route of a file)."""
    name: str
    points: np.ndarray                     # (k, 2) [m], k >= 2
    speed_m_s: float = DEFAULT_SPEED_M_S
    terminal: str = DEFAULT_TERMINAL
    zone: str | None = None
    generated: bool = False
    extra: dict = field(default_factory=dict)

    @property
    def length_m(self) -> float:
        return float(np.hypot(*np.diff(self.points, axis=0).T).sum())

    def to_dict(self) -> dict:
        d = {"name": self.name,
             "points": [[_num(v) for v in p] for p in np.asarray(self.points).tolist()],
             "speed_m_s": _num(self.speed_m_s), "terminal": self.terminal}
        d.update(self.extra)
        return d


def _num(v):
    f = float(v)
    return int(f) if f.is_integer() and abs(f) < 1e15 else round(f, 6)


def routes_to_list(routes) -> list[dict]:
    """The ``routes:`` list of a site file for ``routes``."""
    return [r.to_dict() for r in routes]


def sample_route(points, step_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Points every ``step_m`` [m] of walking along the polyline ``points`` (the vertices
    and the end included): ``(xy (n, 2) [m], distance walked (n,) [m])``."""
    pts = np.asarray(points, float)
    seg = np.hypot(*np.diff(pts, axis=0).T)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    total = float(cum[-1])
    n = max(int(math.ceil(total / step_m - 1e-9)), 1)
    d = np.unique(np.concatenate([np.linspace(0.0, total, n + 1), cum]))
    xy = np.column_stack([np.interp(d, cum, pts[:, 0]), np.interp(d, cum, pts[:, 1])])
    return xy, d


# ---- parsing ---------------------------------------------------------------------------------

def _point(ctx, path, v, extent_m: float) -> list[float]:
    if not isinstance(v, (list, tuple)) or len(v) != 2:
        ctx.fail(path, f"expected a point [x, y] in metres, got {v!r}"[:200])
    return [check_number(ctx, path + (i,), c, lo=-extent_m, hi=extent_m,
                         what="a coordinate in metres") for i, c in enumerate(v)]


def routes_from_list(ctx: Ctx, path: tuple, v, outline: Polygon, terminals,
                     tolerance_m: float = 0.05, extent_m: float = 5000.0) -> list[Route]:
    """Check a parsed ``routes:`` list against the site's ``outline`` (every point and every
    leg inside it, within ``tolerance_m``) and its terminal types ``terminals``; raise
    :class:`~wifiplan.errors.InputError` naming the key (``routes[2].speed_m_s``)."""
    inside = outline.buffer(tolerance_m)
    terminals = sorted(set(terminals))
    out: list[Route] = []
    names: set[str] = set()
    for i, r in enumerate(check_list(ctx, path, v, "routes")):
        rp = path + (i,)
        r = check_mapping(ctx, rp, r, "a route")
        check_keys(ctx, rp, r, ROUTE_KEYS, {"points"})
        name = check_name(ctx, rp + ("name",), r.get("name", f"route-{i + 1}"))
        if name in names:
            ctx.fail(rp + ("name",), f"duplicate route name '{name}'")
        names.add(name)
        raw = r["points"]
        if not isinstance(raw, list) or not 2 <= len(raw) <= MAX_POINTS:
            ctx.fail(rp + ("points",), f"expected a list of 2 to {MAX_POINTS} points [x, y], "
                     f"got {raw!r}"[:200])
        pts = np.array([_point(ctx, rp + ("points", j), p, extent_m)
                        for j, p in enumerate(raw)], float)
        for j, p in enumerate(pts):
            if not inside.covers(Point(p)):
                ctx.fail(rp + ("points", j), f"point ({p[0]:g}, {p[1]:g}) lies outside the "
                         "outline")
        for j in range(len(pts) - 1):
            if not inside.covers(LineString(pts[j:j + 2])) and \
                    np.any(pts[j] != pts[j + 1]):
                ctx.fail(rp + ("points",), f"the leg from point {j} to point {j + 1} leaves "
                         "the outline")
        if float(np.hypot(*np.diff(pts, axis=0).T).sum()) <= 0.0:
            ctx.fail(rp + ("points",), "the route has no length (all points are the same)")
        lo, hi = SPEED_RANGE_M_S
        speed = check_number(ctx, rp + ("speed_m_s",), r.get("speed_m_s", DEFAULT_SPEED_M_S),
                             lo=lo, hi=hi, what="a speed in m/s")
        term = r.get("terminal", DEFAULT_TERMINAL)
        if not isinstance(term, str) or term not in terminals:
            ctx.fail(rp + ("terminal",), f"unknown terminal type {term!r}, expected one of "
                     f"{', '.join(terminals)} (the site's terminal profiles)")
        extra = {"description": r["description"]} if "description" in r else {}
        out.append(Route(name, pts, speed, term, extra=extra))
    return out


def load_routes(path, outline: Polygon, terminals) -> list[Route]:
    """Read a ROUTES.yaml: the list of a site file's ``routes:`` key, at the top level or
    under ``routes:``; checked like the site's (:func:`routes_from_list`)."""
    data, lines = read_yaml(path)
    ctx = Ctx(str(path), lines)
    if isinstance(data, dict):
        check_keys(ctx, (), data, {"routes", "site", "description"}, {"routes"})
        return routes_from_list(ctx, ("routes",), data["routes"], outline, terminals)
    if not isinstance(data, list) or not data:
        ctx.fail((), "expected a list of routes (or a mapping with 'routes:')")
    # a top-level list: keys read routes[i] all the same
    lines2 = {("routes",) + k: v for k, v in lines.items()}
    return routes_from_list(Ctx(str(path), lines2), ("routes",), data, outline, terminals)


# ---- generated routes ------------------------------------------------------------------------

def _free_floor(site, zone_poly: Polygon):
    blocked = [Polygon(np.asarray(o.polygon)[:, :2]).buffer(CLEARANCE_M)
               for o in site.obstacles]
    blocked += [LineString(w.points).buffer(CLEARANCE_M, cap_style="flat")
                for w in site.walls]
    free = zone_poly.intersection(Polygon(site.outline)).buffer(-CLEARANCE_M)
    if blocked:
        free = free.difference(unary_union(blocked))
    return free


def _axis(poly: Polygon) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors (along, across) of the long side of the polygon's minimum rotated
    rectangle."""
    rect = np.asarray(shapely.minimum_rotated_rectangle(poly).exterior.coords)[:4]
    e1, e2 = rect[1] - rect[0], rect[2] - rect[1]
    along = e1 if np.hypot(*e1) >= np.hypot(*e2) else e2
    return _oriented(along)


def _oriented(v) -> tuple[np.ndarray, np.ndarray]:
    """(v as a unit vector pointing towards +x (or +y), its left normal)."""
    v = np.asarray(v, float) / max(float(np.hypot(*v)), 1e-12)
    if v[0] < -1e-9 or (abs(v[0]) <= 1e-9 and v[1] < 0):
        v = -v
    return v, np.array([-v[1], v[0]])


def _corridors(free, poly: Polygon, along, across):
    """(offset across [m], longest free stretch) of each lane across ``poly``."""
    c = np.asarray(poly.exterior.coords)
    u, w = c @ along, c @ across
    reach = float(u.max() - u.min()) + 2.0
    out = []
    for off in np.arange(w.min() + LANE_STEP_M / 2, w.max(), LANE_STEP_M):
        a = along * (u.min() - 1.0) + across * off
        line = LineString([a, a + along * reach])
        part = line.intersection(free)
        parts = [g for g in getattr(part, "geoms", [part])
                 if isinstance(g, LineString) and g.length >= MIN_ROUTE_M]
        if parts:
            out.append((float(off), max(parts, key=lambda g: g.length)))
    return out, float(w.min()), float(w.max())


def _aisle_centre(cands, pick, lo_m: float, hi_m: float):
    """The lane in the middle of the run of neighbouring lanes (offsets within
    ``lo_m``..``hi_m``) whose corridors are about as long as ``pick``'s: the middle of its
    aisle, or of its band of open floor."""
    i = [c[0] for c in cands].index(pick[0])

    def joins(j, k):                  # lanes j and k are neighbours in one aisle
        return abs(cands[j][0] - cands[k][0]) <= LANE_STEP_M + 1e-6 and \
            lo_m <= cands[j][0] < hi_m and \
            abs(cands[j][1].length - pick[1].length) <= 2 * LANE_STEP_M
    lo = hi = i
    while lo > 0 and joins(lo - 1, lo):
        lo -= 1
    while hi + 1 < len(cands) and joins(hi + 1, hi):
        hi += 1
    return cands[(lo + hi) // 2]


@dataclass(frozen=True)
class Aisle:
    """A straight aisle of a zone: the centre line of its free floor from ``start`` to
    ``end`` [m] and its free width [m] (rack or machine rows, walls or the zone's edge on
    both sides)."""
    zone: str
    start: tuple
    end: tuple
    width_m: float

    @property
    def length_m(self) -> float:
        return float(math.hypot(self.end[0] - self.start[0], self.end[1] - self.start[1]))


#: An aisle is at least this long [m] ...
MIN_AISLE_LENGTH_M = 20.0
#: ... at most this wide (free floor between its rows) [m] ...
MAX_AISLE_WIDTH_M = 6.0
#: ... its lanes end within this of each other at both ends [m] ...
AISLE_END_TOLERANCE_M = 1.0
#: ... and rows (obstacles, walls, the outline) line at least this share of its length on
#: both sides, looked for this far beyond its free width [m].
AISLE_ROWS_SHARE = 0.6
AISLE_SIDE_M = 0.25


def find_aisles(site, zones=None) -> list[Aisle]:
    """The aisles of the zones (``zones``: their names, default all): runs of neighbouring
    lanes (:data:`LANE_STEP_M` apart, along either axis of the zone) whose longest free
    stretches begin and end together within :data:`AISLE_END_TOLERANCE_M`, at most
    :data:`MAX_AISLE_WIDTH_M` wide and at least :data:`MIN_AISLE_LENGTH_M` long: the
    floor between two rack rows or machine lines. Open floor (a wider run) is no aisle."""
    out: list[Aisle] = []
    floor = None                              # the site's free floor, zones or not
    for z in site.zones:
        if zones is not None and z.name not in zones:
            continue
        zp = Polygon(z.polygon)
        free = _free_floor(site, zp)
        if free.is_empty:
            continue
        if floor is None:
            floor = _free_floor(site, Polygon(site.outline))
        along0, across0 = _axis(zp)
        for along, across in ((along0, across0), _oriented(across0)):
            cands, _, _ = _corridors(free, zp, along, across)
            runs: list[list] = []
            for off, seg in cands:
                c = np.asarray(seg.coords)[[0, -1]] @ along
                ends = (float(c.min()), float(c.max()))
                last = runs[-1] if runs else None
                if (last is not None and off - last[-1][0] <= LANE_STEP_M + 1e-6
                        and abs(ends[0] - last[0][2][0]) <= AISLE_END_TOLERANCE_M
                        and abs(ends[1] - last[0][2][1]) <= AISLE_END_TOLERANCE_M):
                    last.append((off, seg, ends))
                else:
                    runs.append([(off, seg, ends)])
            for run in runs:
                width = len(run) * LANE_STEP_M + 2 * CLEARANCE_M
                off, seg, _ = run[len(run) // 2]
                if width > MAX_AISLE_WIDTH_M or seg.length < MIN_AISLE_LENGTH_M:
                    continue
                sides = [shapely.offset_curve(seg, d * (width / 2 + AISLE_SIDE_M))
                         for d in (1.0, -1.0)]
                if any(line.intersection(floor).length > (1 - AISLE_ROWS_SHARE) * seg.length
                       for line in sides):
                    continue                  # open floor on a side: a lane, not an aisle
                # the centre line: the middle lane moved to the run's mean offset
                shift = across * (float(np.mean([r[0] for r in run])) - off)
                a, b = np.round(np.asarray(seg.coords)[[0, -1]] + shift, 2)
                out.append(Aisle(z.name, (float(a[0]), float(a[1])), (float(b[0]), float(b[1])),
                                 round(width, 2)))
    return out


def _zone_terminal(zone) -> str:
    terms = {k: v for k, v in (zone.terminals or {}).items() if v > 0}
    if not terms:
        return DEFAULT_TERMINAL
    return sorted(terms.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]


def generate_routes(site, speed_m_s: float = DEFAULT_SPEED_M_S) -> list[Route]:
    """Walks along the longest free corridors of every zone (module docstring): one per
    :data:`LANE_SPACING_M` of zone width, at most :data:`MAX_ROUTES_PER_ZONE`, named
    ``<zone>-aisle-<n>``, walked by the zone's most numerous terminal type."""
    out: list[Route] = []
    for z in site.zones:
        zp = Polygon(z.polygon)
        free = _free_floor(site, zp)
        if free.is_empty:
            continue
        along, across = _axis(zp)
        cands, lo, hi = _corridors(free, zp, along, across)
        if not cands:
            along, across = _oriented(across)
            cands, lo, hi = _corridors(free, zp, along, across)
        if not cands:
            continue
        width = hi - lo
        k = int(min(MAX_ROUTES_PER_ZONE, max(1, round(width / LANE_SPACING_M))))
        chosen = []
        for b in range(k):
            b_lo, b_hi = lo + b * width / k, lo + (b + 1) * width / k
            mid = (b_lo + b_hi) / 2
            band = [c for c in cands if b_lo <= c[0] < b_hi]
            if not band:
                continue
            longest = max(c[1].length for c in band)
            best = min((c for c in band if c[1].length >= LONG_SHARE * longest),
                       key=lambda c: (abs(c[0] - mid), c[0]))
            chosen.append(_aisle_centre(cands, best, b_lo, b_hi))
        for n, (_, seg) in enumerate(chosen, 1):
            pts = np.round(np.asarray(seg.coords)[[0, -1]], 2)
            out.append(Route(f"{z.name}-aisle-{n}", pts, speed_m_s, _zone_terminal(z),
                             zone=z.name, generated=True))
    return out


def site_routes(site) -> list[Route]:
    """The site's own routes, else the generated ones."""
    return list(getattr(site, "routes", None) or []) or generate_routes(site)
