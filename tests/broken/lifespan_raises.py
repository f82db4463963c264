"""Broken: the lifespan fails at startup (a configuration check that raises)."""

from contextlib import asynccontextmanager

from fastapi import FastAPI


@asynccontextmanager
async def lifespan(app: FastAPI):
    raise RuntimeError("REPORTS_DB is not configured")
    yield


app = FastAPI(lifespan=lifespan)


@app.get("/report")
async def report():
    return {"status": "ok"}
