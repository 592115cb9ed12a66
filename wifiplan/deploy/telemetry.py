"""Monitoring of the site network: the RF thresholds, the OpenTelemetry Collector
fragment and its check, and the Prometheus alert rules.

Terminal metrics contract (what the terminal app exports over OTLP, see :data:`METRICS`):
gauges ``wifi.client.rssi`` [dBm] of the serving BSS, ``wifi.scan.rssi`` [dBm] of every
*other* BSS heard in the last scan, and ``wifi.bss.channel`` (the channel a BSS was heard
on), with data-point attributes ``device``, ``bssid`` (lower case, colon separated) and
``channel``. The collector exports them to Prometheus without unit suffixes, so the alert
expressions use ``wifi_client_rssi``, ``wifi_scan_rssi`` and ``wifi_bss_channel``.
"""
from __future__ import annotations

import re

from ..site import Site
from ..errors import InputError
from ..logs import PING_PONG_WINDOW_S, STICKY_MARGIN_DB, STICKY_RSSI_DBM
from ..rules import (AIRTIME_BUDGET, BOUNDARY_BAND_DBM, CO_CHANNEL_MIN_SEPARATION_DB,
                     DEFAULT_MIN_RSSI_DBM, MIN_SNR_DB, NOISE_FLOOR_DBM)
from .cluster import Cluster

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


def rf_thresholds(site: Site, cluster: Cluster) -> dict:
    """The thresholds the monitoring and the log analysis judge the site by [dBm, dB]."""
    return {
        "roam_min_rssi_dbm": float(cluster.net["roaming"]["min_rssi_dbm"]),
        "coverage_min_rssi_dbm": DEFAULT_MIN_RSSI_DBM,
        "zone_min_rssi_dbm": {z.name: float(z.min_rssi_dbm) for z in site.zones},
        "cell_boundary_dbm": list(BOUNDARY_BAND_DBM),
        "co_channel_min_separation_db": CO_CHANNEL_MIN_SEPARATION_DB,
        "noise_floor_dbm": NOISE_FLOOR_DBM,
        "min_snr_db": MIN_SNR_DB,
        "airtime_budget": AIRTIME_BUDGET,
        "sticky_rssi_dbm": STICKY_RSSI_DBM,
        "sticky_margin_db": STICKY_MARGIN_DB,
        "ping_pong_window_s": PING_PONG_WINDOW_S,
    }


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


def alert_rules(site: Site, plan, cluster: Cluster, site_slug: str) -> list[dict]:
    """The Wi-Fi alerts of the site's PrometheusRule: a terminal held below the roaming
    threshold, an AP off its planned channel, co-channel interference."""
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
