"""The callbacks asked for on the phone line, at the desk (issue 14): agents and supervisors take one, see its number
(only the one who took it, only while it is open), and close it: done, or no answer; the number is then forgotten."""
from datetime import date, datetime

import pytest

from app import clock
from app.models import AuditEntry, Callback, db
from app.services import Actor, callbacks

NOW = datetime(2026, 11, 30, 9, 0)  # Monday 10:00 in Paris


@pytest.fixture
def booked(app):
    clock.freeze(NOW)
    with app.app_context():
        callbacks.request(Actor(None, "voice"), "06 12 34 56 78", date(2026, 11, 30), "pm", goal="history",
                          language="fr", key="desk-cb-1")
        callbacks.request(Actor(None, "voice"), "0692 12 34 56", date(2026, 11, 30), "am", goal="change",
                          language="en", key="desk-cb-2")
    yield
    clock.freeze(None)


def rows(app):
    with app.app_context():
        found = db.session.scalars(db.select(Callback).order_by(Callback.id)).all()
        for r in found:
            db.session.expunge(r)
        return found


def test_an_agent_takes_a_callback_sees_its_number_and_closes_it(app, member, booked):
    desk = member("agent", "A. Dupont")
    desk.sign_in()
    queue = desk.get("/desk/callbacks")
    assert queue.h1 == "Callbacks to make" and len(queue.soup.select(".entry")) == 2
    assert "+33612345678" not in queue.html and "shown once you take it" in queue.text
    assert "between 11:30 and 16:00, their time" in queue.text  # La Réunion's hours for the Paris morning
    taken = desk.submit(queue, {}, form_index=1)  # «Take this callback», the first one
    assert "+33612345678" in taken.html and "The callback is yours" in taken.text
    done = desk.submit(taken, {}, form_index=1)   # «Called back: done»
    assert "number is forgotten" in done.text and len(done.soup.select(".entry")) == 1
    first = rows(app)[0]
    assert (first.status, first.phone_sealed, first.staff_id is not None) == ("done", None, True)
    with app.app_context():
        actions = [e.action for e in db.session.scalars(db.select(AuditEntry).where(
            AuditEntry.action.like("callback.%")))]
        assert actions.count("callback.taken") == 1 and "callback.done" in actions


def test_another_agent_sees_who_took_it_never_its_number_and_cannot_close_it(app, member, booked):
    first, other = member("agent", "A. Dupont"), member("agent", "B. Autre")
    first.sign_in()
    other.sign_in()
    first.submit(first.get("/desk/callbacks"), {}, form_index=1)
    seen = other.get("/desk/callbacks")
    assert "taken by A. Dupont" in seen.text and "+33612345678" not in seen.html
    callback_id = rows(app)[0].id
    csrf = seen.soup.select_one("input[name=csrf_token]")["value"]
    for outcome in ("done", "no-answer", "take"):
        answer = other.client.post(f"/desk/callbacks/{callback_id}/{outcome}", data={"csrf_token": csrf},
                                   follow_redirects=True)
        assert "Another adviser has taken this callback." in answer.get_data(as_text=True)
    assert rows(app)[0].status == "pending"


def test_no_answer_closes_it_and_forgets_the_number(app, member, booked):
    desk = member("supervisor")
    desk.sign_in()
    desk.submit(desk.get("/desk/callbacks"), {}, form_index=1)
    answer = desk.submit(desk.get("/desk/callbacks"), {}, form_index=2)  # «No answer» of the one taken
    assert "Nobody answered" in answer.text
    first = rows(app)[0]
    assert first.status == "no_answer" and first.phone_sealed is None


def test_counsellors_have_no_callbacks_queue_and_bad_requests_change_nothing(app, member, booked):
    counsellor = member("counsellor")
    counsellor.sign_in()
    assert counsellor.get("/desk/callbacks").status == 403
    agent = member("agent")
    agent.sign_in()
    page = agent.get("/desk/callbacks")
    csrf = page.soup.select_one("input[name=csrf_token]")["value"]
    callback_id = rows(app)[0].id
    assert agent.client.post(f"/desk/callbacks/{callback_id}/take").status_code == 400  # no CSRF token
    assert agent.client.post(f"/desk/callbacks/{callback_id}/teleport", data={"csrf_token": csrf}).status_code == 404
    assert agent.client.post("/desk/callbacks/99999/take", data={"csrf_token": csrf}).status_code == 404
    assert all(r.staff_id is None and r.status == "pending" for r in rows(app))
