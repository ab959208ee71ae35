"""The operator's commands from the contract: enrol, access-events import, jobs run, audit verify, reports export."""
import csv
import json
from datetime import date, timedelta

from app import clock
from app.models import AccessEvent, AuditEntry, HealthSpace, Person, db
from app.services import identity

HEADER = "nir,vitale_serial,family_name,given_name,birth_date,phone,email,language,letter_sent_on\n"


def run(app, *args):
    return app.test_cli_runner(mix_stderr=False).invoke(args=list(args)) if _mix_supported(app) \
        else app.test_cli_runner().invoke(args=list(args))


def _mix_supported(app) -> bool:
    import inspect

    from click.testing import CliRunner
    return "mix_stderr" in inspect.signature(CliRunner.__init__).parameters


def test_enrol_stores_good_rows_reports_bad_ones_by_line(app, tmp_path):
    sent = (clock.today() - timedelta(days=3)).isoformat()
    batch = tmp_path / "batch.csv"
    batch.write_text(HEADER +
                     f"240037511200567,80123456789,Martin,Jeanne,1940-03-12,06 12 34 56 78,,fr,{sent}\n"
                     f"274112A00401768,81122334455,Durand,Sophie,1974-11-03,+33611223344,s@example.org,en,{sent}\n"
                     f"240037511200599,80123456780,Bad,Key,1940-03-12,,,fr,{sent}\n"
                     f"158016912345639,80555666777,Leroy,Paul,1958-13-40,,,fr,{sent}\n"
                     f"189071305512376,80987654321,Benali,Karim,1989-07-21,12,,de,{sent}\n"
                     f"240037511200567,80123456789,Martin,Jeanne,1940-03-12,,,fr,{sent}\n", encoding="utf-8")
    codes = tmp_path / "codes.csv"
    result = run(app, "enrol", str(batch), "--codes-out", str(codes))
    assert result.exit_code == 1
    out = result.output + (result.stderr if hasattr(result, "stderr") else "")
    assert "line 4: nir:" in out and "line 5: birth_date:" in out
    assert "line 6: phone:" in out and "line 6: language:" in out and "line 7: nir: appears twice" in out
    assert "2 imported, 4 rejected" in out
    rows = list(csv.DictReader(codes.open(encoding="utf-8")))
    assert [r["nir"] for r in rows] == ["240037511200567", "274112A00401768"]
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Person.id))) == 2
        jeanne = identity.find_person_by_nir("240037511200567")
        assert jeanne.phone == "+33612345678" and jeanne.space.state == "notified"
        # the code written out identifies the person
        assert identity.identify("240037511200567", "80123456789", date(1940, 3, 12), rows[0]["provisional_code"],
                                 client="test", channel="web") == jeanne.id
        # nothing in clear: no NIR and no code in the person row or the audit log
        for entry in db.session.scalars(db.select(AuditEntry)):
            assert "240037511200567" not in entry.details + entry.actor + (entry.subject or "")
        assert "240037511200567" not in jeanne.nir_lookup


def test_enrol_refuses_a_batch_without_its_columns(app, tmp_path):
    batch = tmp_path / "batch.csv"
    batch.write_text("nir,name\n1,2\n", encoding="utf-8")
    result = run(app, "enrol", str(batch), "--codes-out", str(tmp_path / "c.csv"))
    assert result.exit_code != 0 and "missing columns" in (result.output + getattr(result, "stderr", ""))


def test_an_already_enrolled_nir_is_a_bad_row(app, tmp_path, enrol):
    holder = enrol()
    batch = tmp_path / "batch.csv"
    batch.write_text(HEADER + f"{holder.nir},80123456789,Martin,Jeanne,1940-03-12,,,fr,2026-11-01\n", encoding="utf-8")
    result = run(app, "enrol", str(batch), "--codes-out", str(tmp_path / "c.csv"))
    assert "already enrolled" in result.output + getattr(result, "stderr", "")


def test_access_events_import_prints_decisions_and_reports_bad_lines(app, tmp_path, enrol):
    holder = enrol(days_ago=60)
    base = {"nir": holder.nir, "occurred_at": "2026-11-20T10:15:00+01:00", "professional_name": "Dr Petit",
            "profession": "Médecin", "organisation": "Cabinet", "mode": "normal", "section": "Ordonnances",
            "reason": None}
    lines = [json.dumps({**base, "event_id": "a"}), "{not json", json.dumps({**base, "mode": "x"}),
             json.dumps({**base, "event_id": "a"}), json.dumps({**base, "nir": "158016912345639"}),
             json.dumps({**base, "mode": "samu", "reason": "Malaise", "event_id": "b"}),
             json.dumps({**base, "occurred_at": "2026-11-20T10:15:00"})]
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run(app, "access-events", "import", str(path))
    out = result.output + getattr(result, "stderr", "")
    decisions = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    assert [(d["line"], d["decision"], d["duplicate"]) for d in decisions] == \
        [(1, "granted", False), (4, "granted", True), (6, "granted", False)]
    assert "line 2:" in out and "line 3: mode:" in out and "line 5: nir:" in out and "line 7: occurred_at:" in out
    assert result.exit_code == 1
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(AccessEvent.id))) == 2


def test_jobs_run_creates_spaces_after_the_window(app, enrol):
    holder = enrol(days_ago=10)
    as_of = (clock.today() + timedelta(days=40)).isoformat()
    early = run(app, "jobs", "run", "--as-of", (clock.today() + timedelta(days=30)).isoformat())
    assert "created 0" in early.output
    result = run(app, "jobs", "run", "--as-of", as_of)
    assert result.exit_code == 0 and "created 1" in result.output
    with app.app_context():
        assert db.session.get(HealthSpace, holder.person_id).state == "active"
    assert "created 0" in run(app, "jobs", "run", "--as-of", as_of).output


def test_audit_verify_detects_tampering(app, enrol):
    enrol()
    assert "intact" in run(app, "audit", "verify").output
    with app.app_context():
        entry = db.session.scalar(db.select(AuditEntry).order_by(AuditEntry.id))
        entry.details = '{"letter_sent_on":"1999-01-01"}'
        db.session.commit()
    result = run(app, "audit", "verify")
    assert result.exit_code != 0 and "broken" in result.output + getattr(result, "stderr", "")


def test_reports_export(app, tmp_path, enrol):
    from app.services import Actor, access
    holder = enrol(days_ago=60)
    with app.app_context():
        event, _, _ = access.record_access(access.AccessAttempt(
            nir=holder.nir, occurred_at=clock.now(), professional_name="Dr Inconnu", profession="Médecin",
            organisation="Clinique", mode="normal", section="Ordonnances"), "cli")
        reference = access.report_access(Actor(holder.person_id, "web"), holder.person_id, event.id).reference
    out = tmp_path / "reports.csv"
    assert run(app, "reports", "export", str(out)).exit_code == 0
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert rows[0]["reference"] == reference and rows[0]["professional_name"] == "Dr Inconnu"


def test_demo_load_twice_is_the_same_demo(app):
    first = run(app, "demo", "load")
    second = run(app, "demo", "load")
    assert first.exit_code == 0 and second.exit_code == 0
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Person.id))) == 5
        karim = identity.find_person_by_nir("189071305512376")
        assert db.session.scalar(db.select(db.func.count(AccessEvent.id))
                                 .where(AccessEvent.person_id == karim.id)) == 30
        assert identity.identify("189071305512376", "80987654321", date(1989, 7, 21), "K7XM2RC9F4HA",
                                 client="t", channel="web") == karim.id
