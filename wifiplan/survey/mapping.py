"""The column-mapping file: any CSV's columns (or a wide file's AP columns) to the frame's.

Mapping file (YAML)::

    columns: {x_m: X, y_m: Y, bssid: BSSID, ssid: SSID, channel: CHAN, rssi_dbm: SIGNAL}
    delimiter: ";"            # optional
    decimal: ","              # optional
    header_line: 1            # optional, 1-based line of the header
    coordinate_scale: 1.0     # optional, metres per file unit (0.3048 for feet)
    signal_unit: percent      # dbm (default) or percent
    percent_to_dbm: networkmanager   # or {min_dbm: -100, max_dbm: -40} (linear)
    # wide files:
    x_column: X
    y_column: Y
    not_heard: -200
    aps: {"AP1 RSS(dBm)": AP1,
          "AP2 RSS(dBm)": {ap_id: AP2, bssid: "02:1a:00:00:00:02", channel: 44}}

:func:`read_mapping` checks the file; :func:`percent_to_dbm` is the conversion it names.
"""
from __future__ import annotations

import codecs

import numpy as np

from ..fileio import read_input, read_yaml
from ..validation import Ctx, check_keys, check_number

# The frame's columns (the native format's header): what a mapping's ``columns`` may name
NATIVE_REQUIRED = ("x_m", "y_m", "bssid", "ssid", "channel", "rssi_dbm")
NATIVE_OPTIONAL = ("freq_mhz", "width_mhz", "timestamp", "device")

MAPPING_KEYS = {"format", "columns", "delimiter", "decimal", "header_line", "encoding",
                "coordinate_scale", "signal_unit", "percent_to_dbm", "x_column", "y_column",
                "not_heard", "aps", "description", "notes"}
TARGETS = set(NATIVE_REQUIRED) | set(NATIVE_OPTIONAL)


def read_mapping(mapping) -> tuple[dict, str]:
    """Load and check a column-mapping (or AP-column mapping) file (a path, bytes, a
    file-like object or the parsed dict); ``(dict, source)``."""
    if mapping is None:
        return {}, "<mapping>"
    if isinstance(mapping, dict):
        data, lines, source = mapping, {}, "<mapping>"
    else:
        raw, source = read_input(mapping)
        data, lines = read_yaml(raw, name=source)
    ctx = Ctx(source, lines)
    if not isinstance(data, dict):
        ctx.fail((), "expected a mapping with 'columns' (any CSV) or 'aps' (wide files)")
    check_keys(ctx, (), data, MAPPING_KEYS)
    if "columns" not in data and "aps" not in data:
        ctx.fail((), "expected 'columns' (frame column -> file column) or 'aps' "
                     "(file column -> plan AP)")
    cols = data.get("columns") or {}
    if not isinstance(cols, dict):
        ctx.fail(("columns",), "expected a mapping like {x_m: X, rssi_dbm: RSSI}")
    check_keys(ctx, ("columns",), cols, TARGETS)
    for k in ("delimiter", "decimal"):
        if k in data and (not isinstance(data[k], str) or len(data[k]) != 1):
            ctx.fail((k,), f"expected one character, got {data[k]!r}")
    if data.get("delimiter") and data.get("decimal") and data["delimiter"] == data["decimal"]:
        ctx.fail(("decimal",), "the decimal mark cannot be the delimiter")
    if "header_line" in data:
        h = check_number(ctx, ("header_line",), data["header_line"], lo=1, hi=10000,
                         what="a line number")
        if not float(h).is_integer():
            ctx.fail(("header_line",), f"expected a whole line number, got {data['header_line']!r}")
        data = {**data, "header_line": int(h)}
    if "encoding" in data:
        enc = data["encoding"]
        try:
            if not isinstance(enc, str):
                raise LookupError
            codecs.lookup(enc)
        except LookupError:
            ctx.fail(("encoding",), f"expected a text encoding such as utf-8, cp932 or "
                                    f"shift_jis, got {enc!r}")
    for k, v in cols.items():
        if not isinstance(v, (str, int)) or isinstance(v, bool):
            ctx.fail(("columns", k), f"expected the name of one file column, got {v!r}")
    for k in ("x_column", "y_column"):
        if k in data and (not isinstance(data[k], (str, int)) or isinstance(data[k], bool)):
            ctx.fail((k,), f"expected the name of one file column, got {data[k]!r}")
    if "coordinate_scale" in data:
        check_number(ctx, ("coordinate_scale",), data["coordinate_scale"], lo=1e-6, hi=1e6,
                     what="metres per file unit")
    unit = data.get("signal_unit", "dbm")
    if unit not in ("dbm", "percent"):
        ctx.fail(("signal_unit",), f"expected dbm or percent, got {unit!r}")
    if unit == "percent":
        conv = data.get("percent_to_dbm")
        if conv is None:
            ctx.fail(("signal_unit",), "a percent signal is not dBm: give 'percent_to_dbm: "
                                       "networkmanager' or {min_dbm: .., max_dbm: ..}")
        if isinstance(conv, dict):
            check_keys(ctx, ("percent_to_dbm",), conv, {"min_dbm", "max_dbm"},
                       {"min_dbm", "max_dbm"})
            lo = check_number(ctx, ("percent_to_dbm", "min_dbm"), conv["min_dbm"], lo=-120, hi=0,
                              what="dBm")
            hi = check_number(ctx, ("percent_to_dbm", "max_dbm"), conv["max_dbm"], lo=-120, hi=0,
                              what="dBm")
            if hi <= lo:
                ctx.fail(("percent_to_dbm",), "max_dbm must be above min_dbm")
        elif conv != "networkmanager":
            ctx.fail(("percent_to_dbm",), f"expected networkmanager or {{min_dbm, max_dbm}}, "
                                          f"got {conv!r}")
    if "not_heard" in data:
        nh = data["not_heard"]
        for i, v in enumerate(nh if isinstance(nh, list) else [nh]):
            check_number(ctx, ("not_heard",) + ((i,) if isinstance(nh, list) else ()), v,
                         what="a sentinel value")
    aps = data.get("aps")
    if aps is not None:
        if not isinstance(aps, dict) or not aps:
            ctx.fail(("aps",), "expected a mapping of file column -> plan AP id or "
                               "{ap_id, bssid, ssid, channel}")
        for col, v in aps.items():
            if isinstance(v, dict):
                check_keys(ctx, ("aps", col), v, {"ap_id", "bssid", "ssid", "channel"})
                if "ap_id" not in v and "bssid" not in v:
                    ctx.fail(("aps", col), "give 'ap_id' or 'bssid'")
                if "channel" in v:
                    check_number(ctx, ("aps", col, "channel"), v["channel"], lo=1, hi=233,
                                 what="a channel number")
            elif not isinstance(v, (str, int)):
                ctx.fail(("aps", col), f"expected a plan AP id, got {v!r}")
    return data, source


def percent_to_dbm(pct, conversion) -> np.ndarray:
    """Signal quality [%] to RSSI [dBm].

    ``networkmanager`` inverts NetworkManager's nl80211 conversion
    (``nl80211_xbm_to_percent`` in src/core/platform/wifi/nm-wifi-utils-nl80211.c: the level
    is clamped to -90..-20 dBm and mapped linearly to 30..100 %), so dBm = % - 120 for 30..100 %
    (30 % means -90 dBm or weaker). A dict ``{min_dbm, max_dbm}`` maps 0..100 % linearly.
    """
    pct = np.asarray(pct, float)
    if conversion == "networkmanager":
        return pct - 120.0
    lo, hi = float(conversion["min_dbm"]), float(conversion["max_dbm"])
    return lo + pct / 100.0 * (hi - lo)
