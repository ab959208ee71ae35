"""Domain exceptions: each carries its Reason, which each channel says in its own words (app/reasons.py)."""
from .reasons import Reason


class DomainError(Exception):
    """A rule refused the request; nothing was changed."""

    code = "domain_error"
    reason: Reason = Reason.NOT_POSSIBLE


class InvalidIdentifier(DomainError):
    """An identifier is not well formed; `code` says which slip was recognised."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


class IdentificationFailed(DomainError):
    """The details do not match; deliberately says nothing about which one."""

    code = "identification_failed"


class IdentificationLocked(DomainError):
    code = "identification_locked"
    reason = Reason.LOCKED

    def __init__(self, until):
        super().__init__("locked")
        self.until = until


class WindowClosed(DomainError):
    """Opposition asked after the 6-week window: closure is offered instead."""

    code = "window_closed"
    reason = Reason.WINDOW_CLOSED


class InvalidTransition(DomainError):
    code = "invalid_transition"

    def __init__(self, state: str, action: str, reason: Reason = Reason.NOT_POSSIBLE):
        super().__init__(f"{action} not allowed from {state}")
        self.state = state
        self.action = action
        self.reason = reason


class NotAuthorized(DomainError):
    """Refused for this actor: `reason` is minor_alone, helper_limit or no_mandate (which reveals nothing)."""

    code = "not_authorized"

    def __init__(self, reason: str = Reason.NO_MANDATE):
        super().__init__(reason)
        self.reason = Reason(reason)


class HelperRefused(DomainError):
    """A trusted helper cannot be named: `reason` says why (not_found never says which detail was wrong)."""

    code = "helper_refused"

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = Reason(reason)


class CallbackRefused(DomainError):
    """A callback cannot be booked: `reason` says whether the number or the half-day is the matter."""

    code = "callback_refused"

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = Reason(reason)


class NotFound(DomainError):
    code = "not_found"


class CodeSpent(IdentificationFailed):
    """The NIR, the card's serial and the date of birth are right, and the code typed is the person's letter code,
    but it has expired or has been used: `reason` says which. A channel that does not know it says the one
    answer of IdentificationFailed, which reveals nothing. What the person can do next goes with it: sign in
    with a code by SMS (`has_mobile`), ask for a new code (`may_renew`), and, when they have said no already, the
    day (`opposed_on`) and the reference (`opposed_reference`) of that decision."""

    code = "code_spent"

    def __init__(self, reason: Reason, *, has_mobile: bool, may_renew: bool, opposed_on=None,
                 opposed_reference: str | None = None):
        super().__init__(reason)
        self.reason = Reason(reason)
        self.has_mobile = has_mobile
        self.may_renew = may_renew
        self.opposed_on = opposed_on
        self.opposed_reference = opposed_reference
