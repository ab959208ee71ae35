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
    code = "not_authorized"


class NotFound(DomainError):
    code = "not_found"
