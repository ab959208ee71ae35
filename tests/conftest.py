"""Shared fixtures: one app on a migrated database (SQLite, or PostgreSQL via DATABASE_URL), emptied after each test."""
import gzip
import os
import re
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from bs4 import BeautifulSoup

from app import clock, create_app
from app.models import db
from app.services import identity

TEST_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-secret",
    "LOOKUP_KEY": "test-lookup-key",
    # Cheap argon2 in tests only; production parameters are asserted in tests/unit/test_config.py.
    "ARGON2_TIME_COST": 1,
    "ARGON2_MEMORY_KIB": 1024,
    "ARGON2_PARALLELISM": 1,
    "TWILIO_AUTH_TOKEN": "test-auth-token",
    "PUBLIC_BASE_URL": "https://relais.test",
}


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    application = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url})
    from flask_migrate import upgrade
    with application.app_context():
        if url.startswith("postgresql"):
            db.drop_all()
            db.session.execute(db.text("DROP TABLE IF EXISTS alembic_version"))
            db.session.commit()
        upgrade()  # the schema comes from the migrations, so they are tested too
    return application


ISSUED: list[str] = []  # every code Relais made during the current test: letter codes and one-time codes


@pytest.fixture(autouse=True, scope="session")
def _record_codes():
    """Remember each code as it is made, so that each test can check no table of messages kept it."""
    from app.services import one_time
    make_letter_code, make_one_time = identity._issue_code, one_time.issue

    def letter_code(*args, **kwargs):
        code = make_letter_code(*args, **kwargs)
        ISSUED.append(code)
        return code

    def one_time_code(*args, **kwargs):
        code = make_one_time(*args, **kwargs)
        ISSUED.append(code)
        return code
    identity._issue_code, one_time.issue = letter_code, one_time_code
    yield
    identity._issue_code, one_time.issue = make_letter_code, one_time


def codes_kept_in_messages() -> list[str]:
    """Codes found in clear in the outbox or in the stored SMS replies (SPEC: never once they have served)."""
    from app.domain.identifiers import format_code
    from app.models import InboundMessage, OutboxMessage
    texts = [*db.session.scalars(db.select(OutboxMessage.body)), *db.session.scalars(db.select(InboundMessage.reply))]
    forms = {form for code in ISSUED for form in ((code, format_code(code)) if len(code) == 12 else (code,))}
    return sorted({form for form in forms for text in texts if form in (text or "")})


@pytest.fixture(autouse=True)
def _clean(app):
    ISSUED.clear()
    yield
    clock.freeze(None)
    with app.app_context():
        db.session.rollback()
        kept = codes_kept_in_messages()
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(table.delete())
        db.session.commit()
    assert not kept, f"codes kept in clear in a message table: {kept}"


@pytest.fixture
def ctx(app):
    """An application context, for tests that call services directly."""
    with app.app_context():
        yield


@dataclass
class Holder:
    """A person of the mailing batch, with what they would type to identify."""

    person_id: int
    nir: str
    vitale_serial: str
    birth_date: date
    code: str
    phone: str | None
    language: str

    def form(self) -> dict:
        return {"nir": self.nir, "vitale_serial": self.vitale_serial,
                "birth_date": self.birth_date.strftime("%d/%m/%Y"), "code": self.code}


NIRS = ["240037511200567", "189071305512376", "274112A00401768", "158016912345639", "213057505601783"]
# More valid NIRs for tests that need a crowd (a helper's 5 people): key = 97 - (first 13 digits mod 97).
NIRS += [f"1520364445{i:03d}{97 - int(f'1520364445{i:03d}') % 97:02d}" for i in range(10)]


def row(app, model, key):
    """One row, read in its own app context and detached: its columns stay readable after the context ends."""
    with app.app_context():
        found = db.session.get(model, key)
        if found is not None:
            db.session.expunge(found)
        return found


def actions_of(app, holder) -> list[str]:
    """The actions recorded on a holder's space, oldest first (their receipts)."""
    from app.models import ActionRecord
    with app.app_context():
        return list(db.session.scalars(db.select(ActionRecord.action).where(
            ActionRecord.subject_id == holder.person_id).order_by(ActionRecord.id)))


@pytest.fixture
def enrol(app):
    """enrol(days_ago=10, **fields) -> Holder: puts one person in the batch, letter sent `days_ago` days ago.

    The letter's code is valid 6 weeks; for an older letter (or with renew=True) the holder is given a
    new code issued today, as if they had asked for one, so that they can identify.
    """
    counter = iter(range(len(NIRS)))

    def make(days_ago: int = 10, nir: str | None = None, phone: str | None = "+33612345678",
             language: str = "fr", birth_date: date = date(1950, 3, 25), vitale_serial: str | None = None,
             given_name: str = "Jeanne", family_name: str = "Martin", renew: bool | None = None) -> Holder:
        i = next(counter)
        nir = nir or NIRS[i]
        serial = vitale_serial or f"8012345678{i}"
        with app.app_context():
            code = identity.enrol(identity.Enrolment(
                nir=nir, vitale_serial=serial, family_name=family_name, given_name=given_name,
                birth_date=birth_date, phone=phone, email=None, language=language,
                letter_sent_on=clock.today() - timedelta(days=days_ago)))
            person = identity.find_person_by_nir(nir)
            person_id = person.id
            if renew or (renew is None and days_ago > app.config["PROVISIONAL_CODE_VALID_DAYS"]):
                code = identity._issue_code(person, clock.today())
                db.session.commit()
        return Holder(person_id, nir, serial, birth_date, code, phone, language)
    return make


# Every page a person can be shown: the statuses of a rendered template (views and error handlers), not
# redirects and not assets.
RENDERED_STATUSES = frozenset({200, 400, 403, 404, 405, 413, 429, 500})
SITE_SUFFIX = " – Relais"  # what templates/base.html puts after the page's own title
ERROR_PREFIXES = ("Error:", "Erreur :")  # base.html's "Error:" (en, fr) before a title when the page shows errors
PAGE_LANGUAGES = ("fr", "en")


def _spaces(text: str) -> str:
    return " ".join(text.split())


def check_page(soup: BeautifulSoup, url: str) -> None:
    """The rules every rendered page keeps, as GOV.UK notifications-admin's `client_request` checks them.

    Raises AssertionError naming the rule, the URL and what broke it:
    - exactly one <h1>, not empty;
    - the <title> is the h1 then the site's suffix ("<h1> – Relais"), after base.html's "Error:"/"Erreur :"
      prefix, which is allowed only on a page that shows an error summary;
    - no two elements share an id;
    - every <form method="post"> carries an <input name="csrf_token"> with a value;
    - <html lang> is "fr" or "en".
    """
    h1s = soup.find_all("h1")
    assert len(h1s) == 1, f"one <h1> per page: {url} has {len(h1s)}: {[_spaces(h.get_text(' ')) for h in h1s]}"
    h1 = _spaces(h1s[0].get_text(" "))
    assert h1, f"the <h1> has text: {url} has an empty <h1>: {h1s[0]}"

    titles = soup.find_all("title")
    assert len(titles) == 1, f"one <title> per page: {url} has {len(titles)}"
    title = _spaces(titles[0].get_text(" "))
    own = title
    prefix = next((p for p in ERROR_PREFIXES if title.startswith(p + " ")), None)
    if prefix:
        assert soup.select_one(".error-summary"), \
            f"the title says {prefix!r} only when the page shows an error summary: {url} has title {title!r} and none"
        own = title.removeprefix(prefix).lstrip()
    assert own.startswith(h1), f"the <title> starts with the <h1>: {url} has title {title!r} and h1 {h1!r}"
    assert own.endswith(SITE_SUFFIX), f"the <title> ends with {SITE_SUFFIX!r}: {url} has title {title!r}"

    ids: dict[str, int] = {}
    for element in soup.find_all(id=True):
        ids[element["id"]] = ids.get(element["id"], 0) + 1
    duplicates = sorted(i for i, n in ids.items() if n > 1)
    assert not duplicates, f"no duplicate ids: {url} repeats {duplicates}"

    for form in soup.find_all("form"):
        if form.get("method", "get").lower() != "post":
            continue
        tokens = [i.get("value", "") for i in form.find_all("input", attrs={"name": "csrf_token"})]
        assert any(t.strip() for t in tokens), \
            f"a CSRF token in every POST form: {url} has a form to {form.get('action')!r} with tokens {tokens}"

    html = soup.find("html")
    lang = html.get("lang") if html else None
    assert lang in PAGE_LANGUAGES, f"<html lang> is one of {PAGE_LANGUAGES}: {url} has lang={lang!r}"


class Page:
    """A response read as a person would: status, where it went, the parsed page.

    Every rendered HTML page is checked on arrival (`check_page`). A page may skip the check only with
    `unchecked_because="<why this page cannot keep the rules>"`; no page needs it today.
    """

    def __init__(self, response, unchecked_because: str | None = None):
        self.response = response
        self.status = response.status_code
        self.location = response.headers.get("Location")
        raw = response.get_data()
        self.wire_bytes = len(raw)  # as sent: compressed when the client asked for gzip
        if response.headers.get("Content-Encoding") == "gzip":
            raw = gzip.decompress(raw)
        self.html = raw.decode("utf-8")
        self.soup = BeautifulSoup(self.html, "html.parser")
        request = getattr(response, "request", None)
        self.url = (request.full_path.removesuffix("?") if request is not None else "?")
        if response.mimetype == "text/html" and self.status in RENDERED_STATUSES:
            if unchecked_because is None:
                check_page(self.soup, f"{self.url} ({self.status})")
            else:
                assert unchecked_because.strip(), f"a page skips the page checks only with a reason: {self.url}"

    @property
    def h1(self) -> str:
        h = self.soup.find("h1")
        return h.get_text(" ", strip=True) if h else ""

    @property
    def title(self) -> str:
        return self.soup.title.get_text(strip=True) if self.soup.title else ""

    @property
    def text(self) -> str:
        return " ".join(self.soup.get_text(" ").split())

    @property
    def errors(self) -> list[str]:
        box = self.soup.select_one(".error-summary")
        return [li.get_text(" ", strip=True) for li in box.select("li")] if box else []

    def field_error(self, field_id: str) -> str:
        p = self.soup.select_one(f"#{field_id}-error")
        return p.get_text(" ", strip=True).removeprefix("Error:").removeprefix("Erreur :").strip() if p else ""

    @property
    def reference(self) -> str:
        ref = self.soup.select_one(".ref")
        return re.sub(r"\s", "", ref.get_text()) if ref else ""

    def link(self, text: str) -> str:
        for a in self.soup.find_all("a"):
            if text in a.get_text(" ", strip=True):
                return a["href"]
        raise AssertionError(f"no link {text!r} on {self.h1!r}")


class User:
    """Drives the portal through the Flask test client, without JavaScript, like a person with a browser."""

    def __init__(self, client, lang: str = "fr", encoding: str = "identity"):
        self.client = client
        self.lang = lang
        self.encoding = encoding
        self.pages: list[tuple[str, Page]] = []
        client.set_cookie("lang", lang)

    def get(self, url: str, follow: bool = True, unchecked_because: str | None = None) -> Page:
        """GET `url` (following redirects); each page is checked by Page, see `check_page`."""
        page = Page(self.client.get(url, headers={"Accept-Encoding": self.encoding}), unchecked_because)
        self.pages.append((url, page))
        if follow and page.status in (301, 302, 303) and page.location:
            return self.get(page.location)
        return page

    def submit(self, page: Page, data: dict | None = None, form_index: int = -1, follow: bool = True,
               unchecked_because: str | None = None) -> Page:
        """Fill the page's form (the last one by default: the header's sign-out form comes first).

        The answer is checked by Page (see `check_page`); so are the pages a redirect leads to.
        """
        forms = [f for f in page.soup.find_all("form") if f.get("method", "get").lower() == "post"]
        form = forms[form_index]
        fields = {i["name"]: i.get("value", "") for i in form.find_all("input")
                  if i.get("name") and i.get("type") not in ("radio", "checkbox")}
        fields.update(data or {})
        action = form.get("action") or "/"
        response = self.client.post(action, data=fields, headers={"Accept-Encoding": self.encoding})
        result = Page(response, unchecked_because)
        self.pages.append((action, result))
        if follow and result.status in (301, 302, 303) and result.location:
            return self.get(result.location)
        return result

    def identify(self, holder: Holder, next_step: str | None = None, **overrides) -> Page:
        page = self.get("/identify" + (f"?next={next_step}" if next_step else ""))
        return self.submit(page, {**holder.form(), **overrides})


@pytest.fixture
def user(client):
    return User(client, "fr")


@pytest.fixture
def user_en(app):
    return User(app.test_client(), "en")


@pytest.fixture
def client(app):
    return app.test_client()


class Caller:
    """A phone call as Twilio makes it: signed webhooks, following <Gather action>, <Redirect>, <Hangup>."""

    def __init__(self, app, client=None, caller: str = "+33612345678", sid: str | None = None):
        import uuid
        self.app, self.client = app, client or app.test_client()
        self.sid = sid or "CA" + uuid.uuid4().hex
        self.caller = caller
        self.said: list[str] = []       # everything said since the call began, in order
        self.last: list[str] = []       # what the last answer said
        self.languages: list[str] = []  # the language of each <Say> of the last answer
        self.action: str | None = None
        self.gather: dict = {}
        self.dial: dict | None = None   # a <Dial> to an adviser: its attributes and the <Number> with its whisper
        self.pauses = 0                 # seconds of <Pause> in the last answer
        self.ended = False
        self.responses = 0

    def _signed_post(self, url: str, params: dict, signature: str | None = None):
        from twilio.request_validator import RequestValidator
        validator = RequestValidator(self.app.config["TWILIO_AUTH_TOKEN"])
        if signature is None:
            signature = validator.compute_signature(self.app.config["PUBLIC_BASE_URL"] + url, params)
        return self.client.post(url, data=params, headers={"X-Twilio-Signature": signature})

    def params(self, **extra) -> dict:
        return {"CallSid": self.sid, "AccountSid": "AC" + "0" * 32, "From": self.caller, "To": "+33900003422",
                "CallStatus": "in-progress", "Direction": "inbound", **extra}

    def _answer(self, response) -> "Caller":
        import xml.etree.ElementTree as ET
        assert response.status_code == 200, response.status_code
        assert response.mimetype == "text/xml"
        root = ET.fromstring(response.get_data(as_text=True))
        self.responses += 1
        self.last, self.languages, self.action, self.gather, self.dial, self.pauses = [], [], None, {}, None, 0
        for el in root.iter():
            if el.tag == "Pause":
                self.pauses += int(el.get("length", "1"))
            elif el.tag == "Dial":
                number = el.find("Number")
                self.dial = {**el.attrib, "number": number.text if number is not None else None,
                             "whisper": number.get("url") if number is not None else None}
            elif el.tag == "Say":
                self.last.append(el.text or "")
                self.languages.append(el.get("language"))
            elif el.tag == "Gather":
                self.action, self.gather = el.get("action"), dict(el.attrib)
            elif el.tag == "Hangup":
                self.ended = True
        self.said.extend(self.last)
        redirect = root.find("Redirect")
        if redirect is not None and not self.ended:
            return self._answer(self._signed_post(redirect.text, self.params()))
        return self

    @property
    def text(self) -> str:
        return " ".join(self.last)

    def start(self) -> "Caller":
        return self._answer(self._signed_post("/ivr/voice", self.params()))

    def press(self, digits: str) -> "Caller":
        assert self.action and not self.ended, "nothing is waiting for an answer"
        return self._answer(self._signed_post(self.action, self.params(Digits=self._as_twilio(digits))))

    def _as_twilio(self, digits: str) -> str:
        """What Twilio posts: the finishing key left out, and no more than numDigits keys."""
        finish = self.gather.get("finishOnKey", "#")
        if finish and finish in digits:
            digits = digits[:digits.index(finish)]
        if self.gather.get("numDigits"):
            digits = digits[:int(self.gather["numDigits"])]
        return digits

    def speak(self, words: str) -> "Caller":
        assert self.action and "speech" in self.gather.get("input", ""), "speech is not accepted here"
        return self._answer(self._signed_post(self.action, self.params(SpeechResult=words, Confidence="0.9")))

    def dial_ends(self, status: str) -> "Caller":
        """The transfer to an adviser ended (Twilio's DialCallStatus: completed, no-answer, busy, failed)."""
        assert self.dial, "no transfer is under way"
        return self._answer(self._signed_post(self.dial["action"], self.params(DialCallStatus=status)))

    def silence(self) -> "Caller":
        assert self.gather.get("actionOnEmptyResult") == "true"
        return self._answer(self._signed_post(self.action, self.params()))

    def replay(self, digits: str):
        """The same webhook again, as Twilio retries it; returns the raw response."""
        return self._signed_post(self.action, self.params(Digits=self._as_twilio(digits)))

    def identify(self, holder: "Holder") -> "Caller":
        from app.domain.identifiers import keypad_form
        nir = holder.nir.replace("A", "*1").replace("B", "*2")
        self.press(nir + "#").press(holder.vitale_serial + "#")
        return self.press(holder.birth_date.strftime("%d%m%Y") + "#").press(keypad_form(holder.code) + "#")


@pytest.fixture
def call(app):
    """call(caller="+33...") -> a new Caller on the shared app."""
    return lambda **kw: Caller(app, **kw)


@pytest.fixture
def twilio(app):
    """The app sends through the real twilio client to a local fake Twilio; restored afterwards."""
    from tests.fake_twilio import FakeTwilio
    fake = FakeTwilio().start()
    saved = {k: app.config[k] for k in ("TWILIO_ACCOUNT_SID", "TWILIO_FROM_NUMBER", "TWILIO_API_URL")}
    app.config.update(TWILIO_ACCOUNT_SID="AC" + "1" * 32, TWILIO_FROM_NUMBER="+33900003422", TWILIO_API_URL=fake.url)
    yield fake
    fake.stop()
    app.config.update(saved)


class Texter:
    """A mobile phone sending SMS to Relais as Twilio delivers them: signed webhooks, one MessageSid each."""

    def __init__(self, app, phone: str = "+33612345678"):
        self.app, self.client, self.phone = app, app.test_client(), phone
        self.last_sid = None

    def send(self, body: str, sid: str | None = None) -> str:
        import uuid
        import xml.etree.ElementTree as ET

        from twilio.request_validator import RequestValidator
        self.last_sid = sid or "SM" + uuid.uuid4().hex
        params = {"MessageSid": self.last_sid, "AccountSid": "AC" + "0" * 32, "From": self.phone,
                  "To": "+33900003422", "Body": body, "NumMedia": "0"}
        url = self.app.config["PUBLIC_BASE_URL"] + "/ivr/sms"
        signature = RequestValidator(self.app.config["TWILIO_AUTH_TOKEN"]).compute_signature(url, params)
        response = self.client.post("/ivr/sms", data=params, headers={"X-Twilio-Signature": signature})
        assert response.status_code == 200, response.status_code
        message = ET.fromstring(response.get_data(as_text=True)).find("Message")
        return message.text if message is not None else ""


@pytest.fixture
def texter(app):
    return lambda phone="+33612345678": Texter(app, phone)
