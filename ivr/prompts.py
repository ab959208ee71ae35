"""What the caller hears: each step's prompt, and the sentences the actions share, all from the catalogs.

Short on purpose (QUALITY §3): a choice prompt is at most 15 s of real audio, and every word is weighed against
what the caller must know before an irreversible act. The key map is one for the whole call: star repeats,
0 helps (0 twice: a person), 9 goes back, # ends a number; a single-digit choice never needs #.
"""
from dataclasses import dataclass
from datetime import date

from flask import current_app
from flask_babel import gettext as _
from flask_babel import pgettext

from app import reasons
from app.domain.health_space import State
from app.domain.reasons import Reason
from app.services import callbacks, helpers, identity

from . import heard, speech


@dataclass(frozen=True)
class Pause:
    """Time for the caller to do something (take a letter out) before the next sentence: a TwiML <Pause>."""
    seconds: int


def press(text: str, key: str) -> str:
    return _("To %(action)s, press %(key)s.", action=text, key=spoken_key(key))


def spoken_key(key: str) -> str:
    return {"*": _("star"), "#": _("hash")}.get(key, key)


def back() -> str:
    return press(_("go back"), "9")


def yes_no(yes: str) -> list[str]:
    return [press(yes, "1"), press(_("cancel"), "9")]


def words(**keys):
    """A step's spoken words: key -> a function giving the catalog's comma-separated words."""
    return lambda: {k: f() for k, f in keys.items()}


# Word tables are functions, so that the catalog is read in the call's language; named as the tables they are.
def YES_NO_WORDS() -> dict[str, str]:
    return {"1": _("yes, okay, right, confirm, agree, correct"),
            "9": _("no, not, don't, cancel, wrong, back, incorrect")}


def MENU_WORDS() -> str:
    return _("menu, main menu")


# The generic commands of ETSI ES 202 076, understood at every step.
def READ_BACK_WORDS() -> str:
    return _("read back, read it back, what did I type, what I typed, what I gave")


def REPEAT_WORDS() -> str:
    return _("repeat, again, what, pardon, sorry")


def HELP_WORDS() -> str:
    return _("help, assistance, I don't understand")


def AGENT_WORDS() -> str:
    return _("agent, adviser, operator, person, human, someone, talk to someone")


def BACK_WORDS() -> str:
    return _("back, go back, return, previous")


def CANCEL_WORDS() -> str:
    return _("cancel, stop, never mind")


def READY_WORDS() -> str:
    return _("ready, yes, okay, go on, I have it, here")


def greeting(language: str) -> list:
    """The first seconds of the call: welcome, and the other language offered at once, in its own voice."""
    welcome = _("Hello, Relais, Mon espace santé.")
    other = ("For English, press 9.", "en") if language == "fr" else ("Pour le français, tapez 9.", "fr")
    return [welcome, other]


def say_menu(call):
    acting = [_("You are acting for %(name)s.", name=call.data["subject_name"])] if call and call.for_other else []
    return [*acting, press(_("say no, close or reopen"), "1"), press(pgettext("menu", "act for someone else"), "2"),
            press(_("hear who looked"), "3"), press(_("set emergency access"), "4"),
            press(_("get help"), "0")]


def menu_words():
    return {"1": _("oppose, opposition, refuse, say no, object, no, I don't want, do not want") + ", " +
                 _("close, closing, reopen, open, delete"),
            "2": _("someone else, another person, on behalf, child, parent, guardian, mother, father, son, daughter"),
            "3": _("history, who, accesses, looked, saw, seen, list"), "4": _("emergency, samu, urgent, break"),
            "9": _("english, anglais, french, francais")}


def say_help_menu(call):
    return [press(_("talk to an adviser"), "0"), press(_("check a message from Relais"), "1"),
            press(_("name or remove a trusted helper"), "2"), press(_("set your alerts"), "3"),
            back()]


def say_for_nir(call):
    return [_("Type the social security number of the person you act for, followed by the hash key."),
            _("For yourself, type 1, then hash.")]


def helper_lines(call) -> list[str]:
    """The helpers named, read out: content, not a prompt (as the history's entries)."""
    return [_("Helper %(n)d: %(name)s, until %(date)s.", n=i + 1, name=f"{h.given_name} {h.family_name}",
              date=speech.day(m.valid_until)) for i, (h, m) in enumerate(helpers.helpers_of(call.subject_id))]


def say_helpers(call):
    listed = helper_lines(call)
    said = listed or [_("A trusted helper hears your history and sets your emergency access, for a year at most.")]
    most = current_app.config["HELPERS_PER_PERSON"]
    keys = [press(_("name a trusted helper"), "1")] if len(listed) < most else \
        [_("You have %(most)s helpers, the most allowed.", most=most)]
    if listed:
        keys.append(press(_("remove a helper"), "2"))
    return [*said, *keys, back()]


def say_helper_nir(call):
    return [_("Type your helper's social security number, followed by the hash key.")]


def say_helper_birth(call):
    return [_("Type your helper's date of birth, 8 digits, followed by the hash key.")]


def say_helper_confirm(call):
    """Typed numbers are not read back by default (QUALITY §3): a NIR and a date that match nobody are refused."""
    d = call.data
    birth = speech.day(date.fromisoformat(d["helper_birth"]))
    said = pgettext("said of a woman", "Your helper, born %(birth)s, will be your trusted helper for one year.",
                    birth=birth) if identity.sex_of(d.get("helper_nir")) == "f" else \
        _("Your helper, born %(birth)s, will be your trusted helper for one year.", birth=birth)
    return [said, *yes_no(_("confirm"))]


def say_helper_pick(call):
    return [_("Type the number of the helper to remove, followed by the hash key.")]


def say_helper_remove(call):
    return [_("%(name)s will no longer be your trusted helper.", name=call.data["helper_name"]),
            *yes_no(_("confirm"))]


def say_check_reference(call):
    return [_("Type the 9-digit reference of the message, followed by the hash key.")]


def say_nir(call):
    return [_("Type or say your social security number, followed by the hash key.")]


def say_serial(call):
    return [_("Your Vitale card number, then the hash key.")]


def say_birth(call):
    return [_("Your date of birth, 8 digits, then the hash key.")]


def say_code(call):
    return [_("The code on your letter, a letter by its key, then the hash key."),
            _("No letter? Type 1, then hash.")]


def say_sms_code(call):
    return [_("If your details are right, we are sending you an SMS. Type its 6-digit code, followed by the "
              "hash key."), _("Without a mobile, a new letter code will reach you by post.")]


def say_wait(call):
    ready = press(_("go on when you are ready"), "*")
    return [ready] if call.data.get("waited") else [_("Take your time."), ready]


def say_stuck(call):
    offers = [press(_("wait longer"), "1")]
    if call.data.get("caller_mobile"):
        offers.append(press(_("get by SMS what to have ready"), "2"))
    return [*offers, press(_("talk to an adviser"), "3"), back()]


def say_heard(call):
    """What recognition understood, said so that it can be checked: a spoken code spelled in the radio alphabet."""
    kind, value = call.data["heard"]["kind"], call.data["heard"]["value"]
    return [_("I understood: %(value)s.", value=readback(kind, value, call.language)), press(_("confirm"), "1"),
            press(_("say it again"), "9")]


def readback(kind: str, value: str, language: str) -> str:
    """A number or code as it can be checked against the letter and the card."""
    if kind in ("nir", "helper_nir", "for_nir"):
        return speech.nir(value)
    if kind in ("birth", "helper_birth"):
        return speech.day(date(int(value[4:]), int(value[2:4]), int(value[:2])))
    if kind == "code":
        return ". ".join(heard.spell(value, language, template="{word}"))  # the radio word alone, as radio spells
    return speech.groups(value, 3)


def fix_lines(call) -> list[str]:
    """What was given, read back as printed on the letter and the card: content, not the prompt."""
    d = call.data
    typed = [_("Number %(nir)s.", nir=speech.nir(d["nir"])) if d.get("nir") else None,
             _("Card %(serial)s.", serial=speech.groups(d["serial"], 3)) if d.get("serial") else None,
             _("Born %(birth)s.", birth=speech.day(date.fromisoformat(d["birth"]))) if d.get("birth") else None]
    typed = [t for t in typed if t]
    if not typed and not d.get("code"):
        return [_("Nothing given yet.")]
    if d.get("code"):
        code = readback("code", d["code_spoken"], call.language) if d.get("code_spoken") else \
            ", ".join(" ".join(group) for group in heard.keys_in_groups(d["code"]))  # its keys, key by key
        typed.append(_("Code %(code)s.", code=code))
    return [_("You gave:"), *typed]


def say_fix(call):
    """After details that do not match: what was given, then which part to give again (only that part)."""
    return [*fix_lines(call), press(_("change the number"), "1"), press(_("change the card"), "2"),
            press(_("change the date"), "3"), press(_("change the code"), "4")]


def say_oppose(call):
    return [_("If you say no, your health space will not be created. This is final."), *yes_no(_("confirm"))]


def say_close(call):
    return [press(_("close it and keep your data 10 years"), "1"),
            press(_("close it and delete your data within 3 months"), "2"), back()]


def say_close_confirm(call):
    if call.data.get("delete"):
        text = _("No professional will see your space, and its data will be deleted within 3 months.")
    else:
        text = _("No professional will see your space. Its data is kept 10 years; you can reopen it.")
    return [text, *yes_no(_("confirm"))]


def say_reopen(call):
    space = call.space()
    text = [_("Your health space is closed. If you reopen it, your documents come back.")]
    if space.deletion_due_on:
        text.append(_("The deletion you asked for will be cancelled."))
    return [*text, *yes_no(_("reopen it"))]


ENTRY = r"^(\d+\.|Accès \d+|Access \d+)"  # how an access read out begins: content, not a prompt


def _entry(number: int, line) -> str:
    e = line.event
    mode = {"samu": _("by the SAMU: %(reason)s", reason=e.reason or ""),
            "break_glass": _("in an emergency: %(reason)s", reason=e.reason or "")}.get(e.mode)
    text = _("%(n)d. %(when)s, %(name)s, %(profession)s.", n=number, when=speech.moment(e.occurred_at),
             name=e.professional_name, profession=e.profession)
    if mode:
        text = text[:-1] + ", " + mode + "."
    return text + (" " + _("Refused.") if e.decision != "granted" else "")


def history_lines(call) -> list[str]:
    page, offset = call.batch()
    lines = [_entry(offset + i + 1, line) for i, line in enumerate(page.lines)]
    if offset == 0 and lines:
        lines.insert(0, _("The accesses, newest first."))
    return lines


def content(step: str, call) -> list[str]:
    """What a step reads out before its choices (accesses, helpers): measured as content, not as its prompt."""
    return {"history": history_lines, "helpers": helper_lines, "fix": fix_lines}.get(step, lambda call: [])(call)


def say_history(call):
    page, offset = call.batch()
    if page.total == 0:
        return [_("Nobody has looked at your health space."), back()]
    more = [press(_("hear more"), "1")] if page.page < page.pages else []
    send = _("get it by SMS") if call.data.get("has_mobile") else _("get it by post")
    return [*history_lines(call), *more, press(_("report or block one"), "2"), press(send, "3"), back()]


def say_history_pick(call):
    return [_("Type the number of the access, followed by the hash key.")]


def say_history_act(call):
    return [press(_("report this access as not recognised"), "1"), press(_("block this professional"), "2"),
            back()]


def say_report(call):
    return [_("We will look into this access, and give you a case reference."), *yes_no(_("report it"))]


def say_block(call):
    return [_("This professional will no longer see your health space, even in an emergency."),
            *yes_no(_("block them"))]


def say_emergency(call):
    """What is allowed now in one sentence, then each change named by what it does (refuse, allow again)."""
    e = call.space().emergency
    samu, anyone = _("the SAMU"), _("any professional")
    allowed = [who for who, on in ((samu, e.samu), (anyone, e.break_glass)) if on]
    refused = [who for who, on in ((samu, e.samu), (anyone, e.break_glass)) if not on]
    said = [_("Allowed now: %(who)s.", who=_(" and ").join(allowed))] if allowed else []
    said += [_("Refused now: %(who)s.", who=_(" and ").join(refused))] if refused else []
    keys = [press(_("refuse the SAMU") if e.samu else _("allow the SAMU again"), "1"),
            press(_("refuse any professional") if e.break_glass else _("allow any professional again"), "2")]
    if e.masked_applies:
        keys.append(press(_("keep hidden documents hidden") if e.masked else _("show hidden documents"), "3"))
    return [*said, *keys, back()]


def say_notices(call):
    """The message at each access now, then the two other choices; the keys stay the same whatever is chosen."""
    now = call.space().notices
    said = {"full": _("At each access, a message says who looked."),
            "discreet": _("At each access, a message gives the day and time, and names nobody."),
            "off": _("You get no message at each access.")}[now]
    offers = [(key, text) for key, mode, text in (("1", "full", _("name who looked")),
                                                  ("2", "discreet", _("name nobody")),
                                                  ("3", "off", _("get no message"))) if mode != now]
    return [said, *(press(text, key) for key, text in offers), back()]


def say_emergency_confirm(call):
    setting, on = call.data["setting"], call.data["on"]
    text = {("samu", False): _("The SAMU doctor will no longer see your space. Your care may be less safe."),
            ("samu", True): _("The SAMU doctor will be able to see your health space."),
            ("break_glass", False): _("In an emergency, professionals will no longer see your space. "
                                      "Your care may be less safe."),
            ("break_glass", True): _("In an emergency, any professional will be able to see your health space."),
            ("masked", False): _("Hidden documents will stay hidden in an emergency."),
            ("masked", True): _("Hidden documents will be shown in an emergency.")}[(setting, on)]
    return [text, *yes_no(_("confirm"))]


def say_receipt(call):
    return [_("Done. Your reference: %(ref)s.", ref=speech.digits(call.data["reference"])),
            press(_("hear it again"), "*"), back()]


def callback_zone(call):
    """Where the number to call back rings, when not on Paris's time: the number typed, else the caller ID."""
    return callbacks.zone_of_number(call.data.get("callback_phone") or speech.french_number(call.caller))


def say_callback(call):
    slots = call.data.get("slots") or []
    zone = callback_zone(call)
    offered = [press(_("be called back %(when)s", when=speech.half_day(date.fromisoformat(day), slot, zone)),
                     str(i + 1)) for i, (day, slot) in enumerate(slots)]
    return [_("An adviser can call you back."), *offered, back()]


def say_callback_number(call):
    return [_("We will call you on %(phone)s.", phone=speech.phone(call.data["callback_phone"])),
            press(_("confirm"), "1"), press(_("give another number"), "2"), back()]


def say_callback_phone(call):
    return [_("Type the number to call you back on, followed by the hash key.")]


def say_transfer(call):
    return [_("I am putting you through to an adviser. Please hold.")]


def goal_for_adviser(goal: str | None) -> str:
    """What the caller was doing, for the adviser's whisper."""
    return {"change": _("say no to, close or reopen their health space"),
            "for_other": _("act for someone else"), "history": _("hear who accessed their health space"),
            "emergency": _("change their emergency access"), "helpers": _("name or remove a trusted helper"),
            }.get(goal or "", _("get help"))


def say_goodbye(call):
    return [_("Thank you for calling. Goodbye.")]


def say_silent_goodbye(call):
    return [_("We heard nothing. You can call 34 22 again at any time. Goodbye.")]


def help_text(kind: str = "key", speech_too: bool = True) -> str:
    """The help of a step: only what that step accepts."""
    if kind == "number":
        text = _("Help: type the digits, then the hash key, at the bottom right.")
        if speech_too:
            text += " " + _("You can also say them.")
    elif kind == "yesno":
        text = _("Help: press 1 to confirm, or 9 to cancel. You can also say yes or no.")
    else:
        text = _("Help: press the key of your choice. Star repeats, 9 goes back.")
        if speech_too:
            text += " " + _("You can also say your choice.")
    return text + " " + _("For an adviser, press 0 again.")


# --- what the actions say ------------------------------------------------------------------------

NIR_HINTS = {
    "nir_looks_like_vitale": lambda: _("This looks like the number of your Vitale card. Type your social "
                                       "security number: 15 characters."),
    "nir_missing_key": lambda: _("Your number has 13 digits. Add the 2-digit key at the end."),
    "nir_bad_key": lambda: _("This number is not right. Check each digit and the key at the end."),
}


def too_late(space) -> str:
    return reasons.say(Reason.WINDOW_CLOSED, reasons.VOICE, date=speech.day_of_year(space.window_ends_on))


def state_sentence(state: str, sex: str | None = None) -> str:
    """The state of the space, said to its holder; «opposée» to a woman (the NIR's first digit, `sex`)."""
    said_no = pgettext("said to a woman", "You said no: your health space will not be created.") if sex == "f" \
        else _("You said no: your health space will not be created.")
    return {State.NOTIFIED: _("Your health space is not created yet."),
            State.OPPOSED: said_no,
            State.ACTIVE: _("Your health space is open."),
            State.CLOSED: _("Your health space is closed."),
            State.PURGED: _("Your health space is closed and its data deleted.")}[state]
