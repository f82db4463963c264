"""What to serve: TARGET in its two forms, and the settings the app needs.

TARGET is a file (``app.py``, ``app.py:application``) or uvicorn's ``module:attribute``
form (``shop.main:app``, the module found from the current directory as uvicorn finds
it). Nothing of the app is imported here: the grader's process never runs the app's
code; the harness imports it in the confined process.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from pathlib import Path

_MODULE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class UsageError(Exception):
    """A command line the scan cannot act on (exit status 2)."""


@dataclass(frozen=True)
class Target:
    """``file`` holds the app's module; ``root`` is the folder whose files are the app's
    own (stall samples and tracebacks name lines there); ``module`` is set for the
    ``module:attribute`` form."""

    spec: str
    file: Path
    root: Path
    attribute: str
    module: str | None = None
    factory: bool = False  # uvicorn's --factory: the attribute is called to make the app
    # Where uvicorn would run the app: the folder the module form was typed in (an app may
    # read files by relative paths: static/, templates/); None for the file form.
    cwd: str | None = None

    def cwd_folder(self) -> tuple[str, ...]:
        """The working directory, when the sandbox must show it beside the app's root."""
        return (self.cwd,) if self.cwd and self.cwd != str(self.root) else ()

    def harness_args(self) -> tuple[str, ...]:
        args = ["--attr", self.attribute, "--watch", str(self.root), "--tokens"]
        if self.module:
            args += ["--module", self.module, "--app-dir", str(self.root)]
        if self.factory:
            args.append("--factory")
        return tuple(args)

    def relative(self, path: str) -> str:
        """A file of the app, named from its root (``shop/deps.py``)."""
        try:
            return str(Path(path).resolve().relative_to(self.root))
        except ValueError:
            return os.path.basename(path)


def parse_target(
    spec: str, *, cwd: Path | None = None, app_dir: Path | None = None, factory: bool = False
) -> Target:
    """``app.py``, ``app.py:attr`` or ``package.module:attr`` (the module found under
    ``app_dir``, uvicorn's ``--app-dir``: ``src`` in a src layout; the current directory by
    default); ``factory``: the attribute makes the app. Raise :class:`UsageError`."""
    cwd = (cwd or Path.cwd()).resolve()
    target = _parse(spec, cwd, (cwd / app_dir).resolve() if app_dir is not None else cwd)
    return replace(target, factory=factory, cwd=str(cwd) if target.module else None)


def _parse(spec: str, cwd: Path, search: Path) -> Target:
    where, sep, attribute = spec.rpartition(":")
    if not sep:
        where, attribute = spec, "app"
    if not _NAME.match(attribute):
        raise UsageError(f"{spec!r}: {attribute!r} is not an attribute name")
    if where.endswith(".py") or os.sep in where:
        path = (cwd / where).resolve()
        if not path.is_file():
            raise UsageError(f"no such file: {where}")
        return Target(spec, path, path.parent, attribute)
    if not sep:
        raise UsageError(
            f"{spec!r} is neither a .py file nor uvicorn's module:attribute form (e.g. main:app)"
        )
    if not _MODULE.match(where):
        raise UsageError(f"{spec!r}: {where!r} is not a module name")
    if not search.is_dir():
        raise UsageError(f"--app-dir: no such folder: {search}")
    parts = where.split(".")
    for candidate in (
        search.joinpath(*parts).with_suffix(".py"),
        search.joinpath(*parts, "__init__.py"),
    ):
        if candidate.is_file():
            return Target(spec, candidate, search, attribute, module=where)
    hint = (
        " (a src layout? pass --app-dir src)"
        if search == cwd and (cwd / "src" / parts[0]).exists()
        else ""
    )
    raise UsageError(
        f"no module {where!r} under {search} (the module:attribute form is read from the "
        f"current directory, or --app-dir, as uvicorn does){hint}"
    )


def parse_env(pairs: list[str], env_file: Path | None) -> dict[str, str]:
    """``--env-file`` first (KEY=VALUE lines, # comments, optional quotes), then ``--env``."""
    env: dict[str, str] = {}
    if env_file is not None:
        try:
            text = env_file.read_text()
        except OSError as exc:
            raise UsageError(f"cannot read the env file {env_file}: {exc.strerror}") from None
        for number, raw in enumerate(text.splitlines(), 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            line = line.removeprefix("export ").strip()
            try:
                key, value = _pair(line)
            except UsageError as exc:
                raise UsageError(f"{env_file}:{number}: {exc}") from None
            env[key] = value
    for pair in pairs:
        key, value = _pair(pair)
        env[key] = value
    return env


def _pair(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not _ENV_NAME.match(key):
        raise UsageError(f"{text!r} is not KEY=VALUE")
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        value = value[1:-1]
    return key, value
