"""Identifying on the web: the four numbers, the slips we name, the lockout, and a lost code."""
import re
from datetime import datetime, timedelta

import pytest

from app import clock
from app.models import OutboxMessage, db
from app.outbox import text_of


def test_holder_identifies_and_lands_on_the_chosen_action(user_en, enrol):
    holder = enrol(days_ago=10)
    page = user_en.identify(holder, next_step="oppose")
    assert page.status == 200
    assert page.h1 == "Say no to your health space"


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_spaces_and_lower_case_are_tolerated(app, enrol, lang):
    from tests.conftest import User
    holder = enrol(days_ago=10)
    u = User(app.test_client(), lang)
    nir = " ".join(holder.nir[i:i + 3] for i in range(0, 15, 3)).lower()
    code = holder.code.lower()
    page = u.identify(holder, nir=nir, code=f"{code[:4]} {code[4:8]}-{code[8:]}",
                      birth_date=holder.birth_date.strftime("%d%m%Y"))
    assert page.soup.select_one(".state"), page.text  # the space page
    assert page.soup.html["lang"] == lang


def test_wrong_details_get_one_answer_that_names_no_field(user_en, enrol):
    holder = enrol()
    answers = set()
    for wrong in ({"code": "AAAA-AAAA-AAAA"}, {"vitale_serial": "99999999999"}, {"birth_date": "01/01/1951"},
                  {"nir": "158016912345639"}):  # a valid NIR nobody has
        page = user_en.identify(holder, **wrong)
        assert page.status == 200
        assert page.title.startswith("Error:")
        answers.add(tuple(page.errors))
        assert not page.soup.select(".field-error")
    assert len(answers) == 1
    assert "do not match" in answers.pop()[0]


@pytest.mark.parametrize("field,value,expected", [
    ("nir", "80123456789", "looks like the number of your Vitale card"),
    ("nir", "2400375112005", "Add the 2-digit key"),
    ("nir", "240037511200599", "2-digit key at the end"),
    ("vitale_serial", "240037511200567", "looks like your social security number"),
    ("vitale_serial", "12ab", "digits only"),
    ("birth_date", "31/02/1950", "This date does not exist"),
    ("birth_date", "31/13/1950", "for example 25/03/1948"),
    ("code", "ABC", "12 letters and digits"),
])
def test_common_slips_are_named_next_to_the_field(user_en, enrol, field, value, expected):
    holder = enrol()
    page = user_en.identify(holder, **{field: value})
    assert expected in page.field_error(field)
    # the summary links to the field
    assert page.soup.select_one(f'.error-summary a[href="#{field}"]')
    assert page.soup.select_one(f"#{field}")["aria-invalid"] == "true"


def test_swapped_numbers_are_named(user_en, enrol):
    holder = enrol()
    page = user_en.identify(holder, nir=holder.vitale_serial, vitale_serial=holder.nir)
    assert "swapped" in page.field_error("nir")


def test_every_field_empty(user_en):
    page = user_en.submit(user_en.get("/identify"), {})
    assert len(page.errors) == 4


def test_lock_after_ten_failures_even_with_the_right_code(user_en, enrol):
    holder = enrol()
    start = datetime(2026, 11, 24, 9, 0)
    for i in range(10):
        clock.freeze(start + timedelta(hours=i))  # past each back-off
        page = user_en.identify(holder, code="AAAA-AAAA-AAAA")
    clock.freeze(start + timedelta(hours=10))
    page = user_en.identify(holder)
    assert "Too many attempts" in page.errors[0]
    assert page.soup.select_one(".state") is None


def test_back_off_after_five_failures(user_en, enrol):
    holder = enrol()
    clock.freeze(datetime(2026, 11, 24, 9, 0))
    for _ in range(5):
        user_en.identify(holder, code="AAAA-AAAA-AAAA")
    page = user_en.identify(holder)
    assert "Too many attempts" in page.errors[0]
    clock.freeze(datetime(2026, 11, 24, 9, 2))
    assert user_en.identify(holder).soup.select_one(".state")


def test_a_code_works_once(app, enrol):
    from tests.conftest import User
    holder = enrol()
    assert User(app.test_client(), "en").identify(holder).soup.select_one(".state")
    again = User(app.test_client(), "en").identify(holder)
    assert "has already been used" in again.errors[0]


def test_lost_code_is_sent_never_shown(user_en, enrol, app):
    holder = enrol()
    page = user_en.get("/code/new")
    page = user_en.submit(page, {"nir": holder.nir, "vitale_serial": holder.vitale_serial,
                                 "birth_date": holder.birth_date.strftime("%d/%m/%Y")})
    assert page.h1 == "Your request is recorded"
    with app.app_context():
        msg = db.session.scalars(db.select(OutboxMessage)).one()
        assert msg.channel == "sms" and msg.sensitive
        code = re.search(r"[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}", text_of(msg)).group(0)
    assert code.replace("-", "") not in page.html
    # the new code identifies; the old one no longer does
    assert "do not match" in user_en.identify(holder).errors[0]
    assert user_en.identify(holder, code=code).soup.select_one(".state")


def test_lost_code_with_wrong_details_answers_the_same(user_en, enrol, app):
    holder = enrol()
    page = user_en.submit(user_en.get("/code/new"), {"nir": holder.nir, "vitale_serial": "11111111111",
                                                     "birth_date": "01/01/1960"})
    assert page.h1 == "Your request is recorded"
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(OutboxMessage.id))) == 0
