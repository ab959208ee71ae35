"""Staff of the desk (issue 14): enrolment by a one-time link (passphrase, then an authenticator), sign-in with
both, lockout, TOTP replay, disabled accounts, sessions of their own on /desk, every page no-store."""
import re
from datetime import timedelta

import pyotp
import pytest

from app import clock
from app.models import AuditEntry, Staff, StaffSession, db
from app.services import staff

from .conftest import PASSPHRASE, Desk, code_now


def link_of(output: str) -> str:
    return re.search(r"(/desk/enrol/[A-Za-z0-9_-]+)", output).group(1)


def test_enrolment_from_the_command_to_the_first_sign_in(app):
    result = app.test_cli_runner().invoke(args=["staff", "add", "B.Martin@Staff.example", "--role", "agent",
                                                "--name", "B. Martin"])
    assert result.exit_code == 0 and "24 hours" in result.output
    link = link_of(result.output)
    desk = Desk(app.test_client(), "en", "b.martin@staff.example")
    page = desk.get(link)
    assert page.h1 == "Create your desk account" and "B. Martin" in page.text
    for weak, said in (("short", "at least 12"), ("password1234", "most common"), ("aaaaaaaaaaaa", "easy to guess"),
                       ("b.martin@staff.example", "easy to guess")):
        answer = desk.submit(page, {"passphrase": weak, "again": weak})
        assert said in answer.text, weak
    answer = desk.submit(page, {"passphrase": PASSPHRASE, "again": PASSPHRASE + "x"})
    assert "not the same" in answer.text
    totp = desk.submit(page, {"passphrase": PASSPHRASE, "again": PASSPHRASE})
    assert totp.h1 == "Register your authenticator app"
    assert totp.soup.select_one(".qr svg") is not None and PASSPHRASE not in totp.html
    secret = totp.soup.select_one(".ref").get_text().replace(" ", "")
    assert len(secret) == 32 and "otpauth" not in totp.text
    wrong = desk.submit(totp, {"code": "000000" if code_now(secret) != "000000" else "111111"})
    assert wrong.errors and wrong.h1 == "Register your authenticator app"
    done = desk.submit(totp, {"code": code_now(secret)})
    assert done.h1 == "Sign in to the desk" and "account is ready" in done.text
    assert desk.get(link).status == 404  # single use
    desk.secret = secret
    with app.app_context():  # the code of the enrolment cannot sign in again (replay); the next one can
        db.session.execute(db.update(Staff).where(Staff.email == desk.email).values(totp_last_step=0))
        db.session.commit()
    home = desk.sign_in(shift=1)
    assert home.h1 == "Help a person", home.errors
    with app.app_context():
        member = db.session.scalar(db.select(Staff).where(Staff.email == desk.email))
        assert member.passphrase_hash.startswith("$argon2id$") and PASSPHRASE not in str(member.totp_sealed)
        assert member.enrolment_lookup is None and secret not in str(member.totp_sealed)


def test_an_enrolment_link_expires_after_24_hours_and_a_wrong_one_says_nothing(app):
    result = app.test_cli_runner().invoke(args=["staff", "add", "late@staff.example", "--role", "counsellor"])
    link = link_of(result.output)
    clock.freeze(clock.now() + timedelta(hours=25))
    try:
        desk = Desk(app.test_client())
        assert desk.get(link).status == 404
        assert desk.get("/desk/enrol/" + "x" * 43).status == 404
    finally:
        clock.freeze(None)


@pytest.mark.parametrize("args,said", [(["staff", "add", "not-an-email", "--role", "agent"], "not an email"),
                                       (["staff", "add", "a@b.example", "--role", "boss"], "boss"),
                                       (["staff", "disable", "nobody@staff.example"], "no member of staff"),
                                       (["staff", "code", "nobody@staff.example"], "only the demo accounts")])
def test_the_commands_refuse_bad_input_plainly(app, args, said):
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code != 0 and said in result.output


def test_staff_code_only_for_demo_accounts(app, member):
    desk = member("agent")
    assert "only the demo accounts" in app.test_cli_runner().invoke(args=["staff", "code", desk.email]).output
    with app.app_context():
        staff.enrol_demo("demo@staff.example", "agent", "Demo", PASSPHRASE, "DEMODEMODEMODEMODEMODEMODEMODEMO")
    out = app.test_cli_runner().invoke(args=["staff", "code", "demo@staff.example"]).output.strip()
    assert out == code_now("DEMODEMODEMODEMODEMODEMODEMODEMO")


def test_sign_in_sets_a_desk_cookie_on_the_desk_path_only(app, member):
    desk = member("counsellor")
    home = desk.sign_in()
    assert home.h1 == "Help a person"
    cookie = desk.client.get_cookie("relais-desk", path="/desk")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Strict" and cookie.path == "/desk"
    assert home.response.headers["Cache-Control"] == "no-store"
    assert desk.get("/desk/").h1 == "Help a person"


@pytest.mark.parametrize("wrong", ["passphrase", "code", "email"])
def test_any_wrong_part_gets_the_same_answer(app, member, wrong):
    desk = member("agent")
    if wrong == "email":
        desk.email = "someone.else@staff.example"
    page = desk.sign_in(passphrase="not the passphrase at all" if wrong == "passphrase" else PASSPHRASE,
                        code="123456" if wrong == "code" and code_now(desk.secret) != "123456" else None)
    assert page.h1 == "Sign in to the desk"
    assert page.errors == ["The email address, the passphrase or the code is not right. Try again."]


def test_a_code_works_once_even_within_its_30_seconds(app, member):
    clock.freeze(clock.now())
    try:
        desk = member("agent")
        assert desk.sign_in().h1 == "Help a person"
        again = Desk(app.test_client(), "en", desk.email, desk.secret)
        assert again.sign_in().errors  # the same code, replayed
        assert again.sign_in(shift=1).h1 == "Help a person"  # the next one
    finally:
        clock.freeze(None)


def test_five_failures_lock_the_account_even_for_the_right_details(app, member):
    desk = member("agent")
    for _ in range(5):
        assert desk.sign_in(passphrase="wrong wrong wrong wrong").errors
    locked = desk.sign_in()
    assert "paused" in locked.text
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(StaffSession.id))) == 0
        assert db.session.scalar(db.select(db.func.count(AuditEntry.id)).where(
            AuditEntry.action == "staff.sign_in_failed")) == 5


def test_disabling_ends_access_at_once(app, member):
    desk = member("supervisor")
    desk.sign_in()
    result = app.test_cli_runner().invoke(args=["staff", "disable", desk.email])
    assert result.exit_code == 0
    page = desk.get("/desk/")
    assert page.h1 == "Sign in to the desk" and "ended" in page.text
    assert desk.sign_in(shift=1).errors  # and it cannot sign in again


def test_idle_30_minutes_or_10_hours_in_all_ends_the_session(app, member):
    desk = member("agent")
    start = clock.now()
    clock.freeze(start)
    try:
        desk.sign_in()
        clock.freeze(start + timedelta(minutes=31))
        assert "30 minutes" in desk.get("/desk/").text
        assert desk.sign_in().h1 == "Help a person"
        for minutes in range(25, 10 * 60 + 75, 25):  # active all day long: still 10 hours at most
            clock.freeze(start + timedelta(minutes=minutes + 31))
            page = desk.get("/desk/")
            if page.h1 != "Help a person":
                break
        assert page.h1 == "Sign in to the desk" and minutes >= 10 * 60 - 25
    finally:
        clock.freeze(None)


def test_sign_out_ends_the_session_and_needs_its_csrf_token(app, member):
    desk = member("agent")
    home = desk.sign_in()
    assert desk.client.post("/desk/sign-out").status_code == 400
    out = desk.submit(home, {}, form_index=0)
    assert out.h1 == "Sign in to the desk" and "signed out" in out.text
    assert desk.get("/desk/").h1 == "Sign in to the desk"


@pytest.mark.parametrize("path", ["/desk/", "/desk/cases/1", "/desk/cases/1/identify", "/desk/cases/1/do/oppose"])
def test_every_desk_page_asks_to_sign_in_first(app, path):
    page = Desk(app.test_client()).get(path)
    assert page.h1 == "Sign in to the desk"


def test_a_person_session_opens_nothing_at_the_desk(app, enrol):
    from tests.conftest import User
    holder = enrol(days_ago=60, language="en")
    u = User(app.test_client(), "en")
    u.identify(holder)
    assert u.get("/desk/").h1 == "Sign in to the desk"


def test_pyotp_secret_is_random_and_long(app):
    assert len(pyotp.random_base32()) == 32
