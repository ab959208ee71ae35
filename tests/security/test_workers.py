"""Several workers on one PostgreSQL: jobs run on two machines at once and outbox workers side by side
do every thing once — each reminder, each mandate's end, each message sent exactly once.

SQLite has no row locks and serialises writers, so these run on PostgreSQL only (`make test-postgres`).
"""
import threading
from collections import Counter
from datetime import date, timedelta

import pytest

from app import clock, create_app, outbox
from app.models import ActionRecord, Mandate, OutboxMessage, Person, db
from app.services import identity, spaces
from tests.conftest import TEST_CONFIG

pytestmark = pytest.mark.skipif("postgresql" not in (__import__("os").environ.get("DATABASE_URL") or ""),
                                reason="row locking across workers needs PostgreSQL (run by make test-postgres)")


@pytest.fixture
def workers(app, twilio):
    """Two more app objects on the same database, as two machines would have, sending to the fake Twilio."""
    apps = [create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                        "TWILIO_ACCOUNT_SID": app.config["TWILIO_ACCOUNT_SID"],
                        "TWILIO_FROM_NUMBER": app.config["TWILIO_FROM_NUMBER"],
                        "TWILIO_API_URL": app.config["TWILIO_API_URL"]}) for _ in range(2)]
    yield apps
    for a in apps:
        with a.app_context():
            db.session.remove()
            db.engine.dispose()


def _at_once(apps, work):
    """Run work() in each app at the same moment; re-raise any failure."""
    errors, start = [], threading.Barrier(len(apps))

    def run(a):
        try:
            with a.app_context():
                start.wait()
                work()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
    threads = [threading.Thread(target=run, args=(a,)) for a in apps]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors


def test_jobs_on_two_machines_at_once_do_everything_once(app, workers, twilio):
    with app.app_context():
        people = []
        for i in range(12):
            nir = f"1520364445{i:03d}"
            nir += f"{97 - int(nir) % 97:02d}"
            identity.enrol(identity.Enrolment(nir, f"8012345{i:04d}", "Test", f"P{i}", date(1950, 1, 1),
                                              f"+336123450{i:02d}", None, "fr", clock.today() - timedelta(days=30)))
            people.append(identity.find_person_by_nir(nir))
        for rep, sub in zip(people[:6], people[6:]):
            db.session.add(Mandate(representative_id=rep.id, represented_id=sub.id, kind="tutelle",
                                   valid_from=clock.today() - timedelta(days=100),
                                   valid_until=clock.today() - timedelta(days=1), created_at=clock.now()))
        db.session.commit()
    _at_once(workers, lambda: spaces.run_jobs(clock.today()))
    with app.app_context():
        keys = db.session.scalars(db.select(ActionRecord.idempotency_key).where(
            ActionRecord.action == "reminder.sent")).all()
        assert len(keys) == 12 == len(set(keys))  # one reminder each (14 days before the end)
        ended = db.session.scalars(db.select(Mandate)).all()
        assert all(m.end_reason == "expired" for m in ended)
        reminders = set(db.session.scalars(db.select(ActionRecord.reference)).all())
        endings = [r for r in db.session.scalars(db.select(OutboxMessage.reference)).all() if r not in reminders]
        assert len(endings) == 6 * 2  # the representative and the represented adult, once each
        assert not db.session.scalar(db.select(db.func.count(OutboxMessage.id)).where(OutboxMessage.status == "queued"))
    bodies = Counter(m["Body"] for m in twilio.sent)
    assert bodies and max(bodies.values()) == 1  # no message went twice


def test_outbox_workers_side_by_side_send_each_message_once(app, workers, twilio):
    with app.app_context():
        nir = "152036444500026"
        identity.enrol(identity.Enrolment(nir, "80123456780", "Test", "Ana", date(1950, 1, 1), "+33612345600",
                                          None, "fr", clock.today()))
        person = identity.find_person_by_nir(nir)
        for i in range(60):
            outbox.queue(person, f"Relais: message {i}", f"{100000000 + i}")
        db.session.commit()
    _at_once(workers, lambda: outbox.send_due(limit=1000))
    assert sorted(m["Body"] for m in twilio.sent) == sorted(f"Relais: message {i}" for i in range(60))
    with app.app_context():
        statuses = Counter(db.session.scalars(db.select(OutboxMessage.status)).all())
        assert statuses == {"sent": 60}
        assert db.session.scalar(db.select(db.func.count(Person.id))) == 1


def test_two_first_entries_of_an_empty_audit_chain_at_once_both_land(app, workers):
    from app import audit
    from app.models import AuditChain, AuditEntry
    with app.app_context():
        db.session.execute(db.delete(AuditEntry))
        db.session.execute(db.delete(AuditChain))
        db.session.commit()
    people = iter([("152036444500026", "80123456780"), ("152036444500125", "80123456781")])
    lock = threading.Lock()

    def enrol_one():
        with lock:
            nir, serial = next(people)
        identity.enrol(identity.Enrolment(nir, serial, "Test", "Ana", date(1950, 1, 1), None, None, "fr",
                                          clock.today()))
    _at_once(workers, enrol_one)
    with app.app_context():
        assert audit.verify() == (True, 2, None)
