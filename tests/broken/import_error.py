"""Broken: imports a module the course environment does not install."""

import fastapi_turbo_sleep  # type: ignore[import-not-found]  # noqa: F401
from fastapi import FastAPI

app = FastAPI()
