"""Why the submission stopped, in words a student can act on: its own error message, the
limit it hit (output, CPU, memory, processes), or the signal or status it ended with,
followed by the last lines it printed."""

from __future__ import annotations

import contextlib
import signal

from autograder.run.handles import Run
from autograder.sandbox import environment


def output_note(run: Run) -> str:
    """Python ignores SIGXFSZ: past the output limit its writes fail with EFBIG instead."""
    limit = environment.LIMITS["output_mib"]
    with contextlib.suppress(OSError):
        if run.output_file.stat().st_size >= limit << 20:
            return f"(it wrote {limit} MiB of output, the limit: its writes failed past it)"
    return ""


def death_message(run: Run, code: int, *, before_ready: bool) -> str:
    """The submission's process ended with ``code`` (negative: killed by that signal)."""
    errors = [e["message"] for e in run.status if e.get("event") == "error"]
    note = output_note(run)
    if errors:
        return str(errors[-1]) + (f" {note}" if note else "")
    when = "before it was ready to serve" if before_ready else "while it was being graded"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = str(-code)
        how = f"was killed by {name}"
        if -code == signal.SIGXFSZ:
            how += f" (it wrote more than {environment.LIMITS['output_mib']} MiB of output)"
        elif -code == signal.SIGXCPU:
            how += f" (it used more than {environment.LIMITS['cpu_seconds']} s of CPU)"
        elif run.cgroups is not None and run.cgroups.oom_kills():
            how += f" (it used more than {environment.LIMITS['memory_mib']} MiB of memory)"
        elif run.hit_process_limit:
            how += (
                f" (it tried to run more than {environment.LIMITS['processes']} processes "
                "and threads at once)"
            )
    else:
        how = f"exited with status {code}"
    if note and "SIGXFSZ" not in how:
        how += f" {note}"
    tail = run.output_tail().strip()
    return f"{run.noun}'s process {how} {when}" + (
        f"; its last output:\n{tail}" if tail else ""
    )
