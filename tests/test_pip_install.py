"""The project installed the way a pip user installs it (``pip install -e ".[course]"``, no dev group)
imports everything the notebooks, their helpers and apps, the answers, the solutions and
the engine import, and the async database section runs.

uv resolves like pip (``uv venv`` + ``uv pip install -e .``) and, with its cache warm,
in seconds. The list of modules is read from the sources, never written by hand.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow

SOURCES = (
    "course/_src/*.py",
    "course/_*.py",
    "course/_turns/**/*.py",
    "course/apps/*.py",
    "course/_answers/**/*.py",
    "solutions/**/*.py",
    "exercises/*/*.py",
    "autograder/**/*.py",
)
UV = shutil.which("uv") or str(ROOT / ".tools" / "bin" / "uv")
# What notebook 07's async session does first; greenlet is imported only when it runs.
ASYNC_SESSION = """
import asyncio
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

async def main():
    engine = create_async_engine("sqlite+aiosqlite://")
    async with engine.connect() as conn:
        assert (await conn.execute(text("select 1"))).scalar() == 1
    await engine.dispose()

asyncio.run(main())
"""


def imported_modules() -> dict[str, str]:
    """Every module the sources import from outside the standard library and the course's
    own files: {module: the first file that imports it}."""
    files = sorted({p for pattern in SOURCES for p in ROOT.glob(pattern)})
    own = {f.stem for f in files} | {
        part for f in files for part in f.relative_to(ROOT).parent.parts
    }
    found: dict[str, str] = {}
    for f in files:
        for node in ast.walk(ast.parse(f.read_text(), str(f))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in own:
                    found.setdefault(name, str(f.relative_to(ROOT)))
    return found


def test_the_sources_import_what_a_pip_install_must_bring():
    """The list the install test checks is not empty of what matters (the parser works)."""
    modules = imported_modules()
    for name in ("fastapi", "uvicorn", "psutil", "sqlalchemy.ext.asyncio", "nbgrader.api"):
        assert name in modules, sorted(modules)
    assert not any(m.split(".")[0] in ("autograder", "_lesson", "nb04_meter") for m in modules)


def test_a_pip_style_install_imports_the_whole_course(tmp_path: Path):
    # Never skipped: scripts/setup, which made the venv running this test, needs uv too.
    assert os.access(UV, os.X_OK), "uv not found (bash scripts/setup installs it in .tools/)"
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["UV_PYTHON_DOWNLOADS"] = "never"
    venv = tmp_path / "venv"
    python = venv / "bin" / "python"

    def run(*argv: str | Path, cwd: Path = tmp_path) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [str(a) for a in argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=240
        )
        assert done.returncode == 0, f"{argv}:\n{done.stdout}\n{done.stderr}"
        return done

    run(UV, "venv", "--quiet", "--python", sys.executable, venv)
    run(UV, "pip", "install", "--quiet", "--python", python, "-e", f"{ROOT}[course]")
    dev_only = run(python, "-c", "import importlib.util as u; print(u.find_spec('pytest'))")
    assert dev_only.stdout.strip() == "None", "the dev group came with the install"

    modules = imported_modules()
    check = (
        "import importlib, sys\nfailed = []\n"
        f"for name, where in {sorted(modules.items())!r}:\n"
        "    try:\n        importlib.import_module(name)\n"
        "    except Exception as exc:\n        failed.append(f'{name} ({where}): {exc!r}')\n"
        "print('\\n'.join(failed)); sys.exit(1 if failed else 0)\n"
    )
    run(python, "-c", check)
    run(python, "-c", ASYNC_SESSION)
    helped = run(python, "-m", "autograder", "--help", cwd=tmp_path)
    assert "grade" in helped.stdout


SCANNER_ONLY = """
import importlib.util, sys
for name in ("jupyterlab", "nbgrader", "ipykernel", "jupytext"):
    assert importlib.util.find_spec(name) is None, name + " came with the scanner"
import autograder.scan.command, autograder.scan.run, autograder.scan.formats, autograder.grade
"""


def test_the_scanner_installs_without_the_course(tmp_path: Path):
    """A team that scans its service installs the engine alone: no JupyterLab, no nbgrader."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["UV_PYTHON_DOWNLOADS"] = "never"
    venv = tmp_path / "venv"
    python = venv / "bin" / "python"
    for argv in (
        [UV, "venv", "--quiet", "--python", sys.executable, venv],
        [UV, "pip", "install", "--quiet", "--python", python, ROOT],
        [python, "-c", SCANNER_ONLY],
        [python, "-m", "autograder", "scan", "--help"],
    ):
        done = subprocess.run(
            [str(a) for a in argv],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
        )
        assert done.returncode == 0, f"{argv}:\n{done.stdout}\n{done.stderr}"
    assert "--python" in done.stdout and "--sarif" in done.stdout
