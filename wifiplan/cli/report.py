"""``wifiplan report`` (one phase of one site) and ``wifiplan batch`` (every site, every phase)."""
from __future__ import annotations

from ..errors import InputError
from .survey import add_survey_read_args


def _phases(text: str) -> tuple[int, ...]:
    try:
        out = tuple(sorted({int(t) for t in str(text).split(",") if t.strip()}))
    except ValueError:
        raise InputError(f"--phases: expected a comma-separated list of 1-4 like 1,2,3,4, "
                         f"got {text!r}") from None
    if not out or any(p not in (1, 2, 3, 4) for p in out):
        raise InputError(f"--phases: expected phases among 1,2,3,4, got {text!r}")
    return out


def _report(args) -> int:
    from ..report import REPORT_FILES, make_report
    if args.resolution <= 0:
        raise InputError(f"--resolution must be > 0, got {args.resolution}")
    a = make_report(args.site, args.phase, args.output, plan_path=args.plan,
                    survey_path=args.survey, model_path=args.model, logs_path=args.logs,
                    resolution_m=args.resolution, pilot=args.pilot_zone,
                    survey_format=args.fmt, mapping_path=args.mapping, georef_path=args.georef,
                    inventory_path=args.inventory)
    failed = [c for c in a.criteria if c.passed is False]
    print(f"{a.site.name}: phase {a.phase.number} ({a.phase.title}), {len(a.plan.aps)} APs: "
          f"{'PASS' if a.passed else 'FAIL'}; {len(a.criteria)} criteria, {len(failed)} failed"
          + (f" ({', '.join(c.id for c in failed)})" if failed else ""))
    for note in a.notes:
        print(f"  note: {note}")
    print(f"  -> {args.output}/ ({', '.join(REPORT_FILES)})")
    return 0 if a.passed else 1


def _batch(args) -> int:
    from ..report.batch import run_batch
    phases = _phases(args.phases)
    if args.workers < 1:
        raise InputError(f"--workers must be >= 1, got {args.workers}")
    if args.resolution <= 0:
        raise InputError(f"--resolution must be > 0, got {args.resolution}")
    rows = run_batch(args.folder, args.output, workers=args.workers, phases=phases,
                     resolution_m=args.resolution, dask_address=args.dask,
                     model_path=args.model,
                     **{k: v for k, v in (("site_timeout_s", args.site_timeout),
                                          ("site_memory_mb", args.site_memory))
                        if v is not None})
    total = sum(r["seconds"] for r in rows)
    for r in rows:
        ph = " ".join(f"P{k}:{'-' if 'error' in v else ('PASS' if v['passed'] else 'FAIL')}"
                      for k, v in sorted(r["phases"].items()))
        print(f"{r['file']:<32} {r['ap_count'] if r['ap_count'] is not None else '-':>4} APs  "
              f"{ph:<32} {r['seconds']:7.1f} s" + (f"  ERROR {r['error']}" if r["error"] else ""))
    n_err = sum(1 for r in rows if r["error"])
    fails = [v for r in rows for v in r["phases"].values() if v.get("passed") is False]
    n_imp = sum(1 for v in fails if set(v["failed"]) <= set(v.get("impossible", [])))
    print(f"{len(rows)} sites, {n_err} with errors, {len(fails)} phase reports failing "
          f"({n_imp} of them only on criteria the site makes impossible), {total:.1f} s of "
          f"work -> {args.output}/index.html")
    return 1 if n_err or fails else 0


def register(sub) -> None:
    p = sub.add_parser("report", help="rollout report of one phase: HTML, PDF, aps.csv, "
                                      "bom.csv, report.json",
                       description="Write the report of one rollout phase (seed 8.1.3.7) of a "
                                   "site. Exit code 1 when the phase fails a criterion.")
    p.add_argument("site", metavar="SITE.yaml")
    p.add_argument("--plan", metavar="PLAN.yaml",
                   help="the site's plan (default: the planner plans it)")
    p.add_argument("--survey", metavar="S.csv", help="survey measurements to judge")
    add_survey_read_args(p)
    p.add_argument("--model", metavar="MODEL.yaml",
                   help="calibrated model file (from 'wifiplan survey calibrate')")
    p.add_argument("--logs", metavar="LOGS.csv", help="terminal logs (phase 4)")
    p.add_argument("--phase", type=int, required=True, choices=[1, 2, 3, 4])
    p.add_argument("--pilot-zone", metavar="ZONE",
                   help="zone of the phase-1/2 trial (default: the zone with most terminals)")
    p.add_argument("--resolution", type=float, default=1.0, metavar="M",
                   help="grid step of the maps [m] (default 1)")
    p.add_argument("-o", "--output", required=True, metavar="DIR")
    p.set_defaults(func=_report)

    b = sub.add_parser("batch", help="reports of every phase for every site of a folder",
                       description="Plan (or use NAME.plan.yaml beside) every site of a folder "
                                   "and write every phase's report, plus index.html. Exit "
                                   "code 0 only when every phase of every site passes; 1 "
                                   "when a site could not be reported or a phase fails.")
    b.add_argument("folder", metavar="FLOORPLANS_DIR")
    b.add_argument("-o", "--output", required=True, metavar="DIR")
    b.add_argument("--workers", type=int, default=1, metavar="N",
                   help="local worker processes (default 1)")
    b.add_argument("--phases", default="1,2,3,4", metavar="1,2,3,4")
    b.add_argument("--dask", metavar="ADDRESS",
                   help="run the jobs on an existing Dask cluster (tcp://host:8786); its "
                        "workers must see the same file system")
    b.add_argument("--model", metavar="MODEL.yaml", help="calibrated model for every site")
    b.add_argument("--resolution", type=float, default=1.0, metavar="M",
                   help="grid step of the maps [m] (default 1)")
    # the defaults are report.batch's SITE_TIMEOUT_S and SITE_MEMORY_MB (not imported here:
    # --help stays quick; tests/test_batch.py checks that the two agree)
    b.add_argument("--site-timeout", type=float, metavar="S",
                   help="wall-clock budget of one site [s]: a site over it is stopped and "
                        "listed as failed (default 1800; 0: no limit)")
    b.add_argument("--site-memory", type=float, metavar="MB",
                   help="address-space budget of one site's worker process [MB], Linux: a "
                        "site over it is listed as failed (default 8192; 0: no limit)")
    b.set_defaults(func=_batch)
