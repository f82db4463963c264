"""Valid: an async client for the vendor's API, with a semaphore of 40 shared by every request
(the vendor's limit) rather than a capped connection pool.
"""

import asyncio
import os
import tempfile
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI
from fastapi.responses import FileResponse

UPSTREAM_URL = os.environ["UPSTREAM_URL"]
CATALOGUE = Path(tempfile.gettempdir()) / "catalogue.csv"
CATALOGUE.write_text("".join(f"{i},item-{i}\n" for i in range(5000)))

vendor_slots = asyncio.Semaphore(40)


@asynccontextmanager
async def lifespan(app: FastAPI):
    async with httpx.AsyncClient(base_url=UPSTREAM_URL, timeout=10) as client:
        app.state.vendor = client
        yield


app = FastAPI(lifespan=lifespan)


@app.get("/reports/{report_id}")
async def report(report_id: int):
    async with vendor_slots:
        response = await app.state.vendor.get(f"/sdk/reports/{report_id}")
    response.raise_for_status()
    return response.json()


@app.get("/files/catalogue.csv")
def catalogue():
    return FileResponse(CATALOGUE, media_type="text/csv")


@app.get("/health")
def health():
    return {"ok": True}
