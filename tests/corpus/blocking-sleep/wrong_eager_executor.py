"""Wrong: the executor call is evaluated eagerly.

``simulated_work()`` runs on the loop before ``run_in_executor`` is even called (it is
handed the result, None, which is not callable): the loop blocks and the request fails.
"""
# expect-fail: concurrent, responses, loop-free

import asyncio
import time

from fastapi import FastAPI

app = FastAPI()


def simulated_work() -> None:
    time.sleep(0.3)


@app.get("/report")
async def report():
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, simulated_work())  # type: ignore[func-returns-value]
    return {"status": "ok"}
