"""The generated XL benchmark site: 400 m x 200 m, about 1,000 wall segments, 300 obstacles,
and a 150-AP plan for it. Deterministic: the same seed gives the same site, byte for byte.

    python benchmarks/xl_site.py [-o DIR] [--seed N]

writes ``DIR/xl-site.yaml`` and ``DIR/xl-site.plan.yaml`` (default DIR: benchmarks/generated).

Layout: eight 100 m x 100 m bays behind concrete fire walls with open gates; two warehouse
bays with 8 m rack rows; four production bays with machines of 1.5-5 m, fenced robot cells
and a few L-shaped machine groups (non-convex footprints); two office bays with rooms along
corridors (brick, plasterboard, glass). One zone per bay, with terminals.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

W, H = 400.0, 200.0
BAY = 100.0
DEFAULT_SEED = 20261128
N_APS = 150


def _r(v):
    return round(float(v), 2)


def xl_site_dict(seed: int = DEFAULT_SEED) -> dict:
    """The XL site as a mapping in the site file format (DESIGN.md section 4)."""
    rng = np.random.default_rng(seed)
    walls: list[dict] = []
    obstacles: list[dict] = []

    def wall(p, q, m):
        walls.append({"from": [_r(p[0]), _r(p[1])], "to": [_r(q[0]), _r(q[1])], "material": m})

    def poly_wall(pts, m):
        walls.append({"points": [[_r(x), _r(y)] for x, y in pts], "material": m})

    def rect(name, x0, y0, w, h, m, height):
        obstacles.append({"name": name, "polygon": [[_r(x0), _r(y0)], [_r(x0 + w), _r(y0)],
                                                    [_r(x0 + w), _r(y0 + h)], [_r(x0), _r(y0 + h)]],
                          "material": m, "height_m": _r(height)})

    # fire walls between the bays, with 6 m gates
    for x in (100.0, 200.0, 300.0):
        for y0 in (0.0, 100.0):
            wall((x, y0), (x, y0 + 20), "concrete")
            wall((x, y0 + 26), (x, y0 + 70), "concrete")
            wall((x, y0 + 76), (x, y0 + 100), "concrete")
    for x0 in (0.0, 100.0, 200.0, 300.0):
        wall((x0, 100), (x0 + 44, 100), "concrete")
        wall((x0 + 50, 100), (x0 + 100, 100), "concrete")

    bays = [(i * BAY, j * BAY) for j in range(2) for i in range(4)]
    kinds = ["warehouse", "production", "production", "office",
             "office", "production", "production", "warehouse"]
    zones = []
    n_obs = 0
    for b, ((bx, by), kind) in enumerate(zip(bays, kinds)):
        zname = f"bay-{b + 1}-{kind}"
        if kind == "warehouse":
            # rack rows, 1.2 m deep, 3.4 m aisles, 8 m high, cross aisle in the middle
            for r in range(20):
                x = bx + 6 + r * 4.6
                for y0, y1 in ((by + 6, by + 46), (by + 54, by + 94)):
                    n_obs += 1
                    rect(f"rack-{b + 1}-{r + 1}-{int(y0 - by)}", x, y0, 1.2, y1 - y0,
                         "metal-rack", 8.0 if r % 2 == 0 else 7.0)
            # a cold room in a corner
            poly_wall([(bx + 96, by + 80), (bx + 96, by + 96)], "cold-room")
            terminals = {"handheld": 6}
        elif kind == "production":
            # fenced robot cells: six-segment wire-mesh polylines open to the aisle
            for c in range(6):
                cx = bx + 8 + (c % 3) * 30
                cy = by + 8 + (c // 3) * 20
                poly_wall([(cx + 4, cy + 10), (cx, cy + 10), (cx, cy), (cx + 12, cy),
                           (cx + 12, cy + 10), (cx + 7, cy + 10)], "wire-mesh")
                n_obs += 1
                rect(f"robot-{b + 1}-{c + 1}", cx + 4.5, cy + 3.5, 3, 3, "machinery", 2.5)
            # machines in rows on the other half of the bay
            placed = 0
            while placed < 26:
                w, h = rng.uniform(2, 7), rng.uniform(2, 5)
                x0 = bx + rng.uniform(4, BAY - 10)
                y0 = by + rng.uniform(52, BAY - 8)
                top = float(rng.choice([1.5, 2.0, 2.5, 3.0, 4.0, 5.0]))
                mat = "metal" if top >= 4.0 else "machinery"
                if placed % 9 == 8:      # an L-shaped machine group (non-convex footprint)
                    obstacles.append({"name": f"group-{b + 1}-{placed + 1}", "material": mat,
                                      "height_m": top, "polygon": [
                                          [_r(x0), _r(y0)], [_r(x0 + 6), _r(y0)],
                                          [_r(x0 + 6), _r(y0 + 2)], [_r(x0 + 2), _r(y0 + 2)],
                                          [_r(x0 + 2), _r(y0 + 5)], [_r(x0), _r(y0 + 5)]]})
                else:
                    rect(f"machine-{b + 1}-{placed + 1}", x0, y0, w, h, mat, top)
                placed += 1
                n_obs += 1
            # a quality booth of plasterboard and glass
            poly_wall([(bx + 70, by + 46), (bx + 70, by + 40), (bx + 90, by + 40),
                       (bx + 90, by + 46)], "plasterboard")
            terminals = {"handheld": 3, "thinklet": 2}
        else:
            # offices: rooms 6 m x 5 m either side of 2 m corridors, doors 1 m
            for row in range(5):
                y0 = by + 4 + row * 19
                for side, ys in ((0, y0), (1, y0 + 7)):
                    for c in range(15):
                        x0 = bx + 4 + c * 6
                        mat = ("glass" if c % 5 == 4 else "plasterboard") if side else "brick"
                        yy = ys + (5 if side == 0 else 0)
                        # front wall with a door, side wall
                        wall((x0, yy), (x0 + 2, yy), mat)
                        wall((x0 + 3, yy), (x0 + 6, yy), mat)
                        wall((x0, ys), (x0, ys + 5), "plasterboard")
                    wall((bx + 94, ys), (bx + 94, ys + 5), "plasterboard")
                # a few cabinets
                for c in range(2):
                    n_obs += 1
                    rect(f"cabinet-{b + 1}-{row + 1}-{c + 1}", bx + 10 + c * 40, y0 + 5.4,
                         3, 0.6, "metal", 2.0)
            terminals = {"handheld": 2}
        zones.append({"name": zname, "polygon": [[bx, by], [bx + BAY, by],
                                                 [bx + BAY, by + BAY], [bx, by + BAY]],
                      "min_rssi_dbm": -67, "terminals": terminals})
    # fill up to 300 obstacles with pillars along the fire walls
    need = 300 - len(obstacles)
    per_line = -(-need // 3)
    for k in range(need):
        x = (100.0, 200.0, 300.0)[k % 3] + 1.0
        y = 2.0 + (k // 3) * (H - 6.0) / per_line
        rect(f"pillar-{k + 1}", x, y, 0.8, 0.8, "concrete", 12.0)
    switches = [{"name": f"SW{i + 1}", "position": [_r(bx + 50), _r(by + 50)], "ports": 48,
                 "poe_budget_w": 740} for i, (bx, by) in enumerate(bays)]
    return {
        "name": "XL benchmark site",
        "regulatory_domain": "seed",
        "outline": [[0, 0], [W, 0], [W, H], [0, H]],
        "building": {"ceiling_height_m": 12.0, "roof": "metal", "floor": "concrete"},
        "propagation": {"ap_height_m": 7.0, "client_height_m": 1.2},
        "walls": walls,
        "obstacles": obstacles,
        "zones": zones,
        "infrastructure": {"server": {"name": "SVR", "position": [2, 2]},
                           "switches": switches},
    }


def xl_plan_dict(site_name: str = "XL benchmark site", n: int = N_APS) -> dict:
    """A hand-style plan: a 15 x 10 grid of APs at 7 m, all eight seed channels reused."""
    chans = [36, 149, 40, 153, 44, 157, 48, 161]
    aps = []
    nx, ny = 15, 10
    for j in range(ny):
        for i in range(nx):
            k = j * nx + i
            if k >= n:
                break
            aps.append({"id": f"AP{k + 1}", "x_m": _r((i + 0.5) * W / nx + 0.37),
                        "y_m": _r((j + 0.5) * H / ny + 0.21), "height_m": 7.0,
                        "channel": chans[(i + 3 * j) % 8], "width_mhz": 20,
                        "tx_power_dbm": 12.0})
    return {"site": site_name, "aps": aps}


def xl_site(seed: int = DEFAULT_SEED):
    """The XL site and its 150-AP plan as objects (validated like files)."""
    from wifiplan.plan import plan_from_dict
    from wifiplan.site import site_from_dict
    site = site_from_dict(xl_site_dict(seed), source="<xl benchmark site>")
    plan = plan_from_dict(xl_plan_dict(site.name), source="<xl benchmark plan>")
    return site, plan


def main(argv=None) -> int:
    from wifiplan.fileio import dump_yaml, write_atomic
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--outdir", type=Path, default=Path(__file__).parent / "generated")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = ap.parse_args(argv)
    args.outdir.mkdir(parents=True, exist_ok=True)
    site, _ = xl_site(args.seed)          # validate before writing
    write_atomic(args.outdir / "xl-site.yaml", dump_yaml(xl_site_dict(args.seed)))
    write_atomic(args.outdir / "xl-site.plan.yaml", dump_yaml(xl_plan_dict(site.name)))
    n_seg = sum(len(w.points) - 1 for w in site.walls)
    print(f"{site.name}: {n_seg} wall segments, {len(site.obstacles)} obstacles, "
          f"{len(site.zones)} zones -> {args.outdir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
