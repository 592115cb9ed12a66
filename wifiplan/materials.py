"""5 GHz penetration loss of building materials and factory objects.

Each entry is the loss [dB] of one crossing at about 5.5 GHz (channels 36-165) with the
source of the value. They are starting values: ``wifiplan survey calibrate`` fits them to
the building, and a site may add or override materials in its ``materials:`` key.

Sources
-------
- [38901] 3GPP TR 38.901 V17.0.0, Table 7.4.3-1 "Material penetration losses" (f in GHz):
  standard multi-pane glass 2 + 0.2 f, IRR glass 23 + 0.3 f, concrete 5 + 4 f,
  wood 4.85 + 0.12 f.
- [P2040] ITU-R P.2040-3 (2023), Table 3 material properties, and the slab transmission
  loss of Section 3 for the stated thicknesses.
- [P1238] ITU-R P.1238-12 (2023), penetration and floor loss factors for industrial sites.
- [survey] typical figures of 5 GHz site surveys in warehouses and plants (racking with
  stock, machine tools); these are the least certain values and the first to calibrate.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

REFERENCE_FREQ_GHZ = 5.5


@dataclass(frozen=True)
class Material:
    name: str
    loss_db: float
    source: str
    description: str = ""
    surface: str = "concrete"      # ITU-R P.2040 class of its surface (reflection, absorption)


def _f(expr: float) -> float:
    return round(expr, 2)


_F = REFERENCE_FREQ_GHZ

MATERIALS: dict[str, Material] = {m.name: m for m in [
    Material("plasterboard", 3.0, "[P2040] Table 3 plasterboard, 2 x 12.5 mm on studs",
             "office partition, drywall", "plasterboard"),
    Material("glass", _f(2 + 0.2 * _F),
             "[38901] Table 7.4.3-1 standard multi-pane glass, 2 + 0.2 f",
             "window, glazed partition", "glass"),
    Material("irr-glass", _f(23 + 0.3 * _F), "[38901] Table 7.4.3-1 IRR glass, 23 + 0.3 f",
             "metal-coated (infrared-reflecting) glass", "metal"),
    Material("wood", _f(4.85 + 0.12 * _F), "[38901] Table 7.4.3-1 wood, 4.85 + 0.12 f",
             "timber wall or door", "wood"),
    Material("brick", 6.0, "[P2040] Table 3 brick, 10-20 cm slab (4-7 dB)", "brick wall", "brick"),
    Material("concrete", _f(5 + 4 * _F), "[38901] Table 7.4.3-1 concrete, 5 + 4 f",
             "poured concrete wall, 20 cm", "concrete"),
    Material("concrete-block", 12.0, "[P2040] Table 3 concrete, hollow block 15-20 cm",
             "concrete block (breeze block) wall", "concrete"),
    Material("metal", 35.0, "[P1238] metal walls effectively opaque (25-40 dB); calibrate",
             "sheet-metal wall, metal enclosure", "metal"),
    Material("metal-rack", 20.0, "[survey] steel racking with stock, one rack depth; calibrate",
             "pallet or shelf racking", "metal"),
    Material("machinery", 15.0, "[survey] machine tool or press body seen through; calibrate",
             "press, machine tool, conveyor", "metal"),
    Material("cold-room", 30.0, "[survey] insulated sandwich panel with steel skins; calibrate",
             "cold store, clean-room panel", "metal"),
    Material("wire-mesh", 8.0, "[P2040] metallic mesh, mesh size >> lambda/10; calibrate",
             "mesh fence or cage", "plasterboard"),
]}


def material_table(overrides: dict[str, float] | None = None) -> dict[str, float]:
    """Loss per material [dB]: the built-in library updated with ``overrides``."""
    table = {name: m.loss_db for name, m in MATERIALS.items()}
    table.update(overrides or {})
    return table


# --------------------------------------------------------------------------------------
# Electrical properties of surfaces: reflection and absorption (hall model)
# --------------------------------------------------------------------------------------

#: ITU-R P.2040-3 (2023) Table 3: relative permittivity eta' = a f^b and conductivity
#: sigma = c f^d [S/m], f in GHz (valid 1-10 GHz for these classes, 1-100 GHz for metal).
P2040_PROPERTIES: dict[str, tuple[float, float, float, float]] = {
    "concrete": (5.24, 0.0, 0.0462, 0.7822),
    "brick": (3.91, 0.0, 0.0238, 0.16),
    "plasterboard": (2.73, 0.0, 0.0085, 0.9395),
    "wood": (1.99, 0.0, 0.0047, 1.0718),
    "glass": (6.31, 0.0, 0.0036, 1.3394),
    "ceiling-board": (1.48, 0.0, 0.0011, 1.075),
    "chipboard": (2.58, 0.0, 0.0217, 0.78),
    "floorboard": (3.66, 0.0, 0.0044, 1.3515),
    "metal": (1.0, 0.0, 1e7, 0.0),
}

#: A material a site defines by its loss alone takes the surface of its loss class
#: (below 6 dB a light partition, below 20 dB masonry, else metal-like).
SURFACE_BY_LOSS_DB = ((6.0, "plasterboard"), (20.0, "concrete"), (float("inf"), "metal"))


def surface_class(name: str, site_losses: dict[str, float] | None = None) -> str:
    """ITU-R P.2040 surface class of a material: its own for a library material (and for
    a P.2040 class name), else the class of its loss (:data:`SURFACE_BY_LOSS_DB`)."""
    if site_losses and name in site_losses and name not in MATERIALS:
        loss = float(site_losses[name])
        return next(c for lim, c in SURFACE_BY_LOSS_DB if loss < lim)
    if name in MATERIALS:
        return MATERIALS[name].surface
    if name in P2040_PROPERTIES:
        return name
    raise KeyError(name)


def complex_permittivity(surface: str, freq_ghz: float) -> complex:
    """Complex relative permittivity eta = eta' - j 17.98 sigma / f, ITU-R P.2040-3
    with the Table 3 fits (``surface`` a key of :data:`P2040_PROPERTIES`)."""
    a, b, c, d = P2040_PROPERTIES[surface]
    return complex(a * freq_ghz ** b, -17.98 * c * freq_ghz ** d / freq_ghz)


def fresnel_reflectance(surface: str, freq_ghz: float, cos_theta, polarization: str = "TM"):
    """Power reflection coefficient |R|^2 of a half-space of ``surface`` at the angle of
    incidence theta from the normal (the Fresnel coefficients of ITU-R P.2040-3 section 2):

        R_TE = (cos t - sqrt(eta - sin^2 t)) / (cos t + sqrt(eta - sin^2 t))
        R_TM = (eta cos t - sqrt(eta - sin^2 t)) / (eta cos t + sqrt(eta - sin^2 t))

    ``polarization``: "TE" (E parallel to the surface), "TM" (E in the plane of
    incidence: a vertical antenna over a floor or under a roof) or "mean" of both."""
    eta = complex_permittivity(surface, freq_ghz)
    c = np.clip(np.asarray(cos_theta, float), 0.0, 1.0)
    root = np.sqrt(eta - (1.0 - c ** 2))
    te = np.abs((c - root) / (c + root)) ** 2
    tm = np.abs((eta * c - root) / (eta * c + root)) ** 2
    if polarization == "TE":
        return te
    if polarization == "TM":
        return tm
    return 0.5 * (te + tm)


def diffuse_absorption(surface: str, freq_ghz: float = REFERENCE_FREQ_GHZ) -> float:
    """Random-incidence absorption coefficient of a surface in a diffuse field,
    alpha = integral_0^(pi/2) (1 - |R(t)|^2) sin(2 t) dt (Paris' formula; H. Kuttruff, Room
    Acoustics, 6th ed., the random-incidence absorption coefficient), with |R|^2 the mean of
    TE and TM
    (:func:`fresnel_reflectance`); midpoint rule on 2,000 angles (error < 1e-6)."""
    n = 2000
    t = (np.arange(n) + 0.5) * (np.pi / 2) / n
    r2 = fresnel_reflectance(surface, freq_ghz, np.cos(t), "mean")
    return float(np.sum((1.0 - r2) * np.sin(2.0 * t)) * (np.pi / 2) / n)
