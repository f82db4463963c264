"""Run a command as an ordinary user, the way someone who installed the course in their own
account runs the grader (used by tests/grade/test_hostile.py, as root).

    unshare --mount --propagation private python tests/run_as_user.py USER PATH... -- CMD...

The interpreter and the packages of this test run may live where only root may enter (a
pyenv under /root); an ordinary user's own installation is reachable by that user. So, in
this private mount namespace only (the machine is unchanged), each folder on the way to a
PATH that others may not enter is covered by an empty tmpfs and the PATH alone is bound
back at its place; then the process becomes USER (its groups, its HOME) and runs CMD.
"""

from __future__ import annotations

import ctypes
import os
import pwd
import sys
from pathlib import Path

MS_NOSUID, MS_NODEV, MS_BIND, MS_REC = 2, 4, 4096, 16384
_libc = ctypes.CDLL(None, use_errno=True)


def _mount(source: str, target: str, fstype: str | None, flags: int, data: str = "") -> None:
    if _libc.mount(
        source.encode(), target.encode(), fstype.encode() if fstype else None, flags, data.encode()
    ):
        err = ctypes.get_errno()
        raise OSError(err, f"mount {source} on {target}: {os.strerror(err)}")


def make_reachable(paths: list[str]) -> None:
    covers: dict[str, list[tuple[str, int]]] = {}
    for path in dict.fromkeys(os.path.realpath(p) for p in paths):
        parts = Path(path).parts
        for i in range(2, len(parts)):
            ancestor = str(Path(*parts[:i]))
            if not os.stat(ancestor).st_mode & 0o001:
                covers.setdefault(ancestor, []).append((path, os.open(path, os.O_PATH)))
                break
    for cover, inside in covers.items():
        _mount("tmpfs", cover, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m")
        for path, fd in inside:
            os.makedirs(path, exist_ok=True)
            _mount(f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC)
            os.close(fd)


def main() -> None:
    user, rest = sys.argv[1], sys.argv[2:]
    split = rest.index("--")
    make_reachable(rest[:split])
    entry = pwd.getpwnam(user)
    os.initgroups(user, entry.pw_gid)
    os.setgid(entry.pw_gid)
    os.setuid(entry.pw_uid)
    env = {**os.environ, "HOME": entry.pw_dir, "USER": user, "LOGNAME": user}
    cmd = rest[split + 1 :]
    os.execvpe(cmd[0], cmd, env)


if __name__ == "__main__":
    main()
