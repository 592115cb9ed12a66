"""Hostile inputs for every reader, and a runner that judges what the CLI does with them.

Generators (``KINDS``) take a valid file of each input kind (site, plan, model, native
survey, WiGLE, wide survey with its AP map, mapping, georeference, logs, cluster, DXF, an
Ekahau .esx project, a ROUTES.yaml and a site file's ``routes:``) and mutate it: hostile
numbers (NaN, infinities, 1e308, 400 digits, negative and zero values), wrong types (lists,
mappings, booleans), deleted, duplicated and renamed keys, truncation, flipped bytes,
duplicated and deleted lines, foreign encodings, deep nesting and alias bombs; for the .esx
also its JSON members' values, keys and text, and the archive itself (member names that
climb out, members given twice, damaged bytes, an image that claims 10^10 pixels).

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
#: Mutations that must be refused, whatever the file: accepting them is garbage in (every
#: JSON member of an .esx is read, so a NaN or a key given twice anywhere in one is).
MUST_REFUSE = {"yaml-nan-value", "yaml-duplicate-key", "yaml-alias-bomb", "yaml-deep",
               "esx-nan-value", "esx-duplicate-key", "esx-deep", "esx-zip-bad-name",
               "esx-zip-duplicate"}
#: Mutations that may be accepted only with a warning that says so (an .esx floor image
#: over the pixel limit is dropped, the rest of the project imported).
MUST_WARN = {"esx-image-bomb": "larger than the limit"}
HOSTILE_JSON = [float("nan"), float("inf"), -float("inf"), 1e308, -1e308, 0, -5, -0.0, 3e-320,
                10 ** 400, "9" * 400, "", "abc", "名前", None, True, False, [], {}, [1, 2],
                {"x": 1}, 1.5, "12", "\u202e", "x" * 5000, 2 ** 63, -(2 ** 63) - 1]


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


def _esx_base() -> bytes:
    """A valid Ekahau project: the production line and its plan, exported by wifiplan."""
    global _ESX
    if _ESX is None:
        from wifiplan import load_plan, load_site
        from wifiplan.esx import export_esx
        site = load_site(FLOOR / "production-line.yaml")
        _ESX = export_esx(site, load_plan(FLOOR / "production-line.plan.yaml", site=site))
    return _ESX


_ESX: bytes | None = None


def _zip(members: list[tuple[str, bytes]]) -> bytes:
    import warnings
    import zipfile
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")             # "Duplicate name" is the point
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for name, data in members:
                z.writestr(name, data)
    return buf.getvalue()


def _json_paths(v, path=()):
    """Every (path, value) of a parsed JSON document, containers included."""
    yield path, v
    if isinstance(v, dict):
        for k, x in v.items():
            yield from _json_paths(x, path + (k,))
    elif isinstance(v, list):
        for i, x in enumerate(v):
            yield from _json_paths(x, path + (i,))


def _json_set(doc, path, value):
    if not path:
        return value
    node = doc
    for k in path[:-1]:
        node = node[k]
    node[path[-1]] = value
    return doc


def _esx_mutations(rng: random.Random) -> tuple[str, bytes]:
    """A mutated Ekahau project: a value, a key or a member's text changed in one of its
    JSON members, or the archive itself damaged (names, duplicates, bytes, an image bomb)."""
    import json
    import zipfile
    z = zipfile.ZipFile(io.BytesIO(_esx_base()))
    members = [(i.filename, z.read(i)) for i in z.infolist()]
    js = [k for k, (n, _) in enumerate(members) if n.endswith(".json")]
    choice = rng.choice(["value", "value", "value", "value", "nan", "delete", "type", "dup-item",
                         "dup-key", "text", "deep", "drop-member", "bad-name", "dup-member",
                         "flip", "truncate", "image-bomb", "image-junk"])
    k = rng.choice(js)
    name, data = members[k]
    doc = json.loads(data)
    paths = list(_json_paths(doc))
    if choice in ("value", "nan", "type"):
        scalars = [(p, v) for p, v in paths if p and not isinstance(v, (dict, list))]
        conts = [(p, v) for p, v in paths if len(p) > 1 and isinstance(v, (dict, list))]
        pool = conts if choice == "type" and conts else scalars
        if pool:
            p, _ = rng.choice(pool)
            v = float("nan") if choice == "nan" else rng.choice(
                [1, "x", None, [], {}] if choice == "type" else HOSTILE_JSON)
            members[k] = (name, json.dumps(_json_set(doc, p, v)).encode())
            nan = isinstance(v, float) and not math.isfinite(v)
            return ("esx-nan-value" if nan else f"esx-{choice}"), _zip(members)
    if choice == "delete":
        dicts = [(p, v) for p, v in paths if isinstance(v, dict) and v]
        if dicts:
            p, d = rng.choice(dicts)
            del d[rng.choice(list(d))]
            members[k] = (name, json.dumps(doc).encode())
            return "esx-delete", _zip(members)
    if choice == "dup-item":
        lists = [(p, v) for p, v in paths if isinstance(v, list) and v]
        if lists:
            p, lst = rng.choice(lists)
            lst.insert(rng.randrange(len(lst) + 1), json.loads(json.dumps(rng.choice(lst))))
            members[k] = (name, json.dumps(doc).encode())
            return "esx-dup-item", _zip(members)
    if choice == "dup-key":
        text = data.decode()
        i = text.index("{") + 1
        key = next(iter(doc))
        members[k] = (name, (text[:i] + f'"{key}": [], ' + text[i:]).encode())
        return "esx-duplicate-key", _zip(members)
    if choice == "text":
        _, text = _flip(data.decode(), rng) if rng.random() < 0.5 else \
            ("truncate", data.decode()[:rng.randrange(max(len(data), 1))])
        members[k] = (name, text.encode("utf-8", "surrogateescape"))
        return "esx-text", _zip(members)
    if choice == "deep":
        d = rng.choice([1000, 100_000])
        members[k] = (name, ("[" * d + "]" * d).encode())
        return "esx-deep", _zip(members)
    if choice == "drop-member":
        del members[rng.randrange(len(members))]
        return "esx-drop-member", _zip(members)
    if choice == "bad-name":
        members.append((rng.choice(["../x.json", "/abs.json", "a/../../b", "C:/x", "a\\b"]),
                        b"{}"))
        return "esx-zip-bad-name", _zip(members)
    if choice == "dup-member":
        members.append(members[k])
        return "esx-zip-duplicate", _zip(members)
    if choice in ("image-bomb", "image-junk"):
        img = next((j for j, (n, _) in enumerate(members) if n.startswith("image-")), None)
        if img is not None:
            members[img] = (members[img][0], bomb_png(100_000, 100_000)
                            if choice == "image-bomb" else bytes(rng.randrange(256)
                                                                 for _ in range(200)))
            return f"esx-{choice}", _zip(members)
    raw = bytearray(_zip(members))
    if choice == "truncate":
        return "esx-truncate", bytes(raw[:rng.randrange(len(raw))])
    for _ in range(rng.randint(1, 16)):
        raw[rng.randrange(len(raw))] = rng.randrange(256)
    return "esx-flip", bytes(raw)


def bomb_png(width_px: int, height_px: int) -> bytes:
    """A PNG of a few bytes whose header claims ``width_px`` x ``height_px`` pixels."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width_px, height_px, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


#: Walks of the production line (a ROUTES.yaml, and the site file's ``routes:``).
ROUTES_TEXT = """routes:
  - {name: line, points: [[3, 15], [66, 15]], speed_m_s: 1.2, terminal: handheld}
  - name: loop
    points: [[5, 3], [60, 3], [60, 27], [10, 27]]
    speed_m_s: 2.5
    terminal: thinklet
"""


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
    "esx": (None, None),
    "routes": (None, _yaml_mutations),
    "site-routes": (None, _yaml_mutations),
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
    if kind == "esx":
        return Case(kind, *_esx_mutations(rng))
    src, mut = KINDS[kind]
    if kind == "routes":
        text = ROUTES_TEXT
    elif kind == "site-routes":
        text = (FLOOR / "production-line.yaml").read_text(encoding="utf-8") + ROUTES_TEXT
    else:
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
        "esx": ["import-esx", str(path), "-o", o + ".yaml", "--plan-out", o + ".plan.yaml"],
        "routes": ["roam", str(FLOOR / "production-line.yaml"),
                   str(FLOOR / "production-line.plan.yaml"), "--routes", str(path),
                   "-o", o + ".json"],
        "site-routes": ["roam", str(path), str(FLOOR / "production-line.plan.yaml"),
                        "-o", o + ".json"],
    }[kind]


SUFFIX = {"site": ".yaml", "plan": ".yaml", "model": ".yaml", "mapping": ".yaml",
          "georef": ".yaml", "cluster": ".yaml", "dxf": ".dxf", "esx": ".esx",
          "routes": ".yaml", "site-routes": ".yaml"}


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
    elif case.mutation in MUST_WARN and MUST_WARN[case.mutation] not in msg + out.getvalue():
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
