"""Views of the portal: each one reads a form, calls one service, and renders what a person needs next."""
import re
from datetime import date
from functools import cache, wraps
from urllib.parse import parse_qsl, urlsplit

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
from flask_babel import format_datetime, get_locale, pgettext
from flask_babel import gettext as _
from markupsafe import Markup, escape
from werkzeug.datastructures import MultiDict

from .. import clock, dates, reasons
from ..domain import identifiers
from ..domain.emergency import Setting
from ..domain.errors import (
    CodeSpent,
    HelperRefused,
    IdentificationFailed,
    IdentificationLocked,
    InvalidIdentifier,
    InvalidTransition,
    NotAuthorized,
    NotFound,
    WindowClosed,
)
from ..domain.mandates import add_months
from ..domain.reasons import Reason
from ..services import Actor, access, commands, helpers, identity, mandates, spaces, staff
from ..services.crypto import lookup
from .forms import (
    ActingForForm,
    CloseForm,
    ConfirmForm,
    HelperForm,
    IdentifyForm,
    NewCodeForm,
    NoticesForm,
    SmsCodeForm,
)

bp = Blueprint("web", __name__)
NEXT_STEPS = {"space", "oppose", "close", "reopen", "history", "emergency", "helpers_page", "notices"}
_SHORT_NUMBER = re.compile(r"(?<!\d)34 22(?!\d)")


@bp.app_template_filter("nb")
def keep_together(text):
    """The 34 22 never broken across two lines: a no-break space between its two pairs (references untouched)."""
    if text is None:
        return text
    joined = _SHORT_NUMBER.sub("34\u00a022", str(text))
    return Markup(joined) if isinstance(text, Markup) else joined


# --- signing in and out -------------------------------------------------------------------

def signed_in(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        person_id, reason = identity.resolve_session(session.get("sid"))
        if person_id is None:
            session.clear()
            if reason:
                flash(_("You were signed out after %(minutes)s minutes without activity. Please identify again.",
                        minutes=current_app.config["SESSION_IDLE_MINUTES"])
                      if reason == "idle" else _("Your visit has ended. Please identify again."))
            step = (request.endpoint or "").removeprefix("web.")
            return redirect(url_for("web.identify", next=step if step in NEXT_STEPS else None))
        g.person_id = person_id
        g.actor = Actor(person_id, "web")
        g.subject_id = session.get("subject", person_id)
        if g.subject_id != person_id and mandates.current_mandate(person_id, g.subject_id, clock.today()) is None:
            session["subject"] = g.subject_id = person_id
            flash(_("Your mandate for this person is not current any more. You are acting for yourself."))
        g.acting_for = None if g.subject_id == person_id else spaces.view(g.actor, g.subject_id)
        g.sex = _sex_for_words(session.get("sex")) if g.acting_for is None else None  # «opposée», «née»
        try:
            return view(*args, **kwargs)
        except NotAuthorized as exc:
            flash(reasons.say(exc.reason, reasons.WEB))
            return redirect(url_for("web.space"))
    return wrapper


_FEMININE_PROBE = "You said no to your health space"


def _sex_for_words(sex: str | None) -> str | None:
    """The sex the words agree with: 'f' only once the catalog has the feminine forms (context "said to a
    woman"), so that a woman never reads an English sentence among French ones meanwhile."""
    if sex == "f" and get_locale().language != "en" \
            and pgettext("said to a woman", _FEMININE_PROBE) == _FEMININE_PROBE:
        return None
    return sex


def _client() -> str:
    return request.remote_addr or "unknown"


def _locked(exc: IdentificationLocked) -> str:
    return reasons.say(exc.reason, reasons.WEB, time=_fmt_until(exc.until))


def _welcome(person_id: int, step: str, sex: str | None):
    """A new session at identification: nothing carried over from before (but the sex the NIR gave)."""
    session.clear()
    session["sid"] = identity.start_session(person_id)
    if sex:
        session["sex"] = sex
    if mandates.represented_by(person_id):
        return redirect(url_for("web.acting_for", next=step))
    return redirect(url_for("web." + step))


@bp.route("/acting-for", methods=["GET", "POST"])
@signed_in
def acting_for():
    """A representative chooses whom they act for: themselves or a person they represent today."""
    step = request.args.get("next") if request.args.get("next") in NEXT_STEPS else "space"
    me = spaces.view(g.actor, g.person_id)
    form = ActingForForm()
    form.person.choices = [(str(g.person_id), _("Myself (%(name)s)", name=f"{me.given_name} {me.family_name}"))] + [
        (str(p.person_id), f"{p.given_name} {p.family_name}") for p in mandates.represented_by(g.person_id)]
    if form.validate_on_submit():
        session["subject"] = int(form.person.data)
        return redirect(url_for("web." + step))
    return render_template("pages/acting_for.html", form=form, step=step)


def _step() -> str:
    return request.args.get("next") if request.args.get("next") in NEXT_STEPS else "space"


def _already_signed_in():
    """A person signed in is never asked to identify again while the session lasts: straight to the step."""
    if request.method == "GET" and identity.resolve_session(session.get("sid"))[0] is not None:
        return redirect(url_for("web." + _step()))
    return None


@bp.route("/identify", methods=["GET", "POST"])
def identify():
    if (done := _already_signed_in()) is not None:
        return done
    form = IdentifyForm()
    step = _step()
    failure = spent = None
    if form.validate_on_submit():
        try:
            person_id = identity.identify(form.nir.clean, form.vitale_serial.clean, form.birth_date.clean,
                                          form.code.clean, client=_client(), channel="web")
        except CodeSpent as exc:  # everything right but the letter's code, used or expired: say so, offer the way
            failure, spent = reasons.say(exc.reason, reasons.WEB), exc
        except IdentificationFailed:
            failure = _("These details do not match our records. Check the four numbers and try again. "
                        "After several mistakes, you will have to wait before trying again.")
        except IdentificationLocked as exc:
            failure = _locked(exc)
        else:
            return _welcome(person_id, step, identity.sex_of(form.nir.clean))
    return render_template("pages/identify.html", form=form, failure=failure, spent=spent, step=step,
                           sex=_sex_for_words(identity.sex_of(form.nir.clean)) if spent else None,
                           opposed_day=dates.day(spent.opposed_on) if spent and spent.opposed_on else None)


# --- htmx: pieces of pages, for the pages that load it (history, identification) ---------------------

@bp.get("/identify/check")
def identify_check():
    """The slip in the NIR or the card serial, in the form's own words, as the person leaves the field (htmx).

    Only the format check of the form runs: no look-up, the same answer for anyone's number, so it says nothing
    about any person, and costs what the form's own check costs: no limit to count (a count would be a row in the
    database, as every limit of Relais is: QUALITY's concurrency rule). A value longer than any of the two is not
    read."""
    names = [name for name in ("nir", "vitale_serial") if name in request.args]
    if len(names) != 1:
        return "", 204
    value = request.args[names[0]]
    form = NewCodeForm(formdata=MultiDict({names[0]: value if len(value) <= 40 else "0" * 41}), meta={"csrf": False})
    field = form[names[0]]
    if not value.strip() or field.validate(form):
        return ""  # nothing to say: an earlier slip is cleared
    return escape(str(field.errors[0]))


def _htmx() -> bool:
    """An htmx request for a piece of a page (the reload after the back button gets the whole page)."""
    return request.headers.get("HX-Request") == "true" and "HX-History-Restore-Request" not in request.headers


@cache
def _compiled(env, source: str):
    return env.from_string(source)


def _piece(source: str, **context):
    """Macros of templates/components rendered alone, with the pages' furniture: what htmx swaps in."""
    response = make_response(render_template(_compiled(current_app.jinja_env, source), **context))
    response.vary.add("HX-Request")
    return response


def _whole_page(response):
    """A whole page to an htmx request: it replaces the page's body, as a visit would (and its title)."""
    response = make_response(response)
    response.headers["HX-Retarget"] = "body"
    response.headers["HX-Reswap"] = "innerHTML"
    return response


_IMPORT = '{% import "components/history.html" as h with context %}'
HISTORY_LIST = _IMPORT + ('<p id="count" data-hx-swap-oob="innerHTML">{{ h.count(result, True) }}</p>'
                          '{{ h.results(result, args, focus) }}')
HISTORY_LINE = _IMPORT + "{{ h.entry(line, True) }}"
HISTORY_ASKING = _IMPORT + "{{ h.asking(event, kind, form, cancel) }}"
HISTORY_DONE = _IMPORT + "{{ h.done(record) }}"


def _history_url(**extra) -> str:
    """The history page the person is on (htmx says which: HX-Current-URL), by its dates and page only."""
    current = urlsplit(request.headers.get("HX-Current-URL", ""))
    args = {k: v for k, v in parse_qsl(current.query) if k in ("from", "to", "page")} \
        if current.path == url_for("web.history") else {}
    return url_for("web.history", **args, **extra)


def _in_line(response):
    """What an action done from a history line answers htmx: its receipt in the line; anything else a whole page
    (a redirect becomes a visit of the page it names: see _htmx_answer in web/__init__.py)."""
    if response.status_code in (302, 303):
        endpoint, values = current_app.url_map.bind("").match(urlsplit(response.location).path)
        if endpoint == "web.receipt":
            return _piece(HISTORY_DONE, record=spaces.receipt(g.actor, values["reference"]))
        return response
    return _whole_page(response)


def _fmt_until(moment) -> str:
    return f"{dates.day(moment, year=False)}, {format_datetime(moment, 'HH:mm')}"


@bp.route("/identify/sms", methods=["GET", "POST"])
def identify_sms():
    """Lost letter: the same three numbers, then a code sent by SMS to the registered mobile."""
    if (done := _already_signed_in()) is not None:
        return done
    form = NewCodeForm()
    step = _step()
    failure = None
    if form.validate_on_submit():
        try:
            identity.send_sign_in_code(form.nir.clean, form.vitale_serial.clean, form.birth_date.clean,
                                       client=_client(), channel="web")
        except IdentificationLocked as exc:
            failure = _locked(exc)
        else:
            session["sms_for"] = lookup("nir", form.nir.clean)  # a keyed hash, never the NIR itself
            session["sms_sex"] = identity.sex_of(form.nir.clean)
            return redirect(url_for("web.identify_sms_code", next=step))
    return render_template("pages/identify_sms.html", form=form, failure=failure, step=step)


@bp.route("/identify/sms/code", methods=["GET", "POST"])
def identify_sms_code():
    if "sms_for" not in session:
        return redirect(url_for("web.identify_sms"))
    form = SmsCodeForm()
    step = request.args.get("next") if request.args.get("next") in NEXT_STEPS else "space"
    failure = None
    if form.validate_on_submit():
        try:
            person_id = identity.identify_with_sms_code(session["sms_for"], form.code.clean, client=_client(),
                                                        channel="web")
        except IdentificationFailed:
            failure = _("This code is not right or has expired. Check the SMS, or ask for a new code.")
        except IdentificationLocked as exc:
            failure = _locked(exc)
        else:
            return _welcome(person_id, step, session.get("sms_sex"))
    return render_template("pages/identify_sms_code.html", form=form, failure=failure, step=step)


@bp.route("/code/new", methods=["GET", "POST"])
def new_code():
    form = NewCodeForm()
    failure = None
    if form.validate_on_submit():
        try:
            identity.request_new_code(form.nir.clean, form.vitale_serial.clean, form.birth_date.clean,
                                      client=_client(), channel="web")
        except IdentificationLocked as exc:
            failure = _locked(exc)
        else:
            return redirect(url_for("web.code_sent"))
    return render_template("pages/code_new.html", form=form, failure=failure)


@bp.get("/code/sent")
def code_sent():
    return render_template("pages/code_sent.html")


@bp.post("/sign-out")
def sign_out():
    form = ConfirmForm()
    if not form.validate_on_submit() and "csrf_token" in form.errors:
        abort(400)
    identity.end_session(session.get("sid"))
    session.clear()
    return redirect(url_for("web.signed_out"))


@bp.get("/signed-out")
def signed_out():
    return render_template("pages/signed_out.html")


# --- public pages ---------------------------------------------------------------------------

_HOME: dict[tuple[str, bytes], str] = {}


@bp.get("/")
def home():
    """The front page. A first visit (no cookie yet) gets the page rendered once per language and kept:
    it says the same to every visitor, and it is the page most requested when the letters arrive."""
    first_visit = current_app.config["SESSION_COOKIE_NAME"] not in request.cookies
    key = (get_locale().language, request.query_string)
    if first_visit and key in _HOME:
        return _HOME[key]
    person_id, _reason = identity.resolve_session(session.get("sid"))
    g.person_id = person_id
    page = render_template("pages/home.html")
    if first_visit and person_id is None and request.query_string in (b"", b"lang=fr", b"lang=en") \
            and not session.get("_flashes"):
        _HOME[key] = page
    return page


@bp.get("/accessibility")
def accessibility():
    return render_template("pages/accessibility.html")


# --- the health space ----------------------------------------------------------------------

def _idempotency(form: ConfirmForm) -> str:
    # Namespaced by person, so a token from one person's page can never name another's receipt.
    return f"web:{g.person_id}:{g.subject_id}:{form.token.data[:30]}"


def _refused(reason: Reason):
    """A rule said no: say it plainly on the space page (too late to say no: its own page); nothing was changed."""
    if reason == Reason.WINDOW_CLOSED:
        return render_template("pages/window_closed.html", space=spaces.view(g.actor, g.subject_id))
    flash(reasons.say(reason, reasons.WEB))
    return redirect(url_for("web.space"))


def _act(command: commands.Command, form: ConfirmForm):
    """Dispatch the person's confirmed command; its receipt, or the page that says why not."""
    try:
        receipt = commands.dispatch(command, g.actor, g.subject_id, _idempotency(form))
    except (WindowClosed, InvalidTransition, NotFound) as exc:
        return _refused(exc.reason)
    return redirect(url_for("web.receipt", reference=receipt.reference))


def _space_action(action: str, template: str, form, command):
    """Saying no, closing, reopening: the page with its consequences, then the command once confirmed."""
    view = spaces.view(g.actor, g.subject_id)
    if form.validate_on_submit():
        return _act(command(), form)
    if action in view.refusals:
        return _refused(view.refusals[action])
    return render_template(template, space=view, form=form.with_token())


@bp.get("/space")
@signed_in
def space():
    view = spaces.view(g.actor, g.subject_id)
    return render_template("pages/space.html", space=view, representatives=mandates.representatives_of(g.subject_id),
                           helping=[] if g.acting_for else mandates.represented_by(g.person_id))


@bp.route("/oppose", methods=["GET", "POST"])
@signed_in
def oppose():
    return _space_action("oppose", "pages/oppose.html", ConfirmForm(), commands.Oppose)


@bp.route("/close", methods=["GET", "POST"])
@signed_in
def close():
    form = CloseForm()
    return _space_action("close", "pages/close.html", form, lambda: commands.Close(delete=form.choice.data == "delete"))


@bp.route("/reopen", methods=["GET", "POST"])
@signed_in
def reopen():
    return _space_action("reopen", "pages/reopen.html", ConfirmForm(), commands.Reopen)


@bp.get("/receipt/<reference>")
@signed_in
def receipt(reference):
    if not (reference.isascii() and reference.isdigit() and len(reference) == 9):
        abort(404)
    try:
        record = spaces.receipt(g.actor, reference)
    except (NotFound, NotAuthorized):
        abort(404)
    return render_template("pages/receipt.html", record=record, space=spaces.view(g.actor, g.subject_id))


# --- emergency access ---------------------------------------------------------------------

@bp.get("/emergency")
@signed_in
def emergency():
    return render_template("pages/emergency.html", space=spaces.view(g.actor, g.subject_id))


@bp.route("/emergency/<setting>/<state>", methods=["GET", "POST"])
@signed_in
def emergency_change(setting, state):
    if setting not in {s.value for s in Setting} or state not in ("on", "off"):
        abort(404)
    view = spaces.view(g.actor, g.subject_id)
    on = state == "on"
    form = ConfirmForm()
    if form.validate_on_submit():
        return _act(commands.SetEmergency(setting, on), form)
    return render_template("pages/emergency_change.html", space=view, setting=setting, on=on,
                           form=form.with_token())


# --- the message at each access -------------------------------------------------------------

@bp.route("/notices", methods=["GET", "POST"])
@signed_in
def notices():
    """Who looked, told at each access: naming who (the default), naming nobody (a shared phone), or not."""
    view = spaces.view(g.actor, g.subject_id)
    if view.restricted == Reason.HELPER_LIMIT:
        raise NotAuthorized(Reason.HELPER_LIMIT)
    form = NoticesForm()
    if form.validate_on_submit():
        command = commands.SetNotifications(on=form.choice.data != "off",
                                            discreet=None if form.choice.data == "off" else
                                            form.choice.data == "discreet")
        return _act(command, form)
    if not form.is_submitted():
        form.choice.data = view.notices
    return render_template("pages/notices.html", space=view, form=form.with_token())


# --- access history ------------------------------------------------------------------------

def _date_arg(name: str) -> tuple[date | None, str | None]:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None, None
    try:
        return identifiers.parse_birth_date(raw, date(9999, 12, 31)), None
    except InvalidIdentifier:
        if dates.impossible(raw):
            return None, _("This date does not exist. Check the day and the month.")
        return None, _("Enter a date as day, month and year, for example 01/11/2026.")


@bp.get("/history")
@signed_in
def history():
    date_from, from_error = _date_arg("from")
    date_to, to_error = _date_arg("to")
    if date_from and date_to and date_to < date_from:
        to_error = _("The end date must be the same as or after the start date.")
    page = request.args.get("page", "1")
    page = int(page) if page.isascii() and page.isdigit() and len(page) < 7 else 1
    view = spaces.view(g.actor, g.subject_id)
    result = access.history(g.actor, g.subject_id, page, None if from_error else date_from,
                            None if to_error else date_to)
    if _htmx() and not (from_error or to_error):  # with htmx: the list alone, or one line (a confirmation cancelled)
        line = request.args.get("line", "")
        if not line:
            return _piece(HISTORY_LIST, result=result, args=request.args, focus="page" in request.args)
        lines = [li for li in result.lines if str(li.event.id) == line]
        if not lines:  # not on that page any more: the page itself, as a visit
            return redirect(url_for("web.history", **{k: v for k, v in request.args.items() if k != "line"}))
        return _piece(HISTORY_LINE, line=lines[0])
    response = make_response(render_template("pages/history.html", result=result, from_error=from_error,
                                             to_error=to_error, space=view, args=request.args))
    response.vary.add("HX-Request")
    return _whole_page(response) if _htmx() else response


@bp.get("/history/activity")
@signed_in
def activity():
    records = spaces.activity(g.actor, g.subject_id)
    return render_template("pages/activity.html", records=records, space=spaces.view(g.actor, g.subject_id),
                           names=mandates.names_of({r.actor_id for r in records if r.actor_id is not None}),
                           desk_staff=staff.who_of({r.staff_id for r in records if r.staff_id is not None}))


# --- trusted helpers -----------------------------------------------------------------------

@bp.get("/helpers")
@signed_in
def helpers_page():
    view = spaces.view(g.actor, g.subject_id)
    if view.restricted == Reason.HELPER_LIMIT:
        raise NotAuthorized(Reason.HELPER_LIMIT)
    return render_template("pages/helpers.html", space=view, helpers=helpers.helpers_of(g.subject_id),
                           full=len(helpers.helpers_of(g.subject_id)) >= current_app.config["HELPERS_PER_PERSON"])


@bp.route("/helpers/new", methods=["GET", "POST"])
@signed_in
def helper_new():
    view = spaces.view(g.actor, g.subject_id)
    if view.restricted:
        raise NotAuthorized(view.restricted)
    form = HelperForm()
    failure = None
    if form.validate_on_submit():
        request_ = commands.NameHelper(form.nir.clean, form.birth_date.clean,
                                       add_months(clock.today(), int(form.months.data)))
        try:
            receipt = commands.dispatch(request_, g.actor, g.subject_id, _idempotency(form))
        except HelperRefused as exc:
            failure = reasons.say(exc.reason, reasons.WEB)
        else:
            return redirect(url_for("web.receipt", reference=receipt.reference))
    return render_template("pages/helper_new.html", space=view, form=form.with_token(), failure=failure)


@bp.route("/helpers/<int(max=2147483647):mandate_id>/remove", methods=["GET", "POST"])
@signed_in
def helper_remove(mandate_id):
    view = spaces.view(g.actor, g.subject_id)
    if view.restricted == Reason.HELPER_LIMIT:
        raise NotAuthorized(Reason.HELPER_LIMIT)
    current = {m.id: h for h, m in helpers.helpers_of(g.subject_id)}
    if mandate_id not in current:
        abort(404)
    form = ConfirmForm()
    if form.validate_on_submit():
        return _act(commands.RemoveHelper(mandate_id), form)
    return render_template("pages/helper_remove.html", space=view, helper=current[mandate_id],
                           mandate_id=mandate_id, form=form.with_token())


@bp.get("/history/blocked")
@signed_in
def blocked():
    return render_template("pages/blocked.html", blocks=access.blocked_professionals(g.actor, g.subject_id),
                           space=spaces.view(g.actor, g.subject_id))


def _history_action(event_id: int, kind: str):
    try:
        event = access.event_for(g.actor, g.subject_id, event_id)
    except NotFound:
        abort(404)
    form = ConfirmForm()
    if form.validate_on_submit():
        response = _act(commands.Block(event_id) if kind == "block" else commands.Report(event_id), form)
        return _in_line(response) if _htmx() else response
    if _htmx():  # the confirmation inside the history line; Cancel puts the line back
        return _piece(HISTORY_ASKING, event=event, kind=kind, form=form.with_token(),
                      cancel=_history_url(line=event_id))
    response = make_response(render_template("pages/history_action.html", event=event, kind=kind,
                                             form=form.with_token()))
    response.vary.add("HX-Request")
    return response


@bp.route("/history/<int(max=2147483647):event_id>/block", methods=["GET", "POST"])
@signed_in
def block(event_id):
    return _history_action(event_id, "block")


@bp.route("/history/<int(max=2147483647):event_id>/report", methods=["GET", "POST"])
@signed_in
def report(event_id):
    return _history_action(event_id, "report")


@bp.route("/history/blocked/<int(max=2147483647):block_id>/unblock", methods=["GET", "POST"])
@signed_in
def unblock(block_id):
    blocks = {b.id: b for b in access.blocked_professionals(g.actor, g.subject_id)}
    if block_id not in blocks:
        abort(404)
    form = ConfirmForm()
    if form.validate_on_submit():
        return _act(commands.Unblock(block_id), form)
    return render_template("pages/unblock.html", block=blocks[block_id], form=form.with_token())
