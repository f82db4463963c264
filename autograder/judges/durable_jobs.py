"""durable-jobs: accepted orders' emails must survive a crash (SIGKILL) and a graceful stop (SIGTERM).

``POST /orders`` answers 202 at once; the confirmation email is a job. The grader sends a
batch, SIGKILLs the service while emails are being sent and others wait, starts the same
file again (same ``JOBS_DIR``, same mail server) and waits for every accepted order's
email. Then a second batch, SIGTERM mid-send, a restart: the send in flight must finish
before the exit, and nothing may be sent twice. Every figure comes from outside: the
HTTP answers, the loop probe, the SMTP server's record of what it accepted.
"""

from __future__ import annotations

import asyncio
import signal
import time
import uuid
from collections.abc import Sequence
from typing import Any

from autograder import burst, checks, restart
from autograder.checks import Check
from autograder.handles import SubmissionFailed
from autograder.judges.exercise import Exercise
from autograder.judges.scenarios import accepted_ids, order_answer_checks
from autograder.load import OpenLoopProbe, Request, Response, probe_latencies
from autograder.session import Figures, Session

N = 8  # orders in the crash batch
TERM_ORDERS = 4  # orders in the graceful-stop batch
INTERVAL = 0.03
EACH_LIMIT = 0.1
GRACE = 0.4
LAG_LIMIT = 0.2
FRESH = 0.15  # a send counts as "in flight" for the kill when it reached SMTP this recently
KILL_WAIT = 3.0  # the longest the grader waits for a send in flight before killing anyway
RECOVERY_LIMIT = 4.0  # every owed email delivered within this of the restarted service's ready
CRASH_TRIES = 3  # crashes tried until one lands while an accepted order's email is still owed
STOP_LIMIT = 5.0  # SIGTERM: the service exits within this
RECIPIENT = "orders@example.com"


def emails_of(messages: Sequence[dict], order_id: str) -> list[dict]:
    """The SMTP server's records of ``order_id``'s confirmations (to ``RECIPIENT``)."""
    return [
        m
        for m in messages
        if order_id in m["subject"] and RECIPIENT in [r.lower() for r in m["rcpt_tos"]]
    ]


class _Window:
    """The loop probe over one stretch of a phase (never across a restart: requests to a
    dead service wait in the listening socket's backlog, which is no loop's fault)."""

    def __init__(self, s: Session) -> None:
        self.probe: OpenLoopProbe = s.probe(burst.LOOP)
        self.since = time.monotonic()
        self.probe.start()

    async def close(self) -> list[float]:
        until = time.monotonic()
        probes = await self.probe.stop()
        return probe_latencies(probes, since=self.since, until=until, cut_off=self.probe.stopped_at)


async def smtp_records(s: Session) -> dict[str, Any]:
    smtp: dict[str, Any] = (await s.deps_stats())["smtp"]
    return smtp


async def _batch(s: Session, ids: Sequence[str]) -> list[Response]:
    return await s.staggered(
        [Request("POST", "/orders", {"order_id": i}) for i in ids],
        interval=INTERVAL,
        give_up_after=len(ids) * INTERVAL + EACH_LIMIT + GRACE,
    )


async def wait_mid_send(
    s: Session,
    ids: Sequence[str],
    *,
    first_delivered: bool,
    wait_at_most: float = KILL_WAIT,
    unless_none_waits: bool = False,
) -> list[str]:
    """Wait until one of ``ids`` is being sent (it reached the mail server less than
    ``FRESH`` ago; after the first was delivered, if asked), at most ``wait_at_most``;
    the subjects in flight then. With ``unless_none_waits``, a fresh send is enough once
    none of ``ids`` is left waiting (each delivered or in flight): waiting for the first
    delivery then only lets the chance to crash mid-send pass (senders that send all at
    once leave a window of a few tens of ms between the first delivery and the last fresh
    send, which a busy machine misses)."""
    deadline = time.monotonic() + wait_at_most
    while True:
        smtp = await smtp_records(s)
        now = time.monotonic()
        ours = [p for p in smtp["in_flight"] if any(i in p["subject"] for i in ids)]
        fresh = [p for p in ours if now - p["arrived"] < FRESH]
        delivered = any(emails_of(smtp["messages"], i) for i in ids)
        none_waits = unless_none_waits and all(
            emails_of(smtp["messages"], i) or any(i in p["subject"] for p in ours) for i in ids
        )
        if fresh and (delivered or not first_delivered or none_waits):
            return [p["subject"] for p in ours]
        if now >= deadline or not s.run.app_alive():
            return [p["subject"] for p in ours]
        await asyncio.sleep(0.01)


async def _recover(
    s: Session, owed: Sequence[str], events: list[tuple[float, str]]
) -> tuple[float | None, str | None, list[float]]:
    """Start the service again and wait for every owed email: (seconds from ready to the
    last one, or None if some never came; why the restart failed; the loop probe's
    latencies from ready on). When it served again goes into ``events``."""
    try:
        await restart.start_again(s.run)
    except SubmissionFailed as exc:
        events.append((time.monotonic(), "restart failed"))
        return None, str(exc), []
    ready = time.monotonic()
    events.append((ready, "serving again"))
    window = _Window(s)

    async def all_there() -> bool:
        msgs = (await smtp_records(s))["messages"]
        return all(emails_of(msgs, i) for i in owed)

    done = await s.wait_until(all_there, wait_at_most=RECOVERY_LIMIT)
    took = time.monotonic() - ready
    return (took if done else None), None, await window.close()


async def _crash_once(
    s: Session,
    ids: Sequence[str],
    window: _Window,
    events: list[tuple[float, str]],
    extra: dict[str, Any],
    lags: list[float],
) -> tuple[list[Response], list[str], str | None]:
    """One batch, SIGKILL mid-send, restart, wait for the owed emails: (the batch's
    answers; the accepted orders whose email had not been accepted when the process was
    seen dead, so owed by the restarted one; why the restart failed)."""
    crash = await _batch(s, ids)
    accepted = accepted_ids(crash)
    in_flight = await wait_mid_send(s, accepted, first_delivered=True, unless_none_waits=True)
    lags += await window.close()
    events.append((time.monotonic(), "SIGKILL"))
    await restart.stop_app(s.run, signal.SIGKILL, wait_at_most=STOP_LIMIT)
    killed_at = time.monotonic()
    # Owed: what the mail server had not accepted when the process was seen dead (one
    # clock: CLOCK_MONOTONIC is machine-wide), not when the kill was decided.
    at_death = [m for m in (await smtp_records(s))["messages"] if m["accepted"] <= killed_at]
    owed = [i for i in accepted if not emails_of(at_death, i)]
    extra["crash"] = {
        "orders_accepted": len(accepted),
        "delivered_before_kill": len(accepted) - len(owed),
        "sending_at_kill": len(in_flight),
        "owed_at_kill": len(owed),
    }
    recovered, failed, lat = await _recover(s, accepted, events)
    lags += lat
    msgs = (await smtp_records(s))["messages"]
    extra["crash"].update(
        {
            "restart_failed": failed,
            "delivered": sum(1 for i in accepted if emails_of(msgs, i)),
            "recovered_s": None if recovered is None else round(recovered, 2),
            "down_s": round(time.monotonic() - killed_at, 2),
        }
    )
    return crash, owed, failed


async def measure(s: Session) -> Figures:
    tag = uuid.uuid4().hex[:6]
    ids = [f"ord-{tag}-{i}" for i in range(N)]
    lags: list[float] = []
    extra: dict[str, Any] = {"orders": N}
    events: list[tuple[float, str]] = []  # (monotonic time, what the grader did or saw)

    # Phase 1: a batch, SIGKILL while a send is in flight and others wait, restart. A
    # crash that lands once every accepted order's email is in proves nothing (a busy
    # machine can delay the kill past the last send): it is tried again with a new batch.
    window = _Window(s)
    await s.send(Request("POST", "/orders", {"order_id": f"warmup-{tag}"}))
    responses: list[Response] = []
    crashed_ids: list[str] = []
    failed: str | None = None
    for attempt in range(1, CRASH_TRIES + 1):
        if attempt > 1:
            window = _Window(s)
            ids = [f"ord-{tag}-a{attempt}-{i}" for i in range(N)]  # no id a prefix of another
        crash, owed, failed = await _crash_once(s, ids, window, events, extra, lags)
        crashed_ids += ids
        extra["crash"]["attempts"] = attempt
        responses += crash
        if owed or failed is not None or not s.run.app_alive():
            break

    # Phase 2: a batch, SIGTERM while a send is in flight, restart.
    if failed is None and s.run.app_alive():
        term_ids = [f"term-{tag}-{i}" for i in range(TERM_ORDERS)]
        window = _Window(s)
        term = await _batch(s, term_ids)
        term_accepted = accepted_ids(term)
        sending = await wait_mid_send(s, term_ids, first_delivered=False)
        lags += await window.close()
        events.append((time.monotonic(), "SIGTERM"))
        code, took = await restart.stop_app(s.run, signal.SIGTERM, wait_at_most=STOP_LIMIT)
        at_exit = (await smtp_records(s))["messages"]
        recovered2, failed2, lat = await _recover(s, term_accepted, events)
        lags += lat
        msgs = (await smtp_records(s))["messages"]
        extra["graceful"] = {
            "orders_accepted": len(term_accepted),
            "sending_at_sigterm": len(sending),
            "finished_before_exit": sum(
                1 for subj in sending if any(m["subject"] == subj for m in at_exit)
            ),
            "exited_s": round(took, 2) if code is not None else None,
            "restart_failed": failed2,
            "delivered": sum(1 for i in term_accepted if emails_of(msgs, i)),
            "sent_twice": sum(1 for i in term_accepted if len(emails_of(msgs, i)) > 1),
            "recovered_s": None if recovered2 is None else round(recovered2, 2),
        }
        responses += term

    everyone = [*crashed_ids, *(f"term-{tag}-{i}" for i in range(TERM_ORDERS))]
    msgs = (await smtp_records(s))["messages"]  # everything the mail server accepted
    keys = {i: [m["message_id"] for m in emails_of(msgs, i)] for i in everyone}
    extra["emails"] = {
        "with_key": sum(1 for i in everyone for k in keys[i] if i in k),
        "total": sum(len(k) for k in keys.values()),
        "duplicated_orders": sum(1 for k in keys.values() if len(k) > 1),
        "duplicates_with_one_key": sum(1 for k in keys.values() if len(k) > 1 and len(set(k)) == 1),
    }
    # The crash's timeline, in ms since the first order (the request bars' origin).
    t0 = min((r.start for r in responses), default=time.monotonic())
    extra["events"] = [{"at_ms": round((t - t0) * 1000), "what": what} for t, what in events]
    extra["emails_ms"] = sorted(
        round((m["accepted"] - t0) * 1000) for i in everyone for m in emails_of(msgs, i)
    )
    return s.figures(
        requests=responses,
        waited=N * INTERVAL + EACH_LIMIT + GRACE,
        loop=(max(lags) if lags else None, len(lags)),
        extra=extra,
    )


def _crash_check(c: dict) -> Check:
    n = c.get("orders_accepted", 0)
    if c.get("restart_failed"):
        return Check(
            "survives-crash",
            False,
            f"after the SIGKILL, the service did not start again: {c['restart_failed']}",
        )
    got = c.get("delivered", 0)
    kill = (
        f"killed with {c.get('delivered_before_kill', 0)} of {n} emails delivered and "
        f"{c.get('sending_at_kill', 0)} being sent"
    )
    if n and got == n and not c.get("owed_at_kill"):
        # Every email was in before the process died: the crash tested nothing.
        return checks.not_measured(
            "survives-crash",
            f"in {c.get('attempts', 1)} crashes the kill landed only after every accepted "
            f"order's email had reached the mail server ({kill} in the last), so no job was "
            "owed across a restart; grade again on a quieter machine",
        )
    if n == 0 or got < n:
        never_sent = got == 0 and not c.get("delivered_before_kill") and not c.get("sending_at_kill")
        why = (
            "no email reached the mail server at all, before the kill or after the restart: "
            "is a worker sending the jobs?"
            if never_sent
            else f"{n - got} jobs were lost with the process"
        )
        return Check(
            "survives-crash",
            False,
            f"{kill}; {got} of {n} accepted orders had their email (to {RECIPIENT}, id in the "
            f"subject) within {RECOVERY_LIMIT:.0f} s of the restart: {why}",
        )
    return Check(
        "survives-crash",
        True,
        f"{kill}; every one of the {n} accepted orders had its email "
        f"{c.get('recovered_s')} s after the restart",
    )


def _graceful_check(g: dict | None) -> Check:
    if g is None:
        return checks.not_measured(
            "graceful-stop", "the service did not come back after the SIGKILL"
        )
    if g.get("restart_failed"):
        return Check(
            "graceful-stop",
            False,
            f"after the SIGTERM, the service did not start again: {g['restart_failed']}",
        )
    problems = []
    if g.get("exited_s") is None:
        problems.append(f"it had not exited {STOP_LIMIT:.0f} s after SIGTERM")
    started, finished = g.get("sending_at_sigterm", 0), g.get("finished_before_exit", 0)
    if finished < started:
        problems.append(
            f"{started - finished} of the {started} emails being sent at SIGTERM were abandoned "
            "(finish the job in hand before exiting)"
        )
    n, got = g.get("orders_accepted", 0), g.get("delivered", 0)
    if n == 0 or got < n:
        problems.append(f"{got} of {n} accepted orders had their email after the restart")
    if g.get("sent_twice"):
        problems.append(f"{g['sent_twice']} orders were emailed twice (a finished job ran again)")
    return Check(
        "graceful-stop",
        not problems,
        "SIGTERM while sending: "
        + (
            "; ".join(problems)
            if problems
            else f"exited in {g.get('exited_s')} s after finishing the {started} sends in hand; "
            f"all {n} orders emailed once"
        ),
    )


def _key_check(e: dict) -> Check:
    total, keyed = e.get("total", 0), e.get("with_key", 0)
    dup, same = e.get("duplicated_orders", 0), e.get("duplicates_with_one_key", 0)
    dups = f"{dup} orders were emailed more than once" if dup else "no order was emailed twice"
    if total == 0:
        return checks.not_measured("idempotency-key", "no confirmation email arrived")
    ok = keyed == total and same == dup
    return Check(
        "idempotency-key",
        ok,
        f"{keyed} of {total} confirmations carried a Message-ID holding the order id"
        + ("" if ok else " (a resent job must carry the same key, so the receiver drops copies)")
        + f"; {dups}"
        + (f", {same} of them with one key" if dup else ""),
    )


def judge(f: Figures) -> list[Check]:
    x = f.extra
    return [
        *order_answer_checks(f, each_limit=EACH_LIMIT, interval=INTERVAL),
        checks.loop_lag_under("loop-free", f.loop_lag, LAG_LIMIT, probes=f.probes),
        _crash_check(x.get("crash", {})),
        _graceful_check(x.get("graceful")),
        _key_check(x.get("emails", {})),
    ]


EXERCISE = Exercise(
    id="durable-jobs",
    title="Orders whose emails survive a crash",
    summary="POST /orders answers at once; each confirmation email is a job that survives "
    "SIGKILL and SIGTERM (state in JOBS_DIR), sent at least once, with an idempotency key",
    checks=(
        "fast-answers",
        "responses",
        "loop-free",
        "survives-crash",
        "graceful-stop",
        "idempotency-key",
    ),
    measure=measure,
    judge=judge,
    restartable=True,
)
