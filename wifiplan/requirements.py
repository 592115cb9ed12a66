"""The requirement contract: what a zone asks of the network, in one definition.

A zone of the site file names a **requirement profile** (``profile: voice``; the default is
``seed``) and may override single values of it (docs/site-format.md). A profile is a preset
of the contract, the way designers already think of it (Ekahau's requirement sets are the
convention); the built-in ones are :data:`PROFILES`, each with its source, and a site may
define its own under ``requirement_profiles:`` (:func:`parse_profiles`). The values:

- ``min_rssi_dbm``: primary coverage, the best server's level at every point [dBm];
- ``secondary_rssi_dbm``: the second-strongest AP's level at every point, so that a roaming
  terminal always has a candidate [dBm]; None: no requirement;
- ``min_snr_db``: the best server over the noise floor of :mod:`wifiplan.rules` [dB];
- ``min_sinr_db``: signal to interference plus noise of the best server [dB];
- ``min_data_rate_mbps``: the PHY rate at the point's SINR (the 802.11ax MCS table of
  :mod:`wifiplan.capacity`, its sensitivities referred to the noise floor) [Mb/s]; None: no
  requirement;
- ``channel_overlap_max_aps`` and ``channel_overlap_dbm``: at most that many APs on one
  channel heard at or above that level at a point (Ekahau's "channel overlap"); None: no
  requirement;
- ``co_channel_separation_db``: how far below the serving AP the strongest other AP on its
  channel must stay [dB];
- ``boundary_band``: whether the seed's cell-boundary band (-70..-65 dBm, small cells that
  hand over cleanly) applies to the zone (a zone without roaming terminals may drop it);
- ``airtime_budget``: the share of airtime a cell serving the zone may use.

The ``seed`` profile is the design default of :mod:`wifiplan.rules` (DESIGN.md section 6,
seed 8.1.3.5): a site that names no profile is judged exactly as before profiles existed.

The planner plans by the coverage level, the band, the secondary signal, the airtime budget,
and in its channel assignment by each zone's co-channel separation, the SINR its data rate
needs and its channel overlap (:mod:`wifiplan.planning.channels`),
:func:`wifiplan.evaluation.evaluate_plan`
and the cells' load (:func:`wifiplan.capacity.cell_load`) measure them, the phase criteria
(:mod:`wifiplan.rollout.criteria`) and ``survey check`` judge them and the UI edits them. A
requirement is judged where a zone **asks** it (:meth:`Requirements.asks`): the optional ones
where they are set, the SNR where it is stricter than the primary level (over the fixed noise
floor an SNR of s dB is a level of -95 + s dBm, which the primary requirement already judges
when it is at least that). :meth:`Requirements.boundary_band_conflict` says when a zone's own
values make the band impossible (a zone that asks -65 dBm everywhere cannot have its cell
boundaries below -65 dBm).
"""
from __future__ import annotations

import difflib
from dataclasses import asdict, dataclass, replace

import numpy as np

from .rules import (AIRTIME_BUDGET, BOUNDARY_BAND_DBM, BOUNDARY_BAND_TEXT,
                    CO_CHANNEL_MIN_SEPARATION_DB, DEFAULT_MIN_RSSI_DBM, MIN_RSSI_RANGE_DBM,
                    MIN_SNR_DB, NOISE_FLOOR_DBM, ROAM_THRESHOLD_DBM)
from .validation import check_keys, check_mapping, check_name, check_number

#: The level at or above which channel overlap counts an AP when a zone names none [dBm]:
#: Cisco's VoWLAN cell design puts the next same-channel cell 19 dB below the -67 dBm cell
#: edge, at -86 dBm (Cisco, Enterprise Mobility 4.1 Design Guide, chapter 9 "VoWLAN Design
#: Recommendations", "Cell Edge Design"); -85 dBm is that level as Ekahau's channel-overlap
#: requirement is commonly set.
CHANNEL_OVERLAP_DBM = -85.0
#: The highest channel-overlap count a zone may ask (more APs on one channel than this is
#: no requirement at all).
MAX_CHANNEL_OVERLAP_APS = 20
#: The default profile's name.
DEFAULT_PROFILE = "seed"


@dataclass(frozen=True)
class Requirements:
    """A zone's requirements (module docstring); levels in [dBm], margins in [dB], rates in
    [Mb/s]; None: the zone asks nothing of that kind."""
    min_rssi_dbm: float = DEFAULT_MIN_RSSI_DBM
    min_sinr_db: float = MIN_SNR_DB
    co_channel_separation_db: float = CO_CHANNEL_MIN_SEPARATION_DB
    boundary_band: bool = True
    airtime_budget: float = AIRTIME_BUDGET
    secondary_rssi_dbm: float | None = None
    min_snr_db: float = MIN_SNR_DB
    min_data_rate_mbps: float | None = None
    channel_overlap_max_aps: int | None = None
    channel_overlap_dbm: float = CHANNEL_OVERLAP_DBM

    def to_dict(self) -> dict:
        return asdict(self)

    def overrides(self, base: "Requirements | None" = None) -> dict:
        """The values that differ from ``base`` (default: the ``seed`` profile), what a
        site file writes beside the zone's profile."""
        b = (base or Requirements()).to_dict()
        return {k: v for k, v in self.to_dict().items() if v != b[k]}

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

    @property
    def snr_level_dbm(self) -> float:
        """The best-server level the SNR requirement means over the noise floor [dBm]."""
        return NOISE_FLOOR_DBM + self.min_snr_db

    def asks(self, key: str) -> bool:
        """True when the zone asks requirement ``key`` of the judges beyond what its other
        requirements already judge (module docstring): the optional ones where set, the SNR
        where its level is above the primary requirement, the band where it is judged; the
        primary level, SINR, co-channel separation and airtime always."""
        if key in OPTIONAL:
            return getattr(self, key) is not None
        if key == "min_snr_db":
            return self.snr_level_dbm > self.min_rssi_dbm + 1e-9
        if key == "boundary_band":
            return self.judges_band
        return key in DEFAULTS


#: The keys a zone may set, with the ``seed`` profile's values (the site file's optional zone
#: keys besides ``profile``).
DEFAULTS = Requirements().to_dict()
#: The requirements that are None (not asked) unless a profile or a zone sets them.
OPTIONAL = ("secondary_rssi_dbm", "min_data_rate_mbps", "channel_overlap_max_aps")
#: Sane ranges of the numeric requirements, for the site file's checks.
RANGES = {"min_rssi_dbm": MIN_RSSI_RANGE_DBM, "secondary_rssi_dbm": MIN_RSSI_RANGE_DBM,
          "min_sinr_db": (0.0, 60.0), "min_snr_db": (0.0, 60.0),
          "co_channel_separation_db": (0.0, 60.0), "airtime_budget": (0.05, 1.0),
          "min_data_rate_mbps": (0.0, 10000.0),
          "channel_overlap_max_aps": (1, MAX_CHANNEL_OVERLAP_APS),
          "channel_overlap_dbm": MIN_RSSI_RANGE_DBM}
#: What the site file's check says it expected, where "a number from .. to .." says less.
WHAT = {"min_rssi_dbm": "a minimum RSSI in dBm",
        "secondary_rssi_dbm": "a secondary-signal level in dBm",
        "min_data_rate_mbps": "a data rate in Mb/s",
        "channel_overlap_max_aps": "a whole number of APs",
        "channel_overlap_dbm": "a channel-overlap level in dBm"}
#: The requirement as the reports and the UI name it, with its unit.
LABELS = {"min_rssi_dbm": ("primary signal", "dBm"),
          "secondary_rssi_dbm": ("secondary signal", "dBm"),
          "min_snr_db": ("SNR", "dB"), "min_sinr_db": ("SINR", "dB"),
          "min_data_rate_mbps": ("data rate", "Mb/s"),
          "channel_overlap_max_aps": ("channel overlap", "APs"),
          "channel_overlap_dbm": ("channel overlap level", "dBm"),
          "co_channel_separation_db": ("co-channel separation", "dB"),
          "boundary_band": ("boundary band", ""), "airtime_budget": ("airtime budget", "")}
#: The shortest span of the band that boundaries can still be tuned into [dB]: a zone whose
#: minimum leaves less of the band than this cannot have its boundaries in it.
MIN_BAND_SPAN_DB = 1.0


@dataclass(frozen=True)
class Profile:
    """A named preset of the requirement contract, with what it is for and its source."""
    name: str
    requirements: Requirements
    description: str
    source: str
    based_on: str | None = None     # a site's profile: the built-in one it starts from


#: The built-in profiles. Each value's source:
#:
#: - ``seed``: the seed's rules (seed 8.1.3.5, DESIGN.md section 6): -67 dBm primary, cells
#:   meeting in -70..-65 dBm, 25 dB SNR over the -95 dBm noise floor, same-channel
#:   neighbours 19 dB below, airtime under 50 %; no secondary, data-rate or overlap
#:   requirement (the seed asks none).
#: - ``voice``: Cisco's VoWLAN design for its wireless IP phones: a -67 dBm cell edge with
#:   20-30 % overlap of the neighbouring cell at that level (so a second AP at -67 dBm), SNR
#:   25 dB (noise at most -92 dBm under a -67 dBm signal), the next same-channel cell 19 dB
#:   below the edge (-86 dBm), channel utilisation under 50 % (Cisco Unified Wireless IP Phone
#:   7925G Deployment Guide, "Voice Network Design: Signal Strength, Channel Utilization,
#:   Noise"; Cisco Enterprise Mobility 4.1 Design Guide, chapter 9 "Cell Edge Design").
#:   The minimum data rate of 24 Mb/s and the channel overlap of at most one AP per channel
#:   heard above -85 dBm are the voice requirement set in Ekahau's terms; the -85 dBm level
#:   is Cisco's 19 dB same-channel separation below the -67 dBm edge
#:   (-86 dBm), rounded. 24 Mb/s needs MCS2 (25.8 Mb/s, 18 dB SINR) in the MCS table.
#: - ``video-stream``: THINKLET wearable cameras streaming video (the ``thinklet`` terminal
#:   profile of :mod:`wifiplan.capacity`: 5 Mb/s uplink + 0.2 Mb/s downlink, 1080p30 H.264).
#:   The minimum data rate 51.6 Mb/s (802.11ax MCS4, 20 MHz, 1 SS) is the lowest rate of the
#:   MCS table at which two such streams fit one cell's 50 % airtime budget at the 0.6 MAC
#:   efficiency of :mod:`wifiplan.capacity`: 2 x 5.2 / (0.6 x 51.6) = 33.6 %, while at MCS3
#:   (34.4 Mb/s) two streams take 50.4 %. Two cameras per cell is what the seed's scale rule
#:   (8.1.3.2: 2-4 terminals on 2-3 cells) puts in one cell, and the third third of the budget
#:   is left for the handhelds beside them. MCS4 needs -70 dBm, 25 dB over the noise floor:
#:   the seed's -67 dBm primary and 25 dB SNR/SINR carry it.
#:   The secondary signal is the seed's roaming threshold (-70 dBm, seed 8.1.3.5): a walking
#:   wearer always has a next AP to re-scan to before the stream stalls. No channel-overlap
#:   requirement: the co-channel separation and the airtime budget already judge contention.
#: - ``scanner``: handheld barcode terminals (short transactions, 2 Mb/s of image uploads at
#:   most, the ``handheld`` terminal profile): -75 dBm primary, -80 dBm secondary, SNR 16 dB
#:   (the data-collection requirement set). Checked against the MCS table: -75 dBm carries MCS2
#:   (25.8 Mb/s, -77 dBm), 16 dB over -95 dBm is MCS1's sensitivity (-79 dBm, 17.2 Mb/s); the
#:   SINR is held at the same 16 dB (a SINR above the SNR could never be met).
#:
#: The seed's boundary band (-70..-65 dBm) is the seed's own roaming design and is judged for
#: ``seed`` and ``video-stream`` (whose secondary signal is the seed's -70 dBm re-scan
#: threshold). ``voice`` replaces it by its -67 dBm overlap (a second AP at -67 dBm
#: everywhere puts every boundary at -67 dBm or above, against the band's -65 dBm top), and
#: ``scanner``'s -75/-80 dBm cells meet below the band: neither judges it.
PROFILES: dict[str, Profile] = {
    "seed": Profile("seed", Requirements(),
                    "the seed's rules: small cells meeting in the boundary band",
                    "seed 8.1.3.5; DESIGN.md section 6"),
    "voice": Profile("voice", Requirements(
        secondary_rssi_dbm=DEFAULT_MIN_RSSI_DBM, min_data_rate_mbps=24.0,
        channel_overlap_max_aps=1, channel_overlap_dbm=CHANNEL_OVERLAP_DBM,
        boundary_band=False),
        "voice over Wi-Fi (VoWLAN handsets, push-to-talk)",
        "Cisco 7925G Deployment Guide; Cisco Enterprise Mobility 4.1 Design Guide ch. 9; "
        "Ekahau's voice requirement set"),
    "video-stream": Profile("video-stream", Requirements(
        secondary_rssi_dbm=ROAM_THRESHOLD_DBM, min_data_rate_mbps=51.6),
        "THINKLET wearable cameras streaming video (5 Mb/s uplink each)",
        "two thinklet streams in a 50 % airtime budget at MCS4 (wifiplan.capacity)"),
    "scanner": Profile("scanner", Requirements(
        min_rssi_dbm=-75.0, secondary_rssi_dbm=-80.0, min_snr_db=16.0, min_sinr_db=16.0,
        boundary_band=False),
        "handheld barcode terminals (data collection)",
        "the data-collection requirement set, checked against the MCS table"),
}


def profile_names(site_profiles: dict | None = None) -> list[str]:
    """The built-in profiles' names, then the site's own."""
    return list(PROFILES) + [n for n in (site_profiles or {}) if n not in PROFILES]


def check_values(ctx, path: tuple, d: dict, keys=None) -> dict:
    """The requirement values of mapping ``d`` (only the keys of :data:`DEFAULTS` among
    ``keys``, default all of them) checked against :data:`RANGES`: numbers in range,
    ``boundary_band`` true or false, the optional ones also null (no requirement),
    ``channel_overlap_max_aps`` a whole number. ``ctx`` a :class:`wifiplan.validation.Ctx`;
    a bad value fails naming ``path`` + its key."""
    out = {}
    for k in (keys if keys is not None else DEFAULTS):
        if k not in d or k not in DEFAULTS:
            continue
        v, kp = d[k], path + (k,)
        if k == "boundary_band":
            if not isinstance(v, bool):
                ctx.fail(kp, f"expected true or false, got {v!r}")
            out[k] = v
            continue
        if v is None and k in OPTIONAL:
            out[k] = None
            continue
        lo, hi = RANGES[k]
        what = WHAT.get(k, f"a number from {lo:g} to {hi:g}") + (
            " (or null: no requirement)" if k in OPTIONAL else "")
        f = check_number(ctx, kp, v, lo=lo, hi=hi, what=what)
        if k == "channel_overlap_max_aps":
            if not float(f).is_integer():
                ctx.fail(kp, f"expected {what}, got {v!r}")
            f = int(f)
        if k == "min_data_rate_mbps" and f <= 0:
            ctx.fail(kp, f"expected a data rate above 0 Mb/s (or null: no requirement), "
                         f"got {v!r}")
        out[k] = f
    return out


def parse_profiles(ctx, raw) -> dict[str, Profile]:
    """A site's own profiles (``requirement_profiles:``, name -> values; an optional
    ``based_on:`` names the built-in profile it starts from, default ``seed``; an optional
    ``description``). A site may not redefine a built-in profile (``voice`` means the same
    in every site file)."""
    raw = check_mapping(ctx, ("requirement_profiles",), raw or {}, "requirement profiles")
    out: dict[str, Profile] = {}
    for name, d in raw.items():
        path = ("requirement_profiles", name)
        nm = check_name(ctx, path, name)
        if nm in PROFILES:
            ctx.fail(path, f"'{nm}' is a built-in profile; give the site's own profile "
                           f"another name (and based_on: {nm})")
        d = check_mapping(ctx, path, d, "a profile's requirement values")
        check_keys(ctx, path, d, set(DEFAULTS) | {"based_on", "description"})
        base = d.get("based_on", DEFAULT_PROFILE)
        if base not in PROFILES:
            ctx.fail(path + ("based_on",), f"unknown profile {base!r}, expected one of "
                                           f"{', '.join(PROFILES)}")
        vals = check_values(ctx, path, d)
        out[nm] = Profile(nm, replace(PROFILES[base].requirements, **vals),
                          str(d.get("description", "")), "the site file", based_on=base)
    return out


def resolve(ctx, path: tuple, zone: dict, site_profiles: dict | None = None
            ) -> tuple[str, Requirements]:
    """The profile a zone mapping names (``profile``, default ``seed``) and its requirements
    with the zone's own values over the profile's; fails naming ``path`` + the key."""
    names = profile_names(site_profiles)
    name = zone.get("profile", DEFAULT_PROFILE)
    if not isinstance(name, str) or name not in names:
        close = difflib.get_close_matches(str(name), names, n=1, cutoff=0.75)
        ctx.fail(path + ("profile",), f"unknown profile {name!r}, expected one of "
                 f"{', '.join(names)}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    base = profile_of(name, site_profiles).requirements
    return name, replace(base, **check_values(ctx, path, zone))


def profile_of(name: str, site_profiles: dict | None = None) -> Profile:
    """The profile of that name: the site's own or a built-in one (KeyError otherwise)."""
    if site_profiles and name in site_profiles:
        return site_profiles[name]
    return PROFILES[name]


def _at_points(values: list, default, zone_index) -> np.ndarray:
    """``values[k]`` at points of zone index ``k`` (-1, outside every zone: ``default``)."""
    vals = np.array(list(values) + [default])
    zi = np.asarray(zone_index, int)
    return vals[np.where(zi >= 0, zi, len(values))]


def per_point(site, zone_index: np.ndarray, key: str):
    """The requirement ``key`` at points of zone indices ``zone_index`` (-1: outside every
    zone, which gets the ``seed`` default); an optional requirement a zone does not ask is
    NaN."""
    vals = [getattr(z.requirements, key) for z in site.zones]
    if key in OPTIONAL:
        vals = [np.nan if v is None else float(v) for v in vals]
        return _at_points(vals, np.nan, zone_index).astype(float)
    return _at_points(vals, DEFAULTS[key], zone_index)


def asked(site, zone_index, key: str) -> np.ndarray:
    """True at points (zone indices, -1 outside every zone) whose zone asks requirement
    ``key`` (:meth:`Requirements.asks`; outside every zone: the ``seed`` profile)."""
    return _at_points([z.requirements.asks(key) for z in site.zones],
                      Requirements().asks(key), zone_index).astype(bool)


def site_asks(site, key: str) -> bool:
    """True when some zone of the site asks requirement ``key``."""
    return any(z.requirements.asks(key) for z in site.zones)


def roam_threshold_at(req_dbm) -> np.ndarray:
    """The level [dBm] below which a terminal re-scans, at points whose primary requirement
    is ``req_dbm``: the seed's -70 dBm (8.1.3.5), or the zone's own minimum where that is
    lower (a zone designed for -75 dBm, e.g. ``scanner``, has its terminals' threshold set
    below it: at -70 dBm they would scan in every cell)."""
    return np.minimum(ROAM_THRESHOLD_DBM, np.asarray(req_dbm, float))


def band_judged(site, zone_index) -> np.ndarray:
    """True at points (zone indices, -1 outside every zone) whose zone's boundaries are
    judged against the seed's band (:attr:`Requirements.judges_band`)."""
    return _at_points([z.requirements.judges_band for z in site.zones], True,
                      zone_index).astype(bool)


def band_conflicts(site) -> dict[str, str]:
    """Zone name -> why the seed's band cannot hold there, for the zones where it cannot."""
    return {z.name: r for z in site.zones
            if (r := z.requirements.boundary_band_conflict()) is not None}


def band_conflict_lines(conflicts: dict[str, str]) -> list[str]:
    """The band conflicts (:func:`band_conflicts`) as lines, the zones with the same reason
    named once together: ``zone A: why`` or ``zones A, B: why`` (reports and UI alike)."""
    by_reason: dict[str, list[str]] = {}
    for zone, why in conflicts.items():
        by_reason.setdefault(why, []).append(zone)
    return [f"zone {zs[0]}: {why}" if len(zs) == 1 else
            f"zones {', '.join(zs)}: {why.replace('the zone asks', 'each asks')}"
            for why, zs in by_reason.items()]
