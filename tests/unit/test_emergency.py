"""Emergency access (L1111-17): the decision on every access attempt, and the three settings."""
import itertools

import pytest

from app.domain.emergency import Decision, EmergencySettings, Mode, Setting, decide
from app.domain.health_space import State

STATES = [s.value for s in State]
MODES = [m.value for m in Mode]
SETTINGS = [EmergencySettings(samu, bg, masked) for samu, bg, masked in itertools.product([True, False], repeat=3)]


def expected(state: str, s: EmergencySettings, mode: str, blocked: bool) -> tuple[str, str, bool]:
    """The rules written out once more, plainly: (outcome, reason, masked documents visible)."""
    if state == "opposed":
        return "refused", "opposed", False
    if state in ("closed", "purged"):
        return "refused", "closed", False
    if state == "notified":
        return "refused", "no_space", False
    if blocked:
        return "refused", "professional_blocked", False
    if mode == "samu":
        return ("granted", "emergency_allowed", s.masked) if s.samu else ("refused", "samu_refused", False)
    if mode == "break_glass":
        return ("granted", "emergency_allowed", s.masked) if s.break_glass else ("refused", "break_glass_refused",
                                                                                 False)
    return "granted", "allowed", False


@pytest.mark.parametrize("blocked", [False, True])
@pytest.mark.parametrize("settings", SETTINGS,
                         ids=lambda s: f"samu{int(s.samu)}-bg{int(s.break_glass)}-m{int(s.masked)}")
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("state", STATES)
def test_decide_every_combination(state, mode, settings, blocked):
    d = decide(state, settings, mode, blocked)
    outcome, reason, masked = expected(state, settings, mode, blocked)
    assert (d.outcome, d.reason, d.masked_documents_visible) == (outcome, reason, masked)
    assert d.granted is (outcome == "granted")


def test_defaults_are_emergency_on_and_masked_off():
    s = EmergencySettings()
    assert (s.samu, s.break_glass, s.masked) == (True, True, False)


def test_masked_documents_only_on_a_granted_emergency_with_masked_on():
    s = EmergencySettings(True, True, True)
    assert decide("active", s, "samu", False).masked_documents_visible
    assert decide("active", s, "break_glass", False).masked_documents_visible
    assert not decide("active", s, "normal", False).masked_documents_visible
    assert not decide("active", s, "samu", True).masked_documents_visible
    assert not decide("closed", s, "samu", False).masked_documents_visible
    assert not decide("active", EmergencySettings(True, True, False), "samu", False).masked_documents_visible


def test_decision_outcome_words():
    assert Decision(True, "allowed").outcome == "granted"
    assert Decision(False, "opposed").outcome == "refused"


# --- switching the settings ------------------------------------------------------------------------

def test_switching_both_off_switches_masked_off():
    s = EmergencySettings(True, True, True)
    one_off = s.with_setting("samu", False)
    assert (one_off.samu, one_off.break_glass, one_off.masked) == (False, True, True)
    both_off = one_off.with_setting(Setting.BREAK_GLASS, False)
    assert (both_off.samu, both_off.break_glass, both_off.masked) == (False, False, False)
    assert not both_off.masked_applies


def test_switching_break_glass_then_samu_off_also_switches_masked_off():
    s = EmergencySettings(True, True, True).with_setting("break_glass", False).with_setting("samu", False)
    assert s == EmergencySettings(False, False, False)


def test_masked_cannot_be_on_while_both_are_off():
    s = EmergencySettings(False, False, False).with_setting("masked", True)
    assert s.masked is False


def test_masked_on_while_one_is_on():
    assert EmergencySettings(False, True, False).with_setting("masked", True).masked is True
    assert EmergencySettings(True, False, False).with_setting("masked", True).masked is True


def test_switching_one_back_on_does_not_switch_masked_back_on():
    s = EmergencySettings(False, False, False).with_setting("samu", True)
    assert s == EmergencySettings(True, False, False)


def test_with_setting_leaves_the_original_unchanged_and_refuses_unknown_settings():
    s = EmergencySettings()
    s.with_setting("samu", False)
    assert s.samu is True
    with pytest.raises(ValueError):
        s.with_setting("everything", False)
