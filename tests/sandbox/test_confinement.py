"""The sandbox's view and what the grader says about it (fast: no grading).

tests/grade/test_hostile.py grades hostile submissions in the sandbox, as root and as an
ordinary user; here: the bubblewrap command line, the submission's folder rules, the
words a person reads where there is no sandbox, and the class command's refusal.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.sandbox import bwrap, environment
from tests.conftest import ROOT, run_cli

NO_USERNS = "this machine allows no user namespaces to ordinary users (AppArmor restricts them)"


def _binds(args: list[str]) -> dict[str, str]:
    """Destination -> how it is mounted (--ro-bind or --bind)."""
    return {args[i + 2]: a for i, a in enumerate(args) if a in ("--ro-bind", "--bind")}


@pytest.mark.parametrize("as_root", [True, False])
def test_the_view_holds_the_runtime_the_harness_and_the_run_only(tmp_path, as_root):
    run_dir, app = tmp_path / "autograder-run", tmp_path / "class" / "alice" / "app.py"
    app.parent.mkdir(parents=True)
    app.write_text("")
    read_only, writable = bwrap.submission_folder(app)
    args = bwrap.command(
        "bwrap", as_root=as_root, read_only=read_only, writable=[str(run_dir)], etc=None
    )
    binds = _binds(args)
    assert binds[str(run_dir)] == "--bind" and binds[str(app.parent)] == "--ro-bind"
    assert binds[str(ROOT / "autograder")] == "--ro-bind"
    runtime = os.path.realpath(sys.base_prefix)
    assert runtime.startswith("/usr/") or binds[runtime] == "--ro-bind"
    # Nothing else of the machine: no home, no class folder, no repository beyond the harness.
    for path in binds:
        assert path in (str(run_dir), str(app.parent), str(ROOT / "autograder")) or (
            path.startswith(("/usr", "/etc/", sys.prefix, sys.base_prefix))
            or path in bwrap.runtime_paths()
            or path in bwrap.SYSTEM_TOPS
        ), path
    assert not any(b.startswith("/home") or b == str(ROOT) for b in binds)
    for flag in ("--unshare-pid", "--unshare-net", "--as-pid-1", "--die-with-parent"):
        assert flag in args
    assert args[-2:] == ["--remount-ro", "/"]
    assert ("--unshare-user" in args) is not as_root
    assert ("--cap-drop" in args) is as_root


def test_the_submissions_folder_comes_with_it_unless_everyone_shares_it(tmp_path):
    own = tmp_path / "mine"
    own.mkdir(mode=0o755)
    assert bwrap.submission_folder(own / "app.py") == ([str(own)], [])
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    scratch.chmod(0o777)  # a notebook's folder shared with its app on purpose
    assert bwrap.submission_folder(scratch / "app.py") == ([], [str(scratch)])
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)  # like /tmp: the file alone
    assert bwrap.submission_folder(shared / "app.py") == ([str(shared / "app.py")], [])


def test_the_run_has_its_own_user_whose_home_is_its_working_directory(tmp_path):
    home = tmp_path / "home"
    bwrap.write_etc(tmp_path / "etc", uid=1234, home=home)
    passwd = (tmp_path / "etc" / "passwd").read_text()
    assert f"submission:x:1234:1234::{home}:" in passwd
    assert len(passwd.splitlines()) == 2  # root and itself: no other user, no other home


def test_without_user_namespaces_the_verdict_says_so_in_words():
    conf = environment.Confinement(None, False, False, NO_USERNS)
    said = conf.describe()
    assert said["sandbox"] == f"none: {NO_USERNS}"
    assert said["filesystem"] == "whatever its user can read and write on this machine"
    assert said["network"] == "the machine's network"
    assert "no limit on the memory or the tasks of the whole process tree" in said["limits"]
    assert "RLIMIT_NPROC" not in said["limits"]  # it would count the user's own processes
    assert conf.note().startswith(f"not sandboxed ({NO_USERNS}): the submission runs as you")
    assert environment.Confinement("/usr/bin/bwrap", False, False).note() == ""


@pytest.mark.skipif(os.geteuid() == 0, reason="as root the limits depend on a uid of its own")
def test_as_a_user_the_task_limit_is_counted_in_its_user_namespace():
    said = environment.Confinement("/usr/bin/bwrap", False, False).describe()
    assert "256 tasks (RLIMIT_NPROC, counted for this run only)" in said["limits"]
    assert "user namespace" in said["sandbox"]


def _course(tmp_path: Path) -> Path:
    course = tmp_path / "course"
    course.mkdir()
    (course / "nbgrader_config.py").write_text("c = get_config()\n")
    return course


def test_the_class_is_not_graded_unsandboxed_without_the_flag(tmp_path):
    course = _course(tmp_path)
    env = {environment.OFF_SWITCH: "off"}
    refused = _cli(env, "classroom", "autograde", "--course", str(course))
    assert refused.returncode == 1, refused.stderr
    assert "not grading a class unsandboxed: not sandboxed (switched off" in refused.stderr
    assert "--allow-unconfined" in refused.stderr
    assert not (course / "grades.csv").exists()
    accepted = _cli(env, "classroom", "autograde", "--course", str(course), "--allow-unconfined")
    assert accepted.returncode == 0, accepted.stderr
    assert "0 submission(s)" in accepted.stdout


def _cli(extra_env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "autograder", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(ROOT), **extra_env},
    )


@pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed")
def test_this_machine_gives_a_sandbox_and_the_help_names_the_flag():
    assert environment.confinement().bwrap, environment.confinement().why_not
    shown = run_cli("classroom", "autograde", "--help")
    assert "--allow-unconfined" in shown.stdout
