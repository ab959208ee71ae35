"""Texts of outgoing messages, in the person's language. No links, no request for a code, no medical detail."""
from flask_babel import force_locale, gettext as _

from .domain.identifiers import format_code
from .services import format_reference


def new_code(person, code: str, reference: str, valid_until) -> str:
    with force_locale(person.language):
        return _("Relais: your new provisional code is %(code)s, valid until %(date)s. "
                 "Never give it to anyone. Ref %(ref)s", code=format_code(code),
                 date=valid_until.strftime("%d/%m/%Y"), ref=format_reference(reference))


def deletion_done(person, reference: str) -> str:
    with force_locale(person.language):
        return _("Relais: the data of your closed health space has been deleted, as you asked. "
                 "Ref %(ref)s", ref=format_reference(reference))
