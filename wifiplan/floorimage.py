"""A floor plan from a picture: a scanned or exported image with a two-point scale.

The designer marks two points on the image (pixel coordinates, origin top-left as in every
image viewer) and types the real distance between them, e.g. the two ends of a 20 m
dimension line. That gives metres per pixel; the image then spans
``[0, width_px * m_per_px] x [0, height_px * m_per_px]`` with y pointing up, the site's
convention, so pixel (px, py) is at ``(px * m_per_px, (height_px - py) * m_per_px)``.

:func:`site_from_image` makes a site of the image's extent (outline, one coverage zone) to
plan on with the image as background; walls are then drawn in the site YAML or come from a
DXF of the same floor.
"""
from __future__ import annotations

import io
import math
from dataclasses import dataclass

from .errors import InputError
from .fileio import MAX_INPUT_BYTES
from .rules import DEFAULT_MIN_RSSI_DBM

MAX_DISPLAY_PX = 2000        # the background kept for display is at most this wide or high
#: The largest image any reader decodes [px] (a floor scan at 10 mm/px of 700 m x 700 m):
#: checked from the header before decoding, and Pillow's own decompression-bomb limit.
MAX_IMAGE_PX = 50_000_000


@dataclass(frozen=True)
class FloorImage:
    """An image placed on the site: its size [px] and scale [m/px]."""
    width_px: int
    height_px: int
    m_per_px: float

    @property
    def width_m(self) -> float:
        return self.width_px * self.m_per_px

    @property
    def height_m(self) -> float:
        return self.height_px * self.m_per_px

    def to_site(self, px: float, py: float) -> tuple[float, float]:
        """Site coordinates [m] of pixel (px, py) (image y down, site y up)."""
        return px * self.m_per_px, (self.height_px - py) * self.m_per_px

    def to_pixel(self, x_m: float, y_m: float) -> tuple[float, float]:
        return x_m / self.m_per_px, self.height_px - y_m / self.m_per_px


def scale_from_points(p1_px, p2_px, distance_m: float) -> float:
    """Metres per pixel from two image points [px] and the real distance between them [m]."""
    try:
        d_m = float(distance_m)
        (x1, y1), (x2, y2) = [(float(a), float(b)) for a, b in (p1_px, p2_px)]
    except (TypeError, ValueError):
        raise InputError("scale: expected two points (x, y) in pixels and a distance in "
                         "metres") from None
    if not math.isfinite(d_m) or d_m <= 0:
        raise InputError(f"scale: the distance must be a positive number of metres, "
                         f"got {distance_m!r}")
    d_px = math.hypot(x2 - x1, y2 - y1)
    if d_px < 1.0:
        raise InputError("scale: the two points are the same pixel; mark two points that "
                         "are far apart on the image")
    return d_m / d_px


def _pillow():
    from PIL import Image
    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PX      # Pillow refuses beyond twice this itself
    return Image


def image_size_px(data: bytes) -> tuple[int, int] | None:
    """Width and height [px] an image's header gives, without decoding its pixels (and
    without Pillow's bomb check, which names no size); None if no format recognises it."""
    Image = _pillow()
    Image.init()
    head = data[:16]
    for fmt in list(Image.ID):
        factory, accept = Image.OPEN[fmt]
        try:
            ok = not accept or accept(head)
            if ok is True or (ok and not isinstance(ok, str)):
                return tuple(int(v) for v in factory(io.BytesIO(data), "").size)
        except Exception:            # a plugin's own refusal of a broken header: try the next
            continue
    return None


def check_image_px(width_px: int, height_px: int, name: str = "<image>") -> None:
    """InputError when an image of ``width_px`` x ``height_px`` is over :data:`MAX_IMAGE_PX`."""
    if int(width_px) * int(height_px) > MAX_IMAGE_PX:
        raise InputError(f"image of {int(width_px)} x {int(height_px)} px is larger than the "
                         f"limit of {MAX_IMAGE_PX:,} px", source=name)


def read_image(data: bytes, name: str = "<image>"):
    """Decode a PNG / JPEG / ... into an RGB(A) PIL image; InputError if it is not one, or
    if its header gives more than :data:`MAX_IMAGE_PX` pixels (checked before decoding)."""
    Image = _pillow()
    from PIL import UnidentifiedImageError
    if len(data) > MAX_INPUT_BYTES:
        raise InputError(f"file is {len(data) / 1e6:.1f} MB, larger than the limit of "
                         f"{MAX_INPUT_BYTES / 1e6:.0f} MB; refused before decoding", source=name)
    size = image_size_px(data)
    if size is not None:
        check_image_px(*size, name=name)
    try:
        img = Image.open(io.BytesIO(data))
        check_image_px(*img.size, name=name)
        img.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError,
            Image.DecompressionBombError) as exc:
        raise InputError(f"not a readable image ({str(exc).splitlines()[0]}), expected PNG "
                         "or JPEG", source=name) from None
    return img.convert("RGBA" if img.mode in ("RGBA", "LA", "P") else "RGB")


def display_copy(img):
    """A copy of ``img`` no larger than MAX_DISPLAY_PX on its long side (for backgrounds)."""
    im = img.copy()
    im.thumbnail((MAX_DISPLAY_PX, MAX_DISPLAY_PX))
    return im


def site_from_image(fi: FloorImage, name: str, *, regulatory_domain: str = "seed",
                    min_rssi_dbm: float = DEFAULT_MIN_RSSI_DBM) -> dict:
    """A site mapping covering the image: outline = image extent, one zone over all of it."""
    w, h = round(fi.width_m, 3), round(fi.height_m, 3)
    outline = [[0, 0], [w, 0], [w, h], [0, h]]
    return {"name": name, "regulatory_domain": regulatory_domain,
            "description": f"from a floor image of {fi.width_px} x {fi.height_px} px at "
                           f"{fi.m_per_px * 1000:.2f} mm/px",
            "outline": outline, "walls": [], "obstacles": [],
            "zones": [{"name": "floor", "polygon": outline, "min_rssi_dbm": min_rssi_dbm,
                       "terminals": {}}]}
