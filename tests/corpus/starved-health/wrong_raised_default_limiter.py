"""Wrong: the default thread limiter raised to 200. Health and downloads find a token again,
but 100 SDK calls now go out at once to a vendor that accepts 40: 60 come back 429.
"""
# expect-fail: sdk-limit, reports

import os
import tempfile
from contextlib import asynccontextmanager
from pathlib import Path

import anyio.to_thread
import httpx
from fastapi import FastAPI
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
    anyio.to_thread.current_default_thread_limiter().total_tokens = 200
    yield


app = FastAPI(lifespan=lifespan)


@app.get("/reports/{report_id}")
def report(report_id: int):
    return sdk.get_report(report_id)


@app.get("/files/catalogue.csv")
def catalogue():
    return FileResponse(CATALOGUE, media_type="text/csv")


@app.get("/health")
def health():
    return {"ok": True}
