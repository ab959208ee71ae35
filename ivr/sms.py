"""SMS commands (POST /ivr/sms): read-only answers to registered numbers, state changes after a one-time code."""
import logging
import re
from datetime import date

from flask import Blueprint, Response, request
from flask_babel import force_locale, gettext as _
from sqlalchemy.exc import IntegrityError
from twilio.twiml.messaging_response import MessagingResponse

from app import clock, messages
from app.sealed import mask, seal, unseal
from app.text import format_reference, gsm7
from app.domain import identifiers
from app.domain.errors import InvalidIdentifier, InvalidTransition, NotAuthorized, NotFound, WindowClosed
from app.models import AccessEvent, InboundMessage, OutboxMessage, Person, ProvisionalCode, db
from app.services import Actor, access, helpers, mandates, one_time, spaces
from app.services.crypto import lookup, verify_secret
from app.services.validation import normalize_phone

from .speech import fold
from .twilio_auth import form_value, sid as twilio_id, validate_twilio_request

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


def _person(phone: str | None) -> Person | None:
    if not phone:
        return None
    return db.session.scalar(db.select(Person).where(Person.phone_lookup == lookup("phone", phone)))


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
    person = _person(phone)
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
    digits = re.sub(r"\D", "", text)
    actor, other = Actor(person.id, "sms"), subject.id != person.id
    if command is None or command == "help":
        return help_text() if not other else help_for()
    try:
        if command == "history":
            # Sent through the outbox like every message, with a reference the 34 22 can confirm.
            access.send_history(actor, subject.id, idempotency_key=f"sms:{sid}")
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
            person.notifications_enabled = command == "start"
            db.session.commit()
            return _("Relais: you will get a message at each access again.") if command == "start" else \
                _("Relais: you will no longer get a message at each access. To start again, send START.")
        if command in STATE_CHANGES:
            return request_change(person, subject, phone, command, args, digits)
    except NotAuthorized as exc:
        return refusal(exc.reason)
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
    return db.session.get(Person, matches[0].person_id), ""


def refusal(reason: str) -> str:
    if reason == "helper_limit":
        return _("Relais: a trusted helper cannot do this. Nothing was changed.")
    if reason == "minor_alone":
        return _("Relais: a legal representative must do this. Nothing was changed.")
    return _("Relais: you cannot do this for this person. Nothing was changed.")


def help_for() -> str:
    return _("Relais: for someone you act for, send FOR, the first name, then HISTORY, EMERGENCY, SAMU ON/OFF, "
             "BREAKGLASS ON/OFF, OPPOSE or CLOSE.")


def helpers_text(actor: Actor, subject: Person) -> str:
    if spaces.view(actor, subject.id).restricted == "helper_limit":
        raise NotAuthorized("helper_limit")
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


def _notified_event(person: Person, args: list[str]) -> int | None:
    """The access an answer is about: the reference it quotes, else the last one notified."""
    stmt = db.select(OutboxMessage.access_event_id).where(OutboxMessage.person_id == person.id,
                                                          OutboxMessage.access_event_id.is_not(None))
    quoted = "".join(a for a in args if a.isdigit())
    if len(quoted) == 9:
        stmt = stmt.where(OutboxMessage.reference == quoted)
    return db.session.scalar(stmt.order_by(OutboxMessage.id.desc()).limit(1))


def request_change(person: Person, subject: Person, phone: str, command: str, args: list[str], digits: str) -> str:
    """Check the request is possible, then send a one-time code that confirms exactly this request."""
    params: dict = {"subject_id": subject.id}
    view = spaces.view(Actor(person.id, "sms"), subject.id)
    if command in ("samu", "break_glass", "masked"):
        words = set(args)
        if not words & (ON | OFF):
            return _("Relais: add ON or OFF, e.g. SAMU OFF. Nothing was changed.")
        params.update(setting=command, on=bool(words & ON))
        if command == "masked" and not view.emergency.masked_applies:
            return _not_possible()
        what = {("samu", True): _("allow access by the SAMU"), ("samu", False): _("refuse access by the SAMU"),
                ("break_glass", True): _("allow break-glass access"),
                ("break_glass", False): _("refuse break-glass access"),
                ("masked", True): _("show hidden documents in an emergency"),
                ("masked", False): _("keep hidden documents hidden")}[(command, params["on"])]
        command = "emergency"
    elif command in ("oppose", "close", "reopen", "revoke") and view.restricted:
        return refusal(view.restricted)
    elif command == "oppose":
        if "oppose" not in view.actions:
            return _("Relais: it is too late to say no; you can close your space: send CLOSE.") \
                if view.state in ("notified", "active") else _not_possible()
        what = _("say no to your health space")
    elif command == "close":
        if "close" not in view.actions:
            return _not_possible()
        params["delete"] = bool(set(args) & DELETE)
        what = _("close your space, data deleted within 3 months") if params["delete"] else \
            _("close your space, data kept 10 years")
    elif command == "reopen":
        if "reopen" not in view.actions:
            return _not_possible()
        what = _("reopen your health space")
    elif command == "revoke":
        listed = helpers.helpers_of(subject.id)
        number = "".join(a for a in args if a.isdigit())
        if not number or not 0 < int(number) <= len(listed):
            return _("Relais: send REMOVE and the number of the helper, e.g. REMOVE 1. To see them: HELPERS.")
        helper, mandate = listed[int(number) - 1]
        params["mandate_id"] = mandate.id
        what = _("remove %(name)s as trusted helper", name=_short(helper))
    else:  # block, report
        event_id = _notified_event(subject, args)
        if event_id is None:
            return _("Relais: we found no access to act on. Nothing was changed.")
        params["event_id"] = event_id
        name = db.session.get(AccessEvent, event_id).professional_name
        what = (_("block %(name)s") if command == "block" else _("report the access of %(name)s")) % {
            "name": gsm7(name)[:24]}
    try:
        code = one_time.issue(phone, person.id, command, params)
    except one_time.TooManyCodes:
        return _("Relais: too many codes were asked. Try again later, or call 34 22. Nothing was changed.")

    def what_for(f) -> str:  # the person's name shortened, if need be, so the SMS stays one segment
        return what if subject.id == person.id else _("%(what)s for %(name)s", what=what, name=f(_short(subject)))
    if command == "oppose":
        return WithCode(messages.fit(lambda f: _(
            "Relais: code %(code)s to %(what)s. Reply %(code)s then the code of your letter. Valid 10 min. "
            "Never give it to anyone.", code=code, what=what_for(f))), code)
    # SMS alone is a weak factor: the date of birth is asked too, and the message says so.
    return WithCode(messages.fit(lambda f: _(
        "Relais: code %(code)s to %(what)s. Reply %(code)s then your date of birth (DDMMYYYY). Valid 10 min. "
        "Never give it to anyone.", code=code, what=what_for(f))), code)


def _not_possible() -> str:
    return _("Relais: this is not possible now. Nothing was changed.")


def _second_factor(person: Person, rest: str):
    """What the person knows besides the SMS: the letter's code to oppose (the letter of the person it is
    about: a minor's letter goes to the representative), else the sender's own date of birth."""
    def check(pending) -> bool:
        if pending.purpose == "oppose":
            subject_id = pending.params.get("subject_id", person.id)
            try:
                code = identifiers.normalize_provisional_code(rest)
            except InvalidIdentifier:
                return False
            active = db.session.scalar(db.select(ProvisionalCode).where(
                ProvisionalCode.person_id == subject_id, ProvisionalCode.used_at.is_(None),
                ProvisionalCode.voided_at.is_(None), ProvisionalCode.expires_on >= clock.today())
                .order_by(ProvisionalCode.id.desc()).limit(1))
            return verify_secret(active.code_hash if active else None, code)
        try:
            return identifiers.parse_birth_date(rest, date(9999, 1, 1)) == person.birth_date
        except InvalidIdentifier:
            return False
    return check


# What each confirmed request does: one entry per purpose an SMS can ask for (a code of any other purpose,
# such as a sign-in code asked on the web or the phone, is not used here).
CONFIRM = {
    "oppose": lambda actor, subject_id, p, key: spaces.oppose(actor, subject_id, key),
    "close": lambda actor, subject_id, p, key: spaces.close(actor, subject_id, bool(p.get("delete")), key),
    "reopen": lambda actor, subject_id, p, key: spaces.reopen(actor, subject_id, key),
    "emergency": lambda actor, subject_id, p, key: spaces.set_emergency_access(actor, subject_id, p["setting"],
                                                                               p["on"], key),
    "block": lambda actor, subject_id, p, key: access.block_professional(actor, subject_id, p["event_id"], key),
    "report": lambda actor, subject_id, p, key: access.report_access(actor, subject_id, p["event_id"], key),
    "revoke": lambda actor, subject_id, p, key: helpers.revoke_helper(actor, subject_id, p["mandate_id"], key),
}


def confirm(person: Person, phone: str, text: str, sid: str) -> str:
    code, rest = text[:6], text[6:].strip().upper()
    try:
        pending = one_time.redeem(phone, code, _second_factor(person, rest), purposes=set(CONFIRM))
    except one_time.OtherPurpose:
        return _("Relais: this code is to sign in on the website or the phone line, where you asked for it. "
                 "Type it there. Nothing was changed.")
    if pending is None:
        return _("Relais: this code or the second answer is not right, or the code has expired. "
                 "Nothing was changed.")
    actor, p, key = Actor(person.id, "sms"), pending.params, f"sms:{sid}"
    try:
        record = CONFIRM[pending.purpose](actor, p.get("subject_id", person.id), p, key)
    except (WindowClosed, InvalidTransition, NotFound):
        return _not_possible()
    except NotAuthorized as exc:  # the mandate ended between the code and the answer
        return refusal(exc.reason)
    if pending.purpose == "report":
        return _("Relais: your report is recorded. Case %(ref)s. We will look into it.",
                 ref=format_reference(record.reference))
    return _("Relais: done. Keep this reference: %(ref)s", ref=format_reference(record.reference))
