"""Required points: where coverage is required and what each point requires
(:func:`required_points`; obstacle footprints excluded, zone indices)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import Polygon

from ..site import Site
from ..errors import InputError
from ..radio.radiomap import grid_axes
from ..rules import DEFAULT_MIN_RSSI_DBM



# ---- required points ---------------------------------------------------------------------------

@dataclass
class RequiredPoints:
    """Grid points where coverage is required, on the grid ``ys`` x ``xs``."""
    xs: np.ndarray
    ys: np.ndarray
    resolution_m: float
    iy: np.ndarray
    ix: np.ndarray
    req_dbm: np.ndarray          # (n,) requirement [dBm]
    zone: np.ndarray             # (n,) index into site.zones, -1 for the outline fallback
    zone_names: list
    basis: str                   # "zones" or "outline"

    @property
    def n(self) -> int:
        return len(self.iy)

    @property
    def x(self) -> np.ndarray:
        return self.xs[self.ix]

    @property
    def y(self) -> np.ndarray:
        return self.ys[self.iy]

    def mask(self) -> np.ndarray:
        m = np.zeros((len(self.ys), len(self.xs)), bool)
        m[self.iy, self.ix] = True
        return m


def obstacle_mask(site: Site, x, y) -> np.ndarray:
    """True where (x, y) lies inside an obstacle footprint or on its edge."""
    out = np.zeros(np.shape(x), bool)
    for o in site.obstacles:
        out |= shapely.intersects_xy(Polygon(np.asarray(o.polygon)[:, :2]).buffer(1e-6), x, y)
    return out


def zone_indices(site: Site, zones=None) -> list[int]:
    """Indices of the named zones (all for None); an unknown name is an InputError."""
    if zones is None:
        return list(range(len(site.zones)))
    names = [z.name for z in site.zones]
    out = []
    for nm in zones:
        if nm not in names:
            import difflib
            close = difflib.get_close_matches(str(nm), names, n=1, cutoff=0.5)
            raise InputError(f"unknown zone '{nm}'" + (
                f" (did you mean '{close[0]}'?)" if close else
                f", the site has {', '.join(names) or 'no zones'}"), source=site.source,
                key="zones")
        out.append(names.index(nm))
    return out


def required_points(site: Site, resolution_m: float, zones=None,
                    min_rssi_dbm: float | None = None) -> RequiredPoints:
    """Required points on the grid of ``resolution_m`` [m] over the site's bounds (the
    radio-map grid): the selected zones' points outside obstacle footprints, each with its
    zone's ``min_rssi_dbm`` (or ``min_rssi_dbm`` for every point when given). Without zones,
    the outline at -67 dBm. A zone smaller than a grid cell keeps its nearest grid point."""
    xs, ys = grid_axes(site.bounds, resolution_m)
    X, Y = np.meshgrid(xs, ys)
    inside = site.inside_outline(X, Y) & ~obstacle_mask(site, X, Y)
    if site.zones:
        sel = zone_indices(site, zones)
        zi = np.where(inside, site.zone_at(X, Y), -1)
        keep = np.isin(zi, sel)
        for k in sel:
            if not (zi == k).any():
                rp = Polygon(site.zones[k].polygon).representative_point()
                j = int(np.argmin(np.abs(xs - rp.x)))
                i = int(np.argmin(np.abs(ys - rp.y)))
                zi[i, j] = k
                keep[i, j] = True
        iy, ix = np.nonzero(keep)
        zone = zi[iy, ix]
        req = np.array([z.min_rssi_dbm for z in site.zones], float)[zone]
        basis = "zones"
    else:
        if zones:
            zone_indices(site, zones)
        iy, ix = np.nonzero(inside)
        zone = np.full(len(iy), -1)
        req = np.full(len(iy), DEFAULT_MIN_RSSI_DBM)
        basis = "outline"
    if min_rssi_dbm is not None:
        req = np.full(len(iy), float(min_rssi_dbm))
    return RequiredPoints(xs, ys, float(resolution_m), iy, ix, req.astype(float), zone,
                          [z.name for z in site.zones], basis)


