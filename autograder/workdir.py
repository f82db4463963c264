"""A run's files and who owns them: the run's directory, the served copy of the submission,
and what the submission's uid left in the machine's shared temporary directories."""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
from pathlib import Path

from autograder.handles import Run


def prepare(run: Run) -> None:
    """The run's directory is the grader's; only ``home`` and the files the submission must
    write (audit log, harness report) are the submission's uid's. It cannot replace the
    grader's files there (the directory is not its own) nor read other runs' directories."""
    run.workdir.chmod(0o711)
    run.home.mkdir(mode=0o700)
    owned = [run.home, run.audit_log, run.report_file]
    if run.restartable:
        run.jobs_dir.mkdir(mode=0o700)
        owned.append(run.jobs_dir)
    run.audit_log.touch(mode=0o644)  # the dependency servers read it (uid of their own)
    run.report_file.touch(mode=0o600)
    run.output_file.touch(mode=0o600)
    if run.uid is not None:
        for path in owned:
            os.chown(path, run.uid, run.uid)


def readable_by_others(path: Path) -> bool:
    """Can a stranger import ``path`` from its folder (folder listable, file readable)?"""
    try:
        if not path.stat().st_mode & stat.S_IROTH:
            return False
        folder = path.parent
        if folder.stat().st_mode & (stat.S_IROTH | stat.S_IXOTH) != stat.S_IROTH | stat.S_IXOTH:
            return False
        return all(p.stat().st_mode & stat.S_IXOTH for p in folder.parents)
    except OSError:
        return False


def served_file(run: Run) -> Path:
    """The file the harness imports: the submission itself, or a readable copy of it when
    its own uid could not read it where it is (sibling modules then stay behind)."""
    if run.uid is None or run.reachable or readable_by_others(run.app_file):
        return run.app_file
    folder = run.workdir / "submission"
    folder.mkdir(mode=0o755)
    copy = folder / run.app_file.name
    shutil.copyfile(run.app_file, copy)
    copy.chmod(0o644)
    return copy


def remove_owned_by(uid: int) -> None:
    """Files the submission left in the machine's shared temporary directories."""
    for top in ("/tmp", "/var/tmp", "/dev/shm"):
        with contextlib.suppress(OSError), os.scandir(top) as entries:
            for entry in entries:
                with contextlib.suppress(OSError):
                    if entry.stat(follow_symlinks=False).st_uid != uid:
                        continue
                    if entry.is_dir(follow_symlinks=False):
                        shutil.rmtree(entry.path, ignore_errors=True)
                    else:
                        os.unlink(entry.path)
