"""Propagation: received power of APs at points and on grids, for a site's model.

Received power (DESIGN.md section 6)::

    rssi_dbm = tx_power_dbm + ap_gain_dbi + client_gain_dbi - PL(d3D, f) - penetration_db

``ap_gain_dbi`` is the site's (one omni gain) for an AP without an antenna of its own, else
its antenna's gain toward the point (:mod:`wifiplan.radio.antenna`): toward the direct
ray's departure direction for a law; for the hall model toward each ray's own
(:func:`ray_gains_dbi`: the direct ray, the floor and the roof reflections).

for a named law (:mod:`wifiplan.radio.pathloss`) and the walls and obstacles crossed
(:mod:`wifiplan.radio.geometry`, fast kernels in :mod:`wifiplan.radio.kernel`); the default
hall model adds the floor and roof reflections and the diffuse field
(:mod:`wifiplan.radio.hall`).
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..fileio import dump_yaml, read_yaml, write_atomic
from .geometry import Geometry
from .pathloss import HALL, MODELS, PARAM_RANGES, check_model_params, path_loss_db

from .hall import (combine_dbm, combine_grid_dbm, diffuse_scale, hall_gains, image_height_m,
                   room_of_site)
from .kernel import (penetration_grid_fast, penetration_grids_fast, penetration_points_fast,
                     prepare)
from ..validation import Ctx, check_keys, check_number
from .antenna import constant_gain_dbi, mounted

GRID_THREADS = 2  # radio-map chunks computed in parallel (numpy releases the GIL)


#: A site's propagation defaults (DESIGN.md section 4): the model, the AP mounting height and
#: the terminal's height [m], the antenna gains [dBi].
PROPAGATION_DEFAULTS = {"model": HALL, "ap_height_m": 4.0, "client_height_m": 1.2,
                        "ap_gain_dbi": 3.0, "client_gain_dbi": 0.0}


def model_note(site) -> str | None:
    """A one-line note for a site that names a path-loss law instead of the hall model (sites
    written by earlier versions name their then-default ``3gpp-inf-sl``): what it gets."""
    name = site.propagation.get("model", HALL)
    if name == HALL:
        return None
    return (f"{site.source or site.name}: propagation.model {name} is the straight-line model "
            f"(a path-loss law plus the losses crossed, no reflections or diffuse field); "
            f"remove the key for the enclosed-hall model (docs/radio-model.md)")



def penetration_points(geom: Geometry, ap_xyh, px, py, client_height_m: float,
                       by_material: bool = False):
    """Penetration loss [dB] (or crossings per material) at arbitrary points.

    Equal to :func:`penetration_reference`; the predicates are evaluated only for the points
    inside the angular sector each wall or obstacle spans from the AP
    (:func:`wifiplan.radio.kernel.penetration_points_fast`)."""
    return penetration_points_fast(geom, ap_xyh, px, py, client_height_m, by_material)


def penetration_grid(geom: Geometry, ap_xyh, xs: np.ndarray, ys: np.ndarray,
                     client_height_m: float) -> np.ndarray:
    """Penetration loss [dB] on the grid ``ys`` x ``xs``, shape (len(ys), len(xs))."""
    return penetration_grid_fast(geom, ap_xyh, xs, ys, client_height_m)


# --------------------------------------------------------------------------------------
# The propagation model of a site (and its calibrated version)
# --------------------------------------------------------------------------------------

MODEL_FILE_KEYS = {"model", "ap_height_m", "client_height_m", "ap_gain_dbi", "client_gain_dbi",
                   "materials", "ap_offsets_db", "calibration", "source_site"}


@dataclass
class PropagationModel:
    """Everything needed to turn AP settings into received power on a site.

    ``room``: the hall's :class:`~wifiplan.radio.hall.Room` (from the site's ``building:`` block,
    outline, walls and obstacles), used by the ``hall`` model."""
    model: str | Callable = HALL
    params: dict[str, float] = field(default_factory=dict)
    ap_gain_dbi: float = PROPAGATION_DEFAULTS["ap_gain_dbi"]
    client_gain_dbi: float = PROPAGATION_DEFAULTS["client_gain_dbi"]
    client_height_m: float = PROPAGATION_DEFAULTS["client_height_m"]
    material_losses: dict[str, float] = field(default_factory=dict)   # full table [dB]
    ap_offsets_db: dict[str, float] = field(default_factory=dict)
    calibration: dict[str, Any] = field(default_factory=dict)
    room: Any = None

    @classmethod
    def for_site(cls, site, model_file: str | Path | dict | None = None) -> "PropagationModel":
        """The site's model, updated by a calibrated model file when given."""
        p = site.propagation
        d = None
        if model_file is not None:
            d = model_file if isinstance(model_file, dict) else load_model_file(model_file)
        # the rooms are derived only for a model that uses them (the hall model)
        hall = p.get("model", HALL) == HALL or (d is not None and d.get("model") == HALL)
        m = cls(model=p.get("model", HALL),
                params={k: v for k, v in p.items() if k not in PROPAGATION_DEFAULTS},
                **{k: p.get(k, PROPAGATION_DEFAULTS[k])
                   for k in ("ap_gain_dbi", "client_gain_dbi", "client_height_m")},
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
        """True for the enclosed-hall model (:mod:`wifiplan.radio.hall`)."""
        return self.model == HALL and self.room is not None

    def path_loss_db(self, distance_m, freq_mhz):
        """Loss [dB] of the named law; for the hall model, of its direct ray (free space)."""
        return path_loss_db(self.model, distance_m, freq_mhz, **self.params)

    def hall_terms(self, horizontal_m, ap_height_m: float, freq_mhz, ray_gains=None):
        """The hall model's (g_low, g_roof, g_rev) linear gains at horizontal distances [m]
        (:func:`wifiplan.radio.hall.hall_gains`; ``ray_gains`` the AP antenna's linear
        gains toward the direct, floor and roof rays)."""
        return hall_gains(self.room, horizontal_m, ap_height_m, self.client_height_m, freq_mhz,
                          self.params.get("reverb_offset_db", 0.0),
                          self.params.get("reverb_time_offset_db", 0.0), ray_gains)

    def diffuse_level(self, ap, labels) -> np.ndarray:
        """The diffuse level [1/m^2] of ``ap`` at cells of the room indices ``labels``
        (:func:`wifiplan.radio.hall.diffuse_scale`)."""
        return diffuse_scale(self.room, ap.x_m, ap.y_m, labels,
                             self.params.get("coupling_offset_db", 0.0))

    def roof_image_height_m(self, ap_height_m: float) -> float:
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
    data, lines = read_yaml(path)
    ctx = Ctx(str(path), lines)
    if not isinstance(data, dict):
        ctx.fail((), "expected a model mapping with a 'model' key")
    name = data.get("model")
    if name not in MODELS:
        ctx.fail(("model",), f"unknown path-loss model {name!r}, expected one of "
                             f"{', '.join(MODELS)}")
    allowed = MODEL_FILE_KEYS | set(MODELS[name].params)
    check_keys(ctx, (), data, allowed, {"model"})
    for k, v in data.items():
        if k in PARAM_RANGES:
            lo, hi = PARAM_RANGES[k]
            check_number(ctx, (k,), v, lo=lo, hi=hi, what=k)
        elif k in MODELS[name].params or k.endswith(("_dbi", "_m")):
            hi = 100000 if k.endswith("_mhz") else 1000   # freq_ref_mhz is in MHz
            check_number(ctx, (k,), v, lo=-1000, hi=hi, what="a number")
    for k, v in (data.get("materials") or {}).items():
        vv = v["loss_db"] if isinstance(v, dict) and "loss_db" in v else v
        check_number(ctx, ("materials", k), vv, lo=0, hi=100, what="a loss in dB")
    for k, v in (data.get("ap_offsets_db") or {}).items():
        check_number(ctx, ("ap_offsets_db", k), v, lo=-60, hi=60, what="an offset in dB")
    return data


def save_model_file(model: PropagationModel, path: str | Path) -> Path:
    return write_atomic(path, dump_yaml(model.to_dict()))


# --------------------------------------------------------------------------------------
# Received power
# --------------------------------------------------------------------------------------


def _ap_arrays(aps):
    return (np.array([[a.x_m, a.y_m, a.height_m] for a in aps], float).reshape(-1, 3),
            np.array([a.tx_power_dbm for a in aps], float),
            np.array([5000.0 + 5.0 * a.channel for a in aps], float))


def ray_gains_dbi(model: PropagationModel, ap, dx, dy):
    """Gain [dBi] of the AP's antenna toward the rays that reach a terminal at the offsets
    ``dx``, ``dy`` [m] from the AP: (direct,) for a law; (direct, floor, roof) for the
    hall. Each ray leaves the AP toward its image of the terminal (the image method of
    :mod:`wifiplan.radio.hall`): the terminal itself (height difference
    ``client - ap``), its image in the floor (``-client - ap``) and in the roof
    (``2 H - client - ap``, from :func:`~wifiplan.radio.hall.image_height_m`)."""
    m = mounted(ap)
    h = float(ap.height_m)
    hc = model.client_height_m
    direct = m.gain_toward_dbi(dx, dy, hc - h)
    if not model.is_hall:
        return (direct,)
    return (direct, m.gain_toward_dbi(dx, dy, -hc - h),
            m.gain_toward_dbi(dx, dy, model.roof_image_height_m(h) - hc))


def _linear(g_dbi):
    return 10.0 ** (np.asarray(g_dbi, float) / 10.0)


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
        gain = constant_gain_dbi(a, model.ap_gain_dbi)
        rays = None if gain is not None else ray_gains_dbi(model, a, x - xyh[i, 0],
                                                           y - xyh[i, 1])
        if model.is_hall:
            r = np.sqrt((x - xyh[i, 0]) ** 2 + (y - xyh[i, 1]) ** 2)
            pen_r = penetration_points(geom, (xyh[i, 0], xyh[i, 1],
                                              model.roof_image_height_m(xyh[i, 2])),
                                       x, y, model.client_height_m)
            g_low, g_roof, g_rev = model.hall_terms(
                r, xyh[i, 2], f[i], None if rays is None else [_linear(g) for g in rays])
            g_rev = g_rev * model.diffuse_level(a, model.room.rooms.label_at(x, y))
            out[i] = combine_dbm(tx[i] + model.ap_offsets_db.get(a.id, 0.0),
                                 (gain if rays is None else 0.0) + model.client_gain_dbi,
                                 g_low, g_roof, g_rev, pen, pen_r)
            continue
        d3 = np.sqrt((x - xyh[i, 0]) ** 2 + (y - xyh[i, 1]) ** 2
                     + (xyh[i, 2] - model.client_height_m) ** 2)
        out[i] = (tx[i] + (gain if rays is None else rays[0]) + model.client_gain_dbi
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
    out = np.empty((len(aps), len(ys), len(xs)), np.float32)
    if not len(aps):
        return out
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
            out[s + i] = _layer(model, ap, pl_grid, pen[i], None if pen_r is None else pen_r[i])

    starts = range(0, len(aps), step)
    if workers > 1 and len(starts) > 1:
        # numpy releases the GIL in the array work: the chunks run on the cores together
        ex = ThreadPoolExecutor(workers)
        try:
            list(ex.map(run, starts))
        except BaseException:
            # Ctrl-C or an error: do not wait for the chunks that still run
            ex.shutdown(wait=False, cancel_futures=True)
            raise
        ex.shutdown()
    else:
        for s in starts:
            run(s)
    return out


def _layer(model, ap, pl_grid: GridPathLoss, pen, pen_r):
    """Received power [dBm] of one AP on ``pl_grid``'s grid: the shared path-loss tables
    for an antenna of one gain, the AP's own rays for a directional one."""
    gain = constant_gain_dbi(ap, model.ap_gain_dbi)
    if gain is not None:
        return _rssi_layer(model, ap, pl_grid(ap), pen, pen_r, pl_grid.diffuse(ap), gain)
    dx = pl_grid.xs[None, :] - ap.x_m
    dy = pl_grid.ys[:, None] - ap.y_m
    rays = ray_gains_dbi(model, ap, dx, dy)
    tx = ap.tx_power_dbm + model.ap_offsets_db.get(ap.id, 0.0)
    if model.is_hall:
        # the tables' frequency (GridPathLoss._key), moved to the channel as for every AP
        terms = np.stack(model.hall_terms(np.sqrt(dx ** 2 + dy ** 2), float(ap.height_m),
                                          HALL_TABLE_MHZ, [_linear(g) for g in rays])
                         ).astype(np.float32)
        return combine_grid_dbm(tx + hall_channel_db(ap), model.client_gain_dbi, terms, pen,
                                pen_r, pl_grid.diffuse(ap))
    return (tx + model.client_gain_dbi + rays[0] - pl_grid(ap) - pen).astype(np.float32)


def _rssi_layer(model, ap, pl, pen, pen_r, diffuse=None, gain_dbi=None):
    """Received power [dBm] of one AP on a grid from its path-loss layer (or the hall's
    stacked gains), its penetration layers and (hall) its diffuse level; ``gain_dbi``
    the AP's antenna gain [dBi] (one value; default the site's)."""
    gain = model.ap_gain_dbi if gain_dbi is None else gain_dbi
    tx = ap.tx_power_dbm + model.ap_offsets_db.get(ap.id, 0.0)
    if model.is_hall:
        return combine_grid_dbm(tx + hall_channel_db(ap), gain
                                + model.client_gain_dbi, pl, pen, pen_r, diffuse)
    return tx + gain + model.client_gain_dbi - pl - pen


def rssi_grid_dbm(site, ap, xs, ys, model: PropagationModel, geom: Geometry,
                  path_loss: GridPathLoss | None = None) -> np.ndarray:
    """Received power [dBm] of one AP on the grid ys x xs, shape (len(ys), len(xs)), float32.

    ``path_loss``: a :class:`GridPathLoss` for this grid, shared between the APs of a map."""
    grid = path_loss or GridPathLoss(model, xs, ys)
    pen = penetration_grid(geom, (ap.x_m, ap.y_m, ap.height_m), xs, ys, model.client_height_m)
    pen_r = (penetration_grid(geom, (ap.x_m, ap.y_m, model.roof_image_height_m(ap.height_m)),
                              xs, ys, model.client_height_m) if model.is_hall else None)
    return _layer(model, ap, grid, pen, pen_r).astype(np.float32)
