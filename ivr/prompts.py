"""What the caller hears: each step's prompt, and the sentences the actions share, all from the catalogs."""
from datetime import date

from flask import current_app
from flask_babel import gettext as _

from app import reasons
from app.domain.health_space import State
from app.domain.reasons import Reason
from app.services import helpers

from . import speech


def press(text: str, key: str) -> str:
    return _("To %(action)s, press %(key)s.", action=text, key=spoken_key(key))


def spoken_key(key: str) -> str:
    return {"*": _("star"), "#": _("hash")}.get(key, key)


def menu_tail() -> list[str]:
    return [press(_("hear this again"), "*")]


def yes_no(yes: str) -> list[str]:
    return [press(yes, "1"), press(_("cancel"), "2")]


# Word tables are functions, so that the catalog is read in the call's language; named as the tables they are.
def YES_NO_WORDS() -> dict[str, str]:
    return {"1": _("yes, okay, right, confirm, agree"), "2": _("no, not, don't, cancel, wrong, back")}


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


def MENU_WORDS() -> str:
    return _("menu, main menu, back, return")


def words(**keys):
    """A step's spoken words: key -> a function giving the catalog's comma-separated words."""
    return lambda: {k: f() for k, f in keys.items()}


def menu_words():
    return {"1": _("oppose, opposition, refuse, say no, object") + ", " + _("close, closing, reopen, open, delete"),
            "2": _("someone else, another person, on behalf, child, parent, guardian, mother, father, son, daughter"),
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
    most = current_app.config["HELPERS_PER_PERSON"]
    keys = [press(_("name a trusted helper"), "1")] if len(listed) < most else \
        [_("You have %(most)s helpers, the most allowed.", most=most)]
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
            "break_glass": _("emergency access, reason: %(reason)s", reason=e.reason or "")
            }.get(e.mode, _("normal access"))
    outcome = "" if e.decision == "granted" else " " + _("It was refused.")
    return _("Access %(n)d. %(when)s, %(name)s, %(profession)s, %(mode)s.", n=number, when=speech.moment(e.occurred_at),
             name=e.professional_name, profession=e.profession, mode=mode) + outcome


def say_history(call):
    page, offset = call.batch()
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
        said.append(_("Hidden documents in an emergency: %(state)s.",
                      state=_("shown") if e.masked else _("kept hidden")))
        keys.append(press(_("change hidden documents"), "3"))
    return [*said, *keys, press(_("go back to the main menu"), "9")]


def say_emergency_confirm(call):
    setting, on = call.data["setting"], call.data["on"]
    text = {("samu", False): _("The SAMU doctor will no longer see your health space. "
                               "This can make your care less safe."),
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


def REPEAT_WORDS() -> str:
    return _("repeat, again, what")


def HELP_WORDS() -> str:
    return _("help, operator, assistance")


# --- what the actions say ------------------------------------------------------------------------

NIR_HINTS = {
    "nir_looks_like_vitale": lambda: _("This looks like the number of your Vitale card. Type your social "
                                       "security number: 15 characters."),
    "nir_missing_key": lambda: _("Your number has 13 digits. Add the 2-digit key at the end."),
    "nir_bad_key": lambda: _("This number is not right. Check each digit and the key at the end."),
}

def too_late(space) -> str:
    return reasons.say(Reason.WINDOW_CLOSED, reasons.VOICE, date=speech.day(space.window_ends_on))


def state_sentence(state: str) -> str:
    return {State.NOTIFIED: _("Your health space is not created yet."),
            State.OPPOSED: _("You said no: your health space will not be created."),
            State.ACTIVE: _("Your health space is open."),
            State.CLOSED: _("Your health space is closed."),
            State.PURGED: _("Your health space is closed and its data deleted.")}[state]

