"""Plan page: run the planner, look at the maps, edit the APs by hand, download the plan."""
from __future__ import annotations

from dataclasses import replace

import streamlit as st

from wifiplan import planning
from wifiplan.errors import InputError
from wifiplan.evaluation import plan_violations
from wifiplan.plan import AP_HEIGHT_RANGE_M, TX_POWER_RANGE_DBM, parse_plan, plan_to_yaml
from wifiplan.rules import (BOUNDARY_BAND_DBM, BOUNDARY_BAND_TEXT, BOUNDARY_WITHIN_DB,
                           DEFAULT_MIN_RSSI_DBM, MIN_RSSI_RANGE_DBM, NOISE_FLOOR_DBM,
                           ROAM_THRESHOLD_DBM)
from wifiplan.radio.propagation import PROPAGATION_DEFAULTS
from wifiplan.ui import figures, state
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
            capacity = c2[1].checkbox("Respect cell capacity (airtime)", value=False,
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
    """The editable AP table; returns the plan after the edits (or the old one on error)."""
    version = st.session_state.get(state.PLAN_VERSION, 0)
    key = f"ap_editor_{version}"
    if key not in st.session_state or st.session_state.get("ap_base_version") != version:
        st.session_state["ap_base"] = state.ap_table(plan)
        st.session_state["ap_base_version"] = version
    minx, miny, maxx, maxy = site.bounds
    channels = sorted(set(site.allowed_channels()) | {a.channel for a in plan.aps})
    edited = st.data_editor(
        st.session_state["ap_base"], key=key, num_rows="dynamic", hide_index=True,
        width="stretch",
        column_config={
            "id": st.column_config.TextColumn("AP", help="Unique name; empty: next free APn"),
            "x_m": st.column_config.NumberColumn("x [m]", min_value=minx, max_value=maxx,
                                                 step=0.1, format="%.1f"),
            "y_m": st.column_config.NumberColumn("y [m]", min_value=miny, max_value=maxy,
                                                 step=0.1, format="%.1f"),
            "height_m": st.column_config.NumberColumn("height [m]",
                                                      min_value=AP_HEIGHT_RANGE_M[0],
                                                      max_value=AP_HEIGHT_RANGE_M[1], step=0.1,
                                                      format="%.1f"),
            "channel": st.column_config.SelectboxColumn("channel", options=channels),
            "tx_power_dbm": st.column_config.NumberColumn("power [dBm]",
                                                          min_value=TX_POWER_RANGE_DBM[0],
                                                          max_value=TX_POWER_RANGE_DBM[1],
                                                          step=0.5, format="%.1f"),
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
        state.set_plan(plan, edited=True)
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
    for zone, why in (ev.get("boundary_band_conflicts") or {}).items():
        st.caption(f"Zone {zone}: {why} (its boundaries are not judged).")
    uncovered = ev.get("uncovered_zones") or []
    if uncovered:
        names = [u if isinstance(u, str) else u.get("name", str(u)) for u in uncovered]
        st.warning(f"Zones below their minimum RSSI: {', '.join(map(str, names))}",
                   icon=":material/signal_wifi_bad:")


def map_controls(site) -> str:
    """Map kind and grid step; a new grid step drops the held radio map."""
    c1, c2 = st.columns([3, 1])
    kind = c1.segmented_control("Map", list(figures.MAP_KINDS),
                                format_func=figures.MAP_KINDS.get, default="rssi",
                                key="plan_map_kind") or "rssi"
    current = st.session_state.get(state.RESOLUTION) or state.default_resolution(site)
    res = c2.selectbox("Grid [m]", state.RESOLUTIONS_M, key="plan_resolution",
                       index=state.RESOLUTIONS_M.index(current))
    st.session_state[state.RESOLUTION] = res
    return kind


def show_map(rm, site, kind: str) -> None:
    bg = st.session_state.get(state.BACKGROUND)
    held = st.session_state.get("plan_map_figure")
    if held is not None and held[0] is rm and held[1] == kind and held[2] is bg:
        fig = held[3]                  # a rerun that changed nothing on the map
    else:
        fig = figures.radiomap_figure(rm, kind, background=bg)
        st.session_state["plan_map_figure"] = (rm, kind, bg, fig)
    st.plotly_chart(fig, width="stretch", key="plan_map",
                    config={"scrollZoom": True, "displaylogo": False})
    notes = {"rssi": f"Contours: {DEFAULT_MIN_RSSI_DBM:g} dBm solid black, "
                     f"{ROAM_THRESHOLD_DBM:g} dBm dashed white. ",
             "channel": "Colour: the channel of the best server; dark lines: cell borders. ",
             "boundary": f"Boundary: best and second server within {BOUNDARY_WITHIN_DB:g} dB; "
                         f"the seed wants it between {BOUNDARY_BAND_DBM[1]:g} and "
                         f"{BOUNDARY_BAND_DBM[0]:g} dBm. ",
             "sinr": f"SINR of the best server over same-channel APs and the "
                     f"{NOISE_FLOOR_DBM:g} dBm noise floor. "}
    st.caption(f"{site.name}: {len(rm.aps)} APs, {rm.resolution_m:g} m grid, "
               f"{st.session_state.get(state.MODEL_LABEL, '')}. {notes[kind]}Hover a point "
               "for the best and second server; scroll to zoom, drag to pan, double-click to "
               "reset.")


site = state.page_site("Plan")
controls = st.container()          # filled after the table, which may change the plan
top = st.container()
st.subheader("Access points")
st.caption("Edit a cell to move an AP, change its channel or power, or lock it; add a row to "
           "place a new AP, select rows and delete them to remove APs.")
plan = ap_editor(site, state.plan())
with controls:
    planner_form(site, plan)
    open_plan(site)

with top:
    if not plan.aps:
        st.info("No APs yet: run the planner, open a plan file or add rows to the table.")
        st.plotly_chart(figures.site_figure(site, background=st.session_state.get(
            state.BACKGROUND)), width="stretch", key="plan_site_only")
    else:
        kind = map_controls(site)
        rm = state.radiomap_or_stop()
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
