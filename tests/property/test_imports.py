"""The operator's imports with bad rows mixed among good ones: bad rows reported by line, nothing of them
stored, good rows stored, never a traceback.

`flask --app app enrol`, `flask --app app mandates import` and `flask --app app access-events import`.
"""
import csv
import io
import json
import re
from datetime import date, datetime, timedelta

from hypothesis import example, given
from hypothesis import strategies as st
from stdnum.fr import nir as stdnum_nir

from app import clock
from app.domain.mandates import KINDS
from app.models import Mandate, db
from app.services import identity

from .conftest import NIR_C, NIR_H, NIR_K, NIR_R, NIR_T, NIR_UNKNOWN, examples, snapshot, weird_text

ENROL_HEADER = ["nir", "vitale_serial", "family_name", "given_name", "birth_date", "phone", "email", "language",
                "letter_sent_on"]
WORLD_NIRS = {NIR_H, NIR_R, NIR_T, NIR_C, NIR_K}
TODAY = clock.today()


def run(app, *args):
    return app.test_cli_runner().invoke(args=[str(a) for a in args])


def no_traceback(result) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        "".join(__import__("traceback").format_exception(result.exception))
    assert "Traceback" not in result.output


def lines_of_csv_rows(path) -> list[int]:
    """The line number each data row ends on, as a csv reader of the file counts them."""
    with open(path, encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        next(reader)
        return [reader.line_num for row in reader if row]


def write_csv(path, header, rows) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer)  # "\r\n": a cell with a lone "\r" or "\n" is quoted
    writer.writerow(header)
    for row in rows:
        writer.writerow(row)
    path.write_text(buffer.getvalue(), encoding="utf-8")


def compact(text: str) -> str:
    return re.sub(r"[\s.\-_/]+", "", text).upper()


def is_nir(text: str) -> bool:
    return stdnum_nir.is_valid(compact(text))


@st.composite
def valid_nirs(draw) -> str:
    dept = draw(st.one_of(st.integers(1, 95).filter(lambda d: d != 20).map(lambda d: f"{d:02d}"),
                          st.sampled_from(["2A", "2B"])))
    body = (f"{draw(st.sampled_from('12'))}{draw(st.integers(0, 99)):02d}{draw(st.integers(1, 12)):02d}{dept}"
            f"{draw(st.integers(1, 999)):03d}{draw(st.integers(1, 999)):03d}")
    number = body + stdnum_nir.calc_check_digits(body)
    assert stdnum_nir.is_valid(number)
    return number


def written(nir: str, style: int) -> str:
    """A NIR as an operator's file may carry it."""
    return [nir, " ".join([nir[0], nir[1:3], nir[3:5], nir[5:7], nir[7:10], nir[10:13], nir[13:]]), nir.lower(),
            f" {nir} "][style % 4]


safe_name = st.from_regex(r"[A-Za-zÀÂÉÈÊËÎÏÔÙÛÜÇàâéèêëîïôùûüç][A-Za-zàâéèêëîïôùûüç' -]{0,30}", fullmatch=True)
PHONES = {"": None, "06 12 34 56 78": "+33612345678", "+33698765432": "+33698765432",
          "0692 12 34 56": "+262692123456", "01 23 45 67 89": "+33123456789", "0033611223344": "+33611223344"}


@st.composite
def good_enrol_rows(draw, nir: str) -> tuple[list[str], dict]:
    serial = draw(st.text(st.sampled_from("0123456789"), min_size=8, max_size=13))
    family, given = draw(safe_name), draw(safe_name)
    birth = draw(st.dates(date(1900, 1, 1), TODAY))
    phone = draw(st.sampled_from(sorted(PHONES)))
    email = draw(st.one_of(st.just(""), st.from_regex(r"[a-z0-9.]{1,12}@[a-z]{1,10}\.(fr|org)", fullmatch=True)))
    language = draw(st.sampled_from(["fr", "en", "FR", "En", ""]))
    sent = draw(st.dates(TODAY - timedelta(days=90), TODAY))
    row = [written(nir, draw(st.integers(0, 3))), serial, family, given, birth.isoformat(), phone, email, language,
           sent.isoformat()]
    expected = {"nir": nir, "family_name": " ".join(family.split()), "given_name": " ".join(given.split()),
                "birth_date": birth, "phone": PHONES[phone], "email": email or None,
                "language": language.lower() or "fr"}
    return row, expected


not_iso_date = weird_text.filter(lambda t: not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", t.strip()))
BAD_CELLS = {
    0: st.one_of(st.sampled_from(["", "123", "2400375112005", "240037511200568", "240037511200567X", "ABCDEFGHIJKLMNO",
                                  "80123456789", "2400375112005 67 8"]), weird_text.filter(lambda t: not is_nir(t))),
    1: st.sampled_from(["", "abc", "1234567", "12345678901234", "12a45678", "240037511200567", "1234 567"]),
    2: st.sampled_from(["", "   ", "<b>Martin</b>", "a\x01b", "x" * 101, "Mar>tin", "\x00"]),
    3: st.sampled_from(["", "   ", "<i>", "Jean\x02ne", "y" * 150]),
    4: st.one_of(st.sampled_from(["", "25/03/1948", "1948-3-25", "2026-13-01", "2023-02-30", "2999-01-01",
                                  "１９５０-０３-２５", "²⁰²⁰-01-01"]), not_iso_date),
    5: st.sampled_from(["abc", "123", "+1 555", "06 12", "+33 6 12 34 56 78 90", "07 00 00 00 01"]),
    6: st.sampled_from(["no-at", "a@b", "a b@c.fr", "x" * 250 + "@example.org", "<a@b.fr>", "@@"]),
    7: st.sampled_from(["de", "xx", "français", "f r", "e n"]),
    8: st.one_of(st.sampled_from(["", "24/11/2026", "2026-02-30", "soon"]), not_iso_date),
}


@st.composite
def enrol_batch(draw):
    """Rows in file order, each with what it should give: ('good', expected) or ('bad', nir or None)."""
    count = draw(st.integers(1, 10))
    nirs = draw(st.lists(valid_nirs().filter(lambda n: n not in WORLD_NIRS), min_size=count, max_size=count,
                         unique=True))
    rows, good_nirs = [], set()
    for nir in nirs:
        kind = draw(st.sampled_from(["good", "good", "corrupted", "arbitrary", "enrolled", "twice"]))
        row, expected = draw(good_enrol_rows(nir))
        if kind == "good" or (kind == "twice" and not good_nirs):
            rows.append((row, ("good", expected)))
            good_nirs.add(nir)
        elif kind == "corrupted":
            for column in draw(st.sets(st.integers(0, 8), min_size=1, max_size=3)):
                row[column] = draw(BAD_CELLS[column])
            rows.append((row, ("bad", nir if is_nir(row[0]) else None)))
        elif kind == "arbitrary":
            cells = [draw(BAD_CELLS[0])] + draw(st.lists(weird_text, max_size=11))
            rows.append((cells, ("bad", None)))
        elif kind == "enrolled":  # already in the database: reported, and the person left as they were
            row[0] = draw(st.sampled_from(sorted(WORLD_NIRS)))
            rows.append((row, ("bad", None)))
        else:  # the same NIR as a good row above: the first one counts
            row[0] = written(draw(st.sampled_from(sorted(good_nirs))), draw(st.integers(0, 3)))
            rows.append((row, ("bad", None)))
    return rows


@examples(50)
@given(batch=enrol_batch())
def test_enrol_stores_good_rows_and_reports_bad_ones_by_line(app, world, tmp_path, batch):
    world("active")
    path, codes = tmp_path / "batch.csv", tmp_path / "codes.csv"
    codes.unlink(missing_ok=True)
    write_csv(path, ENROL_HEADER, [row for row, _ in batch])
    lines = lines_of_csv_rows(path)
    assert len(lines) == len(batch)
    before = snapshot(app)
    result = run(app, "enrol", path, "--codes-out", codes)
    no_traceback(result)

    good = [expected for _row, (kind, expected) in batch if kind == "good"]
    bad_lines = [line for line, (_row, (kind, _)) in zip(lines, batch) if kind == "bad"]
    good_lines = [line for line, (_row, (kind, _)) in zip(lines, batch) if kind == "good"]
    assert f"{len(good)} imported, {len(bad_lines)} rejected" in result.stdout, result.output
    assert result.exit_code == (1 if bad_lines else 0)
    for line in bad_lines:
        assert re.search(rf"^line {line}: \w+: .+", result.stderr, re.M), (line, result.stderr)
    for line in good_lines:
        assert f"line {line}:" not in result.stderr
    out = list(csv.reader(codes.open(encoding="utf-8")))
    assert out[0] == ["nir", "provisional_code"] and [r[0] for r in out[1:]] == [g["nir"] for g in good]
    assert all(re.fullmatch(r"[A-Z0-9]{12}", r[1]) for r in out[1:])
    after = snapshot(app)
    assert len(after["person"]) == len(before["person"]) + len(good)
    assert len(after["health_space"]) == len(before["health_space"]) + len(good)
    assert len(after["provisional_code"]) == len(before["provisional_code"]) + len(good)
    for name in ("mandate", "access_event", "action_record", "blocked_professional", "access_report"):
        assert after[name] == before[name]
    assert [r for r in before["person"] if r not in after["person"]] == [], "an enrolled person was changed"
    with app.app_context():
        for g in good:
            person = identity.find_person_by_nir(g["nir"])
            assert person is not None
            assert (person.family_name, person.given_name, person.birth_date, person.phone, person.email,
                    person.language) == (g["family_name"], g["given_name"], g["birth_date"], g["phone"], g["email"],
                                         g["language"])
        for _row, (kind, nir) in batch:
            if kind == "bad" and nir and nir not in {g["nir"] for g in good} and nir not in WORLD_NIRS:
                assert identity.find_person_by_nir(nir) is None, "a bad row was stored"


# --- mandates ---------------------------------------------------------------------------------------------

MANDATE_HEADER = ["representative_nir", "represented_nir", "kind", "valid_from", "valid_until"]
ADULT_KINDS = ["tutelle", "habilitation_familiale", "Tutelle", " TUTELLE ", "Habilitation_Familiale"]


@st.composite
def good_mandate_rows(draw, people):
    rep, sub = draw(st.sampled_from([("h", "k"), ("c", "k"), ("t", "r"), ("c", "r"), ("t", "c"), ("h", "c"),
                                     ("r", "t"), ("k", "h")]))
    kind = draw(st.sampled_from(["parent", "Parent", " parent"])) if sub == "k" else draw(st.sampled_from(ADULT_KINDS))
    start = draw(st.dates(TODAY - timedelta(days=400), TODAY + timedelta(days=200)))
    until = draw(st.one_of(st.none(), st.integers(0, 800).map(lambda d: start + timedelta(days=d))))
    row = [written(people[rep].nir, draw(st.integers(0, 3))), written(people[sub].nir, draw(st.integers(0, 3))), kind,
           start.isoformat(), until.isoformat() if until else ""]
    key = (people[rep].person_id, people[sub].person_id, kind.strip().lower(), start, until)
    return row, key


MANDATE_BAD = {
    0: st.one_of(st.sampled_from(["", "123", "2400375112005", "240037511200568", NIR_UNKNOWN]),
                 weird_text.filter(lambda t: not is_nir(t))),
    1: st.one_of(st.sampled_from(["", "abc", "240037511200568", NIR_UNKNOWN, "self"]),
                 weird_text.filter(lambda t: not is_nir(t))),
    2: st.one_of(st.sampled_from(["", "cousin", "aidant", "parents", "tutelle?", "parent-ish"]),
                 weird_text.filter(lambda t: t.strip().lower() not in KINDS)),
    3: st.one_of(st.sampled_from(["", "2026-13-01", "01/01/2026", "2026-02-30", "today"]), not_iso_date),
    4: st.one_of(st.sampled_from(["2026-13-01", "31/12/2030", "before"]), not_iso_date.filter(lambda t: t.strip()),
                 st.just("1999-01-01")),
}


@st.composite
def mandate_batch(draw, people):
    rows = []
    for _ in range(draw(st.integers(1, 10))):
        row, key = draw(good_mandate_rows(people))
        kind = draw(st.sampled_from(["good", "good", "corrupted", "arbitrary", "parent of an adult"]))
        if kind == "good":
            rows.append((row, ("good", key)))
        elif kind == "corrupted":
            column = draw(st.integers(0, 4))
            row[column] = draw(MANDATE_BAD[column])
            if row[column] == "self":
                row[column] = row[0]
            rows.append((row, ("bad", key)))
        elif kind == "arbitrary":
            rows.append(([draw(MANDATE_BAD[0])] + draw(st.lists(weird_text, max_size=6)), ("bad", None)))
        else:
            row[1], row[2] = written(people["h"].nir, 0), "parent"
            rows.append((row, ("bad", None)))
    return rows


def stored_mandates(app) -> set[tuple]:
    with app.app_context():
        return {(m.representative_id, m.represented_id, m.kind, m.valid_from, m.valid_until)
                for m in db.session.scalars(db.select(Mandate))}


@examples(50)
@given(data=st.data())
def test_mandates_import_stores_good_rows_and_reports_bad_ones_by_line(app, world, tmp_path, data):
    w = world("active")
    people = {"h": w.h, "r": w.r, "t": w.t, "c": w.c, "k": w.k}
    batch = data.draw(mandate_batch(people))
    path = tmp_path / "mandates.csv"
    write_csv(path, MANDATE_HEADER, [row for row, _ in batch])
    lines = lines_of_csv_rows(path)
    existing = stored_mandates(app)
    before = snapshot(app)
    result = run(app, "mandates", "import", path)
    no_traceback(result)

    new_keys: list[tuple] = []
    for _row, (kind, key) in batch:
        if kind == "good" and key not in existing and key[:4] not in {k[:4] for k in new_keys} \
                and key[:4] not in {k[:4] for k in existing}:
            new_keys.append(key)
    bad_lines = [line for line, (_row, (kind, _)) in zip(lines, batch) if kind == "bad"]
    assert f"{len(new_keys)} imported, {len(bad_lines)} rejected" in result.stdout, result.output
    assert result.exit_code == (1 if bad_lines else 0)
    for line in bad_lines:
        assert re.search(rf"^line {line}: \w+: .+", result.stderr, re.M), (line, result.stderr)
    for line, (_row, (kind, _)) in zip(lines, batch):
        if kind == "good":
            assert f"line {line}:" not in result.stderr
    assert stored_mandates(app) == existing | set(new_keys)
    after = snapshot(app)
    for name in ("person", "health_space", "access_event", "action_record", "outbox_message"):
        assert after[name] == before[name]


# --- access events -----------------------------------------------------------------------------------------

safe_text = st.from_regex(r"[A-Za-zÀ-ÖØ-öø-ÿ0-9][A-Za-zÀ-ÖØ-öø-ÿ0-9 ,.'()-]{0,40}", fullmatch=True)


@st.composite
def good_events(draw, nirs: list[str], event_id: str | None):
    # Between Mon espace santé's start (2021) and now: anything else is refused (tests below).
    moment = draw(st.datetimes(datetime(2021, 1, 2), datetime.now() - timedelta(days=1)))
    offset = draw(st.sampled_from(["Z", "+00:00", "+01:00", "+02:00", "-05:00"]))
    mode = draw(st.sampled_from(["normal", "normal", "samu", "break_glass"]))
    event = {"nir": written(draw(st.sampled_from(nirs)), draw(st.integers(0, 3))),
             "occurred_at": moment.replace(microsecond=0).isoformat() + offset,
             "professional_name": draw(safe_text), "profession": draw(safe_text), "organisation": draw(safe_text),
             "mode": mode, "section": draw(safe_text),
             "reason": draw(safe_text) if mode != "normal" else draw(st.one_of(st.none(), safe_text))}
    if draw(st.booleans()):
        event["professional_id"] = draw(st.from_regex(r"[0-9A-Za-z]{1,20}", fullmatch=True))
    if event_id is not None:
        event["event_id"] = event_id
    return event


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), weird_text),
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(weird_text, children, max_size=4)),
    max_leaves=12)
BAD_FIELD = {
    "nir": st.one_of(st.sampled_from(["", "123", "240037511200568", NIR_UNKNOWN, None, 240037511200567, []]),
                     weird_text.filter(lambda t: not is_nir(t))),
    "occurred_at": st.one_of(st.sampled_from(["2026-11-20T10:15:00", "yesterday", "", None, 1732094100,
                                              "2026-13-01T00:00Z", "2026-11-20", "20/11/2026 10:15",
                                              # past what a date holds once in UTC, before 2021, far ahead
                                              "9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+14:00",
                                              "2020-12-31T23:00:00Z", "2099-01-01T00:00:00Z"]),
                             weird_text.filter(lambda t: not re.match(r"\d{4}-\d{2}-\d{2}.*([+-]\d{2}|Z)$", t))),
    "professional_name": st.sampled_from(["", "  ", None, 42, ["Dr"], {"a": 1}, "x" * 201, "<b>Dr</b>", "Dr\x00"]),
    "profession": st.sampled_from(["", None, 3.5, "y" * 101, "a\x01b"]),
    "organisation": st.sampled_from(["", None, True, "z" * 201, "<org>"]),
    "section": st.sampled_from(["", None, [], "s" * 101, "\x07"]),
    "mode": st.one_of(st.sampled_from(["", "NORMAL", "teleport", None, 1, ["normal"], "break glass"]), weird_text),
    "professional_id": st.sampled_from([42, "", "a b", "x" * 21, "é", [], {"id": 1}, "12-34"]),
    "event_id": st.sampled_from(["", "e" * 101, [], {}, 1.5, 10 ** 101]),
}


@st.composite
def event_lines(draw, nirs):
    """(line text, 'good' | 'bad' | 'blank') in file order."""
    lines, serial = [], 0
    for _ in range(draw(st.integers(1, 10))):
        serial += 1
        event = draw(good_events(nirs, draw(st.one_of(st.none(), st.just(f"ev-{serial}")))))
        kind = draw(st.sampled_from(["good", "good", "corrupted", "missing", "json", "text", "blank"]))
        if kind == "good":
            lines.append((json.dumps(event, ensure_ascii=draw(st.booleans())), "good"))
        elif kind == "corrupted":
            name = draw(st.sampled_from(sorted(BAD_FIELD)))
            event[name] = draw(BAD_FIELD[name])
            if name == "mode" and event["mode"] in ("normal", "samu", "break_glass"):
                event["mode"] = "teleport"
            lines.append((json.dumps(event), "bad"))
        elif kind == "missing":
            del event[draw(st.sampled_from(["nir", "occurred_at", "professional_name", "profession", "organisation",
                                            "mode", "section"]))]
            if event.get("mode") in ("samu", "break_glass"):
                event["mode"] = "normal"
            lines.append((json.dumps(event), "bad"))
        elif kind == "json":
            value = draw(json_values)
            lines.append((json.dumps(value), "bad"))
        elif kind == "text":
            text = draw(weird_text.filter(lambda t: t.strip() and "\n" not in t and "\r" not in t))
            lines.append((text, "bad"))
        else:
            lines.append((draw(st.sampled_from(["", " ", "\t"])), "blank"))
    return lines


@examples(50)
@given(data=st.data())
def test_access_events_import_stores_good_lines_and_reports_bad_ones_by_line(app, world, tmp_path, data):
    w = world("active")
    lines = data.draw(event_lines([w.h.nir, w.r.nir, w.t.nir, w.c.nir]))
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(text for text, _ in lines) + "\n", encoding="utf-8")
    before = snapshot(app)
    result = run(app, "access-events", "import", path)
    no_traceback(result)

    answers = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    good_numbers = [n for n, (_, kind) in enumerate(lines, 1) if kind == "good"]
    bad_numbers = [n for n, (_, kind) in enumerate(lines, 1) if kind == "bad"]
    unexpected = [lines[a["line"] - 1] for a in answers if a["line"] not in good_numbers]
    assert not unexpected, f"bad lines accepted: {unexpected!r}"
    assert [a["line"] for a in answers] == good_numbers, result.output
    assert all(a["decision"] in ("granted", "refused") for a in answers)
    for n in bad_numbers:
        assert re.search(rf"^line {n}: \w+: .+", result.stderr, re.M), (n, result.stderr)
    assert result.exit_code == (1 if bad_numbers else 0)
    after = snapshot(app)
    assert len(after["access_event"]) == len(before["access_event"]) + len(good_numbers)
    for name in ("person", "health_space", "mandate", "action_record", "blocked_professional", "access_report"):
        assert after[name] == before[name]


# --- bytes that are not UTF-8, among good rows --------------------------------------------------------------

not_utf8 = st.binary(min_size=1, max_size=30).filter(lambda b: b"\n" not in b and b"\r" not in b).filter(
    lambda b: _not_utf8(b))


def _not_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


@examples(15)
@given(raw=not_utf8, command=st.sampled_from(["enrol", "mandates", "access-events"]))
@example(raw="Hélène".encode("cp1252"), command="enrol").via("an Excel export in Windows-1252")
def test_a_line_that_is_not_utf8_is_a_bad_line_not_a_traceback(app, world, tmp_path, raw, command):
    """A batch exported from Excel in Windows-1252 ('Hélène' as b'H\\xe9l\\xe8ne') between two good rows:
    the bad row is reported by its line, the good rows are stored, and there is no traceback."""
    w = world("active")
    if command == "enrol":
        header = ",".join(ENROL_HEADER).encode()
        good = [f"{n},80123456789,Martin,Jeanne,1950-03-25,,,fr,{TODAY.isoformat()}".encode()
                for n in ("152036444500125", "152036444500224")]
        bad = b"152036444500323,80123456789," + raw + b",Jeanne,1950-03-25,,,fr," + TODAY.isoformat().encode()
        args = ["enrol", tmp_path / "in.csv", "--codes-out", tmp_path / "codes.csv"]
    elif command == "mandates":
        header = ",".join(MANDATE_HEADER).encode()
        good = [f"{w.t.nir},{w.r.nir},tutelle,{TODAY.isoformat()},".encode(),
                f"{w.c.nir},{w.k.nir},parent,{TODAY.isoformat()},".encode()]
        bad = f"{w.h.nir},{w.c.nir},".encode() + raw + f",{TODAY.isoformat()},".encode()
        args = ["mandates", "import", tmp_path / "in.csv"]
    else:
        header = None
        event = {"nir": w.h.nir, "occurred_at": "2026-11-20T10:15:00+01:00", "professional_name": "Dr Petit",
                 "profession": "Médecin", "organisation": "Cabinet", "mode": "normal", "section": "Ordonnances"}
        good = [json.dumps({**event, "event_id": "a"}).encode(), json.dumps({**event, "event_id": "b"}).encode()]
        bad = json.dumps({**event, "professional_name": "RAW"}).encode().replace(b"RAW", raw)
        args = ["access-events", "import", tmp_path / "in.csv"]
    body = [good[0], bad, good[1]] if header is None else [header, good[0], bad, good[1]]
    (tmp_path / "in.csv").write_bytes(b"\n".join(body) + b"\n")
    bad_line = 2 if header is None else 3
    before = snapshot(app)
    result = run(app, *args)
    no_traceback(result)
    assert re.search(rf"^line {bad_line}: ", result.stderr, re.M), result.output
    after = snapshot(app)
    table = {"enrol": "person", "mandates": "mandate", "access-events": "access_event"}[command]
    assert len(after[table]) == len(before[table]) + 2, "both good rows are stored"


@examples(10)
@given(local=st.text(st.sampled_from("abc.\x00"), min_size=1, max_size=10).filter(lambda t: "\x00" in t))
@example(local="a\x00b").via("reading validation.py: the e-mail pattern lets control characters through")
def test_an_email_with_a_nul_byte_is_reported_or_stored_never_a_traceback(app, world, tmp_path, local):
    """PostgreSQL refuses NUL bytes in text: the row must be reported as bad (or cleaned), not crash the import."""
    world("active")
    path = tmp_path / "batch.csv"
    write_csv(path, ENROL_HEADER, [["152036444500125", "80123456789", "Martin", "Jeanne", "1950-03-25", "",
                                    f"{local}@example.org", "fr", TODAY.isoformat()],
                                   ["152036444500224", "80123456789", "Martin", "Paul", "1950-03-25", "", "", "fr",
                                    TODAY.isoformat()]])
    before = snapshot(app)
    result = run(app, "enrol", path, "--codes-out", tmp_path / "codes.csv")
    no_traceback(result)
    after = snapshot(app)
    assert len(after["person"]) - len(before["person"]) in (1, 2)
    if len(after["person"]) - len(before["person"]) == 1:
        assert re.search(r"^line 2: email: ", result.stderr, re.M)
