"""The crash drill, for notebooks and drills: orders, a SIGKILL mid-work, a restart, a wait.

:func:`crash_drill` serves an order service (``POST /orders {"order_id"}`` answers 202;
the confirmation email to ``orders@example.com``, the order id in its subject, is a job)
with the grader's restartable runner (``JOBS_DIR`` survives restarts), sends ``orders``
orders ``interval`` apart, waits until the first email was accepted by the course's slow
SMTP server and another is being sent, SIGKILLs the service's whole process group, starts
the same file again and waits until every accepted order has its email, or
``wait_at_most`` after the restart. The flow is the durable-jobs grader's own
(:mod:`autograder.judges.crash`): a signal that lands after every accepted email is in
proves nothing, so a new batch is tried (``CrashDrill.attempts``). Every figure is read
outside the service: the HTTP answers and the SMTP server's record of what it accepted.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from autograder import lab
from autograder.judges import crash, durable_jobs
from autograder.measure.session import Session
from autograder.run import runner

KILL_WAIT = 5.0  # the longest we wait for a send in flight before killing anyway
STOP_WAIT = 5.0  # the longest a signalled service may take to exit (then SIGKILL)
SETTLE = 1.0  # after the last owed email: time for a late duplicate to show


@dataclass
class CrashDrill:
    """What one drill measured (times: ``time.monotonic()``, one clock for the machine)."""

    name: str
    orders: list[str]
    accepted: list[str]
    first_sent: float
    killed_at: float
    ready_at: float | None  # the restarted service served again (None: it never did)
    delivered_before_kill: list[str]
    sending_at_kill: list[str]  # subjects the SMTP server was receiving at the kill
    emails: dict[str, list[dict[str, Any]]]  # order id -> the SMTP server's records
    answered: dict[str, float]  # order id -> when its 202 arrived
    waited: float  # how long after the restart we waited for the owed emails
    signal_name: str = "SIGKILL"
    exited_s: float | None = None  # from the signal to the exit (None: killed after STOP_WAIT)
    attempts: int = 1  # batches sent until the signal landed while an email was owed
    output: str = field(repr=False, default="")

    @property
    def lost(self) -> list[str]:
        return [i for i in self.accepted if not self.emails.get(i)]

    @property
    def twice(self) -> list[str]:
        return [i for i in self.accepted if len(self.emails.get(i, [])) > 1]

    @property
    def recovered_s(self) -> float | None:
        """Seconds from the signal to the last owed email accepted; None if one never came."""
        if self.lost or self.ready_at is None:
            return None
        last = max(m["accepted"] for i in self.accepted for m in self.emails[i])
        return max(0.0, last - self.killed_at)

    def row(self) -> dict[str, Any]:
        rec = self.recovered_s
        return {
            "system": self.name,
            "accepted": len(self.accepted),
            "delivered before the signal": len(self.delivered_before_kill),
            "being sent at the signal": len(self.sending_at_kill),
            "lost": len(self.lost),
            "sent twice": len(self.twice),
            "recovered (s after the signal)": None if rec is None else round(rec, 2),
            "restart took (s)": None
            if self.ready_at is None
            else round(self.ready_at - self.killed_at, 2),
        }

    def __str__(self) -> str:
        r = self.row()
        rec = r["recovered (s after the signal)"]
        return (
            f"{self.name}: {r['accepted']} accepted, {r['delivered before the signal']} delivered and "
            f"{r['being sent at the signal']} being sent at the {self.signal_name}; after the restart: "
            f"{r['lost']} lost, {r['sent twice']} sent twice, "
            + (
                f"all delivered {rec} s after the {self.signal_name}"
                if rec is not None
                else f"not all delivered {self.waited:.0f} s after the restart"
            )
        )


async def _drill(
    name: str,
    app_file: Path,
    *,
    orders: int,
    interval: float,
    env: dict[str, str] | None,
    reachable: tuple[str, ...],
    wait_at_most: float,
    signum: int,
) -> CrashDrill:
    async with runner.running(app_file, env=env, reachable=reachable, restartable=True) as run:
        s = Session(run)
        crashed = await crash.crash(
            s,
            orders=orders,
            interval=interval,
            give_up_after=orders * interval + 2.0,
            kill_wait=KILL_WAIT,
            fresh=durable_jobs.FRESH,
            stop_wait=STOP_WAIT,
            recover_within=wait_at_most,
            signum=signum,
            tries=durable_jobs.CRASH_TRIES,
        )
        a = crashed.last
        if a.recovery.all_in_at is not None:
            await asyncio.sleep(SETTLE)
        msgs = (await crash.smtp_records(s))["messages"]
        sending = list(a.in_flight)
        if a.recovery.failed is not None:
            sending.append(f"(restart failed: {a.recovery.failed})")
        return CrashDrill(
            name=name,
            orders=a.ids,
            accepted=a.accepted,
            first_sent=a.first_sent,
            killed_at=a.signalled_at,
            ready_at=a.recovery.ready_at,
            delivered_before_kill=a.delivered_before,
            sending_at_kill=sending,
            emails={i: crash.emails_of(msgs, i) for i in a.ids},
            answered={r.request.json_body["order_id"]: r.end for r in a.responses if r.end is not None},
            waited=wait_at_most,
            signal_name=signal.Signals(signum).name,
            exited_s=None if a.exit_code is None else round(a.exit_took, 2),
            attempts=len(crashed.attempts),
            output=run.output_tail(),
        )


def crash_drill(
    name: str,
    app_file: str | Path,
    *,
    orders: int = 8,
    interval: float = 0.03,
    env: dict[str, str] | None = None,
    reachable: Sequence[str | Path] = (),
    wait_at_most: float = 15.0,
    signum: int = signal.SIGKILL,
) -> CrashDrill:
    """Run the drill on ``app_file`` (blocking, on the lab's loop); see the module's text."""
    coro = _drill(
        name,
        Path(app_file).resolve(),
        orders=orders,
        interval=interval,
        env=env,
        reachable=tuple(str(p) for p in reachable),
        wait_at_most=wait_at_most,
        signum=signum,
    )
    return lab.run(coro, wait_at_most + 90)


# -- pictures ----------------------------------------------------------------------------

OK_COLOUR, BAD_COLOUR, TWICE_COLOUR, RESTART_COLOUR = "#2a7ab0", "#c0392b", "#e67e22", "#27ae60"


def timeline_figure(drills: Sequence[CrashDrill]) -> Figure:
    """One crash timeline per drill, on one time axis: each order's row runs from its 202
    to its email (a dot when the mail server accepted it; a red cross: never), with the
    signal (red line) and the restarted service's ready (green dashed line)."""
    fig = Figure(figsize=(10, 1.1 + 1.35 * len(drills)), layout="constrained")
    axes = fig.subplots(len(drills), 1, sharex=True, squeeze=False)[:, 0]
    end = max(
        [d.killed_at + (d.recovered_s or 0) - d.first_sent + 0.5 for d in drills]
        + [(d.ready_at or d.killed_at) - d.first_sent + 1.0 for d in drills]
    )
    for ax, d in zip(axes, drills, strict=True):
        for row, order in enumerate(d.accepted):
            start = d.answered.get(order, d.first_sent) - d.first_sent
            mails = sorted(m["accepted"] - d.first_sent for m in d.emails.get(order, []))
            if mails:
                ax.plot([start, mails[-1]], [row, row], color="#bbbbbb", linewidth=1)
                ax.scatter(mails[:1], [row], color=OK_COLOUR, s=18, zorder=3)
                ax.scatter(mails[1:], [row] * len(mails[1:]), color=TWICE_COLOUR, s=30, zorder=3)
            else:
                ax.plot([start, end], [row, row], color=BAD_COLOUR, linewidth=1, linestyle=":")
                ax.scatter([end], [row], color=BAD_COLOUR, marker="x", s=25, zorder=3)
        ax.axvline(d.killed_at - d.first_sent, color=BAD_COLOUR, linewidth=1.5)
        if d.ready_at is not None:
            ax.axvline(
                d.ready_at - d.first_sent, color=RESTART_COLOUR, linewidth=1.2, linestyle="--"
            )
        rec = d.recovered_s
        ax.set_title(
            f"{d.name}: {len(d.lost)} lost, {len(d.twice)} sent twice, "
            + (
                f"all delivered {rec:.1f} s after the {d.signal_name}"
                if rec is not None
                else f"never delivered ({d.waited:.0f} s waited after the restart)"
            ),
            fontsize="medium",
            loc="left",
        )
        ax.set_yticks([])
        ax.set_ylabel("orders", fontsize="small")
        ax.set_xlim(0, end + 0.2)
    axes[-1].set_xlabel(
        "seconds since the first order  (red line: the signal; green dashes: serving again; "
        "dot: email accepted; orange: a second copy; x: never)",
        fontsize="small",
    )
    return fig


def summary_figure(drills: Sequence[CrashDrill]) -> Figure:
    """Jobs lost and sent twice (left), seconds from the signal to the last owed email
    (right; a hatched red bar, "never", when some never came within the wait)."""
    fig = Figure(figsize=(10, 3.2), layout="constrained")
    left, right = fig.subplots(1, 2)
    names = [d.name for d in drills]
    xs = list(range(len(drills)))
    lost, twice = [len(d.lost) for d in drills], [len(d.twice) for d in drills]
    left.bar([x - 0.2 for x in xs], lost, width=0.4, color=BAD_COLOUR, label="lost")
    left.bar([x + 0.2 for x in xs], twice, width=0.4, color=TWICE_COLOUR, label="sent twice")
    for x, n, d in zip(xs, lost, drills, strict=True):
        left.annotate(
            f"{n}/{len(d.accepted)}", (x - 0.2, n), ha="center", va="bottom", fontsize="small"
        )
    left.set_xticks(xs, names, fontsize="small")
    left.set_ylabel("emails")
    left.set_ylim(0, max(len(d.accepted) for d in drills) + 1)
    left.legend(fontsize="small")
    left.set_title("after a crash and a restart")
    top = 0.0
    for x, d in zip(xs, drills, strict=True):
        rec = d.recovered_s
        if rec is None:
            height = d.waited + ((d.ready_at or d.killed_at) - d.killed_at)
            right.bar(x, height, color=BAD_COLOUR, hatch="//", alpha=0.5)
            # inside its own bar, on two lines: side by side, one-line labels run into
            # each other (and into the title above the tallest bar)
            right.annotate(
                f"never\n({d.waited:.0f} s waited)",
                (x, height),
                xytext=(0, -4),
                textcoords="offset points",
                ha="center",
                va="top",
                fontsize="small",
                bbox={"boxstyle": "round", "facecolor": "white", "edgecolor": "none"},
            )
        else:
            height = rec
            right.bar(x, rec, color=OK_COLOUR)
            right.annotate(f"{rec:.1f} s", (x, rec), ha="center", va="bottom", fontsize="small")
        top = max(top, height)
    right.set_ylim(0, top * 1.12 + 0.1)  # room for the labels above the bars
    right.set_xticks(xs, names, fontsize="small")
    right.set_ylabel("seconds after the signal")
    right.set_title("until every accepted order had its email")
    return fig


def table(drills: Sequence[CrashDrill]) -> str:
    """The drills' rows as a Markdown table (a notebook shows it with ``Markdown``)."""
    rows = [d.row() for d in drills]
    heads = list(rows[0])
    lines = ["| " + " | ".join(heads) + " |", "|" + " --- |" * len(heads)]
    for r in rows:
        cells = ["never" if r[h] is None else str(r[h]) for h in heads]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
