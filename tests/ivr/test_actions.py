"""Oppose, close and reopen by phone, in French and in English, keypad and speech; the web sees the same state."""
import pytest

from app import clock
from app.models import ActionRecord
from ivr import prompts as script
from tests.conftest import User

from .conftest import (
    REFERENCE,
    action_records,
    call_state,
    count,
    gettext_in,
    outbox,
    said,
    space,
    spoken_reference,
    step,
    with_new_code,
)


def at(en, fr, language):
    return (en if language == "en" else fr)()


# --- oppose ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("language", ["fr", "en"])
def test_oppose_in_the_window_gives_a_reference_spoken_digit_by_digit(app, en, fr, enrol, language):
    holder = enrol(days_ago=10)
    c = at(en, fr, language).press("1").identify(holder)
    assert step(app, c) == "oppose"
    c.press("1")
    assert step(app, c) == "receipt"
    assert REFERENCE.search(c.last[0]), c.last
    [record] = action_records(app, holder)
    assert record.action == "space.opposed" and record.channel == "voice"
    assert spoken_reference(c) == record.reference
    assert space(app, holder).state == "opposed"


def test_the_english_receipt_sentence(en, enrol):
    holder = enrol(days_ago=10)
    c = en().press("1").identify(holder).press("1")
    assert c.last[0].startswith("Done. Your reference: ")
    assert c.last[1:] == ["To hear it again, press star.", "To go back, press 9."]


def test_the_reference_is_also_sent_by_sms(app, en, enrol):
    holder = enrol(days_ago=10)
    c = en().press("1").identify(holder).press("1")
    [sms] = outbox(app, reference=spoken_reference(c))
    assert sms.channel == "sms" and sms.recipient == holder.phone and len(sms.body) <= 160


def test_star_at_the_receipt_says_the_reference_again(app, fr, enrol):
    holder = enrol(days_ago=10)
    c = fr().press("1").identify(holder).press("1")
    reference = spoken_reference(c)
    c.press("*")
    assert spoken_reference(c) == reference and count(app, ActionRecord) == 1


def test_silence_after_the_receipt_ends_the_call_with_thanks(app, fr, enrol):
    holder = enrol(days_ago=10)
    c = fr().press("1").identify(holder).press("1").silence()
    assert c.ended and c.last == said(app, "fr", lambda: script.say_goodbye(None))


@pytest.mark.parametrize("language,choose,confirm", [("en", "opposition", "yes"), ("fr", "opposer", "oui")])
def test_oppose_by_speech(app, en, fr, enrol, language, choose, confirm):
    holder = enrol(days_ago=10)
    c = at(en, fr, language).speak(choose).identify(holder)
    assert step(app, c) == "oppose"
    c.speak(confirm)
    assert REFERENCE.search(c.last[0]) and space(app, holder).state == "opposed"


@pytest.mark.parametrize("language,answer", [("en", "no"), ("fr", "non")])
def test_saying_no_cancels_and_changes_nothing(app, en, fr, enrol, language, answer):
    holder = enrol(days_ago=10)
    c = at(en, fr, language).press("1").identify(holder).speak(answer)
    assert c.last[0] == gettext_in(app, language, "Nothing was changed.")
    assert step(app, c) == "menu" and space(app, holder).state == "notified"
    assert action_records(app, holder) == []


def test_no_in_english_says_nothing_was_changed(en, enrol):
    holder = enrol(days_ago=10)
    assert en().press("1").identify(holder).speak("no").last[0] == "Nothing was changed."


@pytest.mark.parametrize("language", ["fr", "en"])
def test_after_the_window_it_is_too_late_and_closing_is_offered(app, en, fr, enrol, language):
    holder = enrol(days_ago=60)
    c = at(en, fr, language).press("1").identify(holder)
    assert step(app, c) == "close"  # the same key says no, or closes when it is too late to say no
    # The rules see it created at the end of the window (closing is offered); the call wrote nothing.
    assert space(app, holder).state == "notified" and not action_records(app, holder)


def test_the_english_too_late_sentence_gives_the_date(app, en, enrol):
    holder = enrol(days_ago=60)
    c = en().press("1").identify(holder)
    ended = space(app, holder).window_ends_on
    year = "" if ended.year == clock.today().year else f" {ended.year}"  # this year's date said without its year
    assert c.last[0] == f"Too late to say no: the deadline was {ended.day} {ended:%B}{year}."
    assert "To close it and keep your data 10 years, press 1." in c.last


# --- close and reopen ----------------------------------------------------------------------------

@pytest.mark.parametrize("language,key,deletion", [("en", "1", False), ("fr", "2", True), ("fr", "1", False),
                                                   ("en", "2", True)])
def test_close_by_phone_with_archive_or_deletion(app, en, fr, enrol, language, key, deletion):
    holder = enrol(days_ago=60)
    c = at(en, fr, language).press("1").identify(holder)
    assert step(app, c) == "close"
    c.press(key)
    assert step(app, c) == "close_confirm"
    c.press("1")
    assert REFERENCE.search(c.last[0])
    closed = space(app, holder)
    assert closed.state == "closed" and closed.closed_at is not None
    assert (closed.deletion_due_on is not None) is deletion
    assert closed.archive_until is not None
    [record] = action_records(app, holder)
    assert record.action == "space.closed" and record.details["delete_data"] is deletion


def test_close_said_in_french_and_confirmed_with_oui(app, fr, enrol):
    holder = enrol(days_ago=60)
    c = fr().speak("fermer").identify(holder).press("2").speak("oui")
    assert REFERENCE.search(c.last[0]) and space(app, holder).state == "closed"


@pytest.mark.parametrize("language", ["fr", "en"])
def test_reopen_by_phone_cancels_the_deletion(app, en, fr, enrol, language):
    holder = enrol(days_ago=60)
    c = at(en, fr, language).press("1").identify(holder).press("2").press("1")
    assert space(app, holder).deletion_due_on is not None
    c.press("1").press("1")  # the main menu, then "say no, close or reopen" again
    assert step(app, c) == "reopen"
    c.press("1")
    assert REFERENCE.search(c.last[0])
    reopened = space(app, holder)
    assert reopened.state == "active" and reopened.deletion_due_on is None and reopened.archive_until is None
    assert [r.action for r in action_records(app, holder)] == ["space.closed", "space.reopened"]


def test_the_english_reopen_question_says_the_deletion_will_be_cancelled(en, enrol):
    holder = enrol(days_ago=60)
    c = en().press("1").identify(holder).press("2").press("1").press("1").press("1")
    assert c.last[:2] == ["Your health space is closed. If you reopen it, your documents come back.",
                          "The deletion you asked for will be cancelled."]


def test_no_to_reopening_keeps_the_space_closed(app, en, enrol):
    holder = enrol(days_ago=60)
    c = en().press("1").identify(holder).press("1").press("1").press("1").press("1").press("2")
    assert c.last[0] == "Nothing was changed." and space(app, holder).state == "closed"


def test_an_opposed_space_can_be_neither_closed_nor_opposed_again(app, en, enrol):
    holder = enrol(days_ago=10)
    c = en().press("1").identify(holder).press("1").press("1")
    c.press("1")
    assert c.last[0] == "You said no: your health space will not be created." and step(app, c) == "menu"
    c.press("1")
    assert step(app, c) == "menu" and len(action_records(app, holder)) == 1


# --- the web and the phone change the same state ----------------------------------------------

def test_opposed_by_phone_then_the_web_says_so(app, fr, enrol):
    holder = enrol(days_ago=10)
    fr().press("1").identify(holder).press("1")
    holder = with_new_code(app, holder)  # the letter's code was used on the phone
    page = User(app.test_client(), "en").identify(holder)
    assert page.soup.select_one(".state").get_text(strip=True) == \
        "You said no. Your health space will not be created."
    assert "Say no to the creation of my health space" not in page.text


def test_closed_on_the_web_then_the_phone_offers_to_reopen(app, en, enrol):
    holder = enrol(days_ago=60)
    u = User(app.test_client(), "en")
    receipt = u.submit(u.identify(holder, next_step="close"), {"choice": "delete"})
    assert receipt.reference and space(app, holder).state == "closed"
    holder = with_new_code(app, holder)
    c = en().press("1").identify(holder)
    assert step(app, c) == "reopen"
    assert "The deletion you asked for will be cancelled." in c.last
    c.press("1")
    assert space(app, holder).state == "active" and space(app, holder).deletion_due_on is None
    assert [(r.action, r.channel) for r in action_records(app, holder)] == [("space.closed", "web"),
                                                                          ("space.reopened", "voice")]


def test_closed_on_the_web_then_the_french_phone_offers_to_reopen(app, fr, enrol):
    holder = enrol(days_ago=60)
    u = User(app.test_client(), "en")
    u.submit(u.identify(holder, next_step="close"), {"choice": "archive"})
    c = fr().press("1").identify(with_new_code(app, holder))
    assert step(app, c) == "reopen"
    assert call_state(app, c).data["goal"] == "change"


def test_a_woman_is_told_she_said_no_in_the_feminine(app, fr, enrol):
    """French agreement from the NIR's first digit (2: a woman), kept for the call only."""
    holder = enrol(days_ago=10)
    assert holder.nir.startswith("2")
    fr().press("1").identify(holder).press("1")
    again = with_new_code(app, holder)
    c = fr().press("1").identify(again)
    assert c.last[0].startswith("Vous vous êtes opposée")
    c._signed_post("/ivr/status", c.params(CallStatus="completed"))
    with app.app_context():
        from app.models import CallState, db
        assert "sex" not in db.session.get(CallState, c.sid).data  # forgotten with the call
