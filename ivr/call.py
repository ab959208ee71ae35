"""One call as the script sees it: who calls, for whom, what they typed so far; persisted by the voice adapter."""
from app.services import Actor, access, spaces


class Call:
    """The state of one call as the script sees it; persisted by the voice adapter."""

    def __init__(self, sid: str, language: str, data: dict, seq: int, caller: str):
        self.sid, self.language, self.data, self.seq, self.caller = sid, language, data, seq, caller
        self.before: list = []          # sentences said before the next step's prompt
        self._held: dict | None = None  # spaces read once while switch steps route the call (see `hold`)

    @property
    def person_id(self) -> int | None:
        return self.data.get("person_id")

    @property
    def subject_id(self) -> int | None:
        """Whom the call acts for: the caller, or a person they represent («calling for someone else»)."""
        return self.data.get("subject_id") or self.person_id

    @property
    def for_other(self) -> bool:
        return self.subject_id != self.person_id

    @property
    def actor(self) -> Actor:
        return Actor(self.person_id, "voice")

    @property
    def client(self) -> str:
        """Who is limited for guessing: the calling number; a withheld number is limited per call,
        so one person cannot lock out every caller who hides their number (the NIR lock still holds)."""
        caller = (self.caller or "").strip()
        if not caller or not caller.lstrip("+").isdigit():
            return "phone:withheld:" + self.sid
        return "phone:" + caller

    def key(self) -> str:
        """Idempotency key of an action taken at this step of this call."""
        return f"voice:{self.sid[-34:]}:{self.seq}"

    def space(self):
        """The space of whom the call acts for, as this caller may see it."""
        if self._held is None:
            return spaces.view(self.actor, self.subject_id)
        key = (self.person_id, self.subject_id)
        if key not in self._held:
            self._held[key] = spaces.view(self.actor, self.subject_id)
        return self._held[key]

    def hold(self, held: bool) -> None:
        """While switch steps route the call nothing changes a space: their tests and exits read it once."""
        self._held = ({} if self._held is None else self._held) if held else None

    def batch(self):
        """The 3 accesses of the history the call is at: (that page of the history, offset of its first)."""
        offset = self.data.get("offset", 0)
        return access.history(self.actor, self.subject_id, page=offset // 3 + 1, per_page=3), offset
