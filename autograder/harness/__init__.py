"""The harness: what runs inside the app's own process.

:mod:`~autograder.harness.serve` imports the app and serves it with uvicorn on the
socket the grader bound (one worker, or uvicorn's supervisor: :mod:`.workers`);
:mod:`.app` is what both need (importing the app, the loop probe, the report channel,
log capture); :mod:`.lag` samples the loop's lag and names the line that stalled it.

Imports: the standard library, uvicorn and anyio only; never another layer of the
autograder. Everything here runs in the app's interpreter, so the figures it writes
explain a verdict and never decide one.
"""
