"""Identifiers a person types: NIR, Vitale card serial, provisional code and its keypad form."""
import re
import secrets
from datetime import date

from stdnum.exceptions import ValidationError
from stdnum.fr import nir as stdnum_nir

from .errors import InvalidIdentifier

# Letters chosen to be unambiguous in speech (no B/D/P/T/V, M without N, no S beside F, no O/I/L)
# and easy to read; digits 2-9 (no 0/1 beside letters that look like them).
CODE_ALPHABET = "ACFHKMRX23456789"
CODE_LENGTH = 12

# ITU E.161 keypad: the key that carries each letter.
_KEYPAD = {
    **{c: "2" for c in "ABC"}, **{c: "3" for c in "DEF"}, **{c: "4" for c in "GHI"},
    **{c: "5" for c in "JKL"}, **{c: "6" for c in "MNO"}, **{c: "7" for c in "PQRS"},
    **{c: "8" for c in "TUV"}, **{c: "9" for c in "WXYZ"},
}

_SEPARATORS = re.compile(r"[\s.\-_/]+")


def _digits(value: str) -> bool:
    """Digits 0-9 only: «²» or «٣» are digits to str.isdigit(), never in a number typed here."""
    return value.isascii() and value.isdigit()


def _compact(value: str) -> str:
    return _SEPARATORS.sub("", value or "").upper()


# --- NIR --------------------------------------------------------------------

def normalize_nir(value: str) -> str:
    """Return the 15-character NIR or raise InvalidIdentifier naming the slip."""
    raw = _compact(value)
    if not raw:
        raise InvalidIdentifier("nir_missing")
    if _digits(raw) and 8 <= len(raw) <= 13 and len(raw) != 13:
        raise InvalidIdentifier("nir_looks_like_vitale")
    if len(raw) == 13 and _body_ok(raw):
        raise InvalidIdentifier("nir_missing_key")
    if len(raw) != 15:
        raise InvalidIdentifier("nir_length")
    try:
        return stdnum_nir.validate(raw)
    except ValidationError:
        if _body_ok(raw[:13]) and _digits(raw[13:]):
            raise InvalidIdentifier("nir_bad_key") from None
        raise InvalidIdentifier("nir_format") from None


def _body_ok(body: str) -> bool:
    return bool(re.fullmatch(r"[12378]\d{4}(\d{2}|2A|2B)\d{6}", body, re.ASCII))


def nir_from_keypad(value: str) -> str:
    """Turn a NIR typed on a phone keypad (2A as 2*1, 2B as 2*2) into its written form."""
    raw = re.sub(r"[\s#]", "", value or "")
    return raw.replace("*1", "A").replace("*2", "B")


# --- Vitale card serial -----------------------------------------------------

def normalize_vitale_serial(value: str) -> str:
    raw = _compact(value)
    if not raw:
        raise InvalidIdentifier("vitale_missing")
    if len(raw) == 15 and _body_ok(raw[:13]):
        raise InvalidIdentifier("vitale_looks_like_nir")
    if not _digits(raw):
        raise InvalidIdentifier("vitale_format")
    if not 8 <= len(raw) <= 13:
        raise InvalidIdentifier("vitale_length")
    return raw


def detect_swap(nir_value: str, serial_value: str) -> bool:
    """True when the NIR and the Vitale serial look typed in each other's field."""
    n, s = _compact(nir_value), _compact(serial_value)
    return (_digits(n) and 8 <= len(n) <= 13 and len(s) == 15 and _body_ok(s[:13]))


# --- provisional code ---------------------------------------------------------

def generate_provisional_code() -> str:
    """12 characters drawn uniformly from the 16 of CODE_ALPHABET: 48 random bits (docs/secrets.md)."""
    if len(CODE_ALPHABET) == 16:  # one character a half-byte: as uniform as secrets.choice, ten times faster
        return "".join(CODE_ALPHABET[b >> 4] + CODE_ALPHABET[b & 15] for b in secrets.token_bytes(CODE_LENGTH // 2))
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalize_provisional_code(value: str) -> str:
    raw = _compact(value)
    # A zero or a one can only be a misread O or I: neither is in the alphabet.
    if not raw:
        raise InvalidIdentifier("code_missing")
    if len(raw) != CODE_LENGTH or not (raw.isascii() and raw.isalnum()):
        raise InvalidIdentifier("code_format")
    return raw


def keypad_form(code: str) -> str:
    """The digits typed on a phone for a code: each letter by the key that carries it."""
    return "".join(_KEYPAD.get(c, c) for c in code.upper())


def format_code(code: str) -> str:
    return f"{code[0:4]}-{code[4:8]}-{code[8:12]}"


# --- dates -----------------------------------------------------------------

def parse_birth_date(value: str, today: date) -> date:
    """Accept JJ/MM/AAAA, JJ MM AAAA, JJMMAAAA or AAAA-MM-JJ."""
    raw = (value or "").strip()
    if not raw:
        raise InvalidIdentifier("birth_date_missing")
    m = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", raw, re.ASCII)
    if m:
        y, mo, d = int(m[1]), int(m[2]), int(m[3])
    else:
        parts = re.split(r"[\s./\-]+", raw)
        if len(parts) == 1 and re.fullmatch(r"\d{8}", parts[0], re.ASCII):
            parts = [raw[0:2], raw[2:4], raw[4:8]]
        if len(parts) != 3 or not all(_digits(p) for p in parts) or len(parts[2]) != 4:
            raise InvalidIdentifier("birth_date_format")
        d, mo, y = (int(p) for p in parts)
    try:
        result = date(y, mo, d)
    except ValueError:
        raise InvalidIdentifier("birth_date_format") from None
    if result > today or result.year < 1880:
        raise InvalidIdentifier("birth_date_range")
    return result
