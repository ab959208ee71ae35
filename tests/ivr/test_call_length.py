"""QUALITY §3: from the greeting to the spoken reference, an opposition by phone is at most 90 s of speech."""
import re

import pytest

WORDS_PER_MINUTE = 150
BUDGET_SECONDS = 90


def spoken_words(sentences: list[str]) -> int:
    """Words a voice says: tokens with a letter or a digit (a lone colon is silent)."""
    return sum(1 for token in " ".join(sentences).split() if re.search(r"\w", token))


@pytest.mark.parametrize("language", ["fr", "en"])
def test_opposition_by_phone_fits_90_seconds_of_speech(call, enrol, language):
    holder = enrol(days_ago=10)
    c = call().start()
    if language == "en":
        c.press("9")
    else:
        c.silence()  # silence at the greeting goes on in French
    c.press("1")
    c.identify(holder)
    c.press("1")  # confirm the opposition
    said = c.said
    end = next(i for i, s in enumerate(said) if re.search(r"(\d[ ,]+){8}\d", s))
    words = spoken_words(said[:end + 1])
    seconds = words * 60 / WORDS_PER_MINUTE
    print(f"\n{language}: {words} words, {seconds:.0f} s at {WORDS_PER_MINUTE} words a minute")
    assert seconds <= BUDGET_SECONDS
