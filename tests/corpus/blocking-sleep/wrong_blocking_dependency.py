"""Wrong: the endpoint awaits properly, but its async dependency still calls time.sleep.

Dependencies run on the same loop as the endpoint: an ``async def`` dependency that
blocks freezes every request just as the starter did.
"""
# expect-fail: concurrent, loop-free

import time
from typing import Annotated

from fastapi import Depends, FastAPI

app = FastAPI()


async def prepared_data() -> dict[str, str]:
    time.sleep(0.3)  # noqa: ASYNC251 (the bug: the blocking call, moved out of sight)
    return {"status": "ok"}


@app.get("/report")
async def report(data: Annotated[dict[str, str], Depends(prepared_data)]):
    return data
