"""Issue 12 §3, QUALITY §3: time for slow callers. Never hung up while identifying; a wait that reminds every 20 s
for two minutes, then offers to wait, an SMS of what to have ready, or a person; a part accepted is never asked again.
"""
import pytest

from app.domain.identifiers import keypad_form

from .conftest import call_state, gettext_in, outbox, step

IDENTIFYING = ["nir", "serial", "birth", "code"]


def at(c, holder, part: str):
    """Go on from the NIR question until the call is at `part`."""
    typed = {"nir": holder.nir + "#", "serial": holder.vitale_serial + "#",
             "birth": holder.birth_date.strftime("%d%m%Y") + "#"}
    for p in IDENTIFYING[:IDENTIFYING.index(part)]:
        c.press(typed[p])
    return c


def test_after_take_your_letter_there_is_a_pause_before_the_first_question(app, en):
    c = en().press("1")
    assert c.last[0] == "Take your letter and your Vitale card." and c.pauses >= 2
    assert step(app, c) == "nir"


@pytest.mark.parametrize("part", IDENTIFYING)
@pytest.mark.parametrize("language", ["fr", "en"])
def test_silence_at_every_step_of_identification_waits_and_never_hangs_up(app, en, fr, enrol, part, language):
    holder = enrol(days_ago=10)
    c = at((en if language == "en" else fr)().press("1"), holder, part)
    c.silence()
    assert step(app, c) == "wait" and not c.ended
    assert c.gather["timeout"] == "20" and c.gather["numDigits"] == "1"
    ready = gettext_in(app, language, "To %(action)s, press %(key)s.",
                       action=gettext_in(app, language, "go on when you are ready"),
                       key=gettext_in(app, language, "star"))
    assert c.last == [gettext_in(app, language, "Take your time."), ready]
    for _ in range(5):  # a short reminder every 20 s, two minutes in all
        c.silence()
        assert step(app, c) == "wait" and not c.ended
        assert c.last == [ready]
    c.silence()
    assert step(app, c) == "stuck" and not c.ended  # the offers: wait longer, an SMS, a person


@pytest.mark.parametrize("part", IDENTIFYING)
def test_star_after_the_wait_goes_back_to_the_same_question_with_what_was_typed_kept(app, en, enrol, part):
    holder = enrol(days_ago=10)
    c = at(en().press("1"), holder, part).silence().silence().press("*")
    assert step(app, c) == part
    kept = call_state(app, c).data
    assert all(kept.get(p) for p in IDENTIFYING[:IDENTIFYING.index(part)])
    if part == "code":
        c.press(keypad_form(holder.code) + "#")
        assert step(app, c) == "oppose"  # nothing accepted was asked twice


def test_saying_ready_resumes_too(app, en, enrol):
    c = en().press("1").silence().speak("I'm ready")
    assert step(app, c) == "nir"


def test_the_offers_after_the_wait(app, en, enrol, twilio):
    c = en().press("1")
    for _ in range(7):
        c.silence()
    assert step(app, c) == "stuck"
    assert c.last == ["To wait longer, press 1.", "To get by SMS what to have ready, press 2.",
                      "To talk to an adviser, press 3.", "To go back, press 9."]
    c.press("1")
    assert step(app, c) == "wait"


def test_what_to_have_ready_comes_by_sms_to_a_mobile_caller(app, en, twilio):
    c = en(caller="+33611112222").press("1")
    for _ in range(7):
        c.silence()
    c.press("2")
    assert c.ended and "SMS" in c.last[0]
    [message] = [m for m in outbox(app) if m.reference and m.person_id is None]
    assert message.channel == "sms"


def test_a_landline_caller_is_not_offered_an_sms(app, en):
    c = en(caller="+33145678901").press("1")
    for _ in range(7):
        c.silence()
    assert "To get by SMS what to have ready, press 2." not in c.last
    c.press("2")
    assert step(app, c) == "stuck"


def test_after_the_offers_silence_may_end_the_call_politely(app, en):
    c = en().press("1")
    for _ in range(7):
        c.silence()
    c.silence().silence().silence()
    assert c.ended and "Goodbye" in c.last[-1]


def test_wrong_details_are_read_back_and_only_the_wrong_part_is_given_again(app, en, enrol):
    holder = enrol(days_ago=10)
    c = en().press("1").press(holder.nir + "#").press("80123456789#")  # a wrong card number
    c.press(holder.birth_date.strftime("%d%m%Y") + "#").press(keypad_form(holder.code) + "#")
    assert step(app, c) == "fix"
    assert c.last[0] == "These details do not match our records."
    text = c.text
    assert "2 50 03" in text or holder.nir[:1] in text
    assert "801 234 567 89" in text  # the card as typed, in groups
    codes = " ".join(c.last)
    assert " ".join(keypad_form(holder.code)[:4]) in codes  # the code by its keys, in the letter's groups of four
    c.press("2").press(holder.vitale_serial + "#")
    assert step(app, c) == "oppose"  # the other parts were not asked again


def test_the_fix_menu_offers_the_four_parts(app, en, enrol):
    holder = enrol(days_ago=10)
    c = en().press("1").press(holder.nir + "#").press(holder.vitale_serial + "#")
    c.press(holder.birth_date.strftime("%d%m%Y") + "#").press(keypad_form("AAAAAAAAAAAA") + "#")
    assert c.last[-4:] == ["To change the number, press 1.", "To change the card, press 2.",
                           "To change the date, press 3.", "To change the code, press 4."]
    c.press("4").press(keypad_form(holder.code) + "#")
    assert step(app, c) == "oppose"


def test_nothing_given_is_kept_once_identified(app, en, enrol):
    holder = enrol(days_ago=10)
    c = en().press("1").identify(holder)
    data = call_state(app, c).data
    assert not {"nir", "serial", "birth", "code", "code_spoken"} & {k for k, v in data.items() if v}


def test_help_and_an_adviser_still_work_while_waiting(app, en):
    c = en().press("1").silence().press("0")
    assert step(app, c) == "wait" and c.last[0].startswith("Help:")
    c.press("0")
    assert step(app, c) in ("callback", "transfer")


def test_a_second_wait_in_the_same_call_starts_afresh(app, en):
    c = en().press("1").silence().silence().press("*")
    c.silence()
    assert c.last[0] == "Take your time."


def test_what_to_have_ready_is_sent_twice_a_day_at_most_to_one_number(app, en, twilio):
    """A caller ID can be forged: the line never floods someone else's phone."""
    def ask():
        c = en(caller="+33611113333").press("1")
        for _ in range(7):
            c.silence()
        return c.press("2")
    assert ask().ended and ask().ended
    third = ask()
    assert not third.ended and third.last[0] == "This number already had this SMS today."
    assert len([m for m in outbox(app) if m.person_id is None]) == 2


@pytest.mark.parametrize("language,words", [("fr", "qu'est-ce que j'ai tapé"), ("en", "read it back please")])
def test_what_was_typed_is_read_back_on_request(app, en, fr, enrol, language, words):
    holder = enrol(days_ago=10)
    c = (en if language == "en" else fr)().press("1").press(holder.nir + "#").press(holder.vitale_serial + "#")
    c.speak(words)
    assert step(app, c) == "birth"
    assert "801 234 567 8" in c.text and holder.nir[5:7] in c.text  # the card and the number, as printed
