"""Days as people read them, the same on the web, by SMS and on the phone: «1er décembre 2026», "1 December 2026".

One helper so that every channel writes a day alike. French says the first of the month «1er» (the catalog's
entry for the first day, with its context, so the wording stays with the translators); English has one style,
day month year without a comma ("Tuesday 1 December 2026"), never CLDR's US-style "long" format.
"""
import re
from datetime import date, datetime, timezone, tzinfo

from flask_babel import format_date, pgettext, to_user_timezone


def _local(value: date | datetime, tz: tzinfo | None) -> date:
    """The calendar day of `value`: a datetime (naive = UTC, as stored) is read in `tz`, else the user's zone."""
    if not isinstance(value, datetime):
        return value
    if tz is None:
        return to_user_timezone(value).date()
    aware = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return aware.astimezone(tz).date()


def day_number(day: int) -> str:
    """The day of the month as written before its month: «1er» in French for the first, else the number."""
    return pgettext("the first day of a month, before its name", "1") if day == 1 else str(day)


def day(value: date | datetime, *, year: bool = True, weekday: bool = False, tz: tzinfo | None = None) -> str:
    """«mardi 1er décembre 2026» / "Tuesday 1 December 2026" in the current locale.

    year=False leaves the year out («1er décembre»); weekday=True puts the day's name first. A datetime is
    first turned into the day it is in `tz` (or, without `tz`, in the user's zone, as Flask-Babel has it).
    """
    d = _local(value, tz)
    parts = [format_date(d, "EEEE")] if weekday else []
    parts += [day_number(d.day), format_date(d, "MMMM")]
    if year:
        parts.append(str(d.year))
    return " ".join(parts)


_DAY_MONTH_YEAR = re.compile(r"(\d{1,2})[\s./\-]*(\d{1,2})[\s./\-]*(\d{4})|(\d{4})-(\d{1,2})-(\d{1,2})", re.ASCII)


def impossible(raw: str) -> bool:
    """True for a date written right that names no day of the calendar: 31/02/1940, 29 02 1950, 00/05/1960."""
    text = (raw or "").strip()
    m = _DAY_MONTH_YEAR.fullmatch(text)
    if not m:
        return False
    if len(text) == 8 and text.isdigit():
        d, mo, y = int(text[:2]), int(text[2:4]), int(text[4:])
    elif m[1]:
        d, mo, y = int(m[1]), int(m[2]), int(m[3])
    else:
        y, mo, d = int(m[4]), int(m[5]), int(m[6])
    if not (1 <= mo <= 12 and 0 <= d <= 31):
        return False
    try:
        date(y, mo, d)
    except ValueError:
        return True
    return False
