"""By SMS: a representative or a trusted helper names the person (FOR LEA ...), with the same code round trip."""
import re
from datetime import date

from app import clock
from app.models import ActionRecord, AuditEntry, HealthSpace, Mandate, OutboxMessage, db
from app.services import Actor, helpers

from .test_commands import OTP, fits

PARENT_PHONE, HELPER_PHONE = "+33611111111", "+33622222222"


def _mandate(app, tmp_path, representative, represented, kind="parent"):
    path = tmp_path / "m.csv"
    path.write_text("representative_nir,represented_nir,kind,valid_from,valid_until\n"
                    f"{representative.nir},{represented.nir},{kind},{clock.today().isoformat()},\n", encoding="utf-8")
    assert app.test_cli_runner().invoke(args=["mandates", "import", str(path)]).exit_code == 0


def _family(app, enrol, tmp_path):
    parent = enrol(phone=PARENT_PHONE, language="en", given_name="Sophie", family_name="Durand",
                   birth_date=date(1980, 1, 1))
    child = enrol(phone=None, nir="213057505601783", given_name="Léa", family_name="Durand",
                  birth_date=date(2015, 6, 1), days_ago=10)
    _mandate(app, tmp_path, parent, child)
    return parent, child


def test_a_parent_says_no_for_a_child_with_the_childs_letter_code(app, texter, enrol, tmp_path):
    parent, child = _family(app, enrol, tmp_path)
    phone = texter(PARENT_PHONE)
    answer = fits(phone.send("for lea oppose"))
    assert "for Lea Durand" in answer or "for Léa Durand" in answer
    code = OTP.search(answer).group(1)
    # The parent's own date of birth is not enough to say no: the letter's code is asked (the child's letter).
    assert "not right" in phone.send(f"{code} {parent.code}")
    answer = phone.send(f"{OTP.search(phone.send('FOR 1 OPPOSE')).group(1)} {child.code}")
    assert "done" in answer.lower()
    with app.app_context():
        assert db.session.get(HealthSpace, child.person_id).state == "opposed"
        record = db.session.scalars(db.select(ActionRecord)).one()
        assert (record.actor_id, record.subject_id, record.channel) == (parent.person_id, child.person_id, "sms")


def test_pour_alone_lists_the_people_and_a_wrong_name_changes_nothing(app, texter, enrol, tmp_path):
    parent, child = _family(app, enrol, tmp_path)
    phone = texter(PARENT_PHONE)
    assert "1 Léa" in fits(phone.send("FOR")) or "1 Lea" in phone.send("FOR")
    answer = fits(phone.send("FOR PAUL HISTORY"))
    assert "did not find this name" in answer and "Nothing was changed" in answer
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(AuditEntry.id)).where(
            AuditEntry.action == "refused.act_for")) == 1
    # Someone who represents nobody learns nothing about anyone.
    enrol(phone="+33633333333", language="en")
    assert "do not act for anyone" in texter("+33633333333").send("FOR LEA HISTORY")


def test_a_history_asked_for_a_child_comes_to_the_parent(app, texter, enrol, tmp_path):
    parent, child = _family(app, enrol, tmp_path)
    assert texter(PARENT_PHONE).send("FOR LEA HISTORY") == ""
    with app.app_context():
        msg = db.session.scalars(db.select(OutboxMessage).where(OutboxMessage.body.like("%last accesses%")
                                                                | OutboxMessage.body.like("%nobody has looked%"))).one()
        assert msg.person_id == parent.person_id and "Lea" in msg.body or "Léa" in msg.body
        fits(msg.body)


def test_a_helper_switches_emergency_access_by_sms_but_cannot_close(app, texter, enrol):
    holder = enrol(language="en", given_name="Marcel", family_name="Petit", days_ago=60)
    helper = enrol(phone=HELPER_PHONE, language="en", given_name="Nadia", family_name="Benali",
                   birth_date=date(1975, 5, 5))
    with app.app_context():
        helpers.name_helper(Actor(holder.person_id, "web"), holder.person_id, helper.nir, helper.birth_date)
    phone = texter(HELPER_PHONE)
    assert "trusted helper cannot" in fits(phone.send("FOR MARCEL CLOSE"))
    assert "for Marcel Petit" in fits(phone.send("FOR MARCEL EMERGENCY"))
    code = OTP.search(fits(phone.send("FOR MARCEL BREAKGLASS OFF"))).group(1)
    assert "done" in phone.send(f"{code} 05051975").lower()
    with app.app_context():
        space = db.session.get(HealthSpace, holder.person_id)
        assert space.break_glass_access is False and space.state == "active"
        told = db.session.scalars(db.select(OutboxMessage.body)
                                  .where(OutboxMessage.person_id == holder.person_id)).all()
        assert any("Nadia Benali acted for you" in b for b in told)
    assert "trusted helper cannot" in phone.send("FOR MARCEL HELPERS")


def test_the_holder_lists_and_removes_a_helper_by_sms(app, texter, enrol):
    holder = enrol(language="en", given_name="Marcel", family_name="Petit", birth_date=date(1940, 2, 2))
    helper = enrol(phone=HELPER_PHONE, language="en", given_name="Nadia", family_name="Benali")
    phone = texter()
    assert "no trusted helper" in fits(phone.send("HELPERS"))
    with app.app_context():
        helpers.name_helper(Actor(holder.person_id, "web"), holder.person_id, helper.nir, helper.birth_date)
    assert re.search(r"1 Nadia Benali \d\d/\d\d/\d\d\b", fits(phone.send("helpers")))
    assert "REMOVE 1" in fits(phone.send("REMOVE 7"))
    code = OTP.search(fits(phone.send("REMOVE 1"))).group(1)
    assert "done" in phone.send(f"{code} 02021940").lower()
    with app.app_context():
        assert db.session.scalars(db.select(Mandate)).one().end_reason == "revoked"
    assert "do not act for anyone" in texter(HELPER_PHONE).send("FOR MARCEL HISTORY")


def test_long_names_still_fit_one_sms_in_both_languages(app, texter, enrol, tmp_path):
    for language, phone in (("fr", "+33644444444"), ("en", "+33655555555")):
        holder = enrol(language=language, phone=phone, given_name="Marie-Christine-Alexandrine",
                       family_name="de La Rochefoucauld-Montmorency", birth_date=date(1940, 2, 2), days_ago=60)
        rep = enrol(phone=PARENT_PHONE if language == "fr" else HELPER_PHONE, language=language,
                    given_name="Jean-Baptiste-Emmanuel", family_name="Vanderstraeten-Oosterhout")
        _mandate(app, tmp_path, rep, holder, kind="tutelle")
        with app.app_context():
            for h in [enrol(given_name="Bérénice-Apolline-Victoire", family_name="Castelnau-Magnoac-Lestrade")
                      for _ in range(3)]:
                helpers.name_helper(Actor(holder.person_id, "web"), holder.person_id, h.nir, h.birth_date)
        me, them = texter(phone), texter(PARENT_PHONE if language == "fr" else HELPER_PHONE)
        for answer in (me.send("AIDANTS" if language == "fr" else "HELPERS"),
                       them.send("POUR" if language == "fr" else "FOR"),
                       them.send("POUR XAVIER HISTORIQUE" if language == "fr" else "FOR XAVIER HISTORY"),
                       them.send("POUR 1 SAMU OFF" if language == "fr" else "FOR 1 SAMU OFF"),
                       me.send("RETIRER 1" if language == "fr" else "REMOVE 1")):
            fits(answer)
            assert OTP.search(answer) or "1 " in answer
