"""``wifiplan logs analyze`` and ``wifiplan logs simulate``: phase-4 terminal logs."""
from __future__ import annotations

import json


def _analyze(args) -> int:
    from ..fileio import write_atomic
    from ..logs import analyze_logs, findings
    from ..plan import load_plan
    plan = load_plan(args.plan) if args.plan else None
    report = analyze_logs(args.logs, plan)
    write_atomic(args.output, json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    s = report["summary"]
    print(f"{args.logs}: {s['association_samples']} samples of {s['devices']} devices, "
          f"{s['start']} .. {s['end']}; {s['bad_rows']} bad rows")
    for b in report["bad_rows"][:5]:
        print(f"  bad row, line {b['line']}: {b['reason']}")
    print(f"roams {s['roams']}, ping-pong {s['ping_pong_roams']} "
          f"({', '.join(s['ping_pong_devices']) or 'none'}), sticky episodes "
          f"{s['sticky_episodes']} ({', '.join(s['sticky_devices']) or 'none'})")
    for r in report["recommendations"]:
        head = (f"{r['ap']}: {r['tx_power_dbm']:g} -> {r['recommended_tx_power_dbm']:g} dBm "
                f"({r['change_db']:+g} dB)" if r["change_db"] else f"{r['ap']}: no power change")
        print(head)
        for why in r["reasons"] + r["settings"]:
            print(f"  - {why}")
    print(f"-> {args.output}")
    return 1 if findings(report) else 0


def _simulate(args) -> int:
    from ..fileio import write_atomic
    from ..logs import log_to_csv, simulate_log
    from .core import load
    inp = load(args.site, args.plan, args.model)
    site, plan, model = inp.site, inp.plan, inp.model
    frame, truth = simulate_log(site, plan, model=model, duration_s=args.duration_s,
                                period_s=args.period_s, seed=args.seed,
                                max_devices=args.devices)
    write_atomic(args.output, log_to_csv(frame))
    print(f"{len(frame)} rows, {frame['device'].nunique()} devices -> {args.output}")
    print(f"planted: {len(truth['ping_pong'])} ping-pong roams on {truth['pingpong_device']}, "
          f"sticky: {truth['sticky_device'] or 'none (no spot found)'}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("logs", help="phase-4 terminal log analysis")
    lsub = p.add_subparsers(dest="logs_command", metavar="ACTION", required=True)
    a = lsub.add_parser("analyze", help="roams, ping-pong, weak signal, sticky clients and "
                                        "power changes from a terminal log")
    a.add_argument("logs", metavar="LOGS.csv",
                   help="timestamp,device,bssid,rssi_dbm[,kind][,neighbor_bssid,"
                        "neighbor_rssi_dbm][,x_m,y_m]")
    a.add_argument("--plan", metavar="PLAN.yaml", help="the plan (BSSID -> AP, powers)")
    a.add_argument("-o", "--output", required=True, metavar="LOGREPORT.json")
    a.set_defaults(func=_analyze)
    s = lsub.add_parser("simulate", help="a deterministic terminal log with a planted "
                                         "ping-pong and a planted sticky terminal")
    s.add_argument("site", metavar="SITE.yaml")
    s.add_argument("plan", metavar="PLAN.yaml")
    s.add_argument("-o", "--output", required=True, metavar="LOG.csv")
    s.add_argument("--duration-s", type=float, default=1200.0)
    s.add_argument("--period-s", type=float, default=1.0)
    s.add_argument("--devices", type=int, default=None, help="at most this many site terminals")
    s.add_argument("--seed", type=int, default=8)
    s.add_argument("--model", metavar="MODEL.yaml")
    s.set_defaults(func=_simulate)
