"""The call script of the 34 22 line, as data: each step says something, expects an answer, and routes it.

Read STEPS top to bottom like an agent's script. A route's target is another step, or `do:<name>`,
an action of ACTIONS that calls one service and returns the next step. Every text comes from the catalogs.
"""
from dataclasses import dataclass, field
from datetime import date
from typing import Callable

from flask_babel import gettext as _

from app import clock
from app.domain import identifiers
from app.domain.emergency import EmergencySettings
from app.domain.errors import (HelperRefused, IdentificationFailed, IdentificationLocked, InvalidIdentifier,
                               InvalidTransition, NotAuthorized, WindowClosed)
from app.services import Actor, access, helpers, identity, mandates, references, spaces
from app.services.crypto import lookup

from . import speech

KEY, NUMBER, YESNO, END = "key", "number", "yesno", "end"


@dataclass(frozen=True)
class Step:
    say: Callable[["Call"], list]                 # sentences, or (sentence, language) pairs
    expect: str                                     # KEY, NUMBER (digits then #), YESNO, END
    routes: dict[str, str] = field(default_factory=dict)   # key -> step or do:action
    words: Callable[[], dict[str, str]] | None = None      # key -> spoken words that choose it
    accept: str | None = None                       # NUMBER: the action that checks and stores it
    on_silence: str | None = None                   # where silence leads, when not re-asked
    on_other: str | None = None                     # where any other key leads, when not re-asked
    timeout: int = 8


class Call:
    """The state of one call as the script sees it; persisted by the voice adapter."""

    def __init__(self, sid: str, language: str, data: dict, seq: int, caller: str):
        self.sid, self.language, self.data, self.seq, self.caller = sid, language, data, seq, caller
        self.before: list = []          # sentences said before the next step's prompt

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
        return spaces.view(self.actor, self.subject_id)


# --- what is said --------------------------------------------------------------------------------

def press(text: str, key: str) -> str:
    return _("To %(action)s, press %(key)s.", action=text, key=spoken_key(key))


def spoken_key(key: str) -> str:
    return {"*": _("star"), "#": _("hash")}.get(key, key)


def menu_tail() -> list[str]:
    return [press(_("hear this again"), "*")]


def yes_no(yes: str) -> list[str]:
    return [press(yes, "1"), press(_("cancel"), "2")]


YES_NO_WORDS = lambda: {"1": _("yes, okay, right, confirm, agree"), "2": _("no, not, don't, cancel, wrong, back")}  # noqa: E731


def say_language(call):
    if call.language == "fr":
        return [_("Welcome to Relais, the line of Mon espace santé."), ("For English, press 9.", "en")]
    return [_("Welcome to Relais, the line of Mon espace santé."), ("Pour le français, tapez 9.", "fr")]


def say_menu(call):
    acting = [_("You are acting for %(name)s.", name=call.data["subject_name"])] if call and call.for_other else []
    return [*acting, press(_("say no to, close or reopen your health space"), "1"),
            press(_("call for someone else"), "2"),
            press(_("hear who looked at your health space"), "3"),
            press(_("allow or refuse emergency access"), "4"),
            *menu_tail(), press(_("get help"), "0")]


MENU_WORDS = lambda: _("menu, main menu, back, return")  # noqa: E731


def words(**keys):
    """A step's spoken words: key -> a function giving the catalog's comma-separated words."""
    return lambda: {k: f() for k, f in keys.items()}


def menu_words():
    return {"1": _("oppose, opposition, refuse, say no") + ", " + _("close, closing, reopen, open, delete"),
            "2": _("someone else, another person, on behalf, child, parent, guardian"),
            "3": _("history, who, accesses, looked, list"), "4": _("emergency, samu, urgent, break")}


def say_help_menu(call):
    return [help_text(), press(_("check that a message or a letter really comes from Relais"), "1"),
            press(_("name or remove a trusted helper"), "2"),
            press(_("go back to the main menu"), "9")]


def say_for_nir(call):
    return [_("Type the social security number of the person you act for, 15 characters, followed by the hash "
              "key."), _("To act for yourself, type 1, then the hash key.")]


def say_helpers(call):
    listed = helpers.helpers_of(call.subject_id)
    said = [_("Helper %(n)d: %(name)s, until %(date)s.", n=i + 1, name=f"{h.given_name} {h.family_name}",
              date=speech.day(m.valid_until)) for i, (h, m) in enumerate(listed)] or [_("You have no trusted helper.")]
    keys = [press(_("name a trusted helper"), "1")] if len(listed) < 3 else \
        [_("You have 3 helpers, the most allowed.")]
    if listed:
        keys.append(press(_("remove a helper"), "2"))
    return [_("A trusted helper can hear your history and set your emergency access, for one year at most."),
            *said, *keys, press(_("go back to the main menu"), "9")]


def say_helper_nir(call):
    return [_("Type your helper's social security number, 15 characters, followed by the hash key.")]


def say_helper_birth(call):
    return [_("Type your helper's date of birth, 8 digits, followed by the hash key.")]


def say_helper_confirm(call):
    d = call.data
    return [_("Your helper: number %(nir)s, born %(birth)s. They will be your trusted helper for one year.",
              nir=speech.nir(d["helper_nir"]), birth=speech.day(date.fromisoformat(d["helper_birth"]))),
            *yes_no(_("confirm"))]


def say_helper_pick(call):
    return [_("Type the number of the helper to remove, followed by the hash key.")]


def say_helper_remove(call):
    return [_("%(name)s will no longer be your trusted helper.", name=call.data["helper_name"]),
            *yes_no(_("confirm"))]


def say_check_reference(call):
    return [_("Type the 9-digit reference written at the end of the message, followed by the hash key.")]


def say_nir(call):
    return [_("Type your social security number, 15 characters, followed by the hash key.")]


def say_serial(call):
    return [_("Type the serial number of your Vitale card, followed by the hash key.")]


def say_birth(call):
    return [_("Type your date of birth, day, month and year, 8 digits, followed by the hash key.")]


def say_code(call):
    return [_("Type the code of your letter, followed by the hash key. For a letter, press its key."),
            _("No letter? Type 9, then the hash key.")]


def say_sms_code(call):
    return [_("If your details are right, we are sending you an SMS. Type its 6-digit code, followed by the "
              "hash key."), _("Without a mobile, a new letter code will reach you by post.")]


def say_check(call):
    d = call.data
    values = dict(nir=speech.nir(d["nir"]), serial=speech.groups(d["serial"], 3),
                  birth=speech.day(date.fromisoformat(d["birth"])))
    typed = _("You typed: number %(nir)s. Card %(serial)s. Born %(birth)s.", **values) if d.get("sms") else \
        _("You typed: number %(nir)s. Card %(serial)s. Born %(birth)s. Code %(code)s.",
          code=speech.groups(d["code"], 2), **values)
    return [typed, press(_("confirm"), "1"), press(_("type them again"), "2")]


def say_oppose(call):
    return [_("If you say no, your health space will not be created. This is final."), *yes_no(_("confirm"))]


def say_close(call):
    return [_("If you close your health space, no professional can see it any more. You can reopen it later."),
            press(_("keep your data for 10 years"), "1"), press(_("delete it within 3 months"), "2"),
            press(_("go back to the main menu"), "9")]


def say_close_confirm(call):
    if call.data.get("delete"):
        text = _("Your space will be closed and its data deleted within 3 months.")
    else:
        text = _("Your space will be closed and its data kept for 10 years.")
    return [text, *yes_no(_("confirm"))]


def say_reopen(call):
    space = call.space()
    text = [_("Your health space is closed. If you reopen it, your documents come back.")]
    if space.deletion_due_on:
        text.append(_("The deletion you asked for will be cancelled."))
    return [*text, *yes_no(_("reopen it"))]


def _entry(number: int, line) -> str:
    e = line.event
    mode = {"samu": _("emergency access by the SAMU, reason: %(reason)s", reason=e.reason or ""),
            "break_glass": _("emergency access, reason: %(reason)s", reason=e.reason or "")}.get(e.mode, _("normal access"))
    outcome = "" if e.decision == "granted" else " " + _("It was refused.")
    return _("Access %(n)d. %(when)s, %(name)s, %(profession)s, %(mode)s.", n=number, when=speech.moment(e.occurred_at),
             name=e.professional_name, profession=e.profession, mode=mode) + outcome


def _batch(call):
    offset = call.data.get("offset", 0)
    page = access.history(call.actor, call.subject_id, page=offset // 3 + 1, per_page=3)
    return page, offset


def say_history(call):
    page, offset = _batch(call)
    if page.total == 0:
        return [_("Nobody has looked at your health space."), press(_("go back to the main menu"), "9")]
    lines = [_entry(offset + i + 1, line) for i, line in enumerate(page.lines)]
    if offset == 0:
        lines.insert(0, _("Here are the accesses, newest first."))
    more = [press(_("hear the next ones"), "1")] if page.page < page.pages else []
    send = _("get the history by SMS") if call.data.get("has_mobile") else _("get the history by post")
    return [*lines, *more, press(_("report or block one of these accesses"), "2"), press(send, "3"),
            press(_("go back to the main menu"), "9")]


def say_history_pick(call):
    return [_("Type the number of the access, followed by the hash key.")]


def say_history_act(call):
    return [press(_("report this access as not recognised"), "1"), press(_("block this professional"), "2"),
            press(_("go back to the history"), "9")]


def say_report(call):
    return [_("We will look into this access, and give you a case reference."), *yes_no(_("report it"))]


def say_block(call):
    return [_("This professional will no longer see your health space, even in an emergency."),
            *yes_no(_("block them"))]


def _allowed(flag: bool) -> str:
    return _("allowed") if flag else _("refused")


def say_emergency(call):
    e = call.space().emergency
    said = [_("Access by the SAMU: %(state)s.", state=_allowed(e.samu)),
            _("Emergency access by any professional: %(state)s.", state=_allowed(e.break_glass))]
    keys = [press(_("change access by the SAMU"), "1"), press(_("change emergency access by any professional"), "2")]
    if e.masked_applies:
        said.append(_("Hidden documents in an emergency: %(state)s.", state=_("shown") if e.masked else _("kept hidden")))
        keys.append(press(_("change hidden documents"), "3"))
    return [*said, *keys, press(_("go back to the main menu"), "9")]


def say_emergency_confirm(call):
    setting, on = call.data["setting"], call.data["on"]
    text = {("samu", False): _("The SAMU doctor will no longer see your health space. This can make your care less safe."),
            ("samu", True): _("The SAMU doctor will be able to see your health space."),
            ("break_glass", False): _("In an emergency, professionals will no longer see your health space. "
                                      "This can make your care less safe."),
            ("break_glass", True): _("In an emergency, any professional will be able to see your health space."),
            ("masked", False): _("Hidden documents will stay hidden in an emergency."),
            ("masked", True): _("Hidden documents will be shown in an emergency.")}[(setting, on)]
    return [text, *yes_no(_("confirm"))]


def say_receipt(call):
    return [_("Done. Your reference number is %(ref)s.", ref=speech.digits(call.data["reference"])),
            press(_("hear it again"), "*"), press(_("go back to the main menu"), "1")]


def say_goodbye(call):
    return [_("Thank you for calling. Goodbye.")]


def say_silent_goodbye(call):
    return [_("We heard nothing. You can call 34 22 again at any time. Goodbye.")]


def help_text() -> str:
    return _("Help: answer with the keys of your phone. The star key is at the bottom left, the hash key at "
             "the bottom right. You can also say yes or no.")


# --- the script -----------------------------------------------------------------------------------

STEPS: dict[str, Step] = {
    "language": Step(say_language, KEY, {"9": "do:switch_language"}, on_silence="menu", on_other="menu",
                     words=words(**{"9": lambda: _("english, anglais, french, francais")})),
    "menu": Step(say_menu, KEY, {"1": "do:goal_change", "2": "do:goal_for_other", "3": "do:goal_history",
                                 "4": "do:goal_emergency", "0": "help_menu"},
                 words=menu_words),
    "help_menu": Step(say_help_menu, KEY, {"1": "check_reference", "2": "do:goal_helpers", "9": "menu"},
                      words=words(**{"1": lambda: _("check, reference, message, letter, genuine"),
                                     "2": lambda: _("helper, trusted, aidant"), "9": MENU_WORDS})),
    "for_nir": Step(say_for_nir, NUMBER, accept="accept_for_nir", timeout=10),
    "helpers": Step(say_helpers, KEY, {"1": "do:helper_add", "2": "do:helper_remove_start", "9": "menu"},
                    words=words(**{"1": lambda: _("name, add, new"), "2": lambda: _("remove, end, delete"),
                                   "9": MENU_WORDS})),
    "helper_nir": Step(say_helper_nir, NUMBER, accept="accept_helper_nir", timeout=10),
    "helper_birth": Step(say_helper_birth, NUMBER, accept="accept_helper_birth", timeout=10),
    "helper_confirm": Step(say_helper_confirm, YESNO, {"1": "do:name_helper", "2": "do:cancel"}, words=YES_NO_WORDS),
    "helper_pick": Step(say_helper_pick, NUMBER, accept="accept_helper_pick"),
    "helper_remove": Step(say_helper_remove, YESNO, {"1": "do:revoke_helper", "2": "do:cancel"},
                          words=YES_NO_WORDS),
    "check_reference": Step(say_check_reference, NUMBER, accept="accept_reference", timeout=10),
    "nir": Step(say_nir, NUMBER, accept="accept_nir", timeout=10),
    "serial": Step(say_serial, NUMBER, accept="accept_serial", timeout=10),
    "birth": Step(say_birth, NUMBER, accept="accept_birth", timeout=10),
    "code": Step(say_code, NUMBER, accept="accept_code", timeout=10),
    "sms_code": Step(say_sms_code, NUMBER, accept="accept_sms_code", timeout=10),
    "check": Step(say_check, YESNO, {"1": "do:identify", "2": "do:start_identity"}, words=YES_NO_WORDS),
    "oppose": Step(say_oppose, YESNO, {"1": "do:oppose", "2": "do:cancel"}, words=YES_NO_WORDS),
    "close": Step(say_close, KEY, {"1": "do:choose_archive", "2": "do:choose_delete", "9": "menu"},
                  words=words(**{"1": lambda: _("keep, archive, ten years"), "2": lambda: _("delete, erase, remove"),
                                 "9": MENU_WORDS})),
    "close_confirm": Step(say_close_confirm, YESNO, {"1": "do:close", "2": "do:cancel"}, words=YES_NO_WORDS),
    "reopen": Step(say_reopen, YESNO, {"1": "do:reopen", "2": "do:cancel"}, words=YES_NO_WORDS),
    "history": Step(say_history, KEY, {"1": "do:history_more", "2": "history_pick", "3": "do:history_send",
                                       "9": "menu"},
                    words=words(**{"1": lambda: _("next, more, following, others"),
                                   "2": lambda: _("report, block, act"), "3": lambda: _("send, sms, post, letter"),
                                   "9": MENU_WORDS})),
    "history_pick": Step(say_history_pick, NUMBER, accept="accept_pick"),
    "history_act": Step(say_history_act, KEY, {"1": "report", "2": "block", "9": "history"},
                        words=words(**{"1": lambda: _("report, not recognised, unknown"), "2": lambda: _("block"),
                                       "9": lambda: _("back, history")})),
    "report": Step(say_report, YESNO, {"1": "do:report", "2": "do:cancel"}, words=YES_NO_WORDS),
    "block": Step(say_block, YESNO, {"1": "do:block", "2": "do:cancel"}, words=YES_NO_WORDS),
    "emergency": Step(say_emergency, KEY, {"1": "do:change_samu", "2": "do:change_break_glass",
                                           "3": "do:change_masked", "9": "menu"},
                      words=words(**{"1": lambda: _("samu, fifteen"), "2": lambda: _("break, glass, any professional"),
                                     "3": lambda: _("hidden, documents, masked"), "9": MENU_WORDS})),
    "emergency_confirm": Step(say_emergency_confirm, YESNO, {"1": "do:set_emergency", "2": "do:cancel"},
                              words=YES_NO_WORDS),
    "receipt": Step(say_receipt, KEY, {"1": "menu"}, on_silence="goodbye", words=words(**{"1": MENU_WORDS})),
    "goodbye": Step(say_goodbye, END),
    "silent_goodbye": Step(say_silent_goodbye, END),
}


# --- actions: each calls one service, then says where the call goes -----------------------------

NIR_HINTS = {
    "nir_looks_like_vitale": lambda: _("This looks like the number of your Vitale card. Type your social "
                                       "security number: 15 characters."),
    "nir_missing_key": lambda: _("Your number has 13 digits. Add the 2-digit key at the end."),
    "nir_bad_key": lambda: _("This number is not right. Check each digit and the key at the end."),
}


def accept_nir(call: Call, typed: str) -> str:
    try:
        call.data["nir"] = identifiers.normalize_nir(identifiers.nir_from_keypad(typed))
    except InvalidIdentifier as exc:
        call.before.append(NIR_HINTS.get(exc.code, lambda: _(
            "This number is not right. It has 15 characters. For Corsica, type 2A as 2 star 1, "
            "and 2B as 2 star 2."))())
        return "nir"
    return "serial"


def accept_serial(call: Call, typed: str) -> str:
    try:
        call.data["serial"] = identifiers.normalize_vitale_serial(typed)
    except InvalidIdentifier as exc:
        call.before.append(_("This looks like your social security number. Type the serial number of the card.")
                           if exc.code == "vitale_looks_like_nir" else
                           _("The serial number has 8 to 13 digits. It is beside your photo, or on the back."))
        return "serial"
    return "birth"


def accept_birth(call: Call, typed: str) -> str:
    try:
        if len(typed) != 8 or not typed.isdigit():
            raise InvalidIdentifier("birth_date_format")
        call.data["birth"] = identifiers.parse_birth_date(typed, clock.today()).isoformat()
    except InvalidIdentifier:
        call.before.append(_("This date is not right. For the 25th of March 1948, type 2 5 0 3 1 9 4 8."))
        return "birth"
    return "code"


def accept_code(call: Call, typed: str) -> str:
    if typed == "9":  # no letter: a code by SMS to the registered mobile instead
        call.data["sms"], call.data["code"] = True, ""
        return "check"
    call.data.pop("sms", None)
    if len(typed) != identifiers.CODE_LENGTH or not typed.isdigit():
        call.before.append(_("The code has 12 letters and digits: press 12 keys."))
        return "code"
    call.data["code"] = typed
    return "check"


def accept_reference(call: Call, typed: str) -> str:
    sent_on = references.sent_on(typed)
    if sent_on is None:
        call.before.append(_("We do not know this reference. Do not answer that message, and never give a code."))
    else:
        call.before.append(_("Yes, Relais sent this reference on %(date)s.", date=speech.day(sent_on)))
    return "menu"


def accept_pick(call: Call, typed: str) -> str:
    page, offset = _batch(call)
    if not typed.isdigit() or not offset < int(typed) <= offset + len(page.lines):
        call.before.append(_("This number is not in the list."))
        return "history"
    call.data["event_id"] = page.lines[int(typed) - offset - 1].event.id
    return "history_act"


def _goal(name: str):
    def action(call: Call) -> str:
        call.data["goal"] = name
        if call.person_id is None:
            call.before.append(_("First, identify yourself, with your own letter and Vitale card.")
                               if name == "for_other" else _("Have your letter and your Vitale card ready."))
            return "nir"
        return route_goal(call)
    return action


RECENT_LETTER_DAYS = 183


def too_late(space) -> str:
    return _("It is too late to say no: the time ended on %(date)s. You can close your health space.",
             date=speech.day(space.window_ends_on))


def route_goal(call: Call) -> str:
    goal = call.data.get("goal")
    if goal == "for_other":
        return "for_nir"
    space = call.space()
    # Where a history asked for goes: the representative's mobile, else the holder's, else the post.
    call.data["has_mobile"] = space.has_mobile or (call.for_other and spaces.view(call.actor, call.person_id).has_mobile)
    if goal in ("change", "helpers") and space.restricted and \
            not (goal == "helpers" and space.restricted == "minor_alone"):
        call.before.append(refusal(space.restricted))
        return "menu"
    if goal == "helpers":
        return "helpers"
    if goal == "change":  # saying no, closing and reopening never apply at the same time
        if "close" in space.actions and space.state in ("notified", "active") and \
                (clock.today() - space.window_ends_on).days <= RECENT_LETTER_DAYS:
            # A recent letter: the caller may have wanted to say no; say why closing is offered instead.
            call.before.append(too_late(space))
        for action in ("oppose", "close", "reopen"):
            if action in space.actions:
                return action
    elif goal == "history":
        call.data["offset"] = 0
        return "history"
    elif goal == "emergency" and "emergency" in space.actions:
        return "emergency"
    call.before.append(state_sentence(space.state))
    return "menu"


def state_sentence(state: str) -> str:
    return {"notified": _("Your health space is not created yet."),
            "opposed": _("You said no: your health space will not be created."),
            "active": _("Your health space is open."),
            "closed": _("Your health space is closed."),
            "purged": _("Your health space is closed and its data deleted.")}[state]


def do_identify(call: Call) -> str:
    d = call.data
    if d.get("sms"):
        return send_sms_code(call)
    try:
        call.data["person_id"] = identity.identify(
            d["nir"], d["serial"], identifiers.parse_birth_date(d["birth"], clock.today()), d["code"],
            client=call.client, channel="voice", keypad=True)
    except IdentificationFailed:
        call.before.append(_("These details do not match our records. Let us try again."))
        return "nir"
    except IdentificationLocked as exc:
        call.before.append(_("Too many attempts. For your safety, try again after %(time)s.",
                             time=speech.moment(exc.until)))
        return "menu"
    finally:
        for k in ("nir", "serial", "birth", "code"):
            d.pop(k, None)  # nothing typed is kept once it has been checked
    return route_goal(call)


def send_sms_code(call: Call) -> str:
    d = call.data
    try:
        identity.send_sign_in_code(d["nir"], d["serial"], date.fromisoformat(d["birth"]),
                                   client=call.client, channel="voice",
                                   letter_without_mobile=True)
    except IdentificationLocked as exc:
        call.before.append(_("Too many attempts. For your safety, try again after %(time)s.",
                             time=speech.moment(exc.until)))
        return "menu"
    d["nir_lookup"] = lookup("nir", d["nir"])
    for k in ("nir", "serial", "birth", "code", "sms"):
        d.pop(k, None)
    return "sms_code"


def accept_sms_code(call: Call, typed: str) -> str:
    try:
        call.data["person_id"] = identity.identify_with_sms_code(
            call.data.get("nir_lookup", ""), typed, client=call.client, channel="voice")
    except IdentificationFailed:
        call.before.append(_("These details do not match our records. Let us try again."))
        call.data.pop("nir_lookup", None)
        return "nir"
    except IdentificationLocked as exc:
        call.before.append(_("Too many attempts. For your safety, try again after %(time)s.",
                             time=speech.moment(exc.until)))
        return "menu"
    call.data.pop("nir_lookup", None)
    return route_goal(call)


def do_start_identity(call: Call) -> str:
    return "nir"


def _receipt(call: Call, record) -> str:
    call.data["reference"] = record.reference
    return "receipt"


def _act(call: Call, service, *args) -> str:
    try:
        return _receipt(call, service(call.actor, call.subject_id, *args, idempotency_key=call.key()))
    except WindowClosed:  # the window ended during the call
        call.before.append(too_late(call.space()))
        return "close"
    except InvalidTransition:
        call.before.append(_("This is not possible now. Nothing was changed."))
        return "menu"
    except NotAuthorized as exc:
        call.before.append(refusal(exc.reason))
        return "menu"


def refusal(reason: str) -> str:
    if reason == "helper_limit":
        return _("A trusted helper cannot do this. Only the person, or their legal representative, can. "
                 "Nothing was changed.")
    if reason == "minor_alone":
        return _("This cannot be done alone: a legal representative must do it. Nothing was changed.")
    return _("You cannot do this for this person. Nothing was changed.")


def do_switch_language(call: Call) -> str:
    call.language = "en" if call.language == "fr" else "fr"
    return "menu"


def do_cancel(call: Call) -> str:
    call.before.append(_("Nothing was changed."))
    return "menu"


def do_choose(delete: bool):
    def action(call: Call) -> str:
        call.data["delete"] = delete
        return "close_confirm"
    return action


def do_change(setting: str):
    def action(call: Call) -> str:
        e: EmergencySettings = call.space().emergency
        if setting == "masked" and not e.masked_applies:
            call.before.append(_("This choice is not possible."))
            return "emergency"
        call.data["setting"], call.data["on"] = setting, not getattr(e, setting)
        return "emergency_confirm"
    return action


def do_history_more(call: Call) -> str:
    page, offset = _batch(call)
    if page.page < page.pages:
        call.data["offset"] = offset + 3
    return "history"


def do_history_send(call: Call) -> str:
    record = access.send_history(call.actor, call.subject_id, idempotency_key=call.key())
    call.before.append(_("The history will be sent to you by SMS.") if record.details.get("sent_by") == "sms"
                       else _("The history will be sent to you by post."))
    call.data["reference"] = record.reference
    return "receipt"


def accept_for_nir(call: Call, typed: str) -> str:
    if typed == "1":
        call.data.pop("subject_id", None)
        call.data.pop("subject_name", None)
        call.before.append(_("You are acting for yourself."))
        return "menu"
    try:
        nir = identifiers.normalize_nir(identifiers.nir_from_keypad(typed))
    except InvalidIdentifier as exc:
        call.before.append(NIR_HINTS.get(exc.code, lambda: _("This number is not right. It has 15 characters."))())
        return "for_nir"
    try:
        subject_id = mandates.act_for(call.actor, nir)
    except NotAuthorized:
        refused = call.data["for_refused"] = call.data.get("for_refused", 0) + 1
        # The same words whether the number is unknown or has no mandate: nothing is revealed.
        call.before.append(_("We cannot let you act for this person. A legal mandate must be registered with us, "
                             "or the person must name you trusted helper. Nothing was changed."))
        return "menu" if refused >= 3 else "for_nir"
    if subject_id == call.person_id:
        return accept_for_nir(call, "1")
    call.data["subject_id"] = subject_id
    view = call.space()
    call.data["subject_name"] = f"{view.given_name} {view.family_name}"
    return "menu"


def accept_helper_nir(call: Call, typed: str) -> str:
    try:
        call.data["helper_nir"] = identifiers.normalize_nir(identifiers.nir_from_keypad(typed))
    except InvalidIdentifier as exc:
        call.before.append(NIR_HINTS.get(exc.code, lambda: _("This number is not right. It has 15 characters."))())
        return "helper_nir"
    return "helper_birth"


def accept_helper_birth(call: Call, typed: str) -> str:
    try:
        if len(typed) != 8 or not typed.isdigit():
            raise InvalidIdentifier("birth_date_format")
        call.data["helper_birth"] = identifiers.parse_birth_date(typed, clock.today()).isoformat()
    except InvalidIdentifier:
        call.before.append(_("This date is not right. For the 25th of March 1948, type 2 5 0 3 1 9 4 8."))
        return "helper_birth"
    return "helper_confirm"


HELPER_REFUSALS = {
    "not_found": lambda: _("We found nobody with this number and this date of birth. Check them with your helper."),
    "locked": lambda: _("Too many tries today. For your safety, try again tomorrow."),
    "already_helper": lambda: _("This person is already your trusted helper."),
    "too_many_helpers": lambda: _("You already have 3 trusted helpers. Remove one first."),
    "helper_full": lambda: _("This person already helps 5 people, the most allowed."),
    "helper_self": lambda: _("You cannot be your own trusted helper."),
}


def do_name_helper(call: Call) -> str:
    d = call.data
    try:
        record = helpers.name_helper(call.actor, call.subject_id, d["helper_nir"],
                                     date.fromisoformat(d["helper_birth"]), idempotency_key=call.key())
    except HelperRefused as exc:
        call.before.append(HELPER_REFUSALS.get(exc.reason, lambda: _("This is not possible now."))())
        return "helpers"
    except NotAuthorized as exc:
        call.before.append(refusal(exc.reason))
        return "menu"
    finally:
        d.pop("helper_nir", None)
        d.pop("helper_birth", None)
    return _receipt(call, record)


def accept_helper_pick(call: Call, typed: str) -> str:
    listed = helpers.helpers_of(call.subject_id)
    if not typed.isdigit() or not 0 < int(typed) <= len(listed):
        call.before.append(_("This number is not in the list."))
        return "helpers"
    h, m = listed[int(typed) - 1]
    call.data["helper_mandate"], call.data["helper_name"] = m.id, f"{h.given_name} {h.family_name}"
    return "helper_remove"


def do_revoke_helper(call: Call) -> str:
    mandate_id = call.data.pop("helper_mandate", None)
    call.data.pop("helper_name", None)
    return _act(call, helpers.revoke_helper, mandate_id)


ACTIONS: dict[str, Callable[[Call], str]] = {
    "switch_language": do_switch_language,
    "goal_change": _goal("change"), "goal_history": _goal("history"),
    "goal_emergency": _goal("emergency"), "goal_for_other": _goal("for_other"), "goal_helpers": _goal("helpers"),
    "accept_for_nir": accept_for_nir, "accept_helper_nir": accept_helper_nir,
    "accept_helper_birth": accept_helper_birth, "accept_helper_pick": accept_helper_pick,
    "helper_add": lambda call: "helper_nir" if len(helpers.helpers_of(call.subject_id)) < 3 else "helpers",
    "helper_remove_start": lambda call: "helper_pick" if helpers.helpers_of(call.subject_id) else "helpers",
    "name_helper": do_name_helper, "revoke_helper": do_revoke_helper,
    "start_identity": do_start_identity, "identify": do_identify,
    "oppose": lambda call: _act(call, spaces.oppose),
    "choose_archive": do_choose(False), "choose_delete": do_choose(True),
    "close": lambda call: _act(call, spaces.close, bool(call.data.get("delete"))),
    "reopen": lambda call: _act(call, spaces.reopen),
    "history_more": do_history_more, "history_send": do_history_send,
    "report": lambda call: _act(call, access.report_access, call.data["event_id"]),
    "block": lambda call: _act(call, access.block_professional, call.data["event_id"]),
    "change_samu": do_change("samu"), "change_break_glass": do_change("break_glass"),
    "change_masked": do_change("masked"),
    "set_emergency": lambda call: _act(call, spaces.set_emergency_access, call.data["setting"], call.data["on"]),
    "cancel": do_cancel,
    "accept_nir": accept_nir, "accept_serial": accept_serial, "accept_birth": accept_birth,
    "accept_code": accept_code, "accept_pick": accept_pick, "accept_sms_code": accept_sms_code,
    "accept_reference": accept_reference,
}

REPEAT_WORDS = lambda: _("repeat, again, what")  # noqa: E731
HELP_WORDS = lambda: _("help, operator, assistance")  # noqa: E731
