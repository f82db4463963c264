"""Reports what a submission can see and do from inside the sandbox (served by the lab)."""

import os
import socket
from pathlib import Path

from fastapi import FastAPI

app = FastAPI()
ROOT = Path(__file__).resolve().parent.parent.parent  # the repository, when served in place


def _can_create(folder: Path) -> bool:
    probe = folder / f".sandbox-probe-{os.getpid()}"
    try:
        probe.touch(exist_ok=False)
    except OSError:
        return False
    probe.unlink()
    return True


def _can_append(path: Path) -> bool:
    try:
        with open(path, "a"):  # opened for writing, nothing written
            return True
    except OSError:
        return False


def _capabilities() -> dict[str, int]:
    """The effective, permitted and ambient capability sets, from /proc (0: none)."""
    wanted = {"CapEff": "effective", "CapPrm": "permitted", "CapAmb": "ambient"}
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in wanted:
            out[wanted[key]] = int(value.strip(), 16)
    return out


@app.get("/inside")
def inside(repo: str):
    root = Path(repo)
    return {
        "uid": os.getuid(),
        "euid": os.geteuid(),
        "ppid": os.getppid(),
        "capabilities": _capabilities(),
        "interfaces": [name for _, name in socket.if_nameindex()],
        "visible_pids": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
        "cwd": os.getcwd(),
        "create_in_home": _can_create(Path.cwd()),
        "create_in_repo": _can_create(root),
        "create_in_solutions": _can_create(root / "solutions" / "blocking-sleep"),
        "append_to_solution": _can_append(root / "solutions" / "blocking-sleep" / "async_sleep.py"),
        "append_to_harness": _can_append(root / "autograder" / "serve.py"),
        "append_to_grader_output": _can_append(Path(os.environ["AUDIT_LOG"]).parent / "output.log"),
        "create_in_run_dir": _can_create(Path(os.environ["AUDIT_LOG"]).parent),
    }
