"""Reading and checking a terminal log (:func:`read_log`).

Terminal log (CSV, one row per sample; UTF-8, UTF-8 with BOM or Shift_JIS/cp932)
--------------------------------------------------------------------------------
Required columns:

``timestamp``
    ISO 8601 (``2025-08-11T09:00:00Z``; no zone means UTC) or Unix seconds.
``device``
    Terminal id.
``bssid``
    The BSS of the row (any MAC spelling: ``02:1A:..``, ``02-1a-..``, ``021a.0000.0001``).
``rssi_dbm``
    Received power of that BSS at the terminal [dBm], -120..0.

Optional columns:

``kind``
    ``assoc`` (default): the terminal is associated with ``bssid``;
    ``scan``: the terminal heard ``bssid`` in a scan (or a 802.11k neighbour report) while
    associated elsewhere. All ``scan`` rows of one device with one timestamp are one scan.
``neighbor_bssid``, ``neighbor_rssi_dbm``
    The strongest other BSS heard at the time of an ``assoc`` row, for terminals that log
    one line per sample; read as a one-entry scan at the row's time.
``x_m``, ``y_m``
    Where the terminal was [m]; weak-signal samples are located by them in the report.

Other columns are ignored (listed in the report). The line of a row is its line in the
file (the header is line 1). Rows that cannot be used are reported with their line and
reason and left out; a file without a usable association row is bad input.

Times are written back (in the reports and the simulated logs) by :func:`iso_time`.
"""
from __future__ import annotations

import io

import numpy as np
import pandas as pd

from ..errors import InputError
from ..fileio import check_size
from ..plan import normalise_bssid

MAX_LOG_BYTES = 500 * 1024 * 1024
MAX_LISTED_BAD_ROWS = 200

REQUIRED = ("timestamp", "device", "bssid", "rssi_dbm")
#: The latest timestamp a log may carry [Unix s]: 2100-01-01T00:00:00Z.
MAX_UNIX_S = 4_102_444_800.0
OPTIONAL = ("kind", "neighbor_bssid", "neighbor_rssi_dbm", "x_m", "y_m")


def iso_time(t: float) -> str:
    """Unix seconds ``t`` as ISO 8601 UTC with milliseconds (``2025-08-11T09:00:00.000Z``)."""
    return pd.Timestamp(t, unit="s", tz="UTC").strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _decode(raw: bytes, source: str) -> str:
    for enc in ("utf-8-sig", "cp932"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    raise InputError("not UTF-8 or Shift_JIS text, expected a CSV terminal log", source=source)


def read_log(logs, source: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Read and check a terminal log.

    Returns ``(assoc, scans, meta)``: association samples (``line, t, device, bssid,
    rssi_dbm, x_m, y_m``, ``t`` in Unix seconds), scan observations (``line, t, device,
    bssid, rssi_dbm``) and ``meta`` with ``bad_rows`` (line, reason), ``bad_row_count``,
    ``rows``, ``ignored_columns`` and ``source``. Raises :class:`InputError` when nothing
    is usable."""
    if isinstance(logs, pd.DataFrame):
        df = logs.copy()
        source = source or "<logs>"
        df.columns = [str(c).strip() for c in df.columns]
        df = df.astype(str).replace({"nan": "", "None": "", "NaN": ""})
    else:
        p = check_size(logs, MAX_LOG_BYTES)
        source = source or str(p)
        text = _decode(p.read_bytes(), source)
        if not text.strip():
            raise InputError("file is empty, expected a CSV with columns "
                             + ",".join(REQUIRED), source=source)
        try:
            df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False,
                             skip_blank_lines=False)
        except pd.errors.EmptyDataError:
            raise InputError("file is empty, expected a CSV with columns "
                             + ",".join(REQUIRED), source=source) from None
        except pd.errors.ParserError as exc:
            raise InputError(f"not a readable CSV ({str(exc).splitlines()[0]})",
                             source=source) from None
        df.columns = [c.strip() for c in df.columns]
    lower = {c.lower(): c for c in df.columns}
    df = df.rename(columns={orig: low for low, orig in lower.items()})
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise InputError(f"missing column '{missing[0]}', expected columns "
                         f"{','.join(REQUIRED)} (found {','.join(df.columns) or 'none'})",
                         source=source, line=1)
    ignored = [c for c in df.columns if c not in REQUIRED + OPTIONAL]
    n = len(df)
    line = np.arange(n) + 2
    blank = (df.apply(lambda c: c.str.strip()) == "").all(axis=1).to_numpy()
    reasons = np.full(n, "", dtype=object)

    def bad(mask, reason):
        m = np.asarray(mask) & (reasons == "") & ~blank
        reasons[m] = reason

    ts = df["timestamp"].str.strip()
    t = np.array(pd.to_numeric(ts, errors="coerce"), dtype=float)
    iso = ~np.isfinite(t) & (ts != "").to_numpy()
    if iso.any():
        parsed = pd.to_datetime(ts[iso], format="ISO8601", utc=True, errors="coerce")
        secs = (parsed - pd.Timestamp("1970-01-01", tz="UTC")).dt.total_seconds()
        t[iso] = secs.to_numpy(float)
    bad(~np.isfinite(t), "timestamp: expected ISO 8601 or Unix seconds")
    # Unix seconds of 1970-2100; a number beyond is milliseconds or garbage, and would not
    # even convert to a date
    far = np.isfinite(t) & ((t < 0) | (t > MAX_UNIX_S))
    bad(far & (t > MAX_UNIX_S) & (t <= MAX_UNIX_S * 1000),
        "timestamp: Unix seconds after 2100 (milliseconds? give seconds)")
    bad(far, "timestamp: Unix seconds out of range (1970-2100)")
    dev = df["device"].str.strip()
    bad((dev == "").to_numpy(), "device: empty")
    bssid = df["bssid"].map(normalise_bssid)
    bad(bssid.isna().to_numpy(), "bssid: expected a MAC address like 02:1a:00:00:00:01")
    rssi = pd.to_numeric(df["rssi_dbm"].str.strip(), errors="coerce").to_numpy(float)
    bad(~((rssi >= -120) & (rssi <= 0)), "rssi_dbm: expected a number from -120 to 0 dBm")
    kind = (df["kind"].str.strip().str.lower().replace("", "assoc") if "kind" in df.columns
            else pd.Series(["assoc"] * n, index=df.index))
    bad(~kind.isin(["assoc", "scan"]).to_numpy(), "kind: expected assoc or scan")
    xy = {}
    for c in ("x_m", "y_m"):
        if c in df.columns:
            s = df[c].str.strip()
            v = pd.to_numeric(s, errors="coerce").to_numpy(float)
            bad((s != "").to_numpy() & ~np.isfinite(v), f"{c}: expected a number in metres")
            xy[c] = v
        else:
            xy[c] = np.full(n, np.nan)
    nb_b = nb_r = None
    if "neighbor_bssid" in df.columns:
        s = df["neighbor_bssid"].str.strip()
        has = (s != "").to_numpy()
        nb_b = s.map(lambda v: normalise_bssid(v) if v else None)
        bad(has & nb_b.isna().to_numpy(), "neighbor_bssid: expected a MAC address")
        r = (pd.to_numeric(df["neighbor_rssi_dbm"].str.strip(), errors="coerce").to_numpy(float)
             if "neighbor_rssi_dbm" in df.columns else np.full(n, np.nan))
        bad(has & ~((r >= -120) & (r <= 0)),
            "neighbor_rssi_dbm: expected a number from -120 to 0 dBm with neighbor_bssid")
        nb_r = r

    ok = (reasons == "") & ~blank
    rows = pd.DataFrame({"line": line, "t": t, "device": dev.to_numpy(), "bssid": bssid.to_numpy(),
                         "rssi_dbm": rssi, "x_m": xy["x_m"], "y_m": xy["y_m"],
                         "kind": kind.to_numpy()})[ok]
    assoc = rows[rows["kind"] == "assoc"].drop(columns="kind")
    scans = rows[rows["kind"] == "scan"][["line", "t", "device", "bssid", "rssi_dbm"]]
    if nb_b is not None:
        sel = ok & (kind == "assoc").to_numpy() & nb_b.notna().to_numpy()
        scans = pd.concat([scans, pd.DataFrame({
            "line": line[sel], "t": t[sel], "device": dev.to_numpy()[sel],
            "bssid": nb_b.to_numpy()[sel], "rssi_dbm": nb_r[sel]})], ignore_index=True)
    bad_idx = np.flatnonzero(reasons != "")
    meta = {"source": source, "rows": int(n - blank.sum()),
            "bad_row_count": int(len(bad_idx)),
            "bad_rows": [{"line": int(line[i]), "reason": str(reasons[i])}
                         for i in bad_idx[:MAX_LISTED_BAD_ROWS]],
            "ignored_columns": ignored}
    if assoc.empty:
        first = f"; first bad row: line {meta['bad_rows'][0]['line']}: " \
                f"{meta['bad_rows'][0]['reason']}" if meta["bad_rows"] else ""
        raise InputError(f"no usable association rows ({meta['bad_row_count']} bad rows of "
                         f"{meta['rows']}){first}", source=source)
    assoc = assoc.sort_values(["device", "t", "line"], kind="stable").reset_index(drop=True)
    scans = scans.sort_values(["device", "t", "line"], kind="stable").reset_index(drop=True)
    return assoc, scans, meta
