"""Submissions that attack the grader get a verdict, change nothing and leave nothing behind.

Slow: each case grades a real submission (tests/hostile/) through the CLI, as a student
would, and then looks at the machine from outside: the processes, the files.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time

import psutil
import pytest

from autograder import environment
from autograder.runner import MAX_SLOTS
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
        for what in ("create_in_repo", "create_in_solutions", "append_to_solution"):
            assert not seen[what], (what, seen)
        assert not seen["append_to_harness"], seen
    if CONF.unshare:
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
    import json

    verdicts = [json.loads(out) for out, _ in outs]
    for v in verdicts:  # timings may suffer from the other run; ports and files must not
        assert "serves" not in failed(v) and "responses" not in failed(v), v["checks"]
    warned = [err for _, err in outs if "another grading run is active" in err]
    assert warned, [err for _, err in outs]


@pytest.mark.parametrize(
    "conf",
    [
        environment.Confinement(None, False, False),
        environment.Confinement(None, False, CONF.cgroups),
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
    assert verdict.environment["confinement"]["namespaces"].startswith("none")
    assert not strays("escapees.py", "hostile-escapee-marker")
