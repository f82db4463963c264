"""A durable job table in SQLite (stdlib ``sqlite3``): jobs outlive the process.

The smallest queue that survives a crash: ``enqueue`` commits a row before the app
answers; a worker ``claim``s the oldest unfinished job, runs it, then ``finish``es it.
A job claimed by a worker that died stays ``running`` in the table; with one worker
per table (this module's use), the next start puts such jobs back in the queue.

Delivery is at least once: a worker killed after the work but before ``finish`` runs
the job again after the restart, so jobs should be idempotent. Several workers on one
table would need leases (a claim that expires); a broker-backed queue provides that.
Every call is short blocking I/O: call it from a thread (``asyncio.to_thread``).
"""

import json
import sqlite3
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'queued',  -- queued, running, done, failed
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    created REAL NOT NULL,
    finished REAL
)
"""


@dataclass(frozen=True)
class Job:
    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int


class JobQueue:
    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        with closing(self._db()) as db, db:
            db.execute("PRAGMA journal_mode=WAL")  # readers (the notebook) never block the worker
            db.execute(SCHEMA)

    def _db(self) -> sqlite3.Connection:
        # A connection per call: safe from any thread; ``with`` commits or rolls back.
        return sqlite3.connect(self.path, timeout=5, isolation_level="IMMEDIATE")

    def _run(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with closing(self._db()) as db, db:
            db.row_factory = sqlite3.Row
            return db.execute(sql, params).fetchall()

    def enqueue(self, kind: str, payload: dict[str, Any]) -> int:
        rows = self._run(
            "INSERT INTO jobs (kind, payload, created) VALUES (?, ?, ?) RETURNING id",
            (kind, json.dumps(payload), time.time()),
        )
        return int(rows[0]["id"])

    def requeue_interrupted(self) -> int:
        """At start-up: jobs left ``running`` by a dead worker go back in the queue."""
        return len(
            self._run("UPDATE jobs SET state = 'queued' WHERE state = 'running' RETURNING id")
        )

    def claim(self) -> Job | None:
        rows = self._run(
            "UPDATE jobs SET state = 'running', attempts = attempts + 1 WHERE id = "
            "(SELECT id FROM jobs WHERE state = 'queued' ORDER BY id LIMIT 1) "
            "RETURNING id, kind, payload, attempts"
        )
        if not rows:
            return None
        row = rows[0]
        return Job(row["id"], row["kind"], json.loads(row["payload"]), row["attempts"])

    def finish(self, job_id: int, error: str | None = None) -> None:
        self._run(
            "UPDATE jobs SET state = ?, error = ?, finished = ? WHERE id = ?",
            ("failed" if error else "done", error, time.time(), job_id),
        )

    def jobs(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self._run("SELECT * FROM jobs ORDER BY id")]
