"""Serve a submission beside its dependency servers in a sandbox; stop them all, whatever they did.

:func:`running` is the whole life of a grading run: hold a slot (``slots.py``), give the
submission a uid and cgroups of its own when the machine allows, start it
(``start.py``: its files, the sandbox, the app and the dependency servers, until both
serve), yield the :class:`~autograder.run.handles.Run`, and finally :func:`stop` it.

Cleanup does not trust the submission: killing the PID namespace's init kills everything
in it. Without namespaces the supervisor is a child subreaper that kills every
descendant, and the grader still kills the cgroups' tasks, the process groups, every
descendant it can see and every process that carries the run's token or uid
(``proctree.py``), then removes the files.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import signal
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

# Imported here, not when the first run stops: ~30 ms that would otherwise count in the
# grading time (proctree imports it lazily so the sandbox's supervisor never does).
import psutil

from autograder.run import files, slots, start
from autograder.run.deaths import death_message
from autograder.run.handles import RUN_TOKEN_VAR, Run, SubmissionFailed
from autograder.run.interpreter import Interpreter
from autograder.run.slots import MAX_SLOTS, active_runs
from autograder.run.start import IMPORT_TIMEOUT, READY_TIMEOUT
from autograder.sandbox import environment, proctree
from autograder.sandbox.cgroups import Cgroups

__all__ = [
    "IMPORT_TIMEOUT",
    "MAX_SLOTS",
    "READY_TIMEOUT",
    "RUN_TOKEN_VAR",
    "Run",
    "SubmissionFailed",
    "active_runs",
    "death_message",
    "host_app_processes",
    "running",
    "stop",
]

log = logging.getLogger(__name__)


def _new_run(app_file: Path) -> Run:
    return Run(
        app_file=app_file.resolve(),
        workdir=Path(tempfile.mkdtemp(prefix="autograder-")),
        token=uuid.uuid4().hex,
    )


@contextlib.asynccontextmanager
async def running(
    app_file: Path,
    *,
    env: dict[str, str] | None = None,
    harness_args: tuple[str, ...] = (),
    reachable: tuple[str, ...] = (),
    restartable: bool = False,
    workers: int = 1,
    python: Interpreter | None = None,
    noun: str = "the submission",
    network: bool = False,
    cwd: str | None = None,
) -> AsyncIterator[Run]:
    """Serve ``app_file`` beside fresh dependency servers; always stop and clean up.

    ``env`` adds settings to the app's environment (the grader's own variables win);
    ``harness_args`` go to ``autograder.harness.serve`` (what to import, what to watch);
    ``reachable`` are folders the app's uid must be able to read in the sandbox;
    ``restartable``: the submission gets a state directory (``JOBS_DIR``) and the grader
    may crash it and start it again (``restart.py``).
    ``workers`` > 1 serves it with uvicorn's multi-process supervisor (``harness/workers.py``);
    ``python``: the app's own interpreter (``interpreter.py``), shown read-only in the
    sandbox, the engine's by default; ``noun``: what messages call the app; ``network``:
    the machine's network stays reachable (a scan's opt-in; never for a submission);
    ``cwd``: the app's working directory (one of ``reachable``), its home by default.
    Raises :class:`SubmissionFailed` when the submission cannot serve.
    """
    if workers < 1:  # before the run's folder exists: nothing to clean up
        raise ValueError(f"workers must be at least 1, not {workers}")
    run = _new_run(app_file)
    run.extra_env = dict(env or {})
    run.harness_args = tuple(harness_args) + (("--workers", str(workers)) if workers > 1 else ())
    run.reachable = tuple(reachable)
    run.restartable = restartable
    run.noun = noun
    run.network = network
    run.app_cwd = cwd
    if python is not None:
        run.python, run.runtime = python.executable, python.paths
    try:
        conf = await asyncio.to_thread(environment.confinement)
        _note_once(conf)
        run.slot = slots.acquire(str(run.app_file))
        slots.warn_if_busy(run.slot)
        if conf.own_uid:
            run.uid = environment.UID_BASE + run.slot.number
        if conf.cgroups:
            run.cgroups = Cgroups.create(
                f"autograder-{run.token}",
                pids_max=environment.LIMITS["processes"],
                memory_bytes=environment.LIMITS["memory_mib"] << 20,
            )
        await start.start(run)
        log.info(
            "submission ready after %.2f s on port %d", time.monotonic() - run.started, run.app_port
        )
        yield run
    finally:
        await stop(run)


_noted: list[str] = []


def _note_once(conf: environment.Confinement) -> None:
    """Grading without a sandbox: say so, once per process, in one line."""
    note = conf.note()
    if note and not _noted:
        _noted.append(note)
        log.warning("note: %s", note)


async def stop(run: Run) -> None:
    """Kill everything the run started (whatever the submission did) and remove its files."""
    for task in run.tasks:
        task.cancel()
    strays: set[psutil.Process] = set()
    sup = run.supervisor
    if sup is not None:
        if environment.confinement().bwrap:
            # The namespace's init is bubblewrap's child: killing it kills the namespace.
            strays |= proctree.kill_tree(sup.pid)
        else:
            with contextlib.suppress(ProcessLookupError):
                sup.send_signal(signal.SIGTERM)  # it kills every descendant, then exits
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(sup.wait(), 5)
            strays |= proctree.kill_tree(sup.pid)
    if run.cgroups is not None:
        await asyncio.to_thread(run.cgroups.kill_all)
    strays |= proctree.kill_carrying(run.token, RUN_TOKEN_VAR, uid=run.uid)
    if sup is not None:  # our own child: reaped by asyncio, not by psutil
        with contextlib.suppress(ProcessLookupError, TimeoutError):
            await asyncio.wait_for(sup.wait(), 5)
    await asyncio.to_thread(
        proctree.wait_gone, {p for p in strays if sup is None or p.pid != sup.pid}
    )
    if run.cgroups is not None:
        await asyncio.to_thread(run.cgroups.remove)
    if run.uid is not None:
        await asyncio.to_thread(files.remove_owned_by, run.uid)
    if run.restart_channel is not None:
        run.restart_channel.close()
    if run.slot is not None:
        run.slot.release()
    shutil.rmtree(run.workdir, ignore_errors=True)
    if run.app_process is not None and run.app_process.returncode is None:
        run.app_process.exited(-signal.SIGKILL)  # killed with its namespace: no report came


def host_app_processes(run: Run) -> list[psutil.Process]:
    """The submission's harness (and whatever it started) under host pids. Inside the
    sandbox's PID namespace its own pid means nothing here: find it among the
    supervisor's descendants by its command line."""
    if run.supervisor is None:
        return []
    found = []
    with contextlib.suppress(psutil.Error):
        for p in psutil.Process(run.supervisor.pid).children(recursive=True):
            with contextlib.suppress(psutil.Error):
                if "autograder.harness.serve" in p.cmdline():
                    found.append(p)
    return found
