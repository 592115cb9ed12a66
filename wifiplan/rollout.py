"""The phased rollout of seed 8.1.3.7 and the acceptance criteria of each phase.

The seed rolls a site out in four phases (8.1.3.7, 段階的導入アプローチ):

====  ====================================  ==========================================
 1    単一APで試験導入: one trial AP          基本通信/スループットの実測確認: measure basic
                                              connectivity and throughput on site
 2    2-3セル分割＋チャネル固定: 2-3 cells,   同時接続時の干渉低減・安定化: less interference
      fixed channels                          and stable service with concurrent terminals
 3    小セル多数化＋有線バックホール: many    面積拡大/端末増に線形拡張: scales linearly with
      small cells + wired backhaul            area and terminal count
 4    監視/最適化（出力調整・ログ分析）:      ローミング安定・混線時の迅速な是正: stable
      monitoring and optimisation             roaming, quick correction of interference
====  ====================================  ==========================================

:func:`assess_phase` takes a site, a phase and (optionally) a plan, a survey, a calibrated
model and terminal logs, and returns a :class:`PhaseAssessment`: the phase's plan, its radio
map, the figures of the plan, the acceptance criteria with pass/fail (from the plan's
prediction and, when measurements are given, from the measurements), and the phase's own
content (measurement plan, concurrent-connection test, bill of materials and cable runs,
roaming walk tests, thresholds, logging, power adjustments, operations checklist). The
report package (:mod:`wifiplan.report`) only lays this out.

Thresholds are those of the seed and DESIGN.md section 6, taken from their one home in
:mod:`wifiplan.radiomap` and :mod:`wifiplan.capacity`; the acceptance shares (95 % of the
target area) are stated here.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from .backhaul import AP_POE_W, backhaul_summary, cable_length_m
from .errors import InputError
from .evaluation import co_channel_separation_p5_db, evaluate_plan, required_points
from .logs import analyze_logs
from .plan import AP, Plan
from .planning import plan_site
from .radiomap import RadioMap, compute_radiomap
from .rules import (AIRTIME_BUDGET, BOUNDARY_BAND_DBM, BOUNDARY_BAND_TEXT, BOUNDARY_WITHIN_DB,
                    CO_CHANNEL_MIN_SEPARATION_DB, DEFAULT_MIN_RSSI_DBM, MIN_SNR_DB,
                    MIN_TX_POWER_DBM, NOISE_FLOOR_DBM, ROAM_THRESHOLD_DBM, clip_tx_power_dbm,
                    combine_power_changes)
from .rules import MAX_PERMANENT_LINK_M as MAX_CABLE_M
from .survey import check_survey, read_survey

# ---- the seed's phases and rules ---------------------------------------------------------


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

#: Acceptance: the share of the target area that must meet a per-point requirement.
COVERAGE_TARGET = 0.95
#: Acceptance: the share of cell-boundary points that must lie in the -65..-70 dBm band.
BOUNDARY_BAND_TARGET = 0.5
#: The phase-1/2 trial area: the pilot zone within this distance [m] of a trial AP. A low-
#: power small cell of the seed (about 25-30 m between APs) serves roughly this radius; the
#: trial proves the cell over its own footprint, not over the whole zone.
TRIAL_RADIUS_M = 15.0
#: Measured RSSI may differ from the prediction by this much before the model needs
#: calibration (about 1.5 sigma of the 3GPP InF shadowing, 5-7 dB).
MODEL_TOLERANCE_DB = 8.0

#: One SSID and one security setting on every AP (seed 8.1.3.6 step 1).
SSID_POLICY = "one SSID on every AP; WPA3-Enterprise (802.1X), WPA2-Enterprise fallback"

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

#: Seed 8.1.3.6 (運用手順（接続・ローミング）): the operations checklist.
OPERATIONS_STEPS = [
    ("ssid", "SSID/セキュリティ統一",
     "One SSID and one security setting on all APs (WPA2/WPA3, Enterprise if possible)"),
    ("channels", "非DFSチャネル固定",
     "Fixed non-DFS channels (5 GHz, 20 MHz wide)"),
    ("power", "低出力設定で小セル化",
     f"Low power for small cells ({BOUNDARY_BAND_DBM[1]:g} to {BOUNDARY_BAND_DBM[0]:g} dBm "
     "at the cell boundaries)"),
    ("min_rssi", "最低RSSI閾値で再探索",
     "Terminals join the one SSID and re-scan when below the minimum RSSI threshold"),
    ("backhaul", "有線バックホール",
     "Wired backhaul (PoE/GbE) to the server and desktops"),
]
ROAMING_HANDLING = [
    ("session", "セッション維持",
     "Session retention: one SSID plus application-level resend and queueing keep the user "
     "experience"),
    ("handover", "切替時間の最小化",
     "Minimal handover time: enable 802.11k/v/r where terminals and APs support it"),
    ("buffering", "データ保護", "Data protection: temporary buffering and a retry policy"),
    ("recovery", "自動復旧",
     "Automatic recovery: unsent data goes out when RSSI recovers and the terminal "
     "reconnects"),
]


# ---- criteria ----------------------------------------------------------------------------


@dataclass
class Criterion:
    """One acceptance criterion with its figure and verdict.

    ``passed`` is None when the criterion cannot be judged from what was given (for example
    a measurement without a survey).
    """
    id: str
    name: str
    requirement: str
    value: float | None
    unit: str
    passed: bool | None
    source: str                  # "plan", "survey" or "logs"
    detail: str = ""

    def to_dict(self) -> dict:
        v = self.value
        if isinstance(v, (float, np.floating)):
            v = None if not math.isfinite(float(v)) else round(float(v), 4)
        elif isinstance(v, (np.integer,)):
            v = int(v)
        return {"id": self.id, "name": self.name, "requirement": self.requirement,
                "value": v, "unit": self.unit, "passed": self.passed, "source": self.source,
                "detail": self.detail}

    @property
    def verdict(self) -> str:
        return "not measured" if self.passed is None else ("PASS" if self.passed else "FAIL")

    def value_text(self) -> str:
        v = self.value
        if v is None:
            return "-"
        if isinstance(v, float) and not math.isfinite(v):
            return "unbounded" if v > 0 else "-inf"
        if self.unit == "%":
            return f"{100 * v:.1f} %"
        if isinstance(v, (int, np.integer)) or float(v).is_integer():
            return f"{int(v)}{(' ' + self.unit) if self.unit else ''}"
        return f"{v:.1f}{(' ' + self.unit) if self.unit else ''}"


# ---- the assessment ----------------------------------------------------------------------


@dataclass
class PhaseAssessment:
    site: Any
    phase: Phase
    plan: Plan
    full_plan: Plan | None
    model: Any
    radiomap: RadioMap
    pilot_zone: Any | None
    target_mask: np.ndarray
    target_label: str
    metrics: dict
    evaluation: dict | None
    criteria: list[Criterion]
    ap_sheet: pd.DataFrame
    bom: pd.DataFrame
    cable_runs: pd.DataFrame
    switches: pd.DataFrame
    zones: pd.DataFrame
    cell_load: pd.DataFrame | None = None
    measurement_points: pd.DataFrame | None = None
    concurrent_test: pd.DataFrame | None = None
    walk_tests: pd.DataFrame | None = None
    thresholds: pd.DataFrame | None = None
    logging: pd.DataFrame | None = None
    power_adjustments: pd.DataFrame | None = None
    checklist: pd.DataFrame | None = None
    survey: dict | None = None
    logs: dict | None = None
    notes: list[str] = field(default_factory=list)
    inputs: dict = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """True when no judged criterion failed (criteria not measured do not count)."""
        return all(c.passed is not False for c in self.criteria)

    def criteria_frame(self) -> pd.DataFrame:
        return pd.DataFrame([c.to_dict() for c in self.criteria])


# ---- helpers over the library -------------------------------------------------------------


def pilot_zone(site, name: str | None = None):
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
    from shapely.geometry import Polygon
    return sorted(site.zones, key=lambda z: (-z.terminal_count, Polygon(z.polygon).area))[0]


def _served_share(rm: RadioMap, zone_idx: int) -> np.ndarray:
    """Share of the zone's grid points each AP is the best server of."""
    sel = rm.zone_index == zone_idx
    n = max(int(sel.sum()), 1)
    return np.bincount(rm.best_server[sel].ravel(), minlength=len(rm.aps))[:len(rm.aps)] / n


def phase2_cell_count(site, pilot, full_rm: RadioMap | None = None) -> int:
    """2 or 3 cells for phase 2 (seed 8.1.3.2: 2-4 terminals -> 2-3 cells).

    From a full plan: the APs serving at least 10 % of the pilot zone, clamped to 2..3.
    Without one: 2 cells for up to 2 terminals in the pilot zone, else 3.
    """
    if full_rm is not None and pilot is not None and len(full_rm.aps):
        k = site.zones.index(pilot)
        n = int((_served_share(full_rm, k) >= 0.10).sum())
        return int(min(max(n, 2), 3))
    return 2 if pilot is None or pilot.terminal_count <= 2 else 3


def select_phase_aps(site, full_rm: RadioMap, pilot, count: int) -> list[AP]:
    """The ``count`` APs of a full plan that serve most of the pilot zone.

    The first is the AP that is the best server over the largest share of the pilot zone;
    each next one is the AP, among those not yet chosen, that serves most of the pilot zone
    and is nearest to those chosen (the trial grows as one connected area). The APs keep the
    planned channels and powers, so each later phase extends the earlier one.
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
        cand, d = rest[near], dist[near]
        order = np.lexsort((cand, d, -share[cand]))
        chosen.append(int(cand[order[0]]))
    return [aps[i] for i in sorted(chosen)]


def resolve_phase_plan(site, phase: int, plan: Plan | None = None, model=None,
                       pilot=None, resolution_m: float = 1.0, full_rm: RadioMap | None = None,
                       full_plan: Plan | None = None
                       ) -> tuple[Plan, Plan | None, list[str], RadioMap | None]:
    """The plan of one phase, the full plan it comes from, notes on how, and the full
    plan's radio map when one was computed.

    - Given a plan: phases 3 and 4 use it whole. Phase 1 (one AP) and phase 2 (2-3 APs)
      take the APs of the plan that serve the pilot zone (:func:`select_phase_aps`), so
      each phase extends the previous one; a plan that already has the phase's cell count
      is used as it is. When the plan has fewer APs than the phase needs, the planner
      plans the phase if it is available; otherwise the plan is used with a note.
    - Without a plan: the planner (:func:`wifiplan.planning.plan_site`) plans the full
      site (or ``full_plan``, the planner's plan made earlier, is used), one AP for the
      pilot zone, and 2-3 cells for it.
    """
    notes: list[str] = []
    zones_arg = [pilot.name] if pilot is not None else None
    if full_plan is not None and not full_plan.aps:
        full_plan = None
    if plan is None:
        if full_plan is None and phase <= 2:
            # a trial needs no full plan: the planner plans the phase's cells on their own
            want = 1 if phase == 1 else phase2_cell_count(site, pilot, None)
            p = plan_site(site, aps=want, zones=zones_arg, model=model)
            where = f" for the pilot zone '{pilot.name}'" if pilot is not None else ""
            notes.append(f"Phase {phase}: {len(p.aps)} AP(s) planned by the planner{where}.")
            return p, None, notes, None
        full = full_plan if full_plan is not None else plan_site(site, model=model)
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
    if plan is None or len(full.aps) < want:
        if plan_site is not None and (plan is None or len(full.aps) < want):
            p = plan_site(site, aps=want, zones=zones_arg, model=model)
            notes.append(f"Phase {phase}: {len(p.aps)} AP(s) planned by the planner{where}.")
            return p, full, notes, full_rm
        notes.append(f"Phase {phase} needs {PHASES[phase].cells} cell(s) but the plan has "
                     f"{len(full.aps)}; the plan is used as it is.")
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


def _dist_to_aps(rm: RadioMap, aps) -> np.ndarray:
    X, Y = np.meshgrid(rm.xs, rm.ys)
    d = np.full(X.shape, np.inf)
    for a in aps:
        d = np.minimum(d, np.hypot(X - a.x_m, Y - a.y_m))
    return d


def target_area(site, rm: RadioMap, phase: int, pilot, trial_radius_m: float = TRIAL_RADIUS_M
                ) -> tuple[np.ndarray, str]:
    """Grid mask of the points the phase must serve, and a label for it.

    Phases 1-2: the trial area, the pilot zone within ``trial_radius_m`` of a phase AP.
    Phases 3-4: every zone. A site without zones: the whole outline.
    """
    req = _required_mask(site, rm)
    if not site.zones:
        return req, "the whole floor (the site has no zones)"
    if phase >= 3 or pilot is None:
        return req, "all zones"
    k = site.zones.index(pilot)
    m = req & (rm.zone_index == k) & (_dist_to_aps(rm, rm.aps) <= trial_radius_m)
    return m, f"trial area: zone '{pilot.name}' within {trial_radius_m:g} m of the phase's APs"


def _required_mask(site, rm: RadioMap) -> np.ndarray:
    """The points where coverage is required, as the evaluation defines them (zone points
    outside obstacle footprints: :func:`wifiplan.evaluation.required_points`)."""
    m = required_points(site, rm.resolution_m).mask
    return np.asarray(m() if callable(m) else m, bool)


def trial_site(site, pilot, aps, trial_radius_m: float = TRIAL_RADIUS_M):
    """The site restricted to the trial area (phases 1-2), for the capacity check.

    Its zones are the parts of the pilot zone within ``trial_radius_m`` of the APs; each
    part carries the pilot zone's terminals in proportion to its area, rounded up (a trial
    loads its cells with at least one terminal of each type the zone has).
    """
    from shapely.geometry import Point, Polygon
    from shapely.ops import unary_union
    from .site import Zone
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
        zones.append(Zone(name=f"{pilot.name} (trial{'' if len(polys) == 1 else ' ' + str(i + 1)})",
                          polygon=np.asarray(g.exterior.coords)[:-1, :2],
                          min_rssi_dbm=pilot.min_rssi_dbm, terminals=terms))
    return replace(site, zones=zones)


def _on_site(rm: RadioMap, site) -> RadioMap:
    """The same radio map seen through another version of its site (other zones only)."""
    return rm if site is rm.site else replace(rm, site=site, _cache={})


def _zone_min_rssi(site, rm: RadioMap) -> np.ndarray:
    """(ny, nx) the requirement at each point: its zone's min RSSI, else the design -67."""
    req = np.full(rm.best_rssi_dbm.shape, DEFAULT_MIN_RSSI_DBM, float)
    for k, z in enumerate(site.zones):
        req[rm.zone_index == k] = z.min_rssi_dbm
    return req


def _share(ok: np.ndarray, sel: np.ndarray) -> float:
    n = int(sel.sum())
    return float((ok & sel).sum() / n) if n else float("nan")


def plan_metrics(site, rm: RadioMap, target: np.ndarray,
                 required: np.ndarray | None = None) -> dict:
    """Figures of a radio map over a target mask, and per zone over the zone's required
    points (``required``: default the evaluation's required points)."""
    if required is None:
        required = _required_mask(site, rm)
    best = rm.best_rssi_dbm
    req = _zone_min_rssi(site, rm)
    bnd = rm.boundary_mask() & target
    lo, hi = BOUNDARY_BAND_DBM
    sep = rm.co_channel_separation_db[target].astype(float)
    sep_f = sep[np.isfinite(sep)]
    sep_p5 = co_channel_separation_p5_db(sep)     # the evaluation's rule
    cov = best >= req
    m = {
        "ap_count": len(rm.aps),
        "target_points": int(target.sum()),
        "target_area_m2": float(target.sum() * rm.resolution_m ** 2),
        "primary_coverage": _share(cov, target),
        "coverage_at_roam_threshold": _share(best >= ROAM_THRESHOLD_DBM, target),
        "snr_ok_share": _share(rm.snr_db >= MIN_SNR_DB, target),
        "sinr_ok_share": _share(rm.sinr_db >= MIN_SNR_DB, target),
        "sinr_p5_db": float(np.percentile(rm.sinr_db[target], 5)) if target.any() else None,
        "boundary_points": int(bnd.sum()),
        "boundary_band_share": (float(((best >= lo) & (best <= hi) & bnd).sum() / bnd.sum())
                                if bnd.any() else None),
        "secondary_coverage": _share(np.nan_to_num(rm.second_rssi_dbm, nan=-999)
                                     >= ROAM_THRESHOLD_DBM, target),
        "co_channel_separation_min_db": float(sep_f.min()) if len(sep_f) else None,
        "co_channel_separation_p5_db": sep_p5,
        "best_rssi_p5_dbm": float(np.percentile(best[target], 5)) if target.any() else None,
        "best_rssi_median_dbm": float(np.median(best[target])) if target.any() else None,
        "cell_area_m2": {a.id: float(v) for a, v in zip(rm.aps, rm.cell_area_m2())},
    }
    zones = []
    for k, z in enumerate(site.zones):
        zsel = (rm.zone_index == k) & required
        zones.append({"zone": z.name, "area_m2": float(zsel.sum() * rm.resolution_m ** 2),
                      "terminals": int(z.terminal_count), "min_rssi_dbm": float(z.min_rssi_dbm),
                      "coverage": _share(cov, zsel),
                      "rssi_p5_dbm": (float(np.percentile(best[zsel], 5)) if zsel.any()
                                      else None),
                      "in_target": bool((zsel & target).any())})
    m["zones"] = zones
    return m


# ---- backhaul and bill of materials ------------------------------------------------------


def cable_runs(site, plan: Plan, evaluation: dict | None = None) -> pd.DataFrame:
    """One row per AP: switch, port, cable length and whether it is within 90 m.

    Lengths come from the plan (``cable_m``, set by the planner), else from the evaluation's
    backhaul figures, else the planner's cable rule
    (:func:`wifiplan.backhaul.cable_length_m`) from the AP's switch.
    """
    sw = {s.name: s for s in site.switches}
    bh = {}
    if evaluation and isinstance(evaluation.get("backhaul"), dict):
        bh = {k: v for k, v in (evaluation["backhaul"].get("aps") or {}).items()
              if isinstance(v, dict)}
    rows = []
    for a in plan.aps:
        s = sw.get(a.switch) if a.switch else None
        length, how = a.cable_m, "plan"
        if length is None and a.id in bh and bh[a.id].get("cable_m") is not None:
            length, how = float(bh[a.id]["cable_m"]), "evaluation"
        if length is None and s is not None:
            length = cable_length_m(a.x_m, a.y_m, a.height_m, s.position[0], s.position[1])
            how = "estimate"
        rows.append({"ap_id": a.id, "switch": a.switch or "", "port": a.port,
                     "cable_m": None if length is None else round(float(length), 1),
                     "length_from": how if length is not None else "",
                     "within_90m": None if length is None else bool(length <= MAX_CABLE_M)})
    return pd.DataFrame(rows, columns=["ap_id", "switch", "port", "cable_m", "length_from",
                                       "within_90m"])


def switch_usage(site, plan: Plan) -> pd.DataFrame:
    """Per switch: ports and PoE budget used by the plan's APs (the planner's backhaul
    summary, :func:`wifiplan.backhaul.backhaul_summary`)."""
    use = backhaul_summary(site, plan.aps)["switches"]
    pos = {s.name: s.position for s in site.switches}
    rows = []
    for name, u in use.items():
        aps = [a.id for a in plan.aps if a.switch == name]
        known = name in pos
        rows.append({"switch": name, "x_m": pos[name][0] if known else None,
                     "y_m": pos[name][1] if known else None, "ports": int(u.get("ports", 0)),
                     "ports_used": int(u["ports_used"]),
                     "poe_budget_w": float(u.get("poe_budget_w", 0.0)),
                     "poe_used_w": float(u["poe_w"]),
                     "ports_ok": known and not u.get("ports_over", False),
                     "poe_ok": known and not u.get("poe_over_budget", False),
                     "aps": ", ".join(aps) + ("" if known else " (switch not in the site)")})
    for name in sorted({a.switch for a in plan.aps if a.switch} - set(use)):
        aps = [a.id for a in plan.aps if a.switch == name]
        rows.append({"switch": name, "x_m": None, "y_m": None, "ports": 0,
                     "ports_used": len(aps), "poe_budget_w": 0.0,
                     "poe_used_w": len(aps) * AP_POE_W, "ports_ok": False, "poe_ok": False,
                     "aps": ", ".join(aps) + " (switch not in the site)"})
    return pd.DataFrame(rows, columns=["switch", "x_m", "y_m", "ports", "ports_used",
                                       "poe_budget_w", "poe_used_w", "ports_ok", "poe_ok",
                                       "aps"])


def bill_of_materials(site, plan: Plan, runs: pd.DataFrame, switches: pd.DataFrame
                      ) -> pd.DataFrame:
    """Items to order and install for the plan: APs, PoE switches and ports, cable runs."""
    rows = []
    n = len(plan.aps)
    heights = sorted({round(a.height_m, 1) for a in plan.aps})
    rows.append({"category": "access point", "item": "Small AP, 5 GHz 802.11ax, 20 MHz, "
                 "802.11k/v/r, PoE powered", "quantity": n, "unit": "pcs",
                 "detail": f"{', '.join(plan.ids)}; mount heights "
                           f"{', '.join(f'{h:g}' for h in heights)} m"})
    rows.append({"category": "access point", "item": "Ceiling / beam mounting kit",
                 "quantity": n, "unit": "pcs", "detail": "one per AP"})
    for s in switches.itertuples():
        if s.ports_used == 0:
            continue
        rows.append({"category": "PoE switch", "item": f"PoE switch {s.switch} "
                     f"({s.ports} ports, {s.poe_budget_w:g} W PoE budget)", "quantity": 1,
                     "unit": "pcs", "detail": f"existing or new; at ({s.x_m:g}, {s.y_m:g}) m"
                     if s.x_m is not None else "not in the site's infrastructure"})
        rows.append({"category": "PoE switch", "item": f"PoE+ ports on {s.switch}",
                     "quantity": int(s.ports_used), "unit": "ports",
                     "detail": f"{s.ports_used}/{s.ports} ports, {s.poe_used_w:g}/"
                               f"{s.poe_budget_w:g} W PoE ({AP_POE_W:g} W per AP, 802.3at)"
                               + ("" if s.ports_ok and s.poe_ok else " - OVER CAPACITY")})
    for r in runs.itertuples():
        rows.append({"category": "cable run", "item": f"Cat 6A run {r.switch or '?'}"
                     f"{'' if r.port is None or pd.isna(r.port) else ' port ' + str(int(r.port))}"
                     f" -> {r.ap_id}", "quantity": r.cable_m if r.cable_m is not None else "",
                     "unit": "m", "detail": ("" if r.within_90m is None else
                                             "within 90 m" if r.within_90m else "OVER 90 m")
                     + (f" ({r.length_from})" if r.length_from else "")})
    total = float(pd.to_numeric(runs["cable_m"], errors="coerce").fillna(0).sum())
    rows.append({"category": "cable run", "item": "Total cable (Cat 6A)",
                 "quantity": round(total, 1), "unit": "m",
                 "detail": f"{len(runs)} runs plus patch cords"})
    return pd.DataFrame(rows, columns=["category", "item", "quantity", "unit", "detail"],
                        dtype=object)


def ap_config_sheet(site, plan: Plan) -> pd.DataFrame:
    """The AP configuration sheet: what the installer sets on each AP."""
    rows = []
    for a in plan.aps:
        rows.append({"id": a.id, "x_m": round(a.x_m, 2), "y_m": round(a.y_m, 2),
                     "height_m": round(a.height_m, 2), "channel": int(a.channel),
                     "width_mhz": int(a.width_mhz), "tx_power_dbm": round(a.tx_power_dbm, 1),
                     "ssid_policy": SSID_POLICY, "min_rssi_dbm": ROAM_THRESHOLD_DBM,
                     "802.11k": "on", "802.11v": "on", "802.11r": "on (FT over the air)",
                     "switch": a.switch or "", "port": "" if a.port is None else int(a.port),
                     "cable_m": "" if a.cable_m is None else a.cable_m,
                     "bssid": a.bssid or ""})
    return pd.DataFrame(rows, columns=["id", "x_m", "y_m", "height_m", "channel", "width_mhz",
                                       "tx_power_dbm", "ssid_policy", "min_rssi_dbm", "802.11k",
                                       "802.11v", "802.11r", "switch", "port", "cable_m",
                                       "bssid"])


# ---- phase content -----------------------------------------------------------------------

#: The levels a fieldwork plan measures at, from near the AP to beyond its edge [dBm]: three
#: inside the cell, then the top of the boundary band, the design coverage and the roaming
#: threshold (:mod:`wifiplan.rules`).
_RSSI_STEPS_DBM = (-45.0, -55.0, -60.0, BOUNDARY_BAND_DBM[1], DEFAULT_MIN_RSSI_DBM,
                   ROAM_THRESHOLD_DBM)


def _grid_points(rm: RadioMap, sel: np.ndarray):
    iy, ix = np.nonzero(sel)
    return rm.xs[ix], rm.ys[iy], iy, ix


def measurement_plan(site, rm: RadioMap, target: np.ndarray, phase: int) -> pd.DataFrame:
    """Where to measure, what, and the pass criterion of each point (phases 1-2).

    For each phase AP, the points of the target area it serves whose predicted RSSI is
    nearest to -45, -55, -60, -65, -67 and -70 dBm (near the AP to the cell edge); in
    phase 2 also the boundary point of each pair of neighbouring cells nearest to -67.5 dBm
    (the middle of the -65..-70 band). Points are ordered by AP, then by decreasing RSSI.
    """
    from .capacity import mcs_index, phy_rate_mbps
    best = rm.best_rssi_dbm
    srv = rm.best_server
    req = _zone_min_rssi(site, rm)
    picks: list[tuple[int, int, str]] = []
    seen = set()
    for a_i, a in enumerate(rm.aps):
        mine = target & (srv == a_i)
        if not mine.any():
            continue
        x, y, iy, ix = _grid_points(rm, mine)
        vals = best[iy, ix]
        for step in _RSSI_STEPS_DBM:
            j = int(np.argmin(np.abs(vals - step) + 1e-6 * np.hypot(x - a.x_m, y - a.y_m)))
            if abs(vals[j] - step) > 3.0 or (iy[j], ix[j]) in seen:
                continue
            seen.add((iy[j], ix[j]))
            kind = ("cell edge" if DEFAULT_MIN_RSSI_DBM <= step <= BOUNDARY_BAND_DBM[1] else
                    "beyond the edge" if step < DEFAULT_MIN_RSSI_DBM else "in cell")
            picks.append((int(iy[j]), int(ix[j]), kind))
    if phase >= 2 and len(rm.aps) >= 2:
        bnd = rm.boundary_mask() & target
        pairs = {}
        for iy, ix in zip(*np.nonzero(bnd)):
            key = tuple(sorted((int(srv[iy, ix]), int(rm.second_server[iy, ix]))))
            d = abs(float(best[iy, ix]) + 67.5)
            if key not in pairs or d < pairs[key][0]:
                pairs[key] = (d, iy, ix)
        for key in sorted(pairs):
            _, iy, ix = pairs[key]
            if (iy, ix) not in seen:
                seen.add((iy, ix))
                picks.append((int(iy), int(ix), "cell boundary"))
            else:       # an in-cell point that is also where two cells meet: say so
                picks = [(a, b, "cell boundary" if (a, b) == (iy, ix) else k)
                         for a, b, k in picks]
    rows = []
    zone_names = [z.name for z in site.zones]
    for iy, ix, kind in picks:
        s = int(srv[iy, ix])
        r = float(best[iy, ix])
        zi = int(rm.zone_index[iy, ix])
        need = float(req[iy, ix])
        rows.append({"ap_id": rm.aps[s].id if s >= 0 else "", "x_m": float(rm.xs[ix]),
                     "y_m": float(rm.ys[iy]), "zone": zone_names[zi] if zi >= 0 else "",
                     "kind": kind, "predicted_rssi_dbm": round(r, 1),
                     "predicted_sinr_db": round(float(rm.sinr_db[iy, ix]), 1),
                     "expected_mcs": int(mcs_index(r)),
                     "expected_phy_mbps": float(phy_rate_mbps(r)),
                     "required_rssi_dbm": need, "expect_covered": bool(r >= need)})
    df = pd.DataFrame(rows, columns=["ap_id", "x_m", "y_m", "zone", "kind",
                                     "predicted_rssi_dbm", "predicted_sinr_db", "expected_mcs",
                                     "expected_phy_mbps", "required_rssi_dbm",
                                     "expect_covered"])
    df = df.sort_values(["ap_id", "predicted_rssi_dbm"], ascending=[True, False],
                        kind="stable").reset_index(drop=True)
    df.insert(0, "point", [f"M{i + 1}" for i in range(len(df))])
    return df


def measurement_instructions(site) -> list[dict]:
    """What to measure at each point and the pass criterion (phases 1-2)."""
    from .capacity import terminal_profiles
    prof = terminal_profiles(site)
    need_up = max([p["uplink_mbps"] for t, p in prof.items()
                   if any(t in z.terminals for z in site.zones)] or [0.0])
    return [
        {"what": "RSSI and SNR of the serving AP (survey app, 30 s average)",
         "pass": f"points marked covered: RSSI >= the zone minimum; every point within "
                 f"+-{MODEL_TOLERANCE_DB:g} dB of the prediction (else calibrate the model)"},
        {"what": "TCP throughput up and down (iperf3, 30 s, 1 stream) from a terminal",
         "pass": f"uplink >= {need_up:g} Mb/s (the most demanding terminal profile of the "
                 f"site) at every covered point"},
        {"what": "Latency and loss (ping to the site server, 100 packets)",
         "pass": "loss < 1 %, round trip < 20 ms median, < 50 ms 95th percentile"},
        {"what": "Application test: the terminal's real upload (image or stream) for 5 min",
         "pass": "nothing lost: queued data is resent after a drop (seed 8.1.3.5)"},
    ]


def concurrent_test(site, rm: RadioMap, target: np.ndarray, pilot,
                    points: pd.DataFrame) -> pd.DataFrame:
    """Phase 2: the concurrent-connection test, one row per cell.

    Per cell: the pilot zone's terminals that the cell serves (at least two, so every cell
    is loaded), placed at the cell's measurement points; all of them stream at their
    profile's uplink rate at the same time for 10 minutes.
    """
    from .capacity import cell_load, terminal_demand_mbps, terminal_profiles
    prof = terminal_profiles(site)
    tsite = trial_site(site, pilot, rm.aps)
    load = cell_load(tsite, _on_site(rm, tsite))
    rows = []
    for r in load.itertuples():
        a = next(x for x in rm.aps if x.id == r.ap_id)
        pts = points[points["ap_id"] == r.ap_id]
        inside = pts[pts["kind"].isin(["in cell", "cell edge"])]["point"].tolist()
        n = max(int(math.ceil(r.terminals - 1e-9)), 2)
        types = sorted(r.terminals_by_type, key=lambda t: -r.terminals_by_type[t]) or \
            sorted(prof, key=lambda t: -prof[t]["uplink_mbps"])[:1]
        mix = []
        left = n
        for t in types:
            k = min(left, max(int(round(r.terminals_by_type.get(t, 0))), 1))
            mix.append((t, k))
            left -= k
        if left > 0:
            mix[0] = (mix[0][0], mix[0][1] + left)
        demand = sum(k * terminal_demand_mbps(prof[t]) for t, k in mix)
        rows.append({"ap_id": r.ap_id, "channel": int(a.channel),
                     "terminals": ", ".join(f"{k} x {t}" for t, k in mix),
                     "points": ", ".join(inside[:max(n, 1)]) or "-",
                     "offered_mbps": round(demand, 1),
                     "predicted_phy_mbps": r.phy_rate_mbps,
                     "predicted_airtime": round(float(r.airtime), 3)
                     if math.isfinite(r.airtime) else None,
                     "pass": "every stream sustains its rate for 10 min; loss < 1 %; no "
                             "disconnect; 95th-pct latency < 50 ms; other cells unaffected "
                             "(fixed, distinct channels)"})
    return pd.DataFrame(rows, columns=["ap_id", "channel", "terminals", "points",
                                       "offered_mbps", "predicted_phy_mbps",
                                       "predicted_airtime", "pass"])


def walk_routes(site, rm: RadioMap, min_free_share: float = 0.6, lane_step_m: float = 0.5,
                max_per_zone: int = 3, lane_spacing_m: float = 15.0, edge_m: float = 1.0
                ) -> pd.DataFrame:
    """Phase 3: roaming walk tests along the aisles of every zone.

    An aisle is a straight lane along the zone's long axis that is clear of obstacles
    (obstacles are widened by 0.5 m, a walking clearance) and at least ``edge_m`` from the
    zone's edge. Lanes are tried every ``lane_step_m`` across the zone; a lane whose longest
    clear stretch covers at least ``min_free_share`` of the zone's length is a candidate.
    One walk per ``lane_spacing_m`` of zone width (at most ``max_per_zone``) is kept: for
    evenly spaced goal positions across the zone, the candidate nearest the goal among those
    at least 90 % as long as the longest. Along each route the radio map's best server is
    sampled at each grid step: the sequence of APs (stays shorter than 3 m dropped) is the
    expected roams, and the lowest best-server RSSI on the way should stay above the
    -70 dBm roaming threshold.
    """
    from shapely.geometry import LineString, Polygon
    from shapely.ops import unary_union
    obst = unary_union([Polygon(o.polygon[:, :2]).buffer(0.5) for o in site.obstacles]) \
        if site.obstacles else None
    rows = []
    for z in site.zones:
        zp = Polygon(z.polygon)
        minx, miny, maxx, maxy = zp.bounds
        along_x = (maxx - minx) >= (maxy - miny)
        lo, hi = (miny, maxy) if along_x else (minx, maxx)
        width = hi - lo
        span = (maxx - minx) if along_x else (maxy - miny)
        cands = []
        for off in np.arange(lo + edge_m, hi - edge_m + 1e-9, lane_step_m):
            line = LineString([(minx - 1, off), (maxx + 1, off)]) if along_x else \
                LineString([(off, miny - 1), (off, maxy + 1)])
            free = line.intersection(zp)
            if obst is not None:
                free = free.difference(obst)
            parts = [g for g in getattr(free, "geoms", [free]) if g.length > 0]
            if parts:
                seg = max(parts, key=lambda g: g.length)
                if seg.length >= min_free_share * span:
                    cands.append((float(off), seg))
        if not cands:
            continue
        k_lanes = int(min(max_per_zone, max(1, round(width / lane_spacing_m))))
        chosen: list[tuple[float, Any]] = []
        for i in range(k_lanes):
            goal = lo + (i + 0.5) * width / k_lanes
            free_c = [c for c in cands if all(abs(c[0] - o) >= lane_spacing_m / 2
                                              for o, _ in chosen)]
            if not free_c:
                break
            longest = max(c[1].length for c in free_c)
            good = [c for c in free_c if c[1].length >= 0.9 * longest]
            chosen.append(min(good, key=lambda c: (abs(c[0] - goal), c[0])))
        for off, seg in sorted(chosen, key=lambda c: c[0]):
            n = max(int(math.ceil(seg.length / rm.resolution_m)), 2)
            pts = np.array([seg.interpolate(t, normalized=True).coords[0]
                            for t in np.linspace(0, 1, n + 1)])
            ix = np.clip(np.round((pts[:, 0] - rm.xs[0]) / rm.resolution_m), 0,
                         len(rm.xs) - 1).astype(int)
            iy = np.clip(np.round((pts[:, 1] - rm.ys[0]) / rm.resolution_m), 0,
                         len(rm.ys) - 1).astype(int)
            srv = rm.best_server[iy, ix]
            best = rm.best_rssi_dbm[iy, ix].astype(float)
            seq = _server_sequence(srv, min_run=max(int(round(3.0 / rm.resolution_m)), 1))
            (x0, y0), (x1, y1) = pts[0], pts[-1]
            rows.append({"walk": f"W{len(rows) + 1}", "zone": z.name,
                         "x0_m": round(float(x0), 1), "y0_m": round(float(y0), 1),
                         "x1_m": round(float(x1), 1), "y1_m": round(float(y1), 1),
                         "length_m": round(float(seg.length), 1),
                         "expected_aps": " > ".join(rm.aps[i].id for i in seq),
                         "expected_roams": max(len(seq) - 1, 0),
                         "min_rssi_dbm": round(float(best.min()), 1),
                         "below_roam_threshold_m": round(float((best < ROAM_THRESHOLD_DBM).sum()
                                                               * seg.length / (n + 1)), 1)})
    return pd.DataFrame(rows, columns=["walk", "zone", "x0_m", "y0_m", "x1_m", "y1_m",
                                       "length_m", "expected_aps", "expected_roams",
                                       "min_rssi_dbm", "below_roam_threshold_m"])


def _server_sequence(srv: np.ndarray, min_run: int) -> list[int]:
    """The APs met in order along a route, ignoring stays shorter than ``min_run`` samples
    (except at the ends)."""
    runs: list[list[int]] = []
    for s in srv.tolist():
        if runs and runs[-1][0] == s:
            runs[-1][1] += 1
        else:
            runs.append([s, 1])
    keep = [r for i, r in enumerate(runs) if r[1] >= min_run or i in (0, len(runs) - 1)]
    seq: list[int] = []
    for s, _ in keep:
        if s >= 0 and (not seq or seq[-1] != s):
            seq.append(s)
    return seq


WALK_TEST_PASS = ("walk at normal pace (about 1 m/s) with a terminal streaming its profile's "
                  "uplink and a continuous ping: it roams to each expected AP in turn, each "
                  f"roam where the old AP is between {BOUNDARY_BAND_DBM[1]:g} and "
                  f"{BOUNDARY_BAND_DBM[0]:g} dBm, handover < 50 ms with "
                  "802.11r, no A-B-A ping-pong within 10 s, never below "
                  f"{ROAM_THRESHOLD_DBM:g} dBm for more than 2 s, no application data lost")


def thresholds_table(site) -> pd.DataFrame:
    """Phase 4: the thresholds that monitoring watches, with their source."""
    lo, hi = BOUNDARY_BAND_DBM
    zmins = sorted({z.min_rssi_dbm for z in site.zones}) or [DEFAULT_MIN_RSSI_DBM]
    rows = [
        ("Minimum RSSI (roaming trigger)", f"{ROAM_THRESHOLD_DBM:g} dBm",
         "terminals re-scan and roam below it; alert when a terminal stays below it",
         "seed 8.1.3.5"),
        ("Primary coverage", ", ".join(f"{v:g}" for v in zmins) + " dBm",
         "the zones' requirement for the best server", "DESIGN 6, site zones"),
        ("Cell boundary band", f"{hi:g} .. {lo:g} dBm",
         "where best and second server are within "
         f"{BOUNDARY_WITHIN_DB:g} dB of each other", "seed 8.1.3.5"),
        ("SNR", f">= {MIN_SNR_DB:g} dB", f"over the {NOISE_FLOOR_DBM:g} dBm noise floor",
         "DESIGN 6"),
        ("Co-channel separation", f">= {CO_CHANNEL_MIN_SEPARATION_DB:g} dB",
         "same-channel APs below the serving AP", "DESIGN 6"),
        ("Airtime per cell", f"< {AIRTIME_BUDGET:.0%}", "channel utilisation",
         "DESIGN 6"),
        ("Ping-pong roams", "0", "A -> B -> A within 10 s", "operations"),
        ("Channel and width", "planned channel, 20 MHz, non-DFS",
         "any AP off plan is an alert", "seed 8.1.3.5"),
    ]
    return pd.DataFrame(rows, columns=["threshold", "value", "meaning", "source"])


def logging_table() -> pd.DataFrame:
    """Phase 4: what to log, where, how often, and what it is for."""
    rows = [
        ("terminal", "timestamp, device, bssid, rssi_dbm (x_m, y_m where known)", "every 5 s",
         f"time below {ROAM_THRESHOLD_DBM:g} dBm, roams, ping-pong, sticky clients (input of "
         "'wifiplan logs "
         "analyze')"),
        ("terminal", "roam events: from/to BSSID, reason, handover time", "per event",
         f"802.11k/v/r working, roam points in the {BOUNDARY_BAND_TEXT} band"),
        ("terminal app", "send queue depth, resends, unsent data age", "every 10 s",
         "data kept during bad signal (seed 8.1.3.5)"),
        ("AP", "channel, width, tx power, client count, channel utilisation, retries",
         "every 60 s", "channel plan kept, airtime < 50 %, power changes traced"),
        ("AP", "neighbour table: BSSID, channel, RSSI of other APs", "every 15 min",
         "co-channel and foreign APs"),
        ("PoE switch", "link state, errors, PoE draw per port, uplink utilisation",
         "every 60 s", "wired backhaul healthy, PoE budget"),
        ("survey", "re-survey after any layout change (racks, machines)", "on change",
         "calibrate the model, re-tune power"),
    ]
    return pd.DataFrame(rows, columns=["source", "what", "interval", "used for"])


def power_adjustments(site, plan: Plan, survey: dict | None = None, model=None,
                      logs: dict | None = None, rm: RadioMap | None = None,
                      base_rm: RadioMap | None = None) -> pd.DataFrame:
    """Phase 4: recommended power changes per AP, each with its reason and source.

    - Survey findings: ``ap_bias`` (the AP's measurements differ from the prediction by the
      mean residual r: the cell is larger or smaller than planned; change by -r to restore
      the planned cell, within the domain's limits), ``co_channel`` (lower the interfering
      AP by the missing separation), ``coverage_hole`` (raise the serving AP by the missing
      level).
    - A calibrated model (``model`` differs from the site's own): with the calibrated map
      ``rm`` against the uncalibrated ``base_rm``, the median change of each AP's best-server
      RSSI over its own cell is compensated.
    - Logs: the per-AP recommendations of the log analysis.
    Changes are in whole dB, one per AP, merged by :func:`wifiplan.rules.combine_power_changes`
    (reductions win over raises; a raise at most 3 dB, a reduction at most 6 dB per round); the
    new power is held in :func:`wifiplan.rules.tx_power_range_dbm`.
    """
    dom = site.domain
    gain = model.ap_gain_dbi if model is not None else site.propagation.get("ap_gain_dbi", 3.0)
    by_id = {a.id: a for a in plan.aps}
    recs: dict[str, list[tuple[float, str, str]]] = {}

    def add(ap_id, delta, reason, source):
        if ap_id in by_id and delta is not None and math.isfinite(delta):
            recs.setdefault(ap_id, []).append((float(delta), reason, source))

    if survey:
        for f in survey.get("findings", []):
            kind, ap_id = f.get("kind"), f.get("ap_id")
            where = f"({f.get('x_m', 0):g}, {f.get('y_m', 0):g})"
            if kind == "ap_bias" and f.get("mean_residual_db") is not None:
                r = float(f["mean_residual_db"])
                add(ap_id, -round(r), f"survey: measured {r:+.1f} dB against the prediction "
                    f"on average (cell {'larger' if r > 0 else 'smaller'} than planned)",
                    "survey")
            elif kind == "co_channel" and f.get("other") and f.get("separation_db") is not None:
                miss = CO_CHANNEL_MIN_SEPARATION_DB - float(f["separation_db"])
                add(f["other"], -math.ceil(max(miss, 1.0)),
                    f"survey: only {float(f['separation_db']):.0f} dB below the serving "
                    f"{ap_id} on channel {f.get('channel')} near {where} (need "
                    f"{CO_CHANNEL_MIN_SEPARATION_DB:g})", "survey")
            elif kind == "coverage_hole" and ap_id and f.get("rssi_dbm") is not None:
                need = float(f.get("required_dbm", ROAM_THRESHOLD_DBM))
                gap = need - float(f["rssi_dbm"])
                add(ap_id, math.ceil(max(gap, 1.0)),
                    f"survey: {f.get('n_points', 1)} point(s) below {need:g} dBm near {where}, "
                    f"worst {float(f['rssi_dbm']):.0f} dBm", "survey")
    if rm is not None and base_rm is not None and len(rm.aps) == len(base_rm.aps):
        for i, a in enumerate(plan.aps):
            cell = (base_rm.best_server == i) & base_rm.mask
            if not cell.any():
                continue
            d = float(np.median(rm.rssi_dbm[i][cell] - base_rm.rssi_dbm[i][cell]))
            if abs(d) >= 1.0:
                add(a.id, -round(d), f"calibration: the calibrated model predicts "
                    f"{d:+.1f} dB in the AP's cell", "calibration")
    if logs:
        for r in logs.get("recommendations", []) or []:
            if r.get("change_db"):
                add(r.get("ap"), float(r["change_db"]),
                    "logs: " + "; ".join(str(x) for x in r.get("reasons", [])), "logs")
    rows = []
    for a in plan.aps:
        if a.id not in recs:
            continue
        items = recs[a.id]
        # one change per AP: the reductions win over raises (interference first), and
        # among several, the largest magnitude in that direction
        delta = combine_power_changes(d for d, _, _ in items)
        new = (clip_tx_power_dbm(dom, a.channel, gain, a.tx_power_dbm + delta)
               if dom.channel(a.channel)
               else max(MIN_TX_POWER_DBM, min(a.tx_power_dbm + delta, a.tx_power_dbm)))
        rows.append({"ap_id": a.id, "current_dbm": a.tx_power_dbm, "change_db": new -
                     a.tx_power_dbm, "new_dbm": new,
                     "reason": "; ".join(r for _, r, _ in items),
                     "source": ", ".join(sorted({s for _, _, s in items}))})
    return pd.DataFrame(rows, columns=["ap_id", "current_dbm", "change_db", "new_dbm",
                                       "reason", "source"])


def _number_in(text: str) -> float | None:
    import re
    m = re.search(r"([+-]?\d+(?:\.\d+)?)\s*dB", str(text))
    return float(m.group(1)) if m else None


def operations_checklist(site, plan: Plan, metrics: dict) -> pd.DataFrame:
    """Seed 8.1.3.6 as a checklist, each step with what the plan shows."""
    allowed = set(site.allowed_channels())
    ch_ok = all(a.channel in allowed and a.width_mhz == 20 for a in plan.aps)
    wired = all(a.switch and a.port is not None for a in plan.aps)
    band = metrics.get("boundary_band_share")
    status = {
        "ssid": ("configure", SSID_POLICY),
        "channels": ("ok" if ch_ok else "FAIL",
                     "channels " + ", ".join(str(c) for c in sorted({a.channel for a in
                                                                      plan.aps}))
                     + f" of {site.regulatory_domain} non-DFS set, 20 MHz"),
        "power": ("ok" if band is not None and band >= BOUNDARY_BAND_TARGET else
                  "check" if band is None else "FAIL",
                  "powers " + ", ".join(f"{p:g}" for p in sorted({a.tx_power_dbm for a in
                                                                  plan.aps})) + " dBm; "
                  + (f"{100 * band:.0f} % of boundary points in {BOUNDARY_BAND_TEXT}"
                     if band is not None else "no cell boundary")),
        "min_rssi": ("configure", f"minimum RSSI {ROAM_THRESHOLD_DBM:g} dBm on every AP and "
                                  f"terminal"),
        "backhaul": ("ok" if wired else "FAIL",
                     "every AP on a switch port" if wired else "APs without switch port: "
                     + ", ".join(a.id for a in plan.aps if not (a.switch and a.port))),
    }
    rows = [{"step": i + 1, "item_ja": ja, "item": en, "status": status[k][0],
             "from the plan": status[k][1]} for i, (k, ja, en) in enumerate(OPERATIONS_STEPS)]
    rows += [{"step": "roaming", "item_ja": ja, "item": en, "status": "verify",
              "from the plan": "802.11k/v/r on in the AP sheet" if k == "handover"
              else "terminal application"} for k, ja, en in ROAMING_HANDLING]
    return pd.DataFrame(rows, columns=["step", "item_ja", "item", "status", "from the plan"])


# ---- criteria ----------------------------------------------------------------------------


def plan_criteria(site, plan: Plan, phase: int, rm: RadioMap, metrics: dict,
                  runs: pd.DataFrame, switches: pd.DataFrame,
                  load: pd.DataFrame | None) -> list[Criterion]:
    """The acceptance criteria judged on the plan's prediction."""
    dom = site.domain
    allowed = set(site.allowed_channels())
    gain = rm.model.ap_gain_dbi
    out: list[Criterion] = []
    P = f"P{phase}"
    n = len(plan.aps)
    want = {1: (1, 1), 2: (2, 3)}.get(phase)
    if want:
        out.append(Criterion(f"{P}-cells", "Cells installed in this phase",
                             f"{PHASES[phase].cells} AP(s) (seed 8.1.3.7)", n, "APs",
                             want[0] <= n <= want[1], "plan"))
    bad_ch = [a.id for a in plan.aps if a.channel not in allowed]
    out.append(Criterion(f"{P}-channels", "Fixed non-DFS channels",
                         f"every AP on a non-DFS channel of domain {site.regulatory_domain} "
                         f"({', '.join(str(c) for c in sorted(allowed))})", len(bad_ch),
                         "APs off the set", not bad_ch, "plan",
                         ", ".join(bad_ch)))
    bad_w = [a.id for a in plan.aps if a.width_mhz != 20]
    out.append(Criterion(f"{P}-width", "20 MHz channels", "every AP at 20 MHz", len(bad_w),
                         "APs", not bad_w, "plan", ", ".join(bad_w)))
    over = []
    for a in plan.aps:
        c = dom.channel(a.channel)
        if c is not None and a.tx_power_dbm + gain > c.max_eirp_dbm + 1e-9:
            over.append(a.id)
    out.append(Criterion(f"{P}-eirp", "Transmit power within the regulatory limit",
                         f"tx power + {gain:g} dBi antenna gain <= the domain's EIRP limit",
                         max((a.tx_power_dbm for a in plan.aps), default=0.0), "dBm max",
                         not over, "plan", ", ".join(over)))
    if phase == 2 or (phase == 1 and n > 1):
        chans = [a.channel for a in plan.aps]
        out.append(Criterion(f"{P}-distinct", "Each cell on its own channel",
                             "no two phase APs share a channel", n - len(set(chans)),
                             "shared", len(set(chans)) == n, "plan"))
    out.append(Criterion(f"{P}-coverage", "Primary coverage of the target area",
                         f">= {COVERAGE_TARGET:.0%} of the target points at or above their "
                         f"zone's minimum RSSI", metrics["primary_coverage"], "%",
                         _ge(metrics["primary_coverage"], COVERAGE_TARGET), "plan"))
    out.append(Criterion(f"{P}-snr", "Signal-to-interference-plus-noise",
                         f">= {COVERAGE_TARGET:.0%} of the target points with SINR >= "
                         f"{MIN_SNR_DB:g} dB", metrics["sinr_ok_share"], "%",
                         _ge(metrics["sinr_ok_share"], COVERAGE_TARGET), "plan"))
    if n >= 2:
        band = metrics["boundary_band_share"]
        out.append(Criterion(f"{P}-boundary", f"Cell boundaries in the {BOUNDARY_BAND_TEXT} band",
                             f">= {BOUNDARY_BAND_TARGET:.0%} of the boundary points (best "
                             f"and second within {BOUNDARY_WITHIN_DB:g} dB)", band, "%",
                             _ge(band, BOUNDARY_BAND_TARGET) if band is not None else None,
                             "plan", "" if band is not None else "no cell boundary in the "
                                                                  "target area"))
        p5 = metrics["co_channel_separation_p5_db"]
        out.append(Criterion(f"{P}-cochannel", "Co-channel separation",
                             f"5th percentile >= {CO_CHANNEL_MIN_SEPARATION_DB:g} dB below the "
                             f"serving AP", p5, "dB",
                             p5 is None or p5 >= CO_CHANNEL_MIN_SEPARATION_DB, "plan",
                             "" if p5 is not None else "fewer than 5 % of the points hear a "
                                                       "same-channel AP"))
    if phase >= 3:
        for z in metrics["zones"]:
            if z["coverage"] is None or not math.isfinite(z["coverage"]):
                continue
            out.append(Criterion(f"{P}-zone-{z['zone']}", f"Coverage of zone {z['zone']}",
                                 f">= {COVERAGE_TARGET:.0%} at >= {z['min_rssi_dbm']:g} dBm",
                                 z["coverage"], "%", _ge(z["coverage"], COVERAGE_TARGET),
                                 "plan"))
    if phase == 4:
        v = metrics["coverage_at_roam_threshold"]
        out.append(Criterion(f"{P}-roam", "Above the roaming threshold everywhere",
                             f">= 99% of zone points above {ROAM_THRESHOLD_DBM:g} dBm", v, "%",
                             _ge(v, 0.99), "plan"))
    if load is not None and len(load):
        mx = float(load["airtime"].max())
        worst = load.loc[load["airtime"].idxmax(), "ap_id"]
        budget = float(load["airtime_budget"].iloc[0])
        out.append(Criterion(f"{P}-airtime", "Airtime of the busiest cell",
                             f"< {budget:.0%} with the zones' terminals", mx, "%",
                             bool(mx <= budget), "plan", f"busiest: {worst}"))
    # backhaul: every phase installs wired APs
    unwired = [a.id for a in plan.aps if not (a.switch and a.port is not None)]
    out.append(Criterion(f"{P}-wired", "Wired backhaul", "every AP on a PoE switch port",
                         len(unwired), "APs unwired", not unwired, "plan", ", ".join(unwired)))
    lengths = pd.to_numeric(runs["cable_m"], errors="coerce")
    if lengths.notna().any():
        long_ = runs.loc[lengths > MAX_CABLE_M, "ap_id"].tolist()
        out.append(Criterion(f"{P}-cable", "Cable runs within the Ethernet limit",
                             f"every run <= {MAX_CABLE_M:g} m", float(lengths.max()), "m max",
                             not long_, "plan", ", ".join(long_)))
    if len(switches) and (switches["ports_used"] > 0).any():
        bad_p = switches.loc[~switches["ports_ok"], "switch"].tolist()
        bad_w = switches.loc[~switches["poe_ok"], "switch"].tolist()
        out.append(Criterion(f"{P}-ports", "Switch ports", "ports used <= ports on each switch",
                             int(switches["ports_used"].max()), "ports max", not bad_p, "plan",
                             ", ".join(bad_p)))
        out.append(Criterion(f"{P}-poe", "PoE budget",
                             f"{AP_POE_W:g} W per AP within each switch's PoE budget",
                             float(switches["poe_used_w"].max()), "W max", not bad_w, "plan",
                             ", ".join(bad_w)))
    return out


def _ge(v, threshold) -> bool | None:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return None
    return bool(v >= threshold - 1e-12)


SURVEY_ERROR_KINDS = ("coverage_hole", "dfs_channel", "band_2g4", "forbidden_channel",
                      "channel_mismatch", "width_mismatch", "co_channel")


def survey_criteria(site, plan: Plan, phase: int, rm: RadioMap, target: np.ndarray,
                    survey: dict) -> list[Criterion]:
    """The acceptance criteria judged on the measurements and the survey's findings."""
    P = f"P{phase}"
    out = []
    pts = survey.get("points")
    if pts is not None and len(pts):
        # measured best plan-AP RSSI at the surveyed points inside the target area
        ix = np.clip(np.round((pts["x_m"].to_numpy(float) - rm.xs[0]) / rm.resolution_m),
                     0, len(rm.xs) - 1).astype(int)
        iy = np.clip(np.round((pts["y_m"].to_numpy(float) - rm.ys[0]) / rm.resolution_m),
                     0, len(rm.ys) - 1).astype(int)
        inside = target[iy, ix]
        req = _zone_min_rssi(site, rm)[iy, ix]
        meas = pts["measured_dbm"].to_numpy(float)
        ok = (meas >= req) & inside
        nin = int(inside.sum())
        share = float(ok.sum() / nin) if nin else None
        out.append(Criterion(f"{P}-survey-coverage", "Measured coverage of the target area",
                             f">= {COVERAGE_TARGET:.0%} of the surveyed points at or above "
                             f"the zone minimum", share, "%",
                             _ge(share, COVERAGE_TARGET) if share is not None else None,
                             "survey", f"{nin} surveyed points in the target area"))
        pred = pts["predicted_dbm"].to_numpy(float)
        good = np.isfinite(pred) & np.isfinite(meas)
        if good.any():
            rmse = float(np.sqrt(np.mean((meas[good] - pred[good]) ** 2)))
            out.append(Criterion(f"{P}-survey-model", "Prediction agrees with measurement",
                                 f"RMSE <= {MODEL_TOLERANCE_DB:g} dB (else calibrate)", rmse,
                                 "dB", rmse <= MODEL_TOLERANCE_DB, "survey",
                                 f"{int(good.sum())} points, best plan AP per point"))
    counts: dict[str, int] = {}
    for f in survey.get("findings", []):
        counts[f.get("kind", "?")] = counts.get(f.get("kind", "?"), 0) + 1
    for kind in SURVEY_ERROR_KINDS:
        out.append(Criterion(f"{P}-survey-{kind}", f"Survey findings: {kind.replace('_', ' ')}",
                             "none", counts.get(kind, 0), "findings", counts.get(kind, 0) == 0,
                             "survey"))
    for kind in sorted(set(counts) - set(SURVEY_ERROR_KINDS)):
        sev = {f.get("severity") for f in survey["findings"] if f.get("kind") == kind}
        out.append(Criterion(f"{P}-survey-{kind}", f"Survey findings: {kind.replace('_', ' ')}",
                             "none with severity error", counts[kind], "findings",
                             "error" not in sev, "survey",
                             "severity " + ", ".join(sorted(s for s in sev if s))))
    return out


def logs_criteria(phase: int, logs: dict) -> list[Criterion]:
    """Phase 4 criteria from the log analysis (:func:`wifiplan.logs.analyze_logs`)."""
    P = f"P{phase}"
    out = []
    s = logs.get("summary", {})
    if s.get("ping_pong_roams") is not None:
        pp = int(s["ping_pong_roams"])
        out.append(Criterion(f"{P}-logs-pingpong", "Ping-pong roams",
                             "none (A -> B -> A within 10 s)", pp, "roams", pp == 0, "logs",
                             ", ".join(s.get("ping_pong_devices", []) or [])))
    per_ap = (logs.get("below_min_rssi") or {}).get("per_ap") or []
    t = sum(float(r.get("time_s", 0)) for r in per_ap)
    if t > 0:
        below = sum(float(r.get("below_s", 0)) for r in per_ap) / t
        out.append(Criterion(f"{P}-logs-below", f"Associated time below {ROAM_THRESHOLD_DBM:g} dBm",
                             "<= 1 % of the logged associated time", below, "%",
                             below <= 0.01, "logs"))
    if s.get("sticky_episodes") is not None:
        n = int(s["sticky_episodes"])
        out.append(Criterion(f"{P}-logs-sticky", "Sticky clients", "no sticky episode", n,
                             "episodes", n == 0, "logs",
                             ", ".join(s.get("sticky_devices", []) or [])))
    return out


# ---- survey and logs ---------------------------------------------------------------------


def survey_summary(site, plan: Plan, survey_path, rm: RadioMap, model=None) -> dict:
    """Read and check a survey against the plan (:mod:`wifiplan.survey`), and the measured
    best plan-AP RSSI per surveyed point beside the prediction there."""
    frame, meta = read_survey(survey_path)
    res = check_survey(site, plan, frame, meta, model=model)
    from pathlib import Path
    out = {"path": Path(survey_path).name, "summary": res.get("summary", {}),
           "findings": list(res.get("findings", [])),
           "rejected_rows": list(res.get("rejected_rows", []))}
    bssid_ap = {m["bssid"]: m["ap_id"] for m in res.get("matches", []) or []
                if m.get("ap_id") and not m.get("proposed")}
    out["points"] = _measured_points(plan, frame, rm, bssid_ap)
    return out


def _measured_points(plan: Plan, frame: pd.DataFrame, rm: RadioMap,
                     bssid_ap: dict | None = None) -> pd.DataFrame | None:
    """Per surveyed point: the strongest plan AP measured on 5 GHz, and its prediction there.

    BSSIDs are matched to APs by the survey's matching (``bssid_ap``), else by the plan."""
    if frame is None or not len(frame) or not {"x_m", "y_m", "rssi_dbm"} <= set(frame.columns):
        return None
    df = frame.copy()
    if "channel" in df.columns:
        ch = pd.to_numeric(df["channel"], errors="coerce")
        df = df[ch.isna() | (ch >= 32)]
    if "ap_id" not in df.columns:
        by_bssid = {a.bssid: a.id for a in plan.aps if a.bssid}
        by_bssid.update(bssid_ap or {})
        if "bssid" not in df.columns:
            return None
        df["ap_id"] = df["bssid"].map(by_bssid)
    df = df[df["ap_id"].isin(plan.ids)]
    if not len(df):
        return None
    g = df.groupby(["x_m", "y_m", "ap_id"], sort=True)["rssi_dbm"].median().reset_index()
    best = g.sort_values(["x_m", "y_m", "rssi_dbm"], ascending=[True, True, False]) \
        .drop_duplicates(["x_m", "y_m"], keep="first").reset_index(drop=True)
    at = rm.at_points(best["x_m"].to_numpy(float), best["y_m"].to_numpy(float))
    idx = {a.id: i for i, a in enumerate(rm.aps)}
    pred = np.array([at["rssi_dbm"][idx[a], j] for j, a in enumerate(best["ap_id"])])
    return pd.DataFrame({"x_m": best["x_m"].to_numpy(float), "y_m": best["y_m"].to_numpy(float),
                         "ap_id": best["ap_id"].to_numpy(), "measured_dbm":
                         best["rssi_dbm"].to_numpy(float), "predicted_dbm": pred})


def logs_summary(logs_path, plan: Plan) -> dict:
    res = analyze_logs(logs_path, plan)
    return dict(res)


# ---- the entry point ---------------------------------------------------------------------


def assess_phase(site, phase: int, plan: Plan | None = None, *, model=None, survey=None,
                 logs=None, resolution_m: float = 1.0, pilot: str | None = None,
                 trial_radius_m: float = TRIAL_RADIUS_M, full_rm: RadioMap | None = None,
                 full_plan: Plan | None = None) -> PhaseAssessment:
    """Everything a phase report shows, computed from the library.

    Parameters
    ----------
    site : Site
    phase : 1..4 (seed 8.1.3.7)
    plan : the site's plan; None lets the planner plan it
    model : PropagationModel (calibrated or the site's own); None: the site's
    survey : path of a survey CSV (checked with :mod:`wifiplan.survey`), optional
    logs : path of terminal logs (phase 4, :mod:`wifiplan.logs`), optional
    resolution_m : grid step of the radio maps [m]
    pilot : name of the pilot zone for phases 1-2 (default :func:`pilot_zone`)
    full_rm : the radio map of the full plan, when the caller already has it
    full_plan : the planner's full plan, when the caller already has it (``plan`` None)
    """
    from .propagation import PropagationModel
    if phase not in PHASES:
        raise InputError(f"phase must be 1, 2, 3 or 4, got {phase!r}")
    if resolution_m <= 0:
        raise InputError(f"resolution must be > 0 m, got {resolution_m}")
    base_model = PropagationModel.for_site(site)
    if model is None and full_rm is not None and full_rm.model == base_model:
        model = full_rm.model
    model = model or base_model
    pz = pilot_zone(site, pilot)
    phase_plan, full, notes, full_rm = resolve_phase_plan(site, phase, plan, model, pz,
                                                          resolution_m, full_rm, full_plan)
    if not phase_plan.aps:
        raise InputError("the plan has no APs", source=phase_plan.source)
    from .plan import check_plan_against_site
    check_plan_against_site(phase_plan, site)
    if full_rm is not None and [a.id for a in full_rm.aps] == phase_plan.ids and \
            full_rm.resolution_m == resolution_m and full_rm.model == model:
        rm = full_rm
    elif full_rm is not None and full_rm.resolution_m == resolution_m and \
            full_rm.model == model:
        rm = full_rm.with_aps(phase_plan.aps)
    else:
        rm = compute_radiomap(site, phase_plan.aps, resolution_m=resolution_m, model=model)
    target, label = target_area(site, rm, phase, pz, trial_radius_m)
    metrics = plan_metrics(site, rm, target)
    evaluation = evaluate_plan(site, phase_plan, model=model, resolution_m=resolution_m,
                               radiomap=rm)
    runs = cable_runs(site, phase_plan, evaluation)
    sw = switch_usage(site, phase_plan)
    bom = bill_of_materials(site, phase_plan, runs, sw)
    from .capacity import cell_load
    load_site = site if phase >= 3 else trial_site(site, pz, phase_plan.aps, trial_radius_m)
    load = cell_load(load_site, _on_site(rm, load_site)) if site.zones else None
    criteria = plan_criteria(site, phase_plan, phase, rm, metrics, runs, sw, load)
    zones = pd.DataFrame(metrics["zones"], columns=["zone", "area_m2", "terminals",
                                                    "min_rssi_dbm", "coverage", "rssi_p5_dbm",
                                                    "in_target"])
    a = PhaseAssessment(site=site, phase=PHASES[phase], plan=phase_plan, full_plan=full,
                        model=model, radiomap=rm, pilot_zone=pz, target_mask=target,
                        target_label=label, metrics=metrics, evaluation=evaluation,
                        criteria=criteria, ap_sheet=ap_config_sheet(site, phase_plan), bom=bom,
                        cable_runs=runs, switches=sw, zones=zones, cell_load=load, notes=notes)
    if phase in (1, 2):
        a.measurement_points = measurement_plan(site, rm, target, phase)
    if phase == 2:
        a.concurrent_test = concurrent_test(site, rm, target, pz, a.measurement_points)
    if phase == 3:
        a.walk_tests = walk_routes(site, rm)
    if survey is not None:
        a.survey = survey_summary(site, phase_plan, survey, rm, model)
        a.criteria += survey_criteria(site, phase_plan, phase, rm, target, a.survey)
    if logs is not None:
        if phase != 4:
            a.notes.append("Terminal logs are analysed in the phase-4 report only.")
        else:
            a.logs = logs_summary(logs, phase_plan)
            a.criteria += logs_criteria(phase, a.logs)
    if phase == 4:
        a.thresholds = thresholds_table(site)
        a.logging = logging_table()
        calibrated = model is not base_model and model != base_model
        base_rm = compute_radiomap(site, phase_plan.aps, resolution_m=resolution_m,
                                   model=base_model) if calibrated else None
        a.power_adjustments = power_adjustments(site, phase_plan, a.survey, model, a.logs,
                                                rm if calibrated else None, base_rm)
        a.checklist = operations_checklist(site, phase_plan, metrics)
    return a
