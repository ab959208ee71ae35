"""By phone: «calling for someone else» — identify as oneself, type the person's NIR, then the same call flow."""
from datetime import date, timedelta

from app import clock
from app.models import ActionRecord, AuditEntry, HealthSpace, Mandate, db
from app.services import Actor, helpers

from .conftest import REFERENCE, step, with_new_code

PARENT = dict(given_name="Sophie", family_name="Durand", birth_date=date(1980, 1, 1))


def _mandate(app, tmp_path, representative, represented, kind="parent", start=None, end=None):
    path = tmp_path / "m.csv"
    start = start or clock.today()
    path.write_text("representative_nir,represented_nir,kind,valid_from,valid_until\n"
                    f"{representative.nir},{represented.nir},{kind},{start.isoformat()},"
                    f"{end.isoformat() if end else ''}\n", encoding="utf-8")
    assert app.test_cli_runner().invoke(args=["mandates", "import", str(path)]).exit_code == 0


def _for(c, holder, person):
    """Main menu 2, identify as oneself, then type the NIR of the person acted for."""
    c.press("2").identify(holder)
    assert c.gather["finishOnKey"] == "#" and len(c.last) == 2
    if c.languages[0] == "en-GB":
        assert c.last == ["Type the social security number of the person you act for, followed by the hash key.",
                          "For yourself, type 1, then hash."]
    return c.press(person.nir.replace("A", "*1").replace("B", "*2") + "#")


def _records(app, person):
    with app.app_context():
        return [(r.action, r.actor_id, r.subject_id) for r in db.session.scalars(
            db.select(ActionRecord).where(ActionRecord.subject_id == person.person_id).order_by(ActionRecord.id))]


def test_a_parent_says_no_for_a_child_by_phone(app, en, enrol, tmp_path):
    parent = enrol(**PARENT)
    child = enrol(birth_date=date(2015, 6, 1), nir="213057505601783", phone=None, given_name="Léa",
                  family_name="Durand", days_ago=10)
    _mandate(app, tmp_path, parent, child)
    c = _for(en(), parent, child)
    assert c.last[0] == "You are acting for Léa Durand." and step(app, c) == "menu"
    c.press("1")
    assert step(app, c) == "oppose"
    c.press("1")
    assert REFERENCE.search(c.last[0])
    assert _records(app, child) == [("space.opposed", parent.person_id, child.person_id)]
    with app.app_context():
        assert db.session.get(HealthSpace, child.person_id).state == "opposed"
    c.press("1")  # back to the menu: still acting for Léa; 2 then 1# acts for oneself again
    assert c.last[0] == "You are acting for Léa Durand."
    c.press("2").press("1#")
    assert c.last[0] == "You are acting for yourself." and not any("acting for Léa" in s for s in c.last)


def test_a_guardian_closes_for_an_adult_by_phone(app, fr, enrol, tmp_path):
    guardian = enrol(**PARENT)
    father = enrol(given_name="André", family_name="Durand", birth_date=date(1938, 1, 1), days_ago=60)
    _mandate(app, tmp_path, guardian, father, kind="tutelle")
    c = _for(fr(), guardian, father)
    assert step(app, c) == "menu"
    c.press("1").press("1").press("1")  # close, keep the data, confirm
    assert _records(app, father) == [("space.closed", guardian.person_id, father.person_id)]


def test_a_helper_switches_emergency_access_but_cannot_close(app, en, enrol):
    holder = enrol(given_name="Marcel", family_name="Petit", days_ago=60)
    helper = enrol(given_name="Nadia", family_name="Benali", birth_date=date(1975, 5, 5))
    with app.app_context():
        helpers.name_helper(Actor(holder.person_id, "web"), holder.person_id, helper.nir, helper.birth_date)
    c = _for(en(), helper, holder)
    assert c.last[0] == "You are acting for Marcel Petit."
    c.press("1")
    assert c.last[0].startswith("A trusted helper cannot do this.") and step(app, c) == "menu"
    c.press("4").press("2").press("1")  # emergency, break-glass, confirm
    assert REFERENCE.search(c.last[0])
    with app.app_context():
        space = db.session.get(HealthSpace, holder.person_id)
        assert space.state == "active" and space.break_glass_access is False
    assert [a for a, *_ in _records(app, holder)][-1] == "emergency.break_glass.off"


def test_no_mandate_an_expired_one_or_a_guess_get_the_same_refusal_and_are_logged(app, en, enrol, tmp_path):
    caller = enrol(**PARENT)
    stranger = enrol(given_name="Paul", days_ago=60)
    former = enrol(given_name="Ancien", birth_date=date(1940, 1, 1), days_ago=60)
    _mandate(app, tmp_path, caller, former, kind="tutelle", start=clock.today() - timedelta(days=400),
             end=clock.today() - timedelta(days=1))
    c = _for(en(), caller, stranger)
    refusal = c.last[0]
    assert refusal.startswith("We cannot let you act for this person.") and step(app, c) == "for_nir"
    assert "Paul" not in c.text
    c.press(former.nir + "#")
    assert c.last[0] == refusal and step(app, c) == "for_nir"
    c.press("158016912345639#")  # well formed, nobody's: the same words
    assert c.last[0] == refusal and step(app, c) == "menu"  # after 3, back to the menu
    with app.app_context():
        refused = db.session.scalars(db.select(AuditEntry).where(AuditEntry.action == "refused.act_for")).all()
        assert [e.actor for e in refused] == [f"person:{caller.person_id}"] * 3
        assert db.session.scalar(db.select(db.func.count(ActionRecord.id))) == 0
    # Two more wrong numbers in the day, and even a right one is refused: NIRs cannot be tried out.
    child = enrol(birth_date=date(2015, 6, 1), nir="213057505601783", phone=None)
    _mandate(app, tmp_path, caller, child)
    c = _for(en(), with_new_code(app, caller), stranger)
    c.press(stranger.nir + "#").press(child.nir + "#")
    assert c.last[0] == refusal


def test_a_holder_names_then_removes_a_trusted_helper_by_phone(app, en, enrol):
    holder = enrol(given_name="Marcel", family_name="Petit", days_ago=60)
    helper = enrol(given_name="Nadia", family_name="Benali", birth_date=date(1975, 5, 5))
    c = en().press("0").press("2").identify(holder)
    assert step(app, c) == "helpers" and c.last[0].startswith("A trusted helper hears your history")
    c.press("1").press(helper.nir + "#").press("05051975#")
    assert step(app, c) == "helper_confirm"
    c.press("1")
    assert REFERENCE.search(c.last[0])
    with app.app_context():
        m = db.session.scalars(db.select(Mandate)).one()
        assert (m.kind, m.representative_id, m.valid_until) == ("aidant", helper.person_id,
                                                                clock.today() + timedelta(days=365))
    c.press("1").press("0").press("2")  # menu, help, helpers: she is listed
    assert any(s.startswith("Helper 1: Nadia Benali, until") for s in c.last)
    c.press("2").press("1#")
    assert c.last[0] == "Nadia Benali will no longer be your trusted helper."
    c.press("1")
    assert REFERENCE.search(c.last[0])
    with app.app_context():
        assert db.session.scalars(db.select(Mandate)).one().end_reason == "revoked"


def test_a_wrong_helper_birth_date_names_nobody(app, en, enrol):
    holder = enrol(days_ago=60)
    helper = enrol(birth_date=date(1975, 5, 5))
    c = en().press("0").press("2").identify(holder)
    c.press("1").press(helper.nir + "#").press("06051975#").press("1")
    assert c.last[0] == "We found nobody with this number and this date of birth. Check them with your helper."
    assert step(app, c) == "helpers"
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Mandate.id))) == 0
