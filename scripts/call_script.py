"""Writes docs/call-script.md: the 34 22 call script of ivr/script.py as an agent would read it."""
import sys
from datetime import date
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_babel import force_locale  # noqa: E402

from app import create_app  # noqa: E402
from app.domain.emergency import EmergencySettings  # noqa: E402
from ivr import script  # noqa: E402

EXPECTS = {script.KEY: ("une touche ou un mot", "a key or a word"),
           script.NUMBER: ("des chiffres puis dièse", "digits then hash"),
           script.YESNO: ("1 ou oui, 2 ou non", "1 or yes, 2 or no"),
           script.END: ("fin de l'appel", "end of the call")}


class SampleCall(script.Call):
    """A call with sample values, so every step can be said without a database."""

    def __init__(self, language: str):
        super().__init__("CA-sample", language, {
            "nir": "240037511200567", "serial": "80123456789", "birth": "1940-03-12", "code": "223445566778",
            "reference": "123456789", "setting": "samu", "on": False, "delete": False, "offset": 0,
            "has_mobile": True}, 1, "+33600000000")

    def space(self):
        return SimpleNamespace(state="active", window_ends_on=date(2026, 11, 12), deletion_due_on=date(2027, 2, 28),
                               emergency=EmergencySettings(), actions=["close", "history", "emergency"],
                               has_mobile=True)


def said(step: script.Step, language: str) -> str:
    if step.say is script.say_history:
        return {"fr": "(les accès, trois à la fois, puis les choix)", "en": "(the accesses, three at a time, then the choices)"}[language]
    with force_locale(language):
        return " ".join(s[0] if isinstance(s, tuple) else s for s in step.say(SampleCall(language)))


def routes(step: script.Step) -> str:
    out = [f"`{k}` → {'action ' + t[3:] if t.startswith('do:') else t}" for k, t in step.routes.items()]
    if step.accept:
        out.append(f"chiffres → action {step.accept}")
    if step.on_silence:
        out.append(f"silence → {step.on_silence}")
    if step.on_other:
        out.append(f"autre → {step.on_other}")
    return "<br>".join(out) or "—"


def render() -> str:
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "doc"})
    lines = [
        "# Le script d'appel du 34 22 / The 34 22 call script",
        "",
        "Generated from `ivr/script.py` by `python scripts/call_script.py --write`; do not edit by hand.",
        "",
        "Règles communes / common rules: étoile répète / star repeats; 0 donne l'aide / 0 gives help; "
        "un silence est redemandé, puis l'aide, puis au revoir / silence is asked again, then help, then goodbye; "
        "3 mauvaises touches → aide / 3 wrong keys → help; tout chiffre se termine par dièse / every number ends "
        "with hash.",
        "",
        "| étape / step | ce qui est dit (fr) | what is said (en) | attendu / expected | où mène chaque réponse / routes |",
        "| --- | --- | --- | --- | --- |",
    ]
    with app.test_request_context():
        for name, step in script.STEPS.items():
            fr, en = said(step, "fr"), said(step, "en")
            exp = " / ".join(EXPECTS[step.expect])
            lines.append(f"| `{name}` | {fr} | {en} | {exp} | {routes(step)} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    text = render()
    if "--write" in sys.argv:
        (ROOT / "docs" / "call-script.md").write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
