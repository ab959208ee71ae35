"""Who represents whom today: the one question every authorisation asks of the mandates."""
from datetime import date

from flask import current_app

from ..domain import mandates as rules
from ..models import Mandate, Person, db


def facts(m: Mandate, represented: Person) -> rules.MandateFacts:
    return rules.MandateFacts(m.kind, m.valid_from, m.valid_until, m.ended_at is not None, represented.birth_date,
                              represented.autonomous_on)


def current_mandate(representative_id: int, represented_id: int, today: date) -> Mandate | None:
    represented = db.session.get(Person, represented_id)
    if represented is None:
        return None
    current = [m for m in db.session.scalars(db.select(Mandate).where(
        Mandate.representative_id == representative_id, Mandate.represented_id == represented_id))
        if rules.is_current(facts(m, represented), today, current_app.config["MAJORITY_AGE"])]
    # A legal mandate counts before a trusted helper's, when a person holds both.
    return max(current, key=lambda m: rules.strength(m.kind), default=None)
