"""One table of texts for every Reason: the web sentence, the spoken sentence and the SMS line.

A new refusal is one member of app/domain/reasons.Reason and one row here (its texts go through the catalogs).
A channel without its own text for a reason says the reason's row for NOT_POSSIBLE."""
from flask import current_app
from flask_babel import lazy_gettext as _l

from .domain.reasons import Reason

WEB, VOICE, SMS = "web", "voice", "sms"

TEXTS: dict[Reason, dict[str, object]] = {
    Reason.NOT_POSSIBLE: {
        WEB: _l("This action is not possible now. Nothing was changed."),
        VOICE: _l("This is not possible now. Nothing was changed."),
        SMS: _l("Relais: this is not possible now. Nothing was changed.")},
    Reason.WINDOW_CLOSED: {
        WEB: _l("It is too late to say no"),
        VOICE: _l("Too late to say no: the deadline was %(date)s."),
        SMS: _l("Relais: it is too late to say no; you can close your space: send CLOSE.")},
    Reason.HELPER_LIMIT: {
        WEB: _l("A trusted helper cannot do this. Only the person, or their legal representative, can. "
                "Nothing was changed."),
        VOICE: _l("A trusted helper cannot do this. Only the person, or their legal representative, can. "
                  "Nothing was changed."),
        SMS: _l("Relais: a trusted helper cannot do this. Nothing was changed.")},
    Reason.MINOR_ALONE: {
        WEB: _l("This cannot be done alone: a legal representative must do it. Nothing was changed."),
        VOICE: _l("This cannot be done alone: a legal representative must do it. Nothing was changed."),
        SMS: _l("Relais: a legal representative must do this. Nothing was changed.")},
    Reason.NO_MANDATE: {
        WEB: _l("You cannot do this for this person. Nothing was changed."),
        VOICE: _l("You cannot do this for this person. Nothing was changed."),
        SMS: _l("Relais: you cannot do this for this person. Nothing was changed.")},
    Reason.LOCKED: {
        WEB: _l("Too many attempts. For your safety, identification is paused until %(time)s. "
                "You can also call 34 22."),
        VOICE: _l("Too many attempts. For your safety, try again after %(time)s.")},
    Reason.HELPER_NOT_FOUND: {
        WEB: _l("We found nobody with this social security number and this date of birth. Check them with your "
                "helper. Your helper must have received their own letter from Mon espace santé."),
        VOICE: _l("We found nobody with this number and this date of birth. Check them with your helper.")},
    Reason.HELPER_TRIES_USED: {
        WEB: _l("Too many tries today. For your safety, try again tomorrow, or call 34 22."),
        VOICE: _l("Too many tries today. For your safety, try again tomorrow.")},
    Reason.ALREADY_HELPER: {
        WEB: _l("This person is already your trusted helper."),
        VOICE: _l("This person is already your trusted helper.")},
    Reason.TOO_MANY_HELPERS: {
        WEB: _l("You already have %(most)s trusted helpers, the most allowed. Remove one first."),
        VOICE: _l("You already have %(most)s trusted helpers. Remove one first.")},
    Reason.HELPER_FULL: {
        WEB: _l("This person already helps %(most_people)s people, the most allowed. Choose someone else."),
        VOICE: _l("This person already helps %(most_people)s people, the most allowed.")},
    Reason.HELPER_SELF: {
        WEB: _l("You cannot be your own trusted helper."),
        VOICE: _l("You cannot be your own trusted helper.")},
    Reason.UNTIL_PAST: {
        WEB: _l("Choose for how long."),
        VOICE: _l("This is not possible now.")},
    Reason.PHONE_INVALID: {
        WEB: _l("This is not a phone number. Type its 10 digits, such as 06 12 34 56 78."),
        VOICE: _l("This number is not right. Nothing was booked.")},
    Reason.PHONE_NOT_FRENCH: {
        WEB: _l("An adviser can only call back a number in France, overseas included."),
        VOICE: _l("An adviser can only call back a number in France. Nothing was booked.")},
    Reason.PHONE_NOT_CALLABLE: {
        WEB: _l("An adviser cannot call back this kind of number. Give a mobile or a landline number."),
        VOICE: _l("An adviser cannot call back this number. Give a mobile or a landline number.")},
    Reason.CALLBACKS_TODAY: {
        WEB: _l("This number already has a callback booked today. An adviser will call it."),
        VOICE: _l("This number already has a callback booked today. Nothing more was booked.")},
    Reason.SLOT_NOT_OFFERED: {
        WEB: _l("This time is no longer offered. Choose another one."),
        VOICE: _l("This time is no longer offered. Nothing was booked.")},
    Reason.CODE_EXPIRED: {
        WEB: _l("Your provisional code has expired."),
        VOICE: _l("Your provisional code has expired.")},
    Reason.CODE_USED: {
        WEB: _l("Your provisional code has already been used."),
        VOICE: _l("Your provisional code has already been used.")},
}


def numbers() -> dict[str, int]:
    """The numbers the texts may say, from the settings."""
    c = current_app.config
    return {"most": c["HELPERS_PER_PERSON"], "most_people": c["PEOPLE_PER_HELPER"]}


def say(reason: Reason, channel: str, **values) -> str:
    """The reason in this channel's words, its values (a date, a time) already written for the channel."""
    text = TEXTS.get(reason, {}).get(channel) or TEXTS[Reason.NOT_POSSIBLE][channel]
    return str(text) % {**numbers(), **values}
