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

REFERENCE_FREQ_GHZ = 5.5


@dataclass(frozen=True)
class Material:
    name: str
    loss_db: float
    source: str
    description: str = ""


def _f(expr: float) -> float:
    return round(expr, 2)


_F = REFERENCE_FREQ_GHZ

MATERIALS: dict[str, Material] = {m.name: m for m in [
    Material("plasterboard", 3.0, "[P2040] Table 3 plasterboard, 2 x 12.5 mm on studs",
             "office partition, drywall"),
    Material("glass", _f(2 + 0.2 * _F), "[38901] Table 7.4.3-1 standard multi-pane glass, 2 + 0.2 f",
             "window, glazed partition"),
    Material("irr-glass", _f(23 + 0.3 * _F), "[38901] Table 7.4.3-1 IRR glass, 23 + 0.3 f",
             "metal-coated (infrared-reflecting) glass"),
    Material("wood", _f(4.85 + 0.12 * _F), "[38901] Table 7.4.3-1 wood, 4.85 + 0.12 f",
             "timber wall or door"),
    Material("brick", 6.0, "[P2040] Table 3 brick, 10-20 cm slab (4-7 dB)", "brick wall"),
    Material("concrete", _f(5 + 4 * _F), "[38901] Table 7.4.3-1 concrete, 5 + 4 f",
             "poured concrete wall, 20 cm"),
    Material("concrete-block", 12.0, "[P2040] Table 3 concrete, hollow block 15-20 cm",
             "concrete block (breeze block) wall"),
    Material("metal", 35.0, "[P1238] metal walls effectively opaque (25-40 dB); calibrate",
             "sheet-metal wall, metal enclosure"),
    Material("metal-rack", 20.0, "[survey] steel racking with stock, one rack depth; calibrate",
             "pallet or shelf racking"),
    Material("machinery", 15.0, "[survey] machine tool or press body seen through; calibrate",
             "press, machine tool, conveyor"),
    Material("cold-room", 30.0, "[survey] insulated sandwich panel with steel skins; calibrate",
             "cold store, clean-room panel"),
    Material("wire-mesh", 8.0, "[P2040] metallic mesh, mesh size >> lambda/10; calibrate",
             "mesh fence or cage"),
]}


def material_table(overrides: dict[str, float] | None = None) -> dict[str, float]:
    """Loss per material [dB]: the built-in library updated with ``overrides``."""
    table = {name: m.loss_db for name, m in MATERIALS.items()}
    table.update(overrides or {})
    return table
