"""The assessment of one phase: :func:`assess_phase` computes everything a phase report
shows into a :class:`PhaseAssessment`, with the survey and log summaries it judges."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..site import Site
from ..capacity import cell_load
from ..errors import InputError
from ..evaluation import evaluate_plan
from ..logs import analyze_logs
from ..plan import Plan, check_plan_against_site
from ..radio.propagation import PropagationModel
from ..radio.radiomap import RadioMap, compute_radiomap
from ..survey import MatchedSurvey, check_survey, match_survey, read_survey
from .bom import ap_config_sheet, bill_of_materials, cable_runs, switch_usage
from .criteria import Criterion, add_actions, logs_criteria, plan_criteria, survey_criteria
from .fieldwork import concurrent_test, measurement_plan, walk_routes
from .metrics import plan_metrics
from .operations import logging_table, operations_checklist, power_adjustments, thresholds_table
from .phases import (PHASES, TRIAL_RADIUS_M, Phase, on_site, pilot_zone, resolve_phase_plan,
                     target_area, trial_meeting_area, trial_site)
from .roaming import phase_roaming


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
    roaming: dict | None = None          # phases 2-4: rollout.roaming.phase_roaming
    notes: list[str] = field(default_factory=list)
    inputs: dict = field(default_factory=dict)
    report_date: str = ""                # YYYY-MM-DD, set by wifiplan.report.assess

    @property
    def passed(self) -> bool:
        """True when no judged criterion failed (criteria not measured do not count)."""
        return all(c.passed is not False for c in self.criteria)

    def criteria_frame(self) -> pd.DataFrame:
        return pd.DataFrame([c.to_dict() for c in self.criteria])


def survey_summary(site: Site, plan: Plan, survey, rm: RadioMap, model=None,
                   inventory=None) -> dict:
    """Read (``survey``: a path, or the ``(frame, meta)`` that :func:`read_survey` returned),
    match once and check a survey against the plan (:mod:`wifiplan.survey`), and the
    measured best plan-AP RSSI per surveyed point beside the prediction there."""
    frame, meta = survey if isinstance(survey, tuple) else read_survey(survey)
    ms = match_survey(site, plan, frame, model=model, inventory=inventory)
    res = check_survey(site, plan, ms, meta)
    out = {"path": Path(str(meta.source)).name, "summary": res.get("summary", {}),
           "findings": list(res.get("findings", [])),
           "rejected_rows": list(res.get("rejected_rows", []))}
    out["points"] = _measured_points(plan, ms, rm)
    return out


def _measured_points(plan: Plan, ms: MatchedSurvey, rm: RadioMap) -> pd.DataFrame | None:
    """Per surveyed point: the strongest plan AP measured on 5 GHz, and its prediction there
    (rows matched to a plan AP for a fact: proposals do not count)."""
    df = ms.frame
    if not len(df):
        return None
    ch = pd.to_numeric(df["channel"], errors="coerce")
    df = df[(ch.isna() | (ch >= 32)).to_numpy()
            & ~df["match"].isin(["proposed", "neighbour-measured"]).to_numpy()]
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


def assess_phase(site: Site, phase: int, plan: Plan | None = None, *, model=None, survey=None,
                 logs=None, resolution_m: float = 1.0, pilot: str | None = None,
                 trial_radius_m: float = TRIAL_RADIUS_M, full_rm: RadioMap | None = None,
                 full_plan: Plan | None = None, inventory=None, planner=None
                 ) -> PhaseAssessment:
    """Everything a phase report shows, computed from the library.

    Parameters
    ----------
    site : Site
    phase : 1..4 (seed 8.1.3.7)
    plan : the site's plan; None: ``full_plan``, or ``planner`` plans it
    model : PropagationModel (calibrated or the site's own); None: the site's
    survey : path of a survey CSV, or the ``(frame, meta)`` of :func:`read_survey` (checked
        with :mod:`wifiplan.survey`), optional
    logs : path of terminal logs (phase 4, :mod:`wifiplan.logs`), optional
    inventory : installed BSSIDs (CSV ``ap_id,bssid``) to match the survey with, optional
    resolution_m : grid step of the radio maps [m]
    pilot : name of the pilot zone for phases 1-2 (default :func:`pilot_zone`)
    full_rm : the radio map of the full plan, when the caller already has it
    full_plan : the planner's full plan, when the caller already has it (``plan`` None)
    planner : the caller's planner (:func:`wifiplan.planning.plan_site`) for a missing plan
        or a phase that needs more cells than the plan has; None: the rollout plans nothing
    """
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
                                                          resolution_m, full_rm, full_plan,
                                                          planner)
    if not phase_plan.aps:
        raise InputError("the plan has no APs", source=phase_plan.source)
    check_plan_against_site(phase_plan, site)
    if full_rm is not None and [a.id for a in full_rm.aps] == phase_plan.ids and \
            full_rm.resolution_m == resolution_m and full_rm.model == model:
        rm = full_rm
    elif full_rm is not None and full_rm.resolution_m == resolution_m and \
            full_rm.model == model:
        rm = full_rm.with_aps(phase_plan.aps)
    else:
        rm = compute_radiomap(site, phase_plan.aps, resolution_m=resolution_m, model=model)
    target, label = target_area(site, rm, phase, pz, full_rm)
    meet = trial_meeting_area(rm, target, full_rm) if phase == 2 else None
    metrics = plan_metrics(site, rm, target, secondary_target=meet)
    evaluation = evaluate_plan(site, phase_plan, model=model, resolution_m=resolution_m,
                               radiomap=rm)
    runs = cable_runs(site, phase_plan, evaluation)
    sw = switch_usage(site, phase_plan)
    bom = bill_of_materials(site, phase_plan, runs, sw)
    load_site = site if phase >= 3 else trial_site(site, pz, phase_plan.aps, trial_radius_m)
    load = cell_load(load_site, on_site(rm, load_site)) if site.zones else None
    criteria = plan_criteria(site, phase_plan, phase, rm, metrics, runs, sw, load,
                             design_aps=len(full.aps) if full is not None else None)
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
        a.survey = survey_summary(site, phase_plan, survey, rm, model, inventory)
        a.criteria += survey_criteria(site, phase_plan, phase, rm, target, a.survey)
    if logs is not None:
        if phase != 4:
            a.notes.append("Terminal logs are analysed in the phase-4 report only.")
        else:
            a.logs = logs_summary(logs, phase_plan)
            a.criteria += logs_criteria(phase, a.logs)
    if phase >= 2:
        a.roaming = phase_roaming(site, phase_plan, model, rm, target, a.logs)
    add_actions(a.criteria)
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
