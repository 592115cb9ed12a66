"""DXF import: a drawing written here with ezdxf, in millimetres, imports to metres."""
from __future__ import annotations

import subprocess
import sys

import ezdxf
import numpy as np
import pytest

from wifiplan import InputError, load_site
from wifiplan.cli import main
from wifiplan.dxf import dxf_layers, import_dxf, parse_layer_map, read_dxf


def make_plan_dxf(path, *, insunits=4, offset=(0.0, 0.0), outline=True):
    """A 30 m x 20 m hall drawn in millimetres (unless ``insunits`` says otherwise).

    - OUTLINE: closed polyline of the hall
    - WALLS: a concrete wall x = 10 m from y 0 to 12 m (LINE) and an L-shaped office wall
      (open LWPOLYLINE (20, 20) -> (20, 14) -> (30, 14))
    - GLASS: a window x 10 m, y 12 to 15 m
    - MACHINES: a closed 2 m x 3 m footprint at (4, 4), thickness 2500 mm, and a circle
    - TEXT: a label (not mapped, ignored)
    """
    doc = ezdxf.new()
    doc.header["$INSUNITS"] = insunits
    msp = doc.modelspace()
    s = 1000.0 if insunits == 4 else 1.0
    ox, oy = offset

    def p(x, y):
        return (ox + x * s, oy + y * s)

    if outline:
        msp.add_lwpolyline([p(0, 0), p(30, 0), p(30, 20), p(0, 20)], close=True,
                           dxfattribs={"layer": "OUTLINE"})
    msp.add_line(p(10, 0), p(10, 12), dxfattribs={"layer": "WALLS"})
    msp.add_lwpolyline([p(20, 20), p(20, 14), p(30, 14)], dxfattribs={"layer": "WALLS"})
    msp.add_line(p(10, 12), p(10, 15), dxfattribs={"layer": "GLASS"})
    msp.add_lwpolyline([p(4, 4), p(6, 4), p(6, 7), p(4, 7)], close=True,
                       dxfattribs={"layer": "MACHINES", "thickness": 2.5 * s})
    msp.add_circle(p(25, 5), radius=0.5 * s, dxfattribs={"layer": "MACHINES"})
    msp.add_text("Hall", dxfattribs={"layer": "TEXT"}).set_placement(p(15, 10))
    doc.saveas(path)
    return path


@pytest.fixture
def plan_dxf(tmp_path):
    return make_plan_dxf(tmp_path / "hall.dxf")


LAYERS = {"WALLS": "concrete", "GLASS": "glass"}


def test_millimetre_drawing_imports_in_metres(plan_dxf):
    site, rep = import_dxf(plan_dxf, LAYERS, obstacle_layers={"MACHINES": ("machinery", 2.0)},
                           outline_layer="OUTLINE", name="Hall")
    assert rep.units == "mm"
    assert rep.scale_to_m == pytest.approx(0.001)
    assert site.name == "Hall"
    assert site.bounds == pytest.approx((0.0, 0.0, 30.0, 20.0))
    assert site.area_m2 == pytest.approx(600.0)
    by_mat = {}
    for w in site.walls:
        by_mat.setdefault(w.material, []).append(w.points)
    assert len(by_mat["concrete"]) == 2 and len(by_mat["glass"]) == 1
    line = [w for w in by_mat["concrete"] if len(w) == 2][0]
    np.testing.assert_allclose(line, [[10, 0], [10, 12]])
    poly = [w for w in by_mat["concrete"] if len(w) == 3][0]
    np.testing.assert_allclose(poly, [[20, 20], [20, 14], [30, 14]])
    np.testing.assert_allclose(by_mat["glass"][0], [[10, 12], [10, 15]])
    # obstacles: the rectangle takes its height from the DXF thickness (2500 mm)
    rect = [o for o in site.obstacles if len(o.polygon) == 4][0]
    np.testing.assert_allclose(rect.polygon, [[4, 4], [6, 4], [6, 7], [4, 7]])
    assert rect.height_m == pytest.approx(2.5)
    assert rect.material == "machinery"
    circle = [o for o in site.obstacles if len(o.polygon) > 4][0]
    assert circle.height_m == pytest.approx(2.0)
    from shapely.geometry import Polygon
    assert Polygon(circle.polygon).area == pytest.approx(np.pi * 0.25, rel=0.03)
    assert np.allclose(Polygon(circle.polygon).centroid.coords[0], (25, 5), atol=1e-6)
    assert rep.walls_per_layer == {"WALLS": 2, "GLASS": 1}
    assert rep.obstacles_per_layer == {"MACHINES": 2}


def test_outline_from_extents_and_origin_moved(tmp_path):
    path = make_plan_dxf(tmp_path / "shifted.dxf", offset=(500_000.0, 250_000.0), outline=False)
    site, rep = import_dxf(path, LAYERS)
    # no closed polyline holds the walls (the only one is the 2 m x 3 m machine at x 4 m):
    # the extent of everything drawn, the unmapped machine layer included: x 4..30 m,
    # y 0..20 m (the walls alone reach only from x 10 m), moved to the origin
    assert site.bounds == pytest.approx((0.0, 0.0, 26.0, 20.0))
    assert rep.offset_m == pytest.approx((-504.0, -250.0))
    assert rep.outline_from == ("the extent of everything drawn (no closed polyline holds the "
                                "walls and obstacles)")
    np.testing.assert_allclose([w.points for w in site.walls if w.material == "glass"][0],
                               [[6, 12], [6, 15]])
    assert "origin moved by (-504.000, -250.000) m" in site.extra["description"]


def test_outline_is_the_largest_closed_polyline_of_the_drawing(tmp_path, capsys):
    path = make_plan_dxf(tmp_path / "area.dxf", outline=False)
    doc = ezdxf.readfile(path)
    # an unmapped area layer: a 40 m x 25 m closed polyline around the walls; the walls
    # stop at x 30 m, the floor goes on to 40 m
    doc.modelspace().add_lwpolyline([(0, 0), (40_000, 0), (40_000, 25_000), (0, 25_000)],
                                    close=True, dxfattribs={"layer": "A-AREA"})
    doc.saveas(path)
    site, rep = import_dxf(path, LAYERS)
    assert site.bounds == pytest.approx((0.0, 0.0, 40.0, 25.0))
    assert site.area_m2 == pytest.approx(1000.0)
    assert rep.outline_from == "the largest closed polyline of the drawing (layer 'A-AREA')"
    out = tmp_path / "area.yaml"
    assert main(["import-dxf", str(path), "--layer", "WALLS=concrete", "-o", str(out)]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == "outline: the largest closed polyline of the drawing (layer 'A-AREA')"
    # a closed polyline that leaves a wall outside is not the floor: the extent instead
    doc.modelspace().add_line((45_000, 0), (45_000, 10_000), dxfattribs={"layer": "WALLS"})
    doc.saveas(path)
    site, rep = import_dxf(path, LAYERS)
    assert site.bounds == pytest.approx((0.0, 0.0, 45.0, 25.0))
    assert rep.outline_from.startswith("the extent of everything drawn")


def test_layer_listing(plan_dxf):
    rows = {r["layer"]: r for r in dxf_layers(read_dxf(plan_dxf))}
    assert rows["WALLS"]["lines"] == 2 and rows["WALLS"]["closed"] == 0
    assert rows["MACHINES"]["closed"] == 2
    assert rows["OUTLINE"]["closed"] == 1
    assert rows["TEXT"]["entities"] == 1 and rows["TEXT"]["lines"] == 0


def test_block_references_are_expanded(tmp_path):
    doc = ezdxf.new()
    doc.header["$INSUNITS"] = 6
    blk = doc.blocks.new("BAY")
    blk.add_line((0, 0), (0, 5), dxfattribs={"layer": "0"})          # takes the INSERT's layer
    msp = doc.modelspace()
    for x in (0, 10, 20):
        msp.add_blockref("BAY", (x, 0), dxfattribs={"layer": "WALLS"})
    path = tmp_path / "blocks.dxf"
    doc.saveas(path)
    site, rep = import_dxf(path, {"WALLS": "brick"})
    assert rep.walls_per_layer == {"WALLS": 3}
    assert sorted(w.points[0, 0] for w in site.walls) == [0, 10, 20]


def test_errors_are_one_line_input_errors(tmp_path, plan_dxf):
    with pytest.raises(InputError, match="layer 'WALL' has no entities"):
        import_dxf(plan_dxf, {"WALL": "concrete"})
    with pytest.raises(InputError,
                       match=r"unknown material 'concret' \(did you mean 'concrete'\?\)"):
        import_dxf(plan_dxf, {"WALLS": "concret"}, outline_layer="OUTLINE")
    bad = tmp_path / "bad.dxf"
    bad.write_text("this is not a drawing\n")
    with pytest.raises(InputError, match="not a readable DXF") as exc:
        import_dxf(bad, LAYERS)
    assert "\n" not in str(exc.value) and str(bad) in str(exc.value)
    # an unitless drawing in millimetres is refused with a hint
    mm_unitless = make_plan_dxf(tmp_path / "unitless.dxf", insunits=0)
    site, _ = import_dxf(mm_unitless, LAYERS)          # unitless and small: read as metres
    assert site.bounds == pytest.approx((0, 0, 30, 20))     # the unmapped OUTLINE polyline
    doc = ezdxf.new()
    doc.header["$INSUNITS"] = 0
    doc.modelspace().add_line((0, 0), (30000, 0), dxfattribs={"layer": "WALLS"})
    doc.modelspace().add_line((0, 0), (0, 20000), dxfattribs={"layer": "WALLS"})
    doc.saveas(tmp_path / "big.dxf")
    with pytest.raises(InputError, match="give the units"):
        import_dxf(tmp_path / "big.dxf", {"WALLS": "brick"})
    site, _ = import_dxf(tmp_path / "big.dxf", {"WALLS": "brick"}, units="mm")
    assert site.bounds == pytest.approx((0, 0, 30, 20))


def test_parse_layer_map():
    assert parse_layer_map(["WALLS=concrete", "G=glass"]) == {"WALLS": "concrete", "G": "glass"}
    assert parse_layer_map(["M=machinery:3.5", "R=metal-rack"], with_height=True) == {
        "M": ("machinery", 3.5), "R": ("metal-rack", 2.0)}
    with pytest.raises(InputError, match="expected LAYER=material"):
        parse_layer_map(["WALLS"])


def test_cli_import_dxf_writes_a_loadable_site(plan_dxf, tmp_path, capsys):
    out = tmp_path / "hall.yaml"
    code = main(["import-dxf", str(plan_dxf), "--layer", "WALLS=concrete", "--layer",
                 "GLASS=glass", "--obstacle-layer", "MACHINES=machinery:1.8",
                 "--outline-layer", "OUTLINE", "--name", "Hall B", "-o", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "3 walls, 2 obstacles, outline 30.0 m x 20.0 m (drawing units: mm)" in printed
    site = load_site(out)
    assert site.name == "Hall B"
    assert site.area_m2 == pytest.approx(600.0)
    assert sorted(w.material for w in site.walls) == ["concrete", "concrete", "glass"]
    assert [o.height_m for o in site.obstacles] == pytest.approx([2.5, 1.8])
    assert [z.name for z in site.zones] == ["floor"]


def test_cli_bad_input_exit_2_one_line(plan_dxf, tmp_path):
    out = tmp_path / "x.yaml"
    r = subprocess.run([sys.executable, "-m", "wifiplan", "import-dxf", str(plan_dxf),
                        "--layer", "WALLS=unobtainium", "-o", str(out)],
                       capture_output=True, text=True)
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "unknown material 'unobtainium'" in r.stderr
    assert "Traceback" not in r.stderr
    assert not out.exists()


def test_walls_drawn_with_both_faces_are_flagged(tmp_path):
    doc = ezdxf.new()
    doc.header["$INSUNITS"] = 4
    msp = doc.modelspace()
    # a 200 mm concrete wall drawn as its two faces, and a single glass line far away
    msp.add_line((10_000, 0), (10_000, 12_000), dxfattribs={"layer": "WALLS"})
    msp.add_line((10_200, 0), (10_200, 12_000), dxfattribs={"layer": "WALLS"})
    msp.add_line((20_000, 0), (20_000, 12_000), dxfattribs={"layer": "GLASS"})
    msp.add_line((0, 0), (30_000, 0), dxfattribs={"layer": "GLASS"})
    doc.saveas(tmp_path / "faces.dxf")
    site, rep = import_dxf(tmp_path / "faces.dxf", LAYERS)
    assert len(site.walls) == 4
    assert len(rep.warnings) == 1
    assert rep.warnings[0].startswith("2 concrete wall segments have a parallel twin closer "
                                      "than 0.6 m")
    # the clean drawing has no such warning
    _, clean = import_dxf(make_plan_dxf(tmp_path / "hall.dxf"), LAYERS, outline_layer="OUTLINE")
    assert clean.warnings == []


def test_cli_guesses_the_layers_from_their_names_as_the_ui_does(plan_dxf, tmp_path, capsys):
    from wifiplan.dxf import guess_layer_material, guess_layer_role
    assert [guess_layer_role(n) for n in ("OUTLINE", "WALLS", "GLASS", "MACHINES", "TEXT")] \
        == ["outline", "wall", "wall", "obstacle", "ignore"]
    assert [guess_layer_material(n) for n in ("WALLS", "GLASS", "MACHINES", "TEXT")] \
        == ["concrete", "glass", "machinery", None]
    out = tmp_path / "guessed.yaml"
    # the glass layer given explicitly wins over its guess; the rest is guessed
    assert main(["import-dxf", str(plan_dxf), "--guess-layers", "--layer", "GLASS=wood",
                 "-o", str(out)]) == 0
    site = load_site(out)
    assert sorted(w.material for w in site.walls) == ["concrete", "concrete", "wood"]
    assert [o.material for o in site.obstacles] == ["machinery", "machinery"]
    assert [o.height_m for o in site.obstacles] == pytest.approx([2.5, 2.0])
    assert site.area_m2 == pytest.approx(600.0)          # the OUTLINE layer was taken
