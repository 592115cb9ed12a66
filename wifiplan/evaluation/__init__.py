"""Metrics of a plan: coverage, cell boundaries, co-channel separation, cells, backhaul.

:func:`evaluate_plan` measures any plan (the planner's, a hand-made one, one edited in the
UI) with the same rules the planner plans by (DESIGN.md sections 2 and 6):

- **Required points** are the grid points inside a zone and outside every obstacle
  footprint (a terminal cannot stand inside a machine or a rack), each with its zone's
  ``min_rssi_dbm``. A site without zones is measured over its whole outline at -67 dBm
  (``coverage_basis: outline``) and a warning says so.
- **Primary coverage**: share of required points whose best server reaches the requirement.
- **Cell boundary**: points where the best and second-best server are within 3 dB; the
  boundary band share is the share of the boundary points (among the required points of
  the zones judged against the band, :func:`wifiplan.requirements.band_judged`) whose best
  server lies in -70..-65 dBm. A zone whose own minimum RSSI leaves no room in the band is
  listed in ``boundary_band_conflicts`` with the reason, and its points are not judged.
- **SINR**: share of required points whose best server's SINR reaches its zone's
  ``min_sinr_db``.
- **Secondary coverage**: share of required points with a second server >= -70 dBm (the
  roaming threshold of seed 8.1.3.5).
- **Co-channel separation**: at a required point, the best server minus the strongest
  other AP on its channel [dB] (no such AP: not counted); min and 5th percentile. Pairs
  of same-channel APs where the separation falls below 19 dB are the co-channel conflicts.

The requirements a zone's profile asks beyond these (:mod:`wifiplan.requirements`,
:meth:`~wifiplan.requirements.Requirements.asks`) are measured over the points of the zones
that ask them, and appear in the metrics only where some zone asks them (a site that names
no profile gets exactly the figures above), each as the share of those points that meet
their zone's value (:data:`SHARE_KEYS`), over all of them and per zone:

- **Secondary signal** (``secondary_signal_share``): the second-strongest AP at or above the
  zone's ``secondary_rssi_dbm``.
- **SNR** (``snr_share``): the best server at or above the zone's ``min_snr_db`` over the
  noise floor, where that is stricter than the zone's primary level.
- **Data rate** (``data_rate_share``): the PHY rate at the point's SINR
  (:func:`wifiplan.capacity.phy_rate_at_sinr_mbps`, the MCS table) at or above the zone's
  ``min_data_rate_mbps``.
- **Channel overlap** (``channel_overlap_share``): on no channel more than the zone's
  ``channel_overlap_max_aps`` APs heard at or above its ``channel_overlap_dbm``.
"""
from __future__ import annotations

from typing import TypedDict

import numpy as np

from ..backhaul import backhaul_summary
from ..capacity import cell_load
from ..radio.propagation import PropagationModel
from ..radio.radiomap import compute_radiomap
from ..requirements import LABELS, asked, band_conflicts
from ..rules import (BOUNDARY_BAND_DBM, BOUNDARY_BAND_TARGET, BOUNDARY_BAND_TEXT,
                     CO_CHANNEL_MIN_SEPARATION_DB, DEFAULT_MIN_RSSI_DBM, ROAM_THRESHOLD_DBM,
                     ZONE_COVERAGE_TARGET)
from ..site import Site
from .checks import ap_power_range_dbm, co_channel_conflicts, plan_violations
from .figures import (SHARE_KEYS, Figures, band_tradeoff, co_channel_separation_p5_db,
                      figures_at, requirement_checks)
from .points import RequiredPoints, obstacle_mask, required_points, zone_indices

__all__ = ["evaluate_plan", "format_metrics", "unmet_requirements", "requirement_text",
           "PlanMetrics", "ZoneMetrics", "Figures", "figures_at", "requirement_checks",
           "SHARE_KEYS", "co_channel_separation_p5_db", "co_channel_conflicts",
           "plan_violations", "ap_power_range_dbm", "RequiredPoints", "required_points",
           "obstacle_mask", "zone_indices"]



# ---- the metrics -------------------------------------------------------------------------------

def _r(v, nd=4):
    if v is None:
        return None
    v = float(v)
    return None if not np.isfinite(v) else round(v, nd)


class ZoneMetrics(TypedDict, total=False):
    """One zone's figures in :class:`PlanMetrics` (``zones``); the shares of
    :data:`SHARE_KEYS` (with the zone's value under the requirement's key) where the zone
    asks them."""
    coverage: float                 # share of the zone's required points covered, 0..1
    min_rssi_dbm: float             # the zone's requirement [dBm]
    worst_rssi_dbm: float | None    # weakest best server at its points [dBm]
    area_m2: float                  # its required area [m2]
    secondary_rssi_dbm: float       # where asked: the zone's secondary requirement [dBm]
    secondary_signal_share: float
    min_snr_db: float               # where asked (stricter than the primary level) [dB]
    snr_share: float
    min_data_rate_mbps: float       # where asked [Mb/s]
    data_rate_share: float
    channel_overlap_max_aps: int    # where asked, with channel_overlap_dbm [dBm]
    channel_overlap_dbm: float
    channel_overlap_share: float


class PlanMetrics(TypedDict, total=False):
    """What :func:`evaluate_plan` returns (plain JSON types: the plan file's ``metrics:``,
    the planner's summary, the UI and the reports read it). Shares are fractions 0..1."""
    ap_count: int
    regulatory_domain: str
    channels: list[int]
    coverage_basis: str             # "zones" or "outline"
    resolution_m: float
    primary_coverage: float | None
    boundary_band_share: float | None
    boundary_points: int
    boundary_points_not_judged: int
    boundary_band_conflicts: dict[str, str]     # zone -> why its boundaries are not judged
    sinr_ok_share: float | None
    secondary_coverage: float | None
    co_channel_separation_min_db: float | None
    co_channel_separation_p5_db: float | None
    secondary_signal_share: float | None    # only where a zone asks: see SHARE_KEYS
    snr_share: float | None
    data_rate_share: float | None
    channel_overlap_share: float | None
    cell_area_m2: dict[str, float]  # AP id -> its cell at >= -70 dBm [m2]
    zones: dict[str, ZoneMetrics]
    uncovered_zones: list[str]
    co_channel_conflicts: list[dict]
    backhaul: dict                  # :func:`wifiplan.backhaul.backhaul_summary`
    violations: list[str]
    capacity: dict                  # the cells' airtime summary
    warnings: list[str]


def evaluate_plan(site: Site, plan_or_aps, model=None, resolution_m: float = 1.0,
                  radiomap=None, *, zones=None, min_rssi_dbm: float | None = None,
                  capacity: bool = True) -> PlanMetrics:
    """Metrics of a plan (a :class:`~wifiplan.plan.Plan` or a list of APs).

    Parameters: ``model`` a PropagationModel (default: the site's); ``resolution_m`` [m]
    grid step of the radio map computed when ``radiomap`` is not given; ``zones`` restricts
    the measured zones (names); ``min_rssi_dbm`` replaces every zone's requirement.

    Returns a dict with ``ap_count, primary_coverage, boundary_band_share,
    secondary_coverage, co_channel_separation_min_db, co_channel_separation_p5_db,
    cell_area_m2, zones, uncovered_zones, co_channel_conflicts``, and ``backhaul`` when the
    APs have switch ports; besides, ``regulatory_domain, channels, coverage_basis,
    resolution_m, violations, warnings`` and ``capacity`` (cell airtime summary, see
    :func:`wifiplan.capacity.cell_load`) when the zones have terminals.
    """
    aps = list(plan_or_aps.aps if hasattr(plan_or_aps, "aps") else plan_or_aps)
    if radiomap is None:
        model = model or PropagationModel.for_site(site)
        radiomap = compute_radiomap(site, aps, resolution_m=resolution_m, model=model)
    rm = radiomap
    model = rm.model
    rp = required_points(site, rm.resolution_m, zones, min_rssi_dbm)
    area = rm.resolution_m ** 2
    warnings = []
    if rp.basis == "outline":
        warnings.append("the site has no zones: coverage is measured over the whole outline at "
                        f"{DEFAULT_MIN_RSSI_DBM:g} dBm; add zones (where terminals work) to plan "
                        "for them")
    ids = [a.id for a in aps]
    m: PlanMetrics = {"ap_count": len(aps), "regulatory_domain": site.regulatory_domain,
               "channels": sorted({int(a.channel) for a in aps}),
               "coverage_basis": rp.basis, "resolution_m": float(rm.resolution_m)}
    if len(aps) == 0:
        m.update({"primary_coverage": 0.0 if rp.n else None, "boundary_band_share": None,
                  "secondary_coverage": 0.0 if rp.n else None,
                  "co_channel_separation_min_db": None, "co_channel_separation_p5_db": None,
                  "cell_area_m2": {}, "zones": {}, "uncovered_zones": [],
                  "co_channel_conflicts": []})
        sel = zone_indices(site, zones) if site.zones else []
        for k in sel:
            z = site.zones[k]
            m["zones"][z.name] = {"coverage": 0.0, "min_rssi_dbm": float(
                min_rssi_dbm if min_rssi_dbm is not None else z.min_rssi_dbm),
                "worst_rssi_dbm": None}
            m["uncovered_zones"].append(z.name)
        for key, sk in SHARE_KEYS.items():
            if rp.n and asked(site, rp.zone, key).any():
                m[sk] = 0.0
        warnings.append("the plan has no APs")
        m["violations"] = []
        m["warnings"] = warnings
        return m

    f = figures_at(site, rm, rp.iy, rp.ix, rp.req_dbm, rp.zone)
    best = f.best_rssi_dbm
    covered = f.covered
    m["primary_coverage"] = _r(f.primary_coverage)
    m["boundary_band_share"] = _r(f.boundary_band_share)
    m["boundary_points"] = f.boundary_points
    m["boundary_points_not_judged"] = f.boundary_points_not_judged
    m["boundary_band_conflicts"] = band_conflicts(site)
    m["sinr_ok_share"] = _r(f.sinr_ok_share)
    m["secondary_coverage"] = _r(f.secondary_coverage)
    m["co_channel_separation_min_db"] = _r(f.co_channel_separation_min_db, 2)
    m["co_channel_separation_p5_db"] = _r(f.co_channel_separation_p5_db, 2)
    for key in f.checks:
        m[SHARE_KEYS[key]] = _r(f.share(key))
    cells = rm.cell_area_m2(ROAM_THRESHOLD_DBM)
    m["cell_area_m2"] = {a.id: round(float(c), 1) for a, c in zip(aps, cells)}
    zres = {}
    uncovered = []
    if rp.basis == "zones":
        for k in sorted(set(rp.zone.tolist())):
            z = site.zones[k]
            sel = rp.zone == k
            cov = float(covered[sel].mean())
            zres[z.name] = {"coverage": round(cov, 4),
                            "min_rssi_dbm": float(rp.req_dbm[sel][0]),
                            "worst_rssi_dbm": _r(best[sel].min(), 1),
                            "area_m2": round(float(sel.sum() * area), 1)}
            r = z.requirements
            for key in f.checks:
                if r.asks(key):
                    zres[z.name][key] = getattr(r, key)
                    if key == "channel_overlap_max_aps":
                        zres[z.name]["channel_overlap_dbm"] = r.channel_overlap_dbm
                    zres[z.name][SHARE_KEYS[key]] = _r(f.share(key, sel))
            if cov < ZONE_COVERAGE_TARGET:
                uncovered.append(z.name)
    m["zones"] = zres
    m["uncovered_zones"] = uncovered
    rssi_pts = rm.rssi_dbm[:, rp.iy, rp.ix]
    m["co_channel_conflicts"] = co_channel_conflicts(rssi_pts, [a.channel for a in aps], ids,
                                                     area)
    if any(a.switch for a in aps):
        m["backhaul"] = backhaul_summary(site, aps)
    m["violations"] = plan_violations(site, aps, model.ap_gain_dbi)
    if capacity and rp.basis == "zones" and site.terminal_count > 0:
        frame = cell_load(site, rm, zones=zones)
        s = frame.attrs["summary"]
        m["capacity"] = {"ok": s["ok"], "max_airtime": _r(s["max_airtime"], 3),
                         "cells_over_budget": s["cells_over_budget"],
                         "total_demand_mbps": _r(s["total_demand_mbps"], 2),
                         "airtime_budget": s["airtime_budget"],
                         "failures": s["failures"]}
    band = f.boundary_band_share
    if band is not None and band < BOUNDARY_BAND_TARGET and f.band_by_power:
        trade, action = band_tradeoff(f.band_by_power, ZONE_COVERAGE_TARGET)
        warnings.append(f"cell boundaries: {100 * band:.1f} % in the {BOUNDARY_BAND_TEXT} band "
                        f"(target {BOUNDARY_BAND_TARGET:.0%}): {trade}; {action}")
    m["warnings"] = warnings
    return m


def requirement_text(key: str, zone: dict) -> str:
    """A requirement of :data:`SHARE_KEYS` as the reports write it, from a zone's entry in
    :class:`PlanMetrics` (``zones``): "secondary signal >= -67 dBm"."""
    label, unit = LABELS[key]
    if key == "channel_overlap_max_aps":
        n = zone[key]
        return (f"{label}: at most {n} AP{'s' if n != 1 else ''} per channel above "
                f"{zone['channel_overlap_dbm']:g} dBm")
    return f"{label} >= {zone[key]:g} {unit}"


def unmet(m: PlanMetrics) -> list[tuple[str, str, str]]:
    """(zone name, requirement key, text with its share) of every requirement a zone
    misses (fewer than :data:`~wifiplan.rules.ZONE_COVERAGE_TARGET` of its points meet it):
    the primary level (key ``min_rssi_dbm``) and every requirement of :data:`SHARE_KEYS`
    the zone asks."""
    out = []
    for name, z in (m.get("zones") or {}).items():
        cov = z.get("coverage")
        if cov is not None and cov < ZONE_COVERAGE_TARGET:
            out.append((name, "min_rssi_dbm",
                        f"{LABELS['min_rssi_dbm'][0]} >= {z['min_rssi_dbm']:g} dBm at "
                        f"{100 * cov:.1f} % of its points"))
        for key, sk in SHARE_KEYS.items():
            v = z.get(sk)
            if v is not None and v < ZONE_COVERAGE_TARGET:
                out.append((name, key, f"{requirement_text(key, z)} at {100 * v:.1f} % of "
                                       "its points"))
    return out


def unmet_requirements(m: PlanMetrics) -> dict[str, list[str]]:
    """Zone name -> the requirements the zone misses, each with its share (:func:`unmet`)."""
    out: dict[str, list[str]] = {}
    for name, _, text in unmet(m):
        out.setdefault(name, []).append(text)
    return out


def format_metrics(m: PlanMetrics) -> str:
    """Human-readable summary of :func:`evaluate_plan`'s result (for the CLI and reports)."""
    def pct(v):
        return "n/a" if v is None else f"{100 * v:.1f} %"

    def db(v):
        return "n/a (no co-channel AP heard)" if v is None else f"{v:.1f} dB"
    lines = [f"APs: {m['ap_count']}" + (f"  ({m['ap_count_reason']})" if m.get("ap_count_reason")
                                        else ""),
             f"regulatory domain: {m.get('regulatory_domain')}, channels used: "
             f"{', '.join(map(str, m.get('channels', [])))} (20 MHz, non-DFS)",
             f"primary coverage: {pct(m['primary_coverage'])} of required points "
             f"({m.get('coverage_basis')}, {m.get('resolution_m')} m grid)",
             f"cell boundaries in {BOUNDARY_BAND_DBM[0]:g}..{BOUNDARY_BAND_DBM[1]:g} dBm: "
             f"{pct(m['boundary_band_share'])} of "
             f"{m.get('boundary_points', 0)} boundary points"
             + (f" ({m['boundary_points_not_judged']} more in zones where the band cannot "
                f"hold)" if m.get("boundary_points_not_judged") else ""),
             f"secondary coverage (second server >= {ROAM_THRESHOLD_DBM:g} dBm): "
             f"{pct(m['secondary_coverage'])}",
             f"co-channel separation: min {db(m['co_channel_separation_min_db'])}, "
             f"5th percentile {db(m['co_channel_separation_p5_db'])} "
             f"(target >= {CO_CHANNEL_MIN_SEPARATION_DB:g} dB)"]
    for key, sk in SHARE_KEYS.items():
        if sk in m:
            lines.append(f"{LABELS[key][0]} (zones that ask it): {pct(m[sk])} of their points")
    for name, z in m.get("zones", {}).items():
        worst = z["worst_rssi_dbm"]
        lines.append(f"  zone {name}: {pct(z['coverage'])} at >= {z['min_rssi_dbm']:g} dBm, "
                     f"worst {worst if worst is not None else 'n/a'} dBm"
                     + "".join(f"; {requirement_text(key, z)}: {pct(z[sk])}"
                               for key, sk in SHARE_KEYS.items() if sk in z))
    for name, why in (m.get("boundary_band_conflicts") or {}).items():
        lines.append(f"  zone {name}: {why}")
    if m.get("cell_area_m2"):
        lines.append("cell area [m2]: " + ", ".join(f"{k} {v:g}"
                                                    for k, v in m["cell_area_m2"].items()))
    conf = m.get("co_channel_conflicts") or []
    if conf:
        lines.append(f"co-channel pairs below 19 dB: {len(conf)} (worst: "
                     + "; ".join(f"{c['aps'][0]}/{c['aps'][1]} ch {c['channel']} "
                                 f"{c['min_separation_db']:g} dB over {c['area_m2']:g} m2"
                                 for c in conf[:3]) + ")")
    if m.get("co_channel_note"):
        lines.append(m["co_channel_note"])
    bh = m.get("backhaul")
    if bh:
        for s, v in bh.get("switches", {}).items():
            lines.append(f"switch {s}: {v['ports_used']}/{v['ports']} ports, PoE "
                         f"{v['poe_w']:g}/{v['poe_budget_w']:g} W"
                         + ("  OVER BUDGET" if v.get("poe_over_budget") else ""))
        if bh.get("longest_cable_m") is not None:
            lines.append(f"longest cable run: {bh['longest_cable_m']:g} m")
        for f in bh.get("flags", []):
            lines.append(f"  backhaul: {f}")
    cap = m.get("capacity")
    if cap:
        lines.append(f"capacity: {'ok' if cap['ok'] else 'FAILS'}, max airtime "
                     + ("inf" if cap['max_airtime'] is None
                        else f"{100 * cap['max_airtime']:.0f} %")
                     + f" (budget {100 * cap['airtime_budget']:.0f} %)")
        for f in cap.get("failures", []):
            lines.append(f"  capacity: {f}")
    for v in m.get("violations", []):
        lines.append(f"VIOLATION: {v}")
    for w in m.get("warnings", []):
        lines.append(f"warning: {w}")
    if m.get("uncovered_zones"):
        lines.append("UNCOVERED zones (< 99 % of points at their requirement): "
                     + ", ".join(m["uncovered_zones"]))
    return "\n".join(lines)
