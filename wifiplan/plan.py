"""A plan: the APs of one site with position, channel, width, power and backhaul.

File format (DESIGN.md section 4)::

    site: Assembly Hall A
    aps:
      - {id: AP1, x_m: 10.0, y_m: 5.0, height_m: 4.0, channel: 36, width_mhz: 20,
         tx_power_dbm: 8.0, bssid: "02:1a:00:00:00:01", switch: SW1, port: 1}
    metrics: {...}

An AP may carry ``locked: true`` (the planner keeps it where it is) and ``cable_m``, and
its hardware and mounting (docs/site-format.md): ``model`` (:mod:`wifiplan.apmodels`),
``antenna`` (a built-in pattern name or an .msi file, relative to the plan file; only for
a model with antenna connectors, or an AP without a model), ``azimuth_deg`` (where the
antenna's boresight points: 0 = the +x axis, counter-clockwise [deg]) and ``tilt_deg``
(its down-tilt below the horizontal [deg], 90 = facing the floor). Without them an AP is
the site's omni with the site's ``ap_gain_dbi``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from .apmodels import MODELS as AP_MODELS
from .errors import InputError
from .fileio import dump_yaml, parse_yaml, read_yaml, to_plain, write_atomic
from .radio.antenna import (BUILTIN as BUILTIN_ANTENNAS, PATTERN_SUFFIXES, MountedAntenna,
                            builtin_pattern, builtin_tilt_deg, read_pattern)
from .validation import Ctx, check_keys, check_name, check_number

BSSID_RE = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
#: What a plan file may hold for an AP (the planner stays inside the domain's limits:
#: :func:`wifiplan.rules.tx_power_range_dbm`) and what the UI's table accepts.
AP_HEIGHT_RANGE_M = (0.0, 50.0)
TX_POWER_RANGE_DBM = (-10.0, 36.0)
PLAN_KEYS = {"site", "aps", "metrics", "regulatory_domain", "model", "notes", "backhaul"}
#: The longest AP id [characters]: it labels maps, tables and the controller's inventory.
MAX_AP_ID_CHARS = 32
AP_KEYS = {"id", "x_m", "y_m", "height_m", "channel", "width_mhz", "tx_power_dbm", "bssid",
           "switch", "port", "locked", "cable_m", "name", "model", "notes", "antenna",
           "azimuth_deg", "tilt_deg"}
#: Boresight azimuth [deg] (0 = +x, counter-clockwise) and down-tilt [deg] of an antenna.
AZIMUTH_RANGE_DEG = (-360.0, 360.0)
TILT_RANGE_DEG = (-90.0, 90.0)


@dataclass
class AP:
    id: str
    x_m: float
    y_m: float
    height_m: float = 4.0
    channel: int = 36
    width_mhz: int = 20
    tx_power_dbm: float = 10.0
    bssid: str | None = None
    switch: str | None = None
    port: int | None = None
    locked: bool = False
    cable_m: float | None = None
    model: str | None = None
    antenna: str | None = None
    azimuth_deg: float | None = None
    tilt_deg: float | None = None
    #: the antenna as mounted (:func:`mount_of`); None: the site's omni and gain
    mount: MountedAntenna | None = field(default=None, compare=False, repr=False)

    def to_dict(self) -> dict:
        d = {"id": self.id, "x_m": round(float(self.x_m), 3), "y_m": round(float(self.y_m), 3),
             "height_m": round(float(self.height_m), 3), "channel": int(self.channel),
             "width_mhz": int(self.width_mhz), "tx_power_dbm": round(float(self.tx_power_dbm), 2)}
        if self.model:
            d["model"] = self.model
        if self.antenna:
            d["antenna"] = self.antenna
        if self.azimuth_deg is not None:
            d["azimuth_deg"] = round(float(self.azimuth_deg), 2)
        if self.tilt_deg is not None:
            d["tilt_deg"] = round(float(self.tilt_deg), 2)
        if self.bssid:
            d["bssid"] = self.bssid
        if self.switch:
            d["switch"] = self.switch
        if self.port is not None:
            d["port"] = int(self.port)
        if self.cable_m is not None:
            d["cable_m"] = round(float(self.cable_m), 1)
        if self.locked:
            d["locked"] = True
        return d


@dataclass
class Plan:
    site: str
    aps: list[AP] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    source: str | None = None
    #: the folder antenna pattern files are relative to (the plan file's)
    base_dir: Path | None = None

    def ap(self, ap_id: str) -> AP:
        for a in self.aps:
            if a.id == ap_id:
                return a
        raise KeyError(ap_id)

    @property
    def ids(self) -> list[str]:
        return [a.id for a in self.aps]

    def positions(self) -> np.ndarray:
        return np.array([[a.x_m, a.y_m] for a in self.aps], dtype=float).reshape(-1, 2)

    def to_dict(self) -> dict:
        d: dict[str, Any] = {"site": self.site}
        d.update(self.extra)
        d["aps"] = [a.to_dict() for a in self.aps]
        if self.metrics:
            d["metrics"] = to_plain(self.metrics)
        return d

    def to_frame(self):
        import pandas as pd
        return pd.DataFrame([a.to_dict() for a in self.aps],
                            columns=[f.name for f in fields(AP) if f.name != "mount"])


def normalise_bssid(value: str) -> str | None:
    """'02-1A-00-00-00-01' or '021a.0000.0001' -> '02:1a:00:00:00:01'; None if not a MAC."""
    if not isinstance(value, str):
        return None
    hexd = re.sub(r"[^0-9a-fA-F]", "", value)
    if len(hexd) != 12 or len(re.sub(r"[0-9a-fA-F:\-. ]", "", value)) != 0:
        return None
    return ":".join(hexd[i:i + 2] for i in range(0, 12, 2)).lower()


def mount_of(ctx: Ctx, path: tuple, a: dict, base_dir: Path | None,
             patterns: dict | None = None) -> MountedAntenna | None:
    """The mounted antenna of a plan's AP mapping ``a`` (its ``model``, ``antenna``,
    ``azimuth_deg`` and ``tilt_deg``), None when it names none of them (the site's omni).
    A pattern file is read once per plan (``patterns`` caches them by path)."""
    model = a.get("model")
    antenna = a.get("antenna")
    az, tilt = a.get("azimuth_deg"), a.get("tilt_deg")
    if model is None and antenna is None and az is None and tilt is None:
        return None
    m = None
    if model is not None:
        if not isinstance(model, str) or model not in AP_MODELS:
            ctx.fail(path + ("model",), f"unknown AP model {str(model)[:60]!r}, expected one "
                                       f"of {', '.join(AP_MODELS)} (docs/site-format.md)")
        m = AP_MODELS[model]
    gain = None
    if antenna is None:
        name = m.antenna if m is not None else "omni"
        pattern = builtin_pattern(name)
        gain = m.antenna_gain_dbi if m is not None else None
    else:
        if not isinstance(antenna, str) or not antenna.strip():
            ctx.fail(path + ("antenna",), f"expected a built-in antenna "
                                         f"({', '.join(BUILTIN_ANTENNAS)}) or an .msi file")
        if m is not None and not m.external_antenna and antenna != m.antenna:
            ctx.fail(path + ("antenna",), f"model {m.name} has an integrated {m.antenna} "
                                         f"antenna; name a model with antenna connectors "
                                         f"(e.g. generic-external-antenna) or remove the key")
        name = antenna
        if antenna in BUILTIN_ANTENNAS:
            pattern = builtin_pattern(antenna)
            if m is not None and antenna == m.antenna:
                gain = m.antenna_gain_dbi
        elif antenna.lower().endswith(PATTERN_SUFFIXES):
            p = Path(antenna)
            if not p.is_absolute() and base_dir is not None:
                p = Path(base_dir) / p
            key = str(p.resolve()) if p.exists() else str(p)
            cache = patterns if patterns is not None else {}
            if key not in cache:
                try:
                    cache[key] = read_pattern(p)
                except InputError as exc:
                    if exc.detail == "file not found":
                        ctx.fail(path + ("antenna",), f"pattern file {antenna!r} not found "
                                                     f"(relative to the plan's folder)")
                    raise
            pattern = cache[key]
        else:
            ctx.fail(path + ("antenna",), f"unknown antenna {antenna[:60]!r}, expected a "
                                         f"built-in ({', '.join(BUILTIN_ANTENNAS)}) or a "
                                         f"pattern file ending in "
                                         f"{', '.join(PATTERN_SUFFIXES)}")
    azimuth = 0.0 if az is None else check_number(
        ctx, path + ("azimuth_deg",), az, lo=AZIMUTH_RANGE_DEG[0], hi=AZIMUTH_RANGE_DEG[1],
        what="a boresight azimuth in degrees (0 = +x, counter-clockwise)")
    tilt_v = builtin_tilt_deg(name) if tilt is None else check_number(
        ctx, path + ("tilt_deg",), tilt, lo=TILT_RANGE_DEG[0], hi=TILT_RANGE_DEG[1],
        what="a down-tilt in degrees (90 = facing the floor)")
    return MountedAntenna(pattern, azimuth_deg=azimuth, tilt_deg=tilt_v, gain_dbi=gain)


def plan_from_dict(d: Any, source: str = "<plan>", lines: dict | None = None,
                   base_dir: str | Path | None = None) -> Plan:
    """Validate a parsed plan mapping; raise :class:`InputError` naming the key and line.
    ``base_dir``: the folder antenna pattern files are relative to (default: the folder
    of ``source`` when it is a file, else the working folder)."""
    ctx = Ctx(source, lines or {})
    if base_dir is None and Path(source).is_file():
        base_dir = Path(source).parent
    patterns: dict = {}
    if not isinstance(d, dict):
        ctx.fail((), "expected a plan mapping with 'site' and 'aps'")
    extra = check_keys(ctx, (), d, PLAN_KEYS, {"aps"}, strict=False)
    aps = []
    ids = set()
    if not isinstance(d["aps"], list):
        ctx.fail(("aps",), "expected a list of APs")
    for i, a in enumerate(d["aps"]):
        path = ("aps", i)
        if not isinstance(a, dict):
            ctx.fail(path, "expected an AP mapping")
        check_keys(ctx, path, a, AP_KEYS, {"id", "x_m", "y_m"})
        ap_id = check_name(ctx, path + ("id",), a["id"], max_chars=MAX_AP_ID_CHARS)
        if ap_id in ids:
            ctx.fail(path + ("id",), f"duplicate AP id '{ap_id}'")
        ids.add(ap_id)
        ch = check_number(ctx, path + ("channel",), a.get("channel", 36), lo=1, hi=233,
                          what="a channel number")
        width = check_number(ctx, path + ("width_mhz",), a.get("width_mhz", 20), lo=20, hi=320,
                             what="a channel width in MHz")
        bssid = a.get("bssid")
        if bssid is not None:
            nb = normalise_bssid(str(bssid))
            if nb is None:
                ctx.fail(path + ("bssid",), f"expected a MAC address like 02:1a:00:00:00:01, "
                                            f"got {bssid!r}")
            bssid = nb
        port = a.get("port")
        if port is not None:
            port = int(check_number(ctx, path + ("port",), port, lo=1, hi=1024,
                                    what="a port number"))
        locked = a.get("locked", False)
        if not isinstance(locked, bool):
            ctx.fail(path + ("locked",), f"expected true or false, got {locked!r}")
        mount = mount_of(ctx, path, a, base_dir, patterns)
        aps.append(AP(
            id=ap_id,
            x_m=check_number(ctx, path + ("x_m",), a["x_m"], lo=-5000, hi=5000, what="x in metres"),
            y_m=check_number(ctx, path + ("y_m",), a["y_m"], lo=-5000, hi=5000, what="y in metres"),
            height_m=check_number(ctx, path + ("height_m",), a.get("height_m", 4.0),
                                  lo=AP_HEIGHT_RANGE_M[0], hi=AP_HEIGHT_RANGE_M[1],
                                  what="a mount height in metres"),
            channel=int(ch), width_mhz=int(width),
            tx_power_dbm=check_number(ctx, path + ("tx_power_dbm",), a.get("tx_power_dbm", 10.0),
                                      lo=TX_POWER_RANGE_DBM[0], hi=TX_POWER_RANGE_DBM[1],
                                      what="a transmit power in dBm"),
            bssid=bssid, switch=(str(a["switch"]) if a.get("switch") is not None else None),
            port=port, locked=locked,
            cable_m=(check_number(ctx, path + ("cable_m",), a["cable_m"], lo=0, hi=10000,
                                  what="a cable length in metres") if a.get("cable_m") is not None
                     else None),
            model=a.get("model"), antenna=a.get("antenna"),
            azimuth_deg=(None if a.get("azimuth_deg") is None else mount.azimuth_deg),
            tilt_deg=(None if a.get("tilt_deg") is None else mount.tilt_deg), mount=mount))
    metrics = d.get("metrics") or {}
    if not isinstance(metrics, dict):
        ctx.fail(("metrics",), "expected a mapping of metrics")
    return Plan(site=str(d.get("site", "")), aps=aps, metrics=metrics, extra=extra,
                source=source, base_dir=None if base_dir is None else Path(base_dir))


def load_plan(path: str | Path, site=None) -> Plan:
    """Read a plan file; with ``site``, also check that every AP is inside its outline."""
    data, lines = read_yaml(path)
    plan = plan_from_dict(data, source=str(path), lines=lines)
    if site is not None:
        check_plan_against_site(plan, site, lines)
    return plan


def parse_plan(text: str, source: str = "<plan>", site=None) -> Plan:
    data, lines = parse_yaml(text, source=source)
    plan = plan_from_dict(data, source=source, lines=lines)
    if site is not None:
        check_plan_against_site(plan, site, lines)
    return plan


def check_plan_against_site(plan: Plan, site, lines: dict | None = None) -> None:
    ctx = Ctx(plan.source or "<plan>", lines or {})
    if plan.site and site.name and str(plan.site).strip() != str(site.name).strip():
        ctx.fail(("site",), f"the plan is for site '{plan.site}', not for '{site.name}' (the "
                            "site file's name); give the plan of this site")
    if len(plan.aps):
        inside = site.inside_outline(plan.positions()[:, 0], plan.positions()[:, 1], 0.5)
        for i, ok in enumerate(inside):
            if not ok:
                ctx.fail(("aps", i), f"AP {plan.aps[i].id} at ({plan.aps[i].x_m:g}, "
                                     f"{plan.aps[i].y_m:g}) is outside the site outline")


def plan_to_yaml(plan: Plan) -> str:
    return dump_yaml(plan.to_dict())


def save_plan(plan: Plan, path: str | Path) -> Path:
    """Write the plan YAML atomically."""
    return write_atomic(path, plan_to_yaml(plan))
