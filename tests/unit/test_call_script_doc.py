"""docs/call-script.md is the call script of ivr/script.py: every step, in order, with its expectation and routes;
the start of a call, the key map, the spoken commands, the wait for slow callers, the read-backs and the way to
an adviser; every action with what it says.

The sentences are not compared (the catalogs change); the structure is, both in the committed document and
in what scripts/call_script.py generates now. When this fails: .venv/bin/python scripts/call_script.py --write
"""
import re
import subprocess
import sys
from pathlib import Path

import pytest

from app.services.callbacks import GOALS
from ivr import script, voice

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "call-script.md"
FIX = "the call script changed: run .venv/bin/python scripts/call_script.py --write"
WITH_AN_ANSWER = (script.KEY, script.NUMBER, script.YESNO, script.WAIT)  # said in a <Gather>: a timeout
WAITING = next(n for n, s in script.STEPS.items() if s.expect == script.WAIT)
HEARD = "heard"  # where a number said aloud is read back (ivr/voice.py _heard)
LINK = r"\[[a-z_]+\]\(#step-[a-z_]+\)"


def target(name: str) -> str:
    return f"action {name[3:]}" if name.startswith("do:") else f"[{name}](#step-{name})"


def takes_speech(step: script.Step) -> bool:
    """As ivr/voice.py renders it: every step listens to speech, but a number that is not `spoken`."""
    return step.expect != script.NUMBER or bool(step.spoken)


def answers(step: script.Step) -> set[str]:
    """The answer lines a step's section must have (besides those of a wait or a transfer, see `particular`)."""
    out = {f"`{key}` → {target(to)}" for key, to in step.routes.items()}
    if step.accept:
        out.add(f"chiffres + # / digits + # → action {step.accept}")
    if step.spoken:
        out.add(f"nombre dit / number said → {target(HEARD)}")
    if step.on_silence:
        out.add(f"silence → {target(step.on_silence)}")
    elif step.identifying:
        out.add(f"silence → {target(WAITING)}")
    if step.expect in (script.KEY, script.NUMBER, script.YESNO) and "9" not in step.routes and takes_speech(step):
        out.add(f"« retour » / “back” → {target(step.back)}")
    if not out and step.expect == script.END:
        out.add("fin de l'appel / the call ends")
    return out


def particular(name: str, step: script.Step) -> list[str]:
    """Patterns the other answer lines of a wait or a transfer must match, each matched by one line at least."""
    if step.expect == script.WAIT:
        return [r"autre touche ou mot / any other key or word → (action [a-z_]+|" + LINK + ")",
                rf"silence → \[{name}\]\(#step-{name}\) ; .+ → " + LINK]
    if step.expect == script.DIAL:  # what Twilio posts when the transfer ends: <Dial>'s status, <Enqueue>'s result
        return [r"(`[a-z-]+`, )*`completed`(, `[a-z-]+`)* → " + LINK,
                r"(`[a-z-]+`, )*`no-answer`(, `[a-z-]+`)* → " + LINK]
    return []


def sections(text: str) -> dict[str, str]:
    """Step name -> its section, in the document's order."""
    steps_part = text.split("\n## Actions", 1)[0]
    parts = re.split(r'^<a id="step-([a-z_]+)"></a>$', steps_part, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2]))


def part(text: str, heading: str) -> str:
    """The part of the document under a `## heading`, up to the next one."""
    assert f"\n## {heading}" in text, (heading, FIX)
    return text.split(f"\n## {heading}", 1)[1].split("\n## ", 1)[0]


def first_cells(table: str) -> list[str]:
    return [line.split("|")[1].strip() for line in table.splitlines()
            if line.startswith("| ") and "---" not in line][1:]


@pytest.fixture(scope="module")
def documents():
    """The committed document, and the one the generator writes from the code as it is now (and its stderr)."""
    run = subprocess.run([sys.executable, str(ROOT / "scripts" / "call_script.py")], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, "scripts/call_script.py failed:\n" + run.stderr[-3000:]
    return {"committed": DOC.read_text(encoding="utf-8"), "generated": run.stdout, "stderr": run.stderr}


@pytest.mark.parametrize("which", ["committed", "generated"])
def test_the_document_has_every_step_in_order(documents, which):
    assert list(sections(documents[which])) == list(script.STEPS), FIX


@pytest.mark.parametrize("which", ["committed", "generated"])
def test_each_step_shows_what_it_expects_and_where_each_answer_leads(documents, which):
    found = sections(documents[which])
    for name, step in script.STEPS.items():
        section = found.get(name, "")
        assert "### " in section and f"`{name}`" in section, (name, FIX)
        assert f"| attendu / expected (`{step.expect}`) |" in section, (name, FIX)
        if step.expect in WITH_AN_ANSWER:
            assert f"| délai / timeout | {step.timeout} s | {step.timeout} s |" in section, (name, FIX)
            speech = "touches et parole" if takes_speech(step) else "touches seulement"
            assert f"| entrée / input | {speech} |" in section, (name, FIX)
        else:
            assert "| délai / timeout |" not in section, (name, FIX)
        if step.expect == script.DIAL:
            assert re.search(r"^\| sonnerie / ringing \| \d+ s", section, flags=re.M), (name, FIX)
        if step.expect in (script.KEY, script.NUMBER, script.YESNO):
            assert "| `0` (aide / help) |" in section, (name, FIX)
        if step.spoken:
            assert f"| dit / said (`{step.spoken}`) |" in section and target(HEARD) in section, (name, FIX)
        listed = section.split("Réponses / answers:", 1)[-1]
        bullets = {line[2:].strip() for line in listed.splitlines() if line.startswith("- ")}
        expected, patterns = answers(step), particular(name, step)
        assert expected <= bullets, (name, expected - bullets, FIX)
        others = bullets - expected
        assert all(any(re.fullmatch(p, b) for p in patterns) for b in others), (name, others, FIX)
        assert all(any(re.fullmatch(p, b) for b in others) for p in patterns), (name, patterns, FIX)


@pytest.mark.parametrize("which", ["committed", "generated"])
def test_the_overview_routes_every_step(documents, which):
    overview = part(documents[which], "Vue d'ensemble")
    for name, step in script.STEPS.items():
        row = next((line for line in overview.splitlines() if f"[`{name}`](#step-{name})" in line), None)
        assert row is not None, (name, FIX)
        for answer in answers(step) - {"fin de l'appel / the call ends"}:
            assert answer in row, (name, answer, FIX)
        for pattern in particular(name, step):
            assert re.search(pattern, row), (name, pattern, FIX)


@pytest.mark.parametrize("which", ["committed", "generated"])
def test_the_start_of_a_call_is_shown_before_the_keys(documents, which):
    text = documents[which]
    assert text.index("\n## Début de l'appel") < text.index("\n## Touches"), FIX
    start = part(text, "Début de l'appel")
    assert first_cells(start) == ["dit dès la première seconde / said from the first second",
                                  "`9` au premier menu / `9` at the first menu", "`9` plus tard / `9` later",
                                  "TwiML"], FIX
    assert "Gather(" in start, FIX  # the greeting is said inside the menu's wait for an answer


@pytest.mark.parametrize("which", ["committed", "generated"])
def test_the_key_map_and_the_common_rules(documents, which):
    keys = first_cells(part(documents[which], "Touches et règles communes"))
    for rule in ("`*`", "`0`", "`0` `0`", "`9`", "`#`", "silence", "erreur / wrong key", "nombres / numbers",
                 "délais / timeouts", "parole / speech", "incident / fault"):
        assert rule in keys, (rule, FIX)


@pytest.mark.parametrize("which", ["committed", "generated"])
def test_every_generic_command_is_shown(documents, which):
    commands = first_cells(part(documents[which], "Commandes dites"))
    assert commands == [f"`{key}`" for key, _ in voice.GENERIC], FIX


@pytest.mark.parametrize("which", ["committed", "generated"])
def test_the_wait_for_slow_callers(documents, which):
    slow = part(documents[which], "Le temps des appelants lents")
    assert target(WAITING) in slow, FIX
    for name, step in script.STEPS.items():
        if step.identifying and not step.on_silence:
            assert f"`{name}`" in slow, (name, FIX)
    offers = next(line for line in slow.splitlines() if line.startswith("| les offres de / the offers of "))
    stuck = re.search(r"`([a-z_]+)`", offers).group(1)
    assert stuck in script.STEPS, FIX
    for key in script.STEPS[stuck].routes:
        assert f"`{key}` :" in offers and f"`{key}`:" in offers, (stuck, key, FIX)


@pytest.mark.parametrize("which", ["committed", "generated"])
def test_the_read_backs_show_every_kind_of_spoken_answer_and_the_fix(documents, which):
    backs = part(documents[which], "Relectures")
    for kind in {step.spoken for step in script.STEPS.values() if step.spoken}:
        row = next((line for line in backs.splitlines() if f"(`{kind}`) |" in line), "")
        assert target(HEARD) in row, (kind, FIX)
    assert any(line.startswith("| ne correspond pas / does not match |") for line in backs.splitlines()), FIX


@pytest.mark.parametrize("which", ["committed", "generated"])
def test_the_adviser_transfer_whisper_and_callback(documents, which):
    adviser = part(documents[which], "Un conseiller")
    dial = next(n for n, s in script.STEPS.items() if s.expect == script.DIAL)
    assert target(dial) in adviser, FIX
    for name, step in script.STEPS.items():
        if "do:agent" in step.routes.values():
            assert f"[`{name}`](#step-{name})" in adviser, (name, FIX)
    for row in ("pendant les heures / during opening hours", "hors des heures / out of hours",
                "fin du transfert / the transfer ends", "rappel / callback"):
        assert f"| {row} |" in adviser, (row, FIX)
    whispers = [line.split("|") for line in adviser.split("Le chuchotement", 1)[1].splitlines()
                if line.startswith("| `")]
    shown = {(cells[1].strip().strip("`"), cells[2].strip()) for cells in whispers}
    assert shown == {(goal or "—", said) for goal in GOALS for said in ("oui / yes", "non / no")}, FIX
    for cells in whispers:  # one sentence, never a number or a code of the person; then, identified, the desk's
        for text in (cells[3].strip(), cells[4].strip()):
            first, *then = text.split("<br>")
            assert first and not re.search(r"\d", first), (cells, FIX)
            if cells[2].strip() == "oui / yes":
                [desk] = then
                digits = re.sub(r"\D", "", desk)  # a 6-digit code said twice
                assert len(digits) == 12 and digits[:6] == digits[6:], (cells, FIX)
            else:
                assert not then, (cells, FIX)


@pytest.mark.parametrize("which", ["committed", "generated"])
def test_the_actions_are_those_of_the_code(documents, which):
    table = documents[which].split("\n## Actions", 1)[1]
    named = {line.split("|")[1].strip() for line in table.splitlines() if line.startswith("| ") and "---" not in line}
    named.discard("action")
    assert named == set(script.ACTIONS), FIX


@pytest.mark.parametrize("which", ["committed", "generated"])
def test_nothing_is_left_not_rendered(documents, which):
    assert "not rendered" not in documents[which], FIX
    assert "not rendered" not in documents["stderr"], documents["stderr"][-3000:]


def test_every_route_of_the_script_leads_somewhere_that_exists():
    assert HEARD in script.STEPS and script.STEPS[HEARD].expect == script.YESNO
    for name, step in script.STEPS.items():
        for to in [*step.routes.values(), step.on_silence, step.back]:
            if to:
                assert to[3:] in script.ACTIONS if to.startswith("do:") else to in script.STEPS, (name, to)
        if step.accept:
            assert step.accept in script.ACTIONS, (name, step.accept)
