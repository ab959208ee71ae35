"""QUALITY §3: from the greeting to the spoken reference, an opposition by phone is at most 90 s of speech.

At 150 words a minute, 90 s is 225 words: every <Say> of the call counts, split on whitespace, keying aside.
"""
import re

import pytest

from .conftest import REFERENCE

WORDS_PER_MINUTE = 150
BUDGET_SECONDS = 90
BUDGET_WORDS = BUDGET_SECONDS * WORDS_PER_MINUTE // 60  # 225


def words_until_the_reference(said: list[str]) -> int:
    end = next(i for i, sentence in enumerate(said) if REFERENCE.search(sentence))
    return len(" ".join(said[:end + 1]).split())


def opposition_by_keypad(call, holder, language):
    c = call().start()
    c.press("9") if language == "en" else c.silence()  # French: the caller just waits at the greeting
    c.press("1").identify(holder).press("1")
    return c


@pytest.mark.parametrize("language", ["fr", "en"])
def test_an_opposition_by_phone_fits_90_seconds_of_speech(call, enrol, language):
    holder = enrol(days_ago=10)
    c = opposition_by_keypad(call, holder, language)
    words = words_until_the_reference(c.said)
    print(f"\n{language}: {words} words from the greeting to the reference, "
          f"{words * 60 / WORDS_PER_MINUTE:.0f} s at {WORDS_PER_MINUTE} words a minute (budget {BUDGET_WORDS})")
    assert words <= BUDGET_WORDS


def test_the_count_starts_at_the_greeting_and_ends_with_the_reference(call, enrol):
    holder = enrol(days_ago=10)
    c = opposition_by_keypad(call, holder, "fr")
    end = next(i for i, sentence in enumerate(c.said) if REFERENCE.search(sentence))
    assert re.search(r"\bRelais\b", c.said[0])  # the greeting is the first thing said
    assert end == len(c.said) - 3  # the reference, then "hear it again" and "main menu" are not counted
