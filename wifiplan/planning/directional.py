"""Directional candidates: a sector antenna at each end of an aisle, pointing down it.

Between tall rack rows an omni AP lights its own aisle and little else, and the racks
reaching to near the ceiling leave few mount points above an aisle; warehouse designs mount
a sector or patch antenna at the aisle's end and point it down the aisle (which is why
planning tools such as Ekahau AI Pro model external directional antennas). The planner makes
that a candidate beside its ceiling grid: for every aisle of the planned zones
(:func:`wifiplan.routes.find_aisles`), at each end, an AP of
:data:`AISLE_AP_MODEL` with the built-in :data:`AISLE_ANTENNA` pattern
(:mod:`wifiplan.radio.antenna`), its boresight along the aisle and tilted down to the aisle's
middle at terminal height. A mounting is offered when it brings its aisle to the
requirement with less power than any omni candidate could (:func:`better_than_omni`: down a
long aisle from its end, where the ceiling above the aisle admits no mount); whether one is
chosen is then the planner's objective's decision, as for every other candidate.

**Powers on one scale**: the placement and power steps work with one power range for all
candidates. A candidate's layer is shifted by :func:`power_offset_db`, the difference of its
highest allowed power to the omni's, so that the planner's power ``p`` of a directional
candidate stands for a transmit power ``p - offset`` [dBm]: where the domain's EIRP limit
binds (``EIRP = tx + peak gain``), the scale is the EIRP less the omni's gain, the same for
every antenna, so that the planner's "total power" compares radiated powers. The APs the
planner writes carry their real transmit power, within their own limits
(:func:`wifiplan.evaluation.checks.ap_power_range_dbm`), and the fine stage tunes it so.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from ..evaluation.checks import ap_power_range_dbm
from ..plan import AP, mount_of
from ..routes import Aisle, find_aisles
from ..validation import Ctx
from .placement import mount_ok

#: The antenna and the AP model of an aisle candidate (a model with antenna connectors).
AISLE_ANTENNA = "sector"
AISLE_AP_MODEL = "generic-external-antenna"
#: How far from an aisle's end its antenna is mounted, tried in this order [m].
AISLE_END_INSETS_M = (1.0, 2.0, 3.0)
#: The share of its aisle's points a mounting is judged on (:func:`better_than_omni`).
AISLE_COVER_SHARE = 0.99


@dataclass(frozen=True)
class Mounting:
    """A directional candidate: position [m], boresight azimuth (0 = +x,
    counter-clockwise) and down-tilt [deg], the aisle it points down."""
    x_m: float
    y_m: float
    azimuth_deg: float
    tilt_deg: float
    aisle: Aisle

    def serves(self, x, y) -> np.ndarray:
        """True at the points (x, y) [m] on its aisle's free floor."""
        s, e = np.asarray(self.aisle.start, float), np.asarray(self.aisle.end, float)
        u = (e - s) / max(self.aisle.length_m, 1e-9)
        dx, dy = np.asarray(x, float) - s[0], np.asarray(y, float) - s[1]
        along = dx * u[0] + dy * u[1]
        across = np.abs(-dx * u[1] + dy * u[0])
        return (along >= 0) & (along <= self.aisle.length_m) & (across <= self.aisle.width_m / 2)


def better_than_omni(mounts, gain_dir, gain_omni, req, x, y, share: float = AISLE_COVER_SHARE
                     ) -> np.ndarray:
    """Which mountings light their aisle with less power than any omni candidate: the power
    [dBm, the planner's scale] that brings ``share`` of the aisle's required points (``req``
    [dBm] finite, at ``x``, ``y`` [m]) to their requirement, below the least any omni
    candidate needs for it. ``gain_dir`` (n_mount, n_pts), ``gain_omni`` (n_cand, n_pts)
    [dB]. A sector that no omni is worse than only lengthens the planner's search."""
    out = np.zeros(len(mounts), bool)
    for i, m in enumerate(mounts):
        pts = m.serves(x, y) & np.isfinite(req)
        if not pts.any():
            continue
        need_dir = float(np.quantile(req[pts] - gain_dir[i, pts], share))
        need_omni = (float(np.quantile(req[pts][None, :] - gain_omni[:, pts], share, axis=1)
                           .min()) if len(gain_omni) else np.inf)
        out[i] = need_dir < need_omni - 1e-6
    return out


def aisle_mountings(site, height_m: float, client_height_m: float, zones=None
                    ) -> list[Mounting]:
    """One mounting at each end of every aisle of ``zones`` (names, default all): at the
    first admissible mount point (:func:`~wifiplan.planning.placement.mount_ok`)
    :data:`AISLE_END_INSETS_M` into the aisle, pointing down it and tilted to its middle."""
    out = []
    for a in find_aisles(site, zones):
        s, e = np.asarray(a.start, float), np.asarray(a.end, float)
        u = (e - s) / max(a.length_m, 1e-9)
        tilt = math.degrees(math.atan2(height_m - client_height_m, a.length_m / 2))
        for end, d in ((s, u), (e, -u)):
            for inset in AISLE_END_INSETS_M:
                if inset >= a.length_m / 2:
                    break
                x, y = end + d * inset
                if mount_ok(site, float(x), float(y)):
                    out.append(Mounting(round(float(x), 2), round(float(y), 2),
                                        round(math.degrees(math.atan2(d[1], d[0])), 2),
                                        round(tilt, 2), a))
                    break
    return out


def mounting_ap(m: Mounting, ap_id: str, height_m: float, channel: int,
                tx_power_dbm: float) -> AP:
    """The AP of a mounting, with its antenna mounted (the plan file's rule,
    :func:`wifiplan.plan.mount_of`)."""
    ap = AP(ap_id, m.x_m, m.y_m, height_m, channel=int(channel), width_mhz=20,
            tx_power_dbm=float(tx_power_dbm), model=AISLE_AP_MODEL, antenna=AISLE_ANTENNA,
            azimuth_deg=m.azimuth_deg, tilt_deg=m.tilt_deg)
    ap.mount = mount_of(Ctx("<planner>", {}), (), ap.to_dict(), None)
    return ap


def power_offset_db(site, ap: AP, channels, site_gain_dbi: float, omni_max_dbm: float) -> float:
    """How much the planner's power scale stands above the AP's transmit power [dB]: the
    omni's highest power ``omni_max_dbm`` less the AP's own on the tightest of
    ``channels`` (module docstring)."""
    hi = min(ap_power_range_dbm(site, _on(ap, c), site_gain_dbi)[1] for c in channels)
    return float(omni_max_dbm - hi)


def power_range_dbm(site, ap: AP, channels, site_gain_dbi: float) -> tuple[float, float]:
    """The AP's own (lowest, highest) transmit power [dBm], the tightest over ``channels``."""
    lims = [ap_power_range_dbm(site, _on(ap, c), site_gain_dbi) for c in channels]
    return max(lo for lo, _ in lims), min(hi for _, hi in lims)


def _on(ap: AP, channel: int) -> AP:
    return replace(ap, channel=int(channel))
