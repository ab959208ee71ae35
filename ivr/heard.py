"""What a caller said, read as the keypad would have typed it: digits, a NIR, a date of birth, a letter code.

Twilio's speech recognition gives us text (`SpeechResult`), French or English: digits ("2 40 03"), words
(«deux quarante zéro trois») or both. Each function turns that text into what the keypad path already takes, or
None when it cannot be read as asked. None of them raises, whatever the input.

How spoken numbers are read (no installed library parses spoken French numbers; text2num was tried and splits
«cent cinq cent douze» as 105 then 112, «soixante cinq cent douze» as 65 then 112, and knows no "oh" or "double"):
- Each number said gives its digits, in order, and the numbers are put end to end: «cent douze» is 112,
  «zéro zéro cinq» is 005, "nineteen forty" is 19 then 40, so 1940.
- Hyphens are spelling. When the text joins number words with a hyphen anywhere («soixante-quinze»), it is
  written by the rules, and words the rules would hyphenate but that stand apart are two numbers:
  «soixante douze» is then 60 then 12. A text with no hyphen at all is read loosely: «quatre vingt dix neuf» = 99.
- A digit just before «cent»/"hundred" counts the hundreds, never the units of the number before it:
  «soixante cinq cent douze» is 60 then 512; «cent cinq cent» is 100 then 500.
- The plural «vingts», «cents» ends a number, as French spelling has it: «quatre-vingts douze» is 80 then 12;
  and «huit cent» without its s goes on: «huit cent sept cent onze» is 807 then 111.
- Right after «zéro»/"oh", a digit is one digit: «zéro cinq cent douze» is 05 then 112.
- Only in a year does a number from 11 to 19 count hundreds: «dix-neuf cent quarante», "nineteen hundred and
  forty" are 1940 in date_heard, 19 then 140 in digits_heard.
- Words that are no number are skipped («euh», «mon numéro est», "my number is"), and a number said across them
  is two numbers.
"""
import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from app.domain.errors import InvalidIdentifier
from app.domain.identifiers import CODE_ALPHABET, CODE_LENGTH, nir_from_keypad, normalize_nir

from .speech import fold

# --- words as said ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Word:
    """A run of letters or of digits, and what stood between it and the run before."""

    text: str        # folded: no case, no accents
    said: str        # as transcribed: case and accents kept («cé», "AC3F")
    glued: bool      # a hyphen before it («vingt-deux», "X-ray")
    elided: bool     # an apostrophe before it («c'est», "it's")
    attached: bool   # nothing at all before it ("1er", "12th", "2A", "ac3f")
    pause: bool      # punctuation before it: a comma, a full stop, a slash


_RUN = re.compile(r"[0-9]+|[^\W\d_]+")
_HYPHENS = {"-", "\u2010", "\u2011", "\u2012", "\u2013"}
_APOSTROPHES = {"'", "\u2019", "\u02bc"}
_PAUSES = set(",;.:!?/\u2026")


def _words(said) -> list[_Word]:
    if not isinstance(said, str):
        return []
    text = unicodedata.normalize("NFC", said)
    words: list[_Word] = []
    end = 0
    for match in _RUN.finditer(text):
        gap, raw = text[end:match.start()], match.group()
        end = match.end()
        folded = fold(raw)
        if not folded.isalnum():  # a letter that folds to nothing usable
            continue
        words.append(_Word(
            text=folded, said=raw, glued=gap.strip() in _HYPHENS and bool(words),
            elided=gap.strip() in _APOSTROPHES and bool(words), attached=gap == "" and bool(words),
            pause=any(c in _PAUSES for c in gap)))
    return words


def _language(language) -> str:
    """'en', 'en-GB' -> 'en'; anything else is read as French, the line's language."""
    return "en" if str(language or "").strip().lower().startswith("en") else "fr"


# --- number words -------------------------------------------------------------------------------------------

_ZERO, _UNIT, _TEEN, _TENS, _HUNDRED, _THOUSAND = "zero", "unit", "teen", "tens", "hundred", "thousand"


@dataclass(frozen=True, slots=True)
class _Num:
    kind: str
    value: int
    plural: bool = False   # «vingts», «cents», "hundreds": nothing but a thousand follows in the same number
    ordinal: bool = False  # «premier», "twelfth": ends the number


def _kind(value: int) -> str:
    if value == 0:
        return _ZERO
    if value < 10:
        return _UNIT
    if value < 20:
        return _TEEN
    if value < 100:
        return _TENS
    return _HUNDRED if value == 100 else _THOUSAND


def _lexicon(cardinals: dict[str, int], ordinals: dict[str, int], plurals: dict[str, int]) -> dict[str, _Num]:
    words = {w: _Num(_kind(v), v) for w, v in cardinals.items()}
    words |= {w: _Num(_kind(v), v, plural=True) for w, v in plurals.items()}
    words |= {w: _Num(_kind(v), v, ordinal=True) for w, v in ordinals.items()}
    return words


_FR_CARDINALS = {
    "zero": 0, "un": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6, "sept": 7, "huit": 8, "neuf": 9,
    "dix": 10, "onze": 11, "douze": 12, "treize": 13, "quatorze": 14, "quinze": 15, "seize": 16,
    "vingt": 20, "trente": 30, "quarante": 40, "cinquante": 50, "soixante": 60,
    "septante": 70, "octante": 80, "huitante": 80, "nonante": 90,  # Belgium, Switzerland
    "cent": 100, "mille": 1000, "mil": 1000,
}
_FR_ORDINALS = {
    {"cinq": "cinqu", "neuf": "neuv"}.get(w, w.removesuffix("e")) + "ieme": v
    for w, v in _FR_CARDINALS.items() if 0 < v < 100
} | {"premier": 1, "premiere": 1}
_EN_CARDINALS = {
    "zero": 0, "oh": 0, "o": 0, "nought": 0,
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19,
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
    "hundred": 100, "thousand": 1000,
}
_EN_ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fifth": 5, "eighth": 8, "ninth": 9, "twelfth": 12,
    **{w + "th": v for w, v in _EN_CARDINALS.items() if v in (4, 6, 7, 10, 11) or 13 <= v <= 19},
    **{w.removesuffix("y") + "ieth": v for w, v in _EN_CARDINALS.items() if 20 <= v < 100},
}
_LEXICON = {
    "fr": _lexicon(_FR_CARDINALS, _FR_ORDINALS, {"vingts": 20, "cents": 100}),
    "en": _lexicon(_EN_CARDINALS, _EN_ORDINALS, {"hundreds": 100, "thousands": 1000}),
}
_ORDINAL_SUFFIXES = {"er", "re", "e", "eme", "ieme", "st", "nd", "rd", "th"}  # 1er, 2e, 2ème, 1st, 12th
_HESITATIONS = {"euh", "heu", "hum", "hm", "hmm", "um", "umm", "uh", "er", "erm", "bah", "ben"}
_REPEATS = {"double": 2, "triple": 3}


@dataclass(frozen=True, slots=True)
class _Piece:
    """One number as said, as digits («cent douze» -> '112'); or, for a NIR, a Corsica letter."""

    digits: str
    ordinal: bool = False
    zero: bool = False     # «zéro», "oh": the next digit is a digit, not a count of hundreds
    letter: bool = False


class _Reader:
    """Reads the numbers in a list of words, one _Piece per number said (see the module's docstring)."""

    def __init__(self, words: list[_Word], language: str, *, strict: bool | None = None, years: bool = False,
                 thousands: bool = True, letters: dict[str, str] | None = None, flips: frozenset[int] = frozenset()):
        self.lang = language
        lexicon = _LEXICON[language]
        self.words = [w for w in words if not (w.text in _HESITATIONS and not w.attached)]
        self.nums: list[_Num | None] = [lexicon.get(w.text) for w in self.words]
        if language == "en":  # "a hundred", "a thousand"
            for i, w in enumerate(self.words):
                if w.text == "a" and self._kind(i + 1) in (_HUNDRED, _THOUSAND):
                    self.nums[i] = _Num(_UNIT, 1)
        self.strict = self._hyphenated() if strict is None else strict
        self.years = years
        self.thousands = thousands  # False: «trois mille neuf cent» is 3 then 1900 (a month, then a year)
        self.letters = letters or {}
        self.flips = flips  # words whose reading is turned the other way: joined if it was not, or apart

    # -- looking around

    def _kind(self, i: int) -> str | None:
        num = self.nums[i] if 0 <= i < len(self.nums) else None
        return num.kind if num else None

    def _text(self, i: int) -> str | None:
        return self.words[i].text if 0 <= i < len(self.words) else None

    def _hyphenated(self) -> bool:
        """The text joins number words with hyphens: it is spelled by the rules."""
        def numeric(i):
            return self.nums[i] is not None or self.words[i].text == "et"
        return any(w.glued and numeric(i) and numeric(i - 1) for i, w in enumerate(self.words) if i)

    def _goes_on(self, i: int, joined: bool) -> bool:
        """Whether word i continues the number before it: as read, unless word i is one of the flips."""
        return joined != (i in self.flips) and 0 <= i < len(self.words)

    def _hyphen_join(self, i: int) -> bool:
        """Word i may continue a compound the rules hyphenate (vingt-deux, dix-sept, quatre-vingt)."""
        return 0 <= i < len(self.words) and not self.words[i].pause and (self.words[i].glued or not self.strict)

    def _joins(self, i: int) -> bool:
        return self._goes_on(i, self._hyphen_join(i))

    def _follows(self, i: int) -> bool:
        """Word i may continue a number across a space (cent douze, deux mille, soixante et onze)."""
        return 0 <= i < len(self.words) and not self.words[i].pause

    def _counts_hundreds(self, i: int) -> bool:
        """Word i is a digit that multiplies the «cent»/"hundred" right after it."""
        num = self.nums[i] if 0 <= i < len(self.nums) else None
        return (num is not None and num.kind == _UNIT and not num.ordinal and (num.value > 1 or self.lang == "en")
                and self._kind(i + 1) == _HUNDRED and self._follows(i + 1))

    def _unit(self, i: int, low: int = 1, high: int = 9, *, after_ten: bool = False) -> _Num | None:
        """The unit at i, if it ends the compound before it (not when it counts the hundreds that follow)."""
        num = self.nums[i] if 0 <= i < len(self.nums) else None
        if num is None or num.kind != _UNIT or not low <= num.value <= high:
            return None
        joins = self._hyphen_join(i)
        if not self.words[i].glued and self._counts_hundreds(i) and not (self.years and after_ten):
            joins = False
        return num if self._goes_on(i, joins) else None

    # -- reading

    def pieces(self) -> list[_Piece]:
        out: list[_Piece] = []
        i, zero_ended_at = 0, -1
        while i < len(self.words):
            piece, end = self._piece(i, after_zero=self._goes_on(i, zero_ended_at == i and not self.words[i].pause))
            if piece is None:
                i += 1
                continue
            out.append(piece)
            zero_ended_at = end if piece.zero else -1
            i = end
        return out

    def _piece(self, i: int, after_zero: bool) -> tuple[_Piece | None, int]:
        word, num = self.words[i], self.nums[i]
        if word.text.isdigit():
            if self._text(i + 1) in _ORDINAL_SUFFIXES and self.words[i + 1].attached:
                return _Piece(word.text, ordinal=True), i + 2
            return _Piece(word.text, zero=word.text == "0"), i + 1
        if num is None:
            if word.text in self.letters:
                return _Piece(self.letters[word.text], letter=True), i + 1
            times = _REPEATS.get(word.text)
            digit = self._digit(i + 1) if times else None
            return (_Piece(digit * times), i + 2) if digit else (None, i + 1)
        if num.kind == _ZERO:
            return _Piece("0", zero=True), i + 1
        if self.lang == "fr" and word.text == "un" and self._article(i):
            return None, i + 1
        value, end, ordinal = self._number(i, after_zero)
        if value is None:
            return None, i + 1
        return _Piece(str(value), ordinal=ordinal), end

    def _digit(self, i: int) -> str | None:
        """A single digit at i ("double five", "double 5")."""
        if 0 <= i < len(self.words) and self.words[i].text.isdigit() and len(self.words[i].text) == 1:
            return self.words[i].text
        num = self.nums[i] if 0 <= i < len(self.nums) else None
        return str(num.value) if num and num.kind in (_ZERO, _UNIT) and not num.ordinal else None

    def _article(self, i: int) -> bool:
        """«un» before a word that is no number: «un numéro» is no digit."""
        nxt = self._text(i + 1)
        return (nxt is not None and self._follows(i + 1) and self.nums[i + 1] is None and nxt != "et"
                and not nxt.isdigit() and nxt not in self.letters and nxt not in _REPEATS)

    def _number(self, i: int, after_zero: bool) -> tuple[int | None, int, bool]:
        """A whole number below a million starting at i: value, end, whether it was an ordinal."""
        if self._kind(i) == _THOUSAND:
            count, end, ordinal = 1, i, False
        else:
            count, end, ordinal = self._hundreds(i, after_zero)
            if count is None or ordinal or after_zero or not self.thousands:
                return count, end, ordinal
            if self._kind(end) != _THOUSAND or not self._goes_on(end, self._follows(end)):
                return count, end, ordinal
        thousand = self.nums[end]
        end += 1
        if thousand.plural or thousand.ordinal:
            return count * 1000, end, thousand.ordinal
        nxt = self._skip_and(end)
        if self._kind(nxt) in (_UNIT, _TEEN, _TENS, _HUNDRED):  # a pause after «mille» is allowed: "1,940"
            rest, rest_end, ordinal = self._hundreds(nxt, after_zero=False)
            if rest is not None:
                return count * 1000 + rest, rest_end, ordinal
        return count * 1000, end, False

    def _skip_and(self, i: int) -> int:
        """ "one hundred and twelve": skip the "and" when a number follows it."""
        if self.lang == "en" and self._text(i) == "and" and self._kind(i + 1) in (_UNIT, _TEEN, _TENS):
            if self._follows(i + 1):
                return i + 1
        return i

    def _hundreds(self, i: int, after_zero: bool) -> tuple[int | None, int, bool]:
        """A number below a thousand starting at i."""
        num = self.nums[i]
        if num is None:
            return None, i, False
        if num.kind == _HUNDRED:
            count, end = 1, i + 1
        elif not after_zero and self._counts_hundreds(i):
            count, end = num.value, i + 2
        else:
            value, end, ordinal = self._tens(i)
            if value is None or ordinal or not (self.years and 11 <= value <= 19):
                return value, end, ordinal
            if self._kind(end) != _HUNDRED or not self._follows(end):
                return value, end, ordinal
            count, end = value, end + 1  # «dix-neuf cent», "nineteen hundred": only in a year
        hundred = self.nums[end - 1]
        if hundred.plural or hundred.ordinal:
            return count * 100, end, hundred.ordinal
        nxt = self._skip_and(end)
        # «huit cent sept cent…»: «huit cent» without its plural s goes on (807); «cent sept cent» is 100, 700.
        goes_on = self.lang == "fr" and count > 1
        if self._kind(nxt) in (_UNIT, _TEEN, _TENS) and self._goes_on(nxt, self._follows(nxt) and (
                goes_on or not self._counts_hundreds(nxt))):
            rest, rest_end, ordinal = self._tens(nxt)
            if rest is not None:
                return count * 100 + rest, rest_end, ordinal
        return count * 100, end, False

    def _tens(self, i: int) -> tuple[int | None, int, bool]:
        """A number below a hundred starting at i."""
        num = self.nums[i]
        if num is None or num.kind not in (_UNIT, _TEEN, _TENS):
            return None, i, False
        if num.ordinal or num.plural:
            return num.value, i + 1, num.ordinal
        if self.lang == "fr":
            return self._tens_fr(i, num)
        if num.kind == _TENS and (unit := self._unit(i + 1)):
            return num.value + unit.value, i + 2, unit.ordinal
        return num.value, i + 1, False

    def _tens_fr(self, i: int, num: _Num) -> tuple[int | None, int, bool]:
        nxt = i + 1
        if num.value == 4 and self._kind(nxt) == _TENS and self.nums[nxt].value == 20 and self._joins(nxt):
            vingt = self.nums[nxt]  # quatre-vingt(s)
            if vingt.plural or vingt.ordinal:
                return 80, nxt + 1, vingt.ordinal
            value, end, ordinal = self._below_twenty(nxt + 1)
            return (80 + value, end, ordinal) if value else (80, nxt + 1, False)
        if num.value == 10 and (unit := self._unit(nxt, 7, 9, after_ten=True)):
            return 10 + unit.value, nxt + 1, unit.ordinal  # dix-sept
        if num.kind != _TENS:
            return num.value, nxt, False
        if self._text(nxt) == "et" and self._goes_on(nxt, self._follows(nxt) and self._follows(nxt + 1)):
            after = self._text(nxt + 1)
            if after in ("un", "une", "unieme"):
                return num.value + 1, nxt + 2, after == "unieme"
            if num.value == 60 and after in ("onze", "onzieme"):
                return 71, nxt + 2, after == "onzieme"
        if num.value == 60:  # soixante-dix to soixante-dix-neuf
            value, end, ordinal = self._below_twenty(nxt, low=10)
            if value:
                return 60 + value, end, ordinal
        if unit := self._unit(nxt, low=2 if not self._glued(nxt) else 1):
            return num.value + unit.value, nxt + 1, unit.ordinal
        return num.value, nxt, False

    def _glued(self, i: int) -> bool:
        return 0 <= i < len(self.words) and self.words[i].glued

    def _below_twenty(self, i: int, low: int = 1) -> tuple[int, int, bool]:
        """After «quatre-vingt» or «soixante»: -un to -neuf, -dix to -dix-neuf. (0, i, False) if none."""
        num = self.nums[i] if 0 <= i < len(self.nums) else None
        if num is None or not self._joins(i) or num.plural:
            return 0, i, False
        if num.kind == _TEEN and num.value <= 16:
            if num.value == 10 and not num.ordinal and (unit := self._unit(i + 1, 7, 9, after_ten=True)):
                return 10 + unit.value, i + 2, unit.ordinal
            return num.value, i + 1, num.ordinal
        if low == 1 and (unit := self._unit(i)):
            return unit.value, i + 1, unit.ordinal
        return 0, i, False


def _pieces(said, language, **options) -> list[_Piece]:
    return _Reader(_words(said), _language(language), **options).pieces()


# --- digits and the NIR --------------------------------------------------------------------------------------

def digits_heard(said: str, language: str) -> str | None:
    """The digits a person said, in the groups people say them: «deux quarante zéro trois» -> '24003'.

    Words that are no number are skipped; None only when no digit was said at all."""
    digits = "".join(p.digits for p in _pieces(said, language))
    return digits or None


_CORSICA = {"a": "A", "ah": "A", "ay": "A", "b": "B", "be": "B", "bee": "B"}  # «deux A», "two B": 2A, 2B
_CORSICA_KEYS = {"A": "*1", "B": "*2"}
_MOST_WORDS_TRIED = 80  # a NIR is said in far fewer words; past this, no other reading is tried


def nir_heard(said: str, language: str) -> str | None:
    """The NIR said, as keypad keys: digits, with Corsica's 2A as 2*1 and 2B as 2*2 (what the keypad path takes:
    identifiers.normalize_nir(identifiers.nir_from_keypad(keys))). None when no digit was said.

    A letter counts only where Corsica's department has one, right after its 2. When the words read as they
    are make no valid NIR, the readings that join or split the words at one place otherwise are tried
    («cent douze» as 100 then 12, «soixante douze» as 72...): if exactly one of them has the right check key,
    it is the NIR said. Otherwise the plain reading is returned, so that normalize_nir can name what is wrong."""
    words, lang = _words(said), _language(language)

    def keys(**options) -> str:
        return _nir_keys(_Reader(words, lang, letters=_CORSICA, **options).pieces())

    plain = keys()
    if not plain or _valid_nir(plain) or len(words) > _MOST_WORDS_TRIED:
        return plain or None
    others = ({"strict": True}, {"strict": False}, *({"flips": frozenset({at})} for at in range(len(words))))
    valid = {other for other in (keys(**options) for options in others) if other and _valid_nir(other)}
    return valid.pop() if len(valid) == 1 else plain


def _valid_nir(keys: str) -> bool:
    try:
        normalize_nir(nir_from_keypad(keys))
    except (InvalidIdentifier, ValueError):
        return False
    return True


def _nir_keys(pieces: list[_Piece]) -> str:
    written = ""
    for piece in pieces:
        if not piece.letter:
            written += piece.digits
        elif len(written) == 6 and written[5] == "2":
            written += piece.digits
    if not any(c.isdigit() for c in written):
        return ""
    return written[:6] + _CORSICA_KEYS.get(written[6:7], written[6:7]) + written[7:]


# --- dates ---------------------------------------------------------------------------------------------------

_MONTHS = {
    "fr": {
        "janvier": 1, "janv": 1, "fevrier": 2, "fevr": 2, "fev": 2, "mars": 3, "avril": 4, "avr": 4, "mai": 5,
        "juin": 6, "juillet": 7, "juil": 7, "aout": 8, "septembre": 9, "octobre": 10, "oct": 10,
        "novembre": 11, "nov": 11, "decembre": 12, "dec": 12,
    },
    "en": {
        "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4, "may": 5,
        "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9, "sep": 9, "sept": 9,
        "october": 10, "oct": 10, "november": 11, "nov": 11, "december": 12, "dec": 12,
    },
}


def date_heard(said: str, language: str) -> str | None:
    """A date of birth said any usual way, as the 8 keypad digits DDMMYYYY: «douze mars mille neuf cent
    quarante», «le 1er mars 1948», «12 03 1940», "the twelfth of March nineteen forty", "March 12th 1940".

    Day before month when both are numbers (3 12 1940 is 3 December). None for a year not said in full
    (two digits), an impossible date (31 février), a year before 1800, or anything else."""
    lang = _language(language)
    words = _words(said)
    # «douze trois mille neuf cent quarante»: 3 000 + 940 makes no date; 3, then 1940 does.
    return _date(words, lang, thousands=True) or _date(words, lang, thousands=False)


def _date(words: list[_Word], lang: str, thousands: bool) -> str | None:
    def numbers(part: list[_Word], years: bool = True) -> list[str]:
        pieces = _Reader(part, lang, years=years, thousands=thousands).pieces()
        return [p.digits for p in _zeros_joined(pieces)]

    months = _MONTHS[lang]
    at = next((i for i, w in enumerate(words) if w.text in months), None)
    if at is not None:
        day, after = "".join(numbers(words[:at], years=False)), numbers(words[at + 1:])
        if not day and after:
            day, after = after[0], after[1:]
        return _ddmmyyyy(day, str(months[words[at].text]), "".join(after))
    parts = numbers(words)
    if len(parts) >= 3 and len(parts[0]) <= 2 and len(parts[1]) <= 2:
        return _ddmmyyyy(parts[0], parts[1], "".join(parts[2:]))
    if len(parts) == 3 and len(parts[0]) == 4:  # 1940 03 12
        return _ddmmyyyy(parts[2], parts[1], parts[0])
    joined = "".join(parts)
    return _ddmmyyyy(joined[:2], joined[2:4], joined[4:]) if len(joined) == 8 else None


def _zeros_joined(pieces: list[_Piece]) -> list[_Piece]:
    """«zéro trois» is the month 03, not 0 then 3."""
    out: list[_Piece] = []
    for piece in pieces:
        if out and out[-1].digits == "0" and len(piece.digits) == 1:
            out[-1] = _Piece("0" + piece.digits)
        else:
            out.append(piece)
    return out


def _ddmmyyyy(day: str, month: str, year: str) -> str | None:
    if not (0 < len(day) <= 2 and 0 < len(month) <= 2 and len(year) == 4 and year >= "1800"):
        return None
    try:
        born = date(int(year), int(month), int(day))
    except ValueError:
        return None
    return born.strftime("%d%m") + year


# --- letter codes --------------------------------------------------------------------------------------------

RADIO = {
    "fr": {
        "A": "Anatole", "B": "Berthe", "C": "Célestin", "D": "Désiré", "E": "Eugène", "F": "François",
        "G": "Gaston", "H": "Henri", "I": "Irma", "J": "Joseph", "K": "Kléber", "L": "Louis", "M": "Marcel",
        "N": "Nicolas", "O": "Oscar", "P": "Pierre", "Q": "Quintal", "R": "Raoul", "S": "Suzanne",
        "T": "Thérèse", "U": "Ursule", "V": "Victor", "W": "William", "X": "Xavier", "Y": "Yvonne", "Z": "Zoé",
    },
    "en": {
        "A": "Alpha", "B": "Bravo", "C": "Charlie", "D": "Delta", "E": "Echo", "F": "Foxtrot", "G": "Golf",
        "H": "Hotel", "I": "India", "J": "Juliett", "K": "Kilo", "L": "Lima", "M": "Mike", "N": "November",
        "O": "Oscar", "P": "Papa", "Q": "Quebec", "R": "Romeo", "S": "Sierra", "T": "Tango", "U": "Uniform",
        "V": "Victor", "W": "Whiskey", "X": "X-ray", "Y": "Yankee", "Z": "Zulu",
    },
}
_RADIO_LETTERS = {
    fold(word).replace("-", ""): letter for words in RADIO.values() for letter, word in words.items()
} | {"alfa": "A", "juliet": "J", "whisky": "W", "henry": "H", "fox": "F"}
# Names Twilio writes for the code's letters (A C F H K M R X), French and English.
_LETTER_NAMES = {
    "ah": "A", "ay": "A", "ces": "C", "see": "C", "sea": "C", "cee": "C", "ef": "F", "eff": "F", "effe": "F",
    "ache": "H", "hache": "H", "aitch": "H", "haitch": "H", "ka": "K", "kah": "K", "kay": "K",
    "em": "M", "emm": "M", "emme": "M", "er": "R", "erre": "R", "ar": "R", "are": "R", "arr": "R",
    "ix": "X", "ixe": "X", "iks": "X", "ex": "X", "eks": "X", "ecks": "X",
}
# Names that are letters only with their accent: «dé» is D, «de» is a word.
_ACCENTED_LETTER_NAMES = {
    "bé": "B", "cé": "C", "dé": "D", "èf": "F", "èl": "L", "èm": "M", "èn": "N", "pé": "P", "èr": "R",
    "ès": "S", "té": "T", "vé": "V",
}
_CONNECTORS = {"comme", "pour", "for", "like", "as"}  # «A comme Anatole», "C for Charlie", "A as in Alpha"
_CODE_LETTERS = set(CODE_ALPHABET.lower()) - set("0123456789")
_SPELLING_WORDS = _CONNECTORS | _RADIO_LETTERS.keys() | _LETTER_NAMES.keys() | _LEXICON["en"].keys() | {"ray"}


def code_chars_heard(said: str, language: str) -> str:
    """Every character recognised in a code said character by character, uppercase, in order, valid or not
    (for a partial read-back): «A comme Anatole, cé, trois, B» -> 'AC3B'."""
    lang = _language(language)
    lexicon = _LEXICON[lang]
    words = _words(said)
    out: list[str] = []
    spoken_at: int | None = None  # where the letter just said by its name is, that a radio word may confirm
    connector = False
    repeat = 1
    i = 0

    def emit(chars: str, *, spoken: bool = False) -> None:
        nonlocal spoken_at, connector, repeat
        for char in chars:
            out.extend(char * repeat)
            repeat = 1
        spoken_at = len(out) - 1 if spoken and len(chars) == 1 else None
        connector = False

    while i < len(words):
        word = words[i]
        nxt = words[i + 1] if i + 1 < len(words) else None
        text = word.text
        if nxt is not None and nxt.elided:  # c'est, it's, l'...: never a letter
            i += 2
            continue
        if lang == "fr" and text == "c" and nxt is not None and nxt.text == "est":
            i += 2
            continue
        if text in _CONNECTORS:
            connector = spoken_at is not None or connector
            i += 2 if text == "as" and nxt is not None and nxt.text == "in" else 1
            continue
        if lang == "en" and text == "i" and _pronoun(nxt):  # "I think it's..."
            i += 1
            continue
        if text in _REPEATS:
            repeat = _REPEATS[text]
            i += 1
            continue
        if text == "x" and nxt is not None and nxt.text == "ray":  # X-ray
            text, i = "xray", i + 1
        if text.isdigit() or _beside_digits(words, i):
            emit(word.said.upper())
        elif text in _RADIO_LETTERS:
            letter = _RADIO_LETTERS[text]
            if spoken_at is not None and (connector or out[spoken_at] == letter):
                out[spoken_at] = letter  # «A comme Anatole», "A, Alpha": one letter
                spoken_at, connector = None, False
            else:
                emit(letter)
        elif len(text) == 1 and text.isascii() and text.isalpha():
            emit(text.upper(), spoken=True)
        elif word.said.casefold() in _ACCENTED_LETTER_NAMES:
            emit(_ACCENTED_LETTER_NAMES[word.said.casefold()], spoken=True)
        elif text in _LETTER_NAMES:
            emit(_LETTER_NAMES[text], spoken=True)
        elif text in lexicon:
            end = i + 1
            while end < len(words) and (words[end].text in lexicon or words[end].text in ("et", "and")):
                end += 1
            emit("".join(p.digits for p in _Reader(words[i:end], lang).pieces()))
            i = end
            continue
        elif text.isascii() and text.isalpha() and set(text) <= _CODE_LETTERS and (
                len(text) >= 4 or (len(text) >= 2 and word.said.isupper())):
            emit(text.upper())  # "ACFH", "MR": the letters themselves
        elif connector and spoken_at is not None and text[:1].isascii() and text[:1].isalpha():
            out[spoken_at] = text[0].upper()  # «R comme Robert»: the word's first letter
            spoken_at, connector = None, False
        i += 1
    return "".join(out)


def _pronoun(nxt: _Word | None) -> bool:
    """ "I" before a word that is neither a letter nor a spelling word: "I think", "I have"."""
    if nxt is None or nxt.pause or nxt.elided or len(nxt.text) < 2 or not nxt.text.isalpha():
        return False
    return nxt.text not in _SPELLING_WORDS


def _beside_digits(words: list[_Word], i: int) -> bool:
    """Letters written against digits, as Twilio writes a code: "ac3f", "H4K5"."""
    before = words[i].attached and words[i - 1].text.isdigit()
    after = i + 1 < len(words) and words[i + 1].attached and words[i + 1].text.isdigit()
    return before or after


def code_heard(said: str, language: str) -> str | None:
    """The 12-character letter code said character by character, uppercase ('AC3FH4K5MR6X'), or None when what was
    heard is not CODE_LENGTH characters of CODE_ALPHABET (so the caller is asked again)."""
    chars = code_chars_heard(said, language)
    if len(chars) == CODE_LENGTH and all(c in CODE_ALPHABET for c in chars):
        return chars
    return None


def spell(code: str, language: str, template: str = "{letter} as in {word}", radio: bool = True) -> list[str]:
    """How we read a code back: one string per group of 4 characters, as the letter prints it (AC3F-H4K5-MR6X).

    Each letter by `template` with its radio word in the language ("A as in Alpha"); pass the template through
    gettext, so French reads «A comme Anatole». Digits stay digits so the voice says them; radio=False reads
    the letters alone."""
    words = RADIO[_language(language)]
    chars = [c for c in str(code or "").upper() if c.isascii() and c.isalnum()]

    def said(char: str) -> str:
        if not radio or char not in words:
            return char
        try:
            return template.format(letter=char, word=words[char])
        except (KeyError, IndexError, ValueError, AttributeError):  # a broken translation still reads
            return f"{char}, {words[char]}"

    return [", ".join(said(c) for c in chars[at:at + 4]) for at in range(0, len(chars), 4)]


def keys_in_groups(keys: str, size: int = 4) -> list[str]:
    """A typed code read back by its keys, in groups: '223344556769' -> ['2233', '4455', '6769']."""
    typed = [c for c in str(keys or "") if c in "0123456789*#"]
    size = size if isinstance(size, int) and size > 0 else 4
    return ["".join(typed[at:at + size]) for at in range(0, len(typed), size)]


# --- recognition hints ---------------------------------------------------------------------------------------

# For the hints attribute of a Twilio Gather (built by ivr/voice.py with twilio.twiml): a comma-separated list
# of words or phrases, and class tokens of the speech provider
# (Google's $OOV_CLASS_DIGIT_SEQUENCE, $OOV_CLASS_ALPHANUMERIC_SEQUENCE; which tokens each locale supports is
# listed in Google Speech-to-Text's class tokens page). Then the radio words of the code's letters.
_CLASS_TOKENS = ("$OOV_CLASS_DIGIT_SEQUENCE", "$OOV_CLASS_ALPHANUMERIC_SEQUENCE")
NUMBER_HINTS = {
    language: ", ".join((*_CLASS_TOKENS, *(words[c].replace("-", " ") for c in CODE_ALPHABET if c in words)))
    for language, words in RADIO.items()
}
