"""environment.yml (for conda users) describes the same set as pyproject.toml."""

from __future__ import annotations

import re
import tomllib

from tests.conftest import ROOT


def _names(specs: list[str]) -> dict[str, str]:
    out = {}
    for spec in specs:
        m = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", spec)
        assert m, spec
        out[m.group(1).lower().replace("_", "-")] = m.group(2).replace(" ", "")
    return out


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    wanted = _names(project["project"]["dependencies"] + project["dependency-groups"]["dev"])
    listed = []
    in_deps = False
    for line in (ROOT / "environment.yml").read_text().splitlines():
        if line.startswith("dependencies:"):
            in_deps = True
        elif in_deps and line.strip().startswith("- "):
            listed.append(line.strip()[2:])
    conda = _names(listed)
    conda.pop("python")
    conda.pop("pip")
    conda.pop("redis-server")  # a server, not a Python package: notebook 08's real broker
    assert conda == wanted
