"""The lab: what the notebooks use. ``from autograder import lab``.

:mod:`.blocking` is the notebooks' blocking face over a run and a session (its names are
this package's: ``lab.serve``, ``lab.run``, ...); :mod:`.plots`, the pictures;
:mod:`.crashdrill`, the crash drill; :mod:`.contents`, the Jupyter contents manager that
opens a lesson unchanged.

Imports: every engine layer (measure, run, judges); never drills, classroom or scan.
"""

from autograder.lab.blocking import *  # noqa: F403 (the notebooks' names)
from autograder.lab.blocking import __all__ as __all__
