"""Metrics of a plan: coverage, cell boundaries, co-channel separation, cells, backhaul.

:func:`evaluate_plan` measures any plan (the planner's, a hand-made one, one edited in the
UI) with the same rules the planner plans by (DESIGN.md sections 2 and 6):

- **Required points** are the grid points inside a zone and outside every obstacle
  footprint (a terminal cannot stand inside a machine or a rack), each with its zone's
  ``min_rssi_dbm``. A site without zones is measured over its whole outline at -67 dBm
  (``coverage_basis: outline``) and a warning says so.
- **Primary coverage**: share of required points whose best server reaches the requirement.
- **Cell boundary**: points where the best and second-best server are within 3 dB; the
  boundary band share is the share of the boundary points (among the required points of
  the zones judged against the band, :func:`wifiplan.requirements.band_judged`) whose best
  server lies in -70..-65 dBm. A zone whose own minimum RSSI leaves no room in the band is
  listed in ``boundary_band_conflicts`` with the reason, and its points are not judged.
- **SINR**: share of required points whose best server's SINR reaches its zone's
  ``min_sinr_db``.
- **Secondary coverage**: share of required points with a second server >= -70 dBm (the
  roaming threshold of seed 8.1.3.5).
- **Co-channel separation**: at a required point, the best server minus the strongest
  other AP on its channel [dB] (no such AP: not counted); min and 5th percentile. Pairs
  of same-channel APs where the separation falls below 19 dB are the co-channel conflicts.

The requirements a zone's profile asks beyond these (:mod:`wifiplan.requirements`,
:meth:`~wifiplan.requirements.Requirements.asks`) are measured over the points of the zones
that ask them, and appear in the metrics only where some zone asks them (a site that names
no profile gets exactly the figures above), each as the share of those points that meet
their zone's value (:data:`SHARE_KEYS`), over all of them and per zone:

- **Secondary signal** (``secondary_signal_share``): the second-strongest AP at or above the
  zone's ``secondary_rssi_dbm``.
- **SNR** (``snr_share``): the best server at or above the zone's ``min_snr_db`` over the
  noise floor, where that is stricter than the zone's primary level.
- **Data rate** (``data_rate_share``): the PHY rate at the point's SINR
  (:func:`wifiplan.capacity.phy_rate_at_sinr_mbps`, the MCS table) at or above the zone's
  ``min_data_rate_mbps``.
- **Channel overlap** (``channel_overlap_share``): on no channel more than the zone's
  ``channel_overlap_max_aps`` APs heard at or above its ``channel_overlap_dbm``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypedDict

import numpy as np
import shapely
from shapely.geometry import Polygon

from .site import Site
from .apmodels import model_of
from .backhaul import backhaul_summary
from .capacity import cell_load, phy_rate_at_sinr_mbps
from .errors import InputError
from .radio.antenna import peak_gain_dbi
from .radio.propagation import PropagationModel
from .radio.radiomap import compute_radiomap, grid_axes
from .regulatory import WIDTH_MHZ, is_dfs
from .requirements import LABELS, asked, band_conflicts, band_judged, per_point
from .rules import (BOUNDARY_BAND_DBM, BOUNDARY_WITHIN_DB, CO_CHANNEL_MIN_SEPARATION_DB,
                    DEFAULT_MIN_RSSI_DBM, ROAM_THRESHOLD_DBM,
                    ZONE_COVERAGE_TARGET, tx_power_range_dbm)


# ---- required points ---------------------------------------------------------------------------

@dataclass
class RequiredPoints:
    """Grid points where coverage is required, on the grid ``ys`` x ``xs``."""
    xs: np.ndarray
    ys: np.ndarray
    resolution_m: float
    iy: np.ndarray
    ix: np.ndarray
    req_dbm: np.ndarray          # (n,) requirement [dBm]
    zone: np.ndarray             # (n,) index into site.zones, -1 for the outline fallback
    zone_names: list
    basis: str                   # "zones" or "outline"

    @property
    def n(self) -> int:
        return len(self.iy)

    @property
    def x(self) -> np.ndarray:
        return self.xs[self.ix]

    @property
    def y(self) -> np.ndarray:
        return self.ys[self.iy]

    def mask(self) -> np.ndarray:
        m = np.zeros((len(self.ys), len(self.xs)), bool)
        m[self.iy, self.ix] = True
        return m


def obstacle_mask(site: Site, x, y) -> np.ndarray:
    """True where (x, y) lies inside an obstacle footprint or on its edge."""
    out = np.zeros(np.shape(x), bool)
    for o in site.obstacles:
        out |= shapely.intersects_xy(Polygon(np.asarray(o.polygon)[:, :2]).buffer(1e-6), x, y)
    return out


def zone_indices(site: Site, zones=None) -> list[int]:
    """Indices of the named zones (all for None); an unknown name is an InputError."""
    if zones is None:
        return list(range(len(site.zones)))
    names = [z.name for z in site.zones]
    out = []
    for nm in zones:
        if nm not in names:
            import difflib
            close = difflib.get_close_matches(str(nm), names, n=1, cutoff=0.5)
            raise InputError(f"unknown zone '{nm}'" + (
                f" (did you mean '{close[0]}'?)" if close else
                f", the site has {', '.join(names) or 'no zones'}"), source=site.source,
                key="zones")
        out.append(names.index(nm))
    return out


def required_points(site: Site, resolution_m: float, zones=None,
                    min_rssi_dbm: float | None = None) -> RequiredPoints:
    """Required points on the grid of ``resolution_m`` [m] over the site's bounds (the
    radio-map grid): the selected zones' points outside obstacle footprints, each with its
    zone's ``min_rssi_dbm`` (or ``min_rssi_dbm`` for every point when given). Without zones,
    the outline at -67 dBm. A zone smaller than a grid cell keeps its nearest grid point."""
    xs, ys = grid_axes(site.bounds, resolution_m)
    X, Y = np.meshgrid(xs, ys)
    inside = site.inside_outline(X, Y) & ~obstacle_mask(site, X, Y)
    if site.zones:
        sel = zone_indices(site, zones)
        zi = np.where(inside, site.zone_at(X, Y), -1)
        keep = np.isin(zi, sel)
        for k in sel:
            if not (zi == k).any():
                rp = Polygon(site.zones[k].polygon).representative_point()
                j = int(np.argmin(np.abs(xs - rp.x)))
                i = int(np.argmin(np.abs(ys - rp.y)))
                zi[i, j] = k
                keep[i, j] = True
        iy, ix = np.nonzero(keep)
        zone = zi[iy, ix]
        req = np.array([z.min_rssi_dbm for z in site.zones], float)[zone]
        basis = "zones"
    else:
        if zones:
            zone_indices(site, zones)
        iy, ix = np.nonzero(inside)
        zone = np.full(len(iy), -1)
        req = np.full(len(iy), DEFAULT_MIN_RSSI_DBM)
        basis = "outline"
    if min_rssi_dbm is not None:
        req = np.full(len(iy), float(min_rssi_dbm))
    return RequiredPoints(xs, ys, float(resolution_m), iy, ix, req.astype(float), zone,
                          [z.name for z in site.zones], basis)


# ---- co-channel ------------------------------------------------------------------------------

def co_channel_conflicts(rssi_dbm: np.ndarray, channels, ap_ids, area_m2: float = 1.0,
                         target_db: float = CO_CHANNEL_MIN_SEPARATION_DB) -> list[dict]:
    """Pairs of same-channel APs where, in the serving AP's area (the given points), the
    other is less than ``target_db`` weaker. Largest affected area first."""
    r = np.asarray(rssi_dbm, float)
    ch = np.asarray(channels)
    n = r.shape[0]
    if n < 2 or r.shape[1] == 0:
        return []
    best = r.argmax(0)
    top = r.max(0)
    pairs: dict[tuple, dict] = {}
    for b in range(n):
        m = best == b
        if not m.any():
            continue
        for j in np.nonzero((ch == ch[b]) & (np.arange(n) != b))[0]:
            sep = top[m] - r[j, m]
            bad = sep < target_db
            if not bad.any():
                continue
            key = (min(b, j), max(b, j))
            e = pairs.setdefault(key, {"aps": [str(ap_ids[key[0]]), str(ap_ids[key[1]])],
                                       "channel": int(ch[b]), "min_separation_db": np.inf,
                                       "area_m2": 0.0})
            e["min_separation_db"] = float(min(e["min_separation_db"], sep.min()))
            e["area_m2"] += float(bad.sum() * area_m2)
    out = sorted(pairs.values(), key=lambda e: (-e["area_m2"], e["min_separation_db"]))
    for e in out:
        e["min_separation_db"] = round(e["min_separation_db"], 1)
        e["area_m2"] = round(e["area_m2"], 1)
    return out


# ---- plan checks -----------------------------------------------------------------------------

def ap_power_range_dbm(site: Site, ap, ap_gain_dbi: float) -> tuple[float, float]:
    """(lowest, highest) transmit power [dBm] of ``ap``
    (:func:`wifiplan.rules.tx_power_range_dbm`) with its own antenna's peak gain (the
    site's ``ap_gain_dbi`` [dBi] for an AP without one) and its model's maximum power."""
    return tx_power_range_dbm(site.domain, ap.channel, peak_gain_dbi(ap, ap_gain_dbi),
                              model_of(ap).max_tx_power_dbm)


def plan_violations(site: Site, aps, ap_gain_dbi: float) -> list[str]:
    """Rule violations of the APs' settings: DFS or forbidden channel, width other than
    20 MHz, EIRP (transmit power plus the antenna's peak gain: the AP's own antenna, else
    the site's ``ap_gain_dbi``) above the domain's limit for the channel, transmit power
    above the AP model's maximum, a BSSID given to two APs."""
    allowed = set(site.allowed_channels())
    out = []
    seen: dict[str, str] = {}
    for a in aps:
        b = (a.bssid or "").lower()
        if b and b in seen:
            out.append(f"{a.id}: BSSID {a.bssid} is also {seen[b]}'s")
        elif b:
            seen[b] = a.id
        if is_dfs(a.channel):
            out.append(f"{a.id}: channel {a.channel} is a DFS channel")
        elif a.channel not in allowed:
            out.append(f"{a.id}: channel {a.channel} is not allowed in domain "
                       f"{site.regulatory_domain} "
                       f"(non-DFS: {', '.join(map(str, sorted(allowed)))})")
        if a.width_mhz != WIDTH_MHZ:
            out.append(f"{a.id}: width {a.width_mhz} MHz, the rule is {WIDTH_MHZ} MHz")
        ch = site.domain.channel(int(a.channel))
        gain = peak_gain_dbi(a, ap_gain_dbi)
        if ch is not None and a.tx_power_dbm + gain > ch.max_eirp_dbm + 1e-9:
            out.append(f"{a.id}: EIRP {a.tx_power_dbm + gain:g} dBm exceeds the "
                       f"{ch.max_eirp_dbm:g} dBm limit of channel {a.channel}")
        hw = model_of(a)
        if getattr(a, "model", None) and a.tx_power_dbm > hw.max_tx_power_dbm + 1e-9:
            out.append(f"{a.id}: transmit power {a.tx_power_dbm:g} dBm is above the "
                       f"{hw.max_tx_power_dbm:g} dBm of model {hw.name}")
    return out


# ---- the metrics -------------------------------------------------------------------------------

def _r(v, nd=4):
    if v is None:
        return None
    v = float(v)
    return None if not np.isfinite(v) else round(v, nd)


def co_channel_separation_p5_db(separation_db) -> float | None:
    """5th percentile [dB] of the co-channel separation over a set of points, a point where
    no same-channel AP is heard counting as infinitely separated: None when fewer than 5 %
    of the points hear one (then the percentile is not a separation at all). The one rule
    for the evaluation, the planner's summary and the rollout's criteria."""
    sep = np.asarray(separation_db, float).ravel()
    if not sep.size or not np.isfinite(sep).any():
        return None
    unheard = 1e9                    # stands for "infinitely separated" in the percentile
    p5 = float(np.percentile(np.where(np.isfinite(sep), sep, unheard), 5))
    return p5 if p5 < unheard / 10 else None


#: The requirements judged only where a zone asks them -> the key of their share in
#: :class:`PlanMetrics` and :class:`ZoneMetrics`.
SHARE_KEYS = {"secondary_rssi_dbm": "secondary_signal_share", "min_snr_db": "snr_share",
              "min_data_rate_mbps": "data_rate_share",
              "channel_overlap_max_aps": "channel_overlap_share"}


class ZoneMetrics(TypedDict, total=False):
    """One zone's figures in :class:`PlanMetrics` (``zones``); the shares of
    :data:`SHARE_KEYS` (with the zone's value under the requirement's key) where the zone
    asks them."""
    coverage: float                 # share of the zone's required points covered, 0..1
    min_rssi_dbm: float             # the zone's requirement [dBm]
    worst_rssi_dbm: float | None    # weakest best server at its points [dBm]
    area_m2: float                  # its required area [m2]
    secondary_rssi_dbm: float       # where asked: the zone's secondary requirement [dBm]
    secondary_signal_share: float
    min_snr_db: float               # where asked (stricter than the primary level) [dB]
    snr_share: float
    min_data_rate_mbps: float       # where asked [Mb/s]
    data_rate_share: float
    channel_overlap_max_aps: int    # where asked, with channel_overlap_dbm [dBm]
    channel_overlap_dbm: float
    channel_overlap_share: float


class PlanMetrics(TypedDict, total=False):
    """What :func:`evaluate_plan` returns (plain JSON types: the plan file's ``metrics:``,
    the planner's summary, the UI and the reports read it). Shares are fractions 0..1."""
    ap_count: int
    regulatory_domain: str
    channels: list[int]
    coverage_basis: str             # "zones" or "outline"
    resolution_m: float
    primary_coverage: float | None
    boundary_band_share: float | None
    boundary_points: int
    boundary_points_not_judged: int
    boundary_band_conflicts: dict[str, str]     # zone -> why its boundaries are not judged
    sinr_ok_share: float | None
    secondary_coverage: float | None
    co_channel_separation_min_db: float | None
    co_channel_separation_p5_db: float | None
    secondary_signal_share: float | None    # only where a zone asks: see SHARE_KEYS
    snr_share: float | None
    data_rate_share: float | None
    channel_overlap_share: float | None
    cell_area_m2: dict[str, float]  # AP id -> its cell at >= -70 dBm [m2]
    zones: dict[str, ZoneMetrics]
    uncovered_zones: list[str]
    co_channel_conflicts: list[dict]
    backhaul: dict                  # :func:`wifiplan.backhaul.backhaul_summary`
    violations: list[str]
    capacity: dict                  # the cells' airtime summary
    warnings: list[str]


@dataclass(frozen=True)
class Figures:
    """The figures of a radio map over a set of grid points, each point judged by its zone's
    requirements: the one evaluation of coverage, boundaries, SINR and co-channel separation
    (:func:`evaluate_plan` over a plan's required points, a rollout phase over its target area,
    a zone over its own points). Shares are fractions in 0..1, None over no points."""
    points: int
    primary_coverage: float | None          # best server >= the point's requirement
    coverage_at_roam_threshold: float | None  # best server >= -70 dBm (seed 8.1.3.5)
    snr_ok_share: float | None              # best server's SNR >= 25 dB over the noise floor
    sinr_ok_share: float | None             # SINR >= the zone's minimum
    sinr_p5_db: float | None
    boundary_points: int                    # boundary points of zones judged on the band
    boundary_points_not_judged: int
    boundary_band_share: float | None       # of those, best server in -70..-65 dBm
    secondary_coverage: float | None        # second server >= -70 dBm
    co_channel_separation_min_db: float | None
    co_channel_separation_p5_db: float | None   # :func:`co_channel_separation_p5_db`
    co_channel_margin_p5_db: float | None       # separation minus the zone's own, p5
    best_rssi_p5_dbm: float | None
    best_rssi_median_dbm: float | None
    best_rssi_dbm: np.ndarray = field(repr=False)   # (n,) at the points
    covered: np.ndarray = field(repr=False)         # (n,) primary coverage per point
    #: what it would take to bring the judged boundaries into the band by power alone:
    #: ``{"boundary_median_dbm", "above_band_db", "band_share", "coverage"}``: the median
    #: boundary level, the whole dB it lies above the band, and the band share and primary
    #: coverage with every AP that much lower (a common power change keeps every boundary
    #: where it is, so the figures are exact); None when the median lies in the band
    band_by_power: dict | None = None
    #: the requirements of SHARE_KEYS asked at some of the points: key -> (asked, met), two
    #: (n,) boolean arrays (``met`` only counts where ``asked``)
    checks: dict = field(default_factory=dict, repr=False)
    data_rate_mbps: np.ndarray | None = field(default=None, repr=False)  # (n,) [Mb/s]

    def asked_points(self, key: str) -> int:
        """How many of the points ask requirement ``key`` (:data:`SHARE_KEYS`)."""
        return int(self.checks[key][0].sum()) if key in self.checks else 0

    def share(self, key: str, where=None) -> float | None:
        """Share of the points asking requirement ``key`` (and in mask ``where``) that meet
        it; None where no point asks it."""
        if key not in self.checks:
            return None
        a, ok = self.checks[key]
        if where is not None:
            a = a & where
        n = int(a.sum())
        return float((ok & a).sum() / n) if n else None


def requirement_checks(site: Site, rm, iy, ix, zone) -> tuple[dict, np.ndarray]:
    """The requirements of :data:`SHARE_KEYS` at grid points (``iy``, ``ix``) of zone indices
    ``zone``, for the keys some of the points ask: key -> (asked, met) boolean arrays; and
    the PHY rate at each point's SINR [Mb/s] (:func:`wifiplan.capacity.phy_rate_at_sinr_mbps`).
    """
    iy, ix, zone = np.asarray(iy, int), np.asarray(ix, int), np.asarray(zone, int)
    sinr = rm.sinr_db[iy, ix].astype(float)
    rate = np.asarray(phy_rate_at_sinr_mbps(sinr), float).reshape(-1)
    out = {}
    for key in SHARE_KEYS:
        a = asked(site, zone, key)
        if not a.any():
            continue
        need = per_point(site, zone, key).astype(float)
        if key == "secondary_rssi_dbm":
            second = np.nan_to_num(rm.second_rssi_dbm[iy, ix].astype(float), nan=-np.inf)
            ok = second >= need - 1e-6
        elif key == "min_snr_db":
            ok = rm.snr_db[iy, ix] >= need - 1e-6
        elif key == "min_data_rate_mbps":
            ok = rate >= need - 1e-9
        else:                                   # channel overlap: the busiest channel
            level = per_point(site, zone, "channel_overlap_dbm").astype(float)
            r = rm.rssi_dbm[:, iy, ix].astype(float)
            ch = np.asarray(rm.channels)
            heard = np.zeros(len(iy), int)
            for c in np.unique(ch):
                heard = np.maximum(heard, (r[ch == c] >= level[None] - 1e-6).sum(0))
            ok = heard <= need
        out[key] = (a, np.asarray(ok, bool) & a)
    return out, rate


def figures_at(site: Site, rm, iy, ix, req_dbm, zone) -> Figures:
    """:class:`Figures` of radio map ``rm`` at grid points (``iy``, ``ix``), with each
    point's requirement ``req_dbm`` [dBm] and its zone index ``zone`` (-1: none; the zone's
    requirements of :mod:`wifiplan.requirements` apply, the defaults elsewhere)."""
    iy, ix = np.asarray(iy, int), np.asarray(ix, int)
    n = len(iy)
    zone = np.asarray(zone, int)

    def share(ok):
        return float(ok.sum() / n) if n else None

    def pct(v, q):
        return float(np.percentile(v, q)) if n else None

    best = rm.best_rssi_dbm[iy, ix].astype(float)
    second = rm.second_rssi_dbm[iy, ix].astype(float)
    sep = rm.co_channel_separation_db[iy, ix].astype(float)
    sinr = rm.sinr_db[iy, ix].astype(float)
    covered = best >= np.asarray(req_dbm, float) - 1e-6
    boundary = np.isfinite(second) & (best - second <= BOUNDARY_WITHIN_DB)
    judged = band_judged(site, zone)
    lo, hi = BOUNDARY_BAND_DBM
    nb = int((boundary & judged).sum())
    in_band = boundary & judged & (best >= lo) & (best <= hi)
    fin = sep[np.isfinite(sep)]
    by_power = None
    if nb:
        med = float(np.median(best[boundary & judged]))
        if med > hi:
            d = float(np.ceil(med - hi - 1e-9))       # APs are set in whole dB
            low = best - d
            by_power = {"boundary_median_dbm": med, "above_band_db": d,
                        "band_share": float((boundary & judged & (low >= lo) & (low <= hi))
                                            .sum() / nb),
                        "coverage": float((low >= np.asarray(req_dbm, float) - 1e-6).sum() / n)}
    checks, rate = requirement_checks(site, rm, iy, ix, zone)
    return Figures(
        points=n,
        primary_coverage=share(covered),
        coverage_at_roam_threshold=share(best >= ROAM_THRESHOLD_DBM),
        snr_ok_share=share(rm.snr_db[iy, ix] >= per_point(site, zone, "min_snr_db")),
        sinr_ok_share=share(sinr >= per_point(site, zone, "min_sinr_db") - 1e-6),
        sinr_p5_db=pct(sinr, 5),
        boundary_points=nb,
        boundary_points_not_judged=int((boundary & ~judged).sum()),
        boundary_band_share=float(in_band.sum() / nb) if nb else None,
        secondary_coverage=share(np.nan_to_num(second, nan=-999) >= ROAM_THRESHOLD_DBM),
        co_channel_separation_min_db=float(fin.min()) if len(fin) else None,
        co_channel_separation_p5_db=co_channel_separation_p5_db(sep),
        co_channel_margin_p5_db=co_channel_separation_p5_db(
            sep - per_point(site, zone, "co_channel_separation_db")),
        best_rssi_p5_dbm=pct(best, 5),
        best_rssi_median_dbm=float(np.median(best)) if n else None,
        best_rssi_dbm=best, covered=covered, band_by_power=by_power, checks=checks,
        data_rate_mbps=rate)


def evaluate_plan(site: Site, plan_or_aps, model=None, resolution_m: float = 1.0,
                  radiomap=None, *, zones=None, min_rssi_dbm: float | None = None,
                  capacity: bool = True) -> PlanMetrics:
    """Metrics of a plan (a :class:`~wifiplan.plan.Plan` or a list of APs).

    Parameters: ``model`` a PropagationModel (default: the site's); ``resolution_m`` [m]
    grid step of the radio map computed when ``radiomap`` is not given; ``zones`` restricts
    the measured zones (names); ``min_rssi_dbm`` replaces every zone's requirement.

    Returns a dict with ``ap_count, primary_coverage, boundary_band_share,
    secondary_coverage, co_channel_separation_min_db, co_channel_separation_p5_db,
    cell_area_m2, zones, uncovered_zones, co_channel_conflicts``, and ``backhaul`` when the
    APs have switch ports; besides, ``regulatory_domain, channels, coverage_basis,
    resolution_m, violations, warnings`` and ``capacity`` (cell airtime summary, see
    :func:`wifiplan.capacity.cell_load`) when the zones have terminals.
    """
    aps = list(plan_or_aps.aps if hasattr(plan_or_aps, "aps") else plan_or_aps)
    if radiomap is None:
        model = model or PropagationModel.for_site(site)
        radiomap = compute_radiomap(site, aps, resolution_m=resolution_m, model=model)
    rm = radiomap
    model = rm.model
    rp = required_points(site, rm.resolution_m, zones, min_rssi_dbm)
    area = rm.resolution_m ** 2
    warnings = []
    if rp.basis == "outline":
        warnings.append("the site has no zones: coverage is measured over the whole outline at "
                        f"{DEFAULT_MIN_RSSI_DBM:g} dBm; add zones (where terminals work) to plan "
                        "for them")
    ids = [a.id for a in aps]
    m: PlanMetrics = {"ap_count": len(aps), "regulatory_domain": site.regulatory_domain,
               "channels": sorted({int(a.channel) for a in aps}),
               "coverage_basis": rp.basis, "resolution_m": float(rm.resolution_m)}
    if len(aps) == 0:
        m.update({"primary_coverage": 0.0 if rp.n else None, "boundary_band_share": None,
                  "secondary_coverage": 0.0 if rp.n else None,
                  "co_channel_separation_min_db": None, "co_channel_separation_p5_db": None,
                  "cell_area_m2": {}, "zones": {}, "uncovered_zones": [],
                  "co_channel_conflicts": []})
        sel = zone_indices(site, zones) if site.zones else []
        for k in sel:
            z = site.zones[k]
            m["zones"][z.name] = {"coverage": 0.0, "min_rssi_dbm": float(
                min_rssi_dbm if min_rssi_dbm is not None else z.min_rssi_dbm),
                "worst_rssi_dbm": None}
            m["uncovered_zones"].append(z.name)
        for key, sk in SHARE_KEYS.items():
            if rp.n and asked(site, rp.zone, key).any():
                m[sk] = 0.0
        warnings.append("the plan has no APs")
        m["violations"] = []
        m["warnings"] = warnings
        return m

    f = figures_at(site, rm, rp.iy, rp.ix, rp.req_dbm, rp.zone)
    best = f.best_rssi_dbm
    covered = f.covered
    m["primary_coverage"] = _r(f.primary_coverage)
    m["boundary_band_share"] = _r(f.boundary_band_share)
    m["boundary_points"] = f.boundary_points
    m["boundary_points_not_judged"] = f.boundary_points_not_judged
    m["boundary_band_conflicts"] = band_conflicts(site)
    m["sinr_ok_share"] = _r(f.sinr_ok_share)
    m["secondary_coverage"] = _r(f.secondary_coverage)
    m["co_channel_separation_min_db"] = _r(f.co_channel_separation_min_db, 2)
    m["co_channel_separation_p5_db"] = _r(f.co_channel_separation_p5_db, 2)
    for key in f.checks:
        m[SHARE_KEYS[key]] = _r(f.share(key))
    cells = rm.cell_area_m2(ROAM_THRESHOLD_DBM)
    m["cell_area_m2"] = {a.id: round(float(c), 1) for a, c in zip(aps, cells)}
    zres = {}
    uncovered = []
    if rp.basis == "zones":
        for k in sorted(set(rp.zone.tolist())):
            z = site.zones[k]
            sel = rp.zone == k
            cov = float(covered[sel].mean())
            zres[z.name] = {"coverage": round(cov, 4),
                            "min_rssi_dbm": float(rp.req_dbm[sel][0]),
                            "worst_rssi_dbm": _r(best[sel].min(), 1),
                            "area_m2": round(float(sel.sum() * area), 1)}
            r = z.requirements
            for key in f.checks:
                if r.asks(key):
                    zres[z.name][key] = getattr(r, key)
                    if key == "channel_overlap_max_aps":
                        zres[z.name]["channel_overlap_dbm"] = r.channel_overlap_dbm
                    zres[z.name][SHARE_KEYS[key]] = _r(f.share(key, sel))
            if cov < ZONE_COVERAGE_TARGET:
                uncovered.append(z.name)
    m["zones"] = zres
    m["uncovered_zones"] = uncovered
    rssi_pts = rm.rssi_dbm[:, rp.iy, rp.ix]
    m["co_channel_conflicts"] = co_channel_conflicts(rssi_pts, [a.channel for a in aps], ids,
                                                     area)
    if any(a.switch for a in aps):
        m["backhaul"] = backhaul_summary(site, aps)
    m["violations"] = plan_violations(site, aps, model.ap_gain_dbi)
    if capacity and rp.basis == "zones" and site.terminal_count > 0:
        frame = cell_load(site, rm)
        s = frame.attrs["summary"]
        m["capacity"] = {"ok": s["ok"], "max_airtime": _r(s["max_airtime"], 3),
                         "cells_over_budget": s["cells_over_budget"],
                         "total_demand_mbps": _r(s["total_demand_mbps"], 2),
                         "airtime_budget": s["airtime_budget"],
                         "failures": s["failures"]}
    m["warnings"] = warnings
    return m


def requirement_text(key: str, zone: dict) -> str:
    """A requirement of :data:`SHARE_KEYS` as the reports write it, from a zone's entry in
    :class:`PlanMetrics` (``zones``): "secondary signal >= -67 dBm"."""
    label, unit = LABELS[key]
    if key == "channel_overlap_max_aps":
        n = zone[key]
        return (f"{label}: at most {n} AP{'s' if n != 1 else ''} per channel above "
                f"{zone['channel_overlap_dbm']:g} dBm")
    return f"{label} >= {zone[key]:g} {unit}"


def unmet_requirements(m: PlanMetrics) -> dict[str, list[str]]:
    """Zone name -> the requirements the zone misses (fewer than
    :data:`~wifiplan.rules.ZONE_COVERAGE_TARGET` of its points meet them), each with its
    share: the primary level and every requirement of :data:`SHARE_KEYS` the zone asks."""
    out: dict[str, list[str]] = {}
    for name, z in (m.get("zones") or {}).items():
        miss = []
        cov = z.get("coverage")
        if cov is not None and cov < ZONE_COVERAGE_TARGET:
            miss.append(f"{LABELS['min_rssi_dbm'][0]} >= {z['min_rssi_dbm']:g} dBm at "
                        f"{100 * cov:.1f} % of its points")
        for key, sk in SHARE_KEYS.items():
            v = z.get(sk)
            if v is not None and v < ZONE_COVERAGE_TARGET:
                miss.append(f"{requirement_text(key, z)} at {100 * v:.1f} % of its points")
        if miss:
            out[name] = miss
    return out


def format_metrics(m: PlanMetrics) -> str:
    """Human-readable summary of :func:`evaluate_plan`'s result (for the CLI and reports)."""
    def pct(v):
        return "n/a" if v is None else f"{100 * v:.1f} %"

    def db(v):
        return "n/a (no co-channel AP heard)" if v is None else f"{v:.1f} dB"
    lines = [f"APs: {m['ap_count']}" + (f"  ({m['ap_count_reason']})" if m.get("ap_count_reason")
                                        else ""),
             f"regulatory domain: {m.get('regulatory_domain')}, channels used: "
             f"{', '.join(map(str, m.get('channels', [])))} (20 MHz, non-DFS)",
             f"primary coverage: {pct(m['primary_coverage'])} of required points "
             f"({m.get('coverage_basis')}, {m.get('resolution_m')} m grid)",
             f"cell boundaries in {BOUNDARY_BAND_DBM[0]:g}..{BOUNDARY_BAND_DBM[1]:g} dBm: "
             f"{pct(m['boundary_band_share'])} of "
             f"{m.get('boundary_points', 0)} boundary points"
             + (f" ({m['boundary_points_not_judged']} more in zones where the band cannot "
                f"hold)" if m.get("boundary_points_not_judged") else ""),
             f"secondary coverage (second server >= {ROAM_THRESHOLD_DBM:g} dBm): "
             f"{pct(m['secondary_coverage'])}",
             f"co-channel separation: min {db(m['co_channel_separation_min_db'])}, "
             f"5th percentile {db(m['co_channel_separation_p5_db'])} "
             f"(target >= {CO_CHANNEL_MIN_SEPARATION_DB:g} dB)"]
    for key, sk in SHARE_KEYS.items():
        if sk in m:
            lines.append(f"{LABELS[key][0]} (zones that ask it): {pct(m[sk])} of their points")
    for name, z in m.get("zones", {}).items():
        worst = z["worst_rssi_dbm"]
        lines.append(f"  zone {name}: {pct(z['coverage'])} at >= {z['min_rssi_dbm']:g} dBm, "
                     f"worst {worst if worst is not None else 'n/a'} dBm"
                     + "".join(f"; {requirement_text(key, z)}: {pct(z[sk])}"
                               for key, sk in SHARE_KEYS.items() if sk in z))
    for name, why in (m.get("boundary_band_conflicts") or {}).items():
        lines.append(f"  zone {name}: {why}")
    if m.get("cell_area_m2"):
        lines.append("cell area [m2]: " + ", ".join(f"{k} {v:g}"
                                                    for k, v in m["cell_area_m2"].items()))
    conf = m.get("co_channel_conflicts") or []
    if conf:
        lines.append(f"co-channel pairs below 19 dB: {len(conf)} (worst: "
                     + "; ".join(f"{c['aps'][0]}/{c['aps'][1]} ch {c['channel']} "
                                 f"{c['min_separation_db']:g} dB over {c['area_m2']:g} m2"
                                 for c in conf[:3]) + ")")
    if m.get("co_channel_note"):
        lines.append(m["co_channel_note"])
    bh = m.get("backhaul")
    if bh:
        for s, v in bh.get("switches", {}).items():
            lines.append(f"switch {s}: {v['ports_used']}/{v['ports']} ports, PoE "
                         f"{v['poe_w']:g}/{v['poe_budget_w']:g} W"
                         + ("  OVER BUDGET" if v.get("poe_over_budget") else ""))
        if bh.get("longest_cable_m") is not None:
            lines.append(f"longest cable run: {bh['longest_cable_m']:g} m")
        for f in bh.get("flags", []):
            lines.append(f"  backhaul: {f}")
    cap = m.get("capacity")
    if cap:
        lines.append(f"capacity: {'ok' if cap['ok'] else 'FAILS'}, max airtime "
                     + ("inf" if cap['max_airtime'] is None
                        else f"{100 * cap['max_airtime']:.0f} %")
                     + f" (budget {100 * cap['airtime_budget']:.0f} %)")
        for f in cap.get("failures", []):
            lines.append(f"  capacity: {f}")
    for v in m.get("violations", []):
        lines.append(f"VIOLATION: {v}")
    for w in m.get("warnings", []):
        lines.append(f"warning: {w}")
    if m.get("uncovered_zones"):
        lines.append("UNCOVERED zones (< 99 % of points at their requirement): "
                     + ", ".join(m["uncovered_zones"]))
    return "\n".join(lines)
