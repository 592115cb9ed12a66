"""Generate the sample surveys of this folder from the sample plans (deterministic).

    python surveys/make_samples.py

Each survey is what a surveyor would bring back from a walk along the aisles of a sample
site: the library's prediction of the plan (``rssi_points_dbm`` with the site's model),
plus spatially correlated log-normal shadowing (4 dB, about 5 m correlation, one field per
AP), three scans per point with 2 dB of fast fading each, integer dBm, and nothing weaker
than the -92 dBm sensitivity of a survey adapter. Between them the files plant the problems that
``wifiplan survey check`` must find:

- ``small-workshop.csv`` (native, UTF-8): our SSID also on 2.4 GHz from a neighbouring MAC
  of AP1 (band_2g4); a foreign AP on our channel 36 in the office (foreign_ap, co_channel);
  a driver placeholder of 0 dBm and a repeated export row (rejected rows).
- ``production-line-sjis.csv`` (native, Shift_JIS, Japanese SSIDs, freq_mhz and width_mhz):
  AP2 on channel 48 instead of 44 (channel_mismatch); AP3 at 40 MHz (width_mismatch); a
  foreign office AP on DFS channel 52 (dfs_channel).
- ``large-hall-wigle.csv`` with ``large-hall-georef.yaml`` (WiGLE 1.6 export, positions in
  latitude/longitude): AP2 mounted behind a steel column and 20 dB weaker than planned
  (coverage_hole, ap_bias); Bluetooth records (rejected as not Wi-Fi).
- ``production-line-wide.csv`` with ``production-line-wide.apmap.yaml`` (one RSSI column per
  AP, -200 = not heard): the plan as built; the store room behind the concrete fire wall
  is the natural coverage hole the plan leaves.
"""
from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from wifiplan.fileio import dump_yaml, write_atomic  # noqa: E402
from wifiplan.plan import load_plan  # noqa: E402
from wifiplan.radio.propagation import rssi_points_dbm  # noqa: E402
from wifiplan.site import load_site  # noqa: E402
from wifiplan.survey.readers import fit_georeference  # noqa: E402

FLOORPLANS = HERE.parent / "floorplans"
SIGMA_DB = 4.0
CORRELATION_M = 5.0
FADING_DB = 2.0
SCANS = 3
SENSITIVITY_DBM = -92.0
START = pd.Timestamp("2026-11-02 09:00:00")


def load(name):
    site = load_site(FLOORPLANS / f"{name}.yaml")
    plan = load_plan(FLOORPLANS / f"{name}.plan.yaml", site=site)
    return site, plan


def walk(site, xs, ys, clearance_m=0.4):
    """Grid points (an aisle walk) inside the outline and outside every obstacle."""
    from shapely import contains_xy
    from shapely.geometry import Polygon
    X, Y = np.meshgrid(np.asarray(xs, float), np.asarray(ys, float))
    x, y = X.ravel(), Y.ravel()
    ok = site.inside_outline(x, y, -0.3)
    for o in site.obstacles:
        ok &= ~contains_xy(Polygon(o.polygon[:, :2]).buffer(clearance_m), x, y)
    # serpentine order, as a surveyor walks the aisles
    pts = np.column_stack([x[ok], y[ok]])
    order = np.lexsort((np.where(np.isin(pts[:, 1], np.unique(pts[:, 1])[1::2]),
                                 -pts[:, 0], pts[:, 0]), pts[:, 1]))
    return pts[order]


def shadowing(rng, pts, n_fields):
    """Spatially correlated Gaussian fields [dB] at the points, one per AP (std SIGMA_DB)."""
    lo = pts.min(0) - CORRELATION_M
    hi = pts.max(0) + CORRELATION_M
    gx = np.arange(lo[0], hi[0] + CORRELATION_M, CORRELATION_M)
    gy = np.arange(lo[1], hi[1] + CORRELATION_M, CORRELATION_M)
    from scipy.interpolate import RegularGridInterpolator
    out = np.empty((n_fields, len(pts)))
    for k in range(n_fields):
        node = rng.standard_normal((len(gx), len(gy)))
        f = RegularGridInterpolator((gx, gy), node, method="cubic")(pts)
        out[k] = SIGMA_DB * (f - f.mean()) / f.std()
    return out


def scan_rows(rng, pts, radios, mean_dbm, device, t0=START, step_s=6):
    """Rows of SCANS scans per point: one per radio heard above the sensitivity."""
    rows = []
    for i, (x, y) in enumerate(pts):
        for s in range(SCANS):
            t = t0 + pd.Timedelta(seconds=i * step_s + 2 * s)
            for r, radio in enumerate(radios):
                v = mean_dbm[r, i] + FADING_DB * rng.standard_normal()
                if v < SENSITIVITY_DBM:
                    continue
                rows.append({"x_m": round(float(x), 2), "y_m": round(float(y), 2),
                             "bssid": radio["bssid"], "ssid": radio["ssid"],
                             "channel": radio["channel"], "rssi_dbm": int(round(v)),
                             "freq_mhz": radio.get("freq_mhz"),
                             "width_mhz": radio.get("width_mhz", 20),
                             "timestamp": t.isoformat(), "device": device})
    return pd.DataFrame(rows)


def radios_of(plan, ssid, extra=None):
    out = []
    for a in plan.aps:
        d = {"ap": a, "bssid": a.bssid, "ssid": ssid, "channel": a.channel,
             "freq_mhz": 5000 + 5 * a.channel, "width_mhz": a.width_mhz}
        d.update((extra or {}).get(a.id, {}))
        out.append(d)
    return out


def measure(site, rng, pts, radios, offsets_db):
    """Mean received power [dBm] of every radio at the points, with shadowing."""
    aps = [replace(r["ap"], channel=r["channel"] if r["channel"] > 14 else r["ap"].channel)
           for r in radios]
    base = rssi_points_dbm(site, aps, pts[:, 0], pts[:, 1])
    return base + np.array(offsets_db)[:, None] + shadowing(rng, pts, len(radios))


def small_workshop():
    from wifiplan.plan import AP
    site, plan = load("small-workshop")
    rng = np.random.default_rng(101)
    pts = walk(site, np.arange(1.0, 25.0, 1.5), np.arange(1.0, 15.0, 1.5))
    radios = radios_of(plan, "FACTORY-WLAN")
    ap1 = plan.aps[0]
    # the same radio's 2.4 GHz interface: neighbouring MAC, our SSID, channel 6
    radios.append({"ap": ap1, "bssid": "02:1a:00:00:00:09", "ssid": "FACTORY-WLAN",
                   "channel": 6, "freq_mhz": 2437, "width_mhz": 20})
    # a foreign AP in the office on our channel 36
    guest = AP("guest", 2.0, 12.5, height_m=2.0, channel=36, tx_power_dbm=14.0)
    radios.append({"ap": guest, "bssid": "a4:5e:60:3c:91:d2", "ssid": "Office-Guest",
                   "channel": 36, "freq_mhz": 5180, "width_mhz": 20})
    # 2.4 GHz is about 7 dB stronger than 5 GHz at these distances
    mean = measure(site, rng, pts, radios, [0.0, 7.0, 0.0])
    df = scan_rows(rng, pts, radios, mean, "laptop-survey")
    df = df.drop(columns=["freq_mhz", "width_mhz"])
    # a driver placeholder and a repeated export row
    bad = df.iloc[[40]].copy()
    bad["rssi_dbm"] = 0
    df = pd.concat([df.iloc[:41], bad, df.iloc[41:120], df.iloc[[100]], df.iloc[120:]],
                   ignore_index=True)
    write_atomic(HERE / "small-workshop.csv", df.to_csv(index=False, lineterminator="\n"))
    return len(df)


def production_line_sjis():
    from wifiplan.plan import AP
    site, plan = load("production-line")
    rng = np.random.default_rng(202)
    pts = walk(site, np.arange(1.0, 70.0, 2.0), [1.5, 9.5, 11.0, 12.5, 20.5, 24.0, 28.0])
    extra = {"AP2": {"channel": 48, "freq_mhz": 5240},          # planned 44
             "AP3": {"width_mhz": 40, "freq_mhz": 5190}}        # planned 20 MHz
    radios = radios_of(plan, "工場無線LAN", extra)
    office = AP("office", 8.0, 27.0, height_m=2.5, channel=52, tx_power_dbm=14.0)
    radios.append({"ap": office, "bssid": "00:1d:73:8a:44:10", "ssid": "事務所ネットワーク",
                   "channel": 52, "freq_mhz": 5260, "width_mhz": 20})
    mean = measure(site, rng, pts, radios, [0.0] * len(radios))
    df = scan_rows(rng, pts, radios, mean, "ハンディ端末-01")
    df = df[["x_m", "y_m", "bssid", "ssid", "channel", "freq_mhz", "width_mhz", "rssi_dbm",
             "timestamp", "device"]]
    write_atomic(HERE / "production-line-sjis.csv",
                 df.to_csv(index=False, lineterminator="\r\n").encode("cp932"))
    return len(df)


def production_line_wide():
    site, plan = load("production-line")
    rng = np.random.default_rng(303)
    pts = walk(site, np.arange(1.0, 70.0, 3.0), np.arange(1.5, 30.0, 3.0))
    radios = radios_of(plan, "")
    mean = measure(site, rng, pts, radios, [0.0] * len(radios))
    cols = {"X": np.round(pts[:, 0], 2), "Y": np.round(pts[:, 1], 2)}
    apmap = {}
    for k, a in enumerate(plan.aps):
        v = np.round(mean[k] + FADING_DB * rng.standard_normal(len(pts)))
        v = np.where(v < SENSITIVITY_DBM, -200, v).astype(int)
        cols[f"{a.id} RSS(dBm)"] = v
        apmap[f"{a.id} RSS(dBm)"] = a.id
    df = pd.DataFrame(cols)
    write_atomic(HERE / "production-line-wide.csv", df.to_csv(index=False, lineterminator="\n"))
    write_atomic(HERE / "production-line-wide.apmap.yaml",
                 "# AP-column mapping of production-line-wide.csv: file column -> plan AP;\n"
                 "# -200 in a column means the AP was not heard at that point.\n"
                 + dump_yaml({"x_column": "X", "y_column": "Y", "not_heard": -200,
                              "aps": apmap}))
    return len(df)


def large_hall_wigle():
    site, plan = load("large-hall")
    rng = np.random.default_rng(404)
    # the assembly and welding areas: aisles between the lines, every 2 m
    pts = walk(site, np.arange(1.0, 100.0, 2.0), [3.0, 12.0, 24.0, 35.0, 50.0, 60.0])
    radios = radios_of(plan, "FACTORY-WLAN")
    offsets = [-20.0 if r["ap"].id == "AP2" else 0.0 for r in radios]
    mean = measure(site, rng, pts, radios, offsets)
    # the hall's floor frame is turned 23 degrees from east, origin at its south-west corner
    theta = np.radians(23.0)
    ref_xy = np.array([[0.0, 0.0], [240.0, 0.0], [0.0, 100.0], [170.0, 130.0]])
    lat0, lon0 = 35.17012, 136.88147
    m_per_deg_lat, m_per_deg_lon = 110950.0, 91110.0
    e = ref_xy[:, 0] * np.cos(theta) - ref_xy[:, 1] * np.sin(theta)
    n = ref_xy[:, 0] * np.sin(theta) + ref_xy[:, 1] * np.cos(theta)
    ref_lat = np.round(lat0 + n / m_per_deg_lat, 7)
    ref_lon = np.round(lon0 + e / m_per_deg_lon, 7)
    g = fit_georeference(ref_lat, ref_lon, ref_xy[:, 0], ref_xy[:, 1])
    names = ["SW corner", "SE corner", "NW corner", "warehouse N gable"]
    write_atomic(HERE / "large-hall-georef.yaml",
                 "# Reference points of the Large Assembly Hall: surveyed corners\n"
                 "# (latitude/longitude, WGS 84) and their floor coordinates.\n"
                 + dump_yaml({"transform": "similarity", "points": [
                     {"name": nm, "lat": float(la), "lon": float(lo), "x_m": float(x),
                      "y_m": float(y)} for nm, la, lo, (x, y) in
                     zip(names, ref_lat, ref_lon, ref_xy)]}))
    df = scan_rows(rng, pts, radios, mean, "Pixel 7", step_s=8)
    # indoor position error of the phone's fused location: 0.3 m, one fix per scan
    scan = pd.factorize(df["timestamp"])[0]
    jx, jy = 0.3 * rng.standard_normal((2, scan.max() + 1))
    lat, lon = g.to_latlon(df["x_m"].to_numpy() + jx[scan], df["y_m"].to_numpy() + jy[scan])
    w = pd.DataFrame({
        "MAC": df["bssid"], "SSID": df["ssid"], "AuthMode": "[WPA2-EAP-CCMP][ESS]",
        "FirstSeen": pd.to_datetime(df["timestamp"]).dt.strftime("%Y-%m-%d %H:%M:%S"),
        "Channel": df["channel"], "Frequency": df["freq_mhz"].astype(int),
        "RSSI": df["rssi_dbm"], "CurrentLatitude": np.round(lat, 8),
        "CurrentLongitude": np.round(lon, 8), "AltitudeMeters": 41.0,
        "AccuracyMeters": 3.0, "RCOIs": "", "MfgrId": "", "Type": "WIFI"})
    # Bluetooth beacons that the phone logs alongside
    ble = w.iloc[::97].copy()
    ble["MAC"] = "c4:7c:8d:6a:0e:21"
    ble["SSID"] = "MX Master 3"
    ble["AuthMode"] = "Misc [LE]"
    ble["Channel"] = 0
    ble["Frequency"] = 0
    ble["RSSI"] = -71
    ble["Type"] = "BLE"
    w = pd.concat([w, ble]).sort_index(kind="stable").reset_index(drop=True)
    pre = ("WigleWifi-1.6,appRelease=2.70,model=Pixel 7,release=14,device=panther,"
           "display=UQ1A.240205.004,board=panther,brand=google,star=Sol,body=3,subBody=0\n")
    write_atomic(HERE / "large-hall-wigle.csv",
                 pre + w.to_csv(index=False, lineterminator="\n"))
    return len(w)


def main():
    for fn in (small_workshop, production_line_sjis, production_line_wide, large_hall_wigle):
        print(f"{fn.__name__}: {fn()} rows")


if __name__ == "__main__":
    main()
