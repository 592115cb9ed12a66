"""The figures of a plan's radio map over a phase's target area and per zone.

:func:`plan_metrics` and the two grids it measures against: the points where coverage is
required (:func:`required_mask`) and the RSSI each point requires (:func:`zone_min_rssi`).
"""
from __future__ import annotations

import numpy as np

from ..evaluation import co_channel_separation_p5_db, required_points
from ..radio.radiomap import RadioMap
from ..requirements import band_judged, per_point
from ..rules import BOUNDARY_BAND_DBM, DEFAULT_MIN_RSSI_DBM, MIN_SNR_DB, ROAM_THRESHOLD_DBM


def required_mask(site, rm: RadioMap) -> np.ndarray:
    """The points where coverage is required, as the evaluation defines them (zone points
    outside obstacle footprints: :func:`wifiplan.evaluation.required_points`)."""
    m = required_points(site, rm.resolution_m).mask
    return np.asarray(m() if callable(m) else m, bool)


def zone_min_rssi(site, rm: RadioMap) -> np.ndarray:
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
        required = required_mask(site, rm)
    best = rm.best_rssi_dbm
    req = zone_min_rssi(site, rm)
    judged = band_judged(site, rm.zone_index)
    bnd_all = rm.boundary_mask() & target
    bnd = bnd_all & judged
    lo, hi = BOUNDARY_BAND_DBM
    sep = rm.co_channel_separation_db[target].astype(float)
    sep_f = sep[np.isfinite(sep)]
    sep_p5 = co_channel_separation_p5_db(sep)     # the evaluation's rule
    # each point against its zone's own separation: the percentile of the margin
    margin_p5 = co_channel_separation_p5_db(
        sep - per_point(site, rm.zone_index[target], "co_channel_separation_db"))
    cov = best >= req
    m = {
        "ap_count": len(rm.aps),
        "target_points": int(target.sum()),
        "target_area_m2": float(target.sum() * rm.resolution_m ** 2),
        "primary_coverage": _share(cov, target),
        "coverage_at_roam_threshold": _share(best >= ROAM_THRESHOLD_DBM, target),
        "snr_ok_share": _share(rm.snr_db >= MIN_SNR_DB, target),
        "sinr_ok_share": _share(rm.sinr_db >= per_point(site, rm.zone_index, "min_sinr_db")
                                - 1e-6, target),
        "sinr_p5_db": float(np.percentile(rm.sinr_db[target], 5)) if target.any() else None,
        "boundary_points": int(bnd.sum()),
        "boundary_points_not_judged": int((bnd_all & ~judged).sum()),
        "boundary_band_conflicts": {
            z.name: why for k, z in enumerate(site.zones)
            if (why := z.requirements.boundary_band_conflict()) is not None
            and (bnd_all & (rm.zone_index == k)).any()},
        "boundary_band_share": (float(((best >= lo) & (best <= hi) & bnd).sum() / bnd.sum())
                                if bnd.any() else None),
        "secondary_coverage": _share(np.nan_to_num(rm.second_rssi_dbm, nan=-999)
                                     >= ROAM_THRESHOLD_DBM, target),
        "co_channel_separation_min_db": float(sep_f.min()) if len(sep_f) else None,
        "co_channel_separation_p5_db": sep_p5,
        "co_channel_margin_p5_db": margin_p5,
        "best_rssi_p5_dbm": float(np.percentile(best[target], 5)) if target.any() else None,
        "best_rssi_median_dbm": float(np.median(best[target])) if target.any() else None,
        "cell_area_m2": {a.id: float(v) for a, v in
                         zip(rm.aps, rm.cell_area_m2(ROAM_THRESHOLD_DBM))},
    }
    zones = []
    for k, z in enumerate(site.zones):
        zsel = (rm.zone_index == k) & required
        zones.append({"zone": z.name, "area_m2": float(zsel.sum() * rm.resolution_m ** 2),
                      "terminals": int(z.terminal_count), "min_rssi_dbm": float(z.min_rssi_dbm),
                      "min_sinr_db": float(z.min_sinr_db),
                      "coverage": _share(cov, zsel),
                      "rssi_p5_dbm": (float(np.percentile(best[zsel], 5)) if zsel.any()
                                      else None),
                      "in_target": bool((zsel & target).any())})
    m["zones"] = zones
    return m
