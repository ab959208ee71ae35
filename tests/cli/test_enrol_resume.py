"""`flask --app app enrol` at campaign speed (issue 16): chunks with good, bad and repeated rows; progress; a run
stopped at any point (a real process killed with SIGKILL) and run again: every person enrolled once, with exactly
one working code across the CODES.csv files, none that does not work."""
import csv
import os
import random
import re
import signal
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from stdnum.fr.nir import calc_check_digits

from app import audit, clock
from app.domain.identifiers import CODE_ALPHABET
from app.models import AuditEntry, HealthSpace, Person, ProvisionalCode, db
from app.services import identity
from tests.conftest import TEST_CONFIG

NOW = datetime(2026, 11, 24, 9, 0)
TODAY = NOW.date()
SENT = (TODAY - timedelta(days=3)).isoformat()
HEADER = "nir,vitale_serial,family_name,given_name,birth_date,phone,email,language,letter_sent_on"
ROOT = Path(__file__).resolve().parents[2]
KILLED = Path(__file__).resolve().parent / "killed_enrol.py"


@pytest.fixture(autouse=True)
def frozen():
    clock.freeze(NOW)


def nir(i: int) -> str:
    body = f"1{40 + i // 900:02d}0175{i % 900 + 100:06d}"
    return body + calc_check_digits(body)


def person_row(i: int, **change) -> str:
    values = {"nir": nir(i), "vitale_serial": f"{80000000000 + i}", "family_name": f"Nom{i}",
              "given_name": f"Prénom{i}", "birth_date": f"19{40 + i % 50}-0{1 + i % 9}-1{i % 9}",
              "phone": "06 12 34 56 78" if i % 2 else "", "email": f"p{i}@example.org" if i % 3 == 0 else "",
              "language": "fr", "letter_sent_on": SENT, **change}
    return ",".join(values[c] for c in HEADER.split(","))


def birth(i: int) -> date:
    return date(1900 + 40 + i % 50, 1 + i % 9, 10 + i % 9)


def write(path: Path, *rows: str) -> Path:
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def run(app, *args):
    return app.test_cli_runner().invoke(args=[str(a) for a in args])


def codes_in(*files: Path) -> list[list[str]]:
    lines = []
    for f in files:
        if f.exists():
            lines += list(csv.reader(f.open(encoding="utf-8", newline="")))[1:]
    return lines


def count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(model).where(*where))


# --- one chunk with good rows, bad rows and rows seen before -----------------------------------------

def test_good_bad_and_repeated_rows_in_one_chunk(app, tmp_path):
    earlier = write(tmp_path / "earlier.csv", person_row(0), person_row(1))
    assert run(app, "enrol", earlier, "--codes-out", tmp_path / "earlier-codes.csv").exit_code == 0
    batch = write(tmp_path / "wave-2.csv",
                  person_row(2),                                   # line 2: good
                  person_row(3, nir=nir(3)[:13]),                  # line 3: a NIR without its key
                  person_row(0),                                   # line 4: identical to one enrolled: counted
                  person_row(1, given_name="Autre"),               # line 5: enrolled, other details: refused
                  person_row(4),                                   # line 6: good
                  person_row(2),                                   # line 7: line 2 again, the same: counted
                  person_row(4, vitale_serial="80999999999"),      # line 8: line 6's NIR, another card: refused
                  person_row(5, birth_date="1950-02-30", language="de"),  # line 9: two errors
                  person_row(6))                                   # line 10: good
    codes = tmp_path / "codes.csv"
    result = run(app, "enrol", batch, "--codes-out", codes)
    assert result.exit_code == 1
    assert "3 imported, 4 rejected, 2 already enrolled" in result.stdout
    assert "line 3: nir: has 13 characters" in result.stderr
    assert "line 5: nir: already enrolled with other details" in result.stderr
    assert "line 8: nir: appears twice in this batch (first on line 6)" in result.stderr
    assert "line 9: birth_date:" in result.stderr and "line 9: language:" in result.stderr
    for line in (2, 4, 6, 7, 10):
        assert f"line {line}:" not in result.stderr
    assert "rejected by reason:" in result.stdout
    assert "nir: appears twice in this batch" in result.stdout and "language: must be fr or en" in result.stdout
    assert [row[0] for row in codes_in(codes)] == [nir(2), nir(4), nir(6)]
    assert count(app, Person) == 5 and count(app, HealthSpace) == 5 and count(app, ProvisionalCode) == 5
    with app.app_context():
        one = identity.find_person_by_nir(nir(1))
        assert one.given_name == "Prénom1"                                     # the refused row changed nothing
        four = identity.find_person_by_nir(nir(4))
        assert identity.identify(nir(4), f"{80000000000 + 4}", birth(4), codes_in(codes)[1][1], client="t",
                                 channel="web") == four.id
        entries = db.session.scalars(db.select(AuditEntry).where(AuditEntry.action == "person.enrolled",
                                                                 AuditEntry.subject == f"person:{four.id}")).all()
        assert len(entries) == 1
        assert '"batch":"wave-2.csv"' in entries[0].details and '"lines":"2-10"' in entries[0].details
        assert '"line":6' in entries[0].details and '"lines_sha256":' in entries[0].details
        assert nir(4) not in entries[0].details
        assert audit.verify()[0]


def test_the_same_batch_again_is_already_enrolled_and_exits_0(app, tmp_path):
    batch = write(tmp_path / "batch.csv", *[person_row(i) for i in range(5)])
    first = run(app, "enrol", batch, "--codes-out", tmp_path / "codes-1.csv", "--chunk", "2")
    assert first.exit_code == 0 and "5 imported, 0 rejected, 0 already enrolled" in first.stdout
    again = run(app, "enrol", batch, "--codes-out", tmp_path / "codes-2.csv", "--chunk", "2")
    assert again.exit_code == 0, again.output
    assert "0 imported, 0 rejected, 5 already enrolled" in again.stdout
    assert codes_in(tmp_path / "codes-2.csv") == []
    assert (tmp_path / "codes-2.csv").read_bytes() == b"nir,provisional_code\r\n"
    assert count(app, Person) == 5


def test_a_nir_twice_in_two_chunks_names_its_first_line(app, tmp_path):
    batch = write(tmp_path / "batch.csv", person_row(0), person_row(1), person_row(2), person_row(0, email=""))
    result = run(app, "enrol", batch, "--codes-out", tmp_path / "codes.csv", "--chunk", "2")
    assert result.exit_code == 1
    assert "line 5: nir: appears twice in this batch (first on line 2)" in result.stderr
    assert "3 imported, 1 rejected, 0 already enrolled" in result.stdout


def test_an_existing_codes_file_is_continued_never_emptied(app, tmp_path):
    codes = tmp_path / "codes.csv"
    run(app, "enrol", write(tmp_path / "a.csv", person_row(0)), "--codes-out", codes)
    result = run(app, "enrol", write(tmp_path / "b.csv", person_row(1)), "--codes-out", codes)
    assert result.exit_code == 0
    assert "its codes are kept" in result.stderr
    assert [row[0] for row in codes_in(codes)] == [nir(0), nir(1)]
    assert codes.read_text().count("nir,provisional_code") == 1


def test_a_codes_path_that_is_another_file_is_refused_before_anything(app, tmp_path):
    other = tmp_path / "notes.csv"
    other.write_text("something,else\n1,2\n")
    result = run(app, "enrol", write(tmp_path / "batch.csv", person_row(0)), "--codes-out", other)
    assert result.exit_code != 0 and "is not a codes file" in result.output
    assert other.read_text() == "something,else\n1,2\n"
    assert count(app, Person) == 0


def test_progress_lines_in_a_log(app, tmp_path):
    batch = write(tmp_path / "batch.csv", *[person_row(i) for i in range(7)])
    result = run(app, "enrol", batch, "--codes-out", tmp_path / "codes.csv", "--chunk", "2",
                 "--progress-every", "3")
    progress = [line for line in result.stderr.splitlines() if line.startswith("enrol batch.csv:")]
    assert [line.split(" rows")[0] for line in progress] == \
        ["enrol batch.csv: 4 of 7", "enrol batch.csv: 6 of 7", "enrol batch.csv: 7 of 7"]
    assert "rows a second" in progress[0] and "left" in progress[0] and "(100 %)" in progress[-1]


# --- killed at any point, then run again ------------------------------------------------------------

def _env(app) -> dict:
    env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "SECRET_KEY": TEST_CONFIG["SECRET_KEY"], "LOOKUP_KEY": TEST_CONFIG["LOOKUP_KEY"],
           "ARGON2_TIME_COST": "1", "ARGON2_MEMORY_KIB": "1024", "PYTHONPATH": str(ROOT)}
    for name in ("SECRET_HASH_KEY", "SEAL_KEY"):
        env.pop(name, None)
    return env


def enrol_process(app, batch: Path, codes: Path, *, kill: tuple[str, int] | None = None, chunk: int = 10):
    args = [str(batch), "--codes-out", str(codes), "--chunk", str(chunk)]
    if kill:
        cmd = [sys.executable, str(KILLED), kill[0], str(kill[1]), *args]
    else:
        cmd = [sys.executable, "-m", "flask", "--app", "app", "enrol", *args]
    with app.app_context():
        db.session.remove()  # nothing of this process holds the database while the other one writes
    return subprocess.run(cmd, env=_env(app), cwd=ROOT, capture_output=True, text=True, timeout=120)


def check_every_person_has_one_working_code(app, people: list[int], files: list[Path]) -> None:
    lines = codes_in(*files)
    for f in files:
        if f.exists():
            text = f.read_bytes()
            assert text.endswith(b"\r\n") and text.startswith(b"nir,provisional_code\r\n"), f"torn file {f}"
    assert all(len(line) == 2 and len(line[1]) == 12 and set(line[1]) <= set(CODE_ALPHABET) for line in lines), \
        [line for line in lines if len(line) != 2 or len(line[1]) != 12]
    codes: dict[str, set[str]] = {}
    for n, code in lines:
        codes.setdefault(n, set()).add(code)
    assert set(codes) == {nir(i) for i in people}, "a person without a code, or a code without a person"
    assert all(len(found) == 1 for found in codes.values()), {n: c for n, c in codes.items() if len(c) > 1}
    assert count(app, Person) == len(people) and count(app, ProvisionalCode) == len(people)
    assert count(app, ProvisionalCode, ProvisionalCode.sealed_code.is_not(None)) == 0
    with app.app_context():
        for i in people:
            [code] = codes[nir(i)]
            assert identity.identify(nir(i), f"{80000000000 + i}", birth(i), code, client=f"c{i}",
                                     channel="web") == identity.find_person_by_nir(nir(i)).id
        assert audit.verify()[0]
        db.session.remove()


@pytest.mark.parametrize("point", ["store", "commit", "torn", "written"])
@pytest.mark.parametrize("same_file", [True, False], ids=["same-codes-file", "new-codes-file"])
def test_killed_at_a_point_then_run_again(app, tmp_path, point, same_file):
    clock.freeze(None)  # the child processes live in real time: so do their letters here
    rows = list(range(35))
    batch = write(tmp_path / "wave.csv", *[person_row(i, letter_sent_on=date.today().isoformat()) for i in rows])
    first, second = tmp_path / "codes-1.csv", tmp_path / ("codes-1.csv" if same_file else "codes-2.csv")
    killed = enrol_process(app, batch, first, kill=(point, 2))
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    stored = count(app, Person)
    assert stored == (10 if point == "store" else 20)  # chunk 2 was, or was not yet, committed
    done = enrol_process(app, batch, second)
    assert done.returncode == 0, done.stderr
    if point != "store":
        assert f"{35 - 20} imported, 0 rejected, 20 already enrolled" in done.stdout
        written, found = map(int, re.search(r"interrupted run: (\d+) written first to this run's file, (\d+) found",
                                            done.stdout).groups())
        assert written + found == 10  # chunk 2's codes: in the first file already, or written by the second run
        assert (written, found) == {"commit": (10, 0), "written": (0, 10)}.get(point, (written, found))
        assert 0 < written < 10 or point != "torn"  # a torn write: some of its lines whole, the rest written again
    check_every_person_has_one_working_code(app, rows, sorted({first, second}))


def test_killed_again_while_handing_over_the_codes_of_the_first_kill(app, tmp_path):
    clock.freeze(None)
    rows = list(range(25))
    batch = write(tmp_path / "wave.csv", *[person_row(i, letter_sent_on=date.today().isoformat()) for i in rows])
    files = [tmp_path / f"codes-{n}.csv" for n in (1, 2, 3)]
    assert enrol_process(app, batch, files[0], kill=("commit", 1)).returncode == -signal.SIGKILL
    assert enrol_process(app, batch, files[1], kill=("resealed", 1)).returncode == -signal.SIGKILL
    done = enrol_process(app, batch, files[2])
    assert done.returncode == 0, done.stderr
    assert "codes of an interrupted run: 10 written first" in done.stdout
    check_every_person_has_one_working_code(app, rows, files)


def test_killed_at_random_moments_then_run_to_the_end(app, tmp_path):
    """Killed with SIGKILL a few times at random moments once rows are going in (chunks of 5 rows, so most moments
    are inside some chunk's work), each time run again; then run to the end."""
    clock.freeze(None)
    rows = list(range(300))
    batch = write(tmp_path / "wave.csv", *[person_row(i, letter_sent_on=date.today().isoformat()) for i in rows])
    files, rng, stopped_at = [], random.Random(16), []
    with app.app_context():
        db.session.remove()
    for attempt in range(4):
        before = count(app, Person)
        files.append(tmp_path / f"codes-{attempt}.csv")
        child = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "enrol", str(batch), "--codes-out",
                                  str(files[-1]), "--chunk", "5"], env=_env(app), cwd=ROOT,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while child.poll() is None and count(app, Person) == before and time.monotonic() < deadline:
            time.sleep(0.02)  # until this run's first chunk is in
        time.sleep(rng.random() * 0.4)
        child.send_signal(signal.SIGKILL)
        child.wait()
        with app.app_context():
            db.session.remove()
        stopped_at.append(count(app, Person))
    assert any(0 < n < len(rows) for n in stopped_at), stopped_at  # some kill did fall in the middle
    files.append(tmp_path / "codes-last.csv")
    done = enrol_process(app, batch, files[-1], chunk=50)
    assert done.returncode == 0, done.stderr
    check_every_person_has_one_working_code(app, rows, files)
