"""Cell capacity: PHY rate from received power, terminal demand, and airtime per cell.

A cell carries its terminals when the airtime they need stays within a budget (DESIGN.md
section 6: airtime use under 50 %). For one cell::

    airtime = sum over its terminals of  demand_mbps / (phy_rate_mbps * mac_efficiency)

with the PHY rate taken from the 802.11ax MCS the predicted RSSI supports (table below).

MCS table
---------
802.11ax (HE) single-user PPDU, 20 MHz (242-tone RU), one spatial stream, 0.8 us guard
interval: the data rates of the HE-MCS tables of IEEE Std 802.11ax-2021 clause 27 (Table
27-* series, "HE-MCSs for 242-tone RU, NSS = 1"), and per MCS the receiver minimum input
sensitivity for a 20 MHz PPDU from the same clause (receiver minimum input sensitivity
table, 10 % PER with 4096-octet PSDUs). Vendors quote sensitivity the same way (the
standard's minimum level, a real receiver being a few dB better), so an AP or terminal
datasheet's "MCS7 @ -64 dBm" lines up with this table. Treating these minimum levels as the
RSSI at which an MCS becomes usable is the usual planning convention and errs on the safe
side (DESIGN.md section 6 lists the same figures).

Terminal profiles
-----------------
Each terminal type has an uplink (and a small downlink) demand in Mb/s; the defaults are in
:data:`DEFAULT_TERMINAL_PROFILES`, and a site may override or add types under its
``terminal_profiles:`` key, e.g. ``terminal_profiles: {thinklet: {uplink_mbps: 8}}``.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Polygon

from .site import Site
from .errors import InputError
from .radio.radiomap import RadioMap, compute_radiomap
from .rules import AIRTIME_BUDGET, NOISE_FLOOR_DBM

# ---- MCS table ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Mcs:
    index: int
    modulation: str
    coding_rate: str
    rate_mbps: float            # PHY data rate [Mb/s], 20 MHz, 1 SS, 0.8 us GI
    min_rssi_dbm: float         # receiver minimum input sensitivity, 20 MHz [dBm]


MCS_TABLE: tuple[Mcs, ...] = (
    Mcs(0, "BPSK", "1/2", 8.6, -82.0),
    Mcs(1, "QPSK", "1/2", 17.2, -79.0),
    Mcs(2, "QPSK", "3/4", 25.8, -77.0),
    Mcs(3, "16-QAM", "1/2", 34.4, -74.0),
    Mcs(4, "16-QAM", "3/4", 51.6, -70.0),
    Mcs(5, "64-QAM", "2/3", 68.8, -66.0),
    Mcs(6, "64-QAM", "3/4", 77.4, -65.0),
    Mcs(7, "64-QAM", "5/6", 86.0, -64.0),
    Mcs(8, "256-QAM", "3/4", 103.2, -59.0),
    Mcs(9, "256-QAM", "5/6", 114.7, -57.0),
    Mcs(10, "1024-QAM", "3/4", 129.0, -54.0),
    Mcs(11, "1024-QAM", "5/6", 143.4, -52.0),
)
MCS_RATE_MBPS = np.array([m.rate_mbps for m in MCS_TABLE])
MCS_MIN_RSSI_DBM = np.array([m.min_rssi_dbm for m in MCS_TABLE])

# Share of the PHY rate left as goodput for one 20 MHz 1-SS station with A-MPDU aggregation
# and block acknowledgement: preamble, SIFS/AIFS, backoff, the BlockAck and the TCP/IP and
# TLS headers cost roughly a third of the airtime at mid MCS with a handful of contending
# stations (measured uplink TCP throughput of 1-SS 802.11ax clients is typically 60-70 % of
# the PHY rate). 0.6 is the conservative end.
DEFAULT_MAC_EFFICIENCY = 0.6


def mcs_index(rssi_dbm) -> np.ndarray:
    """Highest 802.11ax MCS (0..11) whose minimum sensitivity ``rssi_dbm`` [dBm] reaches;
    -1 below MCS0. Vectorised; NaN gives -1."""
    r = np.asarray(rssi_dbm, float)
    idx = np.searchsorted(MCS_MIN_RSSI_DBM, np.nan_to_num(r, nan=-np.inf), side="right") - 1
    return idx.astype(int)


def phy_rate_mbps(rssi_dbm) -> np.ndarray:
    """PHY data rate [Mb/s] at received power ``rssi_dbm`` [dBm]: the rate of the highest
    MCS of :data:`MCS_TABLE` whose sensitivity is met, 0 below MCS0 (-82 dBm).

    >>> phy_rate_mbps([-90, -82, -65.5, -64, -40]).tolist()
    [0.0, 8.6, 68.8, 86.0, 143.4]
    """
    idx = mcs_index(rssi_dbm)
    rates = np.where(idx >= 0, MCS_RATE_MBPS[np.clip(idx, 0, None)], 0.0)
    return rates if np.ndim(rates) else float(rates)


def phy_rate_at_sinr_mbps(sinr_db) -> np.ndarray:
    """PHY data rate [Mb/s] at a signal to interference plus noise ratio ``sinr_db`` [dB]:
    :func:`phy_rate_mbps` of :data:`NOISE_FLOOR_DBM` + SINR, i.e. the MCS table's minimum
    sensitivities read as SNRs over the -95 dBm noise floor of :mod:`wifiplan.rules` (MCS0
    at 13 dB, MCS7 at 31 dB, MCS11 at 43 dB). Without interference the SINR is the SNR and
    this is the rate of the received power itself; same-channel interference lowers it.

    >>> phy_rate_at_sinr_mbps([10, 13, 25, 43]).tolist()
    [0.0, 8.6, 51.6, 143.4]
    """
    return phy_rate_mbps(NOISE_FLOOR_DBM + np.asarray(sinr_db, float))


def sinr_for_rate_db(rate_mbps) -> np.ndarray:
    """The lowest SINR [dB] at which :func:`phy_rate_at_sinr_mbps` reaches ``rate_mbps``
    [Mb/s]: the sensitivity of the slowest MCS of :data:`MCS_TABLE` at or above that rate,
    minus the noise floor; +inf above the fastest MCS, -inf for 0 (always met), NaN for NaN
    (no requirement).

    >>> sinr_for_rate_db([8.6, 24.0, 51.6, 200.0, 0.0]).tolist()
    [13.0, 18.0, 25.0, inf, -inf]
    """
    r = np.asarray(rate_mbps, float)
    idx = np.searchsorted(MCS_RATE_MBPS, np.nan_to_num(r, nan=0.0) - 1e-9, side="left")
    out = np.where(idx < len(MCS_TABLE),
                   MCS_MIN_RSSI_DBM[np.clip(idx, 0, len(MCS_TABLE) - 1)] - NOISE_FLOOR_DBM,
                   np.inf)
    out = np.where(r <= 0, -np.inf, out)
    return np.where(np.isnan(r), np.nan, out)


# ---- terminal profiles ---------------------------------------------------------------------

#: Demand per terminal [Mb/s]. How the figures were derived:
#:
#: - ``handheld``: a handheld terminal (scanner or rugged phone) uploads inspection photos:
#:   a 2 MB JPEG (8-12 MP camera at normal quality) every 10 s during a busy task is
#:   1.6 Mb/s of payload; with HTTP/TLS/TCP overhead and retries about 2 Mb/s uplink. The
#:   downlink (acknowledgements, job lists) is small: 0.2 Mb/s.
#: - ``thinklet``: a THINKLET wearable camera streams video to the backend: 1080p H.264 at
#:   30 fps is typically encoded at about 4 Mb/s; with RTP/TLS framing and the burstiness of
#:   key frames, 5 Mb/s uplink is planned per stream (still images in between fit within
#:   it). Downlink 0.2 Mb/s (control, audio prompts).
DEFAULT_TERMINAL_PROFILES: dict[str, dict] = {
    "handheld": {"uplink_mbps": 2.0, "downlink_mbps": 0.2,
                 "description": "handheld terminal: image uploads (2 MB JPEG every 10 s)"},
    "thinklet": {"uplink_mbps": 5.0, "downlink_mbps": 0.2,
                 "description": "THINKLET wearable camera: 1080p30 H.264 video stream"},
}
PROFILE_KEYS = {"uplink_mbps": "an uplink demand in Mb/s",
                "downlink_mbps": "a downlink demand in Mb/s",
                "description": None}


def terminal_profiles(site: Site) -> dict[str, dict]:
    """The defaults updated by the site's ``terminal_profiles:`` key, validated.

    Raises :class:`InputError` naming ``terminal_profiles.<type>.<key>`` for an unknown key
    or a bad number, and ``zones[i].terminals.<type>`` for a terminal type with no profile.
    """
    import difflib
    src = getattr(site, "source", None)
    raw = getattr(site, "terminal_profiles", None) or {}
    if not isinstance(raw, dict):
        raise InputError("expected a mapping of terminal type -> profile", source=src,
                         key="terminal_profiles")
    out = copy.deepcopy(DEFAULT_TERMINAL_PROFILES)
    for ttype, prof in raw.items():
        key = f"terminal_profiles.{ttype}"
        if not isinstance(prof, dict):
            raise InputError(f"expected a mapping with uplink_mbps (and downlink_mbps), got "
                             f"{prof!r}", source=src, key=key)
        entry = out.setdefault(str(ttype), {"uplink_mbps": None, "downlink_mbps": 0.0})
        for k, v in prof.items():
            if k not in PROFILE_KEYS:
                close = difflib.get_close_matches(str(k), sorted(PROFILE_KEYS), n=1, cutoff=0.6)
                raise InputError(f"unknown key '{k}'" + (f" (did you mean '{close[0]}'?)" if close
                                 else f", expected one of {', '.join(sorted(PROFILE_KEYS))}"),
                                 source=src, key=f"{key}.{k}")
            if PROFILE_KEYS[k] is None:
                entry[k] = str(v)
                continue
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) \
                    or v < 0:
                raise InputError(f"expected {PROFILE_KEYS[k]} (a number >= 0), got {v!r}",
                                 source=src, key=f"{key}.{k}")
            entry[k] = float(v)
        if entry.get("uplink_mbps") is None:
            raise InputError("missing required key 'uplink_mbps'", source=src, key=key)
        entry.setdefault("downlink_mbps", 0.0)
    for i, z in enumerate(getattr(site, "zones", [])):
        for ttype in z.terminals:
            if ttype not in out:
                close = difflib.get_close_matches(str(ttype), sorted(out), n=1, cutoff=0.6)
                raise InputError(
                    f"terminal type '{ttype}' has no profile"
                    + (f" (did you mean '{close[0]}'?)" if close else "")
                    + f"; known types: {', '.join(sorted(out))}, or add it under "
                      f"terminal_profiles", source=src, key=f"zones[{i}].terminals.{ttype}")
    return out


def terminal_demand_mbps(profile: dict) -> float:
    """Airtime-relevant demand of one terminal [Mb/s]: uplink plus downlink."""
    return float(profile.get("uplink_mbps") or 0.0) + float(profile.get("downlink_mbps") or 0.0)


# ---- cell load -----------------------------------------------------------------------------


def point_airtime(site: Site, zone_of, zones=None,
                  mac_efficiency: float = DEFAULT_MAC_EFFICIENCY) -> np.ndarray | None:
    """Each point's airtime weight [Mb/s] for points in zones ``zone_of`` (zone index per
    point, -1: none): its zone's demand spread evenly over the zone's points, over the
    zone's airtime budget and ``mac_efficiency``, so that a cell is within its budget when
    the sum over the points it serves of weight / PHY rate [Mb/s] is at most 1. This is
    the airtime of :func:`cell_load` with each point's own rate in place of the median rate
    of the cell's part of a zone (a planner's quick estimate; the plan is judged by
    :func:`cell_load`). ``zones``: the names of the zones whose terminals count (default:
    all). None when no counted zone has terminals."""
    zone_of = np.asarray(zone_of, int)
    prof = terminal_profiles(site)
    out = np.zeros(len(zone_of))
    for k, z in enumerate(site.zones):
        if z.terminal_count == 0 or (zones is not None and z.name not in zones):
            continue
        mine = zone_of == k
        if not mine.any():
            continue
        demand = sum(n * terminal_demand_mbps(prof[t]) for t, n in z.terminals.items())
        out[mine] = demand / (mine.sum() * float(z.airtime_budget) * mac_efficiency)
    return out if out.any() else None


def cell_load(site: Site, radiomap, airtime_budget: float | None = None,
              mac_efficiency: float = DEFAULT_MAC_EFFICIENCY, *, model=None,
              resolution_m: float = 1.0, zones=None) -> pd.DataFrame:
    """Terminals, demand and airtime of every cell of a plan.

    Parameters
    ----------
    site : Site
    radiomap : RadioMap, or a Plan or list of APs (a map is then computed at
        ``resolution_m`` [m] with ``model``).
    airtime_budget : share of airtime a cell may use (0..1]; default (None): each cell the
        strictest ``airtime_budget`` of the zones it serves (the zones' requirement
        contract, :mod:`wifiplan.requirements`; 0.5 unless a zone says otherwise).
    mac_efficiency : goodput / PHY rate (0..1], default :data:`DEFAULT_MAC_EFFICIENCY`.
    zones : names of the zones whose terminals load the cells (default: every zone): a plan
        for some zones only is judged by their terminals, not by those of zones it was not
        planned for.

    Method (the choices, stated):

    - Each zone's terminals are spread evenly over the zone's own area (overlapping zones
      each spread their own); a cell takes the share of
      a zone's terminals equal to the share of the zone's grid points it is the best server
      of (a terminal associates with the strongest AP). Shares are fractional: 3 terminals
      over two equal halves load each cell with 1.5.
    - The PHY rate of a cell in a zone is the rate of the **median** best-server RSSI over
      the zone points it serves (the MCS table above); the median is robust to the few
      points right under the AP or at the far edge. The ``phy_rate_mbps`` column is the
      median over all zone points the cell serves.
    - ``airtime = sum over zones and types of n * demand / (rate_zone * mac_efficiency)``,
      where demand is uplink + downlink of the type's profile. A zone part served below
      MCS0 needs infinite airtime. ``ok`` is ``airtime <= airtime_budget``.
    - Rates follow received power only; co-channel interference is judged separately
      (co-channel separation in :mod:`wifiplan.evaluation`).

    Returns
    -------
    pandas.DataFrame with one row per AP: ``ap_id, channel, zones, terminals,
    terminals_by_type, demand_mbps, phy_rate_mbps, mcs, airtime, airtime_budget,
    capacity_mbps`` (the demand the cell could carry within budget at its rate mix),
    ``ok``. ``frame.attrs["summary"]`` holds the site level: ``cells, cells_over_budget,
    total_terminals, total_demand_mbps, max_airtime, airtime_budget, mac_efficiency, ok``,
    and ``failures`` (one readable line per overloaded cell, with its figures).
    """
    if airtime_budget is not None and not (0 < airtime_budget <= 1):
        raise InputError(f"airtime budget must be in (0, 1], got {airtime_budget}")
    if not (0 < mac_efficiency <= 1):
        raise InputError(f"MAC efficiency must be in (0, 1], got {mac_efficiency}")
    profiles = terminal_profiles(site)
    if not isinstance(radiomap, RadioMap):
        aps = radiomap.aps if hasattr(radiomap, "aps") else list(radiomap)
        radiomap = compute_radiomap(site, aps, resolution_m=resolution_m, model=model)
    rm = radiomap
    n_ap = len(rm.aps)
    best = rm.best_server
    best_rssi = rm.best_rssi_dbm
    types = sorted({t for z in site.zones for t in z.terminals})

    terminals = np.zeros((n_ap, len(types)))
    demand = np.zeros(n_ap)
    airtime = np.zeros(n_ap)
    zone_names: list[list[str]] = [[] for _ in range(n_ap)]
    unserved: list[str] = []
    X, Y = np.meshgrid(rm.xs, rm.ys)
    in_zone = np.zeros(best.shape, bool)
    for k, z in enumerate(site.zones):
        if z.terminal_count == 0 or (zones is not None and z.name not in zones):
            continue
        # the zone's own grid points (overlapping zones each spread their own terminals)
        sel = shapely.contains_xy(Polygon(z.polygon), X, Y) & rm.mask
        if not sel.any():           # a zone smaller than a grid cell: its nearest point
            rp = Polygon(z.polygon).representative_point()
            sel = np.zeros_like(sel)
            sel[int(np.argmin(np.abs(rm.ys - rp.y))), int(np.argmin(np.abs(rm.xs - rp.x)))] = True
        in_zone |= sel
        npts = int(sel.sum())
        if z.terminal_count == 0:
            continue
        if npts == 0 or n_ap == 0:
            unserved.append(z.name)
            continue
        # terminals work where they can connect: points below MCS0 are coverage holes
        # (reported by the coverage metrics), not load on the cell that hears them faintly
        conn = best_rssi[sel] >= MCS_MIN_RSSI_DBM[0]
        if not conn.any():
            unserved.append(z.name)
            continue
        npts = int(conn.sum())
        srv = best[sel][conn]
        rs = best_rssi[sel][conn]
        zone_demand = {t: z.terminals.get(t, 0) * terminal_demand_mbps(profiles[t])
                       for t in types}
        for a in np.unique(srv):
            if a < 0:
                continue
            mine = srv == a
            share = mine.sum() / npts
            rate = float(phy_rate_mbps(float(np.median(rs[mine]))))
            zone_names[a].append(z.name)
            d = 0.0
            for j, t in enumerate(types):
                terminals[a, j] += share * z.terminals.get(t, 0)
                d += share * zone_demand[t]
            demand[a] += d
            airtime[a] += (d / (rate * mac_efficiency)) if rate > 0 else (math.inf if d > 0 else 0)

    zone_budget = {z.name: float(z.airtime_budget) for z in site.zones}
    rows = []
    for a, ap in enumerate(rm.aps):
        budget = (float(airtime_budget) if airtime_budget is not None else
                  min((zone_budget[n] for n in zone_names[a]), default=AIRTIME_BUDGET))
        served = (best == a) & in_zone & (best_rssi >= MCS_MIN_RSSI_DBM[0])
        med = float(np.median(best_rssi[served])) if served.any() else float("nan")
        rate = float(phy_rate_mbps(med)) if served.any() else 0.0
        mcs = int(mcs_index(med)) if served.any() else -1
        at = float(airtime[a])
        cap = (budget * demand[a] / at) if at > 0 and math.isfinite(at) else \
            (budget * rate * mac_efficiency if at == 0 else 0.0)
        rows.append({
            "ap_id": ap.id, "channel": int(ap.channel), "zones": ", ".join(zone_names[a]),
            "terminals": float(terminals[a].sum()),
            "terminals_by_type": {t: round(float(terminals[a, j]), 3)
                                  for j, t in enumerate(types) if terminals[a, j] > 0},
            "demand_mbps": float(demand[a]), "phy_rate_mbps": rate, "mcs": mcs,
            "airtime": at, "airtime_budget": budget,
            "capacity_mbps": float(cap), "ok": bool(at <= budget)})
    cols = ["ap_id", "channel", "zones", "terminals", "terminals_by_type", "demand_mbps",
            "phy_rate_mbps", "mcs", "airtime", "airtime_budget", "capacity_mbps", "ok"]
    frame = pd.DataFrame(rows, columns=cols)
    failures = [
        f"{r.ap_id}: {r.terminals:.1f} terminals ({_mix(r.terminals_by_type)}) need "
        f"{r.demand_mbps:.1f} Mb/s at a median PHY rate of {r.phy_rate_mbps:.1f} Mb/s "
        f"(MCS{r.mcs}): airtime {_pct(r.airtime)} > budget {r.airtime_budget:.0%} "
        + (f"(the cell carries {r.capacity_mbps:.1f} Mb/s)" if math.isfinite(r.airtime) else
           "(part of its zone area is served below MCS0, -82 dBm: no usable rate there)")
        for r in frame.itertuples() if not r.ok]
    failures += [f"zone {n}: terminals but no AP serves it" for n in unserved]
    finite = frame["airtime"][np.isfinite(frame["airtime"])] if n_ap else frame["airtime"]
    counted = [z for z in site.zones if zones is None or z.name in zones]
    frame.attrs["summary"] = {
        "cells": n_ap,
        "cells_over_budget": int((~frame["ok"]).sum()) if n_ap else 0,
        "total_terminals": int(sum(z.terminal_count for z in counted)),
        "total_demand_mbps": float(sum(z.terminals.get(t, 0) * terminal_demand_mbps(profiles[t])
                                       for z in counted for t in z.terminals)),
        "max_airtime": (float(frame["airtime"].max()) if n_ap else 0.0),
        "max_finite_airtime": (float(finite.max()) if len(finite) else 0.0),
        "airtime_budget": (float(frame["airtime_budget"].min()) if n_ap else
                           float(airtime_budget if airtime_budget is not None
                                 else AIRTIME_BUDGET)),
        "mac_efficiency": float(mac_efficiency),
        "unserved_zones": unserved,
        "ok": bool((frame["ok"].all() if n_ap else site.terminal_count == 0) and not unserved),
        "failures": failures,
    }
    return frame


def _mix(by_type: dict) -> str:
    return ", ".join(f"{v:g} {k}" for k, v in by_type.items()) or "none"


def _pct(v: float) -> str:
    return "inf" if not math.isfinite(v) else f"{v:.0%}"
