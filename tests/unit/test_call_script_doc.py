"""docs/call-script.md is the call script of ivr/script.py: every step, in order, with its expectation and routes.

The sentences are not compared (the catalogs change); the structure is, both in the committed document and
in what scripts/call_script.py generates now. When this fails: .venv/bin/python scripts/call_script.py --write
"""
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ivr import script

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "call-script.md"
FIX = "the call script changed: run .venv/bin/python scripts/call_script.py --write"


def target(name: str) -> str:
    return f"action {name[3:]}" if name.startswith("do:") else f"[{name}](#step-{name})"


def answers(step: script.Step) -> set[str]:
    """The answer lines a step's section must have, no more and no fewer."""
    out = {f"`{key}` → {target(to)}" for key, to in step.routes.items()}
    if step.accept:
        out.add(f"chiffres + # / digits + # → action {step.accept}")
    if step.on_silence:
        out.add(f"silence → {target(step.on_silence)}")
    if step.on_other:
        out.add(f"autre touche / any other key → {target(step.on_other)}")
    return out or {"fin de l'appel / the call ends"}


def sections(text: str) -> dict[str, str]:
    """Step name -> its section, in the document's order."""
    steps_part = text.split("\n## Actions", 1)[0]
    parts = re.split(r'^<a id="step-([a-z_]+)"></a>$', steps_part, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2]))


@pytest.fixture(scope="module")
def documents():
    """The committed document, and the one the generator writes from the code as it is now."""
    run = subprocess.run([sys.executable, str(ROOT / "scripts" / "call_script.py")], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, "scripts/call_script.py failed:\n" + run.stderr[-3000:]
    return {"committed": DOC.read_text(encoding="utf-8"), "generated": run.stdout}


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
        if step.expect != script.END:
            assert f"| délai / timeout | {step.timeout} s | {step.timeout} s |" in section, (name, FIX)
        listed = section.split("Réponses / answers:", 1)[-1]
        bullets = {line[2:].strip() for line in listed.splitlines() if line.startswith("- ")}
        assert bullets == answers(step), (name, FIX)


@pytest.mark.parametrize("which", ["committed", "generated"])
def test_the_overview_routes_every_step(documents, which):
    overview = documents[which].split("## Vue d'ensemble", 1)[1].split("## Étapes", 1)[0]
    for name, step in script.STEPS.items():
        row = next((line for line in overview.splitlines() if f"[`{name}`](#step-{name})" in line), None)
        assert row is not None, (name, FIX)
        for answer in answers(step) - {"fin de l'appel / the call ends"}:
            assert answer in row, (name, answer, FIX)


@pytest.mark.parametrize("which", ["committed", "generated"])
def test_the_actions_are_those_of_the_code(documents, which):
    table = documents[which].split("\n## Actions", 1)[1]
    named = {line.split("|")[1].strip() for line in table.splitlines() if line.startswith("| ") and "---" not in line}
    named.discard("action")
    assert named == set(script.ACTIONS), FIX


def test_every_route_of_the_script_leads_somewhere_that_exists():
    for name, step in script.STEPS.items():
        for to in [*step.routes.values(), step.on_silence, step.on_other]:
            if to:
                assert to[3:] in script.ACTIONS if to.startswith("do:") else to in script.STEPS, (name, to)
        if step.accept:
            assert step.accept in script.ACTIONS, (name, step.accept)
