"""The Kubernetes objects of one site: built (:func:`manifests`), checked against the
Kubernetes object schemas (:func:`validate_manifest`) and written as YAML
(:func:`dump_manifest`).

A ConfigMap with the AP inventory and the RF thresholds, a PrometheusRule with the Wi-Fi
alerts, a ConfigMap carrying the OpenTelemetry Collector configuration fragment (OTLP metrics
from the terminals, syslog from the APs), and a NetworkPolicy that lets the site VLANs reach
only the collector ports they need.
"""
from __future__ import annotations

import re

from ..site import Site
from .cluster import Cluster, load_schema
from .network import site_network
from .telemetry import METRICS, PLANNED_CHANNEL_RECORD, alert_rules, otel_fragment, rf_thresholds

MANAGED_BY = "wifiplan"


def slug(name: str, max_len: int = 40) -> str:
    """A DNS-1123 label from a site name: 'Large Assembly Hall' -> 'large-assembly-hall'."""
    s = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:max_len].strip("-")
    return s or "site"


def _labels(site_slug: str | None = None) -> dict:
    out = {"app.kubernetes.io/part-of": "imageflow", "app.kubernetes.io/component": "site-wifi",
           "app.kubernetes.io/managed-by": MANAGED_BY}
    if site_slug:
        out["wifiplan/site"] = site_slug
    return out


def manifests(site: Site, plan, cluster: Cluster, network: dict | None = None) -> dict[str, dict]:
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
             "rules": alert_rules(site, plan, cluster, s)},
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
