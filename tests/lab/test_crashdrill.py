"""The crash drill's arithmetic (autograder/lab/crashdrill.py): what counts as lost, sent twice
and recovered, from the mail server's record; its table and pictures. The drill itself
runs on real services in notebook 08 (tests/course/test_notebooks.py)."""

from __future__ import annotations

from autograder.judges import crash
from autograder.lab import crashdrill
from autograder.lab.crashdrill import CrashDrill


def mail(order: str, accepted: float, key: str | None = None) -> dict:
    return {
        "rcpt_tos": ["orders@example.com"],
        "subject": f"Order {order} confirmed",
        "message_id": key or f"<order-{order}@shop.example.com>",
        "arrived": accepted - 0.3,
        "accepted": accepted,
    }


def drill(emails: dict[str, list[dict]], *, ready_at: float | None = 11.0) -> CrashDrill:
    ids = ["a-00", "a-01", "a-02"]
    return CrashDrill(
        name="x",
        orders=ids,
        accepted=ids,
        first_sent=9.0,
        killed_at=10.0,
        ready_at=ready_at,
        delivered_before_kill=["a-00"],
        sending_at_kill=["Order a-01 confirmed"],
        emails={i: emails.get(i, []) for i in ids},
        answered={i: 9.0 + n * 0.03 for n, i in enumerate(ids)},
        waited=14.0,
    )


def test_recovered_is_the_last_owed_email_after_the_signal():
    d = drill(
        {"a-00": [mail("a-00", 9.8)], "a-01": [mail("a-01", 11.5)], "a-02": [mail("a-02", 12.25)]}
    )
    assert d.lost == [] and d.twice == []
    assert d.recovered_s == 2.25
    assert d.row()["recovered (s after the signal)"] == 2.25 and d.row()["restart took (s)"] == 1.0


def test_lost_and_twice():
    d = drill({"a-00": [mail("a-00", 9.8)], "a-01": [mail("a-01", 9.9), mail("a-01", 11.4)]})
    assert d.lost == ["a-02"] and d.twice == ["a-01"]
    assert d.recovered_s is None  # one never came
    assert "1 lost, 1 sent twice, not all delivered 14 s after the restart" in str(d)
    assert drill({"a-00": [mail("a-00", 9.8)]}, ready_at=None).recovered_s is None


def test_emails_are_matched_by_order_id_and_recipient():
    other = dict(mail("a-01", 10.5), rcpt_tos=["someone@example.com"])
    messages = [mail("a-1", 9.5), other, mail("a-01", 11.0)]
    found = {i: crash.emails_of(messages, i) for i in ("a-01", "a-1")}
    assert [m["accepted"] for m in found["a-01"]] == [11.0]  # not a-1's, not the other recipient's
    assert [m["accepted"] for m in found["a-1"]] == [9.5]


def test_table_and_pictures():
    good = drill({i: [mail(i, 11.0 + n)] for n, i in enumerate(["a-00", "a-01", "a-02"])})
    bad = drill({"a-00": [mail("a-00", 9.8)]})
    text = crashdrill.table([good, bad])
    assert text.splitlines()[0].startswith("| system | accepted |")
    assert text.splitlines()[3].split(" | ")[6] == "never"
    assert len(crashdrill.timeline_figure([good, bad]).axes) == 2
    assert len(crashdrill.summary_figure([good, bad]).axes) == 2
