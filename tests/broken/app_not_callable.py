"""Broken: ``app`` is a settings dictionary, not an ASGI application."""

app = {"title": "reports", "debug": False}
