"""Terminals walking the floor: a roaming simulation along routes (seed 8.1.3.5-8.1.3.6).

- :mod:`~wifiplan.roaming.model`: the terminal model (:class:`TerminalModel`: re-scan
  threshold, hysteresis, scan and hand-over times with and without 802.11k/r), one walk
  (:func:`walk`), the figures of a route and the report over a site's routes
  (:func:`simulate_roaming`, :func:`findings`);
- :mod:`~wifiplan.roaming.figures`: the route overlay (serving AP along each route) and the
  RSSI timeline with the roams.

The routes themselves (a site's ``routes:``, a ROUTES.yaml, the generated aisle walks) are
the site model's: :mod:`wifiplan.routes`.
"""
from .model import (DEFAULT_HYSTERESIS_DB, FT_HANDOVER_S, FULL_HANDOVER_S, PING_PONG_WINDOW_S,
                    TerminalModel, findings, simulate_roaming, walk)

__all__ = ["TerminalModel", "simulate_roaming", "walk", "findings", "DEFAULT_HYSTERESIS_DB",
           "FT_HANDOVER_S", "FULL_HANDOVER_S", "PING_PONG_WINDOW_S"]
