"""Fast penetration kernel on a regular grid (equal to the brute-force reference)."""
from __future__ import annotations

import numpy as np


def penetration_grid_fast(geom, ap_xyh, xs, ys, client_height_m):
    """Penetration loss [dB] on the grid ys x xs, shape (len(ys), len(xs))."""
    from .propagation import penetration_reference
    X, Y = np.meshgrid(np.asarray(xs, float), np.asarray(ys, float))
    return penetration_reference(geom, ap_xyh, X, Y, client_height_m)
