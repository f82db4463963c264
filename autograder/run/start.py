"""Start a run, the one place that does: its files (``files.py``), the sandbox's
supervisor, then the app and the dependency servers side by side; follow the supervisor's
reports; wait until both are ready to serve.

The grader binds the submission's listening socket (its port is known before anything
starts, and a socket keeps the namespace it was made in) and starts the supervisor
(``sandbox/supervisor.py``) with a :class:`~autograder.sandbox.spec.SandboxSpec`. The supervisor
reports on a control pipe: the dependency servers' ports, the submission's pid, its exit
status. The harness (``harness/serve.py``) reports on a status pipe: ``imported``, ``ready`` or
``error``. The dependency servers answer ``ready`` on their command pipe.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import time
from pathlib import Path

from autograder.run import deaths, files
from autograder.run.handles import (
    OWNER_VAR,
    RUN_TOKEN_VAR,
    AppProcess,
    DepServers,
    Run,
    SubmissionFailed,
)
from autograder.sandbox import bwrap, environment
from autograder.sandbox.spec import SandboxSpec
from autograder.sandbox.supervisor import die_with_parent, listening_socket

IMPORT_TIMEOUT = 20.0
READY_TIMEOUT = 25.0


def child_env(run: Run) -> dict[str, str]:
    """The environment of every process of the run (the run's token included)."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(run.home),
        "TMPDIR": str(run.home),
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
        RUN_TOKEN_VAR: run.token,
    }
    if OWNER_VAR in os.environ:
        env[OWNER_VAR] = os.environ[OWNER_VAR]
    env.update(environment.child_environment())
    return env


def _spec(
    run: Run,
    app_file: Path,
    app_fd: int,
    status_w: int,
    control_w: int,
    output: int,
    cgroup_fds: tuple[int, ...],
    restart_fd: int | None = None,
) -> SandboxSpec:
    conf = environment.confinement()
    env = child_env(run)
    return SandboxSpec(
        control_fd=control_w,
        workdir=str(run.workdir),
        home=str(run.home),
        deps_argv=(
            bwrap.PYTHON,
            "-m",
            "autograder.servers.process",
            "--audit-log",
            str(run.audit_log),
        ),
        deps_env=env,
        deps_log=str(run.workdir / "depservers.log"),
        app_argv=(
            run.python or bwrap.PYTHON,
            "-m",
            "autograder.harness.serve",
            str(app_file),
            "--fd",
            str(app_fd),
            "--status-fd",
            str(status_w),
            "--report",
            str(run.report_file),
            "--noun",
            run.noun,
            *run.harness_args,
        ),
        app_env={
            **run.extra_env,
            **env,
            "AUDIT_LOG": str(run.audit_log),
            **({"JOBS_DIR": str(run.jobs_dir)} if run.restartable else {}),
        },
        app_fds=(app_fd, status_w),
        output_fd=output,
        uid=run.uid,
        nproc=conf.task_limit,
        cgroup_fds=cgroup_fds,
        restart_fd=restart_fd,
        app_cwd=run.app_cwd,
    )


def sandbox_prefix(run: Run, view: files.View) -> list[str]:
    """The bubblewrap command that gives the run its own view of the machine (``bwrap.py``),
    or nothing where the machine allows no sandbox."""
    conf = environment.confinement()
    if conf.bwrap is None:
        return []
    etc = run.workdir / "etc"
    bwrap.write_etc(etc, uid=os.getuid() if run.uid is None else run.uid, home=run.home)
    read_only, writable = bwrap.submission_folder(view.app_file)
    return bwrap.command(
        conf.bwrap,
        as_root=conf.as_root,
        read_only=[*read_only, *run.reachable, *run.runtime],
        writable=[str(run.workdir), *writable],
        etc=etc,
        copies=view.copies,
        network=run.network,
    )


async def pipe_reader(fd: int) -> asyncio.StreamReader:
    reader = asyncio.StreamReader()
    await asyncio.get_running_loop().connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(fd, "rb", buffering=0)
    )
    return reader


async def start(run: Run) -> None:
    """Start a run: its files, the sandbox's supervisor, the app and the dependency
    servers; return once both serve (raises :class:`SubmissionFailed` when the app
    cannot)."""
    files.prepare(run)
    status = await _launch(run)
    await _wait_ready(run, status)


async def _launch(run: Run) -> asyncio.StreamReader:
    """Start the supervisor; return the harness's status stream once the ports are known."""
    app_sock = listening_socket()
    status_r, status_w = os.pipe()
    control_r, control_w = os.pipe()
    output = os.open(run.output_file, os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC)
    # Opened here: the sandbox sees no /sys, and the kernel checks the opener's rights.
    cgroup_fds = tuple(
        os.open(p, os.O_WRONLY | os.O_CLOEXEC)
        for p in (run.cgroups.procs_files() if run.cgroups else [])
    )
    restart_fds: tuple[int, ...] = ()
    theirs = None
    if run.restartable:
        run.restart_channel, theirs = socket.socketpair()
        theirs.set_inheritable(True)
        restart_fds = (theirs.fileno(),)
    view = files.submission_view(run, sandboxed=environment.confinement().bwrap is not None)
    spec = _spec(
        run,
        view.app_file,
        app_sock.fileno(),
        status_w,
        control_w,
        output,
        cgroup_fds,
        restart_fds[0] if restart_fds else None,
    )
    try:
        run.supervisor = await asyncio.create_subprocess_exec(
            *sandbox_prefix(run, view),
            bwrap.PYTHON,
            "-m",
            "autograder.sandbox.supervisor",
            spec.to_json(),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=output,
            pass_fds=(app_sock.fileno(), status_w, control_w, output, *cgroup_fds, *restart_fds),
            env=spec.deps_env,
            cwd=run.workdir,
            start_new_session=True,  # the grader's own group is not the sandbox's
            preexec_fn=die_with_parent,  # the sandbox does not outlive the grader
        )
        run.app_port = app_sock.getsockname()[1]
    finally:
        for fd in (status_w, control_w, output, *cgroup_fds):
            os.close(fd)
        app_sock.close()
        if theirs is not None:
            theirs.close()
    control = await pipe_reader(control_r)
    status = await pipe_reader(status_r)
    run.status_stream = status
    line = await asyncio.wait_for(control.readline(), READY_TIMEOUT)
    ports = json.loads(line or b"{}").get("ports")
    if not ports:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(run.supervisor.wait(), 1)
        raise RuntimeError(
            f"the sandbox failed to start (status {run.supervisor.returncode}, said {line!r}): "
            + run.output_tail()[-1000:]
        )
    run.deps = DepServers(run.supervisor, ports["upstream"], ports["smtp"])
    run.app_process = AppProcess()
    run.tasks.append(asyncio.create_task(_follow(run, control, status)))
    run.tasks.append(asyncio.create_task(watch_limits(run)))
    return status


async def _follow(run: Run, control: asyncio.StreamReader, status: asyncio.StreamReader) -> None:
    """Read the supervisor's reports: the submission's pid, then its exit status."""
    assert run.app_process is not None
    try:
        while line := await control.readline():
            with contextlib.suppress(ValueError):
                event = json.loads(line)
                if "app_pid" in event:
                    run.app_process.pid = event["app_pid"]
                elif "app_exit" in event:
                    run.app_process.exited(int(event["app_exit"]))
                    _status_ends(run)
                    if not run.restartable:  # else it may be started again
                        break
        else:
            run.app_process.exited(-signal.SIGKILL)  # the supervisor is gone: so is the app
    finally:
        _status_ends(run)
        status.feed_eof()


def _status_ends(run: Run) -> None:
    """bubblewrap keeps a copy of the status pipe open: its end is the app's exit, not EOF."""
    if run.status_stream is not None and not run.status_stream.at_eof():
        run.status_stream.feed_eof()


async def watch_limits(run: Run) -> None:
    """Stop the submission as soon as it hits the process limit: its verdict then says so,
    instead of a timing check failing for want of a worker thread."""
    if run.cgroups is None:
        return
    while run.app_alive():
        if run.cgroups.pids_at_limit():
            run.hit_process_limit = True
            await asyncio.to_thread(run.cgroups.kill_all)
            return
        await asyncio.sleep(0.1)


async def _wait_ready(run: Run, status: asyncio.StreamReader) -> None:
    """Wait for the harness's ``ready`` and the dependency servers' (side by side)."""
    assert run.deps is not None
    deps = asyncio.create_task(_deps_ready(run.deps))
    try:
        await app_ready(run, status)
        await deps
    finally:
        deps.cancel()


async def app_ready(run: Run, status: asyncio.StreamReader, *, since: float | None = None) -> None:
    """Read the harness's status lines until ``ready``; explain any other ending.
    ``since``: when this start began (a restart's; the run's own by default)."""
    assert run.app_process is not None
    started = run.started if since is None else since
    deadline = time.monotonic() + READY_TIMEOUT
    imported = False
    while True:
        budget = deadline - time.monotonic()
        if not imported:
            budget = min(budget, IMPORT_TIMEOUT - (time.monotonic() - started))
        try:
            line = await asyncio.wait_for(status.readline(), max(budget, 0.01))
        except TimeoutError:
            what = "finish importing" if not imported else "start serving"
            limit = IMPORT_TIMEOUT if not imported else READY_TIMEOUT
            raise SubmissionFailed(
                f"{run.noun} did not {what} within {limit:.0f} s "
                "(an endless loop or a blocking call at import or in the lifespan?)"
            ) from None
        if not line:
            code = await run.app_process.wait()
            raise SubmissionFailed(deaths.death_message(run, code, before_ready=True))
        try:
            event = json.loads(line)
        except ValueError:
            continue
        run.status.append(event)
        if event.get("event") == "imported":
            imported = True
        elif event.get("event") == "ready":
            return
        elif event.get("event") == "error":
            detail = event.get("traceback", "")
            note = deaths.output_note(run)
            raise SubmissionFailed(
                event["message"] + (f" {note}" if note else "") + (f"\n{detail}" if detail else "")
            )


async def _deps_ready(deps: DepServers) -> None:
    assert deps.process.stdout is not None
    line = await asyncio.wait_for(deps.process.stdout.readline(), READY_TIMEOUT)
    if not json.loads(line or b"{}").get("ready"):
        raise RuntimeError("the dependency servers failed to start")
