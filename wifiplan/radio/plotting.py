"""Figures of a site and its radio map, for reports, the CLI heatmap and the notebooks."""
from __future__ import annotations

import numpy as np

from .antenna import boresight_xy
from ..rules import (BOUNDARY_BAND_DBM, BOUNDARY_WITHIN_DB, DEFAULT_MIN_RSSI_DBM, MIN_SNR_DB,
                    NOISE_FLOOR_DBM, ROAM_THRESHOLD_DBM)

CHANNEL_COLOURS = {36: "#1f77b4", 40: "#ff7f0e", 44: "#2ca02c", 48: "#d62728",
                   149: "#9467bd", 153: "#8c564b", 157: "#e377c2", 161: "#17becf",
                   165: "#bcbd22"}
RSSI_RANGE_DBM = (-90.0, -30.0)
#: A directional AP's boresight is drawn this share of the site's larger side long.
BORESIGHT_SHARE = 0.03


def _channel_colour(ch: int) -> str:
    if ch in CHANNEL_COLOURS:
        return CHANNEL_COLOURS[ch]
    import matplotlib
    return matplotlib.colors.to_hex(matplotlib.colormaps["tab20"]((ch // 4) % 20))


def new_figure(site, width_in: float = 11.0):
    """A figure sized to the site's aspect ratio (A4 landscape width by default)."""
    from matplotlib.figure import Figure
    minx, miny, maxx, maxy = site.bounds
    aspect = (maxy - miny) / max(maxx - minx, 1e-9)
    h = min(max(width_in * aspect * 0.9 + 1.2, 3.5), 8.0)
    fig = Figure(figsize=(width_in, h), dpi=110, layout="constrained")
    ax = fig.subplots()
    return fig, ax


def draw_site(ax, site, aps=None, *, labels: bool = True, zones: bool = True,
              ap_text: str = "id+channel", fontsize: float | None = None):
    """Outline, walls (by material), obstacles, zones and AP markers on ``ax``."""
    from matplotlib.patches import Polygon as MplPolygon
    o = np.vstack([site.outline, site.outline[:1]])
    ax.plot(o[:, 0], o[:, 1], color="black", lw=1.6, zorder=5)
    for ob in site.obstacles:
        ax.add_patch(MplPolygon(ob.polygon, closed=True, facecolor="#606060", alpha=0.45,
                                edgecolor="#303030", lw=0.5,
                                hatch="//" if ob.height_m >= 4 else None, zorder=4))
    losses = site.material_losses()
    for w in site.walls:
        loss = losses.get(w.material, 10.0)
        lw = 0.8 + min(loss, 35.0) / 10.0
        ax.plot(w.points[:, 0], w.points[:, 1], color="#202020", lw=lw, solid_capstyle="butt",
                zorder=6)
    if zones:
        for z in site.zones:
            p = np.vstack([z.polygon, z.polygon[:1]])
            ax.plot(p[:, 0], p[:, 1], color="#0050a0", lw=1.0, ls="--", zorder=7)
            cx, cy = np.mean(z.polygon, axis=0)
            ax.text(p[:-1, 0].min() + 0.5, p[:-1, 1].max() - 0.5, z.name, fontsize=fontsize or 7,
                    color="#0050a0", va="top", ha="left", zorder=8,
                    bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.6))
    if aps:
        n = len(aps)
        fs = fontsize or (8 if n <= 20 else 6.5 if n <= 60 else 5)
        minx, miny, maxx, maxy = site.bounds
        beam = BORESIGHT_SHARE * max(maxx - minx, maxy - miny)
        for a in aps:
            end = boresight_xy(a, beam)
            if end is not None:            # a directional antenna: where it points
                ax.plot([a.x_m, end[0]], [a.y_m, end[1]], color="black", lw=1.4, zorder=9)
            ax.plot(a.x_m, a.y_m, marker="^", ms=7 if n <= 60 else 5,
                    mfc=_channel_colour(a.channel), mec="black", mew=0.8, zorder=10)
            if labels:
                txt = a.id if ap_text == "id" else f"{a.id}\n{a.channel}/{a.tx_power_dbm:g}"
                ax.annotate(txt, (a.x_m, a.y_m), xytext=(3, 3), textcoords="offset points",
                            fontsize=fs, zorder=11, linespacing=0.9,
                            bbox=dict(boxstyle="round,pad=0.1", fc="white", ec="none", alpha=0.75))
    minx, miny, maxx, maxy = site.bounds
    pad = 0.02 * max(maxx - minx, maxy - miny)
    ax.set_xlim(minx - pad, maxx + pad)
    ax.set_ylim(miny - pad, maxy + pad)
    ax.set_aspect("equal")
    ax.set_xlabel("x [m]")
    ax.set_ylabel("y [m]")


def plot_radiomap(rm, kind: str = "rssi", ax=None, title: str | None = None, labels: bool = True):
    """Draw one map of a RadioMap; returns the figure."""
    from matplotlib.colors import BoundaryNorm, ListedColormap
    if ax is None:
        fig, ax = new_figure(rm.site)
    else:
        fig = ax.figure
    extent = (rm.xs[0] - rm.resolution_m / 2, rm.xs[-1] + rm.resolution_m / 2,
              rm.ys[0] - rm.resolution_m / 2, rm.ys[-1] + rm.resolution_m / 2)
    mask = ~rm.mask
    kw = dict(origin="lower", extent=extent, interpolation="nearest", zorder=1)
    if kind == "rssi":
        data = np.ma.array(rm.best_rssi_dbm, mask=mask)
        im = ax.imshow(data, cmap="turbo", vmin=RSSI_RANGE_DBM[0], vmax=RSSI_RANGE_DBM[1], **kw)
        cs = ax.contour(rm.xs, rm.ys, np.where(mask, np.nan, rm.best_rssi_dbm),
                        levels=[ROAM_THRESHOLD_DBM, DEFAULT_MIN_RSSI_DBM],
                        colors=["white", "black"], linewidths=[0.8, 0.8], linestyles=["--", "-"],
                        zorder=2)
        ax.clabel(cs, fmt="%d dBm", fontsize=6)
        cb = fig.colorbar(im, ax=ax, shrink=0.85, pad=0.01)
        cb.set_label("best-server RSSI [dBm]")
        title = title or (f"Best-server RSSI (contours: {DEFAULT_MIN_RSSI_DBM:g} dBm solid, "
                          f"{ROAM_THRESHOLD_DBM:g} dBm dashed)")
    elif kind == "sinr":
        data = np.ma.array(rm.sinr_db, mask=mask)
        im = ax.imshow(data, cmap="RdYlGn", vmin=0, vmax=50, **kw)
        cs = ax.contour(rm.xs, rm.ys, np.where(mask, np.nan, rm.sinr_db), levels=[MIN_SNR_DB],
                        colors=["black"], linewidths=0.8, zorder=2)
        ax.clabel(cs, fmt="%d dB", fontsize=6)
        cb = fig.colorbar(im, ax=ax, shrink=0.85, pad=0.01)
        cb.set_label(f"SINR [dB] (co-channel + {NOISE_FLOOR_DBM:g} dBm noise)")
        title = title or f"SINR of the best server (contour: {MIN_SNR_DB:g} dB)"
    elif kind in ("channel", "server"):
        if kind == "channel":
            chans = sorted(set(int(c) for c in rm.channels))
            idx = {c: i for i, c in enumerate(chans)}
            val = (np.vectorize(lambda s: idx[int(rm.channels[s])] if s >= 0 else -1)(
                       rm.best_server)
                   if len(rm.aps) else np.full(rm.best_server.shape, -1))
            cmap = ListedColormap([_channel_colour(c) for c in chans] or ["white"])
            norm = BoundaryNorm(np.arange(-0.5, len(chans) + 0.5), cmap.N)
            im = ax.imshow(np.ma.array(val, mask=mask | (val < 0)), cmap=cmap, norm=norm,
                           alpha=0.75, **kw)
            cb = fig.colorbar(im, ax=ax, shrink=0.85, pad=0.01, ticks=range(len(chans)))
            cb.ax.set_yticklabels([f"ch {c}" for c in chans])
            cb.set_label("channel of the best server")
            title = title or "Channel map (best server's channel)"
        else:
            im = ax.imshow(np.ma.array(rm.best_server % 20, mask=mask), cmap="tab20", alpha=0.6,
                           vmin=0, vmax=19, **kw)
            title = title or "Cells (best server)"
        b = rm.best_server
        edge = np.zeros_like(b, bool)
        edge[:, 1:] |= b[:, 1:] != b[:, :-1]
        edge[1:, :] |= b[1:, :] != b[:-1, :]
        ax.imshow(np.ma.array(np.ones_like(b), mask=~edge | mask), cmap=ListedColormap(["black"]),
                  alpha=0.5, **kw)
    elif kind == "boundary":
        bnd = rm.boundary_mask()
        best = rm.best_rssi_dbm
        lo, hi = BOUNDARY_BAND_DBM
        cat = np.full(best.shape, 0)
        cat[bnd & (best > hi)] = 1
        cat[bnd & (best >= lo) & (best <= hi)] = 2
        cat[bnd & (best < lo)] = 3
        cmap = ListedColormap(["#f4f4f4", "#ff9f1c", "#2ec4b6", "#e71d36"])
        norm = BoundaryNorm(np.arange(-0.5, 4.5), 4)
        im = ax.imshow(np.ma.array(cat, mask=mask), cmap=cmap, norm=norm, **kw)
        cb = fig.colorbar(im, ax=ax, shrink=0.85, pad=0.01, ticks=[0, 1, 2, 3])
        cb.ax.set_yticklabels(["inside a cell", f"boundary > {hi:g} dBm",
                               f"boundary {hi:g}..{lo:g} dBm", f"boundary < {lo:g} dBm"],
                              fontsize=7)
        title = title or (f"Cell boundaries (best and second server within "
                          f"{BOUNDARY_WITHIN_DB:g} dB)")
    elif kind == "secondary":
        second = np.asarray(rm.second_rssi_dbm, float)
        data = np.ma.array(second, mask=mask | ~(second >= ROAM_THRESHOLD_DBM))
        ax.imshow(np.ma.array(np.ones_like(second), mask=mask), cmap=ListedColormap(["#e8e8e8"]),
                  **kw)
        im = ax.imshow(data, cmap="viridis", vmin=ROAM_THRESHOLD_DBM, vmax=RSSI_RANGE_DBM[1],
                       **kw)
        cb = fig.colorbar(im, ax=ax, shrink=0.85, pad=0.01)
        cb.set_label("second-strongest AP [dBm]")
        share = float(np.mean(second[rm.mask] >= ROAM_THRESHOLD_DBM)) if rm.mask.any() else 0.0
        title = title or (f"Secondary coverage: a second AP at >= {ROAM_THRESHOLD_DBM:g} dBm "
                          f"(grey: none; {share:.0%} of the floor)")
    elif kind == "overlap":
        lo, hi = BOUNDARY_BAND_DBM
        best = np.asarray(rm.best_rssi_dbm, float)
        band = rm.boundary_mask() & (best >= lo) & (best <= hi)
        cmap = ListedColormap(["#f4f4f4", "#2ec4b6"])
        im = ax.imshow(np.ma.array(band.astype(int), mask=mask), cmap=cmap, vmin=-0.5,
                       vmax=1.5, **kw)
        cb = fig.colorbar(im, ax=ax, shrink=0.85, pad=0.01, ticks=[0, 1])
        cb.ax.set_yticklabels(["elsewhere", f"overlap band {hi:g}..{lo:g} dBm"], fontsize=7)
        title = title or (f"Overlap band: best and second within {BOUNDARY_WITHIN_DB:g} dB, "
                          f"both inside {hi:g}..{lo:g} dBm")
    else:
        raise ValueError(f"unknown map kind {kind!r}: rssi, sinr, channel, server, boundary, "
                         f"secondary, overlap")
    draw_site(ax, rm.site, rm.aps, labels=labels)
    ax.set_title(title, fontsize=10)
    return fig
