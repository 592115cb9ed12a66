"""Survey page: upload a survey, see rejected rows and findings, compare maps, calibrate."""
from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

import wifiplan.survey as survey_mod
from wifiplan.errors import InputError
from wifiplan.fileio import dump_yaml
from wifiplan.ui import figures, state

FORMATS = ["auto", "native", "wigle", "wide", "mapped"]


def upload_survey(site, plan, survey_mod) -> dict | None:
    """The survey held in the session (read again when a new file is uploaded)."""
    c1, c2 = st.columns([3, 2])
    up = c1.file_uploader("Survey file", type=["csv", "txt", "tsv"], key="survey_upload",
                          help="Native CSV (x_m,y_m,bssid,ssid,channel,rssi_dbm), WiGLE export, "
                               "wide file with one column per AP, or any CSV with a mapping. "
                               "UTF-8, UTF-8 with BOM or Shift_JIS.")
    fmt = c2.selectbox("Format", FORMATS, key="survey_format")
    with c2.popover("Mapping / georeference", icon=":material/tune:"):
        mapping = st.file_uploader("Column or AP-column mapping (YAML)", type=["yaml", "yml"],
                                   key="survey_mapping")
        georef = st.file_uploader("Georeference for WiGLE (YAML or CSV)",
                                  type=["yaml", "yml", "csv"], key="survey_georef")
    held = st.session_state.get(state.SURVEY)
    if up is None:
        return held
    shown = state.upload_name(up)
    token = (up.file_id, fmt, mapping.file_id if mapping else None,
             georef.file_id if georef else None)
    if held is not None and held["token"] == token:
        return held
    try:
        with st.spinner(f"Reading {shown} ..."):
            frame, meta = state.read_uploaded_survey(survey_mod, up, fmt=fmt, mapping=mapping,
                                                     georef=georef, site=site)
    except InputError as exc:
        st.error(str(exc), icon=":material/error:")
        return None
    held = {"token": token, "name": shown, "bytes": up.getvalue(), "frame": frame,
            "meta": meta}
    st.session_state[state.SURVEY] = held
    st.session_state.pop(state.CALIBRATION, None)
    return held


def matched(site, plan, survey, survey_mod):
    """The survey matched to the plan once (the library's MatchedSurvey), for the findings,
    the maps and the calibration alike."""
    key = (survey["token"], state.aps_key(plan.aps), state.model_key(state.model()))
    cached = survey.get("matched")
    if cached is None or cached[0] != key:
        with st.spinner("Matching the survey to the plan ..."):
            ms = survey_mod.match_survey(site, plan, survey["frame"], model=state.model())
        survey["matched"] = cached = (key, ms)
    return cached[1]


def findings(site, plan, survey, survey_mod) -> dict:
    key = (survey["token"], state.aps_key(plan.aps), state.model_key(state.model()))
    cached = survey.get("check")
    if cached is None or cached[0] != key:
        doc = survey_mod.check_survey(site, plan, matched(site, plan, survey, survey_mod),
                                      survey["meta"])
        survey["check"] = cached = (key, doc)
    return cached[1]


def show_summary(doc: dict, meta) -> None:
    s = doc["summary"]
    cov = s["coverage"]
    c = st.columns(6)
    c[0].metric("Points", s["points"])
    c[1].metric("Measurements", s["measurements"])
    c[2].metric("BSSIDs matched", f"{s['bssids_matched']} / {s['bssids_heard']}",
                help=f"{s['bssids_proposed']} proposed from the measurements, "
                     f"{s['bssids_foreign']} foreign")
    c[3].metric("Points meeting the requirement", f"{cov['points_ok']} / {cov['points_total']}",
                help=cov["rule"])
    c[4].metric("Errors", s["counts"]["error"])
    c[5].metric("Warnings", s["counts"]["warning"])
    notes = list(getattr(meta, "notes", []) or [])
    st.caption(f"{meta.format} survey, {meta.encoding}, {meta.n_rows} rows, {meta.n_used} used"
               + (f"; {s['aggregation']}" if s.get("aggregation") else "")
               + (f"; our SSID {', '.join(s['our_ssids'])}" if s.get("our_ssids") else "")
               + ("".join(f"; {n}" for n in notes)))
    rejected = doc["rejected_rows"]
    with st.expander(f"Rejected rows ({len(rejected)})", expanded=bool(rejected) and
                     len(rejected) <= 20, icon=":material/block:"):
        if rejected:
            st.dataframe(pd.DataFrame(rejected), hide_index=True, width="stretch",
                         key="rejected_table")
        else:
            st.write("Every row of the file was usable.")


def show_findings(doc: dict, severities: dict) -> pd.DataFrame:
    rows = pd.DataFrame(doc["findings"])
    st.subheader("Findings")
    if rows.empty:
        st.success("No findings: the survey matches the plan.", icon=":material/check_circle:")
        return rows
    rows["who"] = rows.get("ap_id", pd.Series(index=rows.index, dtype=object)).fillna(
        rows.get("bssid", pd.Series(index=rows.index, dtype=object))).fillna("")
    c1, c2, c3 = st.columns([2, 3, 2])
    sev = c1.multiselect("Severity", list(severities), default=[s for s in ("error", "warning")
                                                              if s in set(rows["severity"])],
                         key="finding_severity", help="; ".join(f"{k}: {v}" for k, v in
                                                               severities.items()))
    kinds = sorted(rows["kind"].unique())
    kind = c2.multiselect("Kind", kinds, default=[], key="finding_kind",
                          placeholder="all kinds")
    who = c3.text_input("AP or BSSID contains", key="finding_who")
    sel = rows["severity"].isin(sev or list(severities))
    if kind:
        sel &= rows["kind"].isin(kind)
    if who:
        sel &= rows["who"].astype(str).str.contains(who, case=False, regex=False)
    shown = rows[sel]
    cols = [c for c in ("severity", "kind", "who", "x_m", "y_m", "detail") if c in shown]
    st.dataframe(shown[cols], hide_index=True, width="stretch", key="findings_table",
                 column_config={"who": "AP / BSSID",
                                "detail": st.column_config.TextColumn("detail", width="large"),
                                "x_m": st.column_config.NumberColumn(
                     "x [m]", format="%.1f"), "y_m": st.column_config.NumberColumn(
                     "y [m]", format="%.1f")})
    st.caption(f"{len(shown)} of {len(rows)} findings shown.")
    return shown


def show_maps(site, plan, survey, survey_mod, shown: pd.DataFrame) -> None:
    rm = state.radiomap_or_stop()
    if rm is None:
        return
    # the library's maps: our APs only (BSSIDs matched to the plan), on the radio map's grid
    ms = matched(site, plan, survey, survey_mod)
    maps = survey_mod.survey_maps(site, plan, ms, rm.resolution_m, radiomap=rm)
    measured, predicted, residual = maps["measured"], maps["predicted"], maps["residual"]
    st.subheader("Measured, predicted and residual")
    kind = st.segmented_control("Map", ["Measured", "Predicted", "Residual"], default="Measured",
                                key="survey_map_kind") or "Measured"
    bg = st.session_state.get(state.BACKGROUND)
    if kind == "Measured":
        fig = figures.grid_figure(site, measured.xs, measured.ys, measured.values,
                                  title=None, colorbar="measured dBm", zmin=-90, zmax=-30,
                                  aps=plan.aps, background=bg)
    elif kind == "Predicted":
        fig = figures.grid_figure(site, predicted.xs, predicted.ys, predicted.values,
                                  title=None, colorbar="predicted dBm", zmin=-90, zmax=-30,
                                  aps=plan.aps, background=bg)
    else:
        fig = figures.grid_figure(site, residual.xs, residual.ys, residual.values, title=None,
                                  colorbar="meas. − pred. dB", zmin=-15, zmax=15,
                                  colorscale="RdBu", aps=plan.aps, background=bg,
                                  hover_unit="dB")
    pts = survey_mod.measured.best_per_point(ms.frame)       # the plan's APs only
    figures.add_points(fig, pts["x_m"], pts["y_m"],
                       [f"survey point ({x:.1f}, {y:.1f}) m: best {r:.0f} dBm"
                        for x, y, r in pts[["x_m", "y_m", "rssi_dbm"]].itertuples(index=False)],
                       name="survey points")
    if len(shown) and "x_m" in shown:
        at = shown[shown["x_m"].notna()]
        figures.add_findings(fig, at)
    st.plotly_chart(fig, width="stretch", key="survey_map",
                    config={"scrollZoom": True, "displaylogo": False})
    r = residual.values[np.isfinite(residual.values)]
    if len(r):
        st.caption(f"Residual over {len(r)} grid cells near survey points: median "
                   f"{np.median(r):+.1f} dB, 5th to 95th percentile {np.percentile(r, 5):+.1f} "
                   f"to {np.percentile(r, 95):+.1f} dB "
                   f"({st.session_state.get(state.MODEL_LABEL)}).")


def calibration(site, plan, survey, survey_mod) -> None:
    st.subheader("Calibrate the propagation model")
    c1, c2, c3 = st.columns(3)
    fit_mats = c1.checkbox("Fit material losses", value=True, key="cal_materials")
    offsets = c2.checkbox("Fit a per-AP offset", value=False, key="cal_offsets")
    if c3.button("Calibrate", key="calibrate", icon=":material/tune:"):
        try:
            with st.spinner("Fitting the model to the survey ..."):
                model, report = survey_mod.calibrate(site, plan,
                                                     matched(site, plan, survey, survey_mod),
                                                     fit_materials=fit_mats,
                                                     fit_ap_offsets=offsets)
        except InputError as exc:
            st.error(str(exc), icon=":material/error:")
            return
        st.session_state[state.CALIBRATION] = {"model": model, "report": report,
                                               "survey": survey["name"]}
    cal = st.session_state.get(state.CALIBRATION)
    if cal is None:
        st.caption(f"Current model: {st.session_state.get(state.MODEL_LABEL)}.")
        return
    rep = cal["report"]
    c = st.columns(4)
    c[0].metric("RMSE before", f"{rep['rmse_before_db']:.2f} dB", help="cross-validated")
    c[1].metric("RMSE after", f"{rep['rmse_after_db']:.2f} dB",
                delta=f"{rep['rmse_after_db'] - rep['rmse_before_db']:+.2f} dB",
                delta_color="inverse", help=f"{rep['folds']}-fold cross-validated")
    if rep["model"] == "hall":
        c[2].metric("Diffuse level", f"{rep['reverb_offset_db']:+.1f} dB",
                    help="offset of the reverberant field fitted to the survey")
        c[3].metric("AP gain", f"{rep['ap_gain_dbi']:.1f} dBi",
                    help="fitted gain of the direct and reflected rays")
    else:
        c[2].metric("PL at 1 m", f"{rep['pl0_db']:.1f} dB")
        c[3].metric("Exponent", f"{rep['exponent']:.2f}")
    mats = pd.DataFrame([{"material": k, "before [dB]": v["before_db"], "after [dB]": v["after_db"],
                          "crossings": v["observations_crossing"], "fitted": v["fitted"]}
                         for k, v in rep["materials"].items()])
    if len(mats):
        st.dataframe(mats, hide_index=True, width="stretch", key="calibration_materials")
    b1, b2, b3 = st.columns(3)
    if b1.button("Apply the calibrated model", type="primary", key="apply_model"):
        state.set_model(cal["model"], f"calibrated from {cal['survey']} (RMSE "
                                      f"{rep['rmse_before_db']:.1f} -> "
                                      f"{rep['rmse_after_db']:.1f} dB)")
        st.toast("Calibrated model applied: maps and findings use it now")
        st.rerun()
    if b2.button("Back to the site model", key="revert_model"):
        state.use_site_model(site)
        st.rerun()
    b3.download_button("Download model YAML", dump_yaml(cal["model"].to_dict()),
                       file_name=f"{state.file_stem(site)}.model.yaml",
                       mime="application/x-yaml", key="download_model", on_click="ignore")


site = state.page_site("Survey")
plan = state.plan()
if not plan.aps:
    st.info("The plan has no APs: plan the site (or open a plan) before checking a survey "
            "against it.")
    st.page_link("wifiplan/ui/pages/plan.py", label="Go to the Plan page", icon=":material/router:")
    st.stop()
survey = upload_survey(site, plan, survey_mod)
if survey is not None:
    try:
        doc = findings(site, plan, survey, survey_mod)
    except InputError as exc:
        st.error(str(exc), icon=":material/error:")
        st.stop()
    show_summary(doc, survey["meta"])
    shown = show_findings(doc, survey_mod.SEVERITIES)
    show_maps(site, plan, survey, survey_mod, shown)
    calibration(site, plan, survey, survey_mod)
