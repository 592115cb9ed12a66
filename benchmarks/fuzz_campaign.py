"""The long fuzz campaign: generated and mutated inputs of every kind through the CLI.

    python benchmarks/fuzz_campaign.py --cases 3000 [--seed 0] [--out fuzz.json]
                                       [--kinds esx,routes,site-routes]

Prints the counts of runs, clean refusals and accepted inputs, and of the outcomes that
must never happen (crash, hang, modified input, garbage accepted, NaN or inf written,
unclear message), with the slowest run and the peak memory of the process; exits 1 when
any of those happened. The generators and the judge live in ``tests/fuzzing.py`` (the test
suite runs a short campaign of the same cases).
"""
from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import fuzzing  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=60.0, help="per case [s]")
    ap.add_argument("--out", type=Path, help="write every case's outcome as JSON")
    ap.add_argument("--kinds", help="comma-separated input kinds (default: all of "
                                    + ", ".join(fuzzing.KINDS) + ")")
    args = ap.parse_args(argv)
    kinds = args.kinds.split(",") if args.kinds else None
    unknown = sorted(set(kinds or []) - set(fuzzing.KINDS))
    if unknown:
        ap.error(f"unknown kinds {', '.join(unknown)}")
    t0 = time.perf_counter()

    def progress(i, r):
        if i % 100 == 0 or r["outcome"] in fuzzing.BAD_OUTCOMES:
            print(f"[fuzz] {i}/{args.cases} {r['kind']} {r['mutation']}: {r['outcome']}"
                  + (f" ({r['stderr'][:120]})" if r["outcome"] in fuzzing.BAD_OUTCOMES else ""),
                  file=sys.stderr, flush=True)
    res = fuzzing.campaign(args.cases, seed=args.seed, timeout_s=args.timeout,
                           progress=progress, kinds=kinds)
    s = fuzzing.summary(res)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    s.update({"seconds": round(time.perf_counter() - t0, 1), "peak_memory_mb": round(peak_mb),
              "seed": args.seed})
    if args.out:
        args.out.write_text(json.dumps({"summary": s, "cases": res}, indent=1) + "\n")
    print(f"{s['cases']} cases in {s['seconds']} s (seed {args.seed}): "
          + ", ".join(f"{k} {v}" for k, v in sorted(s["outcomes"].items())))
    for kind, d in s["by_kind"].items():
        print(f"  {kind:<8} " + ", ".join(f"{k} {v}" for k, v in sorted(d.items())))
    bad = fuzzing.failures(res)
    print(f"slowest case {s['slowest_s']:.2f} s, peak memory of the process {peak_mb:.0f} MB; "
          f"{len(bad)} cases that must not happen "
          f"({', '.join(fuzzing.BAD_OUTCOMES)})")
    for r in bad[:20]:
        print(f"  {r['kind']} {r['mutation']}: {r['outcome']} {r['stderr'][:160]}")
    return 1 if bad or peak_mb > 2048 else 0


if __name__ == "__main__":
    sys.exit(main())
