"""Times said on the phone in the identified caller's zone; a caller not identified hears Paris time."""
from datetime import datetime

import pytest
from flask_babel import force_locale

from app import clock
from tests.local_time import NOW, access_at, enrol_at

from .conftest import step


@pytest.fixture(autouse=True)
def frozen():
    clock.freeze(NOW)


def _first_access(app, opened, holder) -> str:
    c = opened().press("3").identify(holder)
    assert step(app, c) == "history"
    return next(s for s in c.last if "Dr Payet" in s)


@pytest.mark.parametrize("language,day", [("en", "2 December"), ("fr", "2 décembre")])
def test_la_reunion_hears_the_access_at_midnight_the_next_day(app, en, fr, language, day):
    holder = enrol_at(app, "240037511200567", "97400", language=language)
    access_at(app, holder)
    line = _first_access(app, en if language == "en" else fr, holder)
    assert f"{day}, 00:00" in line and "20:00" not in line and "21:00" not in line


def test_a_martinique_mobile_hears_martinique_time(app, en):
    holder = enrol_at(app, "189071305512376", None, phone="+596696123456")
    access_at(app, holder)
    assert "1 December, 16:00" in _first_access(app, en, holder)


def test_paris_by_default(app, en):
    holder = enrol_at(app, "274112A00401768", None)
    access_at(app, holder)
    assert "1 December, 21:00" in _first_access(app, en, holder)


def test_speech_says_moments_and_openings_in_the_readers_zone(app):
    from app import zones
    from ivr import speech
    holder = enrol_at(app, "240037511200567", "97400", language="en")
    moment = datetime(2026, 12, 7, 7, 30)  # Monday 08:30 in Paris
    with app.test_request_context(), force_locale("en"):
        assert speech.moment(moment) == "7 December, 08:30"       # nobody identified: Paris
        assert speech.opening(moment) == "on Monday 7 December at 08:30"
        zones.read_by(holder.person_id)
        assert speech.moment(moment) == "7 December, 11:30"       # La Réunion, UTC+4
        assert speech.opening(moment) == "on Monday 7 December at 11:30"
