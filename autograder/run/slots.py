"""The machine-wide registry of grading runs: one place for "one grading per machine".

Grading runs on one machine measure each other (two cores, timing checks). Every run
holds a *slot* for its lifetime: an flock'd file in a runtime directory, released by the
kernel if the grader dies, so a stale file never blocks anyone. A slot also gives the
run its number (the submission's uid is ``UID_BASE + slot``).

- :func:`acquire` / :meth:`Slot.release`: hold a slot; :func:`active_runs` lists who
  holds the others; :func:`warn_if_busy` logs a warning when another process holds a run
  (the ``grade`` command: a student may run two graders by mistake, it still answers);
- :func:`exclusive`: wait until this caller is the machine's only grader and keep it so
  (a class grading run: hundreds of verdicts must not disturb each other). Runs started
  meanwhile by anyone else still only warn: it keeps other *exclusive* holders out, and
  waits for the slots active when it began to be released.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

MAX_SLOTS = 64
RUNTIME_DIR = (
    Path("/run/autograder")
    if os.geteuid() == 0 and Path("/run").is_dir()
    else Path(tempfile.gettempdir()) / f".autograder-runs-{os.getuid()}"
)
EXCLUSIVE_FILE = "exclusive"


@dataclass
class Slot:
    """A slot this process holds (until :meth:`release` or its exit)."""

    number: int
    _fd: int | None

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing drops the lock
            self._fd = None


def _open_dir(directory: Path | None) -> Path:
    directory = directory or RUNTIME_DIR
    directory.mkdir(mode=0o755, parents=True, exist_ok=True)
    return directory


def acquire(what: str, *, directory: Path | None = None) -> Slot:
    """Hold the first free slot; ``what`` (the submission's file) tells others who holds it."""
    directory = _open_dir(directory)
    for i in range(MAX_SLOTS):
        fd = os.open(directory / f"slot-{i}", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        entry = {"pid": os.getpid(), "file": what, "since": time.time()}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(entry).encode(), 0)
        return Slot(i, fd)
    raise RuntimeError(f"more than {MAX_SLOTS} grading runs at once on this machine")


def _held(path: Path) -> dict[str, Any] | None:
    """What the holder of ``path`` wrote in it, or None when nobody holds it (stale)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:  # held
        with contextlib.suppress(OSError, ValueError):
            found = json.loads(os.pread(fd, 4096, 0))
            if isinstance(found, dict):
                return found
        return {}
    finally:
        os.close(fd)
    return None


def active_runs(
    *, besides: int | None = None, directory: Path | None = None
) -> list[dict[str, Any]]:
    """The grading runs active on this machine (slots someone holds), but slot ``besides``."""
    directory = directory or RUNTIME_DIR
    found = []
    for i in range(MAX_SLOTS):
        path = directory / f"slot-{i}"
        if i != besides and path.exists() and (entry := _held(path)) is not None:
            found.append(entry)
    return found


def describe(runs: list[dict[str, Any]]) -> str:
    return ", ".join(f"pid {o.get('pid')} grading {Path(str(o.get('file'))).name}" for o in runs)


def warn_if_busy(slot: Slot, *, directory: Path | None = None) -> bool:
    """Log a warning when another process holds a grading run; return whether one does.

    Runs this process holds itself are left out: they are its own design (a notebook's
    kernel, whose lab may still hold a lesson's app, grading a "your turn"), not a second
    grader started by mistake, and the warning would print in red under the cell.
    """
    me = os.getpid()
    others = [
        o for o in active_runs(besides=slot.number, directory=directory) if o.get("pid") != me
    ]
    if others:
        log.warning(
            "another grading run is active on this machine (%s): its load can disturb the "
            "timings of this one",
            describe(others),
        )
    return bool(others)


@contextlib.contextmanager
def exclusive(
    what: str,
    *,
    directory: Path | None = None,
    waiting: Callable[[str], None] | None = None,
    poll: float = 0.5,
) -> Iterator[None]:
    """Be the machine's only exclusive grader: wait for another one to finish, then for the
    grading runs active now to end. ``waiting`` is told (once each) why it waits."""
    directory = _open_dir(directory)
    tell = waiting or (lambda why: log.warning("%s", why))
    fd = os.open(directory / EXCLUSIVE_FILE, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _held(directory / EXCLUSIVE_FILE) or {}
            tell(
                f"waiting for another grading run on this machine (pid {holder.get('pid')}: "
                f"{holder.get('file')}) ..."
            )
            fcntl.flock(fd, fcntl.LOCK_EX)
        entry = {"pid": os.getpid(), "file": what, "since": time.time()}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(entry).encode(), 0)
        told = False
        while others := active_runs(directory=directory):
            if not told:
                tell(
                    f"waiting for the grading runs active on this machine ({describe(others)}) ..."
                )
                told = True
            time.sleep(poll)
        yield
    finally:
        os.close(fd)  # closing drops the lock
