"""Settings from the environment, and the domain's numbers as named settings with their defaults."""
import os


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


class Config:
    # --- secrets and services -------------------------------------------------
    SECRET_KEY = os.environ.get("SECRET_KEY")  # without it, create_app keeps one in instance/secret_key
    # Key of the HMAC that finds a person by NIR or phone without storing either in clear.
    LOOKUP_KEY = os.environ.get("LOOKUP_KEY") or os.environ.get("SECRET_KEY") or "dev-only-lookup-key"
    # Key of the HMAC that checks a letter's provisional code and a Vitale serial (docs/secrets.md); empty: the
    # LOOKUP_KEY. A key derived from it per purpose. To rotate it, set the new one and list the old ones in
    # SECRET_HASH_OLD_KEYS (comma-separated): rows made with them keep working and move to the new key when met.
    SECRET_HASH_KEY = os.environ.get("SECRET_HASH_KEY") or None
    SECRET_HASH_OLD_KEYS = tuple(k for k in os.environ.get("SECRET_HASH_OLD_KEYS", "").split(",") if k)
    # Codes and serials stored as argon2 before they were keyed may remain ("1"): every keyed check then also makes
    # one argon2 verification, so that an old row, a new one and no row take the same time. "0" once none is left.
    LEGACY_SECRET_HASHES = os.environ.get("LEGACY_SECRET_HASHES", "1") == "1"
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL", "sqlite:///relais.db")
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    # A read replica for the history pages (app/replica.py); empty: they read the primary.
    DATABASE_REPLICA_URL = os.environ.get("DATABASE_REPLICA_URL", "")
    TWILIO_ACCOUNT_SID = os.environ.get("TWILIO_ACCOUNT_SID", "")
    TWILIO_AUTH_TOKEN = os.environ.get("TWILIO_AUTH_TOKEN", "")
    TWILIO_FROM_NUMBER = os.environ.get("TWILIO_FROM_NUMBER", "")
    TWILIO_API_URL = os.environ.get("TWILIO_API_URL", "https://api.twilio.com")
    TWILIO_TIMEOUT = _int("TWILIO_TIMEOUT", 10)  # seconds a call to Twilio's API may take before it is retried
    # Key that encrypts a code while its message waits for the carrier (default: derived from SECRET_KEY).
    SEAL_KEY = os.environ.get("SEAL_KEY")
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "")
    # The Ed25519 key that signs the audit's roots (app/audit.py), never in the database: 32 bytes in base64, or
    # a file (PEM, or the base64 text). Without either it is derived from SECRET_KEY (the demo, the tests).
    AUDIT_SIGNING_KEY = os.environ.get("AUDIT_SIGNING_KEY")
    AUDIT_SIGNING_KEY_FILE = os.environ.get("AUDIT_SIGNING_KEY_FILE")
    # The public keys roots are checked with (base64, comma-separated: the current one and retired ones), so
    # that `audit verify` can run where the signing key is not; default: the signing key's own.
    AUDIT_PUBLIC_KEYS = os.environ.get("AUDIT_PUBLIC_KEYS", "")
    OPERATOR_API_KEY = os.environ.get("OPERATOR_API_KEY", "")
    # How many proxies (load balancer, TLS front) sit before gunicorn and add X-Forwarded-For: the limits per
    # client address then apply to the browser's address, not to the proxy's (0: none, e.g. on loopback).
    TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0"))
    # The proxies' own addresses (comma-separated addresses or networks): X-Forwarded-For is believed only from
    # them, so a client reaching gunicorn directly cannot choose the address its limits are counted under.
    TRUSTED_PROXY_ADDRESSES = tuple(a.strip() for a in os.environ.get("TRUSTED_PROXY_ADDRESSES", "").split(",")
                                    if a.strip())
    SMTP_HOST = os.environ.get("SMTP_HOST", "")  # e-mails; without it they go to the log like SMS
    SMTP_PORT = _int("SMTP_PORT", 25)
    MAIL_FROM = os.environ.get("MAIL_FROM", "Relais <ne-pas-repondre@relais.invalid>")

    # The voice that speaks each language (Amazon Polly voices through Twilio).
    VOICE_FR = os.environ.get("VOICE_FR", "Polly.Lea")
    VOICE_EN = os.environ.get("VOICE_EN", "Polly.Amy")
    VOICE_LANGUAGE_FR = "fr-FR"
    VOICE_LANGUAGE_EN = "en-GB"

    # --- languages and time ---------------------------------------------------
    BABEL_DEFAULT_LOCALE = "fr"
    BABEL_DEFAULT_TIMEZONE = "Europe/Paris"
    BABEL_TRANSLATION_DIRECTORIES = os.path.join(os.path.dirname(os.path.dirname(__file__)), "i18n")
    LANGUAGES = ("fr", "en")

    # --- domain numbers (SPEC §2) ---------------------------------------------
    OPPOSITION_WINDOW_DAYS = _int("OPPOSITION_WINDOW_DAYS", 42)       # 6 weeks after the letter
    PROVISIONAL_CODE_VALID_DAYS = _int("PROVISIONAL_CODE_VALID_DAYS", 42)
    ARCHIVE_YEARS = _int("ARCHIVE_YEARS", 10)                         # closed space kept 10 years
    DELETION_MAX_MONTHS = _int("DELETION_MAX_MONTHS", 3)              # deletion on request: 3 months at most
    MASKED_IN_EMERGENCY_DEFAULT = os.environ.get("MASKED_IN_EMERGENCY_DEFAULT", "0") == "1"
    REMINDER_DAYS = tuple(int(d) for d in os.environ.get("REMINDER_DAYS", "14,3").split(","))
    AUTONOMY_AGE = _int("AUTONOMY_AGE", 16)
    # The phone line says why closing is offered instead of saying no while the letter is this recent.
    RECENT_LETTER_DAYS = _int("RECENT_LETTER_DAYS", 183)
    HELPERS_PER_PERSON = _int("HELPERS_PER_PERSON", 3)    # trusted helpers a person may name at most
    PEOPLE_PER_HELPER = _int("PEOPLE_PER_HELPER", 5)      # people a trusted helper may help at most
    MAJORITY_AGE = _int("MAJORITY_AGE", 18)

    # --- a person to talk to (SPEC §2) -----------------------------------------
    # When the phone line may put a caller through to an adviser: OpenStreetMap opening_hours syntax, read in
    # Europe/Paris, `PH` being France's public holidays (app/services/agents.py). Checked when the app starts.
    OPENING_HOURS = os.environ.get("OPENING_HOURS") or "Mo-Fr 08:30-17:30; PH off"
    # The advisers' line: an E.164 number, or "queue:NAME" for a Twilio queue; empty: no transfer, callbacks only.
    AGENT_NUMBER = os.environ.get("AGENT_NUMBER", "").strip()
    AGENT_RING_SECONDS = _int("AGENT_RING_SECONDS", 25)  # how long the adviser's line rings before a callback
    AGENT_LANGUAGE = os.environ.get("AGENT_LANGUAGE", "fr")  # the language an adviser is told about a call in

    # --- identification and sessions (QUALITY §5) ----------------------------
    BACKOFF_AFTER_FAILURES = _int("BACKOFF_AFTER_FAILURES", 5)
    LOCK_AFTER_FAILURES = _int("LOCK_AFTER_FAILURES", 10)
    LOCK_HOURS = _int("LOCK_HOURS", 24)
    IP_FAILURES_PER_HOUR = _int("IP_FAILURES_PER_HOUR", 50)
    SESSION_IDLE_MINUTES = _int("SESSION_IDLE_MINUTES", 15)
    SESSION_MAX_HOURS = _int("SESSION_MAX_HOURS", 12)
    HISTORY_PAGE_SIZE = _int("HISTORY_PAGE_SIZE", 20)

    # --- bulk imports (issue 16): rows a transaction, and a progress line every so many rows in a log ---------
    IMPORT_CHUNK_ROWS = _int("IMPORT_CHUNK_ROWS", 1000)
    IMPORT_PROGRESS_EVERY = _int("IMPORT_PROGRESS_EVERY", 10000)

    # --- the desk's staff (issue 14): passphrase + TOTP, a lockout, sessions of their own ---------------
    STAFF_ENROLMENT_HOURS = _int("STAFF_ENROLMENT_HOURS", 24)     # an enrolment link works once, this long
    STAFF_LOCK_AFTER = _int("STAFF_LOCK_AFTER", 5)                # failed sign-ins before the account is locked
    STAFF_LOCK_MINUTES = _int("STAFF_LOCK_MINUTES", 15)
    STAFF_CLIENT_FAILURES_PER_HOUR = _int("STAFF_CLIENT_FAILURES_PER_HOUR", 30)
    STAFF_SESSION_IDLE_MINUTES = _int("STAFF_SESSION_IDLE_MINUTES", 30)
    STAFF_SESSION_MAX_HOURS = _int("STAFF_SESSION_MAX_HOURS", 10)
    DESK_TRANSFER_MINUTES = _int("DESK_TRANSFER_MINUTES", 10)  # the code a whisper gives the adviser works this long
    DESK_TRANSFER_TRIES = _int("DESK_TRANSFER_TRIES", 5)       # wrong transfer codes one member may type in 15 min

    # New letter codes and SMS sign-in codes: a flood of requests cannot flood a person's phone or letterbox.
    NEW_CODE_PER_15_MINUTES = _int("NEW_CODE_PER_15_MINUTES", 3)
    NEW_CODE_PER_DAY = _int("NEW_CODE_PER_DAY", 10)
    SENDS_PER_CLIENT_HOUR = _int("SENDS_PER_CLIENT_HOUR", 30)   # requests that send a code, per address or number

    # --- one-time codes by SMS (ASVS 5.0 6.5.5, NIST SP 800-63B; Mon espace santé uses 15 minutes) ----
    OTP_VALID_MINUTES = _int("OTP_VALID_MINUTES", 10)
    OTP_MAX_TRIES = _int("OTP_MAX_TRIES", 5)
    OTP_PER_15_MINUTES = _int("OTP_PER_15_MINUTES", 3)
    OTP_PER_DAY = _int("OTP_PER_DAY", 10)

    # argon2id at OWASP's minimum (m = 19 MiB, t = 2, p = 1): about 20 ms a verification here. For staff
    # passphrases and the 6-digit SMS codes; letter codes and Vitale serials are keyed hashes (SECRET_HASH_KEY).
    ARGON2_TIME_COST = _int("ARGON2_TIME_COST", 2)
    ARGON2_MEMORY_KIB = _int("ARGON2_MEMORY_KIB", 19 * 1024)
    ARGON2_PARALLELISM = _int("ARGON2_PARALLELISM", 1)

    # --- web hardening ----------------------------------------------------------
    # No form, webhook or event is larger than a few kilobytes: anything above is refused (413) before parsing.
    MAX_CONTENT_LENGTH = _int("MAX_CONTENT_LENGTH", 16 * 1024)
    MAX_FORM_MEMORY_SIZE = MAX_CONTENT_LENGTH
    MAX_FORM_PARTS = 100
    # Access events: refused when before Mon espace santé existed or later than this many hours from now.
    ACCESS_EVENTS_SINCE = os.environ.get("ACCESS_EVENTS_SINCE", "2021-01-01")
    ACCESS_EVENTS_AHEAD_HOURS = _int("ACCESS_EVENTS_AHEAD_HOURS", 24)
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = PUBLIC_BASE_URL.startswith("https://")
    SESSION_COOKIE_NAME = "__Host-relais" if SESSION_COOKIE_SECURE else "relais"
    WTF_CSRF_TIME_LIMIT = None  # the server-side session bounds the token's life
    # Brotli where the browser offers it, gzip for the rest (older phones), also for files sent as streams
    # (the stylesheet): Flask-Compress streams without gzip unless told.
    COMPRESS_ALGORITHM = ["br", "gzip"]
    COMPRESS_ALGORITHM_STREAMING = ["br", "gzip"]
    COMPRESS_MIMETYPES = ["text/html", "text/css", "application/json"]
    COMPRESS_MIN_SIZE = 200
