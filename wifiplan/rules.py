"""The seed's rules and the design thresholds, in numbers, once.

Every threshold and limit that the seed (section 8.1.3 of the infrastructure design) and
DESIGN.md sections 2 and 6 set lives here, named and cited; the planner, the evaluation,
the survey findings, the log analysis, the rollout, deploy, the plots and the UI import
them from here (``tests/test_rules.py`` fails when another module defines one of its own).
The regulatory channel sets and EIRP limits are the domains' (:mod:`wifiplan.regulatory`).

Power settings: :func:`tx_power_range_dbm` is the one rule for the transmit power an AP may
use, :func:`combine_power_changes` the one rule for merging several recommended changes of
one AP (the log analysis and the phase-4 rollout both use it).
"""
from __future__ import annotations

import math

# ---- signal levels (seed 8.1.3.5; DESIGN.md sections 2 and 6) -------------------------------

#: Primary coverage a zone needs when it names no ``min_rssi_dbm`` [dBm] (DESIGN.md 6).
DEFAULT_MIN_RSSI_DBM = -67.0
#: Terminals re-scan below this level and roam to the next AP (seed 8.1.3.5) [dBm]: the
#: minimum-RSSI / roaming threshold, and the "second AP" level a roaming terminal needs.
ROAM_THRESHOLD_DBM = -70.0
#: Neighbouring cells overlap where both are between -70 and -65 dBm (seed 8.1.3.5) [dBm].
BOUNDARY_BAND_DBM = (-70.0, -65.0)
#: Best and second server within this much of each other: a cell boundary [dB]
#: ("within a few dB", DESIGN.md 6).
BOUNDARY_WITHIN_DB = 3.0
#: The requirement a zone or a plan may ask for [dBm]: from the noise floor up to a level
#: only a terminal under the AP sees.
MIN_RSSI_RANGE_DBM = (-95.0, -30.0)
#: Same-channel neighbours at least this far below the serving AP [dB] (DESIGN.md 6).
CO_CHANNEL_MIN_SEPARATION_DB = 19.0
#: Signal-to-noise ratio a terminal needs [dB] (DESIGN.md 6) ...
MIN_SNR_DB = 25.0
#: ... over this noise floor, 20 MHz [dBm] (DESIGN.md 6).
NOISE_FLOOR_DBM = -95.0

#: Acceptance: the share of the cell-boundary points that must lie in the band.
BOUNDARY_BAND_TARGET = 0.5
#: The band as the reports write it: "-65..-70 dBm".
BOUNDARY_BAND_TEXT = f"{BOUNDARY_BAND_DBM[1]:g}..{BOUNDARY_BAND_DBM[0]:g} dBm"

# ---- coverage, airtime, cabling ----------------------------------------------------------

#: A zone with less than this share of its points at its minimum RSSI is uncovered.
ZONE_COVERAGE_TARGET = 0.99
#: Acceptance (the phase reports): the share of the target area that must meet a per-point
#: requirement (SNR, SINR, the roaming threshold).
COVERAGE_TARGET = 0.95
#: Airtime a cell may use (DESIGN.md 6: "airtime use under 50 %").
AIRTIME_BUDGET = 0.5
#: Longest permanent copper link [m] (ISO/IEC 11801-1, TIA-568.2-D: a 100 m channel is
#: 90 m of permanent link plus 10 m of patch cords).
MAX_PERMANENT_LINK_M = 90.0

# ---- transmit power ------------------------------------------------------------------------

#: Lowest setting of a small enterprise AP [dBm].
MIN_TX_POWER_DBM = 1.0
#: Highest 5 GHz conducted power of a small AP [dBm] (seed 8.1.3.5: low power, small cells).
MAX_TX_POWER_DBM = 20.0
#: One round of phase-4 tuning raises an AP by at most this much [dB]: a hole that needs
#: more needs another cell or a moved AP, not a louder one.
MAX_POWER_RAISE_DB = 3.0
#: ... and lowers it by at most this much [dB] (interference is fixed first).
MAX_POWER_CUT_DB = 6.0


def tx_power_range_dbm(domain, channel: int, ap_gain_dbi: float,
                       max_tx_power_dbm: float = MAX_TX_POWER_DBM) -> tuple[float, float]:
    """(lowest, highest) transmit power [dBm] an AP on ``channel`` may use, in whole dB:
    from :data:`MIN_TX_POWER_DBM` to the smallest of :data:`MAX_TX_POWER_DBM`, the AP
    model's ``max_tx_power_dbm`` and the domain's maximum EIRP for the channel less the
    antenna's peak gain (EIRP = tx + gain); where the domain allows less than the hardware
    minimum, that (lower) maximum alone. ``domain``: a :class:`wifiplan.regulatory.Domain`."""
    eirp = domain.max_eirp_dbm(int(channel))
    hi = float(math.floor(min(MAX_TX_POWER_DBM, max_tx_power_dbm, eirp - ap_gain_dbi) + 1e-9))
    lo = float(math.ceil(MIN_TX_POWER_DBM))
    if hi < lo:                       # the domain allows less than the hardware minimum
        return hi, hi
    return lo, hi


def combine_power_changes(deltas_db) -> float:
    """One power change [dB] from several recommended for one AP: the reductions win over
    raises (interference first) and the largest of them is taken, at most
    :data:`MAX_POWER_CUT_DB`; without reductions the largest raise, at most
    :data:`MAX_POWER_RAISE_DB`; 0 for none."""
    ds = [float(d) for d in deltas_db if d is not None and math.isfinite(float(d))]
    downs = [d for d in ds if d < 0]
    if downs:
        return max(min(downs), -MAX_POWER_CUT_DB)
    ups = [d for d in ds if d > 0]
    return min(max(ups), MAX_POWER_RAISE_DB) if ups else 0.0


def clip_tx_power_dbm(domain, channel: int, ap_gain_dbi: float, tx_dbm: float) -> float:
    """``tx_dbm`` held inside :func:`tx_power_range_dbm`."""
    lo, hi = tx_power_range_dbm(domain, channel, ap_gain_dbi)
    return float(min(max(tx_dbm, lo), hi))
