"""Needs a setting at import, as many services do."""

import os

from fastapi import FastAPI

DATABASE_URL = os.environ["DATABASE_URL"]

app = FastAPI()


@app.get("/db")
async def db():
    return {"url": DATABASE_URL}
