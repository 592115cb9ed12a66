"""``wifiplan survey check`` and ``wifiplan survey calibrate``."""
from __future__ import annotations

import json

from .core import add_model_arg, load


#: The survey formats of wifiplan.survey.readers.FORMATS (written out so that building the
#: parser loads no survey code; tests/test_survey_readers.py checks they agree).
SURVEY_FORMATS = ("auto", "native", "wigle", "wide", "mapped")


def add_survey_read_args(p) -> None:
    """How to read and match a survey file: ``--format``, ``--mapping``, ``--georef``,
    ``--inventory`` (survey check, calibrate and report alike)."""
    p.add_argument("--format", default="auto", dest="fmt", choices=SURVEY_FORMATS,
                   help="survey file format (default: detected)")
    p.add_argument("--mapping", metavar="MAP.yaml",
                   help="column mapping (any CSV) or AP-column mapping (wide files)")
    p.add_argument("--georef", metavar="REF",
                   help="georeference for WiGLE files: YAML or CSV of 2+ points lat,lon,x_m,y_m")
    p.add_argument("--inventory", metavar="INV.csv", help="installed BSSIDs: CSV ap_id,bssid")


def _add_inputs(p) -> None:
    p.add_argument("site", metavar="SITE.yaml")
    p.add_argument("plan", metavar="PLAN.yaml")
    p.add_argument("survey", metavar="SURVEY.csv")
    add_survey_read_args(p)
    add_model_arg(p)


def _read(args):
    from ..survey import read_survey
    inp = load(args.site, args.plan, args.model)
    frame, meta = read_survey(args.survey, fmt=args.fmt, mapping=args.mapping,
                              georef=args.georef, site=inp.site)
    return inp, frame, meta


def _check(args) -> int:
    from ..fileio import write_atomic
    from ..survey import check_survey
    from ..survey.findings import format_findings_table, has_errors
    inp, frame, meta = _read(args)
    doc = check_survey(inp.site, inp.plan, frame, meta, model=inp.model,
                       inventory=args.inventory)
    write_atomic(args.output, json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    print(format_findings_table(doc))
    print(f"-> {args.output}")
    return 1 if has_errors(doc) else 0


def _calibrate(args) -> int:
    from ..radio.propagation import save_model_file
    from ..survey import calibrate
    from ..survey.calibration import format_calibration
    inp, frame, meta = _read(args)
    model, report = calibrate(inp.site, inp.plan, frame, fit_materials=not args.no_materials,
                              fit_ap_offsets=args.ap_offsets, folds=args.folds, seed=args.seed,
                              model=inp.model, inventory=args.inventory)
    save_model_file(model, args.output)
    print(format_calibration(report))
    print(f"-> {args.output} (use it with --model)")
    return 0


def register(sub) -> None:
    s = sub.add_parser("survey", help="import a site survey: check it against the plan, "
                                      "or calibrate the propagation model")
    ssub = s.add_subparsers(dest="survey_command", metavar="SUBCOMMAND", required=True)
    c = ssub.add_parser("check", help="match the survey to the plan and list every finding "
                                      "(exit 1 when there is an error)")
    _add_inputs(c)
    c.add_argument("-o", "--output", required=True, metavar="FINDINGS.json")
    c.set_defaults(func=_check)
    k = ssub.add_parser("calibrate", help="fit the propagation model (hall: diffuse level and "
                                          "AP gain; a named law: a log-distance law) and the "
                                          "material losses to the survey; write a model file "
                                          "for --model")
    _add_inputs(k)
    k.add_argument("-o", "--output", required=True, metavar="MODEL.yaml")
    k.add_argument("--ap-offsets", action="store_true", help="also fit a per-AP offset [dB]")
    k.add_argument("--no-materials", action="store_true",
                   help="keep the material losses, fit only the model's own parameters")
    k.add_argument("--folds", type=int, default=5, help="cross-validation folds (default 5)")
    k.add_argument("--seed", type=int, default=0, help="seed of the fold split")
    k.set_defaults(func=_calibrate)
