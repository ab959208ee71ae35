"""Twilio channels: the voice call script and the SMS commands, with their webhooks."""


def register(app) -> None:
    from app import csrf
    from .sms import bp as sms_bp
    from .voice import bp
    for blueprint in (bp, sms_bp):
        csrf.exempt(blueprint)  # Twilio signs its requests; there is no browser session to protect
        app.register_blueprint(blueprint)
