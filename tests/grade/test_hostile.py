"""Submissions that attack the grader get a verdict, change nothing and leave nothing behind.

Slow: each case grades a real submission (tests/hostile/) through the CLI, as a student
would, and then looks at the machine from outside: the processes, the files.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from autograder.run.runner import MAX_SLOTS
from autograder.sandbox import environment
from tests.conftest import ROOT, grade_json

pytestmark = pytest.mark.slow

HOSTILE = ROOT / "tests" / "hostile"
CONF = environment.confinement()
limited = pytest.mark.skipif(
    not CONF.cgroups, reason="no pids/memory cgroups on this machine: per-process rlimits only"
)


def strays(*needles: str) -> list[tuple[int, str]]:
    """Processes whose command line names a hostile file or marker, or that run as a
    sandbox uid: what a grading left alive."""
    found = []
    sandbox_uids = range(environment.UID_BASE, environment.UID_BASE + MAX_SLOTS)
    for p in psutil.process_iter(["cmdline", "uids", "status"]):
        try:
            line = " ".join(p.info["cmdline"] or [])
            if p.info["status"] == psutil.STATUS_ZOMBIE or p.pid == os.getpid():
                continue
            if p.info["uids"].real in sandbox_uids or any(n in line for n in needles):
                found.append((p.pid, line))
        except (psutil.Error, TypeError, AttributeError):
            continue
    return found


def failed(verdict: dict) -> dict[str, str]:
    return {c["name"]: c["message"] for c in verdict["checks"] if not c["passed"]}


def grade_hostile(name: str) -> tuple[int, dict, float]:
    t0 = time.monotonic()
    code, verdict = grade_json("blocking-sleep", HOSTILE / name)
    elapsed = time.monotonic() - t0
    assert elapsed < 60, f"{name} took {elapsed:.0f} s to grade"
    assert not strays(name, "hostile-escapee-marker"), "a grading left processes behind"
    return code, verdict, elapsed


def test_nothing_escapes_and_signals_ignored_do_not_keep_it_alive():
    code, verdict, _ = grade_hostile("escapees.py")
    # Everything it started dies with the grading (checked in grade_hostile); the fix
    # itself is valid, so the leftovers it tried to keep cost it nothing.
    assert verdict["passed"], failed(verdict)


def test_killing_the_parent_and_its_group_does_not_kill_the_grader():
    code, verdict, _ = grade_hostile("kill_parent.py")
    assert code == 1 and not verdict["passed"]
    assert set(failed(verdict)) & {"serves", "concurrent"}


def test_endless_output_is_cut_at_the_limit_and_said():
    code, verdict, _ = grade_hostile("flood_forever.py")
    assert code == 1
    message = failed(verdict)["serves"]
    assert f"{environment.LIMITS['output_mib']} MiB of output, the limit" in message
    assert len(message) < 10_000  # the tail of the flood, not the flood


def test_tens_of_mib_of_output_are_harmless():
    code, verdict, _ = grade_hostile("flood_some.py")
    assert verdict["passed"], failed(verdict)


def test_reading_stdin_gets_end_of_file_not_a_hang():
    code, verdict, elapsed = grade_hostile("reads_stdin.py")
    assert code == 1 and "serves" not in failed(verdict)
    assert "responses" in failed(verdict)


@limited
def test_memory_exhaustion_is_stopped_and_said():
    code, verdict, _ = grade_hostile("memory_hog.py")
    message = failed(verdict)["serves"]
    assert f"more than {environment.LIMITS['memory_mib']} MiB of memory" in message


@limited
def test_a_fork_bomb_is_stopped_and_said():
    code, verdict, _ = grade_hostile("fork_bomb.py")
    message = failed(verdict)["serves"]
    assert f"more than {environment.LIMITS['processes']} processes" in message


@pytest.mark.parametrize("name", ["tamper_clock.py", "tamper_asyncio.py", "tamper_logging.py"])
def test_tampering_inside_its_own_process_changes_no_verdict(name):
    """The starter's bug, plus rigged clocks / asyncio / probe route / logging / report:
    it fails exactly where the plain starter fails (figures are taken outside)."""
    code, verdict, _ = grade_hostile(name)
    assert code == 1 and not verdict["passed"]
    assert {"concurrent", "loop-free"} <= set(failed(verdict)), verdict["checks"]
    assert "serves" not in failed(verdict)


def _tree_digest() -> str:
    digest = hashlib.sha256()
    for folder in ("autograder", "solutions", "exercises", "tests/hostile"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            digest.update(str(path).encode() + path.read_bytes())
    return digest.hexdigest()


def test_confined_to_its_own_directory_and_loopback():
    from autograder import lab

    before = _tree_digest()
    with lab.serve(HOSTILE / "inspect_app.py") as app:
        seen = app.request("GET", f"/inside?repo={ROOT}").json()
    assert seen["create_in_home"], seen
    assert not seen["create_in_run_dir"] and not seen["append_to_grader_output"], seen
    if CONF.own_uid:
        assert seen["uid"] != 0 and seen["euid"] != 0
        # the supervisor's CAP_SETUID/SETGID/KILL stay with it: the submission has none
        assert seen["capabilities"] == {"effective": 0, "permitted": 0, "ambient": 0}, seen
        for what in ("create_in_repo", "create_in_solutions", "append_to_solution"):
            assert not seen[what], (what, seen)
        assert not seen["append_to_harness"], seen
    if CONF.bwrap:
        assert seen["interfaces"] == ["lo"], seen
        assert seen["ppid"] == 1 and len(seen["visible_pids"]) < 10, seen
    assert _tree_digest() == before


def test_two_graders_at_once_do_not_collide_and_the_second_warns():
    path = ROOT / "solutions" / "blocking-sleep" / "async_sleep.py"
    cmd = [sys.executable, "-m", "autograder", "grade", "blocking-sleep", str(path), "--json"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    runs = [
        subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            stdin=subprocess.DEVNULL,
        )
        for _ in range(2)
    ]
    outs = [r.communicate(timeout=120) for r in runs]
    verdicts = [json.loads(out) for out, _ in outs]
    for v in verdicts:  # timings may suffer from the other run; ports and files must not
        assert "serves" not in failed(v) and "responses" not in failed(v), v["checks"]
    warned = [err for _, err in outs if "another grading run is active" in err]
    assert warned, [err for _, err in outs]


NO_USERNS = "this machine allows no user namespaces to ordinary users (AppArmor restricts them)"


@pytest.mark.parametrize(
    "conf",
    [
        environment.Confinement(None, False, False, NO_USERNS),
        environment.Confinement(None, False, CONF.cgroups, NO_USERNS),
    ],
    ids=["no-namespaces-no-cgroups", "no-namespaces"],
)
def test_without_namespaces_nothing_escapes_either(monkeypatch, conf):
    """On a machine without namespaces (or uid, or cgroups) the supervisor, a child
    subreaper, still takes every descendant down with it, and the verdict says so."""
    from autograder.grade import grade

    monkeypatch.setattr(environment, "confinement", lambda: conf)
    verdict = grade("blocking-sleep", HOSTILE / "escapees.py")
    assert verdict.passed, verdict.checks
    said = verdict.environment["confinement"]
    assert said["sandbox"] == f"none: {NO_USERNS}"
    assert said["network"] == "the machine's network"
    assert not strays("escapees.py", "hostile-escapee-marker")


# -- the same view as root and as an ordinary user ------------------------------------------

USER = "autograder-instructor"
SNOOP_LEFT = "snoop-left-behind"


@pytest.fixture(scope="session")
def ordinary_user() -> Iterator[pwd.struct_passwd]:
    """An ordinary user with a home folder (created here, and removed, when missing)."""
    if os.geteuid() != 0:
        pytest.skip("creating an ordinary user needs root (CI runs as root)")
    created = False
    try:
        pwd.getpwnam(USER)
    except KeyError:
        subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", USER], check=True)
        created = True
    yield pwd.getpwnam(USER)
    if created:
        subprocess.run(["userdel", "--remove", USER], capture_output=True, check=False)


@pytest.fixture(params=["root", "user"])
def grader(request) -> Iterator[Grader]:
    """Grades through the CLI as root, or as the ordinary user."""
    user = request.getfixturevalue("ordinary_user")
    yield Grader(request.param, user)


class Grader:
    def __init__(self, mode: str, user: pwd.struct_passwd) -> None:
        self.mode, self.user = mode, user
        self.home = Path("/root") if mode == "root" else Path(user.pw_dir)

    def own(self, path: Path) -> None:
        """Hand ``path`` (a class folder, a secret) to the grading user."""
        if self.mode == "user":
            for p in [path, *(path.rglob("*") if path.is_dir() else [])]:
                os.chown(p, self.user.pw_uid, self.user.pw_gid)

    def grade(self, exercise: str, path: Path) -> tuple[int, dict]:
        if self.mode == "root":
            return grade_json(exercise, path)
        from autograder.sandbox import bwrap

        cmd = [sys.executable, "-m", "autograder", "grade", exercise, str(path), "--json"]
        done = subprocess.run(
            ["unshare", "--mount", "--propagation", "private", sys.executable]
            + [str(ROOT / "tests" / "run_as_user.py"), self.user.pw_name]
            + [*bwrap.runtime_paths(), str(ROOT), "--", *cmd],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        assert done.stdout, done.stderr
        return done.returncode, json.loads(done.stdout)


def _digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


@pytest.fixture
def class_folder(grader) -> Iterator[Path]:
    """A class on the grading user's machine: alice's submission, the gradebook, and a
    secret in the grading user's home and in the other user's home, all world-readable."""
    course = Path(tempfile.mkdtemp(prefix="autograder-test-class-"))
    course.chmod(0o755)
    (course / "gradebook.db").write_text("SECRET-GRADEBOOK\n")
    (course / "grades.csv").write_text("student,score\nalice,SECRET-GRADES\n")
    alice = course / "submitted" / "alice" / "blocking-sleep"
    alice.mkdir(parents=True)
    (alice / "app.py").write_text("# SECRET-ALICE\n")
    (course / "submitted" / "mallory" / "blocking-sleep").mkdir(parents=True)
    for p in course.rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)
    grader.own(course)
    secrets = [grader.home / "autograder-test-secret.txt"]
    if grader.mode == "root":
        secrets.append(Path(grader.user.pw_dir) / "autograder-test-secret.txt")
    for s in secrets:
        s.write_text(f"SECRET-HOME-{s.parent.name}\n")
        s.chmod(0o644)
        grader.own(s)
    yield course
    shutil.rmtree(course)
    for s in secrets:
        s.unlink(missing_ok=True)
    for folder in ("/root", *glob.glob("/home/*"), "/tmp", "/var/tmp", "/dev/shm"):
        Path(folder, SNOOP_LEFT).unlink(missing_ok=True)  # when a test failed


def _snooped(verdict: dict) -> dict:
    message = failed(verdict).get("serves", "")
    lines = [x for x in message.splitlines() if x.startswith("SNOOP ")]
    assert lines, message
    return json.loads(lines[-1].removeprefix("SNOOP "))


def test_a_submission_sees_only_its_own_sandbox(grader, class_folder):
    """Homes (through pwd and /home), the class's other submissions and gradebook, the
    repository beyond the harness, the host's loopback: out of reach, as root and as an
    ordinary user. Writes to a home and files left in /tmp change nothing on the machine."""
    with socket.socket() as host_server:
        host_server.bind(("127.0.0.1", 0))
        host_server.listen()
        port = host_server.getsockname()[1]
        app = class_folder / "submitted" / "mallory" / "blocking-sleep" / "app.py"
        app.write_text(
            (HOSTILE / "snoop.py").read_text().replace("HOST_PORT = 0", f"HOST_PORT = {port}")
        )
        app.chmod(0o644)
        grader.own(app)
        bashrcs = {h: _digest(h / ".bashrc") for h in (grader.home, Path(grader.user.pw_dir))}
        code, verdict = grader.grade("blocking-sleep", app)
    assert code == 1 and "exited with status 3" in failed(verdict)["serves"], verdict["checks"]
    said = verdict["environment"]["confinement"]
    assert said["sandbox"].startswith("bubblewrap"), said
    if grader.mode == "user":
        assert "user namespace" in said["sandbox"] and "256 tasks" in said["limits"], said
    got = _snooped(verdict)
    assert "SECRET-" not in json.dumps(verdict), got
    assert got["secrets"] == [] and got["repo"] == [] and not got["connected"], got
    assert "/home" not in got["listed"], got
    listed = json.dumps(got["listed"])
    for name in ("alice", "gradebook.db", "grades.csv", "autograder-test-secret.txt"):
        assert name not in listed, got["listed"]
    assert not [w for w in got["wrote"] if w.startswith(("/root", "/home"))], got["wrote"]
    assert {h: _digest(h / ".bashrc") for h in bashrcs} == bashrcs
    for folder in (*bashrcs, "/tmp", "/var/tmp", "/dev/shm"):
        assert not Path(folder, SNOOP_LEFT).exists(), folder
    assert not strays("snoop", "hostile-escapee-marker")


@pytest.mark.parametrize(
    "exercise, fix",
    [
        ("blocking-sleep", "async_sleep.py"),
        ("threadpool-exhaustion", "raised_limiter.py"),  # 40 worker threads
        ("cpu-bound", "process_pool.py"),  # a forkserver process pool
    ],
)
def test_valid_fixes_pass_in_the_sandbox(grader, exercise, fix):
    code, verdict = grader.grade(exercise, ROOT / "solutions" / exercise / fix)
    assert code == 0 and verdict["passed"], failed(verdict)
    assert verdict["environment"]["confinement"]["sandbox"].startswith("bubblewrap")


def test_as_a_user_nothing_escapes_and_killing_its_parent_changes_nothing(ordinary_user):
    """As an ordinary user the submission runs as that user: the PID namespace, not a uid
    of its own, takes everything it started down, and its supervisor is the namespace's
    init, which it cannot kill."""
    grader = Grader("user", ordinary_user)
    code, verdict = grader.grade("blocking-sleep", HOSTILE / "escapees.py")
    assert verdict["passed"], failed(verdict)
    assert not strays("escapees.py", "hostile-escapee-marker")
    code, verdict = grader.grade("blocking-sleep", HOSTILE / "kill_parent.py")
    assert code == 1 and "concurrent" in failed(verdict), verdict["checks"]  # the starter
    assert "serves" not in failed(verdict), verdict["checks"]  # and it served to the end
    assert not strays("kill_parent.py")


def test_grading_ones_own_code_without_a_sandbox_says_so_in_one_line():
    path = ROOT / "solutions" / "blocking-sleep" / "async_sleep.py"
    done = subprocess.run(
        [sys.executable, "-m", "autograder", "grade", "blocking-sleep", str(path), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(ROOT), environment.OFF_SWITCH: "off"},
    )
    verdict = json.loads(done.stdout)
    assert verdict["passed"], failed(verdict)
    assert verdict["environment"]["confinement"]["sandbox"].startswith("none: switched off")
    notes = [line for line in done.stderr.splitlines() if "note: not sandboxed" in line]
    assert len(notes) == 1 and "not for someone else's" in notes[0], done.stderr
