"""Any text in any field of the identification and new-code forms: a clear answer, never a 500, nothing written."""
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.models import OutboxMessage, ProvisionalCode, WebSession, db

text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(nir=text, serial=text, birth=text, code=text)
def test_identify_form_never_fails_and_never_signs_in(app, client, nir, serial, birth, code):
    app.config["WTF_CSRF_ENABLED"] = False
    try:
        response = client.post("/identify", data={"nir": nir, "vitale_serial": serial, "birth_date": birth,
                                                   "code": code})
    finally:
        app.config["WTF_CSRF_ENABLED"] = True
    assert response.status_code == 200
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(WebSession.id))) == 0


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(nir=text, serial=text, birth=text)
def test_new_code_form_never_fails_and_sends_nothing_to_nobody(app, client, nir, serial, birth):
    app.config["WTF_CSRF_ENABLED"] = False
    try:
        response = client.post("/code/new", data={"nir": nir, "vitale_serial": serial, "birth_date": birth})
    finally:
        app.config["WTF_CSRF_ENABLED"] = True
    assert response.status_code in (200, 302)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(OutboxMessage.id))) == 0
        assert db.session.scalar(db.select(db.func.count(ProvisionalCode.id))) == 0
