"""Reference answer, notebook 05: the pure-Python work runs in a process pool, each
worker with its own interpreter and its own GIL, so the loop's thread never competes
for the GIL with it.

The pool is created once, in the lifespan, with the ``forkserver`` start method (the
app's process already runs threads: ``fork`` could copy a held lock into a child),
and warmed there, so no request pays for starting a worker.
"""

import asyncio
import multiprocessing
from collections.abc import AsyncIterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import asynccontextmanager

from fastapi import FastAPI

STEPS = 3_000_000
pool: ProcessPoolExecutor


def compute(seed: int, steps: int = STEPS) -> int:
    total = seed
    for i in range(steps):
        total += i * i
    return total


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    global pool
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(max_workers=2, mp_context=context) as pool:
        loop = asyncio.get_running_loop()
        await asyncio.gather(*(loop.run_in_executor(pool, compute, 0, 1) for _ in range(2)))
        yield


app = FastAPI(lifespan=lifespan)


@app.post("/score/{seed}")
async def score(seed: int) -> dict[str, int]:
    loop = asyncio.get_running_loop()
    return {"seed": seed, "score": await loop.run_in_executor(pool, compute, seed)}


@app.get("/health")
async def health() -> dict[str, bool]:
    return {"ok": True}
