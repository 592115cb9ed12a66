"""``wifiplan predict``, ``wifiplan heatmap`` and ``wifiplan samples``."""
from __future__ import annotations

import argparse
import io

from ..errors import InputError


def add_model_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", metavar="MODEL.yaml",
                   help="calibrated model file (from 'wifiplan survey calibrate')")


def load(site_path, plan_path=None, model_path=None):
    """The command's inputs (:func:`wifiplan.inputs.load_inputs`), with the note on stderr
    when the site gets the straight-line model (it names a law)."""
    import sys

    from ..inputs import load_inputs
    inp = load_inputs(site_path, plan_path, model_path)
    inp.model                       # a bad model file is refused before any other work
    if inp.model_note:
        print(f"note: {inp.model_note}", file=sys.stderr)
    return inp


def _predict(args) -> int:
    from ..predict import predict_points, read_points_csv
    from ..fileio import write_atomic
    inp = load(args.site, args.plan, args.model)
    site, plan, model = inp.site, inp.plan, inp.model
    pts = read_points_csv(args.points)
    out = predict_points(site, plan.aps, pts, model)
    buf = io.StringIO()
    out.to_csv(buf, index=False, float_format="%.2f", lineterminator="\n")
    write_atomic(args.output, buf.getvalue())
    print(f"{len(pts)} points x {len(plan.aps)} APs -> {args.output}")
    return 0


def _heatmap(args) -> int:
    from ..radio.radiomap import compute_radiomap
    from ..fileio import write_atomic
    inp = load(args.site, args.plan, args.model)
    site, plan, model = inp.site, inp.plan, inp.model
    if args.resolution <= 0:
        raise InputError(f"--resolution must be > 0, got {args.resolution}")
    rm = compute_radiomap(site, plan.aps, resolution_m=args.resolution, model=model)
    fig = rm.plot(args.kind, title=f"{site.name}: " + {
        "rssi": "best-server RSSI", "channel": "channels", "boundary": "cell boundaries",
        "sinr": "SINR", "server": "cells", "secondary": "secondary coverage",
        "overlap": "overlap band"}[args.kind])
    buf = io.BytesIO()
    fmt = "pdf" if str(args.output).lower().endswith(".pdf") else "png"
    fig.savefig(buf, format=fmt, dpi=args.dpi)
    write_atomic(args.output, buf.getvalue())
    print(f"{args.kind} map of {site.name} ({len(plan.aps)} APs, {args.resolution} m grid) "
          f"-> {args.output}")
    return 0


def _samples(args) -> int:
    import shutil
    from pathlib import Path

    from ..site import sample_plan_path, sample_sites
    files = [f for p in sample_sites().values() for f in (p, sample_plan_path(p)) if f.exists()]
    if args.output is None:
        for f in files:
            print(f)
        return 0
    out = Path(args.output)
    if out.exists() and not out.is_dir():
        raise InputError("expected a folder for the sample files", source=args.output)
    taken = [f.name for f in files if (out / f.name).exists()]
    if taken:
        raise InputError(f"{', '.join(taken)} already there; refusing to overwrite (choose "
                         f"another folder)", source=args.output)
    out.mkdir(parents=True, exist_ok=True)
    for f in files:
        shutil.copyfile(f, out / f.name)
    print(f"{len(files)} sample files -> {out}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("predict", help="received power of every AP at given points")
    p.add_argument("site", metavar="SITE.yaml")
    p.add_argument("plan", metavar="PLAN.yaml")
    p.add_argument("--points", required=True, metavar="P.csv", help="CSV with x_m,y_m columns")
    p.add_argument("-o", "--output", required=True, metavar="OUT.csv")
    add_model_arg(p)
    p.set_defaults(func=_predict)

    h = sub.add_parser("heatmap", help="draw a radio map of a plan (PNG or PDF)")
    h.add_argument("site", metavar="SITE.yaml")
    h.add_argument("plan", metavar="PLAN.yaml")
    h.add_argument("-o", "--output", required=True, metavar="map.png")
    h.add_argument("--kind", default="rssi",
                   choices=["rssi", "channel", "boundary", "sinr", "server", "secondary",
                            "overlap"])
    h.add_argument("--resolution", type=float, default=0.5, metavar="M", help="grid step [m]")
    h.add_argument("--dpi", type=int, default=150)
    add_model_arg(h)
    h.set_defaults(func=_heatmap)

    s = sub.add_parser("samples", help="list the bundled sample sites, or copy them out",
                       description="The sample sites and their hand plans that ship with "
                                   "wifiplan; with -o they are copied into a folder (never "
                                   "over a file that is there).")
    s.add_argument("-o", "--output", metavar="DIR", help="folder to copy the sample files to")
    s.set_defaults(func=_samples)
