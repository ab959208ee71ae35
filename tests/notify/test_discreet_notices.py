"""Discreet notices (issue 13 §8): a message at each access that names no professional and no organisation, for a
shared family phone; DETAIL gives who. Chosen on the web, by phone and by SMS; the default names who, as before."""
import re

import pytest

from app import clock, outbox
from app.models import OutboxMessage, Person, db
from app.services import Actor, access, spaces
from app.text import GSM7
from tests.conftest import User, actions_of, row

NAME, PROFESSION, ORGANISATION = "Dr Claire Petit", "Psychiatre", "Centre Médico-Psychologique"
REF = re.compile(r"Ref (\d{3} \d{3} \d{3})$")


def an_access(app, holder, event_id, mode="normal", reason=None, name=NAME):
    with app.app_context():
        access.record_access(access.AccessAttempt(
            nir=holder.nir, occurred_at=clock.now(), professional_name=name, profession=PROFESSION,
            organisation=ORGANISATION, mode=mode, section="Compte rendu de consultation", reason=reason,
            event_id=event_id), "api")


def last_notice(app, holder) -> OutboxMessage:
    with app.app_context():
        msg = db.session.scalars(db.select(OutboxMessage).where(
            OutboxMessage.person_id == holder.person_id, OutboxMessage.access_event_id.is_not(None))
            .order_by(OutboxMessage.id.desc())).first()
        db.session.expunge(msg)
        return msg


def body_of(app, msg) -> str:
    with app.app_context():
        return outbox.text_of(db.session.get(OutboxMessage, msg.id))


def names_nobody(text: str) -> str:
    for told in (NAME, "Petit", PROFESSION, "psychiatre", ORGANISATION, "Médico", "consultation"):
        assert told.lower() not in text.lower(), (told, text)
    return text


def one_segment(text: str) -> str:
    assert len(text) <= 160 and set(text) <= GSM7, text
    return text


def person(app, holder) -> Person:
    return row(app, Person, holder.person_id)


def actions(app, holder) -> list[str]:
    return actions_of(app, holder)


# --- the message itself -------------------------------------------------------------------------------------------

def test_by_default_the_notice_names_who_as_before(app, enrol):
    holder = enrol(days_ago=60, language="en")
    an_access(app, holder, "d1")
    text = body_of(app, last_notice(app, holder))
    assert NAME in text and PROFESSION in text and "DETAIL" not in text


@pytest.mark.parametrize("language,detail", [("en", "Reply DETAIL"), ("fr", "DETAIL")])
def test_a_discreet_notice_gives_day_and_time_only_and_how_to_know_who(app, enrol, language, detail):
    holder = enrol(days_ago=60, language=language)
    with app.app_context():
        spaces.set_notifications(Actor(holder.person_id, "web"), holder.person_id, True, discreet=True)
    an_access(app, holder, "d2")
    text = one_segment(names_nobody(body_of(app, last_notice(app, holder))))
    assert detail in text and REF.search(text)
    assert re.search(r"\d\d/\d\d", text) and re.search(r"\d\d:\d\d", text)  # when: day and time


def test_a_discreet_emergency_notice_says_emergency_but_not_the_reason(app, enrol):
    holder = enrol(days_ago=60, language="en")
    with app.app_context():
        spaces.set_notifications(Actor(holder.person_id, "web"), holder.person_id, True, discreet=True)
    an_access(app, holder, "d3", mode="break_glass", reason="Tentative de suicide, patient inconscient")
    text = one_segment(names_nobody(body_of(app, last_notice(app, holder))))
    assert "EMERGENCY" in text and "suicide" not in text.lower() and "DETAIL" in text


def test_a_refused_access_is_told_discreetly_too(app, enrol):
    holder = enrol(days_ago=60, language="en")
    with app.app_context():
        spaces.set_notifications(Actor(holder.person_id, "web"), holder.person_id, True, discreet=True)
        spaces.set_emergency_access(Actor(holder.person_id, "web"), holder.person_id, "samu", False)
    an_access(app, holder, "d4", mode="samu", reason="Malaise")
    text = one_segment(names_nobody(body_of(app, last_notice(app, holder))))
    assert "refused" in text


def test_a_discreet_letter_points_to_the_history_not_to_an_sms_answer(app, enrol):
    holder = enrol(days_ago=60, language="en", phone=None)
    with app.app_context():
        spaces.set_notifications(Actor(holder.person_id, "web"), holder.person_id, True, discreet=True)
    an_access(app, holder, "d5")
    msg = last_notice(app, holder)
    text = names_nobody(body_of(app, msg))
    assert msg.channel == "letter" and "history" in text and "34 22" in text and "DETAIL" not in text


# --- by SMS -------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("language,ask,back", [("en", "ALERTS DISCREET", "alerts full"),
                                               ("fr", "Alertes discrètes", "ALERTES COMPLETES")])
def test_by_sms_discreet_then_named_again(app, texter, enrol, language, ask, back):
    holder = enrol(days_ago=60, language=language)
    phone = texter()
    answer = one_segment(phone.send(ask))
    assert "DETAIL" in answer
    assert person(app, holder).discreet_notices is True and person(app, holder).notifications_enabled is True
    an_access(app, holder, "s1")
    names_nobody(body_of(app, last_notice(app, holder)))
    one_segment(phone.send(back))
    assert person(app, holder).discreet_notices is False
    an_access(app, holder, "s2", name="Dr Paul Durand")
    assert "Dr Paul Durand" in body_of(app, last_notice(app, holder))
    assert actions(app, holder) == ["notifications.discreet", "notifications.on"]


def test_detail_gives_who_for_the_last_notice_or_the_one_quoted(app, texter, enrol):
    holder = enrol(days_ago=60, language="en")
    phone = texter()
    phone.send("discreet alerts")
    an_access(app, holder, "q1", name="Dr Anne Premier")
    first = REF.search(body_of(app, last_notice(app, holder))).group(1)
    an_access(app, holder, "q2", name="Dr Bruno Second")
    last = one_segment(phone.send("DETAIL"))
    assert "Dr Bruno Second" in last and PROFESSION in last and "REPORT" in last
    quoted = one_segment(phone.send(f"detail {first}"))
    assert "Dr Anne Premier" in quoted and first in quoted
    # and answering REPORT still acts on the access the notice was about
    assert "Dr Bruno Second" in phone.send("REPORT")


def test_detail_with_nothing_notified_says_so_and_a_stranger_learns_nothing(app, texter, enrol):
    holder = enrol(days_ago=60, language="en")
    assert "no access" in one_segment(texter().send("DETAIL"))
    an_access(app, holder, "x1")
    stranger = one_segment(texter("+33687654321").send("DETAIL"))
    assert NAME not in stranger and "Petit" not in stranger and "34 22" in stranger


def test_alerts_off_then_on_keeps_the_discreet_style(app, texter, enrol):
    holder = enrol(days_ago=60, language="en")
    phone = texter()
    phone.send("ALERTS DISCREET")
    phone.send("ALERTS OFF")
    an_access(app, holder, "o1")
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(OutboxMessage.id)).where(
            OutboxMessage.access_event_id.is_not(None))) == 0
    answer = one_segment(phone.send("ALERTS ON"))
    assert "naming nobody" in answer
    an_access(app, holder, "o2")
    names_nobody(body_of(app, last_notice(app, holder)))
    assert actions(app, holder) == ["notifications.discreet", "notifications.off", "notifications.discreet"]


def test_alerts_alone_explains_the_three_choices(texter, enrol):
    enrol(days_ago=60, language="en")
    answer = one_segment(texter().send("alerts"))
    assert "ALERTS OFF" in answer and "ALERTS ON" in answer and "ALERTS DISCREET" in answer


def test_a_representative_cannot_make_the_holders_notices_discreet_by_sms(app, texter, enrol):
    from app.services import mandates
    parent = enrol(days_ago=60, language="en", phone="+33611111111")
    from datetime import date
    child = enrol(days_ago=60, language="en", phone=None, birth_date=date(2015, 1, 1))
    with app.app_context():
        mandates.import_mandate(parent.nir, child.nir, "parent", date(2015, 1, 1), None)
    answer = texter("+33611111111").send("FOR JEANNE DISCREET ALERTS")
    assert "own messages only" in answer and person(app, child).discreet_notices is False


# --- on the web ---------------------------------------------------------------------------------------------------

def test_on_the_web_the_choice_is_shown_saved_with_a_receipt_and_told_in_the_activity(app, enrol):
    holder = enrol(days_ago=60, language="en")
    u = User(app.test_client(), "en")
    space = u.identify(holder)
    assert space.link("Messages at each access: with names") == "/notices"
    page = u.get("/notices")
    assert page.h1 == "Messages at each access"
    assert page.soup.select_one("input[name=choice][value=full]").has_attr("checked")
    receipt = u.submit(page, {"choice": "discreet"})
    assert receipt.h1 == "Your choice of messages is saved" and len(receipt.reference) == 9
    assert "name nobody" in receipt.text
    assert person(app, holder).discreet_notices is True
    assert "Messages at each access: discreet" in u.get("/space").text
    assert "discreet, naming nobody" in u.get("/history/activity").text
    again = u.get("/notices")
    assert again.soup.select_one("input[name=choice][value=discreet]").has_attr("checked")
    u.submit(again, {"choice": "off"})
    assert person(app, holder).notifications_enabled is False and person(app, holder).discreet_notices is True
    an_access(app, holder, "w1")
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(OutboxMessage.id)).where(
            OutboxMessage.access_event_id.is_not(None))) == 0


@pytest.mark.parametrize("choice", [None, "loud", "full' OR 1=1", "x" * 5000])
def test_on_the_web_a_bad_choice_is_explained_and_changes_nothing(app, enrol, choice):
    holder = enrol(days_ago=60, language="en")
    u = User(app.test_client(), "en")
    u.identify(holder)
    page = u.get("/notices")
    answer = u.submit(page, {"choice": choice} if choice is not None else {})
    assert answer.status == 200 and answer.errors
    assert actions(app, holder) == [] and person(app, holder).notifications_enabled is True


def test_french_page_and_the_discreet_choice_in_french(app, enrol):
    holder = enrol(days_ago=60)
    u = User(app.test_client(), "fr")
    u.identify(holder)
    page = u.get("/notices")
    assert page.soup.html["lang"] == "fr" and "discret" in page.text
    u.submit(page, {"choice": "discreet"})
    assert person(app, holder).discreet_notices is True


def test_a_trusted_helper_is_not_offered_the_notices_and_cannot_set_them(app, enrol):
    from app.services import helpers
    holder = enrol(days_ago=60, language="en")
    helper = enrol(days_ago=60, language="en", phone="+33622222222", birth_date=__import__("datetime").date(1970, 1, 1))
    with app.app_context():
        helpers.name_helper(Actor(holder.person_id, "web"), holder.person_id, helper.nir, helper.birth_date)
    u = User(app.test_client(), "en")
    u.identify(helper, next_step="acting_for")
    chooser = u.get("/acting-for")
    u.submit(chooser, {"person": str(holder.person_id)})
    assert "/notices" not in {a["href"] for a in u.get("/space").soup.select("a[href]")}
    page = u.get("/notices", unchecked_because="a refusal page")
    assert page.status in (403, 200) and "/notices" not in {f.get("action") for f in page.soup.select("form")}
    assert person(app, holder).discreet_notices is False
