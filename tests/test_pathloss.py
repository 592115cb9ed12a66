"""Path-loss laws against the standards' formulas (tolerance 0.01 dB).

Each expected value is computed here from the formula as printed in the standard
(3GPP TR 38.901 V17 Table 7.4.1-1; ITU-R P.1238-12 eq. (2) with Table 2), independently
of the library's code, at 3 distances and 2 frequencies.
"""
import math

import numpy as np
import pytest

from wifiplan import path_loss_db
from wifiplan.propagation import MODELS

L = math.log10
DISTANCES_M = [2.0, 15.0, 80.0]
FREQS_MHZ = [5180.0, 5805.0]


def los(d, fc):
    return 31.84 + 21.50 * L(d) + 19.00 * L(fc)


def sl(d, fc):
    return max(los(d, fc), 33.0 + 25.5 * L(d) + 20 * L(fc))


EXPECTED = {
    "3gpp-inf-los": los,
    "3gpp-inf-sl": sl,
    "3gpp-inf-dl": lambda d, fc: max(los(d, fc), sl(d, fc), 18.6 + 35.7 * L(d) + 20 * L(fc)),
    "3gpp-inf-sh": lambda d, fc: max(los(d, fc), 32.4 + 23.0 * L(d) + 20 * L(fc)),
    "3gpp-inf-dh": lambda d, fc: max(los(d, fc), 33.63 + 21.9 * L(d) + 20 * L(fc)),
    "3gpp-inh-office-los": lambda d, fc: 32.4 + 17.3 * L(d) + 20 * L(fc),
    "3gpp-inh-office-nlos": lambda d, fc: max(32.4 + 17.3 * L(d) + 20 * L(fc),
                                              38.3 * L(d) + 17.30 + 24.9 * L(fc)),
    "itu-p1238-industrial-los": lambda d, fc: 10 * 2.31 * L(d) + 24.52 + 10 * 2.06 * L(fc),
    "itu-p1238-industrial-nlos": lambda d, fc: 10 * 3.79 * L(d) + 21.01 + 10 * 1.34 * L(fc),
    # ITU-R P.525-4 eq. (4): 32.4 + 20 log10 f[MHz] + 20 log10 d[km] (32.45 unrounded)
    "free-space": lambda d, fc: 32.448 + 20 * L(fc * 1000) + 20 * L(d / 1000),
    "hall": lambda d, fc: 32.448 + 20 * L(fc * 1000) + 20 * L(d / 1000),   # its direct ray
}


@pytest.mark.parametrize("model", sorted(EXPECTED))
@pytest.mark.parametrize("freq_mhz", FREQS_MHZ)
def test_named_law_matches_standard(model, freq_mhz):
    got = path_loss_db(model, np.array(DISTANCES_M), freq_mhz)
    want = [EXPECTED[model](d, freq_mhz / 1000.0) for d in DISTANCES_M]
    np.testing.assert_allclose(got, want, atol=0.01)


def test_every_named_law_is_tested_and_cites_its_source():
    assert set(MODELS) == set(EXPECTED) | {"log-distance"}
    for m in MODELS.values():
        assert m.source and m.func.__doc__ and m.sigma_db >= 0


def test_hand_computed_values():
    # InF-SL at 10 m, 5.18 GHz: 33 + 25.5 + 20 log10(5.18) = 72.787 dB (the SL branch wins)
    assert path_loss_db("3gpp-inf-sl", 10.0, 5180.0) == pytest.approx(72.787, abs=0.01)
    # InF-LOS at 100 m, 5.5 GHz: 31.84 + 43.0 + 19 log10(5.5) = 88.907 dB
    assert path_loss_db("3gpp-inf-los", 100.0, 5500.0) == pytest.approx(88.907, abs=0.01)
    # free space at 10 m, 5.18 GHz: 20 log10(4 pi 10 5.18e9 / 299792458) = 66.73 dB
    assert path_loss_db("free-space", 10.0, 5180.0) == pytest.approx(66.73, abs=0.01)
    # P.1238 industrial NLOS at 30 m, 5.2 GHz: 37.9 log10 30 + 21.01 + 13.4 log10 5.2
    assert path_loss_db("itu-p1238-industrial-nlos", 30.0, 5200.0) == pytest.approx(
        37.9 * 1.4771213 + 21.01 + 13.4 * 0.7160033, abs=0.01)


@pytest.mark.parametrize("freq_mhz", FREQS_MHZ)
def test_log_distance(freq_mhz):
    d = np.array(DISTANCES_M)
    np.testing.assert_allclose(path_loss_db("log-distance", d, freq_mhz, pl0_db=40.0, exponent=2.5),
                               40.0 + 25.0 * np.log10(d), atol=0.01)
    np.testing.assert_allclose(
        path_loss_db("log-distance", d, freq_mhz, pl0_db=40.0, exponent=2.5, freq_ref_mhz=5500.0),
        40.0 + 25.0 * np.log10(d) + 20 * np.log10(freq_mhz / 5500.0), atol=0.01)


def test_vectorised_and_clamped_below_one_metre():
    d = np.array([[0.1, 0.5], [1.0, 2.0]])
    pl = path_loss_db("3gpp-inf-los", d, 5180.0)
    assert pl.shape == (2, 2)
    assert pl[0, 0] == pytest.approx(pl[1, 0]) == pytest.approx(los(1.0, 5.18))


def test_callable_escape_hatch():
    pl = path_loss_db(lambda d, f, k=2.0: k * d, np.array([1.0, 3.0]), 5180.0, k=3.0)
    np.testing.assert_allclose(pl, [3.0, 9.0])


def test_unknown_model_and_parameter_are_input_errors():
    from wifiplan.errors import InputError
    with pytest.raises(InputError, match="unknown path-loss model"):
        path_loss_db("3gpp-inf-xx", 10.0, 5180.0)
    with pytest.raises(InputError, match="not a parameter"):
        path_loss_db("3gpp-inf-sl", 10.0, 5180.0, exponent=3.0)
