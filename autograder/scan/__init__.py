"""``python -m autograder scan TARGET``: the measuring engine pointed at any FastAPI app.

Serves the app the way the grader serves a submission (own confined process, asyncio +
h11, the loop probe and stall watchdog), reads its OpenAPI schema, and measures each
route it can call: alone, then under a burst. Modules: ``target`` (what to serve, the
settings), ``openapi`` and ``userfile`` (which requests), ``measure`` (the figures),
``stream`` (routes that answer ``text/event-stream``), ``classify`` (the verdicts),
``where`` (the blocking line), ``run`` (route by route), ``report`` (table and HTML),
``command`` (the command line).
"""
