"""Plan page: run the planner, look at the maps, edit the APs by hand, download the plan."""
from __future__ import annotations

from dataclasses import replace

import streamlit as st

from wifiplan import planning
from wifiplan.apmodels import DEFAULT_MODEL, MODELS as AP_MODELS
from wifiplan.errors import InputError
from wifiplan.evaluation import plan_violations, unmet_requirements
from wifiplan.requirements import band_conflict_lines
from wifiplan.plan import parse_plan, plan_to_yaml
from wifiplan.rules import (BOUNDARY_BAND_DBM, BOUNDARY_BAND_TEXT, BOUNDARY_WITHIN_DB,
                           DEFAULT_MIN_RSSI_DBM, MIN_RSSI_RANGE_DBM, NOISE_FLOOR_DBM,
                           ROAM_THRESHOLD_DBM)
from wifiplan.radio.antenna import BUILTIN as BUILTIN_ANTENNAS
from wifiplan.radio.propagation import PROPAGATION_DEFAULTS
from wifiplan.ui import editor, figures, state
from wifiplan.ui.roaming import show_roaming


def planner_form(site, plan) -> None:
    allowed = site.allowed_channels()
    locked = [a.id for a in plan.aps if a.locked]
    with st.expander("Planner", expanded=not plan.aps, icon=":material/auto_fix_high:"):
        with st.form("planner_form", border=False):
            c = st.columns([1, 2, 1])
            zone_min = ", ".join(f"{z.name} {z.min_rssi_dbm:g}" for z in site.zones)
            min_rssi = c[0].number_input("Minimum RSSI [dBm]", *MIN_RSSI_RANGE_DBM, value=None,
                                         step=1.0, key="plan_min_rssi",
                                         placeholder="each zone's own",
                                         help="Empty: every zone keeps its own requirement ("
                                              + (zone_min or f"{DEFAULT_MIN_RSSI_DBM:g}")
                                              + " dBm). A value replaces them all, as the "
                                              "CLI's --min-rssi does.")
            channels = c[1].multiselect("Channels", allowed, default=allowed, key="plan_channels",
                                        help=f"Allowed in domain {site.regulatory_domain} "
                                             "(non-DFS, 20 MHz).")
            count = c[2].number_input("AP count (0 = as needed)", 0, 500, 0, key="plan_count")
            c2 = st.columns(2)
            keep = c2[0].checkbox("Keep the locked APs", value=True, key="plan_keep_locked",
                                  help="Lock APs in the table; the planner leaves them where "
                                       "they are and plans around them. Locked now: "
                                       + (", ".join(locked) or "none") + ".")
            capacity = c2[1].checkbox("Respect cell capacity (airtime)", value=True,
                                      key="plan_capacity")
            run = st.form_submit_button("Run planner", type="primary")
        if run:
            if not channels:
                st.error("Pick at least one channel.", icon=":material/error:")
                return
            try:
                with st.spinner(f"Planning {site.name} ..."):
                    new = planning.plan_site(
                        site, aps=int(count) or None,
                        min_rssi_dbm=None if min_rssi is None else float(min_rssi),
                        channels=[int(c) for c in channels], model=state.model(),
                        existing=plan if keep and locked else None,
                        respect_capacity=bool(capacity))
            except InputError as exc:
                st.error(str(exc), icon=":material/error:")
                return
            state.set_plan(new)
            st.toast(f"Planned {len(new.aps)} APs")
            st.rerun()


def open_plan(site) -> None:
    with st.expander("Open a plan file", icon=":material/upload_file:"):
        up = st.file_uploader("Plan YAML", type=["yaml", "yml"], key="plan_upload")
        if up is None or st.session_state.get("plan_upload_done") == up.file_id:
            return
        try:
            p = parse_plan(state.uploaded_text(up), source=state.upload_name(up), site=site)
        except InputError as exc:
            st.error(str(exc), icon=":material/error:")
            return
        st.session_state["plan_upload_done"] = up.file_id
        state.set_plan(p)
        st.toast(f"Opened {state.upload_name(up)}: {len(p.aps)} APs")
        st.rerun()


def ap_editor(site, plan):
    """The editable AP table; returns the plan after the edits (or the old one on error).

    The columns take any number: the library's checks (the plan file's ranges, the site
    outline) refuse what is out of range with the CLI's message under the table, rather
    than the grid clamping or dropping the value without a word."""
    version = st.session_state.get(state.PLAN_VERSION, 0)
    key = f"ap_editor_{version}"
    sel = state.selection()
    if key not in st.session_state or st.session_state.get("ap_base_version") != version:
        st.session_state["ap_base"] = state.ap_table(
            plan, sel[1] if sel is not None and sel[0] == "aps" else None)
        st.session_state["ap_base_version"] = version
    channels = sorted(set(site.allowed_channels()) | {a.channel for a in plan.aps})
    edited = st.data_editor(
        st.session_state["ap_base"], key=key, num_rows="dynamic", hide_index=True,
        width="stretch", disabled=["sel"],
        column_config={
            "sel": st.column_config.TextColumn("", width=28,
                                               help=f"{state.SELECTED_MARK}: selected on the map"),
            "id": st.column_config.TextColumn("AP", help="Unique name; empty: next free APn"),
            "x_m": st.column_config.NumberColumn("x [m]", step=0.1, format="%.1f"),
            "y_m": st.column_config.NumberColumn("y [m]", step=0.1, format="%.1f"),
            "height_m": st.column_config.NumberColumn("height [m]", step=0.1, format="%.1f"),
            "channel": st.column_config.SelectboxColumn("channel", options=channels),
            "tx_power_dbm": st.column_config.NumberColumn("power [dBm]", step=0.5,
                                                          format="%.1f"),
            "model": st.column_config.SelectboxColumn(
                "model", options=list(AP_MODELS),
                help="AP model (radio power, antenna, PoE class); empty: "
                     f"{DEFAULT_MODEL} with the site's antenna gain"),
            "antenna": st.column_config.SelectboxColumn(
                "antenna", options=sorted(set(BUILTIN_ANTENNAS)
                                          | {a.antenna for a in plan.aps if a.antenna}),
                help="Antenna pattern (a model with antenna connectors, or no model); "
                     "empty: the model's own"),
            "azimuth_deg": st.column_config.NumberColumn(
                "azimuth [°]", step=5.0, format="%.0f",
                help="Where the antenna points: 0 = +x, counter-clockwise"),
            "tilt_deg": st.column_config.NumberColumn(
                "tilt [°]", step=1.0, format="%.0f",
                help="Down-tilt below the horizontal, 90 = facing the floor; empty: the "
                     "pattern's own"),
            "locked": st.column_config.CheckboxColumn("locked",
                                                      help="The planner keeps locked APs")})
    res = state.aps_from_table(edited, st.session_state["ap_base"], plan, site)
    if res.pending:
        st.info(f"New row {', '.join(map(str, res.pending))}: enter x and y to place the AP.",
                icon=":material/edit:")
    if res.error:
        st.error(res.error, icon=":material/error:")
        return plan
    if state.aps_key(res.aps) != state.aps_key(plan.aps):
        plan = state.plan_with_aps(plan, res.aps)
        state.edit("edit the AP table", new_plan=plan, from_table=True)
    # the library's rules (DFS or forbidden channel, width, EIRP over the domain's limit),
    # said as soon as the table holds them
    m = state.model()
    gain = m.ap_gain_dbi if m is not None else site.propagation.get(
        "ap_gain_dbi", PROPAGATION_DEFAULTS["ap_gain_dbi"])
    for v in plan_violations(site, plan.aps, gain):
        st.warning(v, icon=":material/gpp_maybe:")
    return plan


def _pct(v):
    return "–" if v is None else f"{100 * float(v):.1f} %"


def _db(v):
    return "–" if v is None else ("∞" if float(v) == float("inf") else f"{float(v):.1f} dB")


def show_metrics(ev: dict | None) -> None:
    if ev is None:
        st.caption("Plan metrics need wifiplan.evaluation, which is not part of this build.")
        return
    c = st.columns(5)
    c[0].metric("APs", ev.get("ap_count"))
    c[1].metric("Primary coverage", _pct(ev.get("primary_coverage")),
                help="Share of the zones' area at or above their minimum RSSI.")
    c[2].metric("Secondary coverage", _pct(ev.get("secondary_coverage")),
                help="Share of the zones where a second AP is heard at the minimum RSSI "
                     "(roaming).")
    c[3].metric(f"Boundary in {BOUNDARY_BAND_TEXT}", _pct(ev.get("boundary_band_share")),
                help="Share of the cell boundary where best and second server meet between "
                     f"{BOUNDARY_BAND_DBM[1]:g} and {BOUNDARY_BAND_DBM[0]:g} dBm (seed 8.1.3.5), "
                     "in the zones the band applies to.")
    c[4].metric("Co-channel sep. (p5)", _db(ev.get("co_channel_separation_p5_db")),
                help="5th percentile of best server minus the strongest same-channel AP; "
                     "target >= 19 dB.")
    for line in band_conflict_lines(ev.get("boundary_band_conflicts") or {}):
        whose = "their" if line.startswith("zones") else "its"
        st.caption(f"{line[0].upper()}{line[1:]} ({whose} boundaries are not judged).")
    for zone, missed in unmet_requirements(ev).items():
        st.caption(f"Zone {zone} misses: {'; '.join(missed)}.")
    uncovered = ev.get("uncovered_zones") or []
    if uncovered:
        names = [u if isinstance(u, str) else u.get("name", str(u)) for u in uncovered]
        st.warning(f"Zones below their minimum RSSI: {', '.join(map(str, names))}",
                   icon=":material/signal_wifi_bad:")


def _keep_grid(previous: float) -> None:
    """Stop: back to the grid step the held map has."""
    st.session_state["plan_resolution"] = previous
    st.session_state[state.RESOLUTION] = previous


def map_controls(site) -> str:
    """Map kind and grid step; a new grid step drops the held radio map."""
    c1, c2 = st.columns([3, 1])
    kind = c1.segmented_control("Map", list(figures.MAP_KINDS),
                                format_func=figures.MAP_KINDS.get, default="rssi",
                                key="plan_map_kind") or "rssi"
    current = st.session_state.get(state.RESOLUTION) or state.default_resolution(site)
    res = c2.selectbox("Grid [m]", state.RESOLUTIONS_M, key="plan_resolution",
                       index=state.RESOLUTIONS_M.index(current))
    if res != current:
        held = st.session_state.get(state.RADIOMAP)
        st.session_state["plan_previous_resolution"] = (held[0][2] if held is not None
                                                        else current)
    st.session_state[state.RESOLUTION] = res
    return kind


def long_map(pending) -> None:
    """A first map that takes long: its estimate, then AP by AP with a progress bar and a
    Stop button (the page stops between two chunks; what is done is kept)."""
    previous = st.session_state.get("plan_previous_resolution")
    res = st.session_state.get(state.RESOLUTION)
    done, total = state.map_progress()
    st.warning(f"A {res:g} m grid is {pending.cells:,} points for {pending.n_aps} APs: about "
               f"{pending.estimate_s:.0f} s to compute"
               + (f" ({done} of {total} APs done)." if done else "."),
               icon=":material/hourglass_top:")
    c = st.columns([1, 1, 3])
    go = c[0].button("Compute the map", type="primary", key="map_compute")
    if previous is not None and previous != res:
        c[1].button(f"Stop, keep {previous:g} m", key="map_stop", on_click=_keep_grid,
                    args=(previous,), icon=":material/stop:")
    if not (go or st.session_state.get("map_computing")):
        st.stop()
    st.session_state["map_computing"] = True
    bar = st.progress(done / max(total, 1), text=f"Radio map: {done} of {total} APs")
    try:
        while not state.compute_map_chunk():
            done, total = state.map_progress()
            bar.progress(done / max(total, 1), text=f"Radio map: {done} of {total} APs")
    finally:
        st.session_state["map_computing"] = False
    st.rerun()


def show_map(rm, site, kind: str) -> None:
    bg = st.session_state.get(state.BACKGROUND)
    sel, drawing = state.selection(), tuple(map(tuple, editor.drawing()))
    ap_id = state.last_ap() or rm.aps[0].id
    if editor.tool() == "drag":
        editor.drag_canvas(site, rm.aps, rm, kind, ap_id if kind == "ap" else None)
        st.caption(f"{site.name}: {len(rm.aps)} APs, {rm.resolution_m:g} m grid. "
                   f"{figures.MAP_KINDS[kind]}; circles: the APs in their channel's colour "
                   "(a locked AP does not move).")
        return
    token = (kind, sel, drawing, editor.drawing_closed(), ap_id if kind == "ap" else None)
    held = st.session_state.get("plan_map_figure")
    if held is not None and held[0] is rm and held[1] == token and held[2] is bg:
        fig = held[3]                  # a rerun that changed nothing on the map
    else:
        fig = figures.radiomap_figure(rm, kind, background=bg, selected=sel,
                                      drawing=editor.drawing(),
                                      closed=editor.drawing_closed(), ap_id=ap_id)
        st.session_state["plan_map_figure"] = (rm, token, bg, fig)
    editor.chart(fig, "plan_map")
    notes = {"rssi": f"Contours: {DEFAULT_MIN_RSSI_DBM:g} dBm solid black, "
                     f"{ROAM_THRESHOLD_DBM:g} dBm dashed white. ",
             "channel": "Colour: the channel of the best server; dark lines: cell borders. ",
             "boundary": f"Boundary: best and second server within {BOUNDARY_WITHIN_DB:g} dB; "
                         f"the seed wants it between {BOUNDARY_BAND_DBM[1]:g} and "
                         f"{BOUNDARY_BAND_DBM[0]:g} dBm. ",
             "secondary": f"Colour: the second-strongest AP where it reaches "
                          f"{ROAM_THRESHOLD_DBM:g} dBm, the level below which a terminal "
                          "re-scans and roams (grey: no second AP there). ",
             "sinr": f"SINR of the best server over same-channel APs and the "
                     f"{NOISE_FLOOR_DBM:g} dBm noise floor. ",
             "ap": f"The received power of {ap_id} alone (the AP selected last): a wall's "
                   "shadow shows here even where another AP fills it on the best-server map. "}
    st.caption(f"{site.name}: {len(rm.aps)} APs, {rm.resolution_m:g} m grid, "
               f"{st.session_state.get(state.MODEL_LABEL, '')}. {notes[kind]}Hover a point "
               "for the best and second server; scroll to zoom, drag to pan, double-click to "
               "reset.")


site = state.page_site("Plan")
controls = st.container()          # filled after the table, which may change the plan
top = st.container()
st.subheader("Access points")
st.caption("Edit a cell to move an AP, change its channel or power, or lock it; add a row to "
           "place a new AP, select rows and delete them to remove APs. The AP selected on "
           f"the map is marked {state.SELECTED_MARK}.")
plan = ap_editor(site, state.plan())
with controls:
    planner_form(site, plan)
    open_plan(site)

with top:
    editor.toolbar(site, plan)
    editor.ap_properties(site, plan)
    if not plan.aps:
        st.info("No APs yet: run the planner, open a plan file, add rows to the table or "
                "click the map with Add AP.")
        if editor.tool() == "drag":
            editor.drag_canvas(site, [])
        else:
            editor.chart(figures.site_figure(
                site, background=st.session_state.get(state.BACKGROUND),
                selected=state.selection(), drawing=editor.drawing(),
                closed=editor.drawing_closed(), click_grid=True), "plan_site_only")
    else:
        kind = map_controls(site)
        try:
            rm = state.radiomap(ask_if_long=True)
        except state.MapPending as pending:
            long_map(pending)
        except InputError as exc:
            st.error(str(exc), icon=":material/error:")
            st.stop()
        ev = state.evaluation(rm)
        show_metrics(ev)
        show_map(rm, site, kind)
        out = replace(plan, metrics=ev or {})
        c1, c2 = st.columns(2)
        c1.download_button("Download plan YAML", plan_to_yaml(out),
                           file_name=f"{state.file_stem(site)}.plan.yaml",
                           mime="application/x-yaml", key="download_plan", on_click="ignore",
                           icon=":material/download:")
        c2.download_button("Export .esx", state.esx_export(site, plan),
                           file_name=f"{state.file_stem(site)}.esx",
                           mime="application/zip", key="download_esx", on_click="ignore",
                           icon=":material/download:",
                           help="The site and this plan as an Ekahau project (one floor, the "
                                "APs with one 5 GHz radio each).")

if plan.aps:
    show_roaming(site, plan)
