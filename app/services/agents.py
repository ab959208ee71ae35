"""When an adviser can take a call: the opening hours, the next opening, the half-days offered for a callback.

OPENING_HOURS is an OpenStreetMap opening_hours expression, parsed by opening-hours-py and read in Europe/Paris.
Its `PH` are France's public holidays as the `holidays` package lists them (holidays.France()). opening-hours-py
has a calendar of its own (country="FR", built into the library) and no way to be given another one, so it is
never given a country, and then `PH` matches no day. On a day that holidays.France() lists, each `PH` of the
expression is written as that day's weekday before it is parsed, so the expression's own rule for holidays
applies, whatever it says: «Mo-Fr 08:30-17:30; PH off» reads «Mo-Fr 08:30-17:30; Mo off» on a Monday holiday,
«PH Sa off» (a holiday that is a Saturday) reads «Sa off». `PH +1 day` (the day after a holiday) and `PH -1 day`
(the day before) are written so on the days they cover. `SH` (school holidays) matches no day. Each day is
read on its own, so an opening past midnight (22:00-02:00) is read after midnight as the next day says.
"""
import re
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from typing import Callable

import holidays
import phonenumbers
from flask import current_app
from opening_hours import OpeningHours, ParserError, State

from .. import clock

PARIS = clock.PARIS
NOON = time(13)                     # "am" is before 13:00, "pm" after
LEFT_NOW = timedelta(minutes=30)    # the current half-day is offered while this much of its opening is left
# When a person may be called back, on their own clock: advisers work Paris hours, and a Paris morning is the
# middle of the night in Martinique (08:30 in Paris is 03:30 there in winter).
CALL_FROM, CALL_UNTIL = time(8), time(20)
SEARCH_DAYS = 400                   # how far ahead an opening is looked for: a year, and room for its holidays
WEEKDAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
# A comment in quotes (kept as it is), or `PH` with its day offset and the space before a weekday that follows
# it («PH Mo»: a holiday that is a Monday).
_HOLIDAY = re.compile(r'"[^"]*"|\bPH\b(?:\s*([+-])\s*(\d+)\s*days?\b)?(\s+(?=(?:Mo|Tu|We|Th|Fr|Sa|Su)\b))?')


@lru_cache(maxsize=16)
def _holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.France(years=year))


def is_holiday(day: date) -> bool:
    """A public holiday in France (holidays.France())."""
    return day in _holidays(day.year)


def _written(expression: str, covers: Callable[[int], bool], weekday: int) -> str:
    """The expression with each `PH` that `covers(offset in days)` written as `weekday`, the others as a bare `PH`."""
    def write(match: re.Match) -> str:
        if match.group(0).startswith('"'):
            return match.group(0)
        sign, days, space = match.groups()
        if not covers(int(days or 0) * (-1 if sign == "-" else 1)):
            return "PH" + (space or "")
        return "" if space else WEEKDAYS[weekday]
    return _HOLIDAY.sub(write, expression)


def _read_on(expression: str, day: date) -> str:
    return _written(expression, lambda offset: is_holiday(day - timedelta(days=offset)), day.weekday())


@lru_cache(maxsize=64)
def _parse(text: str) -> OpeningHours:
    return OpeningHours(text, timezone=PARIS, country=None, auto_country=False, auto_timezone=False)


def check(expression: str) -> None:
    """Raise ValueError, in plain words, unless the expression can be read on every kind of day."""
    readings = [_written(expression, lambda offset: False, 0)]
    readings += [_written(expression, lambda offset: True, weekday) for weekday in range(7)]
    for text in readings:
        try:
            _parse(text)
        except ParserError as exc:
            detail = " ".join(line.strip() for line in str(exc).splitlines() if line.strip().startswith("="))
            raise ValueError(f"OPENING_HOURS is not a valid opening_hours expression: {expression!r}"
                             + (f" ({detail.lstrip('= ')})" if detail else "")) from None


def check_settings(config) -> None:
    """At start-up, so that a wrong setting stops the app at once rather than a caller later."""
    check(config["OPENING_HOURS"])
    agent = config["AGENT_NUMBER"]
    if agent.startswith("queue:"):
        if not agent.removeprefix("queue:").strip():
            raise ValueError("AGENT_NUMBER: a Twilio queue needs a name, as queue:NAME")
    elif agent:
        try:
            number = phonenumbers.parse(agent)
        except phonenumbers.NumberParseException:
            number = None
        if number is None or not phonenumbers.is_valid_number(number) or \
                phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) != agent:
            raise ValueError(f"AGENT_NUMBER must be an E.164 number (such as +33140000000), queue:NAME, or empty; "
                             f"it is {agent!r}")
    if not 5 <= config["AGENT_RING_SECONDS"] <= 600:
        raise ValueError("AGENT_RING_SECONDS must be between 5 and 600 (Twilio's <Dial> timeout)")


def _paris(at: datetime | None) -> datetime:
    """`at` (aware, or naive UTC as app/clock.py gives it; None: now) in Paris time."""
    at = clock.now() if at is None else at
    return (at if at.tzinfo else at.replace(tzinfo=timezone.utc)).astimezone(PARIS)


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc)  # aware datetimes of one zone compare and subtract by the wall clock


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), PARIS)


def _open(day: date, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """The open intervals between start and end, within `day`, as the expression reads on that day."""
    rules = _parse(_read_on(current_app.config["OPENING_HOURS"], day))
    return [(a, b) for a, b, state, _comment in rules.intervals(start, end) if state == State.OPEN]


def is_open(at: datetime | None = None) -> bool:
    """Whether advisers answer at `at` (default: now)."""
    moment = _paris(at)
    return _parse(_read_on(current_app.config["OPENING_HOURS"], moment.date())).is_open(moment)


def next_opening(at: datetime | None = None) -> datetime | None:
    """When advisers next answer, in Paris time (`at` itself while open); None when not within a year."""
    moment = _paris(at)
    for n in range(SEARCH_DAYS):
        day = moment.date() + timedelta(days=n)
        spans = _open(day, moment if n == 0 else _midnight(day), _midnight(day + timedelta(days=1)))
        if spans:
            return spans[0][0]
    return None


def _callable(spans: list[tuple[datetime, datetime]], zone) -> list[tuple[datetime, datetime]]:
    """The open spans cut to CALL_FROM-CALL_UNTIL where the person is (`zone`), in that zone; as they are
    without a zone."""
    if zone is None:
        return spans
    out = []
    for a, b in spans:
        start, end = a.astimezone(zone), b.astimezone(zone)
        for day in sorted({start.date(), end.date()}):
            s = max(_utc(start), _utc(datetime.combine(day, CALL_FROM, zone)))
            e = min(_utc(end), _utc(datetime.combine(day, CALL_UNTIL, zone)))
            if s < e:
                out.append((s.astimezone(zone), e.astimezone(zone)))
    return out


def _halves(day: date):
    noon = datetime.combine(day, NOON, PARIS)
    return (("am", _midnight(day), noon), ("pm", noon, _midnight(day + timedelta(days=1))))


def half_days(at: datetime | None = None, count: int = 2, zone=None) -> list[tuple[date, str]]:
    """The next `count` half-days advisers work in, as (day, "am" | "pm"), "am" being before 13:00 Paris time.

    A half-day counts when the opening hours cover any of it; the current one while 30 minutes of it are left.
    `zone`: where the person to call back is; only the part of a half-day between 08:00 and 20:00 there counts.
    """
    moment, found = _paris(at), []
    for n in range(SEARCH_DAYS if count > 0 else 0):
        day = moment.date() + timedelta(days=n)
        for slot, start, end in _halves(day):
            if _utc(end) <= _utc(moment):
                continue
            current = _utc(start) <= _utc(moment)
            left = sum((_utc(b) - _utc(a) for a, b in _callable(_open(day, moment if current else start, end), zone)),
                       timedelta())
            if left >= LEFT_NOW if current else left > timedelta(0):
                found.append((day, slot))
                if len(found) == count:
                    return found
    return found


def call_hours(day: date, slot: str, zone) -> tuple[datetime, datetime] | None:
    """From when until when, on the clock of `zone`, an adviser may call back in this half-day (Paris's day and
    slot): the opening hours cut to 08:00-20:00 there; None when none of it is."""
    [(_slot, start, end)] = [half for half in _halves(day) if half[0] == slot]
    spans = _callable(_open(day, start, end), zone)
    return (spans[0][0], spans[-1][1]) if spans else None
