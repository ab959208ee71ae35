"""Hostile use across channels and workers: guessing, enumeration, CSRF, session fixation, reaching others."""
import re
from datetime import date

import pytest

from app import create_app
from app.domain.errors import IdentificationLocked, NotAuthorized
from app.models import ActionRecord, AuditEntry, HealthSpace, Throttle, db
from app.services import Actor, access, identity, spaces
from tests.conftest import TEST_CONFIG, Caller, User

WRONG_SERIAL = "80000000000"


@pytest.fixture
def second_worker(app):
    """Another worker process of the same deployment: its own app object, the same database."""
    other = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]})
    yield other
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


def _fail_on_web(app, holder, times, ip="203.0.113.7"):
    for _ in range(times):
        u = User(app.test_client(), "en")
        page = u.get("/identify")
        u.client.environ_base["REMOTE_ADDR"] = ip
        u.submit(page, {**holder.form(), "vitale_serial": WRONG_SERIAL})


def test_failures_on_the_web_and_the_phone_and_two_workers_count_together(app, second_worker, enrol):
    holder = enrol(days_ago=10)
    _fail_on_web(app, holder, 4)
    with second_worker.app_context():  # the other worker sees the same count
        row = db.session.get(Throttle, identity._keys(holder.nir, "x")[0])
        assert row.failures == 4
    c = Caller(second_worker).start().silence().press("1")  # a call answered by the other worker
    c.press(holder.nir + "#").press(WRONG_SERIAL + "#").press(holder.birth_date.strftime("%d%m%Y") + "#")
    c.press("123456789012#").press("1")
    with app.app_context():
        assert db.session.get(Throttle, identity._keys(holder.nir, "x")[0]).failures == 5
        # Now the right details wait too, on every channel and worker: the back-off is shared.
        with pytest.raises(IdentificationLocked):
            identity.identify(holder.nir, holder.vitale_serial, holder.birth_date, holder.code, client="web:other",
                              channel="web")
    page = User(second_worker.test_client(), "en").identify(holder)
    assert "Too many attempts" in page.text and page.h1 == "Identify yourself"


def test_one_calling_number_trying_many_nirs_is_stopped_for_the_hour(app, enrol):
    app.config["IP_FAILURES_PER_HOUR"], saved = 3, app.config["IP_FAILURES_PER_HOUR"]
    try:
        people = [enrol(days_ago=10) for _ in range(4)]
        for p in people[:3]:
            c = Caller(app, caller="+33655555555").start().press("9").press("1")
            c.press(p.nir + "#").press(WRONG_SERIAL + "#").press("01011950#").press("123456789012#").press("1")
        c = Caller(app, caller="+33655555555").start().press("9").press("1").identify(people[3])
        assert "Too many attempts" in c.text
        # Another caller is not held back by that number's guesses.
        assert "Too many attempts" not in Caller(app, caller="+33644444444").start().press("9").press("1") \
            .identify(people[3]).text
    finally:
        app.config["IP_FAILURES_PER_HOUR"] = saved


def _verifications(monkeypatch):
    """Count argon2 verifications: the work that would show in timing."""
    calls = []
    real = identity.verify_secret
    monkeypatch.setattr(identity, "verify_secret",
                        lambda stored, given, *kind: calls.append(stored is None) or real(stored, given, *kind))
    return calls


def _page_without_tokens(page, nir: str) -> str:
    """The page as it differs by nothing but the form's token and the number typed (shown back)."""
    return re.sub(r'name="csrf_token" value="[^"]*"', "", page.html).replace(nir, "NIR")


@pytest.mark.parametrize("channel_path", ["/identify", "/code/new", "/identify/sms"])
def test_an_unknown_nir_gets_the_same_page_and_the_same_work(app, enrol, monkeypatch, channel_path):
    holder = enrol(days_ago=10)
    unknown = "158016912345639"
    answers, work = [], []
    for nir in (holder.nir, unknown):
        calls = _verifications(monkeypatch)
        u = User(app.test_client(), "en")
        page = u.get(channel_path)
        fields = {k: v for k, v in {**holder.form(), "nir": nir, "vitale_serial": WRONG_SERIAL}.items()
                  if page.soup.select_one(f"[name={k}]")}
        answers.append(_page_without_tokens(u.submit(page, fields), nir))
        work.append(len(calls))
    assert answers[0] == answers[1]
    assert work[0] == work[1] >= 1  # the same number of argon2 verifications: no timing to tell them apart


def test_a_csrf_token_from_another_session_is_refused(app, enrol):
    victim, attacker = enrol(days_ago=10), enrol(days_ago=10)
    a = User(app.test_client(), "en")
    token = a.identify(attacker).soup.select_one("input[name=csrf_token]")["value"]
    v = User(app.test_client(), "en")
    v.identify(victim)
    response = v.client.post("/oppose", data={"csrf_token": token, "token": "t" * 22})
    assert response.status_code == 400
    with app.app_context():
        assert db.session.get(HealthSpace, victim.person_id).state == "notified"
        assert db.session.scalar(db.select(db.func.count(ActionRecord.id))) == 0


def test_a_cookie_planted_before_identification_gives_nothing_after(app, enrol):
    victim = enrol(days_ago=10)
    attacker = app.test_client()
    attacker.get("/identify")
    planted = attacker.get_cookie("relais").value
    v = app.test_client()
    v.set_cookie("relais", planted)  # the victim is made to use the attacker's cookie
    User(v, "en").identify(victim)
    assert v.get_cookie("relais").value != planted
    page = User(attacker, "en").get("/space")  # the attacker's copy of the cookie signs nobody in
    assert page.h1 == "Identify yourself"


def test_nobody_reaches_another_persons_space_by_any_door(app, enrol, tmp_path):
    me, other = enrol(days_ago=10), enrol(days_ago=10)
    actor = Actor(me.person_id, "web")
    with app.app_context():
        for attempt in (lambda: spaces.view(actor, other.person_id),
                        lambda: access.history(actor, other.person_id),
                        lambda: spaces.set_emergency_access(actor, other.person_id, "samu", False),
                        lambda: spaces.oppose(actor, other.person_id)):
            with pytest.raises(NotAuthorized):
                attempt()
        refused = db.session.scalars(db.select(AuditEntry.action).where(AuditEntry.action.like("refused.%"))).all()
        assert len(refused) == 4
    u = User(app.test_client(), "en")
    page = u.identify(me)
    # A forged «acting for» choice and a session value pointing at someone else both fall back to oneself.
    assert u.submit(u.get("/acting-for"), {"person": str(other.person_id)}).errors
    with u.client.session_transaction() as s:
        s["subject"] = other.person_id
    page = u.get("/space")
    assert page.soup.select_one(".acting") is None and page.h1 == "My health space"
    with app.app_context():
        assert db.session.get(HealthSpace, other.person_id).samu_access is True


def test_a_representative_guessing_nirs_by_phone_learns_nothing_and_is_stopped(app, enrol):
    me = enrol(days_ago=10, birth_date=date(1980, 1, 1))
    others = [enrol(days_ago=10) for _ in range(3)]
    c = Caller(app).start().silence().press("2").identify(me)
    heard = set()
    for p in others:
        c.press(p.nir + "#")
        heard.add(c.last[0])
    assert len(heard) == 1 and not any(p.nir[-4:] in " ".join(c.said) for p in others)
    with app.app_context():
        assert db.session.get(Throttle, f"act-for:{me.person_id}").failures == 3
