"""The sandbox: the app's confinement and the processes that keep it.

:mod:`.supervisor` runs inside the sandbox and starts (and restarts: :mod:`.restarts`)
the app and the dependency servers from a :class:`~.spec.SandboxSpec`; :mod:`.bwrap`
is the app's view of the machine; :mod:`.environment` says what confinement this machine
allows and the limits; :mod:`.cgroups`, :mod:`.proctree` (the one way to kill a tree),
:mod:`.readable_copy` (a private folder as the app's uid may read it).

Imports: the standard library, psutil and :mod:`autograder.harness` (its constants).
"""
