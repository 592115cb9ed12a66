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
    page.get_by_role("link", name="Plan").click()
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
