"""The thresholds of the log analysis (defaults of :func:`wifiplan.logs.analyze_logs`).

The analysis takes each as a parameter and lists the ones it used in its report
(``thresholds``); the power recommendations and the simulator's planted sticky terminal use
:data:`STICKY_RSSI_DBM` as well. The roaming threshold is the seed's
(:data:`wifiplan.rules.ROAM_THRESHOLD_DBM`).
"""

STICKY_RSSI_DBM = -75.0
STICKY_MARGIN_DB = 6.0
STICKY_MIN_S = 10.0
SCAN_MAX_AGE_S = 5.0
PING_PONG_WINDOW_S = 10.0
MAX_SAMPLE_GAP_S = 30.0
