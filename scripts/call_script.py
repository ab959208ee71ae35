"""Writes docs/call-script.md: the 34 22 call script of ivr/script.py, as an agent would read it.

    .venv/bin/python scripts/call_script.py > docs/call-script.md
    .venv/bin/python scripts/call_script.py --write

Everything comes from the code: the steps, their order and routes from ivr/script.py STEPS, its switch steps
from SWITCHES; the sentences from each step's own `say` function (ivr/prompts.py), rendered in French then
English with the compiled catalogs of i18n/; the common rules (star, 0, silence, wrong keys) by running
ivr/voice.py's `advance` on a sample call; what each action of ivr/actions.py says and where it leads by
running it on the sample call, or in the few sample situations below. No database: the sample call carries
sample values, and the services the script calls are replaced, while it runs, by stand-ins.

A sentence that cannot be rendered (a step needing a sample value this file does not know yet) is shown as
"not rendered" and named on stderr: the structure of the document is still complete.
"""
import argparse
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from types import ModuleType, SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_babel import force_locale, gettext  # noqa: E402

from app import create_app  # noqa: E402
from app.domain.emergency import EmergencySettings  # noqa: E402
from app.domain.errors import (  # noqa: E402
    HelperRefused,
    IdentificationFailed,
    IdentificationLocked,
    InvalidTransition,
    NotAuthorized,
    WindowClosed,
)
from app.domain.health_space import State  # noqa: E402
from app.domain.reasons import Reason  # noqa: E402
from app.services import commands  # noqa: E402
from ivr import actions, prompts, script, voice  # noqa: E402
from ivr import call as ivr_call

DOC = ROOT / "docs" / "call-script.md"
WARNINGS: list[str] = []

SAMPLE_DATA = {"nir": "240037511200567", "serial": "80123456789", "birth": "1940-03-12", "code": "223445566778",
               "reference": "123456789", "setting": "samu", "on": False, "delete": False, "offset": 0,
               "has_mobile": True, "event_id": 0, "helper_nir": "189071305512376", "helper_birth": "1975-05-05",
               "helper_name": "Nadia Benali", "helper_mandate": 7}

EXPECTS = {
    script.KEY: ("une touche (ou un mot dit)", "one key (or a spoken word)"),
    script.NUMBER: ("des chiffres, puis dièse", "digits, then hash"),
    script.YESNO: ("oui ou non : 1 ou 2 (ou dit)", "yes or no: 1 or 2 (or said)"),
    script.END: ("rien : l'appel se termine", "nothing: the call ends"),
}


# --- the sample call and its stand-ins -----------------------------------------------------------

class SampleSpace(SimpleNamespace):
    """What `spaces.view` returns, reduced to the attributes the script reads."""


def sample_space(**overrides) -> SampleSpace:
    values = dict(state=State.ACTIVE, window_ends_on=date(2026, 11, 12), deletion_due_on=date(2027, 2, 28),
                  emergency=EmergencySettings(samu=True, break_glass=True, masked=False),
                  actions=["close", "history", "emergency"], has_mobile=True, restricted=None,
                  given_name="Léa", family_name="Durand")
    return SampleSpace(**{**values, **overrides})


class SampleCall(ivr_call.Call):
    """A call holding sample values, whose space is a stand-in: every step can be said without a database."""

    def __init__(self, language: str, data: dict | None = None, space: dict | None = None):
        super().__init__("CA" + "0" * 32, language, {"person_id": 1, **SAMPLE_DATA, **(data or {})}, 1,
                         "+33600000000")
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
    """Stands in for every service module the script calls (identity, spaces, access, references...).

    Each service succeeds with a sample value, or raises `fails`; `returns` gives other values by name. Any
    service not named here is taken for an action that succeeds with a receipt. The history holds 5 sample
    accesses; a reference is unknown unless `returns` has `sent_on`.
    """

    def __init__(self, fails: Exception | None = None, **returns):
        self.fails, self.returns = fails, returns

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
    block runs."""
    # Commands are values: the registry stays, and the services its handlers call are stood in for.
    saved = {(m, n): v for m in (ivr_call, prompts, actions, commands) for n, v in vars(m).items()
             if isinstance(v, ModuleType) and v.__name__.startswith("app.services") and v is not commands}
    services = SampleServices(fails, **returns)
    for m, n in saved:
        setattr(m, n, services)
    try:
        yield
    finally:
        for (m, n), module in saved.items():
            setattr(m, n, module)


# --- what the document shows besides each step's main rendering -----------------------------------

# Other renderings, for steps whose words depend on the call: step -> [(fr label, en label, data, space)].
VARIANTS = {
    "check": [("code par SMS", "code by SMS", {"sms": True, "code": ""}, {})],
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


# The situations an action is shown in, besides the plain sample call (an action without one is run on that).
ANONYMOUS = {"person_id": None}
CASES = [
    Case("switch_language", "appel en français", "call in French"),
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
    Case("accept_nir", "numéro valable", "valid number", typed=SAMPLE_DATA["nir"]),
    Case("accept_serial", "numéro valable", "valid number", typed=SAMPLE_DATA["serial"]),
    Case("accept_birth", "date valable", "valid date", typed="12031940"),
    Case("accept_code", "12 chiffres", "12 digits", typed=SAMPLE_DATA["code"]),
    Case("accept_code", "pas de courrier : 9", "no letter: 9", typed="9"),
    Case("identify", "reconnu", "recognised", data=ANONYMOUS),
    Case("identify", "non reconnu", "not recognised", data=ANONYMOUS, fails=IdentificationFailed()),
    Case("identify", "trop d'essais", "too many attempts", data=ANONYMOUS,
         fails=IdentificationLocked(datetime(2026, 11, 24, 14, 30))),
    Case("identify", "pas de courrier : code par SMS", "no letter: code by SMS",
         data={**ANONYMOUS, "sms": True, "code": ""}),
    Case("accept_sms_code", "code juste", "right code", typed="123456", data=ANONYMOUS),
    Case("accept_sms_code", "code faux", "wrong code", typed="123456", data=ANONYMOUS,
         fails=IdentificationFailed()),
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
    """A step's sentences; one said in the other language is marked with it."""
    return [f"*({item[1]})* {item[0]}" if isinstance(item, tuple) else item for item in items]


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


def run_action(action: str, language: str, typed: str | None = None, data: dict | None = None,
               space: dict | None = None, fails: Exception | None = None, **returns) -> tuple[str, list[str]]:
    """Run one action on a sample call: (the next step or switch step, what is said before it)."""
    call = SampleCall(language, data, space)
    with stand_ins(fails, **returns), force_locale(language):
        fn = actions.ACTIONS[action]
        nxt = fn(call, typed) if typed is not None else fn(call)
    return nxt, sentences(call.before)


def refused(name: str, language: str) -> list[str]:
    """For each refused sample answer: what the caller hears, and the step said next."""
    step = script.STEPS[name]
    out = []
    for typed, fails in REFUSED.get(name, []):
        try:
            nxt, before = run_action(step.accept, language, typed, fails=fails)
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


def routes(step: script.Step) -> list[str]:
    out = [f"`{key}` → {target(to)}" for key, to in step.routes.items()]
    if step.accept:
        out.append(f"chiffres + # / digits + # → action {step.accept}")
    if step.on_silence:
        out.append(f"silence → {target(step.on_silence)}")
    if step.on_other:
        out.append(f"autre touche / any other key → {target(step.on_other)}")
    return out


# --- the common rules, observed by running the voice adapter's `advance` on a sample call -----------

def _observe(language: str, step_name: str, answers: list[tuple[str, str]]) -> list[tuple[str, list[str]]]:
    """Feed answers (digits, speech) one after the other; returns (next step, sentences said first) for each."""
    call = SampleCall(language)
    call.data["counters"] = {}
    seen = []
    with stand_ins():
        for digits, speech in answers:
            call.before = []
            call.data["step_was"] = step_name
            nxt = voice.advance(call, step_name, digits, speech)
            seen.append((nxt, sentences(call.before)))
    return seen


def _quote(text: str, language: str) -> str:
    return f"« {text} »" if language == "fr" else f"“{text}”"


def _ordinal(n: int, language: str) -> str:
    if language == "fr":
        return ("1re" if n == 1 else f"{n}e") + " fois"
    return {1: "1st", 2: "2nd", 3: "3rd"}.get(n, f"{n}th") + " time"


def _sequence(outcomes, step_name: str, language: str) -> str:
    fr = language == "fr"
    parts = []
    for i, (nxt, before) in enumerate(outcomes, 1):
        first = " ".join(_quote(s, language) for s in before)
        if nxt == step_name and not before:
            then = "l'étape est redite, telle quelle" if fr else "the step is said again, as it was"
        elif nxt == step_name:
            then = "puis l'étape est redite" if fr else "then the step is said again"
        elif script.STEPS[nxt].expect == script.END:
            bye = " ".join(said(nxt, language))
            then = _quote(bye, language) + (" et l'appel se termine" if fr else " and the call ends")
        else:
            then = f"→ {target(nxt)}"
        prefix = f"{_ordinal(i, language)}{' :' if fr else ':'} " if len(outcomes) > 1 else ""
        parts.append(f"{prefix}{first} {then}".strip().replace("  ", " "))
    return (" ; " if fr else "; ").join(parts) + "."


def _steps(names) -> str:
    return ", ".join(f"[`{n}`](#step-{n})" for n in names)


def common_rules() -> list[tuple[str, str, str]]:
    """(rule, French, English) as the voice adapter behaves, observed on a plain step."""
    probe = next(n for n, s in script.STEPS.items() if s.expect == script.KEY and not s.on_silence
                 and not s.on_other and not {"0", "*"} & set(s.routes))
    wrong_key = next(k for k in "7568" if k not in script.STEPS[probe].routes)
    star_routed = [n for n, s in script.STEPS.items() if "*" in s.routes]
    zero_routed = [n for n, s in script.STEPS.items() if "0" in s.routes]
    silence_routed = [n for n, s in script.STEPS.items() if s.on_silence]
    other_routed = [n for n, s in script.STEPS.items() if s.on_other]
    rows = {}
    for language in ("fr", "en"):
        fr = language == "fr"
        with force_locale(language):
            repeat, help_words, help_text = prompts.REPEAT_WORDS(), prompts.HELP_WORDS(), prompts.help_text()
            sorry = gettext("Sorry, something went wrong. Nothing was changed.")
        star = _observe(language, probe, [("*", "")])
        zero = _observe(language, probe, [("0", "")])
        silences = []
        for seen in _observe(language, probe, [("", "")] * 6):
            silences.append(seen)
            if seen[0] != probe:
                break
        wrong = _observe(language, probe, [(wrong_key, "")] * voice.MAX_WRONG * 2)
        upto = next((i for i, (_, before) in enumerate(wrong, 1) if help_text in before), len(wrong))
        bad = REFUSED["code"][0][0]
        refusals = _observe(language, "code", [(bad, "")] * (voice.MAX_WRONG + 1))
        q = lambda text: _quote(text, language)  # noqa: E731
        if fr:
            rows.setdefault("`*`", []).append(
                f"Étoile, ou dire {q(repeat)} — {_sequence(star, probe, language)}"
                + (f" Sauf à {_steps(star_routed)}, où étoile a sa propre suite." if star_routed else ""))
            rows.setdefault("`0`", []).append(
                f"0, ou dire {q(help_words)} — {_sequence(zero, probe, language)}"
                + (f" Sauf à {_steps(zero_routed)}, où 0 a sa propre suite (voir l'étape)." if zero_routed else ""))
            rows.setdefault("silence", []).append(
                f"Silence jusqu'à la fin du délai de l'étape, plusieurs fois de suite — "
                f"{_sequence(silences, probe, language)} Sauf à {_steps(silence_routed)}, "
                "où le silence mène plus loin.")
            rows.setdefault("erreur / wrong key", []).append(
                f"Touche ou mot sans suite, par exemple `{wrong_key}` — {_sequence(wrong[:upto], probe, language)} "
                f"Le compte repart alors de zéro, et à chaque changement d'étape. Sauf à {_steps(other_routed)}, "
                "où toute autre touche mène plus loin.")
            rows.setdefault("nombres / numbers", []).append(
                "Un nombre se tape chiffre par chiffre et finit par dièse ; ailleurs une seule touche suffit (dièse "
                f"y est une touche comme une autre). Saisie refusée plusieurs fois de suite, par exemple `{bad}` à "
                f"l'étape [`code`](#step-code) — {_sequence(refusals, 'code', language)}")
            rows.setdefault("incident / fault", []).append(
                f"Incident du serveur : {q(sorry)}, puis le menu principal. Un webhook rejoué par Twilio reçoit "
                "la même réponse : rien n'est fait deux fois.")
        else:
            rows["`*`"].append(
                f"Star, or saying {q(repeat)} — {_sequence(star, probe, language)}"
                + (f" Except at {_steps(star_routed)}, where star has its own route." if star_routed else ""))
            rows["`0`"].append(
                f"0, or saying {q(help_words)} — {_sequence(zero, probe, language)}"
                + (f" Except at {_steps(zero_routed)}, where 0 has its own route (see the step)." if zero_routed
                   else ""))
            rows["silence"].append(
                f"Silence until the step's timeout, several times in a row — {_sequence(silences, probe, language)} "
                f"Except at {_steps(silence_routed)}, where silence goes on.")
            rows["erreur / wrong key"].append(
                f"A key or word that leads nowhere, for example `{wrong_key}` — "
                f"{_sequence(wrong[:upto], probe, language)} The count then starts again, and at each new step. "
                f"Except at {_steps(other_routed)}, where any other key goes on.")
            rows["nombres / numbers"].append(
                "A number is typed digit by digit and ends with hash; elsewhere one key is enough (hash is a key "
                f"like any other there). The same number refused several times in a row, for example `{bad}` at "
                f"step [`code`](#step-code) — {_sequence(refusals, 'code', language)}")
            rows["incident / fault"].append(
                f"Server fault: {q(sorry)}, then the main menu. A webhook Twilio retries gets the same answer: "
                "nothing is done twice.")
    return [(name, fr_text, en_text) for name, (fr_text, en_text) in rows.items()]


# --- the document ---------------------------------------------------------------------------------

def render() -> str:
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x"})
    with app.app_context(), app.test_request_context():
        return _render()


def _render() -> str:
    out = [
        "# Le script d'appel du 34 22 — The 34 22 call script",
        "",
        "<!-- Generated from ivr/script.py by scripts/call_script.py: do not edit by hand. -->",
        "Généré depuis `ivr/script.py` : ne pas modifier à la main, relancer "
        "`.venv/bin/python scripts/call_script.py --write`. "
        "Generated from `ivr/script.py`: do not edit by hand, run the command again.",
        "",
        "Les phrases sont celles des catalogues compilés au moment de la génération ; numéros, dates et historique "
        "sont des exemples. The sentences are those of the compiled catalogs when this was generated; numbers, "
        "dates and the history are sample values.",
        "",
        "## Règles communes — Common rules",
        "",
        "| | Français | English |",
        "| --- | --- | --- |",
    ]
    for name, fr, en in common_rules():
        out.append(f"| {name} | {cell([fr])} | {cell([en])} |")
    out += ["", "## Vue d'ensemble — Overview", "",
            "| # | étape / step | attendu / expected | délai / timeout | réponses / answers |",
            "| --- | --- | --- | --- | --- |"]
    for i, (name, step) in enumerate(script.STEPS.items(), 1):
        timeout = "—" if step.expect == script.END else f"{step.timeout} s"
        out.append(f"| {i} | [`{name}`](#step-{name}) | {' / '.join(EXPECTS[step.expect])} | {timeout} | "
                   f"{cell(routes(step))} |")
    out += _switches_section()
    out += ["", "## Étapes — Steps", ""]
    for i, (name, step) in enumerate(script.STEPS.items(), 1):
        out += _step_section(i, name, step)
    out += _actions_section()
    return "\n".join(out) + "\n"


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


def _step_section(i: int, name: str, step: script.Step) -> list[str]:
    out = [f'<a id="step-{name}"></a>', "", f"### {i}. `{name}`", "",
           "| | Français | English |", "| --- | --- | --- |",
           f"| dit / said | {cell(said(name, 'fr'))} | {cell(said(name, 'en'))} |"]
    for label_fr, label_en, data, space in VARIANTS.get(name, []):
        out.append(f"| dit / said, {label_fr} / {label_en} | {cell(said(name, 'fr', data, space))} | "
                   f"{cell(said(name, 'en', data, space))} |")
    fr_exp, en_exp = EXPECTS[step.expect]
    out.append(f"| attendu / expected (`{step.expect}`) | {fr_exp} | {en_exp} |")
    if step.expect != script.END:
        out.append(f"| délai / timeout | {step.timeout} s | {step.timeout} s |")
    if step.words:
        out.append(f"| mots reconnus / words heard | {cell(words(step, 'fr'))} | {cell(words(step, 'en'))} |")
    if step.accept and REFUSED.get(name):
        out.append(f"| saisie refusée / refused input | {cell(refused(name, 'fr'))} | {cell(refused(name, 'en'))} |")
    out += ["", "Réponses / answers:", ""]
    out += [f"- {r}" for r in routes(step)] or ["- fin de l'appel / the call ends"]
    out.append("")
    return out


def _actions_section() -> list[str]:
    used: dict[str, list[str]] = {}
    for name, step in script.STEPS.items():
        for to in [*step.routes.values(), step.on_silence, step.on_other,
                   "do:" + step.accept if step.accept else None]:
            if to and to.startswith("do:"):
                used.setdefault(to[3:], []).append(f"[`{name}`](#step-{name})")
    for name, switch in script.SWITCHES.items():
        for to in [*(to for _, to in switch.cases), switch.other, switch.no_response]:
            if to and to.startswith("do:"):
                used.setdefault(to[3:], []).append(f"[`{name}`](#switch-{name})")
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
        where = ", ".join(dict.fromkeys(used.get(action, []))) or "—"
        for case in [c for c in CASES if c.action == action] or [Case(action)]:
            label = f"{case.fr} / {case.en}" if case.fr else "—"
            try:
                nxt, fr = run_action(action, "fr", case.typed, case.data, case.space, case.fails, **case.returns)
                nxt_en, en = run_action(action, "en", case.typed, case.data, case.space, case.fails, **case.returns)
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
    for warning in WARNINGS:
        print(f"call_script.py: not rendered: {warning} (add a sample value or case in scripts/call_script.py)",
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
