"""Defines its FastAPI application under another name than ``app``."""

from fastapi import FastAPI

api = FastAPI()


@api.get("/")
async def root():
    return {}
