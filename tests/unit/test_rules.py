"""The domain's rules without a database: identifiers, the window, closure dates, emergency decisions."""
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.fr import nir as stdnum_nir

from app.config import Config
from app.domain import health_space as hs
from app.domain import identifiers as ids
from app.domain.emergency import EmergencySettings, decide
from app.domain.errors import InvalidIdentifier, InvalidTransition, WindowClosed

RULES = hs.Rules()


def valid_nir(body: str) -> str:
    return body + stdnum_nir.calc_check_digits(body)


# --- NIR ----------------------------------------------------------------------------------

@pytest.mark.parametrize("typed", ["2 40 03 75 112 005 67", "2.40.03.75.112.005.67", "240037511200567 "])
def test_nir_tolerates_spaces_and_dots(typed):
    assert ids.normalize_nir(typed) == "240037511200567"


def test_corsican_nir_and_lower_case():
    assert ids.normalize_nir("2 74 11 2a 004 017 68") == "274112A00401768"
    assert ids.normalize_nir(valid_nir("185112B123456")) == valid_nir("185112B123456")


@pytest.mark.parametrize("typed,slip", [
    ("80123456789", "nir_looks_like_vitale"), ("2400375112005", "nir_missing_key"),
    ("240037511200599", "nir_bad_key"), ("24003751120056", "nir_length"), ("", "nir_missing"),
    ("940037511200567", "nir_format"),
])
def test_nir_slips_are_named(typed, slip):
    with pytest.raises(InvalidIdentifier) as exc:
        ids.normalize_nir(typed)
    assert exc.value.code == slip


@given(st.text(max_size=40))
def test_nir_only_ever_raises_invalid_identifier(text):
    try:
        ids.normalize_nir(text)
    except InvalidIdentifier:
        pass


def test_nir_typed_on_a_keypad():
    assert ids.nir_from_keypad("274112*100401768") == "274112A00401768"
    assert ids.nir_from_keypad("274112*200401768") == "274112B00401768"


# --- Vitale serial and swaps ----------------------------------------------------------------

@pytest.mark.parametrize("typed,slip", [("240037511200567", "vitale_looks_like_nir"), ("12ab5678", "vitale_format"),
                                        ("1234567", "vitale_length"), ("12345678901234", "vitale_length")])
def test_serial_slips(typed, slip):
    with pytest.raises(InvalidIdentifier) as exc:
        ids.normalize_vitale_serial(typed)
    assert exc.value.code == slip


def test_serial_lengths_8_to_13():
    assert ids.normalize_vitale_serial("8012 3456 789") == "80123456789"
    assert ids.normalize_vitale_serial("12345678") == "12345678"


def test_swap_detected():
    assert ids.detect_swap("80123456789", "240037511200567")
    assert not ids.detect_swap("240037511200567", "80123456789")


# --- provisional code -----------------------------------------------------------------------

def test_generated_codes_use_the_unambiguous_alphabet():
    codes = {ids.generate_provisional_code() for _ in range(200)}
    assert len(codes) == 200
    assert all(len(c) == 12 and set(c) <= set(ids.CODE_ALPHABET) for c in codes)
    assert not set("01OIL") & set(ids.CODE_ALPHABET)


def test_code_tolerates_spaces_hyphens_and_lower_case():
    assert ids.normalize_provisional_code("ac3f-h4k5 mr6x") == "AC3FH4K5MR6X"
    with pytest.raises(InvalidIdentifier):
        ids.normalize_provisional_code("AC3F")


def test_keypad_form_follows_e161():
    assert ids.keypad_form("ADGJMPTW2345") == "234567892345"
    assert ids.keypad_form("CFILOSVZ") == "23456789"


@given(st.text(alphabet=ids.CODE_ALPHABET, min_size=12, max_size=12))
def test_keypad_form_is_12_digits(code):
    form = ids.keypad_form(code)
    assert len(form) == 12 and form.isdigit()


# --- dates ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("typed", ["25/03/1948", "25031948", "1948-03-25", "25 03 1948", "25.3.1948"])
def test_birth_date_formats(typed):
    assert ids.parse_birth_date(typed, date(2026, 11, 24)) == date(1948, 3, 25)


@pytest.mark.parametrize("typed", ["31/02/1950", "25/03/48", "2030-01-01", "hello", ""])
def test_impossible_birth_dates(typed):
    with pytest.raises(InvalidIdentifier):
        ids.parse_birth_date(typed, date(2026, 11, 24))


# --- the opposition window and closure -----------------------------------------------------

def test_window_is_six_weeks_last_day_included():
    sent = date(2026, 10, 1)
    assert hs.window_end(sent, RULES) == date(2026, 11, 12)
    assert hs.window_open(sent, date(2026, 11, 12), RULES)
    assert not hs.window_open(sent, date(2026, 11, 13), RULES)
    assert not hs.due_for_creation("notified", sent, date(2026, 11, 12), RULES)
    assert hs.due_for_creation("notified", sent, date(2026, 11, 13), RULES)


def test_oppose_rules():
    sent = date(2026, 10, 1)
    hs.check_oppose("notified", sent, date(2026, 11, 12), RULES)
    with pytest.raises(WindowClosed):
        hs.check_oppose("notified", sent, date(2026, 11, 13), RULES)
    with pytest.raises(WindowClosed):
        hs.check_oppose("active", sent, date(2026, 10, 2), RULES)
    for state in ("opposed", "closed", "purged"):
        with pytest.raises(InvalidTransition):
            hs.check_oppose(state, sent, date(2026, 10, 2), RULES)


def test_closure_plan():
    plan = hs.plan_closure(date(2026, 11, 30), False, RULES)
    assert plan.archive_until == date(2036, 11, 30) and plan.deletion_due_on is None
    plan = hs.plan_closure(date(2026, 11, 30), True, RULES)
    assert plan.deletion_due_on == date(2027, 2, 28)  # 30 Nov + 3 months, clamped
    assert hs.add_months(date(2027, 11, 30), 3) == date(2028, 2, 29)


def test_purge_when_due():
    plan = hs.plan_closure(date(2026, 1, 10), True, RULES)
    assert not hs.due_for_purge("closed", plan, date(2026, 4, 9))
    assert hs.due_for_purge("closed", plan, date(2026, 4, 10))
    assert not hs.due_for_purge("active", plan, date(2030, 1, 1))
    archived = hs.plan_closure(date(2026, 1, 10), False, RULES)
    assert not hs.due_for_purge("closed", archived, date(2036, 1, 9))
    assert hs.due_for_purge("closed", archived, date(2036, 1, 10))


def test_close_and_reopen_only_from_the_right_state():
    hs.check_close("active")
    hs.check_reopen("closed")
    for state in ("notified", "opposed", "closed", "purged"):
        with pytest.raises(InvalidTransition):
            hs.check_close(state)
    for state in ("notified", "opposed", "active", "purged"):
        with pytest.raises(InvalidTransition):
            hs.check_reopen(state)


def test_available_actions():
    sent = date(2026, 10, 1)
    assert hs.available_actions("notified", sent, date(2026, 10, 2), RULES)[0] == "oppose"
    assert hs.available_actions("active", sent, date(2026, 12, 1), RULES)[0] == "close"
    assert hs.available_actions("closed", sent, date(2026, 12, 1), RULES) == ["reopen", "history"]
    assert hs.available_actions("opposed", sent, date(2026, 12, 1), RULES) == ["history"]


# --- emergency access ------------------------------------------------------------------------------

ON = EmergencySettings()


@pytest.mark.parametrize("state,settings,mode,blocked,outcome,reason", [
    ("active", ON, "normal", False, "granted", "allowed"),
    ("active", ON, "samu", False, "granted", "emergency_allowed"),
    ("active", ON, "break_glass", False, "granted", "emergency_allowed"),
    ("active", EmergencySettings(samu=False), "samu", False, "refused", "samu_refused"),
    ("active", EmergencySettings(samu=False), "break_glass", False, "granted", "emergency_allowed"),
    ("active", EmergencySettings(break_glass=False), "break_glass", False, "refused", "break_glass_refused"),
    ("active", EmergencySettings(break_glass=False), "normal", False, "granted", "allowed"),
    ("active", ON, "normal", True, "refused", "professional_blocked"),
    ("active", ON, "samu", True, "refused", "professional_blocked"),
    ("notified", ON, "normal", False, "refused", "no_space"),
    ("opposed", ON, "samu", False, "refused", "opposed"),
    ("closed", ON, "break_glass", False, "refused", "closed"),
    ("purged", ON, "normal", False, "refused", "closed"),
])
def test_decisions(state, settings, mode, blocked, outcome, reason):
    decision = decide(state, settings, mode, blocked)
    assert (decision.outcome, decision.reason) == (outcome, reason)


def test_masked_documents_only_in_a_granted_emergency():
    masked = EmergencySettings(masked=True)
    assert decide("active", masked, "break_glass", False).masked_documents_visible
    assert not decide("active", masked, "normal", False).masked_documents_visible
    assert not decide("active", EmergencySettings(samu=False, masked=True), "samu", False).masked_documents_visible


def test_switching_both_emergency_accesses_off_switches_masked_off():
    s = EmergencySettings(masked=True).with_setting("samu", False)
    assert s.masked
    s = s.with_setting("break_glass", False)
    assert (s.samu, s.break_glass, s.masked, s.masked_applies) == (False, False, False, False)


# --- configuration ---------------------------------------------------------------------------------

def test_production_argon2_is_at_least_owasp_minimum():
    assert Config.ARGON2_MEMORY_KIB >= 19 * 1024 and Config.ARGON2_TIME_COST >= 2
    assert Config.ARGON2_PARALLELISM == 1


def test_domain_numbers_default_to_the_spec():
    assert (Config.OPPOSITION_WINDOW_DAYS, Config.ARCHIVE_YEARS, Config.DELETION_MAX_MONTHS) == (42, 10, 3)
    assert (Config.BACKOFF_AFTER_FAILURES, Config.LOCK_AFTER_FAILURES) == (5, 10)
    assert Config.SESSION_IDLE_MINUTES == 15 and Config.SESSION_MAX_HOURS == 12
