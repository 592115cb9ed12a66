"""The Streamlit UI, page by page, with streamlit.testing.v1.AppTest.

Each test drives the app as a designer would (load a sample, plan, edit an AP, upload a
survey, generate a report) and checks what the page shows against the library's own
numbers for the same input.
"""
from __future__ import annotations

import base64
import io
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("streamlit.testing.v1")
from streamlit.testing.v1 import AppTest  # noqa: E402

from wifiplan import load_plan, load_site  # noqa: E402
from wifiplan.radio.radiomap import compute_radiomap  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
PAGES = {"site": "wifiplan/ui/pages/site.py", "plan": "wifiplan/ui/pages/plan.py",
         "survey": "wifiplan/ui/pages/survey.py", "report": "wifiplan/ui/pages/report.py"}
SMALL = "small-workshop"
PRODUCTION = "production-line"


# ---- helpers -----------------------------------------------------------------------------

def new_app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    assert not at.exception
    return at


def run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def load_sample(at: AppTest, name: str, with_plan: bool = True, resolution_m=None) -> AppTest:
    at.switch_page(PAGES["site"])
    run(at)
    at.selectbox(key="sample_name").set_value(name)
    at.checkbox(key="sample_with_plan").set_value(with_plan)
    at.button(key="load_sample").click()
    run(at)
    if resolution_m is not None:
        at.session_state["resolution_m"] = resolution_m
    return at


def goto(at: AppTest, page: str) -> AppTest:
    at.switch_page(PAGES[page])
    return run(at)


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def chart(at: AppTest, key: str) -> dict:
    """The plotly figure (JSON) of the chart with ``key``."""
    for el in at.get("plotly_chart"):
        if el.proto.id.endswith(key) or f"-{key}-" in el.proto.id or key in el.proto.id:
            return json.loads(el.proto.spec)
    raise AssertionError(f"no plotly chart {key!r}: {[e.proto.id for e in at.get('plotly_chart')]}")


def trace(fig: dict, name: str) -> dict:
    for d in fig["data"]:
        if d.get("name") == name:
            return d
    raise AssertionError(f"no trace {name!r} in {[d.get('name') for d in fig['data']]}")


def arr(v):
    """A plotly JSON array (plain list or base64 typed array) as numpy."""
    if isinstance(v, dict) and "bdata" in v:
        a = np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"]))
        shape = v.get("shape")
        if isinstance(shape, str):
            shape = [int(n) for n in shape.split(",")]
        return a.reshape(shape) if shape else a
    return np.asarray(v, dtype=object)


def raster_cells(fig: dict, rm) -> np.ndarray:
    """(ny, nx, 4) colour of each grid cell of ``rm`` in the map's raster (the figure's last
    layout image, a PNG with a block of pixels per cell, top row = highest y)."""
    from wifiplan.ui.figures import decode_png
    img = fig["layout"]["images"][-1]
    px = decode_png(img["source"])
    ny, nx = rm.best_rssi_dbm.shape
    k = px.shape[1] // nx
    assert px.shape[:2] == (ny * k, nx * k)
    assert (img["x"], img["sizex"]) == (rm.xs[0] - rm.resolution_m / 2, nx * rm.resolution_m)
    return px[::-1][k // 2::k, k // 2::k]


def table(at: AppTest, column: str):
    """The first read-only table that has ``column``, as a DataFrame."""
    for df in at.dataframe:
        v = df.value
        if column in v.columns:
            return v
    raise AssertionError(f"no table with a column {column!r}")


def pct(v) -> str:
    return f"{100 * float(v):.1f} %"


def sample(name: str):
    site = load_site(ROOT / "floorplans" / f"{name}.yaml")
    plan = load_plan(ROOT / "floorplans" / f"{name}.plan.yaml", site=site)
    return site, plan


def evaluate(site, aps, resolution_m):
    from wifiplan.evaluation import evaluate_plan
    from wifiplan.plan import Plan
    rm = compute_radiomap(site, aps, resolution_m=resolution_m)
    return evaluate_plan(site, Plan(site.name, list(aps)), radiomap=rm)


def edit_table(at: AppTest, *, edited=None, added=None, deleted=None) -> AppTest:
    """Apply cell edits to the AP table as the browser would, then rerun."""
    key = f"ap_editor_{at.session_state['plan_version']}"
    assert at.data_editor(key=key)
    at.session_state[key] = {"edited_rows": edited or {}, "added_rows": added or [],
                             "deleted_rows": deleted or []}
    return run(at)


# ---- Site --------------------------------------------------------------------------------

def test_site_page_loads_a_sample_and_shows_the_floor():
    at = new_app()
    assert at.title[0].value == "Site"
    assert "No site loaded." in [c.value for c in at.sidebar.caption]
    load_sample(at, PRODUCTION)
    site, plan = sample(PRODUCTION)
    m = metrics(at)
    assert m["Floor area"] == "2,100 m²"
    assert m["Size"] == "70 × 30 m"
    assert (m["Walls"], m["Obstacles"], m["Zones"], m["Terminals"]) == ("11", "15", "2", "3")
    assert at.subheader[0].value == "Production Line"
    assert "regulatory domain JP: channels 36, 40, 44, 48" in at.caption[0].value
    fig = chart(at, "site_figure")
    assert trace(fig, "concrete (27 dB)")["x"][:2] == [58.0, 58.0]
    aps = trace(fig, "APs (diamond: locked)")
    assert list(aps["text"]) == [a.id for a in plan.aps]
    assert list(arr(aps["x"]).astype(float)) == [a.x_m for a in plan.aps]
    zones = at.data_editor(key=f"zone_requirements_{at.session_state['site_key']}").value
    assert list(zones["zone"]) == ["line-a", "line-b"]
    assert list(zones["min RSSI [dBm]"]) == [-67, -65]
    assert list(zones["min SINR [dB]"]) == [25, 25]
    assert "cannot lie in the -65..-70 dBm band" in zones["note"].tolist()[1]
    assert "**Production Line**" in at.sidebar.markdown[0].value
    assert "3 APs · domain JP" in at.sidebar.markdown[0].value


def test_zone_requirements_are_edited_per_zone_and_checked_by_the_library():
    at = load_sample(new_app(), PRODUCTION)
    n_aps = len(at.session_state["plan"].aps)
    key = f"zone_requirements_{at.session_state['site_key']}"
    at.session_state[key] = {"edited_rows": {1: {"min SINR [dB]": 30.0, "boundary band": False}},
                             "added_rows": [], "deleted_rows": []}
    run(at)
    z = at.session_state["site"].zones[1]
    assert (z.name, z.min_sinr_db, z.boundary_band) == ("line-b", 30.0, False)
    assert at.session_state["site"].zones[0].min_sinr_db == 25.0
    assert len(at.session_state["plan"].aps) == n_aps          # the plan stays
    # the Plan page's evaluation judges line-b by its new values
    goto(at, "plan")
    assert at.session_state["evaluation"][1]["boundary_band_conflicts"] == {}
    # a value out of range is the library's message, and the site stays
    goto(at, "site")
    key = f"zone_requirements_{at.session_state['site_key']}"
    at.session_state[key] = {"edited_rows": {0: {"min SINR [dB]": 100.0}},
                             "added_rows": [], "deleted_rows": []}
    run(at)
    assert any("zones[0].min_sinr_db" in e for e in errors(at))
    assert at.session_state["site"].zones[0].min_sinr_db == 25.0


def test_a_zone_takes_a_profile_on_the_site_page_and_the_plan_page_names_what_it_misses():
    from wifiplan.evaluation import unmet_requirements
    at = load_sample(new_app(), PRODUCTION)
    key = f"zone_requirements_{at.session_state['site_key']}"
    zones = at.data_editor(key=key).value
    assert list(zones["profile"]) == ["seed", "seed"]
    assert zones["secondary [dBm]"].isna().all() and list(zones["own values"])[0] == "none"
    at.session_state[key] = {"edited_rows": {0: {"profile": "voice"}},
                             "added_rows": [], "deleted_rows": []}
    run(at)
    z = at.session_state["site"].zones[0]
    assert (z.profile, z.secondary_rssi_dbm, z.min_data_rate_mbps) == ("voice", -67.0, 24.0)
    assert at.session_state["site"].zones[1].profile == "seed"
    # an override over the profile, shown as the zone's own value
    key = f"zone_requirements_{at.session_state['site_key']}"
    at.session_state[key] = {"edited_rows": {0: {"secondary [dBm]": -60.0}},
                             "added_rows": [], "deleted_rows": []}
    run(at)
    z = at.session_state["site"].zones[0]
    assert (z.profile, z.secondary_rssi_dbm) == ("voice", -60.0)
    key = f"zone_requirements_{at.session_state['site_key']}"
    assert list(at.data_editor(key=key).value["own values"])[0] == "secondary signal -60"
    goto(at, "plan")
    ev = at.session_state["evaluation"][1]
    assert "secondary_signal_share" in ev
    missed = unmet_requirements(ev)
    assert any(m.startswith("secondary signal >= -60 dBm at ") for m in missed["line-a"])
    shown = [c.value for c in at.caption if " misses: " in c.value]
    assert shown == [f"Zone {zone} misses: {'; '.join(m)}." for zone, m in missed.items()]


def test_site_page_states_the_building_and_shows_the_rooms_of_the_hall_model():
    from wifiplan.radio.hall import room_table
    from wifiplan.radio.propagation import PropagationModel
    at = load_sample(new_app(), PRODUCTION)
    site, _ = sample(PRODUCTION)
    model = PropagationModel.for_site(site)
    caption = next(c.value for c in at.caption if c.value.startswith("Building:"))
    assert caption.startswith("Building: ceiling 6 m, metal roof, concrete floor · radio "
                              "model: hall")
    assert f"{model.room.rooms.count} coupled rooms" in caption
    at.toggle(key="show_rooms").set_value(True)
    run(at)
    fig = chart(at, "rooms_figure")
    heat = trace(fig, "rooms")
    assert heat["type"] == "heatmap"
    want = room_table(model.room)
    shown = table(at, "diffuse gain [dB]")
    assert list(shown["room"]) == list(want["room"])
    assert list(shown["diffuse gain [dB]"]) == list(want["diffuse_gain_db"])
    assert trace(fig, "doorways")["type"] == "scatter"


def test_site_yaml_upload_error_is_the_cli_message_and_the_app_keeps_working(tmp_path):
    good = (ROOT / "floorplans" / f"{SMALL}.yaml").read_text()
    bad = good.replace("material: glass", "material: glas", 1)
    (tmp_path / "workshop.yaml").write_text(bad)
    cli = subprocess.run([sys.executable, "-m", "wifiplan", "heatmap", "workshop.yaml",
                          str(ROOT / "floorplans" / f"{SMALL}.plan.yaml"), "-o", "x.png"],
                         cwd=tmp_path, capture_output=True, text=True)
    assert cli.returncode == 2
    cli_message = cli.stderr.strip().removeprefix("wifiplan: error: ")
    assert cli_message.startswith("workshop.yaml:18: walls[3].material: unknown material 'glas'")

    at = new_app()
    at.segmented_control(key="site_source").set_value("Site YAML")
    run(at)
    at.file_uploader(key="site_upload").set_value(("workshop.yaml", bad.encode(),
                                                   "application/x-yaml"))
    run(at)
    assert errors(at) == [cli_message]
    assert "No site loaded." in [c.value for c in at.sidebar.caption]
    # the designer fixes the file and uploads it again: the app carries on
    at.file_uploader(key="site_upload").set_value(("workshop.yaml", good.encode(),
                                                   "application/x-yaml"))
    run(at)
    assert errors(at) == []
    assert metrics(at)["Floor area"] == "375 m²"
    assert at.subheader[0].value == "Small Workshop"


def test_site_yaml_upload_with_a_plan_outside_the_outline(tmp_path):
    site_text = (ROOT / "floorplans" / f"{SMALL}.yaml").read_text()
    plan_text = "site: Small Workshop\naps:\n  - {id: AP1, x_m: 40, y_m: 5}\n"
    at = new_app()
    at.segmented_control(key="site_source").set_value("Site YAML")
    run(at)
    at.file_uploader(key="site_upload").set_value(("w.yaml", site_text.encode(), "text/yaml"))
    at.file_uploader(key="site_plan_upload").set_value(("w.plan.yaml", plan_text.encode(),
                                                        "text/yaml"))
    run(at)
    assert errors(at) == ["w.plan.yaml:3: aps[0]: AP AP1 at (40, 5) is outside the site outline"]


def test_dxf_import_maps_layers_to_materials():
    from test_dxf import make_plan_dxf
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        data = make_plan_dxf(Path(tmp) / "hall.dxf").read_bytes()
    at = new_app()
    at.segmented_control(key="site_source").set_value("DXF drawing")
    run(at)
    at.file_uploader(key="dxf_upload").set_value(("hall.dxf", data, "application/dxf"))
    run(at)
    layers = at.data_editor[0].value.set_index("layer")
    assert layers.loc["WALLS", "role"] == "wall" and layers.loc["WALLS", "material"] == "concrete"
    assert layers.loc["GLASS", "material"] == "glass"
    assert layers.loc["MACHINES", "role"] == "obstacle"
    assert layers.loc["OUTLINE", "role"] == "outline"
    assert layers.loc["TEXT", "role"] == "ignore"
    assert "drawing units mm" in at.caption[0].value
    at.text_input(key="dxf_name").set_value("Hall C")
    at.button(key="dxf_import").click()
    run(at)
    assert errors(at) == []
    assert at.success[0].value.startswith("Imported Hall C: 3 walls, 2 obstacles, outline "
                                          "30.0 m x 20.0 m")
    m = metrics(at)
    assert (m["Floor area"], m["Size"], m["Walls"], m["Obstacles"]) == ("600 m²", "30 × 20 m",
                                                                        "3", "2")
    glass = trace(chart(at, "site_figure"), "glass (3.1 dB)")
    assert glass["x"][:2] == [10.0, 10.0] and glass["y"][:2] == [12.0, 15.0]


def test_dxf_upload_that_is_not_a_drawing_shows_the_error():
    at = new_app()
    at.segmented_control(key="site_source").set_value("DXF drawing")
    run(at)
    at.file_uploader(key="dxf_upload").set_value(("plan.dxf", b"not a drawing\n",
                                                  "application/dxf"))
    run(at)
    assert len(errors(at)) == 1 and errors(at)[0].startswith("plan.dxf: not a readable DXF drawing")


def test_esx_upload_loads_the_site_the_plan_and_the_floor_image():
    from test_esx import hall_esx
    from wifiplan.esx import import_esx
    data = hall_esx()
    site, plan, rep = import_esx(data, source_name="hall.esx")
    at = new_app()
    at.segmented_control(key="site_source").set_value("Ekahau project")
    run(at)
    at.file_uploader(key="esx_upload").set_value(("hall.esx", data, "application/zip"))
    run(at)
    assert errors(at) == []
    assert at.success[0].value == f"Imported Hall B from hall.esx: {rep.summary()}"
    assert [w.value for w in at.warning] == rep.warnings
    m = metrics(at)
    assert (m["Walls"], m["Obstacles"], m["Zones"], m["Size"]) == ("3", "2", "2", "50 × 25 m")
    held = at.session_state["plan"]
    assert [a.to_dict() for a in held.aps] == [a.to_dict() for a in plan.aps]
    assert at.session_state["site"].to_dict() == site.to_dict()
    img = chart(at, "site_figure")["layout"]["images"][0]
    assert (img["x"], img["y"], img["sizex"], img["sizey"]) == (0.0, 25.0, 50.0, 25.0)
    # a broken project is the CLI's one line, and the app carries on
    at.file_uploader(key="esx_upload").set_value(("bad.esx", b"not a zip", "application/zip"))
    run(at)
    assert errors(at) == ["bad.esx: not a zip archive, expected an Ekahau .esx project"]


def test_floor_image_with_a_two_point_scale():
    from PIL import Image
    buf = io.BytesIO()
    Image.new("RGB", (400, 200), "white").save(buf, format="PNG")
    at = new_app()
    at.segmented_control(key="site_source").set_value("Floor image")
    run(at)
    at.file_uploader(key="image_upload").set_value(("floor.png", buf.getvalue(), "image/png"))
    run(at)
    # A and B 100 px apart are 10 m apart: 0.1 m per pixel, the image is 40 m x 20 m
    at.number_input(key="img_x1").set_value(50.0)
    at.number_input(key="img_y1").set_value(100.0)
    at.number_input(key="img_x2").set_value(150.0)
    at.number_input(key="img_y2").set_value(100.0)
    at.number_input(key="img_dist").set_value(10.0)
    at.button(key="img_create").click()
    run(at)
    assert errors(at) == []
    assert "40.0 m x 20.0 m at 100.0 mm per pixel" in at.success[0].value
    assert metrics(at)["Size"] == "40 × 20 m" and metrics(at)["Floor area"] == "800 m²"
    img = chart(at, "site_figure")["layout"]["images"][0]
    assert (img["x"], img["y"], img["sizex"], img["sizey"]) == (0.0, 20.0, 40.0, 20.0)
    # the same point twice is refused with a message, and nothing breaks
    at.number_input(key="img_x2").set_value(50.0)
    at.button(key="img_create").click()
    run(at)
    assert errors(at) == ["scale: the two points are the same pixel; mark two points that are "
                          "far apart on the image"]


def test_floor_image_bomb_is_the_readers_one_line():
    from fuzzing import bomb_png
    at = new_app()
    at.segmented_control(key="site_source").set_value("Floor image")
    run(at)
    at.file_uploader(key="image_upload").set_value(("bomb.png", bomb_png(100_000, 100_000),
                                                    "image/png"))
    run(at)
    assert errors(at) == ["bomb.png: image of 100000 x 100000 px is larger than the limit of "
                          "50,000,000 px"]


@pytest.mark.parametrize("name, shown", [("../x.yaml", "x.yaml"), ("..\\..\\x.yaml", "x.yaml"),
                                         ("\x1b[31m\x07.yaml", "?[31m?.yaml"),
                                         ("/etc/.yaml", ".yaml")])
def test_upload_names_are_shown_sanitised_and_never_a_path(name, shown):
    """Uploads are held in memory; their names only label them, with no directory part and
    no control character (Streamlit itself refuses NUL and a name without the extension)."""
    text = (ROOT / "floorplans" / f"{SMALL}.yaml").read_text()
    at = new_app()
    at.segmented_control(key="site_source").set_value("Site YAML")
    run(at)
    at.file_uploader(key="site_upload").set_value((name, text.encode(), "application/x-yaml"))
    run(at)
    assert errors(at) == []
    assert at.caption[0].value.startswith(f"upload {shown} · ")
    at.file_uploader(key="site_upload").set_value((name, b"name: [", "application/x-yaml"))
    run(at)
    assert len(errors(at)) == 1 and errors(at)[0].startswith(f"{shown}:1: ")
    at.segmented_control(key="site_source").set_value("Sample site")
    load_sample(at, SMALL, resolution_m=1.0)
    goto(at, "survey")
    csv_name = name.replace(".yaml", ".csv")
    _upload_survey(at, csv_name, b"x_m,y_m,bssid,rssi_dbm\n1,2,02:00:00:00:00:01,-50\n")
    assert len(errors(at)) == 1                 # no ssid, channel: the reader's one line
    assert errors(at)[0].startswith(f"{shown.replace('.yaml', '.csv')}:1: missing column(s)")


def test_download_names_never_leave_the_download_folder():
    from dataclasses import replace as dc_replace

    from wifiplan.ui.state import file_stem
    site = load_site(ROOT / "floorplans" / f"{SMALL}.yaml")
    for name, stem in (("Production Line", "production-line"), ("../../etc/passwd",
                                                                "etc-passwd"),
                       ("..", "site"), ("CON", "site-con"), ("a\x00b", "a-b")):
        assert file_stem(dc_replace(site, name=name)) == stem


# ---- Plan --------------------------------------------------------------------------------

def test_plan_page_metrics_and_maps_come_from_the_library():
    at = load_sample(new_app(), PRODUCTION, resolution_m=1.0)
    goto(at, "plan")
    site, plan = sample(PRODUCTION)
    ev = evaluate(site, plan.aps, 1.0)
    m = metrics(at)
    assert m["APs"] == "3"
    assert m["Primary coverage"] == pct(ev["primary_coverage"])
    assert m["Secondary coverage"] == pct(ev["secondary_coverage"])
    assert m["Boundary in -65..-70 dBm"] == pct(ev["boundary_band_share"])
    assert ("Zone line-b: the zone asks -65 dBm everywhere, so its cell boundaries cannot lie "
            "in the -65..-70 dBm band (its boundaries are not judged).") in [
        c.value for c in at.caption]
    assert [w.value for w in at.warning] == (
        ["Zones below their minimum RSSI: " + ", ".join(ev["uncovered_zones"])]
        if ev["uncovered_zones"] else [])
    fig = chart(at, "plan_map")
    rm = compute_radiomap(site, plan.aps, resolution_m=1.0)
    # the map is one raster under the site: cell (iy, ix) in the turbo colour of its
    # best-server RSSI between -90 and -30 dBm
    import matplotlib
    cells = raster_cells(fig, rm)
    t = np.clip((rm.best_rssi_dbm - (-90.0)) / 60.0, 0, 1)
    want = (matplotlib.colormaps["turbo"](t)[..., :3] * 255).round()
    np.testing.assert_allclose(cells[rm.mask][:, :3], want[rm.mask], atol=1)
    assert (cells[~rm.mask][:, 3] == 0).all()               # outside the outline: clear
    assert len(fig["layout"]["images"][-1]["source"]) < 400_000   # a raster, not megabytes
    assert trace(fig, "best-server RSSI")["marker"]["colorbar"]["title"]["text"] == "dBm"
    assert not [d for d in fig["data"] if d["type"] in ("heatmap", "contour")]
    # the -67 dBm contour is a polyline between cells on either side of -67 dBm
    line = trace(fig, "-67 dBm")
    xs = arr(line["x"])
    assert line["type"] == "scatter" and len([v for v in xs if v is not None]) > 10
    # hover at a point: best and second server with channel and RSSI
    iy, ix = 10, 20
    grid = trace(fig, "grid")
    gx, gy = arr(grid["x"]).astype(float), arr(grid["y"]).astype(float)
    k = int(np.flatnonzero((np.abs(gx - rm.xs[ix]) < 1e-3) & (np.abs(gy - rm.ys[iy]) < 1e-3))[0])
    hover = arr(grid["text"])[k]
    b, s2 = rm.best_server[iy, ix], rm.second_server[iy, ix]
    assert hover == (f"best: {plan.aps[b].id} (ch {plan.aps[b].channel}) "
                     f"{rm.best_rssi_dbm[iy, ix]:.1f} dBm<br>second: {plan.aps[s2].id} "
                     f"(ch {plan.aps[s2].channel}) {rm.second_rssi_dbm[iy, ix]:.1f} dBm")
    assert "%{text}" in grid["hovertemplate"]
    # the channel map colours each cell by its best server's channel (cell borders darker)
    from wifiplan.ui.figures import channel_colour
    at.segmented_control(key="plan_map_kind").set_value("channel")
    run(at)
    cells = raster_cells(chart(at, "plan_map"), rm)
    b = rm.best_server
    edge = np.zeros(b.shape, bool)
    edge[:, 1:] |= b[:, 1:] != b[:, :-1]
    edge[1:, :] |= b[1:, :] != b[:-1, :]
    inner = rm.mask & ~edge
    want = np.array([[int(channel_colour(plan.aps[k].channel)[i:i + 2], 16) for i in (1, 3, 5)]
                     for k in b[inner]])
    np.testing.assert_array_equal(cells[inner][:, :3], want)
    assert (cells[rm.mask & edge][:, :3].astype(int).sum(axis=1)
            < want.sum(axis=1).max()).all()
    at.segmented_control(key="plan_map_kind").set_value("boundary")
    run(at)
    from wifiplan.ui.figures import BOUNDARY_COLOURS
    cells = raster_cells(chart(at, "plan_map"), rm)
    inside_cell = np.array([int(BOUNDARY_COLOURS[0][i:i + 2], 16) for i in (1, 3, 5)])
    on_boundary = (cells[..., :3] != inside_cell).any(axis=-1)
    assert np.array_equal(on_boundary[rm.mask], rm.boundary_mask()[rm.mask])
    # the second-AP map: the second-strongest AP's level in viridis from -70 to -30 dBm where
    # it reaches the re-scan threshold, grey where no second AP does
    from wifiplan.ui.figures import NO_SECOND_COLOUR
    at.segmented_control(key="plan_map_kind").set_value("secondary")
    run(at)
    fig = chart(at, "plan_map")
    cells = raster_cells(fig, rm)
    heard = rm.mask & (rm.second_rssi_dbm >= -70.0)
    t = np.clip((rm.second_rssi_dbm - (-70.0)) / 40.0, 0, 1)
    want = (matplotlib.colormaps["viridis"](t)[..., :3] * 255).round()
    np.testing.assert_allclose(cells[heard][:, :3], want[heard], atol=1)
    grey = [int(NO_SECOND_COLOUR[i:i + 2], 16) for i in (1, 3, 5)]
    assert heard.any() and (rm.mask & ~heard).any()
    assert (cells[rm.mask & ~heard][:, :3] == grey).all()
    assert trace(fig, "second AP")["marker"]["colorbar"]["title"]["text"] == "2nd AP dBm"


def test_edit_move_lock_add_remove_and_channel_update_map_and_metrics():
    at = load_sample(new_app(), PRODUCTION, resolution_m=1.0)
    goto(at, "plan")
    site, plan = sample(PRODUCTION)
    # move AP1 from x 10 to x 14, lock it, and put AP2 on channel 48 at 11 dBm
    edit_table(at, edited={0: {"x_m": 14.0, "locked": True},
                           1: {"channel": 48, "tx_power_dbm": 11.0}})
    assert errors(at) == []
    aps = [replace(plan.aps[0], x_m=14.0, locked=True),
           replace(plan.aps[1], channel=48, tx_power_dbm=11.0), plan.aps[2]]
    ev = evaluate(site, aps, 1.0)
    after = metrics(at)
    assert after["Primary coverage"] == pct(ev["primary_coverage"])
    assert after["Boundary in -65..-70 dBm"] == pct(ev["boundary_band_share"])
    fig = chart(at, "plan_map")
    ap_trace = trace(fig, "APs (diamond: locked)")
    assert list(arr(ap_trace["x"]).astype(float)) == [14.0, 29.0, 48.0]
    assert list(ap_trace["marker"]["symbol"]) == ["diamond", "triangle-up", "triangle-up"]
    held = at.session_state["plan"]
    assert (held.aps[0].x_m, held.aps[0].locked) == (14.0, True)
    assert (held.aps[1].channel, held.aps[1].tx_power_dbm) == (48, 11.0)
    assert held.aps[1].bssid == plan.aps[1].bssid          # what the table hides is kept
    rm = at.session_state["radiomap"][1]
    np.testing.assert_allclose(
        rm.best_rssi_dbm, compute_radiomap(site, aps, resolution_m=1.0).best_rssi_dbm, atol=1e-3)
    assert np.abs(rm.best_rssi_dbm - compute_radiomap(site, plan.aps, resolution_m=1.0)
                  .best_rssi_dbm)[rm.mask].max() > 1.0    # the map followed the edit
    # add a row (no id: it becomes AP4 with the last AP's height, channel and power)
    edit_table(at, edited={0: {"x_m": 14.0, "locked": True},
                           1: {"channel": 48, "tx_power_dbm": 11.0}},
               added=[{"x_m": 62.0, "y_m": 14.0}])
    held = at.session_state["plan"]
    assert held.ids == ["AP1", "AP2", "AP3", "AP4"]
    assert (held.aps[3].x_m, held.aps[3].channel, held.aps[3].height_m) == (62.0, 40, 5.0)
    assert metrics(at)["APs"] == "4"
    ev4 = evaluate(site, held.aps, 1.0)
    assert metrics(at)["Primary coverage"] == pct(ev4["primary_coverage"])
    # remove AP3
    edit_table(at, edited={0: {"x_m": 14.0, "locked": True},
                           1: {"channel": 48, "tx_power_dbm": 11.0}},
               added=[{"x_m": 62.0, "y_m": 14.0}], deleted=[2])
    assert at.session_state["plan"].ids == ["AP1", "AP2", "AP4"]
    assert metrics(at)["APs"] == "3"
    assert list(trace(chart(at, "plan_map"), "APs (diamond: locked)")["text"]) == [
        "AP1", "AP2", "AP4"]


def test_edit_errors_are_shown_and_the_plan_stays():
    at = load_sample(new_app(), SMALL, resolution_m=1.0)
    goto(at, "plan")
    edit_table(at, edited={0: {"x_m": 30.0}})
    assert errors(at) == ["AP table: aps[0]: AP AP1 at (30, 8) is outside the site outline"]
    assert at.session_state["plan"].aps[0].x_m != 30.0
    assert metrics(at)["APs"] == "1"
    edit_table(at, added=[{"id": "AP1", "x_m": 5.0, "y_m": 5.0}])
    assert errors(at) == ["AP table: aps[1].id: duplicate AP id 'AP1'"]
    # a new row without a position waits for it
    edit_table(at, added=[{"id": "AP9"}])
    assert errors(at) == []
    assert [i.value for i in at.info] == ["New row 2: enter x and y to place the AP."]
    assert at.session_state["plan"].ids == ["AP1"]


def test_edits_survive_a_visit_to_another_page():
    at = load_sample(new_app(), SMALL, resolution_m=1.0)
    goto(at, "plan")
    edit_table(at, edited={0: {"y_m": 4.0}})
    goto(at, "site")
    goto(at, "plan")
    assert at.data_editor[0].value["y_m"].tolist() == [4.0]
    ap_trace = trace(chart(at, "plan_map"), "APs (diamond: locked)")
    assert list(arr(ap_trace["y"]).astype(float)) == [4.0]


def test_planner_runs_with_the_options_and_keeps_locked_aps():
    import wifiplan.planning as planning
    at = load_sample(new_app(), PRODUCTION, with_plan=False, resolution_m=1.0)
    goto(at, "plan")
    assert [i.value for i in at.info][0].startswith("No APs yet")
    at.multiselect(key="plan_channels").set_value([36, 44])
    at.button(key="FormSubmitter:planner_form-Run planner").click()
    run(at)
    assert errors(at) == []
    site, _ = sample(PRODUCTION)
    from wifiplan.radio.propagation import PropagationModel
    # the minimum-RSSI field left empty: every zone keeps its own requirement, as the CLI
    # plans it (it used to send -67 dBm, which replaced line-b's -65)
    assert at.number_input(key="plan_min_rssi").value is None
    direct = planning.plan_site(site, channels=[36, 44], model=PropagationModel.for_site(site))
    held = at.session_state["plan"]
    assert [(a.id, a.x_m, a.y_m, a.channel) for a in held.aps] == [
        (a.id, a.x_m, a.y_m, a.channel) for a in direct.aps]
    assert {a.channel for a in held.aps} <= {36, 44}
    assert metrics(at)["APs"] == str(len(direct.aps))
    assert at.data_editor[0].value["id"].tolist() == direct.ids
    # lock the first AP somewhere else and plan again: it stays
    edit_table(at, edited={0: {"x_m": 3.0, "y_m": 3.0, "locked": True}})
    at.checkbox(key="plan_keep_locked").set_value(True)
    at.button(key="FormSubmitter:planner_form-Run planner").click()
    run(at)
    again = at.session_state["plan"]
    kept = [a for a in again.aps if a.locked]
    assert [(a.x_m, a.y_m) for a in kept] == [(3.0, 3.0)]


def test_plan_file_upload_and_download():
    at = load_sample(new_app(), SMALL, with_plan=False, resolution_m=1.0)
    goto(at, "plan")
    text = (ROOT / "floorplans" / f"{SMALL}.plan.yaml").read_text()
    at.file_uploader(key="plan_upload").set_value(("mine.plan.yaml", text.encode(), "text/yaml"))
    run(at)
    assert metrics(at)["APs"] == "1"
    assert [b.label for b in at.get("download_button")] == ["Download plan YAML", "Export .esx"]
    bad = text.replace("channel: 36", "channel: banana")
    at.file_uploader(key="plan_upload").set_value(("bad.plan.yaml", bad.encode(), "text/yaml"))
    run(at)
    assert len(errors(at)) == 1
    assert errors(at)[0].startswith("bad.plan.yaml:4: aps[0].channel: expected a channel number")


def test_plan_page_offers_the_plan_as_an_ekahau_project():
    from wifiplan.esx import export_esx, import_esx
    at = load_sample(new_app(), SMALL, resolution_m=1.0)
    goto(at, "plan")
    assert "Export .esx" in [b.label for b in at.get("download_button")]
    site, plan = at.session_state["site"], at.session_state["plan"]
    data = at.session_state["esx_export"][1]
    assert data == export_esx(site, plan)
    site2, plan2, _ = import_esx(data)
    assert [a.to_dict() for a in plan2.aps] == [a.to_dict() for a in plan.aps]
    assert len(site2.walls) == len(site.walls)


# ---- Survey ------------------------------------------------------------------------------

def _upload_survey(at, name, data):
    at.file_uploader(key="survey_upload").set_value((name, data, "text/csv"))
    return run(at)


def test_survey_page_rejected_rows_findings_maps_and_calibration():
    import wifiplan.survey as survey
    at = load_sample(new_app(), SMALL, resolution_m=1.0)
    goto(at, "survey")
    path = ROOT / "surveys" / f"{SMALL}.csv"
    _upload_survey(at, path.name, path.read_bytes())
    assert errors(at) == []
    site, plan = sample(SMALL)
    frame, meta = survey.read_survey(path, site=site)
    doc = survey.check_survey(site, plan, frame, meta)
    s = doc["summary"]
    m = metrics(at)
    assert m["Points"] == str(s["points"])
    assert m["Measurements"] == str(s["measurements"])
    assert m["BSSIDs matched"] == f"{s['bssids_matched']} / {s['bssids_heard']}"
    assert m["Errors"] == str(s["counts"]["error"])
    assert m["Warnings"] == str(s["counts"]["warning"])
    assert at.expander[0].label == f"Rejected rows ({len(meta.rejected)})"
    rejected = table(at, "reason")
    assert rejected["line"].tolist() == [r["line"] for r in meta.rejected]
    shown = table(at, "kind")
    want = [f for f in doc["findings"] if f["severity"] in ("error", "warning")]
    assert shown["kind"].tolist() == [f["kind"] for f in want]
    # filter: only one kind of finding
    kind = sorted({f["kind"] for f in want})[0]
    at.multiselect(key="finding_kind").set_value([kind])
    run(at)
    holes = table(at, "kind")
    assert len(holes) == sum(f["kind"] == kind for f in want) > 0
    assert set(holes["kind"]) == {kind}
    # maps: measured, predicted, residual = measured - predicted on one grid
    fig = chart(at, "survey_map")
    measured = arr(fig["data"][0]["z"]).astype(float)
    at.segmented_control(key="survey_map_kind").set_value("Predicted")
    run(at)
    predicted = arr(chart(at, "survey_map")["data"][0]["z"]).astype(float)
    at.segmented_control(key="survey_map_kind").set_value("Residual")
    run(at)
    residual = arr(chart(at, "survey_map")["data"][0]["z"]).astype(float)
    ok = np.isfinite(measured)
    assert ok.sum() > 50
    np.testing.assert_allclose(residual[ok], measured[ok] - predicted[ok], atol=1e-3)
    # the library's maps: our APs only (the office's foreign AP on channel 36 is not ours)
    lib = survey.survey_maps(site, plan, frame, 1.0)
    np.testing.assert_array_equal(np.isfinite(lib["measured"].values), ok)
    np.testing.assert_allclose(measured[ok], lib["measured"].values[ok], atol=1e-3)
    np.testing.assert_allclose(predicted[ok], lib["predicted"].values[ok], atol=1e-3)
    unmatched = survey.measured_map(site, frame, 1.0)      # what the page used to show
    assert np.nanmax(np.abs(unmatched.values[ok] - measured[ok])) > 5
    # calibrate and apply
    at.button(key="calibrate").click()
    run(at)
    model, report = survey.calibrate(site, plan, frame)
    m = metrics(at)
    assert m["RMSE before"] == f"{report['rmse_before_db']:.2f} dB"
    assert m["RMSE after"] == f"{report['rmse_after_db']:.2f} dB"
    assert m["Diffuse level"] == f"{report['reverb_offset_db']:+.1f} dB"
    assert m["AP gain"] == f"{report['ap_gain_dbi']:.1f} dBi"
    at.button(key="apply_model").click()
    run(at)
    assert at.session_state["model_label"].startswith(f"calibrated from {path.name}")
    assert at.session_state["model"].model == "hall"
    goto(at, "plan")
    from wifiplan.evaluation import evaluate_plan
    rm = compute_radiomap(site, plan.aps, resolution_m=1.0, model=model)
    ev = evaluate_plan(site, plan, radiomap=rm)
    assert metrics(at)["Primary coverage"] == pct(ev["primary_coverage"])
    assert "calibrated from small-workshop.csv" in at.sidebar.markdown[0].value


def test_survey_upload_error_is_the_cli_message(tmp_path):
    at = load_sample(new_app(), SMALL, resolution_m=1.0)
    goto(at, "survey")
    bad = b"x_m,y_m,bssid,ssid,channel\n1,2,02:1a:00:00:00:01,F,36\n"
    (tmp_path / "walk.csv").write_bytes(bad)
    cli = subprocess.run([sys.executable, "-m", "wifiplan", "survey", "check",
                          str(ROOT / "floorplans" / f"{SMALL}.yaml"),
                          str(ROOT / "floorplans" / f"{SMALL}.plan.yaml"), "walk.csv",
                          "-o", "f.json"], cwd=tmp_path, capture_output=True, text=True)
    assert cli.returncode == 2
    _upload_survey(at, "walk.csv", bad)
    assert errors(at) == [cli.stderr.strip().removeprefix("wifiplan: error: ")]
    # a good file afterwards works
    path = ROOT / "surveys" / f"{SMALL}.csv"
    _upload_survey(at, path.name, path.read_bytes())
    assert errors(at) == [] and metrics(at)["Points"] != ""


# ---- Report ------------------------------------------------------------------------------

def test_report_page_generates_phase_and_offers_the_downloads():
    import wifiplan.report as report
    if not hasattr(report, "make_report"):
        pytest.skip("wifiplan.report.make_report is not part of this build")
    at = load_sample(new_app(), SMALL, resolution_m=1.0)
    goto(at, "report")
    assert at.selectbox(key="report_phase").value == 1
    at.button(key="generate_report").click()
    run(at)
    assert errors(at) == [] or errors(at)[0].startswith("Phase 1:")
    held = at.session_state["report"]
    doc = held["json"]
    assert doc["phase"]["number"] == 1 and doc["site"] == "Small Workshop"
    assert held["files"]["report.pdf"][:5] == b"%PDF-"
    assert b"<html" in held["files"]["report.html"][:500].lower()
    assert held["files"]["aps.csv"].decode().splitlines()[0].startswith(("ap", "id", "AP"))
    crit = doc["criteria"]
    passed = sum(1 for c in crit if c["passed"])
    m = metrics(at)
    assert m["Criteria passed"] == f"{passed} / {len(crit)}"
    assert m["APs in this phase"] == str(doc["ap_count"])
    shown = table(at, "verdict")
    assert shown["verdict"].tolist() == [
        {True: "PASS", False: "FAIL", None: "not measured"}[c["passed"]] for c in crit]
    from wifiplan.rollout import Criterion
    assert shown["value"].tolist() == [Criterion.from_dict(c).value_text() for c in crit]
    assert any(v.endswith(" %") for v in shown["value"])
    head = (at.success[0].value if doc["passed"] else errors(at)[0])
    assert head.startswith("Phase 1: Single-AP trial installation")
    assert [b.label for b in at.get("download_button")] == [
        "HTML report", "PDF report", "AP sheet (CSV)", "Bill of materials (CSV)",
        "Figures (JSON)"]


def test_every_page_without_a_site_points_to_the_site_page():
    at = new_app()
    for page in ("plan", "survey", "report"):
        goto(at, page)
        assert at.info[0].value.startswith("No site loaded yet")
        assert not at.get("plotly_chart")


def test_survey_wide_file_needs_its_mapping():
    import wifiplan.survey as survey
    at = load_sample(new_app(), PRODUCTION, resolution_m=1.0)
    goto(at, "survey")
    wide = ROOT / "surveys" / "production-line-wide.csv"
    apmap = ROOT / "surveys" / "production-line-wide.apmap.yaml"
    _upload_survey(at, wide.name, wide.read_bytes())
    assert len(errors(at)) == 1
    assert errors(at)[0].startswith("production-line-wide.csv:1: unrecognised columns (X, Y, "
                                    "AP1 RSS(dBm)")
    at.file_uploader(key="survey_mapping").set_value((apmap.name, apmap.read_bytes(), "text/yaml"))
    run(at)
    assert errors(at) == []
    site, plan = sample(PRODUCTION)
    frame, meta = survey.read_survey(wide, mapping=apmap, site=site)
    doc = survey.check_survey(site, plan, frame, meta)
    assert metrics(at)["Points"] == str(doc["summary"]["points"])
    assert f"wide survey, {meta.encoding}, {meta.n_rows} rows" in at.caption[0].value


def test_an_ap_over_the_eirp_limit_is_said_at_once():
    # 30 dBm at the site's 3 dBi antenna: EIRP 33 dBm over the domain's limit; the table
    # accepts the value (a plan file may hold it) and the page says which rule it breaks
    at = load_sample(new_app(), PRODUCTION, resolution_m=1.0)
    goto(at, "plan")
    edit_table(at, edited={0: {"tx_power_dbm": 30.0}})
    warned = [w.value for w in at.warning]
    assert any("EIRP 33 dBm exceeds" in w for w in warned), warned
    edit_table(at, edited={0: {"tx_power_dbm": 10.0}})
    assert not any("EIRP" in w.value for w in at.warning)


def test_plan_page_roaming_section_shows_the_library_report():
    from wifiplan.roaming import TerminalModel, simulate_roaming
    at = load_sample(new_app(), PRODUCTION, resolution_m=1.0)
    goto(at, "plan")
    assert at.button(key="roam_run")
    assert any("Simulate the walks" in c.value for c in at.caption)
    at.button(key="roam_run").click()
    run(at)
    site, plan = sample(PRODUCTION)
    rep = simulate_roaming(site, plan.aps, terminal=TerminalModel())
    m = metrics(at)
    assert m["Routes"] == str(rep["summary"]["routes"])
    assert m["Roams"] == str(rep["summary"]["roams"])
    assert m["Ping-pong roams"] == str(rep["summary"]["ping_pong_roams"])
    t = table(at, "ping-pong roams")
    assert list(t["route"]) == [r["name"] for r in rep["routes"]]
    assert list(t["roams"]) == [r["roams"] for r in rep["routes"]]
    assert list(t["longest outage [s]"]) == [r["longest_outage_s"] for r in rep["routes"]]
    assert len(at.get("image")) == 2          # the route overlay and the timeline
    # a changed setting asks for a new walk instead of showing stale figures
    at.number_input(key="roam_hysteresis").set_value(8.0)
    run(at)
    assert any("simulate again" in c.value for c in at.caption)
    assert not any("Routes" == m.label for m in at.metric)


# ---- the map editor's table, properties and history ----------------------------------------

def _library_message(site, plan, ap_id, changes, source):
    """The message the library gives for the plan with ``changes`` to AP ``ap_id``."""
    from wifiplan.errors import InputError
    from wifiplan.plan import check_plan_against_site, plan_from_dict
    rows = [dict(a.to_dict(), **(changes if a.id == ap_id else {})) for a in plan.aps]
    try:
        check_plan_against_site(plan_from_dict({"site": plan.site, "aps": rows}, source=source),
                                site)
    except InputError as exc:
        return str(exc)
    raise AssertionError("the library accepts it")


def test_table_rename_keeps_backhaul_and_out_of_range_is_refused_with_the_library_message():
    at = load_sample(new_app(), PRODUCTION, resolution_m=1.0)
    text = (ROOT / "floorplans" / f"{PRODUCTION}.plan.yaml").read_text()
    text = text.replace("port: 2", "port: 2, cable_m: 41.5", 1)
    assert "cable_m: 41.5" in text
    goto(at, "plan")
    at.file_uploader(key="plan_upload").set_value(("p.plan.yaml", text.encode(), "text/yaml"))
    run(at)
    site, plan = at.session_state["site"], at.session_state["plan"]
    old = plan.ap("AP2")
    assert old.cable_m == 41.5
    # rename AP2 (and delete AP1 in the same edit): BSSID, switch, port and cable stay
    edit_table(at, edited={1: {"id": "Press"}}, deleted=[0])
    assert errors(at) == []
    new = at.session_state["plan"].ap("Press")
    assert (new.bssid, new.switch, new.port, new.cable_m) == (old.bssid, old.switch, old.port,
                                                              41.5)
    assert at.session_state["plan"].ids == ["Press", "AP3"]
    # out of range: the library's message (the CLI's ranges), nothing clamped or dropped
    for change in ({"x_m": 999.0}, {"y_m": -5.0}, {"tx_power_dbm": 40.0}):
        before = [a.to_dict() for a in at.session_state["plan"].aps]
        edit_table(at, edited={0: change})
        held = at.session_state["plan"]
        want = _library_message(site, plan, "AP1", change, "AP table")
        assert errors(at) == [want], change
        assert [a.to_dict() for a in held.aps] == before
    assert _library_message(site, plan, "AP1", {"x_m": 999.0}, "AP table") == (
        "AP table: aps[0]: AP AP1 at (999, 10.5) is outside the site outline")
    assert _library_message(site, plan, "AP1", {"tx_power_dbm": 40.0}, "AP table") == (
        "AP table: aps[0].tx_power_dbm: 40 is out of range, expected a transmit power in dBm "
        "between -10 and 36")


def test_table_sets_an_aps_model_antenna_and_direction_and_says_what_breaks_the_rules():
    at = load_sample(new_app(), PRODUCTION, resolution_m=1.0)
    goto(at, "plan")
    site = at.session_state["site"]
    edit_table(at, edited={0: {"model": "generic-external-antenna", "antenna": "sector",
                               "azimuth_deg": 90.0, "tilt_deg": 10.0, "tx_power_dbm": 12.0}})
    assert errors(at) == []
    a = at.session_state["plan"].aps[0]
    assert (a.model, a.antenna, a.azimuth_deg, a.tilt_deg) == (
        "generic-external-antenna", "sector", 90.0, 10.0)
    assert a.mount.peak_gain_dbi == 14.0 and a.mount.azimuth_deg == 90.0
    # 12 dBm + 14 dBi over the seed's 23 dBm EIRP: the library's line, at once
    ch = site.domain.channel(a.channel)
    assert f"{a.id}: EIRP 26 dBm exceeds the {ch.max_eirp_dbm:g} dBm limit of channel " \
        f"{a.channel}" in [w.value for w in at.warning]
    # an emptied antenna cell: the model's own omni again, not the old sector (the
    # editor's edits are cumulative over the table it opened with)
    edit_table(at, edited={0: {"model": "generic-external-antenna", "antenna": None,
                               "azimuth_deg": None, "tilt_deg": None, "tx_power_dbm": 8.0}})
    a = at.session_state["plan"].aps[0]
    assert (a.antenna, a.azimuth_deg, a.tilt_deg) == (None, None, None)
    assert a.mount.is_omni
    # an integrated antenna cannot be replaced: the plan file's message
    edit_table(at, edited={0: {"model": "generic-patch-ceiling", "antenna": "sector"}})
    assert errors(at) == ["AP table: aps[0].antenna: model generic-patch-ceiling has an "
                          "integrated patch antenna; name a model with antenna connectors "
                          "(e.g. generic-external-antenna) or remove the key"]


def test_selected_ap_properties_are_checked_by_the_library_and_the_table_follows():
    at = load_sample(new_app(), PRODUCTION, resolution_m=1.0)
    goto(at, "plan")
    site, plan = at.session_state["site"], at.session_state["plan"]
    at.session_state["map_selection"] = ("aps", "AP2")
    at.session_state["plan_version"] += 1           # as a click on the map does
    run(at)
    assert "**Selected AP AP2**" in [m.value for m in at.markdown]
    table = at.data_editor(key=f"ap_editor_{at.session_state['plan_version']}").value
    assert table["sel"].tolist() == ["", "◉", ""]
    version = at.session_state["plan_version"]
    at.number_input(key=f"ap_prop_y_m_{version}_AP2").set_value(-5.0)
    run(at)
    assert errors(at) == [_library_message(site, plan, "AP2", {"y_m": -5.0}, "map editor")]
    assert at.session_state["plan"].ap("AP2").y_m == plan.ap("AP2").y_m
    at.number_input(key=f"ap_prop_tx_power_dbm_{version}_AP2").set_value(40.0)
    run(at)
    assert errors(at) == [_library_message(site, plan, "AP2", {"tx_power_dbm": 40.0},
                                           "map editor")]
    # a good value: the plan, the table and the map follow
    at.number_input(key=f"ap_prop_x_m_{version}_AP2").set_value(33.0)
    run(at)
    assert errors(at) == []
    assert at.session_state["plan"].ap("AP2").x_m == 33.0
    table = at.data_editor(key=f"ap_editor_{at.session_state['plan_version']}").value
    assert table["x_m"].tolist()[1] == 33.0
    ap_trace = trace(chart(at, "plan_map"), "APs (diamond: locked)")
    assert list(arr(ap_trace["x"]).astype(float))[1] == 33.0
    # renamed in the properties: the backhaul fields stay
    version = at.session_state["plan_version"]
    at.text_input(key=f"ap_prop_id_{version}_AP2").set_value("Press")
    run(at)
    new = at.session_state["plan"].ap("Press")
    old = plan.ap("AP2")
    assert (new.bssid, new.switch, new.port) == (old.bssid, old.switch, old.port)
    assert at.session_state["map_selection"] == ("aps", "Press")


def test_undo_and_redo_walk_the_history_of_site_and_plan_edits():
    at = load_sample(new_app(), PRODUCTION, resolution_m=1.0)
    goto(at, "plan")
    site0, plan0 = at.session_state["site"], at.session_state["plan"]
    assert at.button(key="editor_undo").disabled
    # 1: a table edit, 2: a wall drawn on the map (through the site's constructor)
    edit_table(at, edited={0: {"x_m": 14.0}})
    at.segmented_control(key="editor_tool").set_value("wall")
    run(at)
    at.selectbox(key="editor_material").set_value("metal")
    at.session_state["editor_drawing"] = [[20.0, 5.0], [20.0, 12.0]]
    run(at)
    at.button(key="editor_finish").click()
    run(at)
    assert errors(at) == []
    walled = at.session_state["site"]
    assert len(walled.walls) == len(site0.walls) + 1
    assert walled.walls[-1].material == "metal"
    np.testing.assert_array_equal(walled.walls[-1].points, [[20.0, 5.0], [20.0, 12.0]])
    rm = at.session_state["radiomap"][1]
    want = compute_radiomap(walled, at.session_state["plan"].aps, resolution_m=1.0)
    np.testing.assert_allclose(rm.best_rssi_dbm, want.best_rssi_dbm, atol=1e-3)
    assert at.button(key="editor_undo").proto.help == "Undo: draw a metal wall"
    # a wall of one point is the library's message, and nothing changes
    at.session_state["editor_drawing"] = [[30.0, 5.0]]
    run(at)
    at.button(key="editor_finish").click()
    run(at)
    assert len(errors(at)) == 1 and errors(at)[0].startswith("map editor: walls[")
    assert at.session_state["site"] is walled
    # undo the wall, then the table edit; redo both
    at.button(key="editor_undo").click()
    run(at)
    assert at.session_state["site"].to_dict() == site0.to_dict()
    assert at.session_state["plan"].aps[0].x_m == 14.0
    at.button(key="editor_undo").click()
    run(at)
    assert [a.to_dict() for a in at.session_state["plan"].aps] == [a.to_dict()
                                                                  for a in plan0.aps]
    assert at.button(key="editor_undo").disabled
    assert at.data_editor(key=f"ap_editor_{at.session_state['plan_version']}").value[
        "x_m"].tolist()[0] == plan0.aps[0].x_m                     # the table follows
    at.button(key="editor_redo").click()
    run(at)
    assert at.session_state["plan"].aps[0].x_m == 14.0
    at.button(key="editor_redo").click()
    run(at)
    assert at.session_state["site"].to_dict() == walled.to_dict()
    assert at.button(key="editor_redo").disabled
    # a new edit after an undo drops the redo
    at.button(key="editor_undo").click()
    run(at)
    at.session_state["map_selection"] = ("aps", "AP3")
    run(at)
    at.button(key="editor_delete").click()
    run(at)
    assert at.session_state["plan"].ids == ["AP1", "AP2"]
    assert at.button(key="editor_redo").disabled


def test_a_long_grid_change_shows_its_estimate_and_can_be_stopped_or_computed():
    at = load_sample(new_app(), PRODUCTION, resolution_m=1.0)
    goto(at, "plan")
    site, plan = sample(PRODUCTION)
    # as if the last map had taken 2 ms per cell and AP: 0.5 m is 8,400 cells x 3 APs
    at.session_state["map_rate_s"] = 0.002
    at.selectbox(key="plan_resolution").set_value(0.5)
    run(at)
    warned = [w.value for w in at.warning]
    assert "A 0.5 m grid is 8,400 points for 3 APs: about 50 s to compute." in warned, warned
    assert not at.get("plotly_chart") or "plan_map" not in str(
        [c.proto.id for c in at.get("plotly_chart")])
    # Stop: back to the 1 m map
    at.button(key="map_stop").click()
    run(at)
    assert at.session_state["resolution_m"] == 1.0
    assert at.session_state["radiomap"][1].resolution_m == 1.0
    assert metrics(at)["APs"] == "3"
    # compute it: AP by AP, the same map as the library's
    at.session_state["map_rate_s"] = 0.002
    at.selectbox(key="plan_resolution").set_value(0.5)
    run(at)
    at.button(key="map_compute").click()
    run(at)
    rm = at.session_state["radiomap"][1]
    assert rm.resolution_m == 0.5
    np.testing.assert_allclose(rm.best_rssi_dbm,
                               compute_radiomap(site, plan.aps, resolution_m=0.5).best_rssi_dbm,
                               atol=1e-3)
    assert metrics(at)["Primary coverage"] == pct(evaluate(site, plan.aps, 0.5)[
        "primary_coverage"])


def test_drag_canvas_draws_the_aps_where_they_are_and_reads_drops_back():
    from wifiplan.ui.editor import CANVAS_WIDTH_PX, canvas_edits
    from wifiplan.ui.figures import CanvasFrame, canvas_aps, canvas_background, layer_cells
    site = load_site(ROOT / "floorplans" / f"{PRODUCTION}.yaml")
    plan = load_plan(ROOT / "floorplans" / f"{PRODUCTION}.plan.yaml", site=site)
    rm = compute_radiomap(site, plan.aps, resolution_m=1.0)
    frame = CanvasFrame.of(rm, CANVAS_WIDTH_PX)
    # the frame spans the grid's cell edges: its corners are the grid's corners
    r = rm.resolution_m
    assert frame.to_px(rm.xs[0] - r / 2, rm.ys[-1] + r / 2) == pytest.approx((0, 0))
    assert frame.to_px(rm.xs[-1] + r / 2, rm.ys[0] - r / 2) == pytest.approx(
        (frame.width_px, frame.height_px), abs=0.5 * frame.px_per_m)
    drawing = canvas_aps(plan.aps, frame)
    objs = drawing["objects"]
    assert [o["type"] for o in objs] == ["circle"] * len(plan.aps) + ["text"] * len(plan.aps)
    assert [o["text"] for o in objs[len(plan.aps):]] == [a.id for a in plan.aps]
    assert all(not o["selectable"] for o in objs[len(plan.aps):])
    # as sent back untouched: nothing moved, nothing added
    assert canvas_edits(objs, frame, plan.aps) == ([], [])
    # the second AP dropped 10 m east and 4 m south; a click elsewhere draws a point
    a = plan.aps[1]
    moved = [dict(o) for o in objs]
    moved[1]["left"] += 10 * frame.px_per_m
    moved[1]["top"] += 4 * frame.px_per_m
    x, y = plan.aps[0].x_m + 3, plan.aps[0].y_m + 2
    px, py = frame.to_px(x, y)
    point = {"type": "circle", "originX": "left", "originY": "top", "radius": 5,
             "left": px - 5, "top": py - 5}
    moves, adds = canvas_edits(moved + [point], frame, plan.aps)
    assert moves == [(a.id, round(a.x_m + 10, 1), round(a.y_m - 4, 1))]
    assert adds == [(round(x, 1), round(y, 1))]
    # a sub-pixel jitter is not a move
    jitter = [dict(o) for o in objs]
    jitter[0]["left"] += 0.4
    assert canvas_edits(jitter, frame, plan.aps) == ([], [])
    # the picture: the map's cells at the canvas's size, with the walls drawn over them
    from PIL import Image
    png = canvas_background(site, frame, layer_cells(rm, "rssi"))
    img = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    assert img.shape == (frame.height_px, frame.width_px, 3)
    cells = layer_cells(rm, "rssi")
    # a cell of the open floor, 2 m from anything drawn, shows the map's own colour
    from shapely.geometry import LineString, Point, Polygon
    drawn = [LineString(w.points) for w in site.walls] + [
        Polygon(g.polygon).boundary for g in [*site.obstacles, *site.zones]] + [
        Polygon(site.outline).boundary] + [Polygon(o.polygon) for o in site.obstacles]
    checked = 0
    for iy in range(2, len(rm.ys) - 2, 3):
        for ix in range(2, len(rm.xs) - 2, 3):
            if not rm.mask[iy, ix] or min(g.distance(Point(rm.xs[ix], rm.ys[iy]))
                                          for g in drawn) < 2.0:
                continue
            cx, cy = frame.to_px(rm.xs[ix], rm.ys[iy])
            assert tuple(img[int(cy), int(cx)]) == tuple(cells[iy, ix, :3]), (ix, iy)
            checked += 1
    assert checked > 20
