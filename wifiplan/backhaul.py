"""Wired backhaul: switch port per AP, cable length, Ethernet and PoE limits, BSSIDs.

Every AP is wired to a PoE switch (seed 8.1.3.1, 8.1.3.4). The rules used here:

- **Route**: cables run in trays along the building's axes, so the horizontal run is the
  Manhattan distance |dx| + |dy| between AP and switch; add the vertical drop from the AP's
  mount height to the switch (:data:`SWITCH_HEIGHT_M`), then :data:`CABLE_SLACK_FRACTION`
  of slack for detours and :data:`SERVICE_LOOP_M` of service loops (both ends).
- **Length**: the permanent link may be at most 90 m, the whole channel 100 m with the
  patch cords (ISO/IEC 11801-1, TIA-568.2-D); runs over :data:`MAX_PERMANENT_LINK_M` are
  flagged.
- **PoE**: each AP is budgeted at its model's PoE class at the switch port
  (:func:`wifiplan.apmodels.poe_w`); an AP without a model at :data:`AP_POE_W` (IEEE
  802.3at Type 2, class 4: 30 W at the PSE for 25.5 W at the AP, what a small 802.11ax AP
  with all radios on draws); a switch whose APs exceed its ``poe_budget_w`` is flagged.
- **Assignment**: APs in order of their shortest possible run, each to the nearest switch
  (by cable length) with a free port; when that switch's PoE budget is spent, another
  switch with budget left is taken if its run stays within 90 m, otherwise the overrun is
  flagged. No free port anywhere: no switch (flagged). Locked APs keep a switch and port
  they already have.
"""
from __future__ import annotations

import hashlib
from dataclasses import replace

import numpy as np

from .site import Site
from .apmodels import DEFAULT_MODEL, MODELS, model_of, poe_w
from .rules import MAX_PERMANENT_LINK_M

SWITCH_HEIGHT_M = 1.5
CABLE_SLACK_FRACTION = 0.10
SERVICE_LOOP_M = 3.0
AP_POE_W = MODELS[DEFAULT_MODEL].poe_w      # 30 W: an AP without a model


def cable_length_m(ap_x, ap_y, ap_height_m, sw_x, sw_y) -> float:
    """Cable length [m] from an AP to a switch along the rule of the module docstring (the
    AP's coordinates may be arrays: an array of lengths)."""
    run = np.abs(ap_x - sw_x) + np.abs(ap_y - sw_y) + np.abs(ap_height_m - SWITCH_HEIGHT_M)
    out = run * (1.0 + CABLE_SLACK_FRACTION) + SERVICE_LOOP_M
    return float(out) if np.ndim(out) == 0 else out


def cable_in_reach(site: Site, xy, ap_height_m: float) -> np.ndarray:
    """For each mount point ``xy`` (n, 2) [m] at ``ap_height_m`` [m], whether some switch of
    the site can cable it within :data:`MAX_PERMANENT_LINK_M` (:func:`cable_length_m`);
    ports and PoE are not counted here. A site without switches: every point (nothing to
    judge)."""
    xy = np.asarray(xy, float).reshape(-1, 2)
    if not site.switches:
        return np.ones(len(xy), bool)
    best = np.min([cable_length_m(xy[:, 0], xy[:, 1], ap_height_m, *s.position)
                   for s in site.switches], axis=0)
    return best <= MAX_PERMANENT_LINK_M + 1e-9


def assign_backhaul(site: Site, aps, keep=None) -> list:
    """APs with ``switch``, ``port`` and ``cable_m`` set. ``keep``: ids whose existing
    switch and port stay (locked APs)."""
    keep = set(keep or [])
    switches = {s.name: s for s in site.switches}
    used = {s.name: set() for s in site.switches}
    poe = {s.name: 0.0 for s in site.switches}
    out = list(aps)
    todo = []
    for i, a in enumerate(out):
        if a.id in keep and a.switch in switches and a.port is not None \
                and a.port not in used[a.switch]:
            used[a.switch].add(a.port)
            poe[a.switch] += poe_w(a)
            s = switches[a.switch]
            out[i] = replace(a, cable_m=round(cable_length_m(a.x_m, a.y_m, a.height_m,
                                                             *s.position), 1))
        else:
            todo.append(i)
    if not switches:
        return [replace(a, switch=None, port=None, cable_m=None) if i in todo else a
                for i, a in enumerate(out)]
    names = list(switches)
    lengths = {i: np.array([cable_length_m(out[i].x_m, out[i].y_m, out[i].height_m,
                                           *switches[n].position) for n in names]) for i in todo}
    for i in sorted(todo, key=lambda i: (lengths[i].min(), out[i].id)):
        free = [int(j) for j in np.argsort(lengths[i], kind="stable")
                if len(used[names[j]]) < switches[names[j]].ports]
        if not free:
            out[i] = replace(out[i], switch=None, port=None, cable_m=None)
            continue
        choice = free[0]                        # the nearest switch with a free port
        need = poe_w(out[i])
        if poe[names[choice]] + need > switches[names[choice]].poe_budget_w + 1e-9:
            # its PoE budget is spent: another switch with budget, if one is in reach
            alt = [j for j in free if lengths[i][j] <= MAX_PERMANENT_LINK_M
                   and poe[names[j]] + need <= switches[names[j]].poe_budget_w + 1e-9]
            if alt:
                choice = alt[0]
        s = switches[names[choice]]
        port = next(p for p in range(1, s.ports + 1) if p not in used[s.name])
        used[s.name].add(port)
        poe[s.name] += need
        out[i] = replace(out[i], switch=s.name, port=port,
                         cable_m=round(float(lengths[i][choice]), 1))
    return out


def backhaul_summary(site: Site, aps) -> dict:
    """Per-AP cable and flags, per-switch port and PoE use, and the list of flags."""
    switches = {s.name: s for s in site.switches}
    per_ap = {}
    flags = []
    use = {n: {"ports_used": 0, "ports": s.ports, "poe_w": 0.0,
               "poe_budget_w": float(s.poe_budget_w), "uplink_mbps": float(s.uplink_mbps)}
           for n, s in switches.items()}
    seen = set()
    for a in aps:
        f = []
        length = a.cable_m
        if a.switch is None:
            f.append("no switch port")
        elif a.switch not in switches:
            f.append(f"switch {a.switch} is not in the site")
        else:
            s = switches[a.switch]
            if length is None:
                length = round(cable_length_m(a.x_m, a.y_m, a.height_m, *s.position), 1)
            use[a.switch]["ports_used"] += 1
            use[a.switch]["poe_w"] += poe_w(a)
            if (a.switch, a.port) in seen:
                f.append(f"port {a.switch}/{a.port} used twice")
            seen.add((a.switch, a.port))
            if a.port is not None and a.port > s.ports:
                f.append(f"port {a.port} does not exist on {a.switch} ({s.ports} ports)")
        if length is not None and length > MAX_PERMANENT_LINK_M:
            f.append(f"cable {length:g} m exceeds the {MAX_PERMANENT_LINK_M:g} m permanent link "
                     "(100 m channel)")
        per_ap[a.id] = {"switch": a.switch, "port": a.port,
                        "cable_m": None if length is None else float(length), "flags": f}
        if getattr(a, "model", None):          # an AP with a model: its own PoE draw
            per_ap[a.id].update(model=model_of(a).name, poe_w=poe_w(a),
                                poe_class=model_of(a).poe_label)
        flags += [f"{a.id}: {x}" for x in f]
    for n, u in use.items():
        u["poe_over_budget"] = bool(u["poe_w"] > u["poe_budget_w"] + 1e-9)
        u["ports_over"] = bool(u["ports_used"] > u["ports"])
        if u["poe_over_budget"]:
            flags.append(f"{n}: PoE {u['poe_w']:g} W exceeds the {u['poe_budget_w']:g} W budget")
        if u["ports_over"]:
            flags.append(f"{n}: {u['ports_used']} APs on {u['ports']} ports")
    if not switches:
        flags.append("the site has no switches: add infrastructure.switches to plan backhaul")
    lengths = [v["cable_m"] for v in per_ap.values() if v["cable_m"] is not None]
    return {"aps": per_ap, "switches": use, "flags": flags,
            "longest_cable_m": max(lengths) if lengths else None,
            "ap_poe_w": AP_POE_W}


def switch_suggestions(aps, summary: dict) -> list[str]:
    """What would make a flagged backhaul buildable, one line each: for the APs whose cable
    is over the permanent link or that got no port, a switch near the middle of each group
    of them that one switch can reach (every AP of a group within the link of the group's
    centre, :func:`cable_length_m`); for a switch over its ports or PoE budget, a second
    switch beside it for the APs over."""
    out = []
    rows = summary["aps"]
    far = [a for a in aps if a.id in rows and (rows[a.id]["switch"] is None or (
        rows[a.id]["cable_m"] or 0.0) > MAX_PERMANENT_LINK_M)]
    while far:
        group = []                      # the first far AP always joins (its own drop fits)
        for a in far:
            cx = np.mean([g.x_m for g in group + [a]])
            cy = np.mean([g.y_m for g in group + [a]])
            if all(cable_length_m(g.x_m, g.y_m, g.height_m, cx, cy) <= MAX_PERMANENT_LINK_M
                   for g in group + [a]):
                group.append(a)
        cx, cy = np.mean([g.x_m for g in group]), np.mean([g.y_m for g in group])
        out.append(f"add a switch near ({cx:.0f}, {cy:.0f}) m for "
                   f"{', '.join(g.id for g in group)} (cable over {MAX_PERMANENT_LINK_M:g} m "
                   f"or no free port)")
        far = [a for a in far if a not in group]
    for name, u in summary["switches"].items():
        extra_ports = u["ports_used"] - u["ports"]
        extra_poe = int(np.ceil((u["poe_w"] - u["poe_budget_w"]) / summary["ap_poe_w"]))
        n = max(extra_ports, extra_poe)
        if n > 0:
            why = "ports" if extra_ports >= extra_poe else "PoE budget"
            out.append(f"add a switch beside {name} for {n} AP(s) over its {why}")
    return out


def assign_bssids(site_name: str, aps, keep=None) -> list:
    """Unique locally administered BSSIDs ``02:xx:xx:00:nn:nn`` (xx from the site name, nn
    the AP's number); APs in ``keep`` (ids) with a BSSID keep theirs."""
    keep = set(keep or [])
    h = hashlib.sha1(site_name.encode("utf-8")).digest()
    taken = {a.bssid for a in aps if a.id in keep and a.bssid}
    out = []
    n = 0
    for a in aps:
        if a.id in keep and a.bssid:
            out.append(a)
            continue
        while True:
            n += 1
            b = f"02:{h[0]:02x}:{h[1]:02x}:00:{(n >> 8) & 0xff:02x}:{n & 0xff:02x}"
            if b not in taken:
                break
        taken.add(b)
        out.append(replace(a, bssid=b))
    return out
