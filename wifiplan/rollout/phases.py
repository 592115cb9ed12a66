"""The seed's four rollout phases (8.1.3.7) and what each phase installs and serves.

:data:`PHASES` and the seed's comparison of wireless approaches (8.1.3.3); the pilot zone of
the phase-1/2 trial and the APs of a full plan that serve it; the plan of one phase
(:func:`resolve_phase_plan`); the area the phase must serve (:func:`target_area`) and the
site restricted to the trial area for the capacity check (:func:`trial_site`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from shapely.geometry import Point, Polygon
from shapely.ops import unary_union

from ..errors import InputError
from ..plan import AP, Plan
from ..radio.radiomap import RadioMap, compute_radiomap
from ..rules import ROAM_THRESHOLD_DBM
from ..site import Site
from .metrics import required_mask


@dataclass(frozen=True)
class Phase:
    number: int
    title_ja: str
    title: str
    effect_ja: str
    effect: str
    cells: str            # how many cells the phase installs


PHASES: dict[int, Phase] = {
    1: Phase(1, "単一APで試験導入", "Single-AP trial installation",
             "基本通信/スループットの実測確認",
             "Measure basic connectivity and throughput on site", "1"),
    2: Phase(2, "2-3セル分割＋チャネル固定", "2-3 cells on fixed channels",
             "同時接続時の干渉低減・安定化",
             "Less interference and stable service when terminals connect concurrently",
             "2-3"),
    3: Phase(3, "小セル多数化＋有線バックホール", "Many small cells with wired backhaul",
             "面積拡大/端末増に線形拡張",
             "Scales linearly with floor area and terminal count", "all"),
    4: Phase(4, "監視/最適化（出力調整・ログ分析）",
             "Monitoring and optimisation (power tuning, log analysis)",
             "ローミング安定・混線時の迅速な是正",
             "Stable roaming, quick correction when interference appears", "all"),
}


#: The phase-1/2 trial's share of the pilot zone's terminals: the part of the zone within
#: this distance [m] of a trial AP (:func:`trial_site`, the capacity check). A low-power small
#: cell of the seed (about 25-30 m between APs) serves roughly this radius.
TRIAL_RADIUS_M = 15.0


#: Seed 8.1.3.3 (コスト・運用比較（参考）): the comparison of wireless approaches, translated.
APPROACH_COLUMNS = [
    ("approach", "Approach", "方式"),
    ("initial_cost", "Initial investment", "初期投資"),
    ("scalability", "Scalability", "拡張性"),
    ("interference", "Interference / crosstalk control", "干渉/混線対策"),
    ("roaming", "Roaming", "ローミング"),
    ("operation", "Operation and maintenance", "運用・保守"),
    ("risks", "Main risks / notes", "主なリスク/補足"),
    ("security", "Security", "セキュリティ要件"),
    ("lead_time", "Lead time", "導入期間"),
    ("tco", "Total cost of ownership (TCO)", "総保有コスト（TCO）"),
]
WIRELESS_APPROACHES: list[dict[str, str]] = [
    {"approach": "Small APs + wired backhaul (recommended)",
     "approach_ja": "小型AP＋有線バックホール（推奨）",
     "initial_cost": "Low to medium (small APs and PoE switches, introduced in stages)",
     "scalability": "High (add cells: scales linearly with area and terminal count)",
     "interference": "Kept down by non-DFS channels, 20 MHz, low power and a channel plan",
     "roaming": "Good (one SSID; excellent (◎) with 802.11k/v/r support)",
     "operation": "Central management and monitoring are easy",
     "risks": "Needs an on-site survey and power tuning",
     "security": "Medium to high (WPA2/WPA3; high with VLANs and 802.1X)",
     "lead_time": "Short to medium (including the site survey and cabling)",
     "tco": "Low to medium (kept down by staged investment and easy operation)"},
    {"approach": "Enterprise APs, centralised design",
     "approach_ja": "エンタープライズAP集中設計",
     "initial_cost": "Medium to high (high-performance APs and a controller)",
     "scalability": "Medium (high density presupposes a cell design)",
     "interference": "High power bloats cells and may increase interference; depends on the "
                     "design",
     "roaming": "Medium (depends on model and settings)",
     "operation": "Needs dedicated skills and a maintenance contract",
     "risks": "Metal reflections and DFS constraints; cost-effectiveness depends on the "
              "environment",
     "security": "High (802.1X/RADIUS, NAC, central management)",
     "lead_time": "Medium (design, tuning, coordination with the vendor)",
     "tco": "Medium to high (assumes maintenance, licences and dedicated staff)"},
    {"approach": "SoftAP (PC or terminal acting as AP)",
     "approach_ja": "SoftAP（PC/端末AP化）",
     "initial_cost": "Low (can start with existing equipment)",
     "scalability": "Low (limits on concurrent connections and stability)",
     "interference": "Low (many terminal APs easily interfere with each other)",
     "roaming": "None (basically a fixed connection)",
     "operation": "High operating load: every device configured individually",
     "risks": "Security, radio stability and power saving are problems",
     "security": "Low (mostly PSK; depends on device settings; hard to control)",
     "lead_time": "Short (can start the same day)",
     "tco": "Low (low initial cost, but hidden costs from the operating load)"},
    {"approach": "Local 5G (private 5G)",
     "approach_ja": "ローカル5G（プライベート5G）",
     "initial_cost": "Very high (licence, equipment, design, terminal procurement)",
     "scalability": "High (easy to scale on a large site with dedicated spectrum)",
     "interference": "Very high (dedicated spectrum, little interference)",
     "roaming": "Good (depends on the base-station design)",
     "operation": "High (specialist staff, high upkeep)",
     "risks": "Long lead time, limited terminal ecosystem, large running costs",
     "security": "Very high (SIM/eSIM, closed network, strict terminal authentication)",
     "lead_time": "Long (from obtaining the licence to full deployment)",
     "tco": "Very high (equipment upkeep, licences, personnel)"},
    {"approach": "Wi-Fi Direct bridge",
     "approach_ja": "Wi‑Fi Directブリッジ方式",
     "initial_cost": "Low to medium (add and configure desktop PCs)",
     "scalability": "Low to medium (depends on the number of PCs and their connection "
                    "limits)",
     "interference": "Low (hard to control with mixed peer-to-peer links)",
     "roaming": "Poor (disconnect and reconnect is the norm)",
     "operation": "Operating load of managing PCs and drivers",
     "risks": "Switching delay and stability problems; complexity and load grow with the "
              "device count",
     "security": "Low to medium (mostly peer-to-peer; weak path control and monitoring)",
     "lead_time": "Short (introduced by configuring PCs)",
     "tco": "Medium (operating load and incident costs grow with the device count)"},
]


def pilot_zone(site: Site, name: str | None = None):
    """The zone for the phase-1/2 trial: ``name`` if given, else the zone with the most
    terminals (ties: the smaller zone, then the first). None for a site without zones."""
    if name is not None:
        for z in site.zones:
            if z.name == name:
                return z
        raise InputError(f"unknown pilot zone {name!r}, expected one of "
                         f"{', '.join(z.name for z in site.zones) or '(no zones)'}",
                         source=site.source, key="zones")
    if not site.zones:
        return None
    return sorted(site.zones, key=lambda z: (-z.terminal_count, Polygon(z.polygon).area))[0]


def _served_share(rm: RadioMap, zone_idx: int) -> np.ndarray:
    """Share of the zone's grid points each AP is the best server of."""
    sel = rm.zone_index == zone_idx
    n = max(int(sel.sum()), 1)
    return np.bincount(rm.best_server[sel].ravel(), minlength=len(rm.aps))[:len(rm.aps)] / n


def phase2_cell_count(site: Site, pilot, full_rm: RadioMap | None = None) -> int:
    """2 or 3 cells for phase 2 (seed 8.1.3.2: 2-4 terminals -> 2-3 cells).

    From a full plan: the APs serving at least 10 % of the pilot zone, clamped to 2..3.
    Without one: 2 cells for up to 2 terminals in the pilot zone, else 3.
    """
    if full_rm is not None and pilot is not None and len(full_rm.aps):
        k = site.zones.index(pilot)
        n = int((_served_share(full_rm, k) >= 0.10).sum())
        return int(min(max(n, 2), 3))
    return 2 if pilot is None or pilot.terminal_count <= 2 else 3


def select_phase_aps(site: Site, full_rm: RadioMap, pilot, count: int) -> list[AP]:
    """The ``count`` APs of a full plan that serve most of the pilot zone.

    The first is the AP that is the best server over the largest share of the pilot zone;
    each next one is the AP, among those not yet chosen, that serves most of the pilot zone
    and is nearest to those chosen (the trial grows as one connected area), on a channel none
    of them uses where such a neighbour exists, else the nearest AP on such a channel (phase
    2 proves 2-3 cells on fixed, different channels: seed 8.1.3.7). The APs keep the planned
    channels and powers, so each later phase extends the earlier one.
    """
    aps = full_rm.aps
    if count >= len(aps):
        return list(aps)
    if pilot is not None:
        share = _served_share(full_rm, site.zones.index(pilot))
    else:
        share = full_rm.cell_area_m2() / max(full_rm.cell_area_m2().sum(), 1e-9)
    pos = np.array([[a.x_m, a.y_m] for a in aps])
    chosen = [int(np.lexsort((np.arange(len(aps)), -share))[0])]
    while len(chosen) < count:
        rest = np.array([i for i in range(len(aps)) if i not in chosen])
        dist = np.array([np.min(np.hypot(*(pos[chosen] - pos[i]).T)) for i in rest])
        # neighbours of the chosen cells (within 1.5 x the nearest), most pilot share first
        near = dist <= 1.5 * dist.min() + 1e-9
        used = {aps[i].channel for i in chosen}
        unused = np.array([aps[i].channel not in used for i in rest])
        if (near & unused).any():
            near &= unused
        elif unused.any():
            # no neighbour on a channel of its own: the nearest AP that has one (distinct
            # channels are what the phase proves)
            near = unused & (dist <= dist[unused].min() + 1e-9)
        cand, d = rest[near], dist[near]
        order = np.lexsort((cand, d, -share[cand]))
        chosen.append(int(cand[order[0]]))
    return [aps[i] for i in sorted(chosen)]


def resolve_phase_plan(site: Site, phase: int, plan: Plan | None = None, model=None,
                       pilot=None, resolution_m: float = 1.0, full_rm: RadioMap | None = None,
                       full_plan: Plan | None = None, planner=None
                       ) -> tuple[Plan, Plan | None, list[str], RadioMap | None]:
    """The plan of one phase, the full plan it comes from, notes on how, and the full
    plan's radio map when one was computed.

    - Given a plan: phases 3 and 4 use it whole. Phase 1 (one AP) and phase 2 (2-3 APs)
      take the APs of the plan that serve the pilot zone (:func:`select_phase_aps`), so
      each phase extends the previous one; a plan that already has the phase's cell count
      is used as it is. A plan with fewer APs than the phase installs (a site one cell
      serves) is the trial itself, with a note: cells planned for the trial alone would
      not be part of the site's design.
    - Without a plan: ``full_plan`` (the planner's plan made earlier) is used, or
      ``planner`` plans the full site, one AP for the pilot zone, and 2-3 cells for it.

    ``planner``: the caller's planner, called as ``planner(site, aps=None, zones=None,
    model=None)`` (:func:`wifiplan.planning.plan_site`); the rollout plans nothing by itself.
    """
    notes: list[str] = []
    zones_arg = [pilot.name] if pilot is not None else None
    if full_plan is not None and not full_plan.aps:
        full_plan = None
    if plan is None and full_plan is None and planner is None:
        raise InputError(f"phase {phase} needs a plan: give the site's plan (or let the "
                         f"planner plan it)")
    if plan is None:
        if full_plan is None and phase <= 2:
            # a trial needs no full plan: the planner plans the phase's cells on their own
            want = 1 if phase == 1 else phase2_cell_count(site, pilot, None)
            p = planner(site, aps=want, zones=zones_arg, model=model)
            where = f" for the pilot zone '{pilot.name}'" if pilot is not None else ""
            notes.append(f"Phase {phase}: {len(p.aps)} AP(s) planned by the planner{where}.")
            return p, None, notes, None
        full = full_plan if full_plan is not None else planner(site, model=model)
        notes.append(f"Full plan by the planner: {len(full.aps)} APs.")
    else:
        full = plan
    if phase >= 3:
        return full, full, notes, full_rm
    want = 1 if phase == 1 else None
    if full_rm is None or [a.id for a in full_rm.aps] != full.ids or \
            full_rm.resolution_m != resolution_m:
        full_rm = compute_radiomap(site, full.aps, resolution_m=resolution_m, model=model)
    if want is None:
        want = phase2_cell_count(site, pilot, full_rm)
    where = f" for the pilot zone '{pilot.name}'" if pilot is not None else ""
    if plan is None:
        if planner is not None:
            p = planner(site, aps=want, zones=zones_arg, model=model)
            notes.append(f"Phase {phase}: {len(p.aps)} AP(s) planned by the planner{where}.")
            return p, full, notes, full_rm
        notes.append(f"Phase {phase} needs {PHASES[phase].cells} cell(s) but the plan has "
                     f"{len(full.aps)}; the plan is used as it is.")
        return full, full, notes, full_rm
    if len(full.aps) < want:
        # the site's design has fewer cells than the phase installs: cells planned for the
        # trial alone would not be part of it, so the trial is the plan itself
        notes.append(f"Phase {phase} installs {PHASES[phase].cells} cell(s) but the site's "
                     f"plan has {len(full.aps)}: the trial is the plan itself.")
        return full, full, notes, full_rm
    if len(full.aps) == want:
        return full, full, notes, full_rm
    aps = select_phase_aps(site, full_rm, pilot, want)
    notes.append(f"Phase {phase}: {', '.join(a.id for a in aps)} of the {len(full.aps)}-AP "
                 f"plan{where} (the APs serving most of it), with their planned channels and "
                 f"powers.")
    p = Plan(site=full.site, aps=[replace(a) for a in aps], metrics={}, extra={},
             source=full.source)
    return p, full, notes, full_rm


def target_area(site: Site, rm: RadioMap, phase: int, pilot, full_rm: RadioMap | None = None
                ) -> tuple[np.ndarray, str]:
    """Grid mask of the points the phase must serve, and a label for it.

    Phases 1-2: the trial area, the phase's own cells in the pilot zone. With the full
    plan's radio map ``full_rm`` (the phase's APs are part of it): the zone's required
    points whose best server in the full plan is one of the phase's APs, the footprint each
    trial cell has in the final design, the boundaries between the phase's cells included.
    Without it (the phase was planned on its own): where the phase's APs serve at or above
    the roaming threshold (-70 dBm, seed 8.1.3.5), the cell a terminal stays in as
    :meth:`~wifiplan.radio.radiomap.RadioMap.cell_area_m2` counts it.
    Phases 3-4: every zone. A site without zones: the whole outline.
    """
    req = required_mask(site, rm)
    if not site.zones:
        return req, "the whole floor (the site has no zones)"
    if phase >= 3 or pilot is None:
        return req, "all zones"
    k = site.zones.index(pilot)
    zone = req & (rm.zone_index == k)
    ids = {a.id for a in rm.aps}
    full_idx = [i for i, a in enumerate(full_rm.aps) if a.id in ids] if full_rm is not None \
        else []
    if (full_rm is not None and len(full_idx) == len(ids) and len(full_rm.aps) > len(ids)
            and full_rm.best_server.shape == rm.best_server.shape):
        cells = np.isin(full_rm.best_server, full_idx)
        return zone & cells, (f"trial area: zone '{pilot.name}' where the phase's APs are the "
                              f"best servers of the full plan (their cells)")
    cells = (rm.best_server >= 0) & (rm.best_rssi_dbm >= ROAM_THRESHOLD_DBM)
    return zone & cells, (f"trial area: zone '{pilot.name}' where the phase's APs serve at "
                          f">= {ROAM_THRESHOLD_DBM:g} dBm (their cells)")


def trial_meeting_area(rm: RadioMap, target: np.ndarray, full_rm: RadioMap | None = None
                       ) -> np.ndarray | None:
    """The points of a trial's target area ``target`` where the trial's cells meet: those
    whose second server in the full plan (``full_rm``) is one of the trial's APs. Only there
    can a trial of a few cells give a terminal a second AP; at the trial area's outer edge
    the second AP of the final design is not installed yet. None without a full plan that
    holds the trial's APs and more (the target area then stands)."""
    if full_rm is None or full_rm.second_server.shape != target.shape:
        return None
    ids = {a.id for a in rm.aps}
    idx = [i for i, a in enumerate(full_rm.aps) if a.id in ids]
    if len(idx) != len(ids) or len(full_rm.aps) <= len(ids):
        return None
    return target & np.isin(full_rm.second_server, idx)


def trial_site(site: Site, pilot, aps, trial_radius_m: float = TRIAL_RADIUS_M):
    """The site restricted to the trial area (phases 1-2), for the capacity check.

    Its zones are the parts of the pilot zone within ``trial_radius_m`` of the APs; each
    part carries the pilot zone's terminals in proportion to its area, rounded up (a trial
    loads its cells with at least one terminal of each type the zone has).
    """
    if pilot is None:
        return site
    zp = Polygon(pilot.polygon)
    area = unary_union([Point(a.x_m, a.y_m).buffer(trial_radius_m, 32) for a in aps])
    part = zp.intersection(area)
    polys = [g for g in getattr(part, "geoms", [part]) if g.geom_type == "Polygon" and
             g.area > 1e-6]
    zones = []
    for i, g in enumerate(polys):
        share = g.area / max(zp.area, 1e-9)
        terms = {t: int(math.ceil(n * share - 1e-9)) for t, n in pilot.terminals.items() if n}
        # the trial zone asks what the pilot zone asks (its profile and its own values)
        zones.append(replace(pilot, name=f"{pilot.name} (trial"
                             f"{'' if len(polys) == 1 else ' ' + str(i + 1)})",
                             polygon=np.asarray(g.exterior.coords)[:-1, :2], terminals=terms))
    return replace(site, zones=zones)


def on_site(rm: RadioMap, site) -> RadioMap:
    """The same radio map seen through another version of its site (other zones only)."""
    return rm if site is rm.site else replace(rm, site=site, _cache={})
