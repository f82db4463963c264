"""The crash flow of the order service, shared by the durable-jobs judge and the lab's crash
drill: a batch of orders, a wait for a send in flight, a signal, a restart, a wait for
every accepted order's email.

The service (``POST /orders {"order_id"}`` answers 202; the confirmation email to
``orders@example.com``, the order id in its subject, is a job) runs restartable
(``JOBS_DIR`` survives). Every figure is read outside it: the HTTP answers, the loop
probe, the SMTP server's record of what it accepted and when.

A crash is conclusive only when some accepted order's email was still owed when the
process was seen dead: a kill that lands after the last send proves nothing about the
jobs, so :func:`crash` tries again with a new batch, at most ``tries`` times, and the
caller says when none landed.
"""

from __future__ import annotations

import asyncio
import signal
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from autograder.judges.scenarios import accepted_ids
from autograder.measure import burst
from autograder.measure.load import OpenLoopProbe, Request, Response, probe_latencies
from autograder.measure.session import Session
from autograder.run import restart
from autograder.run.handles import SubmissionFailed

RECIPIENT = "orders@example.com"


def emails_of(messages: Sequence[dict], order_id: str) -> list[dict]:
    """The SMTP server's records of ``order_id``'s confirmations (to ``RECIPIENT``)."""
    return [
        m
        for m in messages
        if order_id in m["subject"] and RECIPIENT in [r.lower() for r in m["rcpt_tos"]]
    ]


async def smtp_records(s: Session) -> dict[str, Any]:
    smtp: dict[str, Any] = (await s.deps_stats())["smtp"]
    return smtp


class Window:
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


async def batch(
    s: Session, ids: Sequence[str], *, interval: float, give_up_after: float
) -> list[Response]:
    """One order per id, ``interval`` apart."""
    return await s.staggered(
        [Request("POST", "/orders", {"order_id": i}) for i in ids],
        interval=interval,
        give_up_after=give_up_after,
    )


async def wait_mid_send(
    s: Session,
    ids: Sequence[str],
    *,
    first_delivered: bool,
    wait_at_most: float,
    fresh: float,
    unless_none_waits: bool = False,
) -> list[str]:
    """Wait until one of ``ids`` is being sent (it reached the mail server less than
    ``fresh`` s ago; after the first was delivered, if asked), at most ``wait_at_most``;
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
        new = [p for p in ours if now - p["arrived"] < fresh]
        delivered = any(emails_of(smtp["messages"], i) for i in ids)
        none_waits = unless_none_waits and all(
            emails_of(smtp["messages"], i) or any(i in p["subject"] for p in ours) for i in ids
        )
        if new and (delivered or not first_delivered or none_waits):
            return [p["subject"] for p in ours]
        if now >= deadline or not s.run.app_alive():
            return [p["subject"] for p in ours]
        await asyncio.sleep(0.01)


@dataclass
class Recovery:
    """A restart and the wait for what was owed (times: ``time.monotonic()``)."""

    ready_at: float | None  # serving again (None: the restart failed)
    failed: str | None  # why the restart failed
    all_in_at: float | None  # every awaited order had its email (None: not within the wait)
    lags: list[float] = field(default_factory=list)  # loop probe latencies from ready on


async def recover(s: Session, awaited: Sequence[str], *, wait_at_most: float) -> Recovery:
    """Start the service again and wait (at most ``wait_at_most`` from its ready) until
    every order of ``awaited`` has its email."""
    try:
        await restart.start_again(s.run)
    except SubmissionFailed as exc:
        return Recovery(None, str(exc), None)
    ready = time.monotonic()
    window = Window(s)

    async def all_there() -> bool:
        msgs = (await smtp_records(s))["messages"]
        return all(emails_of(msgs, i) for i in awaited)

    done = await s.wait_until(all_there, wait_at_most=wait_at_most)
    return Recovery(ready, None, time.monotonic() if done else None, await window.close())


@dataclass
class Attempt:
    """One batch and one signal (times: ``time.monotonic()``, one clock for the machine)."""

    ids: list[str]
    responses: list[Response]
    accepted: list[str]
    in_flight: list[str]  # subjects the mail server was receiving when the signal was sent
    delivered_before: list[str]  # accepted orders whose email was in when the process died
    owed: list[str]  # accepted orders whose email was not: the restarted service owes them
    signalled_at: float
    killed_at: float  # the process was seen dead
    exit_code: int | None  # None: it outlived ``stop_wait`` and was killed
    exit_took: float
    recovery: Recovery
    lags: list[float]  # loop probe latencies, before the signal and after the restart

    @property
    def first_sent(self) -> float:
        return min((r.start for r in self.responses), default=self.signalled_at)


@dataclass
class Crash:
    attempts: list[Attempt]

    @property
    def last(self) -> Attempt:
        return self.attempts[-1]


async def crash(
    s: Session,
    *,
    orders: int,
    interval: float,
    give_up_after: float,
    kill_wait: float,
    fresh: float,
    stop_wait: float,
    recover_within: float,
    signum: int = signal.SIGKILL,
    tries: int = 3,
    prefix: str = "ord",
) -> Crash:
    """Batches of ``orders`` orders until a signal lands while an accepted order's email is
    owed (at most ``tries``); each: wait for a send in flight (one that reached the mail
server less than ``fresh`` s ago; at most ``kill_wait``),
    send ``signum`` (SIGKILL after ``stop_wait`` if still running), start the service
    again and wait up to ``recover_within`` for every accepted order's email. Stops early
    when the restart fails or the service died on its own."""
    tag = uuid.uuid4().hex[:6]
    attempts: list[Attempt] = []
    for n in range(1, tries + 1):
        ids = [f"{prefix}-{tag}-{n}-{i:02d}" for i in range(orders)]  # none a prefix of another
        window = Window(s)
        responses = await batch(s, ids, interval=interval, give_up_after=give_up_after)
        accepted = accepted_ids(responses)
        in_flight = await wait_mid_send(
            s,
            accepted,
            first_delivered=True,
            wait_at_most=kill_wait,
            fresh=fresh,
            unless_none_waits=True,
        )
        lags = await window.close()
        signalled_at = time.monotonic()
        code, took = await restart.stop_app(s.run, signum, wait_at_most=stop_wait)
        killed_at = time.monotonic()
        # Owed: what the mail server had not accepted when the process was seen dead (one
        # clock: CLOCK_MONOTONIC is machine-wide), not when the signal was decided.
        at_death = [m for m in (await smtp_records(s))["messages"] if m["accepted"] <= killed_at]
        owed = [i for i in accepted if not emails_of(at_death, i)]
        recovery = await recover(s, accepted, wait_at_most=recover_within)
        attempts.append(
            Attempt(
                ids=ids,
                responses=responses,
                accepted=accepted,
                in_flight=in_flight,
                delivered_before=[i for i in accepted if i not in owed],
                owed=owed,
                signalled_at=signalled_at,
                killed_at=killed_at,
                exit_code=code,
                exit_took=took,
                recovery=recovery,
                lags=lags + recovery.lags,
            )
        )
        if owed or recovery.failed is not None or not s.run.app_alive():
            break
    return Crash(attempts)
