"""Valid: the SDK runs in a ThreadPoolExecutor of its own (40 workers, the vendor's limit),
awaited with loop.run_in_executor: its calls never touch AnyIO's default limiter.
"""

import asyncio
import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

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

sdk_pool = ThreadPoolExecutor(max_workers=40, thread_name_prefix="sdk")
app = FastAPI()


@app.get("/reports/{report_id}")
async def report(report_id: int):
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(sdk_pool, sdk.get_report, report_id)


@app.get("/files/catalogue.csv")
def catalogue():
    return FileResponse(CATALOGUE, media_type="text/csv")


@app.get("/health")
def health():
    return {"ok": True}
