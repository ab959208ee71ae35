"""Demo people for trying every action at once; loading again puts them back as they were."""
from datetime import date, timedelta

from . import clock
from .domain.health_space import State, window_end
from .domain.identifiers import format_code
from .domain.mandates import HELPER
from .models import (
    AccessEvent,
    AccessReport,
    ActionRecord,
    BlockedProfessional,
    HealthSpace,
    Mandate,
    OutboxMessage,
    ProvisionalCode,
    db,
)
from .services import Actor, access, commands, identity, staff, transaction
from .services.identity import Enrolment, find_person_by_nir, rules
from .services.mandates import import_mandate

# (nir, vitale serial, family, given, birth, phone, email, language, days since the letter, code, situation)
PEOPLE = [
    ("240037511200567", "80123456789", "Martin", "Jeanne", date(1940, 3, 12), "+33612345678", None, "fr", 10,
     "AC3FH4K5MR6X", "window open: can oppose"),
    ("189071305512376", "80987654321", "Benali", "Karim", date(1989, 7, 21), "+33698765432", "karim@example.org",
     "fr", 60, "K7XM2RC9F4HA", "space active, 30 accesses in the history"),
    ("274112A00401768", "81122334455", "Durand", "Sophie", date(1974, 11, 3), "+33611223344", None, "fr", 90,
     "H5A8CK3MX2RF", "space closed, deletion asked: can reopen; Jeanne's trusted helper"),
    ("158016912345639", "80555666777", "Leroy", "Paul", date(1958, 1, 30), None, "paul@example.org", "en", 41,
     "FM4X7AC2K9RH", "English; window open, last day tomorrow"),
    ("213057505601783", "80444555666", "Benali", "Léa", date(2013, 5, 14), None, None, "fr", 10,
     "MX7K4CA2HR9F", "a minor: Karim, her parent, acts for her; alone she cannot oppose"),
]
# Karim Benali is Léa's parent: identifying as Karim offers to act for her.
MANDATES = [("189071305512376", "213057505601783", "parent")]
# Sophie Durand is Jeanne Martin's trusted helper (named by Jeanne): history and emergency settings only.
HELPERS = [("274112A00401768", "240037511200567")]

PROFESSIONALS = [
    ("Dr Claire Petit", "Médecin généraliste", "Cabinet du Parc, Lyon", "10101234567"),
    ("Marc Roux", "Pharmacien", "Pharmacie de la Gare, Lyon", "10107654321"),
    ("Dr Ana Lopes", "Cardiologue", "Hôpital Édouard Herriot, Lyon", None),
    ("Dr Hugo Bernard", "Médecin régulateur", "SAMU 69 – Centre 15", "10109999999"),
    ("Inès Morel", "Infirmière", "Urgences, CH de Villefranche", None),
]
SECTIONS = ["Ordonnances", "Résultats d'analyses", "Comptes rendus", "Vaccinations", "Synthèse médicale"]


# The desk's demo accounts: a known passphrase and TOTP secret (never in production: `staff code` prints their
# codes, and only theirs).
STAFF = [
    ("agent@relais.example", "agent", "A. Dupont", "demo agent relais 3422", "RELAISAGENTAGENTRELAISAGENTAGENT"),
    ("conseillere@relais.example", "counsellor", "N. Haddad", "demo conseillere france services",
     "RELAISCOUNSELLORRELAISCOUNSELLOR"),
    ("superviseur@relais.example", "supervisor", "M. Lefèvre", "demo superviseur relais guichet",
     "RELAISSUPERVISORRELAISSUPERVISOR"),
]


def load(codes_out: str | None = None) -> list[str]:
    today = clock.today()
    lines = ["Demo identities (NIR / Vitale serial / birth date / provisional code):"]
    for nir, serial, family, given, birth, phone, email, lang, days, code, situation in PEOPLE:
        person = find_person_by_nir(nir)
        sent = today - timedelta(days=days)
        if person is None:
            identity.enrol(Enrolment(nir, serial, family, given, birth, phone, email, lang, sent), code)
            person = find_person_by_nir(nir)
        _reset(person.id, sent, code, lang)
        if given == "Karim":
            _history(nir)
            with transaction():  # the demo's past accesses were notified long ago: nothing to send now
                db.session.execute(db.delete(OutboxMessage).where(OutboxMessage.person_id == person.id))
        if given == "Sophie":
            # the window has ended: the space exists (act_once applies it), and she closed it asking for deletion
            commands.dispatch(commands.Close(delete=True), Actor(person.id, "web"), person.id)
        lines.append(f"  {given} {family}: {nir} / {serial} / {birth.strftime('%d/%m/%Y')} / "
                     f"{format_code(code)} — {situation}")
    for representative, represented, kind in MANDATES:
        import_mandate(representative, represented, kind, today - timedelta(days=365), None)
    for helper_nir, holder_nir in HELPERS:
        helper, holder = find_person_by_nir(helper_nir), find_person_by_nir(holder_nir)
        with transaction():  # as if named a month ago, for the year
            db.session.execute(db.delete(Mandate).where(Mandate.representative_id == helper.id,
                                                        Mandate.represented_id == holder.id,
                                                        Mandate.kind == HELPER))
            db.session.add(Mandate(representative_id=helper.id, represented_id=holder.id, kind=HELPER,
                                   valid_from=today - timedelta(days=30), valid_until=today + timedelta(days=335),
                                   created_at=clock.now()))
    lines.append("Demo staff of the desk, /desk (email / passphrase; `flask --app app staff code EMAIL` prints the "
                 "code of the authenticator):")
    for email, role, name, passphrase, secret in STAFF:
        staff.enrol_demo(email, role, name, passphrase, secret)
        lines.append(f"  {name} ({role}): {email} / {passphrase} / TOTP key {secret}")
    if codes_out:
        with open(codes_out, "w", encoding="utf-8") as out:
            out.write("nir,provisional_code\n" + "".join(f"{p[0]},{p[9].replace('-', '')}\n" for p in PEOPLE))
    return lines


def _reset(person_id: int, sent: date, code: str, language: str) -> None:
    with transaction():
        for model in (OutboxMessage, AccessReport, BlockedProfessional, ActionRecord, AccessEvent):
            column = model.subject_id if model is ActionRecord else model.person_id
            db.session.execute(db.delete(model).where(column == person_id))
        db.session.execute(db.delete(ProvisionalCode).where(ProvisionalCode.person_id == person_id))
        space = db.session.get(HealthSpace, person_id)
        space.state, space.letter_sent_on, space.window_ends_on = State.NOTIFIED, sent, window_end(sent, rules())
        space.opposed_at = space.activated_at = space.closed_at = space.purged_at = None
        space.archive_until = space.deletion_due_on = None
        space.samu_access = space.break_glass_access = True
        space.masked_in_emergency = False
        space.person.language = language
        identity._issue_code(space.person, today_or(sent), code)


def today_or(sent: date) -> date:
    """Demo codes stay valid 6 weeks from today, whatever the letter's date."""
    return max(sent, clock.today())


def _history(nir: str) -> None:
    now = clock.now()
    for i in range(30):
        name, profession, org, rpps = PROFESSIONALS[i % len(PROFESSIONALS)]
        mode = "samu" if i == 3 else "break_glass" if i == 7 else "normal"
        reason = {"samu": "Appel au 15, malaise", "break_glass": "Patient inconscient aux urgences"}.get(mode)
        attempt = access.AccessAttempt(
            nir=nir, occurred_at=now - timedelta(days=i * 2, hours=i % 5, minutes=7 * i),
            professional_name=name, profession=profession, organisation=org, mode=mode,
            section=SECTIONS[i % len(SECTIONS)], reason=reason, professional_id=rpps, event_id=f"demo-{nir[-4:]}-{i}")
        access.record_access(attempt, "cli")
