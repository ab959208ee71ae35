"""The mailing batch at campaign speed: rows streamed, checked, stored a chunk a transaction, resumable, each
stored person's code handed over once in a CODES.csv whatever moment the import is stopped at.

How the codes are never lost nor dead (docs/secrets.md, README «enrol»):

1. A chunk's people, spaces, codes (keyed hashes) and audit entries are written in one transaction. Each new code
   is also kept sealed (app/sealed.py, a key outside the database) with the NIR and the path of the run's
   CODES.csv, in `provisional_code.sealed_code`.
2. After the commit, the chunk's lines are appended to CODES.csv and the file is flushed and fsync'ed.
3. Then the sealed copies are cleared (a second, small transaction).

A run killed before 1 commits leaves nothing; killed between 1 and 3 it leaves sealed codes. The next run of the
same batch (by its file name) first settles them: it cuts a torn last line off the file each one names, looks for
the code there, and writes to its own CODES.csv only those not found, then clears them all. So every person
stored has their one code in some CODES.csv, and every code in a CODES.csv is a stored person's code.
"""
import hashlib
import io
import itertools
import json
import os
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask import current_app
from sqlalchemy.exc import IntegrityError

from .. import audit, clock, csvsafe, zones
from ..domain import identifiers
from ..domain.health_space import State, window_end
from ..models import HealthSpace, Person, ProvisionalCode, db
from ..sealed import seal, sealer, unseal
from .crypto import keyed_hasher, lookup_hasher, matches
from .identity import Enrolment, rules
from .validation import NOT_UTF8, RowErrors, enrolment_from_row, undecodable

CODES_HEADER = ["nir", "provisional_code"]


class CodesFileError(Exception):
    """CODES.csv cannot be used (another kind of file is there)."""


@dataclass
class Summary:
    imported: int = 0
    already: int = 0      # rows identical to a person already enrolled (an earlier run of this batch, mostly)
    rejected: int = 0
    reasons: Counter = field(default_factory=Counter)   # "field: reason" -> rows
    resumed: int = 0      # codes of an interrupted run handed over by this one
    found: int = 0        # codes of an interrupted run found already written in its CODES.csv
    unreadable: int = 0   # codes of an interrupted run sealed under another SEAL_KEY: still waiting
    elsewhere: dict = field(default_factory=dict)  # other batches' codes still waiting: batch -> count


# --- CODES.csv -------------------------------------------------------------------------------------

def _cut_torn_tail(path: str) -> None:
    """A run killed in the middle of a write may leave the last line without its end: it is cut off (its code
    is still sealed in the database and is written again)."""
    try:
        f = open(path, "r+b")
    except FileNotFoundError:
        return
    with f:
        end = f.seek(0, os.SEEK_END)
        if end == 0:
            return
        f.seek(end - 1)
        if f.read(1) == b"\n":
            return
        pos = end
        while pos > 0:
            start = max(0, pos - 65536)
            f.seek(start)
            block = f.read(pos - start)
            cut = block.rfind(b"\n")
            if cut >= 0:
                f.truncate(start + cut + 1)
                break
            pos = start
        else:
            f.truncate(0)
        f.flush()
        os.fsync(f.fileno())


def _codes_in(path: str, wanted: set[str]) -> set[str]:
    """Which of these codes the file already holds (read line by line)."""
    found: set[str] = set()
    if not wanted:
        return found
    try:
        f = open(path, encoding="utf-8", errors="replace", newline="")
    except FileNotFoundError:
        return found
    with f:
        for line in f:
            code = line.rstrip("\r\n").rpartition(",")[2]
            if code in wanted:
                found.add(code)
    return found


class CodesFile:
    """The run's CODES.csv: created with its header, or continued (appended to) when it is already there."""

    def __init__(self, path: str):
        self.path = os.path.abspath(path)
        self._file = None
        self.continued = False

    def open(self) -> "CodesFile":
        _cut_torn_tail(self.path)
        has_content = os.path.exists(self.path) and os.path.getsize(self.path) > 0
        if has_content:
            with open(self.path, encoding="utf-8", errors="replace", newline="") as f:
                first = f.readline().strip("\r\n\ufeff")
            if first != ",".join(CODES_HEADER):
                raise CodesFileError(f"{self.path} is there and is not a codes file (its first line is not "
                                     f"{','.join(CODES_HEADER)}): give another path")
        self._file = open(self.path, "a", newline="", encoding="utf-8")
        self.continued = has_content
        if not has_content:
            self._append(",".join(CODES_HEADER) + "\r\n")
            directory = os.open(os.path.dirname(self.path), os.O_RDONLY)
            try:  # the file itself survives a crash of the machine, not only its content
                os.fsync(directory)
            finally:
                os.close(directory)
        return self

    def write(self, lines) -> None:
        """Append these (nir, code) lines in one write, then flush and fsync: on disk before their codes are
        cleared from the database."""
        buffer = io.StringIO()
        writer = csvsafe.Writer(buffer)
        for line in lines:
            writer.writerow(line)
        self._append(buffer.getvalue())

    def _append(self, text: str) -> None:
        self._file.write(text)
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


# --- the import ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Stored:
    """What is stored of a person already enrolled, to tell the same row from another one."""

    nir_lookup: str
    vitale_hash: str
    family_name: str
    given_name: str
    birth_date: date
    phone: str | None
    email: str | None
    language: str
    postal_code: str | None
    letter_sent_on: date | None
    batch: str | None
    batch_line: int | None

    def same_as(self, e: Enrolment) -> bool:
        return (self.family_name, self.given_name, self.birth_date, self.phone, self.email, self.language,
                self.postal_code, self.letter_sent_on) == \
            (e.family_name, e.given_name, e.birth_date, e.phone, e.email, e.language, e.postal_code,
             e.letter_sent_on) and matches(self.vitale_hash, e.vitale_serial, "vitale", self.nir_lookup)


def _twice(first_line: int) -> dict[str, str]:
    return {"nir": f"appears twice in this batch (first on line {first_line})"}


def reason_of(field_name: str, message: str) -> str:
    """The reason a row is counted under in the summary: the message without its line number."""
    return f"{field_name}: {message.split(' (first on line')[0]}"


class BatchImport:
    """One run of `enrol` over one batch. `report(line, errors)` is told each rejected row, `progress(lines)`
    how far the file has been read after each chunk."""

    def __init__(self, batch: str, codes: CodesFile, report, progress=None, chunk_rows: int | None = None):
        c = current_app.config
        self.batch = batch[:120]
        self.codes = codes
        self.report = report
        self.progress = progress or (lambda lines: None)
        self.chunk_rows = min(max(1, chunk_rows or c["IMPORT_CHUNK_ROWS"]), 10_000)  # SQLite: 32,766 parameters
        self.summary = Summary()
        self.today = clock.today()
        self.valid_days = timedelta(days=c["PROVISIONAL_CODE_VALID_DAYS"])
        self.masked_default = c["MASKED_IN_EMERGENCY_DEFAULT"]
        self.rules = rules()
        self.nir_lookup, self.phone_lookup = lookup_hasher("nir"), lookup_hasher("phone")
        self.vitale_hash = keyed_hasher("vitale")
        self.code_hash, self.keypad_hash = keyed_hasher("code"), keyed_hasher("keypad")
        self._waiting: list[tuple[int, str, str, str]] = []  # settled by write_pending

    # -- codes an interrupted run committed and may not have written ---------------------------------

    def settle_pending(self) -> None:
        """Hand over the codes of this batch still sealed: found in the file their run was writing, or written
        to this run's CODES.csv (before any new row). Must run before the codes file is opened."""
        s = self.summary
        for name, count in db.session.execute(
                db.select(ProvisionalCode.batch, db.func.count()).where(
                    ProvisionalCode.sealed_code.is_not(None), ProvisionalCode.batch != self.batch)
                .group_by(ProvisionalCode.batch)).all():
            s.elsewhere[name] = count
        rows = db.session.execute(db.select(ProvisionalCode.id, ProvisionalCode.sealed_code).where(
            ProvisionalCode.batch == self.batch, ProvisionalCode.sealed_code.is_not(None))
            .order_by(ProvisionalCode.batch_line, ProvisionalCode.id)).all()
        db.session.rollback()
        waiting: list[tuple[int, str, str, str]] = []   # (code row, nir, code, file it was being written to)
        for row_id, sealed in rows:
            opened = unseal(sealed)
            if opened is None:
                s.unreadable += 1
                continue
            nir, code, path = json.loads(opened)
            waiting.append((row_id, nir, code, path))
        if not waiting:
            return
        written: set[str] = set()
        for path in sorted({w[3] for w in waiting}):
            _cut_torn_tail(path)
            written |= _codes_in(path, {w[2] for w in waiting if w[3] == path})
        found = [w for w in waiting if w[2] in written]
        rest = [w for w in waiting if w[2] not in written]
        if found:
            self._clear([w[0] for w in found])
            s.found += len(found)
        self._waiting = rest

    def write_pending(self) -> None:
        """The codes settle_pending did not find written: sealed again naming this run's file (so that a run
        stopped now finds them there), written, cleared."""
        rest, self._waiting = self._waiting, []
        if not rest:
            return
        for row_id, nir, code, _ in rest:
            db.session.execute(db.update(ProvisionalCode).where(ProvisionalCode.id == row_id).values(
                sealed_code=seal(json.dumps([nir, code, self.codes.path]))))
        db.session.commit()
        self.codes.write([(nir, code) for _, nir, code, _ in rest])
        self._clear([w[0] for w in rest])
        self.summary.resumed += len(rest)

    def _clear(self, code_ids: list[int]) -> None:
        for start in range(0, len(code_ids), 1000):
            db.session.execute(db.update(ProvisionalCode).where(
                ProvisionalCode.id.in_(code_ids[start:start + 1000])).values(sealed_code=None))
        db.session.commit()

    # -- the rows ----------------------------------------------------------------------------------

    def run(self, rows) -> Summary:
        """Import the rows (app.bulk.Row: line, values, raw text, error) as they are read, a chunk at a time."""
        rows = iter(rows)
        while chunk := list(itertools.islice(rows, self.chunk_rows)):
            self.import_chunk(chunk)
            self.progress(chunk[-1].line - 1)
        return self.summary

    def _reject(self, line: int, errors: dict[str, str]) -> None:
        self.summary.rejected += 1
        for name, message in errors.items():
            self.summary.reasons[reason_of(name, message)] += 1
        self.report(line, errors)

    def _parse(self, chunk):
        """(rows that are valid, as (line, Enrolment, NIR look-up); rows that are not, as (line, errors))."""
        parsed, bad = [], []
        for row in chunk:
            try:
                if row.error:
                    raise RowErrors({"row": row.error})
                if undecodable(*row.values.values()):
                    raise RowErrors(NOT_UTF8)
                e = enrolment_from_row(row.values, self.today)
            except RowErrors as exc:
                bad.append((row.line, exc.errors))
                continue
            parsed.append((row.line, e, self.nir_lookup(e.nir)))
        return parsed, bad

    def _stored(self, lookups: list[str]) -> dict[str, _Stored]:
        if not lookups:
            return {}
        people = db.session.execute(db.select(
            Person.id, Person.nir_lookup, Person.vitale_hash, Person.family_name, Person.given_name,
            Person.birth_date, Person.phone, Person.email, Person.language, Person.postal_code,
            HealthSpace.letter_sent_on).outerjoin(HealthSpace, HealthSpace.person_id == Person.id)
            .where(Person.nir_lookup.in_(lookups))).all()
        if not people:
            return {}
        origin = {pid: (batch, line) for pid, batch, line in db.session.execute(
            db.select(ProvisionalCode.person_id, ProvisionalCode.batch, ProvisionalCode.batch_line).where(
                ProvisionalCode.person_id.in_([p.id for p in people]), ProvisionalCode.batch.is_not(None)))}
        return {p.nir_lookup: _Stored(*p[1:], *origin.get(p.id, (None, None))) for p in people}

    def _sort(self, parsed, stored: dict[str, _Stored]):
        """(rows to store: people not enrolled yet, each once; rows already enrolled; rows refused, with why)."""
        new, already, refused, first = [], 0, [], {}
        for line, e, nir_lookup in parsed:
            if nir_lookup in first:
                first_line, first_e = first[nir_lookup]
                if first_e == e:
                    already += 1
                else:
                    refused.append((line, _twice(first_line)))
                continue
            known = stored.get(nir_lookup)
            if known is not None:
                if known.same_as(e):
                    already += 1
                elif known.batch == self.batch and known.batch_line is not None and known.batch_line < line:
                    refused.append((line, _twice(known.batch_line)))
                else:
                    refused.append((line, {"nir": "already enrolled with other details"}))
                continue
            first[nir_lookup] = (line, e)
            new.append((line, e, nir_lookup))
        return new, already, refused

    def import_chunk(self, chunk) -> None:
        """Check the chunk's rows and store the new people in one transaction; then hand their codes over."""
        digest = hashlib.sha256("".join(row.raw for row in chunk).encode("utf-8", "surrogateescape")).hexdigest()
        lines = f"{chunk[0].line}-{chunk[-1].line}"
        parsed, bad = self._parse(chunk)
        for attempt in range(3):
            new, already, refused = self._sort(parsed, self._stored([p[2] for p in parsed]))
            try:
                handed = self._store(new, lines, digest)
                break
            except IntegrityError:
                # Somebody of the chunk was enrolled meanwhile by another process: sort the chunk again.
                db.session.rollback()
                if attempt == 2:
                    raise
        self.summary.already += already
        for line, errors in sorted(bad + refused, key=lambda r: r[0]):
            self._reject(line, errors)
        self.summary.imported += len(handed)
        if handed:
            self.codes.write([(nir, code) for nir, code, _ in handed])
            self._clear([code_id for _, _, code_id in handed])

    def _store(self, new, lines: str, digest: str) -> list[tuple[str, str, int]]:
        """Insert the chunk's people, spaces, codes and audit entries; commit. Returns (nir, code, code row id)."""
        if not new:
            db.session.rollback()
            return []
        now = clock.now()
        person_table, space_table, code_table = Person.__table__, HealthSpace.__table__, ProvisionalCode.__table__
        ids = dict(db.session.execute(
            person_table.insert().returning(person_table.c.nir_lookup, person_table.c.id),
            [{"nir_lookup": nir_lookup, "vitale_hash": self.vitale_hash(nir_lookup, e.vitale_serial),
              "family_name": e.family_name, "given_name": e.given_name, "birth_date": e.birth_date,
              "phone": e.phone, "phone_lookup": self.phone_lookup(e.phone) if e.phone else None,
              "email": e.email, "language": e.language, "notifications_enabled": True, "created_at": now,
              "postal_code": e.postal_code, "time_zone": zones.zone_for(e.postal_code, e.phone),
              "discreet_notices": False}
             for _, e, nir_lookup in new]).all())
        db.session.execute(space_table.insert(), [
            {"person_id": ids[nir_lookup], "state": State.NOTIFIED, "letter_sent_on": e.letter_sent_on,
             "window_ends_on": window_end(e.letter_sent_on, self.rules), "samu_access": True,
             "break_glass_access": True, "masked_in_emergency": self.masked_default}
            for _, e, nir_lookup in new])
        codes, values, sealing = [], [], sealer()
        for line, e, nir_lookup in new:
            code = identifiers.generate_provisional_code()
            codes.append((e.nir, code))
            values.append({"person_id": ids[nir_lookup], "code_hash": self.code_hash(nir_lookup, code),
                           "keypad_hash": self.keypad_hash(nir_lookup, identifiers.keypad_form(code)),
                           "issued_at": now, "expires_on": e.letter_sent_on + self.valid_days,
                           "batch": self.batch, "batch_line": line,
                           "sealed_code": sealing(json.dumps([e.nir, code, self.codes.path]))})
        code_ids = dict(db.session.execute(
            code_table.insert().returning(code_table.c.person_id, code_table.c.id), values).all())
        audit.append_many(("operator", audit.who(ids[nir_lookup]), "person.enrolled", "cli",
                           {"letter_sent_on": e.letter_sent_on.isoformat(), "batch": self.batch, "line": line,
                            "lines": lines, "lines_sha256": digest})
                          for line, e, nir_lookup in new)
        db.session.commit()
        return [(nir, code, code_ids[ids[nir_lookup]]) for (nir, code), (_, _, nir_lookup) in zip(codes, new)]
