"""Who may act for whom: legal representatives' mandates, minors and their autonomy (SPEC §2)."""
from dataclasses import dataclass
from datetime import date, timedelta

from .reasons import Reason

KINDS = ("parent", "tutelle", "habilitation_familiale")
HELPER = "aidant"  # a trusted helper (proche aidant), named by the holder for at most a year
# What a minor may not do alone, and what only the holder or a legal representative may do.
NOT_ALONE_FOR_A_MINOR = {"space.opposed", "space.closed", "space.reopened", "helper.named"}
# What a trusted helper may do: read and hear the history, report or block an access, emergency settings.
HELPER_MAY = {"view", "history", "history.sent", "access.reported", "professional.blocked",
              "professional.unblocked"}
HELPERS_PER_PERSON = 3
PEOPLE_PER_HELPER = 5
HELPER_MAX_DAYS = 365


def may_do(kind: str, action: str) -> bool:
    """A legal representative does what the holder may; a trusted helper only what SPEC §2 lists."""
    if kind != HELPER:
        return True
    return action in HELPER_MAY or action.startswith("emergency.")


def strength(kind: str) -> int:
    """When one person holds two mandates for another, the legal one counts."""
    return 0 if kind == HELPER else 1


def age(birth: date, today: date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def adult_on(birth: date, majority: int) -> date:
    try:
        return birth.replace(year=birth.year + majority)
    except ValueError:  # born on 29 February
        return date(birth.year + majority, 3, 1)


@dataclass(frozen=True)
class MandateFacts:
    kind: str
    valid_from: date
    valid_until: date | None
    ended: bool
    represented_birth: date
    represented_autonomous_on: date | None


def is_current(m: MandateFacts, today: date, majority: int = 18) -> bool:
    """A mandate counts from its first to its last day; a parent's ends at 18 or at the minor's autonomy."""
    if m.ended or today < m.valid_from or (m.valid_until is not None and today > m.valid_until):
        return False
    if m.kind == "parent":
        if today >= adult_on(m.represented_birth, majority):
            return False
        if m.represented_autonomous_on is not None and today >= m.represented_autonomous_on:
            return False
    return True


def ends_on(m: MandateFacts, majority: int = 18) -> date | None:
    """The first day a mandate no longer counts (its last day passed, majority, autonomy), when known."""
    ends = []
    if m.valid_until is not None:
        ends.append(m.valid_until + timedelta(days=1))
    if m.kind == "parent":
        ends.append(adult_on(m.represented_birth, majority))
        if m.represented_autonomous_on is not None:
            ends.append(m.represented_autonomous_on)
    return min(ends, default=None)


def may_act_alone(action: str, birth: date, autonomous_on: date | None, today: date, majority: int = 18) -> bool:
    """A minor cannot oppose or close alone, unless recognised autonomous (possible from 16)."""
    if action not in NOT_ALONE_FOR_A_MINOR or age(birth, today) >= majority:
        return True
    return autonomous_on is not None and today >= autonomous_on


def check_new_mandate(kind: str, valid_from: date, valid_until: date | None, represented_birth: date,
                      today: date, majority: int = 18) -> str | None:
    """The plain reason a mandate row cannot be stored, or None."""
    if kind not in KINDS:
        return "kind must be parent, tutelle or habilitation_familiale"
    if valid_until is not None and valid_until < valid_from:
        return "valid_until is before valid_from"
    if kind == "parent" and valid_from >= adult_on(represented_birth, majority):
        return "a parent's mandate is for a minor: the represented person is an adult on valid_from"
    return None


def check_new_helper(helpers_of_person: int, people_of_helper: int, same_person: bool,
                     most_helpers: int = HELPERS_PER_PERSON, most_people: int = PEOPLE_PER_HELPER) -> Reason | None:
    """Why a trusted helper cannot be named, or None."""
    if same_person:
        return Reason.HELPER_SELF
    if helpers_of_person >= most_helpers:
        return Reason.TOO_MANY_HELPERS
    if people_of_helper >= most_people:
        return Reason.HELPER_FULL
    return None


def add_months(day: date, months: int) -> date:
    """The same day `months` later (the month's last day when it is shorter), at most a year on."""
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    for d in (day.day, 30, 29, 28):
        try:
            return min(date(year, month, d), day + timedelta(days=HELPER_MAX_DAYS))
        except ValueError:
            continue
    raise AssertionError("unreachable")
