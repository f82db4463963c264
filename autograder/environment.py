"""The grading environment: fixed by the grader, the same on every machine, reported in the JSON.

Measured on a 2-core machine, details of the environment decided verdicts more than the
student's code did, so the grader pins them for the submission's process only:

- asyncio's default executor gets 40 workers (set in ``serve.py``), the size of AnyIO's
  thread limiter, so ``asyncio.to_thread`` and a plain ``def`` endpoint behave alike
  (the stock ``min(32, cpu_count + 4)`` is 6 on 2 cores);
- ``SSL_CERT_FILE`` points at a one-certificate PEM file and ``SSL_CERT_DIR`` is unset:
  every dependency is plain HTTP on loopback, but each ``httpx.Client()`` builds an SSL
  context, ~20-25 ms of CPU with certifi's bundle against ~1 ms with this file;
- uvicorn serves on asyncio + h11 with one worker, whatever extras are installed.

Resource limits keep a hostile or broken submission from taking the grader down.
"""

from __future__ import annotations

import importlib.metadata
import platform
import resource
from pathlib import Path
from typing import Any

CERT_FILE = Path(__file__).resolve().parent / "certs" / "loopback-ca.pem"

LIMITS = {
    "output_mib": 64,  # RLIMIT_FSIZE: stdout/stderr, the audit log, any file it writes
    "cpu_seconds": 60,  # RLIMIT_CPU of the submission's process
    "address_space_gib": 4,  # RLIMIT_AS; 40 threads' stacks need ~0.4 GiB of it
}


def child_environment() -> dict[str, str]:
    """Variables every process of a grading run gets (SSL_CERT_DIR is simply absent)."""
    return {"SSL_CERT_FILE": str(CERT_FILE), "MALLOC_ARENA_MAX": "4"}


def apply_limits() -> None:
    """Run in the submission's process before it executes anything (``preexec_fn``)."""
    mib = 1024 * 1024
    resource.setrlimit(resource.RLIMIT_FSIZE, (LIMITS["output_mib"] * mib,) * 2)
    resource.setrlimit(resource.RLIMIT_CPU, (LIMITS["cpu_seconds"], LIMITS["cpu_seconds"] + 5))
    resource.setrlimit(resource.RLIMIT_AS, (LIMITS["address_space_gib"] * 1024 * mib,) * 2)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in ("fastapi", "starlette", "uvicorn", "httpx", "anyio"):
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def describe() -> dict[str, Any]:
    """The ``environment`` object of the JSON verdict."""
    from autograder.serve import DEFAULT_EXECUTOR_WORKERS

    return {
        "default_executor_workers": DEFAULT_EXECUTOR_WORKERS,
        "anyio_thread_limiter_tokens": 40,
        "ssl_cert_file": f"autograder/certs/{CERT_FILE.name}",
        "ssl_cert_dir": None,
        "uvicorn": {"loop": "asyncio", "http": "h11", "workers": 1},
        "limits": dict(LIMITS),
        "versions": versions(),
    }
