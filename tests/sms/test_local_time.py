"""Times texted in the person's own zone: an access at 20:00 UTC is «02/12 00:00» to a person of La Réunion."""
import pytest

from app import clock
from app.models import OutboxMessage, db
from tests.local_time import AT_20_UTC, NOW, access_at, enrol_at, messages_to, notice_of


@pytest.fixture(autouse=True)
def frozen():
    clock.freeze(NOW)


def _history_sms(app, holder):
    with app.app_context():
        return db.session.scalars(db.select(OutboxMessage.body).where(
            OutboxMessage.person_id == holder.person_id, OutboxMessage.access_event_id.is_(None))
            .order_by(OutboxMessage.id.desc())).first()


def test_la_reunion_by_postal_code_reads_midnight_the_next_day(app, texter):
    holder = enrol_at(app, "240037511200567", "97400")  # a metropolitan mobile: the postal code says where
    access_at(app, holder)
    assert "02/12 00:00" in notice_of(app, holder)
    assert texter().send("historique") == ""
    history = _history_sms(app, holder)
    assert "02/12 00:00 Dr Payet" in history and "20:00" not in history and "21:00" not in history


def test_a_martinique_mobile_without_postal_code_reads_martinique_time(app, texter):
    holder = enrol_at(app, "189071305512376", None, phone="+596696123456")
    access_at(app, holder)
    assert "01/12 16:00" in notice_of(app, holder)
    texter("+596696123456").send("historique")
    assert "01/12 16:00 Dr Payet" in _history_sms(app, holder)


def test_paris_by_default(app, texter):
    holder = enrol_at(app, "274112A00401768", None)
    access_at(app, holder)
    assert "01/12 21:00" in notice_of(app, holder)
    texter().send("historique")
    assert "01/12 21:00 Dr Payet" in _history_sms(app, holder)


def test_summer_time_in_paris_not_in_la_reunion(app):
    paris = enrol_at(app, "274112A00401768", "75011", phone="+33611223344")
    reunion = enrol_at(app, "240037511200567", "97400", phone="+33612345678", serial="80123456781")
    summer = AT_20_UTC.replace(month=7)
    access_at(app, paris, summer)
    access_at(app, reunion, summer)
    assert "01/07 22:00" in notice_of(app, paris)     # UTC+2 in summer
    assert "02/07 00:00" in notice_of(app, reunion)   # UTC+4 all year


def test_the_history_letter_prints_local_times(app):
    from app import messages
    from app.models import AccessEvent, Person
    holder = enrol_at(app, "240037511200567", "97400", phone=None)
    access_at(app, holder)
    with app.app_context():
        person = db.session.get(Person, holder.person_id)
        events = list(db.session.scalars(db.select(AccessEvent).where(AccessEvent.person_id == person.id)))
        letter = messages.history_letter(person, events, "123456789")
    assert "02/12/2026 00:00 - Dr Payet" in letter and "UTC" not in letter
    assert any("00:00" in text for text in messages_to(app, holder))  # the notice went by letter, local too
