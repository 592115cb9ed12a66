"""The hall model: its parts against hand-computed values of the cited formulas, the fast
code against the plain reference, the building block, and its accuracy against the
ray-traced halls of tests/data/raytrace (data the model was not fitted to)."""
from __future__ import annotations

import cmath
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.integrate import quad

from conftest import short_walls_site
from wifiplan.cli import main
from wifiplan.radio.hall import (SPEED_OF_LIGHT_M_S, hall_reference_dbm, reflectance_tm,
                           room_of_site)
from wifiplan.materials import complex_permittivity, diffuse_absorption, fresnel_reflectance
from wifiplan.plan import AP, load_plan
from wifiplan.radio.geometry import penetration_reference
from wifiplan.radio.propagation import Geometry, PropagationModel, rssi_grids_dbm, rssi_points_dbm
from wifiplan.site import load_site, parse_site
from wifiplan.survey import calibrate

DATA = Path(__file__).parent / "data" / "raytrace"


# ---- Fresnel reflection and absorption (ITU-R P.2040-3) -----------------------------------

def test_permittivity_of_concrete_from_table_3():
    # eta' = 5.24, sigma = 0.0462 f^0.7822 S/m; eta'' = 17.98 sigma / f (eq. 9b), f = 5.5 GHz
    sigma = 0.0462 * 5.5 ** 0.7822
    eta = complex_permittivity("concrete", 5.5)
    assert eta.real == pytest.approx(5.24)
    assert -eta.imag == pytest.approx(17.98 * sigma / 5.5, rel=1e-9)
    assert -eta.imag == pytest.approx(0.5730, abs=1e-3)      # sigma = 0.1753 S/m at 5.5 GHz


def test_fresnel_normal_incidence_by_hand():
    eta = complex(5.24, -0.5730)
    want = abs((1 - cmath.sqrt(eta)) / (1 + cmath.sqrt(eta))) ** 2        # = 0.1553
    for pol in ("TE", "TM", "mean"):
        assert float(fresnel_reflectance("concrete", 5.5, 1.0, pol)) == pytest.approx(
            want, abs=2e-4)
    assert want == pytest.approx(0.1553, abs=1e-4)


def test_fresnel_grazing_metal_and_brewster():
    # grazing incidence reflects everything; a metal roof reflects almost everything
    assert float(fresnel_reflectance("concrete", 5.5, 0.0, "TM")) == pytest.approx(1.0)
    assert float(fresnel_reflectance("metal", 5.5, 0.5, "TM")) > 0.999
    # TM has its minimum near Brewster's angle atan(sqrt(eta')) = 66.4 deg for concrete
    t = np.radians(np.linspace(0, 89.9, 9000))
    r = fresnel_reflectance("concrete", 5.5, np.cos(t), "TM")
    assert np.degrees(t[np.argmin(r)]) == pytest.approx(math.degrees(math.atan(math.sqrt(5.24))),
                                                        abs=1.0)
    assert r.min() < 0.01


def test_diffuse_absorption_is_paris_integral():
    def integrand(t):
        return (1 - float(fresnel_reflectance("brick", 5.5, math.cos(t), "mean"))) \
            * math.sin(2 * t)
    want, _ = quad(integrand, 0, math.pi / 2)
    assert diffuse_absorption("brick", 5.5) == pytest.approx(want, abs=1e-5)
    assert diffuse_absorption("metal", 5.5) < 0.001
    assert 0.75 < diffuse_absorption("concrete", 5.5) < 0.85


def test_interpolated_reflectance_within_1e5():
    c = np.concatenate([np.random.default_rng(1).uniform(0, 1, 5000),
                        np.geomspace(1e-7, 1e-2, 5000)])
    for s in ("concrete", "metal", "wood"):
        assert np.abs(reflectance_tm(s, c) - fresnel_reflectance(s, 5.5, c, "TM")).max() < 1e-5


# ---- the diffuse level of a room (Andersen et al. 2007) -----------------------------------

BOX = """
name: box
outline: [[0, 0], [20, 0], [20, 10], [0, 10]]
building: {ceiling_height_m: 5, roof: metal, floor: concrete}
propagation: {ap_height_m: 4.0, ap_gain_dbi: 0}
zones: [{name: all, polygon: [[0, 0], [20, 0], [20, 10], [0, 10]]}]
"""


def test_diffuse_level_of_a_box_by_hand():
    site = parse_site(BOX)
    room = room_of_site(site)
    a_c, a_m = diffuse_absorption("concrete"), diffuse_absorption("metal")
    aA = 200 * a_c + 200 * a_m + 60 * 5 * a_c          # floor, roof, 60 m of outer wall, 5 m high
    assert room.absorption_area_m2 == pytest.approx(aA, rel=1e-9)
    assert room.volume_m3 == pytest.approx(1000.0)
    assert room.rooms.count == 1
    assert room.rooms.exchange[0, 0] == pytest.approx(1 / room.rooms.absorption_m2[0], rel=1e-9)
    assert room.rooms.absorption_m2[0] == pytest.approx(aA, rel=0.02)   # on the 0.5 m raster
    # the received diffuse power: lambda^2 / (pi aA) exp(-d aA / (4 V)) (Steinboeck 2013)
    lam = SPEED_OF_LIGHT_M_S / 5180e6
    model = PropagationModel.for_site(site)
    ap = AP("A", 2.0, 5.0, 4.0, 36, tx_power_dbm=10.0)
    x, y = np.array([18.0]), np.array([5.0])
    d = math.sqrt(16 ** 2 + 2.8 ** 2)
    g_low, g_roof, g_rev = model.hall_terms(np.array([16.0]), 4.0, 5180.0)
    level = model.diffuse_level(ap, model.room.rooms.label_at(x, y))
    rev = float(g_rev[0] * level[0])
    want = lam ** 2 / (math.pi * room.rooms.absorption_m2[0]) \
        * math.exp(-d * room.absorption_area_m2 / (4 * room.volume_m3))
    assert rev == pytest.approx(want, rel=1e-9)
    assert float(g_low[0]) == pytest.approx((lam / (4 * math.pi * d)) ** 2
                                            * (1 + float(fresnel_reflectance(
                                                "concrete", 5.5, 5.2 / math.hypot(16, 5.2),
                                                "TM")) * d ** 2 / (16 ** 2 + 5.2 ** 2)),
                                            rel=1e-4)


def test_two_rooms_through_an_opening_match_the_two_room_balance():
    site = parse_site("""
name: two
outline: [[0, 0], [40, 0], [40, 20], [0, 20]]
building: {ceiling_height_m: 6}
walls:
  - {from: [20, 0], to: [20, 9], material: concrete}
  - {from: [20, 12], to: [20, 20], material: concrete}
""")
    R = room_of_site(site).rooms
    assert R.count == 2
    K = R.coupling_m2[0, 1]
    # the 3 m doorway, 6 m high, plus the concrete wall's transmission
    assert K == pytest.approx(3 * 6 + 17 * 6 * 10 ** (-27.0 / 10), rel=0.1)
    A1, A2 = R.absorption_m2
    det = A1 * A2 + K * (A1 + A2)
    assert R.exchange[0, 0] == pytest.approx((A2 + K) / det, rel=1e-9)
    assert R.exchange[0, 1] == pytest.approx(K / det, rel=1e-9)


# ---- the fast code equals the plain reference ---------------------------------------------

MIXED = """
name: mixed
outline: [[0, 0], [30, 0], [30, 20], [0, 20]]
building: {ceiling_height_m: 7}
propagation: {ap_height_m: 5.0}
walls:
  - {from: [22, 0], to: [22, 8], material: concrete}
  - {from: [22, 11], to: [22, 20], material: brick}
  - {points: [[3, 14], [8, 14], [8, 20]], material: plasterboard}
obstacles:
  - {name: rack, polygon: [[10, 4], [18, 4], [18, 5.2], [10, 5.2]], material: metal-rack,\
 height_m: 6}
  - {name: press, polygon: [[12, 12], [15, 12], [15, 15], [12, 15]], material: machinery,\
 height_m: 3}
zones: [{name: all, polygon: [[0, 0], [30, 0], [30, 20], [0, 20]]}]
"""


@pytest.mark.parametrize("params", [{}, {"reverb_offset_db": -6.0, "coupling_offset_db": 4.0,
                                         "reverb_time_offset_db": 5.0}])
def test_grid_and_points_equal_the_scalar_reference(params):
    site = parse_site(MIXED)
    model = PropagationModel.for_site(site)
    if params:                                  # a calibrated model's offsets
        model = model.updated({"model": "hall", **params})
    geom = Geometry.from_site(site, model.material_losses)
    aps = [AP("A", 5.0, 8.0, 5.0, 36, tx_power_dbm=10.0), AP("B", 26.0, 15.0, 4.0, 149)]
    xs = np.arange(0.25, 30, 1.5)
    ys = np.arange(0.25, 20, 1.5)
    X, Y = np.meshgrid(xs, ys)
    grid = rssi_grids_dbm(site, aps, xs, ys, model, geom)
    pts = rssi_points_dbm(site, aps, X.ravel(), Y.ravel(), model, geom)
    for i, a in enumerate(aps):
        pen = penetration_reference(geom, (a.x_m, a.y_m, a.height_m), X.ravel(), Y.ravel(), 1.2)
        pen_r = penetration_reference(geom, (a.x_m, a.y_m, model.roof_image_height_m(a.height_m)),
                                      X.ravel(), Y.ravel(), 1.2)
        ref = hall_reference_dbm(model.room, a, X.ravel(), Y.ravel(), 1.2,
                                 model.ap_gain_dbi + model.client_gain_dbi, pen, pen_r,
                                 **params)
        np.testing.assert_allclose(pts[i], ref, atol=1e-3)
        np.testing.assert_allclose(grid[i].ravel(), ref, atol=1e-3)


# ---- the building block -----------------------------------------------------------------

@pytest.mark.parametrize("block, key", [
    ("{ceiling_height_m: -3}", "building.ceiling_height_m"),
    ("{ceiling_height_m: high}", "building.ceiling_height_m"),
    ("{roof: metl}", "building.roof"),
    ("{floor: 3}", "building.floor"),
    ("{ceiling: 8}", "building.ceiling"),
    ("[8, metal]", "building"),
])
def test_bad_building_block_is_one_line_exit_2(tmp_path, capsys, block, key):
    from wifiplan.plan import Plan, save_plan
    p = tmp_path / "s.yaml"
    p.write_text(BOX.replace("building: {ceiling_height_m: 5, roof: metal, floor: concrete}",
                             f"building: {block}"))
    plan = tmp_path / "s.plan.yaml"
    save_plan(Plan("box", [AP("A", 5.0, 5.0, 4.0, 36)]), plan)
    before = p.read_bytes()
    code = main(["heatmap", str(p), str(plan), "-o", str(tmp_path / "x.png")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1, err
    assert key in err[0] and "s.yaml" in err[0]
    assert p.read_bytes() == before and not (tmp_path / "x.png").exists()


def test_obstacle_taller_than_the_ceiling_is_an_error():
    from wifiplan.errors import InputError
    with pytest.raises(InputError, match=r"obstacles\[0\]\.height_m.*taller than the ceiling"):
        parse_site(BOX + "obstacles: [{polygon: [[5, 5], [6, 5], [6, 6], [5, 6]], "
                         "material: metal-rack, height_m: 6}]\n")


def test_building_defaults_and_round_trip():
    site = parse_site(BOX.replace("building: {ceiling_height_m: 5, roof: metal, floor: concrete}\n",
                                  ""))
    b = site.building
    assert (b.ceiling_height_m, b.roof, b.floor) == (8.0, "metal", "concrete")
    assert "building" not in site.to_dict()
    s2 = parse_site(BOX)
    assert s2.to_dict()["building"] == {"ceiling_height_m": 5, "roof": "metal",
                                        "floor": "concrete"}


# ---- accuracy against the ray-traced halls ------------------------------------------------

def _traced(name):
    site = load_site(DATA / name / f"{name}.yaml")
    plan = load_plan(DATA / name / f"{name}.plan.yaml", site=site)
    df = pd.read_csv(DATA / name / "survey.csv.gz")
    return site, plan, df


def _shares(R, ch):
    """Shares of points with a co-channel AP within 19 dB of the best, and with a second AP
    at -70 dBm or better (R: n_ap x n_pt, -inf where not heard)."""
    order = np.argsort(-R, axis=0)
    best = R[order[0], np.arange(R.shape[1])]
    second = R[order[1], np.arange(R.shape[1])]
    same = ch[:, None] == ch[order[0]][None, :]
    same[order[0], np.arange(R.shape[1])] = False
    co = np.where(same, R, -np.inf).max(axis=0)
    with np.errstate(invalid="ignore"):
        return float(np.mean(best - co < 19)), float(np.mean(second >= -70))


def _cell_mean_dbm(site, aps, x, y, model, cell_m=1.0, k=4):
    """The model's mean power [dBm] over the square cells of side ``cell_m`` centred at
    (x, y), from k x k points: what a Sionna RT radio map holds in a cell (the mean path
    gain over the cell's area, RadioMapSolver eq. (54)). A cell that a wall or a rack's face
    crosses mixes both sides of it; the model compared at the cell's centre would not."""
    off = ((np.arange(k) + 0.5) / k - 0.5) * cell_m
    ox, oy = (v.ravel() for v in np.meshgrid(off, off))
    P = rssi_points_dbm(site, aps, (x[:, None] + ox[None]).ravel(),
                        (y[:, None] + oy[None]).ravel(), model)
    return 10 * np.log10(np.mean(10 ** (P.reshape(len(aps), len(x), k * k) / 10), axis=2))


def _accuracy(name):
    site, plan, df = _traced(name)
    model = PropagationModel.for_site(site)
    idx = {a.bssid: i for i, a in enumerate(plan.aps)}
    pts = df[["x_m", "y_m"]].drop_duplicates().reset_index(drop=True)
    key = {(x, y): i for i, (x, y) in enumerate(zip(pts.x_m, pts.y_m))}
    pi = np.array([key[(x, y)] for x, y in zip(df.x_m, df.y_m)])
    ai = df.bssid.map(idx).to_numpy()
    P = _cell_mean_dbm(site, plan.aps, pts.x_m.to_numpy(), pts.y_m.to_numpy(), model)
    err = df.rssi_dbm.to_numpy() - P[ai, pi]
    M = np.full(P.shape, -np.inf)
    M[ai, pi] = df.rssi_dbm.to_numpy()
    strongest = np.argmax(M, axis=0)
    e_best = M[strongest, np.arange(M.shape[1])] - P[strongest, np.arange(M.shape[1])]
    ch = np.array([a.channel for a in plan.aps])
    return (float(np.sqrt(np.mean(err ** 2))), float(np.sqrt(np.mean(e_best ** 2))),
            _shares(M, ch), _shares(np.where(P > -90, P, -np.inf), ch))


# Must show (issue): RMSE over all heard APs within 3 dB of a least-squares fit to the data
# itself (2.5 and 4.8 dB), RMSE of the strongest AP at most 4 dB, the two shares within 0.10;
# the model's cell means against the traced cells (like with like, _cell_mean_dbm).
@pytest.mark.parametrize("name, rmse_max, best_max",
                         [("production-line", 5.5, 4.0), ("large-hall", 7.8, 4.0)])
def test_accuracy_against_the_ray_traced_hall(name, rmse_max, best_max):
    rmse, rmse_best, traced, predicted = _accuracy(name)
    assert rmse <= rmse_max
    assert rmse_best <= best_max
    assert abs(predicted[0] - traced[0]) <= 0.10        # a co-channel AP within 19 dB
    assert abs(predicted[1] - traced[1]) <= 0.10        # a second AP at -70 dBm or better


def test_rack_aisles_are_rooms_coupled_over_the_racks():
    # two rack rows reaching 7 of 8 m and the outline close an aisle (doorways at its
    # ends); the aisle exchanges power with its neighbours over the racks' tops
    site = parse_site("""
name: racks
outline: [[0, 0], [30, 0], [30, 24], [0, 24]]
building: {ceiling_height_m: 8}
obstacles:
  - {name: r1, polygon: [[3, 10], [27, 10], [27, 11.2], [3, 11.2]], material: metal-rack,\
 height_m: 7}
  - {name: r2, polygon: [[3, 14], [27, 14], [27, 15.2], [3, 15.2]], material: metal-rack,\
 height_m: 7}
  - {name: low, polygon: [[5, 2], [9, 2], [9, 5], [5, 5]], material: machinery, height_m: 2}
""")
    R = room_of_site(site).rooms
    aisle = int(R.label_at(15, 12.6))
    south, north = int(R.label_at(15, 6)), int(R.label_at(15, 20))
    assert len({aisle, south, north}) == 3
    assert len(R.doorways) >= 2                         # the aisle's ends were closed
    assert int(R.label_at(7, 3.5)) == south             # a low machine divides nothing
    # over the top: 24 m of rack with a 1 m gap to the roof (+ what passes through 20 dB)
    over = 24 * (1 + 7 * 10 ** (-2.0))
    assert R.coupling_m2[aisle, south] == pytest.approx(over, rel=0.15)
    # the aisle's own level is higher than its neighbours' for an AP in the aisle
    E = R.exchange
    assert E[aisle, aisle] > 2 * E[aisle, south]


def test_a_site_naming_a_law_is_told_it_gets_the_straight_line_model(tmp_path, capsys):
    from wifiplan.plan import Plan, save_plan
    p = tmp_path / "s.yaml"
    p.write_text(BOX.replace("propagation: {ap_height_m: 4.0, ap_gain_dbi: 0}",
                             "propagation: {model: 3gpp-inf-sl, ap_height_m: 4.0}"))
    plan = tmp_path / "s.plan.yaml"
    save_plan(Plan("box", [AP("A", 5.0, 5.0, 4.0, 36)]), plan)
    pts = tmp_path / "p.csv"
    pts.write_text("x_m,y_m\n10,5\n")
    assert main(["predict", str(p), str(plan), "--points", str(pts), "-o",
                 str(tmp_path / "o.csv")]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "propagation.model 3gpp-inf-sl" in err[0] and "s.yaml" in err[0]
    # a site on the hall model gets no note
    p.write_text(BOX)
    assert main(["predict", str(p), str(plan), "--points", str(pts), "-o",
                 str(tmp_path / "o.csv")]) == 0
    assert capsys.readouterr().err == ""


# Must show (issue): after calibration on a 4 m checkerboard half of a hall, the other half is
# predicted at least as well as the least-squares fit to all the data (2.5 and 4.8 dB).
@pytest.mark.parametrize("name, rmse_max", [("production-line", 2.5), ("large-hall", 4.8)])
def test_calibrated_on_half_predicts_the_other_half(name, rmse_max):
    site, plan, df = _traced(name)
    df = df.assign(line=np.arange(len(df)) + 2)          # as the survey reader numbers rows
    train = ((np.floor(df.x_m / 4) + np.floor(df.y_m / 4)) % 2 == 0).to_numpy()
    model, _ = calibrate(site, plan, df[train].reset_index(drop=True), folds=2)
    test = df[~train]
    pts = test[["x_m", "y_m"]].drop_duplicates().reset_index(drop=True)
    key = {(x, y): i for i, (x, y) in enumerate(zip(pts.x_m, pts.y_m))}
    pi = np.array([key[(x, y)] for x, y in zip(test.x_m, test.y_m)])
    ai = test.bssid.map({a.bssid: i for i, a in enumerate(plan.aps)}).to_numpy()
    P = _cell_mean_dbm(site, plan.aps, pts.x_m.to_numpy(), pts.y_m.to_numpy(), model)
    rmse = float(np.sqrt(np.mean((test.rssi_dbm.to_numpy() - P[ai, pi]) ** 2)))
    assert rmse <= rmse_max


def test_cells_near_walls_equal_the_distance_rule():
    """The drawn cells of the room raster are the cells within the buffer radius of some
    wall: compared with the exact point-to-segment distance on 300 random short walls (the
    buffer's polygonal arcs are inscribed in the circle, so only cells within 1 % of the
    radius of its edge may differ)."""
    from shapely.geometry import LineString

    from wifiplan.radio.rooms import cells_near
    site = parse_site(short_walls_site(300))
    xs, ys = np.arange(0.25, 200, 0.5), np.arange(0.25, 100, 0.5)
    X, Y = np.meshgrid(xs, ys)
    r = 0.375
    got = cells_near([LineString(w.points) for w in site.walls], r, X, Y)
    d = np.full(X.shape, np.inf)
    for w in site.walls:
        (x1, y1), (x2, y2) = np.asarray(w.points, float)
        ex, ey = x2 - x1, y2 - y1
        u = np.clip(((X - x1) * ex + (Y - y1) * ey) / (ex * ex + ey * ey), 0, 1)
        d = np.minimum(d, np.hypot(x1 + u * ex - X, y1 + u * ey - Y))
    sure = np.abs(d - r) > 0.01 * r
    # a buffer of 0.5 x 0.75 m^2 + pi 0.375^2 m^2 = 0.82 m^2 per wall, 3.3 cells of
    # 0.25 m^2: about 980 cells, fewer where buffers overlap
    assert 850 < got.sum() < 1050
    assert np.array_equal(got[sure], (d < r)[sure])


def test_thousands_of_short_walls_stay_small(tmp_path):
    """1,000 walls of 0.5 m over a 200 m x 100 m hall: the rooms were found through the
    buffer of the union of every wall and doorway (18 s and +400 MB here; 20,000 such walls
    took 7.5 GB); per-wall buffers in a tree take about 1 s and a few tens of MB."""
    import subprocess
    import sys
    f = tmp_path / "walls.yaml"
    f.write_text(short_walls_site(1000))
    code = ("import resource, sys\n"
            "from wifiplan.site import load_site\n"
            "from wifiplan.radio.hall import room_of_site\n"
            f"site = load_site({str(f)!r})\n"
            "r0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
            "room_of_site(site, site.material_losses())\n"
            "print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - r0) // 1024)\n")
    import os

    import wifiplan
    env = dict(os.environ, PYTHONPATH=str(Path(wifiplan.__file__).resolve().parents[1]))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, cwd=tmp_path, env=env)
    assert out.returncode == 0, out.stderr
    assert int(out.stdout.split()[-1]) < 120        # MB of peak growth
