"""What a person types to identify: NIR, Vitale serial, provisional code (written and keypad), birth date.

Each slip SPEC §2 names must come back as its own code, so every channel can say plainly what went wrong.
"""
import string
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.fr import nir as stdnum_nir

from app.domain import identifiers as ids
from app.domain.errors import InvalidIdentifier

TODAY = date(2026, 11, 24)


def nir(body: str) -> str:
    """A NIR with its key, computed by the maintained library rather than by hand."""
    assert len(body) == 13
    return body + stdnum_nir.calc_check_digits(body)


def slip(func, *args) -> str:
    with pytest.raises(InvalidIdentifier) as exc:
        func(*args)
    return exc.value.code


# --- NIR: normalisation ------------------------------------------------------------------------

MAINLAND = nir("1850775123456")
CORSICA_A = nir("274112A004017")
CORSICA_B = nir("185112B123456")


def test_keys_come_from_stdnum_and_corsica_counts_as_19_and_18():
    # 2A is counted as 19, 2B as 18 (SPEC §2): the key differs from the same body read with 19/18 digits.
    assert CORSICA_A[-2:] == stdnum_nir.calc_check_digits("2741119004017")
    assert CORSICA_B[-2:] == stdnum_nir.calc_check_digits("1851118123456")


@pytest.mark.parametrize("typed", [
    MAINLAND,
    f"{MAINLAND[0]} {MAINLAND[1:3]} {MAINLAND[3:5]} {MAINLAND[5:7]} {MAINLAND[7:10]} {MAINLAND[10:13]} {MAINLAND[13:]}",
    ".".join([MAINLAND[:1], MAINLAND[1:3], MAINLAND[3:5], MAINLAND[5:7], MAINLAND[7:10], MAINLAND[10:13],
              MAINLAND[13:]]),
    f"  {MAINLAND}\t",
    f"{MAINLAND[:7]} - {MAINLAND[7:]}",
])
def test_nir_written_with_spaces_dots_or_hyphens_is_accepted(typed):
    assert ids.normalize_nir(typed) == MAINLAND


@pytest.mark.parametrize("valid", [CORSICA_A, CORSICA_B])
def test_corsican_nir_in_lower_case_with_spaces(valid):
    typed = " ".join([valid[:1], valid[1:3], valid[3:5], valid[5:7].lower(), valid[7:10], valid[10:13], valid[13:]])
    assert ids.normalize_nir(typed) == valid


def test_nir_of_the_test_batch_are_valid():
    for value in ("240037511200567", "189071305512376", "274112A00401768", "158016912345639"):
        assert ids.normalize_nir(value) == value


# --- NIR: slips ----------------------------------------------------------------------------------

@pytest.mark.parametrize("typed", ["80123456789", "8012 3456 789", "12345678", "801234567890"])
def test_a_vitale_serial_typed_in_the_nir_field_is_recognised(typed):
    assert slip(ids.normalize_nir, typed) == "nir_looks_like_vitale"


@pytest.mark.parametrize("body", ["1850775123456", "274112A004017", "2 74 11 2b 004 017"])
def test_thirteen_characters_without_key_are_recognised(body):
    assert slip(ids.normalize_nir, body) == "nir_missing_key"


@pytest.mark.parametrize("valid", [MAINLAND, CORSICA_A, CORSICA_B])
def test_a_wrong_key_is_recognised(valid):
    wrong = f"{(int(valid[-2:]) + 1) % 100:02d}"
    assert slip(ids.normalize_nir, valid[:13] + wrong) == "nir_bad_key"


def test_corsican_key_computed_as_if_2a_were_20_is_refused():
    naive_key = stdnum_nir.calc_check_digits("2741120004017")
    assert naive_key != CORSICA_A[-2:]
    assert slip(ids.normalize_nir, "274112A004017" + naive_key) == "nir_bad_key"


@pytest.mark.parametrize("typed", [MAINLAND[:14], MAINLAND + "1", MAINLAND[:-1] + "12", "123"])
def test_a_wrong_length_is_recognised(typed):
    assert slip(ids.normalize_nir, typed) == "nir_length"


@pytest.mark.parametrize("typed", ["", "   ", None])
def test_an_empty_nir_is_recognised(typed):
    assert slip(ids.normalize_nir, typed) == "nir_missing"


@pytest.mark.parametrize("typed", ["ABCDEFGHIJKLMNO", "2850775123X5678", "2 85 07 75 12z 456 00", "285072C12345600"])
def test_letters_where_digits_go_are_a_format_error(typed):
    assert slip(ids.normalize_nir, typed) == "nir_format"


@given(st.text(max_size=40))
def test_normalize_nir_only_ever_raises_invalid_identifier(text):
    try:
        result = ids.normalize_nir(text)
    except InvalidIdentifier as exc:
        assert exc.code.startswith("nir_")
    else:
        assert len(result) == 15 and stdnum_nir.is_valid(result)


NIR_BODIES = st.builds(
    lambda sex, year, month, dept, commune, order: f"{sex}{year:02d}{month:02d}{dept}{commune:03d}{order:03d}",
    st.sampled_from("12"), st.integers(0, 99), st.integers(1, 12),
    st.one_of(st.integers(1, 95).map(lambda d: f"{d:02d}"), st.sampled_from(["2A", "2B"])),
    st.integers(1, 999), st.integers(1, 999))


@given(NIR_BODIES, st.lists(st.sampled_from([" ", ".", "-", ""]), min_size=14, max_size=14), st.booleans())
def test_any_valid_nir_survives_separators_and_case(body, seps, lower):
    valid = nir(body)
    typed = "".join(c + s for c, s in zip(valid, seps + [""]))
    if lower:
        typed = typed.lower()
    assert ids.normalize_nir(typed) == valid


# --- NIR typed on a keypad --------------------------------------------------------------------------

def test_star_one_and_star_two_are_the_corsican_letters():
    assert ids.nir_from_keypad(CORSICA_A.replace("A", "*1")) == CORSICA_A
    assert ids.nir_from_keypad(CORSICA_B.replace("B", "*2")) == CORSICA_B
    assert ids.nir_from_keypad(CORSICA_A.replace("A", "*1") + "#") == CORSICA_A
    assert ids.normalize_nir(ids.nir_from_keypad("2 74 11 2*1 004 017 " + CORSICA_A[-2:])) == CORSICA_A


def test_mainland_keypad_nir_is_unchanged():
    assert ids.nir_from_keypad(MAINLAND + "#") == MAINLAND


# --- Vitale serial -------------------------------------------------------------------------------

@pytest.mark.parametrize("typed,expected", [
    ("12345678", "12345678"),                  # 8 digits: back of a card without photo
    ("80123456789", "80123456789"),            # 11 digits: beside the photo
    ("8012 3456 789", "80123456789"),
    ("1234567890123", "1234567890123"),        # 13 digits
])
def test_vitale_serial_of_8_to_13_digits(typed, expected):
    assert ids.normalize_vitale_serial(typed) == expected


@pytest.mark.parametrize("typed,code", [
    ("1234567", "vitale_length"), ("12345678901234", "vitale_length"), ("1234ABCD", "vitale_format"),
    ("", "vitale_missing"), (MAINLAND, "vitale_looks_like_nir"), (CORSICA_A, "vitale_looks_like_nir"),
    (" ".join(MAINLAND[i:i + 3] for i in range(0, 15, 3)), "vitale_looks_like_nir"),
])
def test_vitale_serial_slips(typed, code):
    assert slip(ids.normalize_vitale_serial, typed) == code


def test_swap_is_detected_only_when_both_fields_look_swapped():
    assert ids.detect_swap("80123456789", MAINLAND)
    assert ids.detect_swap("8012 3456 789", CORSICA_B.lower())
    assert not ids.detect_swap(MAINLAND, "80123456789")
    assert not ids.detect_swap("80123456789", "80123456789")
    assert not ids.detect_swap("", "")


# --- provisional code -------------------------------------------------------------------------------

def test_generated_codes_are_12_characters_of_the_alphabet():
    codes = {ids.generate_provisional_code() for _ in range(200)}
    assert len(codes) == 200  # random, not a sequence
    for code in codes:
        assert len(code) == ids.CODE_LENGTH == 12
        assert set(code) <= set(ids.CODE_ALPHABET)
        assert ids.normalize_provisional_code(code) == code


def test_code_alphabet_has_no_look_alikes():
    for c in "01OIL":
        assert c not in ids.CODE_ALPHABET
    assert set(ids.CODE_ALPHABET) <= set(string.ascii_uppercase + string.digits)


@pytest.mark.parametrize("typed", ["AC3F-H4K5-MR6X", "ac3f h4k5 mr6x", " Ac3fH4k5Mr6x ", "AC3F - H4K5 - MR6X"])
def test_code_tolerates_spaces_hyphens_and_lower_case(typed):
    assert ids.normalize_provisional_code(typed) == "AC3FH4K5MR6X"


@pytest.mark.parametrize("typed,code", [("", "code_missing"), ("AC3FH4K5MR6", "code_format"),
                                        ("AC3FH4K5MR6XX", "code_format"), ("AC3FH4K5MR6!", "code_format")])
def test_code_of_wrong_shape_is_refused(typed, code):
    assert slip(ids.normalize_provisional_code, typed) == code


@given(st.text(alphabet=ids.CODE_ALPHABET, min_size=12, max_size=12),
       st.lists(st.sampled_from(["", " ", "-", "  "]), min_size=12, max_size=12), st.booleans())
def test_any_code_with_separators_and_case_normalises_back(code, seps, lower):
    typed = "".join(c + s for c, s in zip(code, seps))
    typed = typed.lower() if lower else typed
    assert ids.normalize_provisional_code(typed) == code


def test_code_is_shown_in_groups_of_four():
    assert ids.format_code("AC3FH4K5MR6X") == "AC3F-H4K5-MR6X"


# --- keypad form (ITU E.161) --------------------------------------------------------------------------

E161 = {"2": "ABC", "3": "DEF", "4": "GHI", "5": "JKL", "6": "MNO", "7": "PQRS", "8": "TUV", "9": "WXYZ"}


@pytest.mark.parametrize("key,letters", sorted(E161.items()))
def test_each_letter_is_typed_with_the_key_that_carries_it(key, letters):
    assert ids.keypad_form(letters) == key * len(letters)
    assert ids.keypad_form(letters.lower()) == key * len(letters)


def test_digits_stay_themselves_and_a_code_maps_letter_by_letter():
    assert ids.keypad_form("0123456789") == "0123456789"
    assert ids.keypad_form("AC3FH4K5MR6X") == "223344556769"


@given(st.text(alphabet=string.ascii_letters + string.digits, max_size=30))
def test_keypad_form_is_all_digits_and_as_long_as_the_code(code):
    typed = ids.keypad_form(code)
    assert len(typed) == len(code)
    assert typed == "" or typed.isdigit()
    for key, c in zip(typed, code):
        assert key == c if c.isdigit() else key in E161 and c.upper() in E161[key]


@settings(max_examples=50)
@given(st.text(alphabet=ids.CODE_ALPHABET, min_size=12, max_size=12))
def test_keypad_form_of_a_generated_code_has_no_zero_or_one(code):
    assert set(ids.keypad_form(code)) <= set("23456789")


# --- birth date ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("typed", ["25/03/1948", "25031948", "1948-03-25", "25 03 1948", "25.03.1948", "25-03-1948",
                                   " 25/3/1948 "])
def test_birth_date_formats(typed):
    assert ids.parse_birth_date(typed, TODAY) == date(1948, 3, 25)


@pytest.mark.parametrize("typed,code", [
    ("31/02/1948", "birth_date_format"), ("29/02/1947", "birth_date_format"), ("00/01/1950", "birth_date_format"),
    ("1948-13-01", "birth_date_format"), ("25/03/48", "birth_date_format"), ("hier", "birth_date_format"),
    ("2503194", "birth_date_format"), ("", "birth_date_missing"),
    ("25/11/2026", "birth_date_range"), ("01/01/2030", "birth_date_range"), ("01/01/1850", "birth_date_range"),
])
def test_impossible_or_future_birth_dates_are_refused(typed, code):
    assert slip(ids.parse_birth_date, typed, TODAY) == code


def test_birth_today_and_leap_day_are_accepted():
    assert ids.parse_birth_date("24/11/2026", TODAY) == TODAY
    assert ids.parse_birth_date("29/02/1948", TODAY) == date(1948, 2, 29)
