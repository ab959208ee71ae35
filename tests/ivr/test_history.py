"""The access history by phone: read newest first, three at a time; report or block one line; get it by SMS or post."""
import re
from datetime import datetime

import pytest

from app import clock
from app.models import AccessEvent, AccessReport, BlockedProfessional, db
from app.services import access

from .conftest import (
    REFERENCE,
    action_records,
    call_state,
    count,
    gettext_in,
    outbox,
    record_accesses,
    spoken_reference,
    step,
)


def names_in_order(sentences, names):
    """The professionals named in these sentences, in the order they are said."""
    text = " ".join(sentences)
    found = sorted((text.index(n), n) for n in names if n in text)
    return [n for _, n in found]


NAMES = [f"Dr Pro {i}" for i in range(7)]


@pytest.fixture
def history_call(app, en, fr, enrol):
    """history_call(language, accesses) -> (holder, a call at the first batch of the history)."""
    def make(language, n, **enrol_kw):
        holder = enrol(days_ago=60, **enrol_kw)
        record_accesses(app, holder, n)
        c = (en if language == "en" else fr)().press("3").identify(holder)
        assert step(app, c) == "history"
        return holder, c
    return make


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_history_is_read_newest_first_three_at_a_time(app, history_call, language):
    holder, c = history_call(language, 7)
    assert names_in_order(c.last, NAMES) == ["Dr Pro 0", "Dr Pro 1", "Dr Pro 2"]
    c.press("1")
    assert names_in_order(c.last, NAMES) == ["Dr Pro 3", "Dr Pro 4", "Dr Pro 5"]
    c.press("1")
    assert names_in_order(c.last, NAMES) == ["Dr Pro 6"]
    assert step(app, c) == "history"


def test_the_english_history_numbers_each_access_and_offers_the_next_ones(history_call):
    holder, c = history_call("en", 4)
    assert c.last[0] == "The accesses, newest first."
    assert c.last[1].startswith("1. ") and "Dr Pro 0, Cardiologue, in an emergency: Patient inconscient." in c.last[1]
    assert c.last[2].startswith("2. ") and c.last[2].endswith("Dr Pro 1, Cardiologue.")
    assert c.last[3].startswith("3. ")
    assert "To hear more, press 1." in c.last
    c.press("1")
    assert c.last[0].startswith("4. ") and "Dr Pro 3" in c.last[0]
    assert "To hear more, press 1." not in c.last  # the last batch
    assert "To get it by SMS, press 3." in c.last


def test_an_empty_history_says_so(app, en, enrol):
    holder = enrol(days_ago=60)
    c = en().press("3").identify(holder)
    assert c.last == ["Nobody has looked at your health space.", "To go back, press 9."]


def test_a_refused_access_is_said_to_be_refused(app, en, enrol):
    holder = enrol(days_ago=60)
    record_accesses(app, holder, 1)
    c = en().press("4").identify(holder).press("2").press("1")  # no break-glass access from now on
    with app.app_context():
        access.record_access(access.AccessAttempt(
            nir=holder.nir, occurred_at=clock.now(), professional_name="Dr Urgent", profession="Urgentiste",
            organisation="SMUR", mode="break_glass", section="Ordonnances", reason="Malaise"), "cli")
    c.press("1").press("3")
    assert "Dr Urgent" in c.last[1] and c.last[1].endswith("Refused.")
    assert "refused" not in c.last[2]


# --- report or block one line ------------------------------------------------------------------

def event_of(app, holder, name):
    with app.app_context():
        return db.session.scalar(db.select(AccessEvent.id).where(AccessEvent.person_id == holder.person_id,
                                                                 AccessEvent.professional_name == name))


@pytest.mark.parametrize("language", ["fr", "en"])
def test_report_an_access_by_its_number(app, history_call, language):
    holder, c = history_call(language, 5)
    c.press("1")                    # the next ones: accesses 4 and 5
    c.press("2")
    assert step(app, c) == "history_pick"
    c.press("5#")
    assert step(app, c) == "history_act"
    c.press("1")
    assert step(app, c) == "report"
    c.press("1")
    assert REFERENCE.search(c.last[0])
    with app.app_context():
        report = db.session.scalars(db.select(AccessReport)).one()
        assert report.access_event_id == event_of(app, holder, "Dr Pro 4")
        assert report.channel == "voice" and report.reference == spoken_reference(c)


def test_report_said_in_english(app, history_call):
    holder, c = history_call("en", 2)
    c.press("2").press("2#").press("1")
    assert c.last == ["We will look into this access, and give you a case reference.",
                      "To report it, press 1.", "To cancel, press 9."]
    c.speak("yes")
    assert REFERENCE.search(c.last[0]) and count(app, AccessReport) == 1


@pytest.mark.parametrize("language", ["fr", "en"])
def test_block_the_professional_of_an_access(app, history_call, language):
    holder, c = history_call(language, 3)
    c.press("2").press("2#").press("2")
    assert step(app, c) == "block"
    c.press("1")
    assert REFERENCE.search(c.last[0])
    with app.app_context():
        blocked = db.session.scalars(db.select(BlockedProfessional)).one()
        assert blocked.person_id == holder.person_id and blocked.professional_name == "Dr Pro 1"
        assert blocked.unblocked_at is None
    assert [r.action for r in action_records(app, holder)] == ["professional.blocked"]


def test_no_to_blocking_blocks_nobody(app, history_call):
    holder, c = history_call("fr", 3)
    c.press("2").press("1#").press("2").press("2")
    assert c.last[0] == gettext_in(app, "fr", "Nothing was changed.")
    assert count(app, BlockedProfessional) == 0


def test_an_access_reported_twice_gives_one_case(app, history_call):
    holder, c = history_call("en", 2)
    c.press("2").press("1#").press("1").press("1")
    first = spoken_reference(c)
    c.press("1").press("3").press("2").press("1#").press("1").press("1")
    assert c.last[0] == "This is not possible now. Nothing was changed." and step(app, c) == "menu"
    with app.app_context():
        assert db.session.scalars(db.select(AccessReport.reference)).all() == [first]


@pytest.mark.parametrize("typed", ["9#", "4#", "12#"])
def test_a_number_not_in_the_list_is_said_so(app, history_call, typed):
    holder, c = history_call("en", 3)
    c.press("2").press(typed)
    assert c.last[0] == "This number is not in the list." and step(app, c) == "history"


def test_a_number_from_another_batch_is_not_in_the_list(app, history_call):
    holder, c = history_call("en", 5)
    c.press("1").press("2").press("1#")  # access 1 was in the first batch, not this one
    assert c.last[0] == "This number is not in the list."


def test_nine_from_a_line_goes_back_to_the_history(app, history_call):
    holder, c = history_call("en", 2)
    c.press("2").press("1#").press("9")
    assert step(app, c) == "history" and "Dr Pro 0" in c.text


# --- by SMS or by post -----------------------------------------------------------------------------

LONG_NAMES = ["Dr Marie-Amélie de La Tour d'Auvergne-Lauraguais", "Pr Jean-Baptiste Évrard-Saint-Gervais",
              "Dr Anne-Sophie Delacroix-Montmorency", "Dr Pro 3"]


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_history_by_sms_is_queued_in_one_sms(app, en, fr, enrol, language):
    holder = enrol(days_ago=60)
    record_accesses(app, holder, 4, names=LONG_NAMES)
    c = (en if language == "en" else fr)().press("3").identify(holder).press("3")
    assert step(app, c) == "receipt"
    reference = spoken_reference(c)
    [sms] = outbox(app, reference=reference)
    assert sms.channel == "sms" and sms.recipient == holder.phone and sms.status == "queued"
    assert len(sms.body) <= 160, (len(sms.body), sms.body)
    assert re.sub(r"\D", "", sms.body).endswith(reference)
    assert "Dr Marie" in sms.body and "Dr Pro 3" not in sms.body  # the last three only


def test_the_english_call_says_the_history_comes_by_sms(app, en, enrol):
    holder = enrol(days_ago=60)
    record_accesses(app, holder, 1)
    c = en().press("3").identify(holder).press("3")
    assert c.last[0] == "The history will be sent to you by SMS."


def test_without_a_mobile_the_history_comes_by_post(app, en, enrol):
    holder = enrol(days_ago=60, phone=None)
    record_accesses(app, holder, 2)
    c = en().press("3").identify(holder)
    assert "To get it by post, press 3." in c.last
    c.press("3")
    assert c.last[0] == "The history will be sent to you by post."
    [letter] = outbox(app, reference=spoken_reference(c))
    assert letter.channel == "letter" and "Dr Pro 0" in letter.body
    assert call_state(app, c).data["has_mobile"] is False


def test_the_time_of_an_access_is_said_in_french_time(app, en, enrol):
    clock.freeze(datetime(2026, 7, 14, 21, 30))  # UTC: 23:30 in Paris, summer time
    holder = enrol(days_ago=60)
    with app.app_context():
        access.record_access(access.AccessAttempt(
            nir=holder.nir, occurred_at=datetime(2026, 7, 14, 21, 30), professional_name="Dr Nuit",
            profession="Urgentiste", organisation="SMUR", mode="normal", section="Ordonnances"), "cli")
    c = en().press("3").identify(holder)
    assert c.last[1] == "1. 14 July, 23:30, Dr Nuit, Urgentiste."
