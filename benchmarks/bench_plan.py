"""Time the planner on the bundled sample sites (the large hall must plan in <= 30 s).

    python benchmarks/bench_plan.py [SITE.yaml ...] [--repeat N]

Prints, per site, the wall-clock time of ``plan_site`` (best of N runs), the time spent on
the candidates' radio-map layers, the AP count and the main metrics.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv=None) -> int:
    from wifiplan.planning import plan_site
    from wifiplan.site import load_site
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sites", nargs="*", type=Path)
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args(argv)
    sites = args.sites or sorted(p for p in (ROOT / "floorplans").glob("*.yaml")
                                 if not p.name.endswith(".plan.yaml"))
    print(f"{'site':28s} {'time_s':>7s} {'layers_s':>8s} {'APs':>4s} {'cover':>6s} "
          f"{'band':>6s} {'second':>6s} {'cc_p5':>6s}")
    for path in sites:
        site = load_site(path)
        best = None
        for _ in range(max(1, args.repeat)):
            t0 = time.perf_counter()
            plan = plan_site(site)
            dt = time.perf_counter() - t0
            best = dt if best is None else min(best, dt)
        m = plan.metrics

        def f(v, pct=True):
            return "n/a" if v is None else (f"{100 * v:.1f}" if pct else f"{v:.1f}")
        print(f"{path.stem:28s} {best:7.2f} {plan.timings['candidate_layers_s']:8.2f} "
              f"{m['ap_count']:4d} {f(m['primary_coverage']):>6s} "
              f"{f(m['boundary_band_share']):>6s} {f(m['secondary_coverage']):>6s} "
              f"{f(m['co_channel_separation_p5_db'], False):>6s}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
