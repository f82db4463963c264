"""The machine-wide slot registry, in a directory of the test's own: slots are numbered,
seen by others while held, freed by release or by the holder's death; ``exclusive``
waits for other graders."""

from __future__ import annotations

import contextlib
import logging
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from autograder.run import slots
from tests.conftest import ROOT


def test_slots_are_numbered_and_seen_by_others_while_held(tmp_path: Path):
    a = slots.acquire("/x/a.py", directory=tmp_path)
    b = slots.acquire("/x/b.py", directory=tmp_path)
    try:
        assert (a.number, b.number) == (0, 1)
        others = slots.active_runs(besides=a.number, directory=tmp_path)
        assert [o["file"] for o in others] == ["/x/b.py"]
        assert len(slots.active_runs(directory=tmp_path)) == 2
    finally:
        b.release()
    assert slots.active_runs(besides=a.number, directory=tmp_path) == []
    again = slots.acquire("/x/c.py", directory=tmp_path)  # slot 1's file is stale: reused
    assert again.number == 1
    again.release()
    a.release()
    a.release()  # twice is harmless


@contextlib.contextmanager
def held_elsewhere(directory: Path, what: str) -> Iterator[subprocess.Popen[str]]:
    """A slot held by another process (until the block ends: then that process is killed)."""
    with subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; from autograder.run import slots; "
            "slots.acquire(sys.argv[2], directory=Path(sys.argv[1])); print('held', flush=True); "
            "sys.stdin.read()",
            str(directory),
            what,
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    ) as holder:
        try:
            assert holder.stdout is not None and holder.stdout.readline() == "held\n"
            yield holder
        finally:
            holder.kill()


def test_a_slot_dies_with_its_holder(tmp_path: Path):
    with held_elsewhere(tmp_path, "held.py") as holder:
        (entry,) = slots.active_runs(directory=tmp_path)
        assert entry["pid"] == holder.pid and entry["file"] == "held.py"
    assert slots.active_runs(directory=tmp_path) == []  # the kernel dropped its lock


def test_warn_if_busy_names_the_other_run(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    mine = slots.acquire("/x/mine.py", directory=tmp_path)
    try:
        with caplog.at_level(logging.WARNING, logger="autograder.run.slots"):
            assert not slots.warn_if_busy(mine, directory=tmp_path)
            assert caplog.records == []
            with held_elsewhere(tmp_path, "/x/other.py") as other:
                assert slots.warn_if_busy(mine, directory=tmp_path)
        assert f"pid {other.pid} grading other.py" in caplog.text
    finally:
        mine.release()


def test_warn_if_busy_leaves_out_the_runs_of_its_own_process(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    """A notebook's kernel may still hold a lesson's app while it grades a "your turn":
    its own runs are not a second grader, and must print nothing under the cell."""
    served = slots.acquire("/x/lesson_app.py", directory=tmp_path)
    mine = slots.acquire("/x/mine.py", directory=tmp_path)
    try:
        assert len(slots.active_runs(besides=mine.number, directory=tmp_path)) == 1  # still seen
        with caplog.at_level(logging.WARNING, logger="autograder.run.slots"):
            assert not slots.warn_if_busy(mine, directory=tmp_path)
        assert caplog.records == []
    finally:
        mine.release()
        served.release()


def test_exclusive_waits_until_the_active_runs_end(tmp_path: Path):
    running = slots.acquire("/x/running.py", directory=tmp_path)
    told = threading.Event()
    inside = threading.Event()
    why: list[str] = []

    def waiting(message: str) -> None:
        why.append(message)
        told.set()

    def exclusive_grader() -> None:
        with slots.exclusive("class", directory=tmp_path, waiting=waiting, poll=0.01):
            inside.set()

    thread = threading.Thread(target=exclusive_grader)
    thread.start()
    assert told.wait(5)
    assert not inside.is_set()  # it was told to wait, and waits
    assert "running.py" in why[0]
    running.release()
    assert inside.wait(5)
    thread.join(5)


def test_exclusive_keeps_a_second_exclusive_grader_out(tmp_path: Path):
    told = threading.Event()
    inside = threading.Event()
    with slots.exclusive("first", directory=tmp_path):

        def second() -> None:
            with slots.exclusive("second", directory=tmp_path, waiting=lambda _: told.set()):
                inside.set()

        thread = threading.Thread(target=second)
        thread.start()
        assert told.wait(5)
        assert not inside.is_set()
    assert inside.wait(5)
    thread.join(5)
