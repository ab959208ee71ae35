"""spaces.run_jobs(as_of): what falls due is applied once, and running again changes nothing more."""
from datetime import date, datetime, timedelta

import pytest

from app import clock
from app.domain.health_space import add_months
from app.models import ActionRecord, AuditEntry, HealthSpace, OutboxMessage, ProvisionalCode, db
from app.services import Actor, spaces

NOW = datetime(2026, 11, 24, 9, 0)
TODAY = date(2026, 11, 24)
NOTHING = {"created": 0, "purged": 0, "codes_voided": 0, "sessions_ended": 0, "reminders": 0, "sent": 0}


@pytest.fixture(autouse=True)
def frozen():
    clock.freeze(NOW)


def state(h) -> str:
    db.session.expire_all()
    return db.session.get(HealthSpace, h.person_id).state


def me(h) -> Actor:
    return Actor(h.person_id, "web")


def counts(as_of: date) -> dict:
    result = spaces.run_jobs(as_of)
    return {k: result[k] for k in ("created", "purged", "codes_voided", "reminders")}


# --- end of the window ------------------------------------------------------------------------------

def test_a_space_is_created_the_day_after_the_window_ends_not_before(ctx, enrol):
    h = enrol(days_ago=10)                              # window ends on TODAY + 32
    last_day = TODAY + timedelta(days=32)
    assert counts(last_day)["created"] == 0
    assert state(h) == "notified"
    assert counts(last_day + timedelta(days=1))["created"] == 1
    assert state(h) == "active"
    assert [e.action for e in db.session.scalars(db.select(AuditEntry)) if e.subject == f"person:{h.person_id}"
            ].count("space.created_automatically") == 1


def test_opposed_spaces_are_never_created(ctx, enrol):
    h = enrol(days_ago=10)
    spaces.oppose(me(h), h.person_id)
    assert counts(TODAY + timedelta(days=100))["created"] == 0
    assert state(h) == "opposed"


def test_only_the_due_spaces_are_created(ctx, enrol):
    due, not_yet = enrol(days_ago=43), enrol(days_ago=42)
    assert counts(TODAY)["created"] == 1
    assert (state(due), state(not_yet)) == ("active", "notified")


# --- purges -------------------------------------------------------------------------------------------

def test_deletion_asked_is_done_on_its_date_and_the_holder_is_told(ctx, enrol):
    h = enrol(days_ago=50, language="en")
    spaces.close(me(h), h.person_id, delete_data=True)
    due = add_months(TODAY, 3)
    assert counts(due - timedelta(days=1))["purged"] == 0
    assert state(h) == "closed"
    assert counts(due)["purged"] == 1
    assert state(h) == "purged"
    [purge] = db.session.scalars(db.select(ActionRecord).where(ActionRecord.action == "space.purged")).all()
    assert purge.details == {"requested": True}
    [told] = db.session.scalars(db.select(OutboxMessage).where(OutboxMessage.reference == purge.reference)).all()
    assert told.person_id == h.person_id and told.channel == "sms"
    assert "deleted" in told.body


def test_archive_is_purged_after_ten_years_not_before(ctx, enrol):
    h = enrol(days_ago=50)
    spaces.close(me(h), h.person_id, delete_data=False)
    end = date(2036, 11, 24)
    assert counts(end - timedelta(days=1))["purged"] == 0
    assert state(h) == "closed"
    assert counts(end)["purged"] == 1
    assert state(h) == "purged"


def test_a_reopened_space_is_not_purged(ctx, enrol):
    h = enrol(days_ago=50)
    spaces.close(me(h), h.person_id, delete_data=True)
    spaces.reopen(me(h), h.person_id)
    assert counts(date(2040, 1, 1))["purged"] == 0
    assert state(h) == "active"


def test_a_purged_space_cannot_be_reopened(ctx, enrol):
    from app.domain.errors import InvalidTransition
    h = enrol(days_ago=50)
    spaces.close(me(h), h.person_id, delete_data=True)
    spaces.run_jobs(add_months(TODAY, 3))
    with pytest.raises(InvalidTransition):
        spaces.reopen(me(h), h.person_id)


# --- codes --------------------------------------------------------------------------------------------

def test_expired_codes_are_voided_the_day_after_their_last_day(ctx, enrol):
    h = enrol(days_ago=10)                                   # code valid until TODAY + 32
    assert counts(TODAY + timedelta(days=32))["codes_voided"] == 0
    assert counts(TODAY + timedelta(days=33))["codes_voided"] == 1
    code = db.session.scalar(db.select(ProvisionalCode).where(ProvisionalCode.person_id == h.person_id))
    assert code.voided_at is not None


def test_a_used_code_is_not_counted_as_expired(ctx, enrol):
    from app.services import identity
    h = enrol(days_ago=10)
    identity.identify(h.nir, h.vitale_serial, h.birth_date, h.code, client="c", channel="web")
    assert counts(TODAY + timedelta(days=60))["codes_voided"] == 0


# --- reminders -----------------------------------------------------------------------------------------

def test_reminders_14_and_3_days_before_the_end_once_each(ctx, enrol):
    h = enrol(days_ago=10)                          # window ends on TODAY + 32
    end = TODAY + timedelta(days=32)
    assert counts(end - timedelta(days=15))["reminders"] == 0
    assert counts(end - timedelta(days=14))["reminders"] == 1
    assert counts(end - timedelta(days=13))["reminders"] == 0
    assert counts(end - timedelta(days=3))["reminders"] == 1
    assert counts(end - timedelta(days=2))["reminders"] == 0
    reminders = db.session.scalars(db.select(ActionRecord).where(ActionRecord.action == "reminder.sent")).all()
    assert sorted(r.details["days"] for r in reminders) == [3, 14]
    msgs = db.session.scalars(db.select(OutboxMessage).where(
        OutboxMessage.reference.in_([r.reference for r in reminders]))).all()
    assert len(msgs) == 2 and all(m.person_id == h.person_id for m in msgs)
    assert all(end.strftime("%d/%m/%Y") in m.body or end.strftime("%d/%m") in m.body for m in msgs)


def test_no_reminder_once_opposed(ctx, enrol):
    h = enrol(days_ago=30)
    spaces.oppose(me(h), h.person_id)
    assert counts(TODAY)["reminders"] == 0


# --- twice --------------------------------------------------------------------------------------------

def test_running_twice_changes_nothing_more(ctx, enrol):
    clock.freeze(NOW - timedelta(days=3660))  # closed ten years ago
    deleted = enrol(days_ago=60)
    archived = enrol(days_ago=60)
    for h, delete in ((deleted, True), (archived, False)):
        spaces.close(me(h), h.person_id, delete_data=delete)
    clock.freeze(NOW)
    created = enrol(days_ago=60)
    reminded = enrol(days_ago=35)                 # window ends in 7 days
    first = spaces.run_jobs(TODAY)
    assert {k: first[k] for k in ("created", "purged", "reminders", "codes_voided")} == \
        {"created": 1, "purged": 2, "reminders": 1, "codes_voided": 2}
    snapshot = [(state(h)) for h in (created, deleted, archived, reminded)]
    records = db.session.scalar(db.select(db.func.count(ActionRecord.id)))
    messages = db.session.scalar(db.select(db.func.count(OutboxMessage.id)))
    audit = db.session.scalar(db.select(db.func.count(AuditEntry.id)))
    second = spaces.run_jobs(TODAY)
    assert {k: v for k, v in second.items() if v} == {}   # every count is 0
    assert set(NOTHING) <= set(second)
    assert [(state(h)) for h in (created, deleted, archived, reminded)] == snapshot == \
        ["active", "purged", "purged", "notified"]
    assert db.session.scalar(db.select(db.func.count(ActionRecord.id))) == records
    assert db.session.scalar(db.select(db.func.count(OutboxMessage.id))) == messages
    assert db.session.scalar(db.select(db.func.count(AuditEntry.id))) == audit
