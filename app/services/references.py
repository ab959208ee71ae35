"""Is a reference genuine? Every receipt, message and case of Relais carries one the 34 22 can confirm."""
from datetime import date

from ..models import AccessReport, ActionRecord, Callback, OutboxMessage, db


def sent_on(reference: str) -> date | None:
    """The day Relais issued this reference, or None if it never did; says nothing about whom it concerns."""
    ref = "".join(c for c in reference or "" if c.isdigit())
    if len(ref) != 9:
        return None
    for column, moment in ((ActionRecord.reference, ActionRecord.created_at),
                           (OutboxMessage.reference, OutboxMessage.created_at),
                           (AccessReport.reference, AccessReport.created_at),
                           (Callback.reference, Callback.created_at)):
        found = db.session.scalar(db.select(moment).where(column == ref).limit(1))
        if found is not None:
            return found.date()
    return None
