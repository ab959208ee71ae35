"""Outbox workers side by side: each takes its own batch, a message whose worker died or stalled is never sent
twice, a worker that lost its claim records nothing, and on PostgreSQL a commit wakes the listening workers.

The workers here are real: `flask --app app outbox work` processes (killed with SIGKILL where the story says so)
or threads of this process, sending through the real twilio client to the fake Twilio of tests/fake_twilio.py.
"""
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from app import clock, outbox
from app.models import OutboxMessage, Person, db
from tests.conftest import TEST_CONFIG

ROOT = Path(__file__).resolve().parents[2]
POSTGRES = "postgresql" in (os.environ.get("DATABASE_URL") or "")
postgres_only = pytest.mark.skipif(not POSTGRES, reason="SKIP LOCKED and LISTEN/NOTIFY are PostgreSQL's "
                                                        "(run by make test-postgres)")


def queue(app, holder, texts, secret=None):
    """Queue one SMS per text to the holder, in one transaction; returns their ids."""
    with app.app_context():
        person = db.session.get(Person, holder.person_id)
        messages = [outbox.queue(person, text, f"{700000000 + i}", secret=secret) for i, text in enumerate(texts)]
        db.session.commit()
        return [m.id for m in messages]


def row(app, message_id):
    with app.app_context():
        msg = db.session.get(OutboxMessage, message_id)
        db.session.expunge(msg)
        return msg


class Worker:
    """`flask --app app outbox work ARGS` in its own process, on the tests' database and fake Twilio."""

    def __init__(self, app, twilio, log: Path, *args: str):
        c = app.config
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "DATABASE_URL": c["SQLALCHEMY_DATABASE_URI"],
               "SECRET_KEY": TEST_CONFIG["SECRET_KEY"], "LOOKUP_KEY": TEST_CONFIG["LOOKUP_KEY"],
               "TWILIO_ACCOUNT_SID": c["TWILIO_ACCOUNT_SID"], "TWILIO_AUTH_TOKEN": c["TWILIO_AUTH_TOKEN"],
               "TWILIO_FROM_NUMBER": c["TWILIO_FROM_NUMBER"], "TWILIO_API_URL": twilio.url,
               "PUBLIC_BASE_URL": c["PUBLIC_BASE_URL"]}
        self.log = log
        with open(log, "w") as out:
            self.process = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "outbox", "work", *args],
                                            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                            start_new_session=True)

    @property
    def output(self) -> str:
        return self.log.read_text()

    def wait_for(self, text: str, seconds: float = 90) -> None:
        deadline = time.monotonic() + seconds
        while text not in self.output:
            assert self.process.poll() is None, f"the worker stopped:\n{self.output}"
            assert time.monotonic() < deadline, f"no {text!r} from the worker:\n{self.output}"
            time.sleep(0.05)

    def kill(self) -> None:
        """kill -9: no handler runs, nothing is recorded."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def workers():
    started: list[Worker] = []
    yield started
    for w in started:
        w.stop()


def wait_until(condition, seconds: float) -> float:
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < seconds, "timed out"
        time.sleep(0.01)
    return time.monotonic() - start


# --- a message whose lease ran out is never sent twice ---------------------------------------------------------

def test_a_worker_killed_after_twilio_took_the_message_leaves_it_to_the_next_without_a_second_sms(
        app, enrol, twilio, workers, tmp_path):
    holder = enrol(days_ago=60)
    [message_id] = queue(app, holder, ["Relais : votre code est 482913. Ref 700 000 000"], secret="482913")
    twilio.stall(accepted=True)  # Twilio has the message; its answer never comes back
    worker = Worker(app, twilio, tmp_path / "worker.log", "--once")
    workers.append(worker)
    assert twilio.stalled.wait(90), worker.output
    worker.kill()
    twilio.release()
    left = row(app, message_id)
    assert (left.status, left.provider_id, left.attempts) == ("sending", None, 1)  # what the dead worker left
    assert left.sealed_body  # the code still waits sealed: the SMS is not known to have gone
    clock.freeze(left.next_attempt_at + timedelta(seconds=1))  # its lease is over: 901 s later
    with app.app_context():
        assert outbox.send_due() == 1
    assert len(twilio.sent) == 1  # no second SMS
    assert [(q["To"], q["From"]) for q in twilio.lookups] == [(holder.phone, "+33900003422")]
    done = row(app, message_id)
    assert (done.status, done.provider_id, done.attempts) == ("sent", twilio.sent[0]["sid"], 2)
    assert done.sealed_body is None and "482913" not in done.body  # forgotten once known to be at Twilio
    assert done.claim_token != left.claim_token
    with app.app_context():
        clock.freeze(clock.now() + timedelta(days=1))
        assert outbox.send_due() == 0
    assert len(twilio.sent) == 1


def test_a_worker_killed_before_twilio_got_the_message_leaves_it_to_the_next_which_sends_it_once(
        app, enrol, twilio, workers, tmp_path):
    holder = enrol(days_ago=60)
    [message_id] = queue(app, holder, ["Relais : vos alertes sont coupées. Ref 700 000 000"])
    twilio.stall(accepted=False)  # the carrier stalls before it has the message
    worker = Worker(app, twilio, tmp_path / "worker.log", "--once")
    workers.append(worker)
    assert twilio.stalled.wait(90), worker.output
    worker.kill()
    twilio.release()
    assert twilio.sent == []
    left = row(app, message_id)
    assert left.status == "sending"
    clock.freeze(left.next_attempt_at + timedelta(seconds=1))
    with app.app_context():
        assert outbox.send_due() == 1
        assert outbox.send_due() == 0
    assert [m["Body"] for m in twilio.sent] == ["Relais : vos alertes sont coupées. Ref 700 000 000"]
    assert len(twilio.lookups) == 1  # it asked Twilio first, found nothing, then sent
    done = row(app, message_id)
    assert (done.status, done.provider_id) == ("sent", twilio.sent[0]["sid"])


def test_an_answer_that_never_came_is_looked_up_at_twilio_before_the_message_is_tried_again(app, enrol, twilio):
    holder = enrol(days_ago=60)
    [message_id] = queue(app, holder, ["Relais : votre espace est fermé. Ref 700 000 000"])
    saved = app.config["TWILIO_TIMEOUT"]
    app.config["TWILIO_TIMEOUT"] = 1
    try:
        twilio.stall(accepted=True)  # Twilio takes it and answers too late: the worker gives up after 1 s
        with app.app_context():
            assert outbox.send_due() == 0
        twilio.release()
    finally:
        app.config["TWILIO_TIMEOUT"] = saved
    waiting = row(app, message_id)
    assert (waiting.status, waiting.attempts, waiting.last_error) == ("queued", 1, "ReadTimeout")
    assert waiting.claim_token  # in doubt: the next try asks first
    clock.freeze(waiting.next_attempt_at + timedelta(seconds=1))
    with app.app_context():
        assert outbox.send_due() == 1
    assert len(twilio.sent) == 1 and len(twilio.lookups) == 1
    assert row(app, message_id).provider_id == twilio.sent[0]["sid"]


def test_while_twilio_is_unreachable_a_message_in_doubt_waits_and_is_never_sent_blind(app, enrol, twilio):
    holder = enrol(days_ago=60)
    [message_id] = queue(app, holder, ["Relais : rappel. Ref 700 000 000"])
    with app.app_context():
        db.session.execute(db.update(OutboxMessage).values(status="sending", claim_token="f" * 32,
                                                           next_attempt_at=clock.now()))  # a dead worker's
        db.session.commit()
    twilio.stop()
    with app.app_context():
        assert outbox.send_due() == 0
    waiting = row(app, message_id)
    assert waiting.status == "queued" and waiting.claim_token  # still in doubt
    twilio.start()
    clock.freeze(waiting.next_attempt_at + timedelta(seconds=1))
    with app.app_context():
        assert outbox.send_due() == 1
    assert len(twilio.sent) == 1 and len(twilio.lookups) == 1


def test_what_is_asked_of_twilio_leaves_no_number_and_no_text_in_the_logs(app, enrol, twilio, caplog):
    """The Twilio library logs every request it makes at INFO, a look-up's query (To=+33…) included: the log of
    a worker must not keep the number (nor the text, which may carry a code)."""
    holder = enrol(days_ago=60)
    [message_id] = queue(app, holder, ["Relais : votre code est 482913. Ref 700 000 000"])
    with app.app_context():
        number = db.session.get(Person, holder.person_id).mobile
        db.session.execute(db.update(OutboxMessage).values(status="sending", claim_token="f" * 32,
                                                           next_attempt_at=clock.now()))  # in doubt: looked up
        db.session.commit()
    caplog.set_level("DEBUG")
    with app.app_context():
        assert outbox.send_due() == 1
    assert len(twilio.lookups) == 1 and len(twilio.sent) == 1
    logged = "\n".join(r.getMessage() for r in caplog.records)
    digits = number.lstrip("+")
    assert digits[-9:] not in logged.replace("%2B", "+").replace(" ", ""), logged
    assert "482913" not in logged


def test_a_message_gone_keeps_its_number_only_masked(app, enrol, twilio):
    """Once handed over, the outbox row keeps the number as the logs do (+33*******78), not in clear: it has
    served (the person's own number stays on their record, for the next message)."""
    holder = enrol(days_ago=60)
    [message_id] = queue(app, holder, ["Relais : rappel. Ref 700 000 000"])
    with app.app_context():
        number = db.session.get(Person, holder.person_id).mobile
        assert row(app, message_id).recipient == number  # while it waits, the worker needs it
        assert outbox.send_due() == 1
    gone = row(app, message_id)
    assert gone.status == "sent" and twilio.sent[0]["To"] == number
    assert gone.recipient == outbox.mask(number) and number[3:-2] not in gone.recipient


# --- fenced: a worker that lost its claim records nothing ------------------------------------------------------

def test_a_stale_workers_late_answer_changes_nothing(app, enrol, twilio):
    holder = enrol(days_ago=60)
    [message_id] = queue(app, holder, ["Relais : vos réglages d'urgence ont changé. Ref 700 000 000"])
    clock.freeze(clock.now())
    twilio.stall(accepted=True)
    stale = {}

    def stalled_worker():
        with app.app_context():
            stale["sent"] = outbox.send_due()
    a = threading.Thread(target=stalled_worker)
    a.start()
    try:
        assert twilio.stalled.wait(30)
        held = row(app, message_id)
        clock.freeze(held.next_attempt_at + timedelta(seconds=1))  # A is still waiting for Twilio; its lease ends
        with app.app_context():
            assert outbox.send_due() == 1  # B takes it over, finds it at Twilio, records it sent
        taken = row(app, message_id)
        assert taken.claim_token != held.claim_token
    finally:
        twilio.release(503)  # A's answer comes at last: an error, after which A would try it again
        a.join(30)
    assert stale["sent"] == 0
    after = row(app, message_id)
    columns = [c.key for c in OutboxMessage.__mapper__.column_attrs]
    assert {k: getattr(after, k) for k in columns} == {k: getattr(taken, k) for k in columns}  # A changed nothing
    assert (after.status, after.provider_id) == ("sent", twilio.sent[0]["sid"])
    clock.freeze(clock.now() + timedelta(days=1))
    with app.app_context():
        assert outbox.send_due() == 0
    assert len(twilio.sent) == 1


def test_a_worker_whose_lease_is_nearly_over_gives_back_what_it_has_not_tried_under_it(app, enrol, twilio):
    holder = enrol(days_ago=60)
    first, second = queue(app, holder, ["Relais : un. Ref 700 000 000", "Relais : deux. Ref 700 000 001"])
    start = clock.now()
    clock.freeze(start)
    twilio.stall(accepted=True)
    done = {}

    def slow_worker():
        with app.app_context():
            done["sent"] = outbox.send_due()
    a = threading.Thread(target=slow_worker)
    a.start()
    try:
        assert twilio.stalled.wait(30)
        clock.freeze(row(app, first).next_attempt_at - timedelta(seconds=30))  # the carrier took 14 min 30 s
    finally:
        twilio.release()
        a.join(30)
    one, two = row(app, first), row(app, second)
    assert one.status == "sent" and one.claimed_at == start  # its lease still held for the first one
    # the second was given back untried, then taken again under a fresh lease (here by the same worker)
    assert (two.status, two.attempts, two.claimed_at) == ("sent", 1, clock.now()) and two.claim_token != one.claim_token
    assert done["sent"] == 2 and twilio.lookups == []  # given back untried: not in doubt
    assert [m["Body"] for m in twilio.sent] == ["Relais : un. Ref 700 000 000", "Relais : deux. Ref 700 000 001"]


def test_a_claim_that_is_not_this_workers_any_more_is_not_recorded(app, enrol):
    holder = enrol(days_ago=60)
    [message_id] = queue(app, holder, ["Relais : test. Ref 700 000 000"])
    with app.app_context():
        [mine] = outbox._claim()
        db.session.execute(db.update(OutboxMessage).values(claim_token="0" * 32))  # taken over meanwhile
        db.session.commit()
        assert outbox._fenced(mine, status="sent") is False
        db.session.commit()
    assert row(app, message_id).status == "sending"


# --- PostgreSQL: SKIP LOCKED batches, three processes, NOTIFY ------------------------------------------------

@postgres_only
def test_a_claim_takes_the_rows_nobody_holds_without_waiting(app, enrol):
    holder = enrol(days_ago=60)
    ids = queue(app, holder, [f"Relais : message {i}. Ref {i}" for i in range(60)])
    with app.app_context():
        with db.engine.connect() as other:  # another worker in the middle of its claim holds the 50 oldest
            other.execute(db.text("SELECT id FROM outbox_message ORDER BY id LIMIT 50 FOR UPDATE"))
            db.session.execute(db.text("SET LOCAL lock_timeout = '5s'"))  # were it to wait, fail instead
            start = time.monotonic()
            claims = outbox._claim()
            assert time.monotonic() - start < 2
            assert [c.id for c in claims] == ids[50:]
            other.rollback()
        assert [c.id for c in outbox._claim()] == ids[:50]
        assert outbox._claim() == []


@postgres_only
def test_queue_wakes_the_workers_once_its_transaction_has_committed_and_not_before(app, enrol):
    holder = enrol(days_ago=60)
    with app.app_context():
        listener = outbox._listen()
        try:
            person = db.session.get(Person, holder.person_id)
            outbox.queue(person, "Relais : un. Ref 1", "1")
            outbox.queue(person, "Relais : deux. Ref 2", "2")
            assert list(listener.notifies(timeout=0.3)) == []  # not before the commit
            db.session.rollback()
            assert list(listener.notifies(timeout=0.3)) == []  # nor for a transaction rolled back
            outbox.queue(person, "Relais : trois. Ref 3", "3")
            outbox.queue(person, "Relais : quatre. Ref 4", "4")
            db.session.commit()
            woken = list(listener.notifies(timeout=5, stop_after=1)) + list(listener.notifies(timeout=0.3))
            assert [n.channel for n in woken] == [outbox.CHANNEL]  # once for the transaction
            db.session.execute(db.select(Person.id))
            db.session.commit()
            assert list(listener.notifies(timeout=0.3)) == []  # a later transaction that queued nothing: no one
        finally:
            listener.close()


@postgres_only
def test_a_listening_worker_sends_a_message_as_soon_as_it_is_committed(app, enrol, twilio, workers, tmp_path):
    holder = enrol(days_ago=60)
    worker = Worker(app, twilio, tmp_path / "worker.log", "--interval", "60")  # it looks by itself once a minute
    workers.append(worker)
    worker.wait_for("listening on relais_outbox")
    queue(app, holder, ["Relais : premier. Ref 700 000 000"])
    wait_until(lambda: len(twilio.sent) == 1, 30)
    time.sleep(1)  # the worker is back to waiting
    queue(app, holder, ["Relais : second. Ref 700 000 001"])
    waited = wait_until(lambda: len(twilio.sent) == 2, 30)
    print(f"\nsent {waited * 1000:.0f} ms after the commit (the worker's own look is every 60 s)")
    assert waited < 10  # woken by the commit, not by its look at the queue
    assert [m["Body"] for m in twilio.sent] == ["Relais : premier. Ref 700 000 000", "Relais : second. Ref 700 000 001"]


@postgres_only
def test_three_worker_processes_send_a_thousand_messages_each_exactly_once_and_share_them(
        app, enrol, twilio, workers, tmp_path):
    holder = enrol(days_ago=60)
    for i in range(3):
        workers.append(Worker(app, twilio, tmp_path / f"worker-{i}.log"))
    for w in workers:
        w.wait_for("listening on relais_outbox")
    texts = [f"Relais : message {i}. Ref {700000000 + i}" for i in range(1000)]
    start = time.monotonic()
    queue(app, holder, texts)
    with app.app_context():
        def drained():
            return not db.session.scalar(db.select(db.func.count(OutboxMessage.id)).where(
                OutboxMessage.status.in_(("queued", "sending"))))
        wait_until(drained, 180)
    elapsed = time.monotonic() - start
    bodies = Counter(m["Body"] for m in twilio.sent)
    assert sorted(bodies) == sorted(texts) and set(bodies.values()) == {1}  # each sent, none twice
    with app.app_context():
        rows = db.session.execute(db.select(OutboxMessage.status, OutboxMessage.claim_token,
                                            OutboxMessage.provider_id)).all()
    assert {r.status for r in rows} == {"sent"}
    assert sorted(r.provider_id for r in rows) == sorted(m["sid"] for m in twilio.sent)
    by_token = Counter(r.claim_token for r in rows)
    per_worker = []
    for w in workers:  # each worker logs the token of each batch it claimed
        tokens = set(re.findall(r"outbox claim ([0-9a-f]{32}): \d+ message", w.output))
        per_worker.append(sum(by_token[t] for t in tokens))
    print(f"\n1000 messages by 3 workers in {elapsed:.1f} s ({1000 / elapsed:.0f}/s), per worker {per_worker}")
    assert sum(per_worker) == 1000 and all(n > 0 for n in per_worker), per_worker
