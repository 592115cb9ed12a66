from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FLOORPLANS = ROOT / "floorplans"
SURVEYS = ROOT / "surveys"
SAMPLE_SITES = sorted(p for p in FLOORPLANS.glob("*.yaml") if not p.name.endswith(".plan.yaml"))


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def floorplans() -> Path:
    return FLOORPLANS


def plan_path_of(site_path: Path) -> Path:
    return site_path.with_name(site_path.name[:-len(".yaml")] + ".plan.yaml")
