"""environment.yml (for conda users) describes the same set as pyproject.toml."""

from __future__ import annotations

import importlib.metadata
import re
import tomllib

from packaging.requirements import Requirement

from tests.conftest import ROOT


def _names(specs: list[str]) -> dict[str, str]:
    out = {}
    for spec in specs:
        m = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", spec)
        assert m, spec
        out[m.group(1).lower().replace("_", "-")] = m.group(2).replace(" ", "")
    return out


def _with_extras(specs: list[str]) -> list[str]:
    """Conda has no extras: ``sqlalchemy[asyncio]`` is sqlalchemy and what its ``asyncio``
    extra requires (read from the installed package's metadata)."""
    out = []
    for spec in specs:
        req = Requirement(spec)
        out.append(spec.replace(f"[{','.join(sorted(req.extras))}]", ""))
        for extra in req.extras:
            for line in importlib.metadata.requires(req.name) or []:
                dep = Requirement(line)
                if dep.marker is not None and dep.marker.evaluate({"extra": extra}):
                    dep.marker = None
                    out.append(str(dep))
    return out


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    wanted = _names(
        _with_extras(
            project["project"]["dependencies"]
            + project["project"]["optional-dependencies"]["course"]
            + project["dependency-groups"]["dev"]
        )
    )
    listed = []
    in_deps = False
    for line in (ROOT / "environment.yml").read_text().splitlines():
        if line.startswith("dependencies:"):
            in_deps = True
        elif in_deps and line.strip().startswith("- "):
            listed.append(line.split("#")[0].strip()[2:])
    conda = _names(listed)
    conda.pop("python")
    conda.pop("pip")
    conda.pop("redis-server")  # a server, not a Python package: notebook 08's real broker
    conda.pop("postgresql")  # a server too: notebook 07's and pool-stall's database
    # psycopg[binary]: a wheel with libpq inside; conda-forge's psycopg links its own libpq.
    wanted.pop("psycopg-binary")
    assert conda == wanted
