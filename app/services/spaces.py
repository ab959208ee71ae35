"""Health-space actions: oppose, close, reopen, emergency settings, and what the scheduled jobs apply."""
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask import current_app
from sqlalchemy.exc import IntegrityError

from .. import audit, clock, messages, outbox, zones
from ..domain import health_space as hs
from ..domain import mandates as mandate_rules
from ..domain.emergency import EmergencySettings, Setting
from ..domain.errors import InvalidTransition, NotFound
from ..domain.reasons import Reason
from ..models import ActionRecord, HealthSpace, InboundMessage, Person, ProvisionalCode, WebSession, db
from .base import SYSTEM, Actor, Receipt, authorize, new_reference, transaction
from .identity import rules
from .mandates import current_mandate, end_expired


@dataclass(frozen=True)
class SpaceView:
    person_id: int
    given_name: str
    family_name: str
    state: str
    letter_sent_on: date
    window_ends_on: date
    days_left: int
    closed_at: date | None
    archive_until: date | None
    deletion_due_on: date | None
    emergency: EmergencySettings
    actions: list[str]
    has_mobile: bool
    notices: str = "full"  # full, discreet or off: the message at each access (NOTICES)
    sms_blocked: bool = False  # the number opted out at Twilio (STOP…): said on the next visit or call, with START
    restricted: Reason | None = None  # MINOR_ALONE or HELPER_LIMIT: oppose, close and reopen are not for this actor
    refusals: dict = field(default_factory=dict)  # oppose, close, reopen -> why not now (absent: possible)


def _space(subject_id: int) -> HealthSpace:
    space = db.session.get(HealthSpace, subject_id)
    if space is None:
        raise NotFound()
    return space


def _settle(space: HealthSpace, today: date) -> None:
    """Apply an automatic creation that is already due, so every channel sees the state the rules give."""
    if hs.due_for_creation(space.state, space.letter_sent_on, today, rules()):
        space.state = hs.State.ACTIVE
        space.activated_at = clock.now()
        audit.append("system", audit.who(space.person_id), "space.created_automatically", "job")


RESERVED = {"oppose", "close", "reopen"}  # what a trusted helper, or a minor alone, may not do


def _restriction(actor: Actor, subject_id: int, birth: date, autonomous_on: date | None, today: date
                 ) -> Reason | None:
    if actor.person_id == subject_id:
        alone = mandate_rules.may_act_alone("space.closed", birth, autonomous_on, today,
                                            current_app.config["MAJORITY_AGE"])
        return None if alone else Reason.MINOR_ALONE
    mandate = current_mandate(actor.person_id, subject_id, today) if actor.person_id else None
    return Reason.HELPER_LIMIT if mandate is not None and mandate.kind == mandate_rules.HELPER else None


def view(actor: Actor, subject_id: int) -> SpaceView:
    """The space as the rules give it today; reading writes nothing (the creation at the window's end is
    written by the jobs, or by the next action, in act_once)."""
    authorize(actor, subject_id, "view")
    space = _space(subject_id)
    today = clock.today(zones.zone_of(space.person))  # the holder's deadlines end at midnight where they live
    state = hs.State.ACTIVE if hs.due_for_creation(space.state, space.letter_sent_on, today, rules()) \
        else space.state
    p = space.person
    restricted = _restriction(actor, subject_id, p.birth_date, p.autonomous_on, today)
    return SpaceView(
        person_id=p.id, given_name=p.given_name, family_name=p.family_name, state=state,
        letter_sent_on=space.letter_sent_on, window_ends_on=space.window_ends_on,
        days_left=hs.days_left(space.letter_sent_on, today, rules()),
        closed_at=space.closed_at.date() if space.closed_at else None,
        archive_until=space.archive_until, deletion_due_on=space.deletion_due_on,
        emergency=EmergencySettings(space.samu_access, space.break_glass_access, space.masked_in_emergency),
        actions=[a for a in hs.available_actions(space.state, space.letter_sent_on, today, rules())
                 if not restricted or a not in RESERVED],
        has_mobile=bool(p.mobile) and p.sms_blocked_at is None, sms_blocked=p.sms_blocked_at is not None,
        notices=notices_of(p),
        restricted=restricted,
        refusals={a: why for a in sorted(RESERVED)
                  if (why := restricted or hs.refusal(a, space.state, space.letter_sent_on, today, rules()))})


def done_with(idempotency_key: str) -> Receipt | None:
    """The receipt an idempotency key already has: a confirmation sent twice is answered with the first."""
    record = _existing(idempotency_key)
    return Receipt.of(record) if record is not None else None


def _existing(idempotency_key: str | None) -> ActionRecord | None:
    if not idempotency_key:
        return None
    return db.session.scalar(db.select(ActionRecord).where(ActionRecord.idempotency_key == idempotency_key))


def _receipt(actor: Actor, subject_id: int, action: str, idempotency_key: str | None, **details) -> ActionRecord:
    record = ActionRecord(reference=new_reference(), subject_id=subject_id, actor_id=actor.person_id,
                          staff_id=actor.staff_id, action=action, channel=actor.channel, created_at=clock.now(),
                          idempotency_key=idempotency_key, details=details)
    db.session.add(record)
    person = db.session.get(Person, subject_id)
    on_behalf = actor.person_id is not None and actor.person_id != subject_id
    if on_behalf:  # «done by X on behalf of Y», in the audit log too
        mandate = current_mandate(actor.person_id, subject_id, clock.today())
        details = {**details, "on_behalf_of": audit.who(subject_id), "mandate": mandate.id if mandate else None}
    if actor.staff_id is not None:  # done at the desk: the case it was done in (its reason is in the case's entries)
        details = {**details, "case": actor.case_id}
    audit.append(actor.label, audit.who(subject_id), action, actor.channel, reference=record.reference, **details)
    if on_behalf:
        _tell_on_behalf(actor, person, action, record)
    elif actor.channel in ("web", "voice", "desk"):  # an SMS request is answered with its reference already
        # Done at the desk, the usual receipt goes by SMS, or by post without a mobile: the person keeps a trace.
        text = messages.receipt(person, action, record.reference) \
            if person.mobile or actor.channel == "desk" else None
        if text:
            outbox.queue(person, text, record.reference, channel="sms" if person.mobile else "letter")
    return record


def _tell_on_behalf(actor: Actor, person: Person, action: str, record: ActionRecord) -> None:
    """The representative gets the receipt; a represented adult is told what was done for them, and by whom."""
    rep = db.session.get(Person, actor.person_id)
    if actor.channel in ("web", "voice") and rep.mobile:
        outbox.queue(rep, messages.done_for(rep, person, action, record.reference), record.reference, channel="sms")
    if mandate_rules.age(person.birth_date, clock.today()) >= current_app.config["MAJORITY_AGE"]:
        outbox.queue(person, messages.done_on_behalf(person, rep, action, record.created_at, record.reference),
                     record.reference)


def act_once(actor: Actor, subject_id: int, action: str, idempotency_key: str | None, change,
             after=None) -> Receipt:
    """Run `change` and record its receipt in one transaction; a repeated key returns the first receipt.

    `change(space, today)` checks the rules, mutates, and returns the details to keep on the receipt;
    `after(record)`, when given, writes what needs the receipt's reference, in the same transaction.
    """
    authorize(actor, subject_id, action)
    previous = _existing(idempotency_key)
    if previous is not None and previous.subject_id == subject_id:
        return Receipt.of(previous)
    try:
        with transaction():
            space = db.session.get(HealthSpace, subject_id, with_for_update=True)
            if space is None:
                raise NotFound()
            today = clock.today(zones.zone_of(space.person))
            _settle(space, today)
            details = change(space, today) or {}
            record = _receipt(actor, subject_id, action, idempotency_key, **details)
            if after is not None:
                after(record)
            db.session.flush()
            receipt = Receipt.of(record)
        return receipt
    except IntegrityError:
        # A double submit raced us to the unique key: the first one's receipt is the answer.
        previous = _existing(idempotency_key)
        if previous is None:
            raise
        return Receipt.of(previous)


def oppose(actor: Actor, subject_id: int, idempotency_key: str | None = None) -> Receipt:
    def change(space, today):
        hs.check_oppose(space.state, space.letter_sent_on, today, rules())
        space.state = hs.State.OPPOSED
        space.opposed_at = clock.now()
        for code in db.session.scalars(db.select(ProvisionalCode).where(
                ProvisionalCode.person_id == subject_id, ProvisionalCode.voided_at.is_(None))):
            code.voided_at = code.voided_at or clock.now()
        return {}
    return act_once(actor, subject_id, "space.opposed", idempotency_key, change)


def close(actor: Actor, subject_id: int, delete_data: bool, idempotency_key: str | None = None) -> Receipt:
    def change(space, today):
        hs.check_close(space.state)
        plan = hs.plan_closure(today, delete_data, rules())
        space.state = hs.State.CLOSED
        space.closed_at = clock.now()
        space.archive_until, space.deletion_due_on = plan.archive_until, plan.deletion_due_on
        return {"delete_data": delete_data, "archive_until": plan.archive_until.isoformat(),
                "deletion_due_on": plan.deletion_due_on.isoformat() if plan.deletion_due_on else None}
    return act_once(actor, subject_id, "space.closed", idempotency_key, change)


def reopen(actor: Actor, subject_id: int, idempotency_key: str | None = None) -> Receipt:
    def change(space, today):
        hs.check_reopen(space.state)
        cancelled = space.deletion_due_on is not None
        space.state = hs.State.ACTIVE
        space.closed_at = space.archive_until = space.deletion_due_on = None
        return {"deletion_cancelled": cancelled}
    return act_once(actor, subject_id, "space.reopened", idempotency_key, change)


def set_emergency_access(actor: Actor, subject_id: int, setting: str, on: bool,
                         idempotency_key: str | None = None) -> Receipt:
    setting = Setting(setting)

    def change(space, today):
        current = EmergencySettings(space.samu_access, space.break_glass_access, space.masked_in_emergency)
        if setting == Setting.MASKED and on and not current.masked_applies:
            raise InvalidTransition("emergency_off", "masked_on")
        new = current.with_setting(setting, on)
        space.samu_access, space.break_glass_access, space.masked_in_emergency = new.samu, new.break_glass, new.masked
        return {"setting": setting.value, "on": on, "samu": new.samu, "break_glass": new.break_glass,
                "masked": new.masked}
    return act_once(actor, subject_id, "emergency." + setting.value + (".on" if on else ".off"),
                    idempotency_key, change)


NOTICES = ("full", "discreet", "off")  # a message at each access naming who; one naming nobody; none


def notices_of(person: Person) -> str:
    return "off" if not person.notifications_enabled else "discreet" if person.discreet_notices else "full"


def set_notifications(actor: Actor, subject_id: int, on: bool, discreet: bool | None = None,
                      idempotency_key: str | None = None) -> Receipt:
    """A message at each access to the space, or none; `discreet`: one that names no professional or organisation
    (a shared family phone), None keeps the style chosen before. The receipt's action names the result:
    notifications.on (naming who), notifications.discreet, notifications.off."""
    person = db.session.get(Person, subject_id)
    if person is None:
        raise NotFound()
    style = person.discreet_notices if discreet is None else discreet
    action = "notifications." + ("off" if not on else "discreet" if style else "on")

    def change(space, today):
        space.person.notifications_enabled = on
        if discreet is not None:
            space.person.discreet_notices = discreet
        return {"on": on, "discreet": space.person.discreet_notices}
    return act_once(actor, subject_id, action, idempotency_key, change)


def receipt(actor: Actor, reference: str) -> ActionRecord:
    record = db.session.scalar(db.select(ActionRecord).where(ActionRecord.reference == reference))
    if record is None:
        raise NotFound()
    authorize(actor, record.subject_id, "view")
    return record


def activity(actor: Actor, subject_id: int, limit: int = 100) -> list[ActionRecord]:
    """What was done on this space, newest first: Mon espace santé's 'activity history'."""
    authorize(actor, subject_id, "view")
    return list(db.session.scalars(db.select(ActionRecord).where(ActionRecord.subject_id == subject_id)
                                   .order_by(ActionRecord.created_at.desc(), ActionRecord.id.desc()).limit(limit)))


# --- scheduled jobs ---------------------------------------------------------------------

def _their_day(person_id: int, as_of: date) -> date:
    """Run today, a job applies each person's own today: a window or a code that ends on 12 March ends at
    midnight where they live (in Guadeloupe, six hours after Paris). An explicit `as_of` is taken as it is."""
    return clock.today(zones.zone_of_id(person_id)) if as_of == clock.today() else as_of


def run_jobs(as_of: date) -> dict[str, int]:
    """Everything that falls due by `as_of`; each item in its own transaction, safe to run twice."""
    counts = {"created": 0, "purged": 0, "codes_voided": 0, "sessions_ended": 0, "reminders": 0}
    r = rules()
    for days in current_app.config["REMINDER_DAYS"]:
        # Reminded of the window's end 14 and 3 days before, by the calendar of where they live (a day either
        # side of Paris's): once each, even if a day's run was missed.
        near = db.session.execute(db.select(HealthSpace.person_id, HealthSpace.window_ends_on).where(
            HealthSpace.state == hs.State.NOTIFIED, HealthSpace.window_ends_on >= as_of - timedelta(days=1),
            HealthSpace.window_ends_on <= as_of + timedelta(days=days + 1))).all()
        for person_id, ends_on in near:
            day = _their_day(person_id, as_of)
            if not day <= ends_on <= day + timedelta(days=days):
                continue
            key = f"reminder:{person_id}:{days}"
            if _existing(key) is not None:
                continue
            try:
                with transaction():
                    space = db.session.get(HealthSpace, person_id)
                    record = _receipt(SYSTEM, person_id, "reminder.sent", key, days=days)
                    outbox.queue(space.person, messages.reminder(space.person, space.window_ends_on,
                                                                 record.reference), record.reference)
                counts["reminders"] += 1
            except IntegrityError:  # the same job on another machine sent it first: once is enough
                continue
    due = db.session.scalars(db.select(HealthSpace.person_id).where(
        HealthSpace.state == hs.State.NOTIFIED, HealthSpace.window_ends_on < as_of)).all()
    for person_id in due:
        with transaction():
            space = db.session.get(HealthSpace, person_id, with_for_update=True)
            day = _their_day(person_id, as_of)
            if hs.due_for_creation(space.state, space.letter_sent_on, day, r):
                _settle(space, day)
                counts["created"] += 1
    closed = db.session.scalars(db.select(HealthSpace.person_id).where(HealthSpace.state == hs.State.CLOSED)).all()
    for person_id in closed:
        with transaction():
            space = db.session.get(HealthSpace, person_id, with_for_update=True)
            plan = hs.ClosurePlan(space.archive_until, space.deletion_due_on)
            if space.state == hs.State.CLOSED and hs.due_for_purge(space.state, plan, as_of):
                requested = space.deletion_due_on is not None
                space.state, space.purged_at = hs.State.PURGED, clock.now()
                record = _receipt(SYSTEM, person_id, "space.purged", None, requested=requested)
                if requested:  # the holder is told when the deletion they asked for is done
                    person = db.session.get(Person, person_id)
                    outbox.queue(person, messages.deletion_done(person, record.reference), record.reference)
                counts["purged"] += 1
    with transaction():
        for code in db.session.scalars(db.select(ProvisionalCode).where(
                ProvisionalCode.expires_on < as_of, ProvisionalCode.used_at.is_(None),
                ProvisionalCode.voided_at.is_(None))):
            if code.expires_on >= _their_day(code.person_id, as_of):
                continue
            code.voided_at = clock.now()
            counts["codes_voided"] += 1
        idle_before = clock.now() - timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])
        for s in db.session.scalars(db.select(WebSession).where(WebSession.ended_at.is_(None),
                                                                WebSession.last_seen_at < idle_before)):
            s.ended_at, s.end_reason = clock.now(), "idle"
            counts["sessions_ended"] += 1
        # An SMS reply that carried a one-time code is kept whole (encrypted) only while the code could serve.
        db.session.execute(db.update(InboundMessage).where(
            InboundMessage.sealed_reply.is_not(None),
            InboundMessage.received_at < clock.now() - timedelta(minutes=current_app.config["OTP_VALID_MINUTES"]))
            .values(sealed_reply=None))
        if counts["codes_voided"]:
            audit.append("system", None, "codes.expired", "job", count=counts["codes_voided"])
    counts["mandates_ended"] = end_expired(as_of)
    counts["sent"] = outbox.send_due(limit=10_000)
    return counts


# --- Twilio's opt-out ------------------------------------------------------------------------

def _sms_block(phone: str, blocked: bool) -> list[int]:
    """Everyone registered with this number: the moment it opted out at Twilio (STOP…), or cleared (START…).

    One conditional UPDATE per person, so that two copies of the same opt-out record it, and audit it, once."""
    from .crypto import lookup
    ids = db.session.scalars(db.select(Person.id).where(Person.phone_lookup == lookup("phone", phone))).all()
    changed = []
    with transaction():
        for person_id in ids:
            done = db.session.execute(db.update(Person).where(
                Person.id == person_id, Person.sms_blocked_at.is_(None) if blocked else
                Person.sms_blocked_at.is_not(None)).values(sms_blocked_at=clock.now() if blocked else None))
            if done.rowcount == 1:
                audit.append(audit.who(person_id), audit.who(person_id),
                             "sms.opted_out" if blocked else "sms.opted_in", "sms")
                changed.append(person_id)
    return changed


def record_sms_opt_out(phone: str) -> list[int]:
    """The number sent one of Twilio's opt-out words: Twilio now refuses every SMS to it, so Relais writes to
    its people by letter (app/outbox.py) until it sends START."""
    return _sms_block(phone, True)


def record_sms_opt_in(phone: str) -> list[int]:
    """START, UNSTOP or YES: Twilio delivers to the number again, and so SMS are sent again."""
    return _sms_block(phone, False)
