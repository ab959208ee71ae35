"""What the call script does: each action calls at most one service, then names where the call goes next."""
from datetime import date
from typing import Callable

from flask import current_app
from flask_babel import gettext as _
from flask_babel import pgettext

from app import clock, dates, reasons
from app.domain import identifiers
from app.domain.emergency import EmergencySettings
from app.domain.errors import (
    CallbackRefused,
    CodeSpent,
    HelperRefused,
    IdentificationFailed,
    IdentificationLocked,
    InvalidIdentifier,
    InvalidTransition,
    NotAuthorized,
    WindowClosed,
)
from app.services import agents, callbacks, commands, helpers, identity, mandates, references, spaces
from app.services.crypto import lookup

from . import speech
from .call import Call
from .prompts import NIR_HINTS, Pause, callback_zone, state_sentence, too_late

# --- what the caller typed: checked, kept, or said back -------------------------------------------

def accept_nir(call: Call, typed: str) -> str:
    try:
        call.data["nir"] = identifiers.normalize_nir(identifiers.nir_from_keypad(typed))
    except InvalidIdentifier as exc:
        call.before.append(NIR_HINTS.get(exc.code, lambda: _(
            "This number is not right. It has 15 characters. For Corsica, type 2A as 2 star 1, "
            "and 2B as 2 star 2."))())
        return "nir"
    return next_part(call)


PARTS = ("nir", "serial", "birth", "code")  # the steps of identification, in the order they are asked


def next_part(call: Call) -> str:
    """The first part of identification not given yet, else the check: a part accepted is never asked again."""
    return next((p for p in PARTS if not call.data.get(p) and not (p == "code" and call.data.get("sms"))),
                "do:identify")


def accept_serial(call: Call, typed: str) -> str:
    try:
        call.data["serial"] = identifiers.normalize_vitale_serial(typed)
    except InvalidIdentifier as exc:
        call.before.append(_("This looks like your social security number. Type the serial number of the card.")
                           if exc.code == "vitale_looks_like_nir" else
                           _("The serial number has 8 to 13 digits. It is beside your photo, or on the back."))
        return "serial"
    return next_part(call)


def accept_birth(call: Call, typed: str) -> str:
    try:
        if len(typed) != 8 or not typed.isdigit():
            raise InvalidIdentifier("birth_date_format")
        call.data["birth"] = identifiers.parse_birth_date(typed, clock.today()).isoformat()
    except InvalidIdentifier:
        call.before.append(_("This date does not exist. Check the day and the month.") if dates.impossible(typed)
                           else _("This date is not right. For the 25th of March 1948, type 2 5 0 3 1 9 4 8."))
        return "birth"
    return next_part(call)


def accept_code(call: Call, typed: str) -> str:
    """The letter's code by its keys (12 digits), or spelled aloud (12 letters and digits), or 1: no letter."""
    d = call.data
    if typed == "1":  # no letter: a code by SMS to the registered mobile instead
        d["sms"], d["code"] = True, ""
        return next_part(call)
    d.pop("sms", None)
    spoken = typed.isalnum() and not typed.isdigit()
    if len(typed) != identifiers.CODE_LENGTH or not (typed.isdigit() or spoken):
        call.before.append(_("The code has 12 letters and digits: press 12 keys."))
        return "code"
    d["code"], d["code_spoken"] = identifiers.keypad_form(typed), typed.upper() if spoken else None
    return next_part(call)


def accept_reference(call: Call, typed: str) -> str:
    sent_on = references.sent_on(typed)
    if sent_on is None:
        call.before.append(_("We do not know this reference. Do not answer that message, and never give a code."))
    else:
        call.before.append(_("Yes, Relais sent this reference on %(date)s.", date=speech.day(sent_on)))
    return "menu"


def accept_pick(call: Call, typed: str) -> str:
    page, offset = call.batch()
    if not typed.isdigit() or not offset < int(typed) <= offset + len(page.lines):
        call.before.append(_("This number is not in the list."))
        return "history"
    call.data["event_id"] = page.lines[int(typed) - offset - 1].event.id
    return "history_act"


# --- what the caller came for: the switch steps of the table route it -----------------------------

def _goal(name: str):
    def action(call: Call) -> str:
        call.data["goal"] = name
        return "route_goal"
    return action


def do_ask_identity(call: Call) -> str:
    _forget_parts(call)
    call.before += [_("Take your letter and your Vitale card."), Pause(2)]
    return "nir"


def do_ask_own_identity(call: Call) -> str:
    _forget_parts(call)
    call.before += [_("First, identify yourself, with your own letter and Vitale card."), Pause(2)]
    return "nir"


def _forget_parts(call: Call) -> None:
    for k in (*PARTS, "code_spoken", "sms", "heard"):
        call.data.pop(k, None)


def do_forget_identity(call: Call) -> str:
    _forget_parts(call)
    return "menu"


# --- time for slow callers: a wait that never hangs up, then offers -------------------------------

WAIT_SILENCES = 6  # 6 times 20 s: two minutes of waiting, a short reminder each time


def wait(call: Call, step: str) -> str:
    """Silence at a step of identification: the caller is given time, the step is kept to come back to."""
    call.data["resume"] = step
    return "wait"


def do_resume(call: Call) -> str:
    call.data.pop("waited", None)  # a later wait starts afresh
    return call.data.pop("resume", None) or next_part(call)


def do_wait_again(call: Call) -> str:
    call.data["waited"] = 0
    return "wait"


def do_send_what_to_have(call: Call) -> str:
    if not call.data.get("caller_mobile"):
        call.before.append(_("This choice is not possible."))
        return "stuck"
    try:
        sent = callbacks.send_what_to_have(call.caller, call.language)
    except CallbackRefused:
        sent = None
    if not sent:
        call.before.append(_("We cannot send you an SMS now.") if sent is None else
                           _("This number already had this SMS today."))
        return "stuck"
    call.before.append(_("We are sending you an SMS. Call again when you have it all at hand."))
    return "goodbye"


# --- a person: transfer during opening hours, else a callback --------------------------------------

def do_agent(call: Call) -> str:
    if current_app.config["AGENT_NUMBER"] and agents.is_open():
        callbacks.record_transfer(call.actor, goal=call.data.get("goal"), identified=bool(call.person_id),
                                  outcome="dialled", call_tail=call.sid[-6:])
        return "transfer"
    callbacks.record_transfer(call.actor, goal=call.data.get("goal"), identified=bool(call.person_id),
                              outcome="closed", call_tail=call.sid[-6:])
    opening = agents.next_opening() if current_app.config["AGENT_NUMBER"] else None
    call.before.append(_("Our advisers are not available now. They answer again %(when)s.",
                         when=speech.opening(opening, None if call.person_id else callback_zone(call)))
                       if opening else
                       _("No adviser can take your call now."))
    return _offer_callback(call)


def do_agent_missed(call: Call) -> str:
    callbacks.record_transfer(call.actor, goal=call.data.get("goal"), identified=bool(call.person_id),
                              outcome="no-answer", call_tail=call.sid[-6:])
    call.before.append(_("No adviser is free at the moment."))
    return _offer_callback(call)


def _offer_callback(call: Call) -> str:
    call.data["slots"] = [(day.isoformat(), slot) for day, slot in agents.half_days(count=2, zone=callback_zone(call))]
    return "callback" if call.data["slots"] else "menu"


def do_callback_slot(index: int):
    def action(call: Call) -> str:
        slots = call.data.get("slots") or []
        if index >= len(slots):
            call.before.append(_("This choice is not possible."))
            return "callback"
        call.data["slot"] = slots[index]
        phone = speech.french_number(call.caller)
        if phone:
            call.data["callback_phone"] = phone
            return "callback_number"
        return "callback_phone"
    return action


def accept_callback_phone(call: Call, typed: str) -> str:
    phone = speech.french_number(typed)
    if not phone:
        call.before.append(_("This number is not right. Type its 10 digits, such as 0 6 1 2 3 4 5 6 7 8."))
        return "callback_phone"
    call.data["callback_phone"] = phone
    return "callback_number"


def do_request_callback(call: Call) -> str:
    d = call.data
    day, slot = d["slot"]
    zone = callback_zone(call)
    try:
        receipt = callbacks.request(call.actor, d["callback_phone"], date.fromisoformat(day), slot,
                                    goal=d.get("goal"), language=call.language, key=call.key())
    except CallbackRefused as exc:
        call.before.append(reasons.say(exc.reason, reasons.VOICE))
        return _offer_callback(call)  # the half-days of the number given, when it is overseas
    finally:
        d.pop("callback_phone", None)
    call.before.append(_("An adviser will call you back on %(when)s.",
                         when=speech.half_day(date.fromisoformat(day), slot, zone)))
    return _receipt(call, receipt)


# --- what was said aloud: read back, then taken as if typed --------------------------------------

def do_confirm_heard(call: Call) -> str:
    heard = call.data.pop("heard")
    return ACCEPTS[heard["step"]](call, heard["value"])


def do_hear_again(call: Call) -> str:
    return call.data.pop("heard")["step"]


def fix(part: str):
    def action(call: Call) -> str:
        call.data.pop(part, None)
        if part == "code":
            call.data.pop("code_spoken", None)
        return part
    return action


def do_note_mobile(call: Call) -> str:
    if call.space().sms_blocked and not call.data.get("told_sms_blocked"):
        call.data["told_sms_blocked"] = True  # once a call, as soon as the caller is identified
        call.before.append(_("Your number no longer receives our SMS: we write to you by letter. To get our SMS "
                             "again, send START to Relais."))
    # Where a history asked for goes: the representative's mobile, else the holder's, else the post.
    call.data["has_mobile"] = call.space().has_mobile or \
        (call.for_other and spaces.view(call.actor, call.person_id).has_mobile)
    return "route_space"


def do_start_history(call: Call) -> str:
    call.data["offset"] = 0
    return "history"


def do_refuse(call: Call) -> str:
    call.before.append(reasons.say(call.space().restricted, reasons.VOICE))
    return "menu"


def do_tell_too_late(call: Call) -> str:
    # A recent letter: the caller may have wanted to say no; say why closing is offered instead.
    call.before.append(too_late(call.space()))
    return "route_offer"


def do_tell_state(call: Call) -> str:
    call.before.append(state_sentence(call.space().state, None if call.for_other else call.data.get("sex")))
    return "menu"


# --- who calls: identification ---------------------------------------------------------------------

def do_identify(call: Call) -> str:
    d = call.data
    if d.get("sms"):
        return send_sms_code(call)
    try:
        call.data["person_id"] = identity.identify(
            d["nir"], d["serial"], identifiers.parse_birth_date(d["birth"], clock.today()), d["code"],
            client=call.client, channel="voice", keypad=True)
    except CodeSpent as exc:
        return _code_spent(call, exc)
    except IdentificationFailed:
        # What was given is read back as printed, so that only the wrong part is given again.
        call.before.append(_("These details do not match our records."))
        return "fix"
    except IdentificationLocked as exc:
        _forget_parts(call)
        call.before.append(reasons.say(exc.reason, reasons.VOICE, time=speech.moment(exc.until)))
        return "menu"
    d["sex"] = identity.sex_of(d["nir"])  # for French agreement («opposée»), kept for the call only
    _forget_parts(call)  # nothing given is kept once it has served
    return "route_goal"


def _code_spent(call: Call, exc: CodeSpent) -> str:
    """Everything right but the letter's code, used or expired: said plainly. A person who said no already hears
    that it is recorded, its day and reference; anyone else is offered, at the code step, the code by SMS (1),
    which is a new letter code by post for a caller without a mobile."""
    call.before.append(reasons.say(exc.reason, reasons.VOICE))
    if exc.opposed_on:
        values = {"date": dates.day(exc.opposed_on), "ref": speech.digits(exc.opposed_reference or "")}
        feminine = pgettext("said to a woman", "You said no on %(date)s. It is recorded, reference %(ref)s.", **values)
        usual = _("You said no on %(date)s. It is recorded, reference %(ref)s.", **values)
        untranslated = "You said no on %(date)s. It is recorded, reference %(ref)s." % values
        # A woman hears the feminine («opposée») once the catalog has it; meanwhile the usual form.
        call.before.append(feminine if identity.sex_of(call.data.get("nir")) == "f" and feminine != untranslated
                           else usual)
        _forget_parts(call)
        return "menu"
    call.data.pop("code", None)
    call.data.pop("code_spoken", None)
    call.before.append(_("Type 1, then hash, and we send you a code by SMS, or a new code by post."))
    return "code"


def send_sms_code(call: Call) -> str:
    d = call.data
    try:
        identity.send_sign_in_code(d["nir"], d["serial"], date.fromisoformat(d["birth"]),
                                   client=call.client, channel="voice",
                                   letter_without_mobile=True)
    except IdentificationLocked as exc:
        call.before.append(reasons.say(exc.reason, reasons.VOICE, time=speech.moment(exc.until)))
        return "menu"
    d["nir_lookup"] = lookup("nir", d["nir"])
    _forget_parts(call)
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
        call.before.append(reasons.say(exc.reason, reasons.VOICE, time=speech.moment(exc.until)))
        return "menu"
    call.data.pop("nir_lookup", None)
    return "route_goal"


def do_start_identity(call: Call) -> str:
    return "nir"


# --- what the caller asked for: done, with a reference, or refused -------------------------------

def _receipt(call: Call, receipt) -> str:
    call.data["reference"] = receipt.reference
    return "receipt"


def _act(call: Call, command: commands.Command) -> str:
    """Dispatch what the caller confirmed, for whom the call acts; the receipt's step, or why not."""
    try:
        return _receipt(call, commands.dispatch(command, call.actor, call.subject_id, call.key()))
    except WindowClosed:  # the window ended during the call
        call.before.append(too_late(call.space()))
        return "close"
    except (InvalidTransition, NotAuthorized) as exc:
        call.before.append(reasons.say(exc.reason, reasons.VOICE))
        return "menu"


def do_switch_language(call: Call) -> str:
    """9 at the first menu of the call: the other language (9 is «back» elsewhere, with nothing behind it here)."""
    if not call.data.get("first"):
        call.before.append(_("This choice is not possible."))
        return "menu"
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


def do_notices(mode: str):
    """The message at each access: naming who, naming nobody, or none; the choice already made is said so."""
    def action(call: Call) -> str:
        if call.space().notices == mode:
            call.before.append(_("This is already your choice."))
            return "notices"
        return _act(call, commands.SetNotifications(on=mode != "off",
                                                    discreet=None if mode == "off" else mode == "discreet"))
    return action


def do_history_more(call: Call) -> str:
    page, offset = call.batch()
    if page.page < page.pages:
        call.data["offset"] = offset + 3
    return "history"


def do_history_send(call: Call) -> str:
    record = commands.dispatch(commands.SendHistory(), call.actor, call.subject_id, call.key())
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



def do_name_helper(call: Call) -> str:
    d = call.data
    try:
        record = commands.dispatch(commands.NameHelper(d["helper_nir"], date.fromisoformat(d["helper_birth"])),
                                   call.actor, call.subject_id, call.key())
    except HelperRefused as exc:
        call.before.append(reasons.say(exc.reason, reasons.VOICE))
        return "helpers"
    except NotAuthorized as exc:
        call.before.append(reasons.say(exc.reason, reasons.VOICE))
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
    return _act(call, commands.RemoveHelper(mandate_id))


ACTIONS: dict[str, Callable[[Call], str]] = {
    "switch_language": do_switch_language,
    "goal_change": _goal("change"), "goal_history": _goal("history"),
    "goal_emergency": _goal("emergency"), "goal_for_other": _goal("for_other"), "goal_helpers": _goal("helpers"),
    "goal_notices": _goal("notices"),
    "notices_full": do_notices("full"), "notices_discreet": do_notices("discreet"), "notices_off": do_notices("off"),
    "ask_identity": do_ask_identity, "ask_own_identity": do_ask_own_identity, "note_mobile": do_note_mobile,
    "start_history": do_start_history, "refuse": do_refuse, "tell_too_late": do_tell_too_late,
    "tell_state": do_tell_state,
    "accept_for_nir": accept_for_nir, "accept_helper_nir": accept_helper_nir,
    "accept_helper_birth": accept_helper_birth, "accept_helper_pick": accept_helper_pick,
    "helper_add": lambda call: "helper_nir" if len(helpers.helpers_of(call.subject_id)) < \
        current_app.config["HELPERS_PER_PERSON"] else "helpers",
    "helper_remove_start": lambda call: "helper_pick" if helpers.helpers_of(call.subject_id) else "helpers",
    "name_helper": do_name_helper, "revoke_helper": do_revoke_helper,
    "start_identity": do_start_identity, "identify": do_identify,
    "oppose": lambda call: _act(call, commands.Oppose()),
    "choose_archive": do_choose(False), "choose_delete": do_choose(True),
    "close": lambda call: _act(call, commands.Close(bool(call.data.get("delete")))),
    "reopen": lambda call: _act(call, commands.Reopen()),
    "history_more": do_history_more, "history_send": do_history_send,
    "report": lambda call: _act(call, commands.Report(call.data["event_id"])),
    "block": lambda call: _act(call, commands.Block(call.data["event_id"])),
    "change_samu": do_change("samu"), "change_break_glass": do_change("break_glass"),
    "change_masked": do_change("masked"),
    "set_emergency": lambda call: _act(call, commands.SetEmergency(call.data["setting"], call.data["on"])),
    "cancel": do_cancel,
    "accept_nir": accept_nir, "accept_serial": accept_serial, "accept_birth": accept_birth,
    "accept_code": accept_code, "accept_pick": accept_pick, "accept_sms_code": accept_sms_code,
    "accept_reference": accept_reference,
    "forget_identity": do_forget_identity, "resume": do_resume, "wait_again": do_wait_again,
    "send_what_to_have": do_send_what_to_have,
    "agent": do_agent, "agent_missed": do_agent_missed,
    "callback_slot_1": do_callback_slot(0), "callback_slot_2": do_callback_slot(1),
    "accept_callback_phone": accept_callback_phone, "request_callback": do_request_callback,
    "confirm_heard": do_confirm_heard, "hear_again": do_hear_again,
    "fix_nir": fix("nir"), "fix_serial": fix("serial"), "fix_birth": fix("birth"), "fix_code": fix("code"),
}

# A number step's accept action, by step: what a spoken answer confirmed is given to.
ACCEPTS: dict[str, Callable[[Call, str], str]] = {
    "nir": accept_nir, "serial": accept_serial, "birth": accept_birth, "code": accept_code,
    "for_nir": accept_for_nir, "helper_nir": accept_helper_nir, "helper_birth": accept_helper_birth,
    "check_reference": accept_reference, "sms_code": accept_sms_code, "callback_phone": accept_callback_phone,
}
