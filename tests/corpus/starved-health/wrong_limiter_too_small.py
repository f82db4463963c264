"""Wrong: a limiter of its own for the SDK, but of 5 tokens: health and downloads are fast,
and the reports take twenty waves of 0.3 s where the vendor would take 40 at once.
"""
# expect-fail: reports

import os
import tempfile
from pathlib import Path

import anyio
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

sdk_limiter = anyio.CapacityLimiter(5)
app = FastAPI()


@app.get("/reports/{report_id}")
async def report(report_id: int):
    return await anyio.to_thread.run_sync(sdk.get_report, report_id, limiter=sdk_limiter)


@app.get("/files/catalogue.csv")
def catalogue():
    return FileResponse(CATALOGUE, media_type="text/csv")


@app.get("/health")
def health():
    return {"ok": True}
