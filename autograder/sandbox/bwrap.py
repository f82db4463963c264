"""What a submission sees of the machine: the bubblewrap command line that builds its view.

bubblewrap (Debian's ``bubblewrap``, the sandbox Flatpak runs every application in) builds
a new root from an empty tmpfs, bind-mounts into it only what it is told to, pivots into
it and drops every other mount, in fresh PID, network, IPC and UTS namespaces. As an
ordinary user it does so inside an unprivileged user namespace; as root it needs none.
Doing the same in our own code would mean writing mount, pivot_root and uid-map handling
that bubblewrap already gets right (locked mounts, read-only remounts, /dev, /proc).

The submission's view (identical paths inside and out, so tracebacks and the diagnosis
name the same files):

- the system's shared libraries and tools (``/usr`` and its links), the Python runtime and
  the installed packages, read-only;
- the serving harness (the ``autograder`` package, no other part of the repository),
  read-only;
- the folder holding the submission, read-only (writable only when the host lets everyone
  write there: a scratch folder a notebook shares with its app); where the submission's
  own uid may not enter it, a copy of what a stranger could read in it, at its own path
  (``readable_copy.py``);
- the run's directory (its working directory ``home`` inside), writable as the host's
  permissions allow;
- a private, empty ``/tmp`` and ``/dev/shm``, a minimal ``/dev`` and its own ``/proc``;
- in ``/etc`` only the dynamic linker's cache, the time zone, and a ``passwd``, ``group``,
  ``hosts`` and ``nsswitch.conf`` written for the run (its own user, whose home is its
  working directory; ``localhost``).

Nothing else: no home folders, no ``/root``, no class folder, no other submission.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

HARNESS = Path(__file__).resolve().parents[1]  # the autograder package, harness included
# The interpreter by a path the sandbox shows: ``sys.executable`` keeps the way it was
# typed (``course/../.venv/bin/python``), through folders the sandbox may not hold.
PYTHON = os.path.abspath(sys.executable)
# Top-level links or folders the dynamic linker and /usr/bin/env-style scripts rely on.
SYSTEM_TOPS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
OWN_MOUNTS = ("/dev", "/proc", "/etc")  # made by bubblewrap itself
ETC_FROM_HOST = ("ld.so.cache", "ld.so.conf", "localtime")
SUBMISSION_USER = "submission"
# As root the supervisor keeps only what it needs to start the submission as its own uid
# and, for a restartable run, to signal it (a crash, a graceful stop): the submission's
# uid is not the supervisor's, and the PID namespace limits CAP_KILL to the run's own
# processes. The submission loses all three when it drops to its uid.
ROOT_CAPS = ("CAP_SETUID", "CAP_SETGID", "CAP_KILL")


def runtime_paths() -> list[str]:
    """The interpreter and its packages: the prefixes (a venv's and its base Python's)."""
    found: set[str] = set()
    for p in (
        sys.prefix,
        sys.base_prefix,
        sys.exec_prefix,
        sys.base_exec_prefix,
        os.path.dirname(sys.executable),
        os.path.dirname(os.path.realpath(sys.executable)),
    ):
        found.update({os.path.abspath(p), os.path.realpath(p)})
    return _outermost(p for p in found if not _under(p, "/usr"))


def _under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _outermost(paths: Iterable[str]) -> list[str]:
    """Drop every path that lies inside another one of the list."""
    kept: list[str] = []
    for p in sorted(set(paths), key=len):
        if not any(_under(p, k) for k in kept):
            kept.append(p)
    return kept


def write_etc(folder: Path, *, uid: int, home: Path) -> None:
    """The run's own ``/etc`` files: its user (home: its working directory) and localhost."""
    folder.mkdir(mode=0o755)
    files = {
        "passwd": f"root:x:0:0:root:/root:/usr/sbin/nologin\n"
        f"{SUBMISSION_USER}:x:{uid}:{uid}::{home}:/usr/sbin/nologin\n",
        "group": f"root:x:0:\n{SUBMISSION_USER}:x:{uid}:\n",
        "hosts": "127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n",
        "nsswitch.conf": "passwd: files\ngroup: files\nhosts: files\n",
    }
    for name, text in files.items():
        (folder / name).write_text(text)
        (folder / name).chmod(0o644)


def command(
    bwrap: str,
    *,
    as_root: bool,
    read_only: list[str],
    writable: list[str],
    etc: Path | None,
    copies: Mapping[str, str] | None = None,
    network: bool = False,
) -> list[str]:
    """The bubblewrap prefix: the view (the runtime and harness are always in it) and the
    namespaces. The command that follows becomes the namespace's init (``--as-pid-1``):
    when it dies the kernel kills every process in the namespace, and signals sent to it
    from inside are ignored. ``copies``: a read-only path shown from a copy on the host
    (``readable_copy.py``), not from itself. ``network``: keep the machine's network (a
    scan of one's own service that needs a database on it); a graded submission never."""
    args = [bwrap, "--die-with-parent", "--new-session", "--as-pid-1"]
    args += ["--unshare-pid", "--unshare-ipc", "--unshare-uts"]
    if not network:
        args.append("--unshare-net")
    if as_root:
        args += ["--cap-drop", "ALL"]
        for cap in ROOT_CAPS:
            args += ["--cap-add", cap]
    else:
        args.append("--unshare-user")
    for top in SYSTEM_TOPS:
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    args += ["--proc", "/proc", "--dev", "/dev"]
    args += ["--perms", "1777", "--tmpfs", "/tmp", "--perms", "1777", "--tmpfs", "/dev/shm"]
    args += ["--perms", "0755", "--dir", "/etc"]
    for name in ETC_FROM_HOST:
        if os.path.exists(f"/etc/{name}"):
            args += ["--ro-bind", f"/etc/{name}", f"/etc/{name}"]
    if etc is not None:
        for entry in sorted(etc.iterdir()):
            args += ["--ro-bind", str(entry), f"/etc/{entry.name}"]
    binds = [(p, "--ro-bind") for p in [*runtime_paths(), str(HARNESS), *read_only]]
    binds += [(p, "--bind") for p in writable]
    targets = dict(binds)
    # The folders on the way to each bind, on the new root: bubblewrap would make them
    # 0700 (a stranger uid could not pass), so make them 0755 first.
    on_the_way = {
        str(folder)
        for path in targets
        for folder in Path(path).parents
        if str(folder) not in ("/", "/tmp")
        and not any(_under(str(folder), t) for t in [*targets, *SYSTEM_TOPS, *OWN_MOUNTS])
    }
    for folder in sorted(on_the_way, key=len):
        args += ["--perms", "0755", "--dir", folder]
    for path, how in sorted(targets.items(), key=lambda b: len(b[0])):  # parents first
        args += [how, (copies or {}).get(path, path), path]
    # The new root itself (and the folders made on it) read-only: as a user they are the
    # user's own, and nothing but the working directory and /tmp is to be written.
    return [*args, "--remount-ro", "/"]


def submission_folder(app_file: Path) -> tuple[list[str], list[str]]:
    """(read-only, writable): the folder holding the submission (its sibling modules come
    with it), writable only when the host lets everyone write there. A folder shared by
    everyone (sticky, like /tmp) or the root gives the file alone."""
    folder = app_file.parent
    mode = folder.stat().st_mode
    if mode & stat.S_ISVTX or folder == folder.parent:
        return [str(app_file)], []
    if mode & stat.S_IWOTH:
        return [], [str(folder)]
    return [str(folder)], []
