"""``wifiplan plan``: place APs, assign channels, tune power, wire the backhaul."""
from __future__ import annotations

import sys

from ..errors import InputError
from ..rules import BOUNDARY_BAND_DBM, DEFAULT_MIN_RSSI_DBM, MIN_RSSI_RANGE_DBM


def _channels(text: str) -> list[int]:
    out = []
    for part in str(text).replace(" ", "").split(","):
        if not part:
            continue
        try:
            out.append(int(part))
        except ValueError:
            raise InputError(f"--channels: '{part}' is not a channel number, expected a list "
                             "like 36,40,44,48") from None
    if not out:
        raise InputError("--channels: no channel given, expected a list like 36,40,44,48")
    return out


def _plan(args) -> int:
    from ..backhaul import switch_suggestions
    from ..evaluation import format_metrics
    from ..plan import save_plan
    from ..planning import plan_site
    from .core import load
    inp = load(args.site, args.plan, args.model)
    site, existing, model = inp.site, inp.plan, inp.model
    if args.aps is not None and args.aps < 1:
        raise InputError(f"--aps must be at least 1, got {args.aps}")
    lo, hi = MIN_RSSI_RANGE_DBM
    if args.min_rssi is not None and not (lo <= args.min_rssi <= hi):
        raise InputError(f"--min-rssi {args.min_rssi:g} dBm is out of range, expected "
                         f"{lo:g}..{hi:g}")
    if args.resolution is not None and not (0.25 <= args.resolution <= 10):
        raise InputError(f"--resolution {args.resolution:g} m is out of range, expected 0.25..10")
    try:
        plan = plan_site(site, aps=args.aps, min_rssi_dbm=args.min_rssi,
                         channels=_channels(args.channels) if args.channels else None,
                         model=model, existing=existing, zones=args.zone or None,
                         respect_capacity=args.respect_capacity, resolution_m=args.resolution,
                         seed=args.seed)
    except InputError as exc:
        opt = {"channels": "--channels", "aps": "--aps", "min_rssi_dbm": "--min-rssi",
               "zones": "--zone"}.get(exc.key)
        if opt:
            raise InputError(f"{exc.detail} (site {args.site})", key=opt) from None
        raise
    save_plan(plan, args.output)
    m = plan.metrics
    took = getattr(plan, "timings", {}).get("elapsed_s")
    print(f"{site.name}: plan with {len(plan.aps)} APs -> {args.output}"
          + (f" (planned in {took:g} s)" if took is not None else ""))
    print(format_metrics(m))
    failed = False
    if not site.zones:
        print(f"wifiplan: {args.site}: the site has no zones, so the plan covers the whole "
              f"outline at {DEFAULT_MIN_RSSI_DBM:g} dBm; add zones (where terminals work) and "
              "plan again",
              file=sys.stderr)
        failed = True
    if m.get("uncovered_zones"):
        print(f"wifiplan: {args.site}: zone(s) below 99 % coverage: "
              + ", ".join(f"{z} ({100 * m['zones'][z]['coverage']:.1f} %)"
                          for z in m["uncovered_zones"]) + "; the plan is written with them "
              "reported", file=sys.stderr)
        failed = True
    bh = m.get("backhaul") or {}
    if bh.get("flags") and site.switches:
        print(f"wifiplan: {args.site}: the backhaul cannot be built as planned ("
              + "; ".join(bh["flags"]) + "); the plan is written with it reported",
              file=sys.stderr)
        for s in switch_suggestions(plan.aps, bh):
            print(f"wifiplan: {args.site}: {s}", file=sys.stderr)
        failed = True
    if args.respect_capacity and m.get("capacity") and not m["capacity"]["ok"]:
        print(f"wifiplan: {args.site}: capacity still fails" + (" after adding cells" if
              args.aps is None else f" with the {args.aps} APs asked for"), file=sys.stderr)
        failed = True
    return 1 if failed else 0


def register(sub) -> None:
    from .core import add_model_arg
    p = sub.add_parser("plan", help="place APs, assign channels, tune power (writes PLAN.yaml)",
                       description="Plan a site: AP count from the seed's scale rule, coverage "
                       "and capacity; placement on ceiling mount points; non-DFS 20 MHz "
                       "channels; power tuned so cell boundaries lie in "
                       f"{BOUNDARY_BAND_DBM[0]:g}..{BOUNDARY_BAND_DBM[1]:g} dBm; "
                       "switch ports and cable runs. Exit 1 when a zone stays uncovered, the "
                       "site has no zones or the backhaul cannot be built (the plan is still "
                       "written), 2 on bad input.")
    p.add_argument("site", metavar="SITE.yaml")
    p.add_argument("-o", "--output", required=True, metavar="PLAN.yaml")
    p.add_argument("--aps", type=int, metavar="N", help="fix the number of APs")
    p.add_argument("--min-rssi", type=float, metavar="DBM",
                   help="requirement for every zone [dBm] (default: each zone's min_rssi_dbm)")
    p.add_argument("--channels", metavar="36,40,...",
                   help="restrict the channels (non-DFS channels of the site's domain)")
    p.add_argument("--plan", metavar="EXISTING.yaml",
                   help="existing plan: its APs marked 'locked: true' stay where they are")
    p.add_argument("--zone", action="append", metavar="NAME",
                   help="plan only for this zone (repeatable)")
    p.add_argument("--respect-capacity", action="store_true", default=True,
                   help="add cells until every cell's airtime is within its budget (the "
                        "default; kept for scripts that name it)")
    p.add_argument("--ignore-capacity", action="store_false", dest="respect_capacity",
                   help="plan for coverage and the boundary band only, even where a cell's "
                        "airtime exceeds its budget")
    p.add_argument("--resolution", type=float, metavar="M",
                   help="planning grid step [m] (default 1-2 m from the area)")
    p.add_argument("--seed", type=int, default=0, help="seed of the randomised restarts")
    add_model_arg(p)
    p.set_defaults(func=_plan)
