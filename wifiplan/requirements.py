"""The requirement contract: what a zone asks of the network, in one definition.

A zone of the site file may name its own values (docs/site-format.md); whatever it leaves
out is the design default of :mod:`wifiplan.rules` (DESIGN.md section 6, seed 8.1.3.5):

- ``min_rssi_dbm``: primary coverage, the best server's level at every point [dBm];
- ``min_sinr_db``: signal to interference plus noise of the best server [dB];
- ``co_channel_separation_db``: how far below the serving AP the strongest other AP on its
  channel must stay [dB];
- ``boundary_band``: whether the seed's cell-boundary band (-70..-65 dBm, small cells that
  hand over cleanly) applies to the zone (a zone without roaming terminals may drop it);
- ``airtime_budget``: the share of airtime a cell serving the zone may use.

The planner plans by the coverage level, the band and the airtime budget (its channel
assignment aims at the default co-channel separation), :func:`wifiplan.evaluation.evaluate_plan`
and the cells' load (:func:`wifiplan.capacity.cell_load`) measure them, the phase criteria
(:mod:`wifiplan.rollout.criteria`) judge them and the UI edits them; a zone's own value
always wins over a default. :meth:`Requirements.boundary_band_conflict`
says when a zone's own values make the band impossible (a zone that asks -65 dBm everywhere
cannot have its cell boundaries below -65 dBm).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .rules import (AIRTIME_BUDGET, BOUNDARY_BAND_DBM, BOUNDARY_BAND_TEXT,
                    CO_CHANNEL_MIN_SEPARATION_DB, DEFAULT_MIN_RSSI_DBM, MIN_SNR_DB)

#: The keys a zone may set, with their defaults (the site file's optional zone keys).
DEFAULTS = {"min_rssi_dbm": DEFAULT_MIN_RSSI_DBM, "min_sinr_db": MIN_SNR_DB,
            "co_channel_separation_db": CO_CHANNEL_MIN_SEPARATION_DB,
            "boundary_band": True, "airtime_budget": AIRTIME_BUDGET}
#: Sane ranges of the numeric requirements, for the site file's checks.
RANGES = {"min_sinr_db": (0.0, 60.0), "co_channel_separation_db": (0.0, 60.0),
          "airtime_budget": (0.05, 1.0)}
#: The shortest span of the band that boundaries can still be tuned into [dB]: a zone whose
#: minimum leaves less of the band than this cannot have its boundaries in it.
MIN_BAND_SPAN_DB = 1.0


@dataclass(frozen=True)
class Requirements:
    """A zone's requirements (module docstring); levels in [dBm], margins in [dB]."""
    min_rssi_dbm: float = DEFAULT_MIN_RSSI_DBM
    min_sinr_db: float = MIN_SNR_DB
    co_channel_separation_db: float = CO_CHANNEL_MIN_SEPARATION_DB
    boundary_band: bool = True
    airtime_budget: float = AIRTIME_BUDGET

    def to_dict(self) -> dict:
        return asdict(self)

    def overrides(self) -> dict:
        """The values that differ from the defaults (what a site file writes)."""
        return {k: v for k, v in self.to_dict().items() if v != DEFAULTS[k]}

    @property
    def band_dbm(self) -> tuple[float, float]:
        """The part of the seed's band a boundary in this zone can lie in [dBm]: from the
        higher of the band's floor and the zone's minimum to the band's top."""
        lo, hi = BOUNDARY_BAND_DBM
        return max(lo, self.min_rssi_dbm), hi

    def boundary_band_conflict(self) -> str | None:
        """Why the seed's band cannot hold in this zone (its own minimum leaves less than
        :data:`MIN_BAND_SPAN_DB` of it), or None."""
        lo, hi = self.band_dbm
        if self.boundary_band and hi - lo < MIN_BAND_SPAN_DB:
            return (f"the zone asks {self.min_rssi_dbm:g} dBm everywhere, so its cell "
                    f"boundaries cannot lie in the {BOUNDARY_BAND_TEXT} band")
        return None

    @property
    def judges_band(self) -> bool:
        """True when the zone's boundaries are judged against the band."""
        return self.boundary_band and self.boundary_band_conflict() is None


def _at_points(values: list, default, zone_index) -> np.ndarray:
    """``values[k]`` at points of zone index ``k`` (-1, outside every zone: ``default``)."""
    vals = np.array(list(values) + [default])
    zi = np.asarray(zone_index, int)
    return vals[np.where(zi >= 0, zi, len(values))]


def per_point(site, zone_index: np.ndarray, key: str):
    """The requirement ``key`` at points of zone indices ``zone_index`` (-1: outside every
    zone, which gets the default)."""
    return _at_points([getattr(z.requirements, key) for z in site.zones], DEFAULTS[key],
                      zone_index)


def band_judged(site, zone_index) -> np.ndarray:
    """True at points (zone indices, -1 outside every zone) whose zone's boundaries are
    judged against the seed's band (:attr:`Requirements.judges_band`)."""
    return _at_points([z.requirements.judges_band for z in site.zones], True,
                      zone_index).astype(bool)


def band_conflicts(site) -> dict[str, str]:
    """Zone name -> why the seed's band cannot hold there, for the zones where it cannot."""
    return {z.name: r for z in site.zones
            if (r := z.requirements.boundary_band_conflict()) is not None}
