"""Every user action as a small command value, exactly one handler each, and the one registry between them.

A channel builds a command from what the person typed, said or pressed and dispatches it with who acts and
for whom; the handler authorises, runs the change once (idempotency key, receipt, audit: act_once) and
returns the Receipt. A command waiting for its one-time code is kept as `to_params(command)` and rebuilt
with `from_params`, so the SMS round trip stores the request itself, not a word to decode later.
(cosmicpython's messagebus: COMMAND_HANDLERS.)
"""
from dataclasses import asdict, dataclass, fields
from datetime import date
from typing import Callable

from . import access, helpers, spaces
from .base import Actor, Receipt


@dataclass(frozen=True)
class Oppose:
    """Say no to the creation of the health space (during the window)."""


@dataclass(frozen=True)
class Close:
    delete: bool = False  # ask for the data to be deleted within 3 months, else archived 10 years


@dataclass(frozen=True)
class Reopen:
    """Reopen a closed space; a pending deletion is cancelled."""


@dataclass(frozen=True)
class SetEmergency:
    setting: str  # samu, break_glass, masked
    on: bool


@dataclass(frozen=True)
class Block:
    event_id: int  # the history line whose professional is blocked


@dataclass(frozen=True)
class Unblock:
    block_id: int


@dataclass(frozen=True)
class Report:
    event_id: int  # the history line reported as not recognised


@dataclass(frozen=True)
class SendHistory:
    """The last accesses by SMS (or by post without a mobile)."""


@dataclass(frozen=True)
class NameHelper:
    helper_nir: str
    helper_birth: date
    until: date | None = None


@dataclass(frozen=True)
class RemoveHelper:
    mandate_id: int


@dataclass(frozen=True)
class SetNotifications:
    on: bool  # a message at each access to the space
    discreet: bool | None = None  # naming nobody (True), naming who (False), the style chosen before (None)


Command = (Oppose | Close | Reopen | SetEmergency | Block | Unblock | Report | SendHistory | NameHelper |
           RemoveHelper | SetNotifications)

# command type -> handler(command, actor, subject_id, idempotency_key) -> Receipt
HANDLERS: dict[type, Callable[..., Receipt]] = {
    Oppose: lambda c, actor, subject, key: spaces.oppose(actor, subject, key),
    Close: lambda c, actor, subject, key: spaces.close(actor, subject, c.delete, key),
    Reopen: lambda c, actor, subject, key: spaces.reopen(actor, subject, key),
    SetEmergency: lambda c, actor, subject, key: spaces.set_emergency_access(actor, subject, c.setting, c.on, key),
    Block: lambda c, actor, subject, key: access.block_professional(actor, subject, c.event_id, key),
    Unblock: lambda c, actor, subject, key: access.unblock_professional(actor, subject, c.block_id, key),
    Report: lambda c, actor, subject, key: access.report_access(actor, subject, c.event_id, key),
    SendHistory: lambda c, actor, subject, key: access.send_history(actor, subject, key),
    NameHelper: lambda c, actor, subject, key: helpers.name_helper(actor, subject, c.helper_nir, c.helper_birth,
                                                                   c.until, key),
    RemoveHelper: lambda c, actor, subject, key: helpers.revoke_helper(actor, subject, c.mandate_id, key),
    SetNotifications: lambda c, actor, subject, key: spaces.set_notifications(actor, subject, c.on, c.discreet, key),
}
BY_NAME = {kind.__name__: kind for kind in HANDLERS}


def dispatch(command: Command, actor: Actor, subject_id: int, idempotency_key: str | None = None) -> Receipt:
    """Run a command once for `subject_id`, as `actor`; raises the domain's refusal (with its Reason)."""
    return HANDLERS[type(command)](command, actor, subject_id, idempotency_key)


def to_params(command: Command) -> dict:
    """The command as JSON-safe values, to wait for its one-time code."""
    values = {k: v.isoformat() if isinstance(v, date) else v for k, v in asdict(command).items()}
    return {"command": type(command).__name__, **values}


def from_params(params: dict) -> Command | None:
    """The command a one-time code confirms, or None when the stored request is not one (an older form)."""
    kind = BY_NAME.get(params.get("command"))
    if kind is None:
        return None
    values = {}
    for f in fields(kind):
        if f.name not in params:
            return None
        value = params[f.name]
        values[f.name] = date.fromisoformat(value) if f.type in (date, date | None) and value else value
    return kind(**values)
