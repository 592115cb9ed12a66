"""``wifiplan import-esx`` and ``wifiplan export-esx``: Ekahau projects in and out."""
from __future__ import annotations

import os


def _import_esx(args) -> int:
    from ..errors import InputError
    from ..esx import import_esx
    from ..fileio import write_atomic
    from ..plan import plan_to_yaml
    from ..site import site_to_yaml
    if os.path.abspath(args.output) == os.path.abspath(args.plan_out):
        raise InputError("-o and --plan-out name the same file; give the site and the plan "
                         "files of their own", source=args.output)
    for out in (args.output, args.plan_out):
        if os.path.exists(out) and os.path.samefile(out, args.project):
            raise InputError("the output is the input project; refusing to overwrite an "
                             "input (choose another output)", source=out)
    site, plan, rep = import_esx(args.project, args.floor, name=args.name,
                                 regulatory_domain=args.domain)
    site_text, plan_text = site_to_yaml(site), plan_to_yaml(plan)
    # both files or neither: the plan is staged beside its target, the site written, the
    # plan moved in place
    head, tail = os.path.split(args.plan_out)
    staged = write_atomic(os.path.join(head, f".{tail}.import-esx.tmp"), plan_text)
    try:
        write_atomic(args.output, site_text)
        os.replace(staged, args.plan_out)
    except BaseException:
        if staged.exists():
            staged.unlink()
        raise
    for w in rep.warnings:
        print(f"warning: {w}")
    print(f"{site.name}: {rep.summary()} -> {args.output}, {args.plan_out}")
    return 0


def _export_esx(args) -> int:
    from ..esx import export_esx, export_warnings
    from ..fileio import write_atomic
    from ..inputs import load_inputs
    inp = load_inputs(args.site, args.plan)
    data = export_esx(inp.site, inp.plan)
    write_atomic(args.output, data)
    for w in export_warnings(inp.site, inp.plan):
        print(f"warning: {w}")
    print(f"{inp.site.name}: {len(inp.site.walls)} walls, {len(inp.site.obstacles)} obstacles, "
          f"{len(inp.site.zones)} zones, {len(inp.plan.aps)} APs -> {args.output}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("import-esx", help="make a site and a plan from an Ekahau .esx project",
                       description="One floor of the project becomes a site (walls with "
                                   "their 5 GHz losses, attenuation areas as obstacles, "
                                   "exclusion areas as no-mount areas, requirement areas as "
                                   "zones) and a plan (the APs' 5 GHz radios). What cannot be "
                                   "mapped is printed as warning lines.")
    p.add_argument("project", metavar="PROJECT.esx")
    p.add_argument("-o", "--output", required=True, metavar="SITE.yaml")
    p.add_argument("--plan-out", required=True, metavar="PLAN.yaml")
    p.add_argument("--floor", metavar="NAME",
                   help="the floor to import (needed when the project has several)")
    p.add_argument("--name", help="site name (default: the project's name)")
    p.add_argument("--domain", choices=["seed", "JP", "US", "EU"],
                   help="regulatory domain of the site (default: the one the project was "
                        "exported with, else seed)")
    p.set_defaults(func=_import_esx)

    e = sub.add_parser("export-esx", help="write a site and its plan as an Ekahau .esx project",
                       description="One floor with a drawn floor image, walls, attenuation "
                                   "areas, exclusion areas, requirement areas and the APs "
                                   "with one 5 GHz radio each.")
    e.add_argument("site", metavar="SITE.yaml")
    e.add_argument("plan", metavar="PLAN.yaml")
    e.add_argument("-o", "--output", required=True, metavar="PROJECT.esx")
    e.set_defaults(func=_export_esx)
