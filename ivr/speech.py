"""Spoken forms: numbers read back in the groups printed on the card, dates, references digit by digit."""
import re
import unicodedata

from flask_babel import format_date, format_datetime


def fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text or "")
    return "".join(c for c in text if not unicodedata.combining(c)).casefold()


def words_of(text: str) -> set[str]:
    return set(phrase(text).split())


def phrase(text: str) -> str:
    """What was said, as words to match: no case, no accents, and both apostrophes (' and ’) between words,
    so that «l'historique» is «l historique» and «d’urgence» is «d urgence»."""
    return " ".join(re.findall(r"[a-z0-9]+", fold(text)))


def says(said: str, words: str) -> bool:
    """`said` contains one of the comma-separated `words` (each a word or a phrase), as whole words."""
    heard = f" {phrase(said)} "
    return any(f" {p} " in heard for p in (phrase(w) for w in words.split(",")) if p)


def nir(value: str) -> str:
    """As printed on the Vitale card: 2 40 03 75 112 005 67."""
    parts = (value[0], value[1:3], value[3:5], value[5:7], value[7:10], value[10:13], value[13:15])
    return " ".join(parts)


def groups(value: str, size: int) -> str:
    return " ".join(value[i:i + size] for i in range(0, len(value), size))


def digits(value: str) -> str:
    """Digit by digit, with a pause every three: 123 456 789 -> '1 2 3, 4 5 6, 7 8 9'."""
    return ", ".join(" ".join(value[i:i + 3]) for i in range(0, len(value), 3))


def day(value) -> str:
    return format_date(value, "d MMMM y")


def moment(value) -> str:
    return format_datetime(value, "d MMMM, HH:mm")
