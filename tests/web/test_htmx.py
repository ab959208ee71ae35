"""htmx as an enhancement only (issue 13 §9): the pieces the history and identification pages fetch with it, the
headers that keep it safe (CSP, Vary, a year's cache for the script), and the same pages whole without it."""
import gzip
import hashlib
import json
import re
from datetime import timedelta

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import event

from app import clock
from app.models import AccessReport, BlockedProfessional, db
from app.services import access
from app.web import STATIC_DIR
from tests.conftest import User

HX = {"HX-Request": "true"}
HTMX_SHA256 = "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717"  # dist/htmx.min.js of 2.0.11
SCRIPT = re.compile(r'<script src="(/assets/htmx\.min\.[0-9a-f]{10}\.js)" defer></script>')


def _accesses(app, holder, n=25):
    with app.app_context():
        now = clock.now()
        for i in range(n):
            access.record_access(access.AccessAttempt(
                nir=holder.nir, occurred_at=now - timedelta(days=i), professional_name=f"Dr Pro {i}",
                profession="Médecin généraliste", organisation="Cabinet du Parc", mode="normal",
                section="Ordonnances", professional_id=f"1010{i:07d}", event_id=f"hx-{i}"), "cli")


@pytest.fixture
def signed_in(app, enrol):
    holder = enrol(days_ago=60)
    u = User(app.test_client(), "en")
    u.identify(holder)
    _accesses(app, holder)
    return u


def _get(u, url, headers=HX):
    response = u.client.get(url, headers=headers)
    return response, BeautifulSoup(response.get_data(as_text=True), "html.parser")


# --- the headers ------------------------------------------------------------------------------------

def test_the_csp_allows_scripts_and_requests_from_relais_only(client):
    csp = client.get("/identify").headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["connect-src"] == "'self'"
    assert directives["style-src"] == "'self'" and directives["default-src"] == "'none'"
    assert "unsafe" not in csp and "nonce-" not in csp and "http" not in csp


def test_htmx_is_told_to_need_neither_eval_nor_inline_style_nor_storage(client):
    html = client.get("/identify").get_data(as_text=True)
    config = json.loads(re.search(r"<meta name=\"htmx-config\" content='([^']+)'>", html).group(1))
    assert config["allowEval"] is False and config["includeIndicatorStyles"] is False
    assert config["allowScriptTags"] is False
    assert config["historyCacheSize"] == 0 and config["refreshOnHistoryMiss"] is True  # no page kept in storage


def test_the_script_is_vendored_pinned_with_its_licence_and_served_for_a_year(client):
    src = SCRIPT.search(client.get("/identify").get_data(as_text=True)).group(1)
    with open(f"{STATIC_DIR}/htmx.min.js", "rb") as f:
        original = f.read()
    assert original.startswith(b"var htmx=function()") and b'version:"2.0.11"' in original
    assert hashlib.sha256(original).hexdigest() == HTMX_SHA256  # as npm's htmx.org@2.0.11 has it, and the README
    with open(f"{STATIC_DIR}/htmx.LICENSE") as f:
        assert "Zero-Clause BSD" in f.read()
    for offered, decode in (("gzip", gzip.decompress), ("br", None), ("identity", None)):
        response = client.get(src, headers={"Accept-Encoding": offered})
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert response.mimetype == "text/javascript"
        assert "Accept-Encoding" in response.headers["Vary"]
        assert response.headers.get("Content-Encoding", "identity") == offered
        if offered == "identity":
            assert response.get_data() == original
        if decode:
            assert decode(response.get_data()) == original
    assert client.get(src.replace(".js", "x.js")).status_code == 404
    assert client.get("/assets/htmx.LICENSE").status_code == 404  # kept beside it, not served


def test_the_script_only_on_the_pages_it_enhances(app, enrol, signed_in):
    u, visitor = signed_in, app.test_client()
    for client, url in ((visitor, "/identify"), (visitor, "/identify?next=history"), (u.client, "/history"),
                        (u.client, "/history?page=2"), (u.client, "/history?from=xx")):
        html = client.get(url).get_data(as_text=True)
        assert len(SCRIPT.findall(html)) == 1 and html.count("<script") == 1, url
        assert not re.search(r"\shx-", html), url  # data-hx-* only: the pages stay valid HTML (Nu checker)
    page = u.get("/history")
    first = page.soup.select(".entry a")[0]["href"]
    for url in ("/space", "/emergency", "/history/activity", "/history/blocked", first, "/accessibility"):
        assert "<script" not in u.client.get(url).get_data(as_text=True), url
    assert "<script" not in app.test_client().get("/").get_data(as_text=True)


# --- the history: dates and pages -------------------------------------------------------------------

def test_without_htmx_the_history_is_a_whole_page_that_says_it_varies(signed_in):
    response, soup = _get(signed_in, "/history", headers={})
    assert soup.find("h1") and soup.select_one("#accesses ol.entries") and soup.select_one("#count[role=status]")
    assert "HX-Request" in response.headers["Vary"] and "Cookie" in response.headers["Vary"]
    assert response.headers["Cache-Control"] == "no-store"


def test_the_dates_and_pages_fetch_the_list_alone(signed_in):
    page = signed_in.get("/history")
    form = page.soup.select_one("form.filters")
    assert form["data-hx-get"] == "/history" and form["data-hx-target"] == "#accesses"
    assert form["data-hx-push-url"] == "true"
    assert form["method"] == "get" and form["action"] == "/history"  # the same without JavaScript
    nav = page.soup.select_one("nav[data-hx-target='#accesses'][data-hx-push-url=true]")
    older = nav.select_one("a[rel=next]")
    assert older["data-hx-get"] == older["href"] == "/history?page=2"

    response, soup = _get(signed_in, "/history?page=2")
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    assert not soup.find("html") and not soup.find("h1") and not soup.find("script")
    assert len(soup.select("ol.entries > li.entry")) == 5
    count = soup.select_one("#count")
    assert count["data-hx-swap-oob"] == "innerHTML"
    assert count.get_text(" ", strip=True) == "25 accesses, newest first. Page 2 of 2"  # the live region says it
    first = soup.select_one(".entry h2")
    assert first.has_attr("autofocus") and first["tabindex"] == "-1"  # a page fetched: the focus on its first line
    assert soup.select_one("a[rel=prev]")["data-hx-get"] == "/history?page=1"

    day = (clock.today() - timedelta(days=3)).strftime("%d/%m/%Y")
    response, soup = _get(signed_in, f"/history?from={day}&to={day}")
    assert len(soup.select(".entry")) == 1 and "1 access, newest first." in soup.select_one("#count").get_text()
    assert not soup.select("[autofocus]")  # dates chosen: the focus stays on «Show»
    assert not soup.select("nav")


def test_a_mistake_in_the_dates_answers_the_whole_page_in_place_of_the_page(signed_in):
    response, soup = _get(signed_in, "/history?from=xx")
    assert response.headers["HX-Retarget"] == "body" and response.headers["HX-Reswap"] == "innerHTML"
    assert soup.find("h1") and soup.select_one(".error-summary[autofocus]")
    assert soup.select_one("#from")["aria-invalid"] == "true"
    assert not soup.select_one("form.filters").has_attr("data-hx-get")  # after a mistake the form sends a whole page


def test_the_reload_after_the_back_button_gets_the_whole_page(signed_in):
    response, soup = _get(signed_in, "/history?page=2", headers={**HX, "HX-History-Restore-Request": "true"})
    assert soup.find("h1") and soup.find("html")


def test_a_redirect_under_htmx_becomes_a_visit_of_the_page(app):
    response = app.test_client().get("/history", headers=HX)  # signed out: identify first
    assert response.status_code == 200 and not response.get_data()
    assert response.headers["HX-Redirect"].startswith("/identify?next=history")
    assert "Location" not in response.headers


# --- the history: block and report in the line ---------------------------------------------------

def _line_action(u, kind):
    page = u.get("/history?page=2")
    link = page.soup.select(f".entry a[href$='/{kind}']")[0]
    assert link["data-hx-get"] == link["href"]
    assert link.find_parent("ol")["data-hx-target"] == "closest li"
    event_id = int(link["href"].split("/")[2])
    current = {**HX, "HX-Current-URL": "http://localhost/history?page=2&evil=1", "HX-Target": f"e{event_id}"}
    response, soup = _get(u, link["href"], headers=current)
    assert "HX-Request" in response.headers["Vary"]
    return event_id, response, soup


def test_block_is_confirmed_in_the_line_and_answered_with_its_reference(app, signed_in):
    u = signed_in
    event_id, response, soup = _line_action(u, "block")
    assert not soup.find("html") and not soup.find("h1")
    heading = soup.select_one("h2")
    assert heading.get_text(strip=True) == "Block this professional?" and heading.has_attr("autofocus")
    assert "even in an emergency" in soup.get_text()
    form = soup.select_one("form")
    assert form["method"] == "post" and form["data-hx-post"] == form["action"] == f"/history/{event_id}/block"
    fields = {i["name"]: i["value"] for i in form.select("input[type=hidden]")}
    assert fields["csrf_token"] and re.fullmatch(r"[A-Za-z0-9_-]{16,64}", fields["token"])
    cancel = soup.select_one("a.button.secondary")
    assert cancel["href"] == "/history" and cancel["data-hx-swap"] == "outerHTML"
    assert cancel["data-hx-get"] == f"/history?page=2&line={event_id}"  # the page the person is on, nothing else

    back, line = _get(u, cancel["data-hx-get"])
    assert [li["id"] for li in line.select("li")] == [f"e{event_id}"]
    assert line.select_one("li h2").has_attr("autofocus") and line.select_one(f"a[href='/history/{event_id}/block']")
    assert "hx-swap-oob" not in back.get_data(as_text=True)

    for _ in range(2):  # a double click: one block, one reference
        done = u.client.post(form["action"], data=fields, headers=HX)
        assert done.status_code == 200 and "HX-Request" in done.headers["Vary"]
        result = BeautifulSoup(done.get_data(as_text=True), "html.parser")
        assert result.select_one(".panel h2").get_text(strip=True) == "The professional is blocked"
        assert result.select_one(".panel h2").has_attr("autofocus")
        assert re.fullmatch(r"\d{9}", re.sub(r"\s", "", result.select_one(".ref").get_text()))
        assert "can no longer see your health space" in result.get_text()
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(BlockedProfessional.id))) == 1


def test_report_is_confirmed_in_the_line(app, signed_in):
    u = signed_in
    event_id, response, soup = _line_action(u, "report")
    assert soup.select_one("h2").get_text(strip=True) == "Report this access?"
    form = soup.select_one("form")
    fields = {i["name"]: i["value"] for i in form.select("input[type=hidden]")}
    done = BeautifulSoup(u.client.post(form["data-hx-post"], data=fields, headers=HX).get_data(as_text=True),
                         "html.parser")
    assert done.select_one(".panel h2").get_text(strip=True) == "Your report is recorded"
    with app.app_context():
        reference = db.session.scalar(db.select(AccessReport.reference).where(AccessReport.access_event_id == event_id))
    assert re.sub(r"\s", "", done.select_one(".ref").get_text()) == reference
    assert f"Case {reference[:3]} {reference[3:6]} {reference[6:]}" in u.get("/history?page=2").text


def test_a_refusal_from_a_line_is_a_visit_of_the_page_that_says_why(signed_in):
    u = signed_in
    event_id, _response, soup = _line_action(u, "block")
    fields = {i["name"]: i["value"] for i in soup.select("form input[type=hidden]")}
    u.client.post(f"/history/{event_id}/block", data=fields, headers=HX)
    again = {**fields, "token": "another-token-123456"}
    response = u.client.post(f"/history/{event_id}/block", data=again, headers=HX)  # a stale line: already blocked
    assert response.headers["HX-Redirect"] == "/space"
    assert u.get("/space").soup.select_one(".notice[role=status]")  # the flashed refusal, said on the page


def test_an_expired_form_under_htmx_replaces_the_whole_page(signed_in):
    u = signed_in
    event_id, _response, soup = _line_action(u, "block")
    fields = {i["name"]: i["value"] for i in soup.select("form input[type=hidden]")}
    response = u.client.post(f"/history/{event_id}/block", data={**fields, "csrf_token": "x"}, headers=HX)
    assert response.status_code == 400 and response.headers["HX-Retarget"] == "body"


def test_without_htmx_block_and_report_are_pages_as_before(signed_in):
    u = signed_in
    page = u.get("/history")
    confirm = u.get(page.link("Block this professional"))
    assert confirm.h1 == "Block this professional?" and not confirm.soup.select("[data-hx-post], [data-hx-get]")
    assert u.submit(confirm).h1 == "The professional is blocked"


# --- identification: the slip of a field, as the person leaves it ------------------------------------

@pytest.fixture
def checks(app):
    return app.test_client()


def test_the_identification_fields_ask_for_their_slip_when_left(client):
    soup = BeautifulSoup(client.get("/identify").get_data(as_text=True), "html.parser")
    for name in ("nir", "vitale_serial"):
        field = soup.select_one(f"#{name}")
        assert field["data-hx-get"] == "/identify/check" and field["data-hx-trigger"] == "blur changed"
        assert field["data-hx-target"] == f"#{name}-slip"
        assert field["aria-describedby"] == f"{name}-hint {name}-slip"
        slip = soup.select_one(f"#{name}-slip")
        assert slip["aria-live"] == "polite" and not slip.get_text(strip=True)
    for name in ("birth_date", "code"):
        assert not soup.select_one(f"#{name}").has_attr("data-hx-get")
        assert soup.select_one(f"#{name}")["aria-describedby"] == f"{name}-hint"


@pytest.mark.parametrize("lang,args,said", [
    ("en", {"nir": "80123456789"}, "This looks like the number of your Vitale card."),
    ("en", {"nir": "2 84 12 76 451 089"}, "Your number has 13 characters. Add the 2-digit key at the end"),
    ("en", {"nir": "2 40 03 75 112 005 68"}, "This number is not right. Check each digit"),
    ("en", {"nir": "x" * 500}, "Your social security number has 15 characters"),
    ("en", {"vitale_serial": "240037511200567"}, "This looks like your social security number."),
    ("en", {"vitale_serial": "12AB"}, "The serial number of your Vitale card has digits only."),
    ("fr", {"nir": "80123456789"}, "numéro de votre carte Vitale"),
])
def test_a_slip_is_named_in_the_forms_own_words(checks, lang, args, said):
    checks.set_cookie("lang", lang)
    response = checks.get("/identify/check", query_string=args, headers=HX)
    assert response.status_code == 200 and said in response.get_data(as_text=True)
    assert "<" not in response.get_data(as_text=True)


@pytest.mark.parametrize("args", [{"nir": "2 40 03 75 112 005 67"}, {"nir": ""}, {"vitale_serial": "80123456789"}])
def test_nothing_to_say_clears_the_slip(checks, args):
    response = checks.get("/identify/check", query_string=args, headers=HX)
    assert response.status_code == 200 and response.get_data() == b""


@pytest.mark.parametrize("args", [{}, {"code": "ABCD"}, {"nir": "1", "vitale_serial": "2"}])
def test_only_the_two_numbers_one_at_a_time(checks, args):
    assert checks.get("/identify/check", query_string=args, headers=HX).status_code == 204


def test_the_check_looks_nothing_up(app, checks, enrol):
    holder = enrol()
    statements = []
    with app.app_context():
        engine = db.engine

    def count(*_args):
        statements.append(1)
    event.listen(engine, "before_cursor_execute", count)
    try:
        for value in (holder.nir, "213057505601783"):  # enrolled or not: the same empty answer, no query
            response = checks.get("/identify/check", query_string={"nir": value}, headers=HX)
            assert response.get_data() == b""
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert statements == []


@pytest.mark.parametrize("value", ["\x00", "é" * 41, "２４０", "2\u202f84", "<script>", "1" * 10_000, " ", "2A", "%00"])
def test_any_value_gets_a_plain_answer_never_an_error(checks, value):
    for name in ("nir", "vitale_serial"):
        response = checks.get("/identify/check", query_string={name: value}, headers=HX)
        assert response.status_code in (200, 204) and "<" not in response.get_data(as_text=True)
