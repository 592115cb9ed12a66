"""Phase-4 log analysis (seed 8.1.3.7): roams, ping-pong, weak signal, sticky clients, power.

One concept per module, each importing only from those listed above it:

- :mod:`~wifiplan.logs.reader`: the terminal log's format (CSV columns, encodings,
  timestamps), reading and checking a log (:func:`read_log`, bad rows with line and reason,
  :data:`REQUIRED`, :data:`OPTIONAL`, :data:`MAX_LOG_BYTES`, :data:`MAX_LISTED_BAD_ROWS`)
  and the time spelling of the reports and logs (:func:`~wifiplan.logs.reader.iso_time`);
- :mod:`~wifiplan.logs.thresholds`: the thresholds of the analysis (:data:`STICKY_RSSI_DBM`,
  :data:`STICKY_MARGIN_DB`, :data:`STICKY_MIN_S`, :data:`SCAN_MAX_AGE_S`,
  :data:`PING_PONG_WINDOW_S`, :data:`MAX_SAMPLE_GAP_S`);
- :mod:`~wifiplan.logs.recommendations`: the power changes and settings per AP of the plan
  (:func:`recommend`, :data:`PING_PONG_MIN`, :data:`WEAK_FRACTION`, :data:`MIN_AP_TIME_S`),
  within the allowed power range of the plan's domain;
- :mod:`~wifiplan.logs.analysis`: the analysis (:func:`analyze_logs`: time below the roaming
  threshold, roams, ping-pong, sticky clients, then the recommendations) and the number of
  its findings (:func:`findings`);
- :mod:`~wifiplan.logs.simulate`: a terminal-log simulator for samples and tests
  (:func:`simulate_log`, :func:`log_to_csv`).

Every name listed here is re-exported, so ``from wifiplan.logs import X`` works for all of
them (except :func:`~wifiplan.logs.reader.iso_time`, imported from its module).
"""
from .analysis import analyze_logs, findings
from .reader import MAX_LISTED_BAD_ROWS, MAX_LOG_BYTES, OPTIONAL, REQUIRED, read_log
from .recommendations import MIN_AP_TIME_S, PING_PONG_MIN, WEAK_FRACTION, recommend
from .simulate import log_to_csv, simulate_log
from .thresholds import (MAX_SAMPLE_GAP_S, PING_PONG_WINDOW_S, SCAN_MAX_AGE_S, STICKY_MARGIN_DB,
                         STICKY_MIN_S, STICKY_RSSI_DBM)

__all__ = [
    # reader
    "read_log", "REQUIRED", "OPTIONAL", "MAX_LOG_BYTES", "MAX_LISTED_BAD_ROWS",
    # thresholds
    "STICKY_RSSI_DBM", "STICKY_MARGIN_DB", "STICKY_MIN_S", "SCAN_MAX_AGE_S",
    "PING_PONG_WINDOW_S", "MAX_SAMPLE_GAP_S",
    # recommendations
    "recommend", "PING_PONG_MIN", "WEAK_FRACTION", "MIN_AP_TIME_S",
    # analysis
    "analyze_logs", "findings",
    # simulate
    "simulate_log", "log_to_csv",
]
