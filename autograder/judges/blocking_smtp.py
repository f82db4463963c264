"""blocking-smtp: ``POST /register`` sends a welcome email; the starter uses smtplib in ``async def``."""

from __future__ import annotations

import time
import uuid

from autograder.judges import checks
from autograder.judges.checks import Check
from autograder.judges.exercise import Exercise
from autograder.measure.load import Request
from autograder.measure.session import Figures, Session

N = 20
EACH_LIMIT = 1.0
DELIVERY_LIMIT = 5.0
LAG_LIMIT = 0.2
GRACE = 0.1  # waited past the limit before the verdict counts as settled


def _welcomed(messages: list[dict]) -> set[str]:
    return {
        rcpt.lower()
        for m in messages
        if "welcome" in m["subject"].lower()
        for rcpt in m["rcpt_tos"]
    }


async def measure(s: Session) -> Figures:
    tag = uuid.uuid4().hex[:6]
    emails = [f"student{i}-{tag}@example.com" for i in range(N)]
    s.start_loop_probe()
    await s.send(Request("POST", "/register", {"email": f"warmup-{tag}@example.com"}))
    await s.reset_deps()
    t0 = time.monotonic()
    responses = await s.burst(
        [Request("POST", "/register", {"email": e}) for e in emails],
        give_up_after=EACH_LIMIT + GRACE,
    )
    loop = await s.stop_loop_probe()
    # Only answered registrations are owed an email: the rest already failed the
    # latency check, and waiting for a serial queue to drain would only slow grading.
    owed = {r.request.json_body["email"] for r in responses if r.done and r.status == 201}

    async def all_delivered() -> bool:
        stats = await s.deps_stats()
        return owed <= _welcomed(stats["smtp"]["messages"])

    await s.wait_until(all_delivered, wait_at_most=DELIVERY_LIMIT - (time.monotonic() - t0))
    stats = await s.deps_stats()
    welcomed = _welcomed(stats["smtp"]["messages"])
    return s.figures(
        requests=responses,
        waited=EACH_LIMIT + GRACE,
        loop=loop,
        extra={
            "emails_expected": len(owed),
            "emails_delivered": len(owed & welcomed),
            "smtp_peak_in_flight": stats["smtp"]["peak"],
            "_missing": sorted(owed - welcomed),
        },
    )


def judge(f: Figures) -> list[Check]:
    delivered, expected = f.extra.get("emails_delivered", 0), f.extra.get("emails_expected", 0)
    missing = f.extra.get("_missing", [])
    email_msg = (
        f"{delivered} of {expected} answered registrations got their welcome email within "
        f"{DELIVERY_LIMIT:.0f} s of the burst"
    )
    unanswered = len(f.requests) - expected
    if unanswered:
        email_msg += f" ({unanswered} registrations not answered with 201 in time were not counted)"
    if missing:
        email_msg += f" (none for {missing[0]}" + (
            f" and {len(missing) - 1} more)" if len(missing) > 1 else ")"
        )
    return [
        checks.each_answered_within("fast-answers", f.requests, EACH_LIMIT, what="registrations"),
        checks.bodies_match(
            "responses",
            f.requests,
            lambda r: (201, {"registered": r.request.json_body["email"]}),
            what="registrations",
        ),
        Check("emails-delivered", delivered == expected and expected > 0, email_msg),
        checks.loop_lag_under("loop-free", f.loop_lag, LAG_LIMIT, probes=f.probes),
    ]


EXERCISE = Exercise(
    id="blocking-smtp",
    title="Sign-ups that queue behind the mail server",
    summary="POST /register sends a welcome email over SMTP; 20 sign-ups each answered in under 1 s, all emails sent",
    checks=("fast-answers", "responses", "emails-delivered", "loop-free"),
    measure=measure,
    judge=judge,
)
