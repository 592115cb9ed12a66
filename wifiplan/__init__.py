"""wifiplan: plan and verify factory Wi-Fi (5 GHz, 20 MHz, non-DFS small cells)."""
from .errors import InputError
from .plan import AP, Plan, load_plan, save_plan
from .radio.propagation import Geometry, PropagationModel, path_loss_db
from .radio.radiomap import RadioMap, compute_radiomap
from .site import Site, load_site, save_site

__all__ = ["AP", "Geometry", "InputError", "Plan", "PropagationModel", "RadioMap", "Site",
           "compute_radiomap", "load_plan", "load_site", "path_loss_db", "save_plan", "save_site"]
__version__ = "0.1.0"
