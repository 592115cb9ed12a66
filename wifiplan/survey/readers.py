"""Survey readers: measurement CSVs to one tidy frame plus metadata (like pvlib's iotools).

Every reader returns the same columns (DESIGN.md section 4)::

    x_m, y_m [m], bssid (lower-case aa:bb:cc:dd:ee:ff), ssid, channel, rssi_dbm [dBm],
    freq_mhz, width_mhz, timestamp, device (when the file has them),
    ap_id (wide files mapped to plan APs), line (source line of the row)

Formats
-------
- ``native``: the CSV of DESIGN.md section 4, columns ``x_m,y_m,bssid,ssid,channel,rssi_dbm``
  and optionally ``timestamp,device,freq_mhz,width_mhz``.
- ``wigle``: WiGLE WiFi Wardriving export: a ``WigleWifi-1.x`` pre-header line, then
  ``MAC,SSID,AuthMode,FirstSeen,Channel,[Frequency,]RSSI,CurrentLatitude,CurrentLongitude,
  AltitudeMeters,AccuracyMeters,...,Type``. Positions are placed on the floor through a
  georeference (:func:`read_georef`, :class:`Georeference`). Non-Wi-Fi records (Bluetooth,
  cellular) are rejected with their line.
- ``wide``: one row per point, ``X,Y`` and one RSSI column per AP (``AP1 RSS(dBm),...``) with a
  sentinel such as -200 for "not heard"; needs an AP-column mapping (``aps:`` in the mapping
  file or ``ap_columns``).
- ``mapped``: any other CSV through a column-mapping YAML (``columns:``); the mapping may also
  set ``delimiter`` and ``decimal`` (a European ``;``/``,`` export), ``header_line``,
  ``coordinate_scale`` and a percent-to-dBm conversion.

The encodings are detected in :mod:`wifiplan.survey.encoding`, the mapping file (``--mapping``)
is read in :mod:`wifiplan.survey.mapping` and the WiGLE georeference (``--georef``) in
:mod:`wifiplan.survey.georef`.
"""
from __future__ import annotations

import io
import re
import warnings
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ..fileio import read_input
from ..plan import normalise_bssid
from ..regulatory import channel_from_freq
from .cleaning import aggregate_samples, clean_survey
from .encoding import detect_encoding, first_lines
from .georef import EARTH_A_M, EARTH_E2, Georeference, fit_georeference, read_georef
from .mapping import (MAPPING_KEYS, NATIVE_OPTIONAL, NATIVE_REQUIRED, TARGETS, percent_to_dbm,
                      read_mapping)

__all__ = ["EARTH_A_M", "EARTH_E2", "FORMATS", "MAPPING_KEYS", "MAX_SURVEY_BYTES", "NA_STRINGS",
           "NATIVE_OPTIONAL", "NATIVE_REQUIRED", "PERCENT_NAMES", "POINT_TOLERANCE_M",
           "TARGETS", "WIGLE_POINT_TOLERANCE_M", "Georeference", "SurveyMeta",
           "detect_encoding", "fit_georeference", "percent_to_dbm", "read_georef",
           "read_mapping", "read_survey"]

MAX_SURVEY_BYTES = 512 * 1024 * 1024   # 512 MB: about 8 million native rows
POINT_TOLERANCE_M = 0.05
WIGLE_POINT_TOLERANCE_M = 1.0
NA_STRINGS = ["", "NaN", "nan", "NA", "N/A", "n/a", "null", "NULL", "None", "-"]
FORMATS = ("auto", "native", "wigle", "wide", "mapped")
PERCENT_NAMES = {"signal", "signal_pct", "signal_percent", "quality", "signal%", "signal (%)",
                 "link_quality", "percent"}


@dataclass
class SurveyMeta:
    """What the reader found and did; ``rejected`` lists every dropped row."""
    source: str
    format: str
    encoding: str
    n_rows: int = 0                 # data rows in the file
    n_used: int = 0                 # rows kept (before aggregation)
    n_aggregated: int = 0           # rows after aggregation
    rejected: list[dict] = field(default_factory=list)    # [{"line", "reason"}]
    aggregation: str = ""
    columns: dict[str, str] = field(default_factory=dict)   # frame column -> file column
    georef: dict | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


# --------------------------------------------------------------------------------------
# CSV to raw frame with line numbers
# --------------------------------------------------------------------------------------


def _split_header(line: str, delimiter: str) -> list[str]:
    import csv
    return [c.strip() for c in next(csv.reader([line], delimiter=delimiter))]


def _read_table(raw: bytes, encoding: str, source: str, header_line: int, delimiter: str,
                decimal: str, text_cols: set[str], numeric_cols: set[str]):
    """Read the CSV below ``header_line`` with the C engine.

    Returns ``(frame, lines, rejected)``: ``lines`` holds the physical line of each row
    (blank lines become rows and are rejected later), ``rejected`` the rows with a wrong
    field count.
    """
    dtype = {c: "category" for c in text_cols}
    na = {c: NA_STRINGS for c in numeric_cols}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            df = pd.read_csv(io.BytesIO(raw), encoding=encoding, skiprows=header_line - 1,
                             sep=delimiter, decimal=decimal, dtype=dtype,
                             keep_default_na=False, na_values=na, skip_blank_lines=False,
                             on_bad_lines="warn", engine="c", skipinitialspace=True,
                             quotechar='"', low_memory=False, index_col=False)
        except pd.errors.EmptyDataError:
            raise InputError("file is empty, expected a CSV with a header line", source=source,
                             line=header_line) from None
        except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
            msg = str(exc).strip().splitlines()[0]
            m = re.search(r"line (\d+)", msg)
            raise InputError(f"not a readable CSV ({msg})", source=source,
                             line=int(m.group(1)) if m else None) from None
    rejected = []
    bad_lines = []
    for w in caught:
        m = re.search(r"Skipping line (\d+): expected (\d+) fields?, saw (\d+)", str(w.message))
        if m:
            ln, exp, saw = (int(g) for g in m.groups())
            bad_lines.append(ln)
            hint = " (a decimal comma or an unquoted comma in a name?)" if saw > exp else ""
            rejected.append({"line": ln, "reason": f"expected {exp} fields, found {saw}{hint}"})
    first = header_line + 1
    total = len(df) + len(bad_lines)
    lines = np.arange(first, first + total, dtype=np.int64)
    if bad_lines:
        lines = lines[~np.isin(lines, np.array(bad_lines))]
    if any("does not match length of data" in str(w.message) for w in caught):
        # rows with more fields than the header: pandas would cut them short; find them
        import csv
        n_head = len(df.columns)
        reader = csv.reader(io.StringIO(raw.decode(encoding)), delimiter=delimiter,
                            quotechar='"', skipinitialspace=True)
        long_lines = {}
        for k, fields in enumerate(reader):
            if reader.line_num > header_line and len(fields) > n_head:
                long_lines[reader.line_num] = len(fields)
        drop = np.isin(lines, np.array(sorted(long_lines), dtype=np.int64))
        for ln in sorted(long_lines):
            rejected.append({"line": int(ln), "reason": f"expected {n_head} fields, found "
                             f"{long_lines[ln]} (a decimal comma or an unquoted comma in a "
                             f"name?)"})
        df = df[~drop].reset_index(drop=True)
        lines = lines[~drop]
    return df, lines, rejected


def _numeric_with_bad(col: pd.Series):
    """Float values and a mask of cells that held text that is not a number."""
    if pd.api.types.is_numeric_dtype(col):
        return col.to_numpy(float), np.zeros(len(col), bool)
    s = col.astype(object)
    stripped = s.where(s.notna(), "").astype(str).str.strip()
    isna = stripped.isin(NA_STRINGS)
    vals = pd.to_numeric(stripped.where(~isna, None), errors="coerce").to_numpy(float)
    return vals, (~isna.to_numpy()) & np.isnan(vals)


# --------------------------------------------------------------------------------------
# The formats
# --------------------------------------------------------------------------------------


def _detect_format(header: list[str], first_line: str, mapping: dict, fmt: str) -> str:
    if fmt != "auto":
        return fmt
    if first_line.lstrip().lower().startswith("wiglewifi"):
        return "wigle"
    if mapping.get("aps"):
        return "wide"
    if mapping.get("columns"):
        return "mapped"
    low = {h.lower() for h in header}
    if {"x_m", "y_m", "bssid"} <= low:
        return "native"
    return "unknown"


def _check_delimiter(header_text: str, delimiter: str, source: str, line: int):
    if delimiter in header_text:
        return
    for d, name in ((";", "semicolon"), ("\t", "tab"), ("|", "pipe")):
        if d in header_text:
            raise InputError(f"{name}-delimited file, expected comma-separated values; to read "
                             f"it give a mapping file (--mapping) with delimiter: '{d}' (and "
                             f"decimal: ',' for decimal commas)", source=source, line=line)


def _from_columns(df: pd.DataFrame, colmap: dict[str, str], source: str, header_line: int
                  ) -> dict[str, Any]:
    out = {}
    lower = {str(c).strip().lower(): c for c in df.columns}
    for target, col in colmap.items():
        key = col if col in df.columns else lower.get(str(col).strip().lower())
        if key is None:
            raise InputError(f"column '{col}' (for {target}) not found; the file has "
                             f"{', '.join(map(str, df.columns))}", source=source, line=header_line)
        out[target] = df[key]
    return out


def _percent_refusal(header: list[str], source: str, line: int):
    for h in header:
        if h.strip().lower() in PERCENT_NAMES or h.strip().endswith("%"):
            raise InputError(f"column '{h}' is a signal quality in percent (as nmcli prints), "
                             f"not dBm; it is refused unless a mapping file converts it "
                             f"(signal_unit: percent, percent_to_dbm: networkmanager)",
                             source=source, line=line)


def read_survey(path, *, fmt: str = "auto", mapping=None, georef=None,
                ap_columns: dict | None = None, site=None, aggregate: bool = True,
                max_bytes: int = MAX_SURVEY_BYTES, point_tolerance_m: float | None = None,
                name: str | None = None):
    """Read a survey file into a tidy frame and :class:`SurveyMeta`.

    ``path``, ``mapping`` and ``georef``: paths, bytes or binary file-like objects (an
    upload, whose ``name`` names it in messages; ``name`` overrides the survey's).

    The file is cleaned (:func:`wifiplan.survey.cleaning.clean_survey`): every row that
    cannot be used is listed in ``meta.rejected`` with its line and reason; with ``site``,
    points outside the outline are rejected too. With ``aggregate`` (default) repeated
    samples of one BSSID at one point are combined (:func:`aggregate_samples`); samples
    within ``point_tolerance_m`` are one point (default 0.05 m, and 1 m for WiGLE files,
    whose positions come from the phone's location fix and move a little from scan to scan).
    Raises :class:`InputError` when the file is unreadable or no usable row remains.
    The input file is only read.
    """
    if fmt not in FORMATS:
        raise InputError(f"unknown survey format {fmt!r}, expected one of {', '.join(FORMATS)}")
    raw, source = read_input(path, max_bytes, name)
    if len(raw) < 4096 and not raw.strip():
        raise InputError("file is empty, expected a survey CSV with a header line",
                         source=source, line=1)
    mp, mp_source = read_mapping(mapping)
    if ap_columns:
        mp = dict(mp)
        mp["aps"] = ap_columns
        mp, _ = read_mapping(mp)
    encoding = detect_encoding(raw, source, mp.get("encoding"))
    head = first_lines(raw, encoding, 3)
    first_line = head[0] if head else ""
    if first_line.startswith("\ufeff"):
        first_line = first_line[1:]
    is_wigle = first_line.lstrip().lower().startswith("wiglewifi")
    if fmt == "auto":
        fmt = mp.get("format") or _detect_format([], first_line, mp, fmt)
        if "format" in mp and fmt not in FORMATS[1:]:
            raise InputError(f"unknown survey format {fmt!r} in the mapping, expected one of "
                             f"{', '.join(FORMATS[1:])}", source=mp_source, key="format")
    header_line = int(mp.get("header_line", 2 if is_wigle else 1))
    if len(head) < header_line:
        raise InputError("no header line found", source=source, line=header_line)
    header_text = head[header_line - 1].lstrip("\ufeff")
    delimiter = mp.get("delimiter", ",")
    decimal = mp.get("decimal", ".")
    _check_delimiter(header_text, delimiter, source, header_line)
    header = _split_header(header_text, delimiter)
    if fmt == "unknown":
        fmt = _detect_format(header, "", {}, "auto")
    meta = SurveyMeta(source=source, format=fmt, encoding=encoding)
    if encoding == "cp932":
        meta.notes.append("decoded as Shift_JIS (cp932)")

    low = [h.lower() for h in header]
    if fmt == "native":
        missing = [c for c in NATIVE_REQUIRED if c not in low]
        if "rssi_dbm" in missing:
            _percent_refusal(header, source, header_line)
        if missing:
            raise InputError(f"missing column(s) {', '.join(missing)}; the native format needs "
                             f"{','.join(NATIVE_REQUIRED)}", source=source, line=header_line)
        colmap = {c: header[low.index(c)] for c in NATIVE_REQUIRED + NATIVE_OPTIONAL if c in low}
    elif fmt == "wigle":
        need = {"bssid": "mac", "ssid": "ssid", "channel": "channel", "rssi_dbm": "rssi",
                "lat": "currentlatitude", "lon": "currentlongitude"}
        missing = [v for v in need.values() if v not in low]
        if missing:
            raise InputError(f"missing WiGLE column(s) {', '.join(missing)}; expected MAC,SSID,"
                             f"AuthMode,FirstSeen,Channel,Frequency,RSSI,CurrentLatitude,"
                             f"CurrentLongitude,...", source=source, line=header_line)
        if georef is None:
            raise InputError("a WiGLE file has latitude/longitude: give a georeference "
                             "(--georef REF.yaml with 2+ points {lat, lon, x_m, y_m})",
                             source=source)
        colmap = {k: header[low.index(v)] for k, v in need.items()}
        for k, v in (("freq_mhz", "frequency"), ("timestamp", "firstseen"), ("type", "type")):
            if v in low:
                colmap[k] = header[low.index(v)]
        m = re.search(r"model=([^,]*)", first_line)
        if m:
            meta.notes.append(f"WiGLE export from device {m.group(1)}")
        meta.notes.append(f"WiGLE format {first_line.split(',')[0]}")
    elif fmt == "wide":
        if not mp.get("aps"):
            raise InputError("a wide file (one RSSI column per AP) needs an AP-column mapping "
                             "(--mapping MAP.yaml with 'aps: {column: AP id}')", source=source)
        xc = mp.get("x_column") or next((h for h in header if h.lower() in ("x", "x_m")), None)
        yc = mp.get("y_column") or next((h for h in header if h.lower() in ("y", "y_m")), None)
        if xc is None or yc is None:
            raise InputError("no X/Y columns found; give x_column and y_column in the mapping",
                             source=source, line=header_line)
        colmap = {"x_m": xc, "y_m": yc}
        for col in mp["aps"]:
            colmap[f"ap::{col}"] = col
    elif fmt == "mapped":
        cols = mp.get("columns") or {}
        missing = [c for c in ("x_m", "y_m", "bssid", "rssi_dbm") if c not in cols]
        if "channel" not in cols and "freq_mhz" not in cols:
            missing.append("channel (or freq_mhz)")
        if missing:
            raise InputError(f"the mapping lacks {', '.join(missing)}", source=mp_source,
                             key="columns")
        colmap = dict(cols)
        if mp.get("signal_unit", "dbm") == "dbm":
            h = str(cols["rssi_dbm"])
            if h.strip().lower() in PERCENT_NAMES or h.strip().endswith("%"):
                _percent_refusal([h], source, header_line)
    else:
        _percent_refusal(header, source, header_line)
        raise InputError(f"unrecognised columns ({', '.join(header)[:200]}): expected the "
                         f"native columns {','.join(NATIVE_REQUIRED)}, a WiGLE export, or a "
                         f"mapping file (--mapping) for any other CSV", source=source,
                         line=header_line)
    meta.columns = {k: str(v) for k, v in colmap.items()}
    text_cols = {v for k, v in colmap.items() if k in ("bssid", "ssid", "timestamp", "device",
                                                      "type")}
    numeric_cols = set(colmap.values()) - text_cols
    df, lines, rejected = _read_table(raw, encoding, source, header_line, delimiter, decimal,
                                      text_cols, numeric_cols)
    df.columns = [str(c).strip() for c in df.columns]
    meta.n_rows = len(df) + len(rejected)
    cols = _from_columns(df, colmap, source, header_line)
    frame, bad = _assemble(fmt, cols, mp, georef, lines, meta, source)
    rejected.extend(bad)
    frame, rejected_more = clean_survey(frame, site=site)
    rejected.extend(rejected_more)
    rejected.sort(key=lambda r: r["line"])
    meta.rejected = rejected
    meta.n_used = len(frame)
    if meta.n_rows == 0:
        raise InputError(f"no data rows below the header (line {header_line}), expected one "
                         f"row per heard BSSID and point", source=source, line=header_line + 1)
    if len(frame) == 0:
        first = "; ".join(f"line {r['line']}: {r['reason']}" for r in rejected[:3])
        raise InputError(f"no usable survey rows ({len(rejected)} rejected"
                         + (f"; first: {first}" if first else "") + ")", source=source,
                         line=rejected[0]["line"] if rejected else None)
    if aggregate:
        if point_tolerance_m is None:
            point_tolerance_m = WIGLE_POINT_TOLERANCE_M if fmt == "wigle" else \
                POINT_TOLERANCE_M
        frame, note = aggregate_samples(frame, point_tolerance_m=point_tolerance_m)
        meta.aggregation = note
    meta.n_aggregated = len(frame)
    return frame, meta


def _assemble(fmt, cols, mp, georef, lines, meta, source):
    """Standard columns from the raw ones; returns (frame, rejected rows)."""
    rejected: list[dict] = []
    n = len(lines)
    if fmt == "wide":
        x, bad_x = _numeric_with_bad(cols["x_m"])
        y, bad_y = _numeric_with_bad(cols["y_m"])
        sentinels = mp.get("not_heard", -200)
        sentinels = np.array(sentinels if isinstance(sentinels, list) else [sentinels], float)
        scale = float(mp.get("coordinate_scale", 1.0))
        parts = []
        for col, spec in mp["aps"].items():
            spec = spec if isinstance(spec, dict) else {"ap_id": str(spec)}
            v, bad_v = _numeric_with_bad(cols[f"ap::{col}"])
            heard = ~np.isin(v, sentinels) & ~np.isnan(v)
            for i in np.flatnonzero(bad_v):
                rejected.append({"line": int(lines[i]), "reason": f"column '{col}': "
                                 f"{cols[f'ap::{col}'].iloc[i]!r} is not a number"})
            keep = heard | (~np.isfinite(v) & ~np.isnan(v))
            bssid = normalise_bssid(str(spec["bssid"])) if spec.get("bssid") else None
            parts.append(pd.DataFrame({
                "x_m": x[keep] * scale, "y_m": y[keep] * scale,
                "bssid": bssid or "", "ssid": str(spec.get("ssid", "")),
                "channel": float(spec["channel"]) if "channel" in spec else np.nan,
                "rssi_dbm": v[keep], "ap_id": str(spec.get("ap_id", "")),
                "line": lines[keep], "_badxy": (bad_x | bad_y)[keep]}))
        frame = pd.concat(parts, ignore_index=True)
        frame = frame.sort_values("line", kind="stable").reset_index(drop=True)
        badxy = frame.pop("_badxy").to_numpy()
        # points whose coordinates are not numbers are reported once per line
        for ln in np.unique(frame["line"].to_numpy()[badxy]):
            rejected.append({"line": int(ln), "reason": "X/Y is not a number"})
        frame = frame[~badxy].reset_index(drop=True)
        nothing = np.setdiff1d(lines, frame["line"].to_numpy())
        if len(nothing):
            meta.notes.append(f"{len(nothing)} point(s) where no mapped AP was heard")
        meta.notes.append(f"wide file: {len(mp['aps'])} AP columns, not-heard sentinel "
                          f"{', '.join(f'{s:g}' for s in sentinels)}")
        return frame, rejected

    out: dict[str, Any] = {}
    badnum = np.zeros(n, bool)
    badcol = np.full(n, "", dtype=object)
    for k in ("x_m", "y_m", "channel", "rssi_dbm", "freq_mhz", "width_mhz", "lat", "lon"):
        if k in cols:
            v, bad = _numeric_with_bad(cols[k])
            out[k] = v
            newbad = bad & ~badnum
            if newbad.any():
                raw_vals = cols[k].astype(object).to_numpy()
                for i in np.flatnonzero(newbad):
                    badcol[i] = f"{k}: {str(raw_vals[i]).strip()!r} is not a number"
            badnum |= bad
    for k in ("bssid", "ssid", "timestamp", "device", "type"):
        if k in cols:
            c = cols[k]
            if not isinstance(c.dtype, pd.CategoricalDtype):
                c = c.astype(str).astype("category")
            out[k] = c.to_numpy() if k == "type" else c.reset_index(drop=True)
    if fmt == "mapped":
        scale = float(mp.get("coordinate_scale", 1.0))
        out["x_m"] = out["x_m"] * scale
        out["y_m"] = out["y_m"] * scale
        if mp.get("signal_unit") == "percent":
            out["rssi_dbm"] = percent_to_dbm(out["rssi_dbm"], mp["percent_to_dbm"])
            conv = mp["percent_to_dbm"]
            meta.notes.append("signal converted from percent: " + (
                "NetworkManager scale, dBm = % - 120" if conv == "networkmanager"
                else f"linear 0..100 % -> {conv['min_dbm']}..{conv['max_dbm']} dBm"))
        if "channel" not in out:
            out["channel"] = channel_from_freq(out["freq_mhz"])
        if "ssid" not in out:
            out["ssid"] = pd.Categorical([""] * n)
    if fmt == "wigle":
        g = read_georef(georef)
        lat, lon = out.pop("lat"), out.pop("lon")
        latlon_bad = (np.abs(lat) > 90) | (np.abs(lon) > 180) | ((lat == 0) & (lon == 0))
        x, y = g.to_floor(np.where(latlon_bad, g.lat0, lat), np.where(latlon_bad, g.lon0, lon))
        x[latlon_bad | np.isnan(lat) | np.isnan(lon)] = np.nan
        out["x_m"], out["y_m"] = x, y
        for i in np.flatnonzero(latlon_bad & ~badnum & np.isfinite(lat) & np.isfinite(lon)):
            badcol[i] = "no GPS fix (latitude/longitude 0 or out of range)"
            badnum[i] = True
        meta.georef = g.describe()
        types = out.pop("type", None)
        if types is not None:
            t = pd.Series(types).astype(str).str.upper().to_numpy()
            other = (t != "WIFI") & ~badnum
            for i in np.flatnonzero(other):
                badcol[i] = f"not a Wi-Fi record (type {t[i]})"
            badnum |= other
        meta.notes.append(f"placed on the floor by a {g.kind} georeference of {g.n_points} "
                          f"points (rms {g.rms_m:.2f} m)")
    if fmt in ("native", "mapped") and mp.get("signal_unit", "dbm") == "dbm":
        r = out["rssi_dbm"][np.isfinite(out["rssi_dbm"])]
        if len(r) and np.median(r) > 0 and r.min() >= 0 and r.max() <= 100:
            raise InputError(f"rssi_dbm values are between 0 and 100 (median {np.median(r):g}): "
                             f"a signal quality in percent, not dBm; give a mapping file with "
                             f"signal_unit: percent and percent_to_dbm", source=source,
                             line=int(lines[0]) if len(lines) else None)
    if "channel" not in out and "freq_mhz" in out:
        out["channel"] = channel_from_freq(out["freq_mhz"])
    frame = pd.DataFrame({k: v for k, v in out.items()})
    frame["line"] = lines
    for i in np.flatnonzero(badnum):
        rejected.append({"line": int(lines[i]), "reason": badcol[i] or "value is not a number"})
    frame = frame[~badnum].reset_index(drop=True)
    return frame, rejected
