"""Helping a person at the desk (issue 14): a case with a reason, the person identified with them (the same four
things), acts at their request through the same commands, with the member of staff named on the receipt, in the
person's «what was done» tab and in the audit log; nobody else's case, and nothing of a NIR but its last 3."""
import json

import pytest

from app.models import ActionRecord, AuditEntry, HealthSpace, OutboxMessage, Person, db
from tests.conftest import User, row


def space(app, holder) -> HealthSpace:
    return row(app, HealthSpace, holder.person_id)


def audited(app, action) -> list[dict]:
    with app.app_context():
        return [dict(actor=e.actor, subject=e.subject, **json.loads(e.details or "{}"))
                for e in db.session.scalars(db.select(AuditEntry).where(AuditEntry.action == action))]


@pytest.fixture
def helping(member, enrol):
    """helping(role, **enrol) -> (desk, holder, case page): a signed-in member of staff with the person identified."""
    def make(role="agent", name="A. Dupont", **person):
        desk = member(role, name)
        desk.sign_in()
        holder = enrol(**{"days_ago": 60, "language": "en", **person})
        case_id, page = desk.open_case("call")
        return desk, holder, case_id, desk.identify(holder, page)
    return make


def test_an_agent_closes_a_space_at_the_persons_request_and_the_person_sees_who(app, helping):
    desk, holder, case_id, page = helping("agent", "A. Dupont")
    assert page.h1 == f"Case {case_id}"
    assert holder.nir not in page.html and holder.nir[-3:-2] in page.text  # the last 3 characters only
    confirm = desk.get(page.link("Close the health space, data kept 10 years"))
    assert "Read this to the person" in confirm.text
    done = desk.submit(confirm)
    assert done.h1 == "Done" and len(done.reference) == 9
    assert space(app, holder).state == "closed"
    with app.app_context():
        record = db.session.scalar(db.select(ActionRecord).where(ActionRecord.reference == done.reference))
        assert (record.channel, record.actor_id, record.subject_id) == ("desk", holder.person_id, holder.person_id)
        assert record.staff_id is not None
        receipt = db.session.scalar(db.select(OutboxMessage).where(OutboxMessage.reference == done.reference))
        assert receipt is not None and receipt.channel == "sms"  # the person's usual receipt
    [entry] = audited(app, "space.closed")
    assert entry["actor"] == f"staff:{record.staff_id}" and entry["case"] == case_id
    # the person, on the web with a new letter code (the first served at the desk), reads who did it
    with app.app_context():
        from app import clock
        from app.services import identity
        code = identity._issue_code(db.session.get(Person, holder.person_id), clock.today())
        db.session.commit()
    person = User(app.test_client(), "en")
    person.identify(holder, code=code)
    activity = person.get("/history/activity")
    assert "Agent A. Dupont (34 22), at your request" in activity.text and "at the desk" in activity.text


def test_a_person_without_a_mobile_gets_the_receipt_by_post(app, helping):
    desk, holder, case_id, page = helping(phone=None)
    done = desk.submit(desk.get(page.link("Refuse access by the SAMU")))
    with app.app_context():
        receipt = db.session.scalar(db.select(OutboxMessage).where(OutboxMessage.reference == done.reference))
        assert receipt.channel == "letter"
    assert space(app, holder).samu_access is False


def test_every_page_about_the_person_is_audited_with_the_cases_reason(app, helping):
    desk, holder, case_id, page = helping()
    desk.get(f"/desk/cases/{case_id}")
    views = audited(app, "desk.viewed")
    assert len(views) >= 2 and {v["reason"] for v in views} == {"call"} and {v["case"] for v in views} == {case_id}
    assert all(v["subject"] == f"person:{holder.person_id}" for v in views)
    [identified] = audited(app, "case.identified")
    assert holder.nir not in json.dumps(identified)


def test_a_double_submit_is_one_act_and_one_receipt(app, helping):
    desk, holder, case_id, page = helping()
    confirm = desk.get(page.link("Messages at each access: discreet"))
    first, second = desk.submit(confirm), desk.submit(confirm)
    assert first.reference == second.reference
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(ActionRecord.id)).where(
            ActionRecord.subject_id == holder.person_id)) == 1


def test_another_members_case_is_not_found_and_changes_nothing(app, helping, member):
    desk, holder, case_id, page = helping()
    other = member("agent", "B. Autre")
    other.sign_in()
    for path in (f"/desk/cases/{case_id}", f"/desk/cases/{case_id}/do/close-archive",
                 f"/desk/cases/{case_id}/identify"):
        assert other.get(path).status == 404, path
    token_page = desk.get(page.link("Close the health space, data kept 10 years"))
    fields = {i["name"]: i.get("value", "") for i in token_page.soup.select("main form input")}
    csrf = other.get("/desk/").soup.select_one("input[name=csrf_token]")["value"]
    answer = other.client.post(f"/desk/cases/{case_id}/do/close-archive", data={**fields, "csrf_token": csrf})
    assert answer.status_code == 404 and space(app, holder).state != "closed"
    assert other.client.post(f"/desk/cases/{case_id}/close", data={"csrf_token": csrf}).status_code == 404


def test_a_closed_case_opens_nothing(app, helping):
    desk, holder, case_id, page = helping()
    home = desk.submit(page, {}, form_index=-1)  # «Close the case»
    assert home.h1 == "Help a person" and "closed" in home.text
    assert desk.get(f"/desk/cases/{case_id}").status == 404
    assert desk.get(f"/desk/cases/{case_id}/do/oppose").status == 404


def test_identification_at_the_desk_keeps_the_one_answer_and_the_limits(app, member, enrol):
    desk = member("counsellor")
    desk.sign_in()
    holder = enrol(days_ago=10, language="en")
    case_id, page = desk.open_case("appointment")
    wrong = desk.submit(page, {**holder.form(), "vitale_serial": "80000000000"})
    assert wrong.errors == ["These details do not match our records. Check the four numbers with the person."]
    malformed = desk.submit(page, {**holder.form(), "nir": "1 84"})
    assert malformed.errors and malformed.status == 200
    right = desk.submit(page, holder.form())
    assert right.h1 == f"Case {case_id}" and "Say no to the creation of the health space" in right.text


def test_a_case_needs_a_reason(app, member):
    desk = member("agent")
    desk.sign_in()
    answer = desk.submit(desk.get("/desk/"), {})
    assert answer.status == 400 and answer.errors == ["Choose why you are helping this person."]
    assert desk.submit(desk.get("/desk/"), {"reason": "curiosity"}).status == 400


def test_an_act_not_possible_now_is_said_and_changes_nothing(app, helping):
    desk, holder, case_id, page = helping()
    answer = desk.get(f"/desk/cases/{case_id}/do/oppose")  # too late: not offered, not done
    assert answer.h1 == f"Case {case_id}" and "not possible" in answer.text
    assert desk.get(f"/desk/cases/{case_id}/do/teleport").h1 == f"Case {case_id}"
    assert space(app, holder).state != "opposed"


def test_the_csrf_token_is_needed_on_every_desk_form(app, helping):
    desk, holder, case_id, page = helping()
    assert desk.client.post("/desk/cases", data={"reason": "call"}).status_code == 400
    answer = desk.client.post(f"/desk/cases/{case_id}/do/close-archive", data={"token": "x" * 20})
    assert answer.status_code == 400 and space(app, holder).state != "closed"


def _an_access(app, holder, name="Dr Inconnu"):
    from app import clock
    from app.services import access
    with app.app_context():
        return access.record_access(access.AccessAttempt(
            nir=holder.nir, occurred_at=clock.now(), professional_name=name, profession="Médecin",
            organisation="Clinique", mode="normal", section="Ordonnances", event_id=f"desk-{holder.nir}-{name}"),
            "api")[0].id


def test_the_history_at_the_desk_blocks_and_reports_for_the_person(app, helping, enrol):
    desk, holder, case_id, page = helping()
    event_id = _an_access(app, holder)
    other = enrol(days_ago=60, language="en", phone="+33699999999")
    others_event = _an_access(app, other, "Dr Ailleurs")
    history = desk.get(page.link("Who looked at the health space"))
    assert "Dr Inconnu" in history.text and "Dr Ailleurs" not in history.text
    done = desk.submit(desk.get(history.link("Report as not recognised")))
    assert done.h1 == "Done" and len(done.reference) == 9
    done = desk.submit(desk.get(history.link("Block this professional")))
    assert done.h1 == "Done"
    again = desk.get(f"/desk/cases/{case_id}/history")
    assert "This professional is blocked." in again.text and "Reported." in again.text
    unblocked = desk.submit(desk.get(again.link("Unblock")))
    assert unblocked.h1 == "Done"
    assert "This professional is blocked." not in desk.get(f"/desk/cases/{case_id}/history").text
    # a line of someone else's history is nobody's act here
    refused = desk.get(f"/desk/cases/{case_id}/do/block-{others_event}")
    assert refused.h1 == f"Case {case_id}" and "not possible" in refused.text
    with app.app_context():
        from app.models import AccessReport, BlockedProfessional
        assert db.session.scalar(db.select(AccessReport.access_event_id)) == event_id
        assert db.session.scalar(db.select(db.func.count(BlockedProfessional.id)).where(
            BlockedProfessional.unblocked_at.is_not(None))) == 1


def test_a_call_put_through_opens_its_case_with_the_person_identified_by_the_desk_code(app, member, enrol):
    from app import clock
    from app.services import cases
    desk = member("agent", "A. Dupont")
    desk.sign_in()
    holder = enrol(days_ago=60, language="en")
    with app.app_context():
        code = cases.transfer_code(holder.person_id, "emergency")
    home = desk.get("/desk/")
    case = desk.submit(home, {"transfer-code": f"{code[:3]} {code[3:]}"}, form_index=1)
    assert case.h1.startswith("Case ") and "identified on the phone line" in case.text
    assert "Refuse access by the SAMU" in case.text
    # the caller asks to close their space: done, and the person's receipt and history say by whom
    done = desk.submit(desk.get(case.link("Close the health space, data kept 10 years")))
    assert done.h1 == "Done"
    with app.app_context():
        record = db.session.scalar(db.select(ActionRecord).where(ActionRecord.reference == done.reference))
        assert (record.action, record.channel, record.staff_id is not None) == ("space.closed", "desk", True)
        assert db.session.scalar(db.select(OutboxMessage.id).where(OutboxMessage.reference == done.reference))
        from app.services import identity
        letter_code = identity._issue_code(db.session.get(Person, holder.person_id), clock.today())
        db.session.commit()
    person = User(app.test_client(), "en")
    person.identify(holder, code=letter_code)
    assert "Agent A. Dupont (34 22), at your request" in person.get("/history/activity").text
    again = desk.submit(desk.get("/desk/"), {"transfer-code": code}, form_index=1)  # once only
    assert again.status == 400 and "opens no call" in again.errors[0]


def test_wrong_desk_codes_pause_after_five_and_an_old_one_opens_nothing(app, member, enrol):
    from datetime import timedelta

    from app import clock
    from app.services import cases
    desk = member("agent")
    desk.sign_in()
    holder = enrol(days_ago=60, language="en")
    with app.app_context():
        code = cases.transfer_code(holder.person_id, None)
    start = clock.now()
    clock.freeze(start + timedelta(minutes=11))
    try:
        desk.sign_in(shift=1) if desk.get("/desk/").h1 != "Help a person" else None
        old = desk.submit(desk.get("/desk/"), {"transfer-code": code}, form_index=1)
        assert "opens no call" in old.errors[0]
        for _ in range(4):
            desk.submit(desk.get("/desk/"), {"transfer-code": "000000" if code != "000000" else "111111"},
                        form_index=1)
        paused = desk.submit(desk.get("/desk/"), {"transfer-code": code}, form_index=1)
        assert "Too many wrong codes" in paused.errors[0]
    finally:
        clock.freeze(None)


def _sms_code(app, holder) -> str:
    import re

    from app.outbox import text_of
    with app.app_context():
        msg = db.session.scalars(db.select(OutboxMessage).where(OutboxMessage.person_id == holder.person_id)
                                 .order_by(OutboxMessage.id.desc())).first()
        return re.search(r"\b(\d{6})\b", text_of(msg)).group(1)


def test_no_letter_at_hand_the_person_reads_out_the_code_of_their_sms(app, member, enrol):
    desk = member("counsellor")
    desk.sign_in()
    holder = enrol(days_ago=60, language="en")
    case_id, identify = desk.open_case("appointment")
    ask = desk.get(identify.link("No letter at hand"))
    assert ask.h1 == "Identify the person with a code by SMS"
    wait = desk.submit(ask, {k: v for k, v in holder.form().items() if k != "code"})
    assert "read it out" in wait.text
    wrong = desk.submit(wait, {"code": "000000" if _sms_code(app, holder) != "000000" else "111111"})
    assert wrong.errors and "Send the code" in wrong.text  # start again: a new code
    wait = desk.submit(wrong, {k: v for k, v in holder.form().items() if k != "code"})
    case = desk.submit(wait, {"code": _sms_code(app, holder)})
    assert case.h1 == f"Case {case_id}" and holder.nir not in case.html and holder.nir[-2:] in case.text
    [entry] = [e for e in audited(app, "case.identified") if e.get("by") == "sms"]
    assert entry["case"] == case_id


def test_a_code_by_sms_for_wrong_details_looks_the_same_and_opens_nothing(app, member, enrol):
    desk = member("agent")
    desk.sign_in()
    holder = enrol(days_ago=60, language="en")
    case_id, identify = desk.open_case("call")
    ask = desk.get(f"/desk/cases/{case_id}/identify/sms")
    wait = desk.submit(ask, {**{k: v for k, v in holder.form().items() if k != "code"},
                             "vitale_serial": "80000000000"})
    assert "read it out" in wait.text  # the same answer
    assert desk.submit(wait, {"code": "123456"}).errors
    assert desk.get(f"/desk/cases/{case_id}").status == 404  # still not identified


def test_a_trusted_helper_named_and_removed_at_the_desk(app, helping, enrol):
    from datetime import date

    from app.models import Mandate
    desk, holder, case_id, page = helping()
    helper = enrol(days_ago=60, language="en", given_name="Nadia", family_name="Aidante", birth_date=date(1970, 5, 5),
                   phone="+33677777777")
    form = desk.get(page.link("Name a trusted helper"))
    assert form.h1 == "Name a trusted helper"
    wrong = desk.submit(form, {"nir": helper.nir, "birth_date": "06/05/1970", "months": "6"})
    assert wrong.errors and "We found nobody" in " ".join(wrong.errors)
    done = desk.submit(form, {"nir": helper.nir, "birth_date": "05/05/1970", "months": "6"})
    assert done.h1 == "Done" and len(done.reference) == 9
    case = desk.get(f"/desk/cases/{case_id}")
    assert "Nadia Aidante" in case.text
    removed = desk.submit(desk.get(case.link("Remove")))
    assert removed.h1 == "Done"
    with app.app_context():
        m = db.session.scalar(db.select(Mandate).where(Mandate.kind == "aidant"))
        assert m.ended_at is not None
    after = desk.get(f"/desk/cases/{case_id}")
    import re
    assert not after.soup.select("main a[href*='helper-remove-']")
    assert re.search(r"until \d{1,2} [A-Z][a-z]+ \d{4}", case.text)  # one English date style, no "June 2, 2027"
