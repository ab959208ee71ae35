"""What switch steps look at and test: the caller, the goal they chose, their space; read only, never changed."""
from functools import partial
from operator import eq

from flask import current_app

from app import clock
from app.domain.reasons import Reason

# what a menu key sets call.data["goal"] to
GOALS = ("change", "for_other", "helpers", "history", "emergency", "notices")

# operand -> how a switch step reads it from the call; None is «no response»: nothing to look at.
OPERANDS = {
    "caller": lambda call: call.person_id,            # who is identified on this call
    "goal": lambda call: call.data.get("goal"),       # what they came for
    "space": lambda call: call.space(),               # the space of whom the call acts for
}


def can(action: str):
    """The space allows `action` now, for this caller."""
    return lambda space: action in space.actions


def closing_soon_after_the_letter(space) -> bool:
    """Too late to say no, but the letter is recent: the caller may have wanted to say no."""
    return "close" in space.actions and space.refusals.get("oppose") == Reason.WINDOW_CLOSED and \
        (clock.today() - space.window_ends_on).days <= current_app.config["RECENT_LETTER_DAYS"]


# operand -> test name -> the test of the operand's value a case names.
TESTS = {
    "caller": {},
    "goal": {goal: partial(eq, goal) for goal in GOALS},
    "space": {
        "restricted": lambda space: bool(space.restricted),  # a trusted helper, or a minor alone
        # a minor alone may still name a trusted helper; a trusted helper may not
        "restricted_beyond_minor_alone":
            lambda space: bool(space.restricted) and space.restricted != Reason.MINOR_ALONE,
        "can_oppose": can("oppose"),
        "closing_soon_after_the_letter": closing_soon_after_the_letter,
        "can_close": can("close"),
        "can_reopen": can("reopen"),
        "can_emergency": can("emergency"),
    },
}
