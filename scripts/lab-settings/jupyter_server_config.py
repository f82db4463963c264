# JupyterLab's terminals run bash with the course's start-up file (terminal.bashrc), so the
# commands the notebooks print (`python -m autograder ...`) find the course's environment.
# Here, not in the .json beside it: the file's path depends on where the course is cloned.
from pathlib import Path

c = get_config()  # type: ignore[name-defined]  # noqa: F821 (given by traitlets)
c.ServerApp.terminado_settings = {
    "shell_command": ["bash", "--rcfile", str(Path(__file__).with_name("terminal.bashrc")), "-i"]
}
