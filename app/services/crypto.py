"""Hashing of every secret (argon2id, parameters in config) and keyed look-ups of NIR and phone."""
import hashlib
import hmac
from functools import lru_cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app


@lru_cache(maxsize=4)
def _hasher(time_cost: int, memory_kib: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism,
                          hash_len=32, salt_len=16, type=Type.ID)


def hasher() -> PasswordHasher:
    c = current_app.config
    return _hasher(c["ARGON2_TIME_COST"], c["ARGON2_MEMORY_KIB"], c["ARGON2_PARALLELISM"])


def hash_secret(value: str) -> str:
    return hasher().hash(value)


@lru_cache(maxsize=4)
def _dummy_hash(time_cost: int, memory_kib: int, parallelism: int) -> str:
    return _hasher(time_cost, memory_kib, parallelism).hash("relais-dummy-secret")


def verify_secret(stored: str | None, value: str) -> bool:
    """Constant work: with nothing stored, a dummy hash is verified so timing says nothing."""
    h = hasher()
    if stored is None:
        c = current_app.config
        stored = _dummy_hash(c["ARGON2_TIME_COST"], c["ARGON2_MEMORY_KIB"], c["ARGON2_PARALLELISM"])
        value = value + "\x00"
        try:
            h.verify(stored, value)
        except (VerificationError, InvalidHashError):
            pass
        return False
    try:
        return h.verify(stored, value)
    except (VerificationError, InvalidHashError):
        return False


def lookup(kind: str, value: str) -> str:
    """HMAC-SHA256 of an identifier: finds a row without keeping the identifier in clear."""
    key = current_app.config["LOOKUP_KEY"].encode()
    return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
