"""The fast kernels equal the brute-force reference (wifiplan.radio.geometry.penetration_reference).

Random sites from hypothesis: walls as segments and polylines, rectangles and random convex
polygons as obstacles, heights around the AP and client heights, APs anywhere including on
walls, on obstacle corners and edges and on integer coordinates, grids of random resolution
and origin (so that grid points fall on walls and region boundaries). Plus a non-convex
(L-shaped) obstacle, hand-made degenerate cases, a sample site, and RadioMap.with_aps.
"""
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from wifiplan.radio.kernel import (_convex_hull, penetration_grid_fast, penetration_grids_fast,
                             penetration_points_fast)
from wifiplan.radio.geometry import Geometry, penetration_reference
from wifiplan.radio.radiomap import _derived, _derived_reference, compute_radiomap

ROOT = Path(__file__).resolve().parents[1]
MATERIALS = ["a", "b", "c"]
LOSSES = np.array([3.0, 7.5, 2.3])
TOL_DB = 0.01
# the oracle divides by denormal denominators on some random sites
pytestmark = pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")

coord = st.one_of(st.integers(0, 12).map(float),
                  st.integers(0, 24).map(lambda v: v / 2.0),
                  st.floats(0.0, 12.0, allow_nan=False, allow_infinity=False))
point = st.tuples(coord, coord)
height = st.one_of(st.sampled_from([0.5, 1.2, 2.0, 2.8, 4.0, 7.0]),
                   st.floats(0.0, 8.0, allow_nan=False, allow_infinity=False))


@st.composite
def convex_polygon(draw):
    if draw(st.booleans()):
        x0, y0 = draw(point)
        size = st.one_of(st.sampled_from([0.5, 1.0, 2.0, 3.0]), st.floats(0.1, 4.0))
        w, h = draw(size), draw(size)
        poly = np.array([[x0, y0], [x0 + w, y0], [x0 + w, y0 + h], [x0, y0 + h]])
    else:
        pts = np.array(draw(st.lists(point, min_size=3, max_size=7)))
        poly = _convex_hull(pts)
        assume(len(poly) >= 3)
        x, y = poly[:, 0], poly[:, 1]
        assume(abs(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y)) > 0.05)
    if draw(st.booleans()):
        poly = poly[::-1]
    return np.roll(poly, draw(st.integers(0, len(poly) - 1)), axis=0)


@st.composite
def scenes(draw, max_walls=6, max_obstacles=4):
    seg, mat, closed = [], [], []
    for _ in range(draw(st.integers(0, max_walls))):
        pts = draw(st.lists(point, min_size=2, max_size=4))
        m = draw(st.integers(0, 2))
        for j in range(len(pts) - 1):
            seg.append([*pts[j], *pts[j + 1]])
            mat.append(m)
            closed.append(j == len(pts) - 2)
    polys = [draw(convex_polygon()) for _ in range(draw(st.integers(0, max_obstacles)))]
    tops = [draw(height) for _ in polys]
    omat = [draw(st.integers(0, 2)) for _ in polys]
    seg = np.array(seg, float).reshape(-1, 4)
    mat = np.array(mat, int)
    omat = np.array(omat, int)
    geom = Geometry(seg, LOSSES[mat] if len(mat) else np.zeros(0), mat, np.array(closed, bool),
                    polys, np.array(tops, float), LOSSES[omat] if len(omat) else np.zeros(0),
                    omat, MATERIALS)
    where = draw(st.sampled_from(["free", "wall", "obstacle"]))
    if where == "wall" and len(seg):
        k = draw(st.integers(0, len(seg) - 1))
        s = draw(st.one_of(st.sampled_from([0.0, 0.5, 1.0]), st.floats(0, 1)))
        ax, ay = seg[k, :2] + s * (seg[k, 2:] - seg[k, :2])
    elif where == "obstacle" and polys:
        p = polys[draw(st.integers(0, len(polys) - 1))]
        j = draw(st.integers(0, len(p) - 1))
        s = draw(st.one_of(st.sampled_from([0.0, 0.5]), st.floats(0, 1)))
        ax, ay = p[j] + s * (p[(j + 1) % len(p)] - p[j])
    else:
        ax, ay = draw(point)
    ap = (float(ax), float(ay), draw(height))
    client_h = draw(st.one_of(st.sampled_from([1.2, 2.0]), st.floats(0.5, 3.0)))
    return geom, ap, client_h


@st.composite
def grids(draw):
    res = draw(st.one_of(st.sampled_from([0.25, 0.5, 1.0, 2.0]), st.floats(0.2, 1.5)))
    x0 = draw(st.one_of(st.sampled_from([0.0, -0.5, 0.5 * res]), st.floats(-1.0, 1.0)))
    y0 = draw(st.one_of(st.sampled_from([0.0, -0.5, 0.5 * res]), st.floats(-1.0, 1.0)))
    nx = draw(st.integers(1, 40))
    ny = draw(st.integers(1, 40))
    return x0 + res * np.arange(nx), y0 + res * np.arange(ny)


def assert_grid_equal(geom, ap, xs, ys, client_h):
    X, Y = np.meshgrid(xs, ys)
    ref = penetration_reference(geom, ap, X, Y, client_h)
    fast = penetration_grid_fast(geom, ap, xs, ys, client_h)
    assert fast.shape == ref.shape
    if ref.size:
        assert np.abs(fast - ref).max() <= TOL_DB


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scene=scenes(), grid=grids())
def test_grid_kernel_equals_reference(scene, grid):
    geom, ap, client_h = scene
    assert_grid_equal(geom, ap, *grid, client_h)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scene=scenes(), grid=grids(), others=st.lists(st.tuples(point, height), max_size=4))
def test_several_aps_together_equal_the_reference(scene, grid, others):
    geom, ap, client_h = scene
    aps = [ap] + [(x, y, h) for (x, y), h in others]
    xs, ys = grid
    X, Y = np.meshgrid(xs, ys)
    out = penetration_grids_fast(geom, aps, xs, ys, client_h)
    assert out.shape == (len(aps), len(ys), len(xs))
    for a, layer in zip(aps, out):
        assert np.abs(layer - penetration_reference(geom, a, X, Y, client_h)).max() <= TOL_DB


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scene=scenes(), grid=grids(), others=st.lists(st.tuples(point, height), max_size=3),
       images=st.lists(height, min_size=4, max_size=4))
def test_image_heights_pair_equals_the_reference_at_both_heights(scene, grid, others, images):
    # the hall model's pair: the APs at their heights and at their roof images' heights,
    # the walls computed once for both
    geom, ap, client_h = scene
    aps = [ap] + [(x, y, h) for (x, y), h in others]
    xs, ys = grid
    X, Y = np.meshgrid(xs, ys)
    hi = images[:len(aps)]
    direct, image = penetration_grids_fast(geom, aps, xs, ys, client_h, image_heights=hi)
    for a, h, d, r in zip(aps, hi, direct, image):
        assert np.abs(d - penetration_reference(geom, a, X, Y, client_h)).max() <= TOL_DB
        assert np.abs(r - penetration_reference(geom, (a[0], a[1], h), X, Y, client_h)).max() \
            <= TOL_DB


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scene=scenes(), grid=grids(),
       extra=st.lists(point, max_size=20))
def test_point_kernel_equals_reference(scene, grid, extra):
    geom, ap, client_h = scene
    X, Y = np.meshgrid(*grid)
    px = np.concatenate([X.ravel(), [p[0] for p in extra], [ap[0]]])
    py = np.concatenate([Y.ravel(), [p[1] for p in extra], [ap[1]]])
    ref = penetration_reference(geom, ap, px, py, client_h)
    assert np.abs(penetration_points_fast(geom, ap, px, py, client_h) - ref).max() <= TOL_DB
    cnt = penetration_points_fast(geom, ap, px, py, client_h, by_material=True)
    assert np.array_equal(cnt, penetration_reference(geom, ap, px, py, client_h, by_material=True))


def one_geom(walls=(), polys=(), tops=(), losses=None):
    seg = np.array([w for w in walls], float).reshape(-1, 4)
    mat = np.zeros(len(seg), int)
    omat = np.arange(len(polys), dtype=int) % 3
    return Geometry(seg, np.full(len(seg), 10.0), mat, np.ones(len(seg), bool),
                    [np.asarray(p, float) for p in polys], np.array(tops, float),
                    LOSSES[omat] if len(omat) else np.zeros(0), omat, MATERIALS)


L_SHAPE = [[2, 2], [8, 2], [8, 4], [4, 4], [4, 8], [2, 8]]


@pytest.mark.parametrize("ap", [(6.0, 6.0, 4.0), (6.0, 6.0, 1.0), (0.5, 0.5, 7.0), (10, 3, 2.0),
                                (3.0, 3.0, 4.0), (3.0, 3.0, 1.0), (4.0, 4.0, 3.0), (6, 4, 6.0)])
@pytest.mark.parametrize("top", [1.2, 3.0, 5.0])
def test_l_shaped_obstacle(ap, top):
    # the notch (6, 6) lies inside the hull but outside the footprint; (3, 3) inside it;
    # (4, 4) is the reflex corner, (6, 4) on an edge
    geom = one_geom(polys=[L_SHAPE], tops=[top])
    xs = np.arange(-0.5, 12.01, 0.25)
    ys = np.arange(-0.5, 12.01, 0.5)
    assert_grid_equal(geom, ap, xs, ys, 1.2)
    X, Y = np.meshgrid(xs, ys)
    ref = penetration_reference(geom, ap, X, Y, 1.2)
    assert np.abs(penetration_points_fast(geom, ap, X, Y, 1.2) - ref).max() <= TOL_DB
    if ap == (6.0, 6.0, 4.0) and top == 5.0:
        # a path across the notch is blocked, one over the free notch is not
        assert ref[np.searchsorted(ys, 6.0), np.searchsorted(xs, 1.0)] == LOSSES[0]
        assert ref[np.searchsorted(ys, 10.0), np.searchsorted(xs, 10.0)] == 0.0


DEGENERATE = [
    # AP on a diagonal wall (the wall's line passes through it up to rounding)
    dict(walls=[(0.1, 0.3, 7.3, 9.9)], ap=(0.1 + 0.37 * 7.2, 0.3 + 0.37 * 9.6, 3.0)),
    # AP on the line of an axis-aligned wall, beyond its end; grid points on the wall
    dict(walls=[(2, 2, 2, 6)], ap=(2.0, 9.0, 3.0)),
    dict(walls=[(2, 2, 2, 6), (2, 6, 8, 6)], ap=(2.0, 6.0, 3.0)),
    # grid rows through the AP and along walls
    dict(walls=[(0, 5, 10, 5), (5, 0, 5, 10)], ap=(3.0, 5.0, 3.0)),
    # obstacle tops equal to the client or the AP height, AP inside, on a corner, below top
    dict(polys=[[[2, 2], [6, 2], [6, 4], [2, 4]]], tops=[1.2], ap=(8.0, 8.0, 4.0)),
    dict(polys=[[[2, 2], [6, 2], [6, 4], [2, 4]]], tops=[4.0], ap=(8.0, 8.0, 4.0)),
    dict(polys=[[[2, 2], [6, 2], [6, 4], [2, 4]]], tops=[3.0], ap=(3.0, 3.0, 4.0)),
    dict(polys=[[[2, 2], [6, 2], [6, 4], [2, 4]]], tops=[3.0], ap=(6.0, 4.0, 4.0)),
    dict(polys=[[[2, 2], [6, 2], [6, 4], [2, 4]]], tops=[3.0], ap=(8.0, 2.0, 2.0)),
    dict(polys=[[[2, 2], [6, 2], [6, 4], [2, 4]]], tops=[8.0], ap=(4.0, 8.0, 7.0)),
    # AP below the client (ascending path)
    dict(polys=[[[2, 2], [6, 2], [6, 4], [2, 4]]], tops=[1.5], ap=(8.0, 8.0, 1.0)),
    dict(polys=[[[1, 1], [4, 2], [3, 5]]], tops=[2.5], ap=(7.0, 0.0, 1.0)),
]


@pytest.mark.parametrize("case", DEGENERATE)
@pytest.mark.parametrize("client_h", [1.2, 2.0])
def test_degenerate_cases(case, client_h):
    geom = one_geom(case.get("walls", ()), case.get("polys", ()), case.get("tops", ()))
    for res in (0.5, 1.0, 0.25):
        xs = np.arange(0, 10.001, res)
        ys = np.arange(0, 10.001, res)
        assert_grid_equal(geom, case["ap"], xs, ys, client_h)
        X, Y = np.meshgrid(xs, ys)
        ref = penetration_reference(geom, case["ap"], X, Y, client_h)
        got = penetration_points_fast(geom, case["ap"], X, Y, client_h)
        assert np.abs(got - ref).max() <= TOL_DB


def test_sample_site_equals_reference():
    from wifiplan.plan import load_plan
    from wifiplan.radio.propagation import PropagationModel
    from wifiplan.radio.radiomap import grid_axes
    from wifiplan.site import load_site
    site = load_site(ROOT / "floorplans" / "large-hall.yaml")
    plan = load_plan(ROOT / "floorplans" / "large-hall.plan.yaml", site=site)
    model = PropagationModel.for_site(site)
    geom = Geometry.from_site(site, model.material_losses)
    minx, miny, maxx, maxy = site.bounds
    xs, ys = grid_axes((minx + 160, miny, maxx, maxy), 0.5)   # the warehouse and its racks
    for a in (plan.aps[30],):
        assert_grid_equal(geom, (a.x_m, a.y_m, a.height_m), xs, ys, model.client_height_m)


def test_with_aps_one_moved_equals_full_recompute():
    from wifiplan.plan import load_plan
    from wifiplan.site import load_site
    site = load_site(ROOT / "floorplans" / "production-line.yaml")
    aps = load_plan(ROOT / "floorplans" / "production-line.plan.yaml", site=site).aps
    rm = compute_radiomap(site, aps, resolution_m=0.5)
    rm.sinr_db                                        # fills the per-layer caches
    moved = list(aps)
    moved[0] = replace(moved[0], x_m=moved[0].x_m + 3.25, y_m=moved[0].y_m + 1.5)
    upd = rm.with_aps(moved)
    full = compute_radiomap(site, moved, resolution_m=0.5)
    assert np.array_equal(upd.rssi_dbm, full.rssi_dbm)
    for q in ("best_server", "second_server", "best_rssi_dbm", "second_rssi_dbm", "sinr_db",
              "co_channel_separation_db"):
        assert np.array_equal(getattr(upd, q), getattr(full, q), equal_nan=True), q
    assert not np.array_equal(upd.rssi_dbm[0], rm.rssi_dbm[0])
    np.testing.assert_array_equal(upd.rssi_dbm[1:], rm.rssi_dbm[1:])
    # and a power change reuses the layers
    p = rm.with_powers([a.tx_power_dbm - 2 for a in aps])
    np.testing.assert_allclose(p.rssi_dbm, rm.rssi_dbm - 2, atol=1e-5)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 9), ties=st.booleans(), seed=st.integers(0, 2 ** 31))
def test_derived_layer_by_layer_equals_stacked(n, ties, seed):
    rng = np.random.default_rng(seed)
    rssi = rng.uniform(-95, -30, (n, 7, 9)).astype(np.float32)
    if ties:
        rssi = np.round(rssi / 5) * 5
    ch = rng.choice([36, 40, 44, 149], n)
    for got, want in zip(_derived(rssi, ch), _derived_reference(rssi, ch)):
        assert got.dtype == want.dtype
        assert np.array_equal(got, want, equal_nan=True)


# --------------------------------------------------------------------------------------
# The benchmark inputs (benchmarks/): generated deterministically, readable by the library
# --------------------------------------------------------------------------------------


def _bench_module(name):
    import importlib.util
    spec = importlib.util.spec_from_file_location(f"bench_{name}",
                                                  ROOT / "benchmarks" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_xl_site_is_the_size_issue_4_asks_for_and_deterministic():
    xl = _bench_module("xl_site")
    site, plan = xl.xl_site()
    n_seg = sum(len(w.points) - 1 for w in site.walls)
    assert 900 <= n_seg <= 1200 and len(site.obstacles) == 300 and len(plan.aps) == 150
    assert site.bounds == (0.0, 0.0, 400.0, 200.0)
    assert site.inside_outline([a.x_m for a in plan.aps], [a.y_m for a in plan.aps]).all()
    assert xl.xl_site_dict() == xl.xl_site_dict()
    geom = Geometry.from_site(site)
    from wifiplan.radio.kernel import _prep
    assert not _prep(geom).convex.all()          # some L-shaped (non-convex) footprints


def test_quality_halls_are_deterministic_valid_sites_of_every_kind():
    import yaml
    from wifiplan.site import parse_site
    pq = _bench_module("plan_quality")
    assert pq.hall_dict(7) == pq.hall_dict(7) and pq.hall_dict(7) != pq.hall_dict(12)
    assert pq._seeds("0-2,7") == [0, 1, 2, 7]
    for seed in range(len(pq.KINDS)):
        d = pq.hall_dict(seed)
        assert d["name"].endswith(pq.KINDS[seed])
        site = parse_site(yaml.safe_dump(d), f"hall-{seed}.yaml")
        assert site.zones and site.obstacles
        kinds = {o.material for o in site.obstacles}
        assert ("metal-rack" in kinds) == (pq.KINDS[seed] in ("racks", "mixed"))


def test_bench_survey_file_is_native_and_read_by_the_survey_reader(tmp_path):
    from wifiplan.survey import read_survey
    h = _bench_module("harness")
    p = h.write_survey_csv(tmp_path / "s.csv", rows=1600)
    assert p.read_text().splitlines()[0] == "x_m,y_m,bssid,ssid,channel,rssi_dbm"
    df, meta = read_survey(p)
    assert len(df) > 0


def test_bench_table_marks_targets():
    h = _bench_module("harness")
    text = h.format_table({"radiomap_large_s": 0.25, "radiomap_large_cpu_s": 0.39,
                           "plan_large_s": 45.0, "survey_import_rows_per_s": 3e5,
                           "plan_xl_error": "exit 1: boom"})
    lines = {ln.split("  ")[0].strip(): ln for ln in text.splitlines()}
    assert lines["Large hall radio map, 0.5 m, all APs [s]"].rstrip().endswith("ok")
    assert lines["Planner, large hall, end to end [s]"].rstrip().endswith("MISSED")
    assert "ERROR" in text


def test_bench_command_is_registered(capsys):
    from wifiplan.cli import main
    with pytest.raises(SystemExit) as e:
        main(["bench", "--help"])
    assert e.value.code == 0
    assert "--quick" in capsys.readouterr().out
