"""The access history on the web: newest first, paged, filtered; block, unblock and report from a line."""
from datetime import timedelta

from app import clock
from app.models import AccessReport, AuditEntry, db
from app.services import access
from tests.conftest import User


def _accesses(app, holder, n=25, **extra):
    with app.app_context():
        base = clock.now()
        for i in range(n):
            access.record_access(access.AccessAttempt(
                nir=holder.nir, occurred_at=base - timedelta(days=i), professional_name=f"Dr Pro {i}",
                profession="Médecin généraliste", organisation="Cabinet du Parc",
                mode="break_glass" if i == 0 else "normal", section="Ordonnances",
                reason="Patient inconscient" if i == 0 else None, event_id=f"ev-{i}", **extra), "cli")


def _signed_in(app, enrol):
    holder = enrol(days_ago=60)
    u = User(app.test_client(), "en")
    u.identify(holder)
    return holder, u


def test_history_newest_first_with_every_detail(app, enrol):
    holder, u = _signed_in(app, enrol)
    _accesses(app, holder)
    page = u.get("/history")
    assert page.h1 == "Who looked at my health space"
    entries = page.soup.select(".entry")
    assert len(entries) == 20
    first = entries[0].get_text(" ", strip=True)
    assert "Dr Pro 0" in first and "Médecin généraliste" in first and "Cabinet du Parc" in first
    assert "Emergency: break-glass" in first and "Patient inconscient" in first and "Allowed" in first
    assert "25 accesses" in page.text
    older = u.get(page.link("Older accesses"))
    assert len(older.soup.select(".entry")) == 5
    assert "Dr Pro 24" in older.soup.select(".entry")[-1].get_text()


def test_date_filter(app, enrol):
    holder, u = _signed_in(app, enrol)
    _accesses(app, holder)
    day = clock.today() - timedelta(days=3)
    page = u.get(f"/history?from={day.strftime('%d/%m/%Y')}&to={day.strftime('%d/%m/%Y')}")
    assert "1 access" in page.text and len(page.soup.select(".entry")) == 1


def test_bad_date_filter_is_explained(app, enrol):
    holder, u = _signed_in(app, enrol)
    page = u.get("/history?from=tomorrow")
    assert page.status == 200 and page.errors and page.soup.select_one("#from")["aria-invalid"] == "true"


def test_block_from_a_line_then_unblock(app, enrol):
    holder, u = _signed_in(app, enrol)
    _accesses(app, holder, n=2, professional_id="10101234567")
    page = u.get("/history")
    confirm = u.get(page.link("Block this professional"))
    assert confirm.h1 == "Block this professional?"
    receipt = u.submit(confirm)
    assert receipt.h1 == "The professional is blocked" and receipt.reference
    # a later access by the same professional (same RPPS) is refused
    with app.app_context():
        event, decision, _ = access.record_access(access.AccessAttempt(
            nir=holder.nir, occurred_at=clock.now(), professional_name="Dr Pro 0", profession="Médecin généraliste",
            organisation="Cabinet du Parc", mode="normal", section="Ordonnances", professional_id="10101234567"), "cli")
        assert decision.outcome == "refused" and decision.reason == "professional_blocked"
    blocked = u.get("/history/blocked")
    assert "Dr Pro 0" in blocked.text
    done = u.submit(u.get(blocked.link("Unblock")))
    assert done.h1 == "The professional is unblocked"
    assert "You have not blocked any professional" in u.get("/history/blocked").text


def test_report_an_access_gives_a_case_reference_kept_in_the_audit(app, enrol):
    holder, u = _signed_in(app, enrol)
    _accesses(app, holder, n=1)
    page = u.get("/history")
    receipt = u.submit(u.get(page.link("I do not recognise this access")))
    assert receipt.h1 == "Your report is recorded"
    assert f"Case {receipt.reference[:3]} {receipt.reference[3:6]} {receipt.reference[6:]}" in u.get("/history").text
    with app.app_context():
        assert db.session.scalar(db.select(AccessReport.reference)) == receipt.reference
        assert db.session.scalar(db.select(AuditEntry.id).where(AuditEntry.action == "access.reported"))


def test_activity_tab_lists_what_was_done(app, enrol):
    holder, u = _signed_in(app, enrol)
    u.submit(u.get("/emergency/samu/off"))
    page = u.get("/history/activity")
    assert "Access by the SAMU: refused" in page.text and "on the website" in page.text


def test_someone_elses_line_is_not_found(app, enrol):
    holder, u = _signed_in(app, enrol)
    other = enrol(days_ago=60)
    _accesses(app, other, n=1)
    with app.app_context():
        from app.models import AccessEvent
        event_id = db.session.scalar(db.select(AccessEvent.id))
    assert u.get(f"/history/{event_id}/block").status == 404
    assert u.get(f"/history/{event_id}/report").status == 404
