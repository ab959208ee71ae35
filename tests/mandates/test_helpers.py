"""Trusted helpers (proches aidants): named by the holder, limited in what they do, in number and in time."""
from datetime import date, timedelta

import pytest

from app import clock
from app.domain.errors import HelperRefused, NotAuthorized
from app.models import AuditEntry, HealthSpace, Mandate, OutboxMessage, db
from app.services import Actor, access, helpers, spaces
from app.services.mandates import end_expired, represented_by

pytestmark = pytest.mark.usefixtures("ctx")


def _name(holder, helper, **kw):
    return helpers.name_helper(Actor(holder.person_id, "web"), holder.person_id, helper.nir, helper.birth_date, **kw)


def _messages_to(person_id):
    return [m.body for m in db.session.scalars(db.select(OutboxMessage).where(OutboxMessage.person_id == person_id)
                                              .order_by(OutboxMessage.id))]


def test_a_helper_reads_blocks_and_sets_emergency_but_never_opposes_or_closes(enrol, app):
    holder = enrol(given_name="Marcel", family_name="Petit", birth_date=date(1940, 2, 2), days_ago=60, language="en")
    helper = enrol(given_name="Nadia", family_name="Benali", birth_date=date(1975, 5, 5), language="en")
    record = _name(holder, helper)
    assert record.action == "helper.named"
    assert record.details["until"] == (clock.today() + timedelta(days=365)).isoformat()
    assert "Marcel Petit named you trusted helper" in _messages_to(helper.person_id)[-1]
    as_helper = Actor(helper.person_id, "voice")
    view = spaces.view(as_helper, holder.person_id)
    assert view.restricted == "helper_limit" and "close" not in view.actions and "emergency" in view.actions
    access.history(as_helper, holder.person_id)
    changed = spaces.set_emergency_access(as_helper, holder.person_id, "break_glass", False)
    assert (changed.actor_id, changed.subject_id) == (helper.person_id, holder.person_id)
    assert db.session.get(HealthSpace, holder.person_id).break_glass_access is False
    for forbidden in (lambda: spaces.close(as_helper, holder.person_id, False),
                      lambda: spaces.oppose(as_helper, holder.person_id),
                      lambda: helpers.name_helper(as_helper, holder.person_id, helper.nir, helper.birth_date)):
        with pytest.raises(NotAuthorized) as exc:
            forbidden()
        assert exc.value.reason == "helper_limit"
    assert db.session.get(HealthSpace, holder.person_id).state == "active"
    refused = db.session.scalars(db.select(AuditEntry.action).where(AuditEntry.action.like("refused.%"))).all()
    assert {"refused.space.closed", "refused.space.opposed", "refused.helper.named"} <= set(refused)
    # The holder, an adult, is told what the helper did, by whom; the audit says on whose behalf.
    assert any("Nadia Benali acted for you" in m and "emergency" in m for m in _messages_to(holder.person_id))
    entry = db.session.scalar(db.select(AuditEntry).where(AuditEntry.action == "emergency.break_glass.off"))
    assert entry.actor == f"person:{helper.person_id}"
    assert f'"on_behalf_of":"person:{holder.person_id}"' in entry.details


def test_a_wrong_nir_or_birth_date_names_nobody_and_says_the_same(enrol):
    holder = enrol()
    helper = enrol(birth_date=date(1975, 5, 5))
    answers = set()
    for nir, born in ((helper.nir, date(1975, 5, 6)), ("158016912345639", date(1975, 5, 5))):
        with pytest.raises(HelperRefused) as exc:
            helpers.name_helper(Actor(holder.person_id, "web"), holder.person_id, nir, born)
        answers.add(exc.value.reason)
    assert answers == {"not_found"}
    assert db.session.scalar(db.select(db.func.count(Mandate.id))) == 0
    for _ in range(3):
        with pytest.raises(HelperRefused):
            helpers.name_helper(Actor(holder.person_id, "web"), holder.person_id, helper.nir, date(1975, 5, 6))
    with pytest.raises(HelperRefused) as exc:  # 5 wrong answers in a day: even the right one waits
        _name(holder, helper)
    assert exc.value.reason == "locked"


def test_three_helpers_a_person_five_people_a_helper(enrol):
    people = [enrol() for _ in range(9)]
    holder, helper = people[0], people[1]
    for h in people[1:4]:
        _name(holder, h)
    with pytest.raises(HelperRefused) as exc:
        _name(holder, people[4])
    assert exc.value.reason == "too_many_helpers"
    for p in people[4:8]:
        _name(p, helper)
    assert len(represented_by(helper.person_id)) == 5
    with pytest.raises(HelperRefused) as exc:
        _name(people[8], helper)
    assert exc.value.reason == "helper_full"
    with pytest.raises(HelperRefused) as exc:
        _name(people[8], people[8])
    assert exc.value.reason == "helper_self"


def test_at_most_a_year_revocable_at_once_and_ended_by_the_job(enrol):
    holder = enrol(given_name="Marcel", family_name="Petit", language="en")
    helper = enrol(given_name="Nadia", family_name="Benali", language="en")
    record = _name(holder, helper, until=clock.today() + timedelta(days=900))
    assert record.details["until"] == (clock.today() + timedelta(days=365)).isoformat()
    mandate_id = record.details["mandate"]
    helpers.revoke_helper(Actor(holder.person_id, "sms"), holder.person_id, mandate_id)
    with pytest.raises(NotAuthorized):
        spaces.view(Actor(helper.person_id, "web"), holder.person_id)
    assert "Marcel Petit ended your role of trusted helper" in _messages_to(helper.person_id)[-1]
    # Named again, for 3 months: the job ends it the day after and tells both.
    until = clock.today() + timedelta(days=90)
    _name(holder, helper, until=until)
    assert end_expired(until) == 0
    assert end_expired(until + timedelta(days=1)) == 1
    assert "can no longer act for Marcel Petit" in _messages_to(helper.person_id)[-1]
    assert "Nadia Benali can no longer act for you" in _messages_to(holder.person_id)[-1]


def test_a_guardian_closes_for_an_adult_who_is_told(app, enrol, tmp_path):
    guardian = enrol(given_name="Sophie", family_name="Durand", birth_date=date(1972, 1, 1), language="en")
    father = enrol(given_name="André", family_name="Durand", birth_date=date(1938, 1, 1), days_ago=60, language="en")
    path = tmp_path / "m.csv"
    path.write_text("representative_nir,represented_nir,kind,valid_from,valid_until\n"
                    f"{guardian.nir},{father.nir},tutelle,{clock.today().isoformat()},\n", encoding="utf-8")
    assert app.test_cli_runner().invoke(args=["mandates", "import", str(path)]).exit_code == 0
    record = spaces.close(Actor(guardian.person_id, "web"), father.person_id, False)
    assert any("done for André Durand" in m for m in _messages_to(guardian.person_id))
    told = _messages_to(father.person_id)
    assert any("Sophie Durand acted for you" in m and record.reference[:3] in m for m in told)
    # A trusted helper is also named for him by his guardian, not by a helper.
    helper = enrol()
    helpers.name_helper(Actor(guardian.person_id, "web"), father.person_id, helper.nir, helper.birth_date)
    assert [r.person_id for r in represented_by(helper.person_id)] == [father.person_id]
