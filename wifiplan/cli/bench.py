"""``wifiplan bench``: the benchmarks of issue 4 (benchmarks/harness.py in a source checkout)."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from ..errors import InputError

HARNESS = Path(__file__).resolve().parents[2] / "benchmarks" / "harness.py"


def load_harness():
    """The harness module from the source tree (benchmarks/ is not installed)."""
    if not HARNESS.is_file():
        raise InputError(f"{HARNESS} not found: 'wifiplan bench' runs from a source checkout "
                         "(pip install -e .)")
    spec = importlib.util.spec_from_file_location("wifiplan_bench_harness", HARNESS)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _bench(args) -> int:
    h = load_harness()
    res = h.run(quick=args.quick, only=args.only,
                progress=lambda s: print(s, file=sys.stderr, flush=True))
    print(h.format_table(res))
    la0, la1 = res["load_average_start"][0], res["load_average_end"][0]
    print(f"load average {la0:.1f} -> {la1:.1f} on {res['machine'].get('cpu_count')} CPUs "
          f"(wall-clock figures include the other processes; cpu_s do not)")
    if args.output:
        import json

        from ..fileio import write_atomic
        write_atomic(args.output, json.dumps(res, indent=2, sort_keys=True) + "\n")
        print(f"results -> {args.output}")
    return 1 if any(k.endswith("_error") for k in res) else 0


def register(sub) -> None:
    p = sub.add_parser("bench", help="time the radio map, the planner and the survey import "
                                     "(a table, and JSON with -o)")
    p.add_argument("--quick", action="store_true",
                   help="skip the XL site and time the reference on 4 APs (a few minutes)")
    p.add_argument("-o", "--output", metavar="results.json", help="write the results as JSON")
    p.add_argument("--only", nargs="+", metavar="STAGE",
                   choices=["radiomap_large", "single_ap_update", "plan_large", "channels_large",
                            "survey_import", "radiomap_xl", "plan_xl"],
                   help="run these stages only")
    p.set_defaults(func=_bench)
