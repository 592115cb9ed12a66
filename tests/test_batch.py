"""Batch reports: every site of a folder, a broken site listed with its error, the index,
a local process pool and a local Dask cluster giving the same numbers."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from wifiplan.cli import main
from wifiplan.report.batch import run_batch

from conftest import FLOORPLANS, SAMPLE_SITES

pypdf = pytest.importorskip("pypdf")

EXTERNAL = re.compile(r"https?://|<link\b|<script\b|url\(|@import", re.I)


def _copy_site(name: str, dest: Path, new_name: str | None = None):
    new = new_name or name
    shutil.copy(FLOORPLANS / f"{name}.yaml", dest / f"{new}.yaml")
    plan = FLOORPLANS / f"{name}.plan.yaml"
    if plan.exists():
        shutil.copy(plan, dest / f"{new}.plan.yaml")


def _numbers(path: Path) -> dict:
    doc = json.loads(path.read_text(encoding="utf-8"))
    return {"criteria": doc["criteria"], "metrics": doc["metrics"], "aps": doc["aps"],
            "bom": doc["bom"]}


def test_batch_lists_a_broken_site_and_goes_on(tmp_path, capsys):
    src = tmp_path / "sites"
    src.mkdir()
    _copy_site("small-workshop", src)
    _copy_site("production-line", src)
    (src / "broken.yaml").write_text("name: Broken\noutline: [[0, 0], [10, 0]]\n",
                                     encoding="utf-8")
    out = tmp_path / "out"
    code = main(["batch", str(src), "-o", str(out), "--phases", "3", "--workers", "2",
                 "--resolution", "2"])
    assert code == 1
    index = json.loads((out / "index.json").read_text(encoding="utf-8"))
    rows = {r["file"]: r for r in index["sites"]}
    assert set(rows) == {"broken.yaml", "production-line.yaml", "small-workshop.yaml"}
    assert ("outline" in rows["broken.yaml"]["error"]
            and "broken.yaml" in rows["broken.yaml"]["error"])
    for name, n_aps in (("production-line.yaml", 3), ("small-workshop.yaml", 1)):
        r = rows[name]
        assert r["error"] is None and r["ap_count"] == n_aps
        assert r["plan_source"] == name.replace(".yaml", ".plan.yaml")
        ph = r["phases"]["3"]
        doc = json.loads((out / ph["json"]).read_text(encoding="utf-8"))
        assert ph["passed"] == doc["passed"]
        assert r["coverage"] == pytest.approx(doc["metrics"]["primary_coverage"], abs=1e-4)
        assert len(pypdf.PdfReader(str(out / ph["pdf"])).pages) >= 3
    html = (out / "index.html").read_text(encoding="utf-8")
    assert EXTERNAL.findall(html) == []
    for link in re.findall(r'href="([^"]+)"', html):
        assert (out / link).is_file(), link
    assert "broken.yaml" in html and "ERROR" in html
    assert "1 with errors" in capsys.readouterr().out


def test_batch_on_a_local_dask_cluster_gives_the_same_numbers(tmp_path):
    distributed = pytest.importorskip("distributed")
    src = tmp_path / "sites"
    src.mkdir()
    _copy_site("small-workshop", src)
    local = run_batch(src, tmp_path / "local", phases=(1,), resolution_m=2.0, workers=1,
                      progress=False)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        remote = run_batch(src, tmp_path / "dask", phases=(1,), resolution_m=2.0,
                           dask_address=cluster.scheduler_address, progress=False)
    assert [r["error"] for r in remote] == [None]
    assert remote[0]["phases"]["1"]["passed"] == local[0]["phases"]["1"]["passed"]
    rel = remote[0]["phases"]["1"]["json"]
    assert _numbers(tmp_path / "dask" / rel) == _numbers(tmp_path / "local" / rel)
    assert (tmp_path / "dask" / rel).read_bytes() == (tmp_path / "local" / rel).read_bytes()


def test_batch_of_every_sample_site_every_phase(tmp_path):
    """``wifiplan batch floorplans``: every report of every sample site (coarse grid)."""
    out = tmp_path / "reports"
    code = main(["batch", str(FLOORPLANS), "-o", str(out), "--resolution", "4"])
    index = json.loads((out / "index.json").read_text(encoding="utf-8"))
    assert all(r["error"] is None for r in index["sites"])
    # exit 0 only when every phase of every site passes
    every = all(ph["passed"] for r in index["sites"] for ph in r["phases"].values())
    assert code == (0 if every else 1)
    assert {r["file"] for r in index["sites"]} == {p.name for p in SAMPLE_SITES}
    for r in index["sites"]:
        assert sorted(r["phases"]) == ["1", "2", "3", "4"]
        for n, ph in r["phases"].items():
            d = out / Path(ph["json"]).parent
            for f in ("report.html", "report.pdf", "aps.csv", "bom.csv", "report.json"):
                assert (d / f).is_file(), (d, f)
            doc = json.loads((d / "report.json").read_text(encoding="utf-8"))
            reader = pypdf.PdfReader(str(d / "report.pdf"))
            text = "\n".join(p.extract_text() for p in reader.pages)
            assert len(reader.pages) >= 3
            assert doc["site"] in text and f"phase {n}" in text
            for a in doc["aps"][:5]:
                assert a["id"] in text
            for c in doc["criteria"][:5]:
                assert c["id"] in text
            assert EXTERNAL.findall((d / "report.html").read_text(encoding="utf-8")) == []


def test_batch_bad_arguments(tmp_path, capsys):
    assert main(["batch", str(tmp_path / "none"), "-o", str(tmp_path / "o")]) == 2
    assert "expected a folder" in capsys.readouterr().err
    assert main(["batch", str(FLOORPLANS), "-o", str(tmp_path / "o"), "--phases", "1,7"]) == 2
    assert "--phases" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["batch", str(empty), "-o", str(tmp_path / "o")]) == 2
    assert "no site files" in capsys.readouterr().err


def test_report_folder_names_never_leave_the_output_and_never_collide():
    from wifiplan.report.batch import report_folder_name
    taken: set[str] = set()
    names = [report_folder_name(s, taken) for s in
             ["..", "index", "Index", "a/b", "x" * 300, "", "hall", "HALL", "con", "名前"]]
    assert len({n.lower() for n in names}) == len(names)
    for n in names:
        assert n and not n.startswith(".") and "/" not in n and len(n) <= 80
        assert n.lower() not in ("index", "con")


def test_batch_killed_half_way_leaves_no_workers_and_a_rerun_completes(tmp_path):
    """SIGKILL the batch while its two workers run; they die with it; the rerun writes a
    complete, correct output folder (every report, the index, no temporary file)."""
    import os
    import signal
    import subprocess
    import sys
    import time
    src = tmp_path / "sites"
    src.mkdir()
    from wifiplan import load_site
    small = sorted(SAMPLE_SITES, key=lambda p: load_site(p).area_m2)[:2]   # the quick ones
    for k in range(4):
        for p in small:
            (src / f"{p.stem}-{k}.yaml").write_text(p.read_text(encoding="utf-8"),
                                                    encoding="utf-8")
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "wifiplan", "batch", str(src), "-o", str(out), "--workers",
           "2", "--phases", "1,3", "--resolution", "4"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and not any(out.glob("*/phase1/report.json")):
        time.sleep(0.2)
    children = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True,
                              text=True).stdout.split()
    assert children, "the batch had no workers running"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    time.sleep(3)
    alive = [c for c in children if os.path.exists(f"/proc/{c}") and
             "zombie" not in open(f"/proc/{c}/status").read().lower()]
    assert alive == [], "workers outlived the killed batch"
    assert not (out / "index.json").exists()
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode in (0, 1), r.stderr
    index = json.loads((out / "index.json").read_text(encoding="utf-8"))
    assert len(index["sites"]) == 8 and all(s["error"] is None for s in index["sites"])
    for s in index["sites"]:
        for ph in ("1", "3"):
            d = out / Path(s["phases"][ph]["json"]).parent
            assert sorted(f.name for f in d.iterdir()) == sorted(
                ["report.html", "report.pdf", "aps.csv", "bom.csv", "report.json"])
    assert not list(out.rglob(".*.tmp"))


def _running(pid) -> bool:
    try:
        return "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()
    except OSError:
        return False


def _live_workers(pid: int) -> list[str]:
    """Worker processes of the batch ``pid`` that run (not multiprocessing's resource
    tracker, which ends by itself once its pipe closes)."""
    import subprocess
    kids = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True,
                          text=True).stdout.split()
    out = []
    for c in kids:
        try:
            cmd = Path(f"/proc/{c}/cmdline").read_bytes()
        except OSError:
            continue
        if b"spawn_main" in cmd and _running(c):
            out.append(c)
    return out


def test_a_site_over_its_time_budget_is_failed_and_the_others_finish(tmp_path, capsys):
    """A hall of 20,000 short walls takes about a minute; with an 8 s budget it is stopped
    and listed as failed, the small workshop (about 1 s) is reported, exit code 1."""
    import time
    from conftest import short_walls_site
    src = tmp_path / "sites"
    src.mkdir()
    _copy_site("small-workshop", src)
    (src / "walls.yaml").write_text(short_walls_site(20_000), encoding="utf-8")
    out = tmp_path / "out"
    t0 = time.monotonic()
    code = main(["batch", str(src), "-o", str(out), "--phases", "1", "--resolution", "2",
                 "--workers", "2", "--site-timeout", "8"])
    assert code == 1
    assert time.monotonic() - t0 < 40
    rows = {r["file"]: r for r in json.loads((out / "index.json").read_text())["sites"]}
    assert rows["walls.yaml"]["error"] == "over its time budget (8 s)"
    assert rows["small-workshop.yaml"]["error"] is None
    assert rows["small-workshop.yaml"]["phases"]["1"]["passed"] is not None
    assert not [p for p in out.rglob(".*")]               # nothing half-written left
    assert "ERROR over its time budget (8 s)" in capsys.readouterr().out


def test_a_site_over_its_memory_budget_is_failed(tmp_path):
    """A budget of 64 MB of address space (the worker alone takes some 500 MB): the site
    fails at its first allocation and is listed so; the batch itself carries on."""
    src = tmp_path / "sites"
    src.mkdir()
    _copy_site("small-workshop", src)
    rows = run_batch(src, tmp_path / "out", phases=(1,), resolution_m=2.0, progress=False,
                     site_memory_mb=64)
    assert rows[0]["error"].startswith("over its memory budget (64 MB)")
    assert json.loads((tmp_path / "out" / "index.json").read_text())["sites"] == rows


def test_budget_options_are_checked_and_the_help_gives_the_defaults(tmp_path, capsys):
    from wifiplan.cli import build_parser
    from wifiplan.report.batch import SITE_MEMORY_MB, SITE_TIMEOUT_S
    for opt, val in (("--site-timeout", "-1"), ("--site-timeout", "nan"),
                     ("--site-memory", "10")):
        assert main(["batch", str(FLOORPLANS), "-o", str(tmp_path / "o"), opt, val]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and opt[2:].replace("-", "_") in err, err
    sub = next(a for a in build_parser()._actions if a.dest == "command").choices["batch"]
    text = sub.format_help()
    assert f"default {SITE_TIMEOUT_S:g};" in text and f"default {SITE_MEMORY_MB};" in text


def test_ctrl_c_ends_a_batch_and_its_workers_within_a_second(tmp_path):
    """SIGINT while the workers compute: exit code 130 within about a second, one line, no
    traceback, no index and no half-written file; the workers are gone."""
    import os
    import signal
    import subprocess
    import sys
    import time
    from conftest import short_walls_site
    src = tmp_path / "sites"
    src.mkdir()
    (src / "walls.yaml").write_text(short_walls_site(20_000), encoding="utf-8")
    _copy_site("large-hall", src)
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "wifiplan", "batch", str(src), "-o",
                             str(out), "--workers", "2", "--resolution", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while time.time() < deadline and len(_live_workers(proc.pid)) < 2:
        time.sleep(0.2)
    workers = _live_workers(proc.pid)
    assert len(workers) >= 2
    time.sleep(1.5)                                     # the workers are inside their sites
    t0 = time.monotonic()
    os.kill(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert time.monotonic() - t0 < 2.0
    assert proc.returncode == 130
    assert err == "wifiplan: interrupted\n"
    assert not (out / "index.json").exists() and not list(out.rglob(".*"))
    assert [w for w in workers if _running(w)] == []
