"""Rollout reports: one phase of one site as HTML, PDF, CSVs and JSON.

:func:`assess` assesses a phase (:func:`wifiplan.rollout.assess_phase`) and records its
inputs, :func:`render_report` renders the files as bytes (the UI's downloads) and
:func:`write_report` writes them into a directory (:func:`make_report`: all three, from
paths, for the CLI and the batch):

- ``report.html``: self-contained (images embedded as base64 PNG, inline CSS, no external
  resource of any kind);
- ``report.pdf``: the same content on A4 pages;
- ``aps.csv``: the AP configuration sheet; ``bom.csv``: the bill of materials;
- ``report.json``: the figures and the pass/fail of every criterion.

The same inputs give the same bytes: no timestamps, sorted keys, fixed PDF metadata.
"""
from __future__ import annotations

import base64
import hashlib
import io
import json
from pathlib import Path

import pandas as pd

from ..site import Site
from .. import __version__
from ..fileio import to_plain, write_file_set
from ..inputs import load_inputs
from ..planning import plan_site
from ..rollout import assess_phase
from ..survey import read_survey
from . import document, figures as figs
from .pdf import render_pdf

REPORT_FILES = ("report.html", "report.pdf", "aps.csv", "bom.csv", "report.json")


def file_digest(path) -> str | None:
    if path is None:
        return None
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def input_record(v) -> dict | None:
    """``{"file", "sha256"}`` of an input: a path, or ``(name, bytes)`` of one held in memory
    (an upload); None for none."""
    if not v:
        return None
    if isinstance(v, tuple):
        name, raw = v
        return {"file": Path(str(name)).name, "sha256": hashlib.sha256(raw).hexdigest()[:16]}
    return {"file": Path(v).name, "sha256": file_digest(v)}


def report_json(a) -> dict:
    """The figures and verdicts of a phase assessment as plain JSON data."""
    d = {
        "site": a.site.name,
        "phase": {"number": a.phase.number, "title": a.phase.title,
                  "title_ja": a.phase.title_ja, "effect": a.phase.effect},
        "passed": a.passed,
        "date": a.report_date or document.report_date(),
        "inputs": a.inputs,
        "regulatory_domain": a.site.regulatory_domain,
        "channel_set": a.site.allowed_channels(),
        "site_summary": {"area_m2": a.site.area_m2, "zones": len(a.site.zones),
                         "terminals": a.site.terminal_count},
        "pilot_zone": a.pilot_zone.name if a.pilot_zone is not None else None,
        "target": a.target_label,
        "resolution_m": a.radiomap.resolution_m,
        "ap_count": len(a.plan.aps),
        "metrics": a.metrics,
        "criteria": [c.to_dict() for c in a.criteria],
        "aps": a.ap_sheet,
        "bom": a.bom,
        "cable_runs": a.cable_runs,
        "switches": a.switches,
        "notes": a.notes,
    }
    if a.evaluation is not None:
        d["evaluation"] = a.evaluation
    if a.cell_load is not None:
        d["cell_load"] = a.cell_load
    for k in ("measurement_points", "concurrent_test", "walk_tests", "thresholds", "logging",
              "power_adjustments", "checklist"):
        v = getattr(a, k)
        if v is not None:
            d[k] = v
    if a.survey is not None:
        d["survey"] = {k: v for k, v in a.survey.items() if k != "points"}
        if a.survey.get("points") is not None:
            d["survey"]["points"] = a.survey["points"]
    if a.logs is not None:
        d["logs"] = a.logs
    if a.roaming is not None:
        rep = a.roaming["report"]
        d["roaming"] = {"terminal_model": rep["terminal_model"], "summary": rep["summary"],
                        "routes": a.roaming["table"]}
        if a.roaming["compare"] is not None:
            d["roaming"]["compare"] = a.roaming["compare"]
    return to_plain(d)


def _csv(df: pd.DataFrame) -> str:
    buf = io.StringIO()
    df.to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue()


def template(name: str):
    import jinja2
    env = jinja2.Environment(loader=jinja2.PackageLoader("wifiplan.report", "templates"),
                             autoescape=jinja2.select_autoescape(["html", "j2"]),
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    return env.get_template(name)


def footer_text(a) -> str:
    return (f"wifiplan {__version__} - {a.site.name} - phase {a.phase.number} - "
            f"domain {a.site.regulatory_domain} - grid {a.radiomap.resolution_m:g} m")


def render_html(a, blocks, figures) -> str:
    images = {f.key: base64.b64encode(f.png).decode("ascii") for f in figures}
    return template("report.html.j2").render(
        title=f"{a.site.name}: phase {a.phase.number} report", blocks=blocks, images=images,
        footer=footer_text(a))


def render_report(a) -> dict[str, bytes]:
    """The five report files of an assessment (:data:`REPORT_FILES`) as bytes."""
    fl = figs.all_figures(a)
    blocks = document.build(a, fl)
    return {
        "report.html": render_html(a, blocks, fl).encode("utf-8"),
        "report.pdf": render_pdf(blocks, f"{a.site.name}: phase {a.phase.number} report",
                                 footer_text(a)),
        "aps.csv": _csv(a.ap_sheet).encode("utf-8"),
        "bom.csv": _csv(a.bom).encode("utf-8"),
        "report.json": (json.dumps(report_json(a), indent=1, sort_keys=True,
                                   ensure_ascii=False) + "\n").encode("utf-8"),
    }


def write_report(a, outdir) -> dict[str, Path]:
    """Write the five report files of an assessment into ``outdir`` (created if needed) as
    one set (:func:`wifiplan.fileio.write_file_set`): a run that fails leaves the previous
    report whole."""
    return write_file_set(outdir, render_report(a))   # rendered before anything is written


def assess(site: Site, phase: int, *, plan=None, model=None, survey=None, logs=None,
           inputs: dict | None = None, **kwargs):
    """:func:`wifiplan.rollout.assess_phase` with the record of its inputs (``inputs``: name
    -> a path or ``(name, bytes)``, :func:`input_record`) that the report prints; the
    planner (:func:`wifiplan.planning.plan_site`) plans what the plan leaves open."""
    a = assess_phase(site, phase, plan, model=model, survey=survey, logs=logs,
                     planner=plan_site, **kwargs)
    a.inputs = {k: input_record(v) for k, v in (inputs or {}).items()}
    a.report_date = document.report_date()
    return a


def make_report(site_path, phase: int, outdir, *, plan_path=None, survey_path=None,
                model_path=None, logs_path=None, resolution_m: float = 1.0,
                pilot: str | None = None, site=None, plan=None, full_rm=None, full_plan=None,
                survey_format: str = "auto", mapping_path=None, georef_path=None,
                inventory_path=None):
    """Load the inputs, assess the phase and write its report; returns the assessment.

    The survey is read as ``wifiplan survey check`` reads it: ``survey_format``, a column or
    AP-column mapping (``mapping_path``, wide files) and a georeference (``georef_path``,
    WiGLE files)."""
    inp = load_inputs(site if site is not None else site_path,
                      plan if plan is not None else plan_path, model_path)
    survey = None
    if survey_path is not None:
        survey = read_survey(survey_path, fmt=survey_format, mapping=mapping_path,
                             georef=georef_path, site=inp.site)
    inputs = {"site": site_path, "plan": plan_path, "survey": survey_path,
              "model": model_path, "logs": logs_path}
    inputs.update({k: v for k, v in (("mapping", mapping_path), ("georef", georef_path),
                                     ("inventory", inventory_path)) if v})
    a = assess(inp.site, phase, plan=inp.plan, model=inp.model if model_path else None,
               survey=survey, logs=logs_path, inputs=inputs,
               resolution_m=resolution_m, pilot=pilot, full_rm=full_rm, full_plan=full_plan,
               inventory=inventory_path)
    write_report(a, outdir)
    return a
