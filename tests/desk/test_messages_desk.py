"""Messages that failed and the letters to print, at the desk (issue 14, supervisors): numbers masked; the letters
as one printable file, then marked printed, as `flask outbox letters` does."""
from app import clock
from app.models import AuditEntry, OutboxMessage, db
from app.services import access


def test_a_supervisor_sees_failed_messages_masked_and_downloads_the_letters(app, member, enrol):
    holder = enrol(days_ago=60, language="en", phone=None, given_name="Octavie", family_name="Lettre")
    with app.app_context():
        access.record_access(access.AccessAttempt(
            nir=holder.nir, occurred_at=clock.now(), professional_name="Dr Petit", profession="Médecin",
            organisation="Cabinet", mode="normal", section="Ordonnances", event_id="letters-desk"), "api")
        failed = OutboxMessage(person_id=holder.person_id, channel="sms", recipient="+33612345678", language="en",
                               body="x", reference="123456789", status="failed", last_error="21610",
                               created_at=clock.now())
        db.session.add(failed)
        db.session.commit()
    boss = member("supervisor")
    boss.sign_in()
    page = boss.get("/desk/messages")
    assert page.h1 == "Messages and letters" and "1 letter waits to be printed." in page.text
    assert "+33*******78" in page.text and "+33612345678" not in page.html and "21610" in page.text
    csrf = page.soup.select_one("main form input[name=csrf_token]")["value"]
    response = boss.client.post("/desk/letters", data={"csrf_token": csrf})
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    batch = response.get_data(as_text=True)
    assert "Octavie" in batch and "Dr Petit" in batch
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(OutboxMessage.id)).where(
            OutboxMessage.channel == "letter", OutboxMessage.status == "queued")) == 0
        assert db.session.scalar(db.select(AuditEntry.action).where(AuditEntry.action == "letters.printed"))
    again = boss.client.post("/desk/letters", data={"csrf_token": csrf}, follow_redirects=True)
    assert "No letter to print." in again.get_data(as_text=True)


def test_agents_and_counsellors_have_no_letters(app, member):
    for role in ("agent", "counsellor"):
        m = member(role)
        m.sign_in()
        assert m.get("/desk/messages").status == 403
        csrf = m.get("/desk/").soup.select_one("input[name=csrf_token]")["value"]
        assert m.client.post("/desk/letters", data={"csrf_token": csrf}).status_code == 403
