"""Legal representatives: mandates imported, current or not, and what they allow; minors not alone."""
from datetime import date, timedelta

import pytest

from app import clock
from app.domain import mandates as rules
from app.domain.errors import NotAuthorized
from app.models import AuditEntry, HealthSpace, Mandate, db
from app.services import Actor, spaces
from app.services.mandates import end_expired, represented_by

HEADER = "representative_nir,represented_nir,kind,valid_from,valid_until\n"


def test_parent_mandate_ends_at_18_or_at_autonomy():
    m = rules.MandateFacts("parent", date(2020, 1, 1), None, False, date(2012, 5, 10), None)
    assert rules.is_current(m, date(2030, 5, 9)) and not rules.is_current(m, date(2030, 5, 10))
    autonomous = rules.MandateFacts("parent", date(2020, 1, 1), None, False, date(2012, 5, 10), date(2028, 6, 1))
    assert rules.is_current(autonomous, date(2028, 5, 31)) and not rules.is_current(autonomous, date(2028, 6, 1))


def test_tutelle_counts_between_its_dates():
    m = rules.MandateFacts("tutelle", date(2026, 1, 1), date(2026, 12, 31), False, date(1940, 1, 1), None)
    assert not rules.is_current(m, date(2025, 12, 31))
    assert rules.is_current(m, date(2026, 12, 31)) and not rules.is_current(m, date(2027, 1, 1))


def test_a_minor_cannot_oppose_or_close_alone():
    assert not rules.may_act_alone("space.opposed", date(2012, 1, 1), None, date(2026, 11, 24))
    assert rules.may_act_alone("view", date(2012, 1, 1), None, date(2026, 11, 24))
    assert rules.may_act_alone("space.closed", date(2009, 1, 1), date(2026, 1, 1), date(2026, 11, 24))
    assert rules.may_act_alone("space.closed", date(2008, 1, 1), None, date(2026, 11, 24))


def _import(app, tmp_path, rows: str):
    path = tmp_path / "mandates.csv"
    path.write_text(HEADER + rows, encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["mandates", "import", str(path)])
    return result, result.output + getattr(result, "stderr", "")


def test_import_reports_bad_rows_by_line_and_stores_good_ones(app, enrol, tmp_path):
    parent = enrol(birth_date=date(1980, 1, 1))
    child = enrol(birth_date=date(2015, 6, 1), nir="213057505601783", phone=None)
    adult = enrol(birth_date=date(1950, 1, 1))
    start = clock.today().isoformat()
    result, out = _import(app, tmp_path,
                          f"{parent.nir},{child.nir},parent,{start},\n"
                          f"{parent.nir},{adult.nir},parent,{start},\n"          # an adult is no child
                          f"{parent.nir},158016912345639,tutelle,{start},\n"     # nobody enrolled
                          f"{parent.nir},{adult.nir},cousin,{start},\n"          # unknown kind
                          f"{parent.nir},{adult.nir},tutelle,2026-13-01,\n"      # bad date
                          f"{parent.nir},{adult.nir},tutelle,{start},2020-01-01\n"  # ends before it starts
                          f"{parent.nir},{child.nir},parent,{start},\n")         # the same again: kept once
    assert result.exit_code == 1
    for line in (3, 4, 5, 6, 7):
        assert f"line {line}:" in out, out
    assert "1 imported, 5 rejected" in out
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Mandate.id))) == 1
        assert [r.given_name for r in represented_by(parent.person_id)] == ["Jeanne"]


def test_the_same_file_again_counts_what_is_there_and_exits_0(app, enrol, tmp_path):
    """Streamed, a chunk a transaction (issue 16): a file imported again after an interruption adds what is missing."""
    parent = enrol(birth_date=date(1980, 1, 1))
    children = [enrol(birth_date=date(2015, 6, 1), phone=None) for _ in range(3)]
    start = clock.today().isoformat()
    rows = "".join(f"{parent.nir},{c.nir},parent,{start},\n" for c in children)
    first, _ = _import(app, tmp_path, rows.split("\n", 1)[0] + "\n")
    assert first.exit_code == 0
    result, out = _import(app, tmp_path, rows)
    assert result.exit_code == 0, out
    assert "2 imported, 0 rejected, 1 already there" in out
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Mandate.id))) == 3


def test_a_parent_acts_for_the_child_and_nobody_else(app, enrol, tmp_path):
    parent = enrol(birth_date=date(1980, 1, 1))
    child = enrol(birth_date=date(2015, 6, 1), days_ago=10, nir="213057505601783", phone=None)
    stranger = enrol(birth_date=date(1960, 1, 1), days_ago=10)
    _import(app, tmp_path, f"{parent.nir},{child.nir},parent,{clock.today().isoformat()},\n")
    with app.app_context():
        actor = Actor(parent.person_id, "web")
        record = spaces.oppose(actor, child.person_id)
        assert (record.actor_id, record.subject_id) == (parent.person_id, child.person_id)
        assert db.session.get(HealthSpace, child.person_id).state == "opposed"
        with pytest.raises(NotAuthorized):
            spaces.oppose(actor, stranger.person_id)
        refused = db.session.scalar(db.select(AuditEntry).where(AuditEntry.action == "refused.space.opposed"))
        assert refused.actor == f"person:{parent.person_id}" and refused.subject == f"person:{stranger.person_id}"
        with pytest.raises(NotAuthorized):  # the child alone may not oppose
            spaces.oppose(Actor(child.person_id, "web"), child.person_id)


def test_a_mandate_not_begun_or_ended_is_refused_and_the_job_ends_it(app, enrol, tmp_path):
    guardian = enrol(birth_date=date(1970, 1, 1))
    father = enrol(birth_date=date(1935, 1, 1), days_ago=60)
    soon = clock.today() + timedelta(days=5)
    until = (soon + timedelta(days=30)).isoformat()
    _import(app, tmp_path, f"{guardian.nir},{father.nir},tutelle,{soon.isoformat()},{until}\n")
    with app.app_context():
        with pytest.raises(NotAuthorized):
            spaces.view(Actor(guardian.person_id, "web"), father.person_id)
        assert end_expired(soon + timedelta(days=31)) == 1
        assert db.session.scalar(db.select(Mandate.end_reason)) == "expired"
        assert end_expired(soon + timedelta(days=32)) == 0


def test_autonomy_from_16_ends_the_parents_mandate(app, enrol, tmp_path):
    parent = enrol(birth_date=date(1980, 1, 1))
    teen = enrol(birth_date=clock.today().replace(year=clock.today().year - 16) - timedelta(days=1),
                 nir="213057505601783", phone=None)
    _import(app, tmp_path, f"{parent.nir},{teen.nir},parent,{clock.today().isoformat()},\n")
    runner = app.test_cli_runner()
    assert runner.invoke(args=["mandates", "autonomy", teen.nir]).output.strip() == "recorded"
    with app.app_context():
        assert represented_by(parent.person_id) == []
        spaces.view(Actor(teen.person_id, "web"), teen.person_id)
    young = enrol(birth_date=date(2015, 1, 1))
    result = runner.invoke(args=["mandates", "autonomy", young.nir])
    assert result.exit_code != 0 and "from 16" in result.output


def test_a_person_sees_who_may_act_for_them(app, enrol, tmp_path):
    from tests.conftest import User
    guardian = enrol(birth_date=date(1970, 1, 1), given_name="Sophie", family_name="Durand")
    father = enrol(birth_date=date(1935, 1, 1), days_ago=60, given_name="Henri", family_name="Durand")
    _import(app, tmp_path, f"{guardian.nir},{father.nir},tutelle,{clock.today().isoformat()},2030-12-31\n")
    page = User(app.test_client(), "en").identify(father)
    assert "Who may act for me" in page.text and "Sophie Durand – guardian (tutelle), until" in page.text
