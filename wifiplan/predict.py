"""Prediction at points: the ``wifiplan predict`` contract (DESIGN.md section 5)."""
from __future__ import annotations

import csv
import warnings

import numpy as np
import pandas as pd

from .site import Site
from .errors import InputError
from .fileio import check_size
from .radio.propagation import PropagationModel, rssi_points_dbm

MAX_POINTS_BYTES = 200 * 1024 * 1024
#: Coordinates beyond this [m] are refused: no factory is 1,000 km across, and the laws'
#: distances would overflow.
MAX_COORDINATE_M = 1e6


def read_points_csv(path) -> pd.DataFrame:
    """Read a CSV with ``x_m`` and ``y_m`` columns; errors name the line. The frame keeps
    the coordinates as written (``x_text``, ``y_text``) so that the output joins back onto
    the input exactly."""
    p = check_size(path, MAX_POINTS_BYTES)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)
            df = pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8-sig",
                             index_col=False)
    except pd.errors.ParserWarning:        # a row longer than the header: pandas would shift
        raise InputError("a row has more fields than the header x_m,y_m",
                         source=str(p), line=_first_long_row(p)) from None
    except pd.errors.EmptyDataError:
        raise InputError("file is empty, expected a CSV with columns x_m,y_m",
                         source=str(p)) from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputError(f"not a readable CSV ({str(exc).splitlines()[0]})",
                         source=str(p)) from None
    df.columns = [c.strip() for c in df.columns]
    for c in ("x_m", "y_m"):
        if c not in df.columns:
            raise InputError(f"missing column '{c}', expected columns x_m,y_m "
                             f"(found {', '.join(df.columns)})", source=str(p), line=1)
    if len(df) == 0:
        raise InputError("no points, expected at least one row with x_m,y_m", source=str(p))
    out = {}
    for c in ("x_m", "y_m"):
        text = df[c].str.strip()
        v = pd.to_numeric(text, errors="coerce")
        bad = ~np.isfinite(v.to_numpy(float)) | (np.abs(v.to_numpy(float)) > MAX_COORDINATE_M)
        if bad.any():
            i = int(np.argmax(bad))
            raise InputError(f"column {c}: expected a finite number of metres within "
                             f"{MAX_COORDINATE_M:g}, got {str(df[c].iloc[i])[:40]!r}",
                             source=str(p), line=i + 2)
        out[c] = v.to_numpy(float)
        out[c[0] + "_text"] = text.to_numpy()
    return pd.DataFrame(out)



def _first_long_row(p) -> int | None:
    with open(p, encoding="utf-8-sig", newline="") as fh:
        rows = csv.reader(fh)
        n = len(next(rows, []))
        for row in rows:
            if len(row) > n:
                return rows.line_num
    return None


def predict_points(site: Site, aps, points: pd.DataFrame, model: PropagationModel | None = None
                   ) -> pd.DataFrame:
    """Long frame ``x_m, y_m, ap_id, rssi_dbm``: one row per point and AP (point-major);
    the coordinates as the points file wrote them when it came from
    :func:`read_points_csv`."""
    x = points["x_m"].to_numpy(float)
    y = points["y_m"].to_numpy(float)
    rssi = rssi_points_dbm(site, aps, x, y, model)
    n_ap = len(aps)
    xo = points["x_text"].to_numpy() if "x_text" in points else x
    yo = points["y_text"].to_numpy() if "y_text" in points else y
    return pd.DataFrame({
        "x_m": np.repeat(xo, n_ap), "y_m": np.repeat(yo, n_ap),
        "ap_id": np.tile([a.id for a in aps], len(x)),
        "rssi_dbm": rssi.T.ravel(),
    })
