"""Who may act for whom: legal representatives' mandates, minors and their autonomy (SPEC §2)."""
from dataclasses import dataclass
from datetime import date

KINDS = ("parent", "tutelle", "habilitation_familiale")
# What a minor may not do alone, and what only the holder or a legal representative may do.
NOT_ALONE_FOR_A_MINOR = {"space.opposed", "space.closed", "space.reopened"}


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
