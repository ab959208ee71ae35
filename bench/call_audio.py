"""Spoken length of whole phone calls: every <Say> synthesized with espeak-ng, at 150 and 130 words a minute.

    .venv/bin/python bench/call_audio.py [--wpm 150 130] [--calls opposition closure emergency history]
                                         [--languages fr en] [--speech opposition closure emergency history]

Issue 12, item 1. Plays whole calls through the Flask test client with webhooks signed as Twilio signs them
(tests.conftest's Caller), on a temporary SQLite database migrated in-process (flask_migrate's upgrade(), as
tests/conftest.py does), the production configuration (app/config.py) and production argon2 (ARGON2_* variables
removed; it costs CPU, no speech):

- opposition: a letter 10 days old, menu "say no", identification, confirm: up to the spoken reference;
- closure: a letter 60 days old (a new code, as a person would ask), menu "close", keep the data, confirm;
- emergency: a letter 60 days old, menu "emergency", change the SAMU's access (refuse it), confirm;
- history: a letter 60 days old and 5 accesses recorded, menu "history": up to the end of the third access read.

The first answer of a call is the step "menu": the French greeting, with «For English, press 9.» in the English
voice, then at once the French main menu. Each call is played in French (the caller answers the menu) and in
English (9 as soon as the first <Say> in the English voice is said: a key cuts a <Say> short, Twilio's barge-in,
so that first answer counts up to that sentence and is no prompt heard whole), on the keypad and, for the calls of
`--speech` (all four by default), by speech. Identification is four number steps (NIR, card serial, date of
birth, the letter's code), then at once the action. By speech the caller says all a person would: the menu choice
and the yes/no answers (the first word of the step's vocabulary for that key, in the call's language; "English"
for the other language), the NIR in words by the groups of the card (1 2 2 2 3 3 2 digits, num2words; a group
with a leading zero digit by digit), the card serial digit by digit, the date of birth («quatorze mars mille neuf
cent cinquante-deux», "the fourteenth of March nineteen fifty-two": num2words, Babel's month names), the code in
the radio alphabet of ivr/heard.py RADIO («A comme Anatole», "A as in Alpha", digits as words); each spoken part
is read back (step "heard") and confirmed with the first word of that step's "1" vocabulary. Keys and words are
found in ivr/script.py STEPS by where they lead, and the step the server is at is checked before each answer, so
a renumbered or reworded script is followed and a changed one is said.

Every <Say> is synthesized alone with `espeak-ng -v fr|en-gb -s WPM -w FILE TEXT` (its `language` attribute,
fr-FR or en-GB, picks the voice) and measured with `soxi -D FILE`; durations are cached by (text, voice, wpm).
Per call it prints the spoken seconds from the greeting to the sentence that says the reference (the history: to
the end of the third access), keying aside; the words as spoken (tests/ivr/spoken.py, as
tests/ivr/test_word_budget.py counts them); the keys pressed, the answers spoken, the seconds of <Pause>, the
prompts (TwiML answers) heard, the longest prompt that ends in a choice; and the call's total: that speech, plus
1 s a key ('#' and '*' count), a spoken answer's words at 150 words a minute (at least 1 s), the <Pause>s and, for
a silence, the Gather's timeout (none in these calls). A prompt that ends in a choice is a <Gather numDigits="1">
heard whole, measured as its step's own prompt (tests.ivr.conftest.prompt_of: lead-ins such as the greeting or «I
did not hear anything», and the history's entries, content read out, left out), each sentence in the call's
voice. Then those prompts, the longest first (all those over 15 s, and at least 5), and the longest single <Say>
of each call. Figures are printed next to their budgets (at 150 words a minute) and those over are marked OVER; a
budget missed is a measurement, not a failure.

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
KEY_SECONDS = 1.0       # a key pressed; the least a spoken answer takes
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

CALLER_WPM = 150        # how fast the caller speaks their answers (whatever the voice's speed)


@dataclass
class Prompt:
    """One TwiML answer: what the caller did just before it, its <Say>s, <Pause>s and <Gather>, and the step's own
    prompt (tests.ivr.conftest.prompt_of: lead-ins such as the greeting and the history's entries left out)."""
    keys: int                       # keys pressed to get it
    said: str                       # words spoken to get it ("" for none)
    said_seconds: float             # how long saying them takes: their words at CALLER_WPM, at least 1 s
    wait: float                     # seconds of silence waited to get it
    says: list[tuple[str, str]]     # (text, language attribute), as heard: a barge-in cuts them short
    pauses: float                   # seconds of <Pause>
    gather: dict
    step: str = ""
    label: str = ""                 # the step, and for a read-back what it reads back: "heard (nir)"
    language: str = ""              # the call's language at this step: fr or en
    own: list[str] = field(default_factory=list)  # the step's own sentences
    cut: bool = False               # a key cut it short: not a prompt heard whole

    @property
    def choice(self) -> bool:
        """A prompt that ends in a choice: a <Gather> of one key (number steps take speech too), heard whole."""
        return self.gather.get("numDigits") == "1" and not self.cut


def spoken_seconds(words: str, language: str) -> float:
    from tests.ivr.spoken import spoken_words
    return max(KEY_SECONDS, spoken_words(words, language) * 60 / CALLER_WPM)


def recorded_caller_class():
    from tests.conftest import Caller
    from tests.ivr.conftest import call_state, prompt_of, step

    class RecordedCaller(Caller):
        """tests.conftest's Caller that keeps every answer, with the keys, words or silence that led to it."""

        def __init__(self, app, **kw):
            super().__init__(app, **kw)
            self.prompts: list[Prompt] = []
            self._before = (0, "", 0.0, 0.0)

        def _answer(self, response):
            if response.status_code == 200 and response.mimetype == "text/xml":
                root = ET.fromstring(response.get_data(as_text=True))
                gather = root.find(".//Gather")
                self.prompts.append(Prompt(*self._before, [(el.text or "", el.get("language", ""))
                                                           for el in root.iter("Say")],
                                           sum(float(el.get("length", "1")) for el in root.iter("Pause")),
                                           dict(gather.attrib) if gather is not None else {}))
                self._before = (0, "", 0.0, 0.0)
            result = super()._answer(response)
            p = self.prompts[-1]
            if self.ended:
                p.step, p.own = step(self.app, self), []
            else:
                p.step, p.own = prompt_of(self.app, self)
            p.language = call_state(self.app, self).language
            p.label = p.step
            if p.step == "heard" and len(self.prompts) > 1:
                p.label = f"heard ({self.prompts[-2].step})"
            return result

        def press(self, digits: str):
            self._before = (len(digits), "", 0.0, 0.0)  # every key the person presses, the finishing '#' too
            return super().press(digits)

        def speak(self, words: str):
            language = self.prompts[-1].language if self.prompts else "fr"
            self._before = (0, words, spoken_seconds(words, language), 0.0)
            return super().speak(words)

        def silence(self):
            self._before = (0, "", 0.0, float(self.gather.get("timeout", 0)))
            return super().silence()

    return RecordedCaller


@dataclass
class Played:
    call: str
    language: str
    mode: str                       # keypad or speech
    prompts: list[Prompt]
    end: tuple[int, int]            # (prompt, say) of the last sentence counted

    @property
    def label(self) -> str:
        return f"{self.call}/{self.mode}"


@dataclass
class Run:
    app: object
    sorry: set[str]
    caller_class: type
    voice: dict[str, str]           # the call's language (fr, en) -> the espeak-ng voice of its <Say>s
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
    words = script.STEPS[step].words
    if words is None:
        raise Broken(f"ivr/script.py: step {step!r} has no words, it takes no spoken choice")
    with run.app.test_request_context(), force_locale(language):
        vocabulary = words()
    if key not in vocabulary:
        raise Broken(f"ivr/script.py: step {step!r} has no words for its key {key!r}")
    return vocabulary[key].split(",")[0].strip()


def answer(run: Run, c, step: str, target: str, speech: bool, language: str) -> None:
    expect(c, step)
    key = key_to(step, target)
    if speech:
        c.speak(word_for(run, language, step, key))
    else:
        c.press(key)


def barge_in(run: Run, c) -> None:
    """The English caller answers as soon as the greeting offers English (the first <Say> in another voice than
    the French one): a key, or speech, cuts a <Say> short (Twilio's barge-in), so the first answer is heard up
    to that sentence, and is no prompt heard whole."""
    first = c.prompts[0]
    french = run.app.config["VOICE_LANGUAGE_FR"]
    at = next((i for i, (_, lang) in enumerate(first.says) if lang != french), None)
    if at is None:
        raise Broken(f"the first answer offers no other language in its own voice: {' '.join(c.last)[:160]}")
    first.says, first.cut = first.says[:at + 1], True


def to_english(run: Run, c, speech: bool) -> None:
    """9 at the first menu, or "English" said (the first word of the French vocabulary of that key, if not)."""
    from ivr.voice import understood
    expect(c, "menu")
    key = key_to("menu", "do:switch_language")
    barge_in(run, c)
    if not speech:
        c.press(key)
    else:
        c.speak("English" if understood("menu", "fr", "English") == key else word_for(run, "fr", "menu", key))
    expect(c, "menu")
    if c.prompts[-1].language != "en":
        raise Broken(f"the call is still in {c.prompts[-1].language!r} after the key {key} at the first menu")


# What a person says for each part of identification, in the call's language.

def in_words(digits: str, language: str) -> str:
    """A number as a person says it: by the groups of the Vitale card (1 2 2 2 3 3 2), a group with a leading
    zero digit by digit, a Corsica letter (2A, 2B) as its letter."""
    from num2words import num2words
    said, at = [], 0
    for size in (1, 2, 2, 2, 3, 3, 2):
        group, at = digits[at:at + size], at + size
        if not group:
            break
        if group.isdigit() and not group.startswith("0"):
            said.append(num2words(int(group), lang=language))
        else:
            said += [num2words(int(ch), lang=language) if ch.isdigit() else ch for ch in group]
    return " ".join(said)


def digit_by_digit(digits: str, language: str) -> str:
    from num2words import num2words
    return " ".join(num2words(int(d), lang=language) for d in digits)


def date_in_words(day: date, language: str) -> str:
    """«quatorze mars mille neuf cent cinquante-deux», "the fourteenth of March nineteen fifty-two"."""
    from babel.dates import format_date
    from num2words import num2words
    month = format_date(day, "MMMM", locale=language)
    if language == "fr":
        first = num2words(day.day, lang="fr", to="ordinal") if day.day == 1 else num2words(day.day, lang="fr")
        return f"{first} {month} {num2words(day.year, lang='fr')}"
    return f"the {num2words(day.day, lang='en', to='ordinal')} of {month} {num2words(day.year, lang='en', to='year')}"


def spelled(code: str, language: str) -> str:
    """The letter's code character by character: «A comme Anatole, trois, …», "A as in Alpha, three, …"."""
    from num2words import num2words

    from ivr.heard import RADIO
    link = "comme" if language == "fr" else "as in"
    return ", ".join(num2words(int(ch), lang=language) if ch.isdigit() else f"{ch} {link} {RADIO[language][ch]}"
                     for ch in code.upper() if ch.isalnum())


def tell(run: Run, c, step: str, words: str, language: str) -> None:
    """A part of identification said aloud, read back (step "heard"), and confirmed by voice."""
    from ivr import script
    expect(c, step)
    if not script.STEPS[step].spoken:
        raise Broken(f"ivr/script.py: step {step!r} takes no spoken number any more")
    c.speak(words)
    expect(c, "heard")
    answer(run, c, "heard", "do:confirm_heard", True, language)


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


GOALS = {"opposition": "do:goal_change", "closure": "do:goal_change", "emergency": "do:goal_emergency",
         "history": "do:goal_history"}
FIRST_STEP = {"opposition": "oppose", "closure": "close", "emergency": "emergency", "history": "history"}


def play(run: Run, name: str, language: str, speech: bool) -> Played:
    from app.domain.identifiers import keypad_form
    from tests.ivr.conftest import REFERENCE, record_accesses
    holder = enrol(run, days_ago=10 if name == "opposition" else 60)
    if name == "history":
        record_accesses(run.app, holder, HISTORY_ACCESSES)  # "Dr Pro 0" the newest ... "Dr Pro 4"
    c = run.caller_class(run.app, caller=holder.phone)

    c.start()  # the greeting, then at once the French main menu
    expect(c, "menu")
    if language == "en":
        to_english(run, c, speech)
    answer(run, c, "menu", GOALS[name], speech, language)

    if speech:
        tell(run, c, "nir", in_words(holder.nir, language), language)
        tell(run, c, "serial", digit_by_digit(holder.vitale_serial, language), language)
        tell(run, c, "birth", date_in_words(holder.birth_date, language), language)
        tell(run, c, "code", spelled(holder.code, language), language)
    else:
        expect(c, "nir")
        c.press(holder.nir.replace("A", "*1").replace("B", "*2") + "#")
        expect(c, "serial")
        c.press(holder.vitale_serial + "#")
        expect(c, "birth")
        c.press(holder.birth_date.strftime("%d%m%Y") + "#")
        expect(c, "code")
        c.press(keypad_form(holder.code) + "#")
    expect(c, FIRST_STEP[name])  # identified at once: no read-back of the four parts

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
        if p.language not in run.voice:
            raise Broken(f"step {p.step!r} in language {p.language!r}: no espeak-ng voice for it")
    return Played(name, language, "speech" if speech else "keypad", c.prompts, end)


# --- figures ----------------------------------------------------------------------------------------------

@dataclass
class Figures:
    to_end: float                   # spoken seconds from the greeting to the last sentence counted
    edges: float                    # of which espeak-ng's silence before and after each <Say>
    words: int                      # words as spoken (tests/ivr/spoken.py)
    keys: int
    said: int                       # spoken answers
    said_seconds: float             # how long the caller spoke
    wait: float
    pauses: float                   # seconds of <Pause>
    prompts: int
    longest: float                  # the longest prompt that ends in a choice (its own sentences)
    longest_prompt: Prompt | None
    total: float
    choices: list[tuple[Prompt, float]]  # prompts heard that end in a choice, with their own seconds
    longest_say: tuple[float, str, str, str]  # (seconds, text, language attribute, step): the longest <Say>


def heard_until_end(p: Played) -> list[tuple[Prompt, list[tuple[str, str]]]]:
    """The prompts heard up to the last sentence counted, with their <Say>s heard."""
    last, last_say = p.end
    return [(x, x.says if i < last else x.says[:last_say + 1]) for i, x in enumerate(p.prompts[:last + 1])]


def figures(p: Played, run: Run, synth: Synth, wpm: int) -> Figures:
    from tests.ivr.spoken import spoken_words
    heard = heard_until_end(p)
    counted = [(say, x.step) for x, says in heard for say in says]

    def seconds(says) -> float:
        return sum(synth(text, VOICES[lang], wpm) for text, lang in says)

    choices = [(x, sum(synth(text, run.voice[x.language], wpm) for text in x.own)) for x, _ in heard if x.choice]
    longest_prompt, longest = max(choices, key=lambda pair: pair[1]) if choices else (None, 0.0)
    keys, said = sum(x.keys for x, _ in heard), sum(1 for x, _ in heard if x.said)
    said_seconds, wait = sum(x.said_seconds for x, _ in heard), sum(x.wait for x, _ in heard)
    pauses = sum(x.pauses for x, _ in heard)
    to_end = seconds(say for say, _ in counted)
    longest_say = max(((synth(text, VOICES[lang], wpm), text, lang, step) for (text, lang), step in counted),
                      key=lambda t: t[0])
    return Figures(to_end, sum(synth.edge(text, VOICES[lang], wpm) for (text, lang), _ in counted),
                   sum(spoken_words(text, lang) for (text, lang), _ in counted), keys, said, said_seconds, wait,
                   pauses, len(heard), longest, longest_prompt,
                   to_end + keys * KEY_SECONDS + said_seconds + pauses + wait, choices, longest_say)


def first_words(sentences: list[str], n: int = 7) -> str:
    words = " ".join(sentences).split()
    return " ".join(words[:n]) + (" …" if len(words) > n else "")


def mark(value: float, budget: float, wpm: int) -> str:
    over = value > budget
    if wpm == BUDGET_WPM:
        return "OVER" if over else "ok"
    return "(over)" if over else ""


def span(values: list[float]) -> str:
    low, high = min(values), max(values)
    return f"{high:.1f} s" if high - low < 0.05 else f"{low:.1f}–{high:.1f} s"


def clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[:n - 1] + "…"


def report(run: Run, synth: Synth, wpms: list[int]) -> tuple[int, int]:
    """Prints the tables; returns (figures over budget at 150 wpm, figures with a budget at 150 wpm)."""
    over = checked = 0
    ref = BUDGET_WPM if BUDGET_WPM in wpms else wpms[0]
    header = (f"{'call':<11} {'lang':<4} {'input':<6} {'wpm':>3}  {'to reference':>12} {'budget':>6} {'':<6} "
              f"{'edges':>6} {'words':>5} {'keys':>4} {'said':>10} {'pause':>5} {'prompts':>7}  "
              f"{'longest choice':>14} {'':<6} {'at step':<18} {'call total':>10} {'≤ 180 s':<6}")
    print(header)
    print("-" * len(header))
    for p in run.played:
        for wpm in wpms:
            f = figures(p, run, synth, wpm)
            budget = BUDGET_TO_END[p.call]
            said = f"{f.said} ({f.said_seconds:.0f} s)" if f.said else "—"
            print(f"{p.call:<11} {p.language:<4} {p.mode:<6} {wpm:>3}  {f.to_end:>10.1f} s {budget:>4} s "
                  f"{mark(f.to_end, budget, wpm):<6} {f.edges:>4.1f} s {f.words:>5} {f.keys:>4} {said:>10} "
                  f"{f.pauses:>3.0f} s {f.prompts:>7}  {f.longest:>12.1f} s {mark(f.longest, BUDGET_CHOICE, wpm):<6} "
                  f"{f.longest_prompt.label if f.longest_prompt else '—':<18} "
                  f"{f.total:>8.1f} s {mark(f.total, BUDGET_CALL, wpm):<6}")
            if wpm == BUDGET_WPM:
                checked += 2
                over += (f.to_end > budget) + (f.total > BUDGET_CALL)
    # Twilio waits speechTimeout seconds of silence after speech before it posts (a number; "auto" is short).
    timeouts = [sum(float(before.gather["speechTimeout"]) for before, x in zip(p.prompts, p.prompts[1:p.end[0] + 1])
                    if x.said and before.gather.get("speechTimeout", "").isdigit())
                for p in run.played if p.mode == "speech"]
    print()
    print("to reference: spoken seconds from the greeting to the sentence that says the reference, included (the "
          "history: to the end of\n  the third access read), keying aside; each <Say> synthesized alone, the wavs' "
          "durations added up. The English calls count\n  the first answer up to «For English, press 9.» (its first "
          "<Say> in the English voice): the caller's key cuts the rest.")
    print("edges: of which the silence espeak-ng leaves before the first sound and after the last of each <Say> "
          "(Twilio pauses between\n  <Say>s too, by its own measure). words: as spoken, as "
          f"tests/ivr/test_word_budget.py counts them (tests/ivr/spoken.py; ÷ {BUDGET_WPM} × 60 = its seconds).")
    print("keys: keys pressed ('#' and '*' count). said: answers spoken, and how long the caller takes to say them "
          f"(their words at {CALLER_WPM} words\n  a minute, at least {KEY_SECONDS:.0f} s each). pause: seconds of "
          "<Pause> heard. prompts: TwiML answers heard up to the end.")
    print("longest choice: the longest prompt that ends in a choice (a <Gather> of one key) heard whole, as its step "
          "says it (tests.ivr.conftest\n  .prompt_of: its own sentences, without lead-ins or the history's entries), "
          "in the call's voice; 'at step': its step ('heard (nir)': a spoken NIR read back).")
    print(f"call total: to reference + {KEY_SECONDS:.0f} s a key + the seconds spoken + pauses + the Gather's "
          "timeout for each silence (none in these calls).")
    if timeouts:
        print("  Not counted: after each spoken number Twilio waits its speechTimeout before it posts "
              f"({span(timeouts)} a speech call).")
    print(f"Budgets hold at {BUDGET_WPM} words a minute: OVER marks a figure above its budget; at other speeds "
          "'(over)' is for information.")

    # Prompts that end in a choice: one line per prompt; those that differ only by digits (NIR, dates) together,
    # and every read-back of one kind of part together (a spoken code is spelled with its own letters).
    rows: dict[tuple, dict] = {}
    labels = {p.label for p in run.played}
    for p in run.played:
        for wpm in wpms:
            for prompt, seconds in figures(p, run, synth, wpm).choices:
                text = () if prompt.step == "heard" else tuple(re.sub(r"\d", "0", s) for s in prompt.own)
                key = (prompt.language, prompt.label, text)
                row = rows.setdefault(key, {"language": prompt.language, "prompt": prompt, "seconds": {},
                                            "calls": []})
                row["seconds"].setdefault(wpm, []).append(seconds)
                if p.label not in row["calls"]:
                    row["calls"].append(p.label)
    for r in rows.values():
        r["calls"] = ["every call"] if set(r["calls"]) == labels and len(labels) > 1 else r["calls"]
    ranked = sorted(rows.values(), key=lambda r: (-max(r["seconds"][ref]), r["language"], r["prompt"].label))
    long = [r for r in ranked if max(r["seconds"][ref]) > BUDGET_CHOICE]
    shown = ranked[:max(len(long), 5)]
    print()
    print(f"Prompts that end in a choice, as their step says them, the longest first: {len(long)} of the {len(rows)} "
          f"heard are over {BUDGET_CHOICE} s at {ref} words a minute;\nshown: those, and at least the 5 longest. "
          "Prompts that differ only by their digits are one line, and so is each kind of read-back.")
    speeds = " ".join(f"{f'{w} wpm':>11}" for w in wpms)
    line = f"{'lang':<4} {'step':<18} {speeds}  {'':<6} {'calls':<40} first words"
    print(line)
    print("-" * (len(line) + 40))
    for r in shown:
        secs = " ".join(f"{span(r['seconds'][w]):>11}" for w in wpms)
        verdict = mark(max(r["seconds"][ref]), BUDGET_CHOICE, ref)
        print(f"{r['language']:<4} {r['prompt'].label:<18} {secs}  {verdict:<6} {clip(', '.join(r['calls']), 40):<40} "
              f"{first_words(r['prompt'].own, 9)}")
    if BUDGET_WPM in wpms:
        checked += len(rows)
        over += sum(1 for r in rows.values() if max(r["seconds"][BUDGET_WPM]) > BUDGET_CHOICE)

    print()
    print("The longest single <Say> of each call (up to the end counted)")
    speeds = " ".join(f"{f'{w} wpm':>9}" for w in wpms)
    line = f"{'call':<11} {'lang':<4} {'input':<6} {speeds}  {'step':<18} text"
    print(line)
    print("-" * (len(line) + 80))
    for p in run.played:
        by_wpm = {w: figures(p, run, synth, w).longest_say for w in wpms}
        _, text, lang, step = by_wpm[ref]
        secs = " ".join(f"{synth(text, VOICES[lang], w):>7.1f} s" for w in wpms)
        print(f"{p.call:<11} {p.language:<4} {p.mode:<6} {secs}  {step:<18} {clip(text, 100)}")
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
    parser.add_argument("--speech", nargs="*", choices=CALLS, default=list(CALLS),
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
        voices = {language: VOICES.get(app.config[f"VOICE_LANGUAGE_{language.upper()}"], "")
                  for language in LANGUAGES}
        if not all(voices.values()):
            print(f"BROKEN: a VOICE_LANGUAGE_* of app/config.py has no espeak-ng voice in {sorted(VOICES)}",
                  file=sys.stderr)
            return 1
        run = Run(app, sorry, recorded_caller_class(), voices)
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
            synth.prepare([(text, VOICES[lang], wpm) for p in run.played for x, says in heard_until_end(p)
                           for text, lang in says for wpm in args.wpm]
                          + [(text, run.voice[x.language], wpm) for p in run.played for x, _ in heard_until_end(p)
                             if x.choice for text in x.own for wpm in args.wpm])
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
