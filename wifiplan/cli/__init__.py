"""The ``wifiplan`` command.

Each module of this package registers its sub-commands through ``register(subparsers)``.
Exit codes: 0 success, 1 the work ran but found failures, 2 bad input (one line, no
traceback).
"""
from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys

from ..errors import InputError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wifiplan",
        description="Plan and verify factory Wi-Fi: 5 GHz / 20 MHz non-DFS small cells.")
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
        code = args.func(args)
    except InputError as exc:
        print(f"wifiplan: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("wifiplan: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:          # output piped into a reader that stopped (| head)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    return int(code or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
