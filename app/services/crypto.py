"""Hashing of every secret and keyed look-ups: argon2id for what people choose, a keyed HMAC for random codes.

docs/secrets.md gives the reasoning. In short: argon2id (parameters in config) is for low-entropy secrets a person
chooses or remembers (staff passphrases, and the 6-digit SMS codes). A letter's provisional code (about 59 bits,
random) and a Vitale card serial are checked by HMAC-SHA-256 under a key from the environment, never in the
database, derived per purpose and bound to the person's NIR look-up: a copy of the database alone cannot test a
single guess, and a hash cannot be moved to another person's row. The stored form names itself
(`hmac-sha256$<key id>$<hex>`), so rows written as argon2 before it keep working and are rewritten when met.
"""
import hashlib
import hmac
from functools import lru_cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

KEYED = "hmac-sha256$"
ARGON2 = "$argon2"


@lru_cache(maxsize=4)
def _hasher(time_cost: int, memory_kib: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism,
                          hash_len=32, salt_len=16, type=Type.ID)


def hasher() -> PasswordHasher:
    c = current_app.config
    return _hasher(c["ARGON2_TIME_COST"], c["ARGON2_MEMORY_KIB"], c["ARGON2_PARALLELISM"])


def hash_secret(value: str) -> str:
    """argon2id: for a secret a person chooses (a passphrase) or a short one (a 6-digit code)."""
    return hasher().hash(value)


@lru_cache(maxsize=4)
def _dummy_hash(time_cost: int, memory_kib: int, parallelism: int) -> str:
    return _hasher(time_cost, memory_kib, parallelism).hash("relais-dummy-secret")


def _argon2_dummy(value: str) -> None:
    c = current_app.config
    stored = _dummy_hash(c["ARGON2_TIME_COST"], c["ARGON2_MEMORY_KIB"], c["ARGON2_PARALLELISM"])
    try:
        hasher().verify(stored, value + "\x00")
    except (VerificationError, InvalidHashError):
        pass


def _argon2_verify(stored: str, value: str) -> bool:
    try:
        return hasher().verify(stored, value)
    except (VerificationError, InvalidHashError):
        return False


# --- keyed hashes (HMAC-SHA-256) of random codes and card serials ---------------------------------------

def _current_key() -> str:
    c = current_app.config
    return c.get("SECRET_HASH_KEY") or c["LOOKUP_KEY"]


def _keys() -> tuple[str, ...]:
    """The current key first, then the older ones still accepted (SECRET_HASH_OLD_KEYS) while rows move on."""
    return (_current_key(), *current_app.config.get("SECRET_HASH_OLD_KEYS", ()))


@lru_cache(maxsize=32)
def _derived(key: str, purpose: str) -> bytes:
    """One key per purpose (code, keypad, vitale), derived from the configured one (HMAC as a KDF, RFC 5869's
    expand step with one block): a hash of one kind is no hash of another, nor a NIR look-up."""
    return hmac.new(key.encode(), f"relais-secret-hash:{purpose}\x01".encode(), hashlib.sha256).digest()


@lru_cache(maxsize=8)
def key_id(key: str) -> str:
    """A short public name of a key, kept in each hash, so a rotation knows which key made which row."""
    return hmac.new(key.encode(), b"relais-secret-hash:key-id", hashlib.sha256).hexdigest()[:8]


def _mac(key: str, purpose: str, context: str, value: str) -> str:
    return hmac.new(_derived(key, purpose), f"{context}:{value}".encode(), hashlib.sha256).hexdigest()


def keyed_hash(purpose: str, context: str, value: str) -> str:
    """`hmac-sha256$<key id>$<hex>` of a value for one purpose, bound to `context` (the person's NIR look-up)."""
    key = _current_key()
    return f"{KEYED}{key_id(key)}${_mac(key, purpose, context, value)}"


def keyed_hasher(purpose: str):
    """keyed_hash for one purpose with the key resolved once: for a batch of many rows."""
    key = _current_key()
    prefix, derived = f"{KEYED}{key_id(key)}$", _derived(key, purpose)
    return lambda context, value: prefix + hmac.new(derived, f"{context}:{value}".encode(),
                                                    hashlib.sha256).hexdigest()


def _keyed_verify(stored: str, purpose: str, context: str, value: str) -> bool:
    _, kid, mac = (stored.split("$", 2) + ["", ""])[:3]
    key = next((k for k in _keys() if key_id(k) == kid), None)
    expected = _mac(key or _current_key(), purpose, context, value)  # the same work for an unknown key
    return key is not None and hmac.compare_digest(expected, mac)


def is_legacy(stored: str | None) -> bool:
    """Written as argon2 before codes and serials were keyed (issue 16)."""
    return bool(stored) and stored.startswith(ARGON2)


def needs_rehash(stored: str | None) -> bool:
    """An argon2 row, or a keyed one made with a key that is no longer the current one."""
    return bool(stored) and not stored.startswith(f"{KEYED}{key_id(_current_key())}$")


def matches(stored: str | None, value: str, purpose: str, context: str) -> bool:
    """Whether a stored code or serial is this value, whatever its form, with no equal-work padding (an operator's
    import comparing a row with what is stored, not a guess from outside)."""
    if not stored:
        return False
    if stored.startswith(KEYED):
        return _keyed_verify(stored, purpose, context, value)
    return _argon2_verify(stored, value)


def verify_secret(stored: str | None, value: str, purpose: str | None = None, context: str = "") -> bool:
    """Check a secret in constant work: with nothing stored, a dummy is checked so timing says nothing.

    Without `purpose`: argon2 (passphrases, SMS codes). With one (code, keypad, vitale): the stored form decides,
    a keyed hash compared in constant time, or a row still in the argon2 form verified the old way. While such rows
    may remain (LEGACY_SECRET_HASHES, on by default), every keyed check also makes one argon2 verification, so an
    old row, a new one and no row at all take the same time.
    """
    if purpose is None:
        if stored is None:
            _argon2_dummy(value)
            return False
        return _argon2_verify(stored, value)
    if stored is not None and stored.startswith(ARGON2):
        return _argon2_verify(stored, value)
    if current_app.config.get("LEGACY_SECRET_HASHES", True):
        _argon2_dummy(value)
    if stored is None:
        _keyed_verify(f"{KEYED}{key_id(_current_key())}${'0' * 64}", purpose, context, value)
        return False
    return _keyed_verify(stored, purpose, context, value)


def lookup(kind: str, value: str) -> str:
    """HMAC-SHA256 of an identifier: finds a row without keeping the identifier in clear."""
    key = current_app.config["LOOKUP_KEY"].encode()
    return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def lookup_hasher(kind: str):
    """lookup for one kind with the key resolved once: for a batch of many rows."""
    key = current_app.config["LOOKUP_KEY"].encode()
    return lambda value: hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
