"""``wifiplan deploy``: the site network inside the cluster deployment description."""
from __future__ import annotations


def _deploy(args) -> int:
    from ..deploy import check_backhaul, deploy, format_capacity, load_cluster
    from ..errors import InputError
    from .core import load
    if args.resolution <= 0:
        raise InputError(f"--resolution must be > 0, got {args.resolution}")
    cluster = load_cluster(args.cluster)
    inp = load(args.site, args.plan, args.model)
    site, plan = inp.site, inp.plan
    check_backhaul(site, plan, inp.plan_lines)
    result = deploy(site, plan, cluster, args.output, model=inp.model,
                    resolution_m=args.resolution, site_lines=inp.site_lines)
    frame = result["capacity"]
    print(f"{site.name}: {len(plan.aps)} APs, site server "
          f"{result['network']['site_server']['name']}"
          f" = {result['network']['site_server']['node']} in cluster {cluster.name}")
    print(format_capacity(frame))
    for name, how in result["validated"].items():
        print(f"manifest {name}: {how}")
    for w in result["network"]["warnings"]:
        print(f"warning: {w}")
    print(f"wrote {len(result['files'])} files to {args.output}")
    if not result["ok"]:
        print(f"capacity check FAILED at {len(frame.attrs['failures'])} hop(s):")
        for f in frame.attrs["failures"]:
            print(f"  {f}")
        return 1
    print("capacity check passed at every hop")
    return 0


def register(sub) -> None:
    p = sub.add_parser("deploy", help="site network, Kubernetes manifests and the capacity "
                                      "check of the whole path into the cluster")
    p.add_argument("site", metavar="SITE.yaml")
    p.add_argument("plan", metavar="PLAN.yaml")
    p.add_argument("--cluster", required=True, metavar="CLUSTER.yaml",
                   help="cluster description, e.g. deploy/cluster.yaml")
    p.add_argument("-o", "--output", required=True, metavar="DIR")
    p.add_argument("--model", metavar="MODEL.yaml",
                   help="calibrated model file (from 'wifiplan survey calibrate')")
    p.add_argument("--resolution", type=float, default=1.0, metavar="M",
                   help="grid step of the radio map for the cell check [m]")
    p.set_defaults(func=_deploy)
