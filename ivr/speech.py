"""Spoken forms: numbers read back in the groups printed on the card, dates, references digit by digit."""
import re
import unicodedata

import phonenumbers
from flask_babel import format_date
from flask_babel import gettext as _

from app import zones
from app.services import agents, validation


def fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text or "")
    return "".join(c for c in text if not unicodedata.combining(c)).casefold()


def words_of(text: str) -> set[str]:
    return set(phrase(text).split())


def phrase(text: str) -> str:
    """What was said, as words to match: no case, no accents, and both apostrophes (' and ’) between words,
    so that «l'historique» is «l historique» and «d’urgence» is «d urgence»."""
    return " ".join(re.findall(r"[a-z0-9]+", fold(text)))


def says(said: str, words: str) -> bool:
    """`said` contains one of the comma-separated `words` (each a word or a phrase), as whole words."""
    heard = f" {phrase(said)} "
    return any(f" {p} " in heard for p in (phrase(w) for w in words.split(",")) if p)


def nir(value: str) -> str:
    """As printed on the Vitale card: 2 40 03 75 112 005 67."""
    parts = (value[0], value[1:3], value[3:5], value[5:7], value[7:10], value[10:13], value[13:15])
    return " ".join(parts)


def groups(value: str, size: int) -> str:
    return " ".join(value[i:i + size] for i in range(0, len(value), size))


def digits(value: str) -> str:
    """Digit by digit, with a pause every three: 123 456 789 -> '1 2 3, 4 5 6, 7 8 9'."""
    return ", ".join(" ".join(value[i:i + 3]) for i in range(0, len(value), 3))


def day(value) -> str:
    return format_date(value, "d MMMM y")


def day_of_year(value) -> str:
    """A date of this year without its year («14 novembre»): four words fewer to hear."""
    return format_date(value, "d MMMM") if value.year == zones.today_in(zones.current()).year else day(value)


def moment(value) -> str:
    """A stored moment as the caller's clock shows it (an identified caller's zone, else Paris)."""
    return zones.fmt_datetime(value, "d MMMM, HH:mm")


def half_day(day, slot: str, zone=None) -> str:
    """«mardi 3 décembre, le matin» / "Tuesday 3 December, in the morning"; overseas (`zone`), the hours on the
    caller's clock: «mardi 3 décembre, entre 8:00 et 12:30»."""
    hours = agents.call_hours(day, slot, zone) if zone is not None else None
    if hours:
        return _("%(day)s, between %(start)s and %(end)s", day=format_date(hours[0].date(), "EEEE d MMMM"),
                 start=f"{hours[0]:%H:%M}", end=f"{hours[1]:%H:%M}")
    when = format_date(day, "EEEE d MMMM")
    return _("%(day)s, in the morning", day=when) if slot == "am" else _("%(day)s, in the afternoon", day=when)


def phone(e164: str) -> str:
    """A number as people say it in France: 06 12 34 56 78."""
    try:
        number = phonenumbers.parse(e164, "FR")
    except phonenumbers.NumberParseException:
        return digits(e164.lstrip("+"))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def french_number(value: str | None) -> str | None:
    """A French number (overseas included), typed or from the caller ID, in E.164; None if it is not one."""
    try:
        return validation.normalize_phone((value or "").strip()) if value and value.strip() else None
    except ValueError:
        return None


def is_mobile(e164: str | None) -> bool:
    try:
        return bool(e164) and phonenumbers.number_type(phonenumbers.parse(e164)) == phonenumbers.PhoneNumberType.MOBILE
    except phonenumbers.NumberParseException:
        return False


def opening(moment, zone=None) -> str:
    """When advisers answer again, on the caller's clock (`zone`, else the identified caller's, else Paris):
    «lundi 7 décembre à 8:30»."""
    local = zones.local(moment, zone or zones.current())
    return _("on %(day)s at %(time)s", day=format_date(local.date(), "EEEE d MMMM"), time=local.strftime("%H:%M"))
