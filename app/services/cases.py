"""Cases of the desk: a member of staff helps one person, found only with them.

A case is opened with a reason (an incoming call, a callback, an appointment at a France Services office); the
person identifies with the same four things as on the web, typed by the member of staff as the person reads them
out, through the same identification service (its limits and lockout included). No search, no browsing: a case is
the only way to a person, and only for the member of staff who opened it, until it is closed. Every page of the
desk about the person is in the audit log with the case's reason.
"""
import secrets
from datetime import date, timedelta

from flask import current_app

from .. import audit, clock
from ..domain.errors import NotFound
from ..models import Case, DeskTransfer, db
from . import identity, limits
from .base import Actor, transaction
from .crypto import lookup

REASONS = ("call", "callback", "appointment")
TRANSFER_DIGITS = 6


class TransferRefused(Exception):
    """A transfer code that opens nothing: wrong, used, expired, or too many tries (`locked`)."""

    def __init__(self, locked: bool = False):
        super().__init__("locked" if locked else "refused")
        self.locked = locked


def open_case(staff_id: int, reason: str) -> int:
    if reason not in REASONS:
        raise ValueError(f"case reason {reason!r}")
    with transaction():
        case = Case(staff_id=staff_id, reason=reason, opened_at=clock.now())
        db.session.add(case)
        db.session.flush()
        audit.append(f"staff:{staff_id}", None, "case.opened", "desk", case=case.id, reason=reason)
        return case.id


def get(case_id: int, staff_id: int) -> Case:
    """A case of this member of staff; another's, or none, is NotFound (the same answer: no guessing of ids)."""
    case = db.session.get(Case, case_id) if 0 < case_id < 2**31 else None
    if case is None or case.staff_id != staff_id:
        raise NotFound()
    return case


def open_cases(staff_id: int) -> list[Case]:
    return list(db.session.scalars(db.select(Case).where(Case.staff_id == staff_id, Case.closed_at.is_(None))
                                   .order_by(Case.opened_at.desc(), Case.id.desc())))


def identify(case_id: int, staff_id: int, nir: str, serial: str, birth: date, code: str, client: str) -> int:
    """The person of the case, identified with the four things (identity.identify: same answers, same limits)."""
    case = get(case_id, staff_id)
    if case.closed_at is not None or case.person_id is not None:
        raise NotFound()
    person_id = identity.identify(nir, serial, birth, code, client=client, channel="desk")
    with transaction():
        case = get(case_id, staff_id)
        case.person_id, case.identified_at, case.nir_tail = person_id, clock.now(), nir[-3:]
        audit.append(f"staff:{staff_id}", audit.who(person_id), "case.identified", "desk", case=case.id,
                     reason=case.reason)
    return person_id


def send_code(case_id: int, staff_id: int, nir: str, serial: str, birth: date, client: str) -> str:
    """No letter at hand: a sign-in code by SMS to the person's own registered mobile (identity's, with its limits
    and its one answer whatever the details); the person reads it out. Returns the NIR's keyed hash to wait with."""
    case = get(case_id, staff_id)
    if case.closed_at is not None or case.person_id is not None:
        raise NotFound()
    identity.send_sign_in_code(nir, serial, birth, client=client, channel="desk")
    return lookup("nir", nir)


def identify_by_code(case_id: int, staff_id: int, nir_lookup: str, nir_tail: str, code: str, client: str) -> int:
    """The code the person read out from their SMS: the person of the case, identified."""
    case = get(case_id, staff_id)
    if case.closed_at is not None or case.person_id is not None:
        raise NotFound()
    person_id = identity.identify_with_sms_code(nir_lookup, code, client=client, channel="desk")
    with transaction():
        case = get(case_id, staff_id)
        case.person_id, case.identified_at, case.nir_tail = person_id, clock.now(), nir_tail[-3:]
        audit.append(f"staff:{staff_id}", audit.who(person_id), "case.identified", "desk", case=case.id,
                     reason=case.reason, by="sms")
    return person_id


def actor(case: Case) -> Actor:
    """Who acts in this case: the member of staff, at the request of the person identified with them."""
    return Actor(case.person_id, "desk", staff_id=case.staff_id, case_id=case.id)


def viewed(case: Case, page: str) -> None:
    """Every desk page about a person is kept in the audit log, with the case's reason."""
    with transaction():
        audit.append(f"staff:{case.staff_id}", audit.who(case.person_id), "desk.viewed", "desk", case=case.id,
                     reason=case.reason, page=page)


def close(case_id: int, staff_id: int) -> None:
    with transaction():
        case = get(case_id, staff_id)
        if case.closed_at is None:
            case.closed_at = clock.now()
            audit.append(f"staff:{staff_id}", audit.who(case.person_id) if case.person_id else None, "case.closed",
                         "desk", case=case.id)


# --- a call put through by the phone line -------------------------------------------------------------

def transfer_code(person_id: int, goal: str | None) -> str:
    """For the whisper of a call put through with the caller identified: a 6-digit code the adviser types at the
    desk to open the case with the person already identified. Kept as a keyed hash; once; a few minutes."""
    minutes = current_app.config["DESK_TRANSFER_MINUTES"]
    with transaction():
        while True:
            code = f"{secrets.randbelow(10 ** TRANSFER_DIGITS):0{TRANSFER_DIGITS}d}"
            key = lookup("desk-transfer", code)
            if db.session.scalar(db.select(DeskTransfer.id).where(DeskTransfer.code_lookup == key)) is None:
                break
        db.session.add(DeskTransfer(code_lookup=key, person_id=person_id, goal=goal, created_at=clock.now(),
                                    expires_at=clock.now() + timedelta(minutes=minutes)))
        audit.append("system", audit.who(person_id), "case.transfer_offered", "voice", goal=goal)
    return code


def from_transfer(staff_id: int, code: str) -> int:
    """The case of a call put through, its person identified by the phone line: opened by the code of the
    whisper, used once (one conditional UPDATE), within its minutes; a few wrong codes pause this member of staff."""
    code = "".join(ch for ch in (code or "") if not ch.isspace())
    c = current_app.config
    tries = limits.Limit(f"desk-transfer:{staff_id}", c["DESK_TRANSFER_TRIES"], timedelta(minutes=15))
    if not limits.take(tries):
        raise TransferRefused(locked=True)
    if not (len(code) == TRANSFER_DIGITS and code.isascii() and code.isdigit()):
        raise TransferRefused()
    with transaction():
        now = clock.now()
        key = lookup("desk-transfer", code)
        row = db.session.scalar(db.select(DeskTransfer).where(DeskTransfer.code_lookup == key))
        if row is None or db.session.execute(db.update(DeskTransfer).where(
                DeskTransfer.id == row.id, DeskTransfer.used_at.is_(None), DeskTransfer.expires_at >= now)
                .values(used_at=now)).rowcount != 1:
            raise TransferRefused()
        case = Case(staff_id=staff_id, reason="call", person_id=row.person_id, opened_at=now, identified_at=now,
                    nir_tail=None)
        db.session.add(case)
        db.session.flush()
        audit.append(f"staff:{staff_id}", audit.who(row.person_id), "case.identified", "desk", case=case.id,
                     reason="call", by="transfer")
        case_id = case.id
    limits.give_back(tries.key)
    return case_id
