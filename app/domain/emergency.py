"""Emergency access settings (L1111-17) and the decision on each access attempt."""
from dataclasses import dataclass, replace
from enum import StrEnum

from .health_space import State


class Mode(StrEnum):
    NORMAL = "normal"
    SAMU = "samu"
    BREAK_GLASS = "break_glass"


class Setting(StrEnum):
    SAMU = "samu"
    BREAK_GLASS = "break_glass"
    MASKED = "masked"


@dataclass(frozen=True)
class EmergencySettings:
    samu: bool = True
    break_glass: bool = True
    masked: bool = False

    @property
    def masked_applies(self) -> bool:
        """Showing masked documents only means something while an emergency access is allowed."""
        return self.samu or self.break_glass

    def with_setting(self, setting: str, on: bool) -> "EmergencySettings":
        changed = replace(self, **{Setting(setting).value: on})
        if not changed.masked_applies:
            changed = replace(changed, masked=False)
        return changed


@dataclass(frozen=True)
class Decision:
    granted: bool
    reason: str                   # machine word, stable in the API
    masked_documents_visible: bool = False

    @property
    def outcome(self) -> str:
        return "granted" if self.granted else "refused"


def decide(state: str, settings: EmergencySettings, mode: str, professional_blocked: bool) -> Decision:
    """Whether an access attempt is granted under the holder's choices."""
    if state in (State.OPPOSED,):
        return Decision(False, "opposed")
    if state in (State.CLOSED, State.PURGED):
        return Decision(False, "closed")
    if state != State.ACTIVE:
        return Decision(False, "no_space")
    if professional_blocked:
        return Decision(False, "professional_blocked")
    if mode == Mode.SAMU and not settings.samu:
        return Decision(False, "samu_refused")
    if mode == Mode.BREAK_GLASS and not settings.break_glass:
        return Decision(False, "break_glass_refused")
    emergency = mode in (Mode.SAMU, Mode.BREAK_GLASS)
    return Decision(True, "emergency_allowed" if emergency else "allowed",
                    masked_documents_visible=emergency and settings.masked)
