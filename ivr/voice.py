"""Voice webhooks: load the call's state, run one step of the script, answer TwiML built with twilio.twiml."""
import copy
import logging

from flask import Blueprint, Response, current_app, request
from flask_babel import force_locale
from flask_babel import gettext as _
from twilio.twiml.voice_response import VoiceResponse

from app import clock, outbox
from app.models import CallState, db
from app.services.crypto import lookup

from . import script, speech
from .call import Call
from .engine import END, NUMBER, YESNO, Step
from .prompts import HELP_WORDS, REPEAT_WORDS, help_text
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
    lang_code, voice = voice_of(call.language)
    if step.expect == END:
        target = response
    else:
        number = step.expect == NUMBER
        target = response.gather(
            input="dtmf" if number else "dtmf speech", action=f"/ivr/voice?n={next_seq}", method="POST",
            timeout=step.timeout, finish_on_key="#" if number else "", num_digits=None if number else 1,
            action_on_empty_result=True, language=lang_code, speech_timeout="auto" if not number else None,
            hints=None if number else _hints(call, step))
    for sentence in sentences:
        text, language = sentence if isinstance(sentence, tuple) else (sentence, call.language)
        code, v = voice_of(language)
        target.say(text, language=code, voice=v)
    if step.expect == END:
        response.hangup()
    return str(response)


def _hints(call: Call, step: Step) -> str | None:
    if not step.words:
        return None
    with force_locale(call.language):
        return ", ".join(w.strip() for words in step.words().values() for w in words.split(","))


def _choice(call: Call, step: Step, digits: str, said: str) -> str:
    """The key the caller chose: typed, or said with one of the step's words."""
    if digits:
        return digits
    if not said:
        return ""
    with force_locale(call.language):
        vocab = {**({k: v for k, v in step.words().items()} if step.words else {}),
                 "*": REPEAT_WORDS(), "0": HELP_WORDS()}
        # A "no" word wins over a "yes" word: «pas d'accord» is not «d'accord».
        for key, words in sorted(vocab.items(), key=lambda item: item[0] != "2" or step.expect != YESNO):
            if speech.says(said, words):
                return key
    return "?"


def understood(step_name: str, language: str, said: str) -> str:
    """The key a spoken answer chooses at a step of the call script ("?" when it chooses none)."""
    return _choice(Call("understood", language, {}, 0, ""), script.STEPS[step_name], "", said)


def advance(call: Call, step_name: str, digits: str, said: str) -> str:
    """Apply the caller's answer to the current step; returns the step to say next."""
    step = script.STEPS[step_name]
    counters = call.data.setdefault("counters", {})
    chosen = _choice(call, step, digits, said)
    with force_locale(call.language):
        if chosen == "":
            if step.on_silence:
                return _go(call, step.on_silence)
            counters["silence"] = counters.get("silence", 0) + 1
            if counters["silence"] >= MAX_SILENCES:
                return "silent_goodbye"
            call.before.append(_("I did not hear anything.") if counters["silence"] == 1 else help_text())
            return step_name
        if chosen == "*":
            return step_name
        if chosen == "0" and "0" not in step.routes:
            call.before.append(help_text())
            return step_name
        if step.expect == NUMBER:
            target = "do:" + step.accept
        else:
            target = step.routes.get(chosen)
        if target is None and step.on_other:
            return _go(call, step.on_other)
        if target is None:
            counters["wrong"] = counters.get("wrong", 0) + 1
            if counters["wrong"] >= MAX_WRONG:
                counters["wrong"] = 0
                call.before.append(help_text())
            else:
                call.before.append(_("This choice is not possible."))
            return step_name
        return _go(call, target, chosen)


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
                call.before.append(help_text())
    return nxt


@bp.post("/voice")
@validate_twilio_request
def voice():
    sid = twilio_id("CallSid")
    if not sid:
        return _twiml(str(VoiceResponse())), 400
    n = request.args.get("n", type=int)
    state = db.session.get(CallState, sid, with_for_update=True)
    if state is not None and n != state.seq:
        # A webhook Twilio retried (or a stale one): the same answer again, nothing done twice.
        db.session.rollback()
        return _twiml(state.last_twiml)
    caller = form_value("From")
    if state is None:
        state = CallState(call_sid=sid, step="language", seq=0, data={}, language="fr",
                          caller_lookup=lookup("phone", caller) if caller else None, created_at=clock.now())
        db.session.add(state)
    # A deep copy: the JSON column only sees a change when it is given a different value.
    call = Call(sid, state.language, copy.deepcopy(state.data or {}), state.seq, caller)
    try:
        if n is None:
            step_name = "language"
        else:
            call.data["step_was"] = state.step
            step_name = advance(call, state.step, form_value("Digits").strip(), form_value("SpeechResult").strip())
        twiml = render(call, step_name, state.seq + 1)
    except Exception:  # never a dead line: say sorry, change nothing, offer the menu again
        log.exception("voice step failed for call %s", sid[-6:])
        db.session.rollback()
        state = db.session.get(CallState, sid) or CallState(call_sid=sid, step="menu", seq=0, data={}, language="fr")
        call = Call(sid, state.language, copy.deepcopy(state.data or {}), state.seq, caller)
        with force_locale(call.language):
            call.before.append(_("Sorry, something went wrong. Nothing was changed."))
        step_name = "menu"
        twiml = render(call, step_name, state.seq + 1)
        if state not in db.session:
            db.session.add(state)
    call.data.pop("step_was", None)
    state.step, state.language, state.data = step_name, call.language, call.data
    state.seq += 1
    state.last_twiml = twiml
    state.updated_at = clock.now()
    db.session.commit()
    return _twiml(twiml)


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
