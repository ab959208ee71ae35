"""Secrets kept only for a moment (a code waiting for its carrier, an SMS reply Twilio may ask for again),
encrypted with a key that is not in the database: a copy of the database alone gives no code away."""
import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app


def _fernet() -> Fernet:
    c = current_app.config
    key = c.get("SEAL_KEY") or c["SECRET_KEY"]
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(("relais-seal:" + key).encode()).digest()))


def seal(text: str) -> str:
    return _fernet().encrypt(text.encode()).decode()


def sealer():
    """seal() with the key derived once: for a batch of many rows."""
    fernet = _fernet()
    return lambda text: fernet.encrypt(text.encode()).decode()


def unseal(token: str | None) -> str | None:
    """The text, or None when there is none or it cannot be opened (another key, tampered)."""
    if not token:
        return None
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        return None


def mask(text: str, secret: str) -> str:
    """The text with every occurrence of the secret replaced by stars of the same length."""
    return text.replace(secret, "*" * len(secret))
