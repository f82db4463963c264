"""Every course notebook runs headless, top to bottom, with its widgets at their defaults.

A notebook states its claims as ``assert`` cells on the figures its own run measured,
so executing it is the test: a claim that stops being true fails the build. Committed
notebooks carry no outputs.
"""

from __future__ import annotations

import time

import nbformat
import pytest
from nbclient import NotebookClient

from tests.conftest import ROOT

NOTEBOOKS = sorted((ROOT / "course").glob("[0-9][0-9]*.ipynb"))
CELL_TIMEOUT = 180


def test_there_are_notebooks():
    assert NOTEBOOKS, "course/ has no numbered notebooks"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_notebook_has_no_outputs(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.outputs, f"{path.name}: a code cell carries outputs"
            assert cell.execution_count is None, f"{path.name}: a code cell has an execution count"
    # Without a kernelspec, JupyterLab asks the learner to pick a kernel before anything runs.
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3", (
        f"{path.name}: no python3 kernelspec"
    )


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_and_its_claims_hold(path):
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    started = time.monotonic()
    client.execute()  # raises CellExecutionError, with the cell and traceback, on a failed claim
    elapsed = time.monotonic() - started
    print(f"{path.name}: executed in {elapsed:.1f} s")
