"""Interactive plotly figures of a site, its radio map and a survey (for the Streamlit UI).

Only drawing happens here: every value comes from the Site, the RadioMap or the survey
frame. The matplotlib twins for reports and the CLI live in :mod:`wifiplan.radio.plotting`.

A radio map is sent as one PNG (the cells coloured here, a layout image under the site)
with its contour lines as plain polylines, a colour bar and an invisible grid of points
that answers the hover (best and second server) and the map editor's clicks: a few
hundred kilobytes for a large hall, where a heatmap with contour traces was megabytes of
JSON that the browser parsed on every edit.
"""
from __future__ import annotations

import base64
from dataclasses import dataclass
import io

import numpy as np
import plotly.graph_objects as go

from ..radio.antenna import boresight_xy
from ..radio.plotting import BORESIGHT_SHARE, CHANNEL_COLOURS, RSSI_RANGE_DBM
from ..rules import BOUNDARY_BAND_DBM, DEFAULT_MIN_RSSI_DBM, ROAM_THRESHOLD_DBM

WALL_COLOURS = {"glass": "#4aa3df", "irr-glass": "#1d6fa5", "plasterboard": "#c8a165",
                "wood": "#9c6b30", "brick": "#b5533c", "concrete": "#555555",
                "concrete-block": "#777777", "metal": "#111111", "metal-rack": "#333366",
                "machinery": "#444444", "cold-room": "#2f4f6f", "wire-mesh": "#8a8a8a"}
EXTRA_COLOURS = ["#6a3d9a", "#b15928", "#33a02c", "#e31a1c", "#ff7f00", "#1f78b4"]
MAP_KINDS = {"rssi": "Best-server RSSI", "channel": "Channels", "boundary": "Cell boundaries",
             "secondary": "Second AP", "sinr": "SINR", "ap": "One AP's signal"}
#: The second-AP map's colour for a point where no second AP reaches the re-scan threshold.
NO_SECOND_COLOUR = "#d9d9d9"
BOUNDARY_CLASSES = ["inside a cell", f"boundary above {BOUNDARY_BAND_DBM[1]:g} dBm",
                    f"boundary {BOUNDARY_BAND_DBM[1]:g} to {BOUNDARY_BAND_DBM[0]:g} dBm",
                    f"boundary below {BOUNDARY_BAND_DBM[0]:g} dBm"]
BOUNDARY_COLOURS = ["#f4f4f4", "#ff9f1c", "#2ec4b6", "#e71d36"]


def channel_colour(ch: int) -> str:
    if int(ch) in CHANNEL_COLOURS:
        return CHANNEL_COLOURS[int(ch)]
    return EXTRA_COLOURS[(int(ch) // 4) % len(EXTRA_COLOURS)]


def wall_width_px(loss_db: float) -> float:
    """The line width a wall is drawn with [px]: thicker the more it attenuates [dB]."""
    return 1.5 + min(loss_db, 35) / 7


def _closed(poly) -> tuple[list, list]:
    p = np.asarray(poly, float)[:, :2]
    return list(p[:, 0]) + [p[0, 0]], list(p[:, 1]) + [p[0, 1]]


def _joined(polys, closed=True):
    """x, y lists of several polylines separated by None (one trace draws them all)."""
    xs, ys = [], []
    for p in polys:
        if closed:
            x, y = _closed(p)
        else:
            a = np.asarray(p, float)
            x, y = list(a[:, 0]), list(a[:, 1])
        xs += x + [None]
        ys += y + [None]
    return xs, ys


def figure_height(site, plot_width_px: int = 880) -> int:
    """Height [px] that gives the site's aspect ratio at about ``plot_width_px`` wide."""
    minx, miny, maxx, maxy = site.bounds
    aspect = (maxy - miny) / max(maxx - minx, 1e-9)
    return int(min(max(plot_width_px * aspect + 150, 380), 900))


def base_figure(site, title: str | None = None, background: dict | None = None) -> go.Figure:
    """An empty figure in site metres with equal axes (and the floor image under it)."""
    fig = go.Figure()
    minx, miny, maxx, maxy = site.bounds
    pad = 0.02 * max(maxx - minx, maxy - miny)
    fig.update_layout(
        title=dict(text=title, x=0.01, font=dict(size=15)) if title else None,
        height=figure_height(site), margin=dict(l=10, r=10, t=40 if title else 30, b=10),
        plot_bgcolor="white", hovermode="closest", dragmode="pan",
        legend=dict(orientation="h", yanchor="top", y=-0.12, xanchor="left", x=0.0,
                    font=dict(size=11)),
        xaxis=dict(title="x [m]", range=[minx - pad, maxx + pad], showgrid=False,
                   zeroline=False, constrain="domain"),
        yaxis=dict(title="y [m]", range=[miny - pad, maxy + pad], showgrid=False,
                   zeroline=False, scaleanchor="x", scaleratio=1, constrain="domain"))
    if background:
        x0, y0, x1, y1 = background["extent"]
        fig.add_layout_image(dict(source=background["image"], xref="x", yref="y", x=x0, y=y1,
                                  sizex=x1 - x0, sizey=y1 - y0, sizing="stretch",
                                  layer="below", opacity=1.0))
    return fig


def add_site(fig: go.Figure, site, aps=None, *, zones: bool = True, infrastructure: bool = True,
             labels: bool = True, hover: bool = True, selected=None) -> go.Figure:
    """Outline, obstacles, walls by material, zones, no-mount areas, infrastructure and APs.

    With ``hover=False`` walls and obstacles do not take the hover, so that the map under
    them answers it (only the APs still do). Each point of a wall, obstacle, zone or
    no-mount trace carries ``"walls:i"`` etc. in ``customdata`` (the map editor reads it on
    the server to know what was clicked); ``selected``, a pair like ``("walls", i)`` or
    ``("aps", id)``, is drawn highlighted.
    """
    losses = site.material_losses()
    x, y = _closed(site.outline)
    fig.add_trace(go.Scatter(x=x, y=y, mode="lines", line=dict(color="black", width=2),
                             name="outline", hoverinfo="skip", showlegend=False))
    if site.obstacles:
        xs, ys, txt, ref = [], [], [], []
        for i, o in enumerate(site.obstacles):
            ox, oy = _closed(o.polygon)
            t = (f"<b>{o.name}</b><br>{o.material}, {o.height_m:g} m high, "
                 f"{losses.get(o.material, float('nan')):g} dB")
            xs += ox + [None]
            ys += oy + [None]
            txt += [t] * len(ox) + [None]
            ref += [f"obstacles:{i}"] * len(ox) + [None]
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", fill="toself",
                                 fillcolor="rgba(90,90,90,0.45)",
                                 line=dict(color="#303030", width=0.8), name="obstacles",
                                 text=txt, hoverinfo="text" if hover else "skip",
                                 hoveron="fills+points", customdata=ref))
    by_mat: dict[str, list] = {}
    for i, w in enumerate(site.walls):
        by_mat.setdefault(w.material, []).append((i, w.points))
    for mat, items in sorted(by_mat.items(), key=lambda kv: -losses.get(kv[0], 0)):
        loss = losses.get(mat, 10.0)
        xs, ys = _joined([pts for _, pts in items], closed=False)
        ref = [v for i, pts in items for v in [f"walls:{i}"] * len(pts) + [None]]
        fig.add_trace(go.Scatter(
            x=xs, y=ys, mode="lines", name=f"{mat} ({loss:g} dB)", customdata=ref,
            line=dict(color=WALL_COLOURS.get(mat, "#202020"), width=wall_width_px(loss)),
            **(dict(hovertemplate=f"wall: {mat}, {loss:g} dB<extra></extra>") if hover
               else dict(hoverinfo="skip"))))
    if zones and site.zones:
        xs, ys = _joined([z.polygon for z in site.zones])
        ref = [v for i, z in enumerate(site.zones)
               for v in [f"zones:{i}"] * (len(z.polygon) + 1) + [None]]
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name="zones", customdata=ref,
                                 line=dict(color="#0050a0", width=1.3, dash="dash"),
                                 hoverinfo="skip"))
        minx, miny, maxx, maxy = site.bounds
        inset = 0.01 * max(maxx - minx, maxy - miny)      # keep the label off the zone edge
        fig.add_trace(go.Scatter(
            x=[np.min(z.polygon[:, 0]) + inset for z in site.zones],
            y=[np.max(z.polygon[:, 1]) - inset for z in site.zones], mode="text",
            text=[f"{z.name} ({z.min_rssi_dbm:g} dBm)" for z in site.zones],
            textposition="bottom right", textfont=dict(color="#0050a0", size=11),
            unselected=dict(textfont=dict(color="#0050a0")),
            hovertext=[f"zone {z.name}: min {z.min_rssi_dbm:g} dBm, terminals "
                       f"{', '.join(f'{k} {v}' for k, v in z.terminals.items()) or 'none'}"
                       for z in site.zones],
            hoverinfo="text", showlegend=False))
    if site.no_mount:
        xs, ys = _joined([a.polygon for a in site.no_mount])
        ref = [v for i, a in enumerate(site.no_mount)
               for v in [f"no_mount:{i}"] * (len(a.polygon) + 1) + [None]]
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", fill="toself", name="no-mount areas",
                                 fillcolor="rgba(200,0,0,0.10)", customdata=ref,
                                 line=dict(color="#c00000", width=1.0, dash="dot"),
                                 text=[None if r is None else "no-mount: " + site.no_mount[
                                     int(r.split(":")[1])].name for r in ref],
                                 hoverinfo="text" if hover else "skip"))
    if infrastructure and (site.server or site.switches):
        items = ([(site.server["name"], site.server["position"], "server")]
                 if site.server else []) + [(s.name, s.position, f"switch, {s.ports} ports")
                                            for s in site.switches]
        fig.add_trace(go.Scatter(
            x=[p[1][0] for p in items], y=[p[1][1] for p in items], mode="markers",
            marker=dict(symbol="square", size=9, color="#444", line=dict(color="white", width=1)),
            name="server / switches", text=[f"{n}: {k}" for n, _, k in items],
            hoverinfo="text"))
    if aps:
        add_aps(fig, aps, labels=labels, site=site)
    if selected is not None:
        add_selected(fig, site, aps or [], selected)
    return fig


SELECTED_COLOUR = "#e0007a"


def add_selected(fig: go.Figure, site, aps, selected) -> go.Figure:
    """A ring around the selected AP, or the selected wall, obstacle, zone or area drawn
    over in the highlight colour."""
    kind, ref = selected
    if kind == "aps":
        a = next((a for a in aps if a.id == ref), None)
        if a is not None:
            fig.add_trace(go.Scatter(x=[a.x_m], y=[a.y_m], mode="markers", name="selected",
                                     marker=dict(symbol="circle-open", size=24,
                                                 color=SELECTED_COLOUR, line=dict(width=3)),
                                     hoverinfo="skip", showlegend=False))
        return fig
    items = getattr(site, kind, [])
    if not (isinstance(ref, int) and 0 <= ref < len(items)):
        return fig
    item = items[ref]
    pts = np.asarray(item.points if kind == "walls" else item.polygon, float)[:, :2]
    x, y = (list(pts[:, 0]), list(pts[:, 1])) if kind == "walls" else _closed(pts)
    fig.add_trace(go.Scatter(x=x, y=y, mode="lines+markers", name="selected",
                             line=dict(color=SELECTED_COLOUR, width=4),
                             marker=dict(size=7, color=SELECTED_COLOUR), hoverinfo="skip",
                             showlegend=False))
    return fig


def add_drawing(fig: go.Figure, points, closed: bool) -> go.Figure:
    """The shape being drawn: its points so far, closed for a polygon."""
    if not points:
        return fig
    pts = np.asarray(points, float)
    x, y = (_closed(pts) if closed and len(pts) > 2 else (list(pts[:, 0]), list(pts[:, 1])))
    fig.add_trace(go.Scatter(x=x, y=y, mode="lines+markers", name="drawing",
                             line=dict(color=SELECTED_COLOUR, width=2.5, dash="dash"),
                             marker=dict(size=9, color=SELECTED_COLOUR, symbol="x"),
                             hoverinfo="skip", showlegend=False))
    return fig


#: The most points of the invisible hover-and-click grid of a figure.
MAX_GRID_POINTS = 12_000


def grid_step(n_cells: int, max_points: int = MAX_GRID_POINTS) -> int:
    """Every how many cells the hover-and-click grid takes a point (1, 2, 3 ...)."""
    return max(1, int(np.ceil(np.sqrt(n_cells / max_points))))


#: Grid points closer than this many grid steps to an AP (or, where they take the hover, a
#: vertex of a wall or shape) are left out: plotly gives the hover and the click to the
#: smallest marker under the pointer, so without the gap the invisible grid would win
#: over the AP.
PICK_GAP_STEPS = 1.5


def pickable_points(site, aps, shapes: bool) -> np.ndarray:
    """(n, 2) [m] the points a click selects: the APs and, with ``shapes``, the vertices of
    the walls, obstacles, zones and no-mount areas."""
    pts = [np.array([[a.x_m, a.y_m] for a in aps], float).reshape(-1, 2)]
    if shapes:
        pts += [np.asarray(w.points, float)[:, :2] for w in site.walls]
        pts += [np.asarray(o.polygon, float)[:, :2] for o in site.obstacles]
        pts += [np.asarray(z.polygon, float)[:, :2] for z in site.zones]
        pts += [np.asarray(a.polygon, float)[:, :2] for a in site.no_mount]
    return np.vstack(pts)


def _away_from(x, y, avoid, gap_m: float) -> np.ndarray:
    """True for the points (x, y) at least ``gap_m`` from every point of ``avoid``."""
    if avoid is None or not len(avoid):
        return np.ones(len(x), bool)
    from scipy.spatial import cKDTree
    d, _ = cKDTree(avoid).query(np.column_stack([x, y]), k=1)
    return d >= gap_m


def add_click_grid(fig: go.Figure, site, step_m: float | None = None,
                   avoid=None) -> go.Figure:
    """An invisible grid over the outline that reads the position under the pointer (hover)
    and takes the map editor's clicks: at most :data:`MAX_GRID_POINTS` points, at a round
    step (0.25, 0.5, 1, 2 ... m), none within :data:`PICK_GAP_STEPS` steps of ``avoid``."""
    minx, miny, maxx, maxy = site.bounds
    if step_m is None:
        raw = np.sqrt((maxx - minx) * (maxy - miny) / MAX_GRID_POINTS)
        step_m = next(s for s in (0.1, 0.25, 0.5, 1.0, 2.0, 2.5, 5.0, 10.0, 20.0, 50.0, 1e9)
                      if s >= raw)
    gx = np.arange(minx, maxx + step_m / 2, step_m)
    gy = np.arange(miny, maxy + step_m / 2, step_m)
    X, Y = np.meshgrid(gx, gy)
    inside = site.inside_outline(X, Y, step_m)
    X, Y = X[inside], Y[inside]
    keep = _away_from(X, Y, avoid, PICK_GAP_STEPS * step_m)
    fig.add_trace(go.Scattergl(x=X[keep].astype(np.float32), y=Y[keep].astype(np.float32),
                             mode="markers", name="grid", showlegend=False,
                             marker=dict(size=6, opacity=0),
                             selected=dict(marker=dict(opacity=0)),
                             unselected=dict(marker=dict(opacity=0)),
                             hovertemplate="x %{x:.2f} m, y %{y:.2f} m<extra></extra>"))
    return fig


def add_aps(fig: go.Figure, aps, *, labels: bool = True, site=None) -> go.Figure:
    """The APs as triangles (diamonds: locked) in their channel's colour; with ``site``, a
    directional AP's boresight as a short line (:func:`wifiplan.radio.antenna.boresight_xy`)."""
    n = len(aps)
    if site is not None:
        minx, miny, maxx, maxy = site.bounds
        beam = BORESIGHT_SHARE * max(maxx - minx, maxy - miny)
        xs, ys = [], []
        for a in aps:
            end = boresight_xy(a, beam)
            if end is not None:
                xs += [a.x_m, end[0], None]
                ys += [a.y_m, end[1], None]
        if xs:
            fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name="antenna direction",
                                     line=dict(color="black", width=2), hoverinfo="skip",
                                     showlegend=False))
    fig.add_trace(go.Scatter(
        x=[a.x_m for a in aps], y=[a.y_m for a in aps],
        mode="markers+text" if labels else "markers",
        marker=dict(symbol=["diamond" if a.locked else "triangle-up" for a in aps],
                    size=13 if n <= 20 else 10, color=[channel_colour(a.channel) for a in aps],
                    line=dict(color="black", width=1.2)),
        text=[f"{a.id}" for a in aps], textposition="top center",
        textfont=dict(size=11 if n <= 30 else 9, color="black"),
        customdata=[[a.id, a.channel, a.tx_power_dbm, a.height_m,
                     "locked" if a.locked else "free"] for a in aps],
        hovertemplate=("<b>%{customdata[0]}</b> (%{customdata[4]})<br>ch %{customdata[1]}, "
                       "%{customdata[2]:.1f} dBm, %{customdata[3]:.1f} m high<br>"
                       "x %{x:.1f} m, y %{y:.1f} m<extra></extra>"),
        selected=dict(marker=dict(opacity=1.0)),
        unselected=dict(marker=dict(opacity=1.0), textfont=dict(color="black")),
        name="APs (diamond: locked)"))
    return fig


def site_figure(site, aps=None, background=None, title=None, *, selected=None,
                drawing=None, closed: bool = False, click_grid: bool = False) -> go.Figure:
    """The site and its APs; for the map editor with the selection, the shape being drawn
    and the invisible click grid."""
    fig = base_figure(site, title, background)
    add_site(fig, site, aps, selected=selected)
    if drawing:
        add_drawing(fig, drawing, closed)
    if click_grid:                 # last: a click on an AP or a vertex is that, not the grid
        add_click_grid(fig, site, avoid=pickable_points(site, aps or [], shapes=True))
    return fig


def image_figure(img, points=()) -> go.Figure:
    """A floor image in pixel coordinates (y down, as image viewers count) with marked points."""
    w, h = img.size
    fig = go.Figure()
    fig.add_layout_image(dict(source=img, xref="x", yref="y", x=0, y=0, sizex=w, sizey=h,
                              sizing="stretch", layer="below"))
    # an invisible grid so that hovering anywhere reads the pixel position
    gx, gy = np.meshgrid(np.linspace(0, w, 60), np.linspace(0, h, 60))
    fig.add_trace(go.Scatter(x=gx.ravel(), y=gy.ravel(), mode="markers",
                             marker=dict(size=12, opacity=0), showlegend=False,
                             hovertemplate="x %{x:.0f} px, y %{y:.0f} px<extra></extra>"))
    if points:
        fig.add_trace(go.Scatter(x=[p[0] for p in points], y=[p[1] for p in points],
                                 mode="markers+text+lines", text=["A", "B"][:len(points)],
                                 textposition="top right", textfont=dict(size=14, color="red"),
                                 marker=dict(size=11, color="red", symbol="x"),
                                 line=dict(color="red", width=1.5, dash="dot"), name="scale"))
    fig.update_layout(height=int(min(max(900 * h / max(w, 1), 300), 700)),
                      margin=dict(l=10, r=10, t=10, b=10), plot_bgcolor="white",
                      xaxis=dict(range=[0, w], showgrid=False, zeroline=False, title="x [px]",
                                 constrain="domain"),
                      yaxis=dict(range=[h, 0], showgrid=False, zeroline=False, title="y [px]",
                                 scaleanchor="x", scaleratio=1, constrain="domain"))
    return fig


# ---- radio maps -------------------------------------------------------------------------

def _tenths(values, lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
    """Strings for every tenth in [lo, hi] and the index of each value into them.

    Formatting a few thousand table entries once and indexing is much faster than
    formatting every grid cell.
    """
    table = np.char.mod("%.1f", np.round(np.arange(lo * 10, hi * 10 + 1) / 10, 1))
    idx = np.clip(np.round((np.nan_to_num(values, nan=lo) - lo) * 10), 0, len(table) - 1)
    return table, idx.astype(np.int32)


def _hover_data(rm) -> np.ndarray:
    """(ny, nx) hover text: best and second server, each ``id (ch N) RSSI dBm``.

    One string a cell, built from a table of formatted tenths rather than cell by cell,
    and handed to plotly as an object array: plotly converts fixed-width string arrays
    and nested lists element by element, which costs a second on the large sample.
    """
    prefix = np.array([f"{a.id} (ch {a.channel}) " for a in rm.aps] + ["none"])
    dbm, _ = _tenths(np.zeros(1), -200.0, 60.0)
    dbm = np.char.add(dbm, " dBm")

    def server(idx, rssi):
        _, k = _tenths(rssi, -200.0, 60.0)
        return np.where(idx >= 0, np.char.add(prefix[idx], dbm[k]), "none")

    text = np.char.add(np.char.add("best: ", server(rm.best_server, rm.best_rssi_dbm)),
                       "<br>second: ")
    return np.char.add(text, server(rm.second_server, rm.second_rssi_dbm)).astype(object)


HOVER = "x %{x:.1f} m, y %{y:.1f} m<br>%{text}<extra></extra>"
#: The widest raster sent [px]: cells are repeated up to this width (crisp cell edges when
#: the browser stretches the image), never more than 8 px a cell.
RASTER_MAX_WIDTH_PX = 1600


def _hex_rgba(colour: str, alpha: int = 255) -> tuple[int, int, int, int]:
    c = colour.lstrip("#")
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16), alpha


def colour_cells(z, *, cmap: str, vmin: float, vmax: float) -> np.ndarray:
    """(ny, nx, 4) uint8 colours of ``z`` on the matplotlib colour map ``cmap`` between
    ``vmin`` and ``vmax``; NaN cells transparent."""
    import matplotlib
    cm = matplotlib.colormaps[cmap]
    t = np.clip((np.asarray(z, float) - vmin) / (vmax - vmin), 0.0, 1.0)
    rgba = (cm(np.nan_to_num(t)) * 255).round().astype(np.uint8)
    rgba[~np.isfinite(np.asarray(z, float))] = 0
    return rgba


def category_cells(cat, colours) -> np.ndarray:
    """(ny, nx, 4) uint8: cell ``k`` of ``cat`` in ``colours[k]``; -1 (or NaN) transparent."""
    lut = np.array([_hex_rgba(c) for c in colours] + [(0, 0, 0, 0)], np.uint8)
    c = np.asarray(cat, float)
    idx = np.where(np.isfinite(c) & (c >= 0), c, len(colours)).astype(int)
    return lut[idx]


def plotly_colourscale(cmap: str, n: int = 11) -> list:
    """The matplotlib colour map ``cmap`` as a plotly colour scale (the colour bar matches
    the raster)."""
    import matplotlib
    cm = matplotlib.colormaps[cmap]
    return [[t, "rgb({:.0f},{:.0f},{:.0f})".format(*(np.array(cm(t)[:3]) * 255))]
            for t in np.linspace(0, 1, n)]


def png_data_uri(rgba: np.ndarray, max_width_px: int = RASTER_MAX_WIDTH_PX) -> str:
    """A PNG data URI of the cell colours (row 0 = lowest y, as the map's grid), each cell
    repeated into a block of pixels up to ``max_width_px`` wide."""
    from PIL import Image
    ny, nx = rgba.shape[:2]
    k = int(max(1, min(8, max_width_px // max(nx, 1))))
    img = np.ascontiguousarray(rgba[::-1])
    if k > 1:
        img = np.repeat(np.repeat(img, k, axis=0), k, axis=1)
    buf = io.BytesIO()
    Image.fromarray(img, "RGBA").save(buf, format="PNG", compress_level=3)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def decode_png(uri: str) -> np.ndarray:
    """(rows, cols, 4) uint8 pixels of a PNG data URI (row 0 at the top, as images count)."""
    from PIL import Image
    raw = base64.b64decode(uri.split(",", 1)[1])
    return np.asarray(Image.open(io.BytesIO(raw)).convert("RGBA"))


def add_raster(fig: go.Figure, rm, rgba: np.ndarray, *, opacity: float = 1.0,
               name: str = "map") -> go.Figure:
    """The cell colours ``rgba`` of ``rm``'s grid as a layout image in site metres."""
    r = rm.resolution_m
    x0, y0 = float(rm.xs[0]) - r / 2, float(rm.ys[0]) - r / 2
    fig.add_layout_image(dict(source=png_data_uri(rgba), xref="x", yref="y", x=x0,
                              y=y0 + len(rm.ys) * r, sizex=len(rm.xs) * r,
                              sizey=len(rm.ys) * r, sizing="stretch", layer="below",
                              opacity=opacity, name=name))
    return fig


def add_colourbar(fig: go.Figure, site, *, colourscale, cmin: float, cmax: float,
                  colorbar: dict, name: str) -> go.Figure:
    """The colour bar of a raster: an invisible one-point trace that carries it."""
    minx, miny, _, _ = site.bounds
    fig.add_trace(go.Scatter(x=[minx], y=[miny], mode="markers", name=name, showlegend=False,
                             hoverinfo="skip",
                             marker=dict(size=0.1, opacity=0, color=[cmin], cmin=cmin,
                                         cmax=cmax, colorscale=colourscale, showscale=True,
                                         colorbar=dict(len=0.9, thickness=14, **colorbar))))
    return fig


def contour_lines(xs, ys, z, level: float) -> list[np.ndarray]:
    """Polylines [m] where ``z`` crosses ``level`` (contourpy, matplotlib's contouring)."""
    import contourpy
    gen = contourpy.contour_generator(x=xs, y=ys, z=np.ma.masked_invalid(z))
    return [np.asarray(line) for line in gen.lines(level)]


def add_hover_grid(fig: go.Figure, rm, text: np.ndarray) -> go.Figure:
    """Invisible points on every k-th cell inside the outline (:func:`grid_step`) that show
    ``text`` [(ny, nx) strings] under the pointer and take the map editor's clicks (none
    within :data:`PICK_GAP_STEPS` steps of an AP, whose own hover and click win there)."""
    k = grid_step(rm.mask.size)
    sub = (slice(k // 2, None, k), slice(k // 2, None, k))
    X, Y = np.meshgrid(rm.xs, rm.ys)
    m = rm.mask[sub]
    X, Y, text = X[sub][m], Y[sub][m], text[sub][m]
    keep = _away_from(X, Y, pickable_points(rm.site, rm.aps, shapes=False),
                      PICK_GAP_STEPS * k * rm.resolution_m)
    fig.add_trace(go.Scattergl(x=X[keep].astype(np.float32), y=Y[keep].astype(np.float32),
                             mode="markers", name="grid", showlegend=False, text=text[keep],
                             marker=dict(size=max(6, 2 * k), opacity=0),
                             selected=dict(marker=dict(opacity=0)),
                             unselected=dict(marker=dict(opacity=0)), hovertemplate=HOVER))
    return fig


def layer_cells(rm, kind: str = "rssi", ap_id: str | None = None) -> np.ndarray:
    """(ny, nx, 4) RGBA colours of the cells of map ``kind`` of ``rm`` (:data:`MAP_KINDS`;
    ``ap``: the signal of AP ``ap_id``), transparent outside the site: the raster of
    :func:`radiomap_figure` and of the drag canvas (:func:`canvas_background`)."""
    outside = ~rm.mask
    if kind == "rssi":
        lo, hi = RSSI_RANGE_DBM
        return colour_cells(np.where(outside, np.nan, rm.best_rssi_dbm), cmap="turbo",
                            vmin=lo, vmax=hi)
    if kind == "channel":
        chans = sorted({int(c) for c in rm.channels})
        idx = {c: i for i, c in enumerate(chans)}
        lut = np.array([idx[int(c)] for c in rm.channels] + [-1], int)
        cat = np.where(outside, -1, lut[rm.best_server])
        edge = _cell_edges(rm)
        rgba = category_cells(cat, [channel_colour(c) for c in chans])
        rgba[edge, :3] = (rgba[edge, :3] * 0.45).astype(np.uint8)     # cell borders darker
        return rgba
    if kind == "boundary":
        return category_cells(boundary_classes(rm), BOUNDARY_COLOURS)
    if kind == "sinr":
        return colour_cells(np.where(outside, np.nan, rm.sinr_db), cmap="RdYlGn", vmin=0.0,
                            vmax=50.0)
    if kind == "secondary":                 # the roaming terminal's next AP (seed 8.1.3.5)
        second = np.where(outside, np.nan, np.asarray(rm.second_rssi_dbm, float))
        heard = np.isfinite(second) & (second >= ROAM_THRESHOLD_DBM)
        rgba = colour_cells(np.where(heard, second, np.nan), cmap="viridis",
                            vmin=ROAM_THRESHOLD_DBM, vmax=RSSI_RANGE_DBM[1])
        rgba[~outside & ~heard] = _hex_rgba(NO_SECOND_COLOUR)
        return rgba
    if kind == "ap":
        i = [a.id for a in rm.aps].index(ap_id)
        lo, hi = RSSI_RANGE_DBM
        return colour_cells(np.where(outside, np.nan, rm.rssi_dbm[i]), cmap="turbo",
                            vmin=lo, vmax=hi)
    raise ValueError(f"unknown map kind {kind!r}: {', '.join(MAP_KINDS)}")


def radiomap_figure(rm, kind: str = "rssi", *, background=None, title=None, selected=None,
                    drawing=None, closed: bool = False, ap_id: str | None = None) -> go.Figure:
    """One quantity of ``rm`` as a raster with the site and APs on top.

    Every kind hovers the same: best and second server with channel and RSSI (and the SINR
    on the SINR map, the AP's own RSSI on the map of AP ``ap_id``'s signal, kind ``ap``),
    on the grid of :func:`add_hover_grid`. ``selected`` and ``drawing`` are the map
    editor's selection and the shape being drawn.
    """
    site = rm.site
    fig = base_figure(site, title, background)
    outside = ~rm.mask
    best_rssi = np.where(outside, np.nan, rm.best_rssi_dbm)
    text = _hover_data(rm)
    opacity = 0.72 if background else 1.0
    add_raster(fig, rm, layer_cells(rm, kind, ap_id), opacity=opacity)
    lines = []
    if kind == "rssi":
        lo, hi = RSSI_RANGE_DBM
        add_colourbar(fig, site, colourscale=plotly_colourscale("turbo"), cmin=lo, cmax=hi,
                      colorbar=dict(title=dict(text="dBm", side="top")),
                      name="best-server RSSI")
        lines = [(DEFAULT_MIN_RSSI_DBM, "black", "solid"), (ROAM_THRESHOLD_DBM, "white", "dash")]
    elif kind == "channel":
        chans = sorted({int(c) for c in rm.channels})
        n = len(chans)
        scale = []
        for i, c in enumerate(chans):
            scale += [[i / n, channel_colour(c)], [(i + 1) / n, channel_colour(c)]]
        add_colourbar(fig, site, colourscale=scale, cmin=-0.5, cmax=n - 0.5, name="channel",
                      colorbar=dict(title=dict(text="channel", side="top"),
                                    tickvals=list(range(n)), ticktext=[f"ch {c}" for c in chans]))
    elif kind == "boundary":
        scale = []
        for i, c in enumerate(BOUNDARY_COLOURS):
            scale += [[i / 4, c], [(i + 1) / 4, c]]
        add_colourbar(fig, site, colourscale=scale, cmin=-0.5, cmax=3.5, name="boundary",
                      colorbar=dict(tickvals=[0, 1, 2, 3], ticktext=BOUNDARY_CLASSES,
                                    tickfont=dict(size=10)))
    elif kind == "secondary":
        add_colourbar(fig, site, colourscale=plotly_colourscale("viridis"),
                      cmin=ROAM_THRESHOLD_DBM, cmax=RSSI_RANGE_DBM[1], name="second AP",
                      colorbar=dict(title=dict(text="2nd AP dBm", side="top")))
    elif kind == "sinr":
        sinr = np.where(outside, np.nan, rm.sinr_db)
        add_colourbar(fig, site, colourscale=plotly_colourscale("RdYlGn"), cmin=0.0, cmax=50.0,
                      colorbar=dict(title=dict(text="SINR dB", side="top")), name="SINR")
        _, k = _tenths(sinr, -100.0, 200.0)
        table, _ = _tenths(np.zeros(1), -100.0, 200.0)
        text = np.char.add(np.char.add(text.astype(str), "<br>SINR "),
                           np.char.add(table[k], " dB")).astype(object)
    else:                                   # kind "ap" (layer_cells refused any other)
        i = [a.id for a in rm.aps].index(ap_id)
        own = np.where(outside, np.nan, rm.rssi_dbm[i])
        lo, hi = RSSI_RANGE_DBM
        add_colourbar(fig, site, colourscale=plotly_colourscale("turbo"), cmin=lo, cmax=hi,
                      colorbar=dict(title=dict(text=f"{ap_id} dBm", side="top")),
                      name=f"{ap_id} RSSI")
        _, k = _tenths(own, -200.0, 60.0)
        table, _ = _tenths(np.zeros(1), -200.0, 60.0)
        text = np.char.add(np.char.add(text.astype(str), f"<br>{ap_id}: "),
                           np.char.add(table[k], " dBm")).astype(object)
    for level, colour, dash in lines:
        xs, ys = _joined(contour_lines(rm.xs, rm.ys, best_rssi, level), closed=False)
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name=f"{level:g} dBm",
                                 line=dict(color=colour, width=1.4, dash=dash),
                                 hoverinfo="skip", showlegend=False))
    add_site(fig, site, rm.aps, hover=False, selected=selected)
    if drawing:
        add_drawing(fig, drawing, closed)
    add_hover_grid(fig, rm, text)  # last: a click on an AP or a vertex is that, not the grid
    return fig


def boundary_classes(rm) -> np.ndarray:
    """(ny, nx) class of each cell for the boundary map: 0 inside a cell, 1-3 on a cell
    boundary above, inside and below the seed's band (:data:`BOUNDARY_CLASSES`), -1 outside
    the outline."""
    bnd = rm.boundary_mask()
    lo, hi = BOUNDARY_BAND_DBM
    cat = np.zeros(rm.best_rssi_dbm.shape, int)
    cat[bnd & (rm.best_rssi_dbm > hi)] = 1
    cat[bnd & (rm.best_rssi_dbm >= lo) & (rm.best_rssi_dbm <= hi)] = 2
    cat[bnd & (rm.best_rssi_dbm < lo)] = 3
    cat[~rm.mask] = -1
    return cat


def _cell_edges(rm) -> np.ndarray:
    """(ny, nx) True where the best server changes (the drawn cell borders)."""
    b = rm.best_server
    edge = np.zeros(b.shape, bool)
    edge[:, 1:] |= b[:, 1:] != b[:, :-1]
    edge[1:, :] |= b[1:, :] != b[:-1, :]
    return edge & rm.mask


# ---- survey -----------------------------------------------------------------------------

def grid_figure(site, xs, ys, z, *, title, colorbar, zmin=None, zmax=None,
                colorscale="Turbo", aps=None, background=None, hover_unit="dBm") -> go.Figure:
    """A heatmap of any grid quantity on the site (measured, predicted, residual maps)."""
    fig = base_figure(site, title, background)
    fig.add_trace(go.Heatmap(x=xs, y=ys, z=z, zmin=zmin, zmax=zmax, colorscale=colorscale,
                             hoverongaps=False,
                             hovertemplate=f"x %{{x:.1f}} m, y %{{y:.1f}} m<br>%{{z:.1f}} "
                                           f"{hover_unit}<extra></extra>",
                             colorbar=dict(title=dict(text=colorbar, side="top"), len=0.9,
                                           thickness=14)))
    return add_site(fig, site, aps, zones=False, infrastructure=False, hover=False)


ROOM_COLOURS = ["#cfe2f3", "#fce5cd", "#d9ead3", "#f4cccc", "#d9d2e9", "#fff2cc",
                "#d0e0e3", "#ead1dc", "#e6b8af", "#c9daf8"]


def rooms_figure(site, model, *, background=None) -> go.Figure:
    """The rooms the hall model sees (:mod:`wifiplan.radio.rooms`): each room a colour, the
    doorways that close them red, the site drawn over them."""
    R = model.room.rooms
    ny, nx = R.labels.shape
    xs = R.x0_m + np.arange(nx) * R.step_m
    ys = R.y0_m + np.arange(ny) * R.step_m
    X, Y = np.meshgrid(xs, ys)
    inside = site.inside_outline(X, Y)
    z = np.where(inside, R.labels % len(ROOM_COLOURS), np.nan)
    n = len(ROOM_COLOURS)
    # a step colour scale: colour k over [k/n, (k+1)/n)
    scale = []
    for k, c in enumerate(ROOM_COLOURS):
        scale += [[k / n, c], [(k + 1) / n - (1e-6 if k < n - 1 else 0.0), c]]
    fig = base_figure(site, None, background)
    fig.add_trace(go.Heatmap(x=xs, y=ys, z=z, zmin=-0.5, zmax=n - 0.5, colorscale=scale,
                             showscale=False, hoverongaps=False,
                             customdata=np.where(inside, R.labels, -1),
                             hovertemplate="room %{customdata}<extra></extra>", name="rooms"))
    doors = R.doorways
    if doors:
        dx = [v for (a, b) in doors for v in (a[0], b[0], None)]
        dy = [v for (a, b) in doors for v in (a[1], b[1], None)]
        fig.add_trace(go.Scatter(x=dx, y=dy, mode="lines", line=dict(color="red", width=2),
                                 name="doorways", hoverinfo="skip"))
    return add_site(fig, site, None, zones=False, infrastructure=False, hover=False)


def add_points(fig: go.Figure, x, y, hover, *, name: str) -> go.Figure:
    fig.add_trace(go.Scatter(x=list(x), y=list(y), mode="markers", text=list(hover),
                             hoverinfo="text", name=name,
                             marker=dict(size=5, color="white", line=dict(color="black",
                                                                          width=0.8))))
    return fig


FINDING_SYMBOLS = {"error": ("x", "#d62728"), "warning": ("triangle-down", "#ff7f0e"),
                   "info": ("circle-open", "#1f77b4")}


def add_findings(fig: go.Figure, rows) -> go.Figure:
    """Findings with a position, one trace per severity."""
    for sev, (symbol, colour) in FINDING_SYMBOLS.items():
        r = rows[rows["severity"] == sev]
        if len(r):
            fig.add_trace(go.Scatter(
                x=r["x_m"], y=r["y_m"], mode="markers", name=f"{sev} ({len(r)})",
                marker=dict(symbol=symbol, size=13, color=colour,
                            line=dict(color="black", width=1)),
                text=[f"<b>{k}</b>: {d}" for k, d in zip(r["kind"], r["detail"])],
                hoverinfo="text"))
    return fig


# ---- the drag canvas ----------------------------------------------------------------------

@dataclass(frozen=True)
class CanvasFrame:
    """Site metres <-> pixels of the drag canvas: ``x0_m``, ``y1_m`` the top-left corner
    [m], ``px_per_m`` the scale, ``width_px`` x ``height_px`` the canvas."""
    x0_m: float
    y1_m: float
    px_per_m: float
    width_px: int
    height_px: int

    @classmethod
    def of(cls, rm, width_px: int) -> "CanvasFrame":
        """The frame of ``rm``'s grid (cell edges) at ``width_px`` pixels wide."""
        r = rm.resolution_m
        return cls.of_box(float(rm.xs[0]) - r / 2, float(rm.ys[0]) - r / 2,
                          float(rm.xs[-1]) + r / 2, float(rm.ys[-1]) + r / 2, width_px)

    @classmethod
    def of_box(cls, x0, y0, x1, y1, width_px: int) -> "CanvasFrame":
        """The frame of the box (x0, y0)-(x1, y1) [m] at ``width_px`` pixels wide."""
        s = width_px / (x1 - x0)
        return cls(float(x0), float(y1), s, int(width_px), int(round((y1 - y0) * s)))

    def to_px(self, x_m, y_m) -> tuple[float, float]:
        return (x_m - self.x0_m) * self.px_per_m, (self.y1_m - y_m) * self.px_per_m

    def to_m(self, x_px, y_px) -> tuple[float, float]:
        return self.x0_m + x_px / self.px_per_m, self.y1_m - y_px / self.px_per_m


def canvas_background(site, frame: CanvasFrame, cells: np.ndarray | None = None) -> bytes:
    """PNG of the map cells ``cells`` (:func:`layer_cells`, on the grid that ``frame`` spans;
    None: a blank floor) at ``frame``'s size, with the site's outline, obstacles, walls (by
    material colour) and zones drawn over it: the picture under the APs of the drag canvas,
    which moves none of it."""
    from PIL import Image, ImageDraw
    img = Image.new("RGBA", (frame.width_px, frame.height_px), (255, 255, 255, 255))
    if cells is not None:
        img.alpha_composite(Image.fromarray(np.ascontiguousarray(cells[::-1]), "RGBA").resize(
            img.size, Image.NEAREST))
    draw = ImageDraw.Draw(img, "RGBA")

    def px(poly):
        return [frame.to_px(float(x), float(y)) for x, y in np.asarray(poly, float)[:, :2]]

    for z in site.zones:
        draw.polygon(px(z.polygon), outline=(0, 80, 160, 255))
    for o in site.obstacles:
        draw.polygon(px(o.polygon), fill=(90, 90, 90, 115), outline=(48, 48, 48, 255))
    losses = site.material_losses()
    for w in site.walls:
        width = max(1, int(round(wall_width_px(losses.get(w.material, 10.0)))))
        draw.line(px(w.points), fill=WALL_COLOURS.get(w.material, "#202020"), width=width)
    draw.line(px(np.vstack([site.outline, site.outline[:1]])), fill=(0, 0, 0, 255), width=2)
    buf = io.BytesIO()
    img.convert("RGB").save(buf, format="PNG", compress_level=3)
    return buf.getvalue()


def canvas_aps(aps, frame: CanvasFrame, radius_px: float = 7.0) -> dict:
    """The drag canvas's drawing (Fabric.js JSON): one circle per AP in the order of ``aps``
    (coloured by channel; a locked AP cannot be moved), then its label, which is not
    selectable. The editor reads the circles' centres back in that order."""
    objects = []
    for a in aps:
        cx, cy = frame.to_px(a.x_m, a.y_m)
        objects.append({
            "type": "circle", "version": "5.3.0", "originX": "center", "originY": "center",
            "left": cx, "top": cy, "radius": radius_px, "fill": channel_colour(a.channel),
            "stroke": "#000000", "strokeWidth": 1.5, "hasControls": False,
            "hasBorders": True, "lockScalingX": True, "lockScalingY": True,
            "lockRotation": True, "selectable": not a.locked,
            "lockMovementX": bool(a.locked), "lockMovementY": bool(a.locked),
            "hoverCursor": "move"})
    for a in aps:
        cx, cy = frame.to_px(a.x_m, a.y_m)
        objects.append({
            "type": "text", "version": "5.3.0", "originX": "center", "originY": "bottom",
            "left": cx, "top": cy - radius_px - 1, "text": a.id, "fontSize": 12,
            "fill": "#000000", "fontFamily": "sans-serif", "selectable": False,
            "evented": False})
    return {"version": "5.3.0", "objects": objects}
