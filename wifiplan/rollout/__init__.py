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
:mod:`wifiplan.rules`; the acceptance shares (95 % of the target area) are stated in
:mod:`wifiplan.rollout.criteria`.

One concept per module, each importing only from those listed above it:

- :mod:`~wifiplan.rollout.metrics`: :func:`plan_metrics`, the figures of a radio map over a
  target area and per zone, with the required points and the per-point requirement;
- :mod:`~wifiplan.rollout.phases`: :class:`Phase`, :data:`PHASES` and the seed's comparison
  of wireless approaches (:data:`APPROACH_COLUMNS`, :data:`WIRELESS_APPROACHES`); the pilot
  zone (:func:`pilot_zone`), the APs of a phase (:func:`phase2_cell_count`,
  :func:`select_phase_aps`), the plan of a phase (:func:`resolve_phase_plan`), the target
  area (:func:`target_area`, :data:`TRIAL_RADIUS_M`) and the trial site (:func:`trial_site`);
- :mod:`~wifiplan.rollout.criteria`: the acceptance shares (:data:`COVERAGE_TARGET`,
  :data:`BOUNDARY_BAND_TARGET`, :data:`MODEL_TOLERANCE_DB`), :class:`Criterion` and the
  criteria on the plan, a survey and logs (:func:`plan_criteria`, :func:`survey_criteria`,
  :data:`SURVEY_ERROR_KINDS`, :func:`logs_criteria`);
- :mod:`~wifiplan.rollout.bom`: what a phase installs: :func:`cable_runs`,
  :func:`switch_usage`, :func:`bill_of_materials` and the AP configuration sheet
  (:func:`ap_config_sheet`, :data:`SSID_POLICY`);
- :mod:`~wifiplan.rollout.fieldwork`: the measurement plan and instructions
  (:func:`measurement_plan`, :func:`measurement_instructions`), the concurrent-connection test
  (:func:`concurrent_test`) and the roaming walk tests (:func:`walk_routes`,
  :data:`WALK_TEST_PASS`);
- :mod:`~wifiplan.rollout.operations`: phase 4 and seed 8.1.3.6: :func:`thresholds_table`,
  :func:`logging_table`, :func:`power_adjustments`, :func:`operations_checklist`
  (:data:`OPERATIONS_STEPS`, :data:`ROAMING_HANDLING`);
- :mod:`~wifiplan.rollout.assessment`: :class:`PhaseAssessment`, :func:`survey_summary`,
  :func:`logs_summary` and :func:`assess_phase`.

Every name listed here is re-exported, so ``from wifiplan.rollout import X`` works for all
of them (and for :data:`~wifiplan.rules.ROAM_THRESHOLD_DBM`, which the report reads here).
"""
from ..rules import ROAM_THRESHOLD_DBM
from .assessment import PhaseAssessment, assess_phase, logs_summary, survey_summary
from .bom import SSID_POLICY, ap_config_sheet, bill_of_materials, cable_runs, switch_usage
from .criteria import (BOUNDARY_BAND_TARGET, COVERAGE_TARGET, MODEL_TOLERANCE_DB,
                       SURVEY_ERROR_KINDS, Criterion, logs_criteria, plan_criteria,
                       survey_criteria)
from .fieldwork import (WALK_TEST_PASS, concurrent_test, measurement_instructions,
                        measurement_plan, walk_routes)
from .metrics import plan_metrics
from .operations import (OPERATIONS_STEPS, ROAMING_HANDLING, logging_table,
                         operations_checklist, power_adjustments, thresholds_table)
from .phases import (APPROACH_COLUMNS, PHASES, TRIAL_RADIUS_M, WIRELESS_APPROACHES, Phase,
                     phase2_cell_count, pilot_zone, resolve_phase_plan, select_phase_aps,
                     target_area, trial_site)

__all__ = [
    # phases
    "Phase", "PHASES", "APPROACH_COLUMNS", "WIRELESS_APPROACHES", "TRIAL_RADIUS_M",
    "pilot_zone", "phase2_cell_count", "select_phase_aps", "resolve_phase_plan", "target_area",
    "trial_site",
    # metrics
    "plan_metrics",
    # criteria
    "COVERAGE_TARGET", "BOUNDARY_BAND_TARGET", "MODEL_TOLERANCE_DB", "SURVEY_ERROR_KINDS",
    "Criterion", "plan_criteria", "survey_criteria", "logs_criteria",
    # bom
    "SSID_POLICY", "cable_runs", "switch_usage", "bill_of_materials", "ap_config_sheet",
    # fieldwork
    "WALK_TEST_PASS", "measurement_plan", "measurement_instructions", "concurrent_test",
    "walk_routes",
    # operations
    "OPERATIONS_STEPS", "ROAMING_HANDLING", "thresholds_table", "logging_table",
    "power_adjustments", "operations_checklist",
    # assessment
    "PhaseAssessment", "survey_summary", "logs_summary", "assess_phase",
    # the rule the report reads from here
    "ROAM_THRESHOLD_DBM",
]
