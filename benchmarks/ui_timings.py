"""Timings of the map editor in a real browser (not a test: it prints figures).

    python benchmarks/ui_timings.py [--site large-hall] [--repeat 3]

Starts ``streamlit run app.py`` on a free port, drives Debian's Chromium with Playwright,
loads a bundled sample with its plan and, on the Plan page, times from the click until the
map's raster has changed in the page ("map") and until the script run has finished, metrics
included ("idle"):

- move one AP: click it (select), click a new position (move);
- switch the map layer (best-server RSSI -> channels -> RSSI);
- undo the move;
- draw a wall: with the Wall tool, two clicks 8 m apart beside an AP, then Finish (timed
  from Finish: the site changes, the map is recomputed); undo the wall;
- drag an AP: with the Drag APs tool and the canvas's Edit toggle, drag an AP 7 m east and
  5 m north (timed from the drop until the canvas's picture has changed, "map", and until
  the run finished); undo the drag (timed until the editor's caption shows the AP back,
  then until the run finished).

Each is repeated ``--repeat`` times; the median and the range are printed.
"""
from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
TO_PAGE = """(el, p) => { const xa = el._fullLayout.xaxis, ya = el._fullLayout.yaxis;
  const r = el.getBoundingClientRect();
  return [r.left + xa._offset + xa.l2p(p[0]), r.top + ya._offset + ya.l2p(p[1])]; }"""
NEAREST = """(el, p) => { const g = el._fullData.find(d => d.name === 'grid');
  let best = -1, bd = 1e18;
  for (let i = 0; i < g.x.length; i++) { const d = (g.x[i] - p[0]) ** 2 + (g.y[i] - p[1]) ** 2;
    if (d < bd) { bd = d; best = i; } }
  return [g.x[best], g.y[best]]; }"""
RASTER = """() => { const el = document.querySelector('.js-plotly-plot');
  const im = (el && el.layout && el.layout.images) || []; if (!im.length) return '';
  const s = im[im.length - 1].source; return s.length + ':' + s.slice(-64); }"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(port: int, log):
    env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2):
                return proc
        except OSError:
            time.sleep(0.5)
    proc.terminate()
    raise SystemExit("streamlit did not answer in 90 s")


def wait_idle(page) -> None:
    page.wait_for_timeout(100)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidgetRunningIcon\"]')",
        timeout=300_000)


def timed(page, action) -> tuple[float, float]:
    """(s until the raster changed, s until the run finished) of ``action``."""
    before = page.evaluate(RASTER)
    t0 = time.perf_counter()
    action()
    page.wait_for_function(f"([b]) => ({RASTER})() !== b", arg=[before], timeout=300_000)
    t_map = time.perf_counter() - t0
    wait_idle(page)
    return t_map, time.perf_counter() - t0


def map_ready(page) -> None:
    """Wait until the map has been drawn (a redraw replaces its data for a moment)."""
    page.wait_for_function(
        "() => { const el = document.querySelector('.js-plotly-plot');"
        " return !!(el && el._fullData && el._fullData.find(d => d.name === 'grid')); }",
        timeout=300_000)


def click_at(page, x: float, y: float) -> None:
    map_ready(page)
    plot = page.locator(".js-plotly-plot").first
    px, py = plot.evaluate(TO_PAGE, [x, y])
    page.mouse.click(px, py)


CANVAS = "canvas.dc-background-canvas"


def settled_picture(page) -> str:
    """The drag canvas's picture once it has stopped changing (a new background image is
    painted a moment after the run that sent it)."""
    canvas = page.locator(CANVAS)
    last = canvas.evaluate("c => c.toDataURL()")
    while True:
        page.wait_for_timeout(200)
        now = canvas.evaluate("c => c.toDataURL()")
        if now == last:
            return now
        last = now


def timed_change(page, read, action, what: str) -> tuple[float, float]:
    """(s until ``read()`` differs from before ``action``, s until the run finished)."""
    before = read()
    t0 = time.perf_counter()
    action()
    while read() == before:
        if time.perf_counter() - t0 > 300:
            raise TimeoutError(f"{what} did not change in 300 s")
        page.wait_for_timeout(20)
    t_changed = time.perf_counter() - t0
    wait_idle(page)
    return t_changed, time.perf_counter() - t0


def timed_canvas(page, action) -> tuple[float, float]:
    """:func:`timed` for the drag canvas (its picture sits in a shadow root: polled)."""
    canvas = page.locator(CANVAS)
    settled_picture(page)
    return timed_change(page, lambda: canvas.evaluate("c => c.toDataURL()"), action,
                        "the drag canvas's picture")


def timed_selection(page, action) -> tuple[float, float]:
    """(s until the editor's caption names the selected AP's new position, s until the run
    finished) of ``action``."""
    caption = page.get_by_text("Selected: ").first
    return timed_change(page, caption.inner_text, action, "the selected AP")


def drag(page, frame, start, end) -> None:
    """Drag on the canvas from ``start`` to ``end`` [m] (``frame`` its CanvasFrame)."""
    box = page.locator("canvas.upper-canvas").bounding_box()
    (x0, y0), (x1, y1) = frame.to_px(*start), frame.to_px(*end)
    page.mouse.move(box["x"] + x0, box["y"] + y0)
    page.mouse.down()
    page.mouse.move(box["x"] + x1, box["y"] + y1, steps=8)
    page.mouse.up()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--site", default="large-hall")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    from playwright.sync_api import sync_playwright

    from wifiplan import load_plan, load_site
    site = load_site(ROOT / "floorplans" / f"{args.site}.yaml")
    plan = load_plan(ROOT / "floorplans" / f"{args.site}.plan.yaml", site=site)
    port = free_port()
    with tempfile.TemporaryFile("w+") as log:
        proc = start_app(port, log)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM,
                                            args=["--no-sandbox", "--disable-gpu"])
                page = browser.new_page(viewport={"width": 1400, "height": 1900})
                page.set_default_timeout(300_000)
                page.goto(f"http://127.0.0.1:{port}", wait_until="networkidle")
                page.locator("[data-testid='stSelectbox']").filter(has_text="Sample site") \
                    .locator("input").click()
                page.get_by_role("option", name=args.site).click()
                page.get_by_role("button", name="Load sample").click()
                page.locator("[data-testid='stMetric']").filter(has_text="Floor area").wait_for()
                wait_idle(page)
                t0 = time.perf_counter()
                page.get_by_role("link", name="Plan").click()
                page.get_by_text("Primary coverage").wait_for()
                wait_idle(page)
                first = time.perf_counter() - t0
                rows = {"move one AP": [], "switch layer": [], "undo": [], "draw a wall": [],
                        "undo the wall": [], "drag an AP": [], "undo the drag": []}
                select = []
                plot = page.locator(".js-plotly-plot").first
                for i in range(args.repeat):
                    a = plan.aps[i % len(plan.aps)]
                    t1 = time.perf_counter()
                    click_at(page, a.x_m, a.y_m)
                    page.get_by_text(f"Selected AP {a.id}").wait_for()
                    wait_idle(page)
                    select.append(time.perf_counter() - t1)
                    map_ready(page)
                    x, y = plot.evaluate(NEAREST, [a.x_m + 7.0, a.y_m + 5.0])
                    rows["move one AP"].append(timed(page, lambda: click_at(page, x, y)))
                    rows["switch layer"].append(timed(
                        page, lambda: page.get_by_role("radio", name="Channels").click()))
                    rows["switch layer"].append(timed(
                        page, lambda: page.get_by_role("radio", name="Best-server RSSI").click()))
                    rows["undo"].append(timed(
                        page, lambda: page.get_by_role("button", name="Undo").click()))
                page.get_by_role("radio", name="Wall").click()
                wait_idle(page)
                for i in range(args.repeat):
                    a = plan.aps[i % len(plan.aps)]
                    for k, dx in enumerate((-4.0, 4.0)):
                        map_ready(page)
                        x, y = plot.evaluate(NEAREST, [a.x_m + dx, a.y_m - 3.0])
                        click_at(page, x, y)
                        page.get_by_text(f"{k + 1} point{'s' if k else ''} so far").wait_for()
                        wait_idle(page)
                    rows["draw a wall"].append(timed(
                        page, lambda: page.get_by_role("button", name="Finish").click()))
                    rows["undo the wall"].append(timed(
                        page, lambda: page.get_by_role("button", name="Undo").click()))
                from wifiplan.radio.radiomap import compute_radiomap
                from wifiplan.ui.editor import CANVAS_WIDTH_PX
                from wifiplan.ui.figures import CanvasFrame
                res = float(page.locator("[data-testid='stSelectbox']").filter(
                    has_text="Grid [m]").locator("input").input_value() or 1.0)
                frame = CanvasFrame.of(compute_radiomap(site, plan.aps[:1], resolution_m=res),
                                       CANVAS_WIDTH_PX)
                page.get_by_role("radio", name="Drag APs").click()
                page.locator("canvas.upper-canvas").wait_for()
                wait_idle(page)
                page.locator("button[title='Edit']").click()
                undo = page.locator(".st-key-editor_undo button").first
                for i in range(args.repeat):
                    a = plan.aps[i % len(plan.aps)]
                    rows["drag an AP"].append(timed_canvas(page, lambda: drag(
                        page, frame, (a.x_m, a.y_m), (a.x_m + 7.0, a.y_m + 5.0))))
                    rows["undo the drag"].append(timed_selection(page, undo.click))
                browser.close()
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    print(f"{site.name}: {len(plan.aps)} APs; Plan page with its first map: {first:.2f} s; "
          f"select an AP: median {statistics.median(select):.2f} s")
    print(f"{'interaction':<16} {'n':>3} {'map [s]':>22} {'idle [s]':>22}")
    for name, vals in rows.items():
        m = [v[0] for v in vals]
        d = [v[1] for v in vals]
        print(f"{name:<16} {len(vals):>3} {statistics.median(m):>8.2f} ({min(m):.2f}-{max(m):.2f})"
              f"   {statistics.median(d):>8.2f} ({min(d):.2f}-{max(d):.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
