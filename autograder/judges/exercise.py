"""What each judge module provides: one :class:`Exercise`, its scenario and its judge."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from autograder.judges.checks import Check
from autograder.measure.session import Figures, Session


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
