"""A measuring autograder for FastAPI concurrency exercises.

Serves a submission with uvicorn in its own process, starts real dependency servers,
sends real concurrent load, measures from outside, and says which check failed, why,
and which line blocked the event loop. ``python -m autograder --help``.
"""
