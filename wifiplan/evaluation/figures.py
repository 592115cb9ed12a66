"""The figures of a radio map over any set of grid points, each judged by its zone's
requirements (:func:`figures_at` -> :class:`Figures`): the one evaluation of coverage,
boundaries, SINR, co-channel separation and the requirements a zone asks."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..site import Site
from ..capacity import phy_rate_at_sinr_mbps
from .checks import ap_power_range_dbm
from ..requirements import asked, band_judged, per_point, roam_threshold_at
from ..rules import (BOUNDARY_BAND_DBM, BOUNDARY_BAND_TARGET, BOUNDARY_WITHIN_DB,
                     ROAM_THRESHOLD_DBM)



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


@dataclass(frozen=True)
class Figures:
    """The figures of a radio map over a set of grid points, each point judged by its zone's
    requirements: the one evaluation of coverage, boundaries, SINR and co-channel separation
    (:func:`evaluate_plan` over a plan's required points, a rollout phase over its target area,
    a zone over its own points). Shares are fractions in 0..1, None over no points."""
    points: int
    primary_coverage: float | None          # best server >= the point's requirement
    coverage_at_roam_threshold: float | None  # best >= the roaming threshold (roam_threshold_at)
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
    #: ``{"boundary_median_dbm", "above_band_db", "band_share", "coverage", "held_share",
    #: "lowest_power_dbm"}``: the median boundary level, the whole dB it lies above the band,
    #: and the band share and primary coverage with every AP that much lower or at its lowest
    #: power where that is nearer (a common power change keeps every boundary where it is, so
    #: the figures are exact when no AP stops at its lowest); the share of the boundary points
    #: served by an AP that stops there, and the lowest power [dBm] of the plan's APs; None
    #: when the median lies in the band
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


#: When the APs serving at least this share of the boundary points cannot come down to the
#: band (their lowest power), the advice is about spacing and hardware, not power.
HELD_BY_LOWEST_POWER = 0.5


def band_tradeoff(bp: dict, coverage_target: float) -> tuple[str, str]:
    """What lowering every AP would do to the band and to coverage (``bp``: the
    ``band_by_power`` of :class:`Figures`), and what to do next, given the share of points a
    zone must keep at its minimum (``coverage_target``): (sentence, action)."""
    held = bp.get("held_share", 0.0)
    if held >= HELD_BY_LOWEST_POWER:
        trade = (f"the boundaries lie at a median of {bp['boundary_median_dbm']:.1f} dBm, and "
                 f"the APs serving {held:.0%} of them cannot come down the "
                 f"{bp['above_band_db']:g} dB: they are at or near their lowest power "
                 f"({bp['lowest_power_dbm']:g} dBm)")
        action = ("the cells are closer together than the APs' lowest power allows: space "
                  "them farther apart or mount them higher (fewer cells, where the scale rule "
                  "and capacity allow), or use an AP model whose power goes lower")
        return trade, action
    lower = ("every AP" if not held else
             "every AP (those at their lowest power as far as they go)")
    trade = (f"the boundaries lie at a median of {bp['boundary_median_dbm']:.1f} dBm; {lower} "
             f"{bp['above_band_db']:g} dB lower would put {bp['band_share']:.0%} of them in the "
             f"band with {bp['coverage']:.1%} of the points still at their minimum RSSI")
    if bp["coverage"] < coverage_target:
        action = ("the weakest points of each cell (shadows behind obstacles, far corners) "
                  "keep the powers up: add or move cells there so that the others can be "
                  "lowered, or set boundary_band: false for zones whose terminals do not roam")
    elif bp["band_share"] >= BOUNDARY_BAND_TARGET:
        action = (f"lower every AP by {bp['above_band_db']:g} dB (each AP's tx_power_dbm in "
                  "the plan)")
    else:
        action = ("the boundary levels spread wider than the band: move APs so that the cells "
                  "are of even size, then lower them")
    return trade, action


def boundary_masks(site: Site, best, second, zone):
    """(boundary, judged, in_band) at points with best and second server levels ``best``,
    ``second`` [dBm] in zones ``zone``: cell-boundary points (both heard, within
    :data:`~wifiplan.rules.BOUNDARY_WITHIN_DB`), points whose zone is judged against the
    band, and judged boundary points inside :data:`~wifiplan.rules.BOUNDARY_BAND_DBM`."""
    boundary = np.isfinite(second) & (best - second <= BOUNDARY_WITHIN_DB)
    judged = band_judged(site, zone)
    lo, hi = BOUNDARY_BAND_DBM
    return boundary, judged, boundary & judged & (best >= lo) & (best <= hi)


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
    boundary, judged, in_band = boundary_masks(site, best, second, zone)
    lo, hi = BOUNDARY_BAND_DBM
    nb = int((boundary & judged).sum())
    fin = sep[np.isfinite(sep)]
    by_power = None
    if nb:
        med = float(np.median(best[boundary & judged]))
        if med > hi:
            d = float(np.ceil(med - hi - 1e-9))       # APs are set in whole dB
            # each AP comes down d dB, or to its lowest power where that is nearer
            lowest = np.array([ap_power_range_dbm(site, a, rm.model.ap_gain_dbi)[0]
                               for a in rm.aps], float)
            drop = np.clip(np.array([a.tx_power_dbm for a in rm.aps], float) - lowest, 0, d)
            jb = boundary & judged
            held = jb & (drop[rm.best_server[iy, ix]] < d)
            if held.any():
                r = rm.rssi_dbm[:, iy, ix].astype(float) - drop[:, None]
                low, second_low = -np.sort(-r, axis=0)[:2]     # two APs at least (nb > 0)
                b_low, _, band_low = boundary_masks(site, low, second_low, zone)
                nb_low = int((b_low & judged).sum())
                share_low = float(band_low.sum() / nb_low) if nb_low else 0.0
            else:           # a common change keeps every boundary where it is: exact
                low = best - d
                share_low = float((jb & (low >= lo) & (low <= hi)).sum() / nb)
            by_power = {"boundary_median_dbm": med, "above_band_db": d,
                        "band_share": share_low,
                        "coverage": float((low >= np.asarray(req_dbm, float) - 1e-6).sum() / n),
                        "held_share": float(held.sum() / nb),
                        "lowest_power_dbm": float(lowest.min())}
    checks, rate = requirement_checks(site, rm, iy, ix, zone)
    return Figures(
        points=n,
        primary_coverage=share(covered),
        coverage_at_roam_threshold=share(best >= roam_threshold_at(req_dbm)),
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


