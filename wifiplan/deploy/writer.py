"""Everything at once: :func:`deploy` writes the site network, the manifests, the collector
fragment and the capacity check of one site into a directory."""
from __future__ import annotations

import json
from pathlib import Path

from ..site import Site
from ..errors import InputError
from ..evaluation import plan_violations
from ..fileio import dump_yaml, write_atomic
from ..radio.propagation import PROPAGATION_DEFAULTS
from .capacity import capacity_check, capacity_report
from .cluster import Cluster
from .kubernetes import dump_manifest, manifests, validate_manifest
from .network import site_network
from .telemetry import check_otel_config, otel_fragment


def deploy(site: Site, plan, cluster: Cluster, out_dir: str | Path, *, model=None,
           resolution_m: float = 1.0, site_lines: dict | None = None,
           validate: bool = True) -> dict:
    """Write site-network.yaml, manifests/, otelcol-wifi.yaml, capacity.json and .csv.

    Returns ``{"files": [...], "capacity": frame, "ok": bool, "validated": {...}}``."""
    gain = (model.ap_gain_dbi if model is not None else
            float(site.propagation.get("ap_gain_dbi", PROPAGATION_DEFAULTS["ap_gain_dbi"])))
    bad = plan_violations(site, plan.aps, gain)
    if bad:        # an inventory for APs the domain forbids must not reach the cluster
        more = f" and {len(bad) - 3} more" if len(bad) > 3 else ""
        raise InputError(f"the plan breaks the rules of domain {site.regulatory_domain}: "
                         f"{'; '.join(bad[:3])}{more}; correct it (wifiplan plan SITE --plan "
                         f"PLAN.yaml re-assigns channels and powers) before deploying",
                         source=getattr(plan, "source", None))
    out = Path(out_dir)
    network = site_network(site, plan, cluster, site_lines)
    objs = manifests(site, plan, cluster, network)
    otel = otel_fragment(cluster)
    check_otel_config(otel)
    validated = {}
    if validate:
        try:
            # imported only to learn whether it is installed; validate_manifest uses it
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


def _header(site: Site, cluster: Cluster) -> str:
    return (f"# Site network of {site.name} inside cluster {cluster.name} "
            f"({cluster.source}), written by wifiplan deploy.\n")
