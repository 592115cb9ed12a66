"""Batch reports on a fleet: N copies of a sample site, every phase, N workers.

    python benchmarks/bench_batch.py [--copies 20] [--workers 2] [--site large-hall]
        [--with-plan] [--resolution 1] [-o OUT]

Without ``--with-plan`` only the site file is copied, so the batch plans every copy with the
planner (the fleet case); with it, the hand plan beside the sample is copied too and only
the reports are timed. Prints the per-site times and the total wall time.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--copies", type=int, default=20)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--site", default="large-hall")
    ap.add_argument("--with-plan", action="store_true")
    ap.add_argument("--resolution", type=float, default=1.0)
    ap.add_argument("--phases", default="1,2,3,4")
    ap.add_argument("-o", "--output")
    args = ap.parse_args()
    from wifiplan.report.batch import run_batch
    src = ROOT / "floorplans" / f"{args.site}.yaml"
    work = Path(args.output or tempfile.mkdtemp(prefix="bench-batch-"))
    sites = work / "sites"
    sites.mkdir(parents=True, exist_ok=True)
    for i in range(args.copies):
        shutil.copy(src, sites / f"{args.site}-{i + 1:02d}.yaml")
        if args.with_plan:
            shutil.copy(src.with_name(f"{args.site}.plan.yaml"),
                        sites / f"{args.site}-{i + 1:02d}.plan.yaml")
    phases = tuple(int(p) for p in args.phases.split(","))
    t0 = time.perf_counter()
    rows = run_batch(sites, work / "reports", workers=args.workers, phases=phases,
                     resolution_m=args.resolution)
    wall = time.perf_counter() - t0
    for r in rows:
        print(f"{r['file']:<28} {r['ap_count'] or '-':>4} APs {r['seconds']:8.1f} s"
              + (f"  ERROR {r['error']}" if r["error"] else ""))
    secs = [r["seconds"] for r in rows]
    print(f"{len(rows)} sites x phases {args.phases}, {args.workers} workers, "
          f"{'hand plans' if args.with_plan else 'planned by the planner'}, grid "
          f"{args.resolution:g} m: per site median {statistics.median(secs):.1f} s "
          f"(min {min(secs):.1f}, max {max(secs):.1f}), sum {sum(secs):.1f} s, "
          f"wall {wall:.1f} s -> {work / 'reports' / 'index.html'}")
    return 1 if any(r["error"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
