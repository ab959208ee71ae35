"""Issue 12 §2 and §4: numbers and the code may be said as well as typed; what was said is read back to be checked,
a spoken code letter by letter in the radio alphabet of the call's language."""
import pytest
from num2words import num2words

from .conftest import call_state, gettext_in, step


def in_words(digits: str, language: str) -> str:
    """A number as a person says it: in the groups of the card, a group with a leading zero digit by digit."""
    sizes, out, i = (1, 2, 2, 2, 3, 3, 2), [], 0
    for size in sizes:
        group = digits[i:i + size]
        i += size
        if not group:
            break
        out.append(" ".join(num2words(int(d), lang=language) for d in group) if group.startswith("0")
                   else num2words(int(group), lang=language))
    return " ".join(out)


def spelled(code: str, language: str) -> str:
    radio = {"fr": {"A": "Anatole", "C": "Célestin", "F": "François", "H": "Henri", "K": "Kléber", "M": "Marcel",
                    "R": "Raoul", "X": "Xavier"},
             "en": {"A": "Alpha", "C": "Charlie", "F": "Foxtrot", "H": "Hotel", "K": "Kilo", "M": "Mike",
                    "R": "Romeo", "X": "X-ray"}}[language]
    link = "comme" if language == "fr" else "as in"
    return ", ".join(f"{ch} {link} {radio[ch]}" if ch.isalpha() else num2words(int(ch), lang=language)
                     for ch in code)


@pytest.mark.parametrize("language", ["fr", "en"])
def test_a_caller_who_says_every_number_and_the_code_is_read_back_and_identified(app, en, fr, enrol, language):
    holder = enrol(days_ago=10)
    c = (en if language == "en" else fr)().press("1")
    assert "speech" in c.gather["input"] and c.gather["hints"]
    c.speak(in_words(holder.nir, language))
    assert step(app, c) == "heard"
    n = holder.nir
    groups = " ".join((n[0], n[1:3], n[3:5], n[5:7], n[7:10], n[10:13], n[13:15]))  # as printed on the card
    assert c.last[0] == gettext_in(app, language, "I understood: %(value)s.", value=groups)
    c.press("1")
    assert step(app, c) == "serial"
    c.speak(" ".join(num2words(int(d), lang=language) for d in holder.vitale_serial))
    c.press("1")
    assert step(app, c) == "birth"
    c.speak("vingt-cinq mars mille neuf cent cinquante" if language == "fr" else "the 25th of March 1950")
    assert step(app, c) == "heard" and "1950" in c.last[0]
    c.press("1")
    assert step(app, c) == "code"
    c.speak(spelled(holder.code, language))
    assert step(app, c) == "heard"
    from ivr.heard import RADIO
    first_letter = next(ch for ch in holder.code if ch.isalpha())
    assert RADIO[language][first_letter] in c.last[0]  # spelled back in the radio alphabet of the call's language
    c.press("1")
    assert step(app, c) == "oppose", c.last


def test_a_misheard_number_is_said_again(app, en, enrol):
    holder = enrol(days_ago=10)
    c = en().press("1").speak(in_words(holder.nir, "en"))
    c.press("9")
    assert step(app, c) == "nir"
    assert not call_state(app, c).data.get("nir")


def test_words_that_are_not_a_number_are_asked_again(app, fr):
    c = fr().press("1").speak("je ne sais pas où est ma carte")
    assert step(app, c) == "nir"
    assert c.last[0] == gettext_in(app, "fr", "Sorry, I did not understand. Say it again slowly, or type it.")


def test_a_spoken_wrong_number_gets_the_same_hint_as_a_typed_one(app, en):
    c = en().press("1").speak("one two three four five six seven eight nine one two three")
    if step(app, c) == "heard":
        c.press("1")
    assert step(app, c) == "nir"


def test_repeat_help_and_back_are_understood_at_a_number_step(app, fr):
    c = fr().press("1")
    prompt = c.last[-1]
    assert c.speak("répétez").last == [prompt]
    c.speak("aide")
    assert c.last[-1] == prompt and step(app, c) == "nir"
    c.speak("retour")
    assert step(app, c) == "menu"
