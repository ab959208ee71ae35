"""Staff of the desk (/desk): enrolment by a one-time link, a passphrase (argon2) and a TOTP authenticator (pyotp),
sign-in with both, a lockout after repeated failures, sessions of their own, and an account disabled at once.

A passphrase is chosen by a person: argon2id (crypto.hash_secret), at least 12 characters, refused when it is one
of the 30,000 commonest passwords (zxcvbn's list) or easy to guess (zxcvbn's score under 3, with the email and the
name as things it knows). The TOTP secret is random: it is kept encrypted with a key outside the database
(app/sealed.py), and a code is taken once only (the last time step used is kept, and moved on by one conditional
UPDATE, so a code replayed within its 30 seconds, or raced by two requests, fails).
"""
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pyotp
from flask import current_app
from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from .. import audit, clock
from ..models import Staff, StaffSession, Throttle, db
from ..sealed import seal, unseal
from . import base, limits
from .base import keep_alive, transaction
from .crypto import hash_secret, lookup, token_digest, verify_secret

ROLES = ("agent", "counsellor", "supervisor")
PASSPHRASE_MIN, PASSPHRASE_MAX = 12, 200
ISSUER = "Relais"
_COMMON = frozenset(FREQUENCY_LISTS["passwords"])
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")


class StaffError(ValueError):
    """A plain reason, said to the operator at the command line or to the staff member on the page."""


class SignInFailed(Exception):
    """The one answer to a wrong email, passphrase or code, or a disabled account: it says nothing more."""


@dataclass(frozen=True)
class SignInLocked(Exception):
    until: datetime


@dataclass(frozen=True)
class StaffView:
    id: int
    email: str
    name: str
    role: str


def view(staff: Staff) -> StaffView:
    return StaffView(staff.id, staff.email, staff.name, staff.role)


def _email(value: str) -> str:
    email = (value or "").strip().lower()
    if not _EMAIL.match(email) or len(email) > 254:
        raise StaffError(f"not an email address: {value!r}")
    return email


def by_email(email: str) -> Staff | None:
    try:
        return db.session.scalar(db.select(Staff).where(Staff.email == _email(email)))
    except StaffError:
        return None


# --- enrolment ----------------------------------------------------------------------------

def add(email: str, role: str, name: str | None = None, demo: bool = False) -> str:
    """A new member of staff, or a new link for one not yet enrolled: the enrolment token (24 hours, single use).

    The token is kept only as a keyed hash; the link is printed once, by the command."""
    email = _email(email)
    if role not in ROLES:
        raise StaffError(f"role must be one of {', '.join(ROLES)}: {role!r}")
    token = secrets.token_urlsafe(32)
    hours = current_app.config["STAFF_ENROLMENT_HOURS"]
    with transaction():
        staff = db.session.scalar(db.select(Staff).where(Staff.email == email))
        if staff is not None and staff.enrolled_at is not None:
            raise StaffError(f"{email} is already enrolled (disable the account first to enrol it again)")
        if staff is None:
            staff = Staff(email=email, name=(name or email.split("@")[0]).strip()[:100], role=role, demo=demo,
                          created_at=clock.now())
            db.session.add(staff)
        staff.role, staff.disabled_at = role, None
        if name:
            staff.name = name.strip()[:100]
        staff.enrolment_lookup = lookup("staff-enrolment", token)
        staff.enrolment_expires_at = clock.now() + timedelta(hours=hours)
        staff.passphrase_hash = staff.totp_sealed = staff.totp_pending = None
        db.session.flush()
        audit.append("operator", f"staff:{staff.id}", "staff.added", "cli", role=role)
    return token


def enrolling(token: str | None) -> Staff | None:
    """The member of staff a link enrols: unused, within its 24 hours, not disabled; else None."""
    if not token or len(token) > 100:
        return None
    staff = db.session.scalar(db.select(Staff).where(Staff.enrolment_lookup == lookup("staff-enrolment", token)))
    if staff is None or staff.disabled_at is not None or staff.enrolment_expires_at is None \
            or staff.enrolment_expires_at < clock.now():
        return None
    return staff


def passphrase_problem(passphrase: str, staff: Staff) -> str | None:
    """Why a passphrase will not do (a key of the desk's texts), or None."""
    if len(passphrase) < PASSPHRASE_MIN:
        return "too_short"
    if len(passphrase) > PASSPHRASE_MAX:
        return "too_long"
    folded = passphrase.lower()
    if folded in _COMMON or re.sub(r"[\W_]+", "", folded) in _COMMON:
        return "common"
    if zxcvbn(passphrase, user_inputs=[staff.email, *staff.email.split("@"), staff.name])["score"] < 3:
        return "guessable"
    return None


def set_passphrase(token: str, passphrase: str) -> str:
    """Keep the passphrase (argon2id) and draw the TOTP secret to register, shown until its first code."""
    with transaction():
        staff = enrolling(token)
        if staff is None:
            raise StaffError("link")
        problem = passphrase_problem(passphrase, staff)
        if problem:
            raise StaffError(problem)
        staff.passphrase_hash = hash_secret(passphrase)
        secret = pyotp.random_base32()
        staff.totp_pending = seal(secret)
    return secret


def pending_secret(staff: Staff) -> str | None:
    return unseal(staff.totp_pending)


def provisioning_uri(staff: Staff, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=staff.email, issuer_name=ISSUER)


def _step(code: str, secret: str, at: datetime) -> int | None:
    """The time step a 6-digit code belongs to (now, or one step either side for a slow clock), or None."""
    code = re.sub(r"\s", "", code or "")
    if not re.fullmatch(r"\d{6}", code) or not secret:
        return None
    totp = pyotp.TOTP(secret)
    now = int(at.timestamp()) // totp.interval
    for step in (now, now - 1, now + 1):
        if secrets.compare_digest(totp.at(step * totp.interval), code):
            return step
    return None


def _moment() -> datetime:
    return clock.now().replace(tzinfo=timezone.utc)


def _take_step(staff_id: int, step: int) -> bool:
    """A code's time step used once: one conditional UPDATE, so a replay, or two requests at once, fail."""
    return db.session.execute(db.update(Staff).where(Staff.id == staff_id, Staff.totp_last_step < step)
                              .values(totp_last_step=step)).rowcount == 1


def confirm_totp(token: str, code: str) -> Staff:
    """The first code of the authenticator: the enrolment is done and its link no longer works."""
    with transaction():
        staff = enrolling(token)
        if staff is None or staff.passphrase_hash is None:
            raise StaffError("link")
        secret = unseal(staff.totp_pending)
        step = _step(code, secret, _moment())
        if step is None or not _take_step(staff.id, step):
            raise StaffError("code")
        staff.totp_sealed, staff.totp_pending = seal(secret), None
        staff.enrolled_at, staff.enrolment_lookup, staff.enrolment_expires_at = clock.now(), None, None
        audit.append(f"staff:{staff.id}", f"staff:{staff.id}", "staff.enrolled", "desk")
    return staff


def current_code(email: str) -> str:
    """The TOTP code of a demo account now (`flask staff code`); refused for any other account."""
    staff = by_email(email)
    if staff is None or not staff.demo or staff.disabled_at is not None:
        raise StaffError("only the demo accounts have their code printed")
    secret = unseal(staff.totp_sealed) or unseal(staff.totp_pending)
    if not secret:
        raise StaffError("this account has no authenticator yet")
    return pyotp.TOTP(secret).at(_moment())


def enrol_demo(email: str, role: str, name: str, passphrase: str, secret: str) -> None:
    """A demo account, enrolled with a known passphrase and TOTP secret (the README lists them)."""
    with transaction():
        staff = db.session.scalar(db.select(Staff).where(Staff.email == email))
        if staff is None:
            staff = Staff(email=email, name=name, role=role, demo=True, created_at=clock.now())
            db.session.add(staff)
        staff.role, staff.name, staff.demo, staff.disabled_at = role, name, True, None
        staff.passphrase_hash, staff.totp_sealed, staff.totp_pending = hash_secret(passphrase), seal(secret), None
        staff.enrolled_at, staff.enrolment_lookup, staff.failures, staff.locked_until = clock.now(), None, 0, None
        staff.totp_last_step = 0


def disable(email: str) -> Staff:
    """Access ends at once: the account, and every desk session it has open."""
    with transaction():
        staff = by_email(email)
        if staff is None:
            raise StaffError(f"no member of staff {email!r}")
        staff.disabled_at = staff.disabled_at or clock.now()
        staff.enrolment_lookup = None
        ended = db.session.execute(db.update(StaffSession).where(
            StaffSession.staff_id == staff.id, StaffSession.ended_at.is_(None))
            .values(ended_at=clock.now(), end_reason="disabled")).rowcount
        audit.append("operator", f"staff:{staff.id}", "staff.disabled", "cli", sessions_ended=ended)
    return staff


# --- sign-in ------------------------------------------------------------------------------

def _lock_key(staff_or_email: str) -> str:
    return "staff-signin:" + lookup("staff", staff_or_email)[:48]


def sign_in(email: str, passphrase: str, code: str, client: str) -> str:
    """Email, passphrase and the authenticator's code: a new desk session's token. Any failure is the same
    SignInFailed (after the same argon2 work); after STAFF_LOCK_AFTER failures an account is locked
    STAFF_LOCK_MINUTES, and a client that fails too often is refused as well."""
    c = current_app.config
    key = _lock_key((email or "").strip().lower()[:254])
    window = timedelta(minutes=c["STAFF_LOCK_MINUTES"])
    account = limits.Limit(key, c["STAFF_LOCK_AFTER"], window)
    per_client = limits.Limit("staff-client:" + lookup("client", client)[:48], c["STAFF_CLIENT_FAILURES_PER_HOUR"],
                              timedelta(hours=1))
    # Counted before the work, given back when right: a burst of parallel guesses cannot pass the limit.
    if not limits.take(account, per_client):
        row = db.session.get(Throttle, key)
        raise SignInLocked((row.window_started_at + window) if row else clock.now() + window)
    staff = by_email(email)
    right = verify_secret(staff.passphrase_hash if staff else None, passphrase or "")
    secret = unseal(staff.totp_sealed) if staff and right else None
    step = _step(code, secret, _moment()) if secret else None
    with transaction():
        ok = (staff is not None and right and staff.enrolled_at is not None and staff.disabled_at is None
              and step is not None and _take_step(staff.id, step))
        if not ok:
            audit.append("anonymous", f"staff:{staff.id}" if staff else None, "staff.sign_in_failed", "desk")
    if not ok:
        raise SignInFailed()
    limits.give_back(key)
    limits.give_back(per_client.key)
    token = secrets.token_urlsafe(32)
    with transaction():
        db.session.add(StaffSession(token_hash=token_digest(token), staff_id=staff.id, created_at=clock.now(),
                                    last_seen_at=clock.now()))
        audit.append(f"staff:{staff.id}", f"staff:{staff.id}", "staff.signed_in", "desk")
    return token


def resolve(token: str | None) -> tuple[StaffView | None, str | None]:
    """(the member of staff, None) for a live desk session, else (None, 'idle' | 'expired' | None)."""
    if not token or len(token) > 100:
        return None, None
    row = db.session.scalar(db.select(StaffSession).where(StaffSession.token_hash == token_digest(token)))
    if row is None or row.ended_at is not None:
        return None, ("disabled" if row is not None and row.end_reason == "disabled" else None)
    staff = db.session.get(Staff, row.staff_id)
    c = current_app.config
    reason = keep_alive(row, c["STAFF_SESSION_IDLE_MINUTES"], c["STAFF_SESSION_MAX_HOURS"],
                        "disabled" if staff is None or staff.disabled_at is not None else None)
    return (None, reason) if reason else (view(staff), None)


def sign_out(token: str | None) -> None:
    base.sign_out(StaffSession, token, lambda row: f"staff:{row.staff_id}", "desk", "staff.signed_out")


def who_of(staff_ids: set[int]) -> dict[int, StaffView]:
    """Who did what at the desk, as the person's «what was done» tab names them: name and role."""
    if not staff_ids:
        return {}
    return {s.id: view(s) for s in db.session.scalars(db.select(Staff).where(Staff.id.in_(staff_ids)))}
