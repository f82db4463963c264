"""background-tasks: ``POST /orders`` must answer at once, then audit and email, and survive SMTP failure."""

from __future__ import annotations

import logging
import time
import uuid

from autograder.judges import checks
from autograder.judges.checks import Check
from autograder.judges.exercise import Exercise
from autograder.judges.scenarios import accepted_ids, order_answer_checks, staggered_under_probe
from autograder.measure.load import Request
from autograder.measure.session import Figures, Session

N = 10
INTERVAL = 0.03
EACH_LIMIT = 0.1
DELIVERY_LIMIT = 5.0
FAILURE_WAIT = 3.0
ORDER_WAIT = 5.0  # the longest each order of the mail-failure phase is waited for
GRACE = 0.4
RECIPIENT = "orders@example.com"


def _order_emails(messages: list[dict], order_id: str) -> list[dict]:
    return [
        m
        for m in messages
        if order_id in m["subject"] and RECIPIENT in [r.lower() for r in m["rcpt_tos"]]
    ]


async def measure(s: Session) -> Figures:
    tag = uuid.uuid4().hex[:6]
    ids = [f"ord-{tag}-{i}" for i in range(N)]
    responses = await staggered_under_probe(
        s,
        Request("POST", "/orders", {"order_id": f"warmup-{tag}"}),
        [Request("POST", "/orders", {"order_id": i}) for i in ids],
        interval=INTERVAL,
        give_up_after=N * INTERVAL + EACH_LIMIT + GRACE,
    )
    t_sent = responses[0].start
    # Only accepted orders are owed an audit line and an email; orders still unanswered
    # already failed the latency check (waiting for a serial queue would only slow grading).
    accepted = accepted_ids(responses)

    async def all_done() -> bool:
        audit = set(s.audit_lines())
        msgs = (await s.deps_stats())["smtp"]["messages"]
        return all(f"accepted {i}" in audit and _order_emails(msgs, i) for i in accepted)

    await s.wait_until(all_done, wait_at_most=DELIVERY_LIMIT - (time.monotonic() - t_sent))
    audit = set(s.audit_lines())
    messages = (await s.deps_stats())["smtp"]["messages"]
    delivered = [i for i in accepted if _order_emails(messages, i)]
    audit_first = [
        i
        for i in delivered
        if all(f"accepted {i}" in m["audit_lines_at_arrival"] for m in _order_emails(messages, i))
    ]

    extra = {
        "orders": N,
        "orders_accepted": len(accepted),
        "audit_lines_found": sum(1 for i in accepted if f"accepted {i}" in audit),
        "emails_delivered": len(delivered),
        "audit_before_email": len(audit_first),
    }
    if len(accepted) < N:  # still working through a queue: the failure phase would wait on it
        loop = await s.stop_loop_probe()
        return s.figures(
            requests=responses, waited=N * INTERVAL + EACH_LIMIT + GRACE, loop=loop, extra=extra
        )

    # The mail server goes away: the order must still be accepted, audited and the
    # failure logged at ERROR with its id; the service must keep answering.
    await s.refuse_smtp()
    failing, after = f"fail-{tag}", f"after-{tag}"
    fail_response = await s.send(
        Request("POST", "/orders", {"order_id": failing}), wait_at_most=ORDER_WAIT
    )

    def error_logged() -> bool:
        return any(failing in r["message"] for r in s.log_records(logging.ERROR))

    async def failure_handled() -> bool:
        return error_logged() and f"accepted {failing}" in s.audit_lines()

    await s.wait_until(failure_handled, wait_at_most=FAILURE_WAIT)
    after_response = await s.send(
        Request("POST", "/orders", {"order_id": after}), wait_at_most=ORDER_WAIT
    )
    loop = await s.stop_loop_probe()
    return s.figures(
        requests=responses,
        waited=N * INTERVAL + EACH_LIMIT + GRACE,
        loop=loop,
        extra={
            **extra,
            "smtp_down": {
                "status": fail_response.status,
                "error_logged": error_logged(),
                "audit_written": f"accepted {failing}" in s.audit_lines(),
                "next_order_status": after_response.status,
                "next_order_ok": after_response.status == 202
                and after_response.json() == {"accepted": after},
            },
        },
    )


def judge(f: Figures) -> list[Check]:
    x = f.extra
    n = x.get("orders_accepted", 0)
    down = x.get("smtp_down")
    emails_ok = n > 0 and x.get("emails_delivered", 0) == n
    order_ok = x.get("audit_before_email", 0) == n
    if not emails_ok:
        email_check = Check(
            "audit-and-email",
            False,
            f"{x.get('emails_delivered', 0)} of {n} confirmation emails to {RECIPIENT} with the "
            f"order id in the subject arrived within {DELIVERY_LIMIT:.0f} s",
        )
    elif not order_ok:
        email_check = Check(
            "audit-and-email",
            False,
            f"all {n} emails arrived, but for {n - x.get('audit_before_email', 0)} of them the audit "
            "line was not yet in AUDIT_LOG when the email reached the mail server "
            "(write the audit line first)",
        )
    else:
        email_check = Check(
            "audit-and-email",
            True,
            f"all {n} confirmation emails arrived, each after its audit line was written",
        )
    if down is None:
        failure_check = checks.not_measured(
            "smtp-failure",
            "not every order was answered in time, so the mail-failure phase was skipped",
        )
    else:
        failure_check = _failure_check(down)
    skipped = x.get("orders", N) - n
    if skipped and email_check.passed:
        email_check = Check(
            email_check.name,
            True,
            email_check.message + f" ({skipped} unanswered orders not counted)",
        )
    return [
        *order_answer_checks(f, each_limit=EACH_LIMIT, interval=INTERVAL),
        checks.at_least(
            "audit-log",
            x.get("audit_lines_found", 0),
            max(n, 1),
            message="AUDIT_LOG holds the line 'accepted <order_id>' for {value:.0f} of {minimum:.0f} accepted orders",
        ),
        email_check,
        failure_check,
    ]


def _failure_check(down: dict) -> Check:
    problems = []
    if not down.get("error_logged"):
        problems.append("no ERROR log record carried the order id")
    if not down.get("audit_written"):
        problems.append("the audit line was not written")
    if not down.get("next_order_ok"):
        problems.append(
            f"the next order was answered {down.get('next_order_status')} instead of 202"
        )
    return Check(
        "smtp-failure",
        not problems,
        "with the mail server refusing connections: "
        + (
            "; ".join(problems)
            if problems
            else "the failure was logged at ERROR with the order id, "
            "the audit line was written, and the service kept answering"
        ),
    )


EXERCISE = Exercise(
    id="background-tasks",
    title="Orders that wait for the mail server",
    summary="POST /orders must answer in under 100 ms, then audit and email after the response, and survive SMTP failure",
    checks=("fast-answers", "responses", "audit-log", "audit-and-email", "smtp-failure"),
    measure=measure,
    judge=judge,
)
