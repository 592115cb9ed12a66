"""``wifiplan roam``: terminals walking the floor, a roaming simulation along routes."""
from __future__ import annotations

import json
import sys


def _roam(args) -> int:
    from ..capacity import terminal_profiles
    from ..fileio import write_atomic
    from ..roaming import TerminalModel, findings, simulate_roaming
    from ..roaming.model import Progress
    from ..routes import load_routes
    from .core import load
    inp = load(args.site, args.plan, args.model)
    site, plan = inp.site, inp.plan
    kw = {} if args.hysteresis_db is None else {"hysteresis_db": args.hysteresis_db}
    terminal = TerminalModel(fast_transition=not args.no_11r, neighbor_report=not args.no_11k,
                             shadowing_db=args.shadowing_db, seed=args.seed,
                             step_m=args.step_m, **kw).check()
    routes = None
    if args.routes:
        routes = load_routes(args.routes, site.outline_polygon, terminal_profiles(site))
    report = simulate_roaming(site, plan.aps, routes, model=inp.model, terminal=terminal,
                              progress=Progress(sys.stderr))
    report["plan"] = str(args.plan)
    report["routes_source"] = (str(args.routes) if args.routes else
                               "site" if site.routes else "generated")
    write_atomic(args.output, json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    s = report["summary"]
    print(f"{site.name}: {s['routes']} routes ({report['routes_source']}), {s['walked_m']:g} m "
          f"walked past {len(plan.aps)} APs")
    for r in report["routes"]:
        print(f"  {r['name']}: roams {r['roams']}, ping-pong {r['ping_pong_roams']}, "
              f"below {terminal.roam_threshold_dbm:g} dBm {r['seconds_below_70_dbm']:g} s, "
              f"longest outage {r['longest_outage_s']:g} s, "
              f"{' > '.join(x['ap'] or '-' for x in r['serving'])}")
    q = ", ".join(f"{k} {v['bytes']:,} bytes ({v['packets']} packets)"
                  for k, v in s["resend_queue"].items())
    print(f"resend queue for the longest outage ({s['longest_outage_s']:g} s): {q}")
    print(f"-> {args.output}")
    return 1 if findings(report) else 0


def register(sub) -> None:
    p = sub.add_parser("roam", help="simulated walks: roams, ping-pong, weak signal, outages "
                                    "and the resend queue along routes")
    p.add_argument("site", metavar="SITE.yaml")
    p.add_argument("plan", metavar="PLAN.yaml")
    p.add_argument("--routes", metavar="ROUTES.yaml",
                   help="the walks (default: the site's routes:, else walks generated along "
                        "the aisles of every zone)")
    p.add_argument("-o", "--output", required=True, metavar="OUT.json")
    p.add_argument("--model", metavar="MODEL.yaml",
                   help="calibrated model file (from 'wifiplan survey calibrate')")
    p.add_argument("--hysteresis-db", type=float, default=None, metavar="DB",
                   help="a candidate AP must be this much stronger (default 5 dB, "
                        "wpa_supplicant's margin)")
    p.add_argument("--no-11r", action="store_true",
                   help="no fast BSS transition: full authentication at every roam")
    p.add_argument("--no-11k", action="store_true",
                   help="no neighbour report: the terminal scans every channel")
    p.add_argument("--shadowing-db", type=float, default=0.0, metavar="DB",
                   help="log-normal shadowing standard deviation (default 0: deterministic)")
    p.add_argument("--seed", type=int, default=0, help="seed of the shadowing")
    p.add_argument("--step-m", type=float, default=0.5, metavar="M",
                   help="sample step along a route [m]")
    p.set_defaults(func=_roam)
