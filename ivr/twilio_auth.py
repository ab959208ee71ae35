"""Every Twilio webhook proves it comes from Twilio: X-Twilio-Signature checked with RequestValidator."""
import re
from functools import wraps

from flask import abort, current_app, request
from twilio.request_validator import RequestValidator


def signed_url() -> str:
    """The URL Twilio signed: behind a proxy it is PUBLIC_BASE_URL + the path and query."""
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    if not base:
        return request.url
    path = request.full_path if request.query_string else request.path
    return base + path


def validate_twilio_request(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        token = current_app.config["TWILIO_AUTH_TOKEN"]
        signature = request.headers.get("X-Twilio-Signature", "")
        if not token or not signature or not RequestValidator(token).validate(
                signed_url(), request.form.to_dict(flat=True), signature):
            abort(403)
        return view(*args, **kwargs)
    return wrapper


def form_value(name: str) -> str:
    """A webhook parameter as text, without NUL characters (never sent by Twilio; refused by PostgreSQL)."""
    return (request.form.get(name) or "").replace("\x00", "")


def sid(name: str) -> str:
    """A Twilio id parameter (CallSid, MessageSid...) as sent, or "" when it is not one."""
    value = request.form.get(name) or ""
    return value if re.fullmatch(r"[A-Za-z0-9]{1,64}", value) else ""
