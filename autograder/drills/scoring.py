"""Scoring a prediction against a live measurement: the tolerance rules, and nothing else.

A figure (seconds, requests in flight, cores) is right when it sits within the
tolerance of what was measured; a list of words (the order tasks ran in) is right when
it is the same list. The drills score with :func:`judge`, and so do the course's
notebooks when a learner types a prediction before a cell measures. This module imports
nothing of the engine: it is cheap to import anywhere.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

Value = float | tuple[str, ...]


@dataclass(frozen=True)
class Tolerance:
    """How far a prediction may sit from the measurement: the larger of the two bounds."""

    absolute: float = 0.0
    relative: float = 0.0

    def allowed(self, measured: float) -> float:
        return max(self.absolute, self.relative * abs(measured))

    def describe(self, unit: str) -> str:
        parts = []
        if self.relative:
            parts.append(f"±{self.relative:.0%}".replace("%", " %"))
        if self.absolute:
            parts.append(f"±{_fmt(self.absolute, unit)}")
        return " or ".join(parts) + (", whichever is larger" if len(parts) == 2 else "")


@dataclass(frozen=True)
class Score:
    passed: bool
    predicted: Value
    measured: Value
    allowed: float | None  # the tolerance at this measurement; None for words
    message: str


def _fmt(x: float, unit: str) -> str:
    if unit == "s":
        return f"{x:.2f} s"
    if unit:
        return f"{x:g} {unit[:-1] if x == 1 and unit.endswith('s') else unit}"
    return f"{x:g}"


def format_value(value: Value, unit: str) -> str:
    """``0.30 s``, ``40 in flight``, ``1 core``; words joined by spaces (``none`` when empty)."""
    if isinstance(value, tuple):
        return " ".join(value) if value else "none"
    return _fmt(value, unit)


# A number, an optional time unit, then any words ("40 in flight", "2 cores").
_NUMBER = re.compile(
    r"^\s*([-+]?(?:\d+\.?\d*|\.\d+))\s*(ms|s|sec|secs|seconds)?(?:\s+[a-z][a-z ]*)?\s*$", re.I
)


def parse_value(text: str, *, words: bool) -> Value:
    """A prediction as typed: ``0.3``, ``300ms``, ``1.2 s``, ``40 in flight``; or words in order.

    Raises ``ValueError`` (with a hint) when a number was expected and none was typed.
    """
    if words:
        tokens = [t for t in re.split(r"[\s,;>]+", text.strip().lower()) if t]
        return () if tokens in ([], ["none"], ["nothing"]) else tuple(tokens)
    m = _NUMBER.match(text)
    if not m:
        raise ValueError(f"not a number: {text!r} (try 0.3, 300ms or 40)")
    value = float(m.group(1))
    return value / 1000 if (m.group(2) or "").lower() == "ms" else value


def judge(predicted: Value, measured: Value, *, tolerance: Tolerance | None, unit: str) -> Score:
    """Score ``predicted`` against ``measured``: within ``tolerance`` for a figure (in
    ``unit``: ``"s"``, ``"in flight"``, ``"cores"``...), equal for words (``tolerance``
    None). A measurement that is NaN (nothing was measured) never passes."""
    shown = format_value(measured, unit)
    if tolerance is None or isinstance(measured, tuple) or isinstance(predicted, tuple):
        ok = predicted == measured
        return Score(
            ok,
            predicted,
            measured,
            None,
            f"measured: {shown}; you said: {format_value(predicted, unit)} "
            f"({'right' if ok else 'not what happened'})",
        )
    if math.isnan(measured):
        return Score(False, predicted, measured, None, "nothing was measured (the app failed?)")
    allowed = tolerance.allowed(measured)
    off = predicted - measured
    ok = abs(off) <= allowed
    return Score(
        ok,
        predicted,
        measured,
        allowed,
        f"measured: {shown}; you said: {_fmt(predicted, unit)} "
        f"(off by {_fmt(abs(off), unit)}, allowed {_fmt(allowed, unit)}: "
        f"{'within' if ok else 'outside'} the tolerance)",
    )


__all__ = ["Score", "Tolerance", "Value", "format_value", "judge", "parse_value"]
