"""Legal representation recorded at the desk (issue 14): a counsellor or supervisor who saw the document records
it, or ends one; the same rules as the CSV import; the represented person found by NIR and birth date together."""
from datetime import date

import pytest

from app.models import AuditEntry, Mandate, db


@pytest.fixture
def parent_at_the_desk(member, enrol):
    """(desk, parent, child, case page): a counsellor with the parent identified in a case."""
    desk = member("counsellor", "N. Haddad")
    desk.sign_in()
    parent = enrol(days_ago=60, language="en", given_name="Karim", family_name="Benali", birth_date=date(1980, 1, 1))
    child = enrol(days_ago=60, language="en", given_name="Léa", family_name="Benali", birth_date=date(2015, 5, 14),
                  phone=None)
    case_id, page = desk.open_case("appointment")
    return desk, parent, child, desk.identify(parent, page)


def form(child, **over):
    return {"kind": "parent", "nir": child.nir, "birth_date": child.birth_date.strftime("%d/%m/%Y"),
            "valid_from": "01/12/2026", "valid_until": "", "document": "livret de famille", **over}


def test_a_counsellor_records_a_parent_and_ends_it(app, parent_at_the_desk):
    desk, parent, child, case = parent_at_the_desk
    page = desk.get(case.link("Legal representation"))
    assert page.h1 == "Legal representation" and "None." in page.text
    done = desk.submit(page, form(child))
    assert "The representation is recorded." in done.text and "Represents Léa Benali" in done.text
    with app.app_context():
        m = db.session.scalar(db.select(Mandate))
        assert (m.representative_id, m.represented_id, m.kind) == (parent.person_id, child.person_id, "parent")
        entry = db.session.scalar(db.select(AuditEntry).where(AuditEntry.action == "mandate.recorded"))
        assert entry.actor.startswith("staff:") and "livret de famille" in entry.details
    again = desk.submit(desk.get(case.link("Legal representation")), form(child))
    assert "recorded already" in again.text
    ended = desk.submit(again, {}, form_index=1)
    assert "has ended" in ended.text and "None." in ended.text
    with app.app_context():
        assert db.session.scalar(db.select(Mandate.end_reason)) == "ended_at_desk"


@pytest.mark.parametrize("over,said", [
    ({"birth_date": "01/01/2015"}, "We found nobody"),                  # NIR right, date wrong: one answer
    ({"nir": "213057505601783"}, "We found nobody"),                    # nobody with this NIR
    ({"kind": ""}, "Choose the kind"),
    ({"valid_from": "31/02/2026"}, "day, month and year"),
    ({"valid_until": "01/01/2020"}, "before the start date"),
    ({"document": ""}, "reference of the judgment"),
    ({"document": "jugement, tél 06 12 34 56 78"}, "without any social security or phone number"),
])
def test_bad_input_is_explained_and_records_nothing(app, parent_at_the_desk, over, said):
    desk, parent, child, case = parent_at_the_desk
    answer = desk.submit(desk.get(case.link("Legal representation")), form(child, **over))
    assert answer.status == 400 and said in " ".join(answer.errors), answer.errors
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Mandate.id))) == 0


def test_a_parent_of_an_adult_is_refused_and_agents_cannot_record(app, member, enrol, parent_at_the_desk):
    desk, parent, child, case = parent_at_the_desk
    adult = enrol(days_ago=60, language="en", birth_date=date(1990, 1, 1), phone=None)
    answer = desk.submit(desk.get(case.link("Legal representation")), form(adult))
    assert "A parent represents a minor" in " ".join(answer.errors)
    agent = member("agent")
    agent.sign_in()
    assert agent.get(case.url).status == 404  # not their case
    holder = enrol(days_ago=60, language="en")
    case_id, page = agent.open_case("call")
    agent_case = agent.identify(holder, page)
    assert "Legal representation" not in agent_case.text
    assert agent.get(f"/desk/cases/{case_id}/mandates").status == 403
