"""Valid: the dedicated limiter lives in app.state (made in the lifespan) and the SDK call
runs in anyio.to_thread.run_sync from a dependency: the endpoint stays a thin async def.
"""

import os
import tempfile
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated

import anyio
import anyio.to_thread
import httpx
from fastapi import Depends, FastAPI, Request
from fastapi.responses import FileResponse

UPSTREAM_URL = os.environ["UPSTREAM_URL"]
CATALOGUE = Path(tempfile.gettempdir()) / "catalogue.csv"
CATALOGUE.write_text("".join(f"{i},item-{i}\n" for i in range(5000)))


class ReportsSDK:
    """The vendor's client library: synchronous, one HTTP call per report."""

    def __init__(self, base_url: str) -> None:
        self._http = httpx.Client(base_url=base_url, timeout=10)

    def get_report(self, report_id: int) -> dict:
        response = self._http.get(f"/sdk/reports/{report_id}")
        response.raise_for_status()
        return response.json()


sdk = ReportsSDK(UPSTREAM_URL)


@asynccontextmanager
async def lifespan(app: FastAPI):
    app.state.sdk_limiter = anyio.CapacityLimiter(40)
    yield


app = FastAPI(lifespan=lifespan)


async def fetch_report(report_id: int, request: Request) -> dict:
    limiter = request.app.state.sdk_limiter
    return await anyio.to_thread.run_sync(sdk.get_report, report_id, limiter=limiter)


@app.get("/reports/{report_id}")
async def report(body: Annotated[dict, Depends(fetch_report)]):
    return body


@app.get("/files/catalogue.csv")
def catalogue():
    return FileResponse(CATALOGUE, media_type="text/csv")


@app.get("/health")
def health():
    return {"ok": True}
