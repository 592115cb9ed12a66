"""Benchmark harness behind ``wifiplan bench`` (issue 4).

    wifiplan bench [--quick] [-o results.json]
    python benchmarks/harness.py [--quick] [-o results.json] [--only STAGE ...]

Every stage runs in a fresh Python process, so that its peak memory (maximum resident set
size) is its own and one stage's caches do not help the next. Times are wall-clock seconds
(``*_s``); the CPU seconds of the same runs are reported beside them (``*_cpu_s``), because
on a shared machine the wall clock also measures the other processes (the load average at
the start and the end is recorded).

Stages:

- ``radiomap_large``: floorplans/large-hall.yaml with its 42-AP plan, 0.5 m grid: the
  fast radio map (``compute_radiomap``), its metrics, and the same per-AP layers with the
  plain brute-force reference (``penetration_reference``: vectorised over points, looping
  over walls and obstacles), their ratio and their largest difference, in the same process.
  ``--quick`` times the reference on 4 APs and scales it to all of them.
- ``single_ap_update``: one AP moved, map and metrics (best/second server, SINR,
  co-channel separation, cell boundary, cell areas) recomputed (``RadioMap.with_aps``).
- ``plan_large``: ``wifiplan.planning.plan_site`` on the large hall, end to end.
- ``channels_large``: channel assignment alone on the large hall's plan: interference
  weights from the 1 m radio map in the zones and ``assign_channels``.
- ``survey_import``: ``wifiplan.survey.read_survey`` of a generated 1,000,000-row native CSV.
- ``radiomap_xl`` and ``plan_xl`` (skipped by ``--quick``): the same on the generated XL
  site (benchmarks/xl_site.py: 400 m x 200 m, ~1,000 wall segments, 300 obstacles, 150 APs).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
LARGE = ROOT / "floorplans" / "large-hall.yaml"
LARGE_PLAN = ROOT / "floorplans" / "large-hall.plan.yaml"
SURVEY_ROWS = 1_000_000

TARGETS = {  # key: (comparison, value, text)
    "radiomap_large_s": ("<=", 0.3, "<= 0.3 s"),
    "radiomap_large_speedup": (">=", 10.0, ">= 10x"),
    "single_ap_update_s": ("<=", 0.3, "<= 0.3 s"),
    "plan_large_s": ("<=", 30.0, "<= 30 s"),
    "plan_xl_s": ("<=", 300.0, "<= 300 s"),
    "plan_xl_peak_mb": ("<=", 4096.0, "<= 4 GB"),
    "survey_import_rows_per_s": (">=", 200_000.0, ">= 200,000"),
}


class Clock:
    """Wall-clock and CPU seconds of a block."""

    def __enter__(self):
        self.w0 = time.perf_counter()
        self.c0 = time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.w0
        self.cpu = time.process_time() - self.c0


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _large():
    from wifiplan.plan import load_plan
    from wifiplan.radio.propagation import Geometry, PropagationModel
    from wifiplan.site import load_site
    site = load_site(LARGE)
    plan = load_plan(LARGE_PLAN, site=site)
    model = PropagationModel.for_site(site)
    return site, plan, model, Geometry.from_site(site, model.material_losses)


def _xl():
    sys.path.insert(0, str(HERE))
    from xl_site import xl_site

    from wifiplan.radio.propagation import Geometry, PropagationModel
    site, plan = xl_site()
    model = PropagationModel.for_site(site)
    return site, plan, model, Geometry.from_site(site, model.material_losses)


def _metrics(rm):
    """The per-point metrics a designer looks at after an edit."""
    rm.best_server
    rm.second_server
    rm.sinr_db
    rm.co_channel_separation_db
    rm.boundary_mask()
    rm.cell_area_m2()


def reference_layers(site, aps, model, geom, xs, ys):
    """Per-AP gain layers (received power at 0 dBm) with the brute-force penetration."""
    import numpy as np

    from wifiplan.radio.geometry import penetration_reference
    X, Y = np.meshgrid(xs, ys)
    out = []
    from wifiplan.radio.hall import combine_dbm
    for a in aps:
        pen = penetration_reference(geom, (a.x_m, a.y_m, a.height_m), X, Y,
                                    model.client_height_m)
        f = 5000.0 + 5.0 * a.channel
        off = model.ap_offsets_db.get(a.id, 0.0)
        if model.is_hall:
            pen_r = penetration_reference(geom,
                                          (a.x_m, a.y_m, model.roof_image_height_m(a.height_m)),
                                          X, Y, model.client_height_m)
            r = np.sqrt((X - a.x_m) ** 2 + (Y - a.y_m) ** 2)
            g_low, g_roof, g_rev = model.hall_terms(r, a.height_m, f)
            g_rev = g_rev * model.diffuse_level(a, model.room.rooms.label_at(X, Y))
            g = combine_dbm(off, model.ap_gain_dbi + model.client_gain_dbi, g_low, g_roof,
                            g_rev, pen, pen_r)
        else:
            d3 = np.sqrt((xs[None, :] - a.x_m) ** 2 + (ys[:, None] - a.y_m) ** 2
                         + (a.height_m - model.client_height_m) ** 2)
            g = (model.ap_gain_dbi + model.client_gain_dbi + off
                 - model.path_loss_db(d3, f) - pen)
        out.append(g.astype(np.float32))
    return np.stack(out)


def _radiomap(site, plan, model, geom, prefix, repeat, ref_aps):
    import numpy as np

    from wifiplan.radio.radiomap import compute_radiomap
    res = {}
    compute_radiomap(site, plan.aps[:2], 0.5, model=model, geom=geom)      # warm-up
    best = None
    for _ in range(repeat):
        with Clock() as c:
            rm = compute_radiomap(site, plan.aps, 0.5, model=model, geom=geom)
        if best is None or c.wall < best.wall:
            best = c
    n_pts = rm.gain_db.shape[1] * rm.gain_db.shape[2]
    res[f"{prefix}_s"] = best.wall
    res[f"{prefix}_cpu_s"] = best.cpu
    res[f"{prefix}_aps"] = len(plan.aps)
    res[f"{prefix}_points"] = n_pts
    res[f"{prefix}_pairs_per_s"] = len(plan.aps) * n_pts / best.wall
    with Clock() as c:
        _metrics(rm)
    res[f"{prefix}_metrics_s"] = c.wall
    res[f"{prefix}_metrics_cpu_s"] = c.cpu
    if ref_aps:
        idx = np.linspace(0, len(plan.aps) - 1, min(ref_aps, len(plan.aps))).round().astype(int)
        idx = sorted(set(idx.tolist()))
        sub = [plan.aps[i] for i in idx]
        with Clock() as c:
            ref = reference_layers(site, sub, model, geom, rm.xs, rm.ys)
        scale = len(plan.aps) / len(sub)
        res[f"{prefix}_reference_s"] = c.wall * scale
        res[f"{prefix}_reference_cpu_s"] = c.cpu * scale
        res[f"{prefix}_reference_aps_timed"] = len(sub)
        res[f"{prefix}_reference_extrapolated"] = len(sub) < len(plan.aps)
        res[f"{prefix}_speedup"] = res[f"{prefix}_reference_s"] / best.wall
        res[f"{prefix}_speedup_cpu"] = res[f"{prefix}_reference_cpu_s"] / best.cpu
        res[f"{prefix}_max_abs_diff_db"] = float(np.abs(ref - rm.gain_db[idx]).max())
    res[f"{prefix}_peak_mb"] = peak_rss_mb()
    return res


# --------------------------------------------------------------------------------------
# Stages (each runs in its own process)
# --------------------------------------------------------------------------------------


def stage_radiomap_large(quick):
    site, plan, model, geom = _large()
    return _radiomap(site, plan, model, geom, "radiomap_large", 2 if quick else 3,
                     4 if quick else len(plan.aps))


def stage_single_ap_update(quick):
    import numpy as np

    from wifiplan.radio.radiomap import compute_radiomap
    site, plan, model, geom = _large()
    rm = compute_radiomap(site, plan.aps, 0.5, model=model, geom=geom)
    _metrics(rm)
    times, cpus = [], []
    moves = [(5, 3.0, 2.0), (17, -4.5, 1.5), (29, 2.25, -3.0), (36, -1.0, -2.5), (41, 3.5, 0.5)]
    for k, dx, dy in moves[: 3 if quick else 5]:
        aps = list(plan.aps)
        aps[k] = replace(aps[k], x_m=aps[k].x_m + dx, y_m=aps[k].y_m + dy)
        with Clock() as c:
            new = rm.with_aps(aps)
            _metrics(new)
        times.append(c.wall)
        cpus.append(c.cpu)
        rm = new
    return {"single_ap_update_s": float(np.median(times)),
            "single_ap_update_cpu_s": float(np.median(cpus)),
            "single_ap_update_max_s": float(np.max(times)),
            "single_ap_update_peak_mb": peak_rss_mb()}


def _plan(site, prefix):
    from wifiplan.planning import plan_site
    with Clock() as c:
        plan = plan_site(site)
    m = plan.metrics
    out = {f"{prefix}_s": c.wall, f"{prefix}_cpu_s": c.cpu, f"{prefix}_aps": len(plan.aps),
           f"{prefix}_peak_mb": peak_rss_mb()}
    pl = m.get("planner", {}) if isinstance(m, dict) else {}
    for k, v in pl.items():
        if isinstance(v, (int, float)) and k.endswith("_s"):
            out[f"{prefix}_{k}"] = float(v)
    for k in ("primary_coverage", "boundary_band_share", "co_channel_separation_p5_db"):
        if isinstance(m.get(k), (int, float)):
            out[f"{prefix}_{k}"] = float(m[k])
    return out


def stage_plan_large(quick):
    from wifiplan.site import load_site
    return _plan(load_site(LARGE), "plan_large")


def stage_channels_large(quick):
    from wifiplan.planning.channels import assign_channels, interference_weights
    from wifiplan.radio.radiomap import compute_radiomap
    site, plan, model, geom = _large()
    rm = compute_radiomap(site, plan.aps, 1.0, model=model, geom=geom)
    sel = rm.zone_index >= 0
    chans = list(site.allowed_channels())
    best = None
    for _ in range(2 if quick else 3):
        with Clock() as c:
            r = rm.rssi_dbm[:, sel]
            w = interference_weights(r, 1.0)
            ch = assign_channels(w, chans, seed=0)
        if best is None or c.wall < best.wall:
            best = c
    return {"channels_large_s": best.wall, "channels_large_cpu_s": best.cpu,
            "channels_large_aps": len(plan.aps), "channels_large_points": int(sel.sum()),
            "channels_large_distinct": len(set(ch)),
            "channels_large_peak_mb": peak_rss_mb()}


def write_survey_csv(path: Path, rows: int = SURVEY_ROWS, seed: int = 7) -> Path:
    """A native survey CSV (x_m,y_m,bssid,ssid,channel,rssi_dbm): 62,500 points on the large
    hall, 16 BSSIDs heard at each."""
    import numpy as np
    import pandas as pd
    rng = np.random.default_rng(seed)
    per = 16
    n_pts = rows // per
    x = np.round(rng.uniform(0.5, 239.5, n_pts), 1)
    y = np.round(rng.uniform(0.5, 99.5, n_pts), 1)
    ap = rng.integers(0, 42, (n_pts, per))
    chans = np.array([36, 149, 40, 153, 44, 157, 48, 161])
    bssid = np.array([f"02:1a:00:00:00:{i + 1:02x}" for i in range(42)])
    df = pd.DataFrame({"x_m": np.repeat(x, per), "y_m": np.repeat(y, per),
                       "bssid": bssid[ap.ravel()], "ssid": "FACTORY-WLAN",
                       "channel": chans[ap.ravel() % 8],
                       "rssi_dbm": np.round(rng.uniform(-90, -35, n_pts * per), 1)})
    df.to_csv(path, index=False, lineterminator="\n")
    return path


def stage_survey_import(quick):
    from wifiplan.survey import read_survey
    with tempfile.TemporaryDirectory() as d:
        p = write_survey_csv(Path(d) / "survey-1m.csv")
        size_mb = p.stat().st_size / 2 ** 20
        with Clock() as c:
            df, meta = read_survey(p)
    return {"survey_import_s": c.wall, "survey_import_cpu_s": c.cpu,
            "survey_import_rows": SURVEY_ROWS,
            "survey_import_rows_per_s": SURVEY_ROWS / c.wall,
            "survey_import_file_mb": size_mb, "survey_import_output_rows": int(len(df)),
            "survey_import_peak_mb": peak_rss_mb()}


def stage_radiomap_xl(quick):
    site, plan, model, geom = _xl()
    return _radiomap(site, plan, model, geom, "radiomap_xl", 1, 1)


def stage_plan_xl(quick):
    site, _, _, _ = _xl()
    return _plan(site, "plan_xl")


STAGES = {
    "radiomap_large": stage_radiomap_large,
    "single_ap_update": stage_single_ap_update,
    "plan_large": stage_plan_large,
    "channels_large": stage_channels_large,
    "survey_import": stage_survey_import,
    "radiomap_xl": stage_radiomap_xl,
    "plan_xl": stage_plan_xl,
}
XL_STAGES = ("radiomap_xl", "plan_xl")


def run_stage_in_process(name: str, quick: bool, timeout_s: float | None = None) -> dict:
    """Run one stage in a fresh interpreter; its JSON result, or an ``error`` entry."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--stage", name]
    if quick:
        cmd.append("--quick")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in [env.get("PYTHONPATH")] if p])
    try:
        cp = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, env=env)
    except subprocess.TimeoutExpired:
        return {f"{name}_error": f"timed out after {timeout_s:.0f} s"}
    lines = [ln for ln in cp.stdout.splitlines() if ln.startswith("{")]
    if cp.returncode != 0 or not lines:
        tail = (cp.stderr.strip().splitlines() or ["no output"])[-1]
        return {f"{name}_error": f"exit {cp.returncode}: {tail}"}
    return json.loads(lines[-1])


def machine_info() -> dict:
    import numpy as np
    info = {"python": platform.python_version(), "numpy": np.__version__,
            "platform": platform.platform(), "cpu_count": os.cpu_count(),
            "machine": platform.machine()}
    try:
        for ln in Path("/proc/cpuinfo").read_text().splitlines():
            if ln.startswith("model name"):
                info["cpu_model"] = ln.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    for k in ("OPENBLAS_CORETYPE", "OMP_NUM_THREADS"):
        if os.environ.get(k):
            info[k] = os.environ[k]
    return info


def _fmt(v) -> str:
    if isinstance(v, bool) or v is None:
        return str(v)
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        if abs(v) >= 1e5:
            return f"{v:,.0f}"
        if abs(v) >= 100:
            return f"{v:.1f}"
        if abs(v) >= 1:
            return f"{v:.2f}"
        return f"{v:.3g}"
    return str(v)


TABLE = [
    ("radiomap_large_s", "Large hall radio map, 0.5 m, all APs [s]"),
    ("radiomap_large_reference_s", "  same with the brute-force reference [s]"),
    ("radiomap_large_speedup", "  speed-up over the reference [x]"),
    ("radiomap_large_max_abs_diff_db", "  largest difference to the reference [dB]"),
    ("radiomap_large_pairs_per_s", "  point-AP pairs per second"),
    ("radiomap_large_metrics_s", "  metrics (servers, SINR, boundary) [s]"),
    ("radiomap_large_peak_mb", "  peak memory of the stage [MB]"),
    ("single_ap_update_s", "Single-AP update, map and metrics [s]"),
    ("plan_large_s", "Planner, large hall, end to end [s]"),
    ("channels_large_s", "Channel assignment alone, large hall [s]"),
    ("survey_import_rows_per_s", "Survey import, 1,000,000-row native CSV [rows/s]"),
    ("radiomap_xl_s", "XL site radio map, 0.5 m, 150 APs [s]"),
    ("radiomap_xl_pairs_per_s", "  point-AP pairs per second"),
    ("radiomap_xl_peak_mb", "  peak memory of the stage [MB]"),
    ("plan_xl_s", "Planner, XL site, end to end [s]"),
    ("plan_xl_peak_mb", "  peak memory of the planner [MB]"),
    ("peak_memory_mb", "Peak memory, largest stage [MB]"),
]


def _status(key, v):
    t = TARGETS.get(key)
    if t is None or not isinstance(v, (int, float)):
        return "", ""
    op, lim, text = t
    ok = v <= lim if op == "<=" else v >= lim
    return text, ("ok" if ok else "MISSED")


def format_table(res: dict) -> str:
    rows = []
    for key, label in TABLE:
        if key not in res:
            continue
        v = res[key]
        cpu = res.get(key.replace("_s", "_cpu_s")) if key.endswith("_s") else None
        target, status = _status(key, v)
        rows.append((label, _fmt(v), _fmt(cpu) if cpu is not None else "", target, status))
    for k, v in res.items():
        if k.endswith("_error"):
            rows.append((k[:-6] + " FAILED", str(v)[:60], "", "", "ERROR"))
    w = [max(len(r[i]) for r in rows + [("", "value", "cpu_s", "target", "")])
         for i in range(5)]
    head = f"{'':{w[0]}}  {'value':>{w[1]}}  {'cpu_s':>{w[2]}}  {'target':{w[3]}}  "
    lines = [head.rstrip(), "-" * len(head)]
    for r in rows:
        lines.append(f"{r[0]:{w[0]}}  {r[1]:>{w[1]}}  {r[2]:>{w[2]}}  {r[3]:{w[3]}}  {r[4]}"
                     .rstrip())
    return "\n".join(lines)


def run(quick: bool = False, only=None, progress=print) -> dict:
    """Run the stages (each in its own process) and collect the results."""
    names = [n for n in STAGES if (only is None or n in only)
             and not (quick and n in XL_STAGES and only is None)]
    res = {"quick": bool(quick), "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
           "machine": machine_info(), "load_average_start": list(os.getloadavg())}
    for n in names:
        progress(f"[bench] {n} ...")
        with Clock() as c:
            out = run_stage_in_process(n, quick, timeout_s=3600)
        res.update(out)
        progress(f"[bench] {n} done in {c.wall:.1f} s")
    res["load_average_end"] = list(os.getloadavg())
    peaks = [v for k, v in res.items() if k.endswith("_peak_mb") and isinstance(v, float)]
    res["peak_memory_mb"] = max(peaks) if peaks else None
    for k in ("radiomap_xl_s", "plan_xl_s"):
        res.setdefault(k, None)          # skipped (--quick) or failed
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="wifiplan benchmarks (issue 4)")
    ap.add_argument("--quick", action="store_true", help="skip the XL site, fewer repeats")
    ap.add_argument("-o", "--output", type=Path, help="write the results as JSON")
    ap.add_argument("--only", nargs="+", choices=list(STAGES), help="run these stages only")
    ap.add_argument("--stage", choices=list(STAGES), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.stage:
        out = STAGES[args.stage](args.quick)
        print(json.dumps(out))
        return 0
    # a full run is the 'wifiplan bench' command (one home for the table and the JSON)
    from wifiplan.cli import main as wifiplan_main
    return wifiplan_main(["bench"] + (["--quick"] if args.quick else [])
                         + (["-o", str(args.output)] if args.output else [])
                         + (["--only", *args.only] if args.only else []))


if __name__ == "__main__":
    raise SystemExit(main())
