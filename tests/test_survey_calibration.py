"""Calibration recovers known parameters; measured maps never extrapolate."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import FLOORPLANS, SURVEYS
from wifiplan.cli import main
from wifiplan.plan import AP, Plan, save_plan
from wifiplan.radio.propagation import (PropagationModel, load_model_file, rssi_points_dbm,
                                  save_model_file)
from wifiplan.site import parse_site, save_site
from wifiplan.survey import calibrate, measured_map, read_survey, survey_maps

SITE_YAML = """
name: Calibration Test Hall
regulatory_domain: seed
outline: [[0, 0], [40, 0], [40, 30], [0, 30]]
propagation: {model: 3gpp-inf-sl, ap_height_m: 3.0, client_height_m: 1.2}
walls:
  - {from: [20, 0], to: [20, 18], material: concrete-block}
  - {from: [0, 15], to: [14, 15], material: plasterboard}
  - {from: [24, 20], to: [40, 20], material: brick}
  - {points: [[6, 22], [6, 30]], material: plasterboard}
zones:
  - {name: all, polygon: [[0, 0], [40, 0], [40, 30], [0, 30]]}
"""
TRUTH = {"pl0_db": 42.0, "exponent": 2.8,
         "losses": {"concrete-block": 16.0, "plasterboard": 4.5, "brick": 9.0}}
SIGMA = 4.0


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    """A survey generated with known parameters and 4 dB Gaussian shadowing."""
    tmp = tmp_path_factory.mktemp("calib")
    site = parse_site(SITE_YAML)
    aps = [AP("A1", 8, 7, 3.0, 36, tx_power_dbm=18, bssid="02:00:00:00:01:00"),
           AP("A2", 32, 8, 3.0, 40, tx_power_dbm=18, bssid="02:00:00:00:02:00"),
           AP("A3", 9, 24, 3.0, 44, tx_power_dbm=18, bssid="02:00:00:00:03:00"),
           AP("A4", 33, 26, 3.0, 48, tx_power_dbm=18, bssid="02:00:00:00:04:00")]
    plan = Plan(site.name, aps)
    truth = PropagationModel.for_site(site).updated(
        {"model": "log-distance", "pl0_db": TRUTH["pl0_db"], "exponent": TRUTH["exponent"],
         "freq_ref_mhz": 5500.0, "materials": TRUTH["losses"]})
    xs, ys = np.meshgrid(np.arange(0.5, 40, 1.0), np.arange(0.5, 30, 1.0))
    x, y = xs.ravel(), ys.ravel()
    rssi = rssi_points_dbm(site, aps, x, y, truth)
    rng = np.random.default_rng(42)
    rssi = rssi + SIGMA * rng.standard_normal(rssi.shape)
    rows = pd.DataFrame({
        "x_m": np.tile(x, len(aps)), "y_m": np.tile(y, len(aps)),
        "bssid": np.repeat([a.bssid for a in aps], len(x)), "ssid": "CAL",
        "channel": np.repeat([a.channel for a in aps], len(x)),
        "rssi_dbm": np.round(rssi.ravel(), 1)})
    survey = tmp / "survey.csv"
    rows.to_csv(survey, index=False)
    save_site(site, tmp / "site.yaml")
    save_plan(plan, tmp / "site.plan.yaml")
    return site, plan, survey, tmp


def test_calibration_recovers_known_parameters(synthetic):
    site, plan, survey, _ = synthetic
    frame, meta = read_survey(survey, site=site)
    # a few far points fall below the -100 dBm a receiver reports: censored, and said so
    assert len(meta.rejected) < 0.005 * meta.n_rows
    assert all("outside -100..-10 dBm" in r["reason"] for r in meta.rejected)
    model, rep = calibrate(site, plan, frame, folds=5, seed=0)
    assert abs(rep["exponent"] - TRUTH["exponent"]) < 0.2
    for m, v in TRUTH["losses"].items():
        assert rep["materials"][m]["fitted"]
        assert abs(rep["materials"][m]["after_db"] - v) < 2.0, m
    assert abs(rep["rmse_after_db"] - SIGMA) < 0.5
    assert rep["rmse_before_db"] > rep["rmse_after_db"] + 0.5
    assert len(rep["fold_rmse_after_db"]) == 5
    assert model.model == "log-distance" and model.params["freq_ref_mhz"] == 5500.0
    assert model.material_losses["brick"] == pytest.approx(rep["materials"]["brick"]["after_db"],
                                                           abs=0.01)


def test_calibration_fits_ap_offsets(synthetic):
    site, plan, survey, _ = synthetic
    frame, _ = read_survey(survey, site=site)
    # A2 transmits 6 dB less than the plan says
    f = frame.copy()
    f.loc[f["bssid"].astype(str) == "02:00:00:00:02:00", "rssi_dbm"] -= 6.0
    model, rep = calibrate(site, plan, f, fit_ap_offsets=True, folds=3)
    off = rep["ap_offsets_db"]
    assert abs(sum(off.values())) < 0.5
    others = np.mean([off[k] for k in ("A1", "A3", "A4")])
    assert off["A2"] - others == pytest.approx(-6.0, abs=1.0)
    assert model.ap_offsets_db == off
    assert abs(rep["exponent"] - TRUTH["exponent"]) < 0.2


def test_calibrate_cli_writes_a_model_that_predict_accepts(synthetic, capsys):
    site, plan, survey, tmp = synthetic
    out = tmp / "model.yaml"
    code = main(["survey", "calibrate", str(tmp / "site.yaml"), str(tmp / "site.plan.yaml"),
                 str(survey), "-o", str(out), "--folds", "3"])
    text = capsys.readouterr().out
    assert code == 0 and "RMSE" in text and "exponent" in text
    d = load_model_file(out)
    assert d["model"] == "log-distance" and abs(d["exponent"] - 2.8) < 0.2
    pts = tmp / "p.csv"
    pts.write_text("x_m,y_m\n8,10\n30,25\n")
    assert main(["predict", str(tmp / "site.yaml"), str(tmp / "site.plan.yaml"),
                 "--points", str(pts), "-o", str(tmp / "pred.csv"), "--model", str(out)]) == 0
    pred = pd.read_csv(tmp / "pred.csv")
    m = PropagationModel.for_site(site, out)
    want = rssi_points_dbm(site, plan.aps, [8, 30], [10, 25], m)
    assert np.allclose(pred["rssi_dbm"].to_numpy().reshape(2, 4), want.T, atol=0.01)


def test_model_round_trip(synthetic, tmp_path):
    site, plan, survey, _ = synthetic
    frame, _ = read_survey(survey, site=site)
    model, _ = calibrate(site, plan, frame, folds=2)
    save_model_file(model, tmp_path / "m.yaml")
    again = PropagationModel.for_site(site, tmp_path / "m.yaml")
    x = np.array([5.0, 25.0])
    assert np.allclose(rssi_points_dbm(site, plan.aps, x, x, model),
                       rssi_points_dbm(site, plan.aps, x, x, again), atol=0.01)


def test_measured_map_never_extrapolates():
    from wifiplan.site import load_site
    from wifiplan.plan import load_plan
    site = load_site(FLOORPLANS / "production-line.yaml")
    plan = load_plan(FLOORPLANS / "production-line.plan.yaml")
    frame, _ = read_survey(SURVEYS / "production-line-sjis.csv", site=site)
    part = frame[frame["x_m"] < 30]
    mm = measured_map(site, part, 1.0, max_distance_m=3.0)
    X, Y = np.meshgrid(mm.xs, mm.ys)
    assert mm.mask.any()
    assert not mm.mask[X > 33].any()              # nothing beyond the surveyed part
    from scipy.spatial import cKDTree
    d, _ = cKDTree(part[["x_m", "y_m"]].to_numpy()).query(np.column_stack([X[mm.mask],
                                                                          Y[mm.mask]]))
    assert d.max() <= 3.0
    best = part.groupby(["x_m", "y_m"])["rssi_dbm"].max()
    v = mm.values[mm.mask]
    assert v.min() >= best.min() - 1e-9 and v.max() <= best.max() + 1e-9   # interpolation only
    maps = survey_maps(site, plan, part, 1.0)
    r = maps["residual"].values
    assert np.isfinite(r).sum() == np.isfinite(maps["measured"].values).sum()
    assert abs(np.nanmedian(r)) < 4.0


def test_not_heard_points_hold_a_strong_loss_against_leaks():
    """Behind a 45 dB metal wall the two western APs are heard only at 48 leaks (position
    errors at the wall's end give the unobstructed level); everywhere else behind it they
    are not heard, while an eastern AP is. Those not-heard pairs (censored observations)
    keep the metal loss high; the leaks alone would pull it to zero."""
    site = parse_site(SITE_YAML.replace(
        "walls:\n", "walls:\n  - {from: [26, 0], to: [26, 30], material: metal}\n"))
    aps = [AP("A1", 8, 7, 3.0, 36, tx_power_dbm=18, bssid="02:00:00:00:01:00"),
           AP("A2", 14, 24, 3.0, 40, tx_power_dbm=18, bssid="02:00:00:00:02:00"),
           AP("A3", 34, 15, 3.0, 44, tx_power_dbm=18, bssid="02:00:00:00:03:00")]
    plan = Plan(site.name, aps)
    truth = PropagationModel.for_site(site).updated(
        {"model": "log-distance", "pl0_db": 42.0, "exponent": 2.8, "freq_ref_mhz": 5500.0,
         "materials": dict(TRUTH["losses"], metal=45.0)})
    xs, ys = np.meshgrid(np.arange(0.5, 40, 1.0), np.arange(0.5, 30, 1.0))
    x, y = xs.ravel(), ys.ravel()
    rng = np.random.default_rng(3)
    rssi = rssi_points_dbm(site, aps, x, y, truth) + SIGMA * rng.standard_normal((3, len(x)))
    free = rssi_points_dbm(site, aps, x, y, truth.updated({"materials": {"metal": 0.0}}))
    west = np.array([True, True, False])[:, None]
    behind = west & (x > 26)[None]
    leak = behind & ((x < 29) & (y > 22))[None]          # next to the wall's end
    rssi = np.where(leak, free + SIGMA * rng.standard_normal(free.shape), rssi)
    heard = rssi >= -90
    assert (heard & behind & ~leak).sum() <= 5 and (heard & leak).sum() == 48
    h = heard.ravel()
    rows = pd.DataFrame({"x_m": np.tile(x, 3)[h], "y_m": np.tile(y, 3)[h],
                         "bssid": np.repeat([a.bssid for a in aps], len(x))[h], "ssid": "CAL",
                         "channel": np.repeat([36.0, 40.0, 44.0], len(x))[h],
                         "rssi_dbm": rssi.ravel()[h]})
    rows["line"] = np.arange(2, len(rows) + 2)
    model, rep = calibrate(site, plan, rows, folds=2)
    assert rep["materials"]["metal"]["fitted"]
    assert rep["materials"]["metal"]["after_db"] > 25
    assert rep["censored_pairs"] > 500


HALL_YAML = """
name: Calibration Test Hall (hall model)
regulatory_domain: seed
outline: [[0, 0], [40, 0], [40, 30], [0, 30]]
building: {ceiling_height_m: 7}
propagation: {ap_height_m: 5.0, client_height_m: 1.2}
walls:
  - {from: [22, 0], to: [22, 12], material: concrete-block}
  - {from: [22, 16], to: [22, 30], material: concrete-block}
  - {from: [0, 15], to: [12, 15], material: plasterboard}
obstacles:
  - {name: r1, polygon: [[4, 4], [18, 4], [18, 5.2], [4, 5.2]], material: metal-rack, height_m: 5.5}
  - {name: r2, polygon: [[26, 22], [38, 22], [38, 23.2], [26, 23.2]], material: metal-rack,\
 height_m: 5.5}
zones:
  - {name: all, polygon: [[0, 0], [40, 0], [40, 30], [0, 30]]}
"""


def test_hall_calibration_recovers_known_parameters():
    """A survey made by the hall model itself with a known diffuse level, AP gain, coupling
    between the two rooms and material losses, plus 3 dB Gaussian shadowing: the fit finds
    them and its held-out RMSE is the shadowing."""
    site = parse_site(HALL_YAML)
    base = PropagationModel.for_site(site)
    assert base.is_hall and base.room.rooms.count >= 2     # the two halves, and the racks' aisles
    truth = base.updated({"model": "hall", "reverb_offset_db": -4.0, "coupling_offset_db": 6.0,
                          "reverb_time_offset_db": -3.0, "ap_gain_dbi": 1.0,
                          "materials": {"concrete-block": 8.0, "metal-rack": 12.0}})
    aps = [AP("A1", 8, 9, 5.0, 36, tx_power_dbm=14, bssid="02:00:00:00:01:00"),
           AP("A2", 32, 8, 5.0, 40, tx_power_dbm=14, bssid="02:00:00:00:02:00"),
           AP("A3", 9, 24, 5.0, 44, tx_power_dbm=14, bssid="02:00:00:00:03:00"),
           AP("A4", 31, 26, 5.0, 48, tx_power_dbm=14, bssid="02:00:00:00:04:00")]
    plan = Plan(site.name, aps)
    xs, ys = np.meshgrid(np.arange(0.5, 40, 1.0), np.arange(0.5, 30, 1.0))
    x, y = xs.ravel(), ys.ravel()
    rssi = rssi_points_dbm(site, aps, x, y, truth)
    rssi = rssi + 3.0 * np.random.default_rng(7).standard_normal(rssi.shape)
    rows = pd.DataFrame({"x_m": np.tile(x, len(aps)), "y_m": np.tile(y, len(aps)),
                         "bssid": np.repeat([a.bssid for a in aps], len(x)), "ssid": "CAL",
                         "channel": np.repeat([a.channel for a in aps], len(x)),
                         "rssi_dbm": rssi.ravel(), "line": np.arange(rssi.size) + 2})
    rows = rows[rows["rssi_dbm"] > -95].reset_index(drop=True)
    model, rep = calibrate(site, plan, rows, folds=3)
    assert rep["model"] == "hall" and model.model == "hall"
    assert rep["ap_gain_dbi"] == pytest.approx(1.0, abs=0.5)
    assert rep["reverb_offset_db"] == pytest.approx(-4.0, abs=1.0)
    assert rep["coupling_offset_db"] == pytest.approx(6.0, abs=2.5)
    assert rep["reverb_time_offset_db"] == pytest.approx(-3.0, abs=1.5)
    assert rep["materials"]["concrete-block"]["after_db"] == pytest.approx(8.0, abs=1.5)
    # behind a rack the roof reflection and the diffuse field carry most of the power, so
    # its loss is the least determined parameter; what matters is the prediction
    assert rep["materials"]["metal-rack"]["after_db"] == pytest.approx(12.0, abs=4.0)
    clean = rssi_points_dbm(site, aps, x, y, truth)
    fitted = rssi_points_dbm(site, aps, x, y, model)
    assert float(np.sqrt(np.mean((fitted - clean) ** 2))) < 0.5
    assert rep["rmse_after_db"] == pytest.approx(3.0, abs=0.3)
    assert rep["rmse_before_db"] > rep["rmse_after_db"] + 0.5
    # the model file holds the fitted parameters and predicts as the fitted model does
    again = PropagationModel.for_site(site, model.to_dict())
    assert again.params == model.params and again.is_hall
    np.testing.assert_allclose(rssi_points_dbm(site, aps, x[:50], y[:50], again),
                               rssi_points_dbm(site, aps, x[:50], y[:50], model), atol=0.01)


def test_hall_design_jacobian_matches_finite_differences():
    """The analytic Jacobian of the hall model's fit (every head parameter, the fitted
    losses and the AP offsets) against central differences, at a point away from the base
    values."""
    from wifiplan.survey.calibration import _HallDesign, calibration_data
    site = parse_site(HALL_YAML)
    base = PropagationModel.for_site(site)
    aps = [AP("A1", 8, 9, 5.0, 36, tx_power_dbm=14, bssid="02:00:00:00:01:00"),
           AP("A2", 31, 26, 5.0, 40, tx_power_dbm=14, bssid="02:00:00:00:02:00")]
    plan = Plan(site.name, aps)
    xs, ys = np.meshgrid(np.arange(1.0, 40, 3.0), np.arange(1.0, 30, 3.0))
    x, y = xs.ravel(), ys.ravel()
    rssi = rssi_points_dbm(site, aps, x, y, base)
    rows = pd.DataFrame({"x_m": np.tile(x, 2), "y_m": np.tile(y, 2),
                         "bssid": np.repeat([a.bssid for a in aps], len(x)), "ssid": "CAL",
                         "channel": np.repeat([a.channel for a in aps], len(x)),
                         "rssi_dbm": rssi.ravel(), "line": np.arange(rssi.size) + 2})
    data = calibration_data(site, plan, rows, model=base)
    losses = np.array([base.material_losses[m] for m in data["materials"]])
    fit = list(range(len(losses)))
    design = _HallDesign(fit, [0, 1], base.client_gain_dbi, losses, {}, base.room, 1.0)
    ctx = design.build(data["obs"])
    rng = np.random.default_rng(3)
    theta = np.concatenate([[-5.0, 2.0, 4.0, 3.0], losses + rng.uniform(-2, 2, len(losses)),
                            [0.5, -0.5]])
    _, J = design.eval(theta, ctx, jac=True)
    h = 1e-5
    for j in range(len(theta)):
        tp, tm = theta.copy(), theta.copy()
        tp[j] += h
        tm[j] -= h
        num = (design.eval(tp, ctx) - design.eval(tm, ctx)) / (2 * h)
        np.testing.assert_allclose(J[:, j], num, atol=1e-5, err_msg=f"parameter {j}")
