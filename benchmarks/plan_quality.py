"""The planner's quality on generated factory halls it was never tuned on.

    python benchmarks/plan_quality.py [--seeds 0-9] [-o DIR] [--json OUT.json]

Each seed gives one hall (deterministic: the same seed, the same site, byte for byte), of
one of five kinds in turn: a machining hall (rows of machines and presses), a rack store
(rows of 5-9 m racks down the hall), an assembly hall (long lines between machines), a
mixed hall (machines, then racks behind a concrete wall with a gate) and a small workshop.
Size, ceiling height, roof, AP height, regulatory domain, zones, terminals and requirement
profiles (``scanner``, ``video-stream``, ``voice``, or a zone asking -65 dBm) vary with the
seed. Each site is written to DIR, planned with :func:`wifiplan.planning.plan_site` (the
``wifiplan plan`` defaults) and its plan written beside it; the table gives per site the AP
count, primary coverage, the share of judged cell boundaries in the -70..-65 dBm band, the
SINR share, the co-channel separation p5, the secondary coverage, whether every cell is
within its airtime budget, and the planning time. A change of the planner is judged by
this table before and after, not by the samples alone.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
KINDS = ("machining", "racks", "assembly", "mixed", "small")


def _r(v):
    return round(float(v), 1)


def _box(x, y, w, h):
    return [[_r(x), _r(y)], [_r(x + w), _r(y)], [_r(x + w), _r(y + h)], [_r(x), _r(y + h)]]


def hall_dict(seed: int) -> dict:
    """Hall ``seed`` as a mapping in the site file format (DESIGN.md section 4)."""
    rng = np.random.default_rng(seed)
    kind = KINDS[seed % len(KINDS)]

    def pick(options):
        return options[int(rng.integers(len(options)))]

    if kind == "small":
        w, h = pick([(40, 25), (50, 30), (36, 20)])
        ceiling = pick([5, 6])
    else:
        w, h = pick([(200, 60), (160, 80), (120, 50)] if kind == "racks"
                    else [(90, 50), (120, 70), (150, 80), (100, 60)])
        ceiling = pick([6, 8, 10, 12])
    site = {"name": f"hall-{seed}-{kind}",
            "regulatory_domain": pick(["seed", "EU", "US", "JP"]),
            "outline": _box(0, 0, w, h),
            "building": {"ceiling_height_m": ceiling, "roof": pick(["metal", "metal", "concrete"]),
                         "floor": "concrete"},
            "propagation": {"ap_height_m": min(ceiling - 1.0, pick([4.0, 5.0, 6.0, 7.0])),
                            "client_height_m": 1.2}}
    obstacles, walls = [], []
    if kind != "racks":                         # rows of machines
        rows = max(1, int(h / pick([10, 12, 14])))
        for r in range(rows):
            y = 4 + r * (h - 8) / rows
            x = 4.0
            while x < w - 8:
                mw, md = rng.uniform(3, 8), rng.uniform(2.5, 5)
                if kind == "assembly" and rng.random() < 0.4:     # a line
                    mw, md = min(rng.uniform(15, 40), w - 8 - x), 2.0
                obstacles.append({"name": f"machine-{len(obstacles) + 1}",
                                  "polygon": _box(x, y, mw, md),
                                  "material": pick(["machinery", "metal"]),
                                  "height_m": _r(rng.uniform(1.5, min(5, ceiling - 1)))})
                x += mw + rng.uniform(3, 9)
    if kind in ("racks", "mixed"):              # rack rows down the hall
        x0 = w * (0.5 if kind == "mixed" else 0.1)
        pitch = pick([3.6, 4.6, 5.5])
        x = x0
        while x < w - 4:
            obstacles.append({"name": f"rack-{len(obstacles) + 1}",
                              "polygon": _box(x, 6, 1.2, h - 12), "material": "metal-rack",
                              "height_m": _r(min(ceiling - 1.5, rng.uniform(5, 9)))})
            x += pitch
        if kind == "mixed":                     # a fire wall with a gate
            walls += [{"from": [_r(x0 - 3), 0], "to": [_r(x0 - 3), _r(h * 0.45)],
                       "material": "concrete"},
                      {"from": [_r(x0 - 3), _r(h * 0.55)], "to": [_r(x0 - 3), h],
                       "material": "concrete"}]
    if kind in ("machining", "assembly") and rng.random() < 0.6:     # an office corner
        walls.append({"points": [[0, _r(h - 12)], [15, _r(h - 12)], [15, h]],
                      "material": pick(["brick", "plasterboard", "concrete"])})
    if walls:
        site["walls"] = walls
    site["obstacles"] = obstacles
    zones = []
    n_zones = 1 if kind == "small" else pick([2, 3])
    for k in range(n_zones):
        x0, x1 = w * k / n_zones, w * (k + 1) / n_zones
        zone = {"name": f"zone-{k + 1}", "polygon": _box(x0, 0, x1 - x0, h)}
        n = pick([5, 6, 8] if kind == "small" else [0, 2, 4, 6, 10, 16])
        terminals = {"handheld": n} if n else {}
        if rng.random() < 0.3:
            terminals["thinklet"] = pick([1, 2, 3])
        if terminals:
            zone["terminals"] = terminals
        if rng.random() < 0.25:
            zone["profile"] = pick(["scanner", "video-stream", "voice"])
        elif rng.random() < 0.2:
            zone["min_rssi_dbm"] = -65
        zones.append(zone)
    site["zones"] = zones
    switches = [{"name": "SW1", "position": [2.0, 2.0], "ports": 24, "poe_budget_w": 370}]
    if w > 100:
        switches.append({"name": "SW2", "position": [w - 2.0, h - 2.0], "ports": 24,
                         "poe_budget_w": 370})
    if w > 150:
        switches.append({"name": "SW3", "position": [w / 2, h / 2], "ports": 24,
                         "poe_budget_w": 370})
    site["infrastructure"] = {"server": {"name": "SVR", "position": [1.0, 1.0]},
                              "switches": switches}
    return site


def _seeds(text: str) -> list[int]:
    out = []
    for part in text.split(","):
        a, _, b = part.partition("-")
        out += list(range(int(a), int(b) + 1)) if b else [int(a)]
    return out


def main(argv=None) -> int:
    import yaml
    from wifiplan.plan import save_plan
    from wifiplan.planning import plan_site
    from wifiplan.site import load_site
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="0-9", help="seeds, e.g. 0-9 or 3,7,12 (default 0-9)")
    ap.add_argument("-o", "--out", type=Path, default=ROOT / "benchmarks" / "generated",
                    help="folder for the sites and their plans")
    ap.add_argument("--json", type=Path, help="write the rows as JSON")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    head = (f"{'site':22s} {'APs':>4s} {'cover':>6s} {'band':>6s} {'SINR':>6s} {'cc_p5':>6s} "
            f"{'second':>6s} {'air_ok':>6s} {'time_s':>7s}")
    print(head)

    def pct(v):
        return f"{100 * v:5.1f}%" if v is not None else "     -"

    for seed in _seeds(args.seeds):
        d = hall_dict(seed)
        path = args.out / f"{d['name']}.yaml"
        path.write_text(yaml.safe_dump(d, sort_keys=False, default_flow_style=None))
        site = load_site(path)
        t0 = time.perf_counter()
        plan = plan_site(site)
        t = time.perf_counter() - t0
        save_plan(plan, path.with_suffix(".plan.yaml"))
        m = plan.metrics
        cap = m.get("capacity") or {}
        row = {"site": d["name"], "aps": len(plan.aps), "primary_coverage": m["primary_coverage"],
               "boundary_band_share": m["boundary_band_share"],
               "boundary_points": m["boundary_points"], "sinr_ok_share": m["sinr_ok_share"],
               "co_channel_separation_p5_db": m["co_channel_separation_p5_db"],
               "secondary_coverage": m["secondary_coverage"],
               "capacity_ok": cap.get("ok"), "time_s": round(t, 2)}
        rows.append(row)
        p5 = row["co_channel_separation_p5_db"]
        print(f"{row['site']:22s} {row['aps']:4d} {pct(row['primary_coverage'])} "
              f"{pct(row['boundary_band_share'])} {pct(row['sinr_ok_share'])} "
              f"{(f'{p5:6.1f}' if p5 is not None else '     -')} "
              f"{pct(row['secondary_coverage'])} {str(row['capacity_ok']):>6s} {t:7.1f}",
              flush=True)
    bands = [r["boundary_band_share"] for r in rows if r["boundary_band_share"] is not None]
    if bands:
        print(f"band >= 50 % on {sum(b >= 0.5 for b in bands)} of {len(bands)} sites with "
              f"judged boundaries; median {100 * float(np.median(bands)):.1f} %")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
