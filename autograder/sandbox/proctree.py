"""Killing process trees: the one place the grader, the sandbox, the lab and the classroom
stop what they started, whatever it did (new sessions, double forks, a cleared environment).

- :func:`kill_tree`: a process, its process group and every descendant it still has;
- :func:`kill_carrying`: every process whose environment carries a run's token (escapees
  that left the tree) or that runs as the run's own uid;
- :func:`wait_gone`: wait until processes are dead (a zombie counts: it runs no code);
- :func:`kill_descendants`: a supervisor kills and reaps everything below itself.

:func:`descendants` and :func:`kill_descendants` read ``/proc`` directly: the sandbox's
supervisor uses them, and psutil (~30 ms to import) would delay every submission's start.
psutil is imported by the other helpers only when they run.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import psutil


def descendants(root: int) -> list[int]:
    """Every process below ``root`` (pids, parents before children), read from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])  # the name may hold spaces and ')'
        children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def kill_descendants(timeout: float = 3.0) -> None:
    """SIGKILL every descendant of this process and reap them, until none is left (new
    orphans of a child subreaper come back to it while it kills)."""
    me = os.getpid()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        victims = descendants(me)
        for pid in victims:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        if not victims:
            return
        time.sleep(0.01)


def kill_tree(pid: int, sig: int = signal.SIGKILL) -> set[psutil.Process]:
    """Send ``sig`` (SIGKILL unless told) to a process, its process group (when it leads
    one) and every descendant it still has; return the descendants, for :func:`wait_gone`."""
    import psutil

    victims: set[psutil.Process] = set()
    with contextlib.suppress(psutil.Error):
        victims.update(psutil.Process(pid).children(recursive=True))
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)  # a session leader's group holds its children too
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, sig)
    for p in victims:
        with contextlib.suppress(psutil.Error):
            p.send_signal(sig)
    return victims


def kill_carrying(token: str, var: str, *, uid: int | None = None) -> set[psutil.Process]:
    """SIGKILL every process whose environment has ``var=token`` (escapees included), or
    that runs as ``uid`` (even one that cleared its environment). Never this process."""
    import psutil

    found = set()
    me = os.getpid()
    for p in psutil.process_iter():
        if p.pid == me:
            continue
        with contextlib.suppress(psutil.Error):
            if (uid is not None and p.uids().real == uid) or p.environ().get(var) == token:
                p.kill()
                found.add(p)
    return found


def wait_gone(procs: Iterable[psutil.Process], timeout: float = 3.0) -> None:
    """Wait until every process is dead (a zombie counts as dead: it runs no code)."""
    import psutil

    deadline = time.monotonic() + timeout
    for p in procs:
        while time.monotonic() < deadline:
            try:
                if p.status() == psutil.STATUS_ZOMBIE:
                    break
            except psutil.Error:
                break
            time.sleep(0.01)
