"""Calibration: fit the propagation model of a building to its survey.

Model (DESIGN.md section 6, log-distance law of Rappaport eq. 4.68)::

    rssi_dbm = tx_power_dbm + ap_gain_dbi + client_gain_dbi + offset_ap
               - (pl0_db + 10 n log10(d3D / 1 m) + 20 log10(f / 5500 MHz))
               - sum_m loss_m * crossings_m

with the crossings per material counted by the same penetration rule as every prediction
(:func:`wifiplan.propagation.penetration_points` with ``by_material=True``). The unknowns
(``pl0_db``, the exponent ``n``, the losses of the materials crossed often enough, and
optionally one offset per AP, held to a zero mean so that they do not trade with ``pl0_db``)
enter linearly; they are fitted by robust least squares (``scipy.optimize.least_squares``
with ``loss="soft_l1"``), which down-weights the few measurements a person, a forklift or a
mis-matched BSSID spoils. The result is judged by k-fold cross-validation over survey
*points* (all APs of a point in the same fold): RMSE of measured - predicted on held-out
points, before (the site's own model) and after.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import InputError

FREQ_REF_MHZ = 5500.0
MIN_CROSSINGS = 20          # a material crossed by fewer observations keeps its library value
SOFT_L1_SCALE_DB = 3.0      # soft-L1 knee: residuals beyond about this count linearly
BOUNDS = {"pl0_db": (0.0, 100.0), "exponent": (1.0, 6.0), "loss": (0.0, 60.0),
          "offset": (-30.0, 30.0)}
OFFSET_SUM_WEIGHT = 10.0


def calibration_data(site, plan, frame: pd.DataFrame, *, model=None, inventory=None) -> dict:
    """Observations for the fit: one per (plan AP, survey point) on 5 GHz.

    Returns arrays ``ap`` (index into plan.aps), ``point``, ``rssi_dbm``, ``tx_dbm``,
    ``d3_m``, ``freq_mhz``, ``crossings`` (n_obs, n_materials) and ``materials`` (names).
    """
    from ..propagation import Geometry, PropagationModel, penetration_points
    from .cleaning import aggregate_samples
    from .findings import band_of_rows
    from .matching import attach_ap_ids, match_bssids, point_index
    if not isinstance(model, PropagationModel):
        model = PropagationModel.for_site(site, model)
    frame, _ = aggregate_samples(frame)
    pts, pidx = point_index(frame)
    matches = match_bssids(site, plan, frame, inventory=inventory, model=model)
    f = attach_ap_ids(frame, matches)
    f["_pt"] = pidx
    f = f[f["ap_id"].notna().to_numpy() & (band_of_rows(f) == "5")]
    if not len(f):
        raise InputError("no survey measurement matches a plan AP on 5 GHz: nothing to "
                         "calibrate (check the BSSIDs in the plan or give --inventory)")
    f = f.assign(_f=5000.0 + 5.0 * f["channel"].to_numpy(float))
    # one observation per AP and point: several SSIDs of one radio are one signal
    obs = f.groupby(["ap_id", "_pt"], sort=True).agg(rssi_dbm=("rssi_dbm", "mean"),
                                                     freq_mhz=("_f", "first")).reset_index()
    pos = {a.id: k for k, a in enumerate(plan.aps)}
    ap = obs["ap_id"].map(pos).to_numpy(int)
    pt = obs["_pt"].to_numpy(int)
    geom = Geometry.from_site(site, model.material_losses)
    n_mat = len(geom.materials)
    cross = np.zeros((len(obs), n_mat))
    d3 = np.zeros(len(obs))
    for k in np.unique(ap):
        a = plan.aps[k]
        sel = np.flatnonzero(ap == k)
        px, py = pts[pt[sel], 0], pts[pt[sel], 1]
        if n_mat:
            cross[sel] = penetration_points(geom, (a.x_m, a.y_m, a.height_m), px, py,
                                            model.client_height_m, by_material=True).T
        d3[sel] = np.sqrt((px - a.x_m) ** 2 + (py - a.y_m) ** 2
                          + (a.height_m - model.client_height_m) ** 2)
    return {"ap": ap, "point": pt, "rssi_dbm": obs["rssi_dbm"].to_numpy(float),
            "tx_dbm": np.array([plan.aps[k].tx_power_dbm for k in ap], float),
            "d3_m": d3, "freq_mhz": obs["freq_mhz"].to_numpy(float), "crossings": cross,
            "materials": list(geom.materials), "points_xy": pts, "model": model}


def _predict_base(data, model, plan) -> np.ndarray:
    """Prediction of the un-calibrated model at the observations [dBm]."""
    losses = np.array([model.material_losses[m] for m in data["materials"]], float)
    off = np.array([model.ap_offsets_db.get(plan.aps[k].id, 0.0) for k in data["ap"]])
    return (data["tx_dbm"] + model.ap_gain_dbi + model.client_gain_dbi + off
            - model.path_loss_db(data["d3_m"], data["freq_mhz"])
            - (data["crossings"] @ losses if len(losses) else 0.0))


def _design(data, fit_mats, fit_ap_offsets, n_ap, fixed_losses, base_offsets):
    """Linear system rssi = A @ theta + b."""
    d = np.maximum(data["d3_m"], 1.0)
    n = len(d)
    cols = [-np.ones(n), -10.0 * np.log10(d)]
    cols += [-data["crossings"][:, j] for j in fit_mats]
    A = np.column_stack(cols)
    if fit_ap_offsets:
        onehot = np.zeros((n, n_ap))
        onehot[np.arange(n), data["ap"]] = 1.0
        A = np.hstack([A, onehot])
    fixed = [j for j in range(data["crossings"].shape[1]) if j not in fit_mats]
    b = (data["tx_dbm"] + data["g_dbi"] - 20.0 * np.log10(data["freq_mhz"] / FREQ_REF_MHZ)
         - (data["crossings"][:, fixed] @ fixed_losses[fixed] if fixed else 0.0))
    if not fit_ap_offsets:
        b = b + base_offsets
    return A, b


def _fit(A, b, y, n_fixed_head, n_mats, n_off, x0):
    from scipy.optimize import least_squares
    lo = [BOUNDS["pl0_db"][0], BOUNDS["exponent"][0]] + [BOUNDS["loss"][0]] * n_mats \
        + [BOUNDS["offset"][0]] * n_off
    hi = [BOUNDS["pl0_db"][1], BOUNDS["exponent"][1]] + [BOUNDS["loss"][1]] * n_mats \
        + [BOUNDS["offset"][1]] * n_off
    Aw = A
    yw = y - b
    if n_off:
        # soft constraint: offsets sum to zero (otherwise they trade with pl0_db)
        row = np.zeros(A.shape[1])
        row[n_fixed_head + n_mats:] = OFFSET_SUM_WEIGHT
        Aw = np.vstack([A, row])
        yw = np.append(yw, 0.0)
    x0 = np.clip(x0, np.array(lo) + 1e-9, np.array(hi) - 1e-9)
    res = least_squares(lambda t: Aw @ t - yw, x0, jac=lambda t: Aw, bounds=(lo, hi),
                        loss="soft_l1", f_scale=SOFT_L1_SCALE_DB, method="trf")
    return res.x


def calibrate(site, plan, frame: pd.DataFrame, *, fit_materials: bool = True,
              fit_ap_offsets: bool = False, folds: int = 5, seed: int = 0, model=None,
              inventory=None):
    """Fit a log-distance law, material losses and optional per-AP offsets to a survey.

    Returns ``(PropagationModel, report)``; save the model with
    :func:`wifiplan.propagation.save_model_file` and pass it to ``--model``. The report has
    the fitted values, the material losses before and after, and the k-fold cross-validated
    RMSE [dB] before (``model``, default the site's own) and after.
    """
    from ..propagation import PropagationModel
    base = model if isinstance(model, PropagationModel) else PropagationModel.for_site(site, model)
    data = calibration_data(site, plan, frame, model=base, inventory=inventory)
    data["g_dbi"] = base.ap_gain_dbi + base.client_gain_dbi
    mats = data["materials"]
    cross = data["crossings"]
    n_obs = len(data["rssi_dbm"])
    n_cross = (cross > 0).sum(axis=0) if len(mats) else np.zeros(0, int)
    fit_mats = [j for j in range(len(mats)) if fit_materials and n_cross[j] >= MIN_CROSSINGS]
    base_losses = np.array([base.material_losses[m] for m in mats], float)
    base_offsets = np.array([base.ap_offsets_db.get(plan.aps[k].id, 0.0) for k in data["ap"]])
    n_ap = len(plan.aps)
    n_off = n_ap if fit_ap_offsets else 0
    if n_obs < 2 + len(fit_mats) + n_off + 5:
        raise InputError(f"too few matched measurements to calibrate ({n_obs}); survey more "
                         f"points")
    folds = int(folds)
    if folds < 2:
        raise InputError(f"--folds must be at least 2, got {folds}")
    A, b = _design(data, fit_mats, fit_ap_offsets, n_ap, base_losses, base_offsets)
    y = data["rssi_dbm"]
    x0 = np.concatenate([[46.7, 2.2], base_losses[fit_mats], np.zeros(n_off)])
    theta = _fit(A, b, y, 2, len(fit_mats), n_off, x0)
    fit_res = y - (A @ theta + b)

    # k-fold cross-validation over points
    pred_before = _predict_base(data, base, plan)
    upts = np.unique(data["point"])
    folds = min(folds, len(upts))
    rng = np.random.default_rng(seed)
    fold_of_pt = np.empty(upts.max() + 1, int)
    fold_of_pt[rng.permutation(upts)] = np.arange(len(upts)) % folds
    fold = fold_of_pt[data["point"]]
    held = np.full(n_obs, np.nan)
    fold_before, fold_after = [], []
    for k in range(folds):
        tr, te = fold != k, fold == k
        t = _fit(A[tr], b[tr], y[tr], 2, len(fit_mats), n_off, theta)
        held[te] = y[te] - (A[te] @ t + b[te])
        fold_after.append(float(np.sqrt(np.mean(held[te] ** 2))))
        fold_before.append(float(np.sqrt(np.mean((y[te] - pred_before[te]) ** 2))))
    rmse_after = float(np.sqrt(np.mean(held ** 2)))
    rmse_before = float(np.sqrt(np.mean((y - pred_before) ** 2)))

    pl0, expo = float(theta[0]), float(theta[1])
    losses = dict(base.material_losses)
    mat_report = {}
    for j, m in enumerate(mats):
        after = float(theta[2 + fit_mats.index(j)]) if j in fit_mats else float(base_losses[j])
        losses[m] = after
        mat_report[m] = {"before_db": round(float(base_losses[j]), 2),
                         "after_db": round(after, 2), "observations_crossing": int(n_cross[j]),
                         "fitted": j in fit_mats}
    offsets = {}
    if fit_ap_offsets:
        heard = set(np.unique(data["ap"]).tolist())
        offsets = {a.id: round(float(theta[2 + len(fit_mats) + k]), 2)
                   for k, a in enumerate(plan.aps) if k in heard}
    else:
        offsets = dict(base.ap_offsets_db)
    report = {
        "base_model": base.model if isinstance(base.model, str) else "custom",
        "model": "log-distance", "pl0_db": round(pl0, 3), "exponent": round(expo, 4),
        "freq_ref_mhz": FREQ_REF_MHZ, "materials": mat_report,
        "ap_offsets_db": offsets if fit_ap_offsets else {},
        "observations": int(n_obs), "points": int(len(upts)),
        "aps": int(len(np.unique(data["ap"]))),
        "loss": "soft_l1", "f_scale_db": SOFT_L1_SCALE_DB,
        "folds": int(folds), "seed": int(seed),
        "rmse_before_db": round(rmse_before, 3), "rmse_after_db": round(rmse_after, 3),
        "rmse_in_sample_db": round(float(np.sqrt(np.mean(fit_res ** 2))), 3),
        "fold_rmse_before_db": [round(v, 3) for v in fold_before],
        "fold_rmse_after_db": [round(v, 3) for v in fold_after],
        "residual_median_db": round(float(np.median(fit_res)), 3),
    }
    calib = {k: report[k] for k in ("base_model", "observations", "points", "aps", "folds",
                                     "rmse_before_db", "rmse_after_db", "loss")}
    calib["fitted_materials"] = [mats[j] for j in fit_mats]
    calib["source_site"] = site.name
    out = PropagationModel(model="log-distance",
                           params={"pl0_db": round(pl0, 3), "exponent": round(expo, 4),
                                   "freq_ref_mhz": FREQ_REF_MHZ},
                           ap_gain_dbi=base.ap_gain_dbi, client_gain_dbi=base.client_gain_dbi,
                           client_height_m=base.client_height_m, material_losses=losses,
                           ap_offsets_db=offsets, calibration=calib)
    return out, report


def format_calibration(report: dict) -> str:
    """Plain-text summary of a calibration report for the terminal."""
    lines = [f"Calibrated log-distance law (robust least squares, {report['loss']}, "
             f"{report['observations']} observations at {report['points']} points, "
             f"{report['aps']} APs):",
             f"  pl0_db   {report['pl0_db']:.2f} dB at 1 m, {report['freq_ref_mhz']:.0f} MHz",
             f"  exponent {report['exponent']:.3f}",
             "  materials (dB per crossing):"]
    for m, r in report["materials"].items():
        tag = "fitted" if r["fitted"] else f"kept (crossed by {r['observations_crossing']} " \
                                            f"observations, fewer than {MIN_CROSSINGS})"
        lines.append(f"    {m:<16} {r['before_db']:6.1f} -> {r['after_db']:6.1f}  {tag}")
    if report["ap_offsets_db"]:
        lines.append("  AP offsets (dB): " + ", ".join(f"{k} {v:+.1f}" for k, v in
                                                     report["ap_offsets_db"].items()))
    lines.append(f"RMSE, {report['folds']}-fold cross-validated on held-out points: before "
                 f"({report['base_model']}) {report['rmse_before_db']:.2f} dB, after "
                 f"{report['rmse_after_db']:.2f} dB")
    return "\n".join(lines)
