"""SMS commands (POST /ivr/sms): read-only answers to registered numbers, state changes after a one-time code."""
import logging
import re

from flask import Blueprint, Response, current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from twilio.twiml.messaging_response import MessagingResponse

from app import clock, messages, reasons
from app.domain.errors import DomainError, NotAuthorized
from app.domain.reasons import Reason
from app.models import InboundMessage, Person, db
from app.sealed import mask, seal, unseal
from app.services import Actor, access, commands, helpers, identity, mandates, one_time, spaces
from app.services.crypto import lookup
from app.services.validation import normalize_phone
from app.text import format_reference, gsm7

from .speech import fold
from .twilio_auth import form_value, validate_twilio_request
from .twilio_auth import sid as twilio_id

bp = Blueprint("sms", __name__, url_prefix="/ivr")
log = logging.getLogger("relais.sms")

# The words people type, French and English, folded (no accents, lower case): word -> (command, language).
WORDS = {
    **{w: ("help", "fr") for w in ("aide", "info", "menu", "?")}, **{w: ("help", "en") for w in ("help",)},
    **{w: ("history", "fr") for w in ("historique", "acces", "hist", "liste")},
    **{w: ("history", "en") for w in ("history", "accesses", "log")},
    **{w: ("emergency", "fr") for w in ("urgence", "urgences")}, **{w: ("emergency", "en") for w in ("emergency",)},
    "samu": ("samu", None), "15": ("samu", None),
    **{w: ("break_glass", "fr") for w in ("bris", "brisdeglace")},
    **{w: ("break_glass", "en") for w in ("breakglass", "break")},
    **{w: ("masked", "fr") for w in ("masques", "masque", "documents")},
    **{w: ("masked", "en") for w in ("hidden", "masked")},
    **{w: ("oppose", "fr") for w in ("opposer", "opposition", "refuser", "oppose")},
    **{w: ("oppose", "en") for w in ("object",)},
    **{w: ("close", "fr") for w in ("fermer", "fermeture", "cloturer")}, **{w: ("close", "en") for w in ("close",)},
    **{w: ("reopen", "fr") for w in ("rouvrir", "reouvrir", "ouvrir")}, **{w: ("reopen", "en") for w in ("reopen",)},
    **{w: ("stop", "fr") for w in ("stop", "arret", "arreter")}, **{w: ("start", "fr") for w in ("start", "reprendre")},
    **{w: ("block", "fr") for w in ("bloquer",)}, **{w: ("block", "en") for w in ("block",)},
    **{w: ("report", "fr") for w in ("signaler", "inconnu")}, **{w: ("report", "en") for w in ("report",)},
    **{w: ("helpers", "fr") for w in ("aidants", "aidant")}, **{w: ("helpers", "en") for w in ("helpers", "helper")},
    **{w: ("revoke", "fr") for w in ("retirer",)}, **{w: ("revoke", "en") for w in ("remove", "revoke")},
}
FOR = {"pour": "fr", "for": "en"}
ON, OFF = {"on", "oui", "yes", "autoriser", "allow", "1"}, {"off", "non", "no", "refuser", "refuse", "0"}
DELETE = {"supprimer", "suppression", "effacer", "delete", "erase"}
STATE_CHANGES = {"oppose", "close", "reopen", "samu", "break_glass", "masked", "block", "report", "revoke"}


def reply(text: str) -> str:
    response = MessagingResponse()
    if text:
        response.message(gsm7(text))
    return str(response)


@bp.post("/sms")
@validate_twilio_request
def sms():
    sid = twilio_id("MessageSid") or twilio_id("SmsSid")
    if not sid:
        return Response(reply(""), mimetype="text/xml"), 400
    seen = db.session.get(InboundMessage, sid)
    if seen is not None:  # Twilio retried: the same answer, nothing done twice
        return Response(_first_answer(seen), mimetype="text/xml")
    try:
        phone = normalize_phone(form_value("From"))
    except ValueError:
        phone = None
    person = identity.find_person_by_phone(phone)
    text = " ".join(fold(form_value("Body")).replace("-", " ").split())[:320]
    try:
        answer = handle(person, phone, text, sid)
    except Exception:  # never a crash page to Twilio: a plain answer, the same one if Twilio retries
        db.session.rollback()
        log.exception("SMS %s could not be handled", sid)
        with force_locale(person.language if person else "fr"):
            answer = _("Relais: we could not handle this message. Nothing was changed. For help, call 34 22.")
    twiml = reply(answer)
    secret = getattr(answer, "secret", None)
    # A reply that carries a code is kept masked, and whole only encrypted, for Twilio's retries.
    db.session.add(InboundMessage(message_sid=sid, from_lookup=lookup("phone", phone) if phone else None,
                                  received_at=clock.now(), reply=mask(twiml, secret) if secret else twiml,
                                  sealed_reply=seal(twiml) if secret else None))
    try:
        db.session.commit()
    except IntegrityError:  # the same message, at the same moment, on another worker
        db.session.rollback()
        twiml = _first_answer(db.session.get(InboundMessage, sid))
    return Response(twiml, mimetype="text/xml")


def _first_answer(seen: InboundMessage) -> str:
    return unseal(seen.sealed_reply) or seen.reply


class WithCode(str):
    """A reply that carries a one-time code: it is never stored in clear."""

    def __new__(cls, text: str, secret: str):
        value = super().__new__(cls, text)
        value.secret = secret
        return value


def parse(text: str) -> tuple[str | None, str | None, list[str]]:
    words = text.split()
    for i, word in enumerate(words[:2]):
        if word in WORDS:
            command, language = WORDS[word]
            return command, language, words[i + 1:]
    return None, None, words


def handle(person: Person | None, phone: str | None, text: str, sid: str) -> str:
    lang = person.language if person else (parse(text)[1] or "fr")
    with force_locale(lang):
        if person is None:
            # Nothing here says whether any number or person is registered.
            if parse(text)[0] == "help":
                return help_text()
            return _("Relais: we cannot answer this message from this number. For help, call 34 22.")
        if re.fullmatch(r"\d{6}(\s+.+)?", text):
            return confirm(person, phone, text, sid)
        words = text.split()
        if words and words[0] in FOR:
            subject, answer = _named(person, words[1:2])
            if subject is None:
                return answer
            return command_for(person, subject, phone, " ".join(words[2:]), sid)
        return command_for(person, person, phone, text, sid)


def command_for(person: Person, subject: Person, phone: str, text: str, sid: str) -> str:
    """A command from `person`'s phone about `subject`: themselves, or someone they act for."""
    command, _language, args = parse(text)
    actor, other = Actor(person.id, "sms"), subject.id != person.id
    if command is None or command == "help":
        return help_text() if not other else help_for()
    try:
        if command == "history":
            # Sent through the outbox like every message, with a reference the 34 22 can confirm.
            commands.dispatch(commands.SendHistory(), actor, subject.id, f"sms:{sid}")
            return ""
        if command == "emergency":
            e = spaces.view(actor, subject.id).emergency
            values = dict(samu=_state(e.samu), bg=_state(e.break_glass), m=_("shown") if e.masked else _("hidden"))
            if other:
                return _("Relais: for %(name)s, SAMU: %(samu)s. Break-glass: %(bg)s. Hidden documents in an "
                         "emergency: %(m)s.", name=_short(subject), **values)
            return _("Relais: SAMU: %(samu)s. Break-glass: %(bg)s. Hidden documents in an emergency: %(m)s. "
                     "To change, send e.g. SAMU OFF or BREAKGLASS ON.", **values)
        if command == "helpers":
            return helpers_text(actor, subject)
        if command in ("stop", "start"):
            if other:
                return _("Relais: STOP and START are for your own messages only. Nothing was changed.")
            commands.dispatch(commands.SetNotifications(on=command == "start"), actor, person.id, f"sms:{sid}")
            return _("Relais: you will get a message at each access again.") if command == "start" else \
                _("Relais: you will no longer get a message at each access. To start again, send START.")
        if command in STATE_CHANGES:
            return request_change(person, subject, phone, command, args)
    except NotAuthorized as exc:
        return reasons.say(exc.reason, reasons.SMS)
    return help_text()


def _short(person: Person) -> str:
    return gsm7(f"{person.given_name} {person.family_name}")[:30]


def _named(person: Person, words: list[str]) -> tuple[Person | None, str]:
    """The person named after POUR / FOR: by first name or by number in the list, among those represented today."""
    represented = mandates.represented_by(person.id)
    if not represented:
        return None, _("Relais: you do not act for anyone on Relais. For help, call 34 22.")
    def listing(f) -> str:
        return ", ".join(f"{i + 1} {f(r.given_name)}" for i, r in enumerate(represented))
    if not words:
        return None, messages.fit(lambda f: _("Relais: you act for: %(list)s. Send e.g. FOR %(name)s HISTORY.",
                                              list=listing(f), name=f(fold(represented[0].given_name).upper())))
    who = words[0]
    matches = [r for i, r in enumerate(represented)
               if who == str(i + 1) or who == fold(r.given_name).split()[0].replace("-", " ").split()[0]]
    if len(matches) != 1:
        mandates.refuse_act_for(person.id, "sms", "name")
        return None, messages.fit(lambda f: _("Relais: we did not find this name among the people you act for: "
                                              "%(list)s. Nothing was changed.", list=listing(f)))
    return identity.person(matches[0].person_id), ""


def help_for() -> str:
    return _("Relais: for someone you act for, send FOR, the first name, then HISTORY, EMERGENCY, SAMU ON/OFF, "
             "BREAKGLASS ON/OFF, OPPOSE or CLOSE.")


def helpers_text(actor: Actor, subject: Person) -> str:
    if spaces.view(actor, subject.id).restricted == Reason.HELPER_LIMIT:
        raise NotAuthorized(Reason.HELPER_LIMIT)
    listed = helpers.helpers_of(subject.id)
    if not listed:
        return _("Relais: no trusted helper. To name one, call 34 22 or use the website.")
    return messages.fit(lambda f: _(
        "Relais: trusted helpers: %(items)s. To remove one, send REMOVE and its number.",
        items=", ".join(f"{i + 1} {f(_short(h))} {m.valid_until:%d/%m/%y}" for i, (h, m) in enumerate(listed))))


def _state(on: bool) -> str:
    return _("allowed") if on else _("refused")


def help_text() -> str:
    return _("Relais: send HISTORY, EMERGENCY, SAMU ON/OFF, BREAKGLASS ON/OFF, HIDDEN ON/OFF, OPPOSE, CLOSE, "
             "REOPEN, STOP or START. Help: call 34 22.")


def request_change(person: Person, subject: Person, phone: str, command: str, args: list[str]) -> str:
    """Check the request is possible, then send a one-time code that confirms exactly this request."""
    view = spaces.view(Actor(person.id, "sms"), subject.id)
    if command in ("samu", "break_glass", "masked"):
        words = set(args)
        if not words & (ON | OFF):
            return _("Relais: add ON or OFF, e.g. SAMU OFF. Nothing was changed.")
        on = bool(words & ON)
        if command == "masked" and not view.emergency.masked_applies:
            return reasons.say(Reason.EMERGENCY_OFF, reasons.SMS)
        what = {("samu", True): _("allow access by the SAMU"), ("samu", False): _("refuse access by the SAMU"),
                ("break_glass", True): _("allow break-glass access"),
                ("break_glass", False): _("refuse break-glass access"),
                ("masked", True): _("show hidden documents in an emergency"),
                ("masked", False): _("keep hidden documents hidden")}[(command, on)]
        request = commands.SetEmergency(setting=command, on=on)
    elif command in ("oppose", "close", "reopen") and view.refusals.get(command):
        return reasons.say(view.refusals[command], reasons.SMS)
    elif command == "oppose":
        what, request = _("say no to your health space"), commands.Oppose()
    elif command == "close":
        request = commands.Close(delete=bool(set(args) & DELETE))
        what = _("close your space, data deleted within 3 months") if request.delete else \
            _("close your space, data kept 10 years")
    elif command == "reopen":
        what, request = _("reopen your health space"), commands.Reopen()
    elif command == "revoke":
        if view.restricted:
            return reasons.say(view.restricted, reasons.SMS)
        listed = helpers.helpers_of(subject.id)
        number = "".join(a for a in args if a.isdigit())
        if not number or not 0 < int(number) <= len(listed):
            return _("Relais: send REMOVE and the number of the helper, e.g. REMOVE 1. To see them: HELPERS.")
        helper, mandate = listed[int(number) - 1]
        request = commands.RemoveHelper(mandate_id=mandate.id)
        what = _("remove %(name)s as trusted helper", name=_short(helper))
    else:  # block, report
        quoted = "".join(a for a in args if a.isdigit())  # the reference of the notice answered, if quoted
        event = access.notified_event(subject.id, quoted if len(quoted) == 9 else None)
        if event is None:
            return _("Relais: we found no access to act on. Nothing was changed.")
        request = commands.Block(event.id) if command == "block" else commands.Report(event.id)
        name = event.professional_name
        what = (_("block %(name)s") if command == "block" else _("report the access of %(name)s")) % {
            "name": gsm7(name)[:24]}
    try:
        code = one_time.issue(phone, person.id, _purpose(request), {"subject_id": subject.id,
                                                                    **commands.to_params(request)})
    except one_time.TooManyCodes:
        return _("Relais: too many codes were asked. Try again later, or call 34 22. Nothing was changed.")

    def what_for(f) -> str:  # the person's name shortened, if need be, so the SMS stays one segment
        return what if subject.id == person.id else _("%(what)s for %(name)s", what=what, name=f(_short(subject)))
    minutes = current_app.config["OTP_VALID_MINUTES"]
    if isinstance(request, commands.Oppose):
        return WithCode(messages.fit(lambda f: _(
            "Relais: code %(code)s to %(what)s. Reply %(code)s then the code of your letter. Valid %(minutes)s min. "
            "Never give it to anyone.", code=code, what=what_for(f), minutes=minutes)), code)
    # SMS alone is a weak factor: the date of birth is asked too, and the message says so.
    return WithCode(messages.fit(lambda f: _(
        "Relais: code %(code)s to %(what)s. Reply %(code)s then your date of birth (DDMMYYYY). Valid %(minutes)s "
        "min. Never give it to anyone.", code=code, what=what_for(f), minutes=minutes)), code)


# The requests an SMS can confirm, and the purpose their one-time code carries in the audit log.
PURPOSE = {commands.Oppose: "oppose", commands.Close: "close", commands.Reopen: "reopen",
           commands.SetEmergency: "emergency", commands.Block: "block", commands.Report: "report",
           commands.RemoveHelper: "revoke"}


def _purpose(request: commands.Command) -> str:
    return PURPOSE[type(request)]


def confirm(person: Person, phone: str, text: str, sid: str) -> str:
    code, rest = text[:6], text[6:].strip().upper()
    try:
        pending = one_time.redeem(phone, code, identity.second_factor(person.id, rest), purposes=set(PURPOSE.values()))
    except one_time.OtherPurpose:
        return _("Relais: this code is to sign in on the website or the phone line, where you asked for it. "
                 "Type it there. Nothing was changed.")
    if pending is None:
        return _("Relais: this code or the second answer is not right, or the code has expired. "
                 "Nothing was changed.")
    request = commands.from_params(pending.params)
    if request is None:  # a request stored in a form this version does not read
        return reasons.say(Reason.NOT_POSSIBLE, reasons.SMS)
    try:
        receipt = commands.dispatch(request, Actor(person.id, "sms"), pending.params.get("subject_id", person.id),
                                    f"sms:{sid}")
    except DomainError as exc:  # the window ended, the mandate ended, already done… since the code was sent
        return reasons.say(exc.reason, reasons.SMS)
    if isinstance(request, commands.Report):
        return _("Relais: your report is recorded. Case %(ref)s. We will look into it.",
                 ref=format_reference(receipt.reference))
    return _("Relais: done. Keep this reference: %(ref)s", ref=format_reference(receipt.reference))
