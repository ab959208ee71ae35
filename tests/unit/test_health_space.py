"""States of a health space as pure rules of dates (SPEC §2): the window, closure, purge, reopening."""
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain import health_space as hs
from app.domain.errors import InvalidTransition, WindowClosed

RULES = hs.Rules()
LETTER = date(2026, 10, 13)
LAST_DAY = date(2026, 11, 24)  # letter + 42 days
S = hs.State


def test_defaults_are_six_weeks_ten_years_three_months():
    assert (RULES.window_days, RULES.archive_years, RULES.deletion_max_months) == (42, 10, 3)


# --- the opposition window ------------------------------------------------------------------------

def test_last_day_of_the_window_is_the_letter_plus_42_days():
    assert hs.window_end(LETTER, RULES) == LAST_DAY == LETTER + timedelta(weeks=6)


@pytest.mark.parametrize("today,is_open,left", [
    (LETTER, True, 42), (LAST_DAY - timedelta(days=1), True, 1), (LAST_DAY, True, 0),
    (LAST_DAY + timedelta(days=1), False, -1), (LAST_DAY + timedelta(days=300), False, -300),
])
def test_window_is_open_on_its_last_day_and_closed_the_day_after(today, is_open, left):
    assert hs.window_open(LETTER, today, RULES) is is_open
    assert hs.days_left(LETTER, today, RULES) == left


def test_window_follows_a_custom_setting():
    rules = hs.Rules(window_days=10)
    assert hs.window_open(LETTER, LETTER + timedelta(days=10), rules)
    assert not hs.window_open(LETTER, LETTER + timedelta(days=11), rules)


@pytest.mark.parametrize("state,today,due", [
    (S.NOTIFIED, LAST_DAY, False), (S.NOTIFIED, LAST_DAY + timedelta(days=1), True),
    (S.NOTIFIED, LETTER, False), (S.OPPOSED, LAST_DAY + timedelta(days=1), False),
    (S.ACTIVE, LAST_DAY + timedelta(days=1), False), (S.CLOSED, LAST_DAY + timedelta(days=5), False),
    (S.PURGED, LAST_DAY + timedelta(days=5), False),
])
def test_due_for_creation_only_for_a_notified_space_once_the_window_has_ended(state, today, due):
    assert hs.due_for_creation(state, LETTER, today, RULES) is due


# --- oppose -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("today", [LETTER, LETTER + timedelta(days=20), LAST_DAY])
def test_oppose_is_possible_while_the_window_is_open(today):
    assert hs.check_oppose(S.NOTIFIED, LETTER, today, RULES) is None


@pytest.mark.parametrize("state", [S.NOTIFIED, S.ACTIVE])
def test_oppose_after_the_window_is_window_closed(state):
    with pytest.raises(WindowClosed):
        hs.check_oppose(state, LETTER, LAST_DAY + timedelta(days=1), RULES)


@pytest.mark.parametrize("state", [S.OPPOSED, S.CLOSED, S.PURGED])
@pytest.mark.parametrize("today", [LETTER + timedelta(days=1), LAST_DAY + timedelta(days=1)])
def test_oppose_when_opposed_or_closed_is_an_invalid_transition(state, today):
    with pytest.raises(InvalidTransition) as exc:
        hs.check_oppose(state, LETTER, today, RULES)
    assert exc.value.state == state and exc.value.action == "oppose"


# --- close, purge, reopen ---------------------------------------------------------------------------

def test_close_only_from_active():
    hs.check_close(S.ACTIVE)
    for state in (S.NOTIFIED, S.OPPOSED, S.CLOSED, S.PURGED):
        with pytest.raises(InvalidTransition):
            hs.check_close(state)


def test_closure_without_deletion_is_archived_ten_years():
    plan = hs.plan_closure(date(2026, 11, 24), False, RULES)
    assert plan == hs.ClosurePlan(archive_until=date(2036, 11, 24), deletion_due_on=None)


def test_closure_with_deletion_is_deleted_within_three_months():
    plan = hs.plan_closure(date(2026, 11, 24), True, RULES)
    assert plan.deletion_due_on == date(2027, 2, 24)
    assert plan.archive_until == date(2036, 11, 24)


@pytest.mark.parametrize("closed_on,deletion", [
    (date(2026, 11, 30), date(2027, 2, 28)),   # 30 Nov + 3 months: end of February
    (date(2027, 11, 30), date(2028, 2, 29)),   # ... of a leap year
    (date(2026, 11, 29), date(2027, 2, 28)),
    (date(2026, 5, 31), date(2026, 8, 31)),
    (date(2026, 8, 31), date(2026, 11, 30)),   # no 31 November
    (date(2026, 10, 15), date(2027, 1, 15)),   # across the new year
    (date(2026, 12, 31), date(2027, 3, 31)),
])
def test_deletion_date_is_clamped_to_the_end_of_the_month(closed_on, deletion):
    assert hs.plan_closure(closed_on, True, RULES).deletion_due_on == deletion


def test_archive_of_a_leap_day_ends_on_28_february():
    assert hs.plan_closure(date(2028, 2, 29), False, RULES).archive_until == date(2038, 2, 28)


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31)))
def test_deletion_is_never_later_than_three_months(closed_on):
    plan = hs.plan_closure(closed_on, True, RULES)
    assert closed_on < plan.deletion_due_on <= closed_on + timedelta(days=92)
    assert plan.deletion_due_on < plan.archive_until
    assert plan.archive_until.year == closed_on.year + 10


def test_purge_at_the_deletion_date_not_the_day_before():
    plan = hs.plan_closure(date(2026, 11, 24), True, RULES)
    assert not hs.due_for_purge(S.CLOSED, plan, date(2027, 2, 23))
    assert hs.due_for_purge(S.CLOSED, plan, date(2027, 2, 24))
    assert hs.due_for_purge(S.CLOSED, plan, date(2027, 6, 1))


def test_purge_at_the_end_of_the_archive_not_before():
    plan = hs.plan_closure(date(2026, 11, 24), False, RULES)
    assert not hs.due_for_purge(S.CLOSED, plan, date(2027, 2, 24))
    assert not hs.due_for_purge(S.CLOSED, plan, date(2036, 11, 23))
    assert hs.due_for_purge(S.CLOSED, plan, date(2036, 11, 24))


@pytest.mark.parametrize("state", [S.NOTIFIED, S.OPPOSED, S.ACTIVE, S.PURGED])
def test_only_a_closed_space_is_purged(state):
    plan = hs.plan_closure(date(2000, 1, 1), True, RULES)
    assert not hs.due_for_purge(state, plan, date(2050, 1, 1))


def test_reopen_only_while_closed():
    hs.check_reopen(S.CLOSED)
    for state in (S.NOTIFIED, S.OPPOSED, S.ACTIVE, S.PURGED):
        with pytest.raises(InvalidTransition) as exc:
            hs.check_reopen(state)
        assert exc.value.action == "reopen"


# --- what the portal offers ------------------------------------------------------------------------

@pytest.mark.parametrize("state,today,actions", [
    (S.NOTIFIED, LAST_DAY, ["oppose", "history", "emergency"]),
    (S.NOTIFIED, LAST_DAY + timedelta(days=1), ["close", "history", "emergency"]),  # closure offered instead
    (S.ACTIVE, LETTER + timedelta(days=1), ["close", "history", "emergency"]),
    (S.ACTIVE, LAST_DAY + timedelta(days=100), ["close", "history", "emergency"]),
    (S.CLOSED, LAST_DAY + timedelta(days=100), ["reopen", "history"]),
    (S.OPPOSED, LETTER + timedelta(days=1), ["history"]),
    (S.PURGED, LAST_DAY + timedelta(days=100), ["history"]),
])
def test_available_actions(state, today, actions):
    assert hs.available_actions(state, LETTER, today, RULES) == actions
