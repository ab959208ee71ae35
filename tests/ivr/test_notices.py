"""The message at each access chosen by phone (issue 13 §8): from the help menu, 3; naming who, naming nobody, none."""
import pytest

from app.models import Person
from tests.conftest import actions_of, row

from .conftest import REFERENCE, step


def person(app, holder) -> Person:
    return row(app, Person, holder.person_id)


def actions(app, holder) -> list[str]:
    return actions_of(app, holder)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_by_phone_from_the_help_menu(app, en, fr, enrol, language):
    holder = enrol(days_ago=60, language=language)
    c = (en if language == "en" else fr)().press("0").press("3").identify(holder)
    assert step(app, c) == "notices"
    if language == "en":
        assert c.last == ["At each access, a message says who looked.", "To name nobody, press 2.",
                          "To get no message, press 3.", "To go back, press 9."]
    c.press("2")
    assert REFERENCE.search(c.last[0]) and person(app, holder).discreet_notices is True
    assert actions(app, holder) == ["notifications.discreet"]
    c.press("9").press("0").press("3")  # already identified: straight to the choice
    assert step(app, c) == "notices"
    c.press("2")  # the choice already made
    assert step(app, c) == "notices" and actions(app, holder) == ["notifications.discreet"]
    c.press("1")
    assert person(app, holder).discreet_notices is False and actions(app, holder)[-1] == "notifications.on"


def test_by_phone_said_aloud(app, en, enrol):
    holder = enrol(days_ago=60, language="en")
    c = en().press("0").speak("alerts").identify(holder)
    assert step(app, c) == "notices"
    c.speak("discreet please")
    assert person(app, holder).discreet_notices is True
