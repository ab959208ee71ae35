"""Times and deadlines on the web in the person's own zone; the day a window ends is a day where they live."""
from datetime import datetime

import pytest

from app import clock
from app.domain.health_space import State
from app.models import ActionRecord, HealthSpace, db
from app.services import Actor, spaces
from tests.conftest import User
from tests.local_time import NOW, access_at, enrol_at


@pytest.fixture(autouse=True)
def frozen():
    clock.freeze(NOW)


@pytest.mark.parametrize("lang,day", [("en", "2 December 2026"), ("fr", "2 décembre 2026")])
def test_la_reunion_reads_the_access_at_midnight_the_next_day(app, lang, day):
    holder = enrol_at(app, "240037511200567", "97400", language=lang)
    access_at(app, holder)
    u = User(app.test_client(), lang)
    u.identify(holder)
    entry = u.get("/history").soup.select(".entry")[0].get_text(" ", strip=True)
    assert "00:00" in entry and day in entry and "20:00" not in entry and "21:00" not in entry


def test_paris_reads_paris_time(app):
    holder = enrol_at(app, "274112A00401768", None)
    access_at(app, holder)
    u = User(app.test_client(), "en")
    u.identify(holder)
    entry = u.get("/history").soup.select(".entry")[0].get_text(" ", strip=True)
    assert "1 December 2026" in entry and "21:00" in entry


def test_the_history_filter_takes_the_days_of_the_readers_zone(app):
    holder = enrol_at(app, "240037511200567", "97400")
    access_at(app, holder)  # 1 December 20:00 UTC: 2 December in La Réunion
    u = User(app.test_client(), "en")
    u.identify(holder)
    from app.services import access
    with app.app_context():
        actor = Actor(holder.person_id, "web")
        assert access.history(actor, holder.person_id, date_from=datetime(2026, 12, 2).date()).total == 1
        assert access.history(actor, holder.person_id, date_to=datetime(2026, 12, 1).date()).total == 0


def test_the_window_ends_at_midnight_where_the_person_lives(app):
    clock.freeze(datetime(2026, 12, 2, 1, 0))  # 2 December 02:00 in Paris, still 1 December 21:00 in Martinique
    # Both letters were sent 43 days before Paris's today: the window's last day was 1 December.
    martinique = enrol_at(app, "189071305512376", "97200", phone="+596696123456", days_ago=43)
    paris = enrol_at(app, "274112A00401768", "75011", phone="+33611223344", days_ago=43, serial="80123456781")
    with app.app_context():
        assert spaces.view(Actor(martinique.person_id, "web"), martinique.person_id).state == State.NOTIFIED
        assert "oppose" in spaces.view(Actor(martinique.person_id, "web"), martinique.person_id).actions
        assert spaces.view(Actor(paris.person_id, "web"), paris.person_id).state == State.ACTIVE
        counts = spaces.run_jobs(clock.today())
        assert counts["created"] == 1
        assert db.session.get(HealthSpace, martinique.person_id).state == State.NOTIFIED
        assert db.session.get(HealthSpace, paris.person_id).state == State.ACTIVE
    u = User(app.test_client(), "en")
    u.identify(martinique)
    page = u.get("/oppose")
    assert "December 1, 2026" in page.text or "1 December 2026" in page.text  # «You can say no until …»
    clock.freeze(datetime(2026, 12, 2, 4, 0))  # midnight in Martinique: the window has ended there too
    with app.app_context():
        assert spaces.view(Actor(martinique.person_id, "web"), martinique.person_id).state == State.ACTIVE
        assert spaces.run_jobs(clock.today())["created"] == 1


def test_reminders_go_by_the_calendar_of_where_the_person_lives(app):
    """Three days before the window's end where they live: 1 December 21:00 in Martinique is 4 days before a
    window that ends on 5 December there, though in Paris it is already 2 December, 3 days before."""
    clock.freeze(datetime(2026, 12, 2, 1, 0))
    # letters 39 days before Paris's today: the window's last day is 5 December
    martinique = enrol_at(app, "189071305512376", "97200", phone="+596696123456", days_ago=39)
    paris = enrol_at(app, "274112A00401768", "75011", phone="+33611223344", days_ago=39, serial="80123456781")

    def reminded(person):
        return sorted(db.session.scalars(db.select(ActionRecord.idempotency_key).where(
            ActionRecord.subject_id == person.person_id, ActionRecord.action == "reminder.sent")))
    with app.app_context():
        assert db.session.get(HealthSpace, martinique.person_id).window_ends_on.isoformat() == "2026-12-05"
        spaces.run_jobs(clock.today())
        assert reminded(paris) == [f"reminder:{paris.person_id}:14", f"reminder:{paris.person_id}:3"]
        assert reminded(martinique) == [f"reminder:{martinique.person_id}:14"]
    clock.freeze(datetime(2026, 12, 2, 4, 0))  # midnight in Martinique: 3 days before there too
    with app.app_context():
        spaces.run_jobs(clock.today())
        assert reminded(martinique) == [f"reminder:{martinique.person_id}:14", f"reminder:{martinique.person_id}:3"]
        assert len(reminded(paris)) == 2  # nothing twice
