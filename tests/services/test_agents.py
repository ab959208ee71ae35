"""Opening hours of the advisers: open or not, the next opening, the half-days offered for a callback.

`PH` follows holidays.France(), not opening-hours-py's own calendar (app/services/agents.py says how)."""
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import holidays
import opening_hours
import pytest

from app import clock, create_app
from app.services import agents
from tests.conftest import TEST_CONFIG

PARIS = ZoneInfo("Europe/Paris")


def paris(*args) -> datetime:
    return datetime(*args, tzinfo=PARIS)


@pytest.fixture
def hours(app, ctx):
    """hours("…") sets OPENING_HOURS for one test; the default is put back afterwards."""
    saved = app.config["OPENING_HOURS"]

    def set_to(expression: str) -> None:
        agents.check(expression)
        app.config["OPENING_HOURS"] = expression
    yield set_to
    app.config["OPENING_HOURS"] = saved


@pytest.fixture
def calendar(monkeypatch):
    """calendar(add=[…], remove=[…]): France's public holidays as holidays.France() would list them."""
    real = holidays.France

    def change(add=(), remove=()):
        def france(*args, **kwargs):
            days = real(*args, **kwargs)
            for day in remove:
                days.pop(day, None)
            for day in add:
                days[day] = "test holiday"
            return days
        monkeypatch.setattr(holidays, "France", france)
        agents._holidays.cache_clear()
    yield change
    agents._holidays.cache_clear()


# --- open or not ------------------------------------------------------------------------------------

def test_the_default_hours_are_the_spec(app):
    assert app.config["OPENING_HOURS"] == "Mo-Fr 08:30-17:30; PH off"
    assert (app.config["AGENT_NUMBER"], app.config["AGENT_RING_SECONDS"]) == ("", 25)


def test_open_on_a_weekday_in_office_hours_only(ctx):
    assert agents.is_open(paris(2026, 11, 30, 10, 0))          # Monday
    assert agents.is_open(paris(2026, 11, 30, 8, 30))
    assert not agents.is_open(paris(2026, 11, 30, 8, 29))
    assert not agents.is_open(paris(2026, 11, 30, 17, 45))
    assert not agents.is_open(paris(2026, 11, 28, 10, 0))      # Saturday
    assert not agents.is_open(paris(2026, 11, 29, 10, 0))      # Sunday


def test_times_are_read_in_paris_whatever_zone_they_come_in(ctx):
    assert agents.is_open(datetime(2026, 11, 30, 7, 30))                       # naive UTC, as the clock gives
    assert agents.is_open(datetime(2026, 11, 30, 7, 30, tzinfo=timezone.utc))  # 08:30 in Paris
    assert agents.is_open(datetime(2026, 11, 30, 12, 0, tzinfo=ZoneInfo("Indian/Reunion")))  # 09:00 in Paris
    assert not agents.is_open(datetime(2026, 11, 30, 11, 0, tzinfo=ZoneInfo("Indian/Reunion")))  # 08:00
    assert not agents.is_open(datetime(2026, 11, 30, 7, 29))


def test_without_a_moment_it_is_the_clocks_now(ctx):
    clock.freeze(datetime(2026, 11, 30, 9, 0))   # 10:00 in Paris, a Monday
    assert agents.is_open()
    clock.freeze(datetime(2026, 11, 30, 17, 0))  # 18:00
    assert not agents.is_open()


@pytest.mark.parametrize("day", [date(2027, 5, 1), date(2027, 7, 14), date(2027, 12, 25), date(2027, 3, 29),
                                 date(2026, 5, 1), date(2026, 12, 25), date(2027, 11, 11), date(2027, 5, 6)])
def test_closed_on_french_public_holidays(ctx, day):
    assert day in holidays.France(years=day.year)
    assert not agents.is_open(paris(day.year, day.month, day.day, 10, 0))
    if day.weekday() < 5:  # the same hour of the week before is open: the holiday closes it
        before = day - timedelta(days=7)
        assert agents.is_open(paris(before.year, before.month, before.day, 10, 0))


def test_holidays_are_holidays_france_not_the_librarys_own_calendar(ctx, calendar):
    """A day holidays.France() adds is closed, a day it leaves out is open, whatever opening-hours-py thinks."""
    own = opening_hours.OpeningHours("Mo-Fr 08:30-17:30; PH off", timezone=PARIS, country="FR")
    assert own.is_open(paris(2027, 6, 4, 10, 0)) and not own.is_open(paris(2027, 7, 14, 10, 0))
    calendar(add=[date(2027, 6, 4)], remove=[date(2027, 7, 14)])
    assert not agents.is_open(paris(2027, 6, 4, 10, 0))
    assert agents.is_open(paris(2027, 7, 14, 10, 0))


def test_over_five_years_it_agrees_with_the_library_where_the_calendars_agree(ctx):
    own = opening_hours.OpeningHours("Mo-Fr 08:30-17:30; PH off", timezone=PARIS, country="FR")
    day = date(2026, 1, 1)
    while day.year < 2031:
        for hour in (8, 10, 17):
            moment = paris(day.year, day.month, day.day, hour, 45)
            assert agents.is_open(moment) == own.is_open(moment), moment
        day += timedelta(days=1)


def test_the_expressions_own_rule_for_holidays_applies(hours):
    hours("Mo-Fr 08:30-17:30; PH 10:00-12:00")
    assert agents.is_open(paris(2027, 7, 14, 11, 0))
    assert not agents.is_open(paris(2027, 7, 14, 15, 0))
    assert agents.is_open(paris(2027, 7, 13, 15, 0))
    hours("Mo-Fr 08:30-17:30; PH Mo off")                      # only a holiday that is a Monday closes
    assert not agents.is_open(paris(2027, 3, 29, 10, 0))       # Easter Monday
    assert agents.is_open(paris(2027, 7, 14, 10, 0))           # a Wednesday
    hours("Mo-Fr 08:30-17:30; PH off; PH +1 day 13:00-17:30")  # the day after a holiday opens at 13:00
    assert not agents.is_open(paris(2027, 3, 30, 10, 0)) and agents.is_open(paris(2027, 3, 30, 14, 0))
    assert agents.is_open(paris(2027, 3, 31, 10, 0))


def test_the_monday_after_each_change_of_summer_time_opens_at_0830_paris(ctx):
    assert not agents.is_open(datetime(2026, 3, 30, 6, 29))    # summer time: 08:29 is 06:29 UTC
    assert agents.is_open(datetime(2026, 3, 30, 6, 30))
    assert not agents.is_open(datetime(2026, 10, 26, 7, 29))   # winter time: 08:30 is 07:30 UTC
    assert agents.is_open(datetime(2026, 10, 26, 7, 30))
    assert agents.next_opening(paris(2026, 3, 27, 19, 0)) == paris(2026, 3, 30, 8, 30)
    assert agents.next_opening(paris(2026, 3, 27, 19, 0)).utcoffset() == timedelta(hours=2)


def test_on_the_days_summer_time_changes_hours_are_paris_hours(hours):
    hours("Mo-Su 08:30-17:30")
    for day, utc_opening in ((date(2026, 3, 29), 6), (date(2026, 10, 25), 7)):
        at = datetime(day.year, day.month, day.day, utc_opening, 30)
        assert agents.is_open(at) and not agents.is_open(at - timedelta(minutes=1))
        assert agents.next_opening(datetime(day.year, day.month, day.day, 0, 30)) == \
            paris(day.year, day.month, day.day, 8, 30)
        assert agents.half_days(paris(day.year, day.month, day.day, 1, 0)) == [(day, "am"), (day, "pm")]


def test_custom_hours_from_the_settings(hours):
    hours("Mo-Sa 09:00-12:00")
    assert agents.is_open(paris(2026, 11, 28, 10, 0))          # Saturday morning
    assert not agents.is_open(paris(2026, 11, 30, 14, 0))      # Monday afternoon
    assert agents.half_days(paris(2026, 11, 27, 13, 0), count=3) == \
        [(date(2026, 11, 28), "am"), (date(2026, 11, 30), "am"), (date(2026, 12, 1), "am")]


# --- the next opening -----------------------------------------------------------------------------

def test_next_opening_from_a_friday_evening_is_monday_0830(ctx):
    assert agents.next_opening(paris(2026, 11, 27, 18, 0)) == paris(2026, 11, 30, 8, 30)
    assert agents.next_opening(datetime(2026, 11, 27, 17, 0)) == paris(2026, 11, 30, 8, 30)  # naive UTC


def test_next_opening_skips_christmas(ctx):
    assert agents.next_opening(paris(2025, 12, 24, 18, 0)) == paris(2025, 12, 26, 8, 30)  # Wednesday -> Friday
    assert agents.next_opening(paris(2026, 12, 24, 18, 0)) == paris(2026, 12, 28, 8, 30)  # Thursday -> Monday


def test_next_opening_while_open_is_now_and_never_is_none(hours):
    assert agents.next_opening(paris(2026, 11, 30, 10, 0)) == paris(2026, 11, 30, 10, 0)
    assert agents.next_opening(paris(2026, 11, 30, 7, 0)) == paris(2026, 11, 30, 8, 30)
    hours("off")
    assert agents.next_opening(paris(2026, 11, 30, 10, 0)) is None
    assert agents.half_days(paris(2026, 11, 30, 10, 0)) == []


# --- half-days ----------------------------------------------------------------------------------

FRIDAY, MONDAY = date(2026, 11, 27), date(2026, 11, 30)


@pytest.mark.parametrize("at, offered", [
    (paris(2026, 11, 27, 7, 0), [(FRIDAY, "am"), (FRIDAY, "pm")]),
    (paris(2026, 11, 27, 12, 30), [(FRIDAY, "am"), (FRIDAY, "pm")]),    # 30 minutes of the morning left
    (paris(2026, 11, 27, 12, 40), [(FRIDAY, "pm"), (MONDAY, "am")]),    # 20 minutes: too late for this one
    (paris(2026, 11, 27, 17, 0), [(FRIDAY, "pm"), (MONDAY, "am")]),
    (paris(2026, 11, 27, 17, 10), [(MONDAY, "am"), (MONDAY, "pm")]),
    (paris(2026, 11, 28, 10, 0), [(MONDAY, "am"), (MONDAY, "pm")]),     # Saturday
    (paris(2026, 12, 24, 16, 0), [(date(2026, 12, 24), "pm"), (date(2026, 12, 28), "am")]),  # Christmas skipped
])
def test_half_days_offered(ctx, at, offered):
    assert agents.half_days(at) == offered


def test_half_days_count_and_the_clock(ctx):
    clock.freeze(datetime(2026, 11, 27, 16, 0))  # Friday 17:00 in Paris
    assert agents.half_days(count=4) == [(FRIDAY, "pm"), (MONDAY, "am"), (MONDAY, "pm"), (date(2026, 12, 1), "am")]
    assert agents.half_days(count=1) == [(FRIDAY, "pm")]
    assert agents.half_days(count=0) == []


def test_a_half_day_counts_when_the_hours_cover_any_of_it(hours):
    hours("Mo-Fr 12:45-13:15")
    assert agents.half_days(paris(2026, 11, 29, 20, 0)) == [(MONDAY, "am"), (MONDAY, "pm")]
    # within a half-day, it is offered only while 30 minutes of opening are left in it
    assert agents.half_days(paris(2026, 11, 30, 8, 0)) == [(MONDAY, "pm"), (date(2026, 12, 1), "am")]


# --- the settings are checked when the app starts --------------------------------------------------

@pytest.mark.parametrize("settings, message", [
    ({"OPENING_HOURS": "Mo-Fr 8h30-17h30"}, "OPENING_HOURS is not a valid opening_hours expression"),
    ({"OPENING_HOURS": "lundi au vendredi"}, "OPENING_HOURS is not a valid opening_hours expression"),
    ({"AGENT_NUMBER": "06 12 34 56 78"}, "AGENT_NUMBER must be an E.164 number"),
    ({"AGENT_NUMBER": "+331"}, "AGENT_NUMBER must be an E.164 number"),
    ({"AGENT_NUMBER": "queue:"}, "AGENT_NUMBER: a Twilio queue needs a name"),
    ({"AGENT_RING_SECONDS": 0}, "AGENT_RING_SECONDS must be between 5 and 600"),
])
def test_a_wrong_setting_stops_the_app_at_start(settings, message):
    with pytest.raises(ValueError, match=message):
        create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": "sqlite://", **settings})


@pytest.mark.parametrize("settings", [
    {"AGENT_NUMBER": "+33140000000"}, {"AGENT_NUMBER": "queue:advisers"}, {"AGENT_NUMBER": ""},
    {"OPENING_HOURS": "Mo-Fr 08:30-12:30,13:30-17:30; Sa 09:00-12:00; PH off"},
    {"OPENING_HOURS": "Mo-Fr 09:00-17:00; PH Mo off; PH +1 day 13:00-17:00 \"after a holiday\""},
])
def test_good_settings_start(settings):
    create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": "sqlite://", **settings})


@pytest.mark.parametrize("zone,am,pm", [
    ("Indian/Reunion", ("11:30", "16:00"), ("16:00", "20:00")),   # UTC+4: 17:30 in Paris is 20:30 there
    ("America/Martinique", None, ("08:00", "12:30")),             # UTC-4: the Paris morning is the night there
    ("America/Cayenne", ("08:00", "09:00"), ("09:00", "13:30")),   # UTC-3
    ("Indian/Mayotte", ("10:30", "15:00"), ("15:00", "19:30")),    # UTC+3
])
def test_overseas_callbacks_keep_to_the_hours_of_where_the_phone_rings(ctx, zone, am, pm):
    monday, tz = date(2026, 11, 30), ZoneInfo(zone)
    for slot, expected in (("am", am), ("pm", pm)):
        hours = agents.call_hours(monday, slot, tz)
        assert (tuple(f"{t:%H:%M}" for t in hours) if hours else None) == expected, slot
    offered = agents.half_days(paris(2026, 11, 30, 7, 0), count=2, zone=tz)
    assert offered == ([(monday, "am"), (monday, "pm")] if am else [(monday, "pm"), (date(2026, 12, 1), "pm")])
    assert agents.half_days(paris(2026, 11, 30, 7, 0), count=2) == [(monday, "am"), (monday, "pm")]
