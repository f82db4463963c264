"""Every course notebook runs headless, top to bottom, with its widgets at their defaults.

A notebook states its claims as ``assert`` cells on the figures its own run measured,
so executing it is the test: a claim that stops being true fails the build. Committed
notebooks carry no outputs, and each is exactly what its source in ``course/_src/``
builds (``python scripts/notebooks.py build``).
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import time

import nbformat
import pytest
from nbclient import NotebookClient

from tests.conftest import ROOT

NOTEBOOKS = sorted((ROOT / "course").glob("[0-9][0-9]*.ipynb"))
CELL_TIMEOUT = 180
BUILDER = ROOT / "scripts" / "notebooks.py"


def load_builder():
    spec = importlib.util.spec_from_file_location("course_notebooks", BUILDER)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_notebook_is_what_its_source_builds(path):
    builder = load_builder()
    source = ROOT / "course" / "_src" / f"{path.stem}.py"
    assert source.is_file(), f"{path.name} has no source {source.relative_to(ROOT)}"
    assert path.read_text(encoding="utf-8") == builder.render(source), (
        f"{path.name} differs from {source.relative_to(ROOT)}: run python scripts/notebooks.py build"
    )


def test_cell_ids_are_stable_and_unique():
    builder = load_builder()
    for source in builder.sources():
        once, twice = builder.render(source), builder.render(source)
        assert once == twice, f"{source.name}: two builds differ"
        ids = [c.id for c in nbformat.reads(once, as_version=4).cells]
        assert len(set(ids)) == len(ids), f"{source.name}: duplicate cell ids"
        assert all(i.startswith(source.name[:2] + "-") for i in ids), ids


def test_check_fails_on_a_stale_notebook(tmp_path, monkeypatch):
    """``check`` is not a rubber stamp: an edited source it has not built is reported."""
    builder = load_builder()
    course = tmp_path / "course"
    (course / "_src").mkdir(parents=True)
    source = builder.sources()[0]
    copy = course / "_src" / source.name
    copy.write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setattr(builder, "COURSE", course)
    monkeypatch.setattr(builder, "SOURCES", course / "_src")
    monkeypatch.setattr(builder, "ROOT", tmp_path)
    assert builder.disagreements() == [f"course/{source.stem}.ipynb: missing (source {source.name})"]
    builder.build([])
    assert builder.disagreements() == []
    copy.write_text(copy.read_text(encoding="utf-8") + "\n# %%\nprint('added')\n", encoding="utf-8")
    assert [p.split(":")[0] for p in builder.disagreements()] == [f"course/{source.stem}.ipynb"]
    (course / "99_orphan.ipynb").write_text("{}", encoding="utf-8")
    assert "course/99_orphan.ipynb: no source in course/_src/" in builder.disagreements()


def test_builder_command_line():
    run = [sys.executable, str(BUILDER)]
    ok = subprocess.run([*run, "check"], capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stderr
    usage = subprocess.run(run, capture_output=True, text=True, timeout=60)
    assert usage.returncode == 2 and "usage:" in usage.stderr
    helped = subprocess.run([*run, "--help"], capture_output=True, text=True, timeout=60)
    assert helped.returncode == 0 and "build" in helped.stdout and "check" in helped.stdout


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
