"""The command registry: one handler per command, dispatched the same from every channel, a plain receipt back."""
import dataclasses
from datetime import date

import pytest

from app.domain.errors import InvalidTransition, WindowClosed
from app.domain.reasons import Reason
from app.models import ActionRecord, HealthSpace, Person, db
from app.services import Actor, commands
from app.services.base import Receipt

ALL = [commands.Oppose(), commands.Close(delete=True), commands.Reopen(), commands.SetEmergency("samu", False),
       commands.Block(7), commands.Unblock(3), commands.Report(7), commands.SendHistory(),
       commands.NameHelper("240037511200567", date(1940, 3, 12), date(2027, 6, 1)), commands.RemoveHelper(4),
       commands.SetNotifications(False)]


def test_every_command_has_exactly_one_handler_and_every_handler_a_command():
    assert {type(c) for c in ALL} == set(commands.HANDLERS)
    assert all(dataclasses.is_dataclass(c) and type(c).__dataclass_params__.frozen for c in ALL)


@pytest.mark.parametrize("command", ALL, ids=lambda c: type(c).__name__)
def test_a_command_waits_for_its_code_as_plain_values_and_comes_back_the_same(command):
    import json
    params = json.loads(json.dumps(commands.to_params(command)))  # what the database keeps
    assert commands.from_params(params) == command


def test_a_stored_request_of_an_older_form_is_not_a_command():
    assert commands.from_params({"subject_id": 1}) is None
    assert commands.from_params({"command": "Close"}) is None  # a field is missing
    assert commands.from_params({"command": "Teleport"}) is None


def test_dispatch_returns_a_plain_frozen_receipt(ctx, enrol):
    h = enrol(days_ago=10)
    receipt = commands.dispatch(commands.Oppose(), Actor(h.person_id, "web"), h.person_id, "key-1")
    assert isinstance(receipt, Receipt) and not isinstance(receipt, ActionRecord)
    with pytest.raises(dataclasses.FrozenInstanceError):
        receipt.reference = "x"
    assert (receipt.action, receipt.subject_id, receipt.actor_id, receipt.channel) == \
        ("space.opposed", h.person_id, h.person_id, "web")
    again = commands.dispatch(commands.Oppose(), Actor(h.person_id, "web"), h.person_id, "key-1")
    assert again == receipt  # the same key: the first receipt, nothing done twice


def test_a_refusal_carries_its_reason(ctx, enrol):
    h = enrol(days_ago=60)
    with pytest.raises(WindowClosed) as too_late:
        commands.dispatch(commands.Oppose(), Actor(h.person_id, "web"), h.person_id)
    assert too_late.value.reason == Reason.WINDOW_CLOSED
    with pytest.raises(InvalidTransition) as not_closed:
        commands.dispatch(commands.Reopen(), Actor(h.person_id, "web"), h.person_id)
    assert not_closed.value.reason == Reason.NOT_CLOSED


def test_switching_notices_off_is_an_audited_action_with_its_receipt(ctx, enrol):
    from app.models import AuditEntry
    h = enrol(days_ago=10)
    receipt = commands.dispatch(commands.SetNotifications(False), Actor(h.person_id, "sms"), h.person_id, "sms:1")
    assert receipt.action == "notifications.off" and db.session.get(Person, h.person_id).notifications_enabled is False
    assert db.session.scalar(db.select(AuditEntry.id).where(AuditEntry.action == "notifications.off"))
    assert db.session.get(HealthSpace, h.person_id).state == "notified"
