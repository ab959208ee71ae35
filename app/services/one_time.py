"""One-time codes sent by SMS: 6 random digits, hashed, 10 minutes, single use, tied to one request, 5 tries."""
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app

from .. import audit, clock
from ..models import OneTimeCode, db
from . import transaction
from .crypto import hash_secret, lookup, verify_secret


class TooManyCodes(Exception):
    """3 codes in 15 minutes or 10 in a day were already sent to this number."""


@dataclass(frozen=True)
class Pending:
    person_id: int
    purpose: str
    params: dict


def issue(phone: str, person_id: int, purpose: str, params: dict, channel: str = "sms") -> str:
    """A new code for this request; any earlier pending code of the number stops working."""
    c, now, key = current_app.config, clock.now(), lookup("phone", phone)
    recent = db.session.scalar(db.select(db.func.count(OneTimeCode.id)).where(
        OneTimeCode.phone_lookup == key, OneTimeCode.created_at > now - timedelta(minutes=15)))
    today = db.session.scalar(db.select(db.func.count(OneTimeCode.id)).where(
        OneTimeCode.phone_lookup == key, OneTimeCode.created_at > now - timedelta(days=1)))
    if recent >= c["OTP_PER_15_MINUTES"] or today >= c["OTP_PER_DAY"]:
        raise TooManyCodes()
    code = f"{secrets.randbelow(10**6):06d}"
    with transaction():
        for old in db.session.scalars(db.select(OneTimeCode).where(OneTimeCode.phone_lookup == key,
                                                                    OneTimeCode.used_at.is_(None))):
            old.used_at = now
        db.session.add(OneTimeCode(phone_lookup=key, person_id=person_id, purpose=purpose, params=params,
                                   code_hash=hash_secret(code), created_at=now,
                                   expires_at=now + timedelta(minutes=c["OTP_VALID_MINUTES"])))
        audit.append(audit.who(person_id), audit.who(person_id), "otp.sent", channel, purpose=purpose)
    return code


def pending(phone: str) -> OneTimeCode | None:
    return db.session.scalar(db.select(OneTimeCode).where(
        OneTimeCode.phone_lookup == lookup("phone", phone), OneTimeCode.used_at.is_(None),
        OneTimeCode.expires_at > clock.now()).order_by(OneTimeCode.id.desc()).limit(1))


def redeem(phone: str, code: str, second_factor, channel: str = "sms") -> Pending | None:
    """The request a right code confirms, once; None when wrong, expired, used or out of tries.

    SMS alone is a weak factor: `second_factor(pending)` checks what the person knows as well (their date
    of birth, or the letter's code to oppose); a wrong one costs a try like a wrong code.
    """
    row = pending(phone)
    if row is None:
        verify_secret(None, code)  # same work either way
        return None
    with transaction():
        row.tries += 1
        ok = verify_secret(row.code_hash, code) and second_factor(Pending(row.person_id, row.purpose,
                                                                          dict(row.params)))
        if ok or row.tries >= current_app.config["OTP_MAX_TRIES"]:
            row.used_at = clock.now()
        audit.append(audit.who(row.person_id), audit.who(row.person_id), "otp.checked", channel,
                     purpose=row.purpose, ok=ok)
        return Pending(row.person_id, row.purpose, dict(row.params)) if ok else None
