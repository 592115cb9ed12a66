"""The notebooks in notebooks/: kept without outputs, and executed end to end.

Each notebook runs in a fresh kernel with notebooks/ as its working directory, as Jupyter
runs it; a cell that raises fails the test. The notebooks write only into temporary
directories: the sample sites, plans and surveys must be untouched afterwards.
"""
from __future__ import annotations

import hashlib

import pytest

from conftest import FLOORPLANS, ROOT, SURVEYS

nbformat = pytest.importorskip("nbformat")

NOTEBOOKS_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
CELL_TIMEOUT_S = 600          # generous: a shared CI machine may be slow


def _ids(paths):
    return [p.stem for p in paths]


def _digests() -> dict[str, str]:
    files = [p for d in (FLOORPLANS, SURVEYS) for p in sorted(d.rglob("*")) if p.is_file()]
    return {str(p.relative_to(ROOT)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def test_the_three_notebooks_exist():
    names = [p.name for p in NOTEBOOKS]
    assert names[:3] == ["01-plan-a-factory.ipynb", "02-survey-and-calibrate.ipynb",
                         "03-rollout.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_is_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, f"{path.name} has no code cell"
    dirty = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"
             and (c.get("outputs") or c.get("execution_count") is not None)]
    assert not dirty, f"{path.name}: cells {dirty} carry outputs or execution counts; clear them"
    assert "widgets" not in nb.metadata, f"{path.name}: widget state in the metadata"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_runs(path):
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    before = _digests()
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=CELL_TIMEOUT_S, kernel_name="python3",
                                     resources={"metadata": {"path": str(NOTEBOOKS_DIR)}})
    client.execute()          # raises CellExecutionError with the cell and traceback
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert not errors
    # every code cell ran, and the notebook drew at least one figure
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code)
    images = [o for c in code for o in c.outputs
              if o.output_type in ("display_data", "execute_result") and "image/png" in o.data]
    assert images, f"{path.name} drew no figure"
    assert _digests() == before, f"{path.name} changed a sample file"
