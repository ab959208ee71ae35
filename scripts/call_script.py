"""Writes docs/call-script.md: the 34 22 call script of ivr/script.py, as an agent would read it.

    .venv/bin/python scripts/call_script.py > docs/call-script.md
    .venv/bin/python scripts/call_script.py --write

Everything comes from the code: the steps, their order and routes from ivr/script.py STEPS, the sentences
from the steps' own `say` functions rendered in French then English (compiled catalogs of i18n/), the
common rules (star, 0, silence, wrong keys) by running ivr/voice.py's `advance` on a sample call. No
database: a sample call carries sample values, and its space and history are small stand-ins.
"""
import argparse
import sys
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_babel import force_locale  # noqa: E402

from app import create_app  # noqa: E402
from app.domain.emergency import EmergencySettings  # noqa: E402
from app.domain.errors import IdentificationFailed, IdentificationLocked, InvalidTransition, WindowClosed  # noqa: E402
from app.domain.health_space import available_actions, window_end  # noqa: E402
from app.services.identity import rules  # noqa: E402
from ivr import script, voice  # noqa: E402

DOC = ROOT / "docs" / "call-script.md"
LANGUAGES = ("fr", "en")

SAMPLE_DATA = {"nir": "240037511200567", "serial": "80123456789", "birth": "1940-03-12", "code": "223445566778",
               "reference": "123456789", "setting": "samu", "on": False, "delete": False, "offset": 0,
               "has_mobile": True}

EXPECTS = {
    script.KEY: ("une touche (ou un mot dit)", "one key (or a spoken word)"),
    script.NUMBER: ("des chiffres, puis dièse", "digits, then hash"),
    script.YESNO: ("oui ou non : 1 ou 2 (ou dit)", "yes or no: 1 or 2 (or said)"),
    script.END: ("rien : l'appel se termine", "nothing: the call ends"),
}

# Other renderings worth reading, for steps whose words depend on the call: (fr label, en label, data, space).
VARIANTS = {
    "close_confirm": [("supprimer les données", "delete the data", {"delete": True}, {})],
    "reopen": [("sans suppression demandée", "no deletion asked", {}, {"deletion_due_on": None})],
    "emergency": [("SAMU et urgence refusés", "SAMU and emergency refused", {},
                   {"emergency": EmergencySettings(samu=False, break_glass=False, masked=False)})],
    "emergency_confirm": [(f"{setting}, {'oui' if on else 'non'}", f"{setting}, {'on' if on else 'off'}",
                           {"setting": setting, "on": on}, {})
                          for setting in ("samu", "break_glass", "masked") for on in (False, True)
                          if (setting, on) != ("samu", False)],
    "history": [("personne n'a consulté", "nobody looked", {"history": "empty"}, {}),
                ("les suivants", "the next ones", {"offset": 3}, {})],
}

# Typed answers a NUMBER step refuses, to show what the caller then hears.
REFUSED = {
    "nir": ["80123456789", "1890713055123", "189071305512377", "12345"],
    "serial": ["189071305512376", "12"],
    "birth": ["1234", "31021990"],
    "code": ["12345"],
    "history_pick": ["9"],
}


class SampleSpace(SimpleNamespace):
    """What `spaces.view` returns, reduced to the attributes the script reads."""


def sample_space(**overrides) -> SampleSpace:
    values = dict(state="active", window_ends_on=date(2026, 11, 12), deletion_due_on=date(2027, 2, 28),
                  emergency=EmergencySettings(samu=True, break_glass=True, masked=False),
                  actions=["close", "history", "emergency"], has_mobile=True)
    return SampleSpace(**{**values, **overrides})


def situation(state: str, days_since_letter: int = 60) -> dict:
    """A space in `state`, with the actions the domain rules allow there."""
    today = date(2026, 11, 24)
    sent = today - timedelta(days=days_since_letter)
    return {"state": state, "window_ends_on": window_end(sent, rules()),
            "actions": available_actions(state, sent, today, rules())}


class SampleCall(script.Call):
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


class SampleServices:
    """Stands in for the services the script calls (identity, spaces, access): each succeeds with sample
    values, or raises `outcome`. The history holds 5 sample accesses, said 3 at a time."""

    def __init__(self, outcome: Exception | None = None):
        self.outcome = outcome

    def _result(self, value):
        if self.outcome is not None:
            raise self.outcome
        return value

    def identify(self, *args, **kwargs):
        return self._result(1)

    def _receipt(self, *args, **kwargs):
        return self._result(SimpleNamespace(reference=SAMPLE_DATA["reference"]))

    oppose = close = reopen = set_emergency_access = report_access = block_professional = send_history = _receipt

    @staticmethod
    def history(actor, subject_id, page=1, per_page=3, **_):
        events = [] if getattr(actor, "empty", False) else SAMPLE_HISTORY
        pages = max(1, -(-len(events) // per_page))
        lines = [SimpleNamespace(event=e, blocked=False, report_reference=None)
                 for e in events[(page - 1) * per_page:page * per_page]]
        return SimpleNamespace(lines=lines, page=page, pages=pages, total=len(events))


@contextmanager
def stand_ins(outcome: Exception | None = None):
    saved = script.identity, script.spaces, script.access
    script.identity = script.spaces = script.access = SampleServices(outcome)
    try:
        yield
    finally:
        script.identity, script.spaces, script.access = saved


# What each action does in sample situations: (action, fr, en, typed, data, space, outcome of the service).
LOCKED_UNTIL = datetime(2026, 11, 24, 14, 30)  # UTC
def scenarios() -> list[tuple]:
    """Built inside the app: the situations take the domain rules from its config."""
    return [
        ("switch_language", "appel en français", "call in French", None, {}, {}, None),
        ("goal_oppose", "pas encore identifié", "not identified yet", None, {"person_id": None}, {}, None),
        ("goal_oppose", "délai ouvert", "window open", None, {}, situation("notified", 10), None),
        ("goal_oppose", "délai passé", "window over", None, {}, situation("active"), None),
        ("goal_oppose", "déjà opposé", "already opposed", None, {}, situation("opposed"), None),
        ("goal_close", "espace ouvert", "space open", None, {}, situation("active"), None),
        ("goal_close", "espace fermé", "space closed", None, {}, situation("closed"), None),
        ("goal_close", "déjà opposé", "already opposed", None, {}, situation("opposed"), None),
        ("goal_history", "identifié", "identified", None, {}, situation("active"), None),
        ("goal_emergency", "espace ouvert", "space open", None, {}, situation("active"), None),
        ("goal_emergency", "espace fermé", "space closed", None, {}, situation("closed"), None),
        ("accept_nir", "numéro valable", "valid number", SAMPLE_DATA["nir"], {}, {}, None),
        ("accept_serial", "numéro valable", "valid number", SAMPLE_DATA["serial"], {}, {}, None),
        ("accept_birth", "date valable", "valid date", "12031940", {}, {}, None),
        ("accept_code", "12 chiffres", "12 digits", SAMPLE_DATA["code"], {}, {}, None),
        ("identify", "reconnu, pour s'opposer", "recognised, to oppose", None, {"person_id": None, "goal": "oppose"},
         situation("notified", 10), None),
        ("identify", "non reconnu", "not recognised", None, {"person_id": None}, {}, IdentificationFailed()),
        ("identify", "trop d'essais", "too many attempts", None, {"person_id": None}, {},
         IdentificationLocked(LOCKED_UNTIL)),
        ("start_identity", "", "", None, {}, {}, None),
        ("oppose", "fait", "done", None, {}, situation("notified", 10), None),
        ("oppose", "délai passé entre-temps", "window ended meanwhile", None, {}, situation("notified", 10),
         WindowClosed()),
        ("choose_archive", "", "", None, {}, {}, None),
        ("choose_delete", "", "", None, {}, {}, None),
        ("close", "fait", "done", None, {}, {}, None),
        ("close", "plus possible", "no longer possible", None, {}, {}, InvalidTransition("closed", "close")),
        ("reopen", "fait", "done", None, {}, situation("closed"), None),
        ("history_more", "il en reste", "more to hear", None, {}, {}, None),
        ("history_send", "avec un mobile", "with a mobile", None, {"has_mobile": True}, {}, None),
        ("history_send", "sans mobile", "without a mobile", None, {"has_mobile": False}, {}, None),
        ("accept_pick", "accès 1", "access 1", "1", {}, {}, None),
        ("report", "fait", "done", None, {"event_id": 0}, {}, None),
        ("block", "fait", "done", None, {"event_id": 0}, {}, None),
        ("change_samu", "SAMU autorisé", "SAMU allowed", None, {}, {}, None),
        ("change_break_glass", "urgence autorisée", "emergency allowed", None, {}, {}, None),
        ("change_masked", "urgence autorisée", "emergency allowed", None, {}, {}, None),
        ("change_masked", "toute urgence refusée", "every emergency refused", None, {},
         {"emergency": EmergencySettings(samu=False, break_glass=False)}, None),
        ("set_emergency", "fait", "done", None, {}, {}, None),
        ("cancel", "", "", None, {}, {}, None),
    ]


# --- rendering ------------------------------------------------------------------------------------

def sentences(items) -> list[str]:
    """A step's sentences; one said in the other language is marked with it."""
    out = []
    for item in items:
        if isinstance(item, tuple):
            out.append(f"*({item[1]})* {item[0]}")
        else:
            out.append(item)
    return out


def cell(lines: list[str]) -> str:
    return "<br>".join(s.replace("|", "\\|").replace("\n", " ") for s in lines) or "—"


def said(name: str, language: str, data: dict | None = None, space: dict | None = None) -> list[str]:
    step = script.STEPS[name]
    call = SampleCall(language, data, space)
    with stand_ins(), force_locale(language):
        return sentences(step.say(call))


def refused(name: str, language: str) -> list[str]:
    """What the caller hears before the step is asked again, for each refused sample answer."""
    step = script.STEPS[name]
    heard: list[str] = []
    for typed in REFUSED.get(name, []):
        call = SampleCall(language)
        with stand_ins(), force_locale(language):
            script.ACTIONS[step.accept](call, typed)
        heard += [s for s in call.before if s not in heard]
    return heard


def words(step: script.Step, language: str) -> list[str]:
    if not step.words:
        return []
    with force_locale(language):
        return [f"`{key}` : {w}" if language == "fr" else f"`{key}`: {w}" for key, w in step.words().items()]


def target(name: str) -> str:
    """Where an answer leads: another step (linked), or an action of ACTIONS."""
    if name.startswith("do:"):
        return f"action {name[3:]}"
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


def outcome(action: str, language: str, typed, data: dict, space: dict, result) -> tuple[str, list[str]]:
    """Run one action on a sample call: (the next step, what is said before it)."""
    call = SampleCall(language, data, space)
    with stand_ins(result), force_locale(language):
        fn = script.ACTIONS[action]
        nxt = fn(call, typed) if typed is not None else fn(call)
    return nxt, sentences(call.before)


# --- the common rules, observed by running the voice adapter's `advance` on a sample call -----------

def _observe(language: str, step_name: str, answers: list[tuple[str, str]]) -> list[tuple[str, list[str]]]:
    """Feed answers (digits, speech) one after the other; returns (next step, sentences said first) for each."""
    call = SampleCall(language)
    call.data["counters"] = {}
    seen = []
    for digits, speech in answers:
        call.before = []
        call.data["step_was"] = step_name
        nxt = voice.advance(call, step_name, digits, speech)
        seen.append((nxt, list(call.before)))
    return seen


def _quote(text: str, language: str) -> str:
    return f"« {text} »" if language == "fr" else f"“{text}”"


def _ordinal(n: int, language: str) -> str:
    if language == "fr":
        return ("1re" if n == 1 else f"{n}e") + " fois"
    return {1: "1st", 2: "2nd", 3: "3rd"}.get(n, f"{n}th") + " time"


def _sequence(outcomes, step_name: str, language: str) -> str:
    parts = []
    for i, (nxt, before) in enumerate(outcomes, 1):
        first = " ".join(_quote(s, language) for s in before)
        if nxt == step_name:
            then = "puis l'étape est redite" if language == "fr" else "then the step is said again"
        elif script.STEPS[nxt].expect == script.END:
            with force_locale(language):
                bye = " ".join(sentences(script.STEPS[nxt].say(SampleCall(language))))
            then = (f"{_quote(bye, language)} et l'appel se termine" if language == "fr"
                    else f"{_quote(bye, language)} and the call ends")
        else:
            then = f"→ {target(nxt)}"
        parts.append(f"{_ordinal(i, language)} : {first} {then}".replace("  ", " ") if language == "fr"
                     else f"{_ordinal(i, language)}: {first} {then}".replace("  ", " "))
    return (" ; " if language == "fr" else "; ").join(parts) + "."


def common_rules() -> list[tuple[str, str, str]]:
    """(rule name, French, English) as the voice adapter behaves on the menu."""
    fr, en = {}, {}
    for language, out in (("fr", fr), ("en", en)):
        L = language == "fr"
        with force_locale(language):
            repeat, help_words = script.REPEAT_WORDS(), script.HELP_WORDS()
            help_text = script.help_text()
        star = _observe(language, "menu", [("*", "")])[0]
        assert star == ("menu", []), star
        zero = _observe(language, "menu", [("0", "")])[0]
        out["star"] = (f"Étoile, ou dire {_quote(repeat, language)} : l'étape est redite, telle quelle." if L else
                       f"Star, or saying {_quote(repeat, language)}: the step is said again, as it was.")
        out["help"] = (f"0, ou dire {_quote(help_words, language)} : {' '.join(_quote(s, language) for s in zero[1])}, "
                       "puis l'étape est redite." if L else
                       f"0, or saying {_quote(help_words, language)}: "
                       f"{' '.join(_quote(s, language) for s in zero[1])}, then the step is said again.")
        silences = []
        for seen in _observe(language, "menu", [("", "")] * 6):
            silences.append(seen)
            if seen[0] != "menu":
                break
        exempt = ", ".join(f"`{n}`" for n, s in script.STEPS.items() if s.on_silence)
        out["silence"] = ((f"Silence (délai de l'étape écoulé), silences de suite — "
                           f"{_sequence(silences, 'menu', language)} Sauf aux étapes {exempt}, "
                           "où le silence mène plus loin.")
                          if L else
                          (f"Silence (the step's timeout runs out), silences in a row — "
                           f"{_sequence(silences, 'menu', language)} Except at steps {exempt}, "
                           "where silence goes on."))
        wrong = _observe(language, "menu", [("7", "")] * voice.MAX_WRONG * 2)
        first_help = next(i for i, (_, before) in enumerate(wrong, 1) if help_text in before)
        others = [n for n, s in script.STEPS.items() if s.on_other]
        out["wrong"] = ((f"Touche ou mot sans suite — {_sequence(wrong[:first_help], 'menu', language)} "
                         f"Le compte repart alors de zéro, et à chaque changement d'étape. Sauf à "
                         f"{', '.join(f'`{n}`' for n in others)}, où toute autre touche mène plus loin.")
                        if L else
                        (f"A key or word that leads nowhere — {_sequence(wrong[:first_help], 'menu', language)} "
                         f"The count then starts again, and at each new step. Except at "
                         f"{', '.join(f'`{n}`' for n in others)}, where any other key goes on."))
        bad = REFUSED["code"][0]
        with stand_ins():
            refusals = _observe(language, "code", [(bad, "")] * (voice.MAX_WRONG + 1))
        out["number"] = ((f"Un nombre se tape chiffre par chiffre et finit par dièse ; ailleurs, une seule touche "
                          f"suffit (dièse y est une touche comme une autre). Saisies refusées de suite, par exemple "
                          f"`{bad}` à l'étape `code` — {_sequence(refusals, 'code', language)}") if L else
                         (f"A number is typed digit by digit and ends with hash; elsewhere one key is enough (hash "
                          f"is a key like any other there). Refused numbers in a row, for example `{bad}` at step "
                          f"`code` — {_sequence(refusals, 'code', language)}"))
        with force_locale(language):
            from flask_babel import gettext
            sorry = gettext("Sorry, something went wrong. Nothing was changed.")
        out["error"] = (f"Incident du serveur : {_quote(sorry, language)}, puis le menu principal. Un webhook "
                        "rejoué par Twilio reçoit la même réponse, rien n'est fait deux fois." if L else
                        f"Server fault: {_quote(sorry, language)}, then the main menu. A webhook Twilio retries "
                        "gets the same answer; nothing is done twice.")
    names = {"star": "`*`", "help": "`0`", "silence": "silence", "wrong": "erreur / wrong key",
             "number": "nombres / numbers", "error": "incident / fault"}
    return [(names[k], fr[k], en[k]) for k in names]


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
        "Les phrases sont celles des catalogues compilés au moment de la génération ; les valeurs (numéro, dates, "
        "historique) sont des exemples. The sentences are those of the compiled catalogs when this was generated; "
        "numbers, dates and the history are sample values.",
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
        exp = " / ".join(EXPECTS[step.expect])
        timeout = "—" if step.expect == script.END else f"{step.timeout} s"
        out.append(f"| {i} | [`{name}`](#step-{name}) | {exp} | {timeout} | {cell(routes(step))} |")
    out += ["", "## Étapes — Steps", ""]
    for i, (name, step) in enumerate(script.STEPS.items(), 1):
        out += _step_section(i, name, step)
    used: dict[str, list[str]] = {}
    for name, step in script.STEPS.items():
        for to in [*step.routes.values(), *filter(None, ["do:" + step.accept if step.accept else None,
                                                           step.on_silence, step.on_other])]:
            if to.startswith("do:"):
                used.setdefault(to[3:], []).append(name)
    out += ["## Actions", "",
            "Une action appelle au plus un service, puis choisit l'étape suivante ; ce qu'elle dit passe avant "
            "l'étape. Cas d'exemple. An action calls at most one service, then chooses the next step; what it "
            "says comes before that step. Sample situations.", "",
            "| action | depuis / from | cas / situation | → étape / step | dit d'abord | said first |",
            "| --- | --- | --- | --- | --- | --- |"]
    shown = set()
    for action, label_fr, label_en, typed, data, space, result in scenarios():
        nxt, fr = outcome(action, "fr", typed, data, space, result)
        nxt_en, en = outcome(action, "en", typed, data, space, result)
        assert nxt == nxt_en, (action, nxt, nxt_en)
        where = ", ".join(f"[`{n}`](#step-{n})" for n in dict.fromkeys(used.get(action, []))) or "—"
        label = f"{label_fr} / {label_en}" if label_fr else "—"
        out.append(f"| {action} | {where} | {label} | [{nxt}](#step-{nxt}) | {cell(fr)} | {cell(en)} |")
        shown.add(action)
    for action in script.ACTIONS:
        if action not in shown:
            where = ", ".join(f"[`{n}`](#step-{n})" for n in dict.fromkeys(used.get(action, []))) or "—"
            out.append(f"| {action} | {where} | (pas d'exemple / no sample) | — | — | — |")
    return "\n".join(out) + "\n"


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"write {DOC.relative_to(ROOT)} instead of stdout")
    args = parser.parse_args()
    text = render()
    if args.write:
        DOC.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
