"""A measuring autograder for FastAPI concurrency exercises.

Serves a submission with uvicorn in its own process, starts real dependency servers,
sends real concurrent load, measures from outside, and says which check failed, why,
and which line blocked the event loop. ``python -m autograder --help``.
"""

import importlib
import warnings
from typing import Any

# Modules that lived at the package's top before it was arranged in layers: a notebook or
# script written then (``from autograder import plots``) still works, with a warning.
MOVED = {
    "plots": "autograder.lab.plots",
    "crashdrill": "autograder.lab.crashdrill",
    "session": "autograder.measure.session",
    "load": "autograder.measure.load",
    "burst": "autograder.measure.burst",
    "checks": "autograder.judges.checks",
    "verdict": "autograder.judges.verdict",
    "runner": "autograder.run.runner",
    "restart": "autograder.run.restart",
    "brokers": "autograder.servers.brokers",
}


def __getattr__(name: str) -> Any:
    if name in MOVED:
        warnings.warn(
            f"autograder.{name} moved to {MOVED[name]}: import it from there",
            DeprecationWarning,
            stacklevel=2,
        )
        return importlib.import_module(MOVED[name])
    raise AttributeError(f"module 'autograder' has no attribute {name!r}")
