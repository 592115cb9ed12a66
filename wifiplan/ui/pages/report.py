"""Report page: choose the rollout phase, generate the report, download HTML, PDF and CSVs."""
from __future__ import annotations

import json

import pandas as pd
import streamlit as st

import wifiplan.report as report_mod
from wifiplan import rollout
from wifiplan.errors import InputError
from wifiplan.fileio import dump_yaml
from wifiplan.radio.propagation import PropagationModel
from wifiplan.rollout import Criterion
from wifiplan.ui import state

DOWNLOADS = [("report.html", "HTML report", "text/html", ":material/language:"),
             ("report.pdf", "PDF report", "application/pdf", ":material/picture_as_pdf:"),
             ("aps.csv", "AP sheet (CSV)", "text/csv", ":material/table:"),
             ("bom.csv", "Bill of materials (CSV)", "text/csv", ":material/inventory_2:"),
             ("report.json", "Figures (JSON)", "application/json", ":material/data_object:")]


def generate(report_mod, site, plan, phase: int, with_survey: bool) -> dict:
    """Run the library's report on the session's site, plan, model and survey (all held in
    memory: the files come back as bytes)."""
    rm = state.radiomap_or_stop()
    survey = st.session_state.get(state.SURVEY) if with_survey else None
    model = state.model()
    calibrated = model is not None and model != PropagationModel.for_site(site)
    kwargs = dict(plan=plan if plan.aps else None, model=model if calibrated else None,
                  survey=(survey["frame"], survey["meta"]) if survey is not None else None,
                  inputs={"site": None, "plan": None, "logs": None,
                          "survey": (survey["name"], survey["bytes"]) if survey else None,
                          "model": (("model.yaml", dump_yaml(model.to_dict()).encode("utf-8"))
                                    if calibrated else None)})
    if rm is not None:
        kwargs.update(resolution_m=rm.resolution_m, full_rm=rm, full_plan=plan)
    a = report_mod.assess(site, phase, **kwargs)
    files = report_mod.render_report(a)
    return {"phase": phase, "files": files, "survey": survey["name"] if survey else None,
            "json": json.loads(files["report.json"])}


def show(report: dict, site) -> None:
    doc = report["json"]
    phase = doc.get("phase", {})
    passed = doc.get("passed")
    head = f"Phase {phase.get('number', report['phase'])}: {phase.get('title', '')}"
    if passed is True:
        st.success(f"{head} — all acceptance criteria pass", icon=":material/check_circle:")
    elif passed is False:
        failed = [c for c in doc.get("criteria", []) if c.get("passed") is False]
        st.error(f"{head} — {len(failed)} criteria fail", icon=":material/cancel:")
    else:
        st.info(head)
    c = st.columns(4)
    c[0].metric("APs in this phase", doc.get("ap_count", "–"))
    c[1].metric("Criteria passed", f"{sum(1 for k in doc.get('criteria', []) if k.get('passed'))}"
                                   f" / {len(doc.get('criteria', []))}")
    c[2].metric("Domain", doc.get("regulatory_domain", site.regulatory_domain))
    c[3].metric("Grid", f"{doc.get('resolution_m', 0):g} m")
    if doc.get("target"):
        st.caption(f"Assessed over the {doc['target']}"
                   + (f", with the survey {report['survey']}" if report.get("survey") else "")
                   + ".")
    crit = doc.get("criteria") or []
    if crit:
        df = pd.DataFrame(crit)
        df.insert(0, "verdict", df["passed"].map({True: "PASS", False: "FAIL"}).fillna(
            "not measured"))
        # the library's formatting (%, units)
        df["value"] = [Criterion.from_dict(c).value_text() for c in crit]
        cols = [k for k in ("verdict", "name", "requirement", "value", "source", "detail")
                if k in df]
        st.dataframe(df[cols], hide_index=True, width="stretch", key="report_criteria",
                     height=min(35 * (len(df) + 1) + 3, 800))
    base = f"{state.file_stem(site)}-phase{report['phase']}"
    cols = st.columns(len(DOWNLOADS))
    for col, (name, label, mime, icon) in zip(cols, DOWNLOADS):
        if name in report["files"]:
            col.download_button(label, report["files"][name], file_name=f"{base}-{name}",
                                mime=mime, key=f"download_{name}", icon=icon, width="stretch",
                                on_click="ignore")
    if "report.html" in report["files"] and st.toggle("Preview the HTML report",
                                                       key="report_preview"):
        st.iframe(report["files"]["report.html"].decode("utf-8"), height=900)


site = state.page_site("Report")
plan = state.plan()
phases = {n: f"{n}: {p.title}" for n, p in rollout.PHASES.items()}
c1, c2 = st.columns([3, 2])
phase = c1.selectbox("Rollout phase", list(phases), format_func=phases.get, key="report_phase",
                     index=min(2, len(phases) - 1) if len(plan.aps) > 3 else 0)
survey = st.session_state.get(state.SURVEY)
with_survey = c2.checkbox(f"Include the survey ({survey['name']})" if survey else
                          "Include a survey (none loaded)", value=survey is not None,
                          disabled=survey is None, key="report_with_survey")
st.caption(f"{site.name}, {len(plan.aps)} APs in the plan, "
           f"{st.session_state.get(state.MODEL_LABEL, '')}.")
if st.button("Generate report", type="primary", key="generate_report",
             icon=":material/description:"):
    try:
        with st.spinner(f"Assessing phase {phase} and writing the report ..."):
            st.session_state[state.REPORT] = generate(report_mod, site, plan, int(phase),
                                                      with_survey)
    except InputError as exc:
        st.error(str(exc), icon=":material/error:")
report = st.session_state.get(state.REPORT)
if report is not None:
    show(report, site)
