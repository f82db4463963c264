"""The newer spot-and-fix drills (upstreams, a crash, a WebSocket room): each starter fails on
its named check, every valid fix passes, and each wrong fix fails on the check it was written
to fall foul of.

The valid and wrong fixes beyond the drill's own reference live in ``tests/drills_fixes/<id>/``.
"""

from __future__ import annotations

import pytest

from autograder.drills import spot_fix, spot_fix_ws
from tests.conftest import ROOT

FIXES = ROOT / "tests" / "drills_fixes"
BY_ID = {d.id: d for d in [*spot_fix.DRILLS, *spot_fix_ws.DRILLS]}

# (drill id, file in tests/drills_fixes/<id>/ or "reference", the check it must fail, or None)
CASES = [
    ("fix-fanout-throttled", "reference", None),
    ("fix-fanout-throttled", "pool_limit.py", None),
    ("fix-fanout-throttled", "wrong_per_request.py", "upstream-limit"),
    ("fix-fanout-throttled", "wrong_sequential.py", "burst"),
    ("fix-hung-upstream", "reference", None),
    ("fix-hung-upstream", "async_timeout.py", None),
    ("fix-hung-upstream", "wrong_wait_for_thread.py", "cleanup"),
    ("fix-lost-on-crash", "reference", None),
    ("fix-lost-on-crash", "lease.py", None),
    ("fix-lost-on-crash", "wrong_claims_never_released.py", "survives-crash"),
    ("fix-room-keeps-dead-member", "reference", None),
    ("fix-room-keeps-dead-member", "queue_per_member.py", None),
    ("fix-room-keeps-dead-member", "wrong_removed_not_closed.py", "stalled-dropped"),
]


def test_the_new_drills_name_their_failing_check_and_have_their_fixes():
    for drill_id, name, fails in CASES:
        d = BY_ID[drill_id]
        assert d.fails_on in d.exercise.checks
        assert fails is None or fails in d.exercise.checks
        assert name == "reference" or (FIXES / drill_id / name).is_file()
    assert {c[0] for c in CASES if c[2] is None and c[1] != "reference"} == set(
        p.name for p in FIXES.iterdir() if p.is_dir()
    ), "every drill with fixtures has a second valid fix"


@pytest.mark.slow
@pytest.mark.parametrize("drill_id", sorted({c[0] for c in CASES}))
def test_starter_fails_on_its_named_check(drill_id):
    d = BY_ID[drill_id]
    verdict = d.grade(d.starter)
    assert not verdict.passed and d.fails_on in verdict.failed, verdict.render()


@pytest.mark.slow
@pytest.mark.parametrize(("drill_id", "name", "fails"), CASES, ids=lambda x: str(x))
def test_fixes_pass_and_wrong_fixes_fail(drill_id, name, fails):
    d = BY_ID[drill_id]
    verdict = d.grade(d.reference if name == "reference" else FIXES / drill_id / name)
    if fails is None:
        assert verdict.passed, verdict.render()
    else:
        assert not verdict.passed and fails in verdict.failed, verdict.render()
