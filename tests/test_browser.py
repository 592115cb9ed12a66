"""The app in a real browser: ``streamlit run app.py`` driven by Playwright in Debian's Chromium.

Playwright cannot download its own browser here, so it launches /usr/bin/chromium (installed
by .ci/run with apt-get). The test loads a sample site, plans it, hovers the map, and fails
on any exception the page shows. Screenshots go to out/screenshots/ (and the test's
tmp_path) for a person to look at.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SHOTS = ROOT / "out" / "screenshots"

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason=f"Debian's Chromium is not installed at {CHROMIUM} (.ci/run installs it with "
           "apt-get when it runs as root); Playwright cannot download its own browser here")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    """``streamlit run app.py`` on a free localhost port; stopped after the tests."""
    port = _free_port()
    log_path = tmp_path_factory.mktemp("streamlit") / "streamlit.log"
    log = open(log_path, "w")
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                pytest.fail(f"streamlit exited with {proc.returncode}:\n{log_path.read_text()}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"streamlit did not answer in 90 s:\n{log_path.read_text()}")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def no_exception(page) -> None:
    """Fail on any exception Streamlit shows in the page."""
    exc = page.locator("[data-testid='stException']")
    if exc.count():
        pytest.fail("exception shown in the page:\n" + exc.first.inner_text())
    assert "Traceback (most recent call last)" not in page.content()


def wait_idle(page, timeout_ms: int = 180_000) -> None:
    """Wait until the script run has finished (no running icon in the status widget)."""
    page.wait_for_timeout(400)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidgetRunningIcon\"]')",
        timeout=timeout_ms)
    page.wait_for_timeout(300)


def save(page, tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    page.screenshot(path=str(path), full_page=True)
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, SHOTS / name)
    return path


def goto_page(page, name: str) -> None:
    """Follow the sidebar link to page ``name``. A click that lands while a script run is
    finishing can be lost on a loaded machine, so it is repeated until the address names
    the page."""
    sync_api = pytest.importorskip("playwright.sync_api")
    for _ in range(4):
        page.get_by_role("link", name=name).click()
        try:
            page.wait_for_url(f"**/{name.lower()}", timeout=20_000)
            return
        except sync_api.TimeoutError:
            wait_idle(page)
    pytest.fail(f"the {name} page did not open")


def metric_value(page, label: str) -> str:
    m = page.locator("[data-testid='stMetric']").filter(has_text=label).first
    return m.locator("[data-testid='stMetricValue']").inner_text().strip()


def test_load_plan_and_hover_a_sample_site(app_url, browser, tmp_path):
    page = browser.new_page(viewport={"width": 1400, "height": 1900})
    page.set_default_timeout(120_000)          # a busy CI machine is slow, not broken
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(app_url, wait_until="networkidle")
    page.get_by_role("button", name="Load sample").wait_for(timeout=60_000)
    no_exception(page)

    # Site: pick the production line without its hand plan, and load it
    page.locator("[data-testid='stSelectbox']").filter(has_text="Sample site") \
        .locator("input").click()
    page.get_by_role("option", name="production-line").click()
    page.get_by_text("with its hand plan").click()           # untick: plan from scratch
    page.get_by_role("button", name="Load sample").click()
    page.get_by_role("heading", name="Production Line").wait_for(timeout=60_000)
    wait_idle(page)
    page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
    assert metric_value(page, "Floor area") == "2,100 m²"
    assert metric_value(page, "Walls") == "11"
    no_exception(page)
    save(page, tmp_path, "site.png")
    # the rooms the hall model sees
    page.get_by_text("Show the rooms of the hall model").click()
    wait_idle(page)
    page.locator(".js-plotly-plot").nth(1).wait_for(timeout=60_000)
    assert page.get_by_text("diffuse gain [dB]").count() or \
        page.locator("[data-testid='stDataFrame']").count() >= 2
    no_exception(page)
    save(page, tmp_path, "site-rooms.png")

    # Plan: run the planner with the default options
    goto_page(page, "Plan")
    page.get_by_role("button", name="Run planner").wait_for(timeout=60_000)
    assert page.get_by_text("No APs yet").is_visible()
    page.get_by_role("button", name="Run planner").click()
    page.get_by_text("Primary coverage").wait_for(timeout=300_000)
    wait_idle(page)
    plot = page.locator(".js-plotly-plot").first
    plot.wait_for(timeout=60_000)
    no_exception(page)
    n_aps = int(metric_value(page, "APs"))
    assert n_aps >= 2
    assert metric_value(page, "Primary coverage").endswith("%")
    # the AP table has one row per AP (the grid's row count is in its aria attribute)
    grid = page.locator("[data-testid='stDataFrame']").last
    assert grid.is_visible()

    # hover the middle of the map: best and second server with channel and RSSI
    box = plot.locator(".nsewdrag").first.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.37, box["y"] + box["height"] * 0.45)
    hover = page.locator(".hoverlayer .hovertext").first
    hover.wait_for(timeout=30_000)
    text = hover.text_content()
    assert "best: AP" in text and "second: AP" in text and "(ch " in text and "dBm" in text
    save(page, tmp_path, "plan.png")

    # the channel map, then the boundary map
    page.get_by_role("radio", name="Channels").click()
    wait_idle(page)
    no_exception(page)
    sync_api = pytest.importorskip("playwright.sync_api")
    sync_api.expect(page.locator(".js-plotly-plot .colorbar").first).to_contain_text(
        "ch 36", timeout=120_000)
    save(page, tmp_path, "plan-channels.png")
    page.get_by_role("radio", name="Cell boundaries").click()
    sync_api.expect(page.locator(".js-plotly-plot .colorbar").first).to_contain_text(
        "boundary -65 to -70 dBm", timeout=120_000)
    wait_idle(page)
    no_exception(page)
    save(page, tmp_path, "plan-boundaries.png")
    assert not errors, errors


# ---- the map editor on the large hall --------------------------------------------------------

#: page coordinates of a point (x, y) [m] of a plotly chart (the chart's own axes)
TO_PAGE = """(el, p) => { const xa = el._fullLayout.xaxis, ya = el._fullLayout.yaxis;
  const r = el.getBoundingClientRect();
  return [r.left + xa._offset + xa.l2p(p[0]), r.top + ya._offset + ya.l2p(p[1])]; }"""
#: the grid point of the map nearest (x, y): [x, y, hover text]
NEAREST = """(el, p) => { const g = el._fullData.find(d => d.name === 'grid');
  let best = -1, bd = 1e18;
  for (let i = 0; i < g.x.length; i++) { const d = (g.x[i] - p[0]) ** 2 + (g.y[i] - p[1]) ** 2;
    if (d < bd) { bd = d; best = i; } }
  return [g.x[best], g.y[best], g.text ? g.text[best] : null]; }"""
#: a token of the map's raster (changes when the map is redrawn)
RASTER = """(el) => { const im = el.layout.images || []; if (!im.length) return '';
  const s = im[im.length - 1].source; return s.length + ':' + s.slice(-64); }"""


def the_map(page):
    return page.locator(".js-plotly-plot").first


def click_map(page, x: float, y: float, plot=None) -> None:
    """Click the point (x, y) [m] of the map ``plot`` (default: the page's first chart)."""
    px, py = (plot or the_map(page)).evaluate(TO_PAGE, [x, y])
    page.mouse.click(px, py)


def draw_wall(page, plot, ends, material: str) -> None:
    """With the Wall tool and ``material`` (its option text), click the grid points of
    ``plot`` at ``ends`` [m] one after the other (Finish is left to the caller)."""
    page.get_by_role("radio", name="Wall").click()
    wait_idle(page)
    page.locator("[data-testid='stSelectbox']").filter(has_text="Material") \
        .locator("input").click()
    page.get_by_role("option", name=material).click()
    wait_idle(page)
    for k, (x, y) in enumerate(ends, 1):
        click_map(page, x, y, plot)
        page.get_by_text(f"{k} point{'s' if k > 1 else ''} so far").wait_for()
        wait_idle(page)


def wait_raster_change(page, before: str, timeout_ms: int = 120_000) -> str:
    page.wait_for_function(
        "([b]) => { const el = document.querySelector('.js-plotly-plot');"
        " const im = (el && el.layout && el.layout.images) || [];"
        " return im.length && (im[im.length - 1].source.length + ':' +"
        " im[im.length - 1].source.slice(-64)) !== b; }", arg=[before], timeout=timeout_ms)
    return the_map(page).evaluate(RASTER)


def own_dbm(hover: str, ap_id: str) -> float:
    """The AP's own RSSI [dBm] in the hover text of its map ('...<br>AP7: -52.3 dBm')."""
    line = [s for s in hover.split("<br>") if s.startswith(f"{ap_id}: ")][0]
    return float(line.split()[1])


def aisle_across(site, plan):
    """An AP in an aisle between two racks (obstacles within 6 m on either side over 12 m
    below it): (ap, x_left, x_right) [m], or None."""
    import numpy as np
    for a in plan.aps:
        left = right = None
        for o in site.obstacles:
            p = np.asarray(o.polygon, float)[:, :2]
            (x0, y0), (x1, y1) = p.min(0), p.max(0)
            if y0 <= a.y_m - 12 and y1 >= a.y_m:
                if a.x_m - 6 <= x1 <= a.x_m:
                    left = x1 if left is None else max(left, x1)
                if a.x_m <= x0 <= a.x_m + 6:
                    right = x0 if right is None else min(right, x0)
        if left is not None and right is not None:
            return a, left, right
    return None


def open_large_hall_plan(page, app_url) -> None:
    page.goto(app_url, wait_until="networkidle")
    page.get_by_role("button", name="Load sample").wait_for(timeout=60_000)
    page.locator("[data-testid='stSelectbox']").filter(has_text="Sample site") \
        .locator("input").click()
    page.get_by_role("option", name="large-hall").click()
    page.get_by_role("button", name="Load sample").click()
    page.locator("[data-testid='stMetric']").filter(has_text="Floor area").wait_for()
    wait_idle(page)
    goto_page(page, "Plan")
    page.get_by_text("Primary coverage").wait_for(timeout=300_000)
    wait_idle(page)
    the_map(page).wait_for()


def test_select_move_draw_a_wall_and_undo_on_the_large_hall(app_url, browser, tmp_path):
    from dataclasses import replace

    import numpy as np

    from wifiplan import load_plan, load_site
    from wifiplan.radio.radiomap import compute_radiomap
    from wifiplan.site import site_from_dict
    site = load_site(ROOT / "floorplans" / "large-hall.yaml")
    plan = load_plan(ROOT / "floorplans" / "large-hall.plan.yaml", site=site)
    page = browser.new_page(viewport={"width": 1400, "height": 1900})
    page.set_default_timeout(120_000)
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    open_large_hall_plan(page, app_url)
    no_exception(page)

    # select the last AP by clicking it: its properties and its table row follow
    ap = plan.aps[-1]
    click_map(page, ap.x_m, ap.y_m)
    page.get_by_text(f"Selected AP {ap.id}").wait_for()
    wait_idle(page)
    assert page.get_by_text(f"Selected: {ap.id}: ({ap.x_m:g}, {ap.y_m:g}) m").count()
    grid = page.locator("[data-testid='stDataFrame']").last
    assert grid.is_visible()
    save(page, tmp_path, "editor-selected.png")

    # move it to the middle of the hall: map and metrics change
    metrics_before = {k: metric_value(page, k) for k in ("Primary coverage",
                                                         "Secondary coverage",
                                                         "Co-channel sep. (p5)")}
    raster = the_map(page).evaluate(RASTER)
    minx, miny, maxx, maxy = site.bounds
    gx, gy, _ = the_map(page).evaluate(NEAREST, [(minx + maxx) / 2, (miny + maxy) / 2])
    click_map(page, gx, gy)
    raster = wait_raster_change(page, raster)
    wait_idle(page)
    no_exception(page)
    assert page.get_by_text(f"Selected: {ap.id}: ({gx:g}, {gy:g}) m").count()
    metrics_after = {k: metric_value(page, k) for k in metrics_before}
    assert metrics_after != metrics_before, metrics_after
    save(page, tmp_path, "editor-moved.png")

    # a metal wall across an aisle between two racks, seen on the map of the aisle's AP:
    # its shadow darkens the aisle behind the wall
    found = aisle_across(site, plan)
    assert found is not None, "no AP in an aisle between racks on the large hall"
    a, left, right = found
    y_wall = a.y_m - 4.0
    click_map(page, a.x_m, a.y_m)
    page.get_by_text(f"Selected AP {a.id}").wait_for()
    wait_idle(page)
    page.get_by_role("radio", name="One AP's signal").click()
    raster = wait_raster_change(page, raster)
    wait_idle(page)
    probe = the_map(page).evaluate(NEAREST, [a.x_m, a.y_m - 8.0])
    before_dbm = own_dbm(probe[2], a.id)
    p1 = the_map(page).evaluate(NEAREST, [left - 0.5, y_wall])
    p2 = the_map(page).evaluate(NEAREST, [right + 0.5, y_wall])
    draw_wall(page, the_map(page), [p1[:2], p2[:2]], "metal (35 dB)")
    save(page, tmp_path, "editor-wall-drawn.png")
    page.get_by_role("button", name="Finish").click()
    raster = wait_raster_change(page, raster, timeout_ms=300_000)
    wait_idle(page)
    no_exception(page)
    after = the_map(page).evaluate(NEAREST, [a.x_m, a.y_m - 8.0])
    after_dbm = own_dbm(after[2], a.id)
    # the page shows what the library computes for the site with that wall
    d = site.to_dict()
    d["walls"].append({"from": [p1[0], p1[1]], "to": [p2[0], p2[1]], "material": "metal"})
    moved = [replace(x, x_m=gx, y_m=gy) if x.id == ap.id else x for x in plan.aps]
    rm = compute_radiomap(site_from_dict(d), moved, resolution_m=1.0)
    iy = int(np.argmin(np.abs(rm.ys - after[1])))
    ix = int(np.argmin(np.abs(rm.xs - after[0])))
    k = [x.id for x in moved].index(a.id)
    assert after_dbm == pytest.approx(float(rm.rssi_dbm[k, iy, ix]), abs=0.051)
    assert after_dbm < before_dbm - 6.0, (before_dbm, after_dbm)
    assert page.get_by_text("Selected: wall").count()
    save(page, tmp_path, "editor-wall.png")

    # undo: the wall goes, the aisle is as before
    page.get_by_role("button", name="Undo").click()
    raster = wait_raster_change(page, raster)
    wait_idle(page)
    no_exception(page)
    undone = the_map(page).evaluate(NEAREST, [a.x_m, a.y_m - 8.0])
    assert own_dbm(undone[2], a.id) == pytest.approx(before_dbm, abs=0.051)
    save(page, tmp_path, "editor-undone.png")

    # drag: the moved AP dragged on the canvas from the middle of the hall to its first
    # place; the drop moves it there, map and metrics follow, Undo takes it back
    drag_ap(page, rm, ap.id, (gx, gy), (ap.x_m, ap.y_m))
    save(page, tmp_path, "editor-dragged.png")
    assert not errors, errors


def canvas_picture(page) -> str:
    """The drag canvas's picture (the map under the APs) as a data URI."""
    return page.locator("canvas.dc-background-canvas").evaluate("c => c.toDataURL()")


def drag_ap(page, rm, ap_id: str, start, end) -> None:
    """With the Drag APs tool, drag AP ``ap_id`` on the canvas from ``start`` to ``end``
    [m] (``rm`` the radio map whose grid the canvas shows) and check that the AP, the map
    and the metrics follow; then Undo and check that it is back at ``start``."""
    from wifiplan.ui.editor import CANVAS_WIDTH_PX
    from wifiplan.ui.figures import CanvasFrame
    frame = CanvasFrame.of(rm, CANVAS_WIDTH_PX)
    page.get_by_role("radio", name="Drag APs").click()
    wait_idle(page)
    upper = page.locator("canvas.upper-canvas")
    upper.wait_for()
    picture = canvas_picture(page)
    while True:                        # the picture is painted a moment after the run
        page.wait_for_timeout(200)
        picture, last = canvas_picture(page), picture
        if picture == last:
            break
    metrics = {k: metric_value(page, k) for k in ("Primary coverage", "Secondary coverage",
                                                  "Co-channel sep. (p5)")}
    page.locator("button[title='Edit']").click()
    box = upper.bounding_box()
    (x0, y0), (x1, y1) = frame.to_px(*start), frame.to_px(*end)
    page.mouse.move(box["x"] + x0, box["y"] + y0)
    page.mouse.down()
    page.mouse.move(box["x"] + x1, box["y"] + y1, steps=12)
    page.mouse.up()
    deadline = time.monotonic() + 120      # the canvas sits in a shadow root: poll it
    while canvas_picture(page) == picture:
        assert time.monotonic() < deadline, "the map under the APs did not change"
        page.wait_for_timeout(250)
    wait_idle(page)
    no_exception(page)
    text = page.get_by_text(f"Selected: {ap_id}: (").first.inner_text()
    x, y = (float(v) for v in text.split(f"Selected: {ap_id}: (")[1].split(")")[0].split(","))
    tol = 1.0 / frame.px_per_m + 0.1                 # a pixel and the 0.1 m rounding
    assert abs(x - end[0]) <= tol and abs(y - end[1]) <= tol, (x, y, end)
    assert {k: metric_value(page, k) for k in metrics} != metrics
    page.locator(".st-key-editor_undo button").first.click()   # the page's, not the canvas's
    page.get_by_text(f"Selected: {ap_id}: ({start[0]:g}, {start[1]:g}) m").wait_for()
    wait_idle(page)
    assert {k: metric_value(page, k) for k in metrics} == metrics


# ---- from a drawing and from a picture -------------------------------------------------------

def site_map(page):
    return page.locator(".st-key-site_figure .js-plotly-plot").first


def press_and_wait(page, button: str, message: str) -> None:
    """Press ``button``, wait for ``message`` and the end of the run; no exception shown."""
    page.get_by_role("button", name=button).click()
    page.get_by_text(message).wait_for()
    wait_idle(page)
    no_exception(page)


def start_from(page, source: str) -> None:
    page.locator(".st-key-site_source").get_by_text(source, exact=True).click()
    wait_idle(page)


def test_import_a_dxf_then_trace_a_wall_over_a_floor_image(app_url, browser, tmp_path):
    import ezdxf
    import numpy as np
    from PIL import Image, ImageDraw

    from wifiplan.site import parse_site

    # a drawing in metres: a 40 x 20 m outline and one concrete wall
    doc = ezdxf.new()
    doc.header["$INSUNITS"] = 6
    msp = doc.modelspace()
    msp.add_lwpolyline([(0, 0), (40, 0), (40, 20), (0, 20)], close=True,
                       dxfattribs={"layer": "OUTLINE"})
    msp.add_line((20, 0), (20, 12), dxfattribs={"layer": "WALL-CONCRETE"})
    drawing = tmp_path / "hall.dxf"
    doc.saveas(drawing)
    # a scanned plan: 800 x 400 px at 5 cm per pixel (40 x 20 m), a wall drawn as a black
    # line from (200, 100) px to (200, 300) px, i.e. x = 10 m from y = 5 m to y = 15 m
    img = Image.new("RGB", (800, 400), "white")
    ImageDraw.Draw(img).line([(200, 100), (200, 300)], fill="black", width=6)
    picture = tmp_path / "scan.png"
    img.save(picture)

    page = browser.new_page(viewport={"width": 1400, "height": 2200})
    page.set_default_timeout(120_000)
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(app_url, wait_until="networkidle")
    page.get_by_role("button", name="Load sample").wait_for(timeout=60_000)

    # the drawing: its layers are guessed (outline, concrete wall) and imported
    start_from(page, "DXF drawing")
    page.locator(".st-key-dxf_upload input[type='file']").set_input_files(str(drawing))
    page.get_by_role("button", name="Import drawing").wait_for()
    wait_idle(page)
    press_and_wait(page, "Import drawing", "Imported hall")
    assert metric_value(page, "Walls") == "1"
    assert metric_value(page, "Size") == "40 × 20 m"
    site_map(page).wait_for()
    wait_idle(page)
    save(page, tmp_path, "import-dxf.png")

    # the picture: scale from two marked points, then a wall traced over it on the map
    start_from(page, "Floor image")
    page.locator(".st-key-image_upload input[type='file']").set_input_files(str(picture))
    page.get_by_role("button", name="Create site from image").wait_for()
    wait_idle(page)
    for key, value in (("img_x1", "0"), ("img_y1", "0"), ("img_x2", "800"), ("img_y2", "0"),
                       ("img_dist", "40")):
        field = page.locator(f".st-key-{key} input")
        field.fill(value)
        field.press("Enter")
        wait_idle(page)
    press_and_wait(page, "Create site from image",
                   "Created scan: 40.0 m x 20.0 m at 50.0 mm per pixel")
    assert metric_value(page, "Walls") == "0"
    # the floor image lies under the site map
    assert site_map(page).evaluate("(el) => (el.layout.images || []).length") >= 1
    # the picture's y axis points down, the site's up: the line's ends at y = 20 - 5, 20 - 15
    p1 = site_map(page).evaluate(NEAREST, [10.0, 15.0])
    p2 = site_map(page).evaluate(NEAREST, [10.0, 5.0])
    draw_wall(page, site_map(page), [p1[:2], p2[:2]], "brick (6 dB)")
    page.get_by_role("button", name="Finish").click()
    wait_idle(page)
    no_exception(page)
    assert metric_value(page, "Walls") == "1"
    save(page, tmp_path, "image-wall-traced.png")
    # the site the page holds has that wall, where the picture shows it
    with page.expect_download() as dl:
        page.get_by_role("button", name="Download site YAML").click()
    site = parse_site(Path(dl.value.path()).read_text(encoding="utf-8"), source="traced.yaml")
    (w,) = site.walls
    ends = sorted(map(tuple, np.asarray(w.points)[[0, -1]]), key=lambda p: p[1])
    assert ends[0] == pytest.approx((10.0, 5.0), abs=0.51)
    assert ends[1] == pytest.approx((10.0, 15.0), abs=0.51)
    assert w.material == "brick"
    assert not errors, errors
