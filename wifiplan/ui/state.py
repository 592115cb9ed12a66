"""What the app keeps between reruns: the site, the plan, the model, the radio map, a survey.

Everything lives in ``st.session_state`` under the keys below; the pages read and write it
only through these functions. The radio map is the expensive part: the first map of a
(site, model, APs, grid) comes from a process-wide ``st.cache_resource`` (so a second
browser tab, or a return to an earlier plan, is free), and after that every edit of the AP
table goes through :meth:`RadioMap.with_aps`, which recomputes only moved or added APs.

Every edit of the site or the plan (the map editor, the AP table, the AP's properties) goes
through :func:`edit`, which keeps the state before it: :func:`undo` and :func:`redo` walk
that history. A grid whose first map takes long is computed AP by AP
(:func:`estimate_map_s`, :func:`compute_radiomap_chunked`), so that the page can show an
estimate and a progress bar and stop between chunks.
"""
from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from dataclasses import dataclass, replace

import streamlit as st

from ..errors import InputError
from ..esx import export_esx
from ..evaluation import evaluate_plan
from ..fileio import dump_yaml, read_input, safe_stem, shown_name
from ..plan import AP, Plan, check_plan_against_site, plan_from_dict
from ..radio.propagation import PropagationModel
from ..radio.radiomap import compute_radiomap, grid_axes
from ..site import Site, site_to_yaml

RESOLUTIONS_M = (0.25, 0.5, 1.0, 2.0)
MAX_GRID_POINTS = 40_000          # default grid: the finest resolution under this many points

SITE, SITE_KEY, SITE_LABEL = "site", "site_key", "site_label"
PLAN, PLAN_VERSION = "plan", "plan_version"
MODEL, MODEL_LABEL = "model", "model_label"
RADIOMAP, RESOLUTION = "radiomap", "resolution_m"
SURVEY, CALIBRATION, BACKGROUND, REPORT = "survey", "calibration", "background", "report"
ESX_EXPORT = "esx_export"
HISTORY, SELECTED, LAST_AP = "history", "map_selection", "map_last_ap"
MAP_RATE, PARTIAL = "map_rate_s", "partial_radiomap"
MAX_HISTORY = 200                  # edits kept for undo
#: [s] a first map expected to take longer than this is computed on request, AP by AP,
#: with a progress bar and a Stop button
LONG_MAP_S = 4.0


def ss():
    return st.session_state


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:16]


# ---- site ---------------------------------------------------------------------------

def site() -> Site | None:
    return ss().get(SITE)


def set_site(new_site: Site, label: str, *, plan: Plan | None = None,
             background: dict | None = None) -> None:
    """Make ``new_site`` current; the plan, model, map and survey of the old one go."""
    s = ss()
    s[SITE] = new_site
    s[SITE_KEY] = _digest(site_to_yaml(new_site))
    s[SITE_LABEL] = label
    use_site_model(new_site)
    s[RESOLUTION] = default_resolution(new_site)
    s[BACKGROUND] = background
    for k in (RADIOMAP, SURVEY, CALIBRATION, REPORT, HISTORY, SELECTED, PARTIAL):
        s.pop(k, None)
    set_plan(plan if plan is not None else Plan(site=new_site.name, aps=[]))


def site_key() -> str:
    """A digest of the current site (changes with every edit)."""
    return ss().get(SITE_KEY, "")


def update_site(new_site: Site) -> None:
    """Replace the current site by an edited version of it (the map editor, zone
    requirements): the plan and survey stay, the site's own model follows a change of its
    geometry; the maps and reports judged on the old one go."""
    s = ss()
    old = s.get(SITE)
    s[SITE] = new_site
    s[SITE_KEY] = _digest(site_to_yaml(new_site))
    for k in (RADIOMAP, REPORT, PARTIAL):
        s.pop(k, None)
    # the site's own model follows its walls and obstacles (the hall model's rooms); a
    # calibrated model stays until the site is loaded again
    if (old is None or _geometry_key(old) != _geometry_key(new_site)) and not str(
            s.get(MODEL_LABEL, "")).startswith("calibrated"):
        use_site_model(new_site)


def _geometry_key(a_site: Site) -> str:
    d = a_site.to_dict()
    return _digest(dump_yaml({k: d.get(k) for k in ("outline", "walls", "obstacles",
                                                     "building", "propagation", "materials")}))


def default_resolution(a_site: Site) -> float:
    minx, miny, maxx, maxy = a_site.bounds
    for r in RESOLUTIONS_M:
        if (maxx - minx) / r * (maxy - miny) / r <= MAX_GRID_POINTS:
            return r
    return RESOLUTIONS_M[-1]


# ---- plan ---------------------------------------------------------------------------

def plan() -> Plan | None:
    return ss().get(PLAN)


# ---- edits and their history ----------------------------------------------------------

def edit(what: str, *, new_site: Site | None = None, new_plan: Plan | None = None,
         from_table: bool = False) -> None:
    """Make an edited site and/or plan current and keep the state before it for
    :func:`undo`. ``what`` names the edit ("move AP3"); ``from_table``: the AP table made it
    and keeps its cells (any other edit reloads the table from the plan)."""
    s = ss()
    h = s.setdefault(HISTORY, {"past": [], "future": []})
    h["past"].append((site(), plan(), what))
    del h["past"][:-MAX_HISTORY]
    h["future"].clear()
    _apply(new_site, new_plan, from_table=from_table)


def _apply(new_site, new_plan, *, from_table: bool = False) -> None:
    if new_site is not None and new_site is not site():
        update_site(new_site)
    if new_plan is not None and new_plan is not plan():
        set_plan(new_plan, edited=from_table)


def selection() -> tuple | None:
    """What is selected on the map: ``("aps", id)``, ``("walls", i)``, ``("obstacles", i)``,
    ``("zones", i)`` or ``("no_mount", i)``; None when nothing (or something gone)."""
    sel = ss().get(SELECTED)
    if sel is None:
        return None
    kind, ref = sel
    p, a_site = plan(), site()
    ok = (p is not None and ref in p.ids) if kind == "aps" else (
        a_site is not None and 0 <= ref < len(getattr(a_site, kind, [])))
    if not ok:
        ss().pop(SELECTED, None)
        return None
    return sel


def last_ap() -> str | None:
    """The AP selected last (it stays while a wall or shape is selected), if still there."""
    ap_id, p = ss().get(LAST_AP), plan()
    return ap_id if p is not None and ap_id in p.ids else None


def select(sel: tuple | None) -> None:
    """Select an AP or a site element (None: nothing); a change of the selected AP reloads
    the AP table, which marks the selected row."""
    s = ss()
    old = s.get(SELECTED)
    if sel is None:
        s.pop(SELECTED, None)
    else:
        s[SELECTED] = sel
        if sel[0] == "aps":
            s[LAST_AP] = sel[1]
    if (old or (None,))[0] == "aps" or (sel or (None,))[0] == "aps":
        if old != sel:
            s[PLAN_VERSION] = s.get(PLAN_VERSION, 0) + 1


def undo_label() -> str | None:
    """What :func:`undo` would undo (None: nothing)."""
    h = ss().get(HISTORY) or {}
    return h["past"][-1][2] if h.get("past") else None


def redo_label() -> str | None:
    h = ss().get(HISTORY) or {}
    return h["future"][-1][2] if h.get("future") else None


def undo() -> str | None:
    """Back to the state before the last edit; returns what was undone (None: nothing)."""
    return _step("past", "future")


def redo() -> str | None:
    """The edit :func:`undo` took back, again; returns what was redone."""
    return _step("future", "past")


def _step(src: str, dst: str) -> str | None:
    h = ss().get(HISTORY) or {}
    if not h.get(src):
        return None
    old_site, old_plan, what = h[src].pop()
    h[dst].append((site(), plan(), what))
    _apply(old_site, old_plan)         # a restored plan reloads the AP table
    return what


def set_plan(new_plan: Plan, *, edited: bool = False) -> None:
    """Make ``new_plan`` current. A plan from outside (planner, file) resets the AP table;
    an ``edited`` one came from the table itself and leaves the table as it is."""
    s = ss()
    s[PLAN] = new_plan
    if not edited:
        s[PLAN_VERSION] = s.get(PLAN_VERSION, 0) + 1
    s.pop(REPORT, None)


AP_COLUMNS = ["id", "x_m", "y_m", "height_m", "channel", "tx_power_dbm", "model", "antenna",
              "azimuth_deg", "tilt_deg", "locked"]
#: The table's columns that may be empty (the AP then has none: the site's omni, the
#: pattern's own tilt), as the plan file's optional keys.
AP_OPTIONAL = ("model", "antenna", "azimuth_deg", "tilt_deg")
SELECTED_MARK = "◉"


def ap_table(p: Plan, selected_id: str | None = None):
    """The editable AP table of a plan (one row per AP); the first column marks the AP
    selected on the map."""
    import pandas as pd
    df = pd.DataFrame([{c: getattr(a, c) for c in AP_COLUMNS} for a in p.aps],
                      columns=AP_COLUMNS).astype({"id": "string", "x_m": float, "y_m": float,
                                                  "height_m": float, "channel": "Int64",
                                                  "tx_power_dbm": float, "model": "string",
                                                  "antenna": "string", "azimuth_deg": float,
                                                  "tilt_deg": float, "locked": "boolean"})
    df.insert(0, "sel", pd.Series([SELECTED_MARK if a.id == selected_id else ""
                                   for a in p.aps], dtype="string"))
    return df


@dataclass
class TableResult:
    aps: list[AP] | None          # None: the table has an error, the plan stays as it was
    error: str | None = None
    pending: list[int] | None = None   # rows still missing their position


def aps_from_table(df, base, old: Plan, a_site: Site) -> TableResult:
    """APs from the edited table ``df``, validated like a plan file (same messages as the CLI).

    ``base`` is the table as the editor was opened with; new rows are numbered and filled
    from it, so that they keep their id and settings while other rows are edited or
    deleted. Rows without x or y are pending (just added, not placed yet) and left out. A
    new row without an id gets ``APn`` after the highest number in ``base``; unset height,
    channel and power take the values of the last AP of ``base`` (or the site's mount
    height, the first allowed channel, 10 dBm). ``old`` (the plan before this edit) gives
    the fields the table does not show (BSSID, switch, port, cable): a row of ``base``
    keeps those of its AP even when it is renamed (the editor keeps the row's index
    label). Values are not clamped: the library's checks (the plan file's ranges, the site
    outline) refuse what is out of range, with the CLI's message.
    """
    import re

    import numpy as np
    import pandas as pd
    by_id = {a.id: a for a in old.aps}
    last = base.iloc[-1] if len(base) else None
    defaults = {"height_m": float(last["height_m"]) if last is not None
                else a_site.propagation.get("ap_height_m", 4.0),
                "channel": int(last["channel"]) if last is not None
                else a_site.allowed_channels()[0],
                "tx_power_dbm": float(last["tx_power_dbm"]) if last is not None else 10.0}
    used = {str(v) for v in df["id"] if not pd.isna(v)}
    numbers = [int(m.group(1)) for v in base["id"] if not pd.isna(v)
               for m in [re.fullmatch(r"AP(\d+)", str(v))] if m]
    n = max(numbers, default=len(base))
    base_ids = [None if pd.isna(v) else str(v) for v in base["id"]]
    rows, pending = [], []
    for i, (label, r) in enumerate(zip(df.index, df.to_dict("records"))):
        row_of_base = (int(label) if isinstance(label, (int, np.integer))
                       and 0 <= int(label) < len(base_ids) else None)
        ap_id = r.get("id")
        if pd.isna(ap_id) or not str(ap_id).strip():
            n += 1                       # numbered in row order, placed or not
            while f"AP{n}" in used:
                n += 1
            ap_id = f"AP{n}"
            used.add(ap_id)
        if pd.isna(r.get("x_m")) or pd.isna(r.get("y_m")):
            pending.append(i + 1)
            continue
        d = {}
        d["id"] = str(ap_id).strip()
        for c in ("x_m", "y_m", "height_m", "channel", "tx_power_dbm"):
            v = r.get(c)
            d[c] = defaults[c] if pd.isna(v) else (int(v) if c == "channel" else float(v))
        d["locked"] = False if pd.isna(r.get("locked")) else bool(r.get("locked"))
        for c in AP_OPTIONAL:          # empty: the AP has none
            v = r.get(c)
            d[c] = (None if v is None or pd.isna(v) or not str(v).strip() else
                    str(v).strip() if c in ("model", "antenna") else float(v))
        prev = (by_id.get(base_ids[row_of_base]) if row_of_base is not None
                else by_id.get(d["id"]))
        if prev is not None:           # keep what the table does not show (BSSID, switch, port)
            keep = prev.to_dict()
            if (d["x_m"], d["y_m"]) != (keep["x_m"], keep["y_m"]):
                keep.pop("cable_m", None)      # the cable run changes with the position
            keep.update(d)
            d = keep
        rows.append({k: v for k, v in d.items() if v is not None})
    try:
        new = plan_from_dict({"site": old.site, "aps": rows}, source="AP table",
                             base_dir=old.base_dir)
        check_plan_against_site(new, a_site)
    except InputError as exc:
        return TableResult(None, str(exc), pending)
    return TableResult(new.aps, None, pending)


def esx_export(a_site: Site, p: Plan) -> bytes:
    """The Ekahau project of the site and plan (:func:`wifiplan.esx.export_esx`), made once
    per site and set of APs."""
    key = (site_key(), aps_key(p.aps))
    held = ss().get(ESX_EXPORT)
    if held is None or held[0] != key:
        held = (key, export_esx(a_site, p))
        ss()[ESX_EXPORT] = held
    return held[1]


def plan_with_aps(p: Plan, aps: list[AP]) -> Plan:
    return replace(p, aps=list(aps), metrics={})


def checked_plan(p: Plan, ap_dicts: list[dict], a_site: Site, source: str) -> Plan:
    """The plan ``p`` with the APs ``ap_dicts`` (plan-file mappings), checked as a plan file
    is (:func:`wifiplan.plan.plan_from_dict`, the site outline): InputError otherwise."""
    new = plan_from_dict({"site": p.site, "aps": ap_dicts}, source=source)
    check_plan_against_site(new, a_site)
    return plan_with_aps(p, new.aps)


def next_ap_id(p: Plan) -> str:
    """``APn`` after the highest such number in the plan."""
    import re
    numbers = [int(m.group(1)) for a in p.aps for m in [re.fullmatch(r"AP(\d+)", a.id)] if m]
    n = max(numbers, default=len(p.aps)) + 1
    while f"AP{n}" in p.ids:
        n += 1
    return f"AP{n}"


def with_ap_fields(p: Plan, a_site: Site, ap_id: str, changes: dict, source: str) -> Plan:
    """The plan with the AP ``ap_id``'s fields changed (a rename keeps BSSID, switch, port
    and cable; a move drops the cable run, which follows the position), checked by the
    library; InputError with the plan file's message otherwise."""
    rows = []
    for a in p.aps:
        d = a.to_dict()
        if a.id == ap_id:
            if any(k in changes and float(changes[k]) != d[k] for k in ("x_m", "y_m")):
                d.pop("cable_m", None)
            d.update(changes)
        rows.append(d)
    return checked_plan(p, rows, a_site, source)


def with_new_ap(p: Plan, a_site: Site, x_m: float, y_m: float, source: str) -> Plan:
    """The plan with a new AP at (x_m, y_m): the next free ``APn`` with the last AP's
    height, channel and power (or the site's mount height, its first channel, 10 dBm)."""
    last = p.aps[-1] if p.aps else None
    d = {"id": next_ap_id(p), "x_m": float(x_m), "y_m": float(y_m),
         "height_m": last.height_m if last else a_site.propagation.get("ap_height_m", 4.0),
         "channel": last.channel if last else a_site.allowed_channels()[0],
         "tx_power_dbm": last.tx_power_dbm if last else 10.0}
    return checked_plan(p, [a.to_dict() for a in p.aps] + [d], a_site, source)


def without_ap(p: Plan, ap_id: str) -> Plan:
    return plan_with_aps(p, [a for a in p.aps if a.id != ap_id])


# ---- model --------------------------------------------------------------------------

def model() -> PropagationModel | None:
    return ss().get(MODEL)


def set_model(m: PropagationModel, label: str) -> None:
    ss()[MODEL] = m
    ss()[MODEL_LABEL] = label
    ss().pop(RADIOMAP, None)
    ss().pop(REPORT, None)


def use_site_model(a_site: Site) -> None:
    """Back to the site's own propagation model (drops a calibrated one)."""
    set_model(PropagationModel.for_site(a_site),
              f"site model ({a_site.propagation.get('model')})")


def model_key(m: PropagationModel) -> str:
    return _digest(dump_yaml(m.to_dict()))


# ---- radio map ----------------------------------------------------------------------

def aps_key(aps) -> tuple:
    return tuple(tuple(sorted(a.to_dict().items())) for a in aps)


MAX_STORED_MAPS = 6                # first maps kept by the process (tabs, undo, a return)


@st.cache_resource
def _map_store() -> OrderedDict:
    """Process-wide first maps by (site, model, grid step, APs), newest last."""
    return OrderedDict()


def _stored(key):
    store = _map_store()
    rm = store.get(key)
    if rm is not None:
        store.move_to_end(key)
    return rm


def _store(key, rm) -> None:
    store = _map_store()
    store[key] = rm
    store.move_to_end(key)
    while len(store) > MAX_STORED_MAPS:
        store.popitem(last=False)


class MapPending(Exception):
    """The first map of this grid takes long: the page asks before computing it
    (:func:`estimate_map_s`, :func:`compute_map_chunk`)."""

    def __init__(self, estimate_s: float, cells: int, n_aps: int):
        super().__init__(f"about {estimate_s:.0f} s")
        self.estimate_s, self.cells, self.n_aps = estimate_s, cells, n_aps


def _keys():
    s = ss()
    a_site, p, m = site(), plan(), model()
    res = float(s.get(RESOLUTION) or default_resolution(a_site))
    base_key = (s[SITE_KEY], model_key(m), res)
    return a_site, p, m, res, base_key, base_key + (aps_key(p.aps),)


def _record_rate(elapsed_s: float, cells: int, n_aps: int) -> None:
    if cells * n_aps:
        ss()[MAP_RATE] = elapsed_s / (cells * n_aps)


def estimate_map_s() -> tuple[float, int, int]:
    """(seconds, grid cells, APs) the first map of the current grid should still take, from
    the time per cell and AP of the last layers this session computed; without one, from
    the second AP's layer on this grid (the first pays for the geometry), computed here and
    kept as the first chunk."""
    a_site, p, m, res, base_key, key = _keys()
    xs, ys = grid_axes(a_site.bounds, res, len(p.aps))
    cells, n = len(xs) * len(ys), len(p.aps)
    s = ss()
    if s.get(MAP_RATE) is None:
        rm = compute_radiomap(a_site, list(p.aps[:1]), resolution_m=res, model=m)
        if n > 1:
            t0 = time.monotonic()
            rm = rm.with_aps(list(p.aps[:2]))
            _record_rate(time.monotonic() - t0, cells, 1)
        s[PARTIAL] = (key, rm)
    done, _ = map_progress()
    return s.get(MAP_RATE, 0.0) * cells * (n - done), cells, n


def map_progress() -> tuple[int, int]:
    """(APs done, APs) of the first map of the current grid being computed in chunks."""
    _, p, _, _, _, key = _keys()
    held = ss().get(PARTIAL)
    done = len(held[1].aps) if held is not None and held[0] == key else 0
    return done, len(p.aps)


def compute_map_chunk(budget_s: float = 0.5) -> bool:
    """Add the next APs to the first map of the current grid for about ``budget_s`` [s];
    True when the map is complete (it is then the current radio map). Between two calls
    the page may stop: what is done stays for the next call."""
    a_site, p, m, res, base_key, key = _keys()
    s = ss()
    held = s.get(PARTIAL)
    rm = held[1] if held is not None and held[0] == key else None
    rate = s.get(MAP_RATE)
    done = len(rm.aps) if rm is not None else 0
    t0 = time.monotonic()
    while done < len(p.aps) and time.monotonic() - t0 < budget_s:
        cells = (len(rm.xs) * len(rm.ys)) if rm is not None else None
        step = 1 if rate is None or cells is None else max(1, int(budget_s / (rate * cells)))
        upto = min(len(p.aps), done + step)
        t1 = time.monotonic()
        first = rm is None
        rm = (compute_radiomap(a_site, list(p.aps[:upto]), resolution_m=res, model=m)
              if first else rm.with_aps(list(p.aps[:upto])))
        if not first or rate is None:      # the first chunk also pays for the geometry
            _record_rate(time.monotonic() - t1, len(rm.xs) * len(rm.ys), upto - done)
        rate = s[MAP_RATE]
        done = upto
        s[PARTIAL] = (key, rm)
    if done < len(p.aps):
        return False
    s.pop(PARTIAL, None)
    _store(key, rm)
    s[RADIOMAP] = (base_key, rm)
    return True


def radiomap(*, ask_if_long: bool = False):
    """The radio map of the current plan (None without a site or APs). An edit of the APs
    reuses the held map (:meth:`RadioMap.with_aps`: only moved or added APs); a new grid,
    site or model starts a new map, from the process's store when it was computed before.
    With ``ask_if_long``, a first map estimated over :data:`LONG_MAP_S` raises
    :class:`MapPending` instead of being computed here."""
    s = ss()
    a_site, p, m = site(), plan(), model()
    if a_site is None or p is None or not p.aps:
        return None
    a_site, p, m, res, base_key, key = _keys()
    held = s.get(RADIOMAP)
    if held is not None and held[0] == base_key:
        rm = held[1]
        if aps_key(rm.aps) != aps_key(p.aps):
            rm = rm.with_aps(list(p.aps))
            s[RADIOMAP] = (base_key, rm)
        return rm
    rm = _stored(key)
    if rm is None:
        if ask_if_long:
            est, cells, n = estimate_map_s()
            if est > LONG_MAP_S:
                raise MapPending(est, cells, n)
        with st.spinner("Computing the radio map ..."):
            while not compute_map_chunk(budget_s=3600.0):
                pass
        return s[RADIOMAP][1]
    s[RADIOMAP] = (base_key, rm)
    return rm


def radiomap_or_stop():
    """:func:`radiomap`, or the library's message and the page stopped when the grid is
    beyond what the library computes (:func:`wifiplan.radio.radiomap.grid_shape`)."""
    try:
        return radiomap()
    except InputError as exc:
        st.error(str(exc), icon=":material/error:")
        st.stop()


def evaluation(rm) -> dict | None:
    """``wifiplan.evaluation.evaluate_plan`` of the current plan on ``rm`` (None without a map)."""
    if rm is None:
        return None
    s = ss()
    key = (s[SITE_KEY], model_key(model()), rm.resolution_m, aps_key(rm.aps))
    held = s.get("evaluation")
    if held is not None and held[0] == key:
        return held[1]
    out = evaluate_plan(site(), plan(), model=model(), resolution_m=rm.resolution_m,
                           radiomap=rm)
    s["evaluation"] = (key, out)
    return out


def page_site(title: str) -> Site:
    """Title a page that needs a site; without one, point to the Site page and stop."""
    st.title(title)
    a_site = site()
    if a_site is None:
        st.info("No site loaded yet: pick a sample, upload a site YAML or import a drawing "
                "on the Site page.")
        st.page_link("wifiplan/ui/pages/site.py", label="Go to the Site page",
                     icon=":material/map:")
        st.stop()
    return a_site


def file_stem(a_site: Site) -> str:
    """A file name stem for downloads of ``a_site`` ("Production Line" -> "production-line";
    :func:`wifiplan.fileio.safe_stem`: never a path, whatever the site's name)."""
    return safe_stem(a_site.name, "site")


def upload_name(upload) -> str:
    """An upload's name as the pages show it and the readers' messages give it
    (:func:`wifiplan.fileio.shown_name`): uploads are held in memory, their names are never
    a path."""
    return shown_name(getattr(upload, "name", ""))


def uploaded_text(upload) -> str:
    """Text of an uploaded YAML file (UTF-8, with or without BOM), within the readers' size
    limit (:func:`wifiplan.fileio.read_input`); InputError otherwise."""
    raw, _ = read_input(upload, name=upload_name(upload))
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text, expected a YAML file",
                         source=upload_name(upload)) from None


def read_uploaded_survey(survey_mod, upload, *, fmt="auto", mapping=None, georef=None, site=None):
    """``read_survey`` on uploaded files (the readers take the uploads themselves); errors
    and metadata name the uploaded files, as the CLI names the same files."""
    return survey_mod.read_survey(upload, fmt=fmt, mapping=mapping, georef=georef, site=site,
                                  name=upload_name(upload))

