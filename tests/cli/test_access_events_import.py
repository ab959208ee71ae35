"""`flask --app app access-events import EVENTS.jsonl` (SPEC §4): a decision per line, bad lines named."""
import json
from datetime import datetime

import pytest

from app import clock
from app.models import AccessEvent, db
from app.services import Actor, spaces

NOW = datetime(2026, 11, 24, 9, 0)


@pytest.fixture(autouse=True)
def frozen():
    clock.freeze(NOW)


def event(nir, **kw) -> dict:
    data = {"nir": nir, "occurred_at": "2026-11-24T10:15:00+01:00", "professional_name": "Dr Claire Petit",
            "profession": "Médecin généraliste", "organisation": "Cabinet du Parc, Lyon", "mode": "normal",
            "section": "Ordonnances", "reason": None}
    data.update(kw)
    return {k: v for k, v in data.items() if v is not ...}


def run_import(app, tmp_path, *lines):
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n",
                    encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["access-events", "import", str(path)])
    answers = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    return result, answers


def stored(app):
    with app.app_context():
        return db.session.scalars(db.select(AccessEvent).order_by(AccessEvent.id)).all()


@pytest.fixture
def holder(enrol):
    return enrol(days_ago=50)


def test_each_line_gets_its_decision(app, tmp_path, holder):
    with app.app_context():
        spaces.set_emergency_access(Actor(holder.person_id, "web"), holder.person_id, "break_glass", False)
    result, answers = run_import(
        app, tmp_path,
        event(holder.nir, event_id="e-1", professional_id="10101234567"),
        event(holder.nir, event_id="e-2", mode="samu", reason="Appel au 15, malaise"),
        event(holder.nir, event_id="e-3", mode="break_glass", reason="Patient inconscient"))
    assert result.exit_code == 0, result.output
    assert answers == [
        {"line": 1, "event_id": "e-1", "decision": "granted", "reason": "allowed", "duplicate": False},
        {"line": 2, "event_id": "e-2", "decision": "granted", "reason": "emergency_allowed", "duplicate": False},
        {"line": 3, "event_id": "e-3", "decision": "refused", "reason": "break_glass_refused", "duplicate": False},
    ]
    rows = stored(app)
    assert [(e.event_key, e.mode, e.decision) for e in rows] == [
        ("e-1", "normal", "granted"), ("e-2", "samu", "granted"), ("e-3", "break_glass", "refused")]
    assert rows[0].occurred_at == datetime(2026, 11, 24, 9, 15)  # stored in UTC
    assert rows[0].professional_id == "10101234567" and rows[1].reason == "Appel au 15, malaise"


def test_a_nir_written_with_spaces_and_a_utc_time(app, tmp_path, holder):
    spaced = " ".join([holder.nir[:1], holder.nir[1:3], holder.nir[3:5], holder.nir[5:7], holder.nir[7:10],
                       holder.nir[10:13], holder.nir[13:]])
    result, answers = run_import(app, tmp_path, event(spaced, occurred_at="2026-11-24T08:00:00Z"))
    assert result.exit_code == 0, result.output
    assert answers[0]["decision"] == "granted"
    assert stored(app)[0].occurred_at == datetime(2026, 11, 24, 8, 0)


@pytest.mark.parametrize("bad,field", [
    ('{"nir": "240037511200567", "occurred_at": ', "line"),                    # not JSON
    ("[1, 2, 3]", "body"),                                                       # not an object
    (lambda nir: event(nir, professional_name=...), "professional_name"),       # missing field
    (lambda nir: event(nir, section=...), "section"),
    (lambda nir: event(nir, organisation=""), "organisation"),
    (lambda nir: event(nir, mode="urgence"), "mode"),
    (lambda nir: event(nir, mode="samu", reason=None), "reason"),               # emergency without reason
    (lambda nir: event(nir, occurred_at="2026-11-24T10:15:00"), "occurred_at"),  # naive timestamp
    (lambda nir: event(nir, occurred_at="24/11/2026 10:15"), "occurred_at"),
    (lambda nir: event("213057505601783"), "nir"),                               # valid, unknown NIR
    (lambda nir: event(nir[:13]), "nir"),                                        # missing key
    (lambda nir: event(nir, professional_id="RPPS 1010"), "professional_id"),
    (lambda nir: event(nir, event_id="x" * 101), "event_id"),
])
def test_a_bad_line_is_reported_by_number_and_not_stored(app, tmp_path, holder, bad, field):
    bad_line = bad(holder.nir) if callable(bad) else bad
    result, answers = run_import(app, tmp_path, event(holder.nir, event_id="good-1"), bad_line,
                                 event(holder.nir, event_id="good-3"))
    assert result.exit_code != 0
    assert f"line 2: {field}:" in result.stderr
    assert "line 1" not in result.stderr and "line 3" not in result.stderr
    assert [a["line"] for a in answers] == [1, 3]
    assert [e.event_key for e in stored(app)] == ["good-1", "good-3"]


def test_every_error_of_a_line_is_named(app, tmp_path, holder):
    result, _ = run_import(app, tmp_path, {"nir": holder.nir, "mode": "teleport"})
    for field in ("occurred_at", "professional_name", "profession", "organisation", "section", "mode"):
        assert f"line 1: {field}:" in result.stderr
    assert stored(app) == []


def test_a_repeated_event_id_is_one_event(app, tmp_path, holder):
    result, answers = run_import(app, tmp_path, event(holder.nir, event_id="dup"),
                                 event(holder.nir, event_id="dup", professional_name="Someone Else"))
    assert result.exit_code == 0, result.output
    assert [(a["event_id"], a["duplicate"], a["decision"]) for a in answers] == [("dup", False, "granted"),
                                                                                 ("dup", True, "granted")]
    # importing the same file again is harmless
    result, answers = run_import(app, tmp_path, event(holder.nir, event_id="dup"))
    assert answers[0]["duplicate"] is True
    [only] = stored(app)
    assert only.professional_name == "Dr Claire Petit"


def test_blank_lines_are_skipped_and_numbers_kept(app, tmp_path, holder):
    result, answers = run_import(app, tmp_path, event(holder.nir), "", "   ", event(holder.nir, mode="bad"))
    assert [a["line"] for a in answers] == [1]
    assert "line 4: mode:" in result.stderr


def test_access_to_a_space_in_its_window_is_refused(app, tmp_path, enrol):
    h = enrol(days_ago=5)
    _, answers = run_import(app, tmp_path, event(h.nir))
    assert (answers[0]["decision"], answers[0]["reason"]) == ("refused", "no_space")


REAL_REASON = ("Patient inconscient amené par les pompiers après un accident de la route, "
               "antécédents cardiaques signalés par sa fille")            # 118 characters


@pytest.mark.parametrize("field,value", [
    ("reason", REAL_REASON),
    ("reason", "r" * 500),                                                   # the documented limit
    ("organisation", "Centre hospitalier universitaire " + "de la métropole " * 7),  # 145 characters
    ("professional_name", "n" * 200),
])
def test_text_up_to_its_documented_limit_is_accepted(app, tmp_path, holder, field, value):
    """The error message says 500 characters for a reason and 200 for a name or an organisation (the columns
    hold that much): an emergency reason of a couple of sentences must not be refused."""
    result, answers = run_import(app, tmp_path, event(holder.nir, mode="break_glass",
                                                      **{"reason": "Malaise", field: value}))
    assert result.exit_code == 0, result.stderr
    assert answers[0]["decision"] == "granted"
    assert getattr(stored(app)[0], field) == " ".join(value.split())  # spaces are tidied, nothing cut


@pytest.mark.parametrize("field,length", [("reason", 501), ("organisation", 201), ("professional_name", 201),
                                          ("section", 101), ("profession", 101)])
def test_text_beyond_its_limit_is_refused(app, tmp_path, holder, field, length):
    result, answers = run_import(app, tmp_path, event(holder.nir, mode="samu",
                                                      **{"reason": "Malaise", field: "x" * length}))
    assert result.exit_code != 0 and answers == []
    assert f"line 1: {field}: must be at most" in result.stderr
    assert stored(app) == []


# --- streamed, a chunk a transaction, with progress (issue 16) ------------------------------------------------

def test_a_chunk_keeps_its_good_lines_around_a_bad_one_and_a_repeat(app, tmp_path, holder):
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(json.dumps(e) for e in (
        event(holder.nir, event_id="a"), event(holder.nir, mode="urgence"), event(holder.nir, event_id="a"),
        event(holder.nir, event_id="b"))) + "\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["access-events", "import", str(path), "--chunk", "10"])
    assert result.exit_code == 1
    answers = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert [(a["line"], a["event_id"], a["duplicate"]) for a in answers] == [(1, "a", False), (3, "a", True),
                                                                            (4, "b", False)]
    assert "line 2: mode:" in result.stderr
    assert [e.event_key for e in stored(app)] == ["a", "b"]


def test_a_chunk_that_fails_is_not_kept_and_its_decisions_are_not_told(app, tmp_path, holder, monkeypatch):
    from app import cli
    real, seen = cli.submit_access, []

    def failing(data, channel):
        seen.append(data["event_id"])
        if data["event_id"] == "e-4":
            raise RuntimeError("the database went away")
        return real(data, channel)
    monkeypatch.setattr(cli, "submit_access", failing)
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(json.dumps(event(holder.nir, event_id=f"e-{i}")) for i in range(1, 6)) + "\n",
                    encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["access-events", "import", str(path), "--chunk", "2"])
    assert result.exit_code != 0
    answers = [json.loads(line)["event_id"] for line in result.stdout.splitlines() if line.startswith("{")]
    assert answers == ["e-1", "e-2"]                       # the chunk of e-3 and e-4 is neither kept nor told
    assert [e.event_key for e in stored(app)] == ["e-1", "e-2"]


def test_progress_lines_when_not_a_terminal(app, tmp_path, holder):
    path = tmp_path / "ev.jsonl"
    path.write_text("\n".join(json.dumps(event(holder.nir, event_id=f"p-{i}")) for i in range(5)) + "\n",
                    encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["access-events", "import", str(path), "--chunk", "2",
                                                "--progress-every", "2"])
    assert result.exit_code == 0, result.output
    progress = [line.split(" rows")[0] for line in result.stderr.splitlines() if line.startswith("access-events")]
    assert progress == ["access-events ev.jsonl: 2 of 5", "access-events ev.jsonl: 4 of 5",
                        "access-events ev.jsonl: 5 of 5"]
