"""The cluster description (seed 8.0-8.3): ``deploy/cluster.yaml`` read, checked against
``wifiplan/schemas/cluster.schema.json`` and then for the references between its parts.

:func:`load_cluster` reads and validates a file, :func:`cluster_from_dict` a parsed mapping;
both return a :class:`Cluster` with the site-network defaults of 8.1.3 filled in. Errors
name the file, the line and the key. :func:`load_schema` and :func:`validate_with_schema`
serve the other JSON schemas vendored in ``wifiplan/schemas`` as well.
"""
from __future__ import annotations

import copy
import difflib
import ipaddress
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from ..fileio import read_yaml
from ..rules import ROAM_THRESHOLD_DBM
from ..validation import Ctx, check_finite

#: Namespaces that seed 8.1.2 requires in every cluster description.
REQUIRED_NAMESPACES = ("imageflow-web", "imageflow-backend", "imageflow-processing",
                       "imageflow-storage", "imageflow-monitoring")


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
    check_finite(ctx, (), d)
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
