"""Flask-WTF forms of the portal; every message in plain words through the catalogs."""
import secrets

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, StringField
from wtforms.validators import InputRequired, Regexp, ValidationError

from .. import clock, dates
from ..domain import identifiers
from ..domain.errors import InvalidIdentifier

MESSAGES = {
    "nir_missing": _l("Enter your social security number."),
    "nir_looks_like_vitale": _l("This looks like the number of your Vitale card. Enter your social security "
                                "number: 13 digits and a 2-digit key, at the top of your letter."),
    "nir_missing_key": _l("Your number has 13 characters. Add the 2-digit key at the end: 15 in all."),
    "nir_length": _l("Your social security number has 15 characters: 13 and a 2-digit key."),
    "nir_bad_key": _l("This number is not right. Check each digit, and the 2-digit key at the end."),
    "nir_format": _l("This number is not right. It starts with 1 or 2 and has 15 characters."),
    "vitale_missing": _l("Enter the serial number of your Vitale card."),
    "vitale_looks_like_nir": _l("This looks like your social security number. Enter the serial number of "
                                "your Vitale card: 8 to 13 digits."),
    "vitale_format": _l("The serial number of your Vitale card has digits only."),
    "vitale_length": _l("The serial number of your Vitale card has 8 to 13 digits."),
    "swapped": _l("The two numbers seem swapped. Put your social security number (15 characters) first, "
                  "then the serial number of your Vitale card."),
    "birth_date_missing": _l("Enter your date of birth."),
    "birth_date_format": _l("Enter your date of birth as day, month and year, for example 25/03/1948."),
    "birth_date_range": _l("Your date of birth must be in the past."),
    "date_impossible": _l("This date does not exist. Check the day and the month."),
    "code_missing": _l("Enter the code from your letter."),
    "code_format": _l("The code from your letter has 12 letters and digits."),
    "sms_code_missing": _l("Enter the code received by SMS."),
    "sms_code_format": _l("The code received by SMS has 6 digits."),
}


# The same slips, when the numbers are another person's: a trusted helper's.
HELPER_MESSAGES = {
    "nir_missing": _l("Enter your helper's social security number."),
    "nir_looks_like_vitale": _l("This looks like the number of a Vitale card. Enter your helper's social security "
                                "number: 13 digits and a 2-digit key."),
    "nir_missing_key": _l("This number has 13 characters. Add the 2-digit key at the end: 15 in all."),
    "nir_length": _l("A social security number has 15 characters: 13 and a 2-digit key."),
    "birth_date_missing": _l("Enter your helper's date of birth."),
    "birth_date_format": _l("Enter the date of birth as day, month and year, for example 25/03/1948."),
    "birth_date_range": _l("The date of birth must be in the past."),
}


def _birth_date(value: str):
    """A date of birth; a date written right that no calendar has (31/02/1940) is named as such."""
    try:
        return identifiers.parse_birth_date(value, clock.today())
    except InvalidIdentifier as exc:
        if exc.code == "birth_date_format" and dates.impossible(value):
            raise InvalidIdentifier("date_impossible") from None
        raise


class _Normalized:
    """Runs a domain normalizer and keeps the clean value on the field, or explains the slip."""

    def __init__(self, fn, messages=None):
        self.fn = fn
        self.messages = {**MESSAGES, **(messages or {})}

    def __call__(self, form, field):
        try:
            field.clean = self.fn(field.data or "")
        except InvalidIdentifier as exc:
            field.errors[:] = []
            raise ValidationError(self.messages[exc.code]) from None


class NewCodeForm(FlaskForm):
    """Who the person is, without the letter's code: enough to send a new code, never to act."""

    nir = StringField(_l("Social security number"), validators=[_Normalized(identifiers.normalize_nir)])
    vitale_serial = StringField(_l("Serial number of your Vitale card"),
                                validators=[_Normalized(identifiers.normalize_vitale_serial)])
    birth_date = StringField(_l("Date of birth"),
                             validators=[_Normalized(_birth_date)])

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if identifiers.detect_swap(self.nir.data or "", self.vitale_serial.data or ""):
            self.nir.errors = [MESSAGES["swapped"]]
            self.vitale_serial.errors = []
            return False
        return ok


class IdentifyForm(NewCodeForm):
    code = StringField(_l("Code from the letter"),
                       validators=[_Normalized(identifiers.normalize_provisional_code)])


def _six_digits(value: str) -> str:
    digits = "".join(value.split())
    if not digits:
        raise InvalidIdentifier("sms_code_missing")
    if len(digits) != 6 or not digits.isdigit():
        raise InvalidIdentifier("sms_code_format")
    return digits


class SmsCodeForm(FlaskForm):
    code = StringField(_l("Code received by SMS"), validators=[_Normalized(_six_digits)])


def new_token() -> str:
    return secrets.token_urlsafe(16)


class ConfirmForm(FlaskForm):
    """A confirmation: its one-time token makes a double submit one change and one receipt."""

    token = HiddenField(validators=[InputRequired(), Regexp(r"^[A-Za-z0-9_-]{16,64}$")])

    def with_token(self):
        if not self.token.data:
            self.token.data = new_token()
        return self


class CloseForm(ConfirmForm):
    choice = RadioField(_l("What should happen to your data?"),
                        choices=[("archive", _l("Keep it archived for 10 years")),
                                 ("delete", _l("Delete it within 3 months"))],
                        validators=[InputRequired(message=_l("Choose what should happen to your data."))])


class NoticesForm(ConfirmForm):
    choice = RadioField(_l("At each access to your health space"),
                        choices=[("full", _l("A message that says who looked")),
                                 ("discreet", _l("A discreet message, that names nobody")),
                                 ("off", _l("No message"))],
                        validators=[InputRequired(message=_l("Choose the message you want at each access."))])


class ActingForForm(FlaskForm):
    """Whom a representative acts for; the choices are set from their current mandates."""

    person = RadioField(_l("Who are you acting for?"),
                        validators=[InputRequired(message=_l("Choose the person you are acting for."))])


class HelperForm(ConfirmForm):
    """Name a trusted helper: who they are (their NIR and date of birth) and for how long."""

    nir = StringField(_l("Your helper's social security number"),
                      validators=[_Normalized(identifiers.normalize_nir, HELPER_MESSAGES)])
    birth_date = StringField(_l("Your helper's date of birth"), validators=[_Normalized(_birth_date, HELPER_MESSAGES)])
    months = RadioField(_l("For how long?"),
                        choices=[("3", _l("3 months")), ("6", _l("6 months")), ("12", _l("1 year (the longest)"))],
                        validators=[InputRequired(message=_l("Choose for how long."))])
