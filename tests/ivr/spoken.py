"""Words as a voice says them (QUALITY §3): a number is counted as its words (num2words, fr and en), a group
with leading zeros digit by digit, a spelled code letter by letter — a whitespace count undercounts numbers."""
import re

from num2words import num2words

TOKEN = re.compile(r"\d+|[^\W\d_]+(?:['’][^\W\d_]+)*", re.UNICODE)


def _number_words(digits: str, language: str) -> int:
    if len(digits) > 1 and digits.startswith("0"):
        return len(digits)  # «005» is said «zéro zéro cinq»
    return len(re.split(r"[\s-]+", num2words(int(digits), lang=language).strip()))


def spoken_words(text: str, language: str) -> int:
    """How many words a voice says for `text`: «2 40 03 75 112 005 67» is 13 in French, not 7."""
    lang = "fr" if language.startswith("fr") else "en"
    count = 0
    for token in TOKEN.findall(text or ""):
        count += _number_words(token, lang) if token.isdigit() else 1
    return count
