"""QUALITY §1: every page of every flow, both languages, errors included, fits 14 KB with its stylesheet; htmx, the
one script, is counted apart (a year in the browser's cache after the first page that loads it) and loaded only by
the pages it enhances."""
import re
from datetime import date, timedelta
from urllib.parse import urlparse

import pytest

from app import clock
from app.services import access
from tests.conftest import User

BUDGET = 14_000  # bytes on the wire: HTML + stylesheets, gzip; 10 TCP segments of 1460 B is 14 600
HTMX_BUDGET = 17_500  # htmx 2.0.11's min.js is 16.8 KB in gzip: fetched once, deferred, the page usable before it
HTMX_PATHS = ("/identify", "/history")  # the pages htmx enhances: the slip hints; the dates, pages and line actions


def _walk(app, enrol, lang) -> User:
    """Every flow of the portal, with its error states, as one person per flow would go through it."""
    def new_user():
        return User(app.test_client(), lang, encoding="gzip")

    u = new_user()
    for url in ("/", "/accessibility", "/identify", "/code/new", "/nope", "/signed-out"):
        u.get(url)
    u.submit(u.get("/identify"), {})                                   # four empty fields
    u.submit(u.get("/identify"), {"nir": "80123456789", "vitale_serial": "240037511200567",
                                  "birth_date": "xx", "code": "1"})   # every slip
    u.submit(u.get("/code/new"), {})
    u.submit(u.get("/identify/sms"), {})                              # lost letter: code by SMS
    u.submit(u.submit(u.get("/identify/sms"), {"nir": "240037511200567", "vitale_serial": "80123456789",
                                               "birth_date": "01/01/1950"}), {"code": "12"})
    opp = enrol(days_ago=10)
    u.identify(opp, code="AAAA-AAAA-AAAA")                            # the non-revealing failure
    u.submit(u.get("/code/new"), {"nir": opp.nir, "vitale_serial": opp.vitale_serial,
                                  "birth_date": opp.birth_date.strftime("%d/%m/%Y")})
    u.submit(u.identify(opp, next_step="oppose"))                     # oppose -> receipt
    u.get("/space")
    u.get("/history/activity")

    late = enrol(days_ago=60)
    with app.app_context():
        now = clock.now()
        for i in range(30):  # a long history: the heaviest page is a full one
            access.record_access(access.AccessAttempt(
                nir=late.nir, occurred_at=now - timedelta(hours=i * 7),
                professional_name="Dr Marie-Christine Delacroix-Fontaine",
                profession="Médecin anesthésiste-réanimateur",
                organisation="Centre hospitalier universitaire de Clermont-Ferrand, urgences adultes",
                mode=("samu", "break_glass", "normal")[i % 3], section="Comptes rendus d'hospitalisation",
                reason="Patient inconscient, pronostic vital engagé, aucune personne de confiance joignable"
                if i % 3 != 2 else None, professional_id=f"1010{i:07d}", event_id=f"b{lang}{i}"), "cli")
    u.identify(late, next_step="oppose")                              # window closed page
    history = u.get("/history")
    u.get(history.link("Older") if lang == "en" else "/history?page=2")
    u.get("/history?from=xx&to=yy")
    u.submit(u.get(history.soup.select(".entry a")[0]["href"]))      # block -> receipt
    u.submit(u.get(history.soup.select(".entry a")[1]["href"]))      # report -> receipt
    blocked = u.get("/history/blocked")
    u.submit(u.get(blocked.soup.select(".entry a")[0]["href"]))      # unblock -> receipt
    u.get("/emergency")
    for setting in ("masked/on", "samu/off", "break_glass/off"):
        u.submit(u.get(f"/emergency/{setting}"))
    u.get("/emergency")
    form = u.get("/close")
    u.submit(form, {})                                                # no choice: error
    u.submit(form, {"choice": "delete"})
    u.get("/space")
    u.submit(u.get("/reopen"))
    u.get("/history/activity")
    u.submit(u.get("/space"), form_index=0)                           # sign out

    parent = enrol(days_ago=60)                                       # a parent acting for a child
    child = enrol(days_ago=10, phone=None, birth_date=date(2015, 6, 1))
    with app.app_context():
        from app.services.mandates import import_mandate
        import_mandate(parent.nir, child.nir, "parent", clock.today(), None)
    chooser = u.identify(parent)
    u.submit(chooser, {})                                             # no choice: error
    u.submit(chooser, {"person": str(child.person_id)})               # the child's space, with the banner
    u.get("/emergency")
    u.get("/history/activity")
    u.submit(u.get("/space"), form_index=0)                           # sign out

    holder = enrol(days_ago=60, given_name="Marie-Christine", family_name="Delacroix-Fontaine")  # trusted helpers
    helpers = [enrol(days_ago=60, birth_date=date(1970 + i, 5, 5), given_name="Jean-Baptiste",
                     family_name=f"Castelnau-Montmirail {i}") for i in range(4)]
    u.identify(holder)
    u.get("/helpers")                                                 # none yet
    form = u.get("/helpers/new")
    u.submit(form, {})                                                # three empty fields
    u.submit(form, {"nir": "189071305512377", "birth_date": "xx", "months": "24"})  # a slip in each
    u.submit(form, {"nir": helpers[0].nir, "birth_date": "06/05/1970", "months": "6"})  # nobody: one plain answer
    u.submit(form, {"nir": helpers[0].nir, "birth_date": "05/05/1970", "months": "12"})  # named -> receipt
    listed = u.get("/helpers")                                        # one helper
    for helper in helpers[1:3]:
        u.submit(u.get("/helpers/new"), {"nir": helper.nir, "birth_date": helper.birth_date.strftime("%d/%m/%Y"),
                                         "months": "3"})
    u.get("/helpers")                                                 # three: the most allowed
    u.submit(u.get("/helpers/new"), {"nir": helpers[3].nir, "months": "3",
                                     "birth_date": helpers[3].birth_date.strftime("%d/%m/%Y")})  # a 4th: refused
    removal = u.get(listed.soup.select(".entry a")[0]["href"])        # remove: the confirmation

    h = new_user()                                                    # the first helper, acting for the holder
    chooser = h.identify(helpers[0])
    h.submit(chooser, {})                                             # no choice: error
    h.submit(chooser, {"person": str(holder.person_id)})              # the holder's space, as a helper sees it
    h.get("/history")
    h.get("/history/activity")
    h.get("/emergency")
    h.submit(h.get("/emergency/break_glass/off"))                     # receipt, done for the holder
    h.get("/close")                                                   # refused plainly
    h.get("/helpers")                                                 # refused plainly
    h.get("/acting-for")

    u.submit(removal)                                                 # removed -> receipt
    u.get("/helpers")
    u.get("/history/activity")                                        # «X, on behalf of Y»
    h.get("/space")                                                   # the helper falls back to themselves
    u.pages.extend(h.pages)
    u.pages.extend(_desk_walk(app, enrol, lang).pages)
    return u


def _desk_walk(app, enrol, lang):
    """The desk's pages (issue 14): sign-in and its errors, enrolment, a case, its acts and its history."""
    from app import clock
    from app.services import access, staff
    from tests.desk.conftest import PASSPHRASE, Desk
    secret = "BUDGETBUDGETBUDGETBUDGETBUDGETBU"
    email = f"budget.{lang}@staff.example"
    with app.app_context():
        staff.enrol_demo(email, "agent", "A. Dupont", PASSPHRASE, secret)
        link = "/desk/enrol/" + staff.add(f"new.{lang}@staff.example", "counsellor", "N. Nouveau")
    d = Desk(app.test_client(), lang, email, secret)
    d.encoding = "gzip"
    d.get("/desk/enrol/nothing")                                      # a dead link
    enrolling = d.get(link)
    d.submit(enrolling, {"passphrase": "short", "again": "short"})    # refused
    d.submit(enrolling, {"passphrase": PASSPHRASE, "again": PASSPHRASE})  # the QR code and the key
    d.submit(d.get("/desk/sign-in"), {})                              # three empty fields
    d.sign_in(passphrase="wrong wrong wrong wrong")
    home = d.sign_in()
    d.submit(home, {})                                                # a case without a reason
    holder = enrol(days_ago=60, language=lang)
    for i in range(25):
        with app.app_context():
            access.record_access(access.AccessAttempt(
                nir=holder.nir, occurred_at=clock.now(), professional_name=f"Dr Marie-Bénédicte Lefèvre-Saint {i}",
                profession="Médecin anesthésiste-réanimateur", organisation="Centre hospitalier universitaire",
                mode="normal", section="Ordonnances", event_id=f"budget-desk-{lang}-{i}"), "api")
    case_id, identify = d.open_case("appointment")
    d.submit(identify, {**holder.form(), "vitale_serial": "80000000000"})  # no match
    d.get(f"/desk/cases/{case_id}/identify/sms")                      # no letter: a code by SMS
    case = d.identify(holder, identify)
    d.submit(d.get(case.soup.select_one("main a[href$='/do/samu-off']")["href"]))  # the act, then its receipt
    d.get(f"/desk/cases/{case_id}/history")
    d.get(f"/desk/cases/{case_id}/history?page=2")
    d.submit(d.get(d.get(f"/desk/cases/{case_id}/history").soup.select(".entry a")[0]["href"]))
    d.get(f"/desk/cases/{case_id}")
    with app.app_context():  # a report to handle: the queue, the report, a refused note, a note, closed
        from app.models import AccessEvent, db
        from app.services import Actor
        event_id = db.session.scalar(db.select(AccessEvent.id).where(AccessEvent.person_id == holder.person_id)
                                     .order_by(AccessEvent.id.desc()))
        access.report_access(Actor(holder.person_id, "web"), holder.person_id, event_id, f"budget:{lang}")
    report = d.get(d.get("/desk/reports").soup.select_one(".entry a")["href"])
    taken = d.submit(report)
    d.submit(taken, {"note": "06 12 34 56 78"}, form_index=1)
    noted = d.submit(taken, {"note": "Clinique appelée : homonyme. " * 30}, form_index=1)
    d.submit(noted, {}, form_index=2)
    d.get("/desk/callbacks")
    d.get("/desk/nope")
    with app.app_context():
        staff.enrol_demo(f"boss.{lang}@staff.example", "supervisor", "M. Lefèvre", PASSPHRASE, secret)
    boss = Desk(app.test_client(), lang, f"boss.{lang}@staff.example", secret)
    boss.encoding = "gzip"
    boss.sign_in(shift=1)
    boss.get("/desk/dashboard")
    boss.get("/desk/messages")
    child = enrol(days_ago=60, language=lang, birth_date=date(2015, 5, 14), phone=None)
    parent = enrol(days_ago=60, language=lang, birth_date=date(1980, 1, 1))
    case_id, identify = boss.open_case("appointment")
    boss.identify(parent, identify)
    mandates = boss.get(f"/desk/cases/{case_id}/mandates")
    boss.submit(mandates, {})                                         # every field missing
    boss.submit(mandates, {"kind": "parent", "nir": child.nir, "birth_date": "14/05/2015",
                           "valid_from": "01/12/2026", "document": "livret de famille"})
    d.pages.extend(boss.pages)
    return d


def _stylesheet_bytes(client, html: str, cache: dict) -> int:
    total = 0
    for href in re.findall(r'<link rel="stylesheet" href="([^"]+)"', html):
        if href not in cache:
            response = client.get(href, headers={"Accept-Encoding": "gzip"})
            assert response.status_code == 200
            assert response.headers.get("Content-Encoding") == "gzip", href  # a browser that offers only gzip
            cache[href] = len(response.get_data())
        total += cache[href]
    return total


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_every_page_fits_14_kb_with_its_stylesheet(app, enrol, lang):
    u = _walk(app, enrol, lang)
    css: dict[str, int] = {}
    seen = 0
    report = []
    for url, page in u.pages:
        if page.status in (301, 302, 303):
            continue
        assert page.status != 500, url
        seen += 1
        total = page.wire_bytes + _stylesheet_bytes(u.client, page.html, css)
        report.append((total, url))
        assert total <= BUDGET, f"{url} weighs {total} B gzip with its CSS (budget {BUDGET})"
    assert seen >= 35
    print(f"\n{lang}: {seen} pages; heaviest {max(report)}")


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_no_request_to_another_origin_and_no_script(app, enrol, lang):
    u = _walk(app, enrol, lang)
    for url, page in u.pages:
        if page.status in (301, 302, 303):
            continue
        for tag in page.soup.find_all(True):
            for attr in ("src", "href", "action", "srcset", "data", "poster"):
                value = tag.get(attr)
                if value:
                    parsed = urlparse(value)
                    assert not parsed.netloc and parsed.scheme in ("", "data"), f"{url}: off-origin {value}"
        scripts = page.soup.find_all("script")
        if urlparse(page.url).path in HTMX_PATHS and page.status == 200:
            assert len(scripts) == 1, f"{url}: {scripts}"
            assert re.fullmatch(r"/assets/htmx\.min\.[0-9a-f]{10}\.js", scripts[0].get("src", "")), scripts[0]
            assert scripts[0].has_attr("defer") and not scripts[0].string, f"{url}: {scripts[0]}"
        else:
            assert not scripts, f"{url}: a script on a page htmx does not enhance"
            assert "hx-" not in page.html, f"{url}: htmx attributes without htmx"
        assert not re.search(r"<[^>]+\son[a-z]+=", page.html), f"{url}: an inline event handler (the CSP blocks it)"
        assert 'style="' not in page.html, f"{url}: an inline style (the CSP blocks it)"


def test_htmx_is_counted_apart_and_cached_for_a_year(app, enrol):
    """The script's own budget, in gzip as an older phone asks for it; loaded by the history and identification
    pages only, and kept a year (its name changes with its content)."""
    client = app.test_client()
    src = re.search(r'<script src="([^"]+)" defer>', client.get("/identify").get_data(as_text=True)).group(1)
    response = client.get(src, headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200 and response.headers["Content-Encoding"] == "gzip"
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    size = len(response.get_data())
    assert size <= HTMX_BUDGET, f"htmx weighs {size} B gzip (budget {HTMX_BUDGET})"
    for path in ("/", "/accessibility", "/code/new", "/identify/sms", "/signed-out"):
        assert "<script" not in client.get(path).get_data(as_text=True), path
    print(f"\nhtmx: {size} B gzip, apart from the pages' {BUDGET} B")
