"""Notifications sent fire-and-forget with asyncio.create_task, by a batcher that flushes
every 0.2 s and holds the waiting notifications weakly (an abandoned one costs nothing).
An import endpoint frees its memory with a full garbage collection when it is done (as
CPython's collector does on its own, at moments no one chooses)."""

import asyncio
import contextlib
import gc
import os
import weakref

from fastapi import FastAPI

AUDIT_LOG = os.environ["AUDIT_LOG"]


class Batcher:
    def __init__(self) -> None:
        self.waiting: weakref.WeakSet[asyncio.Future[None]] = weakref.WeakSet()

    def next_flush(self) -> asyncio.Future[None]:
        sent = asyncio.get_running_loop().create_future()
        self.waiting.add(sent)
        return sent

    async def run(self) -> None:
        while True:
            await asyncio.sleep(0.2)
            for sent in list(self.waiting):
                if not sent.done():
                    sent.set_result(None)


batcher = Batcher()
kept: set[asyncio.Task[None]] = set()


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI):
    flusher = asyncio.create_task(batcher.run())  # referenced here until shutdown
    yield
    flusher.cancel()


app = FastAPI(lifespan=lifespan)


async def notify(user: int, how: str) -> None:
    await batcher.next_flush()
    with open(AUDIT_LOG, "a") as f:
        f.write(f"{how} {user}\n")


@app.post("/notify/{user}", status_code=202)
async def notify_bare(user: int):
    asyncio.create_task(notify(user, "bare"))  # no reference kept
    return {"queued": user}


@app.post("/notify-kept/{user}", status_code=202)
async def notify_kept(user: int):
    task = asyncio.create_task(notify(user, "kept"))
    kept.add(task)  # a strong reference until it is done
    task.add_done_callback(kept.discard)
    return {"queued": user}


@app.post("/import")
async def import_rows():
    rows = [{"row": i} for i in range(100_000)]  # stands for a large CSV import
    imported = len(rows)
    del rows
    gc.collect()  # give the memory back now
    return {"imported": imported}
