"""The supervisor's loop for a restartable run: the grader may crash the submission and
start it again, while the dependency servers keep running. Runs in the supervisor.

The grader sends one JSON command a line on a socket pair (``SandboxSpec.restart_fd``):

- ``{"signal": N}``: send signal N to the submission (SIGKILL to its whole process group:
  a crash takes every process of the service with it; any other signal to the harness
  only, as a container runtime sends SIGTERM to its main process);
- ``{"start": true}``: once the submission has exited, start the same command again on
  the same listening socket, with the same output file, uid, cgroups and limits. The
  harness's new status pipe goes back to the grader over the socket pair (SCM_RIGHTS).

Exits are reported on the control pipe as for the first start (``app_pid``, ``app_exit``).
The loop waits on the socket and on SIGCHLD (through a wake-up pipe) at once; it ends only
when SIGTERM's handler raises.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import socket
import subprocess
from collections.abc import Callable
from typing import Any

from autograder.sandbox.spec import SandboxSpec

StartApp = Callable[[tuple[str, ...], tuple[int, ...]], "subprocess.Popen[bytes]"]


def with_status_fd(argv: tuple[str, ...], fd: int) -> tuple[str, ...]:
    """The harness's command with another ``--status-fd``."""
    out = list(argv)
    out[out.index("--status-fd") + 1] = str(fd)
    return tuple(out)


class _Current:
    """The submission's present incarnation."""

    def __init__(self, app: subprocess.Popen[bytes]) -> None:
        self.app = app
        self.alive = True


def supervise_restarts(
    spec: SandboxSpec,
    app: subprocess.Popen[bytes],
    deps: subprocess.Popen[bytes],
    tell: Callable[[dict[str, Any]], None],
    start_app: StartApp,
) -> None:
    assert spec.restart_fd is not None
    channel = socket.socket(fileno=spec.restart_fd)
    wake_r, wake_w = os.pipe()
    for fd in (wake_r, wake_w):
        os.set_blocking(fd, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda signum, frame: None)
    current = _Current(app)
    pending = b""
    watched: list[Any] = [wake_r, channel]

    def reap() -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid == current.app.pid:
                current.alive = False
                tell({"app_exit": os.waitstatus_to_exitcode(status)})
            elif pid == deps.pid:
                tell({"deps_exit": os.waitstatus_to_exitcode(status)})

    def handle(command: dict[str, Any]) -> None:
        proc = current.app
        if "signal" in command:
            if not current.alive:
                return
            signum = int(command["signal"])
            with contextlib.suppress(ProcessLookupError, PermissionError):
                if signum == signal.SIGKILL:
                    os.killpg(proc.pid, signum)
                else:
                    os.kill(proc.pid, signum)
        elif command.get("start"):
            if current.alive:
                channel.sendall(b"error: the submission is still running\n")
                return
            status_r, status_w = os.pipe()
            try:
                new = start_app(
                    with_status_fd(spec.app_argv, status_w), (spec.app_fds[0], status_w)
                )
            except OSError as exc:
                os.close(status_r)
                channel.sendall(f"error: {exc}\n".encode())
                return
            finally:
                os.close(status_w)
            current.app, current.alive = new, True
            socket.send_fds(channel, [b"started\n"], [status_r])
            os.close(status_r)
            tell({"app_pid": new.pid})

    while True:
        reap()
        readable, _, _ = select.select(watched, [], [])
        if wake_r in readable:
            with contextlib.suppress(BlockingIOError):
                while os.read(wake_r, 512):
                    pass
        if channel in readable:
            data = channel.recv(4096)
            if not data:  # the grader closed its end: nothing more to do but reap
                watched.remove(channel)
                continue
            pending += data
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                with contextlib.suppress(ValueError):
                    handle(json.loads(line))
