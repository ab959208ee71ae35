"""Mandates of legal representatives: import, who represents whom today, and their end."""
import re
from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app
from sqlalchemy.orm import aliased

from .. import audit, clock, messages, outbox
from ..domain import mandates as rules
from ..domain.errors import NotAuthorized
from ..models import Mandate, Person, Throttle, db
from .base import new_reference, transaction
from .batch import among, each_chunk, new_references, queue_many
from .crypto import lookup
from .representation import current_mandate
from .representation import facts as _facts


@dataclass(frozen=True)
class Represented:
    person_id: int
    given_name: str
    family_name: str
    kind: str
    valid_until: date | None


def represented_by(representative_id: int, today: date | None = None) -> list[Represented]:
    """The people this person may act for today."""
    today = today or clock.today()
    out = []
    for m, person in db.session.execute(db.select(Mandate, Person).join(Person, Person.id == Mandate.represented_id)
                                        .where(Mandate.representative_id == representative_id)
                                        .order_by(Person.given_name)).all():
        if rules.is_current(_facts(m, person), today, current_app.config["MAJORITY_AGE"]) and \
                person.id not in {r.person_id for r in out}:
            out.append(Represented(person.id, person.given_name, person.family_name, m.kind, m.valid_until))
    return out


class RowRefused(Exception):
    def __init__(self, errors: dict[str, str]):
        super().__init__(errors)
        self.errors = errors


def import_mandate(representative_nir: str, represented_nir: str, kind: str, valid_from: date,
                   valid_until: date | None) -> bool:
    """Store one mandate (False when the same one is already there); RowRefused says why not."""
    rep = db.session.scalar(db.select(Person).where(Person.nir_lookup == lookup("nir", representative_nir)))
    sub = db.session.scalar(db.select(Person).where(Person.nir_lookup == lookup("nir", represented_nir)))
    errors = {}
    if rep is None:
        errors["representative_nir"] = "no one is enrolled with this NIR"
    if sub is None:
        errors["represented_nir"] = "no one is enrolled with this NIR"
    if rep is not None and sub is not None and rep.id == sub.id:
        errors["represented_nir"] = "a person cannot represent themselves"
    if sub is not None:
        reason = rules.check_new_mandate(kind, valid_from, valid_until, sub.birth_date, clock.today(),
                                         current_app.config["MAJORITY_AGE"])
        if reason:
            errors["kind" if "kind" in reason or "parent" in reason else "valid_until"] = reason
    if errors:
        raise RowRefused(errors)
    return _store(rep, sub, kind, valid_from, valid_until, "operator", "cli", "mandate.imported")


def _store(rep: Person, sub: Person, kind: str, valid_from: date, valid_until: date | None, who: str, channel: str,
           action: str, **details) -> bool:
    """The mandate kept, once (False when the same one is there already), and audited."""
    exists = db.session.scalar(db.select(Mandate.id).where(
        Mandate.representative_id == rep.id, Mandate.represented_id == sub.id, Mandate.kind == kind,
        Mandate.valid_from == valid_from))
    if exists:
        return False
    with transaction():
        m = Mandate(representative_id=rep.id, represented_id=sub.id, kind=kind, valid_from=valid_from,
                    valid_until=valid_until, created_at=clock.now())
        db.session.add(m)
        db.session.flush()
        audit.append(who, audit.who(sub.id), action, channel, mandate=m.id, kind=kind,
                     representative=audit.who(rep.id), **details)
    return True


LEGAL_KINDS = ("parent", "tutelle", "habilitation_familiale")


def record_at_desk(staff_id: int, representative_id: int, represented_nir: str, represented_birth: date, kind: str,
                   valid_from: date, valid_until: date | None, document: str) -> bool:
    """A legal representation recorded at the desk by a counsellor or supervisor who saw its document (a judgment,
    the livret de famille): the represented person found by NIR and date of birth together (one answer if either
    is wrong), then the same rules as the CSV import. RowRefused says why not."""
    if kind not in LEGAL_KINDS:
        raise RowRefused({"kind": "kind"})
    if not document.strip() or len(document) > 80 or re.search(r"\d(?:[\s.\-]?\d){8,}", document):
        raise RowRefused({"document": "document"})  # a reference, never a NIR or a phone number
    sub = db.session.scalar(db.select(Person).where(Person.nir_lookup == lookup("nir", represented_nir)))
    if sub is None or sub.birth_date != represented_birth:
        raise RowRefused({"nir": "not_found"})
    if sub.id == representative_id:
        raise RowRefused({"nir": "self"})
    reason = rules.check_new_mandate(kind, valid_from, valid_until, sub.birth_date, clock.today(),
                                     current_app.config["MAJORITY_AGE"])
    if reason:
        raise RowRefused({"kind" if "kind" in reason or "parent" in reason else "valid_until": reason})
    return _store(db.session.get(Person, representative_id), sub, kind, valid_from, valid_until, f"staff:{staff_id}",
                  "desk", "mandate.recorded", document=document)


def of_person(person_id: int) -> list[tuple[Mandate, Person, Person]]:
    """The legal mandates, current or to come, where the person represents someone or is represented."""
    rep, sub = aliased(Person), aliased(Person)
    return list(db.session.execute(db.select(Mandate, rep, sub).join(rep, rep.id == Mandate.representative_id)
                                   .join(sub, sub.id == Mandate.represented_id).where(
        Mandate.ended_at.is_(None), Mandate.kind.in_(LEGAL_KINDS),
        db.or_(Mandate.representative_id == person_id, Mandate.represented_id == person_id))
        .order_by(Mandate.id)).all())


def end_at_desk(staff_id: int, person_id: int, mandate_id: int) -> None:
    """A legal mandate of this person ended at the desk (the document that ends it seen): both are told."""
    with transaction():
        m = db.session.get(Mandate, mandate_id, with_for_update=True) if 0 < mandate_id < 2**31 else None
        if m is None or m.ended_at is not None or m.kind not in LEGAL_KINDS or \
                person_id not in (m.representative_id, m.represented_id):
            raise RowRefused({"mandate": "not_found"})
        m.ended_at, m.end_reason = clock.now(), "ended_at_desk"
        reference = new_reference()
        audit.append(f"staff:{staff_id}", audit.who(m.represented_id), "mandate.ended", "desk", mandate=m.id,
                     kind=m.kind, representative=audit.who(m.representative_id), reference=reference)
        rep, person = db.session.get(Person, m.representative_id), db.session.get(Person, m.represented_id)
        outbox.queue(rep, messages.mandate_ended(rep, person, clock.today(), reference), reference)
        if rules.age(person.birth_date, clock.today()) >= current_app.config["MAJORITY_AGE"]:
            outbox.queue(person, messages.mandate_ended_for(person, rep, clock.today(), reference), reference)


def end_expired(as_of: date) -> int:
    """Mark the mandates that have ended (last day passed, majority, autonomy), log each end, and tell
    the representative, and the represented person when an adult, that it has ended.

    A chunk of mandates a transaction (app/services/batch.py); one UPDATE a chunk, conditional on the mandate
    not being ended yet, so the same job on another machine ends, logs and tells each one once."""
    majority = current_app.config["MAJORITY_AGE"]
    try:
        adult_if_born_by = as_of.replace(year=as_of.year - majority)
    except ValueError:  # 29 February
        adult_if_born_by = date(as_of.year - majority, 2, 28)
    # A first sift in SQL (every mandate that may have ended, and a day more); the rules decide below.
    candidates = db.select(Mandate.id, Mandate, Person).join(Person, Person.id == Mandate.represented_id).where(
        Mandate.ended_at.is_(None), Mandate.valid_from <= as_of, db.or_(
            Mandate.valid_until < as_of,
            db.and_(Mandate.kind == "parent", db.or_(Person.birth_date <= adult_if_born_by + timedelta(days=1),
                                                     Person.autonomous_on <= as_of))))

    def end(rows):
        due = {m.id: (m, person) for _, m, person in rows if not rules.is_current(_facts(m, person), as_of, majority)}
        if not due:
            return 0
        ended = sorted(db.session.scalars(db.update(Mandate).where(among(Mandate.id, due), Mandate.ended_at.is_(None))
                                          .values(ended_at=clock.now(), end_reason="expired").returning(Mandate.id)
                                          .execution_options(synchronize_session=False)))
        reps = {p.id: p for p in db.session.scalars(db.select(Person).where(
            among(Person.id, {due[i][0].representative_id for i in ended})))}
        entries, told = [], []
        for mandate_id, reference in zip(ended, new_references(len(ended))):
            m, person = due[mandate_id]
            entries.append(("system", audit.who(person.id), "mandate.ended", "job",
                            {"mandate": m.id, "kind": m.kind, "representative": audit.who(m.representative_id),
                             "reference": reference}))
            on = min(rules.ends_on(_facts(m, person), majority) or as_of, as_of)
            rep = reps[m.representative_id]
            told.append((rep, messages.mandate_ended(rep, person, on, reference), reference))
            if rules.age(person.birth_date, as_of) >= majority:
                told.append((person, messages.mandate_ended_for(person, rep, on, reference), reference))
        queue_many(told)
        audit.append_many(entries)
        return len(ended)
    return each_chunk(candidates, Mandate.id, Mandate, end)


def record_autonomy(nir: str, on: date) -> None:
    """The operator records that a minor became autonomous (possible from 16): parents' mandates end that day."""
    person = db.session.scalar(db.select(Person).where(Person.nir_lookup == lookup("nir", nir)))
    if person is None:
        raise RowRefused({"nir": "no one is enrolled with this NIR"})
    autonomy_age = current_app.config["AUTONOMY_AGE"]
    if rules.age(person.birth_date, on) < autonomy_age:
        raise RowRefused({"on": f"a minor may become autonomous from {autonomy_age} only"})
    with transaction():
        person.autonomous_on = on
        audit.append("operator", audit.who(person.id), "person.autonomous", "cli", on=on.isoformat())


def representatives_of(person_id: int, today: date | None = None) -> list[tuple[Person, Mandate]]:
    """Who may act for this person today: what a person sees under «who may act for me»."""
    today = today or clock.today()
    person = db.session.get(Person, person_id)
    return [(rep, m) for m, rep in db.session.execute(
        db.select(Mandate, Person).join(Person, Person.id == Mandate.representative_id)
        .where(Mandate.represented_id == person_id).order_by(Mandate.valid_from)).all()
        if rules.is_current(_facts(m, person), today, current_app.config["MAJORITY_AGE"])]


def names_of(person_ids: set[int]) -> dict[int, str]:
    """Given and family names, for «done by X on behalf of Y»."""
    if not person_ids:
        return {}
    return {p.id: f"{p.given_name} {p.family_name}"
            for p in db.session.scalars(db.select(Person).where(Person.id.in_(person_ids)))}


ACT_FOR_REFUSALS_PER_DAY = 5


def act_for(actor, nir: str) -> int:
    """The person a caller names by NIR to act for: only someone they represent today.

    An unknown NIR and a NIR without a current mandate get the same refusal (NotAuthorized), logged;
    after 5 refusals in a day the actor is refused even for the right NIR, so NIRs cannot be tried out.
    """
    key = f"act-for:{actor.person_id}"
    now = clock.now()
    row = db.session.get(Throttle, key)
    locked = row is not None and row.failures >= ACT_FOR_REFUSALS_PER_DAY and \
        row.window_started_at + timedelta(days=1) > now
    person = db.session.scalar(db.select(Person).where(Person.nir_lookup == lookup("nir", nir)))
    if not locked and person is not None and (person.id == actor.person_id or
                                              current_mandate(actor.person_id, person.id, clock.today())):
        return person.id
    with transaction():
        row = db.session.get(Throttle, key, with_for_update=True)
        if row is None:
            row = Throttle(key=key, failures=0, window_started_at=now)
            db.session.add(row)
        elif row.window_started_at + timedelta(days=1) <= now:
            row.failures, row.window_started_at = 0, now
        row.failures += 1
        row.last_failure_at = now
        audit.append(audit.who(actor.person_id), audit.who(person.id) if person else None, "refused.act_for",
                     actor.channel, reason="locked" if locked else "no_mandate")
    raise NotAuthorized("no_mandate")


def refuse_act_for(representative_id: int, channel: str, reason: str) -> None:
    """A person asked to act for someone they do not represent (a name not in their list): kept in the audit log."""
    with transaction():
        audit.append(audit.who(representative_id), None, "refused.act_for", channel, reason=reason)
