"""Writes docs/call-script.md: the 34 22 call script of ivr/script.py, as an agent would read it.

    .venv/bin/python scripts/call_script.py > docs/call-script.md
    .venv/bin/python scripts/call_script.py --write

Everything comes from the code: the steps, their order and routes from ivr/script.py STEPS, its switch steps
from SWITCHES; the sentences from each step's own `say` function (ivr/prompts.py), rendered in French then
English with the compiled catalogs of i18n/ (a sentence not translated yet shows as the catalog gives it); the
start of a call by running ivr/voice.py's `start`; the key map, the spoken commands, the timeouts, the wait for
slow callers, the read-backs and the way to an adviser by running the voice adapter (`advance`, `render`,
`dialled`, `whisper`) on a sample call; what each action of ivr/actions.py says and where it leads by running
it on the sample call, or in the few sample situations below. No database: the sample call carries sample
values, and the services the script calls (app.services: identity, spaces, agents, callbacks...) are replaced,
while it runs, by stand-ins.

A sentence that cannot be rendered (a step needing a sample value this file does not know yet) is shown as
"not rendered" and named on stderr: the structure of the document is still complete.
"""
import argparse
import copy
import inspect
import re
import sys
import xml.etree.ElementTree as ET
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from types import ModuleType, SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask import current_app  # noqa: E402
from flask_babel import force_locale, gettext  # noqa: E402

from app import create_app  # noqa: E402
from app.clock import PARIS  # noqa: E402
from app.domain.emergency import EmergencySettings  # noqa: E402
from app.domain.errors import (  # noqa: E402
    CallbackRefused,
    HelperRefused,
    IdentificationFailed,
    IdentificationLocked,
    InvalidTransition,
    NotAuthorized,
    WindowClosed,
)
from app.domain.health_space import State  # noqa: E402
from app.domain.identifiers import keypad_form  # noqa: E402
from app.domain.reasons import Reason  # noqa: E402
from app.services import callbacks as callback_service  # noqa: E402
from app.services import commands  # noqa: E402
from ivr import actions, prompts, script, voice  # noqa: E402
from ivr import call as ivr_call  # noqa: E402
from ivr.prompts import Pause  # noqa: E402

DOC = ROOT / "docs" / "call-script.md"
WARNINGS: list[str] = []
KINDS_WITH_AN_ANSWER = (script.KEY, script.NUMBER, script.YESNO, script.WAIT)  # a <Gather>: a timeout

SAMPLE_CODE = "AC3FH4K5MR6X"  # as a letter prints it: AC3F-H4K5-MR6X
SAMPLE_CALLER = "+33612345678"  # a mobile: the caller ID
SAMPLE_AGENT = "+33140000000"   # AGENT_NUMBER while the document is generated: a sample line
SAMPLE_QUEUE = "queue:conseillers"
SAMPLE_OPENING = datetime(2026, 11, 23, 8, 30, tzinfo=PARIS)  # when advisers answer again: a Monday morning
SAMPLE_HALF_DAYS = [(date(2026, 11, 23), "am"), (date(2026, 11, 23), "pm")]
SAMPLE_DATA = {"nir": "240037511200567", "serial": "80123456789", "birth": "1940-03-12",
               "code": keypad_form(SAMPLE_CODE), "reference": "123456789", "setting": "samu", "on": False,
               "delete": False, "offset": 0, "has_mobile": True, "event_id": 0, "helper_nir": "189071305512376",
               "helper_birth": "1975-05-05", "helper_name": "Nadia Benali", "helper_mandate": 7,
               "caller_mobile": True, "heard": {"step": "nir", "kind": "nir", "value": "240037511200567"},
               "slots": [[day.isoformat(), slot] for day, slot in SAMPLE_HALF_DAYS],
               "slot": [SAMPLE_HALF_DAYS[0][0].isoformat(), SAMPLE_HALF_DAYS[0][1]],
               "callback_phone": SAMPLE_CALLER}

EXPECTS = {
    script.KEY: ("une touche (ou un mot dit)", "one key (or a spoken word)"),
    script.NUMBER: ("des chiffres, puis dièse", "digits, then hash"),
    script.YESNO: ("oui ou non : une touche (ou dit)", "yes or no: one key (or said)"),
    script.WAIT: ("que l'appelant soit prêt : une touche ou un mot", "the caller to be ready: a key or a word"),
    script.DIAL: ("rien : l'appel passe à un conseiller", "nothing: the call goes to an adviser"),
    script.END: ("rien : l'appel se termine", "nothing: the call ends"),
}

# How a spoken number or code is read (Step.spoken): (French, English), and what a caller may say for it.
SPOKEN_AS = {"nir": ("un numéro de sécurité sociale", "a social security number"),
             "digits": ("des chiffres", "digits"),
             "birth": ("une date de naissance", "a date of birth"),
             "code": ("le code du courrier, caractère par caractère", "the letter's code, character by character")}
SPOKEN = {"nir": {"fr": "deux quarante zéro trois soixante-quinze cent douze zéro zéro cinq soixante-sept",
                  "en": "two forty oh three seventy-five one hundred twelve oh oh five sixty-seven"},
          "digits": {"fr": "huit zéro un deux trois quatre cinq six sept huit neuf",
                     "en": "eight oh one two three four five six seven eight nine"},
          "birth": {"fr": "douze mars mille neuf cent quarante", "en": "the twelfth of March nineteen forty"},
          "code": {"fr": "A comme Anatole, C comme Célestin, 3, F, H, 4, K, 5, M, R, 6, X",
                   "en": "A as in Alpha, C for Charlie, 3, F, H, 4, K, 5, M, R, 6, X"}}
UNCLEAR = {"fr": "euh, attendez", "en": "er, hold on"}

# What Twilio posts when a transfer ends: <Dial>'s DialCallStatus, or <Enqueue>'s QueueResult.
DIAL_RESULTS = ("completed", "busy", "no-answer", "failed", "canceled")
QUEUE_RESULTS = ("bridged", "hangup", "queue-full", "error")


# --- the sample call and its stand-ins -----------------------------------------------------------

class SampleSpace(SimpleNamespace):
    """What `spaces.view` returns, reduced to the attributes the script reads."""


def sample_space(**overrides) -> SampleSpace:
    values = dict(state=State.ACTIVE, window_ends_on=date(2026, 11, 12), deletion_due_on=date(2027, 2, 28),
                  emergency=EmergencySettings(samu=True, break_glass=True, masked=False),
                  actions=["close", "history", "emergency"], has_mobile=True, sms_blocked=False, notices="full",
                  restricted=None, refusals={},
                  given_name="Léa", family_name="Durand")
    return SampleSpace(**{**values, **overrides})


class SampleCall(ivr_call.Call):
    """A call holding sample values, whose space is a stand-in: every step can be said without a database."""

    def __init__(self, language: str, data: dict | None = None, space: dict | None = None,
                 caller: str = SAMPLE_CALLER):
        super().__init__("CA" + "0" * 32, language,
                         copy.deepcopy({"person_id": 1, **SAMPLE_DATA, **(data or {})}), 1, caller)
        self._space = sample_space(**(space or {}))

    def space(self):
        return self._space

    @property
    def actor(self):
        return SimpleNamespace(person_id=self.person_id, channel="voice", empty=self.data.get("history") == "empty")


def _event(hours_ago: int, name: str, profession: str, mode: str, reason: str | None, decision: str):
    return SimpleNamespace(id=hours_ago, occurred_at=datetime(2026, 11, 20, 13, 45) - timedelta(hours=hours_ago),
                           professional_name=name, profession=profession, mode=mode, reason=reason,
                           decision=decision)


SAMPLE_HISTORY = [
    _event(0, "Dr Claire Petit", "Médecin généraliste", "normal", None, "granted"),
    _event(26, "Dr Hugo Bernard", "Médecin régulateur", "samu", "Appel au 15, malaise", "granted"),
    _event(75, "Inès Morel", "Infirmière", "break_glass", "Patient inconscient aux urgences", "refused"),
    _event(120, "Marc Roux", "Pharmacien", "normal", None, "granted"),
    _event(200, "Dr Ana Lopes", "Cardiologue", "normal", None, "granted"),
]


SAMPLE_HELPERS = [(SimpleNamespace(given_name="Nadia", family_name="Benali"),
                   SimpleNamespace(id=7, valid_until=date(2027, 11, 24)))]


class SampleServices:
    """Stands in for every service module the script calls (identity, spaces, access, agents, callbacks...).

    Each service succeeds with a sample value, or raises `fails`; `returns` gives other values by name. Any
    service not named here is taken for an action that succeeds with a receipt. The history holds 5 sample
    accesses; a reference is unknown unless `returns` has `sent_on`. Advisers answer (`is_open`) unless
    `returns` says otherwise; the transfers the script records are kept in `transfers`.
    """

    def __init__(self, fails: Exception | None = None, **returns):
        self.fails, self.returns = fails, returns
        self.transfers: list[str] = []

    def _give(self, name: str, default):
        if self.fails is not None:
            raise self.fails
        return self.returns.get(name, default)

    def identify(self, *args, **kwargs):
        return self._give("identify", 1)

    def identify_with_sms_code(self, *args, **kwargs):
        return self._give("identify_with_sms_code", 1)

    def send_sign_in_code(self, *args, **kwargs):
        return self._give("send_sign_in_code", None)

    def sent_on(self, reference):
        return self.returns.get("sent_on")

    def act_for(self, *args, **kwargs):
        return self._give("act_for", 2)

    def helpers_of(self, *args, **kwargs):
        return self.returns.get("helpers_of", SAMPLE_HELPERS)

    # app.services.agents
    def is_open(self, *args, **kwargs):
        return self.returns.get("is_open", True)

    def next_opening(self, *args, **kwargs):
        return self.returns.get("next_opening", SAMPLE_OPENING)

    def half_days(self, at=None, count: int = 2, zone=None):
        return list(self.returns.get("half_days", SAMPLE_HALF_DAYS))[:count]

    # app.services.callbacks
    @staticmethod
    def zone_of_number(e164):  # the sample caller is in metropolitan France: Paris's time
        return None

    def record_transfer(self, actor, *, outcome: str, **kwargs):
        self.transfers.append(outcome)

    @staticmethod
    def history(actor, subject_id, page=1, per_page=3, **_):
        events = [] if getattr(actor, "empty", False) else SAMPLE_HISTORY
        pages = max(1, -(-len(events) // per_page))
        lines = [SimpleNamespace(event=e, blocked=False, report_reference=None)
                 for e in events[(page - 1) * per_page:page * per_page]]
        return SimpleNamespace(lines=lines, page=page, pages=pages, total=len(events))

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        return lambda *args, **kwargs: self._give(name, SimpleNamespace(reference=SAMPLE_DATA["reference"],
                                                                        details={"sent_by": "sms"}))


@contextmanager
def stand_ins(fails: Exception | None = None, **returns):
    """Replace, in the modules of the call script, every module of app.services by SampleServices while the
    block runs; gives the stand-in."""
    # Commands are values: the registry stays, and the services its handlers call are stood in for.
    saved = {(m, n): v for m in (ivr_call, prompts, actions, commands, voice) for n, v in vars(m).items()
             if isinstance(v, ModuleType) and v.__name__.startswith("app.services") and v is not commands}
    services = SampleServices(fails, **returns)
    for m, n in saved:
        setattr(m, n, services)
    try:
        yield services
    finally:
        for (m, n), module in saved.items():
            setattr(m, n, module)


@contextmanager
def configured(**values):
    """The app's configuration with `values` while the block runs (AGENT_NUMBER, AGENT_LANGUAGE...)."""
    saved = {k: current_app.config[k] for k in values}
    current_app.config.update(values)
    try:
        yield
    finally:
        current_app.config.update(saved)


# --- what the document shows besides each step's main rendering -----------------------------------

# Other renderings, for steps whose words depend on the call: step -> [(fr label, en label, data, space)].
VARIANTS = {
    "close_confirm": [("supprimer les données", "delete the data", {"delete": True}, {})],
    "reopen": [("sans suppression demandée", "no deletion asked", {}, {"deletion_due_on": None})],
    "emergency": [("SAMU et urgence refusés", "SAMU and emergency refused", {},
                   {"emergency": EmergencySettings(samu=False, break_glass=False, masked=False)})],
    "emergency_confirm": [(f"{setting}, {'oui' if on else 'non'}", f"{setting}, {'on' if on else 'off'}",
                           {"setting": setting, "on": on}, {})
                          for setting in ("samu", "break_glass", "masked") for on in (False, True)
                          if (setting, on) != (SAMPLE_DATA["setting"], SAMPLE_DATA["on"])],
    "menu": [("pour une autre personne", "for someone else", {"subject_id": 2, "subject_name": "Léa Durand"}, {})],
    "history": [("personne n'a consulté", "nobody looked", {"history": "empty"}, {}),
                ("les suivants", "the next ones", {"offset": 3}, {})],
    "heard": [("numéro de carte dit", "card number said",
               {"heard": {"step": "serial", "kind": "digits", "value": SAMPLE_DATA["serial"]}}, {}),
              ("date dite", "date said", {"heard": {"step": "birth", "kind": "birth", "value": "12031940"}}, {}),
              ("code dit", "code said", {"heard": {"step": "code", "kind": "code", "value": SAMPLE_CODE}}, {})],
    "fix": [("code dit", "code said", {"code_spoken": SAMPLE_CODE}, {}),
            ("code par SMS, sans courrier", "code by SMS, no letter", {"sms": True, "code": ""}, {})],
    "wait": [("les rappels suivants", "the reminders after", {"waited": 1}, {})],
    "stuck": [("d'un fixe ou d'un numéro masqué", "from a landline or a withheld number",
               {"caller_mobile": False}, {})],
    "callback": [("une seule demi-journée", "a single half-day", {"slots": SAMPLE_DATA["slots"][:1]}, {})],
}

# Answers a NUMBER step refuses, to show what the caller then hears: step -> [(typed, service failure)].
REFUSED = {
    "check_reference": [("123456789", None)],
    "nir": [("80123456789", None), ("1890713055123", None), ("189071305512377", None), ("12345", None)],
    "serial": [("189071305512376", None), ("12", None)],
    "birth": [("1234", None), ("31021990", None)],
    "code": [("12345", None)],
    "sms_code": [("123456", IdentificationFailed())],
    "history_pick": [("9", None)],
    "for_nir": [("12345", None), ("158016912345639", NotAuthorized())],
    "helper_nir": [("12345", None)],
    "helper_birth": [("1234", None)],
    "helper_pick": [("9", None)],
    "callback_phone": [("12345", None)],
}


@dataclass
class Case:
    """An action run in a sample situation."""
    action: str
    fr: str = ""
    en: str = ""
    typed: str | None = None
    data: dict = field(default_factory=dict)
    space: dict = field(default_factory=dict)
    fails: Exception | None = None
    returns: dict = field(default_factory=dict)
    caller: str = SAMPLE_CALLER
    config: dict = field(default_factory=dict)


# The situations an action is shown in, besides the plain sample call (an action without one is run on that).
ANONYMOUS = {"person_id": None}
CLOSED = {"is_open": False}
CASES = [
    Case("switch_language", "premier menu de l'appel", "first menu of the call", data={"first": True}),
    Case("switch_language", "plus tard dans l'appel", "later in the call"),
    Case("refuse", "aidant", "trusted helper", space={"restricted": Reason.HELPER_LIMIT}),
    Case("refuse", "mineur seul", "minor alone", space={"restricted": Reason.MINOR_ALONE}),
    *(Case("tell_state", f"état {state}", f"state {state}", space={"state": state}) for state in State),
    Case("accept_for_nir", "mandat en cours", "current mandate", typed=SAMPLE_DATA["nir"]),
    Case("accept_for_nir", "sans mandat ou inconnu", "no mandate or unknown", typed=SAMPLE_DATA["nir"],
         fails=NotAuthorized()),
    Case("accept_for_nir", "pour soi : 1", "for oneself: 1", typed="1"),
    Case("helper_add", "moins de 3 aidants", "fewer than 3 helpers"),
    Case("helper_remove_start", "un aidant", "one helper"),
    Case("accept_helper_nir", "numéro valable", "valid number", typed=SAMPLE_DATA["helper_nir"]),
    Case("accept_helper_birth", "date valable", "valid date", typed="05051975"),
    Case("name_helper", "fait", "done"),
    Case("name_helper", "personne ne correspond", "nobody matches", fails=HelperRefused("not_found")),
    Case("name_helper", "déjà 3 aidants", "already 3 helpers", fails=HelperRefused("too_many_helpers")),
    Case("accept_helper_pick", "aidant 1", "helper 1", typed="1"),
    Case("revoke_helper", "fait", "done"),
    Case("accept_reference", "référence connue", "known reference", typed="123456789",
         returns={"sent_on": date(2026, 11, 2)}),
    Case("accept_reference", "référence inconnue", "unknown reference", typed="123456789"),
    Case("ask_identity", "", "", data={"nir": "", "serial": "", "birth": "", "code": ""}),
    Case("accept_nir", "numéro valable", "valid number", typed=SAMPLE_DATA["nir"], data={"serial": ""}),
    Case("accept_serial", "numéro valable", "valid number", typed=SAMPLE_DATA["serial"], data={"birth": ""}),
    Case("accept_birth", "date valable", "valid date", typed="12031940", data={"code": ""}),
    Case("accept_code", "12 touches", "12 keys", typed=SAMPLE_DATA["code"]),
    Case("accept_code", "12 caractères dits, confirmés", "12 characters said, confirmed", typed=SAMPLE_CODE),
    Case("accept_code", "pas de courrier : 1", "no letter: 1", typed="1"),
    Case("identify", "reconnu", "recognised", data=ANONYMOUS),
    Case("identify", "non reconnu", "not recognised", data=ANONYMOUS, fails=IdentificationFailed()),
    Case("identify", "trop d'essais", "too many attempts", data=ANONYMOUS,
         fails=IdentificationLocked(datetime(2026, 11, 24, 14, 30))),
    Case("identify", "pas de courrier : code par SMS", "no letter: code by SMS",
         data={**ANONYMOUS, "sms": True, "code": ""}),
    Case("accept_sms_code", "code juste", "right code", typed="123456", data=ANONYMOUS),
    Case("accept_sms_code", "code faux", "wrong code", typed="123456", data=ANONYMOUS,
         fails=IdentificationFailed()),
    Case("confirm_heard", "numéro entendu, confirmé", "number heard, confirmed", data={"serial": ""}),
    Case("confirm_heard", "code entendu, confirmé", "code heard, confirmed",
         data={"heard": {"step": "code", "kind": "code", "value": SAMPLE_CODE}, "code": ""}),
    Case("hear_again", "numéro entendu", "number heard"),
    Case("fix_serial", "la carte à redonner", "the card to give again"),
    Case("resume", "après une attente à la carte", "after a wait at the card", data={"resume": "serial"}),
    Case("resume", "rien à reprendre", "nothing to resume"),
    Case("send_what_to_have", "appel d'un mobile", "call from a mobile"),
    Case("send_what_to_have", "appel d'un fixe", "call from a landline", data={"caller_mobile": False}),
    Case("agent", "heures d'ouverture", "opening hours"),
    Case("agent", "hors des heures", "out of hours", returns=CLOSED),
    Case("agent", "hors des heures, pas d'ouverture prévue", "out of hours, no opening ahead",
         returns={**CLOSED, "next_opening": None}),
    Case("agent", "aucune ligne de conseiller", "no adviser line", config={"AGENT_NUMBER": ""}),
    Case("agent", "hors des heures, aucune demi-journée", "out of hours, no half-day",
         returns={**CLOSED, "half_days": []}),
    Case("agent_missed", "personne ne répond", "nobody answers"),
    Case("callback_slot_1", "numéro de l'appelant connu", "caller ID known", data={"callback_phone": None}),
    Case("callback_slot_1", "numéro masqué", "withheld number", caller="", data={"callback_phone": None}),
    Case("callback_slot_2", "une seule demi-journée offerte", "a single half-day offered",
         data={"slots": SAMPLE_DATA["slots"][:1]}),
    Case("accept_callback_phone", "numéro valable", "valid number", typed="0612345678"),
    Case("request_callback", "fait", "done"),
    Case("request_callback", "demi-journée plus offerte", "half-day no longer offered",
         fails=CallbackRefused(Reason.SLOT_NOT_OFFERED)),
    Case("oppose", "fait", "done"),
    Case("oppose", "délai passé entre-temps", "window ended meanwhile", fails=WindowClosed()),
    Case("close", "fait", "done"),
    Case("close", "plus possible", "no longer possible", fails=InvalidTransition(State.CLOSED, "close")),
    Case("reopen", "fait", "done"),
    Case("history_more", "il en reste", "more to hear"),
    Case("history_send", "avec un mobile", "with a mobile", data={"has_mobile": True}),
    Case("history_send", "sans mobile", "without a mobile", data={"has_mobile": False},
         returns={"send_history": SimpleNamespace(reference=SAMPLE_DATA["reference"],
                                                  details={"sent_by": "letter"})}),
    Case("accept_pick", "accès 1", "access 1", typed="1"),
    Case("report", "fait", "done"),
    Case("block", "fait", "done"),
    Case("change_samu", "SAMU autorisé", "SAMU allowed"),
    Case("change_break_glass", "urgence autorisée", "emergency allowed"),
    Case("change_masked", "urgence autorisée", "emergency allowed"),
    Case("change_masked", "toute urgence refusée", "every emergency refused",
         space={"emergency": EmergencySettings(samu=False, break_glass=False)}),
    Case("set_emergency", "fait", "done"),
]


# --- rendering ------------------------------------------------------------------------------------

def sentences(items) -> list[str]:
    """A step's sentences; one said in the other language is marked with it, a pause shown as one."""
    out = []
    for item in items:
        if isinstance(item, Pause):
            out.append(f"*(pause {item.seconds} s)*")
        elif isinstance(item, tuple):
            out.append(f"*({item[1]})* {item[0]}")
        else:
            out.append(item)
    return out


def cell(lines: list[str]) -> str:
    return "<br>".join(s.replace("|", "\\|").replace("\n", " ") for s in lines) or "—"


def not_rendered(what: str, exc: Exception) -> list[str]:
    WARNINGS.append(f"{what}: {type(exc).__name__}: {exc}")
    return [f"*(non rendu / not rendered: {type(exc).__name__})*"]


def said(name: str, language: str, data: dict | None = None, space: dict | None = None) -> list[str]:
    try:
        with stand_ins(), force_locale(language):
            return sentences(script.STEPS[name].say(SampleCall(language, data, space)))
    except Exception as exc:  # noqa: BLE001 - the document stays whole; stderr names what is missing
        return not_rendered(f"step {name} ({language})", exc)


def run_action(case: Case, language: str) -> tuple[str, list[str]]:
    """Run one action on a sample call: (the next step or switch step, what is said before it)."""
    call = SampleCall(language, case.data, case.space, case.caller)
    with stand_ins(case.fails, **case.returns), configured(**case.config), force_locale(language):
        fn = actions.ACTIONS[case.action]
        nxt = fn(call, case.typed) if case.typed is not None else fn(call)
    return nxt, sentences(call.before)


def refused(name: str, language: str) -> list[str]:
    """For each refused sample answer: what the caller hears, and the step said next."""
    step = script.STEPS[name]
    out = []
    for typed, fails in REFUSED.get(name, []):
        try:
            nxt, before = run_action(Case(step.accept, typed=typed, fails=fails), language)
        except Exception as exc:  # noqa: BLE001
            out += not_rendered(f"refused input {typed} at {name} ({language})", exc)
            continue
        heard = " ".join(before) or "—"
        colon = " :" if language == "fr" else ":"
        out.append(f"`{typed}` → {target(nxt)}{colon} {heard}")
    return out


def words(step: script.Step, language: str) -> list[str]:
    if not step.words:
        return []
    with force_locale(language):
        return [f"`{key}` : {w}" if language == "fr" else f"`{key}`: {w}" for key, w in step.words().items()]


def target(name: str) -> str:
    """Where an answer leads: another step or a switch step (linked), or an action of ACTIONS."""
    if name.startswith("do:"):
        return f"action {name[3:]}"
    if name in script.SWITCHES:
        return f"[{name}](#switch-{name})"
    return f"[{name}](#step-{name})"


def _steps(names) -> str:
    return ", ".join(f"[`{n}`](#step-{n})" for n in names)


def _quote(text: str, language: str) -> str:
    return f"« {text} »" if language == "fr" else f"“{text}”"


def _quotes(lines: list[str], language: str) -> str:
    return " ".join(_quote(s, language) for s in lines)


def _first_word(words_text: str) -> str:
    return words_text.split(",")[0].strip()


# --- the TwiML a step is said with ----------------------------------------------------------------

SHOWN = {"Gather": ("input", "timeout", "numDigits", "finishOnKey", "speechTimeout"), "Dial": ("timeout",),
         "Number": ("url",), "Pause": ("length",), "Say": ("language",)}


def twiml(name: str, language: str = "fr", data: dict | None = None, caller: str = SAMPLE_CALLER,
          **config) -> ET.Element:
    """The TwiML the voice adapter answers with when the sample call is at step `name`."""
    call = SampleCall(language, data, caller=caller)
    try:
        with stand_ins(), configured(**config):
            return ET.fromstring(voice.render(call, name, 1))
    except Exception as exc:  # noqa: BLE001 - the document stays whole; stderr names what is missing
        not_rendered(f"TwiML of step {name} ({language})", exc)
        return ET.Element("Response", {"not-rendered": "1"})


def gather(name: str) -> dict[str, str]:
    """The <Gather> attributes of a step ({} for a step that waits for no answer)."""
    found = twiml(name).find("Gather")
    return dict(found.attrib) if found is not None else {}


def outline(root: ET.Element) -> str:
    """TwiML in brief: each verb with the attributes that matter to the caller, the same verbs in a row counted."""
    def node(el: ET.Element) -> str:
        if el.tag == "Say":
            return f"Say {el.get('language')}"
        if el.tag == "Pause":
            return f"Pause {el.get('length')} s"
        attrs = ", ".join(f'{k}="{el.get(k)}"' for k in SHOWN.get(el.tag, ()) if k in el.attrib)
        text = (el.text or "").strip()
        inner = _runs([node(child) for child in el])
        return el.tag + (f"({attrs})" if attrs else "") + (f" {text}" if text else "") + \
            (f"[{', '.join(inner)}]" if inner else "")
    return "`" + ", ".join(_runs([node(child) for child in root])) + "`"


def _runs(items: list[str]) -> list[str]:
    out: list[list] = []
    for item in items:
        if out and out[-1][0] == item:
            out[-1][1] += 1
        else:
            out.append([item, 1])
    return [item if n == 1 else f"{item} ×{n}" for item, n in out]


def takes_speech(name: str) -> bool:
    return "speech" in gather(name).get("input", "")


# --- the common rules, observed by running the voice adapter on a sample call ---------------------

@dataclass
class Seen:
    """One answer given to the voice adapter: at which step, where it led, what was said first, then there."""
    step: str
    nxt: str
    before: list[str]
    says: list[str]
    language: str


def walk(language: str, step: str, answers: list[tuple[str, str]], *, data: dict | None = None,
         returns: dict | None = None, config: dict | None = None, caller: str = SAMPLE_CALLER,
         first: bool = False, fails: Exception | None = None) -> tuple[list[Seen], SampleCall, SampleServices]:
    """Give the answers (digits, speech) one after the other, each to the step the call is at, as the voice
    webhook does: returns what each led to, the call after them, and the stand-in (the transfers recorded)."""
    call = SampleCall(language, data, caller=caller)
    call.data["counters"] = {}
    if first:
        call.data["first"] = True
    seen = []
    with stand_ins(fails, **(returns or {})) as services, configured(**(config or {})):
        for digits, speech in answers:
            call.before = []
            call.data["step_was"] = step
            nxt = voice.advance(call, step, digits, speech)
            call.data.pop("step_was", None)
            if nxt != "menu":
                call.data.pop("first", None)
            with force_locale(call.language):
                says = sentences(script.STEPS[nxt].say(call))
            seen.append(Seen(step, nxt, sentences(call.before), says, call.language))
            step = nxt
            if script.STEPS[nxt].expect in (script.END, script.DIAL):
                break
    return seen, call, services


def _ordinal(n: int, language: str) -> str:
    if language == "fr":
        return "1re" if n == 1 else f"{n}e"
    return {1: "1st", 2: "2nd", 3: "3rd"}.get(n, f"{n}th")


def _times(first: int, last: int, language: str) -> str:
    fr = language == "fr"
    if first == last:
        return f"{_ordinal(first, language)} fois" if fr else f"{_ordinal(first, language)} time"
    if last == first + 1:
        return (f"{_ordinal(first, language)} et {_ordinal(last, language)} fois" if fr else
                f"{_ordinal(first, language)} and {_ordinal(last, language)} time")
    return (f"{_ordinal(first, language)} à {_ordinal(last, language)} fois" if fr else
            f"{_ordinal(first, language)} to {_ordinal(last, language)} time")


def outcome(s: Seen, language: str, show_next: bool = False) -> str:
    """What one answer did, in words: what was said first, then the step again, another step, or the end."""
    fr = language == "fr"
    first = _quotes(s.before, language)
    if s.nxt == s.step and show_next and s.says:
        then = ("puis l'étape est redite : " if fr else "then the step is said again: ") + _quotes(s.says, language) \
            if s.before else ("l'étape est redite : " if fr else "the step is said again: ") + _quotes(s.says, language)
    elif s.nxt == s.step and not s.before:
        then = "l'étape est redite, telle quelle" if fr else "the step is said again, as it was"
    elif s.nxt == s.step:
        then = "puis l'étape est redite" if fr else "then the step is said again"
    elif script.STEPS[s.nxt].expect == script.END:
        then = _quotes(s.says, language) + (" et l'appel se termine" if fr else " and the call ends")
    else:
        then = f"→ {target(s.nxt)}"
        if show_next and s.says:
            then += (" : " if fr else ": ") + _quotes(s.says, language)
    return f"{first} {then}".strip()


def sequence(seen: list[Seen], language: str, show_next: bool = False) -> str:
    """Outcomes in order; the same outcome several times in a row said once, with its range."""
    texts = [(outcome(s, language, show_next), s.step) for s in seen]
    if len(texts) == 1:
        return texts[0][0] + "."
    groups: list[list] = []
    for i, (text, at) in enumerate(texts, 1):
        if groups and groups[-1][2] == (text, at):
            groups[-1][1] = i
        else:
            groups.append([i, i, (text, at)])
    colon = " :" if language == "fr" else ":"
    parts = [f"{_times(a, b, language)}{colon} {text}" for a, b, (text, _) in groups]
    return (" ; " if language == "fr" else "; ").join(parts) + "."


def _probe(test) -> str:
    return next(n for n, s in script.STEPS.items() if test(s))


def probes() -> dict[str, str]:
    """The steps the common rules are observed at: the first step of each kind with nothing special."""
    plain = _probe(lambda s: s.expect == script.KEY and not s.on_silence and not s.identifying
                   and not {"0", "*"} & set(s.routes))
    return {"key": plain,
            "yesno": _probe(lambda s: s.expect == script.YESNO and not s.identifying),
            "number": _probe(lambda s: s.expect == script.NUMBER and s.spoken and not s.identifying),
            "typed": _probe(lambda s: s.expect == script.NUMBER and not s.spoken),
            "back": _probe(lambda s: s.expect == script.NUMBER and s.spoken and s.back != "menu"),
            "identifying": next(p for p in actions.PARTS[1:] if script.STEPS[p].identifying)}


def _at(name: str) -> str:
    return f"[`{name}`](#step-{name})"


def common_rules() -> list[tuple[str, str, str]]:
    """(key or rule, French, English) as the voice adapter behaves, observed on plain steps."""
    p = probes()
    probe = p["key"]
    wrong_key = next(k for k in "7568" if k not in script.STEPS[probe].routes)
    star_routed = [n for n, s in script.STEPS.items() if "*" in s.routes and s.expect != script.WAIT]
    zero_routed = [n for n, s in script.STEPS.items() if "0" in s.routes]
    silence_routed = [n for n, s in script.STEPS.items() if s.on_silence]
    identifying = [n for n, s in script.STEPS.items() if s.identifying and not s.on_silence]
    waiting = [n for n, s in script.STEPS.items() if s.expect == script.WAIT]
    keys_only = [n for n, s in script.STEPS.items() if s.expect in KINDS_WITH_AN_ANSWER and not takes_speech(n)]
    key_gather, number_gather = gather(probe), gather(p["typed"])
    timeouts = {kind: next((gather(n).get("timeout") for n, s in script.STEPS.items() if s.expect == kind), None)
                for kind in KINDS_WITH_AN_ANSWER}
    speech_end = gather(p["number"]).get("speechTimeout")
    ring = twiml(_probe(lambda s: s.expect == script.DIAL)).find("Dial")
    rows: dict[str, list[str]] = {}
    for language in ("fr", "en"):
        fr = language == "fr"
        q = lambda text: _quote(text, language)  # noqa: E731
        with force_locale(language):
            repeat, help_words, agent_words = prompts.REPEAT_WORDS(), prompts.HELP_WORDS(), prompts.AGENT_WORDS()
            back_words = prompts.BACK_WORDS()
            sorry = gettext("Sorry, something went wrong. Nothing was changed.")
        star = walk(language, probe, [("*", "")])[0]
        helps = {kind: walk(language, p[kind], [("0", "")])[0][0] for kind in ("key", "yesno", "number", "typed")}
        agent_open = walk(language, probe, [("0", ""), ("0", "")])[0]
        agent_closed = walk(language, probe, [("0", ""), ("0", "")], returns={"is_open": False})[0]
        menu_twice = walk(language, "menu", [("0", ""), ("0", "")])[0]
        nine = walk(language, probe, [("9", "")])[0]
        nine_yesno = walk(language, p["yesno"], [("9", "")])[0]
        two_yesno = walk(language, p["yesno"], [("2", "")])[0]
        back_number = walk(language, p["back"], [("", _first_word(back_words))])[0]
        silences = walk(language, probe, [("", "")] * 6)[0]
        wrong = walk(language, probe, [(wrong_key, "")] * voice.MAX_WRONG * 2)[0]
        with force_locale(language):
            help_text = prompts.help_text()
        upto = next((i for i, s in enumerate(wrong, 1) if help_text in s.before), len(wrong))
        bad = REFUSED["code"][0][0]
        refusals = walk(language, "code", [(bad, "")] * (voice.MAX_WRONG + 1))[0]
        kinds = {"key": ("à un choix", "at a choice"), "yesno": ("à une confirmation", "at a confirmation"),
                 "number": ("à un nombre tapé ou dit", "at a number typed or said"),
                 "typed": ("à un nombre seulement tapé", "at a number only typed")}
        help_parts = [f"{kinds[k][0 if fr else 1]} ({_at(p[k])}) : {outcome(s, language)}" if fr else
                      f"{kinds[k][1]} ({_at(p[k])}): {outcome(s, language)}" for k, s in helps.items()]
        if fr:
            rows.setdefault("`*`", []).append(
                f"Étoile, ou dire {q(repeat)} — {sequence(star, language)}"
                + (f" Sauf à {_steps(star_routed)}, où étoile a sa propre suite." if star_routed else ""))
            rows.setdefault("`0`", []).append(
                f"0, ou dire {q(help_words)} — l'aide de l'étape, qui ne nomme que ce qu'elle accepte : "
                + " ; ".join(help_parts) + "."
                + (f" Sauf à {_steps(zero_routed)}, où 0 a sa propre suite (voir l'étape)." if zero_routed else ""))
            rows.setdefault("`0` `0`", []).append(
                f"0 puis 0 encore juste après l'aide, ou dire {q(agent_words)} — un conseiller. Pendant les heures "
                f"d'ouverture : {sequence(agent_open, language, show_next=True)} Hors des heures : "
                f"{outcome(agent_closed[-1], language, show_next=True)}. Au menu principal, 0 0 mène aussi à un "
                f"conseiller : {sequence(menu_twice, language)} Voir « Un conseiller ».")
            rows.setdefault("`9`", []).append(
                f"9, ou dire {q(back_words)} — retour. Là où 9 est une réponse de l'étape, il en suit la route, "
                f"par exemple à {_at(probe)} : {outcome(nine[0], language)}. Dans une confirmation, 9 annule, "
                f"par exemple à {_at(p['yesno'])} : {outcome(nine_yesno[0], language)} ; 2, l'ancien « non », "
                f"aussi : {outcome(two_yesno[0], language)}. Pendant un nombre, 9 est un chiffre : dire "
                f"{q(_first_word(back_words))} revient à l'étape d'avant, par exemple à {_at(p['back'])} : "
                f"{outcome(back_number[0], language)} (chaque étape dit où mène son retour).")
            rows.setdefault("`#`", []).append(
                f"Dièse termine un nombre (`finishOnKey=\"{number_gather.get('finishOnKey')}\"`) ; sans dièse, "
                f"ce qui est tapé est pris après {number_gather.get('timeout')} s sans touche. Un choix d'un "
                f"chiffre est pris dès la touche (`numDigits=\"{key_gather.get('numDigits')}\"`), sans dièse.")
            rows.setdefault("silence", []).append(
                f"Silence jusqu'à la fin du délai de l'étape, plusieurs fois de suite — {sequence(silences, language)}"
                f" Sauf à {_steps(identifying)}, où le silence donne du temps (voir « Le temps des appelants "
                f"lents »), et à {_steps(silence_routed)}, où il mène plus loin.")
            rows.setdefault("erreur / wrong key", []).append(
                f"Touche ou mot sans suite, par exemple `{wrong_key}` — {sequence(wrong[:upto], language)} "
                f"Le compte repart alors de zéro, et à chaque changement d'étape. Sauf à {_steps(waiting)}, "
                "où toute touche reprend.")
            rows.setdefault("nombres / numbers", []).append(
                f"Un nombre se tape chiffre par chiffre. Saisie refusée plusieurs fois de suite, par exemple "
                f"`{bad}` à l'étape [`code`](#step-code) — {sequence(refusals, language)}")
            rows.setdefault("délais / timeouts", []).append(
                f"Un choix ou une confirmation attend {timeouts[script.KEY]} s ; un nombre {timeouts[script.NUMBER]} s "
                f"entre deux touches, et une réponse dite finit après {speech_end} s sans parole ; l'attente "
                f"{_steps(waiting)} {timeouts[script.WAIT]} s à chaque rappel ; la ligne d'un conseiller sonne "
                f"{ring.get('timeout') if ring is not None else '—'} s (`AGENT_RING_SECONDS`).")
            rows.setdefault("parole / speech", []).append(
                "Chaque étape écoute aussi la parole (`input=\"dtmf speech\"`), sauf "
                f"{_steps(keys_only) or '—'}, qui ne prennent que les touches. Voir « Commandes dites ».")
            rows.setdefault("incident / fault", []).append(
                f"Incident du serveur : {q(sorry)}, puis le menu principal. Un webhook rejoué par Twilio reçoit "
                "la même réponse : rien n'est fait deux fois.")
        else:
            rows["`*`"].append(
                f"Star, or saying {q(repeat)} — {sequence(star, language)}"
                + (f" Except at {_steps(star_routed)}, where star has its own route." if star_routed else ""))
            rows["`0`"].append(
                f"0, or saying {q(help_words)} — the step's help, naming only what the step takes: "
                + "; ".join(help_parts) + "."
                + (f" Except at {_steps(zero_routed)}, where 0 has its own route (see the step)." if zero_routed
                   else ""))
            rows["`0` `0`"].append(
                f"0, then 0 again right after the help, or saying {q(agent_words)} — an adviser. During opening "
                f"hours: {sequence(agent_open, language, show_next=True)} Out of hours: "
                f"{outcome(agent_closed[-1], language, show_next=True)}. At the main menu, 0 0 leads to an adviser "
                f"too: {sequence(menu_twice, language)} See “An adviser”.")
            rows["`9`"].append(
                f"9, or saying {q(back_words)} — back. Where 9 is one of the step's answers, it takes its route, "
                f"for example at {_at(probe)}: {outcome(nine[0], language)}. In a confirmation, 9 cancels, for "
                f"example at {_at(p['yesno'])}: {outcome(nine_yesno[0], language)}; 2, the old “no”, too: "
                f"{outcome(two_yesno[0], language)}. While typing a number, 9 is a digit: saying "
                f"{q(_first_word(back_words))} goes to the step before, for example at {_at(p['back'])}: "
                f"{outcome(back_number[0], language)} (each step says where its back leads).")
            rows["`#`"].append(
                f"Hash ends a number (`finishOnKey=\"{number_gather.get('finishOnKey')}\"`); without hash, what was "
                f"typed is taken after {number_gather.get('timeout')} s without a key. A one-digit choice is taken "
                f"at the key (`numDigits=\"{key_gather.get('numDigits')}\"`), without hash.")
            rows["silence"].append(
                f"Silence until the step's timeout, several times in a row — {sequence(silences, language)} "
                f"Except at {_steps(identifying)}, where silence gives time (see “Time for slow callers”), and at "
                f"{_steps(silence_routed)}, where it goes on.")
            rows["erreur / wrong key"].append(
                f"A key or word that leads nowhere, for example `{wrong_key}` — "
                f"{sequence(wrong[:upto], language)} The count then starts again, and at each new step. "
                f"Except at {_steps(waiting)}, where any key resumes.")
            rows["nombres / numbers"].append(
                f"A number is typed digit by digit. The same number refused several times in a row, for example "
                f"`{bad}` at step [`code`](#step-code) — {sequence(refusals, language)}")
            rows["délais / timeouts"].append(
                f"A choice or a confirmation waits {timeouts[script.KEY]} s; a number {timeouts[script.NUMBER]} s "
                f"between two keys, and a spoken answer ends after {speech_end} s without speech; the wait "
                f"{_steps(waiting)} {timeouts[script.WAIT]} s for each reminder; an adviser's line rings "
                f"{ring.get('timeout') if ring is not None else '—'} s (`AGENT_RING_SECONDS`).")
            rows["parole / speech"].append(
                "Every step listens to speech too (`input=\"dtmf speech\"`), except "
                f"{_steps(keys_only) or '—'}, which take keys only. See “Spoken commands”.")
            rows["incident / fault"].append(
                f"Server fault: {q(sorry)}, then the main menu. A webhook Twilio retries gets the same answer: "
                "nothing is done twice.")
    return [(name, fr_text, en_text) for name, (fr_text, en_text) in rows.items()]


def spoken_commands() -> list[tuple[str, str, str]]:
    """(command, French, English): each generic command of ETSI ES 202 076 (voice.GENERIC), its words, and
    what saying the first of them does at a plain step."""
    probe = probes()["key"]
    out = []
    for key, words_of in voice.GENERIC:
        cells = []
        for language in ("fr", "en"):
            with force_locale(language):
                listed = words_of()
            seen = walk(language, probe, [("", _first_word(listed))])[0]
            effect = outcome(seen[0], language, show_next=seen[0].nxt != seen[0].step)
            where = f"à {_at(probe)}" if language == "fr" else f"at {_at(probe)}"
            cells.append(f"{_quote(listed, language)} — {where} : {effect}." if language == "fr" else
                         f"{_quote(listed, language)} — {where}: {effect}.")
        out.append((f"`{key}`", *cells))
    return out


# --- the start of a call --------------------------------------------------------------------------

def start_section() -> list[str]:
    rows: dict[str, list[str]] = {}
    outlines = []
    for language in ("fr", "en"):
        fr = language == "fr"
        call = SampleCall(language, caller=SAMPLE_CALLER)
        with stand_ins(), force_locale(language):
            first = voice.start(call)
            heard_first = sentences([*call.before, *script.STEPS[first].say(call)])
            outlines.append(outline(ET.fromstring(voice.render(call, first, 1))))
        with force_locale(language):
            other = _first_word(script.STEPS[first].words().get("9", "")) if script.STEPS[first].words else ""
        nine = walk(language, first, [("9", "")], first=True)[0][0]
        spoken = walk(language, first, [("", other)], first=True)[0][0] if other else None
        later = walk(language, first, [("9", "")])[0][0]
        rows.setdefault("dit dès la première seconde / said from the first second", []).append(
            cell([*heard_first, f"→ {target(first)}"]))
        def switched(s: Seen) -> str:
            return (f"→ {target(s.nxt)}, en `{s.language}` : " if fr else
                    f"→ {target(s.nxt)}, in `{s.language}`: ") + _quotes(s.says, s.language)
        rows.setdefault("`9` au premier menu / `9` at the first menu", []).append(
            cell([switched(nine)] + ([f"Dire {_quote(other, language)} : {switched(spoken)}" if fr else
                                      f"Saying {_quote(other, language)}: {switched(spoken)}"] if spoken else [])))
        rows.setdefault("`9` plus tard / `9` later", []).append(cell([outcome(later, language) + "."]))
    rows["TwiML"] = outlines
    out = ["## Début de l'appel — Start of the call", "",
           "Un appel commence en français : l'accueil, l'anglais offert dans sa propre voix, puis le menu principal "
           "aussitôt, dans la même attente de réponse : une touche ou un mot peut l'interrompre, sans silence "
           "avant le menu. A call begins in French: the welcome, English offered in its own voice, then the main "
           "menu at once, in the same wait for an answer: a key or a word may cut in, with no dead air before "
           "the menu.", "",
           "| | Français | English |", "| --- | --- | --- |"]
    out += [f"| {name} | {fr_cell} | {en_cell} |" for name, (fr_cell, en_cell) in rows.items()]
    return out + [""]


# --- the wait for slow callers --------------------------------------------------------------------

def slow_section() -> list[str]:
    part = probes()["identifying"]
    waiting = next(n for n, s in script.STEPS.items() if s.expect == script.WAIT)
    identifying = [n for n, s in script.STEPS.items() if s.identifying and not s.on_silence]
    later = {p: "" for p in actions.PARTS[actions.PARTS.index(part):]}
    reminders = actions.WAIT_SILENCES
    rows: dict[str, list[str]] = {}
    for language in ("fr", "en"):
        fr = language == "fr"
        ask = next(c for c in CASES if c.action == "ask_identity")
        nxt, before = run_action(ask, language)
        rows.setdefault("avant la première question / before the first question", []).append(
            f"{' '.join(before)} → {target(nxt)}")
        silences = walk(language, part, [("", "")] * (reminders + 6), data=later)[0]
        ready = walk(language, part, [("", ""), ("*", "")], data=later)
        with force_locale(language):
            ready_words = prompts.READY_WORDS()
        said_ready = walk(language, part, [("", ""), ("", _first_word(ready_words))], data=later)[0]
        kept = [p for p in actions.PARTS if ready[1].data.get(p)]
        rows.setdefault(f"silence à / at {', '.join(f'`{n}`' for n in identifying)}", []).append(
            (f"Le silence ne raccroche pas, il donne du temps. Par exemple à {_at(part)} — " if fr else
             f"Silence does not hang up, it gives time. For example at {_at(part)} — ")
            + sequence(silences, language, show_next=True))
        rows.setdefault(f"`*` à / at `{waiting}`", []).append(
            (f"Étoile, ou dire {_quote(ready_words, language)}, ou toute touche : {outcome(ready[0][-1], language)}"
             f" (dire {_quote(_first_word(ready_words), language)} : {outcome(said_ready[-1], language)}) ; "
             f"ce qui était accepté est gardé ({', '.join(f'`{k}`' for k in kept)}) et n'est pas redemandé."
             if fr else
             f"Star, or saying {_quote(ready_words, language)}, or any key: {outcome(ready[0][-1], language)} "
             f"(saying {_quote(_first_word(ready_words), language)}: {outcome(said_ready[-1], language)}); what was "
             f"accepted is kept ({', '.join(f'`{k}`' for k in kept)}) and not asked again."))
        stuck = next((s.nxt for s in silences if s.nxt not in (part, waiting)), None)
        if stuck:
            offers = [f"`{key}`{' :' if fr else ':'} "
                      f"{outcome(walk(language, stuck, [(key, '')], data=later)[0][0], language, True)}"
                      for key in script.STEPS[stuck].routes]
            rows.setdefault(f"les offres de / the offers of `{stuck}`", []).append(cell(offers))
        rows.setdefault("temps / time", []).append(
            f"{script.STEPS[part].timeout} s entre deux touches d'un nombre ; puis {reminders} rappels de "
            f"{script.STEPS[waiting].timeout} s ({reminders * script.STEPS[waiting].timeout} s) avant les offres."
            if fr else
            f"{script.STEPS[part].timeout} s between two keys of a number; then {reminders} reminders of "
            f"{script.STEPS[waiting].timeout} s ({reminders * script.STEPS[waiting].timeout} s) before the offers.")
    out = ["## Le temps des appelants lents — Time for slow callers", "",
           "| | Français | English |", "| --- | --- | --- |"]
    out += [f"| {name} | {fr_cell} | {en_cell} |" for name, (fr_cell, en_cell) in rows.items()]
    return out + [""]


# --- read-backs -----------------------------------------------------------------------------------

def readback_section() -> list[str]:
    heard_step = next(n for n, s in script.STEPS.items() if s.expect == script.YESNO and s.identifying)
    by_kind: dict[str, list[str]] = {}
    for name, step in script.STEPS.items():
        if step.spoken:
            by_kind.setdefault(step.spoken, []).append(name)
    out = ["## Relectures — Read-backs", "",
           "Ce qui est dit est relu, pour que l'appelant le vérifie (la reconnaissance peut se tromper) ; ce qui est "
           "tapé ne l'est pas, sauf quand la vérification échoue. What is said is read back, for the caller to check "
           "it (recognition can err); what is typed is not, unless the check fails.", "",
           "| dit / said | étapes / steps | Français | English |", "| --- | --- | --- | --- |"]
    for kind, names in by_kind.items():
        if kind not in SPOKEN:
            WARNINGS.append(f"read-back of a spoken {kind}: no sample utterance in SPOKEN")
            out.append(f"| `{kind}` | {_steps(names)} | *(non rendu / not rendered)* | *(not rendered)* |")
            continue
        first = next((n for n in names if script.STEPS[n].identifying), names[0])
        data = {p: "" for p in actions.PARTS[actions.PARTS.index(first):]} if first in actions.PARTS else {}
        cells = []
        for language in ("fr", "en"):
            fr = language == "fr"
            utterance = SPOKEN[kind][language]
            try:
                seen = walk(language, first, [("", utterance)], data={**data, "goal": "change"})[0][0]
                yes = walk(language, first, [("", utterance), ("1", "")], data={**data, "goal": "change"})[0][-1]
                again = walk(language, first, [("", utterance), ("9", "")], data=data)[0][-1]
                unclear = walk(language, first, [("", UNCLEAR[language])], data=data)[0][0]
            except Exception as exc:  # noqa: BLE001
                cells.append(cell(not_rendered(f"read-back of {kind} at {first} ({language})", exc)))
                continue
            cells.append(cell([
                f"{'à' if fr else 'at'} {_at(first)}, {_quote(utterance, language)} : "
                f"{outcome(seen, language, show_next=True)}" if fr else
                f"at {_at(first)}, {_quote(utterance, language)}: {outcome(seen, language, show_next=True)}",
                f"`1` : {outcome(yes, language)}" if fr else f"`1`: {outcome(yes, language)}",
                f"`9` : {outcome(again, language)}" if fr else f"`9`: {outcome(again, language)}",
                (f"{_quote(UNCLEAR[language], language)} : " if fr else f"{_quote(UNCLEAR[language], language)}: ")
                + outcome(unclear, language)]))
        label = " / ".join(SPOKEN_AS.get(kind, (kind, kind)))
        out.append(f"| {label} (`{kind}`) | {_steps(names)} | {cells[0]} | {cells[1]} |")
    # Typed: no read-back, unless the check fails; then each part is read back and only the wrong one given again.
    rows = []
    for language in ("fr", "en"):
        fr = language == "fr"
        nxt, before = run_action(Case("accept_nir", typed=SAMPLE_DATA["nir"], data={"serial": ""}), language)
        typed = (f"{_at('nir')}, `{SAMPLE_DATA['nir']}#` : {_quotes(before, language) or 'sans relecture'} → "
                 f"{target(nxt)}" if fr else
                 f"{_at('nir')}, `{SAMPLE_DATA['nir']}#`: {_quotes(before, language) or 'no read-back'} → "
                 f"{target(nxt)}")
        nxt, before = run_action(Case("identify", data=ANONYMOUS, fails=IdentificationFailed()), language)
        fix = f"{_quotes(before, language)} → {target(nxt)} : {_quotes(said(nxt, language), language)}" if fr else \
            f"{_quotes(before, language)} → {target(nxt)}: {_quotes(said(nxt, language), language)}"
        again = [f"`{key}` : {outcome(walk(language, nxt, [(key, '')])[0][0], language)}" if fr else
                 f"`{key}`: {outcome(walk(language, nxt, [(key, '')])[0][0], language)}"
                 for key in script.STEPS[nxt].routes] if nxt in script.STEPS else []
        redo, _ = run_action(Case("accept_serial", typed=SAMPLE_DATA["serial"]), language)
        rows.append(([typed], [fix, *again, (f"puis, la partie redonnée : → {target(redo)}, sans redemander les "
                                            "autres" if fr else
                                            f"then, the part given again: → {target(redo)}, without asking the "
                                            "others again")]))
    out.append(f"| tapé / typed | {_at('nir')}, … | {cell(rows[0][0])} | {cell(rows[1][0])} |")
    out.append(f"| ne correspond pas / does not match | {_at('fix')} | {cell(rows[0][1])} | {cell(rows[1][1])} |")
    if heard_step != "heard":
        WARNINGS.append(f"read-backs: the read-back step is {heard_step}, not heard")
    return out + [""]


# --- an adviser -----------------------------------------------------------------------------------

SAMPLE_DESK_CODE = "482917"  # the one-time code a whisper gives the adviser for the desk (app/services/cases.py)


def whisper(goal: str | None, identified: bool, language: str) -> list[str]:
    """What voice.whisper tells the adviser about a call in this state, in `language` (AGENT_LANGUAGE)."""
    state = SimpleNamespace(data={"goal": goal, **({"person_id": 1} if identified else {"person_id": None})})
    saved = voice.db, voice.cases
    voice.db = SimpleNamespace(session=SimpleNamespace(get=lambda model, key: state))
    voice.cases = SimpleNamespace(transfer_code=lambda person_id, goal: SAMPLE_DESK_CODE)
    try:
        with configured(AGENT_LANGUAGE=language), current_app.test_request_context(
                "/ivr/whisper", method="POST", data={"ParentCallSid": "CA" + "0" * 32}):
            response = inspect.unwrap(voice.whisper)()
    finally:
        voice.db, voice.cases = saved
    return [el.text or "" for el in ET.fromstring(response.get_data(as_text=True)).iter("Say")]


def dialled(status: str, language: str) -> tuple[str, list[str], list[str]]:
    """Where the call goes when the transfer ends with `status`: (step, said first, transfers recorded)."""
    call = SampleCall(language, {"goal": "change"})
    with stand_ins() as services, force_locale(language):
        nxt = voice.dialled(call, status)
    return nxt, sentences(call.before), services.transfers


def dial_groups(language: str) -> list[tuple[list[str], str, list[str], list[str]]]:
    """The statuses Twilio posts after a transfer, grouped by where they lead: (statuses, step, said, audit)."""
    groups: dict[tuple, list[str]] = {}
    for status in (*DIAL_RESULTS, *QUEUE_RESULTS):
        nxt, before, transfers = dialled(status, language)
        groups.setdefault((nxt, tuple(before), tuple(transfers)), []).append(status)
    return [(statuses, nxt, list(before), list(transfers)) for (nxt, before, transfers), statuses in groups.items()]


def adviser_section() -> list[str]:
    config = current_app.config
    dial_step = next(n for n, s in script.STEPS.items() if s.expect == script.DIAL)
    probe = probes()["key"]
    reached = [(n, key) for n, s in script.STEPS.items() for key, to in s.routes.items() if to == "do:agent"]
    rows: dict[str, list[str]] = {}
    for language in ("fr", "en"):
        fr = language == "fr"
        with force_locale(language):
            agent_words = prompts.AGENT_WORDS()
        open_ = walk(language, probe, [("", _first_word(agent_words))])
        closed = walk(language, probe, [("", _first_word(agent_words))], returns={"is_open": False})
        none = walk(language, probe, [("", _first_word(agent_words))], config={"AGENT_NUMBER": ""})
        audit = "journal" if fr else "audit"

        def said_with(w) -> str:
            seen, _, services = w
            colon = " :" if fr else ":"
            return f"{sequence(seen, language, show_next=True)[:-1]} ({audit}{colon} " \
                f"{', '.join(services.transfers) or '—'})."
        also = ", ".join(f"`{key}` {'à' if fr else 'at'} {_at(n)}" for n, key in reached)
        rows.setdefault("demander / asking", []).append(
            f"À toute étape : 0 0, ou dire {_quote(agent_words, language)} (voir « Touches »). Aussi {also}." if fr
            else f"At any step: 0 0, or saying {_quote(agent_words, language)} (see “Keys”). Also {also}.")
        rows.setdefault("pendant les heures / during opening hours", []).append(said_with(open_))
        rows.setdefault("TwiML", []).append(
            f"{outline(twiml(dial_step, language))} ; {'file Twilio' if fr else 'a Twilio queue'} "
            f"(`AGENT_NUMBER={SAMPLE_QUEUE}`) : {outline(twiml(dial_step, language, AGENT_NUMBER=SAMPLE_QUEUE))}"
            if fr else
            f"{outline(twiml(dial_step, language))}; a Twilio queue (`AGENT_NUMBER={SAMPLE_QUEUE}`): "
            f"{outline(twiml(dial_step, language, AGENT_NUMBER=SAMPLE_QUEUE))}")
        ends = []
        colon = " :" if fr else ":"
        for statuses, nxt, before, transfers in dial_groups(language):
            seen = Seen("transfer", nxt, before, said(nxt, language), language)
            ends.append(f"{', '.join(f'`{s}`' for s in statuses)}{colon} {outcome(seen, language, show_next=True)}"
                        f" ({audit}{colon} {', '.join(transfers) or '—'})")
        rows.setdefault("fin du transfert / the transfer ends", []).append(cell(ends))
        rows.setdefault("hors des heures / out of hours", []).append(said_with(closed))
        rows.setdefault("aucune ligne / no adviser line (`AGENT_NUMBER` vide / empty)", []).append(said_with(none))
        booked = walk(language, "callback", [("1", ""), ("1", "")], data={"callback_phone": None})[0]
        withheld = walk(language, "callback", [("1", ""), ("0612345678", ""), ("1", "")],
                        data={"callback_phone": None}, caller="")[0]
        other = walk(language, "callback", [("1", ""), ("2", ""), ("0145678901", ""), ("1", "")],
                     data={"callback_phone": None})[0]
        rows.setdefault("rappel / callback", []).append(cell([
            ("Numéro de l'appelant : " if fr else "Caller ID: ") + sequence(booked, language, show_next=True),
            ("Numéro masqué : " if fr else "Withheld number: ") + sequence(withheld, language, show_next=True),
            ("Un autre numéro : " if fr else "Another number: ") + sequence(other, language, show_next=True),
            ("Le rappel est enregistré (`app/services/callbacks.request`), confirmé par SMS quand le numéro est un "
             "mobile, et listé pour les conseillers par `flask --app app callbacks list`." if fr else
             "The callback is stored (`app/services/callbacks.request`), confirmed by SMS when the number is a "
             "mobile, and listed for advisers by `flask --app app callbacks list`.")]))
    out = ["## Un conseiller — An adviser", "",
           f"Heures d'ouverture / opening hours `OPENING_HOURS` = `{config['OPENING_HOURS']}` (Europe/Paris) ; "
           f"ligne / line `AGENT_NUMBER` = `{SAMPLE_AGENT}` (exemple / sample) ; sonnerie / ringing "
           f"`AGENT_RING_SECONDS` = {config['AGENT_RING_SECONDS']} s ; chuchotement en / whisper in "
           f"`AGENT_LANGUAGE` = `{config['AGENT_LANGUAGE']}`.", "",
           "| | Français | English |", "| --- | --- | --- |"]
    out += [f"| {name} | {fr_cell} | {en_cell} |" for name, (fr_cell, en_cell) in rows.items()]
    out += ["", "Le chuchotement : ce que le conseiller entend avant que l'appel lui soit passé, en une phrase, jamais "
            "un numéro ni un code de la personne (`/ivr/whisper`) ; pour un appelant identifié, puis un code à usage "
            "unique pour le guichet (`/desk`), qui ouvre le dossier avec la personne identifiée. The whisper: what "
            "the adviser hears before the call is put through, in one sentence, never a number or a code of the "
            "person; for an identified caller, then a one-time code for the desk (`/desk`), which opens the case "
            "with the person identified.", "",
            "| ce que faisait l'appelant / what the caller was doing | identifié / identified | "
            "`AGENT_LANGUAGE=fr` | `AGENT_LANGUAGE=en` |", "| --- | --- | --- | --- |"]
    for goal in callback_service.GOALS:
        for identified in (True, False):
            cells = []
            for language in ("fr", "en"):
                try:
                    cells.append(cell(whisper(goal, identified, language)))
                except Exception as exc:  # noqa: BLE001
                    cells.append(cell(not_rendered(f"whisper for {goal} ({language})", exc)))
            out.append(f"| `{goal or '—'}` | {'oui / yes' if identified else 'non / no'} | {cells[0]} | {cells[1]} |")
    return out + [""]


# --- each step's answers ----------------------------------------------------------------------------

def routes(name: str, step: script.Step) -> list[str]:
    """Where each answer of the step leads: its keys, a number, silence, back, and what a transfer ends with."""
    try:
        return _routes(name, step)
    except Exception as exc:  # noqa: BLE001 - the document stays whole; stderr names what is missing
        return not_rendered(f"answers of step {name}", exc)


def _routes(name: str, step: script.Step) -> list[str]:
    out = [f"`{key}` → {target(to)}" for key, to in step.routes.items()]
    if step.accept:
        out.append(f"chiffres + # / digits + # → action {step.accept}")
    if step.spoken:
        out.append(f"nombre dit / number said → {target('heard')}")
    if step.on_silence:
        out.append(f"silence → {target(step.on_silence)}")
    elif step.identifying:
        nxt = walk("fr", name, [("", "")])[0][0].nxt
        out.append(f"silence → {target(nxt)}")
    if step.expect == script.WAIT:
        star = walk("fr", name, [("*", "")], data={"resume": "serial"})[0][0].nxt
        other = walk("fr", name, [("7", "")], data={"resume": "serial"})[0][0].nxt
        if "*" in step.routes and other == star:
            out.append(f"autre touche ou mot / any other key or word → {target(step.routes['*'])}")
        else:
            out.append(f"autre touche ou mot / any other key or word → {target(other)}")
        silences = walk("fr", name, [("", "")] * (actions.WAIT_SILENCES + 1))[0]
        last = next((i for i, s in enumerate(silences, 1) if s.nxt != name), None)
        out.append(f"silence → {target(name)}"
                   + (f" ; {_ordinal(last, 'fr')} silence / silence {last} → {target(silences[last - 1].nxt)}"
                      if last else ""))
    elif step.expect == script.DIAL:
        for statuses, nxt, _, _ in dial_groups("fr"):
            out.append(f"{', '.join(f'`{s}`' for s in statuses)} → {target(nxt)}")
    elif step.expect != script.END and "9" not in step.routes and takes_speech(name):
        out.append(f"« retour » / “back” → {target(step.back)}")
    return out


# --- the document ---------------------------------------------------------------------------------

def render() -> str:
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x", "AGENT_NUMBER": SAMPLE_AGENT})
    with app.app_context(), app.test_request_context():
        return _render()


def _render() -> str:
    for name in [*VARIANTS, *REFUSED]:
        if name not in script.STEPS:
            WARNINGS.append(f"sample values for step {name}, which no longer exists")
    out = [
        "# Le script d'appel du 34 22 — The 34 22 call script",
        "",
        "<!-- Generated from ivr/script.py by scripts/call_script.py: do not edit by hand. -->",
        "Généré depuis `ivr/script.py` : ne pas modifier à la main, relancer "
        "`.venv/bin/python scripts/call_script.py --write`. "
        "Generated from `ivr/script.py`: do not edit by hand, run the command again.",
        "",
        "Les phrases sont celles des catalogues compilés au moment de la génération (une phrase pas encore traduite "
        "paraît telle que le catalogue la donne) ; numéros, dates, heures et historique sont des exemples. The "
        "sentences are those of the compiled catalogs when this was generated (a sentence not translated yet "
        "shows as the catalog gives it); numbers, dates, hours and the history are sample values.",
        "",
    ]
    out += _whole("## Début de l'appel — Start of the call", start_section)
    out += _whole("## Touches et règles communes — Keys and common rules", _keys_section)
    out += _whole("## Commandes dites — Spoken commands", _commands_section)
    out += _whole("## Le temps des appelants lents — Time for slow callers", slow_section)
    out += _whole("## Relectures — Read-backs", readback_section)
    out += _whole("## Un conseiller — An adviser", adviser_section)
    out += ["## Vue d'ensemble — Overview", "",
            "| # | étape / step | attendu / expected | délai / timeout | réponses / answers |",
            "| --- | --- | --- | --- | --- |"]
    for i, (name, step) in enumerate(script.STEPS.items(), 1):
        out.append(f"| {i} | [`{name}`](#step-{name}) | {' / '.join(EXPECTS[step.expect])} | {_timeout(name)} | "
                   f"{cell(routes(name, step))} |")
    out += _switches_section()
    out += ["", "## Étapes — Steps", ""]
    for i, (name, step) in enumerate(script.STEPS.items(), 1):
        out += _step_section(i, name, step)
    out += _actions_section()
    return "\n".join(out) + "\n"


def _whole(heading: str, section) -> list[str]:
    """A section of the document, or its heading and "not rendered" when the code changed beyond this file."""
    try:
        out = section()
    except Exception as exc:  # noqa: BLE001 - the document stays whole; stderr names what is missing
        return [heading, "", *not_rendered(heading.split(" — ")[-1], exc), ""]
    assert out[0] == heading, (out[0], heading)
    return out


def _keys_section() -> list[str]:
    out = ["## Touches et règles communes — Keys and common rules", "",
           "Une seule carte des touches pour tout l'appel. One key map for the whole call.", "",
           "| | Français | English |", "| --- | --- | --- |"]
    out += [f"| {name} | {cell([fr])} | {cell([en])} |" for name, fr, en in common_rules()]
    return out + [""]


def _commands_section() -> list[str]:
    waiting = _steps(n for n, s in script.STEPS.items() if s.expect == script.WAIT)
    out = ["## Commandes dites — Spoken commands", "",
           "Les commandes génériques (ETSI ES 202 076), comprises à chaque étape qui écoute la parole ; à un nombre, "
           f"une commande passe d'abord, sinon ce qui est dit est lu comme le nombre ; à {waiting}, tout mot reprend. "
           "The generic commands (ETSI ES 202 076), understood at every step that listens to speech; at a number, a "
           f"command comes first, else what is said is read as the number; at {waiting}, any word resumes.", "",
           "| commande / command | Français | English |", "| --- | --- | --- |"]
    out += [f"| {name} | {cell([fr])} | {cell([en])} |" for name, fr, en in spoken_commands()]
    return out + [""]


def _timeout(name: str) -> str:
    timeout = gather(name).get("timeout")
    if timeout:
        return f"{timeout} s"
    dial = twiml(name).find("Dial")
    return f"sonnerie / ringing {dial.get('timeout')} s" if dial is not None else "—"


# What a switch step looks at, said for the reader: operand -> (French, English).
LOOKS_AT = {"caller": ("qui appelle, une fois identifié", "who calls, once identified"),
            "goal": ("ce que l'appelant a choisi", "what the caller chose"),
            "space": ("l'espace santé de la personne pour qui l'on appelle",
                      "the health space of whom the call is for")}


def _switches_section() -> list[str]:
    out = ["", "## Aiguillages — Switches", "",
           "Un aiguillage ne dit rien et n'attend rien : il regarde l'appel, puis mène au premier de ses cas qui "
           "est vrai, sinon à « autre » ; à « pas de réponse » quand il n'y a rien à regarder. A switch step says "
           "nothing and waits for nothing: it looks at the call, then goes to the first of its cases that holds, "
           "else to “other”; to “no response” when there is nothing to look at.", "",
           "| aiguillage / switch | regarde / looks at | cas / case | → |", "| --- | --- | --- | --- |"]
    for name, switch in script.SWITCHES.items():
        looks = " / ".join(LOOKS_AT.get(switch.operand, ())) or f"`{switch.operand}`"
        exits = [("pas de réponse / no response", switch.no_response)] if switch.no_response else []
        exits += [(f"`{test}`", to) for test, to in switch.cases] + [("autre / other", switch.other)]
        for i, (case, to) in enumerate(exits):
            first = (f'<a id="switch-{name}"></a>`{name}`', looks) if i == 0 else ("", "")
            out.append(f"| {first[0]} | {first[1]} | {case} | {target(to)} |")
    return out


def _help(name: str, language: str) -> list[str]:
    """What 0 does at the step: its help (the step said again after it), or its own route."""
    try:
        seen = walk(language, name, [("0", "")])[0][0]
    except Exception as exc:  # noqa: BLE001
        return not_rendered(f"help at {name} ({language})", exc)
    return [outcome(seen, language)]


def _step_section(i: int, name: str, step: script.Step) -> list[str]:
    out = [f'<a id="step-{name}"></a>', "", f"### {i}. `{name}`", "",
           "| | Français | English |", "| --- | --- | --- |",
           f"| dit / said | {cell(said(name, 'fr'))} | {cell(said(name, 'en'))} |"]
    for label_fr, label_en, data, space in VARIANTS.get(name, []):
        out.append(f"| dit / said, {label_fr} / {label_en} | {cell(said(name, 'fr', data, space))} | "
                   f"{cell(said(name, 'en', data, space))} |")
    fr_exp, en_exp = EXPECTS[step.expect]
    out.append(f"| attendu / expected (`{step.expect}`) | {fr_exp} | {en_exp} |")
    if step.expect in KINDS_WITH_AN_ANSWER:
        timeout = gather(name).get("timeout") or "*(non rendu / not rendered)*"
        out.append(f"| délai / timeout | {timeout} s | {timeout} s |")
        speech = takes_speech(name)
        out.append(f"| entrée / input | {'touches et parole' if speech else 'touches seulement'} | "
                   f"{'keys and speech' if speech else 'keys only'} |")
    elif step.expect == script.DIAL:
        ring = twiml(name).find("Dial")
        ring = ring.get("timeout") if ring is not None else "—"
        out.append(f"| sonnerie / ringing | {ring} s (`AGENT_RING_SECONDS`) | {ring} s (`AGENT_RING_SECONDS`) |")
    if step.spoken:
        fr_as, en_as = SPOKEN_AS.get(step.spoken, (f"`{step.spoken}`", f"`{step.spoken}`"))
        out.append(f"| dit / said (`{step.spoken}`) | lu comme {fr_as}, relu et confirmé à {_at('heard')} | "
                   f"read as {en_as}, read back and confirmed at {_at('heard')} |")
    if step.expect in (script.KEY, script.NUMBER, script.YESNO):
        out.append(f"| `0` (aide / help) | {cell(_help(name, 'fr'))} | {cell(_help(name, 'en'))} |")
    if step.words:
        out.append(f"| mots reconnus / words heard | {cell(words(step, 'fr'))} | {cell(words(step, 'en'))} |")
    if step.accept and REFUSED.get(name):
        out.append(f"| saisie refusée / refused input | {cell(refused(name, 'fr'))} | {cell(refused(name, 'en'))} |")
    out += ["", "Réponses / answers:", ""]
    out += [f"- {r}" for r in routes(name, step)] or ["- fin de l'appel / the call ends"]
    out.append("")
    return out


def _named_in(module) -> dict[str, list[str]]:
    """Actions a module's functions name as a target ("do:name"), by action: the functions that name them."""
    out: dict[str, list[str]] = {}
    for fname, fn in vars(module).items():
        if inspect.isfunction(fn) and fn.__module__ == module.__name__:
            for action in re.findall(r'"do:(\w+)"', inspect.getsource(fn)):
                out.setdefault(action, []).append(f"`{module.__name__.split('.')[-1]}.{fname}`")
    return out


def _actions_section() -> list[str]:
    used: dict[str, list[str]] = {}
    for name, step in script.STEPS.items():
        for to in [*step.routes.values(), step.on_silence, step.back, "do:" + step.accept if step.accept else None]:
            if to and to.startswith("do:"):
                used.setdefault(to[3:], []).append(f"[`{name}`](#step-{name})")
    for name, switch in script.SWITCHES.items():
        for to in [*(to for _, to in switch.cases), switch.other, switch.no_response]:
            if to and to.startswith("do:"):
                used.setdefault(to[3:], []).append(f"[`{name}`](#switch-{name})")
    for module in (voice, actions):
        for action, where in _named_in(module).items():
            used.setdefault(action, []).extend(where)
    out = ["## Actions", "",
           "Une action appelle au plus un service, puis choisit l'étape suivante, ou un aiguillage ; ce qu'elle dit "
           "passe avant cette étape. Cas d'exemple. An action calls at most one service, then chooses the next step, "
           "or a switch step; what it says comes before that step. Sample situations.", "",
           "| action | depuis / from | cas / situation | → étape / step | dit d'abord | said first |",
           "| --- | --- | --- | --- | --- | --- |"]
    for case in CASES:
        if case.action not in script.ACTIONS:
            WARNINGS.append(f"sample case for action {case.action}, which no longer exists")
    for action in dict.fromkeys([*used, *script.ACTIONS]):  # in the order the script reaches them
        if action not in script.ACTIONS:
            continue
        where = ", ".join(dict.fromkeys(used.get(action, []))) or "—"
        for case in [c for c in CASES if c.action == action] or [Case(action)]:
            label = f"{case.fr} / {case.en}" if case.fr else "—"
            try:
                nxt, fr = run_action(case, "fr")
                nxt_en, en = run_action(case, "en")
                step = target(nxt) if nxt == nxt_en else f"{target(nxt)} / {target(nxt_en)}"
            except Exception as exc:  # noqa: BLE001
                step, fr, en = "—", not_rendered(f"action {action} ({label})", exc), []
            out.append(f"| {action} | {where} | {label} | {step} | {cell(fr)} | {cell(en)} |")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"write {DOC.relative_to(ROOT)} instead of stdout")
    args = parser.parse_args()
    text = render()
    if args.write:
        DOC.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    for warning in dict.fromkeys(WARNINGS):
        print(f"call_script.py: not rendered: {warning} (add a sample value or case in scripts/call_script.py)",
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
