"""Language of each page: the ?lang= link, then the remembered choice, then Accept-Language; French first."""
from flask import current_app, g, request

COOKIE = "lang"


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    chosen = getattr(g, "lang_override", None) or request.args.get("lang") or request.cookies.get(COOKIE)
    if chosen in languages:
        return chosen
    return request.accept_languages.best_match(languages) or languages[0]


def remember(response):
    """Keep the language chosen by link for a year."""
    lang = request.args.get("lang")
    if lang in current_app.config["LANGUAGES"] and request.cookies.get(COOKIE) != lang:
        response.set_cookie(COOKIE, lang, max_age=365 * 24 * 3600, samesite="Lax", httponly=True,
                            secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response
