"""RadioMap quantities against values computed by hand, and the predict/heatmap commands."""
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from conftest import SAMPLE_SITES, plan_path_of
from wifiplan import AP, compute_radiomap, load_plan, load_site, path_loss_db
from wifiplan.radio.propagation import PropagationModel
from wifiplan.rules import NOISE_FLOOR_DBM
from wifiplan.site import site_from_dict

SITE = site_from_dict({
    "name": "open", "outline": [[0, 0], [40, 0], [40, 20], [0, 20]],
    "propagation": {"model": "3gpp-inf-los", "ap_height_m": 4.0, "client_height_m": 1.2,
                    "ap_gain_dbi": 2.0, "client_gain_dbi": 0.0},
    "walls": [{"from": [20, 0], "to": [20, 8], "material": "brick"}],
    "zones": [{"name": "z", "polygon": [[0, 0], [40, 0], [40, 20], [0, 20]]}]})
APS = [AP("A", 5, 10, 4.0, 36, 20, 10.0), AP("B", 35, 10, 4.0, 36, 20, 8.0),
       AP("C", 20, 15, 4.0, 149, 20, 5.0)]


def expected_rssi(ap, x, y, wall_loss=0.0):
    d = np.sqrt((x - ap.x_m) ** 2 + (y - ap.y_m) ** 2 + (ap.height_m - 1.2) ** 2)
    return (ap.tx_power_dbm + 2.0 - path_loss_db("3gpp-inf-los", d, 5000 + 5 * ap.channel)
            - wall_loss)


def test_rssi_best_second_sinr_by_hand():
    rm = compute_radiomap(SITE, APS, resolution_m=2.0)
    assert rm.rssi_dbm.shape == (3, 10, 20)
    j, i = 2, 3                             # grid point (7, 5): x = 0 + 2 * 3.5, y = 2 * 2.5
    x, y = rm.xs[i], rm.ys[j]
    assert (x, y) == (7.0, 5.0)
    ra = expected_rssi(APS[0], x, y)
    rb = expected_rssi(APS[1], x, y, wall_loss=6.0)     # behind the brick wall at x = 20
    rc = expected_rssi(APS[2], x, y)
    np.testing.assert_allclose(rm.rssi_dbm[:, j, i], [ra, rb, rc], atol=1e-3)
    assert rm.best_server[j, i] == 0 and rm.second_server[j, i] == 2
    assert rm.best_rssi_dbm[j, i] == pytest.approx(ra, abs=1e-3)
    # SINR: C is on another channel; B shares channel 36
    sinr = ra - 10 * np.log10(10 ** (rb / 10) + 10 ** (NOISE_FLOOR_DBM / 10))
    assert rm.sinr_db[j, i] == pytest.approx(sinr, abs=1e-3)
    assert rm.co_channel_separation_db[j, i] == pytest.approx(ra - rb, abs=1e-3)


def test_at_points_equals_grid_and_boundary_and_cdf():
    rm = compute_radiomap(SITE, APS, resolution_m=1.0)
    X, Y = np.meshgrid(rm.xs, rm.ys)
    pts = rm.at_points(X.ravel(), Y.ravel())
    np.testing.assert_allclose(pts["rssi_dbm"].reshape(rm.rssi_dbm.shape), rm.rssi_dbm, atol=1e-3)
    assert np.array_equal(pts["best_server"].reshape(rm.best_server.shape), rm.best_server)
    bnd = rm.boundary_mask()
    diff = rm.best_rssi_dbm - rm.second_rssi_dbm
    assert bnd.any() and np.all(diff[bnd] <= 3.0) and np.all(diff[~bnd] > 3.0)
    vals, p = rm.cdf()
    assert len(vals) == 800 and np.all(np.diff(vals) >= 0) and p[-1] == 1.0
    assert rm.cell_area_m2().sum() == pytest.approx(800.0)
    # a cell is where its AP serves at the level asked (brute force over the grid)
    level = float(np.median(rm.best_rssi_dbm[rm.mask]))
    want = [float(((rm.best_server == k) & rm.mask & (rm.best_rssi_dbm >= level)).sum())
            for k in range(len(rm.aps))]
    np.testing.assert_allclose(rm.cell_area_m2(level), want)
    assert rm.cell_area_m2(level).sum() < 800.0


def test_moving_one_ap_equals_full_recompute():
    rm = compute_radiomap(SITE, APS, resolution_m=1.0)
    moved = [APS[0], AP("B", 30, 4, 4.0, 36, 20, 8.0), APS[2]]
    np.testing.assert_allclose(rm.with_aps(moved).rssi_dbm,
                               compute_radiomap(SITE, moved, resolution_m=1.0).rssi_dbm, atol=1e-4)
    np.testing.assert_allclose(rm.with_powers([0, 0, 0]).rssi_dbm, rm.gain_db)


def test_model_file_changes_prediction(tmp_path):
    m = PropagationModel.for_site(SITE, {"model": "log-distance", "pl0_db": 40.0, "exponent": 2.0,
                                         "ap_offsets_db": {"A": -3.0}})
    rm = compute_radiomap(SITE, APS[:1], resolution_m=2.0, model=m)
    x, y = rm.xs[3], rm.ys[2]
    d = np.sqrt((x - 5) ** 2 + (y - 10) ** 2 + 2.8 ** 2)
    assert rm.rssi_dbm[0, 2, 3] == pytest.approx(10 + 2 - 3 - 40 - 20 * np.log10(d), abs=1e-3)


def run(*args):
    return subprocess.run([sys.executable, "-m", "wifiplan", *map(str, args)],
                          capture_output=True, text=True)


@pytest.mark.parametrize("site_path", SAMPLE_SITES, ids=lambda p: p.stem)
def test_predict_contract_on_every_sample(site_path, tmp_path):
    site = load_site(site_path)
    plan = load_plan(plan_path_of(site_path))
    minx, miny, maxx, maxy = site.bounds
    pts = pd.DataFrame({"x_m": np.linspace(minx + 1, maxx - 1, 7),
                        "y_m": np.linspace(miny + 1, maxy - 1, 7)})
    pts.to_csv(tmp_path / "p.csv", index=False)
    r = run("predict", site_path, plan_path_of(site_path), "--points", tmp_path / "p.csv",
            "-o", tmp_path / "out.csv")
    assert r.returncode == 0, r.stderr
    out = pd.read_csv(tmp_path / "out.csv")
    assert list(out.columns) == ["x_m", "y_m", "ap_id", "rssi_dbm"]
    assert len(out) == 7 * len(plan.aps)
    assert set(out["ap_id"]) == {a.id for a in plan.aps}
    assert np.isfinite(out["rssi_dbm"]).all() and (out["rssi_dbm"] < 0).all()
    # the strongest AP at a point near an AP is that AP
    a = plan.aps[0]
    pd.DataFrame({"x_m": [a.x_m + 0.5], "y_m": [a.y_m]}).to_csv(tmp_path / "q.csv", index=False)
    assert run("predict", site_path, plan_path_of(site_path), "--points", tmp_path / "q.csv",
               "-o", tmp_path / "o2.csv").returncode == 0
    o2 = pd.read_csv(tmp_path / "o2.csv")
    assert o2.loc[o2["rssi_dbm"].idxmax(), "ap_id"] == a.id


@pytest.mark.parametrize("site_path", SAMPLE_SITES, ids=lambda p: p.stem)
def test_heatmap_on_every_sample(site_path, tmp_path):
    r = run("heatmap", site_path, plan_path_of(site_path), "-o", tmp_path / "m.png",
            "--resolution", "2")
    assert r.returncode == 0, r.stderr
    data = (tmp_path / "m.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20000


def test_predict_bad_points_file(tmp_path):
    site = SAMPLE_SITES[0]
    (tmp_path / "p.csv").write_text("x_m,y_m\n1,2\n3,abc\n")
    r = run("predict", site, plan_path_of(site), "--points", tmp_path / "p.csv", "-o",
            tmp_path / "o.csv")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "p.csv:3: column y_m: expected a finite number of metres" in r.stderr
    assert "got 'abc'" in r.stderr
    assert not (tmp_path / "o.csv").exists()
