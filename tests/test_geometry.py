"""The penetration rule on constructed cases (see wifiplan.radio.propagation's docstring).

Rule under test:
- a wall is crossed when the AP->point path meets it at one point with 0 < t <= 1 and the
  wall parameter 0 <= s <= 1: a point on a wall is behind it, a path along a wall does not
  cross it, a path through a wall's end point crosses it;
- inside a polyline the shared corner belongs to the later segment: a path through a
  polyline's corner crosses the polyline once (two separate walls meeting there: twice);
- an obstacle adds its loss once when the 3-D path is inside its footprint below its top.
Each case is checked on the point path and on the grid kernel.
"""
import numpy as np
import pytest

from wifiplan.radio.propagation import Geometry, penetration_grid, penetration_points
from wifiplan.site import site_from_dict

BASE = {"name": "t", "outline": [[-20, -20], [20, -20], [20, 20], [-20, 20]],
        "building": {"ceiling_height_m": 12.0},
        "materials": {"w": {"loss_db": 10.0}, "v": {"loss_db": 1.0}}}


def geom(walls=(), obstacles=()):
    site = site_from_dict(dict(BASE, walls=list(walls), obstacles=list(obstacles)))
    return Geometry.from_site(site)


def loss(g, ap, pt, client_h=1.2):
    """Loss [dB] by the point path and by the grid kernel; both must agree."""
    a = float(penetration_points(g, ap, np.array([pt[0]]), np.array([pt[1]]), client_h)[0])
    b = float(penetration_grid(g, ap, np.array([pt[0]], float), np.array([pt[1]], float),
                               client_h)[0, 0])
    assert a == pytest.approx(b, abs=1e-9)
    return a


def wall(p, q, m="w"):
    return {"from": list(p), "to": list(q), "material": m}


AP = (0.0, 0.0, 4.0)


def test_point_behind_two_walls():
    g = geom([wall((2, -1), (2, 1)), wall((4, -1), (4, 1))])
    assert loss(g, AP, (1, 0)) == 0
    assert loss(g, AP, (3, 0.5)) == 10
    assert loss(g, AP, (5, 0)) == 20
    assert loss(g, AP, (5, 2)) == 10     # crosses x=2 at y=0.8, passes x=4 at y=1.6 (beyond)
    assert loss(g, AP, (5, 3)) == 0      # passes both walls beyond their ends
    assert loss(g, AP, (-5, 0)) == 0     # walls behind the AP


def test_ray_along_a_wall_does_not_cross_it():
    g = geom([wall((1, 0), (3, 0))])
    assert loss(g, AP, (5, 0)) == 0
    assert loss(g, AP, (2, 0)) == 0      # a point on the wall, reached along it


def test_ray_through_a_wall_end_point_crosses_it():
    g = geom([wall((2, 0), (2, 2))])
    assert loss(g, AP, (4, 0)) == 10
    assert loss(g, AP, (4, 4)) == 10     # through the other end point (2, 2)
    assert loss(g, AP, (4, -0.5)) == 0


def test_point_on_a_wall_is_behind_it_and_ap_on_a_wall_does_not_see_it():
    g = geom([wall((2, -1), (2, 1))])
    assert loss(g, AP, (2, 0.5)) == 10
    assert loss(g, (2.0, 0.0, 4.0), (5, 0)) == 0
    assert loss(g, (2.0, 0.0, 4.0), (-3, 0)) == 0


def test_ray_through_a_polyline_corner_counts_once():
    # a polyline with its corner at (2, 0) on the path from the AP to (4, 0)
    g = geom([{"points": [[1, -1], [2, 0], [1, 1]], "material": "w"}])
    assert loss(g, AP, (4, 0)) == 10
    assert loss(g, AP, (4, 0.4)) == 10   # through the second segment only
    # two separate walls meeting at the same corner are two walls: crossed twice
    g2 = geom([wall((1, -1), (2, 0)), wall((2, 0), (1, 1))])
    assert loss(g2, AP, (4, 0)) == 20


def test_materials_add_their_own_loss():
    g = geom([wall((2, -1), (2, 1), "w"), wall((3, -1), (3, 1), "v"),
              wall((4, -1), (4, 1), "concrete")])
    assert loss(g, AP, (5, 0)) == pytest.approx(10 + 1 + 27.0)
    counts = penetration_points(g, AP, np.array([5.0, 2.5]), np.array([0.0, 0.0]), 1.2,
                                by_material=True)
    by = dict(zip(g.materials, counts[:, 0]))
    assert by == {"concrete": 1, "v": 1, "w": 1}
    assert dict(zip(g.materials, counts[:, 1])) == {"concrete": 0, "v": 0, "w": 1}


def box(x0, y0, x1, y1, height_m, material="w", name="o"):
    return {"name": name, "polygon": [[x0, y0], [x1, y0], [x1, y1], [x0, y1]],
            "material": material, "height_m": height_m}


def test_ceiling_ap_sees_over_a_low_machine_but_not_through_a_tall_rack():
    ap = (0.0, 0.0, 8.0)
    machine = geom(obstacles=[box(2, -0.5, 3, 0.5, 2.0)])
    rack = geom(obstacles=[box(2, -0.5, 3, 0.5, 6.0)])
    # path to (10, 0) leaves the footprint at x = 3: height 8 - 6.8 * 0.3 = 5.96 m
    assert loss(machine, ap, (10, 0)) == 0
    assert loss(rack, ap, (10, 0)) == 10
    # close behind the machine the path comes down below its 2 m top: blocked
    # (exit at t = 3 / 3.2, height 8 - 6.8 * 0.9375 = 1.63 m)
    assert loss(machine, ap, (3.2, 0)) == 10
    # a point inside the footprint, client below the top: blocked once
    assert loss(machine, ap, (2.5, 0)) == 10


def test_obstacle_taller_than_the_ap_blocks_everything_behind_it():
    g = geom(obstacles=[box(2, -0.5, 3, 0.5, 9.0)])
    assert loss(g, (0.0, 0.0, 8.0), (19, 0)) == 10
    assert loss(g, (0.0, 0.0, 8.0), (19, 5)) == 0   # beside the shadow


def test_client_above_the_obstacle_is_never_blocked():
    g = geom(obstacles=[box(2, -0.5, 3, 0.5, 1.0)])
    assert loss(g, (0.0, 0.0, 4.0), (2.5, 0), client_h=1.2) == 0
    assert loss(g, (0.0, 0.0, 4.0), (10, 0), client_h=1.2) == 0


def test_obstacle_loss_added_once_per_obstacle():
    # an L-shaped obstacle that the path enters twice still costs one loss
    L = {"name": "L", "material": "w", "height_m": 10.0,
         "polygon": [[2, -2], [6, -2], [6, 2], [5, 2], [5, -1], [3, -1], [3, 2], [2, 2]]}
    g = geom(obstacles=[L])
    assert loss(g, (0.0, 0.0, 4.0), (8, 0.5)) == 10
