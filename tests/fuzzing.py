"""Hostile inputs for every reader, and a runner that judges what the CLI does with them.

Generators (``MUTATORS``) take a valid file of each input kind (site, plan, model, native
survey, WiGLE, wide survey with its AP map, mapping, georeference, logs, cluster, DXF) and
mutate it: hostile numbers (NaN, infinities, 1e308, 400 digits, negative and zero values),
wrong types (lists, mappings, booleans), deleted, duplicated and renamed keys, truncation,
flipped bytes, duplicated and deleted lines, foreign encodings, deep nesting and alias bombs.

:func:`run_case` runs the command of a kind in-process (``wifiplan.cli.main``) on one
mutated input under a time limit and classifies the outcome:

- ``refused``: exit 2 with one line on stderr and no traceback;
- ``accepted``: exit 0 or 1; every output file is checked for NaN and infinities;
- ``crash``: an exception, exit 3, a traceback, or a refusal of more than one line;
- ``hang``: over the time limit;
- ``garbage``: accepted although the mutation must be refused (a NaN, a key given twice);
- ``modified``: an input file changed.

``tests/test_fuzz.py`` runs a short campaign with hypothesis; ``benchmarks/fuzz_campaign.py``
runs the long one (``python benchmarks/fuzz_campaign.py --cases 3000``).
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import math
import random
import re
import shutil
import signal
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FLOOR = ROOT / "floorplans"
SURV = ROOT / "surveys"

HOSTILE_NUMBERS = ["nan", ".nan", "inf", "-.inf", "1e308", "-1e308", "1e400", "0", "-5", "-0.0",
                   "9" * 400, "1.5", "true", "null", "'12'", "[1, 2]", "{a: 1}", "''", "abc",
                   "0x1F", "1_000", "-273.15", "3e-320"]
HOSTILE_CSV = ["nan", "inf", "-inf", "1e308", "", "abc", "9" * 400, "-0", "1,2", '"x\ny"',
               "\x00", "２３", "1e-320", "99999999999999999999", "-200", "NaN"]
#: Mutations that must be refused, whatever the file: accepting them is garbage in.
MUST_REFUSE = {"yaml-nan-value", "yaml-duplicate-key", "yaml-alias-bomb", "yaml-deep"}


@dataclass
class Case:
    kind: str
    mutation: str
    text: bytes


def _yaml_mutations(text: str, rng: random.Random) -> tuple[str, str]:
    lines = text.splitlines()
    # numbers of the data, not of the comments
    nums = [(i, m) for i, ln in enumerate(lines)
            for m in re.finditer(r"(?:^|(?<=[\s\[,:{]))-?\d+(?:\.\d+)?(?=$|[\s,\]}])",
                                 ln.split("#")[0])]
    keys = [(i, m) for i, ln in enumerate(lines) for m in re.finditer(r"([A-Za-z_]+):", ln)]
    choice = rng.choice(["number", "number", "number", "nan", "type", "del-line", "dup-line",
                         "dup-key", "rename-key", "truncate", "flip", "bomb", "deep", "unicode",
                         "indent"])
    if choice in ("number", "nan") and nums:
        i, m = rng.choice(nums)
        v = ".nan" if choice == "nan" else rng.choice(HOSTILE_NUMBERS)
        lines[i] = lines[i][:m.start()] + v + lines[i][m.end():]
        return ("yaml-nan-value" if v in (".nan",) else "yaml-number"), "\n".join(lines) + "\n"
    if choice == "type" and nums:
        i, m = rng.choice(nums)
        v = rng.choice(["[]", "{}", "[1, [2]]", "{x: 1}", "true", "~", "'abc'"])
        lines[i] = lines[i][:m.start()] + v + lines[i][m.end():]
        return "yaml-type", "\n".join(lines) + "\n"
    if choice == "del-line" and lines:
        del lines[rng.randrange(len(lines))]
        return "yaml-del-line", "\n".join(lines) + "\n"
    if choice == "dup-line" and lines:
        i = rng.randrange(len(lines))
        lines.insert(i, lines[i])
        return "yaml-dup-line", "\n".join(lines) + "\n"
    if choice == "dup-key":
        top = [ln for ln in lines if re.match(r"^[A-Za-z_]+:", ln)]
        if top:
            k = rng.choice(top).split(":")[0]
            return "yaml-duplicate-key", text + f"\n{k}: []\n"
    if choice == "rename-key" and keys:
        i, m = rng.choice(keys)
        lines[i] = lines[i][:m.start()] + m.group(1)[::-1] + ":" + lines[i][m.end():]
        return "yaml-rename-key", "\n".join(lines) + "\n"
    if choice == "truncate":
        return "truncate", text[:rng.randrange(max(len(text), 1))]
    if choice == "bomb":
        rows = ["a0: &a0 [" + ", ".join(['"lol"'] * 9) + "]"]
        for k in range(1, 10):
            rows.append(f"a{k}: &a{k} [" + ", ".join([f"*a{k - 1}"] * 9) + "]")
        return "yaml-alias-bomb", "\n".join(rows) + "\n" + text
    if choice == "deep":
        d = rng.choice([100, 1000, 5000])
        return "yaml-deep", text + "\nextra: " + "[" * d + "]" * d + "\n"
    if choice == "unicode" and lines:
        i = rng.randrange(len(lines))
        lines[i] = lines[i] + rng.choice([" \u202e", " 名前", "\ufeff", " \U0001F600", "\t"])
        return "unicode", "\n".join(lines) + "\n"
    if choice == "indent" and lines:
        i = rng.randrange(len(lines))
        lines[i] = "   " + lines[i]
        return "indent", "\n".join(lines) + "\n"
    return _flip(text, rng)


def _flip(text: str, rng: random.Random) -> tuple[str, str]:
    b = bytearray(text.encode("utf-8", "surrogateescape"))
    for _ in range(rng.randint(1, 8)):
        if b:
            b[rng.randrange(len(b))] = rng.randrange(256)
    return "flip", b.decode("utf-8", "replace")


def _csv_mutations(text: str, rng: random.Random) -> tuple[str, str]:
    lines = text.splitlines()
    head, body = lines[:1], lines[1:]
    choice = rng.choice(["cell", "cell", "cell", "del-line", "dup-line", "columns", "truncate",
                         "flip", "header", "quote", "encoding", "blank", "long"])
    if choice == "cell" and body:
        i = rng.randrange(len(body))
        cells = body[i].split(",")
        j = rng.randrange(len(cells))
        cells[j] = rng.choice(HOSTILE_CSV)
        body[i] = ",".join(cells)
        return "csv-cell", "\n".join(head + body) + "\n"
    if choice == "del-line" and body:
        del body[rng.randrange(len(body))]
        return "csv-del-line", "\n".join(head + body) + "\n"
    if choice == "dup-line" and body:
        i = rng.randrange(len(body))
        body.insert(i, body[i])
        return "csv-dup-line", "\n".join(head + body) + "\n"
    if choice == "columns" and body:
        i = rng.randrange(len(body))
        body[i] = body[i] + rng.choice([",", ",x", ",1,2,3"]) if rng.random() < 0.5 else \
            ",".join(body[i].split(",")[:-1])
        return "csv-columns", "\n".join(head + body) + "\n"
    if choice == "header" and head:
        cols = head[0].split(",")
        j = rng.randrange(len(cols))
        cols[j] = rng.choice([cols[j].upper(), "", cols[j] + " ", cols[(j + 1) % len(cols)]])
        return "csv-header", "\n".join([",".join(cols)] + body) + "\n"
    if choice == "quote" and body:
        i = rng.randrange(len(body))
        body[i] = '"' + body[i]
        return "csv-quote", "\n".join(head + body) + "\n"
    if choice == "encoding":
        return "csv-encoding", text.encode("utf-16").decode("latin-1")
    if choice == "blank":
        return "csv-blank", "\n".join(head + [""] * rng.randint(1, 5) + body) + "\n"
    if choice == "long" and body:
        return "csv-long", text + ",".join(["1"] * 5000) + "\n"
    if choice == "truncate":
        return "truncate", text[:rng.randrange(max(len(text), 1))]
    return _flip(text, rng)


def _dxf_bytes(rng: random.Random) -> bytes:
    import ezdxf
    doc = ezdxf.new()
    doc.header["$INSUNITS"] = rng.choice([0, 4, 6])
    msp = doc.modelspace()
    for _ in range(rng.randint(1, 30)):
        x, y = rng.uniform(0, 50), rng.uniform(0, 30)
        kind = rng.choice(["line", "line", "poly", "circle", "arc"])
        layer = rng.choice(["WALL", "CONCRETE", "RACK", "OUTLINE", "0"])
        if kind == "line":
            msp.add_line((x, y), (x + rng.uniform(-20, 20), y + rng.uniform(-20, 20)),
                         dxfattribs={"layer": layer})
        elif kind == "poly":
            msp.add_lwpolyline([(x, y), (x + 5, y), (x + 5, y + 3)], close=rng.random() < 0.5,
                               dxfattribs={"layer": layer})
        elif kind == "circle":
            msp.add_circle((x, y), rng.choice([0.0, 0.5, 3.0]), dxfattribs={"layer": layer})
        else:
            msp.add_arc((x, y), rng.choice([0.0, 2.0]), 0, rng.choice([0, 90, 360]),
                        dxfattribs={"layer": layer})
    buf = io.StringIO()
    doc.write(buf)
    text = buf.getvalue()
    if rng.random() < 0.6:            # damage the file
        lines = text.splitlines()
        for _ in range(rng.randint(1, 4)):
            i = rng.randrange(len(lines))
            lines[i] = rng.choice(["", "X", "-1", "1e308", "nan", lines[i][::-1], "EOF",
                                   "0\nINSERT"])
        text = "\n".join(lines)
    return text.encode("utf-8", "replace")


#: kind -> (the valid file it mutates, its text mutator)
KINDS = {
    "site": (FLOOR / "small-workshop.yaml", _yaml_mutations),
    "plan": (FLOOR / "small-workshop.plan.yaml", _yaml_mutations),
    "model": (None, _yaml_mutations),
    "survey": (SURV / "small-workshop.csv", _csv_mutations),
    "wigle": (SURV / "large-hall-wigle.csv", _csv_mutations),
    "wide": (SURV / "production-line-wide.csv", _csv_mutations),
    "mapping": (SURV / "production-line-wide.apmap.yaml", _yaml_mutations),
    "georef": (SURV / "large-hall-georef.yaml", _yaml_mutations),
    "logs": (SURV / "production-line-terminal-log.csv", _csv_mutations),
    "cluster": (ROOT / "deploy" / "cluster.yaml", _yaml_mutations),
    "dxf": (None, None),
}

MODEL_TEXT = """model: hall
reverb_offset_db: -2.0
coupling_offset_db: 1.0
reverb_time_offset_db: 0.5
ap_gain_dbi: 3.0
client_gain_dbi: 0.0
client_height_m: 1.2
materials: {concrete: {loss_db: 20.0}, metal: {loss_db: 30.0}}
"""


def make_case(kind: str, rng: random.Random) -> Case:
    """One mutated input of ``kind``."""
    if kind == "dxf":
        return Case(kind, "dxf", _dxf_bytes(rng))
    src, mut = KINDS[kind]
    text = MODEL_TEXT if src is None else src.read_text(encoding="utf-8")
    if kind == "wigle":               # keep the file short: every case reads it
        text = "\n".join(text.splitlines()[:400]) + "\n"
    name, out = mut(text, rng)
    if name == "yaml-nan-value" and not _holds_nan(out):
        name = "yaml-number"          # the NaN landed inside a string: nothing to refuse
    return Case(kind, name, out.encode("utf-8", "surrogateescape"))


def _holds_nan(text: str) -> bool:
    import yaml
    try:
        return _walk_non_finite(yaml.safe_load(text))
    except yaml.YAMLError:
        return False


def _argv(kind: str, path: Path, work: Path) -> list[str]:
    site, plan = FLOOR / "small-workshop.yaml", FLOOR / "small-workshop.plan.yaml"
    o = str(work / "out")
    pts = work / "pts.csv"
    pts.write_text("x_m,y_m\n5,5\n10,3\n")
    return {
        "site": ["plan", str(path), "-o", o + ".yaml", "--resolution", "2"],
        "plan": ["predict", str(site), str(path), "--points", str(pts), "-o", o + ".csv"],
        "model": ["predict", str(site), str(plan), "--points", str(pts), "--model", str(path),
                  "-o", o + ".csv"],
        "survey": ["survey", "check", str(site), str(plan), str(path), "-o", o + ".json"],
        "wigle": ["survey", "check", str(FLOOR / "large-hall.yaml"),
                  str(FLOOR / "large-hall.plan.yaml"), str(path), "--georef",
                  str(SURV / "large-hall-georef.yaml"), "-o", o + ".json"],
        "wide": ["survey", "check", str(FLOOR / "production-line.yaml"),
                 str(FLOOR / "production-line.plan.yaml"), str(path), "--mapping",
                 str(SURV / "production-line-wide.apmap.yaml"), "-o", o + ".json"],
        "mapping": ["survey", "check", str(FLOOR / "production-line.yaml"),
                    str(FLOOR / "production-line.plan.yaml"),
                    str(SURV / "production-line-wide.csv"), "--mapping", str(path),
                    "-o", o + ".json"],
        "georef": ["survey", "check", str(FLOOR / "large-hall.yaml"),
                   str(FLOOR / "large-hall.plan.yaml"), str(work / "wigle.csv"), "--georef",
                   str(path), "-o", o + ".json"],
        "logs": ["logs", "analyze", str(path), "--plan", str(FLOOR / "production-line.plan.yaml"),
                 "-o", o + ".json"],
        "cluster": ["deploy", str(site), str(plan), "--cluster", str(path), "-o", o],
        "dxf": ["import-dxf", str(path), "--guess-layers", "-o", o + ".yaml"],
    }[kind]


SUFFIX = {"site": ".yaml", "plan": ".yaml", "model": ".yaml", "mapping": ".yaml",
          "georef": ".yaml", "cluster": ".yaml", "dxf": ".dxf"}


class _Timeout(Exception):
    pass


_NON_FINITE = {"nan", "inf", "-inf", "+inf", "infinity", "-infinity", ".nan", ".inf", "-.inf"}


def _walk_non_finite(v) -> bool:
    if isinstance(v, float):
        return not math.isfinite(v)
    if isinstance(v, dict):
        return any(_walk_non_finite(x) for x in v.values())
    if isinstance(v, list):
        return any(_walk_non_finite(x) for x in v)
    return False


def _non_finite(path: Path) -> bool:
    """True when an output file holds a NaN or an infinity as a value (JSON and YAML parsed
    and walked; CSV cell by cell), not where a message names one."""
    import csv
    import json
    import yaml
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".json":
        return _walk_non_finite(json.loads(text))
    if path.suffix == ".yaml":
        return any(_walk_non_finite(d) for d in yaml.safe_load_all(text))
    if path.suffix == ".csv":
        return any(c.strip().lower() in _NON_FINITE for row in csv.reader(io.StringIO(text))
                   for c in row)
    return False


def run_case(case: Case, work: Path, timeout_s: float = 60.0) -> dict:
    """Run the command of ``case.kind`` on the mutated input in a fresh folder ``work``."""
    from wifiplan.cli import main
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    path = work / f"input{SUFFIX.get(case.kind, '.csv')}"
    path.write_bytes(case.text)
    if case.kind == "georef":
        src = (SURV / "large-hall-wigle.csv").read_text(encoding="utf-8").splitlines()[:400]
        (work / "wigle.csv").write_text("\n".join(src) + "\n")
    digest = hashlib.sha256(case.text).hexdigest()
    argv = _argv(case.kind, path, work)
    err, out = io.StringIO(), io.StringIO()
    old = signal.signal(signal.SIGALRM, lambda *a: (_ for _ in ()).throw(_Timeout()))
    signal.setitimer(signal.ITIMER_REAL, timeout_s)
    t0 = time.perf_counter()
    code, exc = None, None
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            code = main(argv)
    except _Timeout:
        exc = "timeout"
    except SystemExit as e:            # argparse
        code = e.code if isinstance(e.code, int) else 2
    except BaseException as e:         # noqa: BLE001 - the point is to see everything
        exc = f"{type(e).__name__}: {e}"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    secs = time.perf_counter() - t0
    msg = err.getvalue().strip()
    res = {"kind": case.kind, "mutation": case.mutation, "code": code, "seconds": round(secs, 3),
           "stderr": msg[:300]}
    if hashlib.sha256(path.read_bytes()).hexdigest() != digest:
        res["outcome"] = "modified"
    elif exc == "timeout":
        res["outcome"] = "hang"
    elif exc is not None or code not in (0, 1, 2) or "Traceback" in msg:
        res["outcome"] = "crash"
        res["stderr"] = (exc or msg)[:300]
    elif code == 2:
        lines = [ln for ln in msg.splitlines() if ln.strip()]
        res["outcome"] = "refused" if len(lines) == 1 and len(lines[0]) <= 600 else "unclear"
    elif case.mutation in MUST_REFUSE:
        res["outcome"] = "garbage"
    else:
        bad = [p.name for p in work.rglob("*") if p.is_file() and p != path
               and p.name.startswith("out") and _non_finite(p)]
        res["outcome"] = "non-finite" if bad else "accepted"
        if bad:
            res["stderr"] = f"NaN or inf in {', '.join(bad)}"
    return res


def campaign(n_cases: int, seed: int = 0, work: Path | None = None, timeout_s: float = 60.0,
             kinds=None, progress=None) -> list[dict]:
    """``n_cases`` cases spread over the kinds (round robin), each judged by
    :func:`run_case`."""
    import tempfile
    rng = random.Random(seed)
    kinds = list(kinds or KINDS)
    base = Path(work or tempfile.mkdtemp(prefix="wifiplan-fuzz-"))
    out = []
    for i in range(n_cases):
        kind = kinds[i % len(kinds)]
        case = make_case(kind, rng)
        out.append(run_case(case, base / "case", timeout_s))
        if progress:
            progress(i + 1, out[-1])
    return out


def summary(results: list[dict]) -> dict:
    """Counts of outcomes per kind and overall."""
    tot: dict = {}
    per: dict = {}
    for r in results:
        tot[r["outcome"]] = tot.get(r["outcome"], 0) + 1
        per.setdefault(r["kind"], {}).setdefault(r["outcome"], 0)
        per[r["kind"]][r["outcome"]] += 1
    return {"cases": len(results), "outcomes": tot, "by_kind": per,
            "slowest_s": max((r["seconds"] for r in results), default=math.nan)}


BAD_OUTCOMES = ("crash", "hang", "modified", "garbage", "non-finite", "unclear")


def failures(results: list[dict]) -> list[dict]:
    return [r for r in results if r["outcome"] in BAD_OUTCOMES]
