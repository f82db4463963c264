"""Serves without a state directory."""

from fastapi import FastAPI

app = FastAPI()
