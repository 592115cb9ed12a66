"""wifiplan deploy: the cluster description, the site network, the manifests and the
capacity check of the whole path."""
import json
import re

import jsonschema
import kubernetes_validate
import pytest
import yaml

from conftest import FLOORPLANS, ROOT, SAMPLE_SITES, plan_path_of
from wifiplan.capacity import DEFAULT_MAC_EFFICIENCY, cell_load, terminal_profiles
from wifiplan.cli import main
from wifiplan.deploy import (METRICS, PLANNED_CHANNEL_RECORD, REQUIRED_NAMESPACES,
                             capacity_check, check_backhaul, check_otel_config,
                             cluster_from_dict, load_cluster, load_schema, manifests,
                             otel_fragment, site_network, validate_manifest)
from wifiplan.errors import InputError
from wifiplan.fileio import parse_yaml
from wifiplan.plan import load_plan, parse_plan
from wifiplan.site import load_site, parse_site

CLUSTER = ROOT / "deploy" / "cluster.yaml"
CLUSTER_TEXT = CLUSTER.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def cluster():
    return load_cluster(CLUSTER)


def _line_of(text, needle):
    return next(i for i, ln in enumerate(text.splitlines(), 1) if needle in ln)


# ---- the cluster description --------------------------------------------------------------

def test_cluster_describes_seed_8_0_to_8_1(cluster):
    vm0, vm1, vm2 = (cluster.vms[k] for k in ("vm0", "vm1", "vm2"))
    assert (vm0["role"], vm0["cpu"], vm0["memory_gib"], vm0["network_mbps"]) == \
        ("edge", 4, 8, 1000)
    assert {"api-gateway", "backend-api", "web-ui"} <= {c["name"] for c in vm0["components"]}
    assert (vm1["role"], vm1["network_mbps"]) == ("messaging", 10000)
    kafka = cluster.component("vm1/kafka")
    assert kafka["replicas"] == 3 and cluster.component("vm1/kafka-connect") is not None
    assert (vm2["role"], vm2["network_mbps"], vm2["gpu"]) == ("compute", 10000, 1)
    assert cluster.component("vm2/minio")["namespace"] == "imageflow-storage"
    k3s = cluster.data["k3s"]
    assert (k3s["name"], k3s["version"], k3s["host"]) == ("imageflow-k3s", "v1.28.9+k3s1", "vm2")
    nodes = {n["name"]: n for n in k3s["nodes"]}
    assert nodes["k3s-master-01"]["role"] == "master"
    assert nodes["k3s-worker-02"]["gpu"] == 1
    assert {n: v.get("labels", {}).get("node-type") for n, v in nodes.items()} == {
        "k3s-master-01": None, "k3s-worker-01": "cpu-intensive",
        "k3s-worker-02": "gpu-enabled", "k3s-worker-03": "storage-optimized"}
    assert set(REQUIRED_NAMESPACES) <= {n["name"] for n in cluster.data["namespaces"]}
    links = {(lk["from"], lk["to"]): lk["kind"] for lk in cluster.data["links"]}
    assert links[("vm0/backend-api", "vm1/kafka")] == "vpn-or-leased-line"
    assert links[("vm1/kafka", "vm2/k3s")] == "internal"
    assert links[("internet", "vm0/load-balancer")] == "public"
    assert cluster.k8s_version == "1.28"
    # the images cross VM0, VM1 and VM2 in that order; a site server on a K3s node is VM2
    assert cluster.data_path("vm0")[0] == ["vm0", "vm1", "vm2"]
    assert cluster.data_path("k3s-worker-01")[0] == ["vm2", "vm0", "vm1"]


def test_vendored_schemas_are_valid_json_schemas():
    for name in ("cluster", "prometheusrule"):
        jsonschema.Draft202012Validator.check_schema(load_schema(name))


@pytest.mark.parametrize("old, new, at, key, message", [
    ("network_mbps: 1000", "network_mbps: ten", "network_mbps: ten", "vms[0].network_mbps",
     "expected a number, got 'ten'"),
    ("role: messaging", "role: messagin", "role: messagin", "vms[1].role",
     "did you mean 'messaging'"),
    ("    cpu: 16\n", "    cpus: 16\n", "cpus: 16", "vms[2].cpus", "did you mean 'cpu'"),
    ("site_server: vm0", "site_server: vm9", "site_server: vm9", "site_network.site_server",
     "unknown VM or K3s node 'vm9'"),
    ("{from: vm1/kafka, to: vm2/k3s", "{from: vm1/kafka, to: vm2/k3", "to: vm2/k3,",
     "links[7].to", "did you mean 'vm2/k3s'"),
    ('  - {name: imageflow-monitoring, purpose: "Prometheus, Grafana"}\n', "", "namespaces:",
     "namespaces", "missing namespace 'imageflow-monitoring'"),
    ("subnet: 10.20.8.0/24", "subnet: 10.20.0.0/24", "subnet: 10.20.0.0/24}",
     "site_network.vlans.ap_management.subnet", "overlaps the terminals' subnet"),
    ("ip: 10.0.1.12", "ip: 10.0.2.12", "ip: 10.0.2.12", "k3s.nodes[2].ip",
     "outside node_network 10.0.1.0/24"),
    ("pmf: optional", "pmf: sometimes", "pmf: sometimes", "site_network.security.pmf",
     "expected one of required, optional, disabled"),
    ("namespace: imageflow-storage, replicas: 4", "namespace: imageflow-storag, replicas: 4",
     "imageflow-storag,", "vms[2].components[2].namespace", "did you mean 'imageflow-storage'"),
    ("ap_management: {id: 100", "ap_management: {id: 110", "ap_management: {id: 110",
     "site_network.vlans.ap_management.id", "must differ"),
])
def test_cluster_errors_name_key_and_line(old, new, at, key, message):
    assert old in CLUSTER_TEXT
    text = CLUSTER_TEXT.replace(old, new, 1)
    data, lines = parse_yaml(text, source="c.yaml")
    with pytest.raises(InputError) as exc:
        cluster_from_dict(data, source="c.yaml", lines=lines)
    e = exc.value
    assert e.key == key
    assert e.line == _line_of(text, at)
    assert message in str(e)
    assert str(e).startswith(f"c.yaml:{e.line}: {key}: ")


def test_cluster_cli_error_exit_2(tmp_path, capsys):
    bad = tmp_path / "cluster.yaml"
    bad.write_text(CLUSTER_TEXT.replace("network_mbps: 1000", "network_mbps: -1", 1))
    site = FLOORPLANS / "small-workshop.yaml"
    code = main(["deploy", str(site), str(plan_path_of(site)), "--cluster", str(bad),
                 "-o", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    assert (f"cluster.yaml:{_line_of(CLUSTER_TEXT, 'network_mbps: 1000')}: "
            "vms[0].network_mbps" in err)
    assert not (tmp_path / "out").exists()


# ---- deploy on every sample site ----------------------------------------------------------

@pytest.fixture(scope="module", params=[p.stem for p in SAMPLE_SITES])
def deployed(request, tmp_path_factory):
    site_path = FLOORPLANS / f"{request.param}.yaml"
    out = tmp_path_factory.mktemp(request.param)
    import contextlib
    import io
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = main(["deploy", str(site_path), str(plan_path_of(site_path)),
                     "--cluster", str(CLUSTER), "-o", str(out)])
    return {"site": load_site(site_path), "plan": load_plan(plan_path_of(site_path)),
            "out": out, "code": code, "stdout": buf.getvalue()}


def _objects(out):
    return {p.name: yaml.safe_load(p.read_text())
            for p in sorted((out / "manifests").glob("*.yaml"))}


def test_every_manifest_validates_against_kubernetes_schemas(deployed):
    objs = _objects(deployed["out"])
    assert set(objs) == {"wifi-inventory-configmap.yaml", "wifi-prometheusrule.yaml",
                         "otel-wifi-configmap.yaml", "wifi-networkpolicy.yaml"}
    kinds = {}
    for name, obj in objs.items():
        kinds[obj["kind"]] = obj
        if obj["apiVersion"] == "monitoring.coreos.com/v1":
            # the CRD's OpenAPI schema (vendored from prometheus-operator) + ObjectMeta
            jsonschema.Draft202012Validator(load_schema("prometheusrule")).validate(obj)
        else:
            assert kubernetes_validate.validate(obj, "1.28", strict=True) == "1.28"
        validate_manifest(obj, "1.28")
    assert kinds["ConfigMap"]["metadata"]["namespace"] in ("imageflow-monitoring",
                                                           "imageflow-observability")
    assert kinds["PrometheusRule"]["metadata"]["namespace"] == "imageflow-monitoring"
    assert objs["wifi-inventory-configmap.yaml"]["metadata"]["namespace"] == \
        "imageflow-monitoring"


def test_validation_rejects_broken_manifests(cluster):
    site = load_site(FLOORPLANS / "small-workshop.yaml")
    plan = load_plan(plan_path_of(FLOORPLANS / "small-workshop.yaml"))
    objs = manifests(site, plan, cluster)
    pol = json.loads(json.dumps(objs["wifi-networkpolicy.yaml"]))
    pol["spec"]["ingress"][0]["ports"][0]["protocol"] = 17       # not a string
    with pytest.raises(ValueError, match="NetworkPolicy"):
        validate_manifest(pol)
    rule = json.loads(json.dumps(objs["wifi-prometheusrule.yaml"]))
    rule["spec"]["groups"][1]["rules"][0]["for"] = "2 minutes"   # not a Prometheus duration
    with pytest.raises(ValueError, match="PrometheusRule"):
        validate_manifest(rule)
    rule = json.loads(json.dumps(objs["wifi-prometheusrule.yaml"]))
    rule["spec"]["groups"][1]["rules"][0]["severity"] = "warning"  # unknown field
    with pytest.raises(ValueError, match="PrometheusRule"):
        validate_manifest(rule)
    rule = json.loads(json.dumps(objs["wifi-prometheusrule.yaml"]))
    rule["metadata"]["labels"]["bad label!"] = "x"   # ObjectMeta is checked too
    rule["metadata"]["name"] = 5
    with pytest.raises(ValueError):
        validate_manifest(rule)
    cm = json.loads(json.dumps(objs["wifi-inventory-configmap.yaml"]))
    cm["data"]["count"] = 3
    with pytest.raises(ValueError, match="ConfigMap"):
        validate_manifest(cm)


def test_site_network_describes_the_plan(deployed, cluster):
    site, plan = deployed["site"], deployed["plan"]
    text = (deployed["out"] / "site-network.yaml").read_text()
    net = yaml.safe_load(text)
    assert net["site"] == site.name
    assert [a["id"] for a in net["aps"]] == [a.id for a in plan.aps]
    for a, ap in zip(net["aps"], plan.aps):
        assert (a["channel"], a["tx_power_dbm"], a["switch"], a["port"]) == \
            (ap.channel, ap.tx_power_dbm, ap.switch, ap.port)
        assert a["position"] == {"x_m": ap.x_m, "y_m": ap.y_m, "height_m": ap.height_m}
        assert a["cable_m"] > 0 and a["cable_length_from"] in ("plan", "estimated")
        assert a["port_vlans"] == {"untagged": 100, "tagged": [110]}
    assert net["ssid"]["name"] == "ImageFlow-Factory" and net["ssid"]["on_all_aps"]
    assert (net["security"]["mode"], net["security"]["fallback"]) == \
        ("wpa3-enterprise", "wpa2-enterprise")
    assert {v["role"]: v["id"] for v in net["vlans"]} == {"terminals": 110, "ap_management": 100}
    assert net["site_server"]["node"] == "vm0" and net["site_server"]["network_mbps"] == 1000
    sw = {s["name"]: s for s in net["switches"]}
    assert set(sw) == {s.name for s in site.switches}
    for s in site.switches:
        mine = [a.id for a in plan.aps if a.switch == s.name]
        assert sw[s.name]["aps"] == mine and sw[s.name]["ports_used"] == len(mine)
        assert sw[s.name]["poe_used_w"] == pytest.approx(len(mine) * sw[s.name]["poe_per_ap_w"])
        assert sw[s.name]["uplink"]["to"] == site.server["name"]
    # flows: the AP management VLAN reaches the collector's syslog port and RADIUS only
    mgmt = {(f["to"], f["protocol"], f["port"]) for f in net["flows"]
            if f["from"] == "ap_management"}
    assert mgmt == {("imageflow-observability/app=otel-agent", "UDP", 5514),
                    (site.server["name"], "UDP", 1812), (site.server["name"], "UDP", 1813)}


def test_inventory_and_thresholds_configmap(deployed):
    cm = _objects(deployed["out"])["wifi-inventory-configmap.yaml"]
    inv = yaml.safe_load(cm["data"]["ap-inventory.yaml"])
    assert [a["bssid"] for a in inv["aps"]] == [a.bssid for a in deployed["plan"].aps]
    th = yaml.safe_load(cm["data"]["rf-thresholds.yaml"])
    assert th["roam_min_rssi_dbm"] == -70 and th["co_channel_min_separation_db"] == 19
    assert th["cell_boundary_dbm"] == [-70, -65] and th["sticky_rssi_dbm"] == -75
    assert th["zone_min_rssi_dbm"] == {z.name: z.min_rssi_dbm for z in deployed["site"].zones}


def test_prometheus_rule_alerts(deployed):
    rule = _objects(deployed["out"])["wifi-prometheusrule.yaml"]
    plan_g, alert_g = rule["spec"]["groups"]
    records = plan_g["rules"]
    assert [(r["labels"]["ap_id"], r["labels"]["bssid"], r["expr"]) for r in records] == \
        [(a.id, a.bssid, f"vector({a.channel})") for a in deployed["plan"].aps]
    alerts = {r["alert"]: r for r in alert_g["rules"]}
    assert set(alerts) == {"WifiTerminalBelowMinRssi", "WifiApOffPlannedChannel",
                           "WifiCoChannelInterference"}
    assert "wifi_client_rssi) < -70)" in alerts["WifiTerminalBelowMinRssi"]["expr"]
    assert "wifi_bss_channel) != on (bssid)" in alerts["WifiApOffPlannedChannel"]["expr"]
    assert "(wifi_scan_rssi) < 19)" in alerts["WifiCoChannelInterference"]["expr"]
    known = {m[0] for m in METRICS.values()} | {PLANNED_CHANNEL_RECORD}
    keywords = {"max", "by", "on", "group_left", "vector", "bssid", "device", "channel",
                "ap_id", "site"}
    for r in alert_g["rules"]:
        expr = r["expr"]
        assert expr.count("(") == expr.count(")")
        names = set(re.findall(r"[a-z_:][a-z0-9_:]*", re.sub(r'"[^"]*"', "", expr)))
        assert names - keywords <= known, names - keywords - known
        for word in re.findall(r"\$labels\.(\w+)", json.dumps(r["annotations"])):
            assert word in {"device", "ap_id", "bssid", "channel"}


def test_otel_fragment_and_network_policy_agree(deployed, cluster):
    objs = _objects(deployed["out"])
    frag = yaml.safe_load(objs["otel-wifi-configmap.yaml"]["data"]["wifi.yaml"])
    assert frag == yaml.safe_load((deployed["out"] / "otelcol-wifi.yaml").read_text())
    check_otel_config(frag)
    otlp = frag["receivers"]["otlp/wifi"]["protocols"]
    assert otlp["grpc"]["endpoint"].endswith(":14317")
    assert otlp["http"]["endpoint"].endswith(":14318")
    assert frag["service"]["pipelines"]["metrics/wifi"]["exporters"] == ["prometheus/wifi"]
    assert frag["exporters"]["prometheus/wifi"]["add_metric_suffixes"] is False
    pol = objs["wifi-networkpolicy.yaml"]
    assert pol["spec"]["podSelector"] == {"matchLabels": {"app": "otel-agent"}}
    assert pol["spec"]["policyTypes"] == ["Ingress"]
    by_cidr = {}
    for rule in pol["spec"]["ingress"]:
        for peer in rule["from"]:
            if "ipBlock" in peer:
                by_cidr[peer["ipBlock"]["cidr"]] = {(p["protocol"], p["port"])
                                                    for p in rule["ports"]}
    assert by_cidr == {"10.20.8.0/24": {("UDP", 5514)},
                       "10.20.0.0/22": {("TCP", 14317), ("TCP", 14318)}}
    assert frag["receivers"]["syslog/wifi-ap"]["udp"]["listen_address"].endswith(":5514")


def test_otel_check_catches_undefined_component(cluster):
    frag = otel_fragment(cluster)
    frag["service"]["pipelines"]["metrics/wifi"]["exporters"].append("otlp/missing")
    with pytest.raises(InputError, match="otlp/missing"):
        check_otel_config(frag)
    frag = otel_fragment(cluster)
    frag["exporters"]["prometheus/wifi"]["endpoint"] = "0.0.0.0:14317"   # clashes with OTLP
    with pytest.raises(InputError, match="clash"):
        check_otel_config(frag)


def test_capacity_files_and_figures(deployed, cluster):
    site = deployed["site"]
    rep = json.loads((deployed["out"] / "capacity.json").read_text())
    csv = (deployed["out"] / "capacity.csv").read_text().splitlines()
    assert csv[0] == "hop,kind,name,unit,demand,capacity,limit,utilisation,ok,detail"
    assert len(csv) == len(rep["hops"]) + 1
    kinds = [h["kind"] for h in rep["hops"]]
    assert kinds.count("cell") == len(deployed["plan"].aps)
    assert kinds.count("switch-uplink") == len(site.switches)
    assert [h["name"] for h in rep["hops"] if h["kind"] in ("site-server", "vm")] == \
        ["SVR (vm0)", "vm1", "vm2"]
    prof = terminal_profiles(site)
    up = sum(n * prof[t]["uplink_mbps"] for z in site.zones for t, n in z.terminals.items())
    for h in rep["hops"]:
        if h["kind"] in ("site-server", "vm"):
            assert h["demand"] == pytest.approx(up, abs=1e-3)
            cap = 1000 if h["kind"] == "site-server" else 10000
            assert (h["capacity"], h["limit"]) == (cap, pytest.approx(0.7 * cap))
            assert h["ok"] == (up <= 0.7 * cap)
        assert h["ok"] == (h["demand"] is not None and h["demand"] <= h["limit"] + 1e-9) \
            or h["kind"] == "cell"
    # the exit code says whether every hop passed, and the failures are printed with figures
    assert rep["ok"] == all(h["ok"] for h in rep["hops"])
    assert deployed["code"] == (0 if rep["ok"] else 1)
    for f in rep["failures"]:
        assert f in deployed["stdout"]
    assert "hop" in deployed["stdout"] and "SVR (vm0)" in deployed["stdout"]


def test_small_sites_pass_every_hop(tmp_path, capsys):
    for name in ("small-workshop", "production-line"):
        site = FLOORPLANS / f"{name}.yaml"
        code = main(["deploy", str(site), str(plan_path_of(site)), "--cluster", str(CLUSTER),
                     "-o", str(tmp_path / name)])
        out = capsys.readouterr().out
        assert code == 0, out
        assert "capacity check passed at every hop" in out


# ---- capacity failures, each at its hop -----------------------------------------------------

def _one_cell_site(thinklets: int, uplink_mbps: float = 10000, extra: str = ""):
    site = parse_site(f"""
name: THINKLET overload
outline: [[0, 0], [20, 0], [20, 20], [0, 20]]
propagation: {{model: 3gpp-inf-sl, ap_height_m: 4.0}}
zones:
  - name: inspection
    polygon: [[0, 0], [20, 0], [20, 20], [0, 20]]
    terminals: {{thinklet: {thinklets}}}
infrastructure:
  server: {{name: SVR, position: [1, 1]}}
  switches: [{{name: SW1, position: [2, 1], ports: 8, poe_budget_w: 120,\
 uplink_mbps: {uplink_mbps}}}]
{extra}""", source="overload.yaml")
    plan = parse_plan("""
site: THINKLET overload
aps:
  - {id: AP1, x_m: 10, y_m: 10, height_m: 4, channel: 36, tx_power_dbm: 10,
     bssid: "02:1a:00:00:00:01", switch: SW1, port: 1}
""", source="overload.plan.yaml", site=site)
    return site, plan


def test_too_many_thinklet_streams_for_one_cell_fail_with_figures(cluster, tmp_path, capsys):
    site, plan = _one_cell_site(12)
    frame = capacity_check(site, plan, cluster)
    cell = frame[frame["kind"] == "cell"].iloc[0]
    load = cell_load(site, plan)
    rate = float(load["phy_rate_mbps"].iloc[0])
    demand = 12 * (terminal_profiles(site)["thinklet"]["uplink_mbps"]
                   + terminal_profiles(site)["thinklet"]["downlink_mbps"])
    # one 20 MHz cell: airtime = demand / (PHY rate x MAC efficiency), budget 50 %
    assert cell["demand"] == pytest.approx(demand)
    assert cell["utilisation"] == pytest.approx(demand / (rate * DEFAULT_MAC_EFFICIENCY), rel=1e-6)
    assert cell["utilisation"] > 0.5 and not cell["ok"]
    assert cell["limit"] == pytest.approx(0.5 * rate * DEFAULT_MAC_EFFICIENCY, rel=1e-6)
    assert "12 thinklet" in cell["detail"] and f"{rate:.1f} Mb/s" in cell["detail"]
    # only the cell fails: the wire behind it carries 12 streams easily
    assert frame[frame["kind"] != "cell"]["ok"].all()
    assert not frame.attrs["ok"] and len(frame.attrs["failures"]) == 1
    # the same through the command line: exit 1, the figures printed
    from wifiplan.plan import save_plan
    from wifiplan.site import save_site
    save_site(site, tmp_path / "s.yaml")
    save_plan(plan, tmp_path / "s.plan.yaml")
    code = main(["deploy", str(tmp_path / "s.yaml"), str(tmp_path / "s.plan.yaml"),
                 "--cluster", str(CLUSTER), "-o", str(tmp_path / "out")])
    out = capsys.readouterr().out
    assert code == 1
    assert "capacity check FAILED at 1 hop(s)" in out
    assert re.search(r"cell AP1: ch 36, 12\.0 terminals \(12 thinklet\) need 62\.4 Mb/s at a "
                     r"median MCS\d+ [\d.]+ Mb/s: airtime \d+% of 50%", out)
    rep = json.loads((tmp_path / "out" / "capacity.json").read_text())
    assert rep["ok"] is False and rep["hops"][0]["ok"] is False


def test_a_few_thinklets_fit_one_cell(cluster):
    site, plan = _one_cell_site(3)
    frame = capacity_check(site, plan, cluster)
    assert frame.attrs["ok"], frame.attrs["failures"]


def test_switch_uplink_and_vm_hops_fail_with_figures(cluster):
    site, plan = _one_cell_site(4, uplink_mbps=20)
    frame = capacity_check(site, plan, cluster)
    sw = frame[frame["kind"] == "switch-uplink"].iloc[0]
    assert sw["demand"] == pytest.approx(20.0) and sw["limit"] == pytest.approx(14.0)
    assert not sw["ok"] and "20.0 Mb/s up" in sw["detail"]
    # a cluster whose edge VM has a 10 Mb/s interface: the site-server hop fails
    data, lines = parse_yaml(CLUSTER_TEXT.replace("network_mbps: 1000", "network_mbps: 10", 1))
    small = cluster_from_dict(data, lines=lines)
    frame = capacity_check(site, plan, small)
    srv = frame[frame["kind"] == "site-server"].iloc[0]
    assert (srv["demand"], srv["capacity"], srv["limit"], bool(srv["ok"])) == \
        (pytest.approx(20.0), 10.0, pytest.approx(7.0), False)
    assert frame[frame["kind"] == "vm"]["ok"].all()
    # a link with a bandwidth is a hop too
    data, lines = parse_yaml(CLUSTER_TEXT.replace(
        "kind: vpn-or-leased-line,", "kind: vpn-or-leased-line, bandwidth_mbps: 25,", 1))
    frame = capacity_check(site, plan, cluster_from_dict(data, lines=lines))
    link = frame[frame["kind"] == "link"].iloc[0]
    assert link["name"] == "vm0/backend-api -> vm1/kafka" and not link["ok"]


def test_unwired_ap_fails_and_is_reported(cluster):
    site, plan = _one_cell_site(1)
    plan.aps[0].switch = None
    plan.aps[0].port = None
    frame = capacity_check(site, plan, cluster)
    row = frame[frame["kind"] == "unwired"].iloc[0]
    assert not row["ok"] and "AP1" in row["detail"]
    net = site_network(site, plan, cluster)
    assert any("AP1" in w and "switch" in w for w in net["warnings"])


# ---- backhaul and site-server references ----------------------------------------------------

@pytest.mark.parametrize("edit, key, message", [
    ("switch: SW1, port: 1}", "aps[0].switch", "unknown switch 'SW9'"),
    ("port: 1}", "aps[0].port", "port 30 does not exist on SW1 (8 ports)"),
    ("AP2_PORT", "aps[1].port", "port SW1/1 is already used by AP1"),
])
def test_backhaul_errors_name_key_and_line(edit, key, message):
    site, _ = _one_cell_site(1)
    text = """site: THINKLET overload
aps:
  - {id: AP1, x_m: 10, y_m: 10, channel: 36, switch: SW1, port: 1}
  - {id: AP2, x_m: 15, y_m: 10, channel: 40, switch: SW1, port: 2}
"""
    if edit == "AP2_PORT":
        text = text.replace("port: 2}", "port: 1}")
    elif "SW1" in edit:
        text = text.replace(edit, "switch: SW9, port: 1}", 1)
    else:
        text = text.replace(edit, "port: 30}", 1)
    data, lines = parse_yaml(text, source="p.yaml")
    from wifiplan.plan import plan_from_dict
    plan = plan_from_dict(data, source="p.yaml", lines=lines)
    with pytest.raises(InputError) as exc:
        check_backhaul(site, plan, lines)
    assert exc.value.key == key and message in str(exc.value)
    assert exc.value.line == (3 if key.startswith("aps[0]") else 4)


def test_site_server_on_a_k3s_node(cluster):
    site, plan = _one_cell_site(2)
    site.server["node"] = "k3s-worker-01"
    net = site_network(site, plan, cluster)
    assert (net["site_server"]["node"], net["site_server"]["vm"], net["site_server"]["kind"]) == \
        ("k3s-worker-01", "vm2", "k3s-node")
    frame = capacity_check(site, plan, cluster)
    assert frame[frame["kind"] == "site-server"]["name"].iloc[0] == "SVR (k3s-worker-01)"
    site.server["node"] = "k3s-worker-9"
    with pytest.raises(InputError, match="infrastructure.server.node: unknown VM or K3s node"):
        site_network(site, plan, cluster)


def test_deploy_writes_its_files_and_leaves_inputs_untouched(tmp_path):
    site = FLOORPLANS / "small-workshop.yaml"
    inputs = [site, plan_path_of(site), CLUSTER]
    before = [p.read_bytes() for p in inputs]
    assert main(["deploy", str(site), str(plan_path_of(site)), "--cluster", str(CLUSTER),
                 "-o", str(tmp_path)]) == 0
    assert [p.read_bytes() for p in inputs] == before
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")
                     if p.is_file())
    assert written == ["capacity.csv", "capacity.json", "manifests/otel-wifi-configmap.yaml",
                       "manifests/wifi-inventory-configmap.yaml",
                       "manifests/wifi-networkpolicy.yaml", "manifests/wifi-prometheusrule.yaml",
                       "otelcol-wifi.yaml", "site-network.yaml"]
