"""The desk's forms: every field validated on the server, with a plain error (Flask-WTF, CSRF on each)."""
from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, RadioField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Regexp, ValidationError

from ..domain import identifiers
from ..services.cases import REASONS
from ..web.forms import HELPER_MESSAGES, _birth_date, _Normalized

# The represented person's numbers, in the words used for a helper's (someone else's numbers).
MANDATE_MESSAGES = HELPER_MESSAGES
DAY_MESSAGES = {"birth_date_missing": _l("Enter the day, month and year."),
                "birth_date_format": _l("Enter a date as day, month and year, for example 01/11/2026."),
                "birth_date_range": _l("Enter a date as day, month and year, for example 01/11/2026.")}


def _day_required(value: str):
    return identifiers.parse_birth_date(value, date(9999, 12, 31))

SIX_DIGITS = _l("Enter the 6 digits your app shows now.")


def _six_digits():
    return [InputRequired(message=SIX_DIGITS), Regexp(r"^\s*\d{3}\s?\d{3}\s*$", message=SIX_DIGITS)]


class SignInForm(FlaskForm):
    email = StringField(_l("Email address"), validators=[InputRequired(message=_l("Enter your email address.")),
                                                         Length(max=254, message=_l("Enter your email address."))])
    passphrase = PasswordField(_l("Passphrase"), validators=[InputRequired(message=_l("Enter your passphrase.")),
                                                             Length(max=200, message=_l("Enter your passphrase."))])
    code = StringField(_l("Code of your authenticator app"), validators=_six_digits())


class PassphraseForm(FlaskForm):
    passphrase = PasswordField(_l("Choose a passphrase"),
                               validators=[InputRequired(message=_l("Choose a passphrase of at least 12 characters."))])
    again = PasswordField(_l("Type it again"), validators=[InputRequired(message=_l("Type your passphrase again."))])

    def validate_again(self, field):
        if field.data != self.passphrase.data:
            raise ValidationError(_l("The two passphrases are not the same."))


class TotpForm(FlaskForm):
    code = StringField(_l("Code shown by the app"), validators=_six_digits())


class OpenCaseForm(FlaskForm):
    reason = RadioField(_l("Why are you helping this person?"),
                        choices=[("call", _l("A call to the 34 22")), ("callback", _l("A callback asked for")),
                                 ("appointment", _l("An appointment at a France Services office"))],
                        validators=[InputRequired(message=_l("Choose why you are helping this person."))])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        assert {c[0] for c in self.reason.choices} == set(REASONS)


class TransferForm(FlaskForm):
    code = StringField(_l("Desk code heard before the call"),
                       validators=[InputRequired(message=_l("Type the 6 digits you heard before the call.")),
                                   Regexp(r"^\s*\d{3}\s?\d{3}\s*$",
                                          message=_l("Type the 6 digits you heard before the call."))])


class NoteForm(FlaskForm):
    note = TextAreaField(_l("Add a note"), validators=[InputRequired(message=_l("Write the note first."))])


def _day(value: str):
    """A day of a mandate, as day, month and year; empty: none."""
    return identifiers.parse_birth_date(value, date(9999, 12, 31)) if value.strip() else None


class MandateForm(FlaskForm):
    """A legal representation the person at the desk holds for someone, its document seen."""

    kind = RadioField(_l("Kind of representation"),
                      choices=[("parent", _l("Parent of a minor")), ("tutelle", _l("Guardian (tutelle)")),
                               ("habilitation_familiale", _l("Family authorisation (habilitation familiale)"))],
                      validators=[InputRequired(message=_l("Choose the kind of representation."))])
    nir = StringField(_l("Social security number of the person represented"),
                      validators=[_Normalized(identifiers.normalize_nir, MANDATE_MESSAGES)])
    birth_date = StringField(_l("Their date of birth"), validators=[_Normalized(_birth_date, MANDATE_MESSAGES)])
    valid_from = StringField(_l("From (day, month, year)"),
                             validators=[_Normalized(_day_required, DAY_MESSAGES)])
    valid_until = StringField(_l("Until (optional: empty for no end date)"),
                              validators=[_Normalized(_day, DAY_MESSAGES)])
    document = StringField(_l("Reference of the document seen"),
                           validators=[InputRequired(message=_l("Write the reference of the judgment, or «livret de "
                                                                "famille»."))])
