"""The site network inside the ImageFlowCanvas cluster deployment description (seed 8.0-8.3).

A site and its plan become deployable artefacts:

- :func:`load_cluster` reads ``deploy/cluster.yaml`` (the VMs, the K3s cluster, the
  namespaces, the network links of seed 8.0.4 and the site-network defaults of 8.1.3),
  validates it against ``wifiplan/schemas/cluster.schema.json`` and then checks the
  references between its parts. Errors name the file, the line and the key.
- :func:`site_network` describes the site's network as a part of that description: APs,
  switches with ports and PoE, the uplink to the site server and which VM or node that is,
  the SSID and security policy, the VLANs and the flows each VLAN may open.
- :func:`manifests` builds the Kubernetes objects: a ConfigMap with the AP inventory and
  the RF thresholds, a PrometheusRule with the Wi-Fi alerts, a ConfigMap carrying an
  OpenTelemetry Collector configuration fragment (OTLP metrics from the terminals, syslog
  from the APs), and a NetworkPolicy that lets the site VLANs reach only the collector ports
  they need. :func:`validate_manifest` checks each against the Kubernetes object schemas.
- :func:`capacity_check` follows the images along the whole path, each hop with its
  figures and pass/fail: every cell (airtime, :func:`wifiplan.capacity.cell_load`), every
  switch (uplink, PoE, ports, cable runs), then the site server and the VMs and links of
  the cluster on the way to the processing cluster.

Terminal metrics contract (what the terminal app exports over OTLP, see :data:`METRICS`):
gauges ``wifi.client.rssi`` [dBm] of the serving BSS, ``wifi.scan.rssi`` [dBm] of every
*other* BSS heard in the last scan, and ``wifi.bss.channel`` (the channel a BSS was heard
on), with data-point attributes ``device``, ``bssid`` (lower case, colon separated) and
``channel``. The collector exports them to Prometheus without unit suffixes, so the alert
expressions use ``wifi_client_rssi``, ``wifi_scan_rssi`` and ``wifi_bss_channel``.
"""
from __future__ import annotations

import copy
import difflib
import ipaddress
import json
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from .backhaul import SWITCH_HEIGHT_M, backhaul_summary, cable_length_m
from .errors import InputError
from .fileio import dump_yaml, read_yaml, to_plain, write_atomic
from .rules import (AIRTIME_BUDGET, BOUNDARY_BAND_DBM, CO_CHANNEL_MIN_SEPARATION_DB,
                    DEFAULT_MIN_RSSI_DBM, MAX_PERMANENT_LINK_M, NOISE_FLOOR_DBM,
                    ROAM_THRESHOLD_DBM)
from .validation import Ctx

#: Namespaces that seed 8.1.2 requires in every cluster description.
REQUIRED_NAMESPACES = ("imageflow-web", "imageflow-backend", "imageflow-processing",
                       "imageflow-storage", "imageflow-monitoring")
MANAGED_BY = "wifiplan"

#: The terminal metrics of the contract above: OTLP name -> (Prometheus name, unit, labels).
METRICS = {
    "wifi.client.rssi": ("wifi_client_rssi", "dBm", ("device", "bssid", "channel"),
                         "received power of the serving BSS, one point per terminal and second"),
    "wifi.scan.rssi": ("wifi_scan_rssi", "dBm", ("device", "bssid", "channel"),
                       "received power of each other BSS heard in the terminal's last scan"),
    "wifi.bss.channel": ("wifi_bss_channel", "1", ("device", "bssid"),
                         "channel number a BSS was heard on"),
}
PLANNED_CHANNEL_RECORD = "wifiplan:ap_planned_channel"


# ---- cluster description -------------------------------------------------------------------

@lru_cache(maxsize=None)
def load_schema(name: str) -> dict:
    """A JSON schema vendored in ``wifiplan/schemas`` (``cluster``, ``prometheusrule``)."""
    text = resources.files("wifiplan").joinpath("schemas", f"{name}.schema.json").read_text(
        encoding="utf-8")
    return json.loads(text)


@dataclass
class Cluster:
    """A validated cluster description. ``data`` is the mapping as read."""
    data: dict
    source: str = "<cluster>"
    vms: dict[str, dict] = field(init=False)
    nodes: dict[str, dict] = field(init=False)

    def __post_init__(self):
        self.vms = {v["id"]: v for v in self.data["vms"]}
        self.nodes = {n["name"]: n for n in self.data["k3s"]["nodes"]}

    @property
    def name(self) -> str:
        return self.data["name"]

    @property
    def net(self) -> dict:
        """``site_network`` with its defaults filled in."""
        return self.data["site_network"]

    @property
    def k8s_version(self) -> str:
        """``major.minor`` of the K3s release, e.g. ``1.28``."""
        return ".".join(self.data["k3s"]["version"].lstrip("v").split(".")[:2])

    def vm_of(self, name: str) -> str | None:
        """VM id for a VM id, a K3s node name or a ``vm/component`` end; None if unknown."""
        if name in self.vms:
            return name
        if name in self.nodes:
            return self.data["k3s"]["host"]
        if "/" in name and name.split("/", 1)[0] in self.vms:
            return name.split("/", 1)[0]
        return None

    def component(self, endpoint: str) -> dict | None:
        vm, _, comp = endpoint.partition("/")
        for c in self.vms.get(vm, {}).get("components", []):
            if c["name"] == comp:
                return c
        return None

    def find_component(self, name: str) -> tuple[str, dict] | None:
        """(vm id, component) of the first component called ``name``."""
        for vid, vm in self.vms.items():
            for c in vm["components"]:
                if c["name"] == name:
                    return vid, c
        return None

    def upload_entry(self) -> str:
        """The end the site's uploads enter the cluster at (the ``site`` link's target)."""
        return next(lk["to"] for lk in self.data["links"] if lk["from"] == "site")

    def data_path(self, site_server: str | None = None) -> tuple[list[str], list[dict]]:
        """VMs the images cross in order, and the links between VMs on the way.

        Starts at the site server's VM, then follows the links from the upload entry in
        the direction of the images (breadth first)."""
        entry = self.upload_entry()
        order: list[str] = []
        if site_server:
            order.append(self.vm_of(site_server))
        links = [lk for lk in self.data["links"] if lk["from"] == "site"]
        seen = {entry}
        queue = [entry]
        while queue:
            end = queue.pop(0)
            vm = self.vm_of(end)
            if vm and vm not in order:
                order.append(vm)
            for lk in self.data["links"]:
                if lk["from"] == end and lk["to"] not in seen:
                    seen.add(lk["to"])
                    queue.append(lk["to"])
                    if self.vm_of(lk["from"]) != self.vm_of(lk["to"]):
                        links.append(lk)
        return order, links


def _json_path_error(err) -> str:
    """One readable line for a jsonschema error (the key path is named by the caller)."""
    v = err.validator
    inst = err.instance
    sch = err.schema if isinstance(err.schema, dict) else {}
    if v == "required":
        m = re.match(r"'(.+)' is a required property", err.message)
        return f"missing required key '{m.group(1) if m else err.message}'"
    if v == "type":
        return f"expected {_type_word(err.validator_value)}, got {inst!r}"[:200]
    if v == "enum":
        close = difflib.get_close_matches(str(inst), [str(x) for x in err.validator_value], n=1,
                                          cutoff=0.6)
        return (f"unknown value {inst!r}" + (f" (did you mean '{close[0]}'?)" if close else
                f", expected one of {', '.join(str(x) for x in err.validator_value)}"))
    if v == "pattern":
        return (f"{inst!r} is not valid: expected "
                f"{sch.get('description', 'to match ' + sch['pattern'])}")
    if v in ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"):
        op = {"minimum": ">=", "exclusiveMinimum": ">", "maximum": "<=",
              "exclusiveMaximum": "<"}[v]
        return f"{inst!r} is out of range, expected a number {op} {err.validator_value}"
    if v in ("minItems", "minLength"):
        return f"expected at least {err.validator_value} " + \
            ("item(s)" if v == "minItems" else "character(s)") + f", got {inst!r}"[:200]
    if v == "maxLength":
        return f"expected at most {err.validator_value} characters, got {inst!r}"
    return err.message[:200]


def _type_word(t) -> str:
    words = {"object": "a mapping", "array": "a list", "string": "a string",
             "integer": "a whole number", "number": "a number", "boolean": "true or false"}
    if isinstance(t, list):
        return " or ".join(words.get(x, x) for x in t)
    return words.get(t, str(t))


def validate_with_schema(data: Any, schema: dict, ctx) -> None:
    """Check ``data`` against a JSON schema; the first error is raised through ``ctx``
    (a :class:`wifiplan.validation.Ctx`) with the key path and its line."""
    import jsonschema
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(data), key=lambda e: (len(e.absolute_path),
                                                                  list(map(str, e.absolute_path))))
    if not errors:
        return
    for err in errors:      # a misspelt key first: it also explains a "missing" one
        if err.validator == "additionalProperties" and isinstance(err.instance, dict):
            known = sorted(err.schema.get("properties", {}))
            for k in err.instance:
                close = difflib.get_close_matches(str(k), known, n=1, cutoff=0.6)
                if k not in known and close:
                    ctx.fail(tuple(err.absolute_path) + (k,),
                             f"unknown key '{k}' (did you mean '{close[0]}'?)")
    err = jsonschema.exceptions.best_match(errors)
    path = tuple(err.absolute_path)
    if err.validator == "additionalProperties" and isinstance(err.instance, dict):
        known = sorted(err.schema.get("properties", {}))
        k = next(k for k in err.instance if k not in known)
        ctx.fail(path + (k,), f"unknown key '{k}', expected one of {', '.join(known)}")
    ctx.fail(path, _json_path_error(err))


def cluster_from_dict(d: Any, source: str = "<cluster>", lines: dict | None = None) -> Cluster:
    """Validate a parsed cluster description; raise :class:`InputError` naming key and line."""
    ctx = Ctx(source, lines or {})
    if not isinstance(d, dict):
        ctx.fail((), f"expected a cluster description (a mapping), got {type(d).__name__}")
    validate_with_schema(d, load_schema("cluster"), ctx)
    d = copy.deepcopy(d)

    def unique(items, key, path):
        seen = set()
        for i, it in enumerate(items):
            if it[key] in seen:
                ctx.fail(path + (i, key), f"duplicate {key} '{it[key]}'")
            seen.add(it[key])
        return seen

    vm_ids = unique(d["vms"], "id", ("vms",))
    for i, vm in enumerate(d["vms"]):
        unique(vm["components"], "name", ("vms", i, "components"))
    k3s = d["k3s"]
    if k3s["host"] not in vm_ids:
        ctx.fail(("k3s", "host"), f"unknown VM '{k3s['host']}', expected one of "
                                  f"{', '.join(sorted(vm_ids))}")
    node_names = unique(k3s["nodes"], "name", ("k3s", "nodes"))
    unique(k3s["nodes"], "ip", ("k3s", "nodes"))
    if not any(n["role"] == "master" for n in k3s["nodes"]):
        ctx.fail(("k3s", "nodes"), "no node with role 'master'")
    node_net = None
    if "node_network" in k3s:
        node_net = _network(ctx, ("k3s", "node_network"), k3s["node_network"])
    for i, n in enumerate(k3s["nodes"]):
        try:
            ip = ipaddress.IPv4Address(n["ip"])
        except ValueError:
            ctx.fail(("k3s", "nodes", i, "ip"), f"not an IPv4 address: {n['ip']!r}")
        if node_net is not None and ip not in node_net:
            ctx.fail(("k3s", "nodes", i, "ip"), f"{ip} is outside node_network {node_net}")

    ns_names = unique(d["namespaces"], "name", ("namespaces",))
    missing = [n for n in REQUIRED_NAMESPACES if n not in ns_names]
    if missing:
        ctx.fail(("namespaces",), f"missing namespace '{missing[0]}' (seed 8.1.2 requires "
                                  f"{', '.join(REQUIRED_NAMESPACES)})")

    def known_ns(path, ns):
        if ns not in ns_names:
            close = difflib.get_close_matches(ns, sorted(ns_names), n=1, cutoff=0.6)
            ctx.fail(path, f"namespace '{ns}' is not declared under namespaces"
                           + (f" (did you mean '{close[0]}'?)" if close else ""))

    for i, vm in enumerate(d["vms"]):
        for j, c in enumerate(vm["components"]):
            if "namespace" in c:
                known_ns(("vms", i, "components", j, "namespace"), c["namespace"])

    cl = Cluster(d, source=source)
    ends = {"internet", "site"} | {f"{v['id']}/{c['name']}" for v in d["vms"]
                                   for c in v["components"]}
    for i, lk in enumerate(d["links"]):
        for k in ("from", "to"):
            if lk[k] not in ends:
                close = difflib.get_close_matches(lk[k], sorted(ends), n=1, cutoff=0.6)
                ctx.fail(("links", i, k), f"unknown end '{lk[k]}'" + (
                    f" (did you mean '{close[0]}'?)" if close else
                    ", expected internet, site or VM/component"))
        if lk["from"] == lk["to"]:
            ctx.fail(("links", i), "a link from an end to itself")
        if lk["to"] == "site":
            ctx.fail(("links", i, "to"), "links point the way the images flow: 'site' can only "
                                         "be a 'from' end")
    site_links = [i for i, lk in enumerate(d["links"]) if lk["from"] == "site"]
    if len(site_links) != 1:
        ctx.fail(("links",), f"expected exactly one link from 'site' (where the site's uploads "
                             f"enter the cluster), found {len(site_links)}")

    net = d["site_network"]
    if cl.vm_of(net["site_server"]) is None or "/" in net["site_server"]:
        ctx.fail(("site_network", "site_server"),
                 f"unknown VM or K3s node '{net['site_server']}', expected one of "
                 f"{', '.join(sorted(vm_ids | node_names))}")
    known_ns(("site_network", "telemetry", "namespace"), net["telemetry"]["namespace"])
    known_ns(("site_network", "monitoring", "namespace"), net["monitoring"]["namespace"])
    sec = net["security"]
    if sec["mode"].startswith("wpa3") and sec.get("fallback", "none") == "none" \
            and sec.get("pmf") == "optional":
        ctx.fail(("site_network", "security", "pmf"),
                 "WPA3 without a WPA2 fallback requires pmf: required")
    if sec["mode"].endswith("enterprise") and "radius" not in sec:
        ctx.fail(("site_network", "security"), f"{sec['mode']} needs a 'radius' server")
    vl = net["vlans"]
    if vl["terminals"]["id"] == vl["ap_management"]["id"]:
        ctx.fail(("site_network", "vlans", "ap_management", "id"),
                 "the AP management VLAN must differ from the terminals' VLAN")
    nets = {}
    for k in ("terminals", "ap_management"):
        nets[k] = _network(ctx, ("site_network", "vlans", k, "subnet"), vl[k]["subnet"])
    if nets["terminals"].overlaps(nets["ap_management"]):
        ctx.fail(("site_network", "vlans", "ap_management", "subnet"),
                 f"{nets['ap_management']} overlaps the terminals' subnet {nets['terminals']}")
    if node_net is not None:
        for k, n in nets.items():
            if n.overlaps(node_net):
                ctx.fail(("site_network", "vlans", k, "subnet"),
                         f"{n} overlaps the K3s node network {node_net}")
    for k, v in (("roaming", {"min_rssi_dbm": ROAM_THRESHOLD_DBM, "dot11k": True, "dot11v": True,
                              "dot11r": True}),
                 ("max_link_utilisation", 0.7)):
        if isinstance(v, dict):
            net[k] = {**v, **net.get(k, {})}
        else:
            net.setdefault(k, v)
    if "radius" in sec:
        sec["radius"] = {"auth_port": 1812, "acct_port": 1813, **sec["radius"]}
    tel = net["telemetry"]
    for k, v in (("otlp_grpc_port", 14317), ("otlp_http_port", 14318), ("ap_syslog_port", 5514),
                 ("prometheus_port", 8890), ("ap_log_topic", "wifi-ap-logs")):
        tel.setdefault(k, v)
    ports = [tel[k] for k in ("otlp_grpc_port", "otlp_http_port", "ap_syslog_port",
                              "prometheus_port")]
    if len(set(ports)) != len(ports):
        ctx.fail(("site_network", "telemetry"), f"telemetry ports must differ, got {ports}")
    return cl


def _network(ctx, path, text) -> ipaddress.IPv4Network:
    try:
        return ipaddress.IPv4Network(text, strict=True)
    except ValueError as exc:
        ctx.fail(path, f"not an IPv4 network: {text!r} ({exc})")


def load_cluster(path: str | Path) -> Cluster:
    """Read and validate a cluster description (``deploy/cluster.yaml``)."""
    data, lines = read_yaml(path)
    return cluster_from_dict(data, source=str(path), lines=lines)


# ---- the site network -----------------------------------------------------------------------

def slug(name: str, max_len: int = 40) -> str:
    """A DNS-1123 label from a site name: 'Large Assembly Hall' -> 'large-assembly-hall'."""
    s = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:max_len].strip("-")
    return s or "site"


def check_backhaul(site, plan, lines: dict | None = None) -> None:
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


def site_server_node(site, cluster: Cluster, lines: dict | None = None) -> str:
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


def site_network(site, plan, cluster: Cluster, site_lines: dict | None = None) -> dict:
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


# ---- RF thresholds and Kubernetes manifests -------------------------------------------------

def rf_thresholds(site, cluster: Cluster) -> dict:
    """The thresholds the monitoring and the log analysis judge the site by [dBm, dB]."""
    from .logs import STICKY_MARGIN_DB, STICKY_RSSI_DBM, PING_PONG_WINDOW_S
    return {
        "roam_min_rssi_dbm": float(cluster.net["roaming"]["min_rssi_dbm"]),
        "coverage_min_rssi_dbm": DEFAULT_MIN_RSSI_DBM,
        "zone_min_rssi_dbm": {z.name: float(z.min_rssi_dbm) for z in site.zones},
        "cell_boundary_dbm": list(BOUNDARY_BAND_DBM),
        "co_channel_min_separation_db": CO_CHANNEL_MIN_SEPARATION_DB,
        "noise_floor_dbm": NOISE_FLOOR_DBM,
        "min_snr_db": 25.0,
        "airtime_budget": AIRTIME_BUDGET,
        "sticky_rssi_dbm": STICKY_RSSI_DBM,
        "sticky_margin_db": STICKY_MARGIN_DB,
        "ping_pong_window_s": PING_PONG_WINDOW_S,
    }


def _labels(site_slug: str | None = None) -> dict:
    out = {"app.kubernetes.io/part-of": "imageflow", "app.kubernetes.io/component": "site-wifi",
           "app.kubernetes.io/managed-by": MANAGED_BY}
    if site_slug:
        out["wifiplan/site"] = site_slug
    return out


def otel_fragment(cluster: Cluster) -> dict:
    """OpenTelemetry Collector configuration fragment for the site networks.

    Given to the seed's collector (8.1.4.1) as a second ``--config`` file, which the
    collector merges with its own; every component id carries a ``/wifi`` name so nothing
    clashes, and the ports differ from the in-cluster OTLP ports 4317/4318."""
    tel = cluster.net["telemetry"]
    kafka = cluster.find_component("kafka")
    brokers = []
    if kafka:
        vm, comp = kafka
        port = (comp.get("ports") or {}).get("client", 9092)
        brokers = [f"{cluster.vms[vm].get('address', vm)}:{port}"]
    keep = " and ".join(f'name != "{k}"' for k in METRICS)
    cfg = {
        "receivers": {
            "otlp/wifi": {"protocols": {
                "grpc": {"endpoint": f"0.0.0.0:{tel['otlp_grpc_port']}"},
                "http": {"endpoint": f"0.0.0.0:{tel['otlp_http_port']}"}}},
            "syslog/wifi-ap": {"udp": {"listen_address": f"0.0.0.0:{tel['ap_syslog_port']}"},
                               "protocol": "rfc5424"},
        },
        "processors": {
            "filter/wifi": {"error_mode": "ignore",
                            "metrics": {"metric": [keep]}},   # drop all but the contract's
            "batch/wifi": {"timeout": "10s"},
        },
        "exporters": {
            "prometheus/wifi": {"endpoint": f"0.0.0.0:{tel['prometheus_port']}",
                                "add_metric_suffixes": False,
                                "resource_to_telemetry_conversion": {"enabled": True},
                                "metric_expiration": "5m"},
        },
        "service": {"pipelines": {
            "metrics/wifi": {"receivers": ["otlp/wifi"],
                             "processors": ["filter/wifi", "batch/wifi"],
                             "exporters": ["prometheus/wifi"]},
        }},
    }
    if brokers:
        cfg["exporters"]["kafka/wifi-ap-logs"] = {"brokers": brokers,
                                                  "topic": tel["ap_log_topic"],
                                                  "encoding": "otlp_json",
                                                  "protocol_version": "2.0.0"}
        cfg["service"]["pipelines"]["logs/wifi-ap"] = {
            "receivers": ["syslog/wifi-ap"], "processors": ["batch/wifi"],
            "exporters": ["kafka/wifi-ap-logs"]}
    else:
        del cfg["receivers"]["syslog/wifi-ap"]
    return cfg


#: Component types of the collector distribution the seed runs (otelcol-contrib) that the
#: fragment may use; :func:`check_otel_config` refuses others.
OTEL_COMPONENT_TYPES = {
    "receivers": {"otlp", "syslog", "prometheus", "filelog", "hostmetrics", "snmp"},
    "processors": {"batch", "filter", "memory_limiter", "attributes", "resource", "transform",
                   "k8sattributes"},
    "exporters": {"prometheus", "kafka", "otlp", "otlphttp", "debug",
                  "prometheusremotewrite"},
}


def check_otel_config(cfg: dict) -> None:
    """Structural check of a collector configuration: known component types, every id a
    pipeline names is defined, pipeline types match, listen ports are valid and distinct."""
    for section in ("receivers", "processors", "exporters"):
        for cid in cfg.get(section, {}):
            ctype = cid.split("/", 1)[0]
            if ctype not in OTEL_COMPONENT_TYPES[section]:
                raise InputError(f"{section}.{cid}: unknown component type '{ctype}'")
    pipes = cfg.get("service", {}).get("pipelines", {})
    if not pipes:
        raise InputError("service.pipelines: no pipeline")
    for pid, p in pipes.items():
        if pid.split("/", 1)[0] not in ("metrics", "logs", "traces"):
            raise InputError(f"service.pipelines.{pid}: unknown signal type")
        for section in ("receivers", "processors", "exporters"):
            for cid in p.get(section, []):
                if cid not in cfg.get(section, {}):
                    raise InputError(f"service.pipelines.{pid}.{section}: '{cid}' is not "
                                     f"defined under {section}")
        if not p.get("receivers") or not p.get("exporters"):
            raise InputError(f"service.pipelines.{pid}: needs receivers and exporters")
    ports = []

    def walk(v):
        if isinstance(v, dict):
            for k, x in v.items():
                if k in ("endpoint", "listen_address") and isinstance(x, str):
                    m = re.fullmatch(r"[\w.\-]*:(\d+)", x)
                    if not m or not (1 <= int(m.group(1)) <= 65535):
                        raise InputError(f"{k}: not host:port: {x!r}")
                    ports.append(int(m.group(1)))
                else:
                    walk(x)
    walk(cfg.get("receivers", {}))
    walk(cfg.get("exporters", {}))
    if len(ports) != len(set(ports)):
        raise InputError(f"listen ports clash: {sorted(ports)}")


def _alert_rules(site, plan, cluster: Cluster, site_slug: str) -> list[dict]:
    th = rf_thresholds(site, cluster)
    roam = th["roam_min_rssi_dbm"]
    sep = th["co_channel_min_separation_db"]
    planned = f'{PLANNED_CHANNEL_RECORD}{{site="{site_slug}"}}'
    this_site = f"on (bssid) group_left (ap_id, site) (0 * {planned})"
    rssi, scan, chan = (METRICS[k][0] for k in ("wifi.client.rssi", "wifi.scan.rssi",
                                                 "wifi.bss.channel"))
    common = {"team": "factory-network", "site": site_slug}
    return [
        {"alert": "WifiTerminalBelowMinRssi",
         "expr": f"(max by (device, bssid) ({rssi}) < {roam:g}) + {this_site}",
         "for": "2m", "labels": {**common, "severity": "warning"},
         "annotations": {
             "summary": f"Terminal below {roam:g} dBm on {site.name}",
             "description": (f"Terminal {{{{ $labels.device }}}} has held AP "
                             f"{{{{ $labels.ap_id }}}} "
                             f"at {{{{ $value }}}} dBm for 2 minutes, below the roaming threshold "
                             f"of {roam:g} dBm (seed 8.1.3.5): it should have re-scanned and "
                             f"roamed; check coverage there or the terminal's roaming "
                             f"settings.")}},
        {"alert": "WifiApOffPlannedChannel",
         "expr": f"max by (bssid) ({chan}) != on (bssid) group_left (ap_id, site) {planned}",
         "for": "10m", "labels": {**common, "severity": "warning"},
         "annotations": {
             "summary": f"AP off its planned channel on {site.name}",
             "description": ("AP {{ $labels.ap_id }} ({{ $labels.bssid }}) is heard on channel "
                             "{{ $value }}, not on the channel of the plan: fixed channels only "
                             "(seed 8.1.3.5); set it back or re-plan.")}},
        {"alert": "WifiCoChannelInterference",
         "expr": (f"(max by (device, bssid, channel) ({rssi}) - on (device, channel) group_left "
                  f"max by (device, channel) ({scan}) < {sep:g}) + {this_site}"),
         "for": "10m", "labels": {**common, "severity": "warning"},
         "annotations": {
             "summary": f"Co-channel interference on {site.name}",
             "description": (f"Terminal {{{{ $labels.device }}}} on AP {{{{ $labels.ap_id }}}} "
                             f"(channel {{{{ $labels.channel }}}}) hears another AP on the same "
                             f"channel only {{{{ $value }}}} dB below its serving AP; the plan "
                             f"needs at least {sep:g} dB. Lower that AP's power or change a "
                             f"channel.")}},
    ]


def manifests(site, plan, cluster: Cluster, network: dict | None = None) -> dict[str, dict]:
    """The Kubernetes objects for one site, by file name."""
    network = network or site_network(site, plan, cluster)
    s = slug(site.name)
    net = cluster.net
    mon_ns = net["monitoring"]["namespace"]
    tel = net["telemetry"]
    inventory = [{k: a[k] for k in ("id", "bssid", "position", "channel", "width_mhz",
                                    "tx_power_dbm", "switch", "port", "cable_m")}
                 for a in network["aps"]]
    metric_doc = {otlp: {"prometheus": p, "unit": u, "attributes": list(lab), "meaning": m}
                  for otlp, (p, u, lab, m) in METRICS.items()}
    configmap = {
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": f"wifi-{s}-inventory", "namespace": mon_ns, "labels": _labels(s),
                     "annotations": {"wifiplan/site-name": site.name,
                                     "wifiplan/plan": str(plan.source or "")}},
        "data": {
            "ap-inventory.yaml": dump_manifest({"site": site.name, "ssid": net["ssid"],
                                            "aps": inventory}),
            "rf-thresholds.yaml": dump_manifest(rf_thresholds(site, cluster)),
            "terminal-metrics.yaml": dump_manifest(metric_doc),
        },
    }
    records = [{"record": PLANNED_CHANNEL_RECORD, "expr": f"vector({int(a.channel)})",
                "labels": {"site": s, "ap_id": a.id, "bssid": a.bssid}}
               for a in plan.aps if a.bssid]
    rule = {
        "apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule",
        "metadata": {"name": f"wifi-{s}", "namespace": mon_ns,
                     "labels": {**_labels(s), **net["monitoring"].get("rule_labels", {})}},
        "spec": {"groups": [
            {"name": f"wifi-{s}-plan", "interval": "1m", "rules": records},
            {"name": f"wifi-{s}-alerts", "interval": "30s",
             "rules": _alert_rules(site, plan, cluster, s)},
        ]},
    }
    otel_cm = {
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "otel-agent-wifi-config", "namespace": tel["namespace"],
                     "labels": _labels(),
                     "annotations": {"wifiplan/usage": (
                         "mount beside otel-agent-config and start the collector with a second "
                         "--config=/etc/otelcol-wifi/wifi.yaml; the collector merges both")}},
        "data": {"wifi.yaml": dump_manifest(otel_fragment(cluster))},
    }
    by_vlan = {v["role"]: v["subnet"] for v in network["vlans"]}
    collector_flows = [f for f in network["flows"] if f.get("to", "").startswith(
        tel["namespace"] + "/")]
    ingress = []
    for role in ("ap_management", "terminals"):
        ports = [{"protocol": f["protocol"], "port": int(f["port"])}
                 for f in collector_flows if f["from"] == role]
        if ports:
            ingress.append({"from": [{"ipBlock": {"cidr": by_vlan[role]}}], "ports": ports})
    ingress.append({"from": [{"namespaceSelector": {"matchLabels": {
        "kubernetes.io/metadata.name": mon_ns}}}],
        "ports": [{"protocol": "TCP", "port": int(tel["prometheus_port"])}]})
    seed_ports = (cluster.find_component("otel-agent") or (None, {}))[1].get("ports") or {}
    if seed_ports:
        # the policy selects the collector pods, so their in-cluster ports (8.1.4.1) must
        # stay open to the cluster's own pods, and to them only
        ingress.append({"from": [{"namespaceSelector": {}}],
                        "ports": [{"protocol": "TCP", "port": int(p)}
                                  for p in seed_ports.values()]})
    policy = {
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {"name": "wifi-site-ingress", "namespace": tel["namespace"],
                     "labels": _labels(),
                     "annotations": {"wifiplan/note": (
                         "ipBlock rules see the site addresses only when the collector's "
                         "Service keeps the client source address (externalTrafficPolicy: "
                         "Local)")}},
        "spec": {"podSelector": {"matchLabels": dict(tel["collector_labels"])},
                 "policyTypes": ["Ingress"], "ingress": ingress},
    }
    return {"wifi-inventory-configmap.yaml": configmap,
            "wifi-prometheusrule.yaml": rule,
            "otel-wifi-configmap.yaml": otel_cm,
            "wifi-networkpolicy.yaml": policy}


def _strict(schema):
    """A copy of a structural schema that refuses unknown fields."""
    if isinstance(schema, dict):
        out = {k: _strict(v) for k, v in schema.items()}
        if out.get("type") == "object" and "properties" in out:
            out.setdefault("additionalProperties", False)
        return out
    if isinstance(schema, list):
        return [_strict(v) for v in schema]
    return schema


CRD_SCHEMAS = {("monitoring.coreos.com/v1", "PrometheusRule"): "prometheusrule"}


def validate_manifest(obj: dict, k8s_version: str = "1.28") -> str:
    """Check one object against the Kubernetes object schemas; return what it was checked by.

    Core kinds go to kubernetes-validate (strict: unknown fields are errors); custom
    resources to the vendored OpenAPI schema of their CRD (:data:`CRD_SCHEMAS`), made strict,
    with their ``metadata`` checked as a Kubernetes ObjectMeta. Raises ``ValueError``."""
    import jsonschema
    import kubernetes_validate
    key = (obj.get("apiVersion"), obj.get("kind"))
    try:
        if key in CRD_SCHEMAS:
            schema = _strict(load_schema(CRD_SCHEMAS[key]))
            jsonschema.Draft202012Validator(schema).validate(obj)
            kubernetes_validate.validate({"apiVersion": "v1", "kind": "ConfigMap",
                                          "metadata": obj.get("metadata", {})},
                                         k8s_version, strict=True)
            return f"{CRD_SCHEMAS[key]}.schema.json + ObjectMeta {k8s_version}"
        kubernetes_validate.validate(obj, k8s_version, strict=True)
        return f"kubernetes {k8s_version} (strict)"
    except (jsonschema.ValidationError, kubernetes_validate.ValidationError) as exc:
        raise ValueError(f"{key[1]} {obj.get('metadata', {}).get('name')}: "
                         f"{str(exc).splitlines()[0]}") from None


def dump_manifest(obj: dict) -> str:
    """YAML of a Kubernetes object or collector configuration as kubectl users write it:
    block style throughout, multi-line strings (embedded files) as literal blocks."""
    import yaml

    class _Dumper(yaml.SafeDumper):
        pass

    def _str(dumper, value):
        style = "|" if "\n" in value else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    _Dumper.add_representer(str, _str)
    return yaml.dump(obj, Dumper=_Dumper, sort_keys=False, default_flow_style=False,
                     allow_unicode=True, width=100)


# ---- capacity of the whole path ------------------------------------------------------------

CAPACITY_COLUMNS = ["hop", "kind", "name", "unit", "demand", "capacity", "limit",
                    "utilisation", "ok", "detail"]


def _row(kind, name, unit, demand, capacity, limit, ok, detail) -> dict:
    util = (demand / capacity) if capacity and math.isfinite(demand) else (
        0.0 if demand == 0 else math.inf)
    return {"kind": kind, "name": name, "unit": unit, "demand": float(demand),
            "capacity": float(capacity), "limit": float(limit), "utilisation": float(util),
            "ok": bool(ok), "detail": detail}


def capacity_check(site, plan, cluster: Cluster, *, radiomap=None, model=None,
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
    from .capacity import cell_load, terminal_profiles
    from .radiomap import compute_radiomap
    budget = AIRTIME_BUDGET if airtime_budget is None else airtime_budget
    net = cluster.net
    util = float(net["max_link_utilisation"])
    profiles = terminal_profiles(site)
    rm = radiomap if radiomap is not None else compute_radiomap(
        site, plan.aps, resolution_m=resolution_m, model=model)
    load = cell_load(site, rm, airtime_budget=budget)
    rows = []
    up_by_ap, down_by_ap = {}, {}
    for r in load.itertuples():
        up = sum(n * profiles[t]["uplink_mbps"] for t, n in r.terminals_by_type.items())
        down = sum(n * profiles[t].get("downlink_mbps", 0.0)
                   for t, n in r.terminals_by_type.items())
        up_by_ap[r.ap_id], down_by_ap[r.ap_id] = up, down
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


# ---- everything at once --------------------------------------------------------------------

def deploy(site, plan, cluster: Cluster, out_dir: str | Path, *, model=None,
           resolution_m: float = 1.0, site_lines: dict | None = None,
           validate: bool = True) -> dict:
    """Write site-network.yaml, manifests/, otelcol-wifi.yaml, capacity.json and .csv.

    Returns ``{"files": [...], "capacity": frame, "ok": bool, "validated": {...}}``."""
    out = Path(out_dir)
    network = site_network(site, plan, cluster, site_lines)
    objs = manifests(site, plan, cluster, network)
    otel = otel_fragment(cluster)
    check_otel_config(otel)
    validated = {}
    if validate:
        try:
            import kubernetes_validate  # noqa: F401
        except ImportError:
            validated = {name: "not validated (kubernetes-validate is not installed)"
                         for name in objs}
        else:
            for name, obj in objs.items():
                validated[name] = validate_manifest(obj, cluster.k8s_version)
    frame = capacity_check(site, plan, cluster, model=model, resolution_m=resolution_m)
    files = [write_atomic(out / "site-network.yaml", _header(site, cluster) + dump_yaml(network))]
    for name, obj in objs.items():
        files.append(write_atomic(out / "manifests" / name, dump_manifest(obj)))
    files.append(write_atomic(out / "otelcol-wifi.yaml", dump_manifest(otel)))
    files.append(write_atomic(out / "capacity.json", json.dumps(
        capacity_report(frame, site, cluster), indent=2, allow_nan=False) + "\n"))
    csv = frame.to_csv(index=False, float_format="%.4g", lineterminator="\n")
    files.append(write_atomic(out / "capacity.csv", csv))
    return {"files": files, "capacity": frame, "ok": frame.attrs["ok"], "validated": validated,
            "network": network, "manifests": objs}


def _header(site, cluster: Cluster) -> str:
    return (f"# Site network of {site.name} inside cluster {cluster.name} "
            f"({cluster.source}), written by wifiplan deploy.\n")
