"""The seed's rules live in wifiplan.rules alone (one home per rule), and its power rules."""
import ast
from pathlib import Path

import pytest

from wifiplan import rules
from wifiplan.regulatory import DOMAINS

PKG = Path(rules.__file__).parent

# Values of the seed's thresholds (DESIGN.md sections 2 and 6): no other module may write
# them as numbers. The 802.11ax sensitivity table of DESIGN.md section 6 (capacity.MCS_TABLE)
# is a table of its own whose entries happen to include -70 and -65.
SEED_LEVELS_DBM = {-70.0, -67.0, -65.0, -95.0}
ALLOWED = {("capacity.py", -70.0), ("capacity.py", -65.0)}


def _numbers(tree):
    """(value, line) of every number in the code, negative literals included, docstrings and
    strings excluded."""
    for node in ast.walk(tree):
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) \
                and isinstance(node.operand, ast.Constant) \
                and isinstance(node.operand.value, (int, float)) \
                and not isinstance(node.operand.value, bool):
            yield -float(node.operand.value), node.lineno


def _modules():
    return sorted(p for p in PKG.rglob("*.py") if p.name != "rules.py")


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PKG)))
def test_no_module_writes_a_seed_level_of_its_own(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = [(v, line) for v, line in _numbers(tree)
             if v in SEED_LEVELS_DBM and (path.name, v) not in ALLOWED]
    assert not found, f"{path.relative_to(PKG)}: seed levels {found} belong in wifiplan.rules"


RULE_NAMES = [n for n in dir(rules) if n.isupper()]


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PKG)))
def test_no_module_defines_a_rule_name_again(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = {t.id for node in tree.body if isinstance(node, (ast.Assign, ast.AnnAssign))
             for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
             if isinstance(t, ast.Name)}
    assert not names & set(RULE_NAMES), (
        f"{path.relative_to(PKG)} redefines {names & set(RULE_NAMES)}")


def test_the_seed_rules_in_numbers():
    # DESIGN.md section 2 and 6, seed 8.1.3.5
    assert rules.ROAM_THRESHOLD_DBM == -70.0
    assert rules.BOUNDARY_BAND_DBM == (-70.0, -65.0)
    assert rules.DEFAULT_MIN_RSSI_DBM == -67.0
    assert rules.CO_CHANNEL_MIN_SEPARATION_DB == 19.0
    assert (rules.MIN_SNR_DB, rules.NOISE_FLOOR_DBM) == (25.0, -95.0)
    assert rules.AIRTIME_BUDGET == 0.5
    assert rules.BOUNDARY_BAND_TEXT == "-65..-70 dBm"


def test_tx_power_range_follows_the_domain_eirp_and_the_hardware():
    seed = DOMAINS["seed"]
    eirp = seed.max_eirp_dbm(36)
    lo, hi = rules.tx_power_range_dbm(seed, 36, 3.0)
    assert lo == rules.MIN_TX_POWER_DBM
    assert hi == min(rules.MAX_TX_POWER_DBM, eirp - 3.0)
    # a large antenna gain: the EIRP limit decides, in whole dB
    lo, hi = rules.tx_power_range_dbm(seed, 36, eirp - 7.5)
    assert hi == 7.0
    # a domain that allows less than the hardware minimum: that maximum alone
    assert rules.tx_power_range_dbm(seed, 36, eirp) == (0.0, 0.0)
    assert rules.clip_tx_power_dbm(seed, 36, 3.0, 40.0) == min(rules.MAX_TX_POWER_DBM, eirp - 3.0)
    assert rules.clip_tx_power_dbm(seed, 36, 3.0, -5.0) == rules.MIN_TX_POWER_DBM


@pytest.mark.parametrize("deltas, expected", [
    ([], 0.0), ([0.0], 0.0),
    ([2.0, 1.0], 2.0),            # the largest raise
    ([5.0], 3.0),                 # at most 3 dB up per round
    ([2.0, -1.0], -1.0),          # a reduction wins over a raise (interference first)
    ([-2.0, -4.0], -4.0),         # the largest reduction
    ([-9.0, 3.0], -6.0),          # at most 6 dB down per round
    ([float("nan"), 1.0], 1.0),   # no number is no recommendation
])
def test_combine_power_changes(deltas, expected):
    assert rules.combine_power_changes(deltas) == expected
