"""Channel assignment on an interference graph taken from the radio map.

Channels come from the site's regulatory domain, non-DFS only (seed 8.1.3.5; DESIGN.md
section 2), width fixed at 20 MHz. The aim is that wherever AP ``i`` serves, any other AP on
its channel is at least 19 dB weaker (DESIGN.md section 6).

Interference graph: the weight of the edge (i, j) is, summed over the required points
``p`` served best by ``i`` (and symmetrically by ``j``), with ``sep = rssi_i - rssi_j``::

    w_ij = sum_p area_p * ( max(0, 19 - sep) + 10 ** (-sep / 10) )

the first term is the shortfall from the 19 dB target [dB m2], the second the interference
power relative to the serving signal [m2] (it ranks pairs that already meet the target, so
far-apart APs share a channel first). Each point's target is its zone's (the requirement
contract, :mod:`wifiplan.requirements`): its co-channel separation, raised to the SINR its
minimum data rate needs where the zone asks one (:func:`wifiplan.capacity.sinr_for_rate_db`:
same-channel interference is what lowers the rate). Where a zone asks **channel overlap**
(at most ``m`` APs of one channel heard at or above a level ``L``), every pair heard at or
above ``L`` at a point adds ``19 / m`` [dB m2] per m2 (:func:`overlap_weights`): for
``m = 1`` a pair on one channel breaks the requirement there, as a pair with no separation
at all weighs; for larger ``m`` it is a pairwise surrogate of the count.

The objective is the total weight of edges whose ends share a channel: graph colouring
with weights (a minimum k-partition). Up to :data:`EXACT_MAX_APS` APs it is solved exactly
as a MILP (``scipy.optimize.milp``, HiGHS); beyond, by a greedy colouring in the order of
DSATUR (Brelaz, 1979) followed by single-AP moves to the cheapest channel, restarted from
shuffled orders.
"""
from __future__ import annotations

import numpy as np

from ..capacity import sinr_for_rate_db
from ..requirements import per_point
from ..rules import CO_CHANNEL_MIN_SEPARATION_DB

EXACT_MAX_APS = 10
#: Order in which channel groups receive channel numbers: every other channel first so
#: that the first groups (the largest neighbourhoods) avoid adjacent channels.
def channel_order(channels) -> list[int]:
    ch = sorted(int(c) for c in channels)
    return ch[0::2] + ch[1::2]


def interference_weights(rssi_dbm: np.ndarray, area_m2=1.0,
                         target_db: float = CO_CHANNEL_MIN_SEPARATION_DB) -> np.ndarray:
    """Symmetric (n, n) edge weights from per-AP received power at the points (n, n_pts);
    ``target_db``: the co-channel separation asked [dB], one value or one per point (each
    point's zone's own, :mod:`wifiplan.requirements`)."""
    r = np.asarray(rssi_dbm, float)
    n = r.shape[0]
    w = np.zeros((n, n))
    if n < 2 or r.shape[1] == 0:
        return w
    area = np.broadcast_to(np.asarray(area_m2, float), (r.shape[1],))
    target = np.broadcast_to(np.asarray(target_db, float), (r.shape[1],))
    best = r.argmax(0)
    top = r.max(0)
    for b in range(n):
        m = best == b
        if not m.any():
            continue
        sep = top[m][None, :] - r[:, m]
        h = np.maximum(target[m][None, :] - sep, 0.0) + 10.0 ** (-np.minimum(sep, 300) / 10.0)
        w[b] = (h * area[m][None, :]).sum(1)
        w[b, b] = 0.0
    return w + w.T


def overlap_weights(rssi_dbm: np.ndarray, area_m2, level_dbm, max_aps) -> np.ndarray:
    """Symmetric (n, n) channel-overlap weights (module docstring): summed over the points
    that ask channel overlap (``level_dbm`` [dBm] and ``max_aps`` per point, NaN where not
    asked), ``area * 19 / max_aps`` for every pair of APs both heard at or above the level."""
    r = np.asarray(rssi_dbm, float)
    n = r.shape[0]
    level = np.broadcast_to(np.asarray(level_dbm, float), (r.shape[1],))
    m = np.broadcast_to(np.asarray(max_aps, float), (r.shape[1],))
    ask = np.isfinite(level) & np.isfinite(m) & (m >= 1)
    if n < 2 or not ask.any():
        return np.zeros((n, n))
    area = np.broadcast_to(np.asarray(area_m2, float), (r.shape[1],))[ask]
    heard = (r[:, ask] >= level[ask][None, :] - 1e-6).astype(float)
    w = (heard * (area * CO_CHANNEL_MIN_SEPARATION_DB / m[ask])[None, :]) @ heard.T
    np.fill_diagonal(w, 0.0)
    return w


def channel_targets(site, zone_index) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What the channel assignment aims at, per point of zone indices ``zone_index`` (the
    module docstring): the separation target [dB] (the zone's co-channel separation, raised
    to the SINR its minimum data rate needs), and the channel-overlap level [dBm] and count
    (NaN where the zone asks none)."""
    sep = per_point(site, zone_index, "co_channel_separation_db").astype(float)
    rate_sinr = sinr_for_rate_db(per_point(site, zone_index, "min_data_rate_mbps"))
    sep = np.where(np.isfinite(rate_sinr), np.maximum(sep, rate_sinr), sep)
    m = per_point(site, zone_index, "channel_overlap_max_aps").astype(float)
    level = np.where(np.isfinite(m), per_point(site, zone_index, "channel_overlap_dbm"), np.nan)
    return sep, level.astype(float), m


def planning_weights(rssi_dbm: np.ndarray, area_m2, targets) -> np.ndarray:
    """The interference graph the planner colours: :func:`interference_weights` at the
    points' separation targets plus :func:`overlap_weights` (``targets`` from
    :func:`channel_targets`)."""
    sep, level, m = targets
    return (interference_weights(rssi_dbm, area_m2, sep)
            + overlap_weights(rssi_dbm, area_m2, level, m))


def assignment_cost(w: np.ndarray, labels) -> float:
    """Total weight of the edges whose ends share a channel."""
    lab = np.asarray(labels)
    same = lab[:, None] == lab[None, :]
    return float(np.triu(w * same, 1).sum())


def assign_channels(w: np.ndarray, channels, fixed: dict[int, int] | None = None, seed: int = 0,
                    exact_max_aps: int = EXACT_MAX_APS, restarts: int = 24) -> list[int]:
    """Channel per AP minimising :func:`assignment_cost`; ``fixed`` maps AP index -> channel."""
    channels = [int(c) for c in channels]
    n = w.shape[0]
    fixed = dict(fixed or {})
    if n == 0:
        return []
    k = len(channels)
    if k == 0:
        raise ValueError("no channel to assign")
    if n <= exact_max_aps:
        labels = _exact_milp(w, k, {i: channels.index(c) for i, c in fixed.items()})
    else:
        labels = _heuristic(w, k, {i: channels.index(c) for i, c in fixed.items()}, seed,
                            restarts)
    return _label_to_channels(labels, channels, w, fixed)


def _label_to_channels(labels, channels, w, fixed) -> list[int]:
    """Turn group labels into channel numbers. Fixed APs keep their channel; free groups are
    numbered in the order of :func:`channel_order` by decreasing internal weight."""
    labels = list(labels)
    if fixed:
        return [channels[label] for label in labels]
    groups = []
    for label in dict.fromkeys(labels):
        members = [i for i, x in enumerate(labels) if x == label]
        groups.append((min(members), label))
    order = channel_order(channels)
    mapping = {label: order[j] for j, (_, label) in enumerate(sorted(groups))}
    return [mapping[label] for label in labels]


def _exact_milp(w, k, fixed) -> list[int]:
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import lil_matrix
    n = w.shape[0]
    if n == 1 or k == 1:
        return [fixed.get(i, 0) for i in range(n)]
    edges = [(i, j) for i in range(n) for j in range(i + 1, n) if w[i, j] > 0]
    nx = n * k
    ne = len(edges)
    cost = np.r_[np.zeros(nx), [w[i, j] for i, j in edges]]
    rows = n + ne * k
    a = lil_matrix((rows, nx + ne))
    lo = np.zeros(rows)
    hi = np.zeros(rows)
    for i in range(n):
        for c in range(k):
            a[i, i * k + c] = 1
        lo[i] = hi[i] = 1
    r = n
    for e, (i, j) in enumerate(edges):
        for c in range(k):          # y_e >= x_ic + x_jc - 1
            a[r, i * k + c] = 1
            a[r, j * k + c] = 1
            a[r, nx + e] = -1
            lo[r], hi[r] = -np.inf, 1
            r += 1
    lb = np.zeros(nx + ne)
    ub = np.ones(nx + ne)
    for i, c in fixed.items():
        ub[i * k:(i + 1) * k] = 0
        lb[i * k + c] = ub[i * k + c] = 1
    if not fixed:
        lb[0] = 1                   # channel labels are interchangeable: AP 0 takes label 0
        # and AP i uses a label <= i (further symmetry breaking)
        for i in range(1, n):
            ub[i * k + min(i + 1, k):(i + 1) * k] = 0
    integrality = np.r_[np.ones(nx), np.zeros(ne)]
    res = milp(cost, constraints=LinearConstraint(a.tocsr(), lo, hi),
               integrality=integrality, bounds=Bounds(lb, ub),
               options={"time_limit": 60, "mip_rel_gap": 0})
    if res.x is None:
        return _heuristic(w, k, fixed, 0, 24)
    x = res.x[:nx].reshape(n, k)
    return [int(np.argmax(row)) for row in x]


def _heuristic(w, k, fixed, seed, restarts) -> list[int]:
    n = w.shape[0]
    rng = np.random.default_rng(seed)
    best_lab, best_cost = None, np.inf
    strength = w.sum(1)
    for r in range(max(1, restarts)):
        lab = np.full(n, -1)
        cost = np.zeros((n, k))                  # cost[i, c]: weight from i to APs on c
        pressure = np.zeros(n)                   # weight from i to coloured APs
        for i, c in fixed.items():
            lab[i] = c
            cost[:, c] += w[:, i]
            pressure += w[:, i]
        # DSATUR-like order: next the uncoloured AP with the most weight to coloured ones
        noise = rng.random(n) * (0.0 if r == 0 else 0.3 * strength.max() + 1e-9)
        use = np.bincount(lab[lab >= 0], minlength=k).astype(float)
        for _ in range(int((lab < 0).sum())):
            key = np.where(lab < 0, pressure * 1e3 + strength + noise, -np.inf)
            i = int(np.argmax(key))
            c = int(np.lexsort((use, cost[i]))[0])
            lab[i] = c
            use[c] += 1
            cost[:, c] += w[:, i]
            pressure += w[:, i]
        lab = _improve(w, lab, k, fixed, cost)
        c = assignment_cost(w, lab)
        if c < best_cost - 1e-9:
            best_lab, best_cost = lab.copy(), c
    return best_lab.tolist()


def _improve(w, lab, k, fixed, cost=None) -> np.ndarray:
    """Local search: best single-AP move to a cheaper channel, else the best swap of two
    APs' channels, until neither helps. ``cost[i, c]`` is kept as the weight from AP ``i``
    to the APs on channel ``c``."""
    n = len(lab)
    lab = lab.copy()
    if cost is None:
        cost = np.zeros((n, k))
        for c in range(k):
            cost[:, c] = w[:, lab == c].sum(1)
    free = np.ones(n, bool)
    free[list(fixed)] = False
    idx = np.arange(n)
    for _ in range(50 * n + 100):
        cur = cost[idx, lab]
        gain = np.where(free, cur - cost.min(1), 0.0)
        i = int(np.argmax(gain))
        if gain[i] > 1e-9:
            a, b = lab[i], int(np.argmin(cost[i]))
            lab[i] = b
            cost[:, a] -= w[:, i]
            cost[:, b] += w[:, i]
            continue
        # swaps: delta_ij = cost[i, lab_j] - cost[i, lab_i] + cost[j, lab_i] - cost[j, lab_j]
        #                   - 2 w_ij   (for APs on different channels)
        m = cost[:, lab] - cur[:, None]
        delta = m + m.T - 2.0 * w
        ok = (lab[:, None] != lab[None, :]) & free[:, None] & free[None, :]
        delta = np.where(ok, delta, np.inf)
        flat = int(np.argmin(delta))
        i, j = divmod(flat, n)
        if not delta[i, j] < -1e-9:
            break
        a, b = lab[i], lab[j]
        lab[i], lab[j] = b, a
        cost[:, a] += w[:, j] - w[:, i]
        cost[:, b] += w[:, i] - w[:, j]
    return lab
