"""The jobs' batch writes (app/services/batch.py): a message queued in bulk is the row outbox.queue would have
written, a receipt already given is not given again, and a run in many chunks does each thing once."""
from datetime import date, datetime, timedelta

import pytest

from app import clock, outbox
from app.models import ActionRecord, HealthSpace, OutboxMessage, Person, db
from app.services import batch, spaces

NOW = datetime(2026, 11, 24, 9, 0)
TODAY = date(2026, 11, 24)
# Outside GSM-7: an SMS gets them folded («» to ", ’ to ', ê to e); an e-mail or a letter keeps them.
BODY = "Relais : « l’espace » sera créé. Fenêtre ouverte ; Ref 123 456 789"


@pytest.fixture(autouse=True)
def frozen():
    clock.freeze(NOW)


def _row(msg_id: int) -> dict:
    row = db.session.execute(db.select(OutboxMessage.__table__).where(OutboxMessage.id == msg_id)).mappings().one()
    return {k: v for k, v in row.items() if k not in ("id", "reference")}


def test_a_message_queued_in_bulk_is_the_one_outbox_queue_writes(ctx, enrol):
    kinds = {
        "mobile": enrol(phone="+33612345678"),
        "english mobile": enrol(phone="+33698765432", language="en"),
        "overseas mobile": enrol(phone="+596696123456"),
        "landline and e-mail": enrol(phone="+33140000000"),
        "e-mail only": enrol(phone=None),
        "nothing": enrol(phone=None),
        "opted out at Twilio": enrol(phone="+33611111111"),
    }
    for name in ("landline and e-mail", "e-mail only"):
        db.session.get(Person, kinds[name].person_id).email = "jeanne@example.org"
    db.session.get(Person, kinds["opted out at Twilio"].person_id).sms_blocked_at = NOW - timedelta(days=1)
    db.session.commit()
    for name, holder in kinds.items():
        person = db.session.get(Person, holder.person_id)
        one = outbox.queue(person, BODY, "100000001")
        db.session.flush()
        batch.queue_many([(person, BODY, "100000002")])
        bulk = db.session.scalar(db.select(OutboxMessage.id).where(OutboxMessage.reference == "100000002"))
        assert _row(bulk) == _row(one.id), name
        db.session.rollback()
    channels = {}
    for name, holder in kinds.items():
        batch.queue_many([(db.session.get(Person, holder.person_id), BODY, "100000003")])
        channels[name] = db.session.scalar(db.select(OutboxMessage.channel).where(
            OutboxMessage.person_id == holder.person_id))
    assert channels == {"mobile": "sms", "english mobile": "sms", "overseas mobile": "sms",
                        "landline and e-mail": "email", "e-mail only": "email", "nothing": "letter",
                        "opted out at Twilio": "letter"}
    assert "«" not in db.session.scalar(db.select(OutboxMessage.body).where(
        OutboxMessage.person_id == kinds["mobile"].person_id))
    assert db.session.scalar(db.select(OutboxMessage.body).where(
        OutboxMessage.person_id == kinds["nothing"].person_id)) == BODY


def test_a_receipt_whose_key_is_there_is_left_out_and_a_reference_taken_meanwhile_is_replaced(ctx, enrol,
                                                                                                monkeypatch):
    a, b, c = enrol(), enrol(), enrol()
    first = batch.record_receipts("reminder.sent", [(a.person_id, f"reminder:{a.person_id}:14", {"days": 14})])
    db.session.commit()
    taken = first[0]
    real = batch.new_references
    calls = []

    def stale(n):  # the first references handed out include one another transaction took meanwhile
        calls.append(n)
        return [real(1)[0], taken, *real(n - 2)] if len(calls) == 1 else real(n)  # b gets the taken one
    monkeypatch.setattr(batch, "new_references", stale)
    refs = batch.record_receipts("reminder.sent", [
        (a.person_id, f"reminder:{a.person_id}:14", {"days": 14}),   # the other machine sent it: left out
        (b.person_id, f"reminder:{b.person_id}:14", {"days": 14}),
        (c.person_id, None, {"requested": True})])
    db.session.commit()
    assert refs[0] is None and None not in refs[1:] and taken not in refs
    records = db.session.scalars(db.select(ActionRecord)).all()
    assert sorted((r.subject_id, r.idempotency_key or "", r.details.get("days")) for r in records) == sorted([
        (a.person_id, f"reminder:{a.person_id}:14", 14), (b.person_id, f"reminder:{b.person_id}:14", 14),
        (c.person_id, "", None)])
    assert len({r.reference for r in records}) == 3 and len(calls) == 2  # tried again once, with new references


def test_a_run_in_chunks_of_two_does_each_thing_once(ctx, enrol, monkeypatch):
    monkeypatch.setattr(batch, "CHUNK", 2)
    reminded = [enrol(days_ago=28) for _ in range(5)]   # windows end in 14 days
    created = [enrol(days_ago=43) for _ in range(3)]    # windows ended yesterday
    first = spaces.run_jobs(TODAY)
    assert (first["reminders"], first["created"]) == (5, 3)
    assert sorted(db.session.scalars(db.select(ActionRecord.idempotency_key))) == \
        sorted(f"reminder:{h.person_id}:14" for h in reminded)
    assert {db.session.get(HealthSpace, h.person_id).state for h in created} == {"active"}
    assert db.session.scalar(db.select(db.func.count(OutboxMessage.id))) == 5
    again = spaces.run_jobs(TODAY)
    assert {k: v for k, v in again.items() if v} == {}


def test_a_window_that_ended_at_midnight_in_la_reunion_is_created_by_the_evenings_run_in_paris(ctx, enrol):
    clock.freeze(datetime(2026, 11, 24, 21, 0))  # 22:00 in Paris, already 01:00 on 25 November in La Réunion
    reunion = enrol(days_ago=42, phone="+262692123456")  # both windows' last day: 24 November
    paris = enrol(days_ago=42, phone="+33612345678")
    counts = spaces.run_jobs(clock.today())
    assert (counts["created"], counts["codes_voided"]) == (1, 1)
    assert db.session.get(HealthSpace, reunion.person_id).state == "active"
    assert db.session.get(HealthSpace, paris.person_id).state == "notified"
