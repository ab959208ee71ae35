"""Twilio channels: the voice call script and its webhooks (and, later, SMS commands)."""


def register(app) -> None:
    from app import csrf
    from .voice import bp
    csrf.exempt(bp)  # Twilio signs its requests; there is no browser session to protect
    app.register_blueprint(bp)
