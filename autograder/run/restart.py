"""Crash the submission and start it again, while the dependency servers keep running.

A run started with ``runner.running(app_file, restartable=True)`` gives the submission a
state directory (``JOBS_DIR``, ``Run.jobs_dir``) that survives its restarts and is removed
with the run. :func:`stop_app` sends a signal (SIGKILL to the submission's whole process
group: a crash; SIGTERM to the harness: uvicorn's graceful shutdown) and waits for the
exit; :func:`start_again` starts the same file on the same port, in the same
confinement (uid, cgroups, limits, namespaces), and waits until it serves again. The
supervisor does both (``sandbox/restarts.py``); the run's clean-up stops whatever the last
start left, as for the first.
"""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import time

from autograder.run.handles import AppProcess, Run, SubmissionFailed
from autograder.run.start import READY_TIMEOUT, app_ready, pipe_reader, watch_limits


def _command(run: Run, command: dict[str, object]) -> None:
    if run.restart_channel is None:
        raise RuntimeError("this run was not started restartable")
    run.restart_channel.sendall(json.dumps(command).encode() + b"\n")


async def stop_app(run: Run, signum: int, *, wait_at_most: float) -> tuple[int | None, float]:
    """Send ``signum`` to the submission and wait for it to exit: (its exit status, or
    None when it was still running after ``wait_at_most`` s and was then killed; the
    seconds it took)."""
    assert run.app_process is not None
    t0 = time.monotonic()
    if run.app_process.returncode is not None:
        return run.app_process.returncode, 0.0
    _command(run, {"signal": int(signum)})
    try:
        code: int | None = await asyncio.wait_for(run.app_process.wait(), wait_at_most)
    except TimeoutError:
        code = None
        _command(run, {"signal": int(signal.SIGKILL)})
        await asyncio.wait_for(run.app_process.wait(), READY_TIMEOUT)
    return code, time.monotonic() - t0


def _receive_status_fd(channel: socket.socket) -> int:
    channel.settimeout(READY_TIMEOUT)
    try:
        msg, fds, _, _ = socket.recv_fds(channel, 1024, 1)
    finally:
        channel.settimeout(None)
    if not fds:
        raise SubmissionFailed(
            "the submission could not be started again: " + msg.decode(errors="replace").strip()
        )
    return fds[0]


async def start_again(run: Run) -> float:
    """Start the submission again once it has exited; wait until it serves. Returns the
    seconds it took. Raises :class:`SubmissionFailed` as the first start does."""
    if run.app_alive():
        raise RuntimeError("the submission is still running: stop it first")
    assert run.restart_channel is not None
    t0 = time.monotonic()
    run.app_process = AppProcess()
    _command(run, {"start": True})
    fd = await asyncio.to_thread(_receive_status_fd, run.restart_channel)
    status = await pipe_reader(fd)
    run.status_stream = status
    run.tasks.append(asyncio.create_task(watch_limits(run)))
    await app_ready(run, status, since=t0)
    return time.monotonic() - t0
