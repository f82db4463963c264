"""A run: one app served beside its dependency servers, started, crashed, stopped.

:func:`autograder.run.runner.running` is a run's whole life: a slot (:mod:`.slots`),
a uid and cgroups, then :func:`autograder.run.start.start`, the one place that starts
one (its files: :mod:`.files`), and at the end :func:`~.runner.stop`. :mod:`.handles`
holds what a run is made of, :mod:`.deaths` says why an app died, :mod:`.restart`
crashes it and starts it again.

Imports: :mod:`autograder.sandbox`, :mod:`autograder.harness`; never measure, judges or
the products.
"""
