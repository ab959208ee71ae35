"""Helpers for the phone-call tests: calls in each language, what the server keeps, what the script says.

French wording is still being translated, so French calls are checked through the catalog itself (`said`
renders a sentence of the script in the call's language) or through the step the server is at, never
through hard-coded French text.
"""
import dataclasses
import re
from datetime import timedelta

import pytest
from flask_babel import force_locale

from app import clock
from app.models import ActionRecord, CallState, HealthSpace, OutboxMessage, db
from app.services import access, identity
from tests.conftest import Caller, Holder

# A reference number spoken digit by digit: "1 2 3, 4 5 6, 7 8 9".
REFERENCE = re.compile(r"(\d[ ,]+){8}\d")
# A menu choice, in French (once translated) or in English.
CHOICE = re.compile(r"^(Pour .+, tapez (\d|étoile|dièse)\.|To .+, press (\d|star|hash)\.)$")
CHOICE_EN = re.compile(r"^To .+, press (\d|star|hash)\.$")
CHOICE_KEY = re.compile(r"(?:press|tapez) (\d|star|hash|étoile|dièse)\.$")


def open_call(call, language: str, **kw) -> Caller:
    """A call at the main menu: French by waiting at the greeting, English by pressing 9."""
    c = call(**kw).start()
    return c.press("9") if language == "en" else c.silence()


@pytest.fixture
def en(call):
    """A new English call, at the main menu."""
    return lambda **kw: open_call(call, "en", **kw)


@pytest.fixture
def fr(call):
    """A new French call, at the main menu."""
    return lambda **kw: open_call(call, "fr", **kw)


def said(app, language: str, sentence):
    """What the script says in this language: `sentence` is a callable using the catalogs (gettext)."""
    with app.test_request_context(), force_locale(language):
        return sentence()


def gettext_in(app, language: str, msgid: str, **values) -> str:
    from flask_babel import gettext
    return said(app, language, lambda: gettext(msgid, **values))


def call_state(app, caller: Caller) -> CallState | None:
    with app.app_context():
        row = db.session.get(CallState, caller.sid)
        if row is not None:
            db.session.expunge(row)
        return row


def step(app, caller: Caller) -> str:
    """The step of the call script the server is at for this call."""
    return call_state(app, caller).step


def space(app, holder: Holder) -> HealthSpace:
    with app.app_context():
        row = db.session.get(HealthSpace, holder.person_id)
        db.session.expunge(row)
        return row


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(model))


def action_records(app, holder: Holder) -> list[ActionRecord]:
    with app.app_context():
        rows = list(db.session.scalars(db.select(ActionRecord).where(ActionRecord.subject_id == holder.person_id)
                                       .order_by(ActionRecord.id)))
        for r in rows:
            db.session.expunge(r)
        return rows


def spoken_reference(caller: Caller) -> str:
    """The 9 digits of the reference number said in the last answer."""
    match = REFERENCE.search(caller.text)
    assert match, caller.last
    return re.sub(r"\D", "", match.group(0))


def with_new_code(app, holder: Holder) -> Holder:
    """The same person with a fresh provisional code (the previous one is single use)."""
    with app.app_context():
        code = identity._issue_code(identity.find_person_by_nir(holder.nir), clock.today())
        db.session.commit()
    return dataclasses.replace(holder, code=code)


def record_accesses(app, holder: Holder, n: int, names=None):
    """n accesses to the holder's space, one a day, the newest (Dr Pro 0) today, the first one an emergency."""
    names = names or [f"Dr Pro {i}" for i in range(n)]
    with app.app_context():
        now = clock.now()
        for i in range(n):
            access.record_access(access.AccessAttempt(
                nir=holder.nir, occurred_at=now - timedelta(days=i, hours=1), professional_name=names[i],
                profession="Cardiologue", organisation="CHU de Nantes",
                mode="break_glass" if i == 0 else "normal", section="Ordonnances",
                reason="Patient inconscient" if i == 0 else None, event_id=f"ivr-{holder.person_id}-{i}"), "cli")


def outbox(app, **where) -> list[OutboxMessage]:
    with app.app_context():
        query = db.select(OutboxMessage).order_by(OutboxMessage.id)
        for column, value in where.items():
            query = query.where(getattr(OutboxMessage, column) == value)
        rows = list(db.session.scalars(query))
        for r in rows:
            db.session.expunge(r)
        return rows


def choices(sentences: list[str]) -> list[str]:
    """The keys offered by the 'To ..., press N.' / 'Pour ..., tapez N.' sentences of an answer."""
    return [m.group(1) for s in sentences if (m := CHOICE_KEY.search(s))]


@pytest.fixture
def sent_sms(app, enrol, twilio):
    """sent_sms() -> an SMS handed to (fake) Twilio, with the MessageSid Twilio gave it as provider_id."""
    def make() -> OutboxMessage:
        from app import outbox as app_outbox
        holder = enrol(days_ago=60)
        record_accesses(app, holder, 1)  # the holder is told of the access by SMS
        with app.app_context():
            assert app_outbox.send_due() == 1
        [message] = outbox(app, person_id=holder.person_id)
        assert message.status == "sent" and message.provider_id.startswith("SM")
        return message
    return make
