"""The capacity of the whole path from the terminals to the processing cluster.

:func:`capacity_check` follows the images hop by hop, each with its figures and pass/fail:
every cell (airtime, :func:`wifiplan.capacity.cell_load`), every switch (uplink, PoE, ports,
cable runs), then the site server and the VMs and links of the cluster on the way to the
processing cluster. :func:`capacity_report` is its JSON form, :func:`format_capacity` its
text table.
"""
from __future__ import annotations

import math

import pandas as pd

from ..site import Site
from ..backhaul import backhaul_summary
from ..capacity import cell_load, terminal_profiles
from ..fileio import to_plain
from ..radio.radiomap import compute_radiomap
from ..rules import MAX_PERMANENT_LINK_M
from .cluster import Cluster
from .network import site_server_node

CAPACITY_COLUMNS = ["hop", "kind", "name", "unit", "demand", "capacity", "limit",
                    "utilisation", "ok", "detail"]


def _row(kind, name, unit, demand, capacity, limit, ok, detail) -> dict:
    util = (demand / capacity) if capacity and math.isfinite(demand) else (
        0.0 if demand == 0 else math.inf)
    return {"kind": kind, "name": name, "unit": unit, "demand": float(demand),
            "capacity": float(capacity), "limit": float(limit), "utilisation": float(util),
            "ok": bool(ok), "detail": detail}


def capacity_check(site: Site, plan, cluster: Cluster, *, radiomap=None, model=None,
                   resolution_m: float = 1.0, airtime_budget: float | None = None
                   ) -> pd.DataFrame:
    """Every hop from the terminals to the processing cluster, with figures and pass/fail.

    Hops, in order (one row each; ``unit`` says what ``demand``/``capacity``/``limit`` count):

    - ``cell`` per AP [Mb/s]: the terminals' demand (uplink + downlink, they share the
      airtime) against the cell's rate, from :func:`wifiplan.capacity.cell_load`;
      ``capacity`` is what the cell carries at 100 % airtime, ``limit`` within the airtime
      budget (50 %), ``utilisation`` the airtime share.
    - ``switch-uplink`` per switch [Mb/s]: the uplink of its APs' terminals against the
      switch's uplink (``limit`` = ``max_link_utilisation`` of it); from
      :func:`wifiplan.backhaul.backhaul_summary`: ``switch-poe`` [W] against the
      PoE budget, ``switch-ports`` against the ports, ``switch-cabling`` [m] the longest AP
      cable (the plan's, else the planner's estimate) against the 90 m permanent link.
    - ``unwired``: APs without a switch port (fails: every AP is on wired backhaul).
    - ``site-server``, then ``vm`` per VM on the data path (8.0.4) and ``link`` per
      cross-VM link with a ``bandwidth_mbps`` [Mb/s]: the site's total uplink demand (all
      zones' terminals, from the terminal profiles) against the interface, within
      ``max_link_utilisation``.
    """
    net = cluster.net
    util = float(net["max_link_utilisation"])
    profiles = terminal_profiles(site)
    rm = radiomap if radiomap is not None else compute_radiomap(
        site, plan.aps, resolution_m=resolution_m, model=model)
    load = cell_load(site, rm, airtime_budget=airtime_budget)   # None: the zones' budgets
    rows = []
    up_by_ap, down_by_ap = {}, {}
    for r in load.itertuples():
        up = sum(n * profiles[t]["uplink_mbps"] for t, n in r.terminals_by_type.items())
        down = sum(n * profiles[t].get("downlink_mbps", 0.0)
                   for t, n in r.terminals_by_type.items())
        up_by_ap[r.ap_id], down_by_ap[r.ap_id] = up, down
        budget = float(r.airtime_budget)          # the strictest of the zones it serves
        full = (r.demand_mbps / r.airtime) if r.airtime > 0 and math.isfinite(r.airtime) else (
            0.0 if not math.isfinite(r.airtime) else r.capacity_mbps / budget)
        mix = ", ".join(f"{round(v, 2):g} {k}" for k, v in r.terminals_by_type.items()) \
            or "no terminals"
        airtime = (f"airtime {r.airtime:.0%} of {budget:.0%}" if math.isfinite(r.airtime) else
                   "airtime unbounded: part of a zone it serves is below MCS0 (-82 dBm), "
                   "no usable rate there")
        row = _row("cell", r.ap_id, "Mb/s", r.demand_mbps, full, full * budget, r.ok,
                   f"ch {r.channel}, {r.terminals:.1f} terminals ({mix}) need "
                   f"{r.demand_mbps:.1f} Mb/s at a median MCS{r.mcs} {r.phy_rate_mbps:.1f} Mb/s: "
                   f"{airtime}")
        row["utilisation"] = float(r.airtime)
        rows.append(row)
    for z in load.attrs["summary"].get("unserved_zones", []):
        rows.append(_row("cell", f"zone {z}", "Mb/s", math.inf, 0.0, 0.0, False,
                         f"zone {z} has terminals but no AP serves it"))

    bh = backhaul_summary(site, plan.aps)
    for sw in site.switches:
        mine = [a for a in plan.aps if a.switch == sw.name]
        use = bh["switches"][sw.name]
        up = sum(up_by_ap.get(a.id, 0.0) for a in mine)
        down = sum(down_by_ap.get(a.id, 0.0) for a in mine)
        demand = max(up, down)
        rows.append(_row("switch-uplink", sw.name, "Mb/s", demand, sw.uplink_mbps,
                         util * sw.uplink_mbps, demand <= util * sw.uplink_mbps,
                         f"{len(mine)} APs: {up:.1f} Mb/s up, {down:.1f} Mb/s down over a "
                         f"{sw.uplink_mbps:g} Mb/s uplink (limit {util:.0%})"))
        rows.append(_row("switch-poe", sw.name, "W", use["poe_w"], sw.poe_budget_w,
                         sw.poe_budget_w, not use["poe_over_budget"],
                         f"{use['ports_used']} APs x {bh['ap_poe_w']:g} W of "
                         f"{sw.poe_budget_w:g} W"))
        rows.append(_row("switch-ports", sw.name, "ports", use["ports_used"], sw.ports, sw.ports,
                         not use["ports_over"], f"{use['ports_used']} AP ports of {sw.ports}"))
        cables = [(a.id, bh["aps"][a.id]["cable_m"], a.cable_m is not None) for a in mine
                  if bh["aps"][a.id]["cable_m"] is not None]
        if cables:
            worst = max(cables, key=lambda c: c[1])
            over = [c[0] for c in cables if c[1] > MAX_PERMANENT_LINK_M]
            rows.append(_row("switch-cabling", sw.name, "m", worst[1], MAX_PERMANENT_LINK_M,
                             MAX_PERMANENT_LINK_M, not over,
                             f"longest AP cable {worst[0]} {worst[1]:.1f} m "
                             f"({'plan' if worst[2] else 'estimated'})"
                             + (f"; over {MAX_PERMANENT_LINK_M:g} m: {', '.join(over)}"
                                if over else "")))
    unwired = [a.id for a in plan.aps if a.switch is None or a.port is None]
    if unwired:
        rows.append(_row("unwired", "APs without a switch port", "APs", len(unwired), 0, 0,
                         False, f"{', '.join(unwired)}: no switch/port in the plan"))

    up_total = sum(z.terminals.get(t, 0) * profiles[t]["uplink_mbps"]
                   for z in site.zones for t in z.terminals)
    down_total = sum(z.terminals.get(t, 0) * profiles[t].get("downlink_mbps", 0.0)
                     for z in site.zones for t in z.terminals)
    total = max(up_total, down_total)
    node = site_server_node(site, cluster)
    vms, links = cluster.data_path(node)
    server = (site.server or {}).get("name", "site server")
    for i, vm_id in enumerate(vms):
        vm = cluster.vms[vm_id]
        cap = float(vm["network_mbps"])
        what = f"site server {server} = {node}" if i == 0 else vm_id
        rows.append(_row("site-server" if i == 0 else "vm", vm_id if i else f"{server} ({node})",
                         "Mb/s", total, cap, util * cap, total <= util * cap,
                         f"{what}: site total {up_total:.1f} Mb/s up, {down_total:.1f} Mb/s "
                         f"down ({site.terminal_count} terminals) over {cap:g} Mb/s "
                         f"(limit {util:.0%})"))
    for lk in links:
        if "bandwidth_mbps" in lk:
            cap = float(lk["bandwidth_mbps"])
            rows.append(_row("link", f"{lk['from']} -> {lk['to']}", "Mb/s", total, cap,
                             util * cap, total <= util * cap,
                             f"{lk['kind']}: site total {total:.1f} Mb/s over {cap:g} Mb/s"))
    frame = pd.DataFrame(rows)
    frame.insert(0, "hop", range(1, len(frame) + 1))
    frame = frame[CAPACITY_COLUMNS]
    frame.attrs["ok"] = bool(frame["ok"].all())
    frame.attrs["failures"] = [f"{r.kind} {r.name}: {r.detail}" for r in frame.itertuples()
                               if not r.ok]
    frame.attrs["cell_summary"] = load.attrs["summary"]
    return frame


def capacity_report(frame: pd.DataFrame, site, cluster: Cluster) -> dict:
    """The JSON form of :func:`capacity_check` (infinite figures become null)."""
    return {"site": site.name, "cluster": cluster.name, "ok": bool(frame.attrs["ok"]),
            "failures": list(frame.attrs["failures"]),
            "hops": to_plain(frame.to_dict("records"))}


def format_capacity(frame: pd.DataFrame) -> str:
    """A text table of the capacity check, one line per hop."""
    lines = [f"{'#':>3} {'hop':<15} {'name':<26} {'demand':>10} {'limit':>10} {'unit':<5} "
             f"{'util':>6}  result  figures"]
    for r in frame.itertuples():
        util = "inf" if not math.isfinite(r.utilisation) else f"{r.utilisation:.0%}"
        dem = "inf" if not math.isfinite(r.demand) else f"{r.demand:.1f}"
        lines.append(f"{r.hop:>3} {r.kind:<15} {str(r.name)[:26]:<26} {dem:>10} "
                     f"{r.limit:>10.1f} {r.unit:<5} {util:>6}  {'pass' if r.ok else 'FAIL':<6}  "
                     f"{r.detail}")
    return "\n".join(lines)
