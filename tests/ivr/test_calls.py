"""Whole calls as Twilio makes them: signed webhooks, keypad and speech, both languages, errors and retries."""
import re
from datetime import datetime, timedelta

import pytest

from app import clock
from app.models import AccessReport, ActionRecord, BlockedProfessional, CallState, HealthSpace, OutboxMessage, db
from app.outbox import text_of
from app.services import access, identity
from tests.conftest import Caller, User

REFERENCE = re.compile(r"(\d[ ,]+){8}\d")
CHOICE = re.compile(r"^(Pour .+, tapez (\d|étoile|dièse)\.|To .+, press (\d|star|hash)\.)$")


def english(call):
    return call().start().press("9")


def state(app, holder):
    with app.app_context():
        return db.session.get(HealthSpace, holder.person_id)


def accesses(app, holder, n):
    with app.app_context():
        for i in range(n):
            access.record_access(access.AccessAttempt(
                nir=holder.nir, occurred_at=clock.now() - timedelta(days=i), professional_name=f"Dr Pro {i}",
                profession="Cardiologue", organisation="CHU", mode="break_glass" if i == 0 else "normal",
                section="Ordonnances", reason="Inconscient" if i == 0 else None, event_id=f"v{holder.person_id}-{i}"),
                "cli")


# --- signatures ---------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/ivr/voice", "/ivr/status"])
def test_unsigned_or_forged_requests_get_403_and_change_nothing(app, path):
    c = Caller(app)
    assert c.client.post(path, data=c.params()).status_code == 403
    assert c._signed_post(path, c.params(), signature="forged").status_code == 403
    from twilio.request_validator import RequestValidator
    other_url = RequestValidator("test-auth-token").compute_signature("https://elsewhere.test" + path, c.params())
    assert c._signed_post(path, c.params(), signature=other_url).status_code == 403
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(CallState.call_sid))) == 0


# --- greeting and menus ----------------------------------------------------------------------------

def test_greeting_in_french_offers_english(call):
    c = call().start()
    assert c.languages[:2] == ["fr-FR", "en-GB"] and c.last[1] == "For English, press 9."
    assert c.gather["input"] == "dtmf speech"
    # the French menu follows at once: no dead air
    assert all(CHOICE.match(s) for s in c.last[2:]) and c.last[2].startswith("Pour ")
    assert set(c.languages[2:]) == {"fr-FR"}


def test_english_menu_phrases_every_choice_and_has_at_most_four(call):
    c = english(call)
    assert set(c.languages) == {"en-GB"}
    assert all(CHOICE.match(s) for s in c.last), c.last
    keys = [re.search(r"press (\w+)\.$", s).group(1) for s in c.last]
    assert [k for k in keys if k not in ("star", "0")] == ["1", "2", "3", "4"] and "0" in keys


def test_star_repeats_zero_helps_silence_is_asked_again_then_help_then_goodbye(call):
    c = english(call)
    menu = list(c.last)
    assert c.press("*").last == menu
    assert c.press("0").last[0] == "To talk to an adviser, press 0." and c.last[-1] == "To go back, press 9."
    assert c.press("9").last == menu
    assert c.silence().last[0] == "I did not hear anything." and c.last[1:] == menu
    assert c.silence().last[0].startswith("Help:")
    c.silence()
    assert c.ended and "Goodbye" in c.text  # never a silent hang-up


def test_zero_gives_help_then_the_same_question(call):
    c = english(call).press("1")
    prompt = c.last[-1]
    assert c.press("0").last[0].startswith("Help:") and c.last[-1] == prompt


def test_three_wrong_keys_lead_to_help(call):
    c = english(call)
    assert c.press("7").last[0] == "This choice is not possible."
    c.press("8")
    assert c.press("6").last[0].startswith("Help:")


def test_number_prompts_say_how_to_finish(call):
    c = english(call).press("1")
    assert "followed by the hash key" in c.text and c.gather["finishOnKey"] == "#"
    assert c.gather["input"] == "dtmf speech"  # a number may be said too


@pytest.mark.parametrize("words,expected", [("opposition please", "Take your letter"), ("the history", "Take your"),
                                            ("emergency", "Take your")])
def test_menu_by_speech_in_english(call, words, expected):
    assert expected in english(call).speak(words).text


@pytest.mark.parametrize("words", ["je veux m'opposer", "historique", "urgence"])
def test_menu_by_speech_in_french(call, words):
    c = call().start().silence().speak(words)
    assert "Prenez votre courrier" in c.text


# --- identification ------------------------------------------------------------------------------------

@pytest.mark.parametrize("typed,hint", [("80123456789", "Vitale card"), ("2400375112005", "13 digits"),
                                        ("240037511200599", "not right")])
def test_identification_slips_get_a_spoken_hint(call, typed, hint):
    c = english(call).press("1").press(typed + "#")
    assert hint in c.last[0] and "social security number" in c.text


def test_typed_numbers_are_checked_at_once_and_read_back_when_they_do_not_match(call, enrol):
    from app.domain.identifiers import keypad_form
    holder = enrol(nir="274112A00401768")
    c = english(call).press("1")
    c.press("274112*100401768#").press(holder.vitale_serial + "#").press(holder.birth_date.strftime("%d%m%Y") + "#")
    c.press(keypad_form("AAAAAAAAAAAA") + "#")
    assert "do not match" in c.text and "2 74 11 2A 004 017 68" in c.text  # read back as on the card
    c.press("4").press(keypad_form(holder.code) + "#")  # Corsica typed 2*1, only the code given again
    assert "will not be created" in c.text


def test_wrong_details_start_again_and_count_for_the_web_too(app, call, enrol):
    holder = enrol()
    start = datetime(2026, 11, 24, 8)
    for i in range(10):
        clock.freeze(start + timedelta(hours=i))
        c = english(call).press("1")
        c.identify(holder.__class__(**{**holder.__dict__, "code": "AAAAAAAAAAAA"}))
        assert "do not match" in c.text
    clock.freeze(start + timedelta(hours=11))
    page = User(app.test_client(), "en").identify(holder)
    assert "Too many attempts" in page.errors[0]
    c = english(call).press("1").identify(holder)
    assert "Too many attempts" in c.text


# --- the four actions --------------------------------------------------------------------------------

def test_oppose_by_phone_then_the_web_sees_it(app, call, enrol):
    holder = enrol(days_ago=10)
    c = call().start().silence().press("1").identify(holder).press("1")
    assert REFERENCE.search(c.text)
    assert state(app, holder).state == "opposed"
    with app.app_context():
        person = identity.find_person_by_nir(holder.nir)
        code = identity._issue_code(person, clock.today())
        db.session.commit()
    page = User(app.test_client(), "fr").identify(holder, code=code)
    assert "opposé" in page.text


def test_oppose_by_speech_in_english(app, call, enrol):
    holder = enrol(days_ago=10)
    c = english(call).speak("opposition").identify(holder).speak("yes")
    assert REFERENCE.search(c.text) and state(app, holder).state == "opposed"


def test_no_cancels_and_changes_nothing(app, call, enrol):
    holder = enrol(days_ago=10)
    c = english(call).press("1").identify(holder).speak("no")
    assert c.last[0] == "Nothing was changed." and state(app, holder).state == "notified"


def test_after_the_window_closure_is_offered(app, call, enrol):
    holder = enrol(days_ago=60)
    c = english(call).press("1").identify(holder)
    assert "Too late" in c.text and "keep your data 10 years" in c.text


@pytest.mark.parametrize("key,deleted", [("1", False), ("2", True)])
def test_close_by_phone(app, call, enrol, key, deleted):
    holder = enrol(days_ago=60)
    c = english(call).press("1").identify(holder).press(key).press("1")
    assert REFERENCE.search(c.text)
    space = state(app, holder)
    assert space.state == "closed" and (space.deletion_due_on is not None) == deleted


def test_closed_on_the_web_then_reopened_by_phone(app, call, enrol):
    holder = enrol(days_ago=60)
    u = User(app.test_client(), "en")
    u.submit(u.identify(holder, next_step="close"), {"choice": "delete"})
    with app.app_context():
        code = identity._issue_code(identity.find_person_by_nir(holder.nir), clock.today())
        db.session.commit()
    c = english(call).press("1").identify(holder.__class__(**{**holder.__dict__, "code": code}))
    assert "If you reopen it" in c.text and "will be cancelled" in c.text
    c.press("1")
    space = state(app, holder)
    assert space.state == "active" and space.deletion_due_on is None


def test_history_three_at_a_time_then_report_and_block(app, call, enrol):
    holder = enrol(days_ago=60)
    accesses(app, holder, 5)
    c = english(call).press("3").identify(holder)
    assert "newest first" in c.text and "1. " in c.text and "Dr Pro 0" in c.text and "Inconscient" in c.text
    assert not re.search(r"\b4\. ", c.text)
    c.press("1")
    assert re.search(r"\b4\. ", c.text) and "Dr Pro 4" in c.text
    c.press("2").press("5#").press("1")
    assert "case reference" in c.text
    c.press("1")
    assert REFERENCE.search(c.text)
    c.press("9").press("3")  # main menu, history again: already identified
    c.press("2").press("1#").press("2").press("1")
    with app.app_context():
        assert db.session.scalar(db.select(AccessReport.access_event_id)) is not None
        assert db.session.scalar(db.select(BlockedProfessional.professional_name)) == "Dr Pro 0"


def test_history_by_sms_is_queued_and_fits_one_sms(app, call, enrol):
    holder = enrol(days_ago=60)
    accesses(app, holder, 4)
    c = english(call).press("3").identify(holder).press("3")
    assert "by SMS" in c.text and REFERENCE.search(c.text)
    with app.app_context():
        msg = db.session.scalars(db.select(OutboxMessage).where(OutboxMessage.access_event_id.is_(None))).one()
        assert msg.channel == "sms" and len(msg.body) <= 160 and "Dr Pro 0" in msg.body


@pytest.mark.parametrize("key,column,value", [("1", "samu_access", False), ("2", "break_glass_access", False),
                                              ("3", "masked_in_emergency", True)])
def test_emergency_settings_by_phone(app, call, enrol, key, column, value):
    holder = enrol(days_ago=60)
    c = english(call).press("4").identify(holder)
    assert "Allowed now: the SAMU and any professional." in c.text
    c.press(key).press("1")
    assert REFERENCE.search(c.text)
    assert getattr(state(app, holder), column) is value


def test_reference_repeated_on_request(call, enrol):
    holder = enrol(days_ago=10)
    c = english(call).press("1").identify(holder).press("1")
    first = REFERENCE.search(c.text).group(0)
    assert REFERENCE.search(c.press("*").text).group(0) == first
    c.silence()
    assert c.ended and "Goodbye" in c.text


# --- retries and odd requests ----------------------------------------------------------------------

def test_a_retried_webhook_gets_the_same_answer_and_acts_once(app, call, enrol):
    holder = enrol(days_ago=10)
    c = english(call).press("1").identify(holder)
    action = c.action
    c.press("1")
    replay = c._signed_post(action, c.params(Digits="1"))
    assert replay.status_code == 200 and REFERENCE.search(replay.get_data(as_text=True))
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(ActionRecord.id))) == 1
    again = c._signed_post("/ivr/voice", c.params())  # the very first webhook, retried
    assert again.status_code == 200
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(CallState.call_sid))) == 1


@pytest.mark.parametrize("path", ["/ivr/voice?n=999", "/ivr/voice?n=abc", "/ivr/voice?n=99999999999999999999999"])
def test_odd_step_numbers_get_valid_twiml(app, call, path):
    c = call().start()
    response = c._signed_post(path, c.params(Digits="1"))
    assert response.status_code == 200 and response.mimetype == "text/xml"


def test_status_callback_records_the_end_and_forgets_what_was_typed(app, call):
    c = english(call).press("1").press("240037511200567#")
    response = c._signed_post("/ivr/status", c.params(CallStatus="completed"))
    assert response.status_code == 204
    with app.app_context():
        row = db.session.get(CallState, c.sid)
        assert row.status == "completed" and row.ended_at is not None and "nir" not in row.data


def test_close_by_speech_in_french(app, call, enrol):
    holder = enrol(days_ago=60)
    c = call().start().silence().speak("je veux fermer").identify(holder)
    assert "garder vos données 10 ans" in c.text and set(c.languages) == {"fr-FR"}
    c.press("2").speak("oui")
    assert REFERENCE.search(c.text) and "référence" in c.text
    assert state(app, holder).state == "closed"


def test_emergency_in_french_by_keypad(app, call, enrol):
    holder = enrol(days_ago=60)
    c = call().start().silence().press("4").identify(holder)
    assert "Autorisés maintenant : le SAMU et tout professionnel." in c.text.replace("\u00a0", " ")
    c.press("1")
    assert "moins sûrs" in c.text
    c.speak("non")
    assert c.last[0] == "Rien n'a été changé." and state(app, holder).samu_access is True


def test_history_in_french_reads_sentences(app, call, enrol):
    holder = enrol(days_ago=60)
    accesses(app, holder, 2)
    c = call().start().silence().press("3").identify(holder)
    assert "Les accès, du plus récent" in c.text and "1. Le " in c.text and "en urgence" in c.text


@pytest.mark.parametrize("lang,words", [("fr", "pas d'accord"), ("en", "I don't agree")])
def test_a_negative_answer_is_never_taken_for_yes(app, call, enrol, lang, words):
    holder = enrol(days_ago=10)
    c = call().start()
    c.silence() if lang == "fr" else c.press("9")
    c.press("1").identify(holder).speak(words)
    assert state(app, holder).state == "notified"


def test_no_letter_identify_with_a_code_by_sms(app, call, enrol):
    holder = enrol(days_ago=60)
    c = english(call).press("4")
    c.press(holder.nir + "#").press(holder.vitale_serial + "#").press(holder.birth_date.strftime("%d%m%Y") + "#")
    assert "No letter? Type 1" in c.text
    c.press("1#")
    assert "6-digit code" in c.text  # nothing read back: on at once
    with app.app_context():
        body = text_of(db.session.scalars(db.select(OutboxMessage).order_by(OutboxMessage.id.desc())).first())
    code = re.search(r"\b(\d{6})\b", body).group(1)
    c.press(code + "#")
    assert "Allowed now: the SAMU and any professional." in c.text


def test_no_letter_with_a_wrong_sms_code_starts_again(app, call, enrol):
    holder = enrol(days_ago=60)
    c = english(call).press("4")
    c.press(holder.nir + "#").press(holder.vitale_serial + "#").press(holder.birth_date.strftime("%d%m%Y") + "#")
    c.press("1#").press("000000#")
    assert "do not match" in c.text and "social security number" in c.text


def test_check_that_a_message_really_comes_from_relais(app, call, enrol, twilio):
    holder = enrol(days_ago=60)
    accesses(app, holder, 1)
    with app.app_context():
        reference = db.session.scalar(db.select(OutboxMessage.reference))
    c = english(call).press("0")
    assert "To check a message from Relais, press 1." in c.last
    c.press("1").press(reference + "#")
    assert "Yes, Relais sent this reference on" in c.text
    c.press("0").press("1").press("123456789#")
    assert "We do not know this reference" in c.text and "never give a code" in c.text


def test_no_letter_and_no_mobile_a_new_code_comes_by_post(app, call, enrol):
    holder = enrol(days_ago=60, phone=None)
    c = english(call).press("1")
    c.press(holder.nir + "#").press(holder.vitale_serial + "#").press(holder.birth_date.strftime("%d%m%Y") + "#")
    c.press("1#")
    assert "by post" in c.text
    with app.app_context():
        msg = db.session.scalars(db.select(OutboxMessage)).one()
        assert msg.channel == "letter" and msg.sensitive


def test_three_refused_numbers_lead_to_help(call):
    c = english(call).press("1")
    c.press("123#").press("123#")
    assert not any(s.startswith("Help:") for s in c.last)
    c.press("123#")
    assert any(s.startswith("Help:") for s in c.last) and "social security number" in c.last[-1]


def test_withheld_numbers_do_not_share_one_limit(app, call, enrol):
    from ivr.call import Call
    assert Call("CA1", "fr", {}, 0, "").client != Call("CA2", "fr", {}, 0, "anonymous").client
    assert Call("CA1", "fr", {}, 0, "+33612345678").client == Call("CA2", "fr", {}, 0, "+33612345678").client
