"""The dependency servers a graded app talks to, measured on their side.

:mod:`.process` is their process (an HTTP upstream, a real SMTP server) with the
recordings the judges read; :mod:`.slow` and :mod:`.limited` are the upstream's slow
rows and rate-limited APIs; :mod:`.brokers` starts a private redis-server and
:mod:`.postgres` a private PostgreSQL (a throw-away cluster on a Unix socket).

Imports: the standard library and the servers' own packages; no other layer.
"""
