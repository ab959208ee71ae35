"""The desk (/desk): staff of the 34 22 and France Services counsellors help a person, beside them or on the phone.

One more channel adapter on the same commands (ARCHITECTURE.md): a member of staff signs in with a passphrase and
an authenticator code, opens a case with a reason, identifies the person with them (the same four things), and
acts at their request through the same command handlers, as `Actor(person, "desk", staff_id, case_id)`. Its own
session cookie on the /desk path; every page no-store (app/web sets it on every page); roles and case ownership
checked on the server on every route. Server-rendered and complete without JavaScript, in French and English.
"""
import io
from functools import wraps

import segno
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .. import audit, clock, outbox, reasons, zones
from ..domain.errors import (
    CodeSpent,
    DomainError,
    HelperRefused,
    IdentificationFailed,
    IdentificationLocked,
    InvalidTransition,
    NotFound,
)
from ..domain.mandates import add_months
from ..domain.reasons import Reason
from ..services import (
    Actor,
    access,
    callbacks,
    cases,
    commands,
    dashboard,
    helpers,
    mandates,
    reported,
    spaces,
    staff,
)
from ..services.base import transaction
from ..web.forms import ConfirmForm, HelperForm, IdentifyForm, NewCodeForm, SmsCodeForm
from .forms import MandateForm, NoteForm, OpenCaseForm, PassphraseForm, SignInForm, TotpForm, TransferForm

bp = Blueprint("desk", __name__, url_prefix="/desk")
ROLES_THAT_HELP = ("agent", "counsellor", "supervisor")


def cookie_name() -> str:
    return "__Secure-relais-desk" if current_app.config["SESSION_COOKIE_SECURE"] else "relais-desk"


def _set_cookie(response, token: str | None):
    c = current_app.config
    if token is None:
        response.delete_cookie(cookie_name(), path="/desk", secure=c["SESSION_COOKIE_SECURE"], httponly=True,
                               samesite="Strict")
    else:
        response.set_cookie(cookie_name(), token, path="/desk", secure=c["SESSION_COOKIE_SECURE"], httponly=True,
                            samesite="Strict", max_age=c["STAFF_SESSION_MAX_HOURS"] * 3600)
    return response


def staff_only(*roles: str):
    """The route for a signed-in member of staff of one of `roles` (all who help, by default); else sign-in, or
    403 for another role: enforced here, on the server, whatever the page shows."""
    allowed = roles or ROLES_THAT_HELP

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            member, reason = staff.resolve(request.cookies.get(cookie_name()))
            if member is None:
                if reason == "idle":
                    flash(_("You were signed out after %(minutes)s minutes without activity.",
                            minutes=current_app.config["STAFF_SESSION_IDLE_MINUTES"]))
                elif reason:
                    flash(_("Your session has ended. Please sign in again."))
                return _set_cookie(redirect(url_for("desk.sign_in")), None)
            if member.role not in allowed:
                abort(403)
            g.staff = member
            return view(*args, **kwargs)
        return wrapper
    return decorate


def _client() -> str:
    return request.remote_addr or "unknown"


# --- signing in -------------------------------------------------------------------------------

@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    form = SignInForm()
    failure = None
    if form.validate_on_submit():
        try:
            token = staff.sign_in(form.email.data, form.passphrase.data, form.code.data, _client())
        except staff.SignInFailed:
            failure = _("The email address, the passphrase or the code is not right. Try again.")
        except staff.SignInLocked as exc:
            failure = _("Too many attempts. For safety, signing in is paused for this account until %(time)s.",
                        time=f"{exc.until:%H:%M}")
        else:
            # A new session id at each sign-in: the one the browser had before (if any) ends.
            staff.sign_out(request.cookies.get(cookie_name()))
            return _set_cookie(redirect(url_for("desk.home")), token)
    return render_template("desk/sign_in.html", form=form, failure=failure)


@bp.post("/sign-out")
def sign_out():
    form = ConfirmForm()
    if not form.validate_on_submit() and "csrf_token" in form.errors:
        abort(400)
    staff.sign_out(request.cookies.get(cookie_name()))
    flash(_("You are signed out."))
    return _set_cookie(redirect(url_for("desk.sign_in")), None)


@bp.route("/enrol/<token>", methods=["GET", "POST"])
def enrol(token):
    """A one-time link: choose a passphrase, then register the authenticator with its first code."""
    member = staff.enrolling(token)
    if member is None:
        return render_template("desk/enrol_gone.html"), 404
    secret = staff.pending_secret(member) if member.passphrase_hash else None
    if secret is None:
        form = PassphraseForm()
        problem = None
        if form.validate_on_submit():
            try:
                secret = staff.set_passphrase(token, form.passphrase.data)
            except staff.StaffError as exc:
                problem = str(exc)
            else:
                return _totp_page(token, TotpForm(formdata=None))
        return render_template("desk/enrol.html", form=form, problem=problem, member=member)
    form = TotpForm()
    if form.validate_on_submit():
        try:
            staff.confirm_totp(token, form.code.data)
        except staff.StaffError:
            form.code.errors = [_("This code is not right, or was already used. Enter the code your app shows now.")]
        else:
            flash(_("Your account is ready. Sign in with your email address, your passphrase and a code."))
            return redirect(url_for("desk.sign_in"))
    return _totp_page(token, form)


def _totp_page(token, form):
    """The authenticator to register: its QR code and key, drawn from the enrolment the link still holds."""
    member = staff.enrolling(token)
    secret = staff.pending_secret(member)
    qr = segno.make(staff.provisioning_uri(member, secret), error="m")
    svg = qr.svg_inline(scale=4, dark="#000", light="#fff", omitsize=True)  # a viewBox: it shrinks at 200 % zoom
    grouped = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
    return render_template("desk/enrol_totp.html", form=form, member=member, qr=svg, secret=grouped, token=token)


# --- the desk's home and cases -----------------------------------------------------------------

def _home(form=None, transfer=None, failure=None, status=200):
    return render_template("desk/home.html", form=form or OpenCaseForm(formdata=None),
                           transfer=transfer or TransferForm(formdata=None, prefix="transfer"), failure=failure,
                           open_cases=cases.open_cases(g.staff.id)), status


@bp.get("/")
@staff_only()
def home():
    return _home()


@bp.post("/cases")
@staff_only()
def open_case():
    form = OpenCaseForm()
    if not form.validate_on_submit():
        return _home(form=form, status=400)
    case_id = cases.open_case(g.staff.id, form.reason.data)
    return redirect(url_for("desk.identify", case_id=case_id))


@bp.post("/cases/transfer")
@staff_only()
def from_transfer():
    """A call the phone line put through: the code of the whisper opens the case, the person identified."""
    form = TransferForm(prefix="transfer")
    if not form.validate_on_submit():
        return _home(transfer=form, status=400)
    try:
        case_id = cases.from_transfer(g.staff.id, form.code.data)
    except cases.TransferRefused as exc:
        failure = _("Too many wrong codes. Wait 15 minutes, or identify the person with their 4 things.") \
            if exc.locked else _("This code opens no call: it is wrong, used, or older than %(minutes)s minutes. "
                                 "Identify the person with their 4 things.",
                                 minutes=current_app.config["DESK_TRANSFER_MINUTES"])
        return _home(transfer=form, failure=failure, status=400)
    return redirect(url_for("desk.case", case_id=case_id))


def _case(case_id: int, identified: bool = True):
    try:
        case = cases.get(case_id, g.staff.id)
    except NotFound:
        abort(404)
    if case.closed_at is not None or (identified and case.person_id is None):
        abort(404)
    zones.read_by(case.person_id)  # times as the person reads them, where they live: staff read them out
    return case


@bp.route("/cases/<int(max=2147483647):case_id>/identify", methods=["GET", "POST"])
@staff_only()
def identify(case_id):
    case = _case(case_id, identified=False)
    if case.person_id is not None:
        return redirect(url_for("desk.case", case_id=case.id))
    form = IdentifyForm()
    failure = None
    if form.validate_on_submit():
        try:
            cases.identify(case.id, g.staff.id, form.nir.clean, form.vitale_serial.clean, form.birth_date.clean,
                           form.code.clean, _client())
        except CodeSpent as exc:
            failure = reasons.say(exc.reason, reasons.WEB)
        except IdentificationFailed:
            failure = _("These details do not match our records. Check the four numbers with the person.")
        except IdentificationLocked as exc:
            failure = reasons.say(exc.reason, reasons.WEB, time=f"{exc.until:%H:%M}")
        else:
            return redirect(url_for("desk.case", case_id=case.id))
    return render_template("desk/identify.html", form=form, failure=failure, case=case)


@bp.route("/cases/<int(max=2147483647):case_id>/identify/sms", methods=["GET", "POST"])
@staff_only()
def identify_sms(case_id):
    """No letter: the three numbers, then the code the person receives on their own mobile and reads out."""
    case = _case(case_id, identified=False)
    if case.person_id is not None:
        return redirect(url_for("desk.case", case_id=case.id))
    key = f"desk_sms_{case.id}"
    waiting = session.get(key)
    if waiting is None:
        form, failure = NewCodeForm(), None
        if form.validate_on_submit():
            try:
                nir_lookup = cases.send_code(case.id, g.staff.id, form.nir.clean, form.vitale_serial.clean,
                                             form.birth_date.clean, _client())
            except IdentificationLocked as exc:
                failure = reasons.say(exc.reason, reasons.WEB, time=f"{exc.until:%H:%M}")
            else:  # a keyed hash and the last 3 characters: never the NIR itself
                session[key] = [nir_lookup, form.nir.clean[-3:]]
                return redirect(url_for("desk.identify_sms", case_id=case.id))
        return render_template("desk/identify_sms.html", form=form, failure=failure, case=case, waiting=False)
    form, failure = SmsCodeForm(), None
    if form.validate_on_submit():
        try:
            cases.identify_by_code(case.id, g.staff.id, waiting[0], waiting[1], form.code.clean, _client())
        except IdentificationFailed:
            session.pop(key, None)
            failure = _("This code is not right or has expired. Ask for a new code.")
            return render_template("desk/identify_sms.html", form=NewCodeForm(formdata=None), failure=failure,
                                   case=case, waiting=False)
        except IdentificationLocked as exc:
            failure = reasons.say(exc.reason, reasons.WEB, time=f"{exc.until:%H:%M}")
        else:
            session.pop(key, None)
            return redirect(url_for("desk.case", case_id=case.id))
    return render_template("desk/identify_sms.html", form=form, failure=failure, case=case, waiting=True)


def _acts(view) -> dict[str, tuple[str, object]]:
    """What the person may ask for now: act name -> (what it does, its command)."""
    acts = {}
    if "oppose" in view.actions:
        acts["oppose"] = (_("Say no to the creation of the health space"), commands.Oppose())
    if "close" in view.actions:
        acts["close-archive"] = (_("Close the health space, data kept 10 years"), commands.Close(False))
        acts["close-delete"] = (_("Close the health space, data deleted within 3 months"), commands.Close(True))
    if "reopen" in view.actions:
        acts["reopen"] = (_("Reopen the health space"), commands.Reopen())
    if "emergency" in view.actions:
        e = view.emergency
        acts["samu-" + ("off" if e.samu else "on")] = (
            _("Refuse access by the SAMU") if e.samu else _("Allow access by the SAMU"),
            commands.SetEmergency("samu", not e.samu))
        acts["break_glass-" + ("off" if e.break_glass else "on")] = (
            _("Refuse emergency access by any professional") if e.break_glass
            else _("Allow emergency access by any professional"),
            commands.SetEmergency("break_glass", not e.break_glass))
        if e.masked_applies:
            acts["masked-" + ("off" if e.masked else "on")] = (
                _("Keep hidden documents hidden in an emergency") if e.masked
                else _("Show hidden documents in an emergency"), commands.SetEmergency("masked", not e.masked))
    if "history" in view.actions:
        for mode, text in (("full", _("Messages at each access: with names")),
                           ("discreet", _("Messages at each access: discreet")),
                           ("off", _("Messages at each access: none"))):
            if view.notices != mode:
                acts["notices-" + mode] = (text, commands.SetNotifications(
                    on=mode != "off", discreet=None if mode == "off" else mode == "discreet"))
        acts["send-history"] = (_("Send the history to the person"), commands.SendHistory())
    return acts


def _helper_act(view, subject_id: int, act: str) -> tuple[str, object] | None:
    """«helper-remove-<mandate>»: one of the person's own trusted helpers removed (as the web allows it)."""
    if not act.startswith("helper-remove-") or view.restricted not in (None, Reason.MINOR_ALONE):
        return None
    number = act.removeprefix("helper-remove-")
    for helper, mandate in helpers.helpers_of(subject_id):
        if number.isdigit() and mandate.id == int(number):
            return _("Remove %(name)s as trusted helper", name=f"{helper.given_name} {helper.family_name}"), \
                commands.RemoveHelper(mandate.id)
    return None


def _line_act(actor, subject_id: int, act: str) -> tuple[str, object] | None:
    """«block-<event>», «report-<event>»: an act on one line of the person's history (theirs only);
    «unblock-<block>»: one of their blocked professionals unblocked."""
    kind, _sep, number = act.partition("-")
    if kind == "unblock" and number.isdigit():
        for b in access.blocked_professionals(actor, subject_id):
            if b.id == int(number):
                return _("Unblock %(name)s", name=b.professional_name), commands.Unblock(b.id)
        return None
    if kind not in ("block", "report") or not number.isdigit() or not 0 < int(number) < 2**31:
        return None
    try:
        event = access.event_for(actor, subject_id, int(number))
    except NotFound:
        return None
    if kind == "block":
        return _("Block %(name)s", name=event.professional_name), commands.Block(event.id)
    return _("Report the access of %(name)s as not recognised", name=event.professional_name), \
        commands.Report(event.id)


@bp.get("/cases/<int(max=2147483647):case_id>")
@staff_only()
def case(case_id):
    case = _case(case_id)
    cases.viewed(case, "space")
    view = spaces.view(cases.actor(case), case.person_id)
    return render_template("desk/case.html", case=case, space=view, acts=_acts(view),
                           activity=spaces.activity(cases.actor(case), case.person_id, limit=20),
                           helpers=helpers.helpers_of(case.person_id)
                           if view.restricted in (None, Reason.MINOR_ALONE) else None)


@bp.route("/cases/<int(max=2147483647):case_id>/helpers/new", methods=["GET", "POST"])
@staff_only()
def helper_new(case_id):
    """A trusted helper named at the person's request: their NIR and date of birth, for how long (as on the web)."""
    case = _case(case_id)
    actor = cases.actor(case)
    view = spaces.view(actor, case.person_id)
    if view.restricted not in (None, Reason.MINOR_ALONE):
        flash(reasons.say(view.restricted, reasons.WEB))
        return redirect(url_for("desk.case", case_id=case.id))
    form, failure = HelperForm(), None
    if form.validate_on_submit():
        key = f"desk:{g.staff.id}:{case.id}:{form.token.data[:30]}"
        request_ = commands.NameHelper(form.nir.clean, form.birth_date.clean,
                                       add_months(clock.today(), int(form.months.data)))
        try:
            receipt = commands.dispatch(request_, actor, case.person_id, key)
        except HelperRefused as exc:
            failure = reasons.say(exc.reason, reasons.WEB)
        else:
            return render_template("desk/done.html", case=case, receipt=receipt, space=view,
                                   what=_("Name a trusted helper"))
    cases.viewed(case, "helper_new")
    return render_template("desk/helper_new.html", case=case, space=view, form=form.with_token(), failure=failure)


@bp.get("/cases/<int(max=2147483647):case_id>/history")
@staff_only()
def history(case_id):
    case = _case(case_id)
    page = request.args.get("page", "1")
    page = int(page) if page.isascii() and page.isdigit() and len(page) < 7 else 1
    cases.viewed(case, "history")
    actor = cases.actor(case)
    return render_template("desk/history.html", case=case, space=spaces.view(actor, case.person_id),
                           result=access.history(actor, case.person_id, page),
                           blocked=access.blocked_professionals(actor, case.person_id))


MANDATE_ROLES = ("counsellor", "supervisor")
MANDATE_REFUSALS = {
    "not_found": _l("We found nobody with this social security number and this date of birth. Check them on the "
                    "document."),
    "self": _l("A person cannot represent themselves."),
    "document": _l("Write the document's reference, 80 characters at most, without any social security or phone "
                   "number."),
    "kind": _l("Choose the kind of representation."),
    "valid_until is before valid_from": _l("The end date is before the start date."),
    "a parent's mandate is for a minor: the represented person is an adult on valid_from":
        _l("A parent represents a minor: this person is an adult on the start date. Choose another kind."),
}


@bp.route("/cases/<int(max=2147483647):case_id>/mandates", methods=["GET", "POST"])
@staff_only(*MANDATE_ROLES)
def mandates_page(case_id):
    """The person's legal representations; one recorded from the document seen, with the CSV import's rules."""
    case = _case(case_id)
    cases.viewed(case, "mandates")
    form, failure, status = MandateForm(), None, 200
    if form.validate_on_submit():
        try:
            added = mandates.record_at_desk(g.staff.id, case.person_id, form.nir.clean, form.birth_date.clean,
                                            form.kind.data, form.valid_from.clean, form.valid_until.clean,
                                            " ".join(form.document.data.split()))
        except mandates.RowRefused as exc:
            reason = next(iter(exc.errors.values()))
            failure, status = str(MANDATE_REFUSALS.get(reason, MANDATE_REFUSALS["kind"])), 400
        else:
            flash(_("The representation is recorded.") if added else _("This representation was recorded already."))
            return redirect(url_for("desk.mandates_page", case_id=case.id))
    elif form.is_submitted():
        status = 400
    return render_template("desk/mandates.html", case=case, form=form, failure=failure,
                           held=mandates.of_person(case.person_id), space=spaces.view(cases.actor(case),
                                                                                     case.person_id)), status


@bp.post("/cases/<int(max=2147483647):case_id>/mandates/<int(max=2147483647):mandate_id>/end")
@staff_only(*MANDATE_ROLES)
def end_mandate(case_id, mandate_id):
    case = _case(case_id)
    form = ConfirmForm()
    if not form.validate_on_submit() and "csrf_token" in form.errors:
        abort(400)
    try:
        mandates.end_at_desk(g.staff.id, case.person_id, mandate_id)
    except mandates.RowRefused:
        abort(404)
    flash(_("The representation has ended. Both people are told."))
    return redirect(url_for("desk.mandates_page", case_id=case.id))


@bp.route("/cases/<int(max=2147483647):case_id>/do/<act>", methods=["GET", "POST"])
@staff_only()
def act(case_id, act):
    case = _case(case_id)
    actor = cases.actor(case)
    view = spaces.view(actor, case.person_id)
    acts = _acts(view)
    if "history" in view.actions and (line := _line_act(actor, case.person_id, act)) is not None:
        acts[act] = line
    if (removal := _helper_act(view, case.person_id, act)) is not None:
        acts[act] = removal
    form = ConfirmForm()
    key = f"desk:{g.staff.id}:{case.id}:{(form.token.data or '')[:30]}"
    if form.validate_on_submit() and (first := spaces.done_with(key)) is not None:  # sent twice: the first receipt
        return render_template("desk/done.html", case=case, what=acts.get(act, ("", None))[0], receipt=first,
                               space=view)
    if act not in acts:
        flash(_("This action is not possible now. Nothing was changed."))
        return redirect(url_for("desk.case", case_id=case.id))
    what, command = acts[act]
    if form.validate_on_submit():
        try:
            receipt = commands.dispatch(command, actor, case.person_id, key)
        except DomainError as exc:
            flash(reasons.say(exc.reason, reasons.WEB))
            return redirect(url_for("desk.case", case_id=case.id))
        return render_template("desk/done.html", case=case, what=what, receipt=receipt, space=view)
    cases.viewed(case, "act:" + act)
    return render_template("desk/act.html", case=case, act=act, what=what, space=view, form=form.with_token())


@bp.post("/cases/<int(max=2147483647):case_id>/close")
@staff_only()
def close_case(case_id):
    form = ConfirmForm()
    if not form.validate_on_submit() and "csrf_token" in form.errors:
        abort(400)
    try:
        cases.close(case_id, g.staff.id)
    except NotFound:
        abort(404)
    flash(_("The case is closed."))
    return redirect(url_for("desk.home"))


# --- the callbacks asked for on the phone line (agents and supervisors) ---------------------------------

PHONE_ROLES = ("agent", "supervisor")


def _staff_actor() -> Actor:
    return Actor(None, "desk", staff_id=g.staff.id)


@bp.get("/callbacks")
@staff_only(*PHONE_ROLES)
def callbacks_queue():
    """The callbacks to make, oldest first: taken by whom; the number only to the adviser who took it."""
    rows = callbacks.pending(limit=200)
    return render_template("desk/callbacks.html", rows=rows,
                           names=staff.who_of({r.staff_id for r in rows if r.staff_id}))


@bp.post("/callbacks/<int(max=2147483647):callback_id>/<outcome>")
@staff_only(*PHONE_ROLES)
def callback_outcome(callback_id, outcome):
    form = ConfirmForm()
    if not form.validate_on_submit() and "csrf_token" in form.errors:
        abort(400)
    act = {"take": callbacks.take, "done": callbacks.mark_done, "no-answer": callbacks.no_answer}.get(outcome)
    if act is None:
        abort(404)
    try:
        act(callback_id, _staff_actor())
    except NotFound:
        abort(404)
    except InvalidTransition as exc:
        flash(_("Another adviser has taken this callback.") if exc.state == "taken"
              else _("This callback is closed already."))
    else:
        flash({"take": _("The callback is yours: call the number shown."),
               "done": _("The callback is done. Its number is forgotten."),
               "no-answer": _("Nobody answered: the callback is closed and its number forgotten.")}[outcome])
    return redirect(url_for("desk.callbacks_queue"))


# --- accesses reported as not recognised ------------------------------------------------------------

@bp.get("/reports")
@staff_only()
def reports_queue():
    """The new reports and one's own (a supervisor: all), oldest first; what happened, never who reported it."""
    rows = reported.queue(g.staff)
    return render_template("desk/reports.html", rows=rows, names=staff.who_of({r.staff_id for r in rows
                                                                               if r.staff_id}))


NOTE_PROBLEMS = {"empty": _l("Write the note first."),
                 "too_long": _l("A note has 1,000 characters at most."),
                 "number": _l("A note never keeps a social security or phone number: write it without the number.")}


def _report_page(report_id: int, form=None, status: int = 200):
    try:
        report = reported.get(report_id, g.staff)
    except NotFound:
        abort(404)
    return render_template("desk/report.html", report=report, form=form or NoteForm(formdata=None),
                           names=staff.who_of({report.staff_id} if report.staff_id else set())), status


@bp.get("/reports/<int(max=2147483647):report_id>")
@staff_only()
def report(report_id):
    return _report_page(report_id)


@bp.post("/reports/<int(max=2147483647):report_id>/<step>")
@staff_only()
def report_step(report_id, step):
    if step not in ("take", "note", "close"):
        abort(404)
    form = NoteForm() if step == "note" else ConfirmForm()
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        if step == "note":
            return _report_page(report_id, form, 400)
    try:
        if step == "take":
            reported.take(report_id, g.staff)
            flash(_("The report is yours."))
        elif step == "note":
            reported.add_note(report_id, g.staff, form.note.data)
            flash(_("The note is added."))
        else:
            reported.close(report_id, g.staff)
            flash(_("The report is closed. The person is told, by SMS or by post."))
    except NotFound:
        abort(404)
    except reported.NoteRefused as exc:
        form.note.errors = [str(NOTE_PROBLEMS[str(exc)])]
        return _report_page(report_id, form, 400)
    except InvalidTransition:
        flash(_("This report is handled by someone else, or closed already."))
    return redirect(url_for("desk.report", report_id=report_id))


# --- messages that failed, and the letters to print (supervisors) ------------------------------------

@bp.get("/messages")
@staff_only("supervisor")
def messages_queue():
    """Messages that failed for good (numbers masked) and the letter that went instead; the letters to print."""
    return render_template("desk/messages.html", failed=outbox.failed(100), mask=outbox.mask,
                           letters=dashboard.queues()["letters"])


@bp.post("/letters")
@staff_only("supervisor")
def print_letters():
    """The letters queued, as one printable HTML file (as `flask outbox letters`), then marked printed."""
    form = ConfirmForm()
    if not form.validate_on_submit() and "csrf_token" in form.errors:
        abort(400)
    batch = io.StringIO()
    count = outbox.export_letters(batch)
    if not count:
        flash(_("No letter to print."))
        return redirect(url_for("desk.messages_queue"))
    with transaction():
        audit.append(f"staff:{g.staff.id}", None, "letters.printed", "desk", count=count)
    response = make_response(batch.getvalue())
    response.mimetype = "text/html"
    response.headers["Content-Disposition"] = f'attachment; filename="relais-courriers-{clock.today():%Y-%m-%d}.html"'
    return response


# --- a picture of the service (supervisors) ---------------------------------------------------------

@bp.get("/dashboard")
@staff_only("supervisor")
def dashboard_page():
    """Counts a day and what waits now, as server-rendered SVG charts: never a person."""
    return render_template("desk/dashboard.html", charts=dashboard.charts(), queues=dashboard.queues())


def masked_nir(tail: str | None) -> str:
    """All a member of staff sees of a NIR once the person is identified: its last 3 characters, in the groups
    of the card («• •• •• •• ••• ••3 76»)."""
    tail = (tail or "???")[-3:].rjust(3, "?")
    return f"\u2022 \u2022\u2022 \u2022\u2022 \u2022\u2022 \u2022\u2022\u2022 \u2022\u2022{tail[0]} {tail[1:]}"


def register(app) -> None:
    app.register_blueprint(bp)
    app.jinja_env.filters["masked_nir"] = masked_nir
