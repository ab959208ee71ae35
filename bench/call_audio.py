"""Spoken length of whole phone calls: every <Say> synthesized with espeak-ng, at 150 and 130 words a minute.

    .venv/bin/python bench/call_audio.py [--wpm 150 130] [--calls opposition closure emergency history]
                                         [--languages fr en] [--speech opposition]

Groundwork for issue 12, item 1. Plays whole calls through the Flask test client with webhooks signed as Twilio
signs them (tests.conftest's Caller), on a temporary SQLite database migrated in-process (flask_migrate's
upgrade(), as tests/conftest.py does), the production configuration (app/config.py) and production argon2
(ARGON2_* variables removed; it costs CPU, no speech):

- opposition: a letter 10 days old, menu "say no", identification, confirm: up to the spoken reference;
- closure: a letter 60 days old (a new code, as a person would ask), menu "close", keep the data, confirm;
- emergency: a letter 60 days old, menu "emergency", change the SAMU's access (refuse it), confirm;
- history: a letter 60 days old and 5 accesses recorded, menu "history": up to the end of the third access read.

Each in French (silence at the greeting) and in English (9 at the greeting), on the keypad; the calls of
`--speech` (the opposition by default) also answered by speech wherever the step takes it (the greeting, the
menu, the yes/no steps: the first word of the step's vocabulary in the call's language; numbers are typed).
Keys are found in ivr/script.py STEPS by where they lead, and the step the server is at is checked before each
answer, so a renumbered script is followed and a changed one is said.

Every <Say> is synthesized alone with `espeak-ng -v fr|en-gb -s WPM -w FILE TEXT` (its `language` attribute,
fr-FR or en-GB, picks the voice) and measured with `soxi -D FILE`; durations are cached by (text, voice, wpm).
Per call it prints the spoken seconds from the greeting to the sentence that says the reference (the history:
to the end of the third access), the keys pressed, the prompts (TwiML answers) heard, the longest one, and the
call's total: the speech, plus 1 s a key ('#' and '*' count), 1 s a spoken answer and, for a silence, the
Gather's timeout (the French greeting: 8 s). Then the prompts that end in a choice (a <Gather> of one key or
speech) longer than 15 s. Figures are printed next to their budgets (at 150 words a minute) and those over
are marked OVER; a budget missed is a measurement, not a failure.

Exits 2 if espeak-ng, soxi or sox, or the fr or en-gb voice, is missing (naming the Debian packages: espeak-ng,
sox, espeak-ng-data), 1 if something broke (a webhook not answered, a step off the walk, "Sorry, something
went wrong" said, a synthesis that failed), else 0.
"""
import argparse
import hashlib
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
for _name in [n for n in os.environ if n.startswith("ARGON2_")]:
    del os.environ[_name]  # production argon2 parameters

TOOLS = {"espeak-ng": "espeak-ng", "soxi": "sox", "sox": "sox"}  # program -> the Debian package that has it
# sox's effect that cuts the silence before the first sound and after the last (above 0.5 % for 10 ms).
EDGES = ["silence", "1", "0.01", "0.5%", "reverse", "silence", "1", "0.01", "0.5%", "reverse"]
VOICES = {"fr-FR": "fr", "en-GB": "en-gb"}          # <Say language> -> espeak-ng voice
CALLS = ("opposition", "closure", "emergency", "history")
LANGUAGES = ("fr", "en")
BUDGET_TO_END = {"opposition": 60, "closure": 75, "emergency": 75, "history": 75}  # s at 150 wpm, keying aside
BUDGET_CHOICE = 15      # s: a prompt that ends in a choice
BUDGET_CALL = 180       # s: any action, keying included at one key a second
BUDGET_WPM = 150        # the budgets are set at this speed
KEY_SECONDS = 1.0       # a key pressed, or a spoken answer
HISTORY_ACCESSES = 5
TOKEN = "bench-twilio-auth-token"
BASE_URL = "https://relais.bench"


class Broken(Exception):
    """Something that is not a measurement went wrong: the run exits 1."""


def check_tools() -> None:
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        packages = " ".join(sorted({TOOLS[t] for t in missing}))
        for tool in missing:
            print(f"{tool} is missing: it comes with the Debian package {TOOLS[tool]}.", file=sys.stderr)
        print(f"Install with: sudo apt-get install -y {packages}", file=sys.stderr)
        sys.exit(2)
    # espeak-ng speaks with its default voice, and exits 0, when the voice asked for does not exist.
    listed = subprocess.run(["espeak-ng", "--voices"], capture_output=True, text=True).stdout.splitlines()[1:]
    names = set()
    for line in listed:
        fields = line.split()
        if len(fields) >= 5:
            names |= {fields[1], fields[3], fields[4].rsplit("/", 1)[-1]}
            names |= set(re.findall(r"\(([\w-]+) \d+\)", line))
    if missing := [v for v in VOICES.values() if v not in names]:
        print(f"espeak-ng has no voice {', '.join(missing)} (its voices come with the Debian package "
              "espeak-ng-data).", file=sys.stderr)
        print("Install with: sudo apt-get install -y espeak-ng espeak-ng-data", file=sys.stderr)
        sys.exit(2)


# --- synthesis --------------------------------------------------------------------------------------------

class Synth:
    """Durations of sentences spoken by espeak-ng, cached by (text, voice, wpm); the wavs go to a temp dir."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.seconds: dict[tuple[str, str, int], float] = {}
        self.edges: dict[tuple[str, str, int], float] = {}
        self.elapsed = 0.0

    def _one(self, key: tuple[str, str, int]) -> tuple[float, float]:
        """(seconds of the wav, seconds of it that are silence before the first sound and after the last)."""
        text, voice, wpm = key
        name = hashlib.sha1(repr(key).encode()).hexdigest()
        wav, trimmed = self.directory / f"{name}.wav", self.directory / f"{name}-trimmed.wav"
        spoken = " " + text if text.startswith("-") else text  # never read as an option
        run = subprocess.run(["espeak-ng", "-v", voice, "-s", str(wpm), "-w", str(wav), spoken],
                             capture_output=True, text=True)
        if run.returncode != 0 or not wav.exists():
            raise Broken(f"espeak-ng -v {voice} -s {wpm} failed ({run.returncode}) on {text!r}: {run.stderr.strip()}")
        seconds = self._soxi(wav)
        trim = subprocess.run(["sox", str(wav), str(trimmed), *EDGES], capture_output=True, text=True)
        if trim.returncode != 0:
            raise Broken(f"sox {wav} {' '.join(EDGES)} failed: {trim.stderr.strip()}")
        return seconds, seconds - self._soxi(trimmed)

    @staticmethod
    def _soxi(wav: Path) -> float:
        soxi = subprocess.run(["soxi", "-D", str(wav)], capture_output=True, text=True)
        try:
            return float(soxi.stdout.strip())
        except ValueError:
            raise Broken(f"soxi -D {wav} said {soxi.stdout.strip()!r} {soxi.stderr.strip()!r}") from None

    def prepare(self, keys) -> None:
        todo = sorted({k for k in keys if k not in self.seconds})
        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
            for key, (seconds, edges) in zip(todo, pool.map(self._one, todo)):
                self.seconds[key], self.edges[key] = seconds, edges
        self.elapsed += time.perf_counter() - start

    def __call__(self, text: str, voice: str, wpm: int) -> float:
        key = (text, voice, wpm)
        if key not in self.seconds:
            self.prepare([key])
        return self.seconds[key]

    def edge(self, text: str, voice: str, wpm: int) -> float:
        self(text, voice, wpm)
        return self.edges[(text, voice, wpm)]


def tool_versions() -> str:
    espeak = subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True).stdout.strip()
    espeak = re.sub(r"\s+Data at:.*", "", espeak).replace("eSpeak NG text-to-speech: ", "espeak-ng ")
    sox = subprocess.run(["sox", "--version"], capture_output=True, text=True).stdout.strip() \
        if shutil.which("sox") else "soxi"
    return f"{espeak}, {sox.replace('sox:      SoX ', 'sox ')}"


# --- calls ------------------------------------------------------------------------------------------------

@dataclass
class Prompt:
    """One TwiML answer: what the caller did just before it, the step it is, its <Say>s and its <Gather>."""
    keys: int                       # keys pressed to get it
    said: int                       # spoken answers to get it
    wait: float                     # seconds of silence waited to get it
    says: list[tuple[str, str]]     # (text, language attribute)
    gather: dict
    step: str = ""

    @property
    def choice(self) -> bool:
        return self.gather.get("numDigits") == "1" or "speech" in self.gather.get("input", "")


def recorded_caller_class():
    from tests.conftest import Caller
    from tests.ivr.conftest import step

    class RecordedCaller(Caller):
        """tests.conftest's Caller that keeps every answer, with the keys, words or silence that led to it."""

        def __init__(self, app, **kw):
            super().__init__(app, **kw)
            self.prompts: list[Prompt] = []
            self._before = (0, 0, 0.0)

        def _answer(self, response):
            if response.status_code == 200 and response.mimetype == "text/xml":
                root = ET.fromstring(response.get_data(as_text=True))
                gather = root.find(".//Gather")
                self.prompts.append(Prompt(*self._before, [(el.text or "", el.get("language", ""))
                                                           for el in root.iter("Say")],
                                           dict(gather.attrib) if gather is not None else {}))
                self._before = (0, 0, 0.0)
            result = super()._answer(response)
            self.prompts[-1].step = step(self.app, self)
            return result

        def press(self, digits: str):
            self._before = (len(digits), 0, 0.0)  # every key the person presses, the finishing '#' too
            return super().press(digits)

        def speak(self, words: str):
            self._before = (0, 1, 0.0)
            return super().speak(words)

        def silence(self):
            self._before = (0, 0, float(self.gather.get("timeout", 0)))
            return super().silence()

    return RecordedCaller


@dataclass
class Played:
    call: str
    language: str
    mode: str                       # keypad or speech
    prompts: list[Prompt]
    end: tuple[int, int]            # (prompt, say) of the last sentence counted


@dataclass
class Run:
    app: object
    sorry: set[str]
    caller_class: type
    people: int = 0
    played: list[Played] = field(default_factory=list)


def expect(c, name: str) -> None:
    at = c.prompts[-1].step if c.prompts else "?"
    if at != name:
        raise Broken(f"off the walk: expected step {name!r}, the call is at {at!r}: {' '.join(c.last)[:160]}")


def key_to(step: str, target: str) -> str:
    from ivr import script
    keys = [k for k, t in script.STEPS[step].routes.items() if t == target]
    if not keys:
        raise Broken(f"ivr/script.py: no key of step {step!r} leads to {target!r} any more")
    return keys[0]


def word_for(run: Run, language: str, step: str, key: str) -> str:
    """The first word of the step's vocabulary for this key, in the call's language."""
    from flask_babel import force_locale

    from ivr import script
    with run.app.test_request_context(), force_locale(language):
        return script.STEPS[step].words()[key].split(",")[0].strip()


def answer(run: Run, c, step: str, target: str, speech: bool, language: str) -> None:
    expect(c, step)
    key = key_to(step, target)
    if speech:
        c.speak(word_for(run, language, step, key))
    else:
        c.press(key)


def enrol(run: Run, days_ago: int):
    """A new person of the mailing batch (a code works once), as tests/conftest.py's `enrol` makes one."""
    from app import clock
    from app.models import db
    from app.services import identity
    from tests.conftest import Holder
    i = 100 + run.people
    run.people += 1
    first13 = f"1520364445{i:03d}"
    nir = first13 + f"{97 - int(first13) % 97:02d}"
    serial, phone, born = f"8098765{i:04d}", f"+33612{i:06d}", date(1952, 3, 14)
    app = run.app
    with app.app_context():
        code = identity.enrol(identity.Enrolment(
            nir=nir, vitale_serial=serial, family_name="Martin", given_name="Jeanne", birth_date=born,
            phone=phone, email=None, language="fr", letter_sent_on=clock.today() - timedelta(days=days_ago)))
        person = identity.find_person_by_nir(nir)
        if days_ago > app.config["PROVISIONAL_CODE_VALID_DAYS"]:
            code = identity._issue_code(person, clock.today())  # as if they had asked for a new one
            db.session.commit()
        return Holder(person.id, nir, serial, born, code, phone, "fr")


def play(run: Run, name: str, language: str, speech: bool) -> Played:
    from app.domain.identifiers import keypad_form
    from tests.ivr.conftest import REFERENCE, record_accesses
    holder = enrol(run, days_ago=10 if name == "opposition" else 60)
    if name == "history":
        record_accesses(run.app, holder, HISTORY_ACCESSES)  # "Dr Pro 0" the newest ... "Dr Pro 4"
    c = run.caller_class(run.app, caller=holder.phone)

    c.start()
    expect(c, "language")
    if language == "en":
        answer(run, c, "language", "do:switch_language", speech, "fr")
    else:
        c.silence()  # French: the caller waits at the greeting
    goal = {"opposition": "do:goal_change", "closure": "do:goal_change", "emergency": "do:goal_emergency",
            "history": "do:goal_history"}[name]
    answer(run, c, "menu", goal, speech, language)

    expect(c, "nir")
    c.press(holder.nir.replace("A", "*1").replace("B", "*2") + "#")
    expect(c, "serial")
    c.press(holder.vitale_serial + "#")
    expect(c, "birth")
    c.press(holder.birth_date.strftime("%d%m%Y") + "#")
    expect(c, "code")
    c.press(keypad_form(holder.code) + "#")
    answer(run, c, "check", "do:identify", speech, language)

    if name == "opposition":
        answer(run, c, "oppose", "do:oppose", speech, language)
    elif name == "closure":
        answer(run, c, "close", "do:choose_archive", speech, language)
        answer(run, c, "close_confirm", "do:close", speech, language)
    elif name == "emergency":
        answer(run, c, "emergency", "do:change_samu", speech, language)
        answer(run, c, "emergency_confirm", "do:set_emergency", speech, language)

    for p in c.prompts:
        if said_sorry := [t for t, _ in p.says if t in run.sorry]:
            raise Broken(f"{name} {language}: the server said {said_sorry[0]!r} at step {p.step!r}")
    if name == "history":
        expect(c, "history")
        third = "Dr Pro 2"  # record_accesses: one a day, the newest first; the third access read
        found = [i for i, (text, _) in enumerate(c.prompts[-1].says) if third in text]
        if not found:
            raise Broken(f"history {language}: the third access ({third}) is not read: {c.last}")
        end = (len(c.prompts) - 1, found[0])
    else:
        expect(c, "receipt")
        found = [i for i, (text, _) in enumerate(c.prompts[-1].says) if REFERENCE.search(text)]
        if not found:
            raise Broken(f"{name} {language}: no reference said at the receipt: {c.last}")
        end = (len(c.prompts) - 1, found[0])
    for p in c.prompts:
        for text, lang in p.says:
            if lang not in VOICES:
                raise Broken(f"a <Say> with language={lang!r}, no espeak-ng voice for it: {text!r}")
    return Played(name, language, "speech" if speech else "keypad", c.prompts, end)


# --- figures ----------------------------------------------------------------------------------------------

@dataclass
class Figures:
    to_end: float                   # spoken seconds from the greeting to the last sentence counted
    edges: float                    # of which espeak-ng's silence before and after each <Say>
    words: int
    keys: int
    said: int
    wait: float
    prompts: int
    longest: float
    longest_prompt: Prompt
    total: float
    choices: list[tuple[Prompt, float]]  # prompts heard that end in a choice, with their seconds


def words_in(text: str) -> int:
    """Words as tests/ivr/test_call_length.py counts them: tokens with a letter or a digit."""
    return sum(1 for token in text.split() if re.search(r"\w", token))


def figures(p: Played, synth: Synth, wpm: int) -> Figures:
    last, last_say = p.end
    heard = p.prompts[:last + 1]
    counted = [say for x in heard[:-1] for say in x.says] + heard[-1].says[:last_say + 1]

    def seconds(says) -> float:
        return sum(synth(text, VOICES[lang], wpm) for text, lang in says)

    lengths = [(x, seconds(x.says)) for x in heard]
    longest_prompt, longest = max(lengths, key=lambda pair: pair[1])
    keys, said, wait = sum(x.keys for x in heard), sum(x.said for x in heard), sum(x.wait for x in heard)
    to_end = seconds(counted)
    return Figures(to_end, sum(synth.edge(text, VOICES[lang], wpm) for text, lang in counted),
                   sum(words_in(text) for text, _ in counted), keys, said, wait, len(heard), longest, longest_prompt,
                   to_end + (keys + said) * KEY_SECONDS + wait, [(x, s) for x, s in lengths if x.choice])


def first_words(prompt: Prompt, n: int = 7) -> str:
    words = " ".join(t for t, _ in prompt.says).split()
    return " ".join(words[:n]) + (" …" if len(words) > n else "")


def mark(value: float, budget: float, wpm: int) -> str:
    over = value > budget
    if wpm == BUDGET_WPM:
        return "OVER" if over else "ok"
    return "(over)" if over else ""


def span(values: list[float]) -> str:
    low, high = min(values), max(values)
    return f"{high:.1f} s" if high - low < 0.05 else f"{low:.1f}–{high:.1f} s"


def report(run: Run, synth: Synth, wpms: list[int]) -> tuple[int, int]:
    """Prints the tables; returns (figures over budget at 150 wpm, figures with a budget at 150 wpm)."""
    over = checked = 0
    header = (f"{'call':<11} {'lang':<4} {'input':<6} {'wpm':>3}  {'to reference':>12} {'budget':>6} {'':<6} "
              f"{'edges':>6} {'words':>5} {'keys':>9} {'prompts':>7}  {'longest prompt':>14} {'':<6} "
              f"{'first words':<40} {'call total':>10} {'≤ 180 s':<6}")
    print(header)
    print("-" * len(header))
    for p in run.played:
        for wpm in wpms:
            f = figures(p, synth, wpm)
            budget = BUDGET_TO_END[p.call]
            keys = f"{f.keys}" + (f"+{f.said} said" if f.said else "")
            longest_mark = mark(f.longest, BUDGET_CHOICE, wpm) if f.longest_prompt.choice else "—"
            print(f"{p.call:<11} {p.language:<4} {p.mode:<6} {wpm:>3}  {f.to_end:>10.1f} s {budget:>4} s "
                  f"{mark(f.to_end, budget, wpm):<6} {f.edges:>4.1f} s {f.words:>5} {keys:>9} {f.prompts:>7}  "
                  f"{f.longest:>12.1f} s {longest_mark:<6} {first_words(f.longest_prompt)[:40]:<40} "
                  f"{f.total:>8.1f} s {mark(f.total, BUDGET_CALL, wpm):<6}")
            if wpm == BUDGET_WPM:
                checked += 2
                over += (f.to_end > budget) + (f.total > BUDGET_CALL)
    print()
    print("to reference: spoken seconds from the greeting to the sentence that says the reference, included (the "
          "history: to the end\n  of the third access read), keying aside; each <Say> synthesized alone, the wavs' "
          "durations added up.")
    print("edges: of which the silence espeak-ng leaves before the first sound and after the last of each <Say> "
          "(Twilio pauses\n  between <Say>s too, by its own measure). words: as tests/ivr/test_call_length.py counts "
          f"them (÷ {BUDGET_WPM} × 60 = its seconds).")
    print("keys: keys pressed ('#' and '*' count); '+N said': answers spoken. prompts: TwiML answers heard up to "
          "there. longest prompt:\n  all its <Say>s; '—' when it waits for a number, not a choice (no budget).")
    print(f"call total: to reference + {KEY_SECONDS:.0f} s a key or spoken answer + the Gather's timeout for each "
          "silence (the French calls wait 8 s at the greeting).")
    print(f"Budgets hold at {BUDGET_WPM} words a minute: OVER marks a figure above its budget; at other speeds "
          "'(over)' is for information.")

    # Prompts that end in a choice: one line per prompt, calls that differ only by digits (NIR, dates) together.
    rows: dict[tuple, dict] = {}
    for p in run.played:
        for wpm in wpms:
            for prompt, seconds in figures(p, synth, wpm).choices:
                key = (p.language, prompt.step, tuple(re.sub(r"\d", "0", text) for text, _ in prompt.says))
                row = rows.setdefault(key, {"language": p.language, "prompt": prompt, "seconds": {}, "calls": []})
                row["seconds"].setdefault(wpm, []).append(seconds)
                label = p.call + ("/speech" if p.mode == "speech" else "")
                if label not in row["calls"]:
                    row["calls"].append(label)
    labels = {p.call + ("/speech" if p.mode == "speech" else "") for p in run.played}
    for r in rows.values():
        r["calls"] = ["every call"] if set(r["calls"]) == labels and len(labels) > 1 else r["calls"]
    long = [r for r in rows.values() if max(max(v) for v in r["seconds"].values()) > BUDGET_CHOICE]
    ref = BUDGET_WPM if BUDGET_WPM in wpms else wpms[0]
    long.sort(key=lambda r: (-max(r["seconds"][ref]), r["language"], r["prompt"].step))
    print()
    print(f"Prompts that end in a choice (a <Gather> of one key, or speech) longer than {BUDGET_CHOICE} s: {len(long)} "
          f"of the {len(rows)} heard (prompts that differ only by their digits, such as the NIR read back, together)")
    if long:
        speeds = " ".join(f"{f'{w} wpm':>11}" for w in wpms)
        line = f"{'lang':<4} {'step':<18} {speeds}  {'':<6} {'calls':<40} first words"
        print(line)
        print("-" * (len(line) + 40))
        for r in long:
            secs = " ".join(f"{span(r['seconds'][w]):>11}" for w in wpms)
            verdict = mark(max(r["seconds"][ref]), BUDGET_CHOICE, ref)
            print(f"{r['language']:<4} {r['prompt'].step:<18} {secs}  {verdict:<6} {', '.join(r['calls'])[:40]:<40} "
                  f"{first_words(r['prompt'], 9)}")
    if BUDGET_WPM in wpms:
        checked += len(rows)
        over += sum(1 for r in rows.values() if max(r["seconds"][BUDGET_WPM]) > BUDGET_CHOICE)
    return over, checked


# --- main -------------------------------------------------------------------------------------------------

def make_app(directory: Path):
    import logging

    from flask_babel import force_locale, gettext
    from flask_migrate import upgrade

    from app import create_app
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{directory / 'relais.db'}",
                      "SECRET_KEY": "bench-secret-key", "LOOKUP_KEY": "bench-lookup-key",
                      "TWILIO_AUTH_TOKEN": TOKEN, "PUBLIC_BASE_URL": BASE_URL})
    logging.disable(logging.INFO)  # alembic's "Running upgrade" lines
    try:
        with app.app_context():
            upgrade()
    finally:
        logging.disable(logging.NOTSET)
    logging.getLogger().setLevel(logging.WARNING)
    sorry = {"Sorry, something went wrong. Nothing was changed."}
    with app.test_request_context():
        for language in app.config["LANGUAGES"]:
            with force_locale(language):
                sorry.add(gettext("Sorry, something went wrong. Nothing was changed."))
    return app, sorry


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wpm", type=int, nargs="+", default=[150, 130], help="espeak-ng speeds, words a minute")
    parser.add_argument("--calls", nargs="+", choices=CALLS, default=list(CALLS))
    parser.add_argument("--languages", nargs="+", choices=LANGUAGES, default=list(LANGUAGES))
    parser.add_argument("--speech", nargs="*", choices=CALLS, default=["opposition"],
                        help="calls also answered by speech (of those in --calls; none with an empty list)")
    args = parser.parse_args()
    check_tools()
    if any(w < 80 or w > 450 for w in args.wpm):
        parser.error("--wpm: espeak-ng speaks 80 to 450 words a minute")

    started = time.perf_counter()
    from app.config import Config
    with tempfile.TemporaryDirectory(prefix="relais-call-audio-") as tmp:
        directory = Path(tmp)
        (directory / "wav").mkdir()
        app, sorry = make_app(directory)
        run = Run(app, sorry, recorded_caller_class())
        synth = Synth(directory / "wav")
        print(f"Relais phone calls, every <Say> synthesized: {tool_versions()}; voices "
              + ", ".join(f"{k} → espeak-ng -v {v}" for k, v in VOICES.items()))
        print(f"Python {platform.python_version()}, {platform.system()}, {os.cpu_count()} CPUs. App: the production "
              f"configuration (app/config.py) on a temporary SQLite database, migrated; production argon2 "
              f"(m = {Config.ARGON2_MEMORY_KIB // 1024} MiB, t = {Config.ARGON2_TIME_COST}, "
              f"p = {Config.ARGON2_PARALLELISM}): it costs CPU, no speech.")
        print("Webhooks signed with twilio's RequestValidator through the Flask test client (tests.conftest.Caller)."
              "\n")
        try:
            t = time.perf_counter()
            for name in args.calls:
                for language in args.languages:
                    run.played.append(play(run, name, language, speech=False))
                    if name in args.speech:
                        run.played.append(play(run, name, language, speech=True))
            calls_s = time.perf_counter() - t
            synth.prepare((text, VOICES[lang], wpm) for p in run.played for x in p.prompts[:p.end[0] + 1]
                          for text, lang in x.says for wpm in args.wpm)
            over, checked = report(run, synth, args.wpm)
        except Broken as exc:
            print(f"\nBROKEN: {exc}", file=sys.stderr)
            return 1
        except AssertionError as exc:  # Caller's checks: a webhook not answered 200 with TwiML
            print(f"\nBROKEN: a webhook failed: {exc!r}", file=sys.stderr)
            return 1
    print()
    if BUDGET_WPM in args.wpm:
        print(f"Over budget at {BUDGET_WPM} words a minute: {over} of {checked} figures (a measurement: the exit "
              "status does not depend on it).")
    else:
        print(f"No budget checked: the budgets hold at {BUDGET_WPM} words a minute, not in --wpm.")
    webhooks = sum(len(p.prompts) for p in run.played)
    print(f"{len(run.played)} call{'s' if len(run.played) != 1 else ''} ({webhooks} webhooks) in {calls_s:.1f} s; "
          f"{len(synth.seconds)} sentences synthesized in {synth.elapsed:.1f} s; "
          f"{time.perf_counter() - started:.1f} s in all.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
