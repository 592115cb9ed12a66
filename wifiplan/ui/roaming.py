"""The Roaming section of the Plan page: terminals walking the site's routes past the current
plan (:func:`wifiplan.roaming.simulate_roaming`), its table, the route overlay and the RSSI
timeline. The section computes nothing itself; it holds the library's report for the
current site, model, APs and terminal settings."""
from __future__ import annotations

import streamlit as st

from ..errors import InputError
from ..roaming import TerminalModel, simulate_roaming
from ..roaming.figures import route_overlay_figure, timeline_figure
from ..roaming.model import ROUTE_COLUMNS, routes_frame
from ..rules import ROAM_THRESHOLD_DBM
from . import state

HELD = "roaming_report"


def _key(site, plan, terminal: TerminalModel) -> tuple:
    return (st.session_state.get(state.SITE_KEY), state.model_key(state.model()),
            state.aps_key(plan.aps), terminal)


def show_roaming(site, plan) -> None:
    st.subheader("Roaming")
    source = ("the site's routes" if site.routes else
              "walks generated along the longest free aisle of each zone")
    st.caption(f"Terminals walk {source}: each stays on its AP down to "
               f"{ROAM_THRESHOLD_DBM:g} dBm (seed 8.1.3.5), then scans and roams to an AP "
               "stronger by the hysteresis. Figures as in the log analysis: roams, ping-pong "
               "roams (A -> B -> A within 10 s), time below the threshold, the longest outage "
               "and the resend queue each terminal needs for it.")
    c = st.columns([1, 1, 1, 1])
    hyst = c[0].number_input("Hysteresis [dB]", 0.0, 30.0, TerminalModel().hysteresis_db,
                             step=1.0, key="roam_hysteresis")
    ft = c[1].checkbox("802.11r (fast transition)", value=True, key="roam_11r")
    nr = c[2].checkbox("802.11k (neighbour report)", value=True, key="roam_11k")
    run = c[3].button("Simulate walks", key="roam_run", icon=":material/directions_walk:")
    terminal = TerminalModel(hysteresis_db=float(hyst), fast_transition=bool(ft),
                             neighbor_report=bool(nr))
    key = _key(site, plan, terminal)
    held = st.session_state.get(HELD)
    if run:
        try:
            with st.spinner("Walking the routes ..."):
                report = simulate_roaming(site, plan.aps, model=state.model(),
                                          terminal=terminal)
        except InputError as exc:
            st.error(str(exc), icon=":material/error:")
            return
        st.session_state[HELD] = held = (key, report)
    if held is None:
        st.caption("Simulate the walks to see the roams along the routes.")
        return
    if held[0] != key:
        st.caption("The plan or the settings changed since the last walk: simulate again.")
        return
    report = held[1]
    s = report["summary"]
    m = st.columns(5)
    m[0].metric("Routes", s["routes"])
    m[1].metric("Roams", s["roams"])
    m[2].metric("Ping-pong roams", s["ping_pong_roams"])
    m[3].metric(f"Below {ROAM_THRESHOLD_DBM:g} dBm", f"{s['seconds_below_70_dbm']:g} s")
    m[4].metric("Longest outage", f"{s['longest_outage_s']:g} s")
    st.dataframe(routes_frame(report).rename(columns=ROUTE_COLUMNS), hide_index=True,
                 key="roam_table")
    q = ", ".join(f"{t}: {v['bytes']:,} bytes ({v['packets']} packets)"
                  for t, v in s["resend_queue"].items())
    st.caption(f"Resend queue for the longest outage ({s['longest_outage_s']:g} s), by terminal "
               f"type: {q}.")
    if not report["routes"]:
        return
    st.pyplot(route_overlay_figure(site, plan.aps, report), clear_figure=False)
    names = [r["name"] for r in report["routes"]]
    pick = st.selectbox("Timeline of route", names, key="roam_route")
    st.pyplot(timeline_figure(report, routes=[pick], aps=plan.aps), clear_figure=False)
