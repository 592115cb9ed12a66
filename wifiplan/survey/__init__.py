"""Site surveys: read measurement files, match them to the plan, find violations, calibrate.

One way through (DESIGN.md section 3): survey -> match -> findings / calibration -> a
better radio map.

- :func:`read_survey`: native, WiGLE, wide and mapped CSVs to a tidy frame and metadata.
- :func:`clean_survey`, :func:`aggregate_samples`: the record of every dropped row, and how
  repeated samples are combined.
- :func:`match_survey`: the survey matched to the plan once (a :class:`MatchedSurvey`, which
  the findings, the calibration and the maps take); :func:`match_bssids`: heard BSSID -> plan
  AP (plan, inventory, neighbouring MACs, proposals).
- :func:`check_survey`: the findings document of ``wifiplan survey check``.
- :func:`calibrate`: the model file of ``wifiplan survey calibrate``.
- :func:`measured_map`, :func:`predicted_map`, :func:`residual_map`: maps for display.
"""
from .calibration import calibrate, calibration_data
from .cleaning import aggregate_samples, clean_survey
from .findings import SEVERITIES, check_survey, format_findings_table
from .matching import MatchedSurvey, match_bssids, match_survey, read_inventory
from .measured import (GridMap, measured_map, plot_survey_maps, predicted_map, residual_map,
                       survey_maps)
from .readers import (Georeference, SurveyMeta, fit_georeference, percent_to_dbm, read_georef,
                      read_mapping, read_survey)

__all__ = ["Georeference", "GridMap", "MatchedSurvey", "SEVERITIES", "SurveyMeta",
           "aggregate_samples", "calibrate", "calibration_data", "check_survey", "clean_survey",
           "fit_georeference", "format_findings_table", "match_bssids", "match_survey",
           "measured_map", "percent_to_dbm", "plot_survey_maps", "predicted_map", "read_georef",
           "read_inventory", "read_mapping", "read_survey", "residual_map", "survey_maps"]
