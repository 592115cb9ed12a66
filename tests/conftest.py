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


def short_walls_site(n: int, seed: int = 7) -> str:
    """A 200 m x 100 m hall with ``n`` walls of 0.5 m scattered over it."""
    import numpy as np
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(1, 199, n), rng.uniform(1, 99, n)
    a = rng.uniform(0, np.pi, n)
    walls = "\n".join(f"  - {{from: [{x0:.3f}, {y0:.3f}], to: [{x0 + 0.5 * np.cos(t):.3f}, "
                      f"{y0 + 0.5 * np.sin(t):.3f}], material: brick}}"
                      for x0, y0, t in zip(x, y, a))
    return ("name: Wall Field\noutline: [[0, 0], [200, 0], [200, 100], [0, 100]]\n"
            "walls:\n" + walls + "\nzones: [{name: hall, polygon: [[0, 0], [200, 0], "
            "[200, 100], [0, 100]], min_rssi_dbm: -67, terminals: {handheld: 4}}]\n")
