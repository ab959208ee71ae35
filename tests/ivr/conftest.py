"""Helpers for the phone-call tests: calls in each language, what the server keeps, what the script says.

French wording is still being translated, so French calls are checked through the catalog itself (`said`
renders a sentence of the script in the call's language) or through the step the server is at, never
through hard-coded French text.
"""
import dataclasses
import re
from datetime import date, timedelta

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
    """A call at the main menu: French at once (the greeting is the menu's first prompt), English by pressing 9."""
    c = call(**kw).start()
    return c.press("9") if language == "en" else c


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


def prompt_of(app, caller: Caller) -> tuple[str, list[str]]:
    """The prompt of the step the call is at, as its own `say` gives it: what comes before it (a lead-in, the
    answer to the last choice) and what it reads out (accesses, helpers: prompts.content) are left out."""
    from ivr import prompts, script
    from ivr.call import Call
    row = call_state(app, caller)
    with app.test_request_context(), force_locale(row.language):
        c = Call(caller.sid, row.language, dict(row.data or {}), row.seq, caller.caller)
        said = [s for s in script.STEPS[row.step].say(c) if isinstance(s, str)]
        entries = set(prompts.content(row.step, c))
        said = [s for s in said if s not in entries]
    return row.step, said


def snapshot(app, c: Caller):
    """(step, what the last answer said, its <Gather>, the step's own prompt)."""
    name, prompt = prompt_of(app, c) if not c.ended else (step(app, c), [])
    return name, list(c.last), dict(c.gather), prompt


def walk_every_menu(app, c: Caller, holder: Holder, helper: Holder):
    """One call through every menu and number prompt of the script; a snapshot after each answer."""
    from app.domain.identifiers import keypad_form
    seen = [snapshot(app, c)]

    def go(*keys):
        for k in keys:
            c.press(k)
            seen.append(snapshot(app, c))

    go("0", "1", "123456789#")                       # help menu, check a reference, back to the menu
    go("1", holder.nir + "#", holder.vitale_serial + "#", holder.birth_date.strftime("%d%m%Y") + "#")
    go(keypad_form(holder.code) + "#")                # too late to oppose: close is offered
    go("2", "9")                                      # close: delete? no: back to the menu
    go("3", "2", "1#", "1", "9")                      # history, pick, report? no
    go("3", "2", "1#", "2", "9")                      # history, pick, block? no
    go("4", "1", "1", "9")                            # emergency, SAMU off, receipt, menu
    go("1", "1", "1", "9", "1", "9")                  # close, archive, confirm, menu, reopen? no
    go("0", "2", "1", helper.nir + "#", helper.birth_date.strftime("%d%m%Y") + "#", "1", "9")  # name a helper
    go("0", "2", "2", "1#", "9")                      # helpers, remove, helper 1, no
    go("0", "3", "2", "9")                            # messages at each access: naming nobody, receipt, menu
    go("2", "1#")                                     # for someone else, then for oneself again
    go("0", "0", "1", "2", "0612345678#", "9")        # an adviser (closed): a callback, another number, back
    return seen


@pytest.fixture
def every_menu(app, call, enrol):
    """walk(language) -> a snapshot of every step, in calls in that language (tests/ivr/conftest.snapshot)."""
    from app.domain.identifiers import keypad_form

    def walk(language):
        holder = enrol(days_ago=60)
        record_accesses(app, holder, 4)
        seen = walk_every_menu(app, open_call(call, language), holder, enrol(days_ago=10, birth_date=date(1975, 5, 5)))
        # the opposition question needs a letter still in its window
        other = enrol(days_ago=10)
        c = open_call(call, language).press("1").identify(other)
        seen.append(snapshot(app, c))
        # no letter at hand: a code by SMS instead
        c = open_call(call, language).press("1").press(holder.nir + "#").press(holder.vitale_serial + "#")
        c.press(holder.birth_date.strftime("%d%m%Y") + "#").press("1#")
        seen.append(snapshot(app, c))
        # details that do not match: read back, one part to change; a number said aloud, read back
        c = open_call(call, language).press("1").press(holder.nir + "#").press(holder.vitale_serial + "#")
        c.press(holder.birth_date.strftime("%d%m%Y") + "#").press(keypad_form("AAAAAAAAAAAA") + "#")
        seen.append(snapshot(app, c))
        c.press("1").speak(" ".join(holder.nir))
        seen.append(snapshot(app, c))
        # silence while identifying: a wait, then offers
        c = open_call(call, language).press("1").silence()
        seen.append(snapshot(app, c))
        for _ in range(6):
            c.silence()
        seen.append(snapshot(app, c))
        return seen
    return walk
