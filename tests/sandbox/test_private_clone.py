"""A course cloned where only its owner may enter (``/root``, ``mktemp -d``: mode 0700),
graded as root, where the submission runs as a uid of its own: the app and the module
beside it are served from where they are, and the submission reads nothing there that a
stranger could not read through an enterable folder (``autograder/sandbox/readable_copy.py``).

pytest's own ``tmp_path`` lies under ``/tmp/pytest-of-root`` (0700), like a clone in /root.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from autograder import lab
from autograder.run import files as workdir
from autograder.run.handles import Run
from autograder.sandbox import environment, readable_copy
from tests.conftest import ROOT, run_cli

AS_ROOT = pytest.mark.skipif(
    os.geteuid() != 0, reason="a uid of its own for the submission needs root (CI runs as root)"
)
SANDBOXED = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed")

APP = """import os

from fastapi import FastAPI

import meter  # the sibling module a lesson's app imports

app = FastAPI()


@app.get("/where")
async def where():
    try:
        secret = open(os.path.join(os.path.dirname(__file__), "secret.txt")).read()
    except OSError as exc:
        secret = type(exc).__name__
    return {"file": __file__, "meter": meter.VALUE, "uid": os.getuid(), "secret": secret}
"""


def _app_in(folder: Path, mode: int) -> Path:
    """A lesson's app, the module beside it, and a file only its owner may read."""
    folder.mkdir(parents=True)
    (folder / "app.py").write_text(APP)
    (folder / "meter.py").write_text("VALUE = 42\n")
    (folder / "secret.txt").write_text("only root may read this")
    (folder / "secret.txt").chmod(0o600)
    for f in ("app.py", "meter.py"):
        (folder / f).chmod(0o644)
    folder.chmod(mode)
    return folder / "app.py"


def _private(tmp_path: Path) -> Path:
    tmp_path.chmod(0o700)
    return tmp_path


@AS_ROOT
def test_a_copy_holds_what_a_stranger_could_read_and_only_the_runs_uid_reads_it(tmp_path):
    app = _app_in(tmp_path / "mine", 0o700)
    (app.parent / "pkg").mkdir(mode=0o755)
    (app.parent / "pkg" / "__init__.py").write_text("")
    (app.parent / "pkg" / "__init__.py").chmod(0o644)
    (app.parent / ".venv").mkdir()  # something else may be mounted there: left empty
    (app.parent / ".venv" / "big").write_text("x")
    (app.parent / "link").symlink_to("/etc/shadow")  # a link stays a link, never read
    uid = environment.UID_BASE + 7
    copy = readable_copy.copy_for(uid, app.parent, tmp_path / "copy", also=app)
    assert sorted(p.name for p in copy.iterdir()) == [".venv", "app.py", "link", "meter.py", "pkg"]
    assert (copy / "pkg" / "__init__.py").exists() and not list((copy / ".venv").iterdir())
    assert os.readlink(copy / "link") == "/etc/shadow"
    for path in (copy, copy / "pkg", copy / "app.py", copy / "meter.py"):
        st = path.stat()
        assert (st.st_uid, st.st_gid) == (0, uid)
        assert stat.S_IMODE(st.st_mode) & 0o007 == 0  # nobody else on the machine


def test_a_private_folder_too_big_to_copy_is_refused_with_what_to_do(tmp_path, monkeypatch):
    app = _app_in(tmp_path / "big", 0o700)
    monkeypatch.setattr(readable_copy, "MAX_FILES", 1)
    with pytest.raises(readable_copy.TooBig) as refused:
        readable_copy.copy_for(environment.UID_BASE, app.parent, tmp_path / "copy")
    said = str(refused.value)
    assert "private" in said and f"chmod o+rx {app.parent}" in said and "\n" not in said
    assert not (tmp_path / "copy").exists()


@AS_ROOT
def test_only_a_folder_the_uid_may_not_enter_is_copied(tmp_path):
    clone = _private(tmp_path)
    in_clone = _app_in(clone / "course" / "apps", 0o755)  # a clone in /root: the way is private
    private = _app_in(clone / "private", 0o700)  # the folder itself is private
    for app, copied in ((in_clone, False), (private, True)):
        run = Run(app_file=app, workdir=tmp_path / f"run-{copied}", token="t")
        run.workdir.mkdir()
        run.uid = environment.UID_BASE + 7
        view = workdir.submission_view(run, sandboxed=True)
        assert view.app_file == app  # the same path: tracebacks name the learner's file
        assert list(view.copies) == ([str(app.parent)] if copied else [])
        unsandboxed = workdir.submission_view(run, sandboxed=False)
        assert unsandboxed.app_file != app and (unsandboxed.app_file.parent / "meter.py").exists()


def _served(app: Path) -> dict[str, object]:
    with lab.serve(app) as served:
        answer = served.request("GET", "/where")
    assert answer.status == 200, answer.body
    return dict(json.loads(answer.body))


@pytest.mark.slow
@AS_ROOT
@SANDBOXED
def test_a_lessons_app_in_a_private_clone_is_served_with_its_sibling(tmp_path):
    clone = _private(tmp_path)
    for app in (_app_in(clone / "course" / "apps", 0o755), _app_in(clone / "private", 0o700)):
        got = _served(app)
        assert got["file"] == str(app) and got["meter"] == 42
        assert got["uid"] != 0  # its own uid, which could not enter the private folder
        assert got["secret"] in ("PermissionError", "FileNotFoundError")


@pytest.mark.slow
@AS_ROOT
@SANDBOXED
def test_a_fix_in_a_private_folder_is_graded(tmp_path):
    folder = _private(tmp_path) / "mine"
    folder.mkdir(mode=0o700)
    fix = folder / "fix.py"
    shutil.copyfile(ROOT / "solutions" / "blocking-sleep" / "async_sleep.py", fix)
    graded = run_cli("grade", "blocking-sleep", str(fix), "--json")
    verdict = json.loads(graded.stdout)
    assert graded.returncode == 0 and verdict["passed"], graded.stdout + graded.stderr
    assert verdict["metrics"], "nothing was measured"


@pytest.mark.slow
@AS_ROOT
@SANDBOXED
def test_an_app_in_a_private_folder_is_scanned(tmp_path):
    app = _app_in(_private(tmp_path) / "private", 0o700)
    scanned = run_cli("scan", str(app), "--json")
    result = json.loads(scanned.stdout)
    assert result["error"] is None, result["error"]
    assert [(r["path"], r["verdict"]) for r in result["routes"]] == [("/where", "fine")]


@SANDBOXED
def test_the_sandbox_starts_however_the_interpreter_was_typed():
    """``../.venv/bin/python`` typed in course/ (``sys.executable``: ``course/../.venv/…``) goes through a folder the sandbox
    does not show: the sandbox is started with the interpreter's absolute path."""
    typed = Path("..") / ".venv" / "bin" / "python"
    if not (ROOT / "course" / typed).exists():
        pytest.skip("no .venv in the repository (bash scripts/setup makes it)")
    said = subprocess.run(
        [str(typed), "-c", "from autograder.sandbox import environment as e; print(e.confinement().bwrap)"],
        cwd=ROOT / "course",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert said.stdout.strip() == shutil.which("bwrap"), said.stderr
