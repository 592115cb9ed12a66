"""Checks of a plan's APs: co-channel conflicts between pairs, the rules of the domain
(channels, DFS, width, EIRP; :func:`plan_violations`)."""
from __future__ import annotations

import numpy as np

from ..site import Site
from ..apmodels import model_of
from ..radio.antenna import peak_gain_dbi
from ..regulatory import WIDTH_MHZ, is_dfs
from ..rules import CO_CHANNEL_MIN_SEPARATION_DB, tx_power_range_dbm



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


