"""States of a health space and the rules of each transition (SPEC §2): pure functions of dates."""
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from .errors import InvalidTransition, WindowClosed
from .reasons import Reason


class State(StrEnum):
    NOTIFIED = "notified"   # letter sent, opposition window open
    OPPOSED = "opposed"     # final
    ACTIVE = "active"
    CLOSED = "closed"       # archived, or deletion pending
    PURGED = "purged"


@dataclass(frozen=True)
class Rules:
    window_days: int = 42
    archive_years: int = 10
    deletion_max_months: int = 3


def add_months(day: date, months: int) -> date:
    """Calendar months, clamped to the month's last day (31 Nov -> 30 Nov)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise ValueError(day)


def window_end(letter_sent_on: date, rules: Rules) -> date:
    """Last day on which opposition is still possible."""
    return letter_sent_on + timedelta(days=rules.window_days)


def window_open(letter_sent_on: date, today: date, rules: Rules) -> bool:
    return today <= window_end(letter_sent_on, rules)


def days_left(letter_sent_on: date, today: date, rules: Rules) -> int:
    return (window_end(letter_sent_on, rules) - today).days


def due_for_creation(state: str, letter_sent_on: date, today: date, rules: Rules) -> bool:
    """Without an answer, the space is created once the window has ended."""
    return state == State.NOTIFIED and not window_open(letter_sent_on, today, rules)


# Why an action on the space is refused in each state (None: it is possible there).
_REFUSED_IN = {
    "oppose": {State.ACTIVE: Reason.WINDOW_CLOSED, State.OPPOSED: Reason.ALREADY_OPPOSED,
               State.CLOSED: Reason.ALREADY_CLOSED, State.PURGED: Reason.PURGED},
    "close": {State.NOTIFIED: Reason.NOT_YET_CREATED, State.OPPOSED: Reason.ALREADY_OPPOSED,
              State.CLOSED: Reason.ALREADY_CLOSED, State.PURGED: Reason.PURGED},
    "reopen": {State.NOTIFIED: Reason.NOT_CLOSED, State.OPPOSED: Reason.ALREADY_OPPOSED,
               State.ACTIVE: Reason.NOT_CLOSED, State.PURGED: Reason.PURGED},
}


def refusal(action: str, state: str, letter_sent_on: date, today: date, rules: Rules) -> Reason | None:
    """Why the holder may not `action` (oppose, close, reopen) now, or None when they may."""
    if state == State.NOTIFIED and not window_open(letter_sent_on, today, rules):
        state = State.ACTIVE  # the space is created at the window's end, whether or not the job has run
    if action == "oppose" and state == State.NOTIFIED:
        return None
    return _REFUSED_IN[action].get(State(state))


def offers_closure_instead(state: str, letter_sent_on: date, today: date, rules: Rules) -> bool:
    """Too late to say no, but the space can be closed: the words that explain it are worth saying."""
    return refusal("oppose", state, letter_sent_on, today, rules) == Reason.WINDOW_CLOSED


def check_oppose(state: str, letter_sent_on: date, today: date, rules: Rules) -> None:
    reason = refusal("oppose", state, letter_sent_on, today, rules)
    if reason == Reason.WINDOW_CLOSED:
        raise WindowClosed()
    if reason is not None:
        raise InvalidTransition(state, "oppose", reason)


def check_close(state: str) -> None:
    if state != State.ACTIVE:
        raise InvalidTransition(state, "close", _REFUSED_IN["close"][State(state)])


@dataclass(frozen=True)
class ClosurePlan:
    archive_until: date
    deletion_due_on: date | None


def plan_closure(closed_on: date, delete_requested: bool, rules: Rules) -> ClosurePlan:
    return ClosurePlan(
        archive_until=add_months(closed_on, 12 * rules.archive_years),
        deletion_due_on=add_months(closed_on, rules.deletion_max_months) if delete_requested else None,
    )


def check_reopen(state: str) -> None:
    """Reopening is possible while the data is archived (R1111-36), i.e. until it is purged."""
    if state != State.CLOSED:
        raise InvalidTransition(state, "reopen", _REFUSED_IN["reopen"][State(state)])


def due_for_purge(state: str, plan: ClosurePlan, today: date) -> bool:
    if state != State.CLOSED:
        return False
    if plan.deletion_due_on is not None and today >= plan.deletion_due_on:
        return True
    return today >= plan.archive_until


def available_actions(state: str, letter_sent_on: date, today: date, rules: Rules) -> list[str]:
    """What a holder can do now, in the order the portal offers it."""
    if state == State.NOTIFIED and window_open(letter_sent_on, today, rules):
        return ["oppose", "history", "emergency"]
    if state in (State.ACTIVE, State.NOTIFIED):
        return ["close", "history", "emergency"]
    if state == State.CLOSED:
        return ["reopen", "history"]
    return ["history"]
