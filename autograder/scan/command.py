"""The ``scan`` subcommand: arguments, outputs, exit status (0 fine, 1 not, 2 usage)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from autograder.run.interpreter import Interpreter

from autograder.scan import formats

EPILOG = """\
TARGET is a file (app.py, or app.py:attribute) or uvicorn's module:attribute form
(shop.main:app, found from the current directory or --app-dir; with --factory,
shop.main:create_app). The app runs with its own environment: --python, or a .venv
beside it or in the current folder; nothing is installed into it.
--requests FILE: JSON (a list of objects) or JSON lines, one request each:
  {"method": "GET", "path": "/books/42?full=true", "json": {...}, "headers": {...},
   "route": "/books/{book_id}"}   (only path is required; see docs/scan.md)
Verdicts: fine, blocks-loop, serialised, pool-queued, errors, skipped.
Exit status: 0 no route got a verdict of --fail-on (by default: every route measured is
fine), 1 one did or the app cannot be served (even with --fail-on none), 2 usage error.
--fail-on blocks-loop fails on a blocked loop only; skipped fails only when named."""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "scan",
        help="measure every route of a FastAPI app",
        description="Serve a FastAPI app as the grader does, read its OpenAPI schema, and\n"
        "measure each route it can call: alone, then N requests at once, the event loop\n"
        "probed from outside. Says per route: fine, blocks the event loop (which line),\n"
        "serialised, queued on a pool ceiling, errors under load.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("target", metavar="TARGET", help="app.py[:attr] or module:attribute")
    p.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a setting for the app's environment (repeatable)",
    )
    p.add_argument("--env-file", type=Path, metavar="FILE", help="KEY=VALUE lines (a .env file)")
    p.add_argument(
        "--python",
        type=Path,
        metavar="PATH",
        help="serve the app with this interpreter, its own environment (default: a .venv "
        "beside the app or in the current folder, else the scanner's own)",
    )
    p.add_argument(
        "--share",
        action="append",
        default=[],
        type=Path,
        metavar="DIR",
        help="a folder outside the app's that it reads (scripts, data), shown read-only "
        "in its sandbox (repeatable)",
    )
    p.add_argument(
        "--network",
        action="store_true",
        help="let the app reach this machine's network (its database or an API on "
        "localhost); without it the app reaches nothing but the scan's own test servers",
    )
    p.add_argument(
        "--factory",
        action="store_true",
        help="TARGET names a function that makes the app (uvicorn's --factory)",
    )
    p.add_argument(
        "--app-dir",
        type=Path,
        metavar="DIR",
        help="find module:attribute under DIR (uvicorn's --app-dir; src for a src layout)",
    )
    p.add_argument("--requests", type=Path, metavar="FILE", help="requests you write (see below)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.add_argument("--html", type=Path, metavar="PATH", help="write an HTML report with timelines")
    p.add_argument("--sarif", type=formats.output_path, metavar="PATH", help="write SARIF 2.1.0")
    p.add_argument("--junit", type=formats.output_path, metavar="PATH", help="write JUnit XML")
    p.add_argument(
        "--fail-on",
        type=formats.parse_fail_on,
        default=frozenset(formats.NOT_FINE),
        metavar="VERDICTS",
        help="verdicts that give exit status 1, comma-separated, or none "
        "(default: all but fine and skipped)",
    )
    p.add_argument(
        "-n",
        "--concurrency",
        type=int,
        default=20,
        metavar="N",
        help="requests at once per route (default 20)",
    )
    p.add_argument(
        "--unsafe",
        action="store_true",
        help="also send POST, PUT, PATCH and DELETE requests (never sent without it)",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=5.0,
        metavar="S",
        help="a request alone unanswered after S seconds hangs (default 5)",
    )
    p.add_argument(
        "--openapi",
        default="/openapi.json",
        metavar="PATH",
        help="where the app serves its schema (default /openapi.json)",
    )


def main(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from autograder.scan import report, userfile
    from autograder.scan.run import Options, scan_blocking
    from autograder.scan.target import UsageError, parse_env, parse_target

    if not 1 <= args.concurrency <= 500:
        parser.error("-n/--concurrency must be between 1 and 500")
    if not 0.5 <= args.timeout <= 60:
        parser.error("--timeout must be between 0.5 and 60 seconds")
    if not args.openapi.startswith("/"):
        parser.error("--openapi must be a path starting with /")
    if args.html is not None and not args.html.parent.is_dir():
        parser.error(f"--html: no such folder: {args.html.parent}")
    try:
        target = parse_target(args.target, app_dir=args.app_dir, factory=args.factory)
        env = parse_env(args.env, args.env_file)
        written = userfile.load(args.requests) if args.requests else []
    except UsageError as exc:
        parser.error(str(exc))
    for folder in args.share:
        if not folder.is_dir():
            parser.error(f"--share: no such folder: {folder}")
    python = _interpreter(args.python, target.root, parser)
    options = Options(
        concurrency=args.concurrency,
        unsafe=args.unsafe,
        hang_after=args.timeout,
        openapi_path=args.openapi,
        env=env,
        written=tuple(written),
        python=python,
        shared=tuple(str(d.resolve()) for d in args.share),
        network=args.network,
    )
    result = scan_blocking(target, options)
    if args.html is not None:
        report.write_html(result, args.html)
    if args.sarif is not None:
        # Paths from where CI runs (the repository's top), when the app lies under it.
        under = target.root.is_relative_to(Path.cwd().resolve())
        prefix = str(target.root.relative_to(Path.cwd().resolve())) if under else ""
        sarif = formats.sarif(result, app_file=target.relative(str(target.file)), prefix=prefix)
        args.sarif.write_text(json.dumps(sarif, indent=2) + "\n")
    if args.junit is not None:
        args.junit.write_text(formats.junit(result))
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
    else:
        print(report.table(result))
        if args.html is not None:
            print(f"HTML report: {args.html}", file=sys.stderr)
    return formats.exit_status(result, args.fail_on)


def _interpreter(
    given: Path | None, root: Path, parser: argparse.ArgumentParser
) -> Interpreter | None:
    """The interpreter ``--python`` names, or the project's ``.venv``; None: the scanner's."""
    from autograder.run import interpreter

    path = given or interpreter.project_venv(root, Path.cwd())
    if path is None:
        return None
    try:
        found = interpreter.probe(path)
    except interpreter.Unusable as exc:
        default = "" if given else " (found as the project's .venv; pass --python to choose)"
        parser.error(f"{exc}{default}")
    print(
        f"serving the app with {path} (Python {found.version_text}, uvicorn {found.uvicorn})",
        file=sys.stderr,
    )
    return found
