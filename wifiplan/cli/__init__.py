"""The ``wifiplan`` command.

Each module of this package registers its sub-commands through ``register(subparsers)``.
Exit codes: 0 success, 1 the work ran but found failures, 2 bad input (one line, no
traceback), 3 an unexpected error inside wifiplan (one line; the traceback with
``--debug``), 130 interrupted.

Before a command runs, its output is checked against its inputs (:func:`guard_output`): an
output that is one of the input files, also through a link, is refused, so no command can
overwrite what it reads.
"""
from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys

from ..errors import InputError

#: Exit code of an unexpected error (a bug): never 0, 1 or 2, so that no script mistakes it
#: for success, findings or bad input.
EXIT_INTERNAL = 3

#: Files a command writes inside its output folder (a name ending in "/" is a folder).
FOLDER_OUTPUTS = {
    "report": ("report.html", "report.pdf", "aps.csv", "bom.csv", "report.json"),
    "deploy": ("site-network.yaml", "otelcol-wifi.yaml", "capacity.json", "capacity.csv",
               "manifests/"),
    "batch": ("index.html", "index.json"),
}


def _input_files(args) -> list[tuple[str, str]]:
    """(option, path) of every argument that names an existing file, but the output."""
    out = []
    for k, v in vars(args).items():
        if k in ("output", "func") or k.endswith("command"):
            continue
        for x in (v if isinstance(v, (list, tuple)) else [v]):
            if isinstance(x, str) and x and os.path.isfile(x):
                out.append((k, x))
    return out


def guard_output(args) -> None:
    """Refuse an output that is one of the command's inputs (same file, also through a
    link), or a folder output that would write over an input inside it."""
    target = getattr(args, "output", None)
    if not target or not isinstance(target, str):
        return
    inputs = _input_files(args)
    names = FOLDER_OUTPUTS.get(getattr(args, "command", None))
    if names is None:
        for k, p in inputs:
            if os.path.exists(target) and os.path.samefile(target, p):
                raise InputError(f"the output is the input given as {k}; refusing to "
                                 f"overwrite an input (choose another output)", source=target)
        return
    root = os.path.realpath(target)
    for k, p in inputs:
        rel = os.path.relpath(os.path.realpath(p), root)
        if rel.startswith(".."):
            continue
        rel = rel.replace(os.sep, "/")
        if any(rel == n or (n.endswith("/") and rel.startswith(n)) for n in names):
            raise InputError(f"the output folder would write over the input given as {k} "
                             f"({rel}); choose another folder", source=target)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wifiplan",
        description="Plan and verify factory Wi-Fi: 5 GHz / 20 MHz non-DFS small cells.",
        epilog="Exit codes: 0 success, 1 findings or failed criteria, 2 bad input, 3 an "
               "unexpected error (run with --debug for its traceback), 130 interrupted.")
    parser.add_argument("--debug", action="store_true",
                        help="show the traceback of an unexpected error")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for mod in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{mod.name}")
        if hasattr(module, "register"):
            module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        guard_output(args)
        code = args.func(args)
    except InputError as exc:
        print(f"wifiplan: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("wifiplan: interrupted", file=sys.stderr)
        if argv is None:             # the program itself (not a call from Python): end now,
            sys.stdout.flush()       # without waiting for the worker threads of a radio map
            sys.stderr.flush()       # to finish their chunk (nothing is left half-written:
            os._exit(130)            # every output is staged and removed on the way here)
        return 130
    except BrokenPipeError:          # output piped into a reader that stopped (| head)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except MemoryError:
        print("wifiplan: error: out of memory (a grid too fine or a site too large for this "
              "machine?)", file=sys.stderr)
        return EXIT_INTERNAL
    except Exception as exc:         # a bug: one line, its own exit code, the traceback on ask
        if args.debug:
            raise
        msg = " ".join(str(exc).split())[:300]
        print(f"wifiplan: internal error: {type(exc).__name__}: {msg} (this is a bug; run "
              f"with --debug for the traceback)", file=sys.stderr)
        return EXIT_INTERNAL
    return int(code or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
