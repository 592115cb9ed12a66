"""Safe file input and output shared by every reader and writer.

- :func:`check_size` admits regular files only (no FIFO, device or directory), within a
  size limit, before anything is read.
- :func:`read_yaml` refuses files over a size limit before parsing, reports YAML syntax
  errors with their line, refuses a key given twice in one mapping, bounds the nesting
  depth and the nodes that aliases expand to (a "billion laughs" file is refused, not
  expanded), and returns the line of every key path so that validators can name the line
  of a bad value.
- :func:`write_atomic` writes to a temporary file beside the target and renames it, so an
  output is either complete or untouched, and an input is never modified; an output that
  cannot be written (a directory, a path below a file, a read-only folder) is a one-line
  :class:`InputError`.
- :func:`shown_name` and :func:`safe_stem`: a name that comes from outside (an upload's
  file name, a site's name) as a message shows it, and as the stem of a file name to write
  or offer for download: never a path, never a control character.
"""
from __future__ import annotations

import math
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import yaml

from .errors import InputError

MAX_INPUT_BYTES = 20 * 1024 * 1024  # 20 MB: larger site/plan/model files are refused unread
#: YAML nested deeper than this is refused (our files nest 5-6 levels).
MAX_YAML_DEPTH = 64
#: YAML whose values, aliases expanded, exceed this many nodes is refused (a 20 MB file of
#: plain values has fewer; an alias bomb of a few lines has billions).
MAX_YAML_NODES = 5_000_000


MAX_SHOWN_NAME = 120
#: Names Windows reserves for devices (a file name stem must not be one, any case).
RESERVED_STEMS = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)),
                  *(f"lpt{i}" for i in range(1, 10))}


def shown_name(name: object, fallback: str = "upload") -> str:
    """A file name from outside (an upload's) as messages show it: its last part after any
    ``/`` or ``\\``, control characters (NUL included) as ``?``, at most
    :data:`MAX_SHOWN_NAME` characters; ``fallback`` when nothing is left or it is ``.`` or
    ``..``. It is only ever shown, never opened."""
    text = str(name or "").replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    text = "".join("?" if (ord(c) < 32 or 127 <= ord(c) < 160) else c for c in text).strip()
    if len(text) > MAX_SHOWN_NAME:
        text = text[:MAX_SHOWN_NAME - 3] + "..."
    return fallback if text in ("", ".", "..") else text


def safe_stem(text: object, fallback: str = "file", max_len: int = 80) -> str:
    """The stem of a file name made from text from outside ("Production Line" ->
    "production-line"): lower case, only letters, digits, ``.``, ``_`` and ``-`` (others
    become ``-``), no leading dot or dash (so never ``..``), at most ``max_len`` characters,
    never a name Windows reserves; ``fallback`` when nothing is left."""
    import re
    stem = re.sub(r"[^\w.-]+", "-", str(text or "").strip().lower())
    stem = stem.lstrip(".-")[:max_len].rstrip(".-") or fallback
    if stem.split(".")[0] in RESERVED_STEMS:
        stem = f"{fallback}-{stem}"
    return stem


def check_size(path: str | os.PathLike, max_bytes: int = MAX_INPUT_BYTES) -> Path:
    """Return ``path`` as a Path after checking that it exists and is not too large."""
    p = Path(path)
    if not p.exists():
        raise InputError("file not found", source=str(p))
    if p.is_dir():
        raise InputError("is a directory, expected a file", source=str(p))
    if not p.is_file():
        raise InputError("is not a regular file (a pipe or a device?), expected a file",
                         source=str(p))
    size = p.stat().st_size
    if size > max_bytes:
        raise InputError(f"file is {size / 1e6:.1f} MB, larger than the limit of "
                         f"{max_bytes / 1e6:.0f} MB; refused before parsing", source=str(p))
    return p


_SCALARS = yaml.SafeLoader("")


def _expanded_size(node: yaml.Node, memo: dict, depth: int = 0) -> int:
    """The number of values ``node`` expands to with its aliases, counted once per node of
    the composed graph (linear time, so an alias bomb is measured, not expanded)."""
    k = id(node)
    if k in memo:
        if memo[k] is None:            # reached again while it is being counted: a cycle
            raise InputError("YAML alias that refers to itself; refused",
                             line=node.start_mark.line + 1)
        return memo[k]
    if depth > MAX_YAML_DEPTH:
        raise InputError(f"YAML nested deeper than {MAX_YAML_DEPTH} levels; refused",
                         line=node.start_mark.line + 1)
    memo[k] = None
    n = 1
    if isinstance(node, yaml.MappingNode):
        n += sum(_expanded_size(a, memo, depth + 1) + _expanded_size(b, memo, depth + 1)
                 for a, b in node.value)
    elif isinstance(node, yaml.SequenceNode):
        n += sum(_expanded_size(v, memo, depth + 1) for v in node.value)
    memo[k] = n
    if n > MAX_YAML_NODES:
        raise InputError(f"YAML expands to more than {MAX_YAML_NODES:,} values (aliases "
                         f"repeated over and over?); refused", line=node.start_mark.line + 1)
    return n


def _to_python(node: yaml.Node, path: tuple, lines: dict) -> Any:
    """The Python value of a composed node (its size and depth already bounded by
    :func:`_expanded_size`)."""
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out = {}
        for knode, vnode in node.value:
            key = _to_python(knode, path + ("<key>",), {})
            if isinstance(key, (list, dict)):
                raise InputError("mapping keys must be plain scalars",
                                 line=knode.start_mark.line + 1)
            if key in out:
                where = ".".join(str(k) for k in path + (key,))
                raise InputError(f"key '{where}' given twice (first at line "
                                 f"{lines[path + (key,)]})", line=knode.start_mark.line + 1)
            lines[path + (key,)] = knode.start_mark.line + 1   # a key's error names its line
            out[key] = _to_python(vnode, path + (key,), lines)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_to_python(v, path + (i,), lines) for i, v in enumerate(node.value)]
    return _SCALARS.construct_object(node, deep=True)  # scalar with safe resolution


def parse_yaml(text: str, source: str = "<text>") -> tuple[Any, dict]:
    """Parse YAML text; return ``(data, lines)`` with ``lines[key_path] -> line number``."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except RecursionError:
        raise InputError(f"YAML nested deeper than {MAX_YAML_DEPTH} levels; refused",
                         source=source) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        msg = (exc.problem or exc.context or "syntax error").strip()
        raise InputError(f"YAML syntax error: {msg}", source=source, line=line) from None
    except yaml.YAMLError as exc:
        raise InputError(f"YAML error: {str(exc).splitlines()[0]}", source=source) from None
    if node is None:
        raise InputError("file is empty, expected a YAML mapping", source=source)
    lines: dict = {}
    try:
        _expanded_size(node, {})
        data = _to_python(node, (), lines)
    except InputError as exc:
        raise InputError(exc.detail, source=source, line=exc.line) from None
    except yaml.YAMLError as exc:
        raise InputError(f"YAML error: {str(exc).splitlines()[0]}", source=source) from None
    return data, lines


def read_input(src, max_bytes: int = MAX_INPUT_BYTES, name: str | None = None
               ) -> tuple[bytes, str]:
    """The bytes of an input and the name its messages give it: ``src`` is a path, the
    bytes themselves or a binary file-like object (an upload: its ``name`` names it);
    ``name`` overrides. The size is checked before the content is read."""
    if isinstance(src, (str, os.PathLike)):
        p = check_size(src, max_bytes)
        return p.read_bytes(), name or str(p)
    source = name or shown_name(getattr(src, "name", None), "<input>")
    if isinstance(src, (bytes, bytearray, memoryview)):
        raw = bytes(src)
    elif hasattr(src, "read"):
        if hasattr(src, "seek"):
            src.seek(0)
        raw = src.read(max_bytes + 1)
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
    else:
        raise InputError(f"expected a file path, bytes or a file, got {type(src).__name__}",
                         source=source)
    if len(raw) > max_bytes:
        raise InputError(f"file is larger than the limit of {max_bytes / 1e6:.0f} MB; refused "
                         f"before parsing", source=source)
    return raw, source


def read_yaml(path, max_bytes: int = MAX_INPUT_BYTES, name: str | None = None
              ) -> tuple[Any, dict]:
    """Read a YAML file (a path, bytes or a file-like object: :func:`read_input`) with size
    check and line tracking; see :func:`parse_yaml`."""
    raw, source = read_input(path, max_bytes, name)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text, expected a YAML file", source=source) from None
    if "\x00" in text:
        raise InputError("binary data, expected a YAML file", source=source)
    return parse_yaml(text, source=source)


def write_atomic(path: str | os.PathLike, data: str | bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temporary file + rename); a path that cannot
    be written is an :class:`InputError` naming it."""
    p = Path(path)
    if p.is_dir():
        raise InputError("is a directory; expected the name of a file to write", source=str(p))
    for parent in p.parents:
        if parent.exists():
            if not parent.is_dir():
                raise InputError(f"cannot write here: {parent} is a file, not a folder",
                                 source=str(p))
            break
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=f".{p.name}.", suffix=".tmp")
    except OSError as exc:
        raise InputError(f"cannot write here: {exc.strerror or exc}", source=str(p)) from None
    mode = "wb" if isinstance(data, bytes) else "w"
    try:
        with os.fdopen(fd, mode, **({} if mode == "wb" else {"encoding": "utf-8"})) as fh:
            fh.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)      # mkstemp makes 0600; outputs are ordinary files
        os.replace(tmp, p)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return p


def write_file_set(folder: str | os.PathLike, files: dict) -> dict[str, Path]:
    """Write a set of files (name -> str or bytes) into ``folder`` as one unit: staged in a
    temporary folder beside it, then swapped in. A folder that holds nothing but such a set
    (or does not exist) is replaced whole, so a run that fails half-way leaves the previous
    set untouched and never a mixture; in a folder with other files each file is replaced
    atomically. Returns name -> path."""
    out = Path(folder)
    if out.exists() and not out.is_dir():
        raise InputError("is a file; expected a folder to write the report into", source=str(out))
    name = out.resolve().name
    parent = out.resolve().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        for old in parent.glob(f".{name}.*.set"):       # what a killed run left behind
            shutil.rmtree(old, ignore_errors=True)
        stage = Path(tempfile.mkdtemp(dir=parent, prefix=f".{name}.", suffix=".set"))
    except OSError as exc:
        raise InputError(f"cannot write here: {exc.strerror or exc}", source=str(out)) from None
    umask = os.umask(0)
    os.umask(umask)
    try:
        for fname, data in files.items():
            (stage / fname).write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
            os.chmod(stage / fname, 0o666 & ~umask)
        ours = not out.exists() or all(
            p.name in files or (p.name.startswith(".") and p.name.endswith(".tmp"))
            for p in out.iterdir())
        if ours and out.resolve() != Path.cwd().resolve():
            os.chmod(stage, 0o777 & ~umask)
            if out.exists():
                gone = Path(tempfile.mkdtemp(dir=parent, prefix=f".{name}.old.", suffix=".set"))
                os.replace(out, gone / "previous")
                os.replace(stage, out)
                shutil.rmtree(gone, ignore_errors=True)
            else:
                os.replace(stage, out)
        else:
            for fname in files:
                os.replace(stage / fname, out / fname)
            shutil.rmtree(stage, ignore_errors=True)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    return {fname: out / fname for fname in files}


def remove_stale_temporaries(folder: str | os.PathLike) -> int:
    """Remove the temporaries that :func:`write_atomic` (``.NAME.*.tmp`` files) and
    :func:`write_file_set` (``.NAME.*.set`` folders) leave in ``folder`` when their process
    is killed mid-write; returns how many. Only ours: hidden names of that form directly in
    the folder."""
    d = Path(folder)
    n = 0
    if d.is_dir():
        for f in d.glob(".*.tmp"):
            if f.is_file():
                f.unlink()
                n += 1
        for f in d.glob(".*.set"):
            if f.is_dir() and not f.is_symlink():
                shutil.rmtree(f, ignore_errors=True)
                n += 1
    return n


def dump_yaml(data: Any) -> str:
    """YAML text for our files: block style at the top, short lists in flow style."""
    class _Dumper(yaml.SafeDumper):
        pass

    def _list(dumper, value):
        flow = all(not isinstance(v, (dict, list)) for v in value) or (
            all(isinstance(v, list) and all(not isinstance(w, (dict, list)) for w in v)
                for v in value) and len(value) <= 64)
        return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=flow)

    def _flat(v):
        if isinstance(v, dict):
            return False
        if isinstance(v, list):
            return all(not isinstance(w, (dict, list)) or
                       (isinstance(w, list) and all(not isinstance(u, (dict, list)) for u in w))
                       for w in v) and len(v) <= 16
        return True

    def _dict(dumper, value):
        flow = len(value) <= 12 and all(_flat(v) for v in value.values())
        return dumper.represent_mapping("tag:yaml.org,2002:map", value.items(), flow_style=flow)

    _Dumper.add_representer(list, _list)
    _Dumper.add_representer(dict, _dict)
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


def to_plain(v: Any) -> Any:
    """numpy and pandas values -> plain Python for YAML and JSON (non-finite floats -> None,
    floats rounded to 4 decimals, frames -> lists of records, other objects -> str)."""
    import numpy as np
    import pandas as pd
    if isinstance(v, dict):
        return {str(k): to_plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [to_plain(x) for x in v]
    if isinstance(v, np.ndarray):
        return to_plain(v.tolist())
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, (float, np.floating)):
        f = float(v)
        return None if not math.isfinite(f) else round(f, 4)
    if isinstance(v, pd.DataFrame):
        return to_plain(v.to_dict(orient="records"))
    if v is None or isinstance(v, (str, int)):
        return v
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    return str(v)
