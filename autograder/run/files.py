"""A run's files and who owns them: the run's directory, the served copy of the submission,
and what the submission's uid left in the machine's shared temporary directories."""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
from dataclasses import dataclass, field
from pathlib import Path

from autograder.run.handles import Run, SubmissionFailed
from autograder.sandbox import readable_copy


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
    if not (readable_copy.readable(path) and readable_copy.enterable(path.parent)):
        return False
    try:
        return all(p.stat().st_mode & stat.S_IXOTH for p in path.parent.parents)
    except OSError:
        return False


@dataclass(frozen=True)
class View:
    """What the harness imports, and the folders the sandbox shows from a readable copy
    (``{path in the sandbox: copy on the host}``) where the run's uid may not enter them."""

    app_file: Path
    copies: dict[str, str] = field(default_factory=dict)


def submission_view(run: Run, *, sandboxed: bool) -> View:
    """The submission and the folders it imports from, as its own uid can read them.

    In the sandbox the folders on the way are bubblewrap's (0755), so a folder the uid may
    not enter itself (or a submission only its owner may read) is shown from a copy at its
    own path: tracebacks and the diagnosis name the learner's file. Without a sandbox the
    harness imports the copy (siblings included) from the run's directory."""
    if run.uid is None:
        return View(run.app_file)
    folder = run.app_file.parent
    copies: dict[str, str] = {}
    if sandboxed:
        alone = folder.stat().st_mode & stat.S_ISVTX or folder == folder.parent
        if alone and not readable_copy.readable(run.app_file):
            copies[str(run.app_file)] = str(_copy_file(run))
        elif not alone and not (
            readable_copy.enterable(folder) and readable_copy.readable(run.app_file)
        ):
            copies[str(folder)] = str(_copy_folder(run, folder, also=run.app_file))
        for extra in map(Path, run.reachable):
            if str(extra) not in copies and not readable_copy.enterable(extra):
                copies[str(extra)] = str(_copy_folder(run, extra))
        return View(run.app_file, copies)
    if run.reachable or readable_by_others(run.app_file):
        return View(run.app_file)
    return View(_copy_folder(run, folder, also=run.app_file) / run.app_file.name)


def _copy_folder(run: Run, folder: Path, *, also: Path | None = None) -> Path:
    try:
        return readable_copy.copy_for(_uid(run), folder, _fresh(run), also=also)
    except readable_copy.TooBig as exc:
        raise SubmissionFailed(str(exc)) from None


def _copy_file(run: Run) -> Path:
    """The submission alone (its folder is everyone's, like /tmp), readable by its uid."""
    into = _fresh(run)
    readable_copy.copy_for(_uid(run), run.app_file.parent, into, only=run.app_file)
    return into / run.app_file.name


def _fresh(run: Run) -> Path:
    """A new, not yet existing folder for one copy in the run's directory."""
    copies = run.workdir / "copies"
    copies.mkdir(mode=0o711, exist_ok=True)
    return copies / str(len(list(copies.iterdir())))


def _uid(run: Run) -> int:
    assert run.uid is not None
    return run.uid


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
