"""The result of grading one submission: checks, score, diagnosis, figures, environment."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from autograder.judges.checks import Check


@dataclass(frozen=True)
class Verdict:
    exercise: str
    checks: tuple[Check, ...]
    diagnosis: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    environment: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(c.passed for c in self.checks)

    @property
    def score(self) -> int:
        return sum(c.passed for c in self.checks)

    @property
    def max_score(self) -> int:
        return len(self.checks)

    @property
    def failed(self) -> list[str]:
        return [c.name for c in self.checks if not c.passed]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Verdict:
        """The verdict back from its JSON object (``--json``); score and passed are derived."""
        return cls(
            exercise=data["exercise"],
            checks=tuple(Check(c["name"], c["passed"], c["message"]) for c in data["checks"]),
            diagnosis=data.get("diagnosis"),
            metrics=data.get("metrics", {}),
            environment=data.get("environment", {}),
        )

    def to_dict(self) -> dict[str, Any]:
        """Exactly the JSON object of the contract."""
        return {
            "exercise": self.exercise,
            "passed": self.passed,
            "score": self.score,
            "max_score": self.max_score,
            "checks": [c.to_dict() for c in self.checks],
            "diagnosis": self.diagnosis,
            "metrics": self.metrics,
            "environment": self.environment,
        }

    def render(self) -> str:
        """A human-readable verdict for a terminal or a notebook cell."""
        head = "PASSED" if self.passed else "FAILED"
        lines = [f"{self.exercise}: {head} ({self.score}/{self.max_score} checks)"]
        for c in self.checks:
            lines.append(f"  {'✓' if c.passed else '✗'} {c.name}: {c.message}")
        if self.diagnosis:
            lines.append(f"  diagnosis: {self.diagnosis}")
        lines.append(f"score: {self.score}/{self.max_score}")
        return "\n".join(lines)
