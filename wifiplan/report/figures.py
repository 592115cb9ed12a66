"""Figures of a phase report, as PNG bytes sized for an A4 page (18 cm of text width)."""
from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np

from ..site import Site
from ..radio.plotting import draw_site, plot_radiomap
from ..rules import (BOUNDARY_BAND_DBM, BOUNDARY_BAND_TEXT, BOUNDARY_WITHIN_DB,
                     DEFAULT_MIN_RSSI_DBM, MIN_SNR_DB, NOISE_FLOOR_DBM, ROAM_THRESHOLD_DBM)

#: Text width of an A4 page with 15 mm margins [in].
PAGE_WIDTH_IN = 7.0
DPI = 150


@dataclass
class Figure:
    key: str
    title: str
    caption: str
    png: bytes
    width_in: float
    height_in: float


def _figure(site: Site, width_in: float = PAGE_WIDTH_IN, colorbar: bool = True, bounds=None):
    """A figure for one map: the plot area follows the aspect ratio of the site (or of
    ``bounds``, a part of it). Margins are fixed (no constrained layout: with a hundred AP
    labels it costs seconds per figure)."""
    from matplotlib.figure import Figure
    minx, miny, maxx, maxy = bounds if bounds is not None else site.bounds
    aspect = (maxy - miny) / max(maxx - minx, 1e-9)
    left_in, right_in = 0.6, 0.2
    bottom_in, top_in = 0.5, 0.35
    plot_w = width_in - left_in - right_in
    if colorbar:                 # the colour bar takes 15 % of the axes, its label ~0.8 in
        plot_w = plot_w * 0.85 - 0.8
    h = float(np.clip(plot_w * aspect * 1.04 + bottom_in + top_in, 2.6, 8.5))
    fig = Figure(figsize=(width_in, h), dpi=DPI)
    ax = fig.subplots()
    fig.subplots_adjust(left=left_in / width_in, right=1 - right_in / width_in,
                        bottom=bottom_in / h, top=1 - top_in / h)
    return fig, ax


def _png(fig) -> tuple[bytes, float, float]:
    buf = io.BytesIO()
    w, h = fig.get_size_inches()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue(), float(w), float(h)


def _style(ax, fig):
    ax.tick_params(labelsize=7)
    ax.xaxis.label.set_size(8)
    ax.yaxis.label.set_size(8)
    ax.title.set_size(9)
    for cax in fig.axes:
        if cax is not ax:
            cax.tick_params(labelsize=7)
            cax.yaxis.label.set_size(8)


def label_aps(ax, aps) -> None:
    """AP labels sized for the page: id, channel and power for up to 30 APs; the id alone
    (smaller) for denser plans, whose channels the channel map shows."""
    n = len(aps)
    fs = 7 if n <= 30 else 6 if n <= 60 else 5
    for a in aps:
        txt = f"{a.id}\n{a.channel}/{a.tx_power_dbm:g}" if n <= 30 else a.id
        ax.annotate(txt, (a.x_m, a.y_m), xytext=(2.5, 2.5), textcoords="offset points",
                    fontsize=fs, zorder=11, linespacing=0.9,
                    bbox=dict(boxstyle="round,pad=0.08", fc="white", ec="none", alpha=0.7))


def radio_maps(a) -> list[Figure]:
    """The four maps of every phase: RSSI, channels, cell boundaries, SINR; from phase 2
    (several cells, terminals roaming between them) also the secondary coverage."""
    rm = a.radiomap
    out = []
    specs = [
        ("rssi", "Best-server RSSI",
         "Received power of the strongest AP at 1.2 m client height. Solid contour: "
         f"{DEFAULT_MIN_RSSI_DBM:g} dBm (primary coverage); dashed: {ROAM_THRESHOLD_DBM:g} dBm "
         "(roaming threshold)."),
        ("channel", "Channel map",
         "Channel of the best server at each point; black lines are the cell edges."),
        ("boundary", "Cell boundaries",
         f"Points where the best and second server are within {BOUNDARY_WITHIN_DB:g} dB (the "
         f"cell boundary); teal: boundary inside the {BOUNDARY_BAND_TEXT} design band; orange: "
         f"too strong (> {BOUNDARY_BAND_DBM[1]:g} dBm, cells overlap too much); red: too weak "
         f"(< {BOUNDARY_BAND_DBM[0]:g} dBm, roaming gap)."),
        ("sinr", "Co-channel interference (SINR)",
         "Signal to interference-plus-noise of the best server: same-channel APs plus the "
         f"{NOISE_FLOOR_DBM:g} dBm noise floor. {MIN_SNR_DB:g} dB is the design minimum."),
    ]
    if a.phase.number >= 2:
        specs.append(("secondary", "Secondary coverage",
                      "Level of the second-strongest AP where it reaches "
                      f"{ROAM_THRESHOLD_DBM:g} dBm, the level below which a terminal re-scans "
                      "and roams (seed 8.1.3.5); grey: no second AP there to roam to."))
    for kind, title, caption in specs:
        fig, ax = _figure(a.site)
        plot_radiomap(rm, kind, ax=ax, title=f"{a.site.name}, phase {a.phase.number}: {title}",
                      labels=False)
        label_aps(ax, a.plan.aps)
        _style(ax, fig)
        png, w, h = _png(fig)
        out.append(Figure(kind, title, caption, png, w, h))
    return out


#: A site longer than this on either side also gets its installation map in sheets of at
#: most this span [m], so that AP labels, cable routes and walks stay legible on A4.
SHEET_SPAN_M = 80.0


def sheet_windows(bounds, span_m: float = SHEET_SPAN_M) -> list[tuple[float, float, float, float]]:
    """The (minx, miny, maxx, maxy) [m] windows that tile ``bounds`` in equal sheets of at
    most ``span_m`` on a side; none for a site that fits one sheet."""
    minx, miny, maxx, maxy = bounds
    nx = int(np.ceil((maxx - minx) / span_m - 1e-9))
    ny = int(np.ceil((maxy - miny) / span_m - 1e-9))
    if nx <= 1 and ny <= 1:
        return []
    nx, ny = max(nx, 1), max(ny, 1)
    wx, wy = (maxx - minx) / nx, (maxy - miny) / ny
    return [(minx + i * wx, miny + j * wy, minx + (i + 1) * wx, miny + (j + 1) * wy)
            for j in range(ny - 1, -1, -1) for i in range(nx)]      # north-west first


def installation_maps(a) -> list[Figure]:
    """The installation map of the whole site and, for a large one, its sheets."""
    wins = sheet_windows(a.site.bounds)
    return [installation_map(a)] + [installation_map(a, w, k + 1, len(wins))
                                    for k, w in enumerate(wins)]


def installation_map(a, window=None, sheet: int | None = None, sheets: int = 0) -> Figure:
    """APs, switches, cable routes, the target area, and the phase's test points or walks;
    ``window`` (minx, miny, maxx, maxy) [m]: sheet ``sheet`` of ``sheets`` of it."""
    from matplotlib.colors import ListedColormap
    rm = a.radiomap
    fig, ax = _figure(a.site, colorbar=False, bounds=window)
    ext = (rm.xs[0] - rm.resolution_m / 2, rm.xs[-1] + rm.resolution_m / 2,
           rm.ys[0] - rm.resolution_m / 2, rm.ys[-1] + rm.resolution_m / 2)
    ax.imshow(np.ma.array(np.ones_like(a.target_mask, float), mask=~a.target_mask),
              origin="lower", extent=ext, cmap=ListedColormap(["#cfe8ff"]), alpha=0.7,
              zorder=0, interpolation="nearest")
    draw_site(ax, a.site, a.plan.aps, labels=False)
    shown = a.plan.aps
    if window is not None:
        x0, y0, x1, y1 = window
        shown = [p for p in a.plan.aps if x0 <= p.x_m <= x1 and y0 <= p.y_m <= y1]
    label_aps(ax, shown)
    sw = {s.name: s for s in a.site.switches}
    for s in a.site.switches:
        ax.plot(*s.position, marker="s", ms=7, mfc="#444444", mec="black", zorder=12)
        ax.annotate(s.name, s.position, xytext=(4, -9), textcoords="offset points", fontsize=7,
                    fontweight="bold", zorder=12)
    for ap in a.plan.aps:
        s = sw.get(ap.switch)
        if s is None:
            continue
        (sx, sy) = s.position
        ax.plot([sx, ap.x_m, ap.x_m], [sy, sy, ap.y_m], color="#7a4f01", lw=0.7, ls=":",
                zorder=9)
    legend = ["target area (blue)", "switch (square)", "cable route (dotted)"]
    if a.measurement_points is not None and len(a.measurement_points):
        mp = a.measurement_points
        ax.scatter(mp["x_m"], mp["y_m"], s=22, marker="o", facecolor="none",
                   edgecolor="#c00000", lw=1.2, zorder=13)
        for r in mp.itertuples():
            ax.annotate(r.point, (r.x_m, r.y_m), xytext=(-4, -10), textcoords="offset points",
                        fontsize=6.5, color="#c00000", zorder=13)
        legend.append("measurement points M1.. (red circles)")
    if a.walk_tests is not None and len(a.walk_tests):
        for r in a.walk_tests.itertuples():
            ax.annotate("", xy=(r.x1_m, r.y1_m), xytext=(r.x0_m, r.y0_m), zorder=13,
                        arrowprops=dict(arrowstyle="->", color="#c00000", lw=1.2))
            ax.annotate(r.walk, (r.x0_m, r.y0_m), xytext=(2, 2), textcoords="offset points",
                        fontsize=6, color="#c00000", zorder=13)
        legend.append("roaming walk tests (red arrows)")
    where = ""
    if window is not None:
        x0, y0, x1, y1 = window
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        where = f", sheet {sheet} of {sheets} (x {x0:.0f}-{x1:.0f} m, y {y0:.0f}-{y1:.0f} m)"
    ax.set_title(f"{a.site.name}, phase {a.phase.number}: installation{where}", fontsize=9)
    _style(ax, fig)
    png, w, h = _png(fig)
    title = "Installation map" + (f", sheet {sheet} of {sheets}" if window is not None else "")
    return Figure("installation" if window is None else f"installation-{sheet}", title,
                  "APs (triangles, coloured by channel; label: id" + (", channel/power dBm"
                                                                      if len(shown) <= 30
                                                                      else "") + "), PoE "
                  "switches, cable routes; " + ", ".join(legend) + "."
                  + (" The sheets tile the site from the north-west; each shows the part "
                     "of the overview named in its title." if window is not None else ""),
                  png, w, h)


def roaming_maps(a) -> list[Figure]:
    """Phases 2-4: the simulated walks over the floor, coloured by serving AP."""
    from ..roaming.figures import TIMELINE_ROUTES, route_overlay_figure, timeline_figure
    if a.roaming is None or not a.roaming["report"]["routes"]:
        return []
    fig, ax = _figure(a.site, colorbar=False)
    route_overlay_figure(a.site, a.plan.aps, a.roaming["report"], ax=ax,
                         title=f"{a.site.name}, phase {a.phase.number}: simulated walks")
    _style(ax, fig)
    png, w, h = _png(fig)
    out = [Figure("roaming", "Simulated walks",
                  "Each route coloured by the AP the terminal is associated with (red: no "
                  "link); white dots: roams, red rings: ping-pong roams.", png, w, h)]
    fig = timeline_figure(a.roaming["report"], aps=a.plan.aps, width_in=PAGE_WIDTH_IN)
    png, w, h = _png(fig)
    out.append(Figure("roaming-timeline", "RSSI along the walks",
                      f"Per route (at most {TIMELINE_ROUTES}): the serving AP's RSSI over the "
                      "walking time in its colour, the best AP's dotted, the "
                      f"{ROAM_THRESHOLD_DBM:g} dBm re-scan threshold dashed, the "
                      f"{BOUNDARY_BAND_TEXT} band shaded; vertical lines: roams; red: outages.",
                      png, w, h))
    return out


def all_figures(a) -> list[Figure]:
    return installation_maps(a) + radio_maps(a) + roaming_maps(a)
