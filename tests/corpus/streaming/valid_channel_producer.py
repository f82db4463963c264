"""Valid: an async generator built with an anyio memory channel fed by a producer task
(the producer awaits the pages; the response reads the channel)."""

import os

import anyio
import httpx
from fastapi import FastAPI
from fastapi.responses import StreamingResponse

UPSTREAM_URL = os.environ["UPSTREAM_URL"]

app = FastAPI()


async def produce(report: str, send: anyio.abc.ObjectSendStream[str]) -> None:
    async with send, httpx.AsyncClient(base_url=UPSTREAM_URL) as client:
        params: dict[str, str] = {}
        while True:
            page = (await client.get(f"/rows/{report}", params=params)).json()
            await send.send(page["row"] + "\n")
            if page["next"] is None:
                return
            params = {"after": page["next"]}


async def rows(report: str):
    send, receive = anyio.create_memory_object_stream[str](10)
    async with anyio.create_task_group() as tg:
        tg.start_soon(produce, report, send)
        async with receive:
            async for row in receive:
                yield row


@app.get("/export/{report}")
async def export(report: str):
    return StreamingResponse(rows(report), media_type="text/plain")
