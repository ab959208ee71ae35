"""A parent or a guardian acts for someone on the web: chooses whom, sees it on every page, leaves a trail."""
from datetime import date

from app import clock
from app.models import ActionRecord, HealthSpace, db
from tests.conftest import User


def _mandate(app, tmp_path, representative, represented, kind="parent"):
    path = tmp_path / "m.csv"
    path.write_text("representative_nir,represented_nir,kind,valid_from,valid_until\n"
                    f"{representative.nir},{represented.nir},{kind},{clock.today().isoformat()},\n", encoding="utf-8")
    assert app.test_cli_runner().invoke(args=["mandates", "import", str(path)]).exit_code == 0


def test_a_parent_opposes_for_a_child(app, enrol, tmp_path):
    parent = enrol(birth_date=date(1980, 1, 1), given_name="Sophie", family_name="Durand")
    child = enrol(birth_date=date(2015, 6, 1), days_ago=10, nir="213057505601783", phone=None, given_name="Léa",
                  family_name="Durand")
    _mandate(app, tmp_path, parent, child)
    u = User(app.test_client(), "en")
    page = u.identify(parent, next_step="oppose")
    assert page.h1 == "Who are you acting for?"
    assert "Myself (Sophie Durand)" in page.text and "Léa Durand" in page.text
    missing = u.submit(page, {})
    assert "Choose the person" in missing.errors[0]
    page = u.submit(page, {"person": str(child.person_id)})
    assert "You are acting for Léa Durand." in page.text
    receipt = u.submit(page)
    assert receipt.h1 == "You said no to your health space" and "You are acting for Léa Durand." in receipt.text
    with app.app_context():
        assert db.session.get(HealthSpace, child.person_id).state == "opposed"
        record = db.session.scalars(db.select(ActionRecord)).one()
        assert (record.actor_id, record.subject_id) == (parent.person_id, child.person_id)
    activity = u.get("/history/activity")
    assert "by you" in activity.text.replace("By you", "by you") or "you" in activity.text
    # switching back to oneself
    page = u.submit(u.get("/acting-for"), {"person": str(parent.person_id)})
    assert "You are acting for" not in page.text and page.h1 == "My health space"


def test_a_minor_alone_cannot_oppose(app, enrol):
    child = enrol(birth_date=date(2012, 6, 1), days_ago=10, nir="213057505601783")
    u = User(app.test_client(), "en")
    page = u.identify(child, next_step="oppose")
    assert page.h1 == "My health space" and "legal representative must do it" in page.text
    assert "Say no to the creation" not in page.text and "done by your legal representative" in page.text
    token = u.get("/space").soup.select_one("input[name=csrf_token]")["value"]
    forged = u.client.post("/oppose", data={"csrf_token": token, "token": "x" * 20}, follow_redirects=True)
    assert "legal representative must do it" in forged.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(HealthSpace, child.person_id).state == "notified"


def test_someone_without_a_mandate_never_gets_the_chooser(app, enrol):
    person = enrol()
    u = User(app.test_client(), "en")
    assert u.identify(person).h1 == "My health space"
    page = u.get("/acting-for")
    assert [r.get("value") for r in page.soup.select("input[type=radio]")] == [str(person.person_id)]


def test_a_forged_choice_is_refused(app, enrol, tmp_path):
    parent = enrol(birth_date=date(1980, 1, 1))
    child = enrol(birth_date=date(2015, 6, 1), nir="213057505601783", phone=None)
    stranger = enrol(birth_date=date(1970, 1, 1))
    _mandate(app, tmp_path, parent, child)
    u = User(app.test_client(), "en")
    page = u.identify(parent)
    page = u.submit(page, {"person": str(stranger.person_id)})
    assert page.h1 == "Who are you acting for?" and page.errors
