"""The enclosed-hall model: a direct ray, the specular floor and roof reflections, and the
diffuse, reverberant power of the room.

A factory hall is a closed metal-roofed box. Its received power is the incoherent sum of
(all powers relative to the AP's radiated power, linear)::

    g = g_direct * 10^(-L_d / 10) + g_floor * 10^(-L_d / 10)
        + g_roof * 10^(-L_r / 10) + g_rev

- ``g_direct = (lambda / (4 pi d))^2``: Friis' free-space gain of the direct ray over the
  3-D distance ``d`` (ITU-R P.525-4 eq. (4)), times the antenna gains;
- ``g_floor``, ``g_roof``: the first-order specular reflections off the floor and the roof,
  image sources at heights ``-h_ap`` and ``2 H - h_ap`` (H the ceiling height), each
  ``|R(theta)|^2 (lambda / (4 pi d_image))^2`` with the Fresnel reflectance of the surface
  (ITU-R P.2040-3, the Fresnel coefficients of section 2 with the Table 3 properties,
  vertical polarisation, i.e. TM on a horizontal plane);
- ``L_d``: the walls and obstacles the direct ray crosses (the penetration rule of
  :mod:`wifiplan.radio.propagation`); the floor reflection is held by the same clutter;
  ``L_r``: those the roof reflection crosses, i.e. the same walls (they reach the roof)
  and the obstacles below the descending ray from the roof image (the same rule with the
  AP at the image height). So behind a rack row the roof reflection still arrives over it;
- ``g_rev``: the diffuse field of the room (J. B. Andersen, J. O. Nielsen, G. F. Pedersen,
  G. Bauch, M. Herdin, "Room electromagnetics", IEEE Antennas Propag. Mag. 49(2), 2007,
  pp. 27-33: the power balance and its Sabine-type reverberation time; G. Steinboeck,
  T. Pedersen, B. H. Fleury, W. Wang, R. Raulefs, "Distance dependent model for the delay
  power spectrum of in-room radio channels", IEEE Trans. Antennas Propag. 61(8), 2013: the
  reverberant tail that begins at the direct path's delay). The power balance of a room of
  volume V and absorption area ``aA = sum_i alpha_i A_i`` gives the reverberation time
  ``tau = 4 V / (c aA)``; the reverberant tail starts when the direct ray arrives,
  ``t0 = d / c``, and its energy, received by an antenna of effective area
  ``lambda^2 / (4 pi)``, is::

      g_rev(d) = lambda^2 / (pi aA) * exp(-d aA / (4 V))

  In a hall of several rooms (walls, rack aisles: :mod:`wifiplan.radio.rooms`) ``1 / aA`` becomes
  the coupled rooms' level ``E[s, i]`` of the point's room ``i`` for an AP in room ``s``.
  The diffuse field fills the room from every direction: it is set by the radiated power
  (the antenna gains average to 0 dBi over the sphere), crosses no wall in particular and
  is what keeps the power far from an AP or behind many racks from falling to absurd
  levels.

The absorption coefficients ``alpha_i`` are the random-incidence absorption of each
surface's ITU-R P.2040 class (:func:`wifiplan.materials.diffuse_absorption`): floor and
roof (the ``building:`` block), the outer walls (concrete), both faces of every inner wall
(the part of the power neither reflected nor transmitted) and the surfaces of the
obstacles (top and sides; the floor under them is no longer a surface of the room). The
obstacles' volume is taken from the room's.

The model has no parameter fitted to any data; ``reverb_offset_db``,
``reverb_time_offset_db`` and ``coupling_offset_db`` (default 0: the diffuse level, the
reverberation time ``10 log10(tau_fit / tau)`` that sets the tail's onset factor
``exp(-d / (c tau_fit))``, and the coupling areas between rooms, :mod:`wifiplan.radio.rooms`) are
what :func:`wifiplan.survey.calibrate` may fit beside the AP gain and the material losses:
racks full of stock, goods on the floor and open doors change the absorption, and so the
level and the decay of the tail, in ways no drawing tells (Steinboeck et al. 2013 estimate
the reverberation time from measurements for the same reason). Frequency enters through
``lambda^2`` in every term; reflectances and absorption are those at
:data:`~wifiplan.materials.REFERENCE_FREQ_GHZ`, so a change of channel scales all terms
alike (as free space does).
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from shapely.geometry import LineString, Polygon

from ..materials import REFERENCE_FREQ_GHZ, diffuse_absorption, fresnel_reflectance, surface_class
from .rooms import segment_rooms

SPEED_OF_LIGHT_M_S = 299_792_458.0
OUTER_WALL_SURFACE = "concrete"   # the envelope's walls (the site format has no key for them)

#: The building block's defaults (docs/site-format.md): a metal-roofed hall, 8 m high,
#: on a concrete slab.
BUILDING_DEFAULTS = {"ceiling_height_m": 8.0, "roof": "metal", "floor": "concrete"}


@dataclass(frozen=True)
class Building:
    """The hall's envelope: ceiling (roof) height [m] and the roof and floor materials."""
    ceiling_height_m: float = BUILDING_DEFAULTS["ceiling_height_m"]
    roof: str = BUILDING_DEFAULTS["roof"]
    floor: str = BUILDING_DEFAULTS["floor"]


@dataclass(frozen=True)
class Room:
    """Room-electromagnetic quantities of a hall (Andersen et al. 2007).

    volume_m3 [m^3] and absorption_area_m2 [m^2] (``sum alpha_i A_i``) of the whole
    building; ceiling_height_m [m]; roof and floor: their P.2040 surface classes; rooms: the
    coupled rooms (:class:`wifiplan.radio.rooms.Rooms`)."""
    volume_m3: float
    absorption_area_m2: float
    ceiling_height_m: float
    roof: str
    floor: str
    rooms: Any = field(compare=False)

    @property
    def reverberation_time_s(self) -> float:
        """tau = 4 V / (c sum alpha_i A_i) [s]: Sabine's reverberation time for radio waves
        (Andersen et al. 2007)."""
        return 4.0 * self.volume_m3 / (SPEED_OF_LIGHT_M_S * self.absorption_area_m2)

    @property
    def decay_per_m(self) -> float:
        """1 / (c tau) [1/m]: the tail's onset factor is exp(-d / (c tau))."""
        return self.absorption_area_m2 / (4.0 * self.volume_m3)


def decay_per_m(room: Room, reverb_time_offset_db: float = 0.0) -> float:
    """The tail's decay per metre [1/m], 1 / (c tau_fit), with the reverberation time
    ``tau_fit = tau 10^(reverb_time_offset_db / 10)`` (0 dB: Sabine's value of the room)."""
    return room.decay_per_m * 10.0 ** (-reverb_time_offset_db / 10.0)


def room_of_site(site, material_losses: dict[str, float] | None = None) -> Room:
    """The :class:`Room` of a site: its outline extruded to the ceiling, with its walls and
    obstacles (see the module docstring for what absorbs)."""
    b: Building = site.building
    losses = material_losses if material_losses is not None else site.material_losses()
    h = b.ceiling_height_m
    outline = Polygon(site.outline)
    floor_m2 = float(outline.area)
    perim_m = float(outline.length)
    alpha = {}

    def a_of(mat):
        if mat not in alpha:
            alpha[mat] = diffuse_absorption(surface_class(mat, losses))
        return alpha[mat]

    roof_s = surface_class(b.roof, losses)
    floor_s = surface_class(b.floor, losses)
    volume = floor_m2 * h
    absorb = (floor_m2 * (diffuse_absorption(floor_s) + diffuse_absorption(roof_s))
              + perim_m * h * diffuse_absorption(OUTER_WALL_SURFACE))
    for w in site.walls:
        length = float(LineString(np.asarray(w.points, float)).length)
        transmitted = 10.0 ** (-losses[w.material] / 10.0)
        absorb += 2.0 * length * h * a_of(w.material) * (1.0 - transmitted)
    floor_a = diffuse_absorption(floor_s)
    for o in site.obstacles:
        fp = Polygon(np.asarray(o.polygon, float)[:, :2])
        top = min(float(o.height_m), h)
        if top <= 0:
            continue
        # the box stands on the floor: its footprint leaves the floor, its top and sides join
        volume -= float(fp.area) * top
        s = float(fp.area) + float(fp.length) * top
        absorb += s * a_of(o.material) - float(fp.area) * floor_a
    volume = max(volume, 0.05 * floor_m2 * h)
    rooms = segment_rooms(site, losses, a_of, h, floor_a, diffuse_absorption(roof_s),
                          diffuse_absorption(OUTER_WALL_SURFACE))
    return Room(volume_m3=volume, absorption_area_m2=max(absorb, 1e-6),
                ceiling_height_m=h, roof=roof_s, floor=floor_s, rooms=rooms)


def room_table(room: Room, freq_mhz: float = 5500.0):
    """One row per room of the hall: floor [m^2], volume [m^3], absorption area [m^2], the
    coupling area to the other rooms [m^2] and the diffuse gain [dB] an AP in the room gives
    there at distance 0, ``10 log10(lambda^2 / pi * E[k, k])``."""
    import pandas as pd
    R = room.rooms
    lam = SPEED_OF_LIGHT_M_S / (freq_mhz * 1e6)
    return pd.DataFrame({
        "room": np.arange(R.count), "floor_m2": np.round(R.floor_m2, 1),
        "volume_m3": np.round(R.volume_m3, 0), "absorption_m2": np.round(R.absorption_m2, 1),
        "coupling_m2": np.round(R.coupling_m2.sum(axis=1), 1),
        "diffuse_gain_db": np.round(10 * np.log10(lam ** 2 / np.pi * np.diag(R.exchange)), 1)})


def diffuse_scale(room: Room, ap_x_m: float, ap_y_m: float, labels,
                  coupling_offset_db: float = 0.0) -> np.ndarray:
    """The coupled rooms' diffuse level [1/m^2] at cells of room index ``labels`` for an AP
    at (x, y): ``exchange[s, i]`` with ``s`` the AP's room (1 / aA for a single room);
    ``coupling_offset_db`` scales the coupling areas (a calibrated parameter)."""
    s = int(room.rooms.label_at(ap_x_m, ap_y_m))
    return room.rooms.exchange_for(coupling_offset_db)[s][labels]


REFLECTANCE_SAMPLES = 8193     # |R_TM|^2 sampled at cos(theta) = u^3, u uniform


@functools.lru_cache(maxsize=64)
def _reflectance_table(surface: str):
    c = np.linspace(0.0, 1.0, REFLECTANCE_SAMPLES) ** 3
    return c, fresnel_reflectance(surface, REFERENCE_FREQ_GHZ, c, "TM")


def reflectance_tm(surface: str, cos_theta):
    """|R_TM|^2 of ``surface`` at :data:`REFERENCE_FREQ_GHZ` (vertical polarisation on a
    horizontal plane), interpolated linearly between 8,193 exact values of
    :func:`~wifiplan.materials.fresnel_reflectance`, dense near grazing incidence where a
    metal's pseudo-Brewster dip lies (the error is below 1e-5, i.e. below 1e-4 dB on the
    reflected power; tests/test_hall.py checks it)."""
    c, r = _reflectance_table(surface)
    return np.interp(cos_theta, c, r)


def image_height_m(room: Room, ap_height_m: float) -> float:
    """Height [m] of the AP's image in the roof, 2 H - h_ap (never below the AP)."""
    return max(2.0 * room.ceiling_height_m - ap_height_m, ap_height_m)


def hall_gains(room: Room, horizontal_m, ap_height_m: float, client_height_m: float,
               freq_mhz, reverb_offset_db: float = 0.0, reverb_time_offset_db: float = 0.0,
               ray_gains=None):
    """The linear power gains (direct + floor, roof, reverberant) at horizontal distances
    ``horizontal_m`` [m], as three arrays: ``g_low`` (direct ray and floor reflection, both
    held by the direct ray's clutter), ``g_roof`` and ``g_rev`` (module docstring), the last
    per unit diffuse level: ``lambda^2 / pi exp(-d / (c tau))`` [m^2] (``tau`` scaled by
    ``reverb_time_offset_db``, :func:`decay_per_m`), to be multiplied by
    :func:`diffuse_scale` (1 / aA in a single room).

    Antenna gains are not included, unless ``ray_gains`` = (direct, floor, roof) gives the
    AP antenna's linear gain toward each ray's departure direction (a directional antenna,
    :func:`wifiplan.radio.propagation.ray_gains_dbi`); the diffuse field never takes them.
    Distances are taken from 1 m as for every law."""
    r = np.asarray(horizontal_m, float)
    f = np.asarray(freq_mhz, float)
    lam = SPEED_OF_LIGHT_M_S / (f * 1e6)
    k = (lam / (4.0 * np.pi)) ** 2
    dz_d = ap_height_m - client_height_m
    dz_f = ap_height_m + client_height_m
    dz_r = image_height_m(room, ap_height_m) - client_height_m
    d_d = np.maximum(np.sqrt(r ** 2 + dz_d ** 2), 1.0)
    d_f = np.maximum(np.sqrt(r ** 2 + dz_f ** 2), 1.0)
    d_r = np.maximum(np.sqrt(r ** 2 + dz_r ** 2), 1.0)
    r_floor = reflectance_tm(room.floor, dz_f / d_f)
    r_roof = reflectance_tm(room.roof, dz_r / d_r)
    if ray_gains is None:
        g_low = k / d_d ** 2 + r_floor * k / d_f ** 2
        g_roof = r_roof * k / d_r ** 2
    else:
        g_low = ray_gains[0] * k / d_d ** 2 + ray_gains[1] * r_floor * k / d_f ** 2
        g_roof = ray_gains[2] * r_roof * k / d_r ** 2
    g_rev = (lam ** 2 / np.pi * np.exp(-d_d * decay_per_m(room, reverb_time_offset_db))
             * 10.0 ** (reverb_offset_db / 10.0))
    return g_low, g_roof, g_rev


def combine_dbm(tx_dbm, antenna_gain_db, g_low, g_roof, g_rev, pen_direct_db, pen_roof_db):
    """Received power [dBm]: ``tx + 10 log10((g_low 10^(-L_d/10) + g_roof 10^(-L_r/10))
    G_ant + g_rev)`` with ``G_ant`` the AP and client antenna gains [dB] (not applied to the
    diffuse field)."""
    ga = 10.0 ** (np.asarray(antenna_gain_db, float) / 10.0)
    spec = g_low * 10.0 ** (-0.1 * pen_direct_db) + g_roof * 10.0 ** (-0.1 * pen_roof_db)
    return tx_dbm + 10.0 * np.log10(spec * ga + g_rev)


_NEPER_PER_DB = math.log(10.0) / 10.0


def combine_grid_dbm(tx_dbm: float, antenna_gain_db: float, gains, pen_direct_db, pen_roof_db,
                     diffuse):
    """:func:`combine_dbm` on a grid layer, float32, in place: ``gains`` stacked
    (g_low, g_roof, g_rev per unit level), the penetration layers [dB] of the direct ray and
    the roof reflection, ``diffuse`` the diffuse level (:func:`diffuse_scale`) of each
    cell. Returns float32 [dBm]."""
    g = np.asarray(gains, np.float32)
    spec = np.multiply(pen_direct_db, -_NEPER_PER_DB, dtype=np.float32)
    np.exp(spec, out=spec)
    spec *= g[0]
    roof = np.multiply(pen_roof_db, -_NEPER_PER_DB, dtype=np.float32)
    np.exp(roof, out=roof)
    roof *= g[1]
    spec += roof
    spec *= np.float32(10.0 ** (antenna_gain_db / 10.0))
    roof = np.multiply(g[2], diffuse, out=roof, dtype=np.float32, casting="unsafe")
    spec += roof
    np.log10(spec, out=spec)
    spec *= np.float32(10.0)
    spec += np.float32(tx_dbm)
    return spec


def hall_reference_dbm(room: Room, ap, x, y, client_height_m, antenna_gain_db, pen_direct_db,
                       pen_roof_db, reverb_offset_db: float = 0.0,
                       coupling_offset_db: float = 0.0, reverb_time_offset_db: float = 0.0):
    """Plain scalar implementation of the model at points (a loop over the points, the
    formulas as written in the module docstring): the oracle of the vectorised code."""
    out = np.empty(len(x))
    lam = SPEED_OF_LIGHT_M_S / ((5000.0 + 5.0 * ap.channel) * 1e6)
    hi = image_height_m(room, ap.height_m)
    E = room.rooms.exchange_for(coupling_offset_db)
    src = int(room.rooms.label_at(ap.x_m, ap.y_m))
    tau_s = room.reverberation_time_s * 10 ** (reverb_time_offset_db / 10)
    for i in range(len(x)):
        r2 = (x[i] - ap.x_m) ** 2 + (y[i] - ap.y_m) ** 2
        dd = max(math.sqrt(r2 + (ap.height_m - client_height_m) ** 2), 1.0)
        df = max(math.sqrt(r2 + (ap.height_m + client_height_m) ** 2), 1.0)
        dr = max(math.sqrt(r2 + (hi - client_height_m) ** 2), 1.0)
        rf = float(fresnel_reflectance(room.floor, REFERENCE_FREQ_GHZ,
                                       (ap.height_m + client_height_m) / df, "TM"))
        rr = float(fresnel_reflectance(room.roof, REFERENCE_FREQ_GHZ,
                                       (hi - client_height_m) / dr, "TM"))
        fs = (lam / (4 * math.pi)) ** 2
        direct = (fs / dd ** 2 + rf * fs / df ** 2) * 10 ** (-pen_direct_db[i] / 10)
        roof = rr * fs / dr ** 2 * 10 ** (-pen_roof_db[i] / 10)
        level = float(E[src, int(room.rooms.label_at(x[i], y[i]))])
        rev = (lam ** 2 / math.pi * level
               * math.exp(-dd / (SPEED_OF_LIGHT_M_S * tau_s))
               * 10 ** (reverb_offset_db / 10))
        out[i] = ap.tx_power_dbm + 10 * math.log10((direct + roof) * 10 ** (antenna_gain_db / 10)
                                                   + rev)
    return out
