"""QUALITY §3 and issue 12: the phone's budgets, counted in words as a voice says them (tests/ivr/spoken.py).

At 150 words a minute, from the greeting to the spoken reference, keying aside: opposition ≤ 60 s (150 words),
closure ≤ 75 s, one emergency setting ≤ 75 s, the first three accesses of the history ≤ 75 s; every prompt that
ends in a choice ≤ 15 s; any of the four actions ≤ 3 minutes of call, keying included at one key a second.
bench/call_audio.py measures the same calls in real audio (espeak-ng); these hold the budgets without it.
"""
import re

import pytest

from .conftest import REFERENCE, record_accesses
from .spoken import spoken_words

WPM = 150
BUDGETS = {"opposition": 60, "closure": 75, "emergency": 75, "history": 75}
CHOICE_SECONDS = 15
CALL_SECONDS = 180


def seconds(sentences: list[str], language: str) -> float:
    return sum(spoken_words(s, language) for s in sentences) * 60 / WPM


class Keyed:
    """A Caller that counts the keys pressed, the finishing # and * too."""

    def __init__(self, caller):
        self.c, self.keys = caller, 0

    def press(self, digits: str):
        self.keys += len(digits)
        self.c.press(digits)
        return self


def play(call, enrol, app, name: str, language: str):
    """One whole call on the keypad: (what was said from the greeting on, the index of its last counted sentence,
    keys pressed, seconds of <Pause>)."""
    holder = enrol(days_ago=10 if name == "opposition" else 60)
    if name == "history":
        record_accesses(app, holder, 5)
    c = call().start()
    k = Keyed(c)
    pauses = c.pauses
    if language == "en":
        # A key cuts a <Say> short (Twilio's barge-in): the English caller hears the French greeting only up to
        # «For English, press 9», presses 9, and hears nothing of the French menu.
        del c.said[c.said.index("For English, press 9.") + 1:]
        k.press("9")
    k.press({"opposition": "1", "closure": "1", "emergency": "4", "history": "3"}[name])
    pauses += c.pauses
    k.press(holder.nir + "#").press(holder.vitale_serial + "#").press(holder.birth_date.strftime("%d%m%Y") + "#")
    from app.domain.identifiers import keypad_form
    k.press(keypad_form(holder.code) + "#")
    if name == "opposition":
        k.press("1")
    elif name == "closure":
        k.press("1").press("1")
    elif name == "emergency":
        k.press("1").press("1")
    if name == "history":
        end = next(i for i, s in enumerate(c.said) if "Dr Pro 2" in s)
    else:
        end = next(i for i, s in enumerate(c.said) if REFERENCE.search(s))
    return c, end, k.keys, pauses


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("name", list(BUDGETS))
def test_each_action_is_within_its_budget_as_spoken(app, call, enrol, name, language):
    c, end, keys, pauses = play(call, enrol, app, name, language)
    spoken = seconds(c.said[:end + 1], language)
    whole = seconds(c.said, language) + keys + pauses
    print(f"\n{name} {language}: {spoken:.0f} s spoken to the end (budget {BUDGETS[name]}), "
          f"{whole:.0f} s with {keys} keys and {pauses} s of pause (budget {CALL_SECONDS})")
    for sentence in c.said[:end + 1]:
        print(f"  {spoken_words(sentence, language):3d}  {sentence}")
    assert spoken <= BUDGETS[name], c.said[:end + 1]
    assert whole <= CALL_SECONDS


def test_the_count_starts_at_the_greeting_and_ends_with_the_reference(app, call, enrol):
    c, end, _, _ = play(call, enrol, app, "opposition", "fr")
    assert re.search(r"\bRelais\b", c.said[0])  # the greeting is the first thing said
    assert REFERENCE.search(c.said[end]) and end == len(c.said) - 3  # then «hear again» and «back» are not counted


def test_numbers_are_counted_as_spoken_not_as_tokens():
    assert spoken_words("2 40 03 75 112 005 67", "fr") > 7
    assert spoken_words("1940", "fr") == 4  # mille neuf cent quarante
    assert spoken_words("Pour confirmer, tapez 1.", "fr") == 4


@pytest.mark.parametrize("language", ["fr", "en"])
def test_every_prompt_that_ends_in_a_choice_is_within_15_seconds(language, every_menu):
    """Each step's own prompt (tests/ivr/conftest.prompt_of: lead-ins and the history's entries left out)."""
    checked = []
    for name, _, gather, prompt in every_menu(language):
        if gather.get("numDigits") == "1":
            checked.append(name)
            assert seconds(prompt, language) <= CHOICE_SECONDS, (name, seconds(prompt, language), prompt)
    assert len(set(checked)) >= 20, set(checked)
