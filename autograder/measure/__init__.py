"""Measuring a running app from outside.

:mod:`.load` is the raw HTTP/1.1 client; :mod:`.burst`, bursts and open-loop probes;
:mod:`.session`, the measuring API every scenario uses (send, bursts, probes, the
dependency servers' records, :class:`~.session.Figures`); :mod:`.diagnosis` turns the
harness's stall samples into the line that blocked the loop; :mod:`.streams`, the clients
of long-lived connections (SSE, WebSocket members) and their one record.

Imports: :mod:`autograder.run` (a run's handles) and the layers below it.
"""
