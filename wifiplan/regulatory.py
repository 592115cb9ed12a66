"""Regulatory domains: which 5 GHz 20 MHz channels a site may use, and at what power.

Domains
-------
- ``seed``: the house rule of the design document (8.1.3.5): the eight non-DFS channels
  36 40 44 48 149 153 157 161, nothing else.
- ``JP``: MIC Radio Law rules for 5 GHz wireless LAN. W52 (36-48) indoor, non-DFS, 200 mW
  (23 dBm) EIRP; W53 (52-64) DFS, 23 dBm; W56 (100-140) DFS, 1 W (30 dBm). W58 (149-165) is
  treated as not available unless the site enables it (``enable_w58: true``); then
  non-DFS, 23 dBm.
- ``US``: FCC 47 CFR 15.407. U-NII-1 (36-48) and U-NII-3 (149-165) non-DFS, 36 dBm EIRP
  (1 W conducted + 6 dBi); U-NII-2A (52-64) and U-NII-2C (100-144) DFS, 30 dBm EIRP.
- ``EU``: ETSI EN 301 893. 36-48 non-DFS, 23 dBm EIRP, indoor; 52-64 DFS, 23 dBm;
  100-140 DFS, 30 dBm. 149-165 are not available to wireless LAN access points.

Centre frequency of channel N: 5000 + 5 N [MHz] (IEEE 802.11-2020, 17.3.8.4.2).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import InputError

WIDTH_MHZ = 20
SEED_CHANNELS = (36, 40, 44, 48, 149, 153, 157, 161)


@dataclass(frozen=True)
class Channel:
    number: int
    freq_mhz: float
    dfs: bool
    max_eirp_dbm: float
    opt_in: bool = False  # usable only when the site enables it (Japan W58)


def centre_freq_mhz(channel):
    """Centre frequency [MHz] of a 5 GHz channel number (scalar or array)."""
    return 5000.0 + 5.0 * channel


def _chs(numbers, dfs, eirp, opt_in=False):
    return [Channel(n, centre_freq_mhz(n), dfs, eirp, opt_in) for n in numbers]


@dataclass(frozen=True)
class Domain:
    name: str
    description: str
    channels: tuple[Channel, ...]

    def channel(self, number: int) -> Channel | None:
        for c in self.channels:
            if c.number == number:
                return c
        return None

    def allowed_channels(self, *, dfs: bool = False, enable_w58: bool = False) -> list[int]:
        """Channel numbers the domain allows (non-DFS only unless ``dfs``)."""
        return [c.number for c in self.channels
                if (dfs or not c.dfs) and (enable_w58 or not c.opt_in)]

    def is_allowed(self, number: int, *, dfs: bool = False, enable_w58: bool = False) -> bool:
        return number in self.allowed_channels(dfs=dfs, enable_w58=enable_w58)

    def max_eirp_dbm(self, number: int) -> float:
        c = self.channel(number)
        if c is None:
            raise InputError(f"channel {number} is not in regulatory domain {self.name}")
        return c.max_eirp_dbm


_W52 = (36, 40, 44, 48)
_W53 = (52, 56, 60, 64)
_UNII3 = (149, 153, 157, 161, 165)

DOMAINS: dict[str, Domain] = {
    "seed": Domain("seed", "design document 8.1.3.5: fixed non-DFS set, 36-48 and 149-161",
                   tuple(_chs(_W52, False, 23.0) + _chs((149, 153, 157, 161), False, 23.0))),
    "JP": Domain("JP", "Japan (MIC): W52 indoor non-DFS; W53/W56 DFS; W58 only if enabled",
                 tuple(_chs(_W52, False, 23.0) + _chs(_W53, True, 23.0)
                       + _chs(range(100, 141, 4), True, 30.0)
                       + _chs(_UNII3, False, 23.0, opt_in=True))),
    "US": Domain("US", "United States (FCC 15.407): U-NII-1 and U-NII-3 non-DFS",
                 tuple(_chs(_W52, False, 36.0) + _chs(_W53, True, 30.0)
                       + _chs(range(100, 145, 4), True, 30.0) + _chs(_UNII3, False, 36.0))),
    "EU": Domain("EU", "Europe (ETSI EN 301 893): only 36-48 non-DFS",
                 tuple(_chs(_W52, False, 23.0) + _chs(_W53, True, 23.0)
                       + _chs(range(100, 141, 4), True, 30.0))),
}

# Every 5 GHz channel that any domain knows is DFS somewhere in 52-144.
DFS_CHANNELS = frozenset(range(52, 145, 4))


def get_domain(name: str) -> Domain:
    try:
        return DOMAINS[name]
    except KeyError:
        raise InputError(f"unknown regulatory domain {name!r}, expected one of "
                         f"{', '.join(DOMAINS)}") from None


def is_dfs(channel: int) -> bool:
    """True for channels 52-144, where DFS (radar detection) is required in every domain."""
    return channel in DFS_CHANNELS


def band_of(channel: int | None = None, freq_mhz: float | None = None) -> str:
    """'2.4' or '5' (or '6'), from a channel number or a frequency [MHz]."""
    if freq_mhz is not None:
        if 2400 <= freq_mhz < 2500:
            return "2.4"
        if 5150 <= freq_mhz < 5925:
            return "5"
        if 5925 <= freq_mhz < 7125:
            return "6"
        return "unknown"
    if channel is not None and 1 <= channel <= 14:
        return "2.4"
    return "5"


def channel_from_freq(freq_mhz) -> np.ndarray:
    """Channel number from a centre frequency [MHz] (IEEE 802.11-2020 17.3.8.4.2, 19.3.15)."""
    f = np.asarray(freq_mhz, float)
    with np.errstate(invalid="ignore"):
        ch = np.where(f == 2484, 14, np.where(f < 2500, (f - 2407) / 5, (f - 5000) / 5))
    return np.where(np.isfinite(ch), np.round(ch), np.nan)
