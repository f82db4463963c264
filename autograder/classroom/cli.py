"""``python -m autograder classroom``: autograde, export, build."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from autograder.classroom.batch import autograde_class
from autograder.classroom.gradebook import db_url, read_row, submissions, write_csv
from autograder.classroom.notebook import build_sources
from autograder.judges import EXERCISES
from autograder.sandbox import environment


def add_subcommand(sub: Any) -> None:
    """Register ``classroom`` on the main CLI's subparsers."""
    p = sub.add_parser(
        "classroom",
        help="grade a class with nbgrader",
        description="Run an nbgrader class: autograde every submission one at a time, "
        "export the gradebook, rebuild the source notebooks.",
    )
    cmds = p.add_subparsers(dest="classroom_command", required=True, metavar="ACTION")
    a = cmds.add_parser(
        "autograde",
        help="autograde every submission, one at a time, and write grades.csv",
        description="Autograde each submitted/<student>/<assignment>/ in turn with nbgrader, "
        "without running the notebook: the service is taken from the notebook's app cell and "
        "graded by the confined grader (never two timing runs at once); the points go into "
        "nbgrader's gradebook, and a CSV is written from it.",
    )
    a.add_argument(
        "--course",
        type=Path,
        default=Path("exercises"),
        help="the nbgrader course directory (default: exercises)",
    )
    a.add_argument("--assignment", action="append", help="only this assignment (repeatable)")
    a.add_argument("--student", action="append", help="only this student (repeatable)")
    a.add_argument("--force", action="store_true", help="regrade submissions already autograded")
    a.add_argument(
        "--csv", type=Path, help="where to write the gradebook CSV (default: COURSE/grades.csv)"
    )
    a.add_argument(
        "--feedback",
        action="store_true",
        help="then run `nbgrader generate_feedback` for each assignment",
    )
    a.add_argument(
        "--allow-unconfined",
        action="store_true",
        help="grade even where the machine gives no sandbox (each submission could then "
        "read your files and reach the network)",
    )
    a.add_argument(
        "--shard",
        metavar="K/N",
        help="grade only the K-th of N shares (one grading machine of N; see `merge`)",
    )
    m = cmds.add_parser(
        "merge",
        help="bring shards' grades into the course's gradebook",
        description="Copy each SHARD course's graded submissions (scores through nbgrader's "
        "API, autograded/, feedback/, verdicts) into COURSE, then write COURSE's CSV.",
    )
    m.add_argument("--course", type=Path, default=Path("exercises"))
    m.add_argument("shards", metavar="SHARD", type=Path, nargs="+", help="a shard's course folder")
    m.add_argument("--csv", type=Path)
    e = cmds.add_parser("export", help="write the gradebook CSV without grading")
    e.add_argument("--course", type=Path, default=Path("exercises"))
    e.add_argument("--assignment", action="append")
    e.add_argument("--csv", type=Path)
    g = cmds.add_parser(
        "gradescope",
        help="export an exercise as a Gradescope autograder zip",
        description="Write OUT/EXERCISE-gradescope.zip: setup.sh, run_autograder and the "
        "grader, which writes results/results.json with one test per check.",
    )
    g.add_argument("exercise", metavar="EXERCISE", choices=list(EXERCISES))
    g.add_argument("--out", type=Path, default=Path("."), help="folder for the zip")
    b = cmds.add_parser(
        "build", help="regenerate COURSE/source/ from exercises/<id>/starter.py and README.md"
    )
    b.add_argument("--course", type=Path, default=Path("exercises"))


def run(args: argparse.Namespace) -> int:
    if args.classroom_command == "gradescope":
        from autograder.classroom.gradescope import export

        print(export(args.exercise, args.out))
        return 0
    course: Path = args.course
    if args.classroom_command == "build":
        root = Path(__file__).resolve().parents[2]
        for path in build_sources(root, course):
            print(path)
        return 0
    if not (course / "nbgrader_config.py").exists():
        print(f"error: {course} is not an nbgrader course (no nbgrader_config.py)", file=sys.stderr)
        return 2
    if args.classroom_command == "merge":
        from autograder.classroom.shards import merge

        for shard in args.shards:
            if not (shard / "gradebook.db").exists():
                print(f"error: {shard} has no gradebook.db", file=sys.stderr)
                return 2
            print(f"{shard}: {len(merge(course.resolve(), shard.resolve()))} submission(s) merged")
        args.assignment = None
    if args.classroom_command in ("export", "merge"):
        rows = [
            read_row(db_url(course), a, s) for a, s in submissions(course, args.assignment, None)
        ]
        out = args.csv or course / "grades.csv"
        write_csv(out, rows)
        print(f"gradebook: {out} ({len(rows)} rows)")
        return 0
    if args.shard is not None:
        from autograder.classroom.shards import parse

        try:
            parse(args.shard)
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    if not args.allow_unconfined and environment.confinement().bwrap is None:
        print(
            f"error: not grading a class unsandboxed: {environment.confinement().note()}.\n"
            "Pass --allow-unconfined to grade anyway.",
            file=sys.stderr,
        )
        return 1
    rows = autograde_class(
        course,
        assignments=args.assignment,
        students=args.student,
        force=args.force,
        csv_path=args.csv,
        feedback=args.feedback,
        shard=args.shard,
    )
    return 0 if all(r.status == "graded" for r in rows) else 1
