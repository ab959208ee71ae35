"""`flask --app app enrol BATCH.csv --codes-out CODES.csv` (SPEC §4): good rows in, bad rows named by line."""
import csv
from datetime import date, datetime, timedelta

import pytest
from stdnum.fr.nir import calc_check_digits

from app import clock
from app.domain.identifiers import CODE_ALPHABET
from app.models import AuditEntry, HealthSpace, OutboxMessage, Person, ProvisionalCode, db
from app.services import identity

NOW = datetime(2026, 11, 24, 9, 0)
TODAY = date(2026, 11, 24)
SENT = (TODAY - timedelta(days=3)).isoformat()
HEADER = "nir,vitale_serial,family_name,given_name,birth_date,phone,email,language,letter_sent_on"
JEANNE = f"240037511200567,80123456789,Martin,Jeanne,1940-03-12,06 12 34 56 78,,fr,{SENT}"
SOPHIE = f"274112A00401768,81122334455,Durand,Sophie,1974-11-03,+33611223344,sophie@example.org,en,{SENT}"
PAUL = f"158016912345639,80555666777,Leroy,Paul,1958-01-30,,,fr,{SENT}"


@pytest.fixture(autouse=True)
def frozen():
    clock.freeze(NOW)


def run(app, *args):
    return app.test_cli_runner().invoke(args=[str(a) for a in args])


def enrol_file(app, tmp_path, *rows, header=HEADER, codes="codes.csv"):
    batch, codes = tmp_path / "batch.csv", tmp_path / codes
    batch.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    result = run(app, "enrol", batch, "--codes-out", codes)
    written = list(csv.reader(codes.open(encoding="utf-8"))) if codes.exists() else []
    return result, written


def people(app) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count(Person.id)))


def test_good_rows_are_stored_and_their_codes_written(app, tmp_path):
    result, written = enrol_file(app, tmp_path, JEANNE, SOPHIE, PAUL)
    assert result.exit_code == 0, result.output
    assert "3 imported, 0 rejected" in result.output
    assert written[0] == ["nir", "provisional_code"]
    assert [row[0] for row in written[1:]] == ["240037511200567", "274112A00401768", "158016912345639"]
    codes = [row[1] for row in written[1:]]
    assert all(len(c) == 12 and set(c) <= set(CODE_ALPHABET) for c in codes) and len(set(codes)) == 3
    with app.app_context():
        jeanne = identity.find_person_by_nir("240037511200567")
        sophie = identity.find_person_by_nir("274112A00401768")
        paul = identity.find_person_by_nir("158016912345639")
        assert (jeanne.phone, jeanne.email, jeanne.language) == ("+33612345678", None, "fr")  # national -> E.164
        assert (sophie.phone, sophie.email, sophie.language) == ("+33611223344", "sophie@example.org", "en")
        assert (paul.phone, paul.email) == (None, None)                                   # empty cells
        assert (jeanne.family_name, jeanne.given_name, jeanne.birth_date) == ("Martin", "Jeanne", date(1940, 3, 12))
        space = db.session.get(HealthSpace, jeanne.id)
        assert (space.state, space.letter_sent_on, space.window_ends_on) == \
            ("notified", TODAY - timedelta(days=3), TODAY - timedelta(days=3) + timedelta(days=42))
        assert (space.samu_access, space.break_glass_access) == (True, True)
        # the codes written out are the ones that identify
        assert identity.identify("274112A00401768", "81122334455", date(1974, 11, 3), codes[1], client="t",
                                 channel="web") == sophie.id
        assert identity.identify("240037511200567", "80123456789", date(1940, 3, 12), codes[0], client="t",
                                 channel="voice") == jeanne.id


def test_nothing_in_clear_in_the_database(app, tmp_path):
    _, written = enrol_file(app, tmp_path, JEANNE)
    code = written[1][1]
    with app.app_context():
        person = identity.find_person_by_nir("240037511200567")
        assert "240037511200567" not in person.nir_lookup and "80123456789" not in person.vitale_hash
        stored = db.session.scalars(db.select(ProvisionalCode)).one()
        assert code not in stored.code_hash and stored.code_hash.startswith("hmac-sha256$")  # keyed (issue 16)
        assert person.vitale_hash.startswith("hmac-sha256$") and code not in stored.keypad_hash
        assert stored.sealed_code is None  # written to CODES.csv: the sealed copy is gone
        for e in db.session.scalars(db.select(AuditEntry)):
            assert "240037511200567" not in e.details and code not in e.details
        assert db.session.scalars(db.select(OutboxMessage)).all() == []  # the letter is the operator's mailing


@pytest.mark.parametrize("bad_row,field", [
    (f"240037511200599,80123456789,Martin,Jeanne,1940-03-12,,,fr,{SENT}", "nir"),               # wrong key
    (f"2400375112005,80123456789,Martin,Jeanne,1940-03-12,,,fr,{SENT}", "nir"),                 # no key
    (f"80123456789,240037511200567,Martin,Jeanne,1940-03-12,,,fr,{SENT}", "nir"),               # swapped
    (f"240037511200567,80123456789,Martin,Jeanne,1940-02-30,,,fr,{SENT}", "birth_date"),        # no such day
    (f"240037511200567,80123456789,Martin,Jeanne,12/03/1940,,,fr,{SENT}", "birth_date"),        # not ISO
    (f"240037511200567,80123456789,Martin,Jeanne,2030-03-12,,,fr,{SENT}", "birth_date"),        # future
    ("240037511200567,80123456789,Martin,Jeanne,1940-03-12,,,fr,24/11/2026", "letter_sent_on"),
    (f"240037511200567,80123456789,Martin,Jeanne,1940-03-12,12,,fr,{SENT}", "phone"),
    (f"240037511200567,80123456789,Martin,Jeanne,1940-03-12,06 12 34,,fr,{SENT}", "phone"),
    (f"240037511200567,80123456789,Martin,Jeanne,1940-03-12,,jeanne-at-home,fr,{SENT}", "email"),
    (f"240037511200567,80123456789,Martin,Jeanne,1940-03-12,,,de,{SENT}", "language"),
    (f"240037511200567,8012345,Martin,Jeanne,1940-03-12,,,fr,{SENT}", "vitale_serial"),
    (f"240037511200567,80123456789,,Jeanne,1940-03-12,,,fr,{SENT}", "family_name"),
])
def test_a_bad_row_is_reported_by_line_and_not_stored(app, tmp_path, bad_row, field):
    result, written = enrol_file(app, tmp_path, SOPHIE, bad_row, PAUL)
    assert result.exit_code != 0
    assert f"line 3: {field}:" in result.stderr
    assert "line 2" not in result.stderr and "line 4" not in result.stderr
    assert "2 imported, 1 rejected" in result.output
    assert [row[0] for row in written[1:]] == ["274112A00401768", "158016912345639"]
    assert people(app) == 2
    with app.app_context():
        assert identity.find_person_by_nir("240037511200567") is None


def test_several_errors_of_one_row_are_all_named(app, tmp_path):
    result, _ = enrol_file(app, tmp_path, f"240037511200599,80123456789,Martin,Jeanne,1940-13-12,12,,de,{SENT}")
    for field in ("nir", "birth_date", "phone", "language"):
        assert f"line 2: {field}:" in result.stderr
    assert people(app) == 0


def test_a_nir_twice_in_the_file_keeps_the_first(app, tmp_path):
    twice = f"2 40 03 75 112 005 67,80123456780,Martin,Jeanne,1940-03-12,,,fr,{SENT}"
    result, written = enrol_file(app, tmp_path, JEANNE, PAUL, twice)
    assert result.exit_code != 0
    assert "line 4: nir:" in result.stderr and "twice" in result.stderr
    assert [row[0] for row in written[1:]] == ["240037511200567", "158016912345639"]
    assert people(app) == 2


def test_a_nir_already_enrolled_is_refused_and_keeps_its_code(app, tmp_path):
    first, codes = enrol_file(app, tmp_path, JEANNE)
    assert first.exit_code == 0
    again = f"240037511200567,80999999999,Other,Name,1941-01-01,,,en,{SENT}"
    result, written = enrol_file(app, tmp_path, again, PAUL, codes="codes-2.csv")
    assert result.exit_code != 0
    assert "line 2: nir:" in result.stderr and "already enrolled" in result.stderr
    assert [row[0] for row in written[1:]] == ["158016912345639"]
    assert people(app) == 2
    with app.app_context():
        jeanne = identity.find_person_by_nir("240037511200567")
        assert (jeanne.given_name, jeanne.language) == ("Jeanne", "fr")
        assert identity.identify("240037511200567", "80123456789", date(1940, 3, 12), codes[1][1], client="t",
                                 channel="web") == jeanne.id


def test_line_numbers_count_the_header_and_blank_lines(app, tmp_path):
    result, _ = enrol_file(app, tmp_path, JEANNE, "", f"158016912345639,80555666777,Leroy,Paul,1958-01-30,,,xx,{SENT}")
    assert "line 4: language:" in result.stderr


def test_missing_columns_stop_before_anything_is_stored(app, tmp_path):
    header = "nir,vitale_serial,family_name,given_name,birth_date,phone,language,letter_sent_on"
    row = f"240037511200567,80123456789,Martin,Jeanne,1940-03-12,,fr,{SENT}"
    result, _ = enrol_file(app, tmp_path, row, header=header)
    assert result.exit_code != 0
    assert "email" in result.output
    assert people(app) == 0


def test_a_batch_saved_by_a_spreadsheet_with_a_bom_is_read(app, tmp_path):
    batch, codes = tmp_path / "batch.csv", tmp_path / "codes.csv"
    batch.write_text("\ufeff" + HEADER + "\n" + PAUL + "\n", encoding="utf-8")
    result = run(app, "enrol", batch, "--codes-out", codes)
    assert result.exit_code == 0, result.output
    assert people(app) == 1


def test_many_valid_rows(app, tmp_path):
    bodies = [f"1{year:02d}0175{n:06d}" for year, n in zip(range(40, 60), range(100, 120))]
    rows = [f"{b}{calc_check_digits(b)},{80000000000 + i},Nom{i},Prenom{i},19{40 + i}-01-01,,,fr,{SENT}"
            for i, b in enumerate(bodies)]
    result, written = enrol_file(app, tmp_path, *rows)
    assert result.exit_code == 0, result.output
    assert len(written) == 21 and people(app) == 20


@pytest.mark.parametrize("national,e164", [
    ("06 12 34 56 78", "+33612345678"), ("0612345678", "+33612345678"), ("+33 6 12 34 56 78", "+33612345678"),
    ("0033612345678", "+33612345678"), ("07 55 12 34 56", "+33755123456"), ("+262 692 12 34 56", "+262692123456"),
    ("0692 12 34 56", "+262692123456"),      # Réunion mobile written the French national way
    ("0690 12 34 56", "+590690123456"),      # Guadeloupe
    ("0696 12 34 56", "+596696123456"),      # Martinique
])
def test_french_numbers_national_or_e164(app, tmp_path, national, e164):
    """SPEC §4: "phone national or E.164". The overseas departments share France's national numbering plan:
    0692…, 0690…, 0696… are dialled as they are from anywhere in France."""
    row = f"240037511200567,80123456789,Martin,Jeanne,1940-03-12,{national},,fr,{SENT}"
    result, _ = enrol_file(app, tmp_path, row)
    assert result.exit_code == 0, result.stderr
    with app.app_context():
        assert identity.find_person_by_nir("240037511200567").phone == e164


# --- the optional postal_code column (after letter_sent_on): where the person lives, so their time zone ---

def _zones(app) -> dict[str, tuple]:
    with app.app_context():
        return {p.given_name: (p.postal_code, p.time_zone) for p in db.session.scalars(db.select(Person))}


def test_the_postal_code_gives_the_time_zone_and_old_batches_stay_valid(app, tmp_path):
    header = HEADER + ",postal_code"
    result, written = enrol_file(app, tmp_path, JEANNE + ",97400", SOPHIE + ",97 200", PAUL + ",75011",
                                 "213057505601783,80999888777,Hoarau,Marie,1960-05-01,+262692123456,,fr,"
                                 f"{SENT},", header=header)
    assert result.exit_code == 0, result.output
    assert "4 imported, 0 rejected" in result.output
    assert _zones(app) == {"Jeanne": ("97400", "Indian/Reunion"),        # a Paris mobile, living in La Réunion
                           "Sophie": ("97200", "America/Martinique"),
                           "Paul": ("75011", "Europe/Paris"),
                           "Marie": (None, "Indian/Reunion")}             # no postal code: the mobile's prefix


def test_a_batch_without_the_column_is_read_as_before(app, tmp_path):
    result, _ = enrol_file(app, tmp_path, JEANNE, PAUL)
    assert result.exit_code == 0, result.output
    assert _zones(app) == {"Jeanne": (None, "Europe/Paris"), "Paul": (None, None)}  # None: Paris, by default


@pytest.mark.parametrize("postal_code", ["9740", "974000", "97A00", "٩٧٤٠٠"])
def test_a_bad_postal_code_is_a_row_error(app, tmp_path, postal_code):
    result, written = enrol_file(app, tmp_path, PAUL + "," + postal_code, JEANNE + ",97400",
                                 header=HEADER + ",postal_code")
    assert result.exit_code == 1
    assert "line 2: postal_code: must have 5 digits" in result.output
    assert "1 imported, 1 rejected" in result.output
    assert [row[0] for row in written[1:]] == ["240037511200567"]
    assert _zones(app) == {"Jeanne": ("97400", "Indian/Reunion")}
