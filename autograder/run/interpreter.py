"""The Python an app is served with: the engine's own, or the app's (its project's venv).

A real service has its own packages, pinned in its own environment; the harness
(:mod:`autograder.harness`: the standard library and uvicorn) runs in that interpreter,
with nothing installed into it. :func:`probe` asks the interpreter, outside the sandbox,
what the sandbox must show of it (its prefixes: a venv's and its base Python's) and
whether it can serve at all (Python 3.10 or newer, uvicorn importable).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

OLDEST = (3, 10)
PROBE_TIMEOUT = 20.0
_PROBE = """\
import json, os, sys
try:
    import uvicorn
    uv = uvicorn.__version__
except Exception as exc:
    uv = None
print(json.dumps({
    "version": list(sys.version_info[:3]),
    "paths": [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
              os.path.dirname(sys.executable),
              os.path.dirname(os.path.realpath(sys.executable))],
    "uvicorn": uv,
}))
"""


class Unusable(Exception):
    """This interpreter cannot serve the app; the message says why and what to do."""


@dataclass(frozen=True)
class Interpreter:
    executable: str  # as given (a venv's python is found by its own path, not its target)
    version: tuple[int, int, int]
    paths: tuple[str, ...]  # what the sandbox must show, read-only
    uvicorn: str

    @property
    def version_text(self) -> str:
        return ".".join(map(str, self.version))


def own() -> str:
    return os.path.abspath(sys.executable)


def project_venv(*folders: Path) -> Path | None:
    """The first ``.venv/bin/python`` in ``folders`` (a project's own environment, where
    uv and poetry put it), unless it is the engine's own."""
    for folder in folders:
        candidate = folder / ".venv" / "bin" / "python"
        if candidate.is_file() and os.path.abspath(candidate) != own():
            return candidate
    return None


def probe(python: str | Path) -> Interpreter:
    """Ask ``python`` what it is; raise :class:`Unusable` with what to do."""
    path = os.path.abspath(python)
    if not os.path.isfile(path) or not os.access(path, os.X_OK):
        raise Unusable(f"{python}: no such interpreter (give the path of its python executable)")
    try:
        done = subprocess.run(
            [path, "-I", "-c", _PROBE],
            capture_output=True,
            text=True,
            timeout=PROBE_TIMEOUT,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"},
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise Unusable(f"{python} does not run as a Python interpreter: {exc}") from None
    try:
        said = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        lines = done.stderr.strip().splitlines()
        raise Unusable(
            f"{python} does not run as a Python interpreter"
            + (f": {lines[-1]}" if lines else f" (exit status {done.returncode})")
        ) from None
    version = tuple(said["version"])
    if version[:2] < OLDEST:
        raise Unusable(
            f"{python} is Python {'.'.join(map(str, version))}: the harness needs "
            f"{'.'.join(map(str, OLDEST))} or newer"
        )
    if said["uvicorn"] is None:
        raise Unusable(
            f"{python} has no uvicorn: the app's environment needs it to be served "
            f"(`{python} -m pip install uvicorn`, or add it to the project's dependencies)"
        )
    paths = {os.path.abspath(p) for p in said["paths"]} | {
        os.path.realpath(p) for p in said["paths"]
    }
    return Interpreter(path, version, tuple(sorted(paths)), said["uvicorn"])
