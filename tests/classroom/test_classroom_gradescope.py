"""The Gradescope export: the zip's ``run_autograder`` run locally in the platform's
layout (``/autograder/{source,submission,results}`` under a temporary root), its
``results.json`` checked against the documented format."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import nbformat
import pytest

from autograder.classroom.gradescope import export
from autograder.classroom.notebook import build_notebook
from tests.conftest import ROOT

EXERCISE = "blocking-sleep"

# Gradescope's documented results.json (autograder specifications: "Output format"):
# top-level score/execution_time/output/visibility/stdout_visibility/tests, and per test
# score, max_score, status ("passed"/"failed"), name, number, output, visibility.
VISIBILITY = {"enum": ["hidden", "after_due_date", "after_published", "visible"]}
RESULTS_SCHEMA = {
    "type": "object",
    "required": ["tests"],
    "properties": {
        "score": {"type": "number"},
        "execution_time": {"type": "number"},
        "output": {"type": "string"},
        "output_format": {"enum": ["text", "html", "simple_format", "md", "ansi"]},
        "visibility": VISIBILITY,
        "stdout_visibility": VISIBILITY,
        "tests": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["score", "max_score", "name"],
                "properties": {
                    "score": {"type": "number"},
                    "max_score": {"type": "number"},
                    "status": {"enum": ["passed", "failed"]},
                    "name": {"type": "string"},
                    "number": {"type": "string"},
                    "output": {"type": "string"},
                    "output_format": {"enum": ["text", "html", "simple_format", "md", "ansi"]},
                    "visibility": VISIBILITY,
                },
                "additionalProperties": False,
            },
        },
    },
    "additionalProperties": False,
}


def unpack(tmp_path: Path) -> Path:
    root = tmp_path / "autograder"
    with zipfile.ZipFile(export(EXERCISE, tmp_path / "out")) as z:
        z.extractall(root / "source")
        for info in z.infolist():  # extractall drops the mode bits
            (root / "source" / info.filename).chmod((info.external_attr >> 16) or 0o644)
    return root


def test_the_export_holds_what_gradescope_runs(tmp_path):
    root = unpack(tmp_path)
    source = root / "source"
    for script in ("setup.sh", "run_autograder"):
        assert os.access(source / script, os.X_OK), script
        subprocess.run(["bash", "-n", str(source / script)], check=True)
    assert "fastapi==" in (source / "requirements.txt").read_text()
    assert (source / "autograder" / "grade.py").exists()
    assert (source / "autograder" / "sandbox" / "certs" / "loopback-ca.pem").exists()


def run_autograder(root: Path, files: dict[str, str], path: str | None = None) -> dict:
    submission = root / "submission"
    if submission.exists():
        for p in submission.iterdir():
            p.unlink()
    submission.mkdir(exist_ok=True)
    for name, text in files.items():
        (submission / name).write_text(text)
    # the zip's own copy of the grader, not the repository's: no PYTHONPATH
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env |= {"AUTOGRADER_ROOT": str(root), "AUTOGRADER_PYTHON": sys.executable}
    if path is not None:
        env["PATH"] = path
    done = subprocess.run(
        [str(root / "source" / "run_autograder")],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    jsonschema.validate(results, RESULTS_SCHEMA)
    return results


@pytest.mark.slow
def test_run_autograder_writes_one_test_per_check(tmp_path):
    root = unpack(tmp_path)
    starter = nbformat.writes(build_notebook(EXERCISE, ROOT))
    results = run_autograder(root, {f"{EXERCISE}.ipynb": starter})
    assert results["score"] == 3
    assert {t["name"]: t["status"] for t in results["tests"]} == {
        "serves": "passed",
        "concurrent": "failed",
        "responses": "passed",
        "still-waits": "passed",
        "loop-free": "failed",
    }
    assert "app.py:12 in report: time.sleep(0.3)" in results["output"]
    assert "confined" in results["output"]  # what the sandbox could do, stated

    solved = (ROOT / "solutions" / EXERCISE / "async_sleep.py").read_text()
    results = run_autograder(root, {"app.py": solved})
    assert results["score"] == 5 and all(t["status"] == "passed" for t in results["tests"])

    results = run_autograder(root, {"notes.txt": "forgot the code"})
    assert results["score"] == 0
    assert "no service to grade" in results["tests"][0]["output"]


@pytest.mark.slow
def test_run_autograder_grades_where_namespaces_are_not_allowed(tmp_path):
    # A platform container without bubblewrap (no sandbox): the degraded mode, stated.
    root = unpack(tmp_path)
    bare = tmp_path / "bin"
    bare.mkdir()
    (bare / "bash").symlink_to("/bin/bash")
    solved = (ROOT / "solutions" / EXERCISE / "async_sleep.py").read_text()
    results = run_autograder(root, {"app.py": solved}, path=str(bare))
    assert results["score"] == 5, results
    assert "sandbox: none: bubblewrap is not installed" in results["output"]
