"""Trusted helpers (proches aidants): named by the holder for at most a year, revocable at any moment.

A helper is stored as a mandate of kind «aidant», so every channel's «acting for» works for them too;
what they may do is the short list of SPEC §2 (domain.mandates.HELPER_MAY).
"""
from datetime import date, timedelta

from flask import current_app

from .. import audit, clock, messages, outbox
from ..domain import mandates as rules
from ..domain.errors import HelperRefused, InvalidTransition
from ..models import Mandate, Person, db
from . import limits
from .base import Actor, transaction
from .crypto import lookup
from .representation import facts as _facts
from .spaces import act_once

LOOKUP_FAILURES_PER_DAY = 5


def _current_helpers(where, today: date) -> list[tuple[Mandate, Person, Person]]:
    """Current helper mandates matching `where`, with the helper and the person helped."""
    helper, helped = db.aliased(Person), db.aliased(Person)
    rows = db.session.execute(db.select(Mandate, helper, helped)
                              .join(helper, helper.id == Mandate.representative_id)
                              .join(helped, helped.id == Mandate.represented_id)
                              .where(Mandate.kind == rules.HELPER, *where).order_by(Mandate.id)).all()
    return [(m, h, p) for m, h, p in rows if rules.is_current(_facts(m, p), today, current_app.config["MAJORITY_AGE"])]


def helpers_of(subject_id: int, today: date | None = None) -> list[tuple[Person, Mandate]]:
    """The trusted helpers a person has named, oldest first: numbered 1, 2, 3 on the phone and by SMS."""
    return [(h, m) for m, h, _p in _current_helpers([Mandate.represented_id == subject_id], today or clock.today())]


def _lookups(actor: Actor) -> limits.Limit:
    """The actor's look-ups of a helper that found nobody, today (5 at most)."""
    return limits.Limit(f"helper-lookup:{actor.person_id}", LOOKUP_FAILURES_PER_DAY, timedelta(days=1))


def name_helper(actor: Actor, subject_id: int, helper_nir: str, helper_birth: date, until: date | None = None,
                idempotency_key: str | None = None):
    """Name a trusted helper, found by their NIR and date of birth, until `until` (at most a year).

    A wrong NIR or date gets the same answer whether or not anyone has that NIR; after 5 such answers in a
    day, the holder must wait. The helper is told by their usual channel.
    """
    today = clock.today()
    longest = today + timedelta(days=rules.HELPER_MAX_DAYS)
    until = min(until or longest, longest)
    if until < today:
        raise HelperRefused("until_past")
    # Counted before the look-up, in one statement, as a wrong one: parallel guesses cannot pass the 5 together.
    # A look-up that finds the helper (or is refused for another reason) gives its count back.
    if not limits.take(_lookups(actor)):
        raise HelperRefused("locked")

    def change(space, today):
        helper = db.session.scalar(db.select(Person).where(Person.nir_lookup == lookup("nir", helper_nir)))
        if helper is None or helper.birth_date != helper_birth:
            raise HelperRefused("not_found")
        if helper.id in {h.id for h, _m in helpers_of(subject_id, today)}:
            raise HelperRefused("already_helper")
        c = current_app.config
        reason = rules.check_new_helper(
            len(helpers_of(subject_id, today)),
            len(_current_helpers([Mandate.representative_id == helper.id], today)), helper.id == subject_id,
            c["HELPERS_PER_PERSON"], c["PEOPLE_PER_HELPER"])
        if reason:
            raise HelperRefused(reason)
        mandate = db.session.scalar(db.select(Mandate).where(  # named again the same day after a revocation
            Mandate.representative_id == helper.id, Mandate.represented_id == subject_id,
            Mandate.kind == rules.HELPER, Mandate.valid_from == today))
        if mandate is None:
            mandate = Mandate(representative_id=helper.id, represented_id=subject_id, kind=rules.HELPER,
                              valid_from=today, created_at=clock.now())
            db.session.add(mandate)
        mandate.valid_until, mandate.ended_at, mandate.end_reason = until, None, None
        db.session.flush()
        return {"mandate": mandate.id, "helper": helper.id, "helper_name": f"{helper.given_name} {helper.family_name}",
                "until": until.isoformat()}

    def after(record):
        helper = db.session.get(Person, record.details["helper"])
        holder = db.session.get(Person, subject_id)
        outbox.queue(helper, messages.helper_named(helper, holder, until, record.reference), record.reference)

    try:
        receipt = act_once(actor, subject_id, "helper.named", idempotency_key, change, after)
    except HelperRefused as exc:
        if exc.reason == "not_found":
            with transaction():
                audit.append(actor.label, audit.who(subject_id), "refused.helper.named", actor.channel,
                             reason="not_found")
        else:
            limits.give_back(_lookups(actor).key)
        raise
    except BaseException:
        limits.give_back(_lookups(actor).key)
        raise
    limits.give_back(_lookups(actor).key)
    return receipt


def revoke_helper(actor: Actor, subject_id: int, mandate_id: int, idempotency_key: str | None = None):
    """End a trusted helper's mandate at once; the helper is told."""
    def change(space, today):
        mandate = db.session.get(Mandate, mandate_id, with_for_update=True)
        current = {m.id for _h, m in helpers_of(subject_id, today)}
        if mandate is None or mandate.id not in current:
            raise InvalidTransition("not_helper", "revoke")
        mandate.ended_at, mandate.end_reason = clock.now(), "revoked"
        helper = db.session.get(Person, mandate.representative_id)
        return {"mandate": mandate.id, "helper": helper.id, "helper_name": f"{helper.given_name} {helper.family_name}"}

    def after(record):
        helper = db.session.get(Person, record.details["helper"])
        holder = db.session.get(Person, subject_id)
        outbox.queue(helper, messages.helper_revoked(helper, holder, record.reference), record.reference)
    return act_once(actor, subject_id, "helper.revoked", idempotency_key, change, after)
