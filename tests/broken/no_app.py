"""Broken: the FastAPI instance is called ``application``, not ``app``."""

from fastapi import FastAPI

application = FastAPI()


@application.get("/report")
async def report():
    return {"status": "ok"}
