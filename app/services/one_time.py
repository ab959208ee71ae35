"""One-time codes sent by SMS: 6 random digits, hashed, 10 minutes, single use, tied to one request, 5 tries."""
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app

from .. import audit, clock
from ..models import OneTimeCode, db
from . import limits
from .base import transaction
from .crypto import hash_secret, lookup, verify_secret


class TooManyCodes(Exception):
    """3 codes in 15 minutes or 10 in a day were already sent to this number."""


class OtherPurpose(Exception):
    """A right code, but for a request of another channel (a sign-in code answered by SMS, …): not used up."""

    def __init__(self, purpose: str):
        super().__init__(purpose)
        self.purpose = purpose


@dataclass(frozen=True)
class Pending:
    person_id: int
    purpose: str
    params: dict


def issue(phone: str, person_id: int, purpose: str, params: dict, channel: str = "sms") -> str:
    """A new code for this request; any earlier pending code of the number stops working.

    The number's row is locked while its codes are counted, so parallel requests cannot exceed the limits.
    """
    c, now, key = current_app.config, clock.now(), lookup("phone", phone)
    code = f"{secrets.randbelow(10**6):06d}"
    code_hash = hash_secret(code)
    with transaction():
        limits.lock("otp:" + key[:60])
        recent = db.session.scalar(db.select(db.func.count(OneTimeCode.id)).where(
            OneTimeCode.phone_lookup == key, OneTimeCode.created_at > now - timedelta(minutes=15)))
        today = db.session.scalar(db.select(db.func.count(OneTimeCode.id)).where(
            OneTimeCode.phone_lookup == key, OneTimeCode.created_at > now - timedelta(days=1)))
        if recent >= c["OTP_PER_15_MINUTES"] or today >= c["OTP_PER_DAY"]:
            raise TooManyCodes()
        db.session.execute(db.update(OneTimeCode).where(OneTimeCode.phone_lookup == key,
                                                        OneTimeCode.used_at.is_(None)).values(used_at=now))
        db.session.add(OneTimeCode(phone_lookup=key, person_id=person_id, purpose=purpose, params=params,
                                   code_hash=code_hash, created_at=now,
                                   expires_at=now + timedelta(minutes=c["OTP_VALID_MINUTES"])))
        audit.append(audit.who(person_id), audit.who(person_id), "otp.sent", channel, purpose=purpose)
    return code


def pending(phone: str) -> OneTimeCode | None:
    return db.session.scalar(db.select(OneTimeCode).where(
        OneTimeCode.phone_lookup == lookup("phone", phone), OneTimeCode.used_at.is_(None),
        OneTimeCode.expires_at > clock.now()).order_by(OneTimeCode.id.desc()).limit(1))


def _take_try(row_id: int) -> bool:
    """One try taken in one statement before the check: parallel answers cannot get more than the 5 tries."""
    taken = db.session.execute(db.update(OneTimeCode).where(
        OneTimeCode.id == row_id, OneTimeCode.used_at.is_(None), OneTimeCode.expires_at > clock.now(),
        OneTimeCode.tries < current_app.config["OTP_MAX_TRIES"]).values(tries=OneTimeCode.tries + 1))
    db.session.commit()
    return taken.rowcount == 1


def redeem(phone: str, code: str, second_factor, channel: str = "sms", purposes: set[str] | None = None
           ) -> Pending | None:
    """The request a right code confirms, once; None when wrong, expired, used or out of tries.

    SMS alone is a weak factor: `second_factor(pending)` checks what the person knows as well (their date
    of birth, or the letter's code to oppose); a wrong one costs a try like a wrong code. A right code for a
    purpose outside `purposes` raises OtherPurpose and stays as it was.
    """
    row = pending(phone)
    if row is None or not _take_try(row.id):
        verify_secret(None, code)  # same work either way
        return None
    row = db.session.get(OneTimeCode, row.id, populate_existing=True)
    request = Pending(row.person_id, row.purpose, dict(row.params))
    right = verify_secret(row.code_hash, code)
    if right and purposes is not None and row.purpose not in purposes:
        db.session.execute(db.update(OneTimeCode).where(OneTimeCode.id == row.id, OneTimeCode.tries > 0)
                           .values(tries=OneTimeCode.tries - 1))
        db.session.commit()
        raise OtherPurpose(row.purpose)
    ok = right and second_factor(request)
    with transaction():
        now = clock.now()
        if ok:  # only one of two parallel right answers uses the code
            ok = db.session.execute(db.update(OneTimeCode).where(
                OneTimeCode.id == row.id, OneTimeCode.used_at.is_(None)).values(used_at=now)).rowcount == 1
        elif row.tries >= current_app.config["OTP_MAX_TRIES"]:
            db.session.execute(db.update(OneTimeCode).where(
                OneTimeCode.id == row.id, OneTimeCode.used_at.is_(None)).values(used_at=now))
        audit.append(audit.who(row.person_id), audit.who(row.person_id), "otp.checked", channel,
                     purpose=row.purpose, ok=ok)
    return request if ok else None
