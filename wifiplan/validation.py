"""Checks of parsed input files, with errors that name the file, the key and the line.

Every reader of a YAML or JSON input (site, plan, model, survey mapping, georeference,
cluster description) walks its mapping with a :class:`Ctx`, which carries the file name and
the line of each key, and the checks below, which raise :class:`wifiplan.errors.InputError`
with one line: ``FILE:LINE: KEY: what was expected, got what``.
"""
from __future__ import annotations

import difflib
import math
import re

from .errors import InputError

_FLOAT_RE = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


class Ctx:
    """Carries the file name and the line table, and formats errors."""

    def __init__(self, source: str, lines: dict):
        self.source = source
        self.lines = lines

    def line_of(self, path: tuple) -> int | None:
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get(())

    def fail(self, path: tuple, message: str):
        raise InputError(message, source=self.source, key=key_of(path), line=self.line_of(path))


def key_of(path: tuple) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def _short(v, n: int = 60) -> str:
    """``repr(v)`` cut to ``n`` characters: a message never echoes a whole input."""
    r = repr(v)
    return r if len(r) <= n else r[:n - 3] + "..."


def check_number(ctx, path, v, *, lo=-math.inf, hi=math.inf, what="a number") -> float:
    if isinstance(v, bool) or v is None:
        ctx.fail(path, f"expected {what}, got {v!r}")
    if isinstance(v, str) and len(v) < 100 and _FLOAT_RE.match(v.strip()):
        v = float(v)
    if not isinstance(v, (int, float)):
        ctx.fail(path, f"expected {what}, got {_short(v)}")
    try:
        f = float(v)
    except OverflowError:              # an integer of hundreds of digits
        f = math.inf if v > 0 else -math.inf
    if not math.isfinite(f):
        ctx.fail(path, f"expected a finite number, got {_short(v)}")
    if not (lo <= f <= hi):
        ctx.fail(path, f"{f:g} is out of range, expected {what} between {lo:g} and {hi:g}")
    return f


def check_finite(ctx, path, v) -> None:
    """Fail at the first NaN, infinity or integer of more than 15 digits anywhere in ``v``
    (mappings and lists walked), naming its key: a schema's "type: number" admits them,
    every range test on a NaN is false, and a huge integer does not convert to a float."""
    if isinstance(v, float) and not math.isfinite(v):
        ctx.fail(path, f"expected a finite number, got {v!r}")
    elif isinstance(v, int) and not isinstance(v, bool) and abs(v) > 1e15:
        ctx.fail(path, f"expected a number of at most 15 digits, got {_short(v)}")
    elif isinstance(v, dict):
        for k, x in v.items():
            check_finite(ctx, path + (k,), x)
    elif isinstance(v, list):
        for i, x in enumerate(v):
            check_finite(ctx, path + (i,), x)


#: The longest name a site, zone, obstacle or switch may have [characters]: a name is a
#: label in tables and on maps, not a description.
MAX_NAME_CHARS = 120


def check_name(ctx, path, v, max_chars: int = MAX_NAME_CHARS) -> str:
    if not isinstance(v, (str, int)) or isinstance(v, bool) or str(v).strip() == "":
        ctx.fail(path, f"expected a non-empty name, got {_short(v)}")
    if len(str(v)) > max_chars:
        ctx.fail(path, f"name of {len(str(v))} characters, expected at most {max_chars}")
    return str(v)


def check_mapping(ctx, path, v, what) -> dict:
    if not isinstance(v, dict):
        ctx.fail(path, f"expected {what} (a mapping), got {type(v).__name__}")
    return v


def check_list(ctx, path, v, what) -> list:
    if v is None:
        return []
    if not isinstance(v, list):
        ctx.fail(path, f"expected a list of {what}, got {type(v).__name__}")
    return v


def check_keys(ctx, path, d: dict, known: set, required: set = frozenset(), strict=True):
    for k in required:
        if k not in d:
            ctx.fail(path, f"missing required key '{k}'")
    extra = {}
    for k in d:
        if k in known:
            continue
        close = difflib.get_close_matches(str(k), sorted(known), n=1, cutoff=0.75)
        if close:
            ctx.fail(path + (k,), f"unknown key '{k}' (did you mean '{close[0]}'?)")
        if strict:
            ctx.fail(path + (k,), f"unknown key '{k}', expected one of {', '.join(sorted(known))}")
        extra[k] = d[k]
    return extra
