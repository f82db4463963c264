"""What each judge module provides: one :class:`Exercise`, its scenario and its judge."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any

from autograder.judges.checks import Check
from autograder.measure.session import Figures, Session


class Unmeasurable(RuntimeError):
    """This machine cannot grade the exercise (a server it needs is not installed); the
    message says what to install. The grader answers it with a verdict, not a traceback."""


@dataclass(frozen=True)
class Beside:
    """A server the grader starts for one grading, outside the submission's sandbox (the
    pool-stall exercise's PostgreSQL): what the submission's environment gets, the folders
    it must reach (a Unix socket's), and the handle the scenario reads (``Session.beside``)."""

    env: Mapping[str, str] = field(default_factory=dict)
    reachable: tuple[str, ...] = ()
    handle: Any = None


@dataclass(frozen=True)
class Exercise:
    id: str
    title: str
    summary: str
    checks: tuple[str, ...]
    measure: Callable[[Session], Awaitable[Figures]]
    judge: Callable[[Figures], list[Check]]
    # Work done in a thread while the submission starts (its result: ``Session.prepared``).
    prepare: Callable[[], object] | None = None
    # Served with a state directory and restartable (``autograder/run/restart.py``).
    restartable: bool = False
    # A server started before the submission and stopped after it, whatever happened
    # (raises :class:`Unmeasurable` where it cannot run here).
    beside: Callable[[], AbstractAsyncContextManager[Beside]] | None = None
