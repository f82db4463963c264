"""The process-tree helpers on real (harmless) processes: a tree whose leaf left its
session, a process found only by its token, a supervisor killing its descendants."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import psutil

from autograder.sandbox import proctree
from tests.conftest import ROOT

# A parent that starts a child in a session of its own (out of reach of killpg), prints
# the child's pid, then waits.
TREE = (
    "import subprocess, sys\n"
    "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'],"
    " start_new_session=True)\n"
    "print(child.pid, flush=True)\n"
    "child.wait()\n"
)


def start_tree() -> tuple[subprocess.Popen[str], int]:
    parent = subprocess.Popen(
        [sys.executable, "-c", TREE], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    assert parent.stdout is not None
    with parent.stdout:
        return parent, int(parent.stdout.readline())


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_descendants_reads_the_tree_from_proc():
    parent, child = start_tree()
    try:
        assert proctree.descendants(parent.pid) == [child]
        assert child in proctree.descendants(os.getpid())
    finally:
        proctree.kill_tree(parent.pid)
        parent.wait()


def test_kill_tree_kills_a_descendant_in_another_session():
    parent, child = start_tree()
    victims = proctree.kill_tree(parent.pid)
    assert parent.wait(5) == -9
    assert {p.pid for p in victims} == {child}
    proctree.wait_gone(victims)
    assert gone(child)


def test_kill_carrying_finds_a_process_by_its_token_only():
    token, var = uuid.uuid4().hex, "AUTOGRADER_TEST_PROCTREE"
    sleep = [sys.executable, "-c", "import time; time.sleep(60)"]
    marked = subprocess.Popen(sleep, env={**os.environ, var: token})
    other = subprocess.Popen(sleep, env={**os.environ, var: "another run"})
    try:
        killed = proctree.kill_carrying(token, var)
        assert [p.pid for p in killed] == [marked.pid]
        assert marked.wait(5) == -9
        assert other.poll() is None
    finally:
        other.kill()
        other.wait()


def test_kill_descendants_leaves_a_supervisor_alone_with_no_child():
    """Run as a child subreaper would: its orphaned grandchild comes back to it and dies too."""
    code = (
        "import ctypes, subprocess, sys\n"
        "from autograder.sandbox import proctree\n"
        "ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER\n"
        f"tree = subprocess.Popen([sys.executable, '-c', {TREE!r}], stdout=subprocess.PIPE)\n"
        "grandchild = int(tree.stdout.readline())\n"
        "proctree.kill_descendants()\n"
        "print(grandchild, len(proctree.descendants(__import__('os').getpid())))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
        cwd=ROOT,
    )
    grandchild, left = map(int, done.stdout.split())
    assert left == 0
    assert gone(grandchild)
