"""spaces: oppose, close, reopen, emergency settings; one receipt per action, repeated requests made once."""
import json
import re
from datetime import date, datetime

import pytest

from app import clock
from app.domain.errors import InvalidTransition, NotAuthorized, WindowClosed
from app.domain.health_space import add_months
from app.models import ActionRecord, AuditEntry, HealthSpace, db
from app.services import Actor, spaces

NOW = datetime(2026, 11, 24, 9, 0)
TODAY = date(2026, 11, 24)


@pytest.fixture(autouse=True)
def frozen():
    clock.freeze(NOW)


def me(h, channel="web") -> Actor:
    return Actor(h.person_id, channel)


def records(person_id=None):
    q = db.select(ActionRecord).order_by(ActionRecord.id)
    if person_id is not None:
        q = q.where(ActionRecord.subject_id == person_id)
    return db.session.scalars(q).all()


def audited(action):
    return [e for e in db.session.scalars(db.select(AuditEntry).order_by(AuditEntry.id)) if e.action == action]


def stored(h) -> HealthSpace:
    db.session.expire_all()
    return db.session.get(HealthSpace, h.person_id)


# --- oppose -----------------------------------------------------------------------------------------

def test_oppose_within_the_window_gives_a_receipt(ctx, enrol):
    h = enrol(days_ago=10)
    record = spaces.oppose(me(h), h.person_id)
    assert re.fullmatch(r"\d{9}", record.reference)
    assert (record.action, record.subject_id, record.actor_id, record.channel) == \
        ("space.opposed", h.person_id, h.person_id, "web")
    assert spaces.view(me(h), h.person_id).state == "opposed"
    assert stored(h).opposed_at == NOW
    [entry] = audited("space.opposed")
    assert entry.subject == f"person:{h.person_id}" and entry.actor == f"person:{h.person_id}"
    assert json.loads(entry.details)["reference"] == record.reference
    assert spaces.receipt(me(h), record.reference).id == record.id


def test_oppose_on_the_last_day_of_the_window(ctx, enrol):
    h = enrol(days_ago=42)
    spaces.oppose(me(h), h.person_id)
    assert stored(h).state == "opposed"


def test_oppose_after_the_window_is_refused_and_changes_nothing(ctx, enrol):
    h = enrol(days_ago=43)
    with pytest.raises(WindowClosed):
        spaces.oppose(me(h), h.person_id)
    assert records() == []
    assert audited("space.opposed") == []
    assert stored(h).state != "opposed" and stored(h).opposed_at is None
    view = spaces.view(me(h), h.person_id)
    assert view.state == "active" and view.actions[0] == "close"  # closure is offered instead


def test_oppose_twice_is_an_invalid_transition(ctx, enrol):
    h = enrol()
    spaces.oppose(me(h), h.person_id)
    with pytest.raises(InvalidTransition):
        spaces.oppose(me(h), h.person_id)
    assert len(records()) == 1


# --- close, reopen ----------------------------------------------------------------------------------

def test_close_keeps_the_archive_ten_years(ctx, enrol):
    h = enrol(days_ago=50)
    record = spaces.close(me(h), h.person_id, delete_data=False)
    view = spaces.view(me(h), h.person_id)
    assert view.state == "closed"
    assert view.archive_until == date(2036, 11, 24)
    assert view.deletion_due_on is None
    assert view.closed_at == TODAY
    assert view.actions == ["reopen", "history"]
    assert record.details["delete_data"] is False and record.details["archive_until"] == "2036-11-24"


def test_close_with_deletion_deletes_within_three_months(ctx, enrol):
    h = enrol(days_ago=50)
    spaces.close(me(h), h.person_id, delete_data=True)
    view = spaces.view(me(h), h.person_id)
    assert view.deletion_due_on == date(2027, 2, 24) == add_months(TODAY, 3)
    assert view.archive_until == date(2036, 11, 24)


def test_close_on_the_30th_of_november_deletes_by_the_end_of_february(ctx, enrol):
    clock.freeze(datetime(2026, 11, 30, 9, 0))
    h = enrol(days_ago=50)
    spaces.close(me(h), h.person_id, delete_data=True)
    assert spaces.view(me(h), h.person_id).deletion_due_on == date(2027, 2, 28)


def test_close_uses_the_french_date(ctx, enrol):
    clock.freeze(datetime(2026, 12, 31, 23, 30))  # already 1 January 2027 in Paris
    h = enrol(days_ago=50)
    spaces.close(me(h), h.person_id, delete_data=True)
    view = spaces.view(me(h), h.person_id)
    assert view.deletion_due_on == date(2027, 4, 1)
    assert view.archive_until == date(2037, 1, 1)


def test_close_while_the_window_is_open_is_refused(ctx, enrol):
    h = enrol(days_ago=10)
    with pytest.raises(InvalidTransition):
        spaces.close(me(h), h.person_id, delete_data=False)
    assert stored(h).state == "notified" and records() == []


def test_reopen_cancels_the_pending_deletion(ctx, enrol):
    h = enrol(days_ago=50)
    spaces.close(me(h), h.person_id, delete_data=True)
    record = spaces.reopen(me(h), h.person_id)
    view = spaces.view(me(h), h.person_id)
    assert view.state == "active"
    assert (view.deletion_due_on, view.archive_until, view.closed_at) == (None, None, None)
    assert record.details == {"deletion_cancelled": True}
    assert [r.action for r in records()] == ["space.closed", "space.reopened"]


def test_reopen_an_archived_space_cancels_nothing(ctx, enrol):
    h = enrol(days_ago=50)
    spaces.close(me(h), h.person_id, delete_data=False)
    assert spaces.reopen(me(h), h.person_id).details == {"deletion_cancelled": False}


def test_reopen_an_active_space_is_refused(ctx, enrol):
    h = enrol(days_ago=50)
    with pytest.raises(InvalidTransition):
        spaces.reopen(me(h), h.person_id)


# --- repeated requests -------------------------------------------------------------------------------

@pytest.mark.parametrize("action", ["oppose", "close", "samu_off"])
def test_a_repeated_idempotency_key_makes_one_change_and_one_receipt(ctx, enrol, action):
    h = enrol(days_ago=10 if action == "oppose" else 50)
    do = {"oppose": lambda: spaces.oppose(me(h), h.person_id, idempotency_key="k-1"),
          "close": lambda: spaces.close(me(h), h.person_id, True, idempotency_key="k-1"),
          "samu_off": lambda: spaces.set_emergency_access(me(h), h.person_id, "samu", False, idempotency_key="k-1")}
    first, second = do[action](), do[action]()
    assert first.reference == second.reference
    assert len(records(h.person_id)) == 1
    assert len([e for e in db.session.scalars(db.select(AuditEntry)) if e.action.startswith(("space.", "emergency."))
                and e.action != "space.created_automatically"]) == 1


def test_without_a_key_each_request_is_its_own(ctx, enrol):
    h = enrol(days_ago=50)
    a = spaces.set_emergency_access(me(h), h.person_id, "samu", False)
    b = spaces.set_emergency_access(me(h), h.person_id, "samu", True)
    assert a.reference != b.reference and len(records()) == 2


# --- emergency settings ------------------------------------------------------------------------------

def emergency(h):
    e = spaces.view(me(h), h.person_id).emergency
    return e.samu, e.break_glass, e.masked


def test_emergency_access_is_on_by_default(ctx, enrol):
    h = enrol()
    assert emergency(h) == (True, True, False)


@pytest.mark.parametrize("setting,on,expected", [
    ("samu", False, (False, True, False)), ("break_glass", False, (True, False, False)),
    ("masked", True, (True, True, True)), ("samu", True, (True, True, False)),
])
def test_each_setting(ctx, enrol, setting, on, expected):
    h = enrol(days_ago=50)
    record = spaces.set_emergency_access(me(h), h.person_id, setting, on)
    assert emergency(h) == expected
    assert record.action == f"emergency.{setting}.{'on' if on else 'off'}"
    assert audited(record.action)


def test_switching_both_off_switches_masked_off(ctx, enrol):
    h = enrol(days_ago=50)
    spaces.set_emergency_access(me(h), h.person_id, "masked", True)
    spaces.set_emergency_access(me(h), h.person_id, "samu", False)
    assert emergency(h) == (False, True, True)
    record = spaces.set_emergency_access(me(h), h.person_id, "break_glass", False)
    assert emergency(h) == (False, False, False)
    assert record.details["masked"] is False


def test_masked_on_is_refused_while_both_are_off(ctx, enrol):
    h = enrol(days_ago=50)
    spaces.set_emergency_access(me(h), h.person_id, "samu", False)
    spaces.set_emergency_access(me(h), h.person_id, "break_glass", False)
    with pytest.raises(InvalidTransition):
        spaces.set_emergency_access(me(h), h.person_id, "masked", True)
    assert emergency(h) == (False, False, False)
    assert len(records()) == 2


def test_an_unknown_setting_is_refused(ctx, enrol):
    h = enrol()
    with pytest.raises(ValueError):
        spaces.set_emergency_access(me(h), h.person_id, "all", False)


# --- who may act ------------------------------------------------------------------------------------

@pytest.mark.parametrize("call", [
    lambda a, s: spaces.oppose(a, s), lambda a, s: spaces.close(a, s, True), lambda a, s: spaces.reopen(a, s),
    lambda a, s: spaces.set_emergency_access(a, s, "samu", False), lambda a, s: spaces.view(a, s),
    lambda a, s: spaces.activity(a, s),
])
def test_another_person_or_nobody_cannot_act(ctx, enrol, call):
    victim, other = enrol(days_ago=10), enrol(days_ago=10)
    for actor in (Actor(other.person_id, "web"), Actor(None, "web")):
        with pytest.raises(NotAuthorized):
            call(actor, victim.person_id)
    assert stored(victim).state == "notified" and stored(victim).samu_access is True
    assert records() == []


def test_a_receipt_is_only_shown_to_its_person(ctx, enrol):
    a, b = enrol(), enrol()
    record = spaces.oppose(me(a), a.person_id)
    with pytest.raises(NotAuthorized):
        spaces.receipt(me(b), record.reference)


def test_a_web_action_sends_its_receipt_by_sms(ctx, enrol):
    from app.models import OutboxMessage
    h = enrol(days_ago=10, phone="+33612345678")
    record = spaces.oppose(me(h, "web"), h.person_id)
    msgs = db.session.scalars(db.select(OutboxMessage)).all()
    assert [(m.channel, m.recipient, m.reference) for m in msgs] == [("sms", "+33612345678", record.reference)]
    assert "http" not in msgs[0].body.lower()
