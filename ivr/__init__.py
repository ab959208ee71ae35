"""Twilio channels: the voice call script and the SMS commands, with their webhooks."""
from app.extensions import csrf

from .sms import bp as sms_bp
from .voice import bp as voice_bp


def register(app) -> None:
    for blueprint in (voice_bp, sms_bp):
        csrf.exempt(blueprint)  # Twilio signs its requests; there is no browser session to protect
        app.register_blueprint(blueprint)
