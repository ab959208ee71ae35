"""docs/call-script.md is the call script of ivr/script.py: regenerated, it must be what is committed."""
from pathlib import Path

from ivr import script

DOC = Path(__file__).resolve().parents[2] / "docs" / "call-script.md"


def test_the_document_names_every_step_and_route():
    text = DOC.read_text(encoding="utf-8")
    for name, step in script.STEPS.items():
        row = next((line for line in text.splitlines() if line.startswith(f"| `{name}` |")), None)
        assert row, f"step {name} is missing from docs/call-script.md"
        for key, target in step.routes.items():
            assert f"`{key}` → {'action ' + target[3:] if target.startswith('do:') else target}" in row, (name, key)


def test_the_document_is_up_to_date(app):
    import subprocess
    import sys
    fresh = subprocess.run([sys.executable, str(DOC.parents[1] / "scripts" / "call_script.py")],
                           capture_output=True, text=True, check=True).stdout
    assert fresh == DOC.read_text(encoding="utf-8"), "run: python scripts/call_script.py --write"
