"""durable-jobs: accepted orders' emails must survive a crash (SIGKILL) and a graceful stop (SIGTERM).

``POST /orders`` answers 202 at once; the confirmation email is a job. The grader sends a
batch, SIGKILLs the service while emails are being sent and others wait, starts the same
file again (same ``JOBS_DIR``, same mail server) and waits for every accepted order's
email. Then a second batch, SIGTERM mid-send, a restart: the send in flight must finish
before the exit, and nothing may be sent twice. Every figure comes from outside: the
HTTP answers, the loop probe, the SMTP server's record of what it accepted.
"""

from __future__ import annotations

import signal
import time
import uuid
from collections.abc import Sequence
from typing import Any

from autograder.judges import checks, crash
from autograder.judges.checks import Check
from autograder.judges.crash import RECIPIENT, emails_of
from autograder.judges.exercise import Exercise
from autograder.judges.scenarios import accepted_ids, order_answer_checks
from autograder.measure.load import Request, Response
from autograder.measure.session import Figures, Session
from autograder.run import restart

N = 8  # orders in the crash batch
TERM_ORDERS = 4  # orders in the graceful-stop batch
INTERVAL = 0.03
EACH_LIMIT = 0.1
GRACE = 0.4
LAG_LIMIT = 0.2
FRESH = 0.15  # a send counts as "in flight" for the signal when it reached SMTP this recently
KILL_WAIT = 3.0  # the longest the grader waits for a send in flight before killing anyway
RECOVERY_LIMIT = 4.0  # every owed email delivered within this of the restarted service's ready
CRASH_TRIES = 3  # crashes tried until one lands while an accepted order's email is still owed
STOP_LIMIT = 5.0  # SIGTERM: the service exits within this


async def _batch(s: Session, ids: Sequence[str]) -> list[Response]:
    return await crash.batch(
        s, ids, interval=INTERVAL, give_up_after=len(ids) * INTERVAL + EACH_LIMIT + GRACE
    )


def _crash_figures(c: crash.Crash) -> dict[str, Any]:
    """The last crash's figures, as the check and the feedback read them."""
    a = c.last
    msgs_in = a.recovery.all_in_at
    return {
        "orders_accepted": len(a.accepted),
        "delivered_before_kill": len(a.delivered_before),
        "sending_at_kill": len(a.in_flight),
        "owed_at_kill": len(a.owed),
        "attempts": len(c.attempts),
        "restart_failed": a.recovery.failed,
        "recovered_s": None
        if msgs_in is None or a.recovery.ready_at is None
        else round(msgs_in - a.recovery.ready_at, 2),
    }


async def measure(s: Session) -> Figures:
    tag = uuid.uuid4().hex[:6]
    lags: list[float] = []
    extra: dict[str, Any] = {"orders": N}
    events: list[tuple[float, str]] = []  # (monotonic time, what the grader did or saw)

    window = crash.Window(s)
    await s.send(Request("POST", "/orders", {"order_id": f"warmup-{tag}"}))
    lags += await window.close()

    # Phase 1: a batch, SIGKILL while a send is in flight and others wait, restart. A
    # crash that lands once every accepted order's email is in proves nothing (a busy
    # machine can delay the kill past the last send): it is tried again with a new batch.
    crashed = await crash.crash(
        s,
        orders=N,
        interval=INTERVAL,
        give_up_after=N * INTERVAL + EACH_LIMIT + GRACE,
        kill_wait=KILL_WAIT,
        fresh=FRESH,
        stop_wait=STOP_LIMIT,
        recover_within=RECOVERY_LIMIT,
        tries=CRASH_TRIES,
    )
    responses: list[Response] = []
    for a in crashed.attempts:
        responses += a.responses
        lags += a.lags
        events.append((a.signalled_at, "SIGKILL"))
        r = a.recovery
        events.append((r.ready_at, "serving again") if r.ready_at else (a.killed_at, "restart failed"))
    extra["crash"] = _crash_figures(crashed)
    last = crashed.last
    extra["crash"]["down_s"] = round(
        (last.recovery.all_in_at or time.monotonic()) - last.killed_at, 2
    )
    crashed_ids = [i for a in crashed.attempts for i in a.ids]
    msgs = (await crash.smtp_records(s))["messages"]  # as the crash's wait ended
    extra["crash"]["delivered"] = sum(1 for i in last.accepted if emails_of(msgs, i))

    # Phase 2: a batch, SIGTERM while a send is in flight, restart.
    if last.recovery.failed is None and s.run.app_alive():
        term_ids = [f"term-{tag}-{i}" for i in range(TERM_ORDERS)]
        window = crash.Window(s)
        term = await _batch(s, term_ids)
        term_accepted = accepted_ids(term)
        sending = await crash.wait_mid_send(
            s, term_ids, first_delivered=False, wait_at_most=KILL_WAIT, fresh=FRESH
        )
        lags += await window.close()
        events.append((time.monotonic(), "SIGTERM"))
        code, took = await restart.stop_app(s.run, signal.SIGTERM, wait_at_most=STOP_LIMIT)
        at_exit = (await crash.smtp_records(s))["messages"]
        back = await crash.recover(s, term_accepted, wait_at_most=RECOVERY_LIMIT)
        if back.ready_at is None:
            events.append((time.monotonic(), "restart failed"))
        else:
            events.append((back.ready_at, "serving again"))
        lags += back.lags
        msgs = (await crash.smtp_records(s))["messages"]
        extra["graceful"] = {
            "orders_accepted": len(term_accepted),
            "sending_at_sigterm": len(sending),
            "finished_before_exit": sum(
                1 for subj in sending if any(m["subject"] == subj for m in at_exit)
            ),
            "exited_s": round(took, 2) if code is not None else None,
            "restart_failed": back.failed,
            "delivered": sum(1 for i in term_accepted if emails_of(msgs, i)),
            "sent_twice": sum(1 for i in term_accepted if len(emails_of(msgs, i)) > 1),
            "recovered_s": None
            if back.all_in_at is None or back.ready_at is None
            else round(back.all_in_at - back.ready_at, 2),
        }
        responses += term

    everyone = [*crashed_ids, *(f"term-{tag}-{i}" for i in range(TERM_ORDERS))]
    msgs = (await crash.smtp_records(s))["messages"]  # everything the mail server accepted
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
