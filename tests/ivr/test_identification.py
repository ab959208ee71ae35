"""Identifying by phone: the four numbers typed and checked at once, read back when they do not match; the slips
named; the lockout shared with the web."""
import dataclasses
import re
from datetime import datetime, timedelta

import pytest
from stdnum.fr import nir as stdnum_nir

from app import clock
from app.domain.identifiers import format_code, keypad_form
from app.models import Throttle
from app.outbox import text_of
from ivr import prompts as script
from tests.conftest import User

from .conftest import call_state, count, gettext_in, outbox, said, spoken_reference, step

CORSICA = "274112A00401768"


def type_details(c, holder, nir=None, code=None):
    """The four numbers on the keypad: checked at once."""
    c.press((nir or holder.nir) + "#").press(holder.vitale_serial + "#")
    c.press(holder.birth_date.strftime("%d%m%Y") + "#")
    return c.press(keypad_form(code or holder.code) + "#")


def nir_prompt(app, language):
    return said(app, language, lambda: script.say_nir(None))


# --- checked at once; read back when they do not match -----------------------------------------------

def test_typed_numbers_are_checked_at_once_without_a_read_back(app, en, enrol):
    holder = enrol(days_ago=10)
    c = type_details(en().press("1"), holder)
    assert step(app, c) == "oppose" and call_state(app, c).data["person_id"] == holder.person_id
    assert not any(s.startswith("You gave") for s in c.said)


def test_details_that_do_not_match_are_read_back_as_printed(app, en, enrol):
    holder = enrol(days_ago=10)
    c = type_details(en().press("1"), holder, code="AAAAAAAAAAAA")
    assert step(app, c) == "fix"
    keys = keypad_form("AAAAAAAAAAAA")
    assert c.last[:5] == ["These details do not match our records.", "You gave:",
                          "Number 2 40 03 75 112 005 67.", "Card 801 234 567 80.", "Born 25 March 1950."]
    spaced = [" ".join(keys[i:i + 4]) for i in (0, 4, 8)]
    assert c.last[5] == f"Code {spaced[0]}, {spaced[1]}, {spaced[2]}."  # its keys, in the letter's groups of four
    assert "person_id" not in call_state(app, c).data


def test_the_french_read_back_groups_the_nir_as_on_the_card(app, fr, enrol):
    holder = enrol(days_ago=10)
    c = type_details(fr().press("1"), holder, code="AAAAAAAAAAAA")
    assert step(app, c) == "fix"
    assert "2 40 03 75 112 005 67" in c.text and "801 234 567 80" in c.text
    assert set(c.languages) == {"fr-FR"}


def test_nine_at_the_read_back_forgets_what_was_given(app, en, enrol):
    holder = enrol(days_ago=10)
    c = type_details(en().press("1"), holder, code="AAAAAAAAAAAA").press("9")
    assert step(app, c) == "menu"
    assert not {"nir", "serial", "birth", "code", "person_id"} & set(call_state(app, c).data)


@pytest.mark.parametrize("language", ["fr", "en"])
def test_right_details_identify_and_lead_to_the_chosen_action(app, en, fr, enrol, language):
    holder = enrol(days_ago=10)
    c = (en if language == "en" else fr)().press("1").identify(holder)
    row = call_state(app, c)
    assert row.data["person_id"] == holder.person_id and row.step == "oppose"


def test_what_was_typed_is_forgotten_once_checked(app, en, enrol):
    holder = enrol(days_ago=10)
    c = en().press("1").identify(holder)
    data = call_state(app, c).data
    assert not {"nir", "serial", "birth", "code"} & set(data)


# --- slips -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("typed,slip", [
    ("80123456789", "nir_looks_like_vitale"),      # the Vitale serial typed for the NIR (11 digits)
    ("2400375112005", "nir_missing_key"),          # the NIR without its 2-digit key (13 digits)
    ("240037511200599", "nir_bad_key"),            # a wrong key
])
def test_a_nir_slip_gets_its_own_hint_and_the_same_question(app, en, fr, language, typed, slip):
    c = (en if language == "en" else fr)().press("1").press(typed + "#")
    assert c.last == [said(app, language, script.NIR_HINTS[slip]), *nir_prompt(app, language)]
    assert step(app, c) == "nir" and "nir" not in call_state(app, c).data


@pytest.mark.parametrize("typed,hint", [("80123456789", "This looks like the number of your Vitale card."),
                                        ("2400375112005", "Your number has 13 digits. Add the 2-digit key"),
                                        ("240037511200599", "Check each digit and the key at the end.")])
def test_the_english_hints_name_the_slip(en, typed, hint):
    c = en().press("1").press(typed + "#")
    assert hint in c.last[0]


def test_the_nir_typed_for_the_vitale_serial_is_named(app, en, enrol):
    holder = enrol(days_ago=10)
    c = en().press("1").press(holder.nir + "#").press(holder.nir + "#")
    assert c.last[0] == "This looks like your social security number. Type the serial number of the card."
    assert step(app, c) == "serial"


@pytest.mark.parametrize("language", ["fr", "en"])
def test_an_impossible_birth_date_is_asked_again_with_an_example(app, en, fr, enrol, language):
    holder = enrol(days_ago=10)
    c = (en if language == "en" else fr)().press("1").press(holder.nir + "#").press(holder.vitale_serial + "#")
    c.press("31021950#")
    assert step(app, c) == "birth"
    assert c.last[0] == gettext_in(app, language, "This date does not exist. Check the day and the month.")
    c.press("31131950#")  # no 13th month: a date not typed right, with the example
    assert c.last[0] == gettext_in(app, language, "This date is not right. For the 25th of March 1948, "
                                                  "type 2 5 0 3 1 9 4 8.")


def test_a_code_of_the_wrong_length_is_asked_again(app, en, enrol):
    holder = enrol(days_ago=10)
    c = en().press("1").press(holder.nir + "#").press(holder.vitale_serial + "#")
    c.press(holder.birth_date.strftime("%d%m%Y") + "#").press("12345#")
    assert c.last[0] == "The code has 12 letters and digits: press 12 keys." and step(app, c) == "code"


# --- Corsica -----------------------------------------------------------------------------------------

def test_a_corsican_nir_is_typed_with_the_star_key(app, en, enrol):
    holder = enrol(days_ago=10, nir=CORSICA)
    c = en().press("1")
    c.press("2 7 4 1 1 2 * 1 0 0 4 0 1 7 6 8".replace(" ", "") + "#")
    assert step(app, c) == "serial"
    c.press(holder.vitale_serial + "#").press(holder.birth_date.strftime("%d%m%Y") + "#")
    c.press(keypad_form(holder.code) + "#")
    assert call_state(app, c).data["person_id"] == holder.person_id and step(app, c) == "oppose"


def test_a_2b_nir_is_typed_as_2_star_2(app, fr, enrol):
    body = "185022B001123"
    nir = body + stdnum_nir.calc_check_digits(body)
    holder = enrol(days_ago=10, nir=nir)
    c = fr().press("1")
    type_details(c, holder, nir=nir.replace("2B", "2*2"))
    assert call_state(app, c).data["person_id"] == holder.person_id


# --- wrong details ----------------------------------------------------------------------------------

@pytest.mark.parametrize("language", ["fr", "en"])
def test_wrong_details_do_not_match_and_only_one_part_is_given_again(app, en, fr, enrol, language):
    holder = enrol(days_ago=10)
    c = (en if language == "en" else fr)().press("1")
    type_details(c, dataclasses.replace(holder, vitale_serial="99999999999"))
    assert c.last[0] == gettext_in(app, language, "These details do not match our records.")
    row = call_state(app, c)
    assert row.step == "fix" and "person_id" not in row.data
    c.press("2").press(holder.vitale_serial + "#")  # the card again, nothing else
    assert call_state(app, c).data["person_id"] == holder.person_id


def test_the_english_answer_says_the_details_do_not_match(en, enrol):
    holder = enrol(days_ago=10)
    c = type_details(en().press("1"), holder, code="AAAAAAAAAAAA")
    assert "do not match" in c.last[0]


# --- lockout, shared with the web --------------------------------------------------------------------

START = datetime(2026, 11, 24, 8, 0)


def wrong_code(c, holder):
    """A wrong code: typed with the other details, or, after a failure, given again alone (4 at the read-back)."""
    if step(c.app, c) == "fix":
        return c.press("4").press(keypad_form("AAAAAAAAAAAA") + "#")
    return type_details(c, holder, code="AAAAAAAAAAAA")


def right_code(c, holder):
    if step(c.app, c) == "fix":
        return c.press("4").press(keypad_form(holder.code) + "#")
    return type_details(c, holder)


def fail_by_phone(c, holder, times):
    for i in range(times):
        clock.freeze(START + timedelta(hours=i))  # past each back-off
        wrong_code(c, holder)
        assert "do not match" in c.last[0], c.last
    return c


def fail_on_the_web(app, holder, times):
    u = User(app.test_client(), "en")
    for i in range(times):
        clock.freeze(START + timedelta(hours=i))
        assert "do not match" in u.identify(holder, code="AAAA-AAAA-AAAA").errors[0]


def test_failures_on_the_phone_lock_the_web_too(app, en, enrol):
    holder = enrol(days_ago=10)
    fail_by_phone(en().press("1"), holder, 10)
    clock.freeze(START + timedelta(hours=11))
    page = User(app.test_client(), "en").identify(holder)  # the right details, too late
    assert "Too many attempts" in page.errors[0]
    assert page.soup.select_one(".state") is None


def test_failures_on_the_web_lock_the_phone_too(app, en, enrol):
    holder = enrol(days_ago=10)
    fail_on_the_web(app, holder, 10)
    clock.freeze(START + timedelta(hours=11))
    c = type_details(en().press("1"), holder)  # the right details
    assert c.last[0].startswith("Too many attempts. For your safety, try again after")
    row = call_state(app, c)
    assert row.step == "menu" and "person_id" not in row.data


def test_the_back_off_after_five_phone_failures_holds_on_the_web_then_lifts(app, en, enrol):
    holder = enrol(days_ago=10)
    c = en().press("1")
    clock.freeze(START)
    for _ in range(5):
        wrong_code(c, holder)
    assert "Too many attempts" in User(app.test_client(), "en").identify(holder).errors[0]
    clock.freeze(START + timedelta(minutes=2))
    assert User(app.test_client(), "en").identify(holder).soup.select_one(".state")


def test_a_locked_phone_call_is_told_when_to_try_again_and_is_not_dropped(app, en, enrol):
    holder = enrol(days_ago=10)
    c = en().press("1")
    clock.freeze(START)
    for _ in range(5):
        wrong_code(c, holder)
    wrong_code(c, holder)
    assert c.last[0] == "Too many attempts. For your safety, try again after 24 November, 09:01."
    assert not c.ended and step(app, c) == "menu"
    assert c.last[1:] == said(app, "en", lambda: script.say_menu(None))


def test_a_success_clears_the_failures_of_this_nir(app, en, enrol):
    holder = enrol(days_ago=10)
    c = en().press("1")
    fail_by_phone(c, holder, 3)
    assert count(app, Throttle) == 2  # the NIR and the caller's number
    clock.freeze(START + timedelta(hours=4))
    right_code(c, holder)
    assert call_state(app, c).data["person_id"] == holder.person_id
    assert count(app, Throttle) == 1  # only the caller's own count is left


# --- no letter at hand --------------------------------------------------------------------------------

def without_the_letter(c, holder):
    c.press(holder.nir + "#").press(holder.vitale_serial + "#").press(holder.birth_date.strftime("%d%m%Y") + "#")
    return c.press("1#")


@pytest.mark.parametrize("language", ["fr", "en"])
def test_without_the_letter_a_code_by_sms_identifies(app, en, fr, enrol, language):
    holder = enrol(days_ago=60)
    c = without_the_letter((en if language == "en" else fr)().press("4"), holder)
    assert step(app, c) == "sms_code"  # nothing read back: the code is sent at once
    [sms] = outbox(app, person_id=holder.person_id, channel="sms")
    assert sms.recipient == holder.phone and sms.sensitive
    with app.app_context():
        code = re.search(r"\b(\d{6})\b", text_of(sms)).group(1)
    assert code not in " ".join(c.said)  # sent, never said
    c.press(code + "#")
    row = call_state(app, c)
    assert row.data["person_id"] == holder.person_id and row.step == "emergency"


def test_without_the_letter_a_wrong_sms_code_starts_again(app, en, enrol):
    holder = enrol(days_ago=60)
    c = without_the_letter(en().press("4"), holder).press("000000#")
    assert c.last[0] == "These details do not match our records. Let us try again." and step(app, c) == "nir"


def test_without_the_letter_nor_a_mobile_a_new_code_comes_by_post_and_is_never_said(app, en, enrol):
    holder = enrol(days_ago=60, phone=None)
    c = without_the_letter(en().press("1"), holder)
    assert "Without a mobile, a new letter code will reach you by post." in c.last
    [letter] = outbox(app, person_id=holder.person_id)
    assert letter.channel == "letter" and letter.sensitive
    said_ = " ".join(c.said)
    with app.app_context():
        whole = text_of(letter)
    code = re.search(r"[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}", whole).group(0)
    assert code not in said_ and code.replace("-", "") not in said_
    assert keypad_form(code.replace("-", "")) not in said_.replace(" ", "")
    assert format_code(holder.code) not in whole  # a new code, the old one is void


# --- a used or expired letter code is named, and the code by SMS offered -----------------------------------

SPENT_OFFER = "Type 1, then hash, and we send you a code by SMS, or a new code by post."


def test_a_used_code_is_named_and_the_sms_code_offered_at_the_code_step(app, en, enrol):
    holder = enrol(days_ago=10)
    type_details(en().press("1"), holder)  # the first call uses the letter's code
    c = type_details(en().press("1"), holder)
    assert c.last[:2] == ["Your provisional code has already been used.", SPENT_OFFER]
    assert step(app, c) == "code" and "person_id" not in call_state(app, c).data
    c.press("1#")  # the code by SMS, without typing the three numbers again
    assert step(app, c) == "sms_code"
    [sms] = outbox(app, person_id=holder.person_id, channel="sms")
    with app.app_context():
        code = re.search(r"\b(\d{6})\b", text_of(sms)).group(1)
    c.press(code + "#")
    assert call_state(app, c).data["person_id"] == holder.person_id


@pytest.mark.parametrize("language", ["fr", "en"])
def test_an_expired_letter_code_is_named(app, en, fr, enrol, language):
    holder = enrol(days_ago=60, renew=False)
    c = type_details((en if language == "en" else fr)().press("1"), holder)
    assert c.last[0] == gettext_in(app, language, "Your provisional code has expired.")
    assert step(app, c) == "code"


def test_a_spent_code_on_the_phone_does_not_count_towards_the_lockout(app, en, enrol):
    holder = enrol(days_ago=60, renew=False)
    c = en().press("1")
    type_details(c, holder)
    for _ in range(11):
        c.press(keypad_form(holder.code) + "#")
        assert c.last[0] == "Your provisional code has expired."
    with app.app_context():
        from app.models import db
        assert all(row.failures == 0 for row in db.session.scalars(db.select(Throttle)))


def test_a_caller_who_said_no_hears_it_is_recorded_with_its_day_and_reference(app, en, enrol):
    clock.freeze(datetime(2026, 12, 1, 9, 0))
    holder = enrol(days_ago=10)
    first = type_details(en().press("1"), holder).press("1")  # say no, confirmed
    reference = spoken_reference(first)
    c = type_details(en().press("1"), holder)
    spoken = " ".join(reference[i:i + 3] for i in (0, 3, 6))
    assert c.last[:2] == ["Your provisional code has already been used.",
                          "You said no on 1 December 2026. It is recorded, reference "
                          f"{', '.join(' '.join(g) for g in spoken.split())}."]
    assert step(app, c) == "menu" and "nir" not in call_state(app, c).data
