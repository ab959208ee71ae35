"""Synthetic people for the benchmarks: valid NIRs, a mailing batch and access events, loaded with the CLI.

Used by bench/throughput.py and bench/load_test.py. Everything goes through Relais's own operator commands
(`flask --app app enrol BATCH.csv --codes-out CODES.csv`, `flask --app app access-events import EVENTS.jsonl`),
so the people are stored exactly as a real mailing batch would store them.
"""
import csv
import json
import os
import random
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from stdnum.fr import nir as stdnum_nir

from app import demo
from app.cli import ENROL_COLUMNS as COLUMNS

ROOT = Path(__file__).resolve().parent.parent
FAMILY = ["Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois", "Moreau", "Laurent",
          "Simon", "Michel", "Lefèvre", "Leroy", "Roux", "David", "Bertrand", "Morel", "Fournier", "Girard"]
GIVEN = ["Jeanne", "Marie", "Louise", "Camille", "Léa", "Hélène", "Nadia", "Sophie", "Inès", "Chloé",
         "Jean", "Pierre", "Karim", "Paul", "Hugo", "Lucas", "Marc", "Élie", "Omar", "François"]
# The demo's professionals and sections, and one more radiologist.
PROFESSIONALS = [*demo.PROFESSIONALS, ("Dr Paul Garnier", "Radiologue", "Centre d'imagerie Bellecour", "10105555555")]
SECTIONS = demo.SECTIONS
DEPARTMENTS = ["75", "69", "13", "33", "59", "31", "44", "67", "06", "35", "34", "38"]


@dataclass
class Person:
    nir: str
    serial: str
    family: str
    given: str
    birth: date
    phone: str | None
    email: str | None
    language: str
    letter_sent_on: date
    code: str = ""                      # the provisional code, from CODES.csv
    events: int = 0                     # access events imported for this person
    tags: set = field(default_factory=set)

    @property
    def window_open(self) -> bool:
        """More than a week left to say no (else the deadline is near)."""
        return "window_open" in self.tags


def make_people(count: int, rng: random.Random, *, start: int = 0, today: date | None = None,
                window_open_share: float = 0.5, mobile_share: float = 1.0, english_share: float = 0.1,
                email_share: float = 0.2) -> list[Person]:
    """`count` distinct people with valid NIRs (key from python-stdnum) and unique Vitale serials and phones.

    `start` offsets the numbering so that two batches of one run never collide; the department is drawn per run
    so that a second run on the same database is unlikely to collide either.
    """
    today = today or date.today()
    dept = rng.choice(DEPARTMENTS)
    phone_base = rng.randrange(10 ** 7)
    people = []
    for i in range(start, start + count):
        sex = "1" if i % 2 else "2"
        year, month, day = 1930 + (i * 7) % 75, 1 + i % 12, 1 + (i * 5) % 28
        commune, order = 1 + (i // 999) % 999, 1 + i % 999
        body = f"{sex}{year % 100:02d}{month:02d}{dept}{commune:03d}{order:03d}"
        nir = body + stdnum_nir.calc_check_digits(body)
        # A letter's code is valid as long as the window (42 days): every letter is recent enough to identify
        # with; some windows end within the week (the deadline rush), the others are well open.
        window_open = rng.random() < window_open_share
        sent = today - timedelta(days=rng.randrange(1, 30) if window_open else rng.randrange(35, 41))
        phone = f"+336{(phone_base + i * 13) % 10 ** 8:08d}" if rng.random() < mobile_share else None
        given = GIVEN[i % len(GIVEN)]
        email = f"{given.lower()}.{i}@example.org".encode("ascii", "ignore").decode() \
            if rng.random() < email_share else None
        p = Person(nir=nir, serial=f"80{rng.randrange(10 ** 9):09d}", family=FAMILY[(i // 20) % len(FAMILY)],
                   given=given, birth=date(year, month, day), phone=phone, email=email,
                   language="en" if rng.random() < english_share else "fr", letter_sent_on=sent)
        if window_open:
            p.tags.add("window_open")
        people.append(p)
    return people


def write_batch(people: list[Person], path: str) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(COLUMNS)
        for p in people:
            w.writerow([p.nir, p.serial, p.family, p.given, p.birth.isoformat(), p.phone or "", p.email or "",
                        p.language, p.letter_sent_on.isoformat()])


def write_events(people: list[Person], path: str, rng: random.Random, run_id: str) -> int:
    """Access events for each person (p.events of them), spread over the last 60 days; returns how many."""
    now = datetime.now(timezone.utc)
    n = 0
    with open(path, "w", encoding="utf-8") as f:
        for pi, p in enumerate(people):
            for j in range(p.events):
                name, profession, organisation, rpps = PROFESSIONALS[rng.randrange(len(PROFESSIONALS))]
                mode = rng.choices(["normal", "samu", "break_glass"], weights=[90, 6, 4])[0]
                event = {"nir": p.nir, "occurred_at": (now - timedelta(minutes=rng.randrange(60, 60 * 24 * 60)))
                         .isoformat(timespec="seconds"),
                         "professional_name": name, "profession": profession, "organisation": organisation,
                         "mode": mode, "section": rng.choice(SECTIONS),
                         "reason": "Malaise" if mode != "normal" else "", "event_id": f"{run_id}-{pi}-{j}"}
                if rpps:
                    event["professional_id"] = rpps
                f.write(json.dumps(event, ensure_ascii=False) + "\n")
                n += 1
    return n


def flask_cli(env: dict, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True)
    if check and done.returncode:
        raise SystemExit(f"flask {' '.join(args)} failed ({done.returncode}):\n{done.stdout[-2000:]}\n"
                         f"{done.stderr[-4000:]}")
    return done


def _parallel(env: dict, commands: list[list[str]]) -> list[tuple[int, str, str]]:
    procs = [subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", *c], env=env, cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for c in commands]
    out = []
    for c, p in zip(commands, procs):
        stdout, stderr = p.communicate()
        out.append((p.returncode, stdout, stderr))
        if p.returncode:
            raise SystemExit(f"flask {' '.join(c)} failed ({p.returncode}):\n{stdout[-2000:]}\n{stderr[-4000:]}")
    return out


def load(env: dict, people: list[Person], workdir: str, rng: random.Random, *, processes: int = 1,
         run_id: str = "bench") -> dict[str, int]:
    """Enrol the people with `flask enrol` (in `processes` parallel batches) and fill in their codes, then import
    their access events with `flask access-events import`. Returns counts."""
    processes = max(1, min(processes, len(people)))
    # Parallel batches from the start: each person's audit chain has its own head, created by an upsert, so two
    # first writers no longer collide (the single chain's head did: docs/national-scale.md, defect 2).
    chunks = [people[i::processes] for i in range(processes)]
    commands = []
    for i, chunk in enumerate(chunks):
        batch, codes = os.path.join(workdir, f"batch-{i}.csv"), os.path.join(workdir, f"codes-{i}.csv")
        write_batch(chunk, batch)
        commands.append(["enrol", batch, "--codes-out", codes])
    _parallel(env, commands)
    by_nir = {p.nir: p for p in people}
    for i in range(len(chunks)):
        with open(os.path.join(workdir, f"codes-{i}.csv"), encoding="utf-8") as f:
            for row in csv.DictReader(f):
                by_nir[row["nir"]].code = row["provisional_code"]
    missing = [p.nir for p in people if not p.code]
    if missing:
        raise SystemExit(f"{len(missing)} people were not enrolled (first: {missing[0]})")
    events = 0
    with_events = [p for p in people if p.events]
    if with_events:
        chunks = [with_events[i::processes] for i in range(processes)]
        commands = []
        for i, chunk in enumerate(chunks):
            path = os.path.join(workdir, f"events-{i}.jsonl")
            events += write_events(chunk, path, rng, f"{run_id}-{i}")
            commands.append(["access-events", "import", path])
        _parallel(env, commands)
    return {"people": len(people), "events": events}
