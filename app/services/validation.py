"""Validation of operator input (CSV rows, JSON events): every error named by field, in plain words."""
import re
from datetime import date, datetime, timedelta, timezone

import phonenumbers
from flask import current_app

from .. import clock, zones
from ..domain import identifiers
from ..domain.emergency import Mode
from ..domain.errors import InvalidIdentifier
from . import access
from .access import AccessAttempt
from .identity import Enrolment

NAME = re.compile(r"^[^\x00-\x1f<>]+$")
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class RowErrors(Exception):
    def __init__(self, errors: dict[str, str]):
        super().__init__(errors)
        self.errors = errors


NOT_UTF8 = {"row": "is not UTF-8 text: save the file as UTF-8 and import it again"}


def undecodable(*values) -> bool:
    """Bytes that are not UTF-8 arrive as lone surrogates (errors="surrogateescape"): that row is refused."""
    texts = [v for value in values for v in (value if isinstance(value, list) else [value]) if isinstance(v, str)]
    try:
        "".join(texts).encode("utf-8")  # the common case, at C speed: no surrogate at all
        return False
    except UnicodeEncodeError:
        return any("\udc80" <= c <= "\udcff" for v in texts for c in v)


IDENTIFIER_MESSAGES = {
    "nir_missing": "is empty",
    "nir_looks_like_vitale": "looks like a Vitale card serial, not a NIR",
    "nir_missing_key": "has 13 characters: the 2-digit key is missing",
    "nir_length": "must have 15 characters",
    "nir_bad_key": "the key (last 2 digits) does not match",
    "nir_format": "is not a valid NIR",
    "vitale_missing": "is empty",
    "vitale_looks_like_nir": "looks like a NIR, not a Vitale card serial",
    "vitale_format": "must have digits only",
    "vitale_length": "must have 8 to 13 digits",
}


# France's national numbering covers the overseas departments: 0692 is Réunion, 0690 Guadeloupe, …
FRENCH_REGIONS = ("FR", "RE", "GP", "MQ", "GF", "YT", "PM", "BL", "MF")


def normalize_phone(value: str) -> str:
    """National (France, overseas included) or E.164 in, E.164 out; raises ValueError in plain words."""
    for region in FRENCH_REGIONS:
        try:
            number = phonenumbers.parse(value, region)
        except phonenumbers.NumberParseException:
            raise ValueError("is not a phone number") from None
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    raise ValueError("is not a valid phone number")


def _iso_date(value: str) -> date:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value or ""):
        raise ValueError("must be a date as YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError("is not a real date") from None


def _text(value, field: str, errors: dict, max_len: int = 100, required: bool = True) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            errors[field] = "is empty"
        return None
    if not isinstance(value, str):
        errors[field] = "must be text"
        return None
    value = " ".join(value.split())
    if len(value) > max_len or not NAME.match(value):
        errors[field] = f"must be at most {max_len} characters, without control characters"
        return None
    return value


def enrolment_from_row(row: dict, today: date) -> Enrolment:
    errors: dict[str, str] = {}
    def get(k: str) -> str:
        return (row.get(k) or "").strip()
    nir = serial = birth = sent = phone = email = None
    for k in row:
        if isinstance(row[k], str) and CONTROL.search(row[k]):
            errors[k or "row"] = "contains a control character (such as NUL): not a value"
    try:
        nir = identifiers.normalize_nir(get("nir"))
    except InvalidIdentifier as exc:
        errors["nir"] = IDENTIFIER_MESSAGES.get(exc.code, "is not valid")
    try:
        serial = identifiers.normalize_vitale_serial(get("vitale_serial"))
    except InvalidIdentifier as exc:
        errors["vitale_serial"] = IDENTIFIER_MESSAGES.get(exc.code, "is not valid")
    family = _text(get("family_name"), "family_name", errors)
    given = _text(get("given_name"), "given_name", errors)
    try:
        birth = _iso_date(get("birth_date"))
        if birth > today:
            errors["birth_date"] = "is in the future"
    except ValueError as exc:
        errors["birth_date"] = str(exc)
    try:
        sent = _iso_date(get("letter_sent_on"))
    except ValueError as exc:
        errors["letter_sent_on"] = str(exc)
    if get("phone"):
        try:
            phone = normalize_phone(get("phone"))
        except ValueError as exc:
            errors["phone"] = str(exc)
    if get("email"):
        email = get("email")
        if len(email) > 254 or not re.fullmatch(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+", email):
            errors["email"] = "is not an e-mail address"
    language = get("language").lower() or "fr"
    if language not in ("fr", "en"):
        errors["language"] = "must be fr or en"
    postal_code = get("postal_code").replace(" ", "") or None  # optional column: older batches have none
    if postal_code and not zones.valid_postal_code(postal_code):
        errors["postal_code"] = "must have 5 digits"
    if errors:
        raise RowErrors(errors)
    return Enrolment(nir=nir, vitale_serial=serial, family_name=family, given_name=given, birth_date=birth,
                     phone=phone, email=email, language=language, letter_sent_on=sent, postal_code=postal_code)


def _timestamp(value) -> datetime:
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 date and time")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError("must be an ISO 8601 date and time, e.g. 2026-11-24T10:15:00+01:00") from None
    if moment.tzinfo is None:
        raise ValueError("must carry its time zone, e.g. +01:00 or Z")
    try:  # «9999-12-31T23:59:59-23:59» is past the last moment a date can hold once in UTC
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    except OverflowError:
        raise ValueError("is out of range") from None
    c = current_app.config
    since = datetime.fromisoformat(c["ACCESS_EVENTS_SINCE"])
    if moment < since:
        raise ValueError(f"is before {since:%Y-%m-%d}: no health space was open then")
    if moment > clock.now() + timedelta(hours=c["ACCESS_EVENTS_AHEAD_HOURS"]):
        raise ValueError("is in the future")
    return moment


def access_attempt_from_json(data) -> AccessAttempt:
    if not isinstance(data, dict):
        raise RowErrors({"body": "must be a JSON object"})
    errors: dict[str, str] = {}
    nir = occurred = None
    if not isinstance(data.get("nir"), str):
        errors["nir"] = "is required, as text"
    else:
        try:
            nir = identifiers.normalize_nir(data["nir"])
        except InvalidIdentifier as exc:
            errors["nir"] = IDENTIFIER_MESSAGES.get(exc.code, "is not valid")
    try:
        occurred = _timestamp(data.get("occurred_at"))
    except ValueError as exc:
        errors["occurred_at"] = str(exc)
    name = _text(data.get("professional_name"), "professional_name", errors, 200)
    profession = _text(data.get("profession"), "profession", errors)
    organisation = _text(data.get("organisation"), "organisation", errors, 200)
    section = _text(data.get("section"), "section", errors)
    mode = data.get("mode")
    if not isinstance(mode, str) or mode not in {m.value for m in Mode}:
        errors["mode"] = "must be normal, samu or break_glass"
    reason = _text(data.get("reason"), "reason", errors, 500, required=False)
    if mode in (Mode.SAMU, Mode.BREAK_GLASS) and not reason and "reason" not in errors:
        errors["reason"] = "is required for an emergency access"
    professional_id = data.get("professional_id")
    if professional_id is not None and not (isinstance(professional_id, str)
                                            and re.fullmatch(r"[0-9A-Za-z]{1,20}", professional_id.strip())):
        errors["professional_id"] = "must be an RPPS number (digits and letters, at most 20)"
    event_id = data.get("event_id")
    if event_id is not None and not (isinstance(event_id, (str, int)) and 0 < len(str(event_id)) <= 100
                                     and NAME.match(str(event_id))):
        errors["event_id"] = "must be text of at most 100 characters"
    if errors:
        raise RowErrors(errors)
    return AccessAttempt(nir=nir, occurred_at=occurred, professional_name=name, profession=profession,
                         organisation=organisation, mode=mode, section=section, reason=reason,
                         professional_id=professional_id.strip() if professional_id else None,
                         event_id=str(event_id) if event_id is not None else None)


def submit_access(data, channel: str):
    """One access attempt as the health-record system sends it (API or import): validated, decided, recorded.

    Returns (event, decision, created); raises RowErrors naming each bad field, nothing stored.
    """
    attempt = access_attempt_from_json(data)
    try:
        return access.record_access(attempt, channel)
    except access.UnknownPerson:
        raise RowErrors({"nir": "no health space for this NIR"}) from None
