"""`jobs run` on two machines at once over a few hundred people, in small chunks so that the two interleave:
every reminder, creation, purge, code expiry and mandate end is done, receipted, told and audited exactly once,
and neither machine fails or waits for ever.

SQLite has no row locks and one writer at a time, so this runs on PostgreSQL only (`make test-postgres`).
"""
import os
import threading
from collections import Counter
from datetime import date, timedelta

import pytest

from app import clock, create_app
from app.models import ActionRecord, AuditEntry, HealthSpace, Mandate, OutboxMessage, Person, ProvisionalCode, db
from app.services import batch, spaces
from tests.conftest import TEST_CONFIG

pytestmark = pytest.mark.skipif("postgresql" not in (os.environ.get("DATABASE_URL") or ""),
                                reason="row locking across machines needs PostgreSQL (run by make test-postgres)")

IN_14, IN_3, ENDED, CLOSED, MANDATES = 120, 100, 120, 40, 40


@pytest.fixture
def machines(app):
    """Two more app objects on the same database, as two machines running `flask jobs run` would have."""
    apps = [create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]})
            for _ in range(2)]
    yield apps
    for a in apps:
        with a.app_context():
            db.session.remove()
            db.engine.dispose()


def _people(app) -> dict[str, list[int]]:
    """A few hundred people in bulk: windows ending in 14 days, in 3 days, ended yesterday; closed spaces whose
    deletion is due; guardianships whose last day was yesterday."""
    today, now = clock.today(), clock.now()
    window = app.config["OPPOSITION_WINDOW_DAYS"]
    groups, people, spaces_, codes = {}, [], [], []
    ends = {"in_14": (IN_14, today + timedelta(days=14)), "in_3": (IN_3, today + timedelta(days=3)),
            "ended": (ENDED, today - timedelta(days=1)), "closed": (CLOSED, today - timedelta(days=300))}
    with app.app_context():
        first = (db.session.scalar(db.select(db.func.max(Person.id))) or 0) + 1
        i = first
        for group, (n, window_end) in ends.items():
            groups[group] = list(range(i, i + n))
            for pid in groups[group]:
                overseas = pid % 10 == 0  # their day is Paris's at this hour: 11:00 UTC
                people.append({"id": pid, "nir_lookup": f"jobs-at-once-{pid}", "vitale_hash": "x",
                               "family_name": "Martin", "given_name": "Jeanne", "birth_date": date(1950, 1, 1),
                               "phone": f"+3361{pid:07d}" if pid % 7 else None,
                               "email": None if pid % 7 else f"p{pid}@example.org",
                               "language": "en" if pid % 5 == 0 else "fr",
                               "time_zone": "America/Martinique" if overseas else None,
                               "postal_code": "97200" if overseas else "75011", "created_at": now})
                letter = window_end - timedelta(days=window)
                closed = group == "closed"
                spaces_.append({"person_id": pid, "state": "closed" if closed else "notified",
                                "letter_sent_on": letter, "window_ends_on": window_end,
                                "closed_at": now - timedelta(days=100) if closed else None,
                                "archive_until": today + timedelta(days=3000) if closed else None,
                                "deletion_due_on": today if closed else None})
                codes.append({"person_id": pid, "code_hash": "x", "keypad_hash": "x", "issued_at": now,
                              "expires_on": letter + timedelta(days=app.config["PROVISIONAL_CODE_VALID_DAYS"]),
                              "used_at": now if closed else None})
            i += n
        db.session.execute(db.insert(Person.__table__), people)
        db.session.execute(db.insert(HealthSpace.__table__), spaces_)
        db.session.execute(db.insert(ProvisionalCode.__table__), codes)
        db.session.execute(db.insert(Mandate.__table__), [
            {"representative_id": rep, "represented_id": sub, "kind": "tutelle",
             "valid_from": today - timedelta(days=90), "valid_until": today - timedelta(days=1), "created_at": now}
            for rep, sub in zip(groups["in_14"][:MANDATES], groups["ended"][:MANDATES])])
        db.session.execute(db.text("SELECT setval(pg_get_serial_sequence('person', 'id'), :n)"), {"n": i})
        db.session.commit()
    return groups


def test_two_machines_running_the_jobs_at_once_do_everything_exactly_once(app, machines, monkeypatch):
    clock.freeze(clock.now().replace(hour=11, minute=0))
    groups = _people(app)
    monkeypatch.setattr(batch, "CHUNK", 15)  # many chunks, so the two machines take turns and collide
    monkeypatch.setattr("app.outbox.send_due", lambda limit=100: 0)  # sending is the outbox's test
    results, errors, start = [], [], threading.Barrier(2)

    def machine(a):
        try:
            with a.app_context():
                start.wait()
                results.append(spaces.run_jobs(clock.today()))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
    threads = [threading.Thread(target=machine, args=(a,)) for a in machines]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    assert len(results) == 2, "a machine did not finish"
    done = Counter()
    for counts in results:
        done.update(counts)
    # what both machines say they did adds up to what was due: nobody counted twice
    assert (done["reminders"], done["created"], done["purged"], done["codes_voided"], done["mandates_ended"]) == \
        (IN_14 + 2 * IN_3, ENDED, CLOSED, ENDED, MANDATES)
    with app.app_context():
        keys = db.session.scalars(db.select(ActionRecord.idempotency_key).where(
            ActionRecord.action == "reminder.sent")).all()
        assert sorted(keys) == sorted([f"reminder:{p}:14" for p in groups["in_14"] + groups["in_3"]]
                                      + [f"reminder:{p}:3" for p in groups["in_3"]])
        receipts = db.session.execute(db.select(ActionRecord.reference, ActionRecord.subject_id, ActionRecord.action)
                                      ).all()
        assert len({r.reference for r in receipts}) == len(receipts)  # every reference its own
        told = Counter(db.session.scalars(db.select(OutboxMessage.reference)).all())
        for r in receipts:  # each reminder, and each deletion asked for, told once
            assert told[r.reference] == 1, r
        audited = Counter((e.subject, e.action) for e in db.session.scalars(db.select(AuditEntry)))
        for pid in groups["ended"]:
            assert audited[(f"person:{pid}", "space.created_automatically")] == 1
            assert db.session.get(HealthSpace, pid).state == "active"
        for pid in groups["in_14"] + groups["in_3"]:
            assert db.session.get(HealthSpace, pid).state == "notified"
            assert audited[(f"person:{pid}", "reminder.sent")] == (2 if pid in groups["in_3"] else 1)
        for pid in groups["closed"]:
            assert db.session.get(HealthSpace, pid).state == "purged"
            assert audited[(f"person:{pid}", "space.purged")] == 1
        assert sum(n for (subject, action), n in audited.items() if action == "mandate.ended") == MANDATES
        ended = db.session.scalars(db.select(Mandate)).all()
        assert all(m.end_reason == "expired" for m in ended)
        endings = Counter(told[ref] for ref in told if ref not in {r.reference for r in receipts})
        assert endings == {2: MANDATES}  # the guardian and the adult they represented, once each
        assert sum(json_count(e.details) for e in db.session.scalars(db.select(AuditEntry).where(
            AuditEntry.action == "codes.expired"))) == ENDED
        assert db.session.scalar(db.select(db.func.count(ProvisionalCode.id)).where(
            ProvisionalCode.voided_at.is_not(None))) == ENDED


def json_count(details: str) -> int:
    import json
    return json.loads(details)["count"]


def test_a_space_held_by_a_persons_own_action_is_not_skipped_but_waited_for(app, machines, monkeypatch):
    """The first pass skips locked rows (the other machine's chunk, or a person's action under way); the last
    pass waits for what is still due, so the person held up is reminded, and their space created, in this run."""
    clock.freeze(clock.now().replace(hour=11, minute=0))
    groups = _people(app)
    monkeypatch.setattr("app.outbox.send_due", lambda limit=100: 0)
    held = [groups["in_14"][5], groups["ended"][7]]
    locked, release = threading.Event(), threading.Event()

    def action_under_way():  # as act_once holds a space while it writes
        with machines[0].app_context():
            for pid in held:
                db.session.get(HealthSpace, pid, with_for_update=True)
            locked.set()
            release.wait(30)
            db.session.commit()
    holder = threading.Thread(target=action_under_way)
    holder.start()
    assert locked.wait(30)
    threading.Timer(1.0, release.set).start()  # the action ends while the job runs
    with app.app_context():
        counts = spaces.run_jobs(clock.today())
    holder.join(30)
    assert (counts["reminders"], counts["created"]) == (IN_14 + 2 * IN_3, ENDED)
    with app.app_context():
        assert db.session.scalar(db.select(ActionRecord.id).where(
            ActionRecord.idempotency_key == f"reminder:{held[0]}:14")) is not None
        assert db.session.get(HealthSpace, held[1]).state == "active"
