"""People of the overseas departments for the local-time tests: enrolled as the batch has them, with a postal code."""
from datetime import date, datetime, timedelta

from app import clock
from app.models import AccessEvent, OutboxMessage, db
from app.services import access, identity
from tests.conftest import Holder

NOW = datetime(2026, 12, 2, 8, 0)        # naive UTC: 09:00 in Paris, 12:00 in La Réunion
AT_20_UTC = datetime(2026, 12, 1, 20, 0)  # 21:00 in Paris, midnight the next day in La Réunion, 16:00 in Martinique


def enrol_at(app, nir: str, postal_code: str | None, phone: str | None = "+33612345678", language: str = "fr",
             days_ago: int = 60, serial: str = "80123456780") -> Holder:
    """One row of the batch, its letter `days_ago` days ago, and a code valid today so that they can identify."""
    with app.app_context():
        identity.enrol(identity.Enrolment(
            nir=nir, vitale_serial=serial, family_name="Hoarau", given_name="Marie", birth_date=date(1950, 3, 25),
            phone=phone, email=None, language=language, letter_sent_on=clock.today() - timedelta(days=days_ago),
            postal_code=postal_code))
        person = identity.find_person_by_nir(nir)
        code = identity._issue_code(person, clock.today())
        db.session.commit()
        return Holder(person.id, nir, serial, date(1950, 3, 25), code, phone, language)


def access_at(app, holder: Holder, when: datetime = AT_20_UTC, name: str = "Dr Payet") -> None:
    with app.app_context():
        access.record_access(access.AccessAttempt(
            nir=holder.nir, occurred_at=when, professional_name=name, profession="Cardiologue",
            organisation="CHU de La Réunion", mode="normal", section="Ordonnances", event_id=f"tz-{holder.nir}"),
            "cli")


def messages_to(app, holder: Holder) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(db.select(OutboxMessage.body).where(OutboxMessage.person_id == holder.person_id)
                                       .order_by(OutboxMessage.id)))


def notice_of(app, holder: Holder) -> str:
    with app.app_context():
        return db.session.scalars(db.select(OutboxMessage.body).where(
            OutboxMessage.person_id == holder.person_id, OutboxMessage.access_event_id.in_(
                db.select(AccessEvent.id).where(AccessEvent.person_id == holder.person_id)))).one()
