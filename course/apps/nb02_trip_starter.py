"""Your turn, notebook 02: a trip planner.

``GET /trip/{a}/{b}`` asks the weather service (the course's upstream: 0.3 s per answer)
about both cities and returns both forecasts. One trip takes 0.6 s; twenty trips at once
take twelve seconds, and nothing else is served meanwhile. Make twenty trips come back
within a second, each still asking the weather service about both cities.
"""

import os

import httpx
from fastapi import FastAPI

UPSTREAM_URL = os.environ["UPSTREAM_URL"]

app = FastAPI()


def forecast(city: str) -> dict[str, object]:
    return httpx.get(f"{UPSTREAM_URL}/weather/{city}").json()


@app.get("/trip/{a}/{b}")
async def trip(a: str, b: str) -> dict[str, object]:
    return {"from": forecast(a), "to": forecast(b)}
