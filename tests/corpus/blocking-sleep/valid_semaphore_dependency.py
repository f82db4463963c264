"""Valid: the wait lives in an async dependency, under an asyncio.Semaphore(100).

The semaphore bounds concurrency far above the 20 requests measured: it never serialises.
"""

import asyncio
from typing import Annotated

from fastapi import Depends, FastAPI

app = FastAPI()
slots = asyncio.Semaphore(100)


async def prepared_data() -> dict[str, str]:
    async with slots:
        await asyncio.sleep(0.3)
    return {"status": "ok"}


@app.get("/report")
async def report(data: Annotated[dict[str, str], Depends(prepared_data)]):
    return data
