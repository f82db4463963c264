"""The submission's sandbox: a small supervisor between the grader and the submission.

``python -m autograder.sandbox.supervisor SPEC_JSON`` is started by the runner, when the machine
allows it inside a bubblewrap sandbox (``bwrap.py``: its own view of the filesystem, fresh
PID, network, IPC and UTS namespaces, loopback up). There the supervisor is the PID
namespace's init: when the grader kills it, the kernel kills every process of the
namespace, whatever session, process group or double fork the submission used. Signals
sent to it from inside the namespace (``os.kill(os.getppid(), 9)``) are ignored by the
kernel.

The supervisor:

1. binds the dependency servers' sockets there and reports their ports on the control
   pipe, then starts the dependency servers (its own stdin/stdout are the grader's
   command pipes: the grader talks to them through pipes only);
2. starts the submission's harness (``autograder.harness.serve``) in a session of its own, in its
   cgroups, under the resource limits, as an unprivileged uid of its own when it can;
3. reports the submission's exit status on the control pipe, reaps orphans (it is a
   child subreaper even without a PID namespace), and on SIGTERM kills every descendant.

What to start comes as one typed record (``sandbox_spec.SandboxSpec``, JSON on the
command line). The grader-side helpers live elsewhere: ``cgroups.py``, ``slots.py``,
``proctree.py``.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
from typing import Any

from autograder.sandbox import environment, proctree
from autograder.sandbox.spec import SandboxSpec

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38

_libc = ctypes.CDLL(None, use_errno=True)


def prctl(option: int, value: int) -> bool:
    return _libc.prctl(option, value, 0, 0, 0) == 0


def die_with_parent() -> None:
    """``preexec_fn``: SIGKILL this child when the thread that started it dies."""
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


# -- inside the sandbox --------------------------------------------------------------------


def listening_socket() -> socket.socket:
    """A loopback listening socket a child process can inherit."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    sock.set_inheritable(True)
    return sock


class _Stop(Exception):
    pass


def _confine(spec: SandboxSpec) -> None:
    """``preexec_fn`` of the submission: cgroups, limits, then drop to its own uid."""
    for fd in spec.cgroup_fds:
        os.write(fd, b"0")  # "0": the writing process itself
    environment.apply_limits(nproc=spec.nproc)
    prctl(PR_SET_NO_NEW_PRIVS, 1)  # no setuid binary gives the privileges back
    if spec.uid is not None:
        os.setgroups([])
        os.setgid(spec.uid)
        os.setuid(spec.uid)
    # As its own uid: as root the supervisor may not enter its home.
    os.chdir(spec.app_cwd or spec.home)


def supervise(spec: SandboxSpec) -> int:
    control = os.fdopen(spec.control_fd, "w", buffering=1)

    def tell(obj: dict[str, Any]) -> None:
        with contextlib.suppress(OSError, ValueError):
            control.write(json.dumps(obj) + "\n")
            control.flush()

    def stop(signum: int, frame: Any) -> None:
        raise _Stop

    if os.getpid() != 1:
        # Without a PID namespace the grader stops us with SIGTERM. As the namespace's init
        # we take no handler: the kernel then drops every signal sent from inside (a
        # submission running as the same user included), and the grader kills bwrap.
        signal.signal(signal.SIGTERM, stop)
    prctl(PR_SET_CHILD_SUBREAPER, 1)  # orphans (double forks) come back to us
    prctl(PR_SET_DUMPABLE, 0)  # a submission running as the same user may not trace us
    up, smtp = listening_socket(), listening_socket()
    ports = {"upstream": up.getsockname()[1], "smtp": smtp.getsockname()[1]}
    tell({"ports": ports})
    with open(spec.deps_log, "ab") as deps_log:
        deps = subprocess.Popen(
            [
                *spec.deps_argv,
                "--upstream-fd",
                str(up.fileno()),
                "--smtp-fd",
                str(smtp.fileno()),
            ],
            stdin=None,  # ours: the grader's command pipes
            stdout=None,
            stderr=deps_log,
            pass_fds=(up.fileno(), smtp.fileno()),
            env=spec.deps_env,
            cwd=spec.workdir,
            start_new_session=True,
        )
    up.close()
    smtp.close()
    env = dict(spec.app_env)
    env["UPSTREAM_URL"] = f"http://127.0.0.1:{ports['upstream']}"
    env["SMTP_HOST"] = "127.0.0.1"
    env["SMTP_PORT"] = str(ports["smtp"])
    output = spec.output_fd

    def start_app(argv: tuple[str, ...], fds: tuple[int, ...]) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=output,
            pass_fds=fds,
            env=env,
            start_new_session=True,
            preexec_fn=lambda: _confine(spec),
        )

    app = start_app(spec.app_argv, spec.app_fds)
    # The status pipe must reach EOF when the app dies; a restartable run keeps the
    # listening socket, the output file and the cgroup files for the next start.
    kept = (output, spec.app_fds[0], *spec.cgroup_fds) if spec.restart_fd is not None else ()
    for fd in (output, *spec.app_fds, *spec.cgroup_fds):
        if fd not in kept:
            os.close(fd)
    tell({"app_pid": app.pid})
    try:
        if spec.restart_fd is not None:
            from autograder.sandbox.restarts import supervise_restarts

            supervise_restarts(spec, app, deps, tell, start_app)
        while True:
            try:
                pid, status = os.waitpid(-1, 0)
            except ChildProcessError:
                signal.pause()
                continue
            if pid == app.pid:
                app.returncode = os.waitstatus_to_exitcode(status)
                tell({"app_exit": app.returncode})
            elif pid == deps.pid:
                deps.returncode = os.waitstatus_to_exitcode(status)
                tell({"deps_exit": deps.returncode})
    except _Stop:
        pass
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        proctree.kill_descendants()
    return 0


def probe_uid(uid: int) -> int:
    """Can ``uid`` run the interpreter and import the web stack here? (0: yes)"""
    return subprocess.run(
        [sys.executable, "-c", "import json, uvicorn"],
        capture_output=True,
        stdin=subprocess.DEVNULL,
        cwd="/",
        user=uid,
        group=uid,
        extra_groups=[],
        timeout=30,
    ).returncode


def main() -> int:
    if sys.argv[1] == "--probe-uid":
        return probe_uid(int(sys.argv[2]))
    return supervise(SandboxSpec.from_json(sys.argv[1]))


if __name__ == "__main__":
    sys.exit(main())
