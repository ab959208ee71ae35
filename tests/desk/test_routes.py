"""Every route of the desk against every kind of visitor who must get nothing (issue 14): nobody signed in, a
disabled account, another role, another member's case (no IDOR), a form without its CSRF token. A new route
without its row here fails the first test."""
from datetime import date, datetime

import pytest

from app import clock
from app.models import ActionRecord, Callback, Case, Mandate, db
from app.services import Actor, callbacks, staff

# endpoint -> (method, path with {case} / {other}, roles that may use it; None: every role)
ROUTES = {
    "desk.home": ("GET", "/desk/", None),
    "desk.open_case": ("POST", "/desk/cases", None),
    "desk.from_transfer": ("POST", "/desk/cases/transfer", None),
    "desk.identify": ("GET", "/desk/cases/{case}/identify", None),
    "desk.identify_sms": ("GET", "/desk/cases/{case}/identify/sms", None),
    "desk.case": ("GET", "/desk/cases/{case}", None),
    "desk.helper_new": ("GET", "/desk/cases/{case}/helpers/new", None),
    "desk.history": ("GET", "/desk/cases/{case}/history", None),
    "desk.mandates_page": ("GET", "/desk/cases/{case}/mandates", ("counsellor", "supervisor")),
    "desk.end_mandate": ("POST", "/desk/cases/{case}/mandates/{mandate}/end", ("counsellor", "supervisor")),
    "desk.act": ("POST", "/desk/cases/{case}/do/samu-off", None),
    "desk.close_case": ("POST", "/desk/cases/{case}/close", None),
    "desk.callbacks_queue": ("GET", "/desk/callbacks", ("agent", "supervisor")),
    "desk.callback_outcome": ("POST", "/desk/callbacks/{callback}/take", ("agent", "supervisor")),
    "desk.reports_queue": ("GET", "/desk/reports", None),
    "desk.report": ("GET", "/desk/reports/999", None),
    "desk.report_step": ("POST", "/desk/reports/999/take", None),
    "desk.messages_queue": ("GET", "/desk/messages", ("supervisor",)),
    "desk.print_letters": ("POST", "/desk/letters", ("supervisor",)),
    "desk.dashboard_page": ("GET", "/desk/dashboard", ("supervisor",)),
}
OPEN = {"desk.sign_in", "desk.sign_out", "desk.enrol"}  # before signing in: tested in test_staff.py
CASE_ROUTES = [e for e, (m, path, roles) in ROUTES.items() if "{case}" in path]


def test_every_desk_route_is_in_the_table(app):
    desk = {r.endpoint for r in app.url_map.iter_rules() if r.endpoint.startswith("desk.")}
    assert desk - OPEN == set(ROUTES), sorted(desk - OPEN ^ set(ROUTES))


@pytest.fixture
def world(app, member, enrol):
    """A supervisor with an open case of a person identified, a mandate of theirs and a callback to make."""
    owner = member("supervisor", "Owner")
    owner.sign_in()
    holder = enrol(days_ago=60, language="en", birth_date=date(1980, 1, 1))
    child = enrol(days_ago=60, language="en", birth_date=date(2015, 1, 1), phone=None)
    case_id, page = owner.open_case("call")
    owner.identify(holder, page)
    with app.app_context():
        from app.services import mandates
        mandates.import_mandate(holder.nir, child.nir, "parent", date(2020, 1, 1), None)
        mandate_id = db.session.scalar(db.select(Mandate.id))
        clock.freeze(datetime(2026, 11, 30, 9, 0))  # a Monday, 10:00 in Paris: its afternoon is offered
        try:
            callbacks.request(Actor(None, "voice"), "06 12 34 56 78", date(2026, 11, 30), "pm", goal=None,
                              language="fr", key="routes-cb")
        finally:
            clock.freeze(None)
        callback_id = db.session.scalar(db.select(Callback.id))
    return {"case": case_id, "mandate": mandate_id, "callback": callback_id}, owner


def _path(endpoint, ids):
    return ROUTES[endpoint][1].format(**ids)


def _csrf(desk):
    return desk.get("/desk/").soup.select_one("input[name=csrf_token]")["value"]


def _unchanged(app, world_ids):
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(ActionRecord.id))) == 0
        assert db.session.get(Case, world_ids["case"]).closed_at is None
        assert db.session.get(Mandate, world_ids["mandate"]).ended_at is None
        assert db.session.get(Callback, world_ids["callback"]).staff_id is None


@pytest.mark.parametrize("endpoint", sorted(ROUTES))
def test_nobody_signed_in_is_sent_to_sign_in(app, world, endpoint):
    ids, _owner = world
    method, _path_, _roles = ROUTES[endpoint]
    client = app.test_client()
    csrf_page = client.get("/desk/sign-in").get_data(as_text=True)
    token = csrf_page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    response = client.open(_path(endpoint, ids), method=method, data={"csrf_token": token})
    assert response.status_code == 302 and response.location.endswith("/desk/sign-in"), endpoint
    _unchanged(app, ids)


@pytest.mark.parametrize("endpoint", sorted(CASE_ROUTES))
def test_another_members_case_is_not_found(app, world, member, endpoint):
    ids, _owner = world
    method, _path_, roles = ROUTES[endpoint]
    other = member("supervisor", "Other")  # every role's routes: the case is what is refused
    other.sign_in()
    response = other.client.open(_path(endpoint, ids), method=method, data={"csrf_token": _csrf(other)})
    assert response.status_code == 404, endpoint
    _unchanged(app, ids)


@pytest.mark.parametrize("endpoint,role", [(e, r) for e, (m, p, roles) in sorted(ROUTES.items()) if roles
                                           for r in ("agent", "counsellor", "supervisor") if r not in roles])
def test_another_role_is_refused_on_the_server(app, world, member, endpoint, role):
    ids, _owner = world
    method, _path_, _roles = ROUTES[endpoint]
    someone = member(role)
    someone.sign_in()
    response = someone.client.open(_path(endpoint, ids), method=method, data={"csrf_token": _csrf(someone)})
    assert response.status_code == 403, (endpoint, role, response.status_code)  # the role first, then the case
    _unchanged(app, ids)


@pytest.mark.parametrize("endpoint", sorted(e for e, (m, p, r) in ROUTES.items() if m == "POST"))
def test_every_desk_form_needs_its_csrf_token(app, world, endpoint):
    ids, owner = world
    response = owner.client.post(_path(endpoint, ids), data={})
    assert response.status_code == 400, endpoint
    _unchanged(app, ids)


@pytest.mark.parametrize("endpoint", sorted(ROUTES))
def test_a_disabled_account_gets_nothing_at_once(app, world, endpoint):
    ids, owner = world
    csrf = _csrf(owner)
    with app.app_context():
        staff.disable(owner.email)
    method = ROUTES[endpoint][0]
    response = owner.client.open(_path(endpoint, ids), method=method, data={"csrf_token": csrf})
    assert response.status_code == 302 and response.location.endswith("/desk/sign-in"), endpoint
    _unchanged(app, ids)
