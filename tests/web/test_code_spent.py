"""A right person with a used or expired letter code is told so and offered a way in; a signed-in person is never
asked to identify again; the identification page names the action chosen."""
import re
from datetime import datetime

import pytest

from app import clock
from app.models import OutboxMessage, Throttle, db
from app.services import identity
from tests.conftest import User

NOW = datetime(2026, 11, 24, 9, 0)


@pytest.fixture(autouse=True)
def frozen():
    clock.freeze(NOW)


def used(app, holder, lang="en") -> User:
    """The holder identified once with their letter code, then came back with it on another device."""
    User(app.test_client(), lang).identify(holder)
    return User(app.test_client(), lang)


def test_a_used_code_is_named_with_the_two_ways_in(app, enrol):
    holder = enrol()
    u = used(app, holder)
    page = u.identify(holder)
    assert page.status == 200 and page.title.startswith("Error:")
    assert page.errors == ["Your provisional code has already been used."]
    offers = page.soup.select("#code-spent form")
    assert [f.button.get_text(strip=True) for f in offers] == ["Send me a code by SMS", "Send me a new code"]
    assert not page.soup.select(".field-error")


def test_the_sms_offer_sends_the_code_at_once_and_signs_in(app, enrol):
    holder = enrol()
    u = used(app, holder)
    page = u.identify(holder, next_step="history")
    assert page.h1 == "To see who looked at your health space, identify yourself"
    code_page = u.submit(page, form_index=0)  # no sign-out form in the header yet: 0 is the SMS offer
    assert code_page.h1 == "Enter the code received by SMS"
    with app.app_context():
        sms = db.session.scalars(db.select(OutboxMessage).where(OutboxMessage.channel == "sms")).all()[-1]
        from app.outbox import text_of
        code = re.search(r"\b(\d{6})\b", text_of(sms)).group(1)
    history = u.submit(code_page, {"code": code})
    assert history.h1 == "Who looked at my health space"


def test_the_new_code_offer_sends_a_new_letter_code(app, enrol):
    holder = enrol(days_ago=50, renew=False, phone=None)
    u = User(app.test_client(), "en")
    page = u.identify(holder)
    assert page.errors == ["Your provisional code has expired."]
    offers = page.soup.select("#code-spent form")
    assert [f.button.get_text(strip=True) for f in offers] == ["Send me a new code"]  # no mobile: no SMS
    sent = u.submit(page, form_index=0)
    assert sent.h1 == "Your request is recorded"
    with app.app_context():
        assert db.session.scalar(db.select(OutboxMessage.channel)) == "letter"


def test_a_spent_code_does_not_lead_to_the_lockout(app, enrol):
    holder = enrol()
    u = used(app, holder)
    for _ in range(12):
        assert "already been used" in u.identify(holder).errors[0]
    with app.app_context():
        assert db.session.get(Throttle, identity._keys(holder.nir, "127.0.0.1")[0]).failures == 0


def test_a_person_who_said_no_is_told_it_is_recorded_with_its_day_and_reference(app, enrol):
    holder = enrol()
    u = User(app.test_client(), "en")
    receipt = u.submit(u.identify(holder, next_step="oppose"))
    reference = receipt.soup.select_one(".ref").get_text(strip=True)
    page = User(app.test_client(), "en").identify(holder)
    notice = " ".join(page.soup.select_one("#code-spent").get_text(" ").split())
    assert f"You said no to your health space on 24 November 2026. It is recorded, with the reference " \
           f"{reference}." in notice
    assert [f.button.get_text(strip=True) for f in page.soup.select("#code-spent form")] == ["Send me a code by SMS"]


def test_any_other_mismatch_keeps_the_one_answer(app, enrol):
    holder = enrol()
    u = used(app, holder)
    answers = {tuple(u.identify(holder, **wrong).errors) for wrong in (
        {"vitale_serial": "99999999999"}, {"birth_date": "01/01/1951"}, {"nir": "158016912345639"},
        {"code": "AAAA-AAAA-AAAA"})}
    assert len(answers) == 1 and "do not match" in answers.pop()[0]


# --- a signed-in person is not asked again ------------------------------------------------------------

def test_the_home_page_links_go_straight_to_the_actions_when_signed_in(app, enrol):
    holder = enrol()
    u = User(app.test_client(), "en")
    home = u.get("/")
    assert home.soup.select_one('.actions a[href^="/identify?next=oppose"]')
    u.identify(holder)
    links = [a["href"] for a in u.get("/").soup.select(".actions a")]
    assert links == ["/oppose", "/close", "/history", "/emergency"]
    assert u.get(links[2]).h1 == "Who looked at my health space"


@pytest.mark.parametrize("path", ["/identify?next=emergency", "/identify/sms?next=emergency"])
def test_identify_while_signed_in_goes_to_the_step(app, enrol, path):
    holder = enrol()
    u = User(app.test_client(), "en")
    u.identify(holder)
    page = u.get(path, follow=False)
    assert page.status == 302 and page.location.endswith("/emergency")


@pytest.mark.parametrize("step,h1", [
    ("oppose", "To say no, identify yourself"), ("close", "To close your health space, identify yourself"),
    ("emergency", "To choose your emergency access, identify yourself"), ("space", "Identify yourself"),
    (None, "Identify yourself")])
def test_the_identification_page_names_the_action(user_en, step, h1):
    assert user_en.get("/identify" + (f"?next={step}" if step else "")).h1 == h1
