"""RadioMap: received power of every AP on a grid over the site, and what follows from it.

Modelled on sionna-rt's RadioMap: per-AP received power (``rssi_dbm``), best-server
association (``best_server``), ``sinr_db``, ``cdf()`` and ``plot()``; plus what a Wi-Fi
designer needs: the second server, the cell boundary (best and second server within a few
dB), co-channel separation, and the same quantities at arbitrary points (``at_points``).

Per-AP layers are kept as *gain* maps (received power for 0 dBm transmit power), so a power
change is an addition and moving one AP recomputes one layer (:meth:`RadioMap.with_ap`).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Protocol

import numpy as np

from ..errors import InputError
from .antenna import antenna_key
from .plotting import plot_radiomap
from .propagation import Geometry, PropagationModel, rssi_grids_dbm, rssi_points_dbm
from ..rules import BOUNDARY_WITHIN_DB, NOISE_FLOOR_DBM

NOT_HEARD_DBM = -200.0
MW_CACHE_MAX_BYTES = 512 * 2 ** 20   # keep per-layer mW maps for fast edits up to this size


#: The largest grid a map or an evaluation is computed on [cells]: 4 million, e.g. a
#: 1 km x 1 km site at 0.5 m (DESIGN.md: a factory hall at 0.5-1 m is 10^4-10^6 cells).
MAX_GRID_CELLS = 4_000_000
#: The most memory the per-AP layers of one radio map may take [bytes] (float32 values;
#: the planner's map of every candidate mount point is the largest).
MAX_LAYER_BYTES = 3 * 1024 ** 3


def grid_shape(bounds, resolution_m: float, n_layers: int = 1) -> tuple[int, int]:
    """(nx, ny) of the grid of ``resolution_m`` [m] over ``bounds``, checked before anything
    is allocated: at most :data:`MAX_GRID_CELLS` cells and, for ``n_layers`` per-AP layers,
    at most :data:`MAX_LAYER_BYTES`; else an :class:`InputError` saying which grid step
    would fit."""
    minx, miny, maxx, maxy = bounds
    if not (np.isfinite(resolution_m) and resolution_m > 0):
        raise InputError(f"grid step must be a positive number of metres, got {resolution_m!r}",
                         key="resolution")
    nx = max(1, int(np.ceil((maxx - minx) / resolution_m - 1e-9)))
    ny = max(1, int(np.ceil((maxy - miny) / resolution_m - 1e-9)))
    cells = nx * ny
    need = cells * max(int(n_layers), 1) * 4
    if cells > MAX_GRID_CELLS or need > MAX_LAYER_BYTES:
        area = (maxx - minx) * (maxy - miny)
        fit = max(np.sqrt(area / MAX_GRID_CELLS),
                  np.sqrt(area * max(int(n_layers), 1) * 4 / MAX_LAYER_BYTES))
        what = (f"{cells:,} cells" if cells > MAX_GRID_CELLS else
                f"{need / 1024 ** 3:.1f} GB for {n_layers:,} AP layers (when planning: one per "
                f"candidate mount point)")
        raise InputError(f"a {resolution_m:g} m grid over {maxx - minx:.0f} m x "
                         f"{maxy - miny:.0f} m is {what}, more than this tool computes "
                         f"({MAX_GRID_CELLS:,} cells, {MAX_LAYER_BYTES / 1024 ** 3:.0f} GB); "
                         f"use a grid of {np.ceil(fit * 10) / 10:g} m or coarser, or plan "
                         f"zone by zone", key="resolution")
    return nx, ny


def grid_axes(bounds, resolution_m: float, n_layers: int = 1):
    """Cell-centre coordinates [m] covering ``bounds`` = (minx, miny, maxx, maxy), within
    the limits of :func:`grid_shape`."""
    minx, miny, _, _ = bounds
    nx, ny = grid_shape(bounds, resolution_m, n_layers)
    xs = minx + resolution_m * (np.arange(nx) + 0.5)
    ys = miny + resolution_m * (np.arange(ny) + 0.5)
    return xs, ys


class AP(Protocol):
    """What the radio layer reads of an access point (the plan's ``wifiplan.plan.AP`` is one;
    the radio map copies it with :func:`dataclasses.replace`): position and mounting height
    [m], transmit power [dBm], channel number, id; optionally ``mount``, its antenna
    (:class:`wifiplan.radio.antenna.MountedAntenna`; without it the site's omni)."""
    id: str
    x_m: float
    y_m: float
    height_m: float
    tx_power_dbm: float
    channel: int


def _ap_key(ap: AP):
    return (round(float(ap.x_m), 6), round(float(ap.y_m), 6), round(float(ap.height_m), 6),
            int(ap.channel), ap.id) + antenna_key(ap)


def _derived_reference(rssi: np.ndarray, channels: np.ndarray):
    """Best / second server and co-channel figures for stacked rssi (n_ap, ...): the plain
    version over the whole stack (kept for arrays with non-finite values)."""
    n = rssi.shape[0]
    shape = rssi.shape[1:]
    order = np.argsort(-rssi, axis=0, kind="stable")
    best = order[0].astype(np.int32)
    best_rssi = np.take_along_axis(rssi, order[:1], 0)[0]
    if n > 1:
        second = order[1].astype(np.int32)
        second_rssi = np.take_along_axis(rssi, order[1:2], 0)[0]
    else:
        second = np.full(shape, -1, np.int32)
        second_rssi = np.full(shape, np.nan, np.float32)
    mw = 10.0 ** (rssi.astype(np.float64) / 10.0)
    best_ch = channels[best]
    same = channels.reshape((-1,) + (1,) * len(shape)) == best_ch[None]
    interf_mw = np.where(same, mw, 0.0).sum(0) - 10.0 ** (best_rssi.astype(np.float64) / 10.0)
    interf_mw = np.maximum(interf_mw, 0.0)
    sinr = best_rssi - 10.0 * np.log10(interf_mw + 10.0 ** (NOISE_FLOOR_DBM / 10.0))
    co = np.where(same, rssi, -np.inf)
    co = np.where(np.arange(n).reshape((-1,) + (1,) * len(shape)) == best[None], -np.inf, co)
    strongest_co = co.max(0)
    sep = np.where(np.isfinite(strongest_co), best_rssi - strongest_co, np.inf)
    return best, best_rssi, second, second_rssi, sinr.astype(np.float32), sep.astype(np.float32)


def _mw_layer(layer: np.ndarray) -> np.ndarray:
    """Received power [mW] of one rssi layer [dBm] (float64)."""
    return 10.0 ** (layer.astype(np.float64) / 10.0)


def _derived(rssi: np.ndarray, channels: np.ndarray, mw_layers=None):
    """Best / second server and co-channel figures for stacked rssi (n_ap, ...).

    Layer by layer, so that memory stays O(points) beyond ``rssi`` and the per-layer power
    in mW can come from a cache (``mw_layers[i]``, or None to compute it). Equal, value for
    value, to :func:`_derived_reference` (same operations, same summation order).
    """
    n = rssi.shape[0]
    shape = rssi.shape[1:]
    if n == 0:
        nan = np.full(shape, np.nan, np.float32)
        neg = np.full(shape, -1, np.int32)
        return neg, nan, neg, nan, nan, nan
    if not np.isfinite(rssi).all():
        return _derived_reference(rssi, channels)
    channels = np.asarray(channels)
    best = np.argmax(rssi, axis=0).astype(np.int32)        # first maximum, as a stable sort
    best_rssi = rssi.max(0)
    if n > 1:
        second = np.full(shape, -1, np.int32)
        second_rssi = np.full(shape, -np.inf, rssi.dtype)
        for a in range(n):
            v = rssi[a]
            take = (v > second_rssi) & (best != a)
            second_rssi = np.where(take, v, second_rssi)
            second = np.where(take, np.int32(a), second)
    else:
        second = np.full(shape, -1, np.int32)
        second_rssi = np.full(shape, np.nan, np.float32)
    chans, chidx = np.unique(channels, return_inverse=True)
    chidx = chidx.reshape(-1)
    total = [None] * len(chans)         # sum of mW per channel, in AP order
    top1 = [None] * len(chans)          # strongest and second strongest AP per channel
    top2 = [None] * len(chans)
    for a in range(n):
        c = chidx[a]
        m = mw_layers[a] if mw_layers is not None and mw_layers[a] is not None \
            else _mw_layer(rssi[a])
        v = rssi[a]
        if total[c] is None:
            total[c] = m.copy()
            top1[c] = v.copy()
            top2[c] = np.full(shape, -np.inf, rssi.dtype)
        else:
            total[c] = total[c] + m
            top2[c] = np.maximum(top2[c], np.minimum(top1[c], v))
            top1[c] = np.maximum(top1[c], v)
    bc = chidx[best]
    if len(chans) == 1:
        same_mw = total[0]
        strongest_co = top2[0]
    else:
        same_mw = np.choose(bc, total) if len(chans) <= 32 else \
            np.take_along_axis(np.stack(total), bc[None], 0)[0]
        strongest_co = np.choose(bc, top2) if len(chans) <= 32 else \
            np.take_along_axis(np.stack(top2), bc[None], 0)[0]
    interf_mw = same_mw - 10.0 ** (best_rssi.astype(np.float64) / 10.0)
    interf_mw = np.maximum(interf_mw, 0.0)
    sinr = best_rssi - 10.0 * np.log10(interf_mw + 10.0 ** (NOISE_FLOOR_DBM / 10.0))
    sep = np.where(np.isfinite(strongest_co), best_rssi - strongest_co, np.inf)
    return best, best_rssi, second, second_rssi, sinr.astype(np.float32), sep.astype(np.float32)


@dataclass
class RadioMap:
    """Received power of each AP on the site grid. Build with :func:`compute_radiomap`."""
    site: object
    aps: list[AP]
    model: PropagationModel
    geom: Geometry
    resolution_m: float
    xs: np.ndarray
    ys: np.ndarray
    gain_db: np.ndarray                      # (n_ap, ny, nx) float32: rssi at 0 dBm tx
    _cache: dict = field(default_factory=dict, repr=False)
    _mw: dict = field(default_factory=dict, repr=False)   # per-layer power [mW], reused by edits

    # ---- core quantities -----------------------------------------------------------
    @cached_property
    def rssi_dbm(self) -> np.ndarray:
        """(n_ap, ny, nx) received power [dBm] per AP."""
        tx = np.array([a.tx_power_dbm for a in self.aps], np.float32)
        return self.gain_db + tx[:, None, None]

    @cached_property
    def channels(self) -> np.ndarray:
        return np.array([a.channel for a in self.aps], int)

    @cached_property
    def mask(self) -> np.ndarray:
        """(ny, nx) True for grid points inside the outline."""
        X, Y = np.meshgrid(self.xs, self.ys)
        return self.site.inside_outline(X, Y)

    @cached_property
    def zone_index(self) -> np.ndarray:
        """(ny, nx) index of the zone at each grid point, -1 outside every zone or the outline."""
        X, Y = np.meshgrid(self.xs, self.ys)
        z = self.site.zone_at(X, Y)
        return np.where(self.mask, z, -1)

    def _mw_key(self, i: int):
        return (_ap_key(self.aps[i]), float(np.float32(self.aps[i].tx_power_dbm)))

    @cached_property
    def _d(self):
        rssi = self.rssi_dbm
        n = rssi.shape[0]
        keep = n * rssi[0].size * 8 <= MW_CACHE_MAX_BYTES if n else False
        layers = []
        for i in range(n):
            k = self._mw_key(i)
            m = self._mw.get(k)
            if m is None and keep:
                m = self._mw[k] = _mw_layer(rssi[i])
            layers.append(m)
        return _derived(rssi, self.channels, layers)

    def _mw_for(self, aps) -> dict:
        """The cached mW layers still valid for ``aps`` (same position, channel, power)."""
        keys = {(_ap_key(a), float(np.float32(a.tx_power_dbm))) for a in aps}
        return {k: v for k, v in self._mw.items() if k in keys}

    @property
    def best_server(self) -> np.ndarray:
        """(ny, nx) index into ``aps`` of the strongest AP (-1 with no AP)."""
        return self._d[0]

    @property
    def best_rssi_dbm(self) -> np.ndarray:
        return self._d[1]

    @property
    def second_server(self) -> np.ndarray:
        return self._d[2]

    @property
    def second_rssi_dbm(self) -> np.ndarray:
        return self._d[3]

    @property
    def sinr_db(self) -> np.ndarray:
        """(ny, nx) SINR [dB] of the best server: same-channel APs plus the -95 dBm noise floor."""
        return self._d[4]

    @property
    def co_channel_separation_db(self) -> np.ndarray:
        """(ny, nx) best server minus the strongest other AP on its channel [dB] (inf if none)."""
        return self._d[5]

    @property
    def snr_db(self) -> np.ndarray:
        return self.best_rssi_dbm - NOISE_FLOOR_DBM

    def boundary_mask(self, within_db: float = BOUNDARY_WITHIN_DB) -> np.ndarray:
        """(ny, nx) cell boundary: second server within ``within_db`` of the best."""
        ok = self.second_server >= 0
        return ok & self.mask & ((self.best_rssi_dbm - np.nan_to_num(self.second_rssi_dbm,
                                                                     nan=-999)) <= within_db)

    def cell_area_m2(self, min_rssi_dbm: float | None = None) -> np.ndarray:
        """Area [m2] served by each AP inside the outline: where it is the best server and,
        with ``min_rssi_dbm`` [dBm], heard at least that strongly (the cell a terminal stays
        in: above the roaming threshold, not every point an AP reaches first)."""
        sel = self.mask
        if min_rssi_dbm is not None:
            sel = sel & (self.best_rssi_dbm >= min_rssi_dbm)
        cnt = np.bincount(self.best_server[sel].ravel(), minlength=len(self.aps))
        return cnt[:len(self.aps)] * self.resolution_m ** 2

    def cdf(self, quantity: str = "best_rssi_dbm", zones_only: bool = True):
        """Empirical CDF of a per-point quantity over the outline (or the zones).

        Returns ``(values, probabilities)`` sorted ascending.
        """
        v = np.asarray(getattr(self, quantity), float)
        sel = self.zone_index >= 0 if zones_only else self.mask
        vals = np.sort(v[sel & np.isfinite(v)])
        p = np.arange(1, len(vals) + 1) / max(len(vals), 1)
        return vals, p

    # ---- points -------------------------------------------------------------------
    def at_points(self, x, y) -> dict:
        """Per-AP rssi and derived quantities at arbitrary points (exact, not interpolated)."""
        rssi = rssi_points_dbm(self.site, self.aps, x, y, self.model, self.geom)
        best, best_rssi, second, second_rssi, sinr, sep = _derived(rssi.astype(np.float32),
                                                                  self.channels)
        return {"rssi_dbm": rssi, "best_server": best, "best_rssi_dbm": best_rssi,
                "second_server": second, "second_rssi_dbm": second_rssi, "sinr_db": sinr,
                "co_channel_separation_db": sep}

    # ---- edits -------------------------------------------------------------------
    def with_aps(self, aps: list[AP]) -> "RadioMap":
        """A new map for edited APs; only moved or added APs are recomputed."""
        layers = {}
        for a, g in zip(self.aps, self.gain_db):
            layers[_ap_key(a)] = g
        layers.update(self._cache)
        new = [a for a in aps if _ap_key(a) not in layers]
        if new:
            for a, g in zip(new, _gain_layers(self.site, new, self.xs, self.ys, self.model,
                                              self.geom)):
                layers[_ap_key(a)] = g
        gains = [layers[_ap_key(a)] for a in aps]
        gain = np.stack(gains) if gains else np.zeros((0, len(self.ys), len(self.xs)), np.float32)
        return RadioMap(self.site, list(aps), self.model, self.geom, self.resolution_m, self.xs,
                        self.ys, gain, {}, self._mw_for(aps))

    def with_powers(self, tx_power_dbm) -> "RadioMap":
        aps = [replace(a, tx_power_dbm=float(p)) for a, p in zip(self.aps, tx_power_dbm)]
        return RadioMap(self.site, aps, self.model, self.geom, self.resolution_m, self.xs,
                        self.ys, self.gain_db, {}, self._mw_for(aps))

    def with_channels(self, channels) -> "RadioMap":
        # a channel change alters the frequency term of the path loss (< 1.1 dB over the band)
        aps = [replace(a, channel=int(c)) for a, c in zip(self.aps, channels)]
        return self.with_aps(aps)

    # ---- display -------------------------------------------------------------------
    def plot(self, kind: str = "rssi", ax=None, **kwargs):
        """Draw a map: ``rssi`` (best server), ``channel``, ``boundary``, ``sinr``, ``server``,
        ``secondary`` (the second AP where it reaches the roaming threshold), ``overlap``
        (best and second within a few dB inside the seed's boundary band)."""
        return plot_radiomap(self, kind=kind, ax=ax, **kwargs)


def compute_radiomap(site, aps, resolution_m: float = 1.0, model: PropagationModel | None = None,
                     geom: Geometry | None = None) -> RadioMap:
    """Compute the radio map of ``aps`` over ``site`` at ``resolution_m`` [m]."""
    model = model or PropagationModel.for_site(site)
    geom = geom or Geometry.from_site(site, model.material_losses)
    xs, ys = grid_axes(site.bounds, resolution_m, len(aps))
    gain = _gain_layers(site, list(aps), xs, ys, model, geom)
    return RadioMap(site, list(aps), model, geom, resolution_m, xs, ys, gain)


def _gain_layers(site, aps, xs, ys, model, geom) -> np.ndarray:
    """(n_ap, ny, nx) float32 received power at 0 dBm transmit power."""
    gain = np.empty((len(aps), len(ys), len(xs)), np.float32)
    if not aps:
        return gain
    return rssi_grids_dbm(site, [replace(a, tx_power_dbm=0.0) for a in aps], xs, ys, model,
                          geom)
