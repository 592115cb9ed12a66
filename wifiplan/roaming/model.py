"""A terminal walking a route: association, re-scan, roams, outages and the resend queue.

The terminal model (:class:`TerminalModel`, seed 8.1.3.5-8.1.3.6)
-----------------------------------------------------------------
The route is sampled every ``step_m`` of walking (time = distance / speed). At each sample
the received power of every AP of the plan comes from the site's propagation model at that
exact point (:func:`wifiplan.radio.propagation.rssi_points_dbm`, not a grid), optionally
with log-normal shadowing (below). Between samples the power is interpolated linearly in
dB, so that events fall at their time, not at the next sample.

- The terminal starts on the strongest AP and **stays** on it (sticky) while its AP is at
  or above the re-scan threshold, the seed's minimum RSSI
  (:data:`wifiplan.rules.ROAM_THRESHOLD_DBM`, -70 dBm; iOS uses the same trigger: Apple,
  "Wi-Fi roaming support in Apple devices", Platform Deployment guide).
- When its AP falls below the threshold it **scans** (``scan_s``) while still associated,
  and then **roams** to the strongest AP if that AP is stronger than its own by the
  ``hysteresis_db``; otherwise it stays and scans again ``rescan_interval_s`` later while it
  stays below the threshold.
- A roam costs a **hand-over** of ``handover_s``: with 802.11r fast BSS transition the
  reassociation carries the keys (IEEE Std 802.11r-2008, whose design target for voice is
  a 50 ms transition: :data:`FT_HANDOVER_S`); without it the terminal authenticates in full
  (802.1X/EAP and the 4-way handshake) before data flows again, measured at a few hundred
  ms to over a second (Mishra, Shin and Arbaugh, "An empirical analysis of the IEEE 802.11
  MAC layer handoff process", ACM SIGCOMM CCR 33(2), 2003, for the layer-2 part, 53-420
  ms, plus the EAP exchange with the RADIUS server): :data:`FULL_HANDOVER_S`.
- When its AP falls below the **usable minimum** (the lowest MCS's minimum sensitivity of
  802.11ax, :data:`wifiplan.capacity.MCS_TABLE`, -82 dBm: no frame is decoded below it) the
  link is **lost**; the terminal scans and associates to the strongest AP as soon as one is
  usable again (no hysteresis), which costs ``scan_s + handover_s``.
- **Outage** is the time with no usable link: link lost, or inside a hand-over.

Figures per route (the names of ``wifiplan logs analyze`` where both have them)
--------------------------------------------------------------------------------
``roams``, ``roams_per_hour``, ``ping_pong_roams`` (a roam A -> B followed by the next roam
B -> A at most ``ping_pong_window_s`` later: 10 s, the window of the log analysis,
:data:`wifiplan.logs.PING_PONG_WINDOW_S`, and of the phase-4 monitoring table, so that a
simulated walk and a measured log count alike), ``sticky_episodes`` and ``sticky_s``
(stretches associated to an AP weaker than the best by more than the hysteresis; the log
analysis's own sticky rule, -75 dBm and 6 dB for 10 s, is a finding rule of a measured log,
this one the model's cost of its hysteresis), ``seconds_below_70_dbm`` (time on an AP below
the re-scan threshold or with no link), ``outage_s``, ``longest_outage_s``, the serving AP
along the way (``serving``), the roam events, and the **resend queue** the route's terminal
needs to lose nothing (seed 8.1.3.5: the application queues and resends while the signal is
bad): its uplink rate (:func:`wifiplan.capacity.terminal_profiles`) times the longest outage,
in bytes and in 1500-byte packets (an Ethernet MTU, IEEE 802.3).

Shadowing (optional, off by default)
------------------------------------
``shadowing_db`` > 0 adds log-normal shadowing of that standard deviation per AP, correlated
along the walk with an exponential autocorrelation exp(-d / ``shadowing_corr_m``)
(Gudmundson, "Correlation model for shadow fading in mobile radio systems", Electronics
Letters 27(23), 1991, eq. 1), drawn as a first-order autoregressive sequence from
``seed``; 3GPP TR 38.901 Table 7.4.1-1 gives 4.0-7.2 dB for the indoor-factory scenarios
and Table 7.5-6 a 10 m correlation distance. Off, the walk is deterministic.
"""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass

import numpy as np

from ..capacity import MCS_TABLE, terminal_profiles
from ..errors import InputError
from ..radio.propagation import Geometry, PropagationModel, rssi_points_dbm
from ..routes import Route, sample_route, site_routes
from ..rules import ROAM_THRESHOLD_DBM

#: Hysteresis a candidate AP must beat the serving AP by [dB]: wpa_supplicant, the
#: supplicant of Android and Linux terminals (THINKLET runs Android), asks 5 dB of a
#: candidate while the current AP is at -70 dBm or better and 4 dB down to -75 dBm
#: (hostap ``wpa_supplicant/events.c``, ``wpa_supplicant_need_to_roam_within_ess``); iOS asks
#: 8 dB of an active terminal (Apple, "Wi-Fi roaming support in Apple devices").
DEFAULT_HYSTERESIS_DB = 5.0
#: Hand-over with 802.11r fast BSS transition [s] (IEEE Std 802.11r-2008: 50 ms target).
FT_HANDOVER_S = 0.05
#: Hand-over with a full 802.1X/EAP authentication and 4-way handshake [s] (Mishra et al.
#: 2003: 53-420 ms at layer 2; the EAP exchange adds hundreds of ms): the middle of the
#: 0.3-1 s usually seen.
FULL_HANDOVER_S = 0.5
#: Time of one active-scan dwell on a channel [s] (the MLME-SCAN max channel time of
#: common client firmware, 20-40 ms; Mishra et al. 2003 measured the probe phase at 40-300
#: ms over all channels).
SCAN_DWELL_S = 0.04
#: Channels scanned with an 802.11k neighbour report (the neighbours' channels: three of a
#: four-channel reuse) and without one (the seed's eight non-DFS channels).
SCAN_CHANNELS_11K = 3
SCAN_CHANNELS_FULL = 8
#: Re-scan period while the terminal stays below the threshold with no better AP [s]: an
#: assumption (clients re-scan every few seconds to 30 s, NetworkManager's bgscan
#: "simple:30:-70" being the slow end).
RESCAN_INTERVAL_S = 10.0
#: Ping-pong window [s]: the log analysis's (wifiplan.logs.PING_PONG_WINDOW_S, 10 s).
PING_PONG_WINDOW_S = 10.0
#: Sample step along a route [m].
STEP_M = 0.5
#: Packet size of the resend queue [bytes]: an Ethernet MTU (IEEE 802.3).
PACKET_BYTES = 1500
#: A walk longer than this is refused [s of walking] (10 hours).
MAX_WALK_S = 36_000.0


@dataclass(frozen=True)
class TerminalModel:
    """The roaming behaviour of a terminal (module docstring); levels [dBm], times [s]."""
    roam_threshold_dbm: float = ROAM_THRESHOLD_DBM
    hysteresis_db: float = DEFAULT_HYSTERESIS_DB
    usable_min_dbm: float = MCS_TABLE[0].min_rssi_dbm
    fast_transition: bool = True           # 802.11r
    neighbor_report: bool = True           # 802.11k
    scan_s: float | None = None            # None: from the channels scanned
    handover_s: float | None = None        # None: FT or full authentication
    rescan_interval_s: float = RESCAN_INTERVAL_S
    ping_pong_window_s: float = PING_PONG_WINDOW_S
    step_m: float = STEP_M
    shadowing_db: float = 0.0
    shadowing_corr_m: float = 10.0
    seed: int = 0

    @property
    def scan_time_s(self) -> float:
        if self.scan_s is not None:
            return float(self.scan_s)
        return SCAN_DWELL_S * (SCAN_CHANNELS_11K if self.neighbor_report else SCAN_CHANNELS_FULL)

    @property
    def handover_time_s(self) -> float:
        if self.handover_s is not None:
            return float(self.handover_s)
        return FT_HANDOVER_S if self.fast_transition else FULL_HANDOVER_S

    def check(self) -> "TerminalModel":
        for k, lo, hi in (("hysteresis_db", 0.0, 30.0), ("step_m", 0.05, 10.0),
                          ("rescan_interval_s", 0.1, 600.0), ("ping_pong_window_s", 0.0, 600.0),
                          ("shadowing_db", 0.0, 20.0), ("shadowing_corr_m", 0.1, 1000.0),
                          ("scan_time_s", 0.0, 10.0), ("handover_time_s", 0.0, 10.0)):
            v = getattr(self, k)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and lo <= v <= hi):
                raise InputError(f"expected a number from {lo:g} to {hi:g}, got {v!r}", key=k)
        if not self.usable_min_dbm < self.roam_threshold_dbm:
            raise InputError("the usable minimum must lie below the re-scan threshold",
                             key="usable_min_dbm")
        return self

    def to_dict(self) -> dict:
        d = asdict(self)
        d["scan_s"] = round(self.scan_time_s, 4)
        d["handover_s"] = round(self.handover_time_s, 4)
        d["sources"] = {
            "roam_threshold_dbm": "seed 8.1.3.5 minimum RSSI (wifiplan.rules)",
            "hysteresis_db": "wpa_supplicant within-ESS roaming margin (5 dB at >= -70 dBm)",
            "usable_min_dbm": "802.11ax MCS0 minimum sensitivity, 20 MHz",
            "handover_s": "802.11r FT 50 ms target; full 802.1X + 4-way 0.3-1 s",
            "scan_s": "active-scan dwell x channels (802.11k: neighbours' channels only)",
            "ping_pong_window_s": "the log analysis's window (A -> B -> A within 10 s)",
        }
        return d


# ---- the walk ---------------------------------------------------------------------------------

def _shadowing(d_m: np.ndarray, n_ap: int, model: TerminalModel, salt: int) -> np.ndarray:
    """Correlated log-normal shadowing [dB], (n_ap, n): AR(1) with rho = exp(-dd / d_corr)
    (Gudmundson 1991)."""
    rng = np.random.default_rng([model.seed, salt])
    out = np.zeros((n_ap, len(d_m)))
    if not len(d_m):
        return out
    s = model.shadowing_db
    out[:, 0] = rng.normal(0.0, s, n_ap)
    for k in range(1, len(d_m)):
        rho = math.exp(-(d_m[k] - d_m[k - 1]) / model.shadowing_corr_m)
        out[:, k] = rho * out[:, k - 1] + math.sqrt(1 - rho * rho) * rng.normal(0.0, s, n_ap)
    return out


def _crossing(t0, t1, v0, v1, level) -> float:
    """Time in [t0, t1] where a quantity linear from v0 to v1 reaches ``level``."""
    if v1 == v0:
        return t1
    return float(t0 + (t1 - t0) * np.clip((level - v0) / (v1 - v0), 0.0, 1.0))


def walk(t_s: np.ndarray, rssi_dbm: np.ndarray, model: TerminalModel) -> dict:
    """The terminal model over one sampled walk: ``t_s`` (n,) sample times [s],
    ``rssi_dbm`` (n_ap, n) the power of each AP there [dBm]. Returns ``serving`` (n,) the
    AP index in use at each sample (-1: no link), ``roams`` (list of dicts: ``t_s``,
    ``from``, ``to``, ``from_rssi_dbm``, ``to_rssi_dbm``, ``kind`` "roam" or "reconnect")
    and ``outages`` (merged (start, end) [s])."""
    n = len(t_s)
    thr, hyst, usable = model.roam_threshold_dbm, model.hysteresis_db, model.usable_min_dbm
    scan, ho = model.scan_time_s, model.handover_time_s
    serving = np.full(n, -1, int)
    roams: list[dict] = []
    outages: list[list[float]] = []
    changes: list[tuple[float, int]] = []        # (time, serving AP from then on)
    if n == 0 or rssi_dbm.shape[0] == 0:
        if n:
            outages.append([float(t_s[0]), float(t_s[-1])])
        return {"serving": serving, "roams": roams, "outages": outages, "first": -1,
                "changes": changes}

    def at(tq, k):                       # rssi of every AP at time tq in [t_{k-1}, t_k]
        t0, t1 = t_s[k - 1], t_s[k]
        w = 0.0 if t1 == t0 else (tq - t0) / (t1 - t0)
        return rssi_dbm[:, k - 1] * (1 - w) + rssi_dbm[:, k] * w

    r0 = rssi_dbm[:, 0]
    s = int(np.argmax(r0)) if r0.max() >= usable else -1
    if s < 0:
        outages.append([float(t_s[0]), float(t_s[0])])
    scan_end = None                      # a scan in progress ends then
    next_scan = float(t_s[0])            # no scan before
    if s >= 0 and r0[s] < thr:
        scan_end = float(t_s[0]) + scan
    serving[0] = first = s
    for k in range(1, n):
        t0, t1 = float(t_s[k - 1]), float(t_s[k])
        for _ in range(10_000):          # the scans and roams inside this interval
            if s < 0:
                break
            a, b = rssi_dbm[s, k - 1], rssi_dbm[s, k]
            if scan_end is None:
                if b >= thr:
                    break
                start = max(_crossing(t0, t1, a, b, thr) if a >= thr else t0, next_scan)
                if start > t1:
                    break
                scan_end = start + scan
            if scan_end > t1:
                break
            td = scan_end
            rv = at(td, k)
            c = int(np.argmax(rv))
            scan_end = None
            next_scan = td + model.rescan_interval_s
            if c != s and rv[c] >= rv[s] + hyst and rv[s] < thr:
                roams.append({"t_s": td, "from": s, "to": c, "from_rssi_dbm": float(rv[s]),
                              "to_rssi_dbm": float(rv[c]), "kind": "roam"})
                outages.append([td, td + ho])
                s = c
                changes.append((td, s))
                next_scan = td
        if s >= 0:
            b = rssi_dbm[s, k]
            if b < usable:               # the link is lost
                tl = _crossing(t0, t1, rssi_dbm[s, k - 1], b, usable)
                outages.append([tl, tl])
                s, scan_end = -1, None
                changes.append((tl, s))
        if s < 0:
            best = int(np.argmax(rssi_dbm[:, k]))
            if rssi_dbm[best, k] >= usable:
                ta = _crossing(t0, t1, rssi_dbm[best, k - 1], rssi_dbm[best, k], usable) \
                    if rssi_dbm[best, k - 1] < usable else t0
                te = max(ta, outages[-1][0]) + scan + ho
                outages[-1][1] = te
                roams.append({"t_s": te, "from": -1, "to": best, "from_rssi_dbm": None,
                              "to_rssi_dbm": float(rssi_dbm[best, k]), "kind": "reconnect"})
                s, next_scan = best, te
                changes.append((te, s))
            else:
                outages[-1][1] = t1
        serving[k] = s
    merged: list[list[float]] = []
    for o in sorted(outages):
        if merged and o[0] <= merged[-1][1] + 1e-9:
            merged[-1][1] = max(merged[-1][1], o[1])
        else:
            merged.append(list(o))
    return {"serving": serving, "roams": roams, "outages": merged, "first": first,
            "changes": changes}


def time_below_s(t_s: np.ndarray, rssi_dbm: np.ndarray, first: int, changes, level_dbm: float
                 ) -> float:
    """Time [s] the walk spends on an AP below ``level_dbm`` or with no link: the serving AP
    changes at the times of ``changes`` (``(t, ap)``, from :func:`walk`), its power is
    linear between samples, so the time is exact for the model, not counted in samples."""
    total, s, ci = 0.0, first, 0
    for k in range(1, len(t_s)):
        t0, t1 = float(t_s[k - 1]), float(t_s[k])
        cuts = [t0]
        seq = [s]
        while ci < len(changes) and changes[ci][0] <= t1:
            tc = min(max(changes[ci][0], t0), t1)
            cuts.append(tc)
            s = changes[ci][1]
            seq.append(s)
            ci += 1
        cuts.append(t1)
        for ta, tb, ap in zip(cuts[:-1], cuts[1:], seq):
            if tb <= ta:
                continue
            if ap < 0:
                total += tb - ta
                continue
            dt = t1 - t0
            va = rssi_dbm[ap, k - 1] + (rssi_dbm[ap, k] - rssi_dbm[ap, k - 1]) * (ta - t0) / dt
            vb = rssi_dbm[ap, k - 1] + (rssi_dbm[ap, k] - rssi_dbm[ap, k - 1]) * (tb - t0) / dt
            if va < level_dbm and vb < level_dbm:
                total += tb - ta
            elif va < level_dbm or vb < level_dbm:
                tx = _crossing(ta, tb, va, vb, level_dbm)
                total += (tx - ta) if va < level_dbm else (tb - tx)
    return total


def _weights(t_s: np.ndarray) -> np.ndarray:
    """The time each sample stands for [s] (half the interval on each side)."""
    if len(t_s) < 2:
        return np.zeros(len(t_s))
    d = np.diff(t_s)
    return np.concatenate([[d[0] / 2], (d[:-1] + d[1:]) / 2, [d[-1] / 2]])


def _runs(mask: np.ndarray, key: np.ndarray):
    """(i, j) of every run of samples with ``mask`` true and the same ``key``."""
    i, n = 0, len(mask)
    while i < n:
        if not mask[i]:
            i += 1
            continue
        j = i
        while j + 1 < n and mask[j + 1] and key[j + 1] == key[i]:
            j += 1
        yield i, j
        i = j + 1


def _r(v, nd=2):
    return None if v is None or not np.isfinite(v) else round(float(v), nd)


def route_figures(route: Route, xy, d_m, t_s, rssi_dbm, aps, model: TerminalModel,
                  uplink_mbps: float) -> dict:
    """Everything reported of one walk (module docstring), JSON-ready."""
    w = walk(t_s, rssi_dbm, model)
    srv = w["serving"]
    ids = [a.id for a in aps]
    n = len(t_s)
    wt = _weights(t_s)
    idx = np.arange(n)
    has = srv >= 0
    srv_rssi = np.where(has, rssi_dbm[np.clip(srv, 0, None), idx] if len(aps) else np.nan,
                        np.nan)
    best = np.argmax(rssi_dbm, axis=0) if len(aps) else np.full(n, -1)
    best_rssi = rssi_dbm.max(0) if len(aps) else np.full(n, np.nan)
    sticky = has & (best_rssi - np.nan_to_num(srv_rssi, nan=-np.inf) > model.hysteresis_db)
    duration = float(t_s[-1] - t_s[0]) if n else 0.0

    roams = w["roams"]
    real = [r for r in roams if r["kind"] == "roam"]
    pp = []
    for a, b in zip(real, real[1:]):
        if b["from"] == a["to"] and b["to"] == a["from"] and \
                b["t_s"] - a["t_s"] <= model.ping_pong_window_s:
            pp.append({"ap_a": ids[a["from"]], "ap_b": ids[a["to"]], "away_s": _r(a["t_s"]),
                       "back_s": _r(b["t_s"]), "dwell_s": _r(b["t_s"] - a["t_s"])})
    stretches = []
    for i, j in _runs(sticky, srv):
        better = np.bincount(best[i:j + 1]).argmax()
        stretches.append({"ap": ids[srv[i]], "better_ap": ids[int(better)],
                          "start_s": _r(t_s[i]), "end_s": _r(t_s[j]),
                          "duration_s": _r(wt[i:j + 1].sum()),
                          "max_margin_db": _r((best_rssi - srv_rssi)[i:j + 1].max(), 1)})
    segments = []
    for i, j in _runs(np.ones(n, bool), srv):
        segments.append({"ap": ids[srv[i]] if srv[i] >= 0 else None,
                         "from_s": _r(t_s[i]), "to_s": _r(t_s[j]),
                         "from_m": _r(d_m[i]), "to_m": _r(d_m[j]),
                         "min_rssi_dbm": _r(np.nanmin(srv_rssi[i:j + 1]), 1)
                         if srv[i] >= 0 else None})
    events = []
    for r in roams:
        k = int(np.clip(np.searchsorted(t_s, r["t_s"]), 0, n - 1))
        dm = float(np.interp(r["t_s"], t_s, d_m))
        events.append({"t_s": _r(r["t_s"]), "distance_m": _r(dm),
                       "x_m": _r(np.interp(dm, d_m, xy[:, 0])),
                       "y_m": _r(np.interp(dm, d_m, xy[:, 1])),
                       "from_ap": ids[r["from"]] if r["from"] >= 0 else None,
                       "to_ap": ids[r["to"]], "kind": r["kind"],
                       "from_rssi_dbm": _r(r["from_rssi_dbm"], 1),
                       "to_rssi_dbm": _r(r["to_rssi_dbm"], 1),
                       "best_ap_after": ids[int(best[k])]})
    outs = [o for o in w["outages"] if o[1] > o[0]]
    longest = round(max((o[1] - o[0] for o in outs), default=0.0), 3)
    queue_bytes = uplink_mbps * 1e6 / 8 * longest
    return {
        "name": route.name, "zone": route.zone, "generated": route.generated,
        "terminal": route.terminal, "speed_m_s": _r(route.speed_m_s, 3),
        "points": route.to_dict()["points"],
        "length_m": _r(route.length_m), "duration_s": _r(duration), "samples": n,
        "roams": len(real), "reconnects": len(roams) - len(real),
        "roams_per_hour": _r(len(real) / duration * 3600.0, 1) if duration else 0.0,
        "ping_pong_roams": len(pp),
        "sticky_episodes": len(stretches), "sticky_s": _r(float(wt[sticky].sum())),
        "seconds_below_70_dbm": _r(time_below_s(t_s, rssi_dbm, w["first"], w["changes"],
                                                model.roam_threshold_dbm)),
        "outage_s": _r(sum(o[1] - o[0] for o in outs), 3),
        "longest_outage_s": _r(longest, 3),
        "min_serving_rssi_dbm": _r(np.nanmin(srv_rssi), 1) if has.any() else None,
        "resend_queue": {"terminal": route.terminal, "uplink_mbps": uplink_mbps,
                         "bytes": int(math.ceil(queue_bytes)),
                         "packets": int(math.ceil(queue_bytes / PACKET_BYTES))},
        "serving": segments,
        "roam_events": events,
        "ping_pong": pp,
        "sticky_stretches": stretches,
        "outages": [{"from_s": _r(a, 3), "to_s": _r(b, 3)} for a, b in outs],
        "timeline": {"t_s": [_r(v) for v in t_s], "distance_m": [_r(v) for v in d_m],
                     "x_m": [_r(v) for v in xy[:, 0]], "y_m": [_r(v) for v in xy[:, 1]],
                     "serving_ap": [ids[s] if s >= 0 else None for s in srv],
                     "serving_rssi_dbm": [_r(v, 1) for v in srv_rssi],
                     "best_ap": [ids[int(b)] for b in best] if len(aps) else [None] * n,
                     "best_rssi_dbm": [_r(v, 1) for v in best_rssi]},
    }


def simulate_roaming(site, aps, routes=None, *, model: PropagationModel | None = None,
                     terminal: TerminalModel | None = None, progress=None) -> dict:
    """Walk every route (``routes``: a list of :class:`~wifiplan.routes.Route`; None: the
    site's own, else the generated ones) past the plan's ``aps`` and return the report:
    ``routes`` (per route, :func:`route_figures`), ``summary`` (totals, the worst outage and
    the resend queue per terminal type for it) and ``terminal_model`` (the parameters and
    their sources). ``progress(i, n, name)`` is called before each route."""
    terminal = (terminal or TerminalModel()).check()
    model = model or PropagationModel.for_site(site)
    geom = Geometry.from_site(site, model.material_losses)
    routes = site_routes(site) if routes is None else list(routes)
    profiles = terminal_profiles(site)
    aps = list(aps)
    out = []
    for i, r in enumerate(routes):
        if r.terminal not in profiles:
            raise InputError(f"unknown terminal type {r.terminal!r}, expected one of "
                             f"{', '.join(sorted(profiles))}", key=f"routes[{i}].terminal")
        if r.length_m / r.speed_m_s > MAX_WALK_S:
            raise InputError(f"a walk of {r.length_m / r.speed_m_s / 3600:.1f} h, expected at "
                             f"most {MAX_WALK_S / 3600:g} h", key=f"routes[{i}]")
        if progress:
            progress(i, len(routes), r.name)
        xy, d = sample_route(r.points, terminal.step_m)
        t = d / r.speed_m_s
        rssi = rssi_points_dbm(site, aps, xy[:, 0], xy[:, 1], model, geom) if aps else \
            np.zeros((0, len(d)))
        if terminal.shadowing_db > 0 and aps:
            rssi = rssi + _shadowing(d, len(aps), terminal, i)
        out.append(route_figures(r, xy, d, t, rssi, aps, terminal,
                                 float(profiles[r.terminal]["uplink_mbps"])))
    worst = max((x["longest_outage_s"] for x in out), default=0.0)
    queues = {}
    for ttype, prof in sorted(profiles.items()):
        b = float(prof["uplink_mbps"]) * 1e6 / 8 * worst
        queues[ttype] = {"uplink_mbps": float(prof["uplink_mbps"]), "longest_outage_s": worst,
                         "bytes": int(math.ceil(b)), "packets": int(math.ceil(b / PACKET_BYTES))}
    total_s = sum(x["duration_s"] for x in out)
    summary = {"routes": len(out), "generated": bool(out) and all(x["generated"] for x in out),
               "walked_m": _r(sum(x["length_m"] for x in out)), "walked_s": _r(total_s),
               "roams": sum(x["roams"] for x in out),
               "roams_per_hour": _r(sum(x["roams"] for x in out) / total_s * 3600, 1)
               if total_s else 0.0,
               "ping_pong_roams": sum(x["ping_pong_roams"] for x in out),
               "reconnects": sum(x["reconnects"] for x in out),
               "sticky_episodes": sum(x["sticky_episodes"] for x in out),
               "seconds_below_70_dbm": _r(sum(x["seconds_below_70_dbm"] for x in out)),
               "longest_outage_s": worst,
               "resend_queue": queues}
    return {"site": site.name, "aps": len(aps), "terminal_model": terminal.to_dict(),
            "summary": summary, "routes": out}


def findings(report: dict) -> int:
    """Ping-pong roams and lost links of a roaming report (``wifiplan roam`` exits 1)."""
    s = report["summary"]
    return int(s["ping_pong_roams"] + s["reconnects"])


class Progress:
    """A progress line on ``stream`` for a job that takes more than ``after_s``."""

    def __init__(self, stream, after_s: float = 2.0):
        self.stream, self.after_s, self.t0 = stream, after_s, time.monotonic()

    def __call__(self, i: int, n: int, name: str) -> None:
        if time.monotonic() - self.t0 >= self.after_s:
            print(f"  route {i + 1}/{n}: {name}", file=self.stream, flush=True)


#: The columns of :func:`routes_frame`: report key -> heading.
ROUTE_COLUMNS = {"name": "route", "zone": "zone", "terminal": "terminal", "length_m": "length [m]",
                 "roams": "roams", "roams_per_hour": "roams/h",
                 "ping_pong_roams": "ping-pong roams", "sticky_s": "sticky [s]",
                 "seconds_below_70_dbm": f"below {ROAM_THRESHOLD_DBM:g} dBm [s]",
                 "longest_outage_s": "longest outage [s]", "queue_bytes": "resend queue [bytes]",
                 "queue_packets": "resend queue [packets]", "serving_path": "serving APs"}


def routes_frame(report: dict):
    """One row per route of a roaming report (the table of the UI and the reports), columns
    the keys of :data:`ROUTE_COLUMNS`."""
    import pandas as pd
    rows = []
    for r in report["routes"]:
        row = {k: r.get(k) for k in ROUTE_COLUMNS}
        row["queue_bytes"] = r["resend_queue"]["bytes"]
        row["queue_packets"] = r["resend_queue"]["packets"]
        row["serving_path"] = " > ".join(s["ap"] or "(no link)" for s in r["serving"])
        rows.append(row)
    return pd.DataFrame(rows, columns=list(ROUTE_COLUMNS))
