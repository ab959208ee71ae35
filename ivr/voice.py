"""Voice webhooks: load the call's state, run one step of the script, answer TwiML built with twilio.twiml."""
import copy
import logging

from flask import Blueprint, Response, current_app, request
from flask_babel import force_locale
from flask_babel import gettext as _
from twilio.twiml.voice_response import VoiceResponse

from app import clock, outbox, zones
from app.models import CallState, db
from app.services import callbacks, cases
from app.services.crypto import lookup

from . import actions, heard, prompts, script, speech
from .call import Call
from .engine import DIAL, END, NUMBER, WAIT, YESNO, Step
from .prompts import AGENT_WORDS, BACK_WORDS, CANCEL_WORDS, HELP_WORDS, REPEAT_WORDS, Pause, help_text
from .twilio_auth import form_value, validate_twilio_request
from .twilio_auth import sid as twilio_id

bp = Blueprint("ivr", __name__, url_prefix="/ivr")
log = logging.getLogger("relais.ivr")
MAX_SILENCES = 3
MAX_WRONG = 3


def _twiml(text: str) -> Response:
    return Response(text, mimetype="text/xml")


def voice_of(language: str) -> tuple[str, str]:
    c = current_app.config
    return (c["VOICE_LANGUAGE_FR"], c["VOICE_FR"]) if language == "fr" else (c["VOICE_LANGUAGE_EN"], c["VOICE_EN"])


def render(call: Call, step_name: str, next_seq: int) -> str:
    """The TwiML of a step: what comes before, then the prompt waiting for an answer, or a goodbye and hang-up."""
    step = script.STEPS[step_name]
    response = VoiceResponse()
    with force_locale(call.language):
        sentences = [*call.before, *step.say(call)]
        hints = _hints(call, step)
    lang_code, voice = voice_of(call.language)
    action = f"/ivr/voice?n={next_seq}"
    if step.expect in (END, DIAL):
        target = response
    else:
        number = step.expect == NUMBER
        speech_too = not number or bool(step.spoken)
        target = response.gather(
            input="dtmf speech" if speech_too else "dtmf", action=action, method="POST",
            timeout=step.timeout, finish_on_key="#" if number else "", num_digits=None if number else 1,
            action_on_empty_result=True, language=lang_code,
            speech_timeout=(3 if number else "auto") if speech_too else None, hints=hints)
    for sentence in sentences:
        if isinstance(sentence, Pause):
            target.pause(length=sentence.seconds)
            continue
        text, language = sentence if isinstance(sentence, tuple) else (sentence, call.language)
        code, v = voice_of(language)
        target.say(text, language=code, voice=v)
    if step.expect == END:
        response.hangup()
    elif step.expect == DIAL:
        _dial(response, action)
    return str(response)


def _dial(response: VoiceResponse, action: str) -> None:
    """To an adviser: a number with a whisper that tells them what the caller was doing, or a Twilio queue."""
    c = current_app.config
    agent = c["AGENT_NUMBER"]
    if agent.startswith("queue:"):
        response.enqueue(agent[len("queue:"):], action=action, method="POST")
        return
    dial = response.dial(action=action, method="POST", timeout=c["AGENT_RING_SECONDS"])
    dial.number(agent, url="/ivr/whisper", method="POST")


def _hints(call: Call, step: Step) -> str | None:
    if step.expect == NUMBER:
        return heard.NUMBER_HINTS.get(call.language) if step.spoken else None
    own = list(step.words().values()) if step.words else []
    # the step's own words, then the generic commands it understands too (an adviser first: the one most needed)
    said = [*own, AGENT_WORDS(), REPEAT_WORDS(), HELP_WORDS(), BACK_WORDS()]
    return ", ".join(dict.fromkeys(w.strip() for words in said for w in words.split(",") if w.strip()))


# The generic commands of ETSI ES 202 076, at every step: what each is, as a key of the call.
AGENT, BACK, CANCEL = "00", "back", "cancel"
GENERIC = (("*", REPEAT_WORDS), ("0", HELP_WORDS), (AGENT, AGENT_WORDS), (BACK, BACK_WORDS),
           (CANCEL, CANCEL_WORDS))


def _choice(call: Call, step: Step, digits: str, said: str) -> str:
    """The key the caller chose: typed, or said with one of the step's words, or a generic command."""
    if digits:
        return digits
    if not said:
        return ""
    with force_locale(call.language):
        vocab = step.words() if step.words else {}
        # A «no» wins over a «yes»: «pas d'accord» is not «d'accord».
        for key, words in sorted(vocab.items(), key=lambda item: item[0] != "9" or step.expect != YESNO):
            if speech.says(said, words):
                return key
        for key, words in GENERIC:
            if speech.says(said, words()):
                return "9" if key == BACK and "9" in step.routes else key
    return "?"


def understood(step_name: str, language: str, said: str) -> str:
    """The key a spoken answer chooses at a step of the call script ("?" when it chooses none)."""
    return _choice(Call("understood", language, {}, 0, ""), script.STEPS[step_name], "", said)


def _help(call: Call, step_name: str, step: Step) -> str:
    """0 (or «aide»): the help of this step; 0 again right after it: a person."""
    kind = "number" if step.expect == NUMBER else "yesno" if step.expect == YESNO else "key"
    call.data["helped"] = step_name
    text = help_text(kind, speech_too=step.expect != NUMBER or bool(step.spoken))
    if step.expect == NUMBER and step.identifying:
        text += " " + _("To hear what you gave, say: read back.")
    return text


def advance(call: Call, step_name: str, digits: str, said: str) -> str:
    """Apply the caller's answer to the current step; returns the step to say next."""
    step = script.STEPS[step_name]
    counters = call.data.setdefault("counters", {})
    helped = call.data.pop("helped", None) == step_name
    if step.expect == NUMBER and step.identifying and said and not digits:
        with force_locale(call.language):
            if speech.says(said, prompts.READ_BACK_WORDS()):  # on request: what was given so far, as printed
                call.before += prompts.fix_lines(call)
                return step_name
    if step.expect == NUMBER and said and not digits:
        chosen = _choice(call, Step(step.say, NUMBER), "", said)
        if chosen == "?":  # not a command: the number itself, said aloud
            return _heard(call, step_name, step, said)
    else:
        chosen = _choice(call, step, digits, said)
    with force_locale(call.language):
        if step.expect == WAIT:
            return _wait(call, chosen, helped)
        if chosen == "":
            if step.on_silence:
                return _go(call, step.on_silence)
            if step.identifying:
                return actions.wait(call, step_name)
            counters["silence"] = counters.get("silence", 0) + 1
            if counters["silence"] >= MAX_SILENCES:
                return "silent_goodbye"
            call.before.append(_("I did not hear anything.") if counters["silence"] == 1 else
                               _help(call, step_name, step))
            return step_name
        if chosen == "*":
            return step_name
        if chosen == AGENT or (chosen == "0" and helped and "0" not in step.routes):
            return _go(call, "do:agent")
        if chosen == "0" and "0" not in step.routes:
            call.before.append(_help(call, step_name, step))
            return step_name
        if chosen == CANCEL:
            return _go(call, "do:cancel")
        if chosen == BACK:
            return _go(call, step.routes.get("9", step.back))
        if step.expect == NUMBER:
            target = "do:" + step.accept
        else:
            target = step.routes.get(chosen)
        if target is None:
            counters["wrong"] = counters.get("wrong", 0) + 1
            if counters["wrong"] >= MAX_WRONG:
                counters["wrong"] = 0
                call.before.append(_help(call, step_name, step))
            else:
                call.before.append(_("This choice is not possible."))
            return step_name
        return _go(call, target, chosen)


def _wait(call: Call, chosen: str, helped: bool) -> str:
    """The caller is given time: any key or word resumes, but help and an adviser; silence gets a short reminder
    every 20 s, then offers."""
    if chosen == AGENT or (chosen == "0" and helped):
        return _go(call, "do:agent")
    if chosen == "0":
        call.data["helped"] = "wait"
        call.before.append(_("Help: press star when you are ready, or say: ready.") + " " +
                           _("For an adviser, press 0 again."))
        return "wait"
    if chosen:
        return _go(call, "do:resume")
    waited = call.data["waited"] = call.data.get("waited", 0) + 1
    if waited >= actions.WAIT_SILENCES:
        call.data["waited"] = 0
        return "stuck"
    return "wait"


# How a spoken answer is read, by what the step asks (Step.spoken): as the keypad would give it.
READERS = {"nir": heard.nir_heard, "digits": heard.digits_heard, "birth": heard.date_heard, "code": heard.code_heard}


def _heard(call: Call, step_name: str, step: Step, said: str) -> str:
    """A number or code said aloud: read as the keypad would give it, then read back to be confirmed."""
    value = READERS[step.spoken](said, call.language)
    with force_locale(call.language):
        if value is None:
            call.before.append(_("Sorry, I did not understand. Say it again slowly, or type it."))
            return step_name
    call.data["heard"] = {"step": step_name, "kind": step.spoken, "value": value}
    return "heard"


def _go(call: Call, target: str, typed: str = "") -> str:
    with force_locale(call.language):
        if target.startswith("do:"):
            action = script.ACTIONS[target[3:]]
            nxt = action(call, typed) if target[3:].startswith("accept_") else action(call)
        else:
            nxt = target
    if nxt != call.data.get("step_was"):
        call.data["counters"] = {}
    elif typed and target.startswith("do:accept_"):
        # A refused number is a wrong answer too: after 3, help comes before the question again.
        counters = call.data.setdefault("counters", {})
        counters["wrong"] = counters.get("wrong", 0) + 1
        if counters["wrong"] >= MAX_WRONG:
            counters["wrong"] = 0
            with force_locale(call.language):
                call.before.append(help_text("number"))
    return nxt


def start(call: Call) -> str:
    """The first answer of a call: the welcome and the other language, then at once the main menu."""
    call.data["first"] = True
    call.data["caller_mobile"] = speech.is_mobile(speech.french_number(call.caller))
    with force_locale(call.language):
        call.before += prompts.greeting(call.language)
    return "menu"


def dialled(call: Call, status: str) -> str:
    """The transfer ended: after a conversation, goodbye; when nobody answered, a callback is offered."""
    if status in ("completed", "answered", "bridged", ""):  # <Dial>'s DialCallStatus, <Enqueue>'s QueueResult
        callbacks.record_transfer(call.actor, goal=call.data.get("goal"), identified=bool(call.person_id),
                                  outcome="answered", call_tail=call.sid[-6:])
        return "goodbye"
    return _go(call, "do:agent_missed")


@bp.post("/voice")
@validate_twilio_request
def voice():
    sid = twilio_id("CallSid")
    if not sid:
        return _twiml(str(VoiceResponse())), 400
    n = request.args.get("n", type=int)
    if n is not None and 0 <= n < 2 ** 31:  # a step number no call can reach is a stale webhook: replayed below
        # The answer to step n is taken by one request: this no-op UPDATE locks the call's row (PostgreSQL) or the
        # database (SQLite) until the commit, so a copy sent at the same moment waits, then finds the step done.
        db.session.execute(db.update(CallState).where(CallState.call_sid == sid, CallState.seq == n)
                           .values(seq=n))
    state = db.session.get(CallState, sid, with_for_update=True, populate_existing=True)
    if state is not None and n != state.seq:
        # A webhook Twilio retried (or a stale one): the same answer again, nothing done twice.
        db.session.rollback()
        return _twiml(state.last_twiml)
    caller = form_value("From")
    if state is None:
        state = CallState(call_sid=sid, step="menu", seq=0, data={}, language="fr",
                          caller_lookup=lookup("phone", caller) if caller else None, created_at=clock.now())
        db.session.add(state)
    # The step this request answers, read once: a service that commits on the way expires `state`, which would
    # then read back a later step another copy of this webhook has saved meanwhile.
    seq = state.seq
    # A deep copy: the JSON column only sees a change when it is given a different value.
    call = Call(sid, state.language, copy.deepcopy(state.data or {}), seq, caller)
    zones.read_by(lambda: call.person_id)  # times said in the identified caller's zone (Paris until then)
    try:
        if n is None or state in db.session.new:  # a new call, or one whose state was lost: the greeting
            step_name = start(call)
        elif state.step == "transfer":
            step_name = dialled(call, form_value("DialCallStatus") or form_value("QueueResult"))
        else:
            call.data["step_was"] = state.step
            step_name = advance(call, state.step, form_value("Digits").strip(), form_value("SpeechResult").strip())
        if step_name != "menu":
            call.data.pop("first", None)
        twiml = render(call, step_name, seq + 1)
    except Exception:  # never a dead line: say sorry, change nothing, offer the menu again
        log.exception("voice step failed for call %s", sid[-6:])
        db.session.rollback()
        state = db.session.get(CallState, sid) or CallState(call_sid=sid, step="menu", seq=0, data={}, language="fr")
        call = Call(sid, state.language, copy.deepcopy(state.data or {}), seq, caller)
        with force_locale(call.language):
            call.before.append(_("Sorry, something went wrong. Nothing was changed."))
        step_name = "menu"
        twiml = render(call, step_name, seq + 1)
        if state not in db.session:
            db.session.add(state)
    call.data.pop("step_was", None)
    if state not in db.session.new:
        # A step's service may commit on its way (a booking, a count), which ends the lock taken above: a copy of
        # this webhook may then have run the same step. Whoever moves the step on first has the answer; the other
        # gives that same answer (the step's services are idempotent per step, so nothing was done twice).
        moved = db.session.execute(db.update(CallState).where(CallState.call_sid == sid, CallState.seq == seq)
                                   .values(seq=seq + 1).execution_options(synchronize_session=False))
        if moved.rowcount != 1:
            db.session.rollback()
            winner = db.session.get(CallState, sid, populate_existing=True)
            return _twiml(winner.last_twiml if winner is not None else twiml)
    state.step, state.language, state.data = step_name, call.language, call.data
    state.seq = seq + 1
    state.last_twiml = twiml
    state.updated_at = clock.now()
    db.session.commit()
    return _twiml(twiml)


@bp.post("/whisper")
@validate_twilio_request
def whisper():
    """What the adviser hears before the caller is put through: one sentence, never a number or a code."""
    state = db.session.get(CallState, twilio_id("ParentCallSid") or "")
    data = (state.data or {}) if state else {}
    with force_locale(current_app.config["AGENT_LANGUAGE"]):
        goal = prompts.goal_for_adviser(data.get("goal"))
        text = _("Relais call: the caller wants to %(goal)s, and is identified.", goal=goal) if \
            data.get("person_id") else _("Relais call: the caller wants to %(goal)s, and is not identified.", goal=goal)
        # An identified caller: a one-time code for the desk, which opens the case with them identified (never
        # the NIR, nor anything of theirs); said twice, in groups of three.
        transfer = _("Desk code: %(code)s. Again: %(code)s.", code=speech.digits(
            cases.transfer_code(data["person_id"], data.get("goal")))) if data.get("person_id") else None
    response = VoiceResponse()
    code, v = voice_of(current_app.config["AGENT_LANGUAGE"])
    response.say(text, language=code, voice=v)
    if transfer:
        response.say(transfer, language=code, voice=v)
    return _twiml(str(response))


# Twilio's message statuses, as the outbox keeps them, and their order.
@bp.post("/status")
@validate_twilio_request
def status():
    """Call and message status callbacks: a call's end, a message's delivery."""
    now = clock.now()
    call_sid, message_sid = twilio_id("CallSid"), twilio_id("MessageSid")
    if message_sid:
        outbox.record_delivery(message_sid, form_value("MessageStatus"))
    elif call_sid:
        state = db.session.get(CallState, call_sid)
        if state is not None:
            state.status = form_value("CallStatus")[:20] or state.status
            if state.status in ("completed", "busy", "failed", "no-answer", "canceled"):
                state.ended_at = state.ended_at or now
                state.data = {k: v for k, v in (state.data or {}).items() if k in ("goal",)}
                state.last_twiml = str(VoiceResponse())  # the last answer may have read a number back
    db.session.commit()
    return "", 204
