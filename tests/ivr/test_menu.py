"""Greeting, languages and menus (SPEC §3 Voice, QUALITY §3): the caller is never left without a way on."""
import re
import xml.etree.ElementTree as ET

import pytest

from ivr import prompts as script
from ivr import script as table

from .conftest import CHOICE, CHOICE_EN, call_state, choices, gettext_in, record_accesses, said, step

STAR_OR_ZERO = {"star", "étoile", "0"}


def menu_prompt(app, language):
    return said(app, language, lambda: script.say_menu(None))


def help_text(app, language, kind="key"):
    return said(app, language, lambda: script.help_text(kind))


# --- greeting and language ---------------------------------------------------------------------

def test_the_greeting_offers_english_at_once_in_an_english_voice_then_the_french_menu(app, call):
    c = call().start()
    assert step(app, c) == "menu" and c.gather["language"] == "fr-FR"
    welcome, english = said(app, "fr", lambda: script.greeting("fr"))
    assert c.last[0] == welcome and c.languages[0] == "fr-FR"
    assert (c.last[1], c.languages[1]) == ("For English, press 9.", "en-GB")
    assert c.last[2:] == menu_prompt(app, "fr")  # no dead air: a French caller goes on at once
    assert c.languages[2:] == ["fr-FR"] * len(c.last[2:])


def test_nine_at_the_greeting_switches_the_whole_call_to_english(app, call, enrol):
    holder = enrol(days_ago=10)
    c = call().start().press("9")
    assert call_state(app, c).language == "en"
    assert c.last == menu_prompt(app, "en")
    seen = [c.languages]
    for keys in ("1", holder.nir + "#", holder.vitale_serial + "#", holder.birth_date.strftime("%d%m%Y") + "#"):
        c.press(keys)
        seen.append(c.languages)
        assert c.gather["language"] == "en-GB"
    assert all(lang == "en-GB" for languages in seen for lang in languages), seen


def test_a_french_caller_chooses_at_once_without_waiting(app, call):
    c = call().start().press("1")
    assert step(app, c) == "nir" and call_state(app, c).language == "fr"


def test_nine_later_in_the_call_is_not_a_language_switch(app, fr):
    c = fr().press("0").press("9")  # help, then back to the menu
    c.press("9")
    assert call_state(app, c).language == "fr" and step(app, c) == "menu"
    assert c.last[0] == gettext_in(app, "fr", "This choice is not possible.")


# --- every menu, every prompt ----------------------------------------------------------------------

def menus(seen):
    return [(name, sentences) for name, sentences, gather, _ in seen if gather.get("numDigits") == "1"]


def test_the_walk_visits_every_step_of_the_script(every_menu):
    visited = {name for name, *_ in every_menu("en")}
    assert visited >= set(table.STEPS) - {"goodbye", "silent_goodbye", "transfer"}, set(table.STEPS) - visited


def test_every_english_choice_is_phrased_to_press_a_key(every_menu):
    for name, sentences in menus(every_menu("en")):
        offered = [s for s in sentences if re.search(r"\bpress\b", s)]
        assert offered, (name, sentences)
        assert all(CHOICE_EN.match(s) for s in offered), (name, sentences)


def test_every_french_choice_is_phrased_pour_tapez(every_menu):
    english = menus(every_menu("en"))
    french = menus(every_menu("fr"))
    assert [n for n, _ in french] == [n for n, _ in english]
    for (name, fr_sentences), (_, en_sentences) in zip(french, english):
        expected = sum(1 for s in en_sentences if CHOICE_EN.match(s))
        assert sum(1 for s in fr_sentences if CHOICE.match(s)) == expected, (name, fr_sentences)


@pytest.mark.parametrize("language", ["fr", "en"])
def test_menus_offer_at_most_four_choices_besides_star_and_zero(every_menu, language):
    for name, _, gather, prompt in every_menu(language):
        if gather.get("numDigits") != "1" or name == "wait":  # the wait offers only star: go on when ready
            continue
        keys = [k for k in choices(prompt) if k not in STAR_OR_ZERO]
        assert 1 <= len(keys) <= 4, (name, prompt)
        assert len(keys) == len(set(keys)), (name, prompt)


def test_the_main_menu_offers_the_four_actions_then_help(app, en):
    assert choices(en().last) == ["1", "2", "3", "4", "0"]


@pytest.mark.parametrize("language,finish", [("en", r"followed by the hash key|then (the )?hash"),
                                             ("fr", r"dièse|followed by the hash key")])
def test_every_number_prompt_says_how_to_finish(every_menu, language, finish):
    prompts = [(name, sentences, gather) for name, sentences, gather, _ in every_menu(language)
               if gather.get("finishOnKey") == "#"]
    assert {name for name, _, _ in prompts} == {"check_reference", "nir", "serial", "birth", "code",
                                                 "history_pick", "sms_code", "for_nir", "helper_nir",
                                                 "helper_birth", "helper_pick", "callback_phone"}
    for name, sentences, gather in prompts:
        assert "numDigits" not in gather
        assert re.search(finish, " ".join(sentences)), (name, sentences)


def test_numbers_and_the_code_may_be_said_with_hints(every_menu):
    for name, sentences, gather, _ in every_menu("fr"):
        if name in ("nir", "serial", "birth", "code", "for_nir", "helper_nir", "helper_birth"):
            assert gather["input"] == "dtmf speech" and gather["hints"], (name, gather)
        elif name in ("history_pick", "helper_pick"):
            assert gather["input"] == "dtmf", (name, gather)


@pytest.mark.parametrize("language", ["fr", "en"])
def test_menus_wait_8_to_10_seconds_numbers_15_between_keys(every_menu, language):
    for name, sentences, gather, _ in every_menu(language):
        if not gather:
            continue
        expected = (20, 20) if name == "wait" else (15, 15) if gather.get("finishOnKey") == "#" else (8, 10)
        assert expected[0] <= int(gather["timeout"]) <= expected[1], (name, gather)


# --- star, 0, silence, wrong keys -----------------------------------------------------------------

@pytest.mark.parametrize("language", ["fr", "en"])
def test_star_repeats_the_menu(app, en, fr, language):
    c = (en if language == "en" else fr)()
    menu = menu_prompt(app, language)
    c.press("*")
    assert c.last == menu and step(app, c) == "menu"


def test_star_repeats_a_number_prompt(app, en):
    c = en().press("1")
    prompt = list(c.last)
    c.press("*")
    assert c.last == prompt[1:] and step(app, c) == "nir"  # the prompt again, without the lead-in


@pytest.mark.parametrize("language", ["fr", "en"])
def test_zero_gives_help_then_the_same_question(app, en, fr, language):
    c = (en if language == "en" else fr)().press("1")
    prompt = c.last[-1]
    c.press("0")
    assert c.last[0].startswith(help_text(app, language, "number"))  # and, while identifying, «read back»
    assert c.last[-1] == prompt and step(app, c) == "nir"


@pytest.mark.parametrize("language", ["fr", "en"])
def test_zero_twice_asks_for_a_person_at_any_step(app, en, fr, language):
    c = (en if language == "en" else fr)().press("1").press("0").press("0")
    assert step(app, c) in ("callback", "transfer")


def test_zero_at_the_main_menu_opens_help_with_a_person_and_a_way_back(app, en):
    c = en().press("0")
    assert step(app, c) == "help_menu"
    assert c.last[0] == "To talk to an adviser, press 0."
    assert c.last[-1] == "To go back, press 9."
    c.press("9")
    assert c.last == menu_prompt(app, "en")


@pytest.mark.parametrize("language", ["fr", "en"])
def test_silence_is_asked_again_then_help_then_a_polite_goodbye(app, en, fr, language):
    c = (en if language == "en" else fr)()
    menu = menu_prompt(app, language)
    c.silence()
    assert c.last == [gettext_in(app, language, "I did not hear anything."), *menu]
    c.silence()
    assert c.last == [help_text(app, language), *menu]
    assert not c.ended
    c.silence()
    assert c.ended
    assert c.last == said(app, language, lambda: script.say_silent_goodbye(None))


def test_english_silence_sentences(en):
    c = en().silence()
    assert c.last[0] == "I did not hear anything."
    c.silence()
    assert c.last[0].startswith("Help:")
    c.silence()
    assert c.ended and "Goodbye" in c.last[-1]


def test_the_call_never_hangs_up_without_a_sentence(app, en):
    c = en()
    c.silence().silence()
    response = c._signed_post(c.action, c.params())
    root = ET.fromstring(response.get_data(as_text=True))
    tags = [el.tag for el in root]
    assert tags[-1] == "Hangup" and tags[-2] == "Say" and root.find("Say").text.strip()


def test_silence_at_a_number_prompt_is_asked_again_too(app, en):
    c = en().press("0").press("1")
    prompt = c.last[-1]
    c.silence()
    assert c.last == ["I did not hear anything.", prompt] and step(app, c) == "check_reference"


@pytest.mark.parametrize("language", ["fr", "en"])
def test_three_wrong_keys_lead_to_help(app, en, fr, language):
    c = (en if language == "en" else fr)()
    menu = menu_prompt(app, language)
    not_possible = gettext_in(app, language, "This choice is not possible.")
    assert c.press("7").last == [not_possible, *menu]
    assert c.press("8").last == [not_possible, *menu]
    assert c.press("6").last == [help_text(app, language), *menu]
    assert step(app, c) == "menu" and not c.ended


def test_after_help_the_caller_can_still_choose(app, en):
    c = en().press("7").press("8").press("6")
    c.press("1")
    assert step(app, c) == "nir"


# --- speech ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("language,words,goal", [
    ("en", "opposition", "change"), ("en", "history", "history"), ("en", "emergency", "emergency"),
    ("fr", "opposer", "change"), ("fr", "fermer", "change"), ("fr", "historique", "history"),
    ("fr", "urgence", "emergency"), ("en", "someone else", "for_other"),
])
def test_saying_an_action_at_the_main_menu_chooses_it(app, en, fr, language, words, goal):
    c = (en if language == "en" else fr)()
    assert "speech" in c.gather["input"]
    c.speak(words)
    row = call_state(app, c)
    assert row.data["goal"] == goal and row.step == "nir"
    assert ("own letter" in c.last[0]) == (goal == "for_other")


def test_speech_hints_are_in_the_language_of_the_call(app, en, fr):
    assert "opposition" in en().gather["hints"]
    french = fr().gather["hints"]
    assert said(app, "fr", lambda: script.menu_words()["1"]).split(",")[0].strip() in french
    assert said(app, "fr", lambda: script.menu_words()["3"]).split(",")[0].strip() in french


def test_saying_repeat_repeats_the_menu(app, en):
    c = en()
    menu = list(c.last)
    assert c.speak("repeat please").last == menu


def test_words_that_choose_nothing_count_as_a_wrong_answer(app, en):
    c = en().speak("the weather tomorrow")
    assert c.last[0] == "This choice is not possible." and step(app, c) == "menu"


# --- help: is this message really from Relais? ------------------------------------------------------

def test_help_confirms_a_reference_relais_gave(app, en, enrol):
    holder = enrol(days_ago=10)
    first = en().press("1").identify(holder).press("1")
    reference = "".join(ch for ch in first.last[0] if ch.isdigit())
    c = en().press("0").press("1")
    assert step(app, c) == "check_reference" and c.gather["finishOnKey"] == "#"
    c.press(reference + "#")
    assert re.fullmatch(r"Yes, Relais sent this reference on \d{1,2} \w+ \d{4}\.", c.last[0])
    assert step(app, c) == "menu"


def test_help_warns_about_a_reference_relais_never_gave(app, en):
    c = en().press("0").press("1").press("123456789#")
    assert c.last[0] == "We do not know this reference. Do not answer that message, and never give a code."


# --- speech in the other menus (SPEC §1: "do everything by voice or keypad"; §3: DTMF and speech accepted) ---

def test_saying_english_at_the_greeting_switches_to_english(app, call):
    c = call().start()
    assert "speech" in c.gather["input"]  # the greeting listens for speech...
    c.speak("English")
    assert call_state(app, c).language == "en"  # ...so the one choice it offers can be said too


@pytest.mark.parametrize("goal,words,expected", [
    ("1", "delete it", ("close_confirm", {"delete": True})),                # close: delete within 3 months
    ("1", "keep my data", ("close_confirm", {"delete": False})),            # close: keep for 10 years
    ("4", "the SAMU", ("emergency_confirm", {"setting": "samu"})),          # emergency: change the SAMU
    ("3", "the next ones", ("history", {"offset": 3})),                     # history: the next ones
])
def test_the_choices_of_a_submenu_can_be_said_with_its_own_words(app, en, enrol, goal, words, expected):
    holder = enrol(days_ago=60)
    record_accesses(app, holder, 4)
    c = en().press(goal).identify(holder)
    assert "speech" in c.gather["input"]
    c.speak(words)
    row = call_state(app, c)
    name, data = expected
    assert (row.step, {k: row.data.get(k) for k in data}) == (name, data), c.last
