"""Capacity model: MCS table, terminal profiles, airtime per cell."""
import math

import numpy as np
import pytest

from wifiplan.capacity import (DEFAULT_MAC_EFFICIENCY, MCS_TABLE, cell_load, mcs_index,
                               phy_rate_mbps, terminal_profiles)
from wifiplan.errors import InputError
from wifiplan.plan import AP
from wifiplan.radio.radiomap import compute_radiomap
from wifiplan.site import parse_site

RATES = [8.6, 17.2, 25.8, 34.4, 51.6, 68.8, 77.4, 86.0, 103.2, 114.7, 129.0, 143.4]
SENS = [-82, -79, -77, -74, -70, -66, -65, -64, -59, -57, -54, -52]


def test_mcs_table_matches_design():
    assert [m.rate_mbps for m in MCS_TABLE] == RATES
    assert [m.min_rssi_dbm for m in MCS_TABLE] == SENS
    assert [m.index for m in MCS_TABLE] == list(range(12))


def test_phy_rate_steps_exactly_at_sensitivities():
    # at each sensitivity the MCS is reached; 0.01 dB below, the one before
    at = phy_rate_mbps(np.array(SENS, float))
    below = phy_rate_mbps(np.array(SENS, float) - 0.01)
    assert at.tolist() == RATES
    assert below.tolist() == [0.0] + RATES[:-1]
    assert phy_rate_mbps(-20.0) == 143.4
    assert phy_rate_mbps(-82.5) == 0.0
    assert mcs_index([-100, -70, -69.9, np.nan]).tolist() == [-1, 4, 4, -1]
    assert phy_rate_mbps(np.zeros((2, 3)) - 60).shape == (2, 3)


def _site(extra="", zone_terms="{handheld: 1}", size=20):
    return parse_site(f"""
name: t
outline: [[0, 0], [{size}, 0], [{size}, {size}], [0, {size}]]
zones:
  - name: floor
    polygon: [[0, 0], [{size}, 0], [{size}, {size}], [0, {size}]]
    terminals: {zone_terms}
{extra}
""", source="t.yaml")


def test_profiles_defaults_and_overrides():
    p = terminal_profiles(_site())
    assert p["handheld"]["uplink_mbps"] > 0 and p["thinklet"]["uplink_mbps"] > 0
    s = _site("terminal_profiles: {thinklet: {uplink_mbps: 8}, agv: {uplink_mbps: 0.5}}",
              "{agv: 2}")
    p = terminal_profiles(s)
    assert p["thinklet"]["uplink_mbps"] == 8.0
    assert p["agv"] == {"uplink_mbps": 0.5, "downlink_mbps": 0.0}


@pytest.mark.parametrize("extra, terms, key", [
    ("terminal_profiles: {thinklet: {uplink_mbs: 8}}", "{thinklet: 1}",
     "terminal_profiles.thinklet.uplink_mbs"),
    ("terminal_profiles: {thinklet: {uplink_mbps: -1}}", "{thinklet: 1}",
     "terminal_profiles.thinklet.uplink_mbps"),
    ("terminal_profiles: {agv: {downlink_mbps: 1}}", "{agv: 1}", "terminal_profiles.agv"),
    ("", "{forklift: 1}", "zones[0].terminals.forklift"),
])
def test_profiles_bad_input_names_key(extra, terms, key):
    with pytest.raises(InputError) as ei:
        terminal_profiles(_site(extra, terms))
    assert ei.value.key == key
    assert "t.yaml" in str(ei.value)


def test_cell_load_single_cell_figures():
    site = _site(zone_terms="{handheld: 2, thinklet: 1}")
    ap = AP("AP1", 10, 10, height_m=4, channel=36, tx_power_dbm=5)
    rm = compute_radiomap(site, [ap], resolution_m=1.0)
    df = cell_load(site, rm)
    row = df.iloc[0]
    assert row.terminals == pytest.approx(3.0)
    assert row.demand_mbps == pytest.approx(2 * 2.2 + 5.2)
    med = float(np.median(rm.best_rssi_dbm[rm.zone_index >= 0]))
    assert row.phy_rate_mbps == phy_rate_mbps(med)
    assert row.airtime == pytest.approx(9.6 / (row.phy_rate_mbps * DEFAULT_MAC_EFFICIENCY))
    assert row.ok
    assert df.attrs["summary"]["ok"]


def test_cell_load_splits_zone_by_served_area():
    site = _site(zone_terms="{handheld: 4}")
    aps = [AP("AP1", 5, 10, channel=36, tx_power_dbm=5),
           AP("AP2", 15, 10, channel=44, tx_power_dbm=5)]
    df = cell_load(site, compute_radiomap(site, aps, resolution_m=1.0))
    assert df.terminals.tolist() == pytest.approx([2.0, 2.0])
    assert df.demand_mbps.sum() == pytest.approx(4 * 2.2)


def test_cell_load_fails_overloaded_cell_with_figures():
    site = _site(zone_terms="{thinklet: 14}")
    rm = compute_radiomap(site, [AP("AP1", 10, 10, tx_power_dbm=8)], resolution_m=1.0)
    df = cell_load(site, rm)
    s = df.attrs["summary"]
    assert not df.ok.iloc[0] and not s["ok"]
    assert df.airtime.iloc[0] > 0.5
    assert df.demand_mbps.iloc[0] == pytest.approx(14 * 5.2)
    assert s["cells_over_budget"] == 1
    msg = s["failures"][0]
    assert "AP1" in msg and "72.8 Mb/s" in msg and "budget 50%" in msg


def test_zone_below_mcs0_is_unserved_not_cell_load():
    # a zone entirely out of reach (below MCS0) is a coverage failure of the site: its
    # terminals cannot connect, so they load no cell, and the summary fails on the zone
    far = _site(zone_terms="{handheld: 1}", size=60)
    rm = compute_radiomap(far, [AP("AP1", 1, 1, tx_power_dbm=-60)], resolution_m=3.0)
    assert float(rm.best_rssi_dbm[rm.zone_index >= 0].max()) < -82
    df = cell_load(far, rm)
    assert df.airtime.iloc[0] == 0 and df.ok.iloc[0]
    summary = df.attrs["summary"]
    assert summary["unserved_zones"] == [far.zones[0].name] and not summary["ok"]
    # partly reachable (most points below MCS0): the terminals load the cell at the rate
    # of the points where they can connect, a finite airtime
    rm2 = compute_radiomap(far, [AP("AP1", 1, 1, tx_power_dbm=-14)], resolution_m=3.0)
    assert np.median(rm2.best_rssi_dbm[rm2.zone_index >= 0]) < -82
    df2 = cell_load(far, rm2)
    assert math.isfinite(df2.airtime.iloc[0]) and df2.airtime.iloc[0] > 0
    assert df2.attrs["summary"]["unserved_zones"] == []


def test_cell_load_argument_checks():
    site = _site()
    with pytest.raises(InputError):
        cell_load(site, [AP("AP1", 10, 10)], airtime_budget=1.5)
    with pytest.raises(InputError):
        cell_load(site, [AP("AP1", 10, 10)], mac_efficiency=0)


def test_cell_load_of_some_zones_counts_only_their_terminals():
    site = parse_site("""
name: t
outline: [[0, 0], [40, 0], [40, 10], [0, 10]]
zones:
  - name: a
    polygon: [[0, 0], [20, 0], [20, 10], [0, 10]]
    terminals: {handheld: 2}
  - name: b
    polygon: [[20, 0], [40, 0], [40, 10], [20, 10]]
    terminals: {thinklet: 3}
""")
    rm = compute_radiomap(site, [AP("AP1", 20, 5, tx_power_dbm=10)], resolution_m=1.0)
    whole, only_a = cell_load(site, rm), cell_load(site, rm, zones=["a"])
    assert whole.terminals.iloc[0] == pytest.approx(5.0)
    assert only_a.terminals.iloc[0] == pytest.approx(2.0)
    assert only_a.demand_mbps.iloc[0] == pytest.approx(2 * 2.2)     # handheld: 2 + 0.2 Mb/s
    assert only_a.zones.iloc[0] == "a"
    s = only_a.attrs["summary"]
    assert s["total_terminals"] == 2 and s["total_demand_mbps"] == pytest.approx(4.4)


def test_point_airtime_spreads_each_zone_demand_over_its_points_and_budget():
    """4 handheld (4 x 2.2 Mb/s) in a 20 x 20 m zone at 1 m: each of its N points weighs
    8.8 / (N x 0.5 x 0.6) Mb/s; a zone with no terminals weighs nothing, and with none
    anywhere the weights are None. One AP serving every point: the weights over the
    cell's median rate sum to its airtime (cell_load) over the 50 % budget."""
    from wifiplan.capacity import point_airtime
    from wifiplan.evaluation import required_points
    site = _site(zone_terms="{handheld: 4}")
    rp = required_points(site, 1.0)
    air = point_airtime(site, rp.zone)
    n = int((rp.zone == 0).sum())
    assert n == rp.n and air == pytest.approx(np.full(n, 8.8 / (n * 0.5 * 0.6)))
    assert point_airtime(site, np.full(3, -1)) is None
    assert point_airtime(_site(zone_terms="{}"), rp.zone) is None
    rm = compute_radiomap(site, [AP("AP1", 10, 10, height_m=4, channel=36, tx_power_dbm=5)],
                          resolution_m=1.0)
    med = float(np.median(rm.best_rssi_dbm[rp.iy, rp.ix]))
    assert float((air / phy_rate_mbps(med)).sum()) == pytest.approx(
        cell_load(site, rm).loc[0, "airtime"] / 0.5, rel=1e-9)
