"""Where a person lives, as a time zone: every time and deadline shown, said or texted is in their zone."""
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import phonenumbers
from flask import g, has_app_context
from flask_babel import format_date, format_datetime

from . import clock

PARIS_NAME = "Europe/Paris"
PARIS = clock.PARIS

# The first three digits of a postal code overseas (INSEE: 971…978); Saint-Barthélemy and Saint-Martin also
# keep Guadeloupe's postal codes 97133 and 97150. Anything else is metropolitan France (Corsica, Monaco: Paris).
BY_POSTAL_PREFIX = {
    "971": "America/Guadeloupe", "972": "America/Martinique", "973": "America/Cayenne",
    "974": "Indian/Reunion", "975": "America/Miquelon", "976": "Indian/Mayotte",
    "977": "America/St_Barthelemy", "978": "America/Marigot",
}
BY_POSTAL_CODE = {"97133": "America/St_Barthelemy", "97150": "America/Marigot"}
# The region libphonenumber gives a French number (overseas numbers share the national plan).
BY_PHONE_REGION = {
    "FR": PARIS_NAME, "GP": "America/Guadeloupe", "MQ": "America/Martinique", "GF": "America/Cayenne",
    "RE": "Indian/Reunion", "YT": "Indian/Mayotte", "PM": "America/Miquelon",
    "BL": "America/St_Barthelemy", "MF": "America/Marigot",
}


def valid_postal_code(value: str) -> bool:
    return len(value) == 5 and value.isascii() and value.isdigit()


def of_postal_code(postal_code: str) -> str:
    return BY_POSTAL_CODE.get(postal_code) or BY_POSTAL_PREFIX.get(postal_code[:3], PARIS_NAME)


def of_phone(phone: str | None) -> str | None:
    """The zone a French number (overseas included) belongs to; None for no number or a foreign one."""
    if not phone:
        return None
    try:
        region = phonenumbers.region_code_for_number(phonenumbers.parse(phone, "FR"))
    except phonenumbers.NumberParseException:
        return None
    return BY_PHONE_REGION.get(region)


def zone_for(postal_code: str | None, phone: str | None) -> str | None:
    """The IANA zone from the mailing batch's postal code, else the phone's prefix; None when neither says."""
    if postal_code:
        return of_postal_code(postal_code)
    return of_phone(phone)


def zone_of(person) -> ZoneInfo:
    """The person's zone (as stored at enrolment, else from their postal code or phone); Paris without one."""
    if person is None:
        return PARIS
    name = getattr(person, "time_zone", None) or zone_for(getattr(person, "postal_code", None),
                                                           getattr(person, "phone", None)) or PARIS_NAME
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        return PARIS


def zone_of_id(person_id: int | None) -> ZoneInfo:
    """The zone of a person by id, looked up once per request; Paris for nobody."""
    if person_id is None:
        return PARIS
    cache = g.setdefault("_zones", {}) if has_app_context() else {}
    if person_id not in cache:
        from .extensions import db
        from .models import Person
        cache[person_id] = zone_of(db.session.get(Person, person_id))
    return cache[person_id]


def local(moment: datetime, zone: ZoneInfo | None = None) -> datetime:
    """A stored moment (naive UTC, or aware) as the wall clock of `zone` shows it."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return aware.astimezone(zone or PARIS)


def today_in(zone: ZoneInfo | None = None) -> date:
    """The calendar date in `zone` now: a deadline «until 12 March» ends at midnight where the person lives."""
    return clock.today(zone)


# --- the reader of this request -----------------------------------------------------------
# Web pages and calls format times for whoever reads or hears them. Each channel says who that is, lazily:
# the web's signed-in person is known only once the view's decorator has run; a caller once identified.

def read_by(person_id) -> None:
    """Set who reads this request's times: a person id, or a function giving it (None: Paris)."""
    g._zone_reader = person_id


def current() -> ZoneInfo:
    """The zone of the person this request's times are for; Paris outside a request or for nobody."""
    if not has_app_context():
        return PARIS
    reader = g.get("_zone_reader")
    return zone_of_id(reader() if callable(reader) else reader)


# --- formatting, the one way every channel writes a time --------------------------------

def fmt_datetime(moment: datetime | None, pattern: str, zone: ZoneInfo | None = None) -> str:
    """A stored moment in the zone (default: this request's reader), in the locale's words."""
    if moment is None:
        return ""
    return format_datetime(local(moment, zone or current()), pattern, rebase=False)


def fmt_date(value: date | datetime | None, pattern: str, zone: ZoneInfo | None = None) -> str:
    """A calendar date as it is; a moment first put in the zone (its date there)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = local(value, zone or current()).date()
    return format_date(value, pattern, rebase=False)


def fmt_time(moment: datetime, zone: ZoneInfo | None = None) -> str:
    """«20:00»: hours and minutes in the zone."""
    return local(moment, zone or current()).strftime("%H:%M")
