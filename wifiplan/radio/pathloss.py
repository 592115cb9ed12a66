"""Path-loss laws by name: the straight-line losses of DESIGN.md section 6 and the direct
ray of the hall model, each with its publication and equation.

Chosen by name (``model="3gpp-inf-sl"``) or given as a callable
``f(distance_m, freq_mhz, **params) -> loss_db``, as pvlib does for its models. Distances
are 3-D [m], frequencies [MHz]; every law is evaluated from 1 m.

This module knows nothing of sites: :mod:`wifiplan.site` checks a site's model against
:data:`MODELS`, :mod:`wifiplan.radio.propagation` turns a law into received power.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..errors import InputError

def _lg(x):
    return np.log10(x)


def _inf_los(d, fc):
    return 31.84 + 21.50 * _lg(d) + 19.00 * _lg(fc)


def pl_3gpp_inf_los(distance_m, freq_mhz):
    """3GPP TR 38.901 V17.0.0 Table 7.4.1-1, InF-LOS:
    PL = 31.84 + 21.50 log10(d3D) + 19.00 log10(fc) [dB], fc in GHz; sigma_SF = 4.3 dB."""
    return _inf_los(distance_m, freq_mhz / 1000.0)


def _inf_sl(d, fc):
    return np.maximum(_inf_los(d, fc), 33.0 + 25.5 * _lg(d) + 20.0 * _lg(fc))


def pl_3gpp_inf_sl(distance_m, freq_mhz):
    """3GPP TR 38.901 Table 7.4.1-1, InF-SL (sparse clutter, low BS):
    PL = max(PL_LOS, 33 + 25.5 log10(d3D) + 20 log10(fc)); sigma_SF = 5.7 dB."""
    return _inf_sl(distance_m, freq_mhz / 1000.0)


def pl_3gpp_inf_dl(distance_m, freq_mhz):
    """3GPP TR 38.901 Table 7.4.1-1, InF-DL (dense clutter, low BS):
    PL = max(PL_LOS, PL_SL, 18.6 + 35.7 log10(d3D) + 20 log10(fc)); sigma_SF = 7.2 dB."""
    fc = freq_mhz / 1000.0
    d = distance_m
    return np.maximum(_inf_sl(d, fc), 18.6 + 35.7 * _lg(d) + 20.0 * _lg(fc))


def pl_3gpp_inf_sh(distance_m, freq_mhz):
    """3GPP TR 38.901 Table 7.4.1-1, InF-SH (sparse clutter, high BS):
    PL = max(PL_LOS, 32.4 + 23.0 log10(d3D) + 20 log10(fc)); sigma_SF = 5.9 dB."""
    fc = freq_mhz / 1000.0
    d = distance_m
    return np.maximum(_inf_los(d, fc), 32.4 + 23.0 * _lg(d) + 20.0 * _lg(fc))


def pl_3gpp_inf_dh(distance_m, freq_mhz):
    """3GPP TR 38.901 Table 7.4.1-1, InF-DH (dense clutter, high BS):
    PL = max(PL_LOS, 33.63 + 21.9 log10(d3D) + 20 log10(fc)); sigma_SF = 4.0 dB."""
    fc = freq_mhz / 1000.0
    d = distance_m
    return np.maximum(_inf_los(d, fc), 33.63 + 21.9 * _lg(d) + 20.0 * _lg(fc))


def _inh_los(d, fc):
    return 32.4 + 17.3 * _lg(d) + 20.0 * _lg(fc)


def pl_3gpp_inh_office_los(distance_m, freq_mhz):
    """3GPP TR 38.901 Table 7.4.1-1, InH-Office LOS:
    PL = 32.4 + 17.3 log10(d3D) + 20 log10(fc); sigma_SF = 3 dB (1 <= d3D <= 150 m)."""
    return _inh_los(distance_m, freq_mhz / 1000.0)


def pl_3gpp_inh_office_nlos(distance_m, freq_mhz):
    """3GPP TR 38.901 Table 7.4.1-1, InH-Office NLOS:
    PL = max(PL_LOS, 17.3 + 38.3 log10(d3D) + 24.9 log10(fc)); sigma_SF = 8.03 dB."""
    fc = freq_mhz / 1000.0
    d = distance_m
    return np.maximum(_inh_los(d, fc), 17.3 + 38.3 * _lg(d) + 24.9 * _lg(fc))


def pl_itu_p1238_industrial_los(distance_m, freq_mhz):
    """ITU-R P.1238-12 (2023) site-general model, eq. (2) with Table 2, industrial LOS:
    L = 10 a log10(d) + b + 10 g log10(f), a = 2.31, b = 24.52, g = 2.06, f in GHz;
    sigma = 2.69 dB."""
    return 23.1 * _lg(distance_m) + 24.52 + 20.6 * _lg(freq_mhz / 1000.0)


def pl_itu_p1238_industrial_nlos(distance_m, freq_mhz):
    """ITU-R P.1238-12 (2023) site-general model, eq. (2) with Table 2, industrial NLOS:
    a = 3.79, b = 21.01, g = 1.34, f in GHz; sigma = 9.05 dB."""
    return 37.9 * _lg(distance_m) + 21.01 + 13.4 * _lg(freq_mhz / 1000.0)


def pl_log_distance(distance_m, freq_mhz, pl0_db=46.7, exponent=2.2, freq_ref_mhz=None):
    """Log-distance law: PL = pl0_db + 10 n log10(d / 1 m) [+ 20 log10(f / freq_ref_mhz)].

    ``pl0_db`` is the loss at 1 m (free space at 5.5 GHz: 20 log10(4 pi / lambda) = 47.2 dB);
    with ``freq_ref_mhz`` the intercept applies at that frequency and other channels are
    scaled as in free space (Rappaport, Wireless Communications, 2nd ed., eq. 4.68)."""
    pl = pl0_db + 10.0 * exponent * _lg(distance_m)
    if freq_ref_mhz:
        pl = pl + 20.0 * _lg(np.asarray(freq_mhz, float) / freq_ref_mhz)
    return pl


def pl_free_space(distance_m, freq_mhz):
    """Free-space basic transmission loss, ITU-R P.525-4 eq. (4) (Friis):
    L = 20 log10(4 pi d f / c) [dB], d in m, f in MHz (32.45 + 20 log10 f + 20 log10 d_km)."""
    return 20.0 * _lg(4.0 * np.pi * distance_m * np.asarray(freq_mhz, float) * 1e6
                      / 299_792_458.0)


def pl_hall_direct(distance_m, freq_mhz, reverb_offset_db=0.0, coupling_offset_db=0.0,
                   reverb_time_offset_db=0.0):
    """The direct ray of the hall model (:mod:`wifiplan.radio.hall`): free space (ITU-R P.525-4).

    The hall's received power adds the floor and roof reflections and the diffuse field
    (:meth:`PropagationModel.hall_terms`); this law alone is its line-of-sight part."""
    return pl_free_space(distance_m, freq_mhz)


@dataclass(frozen=True)
class PathLossModel:
    name: str
    func: Callable
    sigma_db: float
    source: str
    params: tuple[str, ...] = ()


MODELS: dict[str, PathLossModel] = {m.name: m for m in [
    PathLossModel("3gpp-inf-los", pl_3gpp_inf_los, 4.3, "3GPP TR 38.901 Table 7.4.1-1 InF-LOS"),
    PathLossModel("3gpp-inf-sl", pl_3gpp_inf_sl, 5.7, "3GPP TR 38.901 Table 7.4.1-1 InF-SL"),
    PathLossModel("3gpp-inf-dl", pl_3gpp_inf_dl, 7.2, "3GPP TR 38.901 Table 7.4.1-1 InF-DL"),
    PathLossModel("3gpp-inf-sh", pl_3gpp_inf_sh, 5.9, "3GPP TR 38.901 Table 7.4.1-1 InF-SH"),
    PathLossModel("3gpp-inf-dh", pl_3gpp_inf_dh, 4.0, "3GPP TR 38.901 Table 7.4.1-1 InF-DH"),
    PathLossModel("3gpp-inh-office-los", pl_3gpp_inh_office_los, 3.0,
                  "3GPP TR 38.901 Table 7.4.1-1 InH-Office LOS"),
    PathLossModel("3gpp-inh-office-nlos", pl_3gpp_inh_office_nlos, 8.03,
                  "3GPP TR 38.901 Table 7.4.1-1 InH-Office NLOS"),
    PathLossModel("itu-p1238-industrial-los", pl_itu_p1238_industrial_los, 2.69,
                  "ITU-R P.1238-12 Table 2 industrial LOS"),
    PathLossModel("itu-p1238-industrial-nlos", pl_itu_p1238_industrial_nlos, 9.05,
                  "ITU-R P.1238-12 Table 2 industrial NLOS"),
    PathLossModel("log-distance", pl_log_distance, 6.0, "log-distance law (Rappaport eq. 4.68)",
                  ("pl0_db", "exponent", "freq_ref_mhz")),
    PathLossModel("free-space", pl_free_space, 0.0, "ITU-R P.525-4 eq. (4), free space"),
    PathLossModel("hall", pl_hall_direct, 4.0,
                  "enclosed hall: free-space ray, floor and roof reflections (ITU-R P.2040-3), "
                  "reverberant field (Andersen et al. 2007; Steinboeck et al. 2013)",
                  ("reverb_offset_db", "coupling_offset_db", "reverb_time_offset_db")),
]}

HALL = "hall"   # the default model (propagation.PROPAGATION_DEFAULTS)

#: Physical ranges of the numbers a site's ``propagation:`` block or a model file may give
#: (what an antenna, a law or a calibrated offset can be; outside them a value is a typo):
#: gains [dBi], the intercept [dB], the exponent, the reference frequency [MHz] (2.4-7.1 GHz
#: Wi-Fi), the hall model's offsets [dB] and heights [m].
PARAM_RANGES = {"ap_gain_dbi": (-10.0, 20.0), "client_gain_dbi": (-10.0, 10.0),
                "pl0_db": (0.0, 120.0), "exponent": (1.0, 6.0),
                "freq_ref_mhz": (2400.0, 7125.0), "reverb_offset_db": (-40.0, 40.0),
                "coupling_offset_db": (-40.0, 40.0), "reverb_time_offset_db": (-40.0, 40.0),
                "ap_height_m": (0.0, 50.0), "client_height_m": (0.0, 50.0)}
MIN_DISTANCE_M = 1.0  # the laws hold from 1 m; closer points are evaluated at 1 m


def check_model_params(model: str | Callable, params: dict) -> None:
    """Raise InputError when ``params`` are not parameters of the named model."""
    if callable(model):
        return
    if model not in MODELS:
        raise InputError(f"unknown path-loss model {model!r}, expected one of {', '.join(MODELS)}")
    allowed = MODELS[model].params
    for k in params:
        if k not in allowed:
            raise InputError(f"'{k}' is not a parameter of model {model}"
                             + (f" (it takes {', '.join(allowed)})" if allowed
                                else " (it takes none)"))


def path_loss_db(model: str | Callable, distance_m, freq_mhz, **params):
    """Path loss [dB] of a named law (or a callable) at 3-D distance [m] and frequency [MHz].

    Vectorised: ``distance_m`` and ``freq_mhz`` broadcast. Distances below 1 m are
    evaluated at 1 m, where the laws start to hold.
    """
    d = np.maximum(np.asarray(distance_m, dtype=float), MIN_DISTANCE_M)
    f = np.asarray(freq_mhz, dtype=float)
    if callable(model):
        return model(d, f, **params)
    check_model_params(model, params)
    return MODELS[model].func(d, f, **params)
