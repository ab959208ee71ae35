"""Callbacks: a caller books a call from an adviser in a half-day the advisers work; advisers list and close them.

The number is kept encrypted (app/sealed.py) for the adviser and found by its keyed hash (crypto.lookup); it is
forgotten once the callback is done or cancelled. The audit log has it masked (outbox.mask), and the SMS that
confirms the booking keeps it encrypted until the carrier has it (outbox.queue(to=…)). Each transfer of a call
to an adviser is in the audit log too (record_transfer).
"""
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import phonenumbers
from flask import current_app
from sqlalchemy.exc import IntegrityError

from .. import audit, clock, messages, outbox, zones
from ..domain.errors import CallbackRefused, InvalidTransition, NotFound
from ..domain.reasons import Reason
from ..models import Callback, OutboxMessage, Person, db
from ..sealed import seal, unseal
from . import agents, limits
from .base import Actor, Receipt, new_reference, transaction
from .crypto import lookup
from .validation import FRENCH_REGIONS

SLOTS = ("am", "pm")
GOALS = (None, "change", "history", "emergency", "for_other", "helpers")  # what the caller was doing
OUTCOMES = ("dialled", "answered", "no-answer", "closed")                 # of a transfer to an adviser
PENDING, DONE, NO_ANSWER, CANCELLED = "pending", "done", "no_answer", "cancelled"
PN = phonenumbers.PhoneNumberType
CALLABLE = (PN.FIXED_LINE, PN.MOBILE, PN.FIXED_LINE_OR_MOBILE, PN.VOIP)  # never a premium-rate or service number
MOBILE = (PN.MOBILE, PN.FIXED_LINE_OR_MOBILE)
CALLBACKS_PER_NUMBER_A_DAY = 2


@dataclass(frozen=True)
class CallbackView:
    """A callback as an adviser reads it: the number in E.164 while it is pending, None once closed."""

    id: int
    reference: str
    slot_day: date
    slot: str
    phone: str | None
    goal: str | None
    language: str
    status: str
    person_id: int | None
    created_at: datetime
    done_at: datetime | None
    call_hours: tuple[datetime, datetime] | None = None  # overseas: when to call, on the person's clock
    staff_id: int | None = None  # the adviser who took it at the desk


def zone_of_number(e164: str | None):
    """Where the number to call rings, when that is not Paris's time (0692: La Réunion); None for Paris's."""
    name = zones.of_phone(e164) if e164 else None
    return zones.ZoneInfo(name) if name and name != zones.PARIS_NAME else None


def french_number(phone: str) -> phonenumbers.PhoneNumber:
    """A number in France (overseas included), national or E.164, that an adviser may call; else CallbackRefused."""
    text = (phone or "").strip()
    for region in FRENCH_REGIONS:  # 0692 is Réunion, 0690 Guadeloupe: each overseas plan is tried in turn
        try:
            number = phonenumbers.parse(text, region)
        except phonenumbers.NumberParseException:
            raise CallbackRefused(Reason.PHONE_INVALID) from None
        if phonenumbers.is_valid_number(number):
            break
    else:
        raise CallbackRefused(Reason.PHONE_INVALID)
    if phonenumbers.region_code_for_number(number) not in FRENCH_REGIONS:
        raise CallbackRefused(Reason.PHONE_NOT_FRENCH)
    if phonenumbers.number_type(number) not in CALLABLE:
        raise CallbackRefused(Reason.PHONE_NOT_CALLABLE)
    return number


def _who(actor: Actor | None) -> str:
    """Who acts, as the audit log names them: the person, staff at the desk, the operator at the terminal, or an
    unknown caller."""
    if actor is not None and (actor.person_id is not None or actor.staff_id is not None):
        return actor.label
    return {"cli": "operator", "job": "system"}.get(actor.channel if actor else "", "anonymous")


def _by_key(key: str) -> Callback | None:
    return db.session.scalar(db.select(Callback).where(Callback.idempotency_key == key))


def _receipt(row: Callback) -> Receipt:
    sms = db.session.scalar(db.select(OutboxMessage.id).where(OutboxMessage.reference == row.reference).limit(1))
    return Receipt(row.id, row.reference, "callback.requested", row.person_id, row.person_id, row.channel,
                   row.created_at, row.idempotency_key,
                   {"slot_day": row.slot_day.isoformat(), "slot": row.slot, "goal": row.goal,
                    "language": row.language, "sms": sms is not None})


def request(actor: Actor, phone: str, slot_day: date, slot: str, *, goal: str | None, language: str,
            key: str) -> Receipt:
    """Book an adviser's call to `phone` in one of the half-days agents.half_days() offers; one booking per key.

    Raises CallbackRefused (the number, or the half-day) and then books nothing. A mobile is sent an SMS saying
    when, with the reference.
    """
    if not key or slot not in SLOTS or goal not in GOALS or language not in current_app.config["LANGUAGES"]:
        raise ValueError(f"callback: key {key!r}, slot {slot!r}, goal {goal!r}, language {language!r}")
    previous = _by_key(key)
    if previous is not None:  # a retried webhook: the first booking is the answer, whatever is offered now
        return _receipt(previous)
    number = french_number(phone)
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    zone = zone_of_number(e164)  # overseas, a half-day counts only for its part between 08:00 and 20:00 there
    if (slot_day, slot) not in agents.half_days(zone=zone):
        raise CallbackRefused(Reason.SLOT_NOT_OFFERED)
    try:
        with transaction():
            row = Callback(reference=new_reference(), person_id=actor.person_id, phone_lookup=lookup("phone", e164),
                           phone_sealed=seal(e164), slot_day=slot_day, slot=slot, goal=goal, language=language,
                           channel=actor.channel, idempotency_key=key, status=PENDING, created_at=clock.now())
            db.session.add(row)
            db.session.flush()  # the unique key: a request with the same key at the same time stops here
            # Anyone may type any number: a few bookings a day a number, so that neither its owner nor the
            # advisers' list is flooded; counted after the key, so that a retry never counts twice.
            if not limits.counted(limits.Limit("callbacks:" + lookup("phone", e164)[:50],
                                               CALLBACKS_PER_NUMBER_A_DAY, timedelta(days=1))):
                raise CallbackRefused(Reason.CALLBACKS_TODAY)
            audit.append(_who(actor), audit.who(row.person_id) if row.person_id else None, "callback.requested",
                         actor.channel, callback=row.id, reference=row.reference, slot_day=slot_day.isoformat(),
                         slot=slot, goal=goal, language=language, phone=outbox.mask(e164))
            if phonenumbers.number_type(number) in MOBILE:
                person = db.session.get(Person, row.person_id) if row.person_id else None
                outbox.queue(person, messages.callback_booked(
                    language, slot_day, slot, row.reference, agents.call_hours(slot_day, slot, zone) if zone else None),
                             row.reference, to=e164, language=language)
            receipt = _receipt(row)
        return receipt
    except IntegrityError:
        previous = _by_key(key)
        if previous is None:
            raise
        return _receipt(previous)


def _view(row: Callback) -> CallbackView:
    phone = unseal(row.phone_sealed)
    zone = zone_of_number(phone)
    return CallbackView(row.id, row.reference, row.slot_day, row.slot, phone, row.goal, row.language, row.status,
                        row.person_id, row.created_at, row.done_at,
                        agents.call_hours(row.slot_day, row.slot, zone) if zone else None, row.staff_id)


def pending(limit: int = 100) -> list[CallbackView]:
    """The callbacks still to make, oldest first, each with its number for the adviser."""
    rows = db.session.scalars(db.select(Callback).where(Callback.status == PENDING)
                              .order_by(Callback.created_at, Callback.id).limit(limit))
    return [_view(row) for row in rows]


def latest(limit: int = 100) -> list[CallbackView]:
    """The last `limit` callbacks, whatever their status, oldest first."""
    rows = db.session.scalars(db.select(Callback).order_by(Callback.id.desc()).limit(limit)).all()
    return [_view(row) for row in reversed(rows)]


def _close(callback_id: int, actor: Actor, status: str) -> CallbackView:
    """Pending -> done, no answer or cancelled, once (a conditional update), the number forgotten; audited. At the
    desk, only by the adviser who took it."""
    mine = [Callback.staff_id == actor.staff_id] if actor.staff_id is not None else []
    with transaction():
        changed = db.session.execute(db.update(Callback).where(Callback.id == callback_id, Callback.status == PENDING,
                                                               *mine)
                                     .values(status=status, phone_sealed=None, done_at=clock.now())).rowcount
        row = db.session.get(Callback, callback_id, populate_existing=True)
        if row is None:
            raise NotFound()
        if not changed and (row.status != status or (actor.staff_id is not None and row.staff_id != actor.staff_id)):
            raise InvalidTransition(row.status if row.status != PENDING else "taken", "callback." + status)
        if changed:
            audit.append(_who(actor), audit.who(row.person_id) if row.person_id else None, "callback." + status,
                         actor.channel, callback=row.id, reference=row.reference)
        view = _view(row)
    return view


def mark_done(callback_id: int, actor: Actor) -> CallbackView:
    """The adviser has called back. Marking it done again changes nothing."""
    return _close(callback_id, actor, DONE)


def no_answer(callback_id: int, actor: Actor) -> CallbackView:
    """The adviser called, nobody answered: closed, the number forgotten (the person can call the 34 22 again)."""
    return _close(callback_id, actor, NO_ANSWER)


def take(callback_id: int, actor: Actor) -> CallbackView:
    """An adviser at the desk takes a callback to make: its number is shown to them, and to nobody else, while it
    is open. One conditional UPDATE: two advisers taking it at once, one gets it."""
    with transaction():
        changed = db.session.execute(db.update(Callback).where(
            Callback.id == callback_id, Callback.status == PENDING, Callback.staff_id.is_(None))
            .values(staff_id=actor.staff_id, taken_at=clock.now())).rowcount
        row = db.session.get(Callback, callback_id, populate_existing=True)
        if row is None:
            raise NotFound()
        if not changed and not (row.status == PENDING and row.staff_id == actor.staff_id):
            raise InvalidTransition(row.status if row.status != PENDING else "taken", "callback.take")
        if changed:
            audit.append(_who(actor), audit.who(row.person_id) if row.person_id else None, "callback.taken",
                         actor.channel, callback=row.id, reference=row.reference)
        return _view(row)


def cancel(callback_id: int, actor: Actor) -> CallbackView:
    """No call is to be made any more. Cancelling it again changes nothing."""
    return _close(callback_id, actor, CANCELLED)


def record_transfer(actor: Actor | None, *, goal: str | None, identified: bool, outcome: str, call_tail: str) -> None:
    """A transfer of a call to an adviser, in the audit log: dialled, answered, no-answer, or closed (not open)."""
    if outcome not in OUTCOMES or goal not in GOALS:
        raise ValueError(f"transfer: outcome {outcome!r}, goal {goal!r}")
    subject = audit.who(actor.person_id) if actor is not None and actor.person_id is not None else None
    with transaction():
        audit.append(_who(actor), subject, "agent.transfer", actor.channel if actor else "voice", goal=goal,
                     identified=bool(identified), outcome=outcome, call=(call_tail or "")[-6:])


READY_SMS_PER_DAY = 2  # a caller ID can be forged: never a flood of messages to someone else's phone


def send_what_to_have(phone: str, language: str) -> bool:
    """By SMS to the mobile that called: what to have at hand to identify on the 34 22 (no link, no code).

    Refuses what is not a French mobile (CallbackRefused); False when this number already had its messages today.
    """
    number = french_number(phone)
    if phonenumbers.number_type(number) not in MOBILE:
        raise CallbackRefused(Reason.PHONE_NOT_CALLABLE)
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if not limits.take(limits.Limit("ready-sms:" + lookup("phone", e164)[:50], READY_SMS_PER_DAY, timedelta(days=1))):
        return False
    with transaction():
        reference = new_reference()
        outbox.queue(None, messages.what_to_have(language, reference), reference, to=e164, language=language)
        audit.append("anonymous", None, "sms.what_to_have", "voice", reference=reference, phone=outbox.mask(e164))
    return True
