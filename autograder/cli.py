"""Command line: ``python -m autograder list | grade EXERCISE FILE [--json] | scan TARGET``."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from autograder import classroom
from autograder.drills import terminal as drill_terminal
from autograder.judges import EXERCISES
from autograder.scan import command as scan_command


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m autograder",
        description="Grade FastAPI concurrency exercises by measuring them: a real uvicorn, "
        "real dependency servers, real concurrent load.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("list", help="list the exercises", description="List the graded exercises.")
    g = sub.add_parser(
        "grade",
        help="grade a submission",
        description="Serve FILE with uvicorn, send real concurrent load, and judge it against "
        "EXERCISE's checks. Exit 0 if every check passed, 1 if any failed, 2 on a usage error.",
    )
    g.add_argument("exercise", metavar="EXERCISE", help="exercise id (see `list`)")
    g.add_argument(
        "file", metavar="FILE", type=Path, help="the submission: a .py file defining `app`"
    )
    g.add_argument("--json", action="store_true", help="print the verdict as one JSON object")
    drill_terminal.add_parser(sub)
    classroom.add_subcommand(sub)
    scan_command.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    if args.command == "drill":
        return drill_terminal.main(args)
    if args.command == "list":
        width = max(map(len, EXERCISES))
        for ex in EXERCISES.values():
            print(f"{ex.id:<{width}}  {ex.summary}")
        return 0
    if args.command == "classroom":
        return classroom.run(args)
    if args.command == "scan":
        return scan_command.main(args, parser)

    if args.exercise not in EXERCISES:
        parser.error(f"unknown exercise {args.exercise!r} (choose from {', '.join(EXERCISES)})")
    if not args.file.exists():
        parser.error(f"no such file: {args.file}")
    if not args.file.is_file():
        parser.error(f"not a file: {args.file}")

    from autograder.grade import grade

    verdict = grade(args.exercise, args.file)
    if args.json:
        print(json.dumps(verdict.to_dict(), indent=2))
    else:
        print(verdict.render())
    return 0 if verdict.passed else 1
