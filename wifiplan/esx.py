"""Ekahau ``.esx`` projects in and out: a site and a plan from one floor of a project, and a
project from a site and its plan.

An ``.esx`` file is a zip archive of JSON files (each with one top-level key named like the
file, holding a list of objects with an ``id``) and floor images (``image-<id>``). Nothing
about it is officially specified; the fields read here are the ones the open readers and
writers of the format rely on (docs/user-guide.md, "Ekahau projects"). Unknown fields are
ignored.

What maps to what
-----------------
- **Floor** (``floorPlans.json``): coordinates are pixels of the floor image, origin top
  left, y down; metres = (px - cropMin) x ``metersPerUnit``, y turned up (the site's
  convention), so the crop's lower-left corner is (0, 0). The outline is the crop rectangle.
  The image (``images.json`` + ``image-<id>``) is reported (the site file has no place for
  an image; the UI shows it as the background).
- **Walls** (``wallPoints`` + ``wallSegments`` + ``wallTypes``): segments of one wall type
  that share a point are chained into polylines; each wall type becomes a material whose
  loss is ``attenuationFactor`` [dB/m] x ``thickness`` [m] in the FIVE band. A library
  material of the same name and loss is reused; otherwise the site gets its own material
  (named after the wall type, with the loss appended when the name is a library material of
  another loss).
- **Attenuation areas** (dB per metre travelled inside them) -> **obstacles**. A wifiplan
  obstacle costs its loss once when a path passes through its footprint below its top
  (:mod:`wifiplan.radio.geometry`), so the loss per metre is turned into a loss per crossing
  over the area's *depth*: the short side of its minimum rotated rectangle (a rack row is
  crossed across, 1.5 m x 18 dB/m = 27 dB), capped at :data:`MAX_LOSS_DB`. The area's
  ``upperEdge`` is the obstacle's height (none: the ceiling); a ``lowerEdge`` above the floor
  cannot be kept (obstacles stand on the floor) and is reported.
- **Exclusion areas** -> ``no_mount`` areas.
- **Requirement areas** (``areas.json``) -> zones, with the FIVE-band criteria of their
  requirement profile (``requirements.json``): SIGNAL_STRENGTH at least -> ``min_rssi_dbm``,
  SIGNAL_TO_NOISE_RATIO at least -> ``min_sinr_db`` (wifiplan counts interference as well:
  stricter). Other criteria are reported. Without areas the floor is one zone with the
  project's default profile.
- **APs** (``accessPoints`` + ``simulatedRadios`` + ``antennaTypes``): each AP's enabled 5 GHz
  Wi-Fi radio gives channel, width, transmit power and antenna height. The antenna gain
  (when the antenna type states it) becomes the site's ``ap_gain_dbi`` where all APs agree;
  an AP with another gain gets the difference on its power, so its EIRP is kept.
  2.4 and 6 GHz radios, disabled radios, APs without a 5 GHz radio, DFS channels, widths
  other than 20 MHz, directional and unknown antennas are reported.

Everything that is not mapped is said in :attr:`EsxImport.warnings`, never dropped silently.

Export writes the same members back. What Ekahau has no place for (the outline when it is
not the image's rectangle, zone terminals, AP backhaul, the regulatory domain, propagation
and building settings, infrastructure) is kept in a ``wifiplan`` field of the objects it
belongs to: Ekahau ignores such fields (and drops them when it saves the project), wifiplan
reads them back, so wifiplan -> .esx -> wifiplan keeps the site and the plan.

Hostile archives: members are read in memory, never extracted; names that climb out of the
archive, duplicates and encrypted members are refused; sizes are bounded per member, in
total and by compression ratio, from the central directory and again while reading.
"""
from __future__ import annotations

import io
import json
import math
import re
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from shapely.geometry import LineString, MultiLineString, Point, Polygon

from .errors import InputError
from .fileio import MAX_INPUT_BYTES, check_size, shown_name
from .floorimage import check_image_px, image_size_px
from .materials import MATERIALS
from .plan import (AP_HEIGHT_RANGE_M, MAX_AP_ID_CHARS, TX_POWER_RANGE_DBM, Plan,
                   check_plan_against_site, plan_from_dict)
from .radio.hall import BUILDING_DEFAULTS, Building
from .radio.propagation import PROPAGATION_DEFAULTS
from .regulatory import DOMAINS, WIDTH_MHZ, band_of, centre_freq_mhz, channel_from_freq, is_dfs
from .requirements import DEFAULTS as REQUIREMENT_DEFAULTS
from .requirements import RANGES as REQUIREMENT_RANGES
from .rules import MIN_RSSI_RANGE_DBM
from .site import SITE_KEYS, Site, site_from_dict
from .validation import Ctx, check_number

# ---- bounds on what an archive may make us read ------------------------------------------
MAX_ESX_BYTES = 2 * 1024 ** 3           # the archive file itself (surveys make them big)
MAX_MEMBERS = 100_000
MAX_DECLARED_BYTES = 8 * 1024 ** 3      # sum of the central directory's uncompressed sizes
MAX_JSON_BYTES = MAX_INPUT_BYTES        # one JSON member, uncompressed
MAX_IMAGE_BYTES = 64 * 1024 * 1024      # one floor image
MAX_READ_BYTES = 256 * 1024 * 1024      # everything read from one archive
MAX_RATIO = 200.0                       # uncompressed / compressed, for members over 1 MB
RATIO_FLOOR_BYTES = 1024 * 1024

MAX_LOSS_DB = 100.0                     # the site file's largest material loss
MAX_COORD_PX = 1e7
EXPORT_MAX_PX = 4000                    # long side of the exported floor image
EXPORT_MIN_M_PER_PX = 0.05
#: Wall thickness [m] written for a material on export (its loss = attenuationFactor x this).
EXPORT_THICKNESS_M = {"plasterboard": 0.1, "glass": 0.01, "irr-glass": 0.01, "wood": 0.04,
                      "brick": 0.15, "concrete": 0.2, "concrete-block": 0.2, "metal": 0.002,
                      "metal-rack": 1.5, "machinery": 1.0, "cold-room": 0.1, "wire-mesh": 0.01}
DEFAULT_THICKNESS_M = 0.1
SCHEMA_VERSION = "1.9.0"
NAMESPACE = uuid.UUID("6b1f2c3e-6f1e-4a51-9a3e-8f0e2f6c5e11")
DIRECTIONAL_WORDS = ("panel", "patch", "sector", "directional", "yagi", "parabolic")
GAIN_KEYS = ("gain", "maxGain", "gainDbi", "peakGain")


@dataclass
class EsxImport:
    """What an import did: the floor, the image, the counts and what was not mapped."""
    source: str
    floor: str
    floors: list[str]
    m_per_px: float
    warnings: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    materials: dict[str, float] = field(default_factory=dict)   # every material used [dB]
    image: bytes | None = None
    image_format: str | None = None
    image_size_px: tuple[int, int] | None = None
    image_extent_m: tuple[float, float, float, float] | None = None   # x0, y0, x1, y1

    def summary(self) -> str:
        c = self.counts
        return (f"floor '{self.floor}': {c.get('walls', 0)} walls, {c.get('obstacles', 0)} "
                f"obstacles, {c.get('no_mount', 0)} no-mount areas, {c.get('zones', 0)} zones, "
                f"{c.get('aps', 0)} APs ({self.m_per_px * 1000:.1f} mm per pixel)")


#: What an AP keeps in its ``wifiplan`` field (Ekahau has no place for it): backhaul and
#: identity, and its hardware and mounting (model, antenna pattern, azimuth, tilt).
AP_KEPT_KEYS = ("bssid", "switch", "port", "locked", "cable_m", "model", "antenna",
                "azimuth_deg", "tilt_deg")

# ---- reading the archive ------------------------------------------------------------------


def _safe_name(name: str) -> bool:
    if not name or "\x00" in name or "\\" in name or name.startswith("/"):
        return False
    if re.match(r"^[A-Za-z]:", name):
        return False
    return ".." not in name.split("/")


class _Archive:
    """The members of an ``.esx`` archive, read in memory within the bounds above."""

    def __init__(self, source, label: str):
        self.label = label
        self.read_total = 0
        if isinstance(source, (str, Path)):
            path = check_size(source, MAX_ESX_BYTES)
            fh = open(path, "rb")
        elif isinstance(source, (bytes, bytearray, memoryview)):
            fh = io.BytesIO(bytes(source))
        elif hasattr(source, "read"):
            if hasattr(source, "seek"):
                source.seek(0)
            data = source.read(MAX_ESX_BYTES + 1)
            if len(data) > MAX_ESX_BYTES:
                raise InputError(f"file is larger than {MAX_ESX_BYTES / 1e9:.0f} GB; refused",
                                 source=label)
            fh = io.BytesIO(data)
        else:
            raise InputError(f"expected a file path, bytes or a file, got "
                             f"{type(source).__name__}", source=label)
        self._fh = fh
        try:
            self.zip = zipfile.ZipFile(fh)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError,
                NotImplementedError):         # a damaged header: "zip file version 11.7"
            fh.close()
            raise InputError("not a zip archive, expected an Ekahau .esx project",
                             source=label) from None
        infos = self.zip.infolist()
        if len(infos) > MAX_MEMBERS:
            self.close()
            raise InputError(f"archive has {len(infos):,} members, more than "
                             f"{MAX_MEMBERS:,}; refused", source=label)
        self.infos: dict[str, zipfile.ZipInfo] = {}
        declared = 0
        for info in infos:
            if not _safe_name(info.filename):
                self.close()
                raise InputError(f"member name {info.filename[:80]!r} climbs out of the "
                                 "archive or is not a plain relative name; refused",
                                 source=label)
            if info.filename in self.infos:
                self.close()
                raise InputError(f"member {info.filename[:80]!r} is in the archive twice; "
                                 "refused", source=label)
            self.infos[info.filename] = info
            declared += info.file_size
        if declared > MAX_DECLARED_BYTES:
            self.close()
            raise InputError(f"archive declares {declared / 1e9:.1f} GB uncompressed, more than "
                             f"{MAX_DECLARED_BYTES / 1e9:.0f} GB; refused", source=label)

    def close(self):
        try:
            self.zip.close()
        except Exception:
            pass
        self._fh.close()

    def has(self, name: str) -> bool:
        return name in self.infos

    def read(self, name: str, limit: int) -> bytes:
        info = self.infos.get(name)
        if info is None:
            raise InputError("missing from the archive", source=self.label, key=name)
        if info.flag_bits & 0x1:
            raise InputError("member is encrypted; refused", source=self.label, key=name)
        if info.file_size > limit:
            raise InputError(f"member is {info.file_size / 1e6:.1f} MB uncompressed, larger "
                             f"than the limit of {limit / 1e6:.0f} MB; refused",
                             source=self.label, key=name)
        if info.file_size > RATIO_FLOOR_BYTES and \
                info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise InputError(f"member expands {info.file_size / max(info.compress_size, 1):,.0f}"
                             f" times (more than {MAX_RATIO:g}): a zip bomb?; refused",
                             source=self.label, key=name)
        budget = min(limit, MAX_READ_BYTES - self.read_total)
        try:
            with self.zip.open(info) as fh:
                data = fh.read(budget + 1)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError,
                RuntimeError) as exc:
            raise InputError(f"member cannot be read ({str(exc).splitlines()[0][:120]})",
                             source=self.label, key=name) from None
        except Exception as exc:          # zlib.error and the like from a corrupt stream
            raise InputError(f"member cannot be read ({type(exc).__name__})",
                             source=self.label, key=name) from None
        if len(data) > budget:
            raise InputError("member holds more than its header says or than the archive "
                             f"may make us read ({MAX_READ_BYTES / 1e6:.0f} MB); refused",
                             source=self.label, key=name)
        self.read_total += len(data)
        return data

    def objects(self, name: str, required: bool = False) -> tuple[list[dict], Ctx]:
        """The object list of a JSON member (``{"<stem>": [...]}``) and a context whose
        errors name the archive, the member and the key."""
        key = name[:-5] if name.endswith(".json") else name
        ctx = Ctx(f"{self.label}: {name}", {})
        if not self.has(name):
            if required:
                raise InputError("required member missing from the archive; is this an "
                                 "Ekahau project?", source=self.label, key=name)
            return [], ctx
        raw = self.read(name, MAX_JSON_BYTES)
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InputError("not UTF-8 text, expected JSON", source=self.label,
                             key=name) from None

        def bad_constant(c):
            raise ValueError(f"{c} is not a number JSON allows")

        def no_duplicates(pairs):
            out = {}
            for k, v in pairs:
                if k in out:
                    raise ValueError(f"key {k[:80]!r} given twice in one object")
                out[k] = v
            return out
        try:
            doc = json.loads(text, parse_constant=bad_constant, object_pairs_hook=no_duplicates)
        except json.JSONDecodeError as exc:
            raise InputError(f"not valid JSON (line {exc.lineno} column {exc.colno}: "
                             f"{exc.msg})", source=self.label, key=name) from None
        except RecursionError:
            raise InputError("not valid JSON (nested too deep)", source=self.label,
                             key=name) from None
        except ValueError as exc:
            raise InputError(f"not valid JSON ({str(exc)[:100]})", source=self.label,
                             key=name) from None
        if not isinstance(doc, dict) or key not in doc:
            ctx.fail((), f"expected an object with the key '{key}'")
        items = doc[key]
        if isinstance(items, dict):          # project.json holds one object
            items = [items]
        if not isinstance(items, list):
            ctx.fail((key,), f"expected a list of objects, got {type(items).__name__}")
        for i, it in enumerate(items):
            if not isinstance(it, dict):
                ctx.fail((key, i), f"expected an object, got {type(it).__name__}")
        return items, ctx


# ---- value checks naming member and key -------------------------------------------------

def _num(ctx, path, v, lo=-math.inf, hi=math.inf, what="a number") -> float:
    return float(check_number(ctx, path, v, lo=lo, hi=hi, what=what))


def _finite(v) -> float | None:
    """``v`` as a finite float, or None when it is no number (a bool, a string, a list, NaN,
    an integer of hundreds of digits)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    try:
        f = float(v)
    except OverflowError:
        return None
    return f if math.isfinite(f) else None


def _size_px(v) -> int | None:
    """An image size [px] the project states, or None when it is not a number of pixels
    (the size is only reported; the image's own header is what the pixel limit checks)."""
    f = _finite(v)
    return int(f) if f is not None and 0 <= f <= MAX_COORD_PX else None


def _str(ctx, path, v, what="a name") -> str:
    if isinstance(v, bool) or not isinstance(v, (str, int)):
        ctx.fail(path, f"expected {what}, got {type(v).__name__}")
    return str(v)


def _xy(ctx, path, v) -> tuple[float, float]:
    if not isinstance(v, dict) or "x" not in v or "y" not in v:
        ctx.fail(path, "expected a point {x, y} in pixels")
    return (_num(ctx, path + ("x",), v["x"], -MAX_COORD_PX, MAX_COORD_PX, "a coordinate in px"),
            _num(ctx, path + ("y",), v["y"], -MAX_COORD_PX, MAX_COORD_PX, "a coordinate in px"))


def _location(ctx, path, v) -> tuple[str | None, tuple[float, float]]:
    """(floorPlanId, (x, y) px) of a ``location`` object (``coord`` or ``x``/``y`` in it)."""
    if not isinstance(v, dict):
        ctx.fail(path, "expected a location {floorPlanId, coord: {x, y}}")
    fid = v.get("floorPlanId")
    fid = None if fid is None else _str(ctx, path + ("floorPlanId",), fid, "a floor plan id")
    if "coord" in v:
        return fid, _xy(ctx, path + ("coord",), v["coord"])
    return fid, _xy(ctx, path, v)


def _polygon_px(ctx, path, obj) -> list[tuple[float, float]]:
    for k in ("area", "points", "polygon"):
        if k in obj:
            pts = obj[k]
            if not isinstance(pts, list):
                ctx.fail(path + (k,), "expected a list of points {x, y}")
            return [_xy(ctx, path + (k, i), p) for i, p in enumerate(pts)]
    ctx.fail(path, "expected the polygon of the area ('area': [{x, y}, ...])")


def _slug(name: str, fallback: str) -> str:
    s = re.sub(r"[^a-z0-9]+", "-", str(name).lower()).strip("-")[:60]
    return s or fallback


def _r(v: float) -> float:
    f = round(float(v), 4)
    return int(f) if f.is_integer() else f


def _band_factor(ctx, path, t) -> tuple[float | None, str | None]:
    """(attenuationFactor [dB/m] of the FIVE band, name of the band used when not FIVE)."""
    props = t.get("propagationProperties")
    if props is None:
        if "attenuationFactor" in t:
            return _num(ctx, path + ("attenuationFactor",), t["attenuationFactor"], 0, 1e6,
                        "an attenuation in dB/m"), None
        return None, None
    if not isinstance(props, list):
        ctx.fail(path + ("propagationProperties",), "expected a list of band properties")
    by_band = {}
    for i, p in enumerate(props):
        if not isinstance(p, dict):
            ctx.fail(path + ("propagationProperties", i), "expected an object")
        if "attenuationFactor" in p:
            by_band[str(p.get("band", ""))] = _num(
                ctx, path + ("propagationProperties", i, "attenuationFactor"),
                p["attenuationFactor"], 0, 1e6, "an attenuation in dB/m")
    for band in ("FIVE", "SIX", "TWO"):
        if band in by_band:
            return by_band[band], (None if band == "FIVE" else band)
    return None, None


class _Materials:
    """Material names for (type name, loss): a library material of that name and loss is
    reused; a site material otherwise (the loss in its name when the plain name is taken)."""

    def __init__(self):
        self.site: dict[str, float] = {}
        self.used: dict[str, float] = {}

    def name(self, type_name: str, loss_db: float, fallback: str) -> str:
        loss = round(float(loss_db), 4)
        base = _slug(type_name, fallback)
        lib = MATERIALS.get(base)
        if lib is not None and abs(lib.loss_db - loss) < 0.005:
            self.used[base] = lib.loss_db
            return base
        cands = [base] if lib is None else []
        cands.append(f"{base}-{loss:g}db")
        cands += [f"{base}-{loss:g}db-{k}" for k in range(2, 100)]
        for c in cands:
            if c in MATERIALS:
                continue
            if c not in self.site or abs(self.site[c] - loss) < 0.005:
                self.site[c] = loss
                self.used[c] = loss
                return c
        raise InputError(f"too many materials named after '{type_name}'")


def _clip_polygon(pts: np.ndarray, outline: Polygon) -> np.ndarray | None:
    """``pts`` clipped to the outline (largest piece), None when nothing of it is inside."""
    poly = Polygon(pts)
    if not poly.is_valid or poly.area <= 1e-6:
        return None
    if outline.buffer(0.01).covers(poly):
        return pts
    cut = poly.intersection(outline)
    if cut.is_empty or cut.area <= 1e-6:
        return None
    if cut.geom_type != "Polygon":
        cut = max(getattr(cut, "geoms", []), key=lambda g: getattr(g, "area", 0.0))
    return np.asarray(cut.exterior.coords)[:-1]


def _area_polygon(ctx, path, obj, to_m, outline) -> tuple[np.ndarray, np.ndarray | None]:
    """An area's polygon in metres and the same clipped at the floor's outline (None when
    nothing of it is left inside; the polygon itself when it lies inside)."""
    poly = np.array([to_m(p) for p in _polygon_px(ctx, path, obj)], float)
    return poly, (_clip_polygon(poly, outline) if len(poly) >= 3 else None)


def _ours(obj) -> dict:
    """The ``wifiplan`` block an export wrote into an object (empty if none)."""
    return obj.get("wifiplan") if isinstance(obj.get("wifiplan"), dict) else {}


def _clip_line(pts: np.ndarray, outline: Polygon) -> list[np.ndarray]:
    line = LineString(pts)
    if outline.buffer(0.01).covers(line):
        return [pts]
    cut = line.intersection(outline)
    parts = [cut] if isinstance(cut, LineString) else (
        list(cut.geoms) if isinstance(cut, MultiLineString) else
        [g for g in getattr(cut, "geoms", []) if isinstance(g, LineString)])
    return [np.asarray(p.coords) for p in parts if not p.is_empty and p.length > 1e-3]


def _chains(segments: list[tuple[str, str, str]]) -> list[tuple[str, list[str]]]:
    """Polylines ``(type, [point ids])`` from segments ``(type, p, q)``: segments of one type
    that meet at a point used by exactly two of them are joined, in the order of the file."""
    deg: dict[tuple[str, str], list[int]] = {}
    for i, (t, p, q) in enumerate(segments):
        deg.setdefault((t, p), []).append(i)
        deg.setdefault((t, q), []).append(i)
    used = [False] * len(segments)
    out = []
    for i, (t, p, q) in enumerate(segments):
        if used[i]:
            continue
        used[i] = True
        pts = [p, q]
        for forward in (True, False):
            while True:
                end = pts[-1] if forward else pts[0]
                nxt = [j for j in deg[(t, end)] if not used[j]]
                if len(deg[(t, end)]) != 2 or not nxt or end == (pts[0] if forward else pts[-1]):
                    break
                j = nxt[0]
                used[j] = True
                _, a, b = segments[j]
                other = b if a == end else a
                if forward:
                    pts.append(other)
                else:
                    pts.insert(0, other)
        out.append((t, pts))
    return out


def _width_m(poly: np.ndarray) -> float:
    """The depth of an area [m]: the short side of its minimum rotated rectangle."""
    rect = Polygon(poly).minimum_rotated_rectangle
    c = np.asarray(rect.exterior.coords)
    sides = np.hypot(*np.diff(c[:3], axis=0).T)
    return float(min(sides)) if len(sides) else 0.0


def _gain_of(antenna: dict) -> float | None:
    for k in GAIN_KEYS:
        v = antenna.get(k)
        if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) \
                and -20 <= v <= 40:
            return float(v)
    return None


def _is_directional(antenna: dict) -> bool:
    if antenna.get("directional") is True:
        return True
    name = str(antenna.get("name", "")).lower()
    return any(w in name for w in DIRECTIONAL_WORDS)


def _width_mhz(v, freqs) -> int | None:
    if v is None:
        return 20 * len(freqs) if freqs else None
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return int(v) if math.isfinite(v) else None
    words = {"TWENTY": 20, "FORTY": 40, "EIGHTY": 80, "ONE_SIXTY": 160, "ONEHUNDREDSIXTY": 160,
             "HUNDRED_SIXTY": 160, "THREE_TWENTY": 320}
    s = str(v).upper().replace("MHZ", "").replace("_", " ").strip().replace(" ", "_")
    if s.strip("_").isdigit():
        return int(s.strip("_"))
    return words.get(s.strip("_"))


def _listing(items: list[str], n: int = 8) -> str:
    return ", ".join(items[:n]) + (f" and {len(items) - n} more" if len(items) > n else "")


# ---- import -------------------------------------------------------------------------------

def esx_floors(source, name: str | None = None) -> list[str]:
    """The floor names of a project (path, bytes or an upload)."""
    label = name or (str(source) if isinstance(source, (str, Path)) else
                    shown_name(getattr(source, "name", None), "<esx>"))
    arch = _Archive(source, label)
    try:
        floors, ctx = arch.objects("floorPlans.json", required=True)
        return [_str(ctx, ("floorPlans", i, "name"), f.get("name", f"floor {i + 1}"))
                for i, f in enumerate(floors)]
    finally:
        arch.close()


def import_esx(source, floor: str | None = None, *, name: str | None = None,
               source_name: str | None = None, regulatory_domain: str | None = None
               ) -> tuple[Site, Plan, EsxImport]:
    """Read an Ekahau project (a path, bytes or a binary file object) and return
    ``(site, plan, report)`` of one floor (``floor``: its name; needed when the project has
    several). Raise :class:`InputError` (one line naming the archive, the member and the key)
    on bad input. See the module docstring for the mapping."""
    label = source_name or (str(source) if isinstance(source, (str, Path)) else
                    shown_name(getattr(source, "name", None), "<esx>"))
    arch = _Archive(source, label)
    try:
        return _import(arch, label, floor, name, regulatory_domain)
    finally:
        arch.close()


def _import(arch: _Archive, label: str, floor_name, site_name, domain_arg):
    floors, fctx = arch.objects("floorPlans.json", required=True)
    if not floors:
        fctx.fail(("floorPlans",), "the project has no floor")
    names = [_str(fctx, ("floorPlans", i, "name"), f.get("name", f"floor {i + 1}"))
             for i, f in enumerate(floors)]
    if floor_name is None:
        if len(floors) > 1:
            raise InputError(f"the project has {len(floors)} floors ({_listing(names, 20)}); "
                             "choose one with --floor NAME", source=label)
        fi = 0
    else:
        hits = [i for i, n in enumerate(names) if n == floor_name]
        if not hits:
            raise InputError(f"no floor named {floor_name!r}; the floors are "
                             f"{_listing(names, 20)}", source=label)
        fi = hits[0]
    fp = floors[fi]
    fpath = ("floorPlans", fi)
    fid = _str(fctx, fpath + ("id",), fp.get("id", ""), "a floor plan id")
    mpu = _num(fctx, fpath + ("metersPerUnit",), fp.get("metersPerUnit"), 1e-6, 100.0,
               "metres per pixel (metersPerUnit > 0)")
    w_px = _num(fctx, fpath + ("width",), fp.get("width", 0), 0, MAX_COORD_PX, "a width in px")
    h_px = _num(fctx, fpath + ("height",), fp.get("height", 0), 0, MAX_COORD_PX,
                "a height in px")
    cx0 = _num(fctx, fpath + ("cropMinX",), fp.get("cropMinX", 0), -MAX_COORD_PX, MAX_COORD_PX)
    cy0 = _num(fctx, fpath + ("cropMinY",), fp.get("cropMinY", 0), -MAX_COORD_PX, MAX_COORD_PX)
    cx1 = _num(fctx, fpath + ("cropMaxX",), fp.get("cropMaxX", w_px), -MAX_COORD_PX,
               MAX_COORD_PX)
    cy1 = _num(fctx, fpath + ("cropMaxY",), fp.get("cropMaxY", h_px), -MAX_COORD_PX,
               MAX_COORD_PX)
    if cx1 - cx0 <= 0 or cy1 - cy0 <= 0:
        fctx.fail(fpath, "the floor has no extent: give width and height (or the crop) in px")
    ours = _ours(fp)
    ox, oy = 0.0, 0.0
    if "origin_m" in ours:
        o = ours["origin_m"]
        if not isinstance(o, list) or len(o) != 2:
            fctx.fail(fpath + ("wifiplan", "origin_m"), "expected [x, y] in metres")
        ox = _num(fctx, fpath + ("wifiplan", "origin_m", 0), o[0], -5000, 5000)
        oy = _num(fctx, fpath + ("wifiplan", "origin_m", 1), o[1], -5000, 5000)

    def to_m(p):
        return ((p[0] - cx0) * mpu + ox, (cy1 - p[1]) * mpu + oy)

    rep = EsxImport(source=label, floor=names[fi], floors=names, m_per_px=mpu)
    warn = rep.warnings
    rot = fp.get("rotateUpDirection")
    if rot not in (None, "UP"):
        warn.append(f"the floor's rotateUpDirection is {rot!r}: the import keeps the image's "
                    "own orientation (up is the top of the image)")

    # outline
    if "outline" in ours:
        o = ours["outline"]
        if not isinstance(o, list) or len(o) < 3:
            fctx.fail(fpath + ("wifiplan", "outline"), "expected a list of points [x, y] (m)")
        outline = np.array([[_num(fctx, fpath + ("wifiplan", "outline", i, k), p[k], -5000,
                                  5000) for k in (0, 1)] if isinstance(p, list) and len(p) == 2
                            else fctx.fail(fpath + ("wifiplan", "outline", i), "expected [x, y]")
                            for i, p in enumerate(o)], float)
    else:
        x1, y1 = (cx1 - cx0) * mpu + ox, (cy1 - cy0) * mpu + oy
        outline = np.array([[ox, oy], [x1, oy], [x1, y1], [ox, y1]], float)
    outline_poly = Polygon(outline)
    if not outline_poly.is_valid:
        fctx.fail(fpath, "the floor's outline is not a valid polygon")

    # project
    projects, pctx = arch.objects("project.json")
    proj = projects[0] if projects else {}
    pname = proj.get("title") or proj.get("name")
    pname = _str(pctx, ("project", "name"), pname) if pname else Path(label).stem
    p_ours = _ours(proj)

    # image
    image_id = fp.get("bitmapImageId") or fp.get("imageId")
    if image_id:
        image_id = _str(fctx, fpath + ("imageId",), image_id, "an image id")
        member = f"image-{image_id}"
        images, _ = arch.objects("images.json")
        meta = next((m for m in images if m.get("id") == image_id), {})
        if arch.has(member):
            rep.image = arch.read(member, MAX_IMAGE_BYTES)
            rep.image_format = str(meta.get("imageFormat") or "unknown")
            iw = _size_px(meta.get("resolutionWidth", w_px))
            ih = _size_px(meta.get("resolutionHeight", h_px))
            if iw is not None and ih is not None:
                rep.image_size_px = (iw, ih)
            x0, y0 = to_m((0.0, h_px))
            x1, y1 = to_m((w_px, 0.0))
            rep.image_extent_m = (x0, y0, x1, y1)
            size = (f"{rep.image_size_px[0]} x {rep.image_size_px[1]} px, "
                    if rep.image_size_px else "")
            warn.append(f"floor image {member} ({rep.image_format}, {size}"
                        f"{mpu * 1000:.1f} mm per pixel) is not kept in the site file, which "
                        "has no place for an image (the UI shows it as the background)")
            try:        # the JSON's size and the image's own header (a bomb's may differ)
                for wh in (rep.image_size_px, image_size_px(rep.image)):
                    if wh:
                        check_image_px(*wh, name=member)
            except InputError as exc:
                warn.append(f"{exc}; the image is dropped")
                rep.image = rep.image_extent_m = None
        else:
            warn.append(f"the floor names image {member}, which is not in the archive")

    mats = _Materials()
    site: dict = {"name": site_name or (pname if len(floors) == 1 else f"{pname} {names[fi]}"),
                  "regulatory_domain": "seed", "description":
                  f"imported from {Path(label).name}, floor '{names[fi]}' "
                  f"({mpu * 1000:.2f} mm per pixel)",
                  "outline": [[_r(x), _r(y)] for x, y in outline],
                  "walls": [], "obstacles": [], "zones": []}
    for k in ("regulatory_domain", "enable_w58", "propagation", "building", "infrastructure",
              "terminal_profiles", "description"):
        if k in p_ours:
            site[k] = p_ours[k]
    ignored = sorted(set(p_ours) - SITE_KEYS)
    if ignored:
        warn.append(f"project.json: wifiplan fields not known to this version: "
                    f"{_listing(ignored)}")
    if domain_arg is not None:
        site["regulatory_domain"] = domain_arg
    domain = site["regulatory_domain"] if site["regulatory_domain"] in DOMAINS else "seed"
    ceiling = BUILDING_DEFAULTS["ceiling_height_m"]
    if isinstance(site.get("building"), dict) and isinstance(
            site["building"].get("ceiling_height_m"), (int, float)):
        ceiling = float(site["building"]["ceiling_height_m"])

    _walls(arch, fid, to_m, outline_poly, mats, site, rep)
    _obstacles(arch, fid, to_m, outline_poly, mats, site, rep, ceiling)
    _exclusions(arch, fid, to_m, outline_poly, site, rep)
    _zones(arch, fid, to_m, outline_poly, site, rep)
    aps, gain = _aps(arch, fid, to_m, outline_poly, site, rep, domain)
    if gain is not None:
        site.setdefault("propagation", {})
        if isinstance(site["propagation"], dict):
            site["propagation"]["ap_gain_dbi"] = gain
    site["materials"] = {**(site.get("materials") or {}),
                         **{k: {"loss_db": v} for k, v in mats.site.items()}}
    if not site["materials"]:
        site.pop("materials")
    rep.materials = dict(mats.used)
    rep.counts.update(walls=len(site["walls"]), obstacles=len(site["obstacles"]),
                      no_mount=len(site.get("no_mount", [])), zones=len(site["zones"]),
                      aps=len(aps))
    s = site_from_dict(site, source=label)
    plan = plan_from_dict({"site": s.name, "aps": aps}, source=label)
    check_plan_against_site(plan, s)
    return s, plan, rep


def _for_floor(ctx, path, obj, fid) -> bool:
    f = obj.get("floorPlanId")
    if f is None and isinstance(obj.get("location"), dict):
        f = obj["location"].get("floorPlanId")
    return f is None or str(f) == fid


def _walls(arch, fid, to_m, outline, mats, site, rep):
    points, pctx = arch.objects("wallPoints.json")
    segs, sctx = arch.objects("wallSegments.json")
    types, tctx = arch.objects("wallTypes.json")
    if segs and not arch.has("wallPoints.json"):
        raise InputError("wallSegments.json needs wallPoints.json, which is missing",
                         source=rep.source, key="wallPoints.json")
    pt: dict[str, tuple[float, float]] = {}
    for i, p in enumerate(points):
        pid = _str(pctx, ("wallPoints", i, "id"), p.get("id"), "a point id")
        f, xy = _location(pctx, ("wallPoints", i, "location"), p.get("location"))
        if f is None or f == fid:
            pt[pid] = xy
    tmat: dict[str, str] = {}
    partial, other_band = [], []
    for i, t in enumerate(types):
        tid = _str(tctx, ("wallTypes", i, "id"), t.get("id"), "a wall type id")
        tname = str(t.get("name") or f"wall type {i + 1}")
        thick = _num(tctx, ("wallTypes", i, "thickness"), t.get("thickness", 0), 0, 100,
                     "a thickness in metres")
        af, band = _band_factor(tctx, ("wallTypes", i), t)
        if af is None:
            rep.warnings.append(f"wall type '{tname}' has no attenuation factor: its walls "
                                "are imported with 0 dB")
            af = 0.0
        elif band:
            other_band.append(f"'{tname}' ({band})")
        loss = af * thick
        if loss > MAX_LOSS_DB:
            rep.warnings.append(f"wall type '{tname}': {af:g} dB/m x {thick:g} m = {loss:g} dB,"
                                f" capped at {MAX_LOSS_DB:g} dB")
            loss = MAX_LOSS_DB
        low = t.get("lowerEdge")
        up = t.get("upperEdge")
        if (isinstance(low, (int, float)) and not isinstance(low, bool) and low > 0) or \
                (isinstance(up, (int, float)) and not isinstance(up, bool)):
            partial.append(f"'{tname}'")
        tmat[tid] = (tname, loss, bool(partial) and partial[-1] == f"'{tname}'")
    if other_band:
        rep.warnings.append("wall types without 5 GHz (FIVE) properties, their loss taken "
                            f"from another band: {_listing(other_band)}")
    used_partial = set()
    seglist = []
    off_floor = 0
    for i, s in enumerate(segs):
        path = ("wallSegments", i)
        ids = s.get("wallPoints")
        if ids is None and "point1Id" in s:
            ids = [s.get("point1Id"), s.get("point2Id")]
        if not isinstance(ids, list) or len(ids) != 2:
            sctx.fail(path + ("wallPoints",), "expected the ids of its two wall points")
        a, b = (_str(sctx, path + ("wallPoints", k), ids[k], "a wall point id") for k in (0, 1))
        tid = _str(sctx, path + ("wallTypeId",), s.get("wallTypeId"), "a wall type id")
        if tid not in tmat:
            sctx.fail(path + ("wallTypeId",), f"wall type {tid[:40]!r} is not in wallTypes.json")
        if a not in pt or b not in pt:
            known = {str(p.get("id")) for p in points}
            if a not in known or b not in known:
                sctx.fail(path + ("wallPoints",), "names a wall point that is not in "
                                                  "wallPoints.json")
            off_floor += 1
            continue
        if a != b:
            seglist.append((tid, a, b))
    clipped = dropped = 0
    for tid, ids in _chains(seglist):
        tname, loss, is_partial = tmat[tid]
        pts = np.array([to_m(pt[p]) for p in ids], float)
        keep = np.r_[True, np.hypot(*np.diff(pts, axis=0).T) > 1e-3]
        pts = pts[keep]
        if len(pts) < 2:
            continue
        parts = _clip_line(pts, outline)
        if not parts:
            dropped += 1
            continue
        clipped += len(parts) != 1 or len(parts[0]) != len(pts)
        mat = mats.name(tname, loss, "wall")
        if is_partial:
            used_partial.add(f"'{tname}'")
        for p in parts:
            p = [[_r(x), _r(y)] for x, y in p]
            site["walls"].append({"from": p[0], "to": p[1], "material": mat} if len(p) == 2
                                 else {"points": p, "material": mat})
    if used_partial:
        rep.warnings.append("wall types with a lower or upper edge are imported as walls from "
                            f"floor to ceiling: {_listing(sorted(used_partial))}")
    if clipped or dropped:
        rep.warnings.append(f"walls outside the floor's outline: {clipped} cut at it, "
                            f"{dropped} left out")


def _obstacles(arch, fid, to_m, outline, mats, site, rep, ceiling):
    types, tctx = arch.objects("attenuationAreaTypes.json")
    areas, actx = arch.objects("attenuationAreas.json")
    tinfo = {}
    for i, t in enumerate(types):
        tid = _str(tctx, ("attenuationAreaTypes", i, "id"), t.get("id"), "a type id")
        af, band = _band_factor(tctx, ("attenuationAreaTypes", i), t)
        up = t.get("upperEdge")
        up = None if up is None else _num(tctx, ("attenuationAreaTypes", i, "upperEdge"), up, 0,
                                          1000, "a height in metres")
        low = _num(tctx, ("attenuationAreaTypes", i, "lowerEdge"), t.get("lowerEdge", 0) or 0,
                   0, 1000, "a height in metres")
        tinfo[tid] = (str(t.get("name") or f"attenuation area {i + 1}"), af, band, up, low)
    raised, capped, bad, cut, names = [], [], 0, 0, set()
    for i, a in enumerate(areas):
        path = ("attenuationAreas", i)
        if not _for_floor(actx, path, a, fid):
            continue
        tid = a.get("attenuationAreaTypeId", a.get("typeId"))
        tid = _str(actx, path + ("attenuationAreaTypeId",), tid, "an attenuation area type id")
        if tid not in tinfo:
            actx.fail(path + ("attenuationAreaTypeId",),
                      f"type {tid[:40]!r} is not in attenuationAreaTypes.json")
        tname, af, band, up, low = tinfo[tid]
        ours = _ours(a)
        poly, clipped = _area_polygon(actx, path, a, to_m, outline)
        if clipped is None:
            bad += 1
            continue
        cut += clipped is not poly
        if af is None:
            rep.warnings.append(f"attenuation area type '{tname}' has no attenuation factor: "
                                "its areas are imported with 0 dB")
            af = 0.0
        depth = _width_m(clipped)
        loss = af * depth
        if "loss_db" in ours and isinstance(ours["loss_db"], (int, float)):
            loss = float(ours["loss_db"])           # exactly what was exported
        if loss > MAX_LOSS_DB:
            capped.append(f"'{tname}' ({loss:.0f} dB)")
            loss = MAX_LOSS_DB
        if low > 0:
            raised.append(f"'{tname}'")
        height = min(up, ceiling) if up is not None else ceiling
        mat = mats.name(str(ours.get("material") or tname), loss, "obstacle")
        nm = str(ours.get("name") or a.get("name") or f"{_slug(tname, 'area')}-{i + 1}")[:120]
        while nm in names:
            nm = f"{nm}-{i + 1}"
        names.add(nm)
        site["obstacles"].append({"name": nm, "polygon": [[_r(x), _r(y)] for x, y in clipped],
                                  "material": mat, "height_m": _r(height)})
    if raised:
        rep.warnings.append("attenuation areas with a lower edge above the floor are imported "
                            f"as obstacles from the floor up: {_listing(sorted(set(raised)))}")
    if capped:
        rep.warnings.append(f"attenuation areas whose loss across them exceeds "
                            f"{MAX_LOSS_DB:g} dB, capped: {_listing(capped)}")
    if bad:
        rep.warnings.append(f"{bad} attenuation areas left out: no valid polygon inside the "
                            "floor's outline")
    if cut:
        rep.warnings.append(f"{cut} attenuation areas cut at the floor's outline")


def _exclusions(arch, fid, to_m, outline, site, rep):
    areas, ctx = arch.objects("exclusionAreas.json")
    out, bad = [], 0
    for i, a in enumerate(areas):
        path = ("exclusionAreas", i)
        if not _for_floor(ctx, path, a, fid):
            continue
        _, clipped = _area_polygon(ctx, path, a, to_m, outline)
        if clipped is None:
            bad += 1
            continue
        ours = _ours(a)
        nm = str(ours.get("name") or a.get("name") or f"exclusion-{i + 1}")[:120]
        out.append({"name": nm, "polygon": [[_r(x), _r(y)] for x, y in clipped]})
    if out:
        site["no_mount"] = out
    if bad:
        rep.warnings.append(f"{bad} exclusion areas left out: no valid polygon inside the "
                            "floor's outline")


#: Ekahau criteria -> zone keys (FIVE band, AT_LEAST) and their ranges.
CRITERIA = {"SIGNAL_STRENGTH": ("min_rssi_dbm", MIN_RSSI_RANGE_DBM),
            "SIGNAL_TO_NOISE_RATIO": ("min_sinr_db", REQUIREMENT_RANGES["min_sinr_db"])}
CRITERIA_KEYS = {k for k, _ in CRITERIA.values()}


def _requirements(arch, rep) -> tuple[dict[str, dict], dict | None]:
    profiles, ctx = arch.objects("requirements.json")
    out, default = {}, None
    for i, r in enumerate(profiles):
        path = ("requirements", i)
        rid = _str(ctx, path + ("id",), r.get("id"), "a requirement id")
        rname = str(r.get("name") or rid)
        crit = r.get("criteria") or []
        if not isinstance(crit, list):
            ctx.fail(path + ("criteria",), "expected a list of criteria")
        keys, unmapped = {}, []
        for j, c in enumerate(crit):
            cpath = path + ("criteria", j)
            if not isinstance(c, dict):
                ctx.fail(cpath, "expected an object")
            if c.get("frequencyBand", "FIVE") != "FIVE":
                continue
            typ, fn = str(c.get("type")), str(c.get("function", "AT_LEAST"))
            val = _num(ctx, cpath + ("value",), c.get("value"), -1e6, 1e6)
            if typ in CRITERIA and fn == "AT_LEAST":
                key, (lo, hi) = CRITERIA[typ]
                if lo <= val <= hi:
                    keys[key] = val
                else:
                    unmapped.append(f"{typ} at least {val:g} (outside wifiplan's {lo:g} to "
                                    f"{hi:g})")
            else:
                unmapped.append(f"{typ} {fn.lower().replace('_', ' ')} {val:g}")
        out[rid] = {"name": rname, "keys": keys, "unmapped": unmapped, "used": False}
        if r.get("isDefault") is True:
            default = out[rid]
    return out, default


def _zones(arch, fid, to_m, outline, site, rep):
    reqs, default = _requirements(arch, rep)
    areas, ctx = arch.objects("areas.json")
    names, bad = set(), 0
    for i, a in enumerate(areas):
        path = ("areas", i)
        if not _for_floor(ctx, path, a, fid):
            continue
        _, clipped = _area_polygon(ctx, path, a, to_m, outline)
        if clipped is None:
            bad += 1
            continue
        rid = a.get("requirementId")
        prof = default
        if rid is not None:
            rid = _str(ctx, path + ("requirementId",), rid, "a requirement id")
            if rid not in reqs:
                ctx.fail(path + ("requirementId",), "names a requirement profile that is not "
                                                    "in requirements.json")
            prof = reqs[rid]
        ours = _ours(a)
        nm = str(ours.get("name") or a.get("name") or f"area-{i + 1}")[:120]
        base, k = nm, 2
        while nm in names:
            nm = f"{base}-{k}"
            k += 1
        names.add(nm)
        z = {"name": nm, "polygon": [[_r(x), _r(y)] for x, y in clipped], "terminals": {}}
        if prof is not None:
            prof["used"] = True
            z.update(prof["keys"])
        for key in REQUIREMENT_DEFAULTS:
            if key in ours and key not in CRITERIA_KEYS:
                z[key] = ours[key]
        if isinstance(ours.get("terminals"), dict):
            z["terminals"] = ours["terminals"]
        site["zones"].append(z)
    if not site["zones"]:
        z = {"name": "floor", "polygon": site["outline"], "terminals": {}}
        if default is not None:
            default["used"] = True
            z.update(default["keys"])
        site["zones"].append(z)
    for p in reqs.values():
        if p["used"] and p["unmapped"]:
            rep.warnings.append(f"requirement profile '{p['name']}': criteria with no wifiplan "
                                f"zone key, not mapped: {_listing(p['unmapped'])}")
    if bad:
        rep.warnings.append(f"{bad} requirement areas left out: no valid polygon inside the "
                            "floor's outline")



def _aps(arch, fid, to_m, outline, site, rep, domain):
    aps_in, actx = arch.objects("accessPoints.json")
    radios, rctx = arch.objects("simulatedRadios.json")
    antennas, nctx = arch.objects("antennaTypes.json")
    ant = {str(a.get("id")): a for a in antennas}
    by_ap: dict[str, list[tuple[int, dict]]] = {}
    for j, r in enumerate(radios):
        apid = _str(rctx, ("simulatedRadios", j, "accessPointId"), r.get("accessPointId"),
                    "an access point id")
        by_ap.setdefault(apid, []).append((j, r))
    prop = site.get("propagation") if isinstance(site.get("propagation"), dict) else {}
    # the block is checked with the whole site file afterwards: here a value that is no
    # number stands for the default
    default_h = _finite(prop.get("ap_height_m")) or PROPAGATION_DEFAULTS["ap_height_m"]
    site_gain = _finite(prop.get("ap_gain_dbi"))
    site_gain = PROPAGATION_DEFAULTS["ap_gain_dbi"] if site_gain is None else site_gain
    allowed = set(DOMAINS[domain].allowed_channels(enable_w58=bool(site.get("enable_w58"))))
    other_radios: dict[str, list[str]] = {}
    no5, outside, unplaced, extra5, dfs, notallowed, wide, unknown_ant, directional = \
        [], [], [], [], [], [], [], [], []
    rows, gains, ids = [], [], set()
    for i, a in enumerate(aps_in):
        path = ("accessPoints", i)
        apid = _str(actx, path + ("id",), a.get("id"), "an access point id")
        name = str(a.get("name") or f"AP{i + 1}").strip() or f"AP{i + 1}"
        if "location" not in a:
            unplaced.append(name)
            continue
        f, xy = _location(actx, path + ("location",), a["location"])
        if f is not None and f != fid:
            continue
        x, y = to_m(xy)
        five = []
        for j, r in by_ap.get(apid, []):
            rpath = ("simulatedRadios", j)
            tech = str(r.get("radioTechnology", "IEEE802_11"))
            freqs = r.get("channelByCenterFrequencyDefinedNarrowChannels") or []
            if not isinstance(freqs, list):
                rctx.fail(rpath + ("channelByCenterFrequencyDefinedNarrowChannels",),
                          "expected a list of centre frequencies in MHz")
            freqs = [_num(rctx, rpath + ("channelByCenterFrequencyDefinedNarrowChannels", k),
                          v, 2000, 8000, "a frequency in MHz") for k, v in enumerate(freqs)]
            chans = r.get("channel")
            chans = chans if isinstance(chans, list) else ([] if chans is None else [chans])
            chans = [int(_num(rctx, rpath + ("channel", k), v, 1, 233, "a channel number"))
                     for k, v in enumerate(chans)]
            band = {"TWO": "2.4", "FIVE": "5", "SIX": "6"}.get(str(r.get("frequencyBand")))
            if band is None:
                band = band_of(freq_mhz=min(freqs)) if freqs else (
                    band_of(channel=chans[0]) if chans else "unknown")
            if tech != "IEEE802_11":
                other_radios.setdefault(tech.lower().replace("_", " "), []).append(name)
            elif r.get("enabled", True) is False:
                other_radios.setdefault("disabled", []).append(name)
            elif band != "5":
                other_radios.setdefault(f"{band} GHz", []).append(name)
            else:
                five.append((j, r, freqs, chans))
        if not five:
            no5.append(name)
            continue
        if len(five) > 1:
            extra5.append(name)
        j, r, freqs, chans = five[0]
        rpath = ("simulatedRadios", j)
        ch = chans[0] if chans else (int(channel_from_freq(min(freqs))) if freqs else None)
        if ch is None:
            rctx.fail(rpath, "the 5 GHz radio names no channel")
        width = _width_mhz(r.get("channelWidth"), freqs) or WIDTH_MHZ
        if not 20 <= width <= 320:
            rctx.fail(rpath + ("channelWidth",), f"{width} MHz, expected 20 to 320 MHz")
        power = _num(rctx, rpath + ("transmitPower",), r.get("transmitPower"),
                     *TX_POWER_RANGE_DBM, "a transmit power in dBm")
        height = r.get("antennaHeight")
        height = default_h if height is None else _num(
            rctx, rpath + ("antennaHeight",), height, *AP_HEIGHT_RANGE_M,
            "an antenna height in metres")
        gain = None
        tid = r.get("antennaTypeId")
        if tid is not None and str(tid) in ant:
            gain = _gain_of(ant[str(tid)])
            if _is_directional(ant[str(tid)]):
                directional.append(f"{name} ({ant[str(tid)].get('name', tid)})")
        if gain is None:
            unknown_ant.append(name)
        if not outline.buffer(0.5).covers(Point(x, y)):
            outside.append(name)
            continue
        gains.append(gain)
        ap_id = name[:MAX_AP_ID_CHARS]
        base, k = ap_id, 2
        while ap_id in ids:
            suffix = f"-{k}"
            ap_id = base[:MAX_AP_ID_CHARS - len(suffix)] + suffix
            k += 1
        if ap_id != name:
            rep.warnings.append(f"AP '{name[:60]}' is called {ap_id} (ids are unique and at "
                                f"most {MAX_AP_ID_CHARS} characters)")
        ids.add(ap_id)
        row = {"id": ap_id, "x_m": _r(x), "y_m": _r(y), "height_m": _r(height),
               "channel": int(ch), "width_mhz": int(width), "tx_power_dbm": power}
        ours = _ours(a)
        for key in AP_KEPT_KEYS:
            if key in ours:
                row[key] = ours[key]
        rows.append(row)
        if is_dfs(ch):
            dfs.append(f"{ap_id} ({ch})")
        elif ch not in allowed:
            notallowed.append(f"{ap_id} ({ch})")
        if width != WIDTH_MHZ:
            wide.append(f"{ap_id} ({width} MHz)")
    # antenna gain: the site's where the APs agree, the difference on the power elsewhere
    known = [g for g in gains if g is not None]
    out_gain = None
    if known:
        vals, counts = np.unique(np.round(known, 2), return_counts=True)
        out_gain = float(vals[np.argmax(counts)])
        moved = []
        for row, g in zip(rows, gains):
            eff = out_gain if g is None else g
            if abs(eff - out_gain) > 1e-9:
                row["tx_power_dbm"] = row["tx_power_dbm"] + eff - out_gain
                moved.append(f"{row['id']} ({eff:g} dBi)")
        if moved:
            rep.warnings.append(f"the site's AP antenna gain is {out_gain:g} dBi; APs with "
                                f"another antenna gain get the difference on their transmit "
                                f"power (same EIRP): {_listing(moved)}")
    site_gain = out_gain if out_gain is not None else site_gain
    lo, hi = TX_POWER_RANGE_DBM
    clamped = [r["id"] for r in rows if not lo <= r["tx_power_dbm"] <= hi]
    for row in rows:
        row["tx_power_dbm"] = round(min(max(row["tx_power_dbm"], lo), hi), 4)
    w = rep.warnings
    if clamped:
        w.append(f"APs whose power, with the antenna gain moved onto it, leaves {lo:g} to "
                 f"{hi:g} dBm, clamped: {_listing(clamped)}")
    for what, names in sorted(other_radios.items()):
        w.append(f"{what} radios not mapped (wifiplan plans 5 GHz Wi-Fi): {_listing(names)}")
    if no5:
        w.append(f"APs without an enabled 5 GHz radio, not imported: {_listing(no5)}")
    if extra5:
        w.append(f"APs with more than one 5 GHz radio, only the first is imported: "
                 f"{_listing(extra5)}")
    if unplaced:
        w.append(f"APs not placed on any floor, not imported: {_listing(unplaced)}")
    if outside:
        w.append(f"APs outside the floor's outline, not imported: {_listing(outside)}")
    if dfs:
        w.append(f"APs on DFS channels (the seed uses non-DFS channels only; the plan keeps "
                 f"them, re-assign their channels): {_listing(dfs)}")
    if notallowed:
        w.append(f"APs on channels domain {domain} does not allow (the plan keeps them): "
                 f"{_listing(notallowed)}")
    if wide:
        w.append(f"APs wider than {WIDTH_MHZ} MHz (the seed's rule is {WIDTH_MHZ} MHz): "
                 f"{_listing(wide)}")
    if unknown_ant and rows:
        w.append(f"APs whose antenna gain is not stated (unknown antenna type), taken as "
                 f"{site_gain:g} dBi: {_listing(unknown_ant)}")
    if directional:
        w.append(f"directional antennas, modelled as omnidirectional: {_listing(directional)}")
    return rows, out_gain


# ---- export -------------------------------------------------------------------------------

def export_warnings(site: Site, plan: Plan) -> list[str]:
    """What an export keeps only in ``wifiplan`` fields (Ekahau ignores them and drops them
    when it saves the project): one line per kind."""
    out = []
    kept = []
    if not _is_rectangle(site.outline):
        kept.append("the outline (not a rectangle)")
    if any(z.terminals for z in site.zones):
        kept.append("zone terminals")
    if any(set(z.requirements.overrides()) - CRITERIA_KEYS for z in site.zones):
        kept.append("zone requirements other than minimum RSSI and SNR")
    if site.server is not None or site.switches:
        kept.append("infrastructure")
    if any(a.bssid or a.switch or a.port is not None or a.locked for a in plan.aps):
        kept.append("AP BSSIDs, switches and ports")
    if any(a.model or a.antenna or a.azimuth_deg is not None or a.tilt_deg is not None
           for a in plan.aps):
        kept.append("AP models and antennas (Ekahau sees each AP as an omni of the site's "
                    "gain)")
    if site.building != Building():
        kept.append("the building block")
    if kept:
        out.append("Ekahau has no place for " + ", ".join(kept) + ": kept in 'wifiplan' "
                   "fields that Ekahau ignores (and drops when it saves the project)")
    return out


def _is_rectangle(pts) -> bool:
    p = np.asarray(pts, float)
    x0, y0 = p.min(0)
    x1, y1 = p.max(0)
    return len(p) == 4 and abs(Polygon(p).area - (x1 - x0) * (y1 - y0)) < 1e-6


def _floor_png(site: Site, mpu: float, w: int, h: int, to_px) -> bytes:
    from PIL import Image, ImageDraw
    img = Image.new("RGB", (w, h), (235, 235, 235))
    d = ImageDraw.Draw(img)
    d.polygon([to_px(x, y) for x, y in site.outline], fill="white", outline="black")
    for wall in site.walls:
        d.line([to_px(x, y) for x, y in wall.points], fill=(90, 90, 90), width=2)
    for o in site.obstacles:
        d.polygon([to_px(x, y) for x, y in np.asarray(o.polygon)[:, :2]], outline=(150, 60, 0))
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def export_esx(site: Site, plan: Plan) -> bytes:
    """An Ekahau project (the bytes of an ``.esx`` zip) of ``site`` and ``plan``: one floor
    with a drawn floor image, walls, attenuation areas, exclusion areas, requirement areas
    and profiles, APs with one 5 GHz radio each. Deterministic: the same input gives the
    same bytes. See the module docstring for what goes where."""
    seq = [0]

    def new_id(kind: str) -> str:
        seq[0] += 1
        return str(uuid.uuid5(NAMESPACE, f"{site.name}/{kind}/{seq[0]}"))

    out = np.asarray(site.outline, float)
    x0, y0 = out.min(0)
    x1, y1 = out.max(0)
    mpu = max(EXPORT_MIN_M_PER_PX, max(x1 - x0, y1 - y0) / EXPORT_MAX_PX)
    w_px, h_px = int(math.ceil((x1 - x0) / mpu)) or 1, int(math.ceil((y1 - y0) / mpu)) or 1

    def px(x, y):
        return {"x": round((x - x0) / mpu, 6), "y": round(h_px - (y - y0) / mpu, 6)}

    def to_px(x, y):
        p = px(x, y)
        return (p["x"], p["y"])

    fid, img_id, proj_id = new_id("floor"), new_id("image"), new_id("project")
    losses = site.material_losses()
    created = {"status": "CREATED"}
    site_d = site.to_dict()
    p_ours = {k: site_d[k] for k in ("regulatory_domain", "enable_w58", "propagation",
                                     "building", "infrastructure", "terminal_profiles",
                                     "description") if k in site_d}
    members: dict[str, object] = {}
    members["project.json"] = {"project": {"id": proj_id, "name": site.name, "title": site.name,
                                           "schemaVersion": SCHEMA_VERSION, "customer": "",
                                           "location": "", "noteIds": [], "tags": [],
                                           "wifiplan": p_ours, **created}}
    fp = {"id": fid, "name": site.name, "width": float(w_px), "height": float(h_px),
          "imageId": img_id, "metersPerUnit": mpu, "cropMinX": 0.0, "cropMinY": 0.0,
          "cropMaxX": float(w_px), "cropMaxY": float(h_px), "rotateUpDirection": "UP",
          "floorPlanType": "FSPL", "tags": [],
          "wifiplan": {"origin_m": [_r(x0), _r(y0)],
                       "outline": [[_r(x), _r(y)] for x, y in out]}, **created}
    members["floorPlans.json"] = {"floorPlans": [fp]}
    members["images.json"] = {"images": [{"id": img_id, "imageFormat": "PNG",
                                          "resolutionWidth": float(w_px),
                                          "resolutionHeight": float(h_px), **created}]}
    # walls: one type per material
    wtypes, wpoints, wsegs = {}, [], []
    for wall in site.walls:
        m = wall.material
        if m not in wtypes:
            t = EXPORT_THICKNESS_M.get(m, DEFAULT_THICKNESS_M)
            af = losses[m] / t
            wtypes[m] = {"id": new_id("walltype"), "name": m, "key": _slug(m, "wall"),
                         "thickness": t, "lowerEdge": 0.0,
                         "propagationProperties": [
                             {"band": b, "attenuationFactor": af, "reflectionCoefficient": 0.5,
                              "diffractionCoefficient": 11.0} for b in ("SIX", "FIVE", "TWO")],
                         **created}
        ids = []
        for x, y in np.asarray(wall.points, float):
            pid = new_id("wallpoint")
            wpoints.append({"id": pid, "location": {"floorPlanId": fid, "coord": px(x, y)},
                            **created})
            ids.append(pid)
        for a, b in zip(ids[:-1], ids[1:]):
            wsegs.append({"id": new_id("wallsegment"), "wallPoints": [a, b],
                          "wallTypeId": wtypes[m]["id"], **created})
    members["wallTypes.json"] = {"wallTypes": list(wtypes.values())}
    members["wallPoints.json"] = {"wallPoints": wpoints}
    members["wallSegments.json"] = {"wallSegments": wsegs}
    # obstacles: loss per crossing -> dB per metre over the area's depth
    atypes, aareas = {}, []
    for o in site.obstacles:
        poly = np.asarray(o.polygon, float)[:, :2]
        loss = losses[o.material]
        af = loss / max(_width_m(poly), 1e-3)
        key = (o.material, round(af, 6), round(o.height_m, 4))
        if key not in atypes:
            atypes[key] = {"id": new_id("areatype"), "name": o.material,
                           "key": _slug(o.material, "area"), "lowerEdge": 0.0,
                           "upperEdge": float(o.height_m),
                           "propagationProperties": [
                               {"band": b, "attenuationFactor": af, "reflectionCoefficient": 0.5,
                                "diffractionCoefficient": 11.0} for b in ("SIX", "FIVE", "TWO")],
                           **created}
        aareas.append({"id": new_id("area"), "floorPlanId": fid,
                       "attenuationAreaTypeId": atypes[key]["id"],
                       "area": [px(x, y) for x, y in poly],
                       "wifiplan": {"name": o.name, "material": o.material, "loss_db": loss},
                       **created})
    members["attenuationAreaTypes.json"] = {"attenuationAreaTypes": list(atypes.values())}
    members["attenuationAreas.json"] = {"attenuationAreas": aareas}
    members["exclusionAreas.json"] = {"exclusionAreas": [
        {"id": new_id("exclusion"), "floorPlanId": fid,
         "area": [px(x, y) for x, y in np.asarray(a.polygon, float)],
         "wifiplan": {"name": a.name}, **created} for a in site.no_mount]}
    # zones: requirement areas, one profile per (min RSSI, min SINR)
    profiles, areas = {}, []
    for z in site.zones:
        key = (float(z.min_rssi_dbm), float(z.min_sinr_db))
        if key not in profiles:
            profiles[key] = {"id": new_id("requirement"),
                             "name": f"wifiplan {key[0]:g} dBm, SNR {key[1]:g} dB",
                             "key": f"wifiplan{len(profiles) + 1}", "noiseType": "AUTOMATIC",
                             "isDefault": False, "criteria": [
                                 {"radioTechnology": "IEEE802_11", "frequencyBand": "FIVE",
                                  "type": "SIGNAL_STRENGTH", "function": "AT_LEAST",
                                  "value": key[0]},
                                 {"radioTechnology": "IEEE802_11", "frequencyBand": "FIVE",
                                  "type": "SIGNAL_TO_NOISE_RATIO", "function": "AT_LEAST",
                                  "value": key[1], "additionalLimit": 1.0}], **created}
        ours = {"name": z.name, "terminals": dict(z.terminals),
                **{k: v for k, v in z.requirements.overrides().items()
                   if k not in CRITERIA_KEYS}}
        areas.append({"id": new_id("reqarea"), "name": z.name, "floorPlanId": fid,
                      "requirementId": profiles[key]["id"],
                      "area": [px(x, y) for x, y in np.asarray(z.polygon, float)],
                      "wifiplan": ours, **created})
    members["requirements.json"] = {"requirements": list(profiles.values())}
    members["areas.json"] = {"areas": areas}
    # APs, one 5 GHz radio each, one omni antenna of the site's gain
    gain = float(site.propagation.get("ap_gain_dbi", PROPAGATION_DEFAULTS["ap_gain_dbi"]))
    ant_id = new_id("antenna")
    members["antennaTypes.json"] = {"antennaTypes": [
        {"id": ant_id, "name": f"wifiplan omni {gain:g} dBi", "gain": gain, "directional": False,
         "apCoupling": "INTERNAL_ANTENNA", **created}]}
    aps, radios = [], []
    for a in plan.aps:
        aid = new_id("ap")
        ours = {k: v for k, v in a.to_dict().items() if k in AP_KEPT_KEYS}
        aps.append({"id": aid, "name": a.id, "mine": True, "hidden": False,
                    "userDefinedPosition": True, "noteIds": [], "tags": [],
                    "location": {"floorPlanId": fid, "coord": px(a.x_m, a.y_m)},
                    **({"wifiplan": ours} if ours else {}), **created})
        n = max(1, int(a.width_mhz) // 20)
        radios.append({"id": new_id("radio"), "accessPointId": aid, "accessPointIndex": 0,
                       "radioTechnology": "IEEE802_11", "frequencyBand": "FIVE",
                       "channel": [int(a.channel)],
                       "channelByCenterFrequencyDefinedNarrowChannels": [
                           float(centre_freq_mhz(int(a.channel) + 4 * k)) for k in range(n)],
                       "channelWidth": int(a.width_mhz), "transmitPower": float(a.tx_power_dbm),
                       "enabled": True, "antennaTypeId": ant_id, "antennaMounting": "CEILING",
                       "antennaHeight": float(a.height_m), "antennaTilt": 0.0,
                       "antennaDirection": 0.0, **created})
    members["accessPoints.json"] = {"accessPoints": aps}
    members["simulatedRadios.json"] = {"simulatedRadios": radios}
    image = _floor_png(site, mpu, w_px, h_px, to_px)

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        def put(name, data):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, data)
        put("version", "2.0")
        for name, doc in members.items():
            put(name, json.dumps(doc, indent=2, ensure_ascii=False))
        put(f"image-{img_id}", image)
    return buf.getvalue()
