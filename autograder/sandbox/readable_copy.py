"""A copy, for the submission's own uid, of a folder that uid may not enter.

A course cloned into a folder only its owner may enter (``/root``, ``mktemp -d``) holds
apps and their sibling modules that a stranger uid cannot read. In the sandbox the folders
on the way are made by bubblewrap (0755), so only the folder itself is in the way; the
grader copies into the run's directory what a stranger could read in it, were the folder
itself enterable (files readable by others, folders others may enter), and the sandbox
shows that copy at the folder's own path. The uid gains nothing it could not read through
an enterable folder: files only the owner may read stay behind, links stay links (never
followed by the grader), and the copy is readable by the run's uid alone.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

MAX_FILES = 2000
MAX_BYTES = 64 << 20
SKIPPED_FOLDERS = ("__pycache__",)  # and hidden ones (.git, .venv): never the app's modules



class TooBig(Exception):
    """A private folder holds too much to copy for the app's uid: the message says what to do."""

def enterable(folder: Path) -> bool:
    """Can a stranger list and enter ``folder`` (its parents aside)?"""
    want = stat.S_IROTH | stat.S_IXOTH
    try:
        return folder.stat().st_mode & want == want
    except OSError:
        return False


def readable(path: Path) -> bool:
    """Can a stranger read the file ``path`` (its folders aside)?"""
    try:
        return bool(path.stat().st_mode & stat.S_IROTH)
    except OSError:
        return False


def _skipped(entry: os.DirEntry[str]) -> bool:
    return (
        entry.name.startswith(".")
        or entry.name in SKIPPED_FOLDERS
        or not enterable(Path(entry.path))
    )


def _plan(folder: Path, also: Path | None) -> tuple[list[Path], list[Path], list[Path]]:
    """(folders, files, links) to copy, relative to ``folder``; over the limits, refuse."""
    folders: list[Path] = []
    files: list[Path] = []
    links: list[Path] = []
    size = 0
    todo = [folder]
    while todo:
        here = todo.pop()
        with os.scandir(here) as entries:
            for entry in entries:
                rel = Path(entry.path).relative_to(folder)
                if entry.is_symlink():
                    links.append(rel)
                elif entry.is_dir(follow_symlinks=False):
                    folders.append(rel)
                    if not _skipped(entry):
                        todo.append(Path(entry.path))
                elif entry.is_file(follow_symlinks=False) and (
                    readable(Path(entry.path)) or Path(entry.path) == also
                ):
                    files.append(rel)
                    size += entry.stat(follow_symlinks=False).st_size
        if len(files) > MAX_FILES or size > MAX_BYTES:
            raise TooBig(
                f"{folder} is private (only its owner may enter it) and too big to copy for "
                f"the submission's own uid: serve the app from a folder of its own, or let "
                f"others enter this one (chmod o+rx {folder})"
            )
    return folders, files, links


def copy_for(
    uid: int, folder: Path, into: Path, *, also: Path | None = None, only: Path | None = None
) -> Path:
    """Copy into ``into`` (made here) what a stranger could read in ``folder``, plus the
    file ``also`` (the submission itself, whatever its mode), or the file ``only``;
    readable by ``uid``'s group alone (the submission runs with that gid and no other
    group). Skipped folders are left empty: something else (a venv) may be mounted there."""
    folders: list[Path] = []
    links: list[Path] = []
    if only is not None:
        files = [only.relative_to(folder)]
    else:
        folders, files, links = _plan(folder, also)
    into.mkdir(mode=0o750)
    os.chown(into, os.getuid(), uid)
    for rel in sorted(folders):  # parents first
        (into / rel).mkdir(mode=0o750)
        os.chown(into / rel, os.getuid(), uid)
    for rel in files:
        shutil.copyfile(folder / rel, into / rel, follow_symlinks=False)
        os.chmod(into / rel, 0o640)
        os.chown(into / rel, os.getuid(), uid)
    for rel in links:
        os.symlink(os.readlink(folder / rel), into / rel)
    return into
