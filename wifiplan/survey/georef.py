"""The WiGLE georeference: latitude/longitude to floor metres through reference points.

A YAML (``points: [{lat, lon, x_m, y_m}, ...]``, optional ``transform``) or a CSV with
columns ``lat,lon,x_m,y_m`` (:func:`read_georef`); 2+ points fit a similarity, 3+ an affine
transform (:func:`fit_georeference`).
"""
from __future__ import annotations

import io
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import InputError
from ..fileio import read_input, read_yaml
from ..validation import Ctx, check_keys, check_number

#: Floor coordinates of a reference point beyond this [m] are a typo (no site is 1,000 km).
MAX_FLOOR_M = 1e6

EARTH_A_M = 6378137.0            # WGS 84 semi-major axis
EARTH_E2 = 6.69437999014e-3      # WGS 84 first eccentricity squared


@dataclass
class Georeference:
    """Latitude/longitude to floor metres: a similarity (or affine) transform fitted in a
    local east-north frame about the reference points' centroid.

    The local frame uses the WGS 84 meridian (M) and prime-vertical (N) radii of curvature
    at the centroid latitude, exact to millimetres over a factory floor.
    """
    lat0: float
    lon0: float
    matrix: np.ndarray          # (2, 2): [x, y] = matrix @ [e, n] + offset
    offset: np.ndarray          # (2,)
    kind: str
    rms_m: float
    max_residual_m: float
    n_points: int

    def _metres_per_radian(self) -> tuple[float, float]:
        """(east, north) metres per radian of longitude and latitude at lat0 (WGS 84)."""
        s = math.sin(math.radians(self.lat0))
        w = math.sqrt(1.0 - EARTH_E2 * s * s)
        return (EARTH_A_M / w * math.cos(math.radians(self.lat0)),
                EARTH_A_M * (1 - EARTH_E2) / w ** 3)

    def enu(self, lat, lon):
        """Local east, north [m] of latitude/longitude [degrees] about (lat0, lon0)."""
        me, mn = self._metres_per_radian()
        e = np.radians(np.asarray(lon, float) - self.lon0) * me
        n = np.radians(np.asarray(lat, float) - self.lat0) * mn
        return e, n

    def to_floor(self, lat, lon):
        """Floor coordinates (x_m, y_m) [m] of latitude/longitude [degrees]."""
        e, n = self.enu(lat, lon)
        x = self.matrix[0, 0] * e + self.matrix[0, 1] * n + self.offset[0]
        y = self.matrix[1, 0] * e + self.matrix[1, 1] * n + self.offset[1]
        return x, y

    def to_latlon(self, x_m, y_m):
        """Latitude/longitude [degrees] of floor coordinates [m] (the inverse transform)."""
        inv = np.linalg.inv(self.matrix)
        dx = np.asarray(x_m, float) - self.offset[0]
        dy = np.asarray(y_m, float) - self.offset[1]
        e = inv[0, 0] * dx + inv[0, 1] * dy
        n = inv[1, 0] * dx + inv[1, 1] * dy
        me, mn = self._metres_per_radian()
        return self.lat0 + np.degrees(n / mn), self.lon0 + np.degrees(e / me)

    def describe(self) -> dict:
        scale = float(math.sqrt(abs(np.linalg.det(self.matrix))))
        rot = float(math.degrees(math.atan2(self.matrix[1, 0], self.matrix[0, 0])))
        return {"transform": self.kind, "reference_points": self.n_points,
                "scale": round(scale, 5), "rotation_deg": round(rot, 3),
                "mirrored": bool(np.linalg.det(self.matrix) < 0),
                "rms_residual_m": round(self.rms_m, 3),
                "max_residual_m": round(self.max_residual_m, 3)}


def fit_georeference(lat, lon, x_m, y_m, kind: str = "similarity",
                     source: str = "<georef>") -> Georeference:
    """Fit floor = T(lat, lon) from 2+ reference points (3+ for ``affine``).

    ``similarity`` (scale, rotation, shift; mirrored if that fits 3+ points better) is
    exact for two points; ``affine`` also absorbs a shear or different x/y scales.
    """
    lat, lon, x_m, y_m = (np.asarray(v, float) for v in (lat, lon, x_m, y_m))
    n = len(lat)
    if n < 2:
        raise InputError("a georeference needs at least 2 reference points", source=source)
    if kind not in ("similarity", "affine"):
        raise InputError(f"unknown transform {kind!r}, expected similarity or affine",
                         source=source, key="transform")
    if kind == "affine" and n < 3:
        raise InputError("an affine georeference needs at least 3 reference points",
                         source=source, key="transform")
    if np.any(np.abs(lat) > 90) or np.any(np.abs(lon) > 180):
        raise InputError("latitude must be within +-90 and longitude within +-180 degrees",
                         source=source)
    g = Georeference(float(lat.mean()), float(lon.mean()), np.eye(2), np.zeros(2), kind, 0, 0, n)
    e, nn = g.enu(lat, lon)
    if np.ptp(e) ** 2 + np.ptp(nn) ** 2 < 1e-6 or np.ptp(x_m) ** 2 + np.ptp(y_m) ** 2 < 1e-6:
        raise InputError("the reference points coincide; expected distinct points",
                         source=source)
    if kind == "affine":
        sv = np.linalg.svd(np.column_stack([e - e.mean(), nn - nn.mean()]), compute_uv=False)
        sf = np.linalg.svd(np.column_stack([x_m - x_m.mean(), y_m - y_m.mean()]),
                           compute_uv=False)
        if sv[-1] < 1e-3 * sv[0] or sf[-1] < 1e-3 * sf[0]:
            raise InputError("the reference points lie on one line; an affine georeference "
                             "needs three points that span the floor (or use similarity)",
                             source=source, key="points")
        A = np.column_stack([e, nn, np.ones(n)])
        coef, *_ = np.linalg.lstsq(A, np.column_stack([x_m, y_m]), rcond=None)
        mat, off = coef[:2].T, coef[2]
    else:
        w = e + 1j * nn
        z = x_m + 1j * y_m
        best = None
        for mirror in ((False, True) if n >= 3 else (False,)):
            ww = np.conj(w) if mirror else w
            wc, zc = ww - ww.mean(), z - z.mean()
            a = np.sum(np.conj(wc) * zc) / np.sum(np.abs(wc) ** 2)
            b = z.mean() - a * ww.mean()
            res = np.abs(a * ww + b - z)
            if best is None or res.max() < best[0] - 1e-9:
                best = (res.max(), a, b, mirror)
        _, a, b, mirror = best
        mat = np.array([[a.real, -a.imag], [a.imag, a.real]])
        if mirror:
            mat = mat @ np.array([[1.0, 0.0], [0.0, -1.0]])
        off = np.array([b.real, b.imag])
    g.matrix, g.offset = mat, off
    fx, fy = g.to_floor(lat, lon)
    res = np.hypot(fx - x_m, fy - y_m)
    g.rms_m = float(np.sqrt(np.mean(res ** 2)))
    g.max_residual_m = float(res.max())
    if g.max_residual_m > 5.0:
        k = int(np.argmax(res))
        raise InputError(f"reference points disagree: point {k + 1} is {g.max_residual_m:.1f} m "
                         f"off the fitted {kind} transform (latitude/longitude swapped, or a "
                         f"typo?)", source=source)
    return g


def read_georef(georef) -> Georeference:
    """A georeference from a YAML (``points: [{lat, lon, x_m, y_m}, ...]``, optional
    ``transform``) or a CSV with columns ``lat,lon,x_m,y_m`` (a path, bytes or a file-like
    object, told apart by the name's ``.csv``; or the parsed dict)."""
    if isinstance(georef, Georeference):
        return georef
    if isinstance(georef, dict):
        data, lines, source = georef, {}, "<georef>"
    else:
        raw, source = read_input(georef)
        if source.lower().endswith(".csv"):
            try:
                df = pd.read_csv(io.BytesIO(raw), encoding="utf-8-sig")
            except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
                raise InputError(f"not a readable CSV ({str(exc).splitlines()[0]})",
                                 source=source) from None
            df.columns = [str(c).strip().lower() for c in df.columns]
            need = ["lat", "lon", "x_m", "y_m"]
            miss = [c for c in need if c not in df.columns]
            if miss:
                raise InputError(f"missing column(s) {', '.join(miss)}, expected lat,lon,x_m,y_m",
                                 source=source, line=1)
            vals = df[need].apply(pd.to_numeric, errors="coerce").to_numpy(float)
            bad = ~np.isfinite(vals).all(axis=1)
            if bad.any():
                raise InputError("expected finite numbers in lat,lon,x_m,y_m", source=source,
                                 line=int(np.argmax(bad)) + 2)
            return fit_georeference(*vals.T, source=source)
        data, lines = read_yaml(raw, name=source)
    ctx = Ctx(source, lines)
    if not isinstance(data, dict):
        ctx.fail((), "expected a mapping with 'points: [{lat, lon, x_m, y_m}, ...]'")
    check_keys(ctx, (), data, {"points", "transform", "description", "crs"}, {"points"})
    pts = data["points"]
    if not isinstance(pts, list):
        ctx.fail(("points",), "expected a list of {lat, lon, x_m, y_m}")
    rows = []
    for i, p in enumerate(pts):
        if not isinstance(p, dict):
            ctx.fail(("points", i), "expected {lat, lon, x_m, y_m}")
        check_keys(ctx, ("points", i), p, {"lat", "lon", "x_m", "y_m", "name"},
                   {"lat", "lon", "x_m", "y_m"})
        rows.append([check_number(ctx, ("points", i, "lat"), p["lat"], lo=-90, hi=90,
                                  what="latitude"),
                     check_number(ctx, ("points", i, "lon"), p["lon"], lo=-180, hi=180,
                                  what="longitude"),
                     check_number(ctx, ("points", i, "x_m"), p["x_m"], lo=-MAX_FLOOR_M,
                                  hi=MAX_FLOOR_M, what="x in metres"),
                     check_number(ctx, ("points", i, "y_m"), p["y_m"], lo=-MAX_FLOOR_M,
                                  hi=MAX_FLOOR_M, what="y in metres")])
    arr = np.array(rows, float).reshape(-1, 4)
    try:
        return fit_georeference(*arr.T, kind=data.get("transform", "similarity"), source=source)
    except InputError as exc:
        if exc.source:
            raise
        raise InputError(exc.detail, source=source) from None
