"""Import a floor plan from a DXF drawing (CAD) into a site.

The designer maps the drawing's layers to what they are:

- **wall layers** (``{"WALLS": "concrete", "GLASS": "glass"}``): every LINE, LWPOLYLINE,
  POLYLINE and ARC on the layer becomes a wall of that material (a closed polyline gets its
  closing segment; arcs and polyline bulges are flattened to 5 cm);
- **obstacle layers** (``{"MACHINES": ("machinery", 2.5)}``): every closed polyline or circle
  becomes an obstacle footprint of that material and height [m] (the entity's DXF thickness,
  when set, overrides the height);
- an **outline layer**: its largest closed polyline (or the largest polygon its lines close)
  is the floor outline. Without one, the outline is the largest closed polyline of the whole
  drawing (any layer) when it holds every imported wall and obstacle, else the extent of
  everything drawn (lines, polylines, arcs and circles on any layer, not only the mapped
  ones): a drawing whose walls stop short of its far side keeps that part of the floor.
  :attr:`DxfImport.outline_from` says which it took.

Block references (INSERT) are expanded; an entity on layer ``0`` inside a block takes the
layer of the reference, as in CAD. Units come from the header variable ``$INSUNITS``
(e.g. 4 = millimetres); an unitless drawing is read as metres unless ``units`` says
otherwise. The result is moved so that the outline's lower-left corner is (0, 0) and then
validated like any site file, so the errors are the ones ``load_site`` gives.
"""
from __future__ import annotations

import io
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import InputError
from .fileio import MAX_INPUT_BYTES, check_size
from .rules import DEFAULT_MIN_RSSI_DBM
from .site import site_from_dict

# Names accepted for ``units`` -> $INSUNITS code (AutoCAD / ezdxf.units).
UNIT_CODES = {"in": 1, "ft": 2, "mm": 4, "cm": 5, "m": 6, "dm": 14}
FLATTEN_M = 0.05            # chord tolerance for arcs and bulges [m]
DEFAULT_OBSTACLE_HEIGHT_M = 2.0
UNITLESS_MAX_M = 2000.0     # an unitless drawing wider than this is not in metres
WALL_FACE_GAP_M = 0.6       # parallel wall lines closer than this are two faces of one wall
OUTLINE_TOLERANCE_M = 0.5   # walls this far outside a closed polyline still count as inside
MAX_FACE_CHECK = 4000       # segments; the pairwise check is skipped on larger drawings

WALL_TYPES = {"LINE", "LWPOLYLINE", "POLYLINE", "ARC"}
CLOSED_TYPES = {"LWPOLYLINE", "POLYLINE", "CIRCLE"}


@dataclass
class DxfImport:
    """What an import did: the site mapping (before validation) and a summary."""
    site: dict
    units: str
    scale_to_m: float
    offset_m: tuple[float, float]
    walls_per_layer: dict[str, int] = field(default_factory=dict)
    obstacles_per_layer: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)     # "LAYER: TYPE" -> count
    warnings: list[str] = field(default_factory=list)
    #: where the outline came from, one line ("the largest closed polyline of layer A-AREA")
    outline_from: str = ""

    def summary(self) -> str:
        walls = sum(self.walls_per_layer.values())
        obs = sum(self.obstacles_per_layer.values())
        w, h = np.ptp(np.asarray(self.site["outline"], float), axis=0)
        return (f"{walls} walls, {obs} obstacles, outline {w:.1f} m x {h:.1f} m "
                f"(drawing units: {self.units})")


def read_dxf(source, name: str | None = None):
    """Open a DXF drawing from a path or from bytes; raise :class:`InputError` if unreadable."""
    import ezdxf
    from ezdxf import recover

    if isinstance(source, (bytes, bytearray)):
        label = name or "<dxf>"
        if len(source) > MAX_INPUT_BYTES:
            raise InputError(f"file is {len(source) / 1e6:.1f} MB, larger than the limit of "
                             f"{MAX_INPUT_BYTES / 1e6:.0f} MB; refused before parsing",
                             source=label)
        data = bytes(source)
    else:
        label = name or str(source)
        data = check_size(source).read_bytes()
    if not data.strip():
        raise InputError("file is empty, expected a DXF drawing", source=label)
    quiet = logging.getLogger("ezdxf")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)      # its repairs are ours to report, in one line
    try:
        doc, auditor = recover.read(io.BytesIO(data))
    except ezdxf.DXFError as exc:         # structure, type and value errors of the reader
        raise InputError(f"not a readable DXF drawing ({str(exc).splitlines()[0][:200]})",
                         source=label) from None
    except (UnicodeDecodeError, ValueError, EOFError) as exc:
        raise InputError(f"not a readable DXF drawing ({str(exc).splitlines()[0]})",
                         source=label) from None
    except Exception as exc:              # the reader's own failure on a damaged file (its
        raise InputError(                 # audit meets a layout without attributes, ...)
            f"not a readable DXF drawing (the DXF reader failed: {type(exc).__name__})",
            source=label) from None
    finally:
        quiet.setLevel(level)
    if auditor.has_errors:
        raise InputError(f"DXF drawing has {len(auditor.errors)} unrecoverable errors "
                         f"(first: {auditor.errors[0].message})", source=label)
    doc.filename = label
    return doc


#: Block references expand to at most this many entities: 24 kB of blocks nested 8 deep,
#: 10 references each, would expand to 10^8 (a floor plan has 10^3-10^5).
MAX_EXPANDED_ENTITIES = 200_000


def _entities(layout):
    """(layer, entity) for every entity in ``layout``, block references expanded (at most
    :data:`MAX_EXPANDED_ENTITIES`, else an :class:`InputError`)."""
    budget = [MAX_EXPANDED_ENTITIES]
    for e in layout:
        yield from _expand(e, None, 0, budget)


def _expand(e, parent_layer, depth, budget):
    layer = e.dxf.get("layer", "0")
    if parent_layer is not None and layer == "0":
        layer = parent_layer
    if e.dxftype() == "INSERT":
        if depth > 8:
            return
        try:
            subs = list(e.virtual_entities())
        except Exception:           # a broken block definition: skip the reference
            return
        for s in subs:
            yield from _expand(s, layer, depth + 1, budget)
        return
    budget[0] -= 1
    if budget[0] < 0:
        raise InputError(f"the drawing expands to more than {MAX_EXPANDED_ENTITIES:,} entities "
                         "through nested block references; refused (explode or purge the "
                         "blocks in the CAD tool)")
    yield layer, e


def dxf_layers(doc) -> list[dict]:
    """One row per layer with entities: counts of walls-like and closed shapes.

    Keys: ``layer``, ``entities`` (all), ``lines`` (LINE/ARC and open polylines),
    ``closed`` (closed polylines and circles).
    """
    rows: dict[str, dict] = {}
    for name in sorted(layer.dxf.name for layer in doc.layers):
        rows[name] = {"layer": name, "entities": 0, "lines": 0, "closed": 0}
    for layer, e in _entities(doc.modelspace()):
        r = rows.setdefault(layer, {"layer": layer, "entities": 0, "lines": 0, "closed": 0})
        r["entities"] += 1
        if _is_closed(e):
            r["closed"] += 1
        elif e.dxftype() in WALL_TYPES and _is_plain_polyline(e):
            r["lines"] += 1
    return [r for r in rows.values() if r["entities"]]


#: Words in a layer name that say what it holds (English and German CAD conventions),
#: in order of precedence; and the material a word suggests.
LAYER_ROLE_WORDS = (("outline", ("OUTLINE", "BOUNDARY", "UMRISS")),
                    ("wall", ("WALL", "GLASS", "WINDOW", "PARTITION")),
                    ("obstacle", ("MACHINE", "RACK", "SHELF", "OBST", "EQUIP")))
LAYER_MATERIAL_WORDS = (("GLASS", "glass"), ("WINDOW", "glass"), ("CONCRETE", "concrete"),
                        ("BRICK", "brick"), ("PLASTER", "plasterboard"),
                        ("PARTITION", "plasterboard"), ("METAL", "metal"),
                        ("RACK", "metal-rack"), ("SHELF", "metal-rack"),
                        ("MACHINE", "machinery"), ("WALL", "concrete"))


def guess_layer_role(layer: str) -> str:
    """'outline', 'wall', 'obstacle' or 'ignore', from the words in a layer's name."""
    up = str(layer).upper()
    for role, words in LAYER_ROLE_WORDS:
        if any(k in up for k in words):
            return role
    return "ignore"


def guess_layer_material(layer: str) -> str | None:
    """The material a layer's name suggests (None when it suggests none)."""
    up = str(layer).upper()
    for key, mat in LAYER_MATERIAL_WORDS:
        if key in up:
            return mat
    return None


def guessed_layer_map(doc) -> tuple[dict, dict, str | None]:
    """``(wall_layers, obstacle_layers, outline_layer)`` guessed from the layer names of a
    drawing, for :func:`site_dict_from_dxf` (layers without a guessed material are left out;
    obstacles get :data:`DEFAULT_OBSTACLE_HEIGHT_M`)."""
    walls, obstacles, outline = {}, {}, None
    for r in dxf_layers(doc):
        role, mat = guess_layer_role(r["layer"]), guess_layer_material(r["layer"])
        if role == "outline" and outline is None:
            outline = r["layer"]
        elif role == "wall" and mat:
            walls[r["layer"]] = mat
        elif role == "obstacle" and mat:
            obstacles[r["layer"]] = (mat, DEFAULT_OBSTACLE_HEIGHT_M)
    return walls, obstacles, outline


def drawing_units(doc, units: str | None = None) -> tuple[str, float]:
    """(unit name, factor to metres) from ``units`` or the drawing's ``$INSUNITS``."""
    from ezdxf import units as dxfunits
    if units is not None:
        code = UNIT_CODES.get(str(units).strip().lower())
        if code is None:
            raise InputError(f"unknown drawing unit {units!r}, expected one of "
                             f"{', '.join(UNIT_CODES)}")
    else:
        code = int(doc.header.get("$INSUNITS", 0) or 0)
    if code == 0:
        return "unitless (read as m)", 1.0
    factor = dxfunits.METER_FACTOR[code] if code < len(dxfunits.METER_FACTOR) else None
    if factor is None:
        raise InputError(f"$INSUNITS = {code} ({dxfunits.unit_name(code)}) is not a length "
                         "unit this import understands; give the units (mm, cm, m, in, ft)",
                         source=getattr(doc, "filename", None))
    return (dxfunits.decode(code) or dxfunits.unit_name(code)), 1.0 / factor


def _is_plain_polyline(e) -> bool:
    if e.dxftype() != "POLYLINE":
        return True
    return bool(e.is_2d_polyline or e.is_3d_polyline)


def _is_closed(e) -> bool:
    t = e.dxftype()
    if t == "CIRCLE":
        return True
    if t == "LWPOLYLINE":
        return bool(e.closed)
    if t == "POLYLINE":
        return _is_plain_polyline(e) and bool(e.is_closed)
    return False


def _points(e, tol_units: float) -> np.ndarray:
    """Vertices of a LINE / polyline / arc / circle in drawing units (flattened), shape (k, 2)."""
    from ezdxf import path as dxfpath
    if e.dxftype() == "LINE":
        s, t = e.dxf.start, e.dxf.end
        return np.array([[s.x, s.y], [t.x, t.y]], float)
    p = dxfpath.make_path(e)
    pts = np.array([[v.x, v.y] for v in p.flattening(tol_units)], float).reshape(-1, 2)
    if e.dxftype() in ("LWPOLYLINE", "POLYLINE") and _is_closed(e) and len(pts) > 2 \
            and not np.allclose(pts[0], pts[-1]):
        pts = np.vstack([pts, pts[:1]])
    return pts


def _dedupe(pts: np.ndarray, eps: float) -> np.ndarray:
    if len(pts) == 0:            # a circle or an arc of radius 0 has no vertices
        return pts
    keep = [0]
    for i in range(1, len(pts)):
        if np.hypot(*(pts[i] - pts[keep[-1]])) > eps:
            keep.append(i)
    return pts[keep]


def _parse_obstacle(value) -> tuple[str, float]:
    if isinstance(value, (tuple, list)):
        mat, h = value
        return str(mat), float(h)
    return str(value), DEFAULT_OBSTACLE_HEIGHT_M


def _outline_of_drawing(rep: DxfImport, imported: np.ndarray, drawn: list,
                        closed_any: list) -> np.ndarray:
    """Without an outline layer: the largest closed polyline of the drawing when it holds
    every imported wall and obstacle point (within :data:`OUTLINE_TOLERANCE_M`), else the
    bounding box of everything drawn; ``rep.outline_from`` says which."""
    from shapely.geometry import MultiPoint
    valid = [(p, lay) for p, lay in closed_any if p.is_valid and p.area > 0]
    if valid:
        poly, layer = max(valid, key=lambda pl: pl[0].area)
        if poly.buffer(OUTLINE_TOLERANCE_M).covers(MultiPoint(imported.tolist())):
            rep.outline_from = f"the largest closed polyline of the drawing (layer '{layer}')"
            return np.asarray(poly.exterior.coords)[:-1]
    a = np.vstack(drawn + [imported])
    (x0, y0), (x1, y1) = a.min(0), a.max(0)
    rep.outline_from = ("the extent of everything drawn (no closed polyline holds the walls "
                        "and obstacles)" if valid else
                        "the extent of everything drawn (the drawing has no closed polyline)")
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], float)


def site_dict_from_dxf(doc, wall_layers: dict[str, str], *,
                       obstacle_layers: dict[str, str | tuple[str, float]] | None = None,
                       outline_layer: str | None = None, name: str | None = None,
                       units: str | None = None, regulatory_domain: str = "seed") -> DxfImport:
    """Build a site mapping (DESIGN.md section 4) from a DXF drawing; see the module doc."""
    from shapely.geometry import MultiLineString, Polygon
    from shapely.ops import polygonize

    label = getattr(doc, "filename", None) or "<dxf>"
    obstacle_layers = {k: _parse_obstacle(v) for k, v in (obstacle_layers or {}).items()}
    layers_present = {r["layer"] for r in dxf_layers(doc)}
    mapped = list(wall_layers) + list(obstacle_layers) + ([outline_layer] if outline_layer else [])
    for lay in mapped:
        if lay not in layers_present:
            raise InputError(f"layer '{lay}' has no entities in the drawing; layers with "
                             f"entities: {', '.join(sorted(layers_present)) or 'none'}",
                             source=label)
    if not wall_layers and not obstacle_layers and not outline_layer:
        raise InputError("no layer mapped: give at least one wall layer (LAYER=material)",
                         source=label)
    unit_name, k = drawing_units(doc, units)
    tol = FLATTEN_M / k

    rep = DxfImport(site={}, units=unit_name, scale_to_m=k, offset_m=(0.0, 0.0))
    walls, obstacles, outline_edges, outline_polys = [], [], [], []
    drawn, closed_any = [], []          # everything drawn; closed polylines of any layer
    for layer, e in _entities(doc.modelspace()):
        t = e.dxftype()
        if not outline_layer and (t in WALL_TYPES or t in CLOSED_TYPES) \
                and _is_plain_polyline(e):
            pts = _dedupe(_points(e, tol) * k, 1e-3)
            if len(pts):
                drawn.append(pts)
            if t != "CIRCLE" and _is_closed(e) and len(pts) >= 4:
                closed_any.append((Polygon(pts), layer))
        if layer in wall_layers and t in WALL_TYPES and _is_plain_polyline(e):
            pts = _dedupe(_points(e, tol) * k, 1e-3)
            if len(pts) >= 2:
                walls.append((pts, wall_layers[layer]))
                rep.walls_per_layer[layer] = rep.walls_per_layer.get(layer, 0) + 1
                continue
        elif layer in obstacle_layers and t in CLOSED_TYPES and _is_closed(e):
            pts = _dedupe(_points(e, tol) * k, 1e-3)
            if len(pts) >= 4:
                mat, h = obstacle_layers[layer]
                thick = float(e.dxf.get("thickness", 0.0) or 0.0) * k
                obstacles.append((pts[:-1] if np.allclose(pts[0], pts[-1]) else pts, mat,
                                  abs(thick) if thick else h, layer))
                rep.obstacles_per_layer[layer] = rep.obstacles_per_layer.get(layer, 0) + 1
                continue
        elif layer == outline_layer and (t in WALL_TYPES or t in CLOSED_TYPES) \
                and _is_plain_polyline(e):
            pts = _dedupe(_points(e, tol) * k, 1e-3)
            if _is_closed(e) and len(pts) >= 4:
                outline_polys.append(Polygon(pts))
            elif len(pts) >= 2:
                outline_edges.append(pts)
            continue
        if layer in wall_layers or layer in obstacle_layers:
            key = f"{layer}: {t}"
            rep.skipped[key] = rep.skipped.get(key, 0) + 1

    if outline_layer:
        if outline_edges:
            outline_polys += list(polygonize(MultiLineString([p.tolist() for p in outline_edges])))
        outline_polys = [p for p in outline_polys if p.is_valid and p.area > 0]
        if not outline_polys:
            raise InputError(f"outline layer '{outline_layer}' has no closed polyline and its "
                             "lines close no polygon", source=label)
        outline = np.asarray(max(outline_polys, key=lambda p: p.area).exterior.coords)[:-1]
        rep.outline_from = f"the largest closed polyline of the outline layer '{outline_layer}'"
    else:
        allpts = [p for p, _ in walls] + [p for p, *_ in obstacles]
        if not allpts:
            raise InputError("the mapped layers hold no walls or obstacles, so there is no "
                             "extent for the outline; map a wall layer or give an outline layer",
                             source=label)
        outline = _outline_of_drawing(rep, np.vstack(allpts), drawn, closed_any)

    origin = outline.min(0)
    width = float(np.ptp(outline[:, 0])), float(np.ptp(outline[:, 1]))
    if k == 1.0 and units is None and max(width) > UNITLESS_MAX_M:
        raise InputError(f"drawing has no units ($INSUNITS = 0) and is {max(width):,.0f} units "
                         "wide, too large for metres; give the units (e.g. mm)", source=label)
    rep.offset_m = (-float(origin[0]), -float(origin[1]))

    def pts_m(p):
        return [[_r(x - origin[0]), _r(y - origin[1])] for x, y in p]

    site: dict = {"name": name or Path(str(label)).stem,
                  "regulatory_domain": regulatory_domain,
                  "description": (f"imported from {Path(str(label)).name}: drawing units "
                                  f"{unit_name}, origin moved by ({rep.offset_m[0]:.3f}, "
                                  f"{rep.offset_m[1]:.3f}) m"),
                  "outline": pts_m(outline), "walls": [], "obstacles": [], "zones": []}
    for pts, mat in walls:
        if len(pts) == 2:
            a, b = pts_m(pts)
            site["walls"].append({"from": a, "to": b, "material": mat})
        else:
            site["walls"].append({"points": pts_m(pts), "material": mat})
    for i, (pts, mat, h, layer) in enumerate(obstacles):
        site["obstacles"].append({"name": f"{layer.lower()}-{i + 1}", "polygon": pts_m(pts),
                                  "material": mat, "height_m": _r(h)})
    site["zones"].append({"name": "floor", "polygon": site["outline"],
                          "min_rssi_dbm": int(DEFAULT_MIN_RSSI_DBM), "terminals": {}})
    rep.site = site
    for m, n in sorted(doubled_walls(walls).items()):
        rep.warnings.append(f"{n} {m} wall segments have a parallel twin closer than "
                            f"{WALL_FACE_GAP_M:g} m: both faces of one wall seem to be drawn, "
                            "and a path through it pays the loss twice; map a centre-line "
                            "layer instead, or check the material loss")
    if rep.skipped:
        rep.warnings.append("skipped on mapped layers: " + ", ".join(
            f"{n} x {k_}" for k_, n in sorted(rep.skipped.items())))
    return rep


def doubled_walls(walls, max_gap_m: float = WALL_FACE_GAP_M) -> dict[str, int]:
    """Per material, how many wall segments have a parallel twin closer than ``max_gap_m``.

    CAD drawings often draw both faces of a wall; imported as two walls, a path through it
    crosses twice and pays the material loss twice. ``walls`` is ``[(points, material)]``.
    """
    seg, mat = [], []
    for pts, m in walls:
        for a, b in zip(pts[:-1], pts[1:]):
            seg.append([*a, *b])
            mat.append(m)
    if not seg or len(seg) > MAX_FACE_CHECK:
        return {}
    s = np.asarray(seg, float)
    d = s[:, 2:] - s[:, :2]
    length = np.hypot(d[:, 0], d[:, 1])
    u = d / length[:, None]
    # pairs (i, j): parallel within 5 degrees, j's midpoint within the gap of i's line,
    # and their projections on i overlapping by half the shorter one
    cross = np.abs(u[:, None, 0] * u[None, :, 1] - u[:, None, 1] * u[None, :, 0])
    mid = (s[:, :2] + s[:, 2:]) / 2
    rel = mid[None, :, :] - s[:, None, :2]
    gap = np.abs(rel[..., 0] * u[:, None, 1] - rel[..., 1] * u[:, None, 0])
    t0 = ((s[None, :, :2] - s[:, None, :2]) * u[:, None, :]).sum(-1)
    t1 = ((s[None, :, 2:] - s[:, None, :2]) * u[:, None, :]).sum(-1)
    overlap = np.minimum(np.maximum(t0, t1), length[:, None]) - np.maximum(
        np.minimum(t0, t1), 0.0)
    twin = (cross < np.sin(np.radians(5))) & (gap < max_gap_m) & \
        (overlap > 0.5 * np.minimum(length[:, None], length[None, :]))
    np.fill_diagonal(twin, False)
    out: dict[str, int] = {}
    for i in np.flatnonzero(twin.any(1)):
        out[mat[i]] = out.get(mat[i], 0) + 1
    return out


def _r(v: float) -> float:
    f = round(float(v), 4)
    return int(f) if f.is_integer() else f


def import_dxf(source, wall_layers: dict[str, str], *, name: str | None = None,
               source_name: str | None = None, guess_layers: bool = False, **kwargs):
    """Read a DXF (path or bytes) and return ``(site, DxfImport)``; the site is validated.

    ``kwargs`` go to :func:`site_dict_from_dxf` (``obstacle_layers``, ``outline_layer``,
    ``units``, ``regulatory_domain``). With ``guess_layers`` the layers are mapped from
    their names (:func:`guessed_layer_map`) where the given mappings say nothing.
    """
    doc = read_dxf(source, name=source_name)
    if guess_layers:
        g_walls, g_obst, g_outline = guessed_layer_map(doc)
        given = set(wall_layers) | set(kwargs.get("obstacle_layers") or {})
        wall_layers = {**{k: v for k, v in g_walls.items() if k not in given}, **wall_layers}
        kwargs["obstacle_layers"] = {**{k: v for k, v in g_obst.items() if k not in given},
                                     **(kwargs.get("obstacle_layers") or {})}
        if kwargs.get("outline_layer") is None and g_outline not in given:
            kwargs["outline_layer"] = g_outline
    rep = site_dict_from_dxf(doc, wall_layers, name=name, **kwargs)
    site = site_from_dict(rep.site, source=doc.filename)
    return site, rep


def parse_layer_map(items: list[str] | None, *, with_height: bool = False) -> dict:
    """``["WALLS=concrete", "GLASS=glass"]`` -> ``{"WALLS": "concrete", ...}``.

    With ``with_height``, ``LAYER=material:height_m`` gives ``(material, height)``.
    """
    out: dict = {}
    for item in items or []:
        layer, sep, value = str(item).partition("=")
        if not sep or not layer.strip() or not value.strip():
            raise InputError(f"layer mapping {item!r}: expected LAYER=material"
                             + ("[:height_m]" if with_height else ""))
        value = value.strip()
        if with_height:
            mat, _, h = value.partition(":")
            try:
                height = float(h) if h else DEFAULT_OBSTACLE_HEIGHT_M
            except ValueError:
                raise InputError(f"layer mapping {item!r}: height {h!r} is not a number "
                                 "in metres") from None
            if not math.isfinite(height) or height < 0:
                raise InputError(f"layer mapping {item!r}: height must be >= 0 m")
            out[layer.strip()] = (mat.strip(), height)
        else:
            out[layer.strip()] = value
    return out
