"""The catalogs: French first and English complete, placeholders intact, every SMS one GSM-7 segment."""
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

I18N = Path(__file__).resolve().parents[2] / "i18n"
GSM7 = set("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
           "¿abcdefghijklmnopqrstuvwxyzäöñüà")
LONGEST = {"code": "MRXA-7XKC-2F9H", "date": "30/12/2026", "ref": "999 999 999", "items": "",
           "what": "fermer votre espace, données supprimées sous 3 mois", "samu": "autorisé", "bg": "autorisé",
           "m": "montrés", "when": "31/12 23:59", "mode": "bris de glace"}
LONGEST_WHAT = {"fr": "fermer votre espace, données supprimées sous 3 mois",
                "en": "close your space, data deleted within 3 months"}
FITTED = ("%(name)s", "%(profession)s", "%(reason)s", "%(items)s")  # shortened at run time to fit


def catalog(locale: str):
    with (I18N / locale / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f, locale=locale)


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_every_entry_is_translated_with_its_placeholders(locale):
    for m in catalog(locale):
        if not m.id:
            continue
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        assert all(strings) and not m.fuzzy, f"{locale}: untranslated {ids[0]!r}"
        wanted = set(re.findall(r"%\(\w+\)[sd]", ids[-1]))
        for s in strings:
            assert set(re.findall(r"%\(\w+\)[sd]", s)) == wanted, f"{locale}: placeholders of {ids[0]!r}"


def test_french_is_really_french():
    fr = catalog("fr")
    same = [m.id for m in fr if m.id and isinstance(m.id, str) and m.string == m.id and len(m.id) > 12]
    assert not same, same


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_every_sms_fits_one_gsm7_segment_at_its_longest(locale):
    sms = [m for m in catalog(locale) if isinstance(m.id, str) and m.id.startswith("Relais:")]
    assert len(sms) >= 4
    for m in sms:
        # A one-time code (6 digits) is quoted twice; the letter's code (14 characters with dashes) once.
        values = {**LONGEST, "what": LONGEST_WHAT[locale]}
        if "Reply %(code)s" in m.id:
            values["code"] = "123456"
        text = m.string % {k: values.get(k, "") for k in re.findall(r"%\((\w+)\)", m.string)}
        assert set(text) <= GSM7, f"{locale}: not GSM-7: {set(text) - GSM7} in {m.string!r}"
        if not any(f in m.string for f in FITTED):  # those are shortened to fit, tested where they are sent
            assert len(text) <= 160, f"{locale}: {len(text)} characters: {text!r}"


def test_history_sms_at_its_longest_is_one_gsm7_segment(app):
    from datetime import datetime
    from types import SimpleNamespace

    from app.messages import history_sms
    from app.text import GSM7
    events = [SimpleNamespace(occurred_at=datetime(2026, 12, 31, 23, 59),
                              professional_name="Dr Jérôme-Françoise Œillet-Bâtonnière de "
                                                "Saint-Étienne-du-Rouvray")] * 3
    with app.test_request_context():
        for language in ("fr", "en"):
            text = history_sms(SimpleNamespace(language=language), events, "999999999")
            assert len(text) <= 160 and set(text) <= GSM7, text
