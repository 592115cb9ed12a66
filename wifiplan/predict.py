"""Prediction at points: the ``wifiplan predict`` contract (DESIGN.md section 5)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import InputError
from .fileio import check_size
from .propagation import PropagationModel, rssi_points_dbm

MAX_POINTS_BYTES = 200 * 1024 * 1024


def read_points_csv(path) -> pd.DataFrame:
    """Read a CSV with ``x_m`` and ``y_m`` columns; errors name the line."""
    p = check_size(path, MAX_POINTS_BYTES)
    try:
        df = pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8-sig")
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
        v = pd.to_numeric(df[c].str.strip(), errors="coerce")
        bad = ~np.isfinite(v.to_numpy(float))
        if bad.any():
            i = int(np.argmax(bad))
            raise InputError(f"column {c}: expected a finite number in metres, got "
                             f"{df[c].iloc[i]!r}", source=str(p), line=i + 2)
        out[c] = v.to_numpy(float)
    return pd.DataFrame(out)


def predict_points(site, aps, points: pd.DataFrame, model: PropagationModel | None = None
                   ) -> pd.DataFrame:
    """Long frame ``x_m, y_m, ap_id, rssi_dbm``: one row per point and AP (point-major)."""
    x = points["x_m"].to_numpy(float)
    y = points["y_m"].to_numpy(float)
    rssi = rssi_points_dbm(site, aps, x, y, model)
    n_ap = len(aps)
    return pd.DataFrame({
        "x_m": np.repeat(x, n_ap), "y_m": np.repeat(y, n_ap),
        "ap_id": np.tile([a.id for a in aps], len(x)),
        "rssi_dbm": rssi.T.ravel(),
    })
