"""Sessions and web hardening: sign-out ends the visit, 15 idle minutes end it, CSRF, headers, no 500."""
from datetime import timedelta

from app import clock
from app.models import WebSession, db
from tests.conftest import User


def test_sign_out_really_ends_the_session(app, enrol):
    holder = enrol()
    u = User(app.test_client(), "en")
    space = u.identify(holder)
    cookie = u.client.get_cookie("relais").value
    page = u.submit(space, form_index=0)  # the header's sign-out form
    assert page.h1 == "You are signed out"
    # replaying the old cookie gets nothing
    other = app.test_client()
    other.set_cookie("relais", cookie)
    assert other.get("/space").status_code == 302
    with app.app_context():
        assert db.session.scalar(db.select(WebSession.end_reason)) == "signed_out"


def test_idle_for_15_minutes_signs_out(app, enrol):
    holder = enrol()
    u = User(app.test_client(), "en")
    start = clock.now()
    clock.freeze(start)
    u.identify(holder)
    clock.freeze(start + timedelta(minutes=14))
    assert u.get("/space").soup.select_one(".state")
    clock.freeze(start + timedelta(minutes=30))
    page = u.get("/space")
    assert page.h1 == "Identify yourself" and "15 minutes" in page.text


def test_a_new_session_id_at_identification(app, enrol):
    holder = enrol()
    u = User(app.test_client(), "en")
    u.get("/identify")
    before = u.client.get_cookie("relais").value
    u.identify(holder)
    assert u.client.get_cookie("relais").value != before


def test_posting_without_csrf_token_changes_nothing(app, enrol):
    holder = enrol(days_ago=10)
    u = User(app.test_client(), "en")
    u.identify(holder)
    response = u.client.post("/oppose", data={"token": "abc"})
    assert response.status_code == 400
    assert "expired" in response.get_data(as_text=True)
    with app.app_context():
        from app.models import HealthSpace
        assert db.session.get(HealthSpace, holder.person_id).state == "notified"


def test_security_headers(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src" not in csp or "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_session_cookie_flags(app):
    client = app.test_client()
    page = client.get("/identify")
    header = page.headers.get("Set-Cookie", "")
    assert "HttpOnly" in header and "SameSite=Lax" in header


def test_secure_cookie_with_host_prefix_behind_https():
    from app import create_app
    secure = create_app({"SESSION_COOKIE_SECURE": True, "SESSION_COOKIE_NAME": "__Host-relais",
                         "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert secure.config["SESSION_COOKIE_NAME"].startswith("__Host-")


def test_static_asset_cached_for_a_year(client):
    page = client.get("/").get_data(as_text=True)
    import re
    href = re.search(r'href="(/assets/relais\.[0-9a-f]+\.css)"', page).group(1)
    response = client.get(href)
    assert response.status_code == 200 and "immutable" in response.headers["Cache-Control"]


def test_language_link_is_remembered(app):
    client = app.test_client()
    assert 'lang="fr"' in client.get("/", headers={"Accept-Language": "fr-FR"}).get_data(as_text=True)
    assert 'lang="en"' in client.get("/?lang=en").get_data(as_text=True)
    assert 'lang="en"' in client.get("/").get_data(as_text=True)  # remembered by cookie


def test_accept_language_is_the_default(app):
    client = app.test_client()
    assert '<html lang="en"' in client.get("/", headers={"Accept-Language": "en-GB,en"}).get_data(as_text=True)


def test_odd_input_never_gives_500(app, enrol):
    holder = enrol(days_ago=60)
    u = User(app.test_client(), "en")
    u.identify(holder)
    for url in ("/history?page=-1", "/history?page=99999999999", "/history?from=%00", "/receipt/%27%22",
                "/history/999999/block", "/emergency/samu/maybe", "/assets/nope.css", "/identify?next=evil"):
        assert u.client.get(url).status_code in (200, 302, 404), url
    for data in ({"nir": "\x00" * 5000}, {"birth_date": "99/99/9999"}, {"code": "é" * 300}):
        page = u.identify(holder, **data)
        assert page.status == 200
