"""access: the decision on each access attempt, the history, blocking and reporting (SPEC §2)."""
import json
import re
from datetime import date, datetime, timedelta

import pytest

from app import clock
from app.domain.errors import InvalidTransition, NotAuthorized, NotFound
from app.models import AccessEvent, AccessReport, AuditEntry, OutboxMessage, db
from app.services import Actor, access, spaces

NOW = datetime(2026, 11, 24, 9, 0)


@pytest.fixture(autouse=True)
def frozen():
    clock.freeze(NOW)


def attempt(h, **kw) -> access.AccessAttempt:
    base = dict(nir=h.nir, occurred_at=NOW - timedelta(minutes=5), professional_name="Dr Ana Lopes",
                profession="Cardiologue", organisation="Hôpital Édouard Herriot, Lyon", mode="normal",
                section="Comptes rendus", reason=None, professional_id=None, event_id=None)
    base.update(kw)
    if base["mode"] != "normal" and base["reason"] is None:
        base["reason"] = "Patient inconscient"
    return access.AccessAttempt(**base)


def record(h, **kw):
    return access.record_access(attempt(h, **kw), "api")


def me(h) -> Actor:
    return Actor(h.person_id, "web")


def events():
    return db.session.scalars(db.select(AccessEvent).order_by(AccessEvent.id)).all()


@pytest.fixture
def active(enrol):
    return enrol(days_ago=50)  # the window has ended: the space exists


# --- decisions ------------------------------------------------------------------------------------

def test_a_normal_access_is_granted_recorded_and_notified(ctx, active):
    event, decision, created = record(active, event_id="ev-1", professional_id="10101234567")
    assert (decision.outcome, decision.reason, decision.masked_documents_visible, created) == \
        ("granted", "allowed", False, True)
    [stored] = events()
    assert (stored.event_key, stored.person_id, stored.decision, stored.decision_reason) == \
        ("ev-1", active.person_id, "granted", "allowed")
    assert (stored.professional_name, stored.profession, stored.section, stored.mode) == \
        ("Dr Ana Lopes", "Cardiologue", "Comptes rendus", "normal")
    [notice] = db.session.scalars(db.select(OutboxMessage)).all()
    assert (notice.channel, notice.recipient, notice.access_event_id) == ("sms", "+33612345678", event.id)
    assert "Comptes rendus" not in notice.body  # who and when, never which document
    assert "Lopes" in notice.body


@pytest.mark.parametrize("mode,setting,reason", [("samu", "samu", "samu_refused"),
                                                 ("break_glass", "break_glass", "break_glass_refused")])
def test_an_emergency_access_is_refused_when_its_setting_is_off(ctx, active, mode, setting, reason):
    spaces.set_emergency_access(me(active), active.person_id, setting, False)
    _, decision, _ = record(active, mode=mode)
    assert (decision.outcome, decision.reason) == ("refused", reason)
    other = "break_glass" if mode == "samu" else "samu"
    _, decision, _ = record(active, mode=other)
    assert (decision.outcome, decision.reason) == ("granted", "emergency_allowed")
    assert [e.decision for e in events()] == ["refused", "granted"]


@pytest.mark.parametrize("mode", ["samu", "break_glass"])
def test_emergency_granted_by_default_and_keeps_the_reason(ctx, active, mode):
    event, decision, _ = record(active, mode=mode, reason="Appel au 15, malaise")
    assert decision.granted and not decision.masked_documents_visible
    assert event.reason == "Appel au 15, malaise"
    entry = db.session.scalars(db.select(AuditEntry).where(AuditEntry.action == "access.recorded")).one()
    assert json.loads(entry.details)["mode"] == mode


def test_masked_documents_only_in_an_emergency_with_masked_on(ctx, active):
    spaces.set_emergency_access(me(active), active.person_id, "masked", True)
    _, samu, _ = record(active, mode="samu")
    _, normal, _ = record(active, mode="normal")
    assert samu.masked_documents_visible and not normal.masked_documents_visible
    assert [e.masked_visible for e in events()] == [True, False]


def test_blocked_by_rpps_whatever_the_name_says(ctx, active):
    first, _, _ = record(active, professional_id="10101234567")
    access.block_professional(me(active), active.person_id, first.id)
    _, decision, _ = record(active, professional_id="10101234567", professional_name="Ana LOPES-Martin",
                            organisation="Clinique du Parc")
    assert (decision.outcome, decision.reason) == ("refused", "professional_blocked")
    _, decision, _ = record(active, professional_id="10109999999")
    assert decision.granted


@pytest.mark.parametrize("name,profession,organisation", [
    ("DR ANA LOPES", "cardiologue", "HOPITAL EDOUARD HERRIOT, LYON"),
    ("dr  ana   lopes", "CARDIOLOGUE", "hôpital édouard herriot, lyon"),
    ("Dr Ana Lopes", "Cardiologue", "Hopital Edouard Herriot, Lyon"),
])
def test_blocked_by_name_profession_and_organisation_ignoring_case_and_accents(ctx, active, name, profession,
                                                                                organisation):
    first, _, _ = record(active)
    access.block_professional(me(active), active.person_id, first.id)
    _, decision, _ = record(active, professional_name=name, profession=profession, organisation=organisation)
    assert (decision.outcome, decision.reason) == ("refused", "professional_blocked")


def test_the_same_name_elsewhere_is_not_blocked(ctx, active):
    first, _, _ = record(active)
    access.block_professional(me(active), active.person_id, first.id)
    _, decision, _ = record(active, organisation="Clinique du Parc, Lyon")
    assert decision.granted
    _, decision, _ = record(active, profession="Pharmacien")
    assert decision.granted


def test_a_block_is_for_one_holder_only(ctx, enrol):
    a, b = enrol(days_ago=50), enrol(days_ago=50)
    first, _, _ = record(a)
    access.block_professional(me(a), a.person_id, first.id)
    assert not record(a)[1].granted
    assert record(b)[1].granted


def test_unblocking_lets_the_professional_in_again(ctx, active):
    first, _, _ = record(active)
    access.block_professional(me(active), active.person_id, first.id)
    [block] = access.blocked_professionals(me(active), active.person_id)
    assert (block.professional_name, block.profession) == ("Dr Ana Lopes", "Cardiologue")
    with pytest.raises(InvalidTransition):
        access.block_professional(me(active), active.person_id, first.id)  # already blocked
    access.unblock_professional(me(active), active.person_id, block.id)
    assert access.blocked_professionals(me(active), active.person_id) == []
    assert record(active)[1].granted
    with pytest.raises(NotFound):
        access.unblock_professional(me(active), active.person_id, block.id)


@pytest.mark.parametrize("situation,reason", [("opposed", "opposed"), ("closed", "closed"),
                                              ("notified", "no_space")])
@pytest.mark.parametrize("mode", ["normal", "samu", "break_glass"])
def test_no_access_to_an_opposed_closed_or_not_yet_created_space(ctx, enrol, situation, reason, mode):
    h = enrol(days_ago=10 if situation in ("opposed", "notified") else 50)
    if situation == "opposed":
        spaces.oppose(me(h), h.person_id)
    elif situation == "closed":
        spaces.close(me(h), h.person_id, delete_data=False)
    event, decision, _ = record(h, mode=mode)
    assert (decision.outcome, decision.reason) == ("refused", reason)
    assert event.decision == "refused"


def test_closure_takes_effect_at_once(ctx, active):
    assert record(active)[1].granted
    spaces.close(me(active), active.person_id, delete_data=True)
    assert record(active)[1].reason == "closed"
    spaces.reopen(me(active), active.person_id)
    assert record(active)[1].granted


def test_a_repeated_event_id_is_the_same_event(ctx, active):
    first, d1, created1 = record(active, event_id="ev-42")
    spaces.close(me(active), active.person_id, delete_data=False)  # would now be refused
    again, d2, created2 = record(active, event_id="ev-42", professional_name="Someone Else")
    assert (created1, created2) == (True, False)
    assert again.id == first.id and again.professional_name == "Dr Ana Lopes"
    assert d2.outcome == d1.outcome == "granted"
    assert len(events()) == 1
    assert db.session.scalar(db.select(db.func.count(OutboxMessage.id)).where(
        OutboxMessage.access_event_id.is_not(None))) == 1


def test_an_unknown_nir_is_reported_and_nothing_stored(ctx, active):
    with pytest.raises(access.UnknownPerson):
        record(active, nir="213057505601783")
    assert events() == []


def test_without_a_mobile_the_notice_is_a_letter(ctx, enrol):
    h = enrol(days_ago=50, phone=None)
    record(h)
    [notice] = db.session.scalars(db.select(OutboxMessage)).all()
    assert (notice.channel, notice.recipient) == ("letter", None)


# --- history ---------------------------------------------------------------------------------------

def test_history_is_newest_first_by_when_it_happened(ctx, active):
    for days in (3, 1, 7, 2):
        record(active, occurred_at=NOW - timedelta(days=days), professional_name=f"Dr {days}")
    page = access.history(me(active), active.person_id)
    assert [line.event.professional_name for line in page.lines] == ["Dr 1", "Dr 2", "Dr 3", "Dr 7"]
    assert (page.page, page.pages, page.total) == (1, 1, 4)


def test_history_is_paged(ctx, active, app):
    size = app.config["HISTORY_PAGE_SIZE"]
    for i in range(2 * size + 5):
        record(active, occurred_at=NOW - timedelta(hours=i), professional_name=f"Dr {i:03d}")
    first = access.history(me(active), active.person_id)
    assert (first.page, first.pages, first.total, len(first.lines)) == (1, 3, 2 * size + 5, size)
    assert first.lines[0].event.professional_name == "Dr 000"
    second = access.history(me(active), active.person_id, page=2)
    assert second.lines[0].event.professional_name == f"Dr {size:03d}"
    last = access.history(me(active), active.person_id, page=3)
    assert len(last.lines) == 5 and last.lines[-1].event.professional_name == f"Dr {2 * size + 4:03d}"
    assert access.history(me(active), active.person_id, page=99).page == 3
    assert access.history(me(active), active.person_id, page=0).page == 1
    seen = [line.event.id for p in (1, 2, 3) for line in access.history(me(active), active.person_id, page=p).lines]
    assert len(seen) == len(set(seen)) == 2 * size + 5


def test_history_dates_are_french_dates(ctx, active):
    record(active, occurred_at=datetime(2026, 11, 23, 22, 59), professional_name="Late on the 23rd")  # 23:59 Paris
    record(active, occurred_at=datetime(2026, 11, 23, 23, 30), professional_name="Early on the 24th")  # 00:30
    record(active, occurred_at=datetime(2026, 11, 24, 8, 0), professional_name="Morning of the 24th")
    on_24 = access.history(me(active), active.person_id, date_from=date(2026, 11, 24), date_to=date(2026, 11, 24))
    assert [line.event.professional_name for line in on_24.lines] == ["Morning of the 24th", "Early on the 24th"]
    on_23 = access.history(me(active), active.person_id, date_from=date(2026, 11, 23), date_to=date(2026, 11, 23))
    assert [line.event.professional_name for line in on_23.lines] == ["Late on the 23rd"]
    since_24 = access.history(me(active), active.person_id, date_from=date(2026, 11, 24))
    assert since_24.total == 2
    until_23 = access.history(me(active), active.person_id, date_to=date(2026, 11, 23))
    assert until_23.total == 1


def test_history_of_an_empty_space(ctx, active):
    page = access.history(me(active), active.person_id)
    assert (page.lines, page.page, page.pages, page.total) == ([], 1, 1, 0)


def test_history_is_only_for_its_person(ctx, enrol):
    a, b = enrol(days_ago=50), enrol(days_ago=50)
    event, _, _ = record(a)
    with pytest.raises(NotAuthorized):
        access.history(me(b), a.person_id)
    with pytest.raises(NotFound):
        access.event_for(me(b), b.person_id, event.id)   # not b's event
    with pytest.raises(NotFound):
        access.block_professional(me(b), b.person_id, event.id)
    with pytest.raises(NotFound):
        access.report_access(me(b), b.person_id, event.id)


def test_history_lines_say_blocked_and_reported(ctx, active):
    blocked, _, _ = record(active, professional_id="10101234567", occurred_at=NOW - timedelta(hours=2))
    reported, _, _ = record(active, professional_name="Marc Roux", profession="Pharmacien",
                            occurred_at=NOW - timedelta(hours=1))
    access.block_professional(me(active), active.person_id, blocked.id)
    receipt = access.report_access(me(active), active.person_id, reported.id)
    lines = {line.event.id: line for line in access.history(me(active), active.person_id).lines}
    assert lines[blocked.id].blocked and lines[blocked.id].report_reference is None
    assert not lines[reported.id].blocked and lines[reported.id].report_reference == receipt.reference


# --- reporting -------------------------------------------------------------------------------------

def test_reporting_an_access_gives_a_case_reference_kept_in_audit_and_export(ctx, active):
    event, _, _ = record(active, professional_id="10107654321")
    receipt = access.report_access(me(active), active.person_id, event.id)
    assert re.fullmatch(r"\d{9}", receipt.reference)
    [report] = db.session.scalars(db.select(AccessReport)).all()
    assert (report.reference, report.person_id, report.access_event_id, report.channel) == \
        (receipt.reference, active.person_id, event.id, "web")
    [entry] = db.session.scalars(db.select(AuditEntry).where(AuditEntry.action == "access.reported")).all()
    assert json.loads(entry.details)["reference"] == receipt.reference
    [(exported_report, exported_event)] = access.reports_for_export()
    assert exported_report.reference == receipt.reference and exported_event.id == event.id


def test_an_access_cannot_be_reported_twice(ctx, active):
    event, _, _ = record(active)
    access.report_access(me(active), active.person_id, event.id)
    with pytest.raises(InvalidTransition):
        access.report_access(me(active), active.person_id, event.id)
    assert len(access.reports_for_export()) == 1


def test_a_repeated_report_request_gets_the_first_reference(ctx, active):
    event, _, _ = record(active)
    a = access.report_access(me(active), active.person_id, event.id, idempotency_key="sms:SM1")
    b = access.report_access(me(active), active.person_id, event.id, idempotency_key="sms:SM1")
    assert a.reference == b.reference and len(access.reports_for_export()) == 1


def test_export_lists_reports_of_everyone_in_order(ctx, enrol):
    a, b = enrol(days_ago=50), enrol(days_ago=50)
    ea, _, _ = record(a)
    eb, _, _ = record(b)
    rb = access.report_access(me(b), b.person_id, eb.id)
    ra = access.report_access(me(a), a.person_id, ea.id)
    assert [(r.reference, e.id) for r, e in access.reports_for_export()] == [(rb.reference, eb.id),
                                                                             (ra.reference, ea.id)]
