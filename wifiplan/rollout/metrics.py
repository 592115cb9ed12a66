"""The figures of a plan's radio map over a phase's target area and per zone.

:func:`plan_metrics` and the two grids it measures against: the points where coverage is
required (:func:`required_mask`) and the RSSI each point requires (:func:`zone_min_rssi`).
"""
from __future__ import annotations

import numpy as np

from ..site import Site
from ..evaluation import SHARE_KEYS, figures_at, required_points
from ..radio.radiomap import RadioMap
from ..rules import DEFAULT_MIN_RSSI_DBM, ROAM_THRESHOLD_DBM


def required_mask(site: Site, rm: RadioMap) -> np.ndarray:
    """The points where coverage is required, as the evaluation defines them (zone points
    outside obstacle footprints: :func:`wifiplan.evaluation.required_points`)."""
    m = required_points(site, rm.resolution_m).mask
    return np.asarray(m() if callable(m) else m, bool)


def zone_min_rssi(site: Site, rm: RadioMap) -> np.ndarray:
    """(ny, nx) the requirement at each point: its zone's min RSSI, else the design -67."""
    req = np.full(rm.best_rssi_dbm.shape, DEFAULT_MIN_RSSI_DBM, float)
    for k, z in enumerate(site.zones):
        req[rm.zone_index == k] = z.min_rssi_dbm
    return req


def plan_metrics(site: Site, rm: RadioMap, target: np.ndarray,
                 required: np.ndarray | None = None,
                 secondary_target: np.ndarray | None = None) -> dict:
    """Figures of a radio map over a target mask (a part of the required points), and per
    zone over the zone's required points (``required``: default the evaluation's required
    points): the evaluation's :func:`~wifiplan.evaluation.figures_at` on those points.
    ``secondary_target``: where the secondary signal a zone asks is judged, when not over
    the whole target (a trial's cells give a second AP only where they meet:
    :func:`~wifiplan.rollout.phases.trial_meeting_area`)."""
    if required is None:
        required = required_mask(site, rm)
    req = zone_min_rssi(site, rm)
    zi = rm.zone_index

    def figures(mask):
        iy, ix = np.nonzero(mask)
        return figures_at(site, rm, iy, ix, req[iy, ix], zi[iy, ix])

    f = figures(target)
    m = {
        "ap_count": len(rm.aps),
        "target_points": f.points,
        "target_area_m2": float(f.points * rm.resolution_m ** 2),
        **{k: getattr(f, k) for k in (
            "primary_coverage", "coverage_at_roam_threshold", "snr_ok_share", "sinr_ok_share",
            "sinr_p5_db", "boundary_points", "boundary_points_not_judged")},
        "boundary_band_conflicts": {
            z.name: why for k, z in enumerate(site.zones)
            if (why := z.requirements.boundary_band_conflict()) is not None
            and (rm.boundary_mask() & target & (zi == k)).any()},
        **{k: getattr(f, k) for k in (
            "boundary_band_share", "secondary_coverage", "co_channel_separation_min_db",
            "co_channel_separation_p5_db", "co_channel_margin_p5_db", "best_rssi_p5_dbm",
            "best_rssi_median_dbm", "band_by_power")},
        # the requirements only some zones ask (SHARE_KEYS), where the target has their points
        **{SHARE_KEYS[k]: f.share(k) for k in f.checks},
        "cell_area_m2": {a.id: float(v) for a, v in
                         zip(rm.aps, rm.cell_area_m2(ROAM_THRESHOLD_DBM))},
    }
    if secondary_target is not None and "secondary_rssi_dbm" in f.checks:
        fs = figures(secondary_target)
        m[SHARE_KEYS["secondary_rssi_dbm"]] = fs.share("secondary_rssi_dbm")
        m["secondary_target_area_m2"] = float(fs.points * rm.resolution_m ** 2)
    zones = []
    for k, z in enumerate(site.zones):
        zsel = (zi == k) & required
        fz = figures(zsel)
        zones.append({"zone": z.name, "area_m2": float(fz.points * rm.resolution_m ** 2),
                      "terminals": int(z.terminal_count), "min_rssi_dbm": float(z.min_rssi_dbm),
                      "min_sinr_db": float(z.min_sinr_db),
                      "coverage": fz.primary_coverage, "rssi_p5_dbm": fz.best_rssi_p5_dbm,
                      "in_target": bool((zsel & target).any()),
                      **{SHARE_KEYS[k]: fz.share(k) for k in fz.checks}})
    m["zones"] = zones
    return m
