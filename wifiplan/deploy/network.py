"""The site network as a part of the cluster deployment description (``site-network.yaml``).

:func:`site_network` describes APs, switches with ports and PoE, the uplink to the site
server and which VM or K3s node that is (:func:`site_server_node`), the SSID and security
policy, the VLANs and the flows each VLAN may open. :func:`check_backhaul` checks the plan's
switch ports against the site before anything is written.
"""
from __future__ import annotations

import difflib

from ..site import Site
from ..backhaul import SWITCH_HEIGHT_M, backhaul_summary, cable_length_m
from ..rules import MAX_PERMANENT_LINK_M
from ..validation import Ctx
from .cluster import Cluster


def check_backhaul(site: Site, plan, lines: dict | None = None) -> None:
    """Every AP's switch is a switch of the site and its port exists and is used once.

    Raises :class:`InputError` naming ``aps[i].switch`` or ``aps[i].port`` and its line."""
    ctx = Ctx(plan.source or "<plan>", lines or {})
    switches = {s.name: s for s in site.switches}
    used: dict[tuple, str] = {}
    for i, ap in enumerate(plan.aps):
        if ap.switch is None:
            if ap.port is not None:
                ctx.fail(("aps", i, "port"), f"AP {ap.id} has a port but no switch")
            continue
        if ap.switch not in switches:
            close = difflib.get_close_matches(ap.switch, sorted(switches), n=1, cutoff=0.5)
            ctx.fail(("aps", i, "switch"), f"AP {ap.id}: unknown switch '{ap.switch}'" + (
                f" (did you mean '{close[0]}'?)" if close else
                f", the site has {', '.join(sorted(switches)) or 'no switches'}"))
        if ap.port is None:
            continue
        sw = switches[ap.switch]
        if ap.port > sw.ports:
            ctx.fail(("aps", i, "port"), f"AP {ap.id}: port {ap.port} does not exist on "
                                         f"{sw.name} ({sw.ports} ports)")
        if (sw.name, ap.port) in used:
            ctx.fail(("aps", i, "port"), f"AP {ap.id}: port {sw.name}/{ap.port} is already "
                                         f"used by {used[(sw.name, ap.port)]}")
        used[(sw.name, ap.port)] = ap.id


def site_server_node(site: Site, cluster: Cluster, lines: dict | None = None) -> str:
    """Which VM or K3s node the site server is: the site's ``infrastructure.server.node``,
    else the cluster's ``site_network.site_server``."""
    node = (site.server or {}).get("node")
    if node is None:
        return cluster.net["site_server"]
    if cluster.vm_of(node) is None or "/" in node:
        Ctx(site.source or "<site>", lines or {}).fail(
            ("infrastructure", "server", "node"),
            f"unknown VM or K3s node '{node}' in cluster {cluster.name}, expected one of "
            f"{', '.join(sorted(set(cluster.vms) | set(cluster.nodes)))}")
    return node


def _flows(cluster: Cluster, server_name: str) -> list[dict]:
    """The flows each site VLAN may open; everything else is denied."""
    net = cluster.net
    tel = net["telemetry"]
    entry = cluster.upload_entry()
    entry_ports = (cluster.component(entry) or {}).get("ports") or {"https": 443}
    flows = []
    for pname, port in entry_ports.items():
        flows.append({"from": "terminals", "to": entry, "protocol": "TCP", "port": int(port),
                      "purpose": f"image uploads ({pname})"})
    collector = (f"{tel['namespace']}/"
                 f"{','.join(f'{k}={v}' for k, v in tel['collector_labels'].items())}")
    flows += [
        {"from": "terminals", "to": collector, "protocol": "TCP", "port": tel["otlp_grpc_port"],
         "purpose": "Wi-Fi metrics over OTLP/gRPC"},
        {"from": "terminals", "to": collector, "protocol": "TCP", "port": tel["otlp_http_port"],
         "purpose": "Wi-Fi metrics over OTLP/HTTP"},
        {"from": "ap_management", "to": collector, "protocol": "UDP",
         "port": tel["ap_syslog_port"], "purpose": "AP syslog (roams, channel and power changes)"},
    ]
    sec = net["security"]
    if "radius" in sec:
        r = sec["radius"]
        host = server_name if r["host"] == "site-server" else r["host"]
        for k, what in (("auth_port", "authentication"), ("acct_port", "accounting")):
            flows.append({"from": "ap_management", "to": host, "protocol": "UDP",
                          "port": int(r[k]), "purpose": f"802.1X RADIUS {what}"})
    return flows


def site_network(site: Site, plan, cluster: Cluster, site_lines: dict | None = None) -> dict:
    """The site network as a part of the deployment description (``site-network.yaml``)."""
    net = cluster.net
    bh = backhaul_summary(site, plan.aps)
    server = site.server or {"name": "SVR", "position": None}
    node = site_server_node(site, cluster, site_lines)
    vm = cluster.vm_of(node)
    vlan_t, vlan_m = net["vlans"]["terminals"], net["vlans"]["ap_management"]
    aps = []
    for ap in plan.aps:
        cable = bh["aps"][ap.id]["cable_m"]
        aps.append({
            "id": ap.id, "bssid": ap.bssid,
            "position": {"x_m": round(ap.x_m, 2), "y_m": round(ap.y_m, 2),
                         "height_m": round(ap.height_m, 2)},
            "channel": int(ap.channel), "width_mhz": int(ap.width_mhz),
            "tx_power_dbm": round(float(ap.tx_power_dbm), 2),
            "switch": ap.switch, "port": ap.port,
            "cable_m": cable,
            "cable_length_from": ("plan" if ap.cable_m is not None else
                                  "estimated" if cable is not None else "no switch"),
            "port_vlans": {"untagged": vlan_m["id"], "tagged": [vlan_t["id"]]},
        })
    sw_out = []
    for sw in site.switches:
        use = bh["switches"][sw.name]
        up_cable = (round(cable_length_m(*sw.position, SWITCH_HEIGHT_M, *server["position"]), 1)
                    if server.get("position") is not None else None)
        sw_out.append({
            "name": sw.name, "position": [round(float(v), 2) for v in sw.position],
            "ports": sw.ports, "ports_used": use["ports_used"],
            "ports_free": sw.ports - use["ports_used"],
            "aps": [a.id for a in plan.aps if a.switch == sw.name],
            "poe_budget_w": sw.poe_budget_w, "poe_used_w": round(use["poe_w"], 1),
            "poe_per_ap_w": bh["ap_poe_w"],
            "uplink": {"to": server["name"], "mbps": sw.uplink_mbps, "cable_m": up_cable,
                       "medium": ("copper" if up_cable is not None and up_cable
                                  <= MAX_PERMANENT_LINK_M else "fibre"),
                       "vlans": {"tagged": [vlan_m["id"], vlan_t["id"]]}},
        })
    sec = net["security"]
    security = {
        "mode": sec["mode"], "fallback": sec.get("fallback", "none"),
        "pmf": sec.get("pmf", "required"), "eap": sec.get("eap", []),
        "description": _security_text(sec),
    }
    if "radius" in sec:
        r = sec["radius"]
        security["radius"] = {"host": server["name"] if r["host"] == "site-server" else r["host"],
                              "auth_port": r["auth_port"], "acct_port": r["acct_port"]}
    warnings = list(bh["flags"])
    warnings += [f"{a.id}: no BSSID in the plan, monitoring cannot match it"
                 for a in plan.aps if not a.bssid]
    return {
        "site": site.name,
        "plan": plan.source,
        "cluster": {"name": cluster.name, "source": cluster.source,
                    "k3s": cluster.data["k3s"]["name"], "k8s_version": cluster.k8s_version},
        "regulatory_domain": site.regulatory_domain,
        "site_server": {"name": server["name"], "position": server.get("position"),
                        "node": node, "vm": vm, "kind": "vm" if node in cluster.vms else "k3s-node",
                        "network_mbps": cluster.vms[vm]["network_mbps"],
                        "upload_entry": cluster.upload_entry()},
        "ssid": {"name": net["ssid"], "band": "5 GHz", "width_mhz": 20, "dfs": False,
                 "on_all_aps": True},
        "security": security,
        "roaming": dict(net["roaming"]),
        "vlans": [
            {"id": vlan_t["id"], "name": vlan_t.get("name", "terminals"),
             "subnet": vlan_t["subnet"], "role": "terminals", "ssid": net["ssid"]},
            {"id": vlan_m["id"], "name": vlan_m.get("name", "ap-management"),
             "subnet": vlan_m["subnet"], "role": "ap_management"},
        ],
        "flows": _flows(cluster, server["name"]) + [
            {"from": "any", "to": "any", "action": "deny",
             "purpose": "everything else, including terminals <-> AP management"}],
        "switches": sw_out,
        "aps": aps,
        "warnings": warnings,
    }


def _security_text(sec: dict) -> str:
    mode = sec["mode"].replace("-", " ").upper().replace("ENTERPRISE", "Enterprise") \
        .replace("PERSONAL", "Personal")
    fb = sec.get("fallback", "none")
    text = mode
    if fb != "none":
        text += " with " + fb.replace("-", " ").upper().replace("ENTERPRISE", "Enterprise") \
            .replace("PERSONAL", "Personal") + " fallback (transition mode)"
    return text + ", one SSID and one security setting on every AP (seed 8.1.3.6)"
