"""The site network inside the ImageFlowCanvas cluster deployment description (seed 8.0-8.3).

A site and its plan become deployable artefacts. One concept per module:

- :mod:`.cluster`: the cluster description. :func:`load_cluster` reads
  ``deploy/cluster.yaml`` (the VMs, the K3s cluster, the namespaces, the network links of
  seed 8.0.4 and the site-network defaults of 8.1.3), validates it against
  ``wifiplan/schemas/cluster.schema.json`` and then checks the references between its parts;
  errors name the file, the line and the key. Also :func:`load_schema` and
  :func:`validate_with_schema` for the vendored JSON schemas.
- :mod:`.network`: the site network. :func:`site_network` describes it as a part of that
  description: APs, switches with ports and PoE, the uplink to the site server and which VM
  or node that is (:func:`site_server_node`), the SSID and security policy, the VLANs and the
  flows each VLAN may open; :func:`check_backhaul` checks the plan's switch ports.
- :mod:`.telemetry`: the RF thresholds (:func:`rf_thresholds`), the terminal metrics
  contract (:data:`METRICS`), the OpenTelemetry Collector fragment (:func:`otel_fragment`,
  OTLP metrics from the terminals, syslog from the APs) and its check
  (:func:`check_otel_config`), and the Prometheus alert rules (:func:`alert_rules`).
- :mod:`.kubernetes`: :func:`manifests` builds the Kubernetes objects: a ConfigMap with the
  AP inventory and the RF thresholds, a PrometheusRule with the Wi-Fi alerts, a ConfigMap
  carrying the collector fragment, and a NetworkPolicy that lets the site VLANs reach only
  the collector ports they need. :func:`validate_manifest` checks each against the
  Kubernetes object schemas, :func:`dump_manifest` writes them as YAML.
- :mod:`.capacity`: :func:`capacity_check` follows the images along the whole path, each
  hop with its figures and pass/fail: every cell (airtime,
  :func:`wifiplan.capacity.cell_load`), every switch (uplink, PoE, ports, cable runs), then
  the site server and the VMs and links of the cluster on the way to the processing cluster;
  :func:`capacity_report` and :func:`format_capacity` are its JSON and text forms.
- :mod:`.writer`: :func:`deploy` writes all of it into a directory.

Every public name is re-exported here: ``from wifiplan.deploy import X``.
"""
from .capacity import CAPACITY_COLUMNS, capacity_check, capacity_report, format_capacity
from .cluster import (REQUIRED_NAMESPACES, Cluster, cluster_from_dict, load_cluster,
                      load_schema, validate_with_schema)
from .kubernetes import (CRD_SCHEMAS, MANAGED_BY, dump_manifest, manifests, slug,
                         validate_manifest)
from .network import check_backhaul, site_network, site_server_node
from .telemetry import (METRICS, OTEL_COMPONENT_TYPES, PLANNED_CHANNEL_RECORD, alert_rules,
                        check_otel_config, otel_fragment, rf_thresholds)
from .writer import deploy

__all__ = [
    # cluster
    "REQUIRED_NAMESPACES", "Cluster", "cluster_from_dict", "load_cluster", "load_schema",
    "validate_with_schema",
    # network
    "check_backhaul", "site_network", "site_server_node",
    # telemetry
    "METRICS", "OTEL_COMPONENT_TYPES", "PLANNED_CHANNEL_RECORD", "alert_rules",
    "check_otel_config", "otel_fragment", "rf_thresholds",
    # kubernetes
    "CRD_SCHEMAS", "MANAGED_BY", "dump_manifest", "manifests", "slug", "validate_manifest",
    # capacity
    "CAPACITY_COLUMNS", "capacity_check", "capacity_report", "format_capacity",
    # writer
    "deploy",
]
