"""Enrolment from the mailing batch, identification with its lockout, new codes and web sessions."""
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app

from .. import audit, clock, messages, outbox, zones
from ..domain import identifiers
from ..domain.errors import CodeSpent, IdentificationFailed, IdentificationLocked, InvalidIdentifier
from ..domain.health_space import Rules, State, window_end
from ..domain.reasons import Reason
from ..models import ActionRecord, HealthSpace, Person, ProvisionalCode, Throttle, WebSession, db
from . import limits, one_time
from .base import Actor, keep_alive, new_reference, sign_out, transaction
from .crypto import hash_secret, keyed_hash, lookup, needs_rehash, token_digest, verify_secret


def rules() -> Rules:
    c = current_app.config
    return Rules(window_days=c["OPPOSITION_WINDOW_DAYS"], archive_years=c["ARCHIVE_YEARS"],
                 deletion_max_months=c["DELETION_MAX_MONTHS"])


def find_person_by_nir(nir: str) -> Person | None:
    return db.session.scalar(db.select(Person).where(Person.nir_lookup == lookup("nir", nir)))


def sex_of(nir: str | None) -> str | None:
    """The sex the NIR's first digit gives, for French agreement («opposée», «née»): 'm' (1), 'f' (2), else None.
    Never stored: known only while the NIR just typed is at hand (a web session keeps the letter, not the NIR)."""
    return {"1": "m", "2": "f"}.get((nir or "")[:1])


def find_person_by_phone(phone: str | None) -> Person | None:
    """The person whose registered number this is (by its keyed hash), or None."""
    if not phone:
        return None
    return db.session.scalar(db.select(Person).where(Person.phone_lookup == lookup("phone", phone)))


def person(person_id: int) -> Person | None:
    return db.session.get(Person, person_id)


# --- enrolment ------------------------------------------------------------------------

@dataclass(frozen=True)
class Enrolment:
    nir: str
    vitale_serial: str
    family_name: str
    given_name: str
    birth_date: date
    phone: str | None
    email: str | None
    language: str
    letter_sent_on: date
    postal_code: str | None = None  # the batch's optional column: where the person lives, so their time zone


def code_hashes(nir_lookup: str, code: str) -> tuple[str, str]:
    """The keyed hashes of a letter code, written and keypad forms, bound to its person (docs/secrets.md)."""
    return keyed_hash("code", nir_lookup, code), keyed_hash("keypad", nir_lookup, identifiers.keypad_form(code))


def vitale_hash(nir_lookup: str, serial: str) -> str:
    return keyed_hash("vitale", nir_lookup, serial)


def _issue_code(person: Person, issued_on: date, code: str | None = None) -> str:
    """Void any earlier code and store a new one, as two keyed hashes (written and keypad forms)."""
    now = clock.now()
    for old in db.session.scalars(db.select(ProvisionalCode).where(
            ProvisionalCode.person_id == person.id, ProvisionalCode.used_at.is_(None),
            ProvisionalCode.voided_at.is_(None))):
        old.voided_at = now
    code = code or identifiers.generate_provisional_code()
    code_hash, keypad_hash = code_hashes(person.nir_lookup, code)
    db.session.add(ProvisionalCode(
        person_id=person.id, code_hash=code_hash, keypad_hash=keypad_hash, issued_at=now,
        expires_on=issued_on + timedelta(days=current_app.config["PROVISIONAL_CODE_VALID_DAYS"])))
    return code


def enrol(e: Enrolment, code: str | None = None) -> str:
    """Store one person of the mailing batch with a notified space; returns their provisional code."""
    if find_person_by_nir(e.nir) is not None:
        raise ValueError("already_enrolled")
    with transaction():
        nir_lookup = lookup("nir", e.nir)
        person = Person(nir_lookup=nir_lookup, vitale_hash=vitale_hash(nir_lookup, e.vitale_serial),
                        family_name=e.family_name, given_name=e.given_name, birth_date=e.birth_date,
                        phone=e.phone, phone_lookup=lookup("phone", e.phone) if e.phone else None,
                        email=e.email, language=e.language, postal_code=e.postal_code,
                        time_zone=zones.zone_for(e.postal_code, e.phone))
        db.session.add(person)
        db.session.flush()
        c = current_app.config
        db.session.add(HealthSpace(person_id=person.id, state=State.NOTIFIED, letter_sent_on=e.letter_sent_on,
                                   window_ends_on=window_end(e.letter_sent_on, rules()),
                                   masked_in_emergency=c["MASKED_IN_EMERGENCY_DEFAULT"]))
        code = _issue_code(person, e.letter_sent_on, code)
        audit.append("operator", audit.who(person.id), "person.enrolled", "cli",
                     letter_sent_on=e.letter_sent_on.isoformat())
    return code


# --- throttling -------------------------------------------------------------------------
# An attempt is counted before its work (the checks of the serial and codes), in one short transaction with the
# NIR's row locked: a burst of parallel guesses cannot all read "not locked yet" and all be checked. A right
# attempt then gives its count back.

def _blocked_until(row: Throttle, now: datetime) -> datetime | None:
    c = current_app.config
    if row.locked_until and row.locked_until > now:
        return row.locked_until
    if row.failures >= c["BACKOFF_AFTER_FAILURES"] and row.last_failure_at:
        wait = timedelta(minutes=2 ** (row.failures - c["BACKOFF_AFTER_FAILURES"]))
        if row.last_failure_at + wait > now:
            return row.last_failure_at + wait
    return None


def _keys(nir: str, client: str) -> tuple[str, str]:
    return "nir:" + lookup("nir", nir)[:60], "client:" + lookup("client", client)[:56]


def _reserve(nir_key: str, client_key: str) -> None:
    """Count this attempt as a failure, unless the NIR or the client must wait: then IdentificationLocked."""
    c, now = current_app.config, clock.now()
    with transaction():
        row, ip = limits.lock(nir_key), limits.lock(client_key)  # always in this order: no deadlock
        # Many people share an address (a carrier's NAT, a help desk): only the hourly limit stops it.
        if ip.locked_until and ip.locked_until > now:
            raise IdentificationLocked(ip.locked_until)
        until = _blocked_until(row, now)
        if until:
            raise IdentificationLocked(until)
        if row.locked_until and row.locked_until <= now:
            row.failures, row.locked_until = 0, None  # a lock served in full starts a new count
        row.failures += 1
        row.last_failure_at = now
        if row.failures >= c["LOCK_AFTER_FAILURES"]:
            row.locked_until = now + timedelta(hours=c["LOCK_HOURS"])
        if ip.window_started_at + timedelta(hours=1) <= now:
            ip.failures, ip.window_started_at, ip.locked_until = 0, now, None
        ip.failures += 1
        ip.last_failure_at = now
        if ip.failures >= c["IP_FAILURES_PER_HOUR"]:
            ip.locked_until = ip.window_started_at + timedelta(hours=1)


def _give_back(nir_key: str, client_key: str, *, reset_nir: bool) -> None:
    """The attempt was right: the NIR's count starts again (identified) or loses this one, and so does the client's."""
    c = current_app.config
    if reset_nir:
        db.session.execute(db.delete(Throttle).where(Throttle.key == nir_key))
    else:
        db.session.execute(db.update(Throttle).where(Throttle.key == nir_key, Throttle.failures > 0).values(
            failures=Throttle.failures - 1,
            locked_until=db.case((Throttle.failures - 1 < c["LOCK_AFTER_FAILURES"], None),
                                 else_=Throttle.locked_until)))
    db.session.execute(db.update(Throttle).where(Throttle.key == client_key, Throttle.failures > 0).values(
        failures=Throttle.failures - 1,
        locked_until=db.case((Throttle.failures - 1 < c["IP_FAILURES_PER_HOUR"], None),
                             else_=Throttle.locked_until)))


def _active_code(person: Person | None) -> ProvisionalCode | None:
    if person is None:
        return None
    return db.session.scalar(db.select(ProvisionalCode).where(
        ProvisionalCode.person_id == person.id, ProvisionalCode.used_at.is_(None),
        ProvisionalCode.voided_at.is_(None),
        ProvisionalCode.expires_on >= clock.today(zones.zone_of(person)))
        .order_by(ProvisionalCode.id.desc()).limit(1))


def _spent_code(person: Person | None) -> ProvisionalCode | None:
    """The person's latest code that can no longer serve, used or past its date: the one on the letter of a
    person who comes back with it. A code voided by a newer one while still valid is not among them."""
    if person is None:
        return None
    return db.session.scalar(db.select(ProvisionalCode).where(
        ProvisionalCode.person_id == person.id,
        db.or_(ProvisionalCode.used_at.is_not(None), ProvisionalCode.expires_on < clock.today()))
        .order_by(ProvisionalCode.id.desc()).limit(1))


def _code_matches(person: Person | None, stored: ProvisionalCode | None, code: str, keypad: bool) -> bool:
    return verify_secret((stored.keypad_hash if keypad else stored.code_hash) if stored else None, code,
                         "keypad" if keypad else "code", person.nir_lookup if person else "")


def _serial_matches(person: Person | None, serial: str) -> bool:
    return verify_secret(person.vitale_hash if person else None, serial, "vitale", person.nir_lookup if person else "")


def _rehash(person: Person, used: ProvisionalCode, serial: str, code: str, keypad: bool) -> None:
    """Secrets still in the argon2 form (or under an older key) rewritten as keyed hashes, now that they are known
    right: the serial, and the code just used (its written form is known only when it was typed written)."""
    if needs_rehash(person.vitale_hash):
        person.vitale_hash = vitale_hash(person.nir_lookup, serial)
    if keypad:
        if needs_rehash(used.keypad_hash):
            used.keypad_hash = keyed_hash("keypad", person.nir_lookup, code)
    elif needs_rehash(used.code_hash) or needs_rehash(used.keypad_hash):
        used.code_hash, used.keypad_hash = code_hashes(person.nir_lookup, code)


def _code_spent(person: Person, spent: ProvisionalCode) -> CodeSpent:
    """What a right person with a used or expired letter code is told, and offered."""
    space = person.space
    opposed = space is not None and space.state == State.OPPOSED
    record = db.session.scalar(db.select(ActionRecord).where(
        ActionRecord.subject_id == person.id, ActionRecord.action == "space.opposed")
        .order_by(ActionRecord.id.desc()).limit(1)) if opposed else None
    return CodeSpent(Reason.CODE_USED if spent.used_at is not None else Reason.CODE_EXPIRED,
                     has_mobile=bool(person.mobile) and person.sms_blocked_at is None,
                     may_renew=space is not None and space.state not in (State.OPPOSED, State.PURGED),
                     opposed_on=(space.opposed_at or (record.created_at if record else None)) if opposed else None,
                     opposed_reference=record.reference if record else None)


def identify(nir: str, vitale_serial: str, birth_date: date, code: str, *, client: str, channel: str,
             keypad: bool = False) -> int:
    """Check the four things the letter's holder knows; returns the person's id.

    Every failure looks the same (IdentificationFailed), whatever was wrong and whether the NIR exists;
    the same three verifications (the serial, the valid code, the last spent code) run in every case,
    so the timing says nothing either (crypto.verify_secret: the same work for an old argon2 row, a keyed one
    or none). A secret still stored in the argon2 form is rewritten as a keyed hash once identification succeeds.

    One answer is different, as Mon espace santé's: the NIR, the serial and the date of birth are right and the
    code typed IS the person's letter code, but used or expired (CodeSpent, with what to do next). That attempt
    is not counted towards the lockout: the person is who they say, and was right about everything. It is no
    oracle for a code: it is said only when the code typed matches the spent one (checked by its hash like any
    code), which opens nothing; any other code, the valid one guessed wrong included, is a failure like the
    others and counts. It does tell someone who has the three numbers that this code served or expired, which
    is what the person must learn to get in.
    """
    nir_key, client_key = _keys(nir, client)
    _reserve(nir_key, client_key)
    person = find_person_by_nir(nir)
    serial_ok = _serial_matches(person, vitale_serial)
    active, spent = _active_code(person), _spent_code(person)
    code_ok = _code_matches(person, active, code, keypad)
    spent_ok = _code_matches(person, spent, code, keypad)  # made in every case: the same work whatever matched
    right_person = person is not None and serial_ok and person.birth_date == birth_date
    if right_person and code_ok:
        with transaction():
            # Only one of two parallel attempts with the same code can use it.
            used = db.session.execute(db.update(ProvisionalCode).where(
                ProvisionalCode.id == active.id, ProvisionalCode.used_at.is_(None)).values(used_at=clock.now()))
            if used.rowcount == 1:
                _rehash(person, active, vitale_serial, code, keypad)
                _give_back(nir_key, client_key, reset_nir=True)
                audit.append(audit.who(person.id), audit.who(person.id), "identification.succeeded", channel)
        if used.rowcount == 1:
            return person.id
    elif right_person and spent_ok:
        refusal = _code_spent(person, spent)
        with transaction():
            _give_back(nir_key, client_key, reset_nir=False)
            audit.append(audit.who(person.id), audit.who(person.id), "identification.code_spent", channel,
                         reason=str(refusal.reason))
        raise refusal
    with transaction():
        audit.append("anonymous", audit.who(person.id) if person else None, "identification.failed", channel)
    raise IdentificationFailed()


def _same_work(argon2: int = 0, keyed: int = 0) -> None:
    """The hashes a right request would have made, made anyway: the answer's timing says nothing. A new letter
    code is two keyed hashes (crypto.keyed_hash), an SMS code one argon2 hash."""
    for _ in range(argon2):
        hash_secret(secrets.token_hex(8))
    for _ in range(keyed):
        keyed_hash("code", "", secrets.token_hex(8))


def request_new_code(nir: str, vitale_serial: str, birth_date: date, *, client: str, channel: str) -> None:
    """Send a new provisional code to the registered phone, e-mail or address; never show it.

    The caller always gets the same answer, after the same work, so nothing tells whether the details matched.
    At most a few codes a person every 15 minutes and a day (one flood of requests cannot flood their phone).
    """
    nir_key, client_key = _keys(nir, client)
    _client_may_ask(client)
    _reserve(nir_key, client_key)
    person = find_person_by_nir(nir)
    serial_ok = _serial_matches(person, vitale_serial)
    if person is None or not serial_ok or person.birth_date != birth_date \
            or person.space.state in (State.OPPOSED, State.PURGED):
        _same_work(keyed=2)
        with transaction():
            audit.append("anonymous", audit.who(person.id) if person else None, "code.renewal_refused", channel)
        return
    with transaction():
        _give_back(nir_key, client_key, reset_nir=False)
    _renew_code(person, channel)


def _client_may_ask(client: str) -> None:
    """Requests that send something (a new letter code, a sign-in code), counted per client address or number."""
    c, now = current_app.config, clock.now()
    key = "sends:" + lookup("client", client)[:56]
    if not limits.take(limits.Limit(key, c["SENDS_PER_CLIENT_HOUR"], timedelta(hours=1))):
        row = db.session.get(Throttle, key)
        raise IdentificationLocked(row.window_started_at + timedelta(hours=1) if row else now + timedelta(hours=1))


def _renew_code(person: Person, channel: str) -> bool:
    """A new letter code sent to the person, unless they had their share (per 15 minutes, per day)."""
    c = current_app.config
    if not limits.take(limits.Limit(f"renew15:{person.id}", c["NEW_CODE_PER_15_MINUTES"], timedelta(minutes=15)),
                       limits.Limit(f"renewday:{person.id}", c["NEW_CODE_PER_DAY"], timedelta(days=1))):
        _same_work(keyed=2)
        with transaction():
            audit.append(audit.who(person.id), audit.who(person.id), "code.renewal_capped", channel)
        return False
    with transaction():
        today = clock.today()
        code = _issue_code(person, today)
        reference = new_reference()
        valid_until = today + timedelta(days=c["PROVISIONAL_CODE_VALID_DAYS"])
        msg = outbox.queue(person, messages.new_code(person, code, reference, valid_until), reference,
                           secret=identifiers.format_code(code))
        audit.append(audit.who(person.id), audit.who(person.id), "code.renewed", channel, sent_by=msg.channel)
    return True


# --- signing in with a code sent by SMS, when the letter is lost ------------------------------

def send_sign_in_code(nir: str, vitale_serial: str, birth_date: date, *, client: str, channel: str,
                      letter_without_mobile: bool = False) -> None:
    """Text a 6-digit code to the registered mobile; the same answer whatever the details or the number.

    With `letter_without_mobile` (the phone line), a person with no mobile gets a new letter code instead,
    by e-mail or by post.
    """
    nir_key, client_key = _keys(nir, client)
    _client_may_ask(client)
    _reserve(nir_key, client_key)
    person = find_person_by_nir(nir)
    serial_ok = _serial_matches(person, vitale_serial)
    if person is None or not serial_ok or person.birth_date != birth_date:
        _same_work(argon2=1, keyed=2)  # what the longest right path makes: a new letter code, or an SMS code
        with transaction():
            audit.append("anonymous", audit.who(person.id) if person else None, "sign_in_code.refused", channel)
        return
    with transaction():
        _give_back(nir_key, client_key, reset_nir=False)
    if not person.mobile or person.sms_blocked_at is not None:  # a number that opted out: no SMS sign-in
        if letter_without_mobile and person.space.state not in (State.OPPOSED, State.PURGED):
            _renew_code(person, channel)
            _same_work(argon2=1)
        else:
            _same_work(argon2=1, keyed=2)
        return
    _same_work(keyed=2)  # a letter code is two keyed hashes, a one-time code one argon2 hash
    try:
        code = one_time.issue(person.mobile, person.id, "sign_in", {}, channel)
    except one_time.TooManyCodes:
        return
    with transaction():
        reference = new_reference()
        outbox.queue(person, messages.sign_in_code(person, code, reference), reference, secret=code, channel="sms")


def identify_with_sms_code(nir_lookup: str, code: str, *, client: str, channel: str) -> int:
    """The second half: the code from the SMS, for the person whose NIR was given just before."""
    nir_key, client_key = "nir:" + nir_lookup[:60], "client:" + lookup("client", client)[:56]
    _reserve(nir_key, client_key)
    person = db.session.scalar(db.select(Person).where(Person.nir_lookup == nir_lookup))
    phone = person.mobile if person is not None and person.mobile else "+33000000000"
    try:
        pending = one_time.redeem(phone, code, lambda p: person is not None and p.person_id == person.id,
                                  channel, purposes={"sign_in"})
    except one_time.OtherPurpose:  # a code that confirms a request made by SMS: not a way in
        pending = None
    if pending is not None:
        with transaction():
            _give_back(nir_key, client_key, reset_nir=True)
            audit.append(audit.who(person.id), audit.who(person.id), "identification.succeeded", channel,
                         factor="sms_code")
        return person.id
    with transaction():
        audit.append("anonymous", audit.who(person.id) if person else None, "identification.failed", channel,
                     factor="sms_code")
    raise IdentificationFailed()


def second_factor(person_id: int, answer: str):
    """What the person knows besides the SMS, as a check of the request a code confirms: the letter's code to
    say no (the letter of the person it is about: a minor's letter goes to the representative), else the
    sender's own date of birth. SMS alone is a weak factor."""
    def check(pending: one_time.Pending) -> bool:
        if pending.purpose == "oppose":
            try:
                code = identifiers.normalize_provisional_code(answer)
            except InvalidIdentifier:
                return False
            subject = db.session.get(Person, pending.params.get("subject_id", person_id))
            return _code_matches(subject, _active_code(subject), code, keypad=False)
        try:
            born = db.session.get(Person, person_id).birth_date
            return identifiers.parse_birth_date(answer, date(9999, 1, 1)) == born
        except InvalidIdentifier:
            return False
    return check


# --- web sessions -----------------------------------------------------------------------

def start_session(person_id: int) -> str:
    """A fresh random token (256 bits) at each identification: no session fixation."""
    token = secrets.token_urlsafe(32)
    with transaction():
        db.session.add(WebSession(token_hash=token_digest(token), person_id=person_id,
                                  created_at=clock.now(), last_seen_at=clock.now()))
    return token


def resolve_session(token: str | None) -> tuple[int | None, str | None]:
    """(person id, None) for a live session, else (None, 'idle' | 'expired' | None)."""
    if not token:
        return None, None
    row = db.session.scalar(db.select(WebSession).where(WebSession.token_hash == token_digest(token)))
    if row is None or row.ended_at is not None:
        return None, None
    c = current_app.config
    reason = keep_alive(row, c["SESSION_IDLE_MINUTES"], c["SESSION_MAX_HOURS"])
    return (None, reason) if reason else (row.person_id, None)


def end_session(token: str | None) -> None:
    sign_out(WebSession, token, lambda row: audit.who(row.person_id), "web", "session.signed_out")


def actor_for(person_id: int, channel: str) -> Actor:
    return Actor(person_id, channel)
