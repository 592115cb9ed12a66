"""Antenna patterns: gain [dBi] by direction, from the NSMA / Planet ".msi" text format.

The format (Planet, the radio-planning tool first made by MSI; also read as ``.pln`` and
``.ant``; see the Radio Mobile definition of the MSI format, radiomobile.pe1mew.nl, and
MathWorks' ``msiread``): a header of ``KEYWORD value`` lines, of which this reader uses::

    NAME <name>
    FREQUENCY <MHz>
    GAIN <gain> [dBd|dBi]      # dBd unless dBi is written after the value (0 dBd = 2.15 dBi)
    HORIZONTAL 360             # then 360 lines "angle loss_dB": 0 = boresight, as a bearing
    0 0.0                      #   (clockwise seen from above)
    ...
    VERTICAL 360               # then 360 lines "angle loss_dB": 0 = the horizon in front,
    0 0.0                      #   90 = straight down, 180 = the horizon behind, 270 = up
    ...

(``MAKE``, ``H_WIDTH``, ``V_WIDTH``, ``FRONT_TO_BACK``, ``TILT``, ``POLARIZATION``,
``COMMENT`` and other header keywords are read past.) The losses are positive dB below
``GAIN``; so the gain of a direction on a cut is ``GAIN - loss``. Between the samples of a
cut the loss is interpolated linearly (periodically over 360 degrees).

**3-D gain from the two cuts**: the cross-weighted method of T. G. Vasiliadis,
A. G. Dimitriou, G. D. Sergiadis, "A novel technique for the approximation of 3-D antenna
radiation patterns", IEEE Trans. Antennas Propag. 53(7), 2005, pp. 2212-2219, eq. (4)-(6)::

    G(phi, theta) = (G_H(phi) w1 + G_V(theta) w2) / (w1 + w2)        [dB, relative to peak]
    w1 = v (1 - h),   w2 = h (1 - v),
    h = 10^(G_H(phi) / (20 k)),   v = 10^(G_V(theta) / (20 k)),   k = 2

with ``G_H = -L_H`` and ``G_V = -L_V`` the cuts' relative gains (<= 0 dB); on either cut it
gives the cut's value exactly, and at boresight (both 0 dB) 0 dB. The vertical cut is read
in the half of the direction (front for ``|phi| <= 90``, the back half otherwise). The
summing method, ``G = G_max - [L_H(phi) + L_V(theta)]`` (the baseline Vasiliadis et al.
compare against, section II; the front half of the vertical cut), is there as
``method="summing"``; it double-counts the loss off the principal planes (a ceiling patch
facing down would look square on the floor), which is why it is not the default.

**Mounting**: the pattern's boresight points along ``azimuth_deg`` (0 = the +x axis of the
floor plan, counter-clockwise, as the plan's coordinates) and is tilted ``tilt_deg`` below
the horizontal (mechanical down-tilt, 90 = straight down). A direction in the hall is
turned into the antenna's frame (boresight, left, up) and read there.

Built-in patterns (package data ``wifiplan/radio/antennas``; generic shapes, not a
product's measured pattern): ``omni`` (0 dB everywhere: the one-gain omni of earlier
versions), ``patch`` (8 dBi, 70 degree half-power beam in both planes, 20 dB front to back,
mounted facing down) and ``sector`` (14 dBi, 60 degree horizontal, 17 degree vertical
beam, 25 dB front to back), their cuts shaped as a datasheet's: the element pattern of
3GPP TR 38.901 Table 7.3-1, ``L(psi) = min(12 (psi / psi_3dB)^2, A_max)``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..fileio import read_input

DBD_TO_DBI = 2.15            # a half-wave dipole's gain [dBi]
MAX_PATTERN_BYTES = 1024 * 1024
MAX_CUT_SAMPLES = 7200       # samples per cut (0.05 degree)
LOSS_RANGE_DB = (-60.0, 200.0)
GAIN_RANGE_DBI = (-20.0, 40.0)
CROSS_WEIGHT_K = 2.0         # Vasiliadis et al. 2005: the normalisation parameter k
METHODS = ("cross-weighted", "summing")
PATTERN_SUFFIXES = (".msi", ".pln", ".ant", ".txt")

#: Built-in patterns: file in the package data and the mounting tilt they are made for [deg].
BUILTIN = {"omni": ("omni.msi", 0.0), "patch": ("patch.msi", 90.0),
           "sector": ("sector.msi", 0.0)}


@dataclass(eq=False)
class Pattern:
    """An antenna pattern: ``gain_dbi`` [dBi] (the file's GAIN) and the horizontal and
    vertical cuts as angles [deg] and losses [dB] below it."""
    name: str
    gain_dbi: float
    h_angles_deg: np.ndarray
    h_loss_db: np.ndarray
    v_angles_deg: np.ndarray
    v_loss_db: np.ndarray
    frequency_mhz: float | None = None
    source: str = "<pattern>"

    @property
    def is_omni(self) -> bool:
        """True when both cuts are flat: the gain is the same in every direction."""
        return bool(np.all(self.h_loss_db == 0.0) and np.all(self.v_loss_db == 0.0))

    @property
    def peak_gain_dbi(self) -> float:
        """The highest gain of the pattern [dBi]: GAIN less the smallest loss of the cuts
        (the value the EIRP limit applies to)."""
        return float(self.gain_dbi - min(0.0, float(self.h_loss_db.min()),
                                         float(self.v_loss_db.min())))

    def loss_h_db(self, bearing_deg):
        """Loss [dB] of the horizontal cut at ``bearing_deg`` (clockwise from boresight)."""
        return np.interp(np.mod(bearing_deg, 360.0), self.h_angles_deg, self.h_loss_db,
                         period=360.0)

    def loss_v_db(self, angle_deg):
        """Loss [dB] of the vertical cut at ``angle_deg`` (0 horizon, 90 down)."""
        return np.interp(np.mod(angle_deg, 360.0), self.v_angles_deg, self.v_loss_db,
                         period=360.0)

    def relative_db(self, phi_deg, depression_deg, method: str = "cross-weighted"):
        """Gain [dB] relative to GAIN in the antenna's frame: ``phi_deg`` the azimuth from
        boresight (counter-clockwise, -180..180), ``depression_deg`` the angle below the
        antenna's horizontal plane (-90..90). See the module docstring for the methods."""
        phi = np.asarray(phi_deg, float)
        dep = np.asarray(depression_deg, float)
        g_h = -self.loss_h_db(-phi)
        if method == "summing":
            return g_h - self.loss_v_db(dep)
        if method != "cross-weighted":
            raise ValueError(f"unknown pattern method {method!r}, expected one of {METHODS}")
        back = np.abs(phi) > 90.0
        g_v = -self.loss_v_db(np.where(back, 180.0 - dep, dep))
        h = 10.0 ** (g_h / (20.0 * CROSS_WEIGHT_K))
        v = 10.0 ** (g_v / (20.0 * CROSS_WEIGHT_K))
        w1 = v * (1.0 - h)
        w2 = h * (1.0 - v)
        den = w1 + w2
        safe = den > 1e-12
        with np.errstate(invalid="ignore", divide="ignore"):
            g = (g_h * w1 + g_v * w2) / np.where(safe, den, 1.0)
        return np.where(safe, g, g_h + g_v)       # both cuts at their peak: 0 dB


@dataclass(eq=False)
class MountedAntenna:
    """A pattern as mounted on an AP: boresight ``azimuth_deg`` (0 = +x, counter-clockwise)
    and ``tilt_deg`` below the horizontal [deg]; ``gain_dbi`` [dBi] the gain the pattern's
    losses are taken from (the AP model's, else the pattern's GAIN)."""
    pattern: Pattern
    azimuth_deg: float = 0.0
    tilt_deg: float = 0.0
    gain_dbi: float | None = None
    method: str = "cross-weighted"
    key: tuple = field(init=False)

    def __post_init__(self):
        if self.gain_dbi is None:
            self.gain_dbi = self.pattern.gain_dbi
        self.key = (self.pattern.source, self.pattern.name, round(float(self.gain_dbi), 6),
                    round(float(self.azimuth_deg), 6), round(float(self.tilt_deg), 6),
                    self.method)

    @property
    def is_omni(self) -> bool:
        return self.pattern.is_omni

    @property
    def peak_gain_dbi(self) -> float:
        """Highest gain [dBi] in any direction."""
        return self.pattern.peak_gain_dbi - self.pattern.gain_dbi + float(self.gain_dbi)

    def gain_toward_dbi(self, dx, dy, dz):
        """Gain [dBi] toward the directions (dx, dy, dz) [m] from the antenna (arrays of one
        shape, or broadcastable)."""
        dx, dy, dz = np.broadcast_arrays(np.asarray(dx, float), np.asarray(dy, float),
                                         np.asarray(dz, float))
        a = math.radians(self.azimuth_deg)
        t = math.radians(self.tilt_deg)
        ca, sa, ct, st = math.cos(a), math.sin(a), math.cos(t), math.sin(t)
        f = dx * (ct * ca) + dy * (ct * sa) - dz * st         # along boresight
        s = -dx * sa + dy * ca                                # to its left
        w = dx * (st * ca) + dy * (st * sa) + dz * ct         # the antenna's up
        n = np.sqrt(f * f + s * s + w * w)
        phi = np.degrees(np.arctan2(s, f))
        dep = -np.degrees(np.arcsin(np.clip(w / np.where(n > 0, n, 1.0), -1.0, 1.0)))
        return float(self.gain_dbi) + self.pattern.relative_db(phi, dep, self.method)


# --------------------------------------------------------------------------------------
# Reading the format
# --------------------------------------------------------------------------------------

def parse_msi(text: str, source: str = "<pattern>") -> Pattern:
    """Parse the text of an .msi pattern (module docstring); bad content raises
    :class:`InputError` naming ``source`` and the line."""
    lines = text.splitlines()
    name = None
    gain = None
    freq = None
    cuts: dict[str, tuple[list, list]] = {}
    i = 0

    def fail(lineno, msg):
        raise InputError(msg, source=source, line=lineno)

    while i < len(lines):
        raw = lines[i].strip()
        i += 1
        if not raw:
            continue
        parts = raw.split(None, 1)
        key = parts[0].upper()
        rest = parts[1].strip() if len(parts) > 1 else ""
        if key in ("HORIZONTAL", "VERTICAL"):
            if key in cuts:
                fail(i, f"a second {key} section")
            try:
                n = int(rest.split()[0])
            except (ValueError, IndexError):
                fail(i, f"expected '{key} <number of samples>', got {raw[:60]!r}")
            if not 4 <= n <= MAX_CUT_SAMPLES:
                fail(i, f"{key} {n}: expected between 4 and {MAX_CUT_SAMPLES} samples "
                        f"(360 in the usual file)")
            ang, loss = [], []
            for _ in range(n):
                while i < len(lines) and not lines[i].strip():
                    i += 1
                if i >= len(lines):
                    fail(i, f"{key} {n}: the file ends after {len(ang)} samples")
                row = lines[i].replace(",", " ").split()
                i += 1
                try:
                    if len(row) != 2:
                        raise ValueError
                    a, v = float(row[0]), float(row[1])
                except ValueError:
                    fail(i, f"expected 'angle loss_dB' in the {key} section, got "
                            f"{lines[i - 1].strip()[:60]!r}")
                if not (math.isfinite(a) and 0.0 <= a < 360.0):
                    fail(i, f"angle {row[0]} is out of range, expected 0 <= angle < 360")
                if not (math.isfinite(v) and LOSS_RANGE_DB[0] <= v <= LOSS_RANGE_DB[1]):
                    fail(i, f"loss {row[1]} is out of range, expected dB below the peak "
                            f"between {LOSS_RANGE_DB[0]:g} and {LOSS_RANGE_DB[1]:g}")
                ang.append(a)
                loss.append(v)
            if len(set(ang)) != len(ang):
                fail(i, f"the {key} section repeats an angle")
            cuts[key] = (ang, loss)
        elif key == "NAME":
            name = rest[:120] or None
        elif key == "GAIN":
            tok = rest.split()
            try:
                g = float(tok[0])
            except (ValueError, IndexError):
                fail(i, f"expected 'GAIN <value> [dBi|dBd]', got {raw[:60]!r}")
            unit = tok[1].lower() if len(tok) > 1 else "dbd"
            if unit not in ("dbi", "dbd"):
                fail(i, f"GAIN unit {tok[1]!r}: expected dBi or dBd")
            g = g + DBD_TO_DBI if unit == "dbd" else g
            if not (math.isfinite(g) and GAIN_RANGE_DBI[0] <= g <= GAIN_RANGE_DBI[1]):
                fail(i, f"GAIN {g:g} dBi is out of range, expected between "
                        f"{GAIN_RANGE_DBI[0]:g} and {GAIN_RANGE_DBI[1]:g} dBi")
            gain = g
        elif key == "FREQUENCY":
            tok = rest.split()
            try:
                freq = float(tok[0]) * (1000.0 if len(tok) > 1 and tok[1].lower() == "ghz"
                                        else 1.0)
            except (ValueError, IndexError):
                fail(i, f"expected 'FREQUENCY <MHz>', got {raw[:60]!r}")
        elif not key.replace("_", "").replace("-", "").isalnum():
            fail(i, f"expected a header line 'KEYWORD value', got {raw[:60]!r}")
    for key in ("HORIZONTAL", "VERTICAL"):
        if key not in cuts:
            raise InputError(f"no {key} section, expected '{key} 360' and 360 lines "
                             "'angle loss_dB'", source=source)
    if gain is None:
        raise InputError("no GAIN line, expected 'GAIN <value> dBi' (or dBd)", source=source)

    def sorted_cut(c):
        a = np.asarray(c[0], float)
        o = np.argsort(a, kind="stable")
        return a[o], np.asarray(c[1], float)[o]

    ha, hl = sorted_cut(cuts["HORIZONTAL"])
    va, vl = sorted_cut(cuts["VERTICAL"])
    return Pattern(name=name or Path(source).stem, gain_dbi=float(gain), h_angles_deg=ha,
                   h_loss_db=hl, v_angles_deg=va, v_loss_db=vl, frequency_mhz=freq,
                   source=source)


def read_pattern(path, name: str | None = None) -> Pattern:
    """Read an .msi pattern file (at most :data:`MAX_PATTERN_BYTES`)."""
    raw, source = read_input(path, MAX_PATTERN_BYTES, name)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("latin-1")
        except UnicodeDecodeError:     # pragma: no cover - latin-1 decodes every byte
            raise InputError("not a text file, expected an .msi pattern", source=source) \
                from None
    if "\x00" in text:
        raise InputError("binary data, expected an .msi pattern (text)", source=source)
    return parse_msi(text, source)


@lru_cache(maxsize=None)
def builtin_pattern(name: str) -> Pattern:
    """One of the built-in patterns (:data:`BUILTIN`)."""
    if name not in BUILTIN:
        raise KeyError(name)
    res = resources.files("wifiplan.radio").joinpath("antennas", BUILTIN[name][0])
    return parse_msi(res.read_text(encoding="utf-8"), source=f"built-in {name}")


def builtin_tilt_deg(name: str) -> float:
    """The mounting tilt [deg] a built-in pattern is made for (the patch faces down)."""
    return BUILTIN[name][1] if name in BUILTIN else 0.0


def element_loss_db(angle_deg, beamwidth_deg: float, max_loss_db: float):
    """3GPP TR 38.901 Table 7.3-1 element cut: ``min(12 (psi / psi_3dB)^2, A_max)`` [dB]
    with ``psi`` the angle from boresight on the cut (``angle_deg`` 0..360 as the file's)."""
    a = np.mod(np.asarray(angle_deg, float), 360.0)
    psi = np.minimum(a, 360.0 - a)
    return np.minimum(12.0 * (psi / beamwidth_deg) ** 2, max_loss_db)


def format_msi(name: str, gain_dbi: float, h_loss_db, v_loss_db, frequency_mhz: float = 5500.0,
               comment: str = "") -> str:
    """The .msi text of a pattern sampled at 0..359 degrees (how the built-ins are made)."""
    out = [f"NAME {name}", "MAKE generic", f"FREQUENCY {frequency_mhz:g}",
           f"GAIN {gain_dbi:g} dBi"]
    if comment:
        out.append(f"COMMENT {comment}")
    out.append("HORIZONTAL 360")
    out += [f"{a} {float(v):.2f}" for a, v in enumerate(h_loss_db)]
    out.append("VERTICAL 360")
    out += [f"{a} {float(v):.2f}" for a, v in enumerate(v_loss_db)]
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------------------
# The antenna of an AP (the radio layer reads an AP's optional ``mount``)
# --------------------------------------------------------------------------------------

def mounted(ap) -> MountedAntenna | None:
    """The AP's mounted antenna, None for the site's omni (an AP without ``mount``)."""
    return getattr(ap, "mount", None)


def constant_gain_dbi(ap, site_gain_dbi: float) -> float | None:
    """The AP's antenna gain [dBi] when it is the same in every direction (the site's
    ``site_gain_dbi`` for an AP without an antenna of its own), None for a directional
    pattern: only those pay for the pattern."""
    m = mounted(ap)
    if m is None:
        return site_gain_dbi
    return float(m.gain_dbi) if m.is_omni else None


def peak_gain_dbi(ap, site_gain_dbi: float) -> float:
    """The AP's highest antenna gain [dBi] (what its EIRP is counted with)."""
    m = mounted(ap)
    return site_gain_dbi if m is None else m.peak_gain_dbi


def antenna_key(ap) -> tuple:
    """What identifies the AP's antenna and mounting in a cache key (() for none)."""
    m = mounted(ap)
    return () if m is None else m.key


#: An antenna tilted this far down or more points at the floor below it: no direction is drawn.
FACING_DOWN_TILT_DEG = 75.0


def boresight_xy(ap, length_m: float):
    """The end [m] of a segment of ``length_m`` from the AP along its antenna's boresight, as
    maps draw a directional AP; None for an omni, or an antenna facing the floor."""
    m = mounted(ap)
    if m is None or m.is_omni or abs(float(m.tilt_deg)) >= FACING_DOWN_TILT_DEG:
        return None
    a = math.radians(float(m.azimuth_deg))
    return (ap.x_m + length_m * math.cos(a), ap.y_m + length_m * math.sin(a))

