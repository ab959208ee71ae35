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
from .base import Actor, Receipt, authorize, new_reference, transaction
from .batch import among, each_chunk, local_todays, queue_many, record_receipts, their_days
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

def run_jobs(as_of: date) -> dict[str, int]:
    """Everything that falls due by `as_of`, a chunk of people a transaction (app/services/batch.py); safe to
    run twice, and on two machines at once: each reminder, creation, purge and end is done once."""
    counts = {"created": 0, "purged": 0, "codes_voided": 0, "sessions_ended": 0, "reminders": 0}
    counts["reminders"] = send_reminders(as_of)
    counts["created"] = create_due(as_of)
    counts["purged"] = purge_due(as_of)
    counts["codes_voided"] = void_expired_codes(as_of)
    counts["sessions_ended"] = end_idle_sessions()
    counts["mandates_ended"] = end_expired(as_of)
    counts["sent"] = outbox.send_due(limit=10_000)
    return counts


def _lived(stmt):
    """What their_days needs of a person: where they live."""
    return stmt.add_columns(Person.time_zone, Person.postal_code, Person.phone)


def send_reminders(as_of: date) -> int:
    """Reminded of the window's end 14 and 3 days before, by the calendar of where they live (a day either side
    of Paris's): once each, even if a day's run was missed. The receipt's key `reminder:{person}:{days}` is
    unique: a reminder another machine has just sent is left out by the INSERT itself."""
    sent = 0
    earliest, latest = local_todays(as_of)
    for days in current_app.config["REMINDER_DAYS"]:
        key = db.literal("reminder:") + db.cast(HealthSpace.person_id, db.String) + db.literal(f":{days}")
        candidates = db.select(HealthSpace.person_id, HealthSpace.window_ends_on, Person).join(
            Person, Person.id == HealthSpace.person_id).where(
            HealthSpace.state == hs.State.NOTIFIED, HealthSpace.window_ends_on >= earliest,
            HealthSpace.window_ends_on <= latest + timedelta(days=days),
            ~db.exists().where(ActionRecord.idempotency_key == key))

        def remind(rows, days=days):
            due = [(person, ends_on) for (_, ends_on, person), day in zip(rows, their_days([r[2] for r in rows],
                                                                                         as_of))
                   if day <= ends_on <= day + timedelta(days=days)]
            refs = record_receipts("reminder.sent", [(p.id, f"reminder:{p.id}:{days}", {"days": days})
                                                     for p, _ in due])
            done = [(person, ends_on, ref) for (person, ends_on), ref in zip(due, refs) if ref is not None]
            queue_many((person, messages.reminder(person, ends_on, ref), ref) for person, ends_on, ref in done)
            audit.append_many(("system", audit.who(p.id), "reminder.sent", "job", {"reference": ref, "days": days})
                              for p, _, ref in done)
            return len(done)
        sent += each_chunk(candidates, HealthSpace.person_id, HealthSpace, remind)
    return sent


def create_due(as_of: date) -> int:
    """Without an answer, the space is created the day after the window's last day where the person lives.
    One UPDATE a chunk, conditional on the space still being notified: created, and audited, once."""
    r = rules()
    candidates = _lived(db.select(HealthSpace.person_id, HealthSpace.letter_sent_on).join(
        Person, Person.id == HealthSpace.person_id).where(
        HealthSpace.state == hs.State.NOTIFIED, HealthSpace.window_ends_on < local_todays(as_of)[1]))

    def create(rows):
        due = [row.person_id for row, day in zip(rows, their_days(rows, as_of))
               if hs.due_for_creation(hs.State.NOTIFIED, row.letter_sent_on, day, r)]
        if not due:
            return 0
        created = sorted(db.session.scalars(db.update(HealthSpace).where(
            among(HealthSpace.person_id, due), HealthSpace.state == hs.State.NOTIFIED)
            .values(state=hs.State.ACTIVE, activated_at=clock.now()).returning(HealthSpace.person_id)
            .execution_options(synchronize_session=False)))
        audit.append_many(("system", audit.who(pid), "space.created_automatically", "job", {}) for pid in created)
        return len(created)
    return each_chunk(candidates, HealthSpace.person_id, HealthSpace, create)


def purge_due(as_of: date) -> int:
    """Closed spaces whose archive ends, or whose deletion asked for falls due: purged once each, with a receipt;
    the holder is told when the deletion they asked for is done."""
    is_due = db.or_(HealthSpace.deletion_due_on <= as_of, HealthSpace.archive_until <= as_of)
    candidates = db.select(HealthSpace.person_id, HealthSpace.archive_until, HealthSpace.deletion_due_on).where(
        HealthSpace.state == hs.State.CLOSED, is_due)

    def purge(rows):
        due = [row.person_id for row in rows if hs.due_for_purge(
            hs.State.CLOSED, hs.ClosurePlan(row.archive_until, row.deletion_due_on), as_of)]
        if not due:
            return 0
        # still closed and still due: a reopening, or a new closure, since the rows were read is not purged
        purged = sorted(db.session.execute(db.update(HealthSpace).where(
            among(HealthSpace.person_id, due), HealthSpace.state == hs.State.CLOSED, is_due)
            .values(state=hs.State.PURGED, purged_at=clock.now())
            .returning(HealthSpace.person_id, HealthSpace.deletion_due_on)
            .execution_options(synchronize_session=False)).all())
        refs = record_receipts("space.purged", [(pid, None, {"requested": asked is not None})
                                                for pid, asked in purged])
        people = {p.id: p for p in db.session.scalars(db.select(Person).where(
            among(Person.id, [pid for pid, asked in purged if asked is not None])))}
        queue_many((people[pid], messages.deletion_done(people[pid], ref), ref)  # the deletion they asked for
                   for (pid, asked), ref in zip(purged, refs) if asked is not None)
        audit.append_many(("system", audit.who(pid), "space.purged", "job",
                           {"reference": ref, "requested": asked is not None})
                          for (pid, asked), ref in zip(purged, refs))
        return len(purged)
    return each_chunk(candidates, HealthSpace.person_id, HealthSpace, purge)


def void_expired_codes(as_of: date) -> int:
    """Letter codes whose last day has passed where their person lives; one audit entry a chunk, with the count."""
    candidates = _lived(db.select(ProvisionalCode.id, ProvisionalCode.expires_on).join(
        Person, Person.id == ProvisionalCode.person_id).where(
        ProvisionalCode.expires_on < local_todays(as_of)[1], ProvisionalCode.used_at.is_(None),
        ProvisionalCode.voided_at.is_(None)))

    def void(rows):
        due = [row.id for row, day in zip(rows, their_days(rows, as_of)) if row.expires_on < day]
        if not due:
            return 0
        voided = db.session.execute(db.update(ProvisionalCode).where(
            among(ProvisionalCode.id, due), ProvisionalCode.used_at.is_(None), ProvisionalCode.voided_at.is_(None))
            .values(voided_at=clock.now()).execution_options(synchronize_session=False)).rowcount
        if voided:
            audit.append("system", None, "codes.expired", "job", count=voided)
        return voided
    return each_chunk(candidates, ProvisionalCode.id, ProvisionalCode, void)


def end_idle_sessions() -> int:
    """Web sessions idle too long, ended; and SMS replies that carried a one-time code forgotten (they are kept
    whole, encrypted, only while the code could serve)."""
    now = clock.now()
    with transaction():
        ended = db.session.execute(db.update(WebSession).where(
            WebSession.ended_at.is_(None),
            WebSession.last_seen_at < now - timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"]))
            .values(ended_at=now, end_reason="idle").execution_options(synchronize_session=False)).rowcount
        db.session.execute(db.update(InboundMessage).where(
            InboundMessage.sealed_reply.is_not(None),
            InboundMessage.received_at < now - timedelta(minutes=current_app.config["OTP_VALID_MINUTES"]))
            .values(sealed_reply=None).execution_options(synchronize_session=False))
    return ended


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
