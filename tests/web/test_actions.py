"""Oppose, close, reopen and emergency settings on the web: consequences first, then a receipt."""
import pytest

from app import clock
from app.models import ActionRecord, HealthSpace, db
from app.services import Actor, spaces
from tests.conftest import User


def _state(app, holder):
    with app.app_context():
        return db.session.get(HealthSpace, holder.person_id).state


def _seen(app, holder):
    """The state as the rules give it today, as the holder sees it (created at the window's end)."""
    with app.app_context():
        return spaces.view(Actor(holder.person_id, "web"), holder.person_id).state


@pytest.mark.parametrize("lang,h1", [("en", "You said no to your health space"), ("fr", None)])
def test_oppose_within_the_window(app, enrol, lang, h1):
    holder = enrol(days_ago=41)
    u = User(app.test_client(), lang)
    page = u.identify(holder, next_step="oppose")
    assert page.soup.select_one("button.warning")
    receipt = u.submit(page)
    assert len(receipt.reference) == 9 and receipt.reference.isdigit()
    if h1:
        assert receipt.h1 == h1
    assert _state(app, holder) == "opposed"
    space = u.get("/space")
    assert space.soup.select_one(".state")
    # Saying no is final: the space no longer offers it (no link, no form), but still lists what is left to do.
    actions = [a["href"] for a in space.soup.select("main ul.actions a")]
    offered = {a["href"] for a in space.soup.select("main a[href]")}
    offered |= {f.get("action") for f in space.soup.select("main form")}
    assert "/history" in actions, actions
    assert "/oppose" not in offered, f"an opposed space still offers to say no: {sorted(offered)}"


def test_double_submit_makes_one_change_and_one_receipt(app, enrol):
    holder = enrol(days_ago=10)
    u = User(app.test_client(), "en")
    page = u.identify(holder, next_step="oppose")
    first = u.submit(page)
    second = u.submit(page)  # the same form sent again
    assert first.reference == second.reference
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(ActionRecord.id))) == 1


def test_after_the_window_opposition_is_refused_plainly_and_closure_offered(app, enrol):
    holder = enrol(days_ago=43)
    u = User(app.test_client(), "en")
    page = u.identify(holder, next_step="oppose")
    assert page.h1 == "It is too late to say no"
    assert page.link("Close my health space") == "/close"
    assert "Your health space has been created" in page.text
    # Reading writes nothing: the space is written active by the jobs (or by the next action, in act_once).
    assert _state(app, holder) == "notified"
    with app.app_context():
        spaces.run_jobs(clock.today())
    assert _state(app, holder) == "active"


def test_close_asks_what_happens_to_the_data(app, enrol):
    holder = enrol(days_ago=60)
    u = User(app.test_client(), "en")
    page = u.identify(holder, next_step="close")
    assert page.h1 == "Close your health space"
    missing = u.submit(page)
    assert missing.status == 200 and "Choose what should happen" in missing.errors[0]
    assert _seen(app, holder) == "active" and _state(app, holder) == "notified"  # nothing written yet
    receipt = u.submit(missing, {"choice": "delete"})
    assert receipt.h1 == "Your health space is closed"
    assert "deleted by" in receipt.text
    assert _state(app, holder) == "closed"


def test_reopen_cancels_a_pending_deletion(app, enrol):
    holder = enrol(days_ago=60)
    u = User(app.test_client(), "en")
    u.submit(u.identify(holder, next_step="close"), {"choice": "delete"})
    page = u.get("/reopen")
    assert "The deletion you asked for is cancelled." in page.text
    receipt = u.submit(page)
    assert receipt.h1 == "Your health space is open again"
    assert "cancelled" in receipt.text
    with app.app_context():
        space = db.session.get(HealthSpace, holder.person_id)
        assert space.state == "active" and space.deletion_due_on is None


def test_closing_a_closed_space_changes_nothing(app, enrol):
    holder = enrol(days_ago=60)
    u = User(app.test_client(), "en")
    form = u.identify(holder, next_step="close")
    u.submit(form, {"choice": "archive"})
    page = u.get("/close")  # no longer offered: back to the space with a plain word
    assert "not possible now" in page.text


@pytest.mark.parametrize("setting", ["samu", "break_glass"])
def test_switch_emergency_access_off_and_on(app, enrol, setting):
    holder = enrol(days_ago=60)
    u = User(app.test_client(), "en")
    page = u.identify(holder, next_step="emergency")
    assert page.h1 == "Emergency access"
    confirm = u.get(f"/emergency/{setting}/off")
    assert "slower or less safe" in confirm.text
    receipt = u.submit(confirm)
    assert receipt.h1 == "Your emergency access setting is saved" and receipt.reference
    with app.app_context():
        space = db.session.get(HealthSpace, holder.person_id)
        assert getattr(space, "samu_access" if setting == "samu" else "break_glass_access") is False
    u.submit(u.get(f"/emergency/{setting}/on"))
    with app.app_context():
        space = db.session.get(HealthSpace, holder.person_id)
        assert getattr(space, "samu_access" if setting == "samu" else "break_glass_access") is True


def test_masked_documents_setting_only_applies_while_an_emergency_access_is_on(app, enrol):
    holder = enrol(days_ago=60)
    u = User(app.test_client(), "en")
    u.identify(holder)
    u.submit(u.get("/emergency/masked/on"))
    u.submit(u.get("/emergency/samu/off"))
    confirm = u.get("/emergency/break_glass/off")
    assert "hidden documents will stay hidden too" in confirm.text
    u.submit(confirm)
    page = u.get("/emergency")
    assert "does not apply" in page.text
    refused = u.submit(u.get("/emergency/masked/on"))
    assert "not possible now" in refused.text
    with app.app_context():
        space = db.session.get(HealthSpace, holder.person_id)
        assert (space.samu_access, space.break_glass_access, space.masked_in_emergency) == (False, False, False)


def test_unknown_setting_is_not_found(app, enrol):
    holder = enrol(days_ago=60)
    u = User(app.test_client(), "en")
    u.identify(holder)
    assert u.get("/emergency/everything/off").status == 404


def test_actions_need_identification(client):
    for url in ("/space", "/oppose", "/close", "/reopen", "/history", "/emergency", "/receipt/123456789"):
        response = client.get(url)
        assert response.status_code == 302 and "/identify" in response.headers["Location"]
    response = client.post("/oppose", data={"token": "x"})
    assert response.status_code in (302, 400)


def test_a_receipt_of_someone_else_is_not_found(app, enrol):
    a, b = enrol(days_ago=10), enrol(days_ago=10)
    ua, ub = User(app.test_client(), "en"), User(app.test_client(), "en")
    receipt = ua.submit(ua.identify(a, next_step="oppose"))
    ub.identify(b)
    assert ub.get(f"/receipt/{receipt.reference}").status == 404
