"""Words as people read them: «1er», one English date style, agreement, the 34 22 kept whole and its cost, an
impossible date named, fields wide enough for a spaced NIR."""
from datetime import date, datetime

import pytest
from flask_babel import force_locale, pgettext

from app import clock, dates
from tests.conftest import User

NBSP = "\u00a0"


def french_filled(app, context: str, msgid: str) -> bool:
    with app.test_request_context(), force_locale("fr"):
        return pgettext(context, msgid) != msgid


def test_one_english_date_style(app):
    with app.test_request_context(), force_locale("en"):
        assert dates.day(date(2026, 12, 1)) == "1 December 2026"
        assert dates.day(date(2027, 1, 2)) == "2 January 2027"
        assert dates.day(date(2026, 12, 1), weekday=True, year=False) == "Tuesday 1 December"


def test_french_days(app):
    with app.test_request_context(), force_locale("fr"):
        assert dates.day(date(2026, 12, 2)) == "2 décembre 2026"
        assert dates.day(date(2026, 12, 2), weekday=True) == "mercredi 2 décembre 2026"


def test_the_first_of_the_month_is_1er_in_french(app):
    if not french_filled(app, "the first day of a month, before its name", "1"):
        pytest.skip("the French catalog has no «1er» yet (the lead fills it)")
    with app.test_request_context(), force_locale("fr"):
        assert dates.day(date(2026, 12, 1)) == "1er décembre 2026"
        assert dates.day(date(2026, 12, 1), weekday=True, year=False) == "mardi 1er décembre"


def test_a_datetime_is_read_in_a_zone(app):
    from zoneinfo import ZoneInfo
    with app.test_request_context(), force_locale("en"):
        late = datetime(2026, 11, 30, 22, 30)  # UTC
        assert dates.day(late, tz=ZoneInfo("Indian/Reunion")) == "1 December 2026"
        assert dates.day(late, tz=ZoneInfo("America/Martinique")) == "30 November 2026"


@pytest.mark.parametrize("raw,impossible", [
    ("31/02/1940", True), ("29 02 1950", True), ("31041960", True), ("00/05/1960", True), ("1950-02-30", True),
    ("29/02/1948", False), ("25/03/1948", False), ("31/13/1950", False), ("hello", False), ("", False)])
def test_impossible_dates(raw, impossible):
    assert dates.impossible(raw) is impossible


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_34_22_is_never_split_and_its_cost_is_said(app, lang):
    page = User(app.test_client(), lang).get("/")
    assert "34 22" not in page.html, "a plain space lets the number break across two lines"
    assert f"34{NBSP}22" in page.html
    if lang == "en":
        assert "free service + the price of a call" in page.text


def test_a_reference_that_holds_34_22_is_left_alone(app):
    from markupsafe import Markup

    from app.web.views import keep_together
    assert keep_together("Ref 134 225 789, call 34 22.") == f"Ref 134 225 789, call 34{NBSP}22."
    assert isinstance(keep_together(Markup("call 34 22")), Markup)


def test_an_impossible_date_in_the_history_filter_is_named(app, enrol):
    holder = enrol()
    u = User(app.test_client(), "en")
    u.identify(holder, next_step="history")
    page = u.get("/history?from=31/02/2026")
    assert "This date does not exist. Check the day and the month." in page.text


@pytest.mark.parametrize("path", ["/identify", "/identify/sms", "/code/new"])
def test_the_nir_field_shows_a_whole_spaced_nir_in_a_text_browser(user_en, path):
    field = user_en.get(path).soup.select_one("input#nir")
    assert int(field["size"]) >= len("2 84 12 76 451 089 93")


def test_a_woman_who_said_no_reads_the_feminine(app, enrol):
    holder = enrol(nir="240037511200567")  # first digit 2: a woman
    assert holder.nir[0] == "2"
    u = User(app.test_client(), "fr")
    receipt = u.submit(u.identify(holder, next_step="oppose"))
    msgid = "You said no to your health space"
    if not french_filled(app, "said to a woman", msgid):
        pytest.skip("the French catalog has no feminine form yet (the lead fills it)")
    with app.test_request_context(), force_locale("fr"):
        feminine = pgettext("said to a woman", msgid)
    assert receipt.h1 == feminine
    assert feminine in u.get("/history/activity").text


def test_a_man_reads_the_usual_form_and_the_feminine_is_asked_for_a_woman(app, enrol):
    """Whatever the catalog holds, the template asks for the feminine only with a 2 as first digit."""
    man = enrol(nir="189071305512376")
    u = User(app.test_client(), "en")
    u.submit(u.identify(man, next_step="oppose"))
    with u.client.session_transaction() as s:
        assert s["sex"] == "m"
    woman = enrol(nir="240037511200567")
    w = User(app.test_client(), "en")
    w.identify(woman)
    with w.client.session_transaction() as s:
        assert s["sex"] == "f"


def test_the_first_of_the_month_in_the_lockout_time(app, enrol):
    from app.web.views import _fmt_until
    with app.test_request_context(), force_locale("en"):
        assert _fmt_until(datetime(2026, 12, 1, 9, 5)).startswith("1 December, ")
    clock.freeze(datetime(2026, 11, 24, 9, 0))


def test_the_example_nir_of_the_identification_page_is_a_valid_one(client):
    """A person who types the example to try gets the answer for a real number, not the «wrong key» slip."""
    import re

    from stdnum.fr import nir
    for lang in ("fr", "en"):
        client.set_cookie("lang", lang)
        hint = client.get("/identify").get_data(as_text=True)
        example = re.search(r"(\d \d\d \d\d \d\d \d\d\d \d\d\d \d\d)", hint).group(1)
        assert nir.is_valid(example.replace(" ", "")), example
