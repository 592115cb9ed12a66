"""What the app keeps between reruns: the site, the plan, the model, the radio map, a survey.

Everything lives in ``st.session_state`` under the keys below; the pages read and write it
only through these functions. The radio map is the expensive part: the first map of a
(site, model, APs, grid) comes from a process-wide ``st.cache_resource`` (so a second
browser tab, or a return to an earlier plan, is free), and after that every edit of the AP
table goes through :meth:`RadioMap.with_aps`, which recomputes only moved or added APs.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

import streamlit as st

from ..errors import InputError
from ..esx import export_esx
from ..evaluation import evaluate_plan
from ..fileio import dump_yaml, read_input, safe_stem, shown_name
from ..plan import AP, Plan, check_plan_against_site, plan_from_dict
from ..radio.propagation import PropagationModel
from ..radio.radiomap import compute_radiomap
from ..site import Site, site_to_yaml

RESOLUTIONS_M = (0.25, 0.5, 1.0, 2.0)
MAX_GRID_POINTS = 40_000          # default grid: the finest resolution under this many points

SITE, SITE_KEY, SITE_LABEL = "site", "site_key", "site_label"
PLAN, PLAN_VERSION = "plan", "plan_version"
MODEL, MODEL_LABEL = "model", "model_label"
RADIOMAP, RESOLUTION = "radiomap", "resolution_m"
SURVEY, CALIBRATION, BACKGROUND, REPORT = "survey", "calibration", "background", "report"
ESX_EXPORT = "esx_export"


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
    for k in (RADIOMAP, SURVEY, CALIBRATION, REPORT):
        s.pop(k, None)
    set_plan(plan if plan is not None else Plan(site=new_site.name, aps=[]))


def site_key() -> str:
    """A digest of the current site (changes with every edit)."""
    return ss().get(SITE_KEY, "")


def update_site(new_site: Site) -> None:
    """Replace the current site by an edited version of it (zone requirements): the plan,
    model and survey stay; the maps and reports judged on the old one go."""
    s = ss()
    s[SITE] = new_site
    s[SITE_KEY] = _digest(site_to_yaml(new_site))
    for k in (RADIOMAP, REPORT):
        s.pop(k, None)


def default_resolution(a_site: Site) -> float:
    minx, miny, maxx, maxy = a_site.bounds
    for r in RESOLUTIONS_M:
        if (maxx - minx) / r * (maxy - miny) / r <= MAX_GRID_POINTS:
            return r
    return RESOLUTIONS_M[-1]


# ---- plan ---------------------------------------------------------------------------

def plan() -> Plan | None:
    return ss().get(PLAN)


def set_plan(new_plan: Plan, *, edited: bool = False) -> None:
    """Make ``new_plan`` current. A plan from outside (planner, file) resets the AP table;
    an ``edited`` one came from the table itself and leaves the table as it is."""
    s = ss()
    s[PLAN] = new_plan
    if not edited:
        s[PLAN_VERSION] = s.get(PLAN_VERSION, 0) + 1
    s.pop(REPORT, None)


AP_COLUMNS = ["id", "x_m", "y_m", "height_m", "channel", "tx_power_dbm", "locked"]


def ap_table(p: Plan):
    """The editable AP table of a plan (one row per AP)."""
    import pandas as pd
    return pd.DataFrame([{c: getattr(a, c) for c in AP_COLUMNS} for a in p.aps],
                        columns=AP_COLUMNS).astype({"id": "string", "x_m": float, "y_m": float,
                                                    "height_m": float, "channel": "Int64",
                                                    "tx_power_dbm": float, "locked": "boolean"})


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
    the fields the table does not show (BSSID, switch, port).
    """
    import re

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
    rows, pending = [], []
    for i, r in enumerate(df.to_dict("records")):
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
        prev = by_id.get(d["id"])
        if prev is not None:           # keep what the table does not show (BSSID, switch, port)
            keep = prev.to_dict()
            if (d["x_m"], d["y_m"]) != (keep["x_m"], keep["y_m"]):
                keep.pop("cable_m", None)      # the cable run changes with the position
            keep.update(d)
            d = keep
        rows.append(d)
    try:
        new = plan_from_dict({"site": old.site, "aps": rows}, source="AP table")
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


@st.cache_resource(max_entries=6, show_spinner="Computing the radio map ...")
def _first_radiomap(site_key: str, model_key_: str, resolution_m: float, aps_key_: tuple,
                    _site: Site, _model: PropagationModel, _aps: list[AP]):
    return compute_radiomap(_site, list(_aps), resolution_m=resolution_m, model=_model)


def radiomap():
    """The radio map of the current plan (None without a site or APs)."""
    s = ss()
    a_site, p, m = site(), plan(), model()
    if a_site is None or p is None or not p.aps:
        return None
    res = float(s.get(RESOLUTION) or default_resolution(a_site))
    base_key = (s[SITE_KEY], model_key(m), res)
    held = s.get(RADIOMAP)
    if held is not None and held[0] == base_key:
        rm = held[1]
        if aps_key(rm.aps) != aps_key(p.aps):
            rm = rm.with_aps(list(p.aps))
            s[RADIOMAP] = (base_key, rm)
        return rm
    rm = _first_radiomap(s[SITE_KEY], base_key[1], res, aps_key(p.aps), a_site, m, list(p.aps))
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

