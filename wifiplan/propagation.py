"""Propagation: named path-loss laws, wall and obstacle penetration, received power.

Received power (DESIGN.md section 6)::

    rssi_dbm = tx_power_dbm + ap_gain_dbi + client_gain_dbi - PL(d3D, f) - penetration_db

Path-loss laws are chosen by name (``model="3gpp-inf-sl"``) or given as a callable
``f(distance_m, freq_mhz, **params) -> loss_db``, as pvlib does for its models.

Penetration rule (the same for every kernel):

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
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .errors import InputError

# --------------------------------------------------------------------------------------
# Path-loss laws
# --------------------------------------------------------------------------------------


def _lg(x):
    return np.log10(x)


def _inf_los(d, fc):
    return 31.84 + 21.50 * _lg(d) + 19.00 * _lg(fc)


def pl_3gpp_inf_los(distance_m, freq_mhz):
    """3GPP TR 38.901 V17.0.0 Table 7.4.1-1, InF-LOS:
    PL = 31.84 + 21.50 log10(d3D) + 19.00 log10(fc) [dB], fc in GHz; sigma_SF = 4.3 dB."""
    return _inf_los(distance_m, freq_mhz / 1000.0)


def _inf_sl(d, fc):
    return np.maximum(_inf_los(d, fc), 33.0 + 25.5 * _lg(d) + 20.0 * _lg(fc))


def pl_3gpp_inf_sl(distance_m, freq_mhz):
    """3GPP TR 38.901 Table 7.4.1-1, InF-SL (sparse clutter, low BS):
    PL = max(PL_LOS, 33 + 25.5 log10(d3D) + 20 log10(fc)); sigma_SF = 5.7 dB."""
    return _inf_sl(distance_m, freq_mhz / 1000.0)


def pl_3gpp_inf_dl(distance_m, freq_mhz):
    """3GPP TR 38.901 Table 7.4.1-1, InF-DL (dense clutter, low BS):
    PL = max(PL_LOS, PL_SL, 18.6 + 35.7 log10(d3D) + 20 log10(fc)); sigma_SF = 7.2 dB."""
    fc = freq_mhz / 1000.0
    d = distance_m
    return np.maximum(_inf_sl(d, fc), 18.6 + 35.7 * _lg(d) + 20.0 * _lg(fc))


def pl_3gpp_inf_sh(distance_m, freq_mhz):
    """3GPP TR 38.901 Table 7.4.1-1, InF-SH (sparse clutter, high BS):
    PL = max(PL_LOS, 32.4 + 23.0 log10(d3D) + 20 log10(fc)); sigma_SF = 5.9 dB."""
    fc = freq_mhz / 1000.0
    d = distance_m
    return np.maximum(_inf_los(d, fc), 32.4 + 23.0 * _lg(d) + 20.0 * _lg(fc))


def pl_3gpp_inf_dh(distance_m, freq_mhz):
    """3GPP TR 38.901 Table 7.4.1-1, InF-DH (dense clutter, high BS):
    PL = max(PL_LOS, 33.63 + 21.9 log10(d3D) + 20 log10(fc)); sigma_SF = 4.0 dB."""
    fc = freq_mhz / 1000.0
    d = distance_m
    return np.maximum(_inf_los(d, fc), 33.63 + 21.9 * _lg(d) + 20.0 * _lg(fc))


def _inh_los(d, fc):
    return 32.4 + 17.3 * _lg(d) + 20.0 * _lg(fc)


def pl_3gpp_inh_office_los(distance_m, freq_mhz):
    """3GPP TR 38.901 Table 7.4.1-1, InH-Office LOS:
    PL = 32.4 + 17.3 log10(d3D) + 20 log10(fc); sigma_SF = 3 dB (1 <= d3D <= 150 m)."""
    return _inh_los(distance_m, freq_mhz / 1000.0)


def pl_3gpp_inh_office_nlos(distance_m, freq_mhz):
    """3GPP TR 38.901 Table 7.4.1-1, InH-Office NLOS:
    PL = max(PL_LOS, 17.3 + 38.3 log10(d3D) + 24.9 log10(fc)); sigma_SF = 8.03 dB."""
    fc = freq_mhz / 1000.0
    d = distance_m
    return np.maximum(_inh_los(d, fc), 17.3 + 38.3 * _lg(d) + 24.9 * _lg(fc))


def pl_itu_p1238_industrial_los(distance_m, freq_mhz):
    """ITU-R P.1238-12 (2023) site-general model, eq. (2) with Table 2, industrial LOS:
    L = 10 a log10(d) + b + 10 g log10(f), a = 2.31, b = 24.52, g = 2.06, f in GHz;
    sigma = 2.69 dB."""
    return 23.1 * _lg(distance_m) + 24.52 + 20.6 * _lg(freq_mhz / 1000.0)


def pl_itu_p1238_industrial_nlos(distance_m, freq_mhz):
    """ITU-R P.1238-12 (2023) site-general model, eq. (2) with Table 2, industrial NLOS:
    a = 3.79, b = 21.01, g = 1.34, f in GHz; sigma = 9.05 dB."""
    return 37.9 * _lg(distance_m) + 21.01 + 13.4 * _lg(freq_mhz / 1000.0)


def pl_log_distance(distance_m, freq_mhz, pl0_db=46.7, exponent=2.2, freq_ref_mhz=None):
    """Log-distance law: PL = pl0_db + 10 n log10(d / 1 m) [+ 20 log10(f / freq_ref_mhz)].

    ``pl0_db`` is the loss at 1 m (free space at 5.5 GHz: 20 log10(4 pi / lambda) = 47.2 dB);
    with ``freq_ref_mhz`` the intercept applies at that frequency and other channels are
    scaled as in free space (Rappaport, Wireless Communications, 2nd ed., eq. 4.68)."""
    pl = pl0_db + 10.0 * exponent * _lg(distance_m)
    if freq_ref_mhz:
        pl = pl + 20.0 * _lg(np.asarray(freq_mhz, float) / freq_ref_mhz)
    return pl


def pl_free_space(distance_m, freq_mhz):
    """Free-space basic transmission loss, ITU-R P.525-4 eq. (4) (Friis):
    L = 20 log10(4 pi d f / c) [dB], d in m, f in MHz (32.45 + 20 log10 f + 20 log10 d_km)."""
    return 20.0 * _lg(4.0 * np.pi * distance_m * np.asarray(freq_mhz, float) * 1e6
                      / 299_792_458.0)


def pl_hall_direct(distance_m, freq_mhz, reverb_offset_db=0.0, coupling_offset_db=0.0):
    """The direct ray of the hall model (:mod:`wifiplan.hall`): free space (ITU-R P.525-4).

    The hall's received power adds the floor and roof reflections and the diffuse field
    (:meth:`PropagationModel.hall_terms`); this law alone is its line-of-sight part."""
    return pl_free_space(distance_m, freq_mhz)


@dataclass(frozen=True)
class PathLossModel:
    name: str
    func: Callable
    sigma_db: float
    source: str
    params: tuple[str, ...] = ()


MODELS: dict[str, PathLossModel] = {m.name: m for m in [
    PathLossModel("3gpp-inf-los", pl_3gpp_inf_los, 4.3, "3GPP TR 38.901 Table 7.4.1-1 InF-LOS"),
    PathLossModel("3gpp-inf-sl", pl_3gpp_inf_sl, 5.7, "3GPP TR 38.901 Table 7.4.1-1 InF-SL"),
    PathLossModel("3gpp-inf-dl", pl_3gpp_inf_dl, 7.2, "3GPP TR 38.901 Table 7.4.1-1 InF-DL"),
    PathLossModel("3gpp-inf-sh", pl_3gpp_inf_sh, 5.9, "3GPP TR 38.901 Table 7.4.1-1 InF-SH"),
    PathLossModel("3gpp-inf-dh", pl_3gpp_inf_dh, 4.0, "3GPP TR 38.901 Table 7.4.1-1 InF-DH"),
    PathLossModel("3gpp-inh-office-los", pl_3gpp_inh_office_los, 3.0,
                  "3GPP TR 38.901 Table 7.4.1-1 InH-Office LOS"),
    PathLossModel("3gpp-inh-office-nlos", pl_3gpp_inh_office_nlos, 8.03,
                  "3GPP TR 38.901 Table 7.4.1-1 InH-Office NLOS"),
    PathLossModel("itu-p1238-industrial-los", pl_itu_p1238_industrial_los, 2.69,
                  "ITU-R P.1238-12 Table 2 industrial LOS"),
    PathLossModel("itu-p1238-industrial-nlos", pl_itu_p1238_industrial_nlos, 9.05,
                  "ITU-R P.1238-12 Table 2 industrial NLOS"),
    PathLossModel("log-distance", pl_log_distance, 6.0, "log-distance law (Rappaport eq. 4.68)",
                  ("pl0_db", "exponent", "freq_ref_mhz")),
    PathLossModel("free-space", pl_free_space, 0.0, "ITU-R P.525-4 eq. (4), free space"),
    PathLossModel("hall", pl_hall_direct, 4.0,
                  "enclosed hall: free-space ray, floor and roof reflections (ITU-R P.2040-3), "
                  "reverberant field (Andersen et al. 2007; Steinboeck et al. 2013)",
                  ("reverb_offset_db", "coupling_offset_db")),
]}

HALL = "hall"   # the default model (site.PROPAGATION_DEFAULTS)
GRID_THREADS = 2  # radio-map chunks computed in parallel (numpy releases the GIL)

MIN_DISTANCE_M = 1.0  # the laws hold from 1 m; closer points are evaluated at 1 m


def model_note(site) -> str | None:
    """A one-line note for a site that names a path-loss law instead of the hall model (sites
    written by earlier versions name their then-default ``3gpp-inf-sl``): what it gets."""
    name = site.propagation.get("model", HALL)
    if name == HALL:
        return None
    return (f"{site.source or site.name}: propagation.model {name} is the straight-line model "
            f"(a path-loss law plus the losses crossed, no reflections or diffuse field); "
            f"remove the key for the enclosed-hall model (docs/radio-model.md)")


def check_model_params(model: str | Callable, params: dict) -> None:
    """Raise InputError when ``params`` are not parameters of the named model."""
    if callable(model):
        return
    if model not in MODELS:
        raise InputError(f"unknown path-loss model {model!r}, expected one of {', '.join(MODELS)}")
    allowed = MODELS[model].params
    for k in params:
        if k not in allowed:
            raise InputError(f"'{k}' is not a parameter of model {model}"
                             + (f" (it takes {', '.join(allowed)})" if allowed
                                else " (it takes none)"))


def path_loss_db(model: str | Callable, distance_m, freq_mhz, **params):
    """Path loss [dB] of a named law (or a callable) at 3-D distance [m] and frequency [MHz].

    Vectorised: ``distance_m`` and ``freq_mhz`` broadcast. Distances below 1 m are
    evaluated at 1 m, where the laws start to hold.
    """
    d = np.maximum(np.asarray(distance_m, dtype=float), MIN_DISTANCE_M)
    f = np.asarray(freq_mhz, dtype=float)
    if callable(model):
        return model(d, f, **params)
    check_model_params(model, params)
    return MODELS[model].func(d, f, **params)


# --------------------------------------------------------------------------------------
# Geometry for penetration
# --------------------------------------------------------------------------------------


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


def _inside_polygon(poly: np.ndarray, px, py):
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
    in_p = _inside_polygon(poly, px, py)
    in_a = bool(_inside_polygon(poly, np.array([ax]), np.array([ay]))[0])
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


def penetration_points(geom: Geometry, ap_xyh, px, py, client_height_m: float,
                       by_material: bool = False):
    """Penetration loss [dB] (or crossings per material) at arbitrary points.

    Equal to :func:`penetration_reference`; the predicates are evaluated only for the points
    inside the angular sector each wall or obstacle spans from the AP
    (:func:`wifiplan.kernel.penetration_points_fast`)."""
    from .kernel import penetration_points_fast
    return penetration_points_fast(geom, ap_xyh, px, py, client_height_m, by_material)


def penetration_grid(geom: Geometry, ap_xyh, xs: np.ndarray, ys: np.ndarray,
                     client_height_m: float) -> np.ndarray:
    """Penetration loss [dB] on the grid ``ys`` x ``xs``, shape (len(ys), len(xs))."""
    from .kernel import penetration_grid_fast
    return penetration_grid_fast(geom, ap_xyh, xs, ys, client_height_m)


# --------------------------------------------------------------------------------------
# The propagation model of a site (and its calibrated version)
# --------------------------------------------------------------------------------------

MODEL_FILE_KEYS = {"model", "ap_height_m", "client_height_m", "ap_gain_dbi", "client_gain_dbi",
                   "materials", "ap_offsets_db", "calibration", "source_site"}


@dataclass
class PropagationModel:
    """Everything needed to turn AP settings into received power on a site.

    ``room``: the hall's :class:`~wifiplan.hall.Room` (from the site's ``building:`` block,
    outline, walls and obstacles), used by the ``hall`` model."""
    model: str | Callable = HALL
    params: dict[str, float] = field(default_factory=dict)
    ap_gain_dbi: float = 3.0
    client_gain_dbi: float = 0.0
    client_height_m: float = 1.2
    material_losses: dict[str, float] = field(default_factory=dict)   # full table [dB]
    ap_offsets_db: dict[str, float] = field(default_factory=dict)
    calibration: dict[str, Any] = field(default_factory=dict)
    room: Any = None

    @classmethod
    def for_site(cls, site, model_file: str | Path | dict | None = None) -> "PropagationModel":
        """The site's model, updated by a calibrated model file when given."""
        from .hall import room_of_site
        from .site import PROPAGATION_DEFAULTS
        p = site.propagation
        d = None
        if model_file is not None:
            d = model_file if isinstance(model_file, dict) else load_model_file(model_file)
        # the rooms are derived only for a model that uses them (the hall model)
        hall = p.get("model", HALL) == HALL or (d is not None and d.get("model") == HALL)
        m = cls(model=p.get("model", HALL),
                params={k: v for k, v in p.items() if k not in PROPAGATION_DEFAULTS},
                ap_gain_dbi=p.get("ap_gain_dbi", 3.0), client_gain_dbi=p.get("client_gain_dbi", 0.0),
                client_height_m=p.get("client_height_m", 1.2),
                material_losses=site.material_losses(),
                room=room_of_site(site, site.material_losses()) if hall else None)
        if d is not None:
            m = m.updated(d, source=str(model_file) if not isinstance(model_file, dict)
                          else "<model>")
        return m

    def updated(self, d: dict, source: str = "<model>") -> "PropagationModel":
        name = d.get("model", self.model)
        params = {k: float(v) for k, v in d.items() if k not in MODEL_FILE_KEYS}
        if name == self.model and not params:
            params = dict(self.params)
        check_model_params(name, params)
        mats = dict(self.material_losses)
        for k, v in (d.get("materials") or {}).items():
            mats[k] = float(v["loss_db"] if isinstance(v, dict) else v)
        return PropagationModel(
            model=name, params=params,
            ap_gain_dbi=float(d.get("ap_gain_dbi", self.ap_gain_dbi)),
            client_gain_dbi=float(d.get("client_gain_dbi", self.client_gain_dbi)),
            client_height_m=float(d.get("client_height_m", self.client_height_m)),
            material_losses=mats,
            ap_offsets_db={str(k): float(v) for k, v in (d.get("ap_offsets_db") or {}).items()},
            calibration=dict(d.get("calibration") or {}), room=self.room)

    @property
    def is_hall(self) -> bool:
        """True for the enclosed-hall model (:mod:`wifiplan.hall`)."""
        return self.model == HALL and self.room is not None

    def path_loss_db(self, distance_m, freq_mhz):
        """Loss [dB] of the named law; for the hall model, of its direct ray (free space)."""
        return path_loss_db(self.model, distance_m, freq_mhz, **self.params)

    def hall_terms(self, horizontal_m, ap_height_m: float, freq_mhz):
        """The hall model's (g_low, g_roof, g_rev) linear gains at horizontal distances [m]
        (:func:`wifiplan.hall.hall_gains`)."""
        from .hall import hall_gains
        return hall_gains(self.room, horizontal_m, ap_height_m, self.client_height_m, freq_mhz,
                          self.params.get("reverb_offset_db", 0.0))

    def diffuse_level(self, ap, labels) -> np.ndarray:
        """The diffuse level [1/m^2] of ``ap`` at cells of the room indices ``labels``
        (:func:`wifiplan.hall.diffuse_scale`)."""
        from .hall import diffuse_scale
        return diffuse_scale(self.room, ap.x_m, ap.y_m, labels,
                             self.params.get("coupling_offset_db", 0.0))

    def roof_image_height_m(self, ap_height_m: float) -> float:
        from .hall import image_height_m
        return image_height_m(self.room, ap_height_m)

    def to_dict(self) -> dict:
        d: dict[str, Any] = {"model": self.model if isinstance(self.model, str) else "custom"}
        d.update({k: float(v) for k, v in self.params.items()})
        d.update({"ap_gain_dbi": self.ap_gain_dbi, "client_gain_dbi": self.client_gain_dbi,
                  "client_height_m": self.client_height_m,
                  "materials": {k: {"loss_db": round(float(v), 3)}
                                for k, v in self.material_losses.items()}})
        if self.ap_offsets_db:
            d["ap_offsets_db"] = {k: round(float(v), 3) for k, v in self.ap_offsets_db.items()}
        if self.calibration:
            d["calibration"] = self.calibration
        return d


def load_model_file(path: str | Path) -> dict:
    """Read a model YAML (as written by ``wifiplan survey calibrate``) and check its keys."""
    from .fileio import read_yaml
    from .site import _Ctx, _check_keys, _number
    data, lines = read_yaml(path)
    ctx = _Ctx(str(path), lines)
    if not isinstance(data, dict):
        ctx.fail((), "expected a model mapping with a 'model' key")
    name = data.get("model")
    if name not in MODELS:
        ctx.fail(("model",), f"unknown path-loss model {name!r}, expected one of {', '.join(MODELS)}")
    allowed = MODEL_FILE_KEYS | set(MODELS[name].params)
    _check_keys(ctx, (), data, allowed, {"model"})
    for k, v in data.items():
        if k in ("reverb_offset_db", "coupling_offset_db"):
            _number(ctx, (k,), v, lo=-40, hi=40, what="an offset in dB (-40 to 40)")
        elif k in MODELS[name].params or k.endswith(("_dbi", "_m")):
            hi = 100000 if k.endswith("_mhz") else 1000   # freq_ref_mhz is in MHz
            _number(ctx, (k,), v, lo=-1000, hi=hi, what="a number")
    for k, v in (data.get("materials") or {}).items():
        vv = v["loss_db"] if isinstance(v, dict) and "loss_db" in v else v
        _number(ctx, ("materials", k), vv, lo=0, hi=100, what="a loss in dB")
    for k, v in (data.get("ap_offsets_db") or {}).items():
        _number(ctx, ("ap_offsets_db", k), v, lo=-60, hi=60, what="an offset in dB")
    return data


def save_model_file(model: PropagationModel, path: str | Path) -> Path:
    from .fileio import dump_yaml, write_atomic
    return write_atomic(path, dump_yaml(model.to_dict()))


# --------------------------------------------------------------------------------------
# Received power
# --------------------------------------------------------------------------------------


def _ap_arrays(aps):
    return (np.array([[a.x_m, a.y_m, a.height_m] for a in aps], float).reshape(-1, 3),
            np.array([a.tx_power_dbm for a in aps], float),
            np.array([5000.0 + 5.0 * a.channel for a in aps], float))


def rssi_points_dbm(site, aps, x, y, model: PropagationModel | None = None,
                    geom: Geometry | None = None) -> np.ndarray:
    """Received power [dBm] of each AP at each point, shape (n_aps, n_points)."""
    model = model or PropagationModel.for_site(site)
    geom = geom or Geometry.from_site(site, model.material_losses)
    x = np.asarray(x, float).ravel()
    y = np.asarray(y, float).ravel()
    xyh, tx, f = _ap_arrays(aps)
    out = np.empty((len(aps), len(x)))
    for i, a in enumerate(aps):
        pen = penetration_points(geom, xyh[i], x, y, model.client_height_m)
        if model.is_hall:
            from .hall import combine_dbm
            r = np.sqrt((x - xyh[i, 0]) ** 2 + (y - xyh[i, 1]) ** 2)
            pen_r = penetration_points(geom, (xyh[i, 0], xyh[i, 1],
                                              model.roof_image_height_m(xyh[i, 2])),
                                       x, y, model.client_height_m)
            g_low, g_roof, g_rev = model.hall_terms(r, xyh[i, 2], f[i])
            g_rev = g_rev * model.diffuse_level(a, model.room.rooms.label_at(x, y))
            out[i] = combine_dbm(tx[i] + model.ap_offsets_db.get(a.id, 0.0),
                                 model.ap_gain_dbi + model.client_gain_dbi,
                                 g_low, g_roof, g_rev, pen, pen_r)
            continue
        d3 = np.sqrt((x - xyh[i, 0]) ** 2 + (y - xyh[i, 1]) ** 2
                     + (xyh[i, 2] - model.client_height_m) ** 2)
        out[i] = (tx[i] + model.ap_gain_dbi + model.client_gain_dbi
                  + model.ap_offsets_db.get(a.id, 0.0)
                  - model.path_loss_db(d3, f[i]) - pen)
    return out


HALL_TABLE_MHZ = 5500.0   # frequency of the hall model's grid tables


def hall_channel_db(ap) -> float:
    """[dB] from the hall's grid tables (at :data:`HALL_TABLE_MHZ`) to the AP's channel:
    every part of the hall model scales with lambda^2, i.e. 20 log10(f_table / f)."""
    return 20.0 * float(np.log10(HALL_TABLE_MHZ / (5000.0 + 5.0 * ap.channel)))


class GridPathLoss:
    """Path loss [dB] of APs on one grid, shared between APs.

    The 3-D distance from an AP to a grid point depends only on ``|x - x_ap|``,
    ``|y - y_ap|`` and the height difference, so the path loss of APs with the same height and
    channel is a table over the distinct ``|dx|`` and ``|dy|`` values, which APs on the same
    lattice (or one AP in the middle of the grid) share. Each entry is computed with the same
    operations as for one AP, so the values are the same. Named (element-wise) laws only;
    a callable model is evaluated per AP.
    """

    def __init__(self, model: "PropagationModel", xs, ys, aps=(), max_cells: int | None = None):
        self.model = model
        self.xs = np.asarray(xs, float)
        self.ys = np.asarray(ys, float)
        self.tables: dict = {}
        self.ok = isinstance(model.model, str)
        self.labels = (model.room.rooms.label_grid(self.xs, self.ys) if model.is_hall
                       else None)
        n = len(self.xs) * len(self.ys)
        self.max_cells = max_cells if max_cells is not None else 4 * n
        groups: dict = {}
        for a in aps:
            groups.setdefault(self._key(a) + self._residue(a), []).append(a)
        if self.ok:
            for k, grp in groups.items():
                ux = np.unique(np.abs(np.concatenate([self.xs - a.x_m for a in grp])))
                uy = np.unique(np.abs(np.concatenate([self.ys - a.y_m for a in grp])))
                # a table pays off when it is smaller than the grids it replaces
                if len(ux) * len(uy) <= min(self.max_cells, 0.8 * len(grp) * n):
                    self.tables[k] = self._table(k[:2], ux, uy)

    def _key(self, ap):
        # the hall's gains all scale with lambda^2: one table per height serves every
        # channel (:func:`hall_channel_db` moves it to the AP's channel)
        f = HALL_TABLE_MHZ if self.labels is not None else 5000.0 + 5.0 * ap.channel
        return (float(ap.height_m), f)

    def diffuse(self, ap) -> np.ndarray | None:
        """The hall's diffuse level [1/m^2] of ``ap`` on the grid (None for a law)."""
        return None if self.labels is None else self.model.diffuse_level(ap, self.labels)

    def _residue(self, ap):
        """Position of the AP inside a grid cell: APs with the same one share |dx|, |dy|."""
        out = []
        for v, axis in ((ap.x_m, self.xs), (ap.y_m, self.ys)):
            step = (axis[-1] - axis[0]) / (len(axis) - 1) if len(axis) > 1 else 1.0
            r = ((v - axis[0]) / step) % 1.0 if step > 0 else 0.0
            out.append(round(r, 6) % 1.0)
        return tuple(out)

    def _values(self, h, f, adx, ady):
        """Path loss [dB] (a law), or the hall's stacked (g_low, g_roof, g_rev) gains, at the
        offsets ``adx`` (columns) and ``ady`` (rows) from the AP."""
        if self.model.is_hall:
            r = np.sqrt(adx[None, :] ** 2 + ady[:, None] ** 2)
            return np.stack(self.model.hall_terms(r, h, f)).astype(np.float32)
        d3 = np.sqrt(adx[None, :] ** 2 + ady[:, None] ** 2 + (h - self.model.client_height_m) ** 2)
        return self.model.path_loss_db(d3, f)

    def _table(self, key, ux, uy):
        h, f = key
        return ux, uy, self._values(h, f, ux, uy)

    def __call__(self, ap) -> np.ndarray:
        """Path loss [dB] of ``ap`` on the grid, shape (len(ys), len(xs)); for the hall
        model its (g_low, g_roof, g_rev) gains, shape (3, len(ys), len(xs))."""
        k = self._key(ap)
        t = self.tables.get(k + self._residue(ap))
        adx = np.abs(self.xs - ap.x_m)
        ady = np.abs(self.ys - ap.y_m)
        if t is not None:
            ux, uy, pl = t
            ix = np.searchsorted(ux, adx)
            iy = np.searchsorted(uy, ady)
            if (ix < len(ux)).all() and (iy < len(uy)).all() and np.array_equal(ux[ix], adx) \
                    and np.array_equal(uy[iy], ady):
                return np.take(np.take(pl, iy, axis=-2), ix, axis=-1)
        if self.ok and len(np.unique(adx)) * len(np.unique(ady)) <= 0.6 * adx.size * ady.size:
            ux, uy = np.unique(adx), np.unique(ady)
            pl = self._table(k, ux, uy)[2]
            return np.take(np.take(pl, np.searchsorted(uy, ady), axis=-2),
                           np.searchsorted(ux, adx), axis=-1)
        return self._values(float(ap.height_m), k[1], self.xs - ap.x_m, self.ys - ap.y_m)


def rssi_grids_dbm(site, aps, xs, ys, model: PropagationModel, geom: Geometry,
                   path_loss: GridPathLoss | None = None) -> np.ndarray:
    """:func:`rssi_grid_dbm` of several APs, shape (n_aps, len(ys), len(xs)), float32: the
    same values, with the penetration of the APs computed together."""
    from .kernel import penetration_grids_fast
    out = np.empty((len(aps), len(ys), len(xs)), np.float32)
    if not len(aps):
        return out
    from .kernel import prepare
    pl_grid = path_loss or GridPathLoss(model, xs, ys, aps)
    per_ap = max(1, len(xs) * len(ys))
    step = max(1, int(8_000_000 // per_ap))           # ~64 MB of float64 per chunk
    workers = max(1, min(GRID_THREADS, os.cpu_count() or 1))
    if workers > 1 and len(aps) >= 2 * workers:       # at least two chunks, one per core
        step = min(step, -(-len(aps) // workers))
    prepare(geom)                                     # shared by the threads, made once

    def run(s):
        chunk = aps[s:s + step]
        xyh = [(a.x_m, a.y_m, a.height_m) for a in chunk]
        if model.is_hall:
            pen, pen_r = penetration_grids_fast(
                geom, xyh, xs, ys, model.client_height_m,
                image_heights=[model.roof_image_height_m(a.height_m) for a in chunk])
        else:
            pen = penetration_grids_fast(geom, xyh, xs, ys, model.client_height_m)
            pen_r = None
        for i, ap in enumerate(chunk):
            out[s + i] = _rssi_layer(model, ap, pl_grid(ap), pen[i],
                                     None if pen_r is None else pen_r[i], pl_grid.diffuse(ap))

    starts = range(0, len(aps), step)
    if workers > 1 and len(starts) > 1:
        # numpy releases the GIL in the array work: the chunks run on the cores together
        with ThreadPoolExecutor(workers) as ex:
            list(ex.map(run, starts))
    else:
        for s in starts:
            run(s)
    return out


def _rssi_layer(model, ap, pl, pen, pen_r, diffuse=None):
    """Received power [dBm] of one AP on a grid from its path-loss layer (or the hall's
    stacked gains), its penetration layers and (hall) its diffuse level."""
    tx = ap.tx_power_dbm + model.ap_offsets_db.get(ap.id, 0.0)
    if model.is_hall:
        from .hall import combine_grid_dbm
        return combine_grid_dbm(tx + hall_channel_db(ap), model.ap_gain_dbi
                                + model.client_gain_dbi, pl, pen, pen_r, diffuse)
    return tx + model.ap_gain_dbi + model.client_gain_dbi - pl - pen


def rssi_grid_dbm(site, ap, xs, ys, model: PropagationModel, geom: Geometry,
                  path_loss: GridPathLoss | None = None) -> np.ndarray:
    """Received power [dBm] of one AP on the grid ys x xs, shape (len(ys), len(xs)), float32.

    ``path_loss``: a :class:`GridPathLoss` for this grid, shared between the APs of a map."""
    grid = path_loss or GridPathLoss(model, xs, ys)
    pen = penetration_grid(geom, (ap.x_m, ap.y_m, ap.height_m), xs, ys, model.client_height_m)
    pen_r = (penetration_grid(geom, (ap.x_m, ap.y_m, model.roof_image_height_m(ap.height_m)),
                              xs, ys, model.client_height_m) if model.is_hall else None)
    return _rssi_layer(model, ap, grid(ap), pen, pen_r, grid.diffuse(ap)).astype(np.float32)
