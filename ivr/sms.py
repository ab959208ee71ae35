"""SMS commands (POST /ivr/sms): read-only answers to registered numbers, state changes after a one-time code."""
import logging
import re
from dataclasses import dataclass

from babel.dates import get_month_names
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

# Twilio's own words on a long code: a message that is only one of them is Twilio's business. It answers them
# itself; after an opt-out it refuses every SMS to the number (error 21610) until an opt-in word. Relais never
# uses them as commands: it records the opt-out and writes by letter from then on.
TWILIO_OPT_OUT = frozenset({"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "optout"})
TWILIO_OPT_IN = frozenset({"start", "unstop", "yes"})


@dataclass(frozen=True)
class Phrases:
    """One phrase table: what people write for one command, comma-separated, in the catalog of each language.

    `floor`: the French phrases that always work, whatever the catalog says (a broken or older translation
    must not leave a French texter unheard); the catalog's French adds to them."""

    table: object  # () -> the catalog's comma-separated phrases, in the current locale
    floor: str = ""


# The phrase tables. Matched on the words of the text: folded (no case, no accents), apostrophes, hyphens and
# slashes as spaces, small words (FILLER) left out, at the start of the text (or after one word).
PHRASES = {
    "help": Phrases(lambda: _("help, info, menu, commands, options"), "aide, info, infos, menu, commandes, ?"),
    "history": Phrases(lambda: _("history, access history, accesses, log, who looked, who accessed, list"),
                       "historique, historique des acces, acces, hist, liste, qui a consulte, qui a regarde"),
    "emergency": Phrases(lambda: _("emergency, emergencies, emergency access, emergency settings"),
                         "urgence, urgences, acces d urgence, acces en urgence, parametres d urgence"),
    "samu": Phrases(lambda: _("samu, centre 15, 15"), "samu, le 15, centre 15, 15, quinze, regulation"),
    "break_glass": Phrases(lambda: _("break glass, breakglass, break the glass, any professional"),
                           "bris de glace, brisdeglace, bris, tout professionnel"),
    "masked": Phrases(lambda: _("hidden, hidden documents, masked, masked documents"),
                      "masques, masque, documents masques, documents caches, caches"),
    "alerts": Phrases(lambda: _("alerts, alert, notices, notifications"),
                      "alertes, alerte, notifications, avis, messages a chaque acces"),
    # one command each, longer than «alertes» alone: the style of the message at each access
    "alerts_discreet": Phrases(lambda: _("discreet alerts, alerts discreet, discreet, alerts without names"),
                               "alertes discretes, alertes discrete, alerte discrete, discret, discrete, discretes, "
                               "alertes sans nom, alertes anonymes"),
    "alerts_full": Phrases(lambda: _("full alerts, alerts full, alerts with names, detailed alerts"),
                           "alertes completes, alertes complete, alertes detaillees, alertes avec nom, "
                           "alertes avec noms"),
    "detail": Phrases(lambda: _("detail, details, who, who is it, who was it"),
                      "detail, details, qui, qui est ce, c est qui, qui c est, qui etait ce"),
    "oppose": Phrases(lambda: _("object, i object, oppose, say no, refuse"),
                      "opposer, opposition, oppose, m oppose, refuser, je refuse, dire non"),
    "close": Phrases(lambda: _("close, close my space, close my record"),
                     "fermer, fermeture, cloturer, fermer mon espace, fermer mon dossier"),
    "reopen": Phrases(lambda: _("reopen, open again"), "rouvrir, reouvrir, ouvrir, reouverture"),
    "block": Phrases(lambda: _("block, block him, block her"), "bloquer, bloque, bloquer ce professionnel"),
    "report": Phrases(lambda: _("report, unknown, not me, i do not know them"),
                      "signaler, inconnu, je ne connais pas, pas moi"),
    "helpers": Phrases(lambda: _("helpers, helper, trusted helpers"), "aidants, aidant, mes aidants"),
    "revoke": Phrases(lambda: _("remove, remove helper"), "retirer, enlever, retirer aidant, enlever aidant"),
}
# Words that switch a setting: after it («URGENCE NON», "SAMU OFF") or before it («PAS D'URGENCE», "NO SAMU").
SWITCHES = {
    "on": Phrases(lambda: _("on, yes, allow, enable, activate, 1"),
                  "oui, on, autoriser, autorise, activer, active, activee, remettre, 1"),
    "off": Phrases(lambda: _("off, no, refuse, disable, deactivate, stop, 0"),
                   "non, off, refuser, refuse, desactiver, desactive, desactivee, stop, arret, arreter, pas, plus, "
                   "aucune, aucun, sans, 0"),
}
DELETE = Phrases(lambda: _("delete, erase, delete data"), "supprimer, suppression, effacer")
FILLER = Phrases(lambda: _("the, my, a, an, to, of, please, thanks, hello, hi, i want, i would like"),
                 "le, la, les, l, de, du, d, des, au, aux, mon, ma, mes, svp, stp, merci, bonjour, je veux, "
                 "je voudrais")
# Every single word of the tables as written in the code (the English source, the French floor): word ->
# (command, language), for the tests that draw texts from them. Twilio's own words map to twilio_opt_out/in.
WORDS = {
    **{w: (name, lang) for name, phrases in {**PHRASES, **SWITCHES}.items()
       for lang, text in (("en", phrases.table()), ("fr", phrases.floor))
       for w in (p.strip() for p in text.split(",")) if w and " " not in w},
    **{w: ("twilio_opt_out", None) for w in TWILIO_OPT_OUT}, **{w: ("twilio_opt_in", None) for w in TWILIO_OPT_IN},
}
SETTINGS = {"emergency", "samu", "break_glass", "masked", "alerts"}  # what ON and OFF apply to
FOR = {"pour": "fr", "for": "en"}
STATE_CHANGES = {"oppose", "close", "reopen", "samu", "break_glass", "masked", "emergency", "block", "report",
                 "revoke"}
LANGUAGES = ("fr", "en")


def words(text: str) -> list[str]:
    """The words of a text as matched: folded, apostrophes, hyphens and slashes between words, «?» kept."""
    return re.findall(r"[a-z0-9]+|\?", fold(text))


def _listed(phrases: Phrases, language: str) -> list[tuple[str, ...]]:
    with force_locale(language):
        text = phrases.table()
    if language == "fr":
        text += "," + phrases.floor
    return [tuple(words(p)) for p in text.split(",") if words(p)]


@dataclass(frozen=True)
class Vocabulary:
    """Every phrase table read in both languages: phrase -> command -> languages it belongs to."""

    commands: dict
    switches: dict
    delete: frozenset
    filler: frozenset

    @classmethod
    def read(cls) -> "Vocabulary":
        filler = frozenset(w for lang in LANGUAGES for p in _listed(FILLER, lang) for w in p if len(p) == 1)
        phrase_filler = [p for lang in LANGUAGES for p in _listed(FILLER, lang) if len(p) > 1]

        def index(tables: dict) -> dict:
            out: dict[tuple, dict[str, set]] = {}
            for name, phrases in tables.items():
                for lang in LANGUAGES:
                    for p in _listed(phrases, lang):
                        key = _without(p, filler, phrase_filler)
                        if key:
                            out.setdefault(key, {}).setdefault(name, set()).add(lang)
            return out
        deleting = frozenset(w for lang in LANGUAGES for p in _listed(DELETE, lang) for w in p)
        return cls(index(PHRASES), index(SWITCHES), deleting, frozenset(filler | {" ".join(p) for p in phrase_filler}))

    def clean(self, text: str) -> list[str]:
        single = {w for w in self.filler if " " not in w}
        multi = [tuple(w.split()) for w in self.filler if " " in w]
        return list(_without(tuple(words(text)), single, multi))


def _without(tokens: tuple, single, multi) -> tuple:
    out, i = [], 0
    while i < len(tokens):
        skip = next((len(p) for p in multi if tokens[i:i + len(p)] == p), 0)
        if skip:
            i += skip
            continue
        if tokens[i] not in single:
            out.append(tokens[i])
        i += 1
    return tuple(out)


def _longest(tokens: list[str], table: dict, start: int = 0) -> tuple[tuple | None, dict]:
    for size in range(min(len(tokens) - start, 5), 0, -1):
        key = tuple(tokens[start:start + size])
        if key in table:
            return key, table[key]
    return None, {}


def _one(found: dict) -> tuple[str, str | None]:
    name = sorted(found)[0]
    langs = found[name]
    return name, (next(iter(langs)) if len(langs) == 1 else None)


def _switch(tokens: list[str], vocabulary: Vocabulary) -> bool | None:
    """ON or OFF among the words after a setting; an «off» wins over an «on» («oui enfin non»)."""
    seen = set()
    i = 0
    while i < len(tokens):
        key, found = _longest(tokens, vocabulary.switches, i)
        if key:
            seen |= set(found)
            i += len(key)
        else:
            i += 1
    return False if "off" in seen else True if "on" in seen else None


def parse(text: str, vocabulary: Vocabulary | None = None) -> tuple[str | None, str | None, list[str]]:
    """(command, language of the phrase or None, the words after it). A setting with ON or OFF is one command:
    «URGENCE NON» -> emergency_off, «PAS DE SAMU» -> samu_off, "ALERTS ON" -> alerts_on."""
    vocabulary = vocabulary or Vocabulary.read()
    tokens = vocabulary.clean(text)
    # «PAS D'URGENCE», "NO EMERGENCY", «DESACTIVER LE SAMU»: the switch first, then the setting
    key, found = _longest(tokens, vocabulary.switches)
    if key:
        subject, what = _longest(tokens, vocabulary.commands, len(key))
        if subject and set(what) & SETTINGS:
            name, language = _one({n: ls for n, ls in what.items() if n in SETTINGS})
            on = False if "off" in found else True
            return f"{name}_{'on' if on else 'off'}", language, tokens[len(key) + len(subject):]
    for start in (0, 1):  # the command first, or after one word («relais historique», "my history")
        if start and tokens and (tokens[0],) in vocabulary.switches:  # «ne pas fermer» is not «fermer»
            break
        key, found = _longest(tokens, vocabulary.commands, start)
        if key:
            name, language = _one(found)
            args = tokens[start + len(key):]
            if name in SETTINGS:
                on = _switch(args, vocabulary)
                if on is not None:
                    return f"{name}_{'on' if on else 'off'}", language, args
            return name, language, args
    return None, None, tokens


def twilio_word(body: str) -> str | None:
    """'opt_out' or 'opt_in' when the whole message is one of Twilio's own words, as Twilio reads it."""
    word = fold(body).strip().strip(".!")
    return "opt_out" if word in TWILIO_OPT_OUT else "opt_in" if word in TWILIO_OPT_IN else None


def understood(body: str) -> str | None:
    """The command a text reaches (Twilio's words included): what the corpus of texts checks."""
    kind = twilio_word(body)
    if kind:
        return "twilio_" + kind
    if _confirmation(_text_of(body)):
        return "confirm"
    return parse(_text_of(body))[0]


def _text_of(body: str) -> str:
    return " ".join(fold(body).replace("-", " ").split())[:320]


def _confirmation(text: str) -> tuple[str, str] | None:
    """«123456 12/03/1940», «123456, 12 03 1940», «123456 12031940», «123456 ABCD EFGH JKLM»: (code, rest)."""
    m = re.fullmatch(r"(\d{6})(?:[\s,.;:]+(.*))?", text)
    if not m:
        return None
    return m[1], _date_in_words(m[2] or "").strip().upper()


def _date_in_words(rest: str) -> str:
    """«12 mars 1940», «1er mars 1940», "12 March 1940" as «12 03 1940»; anything else as it came."""
    m = re.fullmatch(r"(\d{1,2})(?:er)?\s+([a-z]+)\.?\s+(\d{4})", rest)
    if not m:
        return rest
    for language in LANGUAGES:
        for style in ("wide", "abbreviated"):
            for number, name in get_month_names(style, locale=language).items():
                if fold(name).rstrip(".") == m[2]:
                    return f"{int(m[1]):02d} {number:02d} {m[3]}"
    return rest


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
    body = form_value("Body")
    try:
        answer = handle(person, phone, body, sid)
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


def handle(person: Person | None, phone: str | None, body: str, sid: str) -> str:
    text = _text_of(body)
    kind = twilio_word(body)
    if kind == "opt_out":
        # Twilio has answered and now refuses every SMS to this number: from now on, letters. Nothing to say
        # that Twilio would deliver, and the same empty answer whether the number is known or not.
        if phone:
            spaces.record_sms_opt_out(phone)
        return ""
    if kind == "opt_in" and phone:
        spaces.record_sms_opt_in(phone)
    vocabulary = Vocabulary.read()
    lang = person.language if person else (parse(text, vocabulary)[1] or "fr")
    with force_locale(lang):
        if person is None:
            # Nothing here says whether any number or person is registered.
            if parse(text, vocabulary)[0] == "help":
                return help_text()
            return _("Relais: we cannot answer this message from this number. For help, call 34 22.")
        if kind == "opt_in":
            return _("Relais: our messages come to you by SMS again. To get no message at each access, send "
                     "ALERTS OFF.")
        confirmation = _confirmation(text)
        if confirmation:
            return confirm(person, phone, *confirmation, sid)
        words_ = text.split()
        if words_ and words_[0] in FOR:
            subject, answer = _named(person, words_[1:2])
            if subject is None:
                return answer
            return command_for(person, subject, phone, " ".join(words_[2:]), sid, vocabulary)
        return command_for(person, person, phone, text, sid, vocabulary)


def command_for(person: Person, subject: Person, phone: str, text: str, sid: str,
                vocabulary: Vocabulary) -> str:
    """A command from `person`'s phone about `subject`: themselves, or someone they act for."""
    command, _language, args = parse(text, vocabulary)
    actor, other = Actor(person.id, "sms"), subject.id != person.id
    if command is None or command == "help":
        return help_text() if not other else help_for()
    setting, _sep, switch = command.rpartition("_") if command.endswith(("_on", "_off")) else (command, "", "")
    on = {"on": True, "off": False}.get(switch)
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
                     "To change, send e.g. EMERGENCY OFF, SAMU OFF or BREAKGLASS ON.", **values)
        if command == "helpers":
            return helpers_text(actor, subject)
        if command == "detail":
            return detail_text(actor, subject, args) if not other else \
                _("Relais: DETAIL is for the messages sent to you. For this person, send FOR, the name, HISTORY.")
        if command in ("alerts_discreet", "alerts_full"):
            if other:
                return _("Relais: ALERTS ON and ALERTS OFF are for your own messages only. Nothing was changed.")
            discreet = (command == "alerts_discreet") != (_switch(args, vocabulary) is False)  # «… NON»: the other
            commands.dispatch(commands.SetNotifications(on=True, discreet=discreet), actor, person.id, f"sms:{sid}")
            return _("Relais: your messages at each access will no longer say who. Reply DETAIL to one to know who. "
                     "To see names again: ALERTS FULL.") if discreet else \
                _("Relais: your messages at each access will say who again. For messages naming nobody: "
                  "ALERTS DISCREET.")
        if setting == "alerts":
            if other:
                return _("Relais: ALERTS ON and ALERTS OFF are for your own messages only. Nothing was changed.")
            if on is None:
                return _("Relais: send ALERTS OFF for no message at each access, ALERTS ON to get them again, "
                         "ALERTS DISCREET for messages naming nobody. Nothing was changed.")
            commands.dispatch(commands.SetNotifications(on=on), actor, person.id, f"sms:{sid}")
            if on and person.discreet_notices:
                return _("Relais: you will get a message at each access again, naming nobody. Reply DETAIL to one "
                         "to know who.")
            return _("Relais: you will get a message at each access again.") if on else \
                _("Relais: you will no longer get a message at each access. To get them again, send ALERTS ON.")
        if setting in STATE_CHANGES:
            return request_change(person, subject, phone, setting, on, args, vocabulary)
    except NotAuthorized as exc:
        return reasons.say(exc.reason, reasons.SMS)
    return help_text()


def detail_text(actor: Actor, subject: Person, args: list[str]) -> str:
    """DETAIL: who made the access a notice told of (the quoted reference's, else the last), in full."""
    quoted = "".join(a for a in args if a.isdigit())
    found = access.notice_detail(actor, subject.id, quoted if len(quoted) == 9 else None)
    if found is None:
        return _("Relais: we found no access to tell you about. To hear your history, call 34 22.")
    event, reference = found
    return messages.access_notice(subject, event, reference, discreet=False)


def _short(person: Person) -> str:
    return gsm7(f"{person.given_name} {person.family_name}")[:30]


def _named(person: Person, words_: list[str]) -> tuple[Person | None, str]:
    """The person named after POUR / FOR: by first name or by number in the list, among those represented today."""
    represented = mandates.represented_by(person.id)
    if not represented:
        return None, _("Relais: you do not act for anyone on Relais. For help, call 34 22.")
    def listing(f) -> str:
        return ", ".join(f"{i + 1} {f(r.given_name)}" for i, r in enumerate(represented))
    if not words_:
        return None, messages.fit(lambda f: _("Relais: you act for: %(list)s. Send e.g. FOR %(name)s HISTORY.",
                                              list=listing(f), name=f(fold(represented[0].given_name).upper())))
    who = words_[0]
    matches = [r for i, r in enumerate(represented)
               if who == str(i + 1) or who == fold(r.given_name).split()[0].replace("-", " ").split()[0]]
    if len(matches) != 1:
        mandates.refuse_act_for(person.id, "sms", "name")
        return None, messages.fit(lambda f: _("Relais: we did not find this name among the people you act for: "
                                              "%(list)s. Nothing was changed.", list=listing(f)))
    return identity.person(matches[0].person_id), ""


def help_for() -> str:
    return _("Relais: for someone you act for, send FOR, the first name, then HISTORY, EMERGENCY ON/OFF, "
             "SAMU ON/OFF, BREAKGLASS ON/OFF, OPPOSE or CLOSE.")


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
    return _("Relais: send HISTORY, EMERGENCY ON/OFF, SAMU ON/OFF, BREAKGLASS ON/OFF, HIDDEN ON/OFF, OPPOSE, "
             "CLOSE, REOPEN or ALERTS ON/OFF. Help: call 34 22.")


def _emergency_request(command: str, on: bool, view) -> tuple[str, commands.Command, list] | str:
    """The words and the command(s) of a switch of emergency access; «URGENCE NON» is both accesses at once."""
    if on is None:
        return _("Relais: add ON or OFF, e.g. SAMU OFF. Nothing was changed.")
    if command == "masked" and not view.emergency.masked_applies:
        return reasons.say(Reason.EMERGENCY_OFF, reasons.SMS)
    if command == "emergency":
        what = _("allow all emergency access") if on else _("refuse all emergency access")
        return what, commands.SetEmergency(setting="samu", on=on), [commands.SetEmergency("break_glass", on)]
    what = {("samu", True): _("allow access by the SAMU"), ("samu", False): _("refuse access by the SAMU"),
            ("break_glass", True): _("allow break-glass access"),
            ("break_glass", False): _("refuse break-glass access"),
            ("masked", True): _("show hidden documents in an emergency"),
            ("masked", False): _("keep hidden documents hidden")}[(command, on)]
    return what, commands.SetEmergency(setting=command, on=on), []


def request_change(person: Person, subject: Person, phone: str, command: str, on: bool | None, args: list[str],
                   vocabulary: Vocabulary) -> str:
    """Check the request is possible, then send a one-time code that confirms exactly this request."""
    view = spaces.view(Actor(person.id, "sms"), subject.id)
    also: list = []  # more commands the same code confirms, in the same order
    if command in ("emergency", "samu", "break_glass", "masked"):
        asked = _emergency_request(command, on, view)
        if isinstance(asked, str):
            return asked
        what, request, also = asked
    elif command in ("oppose", "close", "reopen") and view.refusals.get(command):
        return reasons.say(view.refusals[command], reasons.SMS)
    elif command == "oppose":
        what, request = _("say no to your health space"), commands.Oppose()
    elif command == "close":
        request = commands.Close(delete=bool(set(args) & vocabulary.delete))
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
    params = {"subject_id": subject.id, **commands.to_params(request)}
    if also:
        params["also"] = [commands.to_params(more) for more in also]
    try:
        code = one_time.issue(phone, person.id, _purpose(request), params)
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


def confirm(person: Person, phone: str, code: str, rest: str, sid: str) -> str:
    try:
        pending = one_time.redeem(phone, code, identity.second_factor(person.id, rest), purposes=set(PURPOSE.values()))
    except one_time.OtherPurpose:
        return _("Relais: this code is to sign in on the website or the phone line, where you asked for it. "
                 "Type it there. Nothing was changed.")
    if pending is None:
        return _("Relais: this code or the second answer is not right, or the code has expired. "
                 "Nothing was changed.")
    request = commands.from_params(pending.params)
    also = [commands.from_params(more) for more in pending.params.get("also", [])]
    if request is None or None in also:  # a request stored in a form this version does not read
        return reasons.say(Reason.NOT_POSSIBLE, reasons.SMS)
    subject_id = pending.params.get("subject_id", person.id)
    try:
        receipt = commands.dispatch(request, Actor(person.id, "sms"), subject_id, f"sms:{sid}")
        more = [commands.dispatch(extra, Actor(person.id, "sms"), subject_id, f"sms:{sid}:{i + 1}")
                for i, extra in enumerate(also)]
    except DomainError as exc:  # the window ended, the mandate ended, already done… since the code was sent
        return reasons.say(exc.reason, reasons.SMS)
    if isinstance(request, commands.Report):
        return _("Relais: your report is recorded. Case %(ref)s. We will look into it.",
                 ref=format_reference(receipt.reference))
    if more:
        return _("Relais: done. Keep these references: %(first)s and %(second)s",
                 first=format_reference(receipt.reference), second=format_reference(more[-1].reference))
    return _("Relais: done. Keep this reference: %(ref)s", ref=format_reference(receipt.reference))
