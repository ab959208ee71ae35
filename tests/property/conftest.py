"""Property-based tests of bad input: shared strategies, a small world rebuilt for each example, and snapshots.

Hypothesis runs many examples inside one pytest test, and the autouse `_clean` fixture only empties the
database after the whole test. So each example starts with `world(...)`, which puts every table back to the
same small world (built once a session by `fresh_world()`, then restored from a dump of its rows in one
transaction): examples never depend on each other, and a failure replays alone.

Settings keep no example database (nothing is written under .hypothesis/examples) and skip the slow
"explain" phase. Where a property found a bug, the smallest input is kept as an explicit @example of a
narrower property next to it, so the failure shows at once, without shrinking.

"Nothing changed" is checked on every table that holds a person's state. Tables that legitimately record a
failed attempt (throttles, the audit log, sessions, call and SMS bookkeeping, one-time codes' tries) are
listed apart, and every table of the schema must be in one list or the other, so a new table is noticed.
"""
import logging
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st

from app import clock
from app.models import OutboxMessage, db
from app.outbox import text_of
from app.services import Actor, access, helpers, identity, spaces
from app.services.mandates import import_mandate
from tests.conftest import Holder as Someone  # a person of the batch, with what they type

# --- what "nothing changed" means -----------------------------------------------------------------

# A person's state: any change here must come from valid input (and, for an action, with its receipt).
STATE_TABLES = {"person", "health_space", "provisional_code", "access_event", "blocked_professional",
                "access_report", "action_record", "outbox_message", "mandate", "callback", "staff", "desk_case"}
# Bookkeeping that a failed or refused attempt is allowed (often required) to write.
LOG_TABLES = {"throttle", "audit_entry", "audit_chain", "audit_root", "web_session", "call_state", "inbound_message",
              "one_time_code", "staff_session", "desk_transfer"}


def all_tables() -> dict:
    return {t.name: t for t in db.metadata.sorted_tables}


def check_tables_are_classified() -> None:
    names = set(all_tables())
    unknown = names - STATE_TABLES - LOG_TABLES
    assert not unknown, f"classify these new tables in tests/property/conftest.py: {sorted(unknown)}"


def snapshot(app, tables=None) -> dict[str, list[tuple]]:
    """Every row of each state table, in primary-key order."""
    with app.app_context():
        db.session.rollback()
        out = {}
        for name, table in all_tables().items():
            if name not in (tables or STATE_TABLES):
                continue
            rows = db.session.execute(db.select(table).order_by(*table.primary_key.columns)).all()
            out[name] = [tuple(r) for r in rows]
        db.session.rollback()
        return out


def column(table: str, name: str) -> int:
    """The position of a column in the rows of `snapshot`."""
    return [c.key for c in db.metadata.tables[table].columns].index(name)


def changed_tables(before: dict, after: dict) -> set[str]:
    return {name for name in before if before[name] != after[name]}


def describe_change(before: dict, after: dict) -> str:
    lines = []
    for name in sorted(changed_tables(before, after)):
        gone = [r for r in before[name] if r not in after[name]]
        new = [r for r in after[name] if r not in before[name]]
        lines.append(f"{name}: -{gone!r} +{new!r}")
    return "\n".join(lines)


def assert_unchanged(before: dict, after: dict, context: str = "") -> None:
    assert before == after, f"bad input changed the state {context}\n{describe_change(before, after)}"


# --- a small world, rebuilt for every example -----------------------------------------------------

# Valid NIRs (key = 97 - first 13 digits mod 97), the same as tests/conftest.py's first ones.
NIR_H, NIR_R, NIR_T, NIR_C = "240037511200567", "189071305512376", "274112A00401768", "158016912345639"
NIR_UNKNOWN = "213057505601783"  # valid, never enrolled
NIR_K = "152036444500026"
PHONE_H, PHONE_T, PHONE_C = "+33612345678", "+33698765432", "+33611223344"


@dataclass
class World:
    """H, the holder; R, an adult H represents (tutelle); T, H's trusted helper; C, who could become one;
    K, a child of 10 (nobody's mandate yet).

    H's space has two access events, the second one's professional blocked; a sign-in code by SMS may be
    pending for H (`sms_code`).
    """

    state: str
    h: Someone
    r: Someone
    t: Someone
    c: Someone
    k: Someone
    event_ids: list[int]
    block_id: int
    helper_mandate_id: int
    tutelle_id: int
    sms_code: str | None = None


def wipe(app) -> None:
    clock.freeze(None)
    with app.app_context():
        db.session.rollback()
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(table.delete())
        db.session.commit()


def _enrol(nir, serial, birth, phone, days_ago, given, language="fr") -> Someone:
    code = identity.enrol(identity.Enrolment(
        nir=nir, vitale_serial=serial, family_name="Martin", given_name=given, birth_date=birth, phone=phone,
        email=None, language=language, letter_sent_on=clock.today() - timedelta(days=days_ago)))
    person = identity.find_person_by_nir(nir)
    return Someone(person.id, nir, serial, birth, code, phone, language)


def fresh_world(app, state: str = "active", sms_code: bool = False) -> World:
    """Empty the database and build the world; `state` is H's space: notified, active or closed."""
    wipe(app)
    with app.app_context():
        days = 10 if state == "notified" else 20  # a letter 20 days ago: still valid, window still open
        h = _enrol(NIR_H, "80123456789", date(1950, 3, 25), PHONE_H, days, "Jeanne")
        r = _enrol(NIR_R, "80123456780", date(1940, 7, 1), None, 60, "Roger")
        t = _enrol(NIR_T, "80123456781", date(1974, 11, 3), PHONE_T, 60, "Sophie")
        c = _enrol(NIR_C, "80123456782", date(1958, 1, 30), PHONE_C, 60, "Paul")
        ten = clock.today().replace(year=clock.today().year - 10, day=1)
        k = _enrol(NIR_K, "80123456783", ten, None, 60, "Lina")
        me = Actor(h.person_id, "web")
        if state in ("active", "closed"):
            # Opened on request is not a service here: let the window end as the job would.
            from app.models import HealthSpace
            space = db.session.get(HealthSpace, h.person_id)
            space.letter_sent_on = clock.today() - timedelta(days=60)
            space.window_ends_on = clock.today() - timedelta(days=18)
            db.session.commit()
        from app.models import HealthSpace
        for someone in (h, r, t, c, k):  # the window's end applied, as the nightly job does: no write later
            spaces._settle(db.session.get(HealthSpace, someone.person_id), clock.today())
        db.session.commit()
        import_mandate(NIR_H, NIR_R, "tutelle", clock.today() - timedelta(days=30), None)
        record = helpers.name_helper(me, h.person_id, NIR_T, t.birth_date, None, "world:helper")
        helper_mandate_id = record.details["mandate"]
        from app.models import Mandate
        tutelle_id = db.session.scalar(db.select(Mandate.id).where(Mandate.kind == "tutelle"))
        events = []
        for i, name in enumerate(("Dr Claire Petit", "Dr Marc Durand")):
            event, _decision, _created = access.record_access(access.AccessAttempt(
                nir=NIR_H, occurred_at=clock.now() - timedelta(days=i + 1), professional_name=name,
                profession="Médecin généraliste", organisation="Cabinet du Parc", mode="normal",
                section="Ordonnances", event_id=f"world-{i}"), "cli")
            events.append(event.id)
        access.block_professional(me, h.person_id, events[1], "world:block")
        block_id = access.blocked_professionals(me, h.person_id)[0].id
        if state == "closed":
            spaces.close(me, h.person_id, delete_data=False, idempotency_key="world:close")
        code = None
        if sms_code:
            identity.send_sign_in_code(NIR_H, h.vitale_serial, h.birth_date, client="world", channel="web")
            last = db.session.scalars(db.select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(1)).first()
            body = text_of(last)
            code = re.search(r"\b(\d{6})\b", body).group(1)
        check_tables_are_classified()
        return World(state, h, r, t, c, k, events, block_id, helper_mandate_id, tutelle_id, code)



def dump_all(app) -> dict[str, list[tuple]]:
    return snapshot(app, set(all_tables()))


def restore(app, rows: dict[str, list[tuple]]) -> None:
    """Put every table back as `rows` has it, in one transaction (cheap when nothing changed)."""
    if dump_all(app) == rows:
        return
    with app.app_context():
        db.session.rollback()
        tables = db.metadata.sorted_tables
        for table in reversed(tables):
            db.session.execute(table.delete())
        for table in tables:
            if rows.get(table.name):
                keys = [c.key for c in table.columns]
                db.session.execute(table.insert(), [dict(zip(keys, row)) for row in rows[table.name]])
        db.session.commit()


_WORLDS: dict[tuple, tuple[World, dict]] = {}


@pytest.fixture
def world(app):
    """world(state="active", sms_code=False) -> World: the database set to that world, built once a session.

    Call it at the start of each hypothesis example: examples then never see each other's writes.
    """
    def make(state: str = "active", sms_code: bool = False) -> World:
        key = (state, sms_code, clock.today())
        if key not in _WORLDS:
            built = fresh_world(app, state, sms_code)
            _WORLDS[key] = (built, dump_all(app))
        built, rows = _WORLDS[key]
        clock.freeze(None)
        restore(app, rows)
        return built
    return make


# --- strategies ---------------------------------------------------------------------------------

# Characters that str.isdigit() accepts but int() refuses (superscripts, circled and Ethiopic digits…):
# a classic source of ValueError in code that checks isdigit() and then calls int().
DIGIT_LOOKALIKES = "".join(c for c in map(chr, range(0x110000)) if c.isdigit() and not c.isdecimal())
# Decimal digits of other scripts: int() reads them, regex \d matches them, humans do not type them here.
OTHER_DIGITS = "".join(c for c in map(chr, range(0x110000))
                       if unicodedata.category(c) == "Nd" and not "0" <= c <= "9")[:200]

SPECIAL = [
    "", " ", "\t", "\x00", "\x00" * 20, "a\x00b", "\r\n", "\n\n\n", "\u202e", "\ufeff", "\u00a0", "\u2028",
    "²", "²/01/1950", "25/03/¹⁹⁴⁸", "፩፪/03/1950", "١٢/٠٣/١٩٥٠", "2503١٩٥٠", "𝟐𝟓/𝟎𝟑/𝟏𝟗𝟒𝟖",
    "0", "-1", "1e9", "NaN", "None", "null", "true", "[]", "{}", "99999999999999999999999999999", "1" * 400,
    "<script>alert(1)</script>", "' OR 1=1 --", "%00", "%s%s%n", "{{7*7}}", "../../etc/passwd",
    "240037511200567", "2400375112005", "24003751120056", "240037511200568", "2 40 03 75 112 005 67",
    "80123456789", "8012345678", "274112A00401768", "274112a00401768", "2741122*100401768",
    "25/03/1950", "1950-03-25", "25031950", "31/02/1950", "00/00/0000", "25/03/2950", "25/03/1850",
    "AAAAAAAAAAAA", "ACFH-KMRX-2345", "ACFHKMRX23456", "123456", "12345", "1234567", "on", "off",
]

reasonable_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
long_text = st.text(st.characters(exclude_categories=("Cs",)), min_size=100, max_size=3000)
digitish = st.text(st.sampled_from("0123456789 /.-*#" + DIGIT_LOOKALIKES[:40] + OTHER_DIGITS[:40] + "AB"),
                   max_size=20)
lookalike_date = st.builds(lambda d, m, y, sep: sep.join((d, m, y)),
                           st.text(st.sampled_from("0123" + DIGIT_LOOKALIKES[:10]), min_size=1, max_size=2),
                           st.text(st.sampled_from("01" + DIGIT_LOOKALIKES[:10]), min_size=1, max_size=2),
                           st.text(st.sampled_from("19" + DIGIT_LOOKALIKES[:10]), min_size=4, max_size=4),
                           st.sampled_from(["/", " ", ".", "-"]))
huge_text = st.builds(lambda c, n: c * n, st.sampled_from(["x", "é", "\x00", "9", "€"]),
                      st.integers(min_value=10_000, max_value=300_000))

weird_text = st.one_of(
    reasonable_text, reasonable_text, st.sampled_from(SPECIAL), st.sampled_from(SPECIAL), digitish,
    lookalike_date, long_text,
)
# A few very large values, on their own: they make requests slow, so they stay rare.
weird_or_huge = st.one_of(weird_text, weird_text, weird_text, weird_text, weird_text, weird_text, weird_text,
                          weird_text, weird_text, huge_text)

field_name = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=20)


def extra_fields(known: set[str]):
    return st.dictionaries(field_name.filter(lambda k: k not in known and k != "csrf_token"), weird_text,
                           max_size=3)


def examples(n: int):
    # No "explain" phase: on a failure it replays the example many times over, which is slow here.
    return settings(max_examples=n, deadline=None, database=None, report_multiple_bugs=False,
                    phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink),
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.data_too_large, HealthCheck.large_base_example])


class ErrorLog(logging.Handler):
    """Collects ERROR records (for instance an exception a view caught and logged) during one example."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)

    def __enter__(self):
        logging.getLogger().addHandler(self)
        return self

    def __exit__(self, *exc):
        logging.getLogger().removeHandler(self)

    def text(self) -> str:
        out = []
        for r in self.records:
            out.append(r.getMessage())
            if r.exc_info:
                import traceback
                out.append("".join(traceback.format_exception(*r.exc_info)))
        return "\n".join(out)
