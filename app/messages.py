"""Texts of outgoing messages, in the person's language. No links, no request for a code, no medical detail."""
from flask import current_app
from flask_babel import force_locale, format_date
from flask_babel import gettext as _

from . import zones
from .domain.identifiers import format_code
from .text import format_reference, gsm7


def new_code(person, code: str, reference: str, valid_until) -> str:
    with force_locale(person.language):
        return _("Relais: your new provisional code is %(code)s, valid until %(date)s. "
                 "Never give it to anyone. Ref %(ref)s", code=format_code(code),
                 date=valid_until.strftime("%d/%m/%Y"), ref=format_reference(reference))


def deletion_done(person, reference: str) -> str:
    with force_locale(person.language):
        return _("Relais: the data of your closed health space has been deleted, as you asked. "
                 "Ref %(ref)s", ref=format_reference(reference))


def history_sms(person, events, reference: str, about=None) -> str:
    """The last accesses, who and when, in one SMS: names shortened until it fits 160 characters.

    `about`: the person whose history it is, when it goes to their representative."""
    zone = zones.zone_of(person)
    with force_locale(person.language):
        for width in (40, 28, 20, 14, 10):
            items = "; ".join(f"{zones.local(e.occurred_at, zone):%d/%m %H:%M} {gsm7(e.professional_name)[:width]}"
                              for e in events)
            ref = format_reference(reference)
            if about is not None:
                name = gsm7(about.given_name)[:20]
                text = _("Relais: last accesses for %(name)s: %(items)s. Ref %(ref)s", name=name, items=items,
                         ref=ref) if events else \
                    _("Relais: nobody has looked at the health space of %(name)s. Ref %(ref)s", name=name, ref=ref)
            else:
                text = _("Relais: last accesses: %(items)s. Ref %(ref)s", items=items, ref=ref) if events else \
                    _("Relais: nobody has looked at your health space. Ref %(ref)s", ref=ref)
            if len(text) <= 160:
                return text
        return text[:160]


def history_letter(person, events, reference: str) -> str:
    """The history on paper: one line an access, newest first."""
    with force_locale(person.language):
        head = _("Accesses to your health space, newest first. Reference %(ref)s.", ref=format_reference(reference))
        zone = zones.zone_of(person)
        lines = [f"{zones.local(e.occurred_at, zone):%d/%m/%Y %H:%M} - {e.professional_name}, {e.profession}, "
                 f"{e.organisation} - {e.mode} - {e.decision}" for e in events]
        return "\n".join([head, *lines]) if lines else head


def _cut(value: str, width: int) -> str:
    value = gsm7(value or "").strip()
    if len(value) <= width:
        return value
    head = value[:width + 1].rsplit(" ", 1)[0] if " " in value[:width + 1] else value[:width]
    return head.rstrip(" ,;:-")


def fit(render) -> str:
    """Shorten the free text (the reason first, then names) until the SMS fits one 160-character segment."""
    for name_width, text_width in ((60, 80), (40, 60), (40, 40), (40, 28), (32, 20), (26, 14), (20, 10), (14, 6),
                                   (10, 0)):
        text = render(lambda value, kind="name": _cut(value, name_width if kind == "name" else text_width))
        if len(text) <= 160:
            return text
    return text[:160]


def access_notice(person, event, reference: str, discreet: bool | None = None) -> str:
    """Who and when, never which document; an emergency says so and gives the reason.

    Discreet (the person's choice, or `discreet`): when only, naming no professional or organisation — on a
    shared family phone «Dr X (psychiatre)» says more than a person may want; DETAIL gives the rest."""
    discreet = person.discreet_notices if discreet is None else discreet
    with force_locale(person.language):
        when = zones.fmt_datetime(event.occurred_at, "dd/MM HH:mm", zones.zone_of(person))
        ref = format_reference(reference)
        granted = event.decision == "granted"
        if discreet:
            by_sms = bool(person.mobile) and person.sms_blocked_at is None
            what = _("Relais: an access to your health space was refused on %(when)s, as you chose.", when=when) \
                if not granted else _("Relais: an access to your health space on %(when)s.", when=when) \
                if event.mode == "normal" else _("Relais: an EMERGENCY access to your health space on %(when)s.",
                                                 when=when)
            how = _("Reply DETAIL to know who.") if by_sms else \
                _("To know who, see your history on the website or call 34 22.")
            return " ".join((what, how, _("Ref %(ref)s", ref=ref)))
        if event.mode == "normal":
            if granted:
                return fit(lambda f: _("Relais: %(name)s (%(profession)s) opened your health space on %(when)s. "
                                        "Not known to you? Reply REPORT. To block: BLOCK. Ref %(ref)s",
                                        name=f(event.professional_name), profession=f(event.profession, "text"),
                                        when=when, ref=ref))
            return fit(lambda f: _("Relais: %(name)s (%(profession)s) was refused access to your health space on "
                                    "%(when)s, as you chose. Ref %(ref)s", name=f(event.professional_name),
                                    profession=f(event.profession, "text"), when=when, ref=ref))
        mode = "SAMU" if event.mode == "samu" else _("break-glass")
        if granted:
            return fit(lambda f: _("Relais: EMERGENCY access (%(mode)s) by %(name)s on %(when)s, reason: %(reason)s. "
                                    "Not you? Reply REPORT or BLOCK. Ref %(ref)s", mode=mode,
                                    name=f(event.professional_name),
                                    when=when, reason=f(event.reason, "text"), ref=ref))
        return fit(lambda f: _("Relais: EMERGENCY access (%(mode)s) by %(name)s on %(when)s was refused, as you "
                                "chose. Ref %(ref)s", mode=mode, name=f(event.professional_name), when=when, ref=ref))


def receipt(person, action: str, reference: str) -> str | None:
    """The receipt of an action done on the web or by phone, also sent by SMS; None when none is due."""
    with force_locale(person.language):
        ref = format_reference(reference)
        if action == "space.opposed":
            return _("Relais: your opposition is recorded. Your health space will not be created. Ref %(ref)s", ref=ref)
        if action == "space.closed":
            return _("Relais: your health space is closed. No professional can see it. Ref %(ref)s", ref=ref)
        if action == "space.reopened":
            return _("Relais: your health space is open again. Ref %(ref)s", ref=ref)
        if action.startswith("emergency."):
            return _("Relais: your emergency access settings are changed. Ref %(ref)s", ref=ref)
        if action in ("professional.blocked", "professional.unblocked", "access.reported"):
            return _("Relais: your request about an access is recorded. Ref %(ref)s", ref=ref)
        if action in ("helper.named", "helper.revoked"):
            return _("Relais: your choice of trusted helper is recorded. Ref %(ref)s", ref=ref)
        return None


def report_closed(person, case: str, reference: str) -> str:
    """To the person who reported an access: the case has been looked into and is closed (no detail of it)."""
    with force_locale(person.language):
        return _("Relais: your report of an access, case %(case)s, has been looked into and is closed. For a "
                 "question, call 34 22. Ref %(ref)s", case=format_reference(case), ref=format_reference(reference))


def reminder(person, window_end, reference: str) -> str:
    with force_locale(person.language):
        return _("Relais: you can say no to your health space until %(date)s. After that, it is created. "
                 "To say no, call 34 22. Ref %(ref)s", date=window_end.strftime("%d/%m/%Y"),
                 ref=format_reference(reference))


def sign_in_code(person, code: str, reference: str) -> str:
    with force_locale(person.language):
        return _("Relais: your sign-in code is %(code)s. Valid %(minutes)s minutes. Never give it to anyone, even an "
                 "adviser. Ref %(ref)s", code=code, ref=format_reference(reference),
                 minutes=current_app.config["OTP_VALID_MINUTES"])


def action_text(action: str) -> str:
    """What was done, in a few words, for messages about an action done by someone else."""
    if action.startswith("emergency."):
        return _("emergency access settings changed")
    return {"space.opposed": _("opposition to the health space"), "space.closed": _("health space closed"),
            "space.reopened": _("health space reopened"), "professional.blocked": _("a professional blocked"),
            "professional.unblocked": _("a professional unblocked"), "access.reported": _("an access reported"),
            "history.sent": _("history sent"), "helper.named": _("trusted helper named"),
            "helper.revoked": _("trusted helper removed")}.get(action, _("a change"))


def _name(person) -> str:
    return gsm7(f"{person.given_name} {person.family_name}")[:40]


def done_for(representative, person, action: str, reference: str) -> str:
    """The receipt a representative gets by SMS for what they did on the web or by phone for someone."""
    with force_locale(representative.language):
        return fit(lambda f: _("Relais: done for %(name)s: %(what)s. Ref %(ref)s", name=f(_name(person)),
                                what=action_text(action), ref=format_reference(reference)))


def done_on_behalf(person, representative, action: str, when, reference: str) -> str:
    """A represented adult is told what was done for them, by whom and when."""
    with force_locale(person.language):
        when = zones.fmt_datetime(when, "dd/MM HH:mm", zones.zone_of(person))
        return fit(lambda f: _("Relais: %(name)s acted for you on %(when)s: %(what)s. Questions: call 34 22. "
                                "Ref %(ref)s", name=f(_name(representative)), when=when,
                                what=action_text(action), ref=format_reference(reference)))


def helper_named(helper, holder, until, reference: str) -> str:
    with force_locale(helper.language):
        return fit(lambda f: _("Relais: %(name)s named you trusted helper until %(date)s. You can hear their "
                                "history and set their emergency access at 34 22. Ref %(ref)s",
                                name=f(_name(holder)), date=until.strftime("%d/%m/%Y"),
                                ref=format_reference(reference)))


def helper_revoked(helper, holder, reference: str) -> str:
    with force_locale(helper.language):
        return fit(lambda f: _("Relais: %(name)s ended your role of trusted helper. You can no longer act for "
                                "them. Ref %(ref)s", name=f(_name(holder)), ref=format_reference(reference)))


def mandate_ended(representative, person, on, reference: str) -> str:
    """To the representative whose mandate has ended."""
    with force_locale(representative.language):
        return fit(lambda f: _("Relais: since %(date)s you can no longer act for %(name)s on Relais: your "
                                "mandate has ended. Ref %(ref)s", name=f(_name(person)), date=on.strftime("%d/%m/%Y"),
                                ref=format_reference(reference)))


def mandate_ended_for(person, representative, on, reference: str) -> str:
    """To the person who was represented: who can no longer act for them."""
    with force_locale(person.language):
        return fit(lambda f: _("Relais: since %(date)s %(name)s can no longer act for you on Relais. "
                                "Ref %(ref)s", name=f(_name(representative)), date=on.strftime("%d/%m/%Y"),
                                ref=format_reference(reference)))


def callback_booked(language: str, day, slot: str, reference: str, hours=None) -> str:
    """The half-day an adviser calls back in («mardi 3 décembre, le matin») and the reference to quote; overseas,
    the `hours` (from, until) on the person's own clock («mardi 3 décembre entre 08:00 et 12:30»)."""
    with force_locale(language):
        when, ref = format_date(day, "EEEE d MMMM"), format_reference(reference)
        if hours:
            return _("Relais: an adviser will call you back on %(day)s between %(start)s and %(end)s, your time. "
                     "Reference %(ref)s.", day=format_date(hours[0].date(), "EEEE d MMMM"),
                     start=f"{hours[0]:%H:%M}", end=f"{hours[1]:%H:%M}", ref=ref)
        if slot == "am":
            return _("Relais: an adviser will call you back on %(day)s, in the morning. Reference %(ref)s.",
                     day=when, ref=ref)
        return _("Relais: an adviser will call you back on %(day)s, in the afternoon. Reference %(ref)s.",
                 day=when, ref=ref)


def what_to_have(language: str, reference: str) -> str:
    """To a caller who needed time: what to have at hand when they call again. One SMS, no link, no code."""
    with force_locale(language):
        return _("Relais: to call 34 22, have at hand your Mon espace santé letter, your Vitale card and your "
                 "date of birth. Ref %(ref)s",
                 ref=format_reference(reference))


def sms_not_delivered(person, reference: str) -> str:
    """The letter sent when an SMS that carried a code did not arrive: the code is not written again."""
    with force_locale(person.language):
        return _("Relais: our SMS did not reach you, so we now write to you by letter. For a new code, call "
                 "34 22. Ref %(ref)s", ref=format_reference(reference))
