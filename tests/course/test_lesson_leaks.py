"""The lessons' last cell, ``leaks.finish()``, judges only what the course started: the
kernel's own threads (ipykernel's subshells for widget comms in JupyterLab, IPython's
history thread) are not leaks, a thread the lesson left running is."""

from __future__ import annotations

import sys
import threading

import pytest

from tests.conftest import ROOT


@pytest.fixture
def lesson():
    sys.path.insert(0, str(ROOT / "course"))
    try:
        import _lesson

        yield _lesson
    finally:
        sys.path.remove(str(ROOT / "course"))


def _thread_of(module: str, stop: threading.Event) -> threading.Thread:
    kind = type("Worker", (threading.Thread,), {"__module__": module})
    return kind(target=stop.wait, name=f"{module}-worker", daemon=True)


@pytest.mark.parametrize("module", ["ipykernel.subshell", "IPython.core.history", "zmq.utils"])
def test_the_kernels_own_threads_are_not_leaks(lesson, module):
    check, stop = lesson.LeakCheck(), threading.Event()
    kernel_thread = _thread_of(module, stop)
    kernel_thread.start()
    try:
        assert check.leftovers() == ([], [])
        check.finish()
    finally:
        stop.set()
        kernel_thread.join()


def test_a_thread_the_lesson_left_running_is_reported(lesson):
    check, stop = lesson.LeakCheck(), threading.Event()
    left = threading.Thread(target=stop.wait, name="lesson-server", daemon=True)
    left.start()
    try:
        assert check.leftovers()[0] == ["lesson-server"]
        with pytest.raises(AssertionError, match="lesson-server"):
            check.finish()
    finally:
        stop.set()
        left.join()
