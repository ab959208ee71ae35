"""Domain exceptions: each channel turns them into its own words."""


class DomainError(Exception):
    """A rule refused the request; nothing was changed."""

    code = "domain_error"


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

    def __init__(self, until):
        super().__init__("locked")
        self.until = until


class WindowClosed(DomainError):
    """Opposition asked after the 6-week window: closure is offered instead."""

    code = "window_closed"


class InvalidTransition(DomainError):
    code = "invalid_transition"

    def __init__(self, state: str, action: str):
        super().__init__(f"{action} not allowed from {state}")
        self.state = state
        self.action = action


class NotAuthorized(DomainError):
    """Refused for this actor: `reason` is minor_alone, helper_limit or no_mandate (which reveals nothing)."""

    code = "not_authorized"

    def __init__(self, reason: str = "no_mandate"):
        super().__init__(reason)
        self.reason = reason


class HelperRefused(DomainError):
    """A trusted helper cannot be named: `reason` says why (not_found never says which detail was wrong)."""

    code = "helper_refused"

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class NotFound(DomainError):
    code = "not_found"
