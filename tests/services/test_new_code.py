"""identity.request_new_code: a lost or expired letter code is sent again, never shown (SPEC §2)."""
import re
from datetime import date, datetime, timedelta

import pytest

from app import clock
from app.domain.errors import IdentificationFailed, IdentificationLocked
from app.domain.identifiers import normalize_provisional_code
from app.models import OutboxMessage, ProvisionalCode, db
from app.outbox import text_of
from app.services import Actor, identity, spaces

NOW = datetime(2026, 11, 24, 9, 0)
CODE_IN_TEXT = re.compile(r"\b([A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4})\b")


@pytest.fixture(autouse=True)
def frozen():
    clock.freeze(NOW)


def ask(h, client="client-1", **overrides):
    a = {"nir": h.nir, "vitale_serial": h.vitale_serial, "birth_date": h.birth_date, **overrides}
    return identity.request_new_code(a["nir"], a["vitale_serial"], a["birth_date"], client=client, channel="web")


def identify(h, code, client="client-1"):
    return identity.identify(h.nir, h.vitale_serial, h.birth_date, code, client=client, channel="web")


def outbox():
    return db.session.scalars(db.select(OutboxMessage).order_by(OutboxMessage.id)).all()


def code_in(message: OutboxMessage) -> str:
    found = CODE_IN_TEXT.findall(text_of(message))
    assert len(found) == 1, message.body
    return normalize_provisional_code(found[0])


def enrol_with(app, nir: str, phone=None, email=None) -> identity.Enrolment:
    e = identity.Enrolment(nir=nir, vitale_serial="80555666777", family_name="Leroy", given_name="Paul",
                           birth_date=date(1958, 1, 30), phone=phone, email=email, language="en",
                           letter_sent_on=clock.today() - timedelta(days=5))
    identity.enrol(e)
    return e


def test_a_new_code_goes_by_sms_to_the_registered_mobile_and_replaces_the_old(ctx, enrol):
    h = enrol(phone="+33612345678")
    assert ask(h) is None
    [msg] = outbox()
    assert (msg.channel, msg.recipient, msg.sensitive, msg.status) == ("sms", "+33612345678", True, "queued")
    assert re.fullmatch(r"\d{9}", msg.reference)
    new = code_in(msg)
    assert new != h.code
    with pytest.raises(IdentificationFailed):
        identify(h, h.code)  # the letter's code is void
    assert identify(h, new) == h.person_id


def test_by_email_when_only_an_email_and_by_letter_when_neither(ctx, app):
    enrol_with(app, "158016912345639", email="paul@example.org")
    enrol_with(app, "213057505601783")
    for nir in ("158016912345639", "213057505601783"):
        identity.request_new_code(nir, "80555666777", date(1958, 1, 30), client="c", channel="voice")
    mail, letter = outbox()
    assert (mail.channel, mail.recipient, mail.sensitive) == ("email", "paul@example.org", True)
    assert (letter.channel, letter.recipient, letter.sensitive) == ("letter", None, True)
    assert code_in(mail) != code_in(letter)


def test_the_new_code_is_nowhere_but_in_the_message(ctx, enrol):
    h = enrol()
    ask(h)
    [msg] = outbox()
    code = code_in(msg)
    forms = {code, f"{code[:4]}-{code[4:8]}-{code[8:]}", code.lower()}
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(db.select(table)).mappings():
            for column, value in row.items():
                if table.name == "outbox_message" and column == "body":
                    continue
                for form in forms:
                    assert form not in str(value), (table.name, column)
    # stored as keyed hashes only (docs/secrets.md)
    codes = db.session.scalars(db.select(ProvisionalCode).where(ProvisionalCode.person_id == h.person_id)).all()
    assert all(c.code_hash.startswith("hmac-sha256$") and c.keypad_hash.startswith("hmac-sha256$") for c in codes)


def test_the_new_code_is_valid_for_the_set_number_of_days_from_today(ctx, enrol, app):
    h = enrol(days_ago=60)  # the letter's own code expired long ago
    ask(h)
    [msg] = outbox()
    code = code_in(msg)
    last_day = clock.today() + timedelta(days=app.config["PROVISIONAL_CODE_VALID_DAYS"])
    assert last_day.strftime("%d/%m/%Y") in msg.body
    clock.freeze(datetime.combine(last_day + timedelta(days=1), NOW.time()))
    with pytest.raises(IdentificationFailed):
        identify(h, code)
    clock.freeze(datetime.combine(last_day, NOW.time()))
    assert identify(h, code) == h.person_id


@pytest.mark.parametrize("wrong", [{"vitale_serial": "80999999999"}, {"birth_date": date(1950, 3, 26)},
                                   {"nir": "213057505601783"}])
def test_wrong_details_queue_nothing_and_say_the_same(ctx, enrol, wrong):
    h = enrol()
    assert ask(h, **wrong) is None
    assert outbox() == []
    assert identify(h, h.code) == h.person_id  # the letter's code still works


def test_wrong_details_count_as_failures(ctx, enrol):
    h = enrol()
    for _ in range(5):
        ask(h, vitale_serial="80999999999")
    assert outbox() == []
    with pytest.raises(IdentificationLocked):
        identify(h, h.code, client="another-client")


def test_an_opposed_space_gets_no_new_code(ctx, enrol):
    h = enrol()
    spaces.oppose(Actor(h.person_id, "sms"), h.person_id)
    before = len(outbox())
    assert ask(h) is None
    assert len(outbox()) == before
