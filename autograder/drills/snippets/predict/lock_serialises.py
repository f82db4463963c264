"""A token refresh guarded by one lock: every request takes it, the refresh awaits 0.1 s."""

import asyncio

from fastapi import FastAPI

app = FastAPI()
lock = asyncio.Lock()
token = {"value": "t0", "refreshes": 0}


async def refresh_token() -> None:
    await asyncio.sleep(0.1)  # stands for a call to the identity provider
    token["refreshes"] += 1
    token["value"] = f"t{token['refreshes']}"


@app.get("/profile")
async def profile():
    async with lock:
        await refresh_token()  # meant to refresh only when expired: it always does
        current = token["value"]
    return {"token": current}
