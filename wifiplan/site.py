"""The site: floor outline, walls, obstacles, zones, terminals and infrastructure.

A site is read from the YAML format of DESIGN.md section 4 (:func:`load_site`), validated
with shapely, and written back (:func:`save_site`); load -> save -> load gives the same
site. Every validation error names the file, the key path and its line::

    hall.yaml:12: walls[3].material: unknown material 'concret' (did you mean 'concrete'?)
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import LineString, Polygon

from .errors import InputError
from .fileio import dump_yaml, parse_yaml, read_yaml, write_atomic
from .radio.hall import BUILDING_DEFAULTS, Building
from .materials import MATERIALS, P2040_PROPERTIES, material_table
from .radio.pathloss import MODELS, PARAM_RANGES, check_model_params
from .radio.propagation import PROPAGATION_DEFAULTS
from .regulatory import DOMAINS
from .requirements import DEFAULT_PROFILE, Profile, Requirements
from .requirements import DEFAULTS as REQUIREMENT_DEFAULTS
from .requirements import parse_profiles, profile_of, resolve
from .routes import Route, routes_from_list, routes_to_list
from .rules import DEFAULT_MIN_RSSI_DBM
from .validation import (Ctx, check_keys, check_list, check_mapping, check_name, check_number)

OUTLINE_TOLERANCE_M = 0.05     # walls and zones may stick out of the outline by this much
MAX_EXTENT_M = 5000.0          # a floor larger than 5 km is a unit error
TERMINAL_TYPES = ("handheld", "thinklet")

SITE_KEYS = {"name", "regulatory_domain", "enable_w58", "outline", "propagation", "materials",
             "walls", "obstacles", "zones", "infrastructure", "no_mount", "terminal_profiles",
             "description", "building", "routes", "requirement_profiles"}


@dataclass
class Wall:
    points: np.ndarray          # (k, 2) [m], k >= 2; a segment when k == 2
    material: str

    @property
    def is_polyline(self) -> bool:
        return len(self.points) > 2


@dataclass
class Obstacle:
    name: str
    polygon: np.ndarray         # (k, 3+) footprint [m]
    material: str
    height_m: float


@dataclass
class Zone:
    """A zone where coverage is required: its polygon [m], terminals by type, the
    requirement profile it names (``profile``, :mod:`wifiplan.requirements`) and its
    requirements, the profile's values with the zone's own over them
    (:class:`wifiplan.requirements.Requirements`; ``min_rssi_dbm`` [dBm] is its primary
    coverage level)."""
    name: str
    polygon: np.ndarray
    min_rssi_dbm: float = DEFAULT_MIN_RSSI_DBM
    terminals: dict[str, int] = field(default_factory=dict)
    min_sinr_db: float = REQUIREMENT_DEFAULTS["min_sinr_db"]
    co_channel_separation_db: float = REQUIREMENT_DEFAULTS["co_channel_separation_db"]
    boundary_band: bool = REQUIREMENT_DEFAULTS["boundary_band"]
    airtime_budget: float = REQUIREMENT_DEFAULTS["airtime_budget"]
    secondary_rssi_dbm: float | None = REQUIREMENT_DEFAULTS["secondary_rssi_dbm"]
    min_snr_db: float = REQUIREMENT_DEFAULTS["min_snr_db"]
    min_data_rate_mbps: float | None = REQUIREMENT_DEFAULTS["min_data_rate_mbps"]
    channel_overlap_max_aps: int | None = REQUIREMENT_DEFAULTS["channel_overlap_max_aps"]
    channel_overlap_dbm: float = REQUIREMENT_DEFAULTS["channel_overlap_dbm"]
    profile: str = DEFAULT_PROFILE

    @property
    def terminal_count(self) -> int:
        return int(sum(self.terminals.values()))

    @property
    def requirements(self) -> Requirements:
        """The zone's requirement contract (its own values over the defaults)."""
        return Requirements(**{k: getattr(self, k) for k in REQUIREMENT_DEFAULTS})


@dataclass
class Switch:
    name: str
    position: tuple[float, float]
    ports: int = 24
    poe_budget_w: float = 370.0
    uplink_mbps: float = 10000.0


@dataclass
class Area:
    name: str
    polygon: np.ndarray


@dataclass
class Site:
    name: str
    outline: np.ndarray
    regulatory_domain: str = "seed"
    enable_w58: bool = False
    propagation: dict[str, Any] = field(default_factory=lambda: dict(PROPAGATION_DEFAULTS))
    building: Building = field(default_factory=Building)
    materials: dict[str, float] = field(default_factory=dict)   # site overrides [dB]
    walls: list[Wall] = field(default_factory=list)
    obstacles: list[Obstacle] = field(default_factory=list)
    zones: list[Zone] = field(default_factory=list)
    server: dict[str, Any] | None = None
    switches: list[Switch] = field(default_factory=list)
    no_mount: list[Area] = field(default_factory=list)
    terminal_profiles: dict[str, dict] = field(default_factory=dict)
    requirement_profiles: dict[str, Profile] = field(default_factory=dict)   # the site's own
    routes: list[Route] = field(default_factory=list)     # walks (wifiplan.routes)
    extra: dict[str, Any] = field(default_factory=dict)
    source: str | None = None

    # ---- derived -------------------------------------------------------------------
    @property
    def outline_polygon(self) -> Polygon:
        return Polygon(self.outline)

    @property
    def area_m2(self) -> float:
        return float(self.outline_polygon.area)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        return tuple(float(v) for v in self.outline_polygon.bounds)

    @property
    def terminal_count(self) -> int:
        return sum(z.terminal_count for z in self.zones)

    @property
    def domain(self):
        return DOMAINS[self.regulatory_domain]

    def allowed_channels(self, dfs: bool = False) -> list[int]:
        return self.domain.allowed_channels(dfs=dfs, enable_w58=self.enable_w58)

    def material_losses(self) -> dict[str, float]:
        """Loss per material [dB]: library plus this site's overrides."""
        return material_table(self.materials)

    def zone_at(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Index of the zone containing each point, -1 outside every zone (first zone wins)."""
        x = np.asarray(x, float)
        y = np.asarray(y, float)
        out = np.full(x.shape, -1, dtype=int)
        for i in range(len(self.zones) - 1, -1, -1):
            inside = shapely.contains_xy(Polygon(self.zones[i].polygon), x, y)
            out[inside] = i
        return out

    def inside_outline(self, x, y, tolerance_m: float = 0.0) -> np.ndarray:
        poly = self.outline_polygon
        if tolerance_m:
            poly = poly.buffer(tolerance_m)
        return shapely.contains_xy(poly, np.asarray(x, float), np.asarray(y, float))

    # ---- serialisation ------------------------------------------------------------
    def to_dict(self) -> dict:
        def pts(a):
            return [[_num(v) for v in p] for p in np.asarray(a).tolist()]

        d: dict[str, Any] = {"name": self.name, "regulatory_domain": self.regulatory_domain}
        if self.enable_w58:
            d["enable_w58"] = True
        d["outline"] = pts(self.outline)
        d["propagation"] = {k: _num(v) for k, v in self.propagation.items()}
        if self.building != Building():
            d["building"] = {"ceiling_height_m": _num(self.building.ceiling_height_m),
                             "roof": self.building.roof, "floor": self.building.floor}
        if self.materials:
            d["materials"] = {k: {"loss_db": _num(v)} for k, v in self.materials.items()}
        walls = []
        for w in self.walls:
            if w.is_polyline:
                walls.append({"points": pts(w.points), "material": w.material})
            else:
                walls.append({"from": pts(w.points)[0], "to": pts(w.points)[1],
                              "material": w.material})
        d["walls"] = walls
        d["obstacles"] = [{"name": o.name, "polygon": pts(o.polygon), "material": o.material,
                           "height_m": _num(o.height_m)} for o in self.obstacles]
        d["zones"] = [self._zone_dict(z, pts) for z in self.zones]
        infra: dict[str, Any] = {}
        if self.server is not None:
            infra["server"] = {"name": self.server["name"],
                               "position": [_num(v) for v in self.server["position"]]}
        if self.switches:
            infra["switches"] = [{"name": s.name, "position": [_num(v) for v in s.position],
                                  "ports": s.ports, "poe_budget_w": _num(s.poe_budget_w),
                                  "uplink_mbps": _num(s.uplink_mbps)} for s in self.switches]
        if infra:
            d["infrastructure"] = infra
        if self.no_mount:
            d["no_mount"] = [{"name": a.name, "polygon": pts(a.polygon)} for a in self.no_mount]
        if self.terminal_profiles:
            d["terminal_profiles"] = self.terminal_profiles
        if self.requirement_profiles:
            d["requirement_profiles"] = {
                p.name: {**({"based_on": p.based_on} if p.based_on != DEFAULT_PROFILE else {}),
                         **({"description": p.description} if p.description else {}),
                         **_requirement_values(p.requirements.overrides(
                             profile_of(p.based_on or DEFAULT_PROFILE).requirements))}
                for p in self.requirement_profiles.values()}
        if self.routes:
            d["routes"] = routes_to_list(self.routes)
        d.update(self.extra)
        return d


    def zone_profile(self, z: Zone) -> Profile:
        """The requirement profile zone ``z`` names (a built-in one or the site's own)."""
        return profile_of(z.profile, self.requirement_profiles)

    def zone_overrides(self, z: Zone) -> dict:
        """The requirement values zone ``z`` sets over its profile's."""
        return z.requirements.overrides(self.zone_profile(z).requirements)

    def _zone_dict(self, z: Zone, pts) -> dict:
        """A zone as the site file writes it: its profile (unless ``seed``), and the values
        that differ from the profile's (a ``seed`` zone always writes ``min_rssi_dbm``)."""
        own = _requirement_values(self.zone_overrides(z))
        out = {"name": z.name, "polygon": pts(z.polygon)}
        if z.profile != DEFAULT_PROFILE:
            out["profile"] = z.profile
        if z.profile == DEFAULT_PROFILE or "min_rssi_dbm" in own:
            out["min_rssi_dbm"] = _num(z.min_rssi_dbm)
        out["terminals"] = dict(z.terminals)
        out.update({k: v for k, v in own.items() if k != "min_rssi_dbm"})
        return out


def _requirement_values(values: dict) -> dict:
    """Requirement values as plain YAML values (booleans and None kept, numbers tidied)."""
    return {k: (v if v is None or isinstance(v, bool) else _num(v)) for k, v in values.items()}


def _num(v):
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        f = float(v)
        return int(f) if f.is_integer() and abs(f) < 1e15 else round(f, 6)
    return v


# ---- validation (the general helpers: wifiplan.validation) --------------------------

def _point(ctx, path, v) -> list[float]:
    if not isinstance(v, (list, tuple)) or len(v) != 2:
        ctx.fail(path, f"expected a point [x, y] in metres, got {v!r}")
    return [check_number(ctx, path + (i,), c, lo=-MAX_EXTENT_M, hi=MAX_EXTENT_M,
                         what="a coordinate in metres") for i, c in enumerate(v)]


def _points(ctx, path, v, min_count: int) -> np.ndarray:
    if not isinstance(v, list) or len(v) < min_count:
        ctx.fail(path, f"expected a list of at least {min_count} points [x, y], got {v!r}"[:200])
    return np.array([_point(ctx, path + (i,), p) for i, p in enumerate(v)], dtype=float)


def _polygon(ctx, path, v) -> np.ndarray:
    pts = _points(ctx, path, v, 3)
    if np.allclose(pts[0], pts[-1]) and len(pts) > 3:
        pts = pts[:-1]
    poly = Polygon(pts)
    if not poly.is_valid:
        reason = shapely.is_valid_reason(poly)
        if "Self-intersection" in reason:
            ctx.fail(path, f"polygon intersects itself ({reason})")
        ctx.fail(path, f"invalid polygon ({reason})")
    if poly.area <= 1e-6:
        ctx.fail(path, "polygon has no area")
    return pts


def _material(ctx, path, v, known: dict) -> str:
    if not isinstance(v, str):
        ctx.fail(path, f"expected a material name, got {v!r}")
    if v not in known:
        close = difflib.get_close_matches(v, sorted(known), n=1, cutoff=0.6)
        hint = f" (did you mean '{close[0]}'?)" if close else \
            f", expected one of {', '.join(sorted(known))} or a site material"
        ctx.fail(path, f"unknown material '{v}'{hint}")
    return v


def site_from_dict(d: Any, source: str = "<site>", lines: dict | None = None) -> Site:
    """Validate a parsed site mapping and build a :class:`Site`; raise InputError."""
    ctx = Ctx(source, lines or {})
    if d is None:
        ctx.fail((), "file is empty, expected a site mapping")
    if not isinstance(d, dict):
        ctx.fail((), f"expected a site mapping at the top level, got {type(d).__name__}")
    extra = check_keys(ctx, (), d, SITE_KEYS, required={"name", "outline"}, strict=False)

    name = check_name(ctx, ("name",), d["name"])
    dom = d.get("regulatory_domain", "seed")
    if not isinstance(dom, str) or dom not in DOMAINS:
        close = difflib.get_close_matches(str(dom), list(DOMAINS), n=1, cutoff=0.5)
        ctx.fail(("regulatory_domain",), f"unknown regulatory domain {dom!r}"
                 + (f" (did you mean '{close[0]}'?)" if close else
                    f", expected one of {', '.join(DOMAINS)}"))
    enable_w58 = d.get("enable_w58", False)
    if not isinstance(enable_w58, bool):
        ctx.fail(("enable_w58",), f"expected true or false, got {enable_w58!r}")

    outline = _polygon(ctx, ("outline",), d["outline"])
    outline_poly = Polygon(outline)
    minx, miny, maxx, maxy = outline_poly.bounds
    if max(maxx - minx, maxy - miny) < 1.0:
        ctx.fail(("outline",), "outline is smaller than 1 m, expected metres")
    tol_poly = outline_poly.buffer(OUTLINE_TOLERANCE_M)

    # propagation
    prop = dict(PROPAGATION_DEFAULTS)
    p_in = check_mapping(ctx, ("propagation",), d.get("propagation") or {}, "propagation settings")
    for k, v in p_in.items():
        if k == "model":
            if not isinstance(v, str) or v not in MODELS:
                close = difflib.get_close_matches(str(v), list(MODELS), n=1, cutoff=0.6)
                ctx.fail(("propagation", "model"), f"unknown path-loss model {v!r}"
                         + (f" (did you mean '{close[0]}'?)" if close
                            else f", expected one of {', '.join(MODELS)}"))
            prop[k] = v
        elif k in PARAM_RANGES:
            lo, hi = PARAM_RANGES[k]
            prop[k] = check_number(ctx, ("propagation", k), v, lo=lo, hi=hi,
                                   what=k)
        else:
            prop[k] = check_number(ctx, ("propagation", k), v, lo=-1000,
                                   hi=100000 if k.endswith("_mhz") else 1000,
                                   what="a model parameter")
    try:
        check_model_params(prop["model"], {k: v for k, v in prop.items()
                                           if k not in PROPAGATION_DEFAULTS})
    except InputError as exc:
        ctx.fail(("propagation",), exc.detail)

    # materials
    site_mats: dict[str, float] = {}
    m_in = check_mapping(ctx, ("materials",), d.get("materials") or {}, "materials")
    for k, v in m_in.items():
        path = ("materials", k)
        if isinstance(v, dict):
            check_keys(ctx, path, v, {"loss_db", "source", "description"}, {"loss_db"})
            site_mats[str(k)] = check_number(ctx, path + ("loss_db",), v["loss_db"], lo=0, hi=100,
                                             what="a loss in dB")
        else:
            site_mats[str(k)] = check_number(ctx, path, v, lo=0, hi=100, what="a loss in dB")
    known_mats = material_table(site_mats)

    # building: the hall's envelope
    b_in = check_mapping(ctx, ("building",), d.get("building") or {}, "building settings")
    check_keys(ctx, ("building",), b_in, set(BUILDING_DEFAULTS))
    b_val = dict(BUILDING_DEFAULTS)
    if "ceiling_height_m" in b_in:
        b_val["ceiling_height_m"] = check_number(ctx, ("building", "ceiling_height_m"),
                                                 b_in["ceiling_height_m"], lo=1.0, hi=100.0,
                                                 what="a ceiling height in metres (1-100)")
    surfaces = set(MATERIALS) | set(P2040_PROPERTIES) | set(site_mats)
    for k in ("roof", "floor"):
        if k in b_in:
            b_val[k] = _material(ctx, ("building", k), b_in[k], dict.fromkeys(surfaces))
    building = Building(**b_val)
    ceiling = building.ceiling_height_m

    # walls
    walls = []
    for i, w in enumerate(check_list(ctx, ("walls",), d.get("walls"), "walls")):
        path = ("walls", i)
        w = check_mapping(ctx, path, w, "a wall")
        check_keys(ctx, path, w, {"from", "to", "points", "material", "name"}, {"material"})
        if "points" in w:
            if "from" in w or "to" in w:
                ctx.fail(path, "give either 'from'/'to' or 'points', not both")
            pts = _points(ctx, path + ("points",), w["points"], 2)
        else:
            if "from" not in w or "to" not in w:
                ctx.fail(path, "missing 'from' and 'to' (or 'points') of the wall")
            pts = np.array([_point(ctx, path + ("from",), w["from"]),
                            _point(ctx, path + ("to",), w["to"])])
        seg_len = np.hypot(*np.diff(pts, axis=0).T)
        if np.any(seg_len < 1e-3):
            ctx.fail(path, "wall has a segment of zero length")
        mat = _material(ctx, path + ("material",), w["material"], known_mats)
        if not tol_poly.covers(LineString(pts)):
            ctx.fail(path, "wall lies outside the outline")
        walls.append(Wall(pts, mat))

    # obstacles
    obstacles = []
    names = set()
    for i, o in enumerate(check_list(ctx, ("obstacles",), d.get("obstacles"), "obstacles")):
        path = ("obstacles", i)
        o = check_mapping(ctx, path, o, "an obstacle")
        check_keys(ctx, path, o, {"name", "polygon", "material", "height_m", "kind"},
                   {"polygon", "material", "height_m"})
        nm = check_name(ctx, path + ("name",), o.get("name", f"obstacle-{i + 1}"))
        poly = _polygon(ctx, path + ("polygon",), o["polygon"])
        mat = _material(ctx, path + ("material",), o["material"], known_mats)
        h = check_number(ctx, path + ("height_m",), o["height_m"], lo=0.0, hi=100.0,
                         what="a height in metres (>= 0)")
        if not tol_poly.covers(Polygon(poly)):
            ctx.fail(path, "obstacle lies outside the outline")
        if h > ceiling:
            ctx.fail(path + ("height_m",), f"obstacle of {h:g} m is taller than the ceiling "
                     f"(building.ceiling_height_m {ceiling:g} m)")
        names.add(nm)
        obstacles.append(Obstacle(nm, poly, mat, h))

    # zones, with the site's own requirement profiles
    req_profiles = parse_profiles(ctx, d.get("requirement_profiles"))
    zones = []
    znames = set()
    for i, z in enumerate(check_list(ctx, ("zones",), d.get("zones"), "zones")):
        path = ("zones", i)
        z = check_mapping(ctx, path, z, "a zone")
        check_keys(ctx, path, z, {"name", "polygon", "terminals", "description", "profile"}
                   | set(REQUIREMENT_DEFAULTS), {"polygon"})
        nm = check_name(ctx, path + ("name",), z.get("name", f"zone-{i + 1}"))
        if nm in znames:
            ctx.fail(path + ("name",), f"duplicate zone name '{nm}'")
        znames.add(nm)
        poly = _polygon(ctx, path + ("polygon",), z["polygon"])
        if not tol_poly.covers(Polygon(poly)):
            ctx.fail(path, "zone lies outside the outline")
        prof, reqs = resolve(ctx, path, z, req_profiles)
        terms = {}
        t_in = check_mapping(ctx, path + ("terminals",), z.get("terminals") or {},
                             "terminals by type")
        for tk, tv in t_in.items():
            tpath = path + ("terminals", tk)
            n = check_number(ctx, tpath, tv, lo=0, hi=10000, what="a terminal count")
            if not float(n).is_integer():
                ctx.fail(tpath, f"expected a whole number of terminals, got {tv!r}")
            terms[str(tk)] = int(n)
        zones.append(Zone(nm, poly, terminals=terms, profile=prof, **reqs.to_dict()))

    # infrastructure
    server = None
    switches = []
    infra = check_mapping(ctx, ("infrastructure",), d.get("infrastructure") or {}, "infrastructure")
    check_keys(ctx, ("infrastructure",), infra, {"server", "switches"})
    if "server" in infra:
        s = check_mapping(ctx, ("infrastructure", "server"), infra["server"], "the server")
        check_keys(ctx, ("infrastructure", "server"), s, {"name", "position", "node"}, {"position"})
        pos = _point(ctx, ("infrastructure", "server", "position"), s["position"])
        server = {"name": check_name(ctx, ("infrastructure", "server", "name"),
                                     s.get("name", "SVR")),
                  "position": pos}
        if "node" in s:
            server["node"] = check_name(ctx, ("infrastructure", "server", "node"), s["node"])
    snames = set()
    for i, s in enumerate(check_list(ctx, ("infrastructure", "switches"), infra.get("switches"),
                                     "switches")):
        path = ("infrastructure", "switches", i)
        s = check_mapping(ctx, path, s, "a switch")
        check_keys(ctx, path, s, {"name", "position", "ports", "poe_budget_w", "uplink_mbps",
                                   "model"}, {"name", "position"})
        nm = check_name(ctx, path + ("name",), s["name"])
        if nm in snames:
            ctx.fail(path + ("name",), f"duplicate switch name '{nm}'")
        snames.add(nm)
        ports = check_number(ctx, path + ("ports",), s.get("ports", 24), lo=1, hi=1024,
                             what="a port count")
        switches.append(Switch(nm, tuple(_point(ctx, path + ("position",), s["position"])),
                               int(ports),
                               check_number(ctx, path + ("poe_budget_w",),
                                            s.get("poe_budget_w", 370),
                                            lo=0, hi=100000, what="a PoE budget in W"),
                               check_number(ctx, path + ("uplink_mbps",),
                                            s.get("uplink_mbps", 10000),
                                            lo=1, hi=1e6, what="an uplink in Mb/s")))

    no_mount = []
    for i, a in enumerate(check_list(ctx, ("no_mount",), d.get("no_mount"), "areas")):
        path = ("no_mount", i)
        a = check_mapping(ctx, path, a, "a no-mount area")
        check_keys(ctx, path, a, {"name", "polygon", "reason"}, {"polygon"})
        no_mount.append(Area(check_name(ctx, path + ("name",), a.get("name", f"no-mount-{i + 1}")),
                             _polygon(ctx, path + ("polygon",), a["polygon"])))

    profiles = check_mapping(ctx, ("terminal_profiles",), d.get("terminal_profiles") or {},
                             "terminal profiles")
    routes = routes_from_list(ctx, ("routes",), d.get("routes"), outline_poly,
                              set(TERMINAL_TYPES) | set(profiles), OUTLINE_TOLERANCE_M,
                              MAX_EXTENT_M)

    return Site(name=name, outline=outline, regulatory_domain=dom, enable_w58=enable_w58,
                propagation=prop, building=building, materials=site_mats, walls=walls,
                obstacles=obstacles,
                zones=zones, server=server, switches=switches, no_mount=no_mount,
                terminal_profiles=profiles, requirement_profiles=req_profiles, routes=routes,
                extra={k: v for k, v in extra.items()} | (
                    {"description": d["description"]} if "description" in d else {}),
                source=source)


#: The bundled sample sites, package data (``wifiplan/samples``, the repository's
#: ``floorplans/``): ``NAME.yaml`` and its plan ``NAME.plan.yaml``.
SAMPLES_DIR = Path(__file__).resolve().parent / "samples"


def sample_sites() -> dict[str, Path]:
    """The bundled sample sites: name -> path of the site file (plans are not sites)."""
    return {p.stem: p for p in sorted(SAMPLES_DIR.glob("*.yaml"))
            if not p.name.endswith(".plan.yaml")}


def sample_plan_path(site_path: str | Path) -> Path:
    """The plan file that goes with a sample site (``NAME.plan.yaml`` beside it)."""
    site_path = Path(site_path)
    return site_path.with_name(site_path.stem + ".plan.yaml")


def load_site(path: str | Path) -> Site:
    """Read and validate a site YAML file; raise :class:`InputError` on bad input."""
    data, lines = read_yaml(path)
    return site_from_dict(data, source=str(path), lines=lines)


def parse_site(text: str, source: str = "<site>") -> Site:
    """Validate a site from YAML text (used by the UI for uploads)."""
    data, lines = parse_yaml(text, source=source)
    return site_from_dict(data, source=source, lines=lines)


def site_to_yaml(site: Site) -> str:
    return dump_yaml(site.to_dict())


def save_site(site: Site, path: str | Path) -> Path:
    """Write the site YAML atomically."""
    return write_atomic(path, site_to_yaml(site))


def with_zone_requirements(site: Site, changes: dict[str, dict]) -> Site:
    """A copy of ``site`` whose zones take the requirement values of ``changes`` (zone name
    -> {key: value}, keys of :data:`wifiplan.requirements.DEFAULTS` or ``profile``), checked
    like the site file; raise :class:`InputError` naming the zone's key. A new ``profile``
    gives the zone that profile's values (its old overrides go), then the other values of
    the change apply over it; a NaN stands for None (no requirement)."""
    d = site.to_dict()
    for z in d["zones"]:
        change = dict(changes.get(z["name"]) or {})
        if "profile" in change:
            for k in REQUIREMENT_DEFAULTS:
                z.pop(k, None)
            z["profile"] = change.pop("profile")
        for k, v in change.items():
            if k not in REQUIREMENT_DEFAULTS:
                raise InputError(f"unknown requirement {k!r}", source=site.source,
                                 key=f"zones.{z['name']}")
            v = v.item() if hasattr(v, "item") else v
            z[k] = None if isinstance(v, float) and v != v else v
    return site_from_dict(d, source=site.source)
