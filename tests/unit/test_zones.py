"""Where a person lives, as a time zone: the postal code of the batch, else the phone's prefix, else Paris."""
from datetime import date, datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from app import clock, zones


@pytest.mark.parametrize("postal_code,zone", [
    ("97400", "Indian/Reunion"), ("97410", "Indian/Reunion"), ("97600", "Indian/Mayotte"),
    ("97100", "America/Guadeloupe"), ("97200", "America/Martinique"), ("97300", "America/Cayenne"),
    ("97500", "America/Miquelon"), ("97133", "America/St_Barthelemy"), ("97150", "America/Marigot"),
    ("75011", "Europe/Paris"), ("20000", "Europe/Paris"), ("98000", "Europe/Paris"), ("01000", "Europe/Paris"),
])
def test_the_postal_code_gives_the_zone(postal_code, zone):
    assert zones.zone_for(postal_code, None) == zone
    assert zones.zone_for(postal_code, "+596696123456") == zone  # the postal code comes first


@pytest.mark.parametrize("phone,zone", [
    ("+262692123456", "Indian/Reunion"), ("+262639012345", "Indian/Mayotte"), ("+590690123456", "America/Guadeloupe"),
    ("+596696123456", "America/Martinique"), ("+594694123456", "America/Cayenne"), ("+508551234", "America/Miquelon"),
    ("+33612345678", "Europe/Paris"), ("+262262123456", "Indian/Reunion"),  # a Réunion landline says it too
])
def test_without_a_postal_code_the_phone_prefix_gives_the_zone(phone, zone):
    assert zones.zone_for(None, phone) == zone
    assert zones.zone_for("", phone) == zone


def test_without_either_it_is_paris():
    assert zones.zone_for(None, None) is None
    assert zones.zone_for(None, "+441632960961") is None  # not a French number: no zone of its own
    assert zones.zone_of(SimpleNamespace(time_zone=None, postal_code=None, phone=None)) == ZoneInfo("Europe/Paris")
    assert zones.zone_of(None) == zones.PARIS


def test_a_person_keeps_the_zone_of_enrolment_else_it_is_worked_out():
    assert zones.zone_of(SimpleNamespace(time_zone="Indian/Reunion", postal_code="75011", phone=None)) \
        == ZoneInfo("Indian/Reunion")
    assert zones.zone_of(SimpleNamespace(time_zone=None, postal_code=None, phone="+596696123456")) \
        == ZoneInfo("America/Martinique")
    assert zones.zone_of(SimpleNamespace(time_zone="Not/AZone", postal_code=None, phone=None)) == zones.PARIS


@pytest.mark.parametrize("value,ok", [("97400", True), ("75011", True), ("9740", False), ("974000", False),
                                      ("97A00", False), ("٩٧٤٠٠", False), ("", False)])
def test_a_postal_code_has_5_digits(value, ok):
    assert zones.valid_postal_code(value) is ok


def test_20_00_utc_is_midnight_the_next_day_in_la_reunion():
    moment = datetime(2026, 12, 1, 20, 0)  # naive UTC, as stored
    assert zones.local(moment, ZoneInfo("Indian/Reunion")).strftime("%d/%m %H:%M") == "02/12 00:00"
    assert zones.local(moment, ZoneInfo("America/Martinique")).strftime("%d/%m %H:%M") == "01/12 16:00"
    assert zones.local(moment, ZoneInfo("Indian/Mayotte")).strftime("%d/%m %H:%M") == "01/12 23:00"
    assert zones.local(moment, ZoneInfo("America/Cayenne")).strftime("%d/%m %H:%M") == "01/12 17:00"
    assert zones.local(moment).strftime("%d/%m %H:%M") == "01/12 21:00"  # Paris by default


def test_paris_follows_summer_time_and_the_overseas_departments_do_not():
    reunion, paris, miquelon = ZoneInfo("Indian/Reunion"), zones.PARIS, ZoneInfo("America/Miquelon")
    before, after = datetime(2026, 3, 29, 0, 30), datetime(2026, 3, 29, 1, 30)  # Paris springs forward at 01:00 UTC
    assert zones.local(before, paris).strftime("%H:%M") == "01:30"
    assert zones.local(after, paris).strftime("%H:%M") == "03:30"
    assert zones.local(before, reunion).strftime("%H:%M") == "04:30"
    assert zones.local(after, reunion).strftime("%H:%M") == "05:30"
    assert zones.local(datetime(2026, 7, 1, 12, 0), miquelon).strftime("%H:%M") == "10:00"   # UTC-2 in summer
    assert zones.local(datetime(2026, 12, 1, 12, 0), miquelon).strftime("%H:%M") == "09:00"  # ... UTC-3 in winter
    assert zones.local(datetime(2026, 12, 1, 12, 0), paris).strftime("%H:%M") == "13:00"


def test_a_persons_today_is_the_date_where_they_live():
    clock.freeze(datetime(2026, 3, 12, 23, 30))  # 00:30 in Paris, 03:30 in La Réunion, 19:30 in Martinique
    try:
        assert clock.today() == date(2026, 3, 13)
        assert zones.today_in(ZoneInfo("Indian/Reunion")) == date(2026, 3, 13)
        assert zones.today_in(ZoneInfo("America/Martinique")) == date(2026, 3, 12)
        assert zones.today_in(None) == clock.today()
    finally:
        clock.freeze(None)
