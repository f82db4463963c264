"""JupyterLab as the README starts it (``bash scripts/lab``), on a free port, for the tests
that drive it: the browser run of the lessons and the lab's terminal."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import psutil

from tests.conftest import ROOT


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_up(url: str, proc: subprocess.Popen[bytes], within: float) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        assert proc.poll() is None, "JupyterLab exited during start-up"
        with contextlib.suppress(OSError):
            urllib.request.urlopen(url, timeout=2).read()
            return
        time.sleep(0.2)  # polling a server that is starting: no event to wait on
    raise AssertionError(f"JupyterLab did not answer {url} within {within:.0f} s")


@dataclass
class Lab:
    base: str
    token: str
    root: Path

    def api(self, path: str, method: str = "GET") -> object:
        request = urllib.request.Request(f"{self.base}/api/{path}?token={self.token}", method=method)
        with urllib.request.urlopen(request, timeout=30) as r:
            body = r.read()
        return json.loads(body) if body else None

    def listing(self, path: str) -> set[str]:
        """What the file browser lists in ``path`` (the contents API, which it reads)."""
        content = self.api(f"contents/{path}")
        assert isinstance(content, dict)
        return {item["name"] for item in content["content"]}

    def shut_kernels_down(self) -> None:
        sessions = self.api("sessions")
        assert isinstance(sessions, list)
        for session in sessions:
            self.api(f"sessions/{session['id']}", method="DELETE")


@contextlib.contextmanager
def jupyterlab(
    root: Path,
    scratch: Path,
    *,
    reference: bool = True,
    extra: tuple[str, ...] = (),
    environ: Mapping[str, str] | None = None,
) -> Iterator[Lab]:
    """``bash scripts/lab`` (the README's command) in ``root`` on a free port, started from
    ``environ`` (this process's environment by default); stopped afterwards with every
    kernel and terminal it started. With ``reference``, each lesson's "your turn" grades
    the reference answer (the run proves it passes), not the learner's copy."""
    environ = os.environ if environ is None else environ
    port, token = _free_port(), secrets.token_hex(16)
    # The learner's settings, with one change: no autosave, so a lesson run from the UI
    # never writes its outputs into the notebook file.
    settings = scratch / "settings"
    docmanager = settings / "@jupyterlab" / "docmanager-extension"
    docmanager.mkdir(parents=True)
    (docmanager / "plugin.jupyterlab-settings").write_text('{"autosave": false}')
    log = open(scratch / "lab.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        ["bash", "scripts/lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={token}", *extra],
        cwd=root,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        env={
            **environ,
            "PATH": os.pathsep.join([str(ROOT / ".tools" / "bin"), environ.get("PATH", "")]),
            "COURSE_REFERENCE": "1" if reference else "",
            "JUPYTER_RUNTIME_DIR": str(scratch / "runtime"),
            # A fresh learner: no saved workspace (open tabs) and no user settings (a news
            # prompt answered once would hide whether the course's settings answer it).
            "JUPYTERLAB_WORKSPACES_DIR": str(scratch / "workspaces"),
            "JUPYTERLAB_SETTINGS_DIR": str(settings),
        },
    )
    try:
        _wait_until_up(f"http://127.0.0.1:{port}/api/status?token={token}", proc, 120)
        yield Lab(f"http://127.0.0.1:{port}", token, root)
    finally:
        family = []
        with contextlib.suppress(psutil.Error):
            family = psutil.Process(proc.pid).children(recursive=True)
        proc.send_signal(signal.SIGTERM)  # the server shuts its kernels down cleanly
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        for p in family:  # kernels run in sessions of their own
            with contextlib.suppress(psutil.Error):
                p.kill()
        log.close()


