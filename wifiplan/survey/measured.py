"""Measured map: survey points interpolated to a grid for display, beside the prediction.

The measured map never extrapolates: a grid cell gets a value only inside the convex hull
of the survey points (linear interpolation on their Delaunay triangulation,
``scipy.interpolate.griddata``), no farther than ``max_distance_m`` from the nearest survey
point, and inside the site outline. Everything else is NaN ("not surveyed").
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.interpolate import NearestNDInterpolator, griddata
from scipy.spatial import cKDTree

from ..site import Site
from ..radio.plotting import RSSI_RANGE_DBM, draw_site
from ..radio.propagation import PropagationModel
from ..radio.radiomap import compute_radiomap, grid_axes
from .cleaning import band_of_rows
from .matching import match_survey

MAX_DISTANCE_M = 3.0


@dataclass
class GridMap:
    """A value per grid cell on the radio map's grid; NaN where there is none."""
    xs: np.ndarray
    ys: np.ndarray
    values: np.ndarray          # (ny, nx)
    label: str
    resolution_m: float

    @property
    def mask(self) -> np.ndarray:
        return np.isfinite(self.values)


def best_per_point(frame: pd.DataFrame, plan_only: bool = True) -> pd.DataFrame:
    """Best RSSI [dBm] per survey point (5 GHz; plan APs only when ``ap_id`` is known)."""
    f = frame[band_of_rows(frame) == "5"]
    if plan_only and "ap_id" in f and f["ap_id"].notna().any() and "match" in f:
        f = f[f["ap_id"].notna()]
    g = f.groupby(["x_m", "y_m"], sort=True)["rssi_dbm"].max().reset_index()
    return g


def measured_map(site: Site, frame: pd.DataFrame, resolution_m: float = 1.0, *,
                 max_distance_m: float = MAX_DISTANCE_M, plan_only: bool = True) -> GridMap:
    """Best measured RSSI per point, interpolated on the site grid without extrapolation."""
    xs, ys = grid_axes(site.bounds, resolution_m)
    X, Y = np.meshgrid(xs, ys)
    pts = best_per_point(frame, plan_only)
    vals = np.full(X.shape, np.nan)
    xy = pts[["x_m", "y_m"]].to_numpy(float)
    v = pts["rssi_dbm"].to_numpy(float)
    if len(xy) >= 3 and np.linalg.matrix_rank(xy - xy.mean(0)) == 2:
        vals = griddata(xy, v, (X, Y), method="linear")
    near = np.zeros(X.shape, bool)
    if len(xy):
        d, _ = cKDTree(xy).query(np.column_stack([X.ravel(), Y.ravel()]))
        near = (d <= max_distance_m).reshape(X.shape)
        if len(xy) < 3 or np.linalg.matrix_rank(xy - xy.mean(0)) < 2:
            # a single walk line: nearest survey point within the distance
            vals = NearestNDInterpolator(xy, v)(X, Y) if len(xy) > 1 else np.full(X.shape, v[0])
    vals = np.where(near & site.inside_outline(X, Y), vals, np.nan)
    return GridMap(xs, ys, vals, "measured best RSSI [dBm]", resolution_m)


def predicted_map(site: Site, plan, resolution_m: float = 1.0, *, model=None,
                  radiomap=None) -> GridMap:
    """Predicted best-server RSSI [dBm] from the RadioMap (``radiomap`` when given, of the
    plan's APs on this grid), NaN outside the outline."""
    rm = radiomap
    if rm is None:
        if not isinstance(model, PropagationModel):
            model = PropagationModel.for_site(site, model)
        rm = compute_radiomap(site, plan.aps, resolution_m=resolution_m, model=model)
    vals = np.where(rm.mask, rm.best_rssi_dbm.astype(float), np.nan)
    return GridMap(rm.xs, rm.ys, vals, "predicted best RSSI [dBm]", rm.resolution_m)


def residual_map(measured: GridMap, predicted: GridMap) -> GridMap:
    """Measured - predicted [dB] where both exist."""
    return GridMap(measured.xs, measured.ys, measured.values - predicted.values,
                   "measured - predicted [dB]", measured.resolution_m)


def survey_maps(site: Site, plan, frame: pd.DataFrame, resolution_m: float = 1.0, *, model=None,
                max_distance_m: float = MAX_DISTANCE_M, radiomap=None) -> dict[str, GridMap]:
    """``{"measured", "predicted", "residual"}`` on one grid; the measured map keeps the
    BSSIDs that match a plan AP (:func:`~wifiplan.survey.matching.match_survey`; ``frame``
    may be the survey already matched, whose model then predicts), so the residual compares
    like with like. ``radiomap``: the plan's radio map at ``resolution_m`` when one is at
    hand (the UI's), instead of computing it again."""
    ms = match_survey(site, plan, frame, model=model)
    m = measured_map(site, ms.frame, resolution_m, max_distance_m=max_distance_m)
    p = predicted_map(site, plan, resolution_m, model=ms.model, radiomap=radiomap)
    return {"measured": m, "predicted": p, "residual": residual_map(m, p)}


def plot_survey_maps(site: Site, plan, maps: dict[str, GridMap], frame: pd.DataFrame | None = None):
    """Three panels: measured, predicted and residual, with the site drawn over them."""
    from matplotlib.figure import Figure
    minx, miny, maxx, maxy = site.bounds
    aspect = (maxy - miny) / max(maxx - minx, 1e-9)
    fig = Figure(figsize=(10, min(3 * (10 * aspect + 0.8), 24)), layout="constrained")
    axes = fig.subplots(3, 1)
    for ax, key in zip(axes, ("measured", "predicted", "residual")):
        g = maps[key]
        extent = (g.xs[0] - g.resolution_m / 2, g.xs[-1] + g.resolution_m / 2,
                  g.ys[0] - g.resolution_m / 2, g.ys[-1] + g.resolution_m / 2)
        if key == "residual":
            im = ax.imshow(g.values, origin="lower", extent=extent, cmap="RdBu_r",
                           vmin=-15, vmax=15, interpolation="nearest")
        else:
            im = ax.imshow(g.values, origin="lower", extent=extent, cmap="viridis",
                           vmin=RSSI_RANGE_DBM[0], vmax=RSSI_RANGE_DBM[1],
                           interpolation="nearest")
        draw_site(ax, site, plan.aps, zones=False)
        if frame is not None and key == "measured":
            ax.plot(frame["x_m"], frame["y_m"], ".", ms=1.5, color="black", alpha=0.4)
        ax.set_title(g.label)
        ax.set_aspect("equal")
        fig.colorbar(im, ax=ax, shrink=0.8)
    return fig
