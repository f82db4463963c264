"""Looks around the machine at import time, tries to write where it must not, prints what
it got (the last output of a submission that dies before serving lands in its verdict),
then exits with status 3. tests/grade/test_hostile.py checks that it reached nothing.

What it tries: the home folders of every user (found through ``pwd``, since HOME points at
its own working directory, and by listing /home), opening their ``.bashrc`` for appending
and creating a file there; the class folder around its own file (other students'
submissions, the gradebook); the repository that PYTHONPATH names, beyond the harness;
leaving files in /tmp, /var/tmp and /dev/shm; a server listening on the host's loopback.
"""

import glob
import itertools
import json
import os
import pwd
import socket
from pathlib import Path

HOST_PORT = 0  # the test writes the port of a server on the host's loopback here
LEFT_BEHIND = "snoop-left-behind"
got: dict = {"secrets": [], "listed": {}, "wrote": [], "repo": [], "connected": False}


def read(path) -> None:
    try:
        if not os.path.isfile(path):
            return
        with open(path, errors="replace") as f:
            text = f.read(65536)
    except OSError:
        return
    got["secrets"] += [w for w in text.split() if w.startswith("SECRET-")]


def listing(path) -> list[str]:
    try:
        names = sorted(os.listdir(path))
    except OSError:
        return []
    got["listed"][str(path)] = names[:20]
    return names


def write(path, *, create: bool = True) -> None:
    """Create ``path``, or open it for appending: nothing is written into an existing file
    (if this ever runs unconfined, it must not change anyone's shell start-up)."""
    try:
        with open(path, "x" if create else "a"):
            pass
    except OSError:
        return
    got["wrote"].append(str(path))


homes = {entry.pw_dir for entry in pwd.getpwall()} | {"/root"}
homes |= {f"/home/{name}" for name in listing("/home")}
for home in sorted(homes):
    for name in listing(home):
        read(f"{home}/{name}")
    if home == "/root" or home.startswith("/home/"):
        write(f"{home}/.bashrc", create=False)
        write(f"{home}/{LEFT_BEHIND}")

here = Path(__file__).resolve()
for folder in here.parents[:4]:  # course/submitted/<student>/<assignment>/app.py
    listing(folder)
    for path in itertools.islice(glob.iglob(f"{folder}/**/*", recursive=True), 500):
        if os.path.isfile(path) and Path(path).resolve() != here:
            read(path)

for root in os.environ.get("PYTHONPATH", "").split(os.pathsep):
    for name in ("README.md", "pyproject.toml", "solutions", "exercises", "tests", ".git"):
        if root and os.path.exists(f"{root}/{name}"):
            got["repo"].append(name)

for folder in ("/tmp", "/var/tmp", "/dev/shm"):
    write(f"{folder}/{LEFT_BEHIND}")

try:
    socket.create_connection(("127.0.0.1", HOST_PORT), timeout=2).close()
    got["connected"] = True
except OSError:
    pass

print("SNOOP " + json.dumps(got, sort_keys=True), flush=True)
os._exit(3)  # no SystemExit for the harness to catch: the process just ends
