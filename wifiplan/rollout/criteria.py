"""The acceptance criteria of a phase: the acceptance shares, :class:`Criterion`, and the
criteria judged on the plan's prediction, on a survey and on terminal logs."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..site import Site
from ..backhaul import AP_POE_W, assign_backhaul, backhaul_summary, switch_suggestions
from ..capacity import MCS_RATE_MBPS
from ..evaluation import SHARE_KEYS, band_tradeoff
from ..plan import Plan
from ..radio.antenna import mounted, peak_gain_dbi
from ..radio.radiomap import RadioMap
from ..requirements import LABELS, band_conflict_lines, roam_threshold_at, site_asks
from ..survey.findings import REQUIREMENT_KINDS
from ..rules import (BOUNDARY_BAND_DBM, BOUNDARY_BAND_TARGET, BOUNDARY_BAND_TEXT,
                     BOUNDARY_WITHIN_DB, CO_CHANNEL_MIN_SEPARATION_DB, COVERAGE_TARGET,
                     MIN_SNR_DB, ROAM_THRESHOLD_DBM)
from ..rules import MAX_PERMANENT_LINK_M as MAX_CABLE_M
from .metrics import zone_min_rssi
from .phases import PHASES


#: Measured RSSI may differ from the prediction by this much before the model needs
#: calibration (about 1.5 sigma of the 3GPP InF shadowing, 5-7 dB).
MODEL_TOLERANCE_DB = 8.0


@dataclass
class Criterion:
    """One acceptance criterion with its figure and verdict.

    ``passed`` is None when the criterion cannot be judged from what was given (for example
    a measurement without a survey). ``impossible`` marks a failed criterion that the site
    itself makes impossible (its zones' own requirements, its switches), ``detail`` says
    why; ``action`` is what to do next about a failure.
    """
    id: str
    name: str
    requirement: str
    value: float | None
    unit: str
    passed: bool | None
    source: str                  # "plan", "survey" or "logs"
    detail: str = ""
    impossible: bool = False
    action: str = ""

    def to_dict(self) -> dict:
        """Plain JSON data; a share (unit "%") is written in percent, as its unit says."""
        v = self.value
        if isinstance(v, (float, np.floating)):
            v = None if not math.isfinite(float(v)) else float(v)
            if v is not None:
                v = round(100.0 * v, 2) if self.unit == "%" else round(v, 4)
        elif isinstance(v, (np.integer,)):
            v = int(v)
        return {"id": self.id, "name": self.name, "requirement": self.requirement,
                "value": v, "unit": self.unit, "passed": self.passed, "source": self.source,
                "detail": self.detail, "impossible": bool(self.impossible),
                "action": self.action}

    @classmethod
    def from_dict(cls, d: dict) -> "Criterion":
        """The criterion of a :meth:`to_dict` record (a report.json entry)."""
        c = cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})
        if c.unit == "%" and c.value is not None:
            c.value = float(c.value) / 100.0
        return c

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


def plan_criteria(site: Site, plan: Plan, phase: int, rm: RadioMap, metrics: dict,
                  runs: pd.DataFrame, switches: pd.DataFrame,
                  load: pd.DataFrame | None, design_aps: int | None = None) -> list[Criterion]:
    """The acceptance criteria judged on the plan's prediction; ``design_aps``: the AP count
    of the site's full plan (a site whose design has fewer cells than the phase installs
    makes the phase's cell count impossible)."""
    dom = site.domain
    allowed = set(site.allowed_channels())
    gain = rm.model.ap_gain_dbi
    out: list[Criterion] = []
    P = f"P{phase}"
    n = len(plan.aps)
    want = {1: (1, 1), 2: (2, 3)}.get(phase)
    if want:
        c = Criterion(f"{P}-cells", "Cells installed in this phase",
                      f"{PHASES[phase].cells} AP(s) (seed 8.1.3.7)", n, "APs",
                      want[0] <= n <= want[1], "plan")
        if not c.passed and design_aps is not None and design_aps < want[0] and \
                n == design_aps:
            c.impossible = True
            c.detail = (f"the site's plan has {design_aps} AP(s): its design needs no more "
                        "cells, so the trial is the plan itself")
            c.action = ("go on with the next phase on the plan as it is (cells planned for "
                        "the trial alone would not be part of the site's design)")
        out.append(c)
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
        if c is not None and a.tx_power_dbm + peak_gain_dbi(a, gain) > c.max_eirp_dbm + 1e-9:
            over.append(a.id)
    own = any(mounted(a) is not None for a in plan.aps)
    out.append(Criterion(f"{P}-eirp", "Transmit power within the regulatory limit",
                         (f"tx power + each AP's peak antenna gain ({gain:g} dBi without an "
                          f"antenna of its own) <= the domain's EIRP limit" if own else
                          f"tx power + {gain:g} dBi antenna gain <= the domain's EIRP limit"),
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
    sinr_req = sorted({z.min_sinr_db for z in site.zones} or {MIN_SNR_DB})
    out.append(Criterion(f"{P}-snr", "Signal-to-interference-plus-noise",
                         f">= {COVERAGE_TARGET:.0%} of the target points with SINR >= "
                         + (f"{sinr_req[0]:g} dB" if len(sinr_req) == 1 else
                            "their zone's minimum SINR"), metrics["sinr_ok_share"], "%",
                         _ge(metrics["sinr_ok_share"], COVERAGE_TARGET), "plan"))
    out += requirement_criteria(site, P, metrics, ap_count=len(plan.aps))
    if n >= 2:
        out.append(_boundary_criterion(P, metrics))
        p5 = metrics["co_channel_separation_p5_db"]
        margin = metrics["co_channel_margin_p5_db"]
        sep_req = sorted({z.co_channel_separation_db for z in site.zones}
                         or {CO_CHANNEL_MIN_SEPARATION_DB})
        out.append(Criterion(f"{P}-cochannel", "Co-channel separation",
                             "5th percentile >= "
                             + (f"{sep_req[0]:g} dB" if len(sep_req) == 1 else
                                "each zone's separation") + " below the serving AP", p5, "dB",
                             margin is None or margin >= -1e-9, "plan",
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
        low = [z for z in site.zones if roam_threshold_at(z.min_rssi_dbm) < ROAM_THRESHOLD_DBM]
        out.append(Criterion(f"{P}-roam", "Above the roaming threshold everywhere",
                             f">= 99% of zone points above {ROAM_THRESHOLD_DBM:g} dBm"
                             + (" (a zone asking less: its own minimum)" if low else ""),
                             v, "%", _ge(v, 0.99), "plan",
                             ("zones designed below the seed's threshold, judged at their own "
                              "minimum: " + ", ".join(f"{z.name} {z.min_rssi_dbm:g} dBm"
                                                      for z in low)) if low else ""))
    if load is not None and len(load):
        mx = float(load["airtime"].max())
        worst = load.loc[load["airtime"].idxmax(), "ap_id"]
        budgets = sorted(set(load["airtime_budget"].astype(float)))
        over = load.loc[~load["ok"], "ap_id"].tolist()
        out.append(Criterion(f"{P}-airtime", "Airtime of the busiest cell",
                             (f"< {budgets[0]:.0%}" if len(budgets) == 1 else
                              "within the budget of the zones each cell serves")
                             + " with the zones' terminals", mx, "%", not over, "plan",
                             f"busiest: {worst}" + (f"; over budget: {', '.join(over)}"
                                                    if over else "")))
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
                             (f"{AP_POE_W:g} W per AP within each switch's PoE budget"
                              if not any(getattr(a, "model", None) for a in plan.aps) else
                              "each AP's PoE class (its model's) within each switch's PoE "
                              "budget"),
                             float(switches["poe_used_w"].max()), "W max", not bad_w, "plan",
                             ", ".join(bad_w)))
    failed = [c for c in out if c.passed is False
              and c.id.rsplit("-", 1)[-1] in ("cable", "ports", "poe", "wired")]
    site_fix = _site_backhaul_fixes(site, plan) if failed else []
    for c in failed:
        if site_fix:           # even the planner's own assignment cannot serve these APs
            c.impossible = True
            c.detail = "; ".join(x for x in (c.detail, "the site's switches cannot serve "
                                             "these AP positions") if x)
            c.action = "; ".join(site_fix)
        else:
            c.action = ("re-assign switch ports and cable runs: wifiplan plan SITE --plan "
                        "PLAN.yaml keeps locked APs and assigns the rest")
    return out


#: The requirements only some zones ask: the id and name of their criterion.
ASKED_CRITERIA = {"secondary_rssi_dbm": ("secondary", "Secondary signal for roaming"),
                  "min_snr_db": ("noise", "Signal-to-noise ratio"),
                  "min_data_rate_mbps": ("rate", "Minimum data rate"),
                  "channel_overlap_max_aps": ("overlap", "Channel overlap")}


def _asked_value_text(key: str, r) -> str:
    """One zone's value of an asked requirement (``r`` its Requirements)."""
    if key == "channel_overlap_max_aps":
        n = r.channel_overlap_max_aps
        return f"at most {n} AP{'s' if n != 1 else ''} per channel above " \
               f"{r.channel_overlap_dbm:g} dBm"
    if key == "min_snr_db":
        return f">= {r.min_snr_db:g} dB over the noise floor"
    label, unit = LABELS[key]
    return f">= {getattr(r, key):g} {unit}"


def requirement_criteria(site: Site, P: str, metrics: dict, ap_count: int | None = None
                         ) -> list[Criterion]:
    """A criterion per requirement that some zone of the site asks beyond the seed's
    (:data:`wifiplan.evaluation.SHARE_KEYS`, :meth:`wifiplan.requirements.Requirements.asks`):
    the share of the target points of the zones that ask it meeting their zone's value,
    judged against :data:`COVERAGE_TARGET`; not measured when the target has no such point.
    A data rate above the MCS table's top rate is impossible; a secondary signal is not
    measured with a single AP (``ap_count`` 1: the phase-1 trial has no second AP to hear).
    """
    out = []
    for key, (cid, name) in ASKED_CRITERIA.items():
        if not site_asks(site, key):
            continue
        zones = [z for z in site.zones if z.requirements.asks(key)]
        texts = sorted({_asked_value_text(key, z.requirements) for z in zones})
        who = (", ".join(f"zone {z.name}" for z in zones) if len(zones) <= 3 else
               f"the {len(zones)} zones that ask it")
        req = (f">= {COVERAGE_TARGET:.0%} of the target points of {who} with "
               + (LABELS[key][0] + " " + texts[0] if len(texts) == 1 else
                  f"their zone's {LABELS[key][0]}"))
        v = metrics.get(SHARE_KEYS[key])
        per_zone = [f"{z['zone']} {100 * z[SHARE_KEYS[key]]:.1f} %"
                    for z in metrics.get("zones", [])
                    if z.get("in_target") and z.get(SHARE_KEYS[key]) is not None]
        c = Criterion(f"{P}-{cid}", name, req, v, "%", _ge(v, COVERAGE_TARGET), "plan",
                      ("per zone: " + ", ".join(per_zone)) if len(per_zone) > 1 else
                      ("" if v is not None else "no target point lies in a zone that asks it"))
        if key == "secondary_rssi_dbm" and metrics.get("secondary_target_area_m2") is not None:
            c.detail = "; ".join(x for x in (
                c.detail, f"judged where the trial's cells meet "
                          f"({metrics['secondary_target_area_m2']:g} m2 of the trial area: "
                          "the points whose second AP in the full plan is one of the trial's)")
                if x)
        if key == "secondary_rssi_dbm" and ap_count == 1:
            c.passed = None
            c.detail = ("one AP gives no second signal: judged from phase 2 on, where the "
                        "trial's cells meet")
        top = float(MCS_RATE_MBPS.max())
        if key == "min_data_rate_mbps" and any(z.min_data_rate_mbps > top for z in zones):
            c.impossible = c.passed is False
            c.detail = "; ".join(x for x in (c.detail, f"the MCS table's top rate is {top:g} "
                                             "Mb/s (20 MHz, one spatial stream)") if x)
            c.action = "lower the zone's min_data_rate_mbps to a rate of the MCS table"
        out.append(c)
    return out


def _boundary_criterion(P: str, metrics: dict) -> Criterion:
    """The cell boundaries in the seed's band, over the zones judged against it; impossible
    when every boundary point lies in a zone whose own minimum RSSI leaves no room for it."""
    band = metrics["boundary_band_share"]
    conf = metrics.get("boundary_band_conflicts") or {}
    not_judged = int(metrics.get("boundary_points_not_judged") or 0)
    why = "; ".join(band_conflict_lines(conf))
    req = (f">= {BOUNDARY_BAND_TARGET:.0%} of the boundary points (best and second within "
           f"{BOUNDARY_WITHIN_DB:g} dB) of the zones the band applies to")
    name = f"Cell boundaries in the {BOUNDARY_BAND_TEXT} band"
    if band is None and not_judged and conf:
        return Criterion(f"{P}-boundary", name, req, None, "%", False, "plan", why,
                         impossible=True, action="relax the zones' minimum RSSI below "
                         f"{BOUNDARY_BAND_DBM[1]:g} dBm, or set boundary_band: false where "
                         "terminals do not roam")
    if band is None and not_judged:      # the zones with boundaries chose not to be judged
        return Criterion(f"{P}-boundary", name, req, None, "%", None, "plan",
                         "the band does not apply where the cells meet (boundary_band: false)")
    detail = "no cell boundary in the target area" if band is None else (
        f"{not_judged} boundary points not judged ({why})" if not_judged else "")
    passed = _ge(band, BOUNDARY_BAND_TARGET) if band is not None else None
    bp = metrics.get("band_by_power")
    action = ""
    if passed is False and bp:
        trade, action = band_tradeoff(bp, COVERAGE_TARGET)
        detail = "; ".join(x for x in (detail, trade) if x)
    return Criterion(f"{P}-boundary", name, req, band, "%", passed, "plan", detail,
                     action=action)


def _site_backhaul_fixes(site: Site, plan: Plan) -> list[str]:
    """The switches to add when even a fresh assignment to the site's switches cannot serve
    the plan's APs (:func:`wifiplan.backhaul.switch_suggestions`); empty when it can."""
    fresh = assign_backhaul(site, plan.aps)
    return switch_suggestions(fresh, backhaul_summary(site, fresh))


#: What to do next about a failed criterion, by the last part of its id.
ACTIONS = {
    "cells": "install the number of cells the phase asks for (seed 8.1.3.7)",
    "channels": "move the listed APs to a non-DFS channel of the domain",
    "width": "set the listed APs to 20 MHz",
    "eirp": "lower the listed APs' transmit power to the domain's EIRP limit",
    "distinct": "give every cell of the phase its own channel",
    "coverage": "add a cell or raise a neighbouring AP's power where the coverage map shows "
                "holes",
    "snr": "separate same-channel APs (re-plan the channels) or lower their power; see the "
           "SINR map",
    "boundary": "tune the powers so that neighbouring cells meet in the band "
                "(wifiplan plan --plan PLAN.yaml), or add cells where boundaries lie above it",
    "cochannel": "re-assign channels (wifiplan plan --plan PLAN.yaml) or lower the power of "
                 "the same-channel APs",
    "roam": "add a cell or raise power where the best server is below the roaming threshold",
    "airtime": "add a cell near the busiest one (wifiplan plan --respect-capacity)",
    "secondary": "add cells or raise the neighbouring APs' power so that a second AP is "
                 "heard at the zone's secondary level (the planner plans for the primary "
                 "level only)",
    "noise": "add a cell or raise power where the best server is weakest",
    "rate": "separate same-channel APs or add a cell where the SINR map is lowest (the rate "
            "follows the SINR)",
    "overlap": "re-assign channels or lower the power of the same-channel APs heard above "
               "the zone's overlap level",
}


def add_actions(criteria: list[Criterion]) -> list[Criterion]:
    """Fill in what to do next for every failed criterion that says nothing yet."""
    for c in criteria:
        if c.passed is False and not c.action:
            key = c.id.split("-", 1)[1] if "-" in c.id else c.id
            if key.startswith("zone-"):
                c.action = (f"add a cell in zone {key[5:]} or raise a neighbouring AP's "
                            "power")
            elif key.startswith(("survey-", "logs-")):
                c.action = SURVEY_ACTIONS.get(key.split("-", 1)[1], "see the findings")
            else:
                c.action = ACTIONS.get(key, "")
    return criteria


SURVEY_ACTIONS = {
    "coverage": "add a cell or raise power where the measured coverage is short, then survey "
                "again",
    "model": "calibrate the model with this survey (wifiplan survey calibrate) and re-plan",
    "coverage_hole": "add a cell or raise power at the holes listed in the findings",
    "dfs_channel": "move the APs off DFS channels",
    "band_2g4": "switch off the plan APs' 2.4 GHz radios",
    "forbidden_channel": "move the APs to a channel the domain allows",
    "channel_mismatch": "set the APs to their planned channels",
    "width_mismatch": "set the APs to 20 MHz",
    "co_channel": "re-assign channels or lower the power of the same-channel APs",
    "pingpong": "raise the roaming hysteresis or lower the overlapping APs' power",
    "below": "add a cell or raise power where terminals sit below the roaming threshold",
    "sticky": "enable 802.11k/v or a minimum-RSSI kick on the APs",
    "secondary_signal": "add a cell or raise a neighbouring AP's power where no second AP "
                        "reaches the zone's secondary level",
    "low_snr": "add a cell or raise power where the measured SNR is short",
    "low_data_rate": "separate same-channel APs or add a cell where the measured rate is low",
    "channel_overlap": "re-assign channels or lower the power of the APs heard on one "
                       "channel above the zone's overlap level",
}


def _ge(v, threshold) -> bool | None:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return None
    return bool(v >= threshold - 1e-12)


SURVEY_ERROR_KINDS = ("coverage_hole", "dfs_channel", "band_2g4", "forbidden_channel",
                      "channel_mismatch", "width_mismatch", "co_channel")


def survey_criteria(site: Site, plan: Plan, phase: int, rm: RadioMap, target: np.ndarray,
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
        req = zone_min_rssi(site, rm)[iy, ix]
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
    errors: dict[str, int] = {}
    for f in survey.get("findings", []):
        counts[f.get("kind", "?")] = counts.get(f.get("kind", "?"), 0) + 1
        if f.get("severity") == "error":
            errors[f.get("kind", "?")] = errors.get(f.get("kind", "?"), 0) + 1
    # the kinds every survey is judged on, and those of the requirements some zone asks
    kinds = SURVEY_ERROR_KINDS + tuple(REQUIREMENT_KINDS[k] for k in REQUIREMENT_KINDS
                                       if site_asks(site, k))
    for kind in kinds:
        # what the plan must fix fails the phase; the same kind as a warning (a neighbour's
        # AP on a DFS channel, a hole outside every zone) is reported, not failed
        n_err, n_warn = errors.get(kind, 0), counts.get(kind, 0) - errors.get(kind, 0)
        out.append(Criterion(f"{P}-survey-{kind}", f"Survey findings: {kind.replace('_', ' ')}",
                             "none with severity error", n_err, "findings", n_err == 0,
                             "survey", f"{n_warn} warning(s) for the record" if n_warn else ""))
    for kind in sorted(set(counts) - set(kinds)):
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
