"""The advisers' commands: `callbacks list` shows what to call back and the number; `callbacks done ID` closes one."""
from datetime import date, datetime

import pytest

from app import clock
from app.models import AuditEntry, Callback, db
from app.services import Actor, callbacks

NOW = datetime(2026, 11, 30, 9, 0)  # Monday 10:00 in Paris


@pytest.fixture(autouse=True)
def frozen():
    clock.freeze(NOW)


def run(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def spaced(reference: str) -> str:
    return f"{reference[:3]} {reference[3:6]} {reference[6:]}"


@pytest.fixture
def booked(app):
    """Two callbacks booked on the phone line: a mobile for the morning, then a landline for the afternoon."""
    with app.app_context():
        first = callbacks.request(Actor(None, "voice"), "06 12 34 56 78", date(2026, 11, 30), "am", goal="history",
                                  language="fr", key="a")
        clock.freeze(datetime(2026, 11, 30, 9, 20))
        second = callbacks.request(Actor(None, "voice"), "01 40 00 00 00", date(2026, 11, 30), "pm", goal=None,
                                   language="en", key="b")
    return first, second


def test_list_shows_the_callbacks_to_make_oldest_first(app, booked):
    first, second = booked
    result = run(app, "callbacks", "list")
    assert result.exit_code == 0, result.output
    header, *lines = result.output.splitlines()
    assert header.split() == ["id", "reference", "half-day", "number", "goal", "lang", "created", "(Paris)"]
    assert [line.split() for line in lines] == [
        [str(first.id), *spaced(first.reference).split(), "2026-11-30", "am", "+33612345678", "history", "fr",
         "2026-11-30", "10:00"],
        [str(second.id), *spaced(second.reference).split(), "2026-11-30", "pm", "+33140000000", "-", "en",
         "2026-11-30", "10:20"]]


def test_done_closes_one_and_forgets_its_number(app, booked):
    first, second = booked
    result = run(app, "callbacks", "done", str(first.id))
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"callback {first.id} ({spaced(first.reference)}) done"
    listed = run(app, "callbacks", "list").output
    assert spaced(second.reference) in listed and spaced(first.reference) not in listed
    assert "+33612345678" not in listed
    everything = run(app, "callbacks", "list", "--all").output.splitlines()
    assert everything[0].split()[-1] == "status"
    assert everything[1].split()[-1] == "done" and everything[1].split()[6] == "-"
    assert everything[2].split()[-1] == "pending" and "+33140000000" in everything[2]
    with app.app_context():
        assert db.session.get(Callback, first.id).phone_sealed is None
        [entry] = db.session.scalars(db.select(AuditEntry).where(AuditEntry.action == "callback.done")).all()
        assert (entry.actor, entry.channel) == ("operator", "cli")


def test_done_again_changes_nothing_and_a_wrong_id_is_said(app, booked):
    first, second = booked
    assert run(app, "callbacks", "done", str(first.id)).exit_code == 0
    assert run(app, "callbacks", "done", str(first.id)).exit_code == 0
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(AuditEntry.id)).where(
            AuditEntry.action == "callback.done")) == 1
        callbacks.cancel(second.id, Actor(None, "cli"))
    cancelled = run(app, "callbacks", "done", str(second.id))
    assert cancelled.exit_code == 1 and f"callback {second.id} is cancelled, not pending" in cancelled.output
    missing = run(app, "callbacks", "done", "999")
    assert missing.exit_code == 1 and "no callback 999" in missing.output


def test_nothing_to_call_back(app):
    assert run(app, "callbacks", "list").output.strip() == "no callback to make"
    assert run(app, "callbacks", "list", "--all").output.strip() == "no callback"
