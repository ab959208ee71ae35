"""A person going through the portal in Chromium, page after page, and every flow of the portal as a walk.

The same walks feed several checks (axe-core, reflow at 320 px): a `Walk` runs its `checks` on every page
it lands on and collects what they find, so one run reports every problem of every page at once. What the
walk itself expects (the right page, the error summary shown, no server error) fails at once, with the URL.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Callable

STAFF_PASSPHRASE = "violet tramway cinq hérissons"
WRONG_CODE = "AAAA-AAAA-AAAA"  # a well-formed letter code that is nobody's
UNKNOWN = {"nir": "213057505601783", "vitale_serial": "80123456789", "birth_date": "25/03/1950"}  # valid, not enrolled
MALFORMED = {"nir": "1 84 12", "vitale_serial": "12AB", "birth_date": "31/02/1950", "code": "ab"}  # a slip in each


class Walk:
    """One browser tab driven like a person would; `checks` run on every page it lands on."""

    def __init__(self, page, base: str, lang: str, checks: list[Callable] = ()):
        self.page, self.base, self.lang, self.checks = page, base, lang, list(checks)
        self.problems: list[str] = []   # from the checks, reported all together at the end
        self.visited: list[str] = []
        self.server_errors: list[str] = []
        page.on("response", self._on_response)

    # --- what every page goes through ------------------------------------------------------------

    def _on_response(self, response) -> None:
        if response.url.startswith(self.base) and response.status >= 500:
            self.server_errors.append(f"HTTP {response.status} {response.request.method} {response.url}")

    @property
    def path(self) -> str:
        return self.page.url.removeprefix(self.base)

    def check(self) -> None:
        assert not self.server_errors, "server error: " + "; ".join(self.server_errors)
        lang = self.page.locator("html").get_attribute("lang")
        assert lang == self.lang, f"{self.path}: page in {lang!r}, expected {self.lang!r}"
        self.visited.append(self.path)
        for check in self.checks:
            self.problems.extend(f"[{self.lang}] {self.path}: {p}" for p in check(self.page))

    def report(self) -> str:
        return f"{len(self.problems)} problem(s) on {len(self.visited)} pages:\n" + "\n".join(self.problems)

    # --- moving around ---------------------------------------------------------------------------

    def go(self, path: str, status: int = 200) -> "Walk":
        response = self.page.goto(self.base + path)
        assert response is not None, path
        assert response.status < 500, f"HTTP {response.status} on {path}"
        assert response.status == status, f"{path}: HTTP {response.status}, expected {status}"
        self.check()
        return self

    def click(self, selector: str, status: int = 200) -> "Walk":
        target = self.page.locator(selector).first
        assert target.count(), f"{self.path}: nothing matches {selector!r}"
        with self.page.expect_navigation() as navigation:
            target.click()
        response = navigation.value
        assert response is not None, f"{self.path}: {selector!r} did not load a page"
        assert response.status < 500, f"HTTP {response.status} after {selector!r} on {self.path}"
        assert response.status == status, f"{self.path}: HTTP {response.status} after {selector!r}, expected {status}"
        self.check()
        return self

    def swap(self, selector: str, expect: str) -> "Walk":
        """Click what htmx enhances: `expect` (a selector) appears in the same page, no page loaded; then the checks."""
        url = self.page.url
        self.page.evaluate("() => { window.__same = true; }")
        self.page.locator(selector).first.click()
        self.page.wait_for_selector(expect, state="attached")
        self.page.wait_for_function(
            "() => !document.querySelector('.htmx-request, .htmx-settling, .htmx-swapping, .htmx-added')")
        assert self.page.evaluate("() => window.__same === true"), f"{self.path}: {selector!r} loaded a page"
        assert self.page.url == url, f"{self.path}: {selector!r} changed the address from {url}"
        self.check()
        return self

    @property
    def htmx(self) -> bool:
        """htmx runs in this page (JavaScript on, and a page that loads it)."""
        return bool(self.page.evaluate("() => !!window.htmx"))

    def submit(self, values: dict | None = None, button: str = "main form button", status: int = 200) -> "Walk":
        for field, value in (values or {}).items():
            self.page.fill(f"#{field}", value)
        return self.click(button, status)

    # --- what the walk expects to see ------------------------------------------------------------

    def at(self, path: str) -> "Walk":
        assert self.path.split("?")[0] == path, f"at {self.path}, expected {path}"
        return self

    def sees(self, selector: str, count: int | None = None) -> "Walk":
        found = self.page.locator(selector).count()
        assert (found == count) if count is not None else found, f"{self.path}: {found} x {selector!r}"
        return self

    def has_errors(self, fields: int | None = None) -> "Walk":
        """The error summary is shown, the title says so, and each field in error is marked."""
        self.sees(".error-summary")
        title = self.page.title()
        assert title.startswith("Erreur" if self.lang == "fr" else "Error"), f"{self.path}: title {title!r}"
        if fields is not None:
            self.sees("[aria-invalid=true]", fields)
        return self

    def has_receipt(self) -> "Walk":
        self.sees(".panel .ref", 1)
        reference = self.page.locator(".ref").inner_text().replace(" ", "").replace("\u202f", "")
        assert len(reference) >= 6 and reference.isdigit(), f"{self.path}: reference {reference!r}"
        return self


@dataclass
class People:
    """What a walk needs to set the scene: enrol(...) from tests/conftest.py, history_of, lock and the app."""

    app: object
    enrol: Callable
    history_of: Callable

    def idle(self, minutes: int) -> None:
        """The clock of the app (shared with the live server) moved on, or back to real time with 0."""
        from datetime import datetime, timezone

        from app import clock
        clock.freeze(datetime.now(timezone.utc).replace(tzinfo=None) + timedelta(minutes=minutes) if minutes else None)

    def lock(self, holder) -> None:
        """Identification of this NIR paused, as after too many mistakes."""
        from app import clock
        from app.models import Throttle, db
        from app.services import identity
        with self.app.app_context():
            nir_key, _client_key = identity._keys(holder.nir, "127.0.0.1")
            now = clock.now()
            db.session.merge(Throttle(key=nir_key, failures=10, window_started_at=now, last_failure_at=now,
                                      locked_until=now + timedelta(hours=24)))
            db.session.commit()

    def staff(self, role: str = "agent") -> tuple[str, str]:
        """A member of staff of the desk, enrolled: (email, TOTP secret); the passphrase is STAFF_PASSPHRASE."""
        import pyotp

        from app.services import staff
        email, secret = f"{role}.{pyotp.random_base32()[:6].lower()}@staff.example", pyotp.random_base32()
        with self.app.app_context():
            staff.enrol_demo(email, role, f"{role.title()} Test", STAFF_PASSPHRASE, secret)
        return email, secret

    def report(self, holder) -> None:
        """An access to the holder's space, reported by them as not recognised."""
        from app import clock
        from app.services import Actor, access
        with self.app.app_context():
            event = access.record_access(access.AccessAttempt(
                nir=holder.nir, occurred_at=clock.now(), professional_name="Dr Inconnu", profession="Médecin",
                organisation="Clinique du Lac", mode="normal", section="Ordonnances",
                event_id=f"walk-report-{holder.nir}"), "api")[0]
            access.report_access(Actor(holder.person_id, "web"), holder.person_id, event.id, f"walk:{holder.nir}")

    def enrolment_link(self, role: str = "counsellor") -> str:
        from app.services import staff
        with self.app.app_context():
            return "/desk/enrol/" + staff.add(f"new.{role}@staff.example", role, "N. Nouveau")

    @staticmethod
    def totp(secret: str) -> str:
        import pyotp
        return pyotp.TOTP(secret).now()

    def new_code(self, holder):
        """A new letter code for someone who already used theirs, as if they had asked for one."""
        from app import clock
        from app.models import db
        from app.services import identity
        with self.app.app_context():
            holder.code = identity._issue_code(identity.find_person_by_nir(holder.nir), clock.today())
            db.session.commit()
        return holder


# --- the flows --------------------------------------------------------------------------------------

def walk_public(w: Walk, people: People) -> None:
    """Public pages, and every way identification can go wrong."""
    w.go("/").sees("h1", 1)
    w.go("/accessibility")
    w.go("/no-such-page", status=404)
    w.go("/signed-out")
    w.go("/space").at("/identify")                                   # not signed in: asked to identify

    w.go("/identify").submit().has_errors(fields=4)                  # four empty fields
    w.submit(MALFORMED).has_errors(fields=4)                         # four slips
    holder = people.enrol(days_ago=10)
    w.submit({**holder.form(), "code": WRONG_CODE}).has_errors(fields=0)   # "do not match", nothing revealed
    w.submit({"nir": holder.vitale_serial, "vitale_serial": holder.nir, "birth_date": "25/03/1950",
              "code": holder.code}).has_errors()                     # the two numbers swapped

    w.go("/code/new").submit().has_errors(fields=3)
    w.submit({k: MALFORMED[k] for k in ("nir", "vitale_serial", "birth_date")}).has_errors(fields=3)
    w.submit(UNKNOWN).at("/code/sent")                               # same answer for anyone

    w.go("/identify/sms").submit().has_errors(fields=3)
    w.submit({k: v for k, v in holder.form().items() if k != "code"}).at("/identify/sms/code")
    w.submit().has_errors(fields=1)
    w.submit({"code": "12"}).has_errors(fields=1)
    w.submit({"code": "000000"}).has_errors(fields=0)                # not right or expired

    people.lock(holder)                                              # too many attempts
    w.go("/identify").submit(holder.form()).has_errors(fields=0)
    w.go("/code/new").submit({k: v for k, v in holder.form().items() if k != "code"}).has_errors(fields=0)

    w.go("/identify")                                                # the form expired (CSRF): a 400 page
    w.page.context.clear_cookies()
    w.page.context.add_cookies([{"name": "lang", "value": w.lang, "url": w.base}])
    w.submit(holder.form(), status=400)

    other = "en" if w.lang == "fr" else "fr"                         # the language link
    w.go("/accessibility")
    w.lang = other
    w.click(f"header a[hreflang={other}]")
    w.go("/")                                                        # remembered


def walk_oppose(w: Walk, people: People) -> None:
    """A space in its 6 weeks: saying no, and what follows."""
    holder = people.enrol(days_ago=10)
    w.go("/identify?next=space").submit(holder.form()).at("/space").sees(".actions a[href='/oppose']")
    w.go("/emergency")
    w.go("/history/activity").sees(".entry", 0)
    w.go("/space").click(".actions a[href='/oppose']").at("/oppose")
    w.click("main form button.warning").has_receipt()
    w.go("/space")                                                   # opposed
    w.go("/oppose").at("/space").sees(".notice[role=status]")        # not possible now: said plainly
    w.go("/history/activity").sees(".entry", 1)
    w.go("/receipt/000000000", status=404)
    w.click("header form button").at("/signed-out")


def confirm_from_line(w: Walk, kind: str, button: str) -> None:
    """Block or report from a history line: its own page without JavaScript; with it, htmx asks and answers in the
    line (the page of its own still visited, for the checks)."""
    link = f".entry a[href$='/{kind}']"
    if not w.htmx:
        w.click(link)
        w.click(f"main form {button}").has_receipt()
        return
    w.go(w.page.locator(link).first.get_attribute("href"))
    w.go("/history")
    w.swap(link, f".entry form {button}")
    w.swap(f".entry form {button}", ".entry .panel .ref").has_receipt()


def walk_history(w: Walk, people: People) -> None:
    """An open space with a long history: too late to say no, pages, dates, block, report, unblock."""
    holder = people.enrol(days_ago=60)
    people.history_of(holder, 25)
    w.go("/identify?next=oppose").submit(holder.form()).at("/oppose").sees("a.button[href='/close']")  # too late
    w.click("main a.button.secondary").at("/space")                  # active
    w.go("/history").sees(".entry", 20).sees("nav a[rel=next]")
    w.go("/history?page=2").sees(".entry", 5)
    w.go("/history?from=xx").has_errors(fields=1)
    w.go("/history?from=02/01/2026&to=01/01/2026").has_errors(fields=1)
    w.go("/history?from=01/01/2000&to=31/12/2099").sees(".entry", 20)
    w.go("/history/activity").sees(".entry", 0)
    w.go("/history/blocked").sees(".entry", 0)
    w.go("/history")
    confirm_from_line(w, "block", "button.warning")
    w.go("/history")                                                 # a blocked line
    confirm_from_line(w, "report", "button")
    w.go("/history")                                                 # a reported line
    w.go("/history/blocked").sees(".entry", 1).click(".entry a[href$='/unblock']")
    w.click("main form button").has_receipt()
    w.go("/history/blocked").sees(".entry", 0)
    w.go("/history/activity").sees(".entry", 3)


def walk_settings(w: Walk, people: People) -> None:
    """An open space: every emergency setting both ways, close (with its error), reopen, idle time-out."""
    holder = people.enrol(days_ago=60)
    w.go("/identify?next=emergency").submit(holder.form()).at("/emergency")
    for change in ("masked/on", "samu/off", "break_glass/off", "samu/on", "break_glass/on", "masked/off"):
        w.go("/emergency/" + change)
        w.click("main form button").has_receipt()
        w.go("/emergency")                                           # the setting as it now is
    w.go("/space").click(".actions a[href='/notices']").at("/notices").sees("input[type=radio]", 3)
    w.page.check("#choice-discreet")                                 # messages that name nobody
    w.click("main form button").has_receipt()
    w.go("/notices").sees("#choice-discreet:checked")

    w.go("/reopen").at("/space").sees(".notice[role=status]")        # not possible now
    w.go("/close").sees("input[type=radio]", 2)
    w.click("main form button.warning").at("/close").has_errors(fields=0).sees("#choice-error")
    w.page.check("#choice-archive")
    w.click("main form button.warning").has_receipt()
    w.go("/space")                                                   # closed, archived
    w.go("/reopen").click("main form button").has_receipt()
    w.go("/close")
    w.page.check("#choice-delete")
    w.click("main form button.warning").has_receipt()
    w.go("/space")                                                   # closed, deletion due
    w.go("/reopen").click("main form button").has_receipt()           # deletion cancelled
    w.go("/history/activity")

    people.idle(minutes=20)                                          # away too long: signed out, told why
    w.go("/history").at("/identify").sees(".notice[role=status]")
    people.idle(minutes=0)


def walk_helpers(w: Walk, people: People) -> None:
    """Trusted helpers: the holder names them (slips, a plain refusal, the most allowed), one of them acts for the
    holder within a helper's limits, then the holder removes them."""
    holder = people.enrol(days_ago=60, given_name="Marcel", family_name="Petit", birth_date=date(1940, 2, 2))
    helpers = [people.enrol(days_ago=60, given_name="Nadia", family_name=f"Benali-Laurent {i}",
                            birth_date=date(1970 + i, 5, 5)) for i in range(4)]
    born = [h.birth_date.strftime("%d/%m/%Y") for h in helpers]
    w.go("/identify?next=helpers_page").submit(holder.form()).at("/helpers").sees(".entry", 0)
    w.click("main a[href='/helpers/new']").at("/helpers/new").sees("input[type=radio]", 3)
    w.submit().has_errors(fields=2).sees("#months-error")            # nothing typed: three errors
    w.submit({"nir": "189071305512377", "birth_date": "31/02/1975"}).has_errors(fields=2)  # wrong key, no such day
    w.page.check("#months-6")
    w.submit({"nir": helpers[0].nir, "birth_date": "06/05/1970"}).has_errors(fields=0)  # nobody: one plain answer
    w.submit({"birth_date": born[0]}).has_receipt()
    w.go("/helpers").sees(".entry", 1)
    for helper, day in zip(helpers[1:3], born[1:3]):
        w.go("/helpers/new")
        w.page.check("#months-3")
        w.submit({"nir": helper.nir, "birth_date": day}).has_receipt()
    w.go("/helpers").sees(".entry", 3).sees("main a[href='/helpers/new']", 0)   # the most allowed
    w.go("/helpers/new")
    w.page.check("#months-12")
    w.submit({"nir": helpers[3].nir, "birth_date": born[3]}).has_errors(fields=0)  # a 4th: refused plainly
    w.go("/helpers").click(".entry a[href$='/remove']")               # the confirmation, then cancel
    w.click("main a.button.secondary").at("/helpers")
    w.click("header form button").at("/signed-out")

    w.go("/identify").submit(helpers[0].form()).at("/acting-for")    # the helper: whom for?
    w.click("main form button").at("/acting-for").has_errors(fields=0)
    w.page.check(f"#person-{holder.person_id}")
    w.click("main form button").at("/space").sees("main .notice.acting")
    w.sees("main a[href='/close']", 0).sees("main a[href='/helpers']", 0)
    w.go("/history").sees("main .notice.acting")
    w.go("/history/activity").sees(".entry", 3)
    w.go("/emergency").click("a[href='/emergency/break_glass/off']")
    w.click("main form button").has_receipt().sees("main .notice.acting")
    w.go("/close").at("/space").sees(".notice[role=status]")         # not for a helper: said plainly
    w.go("/helpers").at("/space").sees(".notice[role=status]")
    w.go("/notices").at("/space").sees(".notice[role=status]")       # the holder's own messages: not a helper's
    w.go("/space").click("main .notice.acting a").at("/acting-for")  # «Change»
    w.click("header form button").at("/signed-out")

    people.new_code(holder)                                          # the holder, back, removes the helper
    w.go("/identify?next=helpers_page").submit(holder.form()).at("/helpers").sees(".entry", 3)
    w.click(".entry a[href$='/remove']")
    w.click("main form button").has_receipt()
    w.go("/helpers").sees(".entry", 2)
    w.go("/history/activity").sees(".entry", 5)


def walk_desk(w: Walk, people: People) -> None:
    """The desk: a wrong sign-in, then a case opened, the person identified with them, an act, the case closed;
    then a new member of staff's enrolment (passphrase, authenticator)."""
    email, secret = people.staff("agent")
    holder = people.enrol(days_ago=60)
    w.go("/desk/").at("/desk/sign-in")
    w.submit({"email": email, "passphrase": "not the right passphrase", "code": "000000"}).has_errors(fields=0)
    w.submit({"email": email, "passphrase": STAFF_PASSPHRASE, "code": people.totp(secret)}).at("/desk/")
    w.click("main form[action$='/transfer'] button", status=400).has_errors(fields=1)  # no desk code typed
    w.click("main form[action$='/desk/cases'] button", status=400).has_errors(fields=0)  # no reason given
    w.page.check("#reason-call")
    w.click("main form[action$='/desk/cases'] button").sees("#nir")
    w.submit({**holder.form(), "vitale_serial": "80000000000"}).has_errors(fields=0)  # a wrong serial
    w.click("main a[href$='/identify/sms']").sees("#vitale_serial")   # no letter: a code by SMS instead
    w.click("main a[href$='/identify']").sees("#code")                # back to the letter
    w.submit(holder.form()).sees("main .actions a")
    w.click("main a[href$='/helpers/new']").sees("input[name=months]", 3)  # a trusted helper: the form
    w.click("main a.button.secondary")                                # cancel: back to the case
    w.click("main .actions a[href$='/do/samu-off']")
    w.click("main form button").has_receipt()
    w.click("main a[href*='/desk/cases/']")                           # back to the case
    w.click("main form button.secondary").at("/desk/")                # the case closed
    w.click("header a[href='/desk/callbacks']").at("/desk/callbacks")  # the callbacks queue (none)
    people.report(holder)
    w.click("header a[href='/desk/reports']").at("/desk/reports").click("main .entry a")
    w.click("main form button")                                       # take the report
    w.submit({"note": "rappeler au 06 12 34 56 78"}, button="main form[action$='/note'] button",
             status=400).has_errors(fields=1)                         # a number in a note: refused
    w.submit({"note": "Clinique appelée : homonyme."}, button="main form[action$='/note'] button")
    w.click("main form[action$='/close'] button").sees("main form", 0)  # closed: the person is told
    w.click("header form button").at("/desk/sign-in")
    boss, boss_key = people.staff("supervisor")                      # a supervisor's picture of the service
    w.submit({"email": boss, "passphrase": STAFF_PASSPHRASE, "code": people.totp(boss_key)}).at("/desk/")
    parent = people.enrol(days_ago=60, birth_date=date(1980, 1, 1))   # a parent records their child
    child = people.enrol(days_ago=60, birth_date=date(2015, 5, 14))
    w.page.check("#reason-appointment")
    w.click("main form[action$='/desk/cases'] button").submit(parent.form()).sees("main .actions a")
    w.click("main a[href$='/mandates']").sees("input[name=kind]", 3)
    w.page.check("#kind-parent")
    mandate = {"nir": child.nir, "birth_date": "14/05/2015", "valid_from": "01/12/2026", "document": "livret"}
    w.submit({**mandate, "birth_date": "01/01/2015"}, button="main form[action$='/mandates'] button",
             status=400).has_errors(fields=0)                         # the wrong date of birth: one answer
    w.page.check("#kind-parent")
    w.submit(mandate, button="main form[action$='/mandates'] button").sees("main form[action$='/end']", 1)
    w.click("header a[href='/desk/dashboard']").sees("main svg", 3)
    w.click("header a[href='/desk/messages']").at("/desk/messages")
    w.click("header form button").at("/desk/sign-in")

    w.go(people.enrolment_link())
    w.submit({"passphrase": "short", "again": "short"}).has_errors(fields=0)
    w.submit({"passphrase": STAFF_PASSPHRASE, "again": STAFF_PASSPHRASE}).sees(".qr svg")
    key = w.page.locator(".ref").inner_text().replace(" ", "")
    w.submit({"code": people.totp(key)}).at("/desk/sign-in")


FLOWS = {"public": walk_public, "oppose": walk_oppose, "history": walk_history, "settings": walk_settings,
         "helpers": walk_helpers, "desk": walk_desk}
