"""Accesses reported as not recognised, handled at the desk (issue 14): taken, noted, closed; the person told on
closing; what happened is shown, never who reported it; each member of staff sees the new ones and their own."""
import pytest

from app import clock
from app.models import AccessReport, AuditEntry, OutboxMessage, db
from app.services import Actor, access
from tests.conftest import row


@pytest.fixture
def a_report(app, enrol):
    """A report made by a person on the web: (holder, report id)."""
    holder = enrol(days_ago=60, language="en", given_name="Germaine", family_name="Quatrefages")
    with app.app_context():
        event, _decision, _new = access.record_access(access.AccessAttempt(
            nir=holder.nir, occurred_at=clock.now(), professional_name="Dr Inconnu", profession="Médecin",
            organisation="Clinique du Lac", mode="normal", section="Ordonnances", event_id="report-desk"), "api")
        access.report_access(Actor(holder.person_id, "web"), holder.person_id, event.id, "web:report")
        return holder, db.session.scalar(db.select(AccessReport.id))


def test_a_report_is_taken_noted_and_closed_and_the_person_is_told(app, member, a_report):
    holder, report_id = a_report
    desk = member("agent", "A. Dupont")
    desk.sign_in()
    queue = desk.get("/desk/reports")
    assert "Dr Inconnu" in queue.text and "Germaine" not in queue.html and "Quatrefages" not in queue.html
    page = desk.get(queue.soup.select_one(".entry a")["href"])
    assert page.h1.startswith("Case ") and "Clinique du Lac" in page.text and "Quatrefages" not in page.html
    taken = desk.submit(page)
    assert "The report is yours." in taken.text
    noted = desk.submit(taken, {"note": "Called the clinic: a homonym, the access was an error."}, form_index=1)
    assert "The note is added." in noted.text and "a homonym" in noted.text and "A. Dupont" in noted.text
    closed = desk.submit(noted, {}, form_index=2)
    assert "The person is told" in closed.text
    report = row(app, AccessReport, report_id)
    assert report.status == "closed" and report.closed_at is not None
    with app.app_context():
        told = db.session.scalars(db.select(OutboxMessage).where(OutboxMessage.person_id == holder.person_id)
                                  .order_by(OutboxMessage.id.desc())).first()
        from app.outbox import text_of
        assert "is closed" in text_of(told) and report.reference[:3] in text_of(told) and len(text_of(told)) <= 160
        actions = [e.action for e in db.session.scalars(
            db.select(AuditEntry).where(AuditEntry.action.like("report.%")))]
        assert actions == ["report.taken", "report.noted", "report.closed"]


@pytest.mark.parametrize("note,said", [("", "Write the note first."), ("x" * 1001, "1,000 characters"),
                                       ("He gave 1 89 07 13 055 123 76", "never keeps"),
                                       ("call back 06 12 34 56 78", "never keeps")])
def test_a_bad_note_is_explained_and_kept_nowhere(app, member, a_report, note, said):
    holder, report_id = a_report
    desk = member("agent")
    desk.sign_in()
    taken = desk.submit(desk.get(f"/desk/reports/{report_id}"))
    answer = desk.submit(taken, {"note": note}, form_index=1)
    assert answer.status == 400 and said in " ".join(answer.errors)
    assert row(app, AccessReport, report_id).notes is None


def test_others_see_new_reports_not_someone_elses_but_a_supervisor_sees_all(app, member, a_report):
    holder, report_id = a_report
    first, other, boss = member("agent", "A. Dupont"), member("counsellor", "N. Haddad"), member("supervisor")
    for m in (first, other, boss):
        m.sign_in()
    assert "Dr Inconnu" in other.get("/desk/reports").text  # new: anyone may take it
    first.submit(first.get(f"/desk/reports/{report_id}"))
    assert "Dr Inconnu" not in other.get("/desk/reports").text
    assert other.get(f"/desk/reports/{report_id}").status == 404
    csrf = other.get("/desk/reports").soup.select_one("input[name=csrf_token]")["value"]
    for step in ("take", "note", "close"):
        assert other.client.post(f"/desk/reports/{report_id}/{step}", data={"csrf_token": csrf, "note": "x"}
                                 ).status_code == 404
    seen = boss.get("/desk/reports")
    assert "in progress, A. Dupont" in seen.text
    assert row(app, AccessReport, report_id).status == "in_progress"


def test_two_taking_at_once_one_gets_it_and_bad_requests_change_nothing(app, member, a_report):
    holder, report_id = a_report
    a, b = member("agent"), member("agent")
    a.sign_in()
    b.sign_in()
    page_a, page_b = a.get(f"/desk/reports/{report_id}"), b.get(f"/desk/reports/{report_id}")
    a.submit(page_a)
    late = b.submit(page_b, follow=False)
    assert late.status in (302, 404)
    csrf = page_b.soup.select_one("input[name=csrf_token]")["value"]
    assert b.client.post(f"/desk/reports/{report_id}/teleport", data={"csrf_token": csrf}).status_code == 404
    assert a.client.post(f"/desk/reports/{report_id}/close").status_code == 400  # no CSRF token
    assert row(app, AccessReport, report_id).status == "in_progress"
