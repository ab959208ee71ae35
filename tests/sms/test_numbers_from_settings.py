"""The numbers a text says come from the settings: change one and every channel says the new one."""
import re

import pytest

from app.models import OutboxMessage, db
from app.outbox import text_of
from tests.conftest import User


@pytest.fixture
def fifteen_minutes(app):
    saved = app.config["OTP_VALID_MINUTES"]
    app.config["OTP_VALID_MINUTES"] = 15
    yield
    app.config["OTP_VALID_MINUTES"] = saved


def test_a_code_valid_15_minutes_says_15_by_sms_and_on_the_page(app, enrol, texter, fifteen_minutes):
    holder = enrol(days_ago=60, language="en")
    answer = texter(holder.phone).send("CLOSE")
    assert "Valid 15 min" in answer and "10 min" not in answer
    u = User(app.test_client(), "en")
    page = u.submit(u.get("/identify/sms"), {"nir": holder.nir, "vitale_serial": holder.vitale_serial,
                                             "birth_date": holder.form()["birth_date"]})
    assert "valid 15 minutes" in page.text
    with app.app_context():
        sms = text_of(db.session.scalars(db.select(OutboxMessage).order_by(OutboxMessage.id.desc())).first())
    assert "Valid 15 minutes" in sms and len(sms) <= 160


def test_the_most_helpers_comes_from_the_settings(app, enrol):
    from app import reasons
    from app.domain.reasons import Reason
    app.config["HELPERS_PER_PERSON"], saved = 4, app.config["HELPERS_PER_PERSON"]
    try:
        from flask_babel import force_locale
        with app.test_request_context(), force_locale("en"):
            assert "4 trusted helpers" in reasons.say(Reason.TOO_MANY_HELPERS, reasons.WEB)
            assert "4 trusted helpers" in reasons.say(Reason.TOO_MANY_HELPERS, reasons.VOICE)
        with app.test_request_context(), force_locale("fr"):
            assert "4 aidants" in reasons.say(Reason.TOO_MANY_HELPERS, reasons.WEB)
    finally:
        app.config["HELPERS_PER_PERSON"] = saved


def test_the_idle_time_said_is_the_setting(app, enrol):
    from datetime import timedelta

    from app import clock
    app.config["SESSION_IDLE_MINUTES"], saved = 20, app.config["SESSION_IDLE_MINUTES"]
    try:
        holder = enrol(days_ago=10)
        u = User(app.test_client(), "en")
        u.identify(holder)
        clock.freeze(clock.now() + timedelta(minutes=21))
        page = u.get("/space")
        assert re.search(r"signed out after 20 minutes", page.text)
    finally:
        app.config["SESSION_IDLE_MINUTES"] = saved
