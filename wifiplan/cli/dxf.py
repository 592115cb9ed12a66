"""``wifiplan import-dxf``: a site YAML from a CAD floor plan."""
from __future__ import annotations


def _import_dxf(args) -> int:
    from ..dxf import UNIT_CODES, import_dxf, parse_layer_map
    from ..errors import InputError
    from ..site import save_site
    if args.units is not None and args.units not in UNIT_CODES:
        raise InputError(f"--units {args.units!r}: expected one of {', '.join(UNIT_CODES)}")
    site, rep = import_dxf(args.dxf, parse_layer_map(args.layer),
                           obstacle_layers=parse_layer_map(args.obstacle_layer, with_height=True),
                           outline_layer=args.outline_layer, name=args.name, units=args.units,
                           regulatory_domain=args.domain, guess_layers=args.guess_layers)
    save_site(site, args.output)
    for w in rep.warnings:
        print(f"warning: {w}")
    print(f"outline: {rep.outline_from}")
    print(f"{site.name}: {rep.summary()} -> {args.output}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("import-dxf", help="make a site YAML from a DXF floor plan",
                       description="Walls come from the layers mapped with --layer, obstacles "
                                   "from closed polylines on --obstacle-layer, the outline from "
                                   "--outline-layer, else the drawing's largest closed "
                                   "polyline that holds the walls, else the extent of "
                                   "everything drawn (the command says which). Units come "
                                   "from $INSUNITS unless --units is given.")
    p.add_argument("dxf", metavar="PLAN.dxf")
    p.add_argument("--layer", action="append", metavar="LAYER=MATERIAL",
                   help="a wall layer and its material (repeat for each layer)")
    p.add_argument("--obstacle-layer", action="append", metavar="LAYER=MATERIAL[:HEIGHT_M]",
                   help="closed polylines on LAYER become obstacles (default height 2 m)")
    p.add_argument("--outline-layer", metavar="LAYER",
                   help="layer holding the floor outline (largest closed polyline)")
    p.add_argument("--guess-layers", action="store_true",
                   help="map the layers from their names (WALL, GLASS, RACK, OUTLINE, ...) "
                        "where --layer, --obstacle-layer and --outline-layer say nothing, as "
                        "the UI proposes them")
    p.add_argument("--name", help="site name (default: the file name)")
    p.add_argument("--units", metavar="UNIT", help="drawing unit when $INSUNITS is missing or "
                                                   "wrong: mm, cm, m, in, ft")
    p.add_argument("--domain", default="seed", choices=["seed", "JP", "US", "EU"],
                   help="regulatory domain of the site (default: seed)")
    p.add_argument("-o", "--output", required=True, metavar="SITE.yaml")
    p.set_defaults(func=_import_dxf)
