"""Lost letter: identify on the web with a 6-digit code sent by SMS to the registered mobile."""
import re

from app.models import OutboxMessage, db
from app.outbox import text_of
from tests.conftest import User


def _sms_code(app) -> str:
    with app.app_context():
        msg = db.session.scalars(db.select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
        assert msg.sensitive and msg.channel == "sms"
        return re.search(r"\b(\d{6})\b", text_of(msg)).group(1)


def test_identify_with_a_code_by_sms(app, enrol):
    holder = enrol(days_ago=60)
    u = User(app.test_client(), "en")
    page = u.get("/identify?next=history")
    page = u.submit(u.get(page.link("No letter?")), {"nir": holder.nir, "vitale_serial": holder.vitale_serial,
                                                     "birth_date": holder.form()["birth_date"]})
    assert page.h1 == "Enter the code received by SMS"
    code = _sms_code(app)
    assert code not in page.html
    page = u.submit(page, {"code": code})
    assert page.h1 == "Who looked at my health space"


def test_wrong_details_or_no_mobile_look_the_same(app, enrol):
    holder = enrol(days_ago=60, phone=None)
    u = User(app.test_client(), "en")
    for details in ({"vitale_serial": "11111111"}, {}):
        page = u.submit(u.get("/identify/sms"), {"nir": holder.nir, "vitale_serial": holder.vitale_serial,
                                                 "birth_date": holder.form()["birth_date"], **details})
        assert page.h1 == "Enter the code received by SMS"
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(OutboxMessage.id))) == 0
    page = u.submit(page, {"code": "123456"})
    assert "not right" in page.errors[0]


def test_a_wrong_sms_code_is_refused_and_counted(app, enrol):
    holder = enrol(days_ago=60)
    u = User(app.test_client(), "en")
    page = u.submit(u.get("/identify/sms"), {"nir": holder.nir, "vitale_serial": holder.vitale_serial,
                                             "birth_date": holder.form()["birth_date"]})
    code = _sms_code(app)
    wrong = "000000" if code != "000000" else "111111"
    assert "not right" in u.submit(page, {"code": wrong}).errors[0]
    assert "6 digits" in u.submit(page, {"code": "12"}).field_error("code")
    assert u.submit(page, {"code": code}).soup.select_one(".state")  # still works after one wrong try


def test_code_page_without_the_first_step_goes_back(app):
    u = User(app.test_client(), "en")
    assert u.get("/identify/sms/code").h1 == "Identify with a code by SMS"
