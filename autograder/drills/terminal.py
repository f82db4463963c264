"""The drills in a plain terminal: ``python -m autograder drill ...``.

Answers are read from stdin one line at a time (a test, or a script, can pipe them in);
everything else goes to stdout. Each drill scores 0 to 1: a prediction within its
tolerance of the measurement, a fix that passes every check within the time limit (half
when over the limit), a model answer the learner says they covered.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from autograder.drills import KINDS

if TYPE_CHECKING:  # the drills import the engine: only when a drill is run or listed
    from autograder.drills.catalog import Drill, PredictDrill, Question, SpotFixDrill


class Console:
    """Line-oriented input and output; EOF on input reads as an empty answer (None)."""

    def __init__(self, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> None:
        self.stdin, self.stdout = stdin, stdout

    def say(self, text: str = "") -> None:
        self.stdout.write(text + "\n")
        self.stdout.flush()

    def ask(self, prompt: str) -> str | None:
        self.stdout.write(prompt)
        self.stdout.flush()
        line = self.stdin.readline()
        if not line:
            self.say()
            return None
        return line.rstrip("\n")


def _clock(seconds: float) -> str:
    s = max(int(seconds), 0)
    return f"{s // 60}:{s % 60:02d}"


def _header(c: Console, drill: Drill) -> None:
    c.say(f"== {drill.id}: {drill.title} ==")


def run_predict(c: Console, drill: PredictDrill, *, reference: bool, png_dir: Path | None) -> float:
    _header(c, drill)
    c.say(f"snippet ({drill.path.name}):")
    c.say("\n".join("    " + line for line in drill.source().rstrip().splitlines()))
    c.say(drill.prompt())
    predicted = None
    if reference:
        predicted = drill.reference()
        c.say(f"> {drill.reference_text()} (the reference answer)")
    else:
        for _ in range(3):
            text = c.ask("> ")
            if text is None:
                break
            try:
                predicted = drill.parse(text)
                break
            except ValueError as exc:
                c.say(f"  {exc}")
    if predicted is None:
        c.say("no prediction: skipped (score 0)")
        return 0.0
    c.say("serving the snippet and sending the load...")
    measured = drill.run()
    result = drill.score(predicted, measured)
    c.say(result.message)
    for key, value in measured.notes.items():
        c.say(f"  {key}: {value}")
    if measured.burst is not None:
        from autograder.drills.show import figure, text_timeline  # matplotlib: only when drawing

        c.say("timeline (one row per request, sorted by finish):")
        c.say(text_timeline(measured.burst))
        if png_dir is not None:
            png_dir.mkdir(parents=True, exist_ok=True)
            path = png_dir / f"{drill.id}.png"
            figure(measured.burst, drill.title).savefig(path, dpi=110)
            c.say(f"picture: {path}")
    c.say(f"why: {drill.explanation}")
    c.say(f"score: {int(result.passed)}/1")
    return float(result.passed)


def run_fix(c: Console, drill: SpotFixDrill, *, workdir: Path, reference: bool) -> float:
    _header(c, drill)
    c.say(f"symptom: {drill.prompt()}")
    workdir.mkdir(parents=True, exist_ok=True)
    copy = workdir / f"{drill.id.replace('-', '_')}.py"
    shutil.copyfile(drill.starter, copy)
    c.say(f"the service: {copy} (a copy of the starter: fix it there, or anywhere)")
    c.say("\n".join("    " + line for line in drill.starter.read_text().rstrip().splitlines()))
    started = time.monotonic()
    deadline = time.strftime("%H:%M:%S", time.localtime(time.time() + drill.time_limit))
    c.say(f"clock: {_clock(drill.time_limit)} from now (until {deadline})")
    if reference:
        answer: str | None = str(drill.reference)
        c.say(f"> {answer} (the reference fix)")
    else:
        answer = c.ask(f"[{_clock(drill.time_limit)} left] path of your fix (empty: {copy.name}): ")
    if answer is None:
        c.say("no fix given: skipped (score 0)")
        return 0.0
    path = Path(answer.strip()) if answer.strip() else copy
    used = time.monotonic() - started
    c.say(f"time used: {_clock(used)} of {_clock(drill.time_limit)}")
    if not path.is_file():
        c.say(f"no such file: {path} (score 0)")
        return 0.0
    c.say("grading (the course's grader: a real server, real load)...")
    verdict = drill.grade(path)
    c.say(verdict.render())
    late = used > drill.time_limit
    points = (0.5 if late else 1.0) if verdict.passed else 0.0
    if verdict.passed and late:
        c.say("passed, but over the time limit: half a point")
    c.say(f"reference fix: {drill.reference}")
    c.say(f"score: {points:g}/1")
    return points


def run_question(c: Console, drill: Question, *, reference: bool) -> float:
    _header(c, drill)
    c.say(f"Q: {drill.question}")
    if reference:
        c.say("> (the reference: the model answer)")
    else:
        c.say("your answer (end with an empty line):")
        while c.ask("> ") not in (None, ""):
            pass
    c.say(f"model answer: {drill.model_answer()}")
    c.say("key points: " + "; ".join(drill.key_points))
    if reference:
        covered: str | None = "y"
    else:
        covered = c.ask("did your answer make these points? [y/N] ")
    points = 1.0 if (covered or "").strip().lower() in {"y", "yes"} else 0.0
    c.say(f"score: {points:g}/1")
    return points


def run(c: Console, drill: Drill, args: argparse.Namespace) -> float:
    from autograder.drills.catalog import PredictDrill, SpotFixDrill

    if isinstance(drill, PredictDrill):
        return run_predict(c, drill, reference=args.reference, png_dir=args.png)
    if isinstance(drill, SpotFixDrill):
        return run_fix(c, drill, workdir=args.workdir, reference=args.reference)
    return run_question(c, drill, reference=args.reference)


# -- argparse -------------------------------------------------------------------------------


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``drill`` subcommand to the autograder's command line."""
    p = sub.add_parser(
        "drill",
        help="interview drills: predict-then-measure, spot-and-fix, questions",
        description="Timed, self-checking interview drills on the grader's engine. Answers are "
        "read from stdin, one line each. Exit 0 when every drill scored full marks, 1 otherwise.",
    )
    p.add_argument("id", nargs="?", metavar="ID", help="the drill to run (see --list)")
    p.add_argument("--list", action="store_true", help="list the drills, one a line")
    p.add_argument("--random", type=int, metavar="N", help="a session of N drills at random")
    p.add_argument("--seed", type=int, default=None, help="the random session's seed")
    p.add_argument("--kind", choices=KINDS, help="only drills of this kind (--list, --random)")
    p.add_argument(
        "--reference", action="store_true", help="answer with the reference (a demonstration)"
    )
    p.add_argument("--png", type=Path, metavar="DIR", help="save each timeline picture in DIR")
    p.add_argument(
        "--workdir",
        type=Path,
        default=Path("drill-work"),
        help="where spot-and-fix starters are copied (default: ./drill-work)",
    )
    p.set_defaults(drill_parser=p)
    return p


def main(args: argparse.Namespace) -> int:
    """Run ``drill`` with the arguments :func:`add_parser` parsed."""
    from autograder.drills.catalog import DRILLS, pick

    parser: argparse.ArgumentParser = args.drill_parser
    c = Console()
    if args.list:
        width = max(map(len, DRILLS))
        for d in DRILLS.values():
            if args.kind is None or d.kind == args.kind:
                c.say(f"{d.id:<{width}}  {d.kind:<8}  {d.title}")
        return 0
    if args.random is not None:
        if args.id or args.random < 1:
            parser.error("--random takes N >= 1 and no ID")
        chosen = pick(args.random, seed=args.seed, kind=args.kind)
    elif args.id:
        if args.id not in DRILLS:
            parser.error(f"unknown drill {args.id!r} (see --list)")
        chosen = [DRILLS[args.id]]
    else:
        parser.error("give a drill ID, --list or --random N")
    total = 0.0
    for i, drill in enumerate(chosen):
        if len(chosen) > 1:
            c.say(f"\n[{i + 1}/{len(chosen)}]")
        total += run(c, drill, args)
    if len(chosen) > 1:
        c.say(f"\nsession score: {total:g}/{len(chosen)}")
    return 0 if total == len(chosen) else 1
