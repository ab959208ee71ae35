"""The web portal: blueprint registration, page furniture shared by every view, security headers."""
import functools
import gzip
import hashlib
import os
from datetime import date, datetime

import brotli
from flask import (
    Flask,
    Response,
    abort,
    g,
    jsonify,
    make_response,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask_babel import get_translations
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from jinja2.ext import _make_new_gettext, _make_new_ngettext  # the i18n extension's own newstyle wrappers

from .. import dates, zones
from ..domain.health_space import State
from ..domain.reasons import Reason
from ..text import format_reference
from . import locale
from .views import bp

STATIC_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(__file__))), "static")
# Scripts from Relais only (htmx, no inline script, no eval) and its requests back to Relais only.
CSP = ("default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self' data:; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
SERVED = (".css", ".js")  # static/ also keeps htmx's licence beside it, not served


def _compressed(response):
    """An error page is a page like any other on 2G, but Flask-Compress leaves error statuses alone: brotli or
    gzip, as the browser offers, with the libraries Flask-Compress itself uses."""
    encoding = request.accept_encodings.best_match(("br", "gzip"))
    if encoding is None or response.direct_passthrough:
        return response
    data = response.get_data()
    response.set_data(brotli.compress(data) if encoding == "br" else gzip.compress(data))
    response.headers["Content-Encoding"] = encoding
    response.vary.add("Accept-Encoding")
    return response


def _asset_names() -> dict[str, str]:
    """Content-hashed names, so assets can be cached for a year and still change."""
    names = {}
    for name in sorted(os.listdir(STATIC_DIR)):
        if not name.endswith(SERVED):
            continue
        with open(os.path.join(STATIC_DIR, name), "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()[:10]
        stem, ext = os.path.splitext(name)
        names[name] = f"{stem}.{digest}{ext}"
    return names


@functools.cache
def _precompressed(path: str) -> dict[str, bytes]:
    """A script as brotli and gzip, compressed once: Flask-Compress only compresses the types it lists."""
    with open(path, "rb") as f:
        data = f.read()
    return {"br": brotli.compress(data, quality=11), "gzip": gzip.compress(data, 9, mtime=0), "identity": data}


def _htmx_answer(response):
    """What an htmx request gets instead of what a browser would follow: a redirect becomes a whole-page visit
    (htmx would otherwise put the next page inside the history line), an error page replaces the whole page."""
    if response.status_code in (301, 302, 303, 307, 308) and response.location:
        response.headers["HX-Redirect"] = response.headers.pop("Location")
        response.status_code = 200
        response.set_data(b"")
    elif response.status_code >= 400 and response.mimetype == "text/html":
        response.headers["HX-Retarget"] = "body"
        response.headers["HX-Reswap"] = "innerHTML"
    return response


def _fmt_date(value) -> str:
    """A date as it is («1er mars 2027», "1 March 2027": app/dates.py, the one style of every channel); a moment
    as its date where the reader lives."""
    if not value:
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value)
    return dates.day(value, tz=zones.current()) if isinstance(value, datetime) else dates.day(value)


def register(app: Flask) -> None:
    app.register_blueprint(bp)

    assets = _asset_names()
    by_hashed = {v: k for k, v in assets.items()}

    @app.get("/assets/<name>")
    def asset(name):
        original = by_hashed.get(name)
        if original is None:
            abort(404)
        if original.endswith(".js"):
            encoding = request.accept_encodings.best_match(("br", "gzip")) or "identity"
            body = _precompressed(os.path.join(STATIC_DIR, original))[encoding]
            response = Response(body, mimetype="text/javascript")
            if encoding != "identity":
                response.headers["Content-Encoding"] = encoding
            response.vary.add("Accept-Encoding")
        else:
            response = send_file(os.path.join(STATIC_DIR, original), max_age=365 * 24 * 3600)
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return response

    @app.before_request
    def no_one_yet():
        g.person_id = g.acting_for = None
        zones.read_by(lambda: g.get("person_id"))  # times in the signed-in person's zone, Paris for a visitor

    @app.context_processor
    def furniture():
        lang = locale.select_locale()
        # The page's catalog, looked up once: a history page says about 180 strings, and Flask-Babel's own
        # gettext finds the catalog again for each one (a third of the page's rendering time).
        translations = get_translations()
        return {
            "gettext": _make_new_gettext(translations.ugettext),
            "ngettext": _make_new_ngettext(translations.ungettext),
            "asset_url": lambda name: url_for("asset", name=assets[name]),
            "lang": lang,
            "other_lang": "en" if lang == "fr" else "fr",
            "signed_in": getattr(g, "person_id", None) is not None,
            "fmt_ref": format_reference,
            # the numbers a page may say, from the settings
            "otp_minutes": app.config["OTP_VALID_MINUTES"],
            "most_helpers": app.config["HELPERS_PER_PERSON"],
            "State": State,
            "Reason": Reason,
            "fmt_date": _fmt_date,
            "fmt_datetime": lambda d: zones.fmt_datetime(d, "d MMMM y, HH:mm"),
            "lang_url": lambda code: url_for(request.endpoint or "web.home",
                                             **{**(request.view_args or {}), **request.args.to_dict(), "lang": code}),
        }

    @app.after_request
    def headers(response):
        h = response.headers
        h.setdefault("Content-Security-Policy", CSP)
        h["X-Content-Type-Options"] = "nosniff"
        h["Referrer-Policy"] = "no-referrer"
        h["X-Frame-Options"] = "DENY"
        h["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        if app.config["SESSION_COOKIE_SECURE"]:
            h["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        if request.endpoint != "asset":
            # Pages carry personal data or a CSRF token: never stored by a browser or a proxy.
            h["Cache-Control"] = "no-store"
            h.add("Vary", "Cookie")
        if request.headers.get("HX-Request") == "true":
            _htmx_answer(response)
        return locale.remember(response)

    def error_page(status: int, title: str, text: str):
        return _compressed(make_response(render_template("pages/error.html", title=title, text=text), status))

    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        return error_page(400, _("This page has expired"),
                          _("For your safety, the form had expired. Go back, reload the page and try again."))

    @app.errorhandler(400)
    def bad_request(exc):
        return error_page(400, _("We could not read this request"), _("Go back and try again."))

    @app.errorhandler(413)
    def too_large(exc):
        # Refused before it is parsed: no form, webhook or event of Relais is this large.
        if request.path.startswith("/api/"):
            return jsonify(error="too_large", message="The request is larger than this service accepts."), 413
        if request.path.startswith("/ivr/"):
            return Response("", status=413, mimetype="text/plain")
        return error_page(413, _("This request is too large"),
                          _("Nothing was changed. Go back and check what you typed, then try again."))

    @app.errorhandler(403)
    def forbidden(exc):
        return error_page(403, _("This page is not open to you"),
                          _("Nothing was changed. Go back to the page you came from."))

    @app.errorhandler(404)
    def not_found(exc):
        return error_page(404, _("Page not found"), _("Check the address, or go back to the home page."))

    @app.errorhandler(405)
    def not_allowed(exc):
        return error_page(405, _("Page not found"), _("Check the address, or go back to the home page."))

    @app.errorhandler(500)
    def server_error(exc):
        return error_page(500, _("Sorry, something went wrong"),
                          _("Nothing was changed. Try again in a few minutes, or call 34 22."))

    app.jinja_env.globals["session"] = session
