"""Every "your turn" of the course, by id (``NN-name`` is notebook NN's).

Each notebook's scenarios live in a module of their own here; a notebook reads its turn
with ``from _turns import TURNS`` and ``TURNS["NN-name"]``.
"""

from __future__ import annotations

from _practice import YourTurn

from _turns import nb01_03, nb04_06, nb07, nb08, nb09

TURNS: dict[str, YourTurn] = {
    t.id: t for m in (nb01_03, nb04_06, nb07, nb08, nb09) for t in m.TURNS
}

__all__ = ["TURNS"]
