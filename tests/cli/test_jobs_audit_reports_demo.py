"""`jobs run`, `audit verify`, `reports export` and `demo load`: what the operator runs and reads."""
import csv
import re
from datetime import date, datetime, timedelta

import pytest

from app import clock
from app.domain.identifiers import normalize_provisional_code
from app.models import AccessEvent, ActionRecord, AuditEntry, HealthSpace, OutboxMessage, Person, db
from app.services import Actor, access, identity, spaces

NOW = datetime(2026, 11, 24, 9, 0)
TODAY = date(2026, 11, 24)


@pytest.fixture(autouse=True)
def frozen():
    clock.freeze(NOW)


def run(app, *args):
    return app.test_cli_runner().invoke(args=[str(a) for a in args])


def counts(output: str) -> dict[str, int]:
    return {k: int(v) for k, v in re.findall(r"([a-z_]+) (\d+)", output.splitlines()[0].split(":", 1)[1])}


def state(app, person_id) -> str:
    with app.app_context():
        return db.session.get(HealthSpace, person_id).state


# --- jobs run -------------------------------------------------------------------------------------

def test_jobs_run_as_of_applies_what_is_due_and_prints_counts(app, enrol):
    h = enrol(days_ago=10)                                   # window ends on TODAY + 32
    end = TODAY + timedelta(days=32)
    result = run(app, "jobs", "run", "--as-of", end.isoformat())
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"as of {end.isoformat()}:")
    assert counts(result.output)["created"] == 0
    assert state(app, h.person_id) == "notified"
    result = run(app, "jobs", "run", "--as-of", (end + timedelta(days=1)).isoformat())
    c = counts(result.output)
    assert (c["created"], c["codes_voided"]) == (1, 1)
    assert state(app, h.person_id) == "active"
    again = counts(run(app, "jobs", "run", "--as-of", (end + timedelta(days=1)).isoformat()).output)
    assert {k: v for k, v in again.items() if v} == {}


def test_jobs_run_without_a_date_uses_the_french_today(app, enrol):
    h = enrol(days_ago=43)
    result = run(app, "jobs", "run")
    assert f"as of {TODAY.isoformat()}:" in result.output
    assert counts(result.output)["created"] == 1
    assert state(app, h.person_id) == "active"


def test_jobs_run_purges_a_deletion_that_is_due_and_queues_the_notice(app, enrol):
    h = enrol(days_ago=50)
    with app.app_context():
        spaces.close(Actor(h.person_id, "web"), h.person_id, delete_data=True)
    assert counts(run(app, "jobs", "run", "--as-of", "2027-02-23").output)["purged"] == 0
    assert counts(run(app, "jobs", "run", "--as-of", "2027-02-24").output)["purged"] == 1
    assert state(app, h.person_id) == "purged"
    with app.app_context():
        purge = db.session.scalars(db.select(ActionRecord).where(ActionRecord.action == "space.purged")).one()
        assert db.session.scalars(db.select(OutboxMessage).where(OutboxMessage.reference == purge.reference)).one()


def test_jobs_run_refuses_a_date_in_another_format(app):
    result = run(app, "jobs", "run", "--as-of", "24/11/2026")
    assert result.exit_code != 0
    assert "--as-of" in result.output


def test_a_reminder_never_goes_by_sms_to_a_landline(app, tmp_path):
    """SPEC §2: reminders go by SMS, *or by a letter when there is no mobile*. The batch accepts any French
    number (SPEC §4: "phone national or E.164"); Jeanne gave her landline."""
    sent = (TODAY - timedelta(days=10)).isoformat()                # window ends on TODAY + 32
    batch, codes = tmp_path / "batch.csv", tmp_path / "codes.csv"
    batch.write_text("nir,vitale_serial,family_name,given_name,birth_date,phone,email,language,letter_sent_on\n"
                     f"240037511200567,80123456789,Martin,Jeanne,1940-03-12,04 78 12 34 56,,fr,{sent}\n",
                     encoding="utf-8")
    enrolled = run(app, "enrol", batch, "--codes-out", codes)
    assert enrolled.exit_code == 0, enrolled.output
    result = run(app, "jobs", "run", "--as-of", (TODAY + timedelta(days=32 - 14)).isoformat())
    assert counts(result.output)["reminders"] == 1
    with app.app_context():
        reminder = db.session.scalars(db.select(OutboxMessage)).one()
        assert reminder.channel == "letter", f"reminder sent by {reminder.channel} to the landline {reminder.recipient}"


# --- audit verify --------------------------------------------------------------------------------------

def test_audit_verify_says_intact_then_catches_a_forged_entry(app, enrol):
    h = enrol(days_ago=50)
    with app.app_context():
        spaces.set_emergency_access(Actor(h.person_id, "web"), h.person_id, "samu", False)
        count = db.session.scalar(db.select(db.func.count(AuditEntry.id)))
    result = run(app, "audit", "verify")
    assert result.exit_code == 0
    assert "intact" in result.output and f"{count} entries" in result.output
    with app.app_context():
        first = db.session.scalars(db.select(AuditEntry).order_by(AuditEntry.id)).first()
        db.session.execute(db.text("UPDATE audit_entry SET details = '{}' WHERE id = :id"), {"id": first.id})
        db.session.commit()
    result = run(app, "audit", "verify")
    assert result.exit_code != 0
    assert "intact" not in result.output and "broken" in result.output


def test_audit_verify_on_an_empty_log(app):
    result = run(app, "audit", "verify")
    assert result.exit_code == 0 and "intact: 0 entries" in result.output


# --- reports export -------------------------------------------------------------------------------------

def test_reports_export_writes_each_reported_access(app, enrol, tmp_path):
    h = enrol(days_ago=50)
    with app.app_context():
        event, _, _ = access.record_access(access.AccessAttempt(
            nir=h.nir, occurred_at=datetime(2026, 11, 23, 17, 40), professional_name="Marc Roux",
            profession="Pharmacien", organisation="Pharmacie de la Gare, Lyon", mode="normal",
            section="Ordonnances", professional_id="10107654321"), "api")
        access.record_access(access.AccessAttempt(
            nir=h.nir, occurred_at=datetime(2026, 11, 23, 18, 0), professional_name="Not Reported",
            profession="Infirmière", organisation="CH", mode="normal", section="Vaccinations"), "api")
        receipt = access.report_access(Actor(h.person_id, "sms"), h.person_id, event.id)
        reference = receipt.reference
    out = tmp_path / "reports.csv"
    result = run(app, "reports", "export", out)
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert len(rows) == 1
    row = rows[0]
    assert row["reference"] == reference
    assert (row["professional_name"], row["profession"], row["organisation"], row["professional_id"]) == \
        ("Marc Roux", "Pharmacien", "Pharmacie de la Gare, Lyon", "10107654321")
    assert (row["occurred_at"], row["mode"], row["decision"], row["channel"]) == \
        ("2026-11-23T17:40:00Z", "normal", "granted", "sms")
    assert row["person_id"] == str(h.person_id)
    assert h.nir not in out.read_text(encoding="utf-8")


def test_reports_export_with_no_report_has_only_the_header(app, tmp_path):
    out = tmp_path / "reports.csv"
    assert run(app, "reports", "export", out).exit_code == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1 and lines[0].startswith("reference,")


# --- demo load ------------------------------------------------------------------------------------------

DEMO_LINE = re.compile(r"^\s+(\S+) (\S+): (\w{15}) / (\d+) / (\d{2}/\d{2}/\d{4}) / ([A-Z0-9-]{14})", re.M)


def test_demo_load_twice_is_idempotent_and_its_codes_identify(app, tmp_path):
    first = run(app, "demo", "load")
    assert first.exit_code == 0, first.output
    with app.app_context():
        people = db.session.scalar(db.select(db.func.count(Person.id)))
        events = db.session.scalar(db.select(db.func.count(AccessEvent.id)))
    second = run(app, "demo", "load", "--codes-out", tmp_path / "codes.csv")
    assert second.exit_code == 0, second.output
    assert second.output == first.output
    identities = DEMO_LINE.findall(second.output)
    assert len(identities) == people == 5
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Person.id))) == people
        assert db.session.scalar(db.select(db.func.count(AccessEvent.id))) == events == 30
        for given, family, nir, serial, birth, code in identities:
            person_id = identity.identify(nir, serial, datetime.strptime(birth, "%d/%m/%Y").date(),
                                          normalize_provisional_code(code), client="demo", channel="web")
            person = db.session.get(Person, person_id)
            assert (person.given_name, person.family_name) == (given, family)
    written = list(csv.DictReader((tmp_path / "codes.csv").open(encoding="utf-8")))
    assert {(r["nir"], r["provisional_code"]) for r in written} == \
        {(nir, normalize_provisional_code(code)) for _, _, nir, _, _, code in identities}


def test_demo_load_puts_everyone_back_as_they_were(app):
    run(app, "demo", "load")
    with app.app_context():
        jeanne = identity.find_person_by_nir("240037511200567")
        spaces.oppose(Actor(jeanne.id, "web"), jeanne.id)
        states = {p.given_name: p.space.state for p in db.session.scalars(db.select(Person))}
    assert states["Jeanne"] == "opposed"
    run(app, "demo", "load")
    with app.app_context():
        states = {p.given_name: p.space.state for p in db.session.scalars(db.select(Person))}
    assert states == {"Jeanne": "notified", "Karim": "active", "Sophie": "closed", "Paul": "notified",
                      "Léa": "notified"}
    assert "intact" in run(app, "audit", "verify").output

