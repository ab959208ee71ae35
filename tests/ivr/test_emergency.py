"""Emergency access by phone (L1111-17): SAMU, break-glass, and masked documents, each checked in the database."""
import pytest

from .conftest import REFERENCE, action_records, choices, gettext_in, space, spoken_reference, step


def settings(app, holder):
    s = space(app, holder)
    return s.samu_access, s.break_glass_access, s.masked_in_emergency


@pytest.fixture
def emergency_call(en, fr, enrol):
    """emergency_call(language) -> (holder, a call at the emergency menu of an active space)."""
    def make(language):
        holder = enrol(days_ago=60)
        c = (en if language == "en" else fr)().press("4").identify(holder)
        return holder, c
    return make


def test_the_english_menu_says_each_setting_then_offers_each_change(app, emergency_call):
    holder, c = emergency_call("en")
    assert c.last == ["Allowed now: the SAMU and any professional.",
                      "To refuse the SAMU, press 1.",
                      "To refuse any professional, press 2.",
                      "To show hidden documents, press 3.", "To go back, press 9."]


@pytest.mark.parametrize("language", ["fr", "en"])
def test_switch_samu_access_off(app, emergency_call, language):
    holder, c = emergency_call(language)
    assert step(app, c) == "emergency" and settings(app, holder) == (True, True, False)
    c.press("1")
    assert step(app, c) == "emergency_confirm"
    c.press("1")
    assert REFERENCE.search(c.last[0])
    assert settings(app, holder) == (False, True, False)
    [record] = action_records(app, holder)
    assert record.action == "emergency.samu.off" and record.reference == spoken_reference(c)


def test_switching_samu_off_warns_that_care_can_be_less_safe(emergency_call):
    holder, c = emergency_call("en")
    c.press("1")
    assert c.last[0] == "The SAMU doctor will no longer see your space. Your care may be less safe."


@pytest.mark.parametrize("language", ["fr", "en"])
def test_switch_break_glass_access_off(app, emergency_call, language):
    holder, c = emergency_call(language)
    c.press("2").press("1")
    assert REFERENCE.search(c.last[0])
    assert settings(app, holder) == (True, False, False)
    assert action_records(app, holder)[0].action == "emergency.break_glass.off"


@pytest.mark.parametrize("language", ["fr", "en"])
def test_show_masked_documents_then_hide_them_again(app, emergency_call, language):
    holder, c = emergency_call(language)
    c.press("3").press("1")
    assert settings(app, holder) == (True, True, True)
    c.press("1").press("4")          # main menu, emergency again
    c.press("3").press("1")
    assert settings(app, holder) == (True, True, False)
    assert [r.action for r in action_records(app, holder)] == ["emergency.masked.on", "emergency.masked.off"]


def test_switch_samu_back_on(app, emergency_call):
    holder, c = emergency_call("en")
    c.press("1").press("1").press("1").press("4")
    assert c.last[:2] == ["Allowed now: any professional.", "Refused now: the SAMU."]
    assert "To allow the SAMU again, press 1." in c.last
    c.press("1")
    assert c.last[0] == "The SAMU doctor will be able to see your health space."
    c.press("1")
    assert settings(app, holder) == (True, True, False)


def test_with_both_accesses_off_masked_documents_are_off_and_no_longer_offered(app, emergency_call):
    holder, c = emergency_call("fr")
    c.press("3").press("1")                           # show masked documents
    c.press("1").press("4").press("1").press("1")    # SAMU off
    c.press("1").press("4").press("2").press("1")    # break-glass off
    assert settings(app, holder) == (False, False, False)
    c.press("1").press("4")
    assert "3" not in choices(c.last)
    c.press("3")
    assert c.last[0] == gettext_in(app, "fr", "This choice is not possible.") and step(app, c) == "emergency"


@pytest.mark.parametrize("language,answer", [("en", "no"), ("fr", "non")])
def test_no_leaves_the_settings_as_they_were(app, emergency_call, language, answer):
    holder, c = emergency_call(language)
    c.press("1").speak(answer)
    assert c.last[0] == gettext_in(app, language, "Nothing was changed.")
    assert settings(app, holder) == (True, True, False) and action_records(app, holder) == []


def test_emergency_is_not_offered_on_a_closed_space(app, en, enrol):
    holder = enrol(days_ago=60)
    c = en().press("1").identify(holder).press("1").press("1").press("1").press("4")
    assert c.last[0] == "Your health space is closed." and step(app, c) == "menu"
