"""Calibration: fit the propagation model of a building to its survey.

The site's model decides what is fitted.

- **The hall model** (the default, :mod:`wifiplan.radio.hall`)::

      rssi_dbm = tx_power_dbm + offset_ap
                 + 10 log10((g_low 10^(-L_d/10) + g_roof 10^(-L_r/10)) G
                            + g_rev(d, t) E[s, i] 10^(q/10))

  with the diffuse level ``q = reverb_offset_db``, the reverberation time of the tail's
  onset ``t = reverb_time_offset_db`` (inside ``g_rev``), the gain ``G`` of the direct and
  reflected rays (``ap_gain_dbi``), the coupling between rooms ``coupling_offset_db``
  (inside the exchange matrix ``E``) and the losses of the materials crossed often enough in
  ``L_d`` and ``L_r`` (:class:`_HallDesign`, analytic Jacobian).
- **A named law** (DESIGN.md section 6, log-distance law of Rappaport eq. 4.68)::

      rssi_dbm = tx_power_dbm + ap_gain_dbi + client_gain_dbi + offset_ap
                 - (pl0_db + 10 n log10(d3D / 1 m) + 20 log10(f / 5500 MHz))
                 - sum_m loss_m * crossings_m

  whose unknowns enter linearly (:class:`_Design`).

The crossings per material are counted by the same penetration rule as every prediction
(:func:`wifiplan.radio.propagation.penetration_points` with ``by_material=True``); the optional
per-AP offsets are held to a zero mean so that they do not trade with the level. The fit is
robust least squares (``scipy.optimize.least_squares`` with ``loss="soft_l1"``), which
down-weights the few measurements a person, a forklift or a mis-matched BSSID spoils. Pairs
of a heard AP and a surveyed point where it was *not* heard are censored observations: they
cost only when the model predicts them above the weakest level the survey reports. The
result is judged by k-fold cross-validation over survey *points* (all APs of a point in the
same fold): RMSE of measured - predicted on held-out points, before (the site's own model)
and after.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import least_squares

from ..site import Site
from ..errors import InputError
from ..radio.hall import combine_dbm, decay_per_m
from ..radio.propagation import Geometry, PropagationModel, penetration_points
from ..radio.rooms import exchange_matrix
from .matching import MatchedSurvey, match_survey

FREQ_REF_MHZ = 5500.0
MIN_CROSSINGS = 20          # a material crossed by fewer observations keeps its library value
# soft-L1 knee: residuals beyond about this count linearly. At the order of an industrial
# hall's shadowing (3GPP TR 38.901 Table 7.4.1-1, InF: sigma_SF 4.3-5.7 dB), so that ordinary
# shadowing counts in full and only what lies well beyond it (a person, a forklift, a wrong
# BSSID) is down-weighted.
SOFT_L1_SCALE_DB = 6.0
BOUNDS = {"pl0_db": (0.0, 100.0), "exponent": (1.0, 6.0), "loss": (0.0, 60.0),
          "offset": (-30.0, 30.0), "reverb": (-30.0, 30.0), "gain": (-10.0, 15.0),
          "coupling": (-20.0, 30.0), "reverb_time": (-20.0, 20.0)}
OFFSET_SUM_WEIGHT = 10.0


def calibration_data(site: Site, plan, frame: pd.DataFrame, *, model=None, inventory=None) -> dict:
    """Observations for the fit, on 5 GHz, for the plan APs heard somewhere in the survey.

    ``obs``: one per (AP, point) where the AP was heard (several SSIDs of one radio are one
    signal); ``censored``: the (AP, point) pairs where it was not heard, i.e. below the
    survey's ``sensitivity_dbm`` (its weakest reported level). Each is a dict of arrays
    ``ap`` (index into plan.aps), ``point``, ``tx_dbm``, ``d3_m``, ``freq_mhz``,
    ``crossings`` (n, n_materials) and, for ``obs``, ``rssi_dbm``.
    """
    ms = match_survey(site, plan, frame, model=model, inventory=inventory)
    model, pts = ms.model, ms.points
    sensitivity = float(ms.frame["rssi_dbm"].min())
    f = ms.ours.rename(columns={"point": "_pt"})
    f = f[(f["band"] == "5").to_numpy()]
    if not len(f):
        raise InputError("no survey measurement matches a plan AP on 5 GHz: nothing to "
                         "calibrate (check the BSSIDs in the plan or give --inventory)")
    f = f.assign(_f=5000.0 + 5.0 * f["channel"].to_numpy(float))
    heard = f.groupby(["ap_id", "_pt"], sort=True).agg(rssi_dbm=("rssi_dbm", "mean"),
                                                       freq_mhz=("_f", "first")).reset_index()
    pos = {a.id: k for k, a in enumerate(plan.aps)}
    h_ap = heard["ap_id"].map(pos).to_numpy(int)
    h_pt = heard["_pt"].to_numpy(int)
    geom = Geometry.from_site(site, model.material_losses)
    n_mat = len(geom.materials)
    parts = {"obs": [], "censored": []}
    def crossings(x, y, h):
        return (penetration_points(geom, (x, y, h), pts[:, 0], pts[:, 1],
                                   model.client_height_m, by_material=True).T
                if n_mat else np.zeros((len(pts), 0)))

    for k in np.unique(h_ap):
        a = plan.aps[k]
        cross = crossings(a.x_m, a.y_m, a.height_m)
        d3 = np.sqrt((pts[:, 0] - a.x_m) ** 2 + (pts[:, 1] - a.y_m) ** 2
                     + (a.height_m - model.client_height_m) ** 2)
        sel = h_ap == k
        hp = h_pt[sel]
        rest = np.setdiff1d(np.arange(len(pts)), hp)
        f_ap = 5000.0 + 5.0 * a.channel
        extra = {}
        if model.is_hall:
            # the hall model: the roof reflection's crossings and the three gains
            cross_r = crossings(a.x_m, a.y_m, model.roof_image_height_m(a.height_m))
            r = np.hypot(pts[:, 0] - a.x_m, pts[:, 1] - a.y_m)
            g = np.stack(model.hall_terms(r, a.height_m, f_ap), axis=1)   # g_rev per unit level
            rooms = model.room.rooms
            extra = {"crossings_roof": cross_r, "hall_gains": g,
                     "rx_room": rooms.label_at(pts[:, 0], pts[:, 1]).astype(np.int64),
                     "src_room": np.full(len(pts), int(rooms.label_at(a.x_m, a.y_m)), np.int64)}
        parts["obs"].append({"ap": np.full(len(hp), k), "point": hp, "d3_m": d3[hp],
                             "crossings": cross[hp], "freq_mhz": heard["freq_mhz"].to_numpy()[sel],
                             "rssi_dbm": heard["rssi_dbm"].to_numpy()[sel],
                             **{key: v[hp] for key, v in extra.items()}})
        parts["censored"].append({"ap": np.full(len(rest), k), "point": rest, "d3_m": d3[rest],
                                  "crossings": cross[rest],
                                  "freq_mhz": np.full(len(rest), f_ap),
                                  **{key: v[rest] for key, v in extra.items()}})
    out = {}
    for name, lst in parts.items():
        d = {key: np.concatenate([p[key] for p in lst]) for key in lst[0]}
        d["crossings"] = d["crossings"].reshape(len(d["ap"]), n_mat)
        if "crossings_roof" in d:
            d["crossings_roof"] = d["crossings_roof"].reshape(len(d["ap"]), n_mat)
        d["tx_dbm"] = np.array([plan.aps[k].tx_power_dbm for k in d["ap"]], float)
        out[name] = d
    out.update({"materials": list(geom.materials), "points_xy": pts, "model": model,
                "sensitivity_dbm": sensitivity})
    return out


def _predict_base(d, model, plan, materials) -> np.ndarray:
    """Prediction of the un-calibrated model [dBm] for a dict of observations."""
    losses = np.array([model.material_losses[m] for m in materials], float)
    off = np.array([model.ap_offsets_db.get(plan.aps[k].id, 0.0) for k in d["ap"]])
    if "hall_gains" in d:
        g = d["hall_gains"]
        level = model.room.rooms.exchange_for(model.params.get("coupling_offset_db", 0.0))
        return combine_dbm(d["tx_dbm"] + off, model.ap_gain_dbi + model.client_gain_dbi,
                           g[:, 0], g[:, 1], g[:, 2] * level[d["src_room"], d["rx_room"]],
                           _pen(d["crossings"], losses), _pen(d["crossings_roof"], losses))
    return (d["tx_dbm"] + model.ap_gain_dbi + model.client_gain_dbi + off
            - model.path_loss_db(d["d3_m"], d["freq_mhz"])
            - (d["crossings"] @ losses if len(losses) else 0.0))


class _Design:
    """The linear model rssi = A @ theta + b for a set of observations.

    theta = [pl0_db, exponent, losses of the fitted materials, offsets of the heard APs].
    """

    def __init__(self, fit_mats, offset_aps, gains_dbi, losses, base_offsets: dict):
        self.fit_mats = list(fit_mats)
        self.offset_aps = list(offset_aps)          # plan AP indices with an offset column
        self.gains_dbi = gains_dbi
        self.losses = losses
        self.base_offsets = base_offsets            # plan AP index -> fixed offset [dB]

    @property
    def n_params(self) -> int:
        return 2 + len(self.fit_mats) + len(self.offset_aps)

    def build(self, d):
        n = len(d["d3_m"])
        cols = [-np.ones(n), -10.0 * np.log10(np.maximum(d["d3_m"], 1.0))]
        cols += [-d["crossings"][:, j] for j in self.fit_mats]
        A = np.column_stack(cols)
        if self.offset_aps:
            col = {k: i for i, k in enumerate(self.offset_aps)}
            onehot = np.zeros((n, len(self.offset_aps)))
            onehot[np.arange(n), [col[k] for k in d["ap"]]] = 1.0
            A = np.hstack([A, onehot])
        fixed = [j for j in range(d["crossings"].shape[1]) if j not in self.fit_mats]
        b = (d["tx_dbm"] + self.gains_dbi - 20.0 * np.log10(d["freq_mhz"] / FREQ_REF_MHZ)
             - (d["crossings"][:, fixed] @ self.losses[fixed] if fixed else 0.0))
        if not self.offset_aps:
            b = b + np.array([self.base_offsets.get(k, 0.0) for k in d["ap"]])
        return A, b


def _bounds(head, fit_mats, offset_aps):
    """(lo, hi) of theta = [the head parameters, fitted losses, AP offsets]."""
    keys = list(head) + ["loss"] * len(fit_mats) + ["offset"] * len(offset_aps)
    return (np.array([BOUNDS[k][0] for k in keys], float),
            np.array([BOUNDS[k][1] for k in keys], float))


def _pen(crossings, losses):
    return crossings @ losses if len(losses) else np.zeros(len(crossings))


class _HallDesign:
    """The hall model's unknowns (:mod:`wifiplan.radio.hall`), which enter non-linearly::

        rssi = tx + offset_ap + 10 log10((g_low 10^(-L_d/10) + g_roof 10^(-L_r/10)) G
                                         + g_rev exp(-d (beta(t) - beta_0)) E(kappa)[s, i]
                                           10^(q/10))

    theta = [q = reverb_offset_db, ap_gain_dbi, c = coupling_offset_db,
    t = reverb_time_offset_db, losses of the fitted materials, offsets of the heard APs];
    ``L_d`` and ``L_r`` are the crossings of the direct ray and of the roof reflection times
    the losses; ``g_rev`` the diffuse gain of the base model, whose tail decays by
    ``beta_0`` per metre of the direct distance ``d``, ``beta(t) = beta_1 10^(-t/10)`` the
    decay with the fitted reverberation time (``beta_1`` the room's Sabine value,
    :func:`wifiplan.radio.hall.decay_per_m`); ``E(kappa)`` the coupled rooms' exchange matrix
    with the coupling areas times ``kappa = 10^(c/10)``, ``s`` the AP's room and ``i`` the
    point's. The Jacobian is analytic: d rssi / d q = rev / S, d rssi / d gain = spec / S,
    d rssi / d c = -g_rev 10^(q/10) kappa (E D E)[s, i] / S with ``D = diag(sum K) - K``
    (d E = -E dM E), d rssi / d t = d beta(t) rev / S, d rssi / d loss_m = -(g_low e_d c_m
    + g_roof e_r c'_m) G / S, d rssi / d offset = 1."""
    n_head = 4

    def __init__(self, fit_mats, offset_aps, client_gain_dbi, losses, base_offsets: dict,
                 room, base_time_offset_db: float):
        self.fit_mats = list(fit_mats)
        self.offset_aps = list(offset_aps)
        self.client_gain_dbi = client_gain_dbi
        self.losses = losses
        self.base_offsets = base_offsets
        self.A = np.asarray(room.rooms.absorption_m2, float)
        self.K = np.asarray(room.rooms.coupling_m2, float)
        self.beta_1 = decay_per_m(room)
        self.beta_0 = decay_per_m(room, base_time_offset_db)
        self.D = np.diag(self.K.sum(axis=1)) - self.K

    @property
    def n_params(self) -> int:
        return self.n_head + len(self.fit_mats) + len(self.offset_aps)

    def bounds(self):
        return _bounds(("reverb", "gain", "coupling", "reverb_time"), self.fit_mats,
                       self.offset_aps)

    def build(self, d):
        """The fixed parts of a set of observations (a context for :meth:`eval`)."""
        n = len(d["tx_dbm"])
        fixed = [j for j in range(d["crossings"].shape[1]) if j not in self.fit_mats]
        fl = self.losses[fixed]
        ctx = {"g": d["hall_gains"], "c_d": d["crossings"][:, self.fit_mats],
               "c_r": d["crossings_roof"][:, self.fit_mats],
               "pen_d0": d["crossings"][:, fixed] @ fl if fixed else np.zeros(n),
               "pen_r0": d["crossings_roof"][:, fixed] @ fl if fixed else np.zeros(n),
               "tx": d["tx_dbm"].astype(float), "src": d["src_room"], "rx": d["rx_room"],
               "d": np.maximum(d["d3_m"], 1.0)}
        if self.offset_aps:
            col = {k: i for i, k in enumerate(self.offset_aps)}
            ctx["col"] = np.array([col[k] for k in d["ap"]], int)
        else:
            ctx["tx"] = ctx["tx"] + np.array([self.base_offsets.get(k, 0.0) for k in d["ap"]])
        return ctx

    def eval(self, t, ctx, jac=False):
        n_m, h = len(self.fit_mats), self.n_head
        q, gain, c = t[0], t[1], t[2]
        beta = self.beta_1 * 10.0 ** (-t[3] / 10.0)
        L = t[h:h + n_m]
        kappa = 10.0 ** (c / 10.0)
        E = exchange_matrix(self.A, self.K * kappa)
        e_d = 10.0 ** (-0.1 * (ctx["pen_d0"] + ctx["c_d"] @ L))
        e_r = 10.0 ** (-0.1 * (ctx["pen_r0"] + ctx["c_r"] @ L))
        G = 10.0 ** ((gain + self.client_gain_dbi) / 10.0)
        g = ctx["g"]
        sd, sr = g[:, 0] * e_d * G, g[:, 1] * e_r * G
        unit = g[:, 2] * np.exp(-ctx["d"] * (beta - self.beta_0)) * 10.0 ** (q / 10.0)
        rv = unit * E[ctx["src"], ctx["rx"]]
        S = sd + sr + rv
        y = ctx["tx"] + 10.0 * np.log10(S)
        if self.offset_aps:
            y = y + t[h + n_m:][ctx["col"]]
        if not jac:
            return y
        J = np.zeros((len(S), self.n_params))
        J[:, 0] = rv / S
        J[:, 1] = (sd + sr) / S
        dE = -(E @ self.D @ E) * kappa
        J[:, 2] = unit * dE[ctx["src"], ctx["rx"]] / S
        J[:, 3] = ctx["d"] * beta * rv / S
        if n_m:
            J[:, h:h + n_m] = -(sd[:, None] * ctx["c_d"] + sr[:, None] * ctx["c_r"]) / S[:, None]
        if self.offset_aps:
            J[np.arange(len(S)), h + n_m + ctx["col"]] = 1.0
        return y, J


class _LinearDesign:
    """:class:`_Design` seen through the interface of :class:`_HallDesign`."""

    def __init__(self, design: _Design):
        self.d = design
        self.fit_mats, self.offset_aps = design.fit_mats, design.offset_aps
        self.n_head = 2

    @property
    def n_params(self):
        return self.d.n_params

    def bounds(self):
        return _bounds(("pl0_db", "exponent"), self.fit_mats, self.offset_aps)

    def build(self, d):
        return self.d.build(d)

    def eval(self, t, ctx, jac=False):
        A, b = ctx
        y = A @ t + b
        return (y, A) if jac else y


def _take(ctx, m):
    """The rows ``m`` (boolean mask) of a design context."""
    if isinstance(ctx, tuple):
        return tuple(v[m] for v in ctx)
    return {k: (v[m] if isinstance(v, np.ndarray) else v) for k, v in ctx.items()}


def _fit_general(design, ctx, y, ctx_c, sensitivity, x0):
    """Robust fit of heard levels ``y`` and not-heard pairs, which only cost when the model
    puts them above the sensitivity (a one-sided, censored residual)."""
    lo, hi = design.bounds()
    n_o = len(design.offset_aps)
    row = np.zeros((1 if n_o else 0, design.n_params))
    if n_o:
        row[0, design.n_head + len(design.fit_mats):] = OFFSET_SUM_WEIGHT

    def fun(t):
        over = design.eval(t, ctx_c) - sensitivity
        return np.concatenate([design.eval(t, ctx) - y, np.maximum(over, 0.0), row @ t])

    def jac(t):
        _, J = design.eval(t, ctx, jac=True)
        pc, Jc = design.eval(t, ctx_c, jac=True)
        return np.vstack([J, Jc * ((pc - sensitivity) > 0)[:, None], row])

    x0 = np.clip(x0, lo + 1e-9, hi - 1e-9)
    return least_squares(fun, x0, jac=jac, bounds=(lo, hi), loss="soft_l1",
                         f_scale=SOFT_L1_SCALE_DB, method="trf").x


def calibrate(site: Site, plan, frame: pd.DataFrame, *, fit_materials: bool = True,
              fit_ap_offsets: bool = False, folds: int = 5, seed: int = 0, model=None,
              inventory=None):
    """Fit the site's model (the hall model's diffuse level, AP gain and coupling between
    rooms; for a named law a log-distance law), material losses and optional per-AP offsets
    to a survey.

    Returns ``(PropagationModel, report)``; save the model with
    :func:`wifiplan.radio.propagation.save_model_file` and pass it to ``--model``. The report has
    the fitted values, the material losses before and after, and the k-fold cross-validated
    RMSE [dB] of heard levels before (``model``, default the site's own) and after.

    Where an AP was not heard at a surveyed point, its level was below the survey's
    weakest reported one: such pairs enter as censored observations, so that the few
    measurements that leak past a strong obstacle (a position error at its edge) cannot
    pull its loss down while the many points behind it where nothing was heard say
    otherwise.
    """
    if isinstance(frame, MatchedSurvey):          # matched once: its model is the base
        model = frame.model
    base = model if isinstance(model, PropagationModel) else PropagationModel.for_site(site, model)
    data = calibration_data(site, plan, frame, model=base, inventory=inventory)
    obs, cen = data["obs"], data["censored"]
    mats = data["materials"]
    n_obs = len(obs["rssi_dbm"])
    n_cross = (obs["crossings"] > 0).sum(axis=0) if len(mats) else np.zeros(0, int)
    fit_mats = [j for j in range(len(mats)) if fit_materials and n_cross[j] >= MIN_CROSSINGS]
    base_losses = np.array([base.material_losses[m] for m in mats], float)
    heard_aps = sorted(set(obs["ap"].tolist()))
    design = _Design(fit_mats, heard_aps if fit_ap_offsets else [],
                     base.ap_gain_dbi + base.client_gain_dbi, base_losses,
                     {k: base.ap_offsets_db.get(a.id, 0.0) for k, a in enumerate(plan.aps)})
    if n_obs < design.n_params + 5:
        raise InputError(f"too few matched measurements to calibrate ({n_obs}); survey more "
                         f"points")
    folds = int(folds)
    if folds < 2:
        raise InputError(f"--folds must be at least 2, got {folds}")
    sens = data["sensitivity_dbm"]
    hall = base.is_hall
    if hall:
        t0 = base.params.get("reverb_time_offset_db", 0.0)
        design = _HallDesign(fit_mats, design.offset_aps, base.client_gain_dbi, base_losses,
                             design.base_offsets, base.room, t0)
        x0 = np.concatenate([[base.params.get("reverb_offset_db", 0.0), base.ap_gain_dbi,
                              base.params.get("coupling_offset_db", 0.0), t0],
                             base_losses[fit_mats], np.zeros(len(design.offset_aps))])
    else:
        design = _LinearDesign(design)
        x0 = np.concatenate([[46.7, 2.2], base_losses[fit_mats],
                             np.zeros(len(design.offset_aps))])
    ctx, ctx_c = design.build(obs), design.build(cen)
    y = obs["rssi_dbm"]
    theta = _fit_general(design, ctx, y, ctx_c, sens, x0)
    fit_res = y - design.eval(theta, ctx)

    # k-fold cross-validation over points: every AP of a held-out point is held out
    pred_before = _predict_base(obs, base, plan, mats)
    upts = np.unique(np.concatenate([obs["point"], cen["point"]]))
    folds = min(folds, len(upts))
    rng = np.random.default_rng(seed)
    fold_of_pt = np.empty(upts.max() + 1, int)
    fold_of_pt[rng.permutation(upts)] = np.arange(len(upts)) % folds
    fo, fc = fold_of_pt[obs["point"]], fold_of_pt[cen["point"]]
    held = np.full(n_obs, np.nan)
    fold_before, fold_after = [], []
    for k in range(folds):
        tr, te, tc = fo != k, fo == k, fc != k
        t = _fit_general(design, _take(ctx, tr), y[tr], _take(ctx_c, tc), sens, theta)
        held[te] = y[te] - design.eval(t, _take(ctx, te))
        fold_after.append(float(np.sqrt(np.mean(held[te] ** 2))))
        fold_before.append(float(np.sqrt(np.mean((y[te] - pred_before[te]) ** 2))))
    rmse_after = float(np.sqrt(np.nanmean(held ** 2)))
    rmse_before = float(np.sqrt(np.mean((y - pred_before) ** 2)))

    head0, head1 = float(theta[0]), float(theta[1])
    losses = dict(base.material_losses)
    mat_report = {}
    for j, m in enumerate(mats):
        h = design.n_head
        after = float(theta[h + fit_mats.index(j)]) if j in fit_mats else float(base_losses[j])
        losses[m] = after
        mat_report[m] = {"before_db": round(float(base_losses[j]), 2),
                         "after_db": round(after, 2), "observations_crossing": int(n_cross[j]),
                         "fitted": j in fit_mats}
    if fit_ap_offsets:
        offsets = {plan.aps[k].id: round(float(theta[design.n_head + len(fit_mats) + i]), 2)
                   for i, k in enumerate(design.offset_aps)}
    else:
        offsets = dict(base.ap_offsets_db)
    if hall:
        law = {"model": "hall", "reverb_offset_db": round(head0, 3),
               "ap_gain_dbi": round(head1, 3), "coupling_offset_db": round(float(theta[2]), 3),
               "reverb_time_offset_db": round(float(theta[3]), 3)}
        params = {k: law[k] for k in ("reverb_offset_db", "coupling_offset_db",
                                      "reverb_time_offset_db")}
        gain = law["ap_gain_dbi"]
    else:
        law = {"model": "log-distance", "pl0_db": round(head0, 3), "exponent": round(head1, 4),
               "freq_ref_mhz": FREQ_REF_MHZ}
        params = {"pl0_db": law["pl0_db"], "exponent": law["exponent"],
                  "freq_ref_mhz": FREQ_REF_MHZ}
        gain = base.ap_gain_dbi
    report = {
        "base_model": base.model if isinstance(base.model, str) else "custom",
        **law, "materials": mat_report,
        "ap_offsets_db": offsets if fit_ap_offsets else {},
        "observations": int(n_obs), "censored_pairs": int(len(cen["ap"])),
        "sensitivity_dbm": round(sens, 1), "points": int(len(upts)),
        "aps": int(len(heard_aps)),
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
    out = PropagationModel(model=law["model"], params=params,
                           ap_gain_dbi=gain, client_gain_dbi=base.client_gain_dbi,
                           client_height_m=base.client_height_m, material_losses=losses,
                           ap_offsets_db=offsets, calibration=calib, room=base.room)
    return out, report


def format_calibration(report: dict) -> str:
    """Plain-text summary of a calibration report for the terminal."""
    fit = (f"(robust least squares, {report['loss']}, {report['observations']} observations "
           f"at {report['points']} points, {report['aps']} APs):")
    if report["model"] == "hall":
        lines = [f"Calibrated hall model {fit}",
                 f"  reverb_offset_db {report['reverb_offset_db']:+.2f} dB (diffuse field)",
                 f"  ap_gain_dbi      {report['ap_gain_dbi']:.2f} dBi (direct and reflected rays)",
                 f"  coupling_offset_db {report['coupling_offset_db']:+.2f} dB (power exchanged "
                 f"between rooms)",
                 f"  reverb_time_offset_db {report['reverb_time_offset_db']:+.2f} dB "
                 f"(reverberation time of the diffuse tail)"]
    else:
        lines = [f"Calibrated log-distance law {fit}",
                 f"  pl0_db   {report['pl0_db']:.2f} dB at 1 m, {report['freq_ref_mhz']:.0f} MHz",
                 f"  exponent {report['exponent']:.3f}"]
    lines.append("  materials (dB per crossing):")
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
