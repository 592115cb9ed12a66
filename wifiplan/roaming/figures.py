"""Figures of a roaming report (:func:`wifiplan.roaming.simulate_roaming`): the routes over
the floor with the serving AP coloured along each, and the RSSI timeline of a route (serving
and best AP, the re-scan threshold, the boundary band, roams and outages)."""
from __future__ import annotations

import numpy as np

from ..radio.plotting import draw_site, new_figure
from ..rules import BOUNDARY_BAND_DBM, ROAM_THRESHOLD_DBM

NO_LINK_COLOUR = "#d00000"


def ap_colours(aps) -> dict:
    """A colour per AP id (tab20, in plan order), for both figures."""
    import matplotlib
    cmap = matplotlib.colormaps["tab20"]
    return {a.id: matplotlib.colors.to_hex(cmap(i % 20)) for i, a in enumerate(aps)}


def route_overlay_figure(site, aps, report: dict, ax=None, title: str | None = None,
                         routes: list[str] | None = None):
    """The floor with every route of ``report`` (or those named in ``routes``), each coloured
    by its serving AP along the way (red: no link); roams marked with a dot, ping-pong roams
    with a red ring. Returns the figure."""
    from matplotlib.collections import LineCollection
    if ax is None:
        fig, ax = new_figure(site)
    else:
        fig = ax.figure
    draw_site(ax, site, aps, labels=True, ap_text="id")
    col = ap_colours(aps)
    shown = [r for r in report["routes"] if routes is None or r["name"] in routes]
    for r in shown:
        tl = r["timeline"]
        xy = np.column_stack([tl["x_m"], tl["y_m"]]).astype(float)
        if len(xy) < 2:
            continue
        segs = np.stack([xy[:-1], xy[1:]], axis=1)
        colours = [col.get(a, NO_LINK_COLOUR) if a else NO_LINK_COLOUR
                   for a in tl["serving_ap"][:-1]]
        ax.add_collection(LineCollection(segs, colors=colours, linewidths=3.0, zorder=12,
                                         capstyle="butt"))
        ax.annotate(r["name"], xy[0], xytext=(2, -9), textcoords="offset points", fontsize=6,
                    zorder=13, bbox=dict(boxstyle="round,pad=0.1", fc="white", ec="none",
                                         alpha=0.7))
        pp_back = {p["back_s"] for p in r["ping_pong"]}
        for ev in r["roam_events"]:
            ax.plot(ev["x_m"], ev["y_m"], "o", ms=4, mfc="white", mec="black", mew=0.8,
                    zorder=14)
            if ev["t_s"] in pp_back:
                ax.plot(ev["x_m"], ev["y_m"], "o", ms=9, mfc="none", mec=NO_LINK_COLOUR, mew=1.5,
                        zorder=14)
    n_roams = sum(r["roams"] for r in shown)
    n_pp = sum(r["ping_pong_roams"] for r in shown)
    ax.set_title(title or f"Routes coloured by serving AP: {len(shown)} walks, {n_roams} roams "
                          f"(dots), {n_pp} ping-pong (red rings); red: no link", fontsize=10)
    return fig


#: Routes a timeline figure shows at most (one panel each).
TIMELINE_ROUTES = 6


def timeline_figure(report: dict, routes: list[str] | None = None, aps=None,
                    max_routes: int = TIMELINE_ROUTES, width_in: float = 11.0):
    """One panel per route (at most ``max_routes``): serving-AP RSSI (coloured by AP) and the
    best AP's over the walking time, the -70 dBm re-scan threshold, the -70..-65 dBm boundary
    band, roams (vertical lines, labelled) and outages (red). Returns the figure."""
    from matplotlib.figure import Figure
    shown = [r for r in report["routes"] if routes is None or r["name"] in routes][:max_routes]
    n = max(len(shown), 1)
    fig = Figure(figsize=(width_in, 1.0 + 2.1 * n), dpi=110, layout="constrained")
    axes = np.atleast_1d(fig.subplots(n, 1, squeeze=False)[:, 0])
    if aps is not None:
        col = ap_colours(aps)
    else:
        ids = sorted({a for r in shown for a in r["timeline"]["serving_ap"] if a})
        import matplotlib
        cmap = matplotlib.colormaps["tab20"]
        col = {a: matplotlib.colors.to_hex(cmap(i % 20)) for i, a in enumerate(ids)}
    lo, hi = BOUNDARY_BAND_DBM
    for ax, r in zip(axes, shown):
        tl = r["timeline"]
        t = np.asarray(tl["t_s"], float)
        srv = np.array([np.nan if v is None else v for v in tl["serving_rssi_dbm"]], float)
        best = np.array([np.nan if v is None else v for v in tl["best_rssi_dbm"]], float)
        ax.axhspan(lo, hi, color="#2ec4b6", alpha=0.15, lw=0)
        ax.axhline(ROAM_THRESHOLD_DBM, color="black", lw=0.8, ls="--")
        ax.plot(t, best, color="#808080", lw=1.0, ls=":", label="best AP")
        aps_ = tl["serving_ap"]
        i = 0
        while i < len(t):
            j = i
            while j + 1 < len(t) and aps_[j + 1] == aps_[i]:
                j += 1
            if aps_[i]:
                ax.plot(t[i:j + 1], srv[i:j + 1], color=col.get(aps_[i], "black"), lw=1.8)
                ax.text(t[i], srv[i] + 1.0, aps_[i], fontsize=6, color=col.get(aps_[i], "black"))
            i = j + 1
        for o in r["outages"]:
            ax.axvspan(o["from_s"], max(o["to_s"], o["from_s"] + 0.05), color=NO_LINK_COLOUR,
                       alpha=0.35, lw=0)
        for ev in r["roam_events"]:
            ax.axvline(ev["t_s"], color="black", lw=0.6, alpha=0.6)
        finite = np.concatenate([srv[np.isfinite(srv)], best[np.isfinite(best)]])
        top = float(np.nanmax(finite)) + 5 if finite.size else -30.0
        bottom = float(min(np.nanmin(finite) if finite.size else -90.0, ROAM_THRESHOLD_DBM)) - 5
        ax.set_ylim(bottom, top)
        ax.set_xlim(0, max(float(t[-1]) if len(t) else 1.0, 1.0))
        ax.set_ylabel("RSSI [dBm]", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.set_title(f"{r['name']} ({r['terminal']}, {r['length_m']:g} m at "
                     f"{r['speed_m_s']:g} m/s): {r['roams']} roams, {r['ping_pong_roams']} "
                     f"ping-pong, {r['seconds_below_70_dbm']:g} s below "
                     f"{ROAM_THRESHOLD_DBM:g} dBm, longest outage {r['longest_outage_s']:g} s",
                     fontsize=8, loc="left")
    axes[-1].set_xlabel("walking time [s]")
    if not shown:
        axes[0].text(0.5, 0.5, "no routes", ha="center", va="center",
                     transform=axes[0].transAxes)
    else:
        axes[0].legend(loc="upper right", fontsize=7)
    return fig
