"""AP models: the hardware a plan's AP names with ``model:``.

A model states what the planner and the bill of materials need of an AP: its radios, the
highest conducted power of its 5 GHz radio [dBm], its antenna (a pattern of
:mod:`wifiplan.radio.antenna` and the gain [dBi] it is built with, or connectors for an
external one) and its PoE class, i.e. what the switch port must budget for it.

The models below are **generic**: their figures are chosen the way small enterprise
802.11ax APs' datasheets state them (2x2 or 4x4 MIMO, 20-23 dBm per 5 GHz radio with all
chains, 3-6 dBi integrated antennas, 802.3af class 3 or 802.3at class 4 power), not a
product's. An AP without a model is ``generic-omni-ceiling`` with the site's own
``propagation.ap_gain_dbi`` (what earlier versions assumed for every AP).

PoE: the power a switch (PSE) reserves per class, IEEE 802.3 clause 33 (802.3af/at: class
0 and 3 15.4 W, class 4 30 W, Type 2) and clause 145 (802.3bt: class 5-8 45-90 W).
"""
from __future__ import annotations

from dataclasses import dataclass

#: Power the PSE reserves per PoE class [W] (IEEE 802.3 clauses 33 and 145).
POE_CLASS_PSE_W = {0: 15.4, 1: 4.0, 2: 7.0, 3: 15.4, 4: 30.0, 5: 45.0, 6: 60.0, 7: 75.0,
                   8: 90.0}
POE_STANDARD = {0: "802.3af", 1: "802.3af", 2: "802.3af", 3: "802.3af", 4: "802.3at",
                5: "802.3bt", 6: "802.3bt", 7: "802.3bt", 8: "802.3bt"}


@dataclass(frozen=True)
class APModel:
    """One AP model: ``antenna`` a built-in pattern name, ``antenna_gain_dbi`` [dBi] its
    gain as built, ``max_tx_power_dbm`` [dBm] the 5 GHz radio's highest conducted power,
    ``poe_class`` the IEEE 802.3 class it is powered at; ``external_antenna``: it has
    connectors, so a plan may name another antenna (a built-in or a pattern file)."""
    name: str
    description: str
    radios: int
    max_tx_power_dbm: float
    antenna: str
    antenna_gain_dbi: float
    poe_class: int
    external_antenna: bool = False

    @property
    def poe_w(self) -> float:
        """Power the switch port budgets [W] (the PSE power of the class)."""
        return POE_CLASS_PSE_W[self.poe_class]

    @property
    def poe_label(self) -> str:
        return f"{POE_STANDARD[self.poe_class]} class {self.poe_class}"


#: The model of an AP that names none (earlier versions' only AP).
DEFAULT_MODEL = "generic-omni-ceiling"

MODELS = {m.name: m for m in [
    APModel(DEFAULT_MODEL, "generic 2x2 802.11ax ceiling AP, integrated omni antennas",
            radios=2, max_tx_power_dbm=20.0, antenna="omni", antenna_gain_dbi=3.0,
            poe_class=4),
    APModel("generic-omni-compact", "generic compact 2x2 802.11ax AP, integrated omni "
            "antennas, 802.3af powered", radios=2, max_tx_power_dbm=18.0, antenna="omni",
            antenna_gain_dbi=4.0, poe_class=3),
    APModel("generic-patch-ceiling", "generic 2x2 802.11ax ceiling AP, integrated downward "
            "patch (70 degree beam)", radios=2, max_tx_power_dbm=20.0, antenna="patch",
            antenna_gain_dbi=8.0, poe_class=4),
    APModel("generic-external-antenna", "generic 4x4 802.11ax AP with RP-SMA connectors for "
            "external antennas (shipped with a 3 dBi omni kit)", radios=2,
            max_tx_power_dbm=23.0, antenna="omni", antenna_gain_dbi=3.0, poe_class=4,
            external_antenna=True),
]}


def ap_model(name: str) -> APModel:
    """The model of that name (KeyError when there is none)."""
    return MODELS[name]


def model_of(ap) -> APModel:
    """The model an AP names, :data:`DEFAULT_MODEL` when it names none."""
    return MODELS[getattr(ap, "model", None) or DEFAULT_MODEL]


def poe_w(ap) -> float:
    """PoE power [W] the switch budgets for ``ap``."""
    return model_of(ap).poe_w
