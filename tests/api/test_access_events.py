"""POST /api/v1/access-events: bearer key, validation, each refusal reason, idempotent event ids."""
import pytest

from app.models import AccessEvent, db
from app.services import Actor, spaces

KEY = "operator-test-key"


@pytest.fixture
def api(app):
    app.config["OPERATOR_API_KEY"] = KEY
    client = app.test_client()
    yield lambda body, key=KEY: client.post("/api/v1/access-events", json=body,
                                            headers={"Authorization": f"Bearer {key}"} if key else {})
    app.config["OPERATOR_API_KEY"] = ""


def event(holder, **extra):
    return {"nir": holder.nir, "occurred_at": "2026-11-20T10:15:00+01:00", "professional_name": "Dr Claire Petit",
            "profession": "Médecin généraliste", "organisation": "Cabinet du Parc", "mode": "normal",
            "section": "Ordonnances", "reason": None, **extra}


def test_granted_and_recorded(api, enrol, app):
    holder = enrol(days_ago=60)
    response = api(event(holder, event_id="e-1", professional_id="10101234567"))
    assert response.status_code == 201
    assert response.json == {"event_id": "e-1", "decision": "granted", "reason": "allowed",
                             "masked_documents_visible": False}
    with app.app_context():
        stored = db.session.scalar(db.select(AccessEvent))
        assert stored.professional_id == "10101234567" and stored.decision == "granted"
        assert stored.occurred_at.hour == 9  # stored in UTC


def test_without_or_with_a_wrong_key(api, enrol, app):
    holder = enrol(days_ago=60)
    assert api(event(holder), key=None).status_code == 401
    assert api(event(holder), key="wrong").status_code == 401
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(AccessEvent.id))) == 0


@pytest.mark.parametrize("body,field", [
    ({"mode": "teleport"}, "mode"), ({"occurred_at": "2026-11-20T10:15:00"}, "occurred_at"),
    ({"occurred_at": "yesterday"}, "occurred_at"), ({"nir": "123"}, "nir"),
    ({"professional_name": ""}, "professional_name"),
    ({"mode": "samu", "reason": None}, "reason"), ({"professional_id": 42}, "professional_id"),
])
def test_bad_input_gets_field_errors_and_stores_nothing(api, enrol, app, body, field):
    holder = enrol(days_ago=60)
    response = api(event(holder, **body))
    assert response.status_code == 400 and field in response.json["errors"]
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(AccessEvent.id))) == 0


def test_not_json_and_unknown_nir(api, app, enrol):
    holder = enrol(days_ago=60)
    assert api([1, 2]).status_code == 400
    unknown = event(holder, nir="158016912345639")
    assert api(unknown).json["errors"] == {"nir": "no health space for this NIR"}


@pytest.mark.parametrize("setting,mode,reason", [("samu", "samu", "samu_refused"),
                                                 ("break_glass", "break_glass", "break_glass_refused")])
def test_emergency_refused_when_switched_off(api, enrol, app, setting, mode, reason):
    holder = enrol(days_ago=60)
    with app.app_context():
        spaces.set_emergency_access(Actor(holder.person_id, "web"), holder.person_id, setting, False)
    response = api(event(holder, mode=mode, reason="Patient inconscient"))
    assert response.status_code == 201 and response.json["decision"] == "refused"
    assert response.json["reason"] == reason


def test_masked_documents_visible_only_in_a_granted_emergency(api, enrol, app):
    holder = enrol(days_ago=60)
    with app.app_context():
        spaces.set_emergency_access(Actor(holder.person_id, "web"), holder.person_id, "masked", True)
    assert api(event(holder, mode="break_glass", reason="Inconscient")).json["masked_documents_visible"] is True
    assert api(event(holder)).json["masked_documents_visible"] is False


@pytest.mark.parametrize("days_ago,action,reason", [(10, None, "no_space"), (10, "oppose", "opposed"),
                                                    (60, "close", "closed")])
def test_refused_without_an_open_space(api, enrol, app, days_ago, action, reason):
    holder = enrol(days_ago=days_ago)
    with app.app_context():
        actor = Actor(holder.person_id, "web")
        if action == "oppose":
            spaces.oppose(actor, holder.person_id)
        elif action == "close":
            spaces.close(actor, holder.person_id, delete_data=False)
    assert api(event(holder)).json["reason"] == reason


def test_blocked_professional_by_name_regardless_of_case_and_accents(api, enrol, app):
    from app.services import access
    holder = enrol(days_ago=60)
    first = api(event(holder, event_id="a"))
    with app.app_context():
        event_id = db.session.scalar(db.select(AccessEvent.id))
        access.block_professional(Actor(holder.person_id, "web"), holder.person_id, event_id)
    again = api(event(holder, event_id="b", professional_name="DR CLAIRE PETIT", profession="medecin generaliste"))
    assert first.json["decision"] == "granted" and again.json["reason"] == "professional_blocked"


def test_a_repeated_event_id_is_the_same_event(api, enrol, app):
    holder = enrol(days_ago=60)
    first = api(event(holder, event_id="same"))
    second = api(event(holder, event_id="same"))
    assert first.json == second.json
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(AccessEvent.id))) == 1
