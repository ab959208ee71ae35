"""Keep the catalogs in step with the code: extract, update fr/en, fill English from the source, compile."""
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
I18N = ROOT / "i18n"
PYBABEL = [sys.executable, "-m", "babel.messages.frontend"]


def run(*args: str) -> None:
    subprocess.run([*PYBABEL, *args], check=True, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def fill_english() -> None:
    """Source strings are English: the en catalog repeats them, so no entry is ever empty."""
    path = I18N / "en/LC_MESSAGES/messages.po"
    with path.open("rb") as f:
        catalog = read_po(f, locale="en")
    for message in catalog:
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            if not all(message.string):
                message.string = (message.id[0], message.id[1])
        elif not message.string:
            message.string = message.id
        message.flags.discard("fuzzy")
    with path.open("wb") as f:
        write_po(f, catalog, width=100, omit_header=False, sort_output=True, no_location=True)


def missing(locale: str) -> list[str]:
    with (I18N / f"{locale}/LC_MESSAGES/messages.po").open("rb") as f:
        catalog = read_po(f, locale=locale)
    out = []
    for m in catalog:
        if m.id and (not m.string or (isinstance(m.string, tuple) and not all(m.string)) or m.fuzzy):
            out.append(m.id if isinstance(m.id, str) else m.id[0])
    return out


def main(command: str) -> int:
    if command == "update":
        run("extract", "-F", "i18n/babel.cfg", "-k", "_l", "-k", "lazy_gettext", "--no-location",
            "--sort-output", "--project", "Relais", "-w", "100", "-o", "i18n/messages.pot", ".")
        run("update", "-i", "i18n/messages.pot", "-d", "i18n", "-w", "100", "--no-fuzzy-matching")
        fill_english()
        todo = missing("fr")
        print(f"{len(todo)} French entries to translate")
        return 0
    if command == "compile":
        run("compile", "-d", "i18n")
        return 0
    if command == "check":
        todo = {loc: missing(loc) for loc in ("fr", "en")}
        for loc, items in todo.items():
            for item in items:
                print(f"{loc}: untranslated: {item}")
        return 1 if any(todo.values()) else 0
    print("usage: i18n.py update|compile|check")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else ""))
